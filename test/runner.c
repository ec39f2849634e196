/* hearth-test: the test runner.
 *
 *   hearth-test                      every test, each in a forked child
 *   hearth-test --filter P[,P...]    only tests whose names start with one of the prefixes
 *                                    (repeat --filter to narrow: a test must match each)
 *   hearth-test -j N                 N children at once (default 1)
 *   hearth-test -v                   also show the output of tests that pass
 *   hearth-test --list               the test names (after --filter), one a line
 *   hearth-test NAME [NAME...]       those tests in this process, no fork: for gdb
 *
 * The list of tests comes from test-list.h, which make generates from the
 * TEST_IMPL(name) lines of test/test-*.c (see test/task.h).
 *
 * Each forked test runs in its own process group with its stdout and stderr in a
 * temporary file. The parent waits for SIGCHLD (blocked, taken with sigtimedwait) or
 * the nearest deadline (HEARTH_TEST_TIMEOUT seconds, default 120); a test past its
 * deadline has its whole group killed, so helper processes it forked die with it.
 * One line per test, in the order they finish:
 *     ok 3 - sched_fairness (12 ms)
 *     ok 4 - io_foo # SKIP no IPv6
 *     not ok 5 - timer_order: test/test-timer.c:40: ASSERT_EQ(a, b): left 1, right 2
 * followed, for a failure, by the tail of the test's output as "# " lines, and at the
 * end exactly one line "N passed, N failed" (", N skipped" appended if any were).
 * The exit status is 0 iff nothing failed. */
#include "task.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <unistd.h>

#define TEST_ENTRY(name) int run_test_##name(void);
#include "test-list.h"
#undef TEST_ENTRY

typedef struct {
    const char *name;
    int (*fn)(void);
} test_entry_t;

static const test_entry_t tests[] = {
#define TEST_ENTRY(name) {#name, run_test_##name},
#include "test-list.h"
#undef TEST_ENTRY
    {NULL, NULL}, /* keeps the array non-empty while there are no tests */
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]) - 1)

/* Written by the child after a skip so the parent can show the reason. */
#define SKIP_MARKER "@@hearth-test skip: "
/* Lines of a failed test's output shown under its result line. */
#define TAIL_LINES 50
/* Bytes read from the end of a test's output to find its reason and tail. */
#define TAIL_BYTES (64 * 1024)

/* One forked test. */
typedef struct {
    const test_entry_t *test;
    pid_t pid;
    int out_fd;         /* the child's stdout and stderr */
    double start;       /* seconds, monotonic */
    double deadline;
    bool timed_out;
} job_t;

static const char *skip_reason;
static bool seed_printed;
static uint64_t seed_value;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- helpers for tests (declared in task.h) ------------------------------------------ */

double test_scale(void)
{
    static double scale = -1.0;
    const char *env;
    char *end;
    double v;

    if (scale >= 0.0)
        return scale;
    scale = 1.0;
    env = getenv("HEARTH_TEST_SCALE");
    if (env != NULL && *env != '\0') {
        v = strtod(env, &end);
        if (*end == '\0' && v > 0.0)
            scale = v;
        else
            fprintf(stderr, "hearth-test: ignoring HEARTH_TEST_SCALE=%s (want a number > 0)\n",
                    env);
    }
    return scale;
}

size_t test_scaled(size_t n)
{
    double v = (double)n * test_scale();

    return v < 1.0 ? 1 : (size_t)v;
}

uint64_t test_seed(void)
{
    const char *env;
    struct timespec ts;

    if (seed_printed)
        return seed_value;
    env = getenv("HEARTH_TEST_SEED");
    if (env != NULL && *env != '\0') {
        seed_value = strtoull(env, NULL, 0);
    } else {
        clock_gettime(CLOCK_REALTIME, &ts);
        seed_value = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
                     (uint64_t)getpid() << 32;
    }
    seed_printed = true;
    fprintf(stderr, "seed %llu (HEARTH_TEST_SEED=%llu repeats this run)\n",
            (unsigned long long)seed_value, (unsigned long long)seed_value);
    return seed_value;
}

int test__skip(const char *reason)
{
    skip_reason = reason != NULL ? reason : "";
    return TEST_SKIP_CODE;
}

/* Flushes stdout first: the child's stdout is a file, and abort() would lose what
 * is still buffered. */
void test__fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "%s:%d: assertion failed: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

/* Formats v, adding hex when it does not fit in 32 bits (pids, refs, pointers). */
static const char *fmt_value(char *buf, size_t n, long long v)
{
    if (v > 0xffffffffLL || v < -0xffffffffLL)
        snprintf(buf, n, "%lld (0x%llx)", v, (unsigned long long)v);
    else
        snprintf(buf, n, "%lld", v);
    return buf;
}

void test__fail_cmp(const char *file, int line, const char *what, long long a, long long b)
{
    char ba[64], bb[64];

    test__fail(file, line, "%s: left %s, right %s", what, fmt_value(ba, sizeof(ba), a),
               fmt_value(bb, sizeof(bb), b));
}

void test__fail_ok(const char *file, int line, const char *what, long long v)
{
    char bv[64];

    if (v < 0 && v > -4096)
        test__fail(file, line, "%s: returned %lld (%s)", what, v, strerror((int)-v));
    test__fail(file, line, "%s: returned %s, not 0", what, fmt_value(bv, sizeof(bv), v));
}

/* ---- selection ----------------------------------------------------------------------- */

#define MAX_FILTERS 16

static const char *filters[MAX_FILTERS];
static int nfilters;

/* True if name starts with one of the comma-separated prefixes in list. */
static bool match_prefixes(const char *name, const char *list)
{
    const char *p = list;
    size_t len;

    while (*p != '\0') {
        len = strcspn(p, ",");
        if (len > 0 && strncmp(name, p, len) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

static bool selected(const char *name)
{
    int i;

    for (i = 0; i < nfilters; i++)
        if (!match_prefixes(name, filters[i]))
            return false;
    return true;
}

static const test_entry_t *find_test(const char *name)
{
    size_t i;

    for (i = 0; i < NTESTS; i++)
        if (strcmp(tests[i].name, name) == 0)
            return &tests[i];
    return NULL;
}

/* ---- results ---------------------------------------------------------------------------- */

static int npassed, nfailed, nskipped, nreported;
static bool verbose;

static const char *signal_name(int sig, char *buf, size_t n)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    const char *abbrev = sigabbrev_np(sig);

    if (abbrev != NULL) {
        snprintf(buf, n, "SIG%s (%s)", abbrev, strsignal(sig));
        return buf;
    }
#endif
    snprintf(buf, n, "signal %d (%s)", sig, strsignal(sig));
    return buf;
}

/* The last TAIL_BYTES of a test's output, NUL-terminated, in a malloc'd buffer. */
static char *read_tail(int fd)
{
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from;
    ssize_t got, total = 0;
    char *buf;

    if (size < 0)
        size = 0;
    from = size > TAIL_BYTES ? size - TAIL_BYTES : 0;
    buf = malloc((size_t)(size - from) + 1);
    if (buf == NULL)
        return NULL;
    while (total < size - from) {
        got = pread(fd, buf + total, (size_t)(size - from - total), from + total);
        if (got <= 0)
            break;
        total += got;
    }
    buf[total] = '\0';
    /* A NUL in the output would cut the text short: show it as a dot. */
    for (ssize_t i = 0; i < total; i++)
        if (buf[i] == '\0')
            buf[i] = '.';
    return buf;
}

/* Copies into out the first line of text that contains needle (whole line). */
static bool find_line(const char *text, const char *needle, char *out, size_t n)
{
    const char *hit = strstr(text, needle);
    const char *start, *end;

    if (hit == NULL)
        return false;
    start = hit;
    while (start > text && start[-1] != '\n')
        start--;
    end = strchr(hit, '\n');
    if (end == NULL)
        end = hit + strlen(hit);
    snprintf(out, n, "%.*s", (int)(end - start), start);
    return true;
}

/* The line of a failed test's output that best says why, most specific first: an
 * ASSERT_* (file:line and the values), the runtime's own HEARTH_ASSERT or
 * out-of-memory message, a sanitizer's one-line summary, an UndefinedBehaviorSanitizer
 * report without one. */
static bool find_reason(const char *text, char *out, size_t n)
{
    static const char *const needles[] = {
        ": assertion failed: ", "hearth: ", "SUMMARY: ", ": runtime error: ",
    };

    for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
        if (find_line(text, needles[i], out, n))
            return true;
    return false;
}

/* Prints text as "#   " lines: all of it, or its last TAIL_LINES lines. */
static void print_output(const char *text, bool all)
{
    const char *end = text + strlen(text);
    const char *p;
    int lines = 0;

    while (end > text && end[-1] == '\n')
        end--;
    p = all ? text : end;
    while (p > text) {
        if (p[-1] == '\n' && ++lines == TAIL_LINES)
            break;
        p--;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

        if (strncmp(p, SKIP_MARKER, strlen(SKIP_MARKER)) != 0)
            printf("#   %.*s\n", (int)len, p);
        p += len + 1;
    }
}

/* Reports one finished forked test from its wait status and its output. */
static void report(const job_t *job, int status)
{
    char reason[1024], sig[96], skip[512];
    double ms = (now_s() - job->start) * 1000.0;
    char *out = read_tail(job->out_fd);
    const char *text = out != NULL ? out : "";
    bool ok = false, skipped = false;

    reason[0] = '\0';
    nreported++;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        ok = true;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_SKIP_CODE &&
               find_line(text, SKIP_MARKER, skip, sizeof(skip))) {
        skipped = true;
    } else if (job->timed_out) {
        snprintf(reason, sizeof(reason), "timed out after %g s",
                 job->deadline - job->start);
    } else if (find_reason(text, reason, sizeof(reason))) {
        /* a line of the output says why */
    } else if (WIFSIGNALED(status)) {
        snprintf(reason, sizeof(reason), "killed by %s",
                 signal_name(WTERMSIG(status), sig, sizeof(sig)));
    } else if (WIFEXITED(status)) {
        snprintf(reason, sizeof(reason), "exit status %d", WEXITSTATUS(status));
    } else {
        snprintf(reason, sizeof(reason), "wait status 0x%x", status);
    }

    if (ok) {
        npassed++;
        printf("ok %d - %s (%.0f ms)\n", nreported, job->test->name, ms);
        if (verbose)
            print_output(text, true);
    } else if (skipped) {
        nskipped++;
        printf("ok %d - %s # SKIP %s\n", nreported, job->test->name,
               skip + strlen(SKIP_MARKER));
        if (verbose)
            print_output(text, true);
    } else {
        nfailed++;
        printf("not ok %d - %s: %s (%.0f ms)\n", nreported, job->test->name, reason, ms);
        print_output(text, verbose);
    }
    fflush(stdout);
    free(out);
}

/* ---- forking ------------------------------------------------------------------------------ */

static sigset_t parent_mask; /* the mask before we blocked SIGCHLD and friends */

static void sigchld_cb(int sig)
{
    (void)sig; /* only there so SIGCHLD is never discarded; sigtimedwait takes it */
}

/* In the child: own process group, output to the job's file, run, exit. exit() and
 * not _exit(), so LeakSanitizer's and other atexit checks run. */
__attribute__((noreturn)) static void run_child(const job_t *job)
{
    int devnull;
    int rc;

    setpgid(0, 0);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigprocmask(SIG_SETMASK, &parent_mask, NULL);
    devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    dup2(job->out_fd, STDOUT_FILENO);
    dup2(job->out_fd, STDERR_FILENO);
    close(job->out_fd);
    setvbuf(stdout, NULL, _IONBF, 0);

    rc = job->test->fn();
    if (rc == TEST_SKIP_CODE)
        printf("\n" SKIP_MARKER "%s\n", skip_reason != NULL ? skip_reason : "");
    else if (rc != 0)
        fprintf(stderr, "test returned %d\n", rc);
    fflush(NULL);
    exit(rc == 0 || rc == TEST_SKIP_CODE ? rc : 1);
}

static int start_job(job_t *job, const test_entry_t *test, double timeout)
{
    char path[] = "/tmp/hearth-test-XXXXXX";

    job->test = test;
    job->timed_out = false;
    job->out_fd = mkstemp(path);
    if (job->out_fd < 0) {
        perror("hearth-test: mkstemp");
        return -1;
    }
    unlink(path);
    fflush(stdout);
    fflush(stderr);
    job->start = now_s();
    job->deadline = job->start + timeout;
    job->pid = fork();
    if (job->pid < 0) {
        perror("hearth-test: fork");
        close(job->out_fd);
        return -1;
    }
    if (job->pid == 0)
        run_child(job);
    /* Also here, so a kill(-pid) right away cannot miss the group. */
    setpgid(job->pid, job->pid);
    return 0;
}

static double timeout_from_env(void)
{
    const char *env = getenv("HEARTH_TEST_TIMEOUT");
    char *end;
    double v;

    if (env == NULL || *env == '\0')
        return 120.0;
    v = strtod(env, &end);
    if (*end != '\0' || v <= 0.0) {
        fprintf(stderr, "hearth-test: ignoring HEARTH_TEST_TIMEOUT=%s (want seconds > 0)\n",
                env);
        return 120.0;
    }
    return v;
}

/* Runs the selected tests, at most jobs at once. Returns the process exit status. */
static int run_forked(const test_entry_t **list, size_t n, int jobs)
{
    double timeout = timeout_from_env();
    job_t *running = calloc((size_t)jobs, sizeof(*running));
    size_t next = 0;
    int nrunning = 0;
    sigset_t waitset;
    struct sigaction sa;

    if (running == NULL) {
        perror("hearth-test");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sigchld_cb;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&waitset);
    sigaddset(&waitset, SIGCHLD);
    sigaddset(&waitset, SIGINT);
    sigaddset(&waitset, SIGTERM);
    sigaddset(&waitset, SIGHUP);
    sigprocmask(SIG_BLOCK, &waitset, &parent_mask);
#ifdef PR_SET_CHILD_SUBREAPER
    /* Processes a test forks and leaves behind become ours when the test exits, so
     * the waitpid below reaps them instead of leaving zombies under a pid 1 that may
     * not. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif

    printf("# hearth-test: %zu test%s, -j %d, timeout %g s, scale %g\n", n,
           n == 1 ? "" : "s", jobs, timeout, test_scale());
    while (next < n || nrunning > 0) {
        while (nrunning < jobs && next < n) {
            if (start_job(&running[nrunning], list[next], timeout) == 0) {
                nrunning++;
            } else {
                nreported++;
                nfailed++;
                printf("not ok %d - %s: could not start\n", nreported, list[next]->name);
            }
            next++;
        }
        if (nrunning == 0)
            continue;

        /* Sleep until a child exits, a signal asks us to stop, or a deadline passes.
         * A test already killed for its timeout only has its SIGCHLD to come. */
        double now = now_s(), wake = now + 1.0;
        for (int i = 0; i < nrunning; i++)
            if (!running[i].timed_out && running[i].deadline < wake)
                wake = running[i].deadline;
        double wait = wake - now;
        if (wait < 0.0)
            wait = 0.0;
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        int sig = sigtimedwait(&waitset, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            for (int i = 0; i < nrunning; i++) {
                kill(-running[i].pid, SIGKILL);
                waitpid(running[i].pid, NULL, 0);
            }
            /* Reap what those tests forked (reparented to us) while it dies; give up
             * after 200 ms on anything that left its group. */
            for (int k = 0; k < 20 && waitpid(-1, NULL, WNOHANG) >= 0; k++)
                usleep(10000);
            printf("# interrupted by %s\n", strsignal(sig));
            nfailed += nrunning;
            free(running);
            return 128 + sig;
        }

        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (int i = 0; i < nrunning; i++) {
                if (running[i].pid != pid)
                    continue;
                /* Anything the test left behind in its group goes too. */
                kill(-pid, SIGKILL);
                report(&running[i], status);
                close(running[i].out_fd);
                running[i] = running[--nrunning];
                break;
            }
        }

        now = now_s();
        for (int i = 0; i < nrunning; i++) {
            if (!running[i].timed_out && now >= running[i].deadline) {
                running[i].timed_out = true;
                kill(-running[i].pid, SIGKILL);
            }
        }
    }
    free(running);
    return nfailed > 0 ? 1 : 0;
}

/* Runs tests in this process, no fork and no timeout: for a debugger. A failed
 * assertion aborts right there. */
static int run_inline(const test_entry_t **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double start = now_s();
        int rc;

        skip_reason = NULL;
        rc = list[i]->fn();
        nreported++;
        if (rc == 0) {
            npassed++;
            printf("ok %d - %s (%.0f ms)\n", nreported, list[i]->name,
                   (now_s() - start) * 1000.0);
        } else if (rc == TEST_SKIP_CODE) {
            nskipped++;
            printf("ok %d - %s # SKIP %s\n", nreported, list[i]->name,
                   skip_reason != NULL ? skip_reason : "");
        } else {
            nfailed++;
            printf("not ok %d - %s: test returned %d\n", nreported, list[i]->name, rc);
        }
        fflush(stdout);
    }
    return nfailed > 0 ? 1 : 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hearth-test [--filter PREFIX[,PREFIX...]]... [-j N] [-v]\n"
               "       hearth-test --list [--filter ...]\n"
               "       hearth-test NAME...   (in this process, no fork: for gdb)\n"
               "env: HEARTH_TEST_TIMEOUT (seconds, default 120), HEARTH_TEST_SCALE (default 1),\n"
               "     HEARTH_TEST_SEED (for tests that call test_seed())\n");
}

int main(int argc, char **argv)
{
    const test_entry_t **list;
    bool list_only = false;
    int jobs = 1;
    size_t n = 0;
    int i, rc;
    char *end;

    setvbuf(stdout, NULL, _IOLBF, 0);
    list = calloc(NTESTS + (size_t)argc + 1, sizeof(*list));
    if (list == NULL) {
        perror("hearth-test");
        return 2;
    }

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--list") == 0) {
            list_only = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = true;
        } else if (strcmp(a, "--filter") == 0 || strncmp(a, "--filter=", 9) == 0) {
            val = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (val == NULL || nfilters == MAX_FILTERS) {
                usage(stderr);
                return 2;
            }
            filters[nfilters++] = val;
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0 ||
                   (strncmp(a, "-j", 2) == 0 && a[2] != '\0')) {
            val = a[2] != '\0' && a[1] == 'j' ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            jobs = val != NULL ? (int)strtol(val, &end, 10) : 0;
            if (val == NULL || *end != '\0' || jobs < 1 || jobs > 256) {
                fprintf(stderr, "hearth-test: -j wants a number from 1 to 256\n");
                return 2;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "hearth-test: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            const test_entry_t *t = find_test(a);

            if (t == NULL) {
                fprintf(stderr, "hearth-test: no test named %s (see --list)\n", a);
                return 2;
            }
            list[n++] = t;
        }
    }

    if (n > 0 && !list_only) {
        rc = run_inline(list, n);
    } else {
        n = 0;
        for (size_t t = 0; t < NTESTS; t++)
            if (selected(tests[t].name))
                list[n++] = &tests[t];
        if (list_only) {
            for (size_t t = 0; t < n; t++)
                printf("%s\n", list[t]->name);
            free(list);
            return 0;
        }
        if (n == 0 && nfilters > 0)
            printf("# no test matches the filter\n");
        rc = run_forked(list, n, jobs);
    }

    printf("%d passed, %d failed", npassed, nfailed);
    if (nskipped > 0)
        printf(", %d skipped", nskipped);
    printf("\n");
    free(list);
    return rc;
}
