/* conv3x3_avx512.c - full 3x3 convolution (the stem), AVX-512F, 32 output channels x 8 pixels
 * (8 channels x 8 pixels, two taps per FMA, for the RGB stride-2 stem with at most 8). */
#include <immintrin.h>
#include <string.h>

#include "avx512_util.h"
#include "ukernels.h"

#define CR 32

/* The AVX2 kernel's plan with twice the lanes and twice the registers: interior pixels 8 at a
 * time (4 where fewer fit; see STEM_TILE), border pixels one at a time, skipping padded taps.
 * The output-channel tail uses masked stores. */

static inline void store32(float *o, __m512 lo, __m512 hi, size_t n, __m512 vmin, __m512 vmax,
        int act)
{
    mnet_avx512_store(o, mnet_avx512_epi(lo, vmin, vmax, act), n);
    if (n > 16)
        mnet_avx512_store(o + 16, mnet_avx512_epi(hi, vmin, vmax, act), n - 16);
}

/* The interior tile's accumulators (stem_tile.h): two vectors a pixel, or one when at most 16
 * channels are left.  The literal steps pay there, with one FMA per broadcast: 0.87-0.89 of the
 * time on V3 Small's 8- and 16-channel stems; none on 32 channels, whose two FMAs per broadcast
 * hide the addressing (docs/PERFORMANCE.md, "The stems' literal steps"). */
#define ACC1(i) __m512 l##i = blo;
#define ACC2(i) __m512 l##i = blo, h##i = bhi;
#define FMA1(i) l##i = _mm512_fmadd_ps(_mm512_set1_ps(p[(i) * xs + t]), wl, l##i);
#define FMA2(i) { const __m512 v = _mm512_set1_ps(p[(i) * xs + t]); \
                  l##i = _mm512_fmadd_ps(v, wl, l##i); h##i = _mm512_fmadd_ps(v, wh, h##i); }
#define OUT1(i) store32(o + (i) * cout, l##i, _mm512_setzero_ps(), n, vmin, vmax, act);
#define OUT2(i) store32(o + (i) * cout, l##i, h##i, n, vmin, vmax, act);
#define STEM_VEC __m512
#define STEM_LOAD(p) _mm512_loadu_ps(p)
#define STEM_LANES 16
#include "stem_tile.h"

/* At most 8 channels, RGB stride 2 (V3 at width 0.5): two taps per FMA.  With one pixel's 8
 * channels in a 16-lane vector, half of every FMA of the tile above is padding.  Here lane 2c
 * accumulates channel c's even taps of a kernel row (t = 0, 2, 4, 6, 8 of its 9 = 3 kx x 3 ci,
 * consecutive floats of the input row) and lane 2c + 1 its odd ones: the input pair (t, t + 1) is
 * one 8-byte broadcast, which puts x[t] in the even lanes and x[t + 1] in the odd ones, and the
 * weights of the pair interleave to match (built once per call).  5 FMAs per kernel row and pixel
 * instead of 9; at the end each pixel's two lanes per channel are added (even + odd) and packed
 * to 8 floats.  Every interior pixel sums in this order, whatever its tile. Measured: V3 Small
 * 0.5's stem 0.70-0.74 of its time, the network 0.942 (docs/PERFORMANCE.md, "Two taps per FMA in
 * the 8-channel AVX-512 stem"). */
static inline __m512 interleave8(const float *even, const float *odd)   /* e0 o0 e1 o1 .. e7 o7 */
{
    const __m512i idx = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(even), idx,
            odd ? _mm512_loadu_ps(odd) : _mm512_setzero_ps());
}

static inline __m512 pair_at(const float *p)   /* p[0] p[1] p[0] p[1] ... */
{
    double d;
    memcpy(&d, p, sizeof d);
    return _mm512_castpd_ps(_mm512_set1_pd(d));
}

static inline __m512 fold_pairs(__m512 acc)   /* lane c = lane 2c + lane 2c + 1, c < 8 */
{
    const __m512 sum = _mm512_add_ps(acc, _mm512_permute_ps(acc, 0xB1));
    return _mm512_permutexvar_ps(_mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 14, 12, 10, 8, 6, 4,
            2, 0), sum);
}

#define PACC(i) __m512 a##i = bpair;
#define PFMA(i) { const float *x = p + (i) * 6; \
                  a##i = _mm512_fmadd_ps(pair_at(x), w0, a##i); \
                  a##i = _mm512_fmadd_ps(pair_at(x + 2), w1, a##i); \
                  a##i = _mm512_fmadd_ps(pair_at(x + 4), w2, a##i); \
                  a##i = _mm512_fmadd_ps(pair_at(x + 6), w3, a##i); \
                  a##i = _mm512_fmadd_ps(_mm512_set1_ps(x[8]), w4, a##i); }
#define POUT(i) store32(o + (i) * cout, fold_pairs(a##i), _mm512_setzero_ps(), n, vmin, vmax, act);
#define PAIR_TILE { \
    MNET_REP(8, PACC) \
    for (int ky = 0; ky < 3; ky++) { \
        const int iy = iy0 + ky; \
        if (iy < 0 || iy >= g->h) \
            continue; \
        const float *p = px + (size_t)iy * row; \
        const __m512 w0 = wpair[ky][0], w1 = wpair[ky][1], w2 = wpair[ky][2], \
            w3 = wpair[ky][3], w4 = wpair[ky][4]; \
        MNET_REP(8, PFMA) \
    } \
    MNET_REP(8, POUT) \
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
    const int rgb2 = cin == 3 && s == 2;     /* the usual stem: see STEM_TILE */
    /* PAIR_TILE, for a last group of at most 8 channels: its interleaved weights, built once */
    const size_t last0 = (cout - 1) / CR * CR;   /* the last group's first channel */
    const int pairs_last = cout - last0 <= 8 && rgb2 && ox_hi - ox_lo >= 8;
    __m512 bpair = _mm512_setzero_ps(), wpair[3][5];
    if (pairs_last) {
        const float *wp = packed_w + (last0 / CR) * group_floats;
        bpair = interleave8(wp, NULL);
        for (int ky = 0; ky < 3; ky++)
            for (int j = 0; j < 5; j++) {
                const float *wt = wp + CR + (size_t)(ky * 9 + 2 * j) * CR;
                wpair[ky][j] = interleave8(wt, j < 4 ? wt + CR : NULL);
            }
    }

    for (int oy = oy0; oy < oy1; oy++) {
        const int iy0 = oy * s - g->pad_top;
        float *orow = out + (size_t)oy * g->ow * cout;
        const mnet_stem_ahead ahead = mnet_stem_ahead_rows(g, in, oy);
        /* the caller's write-ahead lines: a share at each interior tile of the first group */
        const int t = ox_hi - ox_lo >= 8 ? 8 : 4;
        const int tiles = ox_hi > ox_lo ? (ox_hi - ox_lo + t - 1) / t : 0;
        mnet_pf_share wa = mnet_pf_row(g, oy, oy0, oy1, tiles);
        for (size_t co0 = 0; co0 < cout; co0 += CR) {
            const float *wp = packed_w + (co0 / CR) * group_floats;
            const size_t n = cout - co0 < CR ? cout - co0 : CR;
            const __m512 blo = _mm512_loadu_ps(wp), bhi = _mm512_loadu_ps(wp + 16);
            /* Pixels per interior tile: 8 (16 accumulators), 4 when fewer fit. */
            const int tile = ox_hi - ox_lo >= 8 ? 8 : 4;
            const int pairs = pairs_last && co0 == last0;
            for (int ox = 0; ox < g->ow;) {
                /* Fewer than a tile of interior pixels left: one more tile ending at the last,
                 * which writes the pixels it shares with the tile before again, with the same
                 * bits (each pixel's sums run in the same order in every path). */
                if (ox >= ox_lo && ox < ox_hi && ox + tile > ox_hi && ox_hi - tile >= ox_lo)
                    ox = ox_hi - tile;
                if (ox >= ox_lo && ox + tile <= ox_hi) {
                    const size_t ix0 = (size_t)(ox * s - pl);
                    if (co0 == 0) {
                        mnet_stem_prefetch(&ahead, ix0 * cin, (size_t)(tile * s) * cin);
                        mnet_pf_take(&wa);
                    }
                    const float *px = in + ix0 * cin;
                    float *o = orow + (size_t)ox * cout + co0;
                    /* At most 16 channels (V3's stem): the group's upper half is zero padding. */
                    if (pairs)
                        PAIR_TILE
                    else if (n <= 16 && tile == 8 && rgb2)
                        STEM_TILE(8, ACC1, FMA1, OUT1, 6, 3)
                    else if (n <= 16 && tile == 8)
                        STEM_TILE(8, ACC1, FMA1, OUT1, xstep, cin)
                    else if (tile == 8)
                        STEM_TILE(8, ACC2, FMA2, OUT2, xstep, cin)
                    else
                        STEM_TILE(4, ACC2, FMA2, OUT2, xstep, cin)
                    ox += tile;
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
        mnet_pf_rest(&wa);
    }
}
