/* REST API tests, part four: roles and permissions, moderation and auto-moderation,
 * over real sockets against a node in the test process, as a client would use them:
 * roles (create, list, get, modify, reorder, delete) and a member's roles; channel
 * permission overwrites (a member denied by one can neither read nor send there;
 * permission_overwrites on channel create and modify); bans (a banned user's invite
 * accept fails); timeouts (a timed-out member cannot send until it ends); kicks and the
 * hierarchy (a moderator cannot kick an admin); the audit log (the kick with its
 * X-Audit-Log-Reason); auto-moderation rules (a banned word is blocked with
 * 400/200000, a repeat spammer is timed out). The hubs' own tests (test-moderation.c)
 * cover the rules in depth; these check the HTTP side: routes, bodies, statuses,
 * codes, the reason header. */
#include "test-api.h"

#include <time.h>
#include <unistd.h>

#define API "/api/v10"

/* Discord's permission bits used here. */
#define P_KICK "2"
#define P_ADMIN "8"
#define P_VIEW_CHANNEL 1024
#define P_SEND_MESSAGES 2048
#define P_MANAGE_ROLES "268435456"

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

/* A role of guild made by owner with perms (a decimal string); its id. */
static uint64_t role_make(int port, const ta_user_t *owner, uint64_t guild, const char *name,
                          const char *perms)
{
    ta_res_t r = {0};
    char path[128];
    uint64_t id;

    ASSERT_EQ(200, ta_req(port, &r, "POST", P(API "/guilds/%llu/roles", ID(guild)), owner->token,
                          "{\"name\": \"%s\", \"permissions\": \"%s\"}", name, perms));
    id = jid(r.json, "id");
    ASSERT_NE(0, id);
    ta_res_free(&r);
    return id;
}

static void role_give(int port, const ta_user_t *owner, uint64_t guild, uint64_t user,
                      uint64_t role)
{
    ta_res_t r = {0};
    char path[160];

    ASSERT_EQ(204,
              ta_req(port, &r, "PUT",
                     P(API "/guilds/%llu/members/%llu/roles/%llu", ID(guild), ID(user), ID(role)),
                     owner->token, NULL));
    ta_res_free(&r);
}

/* An ISO 8601 time ms milliseconds from now, as Discord writes them. */
static const char *iso_in(int64_t ms, char buf[64])
{
    struct timespec ts;
    struct tm tm;
    int64_t t;
    time_t sec;

    clock_gettime(CLOCK_REALTIME, &ts);
    t = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ms;
    sec = (time_t)(t / 1000);
    gmtime_r(&sec, &tm);
    snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03d000+00:00", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t % 1000));
    return buf;
}

/* The newest audit entry of type in guild, as owner reads it (a new reference). */
static json_t *audit_last(int port, const ta_user_t *owner, uint64_t guild, int type)
{
    ta_res_t r = {0};
    char path[128];
    json_t *e;

    ASSERT_EQ(200, ta_req(port, &r, "GET",
                          P(API "/guilds/%llu/audit-logs?action_type=%d&limit=1", ID(guild), type),
                          owner->token, NULL));
    e = json_array_get(json_object_get(r.json, "audit_log_entries"), 0);
    ASSERT_NOT_NULL(e);
    ASSERT_EQ(type, ji(e, "action_type"));
    json_incref(e);
    ta_res_free(&r);
    return e;
}

/* True if member (an object with "roles") has role. */
static bool has_role(const json_t *member, uint64_t role)
{
    json_t *v;
    size_t i;

    json_array_foreach(json_object_get(member, "roles"), i, v)
    {
        uint64_t id = 0;

        if (snowflake_parse(json_string_value(v), &id) == 0 && id == role)
            return true;
    }
    return false;
}

/* ---- roles --------------------------------------------------------------------------------- */

TEST_IMPL(api_roles)
{
    ta_user_t owner, member;
    uint64_t guild, general, mods, helpers;
    ta_res_t r = {0};
    char path[160];
    json_t *e;

    ta_node_t n;
    ta_start(&n);
    ta_user(n.port, "owner", &owner);
    ta_user(n.port, "member", &member);
    guild = ta_guild(n.port, &owner, "Roles", &general);
    ta_join(n.port, &owner, &member, general);

    /* A new guild has @everyone, whose id is the guild's. */
    ASSERT_EQ(
        200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/roles", ID(guild)), member.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));
    ASSERT_EQ(guild, jid(json_array_get(r.json, 0), "id"));

    /* Create: the fields as sent, permissions as a decimal string, the reason audited. */
    ASSERT_EQ(200, ta_req_h(n.port, &r, "POST", P(API "/guilds/%llu/roles", ID(guild)), owner.token,
                            "X-Audit-Log-Reason: new%20mods\r\n",
                            "{\"name\": \"Mods\", \"permissions\": \"%s\", \"color\": 255, "
                            "\"hoist\": true}",
                            P_MANAGE_ROLES));
    mods = jid(r.json, "id");
    ASSERT_NE(0, mods);
    ASSERT_STR_EQ("Mods", js(r.json, "name"));
    ASSERT_STR_EQ(P_MANAGE_ROLES, js(r.json, "permissions"));
    ASSERT_EQ(255, ji(r.json, "color"));
    ASSERT(jb(r.json, "hoist"));
    e = audit_last(n.port, &owner, guild, 30);
    ASSERT_EQ(mods, jid(e, "target_id"));
    ASSERT_EQ(owner.id, jid(e, "user_id"));
    ASSERT_STR_EQ("new mods", js(e, "reason"));
    json_decref(e);

    /* Bad fields, each named; a member without MANAGE_ROLES. */
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/guilds/%llu/roles", ID(guild)), owner.token,
                          "{\"permissions\": \"lots\", \"color\": \"red\", \"hoist\": 3}"));
    TA_ERR(&r, 400, 50035);
    ASSERT(ta_form_error(&r, "permissions") && ta_form_error(&r, "color") &&
           ta_form_error(&r, "hoist"));
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/guilds/%llu/roles", ID(guild)), member.token,
                          "{\"name\": \"Mine\"}"));
    TA_ERR(&r, 403, 50013);

    /* Get, unknown, malformed; modify. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/roles/%llu", ID(guild), ID(mods)),
                          member.token, NULL));
    ASSERT_STR_EQ("Mods", js(r.json, "name"));
    ASSERT_EQ(404, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/roles/123456789", ID(guild)),
                          owner.token, NULL));
    TA_ERR(&r, 404, 10011);
    ASSERT_EQ(400, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/roles/abc", ID(guild)),
                          owner.token, NULL));
    TA_ERR(&r, 400, 50035);
    ASSERT_EQ(200,
              ta_req(n.port, &r, "PATCH", P(API "/guilds/%llu/roles/%llu", ID(guild), ID(mods)),
                     owner.token, "{\"name\": \"Moderators\", \"mentionable\": true}"));
    ASSERT_STR_EQ("Moderators", js(r.json, "name"));
    ASSERT(jb(r.json, "mentionable"));
    ASSERT_EQ(403,
              ta_req(n.port, &r, "PATCH", P(API "/guilds/%llu/roles/%llu", ID(guild), ID(mods)),
                     member.token, "{\"name\": \"Mine now\"}"));
    TA_ERR(&r, 403, 50013);

    /* Discord's newer "colors" (what discord.js sends): the primary is the color. */
    ASSERT_EQ(200, ta_req(n.port, &r, "PATCH",
                          P(API "/guilds/%llu/roles/%llu", ID(guild), ID(mods)), owner.token,
                          "{\"colors\": {\"primary_color\": 65280, \"secondary_color\": null}}"));
    ASSERT_EQ(65280, ji(r.json, "color"));
    ASSERT_EQ(65280, ji(json_object_get(r.json, "colors"), "primary_color"));
    ASSERT_EQ(400,
              ta_req(n.port, &r, "PATCH", P(API "/guilds/%llu/roles/%llu", ID(guild), ID(mods)),
                     owner.token, "{\"colors\": {\"primary_color\": \"green\"}}"));
    ASSERT(ta_form_error(&r, "colors.primary_color"));

    /* Reorder: a list of {id, position}; anything else is a 50035. */
    helpers = role_make(n.port, &owner, guild, "Helpers", "0");
    ASSERT_EQ(200, ta_req(n.port, &r, "PATCH", P(API "/guilds/%llu/roles", ID(guild)), owner.token,
                          "[{\"id\": \"%llu\", \"position\": 2}, {\"id\": \"%llu\", "
                          "\"position\": 1}]",
                          ID(helpers), ID(mods)));
    ASSERT_EQ(3, json_array_size(r.json));
    {
        json_t *v;
        size_t i;
        int seen = 0;

        json_array_foreach(r.json, i, v)
        {
            if (jid(v, "id") == helpers && ji(v, "position") == 2)
                seen++;
            if (jid(v, "id") == mods && ji(v, "position") == 1)
                seen++;
        }
        ASSERT_EQ(2, seen);
    }
    ASSERT_EQ(400, ta_req(n.port, &r, "PATCH", P(API "/guilds/%llu/roles", ID(guild)), owner.token,
                          "{\"id\": \"%llu\"}", ID(mods)));
    TA_ERR(&r, 400, 50035);
    ASSERT_EQ(400, ta_req(n.port, &r, "PATCH", P(API "/guilds/%llu/roles", ID(guild)), owner.token,
                          "[{\"position\": 1}, 7]"));
    ASSERT(ta_form_error(&r, "0.id") && ta_form_error(&r, "1"));

    /* A member's roles: given, seen on the member, refused without MANAGE_ROLES, taken. */
    role_give(n.port, &owner, guild, member.id, mods);
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(API "/guilds/%llu/members/%llu", ID(guild), ID(member.id)), owner.token,
                          NULL));
    ASSERT(has_role(r.json, mods));
    /* Mods has MANAGE_ROLES but Helpers is above it now: the hierarchy refuses. */
    ASSERT_EQ(403, ta_req(n.port, &r, "PUT",
                          P(API "/guilds/%llu/members/%llu/roles/%llu", ID(guild), ID(member.id),
                            ID(helpers)),
                          member.token, NULL));
    TA_ERR(&r, 403, 50013);
    ASSERT_EQ(404,
              ta_req(n.port, &r, "PUT",
                     P(API "/guilds/%llu/members/%llu/roles/123456789", ID(guild), ID(member.id)),
                     owner.token, NULL));
    TA_ERR(&r, 404, 10011);
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE",
                          P(API "/guilds/%llu/members/%llu/roles/%llu", ID(guild), ID(member.id),
                            ID(mods)),
                          owner.token, NULL));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(API "/guilds/%llu/members/%llu", ID(guild), ID(member.id)), owner.token,
                          NULL));
    ASSERT(!has_role(r.json, mods));
    e = audit_last(n.port, &owner, guild, 25); /* MEMBER_ROLE_UPDATE */
    ASSERT_EQ(member.id, jid(e, "target_id"));
    json_decref(e);

    /* Delete: never @everyone (50028); a deleted role is unknown. */
    ASSERT_EQ(400,
              ta_req(n.port, &r, "DELETE", P(API "/guilds/%llu/roles/%llu", ID(guild), ID(guild)),
                     owner.token, NULL));
    TA_ERR(&r, 400, 50028);
    ASSERT_EQ(204,
              ta_req(n.port, &r, "DELETE", P(API "/guilds/%llu/roles/%llu", ID(guild), ID(helpers)),
                     owner.token, NULL));
    ASSERT_EQ(404,
              ta_req(n.port, &r, "GET", P(API "/guilds/%llu/roles/%llu", ID(guild), ID(helpers)),
                     owner.token, NULL));
    TA_ERR(&r, 404, 10011);
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

/* ---- channel permission overwrites --------------------------------------------------------- */

TEST_IMPL(api_overwrites)
{
    uint64_t guild, general, staff;
    ta_user_t owner, member;
    ta_res_t r = {0};
    char path[160];
    json_t *e;

    ta_node_t n;
    ta_start(&n);
    ta_user(n.port, "owner", &owner);
    ta_user(n.port, "member", &member);
    guild = ta_guild(n.port, &owner, "Overwrites", &general);
    ta_join(n.port, &owner, &member, general);
    ta_msg(n.port, &owner, general, "before the overwrite");
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(general)),
                          member.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));

    /* A member overwrite denying VIEW_CHANNEL: no reads, no sends (50001). */
    ASSERT_EQ(204, ta_req_h(n.port, &r, "PUT",
                            P(API "/channels/%llu/permissions/%llu", ID(general), ID(member.id)),
                            owner.token, "X-Audit-Log-Reason: hide it\r\n",
                            "{\"type\": 1, \"deny\": \"%d\"}", P_VIEW_CHANNEL));
    ASSERT_EQ(403,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu", ID(general)), member.token, NULL));
    TA_ERR(&r, 403, 50001);
    ASSERT_EQ(403, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(general)),
                          member.token, NULL));
    TA_ERR(&r, 403, 50001);
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          member.token, "{\"content\": \"can I?\"}"));
    TA_ERR(&r, 403, 50001);
    ta_msg(n.port, &owner, general, "the owner still can");
    /* The channel lists the overwrite; the audit log has it with its reason. */
    ASSERT_EQ(200,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu", ID(general)), owner.token, NULL));
    e = json_array_get(json_object_get(r.json, "permission_overwrites"), 0);
    ASSERT_EQ(member.id, jid(e, "id"));
    ASSERT_EQ(1, ji(e, "type"));
    ASSERT_STR_EQ("1024", js(e, "deny"));
    e = audit_last(n.port, &owner, guild, 13); /* CHANNEL_OVERWRITE_CREATE */
    ASSERT_EQ(general, jid(e, "target_id"));
    ASSERT_STR_EQ("hide it", js(e, "reason"));
    json_decref(e);

    /* Nobody without MANAGE_ROLES sets overwrites; bad bodies are 50035. */
    ASSERT_EQ(403, ta_req(n.port, &r, "PUT",
                          P(API "/channels/%llu/permissions/%llu", ID(general), ID(member.id)),
                          member.token, "{\"type\": 1, \"allow\": \"1024\"}"));
    ASSERT_EQ(400, ta_req(n.port, &r, "PUT",
                          P(API "/channels/%llu/permissions/%llu", ID(general), ID(member.id)),
                          owner.token, "{\"deny\": \"1024\"}"));
    TA_ERR(&r, 400, 50035);
    ASSERT(ta_form_error(&r, "type"));
    ASSERT_EQ(400, ta_req(n.port, &r, "PUT",
                          P(API "/channels/%llu/permissions/%llu", ID(general), ID(member.id)),
                          owner.token, "{\"type\": 5, \"allow\": \"many\"}"));
    ASSERT(ta_form_error(&r, "type") && ta_form_error(&r, "allow"));
    ASSERT_EQ(404,
              ta_req(n.port, &r, "PUT", P(API "/channels/%llu/permissions/123456789", ID(general)),
                     owner.token, "{\"type\": 0, \"deny\": \"1024\"}"));
    TA_ERR(&r, 404, 10011);

    /* Replaced by one denying SEND_MESSAGES only: reads again, sends refused (50013). */
    ASSERT_EQ(204, ta_req(n.port, &r, "PUT",
                          P(API "/channels/%llu/permissions/%llu", ID(general), ID(member.id)),
                          owner.token, "{\"type\": 1, \"deny\": %d}", P_SEND_MESSAGES));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(general)),
                          member.token, NULL));
    ASSERT_EQ(2, json_array_size(r.json));
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          member.token, "{\"content\": \"now?\"}"));
    TA_ERR(&r, 403, 50013);

    /* Deleted: the member sends again; deleting it twice is still a 204. */
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE",
                          P(API "/channels/%llu/permissions/%llu", ID(general), ID(member.id)),
                          owner.token, NULL));
    ta_msg(n.port, &member, general, "back");
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE",
                          P(API "/channels/%llu/permissions/%llu", ID(general), ID(member.id)),
                          owner.token, NULL));

    /* permission_overwrites on create (@everyone, whose id is the guild's, denied VIEW)
     * and on modify (cleared). */
    ASSERT_EQ(201,
              ta_req(n.port, &r, "POST", P(API "/guilds/%llu/channels", ID(guild)), owner.token,
                     "{\"name\": \"staff\", \"permission_overwrites\": [{\"id\": \"%llu\", "
                     "\"type\": 0, \"deny\": \"%d\"}]}",
                     ID(guild), P_VIEW_CHANNEL));
    staff = jid(r.json, "id");
    ASSERT_NE(0, staff);
    ASSERT_EQ(403,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu", ID(staff)), member.token, NULL));
    TA_ERR(&r, 403, 50001);
    ASSERT_EQ(200,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu", ID(staff)), owner.token, NULL));
    ASSERT_EQ(200, ta_req(n.port, &r, "PATCH", P(API "/channels/%llu", ID(staff)), owner.token,
                          "{\"permission_overwrites\": []}"));
    ASSERT_EQ(0, json_array_size(json_object_get(r.json, "permission_overwrites")));
    ASSERT_EQ(200,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu", ID(staff)), member.token, NULL));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

/* ---- bans ---------------------------------------------------------------------------------- */

TEST_IMPL(api_bans)
{
    ta_user_t owner, member, other;
    uint64_t guild, general, m1;
    ta_res_t r = {0};
    char path[160], code[32];
    json_t *e;

    ta_node_t n;
    ta_start(&n);
    ta_user(n.port, "owner", &owner);
    ta_user(n.port, "member", &member);
    ta_user(n.port, "other", &other);
    guild = ta_guild(n.port, &owner, "Bans", &general);
    ta_join(n.port, &owner, &member, general);
    ta_join(n.port, &owner, &other, general);
    m1 = ta_msg(n.port, &member, general, "spam spam spam");

    /* Reading bans needs BAN_MEMBERS. */
    ASSERT_EQ(403,
              ta_req(n.port, &r, "GET", P(API "/guilds/%llu/bans", ID(guild)), other.token, NULL));
    TA_ERR(&r, 403, 50013);
    ASSERT_EQ(403,
              ta_req(n.port, &r, "PUT", P(API "/guilds/%llu/bans/%llu", ID(guild), ID(member.id)),
                     other.token, "{}"));
    TA_ERR(&r, 403, 50013);
    ASSERT_EQ(400,
              ta_req(n.port, &r, "PUT", P(API "/guilds/%llu/bans/%llu", ID(guild), ID(member.id)),
                     owner.token, "{\"delete_message_seconds\": 700000}"));
    ASSERT(ta_form_error(&r, "delete_message_seconds"));

    /* The ban: the membership ends, the last hour's messages go, the reason is kept. */
    ASSERT_EQ(204,
              ta_req_h(n.port, &r, "PUT", P(API "/guilds/%llu/bans/%llu", ID(guild), ID(member.id)),
                       owner.token, "X-Audit-Log-Reason: raiding\r\n",
                       "{\"delete_message_seconds\": 3600}"));
    ASSERT_EQ(404,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages/%llu", ID(general), ID(m1)),
                     owner.token, NULL));
    TA_ERR(&r, 404, 10008);
    ASSERT_EQ(404, ta_req(n.port, &r, "GET",
                          P(API "/guilds/%llu/members/%llu", ID(guild), ID(member.id)), owner.token,
                          NULL));
    TA_ERR(&r, 404, 10007);
    ASSERT_EQ(200,
              ta_req(n.port, &r, "GET", P(API "/guilds/%llu/bans", ID(guild)), owner.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));
    e = json_array_get(r.json, 0);
    ASSERT_EQ(member.id, jid(json_object_get(e, "user"), "id"));
    ASSERT_STR_EQ("raiding", js(e, "reason"));
    ASSERT_EQ(200,
              ta_req(n.port, &r, "GET", P(API "/guilds/%llu/bans/%llu", ID(guild), ID(member.id)),
                     owner.token, NULL));
    ASSERT_EQ(member.id, jid(json_object_get(r.json, "user"), "id"));
    ASSERT_EQ(404,
              ta_req(n.port, &r, "GET", P(API "/guilds/%llu/bans/%llu", ID(guild), ID(other.id)),
                     owner.token, NULL));
    TA_ERR(&r, 404, 10026);
    ASSERT_EQ(400, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/bans?limit=0", ID(guild)),
                          owner.token, NULL));
    TA_ERR(&r, 400, 50035);
    e = audit_last(n.port, &owner, guild, 22); /* MEMBER_BAN_ADD */
    ASSERT_EQ(member.id, jid(e, "target_id"));
    ASSERT_STR_EQ("raiding", js(e, "reason"));
    json_decref(e);

    /* A banned user's invite accept fails (40007). */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/invites", ID(general)),
                          owner.token, "{\"max_age\": 0, \"max_uses\": 0}"));
    snprintf(code, sizeof(code), "%s", js(r.json, "code"));
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/invites/%s", code), member.token, "{}"));
    TA_ERR(&r, 403, 40007);

    /* Lifted: the invite works again; lifting twice is an Unknown Ban. */
    ASSERT_EQ(204,
              ta_req(n.port, &r, "DELETE",
                     P(API "/guilds/%llu/bans/%llu", ID(guild), ID(member.id)), owner.token, NULL));
    ASSERT_EQ(404,
              ta_req(n.port, &r, "DELETE",
                     P(API "/guilds/%llu/bans/%llu", ID(guild), ID(member.id)), owner.token, NULL));
    TA_ERR(&r, 404, 10026);
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/invites/%s", code), member.token, "{}"));
    ASSERT_EQ(200,
              ta_req(n.port, &r, "GET", P(API "/guilds/%llu/bans", ID(guild)), owner.token, NULL));
    ASSERT_EQ(0, json_array_size(r.json));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

/* ---- timeouts ------------------------------------------------------------------------------ */

TEST_IMPL(api_timeout)
{
    ta_user_t owner, member;
    uint64_t guild, general;
    ta_res_t r = {0};
    char path[160], until[64];
    json_t *e;
    int i;

    ta_node_t n;
    ta_start(&n);
    ta_user(n.port, "owner", &owner);
    ta_user(n.port, "member", &member);
    guild = ta_guild(n.port, &owner, "Timeouts", &general);
    ta_join(n.port, &owner, &member, general);

    /* Timed out for 1.5 s: no sends (50013) until it ends. */
    ASSERT_EQ(200, ta_req_h(n.port, &r, "PATCH",
                            P(API "/guilds/%llu/members/%llu", ID(guild), ID(member.id)),
                            owner.token, "X-Audit-Log-Reason: cool%20down\r\n",
                            "{\"communication_disabled_until\": \"%s\"}", iso_in(1500, until)));
    ASSERT_NOT_NULL(js(r.json, "communication_disabled_until"));
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          member.token, "{\"content\": \"let me talk\"}"));
    TA_ERR(&r, 403, 50013);
    /* It may still read. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(general)),
                          member.token, NULL));
    /* And it may not time out anyone (no MODERATE_MEMBERS). */
    ASSERT_EQ(403, ta_req(n.port, &r, "PATCH",
                          P(API "/guilds/%llu/members/%llu", ID(guild), ID(owner.id)), member.token,
                          "{\"communication_disabled_until\": \"%s\"}", iso_in(60000, until)));
    TA_ERR(&r, 403, 50013);
    e = audit_last(n.port, &owner, guild, 24); /* MEMBER_UPDATE */
    ASSERT_EQ(member.id, jid(e, "target_id"));
    ASSERT_STR_EQ("cool down", js(e, "reason"));
    json_decref(e);
    for (i = 0; i < 40; i++) {
        usleep(100 * 1000);
        if (ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)), member.token,
                   "{\"content\": \"free again\"}") == 200)
            break;
        TA_ERR(&r, 403, 50013);
    }
    ASSERT_EQ(200, r.status);
    ASSERT_GE(i, 8); /* not before its time (1.5 s, less the requests' own) */

    /* More than 28 days ahead: 50035. Then a timeout lifted early with null. */
    ASSERT_EQ(400, ta_req(n.port, &r, "PATCH",
                          P(API "/guilds/%llu/members/%llu", ID(guild), ID(member.id)), owner.token,
                          "{\"communication_disabled_until\": \"%s\"}",
                          iso_in(30LL * 24 * 3600 * 1000, until)));
    ASSERT(ta_form_error(&r, "communication_disabled_until"));
    ASSERT_EQ(200,
              ta_req(n.port, &r, "PATCH",
                     P(API "/guilds/%llu/members/%llu", ID(guild), ID(member.id)), owner.token,
                     "{\"communication_disabled_until\": \"%s\"}", iso_in(3600 * 1000, until)));
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          member.token, "{\"content\": \"hm\"}"));
    ASSERT_EQ(200, ta_req(n.port, &r, "PATCH",
                          P(API "/guilds/%llu/members/%llu", ID(guild), ID(member.id)), owner.token,
                          "{\"communication_disabled_until\": null, \"nick\": "
                          "\"Quiet\"}"));
    ASSERT(json_is_null(json_object_get(r.json, "communication_disabled_until")));
    ASSERT_STR_EQ("Quiet", js(r.json, "nick"));
    ta_msg(n.port, &member, general, "thanks");
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

/* ---- kicks, the hierarchy, the audit log --------------------------------------------------- */

TEST_IMPL(api_kick_hierarchy_audit)
{
    ta_user_t owner, admin, mod, member;
    uint64_t guild, general, admin_role, mod_role;
    ta_res_t r = {0};
    char path[192];
    json_t *e, *users, *u;
    size_t i;
    bool named = false;

    ta_node_t n;
    ta_start(&n);
    ta_user(n.port, "owner", &owner);
    ta_user(n.port, "admin", &admin);
    ta_user(n.port, "mod", &mod);
    ta_user(n.port, "member", &member);
    guild = ta_guild(n.port, &owner, "Hierarchy", &general);
    ta_join(n.port, &owner, &admin, general);
    ta_join(n.port, &owner, &mod, general);
    ta_join(n.port, &owner, &member, general);
    /* A new role goes in just above @everyone: the admins' role, made first, ends above. */
    admin_role = role_make(n.port, &owner, guild, "Admins", P_ADMIN);
    mod_role = role_make(n.port, &owner, guild, "Mods", P_KICK);
    role_give(n.port, &owner, guild, admin.id, admin_role);
    role_give(n.port, &owner, guild, mod.id, mod_role);

    /* A moderator kicks neither an admin nor the owner; a plain member kicks nobody. */
    ASSERT_EQ(403,
              ta_req(n.port, &r, "DELETE",
                     P(API "/guilds/%llu/members/%llu", ID(guild), ID(admin.id)), mod.token, NULL));
    TA_ERR(&r, 403, 50013);
    ASSERT_EQ(403,
              ta_req(n.port, &r, "DELETE",
                     P(API "/guilds/%llu/members/%llu", ID(guild), ID(owner.id)), mod.token, NULL));
    TA_ERR(&r, 403, 50013);
    ASSERT_EQ(403, ta_req(n.port, &r, "DELETE",
                          P(API "/guilds/%llu/members/%llu", ID(guild), ID(mod.id)), member.token,
                          NULL));
    TA_ERR(&r, 403, 50013);

    /* A member below: kicked, with a URL-encoded reason (UTF-8 too). */
    ASSERT_EQ(204, ta_req_h(n.port, &r, "DELETE",
                            P(API "/guilds/%llu/members/%llu", ID(guild), ID(member.id)), mod.token,
                            "X-Audit-Log-Reason: spamming%20links%20%E2%9C%94\r\n", NULL));
    ASSERT_EQ(403, ta_req(n.port, &r, "GET", P(API "/guilds/%llu", ID(guild)), member.token, NULL));
    TA_ERR(&r, 403, 50001);
    ASSERT_EQ(404, ta_req(n.port, &r, "DELETE",
                          P(API "/guilds/%llu/members/%llu", ID(guild), ID(member.id)), mod.token,
                          NULL));
    TA_ERR(&r, 404, 10007);

    /* The audit log: VIEW_AUDIT_LOG only; the kick with its moderator and reason, and
     * the moderator among its users. */
    ASSERT_EQ(403, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/audit-logs", ID(guild)), mod.token,
                          NULL));
    TA_ERR(&r, 403, 50013);
    ASSERT_EQ(200,
              ta_req(n.port, &r, "GET", P(API "/guilds/%llu/audit-logs?action_type=20", ID(guild)),
                     admin.token, NULL));
    ASSERT_EQ(1, json_array_size(json_object_get(r.json, "audit_log_entries")));
    e = json_array_get(json_object_get(r.json, "audit_log_entries"), 0);
    ASSERT_EQ(20, ji(e, "action_type"));
    ASSERT_EQ(member.id, jid(e, "target_id"));
    ASSERT_EQ(mod.id, jid(e, "user_id"));
    ASSERT_STR_EQ("spamming links \xE2\x9C\x94", js(e, "reason"));
    users = json_object_get(r.json, "users");
    json_array_foreach(users, i, u) named |= jid(u, "id") == mod.id;
    ASSERT(named);
    ASSERT(json_is_array(json_object_get(r.json, "auto_moderation_rules")));

    /* Filters: by user (only the moderator's kick), limit, paging; bad values are 50035. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(API "/guilds/%llu/audit-logs?user_id=%llu", ID(guild), ID(mod.id)),
                          owner.token, NULL));
    ASSERT_EQ(1, json_array_size(json_object_get(r.json, "audit_log_entries")));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/audit-logs?limit=2", ID(guild)),
                          owner.token, NULL));
    ASSERT_EQ(2, json_array_size(json_object_get(r.json, "audit_log_entries")));
    {
        uint64_t newest =
            jid(json_array_get(json_object_get(r.json, "audit_log_entries"), 0), "id");

        ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                              P(API "/guilds/%llu/audit-logs?before=%llu&limit=100", ID(guild),
                                ID(newest)),
                              owner.token, NULL));
        json_array_foreach(json_object_get(r.json, "audit_log_entries"), i, e)
            ASSERT_LT(jid(e, "id"), newest);
    }
    ASSERT_EQ(400, ta_req(n.port, &r, "GET",
                          P(API "/guilds/%llu/audit-logs?limit=101&action_type=x", ID(guild)),
                          owner.token, NULL));
    TA_ERR(&r, 400, 50035);
    ASSERT(ta_form_error(&r, "limit") && ta_form_error(&r, "action_type"));

    /* The admin, above the moderator, kicks it. */
    ASSERT_EQ(204,
              ta_req(n.port, &r, "DELETE",
                     P(API "/guilds/%llu/members/%llu", ID(guild), ID(mod.id)), admin.token, NULL));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

/* ---- auto-moderation ----------------------------------------------------------------------- */

TEST_IMPL(api_automod)
{
    ta_user_t owner, member, other;
    uint64_t guild, general, rule_kw, rule_spam;
    ta_res_t r = {0};
    char path[192];
    json_t *e;

    ta_node_t n;
    ta_start(&n);
    ta_user(n.port, "owner", &owner);
    ta_user(n.port, "member", &member);
    ta_user(n.port, "other", &other);
    guild = ta_guild(n.port, &owner, "AutoMod", &general);
    ta_join(n.port, &owner, &member, general);
    ta_join(n.port, &owner, &other, general);

    /* Rules are MANAGE_GUILD's; none by default. */
    ASSERT_EQ(403, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/auto-moderation/rules", ID(guild)),
                          member.token, NULL));
    TA_ERR(&r, 403, 50013);
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/auto-moderation/rules", ID(guild)),
                          owner.token, NULL));
    ASSERT_EQ(0, json_array_size(r.json));

    ASSERT_EQ(200,
              ta_req_h(n.port, &r, "POST", P(API "/guilds/%llu/auto-moderation/rules", ID(guild)),
                       owner.token, "X-Audit-Log-Reason: keep it clean\r\n",
                       "{\"name\": \"Words\", \"event_type\": 1, \"trigger_type\": 1, "
                       "\"trigger_metadata\": {\"keyword_filter\": [\"darn\"]}, "
                       "\"actions\": [{\"type\": 1}], \"enabled\": true}"));
    rule_kw = jid(r.json, "id");
    ASSERT_NE(0, rule_kw);
    ASSERT_EQ(owner.id, jid(r.json, "creator_id"));
    ASSERT_EQ(guild, jid(r.json, "guild_id"));
    ASSERT_EQ(200,
              ta_req(n.port, &r, "POST", P(API "/guilds/%llu/auto-moderation/rules", ID(guild)),
                     owner.token,
                     "{\"name\": \"Spam\", \"event_type\": 1, \"trigger_type\": 3, "
                     "\"trigger_metadata\": {\"duplicate_limit\": 3}, \"actions\": [{\"type\": "
                     "1}, {\"type\": 3, \"metadata\": {\"duration_seconds\": 60}}], "
                     "\"enabled\": true}"));
    rule_spam = jid(r.json, "id");
    ASSERT_EQ(400,
              ta_req(n.port, &r, "POST", P(API "/guilds/%llu/auto-moderation/rules", ID(guild)),
                     owner.token, "{\"name\": \"incomplete\"}"));
    TA_ERR(&r, 400, 50035);
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/auto-moderation/rules", ID(guild)),
                          owner.token, NULL));
    ASSERT_EQ(2, json_array_size(r.json));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(API "/guilds/%llu/auto-moderation/rules/%llu", ID(guild), ID(rule_kw)),
                          owner.token, NULL));
    ASSERT_STR_EQ("Words", js(r.json, "name"));
    e = audit_last(n.port, &owner, guild, 140); /* AUTO_MODERATION_RULE_CREATE */
    ASSERT_EQ(rule_spam, jid(e, "target_id"));
    json_decref(e);

    /* The banned word: 400/200000, nothing stored. */
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          member.token, "{\"content\": \"well DARN it\"}"));
    TA_ERR(&r, 400, 200000);
    ASSERT_STR_EQ("Message was blocked by automatic moderation", js(r.json, "message"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(general)),
                          owner.token, NULL));
    ASSERT_EQ(0, json_array_size(r.json));

    /* A repeat spammer: the third copy is blocked and times it out. */
    ta_msg(n.port, &member, general, "buy cheap stuff");
    ta_msg(n.port, &member, general, "buy cheap stuff");
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          member.token, "{\"content\": \"buy cheap stuff\"}"));
    TA_ERR(&r, 400, 200000);
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(general)),
                          member.token, "{\"content\": \"something else\"}"));
    TA_ERR(&r, 403, 50013);
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(API "/guilds/%llu/members/%llu", ID(guild), ID(member.id)), owner.token,
                          NULL));
    ASSERT_NOT_NULL(js(r.json, "communication_disabled_until"));

    /* Modify (disabled: the word passes), then delete (unknown afterwards). */
    ASSERT_EQ(200, ta_req(n.port, &r, "PATCH",
                          P(API "/guilds/%llu/auto-moderation/rules/%llu", ID(guild), ID(rule_kw)),
                          owner.token, "{\"enabled\": false}"));
    ASSERT(json_is_false(json_object_get(r.json, "enabled")));
    ta_msg(n.port, &other, general, "darn, allowed now");
    ASSERT_EQ(403, ta_req(n.port, &r, "DELETE",
                          P(API "/guilds/%llu/auto-moderation/rules/%llu", ID(guild), ID(rule_kw)),
                          other.token, NULL));
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE",
                          P(API "/guilds/%llu/auto-moderation/rules/%llu", ID(guild), ID(rule_kw)),
                          owner.token, NULL));
    ASSERT_EQ(404, ta_req(n.port, &r, "GET",
                          P(API "/guilds/%llu/auto-moderation/rules/%llu", ID(guild), ID(rule_kw)),
                          owner.token, NULL));
    ASSERT_EQ(400,
              ta_req(n.port, &r, "GET", P(API "/guilds/%llu/auto-moderation/rules/nope", ID(guild)),
                     owner.token, NULL));
    TA_ERR(&r, 400, 50035);
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}
