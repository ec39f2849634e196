/* The social process's ways in (social.h): starting it, the gateway's and REST's calls
 * (messages to the process, found by name), READY's relationships and presences,
 * batches and event names.
 *
 * Every call that only reports something is a cast, so a session (an event process)
 * never waits on the social process; social_ready and social_stats wait, and run in
 * green or attached threads. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

social_config_t sx__config;

int social_child_start(void *arg, hearth_pid_t *out)
{
    hearth_server_child_t child = {
        .cbs = &sx__cbs, .arg = NULL, .flags = HEARTH_SPAWN_TRAP_EXIT, .name = SOCIAL_NAME};

    /* Copied before the process starts (its init reads it); a supervisor's restart
     * passes the same arg again. */
    memset(&sx__config, 0, sizeof(sx__config));
    if (arg != NULL)
        sx__config = *(const social_config_t *)arg;
    return hearth_server_child_start(&child, out);
}

const char *social_event_name(int64_t ev)
{
    switch (ev) {
    case SOCIAL_EV_RELATIONSHIP_ADD:
        return "RELATIONSHIP_ADD";
    case SOCIAL_EV_RELATIONSHIP_REMOVE:
        return "RELATIONSHIP_REMOVE";
    default:
        return NULL;
    }
}

hearth_msg_t *social_batch_next(const hearth_msg_t *m, size_t *pos)
{
    hearth_payload_t *p = hearth_msg_payload(m);
    const char *base = m->data;
    hearth_msg_t *ev;
    uint32_t len;
    int32_t num;

    if (m->tag != SOCIAL_TAG_BATCH || p == NULL || *pos + 8 > m->len)
        return NULL;
    memcpy(&num, base + *pos, 4);
    memcpy(&len, base + *pos + 4, 4);
    if (len > m->len - *pos - 8)
        return NULL;
    /* The event shares the batch's payload: its bytes are a range of it. */
    ev = hearth_msg_shared(HUB_TAG_EVENT, p);
    ev->data = (char *)base + *pos + 8;
    ev->len = len;
    ev->value = num;
    *pos += 8 + (size_t)len;
    return ev;
}

int social_session_presence(uint64_t user_id, unsigned form, const char *status,
                            const json_t *activities)
{
    hearth_pid_t pid = hearth_whereis(SOCIAL_NAME);
    hearth_msg_t *m;
    sx_session_t p;
    char *text = NULL;
    size_t tl = 0;

    if (pid == HEARTH_PID_NONE)
        return HEARTH_ENOENT;
    if (json_is_array(activities) && json_array_size(activities) > 0) {
        text = json_dumps(activities, JSON_COMPACT);
        tl = text != NULL ? strlen(text) : 0;
    }
    memset(&p, 0, sizeof(p));
    p.user_id = user_id;
    p.form = form;
    snprintf(p.status, sizeof(p.status), "%s", status != NULL ? status : "online");
    m = hearth_msg_new(SX_TAG_SESSION, sizeof(p) + tl);
    memcpy(m->data, &p, sizeof(p));
    if (tl > 0)
        memcpy((char *)m->data + sizeof(p), text, tl);
    free(text);
    return hearth_server_cast(pid, m) < 0 ? HEARTH_ENOENT : 0;
}

int social_session_leave(void)
{
    hearth_pid_t pid = hearth_whereis(SOCIAL_NAME);

    if (pid == HEARTH_PID_NONE)
        return HEARTH_ENOENT;
    return hearth_server_cast(pid, hearth_msg_int(SX_TAG_LEAVE, 0)) < 0 ? HEARTH_ENOENT : 0;
}

int social_relationship_changed(uint64_t user, uint64_t other, const store_rel_change_t *ch,
                                const json_t *user_rel, const json_t *other_rel)
{
    hearth_pid_t pid = hearth_whereis(SOCIAL_NAME);
    hearth_msg_t *m;
    sx_change_t c;
    json_t *docs;
    char *text;
    size_t tl;

    if (pid == HEARTH_PID_NONE)
        return HEARTH_ENOENT;
    memset(&c, 0, sizeof(c));
    c.user = user;
    c.other = other;
    c.ch = *ch;
    docs = json_pack("{s:O?, s:O?}", "user", user_rel, "other", other_rel);
    text = docs != NULL ? json_dumps(docs, JSON_COMPACT) : NULL;
    json_decref(docs);
    tl = text != NULL ? strlen(text) : 0;
    m = hearth_msg_new(SX_TAG_CHANGE, sizeof(c) + tl);
    memcpy(m->data, &c, sizeof(c));
    if (tl > 0)
        memcpy((char *)m->data + sizeof(c), text, tl);
    free(text);
    return hearth_server_cast(pid, m) < 0 ? HEARTH_ENOENT : 0;
}

int social_stats(social_stats_t *out)
{
    hearth_pid_t pid = hearth_whereis(SOCIAL_NAME);
    hearth_msg_t *reply;
    int err;

    if (pid == HEARTH_PID_NONE)
        return HEARTH_ENOENT;
    err = hearth_server_call(pid, hearth_msg_int(SX_TAG_STATS, 0), 5000, &reply);
    if (err < 0)
        return err;
    if (reply->len < sizeof(*out)) {
        hearth_msg_free(reply);
        return HEARTH_EINVAL;
    }
    memcpy(out, reply->data, sizeof(*out));
    hearth_msg_free(reply);
    return 0;
}

/* ---- READY ----------------------------------------------------------------------------------- */

/* A store job's record (on the heap: see store_call). */
typedef struct ready_job {
    uint64_t user_id;
    json_t *out;
} ready_job_t;

static int64_t ready_job(store_t *s, void *arg)
{
    ready_job_t *j = arg;

    return store_relationship_list(s, j->user_id, &j->out);
}

int social_ready(hearth_pid_t session, uint64_t user_id, json_t **relationships, json_t **presences)
{
    hearth_pid_t pid = hearth_whereis(SOCIAL_NAME);
    json_t *rels = NULL, *pres = NULL, *r;
    hearth_msg_t *reply;
    sx_prepare_t p;
    uint64_t *ids = NULL, id;
    ready_job_t *j;
    size_t i, n = 0;
    int rc;

    /* Held first, then read: a change committed after the read has its event held for
     * the session; one committed before is in the list (and maybe sent again: the
     * client takes an ADD of what it has as a no-op). */
    if (pid != HEARTH_PID_NONE) {
        p.user_id = user_id;
        p.session = session;
        if (hearth_server_call(pid, hearth_msg_copy(SX_TAG_PREPARE, &p, sizeof(p)), 5000, &reply) ==
            0)
            hearth_msg_free(reply);
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->user_id = user_id;
    rc = store_call(ready_job, j);
    if (rc == 0) {
        rels = j->out;
        j->out = NULL;
    }
    json_decref(j->out);
    free(j);
    if (pid != HEARTH_PID_NONE && rels != NULL) {
        ids = malloc((json_array_size(rels) + 1) * sizeof(*ids));
        if (ids == NULL)
            abort();
        json_array_foreach(rels, i, r)
        {
            id = 0;
            if (json_integer_value(json_object_get(r, "type")) == STORE_REL_FRIEND &&
                snowflake_parse(json_string_value(json_object_get(r, "id")), &id) == 0)
                ids[n++] = id;
        }
        if (n > 0 &&
            hearth_server_call(pid, hearth_msg_copy(SX_TAG_PRESENCES, ids, n * sizeof(*ids)), 5000,
                               &reply) == 0) {
            pres = json_loadb(reply->data, reply->len, 0, NULL);
            hearth_msg_free(reply);
        }
        free(ids);
    }
    *relationships = json_is_array(rels) ? rels : json_array();
    if (!json_is_array(rels))
        json_decref(rels);
    *presences = json_is_array(pres) ? pres : json_array();
    if (!json_is_array(pres))
        json_decref(pres);
    if (rc < 0)
        return rc;
    return pid == HEARTH_PID_NONE ? HEARTH_ENOENT : 0;
}
