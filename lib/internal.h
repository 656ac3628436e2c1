/* internal.h - what lib/ shares inside the library: the kernel table, errors, packing, drivers. */
#ifndef MNET_INTERNAL_H
#define MNET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mnet.h"
#include "ukernels.h"

/* Tiers are mnet_isa values 0 .. MNET_NUM_ISA - 1 (AUTO included). */
#define MNET_NUM_ISA 5

/* One op family's kernel with the tile sizes its packed weights are laid out for. */
typedef struct { mnet_dwconv3x3_ukernel fn; int cr; const char *name; } mnet_dwconv3x3_config;
typedef struct { mnet_conv3x3_ukernel fn; int cr; const char *name; } mnet_conv3x3_config;
typedef struct { mnet_gemm_ukernel fn; int mr, nr; const char *name; } mnet_gemm_config;
typedef struct { mnet_bn_relu6_ukernel fn; const char *name; } mnet_bn_relu6_config;
typedef struct { mnet_gavgpool_ukernel fn; const char *name; } mnet_gavgpool_config;
typedef struct { mnet_add_ukernel fn; const char *name; } mnet_add_config;
typedef struct { mnet_softmax_ukernel fn; const char *name; } mnet_softmax_config;
typedef struct { mnet_dwconv5x5_ukernel fn; int cr; const char *name; } mnet_dwconv5x5_config;
typedef struct { mnet_hswish_ukernel fn; const char *name; } mnet_hswish_config;
typedef struct { mnet_hsigmoid_ukernel fn; const char *name; } mnet_hsigmoid_config;
typedef struct { mnet_channel_scale_ukernel fn; const char *name; } mnet_channel_scale_config;

/* The kernel table of one tier.  Filled once, then read-only. */
typedef struct mnet_kernels {
    mnet_isa isa;
    mnet_dwconv3x3_config dwconv3x3;
    mnet_conv3x3_config conv3x3;
    mnet_gemm_config gemm;
    mnet_bn_relu6_config bn_relu6;
    mnet_gavgpool_config gavgpool;
    mnet_add_config add;
    mnet_softmax_config softmax;
    mnet_dwconv5x5_config dwconv5x5;
    mnet_hswish_config hswish;
    mnet_hsigmoid_config hsigmoid;
    mnet_channel_scale_config channel_scale;
} mnet_kernels;

/* The table for `isa` (AUTO = the selected tier); NULL if the tier is out of range or not
 * available (the caller reports which). */
MNET_INTERNAL const mnet_kernels *mnet_kernels_for(mnet_isa isa);

/* CPU detection (lib/cpu_*.c): bit (1u << tier) for each tier this CPU and OS can run,
 * regardless of what this build contains.  SCALAR is always set. */
MNET_INTERNAL unsigned mnet_cpu_isa_mask(void);
/* x86-64 PCLMULQDQ and SSE4.1 (the model file's CRC, lib/crc32_clmul.c); 0 elsewhere. */
MNET_INTERNAL int mnet_cpu_has_clmul(void);
/* 1 where AVX-512 instructions run as two 256-bit halves (AMD family 19h, Zen 4: a 512-bit FMA
 * costs two 256-bit ones), so 256-bit code does the same work without 512-bit shuffles; 0
 * elsewhere.  The dispatcher's pick of the AVX-512 GEMM (kernels/ukernels.inc). */
MNET_INTERNAL int mnet_cpu_avx512_halves(void);

/* Errors: record the detail for mnet_last_error() and return `status`. */
MNET_INTERNAL mnet_status mnet_error(mnet_status status, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
MNET_INTERNAL void mnet_clear_error(void);

/* Large long-lived buffers (64-byte aligned; huge pages where the OS allows).  Free with the
 * same byte count. */
MNET_INTERNAL void *mnet_big_alloc(size_t bytes);
MNET_INTERNAL void mnet_big_free(void *p, size_t bytes);
/* `bytes` rounded up to whole huge pages if mnet_big_alloc maps it with huge pages: for
 * buffers that are read all over, whose last partial huge page would otherwise be ordinary
 * pages (on a VM, the first reads of such pages after a while cost ~2 us each). */
MNET_INTERNAL size_t mnet_big_round(size_t bytes);

/* The library's executable segment [*lo, *hi) (the one holding its own code); its size, or 0
 * (nothing written) if it cannot be found. */
MNET_INTERNAL size_t mnet_code_range(uintptr_t *lo, uintptr_t *hi);
/* madvise's MADV_POPULATE_READ (Linux 5.14), for headers older than it. */
#define MNET_MADV_POPULATE_READ 22
/* Reads one byte of every page of [lo, hi) (page: the page size) and returns their sum; the
 * loads are left unchecked by the sanitizers, whose shadow memory, mapped on first use, would
 * otherwise fault pages of its own in. */
MNET_INTERNAL unsigned mnet_touch_pages(uintptr_t lo, uintptr_t hi, uintptr_t page);
/* Maps that segment into the process now: 1 by madvise(MADV_POPULATE_READ), 0 by reading a
 * byte of every page (kernels before 5.14), -1 if the segment was not found (memory.c). */
MNET_INTERNAL int mnet_map_code(void);
/* mnet_map_code once per process (later calls return at once): called when a context is made,
 * so that no kernel's first run waits on a page fault. */
MNET_INTERNAL void mnet_prefault_code(void);

/* Overflow-safe size arithmetic: *out = a * b (* c ...) in bytes; 0 on overflow or when the
 * product exceeds PTRDIFF_MAX. */
MNET_INTERNAL int mnet_mul_size(size_t *out, size_t a, size_t b);

/* Weight packing for the layouts in ukernels.h.  `bias` may be NULL (zeros). */
MNET_INTERNAL size_t mnet_packed_dwconv_floats(int c, int cr, int taps /* 9 or 25 */);
MNET_INTERNAL void mnet_pack_dwconv(int c, int cr, int taps, const float *w /* [taps][c] */,
        const float *bias, float *packed);
MNET_INTERNAL size_t mnet_packed_conv3x3_floats(int cin, int cout, int cr);
MNET_INTERNAL void mnet_pack_conv3x3(int cin, int cout, int cr,
        const float *w /* [cout][3][3][cin] */, const float *bias, float *packed);
MNET_INTERNAL size_t mnet_packed_gemm_floats(int k, int n, int nr);
MNET_INTERNAL void mnet_pack_gemm(int k, int n, int nr, const float *b /* [k][n] */,
        const float *bias, float *packed);
/* The inverses: the weights and bias back from a packed block, padding dropped (bias not
 * NULL, but for mnet_unpack_gemm, which then skips it). */
MNET_INTERNAL void mnet_unpack_dwconv(int c, int cr, int taps, const float *packed, float *w,
        float *bias);
MNET_INTERNAL void mnet_unpack_conv3x3(int cin, int cout, int cr, const float *packed, float *w,
        float *bias);
MNET_INTERNAL void mnet_unpack_gemm(int k, int n, int nr, const float *packed, float *b,
        float *bias);
/* A GEMM's weights in k-slices of `slice` input rows (the last may be shorter), each packed as
 * a GEMM of its own (mnet_pack_gemm), one after another; the bias in the first slice, zeros in
 * the others.  With slice >= k, exactly mnet_pack_gemm's layout.  The unpack takes the bias
 * from the first slice. */
MNET_INTERNAL size_t mnet_packed_gemm_sliced_floats(int k, int n, int nr, int slice);
MNET_INTERNAL void mnet_pack_gemm_sliced(int k, int n, int nr, int slice, const float *b,
        const float *bias, float *packed);
MNET_INTERNAL void mnet_unpack_gemm_sliced(int k, int n, int nr, int slice, const float *packed,
        float *b, float *bias);

/* Bytes of packed weights the GEMM driver keeps hot while the rows stream: half of a 512 KiB
 * L2 (a quarter of the development machine's 1 MiB), leaving room for the A rows and C tiles.
 * A larger block stops fitting in the smaller L2s; a smaller one re-reads A (every MR-row
 * tile) once more per block (on the 1 MiB L2: smaller blocks within the noise, 512 KiB slower;
 * docs/PERFORMANCE.md, sessions 6 and 7). */
#define MNET_GEMM_L2_BYTES (256u * 1024u)

/* Activation buffer i starts MNET_BUF_COLOR * i bytes into a page of MNET_BUF_PAGE, so that a
 * depthwise never reads and writes at the same offset within a page (4K aliasing; see
 * reserve_images in lib/context.c; the benchmarks place a kernel's output MNET_BUF_COLOR past
 * its input so).  mnet_page_at: `to` (with MNET_BUF_PAGE bytes of room) moved up by less than a
 * page so that it lies `off` bytes past `from` within a page (from NULL: past a page start). */
#define MNET_BUF_COLOR 1344u
#define MNET_BUF_PAGE 4096u

static inline float *mnet_page_at(float *to, const void *from, size_t off)
{
    const uintptr_t at = ((uintptr_t)to - (uintptr_t)from) & (MNET_BUF_PAGE - 1);
    return (float *)((char *)to + ((off - at) & (MNET_BUF_PAGE - 1)));
}

/* Inputs in the k-slice of `slice` from input k0 of k (0 past the end). */
static inline size_t mnet_slice_len(size_t k, size_t k0, size_t slice)
{
    return k0 >= k ? 0 : k - k0 < slice ? k - k0 : slice;
}

/* A GEMM call of at most this many rows tags its weight prefetch MNET_PF_FAR (kernels/ukernels.h):
 * 4 tiles of 8 rows, V1 160's 5x5 layers (25 rows) and the classifiers (1).  Measured on the
 * Zen 4 VM (session 41, README): V1 160 0.98 of the time, its 5x5 layers 0.82-0.89; V2 160
 * 0.95; V1 and V2 at 128 0.97-0.98; the rest within the noise.  V1 224's 7x7 layers (49 rows)
 * were slower with the L2 hint, and 48 instead of 32 measured the same at 192 (36 rows). */
#define MNET_GEMM_PF_FAR_ROWS 32u

/* A depthwise layer that reads an input tensor of at least this many bytes itself (not from a
 * fused group's window) may prefetch it (mnet_conv_geom.prefetch): larger than the L2s, the
 * tensor comes from L3 or DRAM, and the context times both ways to choose (lib/context.c
 * dw_prefetch; docs/PERFORMANCE.md, "Session 23: the depthwise prefetches inputs that come from
 * memory"). */
#define MNET_DW_PREFETCH_BYTES (1024u * 1024u)

/* GEMM driver: rows [m0, m1) of c = epilogue(a * packed + bias) (MNET_EPI_*), blocked so that
 * a slice of the packed weights stays in the L2 cache while every MR-row tile streams past it. */
MNET_INTERNAL void mnet_gemm_run(const mnet_gemm_config *cfg, size_t m0, size_t m1, size_t n,
        size_t k, const float *a, size_t a_stride, const float *packed, float *c, size_t c_stride,
        float out_min, float out_max, int act);

/* The same, then c += res tile by tile (res has c's strides): V2's residual add, done while
 * each tile is in L1.  The clamp applies before the add.  `after` (NULL, or after_bytes of
 * what the caller reads or writes next: the next layer's weights, a fused group's output rows)
 * is prefetched (MNET_PF_LOCALITY) while the last weight block computes, as each block
 * prefetches the next: a hint, never read.  `after` + MNET_PF_FAR (its bit 0 set) asks for the
 * call's prefetches into L2 only, as calls of few rows make them (MNET_GEMM_PF_FAR_ROWS).
 * add may be NULL when res is. */
MNET_INTERNAL void mnet_gemm_run_add(const mnet_gemm_config *cfg, mnet_add_ukernel add, size_t m0,
        size_t m1, size_t n, size_t k, const float *a, size_t a_stride, const float *packed,
        float *c, size_t c_stride, float out_min, float out_max, int act, const float *res,
        const void *after, size_t after_bytes);

#endif /* MNET_INTERNAL_H */
