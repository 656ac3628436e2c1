/* gemm_tile.h - the x86 GEMM tile of R rows x two vectors of columns, shared by the AVX2 and
 * AVX-512 files.  Each includes it after defining, for its vector width:
 *   GT_VEC                   the vector type
 *   GT_W                     floats per vector; a packed panel is NR = 2 * GT_W columns
 *   GT_LOAD(p)               GT_W floats at p
 *   GT_BCAST(p)              *p in every lane
 *   GT_FMA(a, b, acc)        acc + a * b
 *   GT_STORE2(c, x, y, n)    epilogue of x and y, store of the first min(n, NR) columns
 *   GT_STORE1(c, x, n)       epilogue of x, store of the first n (<= GT_W) columns
 * (the epilogue helpers see the tile's vmin, vmax and act), and may define
 *   GT_K_UNROLL              a _Pragma placed before the k loops (MNET_GEMM_K_LOOP), else none
 * then instantiates GEMM_TILE(R) for each row count R it needs (MNET_REP: R a literal 2..8).
 * GT_TILE_PARAMS and gt_tile_fn give its own tiles the same signature.
 *
 * gemm_<R>x: exactly R rows, so the driver's near-equal tiles (49 rows = 7 x 7) cost what they
 * compute.  Per panel: 2 R accumulators, two weight loads and R broadcasts per k step; a last
 * panel of at most GT_W columns computes only its low half (the packed panel's upper half is
 * zero padding).  Every column accumulates bias, then k = 0, 1, ... in order with FMAs, so a
 * row's result does not depend on its tile. */
#ifndef MNET_GEMM_TILE_H
#define MNET_GEMM_TILE_H

#include "ukernels.h"

#ifndef GT_K_UNROLL
#define GT_K_UNROLL
#endif

/* The pieces, for row r of the tile. */
#define GT_PTRS(r)   const float *const a##r = a + (r) * a_stride; float *c##r = c + (r) * c_stride;
#define GT_ACC2(r)   GT_VEC x##r = bx, y##r = by;
#define GT_ACC1(r)   GT_VEC x##r = bx;
#define GT_FMA2(r)   { const GT_VEC va = GT_BCAST(a##r + kq); \
                       x##r = GT_FMA(va, b0, x##r); y##r = GT_FMA(va, b1, y##r); }
#define GT_FMA1(r)   x##r = GT_FMA(GT_BCAST(a##r + kq), b0, x##r);
#define GT_ST2(r)    GT_STORE2(c##r, x##r, y##r, nc); c##r += 2 * GT_W;
#define GT_ST1(r)    GT_STORE1(c##r, x##r, nc);
#define GT_STEP2(R)  { const GT_VEC b0 = GT_LOAD(w), b1 = GT_LOAD(w + GT_W); MNET_REP(R, GT_FMA2) }
#define GT_STEP1(R)  { const GT_VEC b0 = GT_LOAD(w); MNET_REP(R, GT_FMA1) }

/* The parameters of every tile (these and the files' own tail tiles), and their type. */
#define GT_TILE_PARAMS size_t nc, size_t kc, const float *a, size_t a_stride, const float *w, \
        float *c, size_t c_stride, GT_VEC vmin, GT_VEC vmax, int act, const char *pf, \
        size_t pf_lines
typedef void (*gt_tile_fn)(GT_TILE_PARAMS);

#define GEMM_TILE(R) \
static void gemm_##R##x(GT_TILE_PARAMS) \
{ \
    MNET_REP(R, GT_PTRS) \
    const size_t pf_every = MNET_PF_EVERY(kc * ((nc + 2 * GT_W - 1) / (2 * GT_W))); \
    for (; nc > GT_W; nc -= 2 * GT_W) { \
        const GT_VEC bx = GT_LOAD(w), by = GT_LOAD(w + GT_W);   /* bias */ \
        MNET_REP(R, GT_ACC2) \
        w += 2 * GT_W; \
        MNET_GEMM_K_LOOP(2 * GT_W, GT_STEP2(R), GT_K_UNROLL) \
        MNET_REP(R, GT_ST2) \
        if (nc <= 2 * GT_W) \
            return; \
    } \
    if (nc == 0) \
        return; \
    const GT_VEC bx = GT_LOAD(w); \
    MNET_REP(R, GT_ACC1) \
    w += 2 * GT_W; \
    MNET_GEMM_K_LOOP(2 * GT_W, GT_STEP1(R), GT_K_UNROLL) \
    MNET_REP(R, GT_ST1) \
}

#endif /* MNET_GEMM_TILE_H */
