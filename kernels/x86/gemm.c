/* gemm.c - GEMM tile, AVX2+FMA: 6 rows x 16 columns held in 12 ymm accumulators. */
#include "avx2_util.h"
#include "ukernels.h"

/* 6x16: 12 accumulators + 2 weight vectors + 1 broadcast = 15 of the 16 ymm registers.  Per k
 * step: 2 weight loads + 6 broadcast loads feed 12 FMAs, so the two FMA pipes, not the load
 * ports, set the pace; 12 independent accumulators cover the 4-cycle FMA latency x 2 pipes. */
void mnet_f32_gemm_minmax_6x16__avx2(size_t mr, size_t nc, size_t kc, const float *a,
        size_t a_stride, const float *w, float *c, size_t c_stride, float out_min, float out_max)
{
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
    const __m256 vmin = _mm256_set1_ps(out_min), vmax = _mm256_set1_ps(out_max);

    for (;;) {
        __m256 x0 = _mm256_loadu_ps(w), y0 = _mm256_loadu_ps(w + 8);   /* bias */
        __m256 x1 = x0, y1 = y0, x2 = x0, y2 = y0, x3 = x0, y3 = y0, x4 = x0, y4 = y0;
        __m256 x5 = x0, y5 = y0;
        w += 16;
        for (size_t k = 0; k < kc; k++, w += 16) {
            const __m256 b0 = _mm256_loadu_ps(w), b1 = _mm256_loadu_ps(w + 8);
            __m256 va = _mm256_broadcast_ss(a0 + k);
            x0 = _mm256_fmadd_ps(va, b0, x0);
            y0 = _mm256_fmadd_ps(va, b1, y0);
            va = _mm256_broadcast_ss(a1 + k);
            x1 = _mm256_fmadd_ps(va, b0, x1);
            y1 = _mm256_fmadd_ps(va, b1, y1);
            va = _mm256_broadcast_ss(a2 + k);
            x2 = _mm256_fmadd_ps(va, b0, x2);
            y2 = _mm256_fmadd_ps(va, b1, y2);
            va = _mm256_broadcast_ss(a3 + k);
            x3 = _mm256_fmadd_ps(va, b0, x3);
            y3 = _mm256_fmadd_ps(va, b1, y3);
            va = _mm256_broadcast_ss(a4 + k);
            x4 = _mm256_fmadd_ps(va, b0, x4);
            y4 = _mm256_fmadd_ps(va, b1, y4);
            va = _mm256_broadcast_ss(a5 + k);
            x5 = _mm256_fmadd_ps(va, b0, x5);
            y5 = _mm256_fmadd_ps(va, b1, y5);
        }
        x0 = mnet_avx2_clamp(x0, vmin, vmax); y0 = mnet_avx2_clamp(y0, vmin, vmax);
        x1 = mnet_avx2_clamp(x1, vmin, vmax); y1 = mnet_avx2_clamp(y1, vmin, vmax);
        x2 = mnet_avx2_clamp(x2, vmin, vmax); y2 = mnet_avx2_clamp(y2, vmin, vmax);
        x3 = mnet_avx2_clamp(x3, vmin, vmax); y3 = mnet_avx2_clamp(y3, vmin, vmax);
        x4 = mnet_avx2_clamp(x4, vmin, vmax); y4 = mnet_avx2_clamp(y4, vmin, vmax);
        x5 = mnet_avx2_clamp(x5, vmin, vmax); y5 = mnet_avx2_clamp(y5, vmin, vmax);

        if (nc >= 16) {
            _mm256_storeu_ps(c5, x5); _mm256_storeu_ps(c5 + 8, y5);
            _mm256_storeu_ps(c4, x4); _mm256_storeu_ps(c4 + 8, y4);
            _mm256_storeu_ps(c3, x3); _mm256_storeu_ps(c3 + 8, y3);
            _mm256_storeu_ps(c2, x2); _mm256_storeu_ps(c2 + 8, y2);
            _mm256_storeu_ps(c1, x1); _mm256_storeu_ps(c1 + 8, y1);
            _mm256_storeu_ps(c0, x0); _mm256_storeu_ps(c0 + 8, y0);
            c0 += 16; c1 += 16; c2 += 16; c3 += 16; c4 += 16; c5 += 16;
            nc -= 16;
            if (nc == 0)
                return;
            continue;
        }
        /* Column tail (1..15): an 8-wide half, then the rest piecewise. */
        if (nc & 8) {
            _mm256_storeu_ps(c5, x5); _mm256_storeu_ps(c4, x4); _mm256_storeu_ps(c3, x3);
            _mm256_storeu_ps(c2, x2); _mm256_storeu_ps(c1, x1); _mm256_storeu_ps(c0, x0);
            x0 = y0; x1 = y1; x2 = y2; x3 = y3; x4 = y4; x5 = y5;
            c0 += 8; c1 += 8; c2 += 8; c3 += 8; c4 += 8; c5 += 8;
        }
        const size_t rest = nc & 7;
        if (rest) {
            mnet_avx2_store_partial(c5, x5, rest); mnet_avx2_store_partial(c4, x4, rest);
            mnet_avx2_store_partial(c3, x3, rest); mnet_avx2_store_partial(c2, x2, rest);
            mnet_avx2_store_partial(c1, x1, rest); mnet_avx2_store_partial(c0, x0, rest);
        }
        return;
    }
}
