/* hearth-server's log: timestamped lines on stderr, filtered by level.
 *
 * Any thread may log (the main thread, request processes through the API's access
 * log). Each line is formatted first and written with one fprintf, which stdio locks,
 * so lines from different threads never interleave. */
#include "server.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

/* Written before the runtime starts, read by every thread after; relaxed suffices as
 * a change later (none today) would only need to be seen eventually. */
static _Atomic int level = SRV_LOG_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

const char *srv_log_level_name(int l)
{
    return l >= SRV_LOG_ERROR && l <= SRV_LOG_DEBUG ? names[l] : "?";
}

int srv_log_level_parse(const char *name)
{
    for (int l = SRV_LOG_ERROR; l <= SRV_LOG_DEBUG; l++)
        if (name != NULL && strcasecmp(name, names[l]) == 0)
            return l;
    return -1;
}

void srv_log_init(int l)
{
    atomic_store_explicit(&level, l, memory_order_relaxed);
}

int srv_log_level(void)
{
    return atomic_load_explicit(&level, memory_order_relaxed);
}

void srv_log(int l, const char *fmt, ...)
{
    char msg[1024], stamp[32];
    struct timespec ts;
    struct tm tm;
    va_list ap;

    if (l > srv_log_level())
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %s: %s\n", stamp, ts.tv_nsec / 1000000, srv_log_level_name(l), msg);
}
