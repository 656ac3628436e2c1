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

/* h-swish (act = MNET_EPI_HSWISH) or h-sigmoid (any other act) of v, bit for bit as
 * mnet_epilogue_f32 computes it, NaN included: maxps/minps return their second operand when
 * either is NaN, so the constant goes first ("t < 0 ? 0 : t" keeps a NaN t). */
static inline __m256 mnet_avx2_hact(__m256 v, int act)
{
    __m256 t = _mm256_add_ps(v, _mm256_set1_ps(3.0f));
    t = _mm256_min_ps(_mm256_set1_ps(6.0f), _mm256_max_ps(_mm256_setzero_ps(), t));
    t = _mm256_mul_ps(t, _mm256_set1_ps(1.0f / 6.0f));
    return act == MNET_EPI_HSWISH ? _mm256_mul_ps(v, t) : t;
}

/* The kernels' epilogue (MNET_EPI_*), in the scalar reference's operation order. */
static inline __m256 mnet_avx2_epi(__m256 v, __m256 vmin, __m256 vmax, int act)
{
    if (act != MNET_EPI_CLAMP)
        v = mnet_avx2_hact(v, act);
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

/* y[i] = mnet_avx2_hact(x[i], act) over count floats; x == y allowed (every vector is loaded
 * before the same lanes are stored).  Four independent vectors per step hide the latency of
 * the add -> max -> min -> mul -> mul chain. */
static inline void mnet_avx2_hact_array(size_t count, const float *x, float *y, int act)
{
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        const __m256 v0 = mnet_avx2_hact(_mm256_loadu_ps(x + i), act);
        const __m256 v1 = mnet_avx2_hact(_mm256_loadu_ps(x + i + 8), act);
        const __m256 v2 = mnet_avx2_hact(_mm256_loadu_ps(x + i + 16), act);
        const __m256 v3 = mnet_avx2_hact(_mm256_loadu_ps(x + i + 24), act);
        _mm256_storeu_ps(y + i, v0);
        _mm256_storeu_ps(y + i + 8, v1);
        _mm256_storeu_ps(y + i + 16, v2);
        _mm256_storeu_ps(y + i + 24, v3);
    }
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(y + i, mnet_avx2_hact(_mm256_loadu_ps(x + i), act));
    if (i < count)
        mnet_avx2_store_partial(y + i,
                mnet_avx2_hact(_mm256_maskload_ps(x + i, mnet_avx2_mask(count - i)), act), count - i);
}

#endif /* MNET_AVX2_UTIL_H */
