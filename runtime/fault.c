/* Fault injection, for tests and production drills: kill a process or a random one,
 * crash a process on its next message, make a mailbox lossy or slow.
 *
 * Choices come from one seeded random stream (splitmix64 under a lock), so a run with
 * the same seed and the same order of events makes the same choices. Mailbox odds are
 * kept here, keyed by pid, and flagged on the process so hearth_send pays nothing for
 * processes without them. */
#include "internal.h"

#include <time.h>

typedef struct lossy {
    struct lossy *next;
    hearth_pid_t pid;
    double drop, delay;
    uint64_t delay_ms;
} lossy_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rng_state;
static lossy_t *lossy_list; /* few entries: a drill targets a handful of processes */

void hearth_fault_seed(uint64_t seed)
{
    if (seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
    }
    pthread_mutex_lock(&lock);
    rng_state = seed;
    pthread_mutex_unlock(&lock);
}

uint64_t hearth__fault_random(void)
{
    uint64_t z;
    pthread_mutex_lock(&lock);
    z = (rng_state += 0x9E3779B97F4A7C15ull);
    pthread_mutex_unlock(&lock);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double random_unit(void)
{
    return (double)(hearth__fault_random() >> 11) * (1.0 / 9007199254740992.0);
}

int hearth_fault_kill(hearth_pid_t pid)
{
    return hearth_exit_signal(pid, HEARTH_KILL);
}

struct candidates {
    bool (*filter)(const hearth_proc_info_t *, void *);
    void *arg;
    hearth_pid_t self;
    hearth_pid_t *pids;
    size_t n, cap;
};

static int collect_cb(hearth__proc_t *p, void *arg)
{
    struct candidates *c = arg;
    if (p->kind == HEARTH_KIND_THREAD || p->pid == c->self)
        return 0;
    if (c->filter) {
        hearth_proc_info_t info;
        hearth__proc_info_fill(p, &info);
        if (!c->filter(&info, c->arg))
            return 0;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->pids = hearth__realloc(c->pids, c->cap * sizeof(*c->pids));
    }
    c->pids[c->n++] = p->pid;
    return 0;
}

int hearth_fault_kill_random(bool (*filter)(const hearth_proc_info_t *, void *), void *arg,
                             hearth_pid_t *victim)
{
    struct candidates c = {filter, arg, hearth_self(), NULL, 0, 0};
    hearth_pid_t pid;
    int err;

    hearth__proc_foreach(collect_cb, &c);
    if (c.n == 0) {
        hearth__free(c.pids);
        return HEARTH_ESRCH;
    }
    /* Table order is stable for a given history, so the seed picks the same victim. */
    pid = c.pids[hearth__fault_random() % c.n];
    hearth__free(c.pids);
    err = hearth_fault_kill(pid);
    if (err == 0 && victim)
        *victim = pid;
    return err;
}

static int set_flag(hearth_pid_t pid, int flag, bool on)
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
    else if (on)
        atomic_fetch_or(&p->fault_flags, flag);
    else
        atomic_fetch_and(&p->fault_flags, ~flag);
    if (!inside)
        hearth__epoch_exit(r);
    return err;
}

int hearth_fault_crash_next(hearth_pid_t pid)
{
    int err = set_flag(pid, HEARTH__FAULT_CRASH_NEXT, true);
    if (err == 0) {
        /* An idle process must get a turn to notice: a wake-up costs nothing else. */
        hearth__signal_send(pid, HEARTH__SIG_WAKE, HEARTH_PID_NONE, 0, 0);
    }
    return err;
}

int hearth_fault_mailbox(hearth_pid_t pid, double drop, double delay, uint64_t delay_ms)
{
    lossy_t **pp, *l;
    bool on = drop > 0 || delay > 0;

    if (drop < 0 || delay < 0 || drop + delay > 1)
        return HEARTH_EINVAL;
    pthread_mutex_lock(&lock);
    for (pp = &lossy_list; *pp && (*pp)->pid != pid; pp = &(*pp)->next)
        ;
    if (*pp == NULL && on) {
        *pp = hearth__calloc(1, sizeof(**pp));
        (*pp)->pid = pid;
    }
    if ((l = *pp) != NULL) {
        if (on) {
            l->drop = drop;
            l->delay = delay;
            l->delay_ms = delay_ms;
        } else {
            *pp = l->next;
            hearth__free(l);
        }
    }
    pthread_mutex_unlock(&lock);
    return set_flag(pid, HEARTH__FAULT_MAILBOX, on);
}

int hearth__fault_on_send(hearth__proc_t *p, hearth_msg_t *m)
{
    double drop = 0, delay = 0, r;
    uint64_t delay_ms = 0;
    lossy_t *l;

    pthread_mutex_lock(&lock);
    for (l = lossy_list; l && l->pid != p->pid; l = l->next)
        ;
    if (l) {
        drop = l->drop;
        delay = l->delay;
        delay_ms = l->delay_ms;
    }
    pthread_mutex_unlock(&lock);
    if (l == NULL)
        return 0;
    r = random_unit();
    if (r < drop) {
        atomic_fetch_add_explicit(&hearth__counters.dropped, 1, memory_order_relaxed);
        hearth_msg_free(m);
        return 1;
    }
    if (r < drop + delay) {
        m->flags_ |= HEARTH__MSG_FAULTED; /* delayed once, not again */
        hearth_send_after(p->pid, m, delay_ms, NULL);
        return 2;
    }
    return 0;
}
