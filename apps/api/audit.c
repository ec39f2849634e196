/* GET /guilds/{guild_id}/audit-logs: the guild's audit log, filtered by user_id and
 * action_type, paged by before/after (entry ids), limit 1..100 (50 by default), newest
 * first, with the users the entries name.
 *
 * The hub says whether the caller has VIEW_AUDIT_LOG (CHECK_ACCESS with "need"); the
 * entries come from the store (store_audit_list), which the hubs fill as they act. */
#include "internal.h"

#include "store/moderation.h"

#define VIEW_AUDIT_LOG "128" /* 1 << 7 */
#define AUDIT_LIMIT_MAX 100
#define AUDIT_LIMIT_DEFAULT 50

/* j->a: the guild; the query's fields in j->b (user), j->flags (action type) and
 * j->page (before, after, limit), all in the job record (see api_job_t). */
static int64_t audit_list_job(store_t *s, void *arg)
{
    api_job_t *j = arg;
    store_audit_query_t q = {
        .user_id = j->b,
        .action_type = (int)j->flags,
        .before = j->page.before,
        .after = j->page.after,
        .limit = j->page.limit,
    };

    return store_audit_list(s, j->a, &q, &j->out);
}

static void audit_list(api_ctx_t *c)
{
    int64_t limit = AUDIT_LIMIT_DEFAULT, type = 0;
    api_form_t f = {0};
    uint64_t guild_id;
    api_job_t *j;
    json_t *need;
    int rc;

    if (!api_param_id(c, "guild_id", &guild_id))
        return;
    j = api_job_new();
    api_query_id(&f, c, "user_id", &j->b);
    api_query_int(&f, c, "action_type", 1, 255, &type);
    api_query_id(&f, c, "before", &j->page.before);
    api_query_id(&f, c, "after", &j->page.after);
    api_query_int(&f, c, "limit", 1, AUDIT_LIMIT_MAX, &limit);
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        goto out;
    }
    need = json_pack("{s:s}", "need", VIEW_AUDIT_LOG);
    if (!api_check_guild_with(c, guild_id, need)) {
        json_decref(need);
        goto out;
    }
    json_decref(need);
    j->a = guild_id;
    j->flags = (unsigned)type;
    j->page.limit = (int)limit;
    rc = api_job_run(audit_list_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10004);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
out:
    api_job_free(j);
}

const api_route_t api_audit_routes[] = {
    {"GET", "/guilds/{guild_id}/audit-logs", audit_list, API_AUTH},
    {NULL, NULL, NULL, 0},
};
