/* The social tests' helpers (test-social.h): the environment and the fake sessions.
 *
 * A fake session is an event process. The test thread drives it with calls (the fake
 * answers after acting), so that what the fake sends the social process is in that
 * process's mailbox before the test thread's next message: a test reads as a sequence.
 * What the fake receives is counted, and decoded into its log when asked to keep it. */
#include "test-social.h"

#include "api/api.h"
#include "gateway/gateway.h"
#include "hub/hub.h"

#include "hearth/supervisor.h"

#include <time.h>
#include <unistd.h>

uint64_t sxt_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the environment ------------------------------------------------------------------------- */

void sxt_start(sxt_env_t *e, const social_config_t *cfg, bool http)
{
    hearth_config_t rc = {0};
    int err;

    memset(e, 0, sizeof(*e));
    ts_mkdir(e->dir);
    rc.schedulers = 2;
    ASSERT_OK(hearth_start(&rc));
    ASSERT_OK(store_init(e->dir));
    e->db = store_open(e->dir, false);
    ASSERT_NOT_NULL(e->db);
    ASSERT_OK(social_child_start((void *)cfg, &e->social));
    if (!http)
        return;
    ASSERT_OK(gateway_init(NULL));
    err = hub_sup_child_start(NULL, &e->hubs);
    ASSERT(err == 0 || err == HEARTH_CHILD_IGNORE);
    e->router = http_router_new();
    ASSERT_OK(api_routes_add(e->router));
    ASSERT_OK(http_router_ws(e->router, "/gateway", &gateway_ws_handler, NULL));
    ASSERT_OK(http_router_ws(e->router, "/", &gateway_ws_handler, NULL));
    e->srv.bind = "127.0.0.1";
    e->srv.router = e->router;
    ASSERT_OK(http_listener_start(&e->srv, 0, NULL));
    e->port = e->srv.bound_port;
    ASSERT_GT(e->port, 0);
}

void sxt_stop(sxt_env_t *e)
{
    ASSERT_OK(hearth_stop());
    store_close(e->db);
    store_fini();
    if (e->router != NULL)
        http_router_free(e->router);
    ts_rmdir(e->dir);
}

uint64_t sxt_user(sxt_env_t *e, const char *name, char *token)
{
    uint64_t id = ts_user(e->db, name);

    if (token != NULL)
        ASSERT_OK(store_token_create(e->db, id, token));
    return id;
}

/* ---- fake sessions --------------------------------------------------------------------------- */

#define CTRL_PRESENCE 0x7E570001u /* bytes: status, NUL, activities JSON (maybe empty) */
#define CTRL_LEAVE 0x7E570002u
#define CTRL_STOP 0x7E570003u

static pthread_mutex_t fakes_mu = PTHREAD_MUTEX_INITIALIZER;
static sxt_fake_t **fakes;
static size_t nfakes, capfakes;

static void record(sxt_fake_t *f, const hearth_msg_t *ev)
{
    const char *name = social_event_name(ev->value);
    json_t *d;

    if (name == NULL)
        name = hub_event_name((hub_event_t)ev->value);
    atomic_fetch_add(&f->events, 1);
    d = json_loadb(ev->data, ev->len, 0, NULL);
    pthread_mutex_lock(&f->mu);
    if (strcmp(name, "PRESENCE_UPDATE") == 0)
        snprintf(f->last_status, sizeof(f->last_status), "%s",
                 json_string_value(json_object_get(d, "status")));
    if (f->keep)
        json_array_append_new(f->log,
                              json_pack("{s:s, s:o}", "t", name, "d", d != NULL ? d : json_null()));
    else
        json_decref(d);
    pthread_mutex_unlock(&f->mu);
}

static int fake_control(sxt_fake_t *f, hearth_msg_t *m)
{
    const char *status, *acts;
    json_t *a = NULL;
    int rc = 0;

    switch ((uint32_t)m->value) {
    case CTRL_PRESENCE:
        status = m->data;
        acts = status + strlen(status) + 1;
        if (*acts != '\0')
            a = json_loads(acts, 0, NULL);
        social_session_presence(f->user_id, HUB_FORM_JSON, *status ? status : NULL, a);
        json_decref(a);
        break;
    case CTRL_LEAVE:
        social_session_leave();
        break;
    case CTRL_STOP:
        rc = HEARTH_STOP;
        break;
    default:
        break;
    }
    hearth_reply(m->from, m->ref, hearth_msg_int(0, 0));
    return rc;
}

static int fake_handle(void *state, hearth_msg_t *m)
{
    sxt_fake_t *f = state;
    hearth_msg_t *ev;
    size_t pos = 0;

    switch (m->tag) {
    case HEARTH_MSG_CALL:
        return fake_control(f, m);
    case HUB_TAG_EVENT:
        atomic_fetch_add(&f->msgs, 1);
        record(f, m);
        return 0;
    case SOCIAL_TAG_BATCH:
        atomic_fetch_add(&f->msgs, 1);
        atomic_fetch_add(&f->batches, 1);
        while ((ev = social_batch_next(m, &pos)) != NULL) {
            record(f, ev);
            hearth_msg_free(ev);
        }
        return 0;
    default:
        return 0;
    }
}

static const hearth_actor_t fake_actor = {.name = "fake-session", .handle = fake_handle};

sxt_fake_t *sxt_fake_new(uint64_t user_id, bool keep)
{
    sxt_fake_t *f = calloc(1, sizeof(*f));

    ASSERT_NOT_NULL(f);
    f->user_id = user_id;
    f->keep = keep;
    f->log = json_array();
    pthread_mutex_init(&f->mu, NULL);
    ASSERT_OK(hearth_spawn(&fake_actor, f, 0, &f->pid));
    pthread_mutex_lock(&fakes_mu);
    if (nfakes == capfakes) {
        capfakes = capfakes ? capfakes * 2 : 64;
        fakes = realloc(fakes, capfakes * sizeof(*fakes));
        ASSERT_NOT_NULL(fakes);
    }
    fakes[nfakes++] = f;
    pthread_mutex_unlock(&fakes_mu);
    return f;
}

static void control(sxt_fake_t *f, uint32_t what, const void *data, size_t len)
{
    hearth_msg_t *reply;

    ASSERT_OK(hearth_call(f->pid, hearth_msg_copy(what, data, len), 10000, &reply));
    hearth_msg_free(reply);
}

void sxt_fake_presence(sxt_fake_t *f, const char *status, const char *activities)
{
    char buf[512];
    int n;

    n = snprintf(buf, sizeof(buf), "%s%c%s", status ? status : "", 0, activities ? activities : "");
    ASSERT_LT(n, (int)sizeof(buf));
    control(f, CTRL_PRESENCE, buf, (size_t)n + 1);
}

void sxt_fake_leave(sxt_fake_t *f)
{
    control(f, CTRL_LEAVE, NULL, 0);
}

void sxt_fake_stop(sxt_fake_t *f)
{
    int i;

    control(f, CTRL_STOP, NULL, 0);
    for (i = 0; i < 1000 && hearth_is_alive(f->pid); i++)
        usleep(1000);
    ASSERT(!hearth_is_alive(f->pid));
}

json_t *sxt_fake_wait(sxt_fake_t *f, const char *t, int timeout_ms)
{
    uint64_t end = sxt_now() + (uint64_t)timeout_ms;
    json_t *e;

    for (;;) {
        pthread_mutex_lock(&f->mu);
        while (json_array_size(f->log) > 0) {
            e = json_incref(json_array_get(f->log, 0));
            json_array_remove(f->log, 0);
            if (strcmp(json_string_value(json_object_get(e, "t")), t) == 0) {
                pthread_mutex_unlock(&f->mu);
                return e;
            }
            json_decref(e);
        }
        pthread_mutex_unlock(&f->mu);
        if (sxt_now() >= end)
            return NULL;
        usleep(2000);
    }
}

size_t sxt_fake_pending(sxt_fake_t *f)
{
    size_t n;

    pthread_mutex_lock(&f->mu);
    n = json_array_size(f->log);
    pthread_mutex_unlock(&f->mu);
    return n;
}

void sxt_fakes_free(void)
{
    size_t i;

    pthread_mutex_lock(&fakes_mu);
    for (i = 0; i < nfakes; i++) {
        json_decref(fakes[i]->log);
        pthread_mutex_destroy(&fakes[i]->mu);
        free(fakes[i]);
    }
    free(fakes);
    fakes = NULL;
    nfakes = capfakes = 0;
    pthread_mutex_unlock(&fakes_mu);
}

unsigned sxt_wait_count(atomic_uint *counter, unsigned n, int ms)
{
    uint64_t end = sxt_now() + (uint64_t)ms;

    while (atomic_load(counter) < n && sxt_now() < end)
        usleep(1000);
    return atomic_load(counter);
}
