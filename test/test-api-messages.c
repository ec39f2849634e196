/* REST API tests, part two: messages (create with its checks, 150 messages paged
 * before/after/around, get, edit, delete, bulk delete, replies, nonces, multipart
 * payload_json) and reactions (unicode and custom emoji as clients encode them). */
#include "test-api.h"

#define API "/api/v10"
#define ID(x) ((unsigned long long)(x))
#define NMSG 150

static char path[256];

static const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *P(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return path;
}

/* Asserts that list (newest first) holds exactly ids[from..to] (inclusive), in order. */
static void expect_range(const json_t *list, const uint64_t *ids, int from, int to)
{
    ASSERT_EQ(to - from + 1, json_array_size(list));
    for (int i = 0; i <= to - from; i++)
        ASSERT_EQ(ids[to - i], jid(json_array_get(list, (size_t)i), "id"));
}

TEST_IMPL(api_messages_paging)
{
    uint64_t ids[NMSG], channel, before;
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t u;
    char content[32];
    int i, seen;

    ta_start(&n);
    ta_user(n.port, "pager", &u);
    ta_guild(n.port, &u, "pages", &channel);
    for (i = 0; i < NMSG; i++) {
        snprintf(content, sizeof(content), "message %d", i);
        ids[i] = ta_msg(n.port, &u, channel, content);
        if (i > 0)
            ASSERT_GT(ids[i], ids[i - 1]); /* ids grow in send order */
    }

    /* The latest 50 by default, newest first; limit 1..100. */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(channel)), u.token,
                          NULL));
    expect_range(r.json, ids, NMSG - 50, NMSG - 1);
    ASSERT_STR_EQ("message 149", js(json_array_get(r.json, 0), "content"));
    ASSERT_EQ(u.id, jid(json_object_get(json_array_get(r.json, 0), "author"), "id"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(API "/channels/%llu/messages?limit=100", ID(channel)), u.token, NULL));
    expect_range(r.json, ids, NMSG - 100, NMSG - 1);
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages?limit=1", ID(channel)),
                          u.token, NULL));
    expect_range(r.json, ids, NMSG - 1, NMSG - 1);

    /* before: the ones just older; after: the ones just newer (still newest first). */
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(API "/channels/%llu/messages?before=%llu&limit=10", ID(channel),
                            ID(ids[100])),
                          u.token, NULL));
    expect_range(r.json, ids, 90, 99);
    ASSERT_EQ(
        200, ta_req(n.port, &r, "GET",
                    P(API "/channels/%llu/messages?after=%llu&limit=10", ID(channel), ID(ids[100])),
                    u.token, NULL));
    expect_range(r.json, ids, 101, 110);
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(API "/channels/%llu/messages?after=%llu&limit=100", ID(channel),
                            ID(ids[120])),
                          u.token, NULL));
    expect_range(r.json, ids, 121, NMSG - 1);
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(API "/channels/%llu/messages?before=%llu", ID(channel), ID(ids[0])),
                          u.token, NULL));
    ASSERT_EQ(0, json_array_size(r.json));

    /* around: the message itself with about half on each side. */
    ASSERT_EQ(
        200, ta_req(n.port, &r, "GET",
                    P(API "/channels/%llu/messages?around=%llu&limit=11", ID(channel), ID(ids[75])),
                    u.token, NULL));
    ASSERT_EQ(11, json_array_size(r.json));
    {
        bool has = false;
        uint64_t prev = 0, id;

        for (size_t k = 0; k < json_array_size(r.json); k++) {
            id = jid(json_array_get(r.json, k), "id");
            if (k > 0)
                ASSERT_LT(id, prev);
            prev = id;
            has = has || id == ids[75];
        }
        ASSERT(has);
        ASSERT_GE(jid(json_array_get(r.json, 0), "id"), ids[80]);
        ASSERT_LE(jid(json_array_get(r.json, 10), "id"), ids[70]);
    }

    /* Walking back 33 at a time finds all 150 once, in order. */
    before = 0;
    seen = 0;
    for (;;) {
        if (before == 0)
            ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages?limit=33", ID(channel)),
                   u.token, NULL);
        else
            ta_req(n.port, &r, "GET",
                   P(API "/channels/%llu/messages?limit=33&before=%llu", ID(channel), ID(before)),
                   u.token, NULL);
        ASSERT_EQ(200, r.status);
        if (json_array_size(r.json) == 0)
            break;
        for (size_t k = 0; k < json_array_size(r.json); k++) {
            ASSERT_EQ(ids[NMSG - 1 - seen], jid(json_array_get(r.json, k), "id"));
            seen++;
        }
        before = jid(json_array_get(r.json, json_array_size(r.json) - 1), "id");
    }
    ASSERT_EQ(NMSG, seen);
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

TEST_IMPL(api_messages_create)
{
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t u, v, outsider;
    uint64_t channel, first, id;
    char *big;

    ta_start(&n);
    ta_user(n.port, "writer", &u);
    ta_user(n.port, "reader", &v);
    ta_user(n.port, "lurker", &outsider);
    ta_guild(n.port, &u, "writing", &channel);
    ta_join(n.port, &u, &v, channel);

    /* Content: up to 2000 characters (not bytes); 2001 is 50035; empty is 50006. */
    big = malloc(2001 * 4 + 64);
    ASSERT_NOT_NULL(big);
    memset(big, 'a', 2000);
    big[2000] = '\0';
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"content\": \"%s\"}", big));
    ASSERT_EQ(2000, strlen(js(r.json, "content")));
    big[2000] = 'a';
    big[2001] = '\0';
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"content\": \"%s\"}", big));
    TA_ERR(&r, 400, 50035);
    ASSERT(ta_form_error(&r, "content"));
    for (int i = 0; i < 2000; i++) /* 2000 three-byte characters are fine */
        memcpy(big + 3 * i, "\xe2\x82\xac", 3);
    big[6000] = '\0';
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"content\": \"%s\"}", big));
    free(big);
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"content\": \"\"}"));
    TA_ERR(&r, 400, 50006);
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"content\": \"   \", \"embeds\": []}"));
    TA_ERR(&r, 400, 50006);
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{}"));
    TA_ERR(&r, 400, 50006);
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"content\": 12, \"tts\": \"no\", \"embeds\": {}}"));
    ASSERT(ta_form_error(&r, "content") && ta_form_error(&r, "tts") && ta_form_error(&r, "embeds"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"content\": \"x\", \"embeds\": [{\"title\": 5}]}"));
    ASSERT(ta_form_error(&r, "embeds.0.title"));

    /* An embed alone is a message. */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"embeds\": [{\"title\": \"T\", \"description\": \"D\"}]}"));
    ASSERT_STR_EQ("T", js(json_array_get(json_object_get(r.json, "embeds"), 0), "title"));

    /* Mentions, tts, and a reply. */
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"content\": \"hi <@%llu>\", \"tts\": false}", ID(v.id)));
    first = jid(r.json, "id");
    ASSERT_EQ(1, json_array_size(json_object_get(r.json, "mentions")));
    ASSERT_EQ(v.id, jid(json_array_get(json_object_get(r.json, "mentions"), 0), "id"));
    ASSERT_EQ(200,
              ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)), v.token,
                     "{\"content\": \"hello\", \"message_reference\": {\"message_id\": "
                     "\"%llu\", \"fail_if_not_exists\": true}}",
                     ID(first)));
    ASSERT_EQ(19, ji(r.json, "type"));
    ASSERT_EQ(first, jid(json_object_get(r.json, "message_reference"), "message_id"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          v.token, "{\"content\": \"x\", \"message_reference\": 5}"));
    ASSERT(ta_form_error(&r, "message_reference"));
    ASSERT_EQ(400,
              ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)), v.token,
                     "{\"content\": \"x\", \"message_reference\": "
                     "{\"message_id\": \"nope\"}}"));
    ASSERT(ta_form_error(&r, "message_reference.message_id"));

    /* Nonces: a string or an integer, at most 25; enforce_nonce answers the same message. */
    ASSERT_EQ(200,
              ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)), u.token,
                     "{\"content\": \"once\", \"nonce\": \"n-1\", \"enforce_nonce\": true}"));
    id = jid(r.json, "id");
    ASSERT_STR_EQ("n-1", js(r.json, "nonce"));
    ASSERT_EQ(200,
              ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)), u.token,
                     "{\"content\": \"once\", \"nonce\": \"n-1\", \"enforce_nonce\": true}"));
    ASSERT_EQ(id, jid(r.json, "id"));
    ASSERT_EQ(200, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"content\": \"twice\", \"nonce\": 12345}"));
    ASSERT_STR_EQ("12345", js(r.json, "nonce"));
    ASSERT_EQ(400, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          u.token, "{\"content\": \"x\", \"nonce\": \"%026d\"}", 0));
    ASSERT(ta_form_error(&r, "nonce"));

    /* Not a member: 403; no such channel: 404. */
    ASSERT_EQ(403, ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages", ID(channel)),
                          outsider.token, "{\"content\": \"let me in\"}"));
    TA_ERR(&r, 403, 50001);
    ASSERT_EQ(403, ta_req(n.port, &r, "GET", P(API "/channels/%llu/messages", ID(channel)),
                          outsider.token, NULL));
    TA_ERR(&r, 403, 50001);
    ASSERT_EQ(404, ta_req(n.port, &r, "POST", API "/channels/1234567890123/messages", u.token,
                          "{\"content\": \"void\"}"));
    TA_ERR(&r, 404, 10003);
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

TEST_IMPL(api_messages_multipart)
{
    static const char body[] =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"payload_json\"\r\n"
        "Content-Type: application/json\r\n\r\n"
        "{\"content\": \"with a file\", \"attachments\": [{\"id\": 0, \"filename\": "
        "\"a.txt\"}]}\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"files[0]\"; filename=\"a.txt\"\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "file bytes\r\n--not the boundary\r\n"
        "--XyZ--\r\n";
    static const char fields[] = "--b\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n"
                                 "plain field\r\n--b--\r\n";
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t u;
    uint64_t channel;

    ta_start(&n);
    ta_user(n.port, "filer", &u);
    ta_guild(n.port, &u, "files", &channel);
    ASSERT_EQ(200, ta_raw(n.port, "POST", P(API "/channels/%llu/messages", ID(channel)), u.token,
                          "multipart/form-data; boundary=XyZ", body, sizeof(body) - 1, &r));
    ASSERT_STR_EQ("with a file", js(r.json, "content"));
    ASSERT_EQ(200, ta_raw(n.port, "POST", P(API "/channels/%llu/messages", ID(channel)), u.token,
                          "multipart/form-data; boundary=\"b\"", fields, sizeof(fields) - 1, &r));
    ASSERT_STR_EQ("plain field", js(r.json, "content"));
    ASSERT_EQ(400, ta_raw(n.port, "POST", P(API "/channels/%llu/messages", ID(channel)), u.token,
                          "multipart/form-data; boundary=nothere", body, sizeof(body) - 1, &r));
    ASSERT_EQ(400, ta_raw(n.port, "POST", P(API "/channels/%llu/messages", ID(channel)), u.token,
                          "multipart/form-data; boundary=XyZ", body, 60, &r));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

TEST_IMPL(api_messages_edit_delete)
{
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t owner, member;
    uint64_t channel, mine, theirs, ids[10], old;
    char list[512];
    int i, len;

    ta_start(&n);
    ta_user(n.port, "eowner", &owner);
    ta_user(n.port, "emember", &member);
    ta_guild(n.port, &owner, "edits", &channel);
    ta_join(n.port, &owner, &member, channel);
    mine = ta_msg(n.port, &member, channel, "first draft");
    theirs = ta_msg(n.port, &owner, channel, "the owner's");

    ASSERT_EQ(200, ta_req(n.port, &r, "PATCH",
                          P(API "/channels/%llu/messages/%llu", ID(channel), ID(mine)),
                          member.token, "{\"content\": \"second draft\"}"));
    ASSERT_STR_EQ("second draft", js(r.json, "content"));
    ASSERT_NOT_NULL(js(r.json, "edited_timestamp"));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(API "/channels/%llu/messages/%llu", ID(channel), ID(mine)), owner.token,
                          NULL));
    ASSERT_STR_EQ("second draft", js(r.json, "content"));
    ASSERT_EQ(403, ta_req(n.port, &r, "PATCH",
                          P(API "/channels/%llu/messages/%llu", ID(channel), ID(theirs)),
                          member.token, "{\"content\": \"mine now\"}"));
    TA_ERR(&r, 403, 50005);
    ASSERT_EQ(400, ta_req(n.port, &r, "PATCH",
                          P(API "/channels/%llu/messages/%llu", ID(channel), ID(mine)),
                          member.token, "{\"content\": \"%02001d\"}", 0));
    ASSERT(ta_form_error(&r, "content"));
    ASSERT_EQ(404, ta_req(n.port, &r, "PATCH",
                          P(API "/channels/%llu/messages/1234567890123", ID(channel)), member.token,
                          "{\"content\": \"x\"}"));
    TA_ERR(&r, 404, 10008);

    /* Delete: one's own; then it is an Unknown Message. */
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE",
                          P(API "/channels/%llu/messages/%llu", ID(channel), ID(mine)),
                          member.token, NULL));
    ASSERT_EQ(404, ta_req(n.port, &r, "GET",
                          P(API "/channels/%llu/messages/%llu", ID(channel), ID(mine)), owner.token,
                          NULL));
    TA_ERR(&r, 404, 10008);
    ASSERT_EQ(404, ta_req(n.port, &r, "DELETE",
                          P(API "/channels/%llu/messages/%llu", ID(channel), ID(mine)),
                          member.token, NULL));
    TA_ERR(&r, 404, 10008);
    ASSERT_EQ(403, ta_req(n.port, &r, "DELETE",
                          P(API "/channels/%llu/messages/%llu", ID(channel), ID(theirs)),
                          member.token, NULL));

    /* Bulk delete: 2..100 ids, none older than two weeks, no duplicates. */
    for (i = 0; i < 10; i++)
        ids[i] = ta_msg(n.port, &owner, channel, "bulk");
    len = snprintf(list, sizeof(list), "{\"messages\": [");
    for (i = 0; i < 5; i++)
        len += snprintf(list + len, sizeof(list) - (size_t)len, "%s\"%llu\"", i ? ", " : "",
                        ID(ids[i]));
    snprintf(list + len, sizeof(list) - (size_t)len, "]}");
    ASSERT_EQ(204,
              ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages/bulk-delete", ID(channel)),
                     owner.token, "%s", list));
    for (i = 0; i < 10; i++)
        ASSERT_EQ(i < 5 ? 404 : 200,
                  ta_req(n.port, &r, "GET",
                         P(API "/channels/%llu/messages/%llu", ID(channel), ID(ids[i])),
                         owner.token, NULL));
    ASSERT_EQ(400,
              ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages/bulk-delete", ID(channel)),
                     owner.token, "{\"messages\": [\"%llu\"]}", ID(ids[6])));
    ASSERT(ta_form_error(&r, "messages"));
    ASSERT_EQ(400,
              ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages/bulk-delete", ID(channel)),
                     owner.token, "{\"messages\": [\"%llu\", \"%llu\"]}", ID(ids[6]), ID(ids[6])));
    TA_ERR(&r, 400, 50035);
    ASSERT_EQ(400,
              ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages/bulk-delete", ID(channel)),
                     owner.token, "{}"));
    ASSERT(ta_form_error(&r, "messages"));
    old = snowflake_from_ms(snowflake_ms(ids[6]) - 15LL * 24 * 3600 * 1000);
    ASSERT_EQ(400,
              ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages/bulk-delete", ID(channel)),
                     owner.token, "{\"messages\": [\"%llu\", \"%llu\"]}", ID(ids[6]), ID(old)));
    TA_ERR(&r, 400, 50034);
    ASSERT_EQ(403,
              ta_req(n.port, &r, "POST", P(API "/channels/%llu/messages/bulk-delete", ID(channel)),
                     member.token, "{\"messages\": [\"%llu\", \"%llu\"]}", ID(ids[6]), ID(ids[7])));
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}

TEST_IMPL(api_reactions)
{
    ta_node_t n;
    ta_res_t r = {0};
    ta_user_t owner, member;
    uint64_t channel, msg;
    const char *thumbs = "%F0%9F%91%8D"; /* 👍 as encodeURIComponent writes it */

    ta_start(&n);
    ta_user(n.port, "rowner", &owner);
    ta_user(n.port, "rmember", &member);
    ta_guild(n.port, &owner, "reacts", &channel);
    ta_join(n.port, &owner, &member, channel);
    msg = ta_msg(n.port, &owner, channel, "react to me");

#define MSG API "/channels/%llu/messages/%llu"
    ASSERT_EQ(204,
              ta_req(n.port, &r, "PUT", P(MSG "/reactions/%s/@me", ID(channel), ID(msg), thumbs),
                     owner.token, NULL));
    ASSERT_EQ(204,
              ta_req(n.port, &r, "PUT", P(MSG "/reactions/%s/@me", ID(channel), ID(msg), thumbs),
                     member.token, NULL));
    ASSERT_EQ(204,
              ta_req(n.port, &r, "PUT", P(MSG "/reactions/%s/@me", ID(channel), ID(msg), thumbs),
                     member.token, NULL)); /* again: no change, still 204 */
    /* A custom emoji as name:id, with the colon encoded or not. */
    ASSERT_EQ(204, ta_req(n.port, &r, "PUT",
                          P(MSG "/reactions/hearth%%3A1234567890123/@me", ID(channel), ID(msg)),
                          member.token, NULL));
    ASSERT_EQ(204, ta_req(n.port, &r, "PUT",
                          P(MSG "/reactions/hearth:1234567890123/@me", ID(channel), ID(msg)),
                          owner.token, NULL));

    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(MSG "/reactions/%s", ID(channel), ID(msg), thumbs),
                          member.token, NULL));
    ASSERT_EQ(2, json_array_size(r.json));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET",
                          P(MSG "/reactions/%s?limit=1", ID(channel), ID(msg), thumbs),
                          member.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(MSG, ID(channel), ID(msg)), member.token, NULL));
    {
        json_t *rs = json_object_get(r.json, "reactions"), *x;
        size_t i;
        bool seen_unicode = false, seen_custom = false;

        ASSERT_EQ(2, json_array_size(rs));
        json_array_foreach(rs, i, x)
        {
            json_t *e = json_object_get(x, "emoji");

            if (js(e, "name") != NULL && strcmp(js(e, "name"), "\xf0\x9f\x91\x8d") == 0) {
                seen_unicode = true;
                ASSERT_EQ(2, ji(x, "count"));
                ASSERT(jb(x, "me"));
            } else {
                seen_custom = true;
                ASSERT_STR_EQ("hearth", js(e, "name"));
                ASSERT_EQ(1234567890123ULL, jid(e, "id"));
                ASSERT_EQ(2, ji(x, "count"));
            }
        }
        ASSERT(seen_unicode && seen_custom);
    }

    /* Bad emoji are Unknown Emoji. */
    ASSERT_EQ(400,
              ta_req(n.port, &r, "PUT", P(MSG "/reactions/bad:emoji/@me", ID(channel), ID(msg)),
                     member.token, NULL));
    TA_ERR(&r, 400, 10014);
    ASSERT_EQ(400, ta_req(n.port, &r, "PUT", P(MSG "/reactions/%%FF%%FE/@me", ID(channel), ID(msg)),
                          member.token, NULL));
    TA_ERR(&r, 400, 10014);
    ASSERT_EQ(400,
              ta_req(n.port, &r, "PUT", P(MSG "/reactions/notanemoji/@me", ID(channel), ID(msg)),
                     member.token, NULL));
    TA_ERR(&r, 400, 10014);
    ASSERT_EQ(400, ta_req(n.port, &r, "GET", P(MSG "/reactions/thumbsup", ID(channel), ID(msg)),
                          member.token, NULL));
    TA_ERR(&r, 400, 10014);
    /* A keycap and a ZWJ sequence are emoji. */
    ASSERT_EQ(204, ta_req(n.port, &r, "PUT",
                          P(MSG "/reactions/1%%EF%%B8%%8F%%E2%%83%%A3/@me", ID(channel), ID(msg)),
                          member.token, NULL));
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE",
                          P(MSG "/reactions/1%%EF%%B8%%8F%%E2%%83%%A3/@me", ID(channel), ID(msg)),
                          member.token, NULL));
    ASSERT_EQ(204, ta_req(n.port, &r, "PUT",
                          P(MSG "/reactions/%%F0%%9F%%91%%A9%%E2%%80%%8D%%F0%%9F%%92%%BB/@me",
                            ID(channel), ID(msg)),
                          member.token, NULL));
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE",
                          P(MSG "/reactions/%%F0%%9F%%91%%A9%%E2%%80%%8D%%F0%%9F%%92%%BB/@me",
                            ID(channel), ID(msg)),
                          member.token, NULL));
    ASSERT_EQ(404, ta_req(n.port, &r, "PUT",
                          P(API "/channels/%llu/messages/1234567890123/reactions/%s/@me",
                            ID(channel), thumbs),
                          member.token, NULL));
    TA_ERR(&r, 404, 10008);

    /* Remove one's own, someone else's (the owner may), one emoji, all. */
    ASSERT_EQ(204,
              ta_req(n.port, &r, "DELETE", P(MSG "/reactions/%s/@me", ID(channel), ID(msg), thumbs),
                     member.token, NULL));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(MSG "/reactions/%s", ID(channel), ID(msg), thumbs),
                          member.token, NULL));
    ASSERT_EQ(1, json_array_size(r.json));
    ASSERT_EQ(owner.id, jid(json_array_get(r.json, 0), "id"));
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE",
                          P(MSG "/reactions/hearth:1234567890123/%llu", ID(channel), ID(msg),
                            ID(member.id)),
                          owner.token, NULL));
    ASSERT_EQ(403, ta_req(n.port, &r, "DELETE",
                          P(MSG "/reactions/hearth:1234567890123/%llu", ID(channel), ID(msg),
                            ID(owner.id)),
                          member.token, NULL));
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE",
                          P(MSG "/reactions/hearth:1234567890123", ID(channel), ID(msg)),
                          owner.token, NULL));
    ASSERT_EQ(204, ta_req(n.port, &r, "DELETE", P(MSG "/reactions", ID(channel), ID(msg)),
                          owner.token, NULL));
    ASSERT_EQ(200, ta_req(n.port, &r, "GET", P(MSG, ID(channel), ID(msg)), member.token, NULL));
    ASSERT_EQ(0, json_array_size(json_object_get(r.json, "reactions")));
#undef MSG
    ta_res_free(&r);
    ta_stop(&n);
    return 0;
}
