/* The social process (apps/social) with fake sessions: relationship events to every
 * session of both users (a held session gets them when it joins), READY's relationships
 * and presences, friends' presence without guild_id (invisible as offline, the last
 * session's end as offline), the per-user presence rate, and presence storms: one message
 * per receiving session for a user with thousands of friends, and batches for the
 * session of a user whose thousands of friends change at once. */
#include "test-social.h"

#include "hub/hub.h"

#include <unistd.h>

/* What REST does for a change: the store, then the notice. */
static void act(sxt_env_t *e, int op, uint64_t user, uint64_t other)
{
    store_rel_change_t ch;
    json_t *ur = NULL, * or = NULL;
    int rc;

    if (op == 1)
        rc = store_relationship_request(e->db, user, other, 0, &ch);
    else if (op == 2)
        rc = store_relationship_block(e->db, user, other, 0, &ch);
    else
        rc = store_relationship_remove(e->db, user, other, &ch);
    ASSERT_OK(rc);
    if (ch.user_now != STORE_REL_NONE)
        ASSERT_OK(store_relationship_get(e->db, user, other, &ur));
    if (ch.other_now != STORE_REL_NONE)
        ASSERT_OK(store_relationship_get(e->db, other, user, & or));
    ASSERT_OK(social_relationship_changed(user, other, &ch, ur, or));
    json_decref(ur);
    json_decref(or);
}

static const char *ds(const json_t *ev, const char *key)
{
    return json_string_value(json_object_get(json_object_get(ev, "d"), key));
}

static long long di(const json_t *ev, const char *key)
{
    return (long long)json_integer_value(json_object_get(json_object_get(ev, "d"), key));
}

static uint64_t did(const json_t *ev, const char *key)
{
    return jid(json_object_get(ev, "d"), key);
}

/* Waits until the process has shown n presences in all (friend lists load by jobs, so a
 * session's first presence is shown a moment after it joins). */
static void wait_shown(uint64_t n)
{
    social_stats_t st;
    int i;

    for (i = 0; i < 5000; i++) {
        ASSERT_OK(social_stats(&st));
        if (st.presences >= n)
            return;
        usleep(1000);
    }
    ASSERT_GE(st.presences, n);
}

/* Waits until the process has no users left (everyone's offline went out). */
static void wait_quiet(void)
{
    social_stats_t st;
    int i;

    for (i = 0; i < 2000; i++) {
        ASSERT_OK(social_stats(&st));
        if (st.users == 0 && st.sessions == 0)
            return;
        usleep(1000);
    }
    ASSERT_EQ(0, st.users);
}

TEST_IMPL(social_relationship_events)
{
    sxt_fake_t *a1, *a2, *b1, *a3;
    json_t *ev, *rels, *pres;
    uint64_t a, b;
    sxt_env_t e;

    sxt_start(&e, NULL, false);
    a = sxt_user(&e, "alice", NULL);
    b = sxt_user(&e, "bob", NULL);
    a1 = sxt_fake_new(a, true);
    a2 = sxt_fake_new(a, true);
    b1 = sxt_fake_new(b, true);
    sxt_fake_presence(a1, "online", NULL);
    sxt_fake_presence(a2, "idle", NULL);
    sxt_fake_presence(b1, NULL, NULL);

    /* A request: RELATIONSHIP_ADD type 4 to both of A's sessions, type 3 to B's (which
     * rings: should_notify), each with the other user's object. */
    act(&e, 1, a, b);
    ev = sxt_fake_wait(a1, "RELATIONSHIP_ADD", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(b, did(ev, "id"));
    ASSERT_EQ(STORE_REL_OUTGOING, di(ev, "type"));
    ASSERT_EQ(b, jid(json_object_get(json_object_get(ev, "d"), "user"), "id"));
    ASSERT(json_is_false(json_object_get(json_object_get(ev, "d"), "should_notify")));
    json_decref(ev);
    ev = sxt_fake_wait(a2, "RELATIONSHIP_ADD", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(STORE_REL_OUTGOING, di(ev, "type"));
    json_decref(ev);
    ev = sxt_fake_wait(b1, "RELATIONSHIP_ADD", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(a, did(ev, "id"));
    ASSERT_EQ(STORE_REL_INCOMING, di(ev, "type"));
    ASSERT_STR_EQ("alice", json_string_value(json_object_get(
                               json_object_get(json_object_get(ev, "d"), "user"), "username")));
    ASSERT(json_is_true(json_object_get(json_object_get(ev, "d"), "should_notify")));
    json_decref(ev);

    /* A new session of A, registered by social_ready but not joined yet: READY's list has
     * the request; the accept that comes meanwhile waits for the join. */
    a3 = sxt_fake_new(a, true);
    ASSERT_OK(social_ready(a3->pid, a, &rels, &pres));
    ASSERT_EQ(1, json_array_size(rels));
    ASSERT_EQ(STORE_REL_OUTGOING, ji(json_array_get(rels, 0), "type"));
    ASSERT_EQ(0, json_array_size(pres)); /* not friends yet */
    json_decref(rels);
    json_decref(pres);
    act(&e, 1, b, a); /* B accepts */
    ev = sxt_fake_wait(b1, "RELATIONSHIP_ADD", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(STORE_REL_FRIEND, di(ev, "type"));
    json_decref(ev);
    ev = sxt_fake_wait(a1, "RELATIONSHIP_ADD", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(STORE_REL_FRIEND, di(ev, "type"));
    json_decref(ev);
    /* New friends see each other's presence at once: A (idle: a2 spoke last) to B. */
    ev = sxt_fake_wait(b1, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(a, jid(json_object_get(json_object_get(ev, "d"), "user"), "id"));
    ASSERT_STR_EQ("idle", ds(ev, "status"));
    ASSERT_NULL(json_object_get(json_object_get(ev, "d"), "guild_id"));
    json_decref(ev);
    ev = sxt_fake_wait(a1, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(b, jid(json_object_get(json_object_get(ev, "d"), "user"), "id"));
    ASSERT_STR_EQ("online", ds(ev, "status"));
    json_decref(ev);
    usleep(150 * 1000);
    ASSERT_EQ(0, sxt_fake_pending(a3)); /* held */
    sxt_fake_presence(a3, "online", NULL);
    ev = sxt_fake_wait(a3, "RELATIONSHIP_ADD", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(STORE_REL_FRIEND, di(ev, "type"));
    json_decref(ev);

    /* B blocks A: A loses the friend (REMOVE type 1), B's row becomes a block (ADD 2). */
    act(&e, 2, b, a);
    ev = sxt_fake_wait(b1, "RELATIONSHIP_ADD", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(a, did(ev, "id"));
    ASSERT_EQ(STORE_REL_BLOCKED, di(ev, "type"));
    json_decref(ev);
    ev = sxt_fake_wait(a2, "RELATIONSHIP_REMOVE", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(b, did(ev, "id"));
    ASSERT_EQ(STORE_REL_FRIEND, di(ev, "type"));
    json_decref(ev);
    ev = sxt_fake_wait(a3, "RELATIONSHIP_REMOVE", 5000);
    ASSERT_NOT_NULL(ev);
    json_decref(ev);
    ev = sxt_fake_wait(a1, "RELATIONSHIP_REMOVE", 5000);
    ASSERT_NOT_NULL(ev);
    json_decref(ev);

    /* No longer friends: A's presence no longer reaches B. */
    sxt_fake_presence(a1, "dnd", NULL);
    usleep(200 * 1000);
    ASSERT_NULL(sxt_fake_wait(b1, "PRESENCE_UPDATE", 0));

    /* Unblock: B's REMOVE type 2; A hears nothing. */
    act(&e, 3, b, a);
    ev = sxt_fake_wait(b1, "RELATIONSHIP_REMOVE", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(STORE_REL_BLOCKED, di(ev, "type"));
    json_decref(ev);
    usleep(100 * 1000);
    ASSERT_NULL(sxt_fake_wait(a1, "RELATIONSHIP_REMOVE", 0));

    sxt_fake_stop(a1);
    sxt_fake_stop(a2);
    sxt_fake_stop(a3);
    sxt_fake_stop(b1);
    wait_quiet();
    sxt_stop(&e);
    sxt_fakes_free();
    return 0;
}

/* Presence among friends who share no guild: status changes, activities, invisible, the
 * last session's end; READY's presences. */
TEST_IMPL(social_friend_presence)
{
    sxt_fake_t *a1, *a2, *b1, *b2;
    json_t *ev, *rels, *pres;
    uint64_t a, b;
    sxt_env_t e;

    sxt_start(&e, NULL, false);
    a = sxt_user(&e, "alice", NULL);
    b = sxt_user(&e, "bob", NULL);
    ASSERT_OK(store_friends_bulk(e.db, a, &b, 1, 0));
    b1 = sxt_fake_new(b, true);
    sxt_fake_presence(b1, "online", NULL);
    wait_shown(1);

    /* A comes online: B's session hears it, without guild_id. */
    a1 = sxt_fake_new(a, true);
    ASSERT_OK(social_ready(a1->pid, a, &rels, &pres));
    ASSERT_EQ(1, json_array_size(rels));
    ASSERT_EQ(STORE_REL_FRIEND, ji(json_array_get(rels, 0), "type"));
    ASSERT_EQ(1, json_array_size(pres)); /* B is online */
    ASSERT_EQ(b, jid(json_object_get(json_array_get(pres, 0), "user"), "id"));
    ASSERT_STR_EQ("online", js(json_array_get(pres, 0), "status"));
    json_decref(rels);
    json_decref(pres);
    sxt_fake_presence(a1, "online", NULL);
    ev = sxt_fake_wait(b1, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_EQ(a, jid(json_object_get(json_object_get(ev, "d"), "user"), "id"));
    ASSERT_STR_EQ("online", ds(ev, "status"));
    ASSERT_STR_EQ("online",
                  json_string_value(json_object_get(
                      json_object_get(json_object_get(ev, "d"), "client_status"), "desktop")));
    ASSERT_NULL(json_object_get(json_object_get(ev, "d"), "guild_id"));
    json_decref(ev);

    /* Activities travel; the same presence again sends nothing. */
    sxt_fake_presence(a1, "dnd", "[{\"name\":\"chess\",\"type\":0}]");
    ev = sxt_fake_wait(b1, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_STR_EQ("dnd", ds(ev, "status"));
    ASSERT_STR_EQ(
        "chess",
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(ev, "d"), "activities"), 0), "name")));
    json_decref(ev);
    sxt_fake_presence(a1, "dnd", "[{\"name\":\"chess\",\"type\":0}]");
    usleep(150 * 1000);
    ASSERT_EQ(0, sxt_fake_pending(b1));

    /* A second session of A speaks last: its presence is A's. Invisible looks offline. */
    a2 = sxt_fake_new(a, true);
    sxt_fake_presence(a2, "invisible", NULL);
    ev = sxt_fake_wait(b1, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_STR_EQ("offline", ds(ev, "status"));
    ASSERT_EQ(0, json_array_size(json_object_get(json_object_get(ev, "d"), "activities")));
    json_decref(ev);
    /* The invisible session ends: a1's dnd is A's again. */
    sxt_fake_stop(a2);
    ev = sxt_fake_wait(b1, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_STR_EQ("dnd", ds(ev, "status"));
    json_decref(ev);

    /* B's second session gets READY's presences with A's dnd. */
    b2 = sxt_fake_new(b, true);
    ASSERT_OK(social_ready(b2->pid, b, &rels, &pres));
    ASSERT_EQ(1, json_array_size(pres));
    ASSERT_STR_EQ("dnd", js(json_array_get(pres, 0), "status"));
    ASSERT_GT(ji(json_array_get(pres, 0), "last_modified"), 0);
    json_decref(rels);
    json_decref(pres);
    sxt_fake_presence(b2, "online", NULL);

    /* A's last session ends: both of B's sessions hear offline; A's own never hear A. */
    sxt_fake_stop(a1);
    ev = sxt_fake_wait(b1, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_STR_EQ("offline", ds(ev, "status"));
    json_decref(ev);
    ev = sxt_fake_wait(b2, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(ev);
    ASSERT_STR_EQ("offline", ds(ev, "status"));
    json_decref(ev);
    ASSERT_EQ(0, sxt_fake_pending(a1)); /* B never changed after A's READY; A is not told of A */

    /* A session that leaves (reset) counts as gone. */
    sxt_fake_leave(b1);
    sxt_fake_leave(b2);
    wait_quiet();
    sxt_fake_stop(b1);
    sxt_fake_stop(b2);
    sxt_stop(&e);
    sxt_fakes_free();
    return 0;
}

/* At most presence_rate shows per window per user; what comes beyond is held and only
 * the latest goes when the window allows. */
TEST_IMPL(social_presence_rate)
{
    static const char *const cycle[] = {"idle", "dnd", "online"};
    social_config_t cfg = {0};
    social_stats_t st;
    sxt_fake_t *a1, *b1;
    uint64_t a, b, t0;
    sxt_env_t e;
    unsigned got;
    int i;

    cfg.flush_ms = 10;
    cfg.presence_rate = 5;
    cfg.presence_window_ms = 1500;
    sxt_start(&e, &cfg, false);
    a = sxt_user(&e, "alice", NULL);
    b = sxt_user(&e, "bob", NULL);
    ASSERT_OK(store_friends_bulk(e.db, a, &b, 1, 0));
    b1 = sxt_fake_new(b, false);
    sxt_fake_presence(b1, "online", NULL);
    a1 = sxt_fake_new(a, false);
    sxt_fake_presence(a1, "online", NULL); /* show 1 */
    ASSERT_EQ(1, sxt_wait_count(&b1->events, 1, 5000));
    t0 = sxt_now();
    /* 12 more changes at once, each after the last was seen while the window has room. */
    for (i = 0; i < 12; i++) {
        sxt_fake_presence(a1, cycle[i % 3], NULL);
        if (i < 4)
            sxt_wait_count(&b1->events, (unsigned)i + 2, 5000);
    }
    usleep(300 * 1000);
    got = atomic_load(&b1->events);
    ASSERT_EQ(5, got); /* the window is full */
    ASSERT_LT(sxt_now() - t0, 1400);
    /* The held changes go as one, with the latest status ("online": cycle[11 % 3]). */
    ASSERT_EQ(6, sxt_wait_count(&b1->events, 6, 5000));
    ASSERT_GE(sxt_now() - t0, 1000);
    pthread_mutex_lock(&b1->mu);
    ASSERT_STR_EQ("online", b1->last_status);
    pthread_mutex_unlock(&b1->mu);
    usleep(300 * 1000);
    ASSERT_EQ(6, atomic_load(&b1->events));
    ASSERT_OK(social_stats(&st));
    ASSERT_EQ(6, st.presences - 1); /* b's own online went to no one, but counts */
    /* Held: the 8 changes after the window filled, less the two that equaled what was
     * shown (idle) when they came. */
    ASSERT_EQ(6, st.presences_held);
    sxt_fake_stop(a1);
    sxt_fake_stop(b1);
    sxt_stop(&e);
    sxt_fakes_free();
    return 0;
}

/* A user with N friends online (a session each) goes online, changes, goes offline: one
 * message per friend session each time. Then all N change at once: the user's session
 * gets them in a few batches, one event per friend. */
TEST_IMPL(social_presence_storm)
{
    social_config_t cfg = {0};
    social_stats_t st0, st1;
    size_t n = test_scaled(2000), i;
    sxt_fake_t **f, *a1;
    uint64_t a, *ids;
    unsigned total;
    char name[32];
    sxt_env_t e;

    cfg.flush_ms = 50;
    sxt_start(&e, &cfg, false);
    a = sxt_user(&e, "storm", NULL);
    ids = calloc(n, sizeof(*ids));
    f = calloc(n, sizeof(*f));
    ASSERT_NOT_NULL(ids);
    ASSERT_NOT_NULL(f);
    ASSERT_OK(store_tx_begin(e.db));
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "friend%zu", i);
        ids[i] = sxt_user(&e, name, NULL);
    }
    ASSERT_OK(store_tx_commit(e.db));
    ASSERT_OK(store_friends_bulk(e.db, a, ids, n, 0));
    for (i = 0; i < n; i++) {
        f[i] = sxt_fake_new(ids[i], false);
        sxt_fake_presence(f[i], "online", NULL);
    }
    usleep(300 * 1000); /* their friend lists load; nobody to tell yet */
    for (i = 0; i < n; i++)
        ASSERT_EQ(0, atomic_load(&f[i]->msgs));

    /* A goes online: one message (one event) per friend session. */
    ASSERT_OK(social_stats(&st0));
    a1 = sxt_fake_new(a, false);
    sxt_fake_presence(a1, "online", NULL);
    for (i = 0; i < n; i++)
        ASSERT_EQ(1, sxt_wait_count(&f[i]->msgs, 1, 10000));
    usleep(200 * 1000);
    ASSERT_OK(social_stats(&st1));
    ASSERT_EQ(n, st1.messages - st0.messages);
    ASSERT_EQ(1, st1.presences - st0.presences); /* encoded and shown once */
    for (i = 0; i < n; i++) {
        ASSERT_EQ(1, atomic_load(&f[i]->msgs));
        ASSERT_EQ(1, atomic_load(&f[i]->events));
        ASSERT_EQ(0, atomic_load(&f[i]->batches));
    }

    /* All N go idle at once: A's session gets one event per friend in a few messages. */
    for (i = 0; i < n; i++)
        sxt_fake_presence(f[i], "idle", NULL);
    total = sxt_wait_count(&a1->events, (unsigned)n, 10000);
    ASSERT_EQ(n, total);
    usleep(200 * 1000);
    ASSERT_EQ(n, atomic_load(&a1->events));
    fprintf(stderr, "# %zu friends changed: %u messages to the user's session (%u batches)\n", n,
            atomic_load(&a1->msgs), atomic_load(&a1->batches));
    ASSERT_LE(atomic_load(&a1->msgs), n / 10 + 5);

    /* A flaps 20 times: each friend session sees at most the rate (5 in the window, the
     * first show included) plus nothing more until the window moves. */
    ASSERT_OK(social_stats(&st0));
    for (i = 0; i < 20; i++)
        sxt_fake_presence(a1, i % 2 ? "dnd" : "online", NULL);
    usleep(500 * 1000);
    for (i = 0; i < n; i++)
        ASSERT_LE(atomic_load(&f[i]->events), 5);
    ASSERT_OK(social_stats(&st1));
    /* 4 shows fill the window (the first flap repeats "online"); of the 15 changes
     * after, the 8 that differ from what is shown are held. */
    ASSERT_EQ(4, st1.presences - st0.presences);
    ASSERT_EQ(8, st1.presences_held - st0.presences_held);

    sxt_stop(&e);
    sxt_fakes_free();
    free(ids);
    free(f);
    return 0;
}
