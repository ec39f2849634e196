/* Member ops of a guild hub: joining (invites, bots), leaving and kicks, modifying a
 * member (nickname, roles, mute, deafen, timeouts), giving and taking one role, and
 * bans.
 *
 * Every change goes to the store first, then into the hub's state and its permission
 * cache (so the member's next request and the next fan-out see it), then out as
 * events, then into the audit log. Who may do what is hub.h's: the permission, and for
 * acting on another member the hierarchy (hub__above_member). A member that leaves,
 * is kicked or banned loses its subscriptions (its sessions get GUILD_DELETE).
 *
 * A bot authorized with permissions gets its managed role in the same store
 * transaction as its membership (Discord's bot role: named after it, tags.bot_id);
 * nobody gives or takes a managed role, and the store deletes it with the bot's
 * membership, after which the hub reloads its roles (GUILD_ROLE_DELETE). */
#include "internal.h"

#include "store/moderation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MAX_MS (28LL * 24 * 3600 * 1000) /* Discord: at most 28 days ahead */

/* ---- shared
 * -------------------------------------------------------------------------------------- */

static int64_t member_modify_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_member_modify(s, j->a, j->b, j->params, &j->out);
}

int hub__member_write(hub_t *h, uint64_t user_id, const json_t *params, json_t **out)
{
    hub_job_t *j = hub__job_new();
    char key[21];
    json_t *d;
    int rc;

    j->a = h->id;
    j->b = user_id;
    j->params = params;
    rc = hub__job_run(member_modify_job, j);
    if (rc == 0) {
        json_object_set(h->members, hub__key(user_id, key), j->out);
        hub__perm_member(h, j->out);
        hub__snap_invalidate(h, true);
        d = hub__member_event(h, j->out);
        hub__fan_guild(h, HUB_EV_GUILD_MEMBER_UPDATE, HUB_INTENT_GUILD_MEMBERS, 0, d);
        json_decref(d);
        if (out != NULL)
            *out = json_object_get(h->members, key);
    }
    hub__job_free(j);
    return rc;
}

static int64_t role_list_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_role_list(s, j->a, &j->out2);
}

/* Whether user_id has a managed role here (a bot's, tags.bot_id). */
static bool has_bot_role(hub_t *h, uint64_t user_id)
{
    json_t *r;
    size_t i;

    json_array_foreach(json_object_get(h->guild, "roles"), i, r)
    {
        if (hub__json_id(json_object_get(json_object_get(r, "tags"), "bot_id")) == user_id)
            return true;
    }
    return false;
}

/* A member is gone from the guild (left, kicked, banned): out of the state and the
 * cache; its sessions get GUILD_DELETE and are dropped; the others hear
 * GUILD_MEMBER_REMOVE. A bot's managed role went with it in the store: the roles are
 * read back so the cache and clients lose it too (GUILD_ROLE_DELETE). */
static void member_gone(hub_t *h, uint64_t user_id)
{
    json_t *member = hub__member(h, user_id), *d;
    char key[21];

    if (member == NULL)
        return;
    d = json_pack("{s:o, s:O}", "guild_id", hub__id_json(h->id), "user",
                  json_object_get(member, "user"));
    json_object_del(h->members, hub__key(user_id, key));
    perm_cache_remove_member(h->perms, user_id);
    hub__snap_invalidate(h, false);
    hub__unsubscribe_user(h, user_id, true);
    hub__presence_gone(h, user_id);
    hub__fan_guild(h, HUB_EV_GUILD_MEMBER_REMOVE, HUB_INTENT_GUILD_MEMBERS, 0, d);
    json_decref(d);
    if (has_bot_role(h, user_id)) {
        hub_job_t *j = hub__job_new();
        j->a = h->id;
        if (hub__job_run(role_list_job, j) == 0) {
            hub__roles_replace(h, j->out2); /* takes it */
            j->out2 = NULL;
        }
        hub__job_free(j);
    }
}

/* {"id", "name"} of a role, as MEMBER_ROLE_UPDATE's $add and $remove list them. */
static json_t *role_ref(hub_t *h, uint64_t role_id)
{
    json_t *r, *o = json_pack("{s:o}", "id", hub__id_json(role_id));
    size_t i;

    json_array_foreach(json_object_get(h->guild, "roles"), i, r)
    {
        if (hub__json_id(json_object_get(r, "id")) == role_id)
            json_object_set(o, "name", json_object_get(r, "name"));
    }
    return o;
}

static bool role_known(hub_t *h, uint64_t role_id)
{
    return role_id != h->id && perm_role_find(perm_cache_guild(h->perms), role_id) != NULL;
}

/* Whether role_id is managed (a bot's role): only the server gives or takes those. */
static bool role_managed(hub_t *h, uint64_t role_id)
{
    json_t *r;
    size_t i;

    json_array_foreach(json_object_get(h->guild, "roles"), i, r)
    {
        if (hub__json_id(json_object_get(r, "id")) == role_id)
            return json_is_true(json_object_get(r, "managed"));
    }
    return false;
}

/* Whether the array of ids list holds id. */
static bool has_id(const json_t *list, uint64_t id)
{
    json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
    {
        if (hub__json_id(v) == id)
            return true;
    }
    return false;
}

static bool has_role(const json_t *member, uint64_t role_id)
{
    return has_id(json_object_get(member, "roles"), role_id);
}

/* ---- join
 * ----------------------------------------------------------------------------------------- */

/* A new bot member with the permissions its authorizer asked for (j->d): its managed
 * role, in the member's transaction so neither stands without the other; j->out is
 * read again (it has the role), j->out2 gets every role. Returns rc, or the error. */
static int member_add_bot(store_t *s, hub_job_t *j)
{
    int rc;

    rc = store_tx_begin(s);
    if (rc < 0)
        return rc;
    rc = store_member_add(s, j->a, j->b, &j->out);
    if (rc != 0 || !json_is_true(json_object_get(json_object_get(j->out, "user"), "bot")))
        goto done; /* a member already keeps what it has; people get no managed role */
    rc = store_role_create_managed(s, j->a, j->b, j->d, NULL);
    if (rc == STORE_EEXIST)
        rc = 0;
    if (rc == 0) {
        json_decref(j->out);
        j->out = NULL;
        rc = store_member_get(s, j->a, j->b, &j->out);
    }
    if (rc == 0)
        rc = store_role_list(s, j->a, &j->out2);
done:
    if (rc < 0) {
        store_tx_rollback(s);
        return rc;
    }
    rc = store_tx_commit(s) < 0 ? STORE_EIO : rc;
    return rc;
}

/* j->a guild, j->b user, j->str invite code or NULL, j->d a bot's permissions (0:
 * none); j->c set when the user is banned. */
static int64_t member_add_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;
    int rc, got;

    rc = store_ban_check(s, j->a, j->b);
    if (rc == 0) {
        j->c = 1;
        return STORE_EPERM;
    }
    if (rc != STORE_ENOTFOUND)
        return rc;
    if (j->str != NULL) {
        rc = store_invite_use(s, j->str, j->b, &j->out2);
        if (rc < 0)
            return rc;
        got = store_member_get(s, j->a, j->b, &j->out);
        return got < 0 ? got : rc;
    }
    if (j->d != 0)
        return member_add_bot(s, j);
    return store_member_add(s, j->a, j->b, &j->out);
}

static void op_member_add(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    const char *code = json_string_value(json_object_get(args, "code"));
    hearth_pid_t dir;
    hub_dir_notify_t nt;
    hub_joined_t jn;
    hearth_msg_t *m;
    json_t *d;
    json_t *v, *errs = NULL;
    hub_job_t *j;
    uint64_t uid = 0, perms = 0;
    char key[21];
    bool fresh;
    int rc;

    if (hub__arg_id(args, "user_id", &uid) != 1) {
        hub__errc(res, 404, 10013);
        return;
    }
    /* The one joining (with an invite's code), or one who may manage the guild adding
     * someone (a bot it authorizes). */
    if (uid != actor && !hub__check(h, actor, 0, PERM_MANAGE_GUILD, res))
        return;
    /* The permissions a bot is authorized with become its managed role's; like a role
     * the authorizer creates, they must be its own (Discord's authorize page offers no
     * others). */
    v = json_object_get(args, "permissions");
    if (v != NULL && !json_is_null(v) && code == NULL && uid != actor) {
        if (perm_parse_json(v, &perms) < 0) {
            hub__form_error(&errs, "permissions", "NUMBER_TYPE_COERCE", "Value is not int.");
            hub__form_fail(res, errs);
            return;
        }
        perms &= PERM_ALL;
        if (perms != 0 && !perm_can_grant(hub__perms(h, actor, 0), perms)) {
            hub__errc(res, 403, 50013);
            return;
        }
    }
    j = hub__job_new();
    j->a = h->id;
    j->b = uid;
    j->str = code;
    j->d = perms;
    rc = hub__job_run(member_add_job, j);
    if (j->c) {
        hub__errc(res, 403, 40007);
        goto out;
    }
    if (rc == STORE_ENOTFOUND && code != NULL) {
        hub__errc(res, 404, 10006);
        goto out;
    }
    if (rc < 0) {
        hub__store_err(res, rc, 10013);
        goto out;
    }
    /* New to this hub, even if the store had it already (an invite REST accepted
     * itself): cache it and tell everyone. */
    fresh = !hub__is_member(h, uid) && j->out != NULL;
    if (code == NULL && j->out2 != NULL) {
        /* The bot's new role first, so the cache knows it when the member names it. */
        hub__roles_replace(h, j->out2);
        j->out2 = NULL;
    }
    if (fresh) {
        json_object_set(h->members, hub__key(uid, key), j->out);
        hub__perm_member(h, j->out);
        hub__snap_invalidate(h, false);
        d = hub__member_event(h, j->out);
        hub__fan_guild(h, HUB_EV_GUILD_MEMBER_ADD, HUB_INTENT_GUILD_MEMBERS, 0, d);
        json_decref(d);
        if (uid != actor && json_is_true(json_object_get(json_object_get(j->out, "user"), "bot")))
            hub__audit(h, actor, STORE_AUDIT_BOT_ADD, uid, NULL, NULL, args);
    }
    /* The member's live sessions that are not subscribed yet subscribe and get
     * GUILD_CREATE (a new member; or the owner of a guild REST just created, which
     * then calls MEMBER_ADD for it: see hub.h). */
    dir = hearth_whereis(HUB_DIRECTORY_NAME);
    if (dir != HEARTH_PID_NONE && !u64map_get(&h->user_subs, uid, NULL)) {
        nt.user_id = uid;
        nt.tag = HUB_TAG_JOINED;
        jn.guild_id = h->id;
        jn.hub = hearth_self();
        m = hearth_msg_new(HUB_TAG_DIR_NOTIFY, sizeof(nt) + sizeof(jn));
        memcpy(m->data, &nt, sizeof(nt));
        memcpy((char *)m->data + sizeof(nt), &jn, sizeof(jn));
        hearth_server_cast(dir, m);
    }
    if (code != NULL) {
        hub__ok(res, 200, j->out2);
        j->out2 = NULL;
    } else if (fresh) {
        hub__ok(res, 201, j->out);
        j->out = NULL;
    } else {
        hub__ok(res, 204, NULL);
    }
out:
    hub__job_free(j);
}

/* ---- leave, kick
 * ------------------------------------------------------------------------------------ */

static int64_t member_remove_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_member_remove(s, j->a, j->b);
}

static void op_member_remove(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    hub_job_t *j;
    uint64_t uid = 0;
    bool kick;
    int rc;

    if (hub__arg_id(args, "user_id", &uid) != 1) {
        hub__errc(res, 404, 10013);
        return;
    }
    kick = uid != actor;
    if (!hub__check(h, actor, 0, kick ? PERM_KICK_MEMBERS : 0, res))
        return;
    if (uid == h->owner_id) {
        /* The owner cannot leave (transfer or delete instead), nor be kicked. */
        if (kick)
            hub__errc(res, 403, 50013);
        else
            hub__errc(res, 400, 50055);
        return;
    }
    if (!hub__is_member(h, uid)) {
        hub__errc(res, 404, 10007);
        return;
    }
    if (kick && !hub__above_member(h, actor, uid)) {
        hub__errc(res, 403, 50013);
        return;
    }
    j = hub__job_new();
    j->a = h->id;
    j->b = uid;
    rc = hub__job_run(member_remove_job, j);
    hub__job_free(j);
    if (rc < 0) {
        hub__store_err(res, rc, 10007);
        return;
    }
    member_gone(h, uid);
    if (kick)
        hub__audit(h, actor, STORE_AUDIT_MEMBER_KICK, uid, NULL, NULL, args);
    hub__ok(res, 204, NULL);
}

/* ---- modify
 * --------------------------------------------------------------------------------------- */

/* A member modify's body checked, field by field: the store's params in *params (a new
 * object), the permission bits it needs in *need, whether it acts on the hierarchy
 * (another member, or a timeout) in *over, the roles it adds and removes. Returns the
 * form errors, or NULL; *denied when a role is not the actor's to give or take, or the
 * target may not be timed out. */
static json_t *modify_fields(hub_t *h, uint64_t actor, uint64_t uid, const json_t *member,
                             const json_t *args, json_t *params, uint64_t *need, bool *over,
                             json_t *added, json_t *removed, bool *denied)
{
    json_t *errs = NULL, *v, *r;
    int64_t until, now = hub__now_ms();
    uint64_t id;
    size_t i;

    *over = uid != actor;
    if ((v = json_object_get(args, "nick")) != NULL) {
        if (!json_is_null(v) && (!json_is_string(v) || json_string_length(v) > 32))
            hub__form_error(&errs, "nick", "BASE_TYPE_MAX_LENGTH",
                            "Must be 32 or fewer in length.");
        *need |= uid == actor ? PERM_CHANGE_NICKNAME : PERM_MANAGE_NICKNAMES;
        json_object_set(params, "nick",
                        json_is_string(v) && json_string_length(v) == 0 ? json_null() : v);
    }
    if ((v = json_object_get(args, "roles")) != NULL && !json_is_null(v)) {
        *need |= PERM_MANAGE_ROLES;
        if (!json_is_array(v)) {
            hub__form_error(&errs, "roles", "BASE_TYPE_LIST", "Must be a list.");
        } else {
            json_t *ids = json_array();
            json_array_foreach(v, i, r)
            {
                id = hub__json_id(r);
                if (id == h->id)
                    continue; /* @everyone is implied */
                if (!role_known(h, id)) {
                    hub__form_error(&errs, "roles", "GUILD_MEMBER_ROLE_INVALID", "Unknown role");
                    continue;
                }
                json_array_append_new(ids, hub__id_json(id));
                if (!has_role(member, id))
                    json_array_append_new(added, role_ref(h, id));
            }
            json_array_foreach(json_object_get(member, "roles"), i, r)
            {
                id = hub__json_id(r);
                if (!has_id(ids, id))
                    json_array_append_new(removed, role_ref(h, id));
            }
            /* Every role given or taken must be below the actor's highest, and not
             * managed (a bot's role is the server's to give). */
            json_array_foreach(added, i, r)
            {
                id = hub__json_id(json_object_get(r, "id"));
                *denied |= !hub__above_role(h, actor, id) || role_managed(h, id);
            }
            json_array_foreach(removed, i, r)
            {
                id = hub__json_id(json_object_get(r, "id"));
                *denied |= !hub__above_role(h, actor, id) || role_managed(h, id);
            }
            json_object_set_new(params, "roles", ids);
        }
    }
    if ((v = json_object_get(args, "mute")) != NULL) {
        if (!json_is_boolean(v))
            hub__form_error(&errs, "mute", "BASE_TYPE_BOOLEAN", "Must be either true or false.");
        *need |= PERM_MUTE_MEMBERS;
        json_object_set(params, "mute", v);
    }
    if ((v = json_object_get(args, "deaf")) != NULL) {
        if (!json_is_boolean(v))
            hub__form_error(&errs, "deaf", "BASE_TYPE_BOOLEAN", "Must be either true or false.");
        *need |= PERM_DEAFEN_MEMBERS;
        json_object_set(params, "deaf", v);
    }
    if ((v = json_object_get(args, "communication_disabled_until")) != NULL) {
        *need |= PERM_MODERATE_MEMBERS;
        *over = true; /* never on oneself */
        until = 0;
        if (!json_is_null(v) &&
            (!json_is_string(v) || perm_iso_ms(json_string_value(v), &until) < 0))
            hub__form_error(&errs, "communication_disabled_until", "DATE_TYPE_PARSE",
                            "Could not parse the timestamp.");
        else if (!json_is_null(v) && until > now + TIMEOUT_MAX_MS)
            hub__form_error(&errs, "communication_disabled_until", "COMMUNICATION_DISABLED_MAX",
                            "Timeouts can be at most 28 days in the future.");
        /* Discord never times out an administrator (or the owner). */
        if (!json_is_null(v) && (hub__perms(h, uid, 0) & PERM_ADMINISTRATOR))
            *denied = true;
        json_object_set(params, "communication_disabled_until", v);
    }
    return errs;
}

/* The audit entries of a member modify: MEMBER_UPDATE for nick, mute, deaf and the
 * timeout; MEMBER_ROLE_UPDATE for roles. */
static void modify_audit(hub_t *h, uint64_t actor, uint64_t uid, const json_t *before,
                         const json_t *after, const json_t *params, json_t *added, json_t *removed,
                         const json_t *args)
{
    static const char *const keys[] = {"nick", "mute", "deaf", "communication_disabled_until"};
    json_t *changes = NULL, *o, *n;
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (json_object_get(params, keys[i]) == NULL)
            continue;
        o = json_object_get(before, keys[i]);
        n = json_object_get(after, keys[i]);
        if (o != NULL && n != NULL && json_equal(o, n))
            continue;
        hub__change(&changes, keys[i], json_is_null(o) ? NULL : o, json_is_null(n) ? NULL : n);
    }
    if (changes != NULL)
        hub__audit(h, actor, STORE_AUDIT_MEMBER_UPDATE, uid, changes, NULL, args);
    changes = NULL;
    if (json_array_size(added) > 0)
        hub__change(&changes, "$add", NULL, added);
    if (json_array_size(removed) > 0)
        hub__change(&changes, "$remove", NULL, removed);
    if (changes != NULL)
        hub__audit(h, actor, STORE_AUDIT_MEMBER_ROLE_UPDATE, uid, changes, NULL, args);
}

static void op_member_modify(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *params, *errs, *member, *before, *after, *added, *removed;
    uint64_t uid = 0, need = 0;
    bool over = false, denied = false;
    int rc;

    if (hub__arg_id(args, "user_id", &uid) != 1) {
        hub__errc(res, 404, 10013);
        return;
    }
    if (!hub__check(h, actor, 0, 0, res))
        return;
    if ((member = hub__member(h, uid)) == NULL) {
        hub__errc(res, 404, 10007);
        return;
    }
    params = json_object();
    added = json_array();
    removed = json_array();
    errs =
        modify_fields(h, actor, uid, member, args, params, &need, &over, added, removed, &denied);
    if (errs != NULL) {
        hub__form_fail(res, errs);
        goto out;
    }
    if (!hub__check(h, actor, 0, need, res))
        goto out;
    if (denied || (over && !hub__above_member(h, actor, uid))) {
        hub__errc(res, 403, 50013);
        goto out;
    }
    if (json_object_size(params) == 0) {
        hub__ok(res, 200, json_incref(member));
        goto out;
    }
    before = json_incref(member);
    rc = hub__member_write(h, uid, params, &after);
    if (rc == STORE_ENOTFOUND && json_object_get(params, "roles") != NULL) {
        hub__form_error(&errs, "roles", "GUILD_MEMBER_ROLE_INVALID", "Unknown role");
        hub__form_fail(res, errs);
    } else if (rc < 0) {
        hub__store_err(res, rc, 10007);
    } else {
        modify_audit(h, actor, uid, before, after, params, added, removed, args);
        hub__ok(res, 200, json_incref(after));
    }
    json_decref(before);
out:
    json_decref(params);
    json_decref(added);
    json_decref(removed);
}

/* ---- one role
 * ------------------------------------------------------------------------------------ */

/* j->a guild, j->b user, j->c role, j->i 1 add / 0 remove. */
static int64_t member_role_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;
    int rc;

    rc = j->i ? store_member_role_add(s, j->a, j->b, j->c)
              : store_member_role_remove(s, j->a, j->b, j->c);
    if (rc == 0)
        rc = store_member_get(s, j->a, j->b, &j->out);
    return rc;
}

static void op_member_role(hub_t *h, uint64_t actor, json_t *args, bool add, hub_result_t *res)
{
    json_t *d, *changes = NULL, *list;
    uint64_t uid = 0, rid = 0;
    hub_job_t *j;
    char key[21];
    int rc;

    if (!hub__check(h, actor, 0, PERM_MANAGE_ROLES, res))
        return;
    if (hub__arg_id(args, "user_id", &uid) != 1 || !hub__is_member(h, uid)) {
        hub__errc(res, 404, 10007);
        return;
    }
    if (hub__arg_id(args, "role_id", &rid) != 1 || !role_known(h, rid)) {
        hub__errc(res, 404, 10011);
        return;
    }
    /* A managed role is given only by the server (to its bot) and never taken. */
    if (role_managed(h, rid) || !hub__above_role(h, actor, rid) ||
        (uid != actor && !hub__above_member(h, actor, uid))) {
        hub__errc(res, 403, 50013);
        return;
    }
    j = hub__job_new();
    j->a = h->id;
    j->b = uid;
    j->c = rid;
    j->i = add;
    rc = hub__job_run(member_role_job, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10011);
    } else {
        if (rc == 0) {
            json_object_set(h->members, hub__key(uid, key), j->out);
            hub__perm_member(h, j->out);
            hub__snap_invalidate(h, true);
            d = hub__member_event(h, j->out);
            hub__fan_guild(h, HUB_EV_GUILD_MEMBER_UPDATE, HUB_INTENT_GUILD_MEMBERS, 0, d);
            json_decref(d);
            list = json_pack("[o]", role_ref(h, rid));
            hub__change(&changes, add ? "$add" : "$remove", NULL, list);
            json_decref(list);
            hub__audit(h, actor, STORE_AUDIT_MEMBER_ROLE_UPDATE, uid, changes, NULL, args);
        }
        hub__ok(res, 204, NULL); /* STORE_UNCHANGED: it had it (or not) already */
    }
    hub__job_free(j);
}

/* ---- bans
 * ----------------------------------------------------------------------------------------- */

/* On the heap with everything the store reads (see hub_job_t). */
typedef struct ban_job {
    store_ban_new_t b;
    bool remove;
    json_t *out, *user;
    char reason[STORE_REASON_MAX * 4 + 1];
} ban_job_t;

static int64_t ban_job(store_t *s, void *arg)
{
    ban_job_t *j = arg;
    int rc;

    if (j->remove)
        rc = store_ban_remove(s, j->b.guild_id, j->b.user_id);
    else
        rc = store_ban_add(s, &j->b, &j->out);
    if (rc >= 0)
        store_user_get(s, j->b.user_id, 0, &j->user);
    return rc;
}

static void ban_job_free(ban_job_t *j)
{
    json_decref(j->out);
    json_decref(j->user);
    free(j);
}

/* The ban's message deletions: MESSAGE_DELETE_BULK per channel, 100 ids at a time, to
 * those who may view the channel. */
static void fan_deleted(hub_t *h, json_t *deleted)
{
    json_t *ids, *chunk, *d;
    const char *k;
    hub_fan_t f;
    size_t i, n;

    json_object_foreach(deleted, k, ids)
    {
        n = json_array_size(ids);
        for (i = 0; i < n; i += 100) {
            size_t e;
            chunk = json_array();
            for (e = i; e < n && e < i + 100; e++)
                json_array_append(chunk, json_array_get(ids, e));
            d = json_pack("{s:o, s:s, s:o}", "ids", chunk, "channel_id", k, "guild_id",
                          hub__id_json(h->id));
            memset(&f, 0, sizeof(f));
            f.ev = HUB_EV_MESSAGE_DELETE_BULK;
            f.need = HUB_INTENT_GUILD_MESSAGES;
            f.channel_id = hub__json_id(json_object_get(d, "channel_id"));
            hub__fanout(h, &f, d);
            json_decref(d);
        }
    }
}

/* delete_message_seconds (or the older delete_message_days): seconds, or -1. */
static int64_t delete_seconds(const json_t *args)
{
    json_t *v = json_object_get(args, "delete_message_seconds");

    if (v != NULL && !json_is_null(v))
        return json_is_integer(v) && json_integer_value(v) >= 0 &&
                       json_integer_value(v) <= STORE_BAN_DELETE_MAX
                   ? json_integer_value(v)
                   : -1;
    v = json_object_get(args, "delete_message_days");
    if (v != NULL && !json_is_null(v))
        return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 7
                   ? json_integer_value(v) * 86400
                   : -1;
    return 0;
}

static void op_ban_add(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *errs = NULL, *d;
    uint64_t uid = 0;
    int64_t secs;
    ban_job_t *j;
    int rc;

    if (hub__arg_id(args, "user_id", &uid) != 1) {
        hub__errc(res, 404, 10013);
        return;
    }
    if (!hub__check(h, actor, 0, PERM_BAN_MEMBERS, res))
        return;
    /* Nobody bans the owner or oneself; a member only from above it. */
    if (uid == actor || uid == h->owner_id ||
        (hub__is_member(h, uid) && !hub__above_member(h, actor, uid))) {
        hub__errc(res, 403, 50013);
        return;
    }
    if ((secs = delete_seconds(args)) < 0) {
        hub__form_error(&errs, "delete_message_seconds", "NUMBER_TYPE_MAX",
                        "int value should be less than or equal to 604800.");
        hub__form_fail(res, errs);
        return;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->b.guild_id = h->id;
    j->b.user_id = uid;
    j->b.moderator_id = actor;
    j->b.reason = hub__reason(args, j->reason, sizeof(j->reason));
    j->b.delete_message_seconds = secs;
    rc = store_call(ban_job, j);
    if (rc == STORE_ENOTFOUND) {
        hub__errc(res, 404, 10013);
    } else if (rc < 0) {
        hub__store_err(res, rc, 10013);
    } else {
        member_gone(h, uid);
        fan_deleted(h, json_object_get(j->out, "deleted"));
        if (rc == 0) {
            d = json_pack("{s:o, s:O}", "guild_id", hub__id_json(h->id), "user",
                          j->user ? j->user : json_null());
            hub__fan_guild(h, HUB_EV_GUILD_BAN_ADD, HUB_INTENT_GUILD_MODERATION, 0, d);
            json_decref(d);
            hub__audit(h, actor, STORE_AUDIT_MEMBER_BAN_ADD, uid, NULL, NULL, args);
        }
        hub__ok(res, 204, NULL);
    }
    ban_job_free(j);
}

static void op_ban_remove(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    uint64_t uid = 0;
    ban_job_t *j;
    json_t *d;
    int rc;

    if (hub__arg_id(args, "user_id", &uid) != 1) {
        hub__errc(res, 404, 10026);
        return;
    }
    if (!hub__check(h, actor, 0, PERM_BAN_MEMBERS, res))
        return;
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->b.guild_id = h->id;
    j->b.user_id = uid;
    j->remove = true;
    rc = store_call(ban_job, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10026);
    } else {
        d = json_pack("{s:o, s:O}", "guild_id", hub__id_json(h->id), "user",
                      j->user ? j->user : json_null());
        hub__fan_guild(h, HUB_EV_GUILD_BAN_REMOVE, HUB_INTENT_GUILD_MODERATION, 0, d);
        json_decref(d);
        hub__audit(h, actor, STORE_AUDIT_MEMBER_BAN_REMOVE, uid, NULL, NULL, args);
        hub__ok(res, 204, NULL);
    }
    ban_job_free(j);
}

/* ---- dispatch
 * ------------------------------------------------------------------------------------- */

bool hub__op_member(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res)
{
    if (h->kind != HUB_KIND_GUILD)
        return false;
    switch (op) {
    case HUB_OP_MEMBER_ADD:
        op_member_add(h, actor, args, res);
        return true;
    case HUB_OP_MEMBER_REMOVE:
        op_member_remove(h, actor, args, res);
        return true;
    case HUB_OP_MEMBER_MODIFY:
        op_member_modify(h, actor, args, res);
        return true;
    case HUB_OP_MEMBER_ROLE_ADD:
    case HUB_OP_MEMBER_ROLE_REMOVE:
        op_member_role(h, actor, args, op == HUB_OP_MEMBER_ROLE_ADD, res);
        return true;
    case HUB_OP_BAN_ADD:
        op_ban_add(h, actor, args, res);
        return true;
    case HUB_OP_BAN_REMOVE:
        op_ban_remove(h, actor, args, res);
        return true;
    default:
        return false;
    }
}
