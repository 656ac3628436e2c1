/* bench_kernels.c - every registered micro-kernel on every MobileNet V1/V2/V3 (224x224) layer shape,
 * or on the layers of the models given with --mnet_model. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gbench_shim.h"
#include "internal.h"
#include "peak.h"

/* ---------------------------------------------------------------------------------------------
 * The kernels: one entry per line of ukernels.inc, whatever the ISA.  Every family macro is
 * defined here, so a kernel added to the list is benchmarked without touching this file.
 * ------------------------------------------------------------------------------------------- */

enum family { FAM_DWCONV3X3, FAM_CONV3X3, FAM_GEMM, FAM_BN_RELU6, FAM_GAVGPOOL, FAM_ADD,
    FAM_SOFTMAX, FAM_DWCONV5X5, FAM_HSWISH, FAM_HSIGMOID, FAM_CHANNEL_SCALE, FAM_COUNT };
static const char *const family_names[FAM_COUNT] = {
    "dwconv3x3", "conv3x3", "gemm", "bn_relu6", "gavgpool", "add", "softmax", "dwconv5x5",
    "hswish", "hsigmoid", "channel_scale"
};
static const char *const act_names[MNET_EPI_COUNT] = { "none", "hswish", "hsigmoid" };

typedef struct bench_kernel {
    enum family fam;
    mnet_isa isa;
    const char *name;
    union {   /* the same config structs lib/dispatch.c builds from the same lines */
        mnet_dwconv3x3_config dwconv3x3;
        mnet_conv3x3_config conv3x3;
        mnet_gemm_config gemm;
        mnet_bn_relu6_config bn_relu6;
        mnet_gavgpool_config gavgpool;
        mnet_add_config add;
        mnet_softmax_config softmax;
        mnet_dwconv5x5_config dwconv5x5;
        mnet_hswish_config hswish;
        mnet_hsigmoid_config hsigmoid;
        mnet_channel_scale_config channel_scale;
    } u;
} bench_kernel;

static const bench_kernel kernels[] = {
#define MNET_DWCONV3X3(tier, f, cr) \
    { .fam = FAM_DWCONV3X3, .isa = MNET_ISA_##tier, .name = #f, .u.dwconv3x3 = { f, cr, #f } },
#define MNET_CONV3X3(tier, f, cr) \
    { .fam = FAM_CONV3X3, .isa = MNET_ISA_##tier, .name = #f, .u.conv3x3 = { f, cr, #f } },
#define MNET_GEMM(tier, f, mr, nr) \
    { .fam = FAM_GEMM, .isa = MNET_ISA_##tier, .name = #f, .u.gemm = { f, mr, nr, #f } },
#define MNET_BN_RELU6(tier, f) \
    { .fam = FAM_BN_RELU6, .isa = MNET_ISA_##tier, .name = #f, .u.bn_relu6 = { f, #f } },
#define MNET_GAVGPOOL(tier, f) \
    { .fam = FAM_GAVGPOOL, .isa = MNET_ISA_##tier, .name = #f, .u.gavgpool = { f, #f } },
#define MNET_ADD(tier, f) \
    { .fam = FAM_ADD, .isa = MNET_ISA_##tier, .name = #f, .u.add = { f, #f } },
#define MNET_SOFTMAX(tier, f) \
    { .fam = FAM_SOFTMAX, .isa = MNET_ISA_##tier, .name = #f, .u.softmax = { f, #f } },
#define MNET_DWCONV5X5(tier, f, cr) \
    { .fam = FAM_DWCONV5X5, .isa = MNET_ISA_##tier, .name = #f, .u.dwconv5x5 = { f, cr, #f } },
#define MNET_HSWISH(tier, f) \
    { .fam = FAM_HSWISH, .isa = MNET_ISA_##tier, .name = #f, .u.hswish = { f, #f } },
#define MNET_HSIGMOID(tier, f) \
    { .fam = FAM_HSIGMOID, .isa = MNET_ISA_##tier, .name = #f, .u.hsigmoid = { f, #f } },
#define MNET_CHANNEL_SCALE(tier, f) \
    { .fam = FAM_CHANNEL_SCALE, .isa = MNET_ISA_##tier, .name = #f, \
      .u.channel_scale = { f, #f } },
#include "ukernels.inc"
};
#define NUM_KERNELS (sizeof kernels / sizeof kernels[0])

/* ---------------------------------------------------------------------------------------------
 * The shapes, derived from the architectures rather than typed in, then de-duplicated: a shape
 * used by several layers is benchmarked once and its label lists every layer that uses it
 * (so a whole-network estimate can weight it).  Symmetric padding k / 2 for every k x k
 * window, as in PyTorch; a 224x224 input.
 * ------------------------------------------------------------------------------------------- */

typedef struct shape {
    enum family fam;
    /* Unused fields stay 0, so that comparing all of them de-duplicates any family. */
    int h, w, c, cout, stride;   /* k x k convs: input h x w x c; elementwise: tensor h x w x c */
    int m, n, k;                 /* gemm: [m][k] x [k][n] */
    int act;                     /* convs and gemm: the fused activation (MNET_EPI_*) */
    char layer[48];              /* the first layer with this shape: part of the benchmark name */
    char layers[400];            /* every layer with it, space-separated: the label */
} shape;

#define MAX_SHAPES 400
static shape shapes[MAX_SHAPES];
static int num_shapes;

static void add_shape(shape proto, const char *fmt, int block)
{
    char layer[sizeof proto.layer];
    snprintf(layer, sizeof layer, fmt, block);
    for (int i = 0; i < num_shapes; i++) {
        shape *s = &shapes[i];
        if (s->fam == proto.fam && s->h == proto.h && s->w == proto.w && s->c == proto.c
                && s->cout == proto.cout && s->stride == proto.stride && s->m == proto.m
                && s->n == proto.n && s->k == proto.k && s->act == proto.act) {
            size_t used = strlen(s->layers);
            snprintf(s->layers + used, sizeof s->layers - used, " %s", layer);
            return;
        }
    }
    if (num_shapes == MAX_SHAPES) {
        fprintf(stderr, "bench_kernels: more than %d shapes; raise MAX_SHAPES\n", MAX_SHAPES);
        exit(1);
    }
    proto.layer[0] = proto.layers[0] = '\0';
    snprintf(proto.layer, sizeof proto.layer, "%s", layer);
    snprintf(proto.layers, sizeof proto.layers, "%s", layer);
    shapes[num_shapes++] = proto;
}

static int conv_out(int size, int stride)
{
    return (size + 2 - 3) / stride + 1;   /* 3x3, padding 1 on both sides */
}

static int conv5_out(int size, int stride)
{
    return (size + 4 - 5) / stride + 1;   /* 5x5, padding 2 on both sides */
}

static void add_stem(const char *net)
{
    char fmt[24];
    snprintf(fmt, sizeof fmt, "%s_stem", net);
    add_shape((shape){ .fam = FAM_CONV3X3, .h = 224, .w = 224, .c = 3, .cout = 32, .stride = 2 },
            fmt, 0);
    add_shape((shape){ .fam = FAM_BN_RELU6, .h = 112, .w = 112, .c = 32 }, fmt, 0);
}

/* A 3x3 depthwise layer (+ its BN/ReLU6) on an hw x hw x c input; returns the output size. */
static int add_dw(const char *fmt, int block, int hw, int c, int stride)
{
    const int o = conv_out(hw, stride);
    add_shape((shape){ .fam = FAM_DWCONV3X3, .h = hw, .w = hw, .c = c, .stride = stride },
            fmt, block);
    add_shape((shape){ .fam = FAM_BN_RELU6, .h = o, .w = o, .c = c }, fmt, block);
    return o;
}

/* A 1x1 convolution (GEMM with m = pixels), optionally followed by BN + ReLU6. */
static void add_pw(const char *fmt, int block, int hw, int cin, int cout, int relu6)
{
    add_shape((shape){ .fam = FAM_GEMM, .m = hw * hw, .n = cout, .k = cin }, fmt, block);
    if (relu6)
        add_shape((shape){ .fam = FAM_BN_RELU6, .h = hw, .w = hw, .c = cout }, fmt, block);
}

static void add_head(const char *net, int hw, int c)
{
    char fmt[24];
    snprintf(fmt, sizeof fmt, "%s_avgpool", net);
    add_shape((shape){ .fam = FAM_GAVGPOOL, .h = hw, .w = hw, .c = c }, fmt, 0);
    /* The classifier is not a 1x1 convolution, but it runs as a one-row GEMM. */
    snprintf(fmt, sizeof fmt, "%s_fc", net);
    add_shape((shape){ .fam = FAM_GEMM, .m = 1, .n = 1000, .k = c }, fmt, 0);
    snprintf(fmt, sizeof fmt, "%s_softmax", net);
    add_shape((shape){ .fam = FAM_SOFTMAX, .c = 1000 }, fmt, 0);
}

/* MobileNet V1 1.0 (Howard et al. 2017, Table 1): stem 3x3/2 -> 32, then 13 blocks of
 * dw 3x3 + pw 1x1.  Table 1 prints "s2" for the 13th depthwise, on a 7x7 input; every
 * implementation runs it at stride 1 (the head expects 7x7), and so does this. */
static void add_mobilenet_v1(void)
{
    static const struct { int cout, stride; } blocks[] = {
        { 64, 1 }, { 128, 2 }, { 128, 1 }, { 256, 2 }, { 256, 1 }, { 512, 2 },
        { 512, 1 }, { 512, 1 }, { 512, 1 }, { 512, 1 }, { 512, 1 }, { 1024, 2 }, { 1024, 1 },
    };
    int hw = 112, c = 32;
    add_stem("v1");
    for (int i = 0; i < (int)(sizeof blocks / sizeof blocks[0]); i++) {
        hw = add_dw("v1_b%d_dw", i + 1, hw, c, blocks[i].stride);
        add_pw("v1_b%d_pw", i + 1, hw, c, blocks[i].cout, 1);
        c = blocks[i].cout;
    }
    add_head("v1", hw, c);
}

/* MobileNet V2 1.0 (Sandler et al. 2018, Table 2): stem 3x3/2 -> 32, 17 inverted residual
 * blocks from the (t, c, n, s) rows, numbered b1..b17 in order; the stride applies to the
 * first block of a row.  Each block: 1x1 expand to t*cin (absent when t == 1) + BN/ReLU6,
 * 3x3 depthwise + BN/ReLU6, 1x1 project (linear), residual add when the stride is 1 and
 * cin == cout.  Then 1x1 320 -> 1280 + BN/ReLU6 and the head. */
static void add_mobilenet_v2(void)
{
    static const struct { int t, c, n, s; } rows[] = {
        { 1, 16, 1, 1 }, { 6, 24, 2, 2 }, { 6, 32, 3, 2 }, { 6, 64, 4, 2 },
        { 6, 96, 3, 1 }, { 6, 160, 3, 2 }, { 6, 320, 1, 1 },
    };
    int hw = 112, c = 32, block = 1;
    add_stem("v2");
    for (int r = 0; r < (int)(sizeof rows / sizeof rows[0]); r++) {
        for (int i = 0; i < rows[r].n; i++, block++) {
            const int stride = i == 0 ? rows[r].s : 1, hidden = c * rows[r].t;
            if (rows[r].t != 1)
                add_pw("v2_b%d_expand", block, hw, c, hidden, 1);
            const int o = add_dw("v2_b%d_dw", block, hw, hidden, stride);
            add_pw("v2_b%d_project", block, o, hidden, rows[r].c, 0);
            if (stride == 1 && c == rows[r].c)
                add_shape((shape){ .fam = FAM_ADD, .h = o, .w = o, .c = c }, "v2_b%d_add", block);
            hw = o;
            c = rows[r].c;
        }
    }
    add_pw("v2_last", 0, hw, c, 1280, 1);
    add_head("v2", hw, 1280);
}

/* MobileNet V3 (Howard et al. 2019, Tables 1 and 2), as torchvision builds it: stem 3x3/2 ->
 * 16 with h-swish, then bottlenecks (kernel, expansion, out, SE, h-swish, stride): 1x1 expand
 * (absent when the expansion equals the input) + activation, k x k depthwise + activation,
 * squeeze-and-excite (average pool, FC to make_divisible(exp / 4, 8) + ReLU, FC back +
 * h-sigmoid, channel scale), 1x1 project (linear), residual add when the stride is 1 and
 * cin == cout.  ReLU runs as the clamp; h-swish and h-sigmoid as the fused activations.  Then
 * the last 1x1 + h-swish, the average pool and the classifier's two layers. */
typedef struct { int k, exp, out, se, hs, s; } v3_block;

static int make_divisible8(int v)
{
    int d = (v + 4) / 8 * 8;
    d = d < 8 ? 8 : d;
    return 10 * d < 9 * v ? d + 8 : d;   /* never more than 10% below v */
}

static void add_mobilenet_v3(const char *net, const v3_block *blocks, int nblocks, int last,
        int hidden)
{
    char fmt[32];
    snprintf(fmt, sizeof fmt, "%s_stem", net);
    add_shape((shape){ .fam = FAM_CONV3X3, .h = 224, .w = 224, .c = 3, .cout = 16, .stride = 2,
            .act = MNET_EPI_HSWISH }, fmt, 0);
    add_shape((shape){ .fam = FAM_HSWISH, .h = 112, .w = 112, .c = 16 }, fmt, 0);
    int hw = 112, c = 16;
    for (int i = 0; i < nblocks; i++) {
        const v3_block *b = &blocks[i];
        const int act = b->hs ? MNET_EPI_HSWISH : MNET_EPI_CLAMP;
        if (b->exp != c) {
            snprintf(fmt, sizeof fmt, "%s_b%%d_expand", net);
            add_shape((shape){ .fam = FAM_GEMM, .m = hw * hw, .n = b->exp, .k = c, .act = act },
                    fmt, i + 1);
            if (b->hs)   /* the same activation standalone, for comparison with the fused one */
                add_shape((shape){ .fam = FAM_HSWISH, .h = hw, .w = hw, .c = b->exp }, fmt, i + 1);
        }
        snprintf(fmt, sizeof fmt, "%s_b%%d_dw", net);
        const int o = b->k == 5 ? conv5_out(hw, b->s) : conv_out(hw, b->s);
        add_shape((shape){ .fam = b->k == 5 ? FAM_DWCONV5X5 : FAM_DWCONV3X3, .h = hw, .w = hw,
                .c = b->exp, .stride = b->s, .act = act }, fmt, i + 1);
        if (b->se) {
            const int sq = make_divisible8(b->exp / 4);
            snprintf(fmt, sizeof fmt, "%s_b%%d_se", net);
            add_shape((shape){ .fam = FAM_GAVGPOOL, .h = o, .w = o, .c = b->exp }, fmt, i + 1);
            add_shape((shape){ .fam = FAM_GEMM, .m = 1, .n = sq, .k = b->exp }, fmt, i + 1);
            add_shape((shape){ .fam = FAM_GEMM, .m = 1, .n = b->exp, .k = sq,
                    .act = MNET_EPI_HSIGMOID }, fmt, i + 1);
            add_shape((shape){ .fam = FAM_HSIGMOID, .h = 1, .w = 1, .c = b->exp }, fmt, i + 1);
            add_shape((shape){ .fam = FAM_CHANNEL_SCALE, .h = o, .w = o, .c = b->exp }, fmt,
                    i + 1);
        }
        snprintf(fmt, sizeof fmt, "%s_b%%d_project", net);
        add_shape((shape){ .fam = FAM_GEMM, .m = o * o, .n = b->out, .k = b->exp }, fmt, i + 1);
        if (b->s == 1 && c == b->out) {
            snprintf(fmt, sizeof fmt, "%s_b%%d_add", net);
            add_shape((shape){ .fam = FAM_ADD, .h = o, .w = o, .c = c }, fmt, i + 1);
        }
        hw = o;
        c = b->out;
    }
    snprintf(fmt, sizeof fmt, "%s_last", net);
    add_shape((shape){ .fam = FAM_GEMM, .m = hw * hw, .n = last, .k = c,
            .act = MNET_EPI_HSWISH }, fmt, 0);
    snprintf(fmt, sizeof fmt, "%s_avgpool", net);
    add_shape((shape){ .fam = FAM_GAVGPOOL, .h = hw, .w = hw, .c = last }, fmt, 0);
    snprintf(fmt, sizeof fmt, "%s_fc1", net);
    add_shape((shape){ .fam = FAM_GEMM, .m = 1, .n = hidden, .k = last,
            .act = MNET_EPI_HSWISH }, fmt, 0);
    snprintf(fmt, sizeof fmt, "%s_fc2", net);
    add_shape((shape){ .fam = FAM_GEMM, .m = 1, .n = 1000, .k = hidden }, fmt, 0);
}

static void add_mobilenet_v3_large(void)
{
    static const v3_block blocks[] = {
        { 3, 16, 16, 0, 0, 1 }, { 3, 64, 24, 0, 0, 2 }, { 3, 72, 24, 0, 0, 1 },
        { 5, 72, 40, 1, 0, 2 }, { 5, 120, 40, 1, 0, 1 }, { 5, 120, 40, 1, 0, 1 },
        { 3, 240, 80, 0, 1, 2 }, { 3, 200, 80, 0, 1, 1 }, { 3, 184, 80, 0, 1, 1 },
        { 3, 184, 80, 0, 1, 1 }, { 3, 480, 112, 1, 1, 1 }, { 3, 672, 112, 1, 1, 1 },
        { 5, 672, 160, 1, 1, 2 }, { 5, 960, 160, 1, 1, 1 }, { 5, 960, 160, 1, 1, 1 },
    };
    add_mobilenet_v3("v3l", blocks, (int)(sizeof blocks / sizeof blocks[0]), 960, 1280);
}

static void add_mobilenet_v3_small(void)
{
    static const v3_block blocks[] = {
        { 3, 16, 16, 1, 0, 2 }, { 3, 72, 24, 0, 0, 2 }, { 3, 88, 24, 0, 0, 1 },
        { 5, 96, 40, 1, 1, 2 }, { 5, 240, 40, 1, 1, 1 }, { 5, 240, 40, 1, 1, 1 },
        { 5, 120, 48, 1, 1, 1 }, { 5, 144, 48, 1, 1, 1 }, { 5, 288, 96, 1, 1, 2 },
        { 5, 576, 96, 1, 1, 1 }, { 5, 576, 96, 1, 1, 1 },
    };
    add_mobilenet_v3("v3s", blocks, (int)(sizeof blocks / sizeof blocks[0]), 576, 1024);
}

/* ---------------------------------------------------------------------------------------------
 * --mnet_model=SPEC[,SPEC...]: instead of the tables above, the layers of the given models, as
 * the runtime runs them (the stem, every depthwise, every 1x1 and the classifier, each with its
 * fused activation; BatchNorm is folded into them).  SPEC is ARCH[:ALPHA[:RESOLUTION]] (ARCH
 * v1, v2, v3-large or v3-small: the model `mnet bench --arch ARCH --alpha ALPHA --res RES`
 * builds) or a .mnet file.  Its layers are named TAG_lI, I the layer's index in `mnet info`, TAG
 * the spec with ':' as '-' (v1-0.5-160) or the file's name without .mnet.  Squeeze-and-excite
 * (a one-row GEMM pair on a pooled vector) is left out, as tools/kernel_sum.py leaves it.
 * The depthwise and stem benchmarks pad symmetrically whatever the model's padding (a file's
 * TensorFlow 'SAME' stride-2 layers pad only bottom and right): the same shapes and work.
 * ------------------------------------------------------------------------------------------- */

#define SPEC_FLAG "--mnet_model="

/* tag: s with every character but letters, digits, '.', '-' and '_' made '_', at most size - 1. */
static void tag_of(char *tag, size_t size, const char *s, size_t len)
{
    size_t n = 0;
    for (; n < len && n + 1 < size; n++) {
        const char ch = s[n];
        tag[n] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
            || ch == '.' || ch == '-' || ch == '_' ? ch : ch == ':' ? '-' : '_';
    }
    tag[n] = '\0';
}

/* Whether the first len characters of s end in ".mnet". */
static int mnet_suffix(const char *s, size_t len)
{
    return len > 5 && memcmp(s + len - 5, ".mnet", 5) == 0;
}

/* Whether a spec names a file rather than an architecture: it has a '/' or ends in ".mnet". */
static int is_file_spec(const char *s, size_t len)
{
    return memchr(s, '/', len) != NULL || mnet_suffix(s, len);
}

/* The model SPEC names (len characters of spec), or NULL after a message on stderr. */
static mnet_model *model_of(const char *spec, size_t len, char *tag, size_t tag_size)
{
    char buf[1024];
    if (len == 0 || len >= sizeof buf) {
        fprintf(stderr, "bench_kernels: %s%.*s: %s\n", SPEC_FLAG, (int)(len < 64 ? len : 64), spec,
                len ? "too long" : "empty model spec (ARCH[:ALPHA[:RESOLUTION]] or FILE.mnet)");
        return NULL;
    }
    memcpy(buf, spec, len);
    buf[len] = '\0';
    mnet_model *m = NULL;
    if (is_file_spec(buf, len)) {
        const char *slash = strrchr(buf, '/'), *base = slash ? slash + 1 : buf;
        const size_t blen = strlen(base);
        tag_of(tag, tag_size, base, mnet_suffix(base, blen) ? blen - 5 : blen);
        if (mnet_model_load(buf, &m) != MNET_OK) {
            fprintf(stderr, "bench_kernels: %s%s: %s\n", SPEC_FLAG, buf, mnet_last_error());
            return NULL;
        }
        return m;
    }
    static const struct { const char *name; mnet_arch arch; } archs[] = {
        { "v1", MNET_ARCH_V1 }, { "v2", MNET_ARCH_V2 }, { "v3-large", MNET_ARCH_V3_LARGE },
        { "v3-small", MNET_ARCH_V3_SMALL },
    };
    char *alpha_s = strchr(buf, ':'), *res_s = NULL;
    if (alpha_s) {
        *alpha_s++ = '\0';
        res_s = strchr(alpha_s, ':');
        if (res_s)
            *res_s++ = '\0';
    }
    int a = -1;
    for (int i = 0; i < (int)(sizeof archs / sizeof archs[0]); i++)
        if (strcmp(buf, archs[i].name) == 0)
            a = i;
    char *end = NULL;
    const double alpha = alpha_s ? strtod(alpha_s, &end) : 1.0;
    const int alpha_ok = !alpha_s || (end != alpha_s && *end == '\0' && alpha > 0.0 && alpha <= 4.0);
    const long res = res_s ? strtol(res_s, &end, 10) : 224;
    const int res_ok = !res_s || (end != res_s && *end == '\0' && res >= 1 && res <= 1L << 20);
    if (a < 0 || !alpha_ok || !res_ok) {
        fprintf(stderr, "bench_kernels: %s%.*s: not ARCH[:ALPHA[:RESOLUTION]] (ARCH v1, v2, "
                "v3-large or v3-small; ALPHA in (0, 4]; RESOLUTION a positive integer) nor a .mnet file\n",
                SPEC_FLAG, (int)len, spec);
        return NULL;
    }
    tag_of(tag, tag_size, spec, len);
    if (mnet_model_create_random(archs[a].arch, (float)alpha, (int)res, 1000, 1, &m) != MNET_OK) {
        fprintf(stderr, "bench_kernels: %s%.*s: %s\n", SPEC_FLAG, (int)len, spec,
                mnet_last_error());
        return NULL;
    }
    return m;
}

/* The epilogue of a layer's activation: the fused ones by their names in act_names, the rest
 * (ReLU6, ReLU, none) the clamp. */
static int epi_of(const char *activation)
{
    for (int e = 0; e < MNET_EPI_COUNT; e++)
        if (e != MNET_EPI_CLAMP && strcmp(activation, act_names[e]) == 0)
            return e;
    return MNET_EPI_CLAMP;
}

/* The shapes of every model in one --mnet_model value; 0, or -1 after a message. */
static int add_model_specs(const char *list)
{
    /* a file whose name has a comma: the whole value, when it names a readable file */
    const int one_file = is_file_spec(list, strlen(list)) && access(list, R_OK) == 0;
    while (1) {
        const char *comma = one_file ? NULL : strchr(list, ',');
        const size_t len = comma ? (size_t)(comma - list) : strlen(list);
        char tag[32], fmt[48];
        mnet_model *m = model_of(list, len, tag, sizeof tag);
        if (!m)
            return -1;
        snprintf(fmt, sizeof fmt, "%s_l%%d", tag);
        mnet_model_info info;
        mnet_model_get_info(m, &info);
        for (int i = 0; i < info.layers; i++) {
            mnet_layer_info l;
            if (mnet_model_get_layer(m, i, &l) != MNET_OK)
                continue;
            const int act = epi_of(l.activation);
            if (strcmp(l.op, "conv3x3") == 0)
                add_shape((shape){ .fam = FAM_CONV3X3, .h = l.in_h, .w = l.in_w, .c = l.in_c,
                        .cout = l.out_c, .stride = l.stride, .act = act }, fmt, i);
            else if (strcmp(l.op, "dwconv3x3") == 0 || strcmp(l.op, "dwconv5x5") == 0)
                add_shape((shape){ .fam = l.op[6] == '5' ? FAM_DWCONV5X5 : FAM_DWCONV3X3,
                        .h = l.in_h, .w = l.in_w, .c = l.in_c, .stride = l.stride, .act = act },
                        fmt, i);
            else if (strcmp(l.op, "conv1x1") == 0)
                add_shape((shape){ .fam = FAM_GEMM, .m = l.out_h * l.out_w, .n = l.out_c,
                        .k = l.in_c, .act = act }, fmt, i);
            else if (strcmp(l.op, "fc") == 0)
                add_shape((shape){ .fam = FAM_GEMM, .m = 1, .n = l.out_c, .k = l.in_c,
                        .act = act }, fmt, i);
        }
        mnet_model_free(m);
        if (!comma)
            return 0;
        list = comma + 1;
    }
}

/* Takes every --mnet_model= argument out of argv (Google Benchmark refuses flags it does not
 * know) and registers its models' shapes; returns how many were given, or -1 after a message. */
static int take_model_specs(int *argc, char **argv)
{
    int given = 0, out = 1;
    for (int i = 1; i < *argc; i++) {
        if (strncmp(argv[i], SPEC_FLAG, strlen(SPEC_FLAG)) == 0) {
            if (add_model_specs(argv[i] + strlen(SPEC_FLAG)) != 0)
                return -1;
            given++;
        } else if (strcmp(argv[i], "--mnet_model") == 0) {
            fprintf(stderr, "bench_kernels: --mnet_model takes its value after '=': "
                    "%sARCH[:ALPHA[:RESOLUTION]] or %sFILE.mnet\n", SPEC_FLAG, SPEC_FLAG);
            return -1;
        } else {
            if (strcmp(argv[i], "--help") == 0)
                printf("bench_kernels: %sSPEC[,SPEC...] (repeatable): the layers of these models "
                        "instead of MobileNet V1/V2/V3 1.0 224; SPEC is ARCH[:ALPHA[:RESOLUTION]] "
                        "(v1, v2, v3-large, v3-small) or a .mnet file\n", SPEC_FLAG);
            argv[out++] = argv[i];
        }
    }
    *argc = out;
    argv[out] = NULL;
    return given;
}

/* ---------------------------------------------------------------------------------------------
 * Benchmark bodies.  Buffers are 64-byte aligned, allocated and filled once per call of a
 * body (outside the timed loop), with seeded random data so every run sees the same numbers.
 * ------------------------------------------------------------------------------------------- */

typedef struct bench_case {
    const bench_kernel *kern;
    const shape *shp;
} bench_case;

#define BENCH_SEED UINT64_C(0x6d6e657462656e63)   /* "mnetbenc" */
/* Each tier's multiply-add peak, measured at start-up (bench/peak.h), or MNET_PEAK_GFLOPS for
 * every tier: pct_peak is a kernel's GFLOP/s against its own tier's peak. */
static double g_peak_gflops[MNET_ISA_AVX512 + 1];

/* splitmix64: a fast, well-mixed generator; quality far beyond what timing data needs. */
static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void fill_uniform(uint64_t *rng, float *x, size_t count, float lo, float hi)
{
    for (size_t i = 0; i < count; i++)
        x[i] = lo + (hi - lo) * (float)(next_u64(rng) >> 40) * (1.0f / 16777216.0f);
}

/* 64-byte aligned (a cache line and a full ZMM/YMM pair), size rounded up as aligned_alloc
 * requires; the padding is never read.  The pages are touched here so the first timed
 * iteration does not pay for page faults. */
static float *alloc_floats(size_t count)
{
    size_t bytes = (count * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes);
    return p;
}

static void free_all(float **bufs, int count)
{
    for (int i = 0; i < count; i++)
        free(bufs[i]);
}

static int all_allocated(mnet_bench_state *st, float **bufs, int count)
{
    for (int i = 0; i < count; i++)
        if (!bufs[i]) {
            mnet_bench_skip_with_error(st, "out of memory");
            return 0;
        }
    return 1;
}

static void set_flop_counters(mnet_bench_state *st, const bench_case *bc, double macs)
{
    const double gflop = 2.0 * macs * 1e-9;   /* a multiply-add is 2 FLOPs */
    const int per_second = MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE;
    mnet_bench_set_counter(st, "GFLOPS", gflop, per_second);
    const double peak = g_peak_gflops[bc->kern->isa];
    if (peak > 0.0)
        mnet_bench_set_counter(st, "pct_peak", 100.0 * gflop / peak, per_second);
    mnet_bench_set_label(st, bc->shp->layers);
}

static void set_byte_counters(mnet_bench_state *st, const bench_case *bc, double bytes)
{
    const int per_second = MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE;
    mnet_bench_set_counter(st, "GBps", bytes * 1e-9, per_second);
    mnet_bench_set_label(st, bc->shp->layers);
}

/* Clamp and activation of a conv or GEMM shape: ReLU6 without an activation, none with one
 * (as MobileNet V3 runs its h-swish layers). */
static void shape_epilogue(const shape *s, float *lo, float *hi)
{
    *lo = s->act == MNET_EPI_CLAMP ? 0.0f : -INFINITY;
    *hi = s->act == MNET_EPI_CLAMP ? 6.0f : INFINITY;
}

/* Both depthwise sizes: k x k with padding k / 2 all round. */
static void bench_dwconv(mnet_bench_state *st, void *arg)
{
    const bench_case *bc = arg;
    const shape *s = bc->shp;
    const int ks = s->fam == FAM_DWCONV5X5 ? 5 : 3, taps = ks * ks;
    const mnet_dwconv3x3_ukernel fn = ks == 5 ? bc->kern->u.dwconv5x5.fn : bc->kern->u.dwconv3x3.fn;
    const int cr = ks == 5 ? bc->kern->u.dwconv5x5.cr : bc->kern->u.dwconv3x3.cr;
    const int oh = ks == 5 ? conv5_out(s->h, s->stride) : conv_out(s->h, s->stride);
    const int ow = ks == 5 ? conv5_out(s->w, s->stride) : conv_out(s->w, s->stride);
    const mnet_conv_geom g = { .h = s->h, .w = s->w, .oh = oh, .ow = ow, .stride = s->stride,
        .pad_top = ks / 2, .pad_left = ks / 2, .cin = s->c, .cout = s->c };
    float lo, hi;
    shape_epilogue(s, &lo, &hi);
    enum { IN, W, BIAS, PACKED, OUT, NBUF };
    float *b[NBUF] = {
        alloc_floats((size_t)s->h * s->w * s->c), alloc_floats((size_t)taps * s->c),
        alloc_floats((size_t)s->c), alloc_floats(mnet_packed_dwconv_floats(s->c, cr, taps)),
        alloc_floats((size_t)oh * ow * s->c + MNET_BUF_PAGE / sizeof(float)),
    };
    if (all_allocated(st, b, NBUF)) {
        uint64_t rng = BENCH_SEED;
        fill_uniform(&rng, b[IN], (size_t)s->h * s->w * s->c, -1.0f, 1.0f);
        fill_uniform(&rng, b[W], (size_t)taps * s->c, -0.5f, 0.5f);
        fill_uniform(&rng, b[BIAS], (size_t)s->c, -0.5f, 0.5f);
        mnet_pack_dwconv(s->c, cr, taps, b[W], b[BIAS], b[PACKED]);
        /* the output where the runtime's next buffer would start against the input */
        float *out = mnet_page_at(b[OUT], b[IN], MNET_BUF_COLOR);
        while (mnet_bench_keep_running(st))
            fn(&g, b[IN], b[PACKED], out, 0, oh, lo, hi, s->act);
        set_flop_counters(st, bc, (double)oh * ow * s->c * taps);
    }
    free_all(b, NBUF);
}

static void bench_conv3x3(mnet_bench_state *st, void *arg)
{
    const bench_case *bc = arg;
    const mnet_conv3x3_config *cfg = &bc->kern->u.conv3x3;
    const shape *s = bc->shp;
    const int oh = conv_out(s->h, s->stride), ow = conv_out(s->w, s->stride);
    const mnet_conv_geom g = { .h = s->h, .w = s->w, .oh = oh, .ow = ow, .stride = s->stride,
        .pad_top = 1, .pad_left = 1, .cin = s->c, .cout = s->cout };
    const size_t in_n = (size_t)s->h * s->w * s->c, w_n = (size_t)s->cout * 9 * s->c;
    float lo, hi;
    shape_epilogue(s, &lo, &hi);
    enum { IN, W, BIAS, PACKED, OUT, NBUF };
    float *b[NBUF] = {
        alloc_floats(in_n), alloc_floats(w_n), alloc_floats((size_t)s->cout),
        alloc_floats(mnet_packed_conv3x3_floats(s->c, s->cout, cfg->cr)),
        alloc_floats((size_t)oh * ow * s->cout),
    };
    if (all_allocated(st, b, NBUF)) {
        uint64_t rng = BENCH_SEED;
        fill_uniform(&rng, b[IN], in_n, -1.0f, 1.0f);
        fill_uniform(&rng, b[W], w_n, -0.3f, 0.3f);
        fill_uniform(&rng, b[BIAS], (size_t)s->cout, -0.5f, 0.5f);
        mnet_pack_conv3x3(s->c, s->cout, cfg->cr, b[W], b[BIAS], b[PACKED]);
        while (mnet_bench_keep_running(st))
            cfg->fn(&g, b[IN], b[PACKED], b[OUT], 0, oh, lo, hi, s->act);
        set_flop_counters(st, bc, (double)oh * ow * s->cout * 9 * s->c);
    }
    free_all(b, NBUF);
}

/* Through the driver, as the library runs a 1x1 layer: the L2 blocking is part of the cost. */
static void bench_gemm(mnet_bench_state *st, void *arg)
{
    const bench_case *bc = arg;
    const mnet_gemm_config *cfg = &bc->kern->u.gemm;
    const shape *s = bc->shp;
    const size_t m = (size_t)s->m, n = (size_t)s->n, k = (size_t)s->k;
    float lo, hi;
    shape_epilogue(s, &lo, &hi);
    enum { A, B, BIAS, PACKED, C, NBUF };
    float *b[NBUF] = {
        alloc_floats(m * k), alloc_floats(k * n), alloc_floats(n),
        alloc_floats(mnet_packed_gemm_floats(s->k, s->n, cfg->nr)), alloc_floats(m * n),
    };
    if (all_allocated(st, b, NBUF)) {
        uint64_t rng = BENCH_SEED;
        const float wscale = 1.0f / sqrtf((float)k);   /* keeps outputs O(1), inside the clamp */
        fill_uniform(&rng, b[A], m * k, -1.0f, 1.0f);
        fill_uniform(&rng, b[B], k * n, -wscale, wscale);
        fill_uniform(&rng, b[BIAS], n, -0.5f, 0.5f);
        mnet_pack_gemm(s->k, s->n, cfg->nr, b[B], b[BIAS], b[PACKED]);
        while (mnet_bench_keep_running(st))
            mnet_gemm_run(cfg, 0, m, n, k, b[A], k, b[PACKED], b[C], n, lo, hi, s->act);
        set_flop_counters(st, bc, (double)m * n * k);
    }
    free_all(b, NBUF);
}

static void bench_bn_relu6(mnet_bench_state *st, void *arg)
{
    const bench_case *bc = arg;
    const mnet_bn_relu6_config *cfg = &bc->kern->u.bn_relu6;
    const size_t pixels = (size_t)bc->shp->h * bc->shp->w, c = (size_t)bc->shp->c;
    enum { X, SCALE, SHIFT, Y, NBUF };
    float *b[NBUF] = {
        alloc_floats(pixels * c), alloc_floats(c), alloc_floats(c), alloc_floats(pixels * c),
    };
    if (all_allocated(st, b, NBUF)) {
        uint64_t rng = BENCH_SEED;
        fill_uniform(&rng, b[X], pixels * c, -8.0f, 8.0f);   /* both clamp edges bite */
        fill_uniform(&rng, b[SCALE], c, 0.5f, 1.5f);
        fill_uniform(&rng, b[SHIFT], c, -1.0f, 1.0f);
        while (mnet_bench_keep_running(st))
            cfg->fn(pixels, c, b[X], b[SCALE], b[SHIFT], b[Y]);
        set_byte_counters(st, bc, (2.0 * pixels * c + 2.0 * c) * sizeof(float));
    }
    free_all(b, NBUF);
}

static void bench_gavgpool(mnet_bench_state *st, void *arg)
{
    const bench_case *bc = arg;
    const mnet_gavgpool_config *cfg = &bc->kern->u.gavgpool;
    const size_t pixels = (size_t)bc->shp->h * bc->shp->w, c = (size_t)bc->shp->c;
    enum { IN, OUT, NBUF };
    float *b[NBUF] = { alloc_floats(pixels * c), alloc_floats(c) };
    if (all_allocated(st, b, NBUF)) {
        uint64_t rng = BENCH_SEED;
        fill_uniform(&rng, b[IN], pixels * c, 0.0f, 6.0f);
        while (mnet_bench_keep_running(st))
            cfg->fn(pixels, c, b[IN], b[OUT]);
        set_byte_counters(st, bc, (double)(pixels * c + c) * sizeof(float));
    }
    free_all(b, NBUF);
}

/* The V2 residual: out = a + b with no activation after it (clamp to +-infinity). */
static void bench_add(mnet_bench_state *st, void *arg)
{
    const bench_case *bc = arg;
    const mnet_add_config *cfg = &bc->kern->u.add;
    const size_t count = (size_t)bc->shp->h * bc->shp->w * bc->shp->c;
    enum { A, B, OUT, NBUF };
    float *b[NBUF] = { alloc_floats(count), alloc_floats(count), alloc_floats(count) };
    if (all_allocated(st, b, NBUF)) {
        uint64_t rng = BENCH_SEED;
        fill_uniform(&rng, b[A], count, -4.0f, 4.0f);
        fill_uniform(&rng, b[B], count, -4.0f, 4.0f);
        while (mnet_bench_keep_running(st))
            cfg->fn(count, b[A], b[B], -INFINITY, INFINITY, b[OUT]);
        set_byte_counters(st, bc, 3.0 * count * sizeof(float));
    }
    free_all(b, NBUF);
}

static void bench_softmax(mnet_bench_state *st, void *arg)
{
    const bench_case *bc = arg;
    const mnet_softmax_config *cfg = &bc->kern->u.softmax;
    const size_t c = (size_t)bc->shp->c;
    enum { IN, OUT, NBUF };
    float *b[NBUF] = { alloc_floats(c), alloc_floats(c) };
    if (all_allocated(st, b, NBUF)) {
        uint64_t rng = BENCH_SEED;
        fill_uniform(&rng, b[IN], c, -10.0f, 10.0f);   /* logits-like spread */
        while (mnet_bench_keep_running(st))
            cfg->fn(c, b[IN], b[OUT]);
        set_byte_counters(st, bc, 2.0 * c * sizeof(float));
    }
    free_all(b, NBUF);
}

/* h-swish or h-sigmoid over a tensor, in place as a network would run it standalone. */
static void bench_hact(mnet_bench_state *st, void *arg)
{
    const bench_case *bc = arg;
    const mnet_hswish_ukernel fn = bc->shp->fam == FAM_HSWISH ? bc->kern->u.hswish.fn
                                                              : bc->kern->u.hsigmoid.fn;
    const size_t count = (size_t)bc->shp->h * bc->shp->w * bc->shp->c;
    enum { X, NBUF };
    float *b[NBUF] = { alloc_floats(count) };
    if (all_allocated(st, b, NBUF)) {
        uint64_t rng = BENCH_SEED;
        fill_uniform(&rng, b[X], count, -2.0f, 2.0f);   /* in place: stays in (-3, 3) */
        while (mnet_bench_keep_running(st))
            fn(count, b[X], b[X]);
        set_byte_counters(st, bc, 2.0 * count * sizeof(float));
    }
    free_all(b, NBUF);
}

static void bench_channel_scale(mnet_bench_state *st, void *arg)
{
    const bench_case *bc = arg;
    const mnet_channel_scale_config *cfg = &bc->kern->u.channel_scale;
    const size_t pixels = (size_t)bc->shp->h * bc->shp->w, c = (size_t)bc->shp->c;
    enum { X, SCALE, Y, NBUF };
    float *b[NBUF] = { alloc_floats(pixels * c), alloc_floats(c), alloc_floats(pixels * c) };
    if (all_allocated(st, b, NBUF)) {
        uint64_t rng = BENCH_SEED;
        fill_uniform(&rng, b[X], pixels * c, -4.0f, 4.0f);
        fill_uniform(&rng, b[SCALE], c, 0.0f, 1.0f);   /* h-sigmoid outputs */
        while (mnet_bench_keep_running(st))
            cfg->fn(pixels, c, b[X], b[SCALE], b[Y]);
        set_byte_counters(st, bc, (2.0 * pixels * c + c) * sizeof(float));
    }
    free_all(b, NBUF);
}

static const mnet_bench_fn bodies[FAM_COUNT] = {
    [FAM_DWCONV3X3] = bench_dwconv, [FAM_CONV3X3] = bench_conv3x3, [FAM_GEMM] = bench_gemm,
    [FAM_BN_RELU6] = bench_bn_relu6, [FAM_GAVGPOOL] = bench_gavgpool, [FAM_ADD] = bench_add,
    [FAM_SOFTMAX] = bench_softmax, [FAM_DWCONV5X5] = bench_dwconv, [FAM_HSWISH] = bench_hact,
    [FAM_HSIGMOID] = bench_hact, [FAM_CHANNEL_SCALE] = bench_channel_scale,
};

/* ---------------------------------------------------------------------------------------------
 * Registration: family, then kernel, then shape in network order.
 * ------------------------------------------------------------------------------------------- */

static void format_dims(char *buf, size_t size, const shape *s)
{
    int used = 0;
    switch (s->fam) {
    case FAM_DWCONV3X3:
    case FAM_DWCONV5X5:
        used = snprintf(buf, size, "h=%d,w=%d,c=%d,s=%d", s->h, s->w, s->c, s->stride);
        break;
    case FAM_CONV3X3:
        used = snprintf(buf, size, "h=%d,w=%d,cin=%d,cout=%d,s=%d", s->h, s->w, s->c, s->cout,
                s->stride);
        break;
    case FAM_GEMM:
        used = snprintf(buf, size, "m=%d,n=%d,k=%d", s->m, s->n, s->k);
        break;
    case FAM_SOFTMAX:
        snprintf(buf, size, "c=%d", s->c);
        break;
    default:
        snprintf(buf, size, "h=%d,w=%d,c=%d", s->h, s->w, s->c);
        break;
    }
    if (s->act != MNET_EPI_CLAMP && used > 0 && (size_t)used < size)
        snprintf(buf + used, size - (size_t)used, ",act=%s", act_names[s->act]);
}

/* MNET_PEAK_GFLOPS (one figure for every tier), else each tier measured here. */
static void set_peaks(void)
{
    const char *env = getenv("MNET_PEAK_GFLOPS");
    double fixed = 0.0;
    if (env && *env) {
        char *end;
        fixed = strtod(env, &end);
        if (*end != '\0' || !(fixed > 0.0) || !isfinite(fixed)) {
            fprintf(stderr, "bench_kernels: MNET_PEAK_GFLOPS=%s is not a positive number; "
                    "measuring each tier's peak instead\n", env);
            fixed = 0.0;
        }
    }
    for (int isa = MNET_ISA_SCALAR; isa <= MNET_ISA_AVX512; isa++)
        g_peak_gflops[isa] = fixed > 0.0 && mnet_isa_available((mnet_isa)isa) ? fixed :
            peak_gflops((mnet_isa)isa);
}

int main(int argc, char **argv)
{
    const int specs = take_model_specs(&argc, argv);
    if (specs < 0)
        return 2;
    if (specs == 0) {
        add_mobilenet_v1();
        add_mobilenet_v2();
        add_mobilenet_v3_large();
        add_mobilenet_v3_small();
    }
    set_peaks();

    bench_case *cases = malloc(NUM_KERNELS * (size_t)num_shapes * sizeof *cases);
    if (!cases) {
        fprintf(stderr, "bench_kernels: out of memory\n");
        return 1;
    }
    enum { LIST_MAX = 1024 };
    char run[LIST_MAX] = "", skipped[LIST_MAX] = "";
    size_t ncases = 0;
    for (int fam = 0; fam < FAM_COUNT; fam++) {
        for (size_t ki = 0; ki < NUM_KERNELS; ki++) {
            const bench_kernel *kern = &kernels[ki];
            if ((int)kern->fam != fam)
                continue;
            /* A kernel this CPU cannot run is listed in the context, not silently dropped. */
            char *list = mnet_isa_available(kern->isa) ? run : skipped;
            size_t used = strlen(list);
            snprintf(list + used, LIST_MAX - used, "%s%s", used ? " " : "", kern->name);
            if (list == skipped)
                continue;
            for (int si = 0; si < num_shapes; si++) {
                const shape *s = &shapes[si];
                if ((int)s->fam != fam)
                    continue;
                char dims[96], name[256];
                format_dims(dims, sizeof dims, s);
                snprintf(name, sizeof name, "%s/%s/%s/%s", family_names[fam], kern->name,
                        s->layer, dims);
                cases[ncases] = (bench_case){ kern, s };
                mnet_bench_register(name, bodies[fam], &cases[ncases], NULL);
                ncases++;
            }
        }
    }

    char peak[160] = "";
    for (int isa = MNET_ISA_SCALAR; isa <= MNET_ISA_AVX512; isa++) {
        const size_t used = strlen(peak);
        if (g_peak_gflops[isa] > 0.0)
            snprintf(peak + used, sizeof peak - used, "%s%s=%.3f", used ? " " : "",
                    mnet_isa_name((mnet_isa)isa), g_peak_gflops[isa]);
    }
    mnet_bench_add_context("mnet_version", mnet_version_string());
    mnet_bench_add_context("mnet_isa_selected", mnet_isa_name(mnet_isa_selected()));
    mnet_bench_add_context("mnet_peak_gflops", peak);
    mnet_bench_add_context("mnet_kernels", run);
    if (skipped[0])
        mnet_bench_add_context("mnet_kernels_skipped", skipped);

    const int status = mnet_bench_main(argc, argv);
    free(cases);
    return status;
}
