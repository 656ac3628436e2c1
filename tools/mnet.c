/* mnet.c - the mnet command: isa, info, run, classify, bench. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
/* jpeglib.h needs size_t and FILE declared first. */
#include <jpeglib.h>
#include <png.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

#include "bench/evict.h"
#include "mnet.h"

static const char *g_cmd = "mnet";

/* One line on stderr, exit status 1 (runtime error) or 2 (usage). */
static void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", g_cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static void check(mnet_status s, const char *what)
{
    if (s != MNET_OK)
        die(1, "%s: %s (%s)", what, mnet_last_error(), mnet_status_string(s));
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static long parse_int(const char *s, const char *opt, long lo, long hi)
{
    char *end;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        die(2, "%s: '%s' is not an integer within %ld..%ld", opt, s, lo, hi);
    return v;
}

static double parse_double(const char *s, const char *opt)
{
    char *end;
    errno = 0;
    const double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        die(2, "%s: '%s' is not a number", opt, s);
    return v;
}

static mnet_isa parse_isa(const char *s)
{
    for (int i = MNET_ISA_AUTO; i <= MNET_ISA_AVX512; i++)
        if (strcmp(s, mnet_isa_name((mnet_isa)i)) == 0)
            return (mnet_isa)i;
    die(2, "--isa: '%s' is not one of scalar, avx2, avx512, neon, auto", s);
    return MNET_ISA_AUTO;
}

/* ---- common options: a model file, or an architecture to build with random weights ---- */

typedef struct {
    const char *path;
    int arch;           /* 0 = from the file */
    double alpha;
    int res, classes;
    unsigned long long seed;
    int threads, batch, runs, top;
    int inputs;         /* bench --inputs: distinct inputs the runs cycle through */
    int profile;        /* bench --profile */
    int no_warmup;      /* bench --no-warmup: options.skip_warmup */
    mnet_isa isa;
    const char *input, *output, *labels, *idx_images, *idx_labels, *predictions;
    const char **images;
    int num_images;
} opts;

/* The --arch names, indexed by mnet_arch. */
static const char *const g_arch_names[] = { "?", "v1", "v2", "v3-large", "v3-small" };

static const char *arch_name(mnet_arch a)
{
    return (unsigned)a < sizeof g_arch_names / sizeof *g_arch_names ? g_arch_names[a] : "?";
}

/* Returns 1 if argv[*i] was a common option (consuming its value). */
static int common_opt(opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
#define VALUE() (*i + 1 < argc ? argv[++*i] : (die(2, "%s needs a value", a), ""))
    if (strcmp(a, "--arch") == 0) {
        const char *v = VALUE();
        o->arch = 0;
        for (int k = MNET_ARCH_V1; k <= MNET_ARCH_V3_SMALL; k++)
            if (strcmp(v, g_arch_names[k]) == 0)
                o->arch = k;
        if (!o->arch)
            die(2, "--arch: '%s' is not v1, v2, v3-large or v3-small", v);
    } else if (strcmp(a, "--alpha") == 0 || strcmp(a, "--width-mult") == 0) {
        o->alpha = parse_double(VALUE(), a);
    } else if (strcmp(a, "--res") == 0 || strcmp(a, "--resolution") == 0) {
        o->res = (int)parse_int(VALUE(), a, 32, 16384);
    } else if (strcmp(a, "--classes") == 0) {
        o->classes = (int)parse_int(VALUE(), a, 1, 1 << 20);
    } else if (strcmp(a, "--seed") == 0) {
        o->seed = (unsigned long long)parse_int(VALUE(), a, 0, 0x7fffffffffffffffL);
    } else if (strcmp(a, "--threads") == 0) {
        o->threads = (int)parse_int(VALUE(), a, 1, 1024);
    } else if (strcmp(a, "--batch") == 0) {
        o->batch = (int)parse_int(VALUE(), a, 1, 1 << 20);
    } else if (strcmp(a, "--runs") == 0) {
        o->runs = (int)parse_int(VALUE(), a, 1, 1000000);
    } else if (strcmp(a, "--inputs") == 0) {
        o->inputs = (int)parse_int(VALUE(), a, 1, 64);
    } else if (strcmp(a, "--top") == 0) {
        o->top = (int)parse_int(VALUE(), a, 1, 1 << 20);
    } else if (strcmp(a, "--isa") == 0) {
        o->isa = parse_isa(VALUE());
    } else if (strcmp(a, "--input") == 0) {
        o->input = VALUE();
    } else if (strcmp(a, "--output") == 0) {
        o->output = VALUE();
    } else if (strcmp(a, "--labels") == 0) {
        o->labels = VALUE();
    } else if (strcmp(a, "--idx-images") == 0) {
        o->idx_images = VALUE();
    } else if (strcmp(a, "--idx-labels") == 0) {
        o->idx_labels = VALUE();
    } else if (strcmp(a, "--predictions") == 0) {
        o->predictions = VALUE();
    } else if (strcmp(a, "--profile") == 0) {
        o->profile = 1;
    } else if (strcmp(a, "--no-warmup") == 0) {
        o->no_warmup = 1;
    } else {
        return 0;
    }
#undef VALUE
    return 1;
}

static void parse_args(opts *o, int argc, char **argv, int allow_images)
{
    *o = (opts){ .alpha = 1.0, .res = 224, .classes = 1000, .threads = 1, .batch = 1,
        .runs = 50, .top = 5, .inputs = 1, .isa = MNET_ISA_AUTO };
    o->images = calloc((size_t)argc, sizeof *o->images);
    for (int i = 2; i < argc; i++) {
        if (common_opt(o, argc, argv, &i))
            continue;
        if (argv[i][0] == '-' && argv[i][1])
            die(2, "unknown option '%s' (try %s --help)", argv[i], g_cmd);
        if (!o->path)
            o->path = argv[i];
        else if (allow_images)
            o->images[o->num_images++] = argv[i];
        else
            die(2, "unexpected argument '%s'", argv[i]);
    }
}

/* The model the options name (a file, or an architecture with random weights), its label for
 * reports and its info; *ms (if asked) is the load time. */
static mnet_model *get_model(const opts *o, char *label, size_t label_size, double *ms,
        mnet_model_info *info)
{
    mnet_model *m = NULL;
    const double t0 = now_ms();
    if (o->path && o->arch)
        die(2, "give either a MODEL file or --arch, not both");
    if (o->path) {
        check(mnet_model_load(o->path, &m), "load");
        snprintf(label, label_size, "%s", o->path);
    } else if (o->arch) {
        check(mnet_model_create_random((mnet_arch)o->arch, (float)o->alpha, o->res, o->classes,
                o->seed, &m), "create model");
        snprintf(label, label_size, "%s-%g-%d-random", arch_name((mnet_arch)o->arch), o->alpha,
                o->res);
    } else {
        die(2, "no MODEL file and no --arch (try %s --help)", g_cmd);
    }
    if (ms)
        *ms = now_ms() - t0;
    check(mnet_model_get_info(m, info), "info");
    return m;
}

static mnet_context *get_context(const mnet_model *m, const opts *o)
{
    mnet_options opt;
    mnet_options_default(&opt);
    opt.num_threads = o->threads;
    opt.isa = o->isa;
    opt.profile = o->profile;
    opt.max_batch = o->batch;   /* the buffers for the whole batch now, not in the first run */
    opt.skip_warmup = o->no_warmup;
    mnet_context *ctx;
    check(mnet_context_create(m, &opt, &ctx), "context");
    return ctx;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/* ---- mnet isa ---- */

static int cmd_isa(void)
{
    static const char *const ops[] = { "conv3x3", "dwconv3x3", "dwconv5x5", "gemm", "bn_relu6",
        "gavgpool", "add", "softmax", "hardswish", "hardsigmoid", "channel_scale" };
    printf("mnet %s\n", mnet_version_string());
    printf("selected isa: %s (MNET_ISA=scalar|avx2|avx512|neon can lower it)\n",
            mnet_isa_name(mnet_isa_selected()));
    for (int isa = MNET_ISA_SCALAR; isa <= MNET_ISA_AVX512; isa++) {
        printf("%-7s %s\n", mnet_isa_name((mnet_isa)isa),
                mnet_isa_available((mnet_isa)isa) ? "available" : "not available");
        if (!mnet_isa_available((mnet_isa)isa))
            continue;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
            printf("    %-13s %s\n", ops[i], mnet_kernel_name((mnet_isa)isa, ops[i]));
    }
    return 0;
}

/* ---- mnet info ---- */

static int cmd_info(int argc, char **argv)
{
    opts o;
    parse_args(&o, argc, argv, 0);
    char label[512];
    mnet_model_info in;
    mnet_model *m = get_model(&o, label, sizeof label, NULL, &in);
    printf("%s: MobileNet %s, alpha %g, input %dx%dx%d, %d classes\n", label, arch_name(in.arch),
            in.alpha, in.height, in.width, in.channels, in.num_classes);
    printf("%3s  %-9s  %-13s  %-13s  %6s  %-8s  %-3s  %10s  %12s\n", "#", "op", "input", "output",
            "stride", "act", "res", "params", "MACs");
    for (int i = 0; i < in.layers; i++) {
        mnet_layer_info l;
        check(mnet_model_get_layer(m, i, &l), "layer");
        char a[32], b[32];
        snprintf(a, sizeof a, "%dx%dx%d", l.in_h, l.in_w, l.in_c);
        snprintf(b, sizeof b, "%dx%dx%d", l.out_h, l.out_w, l.out_c);
        printf("%3d  %-9s  %-13s  %-13s  %6d  %-8s  %-3s  %10llu  %12llu\n", i, l.op, a, b,
                l.stride, l.activation, l.residual ? "yes" : "", (unsigned long long)l.params,
                (unsigned long long)l.macs);
    }
    printf("total: %.2fM parameters, %.1fM multiply-adds\n", (double)in.params / 1e6,
            (double)in.macs / 1e6);
    char res[32];
    if (in.height == in.width)
        snprintf(res, sizeof res, "%d", in.height);
    else
        snprintf(res, sizeof res, "%dx%d", in.height, in.width);
    printf("mnet-info arch=%s alpha=%g res=%s classes=%d params=%llu macs=%llu\n", arch_name(in.arch),
            in.alpha, res, in.num_classes, (unsigned long long)in.params,
            (unsigned long long)in.macs);
    mnet_model_free(m);
    free(o.images);
    return 0;
}

/* ---- mnet run ---- */

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(1, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0)
        die(1, "%s: cannot seek: %s", path, strerror(errno));
    const long n = ftell(f);
    if (n < 0)
        die(1, "%s: cannot tell size", path);
    rewind(f);
    void *p = malloc(n ? (size_t)n : 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n)
        die(1, "%s: cannot read", path);
    fclose(f);
    *size = (size_t)n;
    return p;
}

static int cmd_run(int argc, char **argv)
{
    opts o;
    parse_args(&o, argc, argv, 0);
    if (!o.input || !o.output)
        die(2, "run needs --input IN.f32 and --output OUT.f32");
    char label[512];
    mnet_model_info in;
    mnet_model *m = get_model(&o, label, sizeof label, NULL, &in);
    size_t size;
    float *x = read_file(o.input, &size);
    const size_t want = (size_t)o.batch * in.height * in.width * in.channels * sizeof(float);
    if (size != want)
        die(1, "%s: %zu bytes, but batch %d of %dx%dx%d float32 needs exactly %zu", o.input, size,
                o.batch, in.height, in.width, in.channels, want);
    float *y = malloc((size_t)o.batch * in.num_classes * sizeof(float));
    if (!y)
        die(1, "out of memory");
    mnet_context *ctx = get_context(m, &o);
    check(mnet_context_run(ctx, o.batch, x, y), "run");
    FILE *f = fopen(o.output, "wb");
    const size_t n = (size_t)o.batch * in.num_classes;
    if (!f || fwrite(y, sizeof(float), n, f) != n || fclose(f) != 0)
        die(1, "%s: cannot write: %s", o.output, strerror(errno));
    mnet_context_free(ctx);
    mnet_model_free(m);
    free(x);
    free(y);
    free(o.images);
    return 0;
}

/* ---- images ---- */

typedef struct {
    int w, h, c;   /* c = 1 (gray) or 3 (RGB) */
    uint8_t *px;
} image;

static int load_png(const char *path, image *img)
{
    png_image p;
    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&p, path))
        die(1, "%s: PNG: %s", path, p.message);
    const int gray = !(p.format & PNG_FORMAT_FLAG_COLOR);
    p.format = gray ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;   /* alpha composited on black */
    img->w = (int)p.width;
    img->h = (int)p.height;
    img->c = gray ? 1 : 3;
    img->px = malloc(PNG_IMAGE_SIZE(p));
    if (!img->px || !png_image_finish_read(&p, NULL, img->px, 0, NULL))
        die(1, "%s: PNG: %s", path, p.message);
    return 0;
}

struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
};
static void jpeg_fail(j_common_ptr cinfo)
{
    longjmp(((struct jerr *)cinfo->err)->jump, 1);
}

static int load_jpeg(const char *path, image *img)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(1, "%s: cannot open: %s", path, strerror(errno));
    struct jpeg_decompress_struct cinfo;
    struct jerr err;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    if (setjmp(err.jump)) {
        char msg[JMSG_LENGTH_MAX];
        err.mgr.format_message((j_common_ptr)&cinfo, msg);
        die(1, "%s: JPEG: %s", path, msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    img->w = (int)cinfo.output_width;
    img->h = (int)cinfo.output_height;
    img->c = cinfo.output_components;
    img->px = malloc((size_t)img->w * img->h * img->c);
    if (!img->px)
        die(1, "out of memory");
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = img->px + (size_t)cinfo.output_scanline * img->w * img->c;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    fclose(f);
    return 0;
}

/* Binary PGM (P5) / PPM (P6), maxval <= 255. */
static int load_pnm(const char *path, image *img)
{
    size_t size;
    uint8_t *d = read_file(path, &size);
    size_t at = 2;
    long v[3];
    for (int k = 0; k < 3; k++) {
        for (;;) {   /* whitespace and comments */
            while (at < size && (d[at] == ' ' || d[at] == '\t' || d[at] == '\r' || d[at] == '\n'))
                at++;
            if (at < size && d[at] == '#')
                while (at < size && d[at] != '\n')
                    at++;
            else
                break;
        }
        v[k] = 0;
        if (at >= size || d[at] < '0' || d[at] > '9')
            die(1, "%s: malformed PNM header", path);
        while (at < size && d[at] >= '0' && d[at] <= '9' && v[k] < 100000000)
            v[k] = v[k] * 10 + (d[at++] - '0');
    }
    at++;   /* the single whitespace before the raster */
    img->c = d[1] == '5' ? 1 : 3;
    if (v[0] < 1 || v[1] < 1 || v[0] > 65536 || v[1] > 65536 || v[2] < 1 || v[2] > 255)
        die(1, "%s: unsupported PNM size %ldx%ld or maxval %ld", path, v[0], v[1], v[2]);
    const size_t need = (size_t)v[0] * (size_t)v[1] * (size_t)img->c;
    if (at > size || size - at < need)
        die(1, "%s: truncated PNM raster", path);
    img->w = (int)v[0];
    img->h = (int)v[1];
    img->px = malloc(need);
    if (!img->px)
        die(1, "out of memory");
    for (size_t i = 0; i < need; i++)
        img->px[i] = (uint8_t)(d[at + i] * 255 / v[2]);
    free(d);
    return 0;
}

static void load_image(const char *path, image *img)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(1, "%s: cannot open: %s", path, strerror(errno));
    uint8_t magic[8] = { 0 };
    const size_t n = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (n >= 8 && png_sig_cmp(magic, 0, 8) == 0)
        load_png(path, img);
    else if (n >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF)
        load_jpeg(path, img);
    else if (n >= 2 && magic[0] == 'P' && (magic[1] == '5' || magic[1] == '6'))
        load_pnm(path, img);
    else
        die(1, "%s: not a PNG, JPEG or binary PGM/PPM image", path);
}

/* To a 1-channel model an RGB image goes as luma (ITU-R BT.601 weights). */
static void to_gray(image *img)
{
    const size_t n = (size_t)img->w * img->h;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = img->px + 3 * i;
        img->px[i] = (uint8_t)((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000);
    }
    img->c = 1;
}

static char **read_labels(const char *path, int classes)
{
    char **names = calloc((size_t)classes, sizeof *names);
    if (!path)
        return names;
    FILE *f = fopen(path, "r");
    if (!f)
        die(1, "%s: cannot open: %s", path, strerror(errno));
    char line[1024];
    for (int i = 0; i < classes && fgets(line, sizeof line, f); i++) {
        line[strcspn(line, "\r\n")] = '\0';
        names[i] = strdup(line);
    }
    fclose(f);
    return names;
}

/* Indexes of the k largest values, largest first (ties: lower index first). */
static void top_k(const float *p, int n, int k, int *idx)
{
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            int taken = 0;
            for (int t = 0; t < j; t++)
                taken |= idx[t] == i;
            if (!taken && (best < 0 || p[i] > p[best]))
                best = i;
        }
        idx[j] = best;
    }
}

/* IDX files (MNIST / Fashion-MNIST), plain or gzip'd: magic 0x00000803 images, 0x00000801 labels. */
static uint8_t *read_idx(const char *path, int want_dims, int *count, int *rows, int *cols)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        die(1, "%s: cannot open: %s", path, strerror(errno));
    uint8_t hdr[16];
    const int hn = 4 + 4 * want_dims;
    if (gzread(g, hdr, (unsigned)hn) != hn || hdr[0] || hdr[1] || hdr[2] != 8 || hdr[3] != want_dims)
        die(1, "%s: not an IDX file of %d-dimensional uint8 data", path, want_dims);
    uint32_t dims[3] = { 1, 1, 1 };
    for (int i = 0; i < want_dims; i++)
        dims[i] = (uint32_t)hdr[4 + 4 * i] << 24 | (uint32_t)hdr[5 + 4 * i] << 16 |
                  (uint32_t)hdr[6 + 4 * i] << 8 | hdr[7 + 4 * i];
    if (dims[0] < 1 || dims[0] > 10000000 || dims[1] > 4096 || dims[2] > 4096)
        die(1, "%s: implausible IDX dimensions", path);
    const size_t n = (size_t)dims[0] * dims[1] * dims[2];
    uint8_t *d = malloc(n);
    if (!d || gzread(g, d, (unsigned)n) != (int)n)
        die(1, "%s: truncated IDX data", path);
    gzclose(g);
    *count = (int)dims[0];
    if (rows)
        *rows = (int)dims[1];
    if (cols)
        *cols = (int)dims[2];
    return d;
}

static int classify_idx(const opts *o, mnet_model *m, const mnet_model_info *in)
{
    int n, rows, cols, nl;
    uint8_t *px = read_idx(o->idx_images, 3, &n, &rows, &cols);
    uint8_t *lab = o->idx_labels ? read_idx(o->idx_labels, 1, &nl, NULL, NULL) : NULL;
    if (lab && nl != n)
        die(1, "%s has %d labels for %d images", o->idx_labels, nl, n);
    mnet_context *ctx = get_context(m, o);
    const int batch = 64;
    const size_t img = (size_t)in->height * in->width * in->channels;
    float *x = malloc(img * batch * sizeof(float));
    float *y = malloc((size_t)in->num_classes * batch * sizeof(float));
    FILE *pf = o->predictions ? fopen(o->predictions, "w") : NULL;
    if (!x || !y || (o->predictions && !pf))
        die(1, "cannot allocate or open %s", o->predictions ? o->predictions : "buffers");
    int correct = 0;
    const double t0 = now_ms();
    for (int i0 = 0; i0 < n; i0 += batch) {
        const int b = n - i0 < batch ? n - i0 : batch;
        for (int j = 0; j < b; j++)
            check(mnet_preprocess_u8(m, px + (size_t)(i0 + j) * rows * cols, cols, rows, 1,
                    (size_t)cols, x + j * img), "preprocess");
        check(mnet_context_run(ctx, b, x, y), "run");
        for (int j = 0; j < b; j++) {
            int best;
            top_k(y + (size_t)j * in->num_classes, in->num_classes, 1, &best);
            if (pf)
                fprintf(pf, "%d\n", best);
            if (lab)
                correct += best == lab[i0 + j];
        }
    }
    const double ms = now_ms() - t0;
    if (pf)
        fclose(pf);
    printf("classified %d images in %.1f ms (%.0f images/s)\n", n, ms, n / (ms / 1e3));
    if (lab)
        printf("accuracy: %d / %d = %.2f%%\n", correct, n, 100.0 * correct / n);
    mnet_context_free(ctx);
    free(px);
    free(lab);
    free(x);
    free(y);
    return 0;
}

static int cmd_classify(int argc, char **argv)
{
    opts o;
    parse_args(&o, argc, argv, 1);
    char label[512];
    mnet_model_info in;
    mnet_model *m = get_model(&o, label, sizeof label, NULL, &in);
    if (o.idx_images) {
        if (o.num_images)
            die(2, "give image files or --idx-images, not both");
        const int r = classify_idx(&o, m, &in);
        mnet_model_free(m);
        free(o.images);
        return r;
    }
    if (!o.num_images)
        die(2, "classify needs at least one IMAGE (or --idx-images FILE)");
    char **names = read_labels(o.labels, in.num_classes);
    const int k = o.top < in.num_classes ? o.top : in.num_classes;
    mnet_context *ctx = get_context(m, &o);
    const size_t img = (size_t)in.height * in.width * in.channels;
    float *x = malloc(img * sizeof(float)), *y = malloc((size_t)in.num_classes * sizeof(float));
    int *idx = malloc((size_t)k * sizeof(int));
    if (!x || !y || !idx)
        die(1, "out of memory");
    for (int i = 0; i < o.num_images; i++) {
        image im;
        load_image(o.images[i], &im);
        if (in.channels == 1 && im.c == 3)
            to_gray(&im);
        check(mnet_preprocess_u8(m, im.px, im.w, im.h, im.c, (size_t)im.w * im.c, x), "preprocess");
        check(mnet_context_run(ctx, 1, x, y), "run");
        check(mnet_softmax_f32(MNET_ISA_AUTO, 1, in.num_classes, y, y), "softmax");
        top_k(y, in.num_classes, k, idx);
        printf("%s:", o.images[i]);
        for (int j = 0; j < k; j++) {
            if (names[idx[j]])
                printf(" %s %.4f%s", names[idx[j]], y[idx[j]], j + 1 < k ? "," : "");
            else
                printf(" %d %.4f%s", idx[j], y[idx[j]], j + 1 < k ? "," : "");
        }
        printf("\n");
        free(im.px);
    }
    mnet_context_free(ctx);
    mnet_model_free(m);
    free(x);
    free(y);
    free(idx);
    for (int i = 0; i < in.num_classes; i++)
        free(names[i]);
    free(names);
    free(o.images);
    return 0;
}

/* ---- mnet bench ---- */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Page faults (minor and major) of this process so far. */
static long page_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt + ru.ru_majflt;
}

/* bench --profile: one line per layer, or per fused group (its layers' ops joined by '+'),
 * with its time per image in the first run (`first`: the profile read right after it) and its
 * mean per image over the timed runs (`ms`, `group`: the profile read right after them, its
 * mean over the first and the timed runs, less the first; later runs, such as the flushed
 * one, must not count). */
static void print_profile(const mnet_model *m, const mnet_model_info *in, const double *first,
        double *ms, const int *group, int runs)
{
    double total = 0.0, first_total = 0.0;
    for (int i = 0; i < in->layers; i++) {
        ms[i] = (ms[i] * (runs + 1) - first[i]) / runs;
        if (ms[i] < 0.0)   /* rounding, for a layer that takes no time */
            ms[i] = 0.0;
        total += ms[i];
        first_total += first[i];
    }
    printf("profile    per image: the first run, and the mean of the timed runs:\n");
    printf("  layers  %-34s %-16s %9s %9s %9s %7s\n", "op", "output", "first ms", "ms", "GFLOP/s",
            "share");
    for (int i = 0; i < in->layers;) {
        int j = i + 1;
        while (j < in->layers && group[j] == i)
            j++;
        char ops[128] = "", out[48], idx[16];
        uint64_t macs = 0;
        mnet_layer_info li;
        for (int k = i; k < j; k++) {
            check(mnet_model_get_layer(m, k, &li), "layer");
            macs += li.macs;
            const size_t len = strlen(ops);
            snprintf(ops + len, sizeof ops - len, "%s%s", k > i ? "+" : "", li.op);
        }
        snprintf(out, sizeof out, "%dx%dx%d", li.out_h, li.out_w, li.out_c);
        snprintf(idx, sizeof idx, j - i > 1 ? "%d-%d" : "%d", i, j - 1);
        printf("  %-7s %-34s %-16s %9.4f %9.4f %9.1f %6.1f%%\n", idx, ops, out, first[i], ms[i],
                ms[i] > 0 ? 2.0 * (double)macs / (ms[i] * 1e6) : 0.0,
                total > 0 ? 100.0 * ms[i] / total : 0.0);
        i = j;
    }
    printf("  total   %-34s %-16s %9.4f %9.4f\n", "", "", first_total, total);
}

static int cmd_bench(int argc, char **argv)
{
    opts o;
    parse_args(&o, argc, argv, 0);
    char label[512];
    double load_ms;
    mnet_model_info in;
    mnet_model *m = get_model(&o, label, sizeof label, &load_ms, &in);
    /* --inputs K: K distinct inputs, run r reading input r % K (the first run input 0).  One
     * input repeated (the default, as the peers' harness times) stays in cache from run to
     * run; a stream of distinct images does not. */
    const size_t n = (size_t)o.batch * in.height * in.width * in.channels;
    if (n > SIZE_MAX / sizeof(float) / (size_t)o.inputs)
        die(1, "--batch %d x --inputs %d images do not fit in memory", o.batch, o.inputs);
    float *x = malloc(n * (size_t)o.inputs * sizeof(float));
    float *y = malloc((size_t)o.batch * in.num_classes * sizeof(float));
    double *t = malloc((size_t)o.runs * sizeof(double));
    if (!x || !y || !t)
        die(1, "out of memory");
    for (size_t i = 0; i < n * (size_t)o.inputs; i++)   /* deterministic input in [-2, 2) */
        x[i] = (float)((i * 2654435761u) % 4096) / 1024.0f - 2.0f;
    double c0 = now_ms();
    mnet_context *ctx = get_context(m, &o);
    const double ctx_ms = now_ms() - c0;
    /* The first inference: its time, the page faults it took (minor and major: a fault costs
     * 10-15 us on the development VM), and with --profile its layers' times. */
    const long faults0 = page_faults();
    c0 = now_ms();
    check(mnet_context_run(ctx, o.batch, x, y), "run");
    const double first_ms = now_ms() - c0;
    const long first_faults = page_faults() - faults0;
    double *first_prof = NULL, *prof = NULL;
    int *group = NULL;
    if (o.profile) {
        first_prof = malloc((size_t)in.layers * sizeof *first_prof);
        prof = malloc((size_t)in.layers * sizeof *prof);
        group = malloc((size_t)in.layers * sizeof *group);
        if (!first_prof || !prof || !group)
            die(1, "out of memory");
        check(mnet_context_get_profile(ctx, in.layers, first_prof, NULL), "profile");
    }
    for (int r = 0; r < o.runs; r++) {
        const float *xr = x + (size_t)(r % o.inputs) * n;
        c0 = now_ms();
        check(mnet_context_run(ctx, o.batch, xr, y), "run");
        t[r] = now_ms() - c0;
    }
    if (o.profile)   /* before the flushed run below adds to it */
        check(mnet_context_get_profile(ctx, in.layers, prof, group), "profile");
    qsort(t, (size_t)o.runs, sizeof *t, cmp_double);
    const double median = o.runs % 2 ? t[o.runs / 2] : 0.5 * (t[o.runs / 2 - 1] + t[o.runs / 2]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double rss_mb = (double)ru.ru_maxrss / 1024.0;
    /* A second context on the same model, made after the timed runs (and after the peak RSS
     * above): its first inference is what a new context costs in a process that has run the model
     * before.  The first context's first inference also paid the process's first use of the
     * kernels' code, page by page and line by line (docs/PERFORMANCE.md, "What a first inference
     * still pays"). */
    c0 = now_ms();
    mnet_context *ctx2 = get_context(m, &o);
    const double ctx2_ms = now_ms() - c0;
    c0 = now_ms();
    check(mnet_context_run(ctx2, o.batch, x, y), "run");
    const double next_first_ms = now_ms() - c0;
    mnet_context_free(ctx2);
    /* The first context once more, after 64 MiB of writes (more than the L2 and the L3 slice
     * of the development machine's cores) have pushed its code, weights and tensors out of the
     * caches: what an inference costs in a process that runs the model now and then (as
     * bench_models' flushed_ms, bench/evict.h).  Made after the peak-RSS reading, so the
     * buffer does not count there. */
    double flushed_ms = -1.0;   /* -1: no memory for the 64 MiB (the other figures stand) */
    unsigned char *e = mmap(NULL, EVICT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS
            | MAP_POPULATE, -1, 0);
    if (e != MAP_FAILED) {
        evict_caches(e);
        munmap(e, EVICT_BYTES);
        c0 = now_ms();
        check(mnet_context_run(ctx, o.batch, x, y), "run");
        flushed_ms = now_ms() - c0;
    }
    const mnet_isa isa = o.isa == MNET_ISA_AUTO ? mnet_isa_selected() : o.isa;
    printf("model      %s (%s, alpha %g, %dx%d, %.1fM MACs)\n", label, arch_name(in.arch), in.alpha,
            in.height, in.width, (double)in.macs / 1e6);
    printf("isa        %s, %d thread%s, batch %d, %d runs over %d input%s\n", mnet_isa_name(isa),
            o.threads, o.threads > 1 ? "s" : "", o.batch, o.runs, o.inputs, o.inputs > 1 ? "s" : "");
    printf("load       %.2f ms%s; context %.2f ms\n", load_ms, o.path ? "" : " (random weights)",
            ctx_ms);
    printf("first      %.3f ms, %ld page faults; a second context: made in %.2f ms, its first "
            "%.3f ms\n", first_ms, first_faults, ctx2_ms, next_first_ms);
    printf("latency    median %.3f ms, min %.3f ms (%.1f images/s, %.1f GFLOP/s)\n", median, t[0],
            o.batch / (median / 1e3), 2.0 * (double)in.macs * o.batch / (median * 1e6));
    if (flushed_ms >= 0)
        printf("flushed    %.3f ms: the first context again after 64 MiB of writes evicted the "
                "caches\n", flushed_ms);
    else
        printf("flushed    not measured: no memory for the 64 MiB that flush the caches\n");
    printf("peak RSS   %.1f MB\n", rss_mb);
    if (o.profile)
        print_profile(m, &in, first_prof, prof, group, o.runs);
    free(first_prof);
    free(prof);
    free(group);
    printf("mnet-bench model=%s isa=%s threads=%d batch=%d runs=%d load_ms=%.3f first_ms=%.3f "
            "median_ms=%.3f min_ms=%.3f peak_rss_mb=%.1f inputs=%d first_faults=%ld "
            "context_ms=%.3f next_first_ms=%.3f flushed_ms=%.3f\n",
            label, mnet_isa_name(isa), o.threads, o.batch, o.runs, load_ms, first_ms, median, t[0],
            rss_mb, o.inputs, first_faults, ctx_ms, next_first_ms, flushed_ms);
    mnet_context_free(ctx);
    mnet_model_free(m);
    free(x);
    free(y);
    free(t);
    free(o.images);
    return 0;
}

/* ---- main ---- */

static const char usage_text[] =
    "usage: mnet COMMAND [options]\n"
    "  mnet isa\n"
    "      available and selected instruction sets and their kernels\n"
    "  mnet info MODEL | --arch v1|v2|v3-large|v3-small [--alpha A] [--res R] [--classes N]\n"
    "      one line per layer (op, shapes, parameters, multiply-adds) and totals\n"
    "  mnet run MODEL --input IN.f32 --output OUT.f32 [--batch N] [--threads N] [--isa X]\n"
    "      raw little-endian float32 NHWC input (preprocessed) -> raw float32 logits\n"
    "  mnet classify MODEL IMAGE... [--labels FILE] [--top K] [--threads N] [--isa X]\n"
    "  mnet classify MODEL --idx-images FILE [--idx-labels FILE] [--predictions OUT]\n"
    "      PNG / JPEG / PGM / PPM images (or an IDX set): top-K classes with probabilities\n"
    "  mnet bench MODEL | --arch v1|v2|v3-large|v3-small [--alpha A] [--res R] [--threads N] [--isa X]\n"
    "             [--batch B] [--runs N] [--inputs K] [--profile] [--no-warmup]\n"
    "      load time, first and steady latency, peak memory, the first inference of a\n"
    "      second context made afterwards, and one with the caches flushed; last line\n"
    "      machine-readable;\n"
    "      --profile: per layer (a fused group on one line), milliseconds in the first run\n"
    "      and in the timed runs, and GFLOP/s;\n"
    "      --inputs K: the runs cycle through K distinct inputs (default 1, repeated);\n"
    "      --no-warmup: contexts made without their warm-up inference\n"
    "--isa takes scalar|avx2|avx512|neon|auto; --arch models get seeded random weights (--seed S).\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    static char name[64];
    snprintf(name, sizeof name, "mnet %s", cmd);
    g_cmd = name;
    if (wants_help(argc, argv)) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "isa") == 0)
        return cmd_isa();
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc, argv);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "classify") == 0)
        return cmd_classify(argc, argv);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc, argv);
    g_cmd = "mnet";
    die(2, "unknown command '%s' (try mnet --help)", cmd);
    return 2;
}
