/* dwconv_avx512.c - 3x3 and 5x5 depthwise convolution, AVX-512F, 16 channels per zmm (CR = 16). */
#include <immintrin.h>

#include "avx512_util.h"
#include "ukernels.h"

/* One channel group for dwconv_body.h: every input load and output store is masked (a full
 * mask for whole groups costs nothing), and masked-off lanes are never touched.  Tiles
 * (measured, see the body): 3x3, 7 pixels of two output rows in the image's interior (14
 * accumulators, 7 columns and 2 weights: 23 of the 32 zmm registers).  A group's column is a
 * whole cache line here, and the L2-resident layers were bound by L2 -> L1 traffic: the
 * two rows read K + S input rows instead of 2 * K (~15% faster than one row on the V1/V2
 * layers).  8 or 14 pixels were slower on the 7- and 14-wide rows.  5x5: 4 pixels, one row. */
#define DW_CR 16
#define DW_TILE(K, S, R) ((K) == 3 ? 7 : 4)
#define DW_ROWS(K, S) ((K) == 3 ? 2 : 1)
typedef __m512 dw_vec;
typedef __mmask16 dw_lanes;

static inline dw_lanes dw_lanes_for(size_t n)
{
    return mnet_avx512_lanes(n);
}

static inline __m512 dw_loadw(const float *p)
{
    return _mm512_loadu_ps(p);
}

static inline __m512 dw_loadx(const float *p, dw_lanes l)
{
    return _mm512_maskz_loadu_ps(l, p);
}

static inline __m512 dw_fma(__m512 acc, __m512 x, __m512 w)
{
    return _mm512_fmadd_ps(x, w, acc);
}

static inline __m512 dw_splat(float f)
{
    return _mm512_set1_ps(f);
}

static inline void dw_store(float *p, __m512 v, dw_lanes l, __m512 vmin, __m512 vmax, int act)
{
    _mm512_mask_storeu_ps(p, l, mnet_avx512_epi(v, vmin, vmax, act));
}

#define DW_LEAVE() _mm256_zeroupper()
#include "dwconv_body.h"

DW_ENTRY_POINTS(mnet_f32_dwconv3x3_minmax_16c__avx512, mnet_f32_dwconv5x5_minmax_16c__avx512)
