/* format.c - the model file (docs/FORMAT.md): validation, BatchNorm folding, and a writer for
 * seeded random models.  Every check stands on its own; the CRC is only one of them. */
#define _DEFAULT_SOURCE   /* madvise */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"

#define HDR_SIZE 128
#define ENTRY_SIZE 96
#define NAME_SIZE 64
#define FORMAT_VERSION 2   /* written; 1 and 2 are read (2 added architectures 3 and 4) */
#define MAX_TENSORS_PER_LAYER 6
static const char MAGIC[8] = { 'M', 'N', 'E', 'T', 'M', 'O', 'D', 'L' };

/* Header field offsets. */
enum {
    H_MAGIC = 0, H_VERSION = 8, H_HDR_SIZE = 12, H_ARCH = 16, H_ALPHA = 20, H_HEIGHT = 28,
    H_WIDTH = 32, H_CHANNELS = 36, H_CLASSES = 40, H_ACT = 44, H_PADDING = 48, H_MEAN = 52,
    H_STD = 64, H_EPS = 76, H_COUNT = 80, H_TABLE = 84, H_DATA = 92, H_FILE_SIZE = 100,
    H_RESERVED = 108
};
/* Tensor entry field offsets. */
enum { E_NAME = 0, E_DTYPE = 64, E_NDIM = 68, E_SHAPE = 72, E_OFFSET = 88 };

/* Little-endian reads through bytes: any alignment, any host byte order. */
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static float rdf32(const uint8_t *p)
{
    const uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static double rdf64(const uint8_t *p)
{
    const uint64_t u = rd64(p);
    double f;
    memcpy(&f, &u, sizeof f);
    return f;
}

typedef struct {
    char name[NAME_SIZE];
    uint32_t ndim, shape[4];
    uint64_t offset, floats;
    int used, index;
} tensor;

static int cmp_offset(const void *a, const void *b)
{
    const tensor *x = *(const tensor *const *)a, *y = *(const tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static tensor *find(tensor *t, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

/* The expected shape of a layer's weight tensor in the file (PyTorch layout). */
static uint32_t weight_shape(const mnet_layer *l, uint32_t shape[4])
{
    switch (l->op) {
    case MNET_OP_CONV3X3:
        shape[0] = (uint32_t)l->cout; shape[1] = (uint32_t)l->cin; shape[2] = shape[3] = 3;
        return 4;
    case MNET_OP_DW3X3:
    case MNET_OP_DW5X5:
        shape[0] = (uint32_t)l->cout; shape[1] = 1; shape[2] = shape[3] = (uint32_t)mnet_layer_ksize(l);
        return 4;
    case MNET_OP_PW:
    case MNET_OP_SE_REDUCE:
    case MNET_OP_SE_EXPAND:
        shape[0] = (uint32_t)l->cout; shape[1] = (uint32_t)l->cin; shape[2] = shape[3] = 1;
        return 4;
    case MNET_OP_FC:
        shape[0] = (uint32_t)l->cout; shape[1] = (uint32_t)l->cin; shape[2] = shape[3] = 0;
        return 2;
    }
    return 0;
}

static void fmt_shape(char *buf, size_t n, uint32_t ndim, const uint32_t *shape)
{
    int at = snprintf(buf, n, "[");
    for (uint32_t i = 0; i < ndim && at > 0 && (size_t)at < n; i++)
        at += snprintf(buf + at, n - (size_t)at, i ? ",%u" : "%u", shape[i]);
    if (at > 0 && (size_t)at < n)
        snprintf(buf + at, n - (size_t)at, "]");
}

/* Find tensor `name` with exactly the given shape; *out NULL if absent and optional. */
static mnet_status expect(tensor *t, uint32_t n, const char *name, uint32_t ndim,
        const uint32_t *shape, int required, const mnet_layer *l, int li, tensor **out)
{
    *out = find(t, n, name);
    if (!*out) {
        if (!required)
            return MNET_OK;
        return mnet_error(MNET_ERR_FORMAT, "model: missing tensor '%s' for layer %d (%s %d->%d)",
                name, li, mnet_op_name(l->op), l->cin, l->cout);
    }
    int same = (*out)->ndim == ndim;
    for (uint32_t i = 0; same && i < ndim; i++)
        same = (*out)->shape[i] == shape[i];
    if (!same) {
        char got[64], want[64];
        fmt_shape(got, sizeof got, (*out)->ndim, (*out)->shape);
        fmt_shape(want, sizeof want, ndim, shape);
        return mnet_error(MNET_ERR_FORMAT, "model: tensor '%s' (entry %d) has shape %s, layer %d "
                "(%s %d->%d) needs %s", name, (*out)->index, got, li, mnet_op_name(l->op), l->cin,
                l->cout, want);
    }
    (*out)->used = 1;
    return MNET_OK;
}

/* Refuse a tensor holding NaN or infinities: one branch-free pass over its bytes (it
 * vectorises), then the slow search for the message only when something is wrong. */
static mnet_status check_finite(const uint8_t *d, const tensor *t)
{
    const uint8_t *src = d + t->offset;
    const size_t n = (size_t)t->floats;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= (rd32(src + 4 * i) & 0x7F800000u) == 0x7F800000u;
    if (bad)
        for (size_t i = 0; i < n; i++) {
            const float v = rdf32(src + 4 * i);
            if (!isfinite(v))
                return mnet_error(MNET_ERR_FORMAT, "model: tensor '%s' element %zu is %s",
                        t->name, i, isnan(v) ? "NaN" : "infinite");
        }
    return MNET_OK;
}

/* Fold one layer's BatchNorm into its weights and bias while moving them to the kernel layout:
 * conv3x3 [cout][3][3][cin], dwconv [k][k][c], conv1x1, SE and fc [cin][cout].  Values are read
 * straight from the file image (little-endian at any alignment).  With nr > 0 (a layer its tier
 * packs as a GEMM, nr the panel width), the 1x1, SE or fc weights and the bias go straight into
 * the packed panels at wout instead (mnet_pack_gemm's layout, the same values): each output
 * channel's weights are one contiguous row of the file, so no transposed copy of the layer is
 * made (V2's 5 MB classifier was folded into scratch, then packed from it).  bout receives the
 * bias either way. */
static mnet_status fold_layer(const uint8_t *d, const mnet_layer *l, tensor *w, tensor *b,
        tensor *bn[4], float eps, int nr, float *wout, float *bout)
{
    const size_t cout = (size_t)l->cout, cin = (size_t)l->cin;
    mnet_status s;
    for (int k = 0; k < 4; k++)
        if (bn[k] && (s = check_finite(d, bn[k])) != MNET_OK)
            return s;
    if ((b && (s = check_finite(d, b)) != MNET_OK) || (s = check_finite(d, w)) != MNET_OK)
        return s;
    double *scale = malloc(cout * sizeof(double));
    if (!scale)
        return mnet_error(MNET_ERR_NOMEM, "model: no memory");
    const uint8_t *wb = d + w->offset;
    for (size_t co = 0; co < cout; co++) {
        double bias = b ? rdf32(d + b->offset + 4 * co) : 0.0;
        scale[co] = 1.0;
        if (bn[0]) {
            const float g = rdf32(d + bn[0]->offset + 4 * co), beta = rdf32(d + bn[1]->offset + 4 * co);
            const float mean = rdf32(d + bn[2]->offset + 4 * co), var = rdf32(d + bn[3]->offset + 4 * co);
            if (!(var >= 0.0f) || !((double)var + eps > 0.0)) {
                free(scale);
                return mnet_error(MNET_ERR_FORMAT, "model: tensor '%s' element %zu: variance %g "
                        "(+ eps %g) is not positive", bn[3]->name, co, var, eps);
            }
            scale[co] = (double)g / sqrt((double)var + eps);
            bias = (bias - mean) * scale[co] + beta;
        }
        bout[co] = (float)bias;
    }
    switch (l->op) {
    case MNET_OP_CONV3X3:   /* [cout][cin][3][3] -> [cout][3][3][cin] */
        for (size_t co = 0; co < cout; co++)
            for (size_t ci = 0; ci < cin; ci++)
                for (size_t t = 0; t < 9; t++)
                    wout[(co * 9 + t) * cin + ci] =
                        (float)(rdf32(wb + 4 * ((co * cin + ci) * 9 + t)) * scale[co]);
        break;
    case MNET_OP_DW3X3:     /* [c][1][k][k] -> [k][k][c] */
    case MNET_OP_DW5X5: {
        const size_t taps = (size_t)(mnet_layer_ksize(l) * mnet_layer_ksize(l));
        for (size_t co = 0; co < cout; co++)
            for (size_t t = 0; t < taps; t++)
                wout[t * cout + co] = (float)(rdf32(wb + 4 * (co * taps + t)) * scale[co]);
        break;
    }
    case MNET_OP_PW:        /* [cout][cin] -> [cin][cout], in 32x32 blocks to stay in L1 */
    case MNET_OP_FC:
    case MNET_OP_SE_REDUCE:
    case MNET_OP_SE_EXPAND:
        if (nr > 0) {   /* -> panels { bias[nr], w[cin][nr] }, zero past cout; a sliced */
            const size_t pn = (size_t)nr, slice = (size_t)mnet_layer_k_slice(l);
            for (size_t k0 = 0; k0 < cin; k0 += slice) {   /* FC: per slice, bias in the first */
                const size_t ks = mnet_slice_len(cin, k0, slice), panel = pn * (ks + 1);
                for (size_t j0 = 0; j0 < cout; j0 += pn, wout += panel) {
                    const size_t cols = cout - j0 < pn ? cout - j0 : pn;
                    if (cols < pn || k0 > 0)
                        memset(wout, 0, (cols < pn ? panel : pn) * sizeof(float));
                    if (k0 == 0)
                        memcpy(wout, bout + j0, cols * sizeof(float));
                    for (size_t j = 0; j < cols; j++) {
                        const uint8_t *row = wb + 4 * ((j0 + j) * cin + k0);
                        const double sc = scale[j0 + j];
                        for (size_t ci = 0; ci < ks; ci++)
                            wout[pn + ci * pn + j] = (float)(rdf32(row + 4 * ci) * sc);
                    }
                }
            }
            break;
        }
        for (size_t co0 = 0; co0 < cout; co0 += 32)
            for (size_t ci0 = 0; ci0 < cin; ci0 += 32) {
                const size_t co1 = co0 + 32 < cout ? co0 + 32 : cout;
                const size_t ci1 = ci0 + 32 < cin ? ci0 + 32 : cin;
                for (size_t co = co0; co < co1; co++)
                    for (size_t ci = ci0; ci < ci1; ci++)
                        wout[ci * cout + co] = (float)(rdf32(wb + 4 * (co * cin + ci)) * scale[co]);
            }
        break;
    }
    free(scale);
    return MNET_OK;
}


/* With `discard`, the pages of the image below the first tensor not yet folded are given back
 * (a model of W bytes then peaks at about W plus a layer while loading, not 2 W): tensors are
 * folded in layer order, and a file written in that order frees as it goes.  *lo: the first
 * entry of `sorted` not yet used; *done: the image bytes given back so far. */
static void discard_folded(const uint8_t *d, tensor **sorted, uint32_t count, size_t data_end,
        uint32_t *lo, size_t *done)
{
    while (*lo < count && sorted[*lo]->used)
        (*lo)++;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (page == 0 || (page & (page - 1)) != 0)
        return;
    const uintptr_t from = ((uintptr_t)d + *done + page - 1) & ~(uintptr_t)(page - 1);
    const uintptr_t to = ((uintptr_t)d + (*lo < count ? sorted[*lo]->offset : data_end)) &
        ~(uintptr_t)(page - 1);
    if (to > from && madvise((void *)from, to - from, MADV_DONTNEED) == 0)
        *done = to - (uintptr_t)d;
}

mnet_status mnet_model_check_header(const uint8_t *d, size_t len, size_t size)
{
    if (size < HDR_SIZE + 4 || len < HDR_SIZE)
        return mnet_error(MNET_ERR_FORMAT, "model: %zu bytes is shorter than the %d-byte header "
                "plus the 4-byte checksum (truncated?)", size, HDR_SIZE);
    if (memcmp(d + H_MAGIC, MAGIC, sizeof MAGIC) != 0)
        return mnet_error(MNET_ERR_FORMAT, "model: bad magic at byte 0 (not an mnet model file)");
    const uint32_t version = rd32(d + H_VERSION);
    if (version < 1 || version > FORMAT_VERSION)
        return mnet_error(MNET_ERR_FORMAT, "model: format version %u at byte %d is not supported "
                "(this library reads versions 1..%d)", version, H_VERSION, FORMAT_VERSION);
    if (rd32(d + H_HDR_SIZE) != HDR_SIZE)
        return mnet_error(MNET_ERR_FORMAT, "model: header size %u at byte %d is not %d",
                rd32(d + H_HDR_SIZE), H_HDR_SIZE, HDR_SIZE);
    const uint64_t file_size = rd64(d + H_FILE_SIZE);
    if (file_size != size)
        return mnet_error(MNET_ERR_FORMAT, "model: the header (byte %d) says %llu bytes but there "
                "are %zu (truncated or extended file)", H_FILE_SIZE, (unsigned long long)file_size, size);
    return MNET_OK;
}

mnet_status mnet_model_parse(const uint8_t *d, size_t size, int discard, mnet_model **out)
{
    mnet_status st = MNET_OK;
    mnet_layer *layers = NULL;
    tensor *tens = NULL;
    tensor **sorted = NULL;
    mnet_model *m = NULL;
    float *wtmp = NULL, *btmp = NULL;   /* one layer folded (mnet_layer_scratch) */
    size_t tmp_floats = 0;
    int nl = 0;

    if ((st = mnet_model_check_header(d, size < HDR_SIZE ? size : HDR_SIZE, size)) != MNET_OK)
        return st;
    const uint32_t version = rd32(d + H_VERSION);
    const uint32_t crc_stored = rd32(d + size - 4), crc = mnet_crc32(0, d, size - 4);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* Fuzzing builds only (tools/fuzz.sh): mutated inputs reach the checks behind the CRC. */
    if (0)
#else
    if (crc != crc_stored)
#endif
        return mnet_error(MNET_ERR_FORMAT, "model: checksum mismatch (stored 0x%08x at byte %zu, "
                "computed 0x%08x): the file is corrupted", crc_stored, size - 4, crc);
    for (int i = H_RESERVED; i < HDR_SIZE; i++)
        if (d[i] != 0)
            return mnet_error(MNET_ERR_FORMAT, "model: reserved header byte %d is not zero", i);

    const uint32_t arch = rd32(d + H_ARCH), height = rd32(d + H_HEIGHT), width = rd32(d + H_WIDTH);
    const uint32_t channels = rd32(d + H_CHANNELS), classes = rd32(d + H_CLASSES);
    const uint32_t act = rd32(d + H_ACT), padding = rd32(d + H_PADDING);
    const double alpha = rdf64(d + H_ALPHA);
    const float eps = rdf32(d + H_EPS);
    float mean[3], stdv[3];
    for (int i = 0; i < 3; i++) {
        mean[i] = rdf32(d + H_MEAN + 4 * i);
        stdv[i] = rdf32(d + H_STD + 4 * i);
        if (!isfinite(mean[i]) || !isfinite(stdv[i]) || !(stdv[i] > 0.0f))
            return mnet_error(MNET_ERR_FORMAT, "model: preprocessing mean[%d] = %g / std[%d] = %g "
                    "(bytes %d, %d) must be finite with std > 0", i, mean[i], i, stdv[i],
                    H_MEAN + 4 * i, H_STD + 4 * i);
    }
    if (!isfinite(eps) || eps < 0.0f || eps > 1.0f)
        return mnet_error(MNET_ERR_FORMAT, "model: BatchNorm eps %g at byte %d is not in [0, 1]",
                eps, H_EPS);
    if (height > 16384 || width > 16384 || classes > (1u << 20) || channels > 64 || arch > 64)
        return mnet_error(MNET_ERR_FORMAT, "model: header field out of range (arch %u, %ux%ux%u "
                "input, %u classes)", arch, height, width, channels, classes);
    if (version < 2 && arch > MNET_ARCH_V2)
        return mnet_error(MNET_ERR_FORMAT, "model: architecture %u (byte %d) needs format version "
                "2, the file is version %u", arch, H_ARCH, version);
    st = mnet_arch_build((int)arch, alpha, (int)height, (int)width, (int)channels, (int)classes,
            (int)act, (int)padding, &layers, &nl);
    if (st != MNET_OK) {
        char detail[200];
        snprintf(detail, sizeof detail, "%s", mnet_last_error());
        return mnet_error(MNET_ERR_FORMAT, "model: header: %s", detail);
    }

    /* Tensor table. */
    const uint32_t count = rd32(d + H_COUNT);
    const uint64_t table = rd64(d + H_TABLE), data = rd64(d + H_DATA);
    if (count < 1 || count > (uint32_t)(MAX_TENSORS_PER_LAYER * nl)) {
        st = mnet_error(MNET_ERR_FORMAT, "model: tensor count %u at byte %d is not within 1..%d "
                "for this architecture", count, H_COUNT, MAX_TENSORS_PER_LAYER * nl);
        goto fail;
    }
    /* count * ENTRY_SIZE < 2^32 here: no overflow in the sums below. */
    if (table != HDR_SIZE || data % 64 != 0 || data < table + (uint64_t)count * ENTRY_SIZE ||
            data > size - 4) {
        st = mnet_error(MNET_ERR_FORMAT, "model: tensor table at %llu (%u entries) and data at "
                "%llu do not fit the layout (table at %d, data 64-byte aligned after it, inside "
                "the %zu-byte file)", (unsigned long long)table, count, (unsigned long long)data,
                HDR_SIZE, size);
        goto fail;
    }
    tens = calloc(count, sizeof *tens);
    sorted = calloc(count, sizeof *sorted);
    if (!tens || !sorted) {
        st = mnet_error(MNET_ERR_NOMEM, "model: no memory for %u tensor entries", count);
        goto fail;
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = d + table + (uint64_t)i * ENTRY_SIZE;
        const size_t at = (size_t)(table + (uint64_t)i * ENTRY_SIZE);
        tensor *t = &tens[i];
        t->index = (int)i;
        const uint8_t *nul = memchr(e + E_NAME, 0, NAME_SIZE);
        if (!nul || nul == e + E_NAME) {
            st = mnet_error(MNET_ERR_FORMAT, "model: tensor entry %u (byte %zu): name is empty or "
                    "not NUL-terminated within %d bytes", i, at, NAME_SIZE);
            goto fail;
        }
        memcpy(t->name, e + E_NAME, (size_t)(nul - e));
        for (const uint8_t *p = nul; p < e + NAME_SIZE; p++)
            if (*p) {
                st = mnet_error(MNET_ERR_FORMAT, "model: tensor entry %u (byte %zu): bytes after "
                        "the name's NUL are not zero", i, at);
                goto fail;
            }
        if (rd32(e + E_DTYPE) != 1) {
            st = mnet_error(MNET_ERR_FORMAT, "model: tensor '%s' (entry %u): dtype %u is not 1 "
                    "(float32)", t->name, i, rd32(e + E_DTYPE));
            goto fail;
        }
        t->ndim = rd32(e + E_NDIM);
        if (t->ndim < 1 || t->ndim > 4) {
            st = mnet_error(MNET_ERR_FORMAT, "model: tensor '%s' (entry %u): %u dimensions, "
                    "expected 1..4", t->name, i, t->ndim);
            goto fail;
        }
        t->floats = 1;
        for (uint32_t k = 0; k < 4; k++) {
            t->shape[k] = rd32(e + E_SHAPE + 4 * k);
            if (k < t->ndim ? (t->shape[k] < 1 || t->shape[k] > (1u << 30)) : t->shape[k] != 0) {
                st = mnet_error(MNET_ERR_FORMAT, "model: tensor '%s' (entry %u): dimension %u is "
                        "%u (used dimensions are 1..2^30, unused ones 0)", t->name, i, k, t->shape[k]);
                goto fail;
            }
            if (k < t->ndim && __builtin_mul_overflow(t->floats, (uint64_t)t->shape[k], &t->floats)) {
                st = mnet_error(MNET_ERR_FORMAT, "model: tensor '%s' (entry %u): element count "
                        "overflows", t->name, i);
                goto fail;
            }
        }
        t->offset = rd64(e + E_OFFSET);
        /* offset and byte count checked by subtraction: nothing here can wrap. */
        const uint64_t end = size - 4;
        if (t->offset % 64 != 0 || t->offset < data || t->offset > end ||
                t->floats > (end - t->offset) / 4) {
            st = mnet_error(MNET_ERR_FORMAT, "model: tensor '%s' (entry %u): %llu floats at offset "
                    "%llu do not lie 64-byte aligned inside the data section [%llu, %llu)", t->name,
                    i, (unsigned long long)t->floats, (unsigned long long)t->offset,
                    (unsigned long long)data, (unsigned long long)end);
            goto fail;
        }
        if (find(tens, i, t->name)) {
            st = mnet_error(MNET_ERR_FORMAT, "model: tensor name '%s' appears twice (entry %u)",
                    t->name, i);
            goto fail;
        }
        sorted[i] = t;
    }
    qsort(sorted, count, sizeof *sorted, cmp_offset);
    for (uint32_t i = 1; i < count; i++)
        if (sorted[i - 1]->offset + sorted[i - 1]->floats * 4 > sorted[i]->offset) {
            st = mnet_error(MNET_ERR_FORMAT, "model: tensors '%s' and '%s' overlap",
                    sorted[i - 1]->name, sorted[i]->name);
            goto fail;
        }

    /* The model, and its weights packed for the tier MNET_ISA_AUTO selects: each layer is
     * folded into a scratch block (the kernels' plain layouts), then packed, so the model never
     * holds a second copy of its weights. */
    m = calloc(1, sizeof *m);
    if (!m) {
        st = mnet_error(MNET_ERR_NOMEM, "model: no memory");
        goto fail;
    }
    m->layers = layers;
    layers = NULL;
    m->num_layers = nl;
    const mnet_kernels *home = mnet_kernels_for(MNET_ISA_AUTO);   /* never NULL */
    m->home = home->isa;
    if ((st = mnet_packed_create(m->layers, nl, home, &m->packed[m->home])) != MNET_OK)
        goto fail;
    if (!(wtmp = mnet_layer_scratch(m->layers, nl, home, 0, &tmp_floats, &btmp))) {
        st = mnet_error(MNET_ERR_NOMEM, "model: no memory to fold a layer");
        goto fail;
    }
    uint32_t lo = 0;
    size_t done = count > 0 ? (size_t)sorted[0]->offset : 0;   /* header and table stay */
    for (int i = 0; i < nl; i++) {
        const mnet_layer *l = &m->layers[i];
        char name[NAME_SIZE];
        uint32_t shape[4];
        const uint32_t ndim = weight_shape(l, shape);
        const uint32_t cshape[1] = { (uint32_t)l->cout };
        tensor *w, *b, *bn[4];
        static const char *const bn_names[4] = { "g", "b", "m", "v" };
        snprintf(name, sizeof name, "l%d.w", i);
        if ((st = expect(tens, count, name, ndim, shape, 1, l, i, &w)) != MNET_OK)
            goto fail;
        snprintf(name, sizeof name, "l%d.b", i);
        if ((st = expect(tens, count, name, 1, cshape, 0, l, i, &b)) != MNET_OK)
            goto fail;
        int have = 0;
        for (int k = 0; k < 4; k++) {
            snprintf(name, sizeof name, "l%d.bn.%s", i, bn_names[k]);
            if ((st = expect(tens, count, name, 1, cshape, 0, l, i, &bn[k])) != MNET_OK)
                goto fail;
            have += bn[k] != NULL;
        }
        const int no_bn = l->op == MNET_OP_FC || l->op == MNET_OP_SE_REDUCE ||
            l->op == MNET_OP_SE_EXPAND;
        if (have != 0 && (have != 4 || no_bn)) {
            st = mnet_error(MNET_ERR_FORMAT, "model: layer %d (%s) has %d of the 4 BatchNorm "
                    "tensors l%d.bn.{g,b,m,v}%s", i, mnet_op_name(l->op), have, i,
                    no_bn ? " (fully connected and squeeze-and-excite layers take none)" : "");
            goto fail;
        }
        if (!b && (l->op == MNET_OP_SE_REDUCE || l->op == MNET_OP_SE_EXPAND)) {
            st = mnet_error(MNET_ERR_FORMAT, "model: missing tensor 'l%d.b' for layer %d (%s "
                    "%d->%d): squeeze-and-excite layers need their bias", i, i, mnet_op_name(l->op),
                    l->cin, l->cout);
            goto fail;
        }
        const mnet_packed *hp = m->packed[m->home];
        float *block = hp->data + hp->offset[i];
        const int nr = mnet_layer_gemm_tile(l, home);   /* GEMM layers: folded into place */
        if ((st = fold_layer(d, l, w, b, bn, eps, nr, nr ? block : wtmp, btmp)) != MNET_OK)
            goto fail;
        if (!nr)
            mnet_pack_layer(l, home, wtmp, btmp, block);
        if (discard && count > 0)
            discard_folded(d, sorted, count, size - 4, &lo, &done);
    }
    for (uint32_t i = 0; i < count; i++)
        if (!tens[i].used) {
            st = mnet_error(MNET_ERR_FORMAT, "model: unexpected tensor '%s' (entry %u) for this "
                    "architecture", tens[i].name, i);
            goto fail;
        }

    mnet_plan_buffers(m->layers, nl, m->buf_floats);
    m->alpha = alpha;
    m->act_code = (int)act;
    m->padding = (int)padding;
    memcpy(m->mean, mean, sizeof mean);
    memcpy(m->std, stdv, sizeof stdv);
    m->info.arch = (mnet_arch)arch;
    m->info.alpha = (float)alpha;
    m->info.height = (int)height;
    m->info.width = (int)width;
    m->info.channels = (int)channels;
    m->info.num_classes = (int)classes;
    m->info.layers = nl;
    for (int i = 0; i < nl; i++) {
        m->info.params += mnet_layer_params(&m->layers[i]);
        m->info.macs += mnet_layer_macs(&m->layers[i]);
    }
    pthread_mutex_init(&m->pack_lock, NULL);
    mnet_big_free(wtmp, tmp_floats * sizeof(float));
    free(tens);
    free(sorted);
    *out = m;
    return MNET_OK;

fail:
    if (m) {
        free(m->layers);
        mnet_packed_free(m->packed[m->home]);
        free(m);
    }
    mnet_big_free(wtmp, tmp_floats * sizeof(float));
    free(layers);
    free(tens);
    free(sorted);
    return st;
}

/* ---- writer ---------------------------------------------------------------------------- */

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }
static void wrf32(uint8_t *p, float f) { uint32_t u; memcpy(&u, &f, 4); wr32(p, u); }

/* splitmix64: a small, well-mixed generator; uniform in [0, 1). */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double uniform(uint64_t *s) { return (double)(next_u64(s) >> 11) * 0x1.0p-53; }

mnet_status mnet_model_write_random(int arch, double alpha, int h, int w, int classes,
        uint64_t seed, uint8_t **out, size_t *size)
{
    mnet_layer *l;
    int nl;
    mnet_status st = mnet_arch_build(arch, alpha, h, w, 3, classes, MNET_FILE_ACT_RELU6,
            MNET_PAD_SYMMETRIC, &l, &nl);
    if (st != MNET_OK)
        return st;
    /* Tensors: per convolution w + 4 BN; fully connected and SE layers w + b. */
    uint32_t count = 0;
    uint64_t data, total = 0;
    for (int i = 0; i < nl; i++) {
        const int biased = l[i].op == MNET_OP_FC || l[i].op == MNET_OP_SE_REDUCE ||
            l[i].op == MNET_OP_SE_EXPAND;
        count += biased ? 2 : 5;
        total += (mnet_layer_weight_floats(&l[i]) * 4 + 63) & ~(size_t)63;
        total += (biased ? 1 : 4) * (((uint64_t)l[i].cout * 4 + 63) & ~63ull);
    }
    data = ((uint64_t)HDR_SIZE + (uint64_t)count * ENTRY_SIZE + 63) & ~63ull;
    total += data;
    total += 4;
    /* Huge pages where the system allows (a model is megabytes; faulting it in 4 KiB at a time
     * is slow on a VM), zeroed: the gaps between tensors are part of the checksum. */
    uint8_t *f = total <= PTRDIFF_MAX ? mnet_big_alloc((size_t)total) : NULL;
    if (f)
        memset(f, 0, (size_t)total);
    if (!f) {
        free(l);
        return mnet_error(MNET_ERR_NOMEM, "no memory for a %llu-byte model", (unsigned long long)total);
    }
    memcpy(f + H_MAGIC, MAGIC, sizeof MAGIC);
    wr32(f + H_VERSION, FORMAT_VERSION);
    wr32(f + H_HDR_SIZE, HDR_SIZE);
    wr32(f + H_ARCH, (uint32_t)arch);
    uint64_t abits;
    memcpy(&abits, &alpha, 8);
    wr64(f + H_ALPHA, abits);
    wr32(f + H_HEIGHT, (uint32_t)h);
    wr32(f + H_WIDTH, (uint32_t)w);
    wr32(f + H_CHANNELS, 3);
    wr32(f + H_CLASSES, (uint32_t)classes);
    wr32(f + H_ACT, MNET_FILE_ACT_RELU6);
    wr32(f + H_PADDING, MNET_PAD_SYMMETRIC);
    static const float mean[3] = { 0.485f, 0.456f, 0.406f }, stdv[3] = { 0.229f, 0.224f, 0.225f };
    for (int i = 0; i < 3; i++) {
        wrf32(f + H_MEAN + 4 * i, mean[i]);
        wrf32(f + H_STD + 4 * i, stdv[i]);
    }
    wrf32(f + H_EPS, arch >= MNET_ARCH_V3_LARGE ? 1e-3f : 1e-5f);   /* torchvision's */
    wr32(f + H_COUNT, count);
    wr64(f + H_TABLE, HDR_SIZE);
    wr64(f + H_DATA, data);
    wr64(f + H_FILE_SIZE, total);

    uint64_t s = seed, at = data;
    uint8_t *e = f + HDR_SIZE;
    /* One tensor: entry + values from gen(kind). */
    for (int i = 0; i < nl; i++) {
        const mnet_layer *ly = &l[i];
        uint32_t shape[4];
        const uint32_t ndim = weight_shape(ly, shape);
        const int fc = ly->op == MNET_OP_FC || ly->op == MNET_OP_SE_REDUCE ||
            ly->op == MNET_OP_SE_EXPAND;   /* bias, no BatchNorm */
        const size_t fan_in = mnet_layer_weight_floats(ly) / (size_t)ly->cout;
        static const char *const suffix[6] = { "w", "bn.g", "bn.b", "bn.m", "bn.v", "b" };
        for (int k = 0; k < 6; k++) {
            if (fc ? (k != 0 && k != 5) : k == 5)
                continue;
            const size_t n = k == 0 ? mnet_layer_weight_floats(ly) : (size_t)ly->cout;
            snprintf((char *)e + E_NAME, NAME_SIZE, "l%d.%s", i, suffix[k]);
            wr32(e + E_DTYPE, 1);
            if (k == 0) {
                wr32(e + E_NDIM, ndim);
                for (uint32_t j = 0; j < ndim; j++)
                    wr32(e + E_SHAPE + 4 * j, shape[j]);
            } else {
                wr32(e + E_NDIM, 1);
                wr32(e + E_SHAPE, (uint32_t)ly->cout);
            }
            wr64(e + E_OFFSET, at);
            e += ENTRY_SIZE;
            /* He-scaled: uniform in [-a, a) has variance a^2 / 3 = gain / fan_in */
            const double a = sqrt(3.0 * (fc ? 1.0 : 2.0) / (double)fan_in);
            for (size_t j = 0; j < n; j++) {
                double v;
                switch (k) {
                case 0: v = (2.0 * uniform(&s) - 1.0) * a; break;
                case 1: v = 0.5 + uniform(&s); break;              /* gamma in [0.5, 1.5) */
                case 2: v = 0.5 * uniform(&s) - 0.25; break;       /* beta in [-0.25, 0.25) */
                case 3: v = 0.4 * uniform(&s) - 0.2; break;        /* running mean */
                case 4: v = 0.5 + uniform(&s); break;              /* running var in [0.5, 1.5) */
                default: v = 0.2 * uniform(&s) - 0.1; break;       /* classifier bias */
                }
                wrf32(f + at + 4 * j, (float)v);
            }
            at += ((uint64_t)n * 4 + 63) & ~63ull;
        }
    }
    wr32(f + total - 4, mnet_crc32(0, f, (size_t)total - 4));
    free(l);
    *out = f;
    *size = (size_t)total;
    return MNET_OK;
}
