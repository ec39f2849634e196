/* Blocking receive for green threads and attached threads, and what is built on it:
 * calls (request, reply, monitor for the callee's death), waiting for a process to
 * exit, sleeping.
 *
 * Selective receive scans the process's inbox (messages already taken out of its
 * queue, in arrival order) from where the last scan stopped, so waiting for one reply
 * among many queued messages does not rescan them all each time. What does not match
 * stays, in order. A timeout is a timer message to the process itself tagged with a
 * token unique to this receive; a late one from an earlier receive is thrown away. */
#include "internal.h"

static inline hearth_msg_t *next_of(hearth_msg_t *m)
{
    return atomic_load_explicit(&m->next_, memory_order_relaxed);
}

/* The process died of a signal found while draining. */
static int die(hearth__proc_t *p)
{
    if (p->kind == HEARTH_KIND_GREEN)
        hearth__green_exit(p);
    hearth__set_current(NULL);
    hearth__proc_exit(p, p->exit_reason);
    return HEARTH_ESRCH;
}

static void crash_if_injected(hearth__proc_t *p)
{
    if (HEARTH_UNLIKELY(atomic_load_explicit(&p->fault_flags, memory_order_relaxed) &
                        HEARTH__FAULT_CRASH_NEXT)) {
        atomic_fetch_and(&p->fault_flags, ~HEARTH__FAULT_CRASH_NEXT);
        p->exit_reason = HEARTH_INJECTED;
        die(p);
    }
}

int hearth_receive(hearth_match_fn match, void *arg, int64_t timeout_ms, hearth_msg_t **out)
{
    hearth__proc_t *p = hearth__current_or_attach();
    hearth_msg_t *prev = NULL, *m, *next;
    uint64_t token = 0, timer = 0, deadline = 0;
    int result;

    if (p == NULL)
        return HEARTH_ESHUTDOWN;
    if (p->kind == HEARTH_KIND_EVENT)
        return HEARTH_EINVAL;
    if (timeout_ms > 0 && p->kind == HEARTH_KIND_THREAD)
        deadline = hearth_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        for (m = prev ? next_of(prev) : p->inbox.first; m; m = next) {
            next = next_of(m);
            if (m->tag == HEARTH_MSG_TIMEOUT) {
                bool ours = token && m->ref == token;
                hearth__fifo_remove(&p->inbox, prev, m);
                hearth_msg_free(m);
                if (ours) {
                    result = HEARTH_ETIMEDOUT;
                    goto done;
                }
                continue;
            }
            if (match == NULL || match(m, arg)) {
                hearth__fifo_remove(&p->inbox, prev, m);
                *out = m;
                result = 0;
                goto done;
            }
            prev = m;
        }
        if (!hearth__proc_drain(p))
            return die(p);
        if (prev ? next_of(prev) : p->inbox.first)
            continue; /* new mail to look at */
        if (timeout_ms == 0)
            return HEARTH_ETIMEDOUT;
        if (p->kind == HEARTH_KIND_GREEN) {
            if (timeout_ms > 0 && token == 0) {
                hearth_msg_t *t = hearth_msg_int(HEARTH_MSG_TIMEOUT, 0);
                token = hearth_make_ref();
                t->ref = token;
                t->flags_ |= HEARTH__MSG_FAULTED; /* never dropped by fault injection */
                hearth_send_after(p->pid, t, (uint64_t)timeout_ms, &timer);
            }
            hearth__green_suspend(p, HEARTH__GREEN_BLOCKED);
        } else {
            if (deadline && hearth_now_ms() >= deadline)
                return HEARTH_ETIMEDOUT;
            hearth__thread_wait(p, deadline);
        }
    }

done:
    if (timer && result == 0)
        hearth_timer_cancel(timer); /* if it fired already, its message is stale */
    if (result == 0) {
        p->handled++;
        crash_if_injected(p);
    }
    return result;
}

struct ref_match {
    uint32_t tag;
    uint64_t ref;
};

static bool match_ref(const hearth_msg_t *m, void *arg)
{
    const struct ref_match *want = arg;
    return m->tag == want->tag && m->ref == want->ref;
}

int hearth_receive_ref(uint32_t tag, uint64_t ref, int64_t timeout_ms, hearth_msg_t **out)
{
    struct ref_match want = {tag, ref};
    return hearth_receive(match_ref, &want, timeout_ms, out);
}

static bool match_nothing(const hearth_msg_t *m, void *arg)
{
    (void)m;
    (void)arg;
    return false;
}

void hearth_sleep(int64_t ms)
{
    hearth_msg_t *m;
    if (ms > 0)
        hearth_receive(match_nothing, NULL, ms, &m);
}

void hearth_yield(void)
{
    hearth__proc_t *p = hearth__current();
    if (p && p->kind == HEARTH_KIND_GREEN)
        hearth__green_suspend(p, HEARTH__GREEN_YIELDED);
}

/* A reply or the callee's DOWN, for the call identified by ref (also the monitor). */
static bool match_call(const hearth_msg_t *m, void *arg)
{
    uint64_t ref = *(uint64_t *)arg;
    return m->ref == ref && (m->tag == HEARTH_MSG_REPLY || m->tag == HEARTH_MSG_DOWN);
}

int hearth_call(hearth_pid_t pid, hearth_msg_t *request, int64_t timeout_ms, hearth_msg_t **reply)
{
    hearth__proc_t *p = hearth__current_or_attach();
    hearth_msg_t *m;
    uint64_t ref;
    int err;

    if (p == NULL || p->kind == HEARTH_KIND_EVENT) {
        hearth_msg_free(request);
        return p ? HEARTH_EINVAL : HEARTH_ESHUTDOWN;
    }
    /* The monitor's ref doubles as the call's: one DOWN or one reply ends the wait. */
    hearth_monitor(pid, &ref);
    request->value = request->tag;
    request->tag = HEARTH_MSG_CALL;
    request->ref = ref;
    request->from = p->pid;
    hearth_send(pid, request);

    err = hearth_receive(match_call, &ref, timeout_ms, &m);
    if (err) {
        hearth_demonitor(ref, true);
        return err;
    }
    if (m->tag == HEARTH_MSG_DOWN) {
        hearth_msg_free(m);
        return HEARTH_ESRCH;
    }
    hearth_demonitor(ref, true);
    m->tag = (uint32_t)m->value; /* the replier's own tag */
    *reply = m;
    return 0;
}

int hearth_call_async(hearth_pid_t pid, hearth_msg_t *request, uint64_t *ref)
{
    hearth__proc_t *p = hearth__current_or_attach();
    uint64_t r = hearth_make_ref();

    if (ref)
        *ref = r;
    request->value = request->tag;
    request->tag = HEARTH_MSG_CALL;
    request->ref = r;
    request->from = p ? p->pid : HEARTH_PID_NONE;
    return hearth_send(pid, request);
}

int hearth_reply(hearth_pid_t caller, uint64_t ref, hearth_msg_t *reply)
{
    reply->value = reply->tag;
    reply->tag = HEARTH_MSG_REPLY;
    reply->ref = ref;
    reply->from = HEARTH_PID_NONE;
    return hearth_send(caller, reply);
}

int hearth_wait(hearth_pid_t pid, int64_t timeout_ms, hearth_reason_t *reason)
{
    hearth_msg_t *m;
    uint64_t ref;
    int err;

    err = hearth_monitor(pid, &ref);
    if (err)
        return err;
    err = hearth_receive_ref(HEARTH_MSG_DOWN, ref, timeout_ms, &m);
    if (err) {
        hearth_demonitor(ref, true);
        return err;
    }
    if (reason)
        *reason = m->value;
    hearth_msg_free(m);
    return 0;
}
