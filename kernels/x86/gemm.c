/* gemm.c - GEMM tile, AVX2+FMA: 6 rows x 16 columns held in 12 ymm accumulators. */
#include "avx2_util.h"
#include "ukernels.h"

/* 6x16: 12 accumulators + 2 weight vectors + 1 broadcast = 15 of the 16 ymm registers.  Per k
 * step: 2 weight loads + 6 broadcast loads feed 12 FMAs, so the two FMA pipes, not the load
 * ports, set the pace; 12 independent accumulators cover the 4-cycle FMA latency x 2 pipes.
 * Two shapes get their own loops instead of wasting the tile:
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

void mnet_f32_gemm_minmax_6x16__avx2(size_t mr, size_t nc, size_t kc, const float *a,
        size_t a_stride, const float *w, float *c, size_t c_stride, float out_min, float out_max, int act,
        const char *pf, size_t pf_lines)
{
    const __m256 vmin = _mm256_set1_ps(out_min), vmax = _mm256_set1_ps(out_max);
    if (mr == 1) {
        gemm_1x16(nc, kc, a, w, c, vmin, vmax, act, pf, pf_lines);
        return;
    }
    /* Rows past mr alias the row above: computed twice, stored twice with the same value. */
    const float *a0 = a;
    float *c0 = c;
    const float *a1 = mr > 1 ? a0 + a_stride : a0;
    float *c1 = mr > 1 ? c0 + c_stride : c0;
    const float *a2 = mr > 2 ? a1 + a_stride : a1;
    float *c2 = mr > 2 ? c1 + c_stride : c1;
    const float *a3 = mr > 3 ? a2 + a_stride : a2;
    float *c3 = mr > 3 ? c2 + c_stride : c2;
    const float *a4 = mr > 4 ? a3 + a_stride : a3;
    float *c4 = mr > 4 ? c3 + c_stride : c3;
    const float *a5 = mr > 5 ? a4 + a_stride : a4;
    float *c5 = mr > 5 ? c4 + c_stride : c4;

    while (nc > 8) {
        __m256 x0 = _mm256_loadu_ps(w), y0 = _mm256_loadu_ps(w + 8);   /* bias */
        __m256 x1 = x0, y1 = y0, x2 = x0, y2 = y0, x3 = x0, y3 = y0, x4 = x0, y4 = y0;
        __m256 x5 = x0, y5 = y0;
        w += 16;
#define STEP6x16(k) do { \
            const __m256 b0 = _mm256_loadu_ps(w), b1 = _mm256_loadu_ps(w + 8); \
            __m256 va = _mm256_broadcast_ss(a0 + (k)); \
            x0 = _mm256_fmadd_ps(va, b0, x0); \
            y0 = _mm256_fmadd_ps(va, b1, y0); \
            va = _mm256_broadcast_ss(a1 + (k)); \
            x1 = _mm256_fmadd_ps(va, b0, x1); \
            y1 = _mm256_fmadd_ps(va, b1, y1); \
            va = _mm256_broadcast_ss(a2 + (k)); \
            x2 = _mm256_fmadd_ps(va, b0, x2); \
            y2 = _mm256_fmadd_ps(va, b1, y2); \
            va = _mm256_broadcast_ss(a3 + (k)); \
            x3 = _mm256_fmadd_ps(va, b0, x3); \
            y3 = _mm256_fmadd_ps(va, b1, y3); \
            va = _mm256_broadcast_ss(a4 + (k)); \
            x4 = _mm256_fmadd_ps(va, b0, x4); \
            y4 = _mm256_fmadd_ps(va, b1, y4); \
            va = _mm256_broadcast_ss(a5 + (k)); \
            x5 = _mm256_fmadd_ps(va, b0, x5); \
            y5 = _mm256_fmadd_ps(va, b1, y5); \
        } while (0)
        MNET_GEMM_K_LOOP(kc, w, 16, pf, pf_lines, STEP6x16);
#undef STEP6x16
        x0 = mnet_avx2_epi(x0, vmin, vmax, act); y0 = mnet_avx2_epi(y0, vmin, vmax, act);
        x1 = mnet_avx2_epi(x1, vmin, vmax, act); y1 = mnet_avx2_epi(y1, vmin, vmax, act);
        x2 = mnet_avx2_epi(x2, vmin, vmax, act); y2 = mnet_avx2_epi(y2, vmin, vmax, act);
        x3 = mnet_avx2_epi(x3, vmin, vmax, act); y3 = mnet_avx2_epi(y3, vmin, vmax, act);
        x4 = mnet_avx2_epi(x4, vmin, vmax, act); y4 = mnet_avx2_epi(y4, vmin, vmax, act);
        x5 = mnet_avx2_epi(x5, vmin, vmax, act); y5 = mnet_avx2_epi(y5, vmin, vmax, act);
        /* Highest row first: aliased rows then end with the real row's (identical) values. */
        STORE_ROW(c5, x5, y5, nc);
        STORE_ROW(c4, x4, y4, nc);
        STORE_ROW(c3, x3, y3, nc);
        STORE_ROW(c2, x2, y2, nc);
        STORE_ROW(c1, x1, y1, nc);
        STORE_ROW(c0, x0, y0, nc);
        if (nc <= 16)
            return;
        c0 += 16; c1 += 16; c2 += 16; c3 += 16; c4 += 16; c5 += 16;
        nc -= 16;
    }
    if (nc == 0)
        return;
    /* Last panel, 1..8 columns: the low half only (the weight stride stays 16). */
    __m256 x0 = _mm256_loadu_ps(w);
    __m256 x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
    w += 16;
#define STEP6x8(k) do { \
        const __m256 b0 = _mm256_loadu_ps(w); \
        x0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + (k)), b0, x0); \
        x1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + (k)), b0, x1); \
        x2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + (k)), b0, x2); \
        x3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + (k)), b0, x3); \
        x4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + (k)), b0, x4); \
        x5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + (k)), b0, x5); \
    } while (0)
    MNET_GEMM_K_LOOP(kc, w, 16, pf, pf_lines, STEP6x8);
#undef STEP6x8
    const __m256 z = _mm256_setzero_ps();
    STORE_ROW(c5, mnet_avx2_epi(x5, vmin, vmax, act), z, nc);
    STORE_ROW(c4, mnet_avx2_epi(x4, vmin, vmax, act), z, nc);
    STORE_ROW(c3, mnet_avx2_epi(x3, vmin, vmax, act), z, nc);
    STORE_ROW(c2, mnet_avx2_epi(x2, vmin, vmax, act), z, nc);
    STORE_ROW(c1, mnet_avx2_epi(x1, vmin, vmax, act), z, nc);
    STORE_ROW(c0, mnet_avx2_epi(x0, vmin, vmax, act), z, nc);
}
