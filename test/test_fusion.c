/* test_fusion.c - how lib/context.c schedules work must not change a single bit: the fused
 * groups (1x1 -> depthwise, depthwise -> 1x1, 1x1 -> depthwise -> 1x1) against the layers run
 * one by one (MNET_FUSE=0), and a batch (its large early layers image by image, the rest layer
 * by layer over the batch) against each image alone, and the depthwise prefetching its input
 * against not (MNET_DW_PREFETCH=0); on every ISA, with 1 and 2 threads, on V1, V2 and V3 at sizes where the planner
 * fuses (and bands split the rows unevenly); and with the threads confined to one CPU. */
#define _GNU_SOURCE   /* sched_getcpu, sched_setaffinity (one_cpu.h) */
#include <check.h>
#include <sched.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "check_run.h"
#include "test_env.h"
#include "one_cpu.h"

/* kinds: the fused groups the planner must form, as bits 1 << (2 * pre + post): a 1x1 (or
 * the stem) -> depthwise pair (4), a depthwise -> 1x1 pair (2), a whole 1x1 -> depthwise -> 1x1
 * block or stem -> depthwise -> 1x1 (8).  V1 forms only pairs of 4: each 1x1 goes with the
 * depthwise after it, not the one before (lib/context.c, plan_fusion). */
static const struct { mnet_arch arch; float alpha; int res; int kinds; } CASES[] = {
    { MNET_ARCH_V1, 0.5f, 183, 4 }, { MNET_ARCH_V2, 1.0f, 127, 4 | 8 },
    { MNET_ARCH_V2, 0.35f, 224, 4 | 8 }, { MNET_ARCH_V3_LARGE, 1.0f, 150, 2 | 4 | 8 },
    { MNET_ARCH_V3_SMALL, 1.0f, 192, 4 },
};
#define CLASSES 10
/* Slow (set in main): sanitized, emulated or scalar-only.  The batch tests then take fewer,
 * smaller cases; the profile, warm-up and uneven-split tests three of the five cases, the
 * uneven splits with fewer cuts and runs; the fused/unfused comparison the tiers below the best
 * on one case and one thread, and two threads the fused batch only; the prefetch choice only as
 * timed. */
static int g_slow;
#define BATCH 5   /* 5 images of these sizes: the early layers run image by image */

static mnet_context *context_profiled(const mnet_model *m, mnet_isa isa, int threads, int fuse,
        int profile)
{
    if (fuse == 1)
        unsetenv("MNET_FUSE");
    else
        setenv("MNET_FUSE", "0", 1);
    if (fuse == 2)   /* unfused, the depthwise prefetch fixed off */
        setenv("MNET_DW_PREFETCH", "0", 1);
    mnet_options o;
    mnet_options_default(&o);
    o.isa = isa;
    o.num_threads = threads;
    o.profile = profile;
    o.skip_warmup = 1;   /* what these tests compare runs without it; test_warmup tests it */
    mnet_context *ctx = NULL;
    ck_assert_msg(mnet_context_create(m, &o, &ctx) == MNET_OK, "%s", mnet_last_error());
    unsetenv("MNET_FUSE");
    unsetenv("MNET_DW_PREFETCH");
    return ctx;
}

static mnet_context *context(const mnet_model *m, mnet_isa isa, int threads, int fuse)
{
    return context_profiled(m, isa, threads, fuse, 0);
}

/* The random-weight model of CASES[i] (seeded), and its info when `info` is not NULL. */
static mnet_model *case_model(int i, uint64_t seed, mnet_model_info *info)
{
    mnet_model *m = NULL;
    ck_assert_int_eq(mnet_model_create_random(CASES[i].arch, CASES[i].alpha, CASES[i].res,
            CLASSES, seed, &m), MNET_OK);
    if (info)
        ck_assert_int_eq(mnet_model_get_info(m, info), MNET_OK);
    return m;
}

/* floats inputs of a smooth pattern with a high-frequency ripple; phase varies it. */
static float *pattern(size_t floats, float phase)
{
    float *x = malloc(floats * sizeof(float));
    ck_assert_ptr_nonnull(x);
    for (size_t j = 0; j < floats; j++)
        x[j] = cosf((float)j * 0.011f + phase) - 0.2f * sinf((float)j * 0.37f);
    return x;
}

/* The logits of each of n images of img floats, run alone on one thread. */
static void run_alone(const mnet_model *m, const float *x, int n, size_t img, int classes,
        float *logits)
{
    mnet_context *alone = context(m, MNET_ISA_AUTO, 1, 1);
    for (int b = 0; b < n; b++)
        ck_assert_int_eq(mnet_context_run(alone, 1, x + (size_t)b * img,
                logits + (size_t)b * classes), MNET_OK);
    mnet_context_free(alone);
}

/* Profiling changes no bit of the result, and reports the groups the planner formed: every
 * group's time on its first layer (> 0 once it ran), 0 on the others. */
START_TEST(test_profile)
{
    mnet_model_info info;
    mnet_model *m = case_model(_i, 3 + _i, &info);
    const size_t img = (size_t)CASES[_i].res * CASES[_i].res * 3;
    float *x = malloc(2 * img * sizeof(float));
    double *ms = malloc((size_t)info.layers * sizeof *ms);
    int *group = malloc((size_t)info.layers * sizeof *group);
    ck_assert(x && ms && group);
    for (size_t j = 0; j < 2 * img; j++)
        x[j] = cosf((float)j * 0.029f);
    for (int threads = 1; threads <= 2; threads++) {
        mnet_context *cp = context_profiled(m, MNET_ISA_AUTO, threads, 1, 1);
        mnet_context *c = context(m, MNET_ISA_AUTO, threads, 1);
        float yp[2 * CLASSES], y[2 * CLASSES];
        ck_assert_int_eq(mnet_context_run(cp, 2, x, yp), MNET_OK);
        ck_assert_int_eq(mnet_context_run(cp, 1, x, yp), MNET_OK);
        ck_assert_int_eq(mnet_context_run(c, 1, x, y), MNET_OK);
        ck_assert(memcmp(y, yp, CLASSES * sizeof(float)) == 0);
        ck_assert_int_eq(mnet_context_get_profile(cp, info.layers, ms, group), MNET_OK);
        int spans[4] = { 0 };   /* groups of 1, 2 and 3 layers */
        for (int i = 0; i < info.layers;) {
            int j = i + 1;
            while (j < info.layers && group[j] == i)
                j++;
            ck_assert_int_eq(group[i], i);
            ck_assert_msg(ms[i] > 0.0, "case %d: layer %d took %g ms", _i, i, ms[i]);
            for (int k = i + 1; k < j; k++)
                ck_assert(ms[k] == 0.0);
            ck_assert_int_le(j - i, 3);
            spans[j - i]++;
            i = j;
        }
        ck_assert_int_eq(spans[2], mnet_context_fused_groups(cp, 1, 0) +
                mnet_context_fused_groups(cp, 0, 1) + mnet_context_heads(cp));
        ck_assert_int_eq(spans[3], mnet_context_fused_groups(cp, 1, 1));
        ck_assert_int_gt(spans[2] + spans[3], 0);
        mnet_context_free(cp);
        mnet_context_free(c);
    }
    free(x);
    free(ms);
    free(group);
    mnet_model_free(m);
}
END_TEST

/* The warm-up inference mnet_context_create runs (options.skip_warmup 0) leaves nothing a
 * caller can see: the profile starts empty, the threads' split even, and the first run's
 * logits are the bits a context made without it computes; with skip_warmup 1 nothing runs. */
START_TEST(test_warmup)
{
    mnet_model_info info;
    mnet_model *m = case_model(_i, 11 + _i, &info);
    float *x = pattern((size_t)CASES[_i].res * CASES[_i].res * 3, 0.4f);
    double *ms = malloc((size_t)info.layers * sizeof *ms);
    ck_assert_ptr_nonnull(ms);
    for (int threads = 1; threads <= 2; threads++) {
        mnet_context *ctx[2];   /* warmed up, not */
        for (int skip = 0; skip <= 1; skip++) {
            mnet_options o;
            mnet_options_default(&o);
            ck_assert_int_eq(o.skip_warmup, 0);
            o.num_threads = threads;
            o.profile = 1;
            o.skip_warmup = skip;
            ck_assert_msg(mnet_context_create(m, &o, &ctx[skip]) == MNET_OK, "%s",
                    mnet_last_error());
            unsigned cut[3];
            double images = -1.0;
            ck_assert_int_eq(mnet_context_runs(ctx[skip], &images, cut), !skip);
            ck_assert(images == 0.0);
            for (int t = 0; t <= threads; t++)
                ck_assert_uint_eq(cut[t], 65536u * (unsigned)t / (unsigned)threads);
            ck_assert_int_eq(mnet_context_get_profile(ctx[skip], info.layers, ms, NULL), MNET_OK);
            for (int i = 0; i < info.layers; i++)
                ck_assert_msg(ms[i] == 0.0, "skip %d: layer %d %g ms before any run", skip, i,
                        ms[i]);
        }
        float y[2][CLASSES];
        for (int skip = 0; skip <= 1; skip++) {
            ck_assert_int_eq(mnet_context_run(ctx[skip], 1, x, y[skip]), MNET_OK);
            double images = -1.0;
            ck_assert_int_eq(mnet_context_runs(ctx[skip], &images, NULL), 2 - skip);
            ck_assert(images == 1.0);
            ck_assert_int_eq(mnet_context_get_profile(ctx[skip], info.layers, ms, NULL), MNET_OK);
            ck_assert(ms[0] > 0.0);
        }
        ck_assert(memcmp(y[0], y[1], sizeof y[0]) == 0);
        mnet_context_free(ctx[0]);
        mnet_context_free(ctx[1]);
    }
    free(x);
    free(ms);
    mnet_model_free(m);
}
END_TEST

/* The depthwise prefetch's choice (lib/context.c dw_prefetch): V1 0.5 at 183, unfused, has a
 * depthwise that may prefetch its input, timed both ways over the runs after the context's first
 * (here the warm-up) until each way has had 4, then fixed on one, every run's logits the same
 * bits; MNET_DW_PREFETCH=0 / 1 fixes it from the start; V2 at 127 has no such layer. */
START_TEST(test_dw_prefetch_choice)
{
    mnet_model *m = case_model(0, 21, NULL);
    float *x = pattern((size_t)CASES[0].res * CASES[0].res * 3, 0.6f);
    /* Slow, the choice made by timing only: how MNET_DW_PREFETCH fixes it is the same code on
     * every tier, and the native suite tests it. */
    for (int fixed = -1; fixed <= (g_slow ? -1 : 1); fixed++) {
        if (fixed >= 0)
            setenv("MNET_DW_PREFETCH", fixed ? "1" : "0", 1);
        setenv("MNET_FUSE", "0", 1);
        mnet_options o;
        mnet_options_default(&o);
        mnet_context *ctx = NULL;
        ck_assert_msg(mnet_context_create(m, &o, &ctx) == MNET_OK, "%s", mnet_last_error());
        unsetenv("MNET_DW_PREFETCH");
        unsetenv("MNET_FUSE");
        int layers = 0;
        ck_assert_int_eq(mnet_context_dw_prefetch(ctx, &layers), fixed);
        ck_assert_int_ge(layers, 1);
        float first[CLASSES], y[CLASSES];
        ck_assert_int_eq(mnet_context_run(ctx, 1, x, first), MNET_OK);
        for (int run = 2; run <= 8; run++) {
            /* 4 timed runs of each way after the warm-up: settled after the 8th */
            ck_assert_int_eq(mnet_context_dw_prefetch(ctx, &layers), fixed);
            ck_assert_int_eq(mnet_context_run(ctx, 1, x, y), MNET_OK);
            ck_assert_msg(memcmp(first, y, sizeof y) == 0, "fixed %d: run %d != the first",
                    fixed, run);
        }
        const int chosen = mnet_context_dw_prefetch(ctx, &layers);
        ck_assert_msg(fixed < 0 ? chosen == 0 || chosen == 1 : chosen == fixed,
                "fixed %d: %d after 8 runs", fixed, chosen);
        ck_assert_int_eq(mnet_context_run(ctx, 1, x, y), MNET_OK);
        ck_assert_int_eq(mnet_context_dw_prefetch(ctx, &layers), chosen);
        ck_assert(memcmp(first, y, sizeof y) == 0);
        mnet_context_free(ctx);
    }
    mnet_model *v2 = case_model(1, 21, NULL);
    mnet_context *c2 = context(v2, MNET_ISA_AUTO, 1, 1);
    int layers = -1;
    ck_assert_int_eq(mnet_context_dw_prefetch(c2, &layers), 0);
    ck_assert_int_eq(layers, 0);
    mnet_context_free(c2);
    mnet_model_free(v2);
    free(x);
    mnet_model_free(m);
}
END_TEST

/* A run on two threads gives one thread's bits: rows and GEMM columns are split, but each value
 * is computed the same way. */
static void expect_one_thread(const float *two, const float *one, int i, int isa)
{
    ck_assert_msg(memcmp(two, one, BATCH * CLASSES * sizeof(float)) == 0,
            "case %d isa %s: 2 threads != 1 thread", i, mnet_isa_name((mnet_isa)isa));
}

START_TEST(test_fused_equals_unfused)
{
    mnet_model *m = case_model(_i, 3 + _i, NULL);
    const size_t img = (size_t)CASES[_i].res * CASES[_i].res * 3;
    float *x = malloc(BATCH * img * sizeof(float));
    ck_assert_ptr_nonnull(x);
    for (size_t j = 0; j < BATCH * img; j++)
        x[j] = sinf((float)j * 0.013f) + 0.3f * cosf((float)j * 0.71f);
    int isas = 0;
    const int best = (int)mnet_isa_selected();   /* MNET_ISA is empty in the tests */
    for (int isa = MNET_ISA_SCALAR; isa <= MNET_ISA_AVX512; isa++) {
        if (!mnet_isa_available((mnet_isa)isa))
            continue;
        /* Slow (emulated or sanitized here), the tiers below the best run the first case only
         * (V1, all three kinds of group); the native suite runs every case on each. */
        if (g_slow && isa != best && _i != 0)
            continue;
        isas++;
        float one_thread[BATCH * CLASSES];
        /* Slow, a tier below the best runs on one thread only, and two threads run the fused
         * batch only, against one thread's (which equals the unfused run and each image
         * alone): 20 inferences a case instead of 30, and V1's 30 instead of 50. */
        for (int threads = 1; threads <= (g_slow && isa != best ? 1 : 2); threads++) {
            float fused[BATCH * CLASSES], plain[BATCH * CLASSES];
            mnet_context *cf = context(m, (mnet_isa)isa, threads, 1);
            if (g_slow && threads == 2) {
                ck_assert_int_eq(mnet_context_run(cf, BATCH, x, fused), MNET_OK);
                expect_one_thread(fused, one_thread, _i, isa);
                mnet_context_free(cf);
                continue;
            }
            mnet_context *cp = context(m, (mnet_isa)isa, threads, 0);
            for (int kind = 1; kind < 4; kind++) {
                const int pre = kind >> 1, post = kind & 1;
                const int n = mnet_context_fused_groups(cf, pre, post);
                ck_assert_msg((n > 0) == !!(CASES[_i].kinds & 1 << kind),
                        "case %d: %d groups of kind pre %d post %d", _i, n, pre, post);
                ck_assert_int_eq(mnet_context_fused_groups(cp, pre, post), 0);
            }
            /* The head (the last 1x1 and the linear classifier, slice by slice) where the
             * classifier follows a 1x1 (V1, V2; V3's follows its first FC), never unfused. */
            ck_assert_int_eq(mnet_context_heads(cf), CASES[_i].arch == MNET_ARCH_V1 ||
                    CASES[_i].arch == MNET_ARCH_V2);
            ck_assert_int_eq(mnet_context_heads(cp), 0);
            ck_assert_int_eq(mnet_context_run(cf, BATCH, x, fused), MNET_OK);
            ck_assert_int_eq(mnet_context_run(cp, BATCH, x, plain), MNET_OK);
            for (int j = 0; j < BATCH * CLASSES; j++)
                ck_assert_msg(isfinite(plain[j]), "case %d: logit %d not finite", _i, j);
            ck_assert_msg(memcmp(fused, plain, sizeof fused) == 0,
                    "case %d isa %s threads %d: fused != unfused", _i,
                    mnet_isa_name((mnet_isa)isa), threads);
            /* V1's 1.08 MB input of its first stride-2 depthwise: unfused, that layer reads it
             * itself and may prefetch it (fused, it reads its 1x1's window, and no layer may);
             * the first runs (these) time it both ways (the context's first run without, the
             * second with); fixed off, the same bits. */
            if (CASES[_i].arch == MNET_ARCH_V1) {
                int nf = -1, np = 0, nn = 0;
                ck_assert_int_eq(mnet_context_dw_prefetch(cf, &nf), 0);
                ck_assert_int_eq(nf, 0);
                ck_assert_int_eq(mnet_context_dw_prefetch(cp, &np), -1);
                ck_assert_int_ge(np, 1);
                mnet_context *cn = context(m, (mnet_isa)isa, threads, 2);
                ck_assert_int_eq(mnet_context_dw_prefetch(cn, &nn), 0);
                ck_assert_int_eq(nn, np);
                float nopf[BATCH * CLASSES], again[BATCH * CLASSES];
                ck_assert_int_eq(mnet_context_run(cn, BATCH, x, nopf), MNET_OK);
                ck_assert_msg(memcmp(fused, nopf, sizeof fused) == 0, "case %d isa %s threads "
                        "%d: the depthwise prefetch off != the first run", _i,
                        mnet_isa_name((mnet_isa)isa), threads);
                ck_assert_int_eq(mnet_context_run(cp, BATCH, x, again), MNET_OK);
                ck_assert_msg(memcmp(fused, again, sizeof fused) == 0, "case %d isa %s threads "
                        "%d: the second run (the depthwise prefetch on) != the first", _i,
                        mnet_isa_name((mnet_isa)isa), threads);
                mnet_context_free(cn);
            }
            if (threads == 1)
                memcpy(one_thread, fused, sizeof fused);
            else
                expect_one_thread(fused, one_thread, _i, isa);
            float one[CLASSES];
            for (int b = 0; b < BATCH; b++) {
                ck_assert_int_eq(mnet_context_run(cf, 1, x + b * img, one), MNET_OK);
                ck_assert_msg(memcmp(one, fused + b * CLASSES, sizeof one) == 0,
                        "case %d isa %s threads %d: image %d of the batch != alone", _i,
                        mnet_isa_name((mnet_isa)isa), threads, b);
            }
            mnet_context_free(cf);
            mnet_context_free(cp);
        }
    }
    ck_assert_int_ge(isas, 1);
    free(x);
    mnet_model_free(m);
}
END_TEST

/* Where the threads' parts end (the split lib/context.c moves towards the threads' measured
 * speeds) changes no bit either: held splits from nearly all of the work on one thread to
 * nearly all on the other, on 2 and 3 threads, and the rebalancing split over several runs,
 * all equal one thread's result; the rebalancing keeps every share within [1/2, 3/2] of an
 * even one, and a bad split is refused. */
START_TEST(test_uneven_split)
{
    mnet_model *m = case_model(_i, 11 + _i, NULL);
    const size_t img = (size_t)CASES[_i].res * CASES[_i].res * 3;
    enum { B = 2 };
    float *x = pattern(B * img, 0.0f);
    float ref[B * CLASSES], got[B * CLASSES];
    mnet_context *one = context(m, MNET_ISA_AUTO, 1, 1);
    ck_assert_int_eq(mnet_context_run(one, B, x, ref), MNET_OK);
    mnet_context_free(one);

    static const unsigned cuts2[][3] = {
        { 0, 1, 65536 }, { 0, 19661, 65536 }, { 0, 32768, 65536 }, { 0, 50463, 65536 },
        { 0, 65535, 65536 },
    };
    mnet_context *two = context(m, MNET_ISA_AUTO, 2, 1);
    for (size_t c = 0; c < sizeof cuts2 / sizeof cuts2[0]; c++) {
        if (g_slow && (c == 2 || c == 3))   /* slow: the extremes and 0.3 */
            continue;
        ck_assert_int_eq(mnet_context_set_split(two, cuts2[c], 1), MNET_OK);
        for (int b = 1; b <= B; b++) {   /* one image, and the batch */
            ck_assert_int_eq(mnet_context_run(two, b, x, got), MNET_OK);
            ck_assert_msg(memcmp(got, ref, (size_t)b * CLASSES * sizeof(float)) == 0,
                    "case %d: cut %u of 65536, batch %d != 1 thread", _i, cuts2[c][1], b);
            ck_assert_uint_eq(mnet_context_split(two, 1), cuts2[c][1]);   /* held */
        }
        /* Each tensor stayed inside its image's slot of the buffer, and the first thread's
         * share of every tensor ended at the slot's middle, to the 16-float alignment. */
        int used = 0;
        for (int b = 0; b < MNET_NUM_BUFS; b++) {
            size_t reach, miss;
            const size_t slot = mnet_context_placement(two, b, &reach, &miss);
            used += reach > 0;
            ck_assert_msg(reach <= slot, "case %d: cut %u: buffer %d reached %zu of its %zu",
                    _i, cuts2[c][1], b, reach, slot);
            ck_assert_msg(miss < 16, "case %d: cut %u: buffer %d: the first share ended %zu "
                    "floats from the middle", _i, cuts2[c][1], b, miss);
        }
        ck_assert_int_ge(used, 2);
    }
    /* Rebalancing: from an even split, after each run the split moves, within its bounds. */
    const unsigned even[3] = { 0, 32768, 65536 };
    ck_assert_int_eq(mnet_context_set_split(two, even, 0), MNET_OK);
    for (int r = 0; r < (g_slow ? 3 : 6); r++) {
        ck_assert_int_eq(mnet_context_run(two, B, x, got), MNET_OK);
        ck_assert_msg(memcmp(got, ref, sizeof got) == 0, "case %d: run %d rebalanced != 1 thread",
                _i, r);
        const unsigned c1 = mnet_context_split(two, 1);
        ck_assert_msg(c1 >= 16384 - 1 && c1 <= 49152 + 1, "case %d: cut %u outside [1/4, 3/4]",
                _i, c1);
        ck_assert_uint_eq(mnet_context_split(two, 0), 0);
        ck_assert_uint_eq(mnet_context_split(two, 2), 65536);
    }
    /* Bad cuts are refused and change nothing. */
    const unsigned before = mnet_context_split(two, 1);
    static const unsigned bad[][3] = { { 0, 0, 65536 }, { 0, 65536, 65536 }, { 1, 2, 65536 },
        { 0, 7, 65535 } };
    for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        ck_assert_int_eq(mnet_context_set_split(two, bad[c], 1), MNET_ERR_ARG);
        ck_assert_uint_eq(mnet_context_split(two, 1), before);
    }
    mnet_context_free(two);

    mnet_context *three = context(m, MNET_ISA_AUTO, 3, 1);
    static const unsigned cuts3[][4] = { { 0, 1, 2, 65536 }, { 0, 6554, 52429, 65536 },
        { 0, 30000, 65535, 65536 } };
    for (size_t c = 0; c < sizeof cuts3 / sizeof cuts3[0]; c++) {
        ck_assert_int_eq(mnet_context_set_split(three, cuts3[c], 1), MNET_OK);
        ck_assert_int_eq(mnet_context_run(three, B, x, got), MNET_OK);
        ck_assert_msg(memcmp(got, ref, sizeof got) == 0, "case %d: 3 threads, cut %zu != 1 thread",
                _i, c);
    }
    mnet_context_free(three);
    free(x);
    mnet_model_free(m);
}
END_TEST

/* options.max_batch: the buffers for that many images exist when the context does (a run with
 * up to that many allocates nothing), a larger batch grows them, and neither changes a bit. */
START_TEST(test_max_batch)
{
    mnet_model *m;
    ck_assert_int_eq(mnet_model_create_random(MNET_ARCH_V2, 0.35f, 96, CLASSES, 7, &m), MNET_OK);
    const size_t img = 96 * 96 * 3;
    float *x = malloc(7 * img * sizeof(float));
    ck_assert_ptr_nonnull(x);
    for (size_t j = 0; j < 7 * img; j++)
        x[j] = sinf((float)j * 0.017f);
    mnet_context *plain = context(m, MNET_ISA_AUTO, 2, 1);
    ck_assert_int_eq(mnet_context_images(plain), 1);
    mnet_options o;
    mnet_options_default(&o);
    o.num_threads = 2;
    o.max_batch = 5;
    mnet_context *ctx;
    ck_assert_int_eq(mnet_context_create(m, &o, &ctx), MNET_OK);
    ck_assert_int_eq(mnet_context_images(ctx), 5);
    float y[7 * CLASSES], want[7 * CLASSES];
    const int batches[] = { 5, 3, 7 }, images_after[] = { 5, 5, 7 };
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(mnet_context_run(ctx, batches[i], x, y), MNET_OK);
        ck_assert_int_eq(mnet_context_images(ctx), images_after[i]);
        ck_assert_int_eq(mnet_context_run(plain, batches[i], x, want), MNET_OK);
        ck_assert(memcmp(y, want, (size_t)batches[i] * CLASSES * sizeof(float)) == 0);
    }
    mnet_context_free(ctx);
    mnet_context_free(plain);
    free(x);
    mnet_model_free(m);
}
END_TEST

/* A batch's split between the image-by-image layers and the layers run over the whole batch
 * (lib/context.c: two candidate bounds, timed against each other over the first runs of each
 * batch size): every run while it tunes, after it has chosen, and with either candidate forced,
 * gives the bits of each image run alone, on 1 and 2 threads. */
START_TEST(test_batch_split)
{
    enum { B = 8 };
    mnet_model *m;
    ck_assert_int_eq(mnet_model_create_random(MNET_ARCH_V2, 0.35f, 96, CLASSES, 11, &m), MNET_OK);
    const size_t img = 96 * 96 * 3;
    float *x = pattern(B * img, 0.5f);
    float want[B * CLASSES], y[B * CLASSES];
    run_alone(m, x, B, img, CLASSES, want);
    for (int threads = 1; threads <= (g_slow ? 1 : 2); threads++) {
        unsetenv("MNET_BATCH_SPLIT");
        mnet_context *ctx = context(m, MNET_ISA_AUTO, threads, 1);
        int large, small;
        ck_assert_int_eq(mnet_context_batch_split(ctx, B, &large, &small), -1);
        /* the case must exercise the tuning: the bounds give different splits */
        ck_assert_msg(large < small, "large %d small %d", large, small);
        int chosen = -1;
        for (int run = 0; run < 12; run++) {   /* warm-up, 2 x 3 timed runs, then the choice */
            memset(y, 0, sizeof y);
            ck_assert_int_eq(mnet_context_run(ctx, B, x, y), MNET_OK);
            ck_assert_msg(memcmp(y, want, sizeof y) == 0, "threads %d run %d: batch != alone",
                    threads, run);
            chosen = mnet_context_batch_split(ctx, B, &large, &small);
            ck_assert_int_eq(chosen >= 0, run >= 6);
        }
        ck_assert(chosen == 0 || chosen == 1);
        /* another batch size is tuned on its own; the first one's choice is not reused */
        ck_assert_int_eq(mnet_context_run(ctx, 5, x, y), MNET_OK);
        ck_assert(memcmp(y, want, 5 * CLASSES * sizeof(float)) == 0);
        int l5, s5;
        ck_assert_int_eq(mnet_context_batch_split(ctx, 5, &l5, &s5), -1);
        mnet_context_free(ctx);
        static const char *const forced[] = { "large", "small" };
        for (int f = 0; f < 2; f++) {
            setenv("MNET_BATCH_SPLIT", forced[f], 1);
            ctx = context(m, MNET_ISA_AUTO, threads, 1);
            for (int run = 0; run < 3; run++) {
                memset(y, 0, sizeof y);
                ck_assert_int_eq(mnet_context_run(ctx, B, x, y), MNET_OK);
                ck_assert_msg(memcmp(y, want, sizeof y) == 0, "threads %d %s: batch != alone",
                        threads, forced[f]);
            }
            ck_assert_int_eq(mnet_context_batch_split(ctx, B, &large, &small), -1);   /* no tuning */
            mnet_context_free(ctx);
        }
        unsetenv("MNET_BATCH_SPLIT");
    }
    free(x);
    mnet_model_free(m);
}
END_TEST

/* Every place the batch phase can start (each layer index, moved forward to where a phase may
 * end: fused groups and squeeze-and-excite blocks whole) gives each image's bits alone.  A
 * split between a depthwise and its squeeze-and-excite once left V3 Large 1.0 150's row means
 * of one image to be overwritten by the next image's earlier layers (batch 8: logits off by
 * hundreds). */
/* Under a sanitizer or an emulator (5-50x slower), or with scalar kernels only, the small V3
 * split case and two random batches; the native suite runs them all (see main). */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif
static const struct { mnet_arch arch; float alpha; int res; } SPLIT_CASES[] = {
    { MNET_ARCH_V3_LARGE, 1.0f, 150 }, { MNET_ARCH_V3_SMALL, 0.75f, 97 },
    { MNET_ARCH_V2, 0.5f, 80 }, { MNET_ARCH_V1, 0.25f, 64 },
};

START_TEST(test_every_split)
{
    enum { B = 3 };
    mnet_model *m;
    ck_assert_int_eq(mnet_model_create_random(SPLIT_CASES[_i].arch, SPLIT_CASES[_i].alpha,
            SPLIT_CASES[_i].res, CLASSES, 14, &m), MNET_OK);
    mnet_model_info info;
    ck_assert_int_eq(mnet_model_get_info(m, &info), MNET_OK);
    const size_t img = (size_t)SPLIT_CASES[_i].res * SPLIT_CASES[_i].res * 3;
    float *x = pattern(B * img, 0.0f);
    float want[B * CLASSES], y[B * CLASSES];
    run_alone(m, x, B, img, CLASSES, want);
    for (int threads = 1; threads <= (g_slow ? 1 : 2); threads++) {
        mnet_context *ctx = context(m, MNET_ISA_AUTO, threads, 1);
        int used = -1, distinct = 0;
        for (int split = 0; split <= info.layers; split++) {
            const int s = mnet_context_force_batch_split(ctx, split);
            ck_assert_int_ge(s, split);
            distinct += s != used;
            used = s;
            memset(y, 0, sizeof y);
            ck_assert_int_eq(mnet_context_run(ctx, B, x, y), MNET_OK);
            ck_assert_msg(memcmp(y, want, sizeof y) == 0,
                    "case %d threads %d: batch phase from layer %d (asked %d) != alone", _i,
                    threads, s, split);
        }
        ck_assert_int_gt(distinct, info.layers / 3);   /* most places are reachable */
        mnet_context_free(ctx);
    }
    free(x);
    mnet_model_free(m);
}
END_TEST

/* Random models, sizes, batches and class counts (seeded, so a failure repeats): every image
 * of a batch equals its run alone, on 1 and 2 threads, over the runs that tune the batch split
 * and after.  (This found the squeeze-and-excite split above on V3 Large at 135 and 150.) */

START_TEST(test_random_batches)
{
    static const float alphas[] = { 0.25f, 0.35f, 0.5f, 0.75f, 1.0f, 1.3f };
    unsigned r = 2654435761u * (unsigned)(_i + 1);
#define NEXT() (r = r * 1103515245u + 12345u, (r >> 8) & 0xffffu)
    const mnet_arch arch = (mnet_arch)(MNET_ARCH_V1 + (int)(NEXT() % 4));
    const float alpha = alphas[NEXT() % 6];
    /* slow: small images and batches (the V3 split bug needs no more) */
    const int res = 32 + (int)(NEXT() % (g_slow ? 64 : 200));
    const int B = 2 + (int)(NEXT() % (g_slow ? 3 : 9));
    const int classes = 1 + (int)(NEXT() % 1100);
#undef NEXT
    mnet_model *m;
    ck_assert_int_eq(mnet_model_create_random(arch, alpha, res, classes, (uint64_t)_i, &m), MNET_OK);
    const size_t img = (size_t)res * res * 3, out = (size_t)B * classes;
    float *x = pattern((size_t)B * img, (float)_i);
    float *want = malloc(out * sizeof(float)), *y = malloc(out * sizeof(float));
    ck_assert(want && y);
    run_alone(m, x, B, img, classes, want);
    for (int threads = 1; threads <= 2; threads++) {
        mnet_context *ctx = context(m, MNET_ISA_AUTO, threads, 1);
        /* 9 runs: the warm-up, the batch split's 2 x 3 timed runs (MNET_BATCH_TRIALS) and two
         * after its choice; slow, two threads run 3 (the one-thread runs covered the tuning). */
        for (int run = 0; run < (g_slow && threads == 2 ? 3 : 9); run++) {
            memset(y, 0, out * sizeof(float));
            ck_assert_int_eq(mnet_context_run(ctx, B, x, y), MNET_OK);
            ck_assert_msg(memcmp(y, want, out * sizeof(float)) == 0,
                    "arch %d alpha %g res %d batch %d classes %d threads %d run %d: batch != alone",
                    (int)arch, (double)alpha, res, B, classes, threads, run);
        }
        mnet_context_free(ctx);
    }
    free(x);
    free(want);
    free(y);
    mnet_model_free(m);
}
END_TEST

/* The head (the last 1x1 and the sliced classifier, lib/context.c plan_head) on one and on two
 * threads, the same classifier without it (three threads: by columns, slice by slice; and
 * unfused), batch 2 and each image alone: every logit the same bits.  V1 and V2; V1 1.0's 1x1
 * of 1024 inputs has slices of two weight blocks, which head_task runs in two calls. */
static const struct { mnet_arch arch; float alpha; int res; } HEAD_CASES[] = {
    { MNET_ARCH_V1, 0.5f, 183 }, { MNET_ARCH_V2, 1.0f, 127 }, { MNET_ARCH_V2, 0.35f, 224 },
    { MNET_ARCH_V1, 1.0f, 96 },
};

START_TEST(test_head_threads)
{
    mnet_model *m = NULL;
    ck_assert_int_eq(mnet_model_create_random(HEAD_CASES[_i].arch, HEAD_CASES[_i].alpha,
            HEAD_CASES[_i].res, CLASSES, 40 + _i, &m), MNET_OK);
    const size_t img = (size_t)HEAD_CASES[_i].res * HEAD_CASES[_i].res * 3;
    float *x = pattern(2 * img, 0.4f);
    float want[2 * CLASSES], y[2 * CLASSES];
    const struct { int threads, fuse, heads; } runs[] = { { 1, 1, 1 }, { 2, 1, 1 },
        { 3, 1, 0 }, { 1, 0, 0 } };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        mnet_context *c = context(m, MNET_ISA_AUTO, runs[r].threads, runs[r].fuse);
        ck_assert_int_eq(mnet_context_heads(c), runs[r].heads);
        ck_assert_int_eq(mnet_context_run(c, 2, x, r == 0 ? want : y), MNET_OK);
        for (int b = 0; b < 2; b++) {
            float one[CLASSES];
            ck_assert_int_eq(mnet_context_run(c, 1, x + b * img, one), MNET_OK);
            ck_assert_msg(memcmp(one, want + b * CLASSES, sizeof one) == 0,
                    "case %d threads %d fuse %d: image %d alone != the first batch", _i,
                    runs[r].threads, runs[r].fuse, b);
        }
        if (r > 0)
            ck_assert_msg(memcmp(y, want, sizeof y) == 0, "case %d threads %d fuse %d: the "
                    "batch != one thread's with the head", _i, runs[r].threads, runs[r].fuse);
        mnet_context_free(c);
    }
    free(x);
    mnet_model_free(m);
}
END_TEST

/* The head is planned only while a slice's working set fits MNET_HEAD_CACHE_BYTES (768 KB,
 * lib/context.c head_fits): two slices of the 1x1's weights, the classifier's slice and the
 * 1x1's input.  With 1000 classes: V1 1.0 224 980 KB and at 96 (a 3x3 input) 816 KB, none; V1
 * 0.5 224 618 KB and V2 1.0 224 480 KB, a head; V1 1.0 at 96 with 10 classes (test_head_threads)
 * 563 KB, a head.  On one and two threads alike. */
static const struct { mnet_arch arch; float alpha; int res, classes, heads; } FIT_CASES[] = {
    { MNET_ARCH_V1, 1.0f, 224, 1000, 0 }, { MNET_ARCH_V1, 1.0f, 96, 1000, 0 },
    { MNET_ARCH_V1, 0.5f, 224, 1000, 1 }, { MNET_ARCH_V2, 1.0f, 224, 1000, 1 },
    { MNET_ARCH_V1, 1.0f, 96, 10, 1 },
};

START_TEST(test_head_fits)
{
    mnet_model *m = NULL;
    ck_assert_int_eq(mnet_model_create_random(FIT_CASES[_i].arch, FIT_CASES[_i].alpha,
            FIT_CASES[_i].res, FIT_CASES[_i].classes, 50 + _i, &m), MNET_OK);
    for (int threads = 1; threads <= 2; threads++) {
        mnet_context *c = context(m, MNET_ISA_AUTO, threads, 1);
        ck_assert_msg(mnet_context_heads(c) == FIT_CASES[_i].heads, "case %d threads %d: %d "
                "heads", _i, threads, mnet_context_heads(c));
        mnet_context_free(c);
    }
    mnet_model_free(m);
}
END_TEST

/* One thread: each image's activation buffers start at least 256 bytes apart within a 4 KiB
 * page, in either order (lib/context.c buf_bytes), so that no depthwise reads and writes at
 * addresses that agree in their low 12 bits (4K aliasing), for every image of a batch. */
START_TEST(test_buffer_colors)
{
    enum { B = 3 };
    mnet_model *m = case_model(_i, 50 + _i, NULL);
    const size_t img = (size_t)CASES[_i].res * CASES[_i].res * 3;
    float *x = pattern(B * img, 0.2f), y[B * CLASSES];
    mnet_context *c = context(m, MNET_ISA_AUTO, 1, 1);
    ck_assert_int_eq(mnet_context_run(c, B, x, y), MNET_OK);
    int pairs = 0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < MNET_NUM_BUFS; i++)
            for (int j = 0; j < MNET_NUM_BUFS; j++) {
                const float *p = mnet_context_buffer(c, i, b), *q = mnet_context_buffer(c, j, b);
                if (i == j || !p || !q)
                    continue;
                const size_t d = (size_t)((uintptr_t)q - (uintptr_t)p) & (MNET_BUF_PAGE - 1);
                ck_assert_msg(d >= 256 && d <= MNET_BUF_PAGE - 256, "case %d image %d: "
                        "buffers %d and %d %zu bytes apart within a page", _i, b, i, j, d);
                pairs++;
            }
    ck_assert_int_ge(pairs, B * 2);   /* at least two buffers in every network */
    ck_assert_ptr_null(mnet_context_buffer(c, 0, B));
    ck_assert_ptr_null(mnet_context_buffer(c, MNET_NUM_BUFS, 0));
    mnet_context_free(c);
    free(x);
    mnet_model_free(m);
}
END_TEST

/* Two and three threads confined to the one CPU this thread runs on (a context's workers take
 * the affinity of the thread that makes it): the calling thread then computes most shares of
 * most layers itself, because their workers cannot start them while it runs (lib/pool.c), and
 * the workers the rest, whenever the scheduler lets them run first.  Batch 2, five runs (the
 * warm-up and the batch split's trials among them): every image the same bits as alone on one
 * thread, and shares were taken over. */
START_TEST(test_one_cpu_threads)
{
    mnet_model *m = case_model(_i, 50 + (uint64_t)_i, NULL);
    const size_t img = (size_t)CASES[_i].res * CASES[_i].res * 3;
    float *x = pattern(2 * img, 0.9f);
    float want[2 * CLASSES], y[2 * CLASSES];
    run_alone(m, x, 2, img, CLASSES, want);
    cpu_set_t old;
    confine_to_this_cpu(&old);
    for (int threads = 2; threads <= 3; threads++) {
        mnet_context *ctx = context(m, MNET_ISA_AUTO, threads, 1);
        for (int run = 0; run < 5; run++) {
            memset(y, 0, sizeof y);
            ck_assert_int_eq(mnet_context_run(ctx, 2, x, y), MNET_OK);
            ck_assert_msg(memcmp(y, want, sizeof y) == 0, "case %d, %d threads on one CPU, run "
                    "%d: != alone", _i, threads, run);
        }
        ck_assert_msg(mnet_context_steals(ctx) > 0, "case %d, %d threads on one CPU: no share "
                "taken over", _i, threads);
        mnet_context_free(ctx);
    }
    ck_assert_int_eq(sched_setaffinity(0, sizeof old, &old), 0);
    free(x);
    mnet_model_free(m);
}
END_TEST

/* A loop test over every case, or, slow, over cases 0, 1 and 3 (V1, V2, V3 Large). */
static void add_cases(TCase *tc, const TTest *test, int cases, int slow)
{
    tcase_add_loop_test(tc, test, 0, slow ? 2 : cases);
    if (slow)
        tcase_add_loop_test(tc, test, 3, 4);
}

int main(void)
{
    /* Two cases, so the build can run them as two tests in parallel (CK_RUN_CASE, test/meson.build):
     * "equal" compares fused, unfused and profiled runs; "batch" the batch and thread splits. */
    Suite *s = suite_create("fusion");
    const int cases = (int)(sizeof CASES / sizeof CASES[0]);
    TCase *eq = tcase_create("equal"), *tb = tcase_create("batch");
    tcase_set_timeout(eq, 600);
    tcase_set_timeout(tb, 600);
    /* slow: sanitized, emulated, or scalar kernels only (the scalar-only build) */
    const int slow = g_slow = SANITIZED || test_emulated() ||
            mnet_isa_selected() == MNET_ISA_SCALAR;
    /* Slow, the profile, warm-up and uneven-split tests take cases 0, 1 and 3 (V1, V2 and V3
     * Large: every kind of group; see add_cases); the fused/unfused comparison takes all five. */
    tcase_add_loop_test(eq, test_fused_equals_unfused, 0, cases);
    add_cases(eq, test_profile, cases, slow);
    add_cases(eq, test_warmup, cases, slow);
    tcase_add_test(eq, test_dw_prefetch_choice);
    tcase_add_loop_test(eq, test_buffer_colors, 0, slow ? 2 : cases);
    tcase_add_loop_test(eq, test_head_threads, 0, slow ? 1 : 4);
    tcase_add_loop_test(eq, test_head_fits, 0, (int)(sizeof FIT_CASES / sizeof FIT_CASES[0]));
    if (slow)
        tcase_add_loop_test(eq, test_head_threads, 3, 4);
    tcase_add_test(tb, test_max_batch);
    tcase_add_test(tb, test_batch_split);
    const int splits = (int)(sizeof SPLIT_CASES / sizeof SPLIT_CASES[0]);
    tcase_add_loop_test(tb, test_every_split, slow ? 1 : 0, slow ? 2 : splits);
    tcase_add_loop_test(tb, test_random_batches, 0, slow ? 2 : 40);
    add_cases(tb, test_uneven_split, cases, slow);
    add_cases(tb, test_one_cpu_threads, cases, slow);
    suite_add_tcase(s, eq);
    suite_add_tcase(s, tb);
    return check_run(s);
}
