/* gemm.c - GEMM tile, AVX2+FMA: 6 rows x 16 columns held in 12 ymm accumulators. */
#include "avx2_util.h"
#include "ukernels.h"

/* 6x16: 12 accumulators + 2 weight vectors + 1 broadcast = 15 of the 16 ymm registers.  Per k
 * step: 2 weight loads + 6 broadcast loads feed 12 FMAs, so the two FMA pipes, not the load
 * ports, set the pace; 12 independent accumulators cover the 4-cycle FMA latency x 2 pipes.
 * A tile of mr < 6 rows computes exactly mr rows (gemm_2x16 .. gemm_5x16, one macro body),
 * and the driver cuts a layer's rows into near-equal tiles.  Two shapes get their own loops
 * instead of wasting the tile:
 *  - one row (the classifier, m = 1): only that row, two panels at a time;
 *  - a last panel of at most 8 columns (n = 24, 40, ...): only the low half of each row, since
 *    the packed panel's upper 8 columns are zero padding. */

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

/* The pieces of gemm_Rx16, for row r of the tile. */
#define PTRS(r)  const float *const a##r = a + (r) * a_stride; float *c##r = c + (r) * c_stride;
#define ACC2(r)  __m256 x##r = bx, y##r = by;
#define ACC1(r)  __m256 x##r = bx;
#define FMA2(r)  { const __m256 va = _mm256_broadcast_ss(a##r + kq); \
                   x##r = _mm256_fmadd_ps(va, b0, x##r); y##r = _mm256_fmadd_ps(va, b1, y##r); }
#define FMA1(r)  x##r = _mm256_fmadd_ps(_mm256_broadcast_ss(a##r + kq), b0, x##r);
#define STORE2(r) STORE_ROW(c##r, mnet_avx2_epi(x##r, vmin, vmax, act), \
                      mnet_avx2_epi(y##r, vmin, vmax, act), nc); c##r += 16;
#define STORE1(r) STORE_ROW(c##r, mnet_avx2_epi(x##r, vmin, vmax, act), z, nc);
#define STEP2(R) { const __m256 b0 = _mm256_loadu_ps(w), b1 = _mm256_loadu_ps(w + 8); \
                   MNET_REP(R, FMA2) }
#define STEP1(R) { const __m256 b0 = _mm256_loadu_ps(w); MNET_REP(R, FMA1) }

/* gemm_Rx16: a tile of exactly R rows (2..6), so the driver's near-equal tiles (49 rows =
 * 4 x 5 + 5 x 6) cost what they compute.  Per 16-column panel: R x 2 accumulators, two weight
 * loads and R broadcasts per k step; a last panel of at most 8 columns, only its low half (the
 * packed panel's upper 8 columns are zero padding). */
#define DEFINE_TILE(R) \
static void gemm_##R##x16(size_t nc, size_t kc, const float *a, size_t a_stride, \
        const float *w, float *c, size_t c_stride, __m256 vmin, __m256 vmax, int act, \
        const char *pf, size_t pf_lines) \
{ \
    MNET_REP(R, PTRS) \
    for (; nc > 8; nc -= 16) { \
        const __m256 bx = _mm256_loadu_ps(w), by = _mm256_loadu_ps(w + 8); /* bias */ \
        MNET_REP(R, ACC2) \
        w += 16; \
        MNET_GEMM_K_LOOP_KQ(16, STEP2(R)) \
        MNET_REP(R, STORE2) \
        if (nc <= 16) \
            return; \
    } \
    if (nc == 0) \
        return; \
    const __m256 bx = _mm256_loadu_ps(w), z = _mm256_setzero_ps(); \
    MNET_REP(R, ACC1) \
    w += 16; \
    MNET_GEMM_K_LOOP_KQ(16, STEP1(R)) \
    MNET_REP(R, STORE1) \
}
DEFINE_TILE(2)
DEFINE_TILE(3)
DEFINE_TILE(4)
DEFINE_TILE(5)
DEFINE_TILE(6)

void mnet_f32_gemm_minmax_6x16__avx2(size_t mr, size_t nc, size_t kc, const float *a,
        size_t a_stride, const float *w, float *c, size_t c_stride, float out_min, float out_max, int act,
        const char *pf, size_t pf_lines)
{
    const __m256 vmin = _mm256_set1_ps(out_min), vmax = _mm256_set1_ps(out_max);
    static void (*const tile[7])(size_t, size_t, const float *, size_t, const float *, float *,
            size_t, __m256, __m256, int, const char *, size_t) = {   /* by row count */
        NULL, NULL, gemm_2x16, gemm_3x16, gemm_4x16, gemm_5x16, gemm_6x16 };
    if (mr == 1)
        gemm_1x16(nc, kc, a, w, c, vmin, vmax, act, pf, pf_lines);
    else
        tile[mr < 6 ? mr : 6](nc, kc, a, a_stride, w, c, c_stride, vmin, vmax, act, pf, pf_lines);
}
