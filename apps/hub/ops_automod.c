/* Auto-moderation in a guild hub: the rules' ops (/guilds/{id}/auto-moderation/rules)
 * and what happens when a rule fires on a message. apps/automod does the judging (rule
 * validation, the evaluator with its per-author spam history); this file is the hub's
 * side of automod.h's "How a hub uses it".
 *
 * The hub loads the guild's rules when it starts and keeps its evaluator in step with
 * every rule write. A message op asks hub__automod_check before writing: authors with
 * MANAGE_GUILD or ADMINISTRATOR are exempt, as on Discord. When a BLOCK_MESSAGE fired
 * the actions are carried out at once (there will be no message) and the op answers
 * 400/200000; else the op writes the message and then calls hub__automod_after with its
 * id. The actions: BLOCK_MESSAGE is the refusal itself; SEND_ALERT_MESSAGE posts the
 * type 24 alert in its channel; TIMEOUT sets the author's communication_disabled_until
 * (once, to the longest of the verdict); each is audited, and each action sends
 * AUTO_MODERATION_ACTION_EXECUTION to the sessions with the AUTO_MODERATION_EXECUTION
 * intent whose user has MANAGE_GUILD, with the content only for those with
 * MESSAGE_CONTENT. */
#include "internal.h"

#include "store/automod.h"
#include "store/moderation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading
 * ------------------------------------------------------------------------------------- */

static int64_t rules_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_automod_rule_list(s, j->a, &j->out);
}

void hub__automod_load(hub_t *h)
{
    hub_job_t *j = hub__job_new();

    h->am = automod_new(NULL);
    j->a = h->id;
    /* A store failure leaves the guild without rules until the hub restarts: messages
     * are not held up for it. */
    if (hub__job_run(rules_job, j) == 0)
        automod_rules_load(h->am, j->out);
    hub__job_free(j);
}

/* ---- the rules' ops
 * -------------------------------------------------------------------------------- */

static bool channel_exists(void *arg, uint64_t channel_id)
{
    return hub__channel(arg, channel_id) != NULL;
}

static bool role_exists(void *arg, uint64_t role_id)
{
    hub_t *h = arg;

    return perm_role_find(perm_cache_guild(h->perms), role_id) != NULL;
}

/* Whether a rule has a TIMEOUT action (which needs MODERATE_MEMBERS to set). */
static bool has_timeout(const json_t *rule)
{
    json_t *a;
    size_t i;

    json_array_foreach(json_object_get(rule, "actions"), i, a)
    {
        if (json_integer_value(json_object_get(a, "type")) == AUTOMOD_ACTION_TIMEOUT)
            return true;
    }
    return false;
}

/* a guild, b rule, c creator, params the rule; out the stored rule. i: 0 create, 1
 * update, 2 delete. */
static int64_t rule_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    switch (j->i) {
    case 0:
        return store_automod_rule_create(s, j->a, j->c, j->params, &j->out);
    case 1:
        return store_automod_rule_update(s, j->a, j->b, j->params, &j->out);
    default:
        return store_automod_rule_delete(s, j->a, j->b, &j->out);
    }
}

static void not_found(hub_result_t *res)
{
    hub__err(res, 404, 0, "404: Not Found");
}

static void fan_rule(hub_t *h, hub_event_t ev, json_t *rule)
{
    hub__fan_guild(h, ev, HUB_INTENT_AUTO_MODERATION_CONFIGURATION, PERM_MANAGE_GUILD, rule);
}

/* Create (old NULL) or modify (old: the rule as it is) with the body args. */
static void rule_write(hub_t *h, uint64_t actor, json_t *args, const json_t *old, hub_result_t *res)
{
    automod_refs_t refs = {channel_exists, role_exists, h};
    json_t *body, *rule = NULL, *errs = NULL, *changes = NULL;
    hub_job_t *j;
    uint64_t id;
    int rc;

    body = json_copy(args);
    json_object_del(body, "reason");
    json_object_del(body, "rule_id");
    rc = automod_rule_validate(body, old, &refs, &rule, &errs);
    json_decref(body);
    if (rc < 0) {
        hub__form_fail(res, errs);
        return;
    }
    if (has_timeout(rule) && !hub__check(h, actor, 0, PERM_MODERATE_MEMBERS, res)) {
        json_decref(rule);
        return;
    }
    if (automod_rule_admit(h->am, rule, &errs) < 0) {
        json_decref(rule);
        hub__form_fail(res, errs);
        return;
    }
    j = hub__job_new();
    j->a = h->id;
    j->b = old != NULL ? hub__json_id(json_object_get(old, "id")) : 0;
    j->c = actor;
    j->i = old != NULL;
    j->params = rule;
    rc = hub__job_run(rule_job, j);
    if (rc == STORE_ENOTFOUND && old != NULL) {
        not_found(res);
    } else if (rc < 0) {
        hub__store_err(res, rc, 10004);
    } else {
        id = hub__json_id(json_object_get(j->out, "id"));
        if (old != NULL)
            hub__diff(&changes, args, old, j->out);
        else
            hub__change(&changes, "name", NULL, json_object_get(j->out, "name"));
        automod_rule_set(h->am, j->out);
        fan_rule(h, old ? HUB_EV_AUTO_MODERATION_RULE_UPDATE : HUB_EV_AUTO_MODERATION_RULE_CREATE,
                 j->out);
        hub__audit(h, actor,
                   old ? STORE_AUDIT_AUTOMOD_RULE_UPDATE : STORE_AUDIT_AUTOMOD_RULE_CREATE, id,
                   changes, NULL, args);
        hub__ok(res, 200, json_incref(j->out));
    }
    json_decref(rule);
    hub__job_free(j);
}

static void op_rules(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res)
{
    const json_t *rule = NULL;
    json_t *old, *changes = NULL;
    uint64_t id = 0;
    hub_job_t *j;
    int rc;

    if (!hub__check(h, actor, 0, PERM_MANAGE_GUILD, res))
        return;
    if (op == HUB_OP_AUTOMOD_LIST) {
        hub__ok(res, 200, automod_rules_json(h->am));
        return;
    }
    if (op == HUB_OP_AUTOMOD_CREATE) {
        rule_write(h, actor, args, NULL, res);
        return;
    }
    if (hub__arg_id(args, "rule_id", &id) != 1 || (rule = automod_rule_get(h->am, id)) == NULL) {
        not_found(res);
        return;
    }
    switch (op) {
    case HUB_OP_AUTOMOD_GET:
        hub__ok(res, 200, json_deep_copy(rule));
        break;
    case HUB_OP_AUTOMOD_MODIFY:
        old = json_deep_copy(rule); /* the evaluator's copy goes with the update */
        rule_write(h, actor, args, old, res);
        json_decref(old);
        break;
    default:
        j = hub__job_new();
        j->a = h->id;
        j->b = id;
        j->i = 2;
        rc = hub__job_run(rule_job, j);
        if (rc == STORE_ENOTFOUND) {
            not_found(res);
        } else if (rc < 0) {
            hub__store_err(res, rc, 10004);
        } else {
            automod_rule_remove(h->am, id);
            fan_rule(h, HUB_EV_AUTO_MODERATION_RULE_DELETE, j->out);
            hub__change(&changes, "name", json_object_get(j->out, "name"), NULL);
            hub__audit(h, actor, STORE_AUDIT_AUTOMOD_RULE_DELETE, id, changes, NULL, args);
            hub__ok(res, 204, NULL);
        }
        hub__job_free(j);
        break;
    }
}

bool hub__op_automod(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res)
{
    if (h->kind != HUB_KIND_GUILD)
        return false;
    switch (op) {
    case HUB_OP_AUTOMOD_LIST:
    case HUB_OP_AUTOMOD_GET:
    case HUB_OP_AUTOMOD_CREATE:
    case HUB_OP_AUTOMOD_MODIFY:
    case HUB_OP_AUTOMOD_DELETE:
        op_rules(h, op, actor, args, res);
        return true;
    default:
        return false;
    }
}

/* ---- messages
 * ------------------------------------------------------------------------------------ */

bool hub__automod_check(hub_t *h, uint64_t author, uint64_t channel_id, const char *content,
                        size_t mention_count, bool edit, automod_verdict_t *v, automod_message_t *m,
                        hub_result_t *res)
{
    const perm_member_t *pm;

    memset(v, 0, sizeof(*v));
    memset(m, 0, sizeof(*m));
    if (h->kind != HUB_KIND_GUILD || h->am == NULL || automod_rule_count(h->am, 0) == 0)
        return true;
    if (hub__perms(h, author, 0) & (PERM_MANAGE_GUILD | PERM_ADMINISTRATOR))
        return true; /* exempt, as on Discord */
    m->author_id = author;
    m->channel_id = channel_id;
    m->content = content;
    m->mention_count = mention_count;
    m->now_ms = hub__now_ms();
    m->edit = edit;
    if ((pm = perm_cache_member(h->perms, author)) != NULL) {
        m->role_ids = pm->roles;
        m->nroles = pm->nroles;
    }
    automod_eval(h->am, m, v);
    /* The cache's array may go with the timeout below: the verdict needs it no more. */
    m->role_ids = NULL;
    m->nroles = 0;
    if (!v->block)
        return true;
    hub__automod_after(h, v, m, 0);
    hub__errc(res, 400, 200000);
    return false;
}

/* The audit options of an action's entry. */
static json_t *action_options(const automod_hit_t *hit, uint64_t channel_id)
{
    char type[16];

    /* Discord sends the trigger type here as a string. */
    snprintf(type, sizeof(type), "%d", hit->trigger_type);
    return json_pack("{s:s, s:s, s:o}", "auto_moderation_rule_name",
                     hit->rule_name ? hit->rule_name : "", "auto_moderation_rule_trigger_type",
                     type, "channel_id", hub__id_json(channel_id));
}

/* On the heap with everything the store reads (see hub_job_t). */
typedef struct alert_job {
    store_message_new_t m;
    json_t *embeds, *out;
} alert_job_t;

static int64_t alert_job(store_t *s, void *arg)
{
    alert_job_t *j = arg;

    return store_automod_alert_create(s, &j->m, &j->out);
}

/* Posts the alert of hit in channel_id: the message's id, or 0. */
static uint64_t post_alert(hub_t *h, const automod_hit_t *hit, const automod_message_t *m,
                           uint64_t channel_id, uint64_t message_id)
{
    json_t *doc, *c;
    alert_job_t *j;
    uint64_t id = 0;
    char key[21];

    if (hub__channel(h, channel_id) == NULL)
        return 0; /* a channel deleted since the rule was made alerts nowhere */
    doc = automod_alert_message_json(hit, m, snowflake_next(), message_id, message_id == 0);
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->embeds = json_incref(json_object_get(doc, "embeds"));
    j->m.channel_id = channel_id;
    j->m.author_id = m->author_id;
    j->m.content = "";
    j->m.embeds = j->embeds;
    if (store_call(alert_job, j) == 0 && j->out != NULL) {
        id = hub__json_id(json_object_get(j->out, "id"));
        c = json_object_get(h->channels, hub__key(channel_id, key));
        if (c != NULL)
            json_object_set(c, "last_message_id", json_object_get(j->out, "id"));
        hub__fan_message(h, HUB_EV_MESSAGE_CREATE, j->out, m->author_id);
    }
    json_decref(doc);
    json_decref(j->embeds);
    json_decref(j->out);
    free(j);
    return id;
}

/* Times the author out for seconds from now (the verdict's longest). */
static void time_out(hub_t *h, const automod_hit_t *hit, const automod_message_t *m,
                     int64_t seconds)
{
    char iso[STORE_TIMESTAMP_SIZE];
    json_t *p, *member, *changes = NULL;

    p = json_pack("{s:s}", "communication_disabled_until",
                  store_timestamp(hub__now_ms() + seconds * 1000, iso));
    if (hub__member_write(h, m->author_id, p, &member) == 0) {
        hub__change(&changes, "communication_disabled_until", NULL,
                    json_object_get(member, "communication_disabled_until"));
        hub__audit(h, m->author_id, STORE_AUDIT_AUTOMOD_USER_COMMUNICATION_DISABLED, m->author_id,
                   changes, action_options(hit, m->channel_id), NULL);
    }
    json_decref(p);
}

/* AUTO_MODERATION_ACTION_EXECUTION for action k of hit, in both content variants. */
static void fan_execution(hub_t *h, const automod_hit_t *hit, size_t k, const automod_message_t *m,
                          uint64_t message_id, uint64_t alert_id)
{
    hub_fan_t f;
    json_t *d;
    int with;

    for (with = 0; with < 2; with++) {
        memset(&f, 0, sizeof(f));
        f.ev = HUB_EV_AUTO_MODERATION_ACTION_EXECUTION;
        f.need = HUB_INTENT_AUTO_MODERATION_EXECUTION;
        f.guild_perm = PERM_MANAGE_GUILD;
        if (with)
            f.need_all = HUB_INTENT_MESSAGE_CONTENT;
        else
            f.lack = HUB_INTENT_MESSAGE_CONTENT;
        d = automod_event_json(h->id, hit, k, m, message_id, alert_id, with);
        hub__fanout(h, &f, d);
        json_decref(d);
    }
}

void hub__automod_after(hub_t *h, automod_verdict_t *v, const automod_message_t *m,
                        uint64_t message_id)
{
    const automod_action_t *a;
    const automod_hit_t *hit;
    uint64_t alert_id;
    bool timed = false;
    size_t i, k;

    for (i = 0; i < v->nhits; i++) {
        hit = &v->hits[i];
        for (k = 0; k < hit->nactions; k++) {
            a = &hit->actions[k];
            alert_id = 0;
            switch (a->type) {
            case AUTOMOD_ACTION_BLOCK_MESSAGE:
                hub__audit(h, m->author_id, STORE_AUDIT_AUTOMOD_BLOCK_MESSAGE, m->author_id, NULL,
                           action_options(hit, m->channel_id), NULL);
                break;
            case AUTOMOD_ACTION_SEND_ALERT_MESSAGE:
                alert_id = post_alert(h, hit, m, a->channel_id, message_id);
                if (alert_id != 0)
                    hub__audit(h, m->author_id, STORE_AUDIT_AUTOMOD_FLAG_TO_CHANNEL, m->author_id,
                               NULL, action_options(hit, a->channel_id), NULL);
                break;
            case AUTOMOD_ACTION_TIMEOUT:
                if (!timed && v->timeout_seconds > 0)
                    time_out(h, hit, m, v->timeout_seconds);
                timed = true;
                break;
            default:
                break;
            }
            fan_execution(h, hit, k, m, message_id, alert_id);
        }
    }
    automod_verdict_clear(v);
}
