/* conv3x3.c - full 3x3 convolution (the stem), AVX2+FMA, 16 output channels x 6 pixels (x 4 in
 * a row of fewer than 6 interior pixels; 8 x 8 when at most 8 channels are left). */
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

/* The interior tile's accumulators (stem_tile.h): two vectors a pixel, or one when at most 8
 * channels are left.  The literal steps pay in the one-vector tile of 8 pixels: an 8-channel
 * stem (V3 at width 0.5) took 0.43 of its former time; the two-vector tile of 4 pixels with
 * literals took about 1.10x (docs/PERFORMANCE.md, "The stems' literal steps").  Of 6 pixels (12
 * accumulators, as the GEMM tile: 2 weight loads and 6 broadcasts feed 12 FMAs) with literals,
 * the V1/V2 stem took 0.87-0.91 of the 4-pixel tile's time in most sittings (equal in the
 * fastest), with runtime values 0.96-1.12 (docs/PERFORMANCE.md, "Session 24"). */
#define ACC1(i) __m256 l##i = blo;
#define ACC2(i) __m256 l##i = blo, h##i = bhi;
#define FMA1(i) l##i = _mm256_fmadd_ps(_mm256_broadcast_ss(p + (i) * xs + t), wl, l##i);
#define FMA2(i) { const __m256 v = _mm256_broadcast_ss(p + (i) * xs + t); \
                  l##i = _mm256_fmadd_ps(v, wl, l##i); h##i = _mm256_fmadd_ps(v, wh, h##i); }
#define OUT1(i) store16(o + (i) * cout, mnet_avx2_epi(l##i, vmin, vmax, act), \
                        _mm256_setzero_ps(), n);
#define OUT2(i) store16(o + (i) * cout, mnet_avx2_epi(l##i, vmin, vmax, act), \
                        mnet_avx2_epi(h##i, vmin, vmax, act), n);
#define STEM_VEC __m256
#define STEM_LOAD(p) _mm256_loadu_ps(p)
#define STEM_LANES 8
/* The row pointer opaque at every tap: with literal steps, pixel i + 1's tap t reads what pixel
 * i's tap t + 6 reads, and GCC (-O3), seeing it, kept such broadcasts alive across taps and
 * spilled accumulators to the stack.  Opaque, each tap loads its own: the RGB stride-2 stem took
 * 0.86-0.90 of its time (one process, alternating, 8-32 channels; docs/PERFORMANCE.md, "Session
 * 25"). */
#define STEM_OPAQUE(p) __asm__("" : "+r"(p))
#include "stem_tile.h"


/* The RGB stride-2 stem's interior tile of 6 pixels x 16 channels in an interior row (all three
 * kernel rows inside the image): the 27 taps in a row, from p0 (kernel row 0 at the tile's first
 * input column) and the group's packed weights wp, in STEM_TILE's order (the same bits).  A
 * function of its own, so that only its 12 accumulators and the tap's 3 vectors are live across
 * the taps: inlined in the row loop, the bias and clamp vectors stayed live as well and GCC
 * spilled accumulators to the stack every few taps (perf annotate).  In one process (a
 * throw-away program alternating with the tile inlined, 201 calls each, session 27):
 * 224x224x3 -> 32 channels 0.93-0.94 of the time, 96x96 0.92-0.93, 160x160 0.93. */
#define RGB_TAP(ky, tap) { \
        const size_t t = (tap); \
        const __m256 wl = _mm256_loadu_ps(w + ((ky) * 9 + t) * CR), \
                     wh = _mm256_loadu_ps(w + ((ky) * 9 + t) * CR + 8); \
        STEM_OPAQUE(p); \
        MNET_REP(6, FMA2) }
#define RGB_ROW(ky) { const float *p = p0 + (ky) * row; \
        RGB_TAP(ky, 0) RGB_TAP(ky, 1) RGB_TAP(ky, 2) RGB_TAP(ky, 3) RGB_TAP(ky, 4) \
        RGB_TAP(ky, 5) RGB_TAP(ky, 6) RGB_TAP(ky, 7) RGB_TAP(ky, 8) }
__attribute__((noinline)) static void stem_rgb2_6x16(const float *p0, size_t row, const float *wp,
        float *o, size_t cout, size_t n, const float *bounds, int act)
{
    const float *w = wp + CR;
    const size_t xs = 6;   /* FMA2's step between pixels: the literal of the RGB stride-2 stem */
    const __m256 blo = _mm256_loadu_ps(wp), bhi = _mm256_loadu_ps(wp + 8);
    MNET_REP(6, ACC2)
    RGB_ROW(0)
    RGB_ROW(1)
    RGB_ROW(2)
    const __m256 vmin = _mm256_broadcast_ss(bounds), vmax = _mm256_broadcast_ss(bounds + 1);
    MNET_REP(6, OUT2)
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
    const int rgb2 = cin == 3 && s == 2;     /* the usual stem: see STEM_TILE */
    const float bounds[2] = { out_min, out_max };

    for (int oy = oy0; oy < oy1; oy++) {
        const int iy0 = oy * s - g->pad_top;
        float *orow = out + (size_t)oy * g->ow * cout;
        const mnet_stem_ahead ahead = mnet_stem_ahead_rows(g, in, oy);
        const int full_rows = iy0 >= 0 && iy0 + 3 <= g->h;
        /* the caller's write-ahead lines: a share at each interior tile of the first group */
        const int p0 = cout <= 8 && ox_hi - ox_lo >= 8 ? 8 : cout > 8 && ox_hi - ox_lo >= 6 ? 6 : 4;
        mnet_pf_share wa = mnet_pf_row(g, oy, oy0, oy1,
                ox_hi > ox_lo ? (ox_hi - ox_lo + p0 - 1) / p0 : 0);
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
            /* Interior, P pixels at a time (see STEM_TILE): 6 (4 in a row of fewer), or 8
             * when at most 8 channels are left (one accumulator a pixel), with literal steps
             * for the RGB stride-2 stem. */
            const int P = n <= 8 && ox_hi - ox_lo >= 8 ? 8 : n > 8 && ox_hi - ox_lo >= 6 ? 6 : 4;
            for (;; ox += P) {
                /* Fewer than P left: one more tile ending at the last interior pixel; the
                 * pixels it shares with the tile before get the same bits again (each pixel's
                 * sums run in the same order in every path). */
                if (ox + P > ox_hi) {
                    if (ox >= ox_hi || ox_hi - P < ox_lo)
                        break;
                    ox = ox_hi - P;
                }
                const size_t ix0 = (size_t)(ox * s - pl);
                if (co0 == 0) {
                    mnet_stem_prefetch(&ahead, ix0 * cin, (size_t)(P * s) * cin);
                    mnet_pf_take(&wa);
                }
                const float *px = in + ix0 * cin;
                float *o = orow + (size_t)ox * cout + co0;
                if (P == 8 && rgb2)
                    STEM_TILE(8, ACC1, FMA1, OUT1, 6, 3)
                else if (P == 8)
                    STEM_TILE(8, ACC1, FMA1, OUT1, xstep, cin)
                else if (P == 6 && rgb2 && full_rows)
                    stem_rgb2_6x16(px + (size_t)iy0 * row, row, wp, o, cout, n, bounds, act);
                else if (P == 6 && rgb2)
                    STEM_TILE(6, ACC2, FMA2, OUT2, 6, 3)
                else if (P == 6)
                    STEM_TILE(6, ACC2, FMA2, OUT2, xstep, cin)
                else
                    STEM_TILE(4, ACC2, FMA2, OUT2, xstep, cin)
            }
            for (; ox < g->ow; ox++)
                ONE_PIXEL(ox);
#undef ONE_PIXEL
        }
        mnet_pf_rest(&wa);
    }
}
