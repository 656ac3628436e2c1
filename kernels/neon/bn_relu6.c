/* bn_relu6.c - fused BatchNorm (as scale/shift) + ReLU6 for AArch64 NEON; x == y allowed. */
#include <arm_neon.h>

#include "ukernels.h"
#include "tail.h"

void mnet_f32_bn_relu6__neon(size_t pixels, size_t c, const float *x, const float *scale,
        const float *shift, float *y)
{
    const float32x4_t zero = vdupq_n_f32(0.0f), six = vdupq_n_f32(6.0f);
    /* One pixel (a row of c channels) at a time, so scale/shift line up with x lane for lane;
     * they stay in L1 across pixels.  Each lane is read before it is written (x == y is fine). */
    for (size_t p = 0; p < pixels; p++, x += c, y += c) {
        size_t ch = 0;
        for (; ch + 8 <= c; ch += 8) {
            float32x4_t v0 = vfmaq_f32(vld1q_f32(shift + ch), vld1q_f32(x + ch),
                    vld1q_f32(scale + ch));
            float32x4_t v1 = vfmaq_f32(vld1q_f32(shift + ch + 4), vld1q_f32(x + ch + 4),
                    vld1q_f32(scale + ch + 4));
            vst1q_f32(y + ch, vminq_f32(vmaxq_f32(v0, zero), six));
            vst1q_f32(y + ch + 4, vminq_f32(vmaxq_f32(v1, zero), six));
        }
        if (ch + 4 <= c) {
            float32x4_t v = vfmaq_f32(vld1q_f32(shift + ch), vld1q_f32(x + ch),
                    vld1q_f32(scale + ch));
            vst1q_f32(y + ch, vminq_f32(vmaxq_f32(v, zero), six));
            ch += 4;
        }
        if (ch < c) {
            /* 1..3 channels left: partial loads of x, scale and shift, partial store. */
            const size_t n = c - ch;
            float32x4_t v = vfmaq_f32(mnet_neon_load_tail(shift + ch, n, zero),
                    mnet_neon_load_tail(x + ch, n, zero), mnet_neon_load_tail(scale + ch, n, zero));
            mnet_neon_store_tail(y + ch, vminq_f32(vmaxq_f32(v, zero), six), n);
        }
    }
}
