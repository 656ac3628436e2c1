/* ukernels.h - internal micro-kernel interface shared by every ISA folder and lib/ (not installed). */
#ifndef MNET_UKERNELS_H
#define MNET_UKERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "mnet_config.h"

/* Kernel symbols are hidden: only the public API in mnet.h is exported from libmnet.so. */
#define MNET_INTERNAL __attribute__((visibility("hidden")))

/* Epilogues of the convolution and GEMM kernels: the activation runs on the accumulated value
 * (bias included), then the result is clamped to [out_min, out_max]:
 *   CLAMP     v                           (ReLU6 = clamp to [0, 6], ReLU, identity)
 *   HSWISH    v * min(max(v + 3, 0), 6) / 6
 *   HSIGMOID  min(max(v + 3, 0), 6) / 6
 * "/ 6" is computed as "* (1/6)" everywhere, so every ISA rounds alike. */
enum { MNET_EPI_CLAMP = 0, MNET_EPI_HSWISH = 1, MNET_EPI_HSIGMOID = 2 };
#define MNET_EPI_COUNT 3

static inline float mnet_epilogue_f32(float v, float out_min, float out_max, int act)
{
    if (act == MNET_EPI_HSWISH || act == MNET_EPI_HSIGMOID) {
        float t = v + 3.0f;
        t = t < 0.0f ? 0.0f : t;
        t = t > 6.0f ? 6.0f : t;
        t *= 1.0f / 6.0f;
        v = act == MNET_EPI_HSWISH ? v * t : t;
    }
    v = v < out_min ? out_min : v;
    return v > out_max ? out_max : v;
}

/* Geometry of one image through a 3x3 convolution (depthwise: cin == cout == c).
 * Input [h][w][cin], output [oh][ow][cout], both NHWC with dense rows.  The bottom and right
 * padding follow from oh/ow: a tap is inside the image iff 0 <= iy < h and 0 <= ix < w. */
typedef struct mnet_conv_geom {
    int h, w;
    int oh, ow;
    int stride;              /* 1 or 2 */
    int pad_top, pad_left;   /* 0 or 1 (0..2 for 5x5 depthwise) */
    int cin, cout;
    int prefetch;            /* depthwise: the input comes from L3 or memory, so prefetch the
                              * rows each next output row adds as the row before computes (a
                              * hint: the result is the same, no byte read); 0 elsewhere */
    const char *pf;          /* the stem: pf_lines 64-byte lines (pf at a line's start) that
                              * the caller writes next, prefetched spread over the call's rows
                              * (mnet_pf_row); a hint like the GEMM's stream.  NULL and 0
                              * elsewhere, and the depthwise kernels ignore it. */
    size_t pf_lines;
} mnet_conv_geom;

/* A stem's share of its caller's write-ahead stream (mnet_conv_geom.pf) for output row oy of
 * [oy0, oy1): lines [L i / n, L (i + 1) / n) for i = oy - oy0, n = oy1 - oy0, `per` of them
 * at each of the row's `slots` interior tiles (mnet_pf_take), the rest at the row's end
 * (mnet_pf_rest).  Why: a fused group's next band of output was last written an inference
 * ago and has gone to memory since; without the prefetch each of its stores waits on that line
 * coming back (the read for ownership) while the band's depthwise writes it.  A read
 * prefetch is enough: the line comes back owned by this core alone, and the store then needs
 * no further request. */
typedef struct mnet_pf_share { const char *p; size_t left, per; } mnet_pf_share;

static inline mnet_pf_share mnet_pf_row(const mnet_conv_geom *g, int oy, int oy0, int oy1,
        int slots)
{
    mnet_pf_share s = { NULL, 0, 0 };
    if (g->pf && g->pf_lines && oy1 > oy0) {
        const size_t n = (size_t)(oy1 - oy0), i = (size_t)(oy - oy0);
        const size_t l0 = g->pf_lines * i / n, l1 = g->pf_lines * (i + 1) / n;
        s.p = g->pf + 64 * l0;
        s.left = l1 - l0;
        s.per = slots > 0 ? (s.left + (size_t)slots - 1) / (size_t)slots : s.left;
    }
    return s;
}

static inline void mnet_pf_take(mnet_pf_share *s)
{
    for (size_t i = 0; i < s->per && s->left; i++, s->left--, s->p += 64)
        __builtin_prefetch(s->p, 0, 3);
}

static inline void mnet_pf_rest(mnet_pf_share *s)
{
    s->per = s->left;
    mnet_pf_take(s);
}

/* 3x3 depthwise, output rows [oy0, oy1) of one image, clamp to [out_min, out_max].
 * packed_w: ceil(c / CR) groups of CR channels, each { bias[CR], w[9][CR] } (tap = ky*3+kx),
 * zero past c (see mnet_pack_dwconv3x3). */
typedef void (*mnet_dwconv3x3_ukernel)(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act);

/* 5x5 depthwise: the same contract with packed_w groups { bias[CR], w[25][CR] } (tap = ky*5+kx)
 * and pads 0..2 (see mnet_pack_dwconv). */
typedef mnet_dwconv3x3_ukernel mnet_dwconv5x5_ukernel;

/* Full 3x3 convolution (the stem), output rows [oy0, oy1) of one image.
 * packed_w: ceil(cout / CR) groups of CR output channels, each { bias[CR], w[3][3][cin][CR] },
 * zero past cout (see mnet_pack_conv3x3). */
typedef void (*mnet_conv3x3_ukernel)(const mnet_conv_geom *g, const float *in,
        const float *packed_w, float *out, int oy0, int oy1, float out_min, float out_max, int act);

/* The depthwise prefetch (mnet_conv_geom.prefetch): while output rows [oy, oy + n) compute (n
 * = 1, or 2 for a pair), the input rows the next n output rows read and these do not, [*r0,
 * *r1), those inside the image; 0 (nothing to prefetch) when the next rows are not in the
 * call's [.., oy1) or none of theirs is inside the image. */
static inline int mnet_dw_ahead_rows(const mnet_conv_geom *g, int K, int oy, int n, int oy1,
        int *r0, int *r1)
{
    const int s = g->stride, first = (oy + n - 1) * s - g->pad_top + K;
    *r0 = first < 0 ? 0 : first;
    *r1 = first + n * s < g->h ? first + n * s : g->h;
    return oy + n < oy1 && *r0 < *r1;
}

/* The stem reads a new image: one that comes from L3 or DRAM (each image of a batch, a new
 * frame), whose rows the hardware prefetchers fetch too late for the few FMAs per byte the stem
 * does.  So the SIMD stems prefetch, as each tile of interior pixels runs, the same columns of
 * the input rows that output row oy + MNET_STEM_AHEAD is the first to read (its last `stride`
 * rows), into L1.  A hint only: rows outside the image are not prefetched, and no byte is read. */
#define MNET_STEM_AHEAD 2
typedef struct mnet_stem_ahead { const char *row[2]; } mnet_stem_ahead;

static inline mnet_stem_ahead mnet_stem_ahead_rows(const mnet_conv_geom *g, const float *in,
        int oy)
{
    mnet_stem_ahead a = { { NULL, NULL } };
    const int s = g->stride, first = (oy + MNET_STEM_AHEAD) * s - g->pad_top + 3 - s;
    for (int k = 0; k < s && k < 2; k++)
        if (first + k >= 0 && first + k < g->h)
            a.row[k] = (const char *)(in + (size_t)(first + k) * g->w * g->cin);
    return a;
}

/* The lines of floats [off, off + n) of each ahead row (n >= 1, inside the row). */
static inline void mnet_stem_prefetch(const mnet_stem_ahead *a, size_t off, size_t n)
{
    for (int k = 0; k < 2; k++) {
        if (!a->row[k])
            continue;
        /* from the line holding the first float (as an address: that line may begin before
         * the image) to the one holding the last */
        const uintptr_t b = (uintptr_t)(a->row[k] + off * sizeof(float));
        for (uintptr_t p = b - b % 64; p < b + n * sizeof(float); p += 64)
            __builtin_prefetch((const void *)p, 0, 3);
    }
}

/* GEMM tile: c[i][j] = epilogue(bias[j] + sum_k a[i][k] * w[k][j]) for i < mr, j < nc.
 * 1 <= mr <= MR, nc >= 1 (the kernel walks NR-wide panels, the last one partial), kc >= 1.
 * a and c have row strides a_stride and c_stride, in floats.
 * packed_w: ceil(n / NR) panels, each { bias[NR], w[kc][NR] }, zero past n (mnet_pack_gemm).
 * pf, pf_lines: 64-byte lines the caller needs next (the next block of packed weights), which a
 * SIMD tile prefetches while it computes (MNET_GEMM_K_LOOP, MNET_PREFETCH_STEP), so that
 * weights streaming from DRAM or L3 arrive spread over the block instead of as a burst of misses
 * on the next block's first tile.  A hint only: it reads nothing and may be ignored.  pf's
 * bit 0 set (MNET_PF_FAR: pf then points one byte into its line, the same line) asks for the
 * lines in L2 only (MNET_PF_LOCALITY_FAR), which the driver does for calls of few rows and
 * the tiles built with MNET_PF_TAGGED honour. */
typedef void (*mnet_gemm_ukernel)(size_t mr, size_t nc, size_t kc, const float *a,
        size_t a_stride, const float *packed_w, float *c, size_t c_stride,
        float out_min, float out_max, int act, const char *pf, size_t pf_lines);

/* The weight prefetch's locality: on x86 all cache levels (prefetcht0).  Measured on the AMD EPYC
 * development machine (session 12): with prefetcht1, the first row tile of each block of V1's
 * last 1x1 layer, its 4 MB of weights coming from DRAM inside the network, took 1.6x as long as
 * the block's other tiles (8100 against 5000 TSC cycles, a temporary rdtsc probe in the driver),
 * with prefetcht0 1.04x; networks 1-2% faster (docs/PERFORMANCE.md).  Elsewhere the L2 hint stays
 * (NEON's speed cannot be measured here). */
#if defined(__x86_64__) || defined(__i386__)
#define MNET_PF_LOCALITY 3
#else
#define MNET_PF_LOCALITY 2
#endif

/* The locality for a stream tagged MNET_PF_FAR: 1, the L2 hint (GCC emits prefetcht2 on x86).
 * Measured on the Zen 4 VM (session 41, as in session 34): in the layers of at most 32 rows
 * (MNET_GEMM_PF_FAR_ROWS), whose row tiles are few, each tile asks for a quarter or more of the
 * next 256 KiB weight block; as prefetcht0 that fills L1 far ahead of use, and V1 160's 5x5 1x1
 * layers (25 rows, 2 and 4 MB of weights from DRAM) took 1.12-1.23x the time they take with
 * the L2 hint (V1 224's 7x7 layers, 49 rows, are the session-12 case above and keep prefetcht0).
 * On the Zen 5 of session 35 the same hint, and the branch on it alone, made V1 160 slower, so
 * only the tiles compiled with MNET_PF_TAGGED 1 (Zen 4's AVX-512 entry) test the tag; the
 * others prefetch the tagged line as any other (the same line: the tag is its byte 1). */
#define MNET_PF_LOCALITY_FAR 1
#define MNET_PF_FAR 1u
#if defined(MNET_PF_TAGGED) && MNET_PF_TAGGED
#define MNET_PREFETCH_LINE(pf) do {                                            \
        if ((uintptr_t)(pf) & MNET_PF_FAR)                                      \
            __builtin_prefetch(pf, 0, MNET_PF_LOCALITY_FAR);                    \
        else                                                                    \
            __builtin_prefetch(pf, 0, MNET_PF_LOCALITY);                        \
    } while (0)
#else
#define MNET_PREFETCH_LINE(pf) __builtin_prefetch(pf, 0, MNET_PF_LOCALITY)
#endif

#define MNET_PREFETCH_STEP(pf, pf_lines) do {                                  \
        if (pf_lines) {                                                         \
            MNET_PREFETCH_LINE(pf);                                             \
            (pf) += 64;                                                         \
            (pf_lines)--;                                                       \
        }                                                                       \
    } while (0)

/* Row lists for register tiles of R rows (R a literal 1..8): MNET_REP(R, M) expands
 * M(0) M(1) ... M(R - 1), so one macro body defines a tile for each row count. */
#define MNET_REP1(M) M(0)
#define MNET_REP2(M) MNET_REP1(M) M(1)
#define MNET_REP3(M) MNET_REP2(M) M(2)
#define MNET_REP4(M) MNET_REP3(M) M(3)
#define MNET_REP5(M) MNET_REP4(M) M(4)
#define MNET_REP6(M) MNET_REP5(M) M(5)
#define MNET_REP7(M) MNET_REP6(M) M(6)
#define MNET_REP8(M) MNET_REP7(M) M(7)
#define MNET_REP(R, M) MNET_REP##R(M)

/* A tile's k loop: STEP, a statement on the step index kq, for kq = 0 .. kc - 1, w advancing
 * `wstep` floats per step, UNROLL (a _Pragma, or empty) before each loop over the steps; one
 * line is prefetched every pf_every steps while pf_lines last (at most one per step).  kc, w,
 * pf, pf_lines and pf_every are the tile's own variables: pf_every = MNET_PF_EVERY(all the k
 * steps of the tile's panels) spreads the lines evenly over the whole tile.  (Measured, one
 * thread: one line per step from the first step on, the lines then all requested in the first
 * half or less of the tile, streamed a 4 MB weight matrix from DRAM more slowly; spread evenly,
 * V1 1.0 ran 2.7-3.2% faster, V1 at 160 1.6%.) */
#define MNET_PF_EVERY(steps) (pf_lines && (steps) > pf_lines ? (steps) / pf_lines : 1)

#define MNET_GEMM_K_LOOP(wstep, STEP, UNROLL) {                                  \
        size_t kq = 0;                                                          \
        if (pf_lines) {                                                         \
            const size_t ev_ = pf_every;                                        \
            for (; kq + ev_ <= kc && pf_lines; pf_lines--, pf += 64) {          \
                MNET_PREFETCH_LINE(pf);                                         \
                UNROLL                                                          \
                for (size_t e_ = 0; e_ < ev_; e_++, kq++, w += (wstep))         \
                    STEP                                                        \
            }                                                                   \
        }                                                                       \
        UNROLL                                                                  \
        for (; kq < kc; kq++, w += (wstep))                                     \
            STEP                                                                \
    }

/* y[p][ch] = min(max(x[p][ch] * scale[ch] + shift[ch], 0), 6); x == y allowed. */
typedef void (*mnet_bn_relu6_ukernel)(size_t pixels, size_t c, const float *x,
        const float *scale, const float *shift, float *y);

/* out[ch] = mean over `pixels` rows of in[p][ch] (one image). */
typedef void (*mnet_gavgpool_ukernel)(size_t pixels, size_t c, const float *in, float *out);

/* out[i] = clamp(a[i] + b[i]); out may equal a or b. */
typedef void (*mnet_add_ukernel)(size_t count, const float *a, const float *b,
        float out_min, float out_max, float *out);

/* One row of softmax over c >= 1 values; out may equal in. */
typedef void (*mnet_softmax_ukernel)(size_t c, const float *in, float *out);

/* y[i] = h-swish(x[i]) / h-sigmoid(x[i]) as in the epilogues above; x == y allowed. */
typedef void (*mnet_hswish_ukernel)(size_t count, const float *x, float *y);
typedef void (*mnet_hsigmoid_ukernel)(size_t count, const float *x, float *y);

/* Squeeze-and-excite apply: y[p][ch] = x[p][ch] * scale[ch]; x == y allowed. */
typedef void (*mnet_channel_scale_ukernel)(size_t pixels, size_t c, const float *x,
        const float *scale, float *y);

/* Prototypes of every registered kernel, from the per-family lists. */
#define MNET_DWCONV3X3(isa, fn, cr) \
    MNET_INTERNAL void fn(const mnet_conv_geom *, const float *, const float *, float *, int, int, float, float, int);
#define MNET_DWCONV5X5(isa, fn, cr) \
    MNET_INTERNAL void fn(const mnet_conv_geom *, const float *, const float *, float *, int, int, float, float, int);
#define MNET_CONV3X3(isa, fn, cr) \
    MNET_INTERNAL void fn(const mnet_conv_geom *, const float *, const float *, float *, int, int, float, float, int);
#define MNET_GEMM(isa, fn, mr, nr) \
    MNET_INTERNAL void fn(size_t, size_t, size_t, const float *, size_t, const float *, float *, size_t, float, float, int, \
            const char *, size_t);
#define MNET_BN_RELU6(isa, fn) \
    MNET_INTERNAL void fn(size_t, size_t, const float *, const float *, const float *, float *);
#define MNET_GAVGPOOL(isa, fn) MNET_INTERNAL void fn(size_t, size_t, const float *, float *);
#define MNET_ADD(isa, fn) \
    MNET_INTERNAL void fn(size_t, const float *, const float *, float, float, float *);
#define MNET_SOFTMAX(isa, fn) MNET_INTERNAL void fn(size_t, const float *, float *);
#define MNET_HSWISH(isa, fn) MNET_INTERNAL void fn(size_t, const float *, float *);
#define MNET_HSIGMOID(isa, fn) MNET_INTERNAL void fn(size_t, const float *, float *);
#define MNET_CHANNEL_SCALE(isa, fn) \
    MNET_INTERNAL void fn(size_t, size_t, const float *, const float *, float *);
#include "ukernels.inc"  /* it #undefs the family macros at its end */

#endif /* MNET_UKERNELS_H */
