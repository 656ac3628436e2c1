/* channel_scale.c - squeeze-and-excite apply, y[p][ch] = x[p][ch] * scale[ch], AVX2. */
#include "avx2_util.h"
#include "ukernels.h"

void mnet_f32_channel_scale__avx2(size_t pixels, size_t c, const float *x, const float *scale,
        float *y)
{
    /* One pixel (c channels) at a time, so scale lines up with x lane for lane and stays in L1.
     * Every vector of x is loaded before the same lanes of y are stored: x == y is fine. */
    const size_t tail = c & 7;
    const __m256i m = mnet_avx2_mask(tail);
    for (size_t p = 0; p < pixels; p++, x += c, y += c) {
        size_t ch = 0;
        for (; ch + 32 <= c; ch += 32) {
            const __m256 v0 = _mm256_mul_ps(_mm256_loadu_ps(x + ch), _mm256_loadu_ps(scale + ch));
            const __m256 v1 = _mm256_mul_ps(_mm256_loadu_ps(x + ch + 8),
                    _mm256_loadu_ps(scale + ch + 8));
            const __m256 v2 = _mm256_mul_ps(_mm256_loadu_ps(x + ch + 16),
                    _mm256_loadu_ps(scale + ch + 16));
            const __m256 v3 = _mm256_mul_ps(_mm256_loadu_ps(x + ch + 24),
                    _mm256_loadu_ps(scale + ch + 24));
            _mm256_storeu_ps(y + ch, v0);
            _mm256_storeu_ps(y + ch + 8, v1);
            _mm256_storeu_ps(y + ch + 16, v2);
            _mm256_storeu_ps(y + ch + 24, v3);
        }
        for (; ch + 8 <= c; ch += 8)
            _mm256_storeu_ps(y + ch, _mm256_mul_ps(_mm256_loadu_ps(x + ch),
                    _mm256_loadu_ps(scale + ch)));
        if (tail)
            mnet_avx2_store_partial(y + ch, _mm256_mul_ps(_mm256_maskload_ps(x + ch, m),
                    _mm256_maskload_ps(scale + ch, m)), tail);
    }
}
