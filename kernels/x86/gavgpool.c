/* gavgpool.c - global average pool of one NHWC image, AVX2: 32 channels per pass over pixels. */
#include "avx2_util.h"
#include "ukernels.h"

void mnet_f32_gavgpool__avx2(size_t pixels, size_t c, const float *in, float *out)
{
    const __m256 inv = _mm256_set1_ps(1.0f / (float)pixels);
    size_t ch = 0;
    /* Four accumulators per pass: each pixel row contributes one full 128-byte line. */
    for (; ch + 32 <= c; ch += 32) {
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (const float *p = in + ch, *end = p + pixels * c; p < end; p += c) {
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + 8));
            s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + 16));
            s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + 24));
        }
        _mm256_storeu_ps(out + ch, _mm256_mul_ps(s0, inv));
        _mm256_storeu_ps(out + ch + 8, _mm256_mul_ps(s1, inv));
        _mm256_storeu_ps(out + ch + 16, _mm256_mul_ps(s2, inv));
        _mm256_storeu_ps(out + ch + 24, _mm256_mul_ps(s3, inv));
    }
    for (; ch < c; ch += 8) {
        const size_t n = c - ch < 8 ? c - ch : 8;
        const __m256i m = mnet_avx2_mask(n);
        __m256 s = _mm256_setzero_ps();
        for (size_t p = 0; p < pixels; p++)
            s = _mm256_add_ps(s, _mm256_maskload_ps(in + p * c + ch, m));
        s = _mm256_mul_ps(s, inv);
        if (n == 8)
            _mm256_storeu_ps(out + ch, s);
        else
            mnet_avx2_store_partial(out + ch, s, n);
    }
}
