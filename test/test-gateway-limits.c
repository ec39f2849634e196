/* The gateway's limits over real sockets: a connection sending more than 120 frames
 * in 60 s (heartbeats counted, as Discord counts them) is closed with 4008 and its
 * session stays resumable; a bot's identifies go through the identify limiter
 * (INVALID_SESSION when refused, READY when it tries again later on the same
 * connection), a person's do not. */
#include "test-gateway.h"

#include "hearth/supervisor.h"
#include "ratelimit/ratelimit.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void heartbeat(gwc_t *c, uint32_t seq)
{
    gwc_send(c, json_pack("{s:i, s:i}", "op", 1, "d", (int)seq));
}

TEST_IMPL(gateway_send_limit)
{
    char token[STORE_TOKEN_SIZE], sid[40];
    uint64_t owner, general;
    gwt_env_t e;
    gwc_t c, c2;
    json_t *v;
    int acks = 0, i;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", token);
    ts_guild(e.db, owner, "Limits", &general);
    gwc_connect(&c, e.port, "/?v=10&encoding=json");
    v = gwc_identify(&c, token, -1); /* frame 1 */
    ASSERT_NOT_NULL(v);
    snprintf(sid, sizeof(sid), "%s", gwj_s(v, "d.session_id"));
    json_decref(v);
    json_decref(gwc_wait(&c, "GUILD_CREATE", 5000));

    /* Frames 2..120: all answered. */
    for (i = 0; i < 119; i++)
        heartbeat(&c, c.seq);
    while (acks < 119 && (v = gwc_recv(&c, 5000)) != NULL) {
        acks += gwj_i(v, "op") == 11;
        json_decref(v);
    }
    ASSERT_EQ(119, acks);
    ASSERT_EQ(0, c.close_code);

    /* Frame 121: closed with 4008. */
    heartbeat(&c, c.seq);
    ASSERT_EQ(4008, gwc_wait_close(&c, 5000));
    gwc_drop(&c);

    /* The session itself stays: a new connection resumes it. */
    gwc_connect(&c2, e.port, "/?v=10&encoding=json");
    v = gwc_recv(&c2, 5000); /* HELLO */
    ASSERT_EQ(10, gwj_i(v, "op"));
    json_decref(v);
    gwc_send(&c2, json_pack("{s:i, s:{s:s, s:s, s:i}}", "op", 6, "d", "token", token, "session_id",
                            sid, "seq", (int)c.seq));
    v = gwc_wait(&c2, "RESUMED", 5000);
    ASSERT_NOT_NULL(v);
    json_decref(v);
    gwc_close(&c2, 1000);
    gwt_stop(&e);
    return 0;
}

static rl_config_t limiter_cfg = {.identify_period_ms = 1000, .seed = 7};

/* HELLO, then IDENTIFY; returns the next payload that is not a heartbeat ACK. */
static json_t *identify_raw(gwc_t *c, const char *token, int64_t intents, bool hello)
{
    json_t *v;

    if (hello) {
        v = gwc_recv(c, 5000);
        ASSERT_EQ(10, gwj_i(v, "op"));
        json_decref(v);
    }
    gwc_send(c, json_pack("{s:i, s:{s:s, s:I, s:{s:s, s:s, s:s}}}", "op", 2, "d", "token", token,
                          "intents", (json_int_t)intents, "properties", "os", "linux", "browser",
                          "hearth-test", "device", "hearth-test"));
    while ((v = gwc_recv(c, 5000)) != NULL && gwj_i(v, "op") == 11)
        json_decref(v);
    return v;
}

TEST_IMPL(gateway_identify_limit)
{
    char token[STORE_TOKEN_SIZE], bot_token[STORE_TOKEN_SIZE], auth[STORE_TOKEN_SIZE + 8];
    hearth_child_spec_t spec = {
        .id = "ratelimit", .start = rl_server_child_start, .arg = &limiter_cfg};
    uint64_t owner, general, guild, bot;
    hearth_pid_t sup;
    gwt_env_t e;
    gwc_t a, b, u1, u2;
    json_t *v;

    gwt_start(&e, NULL, NULL);
    ASSERT_OK(hearth_supervisor_start(NULL, &spec, 1, HEARTH_SPAWN_LINK, &sup));
    owner = gwt_user(&e, "owner", token);
    guild = ts_guild(e.db, owner, "Limits", &general);
    bot = gwt_bot(&e, owner, "helper", bot_token);
    ASSERT_OK(store_member_add(e.db, guild, bot, NULL));
    snprintf(auth, sizeof(auth), "Bot %s", bot_token);

    /* The first identify passes; the second, at once, is told to wait. */
    gwc_connect(&a, e.port, "/?v=10&encoding=json");
    v = identify_raw(&a, auth, 1, true);
    ASSERT_STR_EQ("READY", gwj_s(v, "t"));
    json_decref(v);
    gwc_connect(&b, e.port, "/?v=10&encoding=json");
    v = identify_raw(&b, auth, 1, true);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(9, gwj_i(v, "op"));
    ASSERT(json_is_false(gwj(v, "d")));
    json_decref(v);
    ASSERT_EQ(0, b.close_code);

    /* Later, on the same connection, it passes. */
    usleep(1100 * 1000);
    v = identify_raw(&b, auth, 1, false);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ("READY", gwj_s(v, "t"));
    ASSERT_EQ(bot, jid(gwj(v, "d.user"), "id"));
    json_decref(v);

    /* People are not held back. */
    gwc_connect(&u1, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&u1, token, -1));
    gwc_connect(&u2, e.port, "/?v=10&encoding=json");
    v = gwc_identify(&u2, token, -1);
    ASSERT_NOT_NULL(v);
    json_decref(v);
    gwc_close(&a, 1000);
    gwc_close(&b, 1000);
    gwc_close(&u1, 1000);
    gwc_close(&u2, 1000);
    gwt_stop(&e);
    return 0;
}
