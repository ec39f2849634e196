/* Presence to friends, and the session queues every event goes through.
 *
 * A user's effective presence is the one its newest-speaking joined session gave (none:
 * offline; invisible: offline). When it differs from what friends were last shown, it is
 * shown: one PRESENCE_UPDATE document, encoded at most once per wire form, queued as a
 * reference on every session of every friend who has one. At most presence_rate shows
 * per presence_window_ms per user: a change beyond that is held (the user is marked, a
 * timer armed for when the oldest show leaves the window), and when the timer fires the
 * presence is computed afresh, so only the latest of the held changes goes.
 *
 * Queues: events wait on their session's queue until the flush timer (one for the whole
 * process, armed when the first queue fills), then leave as one message per session: a
 * plain HUB_TAG_EVENT when there is one event (the shared payload itself, no copy), a
 * SOCIAL_TAG_BATCH when there are several (one payload made for that session, entries
 * copied in). A presence queued for a user replaces one still queued for the same user,
 * so a session never gets two updates of one friend in one flush; relationship events
 * are never merged and flush their sessions at once. A session that has not joined yet
 * (between social_ready and its first presence) keeps documents instead, since its wire
 * form is not known until it joins, at most held_max of them. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const status_names[] = {"offline", "online", "idle", "dnd"};

int sx__status_code(const char *status)
{
    if (status == NULL)
        return SX_ONLINE;
    if (strcmp(status, "online") == 0)
        return SX_ONLINE;
    if (strcmp(status, "idle") == 0)
        return SX_IDLE;
    if (strcmp(status, "dnd") == 0)
        return SX_DND;
    return SX_OFFLINE; /* invisible, offline, or a name we do not know */
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_t *sx__presence_doc(const sx_user_t *u)
{
    char id[24];
    json_t *cs = json_object();

    if (u->shown != SX_OFFLINE)
        json_object_set_new(cs, "desktop", json_string(status_names[u->shown]));
    return json_pack("{s:{s:s}, s:s, s:o, s:o, s:I}", "user", "id", snowflake_str(u->id, id),
                     "status", status_names[u->shown], "activities",
                     u->shown_acts != NULL ? json_incref(u->shown_acts) : json_array(),
                     "client_status", cs, "last_modified", (json_int_t)u->shown_ms);
}

/* ---- queues ---------------------------------------------------------------------------------- */

static hearth_payload_t *enc_get(sx_enc_t *enc, unsigned form)
{
    unsigned i = form == HUB_FORM_ETF ? 1 : 0;

    if (enc->p[i] == NULL)
        enc->p[i] = hub_encode(enc->doc, form == HUB_FORM_ETF ? HUB_FORM_ETF : HUB_FORM_JSON);
    return enc->p[i];
}

void sx__enc_clear(sx_enc_t *enc)
{
    int i;

    for (i = 0; i < 2; i++) {
        if (enc->p[i] != NULL)
            hearth_payload_unref(enc->p[i]);
        enc->p[i] = NULL;
    }
}

static void item_release(sx_item_t *it)
{
    if (it->p != NULL)
        hearth_payload_unref(it->p);
    json_decref(it->doc);
    it->p = NULL;
    it->doc = NULL;
}

void sx__queue_free(sx_sess_t *s)
{
    uint32_t i;

    for (i = 0; i < s->nq; i++)
        item_release(&s->q[i]);
    free(s->q);
    s->q = NULL;
    s->nq = s->capq = 0;
}

static void arm_flush(sx_t *x)
{
    if (x->flush_armed)
        return;
    x->flush_armed = true;
    hearth_send_after(hearth_self(), hearth_msg_int(SX_TAG_FLUSH, 0), (uint64_t)x->cfg.flush_ms,
                      NULL);
}

void sx__queue(sx_t *x, sx_sess_t *s, int32_t ev, uint64_t key, sx_enc_t *enc)
{
    sx_item_t *it;
    uint32_t i, k;

    if (!s->joined && s->nq >= x->cfg.held_max)
        return; /* READY's snapshot will be a little stale: better than holding forever */
    /* A presence of the same user among the last few entries goes: the new one is
     * appended, so it stays after anything queued meanwhile (a RELATIONSHIP_ADD that
     * made them friends, say). The flush drops older duplicates further back. */
    for (i = s->nq, k = 0; key != 0 && i > 0 && k < 8; i--, k++) {
        if (s->q[i - 1].key == 0)
            break;
        if (s->q[i - 1].key == key) {
            item_release(&s->q[i - 1]);
            memmove(&s->q[i - 1], &s->q[i], (s->nq - i) * sizeof(*s->q));
            s->nq--;
            break;
        }
    }
    if (s->nq == s->capq) {
        s->capq = s->capq ? s->capq * 2 : 4;
        s->q = realloc(s->q, s->capq * sizeof(*s->q));
        if (s->q == NULL)
            abort();
    }
    it = &s->q[s->nq++];
    it->ev = ev;
    it->key = key;
    it->p = NULL;
    it->doc = NULL;
    if (s->joined)
        it->p = hearth_payload_ref(enc_get(enc, s->form));
    else
        it->doc = json_incref(enc->doc);
    if (!s->joined)
        return;
    if (!s->dirty) {
        if (x->ndirty == x->capdirty) {
            x->capdirty = x->capdirty ? x->capdirty * 2 : 64;
            x->dirty = realloc(x->dirty, x->capdirty * sizeof(*x->dirty));
            if (x->dirty == NULL)
                abort();
        }
        x->dirty[x->ndirty++] = s->pid;
        s->dirty = true;
    }
    arm_flush(x);
}

/* Marks (p NULL) every presence with a newer one of the same user later in the queue. */
static void dedupe(sx_sess_t *s)
{
    sx_map_t seen = {0};
    uint32_t i;

    for (i = s->nq; i > 0; i--) {
        sx_item_t *it = &s->q[i - 1];
        if (it->key == 0)
            continue;
        if (sx_map_get(&seen, it->key) != NULL)
            item_release(it);
        else
            sx_map_put(&seen, it->key, it);
    }
    sx_map_free(&seen);
}

void sx__flush_session(sx_t *x, sx_sess_t *s)
{
    hearth_payload_t *batch;
    hearth_msg_t *m;
    sx_item_t *one = NULL;
    uint32_t i, n = 0, len32;
    int32_t ev;
    size_t total = 0, off = 0;
    char *w;

    if (!s->joined || s->nq == 0)
        return;
    if (s->nq > 1)
        dedupe(s);
    for (i = 0; i < s->nq; i++) {
        if (s->q[i].p == NULL)
            continue;
        one = &s->q[i];
        n++;
        total += 8 + hearth_payload_len(s->q[i].p);
    }
    if (n == 1) {
        m = hearth_msg_shared(HUB_TAG_EVENT, one->p);
        m->value = one->ev;
        hearth_send(s->pid, m); /* a session that is gone drops it */
    } else if (n > 1) {
        /* Entries: the event (int32), the length (uint32), the "d" bytes. */
        batch = hearth_payload_alloc(total);
        w = hearth_payload_data(batch);
        for (i = 0; i < s->nq; i++) {
            if (s->q[i].p == NULL)
                continue;
            ev = s->q[i].ev;
            len32 = (uint32_t)hearth_payload_len(s->q[i].p);
            memcpy(w + off, &ev, 4);
            memcpy(w + off + 4, &len32, 4);
            memcpy(w + off + 8, hearth_payload_data(s->q[i].p), len32);
            off += 8 + len32;
        }
        m = hearth_msg_shared(SOCIAL_TAG_BATCH, batch);
        hearth_payload_unref(batch); /* the message holds it now */
        m->value = n;
        hearth_send(s->pid, m);
        x->stats.batches++;
    }
    if (n > 0)
        x->stats.messages++;
    x->stats.events += n;
    for (i = 0; i < s->nq; i++)
        item_release(&s->q[i]);
    s->nq = 0;
    if (s->capq > 64) {
        /* A storm's queue: give it back, an idle session holds none. */
        free(s->q);
        s->q = NULL;
        s->capq = 0;
    }
}

void sx__flush_all(sx_t *x)
{
    sx_sess_t *s;
    size_t i;

    x->flush_armed = false;
    for (i = 0; i < x->ndirty; i++) {
        s = sx_map_get(&x->sessions, x->dirty[i]);
        if (s == NULL)
            continue; /* gone meanwhile */
        s->dirty = false;
        sx__flush_session(x, s);
    }
    x->ndirty = 0;
    if (x->capdirty > 4096) {
        free(x->dirty);
        x->dirty = NULL;
        x->capdirty = 0;
    }
}

/* ---- presence -------------------------------------------------------------------------------- */

/* The newest-speaking joined session's presence: status and activities (borrowed). */
static int effective(const sx_user_t *u, json_t **acts)
{
    const sx_sess_t *best = NULL;
    uint32_t i;

    for (i = 0; i < u->ns; i++)
        if (u->s[i]->joined && (best == NULL || u->s[i]->spoke > best->spoke))
            best = u->s[i];
    *acts = best != NULL && best->status != SX_OFFLINE ? best->acts : NULL;
    return best != NULL ? best->status : SX_OFFLINE;
}

static bool acts_same(const json_t *a, const json_t *b)
{
    if (a == b)
        return true;
    return a != NULL && b != NULL && json_equal((json_t *)a, (json_t *)b);
}

/* Shows u's presence to every friend's sessions. */
static void show(sx_t *x, sx_user_t *u, int status, json_t *acts)
{
    sx_enc_t enc = {0};
    sx_user_t *f;
    uint32_t i, k;

    u->shown = (uint8_t)status;
    json_decref(u->shown_acts);
    u->shown_acts = acts != NULL ? json_incref(acts) : NULL;
    u->shown_ms = wall_ms();
    x->stats.presences++;
    enc.doc = sx__presence_doc(u);
    for (i = 0; i < u->nfriends; i++) {
        f = sx_map_get(&x->users, u->friends[i]);
        for (k = 0; f != NULL && k < f->ns; k++)
            sx__queue(x, f->s[k], HUB_EV_PRESENCE_UPDATE, u->id, &enc);
    }
    sx__enc_clear(&enc);
    json_decref(enc.doc);
}

/* Whether the window has room for a show now; if not, *wait_ms says for how long. */
static bool window_open(const sx_t *x, const sx_user_t *u, int64_t now, int64_t *wait_ms)
{
    int64_t oldest;

    if (u->nsent < x->cfg.presence_rate)
        return true;
    oldest = u->sent[u->sent_head];
    if (now - oldest >= x->cfg.presence_window_ms)
        return true;
    *wait_ms = oldest + x->cfg.presence_window_ms - now;
    return false;
}

static void window_record(const sx_t *x, sx_user_t *u, int64_t now)
{
    uint32_t rate = x->cfg.presence_rate;

    if (u->nsent < rate) {
        u->sent[(u->sent_head + u->nsent) % rate] = now;
        u->nsent++;
    } else {
        u->sent[u->sent_head] = now;
        u->sent_head = (u->sent_head + 1) % rate;
    }
}

void sx__presence_changed(sx_t *x, sx_user_t *u)
{
    int64_t now, wait = 0;
    json_t *acts;
    int status;

    status = effective(u, &acts);
    if (status == u->shown && acts_same(acts, u->shown_acts))
        return;
    if (u->fstate != SX_FRIENDS_READY)
        return; /* shown once the friend list is in (the load calls back here) */
    if (u->held) {
        x->stats.presences_held++; /* merged into the held one: the latest goes */
        return;
    }
    now = (int64_t)hearth_now_ms();
    if (!window_open(x, u, now, &wait)) {
        u->held = true;
        x->stats.presences_held++;
        if (wait < 1)
            wait = 1;
        hearth_send_after(hearth_self(), hearth_msg_int(SX_TAG_RATE, (int64_t)u->id),
                          (uint64_t)wait, &u->timer);
        return;
    }
    window_record(x, u, now);
    show(x, u, status, acts);
}

void sx__presence_window(sx_t *x, sx_user_t *u)
{
    u->timer = 0;
    if (!u->held)
        return; /* a stale firing */
    u->held = false;
    sx__presence_changed(x, u);
    sx__user_maybe_free(x, u);
}
