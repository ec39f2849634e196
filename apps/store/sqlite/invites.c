/* Invites: random 8-character codes for a guild channel, with an age limit and a use
 * limit. Accepting one counts the use and adds the member in one write transaction,
 * so two people racing for the last use of a one-use invite cannot both get in. */
#include "db.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_LEN 8
#define MAX_AGE_MAX 604800 /* seconds: 7 days, Discord's limit */
#define MAX_USES_MAX 100

#define INVITE_SELECT                                                                              \
    "SELECT i.code, i.guild_id, i.channel_id, i.inviter_id, i.max_age, i.max_uses, i.uses, "       \
    "i.temporary, i.created_at, g.name, g.icon, g.banner, g.splash, g.description, "               \
    "g.verification_level, c.name, c.type FROM invites i JOIN guilds g ON g.id = i.guild_id "      \
    "JOIN channels c ON c.id = i.channel_id"

/* Whether an INVITE_SELECT row can no longer be used. */
static bool invite_dead(sqlite3_stmt *st, int64_t now)
{
    int64_t max_age, max_uses, uses, created;

    max_age = sqlite3_column_int64(st, 4);
    max_uses = sqlite3_column_int64(st, 5);
    uses = sqlite3_column_int64(st, 6);
    created = sqlite3_column_int64(st, 8);
    return (max_age > 0 && now >= created + max_age * 1000) || (max_uses > 0 && uses >= max_uses);
}

/* The invite object with metadata from an INVITE_SELECT row. */
static json_t *invite_json(store_t *s, sqlite3_stmt *st)
{
    json_t *inv, *g, *c, *u;
    int64_t max_age;

    g = json_object();
    json_object_set_new(g, "id", j_col_id(st, 1));
    json_object_set_new(g, "name", j_col_str(st, 9));
    json_object_set_new(g, "icon", j_col_str(st, 10));
    json_object_set_new(g, "banner", j_col_str(st, 11));
    json_object_set_new(g, "splash", j_col_str(st, 12));
    json_object_set_new(g, "description", j_col_str(st, 13));
    json_object_set_new(g, "verification_level", j_col_int(st, 14));
    json_object_set_new(g, "features", json_array());
    json_object_set_new(g, "vanity_url_code", json_null());
    json_object_set_new(g, "nsfw_level", json_integer(0));
    json_object_set_new(g, "premium_subscription_count", json_integer(0));
    c = json_object();
    json_object_set_new(c, "id", j_col_id(st, 2));
    json_object_set_new(c, "type", j_col_int(st, 16));
    json_object_set_new(c, "name", j_col_str(st, 15));
    inv = json_object();
    json_object_set_new(inv, "type", json_integer(0));
    json_object_set_new(inv, "code", j_col_str(st, 0));
    json_object_set_new(inv, "guild_id", j_col_id(st, 1));
    json_object_set_new(inv, "guild", g);
    json_object_set_new(inv, "channel_id", j_col_id(st, 2));
    json_object_set_new(inv, "channel", c);
    if (sqlite3_column_type(st, 3) != SQLITE_NULL && (u = j_user_get(s, db_col_id(st, 3))) != NULL)
        json_object_set_new(inv, "inviter", u);
    max_age = sqlite3_column_int64(st, 4);
    json_object_set_new(inv, "uses", j_col_int(st, 6));
    json_object_set_new(inv, "max_uses", j_col_int(st, 5));
    json_object_set_new(inv, "max_age", json_integer(max_age));
    json_object_set_new(inv, "temporary", j_col_bool(st, 7));
    json_object_set_new(inv, "created_at", j_col_time(st, 8));
    json_object_set_new(inv, "expires_at",
                        max_age > 0 ? j_time(sqlite3_column_int64(st, 8) + max_age * 1000)
                                    : json_null());
    return inv;
}

/* Reads the invite code into *out (with the member count when counts). 0,
 * STORE_ENOTFOUND, or STORE_EEXPIRED when check_dead and it is dead. */
static int invite_read(store_t *s, const char *code, bool check_dead, bool counts, json_t **out)
{
    sqlite3_stmt *st;
    int64_t members;
    uint64_t gid;
    json_t *inv;
    int rc;

    st = db_prep(s, INVITE_SELECT " WHERE i.code = ?1");
    if (st == NULL)
        return STORE_EIO;
    db_bind_text(st, 1, code);
    rc = db_step(s, st);
    if (rc != SQLITE_ROW) {
        db_reset(st);
        return rc == SQLITE_DONE ? STORE_ENOTFOUND : rc;
    }
    if (check_dead && invite_dead(st, db_now_ms())) {
        db_reset(st);
        return STORE_EEXPIRED;
    }
    gid = db_col_id(st, 1);
    inv = out != NULL ? invite_json(s, st) : NULL;
    db_reset(st);
    if (inv != NULL && counts) {
        st = db_prep(s, "SELECT count(*) FROM members WHERE guild_id = ?1");
        if (st != NULL) {
            sqlite3_bind_int64(st, 1, (sqlite3_int64)gid);
            if (db_one_int(s, st, &members) == 0)
                json_object_set_new(inv, "approximate_member_count", json_integer(members));
        }
        /* Presence is the gateway's to know, not the store's. */
        json_object_set_new(inv, "approximate_presence_count", json_integer(0));
    }
    if (out != NULL)
        *out = inv;
    return 0;
}

int store_invite_create(store_t *s, const store_invite_new_t *p, json_t **out)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char code[CODE_LEN + 1];
    sqlite3_stmt *st;
    int64_t guild_id;
    int i, tries, rc;

    if (p == NULL || p->max_age < 0 || p->max_age > MAX_AGE_MAX || p->max_uses < 0 ||
        p->max_uses > MAX_USES_MAX)
        return STORE_EINVAL;
    st = db_prep(s, "SELECT guild_id FROM channels WHERE id = ?1");
    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)p->channel_id);
    rc = db_one_int(s, st, &guild_id);
    if (rc < 0)
        return rc;
    if (guild_id == 0)
        return STORE_EINVAL; /* DM channels have no invites */
    /* 62^8 codes: a collision is rare; the primary key catches it and we draw again. */
    for (tries = 0; tries < 8; tries++) {
        for (i = 0; i < CODE_LEN; i++)
            code[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
        code[CODE_LEN] = '\0';
        st =
            db_prep(s, "INSERT INTO invites (code, guild_id, channel_id, inviter_id, max_age,"
                       " max_uses, temporary, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        if (st == NULL)
            return STORE_EIO;
        db_bind_text(st, 1, code);
        sqlite3_bind_int64(st, 2, guild_id);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)p->channel_id);
        db_bind_id(st, 4, p->inviter_id);
        sqlite3_bind_int64(st, 5, p->max_age);
        sqlite3_bind_int64(st, 6, p->max_uses);
        sqlite3_bind_int(st, 7, p->temporary);
        sqlite3_bind_int64(st, 8, db_now_ms());
        rc = db_run(s, st);
        if (rc != STORE_EEXIST)
            break;
    }
    if (rc < 0)
        return rc; /* an unknown inviter fails the foreign key: STORE_ENOTFOUND */
    return invite_read(s, code, false, false, out);
}

int store_invite_get(store_t *s, const char *code, json_t **out)
{
    if (code == NULL)
        return STORE_ENOTFOUND;
    return invite_read(s, code, true, true, out);
}

int store_invite_use(store_t *s, const char *code, uint64_t user_id, json_t **out)
{
    sqlite3_stmt *st;
    uint64_t gid;
    bool dead;
    int rc;

    if (code == NULL)
        return STORE_ENOTFOUND;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    st = db_prep(s, INVITE_SELECT " WHERE i.code = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    db_bind_text(st, 1, code);
    rc = db_step(s, st);
    dead = rc == SQLITE_ROW && invite_dead(st, db_now_ms());
    gid = rc == SQLITE_ROW ? db_col_id(st, 1) : 0;
    db_reset(st);
    if (rc < 0)
        goto out;
    if (rc == SQLITE_DONE) {
        rc = STORE_ENOTFOUND;
        goto out;
    }
    rc = store_member_check(s, gid, user_id);
    if (rc == 0) {
        rc = STORE_UNCHANGED; /* already in: no use counted, even on a dead invite */
        goto out;
    }
    if (rc != STORE_ENOTFOUND)
        goto out;
    if (dead) {
        rc = STORE_EEXPIRED;
        goto out;
    }
    st = db_prep(s, "UPDATE invites SET uses = uses + 1 WHERE code = ?1");
    if (st == NULL) {
        rc = STORE_EIO;
        goto out;
    }
    db_bind_text(st, 1, code);
    rc = db_run(s, st);
    if (rc == 0)
        rc = db_member_insert(s, gid, user_id, db_now_ms()); /* no user: STORE_ENOTFOUND */
out:
    rc = db_end(s, rc);
    if (rc < 0)
        return rc;
    if (out != NULL) {
        int e = invite_read(s, code, false, true, out);

        if (e < 0)
            return e;
    }
    return rc;
}

int store_invite_delete(store_t *s, const char *code, json_t **out)
{
    json_t *inv = NULL;
    sqlite3_stmt *st;
    int rc;

    if (code == NULL)
        return STORE_ENOTFOUND;
    rc = db_begin(s);
    if (rc < 0)
        return rc;
    rc = invite_read(s, code, false, false, &inv);
    if (rc == 0) {
        st = db_prep(s, "DELETE FROM invites WHERE code = ?1");
        if (st == NULL) {
            rc = STORE_EIO;
        } else {
            db_bind_text(st, 1, code);
            rc = db_run(s, st);
        }
    }
    rc = db_end(s, rc);
    if (rc < 0) {
        json_decref(inv);
        return rc;
    }
    if (out != NULL)
        *out = inv;
    else
        json_decref(inv);
    return 0;
}

/* The live invites matching where (?1 = id), newest first. */
static int invite_list(store_t *s, sqlite3_stmt *st, uint64_t id, json_t **out)
{
    int64_t now;
    json_t *a;
    int rc;

    if (st == NULL)
        return STORE_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
    now = db_now_ms();
    a = json_array();
    while ((rc = db_step(s, st)) == SQLITE_ROW) {
        if (!invite_dead(st, now))
            json_array_append_new(a, invite_json(s, st));
    }
    return db_list_done(st, rc, a, out);
}

int store_invite_list_guild(store_t *s, uint64_t guild_id, json_t **out)
{
    int rc;

    rc = db_exists(s, "SELECT 1 FROM guilds WHERE id = ?1", guild_id);
    if (rc < 0)
        return rc;
    return invite_list(
        s, db_prep(s, INVITE_SELECT " WHERE i.guild_id = ?1 ORDER BY i.created_at DESC, i.code"),
        guild_id, out);
}

int store_invite_list_channel(store_t *s, uint64_t channel_id, json_t **out)
{
    int rc;

    rc = db_exists(s, "SELECT 1 FROM channels WHERE id = ?1", channel_id);
    if (rc < 0)
        return rc;
    return invite_list(
        s, db_prep(s, INVITE_SELECT " WHERE i.channel_id = ?1 ORDER BY i.created_at DESC, i.code"),
        channel_id, out);
}
