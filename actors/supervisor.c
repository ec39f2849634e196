/* The supervisor behaviour (include/hearth/supervisor.h), after OTP's supervisor.erl.
 *
 * A supervisor is a green thread looping over hearth_receive. Why not an event
 * process: stopping a child is a sequence (monitor, exit signal, wait for DOWN up to
 * a timeout, kill, wait again, unlink and flush its EXIT) that selective receive with
 * a timeout writes down as it reads, while an event process would need a state
 * machine with timers, deferred API replies and queued EXITs for every stop, restart
 * and shutdown. Supervisors are few, and their children's start functions may block
 * (a child supervisor's start waits for its children): a green thread allows both.
 * Blocking the supervisor while a child stops is also what OTP does: API calls wait
 * in the mailbox meanwhile.
 *
 * How the parts fit:
 *   - hearth_supervisor_start copies the flags and specs into a sup_t, spawns the
 *     green thread (trapping exits) and waits for its start acknowledgement (or its
 *     DOWN): the thread registers its name, starts the children in order and acks 0,
 *     or stops what it started and acks the error, unlinks and exits normally.
 *   - The loop handles EXIT (a child ended: restart by strategy; the parent's: shut
 *     down), API calls (HEARTH_MSG_CALL, op in value, a sup_req_t in the bytes, a
 *     sup_rep_t back), stop requests and the try-again messages it sends itself
 *     when a restart fails to start a child (OTP's try_again_restart).
 *   - Static children sit in an array in start order. simple_one_for_one children
 *     sit in a hash table keyed by pid (a session supervisor may have thousands, and
 *     every EXIT looks one up); a child whose restart failed stays under its old pid,
 *     flagged restarting, until the retry.
 *   - Restart intensity: the times of the restarts within the last period, oldest
 *     first; one more than intensity and the supervisor shuts down.
 * All of it is owned by the supervisor's own thread: nothing here is shared. */
#include "hearth/supervisor.h"

#include <stdlib.h>
#include <string.h>

/* Tags of the behaviour range (see server.h) used by supervisors. */
#define SUP_TAG_ACK (HEARTH_BEHAVIOUR_TAGS + 0x10)       /* start ack: ref, value = error */
#define SUP_TAG_TRY_AGAIN (HEARTH_BEHAVIOUR_TAGS + 0x11) /* retry a failed restart */

/* API call operations: the call request's tag (hearth_call keeps it in value). */
enum {
    OP_START_CHILD = 1,
    OP_START_DYNAMIC,
    OP_TERMINATE_CHILD,
    OP_TERMINATE_DYNAMIC,
    OP_RESTART_CHILD,
    OP_DELETE_CHILD,
    OP_WHICH,
    OP_COUNT,
};

#define DEFAULT_WORKER_SHUTDOWN 5000 /* ms, OTP's default for workers */
#define ID_MAX 64

/* An API request, copied into the call message: the caller may time out and go, so
 * nothing in it points into the caller's memory (spec.id is NULL: the id is in id). */
typedef struct sup_req {
    hearth_child_spec_t spec;
    char id[ID_MAX];
    hearth_pid_t pid;
    void *arg;
} sup_req_t;

/* An API reply; OP_WHICH appends n hearth_child_info_t. */
typedef struct sup_rep {
    int err;
    hearth_pid_t pid;
    hearth_child_counts_t counts;
    size_t n;
} sup_rep_t;

typedef struct child {
    char id[ID_MAX];
    hearth_child_start_fn start;
    void *arg;
    hearth_pid_t pid; /* HEARTH_PID_NONE: not running */
    int64_t shutdown; /* ms > 0, HEARTH_INFINITY or HEARTH_SHUTDOWN_BRUTAL_KILL */
    hearth_restart_t restart;
    hearth_child_type_t type;
    bool restarting; /* a restart failed; a SUP_TAG_TRY_AGAIN is on its way */
} child_t;

/* A dynamic child of a simple_one_for_one supervisor. pid 0 marks a free slot. */
typedef struct dyn {
    hearth_pid_t pid; /* the child, or its dead predecessor while restarting */
    void *arg;
    uint64_t mref; /* while the supervisor shuts down */
    bool restarting;
} dyn_t;

/* Open addressing with linear probing and backward-shift deletion (no tombstones). */
typedef struct dyntab {
    dyn_t *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n, nrestarting;
} dyntab_t;

typedef struct sup {
    hearth_strategy_t strategy;
    int intensity;
    int64_t period_ms;
    hearth_pid_t self;
    hearth_pid_t parent;  /* started us linked, or HEARTH_PID_NONE */
    hearth_pid_t starter; /* waits for our ack */
    uint64_t ack_ref;
    char name[ID_MAX];
    child_t *children; /* start order; simple_one_for_one: [0] is the template */
    size_t n, cap;
    dyntab_t dyn;
    uint64_t *restarts; /* times (ms) of recent restarts, oldest first */
    size_t nrestarts, caprestarts;
} sup_t;

/* Restart outcomes. */
enum { SUP_GO_ON = 0, SUP_SHUTDOWN = 1 };

/* Small allocations abort on OOM, as in the runtime: a supervisor that cannot record
 * its children cannot do its job. */
static void *sup_realloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL && n != 0)
        abort();
    return p;
}

static bool match_nothing(const hearth_msg_t *m, void *arg)
{
    (void)m;
    (void)arg;
    return false;
}

/* True if the caller may block in hearth_receive (a green or attached thread). */
static bool can_block(void)
{
    hearth_msg_t *m;

    return hearth_receive(match_nothing, NULL, 0, &m) != HEARTH_EINVAL;
}

/* ---- specs --------------------------------------------------------------------------- */

static int spec_check(const hearth_child_spec_t *spec, const char *id, bool need_id)
{
    if (spec == NULL || spec->start == NULL)
        return HEARTH_EINVAL;
    if ((unsigned)spec->restart > HEARTH_TEMPORARY || (unsigned)spec->type > HEARTH_SUPERVISOR)
        return HEARTH_EINVAL;
    if (spec->shutdown < HEARTH_SHUTDOWN_BRUTAL_KILL)
        return HEARTH_EINVAL;
    if (need_id && (id == NULL || id[0] == '\0' || strlen(id) >= ID_MAX))
        return HEARTH_EINVAL;
    return 0;
}

static void child_init(child_t *c, const hearth_child_spec_t *spec, const char *id)
{
    memset(c, 0, sizeof(*c));
    if (id != NULL)
        strcpy(c->id, id); /* length checked by spec_check */
    c->start = spec->start;
    c->arg = spec->arg;
    c->restart = spec->restart;
    c->type = spec->type;
    c->shutdown = spec->shutdown;
    if (c->shutdown == HEARTH_SHUTDOWN_DEFAULT)
        c->shutdown = c->type == HEARTH_SUPERVISOR ? HEARTH_INFINITY : DEFAULT_WORKER_SHUTDOWN;
}

static child_t *child_find(sup_t *s, const char *id, size_t *index)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->children[i].id, id) == 0) {
            if (index != NULL)
                *index = i;
            return &s->children[i];
        }
    }
    return NULL;
}

static bool child_find_pid(sup_t *s, hearth_pid_t pid, size_t *index)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->children[i].pid == pid) {
            *index = i;
            return true;
        }
    }
    return false;
}

static void child_append(sup_t *s, const child_t *c)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4;
        s->children = sup_realloc(s->children, s->cap * sizeof(*s->children));
    }
    s->children[s->n++] = *c;
}

static void child_remove(sup_t *s, size_t i)
{
    memmove(&s->children[i], &s->children[i + 1], (s->n - i - 1) * sizeof(*s->children));
    s->n--;
}

/* OTP's del_child: a temporary child's spec goes; another's is kept without a pid. */
static void child_forget(sup_t *s, size_t i)
{
    if (s->children[i].restart == HEARTH_TEMPORARY) {
        child_remove(s, i);
        return;
    }
    s->children[i].pid = HEARTH_PID_NONE;
    s->children[i].restarting = false;
}

/* Runs a start function. Returns 0 and the pid (HEARTH_PID_NONE if it declined), or
 * a negative code. */
static int child_spawn(hearth_child_start_fn start, void *arg, hearth_pid_t *pid)
{
    int rc;

    *pid = HEARTH_PID_NONE;
    rc = start(arg, pid);
    if (rc == HEARTH_CHILD_IGNORE) {
        *pid = HEARTH_PID_NONE;
        return 0;
    }
    if (rc < 0)
        return rc;
    if (rc > 0 || *pid == HEARTH_PID_NONE)
        return HEARTH_EINVAL; /* broke the start function contract */
    return 0;
}

/* ---- dynamic children ---------------------------------------------------------------- */

static size_t dyn_home(const dyntab_t *t, hearth_pid_t pid)
{
    uint64_t h = pid * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing spreads slot+gen */

    return (size_t)(h ^ (h >> 29)) & (t->cap - 1);
}

static dyn_t *dyn_find(dyntab_t *t, hearth_pid_t pid)
{
    if (t->cap == 0 || pid == HEARTH_PID_NONE)
        return NULL;
    for (size_t i = dyn_home(t, pid);; i = (i + 1) & (t->cap - 1)) {
        if (t->slots[i].pid == pid)
            return &t->slots[i];
        if (t->slots[i].pid == HEARTH_PID_NONE)
            return NULL;
    }
}

static void dyn_insert(dyntab_t *t, const dyn_t *d)
{
    size_t i = dyn_home(t, d->pid);

    while (t->slots[i].pid != HEARTH_PID_NONE)
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = *d;
}

static void dyn_put(dyntab_t *t, hearth_pid_t pid, void *arg, bool restarting)
{
    dyn_t d = {.pid = pid, .arg = arg, .restarting = restarting};

    if (2 * (t->n + 1) > t->cap) { /* keep the load at most 1/2 */
        dyntab_t old = *t;

        t->cap = old.cap ? 2 * old.cap : 16;
        t->slots = sup_realloc(NULL, t->cap * sizeof(*t->slots));
        memset(t->slots, 0, t->cap * sizeof(*t->slots));
        for (size_t i = 0; i < old.cap; i++)
            if (old.slots[i].pid != HEARTH_PID_NONE)
                dyn_insert(t, &old.slots[i]);
        free(old.slots);
    }
    dyn_insert(t, &d);
    t->n++;
    t->nrestarting += restarting;
}

static void dyn_erase(dyntab_t *t, dyn_t *d)
{
    size_t mask = t->cap - 1;
    size_t i = (size_t)(d - t->slots);

    t->n--;
    t->nrestarting -= d->restarting;
    /* Backward shift: pull later members of the cluster into the hole unless their
     * home lies cyclically in (hole, their slot], where a lookup would still reach
     * them. */
    for (size_t j = (i + 1) & mask; t->slots[j].pid != HEARTH_PID_NONE; j = (j + 1) & mask) {
        size_t k = dyn_home(t, t->slots[j].pid);
        bool reachable = i <= j ? (i < k && k <= j) : (i < k || k <= j);

        if (!reachable) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i].pid = HEARTH_PID_NONE;
}

/* ---- stopping children --------------------------------------------------------------- */

static bool match_exit_from(const hearth_msg_t *m, void *arg)
{
    return m->tag == HEARTH_MSG_EXIT && m->from == *(const hearth_pid_t *)arg;
}

/* OTP's unlink_flush: after the DOWN, drop the link and the EXIT it may have queued,
 * so the child's end is not taken for a crash to restart. */
static void unlink_flush(hearth_pid_t pid)
{
    hearth_msg_t *m;

    hearth_unlink(pid);
    while (hearth_receive(match_exit_from, &pid, 0, &m) == 0)
        hearth_msg_free(m);
}

/* Stops child pid as its shutdown says and waits until it is gone. The monitor sees
 * its end even if it unlinked itself, which a wait for EXIT would not. */
static void shutdown_child(hearth_pid_t pid, int64_t shutdown)
{
    hearth_msg_t *m;
    uint64_t mref;
    int err;

    if (hearth_monitor(pid, &mref) != 0) {
        unlink_flush(pid); /* already gone */
        return;
    }
    if (shutdown == HEARTH_SHUTDOWN_BRUTAL_KILL) {
        hearth_exit_signal(pid, HEARTH_KILL);
        err = hearth_receive_ref(HEARTH_MSG_DOWN, mref, HEARTH_INFINITY, &m);
    } else {
        hearth_exit_signal(pid, HEARTH_SHUTDOWN);
        err = hearth_receive_ref(HEARTH_MSG_DOWN, mref, shutdown, &m);
        if (err == HEARTH_ETIMEDOUT) {
            hearth_exit_signal(pid, HEARTH_KILL);
            err = hearth_receive_ref(HEARTH_MSG_DOWN, mref, HEARTH_INFINITY, &m);
        }
    }
    if (err == 0)
        hearth_msg_free(m);
    unlink_flush(pid);
}

/* OTP's terminate_children over children[from..]: stops them in reverse start order;
 * temporary ones are dropped, the others kept without a pid. */
static void terminate_range(sup_t *s, size_t from)
{
    for (size_t i = s->n; i-- > from;) {
        if (s->children[i].pid != HEARTH_PID_NONE)
            shutdown_child(s->children[i].pid, s->children[i].shutdown);
        child_forget(s, i);
    }
}

static bool match_dyn_down(const hearth_msg_t *m, void *arg)
{
    sup_t *s = arg;
    dyn_t *d;

    if (m->tag != HEARTH_MSG_DOWN)
        return false;
    d = dyn_find(&s->dyn, m->from);
    return d != NULL && !d->restarting && d->mref == m->ref;
}

/* OTP's terminate_dynamic_children: a simple_one_for_one supervisor may have
 * thousands of children, so it signals them all, then waits for all under one
 * timeout (in no particular order), then kills the rest. Empties the table. */
static void terminate_dynamic(sup_t *s)
{
    const child_t *t = &s->children[0];
    dyntab_t *tab = &s->dyn;
    int64_t deadline = -1;
    size_t left = 0;
    hearth_msg_t *m;

    for (size_t i = 0; i < tab->cap; i++) {
        dyn_t *d = &tab->slots[i];

        if (d->pid == HEARTH_PID_NONE || d->restarting)
            continue;
        if (hearth_monitor(d->pid, &d->mref) != 0) {
            d->restarting = true; /* gone already: nothing to wait for */
            tab->nrestarting++;
            continue;
        }
        hearth_exit_signal(d->pid, t->shutdown == HEARTH_SHUTDOWN_BRUTAL_KILL ? HEARTH_KILL
                                                                              : HEARTH_SHUTDOWN);
        left++;
    }
    if (t->shutdown > 0)
        deadline = (int64_t)hearth_now_ms() + t->shutdown;
    while (left > 0) {
        int64_t timeout = HEARTH_INFINITY;
        int err;

        if (deadline >= 0) {
            timeout = deadline - (int64_t)hearth_now_ms();
            if (timeout < 0)
                timeout = 0;
        }
        err = hearth_receive(match_dyn_down, s, timeout, &m);
        if (err == HEARTH_ETIMEDOUT) {
            for (size_t i = 0; i < tab->cap; i++)
                if (tab->slots[i].pid != HEARTH_PID_NONE && !tab->slots[i].restarting)
                    hearth_exit_signal(tab->slots[i].pid, HEARTH_KILL);
            deadline = -1;
            continue;
        }
        if (err != 0)
            break; /* cannot happen in a green thread */
        unlink_flush(m->from);
        dyn_erase(tab, dyn_find(tab, m->from));
        hearth_msg_free(m);
        left--;
    }
    for (size_t i = 0; i < tab->cap; i++)
        if (tab->slots[i].pid != HEARTH_PID_NONE)
            unlink_flush(tab->slots[i].pid);
    free(tab->slots);
    memset(tab, 0, sizeof(*tab));
}

/* Stops every child: reverse start order, or all at once for dynamic children. */
static void terminate_all(sup_t *s)
{
    if (s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE)
        terminate_dynamic(s);
    else
        terminate_range(s, 0);
}

/* ---- starting and restarting --------------------------------------------------------- */

/* OTP's start_children over children[from..], in order. Returns 0, or the failing
 * child's code with its index in *failed (the children after it are not started). */
static int start_range(sup_t *s, size_t from, size_t *failed)
{
    size_t i = from;

    while (i < s->n) {
        child_t *c = &s->children[i];
        hearth_pid_t pid;
        int err;

        err = child_spawn(c->start, c->arg, &pid);
        if (err) {
            *failed = i;
            return err;
        }
        if (pid == HEARTH_PID_NONE && c->restart == HEARTH_TEMPORARY) {
            child_remove(s, i); /* declined, and never to be restarted */
            continue;
        }
        c->pid = pid;
        c->restarting = false;
        i++;
    }
    return 0;
}

static void try_again_static(sup_t *s, const char *id)
{
    hearth_msg_t *m = hearth_msg_copy(SUP_TAG_TRY_AGAIN, id, strlen(id) + 1);

    m->ref = 0;
    hearth_send(s->self, m);
}

static void try_again_dynamic(sup_t *s, hearth_pid_t old)
{
    hearth_msg_t *m = hearth_msg_new(SUP_TAG_TRY_AGAIN, 0);

    m->ref = old;
    hearth_send(s->self, m);
}

/* OTP's add_restart: false if this restart is one too many within the period. */
static bool add_restart(sup_t *s)
{
    uint64_t now = hearth_now_ms();
    size_t expired = 0;

    /* Drop the restarts that fell out of the period (oldest first). */
    while (expired < s->nrestarts && s->restarts[expired] + (uint64_t)s->period_ms < now)
        expired++;
    if (expired > 0) {
        memmove(s->restarts, s->restarts + expired,
                (s->nrestarts - expired) * sizeof(*s->restarts));
        s->nrestarts -= expired;
    }
    if (s->nrestarts == s->caprestarts) {
        s->caprestarts = s->caprestarts ? 2 * s->caprestarts : 4;
        s->restarts = sup_realloc(s->restarts, s->caprestarts * sizeof(*s->restarts));
    }
    s->restarts[s->nrestarts++] = now;
    return s->nrestarts <= (size_t)s->intensity;
}

/* OTP's restart_multiple_children: stop children[from..] (reverse order), start them
 * again (in order); a child that fails to start is retried later. */
static void restart_range(sup_t *s, size_t from)
{
    size_t failed;

    terminate_range(s, from);
    if (start_range(s, from, &failed) != 0) {
        s->children[failed].restarting = true;
        try_again_static(s, s->children[failed].id);
    }
}

/* OTP's restart/2 for child i, which is not running. Returns SUP_SHUTDOWN if the
 * restart intensity is exceeded. */
static int restart_static(sup_t *s, size_t i)
{
    child_t *c = &s->children[i];
    hearth_pid_t pid;

    if (!add_restart(s)) {
        child_forget(s, i);
        return SUP_SHUTDOWN;
    }
    c->pid = HEARTH_PID_NONE;
    switch (s->strategy) {
    case HEARTH_ONE_FOR_ONE:
        if (child_spawn(c->start, c->arg, &pid) != 0) {
            c->restarting = true;
            try_again_static(s, c->id);
            break;
        }
        c->pid = pid;
        c->restarting = false;
        break;
    case HEARTH_REST_FOR_ONE:
        restart_range(s, i);
        break;
    case HEARTH_ONE_FOR_ALL:
    default:
        restart_range(s, 0);
        break;
    }
    return SUP_GO_ON;
}

/* restart/2 for a dynamic child d (dead, or a failed restart's placeholder). */
static int restart_dynamic(sup_t *s, dyn_t *d)
{
    hearth_pid_t old = d->pid, pid;
    void *arg = d->arg;

    dyn_erase(&s->dyn, d);
    if (!add_restart(s))
        return SUP_SHUTDOWN;
    if (child_spawn(s->children[0].start, arg, &pid) != 0) {
        dyn_put(&s->dyn, old, arg, true);
        try_again_dynamic(s, old);
        return SUP_GO_ON;
    }
    if (pid != HEARTH_PID_NONE)
        dyn_put(&s->dyn, pid, arg, false);
    return SUP_GO_ON;
}

/* True if a child of this restart type that ended with reason is to be restarted
 * (OTP's do_restart). */
static bool wants_restart(hearth_restart_t restart, hearth_reason_t reason)
{
    if (restart == HEARTH_PERMANENT)
        return true;
    if (restart == HEARTH_TEMPORARY || reason == HEARTH_NORMAL || reason == HEARTH_SHUTDOWN)
        return false;
    return true; /* transient, abnormal exit */
}

/* A linked process exited. Returns SUP_SHUTDOWN if the supervisor must go. */
static int on_child_exit(sup_t *s, hearth_pid_t pid, hearth_reason_t reason)
{
    size_t i;

    if (pid == HEARTH_PID_NONE)
        return SUP_GO_ON;
    if (s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE) {
        dyn_t *d = dyn_find(&s->dyn, pid);

        if (d == NULL || d->restarting)
            return SUP_GO_ON;
        if (!wants_restart(s->children[0].restart, reason)) {
            dyn_erase(&s->dyn, d);
            return SUP_GO_ON;
        }
        return restart_dynamic(s, d);
    }
    if (!child_find_pid(s, pid, &i))
        return SUP_GO_ON; /* not ours (any more): OTP ignores it too */
    if (!wants_restart(s->children[i].restart, reason)) {
        child_forget(s, i);
        return SUP_GO_ON;
    }
    return restart_static(s, i);
}

static int on_try_again(sup_t *s, hearth_msg_t *m)
{
    size_t i;

    if (s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE) {
        dyn_t *d = dyn_find(&s->dyn, m->ref);

        return d != NULL && d->restarting ? restart_dynamic(s, d) : SUP_GO_ON;
    }
    if (m->len == 0 || ((char *)m->data)[m->len - 1] != '\0')
        return SUP_GO_ON;
    if (child_find(s, m->data, &i) == NULL || !s->children[i].restarting)
        return SUP_GO_ON; /* stopped or deleted meanwhile */
    return restart_static(s, i);
}

/* ---- API requests -------------------------------------------------------------------- */

static void reply_with(const hearth_msg_t *call, const sup_rep_t *rep)
{
    hearth_reply(call->from, call->ref, hearth_msg_copy(0, rep, sizeof(*rep)));
}

static void op_start_child(sup_t *s, const sup_req_t *q, sup_rep_t *rep)
{
    child_t c, *old;
    hearth_pid_t pid;

    if (s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE) {
        rep->err = HEARTH_ENOTSUP;
        return;
    }
    rep->err = spec_check(&q->spec, q->id, true);
    if (rep->err)
        return;
    old = child_find(s, q->id, NULL);
    if (old != NULL) {
        rep->err = HEARTH_EEXIST;
        rep->pid = old->pid;
        return;
    }
    child_init(&c, &q->spec, q->id);
    rep->err = child_spawn(c.start, c.arg, &pid);
    if (rep->err)
        return;
    rep->pid = c.pid = pid;
    if (pid != HEARTH_PID_NONE || c.restart != HEARTH_TEMPORARY)
        child_append(s, &c);
}

static void op_start_dynamic(sup_t *s, const sup_req_t *q, sup_rep_t *rep)
{
    hearth_pid_t pid;

    if (s->strategy != HEARTH_SIMPLE_ONE_FOR_ONE) {
        rep->err = HEARTH_ENOTSUP;
        return;
    }
    rep->err = child_spawn(s->children[0].start, q->arg, &pid);
    if (rep->err)
        return;
    rep->pid = pid;
    if (pid != HEARTH_PID_NONE)
        dyn_put(&s->dyn, pid, q->arg, false);
}

static void op_terminate_child(sup_t *s, const sup_req_t *q, sup_rep_t *rep)
{
    size_t i;

    if (s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE) {
        rep->err = HEARTH_ENOTSUP;
        return;
    }
    if (child_find(s, q->id, &i) == NULL) {
        rep->err = HEARTH_ENOENT;
        return;
    }
    if (s->children[i].pid != HEARTH_PID_NONE)
        shutdown_child(s->children[i].pid, s->children[i].shutdown);
    child_forget(s, i);
}

static void op_terminate_dynamic(sup_t *s, const sup_req_t *q, sup_rep_t *rep)
{
    dyn_t *d;

    if (s->strategy != HEARTH_SIMPLE_ONE_FOR_ONE) {
        rep->err = HEARTH_ENOTSUP;
        return;
    }
    d = dyn_find(&s->dyn, q->pid);
    if (d == NULL) {
        /* OTP: a dead pid counts as stopped; a live stranger is not found. */
        rep->err = hearth_is_alive(q->pid) ? HEARTH_ENOENT : 0;
        return;
    }
    if (!d->restarting)
        shutdown_child(q->pid, s->children[0].shutdown); /* leaves the table as it is */
    dyn_erase(&s->dyn, d);
}

static void op_restart_child(sup_t *s, const sup_req_t *q, sup_rep_t *rep)
{
    child_t *c;
    hearth_pid_t pid;

    if (s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE) {
        rep->err = HEARTH_ENOTSUP;
        return;
    }
    c = child_find(s, q->id, NULL);
    if (c == NULL)
        rep->err = HEARTH_ENOENT;
    else if (c->restarting)
        rep->err = HEARTH_EAGAIN;
    else if (c->pid != HEARTH_PID_NONE)
        rep->err = HEARTH_EBUSY;
    else if ((rep->err = child_spawn(c->start, c->arg, &pid)) == 0)
        rep->pid = c->pid = pid;
}

static void op_delete_child(sup_t *s, const sup_req_t *q, sup_rep_t *rep)
{
    child_t *c;
    size_t i;

    if (s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE) {
        rep->err = HEARTH_ENOTSUP;
        return;
    }
    c = child_find(s, q->id, &i);
    if (c == NULL)
        rep->err = HEARTH_ENOENT;
    else if (c->restarting)
        rep->err = HEARTH_EAGAIN;
    else if (c->pid != HEARTH_PID_NONE)
        rep->err = HEARTH_EBUSY;
    else
        child_remove(s, i);
}

static void op_which(sup_t *s, const hearth_msg_t *call)
{
    sup_rep_t rep = {0};
    hearth_child_info_t *info;
    hearth_msg_t *m;
    size_t k = 0;

    rep.n = s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE ? s->dyn.n : s->n;
    m = hearth_msg_new(0, sizeof(rep) + rep.n * sizeof(*info));
    memcpy(m->data, &rep, sizeof(rep));
    info = malloc(rep.n ? rep.n * sizeof(*info) : 1);
    if (info == NULL)
        abort();
    if (s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE) {
        for (size_t i = 0; i < s->dyn.cap; i++) {
            const dyn_t *d = &s->dyn.slots[i];

            if (d->pid == HEARTH_PID_NONE)
                continue;
            memset(&info[k], 0, sizeof(info[k]));
            info[k].pid = d->restarting ? HEARTH_PID_NONE : d->pid;
            info[k].restarting = d->restarting;
            info[k].type = s->children[0].type;
            k++;
        }
    } else {
        for (size_t i = s->n; i-- > 0;) { /* most recently started first, as OTP */
            const child_t *c = &s->children[i];

            memset(&info[k], 0, sizeof(info[k]));
            strcpy(info[k].id, c->id);
            info[k].pid = c->pid;
            info[k].restarting = c->restarting;
            info[k].type = c->type;
            k++;
        }
    }
    memcpy((char *)m->data + sizeof(rep), info, rep.n * sizeof(*info));
    free(info);
    hearth_reply(call->from, call->ref, m);
}

static void op_count(sup_t *s, sup_rep_t *rep)
{
    hearth_child_counts_t *n = &rep->counts;

    if (s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE) {
        n->specs = 1;
        n->active = s->dyn.n - s->dyn.nrestarting;
        if (s->children[0].type == HEARTH_SUPERVISOR)
            n->supervisors = s->dyn.n;
        else
            n->workers = s->dyn.n;
        return;
    }
    n->specs = s->n;
    for (size_t i = 0; i < s->n; i++) {
        const child_t *c = &s->children[i];

        if (c->pid != HEARTH_PID_NONE && hearth_is_alive(c->pid))
            n->active++;
        if (c->type == HEARTH_SUPERVISOR)
            n->supervisors++;
        else
            n->workers++;
    }
}

static void on_call(sup_t *s, const hearth_msg_t *m)
{
    sup_rep_t rep = {0};
    sup_req_t q;

    if (m->len != sizeof(q)) {
        rep.err = HEARTH_EINVAL;
        reply_with(m, &rep);
        return;
    }
    memcpy(&q, m->data, sizeof(q));
    q.id[ID_MAX - 1] = '\0';
    switch (m->value) {
    case OP_START_CHILD:
        op_start_child(s, &q, &rep);
        break;
    case OP_START_DYNAMIC:
        op_start_dynamic(s, &q, &rep);
        break;
    case OP_TERMINATE_CHILD:
        op_terminate_child(s, &q, &rep);
        break;
    case OP_TERMINATE_DYNAMIC:
        op_terminate_dynamic(s, &q, &rep);
        break;
    case OP_RESTART_CHILD:
        op_restart_child(s, &q, &rep);
        break;
    case OP_DELETE_CHILD:
        op_delete_child(s, &q, &rep);
        break;
    case OP_WHICH:
        op_which(s, m);
        return;
    case OP_COUNT:
        op_count(s, &rep);
        break;
    default:
        rep.err = HEARTH_EINVAL;
        break;
    }
    reply_with(m, &rep);
}

/* ---- the supervisor process ---------------------------------------------------------- */

static void sup_free(sup_t *s)
{
    free(s->children);
    free(s->dyn.slots);
    free(s->restarts);
    free(s);
}

/* Registers the name and starts the children in order; on failure stops those
 * started (reverse order). Returns 0 or the error to report to the starter. */
static int sup_init(sup_t *s)
{
    size_t failed;
    int err;

    if (s->name[0] != '\0') {
        err = hearth_register(s->name, s->self);
        if (err)
            return err;
    }
    if (s->strategy == HEARTH_SIMPLE_ONE_FOR_ONE)
        return 0;
    err = start_range(s, 0, &failed);
    if (err)
        terminate_range(s, 0);
    return err;
}

static void sup_main(void *arg)
{
    sup_t *s = arg;
    hearth_reason_t reason;
    hearth_msg_t *m;
    int err;

    s->self = hearth_self();
    err = sup_init(s);
    m = hearth_msg_int(SUP_TAG_ACK, err);
    m->ref = s->ack_ref;
    hearth_send(s->starter, m);
    if (err) {
        /* The start failed and says so: leave without an exit signal to the parent
         * (nothing is left behind, as when a server's init fails). */
        if (s->parent != HEARTH_PID_NONE)
            hearth_unlink(s->parent);
        sup_free(s);
        return;
    }

    for (;;) {
        int what = SUP_GO_ON;

        if (hearth_receive(NULL, NULL, HEARTH_INFINITY, &m) != 0)
            continue;
        reason = HEARTH_SHUTDOWN;
        switch (m->tag) {
        case HEARTH_MSG_EXIT:
            if (s->parent != HEARTH_PID_NONE && m->from == s->parent) {
                reason = m->value; /* the parent goes, or tells us to: so do we */
                what = SUP_SHUTDOWN;
            } else {
                what = on_child_exit(s, m->from, m->value);
            }
            break;
        case HEARTH_MSG_CALL:
            on_call(s, m);
            break;
        case HEARTH_SERVER_TAG_STOP:
            reason = m->value;
            what = SUP_SHUTDOWN;
            break;
        case SUP_TAG_TRY_AGAIN:
            what = on_try_again(s, m);
            break;
        default:
            break; /* unexpected: OTP logs and drops it */
        }
        hearth_msg_free(m);
        if (what == SUP_SHUTDOWN)
            break;
    }
    terminate_all(s);
    sup_free(s);
    hearth_exit(reason);
}

struct ack_match {
    uint64_t ack_ref, mref;
};

static bool match_ack(const hearth_msg_t *m, void *arg)
{
    const struct ack_match *a = arg;

    return (m->tag == SUP_TAG_ACK && m->ref == a->ack_ref) ||
           (m->tag == HEARTH_MSG_DOWN && m->ref == a->mref);
}

static int flags_check(const hearth_sup_flags_t *f, const hearth_child_spec_t *children, size_t n)
{
    if ((unsigned)f->strategy > HEARTH_SIMPLE_ONE_FOR_ONE || f->intensity < 0 || f->period < 0)
        return HEARTH_EINVAL;
    if (f->name != NULL && strlen(f->name) >= ID_MAX)
        return HEARTH_EINVAL;
    if (n > 0 && children == NULL)
        return HEARTH_EINVAL;
    if (f->strategy == HEARTH_SIMPLE_ONE_FOR_ONE)
        return n == 1 ? spec_check(&children[0], NULL, false) : HEARTH_EINVAL;
    for (size_t i = 0; i < n; i++) {
        int err = spec_check(&children[i], children[i].id, true);

        if (err)
            return err;
        for (size_t j = 0; j < i; j++)
            if (strcmp(children[i].id, children[j].id) == 0)
                return HEARTH_EINVAL; /* OTP: duplicate_child_name */
    }
    return 0;
}

/* Returns 0 and the pid in *out once every child runs; HEARTH_EINVAL, HEARTH_EEXIST,
 * a child's start error, HEARTH_ESRCH if the supervisor was killed while starting, or
 * hearth_spawn_green's errors. On error nothing is left running. */
int hearth_supervisor_start(const hearth_sup_flags_t *flags, const hearth_child_spec_t *children,
                            size_t n, unsigned spawn_flags, hearth_pid_t *out)
{
    static const hearth_sup_flags_t defaults = {HEARTH_ONE_FOR_ONE, 1, 5, NULL};
    struct ack_match am;
    hearth_pid_t pid;
    hearth_msg_t *m;
    sup_t *s;
    int err;

    if (flags == NULL)
        flags = &defaults;
    err = flags_check(flags, children, n);
    if (err)
        return err;
    if (!can_block())
        return HEARTH_EINVAL;

    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return HEARTH_ENOMEM;
    s->strategy = flags->strategy;
    s->intensity = flags->intensity;
    s->period_ms = 1000 * (int64_t)(flags->period ? flags->period : 5);
    if (flags->name != NULL)
        strcpy(s->name, flags->name);
    s->starter = hearth_self();
    s->parent = (spawn_flags & HEARTH_SPAWN_LINK) ? s->starter : HEARTH_PID_NONE;
    s->ack_ref = hearth_make_ref();
    for (size_t i = 0; i < n; i++) {
        child_t c;

        child_init(&c, &children[i],
                   flags->strategy == HEARTH_SIMPLE_ONE_FOR_ONE ? NULL : children[i].id);
        child_append(s, &c);
    }

    /* Read before the spawn: from then on s belongs to the supervisor, which frees it
     * when it exits, possibly before this thread runs again. */
    am.ack_ref = s->ack_ref;
    err = hearth_spawn_green(sup_main, s, 0, spawn_flags | HEARTH_SPAWN_TRAP_EXIT, &pid);
    if (err)
        goto fail_spawn;
    /* A monitor on a process that is already gone still answers (DOWN noproc), so the
     * wait below always ends. */
    am.mref = 0;
    if (hearth_monitor(pid, &am.mref) != 0)
        am.mref = 0;
    err = hearth_receive(match_ack, &am, am.mref ? HEARTH_INFINITY : 0, &m);
    if (err)
        return HEARTH_ESRCH;
    if (m->tag == HEARTH_MSG_DOWN) {
        hearth_msg_free(m);
        return HEARTH_ESRCH; /* killed while starting */
    }
    err = (int)m->value;
    hearth_msg_free(m);
    if (err) {
        /* It is leaving on its own; return once it is gone. */
        if (am.mref && hearth_receive_ref(HEARTH_MSG_DOWN, am.mref, HEARTH_INFINITY, &m) == 0)
            hearth_msg_free(m);
        return err;
    }
    if (am.mref)
        hearth_demonitor(am.mref, true);
    if (out != NULL)
        *out = pid;
    return 0;

fail_spawn:
    sup_free(s);
    return err;
}

/* Returns what hearth_server_stop returns. */
int hearth_supervisor_stop(hearth_pid_t sup, hearth_reason_t reason, int64_t timeout_ms)
{
    return hearth_server_stop(sup, reason, timeout_ms);
}

/* ---- API calls ----------------------------------------------------------------------- */

/* Sends op with q to sup and waits for the reply. Returns the reply's error (its
 * header in *rep, the whole message in *keep if asked: the caller frees it), or
 * hearth_call's errors. */
static int sup_call(hearth_pid_t sup, int op, const sup_req_t *q, sup_rep_t *rep,
                    hearth_msg_t **keep)
{
    hearth_msg_t *m;
    int err;

    if (sup == hearth_self())
        return HEARTH_EINVAL; /* would wait for itself */
    err = hearth_call(sup, hearth_msg_copy((uint32_t)op, q, sizeof(*q)), HEARTH_INFINITY, &m);
    if (err)
        return err;
    if (m->len < sizeof(*rep)) {
        hearth_msg_free(m);
        return HEARTH_EINVAL; /* not a supervisor */
    }
    memcpy(rep, m->data, sizeof(*rep));
    if (keep != NULL)
        *keep = m;
    else
        hearth_msg_free(m);
    return rep->err;
}

static int req_id(sup_req_t *q, const char *id)
{
    memset(q, 0, sizeof(*q));
    if (id == NULL || strlen(id) >= ID_MAX)
        return HEARTH_EINVAL;
    strcpy(q->id, id);
    return 0;
}

/* Returns 0 and the pid in *out, or the errors listed in supervisor.h. */
int hearth_supervisor_start_child(hearth_pid_t sup, const hearth_child_spec_t *spec,
                                  hearth_pid_t *out)
{
    sup_rep_t rep = {0};
    sup_req_t q;
    int err;

    if (out != NULL)
        *out = HEARTH_PID_NONE;
    if (spec == NULL)
        return HEARTH_EINVAL;
    err = spec_check(spec, spec->id, true);
    if (err)
        return err;
    req_id(&q, spec->id);
    q.spec = *spec;
    q.spec.id = NULL;
    err = sup_call(sup, OP_START_CHILD, &q, &rep, NULL);
    if (out != NULL && (err == 0 || err == HEARTH_EEXIST))
        *out = rep.pid;
    return err;
}

/* Returns 0 and the pid in *out, or the errors listed in supervisor.h. */
int hearth_supervisor_start_dynamic(hearth_pid_t sup, void *arg, hearth_pid_t *out)
{
    sup_rep_t rep = {0};
    sup_req_t q;
    int err;

    memset(&q, 0, sizeof(q));
    q.arg = arg;
    err = sup_call(sup, OP_START_DYNAMIC, &q, &rep, NULL);
    if (out != NULL)
        *out = err == 0 ? rep.pid : HEARTH_PID_NONE;
    return err;
}

/* Returns 0 or the errors listed in supervisor.h. */
int hearth_supervisor_terminate_child(hearth_pid_t sup, const char *id)
{
    sup_rep_t rep;
    sup_req_t q;

    if (req_id(&q, id))
        return HEARTH_EINVAL;
    return sup_call(sup, OP_TERMINATE_CHILD, &q, &rep, NULL);
}

/* Returns 0 or the errors listed in supervisor.h. */
int hearth_supervisor_terminate_dynamic(hearth_pid_t sup, hearth_pid_t child)
{
    sup_rep_t rep;
    sup_req_t q;

    memset(&q, 0, sizeof(q));
    q.pid = child;
    return sup_call(sup, OP_TERMINATE_DYNAMIC, &q, &rep, NULL);
}

/* Returns 0 and the pid in *out, or the errors listed in supervisor.h. */
int hearth_supervisor_restart_child(hearth_pid_t sup, const char *id, hearth_pid_t *out)
{
    sup_rep_t rep = {0};
    sup_req_t q;
    int err;

    if (out != NULL)
        *out = HEARTH_PID_NONE;
    if (req_id(&q, id))
        return HEARTH_EINVAL;
    err = sup_call(sup, OP_RESTART_CHILD, &q, &rep, NULL);
    if (err == 0 && out != NULL)
        *out = rep.pid;
    return err;
}

/* Returns 0 or the errors listed in supervisor.h. */
int hearth_supervisor_delete_child(hearth_pid_t sup, const char *id)
{
    sup_rep_t rep;
    sup_req_t q;

    if (req_id(&q, id))
        return HEARTH_EINVAL;
    return sup_call(sup, OP_DELETE_CHILD, &q, &rep, NULL);
}

/* Returns 0 (up to cap entries in out, the total in *count) or HEARTH_ESRCH. */
int hearth_supervisor_which_children(hearth_pid_t sup, hearth_child_info_t *out, size_t cap,
                                     size_t *count)
{
    sup_rep_t rep;
    sup_req_t q;
    hearth_msg_t *m;
    size_t k;
    int err;

    memset(&q, 0, sizeof(q));
    err = sup_call(sup, OP_WHICH, &q, &rep, &m);
    if (err)
        return err;
    k = rep.n < cap ? rep.n : cap;
    if (m->len < sizeof(rep) + rep.n * sizeof(*out))
        k = 0; /* cannot happen: the supervisor sizes it */
    if (k > 0)
        memcpy(out, (char *)m->data + sizeof(rep), k * sizeof(*out));
    if (count != NULL)
        *count = rep.n;
    hearth_msg_free(m);
    return 0;
}

/* Returns 0 and the counts in *out, or HEARTH_ESRCH. */
int hearth_supervisor_count_children(hearth_pid_t sup, hearth_child_counts_t *out)
{
    sup_rep_t rep;
    sup_req_t q;
    int err;

    memset(&q, 0, sizeof(q));
    err = sup_call(sup, OP_COUNT, &q, &rep, NULL);
    if (err == 0)
        *out = rep.counts;
    return err;
}
