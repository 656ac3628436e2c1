/* test_pool_steal.c - lib/pool.c's publisher running the parts whose workers have not started
 * them by the time its own part is done (see the top of pool.c), made certain rather than left
 * to the scheduler: pool.c is compiled into this file with a hook (POOL_BEFORE_CLAIM) that holds
 * every worker just before it claims its part until the test opens a gate.  With the gate shut
 * the publisher must run every part of every task itself, each exactly once and in order; once
 * the gate opens, the workers must give up the tasks they were held on (the publisher ran those)
 * and take their parts of the next tasks again. */
#define _GNU_SOURCE
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

static atomic_int gate_open;   /* 0: a worker waits here before it claims its part */
static atomic_int held;        /* workers waiting at the gate now */

static void gate(void)
{
    if (atomic_load(&gate_open))
        return;
    atomic_fetch_add(&held, 1);
    while (!atomic_load(&gate_open)) {
        const struct timespec ts = { 0, 50 * 1000 };
        nanosleep(&ts, NULL);
    }
    atomic_fetch_sub(&held, 1);
}

#define POOL_BEFORE_CLAIM(pool, t) gate()
#include "../lib/pool.c"

#include "check_run.h"

#define MAX_PARTS 4
#define SHUT_TASKS 100
#define OPEN_TASKS 200

typedef struct {
    long seq;                          /* the task's number, written by the publisher */
    pthread_t publisher;
    int threads;
    long done[MAX_PARTS];              /* per part: the last task it finished */
    atomic_long ran[MAX_PARTS];        /* per part: tasks run */
    atomic_long by_publisher[MAX_PARTS];
    atomic_int bad;                    /* a part ran out of order, or twice */
    int wait_for_workers;              /* part 0 returns only once the others are done */
} job;

/* (now_s is pool.c's) */

static void task(void *arg, int part, int parts)
{
    job *j = arg;
    (void)parts;
    if (j->done[part] != j->seq - 1)
        atomic_fetch_add(&j->bad, 1);
    if (pthread_equal(pthread_self(), j->publisher))
        atomic_fetch_add(&j->by_publisher[part], 1);
    if (part == 0 && j->wait_for_workers) {
        /* the publisher is busy here, so the parts can only be taken by their workers (at most
         * 2 s, then the test fails on the counts below rather than hang) */
        const double end = now_s() + 2.0;
        for (int t = 1; t < j->threads; t++)
            while (atomic_load(&j->ran[t]) < j->seq && now_s() < end)
                sched_yield();
    }
    j->done[part] = j->seq;
    atomic_fetch_add(&j->ran[part], 1);
}

START_TEST(test_steal)
{
    const int threads = 2 + _i;   /* 2, 3 and 4 */
    atomic_store(&gate_open, 0);
    atomic_store(&held, 0);
    mnet_pool *p = mnet_pool_create(threads);
    ck_assert_ptr_nonnull(p);
    job j = { .seq = 0, .publisher = pthread_self(), .threads = threads };
    for (int i = 0; i < MAX_PARTS; i++) {
        atomic_init(&j.ran[i], 0);
        atomic_init(&j.by_publisher[i], 0);
        j.done[i] = 0;
    }
    atomic_init(&j.bad, 0);

    /* The gate shut: every part of every task on the publisher, each once, all done by the
     * return. */
    for (j.seq = 1; j.seq <= SHUT_TASKS; j.seq++) {
        mnet_pool_run(p, task, &j);
        for (int i = 0; i < threads; i++)
            ck_assert_int_eq(j.done[i], j.seq);
    }
    for (int i = 0; i < threads; i++) {
        ck_assert_int_eq(atomic_load(&j.ran[i]), SHUT_TASKS);
        ck_assert_int_eq(atomic_load(&j.by_publisher[i]), SHUT_TASKS);
    }
    ck_assert_int_eq(mnet_pool_steals(p), (long)SHUT_TASKS * (threads - 1));
    /* and the workers did see tasks: each is held at the gate (within 2 s) */
    const double end = now_s() + 2.0;
    while (atomic_load(&held) < threads - 1 && now_s() < end)
        sched_yield();
    ck_assert_int_eq(atomic_load(&held), threads - 1);

    /* The gate open: the held workers find their tasks taken and go on to the next ones, whose
     * parts they take while the publisher is busy in part 0. */
    atomic_store(&gate_open, 1);
    j.wait_for_workers = 1;
    for (long t = 1; t <= OPEN_TASKS; t++, j.seq++) {
        mnet_pool_run(p, task, &j);
        for (int i = 0; i < threads; i++)
            ck_assert_int_eq(j.done[i], j.seq);
    }
    for (int i = 0; i < threads; i++)
        ck_assert_int_eq(atomic_load(&j.ran[i]), SHUT_TASKS + OPEN_TASKS);
    for (int i = 1; i < threads; i++)   /* not one more part on the publisher */
        ck_assert_int_eq(atomic_load(&j.by_publisher[i]), SHUT_TASKS);
    ck_assert_int_eq(mnet_pool_steals(p), (long)SHUT_TASKS * (threads - 1));
    ck_assert_int_eq(atomic_load(&j.bad), 0);
    mnet_pool_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool-steal");
    TCase *tc = tcase_create("steal");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_steal, 0, 3);
    suite_add_tcase(s, tc);
    return check_run(s);
}
