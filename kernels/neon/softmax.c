/* softmax.c - one row of a numerically stable softmax for AArch64 NEON, exp from SLEEF. */
#include <math.h>

#include <arm_neon.h>
#include <sleef.h>

#include "ukernels.h"
#include "tail.h"

void mnet_f32_softmax__neon(size_t c, const float *in, float *out)
{
    /* Pass 1: the row max.  Tail lanes are filled with in[0], which cannot raise the max. */
    const float32x4_t first = vld1q_dup_f32(in);
    float32x4_t vmax0 = first, vmax1 = first;
    size_t i = 0;
    for (; i + 8 <= c; i += 8) {
        vmax0 = vmaxq_f32(vmax0, vld1q_f32(in + i));
        vmax1 = vmaxq_f32(vmax1, vld1q_f32(in + i + 4));
    }
    for (; i + 4 <= c; i += 4)
        vmax0 = vmaxq_f32(vmax0, vld1q_f32(in + i));
    if (i < c)
        vmax1 = vmaxq_f32(vmax1, mnet_neon_load_tail(in + i, c - i, first));
    const float max = vmaxvq_f32(vmaxq_f32(vmax0, vmax1));
    const float32x4_t vmax = vdupq_n_f32(max);

    /* Pass 2: out = exp(in - max), every exponent <= 0 so nothing overflows.  Each lane is read
     * before it is written, so out == in is safe.  Tail lanes are filled with -inf: SLEEF
     * returns exactly 0 for them, so they add nothing to the sum and are never stored. */
    float32x4_t vsum0 = vdupq_n_f32(0.0f), vsum1 = vsum0;
    i = 0;
    for (; i + 8 <= c; i += 8) {
        const float32x4_t e0 = Sleef_expf4_u10advsimd(vsubq_f32(vld1q_f32(in + i), vmax));
        const float32x4_t e1 = Sleef_expf4_u10advsimd(vsubq_f32(vld1q_f32(in + i + 4), vmax));
        vst1q_f32(out + i, e0);
        vst1q_f32(out + i + 4, e1);
        vsum0 = vaddq_f32(vsum0, e0);
        vsum1 = vaddq_f32(vsum1, e1);
    }
    for (; i + 4 <= c; i += 4) {
        const float32x4_t e = Sleef_expf4_u10advsimd(vsubq_f32(vld1q_f32(in + i), vmax));
        vst1q_f32(out + i, e);
        vsum0 = vaddq_f32(vsum0, e);
    }
    if (i < c) {
        const float32x4_t x = mnet_neon_load_tail(in + i, c - i, vdupq_n_f32(-INFINITY));
        const float32x4_t e = Sleef_expf4_u10advsimd(vsubq_f32(x, vmax));
        mnet_neon_store_tail(out + i, e, c - i);
        vsum1 = vaddq_f32(vsum1, e);
    }

    /* Pass 3: scale by 1 / sum (sum >= 1: the max term is exp(0)). */
    const float32x4_t vinv = vdupq_n_f32(1.0f / vaddvq_f32(vaddq_f32(vsum0, vsum1)));
    i = 0;
    for (; i + 8 <= c; i += 8) {
        vst1q_f32(out + i, vmulq_f32(vld1q_f32(out + i), vinv));
        vst1q_f32(out + i + 4, vmulq_f32(vld1q_f32(out + i + 4), vinv));
    }
    for (; i + 4 <= c; i += 4)
        vst1q_f32(out + i, vmulq_f32(vld1q_f32(out + i), vinv));
    if (i < c) {
        const size_t n = c - i;
        mnet_neon_store_tail(out + i,
                vmulq_f32(mnet_neon_load_tail(out + i, n, vdupq_n_f32(0.0f)), vinv), n);
    }
}
