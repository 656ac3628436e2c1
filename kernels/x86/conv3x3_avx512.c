/* conv3x3_avx512.c - full 3x3 convolution (the stem), AVX-512F, 32 output channels x 4 pixels. */
#include <immintrin.h>

#include "avx512_util.h"
#include "ukernels.h"

#define CR 32

/* Same plan as the AVX2 kernel with twice the lanes: interior pixels 4 at a time, so per
 * (tap, input channel) 2 weight loads + 4 broadcasts feed 8 FMAs into 8 accumulators; border
 * pixels one at a time, skipping padded taps.  The output-channel tail uses masked stores. */

static inline void store32(float *o, __m512 lo, __m512 hi, size_t n, __m512 vmin, __m512 vmax,
        int act)
{
    mnet_avx512_store(o, mnet_avx512_epi(lo, vmin, vmax, act), n);
    if (n > 16)
        mnet_avx512_store(o + 16, mnet_avx512_epi(hi, vmin, vmax, act), n - 16);
}

void mnet_f32_conv3x3_minmax_32c__avx512(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    const size_t cin = (size_t)g->cin, cout = (size_t)g->cout, row = (size_t)g->w * cin;
    const size_t group_floats = CR * (1 + 9 * cin);
    const int s = g->stride, pl = g->pad_left;
    const __m512 vmin = _mm512_set1_ps(out_min), vmax = _mm512_set1_ps(out_max);
    /* Interior columns [ox_lo, ox_hi): all three input columns inside the image. */
    const int ox_lo = pl, span = g->w - 3 + pl;
    int ox_hi = span < 0 ? 0 : span / s + 1;
    ox_hi = ox_hi > g->ow ? g->ow : ox_hi;
    const size_t xstep = (size_t)s * cin;   /* input floats between neighbouring output pixels */

    for (int oy = oy0; oy < oy1; oy++) {
        const int iy0 = oy * s - g->pad_top;
        float *orow = out + (size_t)oy * g->ow * cout;
        const mnet_stem_ahead ahead = mnet_stem_ahead_rows(g, in, oy);
        for (size_t co0 = 0; co0 < cout; co0 += CR) {
            const float *wp = packed_w + (co0 / CR) * group_floats;
            const size_t n = cout - co0 < CR ? cout - co0 : CR;
            const __m512 blo = _mm512_loadu_ps(wp), bhi = _mm512_loadu_ps(wp + 16);
            const int tile = ox_hi - ox_lo >= 8 ? 8 : 4;   /* the widest that fits */
            for (int ox = 0; ox < g->ow;) {
                /* Fewer than a tile of interior pixels left: one more tile ending at the last,
                 * which writes the pixels it shares with the tile before again, with the same
                 * bits (each pixel's sums run in the same order in every path). */
                if (ox >= ox_lo && ox < ox_hi && ox + tile > ox_hi && ox_hi - tile >= ox_lo)
                    ox = ox_hi - tile;
                if (n <= 16 && ox >= ox_lo && ox + 8 <= ox_hi) {
                    /* At most 16 channels left (V3's 16-channel stem): the upper half of the
                     * group is zero padding, so 8 pixels x one zmm instead of 4 x two. */
                    __m512 a0 = blo, a1 = blo, a2 = blo, a3 = blo, a4 = blo, a5 = blo, a6 = blo,
                           a7 = blo;
                    const size_t ix0 = (size_t)(ox * s - pl);
                    if (co0 == 0)
                        mnet_stem_prefetch(&ahead, ix0 * cin, (size_t)(8 * s) * cin);
                    for (int ky = 0; ky < 3; ky++) {
                        const int iy = iy0 + ky;
                        if (iy < 0 || iy >= g->h)
                            continue;
                        const float *p = in + (size_t)iy * row + ix0 * cin;
                        const float *wt = wp + CR + (size_t)ky * 3 * cin * CR;
                        for (size_t t = 0; t < 3 * cin; t++, wt += CR) {
                            const __m512 wl = _mm512_loadu_ps(wt);
                            a0 = _mm512_fmadd_ps(_mm512_set1_ps(p[t]), wl, a0);
                            a1 = _mm512_fmadd_ps(_mm512_set1_ps(p[xstep + t]), wl, a1);
                            a2 = _mm512_fmadd_ps(_mm512_set1_ps(p[2 * xstep + t]), wl, a2);
                            a3 = _mm512_fmadd_ps(_mm512_set1_ps(p[3 * xstep + t]), wl, a3);
                            a4 = _mm512_fmadd_ps(_mm512_set1_ps(p[4 * xstep + t]), wl, a4);
                            a5 = _mm512_fmadd_ps(_mm512_set1_ps(p[5 * xstep + t]), wl, a5);
                            a6 = _mm512_fmadd_ps(_mm512_set1_ps(p[6 * xstep + t]), wl, a6);
                            a7 = _mm512_fmadd_ps(_mm512_set1_ps(p[7 * xstep + t]), wl, a7);
                        }
                    }
                    float *o = orow + (size_t)ox * cout + co0;
                    const __m512 z = _mm512_setzero_ps();
                    store32(o, a0, z, n, vmin, vmax, act);
                    store32(o + cout, a1, z, n, vmin, vmax, act);
                    store32(o + 2 * cout, a2, z, n, vmin, vmax, act);
                    store32(o + 3 * cout, a3, z, n, vmin, vmax, act);
                    store32(o + 4 * cout, a4, z, n, vmin, vmax, act);
                    store32(o + 5 * cout, a5, z, n, vmin, vmax, act);
                    store32(o + 6 * cout, a6, z, n, vmin, vmax, act);
                    store32(o + 7 * cout, a7, z, n, vmin, vmax, act);
                    ox += 8;
                    continue;
                }
                if (ox >= ox_lo && ox + 8 <= ox_hi) {
                    /* 8 pixels x 32 channels: 16 accumulators, so the FMAs of one (tap, input
                     * channel) step (2 weight loads, 8 broadcasts, 16 FMAs) outlast their
                     * latency twice over. */
                    __m512 l0 = blo, h0 = bhi, l1 = blo, h1 = bhi, l2 = blo, h2 = bhi, l3 = blo,
                           h3 = bhi, l4 = blo, h4 = bhi, l5 = blo, h5 = bhi, l6 = blo, h6 = bhi,
                           l7 = blo, h7 = bhi;
                    const size_t ix0 = (size_t)(ox * s - pl);
                    if (co0 == 0)
                        mnet_stem_prefetch(&ahead, ix0 * cin, (size_t)(8 * s) * cin);
                    for (int ky = 0; ky < 3; ky++) {
                        const int iy = iy0 + ky;
                        if (iy < 0 || iy >= g->h)
                            continue;
                        const float *p = in + (size_t)iy * row + ix0 * cin;
                        const float *wt = wp + CR + (size_t)ky * 3 * cin * CR;
                        for (size_t t = 0; t < 3 * cin; t++, wt += CR) {
                            const __m512 wl = _mm512_loadu_ps(wt), wh = _mm512_loadu_ps(wt + 16);
#define STEM_PX(i) { const __m512 v = _mm512_set1_ps(p[(i) * xstep + t]); \
                     l##i = _mm512_fmadd_ps(v, wl, l##i); h##i = _mm512_fmadd_ps(v, wh, h##i); }
                            STEM_PX(0) STEM_PX(1) STEM_PX(2) STEM_PX(3)
                            STEM_PX(4) STEM_PX(5) STEM_PX(6) STEM_PX(7)
#undef STEM_PX
                        }
                    }
                    float *o = orow + (size_t)ox * cout + co0;
                    store32(o, l0, h0, n, vmin, vmax, act);
                    store32(o + cout, l1, h1, n, vmin, vmax, act);
                    store32(o + 2 * cout, l2, h2, n, vmin, vmax, act);
                    store32(o + 3 * cout, l3, h3, n, vmin, vmax, act);
                    store32(o + 4 * cout, l4, h4, n, vmin, vmax, act);
                    store32(o + 5 * cout, l5, h5, n, vmin, vmax, act);
                    store32(o + 6 * cout, l6, h6, n, vmin, vmax, act);
                    store32(o + 7 * cout, l7, h7, n, vmin, vmax, act);
                    ox += 8;
                    continue;
                }
                if (ox >= ox_lo && ox + 4 <= ox_hi) {
                    __m512 l0 = blo, h0 = bhi, l1 = blo, h1 = bhi, l2 = blo, h2 = bhi, l3 = blo, h3 = bhi;
                    const size_t ix0 = (size_t)(ox * s - pl);
                    if (co0 == 0)
                        mnet_stem_prefetch(&ahead, ix0 * cin, (size_t)(4 * s) * cin);
                    for (int ky = 0; ky < 3; ky++) {
                        const int iy = iy0 + ky;
                        if (iy < 0 || iy >= g->h)
                            continue;
                        const float *p = in + (size_t)iy * row + ix0 * cin;
                        const float *wt = wp + CR + (size_t)ky * 3 * cin * CR;
                        /* The 3 kx taps of one row are 3*cin consecutive input floats. */
                        for (size_t t = 0; t < 3 * cin; t++, wt += CR) {
                            const __m512 wl = _mm512_loadu_ps(wt), wh = _mm512_loadu_ps(wt + 16);
                            __m512 v = _mm512_set1_ps(p[t]);
                            l0 = _mm512_fmadd_ps(v, wl, l0); h0 = _mm512_fmadd_ps(v, wh, h0);
                            v = _mm512_set1_ps(p[xstep + t]);
                            l1 = _mm512_fmadd_ps(v, wl, l1); h1 = _mm512_fmadd_ps(v, wh, h1);
                            v = _mm512_set1_ps(p[2 * xstep + t]);
                            l2 = _mm512_fmadd_ps(v, wl, l2); h2 = _mm512_fmadd_ps(v, wh, h2);
                            v = _mm512_set1_ps(p[3 * xstep + t]);
                            l3 = _mm512_fmadd_ps(v, wl, l3); h3 = _mm512_fmadd_ps(v, wh, h3);
                        }
                    }
                    float *o = orow + (size_t)ox * cout + co0;
                    store32(o, l0, h0, n, vmin, vmax, act);
                    store32(o + cout, l1, h1, n, vmin, vmax, act);
                    store32(o + 2 * cout, l2, h2, n, vmin, vmax, act);
                    store32(o + 3 * cout, l3, h3, n, vmin, vmax, act);
                    ox += 4;
                    continue;
                }
                /* Border pixels and leftovers, one at a time. */
                const int ix0 = ox * s - pl;
                __m512 lo = blo, hi = bhi;
                for (int ky = 0; ky < 3; ky++) {
                    const int iy = iy0 + ky;
                    if (iy < 0 || iy >= g->h)
                        continue;
                    for (int kx = 0; kx < 3; kx++) {
                        const int ix = ix0 + kx;
                        if (ix < 0 || ix >= g->w)
                            continue;
                        const float *px = in + (size_t)iy * row + (size_t)ix * cin;
                        const float *wt = wp + CR + (size_t)(ky * 3 + kx) * cin * CR;
                        for (size_t ci = 0; ci < cin; ci++, wt += CR) {
                            const __m512 v = _mm512_set1_ps(px[ci]);
                            lo = _mm512_fmadd_ps(v, _mm512_loadu_ps(wt), lo);
                            hi = _mm512_fmadd_ps(v, _mm512_loadu_ps(wt + 16), hi);
                        }
                    }
                }
                store32(orow + (size_t)ox * cout + co0, lo, hi, n, vmin, vmax, act);
                ox++;
            }
        }
    }
}
