/* gemm_avx512.h - the AVX-512F GEMM tile, 8 rows x 32 columns held in 16 zmm accumulators, and
 * its tails: the body of the two entries, gemm_avx512.c (8x32) and gemm_avx512_zen4.c
 * (8x32_t256), which defines MNET_GEMM512_T256 to 1 (its tails) and MNET_PF_TAGGED to 1 (the
 * far-prefetch tag, kernels/ukernels.h) before including it. */
#ifndef MNET_GEMM_AVX512_H
#define MNET_GEMM_AVX512_H

#ifndef MNET_GEMM512_T256
#define MNET_GEMM512_T256 0
#endif

#include <immintrin.h>

#include "avx512_util.h"
#include "ukernels.h"

/* 8x32: 16 accumulators + 2 weight vectors + 1 broadcast of the 32 zmm registers.  Per k step:
 * 2 weight loads + 8 broadcasts feed 16 FMAs: on cores with two 512-bit FMA pipes that is 8
 * cycles of FMAs against 10 loads, and 16 independent chains cover the FMA latency.
 * A tile of mr < 8 rows computes exactly mr rows (gemm_2x .. gemm_7x, gemm_tile.h), and
 * the driver cuts a layer's rows into near-equal tiles: V1's 7x7 layers run 7 tiles of 7 rows
 * instead of 6 of 8 plus one row that streams the whole weight block for 1/8 of the work.
 * As in the AVX2 kernel, a last panel of at most 16 columns computes only its low half, and a
 * single row (the classifier) runs two panels at a time; every column accumulates bias, then
 * k = 0, 1, ... with FMAs in order, so a row's result never depends on its tile.
 * Column tails use masked stores, which never touch memory in masked-off lanes. */
/* Two entries share everything but the last panel when it has 17..24 columns (n = 24, and V3's
 * 120 and 184) or at most 8 (n = 8, V3's 40, 72, 104 and 200): for 17..24, `8x32` packs columns
 * 16..23 of two rows into one zmm (3 FMAs and a shuffle per row pair and k step), `8x32_t256`
 * keeps them in a ymm accumulator per row (4 FMAs, no shuffle); for at most 8, `8x32` gives
 * each row a zmm, half of it padding, `8x32_t256` a ymm.  Where a 512-bit FMA runs as two
 * 256-bit halves (Zen 4), a ymm FMA costs half a zmm one, so the second does the same FMA work
 * without the shuffles, and half the padded one: V2's n = 24 projections in 0.75-0.78 of the
 * time there (README "Session 39"), V2 0.5's n = 8 projection in 0.87 and V3's n = 40 layers in
 * 0.95-0.98 (README "Session 40").  On full-width AVX-512 the first needs fewer FMAs for
 * 17..24, and a zmm FMA costs no more than a ymm one, so the ymm tail would save nothing there.
 * The dispatcher picks (lib/dispatch.c); both give the same bits.  The second also honours the
 * driver's far-prefetch tag (MNET_PF_FAR, kernels/ukernels.h): in calls of at most 32 rows a
 * tile's prefetch of the next weight block goes to L2 only, measured faster on Zen 4 and slower
 * on Zen 5 (README "Session 41"), so only the Zen 4 entry carries its branch. */

static inline void store_row(float *c, __m512 lo, __m512 hi, size_t n)
{
    mnet_avx512_store(c, lo, n);
    if (n > 16)
        mnet_avx512_store(c + 16, hi, n - 16);
}

/* Out of line, as when both entries shared one file and called it: each entry's code the same. */
static __attribute__((noinline)) void gemm_1x32(size_t nc, size_t kc, const float *a, const float *w, float *c,
        __m512 vmin, __m512 vmax, int act, const char *pf, size_t pf_lines)
{
    const size_t panel = 32 * (kc + 1);
    for (; nc > 32; nc = nc > 64 ? nc - 64 : 0, w += 2 * panel, c += 64) {
        const float *v = w + panel;
        __m512 x0 = _mm512_loadu_ps(w), y0 = _mm512_loadu_ps(w + 16);
        __m512 x1 = _mm512_loadu_ps(v), y1 = _mm512_loadu_ps(v + 16);
        for (size_t k = 0; k < kc; k++) {
            MNET_PREFETCH_STEP(pf, pf_lines);
            const __m512 ak = _mm512_set1_ps(a[k]);
            x0 = _mm512_fmadd_ps(ak, _mm512_loadu_ps(w + 32 * (k + 1)), x0);
            y0 = _mm512_fmadd_ps(ak, _mm512_loadu_ps(w + 32 * (k + 1) + 16), y0);
            x1 = _mm512_fmadd_ps(ak, _mm512_loadu_ps(v + 32 * (k + 1)), x1);
            y1 = _mm512_fmadd_ps(ak, _mm512_loadu_ps(v + 32 * (k + 1) + 16), y1);
        }
        store_row(c, mnet_avx512_epi(x0, vmin, vmax, act), mnet_avx512_epi(y0, vmin, vmax, act), 32);
        store_row(c + 32, mnet_avx512_epi(x1, vmin, vmax, act), mnet_avx512_epi(y1, vmin, vmax, act), nc - 32);
    }
    if (nc > 0) {
        __m512 x0 = _mm512_loadu_ps(w), y0 = _mm512_loadu_ps(w + 16);
        for (size_t k = 0; k < kc; k++) {
            MNET_PREFETCH_STEP(pf, pf_lines);
            const __m512 ak = _mm512_set1_ps(a[k]);
            x0 = _mm512_fmadd_ps(ak, _mm512_loadu_ps(w + 32 * (k + 1)), x0);
            y0 = _mm512_fmadd_ps(ak, _mm512_loadu_ps(w + 32 * (k + 1) + 16), y0);
        }
        store_row(c, mnet_avx512_epi(x0, vmin, vmax, act), mnet_avx512_epi(y0, vmin, vmax, act), nc);
    }
}

#define GT_VEC __m512
#define GT_W 16
#define GT_LOAD(p) _mm512_loadu_ps(p)
#define GT_BCAST(p) _mm512_set1_ps(*(p))
#define GT_FMA(a, b, acc) _mm512_fmadd_ps(a, b, acc)
#define GT_STORE2(c, x, y, n) store_row(c, mnet_avx512_epi(x, vmin, vmax, act), \
        mnet_avx512_epi(y, vmin, vmax, act), n)
#define GT_STORE1(c, x, n) mnet_avx512_store(c, mnet_avx512_epi(x, vmin, vmax, act), n)
#include "gemm_tile.h"
GEMM_TILE(2)
GEMM_TILE(3)
GEMM_TILE(4)
GEMM_TILE(5)
GEMM_TILE(6)
GEMM_TILE(7)
GEMM_TILE(8)

/* Rows in pairs, for the last panels of 17..24 columns (R = 2P rows). */
#define PAIRS1(M) M(0, 1, 0)
#define PAIRS2(M) PAIRS1(M) M(2, 3, 1)
#define PAIRS3(M) PAIRS2(M) M(4, 5, 2)
#define PAIRS4(M) PAIRS3(M) M(6, 7, 3)
#define PAIRS(P, M) PAIRS##P(M)
#define T_PTRS(i, j, p) const float *const a##i = a + (i) * a_stride, *const a##j = a##i + a_stride;

#if !MNET_GEMM512_T256
/* The last panel of 17..24 columns for an even number of rows R = 2P: columns 0-15 of each row
 * in one vector, and columns 16-23 of a pair of rows in one more (row i in the low half, row
 * i + 1 in the high half), so n = 24 layers take 3 FMAs per pair and k step instead of 4 (one
 * shuffle makes the pair's multiplier, one the weights' doubled tail).  Each lane still
 * accumulates its bias, then k = 0, 1, ... in order, as in the tile: the same bits. */
#define T_ACC(i, j, p)  __m512 x##i = bx, x##j = bx, t##p = bt;
#define T_FMA(i, j, p)  { const __m512 u = _mm512_set1_ps(a##i[kq]), v = _mm512_set1_ps(a##j[kq]); \
                          x##i = _mm512_fmadd_ps(u, b0, x##i); x##j = _mm512_fmadd_ps(v, b0, x##j); \
                          t##p = _mm512_fmadd_ps(_mm512_shuffle_f32x4(u, v, 0), b1, t##p); }
#define T_OUT(i, j, p)  { const __m512 e = mnet_avx512_epi(t##p, vmin, vmax, act); \
                          _mm512_storeu_ps(c + (i) * c_stride, mnet_avx512_epi(x##i, vmin, vmax, act)); \
                          _mm512_storeu_ps(c + (j) * c_stride, mnet_avx512_epi(x##j, vmin, vmax, act)); \
                          _mm512_mask_storeu_ps(c + (i) * c_stride + 16, lo, e); \
                          _mm512_mask_storeu_ps(c + (j) * c_stride + 8, hi, e); }
#define T_STEP(P) { const __m512 b0 = _mm512_loadu_ps(w), b1 = tail8x2(w + 16); PAIRS(P, T_FMA) }
static inline __m512 tail8x2(const float *p)   /* p[0..7] in both halves */
{
    const __m512 h = _mm512_castps256_ps512(_mm256_loadu_ps(p));
    return _mm512_shuffle_f32x4(h, h, 0x44);
}
#define GEMM_TAIL24(P) \
static void gemm_tail24_##P(GT_TILE_PARAMS) \
{ \
    PAIRS(P, T_PTRS) \
    const size_t pf_every = MNET_PF_EVERY(kc); \
    const __m512 bx = _mm512_loadu_ps(w), bt = tail8x2(w + 16); \
    PAIRS(P, T_ACC) \
    w += 32; \
    MNET_GEMM_K_LOOP(32, T_STEP(P), ) \
    const __mmask16 lo = mnet_avx512_lanes(nc - 16), hi = (__mmask16)(lo << 8); \
    PAIRS(P, T_OUT) \
}
GEMM_TAIL24(1)
GEMM_TAIL24(2)
GEMM_TAIL24(3)
GEMM_TAIL24(4)

#else
/* The last panel of 17..24 columns (as the pairs above, in the other entry) with columns 16..23 of
 * each row in a ymm accumulator of its own. */
#define Y_ACC(i, j, p)  __m512 x##i = bx, x##j = bx; __m256 s##i = bs, s##j = bs;
#define Y_FMA(i, j, p)  { const __m512 u = _mm512_set1_ps(a##i[kq]), v = _mm512_set1_ps(a##j[kq]); \
                          x##i = _mm512_fmadd_ps(u, b0, x##i); x##j = _mm512_fmadd_ps(v, b0, x##j); \
                          s##i = _mm256_fmadd_ps(_mm512_castps512_ps256(u), b1, s##i); \
                          s##j = _mm256_fmadd_ps(_mm512_castps512_ps256(v), b1, s##j); }
#define Y_ST(r)         { _mm512_storeu_ps(c + (r) * c_stride, mnet_avx512_epi(x##r, vmin, vmax, act)); \
                          _mm512_mask_storeu_ps(c + (r) * c_stride + 16, lo, \
                                  mnet_avx512_epi(_mm512_zextps256_ps512(s##r), vmin, vmax, act)); }
#define Y_OUT(i, j, p)  Y_ST(i) Y_ST(j)
#define Y_STEP(P) { const __m512 b0 = _mm512_loadu_ps(w); const __m256 b1 = _mm256_loadu_ps(w + 16); \
                    PAIRS(P, Y_FMA) }
#define GEMM_TAIL24Y(P) \
static void gemm_tail24y_##P(GT_TILE_PARAMS) \
{ \
    PAIRS(P, T_PTRS) \
    const size_t pf_every = MNET_PF_EVERY(kc); \
    const __m512 bx = _mm512_loadu_ps(w); \
    const __m256 bs = _mm256_loadu_ps(w + 16); \
    PAIRS(P, Y_ACC) \
    w += 32; \
    MNET_GEMM_K_LOOP(32, Y_STEP(P), ) \
    const __mmask16 lo = mnet_avx512_lanes(nc - 16); \
    PAIRS(P, Y_OUT) \
}
GEMM_TAIL24Y(1)
GEMM_TAIL24Y(2)
GEMM_TAIL24Y(3)
GEMM_TAIL24Y(4)

/* A last panel of at most 8 columns (the whole of n = 8; V3's 40, 72, 104 and 200, V2 0.75's
 * 72, V2 1.4's 136) in a ymm accumulator per row, for 2..8 rows, after the tile has done the
 * whole panels before it: the tile's own last panel takes a zmm per row, half of it padding.
 * Each lane accumulates its bias, then k = 0, 1, ... in order: the same bits.  (One pass over
 * a whole panel and this one, sharing the broadcasts, measured no faster: session 40.) */
#define E_PTRS(r) const float *const a##r = a + (r) * a_stride;
#define E_ACC(r)  __m256 s##r = bs;
#define E_FMA(r)  s##r = _mm256_fmadd_ps(_mm256_set1_ps(a##r[kq]), b, s##r);
#define E_ST(r)   _mm512_mask_storeu_ps(c + (r) * c_stride, lo, \
                          mnet_avx512_epi(_mm512_zextps256_ps512(s##r), vmin, vmax, act));
#define E_STEP(R) { const __m256 b = _mm256_loadu_ps(w); MNET_REP(R, E_FMA) }
#define GEMM_TAIL8Y(R) \
static void gemm_tail8y_##R(GT_TILE_PARAMS) \
{ \
    MNET_REP(R, E_PTRS) \
    const size_t pf_every = MNET_PF_EVERY(kc); \
    const __m256 bs = _mm256_loadu_ps(w); \
    MNET_REP(R, E_ACC) \
    w += 32; \
    MNET_GEMM_K_LOOP(32, E_STEP(R), ) \
    const __mmask16 lo = mnet_avx512_lanes(nc); \
    MNET_REP(R, E_ST) \
}
GEMM_TAIL8Y(2)
GEMM_TAIL8Y(3)
GEMM_TAIL8Y(4)
GEMM_TAIL8Y(5)
GEMM_TAIL8Y(6)
GEMM_TAIL8Y(7)
GEMM_TAIL8Y(8)
#endif

static const gt_tile_fn tile[9] = {   /* by row count */
    NULL, NULL, gemm_2x, gemm_3x, gemm_4x, gemm_5x, gemm_6x, gemm_7x, gemm_8x };
#if !MNET_GEMM512_T256
static const gt_tile_fn tail24[5] = {   /* by row pairs */
    NULL, gemm_tail24_1, gemm_tail24_2, gemm_tail24_3, gemm_tail24_4 };
#else
static const gt_tile_fn tail24y[5] = {
    NULL, gemm_tail24y_1, gemm_tail24y_2, gemm_tail24y_3, gemm_tail24y_4 };
static const gt_tile_fn tail8y[9] = {   /* by row count */
    NULL, NULL, gemm_tail8y_2, gemm_tail8y_3, gemm_tail8y_4, gemm_tail8y_5, gemm_tail8y_6,
    gemm_tail8y_7, gemm_tail8y_8 };
#endif

static inline void gemm_8x32(size_t mr, size_t nc, size_t kc, const float *a, size_t a_stride,
        const float *w, float *c, size_t c_stride, float out_min, float out_max, int act,
        const char *pf, size_t pf_lines, const gt_tile_fn *tail, const gt_tile_fn *tail8)
{
    const __m512 vmin = _mm512_set1_ps(out_min), vmax = _mm512_set1_ps(out_max);
    const size_t last = (nc - 1) % 32 + 1;   /* columns in the last panel */
    const int t24 = mr <= 8 && mr % 2 == 0 && last > 16 && last <= 24;
    const int t8 = tail8 && mr >= 2 && mr <= 8 && last <= 8;
    if (t24 || t8) {   /* the full panels before the last, then that one */
        const size_t head = nc - last, panels = head / 32;
        if (head) {
            tile[mr](head, kc, a, a_stride, w, c, c_stride, vmin, vmax, act, pf, pf_lines);
            const size_t used = pf_lines < panels * kc ? pf_lines : panels * kc;
            pf += 64 * used;
            pf_lines -= used;
        }
        (t24 ? tail[mr / 2] : tail8[mr])(last, kc, a, a_stride, w + panels * 32 * (kc + 1),
                c + head, c_stride, vmin, vmax, act, pf, pf_lines);
    } else if (mr == 1) {
        gemm_1x32(nc, kc, a, w, c, vmin, vmax, act, pf, pf_lines);
    } else {
        tile[mr < 8 ? mr : 8](nc, kc, a, a_stride, w, c, c_stride, vmin, vmax, act, pf, pf_lines);
    }
    _mm256_zeroupper();   /* as in the AVX2 entry (gemm.c) */
}

#endif /* MNET_GEMM_AVX512_H */
