/* IDENTIFY: the blocking part runs in a helper green thread, since the session is an
 * event process that must not wait: it looks the token up, loads the user (and the
 * bot's application), checks the intents, asks the identify limiter (bots: one
 * identify per 5 s per concurrency bucket and the daily session starts, when the
 * limiter process runs; refused: INVALID_SESSION, and the client identifies again
 * later on the same connection), lists the guilds (of this shard) and finds
 * or starts their hubs, then sends the session one GW_TAG_IDENTIFIED message. The
 * session (gw__identified) then names itself "session:<id>", sends READY, joins the
 * directory and subscribes to each hub; each hub's snapshot becomes a GUILD_CREATE.
 * The same kind of helper finds a hub again after it went down (gw__refind_hub). */
#include "internal.h"

#include "social/social.h"
#include "store/store.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application flags that grant privileged intents. */
#define APP_PRESENCE (1ULL << 12)
#define APP_PRESENCE_LIMITED (1ULL << 13)
#define APP_MEMBERS (1ULL << 14)
#define APP_MEMBERS_LIMITED (1ULL << 15)
#define APP_CONTENT (1ULL << 18)
#define APP_CONTENT_LIMITED (1ULL << 19)

/* Every intent Discord defines today (bits 0..25 but the retired 15..19 gaps are
 * fine to carry). */
#define ALL_INTENTS ((1ULL << 26) - 1)

#define HELPER_STACK ((size_t)128 << 10)

typedef struct ident_req {
    hearth_pid_t session;
    uint64_t intents;
    uint32_t shard_id, shard_count;
    bool has_intents;
    char token[];
} ident_req_t;

typedef struct ident_job {
    const char *token;
    uint64_t user_id;
    bool bot;
    json_t *user, *app, *guilds, *dms;
} ident_job_t;

static int64_t token_job(store_t *s, void *arg)
{
    ident_job_t *j = arg;
    int rc;

    rc = store_token_lookup(s, j->token, &j->user_id, &j->bot);
    if (rc < 0)
        return rc;
    rc = store_user_get(s, j->user_id, STORE_USER_PRIVATE, &j->user);
    if (rc < 0)
        return rc;
    if (j->bot && store_app_get(s, j->user_id, &j->app) < 0)
        j->app = NULL; /* a bot whose application is gone: no flags */
    return 0;
}

/* Every guild of the user (pages of 200), and its DMs for a user account. */
static int64_t guilds_job(store_t *s, void *arg)
{
    ident_job_t *j = arg;
    store_page_t pg = {0};
    json_t *page, *g;
    size_t i;
    int rc;

    j->guilds = json_array();
    pg.limit = 200;
    for (;;) {
        rc = store_user_guilds(s, j->user_id, &pg, &page);
        if (rc < 0)
            return rc;
        json_array_foreach(page, i, g) json_array_append(j->guilds, g);
        i = json_array_size(page);
        if (i < 200) {
            json_decref(page);
            break;
        }
        snowflake_parse(json_string_value(json_object_get(json_array_get(page, i - 1), "id")),
                        &pg.after);
        json_decref(page);
    }
    if (!j->bot && store_user_dms(s, j->user_id, &j->dms) < 0)
        j->dms = NULL;
    return 0;
}

static void answer(hearth_pid_t to, const gw_ident_res_t *res, const gw_guild_t *gs,
                   const char *json)
{
    size_t glen = res->nguilds * sizeof(gw_guild_t), jlen = json ? strlen(json) : 0;
    hearth_msg_t *m = hearth_msg_new(GW_TAG_IDENTIFIED, sizeof(*res) + glen + jlen);

    memcpy(m->data, res, sizeof(*res));
    if (glen)
        memcpy((char *)m->data + sizeof(*res), gs, glen);
    if (jlen)
        memcpy((char *)m->data + sizeof(*res) + glen, json, jlen);
    hearth_send(to, m);
}

/* Whether a bot may have its privileged intents. */
static bool privileged_ok(uint64_t intents, const json_t *app, size_t nguilds)
{
    uint64_t flags = (uint64_t)json_integer_value(json_object_get(app, "flags"));
    bool small = gw__config.privileged_policy == GW_PRIVILEGED_SMALL_BOTS && nguilds < 100;

    if ((intents & HUB_INTENT_GUILD_PRESENCES) && !small &&
        !(flags & (APP_PRESENCE | APP_PRESENCE_LIMITED)))
        return false;
    if ((intents & HUB_INTENT_GUILD_MEMBERS) && !small &&
        !(flags & (APP_MEMBERS | APP_MEMBERS_LIMITED)))
        return false;
    if ((intents & HUB_INTENT_MESSAGE_CONTENT) && !small &&
        !(flags & (APP_CONTENT | APP_CONTENT_LIMITED)))
        return false;
    return true;
}

static void identify_main(void *arg)
{
    ident_req_t *rq = arg;
    ident_job_t *j;
    gw_ident_res_t res;
    gw_guild_t *gs = NULL;
    json_t *g, *extra;
    char *text = NULL;
    size_t i;
    int rc;

    memset(&res, 0, sizeof(res));
    j = calloc(1, sizeof(*j)); /* off the stack: see store_call */
    if (j == NULL)
        abort();
    j->token = rq->token;
    rc = store_call(token_job, j);
    if (rc == STORE_EAUTH || rc == STORE_ENOTFOUND) {
        res.close_code = 4004;
        goto out;
    }
    if (rc < 0) {
        res.close_code = 4000;
        goto out;
    }
    res.user_id = j->user_id;
    res.bot = j->bot;
    if (j->bot && !rq->has_intents) {
        res.close_code = 4013;
        goto out;
    }
    /* Bots only, as Discord documents the limits (session_start_limit, max_concurrency):
     * a person's client opening tabs is not held back. */
    if (j->bot && !rl_call_identify(j->user_id, rq->shard_id, NULL)) {
        res.invalid_session = 1;
        goto out;
    }
    res.intents = j->bot
                      ? rq->intents
                      : (rq->has_intents ? rq->intents | HUB_INTENT_MESSAGE_CONTENT : ALL_INTENTS);
    rc = store_call(guilds_job, j);
    if (rc < 0) {
        res.close_code = 4000;
        goto out;
    }
    if (j->bot && rq->shard_count <= 1 && json_array_size(j->guilds) > 2500) {
        res.close_code = 4011; /* as Discord: a bot in more than 2500 guilds must shard */
        goto out;
    }
    if (j->bot && !privileged_ok(res.intents, j->app, json_array_size(j->guilds))) {
        res.close_code = 4014;
        goto out;
    }
    gs = calloc(json_array_size(j->guilds) + 1, sizeof(*gs));
    if (gs == NULL)
        abort();
    json_array_foreach(j->guilds, i, g)
    {
        uint64_t id = 0;
        if (snowflake_parse(json_string_value(json_object_get(g, "id")), &id) < 0)
            continue;
        /* Shard (guild_id >> 22) % num_shards gets the guild, as on Discord. */
        if (rq->shard_count > 1 && (id >> 22) % rq->shard_count != rq->shard_id)
            continue;
        gs[res.nguilds].guild_id = id;
        if (hub_guild_pid(id, &gs[res.nguilds].hub) < 0)
            gs[res.nguilds].hub = HEARTH_PID_NONE;
        res.nguilds++;
    }
    extra = json_object();
    json_object_set(extra, "user", j->user);
    if (j->bot)
        json_object_set_new(
            extra, "application",
            json_pack("{s:O, s:I}", "id",
                      j->app ? json_object_get(j->app, "id") : json_object_get(j->user, "id"),
                      "flags", (json_int_t)json_integer_value(json_object_get(j->app, "flags"))));
    if (!j->bot) {
        json_t *rels, *pres;

        social_ready(rq->session, j->user_id, &rels, &pres);
        json_object_set_new(extra, "relationships", rels);
        json_object_set_new(extra, "presences", pres);
    }
    json_object_set_new(extra, "private_channels",
                        j->dms != NULL && rq->shard_id == 0 ? json_incref(j->dms) : json_array());
    text = json_dumps(extra, JSON_COMPACT);
    json_decref(extra);
out:
    answer(rq->session, &res, gs, text);
    free(text);
    free(gs);
    json_decref(j->user);
    json_decref(j->app);
    json_decref(j->guilds);
    json_decref(j->dms);
    free(j);
    free(rq);
}

static unsigned char token_key[crypto_shorthash_KEYBYTES];
static pthread_once_t token_key_once = PTHREAD_ONCE_INIT;

static void token_key_make(void)
{
    gw__ensure_init(); /* sodium_init */
    randombytes_buf(token_key, sizeof(token_key));
}

uint64_t gw__token_tag(const char *token)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t tag;

    /* One random key per process: a RESUME's token must hash as IDENTIFY's did. */
    pthread_once(&token_key_once, token_key_make);
    if (strncmp(token, "Bot ", 4) == 0)
        token += 4;
    crypto_shorthash(out, (const unsigned char *)token, strlen(token), token_key);
    memcpy(&tag, out, sizeof(tag));
    return tag;
}

void gw__session_name(char *out, const char *sid, uint64_t token_tag)
{
    snprintf(out, 64, "session:%.32s.%016" PRIx64, sid, token_tag);
}

int gw__identify_start(gw_t *s, const char *token, bool has_intents, uint64_t intents)
{
    size_t n;
    ident_req_t *rq;
    int err;

    if (strncmp(token, "Bot ", 4) == 0)
        token += 4;
    n = strlen(token);
    rq = malloc(sizeof(*rq) + n + 1);
    if (rq == NULL)
        abort();
    rq->session = hearth_self();
    rq->intents = intents;
    rq->has_intents = has_intents;
    rq->shard_id = s->shard_id;
    rq->shard_count = s->shard_count;
    memcpy(rq->token, token, n + 1);
    err = hearth_spawn_green(identify_main, rq, HELPER_STACK, 0, NULL);
    if (err < 0)
        free(rq);
    return err;
}

/* ---- the session's side
 * --------------------------------------------------------------------------- */

void gw__subscribe(gw_t *s, gw_sub_t *sub)
{
    hub_subscribe_t req;

    memset(&req, 0, sizeof(req));
    req.user_id = s->user_id;
    req.intents = s->intents;
    req.form = s->form;
    req.ref = sub->guild_id;
    req.large_threshold = s->large_threshold;
    snprintf(req.status, sizeof(req.status), "%s", s->status);
    sub->mon = 0;
    hearth_monitor(sub->hub, &sub->mon);
    hearth_send(sub->hub, hearth_msg_copy(HUB_TAG_SUBSCRIBE, &req, sizeof(req)));
}

static json_t *unavailable(uint64_t guild_id)
{
    return json_pack("{s:o, s:b}", "id", gw__id_json(guild_id), "unavailable", 1);
}

int gw__identified(ws_conn_t *c, gw_t *s, hearth_msg_t *m)
{
    gw_ident_res_t res;
    const gw_guild_t *gs;
    hub_dir_join_t jn;
    hearth_pid_t dir;
    json_t *extra = NULL, *ready, *guilds, *acts = NULL;
    char name[64], sid[33];
    size_t glen;
    uint32_t i;

    if (s->state != GW_IDENTIFYING || m->len < sizeof(res))
        return 0;
    memcpy(&res, m->data, sizeof(res));
    glen = (size_t)res.nguilds * sizeof(gw_guild_t);
    if (m->len < sizeof(res) + glen)
        return HEARTH_EINVAL;
    if (res.close_code != 0) {
        gw__close(c, s, res.close_code, true);
        return 0;
    }
    if (res.invalid_session) {
        /* Not now: the client waits and identifies again (d false: not resumable). */
        s->state = GW_HELLO;
        gw__send_op(c, s, GW_OP_INVALID_SESSION, json_false());
        return 0;
    }
    gs = (const gw_guild_t *)((const char *)m->data + sizeof(res));
    extra = json_loadb((const char *)m->data + sizeof(res) + glen, m->len - sizeof(res) - glen, 0,
                       NULL);

    /* A name others can find it by for a RESUME: session:<32 hex digits>. */
    for (i = 0; i < 4; i++) {
        randombytes_buf(s->sid, sizeof(s->sid));
        snprintf(sid, sizeof(sid), "%016" PRIx64 "%016" PRIx64, s->sid[0], s->sid[1]);
        gw__session_name(name, sid, s->token_tag);
        if (hearth_register(name, hearth_self()) == 0)
            break;
    }
    s->user_id = res.user_id;
    s->intents = res.intents;
    if (res.bot)
        s->flags |= GW_F_BOT;
    s->state = GW_READY;

    guilds = json_array();
    s->subs = res.nguilds ? calloc(res.nguilds, sizeof(*s->subs)) : NULL;
    s->capsubs = (uint16_t)res.nguilds;
    for (i = 0; i < res.nguilds; i++)
        json_array_append_new(guilds, unavailable(gs[i].guild_id));
    /* A person's relationships and friends' presences (apps/social); none for bots. */
    if (!json_is_array(json_object_get(extra, "relationships")))
        json_object_set_new(extra, "relationships", json_array());
    if (!json_is_array(json_object_get(extra, "presences")))
        json_object_set_new(extra, "presences", json_array());
    ready = json_pack("{s:i, s:O, s:o, s:s, s:s, s:O, s:O, s:O, s:o, s:o, s:o, s:s, s:[s]}", "v",
                      10, "user", json_object_get(extra, "user"), "guilds", guilds, "session_id",
                      sid, "resume_gateway_url", s->pending ? s->pending->url : "", "relationships",
                      json_object_get(extra, "relationships"), "private_channels",
                      json_object_get(extra, "private_channels"), "presences",
                      json_object_get(extra, "presences"), "user_settings", json_object(),
                      "guild_join_requests", json_array(), "geo_ordered_rtc_regions", json_array(),
                      "session_type", "normal", "_trace", "hearth");
    if (json_object_get(extra, "application") != NULL)
        json_object_set(ready, "application", json_object_get(extra, "application"));
    if (s->shard_count > 0)
        json_object_set_new(ready, "shard", json_pack("[i, i]", s->shard_id, s->shard_count));
    if (json_object_get(ready, "private_channels") == NULL)
        json_object_set_new(ready, "private_channels", json_array());
    s->seq = 1;
    s->floor = 1;
    gw__send_dispatch_doc(c, s, "READY", 1, ready);

    dir = hearth_whereis(HUB_DIRECTORY_NAME);
    if (dir != HEARTH_PID_NONE) {
        memset(&jn, 0, sizeof(jn));
        jn.user_id = s->user_id;
        jn.intents = s->intents;
        jn.form = s->form;
        jn.shard_id = s->shard_id;
        jn.shard_count = s->shard_count ? s->shard_count : 1;
        hearth_server_cast(dir, hearth_msg_copy(HUB_TAG_DIR_JOIN, &jn, sizeof(jn)));
    }
    if (s->pending != NULL && s->pending->activities != NULL)
        acts = json_loads(s->pending->activities, 0, NULL);
    if (!res.bot)
        social_session_presence(s->user_id, s->form, s->status, acts);
    for (i = 0; i < res.nguilds; i++) {
        if (gs[i].hub == HEARTH_PID_NONE) {
            gw__dispatch_local(c, s, HUB_EV_GUILD_DELETE, unavailable(gs[i].guild_id));
            continue;
        }
        gw_sub_t *sub = &s->subs[s->nsubs++];
        sub->guild_id = gs[i].guild_id;
        sub->hub = gs[i].hub;
        gw__subscribe(s, sub);
        if (json_array_size(acts) > 0) {
            /* IDENTIFY's activities follow the subscription (its status went with it). */
            hub_presence_t p;
            char *text = json_dumps(acts, JSON_COMPACT);
            size_t tl = text ? strlen(text) : 0;
            hearth_msg_t *pm = hearth_msg_new(HUB_TAG_PRESENCE, sizeof(p) + tl);
            memset(&p, 0, sizeof(p));
            p.user_id = s->user_id;
            snprintf(p.status, sizeof(p.status), "%s", s->status);
            memcpy(pm->data, &p, sizeof(p));
            memcpy((char *)pm->data + sizeof(p), text, tl);
            free(text);
            hearth_send(sub->hub, pm);
        }
    }
    json_decref(acts);
    json_decref(extra);
    if (s->pending != NULL) {
        free(s->pending->activities);
        free(s->pending);
        s->pending = NULL;
    }
    return 0;
}

/* ---- finding a hub again
 * ------------------------------------------------------------------------------ */

typedef struct refind {
    hearth_pid_t session;
    uint64_t guild_id;
} refind_t;

static void refind_main(void *arg)
{
    refind_t r = *(refind_t *)arg;
    gw_hubpid_t res;

    free(arg);
    res.guild_id = r.guild_id;
    if (hub_guild_pid(r.guild_id, &res.hub) < 0)
        res.hub = HEARTH_PID_NONE;
    hearth_send(r.session, hearth_msg_copy(GW_TAG_HUBPID, &res, sizeof(res)));
}

void gw__refind_hub(uint64_t guild_id)
{
    refind_t *r = malloc(sizeof(*r));
    gw_hubpid_t res;

    if (r == NULL)
        abort();
    r->session = hearth_self();
    r->guild_id = guild_id;
    if (hearth_spawn_green(refind_main, r, HELPER_STACK, 0, NULL) < 0) {
        free(r);
        res.guild_id = guild_id;
        res.hub = HEARTH_PID_NONE;
        hearth_send(hearth_self(), hearth_msg_copy(GW_TAG_HUBPID, &res, sizeof(res)));
    }
}
