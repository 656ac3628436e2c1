/* dwconv_body.h - the 3x3 and 5x5 depthwise kernels' loop nest, shared by the SIMD files: each
 * includes it once, after defining how one channel group is loaded, multiplied and stored. */
#ifndef MNET_DWCONV_BODY_H
#define MNET_DWCONV_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "ukernels.h"

#ifndef DW_EDGE_CONST
#define DW_EDGE_CONST 0
#endif
#if !defined(DW_ONLY_K) || DW_ONLY_K == 3
#define DW_HAS_K3 1
#else
#define DW_HAS_K3 0
#endif
#if !defined(DW_ONLY_K) || DW_ONLY_K == 5
#define DW_HAS_K5 1
#else
#define DW_HAS_K5 0
#endif

/* The including file defines, for one group of DW_CR channels:
 *   DW_CR                      channels per group (the packing's CR)
 *   DW_TILE(K, S, R)           output pixels per full tile for a K x K kernel, stride S, in R
 *                              output rows at once (<= 16)
 *   DW_ROWS(K, S)              output rows per tile in the image's interior: 1 or 2
 *   dw_vec                     the register(s) holding one group
 *   dw_lanes                   which channels of a group are real (the channel tail)
 *   dw_lanes_for(n)            dw_lanes for the first n (1..DW_CR) channels
 *   dw_loadw(p)                DW_CR packed floats (always whole: packing pads with zeros)
 *   dw_loadx(p, l)             l's channels at p, the rest zero, no byte past them touched
 *   dw_fma(acc, x, w)          acc + x * w
 *   dw_splat(f)                f in every lane
 *   dw_store(p, v, l, vmin, vmax, act)   epilogue (MNET_EPI_*) then store of l's channels
 *   DW_LEAVE()                 what an entry point does before it returns to the caller's
 *                              code (x86: vzeroupper; the channel tail's row function may be
 *                              the last call, and its upper halves are left dirty)
 * and may define
 *   DW_EDGE_CONST              1: the edge tiles of interior rows with their cuts as constants
 *                              (dw_tile_edge; more code, measured where the ISA runs here)
 *   DW_ONLY_K                  3 or 5: only that kernel size's loop nests and entry point, so
 *                              that the two sizes compile as two files (DW_ENTRY_3, DW_ENTRY_5)
 * The helpers must be static inline: with DW_CR lanes a compile-time constant, the tail
 * checks of whole groups fold away.
 *
 * Why this shape.  Computed pixel by pixel, a K x K window is one chain of K * K dependent
 * FMAs with a load each, and the kernel runs at the FMA latency and the load ports instead of
 * the FMA throughput.  Here a tile of P horizontally adjacent output pixels is computed at
 * once: each kernel row in K passes, pass kx adding tap kx to the P pixels, so P independent
 * FMAs follow each other, and the tiles of consecutive channel groups are independent too.
 * Pixel p reads input column p * S + kx in pass kx, the column pixel p + 1 read in pass
 * kx - S: the columns stay in registers and move down a pixel, one new column per pass (P
 * for the first pass of each parity).  A 3x3 stride-1 row is then P + 2 input and 3 weight
 * loads for 3 * P FMAs; registers: P accumulators, P columns (2 * P with stride 2 and K = 5)
 * and a weight.  The ISA file picks P per kernel size, stride and rows (DW_TILE).
 *
 * Two rows.  Where DW_ROWS(K, S) is 2, two interior output rows are computed at once: their
 * windows share K - S input rows, and each column loaded feeds both (2 * P accumulators, one
 * weight per row), so K + S input rows are read instead of 2 * K.
 *
 * Loop order.  Per output row (or pair): per tile of pixels, all the channel groups, then
 * the next tile.  The loads of consecutive groups are consecutive in memory, so each input
 * row is swept once through L1 per output row that reads it, whatever the channel count
 * (measured: the former one-pixel kernel, each group sweeping a whole row, ran 14x14x512 at
 * half the speed of 14x14x520, a power-of-two pixel stride mapping a row's columns to a few
 * L1 sets).  The weights (K * K + 1 vectors per group) are reloaded per tile.
 *
 * Order of the sums.  Every output pixel accumulates its bias, then its taps in kernel order
 * (ky-major, then kx), skipping the taps on padding, whatever tile (or pair of rows) it falls
 * in: a pixel's value
 * depends only on its position, so any split of the rows gives the same bits, and a tile that
 * overlaps another rewrites the same values.
 *
 * Padding.  A kernel row outside the image is skipped for the whole output row (ky in
 * [ky0, ky1)), so the top and bottom border rows cost no more than interior ones.  Tiles whose
 * span lies inside the image run unchecked; border tiles skip the input columns outside it,
 * which skips exactly the taps that fall on padding.  No address outside the image is ever
 * formed. */

typedef struct dw_row {
    const float *in;        /* the image at the first channel of the call's first group */
    const float *wp;        /* that group's packed { bias[CR], w[K * K][CR] }, the next follow */
    float *o;               /* the output row at that channel */
    size_t c, row_floats;   /* channels (pixel stride) and floats per input row */
    size_t orow_floats;     /* floats per output row */
    size_t groups;          /* channel groups of DW_CR in this call */
    int w, iy0;             /* image width; input row of kernel row 0 */
    int ky0, ky1;           /* kernel rows inside the image: [ky0, ky1) */
    int act;
    dw_vec vmin, vmax;
    const char *pf;         /* prefetching (mnet_conv_geom.prefetch): the first input row the
                             * next output row (pair) adds, at the call's first channel, else
                             * NULL */
    size_t pf_rows;         /* how many rows from pf on */
} dw_row;

_Static_assert(DW_TILE(3, 1, 1) <= 16 && DW_TILE(3, 2, 1) <= 16 && DW_TILE(5, 1, 1) <= 16 &&
        DW_TILE(5, 2, 1) <= 16 && DW_TILE(3, 1, 2) <= 16 && DW_TILE(3, 2, 2) <= 16 &&
        DW_TILE(5, 1, 2) <= 16 && DW_TILE(5, 2, 2) <= 16,
        "dwconv_body.h spells out 16 pixels per tile");

/* Opaque to the compiler: keeps a pointer stepped along a row from being rewritten as one
 * loop-invariant offset per column, which would take more general registers than there are. */
#define DW_STEP(ptr, n) do { (ptr) += (n); __asm__("" : "+r"(ptr)); } while (0)

/* P (a tile width, see DW_HALF) output pixels from column ox on, input column
 * ix0 = ox * S - pad_left, in R (1 or 2) output rows, for every channel group of the call.
 * K, P, S, R, `checked` (1: some of the span's columns may be outside the image; 2: exactly
 * its first lcut and last rcut are, constants, so the skipped taps are known when compiling),
 * `all_rows`
 * (ky0 == 0 and ky1 == K; required for R = 2) and PF are constants after inlining, so each
 * group is straight-line code.  With PF and r->pf, the tile also prefetches the same columns
 * (those inside the image) of the rows the next output row (pair) adds, a share after each
 * channel group, so that they arrive spread over the tile instead of as one burst.  The
 * columns of passes of parity q = kx % S are v0..v15 (q = 0) and u0..u15 (q = 1).  Unchecked tiles step a pointer
 * per parity along the row; checked ones address each column inside the image from x, and
 * skip the others and their taps. */
static inline __attribute__((always_inline)) void dw_tile(const dw_row *r, int ox, int ix0,
        int K, int P, int S, int R, int checked, int lcut, int rcut, int all_rows, int PF,
        dw_lanes l)
{
    const int span = (P - 1) * S + K;
    const size_t c = r->c, row_floats = r->row_floats, groups = r->groups;
    const size_t group_floats = (size_t)DW_CR * (1 + (size_t)K * K), step = (size_t)S * c;
    /* columns ix0 + j, j in [j0, j1), are inside the image: with checked 2, the caller's
     * constants (the first lcut and the last rcut columns outside) */
    const int j0 = checked == 2 ? lcut : checked && ix0 < 0 ? -ix0 : 0;
    const int j1 = checked == 2 ? span - rcut : checked && r->w - ix0 < span ? r->w - ix0 : span;
    const int ky0 = all_rows ? 0 : r->ky0, ky1 = all_rows ? K : r->ky1;
    /* Column j of kernel row ky is at x + (ky - ky0) * row_floats + (j - j0) * c: x is the
     * first column inside the image of the first row inside it. */
    const float *x = r->in + (size_t)(r->iy0 + ky0) * row_floats + (size_t)(ix0 + j0) * c;
    const float *wp = r->wp;
    float *o = r->o + (size_t)ox * c;
    const size_t orow_floats = r->orow_floats;
    const dw_vec vmin = r->vmin, vmax = r->vmax;
    const int act = r->act;
    const char *pf = NULL;   /* PF: the lines of the first row to prefetch, pf_lines of them */
    size_t pf_lines = 0, pf_per = 0;
    if (PF && r->pf) {
        const char *lo = r->pf + (size_t)(ix0 + j0) * c * sizeof(float);
        const char *hi = r->pf + (size_t)(ix0 + j1) * c * sizeof(float);
        pf = lo - ((uintptr_t)lo & 63);
        pf_lines = (size_t)(hi - pf + 63) / 64;
        pf_per = (pf_lines + groups - 1) / groups;
    }
#define DW_J(p, kx) ((p) * S + (kx))
#define DW_COLSET(q, p, val) do { if (q) u##p = (val); else v##p = (val); } while (0)
#define DW_COL(q, p) ((q) ? u##p : v##p)
    /* Column j's address: unchecked tiles step a pointer per parity along the row, checked
     * ones address each column from x (those inside the image only). */
#define DW_IN(j) ((j) >= j0 && (j) < j1)
    /* Pass kx < S: load pixel p's column, then use it. */
#define DW_TAP(p, kx) \
        if ((p) < P && DW_IN(DW_J(p, kx))) { \
            if ((kx) < S) { \
                if (checked) { \
                    DW_COLSET((kx) % S, p, dw_loadx(xr + (size_t)(DW_J(p, kx) - j0) * c, l)); \
                } else { \
                    if ((p) > 0) \
                        DW_STEP(xq[(kx) % S], step); \
                    DW_COLSET((kx) % S, p, dw_loadx(xq[(kx) % S], l)); \
                } \
            } \
            if (first) \
                a##p = dw_fma(a##p, DW_COL((kx) % S, p), wk); \
            if (second) \
                b##p = dw_fma(b##p, DW_COL((kx) % S, p), wk1); \
        }
    /* Pass kx >= S: the parity's columns move down a pixel, the last pixel's is loaded. */
#define DW_SHIFT(q) \
        if (q) { \
            u0 = u1; u1 = u2; u2 = u3; u3 = u4; u4 = u5; u5 = u6; u6 = u7; u7 = u8; \
            u8 = u9; u9 = u10; u10 = u11; u11 = u12; u12 = u13; u13 = u14; u14 = u15; \
        } else { \
            v0 = v1; v1 = v2; v2 = v3; v3 = v4; v4 = v5; v5 = v6; v6 = v7; v7 = v8; \
            v8 = v9; v9 = v10; v10 = v11; v11 = v12; v12 = v13; v13 = v14; v14 = v15; \
        }
#define DW_LAST(q, p, val) if ((p) == P - 1) DW_COLSET(q, p, val)
#define DW_PASS(kx) \
        if ((kx) < K) { \
            const dw_vec wk = dw_loadw(wr + (kx) * DW_CR); \
            const dw_vec wk1 = second ? dw_loadw(wr1 + (kx) * DW_CR) : wk; \
            if ((kx) >= S) { \
                DW_SHIFT((kx) % S) \
                if (!checked) \
                    DW_STEP(xq[(kx) % S], step); \
                if (DW_IN(DW_J(P - 1, kx))) { \
                    const dw_vec xl = dw_loadx(checked ? \
                            xr + (size_t)(DW_J(P - 1, kx) - j0) * c : xq[(kx) % S], l); \
                    DW_LAST((kx) % S, 0, xl); DW_LAST((kx) % S, 1, xl); \
                    DW_LAST((kx) % S, 2, xl); DW_LAST((kx) % S, 3, xl); \
                    DW_LAST((kx) % S, 4, xl); DW_LAST((kx) % S, 5, xl); \
                    DW_LAST((kx) % S, 6, xl); DW_LAST((kx) % S, 7, xl); \
                    DW_LAST((kx) % S, 8, xl); DW_LAST((kx) % S, 9, xl); \
                    DW_LAST((kx) % S, 10, xl); DW_LAST((kx) % S, 11, xl); \
                    DW_LAST((kx) % S, 12, xl); DW_LAST((kx) % S, 13, xl); \
                    DW_LAST((kx) % S, 14, xl); DW_LAST((kx) % S, 15, xl); \
                } \
            } \
            DW_TAP(0, kx) DW_TAP(1, kx) DW_TAP(2, kx) DW_TAP(3, kx) \
            DW_TAP(4, kx) DW_TAP(5, kx) DW_TAP(6, kx) DW_TAP(7, kx) \
            DW_TAP(8, kx) DW_TAP(9, kx) DW_TAP(10, kx) DW_TAP(11, kx) \
            DW_TAP(12, kx) DW_TAP(13, kx) DW_TAP(14, kx) DW_TAP(15, kx) \
        }
    /* Input row ky (relative to the first output row's window): kernel row ky of the first
     * output row when use0, kernel row ky - S of the second when use1. */
#define DW_IROW(ky, use0, use1) { \
            const int first = (use0), second = (use1); \
            const float *xr = x + (size_t)((ky) - ky0) * row_floats; \
            const float *wr = wp + (size_t)DW_CR * (1 + (size_t)K * ((use0) ? (ky) : 0)); \
            const float *wr1 = wp + (size_t)DW_CR * (1 + (size_t)K * ((use1) ? (ky) - S : 0)); \
            const float *xq[2] = { xr, S > 1 && !checked ? xr + c : xr }; \
            (void)xq; (void)wr1; \
            DW_PASS(0) DW_PASS(1) DW_PASS(2) DW_PASS(3) DW_PASS(4) \
        }
#define DW_USE0(ky) ((ky) < K)
#define DW_USE1(ky) (R == 2 && (ky) >= S && (ky) - S < K)
#define DW_KROW(ky) \
        if (DW_USE0(ky) || DW_USE1(ky)) \
            DW_IROW(ky, DW_USE0(ky), DW_USE1(ky))
#define DW_STORE(p) \
        if ((p) < P) { \
            dw_store(o + (size_t)(p) * c, a##p, l, vmin, vmax, act); \
            if (R == 2) \
                dw_store(o + orow_floats + (size_t)(p) * c, b##p, l, vmin, vmax, act); \
        }
    for (size_t gi = 0; gi < groups; gi++, x += DW_CR, wp += group_floats, o += DW_CR) {
        const dw_vec bias = dw_loadw(wp);
        /* Accumulators of the first (a*) and second (b*) output row, all starting at the
         * bias; the columns (v*, u*) are initialised only so that no path reads an unset
         * variable. */
#define DW_VARS(n) dw_vec n##0 = bias, n##1 = bias, n##2 = bias, n##3 = bias, n##4 = bias, \
        n##5 = bias, n##6 = bias, n##7 = bias, n##8 = bias, n##9 = bias, n##10 = bias, \
        n##11 = bias, n##12 = bias, n##13 = bias, n##14 = bias, n##15 = bias
        DW_VARS(a); DW_VARS(b); DW_VARS(v); DW_VARS(u);
#undef DW_VARS
        if (all_rows) {
            DW_KROW(0) DW_KROW(1) DW_KROW(2) DW_KROW(3) DW_KROW(4) DW_KROW(5) DW_KROW(6)
        } else {   /* R == 1 */
            for (int ky = ky0; ky < ky1; ky++)
                DW_IROW(ky, 1, 0)
        }
        DW_STORE(0); DW_STORE(1); DW_STORE(2); DW_STORE(3);
        DW_STORE(4); DW_STORE(5); DW_STORE(6); DW_STORE(7);
        DW_STORE(8); DW_STORE(9); DW_STORE(10); DW_STORE(11);
        DW_STORE(12); DW_STORE(13); DW_STORE(14); DW_STORE(15);
        for (size_t q = 0; PF && q < pf_per && pf_lines; q++, pf_lines--, pf += 64)
            for (size_t rr = 0; rr < r->pf_rows; rr++)
                __builtin_prefetch(pf + rr * row_floats * sizeof(float), 0, 3);
    }
#undef DW_STORE
#undef DW_KROW
#undef DW_USE1
#undef DW_USE0
#undef DW_IROW
#undef DW_PASS
#undef DW_LAST
#undef DW_SHIFT
#undef DW_TAP
#undef DW_IN
#undef DW_COL
#undef DW_COLSET
#undef DW_J
}

/* Tile widths: P = DW_TILE(K, S, R), then H = P / 2 where that is above 4, then 4 and 2 where
 * narrower than P, and 1 (with P = 3: 3, 2, 1). */
#define DW_HALF(P) ((P) / 2 > 4 ? (P) / 2 : 4)

/* A tile of W pixels that may reach past the image's left or right edge.  In the interior rows
 * (all_rows), the usual edges get constant cuts: K / 2 columns of padding on one side only
 * (the first tile of a row, and the last one of a stride-1 row), or none at all; other cases
 * check at run time.  (With run-time cuts every tap of the tile tests its column; with 14 or 7
 * pixels a row, two of a row's five or three tiles are such edge tiles.) */
static inline __attribute__((always_inline)) void dw_tile_edge(const dw_row *r, int ox, int ix0,
        int K, int W, int S, int R, int all_rows, dw_lanes l)
{
    const int lc = -ix0, rc = ix0 + (W - 1) * S + K - r->w;
    const int cuts = all_rows && DW_EDGE_CONST;
    if (cuts && lc <= 0 && rc <= 0)
        dw_tile(r, ox, ix0, K, W, S, R, 0, 0, 0, all_rows, 0, l);
    else if (cuts && lc == K / 2 && rc <= 0)
        dw_tile(r, ox, ix0, K, W, S, R, 2, K / 2, 0, all_rows, 0, l);
    else if (cuts && lc <= 0 && rc == K / 2)
        dw_tile(r, ox, ix0, K, W, S, R, 2, 0, K / 2, all_rows, 0, l);
    else
        dw_tile(r, ox, ix0, K, W, S, R, 1, 0, 0, all_rows, 0, l);
}

/* A checked tile of T (a runtime value among the tile widths) pixels from column ox on. */
static inline __attribute__((always_inline)) void dw_tile_sized(const dw_row *r, int ox, int T,
        int K, int P, int S, int R, int pad_left, int all_rows, dw_lanes l)
{
    const int ix0 = ox * S - pad_left;
    if (T == P)
        dw_tile_edge(r, ox, ix0, K, P, S, R, all_rows, l);
    else if (DW_HALF(P) < P && T == DW_HALF(P))
        dw_tile_edge(r, ox, ix0, K, DW_HALF(P), S, R, all_rows, l);
    else if (P > 4 && T == 4)
        dw_tile_edge(r, ox, ix0, K, 4, S, R, all_rows, l);
    else if (P > 2 && T == 2)
        dw_tile_edge(r, ox, ix0, K, 2, S, R, all_rows, l);
    else
        dw_tile_edge(r, ox, ix0, K, 1, S, R, all_rows, l);
}

/* The smallest tile width of at least n pixels (P if none), and the largest of at most n. */
static inline int dw_width_up(int n, int P)
{
    return n <= 1 ? 1 : n <= 2 && P > 2 ? 2 : n <= 4 && P > 4 ? 4 : n <= DW_HALF(P) ? DW_HALF(P) : P;
}

static inline int dw_width_down(int n, int P)
{
    return n >= P ? P : n >= DW_HALF(P) ? DW_HALF(P) : n >= 4 ? 4 : n >= 2 ? 2 : 1;
}

/* The narrower tiles of one row shape (K, S, R, all_rows): one function each, out of line,
 * called once or twice per row, so that each row's loop nest inlines only its full tiles
 * (measured: the x86 files compiled in a third of the time, and the kernels took 0.96x the
 * time, docs/PERFORMANCE.md "The depthwise kernels' narrower tiles out of line"). */
typedef void (*dw_sized_fn)(const dw_row *r, int ox, int T, int pad_left, dw_lanes l);

#define DW_SIZED(name, K, S, R, all_rows, lanes) \
static __attribute__((noinline)) void name(const dw_row *r, int ox, int T, int pad_left, \
        dw_lanes l) \
{ \
    (void)l; \
    dw_tile_sized(r, ox, T, K, DW_TILE(K, S, R), S, R, pad_left, all_rows, lanes); \
}

/* One output row: full tiles of P = DW_TILE(K, S, R), unchecked where their span is inside the
 * image.  The remaining pixels take one smaller tile ending at the row's end (`sized`, which
 * is given l: the channel tail's lanes, a constant for whole groups), the
 * narrowest that covers them: it may overlap the last full tile, whose pixels it then writes
 * again with the same bits.  A row narrower than that tile takes two overlapping tiles of the
 * widest width that fits.  With PF, the full tiles prefetch (see dw_tile). */
static inline __attribute__((always_inline)) void dw_group_row(const dw_row *r, int ow,
        int K, int S, int R, int all_rows, int PF, int pad_left, dw_lanes l, dw_sized_fn sized)
{
    const int P = DW_TILE(K, S, R);
    int ox = 0;
    for (; ox + P <= ow; ox += P) {
        const int ix0 = ox * S - pad_left;
        if (ix0 >= 0 && ix0 + (P - 1) * S + K - 1 < r->w)
            dw_tile(r, ox, ix0, K, P, S, R, 0, 0, 0, all_rows, PF, l);
        else if (!PF && DW_EDGE_CONST)   /* out of line, its cuts constants where usual */
            sized(r, ox, P, pad_left, l);
        else
            dw_tile(r, ox, ix0, K, P, S, R, 1, 0, 0, all_rows, PF, l);
    }
    if (ox == ow)
        return;
    int T = dw_width_up(ow - ox, P);
    if (T > ow) {
        T = dw_width_down(ow, P);
        sized(r, 0, T, pad_left, l);
    }
    sized(r, ow - T, T, pad_left, l);
}

/* The instances: whole groups with the kernel size and stride as literals, one loop nest per
 * mode: 0, a top or bottom border row (some kernel rows outside the image); 1, an interior
 * row; 2, two interior rows at once (when DW_ROWS(K, S) is 2: they share the input rows
 * between them, K + S instead of 2 * K loads of each column).  And the channel tail (one
 * group per row), always with the border rows' nest.  Separate functions keep each register
 * allocation to its own loop nest: the two-row nest has its own (name_two), since inlined
 * beside the one-row nests it slowed them (AVX2, 4-pixel pairs: one-row 7x7 layers 1.04-1.10x,
 * session 22).  The interior nests have prefetching twins (name_in_pf, name_two_pf) for inputs
 * that come from memory (r->pf set): a separate nest, so that the others carry no trace of it. */
typedef void (*dw_row_fn)(const dw_row *r, int ow, int pad_left, int mode);

#define DW_ROW_INSTANCE(name, K, S) \
DW_SIZED(name##_border, K, S, 1, 0, dw_lanes_for(DW_CR)) \
DW_SIZED(name##_inside, K, S, 1, 1, dw_lanes_for(DW_CR)) \
DW_SIZED(name##_pair, K, S, DW_ROWS(K, S), 1, dw_lanes_for(DW_CR)) \
DW_SIZED(name##_tail, K, S, 1, 0, l) \
static __attribute__((noinline)) void name##_two(const dw_row *r, int ow, int pad_left) \
{ \
    dw_group_row(r, ow, K, S, DW_ROWS(K, S), 1, 0, pad_left, dw_lanes_for(DW_CR), name##_pair); \
} \
static __attribute__((noinline)) void name##_two_pf(const dw_row *r, int ow, int pad_left) \
{ \
    dw_group_row(r, ow, K, S, DW_ROWS(K, S), 1, 1, pad_left, dw_lanes_for(DW_CR), name##_pair); \
} \
static __attribute__((noinline)) void name##_in_pf(const dw_row *r, int ow, int pad_left) \
{ \
    dw_group_row(r, ow, K, S, 1, 1, 1, pad_left, dw_lanes_for(DW_CR), name##_inside); \
} \
static __attribute__((noinline)) void name(const dw_row *r, int ow, int pad_left, int mode) \
{ \
    if (DW_ROWS(K, S) == 2 && mode == 2 && r->pf) \
        name##_two_pf(r, ow, pad_left); \
    else if (DW_ROWS(K, S) == 2 && mode == 2) \
        name##_two(r, ow, pad_left); \
    else if (mode == 1 && r->pf) \
        name##_in_pf(r, ow, pad_left); \
    else if (mode == 1) \
        dw_group_row(r, ow, K, S, 1, 1, 0, pad_left, dw_lanes_for(DW_CR), name##_inside); \
    else \
        dw_group_row(r, ow, K, S, 1, 0, 0, pad_left, dw_lanes_for(DW_CR), name##_border); \
}
#if DW_HAS_K3
DW_ROW_INSTANCE(dw_row_k3_s1, 3, 1)
DW_ROW_INSTANCE(dw_row_k3_s2, 3, 2)
#endif
#if DW_HAS_K5
DW_ROW_INSTANCE(dw_row_k5_s1, 5, 1)
DW_ROW_INSTANCE(dw_row_k5_s2, 5, 2)
#endif
#undef DW_ROW_INSTANCE
#undef DW_SIZED

static __attribute__((noinline)) void dw_row_tail(const dw_row *r, int ow, int K, int stride,
        int pad_left, size_t n)
{
    (void)K;
#if DW_HAS_K3
    if (K == 3 && stride == 1) {
        dw_group_row(r, ow, 3, 1, 1, 0, 0, pad_left, dw_lanes_for(n), dw_row_k3_s1_tail);
        return;
    }
    if (K == 3) {
        dw_group_row(r, ow, 3, 2, 1, 0, 0, pad_left, dw_lanes_for(n), dw_row_k3_s2_tail);
        return;
    }
#endif
#if DW_HAS_K5
    if (stride == 1)
        dw_group_row(r, ow, 5, 1, 1, 0, 0, pad_left, dw_lanes_for(n), dw_row_k5_s1_tail);
    else
        dw_group_row(r, ow, 5, 2, 1, 0, 0, pad_left, dw_lanes_for(n), dw_row_k5_s2_tail);
#endif
}

/* Kernel rows [ky0, ky1) of output row oy that are inside the image. */
static inline void dw_set_row(dw_row *r, const mnet_conv_geom *g, int K, int oy)
{
    r->iy0 = oy * g->stride - g->pad_top;
    r->ky0 = r->iy0 < 0 ? -r->iy0 : 0;
    r->ky1 = g->h - r->iy0 < K ? g->h - r->iy0 : K;
}

/* The K x K kernel (mnet_dwconv3x3_ukernel / mnet_dwconv5x5_ukernel, K = 3 or 5): output rows
 * [oy0, oy1), one or two at a time; per row (pair), the whole groups, then the channel tail. */
static inline void dw_run(int K, const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max,
        int act)
{
    const size_t c = (size_t)g->cin, groups = c / DW_CR, tail = c % DW_CR;
    const size_t tail_c0 = groups * DW_CR;
    const float *tail_wp = packed_w + groups * DW_CR * (1 + (size_t)K * K);
    const int S = g->stride;
#if DW_HAS_K3 && DW_HAS_K5
    const dw_row_fn row = K == 3 ? (S == 1 ? dw_row_k3_s1 : dw_row_k3_s2)
                                 : (S == 1 ? dw_row_k5_s1 : dw_row_k5_s2);
#elif DW_HAS_K3
    const dw_row_fn row = S == 1 ? dw_row_k3_s1 : dw_row_k3_s2;
#else
    const dw_row_fn row = S == 1 ? dw_row_k5_s1 : dw_row_k5_s2;
#endif
    const int pairs = K == 3 ? DW_ROWS(3, S == 1 ? 1 : 2) == 2 : DW_ROWS(5, S == 1 ? 1 : 2) == 2;
    dw_row r;
    r.c = c;
    r.row_floats = (size_t)g->w * c;
    r.orow_floats = (size_t)g->ow * c;
    r.w = g->w;
    r.act = act;
    r.vmin = dw_splat(out_min);
    r.vmax = dw_splat(out_max);
    r.pf = NULL;
    r.pf_rows = 0;
    for (int oy = oy0; oy < oy1;) {
        dw_set_row(&r, g, K, oy);
        const int inside = r.ky0 == 0 && r.ky1 == K;
        /* the next row inside too: its last input row, iy0 + S + K - 1, is in the image */
        const int two = pairs && inside && oy + 1 < oy1 && r.iy0 + S + K <= g->h;
        float *orow = out + (size_t)oy * g->ow * c;
        int pf0, pf1;   /* prefetching: see mnet_dw_ahead_rows */
        r.pf = g->prefetch && inside && mnet_dw_ahead_rows(g, K, oy, 1 + two, oy1, &pf0, &pf1) ?
            (const char *)(in + (size_t)pf0 * r.row_floats) : NULL;
        r.pf_rows = r.pf ? (size_t)(pf1 - pf0) : 0;
        if (groups) {
            r.in = in;
            r.wp = packed_w;
            r.o = orow;
            r.groups = groups;
            row(&r, g->ow, g->pad_left, two ? 2 : inside);
        }
        r.pf = NULL;
        for (int k = 0; tail && k <= two; k++) {
            dw_set_row(&r, g, K, oy + k);
            r.in = in + tail_c0;
            r.wp = tail_wp;
            r.o = orow + (size_t)k * g->ow * c + tail_c0;
            r.groups = 1;
            dw_row_tail(&r, g->ow, K, S, g->pad_left, tail);
        }
        oy += 1 + two;
    }
}

#undef DW_HALF

/* The including file's kernels (mnet_dwconv3x3_ukernel, mnet_dwconv5x5_ukernel), named: one
 * (with DW_ONLY_K) or both. */
#define DW_ENTRY_3(name3x3) \
void name3x3(const mnet_conv_geom *g, const float *in, const float *packed_w, float *out, \
        int oy0, int oy1, float out_min, float out_max, int act) \
{ \
    dw_run(3, g, in, packed_w, out, oy0, oy1, out_min, out_max, act); \
    DW_LEAVE(); \
}
#define DW_ENTRY_5(name5x5) \
void name5x5(const mnet_conv_geom *g, const float *in, const float *packed_w, float *out, \
        int oy0, int oy1, float out_min, float out_max, int act) \
{ \
    dw_run(5, g, in, packed_w, out, oy0, oy1, out_min, out_max, act); \
    DW_LEAVE(); \
}
#define DW_ENTRY_POINTS(name3x3, name5x5) DW_ENTRY_3(name3x3) DW_ENTRY_5(name5x5)

#endif /* MNET_DWCONV_BODY_H */
