/* dwconv5x5.c - 5x5 depthwise convolution for AArch64 NEON, 8 channels (two vectors) at a time. */
#include <arm_neon.h>

#include "ukernels.h"
#include "tail.h"

/* One channel group for dwconv5x5_body.h: a pair of q registers.  The tile's 4 accumulators,
 * 5 weights and input column take 20 of the 32 vector registers.  The channel tail loads and
 * stores piecewise (mnet_neon_load8 / store8 never touch a byte past the last channel). */
#define DW5_CR 8
typedef struct { float32x4_t lo, hi; } dw5_vec;
typedef size_t dw5_lanes;

static inline dw5_lanes dw5_lanes_for(size_t n)
{
    return n;
}

static inline dw5_vec dw5_loadw(const float *p)
{
    const dw5_vec v = { vld1q_f32(p), vld1q_f32(p + 4) };
    return v;
}

static inline dw5_vec dw5_loadx(const float *p, dw5_lanes n)
{
    dw5_vec v;
    mnet_neon_load8(p, n, &v.lo, &v.hi);
    return v;
}

static inline dw5_vec dw5_fma(dw5_vec acc, dw5_vec x, dw5_vec w)
{
    const dw5_vec v = { vfmaq_f32(acc.lo, x.lo, w.lo), vfmaq_f32(acc.hi, x.hi, w.hi) };
    return v;
}

static inline dw5_vec dw5_splat(float f)
{
    const dw5_vec v = { vdupq_n_f32(f), vdupq_n_f32(f) };
    return v;
}

static inline void dw5_store(float *p, dw5_vec v, dw5_lanes n, dw5_vec vmin, dw5_vec vmax,
        int act)
{
    mnet_neon_store8(p, mnet_neon_epi(v.lo, vmin.lo, vmax.lo, act),
            mnet_neon_epi(v.hi, vmin.hi, vmax.hi, act), n);
}

#include "dwconv5x5_body.h"

void mnet_f32_dwconv5x5_minmax_8c__neon(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    dw5_run(g, in, packed_w, out, oy0, oy1, out_min, out_max, act);
}
