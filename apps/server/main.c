/* hearth-server: one Hearth chat node.
 *
 * main reads the settings (server.h), opens the store (migrating it), starts the
 * runtime and the node's process tree, prints where it listens, then waits for
 * SIGTERM or SIGINT and drains:
 *
 *   hearth (one_for_one, registered "hearth")
 *   ├── hubs       the hub tree (apps/hub): session directory, guild and DM hubs
 *   ├── ratelimit  the rate limiter (apps/ratelimit): every REST request's buckets and
 *   │              bots' identify limits; absent with --rate-limit-multiplier 0
 *   └── listener   the HTTP/WebSocket listener (apps/http): REST requests run as
 *                  short-lived processes (apps/api), gateway connections as
 *                  long-lived ones (apps/gateway)
 *
 * Routes on the one port: the REST API under /api/v10 and /api; the gateway's
 * WebSocket at /gateway (and at "/", where discord.js connects to the URL that
 * GET /gateway/bot gives it); the web client at / and /app/... from priv/web.
 *
 * Drain, in order: the gateway sessions are told to RECONNECT (so clients resume
 * elsewhere or later without losing events), the listener stops accepting, REST
 * requests in progress get up to DRAIN_REQUESTS_MS to finish (each answered 200 is
 * already durable), then the tree stops children last-started-first (listener, then
 * the hubs), the runtime stops and the store closes. A second signal, or a drain that
 * hangs past DRAIN_DEADLINE_S, ends the process at once: nothing acknowledged lives
 * only in memory, so that loses nothing either.
 *
 * `hearth-server admin ...` is the operators' CLI instead (apps/admin). */
#include "admin/admin.h"
#include "api/api.h"
#include "gateway/gateway.h"
#include "http/http.h"
#include "hub/hub.h"
#include "ratelimit/ratelimit.h"
#include "social/social.h"
#include "server.h"
#include "store/store.h"

#include "hearth/supervisor.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRAIN_SESSIONS_MS 300 /* for RECONNECTs to leave before sockets close */
#define DRAIN_REQUESTS_MS 3000
#define DRAIN_DEADLINE_S 10
#define TREE_STOP_MS 5000
/* Request processes' stacks: handlers call jansson, whose parser and encoder recurse
 * (the API bounds nesting at 64 levels), and libc's formatting; twice the runtime's
 * default leaves room, and costs only while a request is in flight. */
#define REQUEST_STACK (128 << 10)

/* The node's long-lived parts: the router and server are read by every connection
 * process, so they live as long as the program. */
static struct {
    srv_config_t cfg;
    http_router_t *router;
    http_server_t http;
    char web_dir[PATH_MAX];
    rl_config_t limits; /* read by the limiter at each (re)start: lives as long as the node */
    hearth_pid_t top;
} node;

static void access_log(const http_request_t *req, int status, uint64_t ms)
{
    srv_log(SRV_LOG_DEBUG, "%s %s %d %llums", req->method, req->target, status,
            (unsigned long long)ms);
}

/* Builds the router. Returns 0 or a negative code (a bug: the patterns are constants). */
static int routes_build(void)
{
    http_router_t *r = http_router_new();
    int err;

    node.router = r;
    err = api_routes_add(r);
    if (err)
        return err;
    /* "/gateway" also matches "/gateway/" (the router ignores one trailing slash). */
    err = http_router_ws(r, "/gateway", &gateway_ws_handler, NULL);
    if (!err)
        err = http_router_ws(r, "/", &gateway_ws_handler, NULL);
    if (err)
        return err;
    if (!srv_priv_path("web", node.web_dir, sizeof(node.web_dir)))
        srv_log(SRV_LOG_WARN, "no web client found (priv/web): / will answer 404");
    err = http_router_add(r, "GET", "/", http_static_handler, node.web_dir);
    if (!err)
        err = http_router_add(r, "GET", "/app/{*path}", http_static_handler, node.web_dir);
    return err;
}

/* Starts the top supervisor. Returns 0 or the failing child's code. */
static int tree_start(void)
{
    hearth_child_spec_t children[4];
    hearth_sup_flags_t flags = {
        .strategy = HEARTH_ONE_FOR_ONE, .intensity = 5, .period = 10, .name = "hearth"};
    size_t n = 0;

    memset(children, 0, sizeof(children));
    children[n].id = "hubs";
    children[n].start = hub_sup_child_start;
    children[n].arg = NULL; /* the hubs' defaults */
    children[n++].type = HEARTH_SUPERVISOR;
    /* Before the listener, so no request arrives before its limits; and a limiter that
     * crashes is restarted alone (one_for_one), with empty buckets: meanwhile requests
     * pass unlimited rather than fail (rl_call_check). */
    if (node.cfg.rate_limit_multiplier > 0) {
        uint32_t m = (uint32_t)node.cfg.rate_limit_multiplier;

        /* N times every limit: the REST ones (the limiter multiplies those), and bots'
         * identifies, N per 5 s and N times the daily session starts. */
        node.limits.multiplier = m;
        node.limits.identify_period_ms = m < 5000 ? 5000 / m : 1;
        node.limits.session_starts = m <= 1000000 ? 1000 * m : 1000000000;
        children[n].id = "ratelimit";
        children[n].start = rl_server_child_start;
        children[n++].arg = &node.limits;
    }
    children[n].id = "social";
    children[n++].start = social_child_start; /* arg NULL: the defaults */
    children[n].id = "listener";
    children[n].start = http_listener_child_start;
    children[n].arg = &node.http;
    children[n++].shutdown = 2000;
    return hearth_supervisor_start(&flags, children, n, 0, &node.top);
}

/* Blocks until SIGTERM or SIGINT; returns which. */
static int signal_wait(const sigset_t *set)
{
    int sig = 0;

    while (sigwait(set, &sig) != 0)
        ;
    return sig;
}

/* A second signal during the drain ends the process at once. */
static void *second_signal(void *arg)
{
    int sig = signal_wait(arg);

    fprintf(stderr, "hearth-server: %s again: exiting now\n", strsignal(sig));
    _exit(1);
    return NULL;
}

static void drain(sigset_t *set)
{
    uint64_t until;
    pthread_t th;
    int err;

    /* The deadline: SIGALRM's default action ends the process. */
    alarm(DRAIN_DEADLINE_S);
    if (pthread_create(&th, NULL, second_signal, set) == 0)
        pthread_detach(th);
    err = gateway_drain();
    if (err == 0)
        hearth_sleep(DRAIN_SESSIONS_MS);
    err = hearth_supervisor_terminate_child(node.top, "listener");
    if (err)
        srv_log(SRV_LOG_WARN, "stopping the listener: %s", hearth_strerror(err));
    until = hearth_now_ms() + DRAIN_REQUESTS_MS;
    while (api_requests_active() > 0 && hearth_now_ms() < until)
        hearth_sleep(10);
    if (api_requests_active() > 0)
        srv_log(SRV_LOG_WARN, "%zu requests still running: stopping anyway", api_requests_active());
    err = hearth_supervisor_stop(node.top, HEARTH_SHUTDOWN, TREE_STOP_MS);
    if (err)
        srv_log(SRV_LOG_WARN, "stopping the process tree: %s", hearth_strerror(err));
}

int main(int argc, char **argv)
{
    hearth_config_t rt = {0};
    sigset_t set;
    int rc, err, sig;

    if (argc > 1 && strcmp(argv[1], "admin") == 0)
        return admin_main(argc - 1, argv + 1);
    rc = srv_config_load(&node.cfg, argc, argv, 1);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    srv_log_init(node.cfg.log_level);
    if (node.cfg.log_level >= SRV_LOG_DEBUG)
        api_log_set(access_log);

    /* Signals are taken by sigwait here, never by a handler: blocked before the
     * runtime's threads exist, so they inherit the mask and none of them gets one. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (store_init(node.cfg.data_dir) != 0) {
        srv_log(SRV_LOG_ERROR, "cannot open the store in %s", node.cfg.data_dir);
        return 1;
    }
    rt.schedulers = node.cfg.schedulers;
    err = hearth_start(&rt);
    if (err) {
        srv_log(SRV_LOG_ERROR, "cannot start the runtime: %s", hearth_strerror(err));
        return 1;
    }
    if (gateway_init(NULL) != 0) {
        srv_log(SRV_LOG_ERROR, "cannot set up the gateway");
        goto fail;
    }
    err = routes_build();
    if (err) {
        srv_log(SRV_LOG_ERROR, "cannot build the routes: %s", hearth_strerror(err));
        goto fail;
    }
    node.http.bind = node.cfg.bind;
    node.http.port = node.cfg.port;
    node.http.router = node.router;
    node.http.limits.stack_size = REQUEST_STACK;
    err = tree_start();
    if (err) {
        srv_log(SRV_LOG_ERROR, "cannot start on %s:%d: %s", node.cfg.bind, node.cfg.port,
                hearth_strerror(err));
        goto fail;
    }
    srv_log(SRV_LOG_INFO, "data in %s, %d schedulers, log level %s%s%s", node.cfg.data_dir,
            hearth_schedulers(), srv_log_level_name(node.cfg.log_level),
            node.cfg.config[0] ? ", settings from " : "", node.cfg.config);
    if (node.cfg.rate_limit_multiplier == 0)
        srv_log(SRV_LOG_INFO, "rate limits off (--rate-limit-multiplier 0)");
    else if (node.cfg.rate_limit_multiplier > 1)
        srv_log(SRV_LOG_INFO, "rate limits %d times Discord's", node.cfg.rate_limit_multiplier);
    /* An IPv6 address goes in brackets in a URL. */
    if (strchr(node.cfg.bind, ':') != NULL)
        printf("Hearth listening on http://[%s]:%d\n", node.cfg.bind, node.http.bound_port);
    else
        printf("Hearth listening on http://%s:%d\n", node.cfg.bind, node.http.bound_port);
    fflush(stdout);

    sig = signal_wait(&set);
    srv_log(SRV_LOG_INFO, "%s: draining", strsignal(sig));
    drain(&set);
    hearth_stop();
    store_fini();
    srv_log(SRV_LOG_INFO, "stopped");
    return 0;

fail:
    hearth_stop();
    store_fini();
    return 1;
}
