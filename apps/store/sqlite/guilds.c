/* Guilds and roles.
 *
 * A guild's @everyone role has the guild's id (as on Discord), position 0, and can
 * be changed but not deleted. New roles go to position 1, just above @everyone,
 * moving the others up, so positions stay dense from 0. A bot's managed role
 * (store_role_create_managed) is an ordinary row with managed = 1 and bot_id set, so
 * every list and the permission sums include it; members.c deletes it with the bot's
 * membership. */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROLES_MAX 250

/* ---- JSON ------------------------------------------------------------------------------------ */

#define GUILD_COLS                                                                                 \
    "g.id, g.name, g.icon, g.banner, g.splash, g.description, g.owner_id, "                        \
    "g.system_channel_id, g.afk_channel_id, g.afk_timeout, g.verification_level, "                 \
    "g.default_message_notifications, g.explicit_content_filter, g.preferred_locale"

/* The guild object (without roles) from GUILD_COLS at column 0. */
static json_t *guild_json(sqlite3_stmt *st)
{
    json_t *g;

    g = json_object();
    json_object_set_new(g, "id", j_col_id(st, 0));
    json_object_set_new(g, "name", j_col_str(st, 1));
    json_object_set_new(g, "icon", j_col_str(st, 2));
    json_object_set_new(g, "icon_hash", json_null());
    json_object_set_new(g, "banner", j_col_str(st, 3));
    json_object_set_new(g, "splash", j_col_str(st, 4));
    json_object_set_new(g, "discovery_splash", json_null());
    json_object_set_new(g, "description", j_col_str(st, 5));
    json_object_set_new(g, "owner_id", j_col_id(st, 6));
    json_object_set_new(g, "system_channel_id", j_col_id(st, 7));
    json_object_set_new(g, "system_channel_flags", json_integer(0));
    json_object_set_new(g, "afk_channel_id", j_col_id(st, 8));
    json_object_set_new(g, "afk_timeout", j_col_int(st, 9));
    json_object_set_new(g, "verification_level", j_col_int(st, 10));
    json_object_set_new(g, "default_message_notifications", j_col_int(st, 11));
    json_object_set_new(g, "explicit_content_filter", j_col_int(st, 12));
    json_object_set_new(g, "preferred_locale", j_col_str(st, 13));
    json_object_set_new(g, "widget_enabled", json_false());
    json_object_set_new(g, "widget_channel_id", json_null());
    json_object_set_new(g, "rules_channel_id", json_null());
    json_object_set_new(g, "public_updates_channel_id", json_null());
    json_object_set_new(g, "safety_alerts_channel_id", json_null());
    json_object_set_new(g, "mfa_level", json_integer(0));
    json_object_set_new(g, "nsfw_level", json_integer(0));
    json_object_set_new(g, "nsfw", json_false());
    json_object_set_new(g, "application_id", json_null());
    json_object_set_new(g, "vanity_url_code", json_null());
    json_object_set_new(g, "premium_tier", json_integer(0));
    json_object_set_new(g, "premium_subscription_count", json_integer(0));
    json_object_set_new(g, "premium_progress_bar_enabled", json_false());
    json_object_set_new(g, "max_members", json_integer(500000));
    json_object_set_new(g, "max_presences", json_null());
    json_object_set_new(g, "max_video_channel_users", json_integer(25));
    json_object_set_new(g, "features", json_array());
    json_object_set_new(g, "emojis", json_array());
    json_object_set_new(g, "stickers", json_array());
    return g;
}

#define ROLE_SELECT                                                                                \
    "SELECT id, name, color, hoist, icon, unicode_emoji, position, permissions, managed, "         \
    "mentionable, bot_id FROM roles"

static json_t *role_json(sqlite3_stmt *st)
{
    json_t *r, *colors;

    r = json_object();
    json_object_set_new(r, "id", j_col_id(st, 0));
    json_object_set_new(r, "name", j_col_str(st, 1));
    json_object_set_new(r, "color", j_col_int(st, 2));
    colors = json_object();
    json_object_set_new(colors, "primary_color", j_col_int(st, 2));
    json_object_set_new(colors, "secondary_color", json_null());
    json_object_set_new(colors, "tertiary_color", json_null());
    json_object_set_new(r, "colors", colors);
    json_object_set_new(r, "hoist", j_col_bool(st, 3));
    json_object_set_new(r, "icon", j_col_str(st, 4));
    json_object_set_new(r, "unicode_emoji", j_col_str(st, 5));
    json_object_set_new(r, "position", j_col_int(st, 6));
    json_object_set_new(r, "permissions", j_col_perm(st, 7));
    json_object_set_new(r, "managed", j_col_bool(st, 8));
    json_object_set_new(r, "mentionable", j_col_bool(st, 9));
    json_object_set_new(r, "flags", json_integer(0));
    /* Discord sends tags only on roles that have one (discord.js reads tags.bot_id to
     * find a bot's own role). */
    if (sqlite3_column_type(st, 10) != SQLITE_NULL)
        json_object_set_new(r, "tags", json_pack("{s:o}", "bot_id", j_col_id(st, 10)));
    return r;
}

json_t *db_roles_json(store_t *s, uint64_t guild_id)
{
    sqlite3_stmt *st;
    json_t *a;

    a = json_array();
    st = db_prep(s, ROLE_SELECT " WHERE guild_id = ?1 ORDER BY position, id");
    if (st == NULL)
        return a;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    while (db_step(s, st) == SQLITE_ROW)
        json_array_append_new(a, role_json(st));
    db_reset(st);
    return a;
}

/* ---- guilds ---------------------------------------------------------------------------------- */

static const field_t guild_fields[] = {
    {"name", "name", F_STR, 2, 100, false},
    {"icon", "icon", F_STR, 1, 256, true},
    {"banner", "banner", F_STR, 1, 256, true},
    {"splash", "splash", F_STR, 1, 256, true},
    {"description", "description", F_STR, 0, 120, true},
    {"owner_id", "owner_id", F_ID, 0, 0, false},
    {"system_channel_id", "system_channel_id", F_ID, 0, 0, true},
    {"afk_channel_id", "afk_channel_id", F_ID, 0, 0, true},
    {"afk_timeout", "afk_timeout", F_INT, 60, 3600, false},
    {"verification_level", "verification_level", F_INT, 0, 4, false},
    {"default_message_notifications", "default_message_notifications", F_INT, 0, 1, false},
    {"explicit_content_filter", "explicit_content_filter", F_INT, 0, 2, false},
    {"preferred_locale", "preferred_locale", F_STR, 2, 10, false},
};
#define NGUILD_FIELDS (sizeof(guild_fields) / sizeof(guild_fields[0]))

int store_guild_create(store_t *s, uint64_t owner_id, const json_t *params, json_t **out)
{
    static const field_t create_fields[] = {
        {"icon", "icon", F_STR, 1, 256, true},
        {"description", "description", F_STR, 0, 120, true},
    };
    const char *name;
    sqlite3_stmt *st;
    uint64_t gid = 0, cid;
    int64_t now;
    int rc;

    if (p_str(params, "name", 2, 100, false, &name) != 1)
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM users WHERE id = ?1", owner_id);
    if (rc < 0)
        goto out;
    gid = snowflake_next();
    cid = snowflake_next();
    st = db_prep(s, "INSERT INTO guilds (id, name, owner_id, system_channel_id)"
                    " VALUES (?1, ?2, ?3, ?4)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)gid);
    db_bind_text(st, 2, name);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)owner_id);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)cid);
    rc = db_run(s, st);
    if (rc < 0)
        goto out;
    rc = db_apply(s, "guilds", "id = ?1", gid, 0, create_fields, 2, params);
    if (rc < 0)
        goto out;
    st = db_prep(s, "INSERT INTO roles (id, guild_id, name, position, permissions)"
                    " VALUES (?1, ?1, '@everyone', 0, ?2)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)gid);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)STORE_PERM_EVERYONE_DEFAULT);
    rc = db_run(s, st);
    if (rc < 0)
        goto out;
    st = db_prep(s, "INSERT INTO channels (id, guild_id, type, name, position)"
                    " VALUES (?1, ?2, 0, 'general', 0)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)cid);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)gid);
    rc = db_run(s, st);
    if (rc < 0)
        goto out;
    now = db_now_ms();
    rc = db_member_insert(s, gid, owner_id, now);
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_guild_get(s, gid, out);
}

int store_guild_get(store_t *s, uint64_t guild_id, json_t **out)
{
    sqlite3_stmt *st;
    json_t *g;
    int rc;

    st = db_prep(s, "SELECT " GUILD_COLS " FROM guilds g WHERE g.id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    rc = db_step(s, st);
    if (rc != SQLITE_ROW) {
        db_reset(st);
        return rc == SQLITE_DONE ? STORE_ENOTFOUND : rc;
    }
    g = guild_json(st);
    db_reset(st);
    json_object_set_new(g, "roles", db_roles_json(s, guild_id));
    if (out != NULL)
        *out = g;
    else
        json_decref(g);
    return 0;
}

int store_guild_load(store_t *s, uint64_t guild_id, json_t **out)
{
    json_t *g, *channels, *members;
    bool own;
    int rc;

    g = NULL;
    channels = members = NULL;
    /* One read transaction (unless the caller has one), so the parts agree. */
    own = sqlite3_get_autocommit(s->db) != 0;
    if (own && (rc = db_exec(s, "BEGIN")) < 0)
        return rc;
    rc = store_guild_get(s, guild_id, &g);
    if (rc == 0)
        rc = store_channel_list(s, guild_id, &channels);
    if (rc == 0)
        rc = db_members_all(s, guild_id, &members);
    if (own)
        db_exec(s, "COMMIT");
    if (rc < 0) {
        json_decref(g);
        json_decref(channels);
        json_decref(members);
        return rc;
    }
    json_object_set_new(g, "member_count", json_integer((json_int_t)json_array_size(members)));
    json_object_set_new(g, "channels", channels);
    json_object_set_new(g, "members", members);
    if (out != NULL)
        *out = g;
    else
        json_decref(g);
    return 0;
}

/* Checks that params' channel ids (when present and not null) are channels of the
 * guild, and owner_id a member. 0, STORE_EINVAL or STORE_ENOTFOUND. */
static int guild_refs_ok(store_t *s, uint64_t guild_id, const json_t *params)
{
    static const char *const keys[] = {"system_channel_id", "afk_channel_id"};
    uint64_t id;
    size_t i;
    int rc;

    for (i = 0; i < 2; i++) {
        id = 0;
        rc = p_id(params, keys[i], true, &id);
        if (rc < 0)
            return rc;
        if (id != 0) {
            rc = db_exists2(s, "SELECT 1 FROM channels WHERE id = ?1 AND guild_id = ?2", id,
                            guild_id);
            if (rc < 0)
                return rc;
        }
    }
    id = 0;
    rc = p_id(params, "owner_id", false, &id);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return store_member_check(s, guild_id, id);
    return 0;
}

int store_guild_modify(store_t *s, uint64_t guild_id, const json_t *params, json_t **out)
{
    int rc;

    if (params != NULL && !json_is_object(params))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc == 0)
        rc = guild_refs_ok(s, guild_id, params);
    if (rc == 0)
        rc = db_apply(s, "guilds", "id = ?1", guild_id, 0, guild_fields, NGUILD_FIELDS, params);
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_guild_get(s, guild_id, out);
}

int store_guild_delete(store_t *s, uint64_t guild_id)
{
    sqlite3_stmt *st;
    int rc;

    /* The foreign keys cascade to roles, members, channels (and so messages and
     * reactions) and invites, all in this one statement's transaction. */
    st = db_prep(s, "DELETE FROM guilds WHERE id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    rc = db_run(s, st);
    if (rc == 0 && sqlite3_changes(s->db) == 0)
        rc = STORE_ENOTFOUND;
    return rc;
}

/* The base permissions of user_id in a guild: everything for the owner or an
 * administrator, else @everyone's and their roles' bits together. */
static uint64_t base_permissions(store_t *s, uint64_t guild_id, uint64_t owner_id, uint64_t user_id)
{
    sqlite3_stmt *st;
    uint64_t perms;

    if (owner_id == user_id)
        return STORE_PERM_ALL;
    perms = 0;
    st = db_prep(s, "SELECT permissions FROM roles WHERE id = ?1 UNION ALL"
                    " SELECT r.permissions FROM member_roles mr JOIN roles r ON r.id = mr.role_id"
                    " WHERE mr.guild_id = ?1 AND mr.user_id = ?2");
    if (st == NULL)
        return 0;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)user_id);
    while (db_step(s, st) == SQLITE_ROW)
        perms |= (uint64_t)sqlite3_column_int64(st, 0);
    db_reset(st);
    return perms & STORE_PERM_ADMINISTRATOR ? STORE_PERM_ALL : perms;
}

int store_user_guilds(store_t *s, uint64_t user_id, const store_page_t *pg, json_t **out)
{
    uint64_t before, after, gid, owner;
    sqlite3_stmt *st;
    char buf[24];
    json_t *a, *g;
    int limit, rc;

    before = pg != NULL && pg->before != 0 ? pg->before : UINT64_MAX >> 1;
    after = pg != NULL ? pg->after : 0;
    limit = pg != NULL && pg->limit != 0 ? pg->limit : 200;
    if (limit < 1 || limit > 200)
        return STORE_EINVAL;
    st = db_prep(s, "SELECT g.id, g.name, g.icon, g.banner, g.owner_id FROM members m"
                    " JOIN guilds g ON g.id = m.guild_id"
                    " WHERE m.user_id = ?1 AND g.id > ?2 AND g.id < ?3 ORDER BY g.id LIMIT ?4");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)user_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)before);
    sqlite3_bind_int(st, 4, limit);
    a = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW) {
        gid = db_col_id(st, 0);
        owner = db_col_id(st, 4);
        g = json_object();
        json_object_set_new(g, "id", j_col_id(st, 0));
        json_object_set_new(g, "name", j_col_str(st, 1));
        json_object_set_new(g, "icon", j_col_str(st, 2));
        json_object_set_new(g, "banner", j_col_str(st, 3));
        json_object_set_new(g, "owner", json_boolean(owner == user_id));
        snprintf(buf, sizeof(buf), "%llu",
                 (unsigned long long)base_permissions(s, gid, owner, user_id));
        json_object_set_new(g, "permissions", json_string(buf));
        json_object_set_new(g, "features", json_array());
        json_array_append_new(a, g);
    }
    return db_list_done(st, rc, a, out);
}

int store_guild_list(store_t *s, const store_page_t *pg, json_t **out)
{
    sqlite3_stmt *st;
    json_t *a, *g;
    int limit, rc;

    limit = pg != NULL && pg->limit != 0 ? pg->limit : 100;
    if (limit < 1 || limit > 1000)
        return STORE_EINVAL;
    st =
        db_prep(s, "SELECT " GUILD_COLS ", (SELECT count(*) FROM members m WHERE m.guild_id = g.id)"
                   " FROM guilds g WHERE g.id > ?1 ORDER BY g.id LIMIT ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(pg != NULL ? pg->after : 0));
    sqlite3_bind_int(st, 2, limit);
    a = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW) {
        g = guild_json(st);
        json_object_set_new(g, "member_count", j_col_int(st, 14));
        json_array_append_new(a, g);
    }
    return db_list_done(st, rc, a, out);
}

/* ---- roles ----------------------------------------------------------------------------------- */

static const field_t role_fields[] = {
    {"name", "name", F_STR, 1, 100, false},
    {"permissions", "permissions", F_PERM, 0, 0, false},
    {"color", "color", F_INT, 0, 0xFFFFFF, false},
    {"hoist", "hoist", F_BOOL, 0, 0, false},
    {"mentionable", "mentionable", F_BOOL, 0, 0, false},
    {"icon", "icon", F_STR, 1, 256, true},
    {"unicode_emoji", "unicode_emoji", F_STR, 1, 32, true},
};
#define NROLE_FIELDS (sizeof(role_fields) / sizeof(role_fields[0]))

int store_role_get(store_t *s, uint64_t guild_id, uint64_t role_id, json_t **out)
{
    sqlite3_stmt *st;
    int rc;

    st = db_prep(s, ROLE_SELECT " WHERE id = ?1 AND guild_id = ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)role_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)guild_id);
    rc = db_step(s, st);
    if (rc == SQLITE_ROW) {
        if (out != NULL)
            *out = role_json(st);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = STORE_ENOTFOUND;
    }
    db_reset(st);
    return rc;
}

int store_role_create(store_t *s, uint64_t guild_id, const json_t *params, json_t **out)
{
    sqlite3_stmt *st;
    int64_t count;
    uint64_t id = 0;
    int rc;

    if (params != NULL && !json_is_object(params))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc < 0)
        goto out;
    st = db_prep(s, "SELECT count(*) FROM roles WHERE guild_id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    rc = db_one_int(s, st, &count);
    if (rc < 0)
        goto out;
    if (count >= ROLES_MAX) {
        rc = STORE_ELIMIT;
        goto out;
    }
    rc = db_run_id(s,
                   "UPDATE roles SET position = position + 1 WHERE guild_id = ?1 AND position >= 1",
                   guild_id);
    if (rc < 0)
        goto out;
    id = snowflake_next();
    st = db_prep(s, "INSERT INTO roles (id, guild_id, name, position, permissions)"
                    " VALUES (?1, ?2, 'new role', 1, 0)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)guild_id);
    rc = db_run(s, st);
    if (rc == 0)
        rc = db_apply(s, "roles", "id = ?1", id, 0, role_fields, NROLE_FIELDS, params);
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_role_get(s, guild_id, id, out);
}

int store_role_create_managed(store_t *s, uint64_t guild_id, uint64_t bot_id, uint64_t perms,
                              json_t **out)
{
    char buf[21];
    sqlite3_stmt *st;
    json_t *params, *r = NULL;
    uint64_t id = 0;
    int rc;

    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists2(s, "SELECT 1 FROM members WHERE guild_id = ?1 AND user_id = ?2", guild_id,
                    bot_id);
    if (rc == 0) {
        rc = db_exists2(s, "SELECT 1 FROM roles WHERE guild_id = ?1 AND bot_id = ?2", guild_id,
                        bot_id);
        rc = rc == 0 ? STORE_EEXIST : rc == STORE_ENOTFOUND ? 0 : rc;
    }
    if (rc < 0)
        goto out;
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)(perms & (uint64_t)INT64_MAX));
    params = json_pack("{s:s}", "permissions", buf);
    rc = store_role_create(s, guild_id, params, &r); /* nested: a savepoint */
    json_decref(params);
    if (rc < 0)
        goto out;
    if (p_id(r, "id", false, &id) != 1)
        rc = STORE_EIO;
    json_decref(r);
    if (rc < 0)
        goto out;
    /* Named after the bot as Discord does; its username fits a role name (at most 32). */
    st = db_prep(s, "UPDATE roles SET managed = 1, bot_id = ?2,"
                    " name = (SELECT username FROM users WHERE id = ?2) WHERE id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)bot_id);
    rc = db_run(s, st);
    if (rc < 0)
        goto out;
    st = db_prep(s, "INSERT INTO member_roles (guild_id, user_id, role_id) VALUES (?1, ?2, ?3)");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)bot_id);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)id);
    rc = db_run(s, st);
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_role_get(s, guild_id, id, out);
}

int db_role_delete_managed(store_t *s, uint64_t guild_id, uint64_t bot_id)
{
    sqlite3_stmt *st;
    int64_t id;
    int rc;

    st = db_prep(s, "SELECT id FROM roles WHERE guild_id = ?1 AND bot_id = ?2");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)bot_id);
    rc = db_one_int(s, st, &id);
    if (rc == STORE_ENOTFOUND)
        return 0;
    if (rc < 0)
        return rc;
    return store_role_delete(s, guild_id, (uint64_t)id);
}

int store_role_modify(store_t *s, uint64_t guild_id, uint64_t role_id, const json_t *params,
                      json_t **out)
{
    static const field_t position_field[] = {{"position", "position", F_INT, 1, ROLES_MAX, false}};
    int rc;

    if (params != NULL && !json_is_object(params))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists2(s, "SELECT 1 FROM roles WHERE id = ?1 AND guild_id = ?2", role_id, guild_id);
    if (rc == 0)
        rc = db_apply(s, "roles", "id = ?1", role_id, 0, role_fields, NROLE_FIELDS, params);
    /* @everyone stays at 0; others may be moved (store_role_positions for many). */
    if (rc == 0 && role_id != guild_id)
        rc = db_apply(s, "roles", "id = ?1", role_id, 0, position_field, 1, params);
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    return store_role_get(s, guild_id, role_id, out);
}

int store_role_positions(store_t *s, uint64_t guild_id, const json_t *list, json_t **out)
{
    static const field_t position_field[] = {{"position", "position", F_INT, 1, ROLES_MAX, false}};
    uint64_t id;
    size_t i;
    json_t *e;
    int rc;

    if (!json_is_array(list))
        return STORE_EINVAL;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    json_array_foreach(list, i, e)
    {
        if (rc < 0)
            break;
        if (!json_is_object(e) || p_id(e, "id", false, &id) != 1 || id == guild_id) {
            rc = STORE_EINVAL;
            break;
        }
        rc = db_exists2(s, "SELECT 1 FROM roles WHERE id = ?1 AND guild_id = ?2", id, guild_id);
        if (rc == 0)
            rc = db_apply(s, "roles", "id = ?1", id, 0, position_field, 1, e);
    }
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    if (out != NULL)
        *out = db_roles_json(s, guild_id);
    return 0;
}

int store_role_delete(store_t *s, uint64_t guild_id, uint64_t role_id)
{
    sqlite3_stmt *st;
    int64_t pos;
    int rc;

    if (role_id == guild_id)
        return STORE_EINVAL; /* @everyone */
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    st = db_prep(s, "SELECT position FROM roles WHERE id = ?1 AND guild_id = ?2");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)role_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)guild_id);
    rc = db_one_int(s, st, &pos);
    if (rc < 0)
        goto out;
    /* member_roles rows go with it (ON DELETE CASCADE). */
    st = db_prep(s, "DELETE FROM roles WHERE id = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)role_id);
    rc = db_run(s, st);
    if (rc < 0)
        goto out;
    st = db_prep(s,
                 "UPDATE roles SET position = position - 1 WHERE guild_id = ?1 AND position > ?2");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)guild_id);
    sqlite3_bind_int64(st, 2, pos);
    rc = db_run(s, st);
out:
    return db_end(s, rc);
}

int store_role_list(store_t *s, uint64_t guild_id, json_t **out)
{
    int rc;

    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc < 0)
        return rc;
    if (out != NULL)
        *out = db_roles_json(s, guild_id);
    return 0;
}
