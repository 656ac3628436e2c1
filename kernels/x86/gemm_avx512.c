/* gemm_avx512.c - GEMM tile, AVX-512F: 8 rows x 32 columns held in 16 zmm accumulators. */
#include <immintrin.h>

#include "avx512_util.h"
#include "ukernels.h"

/* 8x32: 16 accumulators + 2 weight vectors + 1 broadcast of the 32 zmm registers.  Per k step:
 * 2 weight loads + 8 broadcasts feed 16 FMAs: on cores with two 512-bit FMA pipes that is 8
 * cycles of FMAs against 10 loads, and 16 independent chains cover the FMA latency.  MR = 8
 * wastes little on MobileNet's row counts (49 = 6 x 8 + 1, 196 = 24 x 8 + 4).
 * As in the AVX2 kernel, a last panel of at most 16 columns computes only its low half, and a
 * single row (the classifier) runs two panels at a time; every column accumulates bias, then
 * k = 0, 1, ... with FMAs in order, so a row's result never depends on its tile.
 * Column tails use masked stores, which never touch memory in masked-off lanes. */

static inline __mmask16 lanes(size_t n)   /* the first min(n, 16) lanes */
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}


static inline void store_row(float *c, __m512 lo, __m512 hi, size_t n)
{
    _mm512_mask_storeu_ps(c, lanes(n), lo);
    if (n > 16)
        _mm512_mask_storeu_ps(c + 16, lanes(n - 16), hi);
}

static void gemm_1x32(size_t nc, size_t kc, const float *a, const float *w, float *c,
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

void mnet_f32_gemm_minmax_8x32__avx512(size_t mr, size_t nc, size_t kc, const float *a,
        size_t a_stride, const float *w, float *c, size_t c_stride, float out_min, float out_max, int act,
        const char *pf, size_t pf_lines)
{
    const __m512 vmin = _mm512_set1_ps(out_min), vmax = _mm512_set1_ps(out_max);
    if (mr == 1) {
        gemm_1x32(nc, kc, a, w, c, vmin, vmax, act, pf, pf_lines);
        return;
    }
    /* Rows past mr alias the row above: computed twice, stored twice with the same value. */
    const float *ar[8];
    float *cr[8];
    ar[0] = a;
    cr[0] = c;
    for (int r = 1; r < 8; r++) {
        ar[r] = (size_t)r < mr ? ar[r - 1] + a_stride : ar[r - 1];
        cr[r] = (size_t)r < mr ? cr[r - 1] + c_stride : cr[r - 1];
    }
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
    const float *a4 = ar[4], *a5 = ar[5], *a6 = ar[6], *a7 = ar[7];

    while (nc > 16) {
        __m512 x0 = _mm512_loadu_ps(w), y0 = _mm512_loadu_ps(w + 16);   /* bias */
        __m512 x1 = x0, y1 = y0, x2 = x0, y2 = y0, x3 = x0, y3 = y0;
        __m512 x4 = x0, y4 = y0, x5 = x0, y5 = y0, x6 = x0, y6 = y0, x7 = x0, y7 = y0;
        w += 32;
#define STEP8x32(k) do { \
            const __m512 b0 = _mm512_loadu_ps(w), b1 = _mm512_loadu_ps(w + 16); \
            __m512 va = _mm512_set1_ps(a0[k]); \
            x0 = _mm512_fmadd_ps(va, b0, x0); y0 = _mm512_fmadd_ps(va, b1, y0); \
            va = _mm512_set1_ps(a1[k]); \
            x1 = _mm512_fmadd_ps(va, b0, x1); y1 = _mm512_fmadd_ps(va, b1, y1); \
            va = _mm512_set1_ps(a2[k]); \
            x2 = _mm512_fmadd_ps(va, b0, x2); y2 = _mm512_fmadd_ps(va, b1, y2); \
            va = _mm512_set1_ps(a3[k]); \
            x3 = _mm512_fmadd_ps(va, b0, x3); y3 = _mm512_fmadd_ps(va, b1, y3); \
            va = _mm512_set1_ps(a4[k]); \
            x4 = _mm512_fmadd_ps(va, b0, x4); y4 = _mm512_fmadd_ps(va, b1, y4); \
            va = _mm512_set1_ps(a5[k]); \
            x5 = _mm512_fmadd_ps(va, b0, x5); y5 = _mm512_fmadd_ps(va, b1, y5); \
            va = _mm512_set1_ps(a6[k]); \
            x6 = _mm512_fmadd_ps(va, b0, x6); y6 = _mm512_fmadd_ps(va, b1, y6); \
            va = _mm512_set1_ps(a7[k]); \
            x7 = _mm512_fmadd_ps(va, b0, x7); y7 = _mm512_fmadd_ps(va, b1, y7); \
        } while (0)
        MNET_GEMM_K_LOOP(kc, w, 32, pf, pf_lines, STEP8x32);
#undef STEP8x32
        /* Highest row first: aliased rows then end with the real row's (identical) values. */
        store_row(cr[7], mnet_avx512_epi(x7, vmin, vmax, act), mnet_avx512_epi(y7, vmin, vmax, act), nc);
        store_row(cr[6], mnet_avx512_epi(x6, vmin, vmax, act), mnet_avx512_epi(y6, vmin, vmax, act), nc);
        store_row(cr[5], mnet_avx512_epi(x5, vmin, vmax, act), mnet_avx512_epi(y5, vmin, vmax, act), nc);
        store_row(cr[4], mnet_avx512_epi(x4, vmin, vmax, act), mnet_avx512_epi(y4, vmin, vmax, act), nc);
        store_row(cr[3], mnet_avx512_epi(x3, vmin, vmax, act), mnet_avx512_epi(y3, vmin, vmax, act), nc);
        store_row(cr[2], mnet_avx512_epi(x2, vmin, vmax, act), mnet_avx512_epi(y2, vmin, vmax, act), nc);
        store_row(cr[1], mnet_avx512_epi(x1, vmin, vmax, act), mnet_avx512_epi(y1, vmin, vmax, act), nc);
        store_row(cr[0], mnet_avx512_epi(x0, vmin, vmax, act), mnet_avx512_epi(y0, vmin, vmax, act), nc);
        if (nc <= 32)
            return;
        for (int r = 0; r < 8; r++)
            cr[r] += 32;
        nc -= 32;
    }
    if (nc == 0)
        return;
    /* Last panel, 1..16 columns: the low half only (the weight stride stays 32). */
    __m512 x0 = _mm512_loadu_ps(w);
    __m512 x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0, x6 = x0, x7 = x0;
    w += 32;
#define STEP8x16(k) do { \
        const __m512 b0 = _mm512_loadu_ps(w); \
        x0 = _mm512_fmadd_ps(_mm512_set1_ps(a0[k]), b0, x0); \
        x1 = _mm512_fmadd_ps(_mm512_set1_ps(a1[k]), b0, x1); \
        x2 = _mm512_fmadd_ps(_mm512_set1_ps(a2[k]), b0, x2); \
        x3 = _mm512_fmadd_ps(_mm512_set1_ps(a3[k]), b0, x3); \
        x4 = _mm512_fmadd_ps(_mm512_set1_ps(a4[k]), b0, x4); \
        x5 = _mm512_fmadd_ps(_mm512_set1_ps(a5[k]), b0, x5); \
        x6 = _mm512_fmadd_ps(_mm512_set1_ps(a6[k]), b0, x6); \
        x7 = _mm512_fmadd_ps(_mm512_set1_ps(a7[k]), b0, x7); \
    } while (0)
    MNET_GEMM_K_LOOP(kc, w, 32, pf, pf_lines, STEP8x16);
#undef STEP8x16
    const __mmask16 m = lanes(nc);
    _mm512_mask_storeu_ps(cr[7], m, mnet_avx512_epi(x7, vmin, vmax, act));
    _mm512_mask_storeu_ps(cr[6], m, mnet_avx512_epi(x6, vmin, vmax, act));
    _mm512_mask_storeu_ps(cr[5], m, mnet_avx512_epi(x5, vmin, vmax, act));
    _mm512_mask_storeu_ps(cr[4], m, mnet_avx512_epi(x4, vmin, vmax, act));
    _mm512_mask_storeu_ps(cr[3], m, mnet_avx512_epi(x3, vmin, vmax, act));
    _mm512_mask_storeu_ps(cr[2], m, mnet_avx512_epi(x2, vmin, vmax, act));
    _mm512_mask_storeu_ps(cr[1], m, mnet_avx512_epi(x1, vmin, vmax, act));
    _mm512_mask_storeu_ps(cr[0], m, mnet_avx512_epi(x0, vmin, vmax, act));
}
