/* check_run.h - runs a Check suite and turns its failures into the process's exit status (the
 * end of every Check test's main). */
#ifndef MNET_CHECK_RUN_H
#define MNET_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* MNET_CHECK_RUN_H */
