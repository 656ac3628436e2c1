/* pool.c - persistent workers for one context.  A task is published by bumping a generation
 * counter; workers spin briefly on it (a MobileNet inference publishes ~50 tasks back to back,
 * and a futex wake per layer would cost more than small layers take), then block on a condition
 * variable, so an idle context uses no CPU.  Freeing the pool joins the workers.
 *
 * Two threads of the pool on one CPU.  The scheduler may put a worker on the CPU of the thread
 * that waits for it (a process given fewer CPUs than threads, or, on this project's 2-vCPU VM,
 * for a few hundred milliseconds now and then), and a thread spinning with `pause` for the other
 * then holds the CPU that other needs until its time slice ends: every task cost milliseconds,
 * and a two-thread V1 0.5 224 inference took 5-8 ms instead of 1 (measured).  So a spinning
 * thread looks every SPIN_CHECK iterations at the CPU the thread it waits for last ran on
 * (sched_getcpu, a few ns), and while that is its own CPU it yields instead of pausing.
 *
 * And a worker that starts a task on a CPU another part's thread started its own on moves
 * itself off it, when the threads may run on a CPU no part uses (see spread): the scheduler
 * wakes a sleeping worker on its waker's CPU now and then and moves it away only after a few
 * hundred tasks.  Measured on the 2-vCPU VM: a process's first two-thread V2 160 inference
 * took 2.6-2.9x its median in about half of the runs that followed an ONNX Runtime run, its
 * threads on one vCPU for its first 80-280 tasks.
 *
 * And a part no worker has started by the time the publisher has finished its own, the publisher
 * runs itself.  Each part is claimed for a task by one compare-and-swap (part_state.claim, the
 * task's generation), by its worker when it sees the task or by the publisher when it is done with
 * part 0, so exactly one thread runs it.  A worker that has not started its part by then is
 * asleep, still waking (on this project's VMs waking an idle vCPU took up to milliseconds), or
 * off its CPU, which another process or the host has taken: it could not finish sooner than the
 * publisher can.  Without this, two-thread V2 with a busy loop of another process on one of the
 * two vCPUs took 7.9-9.0 ms at the median (first inferences 7.4-18 ms), against 6.3 ms on one
 * thread.  A worker that finds its part taken waits for the next task. */
#define _GNU_SOURCE   /* sched_getcpu, sched_setaffinity */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "pool.h"

/* Spin iterations before sleeping: about 50-100 us of pause/yield instructions.  test_pool
 * also builds this file with a spin of a few iterations, so that nearly every handshake takes
 * the sleeping paths. */
#ifndef SPIN_ITERATIONS
#define SPIN_ITERATIONS 4000
#endif
/* Spin iterations between two looks at where the awaited thread runs (a power of two); the
 * first 4 * SPIN_CHECK take none, so the short waits of two threads on two CPUs (most of them)
 * cost nothing more than the pause (with a look from the first iteration on, two-thread V2 took
 * about 1% longer). */
#define SPIN_CHECK 64

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

typedef struct {
    mnet_pool *pool;
    int index;
} worker_arg;

/* A part's state, in three cache lines by who writes them and how often: a line one core writes
 * while another reads it moves between the two cores (about 250 ns each way on this project's
 * VMs), and a worker that must first fetch such a line starts its part that much later.  So
 * `cpu`, which the other parts' threads read at every task (spread), is alone in its line and
 * written only when it changes; `busy`, written at every task, is read by no other thread
 * during a run; and `claim`, which the publisher reads after its own part, the worker takes
 * back for writing once its part is done (see worker). */
typedef struct {
    _Alignas(64) atomic_ulong claim;   /* the last task (generation) whose part this is that a
                                          thread took: its worker, or the publisher (see claim) */
    _Alignas(64) double busy;  /* seconds in fn (its own thread; read between runs) */
    int stay;                  /* spread: tasks left before the worker looks again for a CPU
                                  to move to, after it found none (own thread only) */
    _Alignas(64) atomic_int cpu;   /* the CPU the part's thread last started on, or -1 */
} part_state;

struct mnet_pool {
    int threads;
    pthread_t *tid;
    worker_arg *args;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_ulong generation;   /* bumped once per task, after fn/arg are written */
    atomic_int pending;        /* workers still running the current task */
    atomic_int stop;
    atomic_int sleepers;       /* workers blocked (or about to block) on `wake` */
    atomic_int waiting;        /* 1 while the publisher blocks (or is about to) on `done` */
    atomic_int started;        /* workers that have entered their loop */
    atomic_int moves;          /* times a worker moved itself to another CPU (spread;
                                  test_pool_spread.c reads it) */
    atomic_long steals;        /* parts the publisher ran for a worker (mnet_pool_steals) */
    mnet_task_fn fn;
    void *arg;
    part_state *part;          /* [threads] */
};

/* The CPU the calling thread runs on, -1 if unknown. */
static int this_cpu(void)
{
#ifdef __linux__
    return sched_getcpu();
#else
    return -1;
#endif
}

/* Note that part t's thread runs on this CPU now.  Stored only when it changed: a store would
 * take the line from the other cores, which read it while they spin. */
static void note_cpu(mnet_pool *p, int t)
{
    const int me = this_cpu();
    if (atomic_load_explicit(&p->part[t].cpu, memory_order_relaxed) != me)
        atomic_store_explicit(&p->part[t].cpu, me, memory_order_relaxed);
}

/* Move the calling worker, part t, off a CPU another part's thread last started on, to one
 * no part's thread uses, if its affinity allows one: the affinity narrowed to those CPUs, which
 * migrates the thread at once, then given back as it was, so that nothing stays pinned and
 * the caller's own affinity (taskset, cgroups) still rules where the threads may go. */
static void spread(mnet_pool *p, int t)
{
#ifdef __linux__
    const int me = atomic_load_explicit(&p->part[t].cpu, memory_order_relaxed);
    int shared = 0;
    for (int u = 0; me >= 0 && u < p->threads; u++)
        shared |= u != t && atomic_load_explicit(&p->part[u].cpu, memory_order_relaxed) == me;
    if (!shared || p->part[t].stay-- > 0)
        return;
    /* Not found (a process confined to fewer CPUs than threads): no system calls for the next
     * 256 tasks (with them at every task, V2 on two threads confined to one CPU took 2% longer) */
    p->part[t].stay = 256;
    cpu_set_t allowed, away;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    away = allowed;
    for (int u = 0; u < p->threads; u++) {
        const int c = atomic_load_explicit(&p->part[u].cpu, memory_order_relaxed);
        if (c >= 0 && c < CPU_SETSIZE)
            CPU_CLR(c, &away);
    }
    if (CPU_COUNT(&away) == 0 || sched_setaffinity(0, sizeof away, &away) != 0)
        return;
    sched_setaffinity(0, sizeof allowed, &allowed);
    p->part[t].stay = 0;
    atomic_fetch_add_explicit(&p->moves, 1, memory_order_relaxed);
    note_cpu(p, t);
#else
    (void)p;
    (void)t;
#endif
}

/* One wait step of a spin that waits for the threads of parts [first, last]: a yield when one of
 * them last ran on this CPU (checked every SPIN_CHECK iterations; see the top of the file), else
 * a pause. */
static void spin_step(mnet_pool *p, int i, int first, int last)
{
    if (i >= 4 * SPIN_CHECK && (i & (SPIN_CHECK - 1)) == SPIN_CHECK - 1) {
        const int me = this_cpu();
        for (int t = first; me >= 0 && t <= last; t++)
            if (atomic_load_explicit(&p->part[t].cpu, memory_order_relaxed) == me) {
                sched_yield();
                return;
            }
    }
    cpu_relax();
}

/* Take part t of task g (a generation) for the calling thread: 1 if it now runs it, 0 if
 * another thread took it (or a later task's) first. */
static int claim(mnet_pool *p, int t, unsigned long g)
{
    unsigned long c = atomic_load_explicit(&p->part[t].claim, memory_order_relaxed);
    while (c < g)
        if (atomic_compare_exchange_weak_explicit(&p->part[t].claim, &c, g,
                memory_order_acq_rel, memory_order_relaxed))
            return 1;
    return 0;
}

/* Tests: a hook the worker passes just before it claims its part (test_pool_steal.c). */
#ifndef POOL_BEFORE_CLAIM
#define POOL_BEFORE_CLAIM(pool, t) ((void)0)
#endif

/* Part `part` of the current task, timed. */
static void run_part(mnet_pool *p, int part)
{
    const double t0 = now_s();
    p->fn(p->arg, part, p->threads);
    p->part[part].busy += now_s() - t0;
}

static void *worker(void *p)
{
    const worker_arg *wa = p;
    mnet_pool *pool = wa->pool;
    unsigned long seen = 0;
    atomic_fetch_add(&pool->started, 1);
    for (;;) {
        for (int i = 0; i < SPIN_ITERATIONS; i++) {
            if (atomic_load_explicit(&pool->generation, memory_order_acquire) != seen ||
                    atomic_load_explicit(&pool->stop, memory_order_relaxed))
                break;
            spin_step(pool, i, 0, 0);   /* waits for the publisher (part 0) */
        }
        if (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen) {
            pthread_mutex_lock(&pool->mu);
            /* Announce the sleep, then re-check (both sequentially consistent): a publisher
             * bumps the generation before it reads `sleepers`, so either it sees this worker
             * and broadcasts under the lock, or this worker sees the new generation. */
            atomic_fetch_add(&pool->sleepers, 1);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->mu);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->stop))
            break;
        seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        note_cpu(pool, wa->index);
        spread(pool, wa->index);
        POOL_BEFORE_CLAIM(pool, wa->index);
        /* fn and arg are this task's once its part is claimed: the publisher writes the next
         * task's only after this part is done */
        if (!claim(pool, wa->index, seen))
            continue;   /* the publisher ran it */
        run_part(pool, wa->index);   /* busy published by the release of `pending` below */
        /* The last one out wakes the publisher, only if it went to sleep (the same
         * announce-then-recheck handshake as above, mirrored). */
        if (atomic_fetch_sub(&pool->pending, 1) == 1 && atomic_load(&pool->waiting)) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->mu);
        }
        /* The publisher has read `claim` (after its own part) and holds a copy of its line:
         * take the line back now, with an RMW that leaves the value as it is, so that the next
         * task's claim does not wait for it. */
        atomic_fetch_add_explicit(&pool->part[wa->index].claim, 0, memory_order_relaxed);
    }
    return NULL;
}

mnet_pool *mnet_pool_create(int threads)
{
    mnet_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->threads = threads;
    p->part = aligned_alloc(64, (size_t)threads * sizeof *p->part);
    if (!p->part) {
        free(p);
        return NULL;
    }
    for (int i = 0; i < threads; i++) {
        p->part[i].busy = 0.0;
        atomic_init(&p->part[i].cpu, -1);
        p->part[i].stay = 0;
        atomic_init(&p->part[i].claim, 0);
    }
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->waiting, 0);
    atomic_init(&p->started, 0);
    atomic_init(&p->moves, 0);
    atomic_init(&p->steals, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (threads > 1) {
        p->tid = calloc((size_t)threads, sizeof *p->tid);
        p->args = calloc((size_t)threads, sizeof *p->args);
        if (!p->tid || !p->args) {
            p->threads = 1;
            mnet_pool_free(p);
            return NULL;
        }
        for (int i = 1; i < threads; i++) {
            p->args[i] = (worker_arg){ p, i };
            if (pthread_create(&p->tid[i], NULL, worker, &p->args[i]) != 0) {
                p->threads = i;   /* join the ones that started */
                mnet_pool_free(p);
                return NULL;
            }
        }
        /* Wait until every worker runs (it then spins on the generation for a while): a
         * thread's start-up belongs to creating the context, not to its first inference. */
        while (atomic_load(&p->started) < threads - 1)
            sched_yield();
    }
    return p;
}

int mnet_pool_threads(const mnet_pool *p)
{
    return p->threads;
}

int mnet_pool_started(const mnet_pool *p)
{
    return atomic_load(&((mnet_pool *)p)->started);
}

long mnet_pool_steals(const mnet_pool *p)
{
    return atomic_load(&((mnet_pool *)p)->steals);
}

void mnet_pool_take_busy(mnet_pool *p, double *busy)
{
    for (int i = 0; i < p->threads; i++) {
        busy[i] = p->part[i].busy;
        p->part[i].busy = 0.0;
    }
}

void mnet_pool_run(mnet_pool *p, mnet_task_fn fn, void *arg)
{
    p->fn = fn;
    p->arg = arg;
    if (p->threads == 1) {
        run_part(p, 0);
        return;
    }
    note_cpu(p, 0);
    atomic_store_explicit(&p->pending, p->threads - 1, memory_order_relaxed);
    const unsigned long g = atomic_fetch_add(&p->generation, 1) + 1;
    /* Spinning workers see the generation by themselves: take the lock and broadcast only
     * when one has announced that it sleeps. */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    run_part(p, 0);
    /* The parts no worker has started yet, the publisher runs (see the top of the file). */
    for (int t = 1; t < p->threads; t++)
        if (claim(p, t, g)) {
            run_part(p, t);
            atomic_fetch_add_explicit(&p->steals, 1, memory_order_relaxed);
            atomic_fetch_sub(&p->pending, 1);
        }
    for (int i = 0; i < SPIN_ITERATIONS; i++) {
        if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0)
            return;
        spin_step(p, i, 1, p->threads - 1);   /* waits for the workers */
    }
    pthread_mutex_lock(&p->mu);
    /* An exchange, not a plain store: `waiting` must be globally visible before `pending` is
     * read (the last worker does the mirror image, with an RMW).  C11 promises that for a
     * seq_cst store then load, but qemu-user's x86 back end emits STLR + LDAR as a plain store
     * and load, which x86 may reorder; an RMW is a locked instruction there. */
    atomic_exchange(&p->waiting, 1);
    while (atomic_load(&p->pending) > 0)
        pthread_cond_wait(&p->done, &p->mu);
    atomic_store(&p->waiting, 0);
    pthread_mutex_unlock(&p->mu);
}

void mnet_pool_free(mnet_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->threads; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->tid);
    free(p->args);
    free(p->part);
    free(p);
}
