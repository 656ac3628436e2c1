/* avx2_util.h - static inline helpers shared by the AVX2 kernel files (compiled with -mavx2 -mfma). */
#ifndef MNET_AVX2_UTIL_H
#define MNET_AVX2_UTIL_H

#include <immintrin.h>
#include <stddef.h>

#include "ukernels.h"

/* Lane mask for the first `n` (0..8) lanes.  vmaskmovps never touches memory in masked-off lanes
 * (and never faults there), which is how tails stay inside the caller's buffers. */
static inline __m256i mnet_avx2_mask(size_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __m256 mnet_avx2_clamp(__m256 v, __m256 vmin, __m256 vmax)
{
    return _mm256_min_ps(_mm256_max_ps(v, vmin), vmax);
}

/* The kernels' epilogue (MNET_EPI_*), in the scalar reference's operation order. */
static inline __m256 mnet_avx2_epi(__m256 v, __m256 vmin, __m256 vmax, int act)
{
    if (act != MNET_EPI_CLAMP) {
        __m256 t = _mm256_add_ps(v, _mm256_set1_ps(3.0f));
        t = _mm256_min_ps(_mm256_max_ps(t, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
        t = _mm256_mul_ps(t, _mm256_set1_ps(1.0f / 6.0f));
        v = act == MNET_EPI_HSWISH ? _mm256_mul_ps(v, t) : t;
    }
    return mnet_avx2_clamp(v, vmin, vmax);
}

/* Store the first n (1..7) lanes of v with plain stores, no masked store (slow on some AMD cores). */
static inline void mnet_avx2_store_partial(float *p, __m256 v, size_t n)
{
    __m128 lo = _mm256_castps256_ps128(v);
    if (n & 4) {
        _mm_storeu_ps(p, lo);
        lo = _mm256_extractf128_ps(v, 1);
        p += 4;
    }
    if (n & 2) {
        _mm_storel_pi((__m64 *)p, lo);
        lo = _mm_movehl_ps(lo, lo);
        p += 2;
    }
    if (n & 1)
        _mm_store_ss(p, lo);
}

#endif /* MNET_AVX2_UTIL_H */
