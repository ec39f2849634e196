/* Attached processes: an OS thread that is not a scheduler (the embedding program's
 * main thread, a test, a libuv worker) gets a process of its own the first time it
 * needs one (hearth_self, hearth_receive, hearth_call, a link...). It blocks on a
 * condition variable instead of being scheduled: a send that finds it waiting signals
 * the variable. The process ends when the thread exits or the runtime stops. */
#include "internal.h"

#include <errno.h>
#include <time.h>

struct hearth__thread_waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int woken;
};

static pthread_key_t attach_key;
static pthread_once_t attach_once = PTHREAD_ONCE_INIT;

/* The thread is leaving: its process exits normally, as an Erlang process whose
 * function returned. */
static void attach_thread_exit_cb(void *arg)
{
    (void)arg;
    hearth__proc_t *p = hearth__current();
    if (p && p->kind == HEARTH_KIND_THREAD && hearth__running()) {
        hearth__set_current(NULL);
        hearth__proc_exit(p, HEARTH_NORMAL);
    }
}

static void attach_key_init(void)
{
    pthread_key_create(&attach_key, attach_thread_exit_cb);
}

hearth__proc_t *hearth__current_or_attach(void)
{
    hearth__proc_t *p = hearth__current();
    pthread_condattr_t attr;

    if (p)
        return p;
    if (hearth__sched_self() != NULL || !hearth__running())
        return NULL; /* scheduler threads run processes; they are none themselves */
    p = hearth__proc_alloc(HEARTH_KIND_THREAD);
    if (p == NULL)
        return NULL;
    p->waiter = hearth__calloc(1, sizeof(*p->waiter));
    pthread_mutex_init(&p->waiter->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->waiter->cond, &attr);
    pthread_condattr_destroy(&attr);
    hearth__set_current(p);
    pthread_once(&attach_once, attach_key_init);
    pthread_setspecific(attach_key, p);
    return p;
}

void hearth__thread_wait(hearth__proc_t *p, uint64_t deadline_ms)
{
    hearth__thread_waiter_t *w = p->waiter;
    struct timespec ts;

    /* Announce that we wait, then look once more (pairs with proc_deliver). */
    bool consumed = hearth__mpsc_consumed(&p->mq);
    atomic_store_explicit(&p->scheduled, 0, memory_order_seq_cst);
    if (!consumed || !hearth__mpsc_quiet(&p->mq)) {
        atomic_store_explicit(&p->scheduled, 1, memory_order_relaxed);
        return;
    }
    if (deadline_ms) {
        ts.tv_sec = (time_t)(deadline_ms / 1000);
        ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
    }
    pthread_mutex_lock(&w->lock);
    while (!w->woken) {
        if (deadline_ms == 0) {
            pthread_cond_wait(&w->cond, &w->lock);
        } else if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    w->woken = 0;
    pthread_mutex_unlock(&w->lock);
    atomic_store_explicit(&p->scheduled, 1, memory_order_relaxed);
}

void hearth__thread_wake(hearth__proc_t *p)
{
    hearth__thread_waiter_t *w = p->waiter;
    pthread_mutex_lock(&w->lock);
    w->woken = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

static int end_attached_cb(hearth__proc_t *p, void *arg)
{
    (void)arg;
    if (p->kind == HEARTH_KIND_THREAD)
        hearth__proc_exit(p, HEARTH_SHUTDOWN);
    return 0;
}

void hearth__attach_fini(void)
{
    hearth__proc_foreach(end_attached_cb, NULL);
}
