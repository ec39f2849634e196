/* The connection process in WebSocket mode: the handshake, frames in and out, the
 * closing handshake, and moving a socket to another connection process.
 *
 * After the 101 the connection process hosts the session: the gateway's
 * ws_handler_t gets each complete message (message), every other message the
 * process receives (info: fan-out events, timers, replies), and the end (closed).
 * The process is the only writer of its socket, so a frame's header and payload are
 * never interleaved with another frame's, and every frame queued in one callback
 * leaves in one write. A shared payload goes out as a few header bytes of this
 * connection's plus a reference to the payload (ws_send_shared).
 *
 * Modes (http_conn_t.mode):
 *   CONN_WS          open: frames flow both ways
 *   CONN_WS_CLOSING  we sent a close: incoming data frames are dropped until the
 *                    peer's close (or a 5 s timer), then the socket is closed
 *   CONN_DETACHED    no socket (closed returned WS_KEEP): info only, until a socket
 *                    is moved here or the handler ends the process
 *   CONN_MOVED       the socket was given to another process (ws_conn_move): what
 *                    the socket had already delivered here is forwarded, then the
 *                    process ends
 *
 * Moving a socket (a RESUME on a new connection, say): the mover stops reading, gives
 * the socket to the target and sends it ADOPT (the handler's blob); then FWD with the
 * bytes its decoder holds past the current frame, and FWD again for every read that
 * still reaches it, until the runtime's HEARTH_MSG_TCP_GIVEN says no more will; then
 * FWD_END, and it ends. The target closes its old socket if it has one, calls adopt,
 * decodes the forwarded bytes in order, and starts reading at FWD_END, so the byte
 * stream stays in order across the move. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOSE_TIMEOUT_MS 5000
/* Frames up to this size are written as one copied buffer, header and payload. */
#define SMALL_FRAME 4096

/* What the decoder's callbacks report back to the feeding code. */
typedef struct feed_ctx {
    http_conn_t *c;
    int rc;      /* a handler's negative code */
    bool closed; /* the closing handshake finished */
    int code;
    size_t rlen;
    char reason[124];
} feed_ctx_t;

/* ---- writing frames ------------------------------------------------------------------ */

/* Queues one frame (opcode, len bytes at data) regardless of mode. */
static int frame_write(http_conn_t *c, int opcode, const void *data, size_t len)
{
    uint8_t small[SMALL_FRAME + 10];
    size_t h;
    int err;

    if (len <= SMALL_FRAME) {
        h = ws_frame_header(small, opcode, len);
        if (len)
            memcpy(small + h, data, len);
        return hearth_tcp_write(c->sock, small, h + len);
    }
    h = ws_frame_header(small, opcode, len);
    err = hearth_tcp_write(c->sock, small, h);
    if (err)
        return err;
    err = hearth_tcp_write(c->sock, data, len);
    if (err) {
        /* Half a frame is queued: the stream is broken. */
        hearth_tcp_close(c->sock);
        c->mode = CONN_WS_CLOSING;
        return HEARTH_EPIPE;
    }
    return 0;
}

static int close_frame(http_conn_t *c, int code, const char *reason, size_t rlen)
{
    uint8_t pl[125];

    if (code == 0 || code == WS_CLOSE_NO_STATUS)
        return frame_write(c, WS_OP_CLOSE, NULL, 0);
    if (rlen > 123) {
        rlen = 123;
        /* Cut at a character boundary: a close reason must stay UTF-8. */
        while (rlen > 0 && ((uint8_t)reason[rlen] & 0xC0) == 0x80)
            rlen--;
    }
    pl[0] = (uint8_t)(code >> 8);
    pl[1] = (uint8_t)code;
    if (rlen)
        memcpy(pl + 2, reason, rlen);
    return frame_write(c, WS_OP_CLOSE, pl, 2 + rlen);
}

int ws_send_text(ws_conn_t *c, const void *data, size_t len)
{
    if (c->mode != CONN_WS)
        return HEARTH_EPIPE;
    return frame_write(c, WS_OP_TEXT, data, len);
}

int ws_send_binary(ws_conn_t *c, const void *data, size_t len)
{
    if (c->mode != CONN_WS)
        return HEARTH_EPIPE;
    return frame_write(c, WS_OP_BINARY, data, len);
}

int ws_send_shared(ws_conn_t *c, int opcode, hearth_payload_t *p)
{
    uint8_t hdr[10];
    size_t h;
    int err;

    if (c->mode != CONN_WS)
        return HEARTH_EPIPE;
    if (opcode != WS_TEXT && opcode != WS_BINARY)
        return HEARTH_EINVAL;
    h = ws_frame_header(hdr, opcode, hearth_payload_len(p));
    err = hearth_tcp_write(c->sock, hdr, h);
    if (err)
        return err;
    err = hearth_tcp_write_shared(c->sock, p);
    if (err) {
        hearth_tcp_close(c->sock);
        c->mode = CONN_WS_CLOSING;
        return HEARTH_EPIPE;
    }
    return 0;
}

/* Parts below this many bytes in all are joined and written as one copied buffer: for
 * a small message, one memcpy is cheaper than three queued writes. */
#define PARTS_COPY_BELOW 2048

int ws_send_parts(ws_conn_t *c, int opcode, const void *pre, size_t prelen, hearth_payload_t *p,
                  size_t off, size_t len, const void *suf, size_t suflen)
{
    uint8_t buf[10 + 256];
    size_t h, total = prelen + len + suflen;
    int err;

    if (c->mode != CONN_WS)
        return HEARTH_EPIPE;
    if (opcode != WS_TEXT && opcode != WS_BINARY)
        return HEARTH_EINVAL;
    if (off > hearth_payload_len(p) || len > hearth_payload_len(p) - off || prelen > 256)
        return HEARTH_EINVAL;
    if (total < PARTS_COPY_BELOW) {
        uint8_t joined[PARTS_COPY_BELOW + 10];
        h = ws_frame_header(joined, opcode, total);
        memcpy(joined + h, pre, prelen);
        memcpy(joined + h + prelen, (const char *)hearth_payload_data(p) + off, len);
        if (suflen > 0) /* suf may be NULL when there is none */
            memcpy(joined + h + prelen + len, suf, suflen);
        return hearth_tcp_write(c->sock, joined, h + total);
    }
    h = ws_frame_header(buf, opcode, total);
    memcpy(buf + h, pre, prelen);
    err = hearth_tcp_write(c->sock, buf, h + prelen);
    if (err)
        return err;
    err = hearth_tcp_write_shared_range(c->sock, p, off, len);
    if (err == 0 && suflen > 0)
        err = hearth_tcp_write(c->sock, suf, suflen);
    if (err) {
        /* Part of a frame is queued: the stream is broken. */
        hearth_tcp_close(c->sock);
        c->mode = CONN_WS_CLOSING;
        return HEARTH_EPIPE;
    }
    return 0;
}

int ws_send_msg(ws_conn_t *c, int opcode, const hearth_msg_t *m)
{
    hearth_payload_t *p = hearth_msg_payload(m);

    if (p != NULL)
        return ws_send_shared(c, opcode, p);
    if (c->mode != CONN_WS)
        return HEARTH_EPIPE;
    return frame_write(c, opcode == WS_BINARY ? WS_OP_BINARY : WS_OP_TEXT, m->data, m->len);
}

int ws_close(ws_conn_t *c, int code, const char *reason)
{
    if (c->mode != CONN_WS)
        return HEARTH_EPIPE;
    close_frame(c, code, reason, reason ? strlen(reason) : 0);
    c->mode = CONN_WS_CLOSING;
    c->u.w.close_code = code;
    http__conn_timer(c, CLOSE_TIMEOUT_MS);
    return 0;
}

void *ws_conn_state(ws_conn_t *c)
{
    return c->u.w.state;
}

bool ws_conn_open(const ws_conn_t *c)
{
    return c->mode == CONN_WS;
}

/* ---- the end of a connection ---------------------------------------------------------- */

/* The socket is closed (or closing after its queued writes): tells the handler.
 * Returns what handle returns. */
static int finish(http_conn_t *c, int code, const char *reason, size_t rlen)
{
    int r = 0;

    c->mode = CONN_DETACHED;
    c->sock = 0;
    c->awaiting_fwd = false;
    ws_decoder_free(&c->u.w.dec);
    ws_decoder_init(&c->u.w.dec, c->srv->lim_.ws_max_message);
    http__conn_timer(c, 0);
    if (c->u.w.vt->closed != NULL)
        r = c->u.w.vt->closed(c, c->u.w.state, code, reason, rlen);
    if (r == WS_KEEP)
        return 0;
    return r < 0 ? r : HEARTH_STOP;
}

/* Fails the connection with code (a protocol violation, a handler's error). */
static int fail(http_conn_t *c, int code)
{
    if (c->mode == CONN_WS)
        close_frame(c, code, NULL, 0);
    hearth_tcp_close(c->sock);
    return finish(c, code, NULL, 0);
}

/* The peer broke the protocol (1002, 1007, 1009): send the close frame, then keep
 * reading and throwing input away until the peer closes (or DRAIN_MS), instead of
 * closing with unread bytes in the kernel's buffer, which makes TCP reset the
 * connection and lose the close frame on the way to the client. */
#define DRAIN_MS 2000

static int fail_draining(http_conn_t *c, int code)
{
    if (c->mode != CONN_WS)
        return fail(c, code);
    close_frame(c, code, NULL, 0);
    ws_decoder_free(&c->u.w.dec);
    c->mode = CONN_WS_CLOSING;
    c->u.w.close_code = code;
    c->u.w.drain = true;
    http__conn_timer(c, DRAIN_MS);
    return 0;
}

/* ---- reading frames ------------------------------------------------------------------------ */

static int on_event(void *arg, int opcode, uint8_t *data, size_t len)
{
    feed_ctx_t *x = arg;
    http_conn_t *c = x->c;
    int r;

    switch (opcode) {
    case WS_OP_TEXT:
    case WS_OP_BINARY:
        if (c->mode != CONN_WS)
            return 0; /* after our close, data is dropped (RFC 6455 5.5.1) */
        r = c->u.w.vt->message(c, c->u.w.state, opcode, data, len);
        if (r < 0) {
            x->rc = r;
            return 1;
        }
        /* A move leaves the rest for the new owner; a close goes on to find the
         * peer's answer. */
        return c->mode == CONN_MOVED;
    case WS_OP_PING:
        if (c->mode == CONN_WS)
            frame_write(c, WS_OP_PONG, data, len);
        return 0;
    case WS_OP_PONG:
        return 0;
    case WS_OP_CLOSE:
        x->closed = true;
        x->code = len >= 2 ? data[0] << 8 | data[1] : WS_CLOSE_NO_STATUS;
        x->rlen = len >= 2 ? len - 2 : 0;
        memcpy(x->reason, data + 2, x->rlen);
        x->reason[x->rlen] = '\0';
        if (c->mode == CONN_WS) {
            /* The peer started it: echo its code, then the server closes first. */
            close_frame(c, x->code, NULL, 0);
        } else if (len < 2) {
            x->code = c->u.w.close_code; /* our close, answered without a code */
        }
        hearth_tcp_close(c->sock);
        return 1;
    default:
        return 0;
    }
}

/* After a move: the decoder's leftover bytes go to the new owner, and the marker
 * that ends the forwarding to ourselves. */
static void moved_flush(http_conn_t *c)
{
    const uint8_t *rest;
    size_t n = ws_decoder_pending(&c->u.w.dec, &rest);

    if (n > 0)
        hearth_send(c->u.w.moved_to, hearth_msg_copy(HTTP_TAG_FWD, rest, n));
    ws_decoder_free(&c->u.w.dec);
}

/* Decodes len bytes at data (writable). Returns what handle returns. */
static int input(http_conn_t *c, uint8_t *data, size_t len)
{
    feed_ctx_t x;
    int code;

    if (c->u.w.drain)
        return 0; /* after a protocol failure: thrown away */
    memset(&x, 0, sizeof(x));
    x.c = c;
    code = ws_decoder_feed(&c->u.w.dec, data, len, on_event, &x);
    if (c->mode == CONN_MOVED) {
        moved_flush(c);
        return 0;
    }
    if (x.rc < 0)
        return fail(c, WS_CLOSE_INTERNAL);
    if (x.closed)
        return finish(c, x.code, x.reason, x.rlen);
    if (code > 0)
        return fail_draining(c, code);
    return 0;
}

/* ---- the upgrade ---------------------------------------------------------------------------- */

int http__ws_upgrade(http_conn_t *c, http_request_t *req, const http_match_t *m, char *leftover,
                     size_t nleftover)
{
    const char *key = http_request_header(req, "Sec-WebSocket-Key");
    const char *ver = http_request_header(req, "Sec-WebSocket-Version");
    char accept[29], resp[160];
    hearth_payload_t *p;
    void *state = NULL;
    int n, err;

    if (strcmp(req->method, "GET") != 0 || req->minor != 1 ||
        !http__header_has_token(req, "Connection", "upgrade") || ws_accept_key(key, accept) != 0) {
        p = http__error_payload(400, req->minor, true, NULL);
        goto refuse;
    }
    if (ver == NULL || strcmp(ver, "13") != 0) {
        p = http__error_payload(426, req->minor, true, "Sec-WebSocket-Version: 13\r\n");
        goto refuse;
    }
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                 accept);
    hearth_tcp_write(c->sock, resp, (size_t)n);

    http__conn_timer(c, 0);
    c->mode = CONN_WS;
    memset(&c->u.w, 0, sizeof(c->u.w));
    ws_decoder_init(&c->u.w.dec, c->srv->lim_.ws_max_message);
    err = m->ws->open(c, req, m->udata, &state);
    if (err < 0) {
        free(leftover);
        close_frame(c, WS_CLOSE_INTERNAL, NULL, 0);
        hearth_tcp_close(c->sock);
        c->mode = CONN_DETACHED; /* vt stays NULL: nothing more is called */
        return HEARTH_STOP;
    }
    c->u.w.vt = m->ws;
    c->u.w.state = state;
    if (nleftover == 0)
        return 0;
    err = input(c, (uint8_t *)leftover, nleftover);
    free(leftover);
    return err;

refuse:
    free(leftover);
    hearth_tcp_write_shared(c->sock, p);
    hearth_payload_unref(p);
    hearth_tcp_close(c->sock);
    return HEARTH_STOP;
}

/* ---- moving a socket ------------------------------------------------------------------------ */

int ws_conn_move(ws_conn_t *c, hearth_pid_t to, const void *blob, size_t len)
{
    hearth_msg_t *m;
    int err;

    if (c->mode != CONN_WS)
        return HEARTH_EPIPE;
    if (to == hearth_self())
        return HEARTH_EINVAL;
    if (!hearth_is_alive(to))
        return HEARTH_ESRCH;
    hearth_tcp_read_stop(c->sock);
    err = hearth_tcp_give(c->sock, to);
    if (err) {
        hearth_tcp_read_start(c->sock);
        return err;
    }
    m = hearth_msg_copy(HTTP_TAG_ADOPT, blob, len);
    m->ref = c->sock;
    hearth_send(to, m);
    c->mode = CONN_MOVED;
    c->u.w.moved_to = to;
    return 0;
}

/* ADOPT: a socket moved here. */
static int adopt(http_conn_t *c, hearth_msg_t *m)
{
    int r = 0;

    if (c->mode == CONN_MOVED)
        return 0; /* we are leaving: nothing to adopt into (the socket closes with us) */
    if (c->mode == CONN_WS || c->mode == CONN_WS_CLOSING)
        hearth_tcp_close(c->sock); /* the client left it for the new one */
    ws_decoder_free(&c->u.w.dec);
    ws_decoder_init(&c->u.w.dec, c->srv->lim_.ws_max_message);
    http__conn_timer(c, 0);
    c->sock = m->ref;
    c->mode = CONN_WS;
    c->u.w.drain = false;
    c->awaiting_fwd = true;
    if (c->u.w.vt->adopt != NULL)
        r = c->u.w.vt->adopt(c, c->u.w.state, m->data, m->len);
    return r < 0 ? fail(c, WS_CLOSE_INTERNAL) : 0;
}

/* Messages in CONN_MOVED mode: forward what the socket delivered. */
static int moved_handle(http_conn_t *c, hearth_msg_t *m)
{
    hearth_msg_t *f;

    switch (m->tag) {
    case HEARTH_MSG_TCP_DATA:
        hearth_send(c->u.w.moved_to, hearth_msg_copy(HTTP_TAG_FWD, m->data, m->len));
        return 0;
    case HEARTH_MSG_TCP_CLOSED:
        f = hearth_msg_int(HTTP_TAG_FWD, 1);
        hearth_send(c->u.w.moved_to, f);
        return 0;
    case HEARTH_MSG_TCP_GIVEN:
        if (m->ref != c->sock)
            return 0;
        hearth_send(c->u.w.moved_to, hearth_msg_int(HTTP_TAG_FWD_END, 0));
        return HEARTH_STOP;
    default:
        return 0;
    }
}

/* ---- the handler ----------------------------------------------------------------------------- */

int http__ws_handle(http_conn_t *c, hearth_msg_t *m)
{
    int r;

    if (c->mode == CONN_MOVED)
        return moved_handle(c, m);
    switch (m->tag) {
    case HEARTH_MSG_TCP_DATA:
        if (m->ref != c->sock || c->mode == CONN_DETACHED)
            return 0; /* an old socket's late read */
        return input(c, m->data, m->len);
    case HEARTH_MSG_TCP_CLOSED:
        if (m->ref != c->sock || c->mode == CONN_DETACHED)
            return 0;
        return finish(c, c->mode == CONN_WS_CLOSING ? c->u.w.close_code : WS_CLOSE_ABNORMAL, NULL,
                      0);
    case HTTP_TAG_TIMER:
        if (m->value != c->timer_gen || c->mode != CONN_WS_CLOSING)
            return 0;
        c->timer = 0;
        hearth_tcp_close(c->sock);
        return finish(c, c->u.w.close_code, NULL, 0);
    case HTTP_TAG_ADOPT:
        return adopt(c, m);
    case HTTP_TAG_FWD:
        if (c->mode == CONN_DETACHED || !c->awaiting_fwd)
            return 0;
        if (m->len == 0 && m->value == 1)
            return finish(c, WS_CLOSE_ABNORMAL, NULL, 0);
        return input(c, m->data, m->len);
    case HTTP_TAG_FWD_END:
        if (c->awaiting_fwd && c->mode != CONN_DETACHED) {
            c->awaiting_fwd = false;
            if (hearth_tcp_read_start(c->sock) != 0)
                return finish(c, WS_CLOSE_ABNORMAL, NULL, 0);
        }
        return 0;
    case HTTP_TAG_START:
    case HTTP_TAG_DONE:
    case HEARTH_MSG_TCP_GIVEN:
        return 0;
    default:
        if (c->u.w.vt->info == NULL)
            return 0;
        r = c->u.w.vt->info(c, c->u.w.state, m);
        if (c->mode == CONN_MOVED) {
            moved_flush(c);
            return 0;
        }
        if (r == HEARTH_STOP) {
            if (c->mode == CONN_WS || c->mode == CONN_WS_CLOSING)
                hearth_tcp_close(c->sock);
            return HEARTH_STOP;
        }
        if (r < 0)
            return c->mode == CONN_DETACHED ? r : fail(c, WS_CLOSE_INTERNAL);
        return 0;
    }
}

void http__ws_terminate(http_conn_t *c)
{
    if (c->u.w.vt != NULL && c->u.w.vt->terminate != NULL)
        c->u.w.vt->terminate(c->u.w.state);
    ws_decoder_free(&c->u.w.dec);
}
