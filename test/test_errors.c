/* test_errors.c - every public call's error paths: the status, the message, and nothing written. */
#define _GNU_SOURCE
#include <check.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mnet.h"
#include "ref.h"

/* All buffers the calls see live in one arena.  Before each call it is copied; after an error
 * it must be byte-identical ("on any error nothing the caller owns is written"), and after a
 * success it must differ (so the comparison can fail at all). */
#define ARENA_FLOATS 8192
static float g_arena[ARENA_FLOATS], g_snap[ARENA_FLOATS];
static float *const IN = g_arena;            /* inputs, up to 1024 floats */
static float *const WT = g_arena + 1024;     /* weights / second operand, up to 1024 */
static float *const BIAS = g_arena + 2048;   /* bias / scale, up to 256 */
static float *const AUX = g_arena + 2304;    /* shift / mean / var ..., up to 768 */
static float *const OUT = g_arena + 4096;    /* outputs, up to 1024 */

/* Valid calls, each error case changes exactly one thing. */
static mnet_conv_params g_p;

static void setup(void)
{
    uint32_t x = 0x12345678u;
    for (int i = 0; i < ARENA_FLOATS; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        g_arena[i] = (float)(x % 2001) / 1000.0f - 1.0f;   /* [-1, 1] */
    }
    for (int i = 0; i < 64; i++)   /* variances for bn_fold: positive */
        AUX[128 + i] = 0.5f + (float)i / 64.0f;
    mnet_conv_params p = { 1, 1, 1, 1, 1, -INFINITY, INFINITY };
    g_p = p;
}

static void expect_status(int line, const char *expr, mnet_status got, mnet_status want,
        const char *fn)
{
    ck_assert_msg(got == want, "line %d: %s returned %d (%s), expected %d (%s); last error '%s'",
            line, expr, (int)got, mnet_status_string(got), (int)want, mnet_status_string(want),
            mnet_last_error());
    if (want == MNET_OK) {
        ck_assert_msg(memcmp(g_arena, g_snap, sizeof g_arena) != 0,
                "line %d: %s succeeded but wrote nothing", line, expr);
        return;
    }
    ck_assert_msg(memcmp(g_arena, g_snap, sizeof g_arena) == 0,
            "line %d: %s failed with %s but wrote caller memory", line, expr,
            mnet_status_string(got));
    const char *e = mnet_last_error();
    ck_assert_msg(e != NULL && e[0] != '\0', "line %d: %s: mnet_last_error() is empty", line, expr);
    ck_assert_msg(strstr(e, fn) != NULL, "line %d: %s: mnet_last_error() '%s' does not name %s",
            line, expr, e, fn);
}

#define EXPECT(want, fn, call) \
    do { \
        memcpy(g_snap, g_arena, sizeof g_arena); \
        expect_status(__LINE__, #call, (call), (want), (fn)); \
    } while (0)
#define ARG MNET_ERR_ARG

/* Sizes: zero, negative, and the most negative. */
static const int BAD_SIZES[] = { 0, -1, INT_MIN };
#define NBAD ((int)(sizeof BAD_SIZES / sizeof BAD_SIZES[0]))
/* mnet_isa values outside the enum */
static const int BAD_ISAS[] = { -1, 5, 7, INT_MAX, INT_MIN };
#define NBADISA ((int)(sizeof BAD_ISAS / sizeof BAD_ISAS[0]))

/* Activations outside mnet_activation */
static const int BAD_ACTS[] = { -1, 3, 4, INT_MAX, INT_MIN };
#define NBADACT ((int)(sizeof BAD_ACTS / sizeof BAD_ACTS[0]))

/* Calls with a plain and an _act entry point run the same checks on both: a call_mode says
 * which one the CALL macro reaches, and with which activation.  The plain one by default
 * (each test runs in its own process). */
typedef struct call_mode {
    int plain, act;   /* act: MNET_ACTIVATION_* (or a bad value) for the _act call */
    const char *fn;   /* the name errors must mention */
} call_mode;

static void use_act_call(call_mode *m, const char *fn, int act)
{
    m->plain = 0;
    m->act = act;
    m->fn = fn;
}

/* ---- depthwise 3x3 and 5x5: n=2 h=5 w=4 c=3, padding ks/2 all round: out 2x5x4x3 ------------- */
static call_mode g_dw = { 1, 0, "mnet_dwconv3x3_f32" };
static int g_dw_ks = 3;
#define DW g_dw.fn

static mnet_status dw_call(mnet_isa isa, int n, int h, int w, int c, const float *in,
        const float *wt, const float *bias, const mnet_conv_params *p, float *out)
{
    const mnet_activation act = (mnet_activation)g_dw.act;
    if (g_dw_ks == 5)
        return g_dw.plain ? mnet_dwconv5x5_f32(isa, n, h, w, c, in, wt, bias, p, out)
                          : mnet_dwconv5x5_act_f32(isa, n, h, w, c, in, wt, bias, p, act, out);
    return g_dw.plain ? mnet_dwconv3x3_f32(isa, n, h, w, c, in, wt, bias, p, out)
                      : mnet_dwconv3x3_act_f32(isa, n, h, w, c, in, wt, bias, p, act, out);
}
#define DWCALL dw_call


static void dwconv_errors(void)
{
    const int ks = g_dw_ks, max_pad = ks / 2;
    mnet_conv_params p0 = g_p;   /* valid: padding ks / 2 all round */
    p0.pad_top = p0.pad_left = p0.pad_bottom = p0.pad_right = max_pad;
    EXPECT(MNET_OK, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p0, OUT));
    EXPECT(MNET_OK, DW, DWCALL(MNET_ISA_SCALAR, 2, 5, 4, 3, IN, WT, NULL, &p0, OUT));
    for (int i = 0; i < NBADISA; i++)
        EXPECT(ARG, DW, DWCALL((mnet_isa)BAD_ISAS[i], 2, 5, 4, 3, IN, WT, BIAS, &p0, OUT));
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, NULL, WT, BIAS, &p0, OUT));
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, NULL, BIAS, &p0, OUT));
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, NULL, OUT));
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p0, NULL));
    for (int i = 0; i < NBAD; i++) {
        const int b = BAD_SIZES[i];
        EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, b, 5, 4, 3, IN, WT, BIAS, &p0, OUT));
        EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, b, 4, 3, IN, WT, BIAS, &p0, OUT));
        EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, b, 3, IN, WT, BIAS, &p0, OUT));
        EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, b, IN, WT, BIAS, &p0, OUT));
    }
    /* byte counts past PTRDIFF_MAX: with and without wrapping around SIZE_MAX */
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, INT_MAX, INT_MAX, INT_MAX, INT_MAX, IN, WT, BIAS, &p0, OUT));
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, INT_MAX, INT_MAX, 1, 1, IN, WT, BIAS, &p0, OUT));
    /* the weights alone past PTRDIFF_MAX: ks * ks * c * 4 bytes */
    if (sizeof(size_t) == 4)
        EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 1, 1, 1, INT_MAX, IN, WT, BIAS, &p0, OUT));

    mnet_conv_params p;
    const int strides[] = { 0, 3, -1, INT_MAX };
    for (int i = 0; i < 4; i++) {
        p = p0;
        p.stride = strides[i];
        EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p, OUT));
    }
    /* one past the largest pad (2 for 3x3, 3 for 5x5), negative, huge */
    const int pads[] = { -1, max_pad + 1, INT_MAX, INT_MIN };
    for (int which = 0; which < 4; which++)
        for (int i = 0; i < 4; i++) {
            p = p0;
            int *field[4] = { &p.pad_top, &p.pad_left, &p.pad_bottom, &p.pad_right };
            *field[which] = pads[i];
            EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p, OUT));
        }
    /* padded size below ks: h = 1 needs both full pads; w = ks - 1 at least one pad */
    p = p0;
    p.pad_bottom = max_pad - 1;
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 1, 4, 3, IN, WT, BIAS, &p, OUT));
    p = p0;
    p.pad_left = p.pad_right = 0;
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, ks - 1, 3, IN, WT, BIAS, &p, OUT));
    EXPECT(MNET_OK, DW, DWCALL(MNET_ISA_AUTO, 2, 5, ks, 3, IN, WT, BIAS, &p, OUT));
    EXPECT(MNET_OK, DW, DWCALL(MNET_ISA_AUTO, 2, 1, 1, 3, IN, WT, BIAS, &p0, OUT));
    /* clamps */
    const float clamps[][2] = { { 1.0f, 0.0f }, { NAN, 1.0f }, { 0.0f, NAN }, { NAN, NAN },
                                { INFINITY, -INFINITY } };
    for (int i = 0; i < 5; i++) {
        p = p0;
        p.out_min = clamps[i][0];
        p.out_max = clamps[i][1];
        EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p, OUT));
    }
    p = p0;   /* an empty-width clamp is valid: every output is that value */
    p.out_min = p.out_max = 0.25f;
    EXPECT(MNET_OK, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p, OUT));
    for (int i = 0; i < 2 * 5 * 4 * 3; i++)
        ck_assert_msg(OUT[i] == 0.25f, "out[%d] = %g with clamp [0.25, 0.25]", i, (double)OUT[i]);
    /* out overlapping an input: entirely, partly, the weights, the bias */
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p0, IN));
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p0, IN + 119));
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN + 8, WT, BIAS, &p0, IN));
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p0, WT - 100));
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p0, BIAS + 2));
    EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p0, WT + ks * ks * 3 - 1));
    if (g_dw.plain)
        return;
    /* the _act call: every activation is valid, anything else is not */
    for (int a = MNET_ACTIVATION_NONE; a <= MNET_ACTIVATION_HSIGMOID; a++) {
        g_dw.act = a;
        EXPECT(MNET_OK, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p0, OUT));
    }
    for (int i = 0; i < NBADACT; i++) {
        g_dw.act = BAD_ACTS[i];
        EXPECT(ARG, DW, DWCALL(MNET_ISA_AUTO, 2, 5, 4, 3, IN, WT, BIAS, &p0, OUT));
        ck_assert_msg(strstr(mnet_last_error(), "act") != NULL, "act %d: last error '%s'",
                BAD_ACTS[i], mnet_last_error());
    }
}

START_TEST(test_dwconv_errors)
{
    dwconv_errors();   /* mnet_dwconv3x3_f32 */
    use_act_call(&g_dw, "mnet_dwconv3x3_act_f32", MNET_ACTIVATION_HSWISH);
    dwconv_errors();
}
END_TEST

START_TEST(test_dwconv5x5_errors)
{
    g_dw_ks = 5;
    g_dw.fn = "mnet_dwconv5x5_f32";
    dwconv_errors();
    use_act_call(&g_dw, "mnet_dwconv5x5_act_f32", MNET_ACTIVATION_HSIGMOID);
    dwconv_errors();
}
END_TEST

/* ---- full 3x3: n=1 h=5 w=4 cin=3 cout=5: out 1x5x4x5 ----------------------------------------- */
static call_mode g_cv = { 1, 0, "mnet_conv3x3_f32" };
#define CV g_cv.fn

static mnet_status cv_call(mnet_isa isa, int n, int h, int w, int cin, int cout, const float *in,
        const float *wt, const float *bias, const mnet_conv_params *p, float *out)
{
    return g_cv.plain ? mnet_conv3x3_f32(isa, n, h, w, cin, cout, in, wt, bias, p, out)
                      : mnet_conv3x3_act_f32(isa, n, h, w, cin, cout, in, wt, bias, p,
                                (mnet_activation)g_cv.act, out);
}
#define CVCALL cv_call

static void conv_errors(void)
{
    EXPECT(MNET_OK, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &g_p, OUT));
    EXPECT(MNET_OK, CV, CVCALL(MNET_ISA_SCALAR, 1, 5, 4, 3, 5, IN, WT, NULL, &g_p, OUT));
    for (int i = 0; i < NBADISA; i++)
        EXPECT(ARG, CV, CVCALL((mnet_isa)BAD_ISAS[i], 1, 5, 4, 3, 5, IN, WT, BIAS, &g_p, OUT));
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, NULL, WT, BIAS, &g_p, OUT));
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, NULL, BIAS, &g_p, OUT));
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, NULL, OUT));
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &g_p, NULL));
    for (int i = 0; i < NBAD; i++) {
        const int b = BAD_SIZES[i];
        EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, b, 5, 4, 3, 5, IN, WT, BIAS, &g_p, OUT));
        EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, b, 4, 3, 5, IN, WT, BIAS, &g_p, OUT));
        EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, b, 3, 5, IN, WT, BIAS, &g_p, OUT));
        EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, b, 5, IN, WT, BIAS, &g_p, OUT));
        EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, b, IN, WT, BIAS, &g_p, OUT));
    }
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, INT_MAX, INT_MAX, INT_MAX, INT_MAX, INT_MAX, IN, WT, BIAS,
            &g_p, OUT));
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, INT_MAX, INT_MAX, IN, WT, BIAS, &g_p, OUT));
    mnet_conv_params p = g_p;
    p.stride = 0;
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &p, OUT));
    p.stride = 3;
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &p, OUT));
    for (int which = 0; which < 4; which++)
        for (int v = -1; v <= 2; v += 3) {
            p = g_p;
            int *field[4] = { &p.pad_top, &p.pad_left, &p.pad_bottom, &p.pad_right };
            *field[which] = v;
            EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &p, OUT));
        }
    p = g_p;
    p.pad_top = p.pad_bottom = 0;
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 2, 4, 3, 5, IN, WT, BIAS, &p, OUT));
    p = g_p;
    p.pad_right = 0;
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 1, 3, 5, IN, WT, BIAS, &p, OUT));
    p = g_p;
    p.out_min = 6.0f;
    p.out_max = 0.0f;
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &p, OUT));
    p.out_min = NAN;
    p.out_max = 6.0f;
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &p, OUT));
    p.out_min = 0.0f;
    p.out_max = NAN;
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &p, OUT));
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &g_p, IN + 10));
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &g_p, WT + 134));
    EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &g_p, BIAS - 99));
    if (g_cv.plain)
        return;
    for (int a = MNET_ACTIVATION_NONE; a <= MNET_ACTIVATION_HSIGMOID; a++) {
        g_cv.act = a;
        EXPECT(MNET_OK, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &g_p, OUT));
    }
    for (int i = 0; i < NBADACT; i++) {
        g_cv.act = BAD_ACTS[i];
        EXPECT(ARG, CV, CVCALL(MNET_ISA_AUTO, 1, 5, 4, 3, 5, IN, WT, BIAS, &g_p, OUT));
    }
}

START_TEST(test_conv_errors)
{
    conv_errors();   /* mnet_conv3x3_f32 */
    use_act_call(&g_cv, "mnet_conv3x3_act_f32", MNET_ACTIVATION_HSWISH);
    conv_errors();
}
END_TEST

/* ---- GEMM: m=3 n=5 k=7 ------------------------------------------------------------------------- */
static call_mode g_gm = { 1, 0, "mnet_gemm_f32" };
#define GM g_gm.fn

static mnet_status gm_call(mnet_isa isa, int m, int n, int k, const float *a, const float *b,
        const float *bias, float lo, float hi, float *out)
{
    return g_gm.plain ? mnet_gemm_f32(isa, m, n, k, a, b, bias, lo, hi, out)
                      : mnet_gemm_act_f32(isa, m, n, k, a, b, bias, (mnet_activation)g_gm.act,
                                lo, hi, out);
}
#define GMCALL gm_call

static void gemm_errors(void)
{
    const float lo = -INFINITY, hi = INFINITY;
    EXPECT(MNET_OK, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, lo, hi, OUT));
    EXPECT(MNET_OK, GM, GMCALL(MNET_ISA_SCALAR, 3, 5, 7, IN, WT, NULL, lo, hi, OUT));
    for (int i = 0; i < NBADISA; i++)
        EXPECT(ARG, GM, GMCALL((mnet_isa)BAD_ISAS[i], 3, 5, 7, IN, WT, BIAS, lo, hi, OUT));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, NULL, WT, BIAS, lo, hi, OUT));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, NULL, BIAS, lo, hi, OUT));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, lo, hi, NULL));
    for (int i = 0; i < NBAD; i++) {
        const int b = BAD_SIZES[i];
        EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, b, 5, 7, IN, WT, BIAS, lo, hi, OUT));
        EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, b, 7, IN, WT, BIAS, lo, hi, OUT));
        EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, b, IN, WT, BIAS, lo, hi, OUT));
    }
    /* (2^31-1)^2 * 4 bytes is past PTRDIFF_MAX but below SIZE_MAX: no wrap to hide it */
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, INT_MAX, INT_MAX, INT_MAX, IN, WT, BIAS, lo, hi, OUT));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, INT_MAX, 1, INT_MAX, IN, WT, BIAS, lo, hi, OUT));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 1, INT_MAX, INT_MAX, IN, WT, BIAS, lo, hi, OUT));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, INT_MAX, INT_MAX, 1, IN, WT, BIAS, lo, hi, OUT));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, 1.0f, -1.0f, OUT));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, NAN, hi, OUT));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, lo, NAN, OUT));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, lo, hi, IN));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, lo, hi, IN + 20));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, lo, hi, WT - 14));
    EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, lo, hi, BIAS + 4));
    if (g_gm.plain)
        return;
    for (int a = MNET_ACTIVATION_NONE; a <= MNET_ACTIVATION_HSIGMOID; a++) {
        g_gm.act = a;
        EXPECT(MNET_OK, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, 0.0f, 0.5f, OUT));
    }
    for (int i = 0; i < NBADACT; i++) {
        g_gm.act = BAD_ACTS[i];
        EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, lo, hi, OUT));
        /* a bad activation and a bad clamp: either is reported, nothing is written */
        EXPECT(ARG, GM, GMCALL(MNET_ISA_AUTO, 3, 5, 7, IN, WT, BIAS, NAN, hi, OUT));
    }
}

START_TEST(test_gemm_errors)
{
    gemm_errors();   /* mnet_gemm_f32 */
    use_act_call(&g_gm, "mnet_gemm_act_f32", MNET_ACTIVATION_HSWISH);
    gemm_errors();
}
END_TEST

/* ---- BN + ReLU6: pixels=4 c=3 ------------------------------------------------------------------- */
static const char BN[] = "mnet_bn_relu6_f32";

START_TEST(test_bn_relu6_errors)
{
    float *scale = BIAS, *shift = AUX;
    EXPECT(MNET_OK, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, 3, IN, scale, shift, OUT));
    EXPECT(MNET_OK, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, 3, IN, scale, shift, IN)); /* x == y */
    for (int i = 0; i < NBADISA; i++)
        EXPECT(ARG, BN, mnet_bn_relu6_f32((mnet_isa)BAD_ISAS[i], 4, 3, IN, scale, shift, OUT));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, 3, NULL, scale, shift, OUT));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, 3, IN, NULL, shift, OUT));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, 3, IN, scale, NULL, OUT));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, 3, IN, scale, shift, NULL));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 0, 3, IN, scale, shift, OUT));
    for (int i = 0; i < NBAD; i++)
        EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, BAD_SIZES[i], IN, scale, shift, OUT));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, SIZE_MAX, 3, IN, scale, shift, OUT));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, (size_t)PTRDIFF_MAX / 4 + 1, 1, IN, scale,
            shift, OUT));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, (size_t)INT_MAX * 4, INT_MAX, IN, scale, shift,
            OUT));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, 3, IN, scale, shift, IN + 1));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, 3, IN + 11, scale, shift, IN));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, 3, IN, scale, shift, scale - 5));
    EXPECT(ARG, BN, mnet_bn_relu6_f32(MNET_ISA_AUTO, 4, 3, IN, scale, shift, shift + 2));
}
END_TEST

/* ---- BN fold: c=4 ------------------------------------------------------------------------------ */
static const char BF[] = "mnet_bn_fold_f32";

START_TEST(test_bn_fold_errors)
{
    float *gamma = AUX, *beta = AUX + 64, *var = AUX + 128, *mean = AUX + 192;
    float *scale = OUT, *shift = OUT + 64;
    const float eps = 1e-3f;
    EXPECT(MNET_OK, BF, mnet_bn_fold_f32(4, gamma, beta, mean, var, eps, scale, shift));
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, NULL, beta, mean, var, eps, scale, shift));
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, NULL, mean, var, eps, scale, shift));
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, beta, NULL, var, eps, scale, shift));
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, beta, mean, NULL, eps, scale, shift));
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, beta, mean, var, eps, NULL, shift));
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, beta, mean, var, eps, scale, NULL));
    for (int i = 0; i < NBAD; i++)
        EXPECT(ARG, BF, mnet_bn_fold_f32(BAD_SIZES[i], gamma, beta, mean, var, eps, scale, shift));
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, beta, mean, var, NAN, scale, shift));
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, beta, mean, var, INFINITY, scale, shift));
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, beta, mean, var, -1e-3f, scale, shift));
    /* var + eps <= 0 or NaN, in the last channel: nothing may have been written before it */
    const float bad_var[][2] = { { -1.0f, 0.5f }, { 0.0f, 0.0f }, { -0.25f, 0.25f }, { NAN, eps },
                                 { -INFINITY, eps } };
    for (int i = 0; i < 5; i++) {
        const float saved = var[3];
        var[3] = bad_var[i][0];
        EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, beta, mean, var, bad_var[i][1], scale, shift));
        var[3] = saved;
    }
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, beta, mean, var, eps, scale, scale + 2));
    EXPECT(ARG, BF, mnet_bn_fold_f32(4, gamma, beta, mean, var, eps, scale, scale));
    /* var = 0 with eps > 0 is fine; scale may be gamma and shift beta */
    var[0] = 0.0f;
    double ref_scale[4], ref_shift[4];
    ref_bn_fold(4, gamma, beta, mean, var, eps, ref_scale, ref_shift);
    EXPECT(MNET_OK, BF, mnet_bn_fold_f32(4, gamma, beta, mean, var, eps, gamma, beta));
    for (int i = 0; i < 4; i++) {
        const double ts = 1e-6 + 4 * 2e-7 * fabs(ref_scale[i]);
        const double tb = 1e-6 + 4 * 2e-7 * (fabs(ref_scale[i] * mean[i]) + fabs(ref_shift[i]));
        ck_assert_msg(fabs(gamma[i] - ref_scale[i]) <= ts && fabs(beta[i] - ref_shift[i]) <= tb,
                "bn_fold in place, channel %d: got %g %g, reference %g %g", i, (double)gamma[i],
                (double)beta[i], ref_scale[i], ref_shift[i]);
    }
}
END_TEST

/* ---- global average pool: n=2 h=3 w=2 c=5 -------------------------------------------------------- */
static const char GP[] = "mnet_global_avgpool_f32";

START_TEST(test_gavgpool_errors)
{
    EXPECT(MNET_OK, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, 2, 3, 2, 5, IN, OUT));
    for (int i = 0; i < NBADISA; i++)
        EXPECT(ARG, GP, mnet_global_avgpool_f32((mnet_isa)BAD_ISAS[i], 2, 3, 2, 5, IN, OUT));
    EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, 2, 3, 2, 5, NULL, OUT));
    EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, 2, 3, 2, 5, IN, NULL));
    for (int i = 0; i < NBAD; i++) {
        const int b = BAD_SIZES[i];
        EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, b, 3, 2, 5, IN, OUT));
        EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, 2, b, 2, 5, IN, OUT));
        EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, 2, 3, b, 5, IN, OUT));
        EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, 2, 3, 2, b, IN, OUT));
    }
    EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, INT_MAX, INT_MAX, INT_MAX, INT_MAX, IN,
            OUT));
    EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, 1, INT_MAX, INT_MAX, 2, IN, OUT));
    EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, 2, 3, 2, 5, IN, IN));
    EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, 2, 3, 2, 5, IN, IN + 59));
    EXPECT(ARG, GP, mnet_global_avgpool_f32(MNET_ISA_AUTO, 2, 3, 2, 5, IN + 5, IN));
}
END_TEST

/* ---- add: count=10 ------------------------------------------------------------------------------- */
static const char AD[] = "mnet_add_f32";

START_TEST(test_add_errors)
{
    const float lo = -INFINITY, hi = INFINITY;
    EXPECT(MNET_OK, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, WT, lo, hi, OUT));
    EXPECT(MNET_OK, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, WT, lo, hi, IN));   /* out == a */
    EXPECT(MNET_OK, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, WT, lo, hi, WT));   /* out == b */
    for (int i = 0; i < NBADISA; i++)
        EXPECT(ARG, AD, mnet_add_f32((mnet_isa)BAD_ISAS[i], 10, IN, WT, lo, hi, OUT));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, 10, NULL, WT, lo, hi, OUT));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, NULL, lo, hi, OUT));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, WT, lo, hi, NULL));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, 0, IN, WT, lo, hi, OUT));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, SIZE_MAX, IN, WT, lo, hi, OUT));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, (size_t)PTRDIFF_MAX / 4 + 1, IN, WT, lo, hi, OUT));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, WT, 0.5f, -0.5f, OUT));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, WT, NAN, hi, OUT));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, WT, lo, NAN, OUT));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, WT, lo, hi, IN + 1));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, WT, lo, hi, WT - 9));
    EXPECT(ARG, AD, mnet_add_f32(MNET_ISA_AUTO, 10, IN, IN + 5, lo, hi, IN + 5 - 1));
}
END_TEST

/* ---- softmax: n=2 c=5 ---------------------------------------------------------------------------- */
static const char SM[] = "mnet_softmax_f32";

START_TEST(test_softmax_errors)
{
    EXPECT(MNET_OK, SM, mnet_softmax_f32(MNET_ISA_AUTO, 2, 5, IN, OUT));
    EXPECT(MNET_OK, SM, mnet_softmax_f32(MNET_ISA_AUTO, 2, 5, IN, IN));   /* in place */
    for (int i = 0; i < NBADISA; i++)
        EXPECT(ARG, SM, mnet_softmax_f32((mnet_isa)BAD_ISAS[i], 2, 5, IN, OUT));
    EXPECT(ARG, SM, mnet_softmax_f32(MNET_ISA_AUTO, 2, 5, NULL, OUT));
    EXPECT(ARG, SM, mnet_softmax_f32(MNET_ISA_AUTO, 2, 5, IN, NULL));
    for (int i = 0; i < NBAD; i++) {
        EXPECT(ARG, SM, mnet_softmax_f32(MNET_ISA_AUTO, BAD_SIZES[i], 5, IN, OUT));
        EXPECT(ARG, SM, mnet_softmax_f32(MNET_ISA_AUTO, 2, BAD_SIZES[i], IN, OUT));
    }
    EXPECT(ARG, SM, mnet_softmax_f32(MNET_ISA_AUTO, INT_MAX, INT_MAX, IN, OUT));
    EXPECT(ARG, SM, mnet_softmax_f32(MNET_ISA_AUTO, 2, 5, IN, IN + 1));
    EXPECT(ARG, SM, mnet_softmax_f32(MNET_ISA_AUTO, 2, 5, IN + 9, IN));
}
END_TEST

/* ---- h-swish, h-sigmoid: count=10 -------------------------------------------------------------- */
static const char HSW[] = "mnet_hardswish_f32", HSG[] = "mnet_hardsigmoid_f32";

static mnet_status hact_call(const char *fn, mnet_isa isa, size_t count, const float *x, float *y)
{
    return fn == HSW ? mnet_hardswish_f32(isa, count, x, y)
                     : mnet_hardsigmoid_f32(isa, count, x, y);
}

START_TEST(test_hact_errors)
{
    const char *const fns[2] = { HSW, HSG };
    for (int f = 0; f < 2; f++) {
        const char *fn = fns[f];
        EXPECT(MNET_OK, fn, hact_call(fn, MNET_ISA_AUTO, 10, IN, OUT));
        EXPECT(MNET_OK, fn, hact_call(fn, MNET_ISA_SCALAR, 10, IN, IN));   /* in place */
        for (int i = 0; i < NBADISA; i++)
            EXPECT(ARG, fn, hact_call(fn, (mnet_isa)BAD_ISAS[i], 10, IN, OUT));
        EXPECT(ARG, fn, hact_call(fn, MNET_ISA_AUTO, 10, NULL, OUT));
        EXPECT(ARG, fn, hact_call(fn, MNET_ISA_AUTO, 10, IN, NULL));
        EXPECT(ARG, fn, hact_call(fn, MNET_ISA_AUTO, 0, IN, OUT));
        EXPECT(ARG, fn, hact_call(fn, MNET_ISA_AUTO, SIZE_MAX, IN, OUT));
        EXPECT(ARG, fn, hact_call(fn, MNET_ISA_AUTO, (size_t)PTRDIFF_MAX / 4 + 1, IN, OUT));
        EXPECT(ARG, fn, hact_call(fn, MNET_ISA_AUTO, 10, IN, IN + 1));
        EXPECT(ARG, fn, hact_call(fn, MNET_ISA_AUTO, 10, IN + 9, IN));
    }
}
END_TEST

/* ---- channel scale: n=2 pixels=3 c=5 ------------------------------------------------------------ */
static const char CS[] = "mnet_channel_scale_f32";

START_TEST(test_channel_scale_errors)
{
    float *scale = BIAS;
    EXPECT(MNET_OK, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 3, 5, IN, scale, OUT));
    EXPECT(MNET_OK, CS, mnet_channel_scale_f32(MNET_ISA_SCALAR, 2, 3, 5, IN, scale, IN));
    for (int i = 0; i < NBADISA; i++)
        EXPECT(ARG, CS, mnet_channel_scale_f32((mnet_isa)BAD_ISAS[i], 2, 3, 5, IN, scale, OUT));
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 3, 5, NULL, scale, OUT));
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 3, 5, IN, NULL, OUT));
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 3, 5, IN, scale, NULL));
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 0, 5, IN, scale, OUT));
    for (int i = 0; i < NBAD; i++) {
        EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, BAD_SIZES[i], 3, 5, IN, scale, OUT));
        EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 3, BAD_SIZES[i], IN, scale, OUT));
    }
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 1, SIZE_MAX, 1, IN, scale, OUT));
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 1, (size_t)PTRDIFF_MAX / 4 + 1, 1, IN,
            scale, OUT));
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, INT_MAX, (size_t)INT_MAX * 4, INT_MAX,
            IN, scale, OUT));
    /* y: partly over x, over the scale (either end) */
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 3, 5, IN, scale, IN + 1));
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 3, 5, IN + 29, scale, IN));
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 3, 5, IN, scale, scale - 29));
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 3, 5, IN, scale, scale + 9));
    EXPECT(ARG, CS, mnet_channel_scale_f32(MNET_ISA_AUTO, 2, 3, 5, scale, scale, scale));
}
END_TEST

/* ---- unavailable tiers: MNET_ERR_UNSUPPORTED from every call that takes an ISA --------------- */
START_TEST(test_unsupported_isa)
{
    const float lo = -INFINITY, hi = INFINITY;
    int unavailable = 0;
    for (int t = MNET_ISA_SCALAR; t <= MNET_ISA_AVX512; t++) {
        const mnet_isa isa = (mnet_isa)t;
        const mnet_status want = mnet_isa_available(isa) ? MNET_OK : MNET_ERR_UNSUPPORTED;
        unavailable += want != MNET_OK;
        EXPECT(want, DW, DWCALL(isa, 2, 5, 4, 3, IN, WT, BIAS, &g_p, OUT));
        EXPECT(want, CV, CVCALL(isa, 1, 5, 4, 3, 5, IN, WT, BIAS, &g_p, OUT));
        EXPECT(want, GM, GMCALL(isa, 3, 5, 7, IN, WT, BIAS, lo, hi, OUT));
        EXPECT(want, BN, mnet_bn_relu6_f32(isa, 4, 3, IN, BIAS, AUX, OUT));
        EXPECT(want, GP, mnet_global_avgpool_f32(isa, 2, 3, 2, 5, IN, OUT));
        EXPECT(want, AD, mnet_add_f32(isa, 10, IN, WT, lo, hi, OUT));
        EXPECT(want, SM, mnet_softmax_f32(isa, 2, 5, IN, OUT));
        EXPECT(want, "mnet_dwconv5x5_f32", mnet_dwconv5x5_f32(isa, 2, 5, 4, 3, IN, WT, BIAS, &g_p,
                OUT));
        EXPECT(want, "mnet_dwconv5x5_act_f32", mnet_dwconv5x5_act_f32(isa, 2, 5, 4, 3, IN, WT,
                BIAS, &g_p, MNET_ACTIVATION_HSWISH, OUT));
        EXPECT(want, "mnet_dwconv3x3_act_f32", mnet_dwconv3x3_act_f32(isa, 2, 5, 4, 3, IN, WT,
                BIAS, &g_p, MNET_ACTIVATION_HSWISH, OUT));
        EXPECT(want, "mnet_conv3x3_act_f32", mnet_conv3x3_act_f32(isa, 1, 5, 4, 3, 5, IN, WT,
                BIAS, &g_p, MNET_ACTIVATION_HSIGMOID, OUT));
        EXPECT(want, "mnet_gemm_act_f32", mnet_gemm_act_f32(isa, 3, 5, 7, IN, WT, BIAS,
                MNET_ACTIVATION_HSWISH, lo, hi, OUT));
        EXPECT(want, HSW, mnet_hardswish_f32(isa, 10, IN, OUT));
        EXPECT(want, HSG, mnet_hardsigmoid_f32(isa, 10, IN, OUT));
        EXPECT(want, CS, mnet_channel_scale_f32(isa, 2, 3, 5, IN, BIAS, OUT));
        if (want != MNET_OK)
            ck_assert_msg(strstr(mnet_last_error(), mnet_isa_name(isa)) != NULL,
                    "last error '%s' does not name the tier", mnet_last_error());
    }
    /* AVX2 and NEON never coexist, so some tier is always missing */
    ck_assert_msg(unavailable >= 1, "every tier reports available");
    ck_assert_msg(mnet_isa_available(MNET_ISA_SCALAR) && mnet_isa_available(MNET_ISA_AUTO),
            "scalar and auto must always be available");
}
END_TEST

/* ---- allocation failure: MNET_ERR_NOMEM, nothing written --------------------------------------- */
/* The calls that pack weights allocate about as much as their weights.  Weights and inputs are
 * reserved but inaccessible (never read: the allocation comes first), then the address-space
 * limit is lowered below the packing buffer.  qemu-user does not apply RLIMIT_AS to the guest:
 * there a probe allocation succeeds and the case is reported, not run. */
/* Under AddressSanitizer a failed malloc aborts unless told to return NULL like libc does. */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
#endif

static void *reserve(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert_msg(p != MAP_FAILED, "cannot reserve %zu bytes of address space", bytes);
    return p;
}

static int limit_address_space(size_t probe_bytes)
{
    struct rlimit rl;
    ck_assert(getrlimit(RLIMIT_AS, &rl) == 0);
    /* what is mapped now (reservations included) plus 64 MiB: enough for Check, below the probe */
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    ck_assert(f && fscanf(f, "%lu", &pages) == 1);
    fclose(f);
    rl.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (64u << 20);
    ck_assert(setrlimit(RLIMIT_AS, &rl) == 0);
    void *probe = malloc(probe_bytes);
    if (probe) {
        free(probe);
        printf("RLIMIT_AS is not enforced here (qemu-user?): the MNET_ERR_NOMEM cases are not run\n");
        return 0;
    }
    return 1;
}

/* A caller-owned output buffer, filled with a pattern, and its copy. */
static float *pattern_buf(size_t count, float **copy)
{
    float *p = malloc(count * sizeof(float));
    *copy = malloc(count * sizeof(float));
    ck_assert(p && *copy);
    memset(p, 0x5a, count * sizeof(float));
    memcpy(*copy, p, count * sizeof(float));
    return p;
}

static void expect_nomem(int line, mnet_status st, const char *fn, const float *out,
        const float *copy, size_t count)
{
    ck_assert_msg(st == MNET_ERR_NOMEM, "line %d: %s returned %s (%s)", line, fn,
            mnet_status_string(st), mnet_last_error());
    ck_assert_msg(memcmp(out, copy, count * sizeof(float)) == 0, "line %d: %s wrote out", line, fn);
    ck_assert_msg(strstr(mnet_last_error(), fn) != NULL, "line %d: last error '%s'", line,
            mnet_last_error());
}

START_TEST(test_nomem)
{
    const mnet_conv_params valid = { 1, 0, 0, 0, 0, -INFINITY, INFINITY };
    float *copy[4];
    /* gemm m=2 n=8192 k=4096: packing needs 128 MiB */
    const int m = 2, n = 8192, k = 4096;
    float *gm_a = reserve((size_t)m * k * 4), *gm_b = reserve((size_t)k * n * 4);
    float *gm_out = pattern_buf((size_t)m * n, &copy[0]);
    /* depthwise 3x3 over 4M channels, no padding: packing needs 160 MiB */
    const int c = 4 << 20;
    float *dw_in = reserve((size_t)9 * c * 4), *dw_w = reserve((size_t)9 * c * 4);
    float *dw_out = pattern_buf((size_t)c, &copy[1]);
    /* full 3x3, cin = 1M, cout = 16: packing needs 576 MiB */
    const int cin = 1 << 20, cout = 16;
    float *cv_in = reserve((size_t)9 * cin * 4), *cv_w = reserve((size_t)9 * cin * cout * 4);
    float *cv_out = pattern_buf((size_t)cout, &copy[2]);
    /* depthwise 5x5 over the same 4M channels, no padding: packing needs 416 MiB */
    float *dw5_in = reserve((size_t)25 * c * 4), *dw5_w = reserve((size_t)25 * c * 4);
    float *dw5_out = pattern_buf((size_t)c, &copy[3]);
    if (limit_address_space((size_t)100 << 20)) {
        expect_nomem(__LINE__, GMCALL(MNET_ISA_AUTO, m, n, k, gm_a, gm_b, NULL, -1.0f, 1.0f,
                gm_out), GM, gm_out, copy[0], (size_t)m * n);
        expect_nomem(__LINE__, DWCALL(MNET_ISA_AUTO, 1, 3, 3, c, dw_in, dw_w, NULL, &valid,
                dw_out), DW, dw_out, copy[1], (size_t)c);
        expect_nomem(__LINE__, CVCALL(MNET_ISA_AUTO, 1, 3, 3, cin, cout, cv_in, cv_w, NULL,
                &valid, cv_out), CV, cv_out, copy[2], (size_t)cout);
        expect_nomem(__LINE__, mnet_dwconv5x5_act_f32(MNET_ISA_AUTO, 1, 5, 5, c, dw5_in, dw5_w,
                NULL, &valid, MNET_ACTIVATION_HSWISH, dw5_out), "mnet_dwconv5x5_act_f32",
                dw5_out, copy[3], (size_t)c);
    }
    free(gm_out);
    free(dw_out);
    free(cv_out);
    free(dw5_out);
    for (int i = 0; i < 4; i++)
        free(copy[i]);
    munmap(gm_a, (size_t)m * k * 4);
    munmap(gm_b, (size_t)k * n * 4);
    munmap(dw_in, (size_t)9 * c * 4);
    munmap(dw_w, (size_t)9 * c * 4);
    munmap(cv_in, (size_t)9 * cin * 4);
    munmap(cv_w, (size_t)9 * cin * cout * 4);
    munmap(dw5_in, (size_t)25 * c * 4);
    munmap(dw5_w, (size_t)25 * c * 4);
}
END_TEST

/* ---- strings, names, version, per-thread error ------------------------------------------------- */
START_TEST(test_status_strings)
{
    const mnet_status all[] = { MNET_OK, MNET_ERR_ARG, MNET_ERR_NOMEM, MNET_ERR_IO,
                                MNET_ERR_FORMAT, MNET_ERR_UNSUPPORTED };
    for (int i = 0; i < 6; i++) {
        const char *s = mnet_status_string(all[i]);
        ck_assert_msg(s != NULL && s[0] != '\0', "status %d has no string", (int)all[i]);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(s, mnet_status_string(all[j])) != 0, "statuses %d and %d share "
                    "the string '%s'", (int)all[i], (int)all[j], s);
    }
    const int unknown[] = { 6, 42, -1, INT_MAX };
    for (int i = 0; i < 4; i++) {
        const char *s = mnet_status_string((mnet_status)unknown[i]);
        ck_assert_msg(s != NULL && s[0] != '\0', "unknown status %d has no string", unknown[i]);
        for (int j = 0; j < 6; j++)
            ck_assert_msg(strcmp(s, mnet_status_string(all[j])) != 0,
                    "unknown status %d reads as '%s'", unknown[i], s);
    }
}
END_TEST

START_TEST(test_isa_names)
{
    ck_assert_str_eq(mnet_isa_name(MNET_ISA_AUTO), "auto");
    ck_assert_str_eq(mnet_isa_name(MNET_ISA_SCALAR), "scalar");
    ck_assert_str_eq(mnet_isa_name(MNET_ISA_AVX2), "avx2");
    ck_assert_str_eq(mnet_isa_name(MNET_ISA_NEON), "neon");
    ck_assert_str_eq(mnet_isa_name(MNET_ISA_AVX512), "avx512");
    for (int i = 0; i < NBADISA; i++) {
        ck_assert_str_eq(mnet_isa_name((mnet_isa)BAD_ISAS[i]), "unknown");
        ck_assert_msg(!mnet_isa_available((mnet_isa)BAD_ISAS[i]), "isa %d available", BAD_ISAS[i]);
    }
}
END_TEST

START_TEST(test_version)
{
    const char *v = mnet_version_string();
    ck_assert_ptr_nonnull(v);
    int major = -1, minor = -1, patch = -1, end = 0;
    ck_assert_msg(sscanf(v, "%d.%d.%d%n", &major, &minor, &patch, &end) == 3 && v[end] == '\0',
            "version '%s' is not %%d.%%d.%%d", v);
    ck_assert_int_eq(major, MNET_VERSION_MAJOR);
    ck_assert_int_eq(minor, MNET_VERSION_MINOR);
    ck_assert_int_eq(patch, MNET_VERSION_PATCH);
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", MNET_VERSION_MAJOR, MNET_VERSION_MINOR,
            MNET_VERSION_PATCH);
    ck_assert_str_eq(v, want);
    ck_assert_int_eq(MNET_API_VERSION, MNET_VERSION_MAJOR);   /* the soname is the major */
}
END_TEST

static void *other_thread(void *arg)
{
    (void)arg;
    static char seen_before[256], seen_after[256];
    snprintf(seen_before, sizeof seen_before, "%s", mnet_last_error());
    (void)mnet_softmax_f32(MNET_ISA_AUTO, 0, 5, IN, OUT);
    snprintf(seen_after, sizeof seen_after, "%s", mnet_last_error());
    static char *result[2] = { seen_before, seen_after };
    return result;
}

START_TEST(test_last_error_per_thread)
{
    ck_assert_int_eq(mnet_add_f32(MNET_ISA_AUTO, 0, IN, WT, 0.0f, 1.0f, OUT), MNET_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(mnet_last_error(), AD));
    pthread_t t;
    void *ret;
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(t, &ret), 0);
    char **seen = ret;
    ck_assert_msg(strstr(seen[0], AD) == NULL, "another thread sees this thread's error '%s'",
            seen[0]);
    ck_assert_ptr_nonnull(strstr(seen[1], SM));
    ck_assert_msg(strstr(mnet_last_error(), AD) != NULL,
            "this thread's error became '%s' after another thread failed", mnet_last_error());
}
END_TEST

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    Suite *s = suite_create("mnet errors");
    TCase *tc = tcase_create("errors");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_dwconv_errors);
    tcase_add_test(tc, test_dwconv5x5_errors);
    tcase_add_test(tc, test_conv_errors);
    tcase_add_test(tc, test_gemm_errors);
    tcase_add_test(tc, test_bn_relu6_errors);
    tcase_add_test(tc, test_bn_fold_errors);
    tcase_add_test(tc, test_gavgpool_errors);
    tcase_add_test(tc, test_add_errors);
    tcase_add_test(tc, test_softmax_errors);
    tcase_add_test(tc, test_hact_errors);
    tcase_add_test(tc, test_channel_scale_errors);
    tcase_add_test(tc, test_unsupported_isa);
    tcase_add_test(tc, test_nomem);
    tcase_add_test(tc, test_status_strings);
    tcase_add_test(tc, test_isa_names);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_last_error_per_thread);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_ENV);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
