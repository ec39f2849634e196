/* Fan-out: one event, encoded at most once per wire form and content variant, sent as
 * the same shared payload to every subscriber allowed to see it.
 *
 * Variants: [form][stripped]: JSON or ETF, with the message content or without it
 * (MESSAGE_CREATE/UPDATE for sessions lacking the MESSAGE_CONTENT intent, unless they
 * wrote or were mentioned in the message, or it is a private channel). A variant is
 * encoded the first time a subscriber needs it, so a guild of JSON sessions never pays
 * for ETF. Each session gets a HUB_TAG_EVENT message pointing at the payload; the
 * session adds op, s and t around the bytes.
 *
 * Permissions: an event of a channel (messages, reactions, typing, invites) names it
 * (hub_fan_t.channel_id) and reaches only the sessions whose user may view it (and has
 * chan_perm there); a guild-level one may ask for permission bits (guild_perm: audit
 * entries need VIEW_AUDIT_LOG, auto-moderation events MANAGE_GUILD). The check is a
 * perm_cache_t lookup per subscriber, made once per user per event for users with
 * several sessions in a row; the encoding stays once per wire form.
 *
 * Snapshots (GUILD_CREATE "d" of a guild hub, the channel of a private one) are cached
 * per [form][large] until the state they show changes (hub__snap_invalidate), so a
 * burst of identifies encodes a guild once. A large guild's snapshot (more members than
 * the session's large_threshold) lists no members and no presences, as Discord's lists
 * only some: they come from events and REST. */
#include "internal.h"

#include "etf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

hearth_payload_t *hub__encode(json_t *d, unsigned form)
{
    hearth_payload_t *p;
    etf_buf_t b = {0};
    char *s;

    if (form == 0) {
        s = json_dumps(d, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s == NULL)
            abort(); /* jansson fails only on OOM here */
        p = hearth_payload_new(s, strlen(s));
        free(s);
        return p;
    }
    if (etf_encode(d, &b, false) < 0)
        b.len = 0; /* deeper than any document of ours */
    p = hearth_payload_new(b.p, b.len);
    free(b.p);
    return p;
}

hearth_payload_t *hub_encode(const json_t *d, unsigned form)
{
    return hub__encode((json_t *)d, form == HUB_FORM_ETF);
}

/* The message without what MESSAGE_CONTENT guards (a shallow copy). */
static json_t *strip_content(json_t *msg)
{
    json_t *c = json_copy(msg);

    json_object_set_new(c, "content", json_string(""));
    json_object_set_new(c, "embeds", json_array());
    json_object_set_new(c, "attachments", json_array());
    json_object_set_new(c, "components", json_array());
    json_object_del(c, "poll");
    return c;
}

static bool exempt(const hub_fan_t *f, uint64_t user)
{
    size_t lo = 0, hi = f->nexempt;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->exempt[mid] == user)
            return true;
        if (f->exempt[mid] < user)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Whether user may see an event that asks for permissions. */
static bool permitted(hub_t *h, const hub_fan_t *f, uint64_t user, int64_t now)
{
    uint64_t p;

    if (h->perms == NULL)
        return true; /* a private hub: its recipients see everything */
    if (f->channel_id != 0) {
        p = perm_cache_channel(h->perms, user, f->channel_id, now);
        if (!(p & PERM_VIEW_CHANNEL) || (p & f->chan_perm) != f->chan_perm)
            return false;
    }
    if (f->guild_perm != 0 &&
        (perm_cache_base(h->perms, user, now) & f->guild_perm) != f->guild_perm)
        return false;
    return true;
}

void hub__fanout(hub_t *h, const hub_fan_t *f, json_t *d)
{
    hearth_payload_t *var[2][2] = {{NULL, NULL}, {NULL, NULL}};
    bool check = f->channel_id != 0 || f->guild_perm != 0, last_ok = false;
    uint64_t last_user = 0;
    json_t *stripped = NULL;
    hearth_msg_t *m;
    int64_t now = check ? hub__now_ms() : 0;
    size_t i;
    int form, strip;

    for (i = 0; i < h->nsubs; i++) {
        const hub_sub_t *s = &h->subs[i];
        if (f->need != 0 && (s->intents & f->need) == 0)
            continue;
        if ((s->intents & f->need_all) != f->need_all || (s->intents & f->lack) != 0)
            continue;
        if (f->only_user != 0 && s->user_id != f->only_user)
            continue;
        if (f->skip_user != 0 && s->user_id == f->skip_user)
            continue;
        if (check) {
            if (s->user_id != last_user) {
                last_user = s->user_id;
                last_ok = permitted(h, f, s->user_id, now);
            }
            if (!last_ok)
                continue;
        }
        form = s->form;
        strip = f->message && h->kind == HUB_KIND_GUILD &&
                (s->intents & HUB_INTENT_MESSAGE_CONTENT) == 0 && !exempt(f, s->user_id);
        if (var[form][strip] == NULL) {
            if (strip && stripped == NULL)
                stripped = strip_content(d);
            var[form][strip] = hub__encode(strip ? stripped : d, (unsigned)form);
        }
        m = hearth_msg_shared(HUB_TAG_EVENT, var[form][strip]);
        m->value = f->ev;
        m->ref = h->id;
        hearth_send(s->pid, m); /* a dead session's message is dropped; its DOWN follows */
    }
    for (form = 0; form < 2; form++)
        for (strip = 0; strip < 2; strip++)
            if (var[form][strip] != NULL)
                hearth_payload_unref(var[form][strip]);
    json_decref(stripped);
}

void hub__fan_guild(hub_t *h, hub_event_t ev, uint64_t need, uint64_t perm, json_t *d)
{
    hub_fan_t f;

    memset(&f, 0, sizeof(f));
    f.ev = ev;
    f.need = need;
    f.guild_perm = perm;
    hub__fanout(h, &f, d);
}

void hub__send_one(hub_t *h, hearth_pid_t pid, unsigned form, hub_event_t ev, json_t *d)
{
    hearth_payload_t *p = hub__encode(d, form == HUB_FORM_ETF);
    hearth_msg_t *m = hearth_msg_shared(HUB_TAG_EVENT, p);

    hearth_payload_unref(p);
    m->value = ev;
    m->ref = h->id;
    hearth_send(pid, m);
}

void hub__send_refusal(hearth_pid_t pid, uint64_t ref)
{
    hearth_msg_t *m = hearth_msg_int(HUB_TAG_SNAPSHOT, 0);

    m->ref = ref;
    hearth_send(pid, m);
}

/* ---- snapshots ----------------------------------------------------------------------------------
 */

static json_t *values_of(json_t *obj)
{
    json_t *a = json_array(), *v;
    const char *k;

    json_object_foreach(obj, k, v) json_array_append(a, v);
    return a;
}

static json_t *guild_snapshot(hub_t *h, bool large)
{
    json_t *d = json_copy(h->guild);

    json_object_set_new(d, "channels", values_of(h->channels));
    json_object_set_new(d, "threads", json_array());
    json_object_set_new(d, "members", large ? json_array() : values_of(h->members));
    json_object_set_new(d, "presences", large ? json_array() : hub__presence_list(h));
    json_object_set_new(d, "member_count", json_integer((json_int_t)json_object_size(h->members)));
    json_object_set_new(d, "large", json_boolean(large));
    json_object_set_new(d, "unavailable", json_false());
    json_object_set_new(d, "voice_states", json_array());
    json_object_set_new(d, "stage_instances", json_array());
    json_object_set_new(d, "guild_scheduled_events", json_array());
    json_object_set_new(d, "soundboard_sounds", json_array());
    return d;
}

/* A member's joined_at ("2015-01-01T00:00:00.000000+00:00") as Unix milliseconds, or
 * 1 if it cannot be read (the snapshot's value must stay above 0). */
static int64_t joined_ms(hub_t *h, uint64_t user_id)
{
    char key[21];
    const char *t;
    struct tm tm;
    int us = 0;
    int64_t ms;

    t = json_string_value(
        json_object_get(json_object_get(h->members, hub__key(user_id, key)), "joined_at"));
    memset(&tm, 0, sizeof(tm));
    if (t == NULL || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%6d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) < 6)
        return 1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    ms = (int64_t)timegm(&tm) * 1000 + us / 1000;
    return ms > 0 ? ms : 1;
}

void hub__send_snapshot(hub_t *h, hearth_pid_t pid, unsigned form, uint64_t ref,
                        uint32_t large_threshold, uint64_t user_id)
{
    unsigned fi = form == HUB_FORM_ETF;
    hearth_msg_t *m;
    json_t *d;
    bool large = false;

    if (h->kind == HUB_KIND_GUILD) {
        if (large_threshold < 50)
            large_threshold = 50;
        if (large_threshold > 250)
            large_threshold = 250;
        large = json_object_size(h->members) > large_threshold;
    }
    if (h->snap[fi][large] == NULL) {
        d = h->kind == HUB_KIND_GUILD ? guild_snapshot(h, large) : json_incref(h->channel);
        h->snap[fi][large] = hub__encode(d, fi);
        json_decref(d);
    }
    m = hearth_msg_shared(HUB_TAG_SNAPSHOT, h->snap[fi][large]);
    m->value = h->kind == HUB_KIND_GUILD ? joined_ms(h, user_id) : 1;
    m->ref = ref;
    hearth_send(pid, m);
}
