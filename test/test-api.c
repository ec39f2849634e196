/* REST API tests, part one: accounts (register, login, @me), applications, bots and
 * the OAuth2 bot flow, gateway discovery, guilds and channels, and the error answers
 * (401, unknown routes and ids, malformed JSON and ids, wrong field types), over real
 * sockets against a node in the test process. */
#include "test-api.h"

#define API "/api/v10"

static char *fmt_path(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static char *fmt_path(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return buf;
}

#define P(...) fmt_path(path, sizeof(path), __VA_ARGS__)
#define ID(x) ((unsigned long long)(x))

TEST_IMPL(api_accounts)
{
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t alice;
    char token[STORE_TOKEN_SIZE];

    ta_start(&n);
    ta_user(n.port, "alice", &alice);

    /* Both prefixes; the private form of @me has the email. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", "/api/users/@me", alice.token, NULL));
    ASSERT_STR_EQ("application/json", r.ctype);
    ASSERT_STR_EQ("alice@example.test", js(r.json, "email"));
    ASSERT_STR_EQ("0", js(r.json, "discriminator"));
    ASSERT(json_is_false(json_object_get(r.json, "bot")) || json_object_get(r.json, "bot") == NULL);

    /* Login by username and by email: new tokens that work; wrong password: 50035. */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", API "/auth/login", NULL,
                          "{\"login\": \"alice\", \"password\": \"correct horse battery\"}"));
    ASSERT_EQ(alice.id, jid(r.json, "user_id"));
    snprintf(token, sizeof(token), "%s", js(r.json, "token"));
    ASSERT(strcmp(token, alice.token) != 0);
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/users/@me", token, NULL));
    ASSERT_EQ(
        200,
        ta_req(n.port, &r, "POST", API "/auth/login", NULL,
               "{\"login\": \"ALICE@example.test\", \"password\": \"correct horse battery\"}"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/auth/login", NULL,
                          "{\"login\": \"alice\", \"password\": \"wrong horse battery\"}"));
    ASSERT(ta_form_error(&r, "login") && ta_form_error(&r, "password"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/auth/login", NULL, "{\"login\": \"alice\"}"));
    ASSERT(ta_form_error(&r, "password"));

    /* Register: taken names and emails, bad fields, each named. */
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/auth/register", NULL,
                          "{\"username\": \"alice\", \"email\": \"other@example.test\", "
                          "\"password\": \"12345678\"}"));
    ASSERT(ta_form_error(&r, "username"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/auth/register", NULL,
                          "{\"username\": \"alice2\", \"email\": \"alice@example.test\", "
                          "\"password\": \"12345678\"}"));
    ASSERT(ta_form_error(&r, "email") && !ta_form_error(&r, "username"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/auth/register", NULL,
                          "{\"username\": 7, \"email\": \"nope\", \"password\": \"short\"}"));
    ASSERT(ta_form_error(&r, "username") && ta_form_error(&r, "email") &&
           ta_form_error(&r, "password"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/auth/register", NULL,
                          "{\"username\": \"a@b\", \"email\": \"ab@example.test\", "
                          "\"password\": \"12345678\"}"));
    ASSERT(ta_form_error(&r, "username"));

    /* PATCH @me: a new global name; a bad type; another's username. */
    ASSERT_EQ(200, ta_req(n.port, &r, "PATCH", API "/users/@me", alice.token,
                          "{\"global_name\": \"Alice A.\"}"));
    ASSERT_STR_EQ("Alice A.", js(r.json, "global_name"));
    ASSERT_EQ(400,
              ta_req(n.port, &r, "PATCH", API "/users/@me", alice.token, "{\"global_name\": [1]}"));
    ASSERT(ta_form_error(&r, "global_name"));

    /* Another user, seen publicly: no email. */
    {
        ta_user_t bob;
        char path[96];

        ta_user(n.port, "bob", &bob);
        ASSERT_EQ(200,
                  ta_req(n.port, &r, "GET", P(API "/users/%llu", ID(bob.id)), alice.token, NULL));
        ASSERT_STR_EQ("bob", js(r.json, "username"));
        ASSERT_NULL(json_object_get(r.json, "email"));
        ASSERT_EQ(400, ta_req(n.port, &r, "PATCH", API "/users/@me", alice.token,
                              "{\"username\": \"bob\"}"));
        ASSERT(ta_form_error(&r, "username"));
        TA_ERR(&r, 400, 50035);
        ASSERT_EQ(404, ta_req(n.port, &r, "GET", API "/users/1234567890123", alice.token, NULL));
        TA_ERR(&r, 404, 10013);
    }
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

TEST_IMPL(api_bots_oauth2)
{
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t owner, other, bot;
    uint64_t app, guild, channel, other_guild;
    char path[160];

    ta_start(&n);
    ta_user(n.port, "owner", &owner);
    ta_user(n.port, "other", &other);
    guild = ta_guild(n.port, &owner, "botland", &channel);
    other_guild = ta_guild(n.port, &other, "elsewhere", NULL);

    /* An application, then its bot: the bot's id is the application's. */
    ASSERT_EQ(201, ta_req(n.port, &r, "POST", API "/applications", owner.token,
                          "{\"name\": \"Helper\"}"));
    app = jid(r.json, "id");
    ASSERT_NE(0, app);
    ASSERT_EQ(owner.id, jid(json_object_get(r.json, "owner"), "id"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/applications", owner.token, "{}"));
    ASSERT(ta_form_error(&r, "name"));
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/applications/%llu/bot", ID(app)), other.token,
                          NULL));
    TA_ERR(&r, 403, 50001);
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/applications/%llu/bot", ID(app)), owner.token,
                          NULL));
    ASSERT_EQ(app, jid(r.json, "id"));
    ASSERT(jb(r.json, "bot"));
    snprintf(bot.token, sizeof(bot.token), "Bot %s", js(r.json, "token"));
    bot.id = app;

    /* The bot's token needs its "Bot " prefix; a person's must not have one. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/users/@me", bot.token, NULL));
    ASSERT_EQ(app, jid(r.json, "id"));
    ASSERT(jb(r.json, "bot"));
    ASSERT_EQ(401, ta_req(n.port, &r, "GET", API "/users/@me", bot.token + 4, NULL));
    {
        char wrong[sizeof(owner.token) + 8];

        snprintf(wrong, sizeof(wrong), "Bot %s", owner.token);
        ASSERT_EQ(401, ta_req(n.port, &r, "GET", API "/users/@me", wrong, NULL));
    }
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/applications/@me", bot.token, NULL));
    ASSERT_EQ(app, jid(r.json, "id"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/oauth2/applications/@me", bot.token, NULL));
    ASSERT_EQ(403, ta_req(n.port, &r, "GET", API "/applications/@me", owner.token, NULL));
    ASSERT_EQ(200,
              ta_req(n.port, &r, "GET", P(API "/applications/%llu", ID(app)), owner.token, NULL));
    ASSERT_EQ(app, jid(json_object_get(r.json, "bot"), "id"));

    /* Gateway discovery, as discord.js does it first. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/gateway/bot", bot.token, NULL));
    {
        char url[64];

        snprintf(url, sizeof(url), "ws://127.0.0.1:%d", n.port);
        ASSERT_STR_EQ(url, js(r.json, "url"));
        ASSERT_EQ(1, ji(r.json, "shards"));
        ASSERT_EQ(1, ji(json_object_get(r.json, "session_start_limit"), "max_concurrency"));
        ASSERT_GT(ji(json_object_get(r.json, "session_start_limit"), "remaining"), 0);
    }
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/gateway", NULL, NULL));
    ASSERT_NOT_NULL(js(r.json, "url"));

    /* Not in the guild yet. */
    ASSERT_EQ(403, ta_req(n.port, &r, "GET", P(API "/guilds/%llu", ID(guild)), bot.token, NULL));
    TA_ERR(&r, 403, 50001);

    /* Authorize: only a manager of the guild; unknown applications; then in. */
    ASSERT_EQ(
        403, ta_req(n.port, &r, "POST",
                    P(API "/oauth2/authorize?client_id=%llu&scope=bot&permissions=8", ID(app)),
                    owner.token, "{\"authorize\": true, \"guild_id\": \"%llu\"}", ID(other_guild)));
    ASSERT(ta_code(&r) == 50013 || ta_code(&r) == 50001); /* not a member there at all */
    ASSERT_EQ(404, ta_req(n.port, &r, "POST",
                          P(API "/oauth2/authorize?client_id=%llu&scope=bot", ID(app)), owner.token,
                          "{\"authorize\": true, \"guild_id\": \"1234567890123\"}"));
    TA_ERR(&r, 404, 10004);
    ASSERT_EQ(404, ta_req(n.port, &r, "POST",
                          P(API "/oauth2/authorize?client_id=%llu&scope=bot", ID(guild)),
                          owner.token, "{\"authorize\": true, \"guild_id\": \"%llu\"}", ID(guild)));
    TA_ERR(&r, 404, 10002);
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/oauth2/authorize?scope=bot", owner.token,
                          "{\"authorize\": true, \"guild_id\": \"%llu\"}", ID(guild)));
    ASSERT(ta_form_error(&r, "client_id"));
    ASSERT_EQ(200,
              ta_req(n.port, &r, "POST",
                     P(API "/oauth2/authorize?client_id=%llu&scope=bot&permissions=8", ID(app)),
                     owner.token,
                     "{\"authorize\": true, \"guild_id\": \"%llu\", "
                     "\"permissions\": \"8\"}",
                     ID(guild)));
    ASSERT_NOT_NULL(js(r.json, "location"));

    /* The bot is a member: it sees the guild and can post. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/users/@me/guilds", bot.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));
    ASSERT_EQ(guild, jid(json_array_get(r.json, 0), "id"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/members/%llu", ID(guild), ID(app)),
                          owner.token, NULL));
    ASSERT_EQ(app, jid(json_object_get(r.json, "user"), "id"));
    ta_msg(n.port, &bot, channel, "beep");

    /* A new token replaces the old. */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/applications/%llu/bot/reset", ID(app)),
                          owner.token, NULL));
    ASSERT_NOT_NULL(js(r.json, "token"));
    ASSERT_EQ(401, ta_req(n.port, &r, "GET", API "/users/@me", bot.token, NULL));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

TEST_IMPL(api_guilds)
{
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t owner, member, outsider;
    uint64_t guild, channel;
    char path[160];

    ta_start(&n);
    ta_user(n.port, "gowner", &owner);
    ta_user(n.port, "gmember", &member);
    ta_user(n.port, "goutsider", &outsider);
    guild = ta_guild(n.port, &owner, "Guild One", &channel);
    ta_join(n.port, &owner, &member, channel);

    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu?with_counts=true", ID(guild)),
                          member.token, NULL));
    ASSERT_STR_EQ("Guild One", js(r.json, "name"));
    ASSERT_EQ(owner.id, jid(r.json, "owner_id"));
    ASSERT_EQ(2, ji(r.json, "approximate_member_count"));
    ASSERT_GE(json_array_size(json_object_get(r.json, "roles")), 1);
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu", ID(guild)), member.token, NULL));
    ASSERT_NULL(json_object_get(r.json, "approximate_member_count"));

    /* Reads need membership; unknown and malformed ids. */
    ASSERT_EQ(403,
              ta_req(n.port, &r, "GET", P(API "/guilds/%llu", ID(guild)), outsider.token, NULL));
    TA_ERR(&r, 403, 50001);
    ASSERT_EQ(404, ta_req(n.port, &r, "GET", API "/guilds/1234567890123", owner.token, NULL));
    TA_ERR(&r, 404, 10004);
    ASSERT_EQ(400, ta_req(n.port, &r, "GET", API "/guilds/abc", owner.token, NULL));
    TA_ERR(&r, 400, 50035);
    ASSERT(ta_form_error(&r, "guild_id"));

    /* Members: paged by user id; one; unknown. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/members?limit=10", ID(guild)),
                          member.token, NULL));
    ASSERT_EQ(2, json_array_size(r.json));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/members", ID(guild)), member.token,
                          NULL));
    ASSERT_EQ(1, json_array_size(r.json)); /* Discord's default limit is 1 */
    ASSERT_EQ(400, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/members?limit=1001", ID(guild)),
                          member.token, NULL));
    ASSERT(ta_form_error(&r, "limit"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/members/@me", ID(guild)),
                          member.token, NULL));
    ASSERT_EQ(member.id, jid(json_object_get(r.json, "user"), "id"));
    ASSERT_EQ(404, ta_req(n.port, &r, "GET",
                          P(API "/guilds/%llu/members/%llu", ID(guild), ID(outsider.id)),
                          member.token, NULL));
    TA_ERR(&r, 404, 10007);
    ASSERT_EQ(
        200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/roles", ID(guild)), member.token, NULL));
    ASSERT_EQ(guild, jid(json_array_get(r.json, 0), "id")); /* @everyone has the guild's id */

    /* Modify: the owner may, a member may not; bad fields are named. */
    ASSERT_EQ(200, ta_req(n.port, &r, "PATCH", P(API "/guilds/%llu", ID(guild)), owner.token,
                          "{\"name\": \"Guild Renamed\", \"description\": \"hi\"}"));
    ASSERT_STR_EQ("Guild Renamed", js(r.json, "name"));
    ASSERT_EQ(403, ta_req(n.port, &r, "PATCH", P(API "/guilds/%llu", ID(guild)), member.token,
                          "{\"name\": \"Mine\"}"));
    TA_ERR(&r, 403, 50013);
    ASSERT_EQ(400, ta_req(n.port, &r, "PATCH", P(API "/guilds/%llu", ID(guild)), owner.token,
                          "{\"name\": \"x\", \"afk_timeout\": \"soon\"}"));
    ASSERT(ta_form_error(&r, "name") && ta_form_error(&r, "afk_timeout"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/guilds", owner.token, "{\"name\": 5}"));
    ASSERT(ta_form_error(&r, "name"));

    /* The member leaves; the owner cannot. */
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE", P(API "/users/@me/guilds/%llu", ID(guild)),
                          member.token, NULL));
    ASSERT_EQ(0, r.len);
    ASSERT_EQ(403, ta_req(n.port, &r, "GET", P(API "/guilds/%llu", ID(guild)), member.token, NULL));
    ASSERT_EQ(400, ta_req(n.port, &r, "DELETE", P(API "/users/@me/guilds/%llu", ID(guild)),
                          owner.token, NULL));

    /* Delete: only the owner; then it is gone. */
    ASSERT_EQ(403,
              ta_req(n.port, &r, "DELETE", P(API "/guilds/%llu", ID(guild)), outsider.token, NULL));
    ASSERT_EQ(204,
              ta_req(n.port, &r, "DELETE", P(API "/guilds/%llu", ID(guild)), owner.token, NULL));
    ASSERT_EQ(404, ta_req(n.port, &r, "GET", P(API "/guilds/%llu", ID(guild)), owner.token, NULL));
    TA_ERR(&r, 404, 10004);
    ASSERT_EQ(404,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu", ID(channel)), owner.token, NULL));
    TA_ERR(&r, 404, 10003);
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/users/@me/guilds", owner.token, NULL));
    ASSERT_EQ(0, json_array_size(r.json));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

TEST_IMPL(api_channels)
{
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t owner, member, outsider;
    uint64_t guild, general, cat, voice, text;
    char path[160];

    ta_start(&n);
    ta_user(n.port, "cowner", &owner);
    ta_user(n.port, "cmember", &member);
    ta_user(n.port, "coutsider", &outsider);
    guild = ta_guild(n.port, &owner, "Channels", &general);
    ta_join(n.port, &owner, &member, general);

    ASSERT_EQ(201, ta_req(n.port, &r, "POST", P(API "/guilds/%llu/channels", ID(guild)),
                          owner.token, "{\"name\": \"Things\", \"type\": 4}"));
    cat = jid(r.json, "id");
    ASSERT_EQ(4, ji(r.json, "type"));
    ASSERT_EQ(201, ta_req(n.port, &r, "POST", P(API "/guilds/%llu/channels", ID(guild)),
                          owner.token, "{\"name\": \"talk\", \"type\": 2, \"bitrate\": 64000}"));
    voice = jid(r.json, "id");
    ASSERT_EQ(201,
              ta_req(n.port, &r, "POST", P(API "/guilds/%llu/channels", ID(guild)), owner.token,
                     "{\"name\": \"news\", \"topic\": \"what is new\", \"parent_id\": \"%llu\"}",
                     ID(cat)));
    text = jid(r.json, "id");
    ASSERT_EQ(0, ji(r.json, "type"));
    ASSERT_EQ(cat, jid(r.json, "parent_id"));
    ASSERT_EQ(guild, jid(r.json, "guild_id"));

    /* Bad bodies: a missing name, an unknown type, a wrong type of value. */
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/guilds/%llu/channels", ID(guild)),
                          owner.token, "{\"type\": 0}"));
    ASSERT(ta_form_error(&r, "name"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/guilds/%llu/channels", ID(guild)),
                          owner.token, "{\"name\": \"x\", \"type\": 7}"));
    ASSERT(ta_form_error(&r, "type"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/guilds/%llu/channels", ID(guild)),
                          owner.token, "{\"name\": \"x\", \"nsfw\": \"yes\"}"));
    ASSERT(ta_form_error(&r, "nsfw"));
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/guilds/%llu/channels", ID(guild)),
                          member.token, "{\"name\": \"mine\"}"));
    TA_ERR(&r, 403, 50013);

    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/channels", ID(guild)),
                          member.token, NULL));
    ASSERT_EQ(4, json_array_size(r.json));
    ASSERT_EQ(200,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu", ID(voice)), member.token, NULL));
    ASSERT_EQ(2, ji(r.json, "type"));
    ASSERT_EQ(403,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu", ID(text)), outsider.token, NULL));
    TA_ERR(&r, 403, 50001);
    ASSERT_EQ(404, ta_req(n.port, &r, "GET", API "/channels/1234567890123", owner.token, NULL));
    TA_ERR(&r, 404, 10003);

    ASSERT_EQ(200, ta_req(n.port, &r, "PATCH", P(API "/channels/%llu", ID(text)), owner.token,
                          "{\"name\": \"olds\", \"topic\": null}"));
    ASSERT_STR_EQ("olds", js(r.json, "name"));
    ASSERT(json_is_null(json_object_get(r.json, "topic")));
    ASSERT_EQ(400, ta_req(n.port, &r, "PATCH", P(API "/channels/%llu", ID(text)), owner.token,
                          "{\"topic\": \"%01025d\"}", 0));
    ASSERT(ta_form_error(&r, "topic"));

    ASSERT_EQ(200,
              ta_req(n.port, &r, "DELETE", P(API "/channels/%llu", ID(text)), owner.token, NULL));
    ASSERT_EQ(text, jid(r.json, "id"));
    ASSERT_EQ(404, ta_req(n.port, &r, "GET", P(API "/channels/%llu", ID(text)), owner.token, NULL));
    TA_ERR(&r, 404, 10003);

    /* Typing: 204 for a member, 403 for others. */
    ASSERT_EQ(204, ta_req(n.port, &r, "POST", P(API "/channels/%llu/typing", ID(general)),
                          member.token, NULL));
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/channels/%llu/typing", ID(general)),
                          outsider.token, NULL));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

TEST_IMPL(api_errors)
{
    static const char big_name[] = "{\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t u;
    uint64_t channel;
    char path[160];

    ta_start(&n);
    ta_user(n.port, "erruser", &u);
    ta_guild(n.port, &u, "errors", &channel);

    /* 401: no token, an unknown one, a malformed one. */
    ASSERT_EQ(401, ta_req(n.port, &r, "GET", API "/users/@me", NULL, NULL));
    TA_ERR(&r, 401, 0);
    ASSERT_STR_EQ("401: Unauthorized", js(r.json, "message"));
    ASSERT_EQ(401, ta_req(n.port, &r, "GET", API "/users/@me", "nope.nope.nope", NULL));
    ASSERT_EQ(401, ta_req(n.port, &r, "GET", API "/users/@me", "Bot ", NULL));
    /* 401 comes before the body is looked at. */
    ASSERT_EQ(401, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)), NULL,
                          "{not json"));

    /* Unknown routes: 404 with code 0; a known path with the wrong method: 405. */
    ASSERT_EQ(404, ta_req(n.port, &r, "GET", API "/nothing/here", u.token, NULL));
    TA_ERR(&r, 404, 0);
    ASSERT_EQ(405, ta_req(n.port, &r, "PUT", API "/users/@me", u.token, "{}"));

    /* Bodies: malformed JSON, trailing garbage, not an object, NUL escapes. */
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/guilds", u.token, "{\"name\": "));
    TA_ERR(&r, 400, 50109);
    ASSERT_STR_EQ("The request body contains invalid JSON.", js(r.json, "message"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/guilds", u.token, "{\"name\": \"ab\"} x"));
    TA_ERR(&r, 400, 50109);
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/guilds", u.token, "[\"name\"]"));
    TA_ERR(&r, 400, 50035);
    ASSERT_NOT_NULL(json_object_get(json_object_get(r.json, "errors"), "_errors"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/guilds", u.token, "\"guild\""));
    TA_ERR(&r, 400, 50035);
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/guilds", u.token, "{\"name\": \"a\\u0000b\"}"));
    TA_ERR(&r, 400, 50109);
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/guilds", u.token, big_name));
    ASSERT(ta_form_error(&r, "name"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/guilds", u.token,
                          "{\"name\": \"\\ud800\"}")); /* a lone surrogate is not UTF-8 */
    TA_ERR(&r, 400, 50109);

    /* Nesting a parser would recurse into: refused, and the server goes on. */
    {
        size_t depth = 100000, i;
        char *deep = malloc(2 * depth + 64);
        int len;

        ASSERT_NOT_NULL(deep);
        len = sprintf(deep, "{\"content\": \"x\", \"embeds\": ");
        for (i = 0; i < depth; i++)
            deep[len++] = '[';
        for (i = 0; i < depth; i++)
            deep[len++] = ']';
        deep[len++] = '}';
        ASSERT_EQ(400, ta_raw(n.port, "POST", P(API "/channels/%llu/messages", ID(channel)),
                              u.token, NULL, deep, (size_t)len, &r));
        TA_ERR(&r, 400, 50109);
        free(deep);
        ta_msg(n.port, &u, channel, "still here");
    }

    /* Ids: malformed snowflakes are 50035 naming the parameter; 0 is not one. */
    ASSERT_EQ(400, ta_req(n.port, &r, "GET", API "/channels/12abc/messages", u.token, NULL));
    ASSERT(ta_form_error(&r, "channel_id"));
    ASSERT_EQ(400, ta_req(n.port, &r, "GET", API "/channels/0", u.token, NULL));
    ASSERT(ta_form_error(&r, "channel_id"));
    ASSERT_EQ(400,
              ta_req(n.port, &r, "GET", API "/channels/99999999999999999999999", u.token, NULL));
    ASSERT(ta_form_error(&r, "channel_id"));
    ASSERT_EQ(400, ta_req(n.port, &r, "GET",
                          P(API "/channels/%llu/messages/%%F0%%9F%%91%%8D", ID(channel)), u.token,
                          NULL));
    ASSERT(ta_form_error(&r, "message_id"));

    /* Query parameters are checked the same way. */
    ASSERT_EQ(400, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages?limit=0", ID(channel)),
                          u.token, NULL));
    ASSERT(ta_form_error(&r, "limit"));
    ASSERT_EQ(400, ta_req(n.port, &r, "GET",
                          P(API "/channels/%llu/messages?limit=101", ID(channel)), u.token, NULL));
    ASSERT(ta_form_error(&r, "limit"));
    ASSERT_EQ(400, ta_req(n.port, &r, "GET",
                          P(API "/channels/%llu/messages?limit=ten", ID(channel)), u.token, NULL));
    ASSERT(ta_form_error(&r, "limit"));
    ASSERT_EQ(400, ta_req(n.port, &r, "GET",
                          P(API "/channels/%llu/messages?before=yesterday", ID(channel)), u.token,
                          NULL));
    ASSERT(ta_form_error(&r, "before"));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}
