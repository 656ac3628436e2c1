/* test_env.h - what a test learns from the environment test/meson.build gives it. */
#ifndef MNET_TEST_ENV_H
#define MNET_TEST_ENV_H

#include <stdlib.h>

/* Whether the tests run under a user-mode emulator (MNET_TEST_EMULATED=1, set for cross builds;
 * empty natively). */
static inline int test_emulated(void)
{
    const char *e = getenv("MNET_TEST_EMULATED");
    return e && *e;
}

#endif /* MNET_TEST_ENV_H */
