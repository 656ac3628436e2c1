/* bench_models.c - end-to-end MobileNet latency through the public API: V1, V2, V3 Large and
 * V3 Small, alpha 0.5 and 1.0, 128/160/224 pixels, 1 and 2 threads, batch 1 and 8; warm (the
 * timed runs), cold (cold_ms: the caller's first inference in a new context, made with the
 * default options, so after the warm-up inference that context_ms includes) and flushed
 * (flushed_ms: one more after 64 MiB of writes have pushed the context's code, weights and
 * tensors out of the caches).  Random-weight models (mnet_model_create_random); the tier is
 * the selected one (lower it with MNET_ISA).  Wall-clock time, since the pool's workers run
 * on other cores. */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>

#include "evict.h"
#include "gbench_shim.h"
#include "mnet.h"

typedef struct {
    mnet_arch arch;
    float alpha;
    int res, threads, batch;
} model_case;

/* The model of the benchmarks now running.  Benchmarks run in the order they are registered,
 * every (arch, alpha, res) together, so each model is created once and freed when the next
 * one is needed: memory stays at one model, however many the filter selects.  (With
 * --benchmark_enable_random_interleaving models are re-created as the order demands.) */
static struct {
    mnet_arch arch;
    float alpha;
    int res;
    mnet_model *m;
} g_model;

static mnet_model *get_model(const model_case *c)
{
    if (g_model.m && g_model.arch == c->arch && g_model.alpha == c->alpha && g_model.res == c->res)
        return g_model.m;
    mnet_model_free(g_model.m);
    g_model.m = NULL;
    mnet_model *m = NULL;
    if (mnet_model_create_random(c->arch, c->alpha, c->res, 1000, 42, &m) != MNET_OK)
        return NULL;
    g_model.arch = c->arch;
    g_model.alpha = c->alpha;
    g_model.res = c->res;
    g_model.m = m;
    return m;
}

/* The buffer written between the timed runs and the flushed one (evict.h), mapped once, on
 * first use. */
static unsigned char *g_flush;

static int flush_caches(void)
{
    if (!g_flush) {
        void *p = mmap(NULL, EVICT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                -1, 0);
        if (p == MAP_FAILED)
            return 0;
        g_flush = p;
    }
    evict_caches(g_flush);
    return 1;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static void bench_model(mnet_bench_state *st, void *arg)
{
    const model_case *c = arg;
    mnet_model *m = get_model(c);
    if (!m) {
        mnet_bench_skip_with_error(st, mnet_last_error());
        while (mnet_bench_keep_running(st)) {
        }
        return;
    }
    mnet_model_info info;
    mnet_model_get_info(m, &info);
    const size_t in = (size_t)c->batch * info.height * info.width * info.channels;
    float *x = malloc(in * sizeof(float));
    float *y = malloc((size_t)c->batch * info.num_classes * sizeof(float));
    for (size_t i = 0; i < in; i++)
        x[i] = (float)((i * 2654435761u) % 4096) / 1024.0f - 2.0f;
    mnet_options o;
    mnet_options_default(&o);
    o.num_threads = c->threads;
    mnet_context *ctx = NULL;
    const double t0 = now_ms();
    if (!x || !y || mnet_context_create(m, &o, &ctx) != MNET_OK) {
        mnet_bench_skip_with_error(st, mnet_last_error());
        while (mnet_bench_keep_running(st)) {
        }
        free(x);
        free(y);
        return;
    }
    const double t1 = now_ms();
    mnet_context_run(ctx, c->batch, x, y);   /* the cold run: the caller's first in this context */
    const double cold = now_ms() - t1;
    while (mnet_bench_keep_running(st))
        mnet_context_run(ctx, c->batch, x, y);
    double flushed = -1.0;   /* -1: no memory to flush the caches with */
    if (flush_caches()) {
        const double t2 = now_ms();
        mnet_context_run(ctx, c->batch, x, y);
        flushed = now_ms() - t2;
    }
    const double images = (double)c->batch;
    mnet_bench_set_counter(st, "images_per_s", images, MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE);
    mnet_bench_set_counter(st, "GFLOPS", 2.0 * (double)info.macs * images * 1e-9,
            MNET_BENCH_COUNTER_PER_ITERATION | MNET_BENCH_COUNTER_RATE);
    mnet_bench_set_counter(st, "cold_ms", cold, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "flushed_ms", flushed, MNET_BENCH_COUNTER_DEFAULT);
    mnet_bench_set_counter(st, "context_ms", t1 - t0, MNET_BENCH_COUNTER_DEFAULT);
    mnet_context_free(ctx);
    free(x);
    free(y);
}

int main(int argc, char **argv)
{
    static const mnet_arch arches[] = { MNET_ARCH_V1, MNET_ARCH_V2, MNET_ARCH_V3_LARGE,
        MNET_ARCH_V3_SMALL };
    static const char *const arch_names[] = { "?", "v1", "v2", "v3-large", "v3-small" };
    static const float alphas[] = { 0.5f, 1.0f };
    static const int resolutions[] = { 128, 160, 224 }, threads[] = { 1, 2 }, batches[] = { 1, 8 };
    static model_case cases[4 * 2 * 3 * 2 * 2];
    int n = 0;
    char name[128];
    const mnet_bench_options opt = { .use_real_time = 1, .time_unit = 'm' };
    for (int a = 0; a < 4; a++)
        for (int al = 0; al < 2; al++)
            for (int r = 0; r < 3; r++)
                for (int b = 0; b < 2; b++)
                    for (int t = 0; t < 2; t++) {
                        cases[n] = (model_case){ arches[a], alphas[al], resolutions[r], threads[t],
                            batches[b] };
                        snprintf(name, sizeof name, "model/%s-%.1f-%d/threads:%d/batch:%d",
                                arch_names[arches[a]], alphas[al], resolutions[r], threads[t], batches[b]);
                        mnet_bench_register(name, bench_model, &cases[n], &opt);
                        n++;
                    }
    mnet_bench_add_context("mnet_version", mnet_version_string());
    mnet_bench_add_context("mnet_isa_selected", mnet_isa_name(mnet_isa_selected()));
    const int rc = mnet_bench_main(argc, argv);
    mnet_model_free(g_model.m);
    if (g_flush)
        munmap(g_flush, EVICT_BYTES);
    return rc;
}
