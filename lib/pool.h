/* pool.h - a persistent thread pool: num_threads - 1 workers that sleep while idle. */
#ifndef MNET_POOL_H
#define MNET_POOL_H

#include "internal.h"

typedef struct mnet_pool mnet_pool;

/* fn(arg, part, parts) is called once for each part in 0..parts-1, part 0 on the caller; a part
 * 1.. on its own worker, or on the caller when that worker has not started it by the time part 0
 * is done.  The parts of one task must not wait for each other. */
typedef void (*mnet_task_fn)(void *arg, int part, int parts);

/* A pool running `threads` parts at once (threads - 1 workers); NULL on failure. */
MNET_INTERNAL mnet_pool *mnet_pool_create(int threads);
MNET_INTERNAL void mnet_pool_run(mnet_pool *p, mnet_task_fn fn, void *arg);
MNET_INTERNAL int mnet_pool_threads(const mnet_pool *p);
/* Workers that have started running (mnet_pool_create returns once all threads - 1 have, so
 * a context's first inference does not wait for a thread to be scheduled). */
MNET_INTERNAL int mnet_pool_started(const mnet_pool *p);
/* Parts of tasks the publisher ran because their worker had not started them by the time
 * part 0 was done (see lib/pool.c). */
MNET_INTERNAL long mnet_pool_steals(const mnet_pool *p);
/* Seconds each part spent in fn since the last call, into busy[0..threads-1], and restart the
 * count.  Only between runs (on the thread that calls mnet_pool_run). */
MNET_INTERNAL void mnet_pool_take_busy(mnet_pool *p, double *busy);
MNET_INTERNAL void mnet_pool_free(mnet_pool *p);   /* joins the workers */

#endif /* MNET_POOL_H */
