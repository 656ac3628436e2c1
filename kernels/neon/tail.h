/* tail.h - partial loads and stores shared by the NEON kernels: never a byte past p[n - 1]. */
#ifndef MNET_NEON_TAIL_H
#define MNET_NEON_TAIL_H

#include <stddef.h>

#include <arm_neon.h>

#include "ukernels.h"

/* h-swish (act = MNET_EPI_HSWISH) or h-sigmoid (any other act) of v, bit for bit as
 * mnet_epilogue_f32 computes it (fmax/fmin propagate NaN, as the scalar comparisons do). */
static inline float32x4_t mnet_neon_hact(float32x4_t v, int act)
{
    float32x4_t t = vaddq_f32(v, vdupq_n_f32(3.0f));
    t = vminq_f32(vmaxq_f32(t, vdupq_n_f32(0.0f)), vdupq_n_f32(6.0f));
    t = vmulq_f32(t, vdupq_n_f32(1.0f / 6.0f));
    return act == MNET_EPI_HSWISH ? vmulq_f32(v, t) : t;
}

/* The kernels' epilogue (MNET_EPI_*), in the scalar reference's operation order. */
static inline float32x4_t mnet_neon_epi(float32x4_t v, float32x4_t vmin, float32x4_t vmax, int act)
{
    if (act != MNET_EPI_CLAMP)
        v = mnet_neon_hact(v, act);
    return vminq_f32(vmaxq_f32(v, vmin), vmax);
}

/* The n (0..4) floats at p in the low lanes, the lanes of `fill` above them.  Tails are loaded
 * in pieces because buffers end exactly at the last channel (no padding, 4-byte alignment). */
static inline float32x4_t mnet_neon_load_tail(const float *p, size_t n, float32x4_t fill)
{
    if (n >= 4)
        return vld1q_f32(p);
    if (n == 3)
        return vcombine_f32(vld1_f32(p), vld1_lane_f32(p + 2, vget_high_f32(fill), 0));
    if (n == 2)
        return vcombine_f32(vld1_f32(p), vget_high_f32(fill));
    if (n == 1)
        return vld1q_lane_f32(p, fill, 0);
    return fill;
}

/* Store the low n (0..4) lanes of v at p. */
static inline void mnet_neon_store_tail(float *p, float32x4_t v, size_t n)
{
    if (n >= 4) {
        vst1q_f32(p, v);
        return;
    }
    float32x2_t lo = vget_low_f32(v);
    if (n & 2) {
        vst1_f32(p, lo);
        p += 2;
        lo = vget_high_f32(v);
    }
    if (n & 1)
        vst1_lane_f32(p, lo, 0);
}

/* Eight channels as two vectors, the lanes past n (0..8) zero. */
static inline void mnet_neon_load8(const float *p, size_t n, float32x4_t *lo, float32x4_t *hi)
{
    const float32x4_t zero = vdupq_n_f32(0.0f);
    if (n >= 8) {
        *lo = vld1q_f32(p);
        *hi = vld1q_f32(p + 4);
    } else if (n > 4) {
        *lo = vld1q_f32(p);
        *hi = mnet_neon_load_tail(p + 4, n - 4, zero);
    } else {
        *lo = mnet_neon_load_tail(p, n, zero);
        *hi = zero;
    }
}

/* Store the first n (1..8) of the eight lanes lo:hi at p. */
static inline void mnet_neon_store8(float *p, float32x4_t lo, float32x4_t hi, size_t n)
{
    if (n >= 8) {
        vst1q_f32(p, lo);
        vst1q_f32(p + 4, hi);
    } else if (n > 4) {
        vst1q_f32(p, lo);
        mnet_neon_store_tail(p + 4, hi, n - 4);
    } else {
        mnet_neon_store_tail(p, lo, n);
    }
}

/* y[i] = mnet_neon_hact(x[i], act) over count floats; x == y allowed (every vector is loaded
 * before the same lanes are stored).  16 floats per step: four independent chains. */
static inline void mnet_neon_hact_array(size_t count, const float *x, float *y, int act)
{
    for (; count >= 16; count -= 16, x += 16, y += 16) {
        const float32x4_t v0 = mnet_neon_hact(vld1q_f32(x), act);
        const float32x4_t v1 = mnet_neon_hact(vld1q_f32(x + 4), act);
        const float32x4_t v2 = mnet_neon_hact(vld1q_f32(x + 8), act);
        const float32x4_t v3 = mnet_neon_hact(vld1q_f32(x + 12), act);
        vst1q_f32(y, v0);
        vst1q_f32(y + 4, v1);
        vst1q_f32(y + 8, v2);
        vst1q_f32(y + 12, v3);
    }
    for (; count >= 4; count -= 4, x += 4, y += 4)
        vst1q_f32(y, mnet_neon_hact(vld1q_f32(x), act));
    if (count != 0)
        mnet_neon_store_tail(y, mnet_neon_hact(mnet_neon_load_tail(x, count, vdupq_n_f32(0.0f)),
                act), count);
}

#endif /* MNET_NEON_TAIL_H */
