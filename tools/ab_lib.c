/* ab_lib.c - two builds of libmnet against each other in one process: each loaded with dlopen,
 * the same model in each (random weights from one seed, or one .mnet file), then inferences of
 * the two alternating, A then B, B then A, and the ratio taken within each pair.  On a machine
 * whose speed moves from one minute to the next (a shared VM), two processes run minutes apart
 * compare the minutes as much as the builds; a pair of inferences milliseconds apart does not.
 *
 *   ab_lib LIB_A LIB_B [--arch v1|v2|v3-large|v3-small] [--alpha A] [--res R] [--seed S]
 *          [--model FILE.mnet] [--threads N] [--runs N]
 *
 * Defaults: --arch v2 --alpha 1 --res 224 --seed 42 --threads 1 --runs 400.  Prints each
 * build's median, the median and quartiles of the pairs' B / A, and whether the two builds'
 * logits are identical (else the largest difference).  The same path twice is the same loaded
 * library (dlopen returns it again): to compare a build with itself, copy the file.  Exit
 * status 0, 1 when a library, symbol, model or context fails, 2 on bad arguments. */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mnet.h"

typedef struct {
    const char *path;
    void *handle;
    const char *(*last_error)(void);
    mnet_status (*create_random)(mnet_arch, float, int, int, uint64_t, mnet_model **);
    mnet_status (*load)(const char *, mnet_model **);
    mnet_status (*get_info)(const mnet_model *, mnet_model_info *);
    void (*model_free)(mnet_model *);
    void (*options_default)(mnet_options *);
    mnet_status (*context_create)(const mnet_model *, const mnet_options *, mnet_context **);
    mnet_status (*context_run)(mnet_context *, int, const float *, float *);
    void (*context_free)(mnet_context *);
    mnet_model *model;
    mnet_context *ctx;
    float *logits;
    double *ms;
} build;

typedef struct {
    mnet_arch arch;
    float alpha;
    int res, threads, runs;
    uint64_t seed;
    const char *model_file;
} config;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Load one build and make its model and context; 0 on success, else a message on stderr. */
static int open_build(build *b, const config *c, int *classes, int *pixels)
{
    b->handle = dlopen(b->path, RTLD_NOW | RTLD_LOCAL);
    if (!b->handle) {
        fprintf(stderr, "ab_lib: %s\n", dlerror());
        return 1;
    }
    struct { void **slot; const char *name; } syms[] = {
        { (void **)&b->last_error, "mnet_last_error" },
        { (void **)&b->create_random, "mnet_model_create_random" },
        { (void **)&b->load, "mnet_model_load" },
        { (void **)&b->get_info, "mnet_model_get_info" },
        { (void **)&b->model_free, "mnet_model_free" },
        { (void **)&b->options_default, "mnet_options_default" },
        { (void **)&b->context_create, "mnet_context_create" },
        { (void **)&b->context_run, "mnet_context_run" },
        { (void **)&b->context_free, "mnet_context_free" },
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].slot = dlsym(b->handle, syms[i].name);
        if (!*syms[i].slot) {
            fprintf(stderr, "ab_lib: %s: no symbol %s\n", b->path, syms[i].name);
            return 1;
        }
    }
    const mnet_status s = c->model_file ? b->load(c->model_file, &b->model)
                                        : b->create_random(c->arch, c->alpha, c->res, 1000,
                                                c->seed, &b->model);
    mnet_model_info info;
    if (s != MNET_OK || b->get_info(b->model, &info) != MNET_OK) {
        fprintf(stderr, "ab_lib: %s: the model: %s\n", b->path, b->last_error());
        return 1;
    }
    mnet_options o;
    b->options_default(&o);
    o.num_threads = c->threads;
    if (b->context_create(b->model, &o, &b->ctx) != MNET_OK) {
        fprintf(stderr, "ab_lib: %s: the context: %s\n", b->path, b->last_error());
        return 1;
    }
    *classes = info.num_classes;
    *pixels = info.height * info.width * info.channels;
    b->logits = malloc((size_t)info.num_classes * sizeof(float));
    b->ms = malloc((size_t)c->runs * sizeof(double));
    if (!b->logits || !b->ms) {
        fprintf(stderr, "ab_lib: out of memory\n");
        return 1;
    }
    return 0;
}

static void close_build(build *b)
{
    if (b->handle) {
        if (b->ctx)
            b->context_free(b->ctx);
        if (b->model)
            b->model_free(b->model);
        dlclose(b->handle);
    }
    free(b->logits);
    free(b->ms);
}

/* One timed inference of b; 0 on success. */
static int run_one(build *b, const float *input, double *ms)
{
    const double t0 = now_ms();
    const mnet_status s = b->context_run(b->ctx, 1, input, b->logits);
    *ms = now_ms() - t0;
    if (s != MNET_OK) {
        fprintf(stderr, "ab_lib: %s: run: %s\n", b->path, b->last_error());
        return 1;
    }
    return 0;
}

static int usage(const char *why)
{
    fprintf(stderr, "ab_lib: %s\nusage: ab_lib LIB_A LIB_B [--arch v1|v2|v3-large|v3-small] "
            "[--alpha A] [--res R] [--seed S] [--model FILE.mnet] [--threads N] [--runs N]\n", why);
    return 2;
}

int main(int argc, char **argv)
{
    config c = { MNET_ARCH_V2, 1.0f, 224, 1, 400, 42, NULL };
    if (argc < 3)
        return usage("two libraries needed");
    for (int i = 3; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!val)
            return usage("an option without its value");
        char *end = NULL;
        if (strcmp(opt, "--arch") == 0) {
            c.arch = strcmp(val, "v1") == 0 ? MNET_ARCH_V1 : strcmp(val, "v2") == 0 ? MNET_ARCH_V2
                   : strcmp(val, "v3-large") == 0 ? MNET_ARCH_V3_LARGE
                   : strcmp(val, "v3-small") == 0 ? MNET_ARCH_V3_SMALL : (mnet_arch)0;
            if (c.arch == 0)
                return usage("--arch takes v1, v2, v3-large or v3-small");
        } else if (strcmp(opt, "--alpha") == 0) {
            c.alpha = strtof(val, &end);
        } else if (strcmp(opt, "--res") == 0) {
            c.res = (int)strtol(val, &end, 10);
        } else if (strcmp(opt, "--seed") == 0) {
            c.seed = strtoull(val, &end, 10);
        } else if (strcmp(opt, "--model") == 0) {
            c.model_file = val;
        } else if (strcmp(opt, "--threads") == 0) {
            c.threads = (int)strtol(val, &end, 10);
        } else if (strcmp(opt, "--runs") == 0) {
            c.runs = (int)strtol(val, &end, 10);
        } else {
            return usage("unknown option");
        }
        if (end && *end)
            return usage("a number expected");
        i++;
    }
    if (c.runs < 1 || c.runs > 1000000 || c.threads < 1 || c.threads > 256)
        return usage("--runs takes 1..1000000, --threads 1..256");

    build b[2];
    memset(b, 0, sizeof b);
    b[0].path = argv[1];
    b[1].path = argv[2];
    int classes[2] = { 0, 0 }, pixels[2] = { 0, 0 }, rc = 1;
    float *input = NULL;
    double *ratio = malloc((size_t)c.runs * sizeof(double));
    if (!ratio || open_build(&b[0], &c, &classes[0], &pixels[0]) ||
            open_build(&b[1], &c, &classes[1], &pixels[1]))
        goto out;
    if (classes[0] != classes[1] || pixels[0] != pixels[1]) {
        fprintf(stderr, "ab_lib: the two builds read the model differently\n");
        goto out;
    }
    input = malloc((size_t)pixels[0] * sizeof(float));
    if (!input)
        goto out;
    for (int i = 0; i < pixels[0]; i++)   /* a fixed pattern in about [-1, 1) */
        input[i] = (float)(((uint32_t)i * 2654435761u) % 1000u) / 500.0f - 1.0f;

    double t;
    for (int w = 0; w < 3; w++)   /* warm both */
        if (run_one(&b[0], input, &t) || run_one(&b[1], input, &t))
            goto out;
    double max_diff = 0.0;
    for (int k = 0; k < classes[0]; k++)
        max_diff = fmax(max_diff, fabs((double)b[0].logits[k] - (double)b[1].logits[k]));
    const int identical = memcmp(b[0].logits, b[1].logits, (size_t)classes[0] * sizeof(float)) == 0;
    for (int r = 0; r < c.runs; r++) {
        const int first = r & 1;   /* A first on even runs, B first on odd ones */
        if (run_one(&b[first], input, &b[first].ms[r]) ||
                run_one(&b[!first], input, &b[!first].ms[r]))
            goto out;
        ratio[r] = b[1].ms[r] / b[0].ms[r];
    }
    qsort(b[0].ms, (size_t)c.runs, sizeof(double), cmp_double);
    qsort(b[1].ms, (size_t)c.runs, sizeof(double), cmp_double);
    qsort(ratio, (size_t)c.runs, sizeof(double), cmp_double);
    printf("A %s: median %.3f ms\nB %s: median %.3f ms\n", b[0].path, b[0].ms[c.runs / 2],
            b[1].path, b[1].ms[c.runs / 2]);
    printf("B / A over %d pairs: median %.3f, quartiles %.3f-%.3f\n", c.runs, ratio[c.runs / 2],
            ratio[c.runs / 4], ratio[(3 * c.runs) / 4]);
    if (identical)
        printf("logits: identical\n");
    else
        printf("logits: differ, by at most %.3g\n", max_diff);
    rc = 0;
out:
    free(input);
    free(ratio);
    close_build(&b[1]);
    close_build(&b[0]);
    return rc;
}
