/* peak.h - the single-core floating-point peak of each kernel tier, measured here: 12
 * independent multiply-add chains per lane group, more than the FMA latency x pipes needs and
 * fewer than the registers, so the loop runs at the multiply-add throughput.
 *   scalar  the base ISA's 4-float vectors, which the compiler uses for the portable C;
 *   avx2    8 lanes, vfmadd;  avx512  16 lanes, vfmadd;  neon  4 lanes, fmla.
 * Shared by bench_machine (peak/...) and bench_kernels (pct_peak of each kernel's own tier). */
#ifndef MNET_BENCH_PEAK_H
#define MNET_BENCH_PEAK_H

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "mnet.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#define PEAK_STEPS 4096   /* rounds of the 12 chains per call */
#define PEAK_CHAINS 12

/* One tier's loop: PEAK_CHAINS chains of vectors `vec`, each step acc = madd(acc, m, c); the
 * first and last lanes of their sum are returned so that nothing is optimised away. */
#define PEAK_FN(attrs, name, vec, splat, madd, add)                             \
    attrs static float name(void)                                               \
    {                                                                           \
        vec a[PEAK_CHAINS];                                                     \
        const vec m = splat(0.999999f), c = splat(1e-7f);                       \
        for (int k = 0; k < PEAK_CHAINS; k++)                                   \
            a[k] = splat((float)k);                                             \
        for (int i = 0; i < PEAK_STEPS; i++)                                    \
            for (int k = 0; k < PEAK_CHAINS; k++)                               \
                a[k] = madd(a[k], m, c);                                        \
        for (int k = 1; k < PEAK_CHAINS; k++)                                   \
            a[0] = add(a[0], a[k]);                                             \
        float v[sizeof(vec) / sizeof(float)];                                   \
        memcpy(v, &a[0], sizeof v);                                             \
        return v[0] + v[sizeof v / sizeof v[0] - 1];                            \
    }

/* The scalar tier is plain C compiled for the base ISA, and the compiler vectorizes its loops
 * (the 4x4 GEMM tile, for one) with the base ISA's 4-float vectors: SSE2 mulps + addps on
 * x86-64, AdvSIMD on AArch64.  Its peak is theirs: a multiply and an add, as C writes them. */
typedef float peak_v4 __attribute__((vector_size(16)));
static inline peak_v4 peak_v4_splat(float f) { return (peak_v4){ f, f, f, f }; }
static inline peak_v4 peak_v4_madd(peak_v4 a, peak_v4 m, peak_v4 c) { return a * m + c; }
static inline peak_v4 peak_v4_add(peak_v4 a, peak_v4 b) { return a + b; }
PEAK_FN(, peak_scalar, peak_v4, peak_v4_splat, peak_v4_madd, peak_v4_add)

#if defined(__x86_64__)
PEAK_FN(__attribute__((target("avx512f"))), peak_avx512, __m512, _mm512_set1_ps,
        _mm512_fmadd_ps, _mm512_add_ps)
PEAK_FN(__attribute__((target("avx2,fma"))), peak_avx2, __m256, _mm256_set1_ps,
        _mm256_fmadd_ps, _mm256_add_ps)
#endif

#if defined(__aarch64__)
static inline float32x4_t peak_neon_madd(float32x4_t a, float32x4_t m, float32x4_t c)
{
    return vfmaq_f32(c, a, m);
}
PEAK_FN(, peak_neon, float32x4_t, vdupq_n_f32, peak_neon_madd, vaddq_f32)
#endif

/* The loop of a tier and its lanes per multiply-add; NULL when this build or CPU lacks it. */
static float (*peak_fn(mnet_isa isa, int *lanes))(void)
{
    if (!mnet_isa_available(isa))
        return NULL;
    switch (isa) {
    case MNET_ISA_SCALAR: *lanes = 4; return peak_scalar;
#if defined(__x86_64__)
    case MNET_ISA_AVX2: *lanes = 8; return peak_avx2;
    case MNET_ISA_AVX512: *lanes = 16; return peak_avx512;
#endif
#if defined(__aarch64__)
    case MNET_ISA_NEON: *lanes = 4; return peak_neon;
#endif
    default: return NULL;
    }
}

/* FLOPs (a multiply-add is 2) of one call of a tier's loop. */
static double peak_flops_per_call(int lanes)
{
    return 2.0 * PEAK_CHAINS * lanes * (double)PEAK_STEPS;
}

static volatile float peak_sink;

/* A quick measurement of a tier's peak in GFLOP/s: the best of 30 rounds of 8 calls (~2 ms in
 * all), 0 if the tier cannot run here.  The best, not the median: the peak is what the core
 * can do, and interruptions only ever slow a round down. */
static __attribute__((unused)) double peak_gflops(mnet_isa isa)
{
    int lanes = 0;
    float (*fn)(void) = peak_fn(isa, &lanes);
    if (!fn)
        return 0.0;
    double best = 0.0;
    for (int round = 0; round < 30; round++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < 8; i++)
            peak_sink = fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        const double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        const double g = s > 0.0 ? 8.0 * peak_flops_per_call(lanes) / s * 1e-9 : 0.0;
        best = g > best ? g : best;
    }
    return best;
}

#endif /* MNET_BENCH_PEAK_H */
