/* bn_relu6.c - fused BatchNorm (scale/shift) + ReLU6, AVX2, channels vectorised per pixel. */
#include "avx2_util.h"
#include "ukernels.h"

void mnet_f32_bn_relu6__avx2(size_t pixels, size_t c, const float *x, const float *scale,
        const float *shift, float *y)
{
    const __m256 zero = _mm256_setzero_ps(), six = _mm256_set1_ps(6.0f);
    const size_t tail = c & 7;
    const __m256i m = mnet_avx2_mask(tail);
    for (size_t p = 0; p < pixels; p++, x += c, y += c) {
        size_t ch = 0;
        for (; ch + 8 <= c; ch += 8) {
            __m256 v = _mm256_fmadd_ps(_mm256_loadu_ps(x + ch), _mm256_loadu_ps(scale + ch),
                    _mm256_loadu_ps(shift + ch));
            _mm256_storeu_ps(y + ch, mnet_avx2_clamp(v, zero, six));
        }
        if (tail) {
            __m256 v = _mm256_fmadd_ps(_mm256_maskload_ps(x + ch, m),
                    _mm256_maskload_ps(scale + ch, m), _mm256_maskload_ps(shift + ch, m));
            mnet_avx2_store_partial(y + ch, mnet_avx2_clamp(v, zero, six), tail);
        }
    }
}
