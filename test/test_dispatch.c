/* test_dispatch.c - which tier the dispatcher picks, as meson expects it for this CPU and MNET_ISA.
 *
 * Environment (set by test/meson.build):
 *   MNET_EXPECT_ISA        scalar|avx2|neon: what mnet_isa_selected() must return
 *   MNET_EXPECT_AVAILABLE  comma-separated tiers mnet_isa_available() must report (optional)
 *   MNET_EXPECT_WARNING    1 if the library must warn about MNET_ISA on stderr, 0 if it must not
 *   MNET_ISA               the variable under test (may be unset)
 * Exit status 0 when every expectation holds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect_isa.h"
#include "mnet.h"

static int g_failures;

#define EXPECT(cond, ...) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr); \
            g_failures++; \
        } \
    } while (0)

/* The dispatcher initialises on the first call: run it with stderr sent to a file and return
 * what it printed. */
static char *first_call_stderr(mnet_isa *selected)
{
    static char text[4096];
    FILE *capture = tmpfile();
    if (!capture) {
        perror("tmpfile");
        exit(2);
    }
    fflush(stderr);
    const int saved = dup(STDERR_FILENO);
    if (saved < 0 || dup2(fileno(capture), STDERR_FILENO) < 0) {
        perror("dup");
        exit(2);
    }
    *selected = mnet_isa_selected();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(capture);
    const size_t n = fread(text, 1, sizeof text - 1, capture);
    text[n] = '\0';
    fclose(capture);
    return text;
}

static int listed(const char *list, const char *name)
{
    const size_t len = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += len)
        if ((p == list || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
            return 1;
    return 0;
}

int main(void)
{
    const char *expect = expect_isa(getenv("MNET_EXPECT_ISA"));
    const char *expect_avail = expect_available(getenv("MNET_EXPECT_AVAILABLE"));
    const char *expect_warn = getenv("MNET_EXPECT_WARNING");
    const char *env = getenv("MNET_ISA");
    if (!expect) {
        fprintf(stderr, "test_dispatch: MNET_EXPECT_ISA must be set (scalar|avx2|avx512|neon|best)\n");
        return 2;
    }

    mnet_isa selected;
    const char *warning = first_call_stderr(&selected);
    printf("MNET_ISA=%s: selected %s; stderr: \"%s\"\n", env ? env : "(unset)",
            mnet_isa_name(selected), warning);

    EXPECT(strcmp(mnet_isa_name(selected), expect) == 0, "selected '%s', expected '%s'",
            mnet_isa_name(selected), expect);
    EXPECT(selected != MNET_ISA_AUTO, "the selected tier must be a concrete tier");
    EXPECT(mnet_isa_selected() == selected, "the selection changed between calls");
    EXPECT(mnet_isa_available(selected), "the selected tier '%s' is not available",
            mnet_isa_name(selected));
    EXPECT(mnet_isa_available(MNET_ISA_SCALAR), "scalar must always be available");
    EXPECT(mnet_isa_available(MNET_ISA_AUTO), "auto must always be available");
    EXPECT(!(mnet_isa_available(MNET_ISA_AVX2) && mnet_isa_available(MNET_ISA_NEON)),
            "AVX2 and NEON cannot both be available");
    EXPECT(!(mnet_isa_available(MNET_ISA_AVX512) && !mnet_isa_available(MNET_ISA_AVX2)),
            "AVX-512 cannot be available without AVX2");
    EXPECT(!mnet_isa_available((mnet_isa)5) && !mnet_isa_available((mnet_isa)-1),
            "an out-of-range tier is available");

    /* Availability does not depend on MNET_ISA: an explicit tier runs whenever it exists. */
    for (int t = MNET_ISA_SCALAR; t <= MNET_ISA_AVX512; t++) {
        const mnet_isa isa = (mnet_isa)t;
        const int avail = mnet_isa_available(isa);
        if (expect_avail)
            EXPECT(avail == listed(expect_avail, mnet_isa_name(isa)),
                    "mnet_isa_available(%s) = %d, expected tiers '%s'", mnet_isa_name(isa), avail,
                    expect_avail);
        const float a[2] = { 1.5f, -2.0f }, b[2] = { 0.25f, 3.0f };
        float out[2] = { 0.0f, 0.0f };
        const mnet_status st = mnet_add_f32(isa, 2, a, b, -INFINITY, INFINITY, out);
        EXPECT(st == (avail ? MNET_OK : MNET_ERR_UNSUPPORTED), "add on %s returned %s",
                mnet_isa_name(isa), mnet_status_string(st));
        if (avail)
            EXPECT(out[0] == 1.75f && out[1] == 1.0f, "add on %s computed %g %g",
                    mnet_isa_name(isa), (double)out[0], (double)out[1]);
    }

    /* MNET_ISA only lowers: never above what is available, and a bad value warns. */
    const int warned = strstr(warning, "MNET_ISA") != NULL;
    if (expect_warn)
        EXPECT(warned == (strcmp(expect_warn, "1") == 0), "warning expected: %s; stderr was \"%s\"",
                expect_warn, warning);
    if (env && strcmp(env, "scalar") == 0)
        EXPECT(selected == MNET_ISA_SCALAR, "MNET_ISA=scalar selected %s", mnet_isa_name(selected));

    if (g_failures) {
        fprintf(stderr, "test_dispatch: %d expectation(s) failed\n", g_failures);
        return 1;
    }
    printf("test_dispatch: ok\n");
    return 0;
}
