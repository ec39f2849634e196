/* The gateway session: the ws_handler_t that apps/http's connection process hosts for
 * each gateway WebSocket, so one process per connection and one per session.
 *
 * Life of a session:
 *   open        query checks (v, encoding, compress), HELLO, the heartbeat timer
 *   IDENTIFY    checks, then the identify helper (identify.c) does the blocking work;
 *               its answer brings READY, the directory, the hubs' subscriptions
 *   READY       hub events (HUB_TAG_EVENT, HUB_TAG_SNAPSHOT) become numbered
 *               dispatches, kept in the resume ring until acknowledged; heartbeats,
 *               presence updates; a hub that goes down is found again
 *   closed      unless the client ended it (1000/1001) or it failed for good, the
 *               session stays, detached, for the resume window, still collecting its
 *               dispatches
 *   RESUME      arrives on a new connection: that process finds "session:<id>" and
 *               moves its socket (and its zlib stream) here (ws_conn_move); adopt
 *               checks the token and seq, replays, sends RESUMED
 *
 * Timers: one at a time per session, re-armed when it fires, so heartbeats cost no
 * timer operations; a generation number tells a stale firing from the current one.
 *
 * Send limit: Discord allows 120 gateway events per connection per 60 s and closes
 * with 4008 beyond. Every frame the client sends counts, heartbeats included: Discord
 * does not exempt them (its docs name no exception, and its libraries keep room for
 * them: discord.py sends at most 110 others per window, discord.js 114), and a flood
 * of heartbeats is a flood all the same. The window (rl_window_t) opens with the
 * connection, never later than the client's own, and goes with the connection: a
 * RESUME brings the new connection's window to the session it resumes. */
#include "internal.h"

#include "social/social.h"
#include "store/snowflake.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

gateway_config_t gw__config;
static atomic_bool inited;

#define ALL_INTENTS ((1ULL << 26) - 1)

int gateway_init(const gateway_config_t *cfg)
{
    gateway_config_t c;

    memset(&c, 0, sizeof(c));
    if (cfg != NULL)
        c = *cfg;
    if (c.heartbeat_interval_ms == 0)
        c.heartbeat_interval_ms = 41250;
    if (c.resume_window_ms == 0)
        c.resume_window_ms = 60000;
    if (c.resume_max_events == 0)
        c.resume_max_events = 4096;
    if (c.zlib_level < 1 || c.zlib_level > 9)
        c.zlib_level = 5;
    if (c.zlib_window_bits < 9 || c.zlib_window_bits > 15)
        c.zlib_window_bits = 12;
    if (c.zlib_mem_level < 1 || c.zlib_mem_level > 9)
        c.zlib_mem_level = 4;
    gw__config = c;
    atomic_store(&inited, true);
    return sodium_init() < 0 ? -1 : 0;
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
    if (!atomic_load(&inited))
        gateway_init(NULL);
}

void gw__ensure_init(void)
{
    if (!atomic_load(&inited))
        pthread_once(&default_once, default_init);
}

int gateway_drain(void)
{
    return hub_sessions_drain();
}

json_t *gw__id_json(uint64_t id)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%" PRIu64, id);
    return json_string(buf);
}

/* ---- timers --------------------------------------------------------------------------------- */

static void arm(gw_t *s, uint64_t ms)
{
    if (s->timer != 0)
        hearth_timer_cancel(s->timer);
    s->tgen++;
    s->timer = 0;
    hearth_send_after(hearth_self(), hearth_msg_int(GW_TAG_TIMER, s->tgen), ms, &s->timer);
}

/* Next check: the probe at 1.25 intervals of silence, the close at 1.5; or, when the
 * last heartbeat only answered a probe, the close one interval after it. */
static void arm_heartbeat(gw_t *s)
{
    uint64_t i = gw__config.heartbeat_interval_ms, now = hearth_now_ms();
    uint64_t due = s->last_hb + (s->flags & GW_F_LENIENT  ? i
                                 : s->flags & GW_F_PROBED ? i * 3 / 2
                                                          : i * 5 / 4);

    arm(s, due > now ? due - now : 0);
}

static int on_timer(ws_conn_t *c, gw_t *s, hearth_msg_t *m)
{
    uint64_t i = gw__config.heartbeat_interval_ms, now = hearth_now_ms(), since;

    if ((uint16_t)m->value != s->tgen)
        return 0; /* canceled after it fired */
    s->timer = 0;
    if (s->flags & GW_F_DETACHED) {
        if (now - s->detached_at >= gw__config.resume_window_ms)
            return HEARTH_STOP; /* nobody resumed: the session ends */
        arm(s, s->detached_at + gw__config.resume_window_ms - now);
        return 0;
    }
    if (!ws_conn_open(c))
        return 0;
    since = now - s->last_hb;
    if (since >= i * 3 / 2 || ((s->flags & GW_F_LENIENT) && since >= i)) {
        /* A client that answers our probes but never heartbeats on its own is as good
         * as silent. */
        gw__close(c, s, 4009, s->state != GW_READY);
        return 0;
    }
    if (since >= i * 5 / 4 && !(s->flags & GW_F_PROBED) && s->state == GW_READY) {
        gw__send_op(c, s, GW_OP_HEARTBEAT, NULL); /* asks for one now */
        s->flags |= GW_F_PROBED;
    }
    arm_heartbeat(s);
    return 0;
}

/* ---- open -------------------------------------------------------------------------------------
 */

/* resume_gateway_url: the URL the client came by, without the query. */
static void client_url(const http_request_t *req, char *out, size_t size)
{
    const char *host = http_request_header(req, "Host");
    const char *path = req->path;
    size_t n;

    if (host != NULL) {
        n = strlen(host);
        if (n == 0 || n > 200 ||
            strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]_") !=
                n)
            host = NULL;
    }
    n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--;
    if (n > 64 || strspn(path, "abcdefghijklmnopqrstuvwxyz0123456789/-_.") < n)
        n = 0;
    snprintf(out, size, "ws://%s%.*s", host ? host : "localhost", (int)n, path);
}

static int gw_open(ws_conn_t *c, const http_request_t *req, void *udata, void **state)
{
    char buf[32];
    gw_t *s;

    (void)udata;
    gw__ensure_init();
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return HEARTH_ENOMEM;
    *state = s;
    s->form = HUB_FORM_JSON;
    s->large_threshold = 50;
    snprintf(s->status, sizeof(s->status), "online");
    s->last_hb = hearth_now_ms();
    rl_window_start(&s->sends, (int64_t)s->last_hb);
    if (http_query_get(req, "v", buf, sizeof(buf)) >= 0 && strcmp(buf, "10") != 0) {
        gw__close(c, s, 4012, true);
        return 0;
    }
    if (http_query_get(req, "encoding", buf, sizeof(buf)) >= 0) {
        if (strcmp(buf, "etf") == 0) {
            s->form = HUB_FORM_ETF;
        } else if (strcmp(buf, "json") != 0) {
            gw__close(c, s, 4002, true);
            return 0;
        }
    }
    if (http_query_get(req, "compress", buf, sizeof(buf)) >= 0 && strcmp(buf, "zlib-stream") == 0)
        s->z = gw__z_new();
    s->pending = calloc(1, sizeof(*s->pending));
    if (s->pending == NULL)
        abort();
    client_url(req, s->pending->url, sizeof(s->pending->url));
    gw__send_op(c, s, GW_OP_HELLO,
                json_pack("{s:i}", "heartbeat_interval", (int)gw__config.heartbeat_interval_ms));
    arm_heartbeat(s);
    return 0;
}

/* ---- ops
 * ----------------------------------------------------------------------------------------- */

static void op_heartbeat(ws_conn_t *c, gw_t *s, json_t *d)
{
    s->last_hb = hearth_now_ms();
    /* After a probe, this one may only be its answer: lenient until a heartbeat comes
     * unasked. */
    if (s->flags & GW_F_PROBED)
        s->flags = (uint8_t)((s->flags & ~GW_F_PROBED) | GW_F_LENIENT);
    else
        s->flags &= (uint8_t)~GW_F_LENIENT;
    /* d is the last sequence the client has: what it has needs no resume. */
    if (json_is_integer(d) && json_integer_value(d) > 0 && json_integer_value(d) <= s->seq)
        gw__ring_prune(s, (uint32_t)json_integer_value(d));
    gw__send_op(c, s, GW_OP_HEARTBEAT_ACK, NULL);
}

static void op_identify(ws_conn_t *c, gw_t *s, json_t *d)
{
    json_t *v, *pres;
    const char *token;
    uint64_t intents = 0;
    bool has_intents = false;

    if (s->state != GW_HELLO) {
        gw__close(c, s, 4005, false);
        return;
    }
    token = json_string_value(json_object_get(d, "token"));
    if (!json_is_object(d) || token == NULL) {
        gw__close(c, s, 4002, true);
        return;
    }
    v = json_object_get(d, "intents");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (uint64_t)json_integer_value(v) > ALL_INTENTS) {
            gw__close(c, s, 4013, true);
            return;
        }
        intents = (uint64_t)json_integer_value(v);
        has_intents = true;
    }
    v = json_object_get(d, "shard");
    if (v != NULL && !json_is_null(v)) {
        json_int_t id = json_integer_value(json_array_get(v, 0));
        json_int_t n = json_integer_value(json_array_get(v, 1));
        if (!json_is_array(v) || json_array_size(v) != 2 ||
            !json_is_integer(json_array_get(v, 0)) || !json_is_integer(json_array_get(v, 1)) ||
            n < 1 || n > 65535 || id < 0 || id >= n) {
            gw__close(c, s, 4010, true);
            return;
        }
        s->shard_id = (uint16_t)id;
        s->shard_count = (uint16_t)n;
    }
    v = json_object_get(d, "large_threshold");
    if (json_is_integer(v)) {
        json_int_t t = json_integer_value(v);
        s->large_threshold = (uint16_t)(t < 50 ? 50 : t > 250 ? 250 : t);
    }
    pres = json_object_get(d, "presence");
    if (json_is_object(pres)) {
        const char *st = json_string_value(json_object_get(pres, "status"));
        if (st != NULL && (!strcmp(st, "online") || !strcmp(st, "idle") || !strcmp(st, "dnd") ||
                           !strcmp(st, "invisible") || !strcmp(st, "offline")))
            snprintf(s->status, sizeof(s->status), "%s", st);
        v = json_object_get(pres, "activities");
        if (json_array_size(v) > 0 && s->pending != NULL)
            s->pending->activities = json_dumps(v, JSON_COMPACT);
    }
    s->token_tag = gw__token_tag(token);
    s->state = GW_IDENTIFYING;
    if (gw__identify_start(s, token, has_intents, intents) < 0)
        gw__close(c, s, 4000, true);
}

/* What a RESUME hands the session it resumes (through ws_conn_move). */
typedef struct resume_blob {
    uint64_t token_tag;
    int64_t seq;
    uint32_t form;
    z_stream *z;       /* the new connection's stream, which already sent HELLO */
    rl_window_t sends; /* the new connection's send window */
} resume_blob_t;

static void op_resume(ws_conn_t *c, gw_t *s, json_t *d)
{
    const char *token, *sid;
    resume_blob_t b;
    json_t *seq;
    char name[64];
    hearth_pid_t pid;

    if (s->state != GW_HELLO) {
        gw__close(c, s, 4005, false);
        return;
    }
    token = json_string_value(json_object_get(d, "token"));
    sid = json_string_value(json_object_get(d, "session_id"));
    seq = json_object_get(d, "seq");
    if (token == NULL || sid == NULL || (!json_is_integer(seq) && !json_is_null(seq))) {
        gw__close(c, s, 4002, true);
        return;
    }
    memset(&b, 0, sizeof(b));
    b.token_tag = gw__token_tag(token);
    pid = HEARTH_PID_NONE;
    if (strlen(sid) == 32 && strspn(sid, "0123456789abcdef") == 32) {
        gw__session_name(name, sid, b.token_tag);
        pid = hearth_whereis(name);
    }
    b.seq = json_is_integer(seq) ? json_integer_value(seq) : 0;
    b.form = s->form;
    b.z = s->z;
    b.sends = s->sends;
    if (pid == HEARTH_PID_NONE || pid == hearth_self() || ws_conn_move(c, pid, &b, sizeof(b)) < 0) {
        /* Nothing to resume: the client identifies anew on this connection. */
        gw__send_op(c, s, GW_OP_INVALID_SESSION, json_false());
        return;
    }
    s->z = NULL; /* the resumed session writes on with it */
}

static void op_presence(gw_t *s, json_t *d)
{
    const char *st = json_string_value(json_object_get(d, "status"));
    json_t *acts = json_object_get(d, "activities");
    hub_presence_t p;
    hearth_msg_t *m;
    char *text;
    size_t tl;
    uint16_t i;

    if (st == NULL || (strcmp(st, "online") && strcmp(st, "idle") && strcmp(st, "dnd") &&
                       strcmp(st, "invisible") && strcmp(st, "offline")))
        st = "online";
    snprintf(s->status, sizeof(s->status), "%s", st);
    if (!(s->flags & GW_F_BOT))
        social_session_presence(s->user_id, s->form, st, acts);
    acts = json_is_array(acts) ? json_incref(acts) : json_array();
    text = json_dumps(acts, JSON_COMPACT);
    json_decref(acts);
    tl = text ? strlen(text) : 0;
    memset(&p, 0, sizeof(p));
    p.user_id = s->user_id;
    snprintf(p.status, sizeof(p.status), "%s", st);
    for (i = 0; i < s->nsubs; i++) {
        if (s->subs[i].hub == HEARTH_PID_NONE)
            continue;
        m = hearth_msg_new(HUB_TAG_PRESENCE, sizeof(p) + tl);
        memcpy(m->data, &p, sizeof(p));
        memcpy((char *)m->data + sizeof(p), text, tl);
        hearth_send(s->subs[i].hub, m);
    }
    free(text);
}

static gw_sub_t *sub_by_guild(gw_t *s, uint64_t guild_id);

/* REQUEST_GUILD_MEMBERS: the guild's hub answers with GUILD_MEMBERS_CHUNK (a guild id
 * list asks each of them). */
static void op_request_members(gw_t *s, json_t *d)
{
    json_t *g = json_object_get(d, "guild_id"), *one;
    gw_sub_t *sub;
    char *text;
    size_t i, n;
    uint64_t id;

    n = json_is_array(g) ? json_array_size(g) : 1;
    text = json_dumps(d, JSON_COMPACT);
    for (i = 0; i < n && text != NULL; i++) {
        one = json_is_array(g) ? json_array_get(g, i) : g;
        id = 0;
        if (json_is_string(one))
            snowflake_parse(json_string_value(one), &id);
        else if (json_is_integer(one))
            id = (uint64_t)json_integer_value(one);
        sub = id ? sub_by_guild(s, id) : NULL;
        if (sub != NULL && sub->hub != HEARTH_PID_NONE)
            hearth_send(sub->hub, hearth_msg_copy(HUB_TAG_MEMBERS, text, strlen(text)));
    }
    free(text);
}

static int gw_message(ws_conn_t *c, void *state, int opcode, void *data, size_t len)
{
    gw_t *s = state;
    json_t *p, *d, *opv;
    int op;

    if (!rl_window_hit(&s->sends, RL_GATEWAY_SEND_LIMIT, RL_GATEWAY_SEND_PERIOD_MS,
                       (int64_t)hearth_now_ms())) {
        /* Resumable, as Discord's 4008 is: the connection misbehaved, not the session. */
        gw__close(c, s, 4008, s->state != GW_READY);
        return 0;
    }
    p = gw__decode(s, opcode, data, len);
    opv = json_object_get(p, "op");
    if (p == NULL || !json_is_integer(opv)) {
        gw__close(c, s, 4002, s->state != GW_READY);
        json_decref(p);
        return 0;
    }
    op = (int)json_integer_value(opv);
    d = json_object_get(p, "d");
    switch (op) {
    case GW_OP_HEARTBEAT:
        op_heartbeat(c, s, d);
        break;
    case GW_OP_IDENTIFY:
        op_identify(c, s, d);
        break;
    case GW_OP_RESUME:
        op_resume(c, s, d);
        break;
    case GW_OP_PRESENCE_UPDATE:
    case GW_OP_VOICE_STATE_UPDATE:
    case GW_OP_REQUEST_GUILD_MEMBERS:
        if (s->state == GW_HELLO)
            gw__close(c, s, 4003, true);
        else if (s->state == GW_READY && op == GW_OP_PRESENCE_UPDATE && json_is_object(d))
            op_presence(s, d);
        else if (s->state == GW_READY && op == GW_OP_REQUEST_GUILD_MEMBERS && json_is_object(d))
            op_request_members(s, d);
        /* voice: nothing to do yet (no voice servers) */
        break;
    default:
        gw__close(c, s, 4001, s->state != GW_READY);
        break;
    }
    json_decref(p);
    return 0;
}

/* ---- hub traffic
 * ----------------------------------------------------------------------------------- */

static gw_sub_t *sub_by_guild(gw_t *s, uint64_t guild_id)
{
    uint16_t i;

    for (i = 0; i < s->nsubs; i++)
        if (s->subs[i].guild_id == guild_id)
            return &s->subs[i];
    return NULL;
}

static void sub_drop(gw_t *s, gw_sub_t *sub)
{
    if (sub->mon != 0)
        hearth_demonitor(sub->mon, false);
    *sub = s->subs[--s->nsubs];
    if (s->nsubs == 0) {
        free(s->subs);
        s->subs = NULL;
        s->capsubs = 0;
    }
}

static gw_sub_t *sub_add(gw_t *s, uint64_t guild_id, hearth_pid_t hub)
{
    gw_sub_t *n;

    if (s->nsubs == s->capsubs) {
        uint16_t cap = s->capsubs ? s->capsubs * 2 : 2;
        n = realloc(s->subs, cap * sizeof(*n));
        if (n == NULL)
            abort();
        s->subs = n;
        s->capsubs = cap;
    }
    n = &s->subs[s->nsubs++];
    n->guild_id = guild_id;
    n->hub = hub;
    n->mon = 0;
    return n;
}

static void on_event(ws_conn_t *c, gw_t *s, hearth_msg_t *m)
{
    gw_sub_t *sub;

    if (s->state != GW_READY)
        return;
    if (m->value == HUB_EV_GUILD_DELETE && (sub = sub_by_guild(s, m->ref)) != NULL)
        sub_drop(s, sub); /* the hub forgot us: left, removed, or the guild is gone */
    hearth_msg_keep(m);
    gw__dispatch_msg(c, s, m);
}

static void on_snapshot(ws_conn_t *c, gw_t *s, hearth_msg_t *m)
{
    gw_sub_t *sub = sub_by_guild(s, m->ref);

    if (s->state != GW_READY || sub == NULL)
        return;
    if (m->value == 0) {
        sub_drop(s, sub);
        gw__dispatch_local(c, s, HUB_EV_GUILD_DELETE,
                           json_pack("{s:o}", "id", gw__id_json(m->ref)));
        return;
    }
    hearth_msg_keep(m);
    m->from = (hearth_pid_t)m->value; /* joined_at (ms), which send.c adds to the d */
    m->value = HUB_EV_GUILD_CREATE;
    gw__dispatch_msg(c, s, m);
}

static void on_joined(gw_t *s, hearth_msg_t *m)
{
    hub_joined_t j;

    if (s->state != GW_READY || m->len < sizeof(j))
        return;
    memcpy(&j, m->data, sizeof(j));
    if (s->shard_count > 1 && (j.guild_id >> 22) % s->shard_count != s->shard_id)
        return;
    if (sub_by_guild(s, j.guild_id) != NULL)
        return;
    gw__subscribe(s, sub_add(s, j.guild_id, j.hub));
}

static void on_hub_down(gw_t *s, hearth_msg_t *m)
{
    uint16_t i;

    for (i = 0; i < s->nsubs; i++)
        if (s->subs[i].mon == m->ref) {
            s->subs[i].mon = 0;
            s->subs[i].hub = HEARTH_PID_NONE;
            gw__refind_hub(s->subs[i].guild_id);
            return;
        }
}

static void on_hubpid(ws_conn_t *c, gw_t *s, hearth_msg_t *m)
{
    gw_hubpid_t r;
    gw_sub_t *sub;

    if (m->len < sizeof(r))
        return;
    memcpy(&r, m->data, sizeof(r));
    sub = sub_by_guild(s, r.guild_id);
    if (s->state != GW_READY || sub == NULL || sub->hub != HEARTH_PID_NONE)
        return;
    if (r.hub == HEARTH_PID_NONE) {
        sub_drop(s, sub);
        gw__dispatch_local(
            c, s, HUB_EV_GUILD_DELETE,
            json_pack("{s:o, s:b}", "id", gw__id_json(r.guild_id), "unavailable", 1));
        return;
    }
    sub->hub = r.hub;
    gw__subscribe(s, sub);
}

static int gw_info(ws_conn_t *c, void *state, hearth_msg_t *m)
{
    gw_t *s = state;

    switch (m->tag) {
    case GW_TAG_TIMER:
        return on_timer(c, s, m);
    case GW_TAG_IDENTIFIED:
        return gw__identified(c, s, m);
    case GW_TAG_HUBPID:
        on_hubpid(c, s, m);
        return 0;
    case HUB_TAG_EVENT:
        on_event(c, s, m);
        return 0;
    case SOCIAL_TAG_BATCH: {
        size_t pos = 0;
        hearth_msg_t *ev;

        while ((ev = social_batch_next(m, &pos)) != NULL) {
            if (s->state == GW_READY)
                gw__dispatch_msg(c, s, ev);
            else
                hearth_msg_free(ev);
        }
        return 0;
    }
    case HUB_TAG_SNAPSHOT:
        on_snapshot(c, s, m);
        return 0;
    case HUB_TAG_JOINED:
        on_joined(s, m);
        return 0;
    case HUB_TAG_DRAIN:
        if (ws_conn_open(c)) {
            gw__send_op(c, s, GW_OP_RECONNECT, NULL);
            s->flags |= GW_F_WE_CLOSE;
            ws_close(c, 1012, "Server restarting");
        }
        return 0;
    case HEARTH_MSG_DOWN:
        on_hub_down(s, m);
        return 0;
    default:
        return 0;
    }
}

/* ---- closing and resuming
 * ------------------------------------------------------------------------------ */

static int gw_closed(ws_conn_t *c, void *state, int code, const char *reason, size_t reason_len)
{
    gw_t *s = state;

    (void)c;
    (void)reason;
    (void)reason_len;
    if (s->state != GW_READY || (s->flags & GW_F_END))
        return 0;
    if (!(s->flags & GW_F_WE_CLOSE) && (code == WS_CLOSE_NORMAL || code == WS_CLOSE_GOING_AWAY))
        return 0; /* the client ended its session, as on Discord */
    /* Keep it for a RESUME. The zlib stream belonged to that connection. */
    gw__z_free(s->z);
    s->z = NULL;
    s->flags =
        (uint8_t)((s->flags | GW_F_DETACHED) & ~(GW_F_WE_CLOSE | GW_F_PROBED | GW_F_LENIENT));
    s->detached_at = hearth_now_ms();
    arm(s, gw__config.resume_window_ms);
    return WS_KEEP;
}

/* Makes s a fresh, unidentified session again (a RESUME it cannot honor arrived on its
 * socket): it leaves its hubs, the directory and its name. */
static void reset(gw_t *s, unsigned form)
{
    hearth_pid_t dir = hearth_whereis(HUB_DIRECTORY_NAME);
    char name[64], sid[33];
    uint16_t i;

    if (dir != HEARTH_PID_NONE)
        hearth_server_cast(dir, hearth_msg_int(HUB_TAG_DIR_LEAVE, 0));
    if (!(s->flags & GW_F_BOT))
        social_session_leave();
    for (i = 0; i < s->nsubs; i++) {
        if (s->subs[i].mon != 0)
            hearth_demonitor(s->subs[i].mon, false);
        if (s->subs[i].hub != HEARTH_PID_NONE)
            hearth_send(s->subs[i].hub, hearth_msg_int(HUB_TAG_UNSUBSCRIBE, 0));
    }
    free(s->subs);
    s->subs = NULL;
    s->nsubs = s->capsubs = 0;
    gw__ring_free(s);
    snprintf(sid, sizeof(sid), "%016" PRIx64 "%016" PRIx64, s->sid[0], s->sid[1]);
    gw__session_name(name, sid, s->token_tag);
    hearth_unregister(name);
    s->state = GW_HELLO;
    s->form = (uint8_t)form;
    s->seq = s->floor = 0;
    s->user_id = s->intents = 0;
    s->flags = 0;
}

static int gw_adopt(ws_conn_t *c, void *state, const void *blob, size_t len)
{
    gw_t *s = state;
    resume_blob_t b;

    if (len < sizeof(b))
        return HEARTH_EINVAL;
    memcpy(&b, blob, sizeof(b));
    gw__z_free(s->z);
    s->z = b.z;
    s->sends = b.sends;
    s->flags &= (uint8_t) ~(GW_F_DETACHED | GW_F_WE_CLOSE | GW_F_PROBED | GW_F_LENIENT | GW_F_END);
    s->last_hb = hearth_now_ms();
    arm_heartbeat(s);
    if (s->state != GW_READY) {
        reset(s, b.form);
        gw__send_op(c, s, GW_OP_INVALID_SESSION, json_false());
        return 0;
    }
    if (b.token_tag != s->token_tag) {
        gw__close(c, s, 4004, false); /* not its session: the session itself stays */
        return 0;
    }
    if (b.seq > (int64_t)s->seq) {
        gw__close(c, s, 4007, true);
        return 0;
    }
    if (b.form != s->form || b.seq < (int64_t)s->floor) {
        /* Its dispatches are gone (or in another encoding): start anew. */
        reset(s, b.form);
        gw__send_op(c, s, GW_OP_INVALID_SESSION, json_false());
        return 0;
    }
    gw__ring_replay(c, s, (uint32_t)b.seq);
    gw__ring_prune(s, (uint32_t)b.seq);
    gw__send_dispatch_doc(c, s, "RESUMED", ++s->seq, json_pack("{s:[s]}", "_trace", "hearth"));
    return 0;
}

static void gw_terminate(void *state)
{
    gw_t *s = state;

    if (s == NULL)
        return;
    if (s->timer != 0)
        hearth_timer_cancel(s->timer);
    gw__ring_free(s);
    free(s->subs);
    gw__z_free(s->z);
    if (s->pending != NULL) {
        free(s->pending->activities);
        free(s->pending);
    }
    free(s);
}

const ws_handler_t gateway_ws_handler = {
    .name = "gateway",
    .open = gw_open,
    .message = gw_message,
    .info = gw_info,
    .closed = gw_closed,
    .adopt = gw_adopt,
    .terminate = gw_terminate,
};
