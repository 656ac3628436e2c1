/* dwconv.c - 3x3 and 5x5 depthwise convolution, AVX2+FMA, 8 channels per ymm (CR = 8). */
#include "avx2_util.h"
#include "ukernels.h"

/* One channel group for dwconv_body.h.  Whole groups use plain loads and stores; the channel
 * tail masked loads (vmaskmovps touches nothing in masked-off lanes) and piecewise plain
 * stores.  Tiles (measured, see the body): 3x3 stride 1 two output rows at a time, 4 pixels
 * (8 accumulators, 4 columns, the two rows' weights), where the row has at least 8 pixels, else
 * one row of 5; 3x3 stride 2 and 5x5, one row of 4.  Wider 3x3 tiles (6, 7 fit the 16 ymm
 * registers) were no faster on the V1/V2 layers.  The stride-1 pairs took 0.79-0.94 of the
 * one-row time on the V1/V2/V3 shapes of 14x14 and up on the Zen 3 of session 22 (README,
 * "Session 22"), and 1.10x on 7x7 (a 4-wide tile computes 8 pixels for 7), hence the minimum
 * width; stride-2 pairs 0.91-1.01. */
#define DW_CR 8
#define DW_TILE(K, S, R) ((R) == 2 ? 4 : (K) == 3 && (S) == 1 ? 5 : 4)
#define DW_ROWS(K, S) ((K) == 3 && (S) == 1 ? 2 : 1)
#define DW_PAIR_MIN_OW 8
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
#include "dwconv_body.h"

DW_ENTRY_POINTS(mnet_f32_dwconv3x3_minmax_8c__avx2, mnet_f32_dwconv5x5_minmax_8c__avx2)
