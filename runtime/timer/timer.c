/* Timers for processes: hearth_send_after, hearth_timer_cancel, hearth_now_ms, and
 * the per-scheduler hooks the scheduler loop calls (create, run, next, destroy).
 *
 * Each scheduler owns one timing wheel (runtime/timer/wheel.c). A timer started on a
 * scheduler thread goes on that scheduler's wheel: the scheduler recomputes its sleep
 * from hearth__timers_next before it sleeps again, so no wake-up is needed. One
 * started from any other thread (an attached thread, a blocking-work job) goes on
 * scheduler 0's wheel, and that scheduler is woken if the new timer is due before it
 * planned to wake. Firing sends the message with hearth_send, which drops it if the
 * target has died meanwhile. */
#include "internal.h"
#include "timer/wheel.h"

#include <time.h>

/* A due time this far ahead is as good as never, and cannot overflow now + ms. */
#define MAX_DELAY_MS (UINT64_C(1) << 62)

uint64_t hearth_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void msg_free(void *ptr)
{
    hearth_msg_free(ptr);
}

static void fire_cb(uint64_t target, void *ptr, void *arg)
{
    (void)arg;
    /* hearth_send takes the message either way: a dead target just drops it. */
    (void)hearth_send((hearth_pid_t)target, ptr);
}

hearth__wheel_t *hearth__timers_create(uint64_t now_ms)
{
    return hearth__wheel_create(now_ms);
}

/* Frees w with every pending timer's message (runtime stop). */
void hearth__timers_destroy(hearth__wheel_t *w)
{
    hearth__wheel_destroy(w, msg_free);
}

/* now_ms must come from hearth_now_ms(), the clock send_after measures from. */
void hearth__timers_run(hearth__wheel_t *w, uint64_t now_ms)
{
    (void)hearth__wheel_run(w, now_ms, fire_cb, NULL);
}

int64_t hearth__timers_next(hearth__wheel_t *w, uint64_t now_ms)
{
    return hearth__wheel_next(w, now_ms);
}

int hearth_send_after(hearth_pid_t pid, hearth_msg_t *m, uint64_t ms, uint64_t *ref)
{
    hearth__sched_t *s;
    hearth__proc_t *self;
    hearth__wheel_t *w;
    bool on_sched, wake = false;
    int err;

    if (m == NULL)
        return HEARTH_EINVAL;
    if (pid == HEARTH_PID_NONE) {
        err = HEARTH_EINVAL;
        goto fail;
    }
    if (!hearth__running()) {
        err = HEARTH_ESHUTDOWN;
        goto fail;
    }
    /* Like hearth_send: from is the starting process, not whoever fires it. */
    if (m->from == HEARTH_PID_NONE && (self = hearth__current()) != NULL)
        m->from = self->pid;
    s = hearth__sched_self();
    on_sched = s != NULL;
    if (!on_sched)
        s = hearth__sched_get(0);
    w = hearth__sched_wheel(s);
    if (ms > MAX_DELAY_MS)
        ms = MAX_DELAY_MS;
    err = hearth__wheel_start(w, hearth_now_ms() + ms, pid, m, ref, &wake);
    if (err)
        goto fail;
    /* A scheduler thread asks for its next timeout before it sleeps; any other
     * thread must wake scheduler 0 if its plan is now too late. */
    if (!on_sched && wake)
        hearth__sched_wake(s);
    return 0;

fail:
    hearth_msg_free(m);
    return err;
}

int hearth_timer_cancel(uint64_t ref)
{
    void *m;
    int err;

    err = hearth__wheel_cancel(ref, &m);
    if (err)
        return err;
    hearth_msg_free(m);
    return 0;
}
