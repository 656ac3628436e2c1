/* gemm_avx512.c - GEMM tile, AVX-512F: 8 rows x 32 columns held in 16 zmm accumulators (the
 * tile and its tails: gemm_avx512.h).  Zen 4's entry is gemm_avx512_zen4.c. */
#include "gemm_avx512.h"

void mnet_f32_gemm_minmax_8x32__avx512(size_t mr, size_t nc, size_t kc, const float *a,
        size_t a_stride, const float *w, float *c, size_t c_stride, float out_min, float out_max, int act,
        const char *pf, size_t pf_lines)
{
    gemm_8x32(mr, nc, kc, a, a_stride, w, c, c_stride, out_min, out_max, act, pf, pf_lines, tail24,
            NULL);
}
