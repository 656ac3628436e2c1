/* api_kernels.c - the public kernel calls: validate everything, then run the table's kernel.
 * Nothing the caller owns is written before every check has passed. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

static mnet_status get_table(const char *fn, mnet_isa isa, const mnet_kernels **out)
{
    if ((unsigned)isa > MNET_ISA_AVX512)
        return mnet_error(MNET_ERR_ARG, "%s: isa %d is not a valid mnet_isa", fn, (int)isa);
    *out = mnet_kernels_for(isa);
    if (!*out)
        return mnet_error(MNET_ERR_UNSUPPORTED, "%s: isa '%s' is not available in this build or "
                "on this CPU", fn, mnet_isa_name(isa));
    return MNET_OK;
}

/* *bytes = product of the factors * sizeof(float), failing past PTRDIFF_MAX. */
static mnet_status tensor_bytes(const char *fn, const char *what, size_t *bytes, size_t f0,
        size_t f1, size_t f2, size_t f3)
{
    size_t b = sizeof(float);
    if (!mnet_mul_size(&b, b, f0) || !mnet_mul_size(&b, b, f1) || !mnet_mul_size(&b, b, f2) ||
            !mnet_mul_size(&b, b, f3))
        return mnet_error(MNET_ERR_ARG, "%s: %s would exceed PTRDIFF_MAX bytes", fn, what);
    *bytes = b;
    return MNET_OK;
}

static int overlap(const void *a, size_t abytes, const void *b, size_t bbytes)
{
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return pa < pb + bbytes && pb < pa + abytes;
}

#define CHECK_PTR(fn, p) \
    do { if (!(p)) return mnet_error(MNET_ERR_ARG, "%s: %s is NULL", fn, #p); } while (0)
#define CHECK_POS(fn, v) \
    do { if ((v) < 1) return mnet_error(MNET_ERR_ARG, "%s: %s must be >= 1 (got %lld)", fn, #v, \
            (long long)(v)); } while (0)
#define TRY(expr) do { mnet_status s_ = (expr); if (s_ != MNET_OK) return s_; } while (0)

static mnet_status check_clamp(const char *fn, float lo, float hi)
{
    if (isnan(lo) || isnan(hi) || lo > hi)
        return mnet_error(MNET_ERR_ARG, "%s: clamp [%g, %g] is empty or NaN", fn, lo, hi);
    return MNET_OK;
}

/* The public activations are the kernels' epilogues, value for value. */
_Static_assert((int)MNET_ACTIVATION_NONE == MNET_EPI_CLAMP &&
        (int)MNET_ACTIVATION_HSWISH == MNET_EPI_HSWISH &&
        (int)MNET_ACTIVATION_HSIGMOID == MNET_EPI_HSIGMOID && MNET_EPI_COUNT == 3,
        "mnet_activation and MNET_EPI_* must agree");

static mnet_status check_act(const char *fn, mnet_activation act)
{
    if ((unsigned)act >= MNET_EPI_COUNT)
        return mnet_error(MNET_ERR_ARG, "%s: act %d is not a valid mnet_activation", fn,
                (int)act);
    return MNET_OK;
}

/* Validate a ks x ks (3 or 5) convolution's parameters and derive the output size. */
static mnet_status conv_geom(const char *fn, int ks, const mnet_conv_params *p, int h, int w,
        mnet_conv_geom *g)
{
    CHECK_PTR(fn, p);
    if (p->stride != 1 && p->stride != 2)
        return mnet_error(MNET_ERR_ARG, "%s: stride must be 1 or 2 (got %d)", fn, p->stride);
    const int pads[4] = { p->pad_top, p->pad_left, p->pad_bottom, p->pad_right };
    static const char *const names[4] = { "pad_top", "pad_left", "pad_bottom", "pad_right" };
    const int max_pad = ks / 2;
    for (int i = 0; i < 4; i++)
        if (pads[i] < 0 || pads[i] > max_pad)
            return mnet_error(MNET_ERR_ARG, "%s: %s must be 0..%d for a %dx%d kernel (got %d)",
                    fn, names[i], max_pad, ks, ks, pads[i]);
    /* h, w >= 1 were checked and are ints, so these sums cannot overflow. */
    const long long ph = (long long)h + p->pad_top + p->pad_bottom;
    const long long pw = (long long)w + p->pad_left + p->pad_right;
    if (ph < ks || pw < ks)
        return mnet_error(MNET_ERR_ARG, "%s: padded input %lldx%lld is smaller than the %dx%d "
                "kernel", fn, ph, pw, ks, ks);
    TRY(check_clamp(fn, p->out_min, p->out_max));
    g->h = h;
    g->w = w;
    g->oh = (int)((ph - ks) / p->stride + 1);
    g->ow = (int)((pw - ks) / p->stride + 1);
    g->stride = p->stride;
    g->pad_top = p->pad_top;
    g->pad_left = p->pad_left;
    return MNET_OK;
}

/* Everything the convolutions check: pointers, sizes, activation, geometry, byte counts,
 * overlap.  Depthwise passes cin = cout = c and w_per_cout = ks * ks; the full 3x3
 * convolution 9 * cin. */
static mnet_status check_conv(const char *fn, int ks, int n, int h, int w, int cin, int cout,
        const char *cin_name, const char *cout_name, size_t w_per_cout, const float *in,
        const float *weights, const float *bias, const mnet_conv_params *p, mnet_activation act,
        const float *out, mnet_conv_geom *g)
{
    size_t in_bytes, out_bytes, w_bytes;
    CHECK_PTR(fn, in);
    CHECK_PTR(fn, weights);
    CHECK_PTR(fn, out);
    CHECK_POS(fn, n);
    CHECK_POS(fn, h);
    CHECK_POS(fn, w);
    if (cin < 1 || cout < 1)
        return mnet_error(MNET_ERR_ARG, "%s: %s must be >= 1 (got %d)", fn,
                cin < 1 ? cin_name : cout_name, cin < 1 ? cin : cout);
    TRY(check_act(fn, act));
    TRY(conv_geom(fn, ks, p, h, w, g));
    g->cin = cin;
    g->cout = cout;
    g->prefetch = 0;
    g->pf = NULL;
    g->pf_lines = 0;
    TRY(tensor_bytes(fn, "input", &in_bytes, (size_t)n, (size_t)h, (size_t)w, (size_t)cin));
    TRY(tensor_bytes(fn, "output", &out_bytes, (size_t)n, (size_t)g->oh, (size_t)g->ow,
            (size_t)cout));
    TRY(tensor_bytes(fn, "weights", &w_bytes, w_per_cout, (size_t)cout, 1, 1));
    if (overlap(out, out_bytes, in, in_bytes) || overlap(out, out_bytes, weights, w_bytes) ||
            (bias && overlap(out, out_bytes, bias, (size_t)cout * sizeof(float))))
        return mnet_error(MNET_ERR_ARG, "%s: out overlaps an input", fn);
    return MNET_OK;
}

/* Both depthwise sizes: the same checks, packing and per-image loop; ks picks the family. */
static mnet_status dwconv(const char *fn, int ks, mnet_isa isa, int n, int h, int w, int c,
        const float *in, const float *weights, const float *bias, const mnet_conv_params *p,
        mnet_activation act, float *out)
{
    const mnet_kernels *t;
    mnet_conv_geom g;
    TRY(get_table(fn, isa, &t));
    TRY(check_conv(fn, ks, n, h, w, c, c, "c", "c", (size_t)ks * ks, in, weights, bias, p, act,
            out, &g));

    const mnet_dwconv3x3_ukernel kernel = ks == 3 ? t->dwconv3x3.fn : t->dwconv5x5.fn;
    const int cr = ks == 3 ? t->dwconv3x3.cr : t->dwconv5x5.cr;
    const size_t packed_floats = mnet_packed_dwconv_floats(c, cr, ks * ks);
    float *packed = malloc(packed_floats * sizeof(float));
    if (!packed)
        return mnet_error(MNET_ERR_NOMEM, "%s: no memory for %zu packed weights", fn,
                packed_floats);
    mnet_pack_dwconv(c, cr, ks * ks, weights, bias, packed);
    const size_t in_img = (size_t)h * w * c, out_img = (size_t)g.oh * g.ow * c;
    for (int i = 0; i < n; i++)
        kernel(&g, in + i * in_img, packed, out + i * out_img, 0, g.oh, p->out_min, p->out_max,
                (int)act);
    free(packed);
    mnet_clear_error();
    return MNET_OK;
}

mnet_status mnet_dwconv3x3_act_f32(mnet_isa isa, int n, int h, int w, int c, const float *in,
        const float *weights, const float *bias, const mnet_conv_params *p, mnet_activation act,
        float *out)
{
    return dwconv("mnet_dwconv3x3_act_f32", 3, isa, n, h, w, c, in, weights, bias, p, act, out);
}

mnet_status mnet_dwconv3x3_f32(mnet_isa isa, int n, int h, int w, int c, const float *in,
        const float *weights, const float *bias, const mnet_conv_params *p, float *out)
{
    return dwconv("mnet_dwconv3x3_f32", 3, isa, n, h, w, c, in, weights, bias, p,
            MNET_ACTIVATION_NONE, out);
}

mnet_status mnet_dwconv5x5_act_f32(mnet_isa isa, int n, int h, int w, int c, const float *in,
        const float *weights, const float *bias, const mnet_conv_params *p, mnet_activation act,
        float *out)
{
    return dwconv("mnet_dwconv5x5_act_f32", 5, isa, n, h, w, c, in, weights, bias, p, act, out);
}

mnet_status mnet_dwconv5x5_f32(mnet_isa isa, int n, int h, int w, int c, const float *in,
        const float *weights, const float *bias, const mnet_conv_params *p, float *out)
{
    return dwconv("mnet_dwconv5x5_f32", 5, isa, n, h, w, c, in, weights, bias, p,
            MNET_ACTIVATION_NONE, out);
}

static mnet_status conv3x3(const char *fn, mnet_isa isa, int n, int h, int w, int cin, int cout,
        const float *in, const float *weights, const float *bias, const mnet_conv_params *p,
        mnet_activation act, float *out)
{
    const mnet_kernels *t;
    mnet_conv_geom g;
    TRY(get_table(fn, isa, &t));
    /* cin >= 1 is checked inside before 9 * cin is used as a count. */
    TRY(check_conv(fn, 3, n, h, w, cin, cout, "cin", "cout", 9 * (size_t)(cin > 0 ? cin : 1), in,
            weights, bias, p, act, out, &g));

    const size_t packed_floats = mnet_packed_conv3x3_floats(cin, cout, t->conv3x3.cr);
    float *packed = malloc(packed_floats * sizeof(float));
    if (!packed)
        return mnet_error(MNET_ERR_NOMEM, "%s: no memory for %zu packed weights", fn,
                packed_floats);
    mnet_pack_conv3x3(cin, cout, t->conv3x3.cr, weights, bias, packed);
    const size_t in_img = (size_t)h * w * cin, out_img = (size_t)g.oh * g.ow * cout;
    for (int i = 0; i < n; i++)
        t->conv3x3.fn(&g, in + i * in_img, packed, out + i * out_img, 0, g.oh, p->out_min,
                p->out_max, (int)act);
    free(packed);
    mnet_clear_error();
    return MNET_OK;
}

mnet_status mnet_conv3x3_act_f32(mnet_isa isa, int n, int h, int w, int cin, int cout,
        const float *in, const float *weights, const float *bias, const mnet_conv_params *p,
        mnet_activation act, float *out)
{
    return conv3x3("mnet_conv3x3_act_f32", isa, n, h, w, cin, cout, in, weights, bias, p, act,
            out);
}

mnet_status mnet_conv3x3_f32(mnet_isa isa, int n, int h, int w, int cin, int cout,
        const float *in, const float *weights, const float *bias, const mnet_conv_params *p,
        float *out)
{
    return conv3x3("mnet_conv3x3_f32", isa, n, h, w, cin, cout, in, weights, bias, p,
            MNET_ACTIVATION_NONE, out);
}

static mnet_status gemm(const char *fn, mnet_isa isa, int m, int n, int k, const float *a,
        const float *b, const float *bias, mnet_activation act, float out_min, float out_max,
        float *out)
{
    const mnet_kernels *t;
    size_t a_bytes, b_bytes, out_bytes;
    TRY(get_table(fn, isa, &t));
    CHECK_PTR(fn, a);
    CHECK_PTR(fn, b);
    CHECK_PTR(fn, out);
    CHECK_POS(fn, m);
    CHECK_POS(fn, n);
    CHECK_POS(fn, k);
    TRY(check_act(fn, act));
    TRY(check_clamp(fn, out_min, out_max));
    TRY(tensor_bytes(fn, "a", &a_bytes, (size_t)m, (size_t)k, 1, 1));
    TRY(tensor_bytes(fn, "b", &b_bytes, (size_t)k, (size_t)n, 1, 1));
    TRY(tensor_bytes(fn, "out", &out_bytes, (size_t)m, (size_t)n, 1, 1));
    if (overlap(out, out_bytes, a, a_bytes) || overlap(out, out_bytes, b, b_bytes) ||
            (bias && overlap(out, out_bytes, bias, (size_t)n * sizeof(float))))
        return mnet_error(MNET_ERR_ARG, "%s: out overlaps an input", fn);

    const size_t packed_floats = mnet_packed_gemm_floats(k, n, t->gemm.nr);
    float *packed = malloc(packed_floats * sizeof(float));
    if (!packed)
        return mnet_error(MNET_ERR_NOMEM, "%s: no memory for %zu packed weights", fn,
                packed_floats);
    mnet_pack_gemm(k, n, t->gemm.nr, b, bias, packed);
    mnet_gemm_run(&t->gemm, 0, (size_t)m, (size_t)n, (size_t)k, a, (size_t)k, packed, out,
            (size_t)n, out_min, out_max, (int)act);
    free(packed);
    mnet_clear_error();
    return MNET_OK;
}

mnet_status mnet_gemm_act_f32(mnet_isa isa, int m, int n, int k, const float *a, const float *b,
        const float *bias, mnet_activation act, float out_min, float out_max, float *out)
{
    return gemm("mnet_gemm_act_f32", isa, m, n, k, a, b, bias, act, out_min, out_max, out);
}

mnet_status mnet_gemm_f32(mnet_isa isa, int m, int n, int k, const float *a, const float *b,
        const float *bias, float out_min, float out_max, float *out)
{
    return gemm("mnet_gemm_f32", isa, m, n, k, a, b, bias, MNET_ACTIVATION_NONE, out_min,
            out_max, out);
}

mnet_status mnet_bn_relu6_f32(mnet_isa isa, size_t pixels, int c, const float *x,
        const float *scale, const float *shift, float *y)
{
    static const char fn[] = "mnet_bn_relu6_f32";
    const mnet_kernels *t;
    size_t bytes;
    TRY(get_table(fn, isa, &t));
    CHECK_PTR(fn, x);
    CHECK_PTR(fn, scale);
    CHECK_PTR(fn, shift);
    CHECK_PTR(fn, y);
    if (pixels < 1)
        return mnet_error(MNET_ERR_ARG, "%s: pixels must be >= 1 (got 0)", fn);
    CHECK_POS(fn, c);
    TRY(tensor_bytes(fn, "x", &bytes, pixels, (size_t)c, 1, 1));
    const size_t cbytes = (size_t)c * sizeof(float);
    if ((x != y && overlap(y, bytes, x, bytes)) || overlap(y, bytes, scale, cbytes) ||
            overlap(y, bytes, shift, cbytes))
        return mnet_error(MNET_ERR_ARG, "%s: y overlaps an input (only y == x is allowed)", fn);
    t->bn_relu6.fn(pixels, (size_t)c, x, scale, shift, y);
    mnet_clear_error();
    return MNET_OK;
}

mnet_status mnet_bn_fold_f32(int c, const float *gamma, const float *beta, const float *mean,
        const float *var, float eps, float *scale, float *shift)
{
    static const char fn[] = "mnet_bn_fold_f32";
    size_t bytes;
    CHECK_PTR(fn, gamma);
    CHECK_PTR(fn, beta);
    CHECK_PTR(fn, mean);
    CHECK_PTR(fn, var);
    CHECK_PTR(fn, scale);
    CHECK_PTR(fn, shift);
    CHECK_POS(fn, c);
    TRY(tensor_bytes(fn, "c", &bytes, (size_t)c, 1, 1, 1));
    if (overlap(scale, bytes, shift, bytes))
        return mnet_error(MNET_ERR_ARG, "%s: scale and shift overlap", fn);
    if (!isfinite(eps) || eps < 0.0f)
        return mnet_error(MNET_ERR_ARG, "%s: eps must be finite and >= 0 (got %g)", fn, eps);
    for (int i = 0; i < c; i++)
        if (!((double)var[i] + eps > 0.0))   /* also refuses NaN */
            return mnet_error(MNET_ERR_ARG, "%s: var[%d] + eps = %g is not > 0", fn, i,
                    (double)var[i] + eps);
    /* Computed in double and rounded once; read every input of channel i before writing it,
     * so scale/shift may alias gamma/beta. */
    for (int i = 0; i < c; i++) {
        const double s = (double)gamma[i] / sqrt((double)var[i] + eps);
        const double sh = (double)beta[i] - (double)mean[i] * s;
        scale[i] = (float)s;
        shift[i] = (float)sh;
    }
    mnet_clear_error();
    return MNET_OK;
}

mnet_status mnet_global_avgpool_f32(mnet_isa isa, int n, int h, int w, int c, const float *in,
        float *out)
{
    static const char fn[] = "mnet_global_avgpool_f32";
    const mnet_kernels *t;
    size_t in_bytes, out_bytes;
    TRY(get_table(fn, isa, &t));
    CHECK_PTR(fn, in);
    CHECK_PTR(fn, out);
    CHECK_POS(fn, n);
    CHECK_POS(fn, h);
    CHECK_POS(fn, w);
    CHECK_POS(fn, c);
    TRY(tensor_bytes(fn, "input", &in_bytes, (size_t)n, (size_t)h, (size_t)w, (size_t)c));
    TRY(tensor_bytes(fn, "output", &out_bytes, (size_t)n, (size_t)c, 1, 1));
    if (overlap(out, out_bytes, in, in_bytes))
        return mnet_error(MNET_ERR_ARG, "%s: out overlaps in", fn);
    const size_t pixels = (size_t)h * w;
    for (int i = 0; i < n; i++)
        t->gavgpool.fn(pixels, (size_t)c, in + i * pixels * c, out + (size_t)i * c);
    mnet_clear_error();
    return MNET_OK;
}

mnet_status mnet_add_f32(mnet_isa isa, size_t count, const float *a, const float *b,
        float out_min, float out_max, float *out)
{
    static const char fn[] = "mnet_add_f32";
    const mnet_kernels *t;
    size_t bytes;
    TRY(get_table(fn, isa, &t));
    CHECK_PTR(fn, a);
    CHECK_PTR(fn, b);
    CHECK_PTR(fn, out);
    if (count < 1)
        return mnet_error(MNET_ERR_ARG, "%s: count must be >= 1 (got 0)", fn);
    TRY(check_clamp(fn, out_min, out_max));
    TRY(tensor_bytes(fn, "count", &bytes, count, 1, 1, 1));
    if ((out != a && overlap(out, bytes, a, bytes)) || (out != b && overlap(out, bytes, b, bytes)))
        return mnet_error(MNET_ERR_ARG, "%s: out partly overlaps an input (only out == a or "
                "out == b is allowed)", fn);
    t->add.fn(count, a, b, out_min, out_max, out);
    mnet_clear_error();
    return MNET_OK;
}

mnet_status mnet_softmax_f32(mnet_isa isa, int n, int c, const float *in, float *out)
{
    static const char fn[] = "mnet_softmax_f32";
    const mnet_kernels *t;
    size_t bytes;
    TRY(get_table(fn, isa, &t));
    CHECK_PTR(fn, in);
    CHECK_PTR(fn, out);
    CHECK_POS(fn, n);
    CHECK_POS(fn, c);
    TRY(tensor_bytes(fn, "input", &bytes, (size_t)n, (size_t)c, 1, 1));
    if (out != in && overlap(out, bytes, in, bytes))
        return mnet_error(MNET_ERR_ARG, "%s: out partly overlaps in (only out == in is allowed)",
                fn);
    for (int i = 0; i < n; i++)
        t->softmax.fn((size_t)c, in + (size_t)i * c, out + (size_t)i * c);
    mnet_clear_error();
    return MNET_OK;
}

/* The two standalone activations: one elementwise kernel each, in place allowed. */
static mnet_status activation(const char *fn, mnet_isa isa, int hswish, size_t count,
        const float *x, float *y)
{
    const mnet_kernels *t;
    size_t bytes;
    TRY(get_table(fn, isa, &t));
    CHECK_PTR(fn, x);
    CHECK_PTR(fn, y);
    if (count < 1)
        return mnet_error(MNET_ERR_ARG, "%s: count must be >= 1 (got 0)", fn);
    TRY(tensor_bytes(fn, "count", &bytes, count, 1, 1, 1));
    if (x != y && overlap(y, bytes, x, bytes))
        return mnet_error(MNET_ERR_ARG, "%s: y partly overlaps x (only y == x is allowed)", fn);
    if (hswish)
        t->hswish.fn(count, x, y);
    else
        t->hsigmoid.fn(count, x, y);
    mnet_clear_error();
    return MNET_OK;
}

mnet_status mnet_hardswish_f32(mnet_isa isa, size_t count, const float *x, float *y)
{
    return activation("mnet_hardswish_f32", isa, 1, count, x, y);
}

mnet_status mnet_hardsigmoid_f32(mnet_isa isa, size_t count, const float *x, float *y)
{
    return activation("mnet_hardsigmoid_f32", isa, 0, count, x, y);
}

mnet_status mnet_channel_scale_f32(mnet_isa isa, int n, size_t pixels, int c, const float *x,
        const float *scale, float *y)
{
    static const char fn[] = "mnet_channel_scale_f32";
    const mnet_kernels *t;
    size_t bytes, scale_bytes;
    TRY(get_table(fn, isa, &t));
    CHECK_PTR(fn, x);
    CHECK_PTR(fn, scale);
    CHECK_PTR(fn, y);
    CHECK_POS(fn, n);
    if (pixels < 1)
        return mnet_error(MNET_ERR_ARG, "%s: pixels must be >= 1 (got 0)", fn);
    CHECK_POS(fn, c);
    TRY(tensor_bytes(fn, "x", &bytes, (size_t)n, pixels, (size_t)c, 1));
    TRY(tensor_bytes(fn, "scale", &scale_bytes, (size_t)n, (size_t)c, 1, 1));
    if ((x != y && overlap(y, bytes, x, bytes)) || overlap(y, bytes, scale, scale_bytes))
        return mnet_error(MNET_ERR_ARG, "%s: y overlaps an input (only y == x is allowed)", fn);
    const size_t image = pixels * (size_t)c;
    for (int i = 0; i < n; i++)
        t->channel_scale.fn(pixels, (size_t)c, x + i * image, scale + (size_t)i * c,
                y + i * image);
    mnet_clear_error();
    return MNET_OK;
}
