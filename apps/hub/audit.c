/* Audit log entries of a guild hub: what its ops changed, recorded through the store
 * (apps/store/moderation.h) once the op's own write committed, then sent as
 * GUILD_AUDIT_LOG_ENTRY_CREATE to the sessions with the GUILD_MODERATION intent whose
 * user has VIEW_AUDIT_LOG.
 *
 * An entry is written by its own store job after the op's, so a failure between the
 * two commits (a full disk, a kill) leaves the action without its record; the op's
 * reply never waits on anything else, and an action is never undone for want of a
 * log line. */
#include "internal.h"

#include "store/moderation.h"

#include <stdlib.h>
#include <string.h>

void hub__change(json_t **changes, const char *key, json_t *old_value, json_t *new_value)
{
    json_t *c = json_pack("{s:s}", "key", key);

    if (old_value != NULL)
        json_object_set(c, "old_value", old_value);
    if (new_value != NULL)
        json_object_set(c, "new_value", new_value);
    if (*changes == NULL)
        *changes = json_array();
    json_array_append_new(*changes, c);
}

/* The names hub_request's args use for what a request is about (hub.h), which are
 * not fields of the object changed. */
static bool request_key(const char *k)
{
    static const char *const keys[] = {"reason",  "channel_id", "user_id",      "role_id",
                                       "rule_id", "message_id", "overwrite_id", "guild_id"};
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

void hub__diff(json_t **changes, const json_t *args, const json_t *before, const json_t *after)
{
    json_t *o, *n;
    const char *k;
    void *it;

    for (it = json_object_iter((json_t *)args); it != NULL;
         it = json_object_iter_next((json_t *)args, it)) {
        k = json_object_iter_key(it);
        if (request_key(k))
            continue;
        o = json_object_get(before, k);
        n = json_object_get(after, k);
        if (n == NULL || (o != NULL && json_equal(o, n)))
            continue;
        hub__change(changes, k, o, n);
    }
}

const char *hub__reason(const json_t *args, char *buf, size_t size)
{
    const char *r = json_string_value(json_object_get(args, "reason"));
    size_t n = 0, chars = 0;

    if (r == NULL || r[0] == '\0')
        return NULL;
    while (r[n] != '\0') {
        size_t len = 1;
        unsigned char c = (unsigned char)r[n];
        if (c >= 0xF0)
            len = 4;
        else if (c >= 0xE0)
            len = 3;
        else if (c >= 0xC0)
            len = 2;
        if (chars == STORE_REASON_MAX || n + len >= size)
            break;
        n += len;
        chars++;
    }
    memcpy(buf, r, n);
    buf[n] = '\0';
    return buf;
}

/* On the heap with everything the store reads (see hub_job_t). */
typedef struct audit_job {
    store_audit_new_t e;
    json_t *changes, *options, *out;
    char reason[STORE_REASON_MAX * 4 + 1];
} audit_job_t;

static int64_t audit_job(store_t *s, void *arg)
{
    audit_job_t *j = arg;

    return store_audit_add(s, &j->e, &j->out);
}

void hub__audit(hub_t *h, uint64_t actor, int action_type, uint64_t target, json_t *changes,
                json_t *options, const json_t *args)
{
    audit_job_t *j;
    json_t *d;
    int rc;

    if (h->kind != HUB_KIND_GUILD) {
        json_decref(changes);
        json_decref(options);
        return;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->changes = changes;
    j->options = options;
    j->e.guild_id = h->id;
    j->e.user_id = actor;
    j->e.target_id = target;
    j->e.action_type = action_type;
    j->e.changes = changes;
    j->e.options = options;
    j->e.reason = hub__reason(args, j->reason, sizeof(j->reason));
    rc = store_call(audit_job, j);
    if (rc == 0 && j->out != NULL) {
        d = json_copy(j->out);
        json_object_set_new(d, "guild_id", hub__id_json(h->id));
        hub__fan_guild(h, HUB_EV_GUILD_AUDIT_LOG_ENTRY_CREATE, HUB_INTENT_GUILD_MODERATION,
                       PERM_VIEW_AUDIT_LOG, d);
        json_decref(d);
    }
    json_decref(j->changes);
    json_decref(j->options);
    json_decref(j->out);
    free(j);
}
