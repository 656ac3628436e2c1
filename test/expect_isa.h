/* expect_isa.h - what the dispatcher must select on the CPU running the test.  meson passes
 * MNET_EXPECT_ISA=best (and MNET_EXPECT_AVAILABLE=best) for native runs, since the answer
 * depends on that CPU; it is worked out here with the compiler's own CPU detection, independent
 * of lib/cpu_x86.c, limited to the tiers this build carries (MNET_TEST_BUILT, e.g.
 * "scalar,avx2,avx512").  The qemu CPU-model runs name their tier explicitly. */
#ifndef MNET_TEST_EXPECT_ISA_H
#define MNET_TEST_EXPECT_ISA_H

#include <stdlib.h>
#include <string.h>

static inline int expect_listed(const char *list, const char *name)
{
    const size_t len = strlen(name);
    for (const char *p = list; p && (p = strstr(p, name)) != NULL; p += len)
        if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
            return 1;
    return 0;
}

/* The best tier: "avx512", "avx2", "neon" or "scalar". */
static inline const char *expect_best_isa(void)
{
    const char *built = getenv("MNET_TEST_BUILT");
#if defined(__x86_64__)
    __builtin_cpu_init();
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2 && __builtin_cpu_supports("avx512f") && expect_listed(built, "avx512"))
        return "avx512";
    if (avx2 && expect_listed(built, "avx2"))
        return "avx2";
#elif defined(__aarch64__)
    if (expect_listed(built, "neon"))
        return "neon";
#endif
    return "scalar";
}

/* MNET_EXPECT_ISA as a tier name ("best" resolved). */
static inline const char *expect_isa(const char *want)
{
    return want && strcmp(want, "best") == 0 ? expect_best_isa() : want;
}

/* MNET_EXPECT_AVAILABLE as a list ("best" = scalar and every tier up to the best). */
static inline const char *expect_available(const char *want)
{
    if (!want || strcmp(want, "best") != 0)
        return want;
    const char *best = expect_best_isa();
    if (strcmp(best, "avx512") == 0)
        return "scalar,avx2,avx512";
    if (strcmp(best, "avx2") == 0)
        return "scalar,avx2";
    if (strcmp(best, "neon") == 0)
        return "scalar,neon";
    return "scalar";
}

#endif /* MNET_TEST_EXPECT_ISA_H */
