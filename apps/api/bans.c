/* /guilds/{guild_id}/bans: list (before/after user ids, limit 1..1000), get, ban (PUT,
 * with delete_message_seconds) and lift (DELETE).
 *
 * Reads ask the guild's hub whether the caller has BAN_MEMBERS (CHECK_ACCESS with
 * "need"), then read the store (apps/store/moderation.h). Writes go to the hub, which
 * checks BAN_MEMBERS and the hierarchy, ends the membership, deletes the recent
 * messages, fans GUILD_BAN_ADD/REMOVE out and audits with the X-Audit-Log-Reason. */
#include "internal.h"

#include "store/moderation.h"

#include <stdio.h>
#include <string.h>

#define BAN_LIST_MAX 1000
#define BAN_MEMBERS "4" /* 1 << 2: what reading bans needs, as on Discord */

/* ---- reads ----------------------------------------------------------------------------------- */

static int64_t ban_read_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    if (j->b == 0)
        return store_ban_list(s, j->a, &j->page, &j->out);
    return store_ban_get(s, j->a, j->b, &j->out);
}

/* Whether the caller may read guild_id's bans; answers if not. */
static bool may_read(api_ctx_t *c, uint64_t guild_id)
{
    json_t *need = json_pack("{s:s}", "need", BAN_MEMBERS);
    bool ok = api_check_guild_with(c, guild_id, need);

    json_decref(need);
    return ok;
}

/* Runs j (a list when j->b is 0, else one ban) and answers it. */
static void ban_read(api_ctx_t *c, api_job_t *j)
{
    int rc = api_job_run(ban_read_job, j);

    if (rc < 0) {
        api_store_error(c, rc, j->b != 0 ? 10026 : 10004);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
}

static void bans_list(api_ctx_t *c)
{
    int64_t limit = BAN_LIST_MAX;
    api_form_t f = {0};
    uint64_t guild_id;
    api_job_t *j;

    if (!api_param_id(c, "guild_id", &guild_id))
        return;
    j = api_job_new();
    api_query_int(&f, c, "limit", 1, BAN_LIST_MAX, &limit);
    api_query_id(&f, c, "before", &j->page.before);
    api_query_id(&f, c, "after", &j->page.after);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
    } else if (may_read(c, guild_id)) {
        j->a = guild_id;
        j->page.limit = (int)limit;
        ban_read(c, j);
    }
    api_job_free(j);
}

static void ban_get(api_ctx_t *c)
{
    uint64_t guild_id, user_id;
    api_job_t *j;

    if (!api_param_id(c, "guild_id", &guild_id) || !api_param_id(c, "user_id", &user_id) ||
        !may_read(c, guild_id))
        return;
    j = api_job_new();
    j->a = guild_id;
    j->b = user_id;
    ban_read(c, j);
    api_job_free(j);
}

/* ---- writes ---------------------------------------------------------------------------------- */

static void ban_op(api_ctx_t *c, hub_op_t op, json_t *args)
{
    uint64_t guild_id, user_id;
    hub_result_t r;

    if (!api_param_id(c, "guild_id", &guild_id) || !api_param_id(c, "user_id", &user_id))
        return;
    json_object_set_new(args, "user_id", api_id_json(user_id));
    api_reason(c, args);
    api_hub(c, HUB_GUILD, guild_id, op, args, &r);
    if (api_hub_failed(c, &r))
        return;
    hub_result_clear(&r);
    api_empty(c); /* 204 both ways, as Discord */
}

static void ban_add(api_ctx_t *c)
{
    static const api_field_spec_t specs[] = {
        {"delete_message_seconds", API_F_INT, 0, STORE_BAN_DELETE_MAX, false},
        {"delete_message_days", API_F_INT, 0, 7, false}, /* the older form */
    };
    api_form_t f = {0};
    json_t *args = json_object();

    api_fields_copy(&f, c->body, specs, sizeof(specs) / sizeof(specs[0]), args);
    if (!api_form_ok(&f))
        api_form_reply(c, &f);
    else
        ban_op(c, HUB_OP_BAN_ADD, args);
    json_decref(args);
}

static void ban_remove(api_ctx_t *c)
{
    json_t *args = json_object();

    ban_op(c, HUB_OP_BAN_REMOVE, args);
    json_decref(args);
}

const api_route_t api_ban_routes[] = {
    {"GET", "/guilds/{guild_id}/bans", bans_list, API_AUTH},
    {"GET", "/guilds/{guild_id}/bans/{user_id}", ban_get, API_AUTH},
    {"PUT", "/guilds/{guild_id}/bans/{user_id}", ban_add, API_AUTH | API_BODY},
    {"DELETE", "/guilds/{guild_id}/bans/{user_id}", ban_remove, API_AUTH},
    {NULL, NULL, NULL, 0},
};
