/* stem_tile.h - the x86 stems' interior tile (kernels/x86/conv3x3.c, conv3x3_avx512.c): P pixels
 * (all three input columns of every tap inside the image) from input pixel px to output o.  Per
 * (kernel row, tap) step the weight vectors wl and wh (channels [0, L) and [L, 2L) of the group,
 * L = STEM_LANES) are loaded and FMA(i) adds pixel i's input at p[i * xs + t]; ACC(i) declares
 * pixel i's accumulators, OUT(i) stores them.  The three kx taps of an input row are 3 * CIN
 * consecutive floats; XS is the input floats between neighbouring output pixels.  Both are
 * literals (6 and 3) for the RGB stride-2 stem where the including file says so: each broadcast
 * is then a fixed offset from one pointer and the tap loop unrolls, where runtime values take a
 * pointer register per pixel and a counted loop of 9 (docs/PERFORMANCE.md, "The stems' literal
 * steps").  The including file defines STEM_VEC, STEM_LOAD(p) and STEM_LANES, may define
 * STEM_OPAQUE(p) (run at every tap, e.g. an empty asm hiding the row pointer from the compiler;
 * default nothing), and has in scope: g, iy0, px, row, wp, CR. */
#ifndef MNET_STEM_TILE_H
#define MNET_STEM_TILE_H

#include "ukernels.h"

#ifndef STEM_OPAQUE
#define STEM_OPAQUE(p) ((void)0)
#endif

#define STEM_TILE(P, ACC, FMA, OUT, XS, CIN) { \
    const size_t xs = (XS), taps = 3 * (size_t)(CIN); \
    MNET_REP(P, ACC) \
    for (int ky = 0; ky < 3; ky++) { \
        const int iy = iy0 + ky; \
        if (iy < 0 || iy >= g->h) \
            continue; \
        const float *p = px + (size_t)iy * row; \
        const float *wt = wp + CR + (size_t)ky * taps * CR; \
        for (size_t t = 0; t < taps; t++, wt += CR) { \
            STEM_OPAQUE(p); \
            const STEM_VEC wl = STEM_LOAD(wt), wh = STEM_LOAD(wt + STEM_LANES); \
            (void)wh; \
            MNET_REP(P, FMA) \
        } \
    } \
    MNET_REP(P, OUT) \
}

#endif /* MNET_STEM_TILE_H */
