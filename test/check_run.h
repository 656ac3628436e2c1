/* check_run.h - runs a Check suite and turns its failures into the process's exit status (the
 * end of every Check test's main). */
#ifndef MNET_CHECK_RUN_H
#define MNET_CHECK_RUN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static inline int check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr), ran = srunner_ntests_run(sr);
    srunner_free(sr);
    /* CK_RUN_CASE / CK_RUN_SUITE naming nothing runs no test: a failure, not a pass */
    if (ran == 0)
        fprintf(stderr, "check_run: no test ran (CK_RUN_CASE=%s)\n",
                getenv("CK_RUN_CASE") ? getenv("CK_RUN_CASE") : "");
    return failed || ran == 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* MNET_CHECK_RUN_H */
