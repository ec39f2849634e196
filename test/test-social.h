/* Helpers for the social tests (test/test-social*.c):
 *
 *   - an environment: the runtime, a store on a temporary directory (and a connection of
 *     the test thread's own for fixtures), the social process, and optionally the hub
 *     tree with an HTTP listener serving both the REST API and the gateway;
 *   - fake sessions: event processes that join the social process as a gateway session
 *     would (social_session_presence from themselves) and record what they receive,
 *     batches unpacked with social_batch_next, so the process can be tested without
 *     sockets and at a scale sockets would make slow.
 * Defined in test/test-social-util.c. */
#ifndef HEARTH_TEST_SOCIAL_H
#define HEARTH_TEST_SOCIAL_H

#include "task.h"
#include "test-store.h"

#include "http/http.h"
#include "social/social.h"
#include "store/social.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sxt_env {
    char dir[64];
    store_t *db; /* the test thread's own connection */
    http_router_t *router;
    http_server_t srv;
    hearth_pid_t hubs, social;
    int port; /* 0 without HTTP */
} sxt_env_t;

/* Starts the runtime, the store and the social process (cfg may be NULL); with http, also
 * the hub tree, the gateway and a listener on 127.0.0.1 with the REST routes and the
 * gateway's ("/" and "/gateway"). */
void sxt_start(sxt_env_t *e, const social_config_t *cfg, bool http);
/* Stops the runtime and removes the directory. */
void sxt_stop(sxt_env_t *e);

/* A person (no password: fast) with a token (token NULL: none); returns the id. */
uint64_t sxt_user(sxt_env_t *e, const char *name, char *token);

/* Milliseconds of a monotonic clock. */
uint64_t sxt_now(void);

/* ---- fake sessions ----------------------------------------------------------------------------
 */

typedef struct sxt_fake {
    uint64_t user_id;
    hearth_pid_t pid;
    atomic_uint msgs;    /* messages: plain events and batches */
    atomic_uint batches; /* of which batches */
    atomic_uint events;  /* events, a batch's each */
    bool keep;           /* record the events (else only count them) */
    pthread_mutex_t mu;
    json_t *log;          /* {"t": name, "d": the decoded d} in arrival order, while keep */
    char last_status[16]; /* the status of the last PRESENCE_UPDATE (any user) */
} sxt_fake_t;

/* Spawns a fake session of user_id (not joined: call sxt_fake_presence). keep: record
 * events for sxt_fake_wait. Freed by sxt_fakes_free after the runtime stopped. */
sxt_fake_t *sxt_fake_new(uint64_t user_id, bool keep);
/* The fake calls social_session_presence(user, JSON, status, activities) (status NULL:
 * online; activities JSON text or NULL) and the call returns once it did. */
void sxt_fake_presence(sxt_fake_t *f, const char *status, const char *activities);
/* The fake calls social_session_leave. */
void sxt_fake_leave(sxt_fake_t *f);
/* The fake's process ends (the social process sees its DOWN); waits for the end. */
void sxt_fake_stop(sxt_fake_t *f);
/* The next recorded event named t (others before it are dropped), the caller's; NULL
 * after timeout_ms. */
json_t *sxt_fake_wait(sxt_fake_t *f, const char *t, int timeout_ms);
/* How many events are recorded and not yet taken. */
size_t sxt_fake_pending(sxt_fake_t *f);
/* Frees every fake made (after sxt_stop). */
void sxt_fakes_free(void);

/* Waits up to ms for *counter to reach at least n; returns its value. */
unsigned sxt_wait_count(atomic_uint *counter, unsigned n, int ms);

#endif /* HEARTH_TEST_SOCIAL_H */
