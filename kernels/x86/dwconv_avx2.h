/* dwconv_avx2.h - one channel group of the AVX2+FMA depthwise kernels (8 channels per ymm, CR =
 * 8) for dwconv_body.h, shared by the 3x3 (dwconv.c) and 5x5 (dwconv5x5.c) files.  Whole groups
 * use plain loads and stores; the channel tail masked loads (vmaskmovps touches nothing in
 * masked-off lanes) and piecewise plain stores.  Tiles (measured, see the body): in the interior
 * two output rows of 3 pixels (6 accumulators, 3 columns a parity, the two rows' weights); on the
 * border rows one row, of 5 pixels for 3x3 stride 1 (5 accumulators, 5 columns, a weight) and of
 * 4 for the rest.  Wider one-row 3x3 tiles (6, 7 fit the 16 ymm registers) were no faster on the
 * V1/V2 layers.  On session 22's Zen 3 (docs/PERFORMANCE.md, "Session 22"; in-process A/B, hot
 * data), against one row: 3x3 stride-1 pairs of 4 pixels 0.79-0.98 on the shapes of 14x14 and up
 * but 1.04-1.10 on 7x7; pairs of 3, 0.88-0.95 of the pairs of 4 and 0.83-0.93 of one row on 7x7
 * (pairs of 2 no better); then pairs of 3 for the rest: 5x5 stride 1 0.81-0.93, 5x5 stride 2
 * 0.83-0.95, 3x3 stride 2 0.79-1.02 (1.02 and 0.98 on V2's 112x112x96 and 56x56x144).
 *
 * Edge tiles with constant cuts (DW_EDGE_CONST): in one process, alternating with the kernel
 * without them (session 25, hot data), 0.75-0.94 of the time on every V1/V2/V3 shape tried (14x14
 * about 0.8, 7x7 0.75-0.9, 56x56 0.93), the same bits (docs/PERFORMANCE.md, "Session 25").  The
 * extra code is why the two kernel sizes are two files: one file took 2.4 minutes to compile. */
#ifndef MNET_DWCONV_AVX2_H
#define MNET_DWCONV_AVX2_H

#include "avx2_util.h"
#include "ukernels.h"

#define DW_CR 8
#define DW_TILE(K, S, R) ((R) == 2 ? 3 : (K) == 3 && (S) == 1 ? 5 : 4)
#define DW_ROWS(K, S) 2
typedef __m256 dw_vec;
typedef struct { size_t n; __m256i m; } dw_lanes;

static inline dw_lanes dw_lanes_for(size_t n)
{
    const dw_lanes l = { n, mnet_avx2_mask(n) };
    return l;
}

static inline __m256 dw_loadw(const float *p)
{
    return _mm256_loadu_ps(p);
}

static inline __m256 dw_loadx(const float *p, dw_lanes l)
{
    return l.n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, l.m);
}

static inline __m256 dw_fma(__m256 acc, __m256 x, __m256 w)
{
    return _mm256_fmadd_ps(x, w, acc);
}

static inline __m256 dw_splat(float f)
{
    return _mm256_set1_ps(f);
}

static inline void dw_store(float *p, __m256 v, dw_lanes l, __m256 vmin, __m256 vmax, int act)
{
    v = mnet_avx2_epi(v, vmin, vmax, act);
    if (l.n == 8)
        _mm256_storeu_ps(p, v);
    else
        mnet_avx2_store_partial(p, v, l.n);
}

#define DW_LEAVE() _mm256_zeroupper()
#define DW_EDGE_CONST 1

#endif /* MNET_DWCONV_AVX2_H */
