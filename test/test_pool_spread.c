/* test_pool_spread.c - the decision of lib/pool.c's spread(), a worker moving itself off a CPU
 * another part's thread started on, tested on its own: pool.c is compiled into this file so that
 * the test can set where each part's thread last started (part_state.cpu) and watch every
 * affinity change spread makes, instead of waiting for the scheduler to put two threads on one
 * CPU (it does so only now and then, and on a loaded machine moves them apart itself; an
 * end-to-end test of that could not tell a move by the pool from one by the kernel).
 *
 * The affinity changes go to the kernel (the calling thread really moves) through a wrapper that
 * records each set and the CPU the thread runs on when the call returns; with the affinity
 * narrowed to one CPU the kernel guarantees that is the CPU, so the move is checked, not
 * assumed.  The wrapper can also make the call fail. */
#define _GNU_SOURCE
#include <check.h>
#include <sched.h>
#include <string.h>
#include <sys/types.h>

#define MAX_CALLS 8
static struct {
    int calls;                  /* sched_setaffinity calls made by spread */
    cpu_set_t set[MAX_CALLS];   /* what each asked for */
    int cpu_after[MAX_CALLS];   /* the CPU the thread ran on when it returned */
    int fail;                   /* 1: every call fails without changing anything */
} rec;
static int get_calls;           /* sched_getaffinity calls made by spread */

static int wrapped_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
    if (rec.calls < MAX_CALLS)
        rec.set[rec.calls] = *set;
    const int r = rec.fail ? -1 : sched_setaffinity(pid, size, set);
    if (rec.calls < MAX_CALLS)
        rec.cpu_after[rec.calls] = sched_getcpu();
    rec.calls++;
    return r;
}

static int wrapped_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
    get_calls++;
    return sched_getaffinity(pid, size, set);
}

#define sched_setaffinity wrapped_setaffinity
#define sched_getaffinity wrapped_getaffinity
#include "../lib/pool.c"
#undef sched_setaffinity
#undef sched_getaffinity

#include "check_run.h"

#define MAX_PARTS 3

typedef struct {
    mnet_pool p;
    part_state part[MAX_PARTS];
    cpu_set_t old;   /* the test thread's affinity before the test */
    int c0, c1;      /* two CPUs it may run on; it runs on c0 */
} fixture;

/* The test thread's affinity, now. */
static cpu_set_t affinity_now(void)
{
    cpu_set_t s;
    ck_assert_int_eq(sched_getaffinity(0, sizeof s, &s), 0);
    return s;
}

/* A pool of `threads` parts with no worker threads (spread is called by the test thread as
 * if it were part 1's worker), every part's CPU unknown; the test thread placed on c0 and its
 * affinity set to c0 alone, or with `both` to c0 and c1. */
static void setup(fixture *f, int threads, int both)
{
    memset(&rec, 0, sizeof rec);
    get_calls = 0;
    f->old = affinity_now();
    ck_assert_msg(CPU_COUNT(&f->old) >= 2, "needs two CPUs (has %d)", CPU_COUNT(&f->old));
    f->c0 = f->c1 = -1;
    for (int c = 0; c < CPU_SETSIZE && f->c1 < 0; c++)
        if (CPU_ISSET(c, &f->old)) {
            if (f->c0 < 0)
                f->c0 = c;
            else
                f->c1 = c;
        }
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(f->c0, &s);
    ck_assert_int_eq(sched_setaffinity(0, sizeof s, &s), 0);   /* now on c0 */
    ck_assert_int_eq(sched_getcpu(), f->c0);
    if (both) {
        CPU_SET(f->c1, &s);
        ck_assert_int_eq(sched_setaffinity(0, sizeof s, &s), 0);
    }
    memset(&f->p, 0, sizeof f->p);
    f->p.threads = threads;
    f->p.part = f->part;
    for (int t = 0; t < MAX_PARTS; t++) {
        f->part[t].busy = 0.0;
        atomic_init(&f->part[t].cpu, -1);
        f->part[t].stay = 0;
    }
    atomic_init(&f->p.moves, 0);
}

static void teardown(fixture *f)
{
    ck_assert_int_eq(sched_setaffinity(0, sizeof f->old, &f->old), 0);
}

/* Parts 0 and 1 last started on c0 (part 1 shares its CPU). */
static void both_on_c0(fixture *f)
{
    atomic_store(&f->part[0].cpu, f->c0);
    atomic_store(&f->part[1].cpu, f->c0);
}

START_TEST(test_spread_moves)
{
    /* Parts 0 and 1 started on c0, part 1 may run on c0 and c1: it moves to c1 (the affinity
     * narrowed to c1, the thread on c1 when that returns), and the affinity is given back. */
    fixture f;
    setup(&f, 2, 1);
    const cpu_set_t before = affinity_now();
    both_on_c0(&f);
    spread(&f.p, 1);
    ck_assert_int_eq(rec.calls, 2);
    cpu_set_t want;
    CPU_ZERO(&want);
    CPU_SET(f.c1, &want);
    ck_assert(CPU_EQUAL(&rec.set[0], &want));
    ck_assert_int_eq(rec.cpu_after[0], f.c1);        /* it moved */
    ck_assert(CPU_EQUAL(&rec.set[1], &before));       /* then given back */
    const cpu_set_t after = affinity_now();
    ck_assert(CPU_EQUAL(&after, &before));
    ck_assert_int_eq(atomic_load(&f.p.moves), 1);
    ck_assert_int_eq(f.part[1].stay, 0);             /* free to move again at the next task */
    ck_assert_int_ne(atomic_load(&f.part[1].cpu), -1);   /* where it now is, noted */
    teardown(&f);
}
END_TEST

START_TEST(test_spread_not_shared)
{
    /* Part 1 started on a CPU no other part started on, or where part 1 started is unknown:
     * no system call, no move. */
    fixture f;
    setup(&f, 2, 1);
    atomic_store(&f.part[0].cpu, f.c0);
    atomic_store(&f.part[1].cpu, f.c1);
    spread(&f.p, 1);
    atomic_store(&f.part[1].cpu, -1);
    spread(&f.p, 1);
    atomic_store(&f.part[0].cpu, -1);   /* two unknowns are not one CPU */
    spread(&f.p, 1);
    ck_assert_int_eq(rec.calls, 0);
    ck_assert_int_eq(get_calls, 0);
    ck_assert_int_eq(atomic_load(&f.p.moves), 0);
    teardown(&f);
}
END_TEST

START_TEST(test_spread_nowhere)
{
    /* Confined to c0 with part 0: no CPU to move to, so no move and no affinity change, and
     * the next 256 shared starts make no system call; the 257th looks again. */
    fixture f;
    setup(&f, 2, 0);
    both_on_c0(&f);
    spread(&f.p, 1);
    ck_assert_int_eq(get_calls, 1);
    ck_assert_int_eq(rec.calls, 0);
    ck_assert_int_eq(f.part[1].stay, 256);
    for (int i = 0; i < 256; i++)
        spread(&f.p, 1);
    ck_assert_int_eq(get_calls, 1);
    spread(&f.p, 1);
    ck_assert_int_eq(get_calls, 2);
    ck_assert_int_eq(rec.calls, 0);
    ck_assert_int_eq(atomic_load(&f.p.moves), 0);
    ck_assert_int_eq(sched_getcpu(), f.c0);
    teardown(&f);
}
END_TEST

START_TEST(test_spread_three_parts)
{
    /* Three parts on c0, c0 and c1, part 1 allowed c0 and c1: every CPU it may use has a part,
     * so it stays.  With part 2's CPU unknown instead, c1 is free and it moves there. */
    fixture f;
    setup(&f, 3, 1);
    both_on_c0(&f);
    atomic_store(&f.part[2].cpu, f.c1);
    spread(&f.p, 1);
    ck_assert_int_eq(rec.calls, 0);
    ck_assert_int_eq(f.part[1].stay, 256);
    f.part[1].stay = 0;
    atomic_store(&f.part[2].cpu, -1);
    spread(&f.p, 1);
    ck_assert_int_eq(rec.calls, 2);
    ck_assert_int_eq(rec.cpu_after[0], f.c1);
    ck_assert_int_eq(atomic_load(&f.p.moves), 1);
    teardown(&f);
}
END_TEST

START_TEST(test_spread_refused)
{
    /* The kernel refuses the narrowed affinity: no move counted, nothing given back that was
     * not taken, and it waits as when no CPU was free. */
    fixture f;
    setup(&f, 2, 1);
    const cpu_set_t before = affinity_now();
    both_on_c0(&f);
    rec.fail = 1;
    spread(&f.p, 1);
    ck_assert_int_eq(rec.calls, 1);
    ck_assert_int_eq(atomic_load(&f.p.moves), 0);
    ck_assert_int_eq(f.part[1].stay, 256);
    const cpu_set_t after = affinity_now();
    ck_assert(CPU_EQUAL(&after, &before));
    teardown(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool-spread");
    TCase *tc = tcase_create("spread");
    tcase_add_test(tc, test_spread_moves);
    tcase_add_test(tc, test_spread_not_shared);
    tcase_add_test(tc, test_spread_nowhere);
    tcase_add_test(tc, test_spread_three_parts);
    tcase_add_test(tc, test_spread_refused);
    suite_add_tcase(s, tc);
    return check_run(s);
}
