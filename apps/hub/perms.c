/* A guild hub's permissions: the perm_cache_t (apps/perm) it holds, loaded with the
 * guild and fed every change by the ops, and the checks the ops start with.
 *
 * Every op asks hub__check first: membership and VIEW_CHANNEL answer 50001 (Missing
 * Access), any other missing bit 50013 (Missing Permissions), as Discord does. The
 * fan-out asks the cache per subscriber (fanout.c). The clock is the wall clock,
 * since a timeout's end is a wall-clock time; the cache recomputes a timed-out
 * member's results once its timeout has ended. */
#include "internal.h"

#include <time.h>

int64_t hub__now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A channel into the cache; one whose overwrites do not parse stays hidden from all
 * but those who bypass overwrites (owner, administrators). */
static void set_channel(hub_t *h, const json_t *channel)
{
    perm_overwrite_t hide = {0};
    uint64_t id = 0, parent = 0;

    if (perm_cache_set_channel_json(h->perms, channel) == 0)
        return;
    if (perm_id_from_json(json_object_get(channel, "id"), &id) < 0)
        return;
    perm_id_from_json(json_object_get(channel, "parent_id"), &parent);
    hide.id = h->id; /* @everyone */
    hide.type = PERM_OW_ROLE;
    hide.deny = PERM_VIEW_CHANNEL;
    perm_cache_set_channel(h->perms, id, (int)json_integer_value(json_object_get(channel, "type")),
                           parent, &hide, 1);
}

void hub__perms_load(hub_t *h, const json_t *guild)
{
    const json_t *v;
    size_t i;

    perm_cache_free(h->perms);
    h->perms = perm_cache_new(h->id, h->owner_id);
    json_array_foreach(json_object_get(guild, "roles"), i, v) perm_cache_set_role_json(h->perms, v);
    json_array_foreach(json_object_get(guild, "channels"), i, v) set_channel(h, v);
    json_array_foreach(json_object_get(guild, "members"), i, v)
        perm_cache_set_member_json(h->perms, v);
}

void hub__perm_member(hub_t *h, const json_t *member)
{
    if (h->perms != NULL)
        perm_cache_set_member_json(h->perms, member);
}

void hub__perm_channel(hub_t *h, const json_t *channel)
{
    if (h->perms != NULL)
        set_channel(h, channel);
}

uint64_t hub__perms(hub_t *h, uint64_t user_id, uint64_t channel_id)
{
    if (h->kind == HUB_KIND_PRIVATE)
        return hub__is_recipient(h, user_id) ? PERM_ALL : 0;
    if (h->perms == NULL)
        return 0;
    if (channel_id == 0)
        return perm_cache_base(h->perms, user_id, hub__now_ms());
    return perm_cache_channel(h->perms, user_id, channel_id, hub__now_ms());
}

bool hub__check(hub_t *h, uint64_t actor, uint64_t channel_id, uint64_t need, hub_result_t *res)
{
    uint64_t p;

    if (h->kind == HUB_KIND_PRIVATE) {
        if (hub__is_recipient(h, actor))
            return true;
        hub__errc(res, 403, 50001);
        return false;
    }
    if (!hub__is_member(h, actor)) {
        hub__errc(res, 403, 50001);
        return false;
    }
    p = hub__perms(h, actor, channel_id);
    if (channel_id != 0 && !(p & PERM_VIEW_CHANNEL)) {
        hub__errc(res, 403, 50001);
        return false;
    }
    if ((p & need) != need) {
        hub__errc(res, 403, 50013);
        return false;
    }
    return true;
}

bool hub__above_member(hub_t *h, uint64_t actor, uint64_t target)
{
    return h->perms != NULL && perm_cache_can_manage_member(h->perms, actor, target);
}

bool hub__above_role(hub_t *h, uint64_t actor, uint64_t role_id)
{
    return h->perms != NULL && perm_cache_can_manage_role(h->perms, actor, role_id);
}
