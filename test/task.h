/* Test macros for hearth-test (test/runner.c).
 *
 * A test is a function defined with TEST_IMPL in a file test/test-*.c:
 *
 *     TEST_IMPL(mailbox_fifo_order)
 *     {
 *         ASSERT_OK(hearth_start(NULL));
 *         ...
 *         ASSERT_OK(hearth_stop());
 *         return 0;
 *     }
 *
 * The build greps "TEST_IMPL(name)" at the start of a line from test/test-*.c into
 * build/$(TYPE)/test-list.h, so there is no list to edit. Every such line becomes a
 * test: do not put one under #if (skip at run time with TEST_SKIP instead). Names
 * start with their area: mailbox_, proc_, sched_, signal_, epoch_, timer_, green_,
 * registry_, io_, work_, fault_, info_, sup_, server_, embed_ (the runner's --filter
 * and the TSan suite select by these prefixes).
 *
 * A test returns 0 on success. A failed ASSERT_* prints file:line, the expression and
 * the values to stderr and aborts the process: that works from any thread (a handler
 * on a scheduler thread, a green thread), the runner reports it as the failure
 * reason, and under `hearth-test NAME` in gdb it stops right at the failure. */
#ifndef HEARTH_TEST_TASK_H
#define HEARTH_TEST_TASK_H

#include "hearth/hearth.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defines int run_test_<name>(void); the prototype keeps -Wmissing-prototypes quiet. */
#define TEST_IMPL(name)                                                                        \
    int run_test_##name(void);                                                                 \
    int run_test_##name(void)

/* What a skipped test returns (the exit status automake uses for the same thing). */
#define TEST_SKIP_CODE 77

/* Skips the rest of the test; reason (a string) is shown on its result line. */
#define TEST_SKIP(reason) return test__skip(reason)

/* HEARTH_TEST_SCALE (default 1.0): sanitizer runs set 0.1 so that tests sized for the
 * optimized build (a million processes) stay quick. */
double test_scale(void);
/* n * test_scale(), at least 1. */
size_t test_scaled(size_t n);

/* A seed for randomized tests: HEARTH_TEST_SEED if set, else from the clock. The first
 * call prints it to stderr, so a failing run's output says how to repeat it. */
uint64_t test_seed(void);

/* ---- assertions --------------------------------------------------------------------- */

#define ASSERT(cond)                                                                           \
    do {                                                                                       \
        if (!(cond))                                                                           \
            test__fail(__FILE__, __LINE__, "ASSERT(%s)", #cond);                               \
    } while (0)

/* Integer (and pointer) comparisons: both sides are evaluated once, as long long.
 * That keeps mixed signed and unsigned operands (ASSERT_EQ(1, len)) warning-free;
 * values above 2^63 (pids, refs) still compare equal or not correctly. */
#define TEST__CMP(macro, a, op, b)                                                             \
    do {                                                                                       \
        long long test__a = (long long)(a);                                                    \
        long long test__b = (long long)(b);                                                    \
        if (!(test__a op test__b))                                                             \
            test__fail_cmp(__FILE__, __LINE__, macro "(" #a ", " #b ")", test__a, test__b);    \
    } while (0)

#define ASSERT_EQ(a, b) TEST__CMP("ASSERT_EQ", a, ==, b)
#define ASSERT_NE(a, b) TEST__CMP("ASSERT_NE", a, !=, b)
#define ASSERT_LT(a, b) TEST__CMP("ASSERT_LT", a, <, b)
#define ASSERT_LE(a, b) TEST__CMP("ASSERT_LE", a, <=, b)
#define ASSERT_GT(a, b) TEST__CMP("ASSERT_GT", a, >, b)
#define ASSERT_GE(a, b) TEST__CMP("ASSERT_GE", a, >=, b)

/* expr == 0. A negative result is shown with its error text (HEARTH_E* codes are
 * negative errno values). */
#define ASSERT_OK(expr)                                                                        \
    do {                                                                                       \
        long long test__v = (long long)(expr);                                                 \
        if (test__v != 0)                                                                      \
            test__fail_ok(__FILE__, __LINE__, "ASSERT_OK(" #expr ")", test__v);                \
    } while (0)

#define ASSERT_NULL(p)                                                                         \
    do {                                                                                       \
        const void *test__p = (const void *)(p);                                               \
        if (test__p != NULL)                                                                   \
            test__fail(__FILE__, __LINE__, "ASSERT_NULL(%s): %p", #p, test__p);                \
    } while (0)

#define ASSERT_NOT_NULL(p)                                                                     \
    do {                                                                                       \
        if ((const void *)(p) == NULL)                                                         \
            test__fail(__FILE__, __LINE__, "ASSERT_NOT_NULL(%s): NULL", #p);                   \
    } while (0)

/* Strings compare equal if both are NULL or strcmp says so. */
#define ASSERT_STR_EQ(a, b)                                                                    \
    do {                                                                                       \
        const char *test__sa = (a);                                                            \
        const char *test__sb = (b);                                                            \
        if (!test__str_eq(test__sa, test__sb))                                                 \
            test__fail(__FILE__, __LINE__, "ASSERT_STR_EQ(%s, %s): left %s%s%s, right %s%s%s", \
                       #a, #b, test__sa ? "\"" : "", test__sa ? test__sa : "NULL",             \
                       test__sa ? "\"" : "", test__sb ? "\"" : "",                            \
                       test__sb ? test__sb : "NULL", test__sb ? "\"" : "");                    \
    } while (0)

/* ---- private: defined in test/runner.c ---------------------------------------------- */

__attribute__((noreturn, format(printf, 3, 4))) void test__fail(const char *file, int line,
                                                                const char *fmt, ...);
__attribute__((noreturn)) void test__fail_cmp(const char *file, int line, const char *what,
                                              long long a, long long b);
__attribute__((noreturn)) void test__fail_ok(const char *file, int line, const char *what,
                                             long long v);
int test__skip(const char *reason);

static inline int test__str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

#endif /* HEARTH_TEST_TASK_H */
