/* one_cpu.h - confine the calling thread to the CPU it runs on now (threads it creates afterwards
 * inherit that), for the tests of a pool whose threads share one CPU.  The including file defines
 * _GNU_SOURCE before its first include. */
#ifndef MNET_ONE_CPU_H
#define MNET_ONE_CPU_H

#include <check.h>
#include <sched.h>

/* Saves the thread's affinity in *old (give it back with sched_setaffinity) and returns the
 * CPU it is now confined to. */
static inline int confine_to_this_cpu(cpu_set_t *old)
{
    cpu_set_t one;
    ck_assert_int_eq(sched_getaffinity(0, sizeof *old, old), 0);
    const int cpu = sched_getcpu();
    ck_assert_int_ge(cpu, 0);
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
    return cpu;
}

#endif /* MNET_ONE_CPU_H */
