/* test_dlcycle.c LIBMNET [CYCLES] - dlopen libmnet.so.0, run one inference, dlclose, 1000 times:
 * resident memory grows < 1 MB (after a warm-up), open file descriptors and the thread count
 * return to their baseline.  No -lmnet: everything through dlsym.  The ASan build runs it under
 * LeakSanitizer too. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mnet.h"
#include "rss.h"

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* One cycle; 0 on success. */
static int cycle(const char *path)
{
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    mnet_status (*create)(mnet_arch, float, int, int, uint64_t, mnet_model **) =
        (mnet_status (*)(mnet_arch, float, int, int, uint64_t, mnet_model **))dlsym(lib, "mnet_model_create_random");
    mnet_status (*ctx_create)(const mnet_model *, const mnet_options *, mnet_context **) =
        (mnet_status (*)(const mnet_model *, const mnet_options *, mnet_context **))dlsym(lib, "mnet_context_create");
    mnet_status (*run)(mnet_context *, int, const float *, float *) =
        (mnet_status (*)(mnet_context *, int, const float *, float *))dlsym(lib, "mnet_context_run");
    void (*ctx_free)(mnet_context *) = (void (*)(mnet_context *))dlsym(lib, "mnet_context_free");
    void (*model_free)(mnet_model *) = (void (*)(mnet_model *))dlsym(lib, "mnet_model_free");
    void (*defaults)(mnet_options *) = (void (*)(mnet_options *))dlsym(lib, "mnet_options_default");
    int rc = 1;
    if (create && ctx_create && run && ctx_free && model_free && defaults) {
        mnet_model *m = NULL;
        mnet_context *c = NULL;
        mnet_options o;
        defaults(&o);
        o.num_threads = 2;   /* a worker thread is started and joined every cycle */
        static float x[32 * 32 * 3], y[4];
        if (create(MNET_ARCH_V1, 0.01f, 32, 4, 1, &m) == MNET_OK &&
                ctx_create(m, &o, &c) == MNET_OK && run(c, 1, x, y) == MNET_OK)
            rc = 0;
        ctx_free(c);
        model_free(m);
    }
    dlclose(lib);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_dlcycle LIBMNET [CYCLES]\n");
        return 2;
    }
    const int cycles = argc > 2 ? atoi(argv[2]) : 1000, warm = cycles / 10;
    const int fds0 = count_dir("/proc/self/fd"), threads0 = count_dir("/proc/self/task");
    int bad = 0;
    for (int i = 0; i < warm; i++)
        bad += cycle(argv[1]);
    const long rss0 = rss_kb();
    for (int i = warm; i < cycles; i++)
        bad += cycle(argv[1]);
    const long growth = rss_kb() - rss0;
    const int fds = count_dir("/proc/self/fd"), threads = count_dir("/proc/self/task");
    printf("%d cycles: RSS %+ld KB after the first %d, fds %d -> %d, threads %d -> %d, %d failed cycles\n",
            cycles, growth, warm, fds0, fds, threads0, threads, bad);
    int failed = 0;
    failed += bad != 0;
#ifdef __SANITIZE_ADDRESS__
    /* ASan holds freed memory in its quarantine, so RSS says nothing here; LeakSanitizer checks
     * for leaks at exit instead. */
    (void)growth;
#else
    failed += growth >= 1024;
#endif
    failed += fds != fds0;
    failed += threads != threads0;
    printf("%d passed, %d failed\n", 4 - failed, failed);
    return failed ? 1 : 0;
}
