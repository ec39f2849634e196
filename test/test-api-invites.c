/* REST API tests, part three: invites (create, look up, accept, list, delete; max_uses
 * and max_age expiry) and private channels (DMs and group DMs, their messages, who
 * may see them). */
#include "test-api.h"

#define API "/api/v10"
#define ID(x) ((unsigned long long)(x))

static char path[256];

static const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *P(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return path;
}

TEST_IMPL(api_invites)
{
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t owner, a, b, c;
    uint64_t guild, channel;
    char once[32], brief[32], keep[32];

    ta_start(&n);
    ta_user(n.port, "iowner", &owner);
    ta_user(n.port, "ia", &a);
    ta_user(n.port, "ib", &b);
    ta_user(n.port, "ic", &c);
    guild = ta_guild(n.port, &owner, "Invited", &channel);

    /* One use. */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/invites", ID(channel)),
                          owner.token, "{\"max_age\": 0, \"max_uses\": 1}"));
    snprintf(once, sizeof(once), "%s", js(r.json, "code"));
    ASSERT_EQ(1, ji(r.json, "max_uses"));
    ASSERT_EQ(guild, jid(json_object_get(r.json, "guild"), "id"));
    ASSERT_EQ(owner.id, jid(json_object_get(r.json, "inviter"), "id"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/invites/%s", once), NULL, NULL));
    ASSERT_STR_EQ("Invited", js(json_object_get(r.json, "guild"), "name"));
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/invites/%s", once), a.token, "{}"));
    ASSERT_EQ(guild, jid(json_object_get(r.json, "guild"), "id"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu", ID(guild)), a.token, NULL));
    ASSERT_EQ(404, ta_req(n.port, &r, "POST", P(API "/invites/%s", once), b.token, "{}"));
    TA_ERR(&r, 404, 10006);
    ASSERT_EQ(404, ta_req(n.port, &r, "GET", P(API "/invites/%s", once), b.token, NULL));
    TA_ERR(&r, 404, 10006);
    ASSERT_EQ(403, ta_req(n.port, &r, "GET", P(API "/guilds/%llu", ID(guild)), b.token, NULL));

    /* One second of life. */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/invites", ID(channel)),
                          owner.token, "{\"max_age\": 1}"));
    snprintf(brief, sizeof(brief), "%s", js(r.json, "code"));
    ASSERT_EQ(1, ji(r.json, "max_age"));
    ASSERT_NOT_NULL(js(r.json, "expires_at"));
    usleep(1100 * 1000);
    ASSERT_EQ(404, ta_req(n.port, &r, "POST", P(API "/invites/%s", brief), b.token, "{}"));
    TA_ERR(&r, 404, 10006);

    /* Defaults (a day, unlimited); bad values; outsiders cannot make one. */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/invites", ID(channel)), a.token,
                          NULL));
    snprintf(keep, sizeof(keep), "%s", js(r.json, "code"));
    ASSERT_EQ(86400, ji(r.json, "max_age"));
    ASSERT_EQ(0, ji(r.json, "max_uses"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/invites", ID(channel)),
                          owner.token, "{\"max_age\": 604801, \"max_uses\": -1}"));
    ASSERT(ta_form_error(&r, "max_age") && ta_form_error(&r, "max_uses"));
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/channels/%llu/invites", ID(channel)), c.token,
                          "{}"));
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/invites/%s", keep), b.token, "{}"));
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/invites/%s", keep), b.token, "{}"));

    /* Lists: the live ones only. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/channels/%llu/invites", ID(channel)),
                          owner.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));
    ASSERT_STR_EQ(keep, js(json_array_get(r.json, 0), "code"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/guilds/%llu/invites", ID(guild)), owner.token,
                          NULL));
    ASSERT_EQ(1, json_array_size(r.json));

    /* Delete; then unknown. */
    ASSERT_EQ(200, ta_req(n.port, &r, "DELETE", P(API "/invites/%s", keep), owner.token, NULL));
    ASSERT_STR_EQ(keep, js(r.json, "code"));
    ASSERT_EQ(404, ta_req(n.port, &r, "POST", P(API "/invites/%s", keep), c.token, "{}"));
    TA_ERR(&r, 404, 10006);
    ASSERT_EQ(404, ta_req(n.port, &r, "GET", API "/invites/nosuchcode", c.token, NULL));
    TA_ERR(&r, 404, 10006);
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

TEST_IMPL(api_dms)
{
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t a, b, c, d;
    uint64_t dm, group, msg;

    ta_start(&n);
    ta_user(n.port, "dma", &a);
    ta_user(n.port, "dmb", &b);
    ta_user(n.port, "dmc", &c);
    ta_user(n.port, "dmd", &d);

    /* Opening twice finds the same channel, from either side. */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", API "/users/@me/channels", a.token,
                          "{\"recipient_id\": \"%llu\"}", ID(b.id)));
    dm = jid(r.json, "id");
    ASSERT_EQ(1, ji(r.json, "type"));
    ASSERT_EQ(b.id, jid(json_array_get(json_object_get(r.json, "recipients"), 0), "id"));
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", API "/users/@me/channels", b.token,
                          "{\"recipient_id\": %llu}", ID(a.id)));
    ASSERT_EQ(dm, jid(r.json, "id"));
    ASSERT_EQ(a.id, jid(json_array_get(json_object_get(r.json, "recipients"), 0), "id"));

    msg = ta_msg(n.port, &a, dm, "psst");
    ASSERT_EQ(200,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(dm)), b.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));
    ASSERT_EQ(msg, jid(json_array_get(r.json, 0), "id"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/channels/%llu", ID(dm)), b.token, NULL));
    ASSERT_EQ(1, ji(r.json, "type"));
    ASSERT_EQ(403,
              ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(dm)), c.token, NULL));
    TA_ERR(&r, 403, 50001);
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(dm)), c.token,
                          "{\"content\": \"me too\"}"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", API "/users/@me/channels", b.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));

    /* Bad recipients. */
    ASSERT_EQ(404, ta_req(n.port, &r, "POST", API "/users/@me/channels", a.token,
                          "{\"recipient_id\": \"1234567890123\"}"));
    TA_ERR(&r, 404, 10013);
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/users/@me/channels", a.token, "{}"));
    ASSERT(ta_form_error(&r, "recipient_id"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/users/@me/channels", a.token,
                          "{\"recipient_id\": \"bob\"}"));
    ASSERT(ta_form_error(&r, "recipient_id"));

    /* A group DM: its members see it, others do not. */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", API "/users/@me/channels", a.token,
                          "{\"recipients\": [\"%llu\", \"%llu\"], \"name\": \"trio\"}", ID(b.id),
                          ID(c.id)));
    group = jid(r.json, "id");
    ASSERT_EQ(3, ji(r.json, "type"));
    ASSERT_EQ(a.id, jid(r.json, "owner_id"));
    ta_msg(n.port, &c, group, "hello trio");
    ASSERT_EQ(
        200, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(group)), b.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));
    ASSERT_EQ(
        403, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(group)), d.token, NULL));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", API "/users/@me/channels", a.token,
                          "{\"recipients\": [1,2,3,4,5,6,7,8,9,10]}"));
    ASSERT(ta_form_error(&r, "recipients"));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}
