/* Store tests of relationships (apps/store/social.h): the request/accept/remove/block
 * state machine with each side's rows, the refusals (self, bots, blocks, the friend
 * limit), the relationship objects, the DM block check, finding people by name, and the
 * bulk friendship import. */
#include "test-store.h"

#include "store/social.h"

/* Asserts both rows of the pair. */
static void pair_is(store_t *s, uint64_t a, uint64_t b, int ab, int ba)
{
    int t;

    ASSERT_OK(store_relationship_type(s, a, b, &t));
    ASSERT_EQ(ab, t);
    ASSERT_OK(store_relationship_type(s, b, a, &t));
    ASSERT_EQ(ba, t);
}

static void change_is(const store_rel_change_t *c, int uw, int un, int ow, int on)
{
    ASSERT_EQ(uw, c->user_was);
    ASSERT_EQ(un, c->user_now);
    ASSERT_EQ(ow, c->other_was);
    ASSERT_EQ(on, c->other_now);
}

TEST_IMPL(social_store_request_accept_remove)
{
    store_rel_change_t c;
    uint64_t a, b, x;
    json_t *out, *list;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    a = ts_user(s, "alice");
    b = ts_user(s, "bob");
    pair_is(s, a, b, STORE_REL_NONE, STORE_REL_NONE);

    /* A asks: outgoing for A, incoming for B. Asking again changes nothing. */
    ASSERT_OK(store_relationship_request(s, a, b, 1000, &c));
    change_is(&c, STORE_REL_NONE, STORE_REL_OUTGOING, STORE_REL_NONE, STORE_REL_INCOMING);
    pair_is(s, a, b, STORE_REL_OUTGOING, STORE_REL_INCOMING);
    ASSERT_EQ(STORE_UNCHANGED, store_relationship_request(s, a, b, 0, &c));
    change_is(&c, STORE_REL_OUTGOING, STORE_REL_OUTGOING, STORE_REL_INCOMING, STORE_REL_INCOMING);

    /* The objects: id, type, nickname, the other user, since. */
    ASSERT_OK(store_relationship_get(s, b, a, &out));
    ASSERT_EQ(a, jid(out, "id"));
    ASSERT_EQ(STORE_REL_INCOMING, ji(out, "type"));
    ASSERT(json_is_null(json_object_get(out, "nickname")));
    ASSERT_EQ(a, jid(json_object_get(out, "user"), "id"));
    ASSERT_STR_EQ("alice", js(json_object_get(out, "user"), "username"));
    ASSERT_STR_EQ("1970-01-01T00:00:01.000000+00:00", js(out, "since"));
    json_decref(out);

    /* B accepts by asking back: both friends; asking again is a no-op. */
    ASSERT_OK(store_relationship_request(s, b, a, 0, &c));
    change_is(&c, STORE_REL_INCOMING, STORE_REL_FRIEND, STORE_REL_OUTGOING, STORE_REL_FRIEND);
    pair_is(s, a, b, STORE_REL_FRIEND, STORE_REL_FRIEND);
    ASSERT_EQ(STORE_UNCHANGED, store_relationship_request(s, a, b, 0, NULL));

    /* Lists and friend ids. */
    x = ts_user(s, "xavier");
    ASSERT_OK(store_relationship_request(s, x, a, 0, NULL));
    ASSERT_OK(store_relationship_list(s, a, &list));
    ASSERT_EQ(2, json_array_size(list));
    ASSERT_EQ(b, jid(json_array_get(list, 0), "id")); /* by id: b was made first */
    ASSERT_EQ(STORE_REL_FRIEND, ji(json_array_get(list, 0), "type"));
    ASSERT_EQ(x, jid(json_array_get(list, 1), "id"));
    ASSERT_EQ(STORE_REL_INCOMING, ji(json_array_get(list, 1), "type"));
    json_decref(list);
    {
        uint64_t *ids = NULL;
        size_t n = 0;

        ASSERT_OK(store_friend_ids(s, a, &ids, &n));
        ASSERT_EQ(1, n);
        ASSERT_EQ(b, ids[0]);
        free(ids);
        ASSERT_OK(store_friend_ids(s, x, &ids, &n));
        ASSERT_EQ(0, n);
        ASSERT_NULL(ids);
    }

    /* Remove: unfriend (both go), decline (both go), cancel (both go). */
    ASSERT_OK(store_relationship_remove(s, b, a, &c));
    change_is(&c, STORE_REL_FRIEND, STORE_REL_NONE, STORE_REL_FRIEND, STORE_REL_NONE);
    pair_is(s, a, b, STORE_REL_NONE, STORE_REL_NONE);
    ASSERT_EQ(STORE_UNCHANGED, store_relationship_remove(s, b, a, &c));
    ASSERT_OK(store_relationship_remove(s, a, x, &c)); /* a declines x's request */
    change_is(&c, STORE_REL_INCOMING, STORE_REL_NONE, STORE_REL_OUTGOING, STORE_REL_NONE);
    pair_is(s, a, x, STORE_REL_NONE, STORE_REL_NONE);
    ASSERT_OK(store_relationship_request(s, a, x, 0, NULL));
    ASSERT_OK(store_relationship_remove(s, a, x, &c)); /* a cancels its own */
    change_is(&c, STORE_REL_OUTGOING, STORE_REL_NONE, STORE_REL_INCOMING, STORE_REL_NONE);
    pair_is(s, a, x, STORE_REL_NONE, STORE_REL_NONE);
    ASSERT_EQ(STORE_ENOTFOUND, store_relationship_get(s, a, x, NULL));

    /* Refusals: self, an unknown user, a bot (either side). */
    ASSERT_EQ(STORE_EINVAL, store_relationship_request(s, a, a, 0, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_relationship_request(s, a, 12345, 0, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_relationship_block(s, a, 12345, 0, NULL));
    {
        store_user_new_t u = {0};

        u.username = "robot";
        u.bot = true;
        ASSERT_OK(store_user_create(s, &u, &out));
        ASSERT_EQ(STORE_EINVAL, store_relationship_request(s, a, jid(out, "id"), 0, NULL));
        ASSERT_EQ(STORE_EINVAL, store_relationship_request(s, jid(out, "id"), a, 0, NULL));
        /* People may block bots. */
        ASSERT_OK(store_relationship_block(s, a, jid(out, "id"), 0, NULL));
        json_decref(out);
    }
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(social_store_block)
{
    store_rel_change_t c;
    uint64_t a, b, dm, blocker;
    json_t *out;
    char dir[64];
    store_t *s;

    s = ts_open(dir);
    a = ts_user(s, "alice");
    b = ts_user(s, "bob");
    ASSERT_OK(store_dm_open(s, a, b, &out));
    dm = jid(out, "id");
    json_decref(out);
    ASSERT_EQ(STORE_ENOTFOUND, store_dm_blocked(s, dm, &blocker));

    /* A block ends a friendship: A's row becomes BLOCKED, B's goes. */
    ASSERT_OK(store_relationship_request(s, a, b, 0, NULL));
    ASSERT_OK(store_relationship_request(s, b, a, 0, NULL));
    ASSERT_OK(store_relationship_block(s, a, b, 0, &c));
    change_is(&c, STORE_REL_FRIEND, STORE_REL_BLOCKED, STORE_REL_FRIEND, STORE_REL_NONE);
    pair_is(s, a, b, STORE_REL_BLOCKED, STORE_REL_NONE);
    ASSERT_EQ(STORE_UNCHANGED, store_relationship_block(s, a, b, 0, NULL));
    ASSERT_OK(store_dm_blocked(s, dm, &blocker));
    ASSERT_EQ(a, blocker);

    /* Neither side may ask while the block stands; B cannot lift A's block. */
    ASSERT_EQ(STORE_EPERM, store_relationship_request(s, b, a, 0, NULL));
    ASSERT_EQ(STORE_EPERM, store_relationship_request(s, a, b, 0, NULL));
    ASSERT_EQ(STORE_UNCHANGED, store_relationship_remove(s, b, a, NULL));
    pair_is(s, a, b, STORE_REL_BLOCKED, STORE_REL_NONE);

    /* B blocks back: two blocks, A's unblock leaves B's. */
    ASSERT_OK(store_relationship_block(s, b, a, 0, &c));
    change_is(&c, STORE_REL_NONE, STORE_REL_BLOCKED, STORE_REL_BLOCKED, STORE_REL_BLOCKED);
    ASSERT_OK(store_relationship_remove(s, a, b, &c));
    change_is(&c, STORE_REL_BLOCKED, STORE_REL_NONE, STORE_REL_BLOCKED, STORE_REL_BLOCKED);
    pair_is(s, a, b, STORE_REL_NONE, STORE_REL_BLOCKED);
    ASSERT_OK(store_dm_blocked(s, dm, &blocker));
    ASSERT_EQ(b, blocker);
    ASSERT_OK(store_relationship_remove(s, b, a, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_dm_blocked(s, dm, NULL));

    /* Blocking someone whose request is pending removes the request (the sender's
     * outgoing row goes too). */
    ASSERT_OK(store_relationship_request(s, b, a, 0, NULL));
    ASSERT_OK(store_relationship_block(s, a, b, 0, &c));
    change_is(&c, STORE_REL_INCOMING, STORE_REL_BLOCKED, STORE_REL_OUTGOING, STORE_REL_NONE);
    pair_is(s, a, b, STORE_REL_BLOCKED, STORE_REL_NONE);
    ASSERT_OK(store_relationship_remove(s, a, b, NULL));
    pair_is(s, a, b, STORE_REL_NONE, STORE_REL_NONE);

    /* Not a DM: a guild channel, an unknown channel. */
    {
        uint64_t general;

        ts_guild(s, a, "Guild", &general);
        ASSERT_EQ(STORE_ENOTFOUND, store_dm_blocked(s, general, NULL));
        ASSERT_EQ(STORE_ENOTFOUND, store_dm_blocked(s, 777, NULL));
    }
    ASSERT_EQ(STORE_EINVAL, store_relationship_block(s, a, a, 0, NULL));
    ts_close(s, dir);
    return 0;
}

TEST_IMPL(social_store_limit_find_bulk)
{
    uint64_t a, b, c, found = 0, *ids, *got = NULL;
    char dir[64], name[32];
    json_t *out;
    size_t i, n;
    store_t *s;

    s = ts_open(dir);
    a = ts_user(s, "Alice.Name");
    b = ts_user(s, "bob");
    c = ts_user(s, "carol");

    /* Finding people by name: case-insensitive, never a bot. */
    ASSERT_OK(store_user_find(s, "alice.name", &found));
    ASSERT_EQ(a, found);
    ASSERT_OK(store_user_find(s, "CAROL", &found));
    ASSERT_EQ(c, found);
    ASSERT_EQ(STORE_ENOTFOUND, store_user_find(s, "nobody", &found));
    {
        store_user_new_t u = {0};
        uint64_t id = 0;

        u.username = "helperbot";
        u.bot = true;
        ASSERT_OK(store_user_create(s, &u, &out));
        json_decref(out);
        ASSERT_EQ(STORE_ENOTFOUND, store_user_find(s, "helperbot", &id));
    }

    /* Bulk: STORE_FRIENDS_MAX friends at once, beyond the limit for requests. */
    n = STORE_FRIENDS_MAX;
    ids = calloc(n, sizeof(*ids));
    ASSERT_NOT_NULL(ids);
    ASSERT_OK(store_tx_begin(s));
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "f%zu", i);
        ids[i] = ts_user(s, name);
    }
    ASSERT_OK(store_tx_commit(s));
    ASSERT_OK(store_friends_bulk(s, a, ids, n, 0));
    ASSERT_OK(store_friend_ids(s, a, &got, &i));
    ASSERT_EQ(n, i);
    free(got);
    ASSERT_EQ(STORE_EINVAL, store_friends_bulk(s, a, &a, 1, 0));
    {
        uint64_t bad[2] = {b, 424242};

        ASSERT_EQ(STORE_ENOTFOUND, store_friends_bulk(s, c, bad, 2, 0));
        pair_is(s, c, b, STORE_REL_NONE, STORE_REL_NONE); /* all or nothing */
    }

    /* At the limit: a may not ask, and may not accept b's request. */
    ASSERT_EQ(STORE_ELIMIT, store_relationship_request(s, a, b, 0, NULL));
    ASSERT_OK(store_relationship_request(s, b, a, 0, NULL));
    ASSERT_EQ(STORE_ELIMIT, store_relationship_request(s, a, b, 0, NULL));
    /* Removing one friend makes room. */
    ASSERT_OK(store_relationship_remove(s, a, ids[0], NULL));
    ASSERT_OK(store_relationship_request(s, a, b, 0, NULL));
    pair_is(s, a, b, STORE_REL_FRIEND, STORE_REL_FRIEND);
    free(ids);
    ts_close(s, dir);
    return 0;
}
