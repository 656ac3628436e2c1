/* gemm.c - GEMM tile, AVX2+FMA: 6 rows x 16 columns held in 12 ymm accumulators. */
#include "avx2_util.h"
#include "ukernels.h"

/* 6x16: 12 accumulators + 2 weight vectors + 1 broadcast = 15 of the 16 ymm registers.  Per k
 * step: 2 weight loads + 6 broadcast loads feed 12 FMAs, so the two FMA pipes, not the load
 * ports, set the pace; 12 independent accumulators cover the 4-cycle FMA latency x 2 pipes.
 * A tile of mr < 6 rows computes exactly mr rows (gemm_2x .. gemm_5x, gemm_tile.h),
 * and the driver cuts a layer's rows into near-equal tiles.  Two shapes get their own loops
 * instead of wasting the tile:
 *  - one row (the classifier, m = 1): only that row, two panels at a time;
 *  - a last panel of at most 8 columns (n = 24, 40, ...): only the low half of each row, since
 *    the packed panel's upper 8 columns are zero padding; with a full panel before it, the two
 *    together in tiles of up to 3 rows x 24 columns (gemm24, below). */

#define STORE_ROW(cp, lo, hi, n) do { \
        if ((n) >= 16) { _mm256_storeu_ps(cp, lo); _mm256_storeu_ps((cp) + 8, hi); } \
        else if ((n) >= 8) { _mm256_storeu_ps(cp, lo); \
            if ((n) > 8) mnet_avx2_store_partial((cp) + 8, hi, (n) - 8); } \
        else mnet_avx2_store_partial(cp, lo, n); \
    } while (0)

/* One row, two panels at a time: 4 independent accumulator chains instead of the tile's 12
 * (enough to keep weight loads, the real limit here, busy).  Each column still accumulates
 * bias, then k = 0, 1, ... in order with FMAs, exactly as in the 6-row loop, so a row's result
 * does not depend on which rows share its tile. */
static void gemm_1x16(size_t nc, size_t kc, const float *a, const float *w, float *c,
        __m256 vmin, __m256 vmax, int act, const char *pf, size_t pf_lines)
{
    const size_t panel = 16 * (kc + 1);
    for (; nc > 16; nc = nc > 32 ? nc - 32 : 0, w += 2 * panel, c += 32) {
        const float *v = w + panel;
        __m256 x0 = _mm256_loadu_ps(w), y0 = _mm256_loadu_ps(w + 8);
        __m256 x1 = _mm256_loadu_ps(v), y1 = _mm256_loadu_ps(v + 8);
        for (size_t k = 0; k < kc; k++) {
            MNET_PREFETCH_STEP(pf, pf_lines);
            const __m256 ak = _mm256_broadcast_ss(a + k);
            x0 = _mm256_fmadd_ps(ak, _mm256_loadu_ps(w + 16 * (k + 1)), x0);
            y0 = _mm256_fmadd_ps(ak, _mm256_loadu_ps(w + 16 * (k + 1) + 8), y0);
            x1 = _mm256_fmadd_ps(ak, _mm256_loadu_ps(v + 16 * (k + 1)), x1);
            y1 = _mm256_fmadd_ps(ak, _mm256_loadu_ps(v + 16 * (k + 1) + 8), y1);
        }
        STORE_ROW(c, mnet_avx2_epi(x0, vmin, vmax, act), mnet_avx2_epi(y0, vmin, vmax, act), 16);
        STORE_ROW(c + 16, mnet_avx2_epi(x1, vmin, vmax, act), mnet_avx2_epi(y1, vmin, vmax, act), nc - 16);
    }
    if (nc > 0) {
        __m256 x0 = _mm256_loadu_ps(w), y0 = _mm256_loadu_ps(w + 8);
        for (size_t k = 0; k < kc; k++) {
            MNET_PREFETCH_STEP(pf, pf_lines);
            const __m256 ak = _mm256_broadcast_ss(a + k);
            x0 = _mm256_fmadd_ps(ak, _mm256_loadu_ps(w + 16 * (k + 1)), x0);
            y0 = _mm256_fmadd_ps(ak, _mm256_loadu_ps(w + 16 * (k + 1) + 8), y0);
        }
        STORE_ROW(c, mnet_avx2_epi(x0, vmin, vmax, act), mnet_avx2_epi(y0, vmin, vmax, act), nc);
    }
}

#define GT_VEC __m256
#define GT_W 8
#define GT_LOAD(p) _mm256_loadu_ps(p)
#define GT_BCAST(p) _mm256_broadcast_ss(p)
#define GT_FMA(a, b, acc) _mm256_fmadd_ps(a, b, acc)
#define GT_STORE2(c, x, y, n) STORE_ROW(c, mnet_avx2_epi(x, vmin, vmax, act), \
        mnet_avx2_epi(y, vmin, vmax, act), n)
#define GT_STORE1(c, x, n) STORE_ROW(c, mnet_avx2_epi(x, vmin, vmax, act), _mm256_setzero_ps(), n)
/* The k loops two steps a turn: one loop count and compare, the pointers bumped once, for two
 * steps of 12 FMAs.  Measured in one process (the tile alone, data in L1, alternating with and
 * without, k = 16..256, three sittings in session 24, the loop without at 6.4-8.5 cycles a step
 * then, 6.0 in the quietest minutes): 0.86-0.97 of the cycles a panel; V2 0.936 and V1 0.944 of
 * their time end to end (docs/PERFORMANCE.md, "Session 24"). */
#if defined(__clang__)
#define GT_K_UNROLL _Pragma("unroll 2")
#else
#define GT_K_UNROLL _Pragma("GCC unroll 2")
#endif
#include "gemm_tile.h"
GEMM_TILE(2)
GEMM_TILE(3)
GEMM_TILE(4)
GEMM_TILE(5)
GEMM_TILE(6)

/* The last 17-24 columns (a full panel and a last one of at most 8 columns: n = 24, 40, 72,
 * 120, ...) in tiles of R <= 3 rows x three vectors.  The tile above computes them as a full
 * panel, then the last panel's low half on its own with only R accumulators, fewer than the 8
 * that hide the FMA latency on two pipes; here 3 R accumulators (9 for 3 rows) take both panels'
 * columns at once.  Every column still accumulates bias, then k = 0, 1, ... in order with FMAs,
 * so the results are the bits of the tile above. */
#define G24_ACC(r)   __m256 x##r = bx, y##r = by, z##r = bz;
#define G24_FMA(r)   { const __m256 va = _mm256_broadcast_ss(a##r + kq); \
                       x##r = _mm256_fmadd_ps(va, b0, x##r); y##r = _mm256_fmadd_ps(va, b1, y##r); \
                       z##r = _mm256_fmadd_ps(va, b2, z##r); }
#define G24_ST(r)    STORE_ROW(c##r, mnet_avx2_epi(x##r, vmin, vmax, act), \
                               mnet_avx2_epi(y##r, vmin, vmax, act), 16); \
                     STORE_ROW(c##r + 16, mnet_avx2_epi(z##r, vmin, vmax, act), _mm256_setzero_ps(), \
                               nc - 16);
#define G24_STEP(R)  { const __m256 b0 = _mm256_loadu_ps(w), b1 = _mm256_loadu_ps(w + 8), \
                       b2 = _mm256_loadu_ps(w + panel); MNET_REP(R, G24_FMA) }
#define GEMM_24(R) \
static void gemm24_##R##x(GT_TILE_PARAMS) \
{ \
    MNET_REP(R, GT_PTRS) \
    const size_t panel = 16 * (kc + 1); \
    const size_t pf_every = MNET_PF_EVERY(kc); \
    const __m256 bx = _mm256_loadu_ps(w), by = _mm256_loadu_ps(w + 8), bz = _mm256_loadu_ps(w + panel); \
    MNET_REP(R, G24_ACC) \
    w += 16; \
    MNET_GEMM_K_LOOP(16, G24_STEP(R), GT_K_UNROLL) \
    MNET_REP(R, G24_ST) \
}
GEMM_24(1)
GEMM_24(2)
GEMM_24(3)

static void gemm24(size_t mr, size_t nc, size_t kc, const float *a, size_t a_stride,
        const float *w, float *c, size_t c_stride, __m256 vmin, __m256 vmax, int act,
        const char *pf, size_t pf_lines)
{
    static const gt_tile_fn sub[4] = { NULL, gemm24_1x, gemm24_2x, gemm24_3x };
    /* 6 rows as 3 + 3, 5 as 3 + 2, 4 as 2 + 2 (two tiles of at least 6 accumulators) */
    const size_t first = mr == 4 ? 2 : mr < 3 ? mr : 3;
    const size_t lines0 = pf_lines * first / mr;
    sub[first](nc, kc, a, a_stride, w, c, c_stride, vmin, vmax, act, pf, lines0);
    if (mr > first)
        sub[mr - first](nc, kc, a + first * a_stride, a_stride, w, c + first * c_stride,
                c_stride, vmin, vmax, act, pf + 64 * lines0, pf_lines - lines0);
}

void mnet_f32_gemm_minmax_6x16__avx2(size_t mr, size_t nc, size_t kc, const float *a,
        size_t a_stride, const float *w, float *c, size_t c_stride, float out_min, float out_max, int act,
        const char *pf, size_t pf_lines)
{
    const __m256 vmin = _mm256_set1_ps(out_min), vmax = _mm256_set1_ps(out_max);
    static const gt_tile_fn tile[7] = {   /* by row count */
        NULL, NULL, gemm_2x, gemm_3x, gemm_4x, gemm_5x, gemm_6x };
    const size_t last = nc % 16;
    if (mr == 1) {
        gemm_1x16(nc, kc, a, w, c, vmin, vmax, act, pf, pf_lines);
    } else if (nc > 16 && last != 0 && last <= 8 && mr <= 6) {
        /* the full panels before the last 24 columns, then those (gemm24); the weight lines
         * to prefetch shared by columns */
        const size_t head = nc - 16 - last, lines = pf_lines * head / nc;
        if (head)
            tile[mr](head, kc, a, a_stride, w, c, c_stride, vmin, vmax, act, pf, lines);
        gemm24(mr, nc - head, kc, a, a_stride, w + head * (kc + 1), c + head, c_stride, vmin,
                vmax, act, pf + 64 * lines, pf_lines - lines);
    } else {
        tile[mr < 6 ? mr : 6](nc, kc, a, a_stride, w, c, c_stride, vmin, vmax, act, pf, pf_lines);
    }
    /* The tiles take __m256 arguments, so the compiler leaves their upper halves dirty when
     * they return, and would make the call above a tail call: the SSE-compiled driver would
     * then run with dirty upper state.  On the Zen 3 development VM that cost about 350 cycles
     * per call (docs/PERFORMANCE.md, "Session 21: an AVX2-only machine"). */
    _mm256_zeroupper();
}
