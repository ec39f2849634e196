/* Permission flags, their names and decimal form, the computation of a member's
 * permissions (perm_base, perm_channel) and the role hierarchy, over the model of
 * perm.h. Pure functions: no allocation, no clock (callers pass the time). */
#include "perm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names -------------------------------------------------------------------------------- */

#define N(flag)                                                                                    \
    {                                                                                              \
#flag, PERM_##flag                                                                         \
    }
const perm_name_t perm_names[] = {
    N(CREATE_INSTANT_INVITE),
    N(KICK_MEMBERS),
    N(BAN_MEMBERS),
    N(ADMINISTRATOR),
    N(MANAGE_CHANNELS),
    N(MANAGE_GUILD),
    N(ADD_REACTIONS),
    N(VIEW_AUDIT_LOG),
    N(PRIORITY_SPEAKER),
    N(STREAM),
    N(VIEW_CHANNEL),
    N(SEND_MESSAGES),
    N(SEND_TTS_MESSAGES),
    N(MANAGE_MESSAGES),
    N(EMBED_LINKS),
    N(ATTACH_FILES),
    N(READ_MESSAGE_HISTORY),
    N(MENTION_EVERYONE),
    N(USE_EXTERNAL_EMOJIS),
    N(VIEW_GUILD_INSIGHTS),
    N(CONNECT),
    N(SPEAK),
    N(MUTE_MEMBERS),
    N(DEAFEN_MEMBERS),
    N(MOVE_MEMBERS),
    N(USE_VAD),
    N(CHANGE_NICKNAME),
    N(MANAGE_NICKNAMES),
    N(MANAGE_ROLES),
    N(MANAGE_WEBHOOKS),
    N(MANAGE_GUILD_EXPRESSIONS),
    N(USE_APPLICATION_COMMANDS),
    N(REQUEST_TO_SPEAK),
    N(MANAGE_EVENTS),
    N(MANAGE_THREADS),
    N(CREATE_PUBLIC_THREADS),
    N(CREATE_PRIVATE_THREADS),
    N(USE_EXTERNAL_STICKERS),
    N(SEND_MESSAGES_IN_THREADS),
    N(USE_EMBEDDED_ACTIVITIES),
    N(MODERATE_MEMBERS),
    N(VIEW_CREATOR_MONETIZATION_ANALYTICS),
    N(USE_SOUNDBOARD),
    N(CREATE_GUILD_EXPRESSIONS),
    N(CREATE_EVENTS),
    N(USE_EXTERNAL_SOUNDS),
    N(SEND_VOICE_MESSAGES),
    N(SET_VOICE_CHANNEL_STATUS),
    N(SEND_POLLS),
    N(USE_EXTERNAL_APPS),
    N(PIN_MESSAGES),
    N(BYPASS_SLOWMODE),
};
#undef N
const size_t perm_names_count = sizeof(perm_names) / sizeof(perm_names[0]);

const char *perm_name_of(uint64_t bit)
{
    size_t i;

    for (i = 0; i < perm_names_count; i++)
        if (perm_names[i].bit == bit)
            return perm_names[i].name;
    return NULL;
}

int perm_bit_of(const char *name, uint64_t *bit)
{
    size_t i;

    if (name == NULL)
        return -1;
    for (i = 0; i < perm_names_count; i++) {
        if (strcmp(perm_names[i].name, name) == 0) {
            *bit = perm_names[i].bit;
            return 0;
        }
    }
    /* The flag's old name, which bots still send. */
    if (strcmp(name, "MANAGE_EMOJIS_AND_STICKERS") == 0) {
        *bit = PERM_MANAGE_GUILD_EXPRESSIONS;
        return 0;
    }
    return -1;
}

/* ---- decimal form ------------------------------------------------------------------------- */

int perm_parse(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned d;
    size_t n = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; *s != '\0'; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 64) /* 64: leading zeros, but not forever */
            return -1;
        d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int perm_parse_json(const json_t *v, uint64_t *out)
{
    json_int_t i;

    if (json_is_string(v))
        return perm_parse(json_string_value(v), out);
    if (json_is_integer(v)) {
        i = json_integer_value(v);
        if (i < 0)
            return -1;
        *out = (uint64_t)i;
        return 0;
    }
    return -1;
}

char *perm_format(uint64_t perms, char buf[PERM_STR_SIZE])
{
    snprintf(buf, PERM_STR_SIZE, "%llu", (unsigned long long)perms);
    return buf;
}

size_t perm_format_names(uint64_t perms, char *buf, size_t size)
{
    const char *name;
    char tmp[16];
    size_t len = 0, k;
    unsigned b;

    if (size > 0)
        buf[0] = '\0';
    for (b = 0; b < 64; b++) {
        if (!(perms & (UINT64_C(1) << b)))
            continue;
        name = perm_name_of(UINT64_C(1) << b);
        if (name == NULL) {
            snprintf(tmp, sizeof(tmp), "1<<%u", b);
            name = tmp;
        }
        /* Append "|name" (no bar first), cutting at the buffer's end but counting all. */
        k = strlen(name) + (len > 0);
        if (len + k < size)
            snprintf(buf + len, size - len, "%s%s", len > 0 ? "|" : "", name);
        else if (len < size)
            buf[len] = '\0';
        len += k;
    }
    return len;
}

/* ---- the model ---------------------------------------------------------------------------- */

static int role_cmp_id(const void *a, const void *b)
{
    uint64_t x = ((const perm_role_t *)a)->id, y = ((const perm_role_t *)b)->id;

    return x < y ? -1 : x > y;
}

void perm_roles_sort(perm_role_t *roles, size_t n)
{
    if (n > 1)
        qsort(roles, n, sizeof(*roles), role_cmp_id);
}

const perm_role_t *perm_role_find(const perm_guild_t *g, uint64_t id)
{
    size_t lo = 0, hi = g->nroles, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (g->roles[mid].id == id)
            return &g->roles[mid];
        if (g->roles[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool perm_timed_out(const perm_member_t *m, int64_t now_ms)
{
    return m->timeout_until_ms > now_ms;
}

/* ---- the computation ---------------------------------------------------------------------- */

/* The base permissions before the timeout cut: owner and ADMINISTRATOR give PERM_ALL. */
static uint64_t base_raw(const perm_guild_t *g, const perm_member_t *m)
{
    const perm_role_t *r;
    uint64_t p = 0;
    size_t i;

    if (m->user_id == g->owner_id)
        return PERM_ALL;
    r = perm_role_find(g, g->id);
    if (r != NULL)
        p = r->permissions;
    for (i = 0; i < m->nroles; i++) {
        r = perm_role_find(g, m->roles[i]);
        if (r != NULL)
            p |= r->permissions;
    }
    return (p & PERM_ADMINISTRATOR) ? PERM_ALL : p;
}

uint64_t perm_base(const perm_guild_t *g, const perm_member_t *m, int64_t now_ms)
{
    uint64_t p = base_raw(g, m);

    /* PERM_ALL here means owner or administrator, who are exempt from timeouts. */
    if (p != PERM_ALL && perm_timed_out(m, now_ms))
        p &= PERM_TIMEOUT_KEEP;
    return p;
}

/* Whether id is one of m's roles. Members have few roles: a scan beats a sort. */
static bool member_has_role(const perm_member_t *m, uint64_t id)
{
    size_t i;

    for (i = 0; i < m->nroles; i++)
        if (m->roles[i] == id)
            return true;
    return false;
}

uint64_t perm_overwrites_apply(uint64_t base, const perm_guild_t *g, const perm_member_t *m,
                               const perm_channel_t *c)
{
    const perm_overwrite_t *ows = c->overwrites, *ow, *everyone = NULL, *member = NULL;
    size_t n = c->noverwrites, i;
    uint64_t allow = 0, deny = 0, p = base;

    if (n == 0 && c->parent != NULL) { /* no overwrites of its own: synced to its category */
        ows = c->parent->overwrites;
        n = c->parent->noverwrites;
    }
    /* One pass sorts the overwrites into the three steps; the steps then run in order. */
    for (i = 0; i < n; i++) {
        ow = &ows[i];
        if (ow->type == PERM_OW_MEMBER) {
            if (ow->id == m->user_id)
                member = ow;
        } else if (ow->id == g->id) {
            everyone = ow;
        } else if (member_has_role(m, ow->id)) {
            allow |= ow->allow;
            deny |= ow->deny;
        }
    }
    if (everyone != NULL) {
        p &= ~everyone->deny;
        p |= everyone->allow;
    }
    p &= ~deny;
    p |= allow;
    if (member != NULL) {
        p &= ~member->deny;
        p |= member->allow;
    }
    return p;
}

uint64_t perm_channel(const perm_guild_t *g, const perm_member_t *m, const perm_channel_t *c,
                      int64_t now_ms)
{
    uint64_t p = base_raw(g, m);

    if (p == PERM_ALL) /* owner or administrator: overwrites and implicit rules do not apply */
        return PERM_ALL;
    p = perm_overwrites_apply(p, g, m, c);
    if (!(p & PERM_VIEW_CHANNEL))
        return 0;
    if (!(p & PERM_SEND_MESSAGES))
        p &= ~PERM_SEND_IMPLIED;
    if ((c->type == PERM_CHANNEL_VOICE || c->type == PERM_CHANNEL_STAGE) && !(p & PERM_CONNECT))
        p &= ~PERM_CONNECT_IMPLIED;
    /* After the overwrites, so an overwrite that takes VIEW_CHANNEL still takes it. */
    if (perm_timed_out(m, now_ms))
        p &= PERM_TIMEOUT_KEEP;
    return p;
}

/* ---- the hierarchy ------------------------------------------------------------------------ */

bool perm_role_above(const perm_role_t *a, const perm_role_t *b)
{
    if (a->position != b->position)
        return a->position > b->position;
    return a->id < b->id;
}

void perm_highest_role(const perm_guild_t *g, const perm_member_t *m, perm_role_t *out)
{
    const perm_role_t *r, *best;
    size_t i;

    best = perm_role_find(g, g->id);
    if (best != NULL) {
        *out = *best;
    } else {
        out->id = g->id;
        out->position = 0;
        out->permissions = 0;
    }
    for (i = 0; i < m->nroles; i++) {
        r = perm_role_find(g, m->roles[i]);
        if (r != NULL && perm_role_above(r, out))
            *out = *r;
    }
}

int32_t perm_highest_position(const perm_guild_t *g, const perm_member_t *m)
{
    perm_role_t r;

    perm_highest_role(g, m, &r);
    return r.position;
}

bool perm_can_manage_member(const perm_guild_t *g, const perm_member_t *actor,
                            const perm_member_t *target)
{
    perm_role_t a, t;

    if (actor->user_id == target->user_id || target->user_id == g->owner_id)
        return false;
    if (actor->user_id == g->owner_id)
        return true;
    perm_highest_role(g, actor, &a);
    perm_highest_role(g, target, &t);
    return perm_role_above(&a, &t);
}

bool perm_can_manage_role(const perm_guild_t *g, const perm_member_t *actor,
                          const perm_role_t *role)
{
    perm_role_t a;

    if (actor->user_id == g->owner_id)
        return true;
    perm_highest_role(g, actor, &a);
    return perm_role_above(&a, role);
}

bool perm_can_grant(uint64_t actor_perms, uint64_t perms)
{
    if (actor_perms & PERM_ADMINISTRATOR)
        return true;
    return (perms & ~actor_perms) == 0;
}
