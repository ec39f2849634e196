/* Allocation wrappers that abort on OOM, runtime panics, and the static strings for
 * error codes and exit reasons. Everything else allocates through these so an OOM is
 * one clear crash instead of a NULL chased through the runtime. */
#include "internal.h"

#include <string.h>

void hearth__panic(const char *file, int line, const char *what)
{
    fprintf(stderr, "hearth: assertion failed at %s:%d: %s\n", file, line, what);
    fflush(stderr);
    abort();
}

static void *oom(size_t n)
{
    fprintf(stderr, "hearth: out of memory allocating %zu bytes\n", n);
    abort();
}

void *hearth__malloc(size_t n)
{
    void *p = malloc(n);
    return HEARTH_LIKELY(p != NULL) ? p : oom(n);
}

void *hearth__calloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    return HEARTH_LIKELY(p != NULL) ? p : oom(n * size);
}

void *hearth__realloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    return HEARTH_LIKELY(q != NULL || n == 0) ? q : oom(n);
}

void hearth__free(void *p)
{
    free(p);
}

const char *hearth_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case HEARTH_ENOENT: return "no such entry";
    case HEARTH_ESRCH: return "no such process";
    case HEARTH_EAGAIN: return "try again";
    case HEARTH_ENOMEM: return "out of memory";
    case HEARTH_EBUSY: return "busy";
    case HEARTH_EEXIST: return "already exists";
    case HEARTH_EINVAL: return "invalid argument";
    case HEARTH_EPIPE: return "peer gone";
    case HEARTH_ENOTSUP: return "not supported";
    case HEARTH_ESHUTDOWN: return "runtime not running";
    case HEARTH_ETIMEDOUT: return "timed out";
    case HEARTH_ECANCELED: return "canceled";
    default: return err < 0 ? strerror(-err) : "unknown error";
    }
}

const char *hearth_reason_name(hearth_reason_t reason)
{
    switch (reason) {
    case HEARTH_NORMAL: return "normal";
    case HEARTH_SHUTDOWN: return "shutdown";
    case HEARTH_KILL: return "kill";
    case HEARTH_KILLED: return "killed";
    case HEARTH_NOPROC: return "noproc";
    case HEARTH_STACK_OVERFLOW: return "stack_overflow";
    case HEARTH_CRASH: return "crash";
    case HEARTH_INJECTED: return "injected";
    default: return "error";
    }
}
