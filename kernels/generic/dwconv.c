/* dwconv.c - 3x3 and 5x5 depthwise convolution, portable C, one channel at a time (CR = 1):
 * the scalar reference the SIMD kernels are tested against, kept as plain as the maths. */
#include "ukernels.h"

/* K x K: packed_w holds { bias, w[K * K] } per channel (tap = ky * K + kx).  Each output
 * accumulates its bias, then the taps inside the image in kernel order.  Inlined into each
 * kernel, so that K is a constant there. */
static inline __attribute__((always_inline)) void dwconv_kxk(int K, const mnet_conv_geom *g,
        const float *in, const float *packed_w, float *out, int oy0, int oy1, float out_min,
        float out_max, int act)
{
    const int c = g->cin;
    for (int oy = oy0; oy < oy1; oy++) {
        for (int ox = 0; ox < g->ow; ox++) {
            const int iy0 = oy * g->stride - g->pad_top, ix0 = ox * g->stride - g->pad_left;
            float *o = out + ((size_t)oy * g->ow + ox) * c;
            for (int ch = 0; ch < c; ch++) {
                const float *wp = packed_w + (size_t)ch * (size_t)(1 + K * K);
                float acc = wp[0];
                for (int ky = 0; ky < K; ky++) {
                    const int iy = iy0 + ky;
                    if (iy < 0 || iy >= g->h)
                        continue;
                    for (int kx = 0; kx < K; kx++) {
                        const int ix = ix0 + kx;
                        if (ix < 0 || ix >= g->w)
                            continue;
                        acc += in[((size_t)iy * g->w + ix) * c + ch] * wp[1 + ky * K + kx];
                    }
                }
                o[ch] = mnet_epilogue_f32(acc, out_min, out_max, act);
            }
        }
    }
}

void mnet_f32_dwconv3x3_minmax_1c__scalar(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    dwconv_kxk(3, g, in, packed_w, out, oy0, oy1, out_min, out_max, act);
}

void mnet_f32_dwconv5x5_minmax_1c__scalar(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    dwconv_kxk(5, g, in, packed_w, out, oy0, oy1, out_min, out_max, act);
}
