/* add.c - elementwise add with clamp (the V2 residual) for AArch64 NEON; in place is allowed. */
#include <arm_neon.h>

#include "ukernels.h"
#include "tail.h"

void mnet_f32_add_minmax__neon(size_t count, const float *a, const float *b, float out_min,
        float out_max, float *out)
{
    const float32x4_t vmin = vdupq_n_f32(out_min), vmax = vdupq_n_f32(out_max);
    /* Every step loads its a and b lanes before storing the same lanes, so out == a or out == b
     * is safe.  16 floats per step: four independent add chains hide the add latency. */
    for (; count >= 16; count -= 16, a += 16, b += 16, out += 16) {
        float32x4_t v0 = vaddq_f32(vld1q_f32(a), vld1q_f32(b));
        float32x4_t v1 = vaddq_f32(vld1q_f32(a + 4), vld1q_f32(b + 4));
        float32x4_t v2 = vaddq_f32(vld1q_f32(a + 8), vld1q_f32(b + 8));
        float32x4_t v3 = vaddq_f32(vld1q_f32(a + 12), vld1q_f32(b + 12));
        vst1q_f32(out, vminq_f32(vmaxq_f32(v0, vmin), vmax));
        vst1q_f32(out + 4, vminq_f32(vmaxq_f32(v1, vmin), vmax));
        vst1q_f32(out + 8, vminq_f32(vmaxq_f32(v2, vmin), vmax));
        vst1q_f32(out + 12, vminq_f32(vmaxq_f32(v3, vmin), vmax));
    }
    for (; count >= 4; count -= 4, a += 4, b += 4, out += 4) {
        float32x4_t v = vaddq_f32(vld1q_f32(a), vld1q_f32(b));
        vst1q_f32(out, vminq_f32(vmaxq_f32(v, vmin), vmax));
    }
    if (count != 0) {
        /* 1..3 left: partial loads (zero above), partial store. */
        const float32x4_t zero = vdupq_n_f32(0.0f);
        float32x4_t v = vaddq_f32(mnet_neon_load_tail(a, count, zero),
                mnet_neon_load_tail(b, count, zero));
        mnet_neon_store_tail(out, vminq_f32(vmaxq_f32(v, vmin), vmax), count);
    }
}
