/* test_fpenv.c - the caller's floating-point environment is left as it was: rounding mode and
 * the control bits (x86-64: x87 control word and MXCSR's flush-to-zero, denormals-are-zero,
 * rounding and exception masks; AArch64: FPCR) are the same after every kind of mnet call, made
 * with a non-default environment in force.  (Exception *flags* are set by any arithmetic and are
 * not part of the contract.) */
#define _GNU_SOURCE
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mnet.h"

#if defined(__x86_64__)
#include <xmmintrin.h>
static unsigned long long control_state(void)
{
    unsigned short cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return ((unsigned long long)cw << 32) | (_mm_getcsr() & ~0x3Fu);   /* drop the flag bits */
}
#elif defined(__aarch64__)
static unsigned long long control_state(void)
{
    unsigned long long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return fpcr;
}
#else
static unsigned long long control_state(void)
{
    return (unsigned long long)fegetround();
}
#endif

static int g_pass, g_fail;

static void check(const char *what, unsigned long long before)
{
    const unsigned long long after = control_state();
    if (after == before && fegetround() == FE_TOWARDZERO) {
        g_pass++;
    } else {
        g_fail++;
        fprintf(stderr, "FAIL: %s changed the FP control state: %#llx -> %#llx, rounding %d\n",
                what, before, after, fegetround());
    }
}

int main(void)
{
    fesetround(FE_TOWARDZERO);   /* a caller with its own, non-default environment */
    const unsigned long long env = control_state();
    float a[64], b[64], o[64 * 64];
    for (int i = 0; i < 64; i++) {
        a[i] = (float)i * 0.37f - 5.0f;
        b[i] = 1e-39f * (float)(i + 1);   /* denormals too */
    }
    const mnet_conv_params p = { 1, 1, 1, 1, 1, 0.0f, 6.0f };
    for (int isa = MNET_ISA_AUTO; isa <= MNET_ISA_AVX512; isa++) {
        if (!mnet_isa_available((mnet_isa)isa))
            continue;
        mnet_gemm_f32((mnet_isa)isa, 8, 8, 8, a, b, NULL, -INFINITY, INFINITY, o);
        check("gemm", env);
        mnet_dwconv3x3_f32((mnet_isa)isa, 1, 2, 2, 4, a, b, NULL, &p, o);
        check("dwconv3x3", env);
        mnet_softmax_f32((mnet_isa)isa, 2, 32, a, o);
        check("softmax", env);
        mnet_add_f32((mnet_isa)isa, 64, a, b, -1.0f, 1.0f, o);
        check("add", env);
    }
    mnet_model *m = NULL;
    mnet_model_create_random(MNET_ARCH_V2, 0.35f, 32, 4, 3, &m);
    check("mnet_model_create_random", env);
    mnet_options opt;
    mnet_options_default(&opt);
    opt.num_threads = 2;
    mnet_context *c = NULL;
    mnet_context_create(m, &opt, &c);
    check("mnet_context_create", env);
    static float x[32 * 32 * 3], y[4];
    for (int i = 0; i < 32 * 32 * 3; i++)
        x[i] = (float)(i % 13) * 0.1f;
    const mnet_status s = mnet_context_run(c, 1, x, y);
    check("mnet_context_run", env);
    if (s != MNET_OK || !isfinite(y[0])) {
        g_fail++;
        fprintf(stderr, "FAIL: inference under round-toward-zero: %s\n", mnet_last_error());
    }
    mnet_context_free(c);
    mnet_model_free(m);
    check("free", env);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail != 0;
}
