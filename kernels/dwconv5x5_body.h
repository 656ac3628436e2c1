/* dwconv5x5_body.h - the 5x5 depthwise kernel's loop nest, shared by the SIMD files: each
 * includes it after defining how one channel group is loaded, multiplied and stored. */
#ifndef MNET_DWCONV5X5_BODY_H
#define MNET_DWCONV5X5_BODY_H

#include <stddef.h>

#include "ukernels.h"

/* The including file defines, for one group of DW5_CR channels:
 *   DW5_CR                     channels per group (the packing's CR)
 *   dw5_vec                    the register(s) holding one group
 *   dw5_lanes                  which channels of a group are real (the channel tail)
 *   dw5_lanes_for(n)           dw5_lanes for the first n (1..DW5_CR) channels
 *   dw5_loadw(p)               DW5_CR packed floats (always whole: packing pads with zeros)
 *   dw5_loadx(p, l)            l's channels at p, the rest zero, no byte past them touched
 *   dw5_fma(acc, x, w)         acc + x * w
 *   dw5_splat(f)               f in every lane
 *   dw5_store(p, v, l, vmin, vmax, act)   epilogue (MNET_EPI_*) then store of l's channels
 * The helpers must be static inline: with DW5_CR lanes a compile-time constant, the tail
 * checks of whole groups fold away.
 *
 * Why this shape.  25 taps do not fit in 16 YMM registers next to the accumulators, so the
 * weights cannot stay in registers for a whole row as in the 3x3 kernels.  Instead a tile of
 * P = 4 horizontally adjacent output pixels is computed at once: for each kernel row ky the 5
 * weights of that row are loaded once and stay in registers, and each input column of the
 * tile's span ((P - 1) * S + 5 columns) is loaded once and feeds every output pixel whose
 * window holds it (column j feeds pixel p through tap kx = j - p * S).  Stride 1: 5 weight and
 * 8 input loads for 20 FMAs; stride 2: 5 and 11.  Registers: 4 accumulators, 5 weights and one
 * input column (x2 on NEON, whose groups are two vectors: 20 of 32).
 *
 * Padding.  A kernel row outside the image is skipped for the whole output row (ky in
 * [ky0, ky1)), so the top and bottom border rows cost no more than interior ones.  Tiles whose
 * span lies inside the image run unchecked; border tiles skip the input columns outside it,
 * which skips exactly the taps that fall on padding.  The last ow % 4 pixels of a row run as
 * a tile of 2 and/or 1.  No address outside the image is ever formed. */

typedef struct dw5_row {
    const float *in;        /* the image at the group's first channel */
    const float *wp;        /* the group's packed { bias[CR], w[25][CR] } */
    float *o;               /* the output row at the group's first channel */
    size_t c, row_floats;   /* channels (pixel stride) and floats per input row */
    int w, iy0;             /* image width; input row of kernel row 0 */
    int ky0, ky1;           /* kernel rows inside the image: [ky0, ky1) */
    int act;
    dw5_vec vmin, vmax;
} dw5_row;

/* Weight index of a tap that the conditions around it may have ruled out: kept in range so
 * that dead code has no out-of-bounds constant index either. */
#define DW5_KX(k) ((k) < 0 ? 0 : (k) > 4 ? 4 : (k))

/* P (1, 2 or 4) output pixels from column ox on, input column ix0 = ox * S - pad_left.
 * P, S and `checked` are constants after inlining. */
static inline __attribute__((always_inline)) void dw5_tile(const dw5_row *r, int ox, int ix0,
        int P, int S, int checked, dw5_lanes l)
{
    const int span = (P - 1) * S + 5;
    /* columns ix0 + j, j in [j0, j1), are inside the image */
    const int j0 = checked && ix0 < 0 ? -ix0 : 0;
    const int j1 = checked && r->w - ix0 < span ? r->w - ix0 : span;
    const dw5_vec bias = dw5_loadw(r->wp);
    dw5_vec acc[4] = { bias, bias, bias, bias };
    for (int ky = r->ky0; ky < r->ky1; ky++) {
        const float *x = r->in + (size_t)(r->iy0 + ky) * r->row_floats;
        const float *wk = r->wp + (size_t)DW5_CR * (1 + 5 * (size_t)ky);
        const dw5_vec wv[5] = { dw5_loadw(wk), dw5_loadw(wk + DW5_CR),
            dw5_loadw(wk + 2 * DW5_CR), dw5_loadw(wk + 3 * DW5_CR), dw5_loadw(wk + 4 * DW5_CR) };
#define DW5_TAP(p, j) \
        if ((p) < P && (j) - (p) * S >= 0 && (j) - (p) * S < 5) \
            acc[p] = dw5_fma(acc[p], xv, wv[DW5_KX((j) - (p) * S)])
#define DW5_COL(j) \
        if ((j) < span && (!checked || ((j) >= j0 && (j) < j1))) { \
            const dw5_vec xv = dw5_loadx(x + (size_t)(ix0 + (j)) * r->c, l); \
            DW5_TAP(0, j); DW5_TAP(1, j); DW5_TAP(2, j); DW5_TAP(3, j); \
        }
        DW5_COL(0) DW5_COL(1) DW5_COL(2) DW5_COL(3) DW5_COL(4) DW5_COL(5) DW5_COL(6)
        DW5_COL(7) DW5_COL(8) DW5_COL(9) DW5_COL(10)
#undef DW5_COL
#undef DW5_TAP
    }
    for (int p = 0; p < P; p++)
        dw5_store(r->o + (size_t)(ox + p) * r->c, acc[p], l, r->vmin, r->vmax, r->act);
}

/* One output row of one channel group: tiles of 4, then 2, then 1. */
static inline __attribute__((always_inline)) void dw5_group_row(const dw5_row *r, int ow,
        int S, int pad_left, dw5_lanes l)
{
    int ox = 0;
    for (; ox + 4 <= ow; ox += 4) {
        const int ix0 = ox * S - pad_left;
        if (ix0 >= 0 && ix0 + 3 * S + 4 < r->w)
            dw5_tile(r, ox, ix0, 4, S, 0, l);
        else
            dw5_tile(r, ox, ix0, 4, S, 1, l);
    }
    if (ox + 2 <= ow) {
        dw5_tile(r, ox, ox * S - pad_left, 2, S, 1, l);
        ox += 2;
    }
    if (ox < ow)
        dw5_tile(r, ox, ox * S - pad_left, 1, S, 1, l);
}

/* The instances: whole groups and the channel tail, each with the stride as a literal.
 * Separate functions keep each register allocation to its own loop nest. */
static __attribute__((noinline)) void dw5_row_s1(const dw5_row *r, int ow, int pad_left)
{
    dw5_group_row(r, ow, 1, pad_left, dw5_lanes_for(DW5_CR));
}

static __attribute__((noinline)) void dw5_row_s2(const dw5_row *r, int ow, int pad_left)
{
    dw5_group_row(r, ow, 2, pad_left, dw5_lanes_for(DW5_CR));
}

static __attribute__((noinline)) void dw5_row_tail(const dw5_row *r, int ow, int stride,
        int pad_left, size_t n)
{
    if (stride == 1)
        dw5_group_row(r, ow, 1, pad_left, dw5_lanes_for(n));
    else
        dw5_group_row(r, ow, 2, pad_left, dw5_lanes_for(n));
}

/* The kernel (mnet_dwconv5x5_ukernel): output rows [oy0, oy1), groups of DW5_CR channels. */
static inline void dw5_run(const mnet_conv_geom *g, const float *in, const float *packed_w,
        float *out, int oy0, int oy1, float out_min, float out_max, int act)
{
    const size_t c = (size_t)g->cin;
    dw5_row r;
    r.c = c;
    r.row_floats = (size_t)g->w * c;
    r.w = g->w;
    r.act = act;
    r.vmin = dw5_splat(out_min);
    r.vmax = dw5_splat(out_max);
    for (int oy = oy0; oy < oy1; oy++) {
        r.iy0 = oy * g->stride - g->pad_top;
        r.ky0 = r.iy0 < 0 ? -r.iy0 : 0;
        r.ky1 = g->h - r.iy0 < 5 ? g->h - r.iy0 : 5;
        float *orow = out + (size_t)oy * g->ow * c;
        size_t c0 = 0;
        for (; c0 + DW5_CR <= c; c0 += DW5_CR) {
            r.in = in + c0;
            r.wp = packed_w + c0 * 26;
            r.o = orow + c0;
            if (g->stride == 1)
                dw5_row_s1(&r, g->ow, g->pad_left);
            else
                dw5_row_s2(&r, g->ow, g->pad_left);
        }
        if (c0 < c) {
            r.in = in + c0;
            r.wp = packed_w + c0 * 26;
            r.o = orow + c0;
            dw5_row_tail(&r, g->ow, g->stride, g->pad_left, c - c0);
        }
    }
}

#undef DW5_KX

#endif /* MNET_DWCONV5X5_BODY_H */
