/* add.c - elementwise add with clamp, AVX2; in place (out == a or out == b) is allowed. */
#include "avx2_util.h"
#include "ukernels.h"

void mnet_f32_add_minmax__avx2(size_t count, const float *a, const float *b, float out_min,
        float out_max, float *out)
{
    const __m256 vmin = _mm256_set1_ps(out_min), vmax = _mm256_set1_ps(out_max);
    size_t i = 0;
    /* Each vector is loaded before it is stored, so exact aliasing with a or b is safe. */
    for (; i + 16 <= count; i += 16) {
        __m256 v0 = _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 v1 = _mm256_add_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        _mm256_storeu_ps(out + i, mnet_avx2_clamp(v0, vmin, vmax));
        _mm256_storeu_ps(out + i + 8, mnet_avx2_clamp(v1, vmin, vmax));
    }
    for (; i + 8 <= count; i += 8) {
        __m256 v = _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        _mm256_storeu_ps(out + i, mnet_avx2_clamp(v, vmin, vmax));
    }
    if (i < count) {
        const __m256i m = mnet_avx2_mask(count - i);
        __m256 v = _mm256_add_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
        mnet_avx2_store_partial(out + i, mnet_avx2_clamp(v, vmin, vmax), count - i);
    }
}
