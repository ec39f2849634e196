/* Writing to a session's connection: payload framing in JSON or ETF, zlib-stream
 * compression, and the resume ring.
 *
 * A dispatch is written as one WebSocket message made of three parts: the session's
 * own prefix ({"t":"MESSAGE_CREATE","s":17,"op":0,"d": in JSON; the map header, t, s
 * and op in ETF), the hub's shared "d" bytes, and the suffix ("}" in JSON). When the
 * d bytes are a hub's shared payload, ws_send_parts frames the three parts as one
 * message and references the payload instead of copying it (small messages are joined:
 * a copy is cheaper there); other parts are joined in a per-thread scratch buffer. A
 * compressed session deflates the parts straight from where they are, one message per
 * Z_SYNC_FLUSH, into the same scratch. Nothing of this outlives the call: an idle
 * session holds no buffer.
 *
 * The resume ring keeps the event messages themselves (the runtime's shared payload
 * stays referenced by them, never copied), numbered by their ref; entries go when the
 * client's heartbeat acknowledges them, when a RESUME replays past them, or when the
 * ring is full (the oldest: a RESUME from before it then gets INVALID_SESSION). */
#include "internal.h"

#include "hub/etf.h"
#include "social/social.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per scheduler thread: the joined or compressed message being written. A thread key
 * (not _Thread_local) so the buffer is freed when the thread ends. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

/* Past this the scratch buffer is given back after use (a rare huge GUILD_CREATE). */
#define SCRATCH_KEEP ((size_t)256 << 10)

static void scratch_free(void *p)
{
    etf_buf_t *b = p;

    free(b->p);
    free(b);
}

static void scratch_key_make(void)
{
    if (pthread_key_create(&scratch_key, scratch_free) != 0)
        abort();
}

static etf_buf_t *scratch_get(void)
{
    etf_buf_t *b;

    pthread_once(&scratch_once, scratch_key_make);
    b = pthread_getspecific(scratch_key);
    if (b == NULL) {
        b = calloc(1, sizeof(*b));
        if (b == NULL || pthread_setspecific(scratch_key, b) != 0)
            abort();
    }
    b->len = 0;
    return b;
}

static void scratch_done(etf_buf_t *b)
{
    if (b->cap > SCRATCH_KEEP) {
        free(b->p);
        memset(b, 0, sizeof(*b));
    }
    b->len = 0;
}

/* ---- zlib-stream --------------------------------------------------------------------------------
 */

z_stream *gw__z_new(void)
{
    z_stream *z = calloc(1, sizeof(*z));

    if (z == NULL)
        abort();
    if (deflateInit2(z, gw__config.zlib_level, Z_DEFLATED, gw__config.zlib_window_bits,
                     gw__config.zlib_mem_level, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        return NULL;
    }
    return z;
}

void gw__z_free(z_stream *z)
{
    if (z == NULL)
        return;
    deflateEnd(z);
    free(z);
}

/* Deflates the parts as one message into scratch, ending with a sync flush (the
 * 00 00 ff ff the clients look for). Returns 0 or -1. */
static int deflate_parts(z_stream *z, const struct iovec *iov, int n, etf_buf_t *out)
{
    int i, flush, rc;

    out->len = 0;
    for (i = 0; i < n; i++) {
        flush = i == n - 1 ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        z->next_in = (Bytef *)iov[i].iov_base;
        z->avail_in = (uInt)iov[i].iov_len;
        for (;;) {
            etf_buf_reserve(out, 4096);
            z->next_out = out->p + out->len;
            z->avail_out = (uInt)(out->cap - out->len);
            rc = deflate(z, flush);
            out->len = out->cap - z->avail_out;
            if (rc == Z_STREAM_ERROR)
                return -1;
            /* Done when the input is in and deflate stopped with room to spare. */
            if (z->avail_in == 0 && z->avail_out != 0)
                break;
        }
    }
    return 0;
}

/* ---- writing
 * -------------------------------------------------------------------------------------- */

void gw__close(ws_conn_t *c, gw_t *s, int code, bool end)
{
    static const char *const reasons[] = {
        "Unknown error.",
        "Unknown opcode.",
        "Decode error.",
        "Not authenticated.",
        "Authentication failed.",
        "Already authenticated.",
        "",
        "Invalid seq.",
        "Rate limited.",
        "Session timed out.",
        "Invalid shard.",
        "Sharding required.",
        "Invalid API version.",
        "Invalid intent(s).",
        "Disallowed intent(s).",
    };
    const char *reason = "";

    if (code >= 4000 && code <= 4014)
        reason = reasons[code - 4000];
    s->flags |= GW_F_WE_CLOSE;
    if (end)
        s->flags |= GW_F_END;
    ws_close(c, code, reason);
}

/* Sends the parts as one message. With shared (the payload that iov[1] lies in),
 * an uncompressed three-part message goes out without copying iov[1]. */
static int emit(ws_conn_t *c, gw_t *s, const struct iovec *iov, int n, hearth_payload_t *shared)
{
    etf_buf_t *sc;
    int i, err;

    if (!ws_conn_open(c))
        return HEARTH_EPIPE;
    if (s->z == NULL && shared != NULL && n >= 2) {
        size_t off = (size_t)((const char *)iov[1].iov_base -
                              (const char *)hearth_payload_data(shared));
        err = ws_send_parts(c, s->form == HUB_FORM_ETF ? WS_BINARY : WS_TEXT, iov[0].iov_base,
                            iov[0].iov_len, shared, off, iov[1].iov_len,
                            n == 3 ? iov[2].iov_base : NULL, n == 3 ? iov[2].iov_len : 0);
    } else if (s->z == NULL && n == 1) {
        err = s->form == HUB_FORM_ETF ? ws_send_binary(c, iov[0].iov_base, iov[0].iov_len)
                                      : ws_send_text(c, iov[0].iov_base, iov[0].iov_len);
    } else {
        sc = scratch_get();
        if (s->z != NULL) {
            if (deflate_parts(s->z, iov, n, sc) < 0) {
                scratch_done(sc);
                gw__close(c, s, 4000, false);
                return HEARTH_EPIPE;
            }
            err = ws_send_binary(c, sc->p, sc->len);
        } else {
            for (i = 0; i < n; i++)
                etf_buf_put(sc, iov[i].iov_base, iov[i].iov_len);
            err = s->form == HUB_FORM_ETF ? ws_send_binary(c, sc->p, sc->len)
                                          : ws_send_text(c, sc->p, sc->len);
        }
        scratch_done(sc);
    }
    if (err == HEARTH_EAGAIN) {
        /* A reader this slow would only fall further behind: drop the connection;
         * the session keeps what was not sent for its RESUME. */
        gw__close(c, s, 4000, false);
    }
    return err;
}

/* Encodes a whole payload document in the session's form and sends it. Takes p. */
static int send_doc(ws_conn_t *c, gw_t *s, json_t *p)
{
    struct iovec iov;
    etf_buf_t b = {0};
    char *text = NULL;
    int err;

    if (s->form == HUB_FORM_ETF) {
        etf_encode(p, &b, true);
        iov.iov_base = b.p;
        iov.iov_len = b.len;
    } else {
        text = json_dumps(p, JSON_COMPACT);
        iov.iov_base = text;
        iov.iov_len = text ? strlen(text) : 0;
    }
    json_decref(p);
    err = emit(c, s, &iov, 1, NULL);
    free(b.p);
    free(text);
    return err;
}

int gw__send_op(ws_conn_t *c, gw_t *s, int op, json_t *d)
{
    json_t *p = json_object();

    json_object_set_new(p, "t", json_null());
    json_object_set_new(p, "s", json_null());
    json_object_set_new(p, "op", json_integer(op));
    json_object_set_new(p, "d", d != NULL ? d : json_null());
    return send_doc(c, s, p);
}

/* A dispatch; with key, the member key: "str" is spliced into the front of d (an
 * object), for the one field a shared snapshot cannot carry (GUILD_CREATE's
 * joined_at, the receiving user's own). */
static int send_dispatch(ws_conn_t *c, gw_t *s, const char *t, uint32_t seq, const uint8_t *d,
                         size_t dlen, hearth_payload_t *shared, const char *key, const char *str)
{
    struct iovec iov[3];
    char pre[192];
    etf_buf_t b = {0};
    uint32_t arity;
    int n, err;

    if (s->form == HUB_FORM_ETF) {
        uint8_t ver = ETF_VERSION;
        etf_buf_put(&b, &ver, 1);
        etf_put_map_header(&b, 4);
        etf_put_atom(&b, "t", 1);
        etf_put_atom(&b, t, strlen(t));
        etf_put_atom(&b, "s", 1);
        etf_put_int(&b, seq);
        etf_put_atom(&b, "op", 2);
        etf_put_int(&b, 0);
        etf_put_atom(&b, "d", 1);
        if (key != NULL && dlen >= 5 && d[0] == 116 /* MAP_EXT */) {
            arity = (uint32_t)d[1] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 8 | d[4];
            etf_put_map_header(&b, arity + 1);
            etf_put_atom(&b, key, strlen(key));
            etf_put_binary(&b, str, strlen(str));
            d += 5;
            dlen -= 5;
        }
        iov[0].iov_base = b.p;
        iov[0].iov_len = b.len;
        iov[1].iov_base = (void *)d;
        iov[1].iov_len = dlen;
        err = emit(c, s, iov, 2, shared);
        free(b.p);
        return err;
    }
    if (key != NULL && dlen >= 2 && d[0] == '{') {
        n = snprintf(pre, sizeof(pre), "{\"t\":\"%s\",\"s\":%u,\"op\":0,\"d\":{\"%s\":\"%s\"%s", t,
                     seq, key, str, d[1] == '}' ? "" : ",");
        d++;
        dlen--;
    } else {
        n = snprintf(pre, sizeof(pre), "{\"t\":\"%s\",\"s\":%u,\"op\":0,\"d\":", t, seq);
    }
    iov[0].iov_base = pre;
    iov[0].iov_len = (size_t)n;
    iov[1].iov_base = (void *)d;
    iov[1].iov_len = dlen;
    iov[2].iov_base = "}";
    iov[2].iov_len = 1;
    return emit(c, s, iov, 3, shared);
}

int gw__send_dispatch(ws_conn_t *c, gw_t *s, const char *t, uint32_t seq, const void *d,
                      size_t dlen)
{
    return send_dispatch(c, s, t, seq, d, dlen, NULL, NULL, NULL);
}

/* The dispatch name of an event number: the hubs' or the social process's. */
static const char *event_name(int64_t ev)
{
    const char *name = social_event_name(ev);

    return name != NULL ? name : hub_event_name((hub_event_t)ev);
}

/* A kept dispatch: a snapshot (tag HUB_TAG_SNAPSHOT) carries its user's joined_at in
 * from (Unix ms, see on_snapshot). */
static int send_entry(ws_conn_t *c, gw_t *s, const hearth_msg_t *m)
{
    char ts[STORE_TIMESTAMP_SIZE];

    if (m->tag == HUB_TAG_SNAPSHOT && m->from > 1)
        return send_dispatch(c, s, event_name(m->value), (uint32_t)m->ref, m->data, m->len,
                             hearth_msg_payload(m), "joined_at",
                             store_timestamp((int64_t)m->from, ts));
    return send_dispatch(c, s, event_name(m->value), (uint32_t)m->ref, m->data, m->len,
                         hearth_msg_payload(m), NULL, NULL);
}

int gw__send_dispatch_doc(ws_conn_t *c, gw_t *s, const char *t, uint32_t seq, json_t *d)
{
    hearth_payload_t *p = hub_encode(d, s->form);
    int err;

    json_decref(d);
    err = send_dispatch(c, s, t, seq, hearth_payload_data(p), hearth_payload_len(p), p, NULL, NULL);
    hearth_payload_unref(p);
    return err;
}

/* ---- the resume ring
 * ----------------------------------------------------------------------------------- */

static void ring_push(gw_t *s, hearth_msg_t *m)
{
    hearth_msg_t **nr;
    uint32_t i;

    if (s->rn == gw__config.resume_max_events) {
        /* Full: the oldest goes, and a RESUME from before it becomes impossible. */
        hearth_msg_t *old = s->ring[s->rhead];
        s->floor = (uint32_t)old->ref;
        hearth_msg_free(old);
        s->rhead = (s->rhead + 1) % s->rcap;
        s->rn--;
    }
    if (s->rn == s->rcap) {
        uint32_t cap = s->rcap ? s->rcap * 2 : 4;
        if (cap > gw__config.resume_max_events)
            cap = gw__config.resume_max_events;
        nr = malloc(cap * sizeof(*nr));
        if (nr == NULL)
            abort();
        for (i = 0; i < s->rn; i++)
            nr[i] = s->ring[(s->rhead + i) % s->rcap];
        free(s->ring);
        s->ring = nr;
        s->rcap = cap;
        s->rhead = 0;
    }
    s->ring[(s->rhead + s->rn) % s->rcap] = m;
    s->rn++;
}

void gw__ring_prune(gw_t *s, uint32_t upto)
{
    while (s->rn > 0 && (uint32_t)s->ring[s->rhead]->ref <= upto) {
        hearth_msg_free(s->ring[s->rhead]);
        s->rhead = (s->rhead + 1) % s->rcap;
        s->rn--;
    }
    if (upto > s->floor)
        s->floor = upto > s->seq ? s->seq : upto;
    if (s->rn == 0) {
        /* Idle sessions hold no ring. */
        free(s->ring);
        s->ring = NULL;
        s->rcap = s->rhead = 0;
    }
}

void gw__ring_replay(ws_conn_t *c, gw_t *s, uint32_t after)
{
    uint32_t i;

    for (i = 0; i < s->rn; i++) {
        hearth_msg_t *m = s->ring[(s->rhead + i) % s->rcap];
        if ((uint32_t)m->ref > after)
            send_entry(c, s, m);
    }
}

void gw__ring_free(gw_t *s)
{
    while (s->rn > 0) {
        hearth_msg_free(s->ring[s->rhead]);
        s->rhead = (s->rhead + 1) % s->rcap;
        s->rn--;
    }
    free(s->ring);
    s->ring = NULL;
    s->rcap = s->rhead = 0;
}

void gw__dispatch_msg(ws_conn_t *c, gw_t *s, hearth_msg_t *m)
{
    m->ref = ++s->seq;
    ring_push(s, m);
    if (!(s->flags & GW_F_DETACHED) && ws_conn_open(c))
        send_entry(c, s, m);
}

void gw__dispatch_local(ws_conn_t *c, gw_t *s, hub_event_t ev, json_t *d)
{
    hearth_payload_t *p = hub_encode(d, s->form);
    hearth_msg_t *m = hearth_msg_shared(HUB_TAG_EVENT, p);

    hearth_payload_unref(p);
    json_decref(d);
    m->value = ev;
    gw__dispatch_msg(c, s, m);
}

/* ---- reading
 * -------------------------------------------------------------------------------------------- */

json_t *gw__decode(gw_t *s, int opcode, const void *data, size_t len)
{
    json_t *v = NULL;

    if (s->form == HUB_FORM_ETF) {
        if (opcode != WS_BINARY || etf_decode(data, len, &v) < 0)
            return NULL;
    } else {
        v = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    }
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}
