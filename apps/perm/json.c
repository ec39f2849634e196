/* Building perm.h's model from the store's Discord-shaped JSON: guild objects with their
 * roles, member objects, channel objects with permission_overwrites. Ids come as decimal
 * strings (integers are accepted too), permissions as decimal strings. */
#include "perm.h"

#include "store/snowflake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Small allocations abort on OOM, as everywhere in the apps. */
static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (p == NULL)
        abort();
    return p;
}

int perm_id_from_json(const json_t *v, uint64_t *out)
{
    json_int_t i;

    if (json_is_string(v))
        return snowflake_parse(json_string_value(v), out);
    if (json_is_integer(v) && (i = json_integer_value(v)) > 0) {
        *out = (uint64_t)i;
        return 0;
    }
    return -1;
}

int perm_iso_ms(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0, sign = 1;
    int64_t frac = 0, scale;
    struct tm tm;

    if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19)
        return -1;
    s += n;
    if (*s == '.') {
        /* Milliseconds from the first three digits; the rest (Discord sends six) ignored. */
        for (s++, scale = 100; *s >= '0' && *s <= '9'; s++, scale /= 10)
            frac += (*s - '0') * scale;
    }
    if (*s == 'Z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        if (sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
            return -1;
        s += 6;
    }
    if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        oh > 23 || om > 59)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *ms = ((int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60)) * 1000 + frac;
    return 0;
}

/* ---- roles and guilds --------------------------------------------------------------------- */

int perm_role_from_json(const json_t *j, perm_role_t *out)
{
    const json_t *pos = json_object_get(j, "position");

    if (!json_is_object(j) || perm_id_from_json(json_object_get(j, "id"), &out->id) < 0 ||
        perm_parse_json(json_object_get(j, "permissions"), &out->permissions) < 0)
        return -1;
    /* Positions are small; a missing one counts as @everyone's level. */
    out->position = json_is_integer(pos) ? (int32_t)json_integer_value(pos) : 0;
    return 0;
}

int perm_guild_from_json(const json_t *guild, perm_guild_t *out)
{
    const json_t *roles = json_object_get(guild, "roles"), *r;
    perm_guild_t g = {0};
    size_t i;

    if (!json_is_object(guild) || perm_id_from_json(json_object_get(guild, "id"), &g.id) < 0 ||
        perm_id_from_json(json_object_get(guild, "owner_id"), &g.owner_id) < 0 ||
        (roles != NULL && !json_is_array(roles)))
        return -1;
    g.nroles = json_array_size(roles);
    g.roles = xcalloc(g.nroles, sizeof(*g.roles));
    json_array_foreach(roles, i, r)
    {
        if (perm_role_from_json(r, &g.roles[i]) < 0) {
            free(g.roles);
            return -1;
        }
    }
    perm_roles_sort(g.roles, g.nroles);
    *out = g;
    return 0;
}

void perm_guild_clear(perm_guild_t *g)
{
    free(g->roles);
    memset(g, 0, sizeof(*g));
}

/* ---- members ------------------------------------------------------------------------------ */

int perm_member_from_json(const json_t *member, perm_member_t *out)
{
    const json_t *roles = json_object_get(member, "roles"), *r, *until;
    perm_member_t m = {0};
    size_t i;

    if (!json_is_object(member) || (roles != NULL && !json_is_array(roles)))
        return -1;
    if (perm_id_from_json(json_object_get(json_object_get(member, "user"), "id"), &m.user_id) < 0 &&
        perm_id_from_json(json_object_get(member, "user_id"), &m.user_id) < 0)
        return -1;
    until = json_object_get(member, "communication_disabled_until");
    if (json_is_string(until) && perm_iso_ms(json_string_value(until), &m.timeout_until_ms) < 0)
        return -1;
    if (until != NULL && !json_is_string(until) && !json_is_null(until))
        return -1;
    m.nroles = json_array_size(roles);
    m.roles = xcalloc(m.nroles, sizeof(*m.roles));
    json_array_foreach(roles, i, r)
    {
        if (perm_id_from_json(r, &m.roles[i]) < 0) {
            free(m.roles);
            return -1;
        }
    }
    *out = m;
    return 0;
}

void perm_member_clear(perm_member_t *m)
{
    free(m->roles);
    memset(m, 0, sizeof(*m));
}

/* ---- channels ----------------------------------------------------------------------------- */

/* An overwrite's type: 0/1, or the names API v6 used. */
static int ow_type_of(const json_t *v)
{
    const char *s;

    if (json_is_integer(v)) {
        if (json_integer_value(v) == PERM_OW_ROLE || json_integer_value(v) == PERM_OW_MEMBER)
            return (int)json_integer_value(v);
        return -1;
    }
    s = json_string_value(v);
    if (s == NULL)
        return -1;
    if (strcmp(s, "0") == 0 || strcmp(s, "role") == 0)
        return PERM_OW_ROLE;
    if (strcmp(s, "1") == 0 || strcmp(s, "member") == 0)
        return PERM_OW_MEMBER;
    return -1;
}

/* allow and deny may be absent (nothing) as in a PUT that sets only one of them. */
static int ow_bits_of(const json_t *v, uint64_t *out)
{
    *out = 0;
    return v == NULL || json_is_null(v) ? 0 : perm_parse_json(v, out);
}

int perm_channel_from_json(const json_t *channel, perm_channel_t *out)
{
    const json_t *ows = json_object_get(channel, "permission_overwrites"), *type, *o;
    perm_channel_t c = {0};
    perm_overwrite_t *ow;
    size_t i;

    type = json_object_get(channel, "type");
    if (!json_is_object(channel) || perm_id_from_json(json_object_get(channel, "id"), &c.id) < 0 ||
        !json_is_integer(type) || (ows != NULL && !json_is_array(ows) && !json_is_null(ows)))
        return -1;
    c.type = (int)json_integer_value(type);
    c.noverwrites = json_array_size(ows);
    c.overwrites = xcalloc(c.noverwrites, sizeof(*c.overwrites));
    json_array_foreach(ows, i, o)
    {
        ow = &c.overwrites[i];
        if (!json_is_object(o) || perm_id_from_json(json_object_get(o, "id"), &ow->id) < 0 ||
            (ow->type = ow_type_of(json_object_get(o, "type"))) < 0 ||
            ow_bits_of(json_object_get(o, "allow"), &ow->allow) < 0 ||
            ow_bits_of(json_object_get(o, "deny"), &ow->deny) < 0) {
            free(c.overwrites);
            return -1;
        }
    }
    *out = c;
    return 0;
}

void perm_channel_clear(perm_channel_t *c)
{
    free(c->overwrites);
    memset(c, 0, sizeof(*c));
}
