/* gemm.c - GEMM tile in portable C: a 4x4 register block the compiler can keep in registers. */
#include "ukernels.h"

#define MR 4
#define NR 4

void mnet_f32_gemm_minmax_4x4__scalar(size_t mr, size_t nc, size_t kc, const float *a,
        size_t a_stride, const float *packed_w, float *c, size_t c_stride,
        float out_min, float out_max, int act, const char *pf, size_t pf_lines)
{
    (void)pf;   /* the portable reference stays a plain loop nest */
    (void)pf_lines;
    for (size_t j0 = 0; j0 < nc; j0 += NR, packed_w += NR * (kc + 1)) {
        float acc[MR][NR];
        for (size_t i = 0; i < MR; i++)
            for (size_t j = 0; j < NR; j++)
                acc[i][j] = packed_w[j];
        const float *w = packed_w + NR;
        for (size_t k = 0; k < kc; k++, w += NR)
            for (size_t i = 0; i < MR; i++) {
                /* Rows past mr re-read row 0: computed, never stored. */
                const float av = a[(i < mr ? i : 0) * a_stride + k];
                for (size_t j = 0; j < NR; j++)
                    acc[i][j] += av * w[j];
            }
        const size_t cols = nc - j0 < NR ? nc - j0 : NR;
        for (size_t i = 0; i < mr; i++)
            for (size_t j = 0; j < cols; j++)
                c[i * c_stride + j0 + j] = mnet_epilogue_f32(acc[i][j], out_min, out_max, act);
    }
}
