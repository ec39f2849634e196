/* The mailbox: Dmitry Vyukov's intrusive multi-producer single-consumer queue, plus
 * the private FIFO a process keeps of messages it took out but has not handled yet.
 *
 * Producers (any thread) swap themselves into head and then link the previous node
 * to themselves; the consumer walks from tail. Between those two steps the queue is
 * briefly "half pushed": pop returns NULL though head moved. A consumer about to go
 * idle checks both ends (hearth__mpsc_consumed, then hearth__mpsc_quiet), so it never
 * goes to sleep on a pending push. Nodes are the messages themselves (their next_ field): pushing
 * never allocates. The stub is a bare link inside the queue (mpsc->stub_next), cast to
 * a message pointer; only its next_ field is ever touched. */
#include "internal.h"

#include <stddef.h>

/* The stub is addressed as a message whose next_ field is q->stub_next. */
static inline hearth_msg_t *stub_of(hearth__mpsc_t *q)
{
    return (hearth_msg_t *)((char *)&q->stub_next - offsetof(hearth_msg_t, next_));
}

void hearth__mpsc_init(hearth__mpsc_t *q)
{
    atomic_init(&q->stub_next, NULL);
    atomic_init(&q->head, stub_of(q));
    q->tail = stub_of(q);
}

void hearth__mpsc_push(hearth__mpsc_t *q, hearth_msg_t *m)
{
    hearth_msg_t *prev;

    atomic_store_explicit(&m->next_, NULL, memory_order_relaxed);
    /* acq_rel: release publishes m's contents to the consumer; seq_cst because the
     * caller's following exchange on p->scheduled must not be reordered before it
     * (see hearth__proc_deliver). */
    prev = atomic_exchange_explicit(&q->head, m, memory_order_seq_cst);
    atomic_store_explicit(&prev->next_, m, memory_order_release);
}

hearth_msg_t *hearth__mpsc_pop(hearth__mpsc_t *q)
{
    hearth_msg_t *stub = stub_of(q);
    hearth_msg_t *tail = q->tail;
    hearth_msg_t *next = atomic_load_explicit(&tail->next_, memory_order_acquire);

    if (tail == stub) {
        if (next == NULL)
            return NULL;
        q->tail = next;
        tail = next;
        next = atomic_load_explicit(&next->next_, memory_order_acquire);
    }
    if (next) {
        q->tail = next;
        return tail;
    }
    if (tail != atomic_load_explicit(&q->head, memory_order_acquire))
        return NULL; /* a push is half done; its producer will finish it */
    hearth__mpsc_push(q, stub);
    next = atomic_load_explicit(&tail->next_, memory_order_acquire);
    if (next) {
        q->tail = next;
        return tail;
    }
    return NULL;
}

bool hearth__mpsc_consumed(hearth__mpsc_t *q)
{
    /* The tail is back on the stub only once the consumer took every message; a
     * message whose producer has not linked it yet keeps the tail off the stub. */
    return q->tail == stub_of(q);
}

bool hearth__mpsc_quiet(hearth__mpsc_t *q)
{
    /* The consumer re-pushes the stub when it pops the last message, so head is the
     * stub unless someone pushed since. That alone does not prove emptiness: a
     * producer can swap itself in just before the consumer re-pushes the stub, and
     * is then behind it (see hearth__mpsc_consumed). */
    return atomic_load_explicit(&q->head, memory_order_seq_cst) == stub_of(q);
}

void hearth__fifo_push(hearth__fifo_t *f, hearth_msg_t *m)
{
    atomic_store_explicit(&m->next_, NULL, memory_order_relaxed);
    if (f->last)
        atomic_store_explicit(&f->last->next_, m, memory_order_relaxed);
    else
        f->first = m;
    f->last = m;
    f->len++;
}

hearth_msg_t *hearth__fifo_pop(hearth__fifo_t *f)
{
    hearth_msg_t *m = f->first;
    if (m == NULL)
        return NULL;
    f->first = atomic_load_explicit(&m->next_, memory_order_relaxed);
    if (f->first == NULL)
        f->last = NULL;
    f->len--;
    return m;
}

void hearth__fifo_remove(hearth__fifo_t *f, hearth_msg_t *prev, hearth_msg_t *m)
{
    hearth_msg_t *next = atomic_load_explicit(&m->next_, memory_order_relaxed);
    if (prev)
        atomic_store_explicit(&prev->next_, next, memory_order_relaxed);
    else
        f->first = next;
    if (f->last == m)
        f->last = prev;
    f->len--;
}
