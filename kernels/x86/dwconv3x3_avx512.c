/* dwconv3x3_avx512.c - 3x3 depthwise convolution, AVX-512F, 16 channels per zmm (CR = 16). */
#include <immintrin.h>

#include "avx512_util.h"
#include "ukernels.h"

/* Same structure as the AVX2 kernel: per output row and 16-channel group, the bias and 9 taps
 * stay in registers while the row's pixels stream past; interior pixels (all 9 taps inside the
 * image) take the unchecked path, border pixels skip the taps on padding.  The channel tail uses
 * masked loads and stores, which never touch memory in masked-off lanes. */

typedef struct {
    const float *r0, *r1, *r2;   /* input rows iy0..iy0+2 at this channel group; NULL = padding */
    float *o;                    /* output row at this channel group */
} dw_rows;

static inline __attribute__((always_inline)) void dw_group(const mnet_conv_geom *g,
        const dw_rows *r, const float *wp, size_t c, int ox_lo, int ox_hi, __m512 vmin,
        __m512 vmax, int act, __mmask16 m)
{
#define LD(p) _mm512_maskz_loadu_ps(m, (p))
    const __m512 bias = _mm512_loadu_ps(wp);
    const __m512 w0 = _mm512_loadu_ps(wp + 16), w1 = _mm512_loadu_ps(wp + 32),
            w2 = _mm512_loadu_ps(wp + 48), w3 = _mm512_loadu_ps(wp + 64),
            w4 = _mm512_loadu_ps(wp + 80), w5 = _mm512_loadu_ps(wp + 96),
            w6 = _mm512_loadu_ps(wp + 112), w7 = _mm512_loadu_ps(wp + 128),
            w8 = _mm512_loadu_ps(wp + 144);
    const int s = g->stride, pl = g->pad_left;
    const int fast = r->r0 && r->r2;

    for (int ox = 0; ox < g->ow; ox++) {
        const int ix0 = ox * s - pl;
        __m512 acc = bias;
        if (fast && ox >= ox_lo && ox < ox_hi) {
            const size_t off = (size_t)ix0 * c;
            const float *p0 = r->r0 + off, *p1 = r->r1 + off, *p2 = r->r2 + off;
            acc = _mm512_fmadd_ps(LD(p0), w0, acc);
            acc = _mm512_fmadd_ps(LD(p0 + c), w1, acc);
            acc = _mm512_fmadd_ps(LD(p0 + 2 * c), w2, acc);
            acc = _mm512_fmadd_ps(LD(p1), w3, acc);
            acc = _mm512_fmadd_ps(LD(p1 + c), w4, acc);
            acc = _mm512_fmadd_ps(LD(p1 + 2 * c), w5, acc);
            acc = _mm512_fmadd_ps(LD(p2), w6, acc);
            acc = _mm512_fmadd_ps(LD(p2 + c), w7, acc);
            acc = _mm512_fmadd_ps(LD(p2 + 2 * c), w8, acc);
        } else {
            const __m512 wk[9] = { w0, w1, w2, w3, w4, w5, w6, w7, w8 };
            const float *rows[3] = { r->r0, r->r1, r->r2 };
            for (int kx = 0; kx < 3; kx++) {
                const int ix = ix0 + kx;
                if (ix < 0 || ix >= g->w)
                    continue;
                for (int ky = 0; ky < 3; ky++)
                    if (rows[ky])
                        acc = _mm512_fmadd_ps(LD(rows[ky] + (size_t)ix * c), wk[ky * 3 + kx], acc);
            }
        }
        _mm512_mask_storeu_ps(r->o + (size_t)ox * c, m,
                mnet_avx512_epi(acc, vmin, vmax, act));
    }
#undef LD
}

void mnet_f32_dwconv3x3_minmax_16c__avx512(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    const size_t c = (size_t)g->cin, row = (size_t)g->w * c;
    const __m512 vmin = _mm512_set1_ps(out_min), vmax = _mm512_set1_ps(out_max);
    /* Interior columns: ox*s - pad_left >= 0 and ox*s - pad_left + 2 <= w - 1. */
    const int ox_lo = g->pad_left;
    const int span = g->w - 3 + g->pad_left;
    int ox_hi = span < 0 ? 0 : span / g->stride + 1;
    ox_hi = ox_hi > g->ow ? g->ow : ox_hi;

    for (int oy = oy0; oy < oy1; oy++) {
        const int iy0 = oy * g->stride - g->pad_top;
        /* The middle row iy0 + 1 is always inside the image (pads <= 1, output size rule). */
        const float *r0 = iy0 >= 0 ? in + (size_t)iy0 * row : NULL;
        const float *r1 = in + (size_t)(iy0 + 1) * row;
        const float *r2 = iy0 + 2 < g->h ? in + (size_t)(iy0 + 2) * row : NULL;
        float *o = out + (size_t)oy * g->ow * c;
        for (size_t c0 = 0; c0 < c; c0 += 16) {
            const size_t n = c - c0 < 16 ? c - c0 : 16;
            const dw_rows r = { r0 ? r0 + c0 : NULL, r1 + c0, r2 ? r2 + c0 : NULL, o + c0 };
            dw_group(g, &r, packed_w + c0 * 10, c, ox_lo, ox_hi, vmin, vmax, act,
                    n == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u));
        }
    }
}
