/* Presences in a guild hub: who of the members is online, and how.
 *
 * h->presences holds the PRESENCE_UPDATE "d" of each member that is not offline
 * ({"user": {"id"}, "guild_id", "status", "activities", "client_status"}); a snapshot
 * lists them. A change fans PRESENCE_UPDATE out to the subscribers with
 * GUILD_PRESENCES, the user's own sessions excepted. "invisible" is shown as "offline",
 * as on Discord. Last-seen times are the directory's business (it sees a user's last
 * session end across all hubs). */
#include "internal.h"

#include <string.h>

static const char *shown_status(const char *status)
{
    if (strcmp(status, "online") == 0 || strcmp(status, "idle") == 0 ||
        strcmp(status, "dnd") == 0)
        return status;
    return "offline"; /* invisible, offline, or anything unknown */
}

/* acts is borrowed. */
static json_t *presence_doc(hub_t *h, uint64_t user_id, const char *status, json_t *acts)
{
    json_t *cs = json_object();

    if (strcmp(status, "offline") != 0)
        json_object_set_new(cs, "desktop", json_string(status));
    return json_pack("{s:{s:o}, s:o, s:s, s:O, s:o}", "user", "id", hub__id_json(user_id),
                     "guild_id", hub__id_json(h->id), "status", status, "activities", acts,
                     "client_status", cs);
}

static void fan(hub_t *h, uint64_t user_id, json_t *d)
{
    hub_fan_t f;

    memset(&f, 0, sizeof(f));
    f.ev = HUB_EV_PRESENCE_UPDATE;
    f.need = HUB_INTENT_GUILD_PRESENCES;
    f.skip_user = user_id;
    hub__fanout(h, &f, d);
}

void hub__presence_set(hub_t *h, uint64_t user_id, const char *status, json_t *activities)
{
    json_t *old, *d, *empty = NULL;
    char key[21];

    status = shown_status(status);
    hub__key(user_id, key);
    old = json_object_get(h->presences, key);
    if (strcmp(status, "offline") == 0) {
        if (old != NULL)
            hub__presence_gone(h, user_id);
        return;
    }
    if (activities == NULL) {
        /* A subscription says only the status: keep the activities we know. */
        activities = old != NULL ? json_object_get(old, "activities") : NULL;
        if (activities == NULL)
            activities = empty = json_array();
    }
    if (old != NULL && strcmp(json_string_value(json_object_get(old, "status")), status) == 0 &&
        json_equal(json_object_get(old, "activities"), activities)) {
        json_decref(empty);
        return; /* nothing new: another session of the same user, say */
    }
    d = presence_doc(h, user_id, status, activities);
    json_decref(empty);
    json_object_set(h->presences, key, d);
    hub__snap_invalidate(h, true);
    fan(h, user_id, d);
    json_decref(d);
}

void hub__presence_gone(hub_t *h, uint64_t user_id)
{
    json_t *d, *none;
    char key[21];

    hub__key(user_id, key);
    if (json_object_get(h->presences, key) == NULL)
        return;
    json_object_del(h->presences, key);
    hub__snap_invalidate(h, true);
    none = json_array();
    d = presence_doc(h, user_id, "offline", none);
    json_decref(none);
    fan(h, user_id, d);
    json_decref(d);
}

json_t *hub__presence_list(hub_t *h)
{
    json_t *a = json_array(), *v;
    const char *k;

    json_object_foreach(h->presences, k, v)
        json_array_append(a, v);
    return a;
}
