/* Message ops of a hub: create (with mentions parsed from the content as Discord
 * does, allowed_mentions, replies and nonces), edit, delete, bulk delete; reactions;
 * typing. Each op checks the actor's permissions in the channel (perms.c), runs the
 * guild's auto-moderation on new content (ops_automod.c), writes through the store
 * (waiting for the commit), then fans its event out to those who may view the channel
 * and fills the result.
 *
 * Permissions (hub.h has the list): VIEW_CHANNEL for everything; SEND_MESSAGES to
 * create and type; READ_MESSAGE_HISTORY to reply and react; ADD_REACTIONS for an emoji
 * not on the message yet; MANAGE_MESSAGES for others' messages and reactions;
 * MENTION_EVERYONE for @everyone, @here and roles that are not mentionable. A private
 * channel's recipients may do all of it but bulk delete. */
#include "internal.h"

#include "store/moderation.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_MENTIONS 100

/* Message flags a client may set when creating: SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS. */
#define CREATE_FLAGS ((1u << 2) | (1u << 12))
/* And when editing: SUPPRESS_EMBEDS. */
#define EDIT_FLAGS (1u << 2)

/* ---- ids
 * ------------------------------------------------------------------------------------------ */

typedef struct ids {
    uint64_t v[MAX_MENTIONS];
    size_t n;
} ids_t;

static bool ids_has(const ids_t *s, uint64_t id)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (s->v[i] == id)
            return true;
    return false;
}

static void ids_add(ids_t *s, uint64_t id)
{
    if (id != 0 && s->n < MAX_MENTIONS && !ids_has(s, id))
        s->v[s->n++] = id;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* ---- mentions
 * -------------------------------------------------------------------------------------- */

typedef struct mentions {
    ids_t users, roles;
    bool everyone;
} mentions_t;

/* Parses <@id>, <@!id>, <@&id>, @everyone and @here out of content, as Discord's
 * client markup does. */
static void parse_mentions(const char *content, mentions_t *m)
{
    const char *p = content;

    memset(m, 0, sizeof(*m));
    while ((p = strchr(p, '@')) != NULL) {
        if (strncmp(p, "@everyone", 9) == 0 || strncmp(p, "@here", 5) == 0)
            m->everyone = true;
        if (p > content && p[-1] == '<') {
            const char *q = p + 1;
            bool role = false;
            uint64_t id = 0;
            int digits = 0;

            if (*q == '!') {
                q++;
            } else if (*q == '&') {
                role = true;
                q++;
            }
            while (*q >= '0' && *q <= '9' && digits < 20) {
                id = id * 10 + (uint64_t)(*q - '0');
                q++;
                digits++;
            }
            if (digits > 0 && digits < 20 && *q == '>')
                ids_add(role ? &m->roles : &m->users, id);
        }
        p++;
    }
}

/* Applies allowed_mentions (validated) to what the content mentions. */
static void apply_allowed(mentions_t *m, const json_t *am)
{
    bool users = false, roles = false, everyone = false;
    ids_t keep;
    json_t *v, *parse;
    size_t i, k;

    if (!json_is_object(am))
        return;
    parse = json_object_get(am, "parse");
    json_array_foreach(parse, i, v)
    {
        const char *s = json_string_value(v);
        users |= s && strcmp(s, "users") == 0;
        roles |= s && strcmp(s, "roles") == 0;
        everyone |= s && strcmp(s, "everyone") == 0;
    }
    m->everyone = m->everyone && everyone;
    if (!users) {
        memset(&keep, 0, sizeof(keep));
        json_array_foreach(json_object_get(am, "users"), i, v)
        {
            uint64_t id = hub__json_id(v);
            for (k = 0; k < m->users.n; k++)
                if (m->users.v[k] == id)
                    ids_add(&keep, id);
        }
        m->users = keep;
    }
    if (!roles) {
        memset(&keep, 0, sizeof(keep));
        json_array_foreach(json_object_get(am, "roles"), i, v)
        {
            uint64_t id = hub__json_id(v);
            for (k = 0; k < m->roles.n; k++)
                if (m->roles.v[k] == id)
                    ids_add(&keep, id);
        }
        m->roles = keep;
    }
}

/* Keeps the users who can see the channel (members, recipients) and the guild's
 * roles the author may mention (mentionable ones, or any with MENTION_EVERYONE, which
 * @everyone and @here need too; perms: the author's in the channel). */
static void filter_mentions(hub_t *h, mentions_t *m, uint64_t perms)
{
    ids_t keep;
    json_t *roles, *r;
    size_t i, k;

    memset(&keep, 0, sizeof(keep));
    for (i = 0; i < m->users.n; i++)
        if (h->kind == HUB_KIND_GUILD ? hub__is_member(h, m->users.v[i])
                                      : hub__is_recipient(h, m->users.v[i]))
            ids_add(&keep, m->users.v[i]);
    m->users = keep;
    memset(&keep, 0, sizeof(keep));
    roles = json_object_get(h->guild, "roles");
    for (i = 0; i < m->roles.n; i++)
        json_array_foreach(roles, k, r)
        {
            if (hub__json_id(json_object_get(r, "id")) == m->roles.v[i] && m->roles.v[i] != h->id &&
                ((perms & PERM_MENTION_EVERYONE) ||
                 json_is_true(json_object_get(r, "mentionable"))))
                ids_add(&keep, m->roles.v[i]);
        }
    m->roles = keep;
    if (!(perms & PERM_MENTION_EVERYONE))
        m->everyone = false; /* @everyone and @here then do not ping */
    if (h->kind != HUB_KIND_GUILD)
        m->everyone = false, m->roles.n = 0;
}

static void validate_allowed(json_t **errs, const json_t *am)
{
    json_t *parse, *v;
    size_t i;

    if (am == NULL || json_is_null(am))
        return;
    if (!json_is_object(am)) {
        hub__form_error(errs, "allowed_mentions", "MODEL_TYPE_CONVERT",
                        "Only dictionaries may be used in a ModelType");
        return;
    }
    parse = json_object_get(am, "parse");
    if (parse != NULL && !json_is_array(parse))
        hub__form_error(errs, "allowed_mentions.parse", "BASE_TYPE_LIST", "Must be a list.");
    json_array_foreach(parse, i, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL || (strcmp(s, "users") && strcmp(s, "roles") && strcmp(s, "everyone")))
            hub__form_error(errs, "allowed_mentions.parse", "BASE_TYPE_CHOICES",
                            "Value must be one of {'users', 'roles', 'everyone'}.");
    }
    if (json_array_size(json_object_get(am, "users")) > 100 ||
        json_array_size(json_object_get(am, "roles")) > 100)
        hub__form_error(errs, "allowed_mentions", "BASE_TYPE_MAX_LENGTH",
                        "Must be 100 or fewer in length.");
}

/* ---- common checks
 * ------------------------------------------------------------------------------------ */

/* The request's channel, which the actor must be able to see and where it must have
 * need: the channel (borrowed), or NULL with res filled. */
static json_t *access_channel(hub_t *h, uint64_t actor, json_t *args, uint64_t need,
                              hub_result_t *res)
{
    uint64_t cid = 0;
    json_t *ch;

    if (hub__arg_id(args, "channel_id", &cid) != 1 || (ch = hub__channel(h, cid)) == NULL) {
        hub__errc(res, 404, 10003);
        return NULL;
    }
    if (!hub__check(h, actor, h->kind == HUB_KIND_GUILD ? cid : 0, need, res))
        return NULL;
    return ch;
}

/* A guild channel's id, for the fan-out's view check (0 in a private hub: its
 * recipients see it all). */
static uint64_t view_of(const hub_t *h, uint64_t channel_id)
{
    return h->kind == HUB_KIND_GUILD ? channel_id : 0;
}

/* A channel that takes messages: text, voice (its text chat), DMs. */
static bool takes_messages(const json_t *ch)
{
    int64_t t = json_integer_value(json_object_get(ch, "type"));

    return t == STORE_CHANNEL_TEXT || t == STORE_CHANNEL_VOICE || t == STORE_CHANNEL_DM ||
           t == STORE_CHANNEL_GROUP_DM || t == 5 /* announcement */;
}

static uint64_t intent_for(const hub_t *h, uint64_t guild_bit, uint64_t dm_bit)
{
    return h->kind == HUB_KIND_GUILD ? guild_bit : dm_bit;
}

/* Adds guild_id (guild hubs) to an event object. */
static void add_guild_id(hub_t *h, json_t *d)
{
    if (h->kind == HUB_KIND_GUILD)
        json_object_set_new(d, "guild_id", hub__id_json(h->id));
}

/* Characters (code points) of UTF-8 text. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void hub__fan_message(hub_t *h, hub_event_t ev, json_t *msg, uint64_t author)
{
    uint64_t ex[MAX_MENTIONS + 1];
    json_t *d, *u, *member;
    hub_fan_t f;
    size_t i, n = 0;

    d = json_copy(msg);
    add_guild_id(h, d);
    if (h->kind == HUB_KIND_GUILD && (member = hub__member_partial(h, author)) != NULL)
        json_object_set_new(d, "member", member);
    ex[n++] = author;
    json_array_foreach(json_object_get(msg, "mentions"), i, u)
    {
        if (n < MAX_MENTIONS + 1)
            ex[n++] = hub__json_id(json_object_get(u, "id"));
    }
    qsort(ex, n, sizeof(ex[0]), cmp_u64);
    memset(&f, 0, sizeof(f));
    f.ev = ev;
    f.need = intent_for(h, HUB_INTENT_GUILD_MESSAGES, HUB_INTENT_DIRECT_MESSAGES);
    f.message = true;
    f.exempt = ex;
    f.nexempt = n;
    f.channel_id = view_of(h, hub__json_id(json_object_get(msg, "channel_id")));
    hub__fanout(h, &f, d);
    json_decref(d);
}

/* A channel's event, to those who may view channel_id. */
static void fan_simple(hub_t *h, hub_event_t ev, uint64_t guild_bit, uint64_t dm_bit,
                       uint64_t channel_id, json_t *d)
{
    hub_fan_t f;

    memset(&f, 0, sizeof(f));
    f.ev = ev;
    f.need = intent_for(h, guild_bit, dm_bit);
    f.channel_id = view_of(h, channel_id);
    hub__fanout(h, &f, d);
}

/* ---- create
 * ------------------------------------------------------------------------------------------ */

/* On the heap with everything the store reads (see hub_job_t). */
typedef struct create_job {
    store_message_new_t m;
    mentions_t men;
    char nonce[32];
    json_t *out;
} create_job_t;

static int64_t create_job(store_t *s, void *arg)
{
    create_job_t *j = arg;

    return store_message_create(s, &j->m, &j->out);
}

static int64_t author_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_message_author(s, j->a, j->b, &j->c);
}

/* Validates the body of a create; fills the store's request (pointing into args) and
 * the reference. Returns the form errors, or NULL. */
static json_t *validate_create(json_t *args, store_message_new_t *m, json_t **embeds,
                               uint64_t *ref_id, bool *ref_required, char *nonce_buf)
{
    json_t *errs = NULL, *v, *ref;
    const char *content = NULL;

    v = json_object_get(args, "content");
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v))
            hub__form_error(&errs, "content", "BASE_TYPE_STRING", "Must be a string.");
        else if (utf8_chars(content = json_string_value(v)) > STORE_CONTENT_MAX)
            hub__form_error(&errs, "content", "BASE_TYPE_MAX_LENGTH",
                            "Must be 2000 or fewer in length.");
    }
    m->content = content;
    v = json_object_get(args, "nonce");
    if (json_is_string(v)) {
        if (json_string_length(v) > 25)
            hub__form_error(&errs, "nonce", "BASE_TYPE_MAX_LENGTH",
                            "Must be 25 or fewer in length.");
        m->nonce = json_string_value(v);
    } else if (json_is_integer(v)) {
        snprintf(nonce_buf, 32, "%lld", (long long)json_integer_value(v));
        m->nonce = nonce_buf;
    } else if (v != NULL && !json_is_null(v)) {
        hub__form_error(&errs, "nonce", "BASE_TYPE_STRING", "Must be a string or an integer.");
    }
    m->enforce_nonce = json_is_true(json_object_get(args, "enforce_nonce"));
    v = json_object_get(args, "tts");
    if (v != NULL && !json_is_boolean(v))
        hub__form_error(&errs, "tts", "BASE_TYPE_BOOLEAN", "Must be either true or false.");
    m->tts = json_is_true(v);
    v = json_object_get(args, "flags");
    if (json_is_integer(v))
        m->flags = (uint32_t)json_integer_value(v) & CREATE_FLAGS;
    else if (v != NULL && !json_is_null(v))
        hub__form_error(&errs, "flags", "NUMBER_TYPE_COERCE", "Value is not int.");
    v = json_object_get(args, "embeds");
    if (v == NULL && json_is_object(json_object_get(args, "embed"))) {
        *embeds = json_pack("[O]", json_object_get(args, "embed")); /* the legacy field */
    } else if (json_is_array(v)) {
        if (json_array_size(v) > 10)
            hub__form_error(&errs, "embeds", "BASE_TYPE_MAX_LENGTH",
                            "Must be 10 or fewer in length.");
        *embeds = json_incref(v);
    } else if (v != NULL && !json_is_null(v)) {
        hub__form_error(&errs, "embeds", "BASE_TYPE_LIST", "Must be a list.");
    }
    m->embeds = json_array_size(*embeds) ? *embeds : NULL;
    v = json_object_get(args, "components");
    if (json_is_array(v))
        m->components = json_array_size(v) ? v : NULL;
    else if (v != NULL && !json_is_null(v))
        hub__form_error(&errs, "components", "BASE_TYPE_LIST", "Must be a list.");
    validate_allowed(&errs, json_object_get(args, "allowed_mentions"));
    ref = json_object_get(args, "message_reference");
    if (ref != NULL && !json_is_null(ref)) {
        uint64_t cid = 0;
        if (!json_is_object(ref) || hub__arg_id(ref, "message_id", ref_id) != 1)
            hub__form_error(&errs, "message_reference.message_id", "BASE_TYPE_REQUIRED",
                            "This field is required");
        else if (hub__arg_id(ref, "channel_id", &cid) == 1 && cid != m->channel_id)
            hub__form_error(&errs, "message_reference", "MESSAGE_REFERENCE_INVALID_CHANNEL",
                            "Cannot reply to a message in a different channel");
        else if (json_integer_value(json_object_get(ref, "type")) != 0)
            hub__form_error(&errs, "message_reference.type", "BASE_TYPE_CHOICES",
                            "Only replies (type 0) are supported.");
        *ref_required = !json_is_false(json_object_get(ref, "fail_if_not_exists"));
    }
    return errs;
}

static void op_create(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    create_job_t *j;
    json_t *ch, *errs, *embeds = NULL, *am;
    uint64_t ref_id = 0, reply_author = 0, perms;
    bool ref_required = true;
    automod_verdict_t v;
    automod_message_t amm;
    hub_job_t *aj;
    int rc;

    if ((ch = access_channel(h, actor, args, PERM_SEND_MESSAGES, res)) == NULL)
        return;
    if (!takes_messages(ch)) {
        hub__errc(res, 400, 50024);
        return;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->m.channel_id = hub__json_id(json_object_get(ch, "id"));
    j->m.author_id = actor;
    perms = hub__perms(h, actor, view_of(h, j->m.channel_id));
    errs = validate_create(args, &j->m, &embeds, &ref_id, &ref_required, j->nonce);
    if (errs != NULL) {
        hub__form_fail(res, errs);
        goto out;
    }
    if ((j->m.content == NULL || j->m.content[0] == '\0') && j->m.embeds == NULL &&
        j->m.components == NULL) {
        hub__errc(res, 400, 50006);
        goto out;
    }
    if (!(perms & PERM_SEND_TTS_MESSAGES))
        j->m.tts = false; /* as Discord: sent, but not spoken */
    if (ref_id != 0 && !(perms & PERM_READ_MESSAGE_HISTORY)) {
        hub__errc(res, 403, 160002);
        goto out;
    }
    if (ref_id != 0) {
        aj = hub__job_new();
        aj->a = j->m.channel_id;
        aj->b = ref_id;
        rc = hub__job_run(author_job, aj);
        reply_author = aj->c;
        hub__job_free(aj);
        if (rc == STORE_ENOTFOUND && ref_required) {
            errs = NULL;
            hub__form_error(&errs, "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                            "Unknown message");
            hub__form_fail(res, errs);
            goto out;
        }
        if (rc < 0 && rc != STORE_ENOTFOUND) {
            hub__store_err(res, rc, 10008);
            goto out;
        }
        if (rc == 0) {
            j->m.reply_to = ref_id;
            j->m.reply_optional = !ref_required;
        }
    }
    parse_mentions(j->m.content ? j->m.content : "", &j->men);
    /* Auto-moderation counts the mentions written, whatever allowed_mentions says. */
    if (!hub__automod_check(h, actor, j->m.channel_id, j->m.content,
                            j->men.users.n + j->men.roles.n, false, &v, &amm, res))
        goto out;
    am = json_object_get(args, "allowed_mentions");
    apply_allowed(&j->men, am);
    if (reply_author != 0 && reply_author != actor &&
        !json_is_false(json_object_get(am, "replied_user")))
        ids_add(&j->men.users, reply_author); /* a reply pings its author unless told not to */
    filter_mentions(h, &j->men, perms);
    j->m.mentions = j->men.users.v;
    j->m.nmentions = j->men.users.n;
    j->m.mention_roles = j->men.roles.v;
    j->m.nmention_roles = j->men.roles.n;
    j->m.mention_everyone = j->men.everyone;

    rc = store_call(create_job, j);
    if (rc == STORE_ENOTFOUND && j->m.reply_to != 0) {
        automod_verdict_clear(&v);
        errs = NULL;
        hub__form_error(&errs, "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                        "Unknown message");
        hub__form_fail(res, errs);
        goto out;
    }
    if (rc < 0) {
        automod_verdict_clear(&v);
        hub__store_err(res, rc, 10003);
        goto out;
    }
    if (rc == 0 && h->kind == HUB_KIND_GUILD) {
        char key[21];
        json_t *c = json_object_get(h->channels, hub__key(j->m.channel_id, key));
        if (c != NULL)
            json_object_set(c, "last_message_id", json_object_get(j->out, "id"));
    }
    if (rc == 0)
        hub__fan_message(h, HUB_EV_MESSAGE_CREATE, j->out, actor);
    /* The alerts, timeouts and events of rules that fired but did not block (none for
     * a nonce seen before: nothing new was posted). */
    if (rc == 0)
        hub__automod_after(h, &v, &amm, hub__json_id(json_object_get(j->out, "id")));
    else
        automod_verdict_clear(&v);
    /* STORE_UNCHANGED: a nonce seen before: the earlier message, no new event. */
    hub__ok(res, 200, j->out);
    j->out = NULL;
out:
    json_decref(embeds);
    json_decref(j->out);
    free(j);
}

/* ---- edit, delete
 * ---------------------------------------------------------------------------------------- */

typedef struct edit_job {
    uint64_t channel_id, message_id, viewer;
    store_message_edit_t e;
    mentions_t men;
    json_t *before, *out;
} edit_job_t;

static int64_t get_job(store_t *s, void *arg)
{
    edit_job_t *j = arg;

    return store_message_get(s, j->channel_id, j->message_id, j->viewer, &j->before);
}

static int64_t edit_job(store_t *s, void *arg)
{
    edit_job_t *j = arg;

    return store_message_edit(s, j->channel_id, j->message_id, &j->e, j->viewer, &j->out);
}

static void op_edit(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    edit_job_t *j;
    json_t *ch, *errs = NULL, *v, *embeds, *clear = NULL;
    automod_verdict_t verdict;
    automod_message_t amm;
    const char *content;
    bool checked = false;
    int rc;

    if ((ch = access_channel(h, actor, args, 0, res)) == NULL)
        return;
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->channel_id = hub__json_id(json_object_get(ch, "id"));
    j->viewer = actor;
    j->e.flags = -1;
    if (hub__arg_id(args, "message_id", &j->message_id) != 1) {
        hub__errc(res, 404, 10008);
        goto out;
    }
    rc = store_call(get_job, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10008);
        goto out;
    }
    if (hub__json_id(json_object_get(json_object_get(j->before, "author"), "id")) != actor) {
        hub__errc(res, 403, 50005);
        goto out;
    }
    v = json_object_get(args, "content");
    if (v != NULL) {
        if (json_is_null(v))
            j->e.content = "";
        else if (!json_is_string(v))
            hub__form_error(&errs, "content", "BASE_TYPE_STRING", "Must be a string.");
        else if (utf8_chars(json_string_value(v)) > STORE_CONTENT_MAX)
            hub__form_error(&errs, "content", "BASE_TYPE_MAX_LENGTH",
                            "Must be 2000 or fewer in length.");
        else
            j->e.content = json_string_value(v);
    }
    v = json_object_get(args, "embeds");
    if (json_is_array(v))
        j->e.embeds = v;
    else if (json_is_null(v))
        j->e.embeds = clear = json_array(); /* null clears them: an empty list */
    else if (v != NULL)
        hub__form_error(&errs, "embeds", "BASE_TYPE_LIST", "Must be a list.");
    v = json_object_get(args, "components");
    if (json_is_array(v))
        j->e.components = v;
    v = json_object_get(args, "flags");
    if (json_is_integer(v))
        j->e.flags =
            (json_integer_value(v) & EDIT_FLAGS) |
            (json_integer_value(json_object_get(j->before, "flags")) & ~(int64_t)EDIT_FLAGS);
    validate_allowed(&errs, json_object_get(args, "allowed_mentions"));
    if (errs != NULL) {
        hub__form_fail(res, errs);
        goto out;
    }
    /* Empty after the edit: no content, embeds or components left. */
    content =
        j->e.content ? j->e.content : json_string_value(json_object_get(j->before, "content"));
    embeds = j->e.embeds ? (json_t *)j->e.embeds : json_object_get(j->before, "embeds");
    if ((content == NULL || content[0] == '\0') && json_array_size(embeds) == 0 &&
        json_array_size(j->e.components ? (json_t *)j->e.components
                                        : json_object_get(j->before, "components")) == 0) {
        hub__errc(res, 400, 50006);
        goto out;
    }
    if (j->e.content != NULL) {
        parse_mentions(j->e.content, &j->men);
        if (!hub__automod_check(h, actor, j->channel_id, j->e.content,
                                j->men.users.n + j->men.roles.n, true, &verdict, &amm, res))
            goto out;
        checked = true;
        apply_allowed(&j->men, json_object_get(args, "allowed_mentions"));
        filter_mentions(h, &j->men, hub__perms(h, actor, view_of(h, j->channel_id)));
        j->e.mentions = j->men.users.v;
        j->e.nmentions = j->men.users.n;
        j->e.mention_roles = j->men.roles.v;
        j->e.nmention_roles = j->men.roles.n;
        j->e.mention_everyone = j->men.everyone;
        j->e.set_mentions = true;
    }
    rc = store_call(edit_job, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10008);
        goto out;
    }
    hub__fan_message(h, HUB_EV_MESSAGE_UPDATE, j->out, actor);
    if (checked) {
        hub__automod_after(h, &verdict, &amm, j->message_id);
        checked = false;
    }
    hub__ok(res, 200, j->out);
    j->out = NULL;
out:
    if (checked)
        automod_verdict_clear(&verdict);
    json_decref(clear);
    json_decref(j->before);
    json_decref(j->out);
    free(j);
}

static int64_t delete_job(store_t *s, void *arg)
{
    hub_job_t *j = arg;

    return store_message_delete(s, j->a, j->b);
}

static void op_delete(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *ch, *d;
    hub_job_t *j;
    uint64_t mid = 0;
    bool other;
    int rc;

    if ((ch = access_channel(h, actor, args, 0, res)) == NULL)
        return;
    if (hub__arg_id(args, "message_id", &mid) != 1) {
        hub__errc(res, 404, 10008);
        return;
    }
    j = hub__job_new();
    j->a = hub__json_id(json_object_get(ch, "id"));
    j->b = mid;
    rc = hub__job_run(author_job, j);
    other = rc == 0 && j->c != actor;
    /* Others' messages: MANAGE_MESSAGES (never in a private channel). */
    if (other &&
        (h->kind != HUB_KIND_GUILD || !(hub__perms(h, actor, j->a) & PERM_MANAGE_MESSAGES))) {
        hub__errc(res, 403, 50013);
        goto out;
    }
    if (rc == 0)
        rc = hub__job_run(delete_job, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10008);
        goto out;
    }
    d = json_pack("{s:o, s:o}", "id", hub__id_json(mid), "channel_id", hub__id_json(j->a));
    add_guild_id(h, d);
    fan_simple(h, HUB_EV_MESSAGE_DELETE, HUB_INTENT_GUILD_MESSAGES, HUB_INTENT_DIRECT_MESSAGES,
               j->a, d);
    json_decref(d);
    if (other)
        hub__audit(h, actor, STORE_AUDIT_MESSAGE_DELETE, j->c, NULL,
                   json_pack("{s:o, s:s}", "channel_id", hub__id_json(j->a), "count", "1"), args);
    hub__ok(res, 204, NULL);
out:
    hub__job_free(j);
}

typedef struct bulk_job {
    uint64_t channel_id;
    uint64_t ids[100];
    size_t n;
} bulk_job_t;

/* Keeps the ids that are messages of the channel, then deletes them, in one
 * transaction. */
static int64_t bulk_job(store_t *s, void *arg)
{
    bulk_job_t *j = arg;
    uint64_t author;
    size_t i, k = 0;
    int rc;

    if ((rc = store_tx_begin(s)) < 0)
        return rc;
    for (i = 0; i < j->n; i++) {
        rc = store_message_author(s, j->channel_id, j->ids[i], &author);
        if (rc == 0)
            j->ids[k++] = j->ids[i];
        else if (rc != STORE_ENOTFOUND)
            goto fail;
    }
    j->n = k;
    if (k > 0 && (rc = store_message_bulk_delete(s, j->channel_id, j->ids, k, NULL)) < 0)
        goto fail;
    return store_tx_commit(s);
fail:
    store_tx_rollback(s);
    return rc;
}

static void op_bulk_delete(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *ch, *list, *v, *d, *ids, *errs = NULL;
    char count[24];
    bulk_job_t *j;
    size_t i, k;
    int rc;

    if (h->kind != HUB_KIND_GUILD) {
        hub__errc(res, 400, 50024);
        return;
    }
    if ((ch = access_channel(h, actor, args, PERM_MANAGE_MESSAGES, res)) == NULL)
        return;
    list = json_object_get(args, "messages");
    if (!json_is_array(list)) {
        hub__form_error(&errs, "messages", "BASE_TYPE_REQUIRED", "This field is required");
        hub__form_fail(res, errs);
        return;
    }
    if (json_array_size(list) < 2 || json_array_size(list) > 100) {
        hub__errc(res, 400, 50016);
        return;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->channel_id = hub__json_id(json_object_get(ch, "id"));
    json_array_foreach(list, i, v)
    {
        uint64_t id = hub__json_id(v);
        bool dup = false;
        if (id == 0) {
            hub__form_error(&errs, "messages", "NUMBER_TYPE_COERCE", "Value is not snowflake.");
            continue;
        }
        for (k = 0; k < j->n; k++)
            dup |= j->ids[k] == id;
        if (!dup)
            j->ids[j->n++] = id;
    }
    if (errs != NULL) {
        hub__form_fail(res, errs);
        goto out;
    }
    rc = store_call(bulk_job, j);
    if (rc < 0) {
        hub__store_err(res, rc, 10003);
        goto out;
    }
    if (j->n > 0) {
        ids = json_array();
        for (k = 0; k < j->n; k++)
            json_array_append_new(ids, hub__id_json(j->ids[k]));
        d = json_pack("{s:o, s:o}", "ids", ids, "channel_id", hub__id_json(j->channel_id));
        add_guild_id(h, d);
        fan_simple(h, HUB_EV_MESSAGE_DELETE_BULK, HUB_INTENT_GUILD_MESSAGES,
                   HUB_INTENT_DIRECT_MESSAGES, j->channel_id, d);
        json_decref(d);
        snprintf(count, sizeof(count), "%zu", j->n);
        hub__audit(h, actor, STORE_AUDIT_MESSAGE_BULK_DELETE, j->channel_id, NULL,
                   json_pack("{s:s}", "count", count), args);
    }
    hub__ok(res, 204, NULL);
out:
    free(j);
}

/* ---- reactions
 * ------------------------------------------------------------------------------------------ */

typedef struct react_job {
    hub_op_t op;
    uint64_t channel_id, message_id, user_id, author;
    store_emoji_t e;
    bool all;      /* remove all (no emoji) */
    bool existing; /* add: only an emoji on the message already (no ADD_REACTIONS) */
    char name[128];
} react_job_t;

/* Whether the message has a reaction with e already. */
static bool reacted(store_t *s, const react_job_t *j)
{
    store_page_t pg = {0};
    json_t *users = NULL;
    bool any;

    pg.limit = 1;
    any = store_reaction_users(s, j->channel_id, j->message_id, &j->e, &pg, &users) == 0 &&
          json_array_size(users) > 0;
    json_decref(users);
    return any;
}

static int64_t react_job(store_t *s, void *arg)
{
    react_job_t *j = arg;
    int rc;

    rc = store_message_author(s, j->channel_id, j->message_id, &j->author);
    if (rc < 0)
        return rc;
    switch (j->op) {
    case HUB_OP_REACTION_ADD:
        if (j->existing && !reacted(s, j))
            return STORE_EPERM;
        return store_reaction_put(s, j->channel_id, j->message_id, j->user_id, &j->e);
    case HUB_OP_REACTION_REMOVE_OWN:
    case HUB_OP_REACTION_REMOVE_USER:
        rc = store_reaction_delete(s, j->channel_id, j->message_id, j->user_id, &j->e);
        return rc == STORE_ENOTFOUND ? STORE_UNCHANGED : rc; /* not there: nothing to do */
    default:
        return store_reaction_delete_all(s, j->channel_id, j->message_id, j->all ? NULL : &j->e);
    }
}

static json_t *emoji_json(const store_emoji_t *e)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", e->id ? hub__id_json(e->id) : json_null());
    json_object_set_new(o, "name", json_string(e->name));
    if (e->animated)
        json_object_set_new(o, "animated", json_true());
    return o;
}

static void op_reaction(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res)
{
    react_job_t *j;
    json_t *ch, *d, *member;
    const char *emoji;
    const perm_member_t *pm;
    hub_event_t ev;
    uint64_t perms;
    int rc;

    if ((ch = access_channel(h, actor, args, 0, res)) == NULL)
        return;
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->op = op;
    j->channel_id = hub__json_id(json_object_get(ch, "id"));
    j->user_id = actor;
    perms = hub__perms(h, actor, view_of(h, j->channel_id));
    if (hub__arg_id(args, "message_id", &j->message_id) != 1) {
        hub__errc(res, 404, 10008);
        goto out;
    }
    if (op == HUB_OP_REACTION_REMOVE_USER && hub__arg_id(args, "user_id", &j->user_id) != 1) {
        hub__errc(res, 404, 10013);
        goto out;
    }
    if ((op == HUB_OP_REACTION_REMOVE_USER && j->user_id != actor) ||
        op == HUB_OP_REACTION_REMOVE_ALL || op == HUB_OP_REACTION_REMOVE_EMOJI) {
        if (h->kind != HUB_KIND_GUILD || !(perms & PERM_MANAGE_MESSAGES)) {
            hub__errc(res, 403, 50013);
            goto out;
        }
    }
    if (op == HUB_OP_REACTION_ADD && h->kind == HUB_KIND_GUILD) {
        /* A timed-out member keeps READ_MESSAGE_HISTORY but may not react at all. */
        pm = perm_cache_member(h->perms, actor);
        if (!(perms & PERM_READ_MESSAGE_HISTORY) ||
            (pm != NULL && actor != h->owner_id && !(perms & PERM_ADMINISTRATOR) &&
             perm_timed_out(pm, hub__now_ms()))) {
            hub__errc(res, 403, 50013);
            goto out;
        }
        j->existing = !(perms & PERM_ADD_REACTIONS);
    }
    j->all = op == HUB_OP_REACTION_REMOVE_ALL;
    if (!j->all) {
        emoji = json_string_value(json_object_get(args, "emoji"));
        if (emoji == NULL || store_emoji_parse(emoji, &j->e, j->name, sizeof(j->name)) < 0) {
            hub__errc(res, 400, 10014);
            goto out;
        }
    }
    rc = store_call(react_job, j);
    if (rc == STORE_EINVAL) {
        hub__errc(res, 400, 10014);
        goto out;
    }
    if (rc == STORE_EPERM) {
        hub__errc(res, 403, 50013); /* a new emoji without ADD_REACTIONS */
        goto out;
    }
    if (rc < 0) {
        hub__store_err(res, rc, 10008);
        goto out;
    }
    if (rc == 0) {
        d = json_pack("{s:o, s:o}", "channel_id", hub__id_json(j->channel_id), "message_id",
                      hub__id_json(j->message_id));
        add_guild_id(h, d);
        switch (op) {
        case HUB_OP_REACTION_ADD:
            ev = HUB_EV_MESSAGE_REACTION_ADD;
            json_object_set_new(d, "user_id", hub__id_json(j->user_id));
            json_object_set_new(d, "emoji", emoji_json(&j->e));
            json_object_set_new(d, "message_author_id", hub__id_json(j->author));
            json_object_set_new(d, "burst", json_false());
            json_object_set_new(d, "burst_colors", json_array());
            json_object_set_new(d, "type", json_integer(0));
            if (h->kind == HUB_KIND_GUILD) {
                char key[21];
                member = json_object_get(h->members, hub__key(j->user_id, key));
                if (member != NULL)
                    json_object_set(d, "member", member);
            }
            break;
        case HUB_OP_REACTION_REMOVE_OWN:
        case HUB_OP_REACTION_REMOVE_USER:
            ev = HUB_EV_MESSAGE_REACTION_REMOVE;
            json_object_set_new(d, "user_id", hub__id_json(j->user_id));
            json_object_set_new(d, "emoji", emoji_json(&j->e));
            json_object_set_new(d, "burst", json_false());
            json_object_set_new(d, "type", json_integer(0));
            break;
        case HUB_OP_REACTION_REMOVE_EMOJI:
            ev = HUB_EV_MESSAGE_REACTION_REMOVE_EMOJI;
            json_object_set_new(d, "emoji", emoji_json(&j->e));
            break;
        default:
            ev = HUB_EV_MESSAGE_REACTION_REMOVE_ALL;
            break;
        }
        fan_simple(h, ev, HUB_INTENT_GUILD_MESSAGE_REACTIONS, HUB_INTENT_DIRECT_MESSAGE_REACTIONS,
                   j->channel_id, d);
        json_decref(d);
    }
    hub__ok(res, 204, NULL);
out:
    free(j);
}

/* ---- typing
 * ------------------------------------------------------------------------------------------------
 */

static void op_typing(hub_t *h, uint64_t actor, json_t *args, hub_result_t *res)
{
    json_t *ch, *d, *member;

    if ((ch = access_channel(h, actor, args, PERM_SEND_MESSAGES, res)) == NULL)
        return;
    if (!takes_messages(ch)) {
        hub__errc(res, 400, 50024);
        return;
    }
    d = json_pack("{s:O, s:o, s:I}", "channel_id", json_object_get(ch, "id"), "user_id",
                  hub__id_json(actor), "timestamp", (json_int_t)time(NULL));
    add_guild_id(h, d);
    if (h->kind == HUB_KIND_GUILD && (member = hub__member_partial(h, actor)) != NULL) {
        char key[21];
        json_object_set(member, "user",
                        json_object_get(json_object_get(h->members, hub__key(actor, key)), "user"));
        json_object_set_new(d, "member", member);
    }
    fan_simple(h, HUB_EV_TYPING_START, HUB_INTENT_GUILD_MESSAGE_TYPING,
               HUB_INTENT_DIRECT_MESSAGE_TYPING, hub__json_id(json_object_get(ch, "id")), d);
    json_decref(d);
    hub__ok(res, 204, NULL);
}

/* ---- dispatch
 * --------------------------------------------------------------------------------------------------
 */

/* Message, reaction and typing ops; false if op is not one of them. */
bool hub__op_message(hub_t *h, hub_op_t op, uint64_t actor, json_t *args, hub_result_t *res)
{
    switch (op) {
    case HUB_OP_MESSAGE_CREATE:
        op_create(h, actor, args, res);
        return true;
    case HUB_OP_MESSAGE_EDIT:
        op_edit(h, actor, args, res);
        return true;
    case HUB_OP_MESSAGE_DELETE:
        op_delete(h, actor, args, res);
        return true;
    case HUB_OP_MESSAGE_BULK_DELETE:
        op_bulk_delete(h, actor, args, res);
        return true;
    case HUB_OP_REACTION_ADD:
    case HUB_OP_REACTION_REMOVE_OWN:
    case HUB_OP_REACTION_REMOVE_USER:
    case HUB_OP_REACTION_REMOVE_ALL:
    case HUB_OP_REACTION_REMOVE_EMOJI:
        op_reaction(h, op, actor, args, res);
        return true;
    case HUB_OP_TYPING:
        op_typing(h, actor, args, res);
        return true;
    default:
        return false;
    }
}
