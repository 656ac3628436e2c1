/* gemm_avx512_zen4.c - GEMM tile, AVX-512F, for cores that run a 512-bit FMA as two 256-bit
 * halves (Zen 4; mnet_cpu_avx512_halves): the 8x32 tile with its last panel of 17..24 or at
 * most 8 columns in 256-bit accumulators, and its weight prefetch honouring the far tag
 * (MNET_PF_FAR: L2 only, in calls of at most MNET_GEMM_PF_FAR_ROWS rows).  See gemm_avx512.h. */
#define MNET_GEMM512_T256 1
#define MNET_PF_TAGGED 1
#include "gemm_avx512.h"

void mnet_f32_gemm_minmax_8x32_t256__avx512(size_t mr, size_t nc, size_t kc, const float *a,
        size_t a_stride, const float *w, float *c, size_t c_stride, float out_min, float out_max, int act,
        const char *pf, size_t pf_lines)
{
    gemm_8x32(mr, nc, kc, a, a_stride, w, c, c_stride, out_min, out_max, act, pf, pf_lines, tail24y,
            tail8y);
}
