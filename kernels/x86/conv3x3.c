/* conv3x3.c - full 3x3 convolution (the stem), AVX2+FMA, 16 output channels x 4 pixels. */
#include "avx2_util.h"
#include "ukernels.h"

#define CR 16

/* Store the 16-wide result of output channels [co0, co0 + n), n in 1..16. */
static inline void store16(float *o, __m256 lo, __m256 hi, size_t n)
{
    if (n == 16) {
        _mm256_storeu_ps(o, lo);
        _mm256_storeu_ps(o + 8, hi);
    } else if (n >= 8) {
        _mm256_storeu_ps(o, lo);
        if (n > 8)
            mnet_avx2_store_partial(o + 8, hi, n - 8);
    } else {
        mnet_avx2_store_partial(o, lo, n);
    }
}

void mnet_f32_conv3x3_minmax_16c__avx2(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    const size_t cin = (size_t)g->cin, cout = (size_t)g->cout, row = (size_t)g->w * cin;
    const size_t group_floats = CR * (1 + 9 * cin);
    const int s = g->stride, pl = g->pad_left;
    const __m256 vmin = _mm256_set1_ps(out_min), vmax = _mm256_set1_ps(out_max);
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
            const __m256 blo = _mm256_loadu_ps(wp), bhi = _mm256_loadu_ps(wp + 8);
            int ox = 0;
            /* Border pixels and leftovers, one at a time, skipping padded taps. */
#define ONE_PIXEL(oxv) do { \
                const int ix0_ = (oxv) * s - pl; \
                __m256 lo = blo, hi = bhi; \
                for (int ky = 0; ky < 3; ky++) { \
                    const int iy = iy0 + ky; \
                    if (iy < 0 || iy >= g->h) continue; \
                    for (int kx = 0; kx < 3; kx++) { \
                        const int ix = ix0_ + kx; \
                        if (ix < 0 || ix >= g->w) continue; \
                        const float *px = in + (size_t)iy * row + (size_t)ix * cin; \
                        const float *wt = wp + CR + (size_t)(ky * 3 + kx) * cin * CR; \
                        for (size_t ci = 0; ci < cin; ci++, wt += CR) { \
                            const __m256 v = _mm256_broadcast_ss(px + ci); \
                            lo = _mm256_fmadd_ps(v, _mm256_loadu_ps(wt), lo); \
                            hi = _mm256_fmadd_ps(v, _mm256_loadu_ps(wt + 8), hi); \
                        } \
                    } \
                } \
                store16(orow + (size_t)(oxv) * cout + co0, mnet_avx2_epi(lo, vmin, vmax, act), \
                        mnet_avx2_epi(hi, vmin, vmax, act), n); \
            } while (0)
            for (; ox < ox_lo && ox < g->ow; ox++)
                ONE_PIXEL(ox);
            /* Interior, 4 pixels at a time: per (tap, ci) 2 weight loads + 4 broadcasts feed
             * 8 FMAs into 8 independent accumulators. */
            for (;; ox += 4) {
                /* Fewer than 4 left: one more tile ending at the last interior pixel; the
                 * pixels it shares with the tile before get the same bits again (each pixel's
                 * sums run in the same order in every path). */
                if (ox + 4 > ox_hi) {
                    if (ox >= ox_hi || ox_hi - 4 < ox_lo)
                        break;
                    ox = ox_hi - 4;
                }
                __m256 l0 = blo, h0 = bhi, l1 = blo, h1 = bhi, l2 = blo, h2 = bhi, l3 = blo, h3 = bhi;
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
                        const __m256 wl = _mm256_loadu_ps(wt), wh = _mm256_loadu_ps(wt + 8);
                        __m256 v = _mm256_broadcast_ss(p + t);
                        l0 = _mm256_fmadd_ps(v, wl, l0); h0 = _mm256_fmadd_ps(v, wh, h0);
                        v = _mm256_broadcast_ss(p + xstep + t);
                        l1 = _mm256_fmadd_ps(v, wl, l1); h1 = _mm256_fmadd_ps(v, wh, h1);
                        v = _mm256_broadcast_ss(p + 2 * xstep + t);
                        l2 = _mm256_fmadd_ps(v, wl, l2); h2 = _mm256_fmadd_ps(v, wh, h2);
                        v = _mm256_broadcast_ss(p + 3 * xstep + t);
                        l3 = _mm256_fmadd_ps(v, wl, l3); h3 = _mm256_fmadd_ps(v, wh, h3);
                    }
                }
                float *o = orow + (size_t)ox * cout + co0;
                store16(o, mnet_avx2_epi(l0, vmin, vmax, act), mnet_avx2_epi(h0, vmin, vmax, act), n);
                o += cout;
                store16(o, mnet_avx2_epi(l1, vmin, vmax, act), mnet_avx2_epi(h1, vmin, vmax, act), n);
                o += cout;
                store16(o, mnet_avx2_epi(l2, vmin, vmax, act), mnet_avx2_epi(h2, vmin, vmax, act), n);
                o += cout;
                store16(o, mnet_avx2_epi(l3, vmin, vmax, act), mnet_avx2_epi(h3, vmin, vmax, act), n);
            }
            for (; ox < g->ow; ox++)
                ONE_PIXEL(ox);
#undef ONE_PIXEL
        }
    }
}
