/* Friends over real gateway sessions (apps/social through apps/gateway): READY's
 * relationships and presences, a friend's presence reaching a friend who shares no guild
 * (PRESENCE_UPDATE without guild_id, in JSON and ETF), RELATIONSHIP_ADD/REMOVE after REST
 * changes reaching both users' sessions, and a presence storm: a user with N = 2,000
 * friends online (scaled) going online, idle and offline costs each friend's connection
 * exactly one event per change.
 *
 * These need the gateway to call the social process (social.h's "What the gateway
 * does"); until it does, READY has no relationships and the tests skip. */
#include "test-api.h"
#include "test-gateway.h"
#include "test-social.h"

#include <inttypes.h>
#include <unistd.h>

#define REL "/api/v10/users/@me/relationships"

/* IDENTIFY on a new connection; READY, or NULL after skipping: READY without the
 * relationships the user has means the gateway does not call apps/social yet. */
static json_t *ready_of(gwc_t *c, int port, const char *target, const char *token, bool has)
{
    json_t *r;

    gwc_connect(c, port, target);
    r = gwc_identify(c, token, -1);
    ASSERT_NOT_NULL(r);
    if (has && json_array_size(gwj(r, "d.relationships")) == 0) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* Waits until the social process has shown n presences in all. */
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

static void op3(gwc_t *c, const char *status, const char *activity)
{
    json_t *acts = json_array();

    if (activity != NULL)
        json_array_append_new(acts, json_pack("{s:s, s:i}", "name", activity, "type", 0));
    gwc_send(c, json_pack("{s:i, s:{s:n, s:o, s:s, s:b}}", "op", 3, "d", "since", "activities",
                          acts, "status", status, "afk", 0));
}

/* The next PRESENCE_UPDATE, asserted to be user's, with status and no guild_id. */
static void presence_is(gwc_t *c, uint64_t user, const char *status)
{
    json_t *v = gwc_wait(c, "PRESENCE_UPDATE", 5000);

    ASSERT_NOT_NULL(v);
    ASSERT_EQ(user, jid(gwj(v, "d.user"), "id"));
    ASSERT_STR_EQ(status, gwj_s(v, "d.status"));
    ASSERT_NULL(gwj(v, "d.guild_id"));
    json_decref(v);
}

/* The next RELATIONSHIP_ADD or _REMOVE (t), asserted about other with type. */
static void rel_event_is(gwc_t *c, const char *t, uint64_t other, int type)
{
    json_t *v = gwc_wait(c, t, 5000);

    ASSERT_NOT_NULL(v);
    ASSERT_EQ(other, jid(gwj(v, "d"), "id"));
    ASSERT_EQ(type, gwj_i(v, "d.type"));
    json_decref(v);
}

TEST_IMPL(social_gateway_friends)
{
    char ta[STORE_TOKEN_SIZE], tb[STORE_TOKEN_SIZE], tc[STORE_TOKEN_SIZE], p[128];
    gwc_t ca, cb, cbe, cc;
    ta_res_t r = {0};
    uint64_t a, b, c;
    json_t *v;
    sxt_env_t e;

    sxt_start(&e, NULL, true);
    a = sxt_user(&e, "alice", ta);
    b = sxt_user(&e, "bob", tb);
    c = sxt_user(&e, "carol", tc);
    ASSERT_OK(store_friends_bulk(e.db, a, &b, 1, 0));

    /* A's READY lists B as a friend; B is offline, so no presences. */
    v = ready_of(&ca, e.port, "/?v=10&encoding=json", ta, true);
    if (v == NULL) {
        gwc_drop(&ca);
        sxt_stop(&e);
        TEST_SKIP("the gateway does not call apps/social yet (READY has no relationships)");
    }
    ASSERT_EQ(1, json_array_size(gwj(v, "d.relationships")));
    ASSERT_EQ(b, jid(gwj(v, "d.relationships.0"), "id"));
    ASSERT_EQ(1, gwj_i(v, "d.relationships.0.type"));
    ASSERT_STR_EQ("bob", gwj_s(v, "d.relationships.0.user.username"));
    ASSERT_EQ(0, json_array_size(gwj(v, "d.presences")));
    json_decref(v);
    wait_shown(1); /* A online */

    /* B (JSON and ETF sessions): READY has A online; A hears B come online. */
    v = ready_of(&cb, e.port, "/?v=10&encoding=json", tb, true);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(1, json_array_size(gwj(v, "d.presences")));
    ASSERT_EQ(a, jid(gwj(v, "d.presences.0.user"), "id"));
    ASSERT_STR_EQ("online", gwj_s(v, "d.presences.0.status"));
    json_decref(v);
    presence_is(&ca, b, "online");
    v = ready_of(&cbe, e.port, "/?v=10&encoding=etf", tb, true);
    ASSERT_NOT_NULL(v);
    json_decref(v);

    /* A's op 3 reaches both of B's sessions, though they share no guild. */
    op3(&ca, "idle", "chess");
    presence_is(&cb, a, "idle");
    v = gwc_wait(&cbe, "PRESENCE_UPDATE", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(a, jid(gwj(v, "d.user"), "id"));
    ASSERT_STR_EQ("idle", gwj_s(v, "d.status"));
    ASSERT_STR_EQ("chess", gwj_s(v, "d.activities.0.name"));
    json_decref(v);

    /* C (a stranger) asks A over REST: A's session gets RELATIONSHIP_ADD 3, C's gets 4. */
    v = ready_of(&cc, e.port, "/?v=10&encoding=json", tc, false);
    json_decref(v);
    snprintf(p, sizeof(p), REL "/%" PRIu64, a);
    ASSERT_EQ(204, ta_req(e.port, &r, "PUT", p, tc, "{}"));
    v = gwc_wait(&ca, "RELATIONSHIP_ADD", 5000);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(c, jid(gwj(v, "d"), "id"));
    ASSERT_EQ(3, gwj_i(v, "d.type"));
    ASSERT_STR_EQ("carol", gwj_s(v, "d.user.username"));
    ASSERT(json_is_true(gwj(v, "d.should_notify")));
    json_decref(v);
    rel_event_is(&cc, "RELATIONSHIP_ADD", a, 4);

    /* A accepts: friends; each sees the other's presence at once. */
    snprintf(p, sizeof(p), REL "/%" PRIu64, c);
    ASSERT_EQ(204, ta_req(e.port, &r, "PUT", p, ta, "{}"));
    rel_event_is(&ca, "RELATIONSHIP_ADD", c, 1);
    rel_event_is(&cc, "RELATIONSHIP_ADD", a, 1);
    presence_is(&cc, a, "idle");
    presence_is(&ca, c, "online");

    /* A blocks C: A's row becomes a block, C loses the friend. */
    ASSERT_EQ(204, ta_req(e.port, &r, "PUT", p, ta, "{\"type\":2}"));
    rel_event_is(&ca, "RELATIONSHIP_ADD", c, 2);
    rel_event_is(&cc, "RELATIONSHIP_REMOVE", a, 1);

    /* Invisible looks offline to friends; A's last session ending too. */
    op3(&ca, "invisible", NULL);
    presence_is(&cb, a, "offline");
    op3(&ca, "online", NULL);
    presence_is(&cb, a, "online");
    gwc_close(&ca, 1000);
    presence_is(&cb, a, "offline");
    v = gwc_wait(&cc, "PRESENCE_UPDATE", 300); /* C is no friend any more */
    ASSERT_NULL(v);

    gwc_drop(&cb);
    gwc_drop(&cbe);
    gwc_drop(&cc);
    ta_res_free(&r);
    sxt_stop(&e);
    return 0;
}

/* The next PRESENCE_UPDATE on c, asserting nothing else of the kind came first: its
 * status. */
static const char *next_presence(gwc_t *c, uint64_t user, char *buf)
{
    json_t *v = gwc_wait(c, "PRESENCE_UPDATE", 10000);

    ASSERT_NOT_NULL(v);
    ASSERT_EQ(user, jid(gwj(v, "d.user"), "id"));
    snprintf(buf, 16, "%s", gwj_s(v, "d.status"));
    json_decref(v);
    return buf;
}

TEST_IMPL(social_gateway_storm)
{
    size_t n = test_scaled(2000), i;
    char tu[STORE_TOKEN_SIZE], (*tok)[STORE_TOKEN_SIZE], name[32], st[16];
    social_stats_t s0, s1;
    uint64_t u, *ids, t0;
    gwc_t cu, *cf;
    sxt_env_t e;
    json_t *v;

    sxt_start(&e, NULL, true);
    u = sxt_user(&e, "storm", tu);
    ids = calloc(n, sizeof(*ids));
    tok = calloc(n, sizeof(*tok));
    cf = calloc(n, sizeof(*cf));
    ASSERT(ids != NULL && tok != NULL && cf != NULL);
    ASSERT_OK(store_tx_begin(e.db));
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "friend%zu", i);
        ids[i] = sxt_user(&e, name, tok[i]);
    }
    ASSERT_OK(store_tx_commit(e.db));
    ASSERT_OK(store_friends_bulk(e.db, u, ids, n, 0));

    /* Every friend online, each with one connection. */
    t0 = sxt_now();
    for (i = 0; i < n; i++) {
        v = ready_of(&cf[i], e.port, "/?v=10&encoding=json", tok[i], true);
        if (v == NULL) {
            gwc_drop(&cf[i]);
            while (i > 0)
                gwc_drop(&cf[--i]);
            sxt_stop(&e);
            free(ids);
            free(tok);
            free(cf);
            TEST_SKIP("the gateway does not call apps/social yet (READY has no relationships)");
        }
        json_decref(v);
    }
    fprintf(stderr, "# %zu friends identified in %" PRIu64 " ms\n", n, sxt_now() - t0);
    wait_shown(n);

    /* The user comes online: READY lists every friend's presence; each friend's
     * connection gets exactly one PRESENCE_UPDATE. */
    ASSERT_OK(social_stats(&s0));
    v = ready_of(&cu, e.port, "/?v=10&encoding=json", tu, true);
    ASSERT_NOT_NULL(v);
    ASSERT_EQ(n, json_array_size(gwj(v, "d.relationships")));
    ASSERT_EQ(n, json_array_size(gwj(v, "d.presences")));
    json_decref(v);
    t0 = sxt_now();
    for (i = 0; i < n; i++)
        ASSERT_STR_EQ("online", next_presence(&cf[i], u, st));
    fprintf(stderr, "# online reached %zu connections in %" PRIu64 " ms\n", n, sxt_now() - t0);
    ASSERT_OK(social_stats(&s1));
    ASSERT_EQ(n, s1.messages - s0.messages);
    ASSERT_EQ(1, s1.presences - s0.presences);

    /* Idle, then offline (the connection ends): the next event on each connection is
     * the next change, nothing in between. */
    op3(&cu, "idle", NULL);
    for (i = 0; i < n; i++)
        ASSERT_STR_EQ("idle", next_presence(&cf[i], u, st));
    gwc_close(&cu, 1000);
    t0 = sxt_now();
    for (i = 0; i < n; i++)
        ASSERT_STR_EQ("offline", next_presence(&cf[i], u, st));
    fprintf(stderr, "# offline reached %zu connections in %" PRIu64 " ms\n", n, sxt_now() - t0);
    ASSERT_OK(social_stats(&s1));
    ASSERT_EQ(3 * n, s1.messages - s0.messages);
    ASSERT_EQ(3 * n, s1.events - s0.events);
    for (i = 0; i < n; i++) {
        v = gwc_wait(&cf[i], "PRESENCE_UPDATE", i == 0 ? 200 : 0);
        ASSERT_NULL(v);
    }

    for (i = 0; i < n; i++)
        gwc_drop(&cf[i]);
    sxt_stop(&e);
    free(ids);
    free(tok);
    free(cf);
    return 0;
}
