/* Store tests, part three: messages (create, nonce dedupe, replies, pagination, edit,
 * delete, bulk delete), reactions and invites. */
#include "test-store.h"

#include <unistd.h>

/* A guild with its owner and general channel, for the tests below. */
typedef struct fixture {
    char dir[64];
    store_t *s;
    uint64_t owner, gid, channel;
} fixture_t;

static void fx_open(fixture_t *f)
{
    f->s = ts_open(f->dir);
    f->owner = ts_user(f->s, "owner");
    f->gid = ts_guild(f->s, f->owner, "messages", &f->channel);
}

static void fx_close(fixture_t *f)
{
    ts_close(f->s, f->dir);
}

/* ---- messages -------------------------------------------------------------------------------- */

TEST_IMPL(store_message_create_get)
{
    store_message_new_t m = {0};
    uint64_t mid, other, ids[2];
    json_t *msg, *ch, *embeds;
    char *big;
    fixture_t f;
    size_t i;

    fx_open(&f);
    other = ts_user(f.s, "mentioned");
    ids[0] = other;
    ids[1] = 999; /* an unknown user is left out of mentions */
    embeds = json_pack("[{s:s, s:s}]", "title", "Hello", "description", "an embed");
    m.channel_id = f.channel;
    m.author_id = f.owner;
    m.content = "hello <@x> world";
    m.mentions = ids;
    m.nmentions = 2;
    m.mention_roles = &f.gid;
    m.nmention_roles = 1;
    m.mention_everyone = true;
    m.embeds = embeds;
    ASSERT_OK(store_message_create(f.s, &m, &msg));
    mid = jid(msg, "id");
    ASSERT_NE(0, mid);
    ASSERT_EQ(f.channel, jid(msg, "channel_id"));
    ASSERT_STR_EQ("hello <@x> world", js(msg, "content"));
    ASSERT_EQ(f.owner, jid(json_object_get(msg, "author"), "id"));
    ASSERT_STR_EQ("owner", js(json_object_get(msg, "author"), "username"));
    ASSERT_EQ(0, ji(msg, "type"));
    ASSERT_NOT_NULL(strstr(js(msg, "timestamp"), "+00:00"));
    ASSERT(json_is_null(json_object_get(msg, "edited_timestamp")));
    ASSERT(jb(msg, "mention_everyone"));
    ASSERT_EQ(1, json_array_size(json_object_get(msg, "mentions")));
    ASSERT_EQ(other, jid(json_array_get(json_object_get(msg, "mentions"), 0), "id"));
    ASSERT_EQ(1, json_array_size(json_object_get(msg, "mention_roles")));
    ASSERT(json_equal(embeds, json_object_get(msg, "embeds")));
    ASSERT_EQ(0, json_array_size(json_object_get(msg, "attachments")));
    ASSERT_NULL(json_object_get(msg, "reactions"));
    ASSERT_NULL(json_object_get(msg, "nonce"));
    ASSERT(!jb(msg, "pinned"));
    ASSERT(!jb(msg, "tts"));
    json_decref(msg);
    json_decref(embeds);

    /* The channel's last_message_id follows. */
    ASSERT_OK(store_channel_get(f.s, f.channel, 0, &ch));
    ASSERT_EQ(mid, jid(ch, "last_message_id"));
    json_decref(ch);
    ASSERT_OK(store_message_get(f.s, f.channel, mid, 0, &msg));
    ASSERT_EQ(mid, jid(msg, "id"));
    json_decref(msg);
    ASSERT_EQ(STORE_ENOTFOUND, store_message_get(f.s, f.channel + 1, mid, 0, NULL));

    /* 2000 characters is the limit, counted in characters, not bytes. */
    big = malloc(2001 * 4 + 1);
    ASSERT_NOT_NULL(big);
    for (i = 0; i < 2000; i++)
        memcpy(big + i * 4, "\xF0\x9F\x98\x80", 4); /* U+1F600 */
    big[2000 * 4] = '\0';
    memset(&m, 0, sizeof(m));
    m.channel_id = f.channel;
    m.author_id = f.owner;
    m.content = big;
    ASSERT_OK(store_message_create(f.s, &m, NULL));
    memcpy(big + 2000 * 4, "!", 2);
    ASSERT_EQ(STORE_EINVAL, store_message_create(f.s, &m, NULL));
    free(big);
    m.content = "bad \xC3\x28 utf-8";
    ASSERT_EQ(STORE_EINVAL, store_message_create(f.s, &m, NULL));
    m.content = "overlong \xC0\xAF";
    ASSERT_EQ(STORE_EINVAL, store_message_create(f.s, &m, NULL));
    m.content = "ok";
    m.nonce = "12345678901234567890123456"; /* 26 */
    ASSERT_EQ(STORE_EINVAL, store_message_create(f.s, &m, NULL));
    m.nonce = NULL;
    m.channel_id = 4242;
    ASSERT_EQ(STORE_ENOTFOUND, store_message_create(f.s, &m, NULL));
    m.channel_id = f.channel;
    m.author_id = 4242;
    ASSERT_EQ(STORE_ENOTFOUND, store_message_create(f.s, &m, NULL));

    /* A caller-assigned id (the guild process assigns them) is kept. */
    m.author_id = f.owner;
    m.id = snowflake_next();
    ASSERT_OK(store_message_create(f.s, &m, &msg));
    ASSERT_EQ(m.id, jid(msg, "id"));
    json_decref(msg);
    ASSERT_EQ(STORE_EEXIST, store_message_create(f.s, &m, NULL));
    fx_close(&f);
    return 0;
}

TEST_IMPL(store_message_nonce)
{
    store_message_new_t m = {0};
    uint64_t first, other;
    json_t *msg;
    fixture_t f;

    fx_open(&f);
    other = ts_user(f.s, "other");
    ASSERT_OK(store_member_add(f.s, f.gid, other, NULL));
    m.channel_id = f.channel;
    m.author_id = f.owner;
    m.content = "once";
    m.nonce = "n-1";
    m.enforce_nonce = true;
    ASSERT_OK(store_message_create(f.s, &m, &msg));
    first = jid(msg, "id");
    ASSERT_STR_EQ("n-1", js(msg, "nonce"));
    json_decref(msg);

    /* The same author, channel and nonce: the first message, and nothing new. */
    m.content = "twice?";
    ASSERT_EQ(STORE_UNCHANGED, store_message_create(f.s, &m, &msg));
    ASSERT_EQ(first, jid(msg, "id"));
    ASSERT_STR_EQ("once", js(msg, "content"));
    json_decref(msg);
    ASSERT_OK(store_message_list(f.s, f.channel, NULL, 0, &msg));
    ASSERT_EQ(1, json_array_size(msg));
    json_decref(msg);

    /* Another author, or no enforce_nonce: a new message (the nonce is echoed). */
    m.author_id = other;
    ASSERT_OK(store_message_create(f.s, &m, &msg));
    ASSERT_NE(first, jid(msg, "id"));
    json_decref(msg);
    m.author_id = f.owner;
    m.enforce_nonce = false;
    ASSERT_OK(store_message_create(f.s, &m, &msg));
    ASSERT_NE(first, jid(msg, "id"));
    ASSERT_STR_EQ("n-1", js(msg, "nonce"));
    json_decref(msg);
    fx_close(&f);
    return 0;
}

TEST_IMPL(store_message_reply)
{
    store_message_new_t m = {0};
    uint64_t orig, reply;
    json_t *msg, *ref;
    fixture_t f;

    fx_open(&f);
    orig = ts_msg(f.s, f.channel, f.owner, "question?");
    m.channel_id = f.channel;
    m.author_id = f.owner;
    m.content = "answer";
    m.reply_to = orig;
    ASSERT_OK(store_message_create(f.s, &m, &msg));
    reply = jid(msg, "id");
    ASSERT_EQ(19, ji(msg, "type"));
    ref = json_object_get(msg, "message_reference");
    ASSERT_EQ(orig, jid(ref, "message_id"));
    ASSERT_EQ(f.channel, jid(ref, "channel_id"));
    ASSERT_EQ(f.gid, jid(ref, "guild_id"));
    ASSERT_STR_EQ("question?", js(json_object_get(msg, "referenced_message"), "content"));
    json_decref(msg);

    /* Replying to a reply: the referenced message does not nest further. */
    m.reply_to = reply;
    ASSERT_OK(store_message_create(f.s, &m, &msg));
    ref = json_object_get(msg, "referenced_message");
    ASSERT_EQ(reply, jid(ref, "id"));
    ASSERT_NULL(json_object_get(ref, "referenced_message"));
    json_decref(msg);

    /* An unknown message: refused, unless the reference is optional. */
    m.reply_to = 31337;
    ASSERT_EQ(STORE_ENOTFOUND, store_message_create(f.s, &m, NULL));
    m.reply_optional = true;
    ASSERT_OK(store_message_create(f.s, &m, &msg));
    ASSERT_EQ(0, ji(msg, "type"));
    ASSERT_NULL(json_object_get(msg, "message_reference"));
    json_decref(msg);

    /* The original deleted: referenced_message becomes null. */
    ASSERT_OK(store_message_delete(f.s, f.channel, orig));
    ASSERT_OK(store_message_get(f.s, f.channel, reply, 0, &msg));
    ASSERT(json_is_null(json_object_get(msg, "referenced_message")));
    ASSERT_EQ(orig, jid(json_object_get(msg, "message_reference"), "message_id"));
    json_decref(msg);
    fx_close(&f);
    return 0;
}

/* Checks that list holds ids[from], ids[from - 1], ..., n of them (newest first). */
static void check_page(json_t *list, const uint64_t *ids, long from, size_t n)
{
    size_t i;

    ASSERT_EQ(n, json_array_size(list));
    for (i = 0; i < n; i++)
        ASSERT_EQ(ids[from - (long)i], jid(json_array_get(list, i), "id"));
}

TEST_IMPL(store_message_pagination)
{
    enum { N = 250 };
    uint64_t ids[N], before;
    char text[16];
    json_t *list;
    fixture_t f;
    size_t i, seen;

    fx_open(&f);
    ASSERT_OK(store_message_list(f.s, f.channel, NULL, 0, &list));
    ASSERT_EQ(0, json_array_size(list)); /* empty channel */
    json_decref(list);
    ASSERT_OK(store_tx_begin(f.s));
    for (i = 0; i < N; i++) {
        snprintf(text, sizeof(text), "m%zu", i);
        ids[i] = ts_msg(f.s, f.channel, f.owner, text);
    }
    ASSERT_OK(store_tx_commit(f.s));

    /* Default: the 50 newest, newest first. */
    ASSERT_OK(store_message_list(f.s, f.channel, NULL, 0, &list));
    check_page(list, ids, N - 1, 50);
    json_decref(list);
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.limit = 1}, 0, &list));
    check_page(list, ids, N - 1, 1);
    json_decref(list);
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.limit = 100}, 0, &list));
    check_page(list, ids, N - 1, 100);
    json_decref(list);
    ASSERT_EQ(STORE_EINVAL,
              store_message_list(f.s, f.channel, &(store_page_t){.limit = 101}, 0, &list));
    ASSERT_EQ(STORE_EINVAL,
              store_message_list(f.s, f.channel, &(store_page_t){.limit = -1}, 0, &list));
    ASSERT_EQ(STORE_EINVAL,
              store_message_list(f.s, f.channel, &(store_page_t){.before = ids[5], .after = ids[1]},
                                 0, &list));
    ASSERT_EQ(STORE_ENOTFOUND, store_message_list(f.s, 999, NULL, 0, &list));

    /* before: the ones just older, newest first; paging back reaches every message once. */
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.before = ids[100], .limit = 10},
                                 0, &list));
    check_page(list, ids, 99, 10);
    json_decref(list);
    before = 0;
    seen = 0;
    for (;;) {
        ASSERT_OK(store_message_list(f.s, f.channel,
                                     &(store_page_t){.before = before, .limit = 100}, 0, &list));
        if (json_array_size(list) == 0) {
            json_decref(list);
            break;
        }
        check_page(list, ids, N - 1 - (long)seen, json_array_size(list));
        seen += json_array_size(list);
        before = jid(json_array_get(list, json_array_size(list) - 1), "id");
        json_decref(list);
    }
    ASSERT_EQ(N, seen);
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.before = ids[0]}, 0, &list));
    ASSERT_EQ(0, json_array_size(list));
    json_decref(list);

    /* after: the ones just newer (the oldest after it), still newest first. */
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.after = ids[100], .limit = 10}, 0,
                                 &list));
    check_page(list, ids, 110, 10);
    json_decref(list);
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.after = ids[245], .limit = 10}, 0,
                                 &list));
    check_page(list, ids, N - 1, 4);
    json_decref(list);
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.after = ids[N - 1]}, 0, &list));
    ASSERT_EQ(0, json_array_size(list));
    json_decref(list);

    /* around: centered on the message, which is included. */
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.around = ids[100], .limit = 5}, 0,
                                 &list));
    check_page(list, ids, 102, 5);
    json_decref(list);
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.around = ids[100], .limit = 1}, 0,
                                 &list));
    check_page(list, ids, 100, 1);
    json_decref(list);
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.around = ids[100], .limit = 100},
                                 0, &list));
    check_page(list, ids, 150, 100);
    json_decref(list);
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.around = ids[1], .limit = 10}, 0,
                                 &list));
    check_page(list, ids, 6, 7); /* 5 newer, then ids[1] and ids[0]: the channel's start */
    json_decref(list);
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.around = ids[N - 1], .limit = 10},
                                 0, &list));
    check_page(list, ids, N - 1, 5);
    json_decref(list);
    fx_close(&f);
    return 0;
}

TEST_IMPL(store_message_edit_delete)
{
    store_message_edit_t e = {0};
    uint64_t ids[120], other_channel, mid, other;
    json_t *msg, *params, *c, *embeds;
    size_t i, deleted;
    fixture_t f;

    fx_open(&f);
    other = ts_user(f.s, "someone");
    mid = ts_msg(f.s, f.channel, f.owner, "before");
    e.content = "after";
    e.flags = -1;
    ASSERT_OK(store_message_edit(f.s, f.channel, mid, &e, 0, &msg));
    ASSERT_STR_EQ("after", js(msg, "content"));
    ASSERT_NOT_NULL(js(msg, "edited_timestamp"));
    ASSERT_EQ(0, ji(msg, "flags"));
    json_decref(msg);

    /* Embeds and mentions only when given; flags when >= 0. */
    embeds = json_pack("[{s:s}]", "title", "t");
    memset(&e, 0, sizeof(e));
    e.embeds = embeds;
    e.flags = 4; /* SUPPRESS_EMBEDS */
    e.mentions = &other;
    e.nmentions = 1;
    e.set_mentions = true;
    ASSERT_OK(store_message_edit(f.s, f.channel, mid, &e, 0, &msg));
    ASSERT_STR_EQ("after", js(msg, "content"));
    ASSERT_EQ(4, ji(msg, "flags"));
    ASSERT_EQ(1, json_array_size(json_object_get(msg, "embeds")));
    ASSERT_EQ(other, jid(json_array_get(json_object_get(msg, "mentions"), 0), "id"));
    json_decref(msg);
    json_decref(embeds);
    memset(&e, 0, sizeof(e));
    e.flags = -1;
    e.content = "again";
    ASSERT_OK(store_message_edit(f.s, f.channel, mid, &e, 0, &msg));
    ASSERT_EQ(1, json_array_size(json_object_get(msg, "embeds")));
    ASSERT_EQ(1, json_array_size(json_object_get(msg, "mentions")));
    json_decref(msg);
    ASSERT_EQ(STORE_ENOTFOUND, store_message_edit(f.s, f.channel, mid + 1000, &e, 0, NULL));
    e.content = "bad \xFF";
    ASSERT_EQ(STORE_EINVAL, store_message_edit(f.s, f.channel, mid, &e, 0, NULL));

    {
        uint64_t author = 0;

        ASSERT_OK(store_message_author(f.s, f.channel, mid, &author));
        ASSERT_EQ(f.owner, author);
    }
    ASSERT_OK(store_message_delete(f.s, f.channel, mid));
    ASSERT_EQ(STORE_ENOTFOUND, store_message_get(f.s, f.channel, mid, 0, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_message_delete(f.s, f.channel, mid));

    /* Bulk delete: only the channel's own messages, up to 100 ids. */
    params = json_pack("{s:s}", "name", "other");
    ASSERT_OK(store_channel_create(f.s, f.gid, params, &c));
    other_channel = jid(c, "id");
    json_decref(c);
    json_decref(params);
    for (i = 0; i < 120; i++)
        ids[i] = ts_msg(f.s, i < 110 ? f.channel : other_channel, f.owner, "bulk");
    ASSERT_EQ(STORE_EINVAL, store_message_bulk_delete(f.s, f.channel, ids, 101, NULL));
    ASSERT_EQ(STORE_EINVAL, store_message_bulk_delete(f.s, f.channel, ids, 0, NULL));
    deleted = 0;
    ASSERT_OK(store_message_bulk_delete(f.s, f.channel, ids + 20, 100, &deleted));
    ASSERT_EQ(90, deleted); /* ids[110..119] are the other channel's */
    ASSERT_OK(store_message_list(f.s, f.channel, &(store_page_t){.limit = 100}, 0, &msg));
    check_page(msg, ids, 19, 20);
    json_decref(msg);
    ASSERT_OK(store_message_list(f.s, other_channel, NULL, 0, &msg));
    ASSERT_EQ(10, json_array_size(msg));
    json_decref(msg);
    fx_close(&f);
    return 0;
}

/* ---- reactions ------------------------------------------------------------------------------- */

TEST_IMPL(store_reactions)
{
    store_emoji_t thumbs = {0, "👍", false}, heart = {0, "❤️", false};
    store_emoji_t custom = {0}, renamed = {0};
    json_t *msg, *r, *users;
    uint64_t mid, u[4];
    char name[16], buf[64];
    fixture_t f;
    size_t i;

    fx_open(&f);
    for (i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "reactor%zu", i);
        u[i] = ts_user(f.s, name);
    }
    mid = ts_msg(f.s, f.channel, f.owner, "react to me");
    for (i = 0; i < 3; i++)
        ASSERT_OK(store_reaction_put(f.s, f.channel, mid, u[i], &thumbs));
    ASSERT_EQ(STORE_UNCHANGED, store_reaction_put(f.s, f.channel, mid, u[0], &thumbs));
    ASSERT_OK(store_reaction_put(f.s, f.channel, mid, u[3], &heart));
    ASSERT_OK(store_emoji_parse("party:123456789012345678", &custom, buf, sizeof(buf)));
    ASSERT_EQ(123456789012345678ULL, custom.id);
    ASSERT_STR_EQ("party", custom.name);
    ASSERT_OK(store_reaction_put(f.s, f.channel, mid, u[1], &custom));
    ASSERT_EQ(STORE_ENOTFOUND, store_reaction_put(f.s, f.channel, mid + 1, u[1], &thumbs));
    ASSERT_EQ(STORE_ENOTFOUND, store_reaction_put(f.s, f.channel + 1, mid, u[1], &thumbs));

    /* The summary: in order of first use, with count and "me" for the viewer. */
    ASSERT_OK(store_message_get(f.s, f.channel, mid, u[3], &msg));
    r = json_object_get(msg, "reactions");
    ASSERT_EQ(3, json_array_size(r));
    ASSERT_STR_EQ("👍", js(json_object_get(json_array_get(r, 0), "emoji"), "name"));
    ASSERT(json_is_null(json_object_get(json_object_get(json_array_get(r, 0), "emoji"), "id")));
    ASSERT_EQ(3, ji(json_array_get(r, 0), "count"));
    ASSERT(!jb(json_array_get(r, 0), "me"));
    ASSERT_EQ(3, ji(json_object_get(json_array_get(r, 0), "count_details"), "normal"));
    ASSERT_STR_EQ("❤️", js(json_object_get(json_array_get(r, 1), "emoji"), "name"));
    ASSERT_EQ(1, ji(json_array_get(r, 1), "count"));
    ASSERT(jb(json_array_get(r, 1), "me"));
    ASSERT_EQ(custom.id, jid(json_object_get(json_array_get(r, 2), "emoji"), "id"));
    json_decref(msg);
    ASSERT_OK(store_message_get(f.s, f.channel, mid, u[0], &msg));
    ASSERT(jb(json_array_get(json_object_get(msg, "reactions"), 0), "me"));
    json_decref(msg);

    /* A custom emoji is the same emoji under another name: identity is its id. */
    ASSERT_OK(store_emoji_parse("a:renamed:123456789012345678", &renamed, buf, sizeof(buf)));
    ASSERT(renamed.animated);
    ASSERT_EQ(STORE_UNCHANGED, store_reaction_put(f.s, f.channel, mid, u[1], &renamed));

    /* Users who reacted: by id, with after and limit. */
    ASSERT_OK(store_reaction_users(f.s, f.channel, mid, &thumbs, NULL, &users));
    ASSERT_EQ(3, json_array_size(users));
    for (i = 0; i < 3; i++)
        ASSERT_EQ(u[i], jid(json_array_get(users, i), "id"));
    json_decref(users);
    ASSERT_OK(store_reaction_users(f.s, f.channel, mid, &thumbs,
                                   &(store_page_t){.after = u[0], .limit = 1}, &users));
    ASSERT_EQ(1, json_array_size(users));
    ASSERT_EQ(u[1], jid(json_array_get(users, 0), "id"));
    json_decref(users);
    ASSERT_EQ(STORE_EINVAL, store_reaction_users(f.s, f.channel, mid, &thumbs,
                                                 &(store_page_t){.limit = 101}, &users));

    /* Remove own, someone's, all of one emoji, all. */
    ASSERT_OK(store_reaction_delete(f.s, f.channel, mid, u[0], &thumbs));
    ASSERT_EQ(STORE_ENOTFOUND, store_reaction_delete(f.s, f.channel, mid, u[0], &thumbs));
    ASSERT_OK(store_reaction_delete(f.s, f.channel, mid, u[1], &thumbs));
    ASSERT_OK(store_message_get(f.s, f.channel, mid, u[2], &msg));
    r = json_object_get(msg, "reactions");
    ASSERT_EQ(1, ji(json_array_get(r, 0), "count"));
    ASSERT(jb(json_array_get(r, 0), "me"));
    json_decref(msg);
    ASSERT_OK(store_reaction_delete_all(f.s, f.channel, mid, &heart));
    ASSERT_EQ(STORE_UNCHANGED, store_reaction_delete_all(f.s, f.channel, mid, &heart));
    ASSERT_OK(store_message_get(f.s, f.channel, mid, 0, &msg));
    ASSERT_EQ(2, json_array_size(json_object_get(msg, "reactions")));
    json_decref(msg);
    ASSERT_OK(store_reaction_delete_all(f.s, f.channel, mid, NULL));
    ASSERT_OK(store_message_get(f.s, f.channel, mid, 0, &msg));
    ASSERT_NULL(json_object_get(msg, "reactions"));
    json_decref(msg);
    ASSERT_EQ(STORE_ENOTFOUND, store_reaction_delete_all(f.s, f.channel, mid + 1, NULL));

    /* At most 20 different emoji on a message. */
    for (i = 0; i < 20; i++) {
        store_emoji_t e = {1000 + i, "e", false};

        ASSERT_OK(store_reaction_put(f.s, f.channel, mid, u[0], &e));
    }
    ASSERT_EQ(STORE_ELIMIT, store_reaction_put(f.s, f.channel, mid, u[0], &thumbs));
    ASSERT_OK(store_reaction_put(f.s, f.channel, mid, u[1], &(store_emoji_t){1000, "e", false}));

    /* Reactions go with their message. */
    ASSERT_OK(store_message_delete(f.s, f.channel, mid));
    ASSERT_EQ(STORE_ENOTFOUND, store_reaction_users(f.s, f.channel, mid, &thumbs, NULL, &users));

    /* Parsing. */
    ASSERT_OK(store_emoji_parse("👍", &custom, buf, sizeof(buf)));
    ASSERT_EQ(0, custom.id);
    ASSERT_STR_EQ("👍", custom.name);
    ASSERT_EQ(STORE_EINVAL, store_emoji_parse("", &custom, buf, sizeof(buf)));
    ASSERT_EQ(STORE_EINVAL, store_emoji_parse("name:notanid", &custom, buf, sizeof(buf)));
    ASSERT_EQ(STORE_EINVAL, store_emoji_parse("name:", &custom, buf, sizeof(buf)));
    ASSERT_EQ(STORE_EINVAL, store_reaction_put(f.s, f.channel, mid, u[0], &(store_emoji_t){0}));
    fx_close(&f);
    return 0;
}

/* ---- invites --------------------------------------------------------------------------------- */

TEST_IMPL(store_invites)
{
    store_invite_new_t p = {0};
    json_t *inv, *list, *dm;
    uint64_t u1, u2, u3;
    char code[16], code1[16];
    fixture_t f;

    fx_open(&f);
    u1 = ts_user(f.s, "joiner1");
    u2 = ts_user(f.s, "joiner2");
    u3 = ts_user(f.s, "joiner3");
    p.channel_id = f.channel;
    p.inviter_id = f.owner;
    p.max_age = 86400;
    ASSERT_OK(store_invite_create(f.s, &p, &inv));
    ASSERT_EQ(8, strlen(js(inv, "code")));
    snprintf(code, sizeof(code), "%s", js(inv, "code"));
    ASSERT_EQ(f.gid, jid(json_object_get(inv, "guild"), "id"));
    ASSERT_STR_EQ("messages", js(json_object_get(inv, "guild"), "name"));
    ASSERT_EQ(f.channel, jid(json_object_get(inv, "channel"), "id"));
    ASSERT_STR_EQ("general", js(json_object_get(inv, "channel"), "name"));
    ASSERT_EQ(f.owner, jid(json_object_get(inv, "inviter"), "id"));
    ASSERT_EQ(0, ji(inv, "uses"));
    ASSERT_EQ(0, ji(inv, "max_uses"));
    ASSERT_EQ(86400, ji(inv, "max_age"));
    ASSERT_NOT_NULL(js(inv, "created_at"));
    ASSERT_NOT_NULL(js(inv, "expires_at"));
    json_decref(inv);

    ASSERT_OK(store_invite_get(f.s, code, &inv));
    ASSERT_EQ(1, ji(inv, "approximate_member_count"));
    json_decref(inv);
    ASSERT_EQ(STORE_ENOTFOUND, store_invite_get(f.s, "nosuchcd", &inv));

    /* Accepting adds the member and counts a use; a member again counts nothing. */
    ASSERT_OK(store_invite_use(f.s, code, u1, &inv));
    ASSERT_EQ(1, ji(inv, "uses"));
    ASSERT_EQ(2, ji(inv, "approximate_member_count"));
    json_decref(inv);
    ASSERT_OK(store_member_check(f.s, f.gid, u1));
    ASSERT_EQ(STORE_UNCHANGED, store_invite_use(f.s, code, u1, &inv));
    ASSERT_EQ(1, ji(inv, "uses"));
    json_decref(inv);
    ASSERT_EQ(STORE_ENOTFOUND, store_invite_use(f.s, code, 987654, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_invite_use(f.s, "nosuchcd", u2, NULL));

    /* max_uses: the second person is refused. */
    p.max_age = 0;
    p.max_uses = 1;
    ASSERT_OK(store_invite_create(f.s, &p, &inv));
    snprintf(code1, sizeof(code1), "%s", js(inv, "code"));
    ASSERT(json_is_null(json_object_get(inv, "expires_at")));
    json_decref(inv);
    ASSERT_OK(store_invite_use(f.s, code1, u2, NULL));
    ASSERT_EQ(STORE_EEXPIRED, store_invite_use(f.s, code1, u3, NULL));
    ASSERT_EQ(STORE_EEXPIRED, store_invite_get(f.s, code1, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_member_check(f.s, f.gid, u3));

    /* max_age: expired after it. */
    p.max_age = 1;
    p.max_uses = 0;
    ASSERT_OK(store_invite_create(f.s, &p, &inv));
    snprintf(code1, sizeof(code1), "%s", js(inv, "code"));
    json_decref(inv);
    ASSERT_OK(store_invite_get(f.s, code1, NULL));
    usleep(1100 * 1000);
    ASSERT_EQ(STORE_EEXPIRED, store_invite_get(f.s, code1, NULL));
    ASSERT_EQ(STORE_EEXPIRED, store_invite_use(f.s, code1, u3, NULL));

    /* Lists show live invites only, newest first. */
    ASSERT_OK(store_invite_list_guild(f.s, f.gid, &list));
    ASSERT_EQ(1, json_array_size(list));
    ASSERT_STR_EQ(code, js(json_array_get(list, 0), "code"));
    json_decref(list);
    ASSERT_OK(store_invite_list_channel(f.s, f.channel, &list));
    ASSERT_EQ(1, json_array_size(list));
    json_decref(list);

    /* Delete. */
    ASSERT_OK(store_invite_delete(f.s, code, &inv));
    ASSERT_STR_EQ(code, js(inv, "code"));
    json_decref(inv);
    ASSERT_EQ(STORE_ENOTFOUND, store_invite_get(f.s, code, NULL));
    ASSERT_EQ(STORE_ENOTFOUND, store_invite_delete(f.s, code, NULL));

    /* Bad input. */
    p.max_age = 604801;
    ASSERT_EQ(STORE_EINVAL, store_invite_create(f.s, &p, NULL));
    p.max_age = 0;
    p.max_uses = 101;
    ASSERT_EQ(STORE_EINVAL, store_invite_create(f.s, &p, NULL));
    p.max_uses = 0;
    p.channel_id = 5555;
    ASSERT_EQ(STORE_ENOTFOUND, store_invite_create(f.s, &p, NULL));
    ASSERT_OK(store_dm_open(f.s, u1, u2, &dm));
    p.channel_id = jid(dm, "id");
    ASSERT_EQ(STORE_EINVAL, store_invite_create(f.s, &p, NULL));
    json_decref(dm);
    fx_close(&f);
    return 0;
}
