/* pool.c - persistent workers woken per task by a generation counter; idle ones block on a
 * condition variable (no spinning), freeing the pool joins them. */
#include <pthread.h>
#include <stdlib.h>

#include "pool.h"

typedef struct {
    mnet_pool *pool;
    int index;
} worker_arg;

struct mnet_pool {
    int threads;
    pthread_t *tid;
    worker_arg *args;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation;
    int pending, stop;
    mnet_task_fn fn;
    void *arg;
};

static void *worker(void *p)
{
    const worker_arg *wa = p;
    mnet_pool *pool = wa->pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (pool->generation == seen && !pool->stop)
            pthread_cond_wait(&pool->wake, &pool->mu);
        if (pool->stop)
            break;
        seen = pool->generation;
        mnet_task_fn fn = pool->fn;
        void *arg = pool->arg;
        pthread_mutex_unlock(&pool->mu);
        fn(arg, wa->index, pool->threads);
        pthread_mutex_lock(&pool->mu);
        if (--pool->pending == 0)
            pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

mnet_pool *mnet_pool_create(int threads)
{
    mnet_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->threads = threads;
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
    }
    return p;
}

int mnet_pool_threads(const mnet_pool *p)
{
    return p->threads;
}

void mnet_pool_run(mnet_pool *p, mnet_task_fn fn, void *arg)
{
    if (p->threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->pending = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->threads);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void mnet_pool_free(mnet_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->threads; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->tid);
    free(p->args);
    free(p);
}
