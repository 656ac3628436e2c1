/* channel_scale.c - squeeze-and-excite apply, y[p][ch] = x[p][ch] * scale[ch], AArch64 NEON. */
#include <arm_neon.h>

#include "ukernels.h"
#include "tail.h"

void mnet_f32_channel_scale__neon(size_t pixels, size_t c, const float *x, const float *scale,
        float *y)
{
    /* One pixel (c channels) at a time, so scale lines up with x lane for lane and stays in L1.
     * Every vector of x is loaded before the same lanes of y are stored: x == y is fine. */
    const float32x4_t zero = vdupq_n_f32(0.0f);
    for (size_t p = 0; p < pixels; p++, x += c, y += c) {
        size_t ch = 0;
        for (; ch + 16 <= c; ch += 16) {
            const float32x4_t v0 = vmulq_f32(vld1q_f32(x + ch), vld1q_f32(scale + ch));
            const float32x4_t v1 = vmulq_f32(vld1q_f32(x + ch + 4), vld1q_f32(scale + ch + 4));
            const float32x4_t v2 = vmulq_f32(vld1q_f32(x + ch + 8), vld1q_f32(scale + ch + 8));
            const float32x4_t v3 = vmulq_f32(vld1q_f32(x + ch + 12), vld1q_f32(scale + ch + 12));
            vst1q_f32(y + ch, v0);
            vst1q_f32(y + ch + 4, v1);
            vst1q_f32(y + ch + 8, v2);
            vst1q_f32(y + ch + 12, v3);
        }
        for (; ch + 4 <= c; ch += 4)
            vst1q_f32(y + ch, vmulq_f32(vld1q_f32(x + ch), vld1q_f32(scale + ch)));
        if (ch < c) {
            const size_t n = c - ch;
            mnet_neon_store_tail(y + ch, vmulq_f32(mnet_neon_load_tail(x + ch, n, zero),
                    mnet_neon_load_tail(scale + ch, n, zero)), n);
        }
    }
}
