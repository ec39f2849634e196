/* The hub tree and the ways in: the supervisors, finding or starting a guild's or a
 * private channel's hub, hub_request, and the small public helpers.
 *
 * Tree: HUB_SUP_NAME (rest_for_one) -> [HUB_DIRECTORY_NAME (a server),
 * HUB_HUBS_NAME (simple_one_for_one over temporary hub processes)]. The directory
 * comes first: hubs send it notices, so a directory restart restarts the hubs too.
 *
 * Starting a hub exactly once: hub_guild_pid looks the name up; if it is free it asks
 * the hubs' supervisor for a child. The child start function runs inside the
 * supervisor, one at a time, and looks the name up again before spawning, and
 * registers the new hub under its name before it returns: of two racing starters the
 * second finds the first one's hub (its start declines with HEARTH_CHILD_IGNORE) and
 * looks the name up again. A hub that stops idle unregisters first and answers what is
 * still queued with "ask again", so hub_request retries on the next hub. */
#include "internal.h"

#include "hearth/supervisor.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hub_config_t hub__config = {HUB_DEFAULT_IDLE_MS, HUB_DEFAULT_CALL_TIMEOUT_MS};

void hub__main(void *arg); /* hub.c */

/* ---- the tree ---------------------------------------------------------------------------------
 */

static void hub_name(int kind, uint64_t id, char *buf, size_t size)
{
    snprintf(buf, size, "%s:%" PRIu64, kind == HUB_KIND_GUILD ? "guild" : "dm", id);
}

/* The hubs' template start: arg is the caller's hub_start_t (hub_pid frees it once
 * the supervisor answered); the new hub gets a copy of its own, which it frees. */
static int hub_child_start(void *arg, hearth_pid_t *out)
{
    const hub_start_t *req = arg;
    hub_start_t *st;
    char name[48];
    hearth_pid_t pid;
    int err;

    hub_name(req->kind, req->id, name, sizeof(name));
    if (hearth_whereis(name) != HEARTH_PID_NONE)
        return HEARTH_CHILD_IGNORE;
    st = malloc(sizeof(*st));
    if (st == NULL)
        abort();
    *st = *req;
    err = hearth_spawn_green(hub__main, st, HUB_STACK_SIZE,
                             HEARTH_SPAWN_LINK | HEARTH_SPAWN_TRAP_EXIT, &pid);
    if (err < 0) {
        free(st);
        return err;
    }
    /* Registered before the next start function runs: see the file comment. */
    if (hearth_register(name, pid) < 0) {
        hearth_exit_signal(pid, HEARTH_KILL);
        return HEARTH_CHILD_IGNORE;
    }
    *out = pid;
    return 0;
}

static int hubs_sup_start(void *arg, hearth_pid_t *out)
{
    static const hearth_child_spec_t tmpl = {
        .id = "hub", .start = hub_child_start, .restart = HEARTH_TEMPORARY, .shutdown = 5000};
    hearth_sup_flags_t f = {HEARTH_SIMPLE_ONE_FOR_ONE, 1000, 1, HUB_HUBS_NAME};

    (void)arg;
    return hearth_supervisor_start(&f, &tmpl, 1, HEARTH_SPAWN_LINK, out);
}

int hub_sup_child_start(void *arg, hearth_pid_t *out)
{
    static const hearth_server_child_t dir = {
        .cbs = &hub__directory_cbs, .flags = HEARTH_SPAWN_TRAP_EXIT, .name = HUB_DIRECTORY_NAME};
    static const hearth_child_spec_t kids[] = {
        {.id = "directory", .start = hearth_server_child_start, .arg = (void *)&dir},
        {.id = "hubs", .start = hubs_sup_start, .type = HEARTH_SUPERVISOR},
    };
    hearth_sup_flags_t f = {HEARTH_REST_FOR_ONE, 5, 10, HUB_SUP_NAME};
    const hub_config_t *cfg = arg;

    if (cfg != NULL) {
        hub__config = *cfg;
        if (hub__config.idle_ms <= 0)
            hub__config.idle_ms = HUB_DEFAULT_IDLE_MS;
        if (hub__config.call_timeout_ms <= 0)
            hub__config.call_timeout_ms = HUB_DEFAULT_CALL_TIMEOUT_MS;
    }
    return hearth_supervisor_start(&f, kids, 2, HEARTH_SPAWN_LINK, out);
}

/* ---- finding hubs ------------------------------------------------------------------------------
 */

static int64_t guild_exists_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_guild_get(s, j->a, NULL);
}

static int64_t channel_get_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_channel_get(s, j->a, 0, &j->out);
}

static int hub_pid(int kind, uint64_t id, hearth_pid_t *out)
{
    hub_start_t *st;
    char name[48];
    hearth_pid_t pid, sup;
    hub_job_t *j;
    int err, tries;

    hub_name(kind, id, name, sizeof(name));
    for (tries = 0; tries < 5; tries++) {
        pid = hearth_whereis(name);
        if (pid != HEARTH_PID_NONE) {
            *out = pid;
            return 0;
        }
        if (tries == 0 && kind == HUB_KIND_GUILD) {
            /* Only a guild that exists gets a hub (hub_private_pid checked its channel). */
            j = hub__job_new();
            j->a = id;
            err = hub__job_run(guild_exists_job, j);
            hub__job_free(j);
            if (err == STORE_ENOTFOUND)
                return HEARTH_ENOENT;
            if (err < 0)
                return err;
        }
        sup = hearth_whereis(HUB_HUBS_NAME);
        if (sup == HEARTH_PID_NONE)
            return HEARTH_ESRCH;
        st = malloc(sizeof(*st));
        if (st == NULL)
            abort();
        st->kind = kind;
        st->id = id;
        err = hearth_supervisor_start_dynamic(sup, st, &pid);
        /* The call waits without a timeout, so once it returns the supervisor has
         * run the start function or never will (it died): st is ours to free. */
        free(st);
        if (err < 0)
            return err;
        if (pid != HEARTH_PID_NONE) {
            *out = pid;
            return 0;
        }
        /* Declined: another starter's hub is there (or just stopped); look again. */
    }
    return HEARTH_EAGAIN;
}

int hub_guild_pid(uint64_t guild_id, hearth_pid_t *out)
{
    if (guild_id == 0)
        return HEARTH_ENOENT;
    return hub_pid(HUB_KIND_GUILD, guild_id, out);
}

int hub_private_pid(uint64_t channel_id, hearth_pid_t *out)
{
    char name[48];
    hub_job_t *j;
    int64_t type;
    int err;

    if (channel_id == 0)
        return HEARTH_ENOENT;
    hub_name(HUB_KIND_PRIVATE, channel_id, name, sizeof(name));
    if ((*out = hearth_whereis(name)) != HEARTH_PID_NONE)
        return 0;
    j = hub__job_new();
    j->a = channel_id;
    err = hub__job_run(channel_get_job, j);
    type = json_integer_value(json_object_get(j->out, "type"));
    hub__job_free(j);
    if (err == STORE_ENOTFOUND ||
        (err == 0 && type != STORE_CHANNEL_DM && type != STORE_CHANNEL_GROUP_DM))
        return HEARTH_ENOENT;
    if (err < 0)
        return err;
    return hub_pid(HUB_KIND_PRIVATE, channel_id, out);
}

/* Which hub a channel belongs to, remembered process-wide: channel id -> guild id, or
 * CHAN_PRIVATE. Channel ids are never reused and never move between guilds, so an
 * entry cannot go wrong: a deleted channel still leads to its guild's hub, which
 * answers Unknown Channel from its own state. Saves a store read per request. */
#define CHAN_PRIVATE UINT64_MAX
static pthread_mutex_t chan_lock = PTHREAD_MUTEX_INITIALIZER;
static u64map_t chan_owner;

/* The hub of a channel: its guild's, or its own private one. */
static int channel_hub(uint64_t channel_id, hearth_pid_t *out)
{
    hub_job_t *j;
    uint64_t owner = 0;
    bool known;
    int64_t type;
    int err;

    pthread_mutex_lock(&chan_lock);
    known = u64map_get(&chan_owner, channel_id, &owner);
    pthread_mutex_unlock(&chan_lock);
    if (!known) {
        j = hub__job_new();
        j->a = channel_id;
        err = hub__job_run(channel_get_job, j);
        owner = hub__json_id(json_object_get(j->out, "guild_id"));
        type = json_integer_value(json_object_get(j->out, "type"));
        hub__job_free(j);
        if (err == STORE_ENOTFOUND)
            return HEARTH_ENOENT;
        if (err < 0)
            return err;
        if (owner == 0) {
            if (type != STORE_CHANNEL_DM && type != STORE_CHANNEL_GROUP_DM)
                return HEARTH_ENOENT;
            owner = CHAN_PRIVATE;
        }
        pthread_mutex_lock(&chan_lock);
        u64map_put(&chan_owner, channel_id, owner);
        pthread_mutex_unlock(&chan_lock);
    }
    if (owner == CHAN_PRIVATE)
        return hub_pid(HUB_KIND_PRIVATE, channel_id, out);
    return hub_pid(HUB_KIND_GUILD, owner, out);
}

/* ---- requests -----------------------------------------------------------------------------------
 */

static void unpack_reply(hearth_msg_t *m, hub_result_t *out)
{
    hub_reply_t rep;
    const char *body;
    size_t blen;

    if (m->len < sizeof(rep)) {
        hub__err(out, 500, 0, "500: Internal Server Error");
        return;
    }
    memcpy(&rep, m->data, sizeof(rep));
    out->status = rep.status;
    out->code = rep.code;
    memcpy(out->message, rep.message, sizeof(out->message));
    out->message[sizeof(out->message) - 1] = '\0';
    body = (const char *)m->data + sizeof(rep);
    blen = m->len - sizeof(rep);
    out->body = blen ? json_loadb(body, blen, 0, NULL) : NULL;
}

void hub_request(hub_scope_t scope, uint64_t id, hub_op_t op, uint64_t actor_user_id,
                 const json_t *args, int64_t timeout_ms, hub_result_t *out)
{
    hub_req_t req = {.op = (uint32_t)op, .actor = actor_user_id};
    hearth_msg_t *m, *reply;
    json_t *a;
    char *text;
    size_t tlen;
    hearth_pid_t pid;
    int err, tries;

    memset(out, 0, sizeof(*out));
    if (timeout_ms <= 0)
        timeout_ms = hub__config.call_timeout_ms;

    /* The args travel as JSON text: processes share nothing. A channel-scoped request
     * names its channel in the args, as the ops expect. */
    a = json_is_object(args) ? json_copy((json_t *)args) : json_object();
    if (scope == HUB_CHANNEL && json_object_get(a, "channel_id") == NULL)
        json_object_set_new(a, "channel_id", hub__id_json(id));
    text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (text == NULL) {
        hub__err(out, 500, 0, "500: Internal Server Error");
        return;
    }
    tlen = strlen(text);

    for (tries = 0; tries < 4; tries++) {
        if (scope == HUB_GUILD)
            err = hub_guild_pid(id, &pid);
        else
            err = channel_hub(id, &pid);
        if (err == HEARTH_ENOENT) {
            if (scope == HUB_GUILD)
                hub__errc(out, 404, 10004);
            else
                hub__errc(out, 404, 10003);
            break;
        }
        if (err < 0) {
            hub__err(out, 503, 0, "503: Service Unavailable");
            break;
        }
        m = hearth_msg_new(HUB_TAG_REQUEST, sizeof(req) + tlen);
        memcpy(m->data, &req, sizeof(req));
        memcpy((char *)m->data + sizeof(req), text, tlen);
        err = hearth_call(pid, m, timeout_ms, &reply);
        if (err == HEARTH_ESRCH)
            continue; /* the hub stopped meanwhile: the next one answers */
        if (err < 0) {
            hub__err(out, 503, 0, "503: Service Unavailable");
            break;
        }
        unpack_reply(reply, out);
        hearth_msg_free(reply);
        if (out->status != 0)
            break;
        hub_result_clear(out); /* a stopping hub: ask the next one */
    }
    if (out->status == 0)
        hub__err(out, 503, 0, "503: Service Unavailable");
    free(text);
}

void hub_result_clear(hub_result_t *r)
{
    json_decref(r->body);
    memset(r, 0, sizeof(*r));
}

/* ---- the directory's public calls
 * ------------------------------------------------------------------ */

int hub_sessions_drain(void)
{
    hearth_pid_t dir = hearth_whereis(HUB_DIRECTORY_NAME);

    if (dir == HEARTH_PID_NONE)
        return HEARTH_ENOENT;
    return hearth_server_cast(dir, hearth_msg_int(HUB_TAG_DIR_DRAIN, 0));
}

int hub_sessions_count(uint64_t user_id)
{
    hearth_pid_t dir = hearth_whereis(HUB_DIRECTORY_NAME);
    hearth_msg_t *reply;
    int err;

    if (dir == HEARTH_PID_NONE)
        return HEARTH_ENOENT;
    err = hearth_server_call(dir, hearth_msg_copy(HUB_TAG_DIR_COUNT, &user_id, sizeof(user_id)),
                             5000, &reply);
    if (err < 0)
        return err;
    err = (int)(reply->len >= sizeof(int64_t) ? *(int64_t *)reply->data : 0);
    hearth_msg_free(reply);
    return err;
}

/* ---- names
 * ------------------------------------------------------------------------------------------ */

const char *hub_event_name(hub_event_t ev)
{
    static const char *const names[] = {
        [HUB_EV_GUILD_CREATE] = "GUILD_CREATE",
        [HUB_EV_GUILD_UPDATE] = "GUILD_UPDATE",
        [HUB_EV_GUILD_DELETE] = "GUILD_DELETE",
        [HUB_EV_CHANNEL_CREATE] = "CHANNEL_CREATE",
        [HUB_EV_CHANNEL_UPDATE] = "CHANNEL_UPDATE",
        [HUB_EV_CHANNEL_DELETE] = "CHANNEL_DELETE",
        [HUB_EV_GUILD_MEMBER_ADD] = "GUILD_MEMBER_ADD",
        [HUB_EV_GUILD_MEMBER_UPDATE] = "GUILD_MEMBER_UPDATE",
        [HUB_EV_GUILD_MEMBER_REMOVE] = "GUILD_MEMBER_REMOVE",
        [HUB_EV_GUILD_ROLE_CREATE] = "GUILD_ROLE_CREATE",
        [HUB_EV_GUILD_ROLE_UPDATE] = "GUILD_ROLE_UPDATE",
        [HUB_EV_GUILD_ROLE_DELETE] = "GUILD_ROLE_DELETE",
        [HUB_EV_MESSAGE_CREATE] = "MESSAGE_CREATE",
        [HUB_EV_MESSAGE_UPDATE] = "MESSAGE_UPDATE",
        [HUB_EV_MESSAGE_DELETE] = "MESSAGE_DELETE",
        [HUB_EV_MESSAGE_DELETE_BULK] = "MESSAGE_DELETE_BULK",
        [HUB_EV_MESSAGE_REACTION_ADD] = "MESSAGE_REACTION_ADD",
        [HUB_EV_MESSAGE_REACTION_REMOVE] = "MESSAGE_REACTION_REMOVE",
        [HUB_EV_MESSAGE_REACTION_REMOVE_ALL] = "MESSAGE_REACTION_REMOVE_ALL",
        [HUB_EV_MESSAGE_REACTION_REMOVE_EMOJI] = "MESSAGE_REACTION_REMOVE_EMOJI",
        [HUB_EV_TYPING_START] = "TYPING_START",
        [HUB_EV_PRESENCE_UPDATE] = "PRESENCE_UPDATE",
        [HUB_EV_INVITE_CREATE] = "INVITE_CREATE",
        [HUB_EV_INVITE_DELETE] = "INVITE_DELETE",
        [HUB_EV_GUILD_MEMBERS_CHUNK] = "GUILD_MEMBERS_CHUNK",
        [HUB_EV_GUILD_BAN_ADD] = "GUILD_BAN_ADD",
        [HUB_EV_GUILD_BAN_REMOVE] = "GUILD_BAN_REMOVE",
        [HUB_EV_GUILD_AUDIT_LOG_ENTRY_CREATE] = "GUILD_AUDIT_LOG_ENTRY_CREATE",
        [HUB_EV_AUTO_MODERATION_RULE_CREATE] = "AUTO_MODERATION_RULE_CREATE",
        [HUB_EV_AUTO_MODERATION_RULE_UPDATE] = "AUTO_MODERATION_RULE_UPDATE",
        [HUB_EV_AUTO_MODERATION_RULE_DELETE] = "AUTO_MODERATION_RULE_DELETE",
        [HUB_EV_AUTO_MODERATION_ACTION_EXECUTION] = "AUTO_MODERATION_ACTION_EXECUTION",
    };

    if ((unsigned)ev >= sizeof(names) / sizeof(names[0]) || names[ev] == NULL)
        return "UNKNOWN";
    return names[ev];
}
