/* softmax.c - one row of a stable softmax, AVX2 with SLEEF's 1-ulp vector expf. */
#include <math.h>
#include <sleef.h>

#include "avx2_util.h"
#include "ukernels.h"

static inline float hmax(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

void mnet_f32_softmax__avx2(size_t c, const float *in, float *out)
{
    const size_t body = c & ~(size_t)7, tail = c & 7;
    const __m256i m = mnet_avx2_mask(tail);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);

    __m256 vmax = ninf;
    for (size_t i = 0; i < body; i += 8)
        vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(in + i));
    if (tail)   /* masked-off lanes read as 0: replace them by -inf so they cannot win */
        vmax = _mm256_max_ps(vmax, _mm256_blendv_ps(ninf, _mm256_maskload_ps(in + body, m),
                _mm256_castsi256_ps(m)));
    const __m256 mx = _mm256_set1_ps(hmax(vmax));

    /* Every exponent is <= 0, so exp cannot overflow; out may equal in (read before write). */
    __m256 vsum = _mm256_setzero_ps();
    for (size_t i = 0; i < body; i += 8) {
        const __m256 e = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_loadu_ps(in + i), mx));
        _mm256_storeu_ps(out + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    __m256 etail = _mm256_setzero_ps();
    if (tail) {
        etail = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_maskload_ps(in + body, m), mx));
        etail = _mm256_and_ps(etail, _mm256_castsi256_ps(m));
        vsum = _mm256_add_ps(vsum, etail);
    }
    const __m256 inv = _mm256_set1_ps(1.0f / hsum(vsum));   /* sum >= 1: exp(0) is in it */
    for (size_t i = 0; i < body; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(out + i), inv));
    if (tail)
        mnet_avx2_store_partial(out + body, _mm256_mul_ps(etail, inv), tail);
}
