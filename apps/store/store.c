/* The backend-neutral part of the store: running store jobs on the runtime's
 * blocking-work pool for processes (store_call, store_submit), error texts and
 * timestamps.
 *
 * A job is a store_job_fn; the pool runs plain int64_t (*)(void *) functions, so a
 * small trampoline record carries the job and its argument and the trampoline hands
 * the job the worker thread's own connection. store_call keeps the record on the
 * waiting caller's stack; store_submit allocates it and the trampoline frees it. */
#include "store.h"

#include "hearth/hearth.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct job {
    store_job_fn fn;
    void *arg;
    bool owned; /* malloc'd by store_submit: the trampoline frees it */
} job_t;

/* Runs on a libuv worker thread. */
static int64_t job_cb(void *arg)
{
    job_t *j = arg;
    store_job_fn fn;
    void *job_arg;
    store_t *s;

    fn = j->fn;
    job_arg = j->arg;
    if (j->owned)
        free(j);
    s = store_thread();
    if (s == NULL)
        return STORE_EIO;
    return fn(s, job_arg);
}

int store_call(store_job_fn job, void *arg)
{
    hearth_proc_info_t info;
    hearth_msg_t *m;
    uint64_t ref;
    job_t j;
    int err;

    /* An event process cannot wait: refuse before submitting, or the job would run
     * with a record on a stack that is gone. */
    if (hearth_process_info(hearth_self(), &info) == 0 && info.kind == HEARTH_KIND_EVENT)
        return HEARTH_EINVAL;
    j.fn = job;
    j.arg = arg;
    j.owned = false;
    err = hearth_work_submit(job_cb, &j, &ref);
    if (err < 0)
        return err;
    err = hearth_receive_ref(HEARTH_MSG_WORK_DONE, ref, HEARTH_INFINITY, &m);
    if (err < 0)
        return err; /* cannot happen with an infinite wait outside event processes */
    err = (int)m->value;
    hearth_msg_free(m);
    return err;
}

int store_submit(store_job_fn job, void *arg, uint64_t *ref)
{
    job_t *j;
    int err;

    j = malloc(sizeof(*j));
    if (j == NULL)
        abort();
    j->fn = job;
    j->arg = arg;
    j->owned = true;
    err = hearth_work_submit(job_cb, j, ref);
    if (err < 0)
        free(j);
    return err;
}

const char *store_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case STORE_UNCHANGED:
        return "unchanged";
    case STORE_EPERM:
        return "not allowed";
    case STORE_ENOTFOUND:
        return "not found";
    case STORE_EIO:
        return "database error";
    case STORE_EAUTH:
        return "wrong login, password or token";
    case STORE_EBUSY:
        return "database busy";
    case STORE_EEXIST:
        return "already exists";
    case STORE_EINVAL:
        return "invalid argument";
    case STORE_ELIMIT:
        return "limit reached";
    case STORE_EEXPIRED:
        return "expired";
    default:
        return hearth_strerror(err);
    }
}

char *store_timestamp(int64_t ms, char buf[STORE_TIMESTAMP_SIZE])
{
    struct tm tm;
    time_t t;
    int64_t frac;

    /* Years 0000..9999 only, so the text always fits. */
    if (ms < -62167219200000LL)
        ms = -62167219200000LL;
    if (ms > 253402300799999LL)
        ms = 253402300799999LL;
    frac = ms % 1000;
    if (frac < 0)
        frac += 1000;
    t = (time_t)((ms - frac) / 1000);
    gmtime_r(&t, &tm);
    if (snprintf(buf, STORE_TIMESTAMP_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03d000+00:00",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)frac) >= STORE_TIMESTAMP_SIZE)
        buf[STORE_TIMESTAMP_SIZE - 1] = '\0'; /* cannot happen within the clamp */
    return buf;
}
