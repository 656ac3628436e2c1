/* bench_machine.c - what the machine itself can do, to judge the kernels against it:
 *  - peak/...: the single-core multiply-add peak of each kernel tier (bench/peak.h);
 *  - peak_pair/...: the same on one thread while a second one runs it too (unpinned): whether
 *    the CPUs are cores of their own (pair_scaling ~2) or share one (~1);
 *  - peak_store/TIER/S: the peak loop with S vector stores to L1 per round of its 12 chains:
 *    what a stored vector costs the multiply-adds beside it (fma_per_store);
 *  - bw/{read,write,copy}/SIZE: cache and memory bandwidth at working sets from L1 to DRAM;
 *  - dwbound/ISA/SHAPE: each MobileNet 3x3 depthwise layer against its own bandwidth bound,
 *    the time to read its input and write its output once, measured on the same buffers in
 *    the same cache state as the kernel (x_bound = kernel time / bound time), and the kernel
 *    with its input prefetch on (x_bound_pf: the runtime times both on inputs of
 *    MNET_DW_PREFETCH_BYTES and more; here the data stays in L2 or L3, where it costs);
 *  - dwalias/ISA/HxWxC/sS: a depthwise layer with its output 0, 64 and 1344 bytes past its
 *    input within a 4 KiB page (x_at0, x_at64: the time at 0 and 64 over the time at 1344, where
 *    the runtime's buffers lie; lib/context.c buf_bytes): what 4K aliasing costs the kernel;
 *  - dwl1/ISA/HxWxC/sS: the same depthwise kernel on a tensor small enough that its input and
 *    output stay in L1, as a share of the tier's FMA peak (pct_peak): what the kernel's code
 *    can do when the data is near, against which dwbound's layers (from L2, L3 or DRAM) are
 *    judged;
 *  - gemmstream/ISA/SHAPE/{hot,cold}: the late 1x1 layers of V1 (and the classifier), which in
 *    a network read weights another layer has evicted: the same GEMM with one copy of its
 *    packed weights, hot in cache, and cycling through copies that together exceed any cache
 *    (MNET_STREAM_BYTES), so every call streams its weights from DRAM;
 *  - xcore/SIZE: a thread on another CPU writes a buffer, then this one reads it (cross_GBps),
 *    against this thread reading what it wrote itself (local_GBps): what it costs one core to
 *    take the lines another core wrote, as a layer split between two threads does wherever it
 *    reads rows the other thread produced;
 *  - xcore/pingpong: one cache line's trip from this CPU to another (one_way_ns, half a round
 *    trip of two threads answering each other through two lines);
 *  - xcore/dw/ISA/SHAPE/sS: a depthwise layer of the sizes a runtime splits between two threads
 *    unfused (28x28 and below), its input written by a thread on another CPU, against the same
 *    input written by this thread (x_cross: the first time over the second, turn by turn): what
 *    the rows a layer's part reads from the other thread cost it, its halo and any rows the
 *    layer before cut differently, per byte (the kernel reads a row channel group by channel
 *    group, pixel by pixel, not as one stream as xcore/SIZE does);
 *  - pagetouch: what the first use of a page of code costs after mnet_prefault_code's
 *    madvise(MADV_POPULATE_READ) has mapped it, against its second use and an ordinary fault;
 *  - pool/handoff/Nus: the runtime's thread pool (lib/pool.c) on two threads running tasks whose
 *    two parts each take N microseconds: what a layer split between two threads pays for the
 *    hand-off on top of its work (overhead_us), and how often the calling thread found the
 *    worker's part not yet started and ran it itself (taken_over, a share of the tasks).
 * Single thread, but for peak_pair, xcore and pool.  `bench_machine --benchmark_format=json` for tools/bench_compare.py. */
#define _GNU_SOURCE   /* sched_getcpu, pthread_setaffinity_np */
#include <fcntl.h>
#include <immintrin.h>
#include <sched.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evict.h"
#include "gbench_shim.h"
#include "internal.h"
#include "peak.h"
#include "pool.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *alloc_floats(size_t count)
{
    const size_t bytes = (count * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        for (size_t i = 0; i < bytes / sizeof(float); i++)
            p[i] = (float)(i % 251) * 0.01f - 1.0f;
    return p;
}

static volatile float g_sink;   /* keeps results alive */

/* Report the benchmark as skipped (`why`) and let its loop end. */
static void skip(mnet_bench_state *st, const char *why)
{
    mnet_bench_skip_with_error(st, why);
    while (mnet_bench_keep_running(st)) {
    }
}

/* The kernels of tier `isa`, or NULL with the benchmark skipped when this build or CPU lacks
 * them. */
static const mnet_kernels *tier_or_skip(mnet_bench_state *st, mnet_isa isa)
{
    const mnet_kernels *k = mnet_kernels_for(isa);
    if (!k)
        skip(st, "ISA not available");
    return k;
}

/* ---- FMA peak (bench/peak.h) ------------------------------------------------------------ */

static void bench_peak(mnet_bench_state *st, void *arg)
{
    const mnet_isa isa = (mnet_isa)(intptr_t)arg;
    int lanes = 0;
    float (*fn)(void) = peak_fn(isa, &lanes);
    if (!fn) {
        skip(st, "this CPU lacks the instructions");
        return;
    }
    while (mnet_bench_keep_running(st))
        g_sink = fn();
    mnet_bench_set_counter(st, "GFLOPS", peak_flops_per_call(lanes) * 1e-9,
            MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE);
}

/* ---- bandwidth ------------------------------------------------------------------------- */

/* Read `n_in` floats and write `n_out` (multiples of 8) once each: the least memory traffic
 * any kernel mapping that input to that output can make. */
__attribute__((target("avx2"))) static void read_write(const float *in, size_t n_in, float *out,
        size_t n_out)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n_in; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(in + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(in + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(in + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(in + i + 24));
    }
    for (; i + 8 <= n_in; i += 8)
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(in + i));
    const __m256 v = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    for (size_t j = 0; j + 8 <= n_out; j += 8)
        _mm256_storeu_ps(out + j, v);
    if (n_out == 0) {
        float t[8];
        _mm256_storeu_ps(t, v);
        g_sink = t[0];
    }
}

typedef struct { int kind; size_t bytes; } bw_case;   /* kind: 0 read, 1 write, 2 copy */

static void bench_bw(mnet_bench_state *st, void *arg)
{
    const bw_case *bc = arg;
    const size_t n = bc->bytes / sizeof(float);
    float *a = alloc_floats(n), *b = alloc_floats(n);
    if (!a || !b) {
        mnet_bench_skip_with_error(st, "out of memory");
    }
    while (mnet_bench_keep_running(st))
        read_write(a, bc->kind == 1 ? 0 : n, b, bc->kind == 0 ? 0 : n);
    const double bytes = (double)bc->bytes * (bc->kind == 2 ? 2.0 : 1.0);
    mnet_bench_set_counter(st, "GBps", bytes * 1e-9,
            MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE);
    free(a);
    free(b);
}

/* ---- depthwise against its bound ------------------------------------------------------- */

typedef struct { const char *net; int hw, c, stride; mnet_isa isa; } dw_case;

/* A depthwise layer's input, output and packed weights (zero weights: the timing does not
 * depend on them), for geometry g and tier k. */
typedef struct { float *in, *out, *out_mem, *w, *packed; size_t n_in, n_out; } dw_data;

static void dw_data_free(dw_data *d)
{
    free(d->in);
    free(d->out_mem);
    free(d->w);
    free(d->packed);
}

static int dw_data_make(dw_data *d, const mnet_kernels *k, const mnet_conv_geom *g)
{
    const int c = g->cin, cr = k->dwconv3x3.cr;
    d->n_in = (size_t)g->h * g->w * c;
    d->n_out = (size_t)g->oh * g->ow * c;
    d->in = alloc_floats(d->n_in);
    d->out_mem = alloc_floats(d->n_out + 2 * MNET_BUF_PAGE / sizeof(float));
    d->w = alloc_floats(9 * (size_t)c);
    d->packed = alloc_floats(mnet_packed_dwconv_floats(c, cr, 9));
    if (!d->in || !d->out_mem || !d->w || !d->packed) {
        dw_data_free(d);
        return 0;
    }
    /* the output where the runtime's next buffer would start against the input (4K aliasing),
     * a page of room before it (bench_dwalias) */
    d->out = mnet_page_at(d->out_mem + MNET_BUF_PAGE / sizeof(float), d->in, MNET_BUF_COLOR);
    mnet_pack_dwconv(c, cr, 9, d->w, NULL, d->packed);
    return 1;
}

/* The median of n values (sorted in place). */
static double median_of(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            const double x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    return v[n / 2];
}

/* Median seconds of `reps` (at most 31) calls of f (a few warm-up calls first). */
#define MEDIAN_TIME(reps, call, out) do { \
        double t_[31]; \
        for (int w_ = 0; w_ < 3; w_++) { call; } \
        for (int r_ = 0; r_ < (reps); r_++) { \
            const double t0_ = now_s(); call; t_[r_] = now_s() - t0_; \
        } \
        (out) = median_of(t_, (reps)); \
    } while (0)

/* A dw_case's tier, geometry (square, output o x o) and data; 0 (the benchmark skipped) when
 * the CPU lacks the tier or memory runs out. */
static int dw_case_make(mnet_bench_state *st, const dw_case *dc, const mnet_kernels **k,
        mnet_conv_geom *g, int *o, dw_data *d)
{
    if (!(*k = tier_or_skip(st, dc->isa)))
        return 0;
    *o = (dc->hw + dc->stride - 1) / dc->stride;
    *g = (mnet_conv_geom){ .h = dc->hw, .w = dc->hw, .oh = *o, .ow = *o, .stride = dc->stride,
        .pad_top = dc->stride == 1, .pad_left = dc->stride == 1, .cin = dc->c, .cout = dc->c };
    if (!dw_data_make(d, *k, g)) {
        skip(st, "out of memory");
        return 0;
    }
    return 1;
}

static void bench_dwbound(mnet_bench_state *st, void *arg)
{
    const dw_case *dc = arg;
    const mnet_kernels *k;
    mnet_conv_geom g;
    int o;
    dw_data d;
    if (!dw_case_make(st, dc, &k, &g, &o, &d))
        return;
    mnet_conv_geom gpf = g;
    gpf.prefetch = 1;
    /* The three in turn, 31 turns after 3 of warm-up, and the ratios taken within each turn:
     * on a shared machine the bandwidth one core gets moves from one second to the next, and
     * the bound and the kernel timed in separate batches of calls then differ by that too
     * (x_bound of the same large stride-2 layer read 1.10 and 1.70 minutes apart). */
    enum { TURNS = 31 };
    double t_bound[TURNS], t_kernel[TURNS], t_pf[TURNS], r_kernel[TURNS], r_pf[TURNS];
    for (int r = -3; r < TURNS; r++) {
        const double t0 = now_s();
        read_write(d.in, d.n_in, d.out, d.n_out);
        const double t1 = now_s();
        k->dwconv3x3.fn(&g, d.in, d.packed, d.out, 0, o, 0.0f, 6.0f, MNET_EPI_CLAMP);
        const double t2 = now_s();
        k->dwconv3x3.fn(&gpf, d.in, d.packed, d.out, 0, o, 0.0f, 6.0f, MNET_EPI_CLAMP);
        const double t3 = now_s();
        if (r < 0)
            continue;
        t_bound[r] = t1 - t0;
        t_kernel[r] = t2 - t1;
        t_pf[r] = t3 - t2;
        r_kernel[r] = t_kernel[r] / t_bound[r];
        r_pf[r] = t_pf[r] / t_bound[r];
    }
    const double bound = median_of(t_bound, TURNS), kernel = median_of(t_kernel, TURNS);
    while (mnet_bench_keep_running(st))
        k->dwconv3x3.fn(&g, d.in, d.packed, d.out, 0, o, 0.0f, 6.0f, MNET_EPI_CLAMP);
    mnet_bench_set_counter(st, "bound_us", bound * 1e6, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "kernel_us", kernel * 1e6, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "x_bound", median_of(r_kernel, TURNS), MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "x_bound_pf", median_of(r_pf, TURNS), MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "bound_GBps", (double)(d.n_in + d.n_out) * 4 / bound * 1e-9,
            MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_label(st, dc->net);
    dw_data_free(&d);
}

/* The kernel with its output at three offsets from its input within a page, timed in turns
 * (as bench_dwbound, so that the machine's drift falls on all three alike); dw_case as there. */
static void bench_dwalias(mnet_bench_state *st, void *arg)
{
    const mnet_kernels *k;
    mnet_conv_geom g;
    int o;
    dw_data d;
    if (!dw_case_make(st, arg, &k, &g, &o, &d))
        return;
    /* d.out is MNET_BUF_COLOR past d.in (dw_data_make); the others below it, in the page of
     * room dw_data_make left before it */
    static const size_t at[3] = { 0, 64, MNET_BUF_COLOR };
    float *out[3];
    for (int i = 0; i < 3; i++)
        out[i] = (float *)((char *)d.out - MNET_BUF_COLOR + at[i]);
    enum { TURNS = 31 };
    double t[3][TURNS], r0[TURNS], r64[TURNS];
    for (int r = -3; r < TURNS; r++) {
        double ti[3];
        for (int i = 0; i < 3; i++) {
            const double t0 = now_s();
            k->dwconv3x3.fn(&g, d.in, d.packed, out[i], 0, o, 0.0f, 6.0f, MNET_EPI_CLAMP);
            ti[i] = now_s() - t0;
        }
        if (r < 0)
            continue;
        for (int i = 0; i < 3; i++)
            t[i][r] = ti[i];
        r0[r] = ti[0] / ti[2];
        r64[r] = ti[1] / ti[2];
    }
    while (mnet_bench_keep_running(st))
        k->dwconv3x3.fn(&g, d.in, d.packed, d.out, 0, o, 0.0f, 6.0f, MNET_EPI_CLAMP);
    mnet_bench_set_counter(st, "us_at0", median_of(t[0], TURNS) * 1e6, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "us_at64", median_of(t[1], TURNS) * 1e6, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "us_at1344", median_of(t[2], TURNS) * 1e6,
            MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "x_at0", median_of(r0, TURNS), MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "x_at64", median_of(r64, TURNS), MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_label(st, ((const dw_case *)arg)->net);
    dw_data_free(&d);
}

/* ---- FMA peak with stores beside it ---------------------------------------------------- */

/* The peak loop's PEAK_CHAINS chains (bench/peak.h), and after each round of them S vector
 * stores (of the chains' new values) walking a 16 KiB ring that stays in L1.  Every kernel
 * stores its outputs among its multiply-adds: a 3x3 depthwise one vector per 9, a 1x1 layer one
 * per k.  Where stores take time from the FMAs the loop slows down: on the Zen 4 VM (session
 * 41) one or two stores per 12 FMAs cost almost nothing, four cost 1.6 (512-bit) and 1.8
 * (256-bit) FMAs each.  fma_per_store: the extra time per store, in the time of one vector
 * multiply-add of the peak loop itself (peak/...; 0: the stores cost the FMAs nothing). */
#define PEAKST_RING 4096   /* floats: 16 KiB, a power of two */
#define PEAKST_FN(attrs, name, vec, lanes, splat, madd, add, store, S)         \
    attrs static float name(float *ring)                                        \
    {                                                                           \
        vec a[PEAK_CHAINS];                                                     \
        const vec m = splat(0.999999f), c = splat(1e-7f);                       \
        for (int k = 0; k < PEAK_CHAINS; k++)                                   \
            a[k] = splat((float)k);                                             \
        size_t off = 0;                                                         \
        for (int i = 0; i < PEAK_STEPS; i++) {                                  \
            for (int k = 0; k < PEAK_CHAINS; k++)                               \
                a[k] = madd(a[k], m, c);                                        \
            for (int j = 0; j < (S); j++)                                       \
                store(ring + off + (size_t)j * (lanes), a[j % PEAK_CHAINS]);    \
            off = (off + (size_t)(S) * (lanes)) & (PEAKST_RING - 1);            \
        }                                                                       \
        for (int k = 1; k < PEAK_CHAINS; k++)                                   \
            a[0] = add(a[0], a[k]);                                             \
        float v[sizeof(vec) / sizeof(float)];                                   \
        memcpy(v, &a[0], sizeof v);                                             \
        return v[0] + v[sizeof v / sizeof v[0] - 1] + ring[off];                \
    }
#define PEAKST_TIER(attrs, tier, vec, lanes, splat, madd, add, store)           \
    PEAKST_FN(attrs, peakst_##tier##_1, vec, lanes, splat, madd, add, store, 1) \
    PEAKST_FN(attrs, peakst_##tier##_2, vec, lanes, splat, madd, add, store, 2) \
    PEAKST_FN(attrs, peakst_##tier##_4, vec, lanes, splat, madd, add, store, 4)
PEAKST_TIER(__attribute__((target("avx512f"))), avx512, __m512, 16, _mm512_set1_ps,
        _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps)
PEAKST_TIER(__attribute__((target("avx2,fma"))), avx2, __m256, 8, _mm256_set1_ps,
        _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps)

typedef struct { mnet_isa isa; int stores; float (*fn)(float *ring); } peakst_case;

static void bench_peak_store(mnet_bench_state *st, void *arg)
{
    const peakst_case *pc = arg;
    int lanes = 0;
    float (*peak)(void) = peak_fn(pc->isa, &lanes);
    if (!peak) {
        skip(st, "this CPU lacks the instructions");
        return;
    }
    float *ring = alloc_floats(PEAKST_RING);
    if (!ring) {
        skip(st, "out of memory");
        return;
    }
    /* each sample 16 calls (~0.2 ms): one call is near the clock's granularity here */
    double t0, ts;
    MEDIAN_TIME(31, for (int c_ = 0; c_ < 16; c_++) g_sink = peak(), t0);
    MEDIAN_TIME(31, for (int c_ = 0; c_ < 16; c_++) g_sink = pc->fn(ring), ts);
    while (mnet_bench_keep_running(st))
        g_sink = pc->fn(ring);
    mnet_bench_set_counter(st, "GFLOPS", peak_flops_per_call(lanes) * 1e-9,
            MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE);
    mnet_bench_set_counter(st, "fma_per_store",
            (ts / t0 - 1.0) * PEAK_CHAINS / pc->stores, MNET_BENCH_COUNTER_DEFAULT);
    free(ring);
}

/* ---- depthwise with its data in L1 ----------------------------------------------------- */

typedef struct { int h, w, c, stride; mnet_isa isa; } dwl1_case;

static void bench_dwl1(mnet_bench_state *st, void *arg)
{
    const dwl1_case *dc = arg;
    const mnet_kernels *k = tier_or_skip(st, dc->isa);
    if (!k)
        return;
    int lanes = 0;
    float (*peak)(void) = peak_fn(dc->isa, &lanes);
    if (!peak) {
        skip(st, "this CPU lacks the instructions");
        return;
    }
    const int s = dc->stride, oh = (dc->h - 1) / s + 1, ow = (dc->w - 1) / s + 1;
    const mnet_conv_geom g = { .h = dc->h, .w = dc->w, .oh = oh, .ow = ow, .stride = s,
        .pad_top = 1, .pad_left = 1, .cin = dc->c, .cout = dc->c };
    dw_data d;
    if (!dw_data_make(&d, k, &g)) {
        skip(st, "out of memory");
        return;
    }
    double peak_s;
    MEDIAN_TIME(31, g_sink = peak(), peak_s);
    const double peak_gflops = peak_flops_per_call(lanes) / peak_s * 1e-9;
    while (mnet_bench_keep_running(st))
        k->dwconv3x3.fn(&g, d.in, d.packed, d.out, 0, oh, 0.0f, 6.0f, MNET_EPI_CLAMP);
    /* every output: 9 multiply-adds, those on the padding included (a kernel skips them;
     * counted as done, as bench_kernels counts them) */
    mnet_bench_set_counter(st, "GFLOPS", 2.0 * 9.0 * (double)d.n_out * 1e-9,
            MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE);
    mnet_bench_set_counter(st, "peak_GFLOPS", peak_gflops, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "data_KiB", (double)(d.n_in + d.n_out) * 4 / 1024,
            MNET_BENCH_COUNTER_DEFAULT);
    dw_data_free(&d);
}

/* ---- FMA peak of one thread while a second one runs the same loop ---------------------- */

/* Whether the machine's two (or more) CPUs are really cores of their own: the same peak loop
 * timed on this thread while another thread (which the OS puts on another CPU; run it without
 * taskset) runs it too.  pair_scaling = 2 x this thread's rate / its rate alone: about 2 on two
 * cores, about 1 when the CPUs are SMT siblings or one core time-shared (two threads of
 * anything FMA-bound, mnet included, can then not beat one). */
static atomic_int g_pair_stop;
static float (*g_pair_fn)(void);   /* set before the helper starts */
static volatile float g_sink2;

static void *peak_spin(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&g_pair_stop, memory_order_relaxed))
        g_sink2 = g_pair_fn();
    return NULL;
}

static void bench_peak_pair(mnet_bench_state *st, void *arg)
{
    const mnet_isa isa = (mnet_isa)(intptr_t)arg;
    int lanes = 0;
    float (*fn)(void) = peak_fn(isa, &lanes);
    pthread_t helper;
    if (!fn) {
        skip(st, "this CPU lacks the instructions");
        return;
    }
    double solo;
    MEDIAN_TIME(31, g_sink = fn(), solo);
    atomic_store(&g_pair_stop, 0);
    g_pair_fn = fn;
    if (pthread_create(&helper, NULL, peak_spin, NULL) != 0) {
        skip(st, "no second thread");
        return;
    }
    const double t0 = now_s();
    while (now_s() - t0 < 0.01)   /* the helper running before the timing starts */
        g_sink = fn();
    const double ts = now_s();
    while (mnet_bench_keep_running(st))
        g_sink = fn();
    const double te = now_s();
    atomic_store(&g_pair_stop, 1);
    pthread_join(helper, NULL);
    const double flops = peak_flops_per_call(lanes);
    const double paired = (double)mnet_bench_iterations(st) * flops / (te - ts);
    mnet_bench_set_counter(st, "GFLOPS", flops * 1e-9,
            MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE);
    mnet_bench_set_counter(st, "solo_GFLOPS", flops / solo * 1e-9, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "pair_scaling", 2.0 * paired * solo / flops,
            MNET_BENCH_COUNTER_DEFAULT);
}

/* ---- 1x1 layers with weights hot or streaming from DRAM -------------------------------- */

#define MNET_STREAM_BYTES ((size_t)96 << 20)   /* more than this machine's L3 share */

typedef struct { const char *what; int m, n, k, cold; mnet_isa isa; } stream_case;

static void bench_gemmstream(mnet_bench_state *st, void *arg)
{
    const stream_case *sc = arg;
    const mnet_kernels *kn = tier_or_skip(st, sc->isa);
    if (!kn)
        return;
    const size_t m = (size_t)sc->m, n = (size_t)sc->n, k = (size_t)sc->k;
    const size_t pf = mnet_packed_gemm_floats(sc->k, sc->n, kn->gemm.nr);
    size_t copies = sc->cold ? MNET_STREAM_BYTES / (pf * sizeof(float)) + 1 : 1;
    float *a = alloc_floats(m * k), *c = alloc_floats(m * n), *b = alloc_floats(k * n);
    float *bias = alloc_floats(n);
    float **w = calloc(copies, sizeof *w);
    int ok = a && c && b && bias && w;
    for (size_t i = 0; ok && i < copies; i++) {
        ok = (w[i] = mnet_big_alloc(pf * sizeof(float))) != NULL;   /* as a model's (2 MiB pages) */
        if (ok)
            mnet_pack_gemm(sc->k, sc->n, kn->gemm.nr, b, bias, w[i]);
    }
    if (!ok) {
        skip(st, "out of memory");
    } else {
        size_t i = 0;
        while (mnet_bench_keep_running(st)) {
            mnet_gemm_run(&kn->gemm, 0, m, n, k, a, k, w[i], c, n, 0.0f, 6.0f, MNET_EPI_CLAMP);
            i = i + 1 == copies ? 0 : i + 1;
        }
        mnet_bench_set_counter(st, "GFLOPS", 2.0 * (double)(m * n * k) * 1e-9,
                MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE);
        mnet_bench_set_counter(st, "weight_GBps", (double)(pf * sizeof(float)) * 1e-9,
                MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE);
        mnet_bench_set_label(st, sc->what);
    }
    for (size_t j = 0; w && j < copies; j++)
        if (w[j])
            mnet_big_free(w[j], pf * sizeof(float));
    free(w);
    free(a);
    free(c);
    free(b);
    free(bias);
}

/* ---- lines another core wrote ------------------------------------------------------------ */

typedef struct {
    float *buf;
    size_t floats;
    atomic_int turn;   /* 1: the writer's turn, 0: the reader's, -1: stop */
} xcore_job;

static void *xcore_writer(void *arg)
{
    xcore_job *x = arg;
    for (float v = 1.0f;; v += 1.0f) {
        int t;
        while ((t = atomic_load_explicit(&x->turn, memory_order_acquire)) == 0)
            ;
        if (t < 0)
            return NULL;
        for (size_t i = 0; i < x->floats; i++)
            x->buf[i] = v;
        atomic_store_explicit(&x->turn, 0, memory_order_release);
    }
}

/* This thread pinned to the CPU it runs on, the writer to another one it may use. */
static int xcore_cpus(cpu_set_t *mine, cpu_set_t *other)
{
    cpu_set_t all;
    const int here = sched_getcpu();
    if (here < 0 || sched_getaffinity(0, sizeof all, &all) != 0)
        return 0;
    CPU_ZERO(mine);
    CPU_ZERO(other);
    CPU_SET(here, mine);
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (c != here && CPU_ISSET(c, &all)) {
            CPU_SET(c, other);
            return 1;
        }
    return 0;
}

/* This thread pinned to its CPU (its affinity saved in *before) and fn(arg) started on another
 * one; 0, with the benchmark skipped and nothing left pinned or running, if that cannot be. */
static int start_on_other_cpu(mnet_bench_state *st, void *(*fn)(void *), void *arg,
        pthread_t *helper, cpu_set_t *before)
{
    cpu_set_t mine, other;
    if (sched_getaffinity(0, sizeof *before, before) != 0 || !xcore_cpus(&mine, &other)) {
        skip(st, "needs two CPUs");
        return 0;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setaffinity_np(&attr, sizeof other, &other);
    const int ok = pthread_setaffinity_np(pthread_self(), sizeof mine, &mine) == 0 &&
        pthread_create(helper, &attr, fn, arg) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) {
        pthread_setaffinity_np(pthread_self(), sizeof *before, before);
        skip(st, "could not place the two threads");
    }
    return ok;
}

/* The other end of start_on_other_cpu, once fn has been told to return: joined, and this
 * thread's affinity given back. */
static void stop_on_other_cpu(pthread_t helper, const cpu_set_t *before)
{
    pthread_join(helper, NULL);
    pthread_setaffinity_np(pthread_self(), sizeof *before, before);
}

static void bench_xcore(mnet_bench_state *st, void *arg)
{
    const size_t bytes = (size_t)(uintptr_t)arg, floats = bytes / sizeof(float);
    cpu_set_t before;
    if (!tier_or_skip(st, MNET_ISA_AVX2))   /* read_write's loads */
        return;
    xcore_job x = { alloc_floats(floats), floats, 0 };
    pthread_t helper;
    if (!x.buf) {
        skip(st, "out of memory");
        return;
    }
    if (!start_on_other_cpu(st, xcore_writer, &x, &helper, &before)) {
        free(x.buf);
        return;
    }
    double cross = 0.0, local = 0.0;
    float v = 0.0f;
    while (mnet_bench_keep_running(st)) {
        atomic_store_explicit(&x.turn, 1, memory_order_release);   /* the other core writes */
        while (atomic_load_explicit(&x.turn, memory_order_acquire) != 0)
            ;
        double t0 = now_s();
        read_write(x.buf, floats, NULL, 0);
        cross += now_s() - t0;
        v += 1.0f;
        for (size_t i = 0; i < floats; i++)   /* this core writes */
            x.buf[i] = v;
        t0 = now_s();
        read_write(x.buf, floats, NULL, 0);
        local += now_s() - t0;
    }
    atomic_store_explicit(&x.turn, -1, memory_order_release);
    stop_on_other_cpu(helper, &before);
    const double n = (double)mnet_bench_iterations(st) * (double)bytes * 1e-9;
    mnet_bench_set_counter(st, "cross_GBps", cross > 0.0 ? n / cross : 0.0, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "local_GBps", local > 0.0 ? n / local : 0.0, MNET_BENCH_COUNTER_DEFAULT);
    free(x.buf);
}

/* A dw_case's tier, geometry and data (dw_case_make), and the whole layer run once. */
typedef struct { const mnet_kernels *k; mnet_conv_geom g; int o; dw_data d; } dw_layer;

static void dw_layer_run(const dw_layer *l)
{
    l->k->dwconv3x3.fn(&l->g, l->d.in, l->d.packed, l->d.out, 0, l->o, 0.0f, 6.0f,
            MNET_EPI_CLAMP);
}

/* xcore/dw: the depthwise kernel on an input another CPU wrote, then on the same input this
 * thread wrote, in turns (as bench_dwbound, so that the machine's drift falls on both alike),
 * the ratio taken within each turn; dw_case as there (xcore_writer fills the input with one
 * value: the timing does not depend on it). */
static void bench_xcore_dw(mnet_bench_state *st, void *arg)
{
    dw_layer l;
    if (!dw_case_make(st, arg, &l.k, &l.g, &l.o, &l.d))
        return;
    xcore_job x = { l.d.in, l.d.n_in, 0 };
    pthread_t helper;
    cpu_set_t before;
    if (!start_on_other_cpu(st, xcore_writer, &x, &helper, &before)) {
        dw_data_free(&l.d);
        return;
    }
    enum { TURNS = 31 };
    double t_cross[TURNS], t_local[TURNS], r[TURNS];
    float v = -1.0f;
    for (int t = -3; t < TURNS; t++) {
        atomic_store_explicit(&x.turn, 1, memory_order_release);   /* the other CPU writes */
        while (atomic_load_explicit(&x.turn, memory_order_acquire) != 0)
            ;
        const double t0 = now_s();
        dw_layer_run(&l);
        const double t1 = now_s();
        for (size_t i = 0; i < l.d.n_in; i++)   /* this CPU writes */
            l.d.in[i] = v;
        v -= 1.0f;
        const double t2 = now_s();
        dw_layer_run(&l);
        const double t3 = now_s();
        if (t < 0)
            continue;
        t_cross[t] = t1 - t0;
        t_local[t] = t3 - t2;
        r[t] = t_cross[t] / t_local[t];
    }
    atomic_store_explicit(&x.turn, -1, memory_order_release);
    stop_on_other_cpu(helper, &before);
    while (mnet_bench_keep_running(st))
        dw_layer_run(&l);
    const double cross = median_of(t_cross, TURNS), local = median_of(t_local, TURNS);
    mnet_bench_set_counter(st, "cross_us", cross * 1e6, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "local_us", local * 1e6, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "x_cross", median_of(r, TURNS), MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "cross_in_GBps", (double)l.d.n_in * sizeof(float) / cross * 1e-9,
            MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_label(st, ((const dw_case *)arg)->net);
    dw_data_free(&l.d);
}

/* xcore/pingpong: one line's round trip between this CPU and another: this thread writes a
 * number into a line the other spins on, which answers in a second line this one spins on
 * (one_way_ns, half a round trip).  Every hand-off between two threads, a layer's to its worker
 * and back (pool/handoff below), pays a few of these. */
typedef struct {
    _Alignas(64) atomic_long ping;   /* this thread's number, or -1: stop */
    _Alignas(64) atomic_long pong;   /* the other's answer */
} pingpong_job;

static void *pingpong_answer(void *arg)
{
    pingpong_job *j = arg;
    long seen = 0, v;
    while ((v = atomic_load_explicit(&j->ping, memory_order_acquire)) >= 0)
        if (v != seen)
            atomic_store_explicit(&j->pong, seen = v, memory_order_release);
    return NULL;
}

static void bench_pingpong(mnet_bench_state *st, void *arg)
{
    (void)arg;
    enum { TRIPS = 1000 };
    pingpong_job j;
    atomic_init(&j.ping, 0);
    atomic_init(&j.pong, 0);
    pthread_t helper;
    cpu_set_t before;
    if (!start_on_other_cpu(st, pingpong_answer, &j, &helper, &before))
        return;
    long n = 0;
    double total = 0.0;
    while (mnet_bench_keep_running(st)) {
        const double t0 = now_s();
        for (int i = 0; i < TRIPS; i++) {
            atomic_store_explicit(&j.ping, ++n, memory_order_release);
            while (atomic_load_explicit(&j.pong, memory_order_acquire) != n)
                ;
        }
        total += now_s() - t0;
    }
    atomic_store_explicit(&j.ping, -1, memory_order_release);
    stop_on_other_cpu(helper, &before);
    mnet_bench_set_counter(st, "one_way_ns", n > 0 ? total / (double)n / 2.0 * 1e9 : 0.0,
            MNET_BENCH_COUNTER_DEFAULT);
}

/* ---- the thread pool's hand-off ----------------------------------------------------------- */

/* A part that keeps its thread busy for the task's microseconds (a clock loop, not a sleep). */
static void handoff_part(void *arg, int part, int parts)
{
    (void)part;
    (void)parts;
    const double us = *(const double *)arg, t0 = now_s();
    while ((now_s() - t0) * 1e6 < us)
        ;
}

static void bench_pool_handoff(mnet_bench_state *st, void *arg)
{
    double us = (double)(uintptr_t)arg;
    cpu_set_t all;
    if (sched_getaffinity(0, sizeof all, &all) != 0 || CPU_COUNT(&all) < 2) {
        skip(st, "needs two CPUs");
        return;
    }
    mnet_pool *p = mnet_pool_create(2);
    if (!p) {
        skip(st, "could not start the pool");
        return;
    }
    for (int i = 0; i < 200; i++)   /* the worker placed and spinning */
        mnet_pool_run(p, handoff_part, &us);
    const long taken0 = mnet_pool_steals(p);
    double total = 0.0;
    while (mnet_bench_keep_running(st)) {
        const double t0 = now_s();
        mnet_pool_run(p, handoff_part, &us);
        total += now_s() - t0;
    }
    const double n = (double)mnet_bench_iterations(st);
    mnet_bench_set_counter(st, "overhead_us", n > 0 ? total / n * 1e6 - us : 0.0,
            MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "taken_over", n > 0 ? (double)(mnet_pool_steals(p) - taken0) / n :
            0.0, MNET_BENCH_COUNTER_DEFAULT);
    mnet_pool_free(p);
}

/* ---- the first use of a mapped page --------------------------------------------------- */

/* What a first inference pays for each page of code it meets (docs/PERFORMANCE.md, "What a first
 * inference still pays"): a read-only mapping of a file (this executable; the loader maps a
 * library's code the same way) is made present with MADV_POPULATE_READ, as mnet_prefault_code
 * does, then one byte of every page is read, twice, then once more after 64 MiB written elsewhere
 * have pushed those lines and their translations out of the caches and TLBs.  Per page:
 * populate_us (the madvise), first_us (the first read), again_us (the second), cold_us (the
 * third), and fault_us, the first read of a fresh mapping left to fault page by page.  Where the
 * CPU walks the guest's page tables itself, the first read after populate costs about what the
 * cold one does; under a hypervisor that keeps shadow page tables (PVM, on the development VMs)
 * it costs 20-85 times that, presumably the hypervisor filling its entry, which the guest sees as
 * neither a page fault nor a cache miss. */
static volatile unsigned g_touch_sink;

/* Seconds to read one byte of each of the pages at p (the library's own page-touch loop). */
static double read_pages(const unsigned char *p, size_t pages, size_t page)
{
    const double t0 = now_s();
    g_touch_sink = mnet_touch_pages((uintptr_t)p, (uintptr_t)p + pages * page, page);
    return now_s() - t0;
}

static void bench_pagetouch(mnet_bench_state *st, void *arg)
{
    (void)arg;
    const long pg = sysconf(_SC_PAGESIZE);
    const int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (pg <= 0 || fd < 0 || fstat(fd, &sb) != 0 || sb.st_size < 16 * (off_t)pg) {
        if (fd >= 0)
            close(fd);
        skip(st, "cannot map this executable");
        return;
    }
    const size_t page = (size_t)pg, pages = (size_t)sb.st_size / page, bytes = pages * page;
    unsigned char *evict = (unsigned char *)alloc_floats(EVICT_BYTES / sizeof(float));
    if (!evict) {
        close(fd);
        skip(st, "out of memory");
        return;
    }
    double populate = 0.0, first = 0.0, again = 0.0, cold = 0.0, fault = 0.0;
    int populated = 1;
    while (mnet_bench_keep_running(st)) {
        unsigned char *p = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
        unsigned char *q = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED || q == MAP_FAILED) {
            if (p != MAP_FAILED)
                munmap(p, bytes);
            if (q != MAP_FAILED)
                munmap(q, bytes);
            mnet_bench_skip_with_error(st, "mmap failed");
            break;
        }
        const double t0 = now_s();
        if (madvise(p, bytes, MNET_MADV_POPULATE_READ) != 0)
            populated = 0;   /* before Linux 5.14: the first read below faults */
        populate += now_s() - t0;
        first += read_pages(p, pages, page);
        again += read_pages(p, pages, page);
        evict_caches(evict);
        cold += read_pages(p, pages, page);
        fault += read_pages(q, pages, page);
        munmap(p, bytes);
        munmap(q, bytes);
    }
    close(fd);
    free(evict);
    const double n = (double)mnet_bench_iterations(st) * (double)pages;
    if (n > 0.0) {
        mnet_bench_set_counter(st, "populate_us", populate / n * 1e6, MNET_BENCH_COUNTER_DEFAULT);
        mnet_bench_set_counter(st, "first_us", first / n * 1e6, MNET_BENCH_COUNTER_DEFAULT);
        mnet_bench_set_counter(st, "again_us", again / n * 1e6, MNET_BENCH_COUNTER_DEFAULT);
        mnet_bench_set_counter(st, "cold_us", cold / n * 1e6, MNET_BENCH_COUNTER_DEFAULT);
        mnet_bench_set_counter(st, "fault_us", fault / n * 1e6, MNET_BENCH_COUNTER_DEFAULT);
    }
    mnet_bench_set_counter(st, "pages", (double)pages, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "populated", populated, MNET_BENCH_COUNTER_DEFAULT);
}

int main(int argc, char **argv)
{
    mnet_bench_register("peak/scalar", bench_peak, (void *)(intptr_t)MNET_ISA_SCALAR, NULL);
    mnet_bench_register("peak/fma_avx2", bench_peak, (void *)(intptr_t)MNET_ISA_AVX2, NULL);
    mnet_bench_register("peak/fma_avx512", bench_peak, (void *)(intptr_t)MNET_ISA_AVX512, NULL);
    static const peakst_case peaksts[] = {
        { MNET_ISA_AVX512, 1, peakst_avx512_1 },
        { MNET_ISA_AVX512, 2, peakst_avx512_2 },
        { MNET_ISA_AVX512, 4, peakst_avx512_4 },
        { MNET_ISA_AVX2, 1, peakst_avx2_1 },
        { MNET_ISA_AVX2, 2, peakst_avx2_2 },
        { MNET_ISA_AVX2, 4, peakst_avx2_4 },
    };
    for (size_t i = 0; i < sizeof peaksts / sizeof peaksts[0]; i++) {
        char pname[64];
        snprintf(pname, sizeof pname, "peak_store/fma_%s/%d", mnet_isa_name(peaksts[i].isa),
                peaksts[i].stores);
        mnet_bench_register(pname, bench_peak_store, (void *)&peaksts[i], NULL);
    }
    mnet_bench_register("peak_pair/fma_avx2", bench_peak_pair, (void *)(intptr_t)MNET_ISA_AVX2,
            NULL);
    mnet_bench_register("peak_pair/fma_avx512", bench_peak_pair,
            (void *)(intptr_t)MNET_ISA_AVX512, NULL);
    static const size_t xsizes[] = { 64 << 10, 256 << 10, 1 << 20 };
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "xcore/%zuKiB", xsizes[i] >> 10);
        mnet_bench_register(name, bench_xcore, (void *)(uintptr_t)xsizes[i], NULL);
    }
    mnet_bench_register("xcore/pingpong", bench_pingpong, NULL, NULL);

    mnet_bench_register("pagetouch", bench_pagetouch, NULL, NULL);

    static const size_t sizes[] = { 16 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 256 << 20 };
    static const char *const kinds[] = { "read", "write", "copy" };
    static bw_case bws[3 * 6];
    char name[128];
    for (int kd = 0; kd < 3; kd++)
        for (int s = 0; s < 6; s++) {
            bws[kd * 6 + s] = (bw_case){ kd, sizes[s] };
            snprintf(name, sizeof name, "bw/%s/%zuKiB", kinds[kd], sizes[s] >> 10);
            mnet_bench_register(name, bench_bw, &bws[kd * 6 + s], NULL);
        }
    static const unsigned handoff_us[] = { 2, 5, 10, 20 };
    for (size_t i = 0; i < sizeof handoff_us / sizeof handoff_us[0]; i++) {
        snprintf(name, sizeof name, "pool/handoff/%uus", handoff_us[i]);
        mnet_bench_register(name, bench_pool_handoff, (void *)(uintptr_t)handoff_us[i], NULL);
    }

    /* Every 3x3 depthwise layer of V1 and V2 1.0 at 224 (input size, channels, stride). */
    static const struct { const char *net; int hw, c, stride; } dws[] = {
        { "v1", 112, 32, 1 }, { "v1", 112, 64, 2 }, { "v1", 56, 128, 1 }, { "v1", 56, 128, 2 },
        { "v1", 28, 256, 1 }, { "v1", 28, 256, 2 }, { "v1", 14, 512, 1 }, { "v1", 14, 512, 2 },
        { "v1", 7, 1024, 1 }, { "v2", 112, 32, 1 }, { "v2", 112, 96, 2 }, { "v2", 56, 144, 1 },
        { "v2", 56, 144, 2 }, { "v2", 28, 192, 1 }, { "v2", 28, 192, 2 }, { "v2", 14, 384, 1 },
        { "v2", 14, 576, 1 }, { "v2", 14, 576, 2 }, { "v2", 7, 960, 1 },
    };
    enum { NDW = sizeof dws / sizeof dws[0] };
    static const mnet_isa isas[] = { MNET_ISA_AVX2, MNET_ISA_AVX512 };
    static dw_case dcs[2 * NDW];
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < NDW; i++) {
            dcs[t * NDW + i] = (dw_case){ dws[i].net, dws[i].hw, dws[i].c, dws[i].stride, isas[t] };
            snprintf(name, sizeof name, "dwbound/%s/%dx%dx%d/s%d", mnet_isa_name(isas[t]),
                    dws[i].hw, dws[i].hw, dws[i].c, dws[i].stride);
            mnet_bench_register(name, bench_dwbound, &dcs[t * NDW + i], NULL);
        }
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < NDW; i++) {
            snprintf(name, sizeof name, "dwalias/%s/%dx%dx%d/s%d", mnet_isa_name(isas[t]),
                    dws[i].hw, dws[i].hw, dws[i].c, dws[i].stride);
            mnet_bench_register(name, bench_dwalias, &dcs[t * NDW + i], NULL);
        }
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < NDW; i++) {
            if (dws[i].hw > 28)   /* the runtime fuses the larger ones into their groups */
                continue;
            snprintf(name, sizeof name, "xcore/dw/%s/%dx%dx%d/s%d", mnet_isa_name(isas[t]),
                    dws[i].hw, dws[i].hw, dws[i].c, dws[i].stride);
            mnet_bench_register(name, bench_xcore_dw, &dcs[t * NDW + i], NULL);
        }

    /* Depthwise with its data in L1 (input + output 20-42 KiB): the row widths of the
     * MobileNet layers (14, 28, 56, 112), 16 or 32 channels, both strides. */
    static const struct { int h, w, c, stride; } l1s[] = {
        { 8, 14, 32, 1 }, { 8, 28, 16, 1 }, { 4, 56, 16, 1 }, { 3, 112, 16, 1 },
        { 9, 28, 16, 2 }, { 9, 56, 16, 2 }, { 3, 112, 16, 2 },
    };
    enum { NL1 = sizeof l1s / sizeof l1s[0] };
    static dwl1_case l1c[2 * NL1];
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < NL1; i++) {
            l1c[t * NL1 + i] = (dwl1_case){ l1s[i].h, l1s[i].w, l1s[i].c, l1s[i].stride, isas[t] };
            snprintf(name, sizeof name, "dwl1/%s/%dx%dx%d/s%d", mnet_isa_name(isas[t]), l1s[i].h,
                    l1s[i].w, l1s[i].c, l1s[i].stride);
            mnet_bench_register(name, bench_dwl1, &l1c[t * NL1 + i], NULL);
        }

    /* The 1x1 layers with the most weights per row: V1's 14x14 and 7x7 at 224, its 5x5 at
     * 160, and the classifier (m, n, k). */
    static const struct { const char *what; int m, n, k; } gs[] = {
        { "v1 14x14 512->512", 196, 512, 512 }, { "v1 7x7 512->1024", 49, 1024, 512 },
        { "v1 7x7 1024->1024", 49, 1024, 1024 }, { "v1-160 5x5 1024->1024", 25, 1024, 1024 },
        { "v1 classifier", 1, 1000, 1024 },
    };
    enum { NGS = sizeof gs / sizeof gs[0] };
    static stream_case scs[2 * 2 * NGS];
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < NGS; i++)
            for (int cold = 0; cold < 2; cold++) {
                stream_case *sc = &scs[(t * NGS + i) * 2 + cold];
                *sc = (stream_case){ gs[i].what, gs[i].m, gs[i].n, gs[i].k, cold, isas[t] };
                snprintf(name, sizeof name, "gemmstream/%s/m=%d,n=%d,k=%d/%s",
                        mnet_isa_name(isas[t]), gs[i].m, gs[i].n, gs[i].k, cold ? "cold" : "hot");
                mnet_bench_register(name, bench_gemmstream, sc, NULL);
            }
    return mnet_bench_main(argc, argv);
}
