/* The per-guild permission cache of perm.h: the guild's model and, per member, its base
 * permissions and a small table of its per-channel results.
 *
 * Validity is by generations, so every invalidation is O(1) or touches only what it
 * names:
 *   - the cache's gen changes with a role or the owner: a member whose table was filled
 *     under an older gen empties it on its next query;
 *   - each channel has a gen of its own, set from a cache-wide counter whenever the
 *     channel (or the category it inherits from) changes: an entry records the channel
 *     gen it was computed under and is stale when they differ;
 *   - a member's table is emptied when the member changes.
 * An entry computed while the member was timed out stays valid only until the timeout
 * ends. A member's table is also emptied when it holds more entries than there are
 * channels (entries of deleted channels linger until then), which bounds it. */
#include "perm.h"

#include <stdlib.h>
#include <string.h>

/* ---- a u64 -> pointer map: linear probing, backward-shift deletion ------------------------ */

typedef struct pmap {
    uint64_t *keys; /* 0: empty */
    void **vals;
    size_t cap; /* a power of two, or 0 */
    size_t n;
} pmap_t;

static size_t pmap_slot(uint64_t k, size_t cap)
{
    /* splitmix64's finalizer: snowflakes keep their entropy in the low middle bits */
    k ^= k >> 30;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 27;
    k *= 0x94d049bb133111ebULL;
    k ^= k >> 31;
    return (size_t)k & (cap - 1);
}

static void pmap_free(pmap_t *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

static void pmap_grow(pmap_t *m)
{
    pmap_t o = *m;
    size_t i, j;

    m->cap = o.cap ? o.cap * 2 : 8;
    m->keys = calloc(m->cap, sizeof(*m->keys));
    m->vals = calloc(m->cap, sizeof(*m->vals));
    if (m->keys == NULL || m->vals == NULL)
        abort();
    for (i = 0; i < o.cap; i++) {
        if (o.keys[i] == 0)
            continue;
        for (j = pmap_slot(o.keys[i], m->cap); m->keys[j] != 0; j = (j + 1) & (m->cap - 1))
            ;
        m->keys[j] = o.keys[i];
        m->vals[j] = o.vals[i];
    }
    free(o.keys);
    free(o.vals);
}

static void *pmap_get(const pmap_t *m, uint64_t k)
{
    size_t j;

    if (m->cap == 0 || k == 0)
        return NULL;
    for (j = pmap_slot(k, m->cap); m->keys[j] != 0; j = (j + 1) & (m->cap - 1))
        if (m->keys[j] == k)
            return m->vals[j];
    return NULL;
}

/* Sets k (not 0) to v; returns the value it replaces, or NULL. */
static void *pmap_put(pmap_t *m, uint64_t k, void *v)
{
    void *old;
    size_t j;

    if ((m->n + 1) * 4 > m->cap * 3)
        pmap_grow(m);
    for (j = pmap_slot(k, m->cap); m->keys[j] != 0; j = (j + 1) & (m->cap - 1)) {
        if (m->keys[j] == k) {
            old = m->vals[j];
            m->vals[j] = v;
            return old;
        }
    }
    m->keys[j] = k;
    m->vals[j] = v;
    m->n++;
    return NULL;
}

/* Removes k; returns its value, or NULL. */
static void *pmap_del(pmap_t *m, uint64_t k)
{
    size_t j, i, home;
    void *v;

    if (m->cap == 0 || k == 0)
        return NULL;
    for (j = pmap_slot(k, m->cap); m->keys[j] != k; j = (j + 1) & (m->cap - 1))
        if (m->keys[j] == 0)
            return NULL;
    v = m->vals[j];
    /* Backward shift: pull later members of the cluster into the hole when their home
     * slot does not lie cyclically in (hole, their slot]. */
    for (i = (j + 1) & (m->cap - 1); m->keys[i] != 0; i = (i + 1) & (m->cap - 1)) {
        home = pmap_slot(m->keys[i], m->cap);
        if (((i - home) & (m->cap - 1)) >= ((i - j) & (m->cap - 1))) {
            m->keys[j] = m->keys[i];
            m->vals[j] = m->vals[i];
            j = i;
        }
    }
    m->keys[j] = 0;
    m->vals[j] = NULL;
    m->n--;
    return v;
}

/* ---- the cache ---------------------------------------------------------------------------- */

#define FOREVER INT64_MAX

typedef struct entry {
    uint64_t channel_id; /* 0: empty slot */
    uint64_t perms;
    uint64_t chan_gen;
    int64_t valid_until; /* Unix ms; FOREVER unless computed while timed out */
} entry_t;

typedef struct member {
    perm_member_t m;
    uint64_t gen; /* the cache gen its base and entries were computed under */
    bool base_ok;
    uint64_t base;
    int64_t base_until;
    entry_t *ents; /* open addressing by channel id; cap a power of two, or 0 */
    size_t cap, n;
} member_t;

typedef struct channel {
    perm_channel_t ch; /* ch.parent is linked just before each computation */
    uint64_t parent_id;
    uint64_t gen;
} channel_t;

struct perm_cache {
    perm_guild_t g;
    uint64_t gen;      /* bumped by a role or owner change */
    uint64_t next_gen; /* source of channel gens: never reused */
    pmap_t members;    /* user id -> member_t */
    pmap_t channels;   /* channel id -> channel_t */
    uint64_t hits, misses;
};

static void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        abort();
    return p;
}

perm_cache_t *perm_cache_new(uint64_t guild_id, uint64_t owner_id)
{
    perm_cache_t *c = xmalloc(sizeof(*c));

    memset(c, 0, sizeof(*c));
    c->g.id = guild_id;
    c->g.owner_id = owner_id;
    c->gen = 1;
    c->next_gen = 1;
    return c;
}

static void member_drop_entries(member_t *mb)
{
    free(mb->ents);
    mb->ents = NULL;
    mb->cap = mb->n = 0;
    mb->base_ok = false;
}

static void member_free(member_t *mb)
{
    if (mb == NULL)
        return;
    member_drop_entries(mb);
    perm_member_clear(&mb->m);
    free(mb);
}

static void channel_free(channel_t *ch)
{
    if (ch == NULL)
        return;
    perm_channel_clear(&ch->ch);
    free(ch);
}

void perm_cache_free(perm_cache_t *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->members.cap; i++)
        if (c->members.keys[i] != 0)
            member_free(c->members.vals[i]);
    for (i = 0; i < c->channels.cap; i++)
        if (c->channels.keys[i] != 0)
            channel_free(c->channels.vals[i]);
    pmap_free(&c->members);
    pmap_free(&c->channels);
    perm_guild_clear(&c->g);
    free(c);
}

perm_cache_t *perm_cache_load(const json_t *guild)
{
    const json_t *list, *v;
    perm_guild_t g;
    perm_cache_t *c;
    size_t i;

    if (perm_guild_from_json(guild, &g) < 0)
        return NULL;
    c = perm_cache_new(g.id, g.owner_id);
    c->g = g;
    list = json_object_get(guild, "channels");
    json_array_foreach(list, i, v)
    {
        if (perm_cache_set_channel_json(c, v) < 0)
            goto fail;
    }
    list = json_object_get(guild, "members");
    json_array_foreach(list, i, v)
    {
        if (perm_cache_set_member_json(c, v) < 0)
            goto fail;
    }
    return c;

fail:
    perm_cache_free(c);
    return NULL;
}

/* ---- changes ------------------------------------------------------------------------------ */

void perm_cache_set_owner(perm_cache_t *c, uint64_t owner_id)
{
    c->g.owner_id = owner_id;
    c->gen++;
}

void perm_cache_set_role(perm_cache_t *c, const perm_role_t *role)
{
    perm_role_t *r = (perm_role_t *)perm_role_find(&c->g, role->id);

    if (r != NULL) {
        *r = *role;
    } else {
        c->g.roles = realloc(c->g.roles, (c->g.nroles + 1) * sizeof(*c->g.roles));
        if (c->g.roles == NULL)
            abort();
        c->g.roles[c->g.nroles++] = *role;
        perm_roles_sort(c->g.roles, c->g.nroles);
    }
    c->gen++;
}

int perm_cache_set_role_json(perm_cache_t *c, const json_t *role)
{
    perm_role_t r;

    if (perm_role_from_json(role, &r) < 0)
        return -1;
    perm_cache_set_role(c, &r);
    return 0;
}

void perm_cache_remove_role(perm_cache_t *c, uint64_t role_id)
{
    perm_role_t *r = (perm_role_t *)perm_role_find(&c->g, role_id);
    size_t i;

    if (r == NULL)
        return;
    i = (size_t)(r - c->g.roles);
    memmove(r, r + 1, (c->g.nroles - i - 1) * sizeof(*r)); /* stays sorted */
    c->g.nroles--;
    c->gen++;
}

/* A channel changed: it and the channels that may inherit its overwrites (its children,
 * when it is a category) get new gens. */
static void channel_touch(perm_cache_t *c, uint64_t channel_id)
{
    channel_t *ch;
    size_t i;

    ch = pmap_get(&c->channels, channel_id);
    if (ch != NULL)
        ch->gen = ++c->next_gen;
    for (i = 0; i < c->channels.cap; i++) {
        if (c->channels.keys[i] == 0)
            continue;
        ch = c->channels.vals[i];
        if (ch->parent_id == channel_id)
            ch->gen = ++c->next_gen;
    }
}

void perm_cache_set_channel(perm_cache_t *c, uint64_t channel_id, int type, uint64_t parent_id,
                            const perm_overwrite_t *ows, size_t nows)
{
    channel_t *ch = xmalloc(sizeof(*ch));

    memset(ch, 0, sizeof(*ch));
    ch->ch.id = channel_id;
    ch->ch.type = type;
    ch->ch.noverwrites = nows;
    ch->ch.overwrites = xmalloc(nows * sizeof(*ows));
    if (nows > 0)
        memcpy(ch->ch.overwrites, ows, nows * sizeof(*ows));
    ch->parent_id = parent_id;
    channel_free(pmap_put(&c->channels, channel_id, ch));
    channel_touch(c, channel_id);
}

int perm_cache_set_channel_json(perm_cache_t *c, const json_t *channel)
{
    perm_channel_t pc;
    uint64_t parent = 0;
    const json_t *p;

    p = json_object_get(channel, "parent_id");
    if (p != NULL && !json_is_null(p) && perm_id_from_json(p, &parent) < 0)
        return -1;
    if (perm_channel_from_json(channel, &pc) < 0)
        return -1;
    perm_cache_set_channel(c, pc.id, pc.type, parent, pc.overwrites, pc.noverwrites);
    perm_channel_clear(&pc);
    return 0;
}

void perm_cache_remove_channel(perm_cache_t *c, uint64_t channel_id)
{
    channel_free(pmap_del(&c->channels, channel_id));
    channel_touch(c, channel_id); /* its children no longer inherit from it */
}

void perm_cache_set_member(perm_cache_t *c, uint64_t user_id, const uint64_t *roles, size_t nroles,
                           int64_t timeout_until_ms)
{
    member_t *mb = xmalloc(sizeof(*mb));

    memset(mb, 0, sizeof(*mb));
    mb->m.user_id = user_id;
    mb->m.nroles = nroles;
    mb->m.roles = xmalloc(nroles * sizeof(*roles));
    if (nroles > 0)
        memcpy(mb->m.roles, roles, nroles * sizeof(*roles));
    mb->m.timeout_until_ms = timeout_until_ms;
    mb->gen = c->gen;
    member_free(pmap_put(&c->members, user_id, mb));
}

int perm_cache_set_member_json(perm_cache_t *c, const json_t *member)
{
    perm_member_t m;

    if (perm_member_from_json(member, &m) < 0)
        return -1;
    perm_cache_set_member(c, m.user_id, m.roles, m.nroles, m.timeout_until_ms);
    perm_member_clear(&m);
    return 0;
}

void perm_cache_remove_member(perm_cache_t *c, uint64_t user_id)
{
    member_free(pmap_del(&c->members, user_id));
}

/* ---- queries ------------------------------------------------------------------------------ */

/* The member, with its results emptied if they predate the cache's gen. */
static member_t *member_fresh(perm_cache_t *c, uint64_t user_id)
{
    member_t *mb = pmap_get(&c->members, user_id);

    if (mb != NULL && mb->gen != c->gen) {
        member_drop_entries(mb);
        mb->gen = c->gen;
    }
    return mb;
}

/* Until when a result computed now for mb stays right (the timeout's end, or forever). */
static int64_t valid_until(const member_t *mb, int64_t now_ms)
{
    return perm_timed_out(&mb->m, now_ms) ? mb->m.timeout_until_ms : FOREVER;
}

uint64_t perm_cache_base(perm_cache_t *c, uint64_t user_id, int64_t now_ms)
{
    member_t *mb = member_fresh(c, user_id);

    if (mb == NULL)
        return 0;
    if (mb->base_ok && now_ms < mb->base_until) {
        c->hits++;
        return mb->base;
    }
    c->misses++;
    mb->base = perm_base(&c->g, &mb->m, now_ms);
    mb->base_until = valid_until(mb, now_ms);
    mb->base_ok = true;
    return mb->base;
}

static entry_t *entry_find(member_t *mb, uint64_t channel_id)
{
    size_t j;

    if (mb->cap == 0)
        return NULL;
    for (j = pmap_slot(channel_id, mb->cap); mb->ents[j].channel_id != 0;
         j = (j + 1) & (mb->cap - 1))
        if (mb->ents[j].channel_id == channel_id)
            return &mb->ents[j];
    return NULL;
}

/* The slot for channel_id (not there yet), growing the table. */
static entry_t *entry_add(perm_cache_t *c, member_t *mb, uint64_t channel_id)
{
    entry_t *old = mb->ents;
    size_t ocap = mb->cap, i, j;

    /* Entries of deleted channels linger; more entries than channels means some are
     * such: start over rather than grow. */
    if (mb->n >= c->channels.n + 8) {
        free(mb->ents);
        old = mb->ents = NULL;
        ocap = mb->cap = mb->n = 0;
    }
    if ((mb->n + 1) * 4 > mb->cap * 3) {
        mb->cap = ocap ? ocap * 2 : 4;
        mb->ents = calloc(mb->cap, sizeof(*mb->ents));
        if (mb->ents == NULL)
            abort();
        for (i = 0; i < ocap; i++) {
            if (old[i].channel_id == 0)
                continue;
            for (j = pmap_slot(old[i].channel_id, mb->cap); mb->ents[j].channel_id != 0;
                 j = (j + 1) & (mb->cap - 1))
                ;
            mb->ents[j] = old[i];
        }
        free(old);
    }
    for (j = pmap_slot(channel_id, mb->cap); mb->ents[j].channel_id != 0;
         j = (j + 1) & (mb->cap - 1))
        ;
    mb->ents[j].channel_id = channel_id;
    mb->n++;
    return &mb->ents[j];
}

uint64_t perm_cache_channel(perm_cache_t *c, uint64_t user_id, uint64_t channel_id, int64_t now_ms)
{
    member_t *mb;
    channel_t *ch, *parent;
    entry_t *e;

    ch = pmap_get(&c->channels, channel_id);
    if (ch == NULL || (mb = member_fresh(c, user_id)) == NULL)
        return 0;
    e = entry_find(mb, channel_id);
    if (e != NULL && e->chan_gen == ch->gen && now_ms < e->valid_until) {
        c->hits++;
        return e->perms;
    }
    c->misses++;
    parent = ch->parent_id != 0 ? pmap_get(&c->channels, ch->parent_id) : NULL;
    ch->ch.parent = parent != NULL && parent->ch.type == PERM_CHANNEL_CATEGORY ? &parent->ch : NULL;
    if (e == NULL)
        e = entry_add(c, mb, channel_id);
    e->perms = perm_channel(&c->g, &mb->m, &ch->ch, now_ms);
    e->chan_gen = ch->gen;
    e->valid_until = valid_until(mb, now_ms);
    ch->ch.parent = NULL; /* the category may go; link it afresh each time */
    return e->perms;
}

bool perm_cache_has(perm_cache_t *c, uint64_t user_id, uint64_t channel_id, uint64_t need,
                    int64_t now_ms)
{
    uint64_t p = channel_id != 0 ? perm_cache_channel(c, user_id, channel_id, now_ms)
                                 : perm_cache_base(c, user_id, now_ms);

    return (p & need) == need;
}

bool perm_cache_can_manage_member(perm_cache_t *c, uint64_t actor_id, uint64_t target_id)
{
    const member_t *a = pmap_get(&c->members, actor_id), *t = pmap_get(&c->members, target_id);

    return a != NULL && t != NULL && perm_can_manage_member(&c->g, &a->m, &t->m);
}

bool perm_cache_can_manage_role(perm_cache_t *c, uint64_t actor_id, uint64_t role_id)
{
    const member_t *a = pmap_get(&c->members, actor_id);
    const perm_role_t *r = perm_role_find(&c->g, role_id);

    return a != NULL && r != NULL && perm_can_manage_role(&c->g, &a->m, r);
}

const perm_guild_t *perm_cache_guild(const perm_cache_t *c)
{
    return &c->g;
}

const perm_member_t *perm_cache_member(const perm_cache_t *c, uint64_t user_id)
{
    const member_t *mb = pmap_get(&c->members, user_id);

    return mb != NULL ? &mb->m : NULL;
}

const perm_channel_t *perm_cache_channel_model(const perm_cache_t *c, uint64_t channel_id)
{
    const channel_t *ch = pmap_get(&c->channels, channel_id);

    return ch != NULL ? &ch->ch : NULL;
}

void perm_cache_stats(const perm_cache_t *c, perm_cache_stats_t *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    out->hits = c->hits;
    out->misses = c->misses;
    out->members = c->members.n;
    out->channels = c->channels.n;
    for (i = 0; i < c->members.cap; i++)
        if (c->members.keys[i] != 0)
            out->entries += ((const member_t *)c->members.vals[i])->n;
}
