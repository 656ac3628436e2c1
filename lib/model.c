/* model.c - model lifetime: load from a path or memory, random models, info, packed caches. */
#define _DEFAULT_SOURCE   /* MAP_POPULATE */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"

mnet_status mnet_model_load_memory(const void *data, size_t size, mnet_model **out)
{
    if (!out)
        return mnet_error(MNET_ERR_ARG, "mnet_model_load_memory: out is NULL");
    *out = NULL;
    if (!data)
        return mnet_error(MNET_ERR_ARG, "mnet_model_load_memory: data is NULL");
    mnet_status s = mnet_model_parse(data, size, 0, out);   /* the caller's: untouched */
    if (s == MNET_OK)
        mnet_clear_error();
    return s;
}

/* The parser's error `s`, its message prefixed with the file's path. */
static mnet_status prefix_path(const char *path, mnet_status s)
{
    char detail[200];
    strncpy(detail, mnet_last_error(), sizeof detail - 1);
    detail[sizeof detail - 1] = '\0';
    return mnet_error(s, "%s: %s", path, detail);
}

mnet_status mnet_model_load(const char *path, mnet_model **out)
{
    if (!out)
        return mnet_error(MNET_ERR_ARG, "mnet_model_load: out is NULL");
    *out = NULL;
    if (!path)
        return mnet_error(MNET_ERR_ARG, "mnet_model_load: path is NULL");
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mnet_error(MNET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        const int e = errno;
        close(fd);
        return mnet_error(MNET_ERR_IO, "%s: %s", path, S_ISDIR(sb.st_mode) ? "is a directory" :
                !S_ISREG(sb.st_mode) ? "not a regular file" : strerror(e));
    }
    if (sb.st_size == 0) {
        close(fd);
        return mnet_error(MNET_ERR_FORMAT, "%s: the file is empty", path);
    }
    if ((uintmax_t)sb.st_size > (uintmax_t)PTRDIFF_MAX) {
        close(fd);
        return mnet_error(MNET_ERR_FORMAT, "%s: file too large", path);
    }
    const size_t size = (size_t)sb.st_size;
    /* The header first: a file that is not a model, or states another size, is refused before
     * any of it is mapped and read in (a huge file of anything else costs nothing). */
    uint8_t head[128];
    ssize_t hn;
    do
        hn = pread(fd, head, sizeof head, 0);
    while (hn < 0 && errno == EINTR);
    if (hn < 0) {
        const int e = errno;
        close(fd);
        return mnet_error(MNET_ERR_IO, "%s: cannot read: %s", path, strerror(e));
    }
    mnet_status s = mnet_model_check_header(head, (size_t)hn, size);
    if (s != MNET_OK) {
        close(fd);
        return prefix_path(path, s);
    }
    /* MAP_POPULATE: the whole file is read anyway (checksum, weights); one fault-in is cheaper. */
#ifndef MAP_POPULATE
#define MAP_POPULATE 0
#endif
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    const int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return mnet_error(MNET_ERR_IO, "%s: cannot map: %s", path, strerror(e));
    s = mnet_model_parse(p, size, 1, out);
    munmap(p, size);
    if (s != MNET_OK)
        return prefix_path(path, s);
    mnet_clear_error();
    return MNET_OK;
}

mnet_status mnet_model_create_random(mnet_arch arch, float alpha, int resolution,
        int num_classes, uint64_t seed, mnet_model **out)
{
    static const char fn[] = "mnet_model_create_random";
    if (!out)
        return mnet_error(MNET_ERR_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (arch != MNET_ARCH_V1 && arch != MNET_ARCH_V2 && arch != MNET_ARCH_V3_LARGE &&
            arch != MNET_ARCH_V3_SMALL)
        return mnet_error(MNET_ERR_ARG, "%s: arch %d is not MNET_ARCH_V1, _V2, _V3_LARGE or "
                "_V3_SMALL", fn, (int)arch);
    if (!(alpha > 0.0f) || !(alpha <= 16.0f))
        return mnet_error(MNET_ERR_ARG, "%s: alpha %g is not in (0, 16]", fn, alpha);
    if (resolution < 32 || resolution > 16384)
        return mnet_error(MNET_ERR_ARG, "%s: resolution %d is not within 32..16384", fn, resolution);
    if (num_classes < 1 || num_classes > (1 << 20))
        return mnet_error(MNET_ERR_ARG, "%s: num_classes %d is not within 1..%d", fn, num_classes,
                1 << 20);
    uint8_t *file;
    size_t size;
    mnet_status s = mnet_model_write_random((int)arch, (double)alpha, resolution, resolution,
            num_classes, seed, &file, &size);
    if (s != MNET_OK)
        return s;
    s = mnet_model_parse(file, size, 1, out);
    mnet_big_free(file, size);
    if (s == MNET_OK)
        mnet_clear_error();
    return s;
}

void mnet_packed_free(mnet_packed *p)
{
    if (p) {
        mnet_big_free(p->data, p->bytes);
        free(p->offset);
        free(p);
    }
}

void mnet_model_free(mnet_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < MNET_NUM_ISA; i++)
        mnet_packed_free(m->packed[i]);
    pthread_mutex_destroy(&m->pack_lock);
    free(m->layers);
    free(m);
}

mnet_status mnet_model_get_info(const mnet_model *m, mnet_model_info *info)
{
    if (!m || !info)
        return mnet_error(MNET_ERR_ARG, "mnet_model_get_info: %s is NULL", m ? "info" : "m");
    *info = m->info;
    return MNET_OK;
}

mnet_status mnet_model_get_layer(const mnet_model *m, int index, mnet_layer_info *info)
{
    static const char fn[] = "mnet_model_get_layer";
    if (!m || !info)
        return mnet_error(MNET_ERR_ARG, "%s: %s is NULL", fn, m ? "info" : "m");
    if (index < 0 || index >= m->num_layers)
        return mnet_error(MNET_ERR_ARG, "%s: index %d is not within 0..%d", fn, index,
                m->num_layers - 1);
    const mnet_layer *l = &m->layers[index];
    *info = (mnet_layer_info){ .op = mnet_op_name(l->op), .in_h = l->in_h, .in_w = l->in_w,
        .in_c = l->cin, .out_h = l->out_h, .out_w = l->out_w, .out_c = l->cout,
        .stride = l->stride, .activation = mnet_act_name(l->act), .residual = l->res_from >= 0,
        .params = mnet_layer_params(l), .macs = mnet_layer_macs(l) };
    return MNET_OK;
}

mnet_status mnet_model_get_preprocess(const mnet_model *m, float mean[3], float std[3])
{
    if (!m || !mean || !std)
        return mnet_error(MNET_ERR_ARG, "mnet_model_get_preprocess: NULL argument");
    memcpy(mean, m->mean, sizeof m->mean);
    memcpy(std, m->std, sizeof m->std);
    return MNET_OK;
}

/* How tier t packs layer l: a stem convolution's, a depthwise's or a GEMM's layout, with the
 * tier's tile (channels of a group, or GEMM panel width) and the depthwise taps. */
typedef struct { enum { PACK_CONV3X3, PACK_DW, PACK_GEMM } kind; int tile, taps; } pack_layout;

static pack_layout layout_of(const mnet_layer *l, const mnet_kernels *t)
{
    switch (l->op) {
    case MNET_OP_CONV3X3: return (pack_layout){ PACK_CONV3X3, t->conv3x3.cr, 9 };
    case MNET_OP_DW3X3: return (pack_layout){ PACK_DW, t->dwconv3x3.cr, 9 };
    case MNET_OP_DW5X5: return (pack_layout){ PACK_DW, t->dwconv5x5.cr, 25 };
    default: return (pack_layout){ PACK_GEMM, t->gemm.nr, 1 };   /* 1x1, SE, classifier */
    }
}

/* Floats of layer l's block in tier t's packed weights (before rounding to 16). */
static size_t layer_packed_floats(const mnet_layer *l, const mnet_kernels *t)
{
    const pack_layout p = layout_of(l, t);
    return p.kind == PACK_CONV3X3 ? mnet_packed_conv3x3_floats(l->cin, l->cout, p.tile) :
        p.kind == PACK_DW ? mnet_packed_dwconv_floats(l->cout, p.tile, p.taps) :
        mnet_packed_gemm_sliced_floats(l->cin, l->cout, p.tile, mnet_layer_k_slice(l));
}

mnet_status mnet_packed_create(const mnet_layer *layers, int n, const mnet_kernels *t,
        mnet_packed **out)
{
    mnet_packed *p = calloc(1, sizeof *p);
    if (!p || !(p->offset = calloc((size_t)n, sizeof *p->offset))) {
        free(p);
        return mnet_error(MNET_ERR_NOMEM, "no memory for packed weights");
    }
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        p->offset[i] = total;
        total += (layer_packed_floats(&layers[i], t) + 15) & ~(size_t)15;   /* 64-byte aligned */
    }
    /* Whole huge pages: the last layers' weights (the classifier's megabytes) would otherwise
     * sit in a tail of ordinary pages, and a first inference some time after loading took
     * 3.0 ms instead of 0.8 for V2 0.5 128 (one thread) reading them. */
    p->bytes = mnet_big_round(total * sizeof(float));
    if (!(p->data = mnet_big_alloc(p->bytes))) {
        free(p->offset);
        free(p);
        return mnet_error(MNET_ERR_NOMEM, "no memory for %zu packed weights", total);
    }
    *out = p;
    return MNET_OK;
}

/* Layer l between its folded weights (w, b) and its block for tier t: packed into the block,
 * or (`back`) unpacked from it. */
static void convert_layer(const mnet_layer *l, const mnet_kernels *t, int back, float *w,
        float *b, float *block)
{
    const pack_layout p = layout_of(l, t);
    if (p.kind == PACK_CONV3X3)
        back ? mnet_unpack_conv3x3(l->cin, l->cout, p.tile, block, w, b) :
            mnet_pack_conv3x3(l->cin, l->cout, p.tile, w, b, block);
    else if (p.kind == PACK_DW)
        back ? mnet_unpack_dwconv(l->cout, p.tile, p.taps, block, w, b) :
            mnet_pack_dwconv(l->cout, p.tile, p.taps, w, b, block);
    else
        back ? mnet_unpack_gemm_sliced(l->cin, l->cout, p.tile, mnet_layer_k_slice(l), block,
                w, b) :
            mnet_pack_gemm_sliced(l->cin, l->cout, p.tile, mnet_layer_k_slice(l), w, b, block);
}

void mnet_pack_layer(const mnet_layer *l, const mnet_kernels *t, const float *w, const float *b,
        float *dst)
{
    convert_layer(l, t, 0, (float *)w, (float *)b, dst);   /* read only when packing */
}

int mnet_layer_gemm_tile(const mnet_layer *l, const mnet_kernels *t)
{
    const pack_layout p = layout_of(l, t);
    return p.kind == PACK_GEMM ? p.tile : 0;
}

float *mnet_layer_scratch(const mnet_layer *layers, int n, const mnet_kernels *t, int gemm,
        size_t *floats, float **bias)
{
    size_t wmax = 1, bmax = 1;
    for (int i = 0; i < n; i++) {
        const size_t wf = !gemm && mnet_layer_gemm_tile(&layers[i], t) ? 0 :
            mnet_layer_weight_floats(&layers[i]);
        wmax = wf > wmax ? wf : wmax;
        bmax = (size_t)layers[i].cout > bmax ? (size_t)layers[i].cout : bmax;
    }
    *floats = wmax + bmax;
    float *w = mnet_big_alloc(*floats * sizeof(float));
    *bias = w ? w + wmax : NULL;
    return w;
}

/* Tier t's packed weights, made from the tier the model was loaded in (m->packed[m->home]):
 * each layer unpacked to the folded layout, then packed for t; the values are copied, not
 * recomputed, so every tier sees the same weights bit for bit. */
static mnet_status pack_all(const mnet_model *m, const mnet_kernels *t, mnet_packed **out)
{
    const mnet_kernels *home = mnet_kernels_for((mnet_isa)m->home);
    const mnet_packed *src = m->packed[m->home];
    size_t floats;
    float *b, *w = mnet_layer_scratch(m->layers, m->num_layers, t, 1, &floats, &b);
    mnet_packed *p = NULL;
    mnet_status s = !w ? mnet_error(MNET_ERR_NOMEM, "no memory to repack weights") :
        mnet_packed_create(m->layers, m->num_layers, t, &p);
    if (s == MNET_OK)
        for (int i = 0; i < m->num_layers; i++) {
            convert_layer(&m->layers[i], home, 1, w, b, src->data + src->offset[i]);
            mnet_pack_layer(&m->layers[i], t, w, b, p->data + p->offset[i]);
        }
    mnet_big_free(w, floats * sizeof(float));
    *out = p;
    return s;
}

mnet_status mnet_model_packed(mnet_model *m, const mnet_kernels *t, const mnet_packed **out)
{
    mnet_status s = MNET_OK;
    pthread_mutex_lock(&m->pack_lock);
    if (!m->packed[t->isa])
        s = pack_all(m, t, &m->packed[t->isa]);
    *out = m->packed[t->isa];
    pthread_mutex_unlock(&m->pack_lock);
    return s;
}
