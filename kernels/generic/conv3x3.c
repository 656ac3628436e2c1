/* conv3x3.c - full 3x3 convolution (the stem), portable C, 4 output channels at a time. */
#include "ukernels.h"

#define CR 4

void mnet_f32_conv3x3_minmax_4c__scalar(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    const int cin = g->cin, cout = g->cout;
    const size_t group_floats = (size_t)CR * (1 + 9 * (size_t)cin);
    for (int oy = oy0; oy < oy1; oy++) {
        for (int ox = 0; ox < g->ow; ox++) {
            const int iy0 = oy * g->stride - g->pad_top, ix0 = ox * g->stride - g->pad_left;
            float *o = out + ((size_t)oy * g->ow + ox) * cout;
            for (int co = 0; co < cout; co += CR) {
                const float *wp = packed_w + (size_t)(co / CR) * group_floats;
                float acc[CR];
                for (int j = 0; j < CR; j++)
                    acc[j] = wp[j];
                for (int ky = 0; ky < 3; ky++) {
                    const int iy = iy0 + ky;
                    if (iy < 0 || iy >= g->h)
                        continue;
                    for (int kx = 0; kx < 3; kx++) {
                        const int ix = ix0 + kx;
                        if (ix < 0 || ix >= g->w)
                            continue;
                        const float *px = in + ((size_t)iy * g->w + ix) * cin;
                        const float *wt = wp + CR + (size_t)(ky * 3 + kx) * cin * CR;
                        for (int ci = 0; ci < cin; ci++)
                            for (int j = 0; j < CR; j++)
                                acc[j] += px[ci] * wt[ci * CR + j];
                    }
                }
                /* Lanes past cout hold zero weights: compute them, store only real channels. */
                const int n = cout - co < CR ? cout - co : CR;
                for (int j = 0; j < n; j++)
                    o[co + j] = mnet_epilogue_f32(acc[j], out_min, out_max, act);
            }
        }
    }
}
