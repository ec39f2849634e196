/* Introspection: process_info, the process list, runtime counters.
 *
 * Reading another process's private fields from this thread is a snapshot without
 * synchronization: the numbers may be a message behind, as erlang:process_info can
 * be. The struct itself is safe to read (epoch-protected). */
#include "internal.h"

#include <string.h>

void hearth__registry_name_of(hearth_pid_t pid, char *buf, size_t size);
uint64_t hearth__sends_total(void);

void hearth__proc_info_fill(hearth__proc_t *p, hearth_proc_info_t *info)
{
    hearth__proc_ext_t *x = p->ext;
    size_t queued = atomic_load_explicit(&p->mq_len, memory_order_relaxed);

    memset(info, 0, sizeof(*info));
    info->pid = p->pid;
    info->kind = (hearth_kind_t)p->kind;
    hearth__registry_name_of(p->pid, info->name, sizeof(info->name));
    if (p->kind == HEARTH_KIND_EVENT)
        info->actor = p->actor->name ? p->actor->name : "event";
    else
        info->actor = p->kind == HEARTH_KIND_GREEN ? "green" : "thread";
    info->mailbox_len = queued + p->inbox.len;
    info->handled = p->handled;
    info->memory = sizeof(*p) + (x ? sizeof(*x) : 0) +
                   (queued + p->inbox.len) * sizeof(hearth_msg_t);
    if (p->kind == HEARTH_KIND_GREEN)
        info->memory += hearth__green_stack_bytes(p);
    if (x) {
        info->links = x->nlinks;
        info->monitors = x->nwatching;
    }
    info->trap_exit = p->trap_exit;
}

int hearth_process_info(hearth_pid_t pid, hearth_proc_info_t *info)
{
    bool inside = hearth__epoch_inside;
    hearth__epoch_rec_t *r = inside ? NULL : hearth__epoch_self();
    hearth__proc_t *p;
    int err = 0;

    if (!inside)
        hearth__epoch_enter(r);
    p = hearth__proc_lookup(pid);
    if (p == NULL || atomic_load(&p->life) != HEARTH__RUNNING)
        err = HEARTH_ESRCH;
    else
        hearth__proc_info_fill(p, info);
    if (!inside)
        hearth__epoch_exit(r);
    return err;
}

struct visit {
    int (*fn)(const hearth_proc_info_t *, void *);
    void *arg;
};

static int visit_cb(hearth__proc_t *p, void *arg)
{
    struct visit *v = arg;
    hearth_proc_info_t info;
    hearth__proc_info_fill(p, &info);
    return v->fn(&info, v->arg);
}

size_t hearth_processes(int (*fn)(const hearth_proc_info_t *info, void *arg), void *arg)
{
    struct visit v = {fn, arg};
    return hearth__proc_foreach(visit_cb, &v);
}

size_t hearth_process_count(void)
{
    int64_t n = atomic_load_explicit(&hearth__counters.live, memory_order_relaxed);
    return n > 0 ? (size_t)n : 0;
}

void hearth_stats(hearth_stats_t *out)
{
    hearth__counters_t *c = &hearth__counters;
    int64_t bytes = atomic_load(&c->proc_bytes);

    memset(out, 0, sizeof(*out));
    out->spawned = atomic_load(&c->spawned);
    out->exited = atomic_load(&c->exited);
    out->sent = hearth__sends_total();
    out->dropped = atomic_load(&c->dropped);
    out->delivered = out->sent - out->dropped;
    out->steals = atomic_load(&c->steals);
    out->wakeups = atomic_load(&c->wakeups);
    out->processes = hearth_process_count();
    out->proc_bytes = bytes > 0 ? (size_t)bytes : 0;
}
