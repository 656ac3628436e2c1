/* ref.h - naive reference implementations the differential tests compare every kernel against. */
#ifndef MNET_TEST_REF_H
#define MNET_TEST_REF_H

#include <stddef.h>

#include "mnet.h"   /* for mnet_conv_params only: no code is shared with kernels/ or lib/ */

/* Every reference follows the semantics written in mnet.h literally: plain loops over the
 * unpacked user layouts, accumulation in double, the clamp applied last.
 *
 * out[i] receives the result (double, not rounded to float).  When `mag` is not NULL, mag[i]
 * receives the sum of the absolute values of the terms that were added up for out[i] (bias
 * included): the scale of the rounding error a float implementation may make, which the tests'
 * tolerance is proportional to. */

/* Output size of a k x k window: (in + pad_before + pad_after - k) / stride + 1. */
int ref_conv_out_size(int in, int pad_before, int pad_after, int k, int stride);

/* k x k depthwise (k = 3 or 5): in [n][h][w][c], weights [k][k][c], bias [c] or NULL,
 * out [n][oh][ow][c] */
void ref_dwconv(int k, int n, int h, int w, int c, const float *in, const float *weights,
        const float *bias, const mnet_conv_params *p, double *out, double *mag);

/* in [n][h][w][cin], weights [cout][3][3][cin], bias [cout] or NULL, out [n][oh][ow][cout] */
void ref_conv3x3(int n, int h, int w, int cin, int cout, const float *in, const float *weights,
        const float *bias, const mnet_conv_params *p, double *out, double *mag);

/* out[i][j] = clamp(sum_k a[i][k] * b[k][j] + bias[j]); a [m][k], b [k][n], bias [n] or NULL */
void ref_gemm(int m, int n, int k, const float *a, const float *b, const float *bias,
        float out_min, float out_max, double *out, double *mag);

/* y[p][ch] = min(max(x[p][ch] * scale[ch] + shift[ch], 0), 6) */
void ref_bn_relu6(size_t pixels, int c, const float *x, const float *scale, const float *shift,
        double *y, double *mag);

/* scale = gamma / sqrt(var + eps), shift = beta - mean * scale */
void ref_bn_fold(int c, const float *gamma, const float *beta, const float *mean,
        const float *var, float eps, double *scale, double *shift);

/* out[n][c] = mean over h x w of in[n][h][w][c] */
void ref_global_avgpool(int n, int h, int w, int c, const float *in, double *out, double *mag);

/* out[i] = clamp(a[i] + b[i]) */
void ref_add(size_t count, const float *a, const float *b, float out_min, float out_max,
        double *out, double *mag);

/* Row-wise softmax of [n][c]: exp(x - rowmax) / sum exp(x - rowmax) */
void ref_softmax(int n, int c, const float *in, double *out);

/* The activation alone: h-swish v * min(max(v + 3, 0), 6) / 6, h-sigmoid min(max(v + 3, 0), 6)
 * / 6, or v itself (MNET_ACTIVATION_NONE). */
double ref_activation(double v, mnet_activation act);

/* The fused epilogue of mnet.h: the activation, then the clamp [out_min, out_max]. */
double ref_epilogue(double v, mnet_activation act, float out_min, float out_max);

/* y[b][p][ch] = x[b][p][ch] * scale[b][ch]; x, y [n][pixels][c], scale [n][c] */
void ref_channel_scale(int n, size_t pixels, int c, const float *x, const float *scale,
        double *y);

#endif /* MNET_TEST_REF_H */
