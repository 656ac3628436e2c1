/* dwconv.c - 3x3 and 5x5 depthwise convolution for AArch64 NEON, 8 channels (two vectors) at a time. */
#include <arm_neon.h>

#include "ukernels.h"
#include "tail.h"

/* One channel group for dwconv_body.h: a pair of q registers.  Tiles of 4 pixels: with two
 * halves per group that is 8 independent FMA chains, and the 4 accumulators, the columns (4,
 * or 8 for 5x5 with stride 2) and a weight take at most 26 of the 32 vector registers.  The
 * channel tail loads and stores piecewise (mnet_neon_load8 / store8 never touch a byte past
 * the last channel). */
#define DW_CR 8
#define DW_TILE(K, S, R) 4
#define DW_ROWS(K, S) 1
typedef struct { float32x4_t lo, hi; } dw_vec;
typedef size_t dw_lanes;

static inline dw_lanes dw_lanes_for(size_t n)
{
    return n;
}

static inline dw_vec dw_loadw(const float *p)
{
    const dw_vec v = { vld1q_f32(p), vld1q_f32(p + 4) };
    return v;
}

static inline dw_vec dw_loadx(const float *p, dw_lanes n)
{
    dw_vec v;
    mnet_neon_load8(p, n, &v.lo, &v.hi);
    return v;
}

static inline dw_vec dw_fma(dw_vec acc, dw_vec x, dw_vec w)
{
    const dw_vec v = { vfmaq_f32(acc.lo, x.lo, w.lo), vfmaq_f32(acc.hi, x.hi, w.hi) };
    return v;
}

static inline dw_vec dw_splat(float f)
{
    const dw_vec v = { vdupq_n_f32(f), vdupq_n_f32(f) };
    return v;
}

static inline void dw_store(float *p, dw_vec v, dw_lanes n, dw_vec vmin, dw_vec vmax, int act)
{
    mnet_neon_store8(p, mnet_neon_epi(v.lo, vmin.lo, vmax.lo, act),
            mnet_neon_epi(v.hi, vmin.hi, vmax.hi, act), n);
}

#define DW_LEAVE() ((void)0)
#include "dwconv_body.h"

DW_ENTRY_POINTS(mnet_f32_dwconv3x3_minmax_8c__neon, mnet_f32_dwconv5x5_minmax_8c__neon)
