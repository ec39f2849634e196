/* Helpers shared by the store tests (test/test-store*.c): a fresh data directory per
 * test, removed afterwards, and short ways to make users, guilds and messages and
 * read fields from the JSON documents the store returns. */
#ifndef HEARTH_TEST_STORE_H
#define HEARTH_TEST_STORE_H

#include "task.h"

#include "store/store.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A new empty directory under /tmp; dir must hold 64 bytes. */
static inline void ts_mkdir(char *dir)
{
    snprintf(dir, 64, "/tmp/hearth-store-XXXXXX");
    ASSERT_NOT_NULL(mkdtemp(dir));
}

/* Removes dir and the files in it (the store makes no subdirectories). */
static inline void ts_rmdir(const char *dir)
{
    char path[512];
    struct dirent *e;
    DIR *d;

    d = opendir(dir);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Opens a store on a fresh directory (migrated). */
static inline store_t *ts_open(char *dir)
{
    store_t *s;

    ts_mkdir(dir);
    s = store_open(dir, true);
    ASSERT_NOT_NULL(s);
    return s;
}

static inline void ts_close(store_t *s, const char *dir)
{
    store_close(s);
    ts_rmdir(dir);
}

/* ---- JSON fields ----------------------------------------------------------------------------- */

static inline const char *js(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static inline long long ji(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static inline bool jb(const json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

/* An id field ("123") as a number; 0 if missing or null. */
static inline uint64_t jid(const json_t *o, const char *key)
{
    uint64_t id = 0;
    const char *s = js(o, key);

    if (s != NULL && snowflake_parse(s, &id) < 0)
        return 0;
    return id;
}

/* ---- fixtures -------------------------------------------------------------------------------- */

/* A user without a password (fast: no Argon2id). Returns the id. */
static inline uint64_t ts_user(store_t *s, const char *name)
{
    store_user_new_t u = {0};
    json_t *out = NULL;
    uint64_t id;

    u.username = name;
    ASSERT_OK(store_user_create(s, &u, &out));
    id = jid(out, "id");
    ASSERT_NE(0, id);
    json_decref(out);
    return id;
}

/* A guild owned by owner; its id, and the "general" channel's id in *general. */
static inline uint64_t ts_guild(store_t *s, uint64_t owner, const char *name, uint64_t *general)
{
    json_t *params, *g;
    uint64_t id;

    params = json_pack("{s:s}", "name", name);
    ASSERT_OK(store_guild_create(s, owner, params, &g));
    id = jid(g, "id");
    if (general != NULL)
        *general = jid(g, "system_channel_id");
    json_decref(g);
    json_decref(params);
    return id;
}

/* A message; returns its id. */
static inline uint64_t ts_msg(store_t *s, uint64_t channel, uint64_t author, const char *content)
{
    store_message_new_t m = {0};
    json_t *out;
    uint64_t id;

    m.channel_id = channel;
    m.author_id = author;
    m.content = content;
    ASSERT_OK(store_message_create(s, &m, &out));
    id = jid(out, "id");
    json_decref(out);
    return id;
}

#endif /* HEARTH_TEST_STORE_H */
