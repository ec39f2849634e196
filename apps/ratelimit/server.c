/* The limiter process: one hearth server (registered as RL_SERVER_NAME) owning the node's
 * rl_t, so that every REST request of a token meets the same buckets whatever process
 * or scheduler runs it, and the rl_t needs no lock. Request processes call it
 * (rl_call_check); each call carries a fixed-size copy of the request and gets the
 * rl_result_t back. The process reads the clock itself (CLOCK_REALTIME, as
 * X-RateLimit-Reset is an epoch time), so callers cannot skew each other's windows. */
#include "ratelimit.h"

#include "hearth/server.h"

#include <string.h>
#include <time.h>

/* Message tags RL_TAG_BASE .. +0xFF are the limiter's ("RL"). */
#define RL_TAG_BASE 0x524C0000u
#define RL_TAG_CHECK (RL_TAG_BASE + 1)         /* rl_msg_t -> rl_result_t */
#define RL_TAG_IDENTIFY (RL_TAG_BASE + 2)      /* rl_msg_t (user_id, major = shard) -> int64 */
#define RL_TAG_SESSION_LIMIT (RL_TAG_BASE + 3) /* rl_msg_t (user_id) -> rl_session_limit_t */

/* How long a caller waits for the limiter before letting the request through. */
#define RL_CALL_TIMEOUT_MS 1000

typedef struct rl_msg {
    char method[16];
    char pattern[128];
    char ip[64];
    uint64_t user_id;
    uint64_t major;
} rl_msg_t;

typedef struct rl_identify_reply {
    int allowed;
    int64_t retry_after_ms;
} rl_identify_reply_t;

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copies s into dst (size bytes), cut and NUL-terminated; NULL as "". */
static void copy_cut(char *dst, size_t size, const char *s)
{
    size_t n = s != NULL ? strnlen(s, size - 1) : 0;

    if (n > 0)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

/* ---- the process -------------------------------------------------------------------------- */

static int srv_init(void **state, void *arg)
{
    *state = rl_new(arg);
    return 0;
}

static int srv_call(void *state, hearth_msg_t *req, const hearth_server_from_t *from,
                    hearth_msg_t **reply)
{
    rl_t *rl = state;
    rl_msg_t m;
    rl_request_t r;
    rl_result_t res;
    rl_session_limit_t sl;
    rl_identify_reply_t ir;

    (void)from;
    if (req->len != sizeof(m)) /* not from this file: a bug in the caller */
        return HEARTH_EINVAL;
    memcpy(&m, req->data, sizeof(m));
    m.method[sizeof(m.method) - 1] = m.pattern[sizeof(m.pattern) - 1] = m.ip[sizeof(m.ip) - 1] =
        '\0';
    switch (req->tag) {
    case RL_TAG_CHECK:
        r = (rl_request_t){m.method, m.pattern, m.user_id, m.ip[0] ? m.ip : NULL, m.major};
        rl_check(rl, &r, wall_ms(), &res);
        *reply = hearth_msg_copy(RL_TAG_CHECK, &res, sizeof(res));
        return 0;
    case RL_TAG_IDENTIFY:
        ir.retry_after_ms = 0;
        ir.allowed = rl_identify(rl, m.user_id, (uint32_t)m.major, wall_ms(), &ir.retry_after_ms);
        *reply = hearth_msg_copy(RL_TAG_IDENTIFY, &ir, sizeof(ir));
        return 0;
    case RL_TAG_SESSION_LIMIT:
        rl_session_limit(rl, m.user_id, wall_ms(), &sl);
        *reply = hearth_msg_copy(RL_TAG_SESSION_LIMIT, &sl, sizeof(sl));
        return 0;
    default:
        return HEARTH_EINVAL;
    }
}

static void srv_terminate(void *state, hearth_reason_t reason)
{
    (void)reason;
    rl_free(state);
}

static const hearth_server_cbs_t rl_server_cbs = {
    .init = srv_init,
    .handle_call = srv_call,
    .terminate = srv_terminate,
};

int rl_server_child_start(void *arg, hearth_pid_t *out)
{
    hearth_server_child_t child = {.cbs = &rl_server_cbs, .arg = arg, .name = RL_SERVER_NAME};

    /* child is read only during this call; arg is read again on each restart. */
    return hearth_server_child_start(&child, out);
}

/* ---- callers ------------------------------------------------------------------------------ */

/* Calls the limiter with m under tag; returns the reply (the caller frees it) if it
 * carries len bytes, else NULL (no limiter, no answer in time). */
static hearth_msg_t *call(uint32_t tag, const rl_msg_t *m, size_t len)
{
    hearth_pid_t pid = hearth_whereis(RL_SERVER_NAME);
    hearth_msg_t *reply = NULL;

    if (pid == HEARTH_PID_NONE)
        return NULL;
    if (hearth_server_call(pid, hearth_msg_copy(tag, m, sizeof(*m)), RL_CALL_TIMEOUT_MS, &reply) !=
        0)
        return NULL;
    if (reply->len != len) {
        hearth_msg_free(reply);
        return NULL;
    }
    return reply;
}

bool rl_call_check(const rl_request_t *req, rl_result_t *res)
{
    hearth_msg_t *reply;
    rl_msg_t m;

    memset(&m, 0, sizeof(m));
    copy_cut(m.method, sizeof(m.method), req->method);
    copy_cut(m.pattern, sizeof(m.pattern), req->pattern);
    copy_cut(m.ip, sizeof(m.ip), req->ip);
    m.user_id = req->user_id;
    m.major = req->major;
    reply = call(RL_TAG_CHECK, &m, sizeof(*res));
    if (reply == NULL) { /* fail open: a limiter that is down must not take the API down */
        memset(res, 0, sizeof(*res));
        res->allowed = true;
        return true;
    }
    memcpy(res, reply->data, sizeof(*res));
    hearth_msg_free(reply);
    return res->allowed;
}

bool rl_call_identify(uint64_t user_id, uint32_t shard_id, int64_t *retry_after_ms)
{
    rl_identify_reply_t ir = {1, 0};
    hearth_msg_t *reply;
    rl_msg_t m;

    memset(&m, 0, sizeof(m));
    m.user_id = user_id;
    m.major = shard_id;
    reply = call(RL_TAG_IDENTIFY, &m, sizeof(ir));
    if (reply != NULL) {
        memcpy(&ir, reply->data, sizeof(ir));
        hearth_msg_free(reply);
    }
    if (retry_after_ms != NULL)
        *retry_after_ms = ir.retry_after_ms;
    return ir.allowed != 0;
}

void rl_call_session_limit(uint64_t user_id, rl_session_limit_t *out)
{
    hearth_msg_t *reply;
    rl_msg_t m;

    memset(&m, 0, sizeof(m));
    m.user_id = user_id;
    reply = call(RL_TAG_SESSION_LIMIT, &m, sizeof(*out));
    if (reply != NULL) {
        memcpy(out, reply->data, sizeof(*out));
        hearth_msg_free(reply);
        return;
    }
    /* No limiter: what a fresh one with the defaults would say. */
    *out = (rl_session_limit_t){1000, 1000, 86400000, 1};
}
