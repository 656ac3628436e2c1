/* test_model.c - the V1/V2 runtime against PyTorch fixtures, on every ISA, 1 and 2 threads,
 * batches, shared models across threads, the paper's cost figures, and the API's error paths.
 *
 * Fixtures (test/fixtures, made by tools/make_fixtures.py): NAME.mnet, NAME.in.f32 (3 NHWC
 * images), NAME.ref.f32 (PyTorch logits [3][10]).  Tolerance, from the issue: max |d| <=
 * 1e-4 * max(1, max |ref|) and the same top-5 classes in the same order. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mnet.h"
#include "rss.h"
#include "check_run.h"
#include "test_env.h"

#define BATCH 3
#define CLASSES 10

static const char *const fixtures[] = { "v2_a035_r96", "v2_a100_r150", "v1_a025_r128_same",
    "v1_a050_r224", "v1_a025_r112_relu", "v3s_a100_r72", "v3l_a025_r100", "v3l_a025_r160",
    "v3s_a050_r193" };
#define NFIX (int)(sizeof fixtures / sizeof fixtures[0])

static const char *fixture_dir(void)
{
    const char *d = getenv("MNET_FIXTURES");
    return d ? d : "test/fixtures";
}

static void *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    rewind(f);
    void *p = malloc((size_t)n);
    ck_assert(p && fread(p, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return p;
}

typedef struct {
    mnet_model *model;
    mnet_model_info info;
    float *in, *ref;
} fixture;

static void fixture_load(int i, fixture *fx)
{
    char path[512];
    size_t n;
    snprintf(path, sizeof path, "%s/%s.mnet", fixture_dir(), fixtures[i]);
    ck_assert_msg(mnet_model_load(path, &fx->model) == MNET_OK, "%s: %s", path, mnet_last_error());
    ck_assert_int_eq(mnet_model_get_info(fx->model, &fx->info), MNET_OK);
    ck_assert_int_eq(fx->info.num_classes, CLASSES);
    snprintf(path, sizeof path, "%s/%s.in.f32", fixture_dir(), fixtures[i]);
    fx->in = slurp(path, &n);
    ck_assert_uint_eq(n, (size_t)BATCH * fx->info.height * fx->info.width * fx->info.channels * 4);
    snprintf(path, sizeof path, "%s/%s.ref.f32", fixture_dir(), fixtures[i]);
    fx->ref = slurp(path, &n);
    ck_assert_uint_eq(n, BATCH * CLASSES * 4);
}

static void fixture_free(fixture *fx)
{
    mnet_model_free(fx->model);
    free(fx->in);
    free(fx->ref);
}

static void top5(const float *y, int *idx)
{
    for (int j = 0; j < 5; j++) {
        int best = -1;
        for (int c = 0; c < CLASSES; c++) {
            int used = 0;
            for (int t = 0; t < j; t++)
                used |= idx[t] == c;
            if (!used && (best < 0 || y[c] > y[best]))
                best = c;
        }
        idx[j] = best;
    }
}

static void expect_matches_reference(const char *name, const char *what, const float *got,
        const float *ref)
{
    float maxref = 1.0f, maxd = 0.0f;
    for (int i = 0; i < BATCH * CLASSES; i++) {
        maxref = fmaxf(maxref, fabsf(ref[i]));
        const float d = fabsf(got[i] - ref[i]);
        maxd = isnan(d) ? INFINITY : fmaxf(maxd, d);
    }
    ck_assert_msg(maxd <= 1e-4f * maxref, "%s %s: max |mnet - torch| = %g > %g", name, what, maxd,
            1e-4f * maxref);
    for (int b = 0; b < BATCH; b++) {
        int a[5], r[5];
        top5(got + b * CLASSES, a);
        top5(ref + b * CLASSES, r);
        ck_assert_msg(memcmp(a, r, sizeof a) == 0, "%s %s: image %d top-5 differs", name, what, b);
    }
}

static mnet_context *context(const mnet_model *m, mnet_isa isa, int threads)
{
    mnet_options o;
    mnet_options_default(&o);
    o.isa = isa;
    o.num_threads = threads;
    /* Emulated, no warm-up inference (a quarter of the fixture test's inferences there; the
     * warm-up changes no bit, test_fusion's test_warmup). */
    o.skip_warmup = test_emulated();
    mnet_context *ctx = NULL;
    ck_assert_msg(mnet_context_create(m, &o, &ctx) == MNET_OK, "%s", mnet_last_error());
    return ctx;
}

/* Every fixture on every available ISA (emulated: see below) with 1 and 2 threads: matches
 * PyTorch; 2 threads and batch 3 are bit-identical to 1 thread and three batch-1 runs (the
 * same kernels see the same rows, only split differently). */
START_TEST(test_fixture_matches_pytorch)
{
    fixture fx;
    fixture_load(_i, &fx);
    const size_t img = (size_t)fx.info.height * fx.info.width * fx.info.channels;
    /* Under an emulator the tiers below the best run on the smallest V2, V1 and V3 fixtures
     * only; natively every tier runs every fixture. */
    const int every_tier = !test_emulated() || _i == 0 || _i == 2 || _i == 5;
    int tested = 0;
    float selected[BATCH * CLASSES];   /* the selected tier's batch on one thread */
    int have_selected = 0;
    for (int isa = MNET_ISA_SCALAR; isa <= MNET_ISA_AVX512; isa++) {
        if (!mnet_isa_available((mnet_isa)isa))
            continue;
        if (!every_tier && isa != (int)mnet_isa_selected())
            continue;
        tested++;
        float one[BATCH * CLASSES], single[BATCH * CLASSES], two[BATCH * CLASSES];
        mnet_context *c1 = context(fx.model, (mnet_isa)isa, 1);
        ck_assert_int_eq(mnet_context_run(c1, BATCH, fx.in, one), MNET_OK);
        for (int b = 0; b < BATCH; b++)
            ck_assert_int_eq(mnet_context_run(c1, 1, fx.in + b * img, single + b * CLASSES), MNET_OK);
        mnet_context *c2 = context(fx.model, (mnet_isa)isa, 2);
        ck_assert_int_eq(mnet_context_run(c2, BATCH, fx.in, two), MNET_OK);
        expect_matches_reference(fixtures[_i], mnet_isa_name((mnet_isa)isa), one, fx.ref);
        ck_assert_msg(memcmp(one, single, sizeof one) == 0, "%s %s: batch 3 != 3 x batch 1",
                fixtures[_i], mnet_isa_name((mnet_isa)isa));
        ck_assert_msg(memcmp(one, two, sizeof one) == 0, "%s %s: 2 threads != 1 thread",
                fixtures[_i], mnet_isa_name((mnet_isa)isa));
        if (isa == (int)mnet_isa_selected()) {
            memcpy(selected, one, sizeof one);
            have_selected = 1;
        }
        mnet_context_free(c1);
        mnet_context_free(c2);
    }
    ck_assert_int_ge(tested, 1);
    ck_assert(have_selected);
    /* AUTO runs the selected tier: bit-identical to it. */
    float a[BATCH * CLASSES];
    mnet_context *ca = context(fx.model, MNET_ISA_AUTO, 1);
    ck_assert_int_eq(mnet_context_run(ca, BATCH, fx.in, a), MNET_OK);
    ck_assert(memcmp(a, selected, sizeof a) == 0);
    mnet_context_free(ca);
    fixture_free(&fx);
}
END_TEST

/* mnet_model_load_memory gives the same model as mnet_model_load; the buffer may be freed. */
START_TEST(test_load_memory_same_as_path)
{
    char path[512];
    size_t n;
    snprintf(path, sizeof path, "%s/%s.mnet", fixture_dir(), fixtures[0]);
    void *buf = slurp(path, &n);
    mnet_model *a, *b;
    ck_assert_int_eq(mnet_model_load_memory(buf, n, &a), MNET_OK);
    memset(buf, 0xAB, n);   /* the model must not point into it */
    free(buf);
    ck_assert_int_eq(mnet_model_load(path, &b), MNET_OK);
    fixture fx;
    fixture_load(0, &fx);
    float ya[BATCH * CLASSES], yb[BATCH * CLASSES];
    mnet_context *ca = context(a, MNET_ISA_AUTO, 1), *cb = context(b, MNET_ISA_AUTO, 1);
    ck_assert_int_eq(mnet_context_run(ca, BATCH, fx.in, ya), MNET_OK);
    ck_assert_int_eq(mnet_context_run(cb, BATCH, fx.in, yb), MNET_OK);
    ck_assert(memcmp(ya, yb, sizeof ya) == 0);
    mnet_context_free(ca);
    mnet_context_free(cb);
    mnet_model_free(a);
    mnet_model_free(b);
    fixture_free(&fx);
}
END_TEST

/* Whether this process's RSS is mnet's to judge: not under a sanitizer (shadow memory) or a
 * user-mode emulator (its own memory; MNET_TEST_EMULATED, set for cross builds). */
static int rss_measurable(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 0;
#else
    return !test_emulated();
#endif
}

/* A huge file that is not a model (an 8 GiB sparse file: junk, or a model's own first 128
 * bytes whose size field disagrees) is refused from its header, before any of it is read:
 * MNET_ERR_FORMAT with the reason, and no gigabytes mapped in. */
START_TEST(test_huge_file_refused_early)
{
    char src[512], path[600];
    snprintf(src, sizeof src, "%s/%s.mnet", fixture_dir(), "v2_a100_r150");
    snprintf(path, sizeof path, "%s/mnet_huge_%d.mnet", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
            (int)getpid());
    uint8_t head[128];
    FILE *in = fopen(src, "rb");
    ck_assert_ptr_nonnull(in);
    ck_assert_uint_eq(fread(head, 1, sizeof head, in), sizeof head);
    fclose(in);
    for (int junk = 0; junk < 2; junk++) {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        if (junk)
            for (size_t i = 0; i < sizeof head; i++)
                head[i] = (uint8_t)(i * 37 + 11);
        ck_assert_uint_eq(fwrite(head, 1, sizeof head, f), sizeof head);
        fclose(f);
        if (truncate(path, (off_t)8 << 30) != 0) {   /* no sparse files here: nothing to test */
            unlink(path);
            return;
        }
        const long before = rss_kb();
        mnet_model *m = (mnet_model *)&m;
        ck_assert_int_eq(mnet_model_load(path, &m), MNET_ERR_FORMAT);
        ck_assert_ptr_null(m);
        const char *msg = mnet_last_error();
        ck_assert_msg(strstr(msg, junk ? "bad magic" : "says") != NULL, "message: %s", msg);
        ck_assert_msg(!rss_measurable() || rss_kb() - before < 64 * 1024, "RSS grew by %ld KB",
                rss_kb() - before);
        unlink(path);
    }
}
END_TEST

/* Loading is bounded by the file: 8 copies of a 8.9 MB model add no more than 8 x (file size
 * + 1/8 of it + 2 MiB + 256 KB) of resident memory before any context exists: one copy of the
 * weights, packed (channels padded to the tier's panel width, the block rounded up to whole
 * 2 MiB huge pages), and the layer tables.  A second copy of the weights would exceed it. */
START_TEST(test_load_memory_bounded)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.mnet", fixture_dir(), "v2_a100_r150");
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    mnet_model *m[8];
    const long before = rss_kb();
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(mnet_model_load(path, &m[i]), MNET_OK);
    const long file_kb = (long)sb.st_size / 1024;
    const long grown = rss_kb() - before, bound = 8 * (file_kb + file_kb / 8 + 2048 + 256);
    ck_assert_msg(!rss_measurable() || grown <= bound, "8 loads of a %lld-byte file grew RSS by %ld KB (bound %ld KB)",
            (long long)sb.st_size, grown, bound);
    for (int i = 0; i < 8; i++)
        mnet_model_free(m[i]);
}
END_TEST

/* Two threads, each with its own context on one shared model, get what one thread gets. */
typedef struct {
    const mnet_model *m;
    const float *in;
    float out[BATCH * CLASSES];
    int rounds;
    mnet_status st;
} shared_arg;

static void *shared_worker(void *p)
{
    shared_arg *a = p;
    mnet_options o;
    mnet_options_default(&o);
    mnet_context *ctx;
    a->st = mnet_context_create(a->m, &o, &ctx);
    for (int r = 0; r < a->rounds && a->st == MNET_OK; r++)
        a->st = mnet_context_run(ctx, BATCH, a->in, a->out);
    if (a->st == MNET_OK)
        mnet_context_free(ctx);
    return NULL;
}

START_TEST(test_shared_model_two_threads)
{
    fixture fx;
    fixture_load(1, &fx);
    float alone[BATCH * CLASSES];
    mnet_context *c = context(fx.model, MNET_ISA_AUTO, 1);
    ck_assert_int_eq(mnet_context_run(c, BATCH, fx.in, alone), MNET_OK);
    mnet_context_free(c);
    shared_arg args[2] = { { fx.model, fx.in, { 0 }, 3, MNET_OK }, { fx.model, fx.in, { 0 }, 3, MNET_OK } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, shared_worker, &args[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(args[i].st, MNET_OK);
        ck_assert(memcmp(args[i].out, alone, sizeof alone) == 0);
    }
    fixture_free(&fx);
}
END_TEST

/* The papers' totals (mult-adds and parameters, at the papers' precision). */
START_TEST(test_paper_costs)
{
    static const struct { mnet_arch arch; float alpha; int res; double macs_m, params_m, mtol, ptol; } c[] = {
        { MNET_ARCH_V1, 1.0f, 224, 569, 4.2, 0.5, 0.05 },
        { MNET_ARCH_V1, 0.75f, 224, 325, 2.6, 0.5, 0.05 },
        { MNET_ARCH_V1, 0.5f, 224, 149, 1.3, 0.6, 0.05 },
        { MNET_ARCH_V1, 0.25f, 224, 41, 0.5, 0.5, 0.05 },
        { MNET_ARCH_V1, 1.0f, 192, 418, 4.2, 0.5, 0.05 },
        { MNET_ARCH_V1, 1.0f, 160, 290, 4.2, 1.0, 0.05 },
        { MNET_ARCH_V1, 1.0f, 128, 186, 4.2, 0.5, 0.05 },
        { MNET_ARCH_V2, 1.0f, 224, 300, 3.4, 1.0, 0.1 },
        /* V3 paper Tables 3/4 and torchvision: Large 217-219M / 5.4-5.5M, Small 56-57M / 2.5M */
        { MNET_ARCH_V3_LARGE, 1.0f, 224, 218, 5.45, 1.0, 0.05 },
        { MNET_ARCH_V3_SMALL, 1.0f, 224, 56.5, 2.5, 0.5, 0.05 },
    };
    static const int layers[] = { 0, 28, 53, 64, 54 };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        mnet_model *m;
        mnet_model_info in;
        ck_assert_int_eq(mnet_model_create_random(c[i].arch, c[i].alpha, c[i].res, 1000, 1, &m), MNET_OK);
        ck_assert_int_eq(mnet_model_get_info(m, &in), MNET_OK);
        ck_assert_msg(fabs((double)in.macs / 1e6 - c[i].macs_m) <= c[i].mtol,
                "arch %d %.2f-%d: %.2fM mult-adds, paper %.0fM", c[i].arch, c[i].alpha, c[i].res,
                (double)in.macs / 1e6, c[i].macs_m);
        ck_assert_msg(fabs((double)in.params / 1e6 - c[i].params_m) <= c[i].ptol,
                "arch %d %.2f-%d: %.3fM params, paper %.1fM", c[i].arch, c[i].alpha, c[i].res,
                (double)in.params / 1e6, c[i].params_m);
        ck_assert_int_eq(in.layers, layers[c[i].arch]);
        mnet_model_free(m);
    }
}
END_TEST

/* V3 (5x5 depthwise, h-swish, squeeze-and-excite): every ISA agrees with the scalar reference
 * tier, and 2 threads and batch 3 are bit-identical to 1 thread and 3 x batch 1. */
START_TEST(test_v3_isas_agree)
{
    static const struct { mnet_arch arch; float alpha; int res; } c[] = {
        { MNET_ARCH_V3_LARGE, 0.5f, 96 }, { MNET_ARCH_V3_SMALL, 1.0f, 75 },
    };
    mnet_model *m;
    ck_assert_int_eq(mnet_model_create_random(c[_i].arch, c[_i].alpha, c[_i].res, CLASSES, 7 + _i,
            &m), MNET_OK);
    const size_t img = (size_t)c[_i].res * c[_i].res * 3;
    float *x = malloc(BATCH * img * sizeof(float));
    ck_assert_ptr_nonnull(x);
    for (size_t j = 0; j < BATCH * img; j++)
        x[j] = 2.0f * sinf((float)j * 0.37f) + 0.5f * cosf((float)j * 0.011f);
    float ref[BATCH * CLASSES];
    mnet_context *cr = context(m, MNET_ISA_SCALAR, 1);
    ck_assert_int_eq(mnet_context_run(cr, BATCH, x, ref), MNET_OK);
    mnet_context_free(cr);
    for (int isa = MNET_ISA_SCALAR; isa <= MNET_ISA_AVX512; isa++) {
        if (!mnet_isa_available((mnet_isa)isa))
            continue;
        float one[BATCH * CLASSES], single[BATCH * CLASSES], two[BATCH * CLASSES];
        mnet_context *c1 = context(m, (mnet_isa)isa, 1), *c2 = context(m, (mnet_isa)isa, 2);
        ck_assert_int_eq(mnet_context_run(c1, BATCH, x, one), MNET_OK);
        for (int b = 0; b < BATCH; b++)
            ck_assert_int_eq(mnet_context_run(c1, 1, x + b * img, single + b * CLASSES), MNET_OK);
        ck_assert_int_eq(mnet_context_run(c2, BATCH, x, two), MNET_OK);
        expect_matches_reference(c[_i].arch == MNET_ARCH_V3_LARGE ? "v3-large" : "v3-small",
                mnet_isa_name((mnet_isa)isa), one, ref);
        ck_assert_msg(memcmp(one, single, sizeof one) == 0, "%s: batch 3 != 3 x batch 1",
                mnet_isa_name((mnet_isa)isa));
        ck_assert_msg(memcmp(one, two, sizeof one) == 0, "%s: 2 threads != 1 thread",
                mnet_isa_name((mnet_isa)isa));
        mnet_context_free(c1);
        mnet_context_free(c2);
    }
    free(x);
    mnet_model_free(m);
}
END_TEST

/* Resolutions that are not multiples of 32, odd alphas, one class, batch > 1: runs, finite. */
START_TEST(test_random_models_any_shape)
{
    static const struct { mnet_arch arch; float alpha; int res, classes; } c[] = {
        { MNET_ARCH_V1, 0.3f, 33, 1 }, { MNET_ARCH_V2, 1.4f, 45, 7 }, { MNET_ARCH_V2, 0.35f, 97, 1001 },
        { MNET_ARCH_V1, 1.3f, 64, 3 }, { MNET_ARCH_V2, 0.1f, 32, 2 },
        { MNET_ARCH_V3_LARGE, 0.75f, 33, 5 }, { MNET_ARCH_V3_SMALL, 1.25f, 47, 1 },
        { MNET_ARCH_V3_SMALL, 0.1f, 32, 3 },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        mnet_model *m;
        ck_assert_int_eq(mnet_model_create_random(c[i].arch, c[i].alpha, c[i].res, c[i].classes, i, &m), MNET_OK);
        const size_t img = (size_t)c[i].res * c[i].res * 3;
        float *x = malloc(2 * img * sizeof(float)), *y = malloc(2 * (size_t)c[i].classes * sizeof(float));
        for (size_t j = 0; j < 2 * img; j++)
            x[j] = sinf((float)j * 0.01f);
        for (int isa = MNET_ISA_SCALAR; isa <= MNET_ISA_AVX512; isa++) {
            if (!mnet_isa_available((mnet_isa)isa))
                continue;
            mnet_context *ctx = context(m, (mnet_isa)isa, 2);
            ck_assert_int_eq(mnet_context_run(ctx, 2, x, y), MNET_OK);
            for (int j = 0; j < 2 * c[i].classes; j++)
                ck_assert_msg(isfinite(y[j]), "case %zu isa %d: logit %d not finite", i, isa, j);
            mnet_context_free(ctx);
        }
        free(x);
        free(y);
        mnet_model_free(m);
    }
}
END_TEST

/* Bad arguments: the right status, *out NULL, a message, nothing of the caller's written. */
START_TEST(test_api_errors)
{
    mnet_model *m = (mnet_model *)&m;
    ck_assert_int_eq(mnet_model_load("/nonexistent/model.mnet", &m), MNET_ERR_IO);
    ck_assert_ptr_null(m);
    ck_assert(strstr(mnet_last_error(), "/nonexistent/model.mnet") != NULL);
    m = (mnet_model *)&m;
    ck_assert_int_eq(mnet_model_load("/", &m), MNET_ERR_IO);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(mnet_model_load(NULL, &m), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_model_load("x", NULL), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_model_load("/dev/null", &m), MNET_ERR_IO);   /* not a regular file */
    ck_assert_int_eq(mnet_model_load_memory(NULL, 10, &m), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_model_load_memory("MNETMODL", 8, &m), MNET_ERR_FORMAT);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(mnet_model_create_random(MNET_ARCH_V2, 0.0f, 224, 10, 0, &m), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_model_create_random(MNET_ARCH_V2, NAN, 224, 10, 0, &m), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_model_create_random(MNET_ARCH_V2, 1.0f, 31, 10, 0, &m), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_model_create_random(MNET_ARCH_V2, 1.0f, 224, 0, 0, &m), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_model_create_random((mnet_arch)5, 1.0f, 224, 10, 0, &m), MNET_ERR_ARG);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(mnet_model_get_info(NULL, NULL), MNET_ERR_ARG);
    mnet_model_free(NULL);
    mnet_context_free(NULL);

    ck_assert_int_eq(mnet_model_create_random(MNET_ARCH_V1, 0.25f, 32, 4, 0, &m), MNET_OK);
    mnet_options o;
    mnet_options_default(&o);
    ck_assert_int_eq(o.num_threads, 1);
    ck_assert_int_eq(o.isa, MNET_ISA_AUTO);
    mnet_context *ctx = (mnet_context *)&ctx;
    o.num_threads = 0;
    ck_assert_int_eq(mnet_context_create(m, &o, &ctx), MNET_ERR_ARG);
    ck_assert_ptr_null(ctx);
    o.num_threads = 1;
    o.isa = (mnet_isa)9;
    ck_assert_int_eq(mnet_context_create(m, &o, &ctx), MNET_ERR_ARG);
    for (int isa = MNET_ISA_AVX2; isa <= MNET_ISA_AVX512; isa++)
        if (!mnet_isa_available((mnet_isa)isa)) {
            o.isa = (mnet_isa)isa;
            ck_assert_int_eq(mnet_context_create(m, &o, &ctx), MNET_ERR_UNSUPPORTED);
        }
    o.isa = MNET_ISA_AUTO;
    o.profile = 2;
    ck_assert_int_eq(mnet_context_create(m, &o, &ctx), MNET_ERR_ARG);
    ck_assert(strstr(mnet_last_error(), "profile") != NULL);
    o.profile = 0;
    o.max_batch = -1;
    ctx = (mnet_context *)&ctx;
    ck_assert_int_eq(mnet_context_create(m, &o, &ctx), MNET_ERR_ARG);
    ck_assert(strstr(mnet_last_error(), "max_batch") != NULL);
    ck_assert_ptr_null(ctx);
    o.max_batch = 0;
    for (int bad = -1; bad <= 2; bad += 3) {
        o.skip_warmup = bad;
        ctx = (mnet_context *)&ctx;
        ck_assert_int_eq(mnet_context_create(m, &o, &ctx), MNET_ERR_ARG);
        ck_assert(strstr(mnet_last_error(), "skip_warmup") != NULL);
        ck_assert_ptr_null(ctx);
    }
    o.skip_warmup = 0;
    ck_assert_int_eq(mnet_context_create(NULL, NULL, &ctx), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_context_create(m, NULL, &ctx), MNET_OK);   /* NULL options = defaults */

    float x[32 * 32 * 3] = { 0 }, y[8];
    for (int i = 0; i < 8; i++)
        y[i] = 42.0f;
    ck_assert_int_eq(mnet_context_run(ctx, 0, x, y), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_context_run(ctx, -1, x, y), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_context_run(ctx, 1, NULL, y), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_context_run(NULL, 1, x, y), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_context_run(ctx, 1, x, NULL), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_context_run(ctx, 1, x, x + 5), MNET_ERR_ARG);   /* overlap */
    ck_assert_int_eq(mnet_context_run(ctx, 1 << 30, x, y), MNET_ERR_ARG);
    for (int i = 0; i < 8; i++)
        ck_assert(y[i] == 42.0f);
    ck_assert(strstr(mnet_last_error(), "mnet_context_run") != NULL);
    ck_assert_int_eq(mnet_context_run(ctx, 1, x, y), MNET_OK);

    mnet_layer_info li;
    ck_assert_int_eq(mnet_model_get_layer(m, -1, &li), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_model_get_layer(m, 28, &li), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_model_get_layer(m, 27, &li), MNET_OK);
    ck_assert_str_eq(li.op, "fc");

    /* Profiling: only in a context created for it, into arrays of at least the model's 28
     * layers; refused calls write nothing. */
    double ms[28];
    int group[28];
    for (int i = 0; i < 28; i++) {
        ms[i] = -1.0;
        group[i] = -1;
    }
    ck_assert_int_eq(mnet_context_get_profile(ctx, 28, ms, group), MNET_ERR_ARG);
    ck_assert(strstr(mnet_last_error(), "profile") != NULL);
    mnet_context *pc = NULL;
    o.profile = 1;
    ck_assert_int_eq(mnet_context_create(m, &o, &pc), MNET_OK);
    ck_assert_int_eq(mnet_context_get_profile(NULL, 28, ms, group), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_context_get_profile(pc, 28, NULL, group), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_context_get_profile(pc, 27, ms, group), MNET_ERR_ARG);
    ck_assert(strstr(mnet_last_error(), "27") != NULL);
    for (int i = 0; i < 28; i++)
        ck_assert(ms[i] == -1.0 && group[i] == -1);
    /* Before any run: zeros. */
    ck_assert_int_eq(mnet_context_get_profile(pc, 28, ms, NULL), MNET_OK);
    for (int i = 0; i < 28; i++)
        ck_assert(ms[i] == 0.0);
    mnet_context_free(pc);
    mnet_context_free(ctx);
    mnet_model_free(m);
}
END_TEST

/* Preprocessing: a constant image maps to (v/255 - mean)/std everywhere, any input size. */
START_TEST(test_preprocess)
{
    mnet_model *m;
    ck_assert_int_eq(mnet_model_create_random(MNET_ARCH_V2, 0.35f, 40, 3, 0, &m), MNET_OK);
    float mean[3], stdv[3];
    ck_assert_int_eq(mnet_model_get_preprocess(m, mean, stdv), MNET_OK);
    uint8_t img[7 * 5 * 3];
    for (int i = 0; i < 7 * 5; i++) {
        img[3 * i] = 10;
        img[3 * i + 1] = 100;
        img[3 * i + 2] = 250;
    }
    float *out = malloc(40 * 40 * 3 * sizeof(float));
    ck_assert_int_eq(mnet_preprocess_u8(m, img, 7, 5, 3, 21, out), MNET_OK);
    const float v[3] = { 10, 100, 250 };
    for (int i = 0; i < 40 * 40; i++)
        for (int c = 0; c < 3; c++)
            ck_assert_float_eq_tol(out[i * 3 + c], (v[c] / 255.0f - mean[c]) / stdv[c], 1e-5);
    /* A 2x1 gray ramp upsampled: the centre column is the average. */
    uint8_t ramp[2] = { 0, 200 };
    ck_assert_int_eq(mnet_preprocess_u8(m, ramp, 2, 1, 1, 2, out), MNET_OK);
    ck_assert_float_eq_tol(out[0], (0.0f - mean[0]) / stdv[0], 1e-5);             /* x = 0: clamped left */
    ck_assert_float_eq_tol(out[39 * 3], (200.0f / 255.0f - mean[0]) / stdv[0], 1e-5); /* right edge */
    ck_assert_int_eq(mnet_preprocess_u8(m, img, 0, 5, 3, 21, out), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_preprocess_u8(m, img, 7, 5, 2, 21, out), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_preprocess_u8(m, img, 7, 5, 3, 20, out), MNET_ERR_ARG);
    ck_assert_int_eq(mnet_preprocess_u8(NULL, img, 7, 5, 3, 21, out), MNET_ERR_ARG);
    free(out);
    mnet_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 1200);
    tcase_add_loop_test(tc, test_fixture_matches_pytorch, 0, NFIX);
    tcase_add_test(tc, test_load_memory_same_as_path);
    tcase_add_test(tc, test_load_memory_bounded);
    tcase_add_test(tc, test_huge_file_refused_early);
    tcase_add_test(tc, test_shared_model_two_threads);
    tcase_add_test(tc, test_paper_costs);
    tcase_add_test(tc, test_random_models_any_shape);
    tcase_add_loop_test(tc, test_v3_isas_agree, 0, 2);
    tcase_add_test(tc, test_api_errors);
    tcase_add_test(tc, test_preprocess);
    suite_add_tcase(s, tc);
    return check_run(s);
}
