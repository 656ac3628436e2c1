/* conv3x3.c - full 3x3 convolution (the stem) for AArch64 NEON, 8 output channels at a time. */
#include <arm_neon.h>

#include "ukernels.h"
#include "tail.h"

#define CR 8

/* Packed group of CR output channels: { bias[8], w[ky][kx][ci][8] }, zero past cout, so a
 * group's weights are always read as two full vectors per input channel.
 *
 * Loop order: output row, 8-channel group, output column.  Interior columns (all 3 input
 * columns inside the image) go 4 output pixels at a time: each weight pair is loaded once for
 * 4 pixels (8 accumulators + 4 input vectors + 2 weight vectors = 14 registers).  The border
 * columns go one pixel at a time with the padding taps skipped; rows outside the image are cut
 * from the ky range for every pixel of the row alike. */



/* One output pixel: taps ky in [ky0, ky1), kx in [kx0, kx1).  `px` is the pixel at the window's
 * corner (iy0, ix0), given as an offset so that no pointer into the padding is formed. */
static void conv_pixel(const float *in, ptrdiff_t corner, size_t row_floats, size_t cin,
        const float *wp, int ky0, int ky1, int kx0, int kx1, float *o, size_t nc,
        float32x4_t vmin, float32x4_t vmax, int act)
{
    float32x4_t al = vld1q_f32(wp), ah = vld1q_f32(wp + 4);
    for (int ky = ky0; ky < ky1; ky++)
        for (int kx = kx0; kx < kx1; kx++) {
            const float *px = in + (corner +
                    (ptrdiff_t)((size_t)ky * row_floats + (size_t)kx * cin));
            const float *w = wp + CR + (size_t)(ky * 3 + kx) * cin * CR;
            size_t ci = 0;
            /* 4 input channels per vector load, consumed lane by lane. */
            for (; ci + 4 <= cin; ci += 4, w += 4 * CR) {
                const float32x4_t x = vld1q_f32(px + ci);
                al = vfmaq_laneq_f32(al, vld1q_f32(w), x, 0);
                ah = vfmaq_laneq_f32(ah, vld1q_f32(w + 4), x, 0);
                al = vfmaq_laneq_f32(al, vld1q_f32(w + 8), x, 1);
                ah = vfmaq_laneq_f32(ah, vld1q_f32(w + 12), x, 1);
                al = vfmaq_laneq_f32(al, vld1q_f32(w + 16), x, 2);
                ah = vfmaq_laneq_f32(ah, vld1q_f32(w + 20), x, 2);
                al = vfmaq_laneq_f32(al, vld1q_f32(w + 24), x, 3);
                ah = vfmaq_laneq_f32(ah, vld1q_f32(w + 28), x, 3);
            }
            /* cin % 4 left: broadcast one input channel at a time (never past the pixel). */
            for (; ci < cin; ci++, w += CR) {
                const float32x4_t x = vld1q_dup_f32(px + ci);
                al = vfmaq_f32(al, vld1q_f32(w), x);
                ah = vfmaq_f32(ah, vld1q_f32(w + 4), x);
            }
        }
    mnet_neon_store8(o, mnet_neon_epi(al, vmin, vmax, act), mnet_neon_epi(ah, vmin, vmax, act), nc);
}

/* Four interior output pixels of a row (their windows `step` floats apart, all 3 columns
 * inside the image), taps ky in [ky0, ky1); `corner` is the first window's (iy0, ix0). */
static void conv_quad(const float *in, ptrdiff_t corner, size_t row_floats, size_t cin,
        size_t step, const float *wp, int ky0, int ky1, float *o, size_t cout, size_t nc,
        float32x4_t vmin, float32x4_t vmax, int act)
{
    float32x4_t a0l = vld1q_f32(wp), a0h = vld1q_f32(wp + 4);
    float32x4_t a1l = a0l, a1h = a0h, a2l = a0l, a2h = a0h, a3l = a0l, a3h = a0h;
    for (int ky = ky0; ky < ky1; ky++)
        for (int kx = 0; kx < 3; kx++) {
            const float *p0 = in + (corner +
                    (ptrdiff_t)((size_t)ky * row_floats + (size_t)kx * cin));
            const float *p1 = p0 + step, *p2 = p1 + step, *p3 = p2 + step;
            const float *w = wp + CR + (size_t)(ky * 3 + kx) * cin * CR;
            size_t ci = 0;
#define LANE(L) do {                                                                    \
                const float32x4_t wl = vld1q_f32(w + (L) * CR), wh = vld1q_f32(w + (L) * CR + 4); \
                a0l = vfmaq_laneq_f32(a0l, wl, x0, L); a0h = vfmaq_laneq_f32(a0h, wh, x0, L); \
                a1l = vfmaq_laneq_f32(a1l, wl, x1, L); a1h = vfmaq_laneq_f32(a1h, wh, x1, L); \
                a2l = vfmaq_laneq_f32(a2l, wl, x2, L); a2h = vfmaq_laneq_f32(a2h, wh, x2, L); \
                a3l = vfmaq_laneq_f32(a3l, wl, x3, L); a3h = vfmaq_laneq_f32(a3h, wh, x3, L); \
            } while (0)
            for (; ci + 4 <= cin; ci += 4, w += 4 * CR) {
                const float32x4_t x0 = vld1q_f32(p0 + ci), x1 = vld1q_f32(p1 + ci);
                const float32x4_t x2 = vld1q_f32(p2 + ci), x3 = vld1q_f32(p3 + ci);
                LANE(0);
                LANE(1);
                LANE(2);
                LANE(3);
            }
            /* 2 and then 1 input channels left (the stem's cin = 3 lands here): half-vector
             * and broadcast loads, so nothing past the pixel's last channel is read. */
            if (ci + 2 <= cin) {
                const float32x4_t x0 = vcombine_f32(vld1_f32(p0 + ci), vdup_n_f32(0.0f));
                const float32x4_t x1 = vcombine_f32(vld1_f32(p1 + ci), vdup_n_f32(0.0f));
                const float32x4_t x2 = vcombine_f32(vld1_f32(p2 + ci), vdup_n_f32(0.0f));
                const float32x4_t x3 = vcombine_f32(vld1_f32(p3 + ci), vdup_n_f32(0.0f));
                LANE(0);
                LANE(1);
                ci += 2;
                w += 2 * CR;
            }
            if (ci < cin) {
                const float32x4_t x0 = vld1q_dup_f32(p0 + ci), x1 = vld1q_dup_f32(p1 + ci);
                const float32x4_t x2 = vld1q_dup_f32(p2 + ci), x3 = vld1q_dup_f32(p3 + ci);
                LANE(0);
            }
#undef LANE
        }
    mnet_neon_store8(o, mnet_neon_epi(a0l, vmin, vmax, act), mnet_neon_epi(a0h, vmin, vmax, act), nc);
    mnet_neon_store8(o + cout, mnet_neon_epi(a1l, vmin, vmax, act), mnet_neon_epi(a1h, vmin, vmax, act), nc);
    mnet_neon_store8(o + 2 * cout, mnet_neon_epi(a2l, vmin, vmax, act), mnet_neon_epi(a2h, vmin, vmax, act), nc);
    mnet_neon_store8(o + 3 * cout, mnet_neon_epi(a3l, vmin, vmax, act), mnet_neon_epi(a3h, vmin, vmax, act), nc);
}

void mnet_f32_conv3x3_minmax_8c__neon(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    const float32x4_t vmin = vdupq_n_f32(out_min), vmax = vdupq_n_f32(out_max);
    const size_t cin = (size_t)g->cin, cout = (size_t)g->cout;
    const size_t row_floats = (size_t)g->w * cin;
    const size_t group_floats = (size_t)CR * (1 + 9 * cin);
    const int s = g->stride, pl = g->pad_left;
    /* Interior columns [ox_lo, ox_hi): ix0 = ox * s - pl >= 0 and ix0 + 2 <= w - 1. */
    const int ox_lo = pl;
    int ox_hi = g->w - 3 + pl >= 0 ? (g->w - 3 + pl) / s + 1 : 0;
    ox_hi = ox_hi < g->ow ? ox_hi : g->ow;
    ox_hi = ox_hi > ox_lo ? ox_hi : ox_lo;

    for (int oy = oy0; oy < oy1; oy++) {
        const int iy0 = oy * s - g->pad_top;
        const int ky0 = iy0 < 0 ? -iy0 : 0;
        const int ky1 = g->h - iy0 < 3 ? g->h - iy0 : 3;
        float *orow = out + (size_t)oy * g->ow * cout;
        const mnet_stem_ahead ahead = mnet_stem_ahead_rows(g, in, oy);
        /* the caller's write-ahead lines: a share at each quad of the first group */
        mnet_pf_share wa = mnet_pf_row(g, oy, oy0, oy1, (ox_hi - ox_lo + 3) / 4);
        for (size_t co = 0; co < cout; co += CR) {
            const float *wp = packed_w + (co / CR) * group_floats;
            const size_t nc = cout - co < CR ? cout - co : CR;
            int ox = 0;
            for (; ox < g->ow; ox++) {
                /* Fewer than four interior pixels left: one more quad ending at the last,
                 * which writes the pixels it shares with the quad before again, with the same
                 * bits (each pixel's sums run in the same order in every path). */
                if (ox >= ox_lo && ox < ox_hi && ox + 4 > ox_hi && ox_hi - 4 >= ox_lo)
                    ox = ox_hi - 4;
                const int ix0 = ox * s - pl;
                /* Four interior pixels at once while they last. */
                if (ox >= ox_lo && ox + 4 <= ox_hi) {
                    if (co == 0) {
                        mnet_stem_prefetch(&ahead, (size_t)ix0 * cin, (size_t)(4 * s) * cin);
                        mnet_pf_take(&wa);
                    }
                    const ptrdiff_t corner = (ptrdiff_t)iy0 * (ptrdiff_t)row_floats +
                            (ptrdiff_t)ix0 * (ptrdiff_t)cin;
                    conv_quad(in, corner, row_floats, cin, (size_t)s * cin, wp, ky0, ky1,
                            orow + (size_t)ox * cout + co, cout, nc, vmin, vmax, act);
                    ox += 3;
                    continue;
                }
                const ptrdiff_t corner = (ptrdiff_t)iy0 * (ptrdiff_t)row_floats +
                        (ptrdiff_t)ix0 * (ptrdiff_t)cin;
                conv_pixel(in, corner, row_floats, cin, wp, ky0, ky1, ix0 < 0 ? -ix0 : 0,
                        g->w - ix0 < 3 ? g->w - ix0 : 3, orow + (size_t)ox * cout + co, nc,
                        vmin, vmax, act);
            }
        }
        mnet_pf_rest(&wa);
    }
}
