/* Hub tests: requests as the REST API makes them (hub_request from the test thread),
 * their checks and Discord error codes, the events they send, hubs starting once under
 * racing starters and stopping when idle, members joining, private channels, and the
 * u64map the hubs index with. Sessions are real gateway connections (test-gateway.h). */
#include "test-gateway.h"

#include "hub/u64map.h"

#include <pthread.h>
#include <unistd.h>

/* ---- errors and checks ----------------------------------------------------------------------- */

TEST_IMPL(hub_request_errors)
{
    char token[STORE_TOKEN_SIZE], t2[STORE_TOKEN_SIZE], t3[STORE_TOKEN_SIZE], long_text[2100];
    uint64_t owner, member, stranger, general, guild, mid;
    hub_result_t r;
    gwt_env_t e;
    json_t *body;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", token);
    member = gwt_user(&e, "member", t2);
    stranger = gwt_user(&e, "stranger", t3);
    guild = ts_guild(e.db, owner, "Errors", &general);
    ASSERT_OK(store_member_add(e.db, guild, member, NULL));

    /* Unknowns. */
    gwt_req_full(HUB_GUILD, 12345, HUB_OP_CHECK_ACCESS, owner, json_object(), &r);
    ASSERT_EQ(404, r.status);
    ASSERT_EQ(10004, r.code);
    ASSERT_STR_EQ("Unknown Guild", r.message);
    hub_result_clear(&r);
    gwt_req_full(HUB_CHANNEL, 12345, HUB_OP_MESSAGE_CREATE, owner,
                 json_pack("{s:s}", "content", "x"), &r);
    ASSERT_EQ(404, r.status);
    ASSERT_EQ(10003, r.code);
    hub_result_clear(&r);

    /* Access. */
    json_decref(gwt_req(HUB_CHANNEL, general, HUB_OP_CHECK_ACCESS, member, json_object(), 204));
    gwt_req_full(HUB_CHANNEL, general, HUB_OP_CHECK_ACCESS, stranger, json_object(), &r);
    ASSERT_EQ(403, r.status);
    ASSERT_EQ(50001, r.code);
    ASSERT_STR_EQ("Missing Access", r.message);
    hub_result_clear(&r);
    gwt_req_full(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, stranger,
                 json_pack("{s:s}", "content", "let me in"), &r);
    ASSERT_EQ(50001, r.code);
    hub_result_clear(&r);

    /* Bad bodies. */
    gwt_req_full(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, member, json_object(), &r);
    ASSERT_EQ(400, r.status);
    ASSERT_EQ(50006, r.code);
    hub_result_clear(&r);
    memset(long_text, 'a', 2001);
    long_text[2001] = '\0';
    gwt_req_full(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, member,
                 json_pack("{s:s}", "content", long_text), &r);
    ASSERT_EQ(400, r.status);
    ASSERT_EQ(50035, r.code);
    ASSERT_STR_EQ("BASE_TYPE_MAX_LENGTH", gwj_s(r.body, "content._errors.0.code"));
    hub_result_clear(&r);
    gwt_req_full(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, member,
                 json_pack("{s:i, s:i}", "content", 5, "tts", 2), &r);
    ASSERT_EQ(50035, r.code);
    ASSERT_NOT_NULL(gwj(r.body, "content._errors"));
    ASSERT_NOT_NULL(gwj(r.body, "tts._errors"));
    hub_result_clear(&r);
    gwt_req_full(
        HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, member,
        json_pack("{s:s, s:{s:s}}", "content", "re", "message_reference", "message_id", "999"), &r);
    ASSERT_EQ(50035, r.code);
    ASSERT_STR_EQ("MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                  gwj_s(r.body, "message_reference._errors.0.code"));
    hub_result_clear(&r);

    /* Messages: only the author edits; unknown messages. */
    body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, member,
                   json_pack("{s:s}", "content", "mine"), 200);
    mid = jid(body, "id");
    json_decref(body);
    gwt_req_full(HUB_CHANNEL, general, HUB_OP_MESSAGE_EDIT, owner,
                 json_pack("{s:I, s:s}", "message_id", (json_int_t)mid, "content", "theirs"), &r);
    ASSERT_EQ(403, r.status);
    ASSERT_EQ(50005, r.code);
    hub_result_clear(&r);
    body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_EDIT, member,
                   json_pack("{s:I, s:s}", "message_id", (json_int_t)mid, "content", "still mine"),
                   200);
    ASSERT_STR_EQ("still mine", js(body, "content"));
    ASSERT_NOT_NULL(js(body, "edited_timestamp"));
    json_decref(body);
    gwt_req_full(HUB_CHANNEL, general, HUB_OP_MESSAGE_EDIT, member,
                 json_pack("{s:s, s:s}", "message_id", "424242", "content", "?"), &r);
    ASSERT_EQ(404, r.status);
    ASSERT_EQ(10008, r.code);
    hub_result_clear(&r);
    gwt_req_full(HUB_CHANNEL, general, HUB_OP_MESSAGE_DELETE, member,
                 json_pack("{s:s}", "message_id", "424242"), &r);
    ASSERT_EQ(10008, r.code);
    hub_result_clear(&r);
    /* The owner may delete a member's message; a member may not delete the owner's. */
    json_decref(gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_DELETE, owner,
                        json_pack("{s:I}", "message_id", (json_int_t)mid), 204));

    /* Guild: MANAGE_GUILD (the owner here); roles: MANAGE_ROLES. */
    gwt_req_full(HUB_GUILD, guild, HUB_OP_GUILD_DELETE, member, json_object(), &r);
    ASSERT_EQ(403, r.status);
    ASSERT_EQ(50013, r.code);
    hub_result_clear(&r);
    gwt_req_full(HUB_GUILD, guild, HUB_OP_GUILD_MODIFY, member,
                 json_pack("{s:s}", "name", "Mine now"), &r);
    ASSERT_EQ(403, r.status);
    hub_result_clear(&r);
    gwt_req_full(HUB_GUILD, guild, HUB_OP_ROLE_CREATE, member, json_object(), &r);
    ASSERT_EQ(403, r.status);
    ASSERT_EQ(50013, r.code);
    hub_result_clear(&r);
    body = gwt_req(HUB_GUILD, guild, HUB_OP_ROLE_CREATE, owner, json_object(), 200);
    ASSERT_STR_EQ("new role", js(body, "name"));
    json_decref(body);
    gwt_req_full(HUB_GUILD, guild, HUB_OP_MEMBER_REMOVE, owner,
                 json_pack("{s:I}", "user_id", (json_int_t)owner), &r);
    ASSERT_EQ(400, r.status); /* the owner cannot leave */
    hub_result_clear(&r);
    gwt_req_full(HUB_GUILD, guild, HUB_OP_CHANNEL_CREATE, owner, json_pack("{s:i}", "type", 9), &r);
    ASSERT_EQ(50035, r.code);
    ASSERT_NOT_NULL(gwj(r.body, "name._errors"));
    ASSERT_NOT_NULL(gwj(r.body, "type._errors"));
    hub_result_clear(&r);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_GUILD_DELETE, owner, json_object(), 204));
    gwt_req_full(HUB_GUILD, guild, HUB_OP_CHECK_ACCESS, owner, json_object(), &r);
    ASSERT_EQ(404, r.status);
    ASSERT_EQ(10004, r.code);
    hub_result_clear(&r);
    gwt_stop(&e);
    return 0;
}

/* ---- events of the guild ops ------------------------------------------------------------------
 */

/* Every op dispatches its event; a new member's session starts receiving the guild; a
 * kicked member's sessions get GUILD_DELETE; deleting the guild tells everyone. */
TEST_IMPL(hub_guild_events)
{
    char token[STORE_TOKEN_SIZE], t2[STORE_TOKEN_SIZE];
    uint64_t owner, joiner, general, guild, chan, mid;
    gwt_env_t e;
    gwc_t co, cj;
    json_t *v, *body, *ready;
    const char *code;
    char codebuf[16];
    int tries;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", token);
    joiner = gwt_user(&e, "joiner", t2);
    guild = ts_guild(e.db, owner, "Events", &general);

    gwc_connect(&co, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&co, token, -1));
    json_decref(gwc_wait(&co, "GUILD_CREATE", 5000));
    gwc_connect(&cj, e.port, "/?v=10&encoding=json");
    ready = gwc_identify(&cj, t2, -1);
    ASSERT_EQ(0, json_array_size(gwj(ready, "d.guilds")));
    json_decref(ready);
    for (tries = 0; tries < 500 && hub_sessions_count(joiner) != 1; tries++)
        usleep(2000);

    /* An invite, accepted through MEMBER_ADD with its code. */
    body = gwt_req(HUB_GUILD, guild, HUB_OP_INVITE_CREATE, owner,
                   json_pack("{s:I, s:i}", "channel_id", (json_int_t)general, "max_age", 600), 200);
    snprintf(codebuf, sizeof(codebuf), "%s", js(body, "code"));
    code = codebuf;
    json_decref(body);
    v = gwc_wait(&co, "INVITE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ(code, gwj_s(v, "d.code"));
    json_decref(v);
    body = gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_ADD, joiner,
                   json_pack("{s:I, s:s}", "user_id", (json_int_t)joiner, "code", code), 200);
    ASSERT_STR_EQ(code, js(body, "code"));
    json_decref(body);
    v = gwc_wait(&co, "GUILD_MEMBER_ADD", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(joiner, jid(gwj(v, "d.user"), "id"));
    ASSERT_EQ(guild, jid(gwj(v, "d"), "guild_id"));
    json_decref(v);
    v = gwc_wait(&cj, "GUILD_CREATE", 5000); /* the joiner's session subscribed */
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(guild, jid(gwj(v, "d"), "id"));
    ASSERT_EQ(2, gwj_i(v, "d.member_count"));
    json_decref(v);

    /* Channels and the guild. */
    body = gwt_req(HUB_GUILD, guild, HUB_OP_CHANNEL_CREATE, owner,
                   json_pack("{s:s, s:i}", "name", "random", "type", 0), 201);
    chan = jid(body, "id");
    json_decref(body);
    v = gwc_wait(&cj, "CHANNEL_CREATE", 5000);
    ASSERT_EQ(chan, jid(gwj(v, "d"), "id"));
    json_decref(v);
    json_decref(gwt_req(HUB_CHANNEL, chan, HUB_OP_CHANNEL_MODIFY, owner,
                        json_pack("{s:s}", "topic", "anything"), 200));
    v = gwc_wait(&cj, "CHANNEL_UPDATE", 5000);
    ASSERT_STR_EQ("anything", gwj_s(v, "d.topic"));
    json_decref(v);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_GUILD_MODIFY, owner,
                        json_pack("{s:s}", "name", "Events!"), 200));
    v = gwc_wait(&cj, "GUILD_UPDATE", 5000);
    ASSERT_STR_EQ("Events!", gwj_s(v, "d.name"));
    json_decref(v);

    /* Messages, reactions, typing in the new channel, seen by the joiner. */
    body = gwt_req(HUB_CHANNEL, chan, HUB_OP_MESSAGE_CREATE, owner,
                   json_pack("{s:s}", "content", "react to this"), 200);
    mid = jid(body, "id");
    json_decref(body);
    json_decref(gwc_wait(&cj, "MESSAGE_CREATE", 5000));
    json_decref(gwt_req(HUB_CHANNEL, chan, HUB_OP_REACTION_ADD, joiner,
                        json_pack("{s:I, s:s}", "message_id", (json_int_t)mid, "emoji", "👍"), 204));
    v = gwc_wait(&co, "MESSAGE_REACTION_ADD", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ("👍", gwj_s(v, "d.emoji.name"));
    ASSERT_EQ(joiner, jid(gwj(v, "d"), "user_id"));
    ASSERT_EQ(owner, jid(gwj(v, "d"), "message_author_id"));
    json_decref(v);
    json_decref(gwt_req(HUB_CHANNEL, chan, HUB_OP_REACTION_REMOVE_OWN, joiner,
                        json_pack("{s:I, s:s}", "message_id", (json_int_t)mid, "emoji", "👍"), 204));
    json_decref(gwc_wait(&co, "MESSAGE_REACTION_REMOVE", 5000));
    json_decref(gwt_req(HUB_CHANNEL, chan, HUB_OP_TYPING, joiner, json_object(), 204));
    v = gwc_wait(&co, "TYPING_START", 5000);
    ASSERT_EQ(joiner, jid(gwj(v, "d"), "user_id"));
    json_decref(v);
    json_decref(gwt_req(HUB_CHANNEL, chan, HUB_OP_MESSAGE_EDIT, owner,
                        json_pack("{s:I, s:s}", "message_id", (json_int_t)mid, "content", "edited"),
                        200));
    v = gwc_wait(&cj, "MESSAGE_UPDATE", 5000);
    ASSERT_STR_EQ("edited", gwj_s(v, "d.content"));
    json_decref(v);
    json_decref(gwt_req(HUB_CHANNEL, chan, HUB_OP_MESSAGE_DELETE, owner,
                        json_pack("{s:I}", "message_id", (json_int_t)mid), 204));
    v = gwc_wait(&cj, "MESSAGE_DELETE", 5000);
    ASSERT_EQ(mid, jid(gwj(v, "d"), "id"));
    json_decref(v);

    /* A nickname (own), then a kick: the joiner's session gets GUILD_DELETE. */
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_MODIFY, joiner,
                        json_pack("{s:I, s:s}", "user_id", (json_int_t)joiner, "nick", "J"), 200));
    v = gwc_wait(&co, "GUILD_MEMBER_UPDATE", 5000);
    ASSERT_STR_EQ("J", gwj_s(v, "d.nick"));
    json_decref(v);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_REMOVE, owner,
                        json_pack("{s:I}", "user_id", (json_int_t)joiner), 204));
    v = gwc_wait(&cj, "GUILD_DELETE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(guild, jid(gwj(v, "d"), "id"));
    ASSERT_NULL(gwj(v, "d.unavailable"));
    json_decref(v);
    v = gwc_wait(&co, "GUILD_MEMBER_REMOVE", 5000);
    ASSERT_EQ(joiner, jid(gwj(v, "d.user"), "id"));
    json_decref(v);

    /* A guild created in the store reaches its owner's session once REST calls
     * MEMBER_ADD for the owner. */
    {
        uint64_t g2 = ts_guild(e.db, owner, "Second", NULL);
        json_decref(gwt_req(HUB_GUILD, g2, HUB_OP_MEMBER_ADD, owner,
                            json_pack("{s:I}", "user_id", (json_int_t)owner), 204));
        v = gwc_wait(&co, "GUILD_CREATE", 5000);
        ASSERT_NOT_NULL(v);
        ASSERT_EQ(g2, jid(gwj(v, "d"), "id"));
        json_decref(v);
    }

    /* Channel delete, then the guild. */
    json_decref(gwt_req(HUB_CHANNEL, chan, HUB_OP_CHANNEL_DELETE, owner, json_object(), 200));
    v = gwc_wait(&co, "CHANNEL_DELETE", 5000);
    ASSERT_EQ(chan, jid(gwj(v, "d"), "id"));
    json_decref(v);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_GUILD_DELETE, owner, json_object(), 204));
    v = gwc_wait(&co, "GUILD_DELETE", 5000);
    ASSERT_EQ(guild, jid(gwj(v, "d"), "id"));
    json_decref(v);
    gwc_drop(&co);
    gwc_drop(&cj);
    gwt_stop(&e);
    return 0;
}

/* ---- private channels
 * ----------------------------------------------------------------------------- */

/* A DM's messages reach every session of both users, including a second session of
 * one of them, without guild_id; a third user may not post. */
TEST_IMPL(hub_dm_delivery)
{
    char ta[STORE_TOKEN_SIZE], tb[STORE_TOKEN_SIZE], tc[STORE_TOKEN_SIZE];
    uint64_t a, b, c, dm;
    hub_result_t r;
    gwt_env_t e;
    gwc_t ca, cb1, cb2;
    json_t *ch, *v, *body;
    int tries;

    gwt_start(&e, NULL, NULL);
    a = gwt_user(&e, "alice", ta);
    b = gwt_user(&e, "bob", tb);
    c = gwt_user(&e, "carol", tc);
    gwc_connect(&ca, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&ca, ta, -1));
    gwc_connect(&cb1, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&cb1, tb, (1 << 12) | (1 << 15)));
    gwc_connect(&cb2, e.port, "/?v=10&encoding=etf");
    json_decref(gwc_identify(&cb2, tb, 1 << 12)); /* no MESSAGE_CONTENT: DMs have it anyway */
    for (tries = 0; tries < 500 && (hub_sessions_count(a) != 1 || hub_sessions_count(b) != 2);
         tries++)
        usleep(2000);
    ASSERT_EQ(2, hub_sessions_count(b));

    ASSERT(store_dm_open(e.db, a, b, &ch) >= 0);
    dm = jid(ch, "id");
    json_decref(ch);
    body = gwt_req(HUB_CHANNEL, dm, HUB_OP_MESSAGE_CREATE, a, json_pack("{s:s}", "content", "psst"),
                   200);
    json_decref(body);
    v = gwc_wait(&ca, "MESSAGE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_NULL(gwj(v, "d.guild_id"));
    json_decref(v);
    v = gwc_wait(&cb1, "MESSAGE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ("psst", gwj_s(v, "d.content"));
    ASSERT_EQ(dm, jid(gwj(v, "d"), "channel_id"));
    json_decref(v);
    v = gwc_wait(&cb2, "MESSAGE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ("psst", gwj_s(v, "d.content"));
    json_decref(v);
    json_decref(gwt_req(HUB_CHANNEL, dm, HUB_OP_TYPING, b, json_object(), 204));
    gwt_req_full(HUB_CHANNEL, dm, HUB_OP_MESSAGE_CREATE, c, json_pack("{s:s}", "content", "hi"),
                 &r);
    ASSERT_EQ(403, r.status);
    ASSERT_EQ(50001, r.code);
    hub_result_clear(&r);
    gwt_req_full(HUB_CHANNEL, dm, HUB_OP_MESSAGE_BULK_DELETE, a,
                 json_pack("{s:[s, s]}", "messages", "1", "2"), &r);
    ASSERT_EQ(50024, r.code);
    hub_result_clear(&r);

    /* A session that comes later is reached as well (the directory tells the hub). */
    gwc_drop(&cb1);
    gwc_connect(&cb1, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&cb1, tb, -1));
    for (tries = 0; tries < 500 && hub_sessions_count(b) != 3; tries++)
        usleep(2000);
    json_decref(gwt_req(HUB_CHANNEL, dm, HUB_OP_MESSAGE_CREATE, a,
                        json_pack("{s:s}", "content", "again"), 200));
    v = gwc_wait(&cb1, "MESSAGE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ("again", gwj_s(v, "d.content"));
    json_decref(v);
    gwc_drop(&ca);
    gwc_drop(&cb1);
    gwc_drop(&cb2);
    gwt_stop(&e);
    return 0;
}

/* ---- starting and stopping
 * ------------------------------------------------------------------------ */

typedef struct race {
    uint64_t guild;
    hearth_pid_t pid;
    int err;
} race_t;

static void *race_thread(void *arg)
{
    race_t *r = arg;

    r->err = hub_guild_pid(r->guild, &r->pid);
    return NULL;
}

/* Racing starters end with one hub; an idle hub stops and the next request starts
 * another. */
TEST_IMPL(hub_start_race_and_idle)
{
    enum { N = 8 };
    char token[STORE_TOKEN_SIZE], name[48];
    uint64_t owner, general, guild;
    hub_config_t hc = {0};
    pthread_t th[N];
    race_t r[N];
    hearth_pid_t first;
    gwt_env_t e;
    int i, tries;

    hc.idle_ms = 300;
    gwt_start(&e, NULL, &hc);
    owner = gwt_user(&e, "owner", token);
    guild = ts_guild(e.db, owner, "Race", &general);
    for (i = 0; i < N; i++) {
        r[i].guild = guild;
        ASSERT_OK(pthread_create(&th[i], NULL, race_thread, &r[i]));
    }
    for (i = 0; i < N; i++)
        ASSERT_OK(pthread_join(th[i], NULL));
    for (i = 0; i < N; i++) {
        ASSERT_OK(r[i].err);
        ASSERT_EQ(r[0].pid, r[i].pid);
    }
    first = r[0].pid;
    snprintf(name, sizeof(name), "guild:%llu", (unsigned long long)guild);
    ASSERT_EQ(first, hearth_whereis(name));
    ASSERT_EQ(HEARTH_ENOENT, hub_guild_pid(987654321, &r[0].pid));

    /* No subscribers: it stops after idle_ms. */
    for (tries = 0; tries < 500 && hearth_is_alive(first); tries++)
        usleep(2000);
    ASSERT(!hearth_is_alive(first));
    ASSERT_EQ(HEARTH_PID_NONE, hearth_whereis(name));
    json_decref(gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, owner,
                        json_pack("{s:s}", "content", "wake up"), 200));
    ASSERT_NE(HEARTH_PID_NONE, hearth_whereis(name));
    ASSERT_NE(first, hearth_whereis(name));
    gwt_stop(&e);
    return 0;
}

/* ---- the hash map
 * ----------------------------------------------------------------------------------- */

TEST_IMPL(hub_u64map)
{
    enum { N = 20000 };
    u64map_t m = {0};
    uint64_t v, k, sum = 0;
    size_t i, seen = 0;

    for (i = 1; i <= N; i++)
        u64map_put(&m, i * 0x9E3779B97F4A7C15ULL, i);
    ASSERT_EQ(N, m.n);
    for (i = 1; i <= N; i++) {
        ASSERT(u64map_get(&m, i * 0x9E3779B97F4A7C15ULL, &v));
        ASSERT_EQ(i, v);
    }
    ASSERT(!u64map_get(&m, 12345, NULL));
    for (i = 1; i <= N; i += 2)
        ASSERT(u64map_del(&m, i * 0x9E3779B97F4A7C15ULL, NULL));
    for (i = 1; i <= N; i++)
        ASSERT_EQ(i % 2 == 0, u64map_get(&m, i * 0x9E3779B97F4A7C15ULL, NULL));
    for (i = 0; u64map_next(&m, &i, &k, &v);) {
        sum += v;
        seen++;
    }
    ASSERT_EQ(N / 2, seen);
    ASSERT_EQ((uint64_t)(N / 2) * (N / 2 + 1), sum);
    for (i = 2; i <= N; i += 2)
        ASSERT(u64map_del(&m, i * 0x9E3779B97F4A7C15ULL, NULL));
    ASSERT_EQ(0, m.n);
    ASSERT_NULL(m.keys); /* emptied: no table left */
    u64map_free(&m);
    return 0;
}
