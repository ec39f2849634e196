/* Permissions and moderation over real sockets: requests made as the REST API makes
 * them (hub_request from the test thread), events read by real gateway sessions
 * (test-gateway.h). One test per rule of issue 4 that the hubs enforce: channel
 * overwrites hide a channel (no reads, no sends, no events), bans keep a user out,
 * timeouts silence a member until they end, the hierarchy protects those above,
 * auto-moderation blocks and times out, and the audit log records it all with the
 * reasons given. */
#include "test-gateway.h"

#include "perm/perm.h"
#include "store/moderation.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------------------------- */

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *perm_str(uint64_t perms)
{
    char buf[PERM_STR_SIZE];

    return json_string(perm_format(perms, buf));
}

/* A role with perms (and a name); its id. */
static uint64_t role_make(uint64_t guild, uint64_t actor, const char *name, uint64_t perms)
{
    json_t *body =
        gwt_req(HUB_GUILD, guild, HUB_OP_ROLE_CREATE, actor,
                json_pack("{s:s, s:o}", "name", name, "permissions", perm_str(perms)), 200);
    uint64_t id = jid(body, "id");

    json_decref(body);
    return id;
}

static void role_give(uint64_t guild, uint64_t actor, uint64_t user, uint64_t role)
{
    json_decref(gwt_req(
        HUB_GUILD, guild, HUB_OP_MEMBER_ROLE_ADD, actor,
        json_pack("{s:I, s:I}", "user_id", (json_int_t)user, "role_id", (json_int_t)role), 204));
}

/* user joins guild (as an invite accepted without its code would). */
static void join(uint64_t guild, uint64_t user)
{
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_ADD, user,
                        json_pack("{s:I}", "user_id", (json_int_t)user), 201));
}

static void send_status(uint64_t channel, uint64_t actor, const char *content, int status, int code)
{
    hub_result_t r;

    gwt_req_full(HUB_CHANNEL, channel, HUB_OP_MESSAGE_CREATE, actor,
                 json_pack("{s:s}", "content", content), &r);
    if (r.status != status)
        fprintf(stderr, "send %s: %d %d %s\n", content, r.status, r.code, r.message);
    ASSERT_EQ(status, r.status);
    ASSERT_EQ(code, r.code);
    hub_result_clear(&r);
}

static uint64_t send_ok(uint64_t channel, uint64_t actor, const char *content)
{
    json_t *body = gwt_req(HUB_CHANNEL, channel, HUB_OP_MESSAGE_CREATE, actor,
                           json_pack("{s:s}", "content", content), 200);
    uint64_t id = jid(body, "id");

    json_decref(body);
    return id;
}

/* The result code of op by actor with args (taken), asserting the status. */
static int req_code(hub_scope_t scope, uint64_t id, hub_op_t op, uint64_t actor, json_t *args,
                    int status)
{
    hub_result_t r;
    int code;

    gwt_req_full(scope, id, op, actor, args, &r);
    if (r.status != status)
        fprintf(stderr, "op %d: %d %d %s\n", (int)op, r.status, r.code, r.message);
    ASSERT_EQ(status, r.status);
    code = r.code;
    hub_result_clear(&r);
    return code;
}

/* A user's session, identified, with its guilds' GUILD_CREATE read. */
static void session(gwc_t *c, gwt_env_t *e, const char *token, int nguilds)
{
    json_t *ready;
    int i;

    gwc_connect(c, e->port, "/?v=10&encoding=json");
    ready = gwc_identify(c, token, -1);
    ASSERT_NOT_NULL(ready);
    json_decref(ready);
    for (i = 0; i < nguilds; i++)
        json_decref(gwc_wait(c, "GUILD_CREATE", 5000));
}

/* The next MESSAGE_CREATE's content must be want: so no message of another channel
 * came before it (a hub sends a session its events in order). */
static void next_message_is(gwc_t *c, const char *want)
{
    json_t *v = gwc_wait(c, "MESSAGE_CREATE", 5000);

    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ(want, gwj_s(v, "d.content"));
    json_decref(v);
}

/* The newest audit log entry of the guild, of action type (the store's). */
static json_t *audit_last(gwt_env_t *e, uint64_t guild, int type)
{
    store_audit_query_t q = {0};
    json_t *log, *entry;

    q.action_type = type;
    q.limit = 1;
    ASSERT_OK(store_audit_list(e->db, guild, &q, &log));
    entry = json_incref(json_array_get(json_object_get(log, "audit_log_entries"), 0));
    json_decref(log);
    ASSERT_NOT_NULL(entry);
    return entry;
}

/* ---- overwrites ------------------------------------------------------------------------------ */

/* A member denied VIEW_CHANNEL by an overwrite cannot read or send there and gets none
 * of its events; SEND_MESSAGES and READ_MESSAGE_HISTORY overwrites deny just those;
 * removing the overwrite lets it back in. */
TEST_IMPL(moderation_overwrite_hides_channel)
{
    char t_owner[STORE_TOKEN_SIZE], t_member[STORE_TOKEN_SIZE];
    uint64_t owner, member, guild, general, secret, quiet, mid;
    gwt_env_t e;
    gwc_t co, cm;
    json_t *v, *body;
    bool listed = false;
    size_t i;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", t_owner);
    member = gwt_user(&e, "member", t_member);
    guild = ts_guild(e.db, owner, "Overwrites", &general);
    join(guild, member);

    /* "secret": @everyone denied VIEW_CHANNEL on create; "quiet": member may read only. */
    body = gwt_req(HUB_GUILD, guild, HUB_OP_CHANNEL_CREATE, owner,
                   json_pack("{s:s, s:[{s:I, s:i, s:s, s:o}]}", "name", "secret",
                             "permission_overwrites", "id", (json_int_t)guild, "type", 0, "allow",
                             "0", "deny", perm_str(PERM_VIEW_CHANNEL)),
                   201);
    secret = jid(body, "id");
    ASSERT_STR_EQ("1024", gwj_s(body, "permission_overwrites.0.deny"));
    json_decref(body);
    body = gwt_req(HUB_GUILD, guild, HUB_OP_CHANNEL_CREATE, owner,
                   json_pack("{s:s}", "name", "quiet"), 201);
    quiet = jid(body, "id");
    json_decref(body);
    json_decref(gwt_req(HUB_CHANNEL, quiet, HUB_OP_OVERWRITE_PUT, owner,
                        json_pack("{s:I, s:i, s:s, s:o, s:s}", "overwrite_id", (json_int_t)member,
                                  "type", 1, "allow", "0", "deny",
                                  perm_str(PERM_SEND_MESSAGES | PERM_READ_MESSAGE_HISTORY),
                                  "reason", "read-only for you"),
                        204));

    session(&co, &e, t_owner, 1);
    gwc_connect(&cm, e.port, "/?v=10&encoding=json");
    json_decref(gwc_identify(&cm, t_member, -1));
    v = gwc_wait(&cm, "GUILD_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    /* As on Discord, the snapshot lists every channel with its overwrites. */
    json_array_foreach(gwj(v, "d.channels"), i, body) listed |= jid(body, "id") == secret;
    ASSERT(listed);
    json_decref(v);

    /* No reads, no writes, no history. */
    ASSERT_EQ(50001,
              req_code(HUB_CHANNEL, secret, HUB_OP_CHECK_ACCESS, member, json_object(), 403));
    ASSERT_EQ(50001, req_code(HUB_CHANNEL, secret, HUB_OP_CHECK_ACCESS, member,
                              json_pack("{s:b}", "history", 1), 403));
    send_status(secret, member, "let me in", 403, 50001);
    ASSERT_EQ(50001, req_code(HUB_CHANNEL, secret, HUB_OP_TYPING, member, json_object(), 403));
    /* The owner reads and writes; the member sees none of it, only the next message in
     * general, which it can see. */
    json_decref(gwt_req(HUB_CHANNEL, secret, HUB_OP_CHECK_ACCESS, owner,
                        json_pack("{s:b}", "history", 1), 204));
    mid = send_ok(secret, owner, "for owners' eyes");
    json_decref(gwt_req(HUB_CHANNEL, secret, HUB_OP_REACTION_ADD, owner,
                        json_pack("{s:I, s:s}", "message_id", (json_int_t)mid, "emoji", "👍"), 204));
    json_decref(gwt_req(HUB_CHANNEL, secret, HUB_OP_TYPING, owner, json_object(), 204));
    send_ok(general, owner, "for everyone");
    /* Nothing of the secret channel before it: no message, reaction or typing. */
    while ((v = gwc_recv(&cm, 5000)) != NULL &&
           (gwj_s(v, "t") == NULL || strcmp(gwj_s(v, "t"), "MESSAGE_CREATE") != 0)) {
        ASSERT(jid(gwj(v, "d"), "channel_id") != secret);
        json_decref(v);
    }
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ("for everyone", gwj_s(v, "d.content"));
    json_decref(v);
    next_message_is(&co, "for owners' eyes");
    next_message_is(&co, "for everyone");

    /* quiet: visible, but no sending and no history; the permissions say so. */
    json_decref(gwt_req(HUB_CHANNEL, quiet, HUB_OP_CHECK_ACCESS, member, json_object(), 204));
    ASSERT_EQ(50013, req_code(HUB_CHANNEL, quiet, HUB_OP_CHECK_ACCESS, member,
                              json_pack("{s:b}", "history", 1), 403));
    send_status(quiet, member, "hello?", 403, 50013);
    body = gwt_req(HUB_CHANNEL, quiet, HUB_OP_CHECK_ACCESS, member,
                   json_pack("{s:b}", "permissions", 1), 200);
    ASSERT_NOT_NULL(js(body, "permissions"));
    {
        uint64_t p = 0;
        ASSERT_OK(perm_parse(js(body, "permissions"), &p));
        ASSERT(p & PERM_VIEW_CHANNEL);
        ASSERT(!(p & PERM_SEND_MESSAGES));
        ASSERT(!(p & PERM_READ_MESSAGE_HISTORY));
    }
    json_decref(body);
    send_ok(quiet, owner, "announcement");
    next_message_is(&cm, "announcement"); /* it still sees quiet's messages */

    /* Only MANAGE_ROLES holders set overwrites. */
    ASSERT_EQ(50013, req_code(HUB_CHANNEL, general, HUB_OP_OVERWRITE_PUT, member,
                              json_pack("{s:I, s:i, s:s}", "overwrite_id", (json_int_t)member,
                                        "type", 1, "allow", "8"),
                              403));
    /* Lifting secret's overwrite: CHANNEL_UPDATE, and the member is let in. */
    json_decref(gwt_req(HUB_CHANNEL, secret, HUB_OP_OVERWRITE_DELETE, owner,
                        json_pack("{s:I}", "overwrite_id", (json_int_t)guild), 204));
    v = gwc_wait(&cm, "CHANNEL_UPDATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(0, json_array_size(gwj(v, "d.permission_overwrites")));
    json_decref(v);
    send_ok(secret, member, "finally");
    next_message_is(&cm, "finally");

    /* The overwrites' audit entries, with the reason given. */
    v = audit_last(&e, guild, STORE_AUDIT_CHANNEL_OVERWRITE_CREATE);
    ASSERT_STR_EQ("read-only for you", js(v, "reason"));
    ASSERT_EQ(quiet, jid(v, "target_id"));
    ASSERT_STR_EQ("1", gwj_s(v, "options.type"));
    json_decref(v);
    v = audit_last(&e, guild, STORE_AUDIT_CHANNEL_OVERWRITE_DELETE);
    ASSERT_EQ(secret, jid(v, "target_id"));
    json_decref(v);

    gwc_close(&co, 1000);
    gwc_close(&cm, 1000);
    gwt_stop(&e);
    return 0;
}

/* ---- bans ------------------------------------------------------------------------------------ */

/* A ban ends the membership, deletes the recent messages and keeps the user out: its
 * invite accept (MEMBER_ADD with the code) fails until the ban is lifted. */
TEST_IMPL(moderation_ban_blocks_rejoin)
{
    char t_owner[STORE_TOKEN_SIZE], t_bad[STORE_TOKEN_SIZE], code[16], idbuf[21];
    uint64_t owner, bad, guild, general, mid;
    store_page_t pg = {0};
    hub_result_t r;
    gwt_env_t e;
    gwc_t co, cb;
    json_t *v, *body;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", t_owner);
    bad = gwt_user(&e, "bad", t_bad);
    guild = ts_guild(e.db, owner, "Bans", &general);
    join(guild, bad);
    session(&co, &e, t_owner, 1);
    session(&cb, &e, t_bad, 1);
    mid = send_ok(general, bad, "spam spam spam");
    next_message_is(&co, "spam spam spam");
    body = gwt_req(HUB_GUILD, guild, HUB_OP_INVITE_CREATE, owner,
                   json_pack("{s:I}", "channel_id", (json_int_t)general), 200);
    snprintf(code, sizeof(code), "%s", js(body, "code"));
    json_decref(body);

    /* Only BAN_MEMBERS holders ban; nobody bans the owner or themselves. */
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_BAN_ADD, bad,
                              json_pack("{s:I}", "user_id", (json_int_t)owner), 403));
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_BAN_ADD, owner,
                              json_pack("{s:I}", "user_id", (json_int_t)owner), 403));
    ASSERT_EQ(50035, req_code(HUB_GUILD, guild, HUB_OP_BAN_ADD, owner,
                              json_pack("{s:I, s:i}", "user_id", (json_int_t)bad,
                                        "delete_message_seconds", 604801),
                              400));

    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_BAN_ADD, owner,
                        json_pack("{s:I, s:i, s:s}", "user_id", (json_int_t)bad,
                                  "delete_message_seconds", 3600, "reason", "spamming"),
                        204));
    /* The banned user's session loses the guild; the others hear all of it. */
    v = gwc_wait(&cb, "GUILD_DELETE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(guild, jid(gwj(v, "d"), "id"));
    json_decref(v);
    v = gwc_wait(&co, "GUILD_MEMBER_REMOVE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(bad, jid(gwj(v, "d.user"), "id"));
    json_decref(v);
    v = gwc_wait(&co, "MESSAGE_DELETE_BULK", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_STR_EQ(snowflake_str(mid, idbuf), gwj_s(v, "d.ids.0"));
    ASSERT_EQ(1, json_array_size(gwj(v, "d.ids")));
    ASSERT_EQ(general, jid(gwj(v, "d"), "channel_id"));
    json_decref(v);
    v = gwc_wait(&co, "GUILD_BAN_ADD", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(bad, jid(gwj(v, "d.user"), "id"));
    json_decref(v);
    v = gwc_wait(&co, "GUILD_AUDIT_LOG_ENTRY_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(22, gwj_i(v, "d.action_type"));
    ASSERT_STR_EQ("spamming", gwj_s(v, "d.reason"));
    ASSERT_EQ(guild, jid(gwj(v, "d"), "guild_id"));
    json_decref(v);
    ASSERT_EQ(STORE_ENOTFOUND, store_message_get(e.db, general, mid, 0, NULL));

    /* The invite no longer works for them; nor does a plain join. */
    gwt_req_full(HUB_GUILD, guild, HUB_OP_MEMBER_ADD, bad,
                 json_pack("{s:I, s:s}", "user_id", (json_int_t)bad, "code", code), &r);
    ASSERT_EQ(403, r.status);
    ASSERT_EQ(40007, r.code);
    ASSERT_STR_EQ("The user is banned from this guild.", r.message);
    hub_result_clear(&r);
    ASSERT_EQ(40007, req_code(HUB_GUILD, guild, HUB_OP_MEMBER_ADD, bad,
                              json_pack("{s:I}", "user_id", (json_int_t)bad), 403));
    ASSERT_EQ(50001, req_code(HUB_CHANNEL, general, HUB_OP_CHECK_ACCESS, bad, json_object(), 403));

    /* Bans, as REST lists them; banning again is fine (204, nothing new). */
    ASSERT_OK(store_ban_list(e.db, guild, &pg, &body));
    ASSERT_EQ(1, json_array_size(body));
    ASSERT_STR_EQ("spamming", js(json_array_get(body, 0), "reason"));
    json_decref(body);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_BAN_ADD, owner,
                        json_pack("{s:I}", "user_id", (json_int_t)bad), 204));
    /* REST's read check for the ban list: BAN_MEMBERS. */
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_CHECK_ACCESS, owner,
                        json_pack("{s:o}", "need", perm_str(PERM_BAN_MEMBERS)), 204));

    /* Unbanned, the invite works again. */
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_BAN_REMOVE, owner,
                        json_pack("{s:I, s:s}", "user_id", (json_int_t)bad, "reason", "forgiven"),
                        204));
    v = gwc_wait(&co, "GUILD_BAN_REMOVE", 5000);
    ASSERT_NOT_NULL(v);
    json_decref(v);
    ASSERT_EQ(10026, req_code(HUB_GUILD, guild, HUB_OP_BAN_REMOVE, owner,
                              json_pack("{s:I}", "user_id", (json_int_t)bad), 404));
    body = gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_ADD, bad,
                   json_pack("{s:I, s:s}", "user_id", (json_int_t)bad, "code", code), 200);
    json_decref(body);
    v = audit_last(&e, guild, STORE_AUDIT_MEMBER_BAN_REMOVE);
    ASSERT_STR_EQ("forgiven", js(v, "reason"));
    ASSERT_EQ(owner, jid(v, "user_id"));
    ASSERT_EQ(bad, jid(v, "target_id"));
    json_decref(v);
    gwc_close(&co, 1000);
    gwc_close(&cb, 1000);
    gwt_stop(&e);
    return 0;
}

/* ---- timeouts -------------------------------------------------------------------------------- */

/* A timed-out member cannot send, react or type until its timeout ends. */
TEST_IMPL(moderation_timeout_expires)
{
    char t_owner[STORE_TOKEN_SIZE], t_mod[STORE_TOKEN_SIZE], t_member[STORE_TOKEN_SIZE];
    char until[STORE_TIMESTAMP_SIZE];
    uint64_t owner, mod, member, guild, general, mid, admin_role, admin, mod_role;
    char t_admin[STORE_TOKEN_SIZE];
    gwt_env_t e;
    gwc_t co;
    json_t *v, *changes;
    int64_t end;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", t_owner);
    mod = gwt_user(&e, "mod", t_mod);
    member = gwt_user(&e, "member", t_member);
    admin = gwt_user(&e, "admin", t_admin);
    guild = ts_guild(e.db, owner, "Timeouts", &general);
    join(guild, mod);
    join(guild, member);
    join(guild, admin);
    admin_role = role_make(guild, owner, "admin", PERM_ADMINISTRATOR);
    mod_role = role_make(guild, owner, "mod", PERM_MODERATE_MEMBERS);
    role_give(guild, owner, admin, admin_role);
    role_give(guild, owner, mod, mod_role);
    session(&co, &e, t_owner, 1);
    mid = send_ok(general, owner, "react to me");

    /* Without MODERATE_MEMBERS: no timeouts. Too long, or on an administrator: no. */
    store_timestamp(wall_ms() + 60000, until);
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_MEMBER_MODIFY, member,
                              json_pack("{s:I, s:s}", "user_id", (json_int_t)mod,
                                        "communication_disabled_until", until),
                              403));
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_MEMBER_MODIFY, mod,
                              json_pack("{s:I, s:s}", "user_id", (json_int_t)admin,
                                        "communication_disabled_until", until),
                              403));
    store_timestamp(wall_ms() + 29LL * 86400 * 1000, until);
    ASSERT_EQ(50035, req_code(HUB_GUILD, guild, HUB_OP_MEMBER_MODIFY, mod,
                              json_pack("{s:I, s:s}", "user_id", (json_int_t)member,
                                        "communication_disabled_until", until),
                              400));

    /* The moderator times the member out for 1.5 s. */
    end = wall_ms() + 1500;
    store_timestamp(end, until);
    v = gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_MODIFY, mod,
                json_pack("{s:I, s:s, s:s}", "user_id", (json_int_t)member,
                          "communication_disabled_until", until, "reason", "cool down"),
                200);
    ASSERT_NOT_NULL(js(v, "communication_disabled_until"));
    json_decref(v);
    v = gwc_wait(&co, "GUILD_MEMBER_UPDATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(member, jid(gwj(v, "d.user"), "id"));
    ASSERT_NOT_NULL(gwj_s(v, "d.communication_disabled_until"));
    json_decref(v);

    send_status(general, member, "can I talk?", 403, 50013);
    ASSERT_EQ(50013,
              req_code(HUB_CHANNEL, general, HUB_OP_REACTION_ADD, member,
                       json_pack("{s:I, s:s}", "message_id", (json_int_t)mid, "emoji", "👍"), 403));
    ASSERT_EQ(50013, req_code(HUB_CHANNEL, general, HUB_OP_TYPING, member, json_object(), 403));
    /* It still reads. */
    json_decref(gwt_req(HUB_CHANNEL, general, HUB_OP_CHECK_ACCESS, member,
                        json_pack("{s:b}", "history", 1), 204));

    /* Once it ends, everything works again. */
    while (wall_ms() < end + 50)
        usleep(20000);
    send_ok(general, member, "I am back");
    json_decref(gwt_req(HUB_CHANNEL, general, HUB_OP_REACTION_ADD, member,
                        json_pack("{s:I, s:s}", "message_id", (json_int_t)mid, "emoji", "👍"), 204));

    /* Audited with its reason. */
    v = audit_last(&e, guild, STORE_AUDIT_MEMBER_UPDATE);
    ASSERT_STR_EQ("cool down", js(v, "reason"));
    ASSERT_EQ(mod, jid(v, "user_id"));
    ASSERT_EQ(member, jid(v, "target_id"));
    changes = json_object_get(v, "changes");
    ASSERT_STR_EQ("communication_disabled_until", js(json_array_get(changes, 0), "key"));
    json_decref(v);

    /* Lifting a timeout early: null. */
    store_timestamp(wall_ms() + 60000, until);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_MODIFY, mod,
                        json_pack("{s:I, s:s}", "user_id", (json_int_t)member,
                                  "communication_disabled_until", until),
                        200));
    send_status(general, member, "again?", 403, 50013);
    json_decref(gwt_req(
        HUB_GUILD, guild, HUB_OP_MEMBER_MODIFY, mod,
        json_pack("{s:I, s:n}", "user_id", (json_int_t)member, "communication_disabled_until"),
        200));
    send_ok(general, member, "free");
    gwc_close(&co, 1000);
    gwt_stop(&e);
    return 0;
}

/* ---- the hierarchy --------------------------------------------------------------------------- */

/* A moderator cannot kick (or otherwise manage) an admin above it, nor manage roles
 * at or above its own; the owner is above all. Role ops send their events. */
TEST_IMPL(moderation_hierarchy)
{
    char t_owner[STORE_TOKEN_SIZE], t_admin[STORE_TOKEN_SIZE], t_mod[STORE_TOKEN_SIZE];
    char t_member[STORE_TOKEN_SIZE];
    uint64_t owner, admin, mod, member, guild, general, admin_role, mod_role, low_role;
    gwt_env_t e;
    gwc_t co;
    json_t *v, *body;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", t_owner);
    admin = gwt_user(&e, "admin", t_admin);
    mod = gwt_user(&e, "mod", t_mod);
    member = gwt_user(&e, "member", t_member);
    guild = ts_guild(e.db, owner, "Hierarchy", &general);
    join(guild, admin);
    join(guild, mod);
    join(guild, member);
    session(&co, &e, t_owner, 1);

    /* Roles, created bottom up: each new one goes to position 1, so the first made ends
     * highest: admin > mod > low. */
    admin_role = role_make(guild, owner, "admin", PERM_ADMINISTRATOR);
    v = gwc_wait(&co, "GUILD_ROLE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(admin_role, jid(gwj(v, "d.role"), "id"));
    ASSERT_EQ(guild, jid(gwj(v, "d"), "guild_id"));
    json_decref(v);
    mod_role =
        role_make(guild, owner, "mod", PERM_KICK_MEMBERS | PERM_MANAGE_ROLES | PERM_BAN_MEMBERS);
    v = gwc_wait(&co, "GUILD_ROLE_UPDATE", 5000); /* admin moved up to make room */
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(admin_role, jid(gwj(v, "d.role"), "id"));
    ASSERT_EQ(2, gwj_i(v, "d.role.position"));
    json_decref(v);
    low_role = role_make(guild, owner, "low", 0);
    role_give(guild, owner, admin, admin_role);
    role_give(guild, owner, mod, mod_role);
    v = gwc_wait(&co, "GUILD_MEMBER_UPDATE", 5000);
    ASSERT_NOT_NULL(v);
    json_decref(v);

    /* The moderator cannot kick or ban the admin above it, nor the owner. */
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_MEMBER_REMOVE, mod,
                              json_pack("{s:I}", "user_id", (json_int_t)admin), 403));
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_BAN_ADD, mod,
                              json_pack("{s:I}", "user_id", (json_int_t)admin), 403));
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_MEMBER_REMOVE, mod,
                              json_pack("{s:I}", "user_id", (json_int_t)owner), 403));
    /* A plain member cannot kick at all. */
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_MEMBER_REMOVE, member,
                              json_pack("{s:I}", "user_id", (json_int_t)mod), 403));
    /* Roles: the moderator manages low but not its own or admin, and grants no bit it
     * lacks. */
    role_give(guild, mod, member, low_role);
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_MEMBER_ROLE_ADD, mod,
                              json_pack("{s:I, s:I}", "user_id", (json_int_t)member, "role_id",
                                        (json_int_t)mod_role),
                              403));
    ASSERT_EQ(50013,
              req_code(HUB_GUILD, guild, HUB_OP_ROLE_MODIFY, mod,
                       json_pack("{s:I, s:s}", "role_id", (json_int_t)admin_role, "name", "mine"),
                       403));
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_ROLE_MODIFY, mod,
                              json_pack("{s:I, s:o}", "role_id", (json_int_t)low_role,
                                        "permissions", perm_str(PERM_ADMINISTRATOR)),
                              403));
    ASSERT_EQ(50013,
              req_code(HUB_GUILD, guild, HUB_OP_ROLE_MODIFY, mod,
                       json_pack("{s:I, s:i}", "role_id", (json_int_t)low_role, "position", 3),
                       403));
    body = gwt_req(HUB_GUILD, guild, HUB_OP_ROLE_MODIFY, mod,
                   json_pack("{s:I, s:s, s:o}", "role_id", (json_int_t)low_role, "name", "helper",
                             "permissions", perm_str(PERM_KICK_MEMBERS)),
                   200);
    ASSERT_STR_EQ("helper", js(body, "name"));
    json_decref(body);
    ASSERT_EQ(50028, req_code(HUB_GUILD, guild, HUB_OP_ROLE_DELETE, owner,
                              json_pack("{s:I}", "role_id", (json_int_t)guild), 400));
    ASSERT_EQ(10011, req_code(HUB_GUILD, guild, HUB_OP_ROLE_DELETE, owner,
                              json_pack("{s:s}", "role_id", "12345"), 404));

    /* The admin (above) kicks the moderator; the moderator kicks the member (below). */
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_REMOVE, mod,
                        json_pack("{s:I, s:s}", "user_id", (json_int_t)member, "reason", "rude"),
                        204));
    v = audit_last(&e, guild, STORE_AUDIT_MEMBER_KICK);
    ASSERT_EQ(mod, jid(v, "user_id"));
    ASSERT_EQ(member, jid(v, "target_id"));
    ASSERT_STR_EQ("rude", js(v, "reason"));
    json_decref(v);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_MEMBER_REMOVE, admin,
                        json_pack("{s:I}", "user_id", (json_int_t)mod), 204));

    /* Role positions and deletion. */
    body = gwt_req(
        HUB_GUILD, guild, HUB_OP_ROLE_POSITIONS, owner,
        json_pack("{s:[{s:I, s:i}]}", "positions", "id", (json_int_t)low_role, "position", 3), 200);
    ASSERT_EQ(4, json_array_size(body));
    json_decref(body);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_ROLE_DELETE, owner,
                        json_pack("{s:I}", "role_id", (json_int_t)low_role), 204));
    v = gwc_wait(&co, "GUILD_ROLE_DELETE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(low_role, jid(gwj(v, "d"), "role_id"));
    json_decref(v);
    v = audit_last(&e, guild, STORE_AUDIT_ROLE_DELETE);
    ASSERT_EQ(low_role, jid(v, "target_id"));
    json_decref(v);
    v = audit_last(&e, guild, STORE_AUDIT_MEMBER_ROLE_UPDATE);
    ASSERT_STR_EQ("$add", gwj_s(v, "changes.0.key"));
    json_decref(v);
    gwc_close(&co, 1000);
    gwt_stop(&e);
    return 0;
}

/* ---- auto-moderation ------------------------------------------------------------------------- */

/* A keyword rule blocks a banned word (400/200000, not stored, an alert posted); a spam
 * rule times a repeat spammer out; the owner (MANAGE_GUILD) is exempt; the rule ops
 * and the executions reach the sessions that may manage the guild. */
TEST_IMPL(moderation_automod)
{
    char t_owner[STORE_TOKEN_SIZE], t_member[STORE_TOKEN_SIZE];
    uint64_t owner, member, guild, general, alerts, rule_kw, rule_spam;
    store_page_t pg = {0};
    hub_result_t r;
    gwt_env_t e;
    gwc_t co;
    json_t *v, *body, *list;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", t_owner);
    member = gwt_user(&e, "member", t_member);
    guild = ts_guild(e.db, owner, "AutoMod", &general);
    join(guild, member);
    body = gwt_req(HUB_GUILD, guild, HUB_OP_CHANNEL_CREATE, owner,
                   json_pack("{s:s}", "name", "mod-alerts"), 201);
    alerts = jid(body, "id");
    json_decref(body);
    session(&co, &e, t_owner, 1);

    /* Only MANAGE_GUILD holders manage rules. */
    ASSERT_EQ(50013, req_code(HUB_GUILD, guild, HUB_OP_AUTOMOD_LIST, member, json_object(), 403));
    body = gwt_req(HUB_GUILD, guild, HUB_OP_AUTOMOD_CREATE, owner,
                   json_pack("{s:s, s:i, s:i, s:b, s:{s:[s]}, s:[{s:i}, {s:i, s:{s:I}}], s:s}",
                             "name", "Banned words", "event_type", 1, "trigger_type", 1, "enabled",
                             1, "trigger_metadata", "keyword_filter", "darn", "actions", "type", 1,
                             "type", 2, "metadata", "channel_id", (json_int_t)alerts, "reason",
                             "keep it clean"),
                   200);
    rule_kw = jid(body, "id");
    ASSERT_EQ(owner, jid(body, "creator_id"));
    json_decref(body);
    v = gwc_wait(&co, "AUTO_MODERATION_RULE_CREATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(rule_kw, jid(gwj(v, "d"), "id"));
    json_decref(v);
    body = gwt_req(HUB_GUILD, guild, HUB_OP_AUTOMOD_CREATE, owner,
                   json_pack("{s:s, s:i, s:i, s:b, s:{s:i}, s:[{s:i}, {s:i, s:{s:i}}]}", "name",
                             "Spam", "event_type", 1, "trigger_type", 3, "enabled", 1,
                             "trigger_metadata", "duplicate_limit", 3, "actions", "type", 1, "type",
                             3, "metadata", "duration_seconds", 60),
                   200);
    rule_spam = jid(body, "id");
    json_decref(body);
    ASSERT_EQ(50035, req_code(HUB_GUILD, guild, HUB_OP_AUTOMOD_CREATE, owner,
                              json_pack("{s:s}", "name", "incomplete"), 400));
    list = gwt_req(HUB_GUILD, guild, HUB_OP_AUTOMOD_LIST, owner, json_object(), 200);
    ASSERT_EQ(2, json_array_size(list));
    json_decref(list);

    /* The banned word: blocked, not stored, an alert in mod-alerts, an execution. */
    gwt_req_full(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, member,
                 json_pack("{s:s}", "content", "well DARN it"), &r);
    ASSERT_EQ(400, r.status);
    ASSERT_EQ(200000, r.code);
    ASSERT_STR_EQ("Message was blocked by automatic moderation", r.message);
    hub_result_clear(&r);
    pg.limit = 10;
    ASSERT_OK(store_message_list(e.db, general, &pg, 0, &list));
    ASSERT_EQ(0, json_array_size(list));
    json_decref(list);
    v = gwc_wait(&co, "MESSAGE_CREATE", 5000); /* the alert */
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(24, gwj_i(v, "d.type"));
    ASSERT_EQ(alerts, jid(gwj(v, "d"), "channel_id"));
    ASSERT_EQ(member, jid(gwj(v, "d.author"), "id"));
    json_decref(v);
    v = gwc_wait(&co, "AUTO_MODERATION_ACTION_EXECUTION", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(rule_kw, jid(gwj(v, "d"), "rule_id"));
    ASSERT_STR_EQ("well DARN it", gwj_s(v, "d.content"));
    ASSERT_STR_EQ("darn", gwj_s(v, "d.matched_keyword"));
    json_decref(v);
    /* The owner may say it. */
    send_ok(general, owner, "darn, I may");

    /* A repeat spammer: the third time is blocked and times it out. */
    send_ok(general, member, "buy cheap stuff");
    send_ok(general, member, "buy cheap stuff");
    send_status(general, member, "buy cheap stuff", 400, 200000);
    send_status(general, member, "something else", 403, 50013);
    v = gwc_wait(&co, "GUILD_MEMBER_UPDATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_NOT_NULL(gwj_s(v, "d.communication_disabled_until"));
    json_decref(v);
    v = audit_last(&e, guild, STORE_AUDIT_AUTOMOD_USER_COMMUNICATION_DISABLED);
    ASSERT_EQ(member, jid(v, "target_id"));
    ASSERT_STR_EQ("Spam", gwj_s(v, "options.auto_moderation_rule_name"));
    json_decref(v);
    v = audit_last(&e, guild, STORE_AUDIT_AUTOMOD_BLOCK_MESSAGE);
    ASSERT_STR_EQ("3", gwj_s(v, "options.auto_moderation_rule_trigger_type"));
    json_decref(v);
    v = audit_last(&e, guild, STORE_AUDIT_AUTOMOD_RULE_CREATE);
    ASSERT_EQ(rule_spam, jid(v, "target_id"));
    json_decref(v);
    v = audit_last(&e, guild, STORE_AUDIT_AUTOMOD_FLAG_TO_CHANNEL);
    json_decref(v);
    {
        store_audit_query_t q = {0};
        q.action_type = STORE_AUDIT_AUTOMOD_RULE_CREATE;
        ASSERT_OK(store_audit_list(e.db, guild, &q, &list));
        ASSERT_STR_EQ("keep it clean", gwj_s(list, "audit_log_entries.1.reason"));
        json_decref(list);
    }

    /* Modify and delete. */
    body = gwt_req(HUB_GUILD, guild, HUB_OP_AUTOMOD_MODIFY, owner,
                   json_pack("{s:I, s:b}", "rule_id", (json_int_t)rule_kw, "enabled", 0), 200);
    ASSERT(json_is_false(json_object_get(body, "enabled")));
    json_decref(body);
    v = gwc_wait(&co, "AUTO_MODERATION_RULE_UPDATE", 5000);
    ASSERT_NOT_NULL(v);
    json_decref(v);
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_AUTOMOD_DELETE, owner,
                        json_pack("{s:I}", "rule_id", (json_int_t)rule_spam), 204));
    v = gwc_wait(&co, "AUTO_MODERATION_RULE_DELETE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(rule_spam, jid(gwj(v, "d"), "id"));
    json_decref(v);
    ASSERT_EQ(0, req_code(HUB_GUILD, guild, HUB_OP_AUTOMOD_GET, owner,
                          json_pack("{s:I}", "rule_id", (json_int_t)rule_spam), 404));
    list = gwt_req(HUB_GUILD, guild, HUB_OP_AUTOMOD_LIST, owner, json_object(), 200);
    ASSERT_EQ(1, json_array_size(list));
    json_decref(list);
    gwc_close(&co, 1000);
    gwt_stop(&e);
    return 0;
}

/* ---- message permissions
 * ------------------------------------------------------------------------- */

/* MANAGE_MESSAGES for others' messages and reactions, ADD_REACTIONS only for a new
 * emoji, MENTION_EVERYONE for @everyone and unmentionable roles, READ_MESSAGE_HISTORY
 * for replies, SEND_TTS_MESSAGES for tts; audit entries only for VIEW_AUDIT_LOG. */
TEST_IMPL(moderation_message_permissions)
{
    char t_owner[STORE_TOKEN_SIZE], t_member[STORE_TOKEN_SIZE], t_mod[STORE_TOKEN_SIZE];
    uint64_t owner, member, mod, guild, general, m1, m2, m3, mod_role, quiet_role;
    gwt_env_t e;
    gwc_t cm;
    json_t *v, *body;
    bool marker = false;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", t_owner);
    member = gwt_user(&e, "member", t_member);
    mod = gwt_user(&e, "mod", t_mod);
    guild = ts_guild(e.db, owner, "Messages", &general);
    join(guild, member);
    join(guild, mod);
    mod_role = role_make(guild, owner, "mod", PERM_MANAGE_MESSAGES);
    role_give(guild, owner, mod, mod_role);
    quiet_role = role_make(guild, owner, "quiet", 0); /* not mentionable */
    /* @everyone without ADD_REACTIONS and MENTION_EVERYONE. */
    json_decref(gwt_req(HUB_GUILD, guild, HUB_OP_ROLE_MODIFY, owner,
                        json_pack("{s:I, s:o}", "role_id", (json_int_t)guild, "permissions",
                                  perm_str(STORE_PERM_EVERYONE_DEFAULT &
                                           ~(PERM_ADD_REACTIONS | PERM_MENTION_EVERYONE))),
                        200));
    session(&cm, &e, t_member, 1);

    /* Deleting others' messages. */
    m1 = send_ok(general, owner, "one");
    m2 = send_ok(general, owner, "two");
    m3 = send_ok(general, owner, "three");
    ASSERT_EQ(50013, req_code(HUB_CHANNEL, general, HUB_OP_MESSAGE_DELETE, member,
                              json_pack("{s:I}", "message_id", (json_int_t)m1), 403));
    ASSERT_EQ(50013,
              req_code(HUB_CHANNEL, general, HUB_OP_MESSAGE_BULK_DELETE, member,
                       json_pack("{s:[I, I]}", "messages", (json_int_t)m1, (json_int_t)m2), 403));
    json_decref(
        gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_DELETE, mod,
                json_pack("{s:I, s:s}", "message_id", (json_int_t)m1, "reason", "off topic"), 204));
    v = audit_last(&e, guild, STORE_AUDIT_MESSAGE_DELETE);
    ASSERT_EQ(owner, jid(v, "target_id"));
    ASSERT_STR_EQ("off topic", js(v, "reason"));
    json_decref(v);

    /* Reactions: a new emoji needs ADD_REACTIONS; joining one there does not. */
    ASSERT_EQ(50013,
              req_code(HUB_CHANNEL, general, HUB_OP_REACTION_ADD, member,
                       json_pack("{s:I, s:s}", "message_id", (json_int_t)m2, "emoji", "🔥"), 403));
    json_decref(gwt_req(HUB_CHANNEL, general, HUB_OP_REACTION_ADD, owner,
                        json_pack("{s:I, s:s}", "message_id", (json_int_t)m2, "emoji", "🔥"), 204));
    json_decref(gwt_req(HUB_CHANNEL, general, HUB_OP_REACTION_ADD, member,
                        json_pack("{s:I, s:s}", "message_id", (json_int_t)m2, "emoji", "🔥"), 204));
    ASSERT_EQ(50013, req_code(HUB_CHANNEL, general, HUB_OP_REACTION_REMOVE_USER, member,
                              json_pack("{s:I, s:s, s:I}", "message_id", (json_int_t)m2, "emoji",
                                        "🔥", "user_id", (json_int_t)owner),
                              403));
    ASSERT_EQ(50013, req_code(HUB_CHANNEL, general, HUB_OP_REACTION_REMOVE_ALL, member,
                              json_pack("{s:I}", "message_id", (json_int_t)m2), 403));
    json_decref(gwt_req(HUB_CHANNEL, general, HUB_OP_REACTION_REMOVE_ALL, mod,
                        json_pack("{s:I}", "message_id", (json_int_t)m2), 204));

    /* Mentions: without MENTION_EVERYONE, @everyone and an unmentionable role do not
     * ping; the owner's do. */
    body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, member,
                   json_pack("{s:s, s:b}", "content", "@everyone look <@&0>", "tts", 1), 200);
    ASSERT(json_is_false(json_object_get(body, "mention_everyone")));
    ASSERT(json_is_false(json_object_get(body, "tts")));
    json_decref(body);
    {
        char text[64];
        snprintf(text, sizeof(text), "hey <@&%llu>", (unsigned long long)quiet_role);
        body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, member,
                       json_pack("{s:s}", "content", text), 200);
        ASSERT_EQ(0, json_array_size(json_object_get(body, "mention_roles")));
        json_decref(body);
        body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, owner,
                       json_pack("{s:s}", "content", text), 200);
        ASSERT_EQ(1, json_array_size(json_object_get(body, "mention_roles")));
        json_decref(body);
    }
    body = gwt_req(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, owner,
                   json_pack("{s:s}", "content", "@everyone listen"), 200);
    ASSERT(json_is_true(json_object_get(body, "mention_everyone")));
    json_decref(body);

    /* Replies need READ_MESSAGE_HISTORY. */
    json_decref(gwt_req(HUB_CHANNEL, general, HUB_OP_OVERWRITE_PUT, owner,
                        json_pack("{s:I, s:i, s:o}", "overwrite_id", (json_int_t)member, "type", 1,
                                  "deny", perm_str(PERM_READ_MESSAGE_HISTORY)),
                        204));
    ASSERT_EQ(160002, req_code(HUB_CHANNEL, general, HUB_OP_MESSAGE_CREATE, member,
                               json_pack("{s:s, s:{s:I}}", "content", "re", "message_reference",
                                         "message_id", (json_int_t)m3),
                               403));

    /* The member saw messages, but none of the audit entries (no VIEW_AUDIT_LOG). */
    send_ok(general, owner, "marker");
    while (!marker && (v = gwc_recv(&cm, 5000)) != NULL) {
        const char *t = gwj_s(v, "t");
        ASSERT(t == NULL || strcmp(t, "GUILD_AUDIT_LOG_ENTRY_CREATE") != 0);
        marker =
            t != NULL && !strcmp(t, "MESSAGE_CREATE") && !strcmp(gwj_s(v, "d.content"), "marker");
        json_decref(v);
    }
    ASSERT(marker);
    gwc_close(&cm, 1000);
    gwt_stop(&e);
    return 0;
}

/* ---- fan-out by permission: still encoded once
 * ----------------------------------------------------- */

/* A stand-in session: a green thread that subscribes to a guild's hub as user and
 * reports its snapshot (tag 1: value 1 if granted) and each MESSAGE_CREATE: the shared
 * payload it points at (tag 2) and its channel (tag 3), with ref = the user. It keeps
 * the event messages until told to stop (tag 4, which it answers), so no payload
 * address is reused meanwhile. */
typedef struct fake {
    hearth_pid_t hub, report;
    uint64_t user;
} fake_t;

#define FAKE_SNAPSHOT 1
#define FAKE_PAYLOAD 2
#define FAKE_CHANNEL 3
#define FAKE_STOP 4

static void fake_report(const fake_t *f, uint32_t tag, int64_t value)
{
    hearth_msg_t *m = hearth_msg_int(tag, value);

    m->ref = f->user;
    hearth_send(f->report, m);
}

static void fake_main(void *arg)
{
    fake_t f = *(fake_t *)arg;
    hearth_msg_t *m, *kept[16];
    hub_subscribe_t sub;
    size_t nkept = 0, i;
    json_t *d;

    free(arg);
    memset(&sub, 0, sizeof(sub));
    sub.user_id = f.user;
    sub.intents = (1ULL << 26) - 1;
    sub.form = HUB_FORM_JSON;
    sub.ref = 1;
    hearth_send(f.hub, hearth_msg_copy(HUB_TAG_SUBSCRIBE, &sub, sizeof(sub)));
    while (hearth_receive(NULL, NULL, 20000, &m) == 0) {
        if (m->tag == FAKE_STOP) {
            hearth_msg_free(m);
            break;
        }
        if (m->tag == HUB_TAG_SNAPSHOT) {
            fake_report(&f, FAKE_SNAPSHOT, m->value != 0);
        } else if (m->tag == HUB_TAG_EVENT && m->value == HUB_EV_MESSAGE_CREATE && nkept < 16) {
            d = json_loadb(m->data, m->len, 0, NULL);
            fake_report(&f, FAKE_PAYLOAD, (int64_t)(uintptr_t)hearth_msg_payload(m));
            fake_report(&f, FAKE_CHANNEL, (int64_t)jid(d, "channel_id"));
            json_decref(d);
            kept[nkept++] = m;
            continue;
        }
        hearth_msg_free(m);
    }
    for (i = 0; i < nkept; i++)
        hearth_msg_free(kept[i]);
    fake_report(&f, FAKE_STOP, 0); /* done: nothing of the hubs' is held any more */
}

/* The next report of tag from user (others stay queued). */
typedef struct want {
    uint32_t tag;
    uint64_t user;
} want_t;

static bool want_match(const hearth_msg_t *m, void *arg)
{
    const want_t *w = arg;

    return m->tag == w->tag && m->ref == w->user;
}

static int64_t fake_next(uint32_t tag, uint64_t user)
{
    want_t w = {tag, user};
    hearth_msg_t *m;
    int64_t v;

    ASSERT_OK(hearth_receive(want_match, &w, 5000, &m));
    v = m->value;
    hearth_msg_free(m);
    return v;
}

/* Sessions of users who may view a channel get its message as one shared payload;
 * those who may not get nothing of it, and the next message of a channel they see
 * comes to all three as one payload again. */
TEST_IMPL(moderation_fanout_encode_once)
{
    char t_owner[STORE_TOKEN_SIZE], tk[STORE_TOKEN_SIZE];
    uint64_t owner, users[3], guild, general, staff, staff_role;
    hearth_pid_t hub, pids[3];
    fake_t *f;
    json_t *body;
    int64_t p[3];
    gwt_env_t e;
    int i;

    gwt_start(&e, NULL, NULL);
    owner = gwt_user(&e, "owner", t_owner);
    users[0] = gwt_user(&e, "staff1", tk);
    users[1] = gwt_user(&e, "staff2", tk);
    users[2] = gwt_user(&e, "guest", tk);
    guild = ts_guild(e.db, owner, "Fanout", &general);
    for (i = 0; i < 3; i++)
        join(guild, users[i]);
    staff_role = role_make(guild, owner, "staff", 0);
    role_give(guild, owner, users[0], staff_role);
    role_give(guild, owner, users[1], staff_role);
    body = gwt_req(HUB_GUILD, guild, HUB_OP_CHANNEL_CREATE, owner,
                   json_pack("{s:s, s:[{s:I, s:i, s:o}, {s:I, s:i, s:o}]}", "name", "staff",
                             "permission_overwrites", "id", (json_int_t)guild, "type", 0, "deny",
                             perm_str(PERM_VIEW_CHANNEL), "id", (json_int_t)staff_role, "type", 0,
                             "allow", perm_str(PERM_VIEW_CHANNEL)),
                   201);
    staff = jid(body, "id");
    json_decref(body);

    ASSERT_OK(hub_guild_pid(guild, &hub));
    for (i = 0; i < 3; i++) {
        f = malloc(sizeof(*f));
        ASSERT_NOT_NULL(f);
        f->hub = hub;
        f->report = hearth_self();
        f->user = users[i];
        ASSERT_OK(hearth_spawn_green(fake_main, f, 64 << 10, 0, &pids[i]));
        ASSERT_EQ(1, fake_next(FAKE_SNAPSHOT, users[i]));
    }

    send_ok(staff, owner, "staff only");
    for (i = 0; i < 2; i++) {
        p[i] = fake_next(FAKE_PAYLOAD, users[i]);
        ASSERT_EQ((int64_t)staff, fake_next(FAKE_CHANNEL, users[i]));
    }
    ASSERT_NE(0, p[0]);
    ASSERT_EQ(p[0], p[1]); /* one encoding for both */

    send_ok(general, owner, "everyone");
    for (i = 0; i < 3; i++) {
        p[i] = fake_next(FAKE_PAYLOAD, users[i]);
        /* The guest's first message is this one: nothing of staff came before it. */
        ASSERT_EQ((int64_t)general, fake_next(FAKE_CHANNEL, users[i]));
    }
    ASSERT_EQ(p[0], p[1]);
    ASSERT_EQ(p[0], p[2]);
    for (i = 0; i < 3; i++) {
        hearth_send(pids[i], hearth_msg_int(FAKE_STOP, 0));
        fake_next(FAKE_STOP, users[i]);
    }
    gwt_stop(&e);
    return 0;
}
