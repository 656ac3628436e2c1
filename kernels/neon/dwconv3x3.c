/* dwconv3x3.c - 3x3 depthwise convolution for AArch64 NEON, 8 channels (two vectors) at a time. */
#include <arm_neon.h>

#include "ukernels.h"
#include "tail.h"

#define CR 8

/* Loop order: output row, then 8-channel group, then output column.  A group's bias and 9 taps
 * (20 vectors) are loaded once per output row and stay in registers while the row is swept;
 * the 3 input rows a whole output row reads (3 * w * c floats) stay in L1/L2 across groups.
 *
 * Per row, the columns split in three: left border, interior (all 3 input columns inside the
 * image), right border.  If all 3 input rows are inside too, interior pixels take the fast path
 * (no checks, two output pixels per step); everything else takes the checked path, which skips
 * the taps that fall in the padding, exactly like the scalar kernel. */

typedef struct {
    float32x4_t bl, bh;          /* bias, channels 0-3 and 4-7 of the group */
    float32x4_t wl[9], wh[9];    /* taps ky * 3 + kx */
} dw_weights;



/* One output pixel with taps restricted to ky in [ky0, ky1), kx in [kx0, kx1).  `in` is the
 * group's image origin; the window's corner (iy0, ix0) may lie in the padding, and only tap
 * addresses that pass the checks are formed.  Taps are spelled out so that every weight index
 * is a constant and the weights stay in registers. */
static inline __attribute__((always_inline)) void dw_pixel_checked(const dw_weights *wt,
        const float *in, size_t row_floats, size_t c, int iy0, int ix0, int ky0, int ky1,
        int kx0, int kx1, size_t nc, float *o, float32x4_t vmin, float32x4_t vmax, int act)
{
    float32x4_t al = wt->bl, ah = wt->bh;
#define TAP(ky, kx) do {                                                                  \
        if ((ky) >= ky0 && (ky) < ky1 && (kx) >= kx0 && (kx) < kx1) {                     \
            float32x4_t xl, xh;                                                           \
            mnet_neon_load8(in + (size_t)(iy0 + (ky)) * row_floats + (size_t)(ix0 + (kx)) * c, \
                    nc, &xl, &xh);                                                        \
            al = vfmaq_f32(al, xl, wt->wl[(ky) * 3 + (kx)]);                              \
            ah = vfmaq_f32(ah, xh, wt->wh[(ky) * 3 + (kx)]);                              \
        }                                                                                 \
    } while (0)
    TAP(0, 0); TAP(0, 1); TAP(0, 2);
    TAP(1, 0); TAP(1, 1); TAP(1, 2);
    TAP(2, 0); TAP(2, 1); TAP(2, 2);
#undef TAP
    mnet_neon_store8(o, mnet_neon_epi(al, vmin, vmax, act), mnet_neon_epi(ah, vmin, vmax, act), nc);
}

/* Two horizontally adjacent interior output pixels A and B = A + 1, input stride S (1 or 2,
 * a constant after inlining).  Their windows span input columns 0 .. S + 2 of A's window:
 * each column is loaded once and feeds A (columns 0-2) and/or B (columns S .. S + 2), so
 * stride 1 loads 4 columns per row instead of 6.  A and B, low and high halves: 4 independent
 * FMA chains. */
static inline __attribute__((always_inline)) void dw_pair_fast(const dw_weights *wt,
        const float *ip, size_t row_floats, size_t c, int S, size_t nc, float *o,
        float32x4_t vmin, float32x4_t vmax, int act)
{
    float32x4_t al = wt->bl, ah = wt->bh, bl = wt->bl, bh = wt->bh;
#define COL(ky, j) do {                                                                   \
        if ((j) < S + 3) {                                                                \
            float32x4_t xl, xh;                                                           \
            mnet_neon_load8(ip + (size_t)(ky) * row_floats + (size_t)(j) * c, nc, &xl, &xh); \
            if ((j) < 3) {                                                                \
                al = vfmaq_f32(al, xl, wt->wl[(ky) * 3 + (j)]);                           \
                ah = vfmaq_f32(ah, xh, wt->wh[(ky) * 3 + (j)]);                           \
            }                                                                             \
            if ((j) >= S) {                                                               \
                bl = vfmaq_f32(bl, xl, wt->wl[(ky) * 3 + (j) - S]);                       \
                bh = vfmaq_f32(bh, xh, wt->wh[(ky) * 3 + (j) - S]);                       \
            }                                                                             \
        }                                                                                 \
    } while (0)
#define ROW(ky) do { COL(ky, 0); COL(ky, 1); COL(ky, 2); COL(ky, 3); COL(ky, 4); } while (0)
    ROW(0);
    ROW(1);
    ROW(2);
#undef ROW
#undef COL
    mnet_neon_store8(o, mnet_neon_epi(al, vmin, vmax, act), mnet_neon_epi(ah, vmin, vmax, act), nc);
    mnet_neon_store8(o + c, mnet_neon_epi(bl, vmin, vmax, act), mnet_neon_epi(bh, vmin, vmax, act), nc);
}

/* One output row of one channel group of nc (1..8) channels.  `in` and `o` already point at
 * the group's first channel (of the image and of the output row). */
static inline __attribute__((always_inline)) void dw_group_row(const mnet_conv_geom *g,
        const float *in, const float *wp, float *o, int oy, int ox_lo, int ox_hi, int S,
        size_t nc, float32x4_t vmin, float32x4_t vmax, int act)
{
    const size_t c = (size_t)g->cin, row_floats = (size_t)g->w * c;
    /* The packed group is zero-padded to CR lanes, so full loads of it are always fine. */
    dw_weights wt;
    wt.bl = vld1q_f32(wp);
    wt.bh = vld1q_f32(wp + 4);
#define LOADW(t) do {                                   \
        wt.wl[t] = vld1q_f32(wp + CR + (t) * CR);          \
        wt.wh[t] = vld1q_f32(wp + CR + (t) * CR + 4);      \
    } while (0)
    LOADW(0); LOADW(1); LOADW(2); LOADW(3); LOADW(4); LOADW(5); LOADW(6); LOADW(7); LOADW(8);
#undef LOADW

    const int iy0 = oy * S - g->pad_top;
    const int ky0 = iy0 < 0 ? -iy0 : 0;
    const int ky1 = g->h - iy0 < 3 ? g->h - iy0 : 3;
    const int rows_inside = ky0 == 0 && ky1 == 3;
    const int ow = g->ow;

    int ox = 0;
    if (rows_inside) {
        for (; ox < ox_lo; ox++) {
            const int ix0 = ox * S - g->pad_left;
            dw_pixel_checked(&wt, in, row_floats, c, iy0, ix0, 0, 3, ix0 < 0 ? -ix0 : 0,
                    g->w - ix0 < 3 ? g->w - ix0 : 3, nc, o + (size_t)ox * c, vmin, vmax, act);
        }
        for (; ox + 2 <= ox_hi; ox += 2) {
            const int ix0 = ox * S - g->pad_left;
            dw_pair_fast(&wt, in + (size_t)iy0 * row_floats + (size_t)ix0 * c, row_floats, c,
                    S, nc, o + (size_t)ox * c, vmin, vmax, act);
        }
    }
    /* Whatever is left: the odd interior pixel, the right border, or (top and bottom rows)
     * the whole row. */
    for (; ox < ow; ox++) {
        const int ix0 = ox * S - g->pad_left;
        dw_pixel_checked(&wt, in, row_floats, c, iy0, ix0, ky0, ky1, ix0 < 0 ? -ix0 : 0,
                g->w - ix0 < 3 ? g->w - ix0 : 3, nc, o + (size_t)ox * c, vmin, vmax, act);
    }
}

/* The instances: full groups with the stride as a literal (dw_pair_fast's columns fold and
 * every weight index is a constant, so the 20 weight vectors live in registers), and one for
 * the channel tail (at most one group per row, so its generality costs little).  Separate
 * functions keep each register allocation to the one loop nest that matters. */
#define DW_ROW_ARGS const mnet_conv_geom *g, const float *in, const float *wp, float *o, int oy, \
        int ox_lo, int ox_hi, float32x4_t vmin, float32x4_t vmax, int act
static __attribute__((noinline)) void dw_row_8c_s1(DW_ROW_ARGS)
{
    dw_group_row(g, in, wp, o, oy, ox_lo, ox_hi, 1, CR, vmin, vmax, act);
}

static __attribute__((noinline)) void dw_row_8c_s2(DW_ROW_ARGS)
{
    dw_group_row(g, in, wp, o, oy, ox_lo, ox_hi, 2, CR, vmin, vmax, act);
}

static __attribute__((noinline)) void dw_row_tail(DW_ROW_ARGS, size_t nc)
{
    dw_group_row(g, in, wp, o, oy, ox_lo, ox_hi, g->stride, nc, vmin, vmax, act);
}
#undef DW_ROW_ARGS

void mnet_f32_dwconv3x3_minmax_8c__neon(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    const float32x4_t vmin = vdupq_n_f32(out_min), vmax = vdupq_n_f32(out_max);
    const int s = g->stride, pl = g->pad_left;
    /* Interior columns [ox_lo, ox_hi): ix0 = ox * s - pl >= 0 and ix0 + 2 <= w - 1. */
    const int ox_lo = pl;   /* pl is 0 or 1, and ox = 1 gives ix0 = s - 1 >= 0 */
    int ox_hi = g->w - 3 + pl >= 0 ? (g->w - 3 + pl) / s + 1 : 0;
    ox_hi = ox_hi < g->ow ? ox_hi : g->ow;
    ox_hi = ox_hi > ox_lo ? ox_hi : ox_lo;
    const size_t c = (size_t)g->cin;
    for (int oy = oy0; oy < oy1; oy++) {
        float *orow = out + (size_t)oy * g->ow * c;
        const float *wp = packed_w;
        size_t ch = 0;
        for (; ch + CR <= c; ch += CR, wp += CR * 10) {
            if (s == 1)
                dw_row_8c_s1(g, in + ch, wp, orow + ch, oy, ox_lo, ox_hi, vmin, vmax, act);
            else
                dw_row_8c_s2(g, in + ch, wp, orow + ch, oy, ox_lo, ox_hi, vmin, vmax, act);
        }
        if (ch < c)   /* channel tail: partial loads and stores of the last c % 8 channels */
            dw_row_tail(g, in + ch, wp, orow + ch, oy, ox_lo, ox_hi, vmin, vmax, act, c - ch);
    }
}
