/* The REST API tests' helpers (test-api.h): the node in the test process, the blocking
 * HTTP client, fixtures made through the API, and running the hearth-server binary.
 *
 * The client opens one connection per request and sends "Connection: close", so a
 * response is everything up to EOF: no keep-alive bookkeeping to get wrong in a test
 * helper. The node's hub tree is the real one; the server binary is the one built next
 * to this test binary. Children are started with execve and an environment prepared
 * before fork, as the runtime's threads may hold locks a forked child must not touch. */
#include "test-api.h"

#include "hearth/supervisor.h"
#include "hub/hub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

/* Milliseconds of a monotonic clock: the runtime's clock may not be running. */
static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the node ------------------------------------------------------------------------------ */

void ta_start(ta_node_t *n)
{
    int rc;

    memset(n, 0, sizeof(*n));
    ts_mkdir(n->dir);
    ASSERT_OK(store_init(n->dir));
    ASSERT_OK(hearth_start(NULL));
    rc = hub_sup_child_start(NULL, &n->hubs);
    ASSERT(rc == 0 || rc == HEARTH_CHILD_IGNORE);
    n->router = http_router_new();
    ASSERT_OK(api_routes_add(n->router));
    n->http.bind = "127.0.0.1";
    n->http.router = n->router;
    ASSERT_OK(http_listener_start(&n->http, 0, &n->listener));
    n->port = n->http.bound_port;
    ASSERT_GT(n->port, 0);
}

void ta_stop(ta_node_t *n)
{
    ASSERT_OK(hearth_stop());
    store_fini();
    http_router_free(n->router);
    ts_rmdir(n->dir);
}

/* ---- the client -------------------------------------------------------------------------------
 */

void ta_res_free(ta_res_t *res)
{
    free(res->head);
    free(res->body);
    json_decref(res->json);
    memset(res, 0, sizeof(*res));
}

static void write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        ASSERT_GT(w, 0);
        p += w;
        n -= (size_t)w;
    }
}

const char *ta_source_addr;

int ta_raw(int port, const char *method, const char *path, const char *auth, const char *ctype,
           const char *body, size_t body_len, ta_res_t *res)
{
    return ta_raw_h(port, method, path, auth, NULL, ctype, body, body_len, res);
}

int ta_raw_h(int port, const char *method, const char *path, const char *auth, const char *headers,
             const char *ctype, const char *body, size_t body_len, ta_res_t *res)
{
    struct sockaddr_in sa = {0};
    struct timeval tv = {30, 0};
    char head[4096], *buf, *hend, *line, *eol;
    size_t len = 0, cap = 65536;
    int fd, n;
    ssize_t r;

    ta_res_free(res);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ta_source_addr != NULL) {
        /* Another client of the loopback range: the server sees another address. */
        struct sockaddr_in src = {0};
        src.sin_family = AF_INET;
        ASSERT_EQ(1, inet_pton(AF_INET, ta_source_addr, &src.sin_addr));
        ASSERT_OK(bind(fd, (struct sockaddr *)&src, sizeof(src)));
    }
    ASSERT_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n", method, path,
                 port);
    if (auth != NULL)
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Authorization: %s\r\n", auth);
    if (headers != NULL)
        n += snprintf(head + n, sizeof(head) - (size_t)n, "%s", headers);
    if (body != NULL)
        n += snprintf(head + n, sizeof(head) - (size_t)n,
                      "Content-Type: %s\r\nContent-Length: %zu\r\n",
                      ctype ? ctype : "application/json", body_len);
    n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
    ASSERT_LT(n, (int)sizeof(head));
    write_all(fd, head, (size_t)n);
    if (body != NULL)
        write_all(fd, body, body_len);
    buf = malloc(cap);
    ASSERT_NOT_NULL(buf);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            ASSERT_NOT_NULL(buf);
        }
        r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        ASSERT_GE(r, 0); /* a timeout here is a server that never answered */
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    ASSERT_EQ(1, sscanf(buf, "HTTP/1.1 %d", &res->status));
    hend = strstr(buf, "\r\n\r\n");
    ASSERT_NOT_NULL(hend);
    *hend = '\0';
    res->head = strdup(buf);
    ASSERT_NOT_NULL(res->head);
    for (line = strstr(buf, "\r\n"); line != NULL; line = eol) {
        line += 2;
        eol = strstr(line, "\r\n");
        if (eol != NULL)
            *eol = '\0';
        if (strncasecmp(line, "Content-Type:", 13) == 0) {
            const char *v = line + 13;

            while (*v == ' ')
                v++;
            snprintf(res->ctype, sizeof(res->ctype), "%s", v);
        }
        if (eol != NULL)
            *eol = '\r';
    }
    res->len = len - (size_t)(hend + 4 - buf);
    res->body = malloc(res->len + 1);
    ASSERT_NOT_NULL(res->body);
    memcpy(res->body, hend + 4, res->len);
    res->body[res->len] = '\0';
    free(buf);
    if (res->len > 0)
        res->json = json_loads(res->body, JSON_DECODE_ANY, NULL);
    return res->status;
}

int ta_req(int port, ta_res_t *res, const char *method, const char *path, const char *auth,
           const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    int n, st;

    if (fmt != NULL) {
        va_start(ap, fmt);
        n = vasprintf(&body, fmt, ap);
        va_end(ap);
        ASSERT_GE(n, 0);
    }
    st = ta_raw(port, method, path, auth, NULL, body, body ? strlen(body) : 0, res);
    free(body);
    return st;
}

int ta_req_h(int port, ta_res_t *res, const char *method, const char *path, const char *auth,
             const char *headers, const char *fmt, ...)
{
    char *body = NULL;
    va_list ap;
    int n, st;

    if (fmt != NULL) {
        va_start(ap, fmt);
        n = vasprintf(&body, fmt, ap);
        va_end(ap);
        ASSERT_GE(n, 0);
    }
    st = ta_raw_h(port, method, path, auth, headers, NULL, body, body ? strlen(body) : 0, res);
    free(body);
    return st;
}

bool ta_header(const ta_res_t *res, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    const char *line, *v, *eol;

    if (res->head == NULL)
        return false;
    for (line = strstr(res->head, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, nl) != 0 || line[nl] != ':')
            continue;
        for (v = line + nl + 1; *v == ' '; v++)
            ;
        eol = strstr(v, "\r\n");
        snprintf(out, size, "%.*s", (int)(eol != NULL ? eol - v : (ptrdiff_t)strlen(v)), v);
        return true;
    }
    return false;
}

long long ta_code(const ta_res_t *res)
{
    json_t *c = json_object_get(res->json, "code");

    return json_is_integer(c) ? (long long)json_integer_value(c) : -1;
}

bool ta_form_error(const ta_res_t *res, const char *path)
{
    json_t *node = json_object_get(res->json, "errors");
    char buf[128], *seg, *save;

    if (ta_code(res) != 50035)
        return false;
    snprintf(buf, sizeof(buf), "%s", path);
    for (seg = strtok_r(buf, ".", &save); seg != NULL; seg = strtok_r(NULL, ".", &save))
        node = json_object_get(node, seg);
    return json_array_size(json_object_get(node, "_errors")) > 0;
}

/* ---- fixtures ----------------------------------------------------------------------------------
 */

void ta_user(int port, const char *name, ta_user_t *u)
{
    ta_res_t res = {0};

    ASSERT_EQ(201, ta_req(port, &res, "POST", "/api/v10/auth/register", NULL,
                          "{\"username\": \"%s\", \"email\": \"%s@example.test\", "
                          "\"password\": \"correct horse battery\"}",
                          name, name));
    snprintf(u->token, sizeof(u->token), "%s", js(res.json, "token"));
    ASSERT_EQ(200, ta_req(port, &res, "GET", "/api/v10/users/@me", u->token, NULL));
    u->id = jid(res.json, "id");
    ASSERT_NE(0, u->id);
    ASSERT_STR_EQ(name, js(res.json, "username"));
    ta_res_free(&res);
}

uint64_t ta_guild(int port, const ta_user_t *u, const char *name, uint64_t *channel)
{
    ta_res_t res = {0};
    uint64_t id;

    ASSERT_EQ(201,
              ta_req(port, &res, "POST", "/api/v10/guilds", u->token, "{\"name\": \"%s\"}", name));
    id = jid(res.json, "id");
    ASSERT_NE(0, id);
    if (channel != NULL) {
        *channel = jid(res.json, "system_channel_id");
        ASSERT_NE(0, *channel);
    }
    ta_res_free(&res);
    return id;
}

uint64_t ta_msg(int port, const ta_user_t *u, uint64_t channel, const char *content)
{
    json_t *body = json_pack("{s:s}", "content", content);
    char path[96], *text = json_dumps(body, JSON_COMPACT);
    ta_res_t res = {0};
    uint64_t id;

    snprintf(path, sizeof(path), "/api/v10/channels/%llu/messages", (unsigned long long)channel);
    ASSERT_EQ(200, ta_raw(port, "POST", path, u->token, NULL, text, strlen(text), &res));
    id = jid(res.json, "id");
    ASSERT_NE(0, id);
    ASSERT_STR_EQ(content, js(res.json, "content"));
    ta_res_free(&res);
    free(text);
    json_decref(body);
    return id;
}

void ta_join(int port, const ta_user_t *inviter, const ta_user_t *u, uint64_t channel)
{
    ta_res_t res = {0};
    char path[96];

    snprintf(path, sizeof(path), "/api/v10/channels/%llu/invites", (unsigned long long)channel);
    ASSERT_EQ(
        200, ta_req(port, &res, "POST", path, inviter->token, "{\"max_age\": 0, \"max_uses\": 0}"));
    snprintf(path, sizeof(path), "/api/v10/invites/%s", js(res.json, "code"));
    ASSERT_EQ(200, ta_req(port, &res, "POST", path, u->token, "{}"));
    ta_res_free(&res);
}

/* ---- the binary
 * ---------------------------------------------------------------------------------- */

const char *ta_server_path(void)
{
    static char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
    char *slash;

    if (n <= 0)
        return NULL;
    path[n] = '\0';
    slash = strrchr(path, '/');
    if (slash == NULL)
        return NULL;
    strcpy(slash + 1, "hearth-server");
    return access(path, X_OK) == 0 ? path : NULL;
}

/* environ without HEARTH_* (a developer's HEARTH_PORT must not leak into a test), in
 * a malloc'd array the caller frees (the strings are environ's). */
static char **clean_env(void)
{
    size_t n = 0, k = 0;
    char **env;

    while (environ[n] != NULL)
        n++;
    env = calloc(n + 1, sizeof(*env));
    ASSERT_NOT_NULL(env);
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "HEARTH_", 7) != 0)
            env[k++] = environ[i];
    return env;
}

int ta_proc_start(ta_proc_t *p, const char *data_dir)
{
    /* Rate limits off: these runs are about other things, and post faster than them. */
    return ta_proc_start_limited(p, data_dir, 0);
}

int ta_proc_start_limited(ta_proc_t *p, const char *data_dir, int multiplier)
{
    const char *bin = ta_server_path();
    char mult[16];
    char *argv[] = {"hearth-server",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--data-dir",
                    (char *)data_dir,
                    "--rate-limit-multiplier",
                    mult,
                    NULL};
    char buf[8192], *at;
    size_t len = 0;
    struct pollfd pfd;
    uint64_t deadline = now_ms() + 15000;
    char **env;
    int fds[2];
    ssize_t r;

    memset(p, 0, sizeof(*p));
    ASSERT_NOT_NULL(bin);
    snprintf(mult, sizeof(mult), "%d", multiplier);
    env = clean_env();
    ASSERT_OK(pipe(fds));
    p->pid = fork();
    ASSERT_GE(p->pid, 0);
    if (p->pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execve(bin, argv, env);
        _exit(127);
    }
    free(env);
    close(fds[1]);
    p->out_fd = fds[0];
    while (now_ms() < deadline && len + 1 < sizeof(buf)) {
        pfd.fd = p->out_fd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        r = read(p->out_fd, buf + len, sizeof(buf) - len - 1);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        at = strstr(buf, "listening on http://127.0.0.1:");
        if (at != NULL && strchr(at, '\n') != NULL) {
            p->port = atoi(at + strlen("listening on http://127.0.0.1:"));
            return p->port > 0 ? 0 : -1;
        }
    }
    buf[len] = '\0';
    fprintf(stderr, "hearth-server did not come up; it said:\n%s\n", buf);
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    close(p->out_fd);
    return -1;
}

int ta_proc_stop(ta_proc_t *p, int sig)
{
    uint64_t deadline = now_ms() + 15000;
    int status = -1;
    pid_t w;

    kill(p->pid, sig);
    for (;;) {
        w = waitpid(p->pid, &status, WNOHANG);
        if (w == p->pid)
            break;
        if (now_ms() > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            status = -1;
            break;
        }
        usleep(10000);
    }
    close(p->out_fd);
    return status;
}

int ta_run(char *const argv[], char *out, size_t size)
{
    size_t len = 0;
    int fds[2], status;
    char **env;
    pid_t pid;
    ssize_t r;

    env = clean_env();
    ASSERT_OK(pipe(fds));
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execve(argv[0], argv, env);
        _exit(127);
    }
    free(env);
    close(fds[1]);
    while (len + 1 < size && (r = read(fds[0], out + len, size - len - 1)) > 0)
        len += (size_t)r;
    out[len] = '\0';
    close(fds[0]);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}
