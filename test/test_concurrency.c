/* test_concurrency.c - mnet under threads: one shared model with 4 caller threads x 200
 * inferences (bit-identical to runs alone), multi-threaded contexts driven from several caller
 * threads, models and contexts created and freed concurrently, the thread count of a context
 * (num_threads = 1 creates none; freeing joins them all), and idle workers using no CPU.
 * Plain C (no fork), so ThreadSanitizer sees everything; tools/test-all.sh also runs it in a
 * -Db_sanitize=thread build. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mnet.h"
#include "test_env.h"

static int g_pass, g_fail;
#define EXPECT(cond, ...) do { if (cond) g_pass++; else { g_fail++; \
    fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); \
    fputc('\n', stderr); } } while (0)

#define RES 64
#define CLASSES 10
#define IMG (RES * RES * 3)
#define NINPUT 8

static mnet_model *g_model;
static float g_in[NINPUT][IMG], g_ref[NINPUT][CLASSES];

static mnet_context *make_context(const mnet_model *m, int threads)
{
    mnet_options o;
    mnet_options_default(&o);
    o.num_threads = threads;
    mnet_context *c = NULL;
    if (mnet_context_create(m, &o, &c) != MNET_OK)
        fprintf(stderr, "context: %s\n", mnet_last_error());
    return c;
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

typedef struct {
    int index, threads, rounds, mismatches, errors;
} worker;

/* Each caller thread: its own context, `rounds` inferences cycling through the inputs. */
static void *run_worker(void *p)
{
    worker *w = p;
    mnet_context *c = make_context(g_model, w->threads);
    if (!c) {
        w->errors++;
        return NULL;
    }
    float y[CLASSES];
    for (int r = 0; r < w->rounds; r++) {
        const int i = (w->index + r) % NINPUT;
        if (mnet_context_run(c, 1, g_in[i], y) != MNET_OK)
            w->errors++;
        else if (memcmp(y, g_ref[i], sizeof y) != 0)
            w->mismatches++;
    }
    mnet_context_free(c);
    return NULL;
}

static void run_workers(int n, int threads, int rounds, const char *what)
{
    pthread_t t[8];
    worker w[8];
    for (int i = 0; i < n; i++) {
        w[i] = (worker){ i, threads, rounds, 0, 0 };
        pthread_create(&t[i], NULL, run_worker, &w[i]);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        EXPECT(w[i].errors == 0 && w[i].mismatches == 0, "%s: caller thread %d: %d errors, %d "
                "results differ from the run alone", what, i, w[i].errors, w[i].mismatches);
    }
}

/* Models and contexts created, used and freed by several threads at once. */
static void *churn(void *p)
{
    int *bad = p;
    for (int r = 0; r < 6; r++) {
        mnet_model *m = NULL;
        if (mnet_model_create_random(r % 2 ? MNET_ARCH_V1 : MNET_ARCH_V2, 0.25f, 32, 3,
                (uint64_t)r, &m) != MNET_OK) {
            (*bad)++;
            continue;
        }
        mnet_context *c = make_context(m, 1 + r % 2);
        float x[32 * 32 * 3] = { 0 }, y[3];
        if (!c || mnet_context_run(c, 1, x, y) != MNET_OK)
            (*bad)++;
        mnet_context_free(c);
        mnet_model_free(m);
    }
    return NULL;
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void)
{
    if (mnet_model_create_random(MNET_ARCH_V2, 0.35f, RES, CLASSES, 11, &g_model) != MNET_OK) {
        fprintf(stderr, "model: %s\n", mnet_last_error());
        return 1;
    }
    for (int i = 0; i < NINPUT; i++)
        for (int j = 0; j < IMG; j++)
            g_in[i][j] = (float)((j * 7 + i * 131) % 255) / 64.0f - 2.0f;
    /* References: each input run alone in a fresh single-threaded context. */
    for (int i = 0; i < NINPUT; i++) {
        mnet_context *c = make_context(g_model, 1);
        EXPECT(c && mnet_context_run(c, 1, g_in[i], g_ref[i]) == MNET_OK, "reference %d", i);
        mnet_context_free(c);
    }

    run_workers(4, 1, 200, "4 threads x 200 on one model");
    run_workers(3, 2, 40, "3 callers with 2-thread contexts");

    pthread_t t[3];
    int bad[3] = { 0 };
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, churn, &bad[i]);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        EXPECT(bad[i] == 0, "concurrent create/run/free: thread %d had %d failures", i, bad[i]);
    }

    /* Threads: none for num_threads = 1, num_threads - 1 otherwise, all joined by free.  Under
     * a user-mode emulator (the cross build's qemu, MNET_TEST_EMULATED=1) /proc/self/task holds
     * the emulator's own threads too, so only the results are checked there. */
    const int native = !test_emulated();
    const int base = count_threads();
    mnet_context *c1 = make_context(g_model, 1);
    EXPECT(!native || count_threads() == base, "num_threads = 1 started %d threads",
            count_threads() - base);
    mnet_context *c3 = make_context(g_model, 3);
    EXPECT(!native || count_threads() == base + 2, "num_threads = 3 started %d threads, expected 2",
            count_threads() - base);
    float y[CLASSES];
    EXPECT(mnet_context_run(c3, 1, g_in[0], y) == MNET_OK && memcmp(y, g_ref[0], sizeof y) == 0,
            "3-thread context result");
    /* Idle workers sleep: over 300 ms of idleness the process uses almost no CPU. */
    const double cpu0 = cpu_seconds();
    const struct timespec idle = { 0, 300 * 1000 * 1000 };
    nanosleep(&idle, NULL);
    const double idle_cpu = cpu_seconds() - cpu0;
    EXPECT(!native || idle_cpu < 0.05, "idle context used %.1f ms of CPU in 300 ms", idle_cpu * 1e3);
    mnet_context_free(c3);
    mnet_context_free(c1);
    EXPECT(!native || count_threads() == base, "after free: %d threads left over",
            count_threads() - base);

    mnet_model_free(g_model);
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
