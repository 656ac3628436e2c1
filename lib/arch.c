/* arch.c - MobileNet V1, V2 and V3 as layer lists: channel rules, padding, costs, buffer plan. */
#include <math.h>
#include <stdlib.h>

#include "model.h"

/* V1, TF-slim: max(int(c * alpha), 8). */
static int v1_channels(int c, double alpha)
{
    const int v = (int)(c * alpha);
    return v < 8 ? 8 : v;
}

/* V2, torchvision's _make_divisible(v, 8): nearest multiple of 8, at least 8, never more than
 * 10% below v.  Computed in double, as Python does, from the file's double alpha. */
static int v2_divisible(double v)
{
    long nv = (long)(v + 4.0) / 8 * 8;
    if (nv < 8)
        nv = 8;
    if ((double)nv < 0.9 * v)
        nv += 8;
    return (int)nv;
}

typedef struct {
    mnet_layer *l;
    int n, cap;
    int h, w, c;      /* current activation */
    int padding;
    mnet_act act;
} builder;

static mnet_layer *push(builder *b, mnet_op op, int cout, int stride, mnet_act act)
{
    mnet_layer *l = &b->l[b->n++];
    *l = (mnet_layer){ .op = op, .cin = b->c, .cout = cout, .stride = stride, .in_h = b->h,
        .in_w = b->w, .act = act, .res_from = -1 };
    const int k = mnet_layer_ksize(l);
    if (k > 1) {
        /* Both conventions give ceil(in / stride) outputs; they differ in where the pad goes. */
        l->out_h = (b->h + stride - 1) / stride;
        l->out_w = (b->w + stride - 1) / stride;
        if (b->padding == MNET_PAD_SYMMETRIC) {
            l->pad_top = l->pad_left = l->pad_bottom = l->pad_right = k / 2;
        } else {   /* TF 'SAME': total = (out - 1) * s + k - in, the odd one at bottom/right */
            const int th = (l->out_h - 1) * stride + k - b->h, tw = (l->out_w - 1) * stride + k - b->w;
            l->pad_top = th / 2;
            l->pad_bottom = th - th / 2;
            l->pad_left = tw / 2;
            l->pad_right = tw - tw / 2;
        }
    } else if (op == MNET_OP_FC) {   /* on the pooled tensor or the previous FC's vector */
        l->out_h = l->out_w = 1;
    } else {
        l->out_h = b->h;
        l->out_w = b->w;
    }
    if (mnet_op_is_dw(op))
        l->cout = b->c;
    if (op == MNET_OP_SE_REDUCE || op == MNET_OP_SE_EXPAND)
        return l;   /* the tensor keeps its shape (SE_EXPAND scales it in place) */
    b->h = l->out_h;
    b->w = l->out_w;
    b->c = l->cout;
    return l;
}

const char *mnet_op_name(mnet_op op)
{
    switch (op) {
    case MNET_OP_CONV3X3: return "conv3x3";
    case MNET_OP_DW3X3: return "dwconv3x3";
    case MNET_OP_PW: return "conv1x1";
    case MNET_OP_FC: return "fc";
    case MNET_OP_DW5X5: return "dwconv5x5";
    case MNET_OP_SE_REDUCE: return "se_reduce";
    case MNET_OP_SE_EXPAND: return "se_expand";
    }
    return "?";
}

const char *mnet_act_name(mnet_act act)
{
    switch (act) {
    case MNET_ACT_NONE: return "none";
    case MNET_ACT_RELU6: return "relu6";
    case MNET_ACT_RELU: return "relu";
    case MNET_ACT_HSWISH: return "hswish";
    case MNET_ACT_HSIGMOID: return "hsigmoid";
    }
    return "?";
}

int mnet_layer_ksize(const mnet_layer *l)
{
    return l->op == MNET_OP_CONV3X3 || l->op == MNET_OP_DW3X3 ? 3 : l->op == MNET_OP_DW5X5 ? 5 : 1;
}

uint64_t mnet_layer_macs(const mnet_layer *l)
{
    const uint64_t px = (uint64_t)l->out_h * (uint64_t)l->out_w;
    switch (l->op) {
    case MNET_OP_CONV3X3: return px * (uint64_t)l->cout * 9 * (uint64_t)l->cin;
    case MNET_OP_DW3X3: return px * (uint64_t)l->cout * 9;
    case MNET_OP_DW5X5: return px * (uint64_t)l->cout * 25;
    case MNET_OP_PW: return px * (uint64_t)l->cout * (uint64_t)l->cin;
    case MNET_OP_FC:
    case MNET_OP_SE_REDUCE: return (uint64_t)l->cout * (uint64_t)l->cin;
    case MNET_OP_SE_EXPAND: return (uint64_t)l->cout * (uint64_t)l->cin + px * (uint64_t)l->cout;
    }
    return 0;
}

size_t mnet_layer_weight_floats(const mnet_layer *l)
{
    switch (l->op) {
    case MNET_OP_CONV3X3: return (size_t)l->cout * 9 * (size_t)l->cin;
    case MNET_OP_DW3X3: return (size_t)l->cout * 9;
    case MNET_OP_DW5X5: return (size_t)l->cout * 25;
    case MNET_OP_PW:
    case MNET_OP_FC:
    case MNET_OP_SE_REDUCE:
    case MNET_OP_SE_EXPAND: return (size_t)l->cout * (size_t)l->cin;
    }
    return 0;
}

uint64_t mnet_layer_params(const mnet_layer *l)
{
    const int biased = l->op == MNET_OP_FC || l->op == MNET_OP_SE_REDUCE || l->op == MNET_OP_SE_EXPAND;
    return mnet_layer_weight_floats(l) + (biased ? (uint64_t)l->cout : 0);
}

/* Give every layer an output buffer that is neither its input nor a residual source a later
 * layer still needs.  Three buffers suffice for V2: block input (kept), expanded, depthwise. */
void mnet_plan_buffers(mnet_layer *l, int n, size_t buf_floats[MNET_NUM_BUFS])
{
    int cur = -1;   /* buffer holding the current activation; -1 = the caller's input */
    for (int i = 0; i < MNET_NUM_BUFS; i++)
        buf_floats[i] = 0;
    for (int i = 0; i < n; i++) {
        l[i].in_buf = cur;
        if (l[i].op == MNET_OP_FC) {   /* pools its input into the context, writes a vector */
            l[i].out_buf = -1;
            continue;
        }
        if (l[i].op == MNET_OP_SE_REDUCE || l[i].op == MNET_OP_SE_EXPAND) {
            l[i].out_buf = cur;   /* reads the tensor / scales it in place */
            continue;
        }
        int keep = -2;
        for (int j = i; j < n; j++)
            if (l[j].res_from >= 0 && l[j].res_from <= i) {
                keep = l[l[j].res_from].in_buf;
                break;
            }
        /* Layers that may run fused (lib/context.c) must not overwrite what the group still
         * reads, when a buffer is left for it: a depthwise after a 1x1 avoids the 1x1's
         * input; a 1x1 after a depthwise avoids the depthwise's input or, where that
         * depthwise follows an expanding 1x1 (one not fed by a depthwise: V2/V3 blocks, fused
         * as 1x1 -> depthwise -> 1x1), that 1x1's input. */
        int avoid = -2;
        if (i > 0 && l[i - 1].op == MNET_OP_PW && mnet_op_is_dw(l[i].op))
            avoid = l[i - 1].in_buf;
        if (i > 0 && l[i].op == MNET_OP_PW && mnet_op_is_dw(l[i - 1].op))
            avoid = i > 1 && l[i - 2].op == MNET_OP_PW && !(i > 2 && mnet_op_is_dw(l[i - 3].op)) ?
                l[i - 2].in_buf : l[i - 1].in_buf;
        int out = 0;
        while (out == cur || out == keep || out == avoid)
            out++;
        if (out >= MNET_NUM_BUFS)
            for (out = 0; out == cur || out == keep;)
                out++;
        l[i].out_buf = out;
        const size_t floats = (size_t)l[i].out_h * l[i].out_w * l[i].cout;
        if (floats > buf_floats[out])
            buf_floats[out] = floats;
        cur = out;
    }
}

/* V3 bneck rows, torchvision's _mobilenet_v3_conf (paper Tables 1 and 2): input, kernel,
 * expanded and output channels (before the width multiplier), SE, h-swish, stride. */
typedef struct { short in, k, exp, out; char se, hs, stride; } v3_bneck;
static const v3_bneck v3_large[] = {
    { 16, 3, 16, 16, 0, 0, 1 }, { 16, 3, 64, 24, 0, 0, 2 }, { 24, 3, 72, 24, 0, 0, 1 },
    { 24, 5, 72, 40, 1, 0, 2 }, { 40, 5, 120, 40, 1, 0, 1 }, { 40, 5, 120, 40, 1, 0, 1 },
    { 40, 3, 240, 80, 0, 1, 2 }, { 80, 3, 200, 80, 0, 1, 1 }, { 80, 3, 184, 80, 0, 1, 1 },
    { 80, 3, 184, 80, 0, 1, 1 }, { 80, 3, 480, 112, 1, 1, 1 }, { 112, 3, 672, 112, 1, 1, 1 },
    { 112, 5, 672, 160, 1, 1, 2 }, { 160, 5, 960, 160, 1, 1, 1 }, { 160, 5, 960, 160, 1, 1, 1 },
};
static const v3_bneck v3_small[] = {
    { 16, 3, 16, 16, 1, 0, 2 }, { 16, 3, 72, 24, 0, 0, 2 }, { 24, 3, 88, 24, 0, 0, 1 },
    { 24, 5, 96, 40, 1, 1, 2 }, { 40, 5, 240, 40, 1, 1, 1 }, { 40, 5, 240, 40, 1, 1, 1 },
    { 40, 5, 120, 48, 1, 1, 1 }, { 48, 5, 144, 48, 1, 1, 1 }, { 48, 5, 288, 96, 1, 1, 2 },
    { 96, 5, 576, 96, 1, 1, 1 }, { 96, 5, 576, 96, 1, 1, 1 },
};

static void build_v3(builder *b, int large, double alpha)
{
    const v3_bneck *cfg = large ? v3_large : v3_small;
    const int n = large ? (int)(sizeof v3_large / sizeof *cfg) : (int)(sizeof v3_small / sizeof *cfg);
    push(b, MNET_OP_CONV3X3, v2_divisible(16 * alpha), 2, MNET_ACT_HSWISH);
    for (int i = 0; i < n; i++) {
        const v3_bneck *r = &cfg[i];
        const int in = v2_divisible(r->in * alpha), exp = v2_divisible(r->exp * alpha);
        const int out = v2_divisible(r->out * alpha), first = b->n;
        const mnet_act act = r->hs ? MNET_ACT_HSWISH : MNET_ACT_RELU;
        if (exp != in)
            push(b, MNET_OP_PW, exp, 1, act);
        push(b, r->k == 5 ? MNET_OP_DW5X5 : MNET_OP_DW3X3, 0, r->stride, act);
        if (r->se) {
            const int sq = v2_divisible((double)(exp / 4));
            push(b, MNET_OP_SE_REDUCE, sq, 1, MNET_ACT_RELU);
            mnet_layer *e = push(b, MNET_OP_SE_EXPAND, exp, 1, MNET_ACT_HSIGMOID);
            e->cin = sq;
        }
        mnet_layer *proj = push(b, MNET_OP_PW, out, 1, MNET_ACT_NONE);
        if (r->stride == 1 && in == out)
            proj->res_from = first;
    }
    push(b, MNET_OP_PW, 6 * b->c, 1, MNET_ACT_HSWISH);
    push(b, MNET_OP_FC, v2_divisible((large ? 1280 : 1024) * alpha), 1, MNET_ACT_HSWISH);
}

mnet_status mnet_arch_build(int arch, double alpha, int h, int w, int channels, int classes,
        int act_code, int padding, mnet_layer **layers, int *num_layers)
{
    const int v3 = arch == MNET_ARCH_V3_LARGE || arch == MNET_ARCH_V3_SMALL;
    if (arch != MNET_ARCH_V1 && arch != MNET_ARCH_V2 && !v3)
        return mnet_error(MNET_ERR_UNSUPPORTED, "architecture %d is not V1 (1), V2 (2), V3 Large "
                "(3) or V3 Small (4)", arch);
    if (!(alpha > 0.0) || !(alpha <= 16.0))
        return mnet_error(MNET_ERR_ARG, "width multiplier %g is not in (0, 16]", alpha);
    if (h < 32 || w < 32 || h > 16384 || w > 16384)
        return mnet_error(MNET_ERR_ARG, "input size %dx%d is not within 32..16384", h, w);
    if (channels != 1 && channels != 3)
        return mnet_error(MNET_ERR_UNSUPPORTED, "input channels %d: only 1 or 3 are supported",
                channels);
    if (classes < 1 || classes > (1 << 20))
        return mnet_error(MNET_ERR_ARG, "%d classes is not within 1..%d", classes, 1 << 20);
    if (act_code != MNET_FILE_ACT_RELU6 && (act_code != MNET_FILE_ACT_RELU || v3))
        return mnet_error(MNET_ERR_ARG, "activation code %d is not %s", act_code,
                v3 ? "0 (V3's activations are fixed by its architecture)" : "0 (ReLU6) or 1 (ReLU)");
    if (padding != MNET_PAD_SYMMETRIC && padding != MNET_PAD_TF_SAME)
        return mnet_error(MNET_ERR_ARG, "padding code %d is not 0 (symmetric) or 1 (TF SAME)",
                padding);
    /* Channel counts grow with alpha: at 16 the widest V2 layer has 6 * 16 * 320 channels,
     * and with h, w <= 16384 every activation count stays far below 2^62. */
    builder b = { .cap = 96, .h = h, .w = w, .c = channels, .padding = padding,
        .act = act_code == MNET_FILE_ACT_RELU ? MNET_ACT_RELU : MNET_ACT_RELU6 };
    b.l = calloc((size_t)b.cap, sizeof *b.l);
    if (!b.l)
        return mnet_error(MNET_ERR_NOMEM, "no memory for the layer list");

    if (arch == MNET_ARCH_V1) {
        static const int cfg[13][2] = { { 64, 1 }, { 128, 2 }, { 128, 1 }, { 256, 2 }, { 256, 1 },
            { 512, 2 }, { 512, 1 }, { 512, 1 }, { 512, 1 }, { 512, 1 }, { 512, 1 },
            { 1024, 2 }, { 1024, 1 } };
        push(&b, MNET_OP_CONV3X3, v1_channels(32, alpha), 2, b.act);
        for (int i = 0; i < 13; i++) {
            push(&b, MNET_OP_DW3X3, 0, cfg[i][1], b.act);
            push(&b, MNET_OP_PW, v1_channels(cfg[i][0], alpha), 1, b.act);
        }
    } else if (v3) {
        build_v3(&b, arch == MNET_ARCH_V3_LARGE, alpha);
    } else {
        static const int cfg[7][4] = { { 1, 16, 1, 1 }, { 6, 24, 2, 2 }, { 6, 32, 3, 2 },
            { 6, 64, 4, 2 }, { 6, 96, 3, 1 }, { 6, 160, 3, 2 }, { 6, 320, 1, 1 } };
        push(&b, MNET_OP_CONV3X3, v2_divisible(32 * alpha), 2, b.act);
        for (int g = 0; g < 7; g++) {
            const int t = cfg[g][0], out = v2_divisible(cfg[g][1] * alpha);
            for (int i = 0; i < cfg[g][2]; i++) {
                const int stride = i == 0 ? cfg[g][3] : 1, in = b.c, first = b.n;
                if (t != 1)
                    push(&b, MNET_OP_PW, in * t, 1, b.act);   /* expand */
                push(&b, MNET_OP_DW3X3, 0, stride, b.act);
                mnet_layer *proj = push(&b, MNET_OP_PW, out, 1, MNET_ACT_NONE);   /* linear */
                if (stride == 1 && in == out)
                    proj->res_from = first;
            }
        }
        push(&b, MNET_OP_PW, v2_divisible(1280 * (alpha > 1.0 ? alpha : 1.0)), 1, b.act);
    }
    mnet_layer *fc = push(&b, MNET_OP_FC, classes, 1, MNET_ACT_NONE);
    /* The classifier in slices (see MNET_FC_SLICE) after a 1x1 of enough FLOPs per byte of
     * its weights: 2 pixels cin FLOPs a channel against 4 cout bytes. */
    const mnet_layer *pw = &b.l[b.n - 2];
    if (pw->op == MNET_OP_PW && fc->cin > MNET_FC_SLICE && 2.0 * pw->out_h * pw->out_w * pw->cin >=
            MNET_HEAD_FLOP_PER_BYTE * 4.0 * fc->cout)
        fc->k_slice = MNET_FC_SLICE;

    *layers = b.l;
    *num_layers = b.n;
    return MNET_OK;
}
