/* dwconv3x3.c - 3x3 depthwise convolution, AVX2+FMA, 8 channels per ymm (CR = 8). */
#include "avx2_util.h"
#include "ukernels.h"

/* Output columns [ox_lo, ox_hi) read only columns inside the image; the rest are border pixels.
 * ox*s - pad_left >= 0 gives ox_lo = pad_left (pads are 0 or 1), and
 * ox*s - pad_left + 2 <= w - 1 gives ox_hi = (w - 3 + pad_left) / s + 1. */
typedef struct {
    const float *r0, *r1, *r2;   /* input rows iy0..iy0+2 at this channel group; NULL = padding */
    float *o;                    /* output row at this channel group */
} dw_rows;

/* One 8-channel group of one output row.  `n` < 8 only for the channel tail, where loads are
 * masked (no byte past the caller's buffers is touched) and stores are piecewise.  Inlined into
 * two call sites so the full-group path has no masks at all. */
static inline __attribute__((always_inline)) void dw_group(const mnet_conv_geom *g,
        const dw_rows *r, const float *wp, size_t c, int ox_lo, int ox_hi, __m256 vmin,
        __m256 vmax, int act, size_t n)
{
    const int full = n == 8;
    const __m256i m = mnet_avx2_mask(n);
#define LD(p) (full ? _mm256_loadu_ps(p) : _mm256_maskload_ps((p), m))
    const __m256 bias = _mm256_loadu_ps(wp);
    const __m256 w0 = _mm256_loadu_ps(wp + 8), w1 = _mm256_loadu_ps(wp + 16),
            w2 = _mm256_loadu_ps(wp + 24), w3 = _mm256_loadu_ps(wp + 32),
            w4 = _mm256_loadu_ps(wp + 40), w5 = _mm256_loadu_ps(wp + 48),
            w6 = _mm256_loadu_ps(wp + 56), w7 = _mm256_loadu_ps(wp + 64),
            w8 = _mm256_loadu_ps(wp + 72);
    const int s = g->stride, pl = g->pad_left;
    const int fast = r->r0 && r->r2;

    for (int ox = 0; ox < g->ow; ox++) {
        const int ix0 = ox * s - pl;
        __m256 acc = bias;
        if (fast && ox >= ox_lo && ox < ox_hi) {
            const size_t off = (size_t)ix0 * c;
            const float *p0 = r->r0 + off, *p1 = r->r1 + off, *p2 = r->r2 + off;
            acc = _mm256_fmadd_ps(LD(p0), w0, acc);
            acc = _mm256_fmadd_ps(LD(p0 + c), w1, acc);
            acc = _mm256_fmadd_ps(LD(p0 + 2 * c), w2, acc);
            acc = _mm256_fmadd_ps(LD(p1), w3, acc);
            acc = _mm256_fmadd_ps(LD(p1 + c), w4, acc);
            acc = _mm256_fmadd_ps(LD(p1 + 2 * c), w5, acc);
            acc = _mm256_fmadd_ps(LD(p2), w6, acc);
            acc = _mm256_fmadd_ps(LD(p2 + c), w7, acc);
            acc = _mm256_fmadd_ps(LD(p2 + 2 * c), w8, acc);
        } else {
            /* Border pixel: skip the taps that fall on padding. */
            const __m256 wk[9] = { w0, w1, w2, w3, w4, w5, w6, w7, w8 };
            const float *rows[3] = { r->r0, r->r1, r->r2 };
            for (int kx = 0; kx < 3; kx++) {
                const int ix = ix0 + kx;
                if (ix < 0 || ix >= g->w)
                    continue;
                for (int ky = 0; ky < 3; ky++)
                    if (rows[ky])
                        acc = _mm256_fmadd_ps(LD(rows[ky] + (size_t)ix * c), wk[ky * 3 + kx], acc);
            }
        }
        acc = mnet_avx2_epi(acc, vmin, vmax, act);
        if (full)
            _mm256_storeu_ps(r->o + (size_t)ox * c, acc);
        else
            mnet_avx2_store_partial(r->o + (size_t)ox * c, acc, n);
    }
#undef LD
}

void mnet_f32_dwconv3x3_minmax_8c__avx2(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    const size_t c = (size_t)g->cin, row = (size_t)g->w * c;
    const __m256 vmin = _mm256_set1_ps(out_min), vmax = _mm256_set1_ps(out_max);
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
        size_t c0 = 0;
        for (; c0 + 8 <= c; c0 += 8) {
            const dw_rows r = { r0 ? r0 + c0 : NULL, r1 + c0, r2 ? r2 + c0 : NULL, o + c0 };
            dw_group(g, &r, packed_w + c0 * 10, c, ox_lo, ox_hi, vmin, vmax, act, 8);
        }
        if (c0 < c) {
            const dw_rows r = { r0 ? r0 + c0 : NULL, r1 + c0, r2 ? r2 + c0 : NULL, o + c0 };
            dw_group(g, &r, packed_w + c0 * 10, c, ox_lo, ox_hi, vmin, vmax, act, c - c0);
        }
    }
}
