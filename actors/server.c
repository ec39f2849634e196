/* The server behaviour (include/hearth/server.h): one shared event-process actor whose
 * handler sorts messages into a server's calls, casts, infos and stop requests.
 *
 * Each server is an event process whose state is a small wrapper (the callbacks, the
 * user's state and the parent's pid), so the actor itself stays one static, const
 * instance for every server, as hearth_actor_t wants. Calls and replies ride on the
 * runtime's own call protocol (hearth_call, hearth_reply), which monitors the server
 * while a caller waits: that is what turns a dead or dying server into HEARTH_ESRCH
 * instead of a hang. Built only on the public API. */
#include "hearth/server.h"

#include <stdlib.h>

typedef struct server {
    const hearth_server_cbs_t *cbs;
    void *state;         /* the user's state */
    void *block;         /* the state_size block, or NULL */
    const char *name;    /* to register before init, or NULL (start only) */
    hearth_pid_t parent; /* who started us linked, or HEARTH_PID_NONE */
    int init_rc;         /* init's positive answer, read by hearth_server_start */
} server_t;

static int server_init(void **state, void *arg)
{
    server_t *s = arg;
    void *user_arg = s->state;
    int rc;

    *state = s;
    if (s->name != NULL) {
        rc = hearth_register(s->name, hearth_self());
        if (rc)
            return rc; /* a failed spawn frees the name again */
    }
    if (s->block != NULL)
        s->state = s->block;
    if (s->cbs->init == NULL)
        return 0;
    rc = s->cbs->init(&s->state, user_arg);
    if (rc <= 0)
        return rc;
    /* hearth_spawn's init fails only with a negative code: keep the positive answer
     * (ignore) where hearth_server_start can find it, and fail the spawn. */
    s->init_rc = rc;
    return HEARTH_ECANCELED;
}

static int server_handle(void *state, hearth_msg_t *m)
{
    server_t *s = state;
    const hearth_server_cbs_t *cbs = s->cbs;

    if (m->tag == HEARTH_MSG_CALL) {
        hearth_server_from_t from = {m->from, m->ref};
        hearth_msg_t *reply = NULL;
        int rc;

        /* hearth_call parked the request's own tag in value. */
        m->tag = (uint32_t)m->value;
        m->value = 0;
        rc = cbs->handle_call(s->state, m, &from, &reply);
        if (reply != NULL)
            hearth_reply(from.caller, from.ref, reply); /* a gone caller is no error */
        return rc;
    }
    if (m->ref == HEARTH_SERVER_CAST_REF && m->tag < HEARTH_MSG_SYSTEM)
        return cbs->handle_cast != NULL ? cbs->handle_cast(s->state, m) : 0;
    if (m->tag == HEARTH_SERVER_TAG_STOP) {
        hearth_exit(m->value); /* terminate runs with this reason after we return */
        return 0;
    }
    /* A trapped exit from the parent ends the server with the parent's reason, so a
     * supervisor's shutdown runs terminate (OTP's gen_server does the same). */
    if (m->tag == HEARTH_MSG_EXIT && s->parent != HEARTH_PID_NONE && m->from == s->parent) {
        hearth_exit(m->value);
        return 0;
    }
    return cbs->handle_info != NULL ? cbs->handle_info(s->state, m) : 0;
}

static void server_terminate(void *state, hearth_reason_t reason)
{
    server_t *s = state;

    if (s->cbs->terminate != NULL)
        s->cbs->terminate(s->state, reason);
    free(s->block);
    free(s);
}

static const hearth_actor_t server_actor = {
    .name = "server",
    .init = server_init,
    .handle = server_handle,
    .terminate = server_terminate,
};

/* hearth_server_start, registering the server under name (if not NULL) first. */
static int server_start(const hearth_server_cbs_t *cbs, void *arg, unsigned flags, const char *name,
                        hearth_pid_t *out)
{
    server_t *s;
    int err;

    if (cbs == NULL || cbs->handle_call == NULL)
        return HEARTH_EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return HEARTH_ENOMEM;
    s->cbs = cbs;
    s->state = arg;
    s->name = name;
    s->parent = (flags & HEARTH_SPAWN_LINK) ? hearth_self() : HEARTH_PID_NONE;
    if (cbs->state_size > 0) {
        s->block = calloc(1, cbs->state_size);
        if (s->block == NULL) {
            err = HEARTH_ENOMEM;
            goto fail_block;
        }
    }

    err = hearth_spawn(&server_actor, s, flags, out); /* from here s may be freed */
    if (err)
        goto fail_spawn;
    return 0;

fail_spawn:
    if (s->init_rc > 0)
        err = s->init_rc == HEARTH_SERVER_IGNORE ? HEARTH_SERVER_IGNORE : HEARTH_EINVAL;
    free(s->block);
fail_block:
    free(s);
    return err;
}

/* Returns 0 and the pid in *out, init's negative code or HEARTH_SERVER_IGNORE, or
 * hearth_spawn's errors. On success the wrapper belongs to the server (freed by its
 * terminate); on error it is freed here and arg stays the caller's. */
int hearth_server_start(const hearth_server_cbs_t *cbs, void *arg, unsigned flags,
                        hearth_pid_t *out)
{
    return server_start(cbs, arg, flags, NULL, out);
}

/* Returns what hearth_server_start returns. child stays the caller's. */
int hearth_server_child_start(void *child, hearth_pid_t *out)
{
    const hearth_server_child_t *c = child;

    return server_start(c->cbs, c->arg, c->flags | HEARTH_SPAWN_LINK, c->name, out);
}

/* Returns 0 and the reply (the caller's, its tag restored), HEARTH_ESRCH,
 * HEARTH_ETIMEDOUT or HEARTH_EINVAL. Always takes request. */
int hearth_server_call(hearth_pid_t pid, hearth_msg_t *request, int64_t timeout_ms,
                       hearth_msg_t **reply)
{
    int err;

    err = hearth_call(pid, request, timeout_ms, reply);
    if (err)
        return err;
    (*reply)->tag = (uint32_t)(*reply)->value; /* hearth_reply parked it there */
    (*reply)->value = 0;
    return 0;
}

/* Returns 0 or HEARTH_ESRCH. Always takes msg. */
int hearth_server_cast(hearth_pid_t pid, hearth_msg_t *msg)
{
    msg->ref = HEARTH_SERVER_CAST_REF;
    return hearth_send(pid, msg);
}

/* Returns 0 or HEARTH_ESRCH. Always takes reply. */
int hearth_server_reply(const hearth_server_from_t *from, hearth_msg_t *reply)
{
    return hearth_reply(from->caller, from->ref, reply);
}

static bool match_nothing(const hearth_msg_t *m, void *arg)
{
    (void)m;
    (void)arg;
    return false;
}

/* Returns 0, HEARTH_ESRCH, HEARTH_ETIMEDOUT or HEARTH_EINVAL. */
int hearth_server_stop(hearth_pid_t pid, hearth_reason_t reason, int64_t timeout_ms)
{
    hearth_msg_t *m;
    uint64_t mref;
    hearth_reason_t down;
    int err;

    if (pid == hearth_self())
        return HEARTH_EINVAL;
    /* Only a process that can block may wait: a look at an empty selection tells
     * (an event process gets HEARTH_EINVAL) without taking anything. */
    if (hearth_receive(match_nothing, NULL, 0, &m) == HEARTH_EINVAL)
        return HEARTH_EINVAL;
    err = hearth_monitor(pid, &mref);
    if (err)
        return err;
    hearth_send(pid, hearth_msg_int(HEARTH_SERVER_TAG_STOP, reason));
    err = hearth_receive_ref(HEARTH_MSG_DOWN, mref, timeout_ms, &m);
    if (err)
        goto fail_wait;
    down = m->value;
    hearth_msg_free(m);
    /* A monitor on a process already gone reports noproc at once. */
    return down == HEARTH_NOPROC ? HEARTH_ESRCH : 0;

fail_wait:
    hearth_demonitor(mref, true);
    return err;
}
