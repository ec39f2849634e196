/* bench/gateway/main.c: hearth-bench-gateway, the gateway load tool's parent process.
 *
 *   hearth-bench-gateway --port P --tokens FILE [--conns N] [--server-pid PID]
 *                        [--senders S --rate R --seconds T] [options]
 *
 * It needs a running server and a file of user tokens, one a line, all members of
 * one guild (bench/run-gateway.sh makes both with the admin CLI). Phases:
 *
 *   1. warm-up: one connection IDENTIFYs alone (so the guild's state is loaded),
 *      then the server's RSS is read: the baseline;
 *   2. connect: the other N-1 connections open from forked workers (each under
 *      ~15,000 fds, spread over source addresses 127.0.0.2 and up), at most
 *      --inflight per worker opening at once; when all are READY and have their
 *      GUILD_CREATE, and after --settle seconds, the RSS again. Prints
 *      connections per second and server bytes per connection;
 *   3. load (if --rate > 0): the sender process posts R messages/s for T seconds on
 *      S connections; the workers timestamp every MESSAGE_CREATE; when every
 *      message has reached every connection (or --drain seconds passed) the
 *      server's CPU time is read again. Prints deliveries per second, server CPU per
 *      delivery, send-to-deliver latency p50/p99/max and per message the time
 *      until all connections had it.
 *
 * Result lines go to stdout, one per phase:
 *
 *   bench=gateway scenario=idle conns=15000 ready=15000 failed=0 connect_s=...
 *       conns_per_sec=... server_rss_base_kb=... server_rss_kb=... server_bytes_per_conn=...
 *   bench=gateway scenario=load conns=1000 senders=4 rate=20 seconds=10 sent=200 ...
 *       deliveries_per_sec=... server_cpu_us_per_delivery=... p50_ms=... p99_ms=...
 *       max_ms=... all_delivered_p50_ms=... all_delivered_max_ms=...
 *
 * Progress and errors go to stderr. Every wait has a deadline and children exit
 * when the parent's pipe closes, so a run always ends. The server's CPU time is the
 * sum of its threads' on-CPU nanoseconds (/proc/PID/task/TID/schedstat), falling
 * back to utime+stime ticks; its memory is VmRSS of /proc/PID/status. */
#include "bench.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define PER_WORKER_MAX 15000
#define NS 1000000000.0

typedef struct {
    pid_t pid;
    int cmd, res;
    wstat_t st;
    bool done;
} child_t;

static conf_t conf = {
    .path = "/gateway?v=10&encoding=json",
    .sources = 4,
    .inflight = 128,
    .intents = (1 << 0) | (1 << 9) | (1 << 15), /* GUILDS, GUILD_MESSAGES, MESSAGE_CONTENT */
    .retries = 3,
    .senders = 4,
    .rate = 0,
    .seconds = 10,
    .sender_tokens = 100,
    .content_pad = 32,
    .kernel_stamps = true,
};

static struct {
    size_t conns, workers;
    pid_t server;
    uint64_t guild;
    double settle, connect_timeout, drain;
    const char *label_connect, *label_load, *tokens_file;
} opt = {.settle = 2, .connect_timeout = 180, .drain = 10};

static child_t *kids;
static size_t nkids;

static void usage(FILE *f)
{
    fprintf(f, "usage: hearth-bench-gateway --port P --tokens FILE [options]\n"
               "\n"
               "  --host ADDR            the server's IPv4 address (127.0.0.1)\n"
               "  --port P               the server's port (required)\n"
               "  --tokens FILE          user tokens, one a line, members of one guild (required)\n"
               "  --conns N              gateway connections to open (all tokens)\n"
               "  --server-pid PID       the server process, for its RSS and CPU time\n"
               "  --guild ID             the guild (else the first token's first guild)\n"
               "  --channel ID           where to post (else the guild's first text channel)\n"
               "  --senders S            sender connections (4)\n"
               "  --rate R               messages per second in all; 0: connect only (0)\n"
               "  --seconds T            how long to send (10)\n"
               "  --workers W            gateway worker processes (max(2, N/7500))\n"
               "  --sources K            source addresses 127.0.0.2 .. 127.0.0.(K+1) (4)\n"
               "  --inflight I           per worker, connections opening at once (128)\n"
               "  --intents X            IDENTIFY intents (33281: GUILDS|GUILD_MESSAGES|\n"
               "                         MESSAGE_CONTENT)\n"
               "  --pad B                message content bytes after the timestamp (32)\n"
               "  --settle S             seconds to wait before reading RSS (2)\n"
               "  --connect-timeout S    give up connecting after S seconds (180)\n"
               "  --drain S              wait S seconds for deliveries after the last send (10)\n"
               "  --label-connect NAME   scenario name of the connect line (connect)\n"
               "  --label-load NAME      scenario name of the load line (load)\n"
               "  --path TARGET          gateway request target (/gateway?v=10&encoding=json)\n"
               "  --read-stamps          latency to when a worker read a frame, not to the\n"
               "                         kernel's receive stamp (SO_TIMESTAMPNS)\n");
}

static double num(const char *s, const char *name, double min, double max)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end != '\0' || !(v >= min && v <= max))
        die("--%s: want a number from %g to %g, got '%s'", name, min, max, s);
    return v;
}

static void parse_args(int argc, char **argv)
{
    static const struct option longs[] = {{"host", 1, 0, 'h'},
                                          {"port", 1, 0, 'p'},
                                          {"tokens", 1, 0, 't'},
                                          {"conns", 1, 0, 'n'},
                                          {"server-pid", 1, 0, 'P'},
                                          {"guild", 1, 0, 'g'},
                                          {"channel", 1, 0, 'c'},
                                          {"senders", 1, 0, 's'},
                                          {"rate", 1, 0, 'r'},
                                          {"seconds", 1, 0, 'T'},
                                          {"workers", 1, 0, 'w'},
                                          {"sources", 1, 0, 'k'},
                                          {"inflight", 1, 0, 'i'},
                                          {"intents", 1, 0, 'I'},
                                          {"pad", 1, 0, 'b'},
                                          {"settle", 1, 0, 'S'},
                                          {"connect-timeout", 1, 0, 'C'},
                                          {"drain", 1, 0, 'D'},
                                          {"label-connect", 1, 0, 'L'},
                                          {"label-load", 1, 0, 'M'},
                                          {"path", 1, 0, 'x'},
                                          {"read-stamps", 0, 0, 'R'},
                                          {"help", 0, 0, '?'},
                                          {0, 0, 0, 0}};
    int ch;

    conf.host.s_addr = htonl(0x7f000001u);
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'h':
            if (inet_aton(optarg, &conf.host) == 0)
                die("--host: not an IPv4 address: %s", optarg);
            break;
        case 'p':
            conf.port = (int)num(optarg, "port", 1, 65535);
            break;
        case 't':
            opt.tokens_file = optarg;
            break;
        case 'n':
            opt.conns = (size_t)num(optarg, "conns", 1, 1e6);
            break;
        case 'P':
            opt.server = (pid_t)num(optarg, "server-pid", 1, 1e9);
            break;
        case 'g':
            opt.guild = strtoull(optarg, NULL, 10);
            break;
        case 'c':
            conf.channel_id = strtoull(optarg, NULL, 10);
            break;
        case 's':
            conf.senders = (int)num(optarg, "senders", 1, 256);
            break;
        case 'r':
            conf.rate = num(optarg, "rate", 0, 1e6);
            break;
        case 'T':
            conf.seconds = num(optarg, "seconds", 0.001, 3600);
            break;
        case 'w':
            opt.workers = (size_t)num(optarg, "workers", 1, 64);
            break;
        case 'k':
            conf.sources = (int)num(optarg, "sources", 1, 250);
            break;
        case 'i':
            conf.inflight = (int)num(optarg, "inflight", 1, 15000);
            break;
        case 'I':
            conf.intents = (int)num(optarg, "intents", 0, 1 << 30);
            break;
        case 'b':
            conf.content_pad = (int)num(optarg, "pad", 0, 1900);
            break;
        case 'S':
            opt.settle = num(optarg, "settle", 0, 600);
            break;
        case 'C':
            opt.connect_timeout = num(optarg, "connect-timeout", 1, 3600);
            break;
        case 'D':
            opt.drain = num(optarg, "drain", 0, 600);
            break;
        case 'L':
            opt.label_connect = optarg;
            break;
        case 'M':
            opt.label_load = optarg;
            break;
        case 'x':
            conf.path = optarg;
            break;
        case 'R':
            conf.kernel_stamps = false;
            break;
        case '?':
        default:
            usage(ch == '?' && optopt == 0 ? stdout : stderr);
            exit(ch == '?' && optopt == 0 ? 0 : 2);
        }
    }
    if (optind < argc || conf.port == 0 || opt.tokens_file == NULL) {
        usage(stderr);
        exit(2);
    }
}

/* Reads the tokens file into conf.tokens. */
static void read_tokens(void)
{
    FILE *f = fopen(opt.tokens_file, "r");
    char line[512];
    size_t cap = 1024;

    if (f == NULL)
        die("%s: %s", opt.tokens_file, strerror(errno));
    conf.tokens = xmalloc(cap * sizeof(char *));
    while (fgets(line, sizeof(line), f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (n == 0)
            continue;
        for (size_t i = 0; i < n; i++)
            if (line[i] <= ' ' || line[i] == '"' || line[i] == '\\' || (unsigned char)line[i] > 126)
                die("%s: line %zu: not a token", opt.tokens_file, conf.ntokens + 1);
        if (conf.ntokens == cap)
            conf.tokens = xrealloc(conf.tokens, (cap *= 2) * sizeof(char *));
        conf.tokens[conf.ntokens++] = strdup(line);
    }
    fclose(f);
    if (conf.ntokens == 0)
        die("%s: no tokens", opt.tokens_file);
}

/* ---- the server's /proc ------------------------------------------------------------------ */

static long server_rss_kb(void)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    if (opt.server == 0)
        return -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)opt.server);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* On-CPU nanoseconds of process pid: its threads' schedstat, else utime+stime. */
static uint64_t cpu_ns(pid_t pid)
{
    char path[320], buf[1024];
    uint64_t sum = 0;
    bool any = false;
    DIR *d;
    struct dirent *e;
    FILE *f;

    if (pid == 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    if ((d = opendir(path)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            unsigned long long ns;
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
            if ((f = fopen(path, "r")) == NULL)
                continue;
            if (fscanf(f, "%llu", &ns) == 1) {
                sum += ns;
                any = true;
            }
            fclose(f);
        }
        closedir(d);
    }
    if (any)
        return sum;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) != NULL) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        char *p;
        unsigned long long ut, st;
        buf[n] = '\0';
        fclose(f);
        p = strrchr(buf, ')');
        if (p &&
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
            return (ut + st) * (uint64_t)(1e9 / (double)sysconf(_SC_CLK_TCK));
    }
    return 0;
}

/* ---- children ------------------------------------------------------------------------------ */

static void kill_kids(void)
{
    for (size_t i = 0; i < nkids; i++)
        if (kids[i].pid > 0)
            kill(kids[i].pid, SIGKILL);
}

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "hearth-bench-gateway: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    kill_kids();
    exit(1);
}

static void command(child_t *k, char cmd)
{
    if (write_all(k->cmd, &cmd, 1) != 0)
        fail("a child process is gone (pid %d)", (int)k->pid);
}

/* Waits until k has a reply (or the deadline passes: false). */
static bool wait_readable(child_t *k, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_ns();
        struct pollfd p = {.fd = k->res, .events = POLLIN};
        int r;

        if (now >= deadline)
            return false;
        r = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

/* Reads k's replies until one of type want; MSG_STATUS replies on the way refresh
 * k->st. Returns want's payload (free it), or fails the run at the deadline. */
static void *expect(child_t *k, uint32_t want, uint64_t deadline, const char *what)
{
    for (;;) {
        msg_hdr_t h;
        void *p;

        if (!wait_readable(k, deadline))
            fail("timed out waiting for %s", what);
        if (msg_recv(k->res, &h, &p) != 0)
            fail("a child process died while %s", what);
        if ((h.type == MSG_STATUS || h.type == MSG_WARM || h.type == MSG_CONNECTED) &&
            h.len == sizeof(wstat_t))
            k->st = *(wstat_t *)p;
        if (h.type == want)
            return p;
        free(p);
    }
}

static pid_t spawn(child_t *k, int id, size_t first, size_t count, bool sender)
{
    int down[2], up[2];

    if (pipe(down) != 0 || pipe(up) != 0)
        fail("pipe: %s", strerror(errno));
    fflush(NULL);
    k->pid = fork();
    if (k->pid < 0)
        fail("fork: %s", strerror(errno));
    if (k->pid == 0) {
        close(down[1]);
        close(up[0]);
        /* Earlier children's pipe ends are inherited: close them, so each child sees
         * end of file when the parent goes. */
        for (size_t i = 0; i < nkids; i++)
            if (&kids[i] != k && kids[i].pid > 0) {
                close(kids[i].cmd);
                close(kids[i].res);
            }
        if (sender)
            sender_main(&conf, down[0], up[1]);
        worker_main(&conf, id, first, count, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    k->cmd = down[1];
    k->res = up[0];
    return k->pid;
}

static wstat_t total(void)
{
    wstat_t t = {0};

    for (size_t i = 0; i < nkids; i++) {
        const wstat_t *s = &kids[i].st;
        t.conns += s->conns;
        t.ready += s->ready;
        t.guild_creates += s->guild_creates;
        t.failed += s->failed;
        t.retries += s->retries;
        t.dropped += s->dropped;
        t.deliveries += s->deliveries;
        t.foreign += s->foreign;
        t.heartbeats += s->heartbeats;
        t.acks += s->acks;
        if (s->last_ready_ns > t.last_ready_ns)
            t.last_ready_ns = s->last_ready_ns;
        if (s->last_delivery_ns > t.last_delivery_ns)
            t.last_delivery_ns = s->last_delivery_ns;
        if (s->last_close_code)
            t.last_close_code = s->last_close_code;
        t.kernel_stamps += s->kernel_stamps;
    }
    return t;
}

/* Asks every worker for its status. */
static wstat_t poll_status(uint64_t deadline)
{
    for (size_t i = 0; i < nkids; i++)
        command(&kids[i], CMD_STATUS);
    for (size_t i = 0; i < nkids; i++)
        free(expect(&kids[i], MSG_STATUS, deadline, "a worker's status"));
    return total();
}

/* ---- the channel ---------------------------------------------------------------------------- */

static uint64_t find_channel(void)
{
    struct sockaddr_in dst = {
        .sin_family = AF_INET, .sin_addr = conf.host, .sin_port = htons((uint16_t)conf.port)};
    char target[128], *body;
    int status;
    json_iter_t it;
    span_t item, v;
    uint64_t guild = opt.guild, id, type;

    if (guild == 0) {
        if (http_simple(&dst, "GET", "/api/v10/users/@me/guilds", conf.tokens[0], NULL, &status,
                        &body) != 0)
            fail("cannot list the first user's guilds");
        if (status != 200 || json_arr_begin(&it, (span_t){body, strlen(body)}) != 0 ||
            json_arr_next(&it, &item) != 1 || json_get(item, "id", &v) != 0 ||
            json_u64(v, &guild) != 0)
            fail("GET /users/@me/guilds: HTTP %d, no guild in: %.200s", status, body);
        free(body);
    }
    snprintf(target, sizeof(target), "/api/v10/guilds/%llu/channels", (unsigned long long)guild);
    if (http_simple(&dst, "GET", target, conf.tokens[0], NULL, &status, &body) != 0)
        fail("cannot list the guild's channels");
    if (status != 200 || json_arr_begin(&it, (span_t){body, strlen(body)}) != 0)
        fail("GET %s: HTTP %d: %.200s", target, status, body);
    while (json_arr_next(&it, &item) == 1)
        if (json_get(item, "type", &v) == 0 && json_u64(v, &type) == 0 && type == 0 &&
            json_get(item, "id", &v) == 0 && json_u64(v, &id) == 0) {
            free(body);
            return id;
        }
    fail("GET %s: no text channel in: %.200s", target, body);
}

/* ---- phases ------------------------------------------------------------------------------------
 */

static int cmp_rows(const void *a, const void *b)
{
    const msgrow_t *x = a, *y = b;
    return x->sent_ns < y->sent_ns ? -1 : x->sent_ns > y->sent_ns;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static void load_phase(uint64_t ready_conns, double idle_cpu)
{
    child_t snd = {0};
    hist_t h, hr;
    sstat_t *ss;
    hist_t *rest;
    msgrow_t *rows = NULL;
    size_t nrows = 0;
    uint64_t cpu0, cpu1, tool0 = 0, tool1 = 0, expected, deadline, *alls, complete = 0, t_go, t_end;
    wstat_t t;

    spawn(&snd, 0, 0, 0, true);
    free(expect(&snd, MSG_SENDER_READY, now_ns() + 15 * (uint64_t)NS, "the sender to connect"));
    for (size_t i = 0; i < nkids; i++)
        command(&kids[i], CMD_RESET);
    for (size_t i = 0; i < nkids; i++)
        free(expect(&kids[i], MSG_STATUS, now_ns() + 10 * (uint64_t)NS, "a worker's reset"));
    for (size_t i = 0; i < nkids; i++)
        tool0 += cpu_ns(kids[i].pid);
    tool0 += cpu_ns(snd.pid);
    cpu0 = cpu_ns(opt.server);
    t_go = now_ns();
    fprintf(stderr,
            "load: %g messages/s for %g s from %d sender connections to %llu "
            "connections (channel %llu)\n",
            conf.rate, conf.seconds, conf.senders, (unsigned long long)ready_conns,
            (unsigned long long)conf.channel_id);
    command(&snd, CMD_GO);
    ss = expect(&snd, MSG_SENDER, now_ns() + (uint64_t)((conf.seconds + 30) * NS), "the sender");
    rest = expect(&snd, MSG_HIST, now_ns() + 5 * (uint64_t)NS, "the sender's histogram");
    tool1 += cpu_ns(snd.pid);
    waitpid(snd.pid, NULL, 0);
    close(snd.cmd);
    close(snd.res);

    /* Wait until every message reached every connection, or the drain time ran out. */
    expected = ss->ok * ready_conns;
    deadline = now_ns() + (uint64_t)(opt.drain * NS);
    for (;;) {
        t = poll_status(now_ns() + 10 * (uint64_t)NS);
        if (t.deliveries >= expected || now_ns() >= deadline)
            break;
        sleep_ns(5000000);
    }
    cpu1 = cpu_ns(opt.server);
    t_end = now_ns();
    for (size_t i = 0; i < nkids; i++)
        tool1 += cpu_ns(kids[i].pid);

    hist_init(&h);
    hist_init(&hr);
    for (size_t i = 0; i < nkids; i++) {
        msg_hdr_t hd;
        void *p;
        command(&kids[i], CMD_REPORT);
        free(expect(&kids[i], MSG_STATUS, now_ns() + 10 * (uint64_t)NS, "a report"));
        p = expect(&kids[i], MSG_HIST, now_ns() + 10 * (uint64_t)NS, "a histogram");
        hist_merge(&h, p);
        free(p);
        p = expect(&kids[i], MSG_HIST, now_ns() + 10 * (uint64_t)NS, "a histogram");
        hist_merge(&hr, p);
        free(p);
        if (!wait_readable(&kids[i], now_ns() + 10 * (uint64_t)NS) ||
            msg_recv(kids[i].res, &hd, &p) != 0 || hd.type != MSG_TABLE)
            fail("no message table from worker %zu", i);
        rows = xrealloc(rows, (nrows + hd.len / sizeof(msgrow_t) + 1) * sizeof(*rows));
        if (hd.len)
            memcpy(rows + nrows, p, hd.len);
        nrows += hd.len / sizeof(msgrow_t);
        free(p);
    }
    t = total();

    /* One row per message: add the workers' counts, keep the latest delivery. */
    qsort(rows, nrows, sizeof(*rows), cmp_rows);
    size_t m = 0;
    for (size_t i = 0; i < nrows; i++) {
        if (m > 0 && rows[m - 1].sent_ns == rows[i].sent_ns) {
            rows[m - 1].count += rows[i].count;
            if (rows[i].max_ns > rows[m - 1].max_ns)
                rows[m - 1].max_ns = rows[i].max_ns;
        } else {
            rows[m++] = rows[i];
        }
    }
    /* A few messages (the broadcast): each one's time until all had it, on stderr. */
    if (m <= 20)
        for (size_t i = 0; i < m; i++)
            fprintf(stderr, "load: message %zu reached %llu connections, the last after %.3f ms\n",
                    i + 1, (unsigned long long)rows[i].count, ms(rows[i].max_ns));
    alls = xmalloc((m + 1) * sizeof(*alls));
    for (size_t i = 0; i < m; i++) {
        alls[i] = rows[i].max_ns;
        complete += rows[i].count >= ready_conns;
    }
    qsort(alls, m, sizeof(*alls), cmp_u64);

    double span_s = t.last_delivery_ns > ss->first_send_ns
                        ? (double)(t.last_delivery_ns - ss->first_send_ns) / NS
                        : 0;
    printf("bench=gateway scenario=%s conns=%llu senders=%d rate=%g seconds=%g planned=%llu "
           "sent=%llu ok=%llu send_errors=%llu rate_limited=%llu deliveries=%llu expected=%llu "
           "deliveries_per_sec=%.0f",
           opt.label_load ? opt.label_load : "load", (unsigned long long)ready_conns, conf.senders,
           conf.rate, conf.seconds, (unsigned long long)ss->planned, (unsigned long long)ss->sent,
           (unsigned long long)ss->ok, (unsigned long long)ss->errors,
           (unsigned long long)ss->rate_limited, (unsigned long long)t.deliveries,
           (unsigned long long)expected, span_s > 0 ? (double)t.deliveries / span_s : 0);
    if (opt.server && t.deliveries > 0) {
        double cpu = (double)(cpu1 - cpu0), busy = cpu - idle_cpu * (double)(t_end - t_go);
        printf(" server_cpu_us_per_delivery=%.3f server_cpu_s=%.3f"
               " server_cpu_us_per_delivery_less_idle=%.3f",
               cpu / 1e3 / (double)t.deliveries, cpu / NS,
               (busy > 0 ? busy : 0) / 1e3 / (double)t.deliveries);
    }
    printf(" stamps=%s p50_ms=%.3f p99_ms=%.3f max_ms=%.3f msgs_complete=%llu/%zu "
           "all_delivered_p50_ms=%.3f all_delivered_max_ms=%.3f read_p50_ms=%.3f "
           "read_p99_ms=%.3f read_max_ms=%.3f rest_p50_ms=%.3f rest_p99_ms=%.3f "
           "send_lag_max_ms=%.3f dropped=%llu tool_cpu_s=%.3f\n",
           t.kernel_stamps == t.deliveries ? "kernel"
           : t.kernel_stamps               ? "mixed"
                                           : "read",
           ms(hist_quantile(&h, 0.50)), ms(hist_quantile(&h, 0.99)), ms(h.max),
           (unsigned long long)complete, m, m ? ms(alls[(m - 1) / 2]) : 0, m ? ms(alls[m - 1]) : 0,
           ms(hist_quantile(&hr, 0.50)), ms(hist_quantile(&hr, 0.99)), ms(hr.max),
           ms(hist_quantile(rest, 0.50)), ms(hist_quantile(rest, 0.99)), ms(ss->max_lag_ns),
           (unsigned long long)t.dropped, (double)(tool1 - tool0) / NS);
    fflush(stdout);
    if (t.foreign)
        fprintf(stderr, "load: %llu MESSAGE_CREATE without a bench nonce\n",
                (unsigned long long)t.foreign);
    free(ss);
    free(rest);
    free(rows);
    free(alls);
}

int main(int argc, char **argv)
{
    struct rlimit rl = {.rlim_cur = 20000, .rlim_max = 20000};
    long rss0, rss_base, rss1;
    uint64_t t0, deadline, last_print = 0, idle0, idle_t0;
    double idle_cpu;
    size_t n, per, first = 0;
    wstat_t t;

    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    /* Each worker may use up to the hard limit (20,000 here). */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    read_tokens();
    n = opt.conns ? opt.conns : conf.ntokens;
    if (n > conf.ntokens)
        die("--conns %zu: the tokens file has only %zu tokens", n, conf.ntokens);
    if ((size_t)conf.sender_tokens > conf.ntokens)
        conf.sender_tokens = (int)conf.ntokens;
    if (opt.workers == 0)
        opt.workers = n / 7500 + (n % 7500 != 0);
    if (opt.workers < 2)
        opt.workers = 2;
    if (opt.workers > n)
        opt.workers = n;
    per = (n + opt.workers - 1) / opt.workers;
    if (per > PER_WORKER_MAX || per + 64 > rl.rlim_max)
        die("%zu connections per worker is too many for %llu file descriptors: use more --workers",
            per, (unsigned long long)rl.rlim_max);
    if (conf.rate > 0 && conf.channel_id == 0)
        conf.channel_id = find_channel();

    kids = xcalloc(opt.workers, sizeof(*kids));
    for (size_t i = 0; i < opt.workers; i++) {
        size_t cnt = n - first < per ? n - first : per;
        spawn(&kids[i], (int)i, first, cnt, false);
        nkids++;
        first += cnt;
    }
    fprintf(stderr,
            "connect: %zu connections from %zu workers, sources 127.0.0.2..127.0.0.%d, "
            "to %s:%d%s\n",
            n, opt.workers, conf.sources + 1, inet_ntoa(conf.host), conf.port, conf.path);

    /* 1. warm-up: one connection alone, then the baseline. */
    rss0 = server_rss_kb();
    command(&kids[0], CMD_WARM);
    free(expect(&kids[0], MSG_WARM, now_ns() + 60 * (uint64_t)NS, "the first connection"));
    if (kids[0].st.ready != 1)
        fail("the first connection did not get READY (close code %d): is the server up, the "
             "token valid?",
             (int)kids[0].st.last_close_code);
    deadline = now_ns() + 5 * (uint64_t)NS;
    while (poll_status(deadline).guild_creates < 1 && now_ns() < deadline - 100000000)
        sleep_ns(20000000);
    sleep_ns((uint64_t)(opt.settle / 4 * NS));
    rss_base = server_rss_kb();

    /* 2. connect the rest. */
    t0 = now_ns();
    deadline = t0 + (uint64_t)(opt.connect_timeout * NS);
    for (size_t i = 0; i < nkids; i++)
        command(&kids[i], CMD_CONNECT);
    for (size_t left = nkids; left > 0;) {
        for (size_t i = 0; i < nkids; i++) {
            msg_hdr_t h;
            void *p;
            struct pollfd pf = {.fd = kids[i].res, .events = POLLIN};

            if (kids[i].done || poll(&pf, 1, 0) != 1)
                continue;
            if (msg_recv(kids[i].res, &h, &p) != 0)
                fail("worker %zu died while connecting", i);
            if (h.len == sizeof(wstat_t))
                kids[i].st = *(wstat_t *)p;
            if (h.type == MSG_CONNECTED) {
                kids[i].done = true;
                left--;
            }
            free(p);
        }
        if (now_ns() >= deadline)
            fail("connecting took longer than %g s (%llu ready): see --connect-timeout",
                 opt.connect_timeout, (unsigned long long)total().ready);
        if (now_ns() - last_print >= 2 * (uint64_t)NS) {
            t = total();
            fprintf(stderr, "connect: %llu ready, %llu failed, %llu retries, %.1f s\n",
                    (unsigned long long)t.ready, (unsigned long long)t.failed,
                    (unsigned long long)t.retries, (double)(now_ns() - t0) / NS);
            last_print = now_ns();
        }
        sleep_ns(2000000);
    }
    t = total();
    double connect_s = t.last_ready_ns > t0 ? (double)(t.last_ready_ns - t0) / NS : 0;
    /* Every READY connection should get its GUILD_CREATE; wait for them, then settle. */
    deadline = now_ns() + 15 * (uint64_t)NS;
    for (;;) {
        t = poll_status(deadline);
        if (t.guild_creates >= t.ready || now_ns() >= deadline - 100000000)
            break;
        sleep_ns(20000000);
    }
    if (t.guild_creates < t.ready)
        fprintf(stderr, "connect: only %llu of %llu connections got a GUILD_CREATE\n",
                (unsigned long long)t.guild_creates, (unsigned long long)t.ready);
    /* The server's CPU while the connections only heartbeat: its idle cost. */
    idle0 = cpu_ns(opt.server);
    idle_t0 = now_ns();
    sleep_ns((uint64_t)(opt.settle * NS));
    rss1 = server_rss_kb();
    idle_cpu = (double)(cpu_ns(opt.server) - idle0) / (double)(now_ns() - idle_t0);
    t = poll_status(now_ns() + 10 * (uint64_t)NS);

    printf("bench=gateway scenario=%s conns=%zu ready=%llu failed=%llu retries=%llu "
           "guild_creates=%llu connect_s=%.3f conns_per_sec=%.0f",
           opt.label_connect ? opt.label_connect : "connect", n, (unsigned long long)t.ready,
           (unsigned long long)t.failed, (unsigned long long)t.retries,
           (unsigned long long)t.guild_creates, connect_s,
           connect_s > 0 ? (double)(t.ready - 1) / connect_s : 0);
    if (rss1 >= 0 && t.ready > 1)
        printf(" server_rss_start_kb=%ld server_rss_base_kb=%ld server_rss_kb=%ld "
               "server_bytes_per_conn=%.0f",
               rss0, rss_base, rss1, (double)(rss1 - rss_base) * 1024.0 / (double)(t.ready - 1));
    if (opt.server)
        printf(" server_idle_cpu_pct=%.2f", idle_cpu * 100);
    printf(" workers=%zu sources=%d\n", nkids, conf.sources);
    fflush(stdout);

    /* 3. load. */
    if (conf.rate > 0)
        load_phase(t.ready, idle_cpu);

    for (size_t i = 0; i < nkids; i++)
        command(&kids[i], CMD_QUIT);
    deadline = now_ns() + 10 * (uint64_t)NS;
    for (size_t i = 0; i < nkids; i++) {
        while (waitpid(kids[i].pid, NULL, WNOHANG) == 0) {
            if (now_ns() >= deadline) {
                kill(kids[i].pid, SIGKILL);
                waitpid(kids[i].pid, NULL, 0);
                break;
            }
            sleep_ns(10000000);
        }
    }
    return t.failed > 0 || t.ready == 0;
}
