/* Presences in a guild hub: who of the members is online, and how.
 *
 * h->presences maps each member that is not offline to its presence, compactly, since
 * a large guild has one per online member: the value is the status code alone (1
 * online, 2 idle, 3 dnd) when the user has no activities, or a pointer to a pres_t
 * (status and activities) when it has some. The PRESENCE_UPDATE "d" ({"user": {"id"},
 * "guild_id", "status", "activities", "client_status"}) is built when it is sent or a
 * snapshot lists it. A change fans PRESENCE_UPDATE out to the subscribers with
 * GUILD_PRESENCES, the user's own sessions excepted. "invisible" is shown as
 * "offline", as on Discord. Last-seen times are the directory's business (it sees a
 * user's last session end across all hubs). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

enum { ST_OFFLINE = 0, ST_ONLINE = 1, ST_IDLE = 2, ST_DND = 3 };

typedef struct pres {
    int status;
    json_t *activities; /* a non-empty array */
} pres_t;

static const char *const status_names[] = {"offline", "online", "idle", "dnd"};

static int status_code(const char *status)
{
    if (strcmp(status, "online") == 0)
        return ST_ONLINE;
    if (strcmp(status, "idle") == 0)
        return ST_IDLE;
    if (strcmp(status, "dnd") == 0)
        return ST_DND;
    return ST_OFFLINE; /* invisible, offline, or anything unknown */
}

/* A map value's status and activities (borrowed; NULL: none). */
static int decode(uint64_t v, json_t **acts)
{
    pres_t *p;

    if (v <= ST_DND) {
        *acts = NULL;
        return (int)v;
    }
    p = (pres_t *)(uintptr_t)v;
    *acts = p->activities;
    return p->status;
}

static void value_free(uint64_t v)
{
    pres_t *p;

    if (v <= ST_DND)
        return;
    p = (pres_t *)(uintptr_t)v;
    json_decref(p->activities);
    free(p);
}

/* acts is borrowed (NULL: none). */
static json_t *presence_doc(hub_t *h, uint64_t user_id, int status, json_t *acts)
{
    json_t *cs = json_object();

    if (status != ST_OFFLINE)
        json_object_set_new(cs, "desktop", json_string(status_names[status]));
    return json_pack("{s:{s:o}, s:o, s:s, s:o, s:o}", "user", "id", hub__id_json(user_id),
                     "guild_id", hub__id_json(h->id), "status", status_names[status], "activities",
                     acts ? json_incref(acts) : json_array(), "client_status", cs);
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
    json_t *old_acts, *d;
    uint64_t old, v;
    int st = status_code(status), old_st;
    bool had = u64map_get(&h->presences, user_id, &old);
    pres_t *p;

    if (st == ST_OFFLINE) {
        if (had)
            hub__presence_gone(h, user_id);
        return;
    }
    old_st = had ? decode(old, &old_acts) : ST_OFFLINE;
    if (!had)
        old_acts = NULL;
    if (activities == NULL)
        activities = old_acts; /* a subscription says only the status: keep them */
    if (json_array_size(activities) == 0)
        activities = NULL;
    if (had && old_st == st &&
        (activities == old_acts ||
         (activities != NULL && old_acts != NULL && json_equal(activities, old_acts))))
        return; /* nothing new: another session of the same user, say */
    if (activities == NULL) {
        v = (uint64_t)st;
    } else {
        p = malloc(sizeof(*p));
        if (p == NULL)
            abort();
        p->status = st;
        p->activities = json_deep_copy(activities);
        v = (uint64_t)(uintptr_t)p;
    }
    u64map_put(&h->presences, user_id, v);
    d = presence_doc(h, user_id, st, activities);
    if (had)
        value_free(old); /* after the doc: activities may have been old's */
    hub__snap_invalidate(h, true);
    fan(h, user_id, d);
    json_decref(d);
}

void hub__presence_gone(hub_t *h, uint64_t user_id)
{
    uint64_t old;
    json_t *d;

    if (!u64map_del(&h->presences, user_id, &old))
        return;
    value_free(old);
    hub__snap_invalidate(h, true);
    d = presence_doc(h, user_id, ST_OFFLINE, NULL);
    fan(h, user_id, d);
    json_decref(d);
}

json_t *hub__presence_list(hub_t *h)
{
    json_t *a = json_array(), *acts;
    uint64_t user, v;
    size_t i = 0;
    int st;

    while (u64map_next(&h->presences, &i, &user, &v)) {
        st = decode(v, &acts);
        json_array_append_new(a, presence_doc(h, user, st, acts));
    }
    return a;
}

void hub__presence_free(hub_t *h)
{
    uint64_t v;
    size_t i = 0;

    while (u64map_next(&h->presences, &i, NULL, &v))
        value_free(v);
    u64map_free(&h->presences);
}

json_t *hub__presence_of(hub_t *h, uint64_t user_id)
{
    json_t *acts;
    uint64_t v;
    int st;

    if (!u64map_get(&h->presences, user_id, &v))
        return NULL;
    st = decode(v, &acts);
    return presence_doc(h, user_id, st, acts);
}
