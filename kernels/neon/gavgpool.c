/* gavgpool.c - global average pool of one NHWC image for AArch64 NEON. */
#include <arm_neon.h>

#include "ukernels.h"
#include "tail.h"

/* Each lane sums its channel over the pixels in order, as the scalar kernel does, so the
 * result is bit-identical to it.  A block of channels walks down the image with stride c. */
void mnet_f32_gavgpool__neon(size_t pixels, size_t c, const float *in, float *out)
{
    const float32x4_t vinv = vdupq_n_f32(1.0f / (float)pixels);
    size_t ch = 0;
    /* 16 channels: four independent add chains per pixel hide the add latency. */
    for (; ch + 16 <= c; ch += 16) {
        float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
        const float *p = in + ch;
        for (size_t i = 0; i < pixels; i++, p += c) {
            s0 = vaddq_f32(s0, vld1q_f32(p));
            s1 = vaddq_f32(s1, vld1q_f32(p + 4));
            s2 = vaddq_f32(s2, vld1q_f32(p + 8));
            s3 = vaddq_f32(s3, vld1q_f32(p + 12));
        }
        vst1q_f32(out + ch, vmulq_f32(s0, vinv));
        vst1q_f32(out + ch + 4, vmulq_f32(s1, vinv));
        vst1q_f32(out + ch + 8, vmulq_f32(s2, vinv));
        vst1q_f32(out + ch + 12, vmulq_f32(s3, vinv));
    }
    for (; ch + 4 <= c; ch += 4) {
        float32x4_t s = vdupq_n_f32(0.0f);
        const float *p = in + ch;
        for (size_t i = 0; i < pixels; i++, p += c)
            s = vaddq_f32(s, vld1q_f32(p));
        vst1q_f32(out + ch, vmulq_f32(s, vinv));
    }
    if (ch < c) {
        /* 1..3 channels left: partial loads on every pixel (the last pixel ends the buffer). */
        const size_t n = c - ch;
        const float32x4_t zero = vdupq_n_f32(0.0f);
        float32x4_t s = zero;
        const float *p = in + ch;
        for (size_t i = 0; i < pixels; i++, p += c)
            s = vaddq_f32(s, mnet_neon_load_tail(p, n, zero));
        mnet_neon_store_tail(out + ch, vmulq_f32(s, vinv), n);
    }
}
