/* Embedding Hearth: a supervisor keeps a counter server running; main calls it. */
#include <hearth/supervisor.h>
#include <stdio.h>

/* The counter's one callback: adds the request's number to its state, replies the sum. */
static int add(void *sum, hearth_msg_t *req, const hearth_server_from_t *from, hearth_msg_t **reply)
{
    (void)from;
    *(long *)sum += *(long *)req->data;
    *reply = hearth_msg_copy(0, sum, sizeof(long));
    return 0;
}
static const hearth_server_cbs_t counter = {.state_size = sizeof(long), .handle_call = add};

int main(void)
{
    hearth_server_child_t child = {.cbs = &counter, .name = "counter"};
    hearth_child_spec_t spec = {.id = "counter", .start = hearth_server_child_start, .arg = &child};
    hearth_msg_t *reply;

    if (hearth_start(NULL) || hearth_supervisor_start(NULL, &spec, 1, HEARTH_SPAWN_LINK, NULL) ||
        hearth_server_call(hearth_whereis("counter"), hearth_msg_copy(1, &(long){42}, sizeof(long)),
                           1000, &reply))
        return 1;
    printf("counter = %ld\n", *(long *)reply->data);
    hearth_msg_free(reply);
    return hearth_stop(); /* main's process exits: the supervisor stops the counter, then itself */
}
