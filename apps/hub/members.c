/* REQUEST_GUILD_MEMBERS (gateway op 8), answered by the guild hub from its cached
 * members: by user ids, by a name prefix (username or nickname, ASCII
 * case-insensitively, at most 100), or everyone (an empty query with limit 0, which
 * needs the GUILD_MEMBERS intent), in GUILD_MEMBERS_CHUNK events of at most 1000
 * members each, sent to the asking session alone. */
#include "internal.h"

#include <string.h>
#include <strings.h>

#define CHUNK_MAX 1000
#define QUERY_MAX 100

static bool prefix_of(const char *s, const char *prefix, size_t n)
{
    return s != NULL && strncasecmp(s, prefix, n) == 0;
}

/* The members the request names, into list (new references); unknown user ids into
 * not_found. */
static void select_members(hub_t *h, const hub_sub_t *sub, json_t *req, json_t *list,
                           json_t *not_found)
{
    json_t *ids = json_object_get(req, "user_ids"), *v, *m;
    const char *query = json_string_value(json_object_get(req, "query"));
    json_int_t limit = json_integer_value(json_object_get(req, "limit"));
    const char *k;
    size_t i, qn;
    char key[21];

    if (json_is_string(ids) || json_is_integer(ids)) {
        ids = json_pack("[O]", ids);
    } else if (json_is_array(ids)) {
        json_incref(ids);
    } else {
        ids = NULL;
    }
    if (ids != NULL) {
        json_array_foreach(ids, i, v)
        {
            uint64_t id = hub__json_id(v);
            if (i >= QUERY_MAX)
                break;
            m = id ? json_object_get(h->members, hub__key(id, key)) : NULL;
            if (m != NULL)
                json_array_append(list, m);
            else if (id != 0)
                json_array_append_new(not_found, hub__id_json(id));
        }
        json_decref(ids);
        return;
    }
    if (query == NULL)
        query = "";
    qn = strlen(query);
    if (qn == 0 && limit == 0) {
        if (!(sub->intents & HUB_INTENT_GUILD_MEMBERS))
            return; /* everyone needs the privileged intent */
        json_object_foreach(h->members, k, m) json_array_append(list, m);
        return;
    }
    if (limit <= 0 || limit > QUERY_MAX)
        limit = QUERY_MAX;
    json_object_foreach(h->members, k, m)
    {
        if ((json_int_t)json_array_size(list) >= limit)
            break;
        if (prefix_of(json_string_value(json_object_get(json_object_get(m, "user"), "username")),
                      query, qn) ||
            prefix_of(json_string_value(json_object_get(m, "nick")), query, qn))
            json_array_append(list, m);
    }
}

void hub__members_request(hub_t *h, hearth_msg_t *msg)
{
    size_t si = hub__sub_find(h, msg->from), n, count, c, i;
    json_t *req, *list, *not_found, *d, *slice, *pres, *p;
    const char *nonce;
    hub_sub_t sub;

    if (si == (size_t)-1 || h->kind != HUB_KIND_GUILD)
        return;
    sub = h->subs[si];
    req = json_loadb(msg->data, msg->len, 0, NULL);
    if (!json_is_object(req)) {
        json_decref(req);
        return;
    }
    list = json_array();
    not_found = json_array();
    select_members(h, &sub, req, list, not_found);
    nonce = json_string_value(json_object_get(req, "nonce"));
    n = json_array_size(list);
    count = n == 0 ? 1 : (n + CHUNK_MAX - 1) / CHUNK_MAX;
    for (c = 0; c < count; c++) {
        slice = json_array();
        pres = json_is_true(json_object_get(req, "presences")) ? json_array() : NULL;
        for (i = c * CHUNK_MAX; i < n && i < (c + 1) * CHUNK_MAX; i++) {
            json_t *m = json_array_get(list, i);
            json_array_append(slice, m);
            if (pres != NULL &&
                (p = hub__presence_of(
                     h, hub__json_id(json_object_get(json_object_get(m, "user"), "id")))) != NULL)
                json_array_append_new(pres, p);
        }
        d = json_pack("{s:o, s:o, s:i, s:i}", "guild_id", hub__id_json(h->id), "members", slice,
                      "chunk_index", (int)c, "chunk_count", (int)count);
        if (c == 0 && json_array_size(not_found) > 0)
            json_object_set(d, "not_found", not_found);
        if (pres != NULL)
            json_object_set_new(d, "presences", pres);
        if (nonce != NULL && strlen(nonce) <= 32)
            json_object_set_new(d, "nonce", json_string(nonce));
        hub__send_one(h, sub.pid, sub.form ? HUB_FORM_ETF : HUB_FORM_JSON,
                      HUB_EV_GUILD_MEMBERS_CHUNK, d);
        json_decref(d);
    }
    json_decref(list);
    json_decref(not_found);
    json_decref(req);
}
