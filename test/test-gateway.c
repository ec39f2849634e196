/* Gateway tests over real sockets: HELLO, IDENTIFY, READY and GUILD_CREATE, heartbeats,
 * close codes, RESUME, zlib-stream, ETF, drain, and the memory of an idle session. Each
 * test starts the runtime, a store on a temporary directory, the hub tree and a
 * listener with the gateway routes (test-gateway.h). */
#include "test-gateway.h"

#include "hub/etf.h"

#include <unistd.h>

#define INTENTS_DEFAULT ((1 << 0) | (1 << 9) | (1 << 15)) /* GUILDS, GUILD_MESSAGES, CONTENT */

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
    ASSERT_EQ(4003, close_code_of(&e, "/?v=10&encoding=json",
                                  json_pack("{s:i, s:{s:s}}", "op", 3, "d", "status", "idle"),
                                  NULL));
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
                                  json_pack("{s:i, s:{s:s, s:i, s:[i, i]}}", "op", 2, "d",
                                            "token", auth, "intents", 1, "shard", 2, 2),
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
