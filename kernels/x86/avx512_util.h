/* avx512_util.h - static inline helpers shared by the AVX-512 kernel files (-mavx512f). */
#ifndef MNET_AVX512_UTIL_H
#define MNET_AVX512_UTIL_H

#include <immintrin.h>

#include "ukernels.h"

/* The kernels' epilogue (MNET_EPI_*), in the scalar reference's operation order. */
static inline __m512 mnet_avx512_epi(__m512 v, __m512 vmin, __m512 vmax, int act)
{
    if (act != MNET_EPI_CLAMP) {
        __m512 t = _mm512_add_ps(v, _mm512_set1_ps(3.0f));
        t = _mm512_min_ps(_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_set1_ps(6.0f));
        t = _mm512_mul_ps(t, _mm512_set1_ps(1.0f / 6.0f));
        v = act == MNET_EPI_HSWISH ? _mm512_mul_ps(v, t) : t;
    }
    return _mm512_min_ps(_mm512_max_ps(v, vmin), vmax);
}

/* The first min(n, 16) lanes. */
static inline __mmask16 mnet_avx512_lanes(size_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* The first min(n, 16) floats of v at p, nothing past them: a plain store when all 16 lanes
 * are real (on AMD's Zen 5 a masked store costs more, which the short-k 1x1 layers showed). */
static inline void mnet_avx512_store(float *p, __m512 v, size_t n)
{
    if (n >= 16)
        _mm512_storeu_ps(p, v);
    else
        _mm512_mask_storeu_ps(p, mnet_avx512_lanes(n), v);
}

#endif /* MNET_AVX512_UTIL_H */
