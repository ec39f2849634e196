/* The listener process: listens on the server's address and gives each accepted
 * socket to a new connection process.
 *
 * It does nothing else, so accepting never waits behind a slow request. The runtime
 * spreads accepted sockets over the schedulers' loops; the connection processes it
 * spawns are not linked to it, so a listener that crashes and is restarted by its
 * supervisor drops no established connection (and a stopped listener only stops
 * accepting). */
#include "internal.h"

#include <stdlib.h>

typedef struct listener {
    http_server_t *srv;
    hearth_sock_t lsock;
} listener_t;

static int listener_init(void **state, void *arg)
{
    http_server_t *srv = arg;
    listener_t *l;
    int err, port;

    l = http__calloc(1, sizeof(*l));
    l->srv = srv;
    err = hearth_tcp_listen(srv->bind ? srv->bind : "0.0.0.0", srv->port,
                            srv->backlog > 0 ? srv->backlog : 1024, &l->lsock);
    if (err)
        goto fail;
    port = hearth_tcp_port(l->lsock);
    if (port < 0) {
        err = port;
        goto fail_port;
    }
    srv->bound_port = port;
    *state = l;
    return 0;

fail_port:
    hearth_tcp_close(l->lsock);
fail:
    free(l);
    return err;
}

/* Spawns the connection process for s and makes it s's owner. On error s is
 * closed: the client sees its connection end. */
static void accept_one(listener_t *l, hearth_sock_t s)
{
    hearth_pid_t pid;
    hearth_msg_t *m;
    int err;

    err = hearth_spawn(&http__conn_actor, l->srv, 0, &pid);
    if (err)
        goto fail;
    err = hearth_tcp_give(s, pid);
    if (err)
        goto fail_give;
    m = hearth_msg_int(HTTP_TAG_START, 0);
    m->ref = s;
    hearth_send(pid, m);
    return;

fail_give:
    hearth_exit_signal(pid, HEARTH_KILL);
fail:
    hearth_tcp_close(s);
}

static int listener_handle(void *state, hearth_msg_t *m)
{
    listener_t *l = state;

    if (m->tag == HEARTH_MSG_TCP_ACCEPTED)
        accept_one(l, m->ref);
    return 0;
}

static void listener_terminate(void *state, hearth_reason_t reason)
{
    (void)reason;
    free(state); /* the listening socket closes with the process */
}

static const hearth_actor_t listener_actor = {"http-listener", listener_init, listener_handle,
                                              listener_terminate};

int http_listener_start(http_server_t *srv, unsigned spawn_flags, hearth_pid_t *out)
{
    if (srv == NULL)
        return HEARTH_EINVAL;
    /* Resolved once, before any connection process can read them; a restart by a
     * supervisor finds them ready and writes nothing. */
    if (!srv->ready_) {
        srv->lim_ = http__limits_resolve(&srv->limits);
        srv->ready_ = true;
    }
    return hearth_spawn(&listener_actor, srv, spawn_flags, out);
}

int http_listener_child_start(void *arg, hearth_pid_t *out)
{
    return http_listener_start(arg, HEARTH_SPAWN_LINK, out);
}
