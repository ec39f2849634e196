/* /users/@me/relationships: friends, friend requests and blocks, as Discord's clients use
 * them.
 *
 *   GET    /users/@me/relationships            every relationship object of the caller
 *   PUT    /users/@me/relationships/{user_id}  {} or {"type": 1}: send a request, or
 *                                              accept theirs; {"type": 2}: block
 *   POST   /users/@me/relationships            {"username"}: send a request by name
 *   DELETE /users/@me/relationships/{user_id}  unfriend, cancel, decline, or unblock
 *
 * Each write is one store call (store/social.h: the state machine and its refusals in one
 * transaction) followed by a notice to the social process, which sends RELATIONSHIP_ADD
 * or _REMOVE to both users' sessions; the answer is 204. The job commits and sends the
 * notice under one lock, so notices reach the process in the order the changes
 * committed, and two requests racing on a pair cannot leave a client with the older
 * state. (The store serializes these writes anyway: the lock costs no concurrency, and
 * it is taken on the store's worker threads, never on a scheduler.) Refusals are Discord's: bots
 * cannot use these routes (403 20001), nor have friends (400 80002); a request to
 * oneself 80003, across a block 80001 (whoever blocked), to a name nobody has 80004, to a
 * friend by name 80007, past 1000 friends 30002; an unknown user id 10013. Sending a
 * request that is pending already, or to a friend by id, changes nothing and answers 204
 * (Discord's client sends PUT {} to accept and to re-send alike).
 *
 * The checks for other routes (relationships.h) read the store the same way: a DM to or
 * from someone who blocked the other is refused with 403 50007. */
#include "relationships.h"

#include "social/social.h"
#include "store/social.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Held from a change's commit to its notice: see the file comment. */
static pthread_mutex_t notice_order = PTHREAD_MUTEX_INITIALIZER;

enum { OP_REQUEST = 1, OP_REQUEST_BY_NAME, OP_BLOCK, OP_REMOVE };

/* The record of a change job (on the heap: see api_job_t). */
typedef struct rel_job {
    int op;
    uint64_t user, other; /* other: found by name for OP_REQUEST_BY_NAME */
    char name[72];
    store_rel_change_t ch;
    json_t *user_rel, *other_rel; /* each side's object after the change, or NULL */
} rel_job_t;

static bool refuse_bot(api_ctx_t *c)
{
    if (!c->bot)
        return false;
    api_error(c, 403, 20001, "Bots cannot use this endpoint");
    return true;
}

/* ---- GET /users/@me/relationships ------------------------------------------------------------ */

static int64_t list_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_relationship_list(s, j->a, &j->out);
}

static void rel_list(api_ctx_t *c)
{
    api_job_t *j;
    int rc;

    if (refuse_bot(c))
        return;
    j = api_job_new();
    j->a = c->user_id;
    rc = api_job_run(list_job, j);
    if (rc < 0) {
        api_store_error(c, rc, 10013);
    } else {
        api_json(c, 200, j->out);
        j->out = NULL;
    }
    api_job_free(j);
}

/* ---- changes --------------------------------------------------------------------------------- */

static int64_t change_job(store_t *s, void *arg)
{
    rel_job_t *j = arg;
    int rc;

    if (j->op == OP_REQUEST_BY_NAME) {
        rc = store_user_find(s, j->name, &j->other);
        if (rc < 0)
            return rc;
    }
    pthread_mutex_lock(&notice_order);
    switch (j->op) {
    case OP_REQUEST:
    case OP_REQUEST_BY_NAME:
        rc = store_relationship_request(s, j->user, j->other, 0, &j->ch);
        break;
    case OP_BLOCK:
        rc = store_relationship_block(s, j->user, j->other, 0, &j->ch);
        break;
    default:
        rc = store_relationship_remove(s, j->user, j->other, &j->ch);
        break;
    }
    if (rc == 0) {
        /* The objects the events carry, as committed. */
        if (j->ch.user_now != STORE_REL_NONE)
            store_relationship_get(s, j->user, j->other, &j->user_rel);
        if (j->ch.other_now != STORE_REL_NONE)
            store_relationship_get(s, j->other, j->user, &j->other_rel);
        social_relationship_changed(j->user, j->other, &j->ch, j->user_rel, j->other_rel);
    }
    pthread_mutex_unlock(&notice_order);
    return rc;
}

/* Runs op for the caller and answers: 204, or Discord's refusal. */
static void change(api_ctx_t *c, int op, uint64_t other, const char *name)
{
    rel_job_t *j = calloc(1, sizeof(*j));
    int rc;

    if (j == NULL)
        abort();
    j->op = op;
    j->user = c->user_id;
    j->other = other;
    if (name != NULL)
        snprintf(j->name, sizeof(j->name), "%s", name);
    rc = store_call(change_job, j);
    switch (rc) {
    case 0:
        api_empty(c);
        break;
    case STORE_UNCHANGED:
        if (op == OP_REQUEST_BY_NAME && j->ch.user_was == STORE_REL_FRIEND)
            api_error(c, 400, 80007, "You are already friends with that user.");
        else
            api_empty(c);
        break;
    case STORE_ENOTFOUND:
        if (op == OP_REQUEST_BY_NAME)
            api_error(c, 400, 80004, "No users with DiscordTag exist");
        else
            api_unknown(c, 10013);
        break;
    case STORE_EINVAL:
        if (j->other == j->user && op == OP_BLOCK)
            api_error(c, 400, 0, "400: Bad Request");
        else if (j->other == j->user)
            api_error(c, 400, 80003, "Cannot send friend request to self");
        else
            api_error(c, 400, 80002, "Bots cannot have friends");
        break;
    case STORE_EPERM:
        api_error(c, 400, 80001, "Friend request blocked");
        break;
    case STORE_ELIMIT:
        api_error(c, 400, 30002, "Maximum number of friends reached (1000)");
        break;
    default:
        api_store_error(c, rc, 10013);
        break;
    }
    json_decref(j->user_rel);
    json_decref(j->other_rel);
    free(j);
}

/* PUT /users/@me/relationships/{user_id}: {} or {"type": 1} asks (or accepts), {"type": 2}
 * blocks. */
static void rel_put(api_ctx_t *c)
{
    api_form_t f = {0};
    int64_t type = STORE_REL_FRIEND;
    uint64_t other;

    if (refuse_bot(c) || !api_param_id(c, "user_id", &other))
        return;
    if (api_field_int(&f, c->body, "type", 0, 255, &type) == 1 && type != STORE_REL_FRIEND &&
        type != STORE_REL_BLOCKED)
        api_form_add(&f, "type", "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.");
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        return;
    }
    change(c, type == STORE_REL_BLOCKED ? OP_BLOCK : OP_REQUEST, other, NULL);
}

/* POST /users/@me/relationships: {"username", "discriminator"}. Names are unique now, so
 * the discriminator may only be absent, null, 0 or "0" (anything else names nobody). */
static void rel_post(api_ctx_t *c)
{
    const char *name = NULL;
    api_form_t f = {0};
    json_t *d;

    if (refuse_bot(c))
        return;
    if (api_field_str(&f, c->body, "username", 1, 32, &name) == 0)
        api_field_required(&f, "username");
    if (!api_form_ok(&f)) {
        api_form_reply(c, &f);
        return;
    }
    d = json_object_get(c->body, "discriminator");
    if (d != NULL && !json_is_null(d) && !(json_is_integer(d) && json_integer_value(d) == 0) &&
        !(json_is_string(d) &&
          (strcmp(json_string_value(d), "0") == 0 || strcmp(json_string_value(d), "0000") == 0))) {
        api_error(c, 400, 80004, "No users with DiscordTag exist");
        return;
    }
    change(c, OP_REQUEST_BY_NAME, 0, name);
}

static void rel_delete(api_ctx_t *c)
{
    uint64_t other;

    if (refuse_bot(c) || !api_param_id(c, "user_id", &other))
        return;
    change(c, OP_REMOVE, other, NULL);
}

/* ---- checks for other routes ----------------------------------------------------------------- */

static int64_t blocked_by_job(store_t *s, void *arg)
{
    api_job_t *j = arg;
    int type = STORE_REL_NONE;
    int rc;

    rc = store_relationship_type(s, j->a, j->b, &type);
    j->out_n = (size_t)type;
    return rc;
}

bool api_relationship_dm_allowed(api_ctx_t *c, uint64_t recipient_id)
{
    api_job_t *j = api_job_new();
    bool ok;

    j->a = recipient_id;
    j->b = c->user_id;
    /* A store failure lets the open go on: the open itself will report it. */
    ok = api_job_run(blocked_by_job, j) < 0 || j->out_n != STORE_REL_BLOCKED;
    api_job_free(j);
    if (!ok)
        api_error(c, 403, 50007, "Cannot send messages to this user");
    return ok;
}

static int64_t dm_blocked_job(store_t *s, void *arg)
{
    api_job_t *j = arg;

    return store_dm_blocked(s, j->a, NULL);
}

bool api_relationship_send_allowed(api_ctx_t *c, uint64_t channel_id)
{
    api_job_t *j = api_job_new();
    bool ok;

    j->a = channel_id;
    ok = api_job_run(dm_blocked_job, j) != 0;
    api_job_free(j);
    if (!ok)
        api_error(c, 403, 50007, "Cannot send messages to this user");
    return ok;
}

const api_route_t api_relationship_routes[] = {
    {"GET", "/users/@me/relationships", rel_list, API_AUTH},
    {"POST", "/users/@me/relationships", rel_post, API_AUTH | API_BODY},
    {"PUT", "/users/@me/relationships/{user_id}", rel_put, API_AUTH | API_BODY},
    {"DELETE", "/users/@me/relationships/{user_id}", rel_delete, API_AUTH},
    {NULL, NULL, NULL, 0},
};
