/* test_upper_state.c - every x86 SIMD entry point returns with the upper halves of the vector
 * registers clean (vzeroupper), as the caller's SSE code needs.
 *
 * The library's own driver code (lib/) is compiled for baseline x86-64, so each kernel call goes
 * from SSE code to AVX code and back.  A kernel that returns with dirty upper halves makes the
 * SSE code that follows slow: on the Zen 3 development VM about 350 cycles per GEMM tile call, V2
 * 1.0 about 10% of its time, until the AVX2 GEMM entry stopped tail-calling its tiles
 * (docs/PERFORMANCE.md, "Session 21: an AVX2-only machine").  XGETBV with ECX = 1 (XINUSE)
 * reports whether the AVX state (bit 2, the upper 128 bits of ymm0-15) or the ZMM_Hi256 state
 * (bit 6) is in use; vzeroupper returns both to their initial state.  The test first checks that
 * this machine reports it at all (else it is skipped, exit 77), then makes every public kernel
 * call and an inference on each x86 tier the CPU runs and reads the bits after each. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnet.h"

#if defined(__x86_64__)
#include <cpuid.h>

static unsigned long long xinuse(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
    return ((unsigned long long)hi << 32) | lo;
}

#define DIRTY_BITS ((1ull << 2) | (1ull << 6))   /* YMM_Hi128, ZMM_Hi256 */

/* Whether XINUSE can be read and tells a dirty upper half from a clean one here. */
static int observable(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) || !(c & (1u << 28)))
        return 0;   /* no OSXSAVE or no AVX */
    if (__get_cpuid_max(0, NULL) < 0xd)
        return 0;
    __cpuid_count(0xd, 1, a, b, c, d);
    if (!(a & (1u << 2)))
        return 0;   /* no XGETBV with ECX = 1 */
    __asm__ volatile("vpcmpeqd %%ymm7, %%ymm7, %%ymm7" ::: "xmm7");
    const int dirty = (xinuse() & DIRTY_BITS) != 0;
    __asm__ volatile("vzeroupper" ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
            "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    const int clean = (xinuse() & DIRTY_BITS) == 0;
    return dirty && clean;
}

static int g_pass, g_fail;

/* The state a call left, read before anything else runs (a libc call may clear it), then the
 * call's name formatted for a message. */
static void check(const char *isa, mnet_status s, const char *fmt, ...)
{
    const unsigned long long u = xinuse();
    char what[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (s != MNET_OK) {
        g_fail++;
        fprintf(stderr, "FAIL: %s %s: %s (%s)\n", isa, what, mnet_status_string(s),
                mnet_last_error());
    } else if (u & DIRTY_BITS) {
        g_fail++;
        fprintf(stderr, "FAIL: %s %s returned with dirty upper halves (XINUSE %#llx)\n", isa,
                what, u);
    } else {
        g_pass++;
    }
}

int main(void)
{
    if (!observable()) {
        printf("XINUSE does not report the upper halves' state on this CPU: skipped\n");
        return 77;
    }
    enum { N = 128 * 64 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    float *w = malloc(N * sizeof(float)), *o = malloc(4 * N * sizeof(float));
    if (!x || !y || !w || !o)
        return 1;
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i % 17) * 0.25f - 2.0f;
        y[i] = (float)(i % 5) * 0.5f - 1.0f;
        w[i] = (float)(i % 11) * 0.05f - 0.25f;
    }
    const mnet_conv_params p1 = { 1, 1, 1, 1, 1, 0.0f, 6.0f }, p2 = { 2, 1, 1, 1, 1, 0.0f, 6.0f };
    const mnet_conv_params q1 = { 1, 2, 2, 2, 2, -INFINITY, INFINITY };
    const mnet_conv_params q2 = { 2, 2, 2, 2, 2, -INFINITY, INFINITY };
    const mnet_isa tiers[] = { MNET_ISA_AVX2, MNET_ISA_AVX512 };
    int tested = 0;
    for (size_t t = 0; t < sizeof tiers / sizeof tiers[0]; t++) {
        const mnet_isa isa = tiers[t];
        if (!mnet_isa_available(isa))
            continue;
        const char *name = mnet_isa_name(isa);
        tested++;
        /* Every row count a tile has (1 .. 8, and more than one tile), and column counts that
         * end in a full panel, a half panel and AVX-512's 24-column tail. */
        static const int ms[] = { 1, 2, 3, 4, 5, 6, 7, 8, 13 }, ns[] = { 8, 16, 24, 40, 56 };
        for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
            for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
                check(name, mnet_gemm_f32(isa, ms[i], ns[j], 9, x, w, y, 0.0f, 6.0f, o),
                        "gemm m=%d n=%d", ms[i], ns[j]);
                check(name, mnet_gemm_act_f32(isa, ms[i], ns[j], 9, x, w, y,
                        MNET_ACTIVATION_HSWISH, -INFINITY, INFINITY, o),
                        "gemm h-swish m=%d n=%d", ms[i], ns[j]);
            }
        static const int cs[] = { 3, 8, 16, 24, 40 };
        for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
            const int c = cs[i];
            check(name, mnet_dwconv3x3_f32(isa, 1, 9, 11, c, x, w, y, &p1, o),
                    "dwconv3x3 c=%d stride 1", c);
            check(name, mnet_dwconv3x3_act_f32(isa, 1, 9, 11, c, x, w, y, &p2,
                    MNET_ACTIVATION_HSWISH, o), "dwconv3x3 c=%d stride 2", c);
            check(name, mnet_dwconv5x5_f32(isa, 1, 9, 11, c, x, w, y, &q1, o),
                    "dwconv5x5 c=%d stride 1", c);
            check(name, mnet_dwconv5x5_act_f32(isa, 1, 9, 11, c, x, w, y, &q2,
                    MNET_ACTIVATION_HSIGMOID, o), "dwconv5x5 c=%d stride 2", c);
            check(name, mnet_conv3x3_f32(isa, 1, 16, 16, 3, c, x, w, y, &p2, o),
                    "conv3x3 3 -> %d stride 2", c);
            check(name, mnet_conv3x3_act_f32(isa, 1, 7, 9, c, 16, x, w, y, &p1,
                    MNET_ACTIVATION_HSWISH, o), "conv3x3 %d -> 16 stride 1", c);
            check(name, mnet_bn_relu6_f32(isa, 13, c, x, w, y, o), "bn_relu6 c=%d", c);
            check(name, mnet_global_avgpool_f32(isa, 2, 5, 7, c, x, o), "global_avgpool c=%d", c);
            check(name, mnet_channel_scale_f32(isa, 2, 13, c, x, w, o), "channel_scale c=%d", c);
            check(name, mnet_softmax_f32(isa, 3, c, x, o), "softmax c=%d", c);
            check(name, mnet_add_f32(isa, (size_t)(7 * c), x, y, -1.0f, 1.0f, o),
                    "add count=%d", 7 * c);
            check(name, mnet_hardswish_f32(isa, (size_t)(7 * c), x, o),
                    "hardswish count=%d", 7 * c);
            check(name, mnet_hardsigmoid_f32(isa, (size_t)(7 * c), x, o),
                    "hardsigmoid count=%d", 7 * c);
        }
        /* An inference: its last kernel decides the state the caller gets back. */
        static const mnet_arch archs[] = { MNET_ARCH_V1, MNET_ARCH_V2, MNET_ARCH_V3_SMALL };
        for (size_t a = 0; a < sizeof archs / sizeof archs[0]; a++) {
            mnet_model *m = NULL;
            mnet_context *ctx = NULL;
            mnet_options opt;
            mnet_options_default(&opt);
            opt.isa = isa;
            float logits[10];
            mnet_status s = mnet_model_create_random(archs[a], 0.35f, 32, 10, 7, &m);
            if (s == MNET_OK)
                s = mnet_context_create(m, &opt, &ctx);
            if (s == MNET_OK)
                s = mnet_context_run(ctx, 1, x, logits);
            check(name, s, "inference (arch %d)", (int)archs[a]);
            mnet_context_free(ctx);
            mnet_model_free(m);
        }
    }
    free(x);
    free(y);
    free(w);
    free(o);
    if (!tested) {
        printf("no AVX tier on this CPU: skipped\n");
        return 77;
    }
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail != 0;
}
#else
int main(void)
{
    printf("not x86-64: skipped\n");
    return 77;
}
#endif
