/* gemm.c - the GEMM driver: L2-sized column blocks of packed weights, row tiles streamed past. */
#include <math.h>
#include <stdint.h>

#include "internal.h"

/* total split into `parts` near-equal shares, part t getting floor(total (t + 1) / parts) -
 * floor(total t / parts), handed out in order by step(): q or q + 1 (total = q parts + r),
 * the remainder carried as in Bresenham's line.  The driver steps a few thousand tiles per
 * network, with three 64-bit divisions each before: the driver took 1.24% of V2's perf samples
 * then (the instructions after its divisions 40% of those) and 1.03% stepped (session 25). */
typedef struct { size_t q, r, parts, e; } share;

static share share_of(size_t total, size_t parts)
{
    const share s = { total / parts, total % parts, parts, 0 };
    return s;
}

static size_t step(share *s)
{
    s->e += s->r;
    if (s->e >= s->parts) {
        s->e -= s->parts;
        return s->q + 1;
    }
    return s->q;
}

void mnet_gemm_run_add(const mnet_gemm_config *cfg, mnet_add_ukernel add, size_t m0, size_t m1,
        size_t n, size_t k, const float *a, size_t a_stride, const float *packed, float *c,
        size_t c_stride, float out_min, float out_max, int act, const float *res,
        const void *after, size_t after_bytes)
{
    const size_t mr = (size_t)cfg->mr, nr = (size_t)cfg->nr;
    const size_t panel_floats = nr * (k + 1);
    size_t panels_per_block = MNET_GEMM_L2_BYTES / (panel_floats * sizeof(float));
    if (panels_per_block == 0)
        panels_per_block = 1;
    /* Blocks of near-equal width (16 panels of three per block: 3, 3, 3, 3, 2, 2, not five of
     * three and one of one, which reads all the rows again for a single panel). */
    const size_t panels = (n + nr - 1) / nr;
    const size_t blocks = (panels + panels_per_block - 1) / panels_per_block;

    /* Few tiles, each prefetching much of the next block: to L2 only (MNET_PF_FAR); so too
     * an `after` the caller tagged. */
    const uintptr_t far = m1 - m0 <= MNET_GEMM_PF_FAR_ROWS || ((uintptr_t)after & MNET_PF_FAR) ?
        MNET_PF_FAR : 0;
    for (size_t b = 0; b < blocks; b++) {
        const size_t p0 = panels * b / blocks, p1 = panels * (b + 1) / blocks;
        const size_t j0 = p0 * nr, nc = (p1 * nr < n ? p1 * nr : n) - j0;
        const float *w = packed + p0 * panel_floats;
        /* The next block's weights, a share per row tile for the kernels to prefetch as they
         * go: the first tile of every block otherwise waits on DRAM or L3 for its weights. */
        const size_t pnext = b + 1 < blocks ? panels * (b + 2) / blocks - p1 : 0;
        const char *next = (const char *)(w + (p1 - p0) * panel_floats);
        size_t next_lines = (pnext * panel_floats * sizeof(float) + 63) / 64;
        if (pnext == 0 && after) {   /* the last block: what the caller needs next */
            next = (const char *)((uintptr_t)after & ~(uintptr_t)63);
            next_lines = ((const char *)((uintptr_t)after & ~(uintptr_t)MNET_PF_FAR) +
                    after_bytes - next + 63) / 64;
        }
        next = (const char *)((uintptr_t)next | far);
        /* The rows in ceil(rows / MR) tiles of near-equal height (49 = 7 x 7, not 6 x 8 + 1):
         * a short last tile would stream the whole block of weights for a few rows.  Tile t
         * covers rows m0 + [floor(M t / T), floor(M (t + 1) / T)) and prefetches lines
         * [floor(L t / T), floor(L (t + 1) / T)), stepped without dividing (see step). */
        const size_t tiles = (m1 - m0 + mr - 1) / mr;
        if (tiles == 0)
            return;
        share rs = share_of(m1 - m0, tiles), ls = share_of(next_lines, tiles);
        size_t i = m0, l0 = 0;
        for (size_t t = 0; t < tiles; t++) {
            const size_t rows = step(&rs), l1 = l0 + step(&ls);
            float *ct = c + i * c_stride + j0;
            cfg->fn(rows, nc, k, a + i * a_stride, a_stride, w, ct, c_stride, out_min, out_max,
                    act, next + 64 * l0, l1 - l0);
            /* The residual goes in while the tile is still in L1: in one call when the block
             * spans whole rows (then the tile's rows are contiguous), else row by row.  (A call
             * per row cost V3 Large's 112x112 16 -> 16 projection 27 us of its 83: 12,544
             * calls of 16 floats.) */
            if (res && nc == c_stride)
                add(rows * nc, ct, res + i * c_stride, -INFINITY, INFINITY, ct);
            else
                for (size_t r = 0; res && r < rows; r++)
                    add(nc, ct + r * c_stride, res + (i + r) * c_stride + j0, -INFINITY,
                            INFINITY, ct + r * c_stride);
            i += rows;
            l0 = l1;
        }
    }
}

void mnet_gemm_run(const mnet_gemm_config *cfg, size_t m0, size_t m1, size_t n, size_t k,
        const float *a, size_t a_stride, const float *packed, float *c, size_t c_stride,
        float out_min, float out_max, int act)
{
    mnet_gemm_run_add(cfg, NULL, m0, m1, n, k, a, a_stride, packed, c, c_stride, out_min,
            out_max, act, NULL, NULL, 0);
}
