/* The connection process in HTTP mode, and the request processes it starts.
 *
 * A connection process owns its socket from the listener's START on. It feeds what
 * it reads to its parser and, for each complete request, routes it:
 *   - no route, or a parse error: it writes the error response itself (a parse
 *     error also closes the connection, since the byte stream can no longer be
 *     trusted);
 *   - a WebSocket route: conn_ws.c takes over the process;
 *   - a REST route: it spawns a request process (a green thread) with the request,
 *     monitors it and waits. The request process runs the handler, writes the
 *     serialized response to the socket itself (a connection has one writer at a
 *     time: the connection process writes nothing while a request is out) and sends
 *     DONE. Only then does the connection take the next request, which is how
 *     pipelined requests are answered in order. A request process that dies before
 *     DONE gets its client a 500 and a closed connection.
 * Bytes that keep arriving while a request is out are buffered up to
 * HTTP_READ_PAUSE, then reading stops until the request is done: a client cannot
 * make the buffer grow by pipelining.
 *
 * The request's memory (a job) is shared by the connection and the request process
 * with a count of two: each drops its reference when done with it, and the connection
 * also drops the request process's when that one dies before DONE (a crashed handler
 * never gets to), so neither a crash nor a client gone mid-request leaks it.
 *
 * Memory: the parser (and its buffer) exists only while bytes are buffered, so an
 * idle keep-alive connection is this struct and its process. One timer closes a
 * connection that stays idle for limits.idle_ms. */
#include "internal.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a request process gets: the request follows this header in one block. */
typedef struct http_job {
    _Atomic int refs; /* the connection's and the request process's */
    const http_server_t *srv;
    http_handler_fn fn;
    void *udata;
    hearth_sock_t sock;
    hearth_pid_t conn;
    uint64_t id;
    bool head;
    alignas(16) http_request_t req[]; /* built by http_parser_take */
} job_t;

/* Drops n references to job; the last frees it. */
static void job_unref(job_t *job, int n)
{
    /* acq_rel: the last one to drop sees every write the other made to the job. */
    if (atomic_fetch_sub_explicit(&job->refs, n, memory_order_acq_rel) == n)
        free(job);
}

void http__conn_timer(http_conn_t *c, uint64_t ms)
{
    hearth_msg_t *m;

    if (c->timer != 0)
        hearth_timer_cancel(c->timer);
    c->timer = 0;
    c->timer_gen++;
    if (ms == 0)
        return;
    m = hearth_msg_int(HTTP_TAG_TIMER, c->timer_gen);
    if (hearth_send_after(hearth_self(), m, ms, &c->timer) != 0)
        c->timer = 0;
}

static int conn_init(void **state, void *arg)
{
    http_conn_t *c = http__calloc(1, sizeof(*c));

    c->srv = arg;
    c->mode = CONN_HTTP;
    *state = c;
    return 0;
}

static void parser_drop(http_conn_t *c)
{
    if (c->u.h.parser != NULL) {
        http_parser_free(c->u.h.parser);
        free(c->u.h.parser);
        c->u.h.parser = NULL;
    }
}

/* Writes a transport-level error; with close, closes the socket after it. Returns
 * what handle returns. */
static int write_error(http_conn_t *c, int status, int minor, bool close, const char *extra)
{
    hearth_payload_t *p = http__error_payload(status, minor, close, extra);

    hearth_tcp_write_shared(c->sock, p);
    hearth_payload_unref(p);
    if (!close)
        return 0;
    hearth_tcp_close(c->sock);
    return HEARTH_STOP;
}

/* The request process: runs the handler, writes the response, reports. */
static void request_main(void *arg)
{
    job_t *job = arg;
    http_response_t res;
    hearth_payload_t *p;
    hearth_msg_t *m;
    bool close;

    http__response_init(&res);
    job->fn(job->req, &res, job->udata);
    close = !job->req->keep_alive || res.close;
    p = http__response_serialize(&res, job->req->minor, job->head, close);
    /* A full queue means the client stopped reading responses: give up on it. */
    if (hearth_tcp_write_shared(job->sock, p) != 0)
        close = true;
    hearth_payload_unref(p);
    http__response_free(&res);
    m = hearth_msg_int(HTTP_TAG_DONE, close);
    m->ref = job->id;
    hearth_send(job->conn, m);
    job_unref(job, 1);
}

/* Routes the request in job (which this takes). Returns 0 to go on with the next
 * buffered request, 1 when a request process now has it, or what handle returns. */
static int dispatch(http_conn_t *c, job_t *job)
{
    http_request_t *req = job->req;
    bool upgrade = http__header_has_token(req, "Upgrade", "websocket");
    bool close = !req->keep_alive;
    int minor = req->minor;
    char extra[96];
    http_match_t mt;
    hearth_pid_t pid;
    char *left;
    size_t nleft;
    int r;

    http__route(c->srv->router, req, upgrade, &mt);
    if (mt.status != 0) {
        extra[0] = '\0';
        if (mt.status == 405)
            snprintf(extra, sizeof(extra), "Allow: %s\r\n", mt.allow);
        else if (mt.status == 426)
            snprintf(extra, sizeof(extra), "Upgrade: websocket\r\n");
        free(job);
        return write_error(c, mt.status, minor, close, extra[0] ? extra : NULL);
    }
    if (mt.ws != NULL) {
        nleft = http_parser_detach(c->u.h.parser, &left);
        parser_drop(c);
        r = http__ws_upgrade(c, req, &mt, left, nleft);
        free(job);
        return r;
    }
    if (hearth_tcp_peer(c->sock, req->peer, sizeof(req->peer)) != 0)
        req->peer[0] = '\0'; /* per-IP limits then see one unknown client */
    job->srv = c->srv;
    job->fn = mt.fn;
    job->udata = mt.udata;
    job->sock = c->sock;
    job->conn = hearth_self();
    job->id = ++c->u.h.req_id;
    job->head = strcmp(req->method, "HEAD") == 0;
    atomic_init(&job->refs, 2);
    if (hearth_spawn_green(request_main, job, c->srv->lim_.stack_size, 0, &pid) != 0) {
        free(job);
        return write_error(c, 503, minor, true, NULL);
    }
    /* If the request process is already gone, the DOWN comes after its DONE, which
     * is then handled first. */
    hearth_monitor(pid, &c->u.h.mon);
    c->u.h.job = job;
    c->busy = true;
    http__conn_timer(c, 0);
    return 1;
}

/* Takes and routes the buffered requests until one goes to a request process or
 * more bytes are needed. Returns what handle returns. */
static int process(http_conn_t *c)
{
    http_parser_t *p;
    job_t *job;
    int r;

    while (!c->busy && c->mode == CONN_HTTP && (p = c->u.h.parser) != NULL) {
        r = http_parser_next(p);
        if (r == HTTP_PARSE_ERROR)
            return write_error(c, p->status, 1, true, NULL);
        if (r == HTTP_PARSE_MORE) {
            if (p->want_continue) {
                p->want_continue = false;
                hearth_tcp_write(c->sock, "HTTP/1.1 100 Continue\r\n\r\n", 25);
            }
            if (http_parser_buffered(p) == 0)
                parser_drop(c); /* idle: hold nothing */
            break;
        }
        job = http__malloc(sizeof(job_t) + http_parser_request_size(p));
        http_parser_take(p, job->req);
        r = dispatch(c, job);
        if (r == 1)
            break;
        if (r != 0)
            return r;
    }
    if (c->mode != CONN_HTTP)
        return 0;
    if (c->paused && !c->busy) {
        c->paused = false;
        hearth_tcp_read_start(c->sock);
    }
    if (!c->busy)
        http__conn_timer(c, c->srv->lim_.idle_ms);
    return 0;
}

static int on_data(http_conn_t *c, hearth_msg_t *m)
{
    if (c->u.h.parser == NULL) {
        c->u.h.parser = http__malloc(sizeof(http_parser_t));
        http_parser_init(c->u.h.parser, &c->srv->lim_);
    }
    if (http_parser_feed(c->u.h.parser, m->data, m->len) != 0)
        return write_error(c, c->u.h.parser->status, 1, true, NULL);
    if (!c->busy)
        return process(c);
    if (!c->paused && http_parser_buffered(c->u.h.parser) > HTTP_READ_PAUSE) {
        c->paused = true;
        hearth_tcp_read_stop(c->sock);
    }
    return 0;
}

static int conn_handle(void *state, hearth_msg_t *m)
{
    http_conn_t *c = state;

    if (c->mode != CONN_HTTP)
        return http__ws_handle(c, m);
    switch (m->tag) {
    case HTTP_TAG_START:
        c->sock = m->ref;
        if (hearth_tcp_read_start(c->sock) != 0)
            return HEARTH_STOP;
        http__conn_timer(c, c->srv->lim_.idle_ms);
        return 0;
    case HEARTH_MSG_TCP_DATA:
        return m->ref == c->sock ? on_data(c, m) : 0;
    case HEARTH_MSG_TCP_CLOSED:
        /* A request process still running finishes; its writes just fail. */
        return m->ref == c->sock ? HEARTH_STOP : 0;
    case HTTP_TAG_DONE:
        if (!c->busy || m->ref != c->u.h.req_id)
            return 0;
        c->busy = false;
        hearth_demonitor(c->u.h.mon, false);
        c->u.h.mon = 0;
        job_unref(c->u.h.job, 1);
        c->u.h.job = NULL;
        if (m->value) {
            hearth_tcp_close(c->sock);
            return HEARTH_STOP;
        }
        return process(c);
    case HEARTH_MSG_DOWN:
        if (!c->busy || m->ref != c->u.h.mon)
            return 0;
        /* Died before DONE: the handler crashed, and never dropped its reference. */
        c->busy = false;
        job_unref(c->u.h.job, 2);
        c->u.h.job = NULL;
        return write_error(c, 500, 1, true, NULL);
    case HTTP_TAG_TIMER:
        if (m->value != c->timer_gen || c->busy)
            return 0;
        c->timer = 0;
        hearth_tcp_close(c->sock);
        return HEARTH_STOP;
    default:
        return 0;
    }
}

static void conn_terminate(void *state, hearth_reason_t reason)
{
    http_conn_t *c = state;

    (void)reason;
    if (c->mode == CONN_HTTP && c->u.h.job != NULL)
        job_unref(c->u.h.job, 1); /* the request process finishes with its own */
    if (c->mode == CONN_HTTP)
        parser_drop(c);
    else
        http__ws_terminate(c);
    if (c->timer != 0)
        hearth_timer_cancel(c->timer);
    free(c);
}

const hearth_actor_t http__conn_actor = {"http-conn", conn_init, conn_handle, conn_terminate};
