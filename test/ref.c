/* ref.c - naive references for the tests: the formulas of mnet.h as plain loops in double. */
#include "ref.h"

#include <math.h>

static double clamp(double v, double lo, double hi)
{
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return v;
}

int ref_conv_out_size(int in, int pad_before, int pad_after, int k, int stride)
{
    return (in + pad_before + pad_after - k) / stride + 1;
}

/* Element (b, y, x, ch) of an NHWC tensor with dims h, w, c. */
static size_t nhwc(int b, int y, int x, int ch, int h, int w, int c)
{
    return (((size_t)b * h + y) * w + x) * c + ch;
}

void ref_dwconv(int k, int n, int h, int w, int c, const float *in, const float *weights,
        const float *bias, const mnet_conv_params *p, double *out, double *mag)
{
    const int oh = ref_conv_out_size(h, p->pad_top, p->pad_bottom, k, p->stride);
    const int ow = ref_conv_out_size(w, p->pad_left, p->pad_right, k, p->stride);
    for (int b = 0; b < n; b++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int ch = 0; ch < c; ch++) {
                    double sum = bias ? bias[ch] : 0.0;
                    double abs_sum = fabs(sum);
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            const int iy = oy * p->stride - p->pad_top + ky;
                            const int ix = ox * p->stride - p->pad_left + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                continue;   /* zero padding */
                            const double term = (double)in[nhwc(b, iy, ix, ch, h, w, c)] *
                                    (double)weights[(size_t)(ky * k + kx) * c + ch];
                            sum += term;
                            abs_sum += fabs(term);
                        }
                    const size_t o = nhwc(b, oy, ox, ch, oh, ow, c);
                    out[o] = clamp(sum, p->out_min, p->out_max);
                    if (mag)
                        mag[o] = abs_sum;
                }
}

void ref_conv3x3(int n, int h, int w, int cin, int cout, const float *in, const float *weights,
        const float *bias, const mnet_conv_params *p, double *out, double *mag)
{
    const int oh = ref_conv_out_size(h, p->pad_top, p->pad_bottom, 3, p->stride);
    const int ow = ref_conv_out_size(w, p->pad_left, p->pad_right, 3, p->stride);
    for (int b = 0; b < n; b++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int co = 0; co < cout; co++) {
                    double sum = bias ? bias[co] : 0.0;
                    double abs_sum = fabs(sum);
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            const int iy = oy * p->stride - p->pad_top + ky;
                            const int ix = ox * p->stride - p->pad_left + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                continue;
                            for (int ci = 0; ci < cin; ci++) {
                                /* weights [cout][3][3][cin] */
                                const double wt = weights[(((size_t)co * 3 + ky) * 3 + kx) * cin + ci];
                                const double term = (double)in[nhwc(b, iy, ix, ci, h, w, cin)] * wt;
                                sum += term;
                                abs_sum += fabs(term);
                            }
                        }
                    const size_t o = nhwc(b, oy, ox, co, oh, ow, cout);
                    out[o] = clamp(sum, p->out_min, p->out_max);
                    if (mag)
                        mag[o] = abs_sum;
                }
}

void ref_gemm(int m, int n, int k, const float *a, const float *b, const float *bias,
        float out_min, float out_max, double *out, double *mag)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = bias ? bias[j] : 0.0;
            double abs_sum = fabs(sum);
            for (int kk = 0; kk < k; kk++) {
                const double term = (double)a[(size_t)i * k + kk] * (double)b[(size_t)kk * n + j];
                sum += term;
                abs_sum += fabs(term);
            }
            out[(size_t)i * n + j] = clamp(sum, out_min, out_max);
            if (mag)
                mag[(size_t)i * n + j] = abs_sum;
        }
}

void ref_bn_relu6(size_t pixels, int c, const float *x, const float *scale, const float *shift,
        double *y, double *mag)
{
    for (size_t px = 0; px < pixels; px++)
        for (int ch = 0; ch < c; ch++) {
            const size_t i = px * (size_t)c + ch;
            const double scaled = (double)x[i] * (double)scale[ch];
            y[i] = clamp(scaled + shift[ch], 0.0, 6.0);
            if (mag)
                mag[i] = fabs(scaled) + fabs((double)shift[ch]);
        }
}

void ref_bn_fold(int c, const float *gamma, const float *beta, const float *mean,
        const float *var, float eps, double *scale, double *shift)
{
    for (int ch = 0; ch < c; ch++) {
        const double s = (double)gamma[ch] / sqrt((double)var[ch] + (double)eps);
        scale[ch] = s;
        shift[ch] = (double)beta[ch] - (double)mean[ch] * s;
    }
}

void ref_global_avgpool(int n, int h, int w, int c, const float *in, double *out, double *mag)
{
    const double pixels = (double)h * w;
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++) {
            double sum = 0.0, abs_sum = 0.0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    const double v = in[nhwc(b, y, x, ch, h, w, c)];
                    sum += v;
                    abs_sum += fabs(v);
                }
            out[(size_t)b * c + ch] = sum / pixels;
            if (mag)
                mag[(size_t)b * c + ch] = abs_sum / pixels;
        }
}

void ref_add(size_t count, const float *a, const float *b, float out_min, float out_max,
        double *out, double *mag)
{
    for (size_t i = 0; i < count; i++) {
        out[i] = clamp((double)a[i] + (double)b[i], out_min, out_max);
        if (mag)
            mag[i] = fabs((double)a[i]) + fabs((double)b[i]);
    }
}

void ref_softmax(int n, int c, const float *in, double *out)
{
    for (int r = 0; r < n; r++) {
        const float *row = in + (size_t)r * c;
        double max = row[0];
        for (int i = 1; i < c; i++)
            if (row[i] > max)
                max = row[i];
        double sum = 0.0;
        for (int i = 0; i < c; i++)
            sum += exp((double)row[i] - max);
        for (int i = 0; i < c; i++)
            out[(size_t)r * c + i] = exp((double)row[i] - max) / sum;
    }
}

double ref_activation(double v, mnet_activation act)
{
    switch (act) {
    case MNET_ACTIVATION_HSWISH:
        return v * clamp(v + 3.0, 0.0, 6.0) / 6.0;
    case MNET_ACTIVATION_HSIGMOID:
        return clamp(v + 3.0, 0.0, 6.0) / 6.0;
    default:
        return v;
    }
}

double ref_epilogue(double v, mnet_activation act, float out_min, float out_max)
{
    return clamp(ref_activation(v, act), out_min, out_max);
}

void ref_channel_scale(int n, size_t pixels, int c, const float *x, const float *scale,
        double *y)
{
    for (int b = 0; b < n; b++)
        for (size_t px = 0; px < pixels; px++)
            for (int ch = 0; ch < c; ch++) {
                const size_t i = ((size_t)b * pixels + px) * c + ch;
                y[i] = (double)x[i] * (double)scale[(size_t)b * c + ch];
            }
}
