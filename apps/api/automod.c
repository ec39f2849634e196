/* /guilds/{guild_id}/auto-moderation/rules: list, create, get, modify, delete.
 *
 * Everything goes to the guild's hub, reads included: the hub holds the guild's
 * compiled rules, checks MANAGE_GUILD (and MODERATE_MEMBERS for a rule that times
 * out), and has apps/automod validate a body field by field (400/50035 with every
 * error named), so the body is passed as sent, with the X-Audit-Log-Reason as
 * "reason". Rules run in the hub on every message; a message they block is a 400 with
 * code 200000 from the message routes. */
#include "internal.h"

/* Sends op to guild_id's hub with args (plus "rule_id" when not 0, and "reason") and
 * answers its outcome. args is borrowed. */
static void rule_op(api_ctx_t *c, hub_op_t op, json_t *args, uint64_t rule_id, int status_ok)
{
    uint64_t guild_id;
    hub_result_t r;

    if (!api_param_id(c, "guild_id", &guild_id))
        return;
    /* Only the header names the reason, never a body field of the same name. */
    json_object_del(args, "reason");
    if (rule_id != 0)
        json_object_set_new(args, "rule_id", api_id_json(rule_id));
    api_reason(c, args);
    api_hub(c, HUB_GUILD, guild_id, op, args, &r);
    api_hub_reply(c, &r, status_ok);
}

/* The {rule_id} of the path: true with it, or false after answering 400. */
static bool rule_param(api_ctx_t *c, uint64_t *rule_id)
{
    return api_param_id(c, "rule_id", rule_id);
}

static void rules_list(api_ctx_t *c)
{
    json_t *args = json_object();

    rule_op(c, HUB_OP_AUTOMOD_LIST, args, 0, 200);
    json_decref(args);
}

static void rule_create(api_ctx_t *c)
{
    rule_op(c, HUB_OP_AUTOMOD_CREATE, c->body, 0, 200);
}

static void rule_get(api_ctx_t *c)
{
    uint64_t rule_id;
    json_t *args;

    if (!rule_param(c, &rule_id))
        return;
    args = json_object();
    rule_op(c, HUB_OP_AUTOMOD_GET, args, rule_id, 200);
    json_decref(args);
}

static void rule_modify(api_ctx_t *c)
{
    uint64_t rule_id;

    if (rule_param(c, &rule_id))
        rule_op(c, HUB_OP_AUTOMOD_MODIFY, c->body, rule_id, 200);
}

static void rule_delete(api_ctx_t *c)
{
    uint64_t rule_id;
    json_t *args;

    if (!rule_param(c, &rule_id))
        return;
    args = json_object();
    rule_op(c, HUB_OP_AUTOMOD_DELETE, args, rule_id, 204);
    json_decref(args);
}

#define RULES "/guilds/{guild_id}/auto-moderation/rules"

const api_route_t api_automod_routes[] = {
    {"GET", RULES, rules_list, API_AUTH},
    {"POST", RULES, rule_create, API_AUTH | API_BODY},
    {"GET", RULES "/{rule_id}", rule_get, API_AUTH},
    {"PATCH", RULES "/{rule_id}", rule_modify, API_AUTH | API_BODY},
    {"DELETE", RULES "/{rule_id}", rule_delete, API_AUTH},
    {NULL, NULL, NULL, 0},
};
