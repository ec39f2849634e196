/* Store jobs run from request handlers.
 *
 * A handler fills an api_job_t, runs a store_job_fn on it through store_call (the
 * store's blocking-work pool; the request process, a green thread, waits) and reads
 * the outputs back. The record is on the heap for the reason internal.h gives; the
 * functions here only allocate, run and free it. */
#include "internal.h"

#include <stdlib.h>

api_job_t *api_job_new(void)
{
    api_job_t *j = calloc(1, sizeof(*j));

    if (j == NULL)
        abort();
    return j;
}

int api_job_run(store_job_fn fn, api_job_t *j)
{
    return store_call(fn, j);
}

void api_job_free(api_job_t *j)
{
    if (j == NULL)
        return;
    json_decref(j->out);
    free(j);
}
