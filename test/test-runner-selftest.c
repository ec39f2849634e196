/* Tests of the test harness itself (test/task.h, test/runner.c): the assertion macros
 * pass on true conditions, a failing one reports file:line and both values, and the
 * scale helper reads HEARTH_TEST_SCALE. They need no runtime, so they run even while
 * the runtime is being written. Nothing here fails on purpose in the suite: the
 * failure path runs in a forked child whose output is checked. */
#include "task.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

TEST_IMPL(runner_assert_eq)
{
    int one = 1;
    uint64_t big = 0xfedcba9876543210ull;

    ASSERT_EQ(1, one);
    ASSERT_EQ(big, 0xfedcba9876543210ull);
    ASSERT_EQ((size_t)3, 3); /* mixed signedness compiles without a warning */
    return 0;
}

TEST_IMPL(runner_assert_macros)
{
    const char *s = "hearth";
    int x = 0;

    ASSERT(s[0] == 'h');
    ASSERT_NE(1, 2);
    ASSERT_LT(-1, 0);
    ASSERT_LE(2, 2);
    ASSERT_GT(3, 2);
    ASSERT_GE(3, 3);
    ASSERT_OK(x);
    ASSERT_NULL(NULL);
    ASSERT_NOT_NULL(s);
    ASSERT_STR_EQ(s, "hearth");
    ASSERT_STR_EQ(NULL, NULL);
    /* Each operand is evaluated once. */
    ASSERT_EQ(x++, 0);
    ASSERT_EQ(x, 1);
    return 0;
}

TEST_IMPL(runner_scale)
{
    ASSERT_GT(test_scale() * 1000, 0);
    ASSERT_GE(test_scaled(10), 1);
    ASSERT_EQ(test_scaled(0), 1);
    return 0;
}

/* Runs fn in a child with stderr in a pipe; returns its wait status and output. */
static int run_failing_child(void (*fn)(void), char *out, size_t n)
{
    struct rlimit no_core = {0, 0};
    int fds[2], status;
    size_t got = 0;
    ssize_t r;
    pid_t pid;

    ASSERT_OK(pipe(fds));
    fflush(NULL);
    pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        setrlimit(RLIMIT_CORE, &no_core); /* the abort below is expected: no core file */
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    while (got + 1 < n && (r = read(fds[0], out + got, n - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = '\0';
    close(fds[0]);
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    return status;
}

/* Each failing function first prints the line of its assertion, so the parent can
 * check that the report names it. */
static void fail_eq(void)
{
    fprintf(stderr, "line %d\n", __LINE__ + 1);
    ASSERT_EQ(1 + 1, 3);
}

static void fail_ok(void)
{
    fprintf(stderr, "line %d\n", __LINE__ + 1);
    ASSERT_OK(-3);
}

static void fail_str(void)
{
    fprintf(stderr, "line %d\n", __LINE__ + 1);
    ASSERT_STR_EQ("a", NULL);
}

/* Runs fn in a child and checks it aborted, reporting want at file:line. */
static void check_failure(void (*fn)(void), const char *want)
{
    char out[4096], where[128];
    int status, line = 0;

    status = run_failing_child(fn, out, sizeof(out));
    ASSERT(WIFSIGNALED(status));
    ASSERT_EQ(WTERMSIG(status), SIGABRT);
    ASSERT_EQ(sscanf(out, "line %d", &line), 1);
    snprintf(where, sizeof(where), "test-runner-selftest.c:%d: assertion failed: ", line);
    ASSERT_NOT_NULL(strstr(out, where));
    ASSERT_NOT_NULL(strstr(out, want));
}

TEST_IMPL(runner_assert_failure_output)
{
    check_failure(fail_eq, "ASSERT_EQ(1 + 1, 3): left 2, right 3");
    check_failure(fail_ok, "ASSERT_OK(-3): returned -3 (No such process)");
    check_failure(fail_str, "ASSERT_STR_EQ(\"a\", NULL): left \"a\", right NULL");
    return 0;
}
