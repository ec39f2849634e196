/* Gateway tests over real sockets: HELLO, IDENTIFY, READY and GUILD_CREATE, heartbeats,
 * close codes, RESUME, zlib-stream, ETF, drain, and the memory of an idle session. Each
 * test starts the runtime, a store on a temporary directory, the hub tree and a
 * listener with the gateway routes (test-gateway.h). */
#include "test-gateway.h"

#include "gateway/internal.h"
#include "hub/etf.h"

#include <stdio.h>
#include <unistd.h>

#define INTENTS_DEFAULT ((1 << 0) | (1 << 9) | (1 << 15)) /* GUILDS, GUILD_MESSAGES, CONTENT */

/* v as compact JSON text, kept until the next call (for substring checks). */
static const char *json_dumps_s(const json_t *v)
{
    static char *last;

    free(last);
    last = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    return last ? last : "";
}

/* A guild owned by a new user "owner" with token, and its general channel. */
static uint64_t owner_guild(gwt_env_t *e, char *token, uint64_t *owner, uint64_t *general)
{
    *owner = gwt_user(e, "owner", token);
    return ts_guild(e->db, *owner, "Hearth", general);
}

TEST_IMPL(gateway_identify_ready)
{
    char token[STORE_TOKEN_SIZE], bot_token[STORE_TOKEN_SIZE];
    uint64_t owner, general, guild, bot;
    gwt_env_t e;
    gwc_t c;
    json_t *ready, *gc, *ack;
    char botauth[STORE_TOKEN_SIZE + 8];

    gwt_start(&e, NULL, NULL);
    guild = owner_guild(&e, token, &owner, &general);
    bot = gwt_bot(&e, owner, "helper", bot_token);
    ASSERT_OK(store_member_add(e.db, guild, bot, NULL));
    snprintf(botauth, sizeof(botauth), "Bot %s", bot_token);

    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    ready = gwc_identify(&c, botauth, INTENTS_DEFAULT);
    ASSERT_NOT_NULL(ready);
    ASSERT_EQ(0, gwj_i(ready, "op"));
    ASSERT_EQ(1, gwj_i(ready, "s"));
    ASSERT_EQ(10, gwj_i(ready, "d.v"));
    ASSERT_EQ(bot, jid(gwj(ready, "d.user"), "id"));
    ASSERT(json_is_true(gwj(ready, "d.user.bot")));
    ASSERT_EQ(32, strlen(gwj_s(ready, "d.session_id")));
    ASSERT(strncmp(gwj_s(ready, "d.resume_gateway_url"), "ws://127.0.0.1:", 15) == 0);
    ASSERT_EQ(bot, jid(gwj(ready, "d.application"), "id"));
    ASSERT_EQ(1, json_array_size(gwj(ready, "d.guilds")));
    ASSERT_EQ(guild, jid(gwj(ready, "d.guilds.0"), "id"));
    ASSERT(json_is_true(gwj(ready, "d.guilds.0.unavailable")));
    ASSERT(json_is_array(gwj(ready, "d.private_channels")));

    gc = gwc_wait(&c, "GUILD_CREATE", 5000);
    ASSERT_NOT_NULL(gc);
    ASSERT_EQ(2, gwj_i(gc, "s"));
    ASSERT_EQ(guild, jid(gwj(gc, "d"), "id"));
    ASSERT_STR_EQ("Hearth", gwj_s(gc, "d.name"));
    ASSERT_EQ(general, jid(gwj(gc, "d.channels.0"), "id"));
    ASSERT_STR_EQ("general", gwj_s(gc, "d.channels.0.name"));
    ASSERT_EQ(guild, jid(gwj(gc, "d.roles.0"), "id")); /* @everyone */
    ASSERT_EQ(2, json_array_size(gwj(gc, "d.members")));
    ASSERT_EQ(2, gwj_i(gc, "d.member_count"));
    ASSERT(json_is_false(gwj(gc, "d.unavailable")));
    ASSERT(json_is_array(gwj(gc, "d.presences")));
    /* The receiving user's own join time, as the member list has it. */
    ASSERT_NOT_NULL(gwj_s(gc, "d.joined_at"));
    ASSERT(strstr(json_dumps_s(gwj(gc, "d.members")), gwj_s(gc, "d.joined_at")) != NULL);

    gwc_send(&c, json_pack("{s:i, s:i}", "op", 1, "d", 2));
    ack = gwc_recv(&c, 5000);
    ASSERT_NOT_NULL(ack);
    ASSERT_EQ(11, gwj_i(ack, "op"));
    json_decref(ack);

    /* A second identify on the same connection. */
    gwc_send(&c, json_pack("{s:i, s:{s:s, s:i}}", "op", 2, "d", "token", botauth, "intents", 1));
    ASSERT_EQ(4005, gwc_wait_close(&c, 5000));

    json_decref(ready);
    json_decref(gc);
    gwc_drop(&c);
    gwt_stop(&e);
    return 0;
}

/* Opens a connection with target, sends payload (if any) after HELLO, and returns the
 * close code. */
static int close_code_of(gwt_env_t *e, const char *target, json_t *payload, const char *raw)
{
    json_t *hello;
    gwc_t c;
    int code;

    gwc_connect(&c, e->port, target);
    hello = gwc_recv(&c, 5000);
    if (hello != NULL) {
        json_decref(hello);
        if (payload != NULL)
            gwc_send(&c, payload);
        else if (raw != NULL)
            gwc_send_frame(&c, 1, raw, strlen(raw));
    } else {
        json_decref(payload);
    }
    code = gwc_wait_close(&c, 5000);
    gwc_drop(&c);
    return code;
}

TEST_IMPL(gateway_close_codes)
{
    char token[STORE_TOKEN_SIZE], bot_token[STORE_TOKEN_SIZE], auth[STORE_TOKEN_SIZE + 8];
    uint64_t owner, general;
    gateway_config_t cfg = {0};
    gwt_env_t e;

    cfg.privileged_policy = GW_PRIVILEGED_FLAGS_ONLY;
    gwt_start(&e, &cfg, NULL);
    owner_guild(&e, token, &owner, &general);
    gwt_bot(&e, owner, "strict", bot_token);
    snprintf(auth, sizeof(auth), "Bot %s", bot_token);

    ASSERT_EQ(4012, close_code_of(&e, "/?v=9&encoding=json", NULL, NULL));
    ASSERT_EQ(4002, close_code_of(&e, "/?v=10&encoding=xml", NULL, NULL));
    ASSERT_EQ(4004, close_code_of(&e, "/?v=10&encoding=json",
                                  json_pack("{s:i, s:{s:s, s:i, s:{}}}", "op", 2, "d", "token",
                                            "Bot nope.nope.nope", "intents", 1, "properties"),
                                  NULL));
    ASSERT_EQ(4003,
              close_code_of(&e, "/?v=10&encoding=json",
                            json_pack("{s:i, s:{s:s}}", "op", 3, "d", "status", "idle"), NULL));
    ASSERT_EQ(4001, close_code_of(&e, "/?v=10&encoding=json",
                                  json_pack("{s:i, s:n}", "op", 99, "d"), NULL));
    ASSERT_EQ(4002, close_code_of(&e, "/?v=10&encoding=json", NULL, "{\"op\": 2, \"d\":"));
    ASSERT_EQ(4002, close_code_of(&e, "/gateway?v=10&encoding=json", NULL, "[1, 2]"));
    ASSERT_EQ(4013, close_code_of(&e, "/?v=10&encoding=json",
                                  json_pack("{s:i, s:{s:s, s:I}}", "op", 2, "d", "token", auth,
                                            "intents", (json_int_t)1 << 40),
                                  NULL));
    ASSERT_EQ(4013, close_code_of(&e, "/?v=10", /* a bot without intents */
                                  json_pack("{s:i, s:{s:s}}", "op", 2, "d", "token", auth), NULL));
    ASSERT_EQ(4010, close_code_of(&e, "/?v=10&encoding=json",
                                  json_pack("{s:i, s:{s:s, s:i, s:[i, i]}}", "op", 2, "d", "token",
                                            auth, "intents", 1, "shard", 2, 2),
                                  NULL));
    /* MESSAGE_CONTENT without the application's flag, under the strict policy. */
    ASSERT_EQ(4014, close_code_of(&e, "/?v=10&encoding=json",
                                  json_pack("{s:i, s:{s:s, s:i}}", "op", 2, "d", "token", auth,
                                            "intents", 1 << 15),
                                  NULL));
    /* A RESUME of a session that does not exist: INVALID_SESSION, still open. */
    {
        gwc_t c;
        json_t *v;

        gwc_connect(&c, e.port, "/?v=10&encoding=json");
        json_decref(gwc_recv(&c, 5000));
        gwc_send(&c, json_pack("{s:i, s:{s:s, s:s, s:i}}", "op", 6, "d", "token", auth,
                               "session_id", "0123456789abcdef0123456789abcdef", "seq", 3));
        v = gwc_recv(&c, 5000);
        ASSERT_NOT_NULL(v);
        ASSERT_EQ(9, gwj_i(v, "op"));
        ASSERT(json_is_false(gwj(v, "d")));
        json_decref(v);
        gwc_drop(&c);
    }
    gwt_stop(&e);
    return 0;
}

/* Two users' sessions (a person and a bot without MESSAGE_CONTENT) get messages created
 * through hub_request in id order; the bot sees content only where it is mentioned. */
TEST_IMPL(gateway_message_fanout)
{
    char token[STORE_TOKEN_SIZE], btok[STORE_TOKEN_SIZE], utok[STORE_TOKEN_SIZE];
    char auth[STORE_TOKEN_SIZE + 8], text[64];
    uint64_t owner, general, guild, bot, user, ids[5];
    gwt_env_t e;
    gwc_t cb, cu;
    json_t *v, *body;
    int i;

    gwt_start(&e, NULL, NULL);
    guild = owner_guild(&e, token, &owner, &general);
    bot = gwt_bot(&e, owner, "reader", btok);
    user = gwt_user(&e, "member", utok);
    ASSERT_OK(store_member_add(e.db, guild, bot, NULL));
    ASSERT_OK(store_member_add(e.db, guild, user, NULL));
    snprintf(auth, sizeof(auth), "Bot %s", btok);

    gwc_connect(&cb, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&cb, auth, (1 << 0) | (1 << 9))); /* no MESSAGE_CONTENT */
    json_decref(gwc_wait(&cb, "GUILD_CREATE", 5000));
    gwc_connect(&cu, e.port, "/gateway/?v=10&encoding=json");
    json_decref(gwc_identify(&cu, utok, -1)); /* a person: every intent */
    json_decref(gwc_wait(&cu, "GUILD_CREATE", 5000));

    for (i = 0; i < 5; i++) {
        if (i == 3)
            snprintf(text, sizeof(text), "hey <@%llu>", (unsigned long long)bot);
        else
            snprintf(text, sizeof(text), "message %d", i);
        body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, owner,
                       json_pack("{s:s}", "content", text), 200);
        ids[i] = jid(body, "id");
        if (i > 0)
            ASSERT_GT(ids[i], ids[i - 1]);
        ASSERT_STR_EQ(text, js(body, "content"));
        json_decref(body);
    }
    for (i = 0; i < 5; i++) {
        v = gwc_wait(&cu, "MESSAGE_CREATE", 5000);
        ASSERT_NOT_NULL(v);
        ASSERT_EQ(ids[i], jid(gwj(v, "d"), "id"));
        ASSERT_EQ(guild, jid(gwj(v, "d"), "guild_id"));
        ASSERT_EQ(owner, jid(gwj(v, "d.author"), "id"));
        ASSERT_NOT_NULL(gwj(v, "d.member.joined_at"));
        ASSERT(strlen(gwj_s(v, "d.content")) > 0);
        json_decref(v);
        v = gwc_wait(&cb, "MESSAGE_CREATE", 5000);
        ASSERT_NOT_NULL(v);
        ASSERT_EQ(ids[i], jid(gwj(v, "d"), "id"));
        if (i == 3) {
            ASSERT(strstr(gwj_s(v, "d.content"), "hey <@") != NULL);
            ASSERT_EQ(bot, jid(gwj(v, "d.mentions.0"), "id"));
        } else {
            ASSERT_STR_EQ("", gwj_s(v, "d.content"));
        }
        json_decref(v);
    }
    gwc_drop(&cb);
    gwc_drop(&cu);
    gwt_stop(&e);
    return 0;
}

/* A dropped connection, two messages meanwhile, a RESUME on a new connection: exactly
 * the missed dispatches, then RESUMED; the session lives on. */
TEST_IMPL(gateway_resume)
{
    char token[STORE_TOKEN_SIZE], other[STORE_TOKEN_SIZE], sid[40];
    uint64_t owner, general, ids[3];
    gwt_env_t e;
    gwc_t c;
    json_t *ready, *v, *body;
    uint32_t seq;
    int i;

    gwt_start(&e, NULL, NULL);
    owner_guild(&e, token, &owner, &general);
    gwt_user(&e, "intruder", other);
    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    ready = gwc_identify(&c, token, -1);
    ASSERT_NOT_NULL(ready);
    snprintf(sid, sizeof(sid), "%s", gwj_s(ready, "d.session_id"));
    json_decref(ready);
    json_decref(gwc_wait(&c, "GUILD_CREATE", 5000));
    body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, owner,
                   json_pack("{s:s}", "content", "before"), 200);
    json_decref(body);
    v = gwc_wait(&c, "MESSAGE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    json_decref(v);
    seq = c.seq;
    gwc_drop(&c); /* no close frame: the network went away */

    for (i = 0; i < 2; i++) {
        body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, owner,
                       json_pack("{s:s}", "content", i ? "missed 2" : "missed 1"), 200);
        ids[i] = jid(body, "id");
        json_decref(body);
    }

    /* Another user's token does not reach the session: INVALID_SESSION. */
    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    json_decref(gwc_recv(&c, 5000));
    gwc_send(&c, json_pack("{s:i, s:{s:s, s:s, s:i}}", "op", 6, "d", "token", other, "session_id",
                           sid, "seq", (int)seq));
    v = gwc_recv(&c, 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(9, gwj_i(v, "op"));
    json_decref(v);
    gwc_drop(&c);

    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    v = gwc_recv(&c, 5000);
    ASSERT_EQ(10, gwj_i(v, "op"));
    json_decref(v);
    gwc_send(&c, json_pack("{s:i, s:{s:s, s:s, s:i}}", "op", 6, "d", "token", token, "session_id",
                           sid, "seq", (int)seq));
    for (i = 0; i < 2; i++) {
        v = gwc_recv(&c, 5000);
        ASSERT_NOT_NULL(v);
        ASSERT_STR_EQ("MESSAGE_CREATE", gwj_s(v, "t"));
        ASSERT_EQ(seq + 1 + i, gwj_i(v, "s"));
        ASSERT_EQ(ids[i], jid(gwj(v, "d"), "id"));
        json_decref(v);
    }
    v = gwc_recv(&c, 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ("RESUMED", gwj_s(v, "t"));
    json_decref(v);

    /* The resumed session goes on: heartbeats and new events. */
    gwc_send(&c, json_pack("{s:i, s:i}", "op", 1, "d", (int)c.seq));
    v = gwc_recv(&c, 5000);
    ASSERT_EQ(11, gwj_i(v, "op"));
    json_decref(v);
    body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, owner,
                   json_pack("{s:s}", "content", "after"), 200);
    ids[2] = jid(body, "id");
    json_decref(body);
    v = gwc_wait(&c, "MESSAGE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(ids[2], jid(gwj(v, "d"), "id"));
    json_decref(v);

    /* A RESUME with a seq from the future: 4007. */
    gwc_drop(&c);
    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    json_decref(gwc_recv(&c, 5000));
    gwc_send(&c, json_pack("{s:i, s:{s:s, s:s, s:i}}", "op", 6, "d", "token", token, "session_id",
                           sid, "seq", 100000));
    ASSERT_EQ(4007, gwc_wait_close(&c, 5000));
    gwc_drop(&c);
    gwt_stop(&e);
    return 0;
}

/* compress=zlib-stream: every message a binary frame ending in a sync flush, one
 * stream for the connection (the client inflates with one z_stream). */
TEST_IMPL(gateway_zlib_stream)
{
    char token[STORE_TOKEN_SIZE];
    uint64_t owner, general, guild;
    gwt_env_t e;
    gwc_t c;
    json_t *v, *body;
    int i;

    gwt_start(&e, NULL, NULL);
    guild = owner_guild(&e, token, &owner, &general);
    gwc_connect(&c, e.port, "/?v=10&encoding=json&compress=zlib-stream");
    v = gwc_identify(&c, token, -1); /* asserts the inflated HELLO */
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(2, c.last_opcode);
    json_decref(v);
    v = gwc_wait(&c, "GUILD_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(guild, jid(gwj(v, "d"), "id"));
    json_decref(v);
    for (i = 0; i < 20; i++) {
        body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, owner,
                       json_pack("{s:s}", "content", "compressed, and compressed again"), 200);
        json_decref(body);
        v = gwc_wait(&c, "MESSAGE_CREATE", 5000);
        ASSERT_NOT_NULL(v);
        ASSERT_STR_EQ("compressed, and compressed again", gwj_s(v, "d.content"));
        json_decref(v);
    }
    gwc_send(&c, json_pack("{s:i, s:n}", "op", 1, "d"));
    v = gwc_recv(&c, 5000);
    ASSERT_EQ(11, gwj_i(v, "op"));
    json_decref(v);
    gwc_drop(&c);
    gwt_stop(&e);
    return 0;
}

/* encoding=etf: the client speaks ETF both ways; ids arrive as strings. */
TEST_IMPL(gateway_etf)
{
    char token[STORE_TOKEN_SIZE];
    uint64_t owner, general, guild;
    gwt_env_t e;
    gwc_t c;
    json_t *v, *body;

    gwt_start(&e, NULL, NULL);
    guild = owner_guild(&e, token, &owner, &general);
    gwc_connect(&c, e.port, "/?v=10&encoding=etf");
    v = gwc_identify(&c, token, -1);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(2, c.last_opcode);
    ASSERT_EQ(owner, jid(gwj(v, "d.user"), "id"));
    json_decref(v);
    v = gwc_wait(&c, "GUILD_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(guild, jid(gwj(v, "d"), "id"));
    ASSERT(json_is_null(gwj(v, "d.icon")));
    ASSERT_NOT_NULL(gwj_s(v, "d.joined_at"));
    json_decref(v);
    body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, owner,
                   json_pack("{s:s}", "content", "términos en ETF"), 200);
    json_decref(body);
    v = gwc_wait(&c, "MESSAGE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ("términos en ETF", gwj_s(v, "d.content"));
    ASSERT(json_is_false(gwj(v, "d.tts")));
    json_decref(v);
    /* ETF and zlib-stream together. */
    gwc_drop(&c);
    gwc_connect(&c, e.port, "/?v=10&encoding=etf&compress=zlib-stream");
    v = gwc_identify(&c, token, -1);
    ASSERT_NOT_NULL(v);
    json_decref(v);
    v = gwc_wait(&c, "GUILD_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    json_decref(v);
    /* A text frame in ETF mode cannot be decoded. */
    gwc_send_frame(&c, 1, "{\"op\":1}", 8);
    ASSERT_EQ(4002, gwc_wait_close(&c, 5000));
    gwc_drop(&c);
    gwt_stop(&e);
    return 0;
}

/* The ETF codec alone: a document round trip, and terms as Erlang writes them. */
TEST_IMPL(gateway_etf_codec)
{
    /* term_to_binary(#{<<"a">> => 1, <<"b">> => [<<"x">>, nil, true, -5, 3.5]}) made by
     * hand: 131, map(2), binary "a", small 1, binary "b", list(5) ..., nil tail. */
    static const unsigned char erl[] = {
        131, 116, 0,  0,    0,    2,   109, 0, 0,   0,   1,   'a', 97, 1,   109,
        0,   0,   0,  1,    'b',  108, 0,   0, 0,   5,   109, 0,   0,  0,   1,
        'x', 119, 3,  'n',  'i',  'l', 119, 4, 't', 'r', 'u', 'e', 98, 255, 255,
        255, 251, 70, 0x40, 0x0c, 0,   0,   0, 0,   0,   0,   106};
    /* The same as OTP 25 writes it (atoms as ATOM_EXT). */
    static const unsigned char erl25[] = {
        131, 116, 0,   0,   0,  2,   109, 0,   0,   0,  1,   97,  97, 1, 109, 0,   0,   0,   1,  98,
        108, 0,   0,   0,   5,  109, 0,   0,   0,   1,  120, 100, 0,  3, 110, 105, 108, 100, 0,  4,
        116, 114, 117, 101, 98, 255, 255, 255, 251, 70, 64,  12,  0,  0, 0,   0,   0,   0,   106};
    /* 2^64 - 1 as SMALL_BIG_EXT: a snowflake-sized unsigned, decoded as a string. */
    static const unsigned char big[] = {131, 110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 255};
    json_t *doc, *back, *v, *w;
    etf_buf_t b = {0};
    size_t cut;

    ASSERT_OK(etf_decode(erl25, sizeof(erl25), &w));
    ASSERT_OK(etf_decode(erl, sizeof(erl), &v));
    ASSERT(json_equal(v, w));
    json_decref(w);
    ASSERT_EQ(1, json_integer_value(json_object_get(v, "a")));
    ASSERT_STR_EQ("x", json_string_value(json_array_get(json_object_get(v, "b"), 0)));
    ASSERT(json_is_null(json_array_get(json_object_get(v, "b"), 1)));
    ASSERT(json_is_true(json_array_get(json_object_get(v, "b"), 2)));
    ASSERT_EQ(-5, json_integer_value(json_array_get(json_object_get(v, "b"), 3)));
    ASSERT(json_real_value(json_array_get(json_object_get(v, "b"), 4)) == 3.5);
    json_decref(v);
    ASSERT_OK(etf_decode(big, sizeof(big), &v));
    ASSERT_STR_EQ("18446744073709551615", json_string_value(v));
    json_decref(v);

    doc = json_pack("{s:s, s:i, s:I, s:I, s:f, s:b, s:n, s:[], s:{s:[i, s]}, s:s}", "id",
                    "1575948323519463424", "small", 7, "neg", (json_int_t)-70000, "huge",
                    (json_int_t)INT64_MAX, "real", 0.25, "flag", 1, "none", "empty", "nested",
                    "list", 1, "two", "utf8", "Grüße, 世界");
    ASSERT_OK(etf_encode(doc, &b, true));
    ASSERT_OK(etf_decode(b.p, b.len, &back));
    ASSERT(json_equal(doc, back));
    json_decref(back);
    /* Every truncation fails cleanly; so do trailing bytes and a wrong version. */
    for (cut = 0; cut < b.len; cut++)
        ASSERT_EQ(-1, etf_decode(b.p, cut, &back));
    etf_buf_put(&b, "x", 1);
    ASSERT_EQ(-1, etf_decode(b.p, b.len, &back));
    b.p[0] = 130;
    ASSERT_EQ(-1, etf_decode(b.p, b.len - 1, &back));
    free(b.p);
    json_decref(doc);
    return 0;
}

/* Presence: op 3 reaches the other member (with GUILD_PRESENCES); invisible looks
 * offline; the last session's end sends offline and records last-seen. */
TEST_IMPL(gateway_presence)
{
    char token[STORE_TOKEN_SIZE], utok[STORE_TOKEN_SIZE];
    uint64_t owner, general, guild, user;
    gwt_env_t e;
    gwc_t co, cu;
    json_t *v, *p;
    int tries;

    gwt_start(&e, NULL, NULL);
    guild = owner_guild(&e, token, &owner, &general);
    user = gwt_user(&e, "watcher", utok);
    ASSERT_OK(store_member_add(e.db, guild, user, NULL));

    gwc_connect(&cu, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&cu, utok, (1 << 0) | (1 << 8)));
    json_decref(gwc_wait(&cu, "GUILD_CREATE", 5000));

    gwc_connect(&co, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&co, token, -1));
    v = gwc_wait(&co, "GUILD_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_GE(json_array_size(gwj(v, "d.presences")), 1); /* the watcher is online */
    json_decref(v);

    /* The owner coming online. */
    v = gwc_wait(&cu, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(owner, jid(gwj(v, "d.user"), "id"));
    ASSERT_STR_EQ("online", gwj_s(v, "d.status"));
    ASSERT_EQ(guild, jid(gwj(v, "d"), "guild_id"));
    json_decref(v);

    gwc_send(&co, json_pack("{s:i, s:{s:n, s:[{s:s, s:i}], s:s, s:b}}", "op", 3, "d", "since",
                            "activities", "name", "chess", "type", 0, "status", "dnd", "afk", 0));
    v = gwc_wait(&cu, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ("dnd", gwj_s(v, "d.status"));
    ASSERT_STR_EQ("chess", gwj_s(v, "d.activities.0.name"));
    json_decref(v);

    gwc_send(&co, json_pack("{s:i, s:{s:n, s:[], s:s, s:b}}", "op", 3, "d", "since", "activities",
                            "status", "invisible", "afk", 0));
    v = gwc_wait(&cu, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ("offline", gwj_s(v, "d.status"));
    json_decref(v);

    /* Back online, then the owner leaves for good (1000): offline, and last-seen. */
    gwc_send(&co, json_pack("{s:i, s:{s:n, s:[], s:s, s:b}}", "op", 3, "d", "since", "activities",
                            "status", "online", "afk", 0));
    v = gwc_wait(&cu, "PRESENCE_UPDATE", 5000);
    ASSERT_STR_EQ("online", gwj_s(v, "d.status"));
    json_decref(v);
    gwc_close(&co, 1000);
    v = gwc_wait(&cu, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(owner, jid(gwj(v, "d.user"), "id"));
    ASSERT_STR_EQ("offline", gwj_s(v, "d.status"));
    json_decref(v);
    p = NULL;
    for (tries = 0; tries < 500 && store_presence_get(e.db, owner, &p) != 0; tries++)
        usleep(2000);
    ASSERT_NOT_NULL(p);
    ASSERT_STR_EQ("offline", js(p, "status"));
    json_decref(p);
    gwc_drop(&cu);
    gwt_stop(&e);
    return 0;
}

/* Heartbeats: a silent client is asked for one (op 1), then closed with 4009; a
 * session that never identifies is closed with 4009 too. */
TEST_IMPL(gateway_heartbeat_timeout)
{
    char token[STORE_TOKEN_SIZE];
    uint64_t owner, general;
    gateway_config_t cfg = {0};
    gwt_env_t e;
    gwc_t c;
    json_t *v;

    cfg.heartbeat_interval_ms = 200;
    gwt_start(&e, &cfg, NULL);
    owner_guild(&e, token, &owner, &general);
    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    v = gwc_identify(&c, token, -1);
    ASSERT_EQ(200, 200);
    json_decref(v);
    v = gwc_wait(&c, "GUILD_CREATE", 5000);
    json_decref(v);
    v = gwc_recv(&c, 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(1, gwj_i(v, "op")); /* the server's request for a heartbeat */
    json_decref(v);
    ASSERT_EQ(4009, gwc_wait_close(&c, 5000));
    gwc_drop(&c);

    /* A client that answers the server's requests but never heartbeats on its own. */
    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&c, token, -1));
    for (;;) {
        v = gwc_recv(&c, 5000);
        if (v == NULL)
            break;
        if (gwj_i(v, "op") == 1)
            gwc_send(&c, json_pack("{s:i, s:i}", "op", 1, "d", (int)c.seq));
        json_decref(v);
    }
    ASSERT_EQ(4009, c.close_code);
    gwc_drop(&c);

    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    ASSERT_EQ(4009, gwc_wait_close(&c, 5000));
    gwc_drop(&c);
    gwt_stop(&e);
    return 0;
}

/* Draining: RECONNECT, then the server closes. */
TEST_IMPL(gateway_drain)
{
    char token[STORE_TOKEN_SIZE];
    uint64_t owner, general;
    gwt_env_t e;
    gwc_t c;
    json_t *v;
    int tries;

    gwt_start(&e, NULL, NULL);
    owner_guild(&e, token, &owner, &general);
    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&c, token, -1));
    json_decref(gwc_wait(&c, "GUILD_CREATE", 5000));
    for (tries = 0; tries < 500 && hub_sessions_count(owner) != 1; tries++)
        usleep(2000);
    ASSERT_EQ(1, hub_sessions_count(owner));
    ASSERT_OK(gateway_drain());
    v = gwc_recv(&c, 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(7, gwj_i(v, "op"));
    json_decref(v);
    ASSERT_EQ(1012, gwc_wait_close(&c, 5000));
    gwc_drop(&c);
    gwt_stop(&e);
    return 0;
}

/* Resident memory of this process, in bytes. */
static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* N identified idle sessions of N members of one guild: what one costs. Prints the
 * session process's own figure (hearth_process_info: the process and its queue) and
 * the whole process's resident growth per connection (server side and this test's
 * client side together: an upper bound), and checks that an idle session holds no
 * resume ring once its dispatches are acknowledged. */
TEST_IMPL(gateway_idle_memory)
{
    char token[STORE_TOKEN_SIZE], name[64];
    char(*tokens)[STORE_TOKEN_SIZE];
    uint64_t owner, general, guild;
    hearth_proc_info_t info;
    gwt_env_t e;
    gwc_t *cs;
    json_t *v;
    long before, after;
    size_t n = test_scaled(1000), i;
    hearth_pid_t pid = HEARTH_PID_NONE;

    gwt_start(&e, NULL, NULL);
    guild = owner_guild(&e, token, &owner, &general);
    tokens = calloc(n, sizeof(*tokens));
    cs = calloc(n, sizeof(*cs));
    ASSERT_NOT_NULL(tokens);
    ASSERT_NOT_NULL(cs);
    ASSERT_OK(store_bulk_members(e.db, guild, "idle", n, tokens, NULL));
    /* Warm up: the hub, the snapshot, the first stacks and buffers. */
    gwc_connect(&cs[0], e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&cs[0], tokens[0], 1 | (1 << 9)));
    json_decref(gwc_wait(&cs[0], "GUILD_CREATE", 5000));
    usleep(200000);
    before = rss_bytes();
    for (i = 1; i < n; i++) {
        gwc_connect(&cs[i], e.port, "/?v=10&encoding=json");
        v = gwc_identify(&cs[i], tokens[i], 1 | (1 << 9));
        ASSERT_NOT_NULL(v);
        if (i == n / 2) {
            gw__session_name(name, gwj_s(v, "d.session_id"), gw__token_tag(tokens[i]));
            pid = hearth_whereis(name);
        }
        json_decref(v);
        v = gwc_wait(&cs[i], "GUILD_CREATE", 5000);
        ASSERT_NOT_NULL(v);
        ASSERT(json_is_true(gwj(v, "d.large"))); /* more than 50 members: no member list */
        json_decref(v);
        /* Acknowledge (heartbeat with the last seq): the ring empties. */
        gwc_send(&cs[i], json_pack("{s:i, s:i}", "op", 1, "d", (int)cs[i].seq));
        json_decref(gwc_recv(&cs[i], 5000));
        free(cs[i].buf); /* the client's read buffer is not the server's cost */
        cs[i].buf = NULL;
        cs[i].cap = cs[i].len = 0;
    }
    usleep(200000);
    after = rss_bytes();
    ASSERT_NE(HEARTH_PID_NONE, pid);
    ASSERT_OK(hearth_process_info(pid, &info));
    printf("idle identified session: process %zu bytes (hearth_process_info), "
           "session state %zu bytes + ring 0; process RSS growth %.0f bytes per connection "
           "(client and server, %zu connections)\n",
           info.memory, sizeof(gw_t), (double)(after - before) / (double)(n - 1), n);
    ASSERT_LE(info.memory + sizeof(gw_t), 3072);
    for (i = 0; i < n; i++)
        gwc_drop(&cs[i]);
    free(cs);
    free(tokens);
    gwt_stop(&e);
    return 0;
}

/* REQUEST_GUILD_MEMBERS: by user ids (with not_found), by name prefix, everyone. */
TEST_IMPL(gateway_request_members)
{
    char token[STORE_TOKEN_SIZE], t2[STORE_TOKEN_SIZE];
    uint64_t owner, general, guild, m2;
    gwt_env_t e;
    gwc_t c;
    json_t *v;

    gwt_start(&e, NULL, NULL);
    guild = owner_guild(&e, token, &owner, &general);
    m2 = gwt_user(&e, "zebra", t2);
    ASSERT_OK(store_member_add(e.db, guild, m2, NULL));
    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&c, token, 1 | (1 << 1)));
    json_decref(gwc_wait(&c, "GUILD_CREATE", 5000));

    gwc_send(&c, json_pack("{s:i, s:{s:I, s:[I, s], s:s, s:b}}", "op", 8, "d", "guild_id",
                           (json_int_t)guild, "user_ids", (json_int_t)m2, "777", "nonce", "n1",
                           "presences", 1));
    v = gwc_wait(&c, "GUILD_MEMBERS_CHUNK", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(guild, jid(gwj(v, "d"), "guild_id"));
    ASSERT_EQ(1, json_array_size(gwj(v, "d.members")));
    ASSERT_EQ(m2, jid(gwj(v, "d.members.0.user"), "id"));
    ASSERT_STR_EQ("777", gwj_s(v, "d.not_found.0"));
    ASSERT_STR_EQ("n1", gwj_s(v, "d.nonce"));
    ASSERT_EQ(0, gwj_i(v, "d.chunk_index"));
    ASSERT_EQ(1, gwj_i(v, "d.chunk_count"));
    json_decref(v);

    gwc_send(&c, json_pack("{s:i, s:{s:I, s:s, s:i}}", "op", 8, "d", "guild_id", (json_int_t)guild,
                           "query", "ZE", "limit", 10));
    v = gwc_wait(&c, "GUILD_MEMBERS_CHUNK", 5000);
    ASSERT_EQ(1, json_array_size(gwj(v, "d.members")));
    ASSERT_STR_EQ("zebra", gwj_s(v, "d.members.0.user.username"));
    json_decref(v);

    gwc_send(&c, json_pack("{s:i, s:{s:I, s:s, s:i}}", "op", 8, "d", "guild_id", (json_int_t)guild,
                           "query", "", "limit", 0));
    v = gwc_wait(&c, "GUILD_MEMBERS_CHUNK", 5000);
    ASSERT_EQ(2, json_array_size(gwj(v, "d.members")));
    json_decref(v);
    gwc_drop(&c);
    gwt_stop(&e);
    return 0;
}
