/* test_dlopen.c - load libmnet.so.0 at run time (no -lmnet): resolve, run a GEMM, unload. */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mnet.h"   /* types only: this program is not linked with the library */

typedef mnet_status (*gemm_fn)(mnet_isa, int, int, int, const float *, const float *,
        const float *, float, float, float *);
typedef mnet_isa (*selected_fn)(void);
typedef const char *(*status_string_fn)(mnet_status);

static int fail(const char *what)
{
    fprintf(stderr, "test_dlopen: %s\n", what);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return fail("usage: test_dlopen /path/to/libmnet.so.0");
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "test_dlopen: dlopen(%s): %s\n", argv[1], dlerror());
        return 1;
    }
    gemm_fn gemm;
    selected_fn selected;
    status_string_fn status_string;
    /* dlsym returns void *: copy its bits into the function pointers (POSIX guarantees this) */
    void *sym = dlsym(lib, "mnet_gemm_f32");
    memcpy(&gemm, &sym, sizeof sym);
    sym = dlsym(lib, "mnet_isa_selected");
    memcpy(&selected, &sym, sizeof sym);
    sym = dlsym(lib, "mnet_status_string");
    memcpy(&status_string, &sym, sizeof sym);
    if (!gemm || !selected || !status_string)
        return fail("a public symbol did not resolve");
    /* Internal symbols are hidden: a kernel or a table must not resolve. */
    if (dlsym(lib, "mnet_kernels_for") || dlsym(lib, "mnet_f32_gemm_minmax_4x4__scalar") ||
            dlsym(lib, "mnet_gemm_run"))
        return fail("an internal symbol is exported");

    const mnet_isa isa = selected();
    if (isa < MNET_ISA_SCALAR || isa > MNET_ISA_AVX512)
        return fail("mnet_isa_selected returned an out-of-range tier");
    const char *ok = status_string(MNET_OK);
    if (!ok || !*ok || strcmp(ok, status_string(MNET_ERR_ARG)) == 0)
        return fail("mnet_status_string is not sensible");

    /* c = a * b + bias over m=3 n=5 k=4, clamped to [-4, 4]: small integers, exact in float */
    enum { M = 3, N = 5, K = 4 };
    float a[M * K], b[K * N], bias[N], c[M * N];
    for (int i = 0; i < M * K; i++)
        a[i] = (float)(i % 5 - 2);
    for (int i = 0; i < K * N; i++)
        b[i] = (float)(i % 3 - 1);
    for (int j = 0; j < N; j++)
        bias[j] = (float)j * 0.5f;
    const mnet_status st = gemm(MNET_ISA_AUTO, M, N, K, a, b, bias, -4.0f, 4.0f, c);
    if (st != MNET_OK) {
        fprintf(stderr, "test_dlopen: mnet_gemm_f32: %s\n", status_string(st));
        return 1;
    }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float want = bias[j];
            for (int k = 0; k < K; k++)
                want += a[i * K + k] * b[k * N + j];
            want = fminf(fmaxf(want, -4.0f), 4.0f);
            if (c[i * N + j] != want) {
                fprintf(stderr, "test_dlopen: c[%d][%d] = %g, expected %g\n", i, j,
                        (double)c[i * N + j], (double)want);
                return 1;
            }
        }
    if (dlclose(lib) != 0) {
        fprintf(stderr, "test_dlopen: dlclose: %s\n", dlerror());
        return 1;
    }
    printf("test_dlopen: %s ok (ISA %d)\n", argv[1], (int)isa);
    return 0;
}
