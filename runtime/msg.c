/* Messages and shared payloads.
 *
 * A message is one block: the header followed by its inline bytes. Small blocks (the
 * common case: a token, a reply, a signal) are recycled through a per-thread LIFO
 * cache, because malloc/free per hop would dominate a ring or ping-pong. A block
 * freed on another thread simply joins that thread's cache; every cached block has
 * the same size, so any thread can reuse any of them. Sanitizer builds skip the cache
 * so ASan sees every block's lifetime. */
#include "internal.h"

#include <string.h>

#define SMALL_BLOCK 128 /* header (64 bytes) + 64 inline bytes */
#define CACHE_MAX 4096  /* blocks kept per thread */

#if defined(HEARTH_ASAN) || defined(HEARTH_TSAN)
#define USE_CACHE 0
#else
#define USE_CACHE 1
#endif

struct hearth_payload {
    _Atomic uint32_t refs;
    size_t len;
    max_align_t data[];
};

#if USE_CACHE
typedef struct cache_block {
    struct cache_block *next;
} cache_block_t;

static __thread cache_block_t *cache_head;
static __thread unsigned cache_len;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* Frees a thread's cached blocks when it exits, so threads come and go without leaks. */
static void cache_thread_exit_cb(void *unused)
{
    (void)unused;
    while (cache_head) {
        cache_block_t *b = cache_head;
        cache_head = b->next;
        free(b);
    }
    cache_len = 0;
}

static void cache_key_init(void)
{
    pthread_key_create(&cache_key, cache_thread_exit_cb);
}
#endif

static hearth_msg_t *block_alloc(size_t len)
{
    hearth_msg_t *m;
    size_t total = sizeof(hearth_msg_t) + len;
    uint32_t flags = HEARTH__MSG_INLINE;

#if USE_CACHE
    if (total <= SMALL_BLOCK) {
        if (cache_head) {
            m = (hearth_msg_t *)cache_head;
            cache_head = cache_head->next;
            cache_len--;
        } else {
            m = hearth__malloc(SMALL_BLOCK);
        }
        flags |= HEARTH__MSG_CACHED;
    } else {
        m = hearth__malloc(total);
    }
#else
    m = hearth__malloc(total);
#endif
    atomic_store_explicit(&m->next_, NULL, memory_order_relaxed);
    m->flags_ = flags;
    m->tag = 0;
    m->from = HEARTH_PID_NONE;
    m->ref = 0;
    m->value = 0;
    m->len = len;
    m->data = (char *)(m + 1);
    m->payload_ = NULL;
    return m;
}

static void block_free(hearth_msg_t *m)
{
#if USE_CACHE
    if ((m->flags_ & HEARTH__MSG_CACHED) && cache_len < CACHE_MAX) {
        cache_block_t *b = (cache_block_t *)m;
        if (HEARTH_UNLIKELY(cache_len == 0 && cache_head == NULL)) {
            pthread_once(&cache_once, cache_key_init);
            pthread_setspecific(cache_key, (void *)1);
        }
        b->next = cache_head;
        cache_head = b;
        cache_len++;
        return;
    }
#endif
    free(m);
}

hearth_msg_t *hearth_msg_new(uint32_t tag, size_t len)
{
    hearth_msg_t *m = block_alloc(len);
    m->tag = tag;
    return m;
}

hearth_msg_t *hearth_msg_copy(uint32_t tag, const void *data, size_t len)
{
    hearth_msg_t *m = block_alloc(len);
    m->tag = tag;
    if (len)
        memcpy(m->data, data, len);
    return m;
}

hearth_msg_t *hearth_msg_int(uint32_t tag, int64_t value)
{
    hearth_msg_t *m = block_alloc(0);
    m->tag = tag;
    m->value = value;
    return m;
}

hearth_msg_t *hearth_msg_shared(uint32_t tag, hearth_payload_t *p)
{
    hearth_msg_t *m = block_alloc(0);
    m->tag = tag;
    m->payload_ = hearth_payload_ref(p);
    m->data = p->data;
    m->len = p->len;
    return m;
}

hearth_msg_t *hearth__signal_new(int sig, hearth_pid_t from, uint64_t ref, int64_t value)
{
    hearth_msg_t *m = block_alloc(0);
    m->flags_ |= HEARTH__MSG_SIGNAL;
    m->tag = (uint32_t)sig;
    m->from = from;
    m->ref = ref;
    m->value = value;
    return m;
}

void hearth_msg_free(hearth_msg_t *m)
{
    if (m == NULL)
        return;
    if (m->payload_)
        hearth_payload_unref(m->payload_);
    block_free(m);
}

hearth_payload_t *hearth_msg_payload(const hearth_msg_t *m)
{
    return m->payload_;
}

void hearth_msg_keep(hearth_msg_t *m)
{
    hearth__proc_t *self = hearth__current();
    if (self && self->cur_msg == m)
        self->cur_msg = NULL;
}

hearth_payload_t *hearth_payload_alloc(size_t len)
{
    hearth_payload_t *p = hearth__malloc(sizeof(*p) + len);
    atomic_init(&p->refs, 1);
    p->len = len;
    return p;
}

hearth_payload_t *hearth_payload_new(const void *data, size_t len)
{
    hearth_payload_t *p = hearth_payload_alloc(len);
    if (len)
        memcpy(p->data, data, len);
    return p;
}

void *hearth_payload_data(hearth_payload_t *p)
{
    return p->data;
}

size_t hearth_payload_len(const hearth_payload_t *p)
{
    return p->len;
}

hearth_payload_t *hearth_payload_ref(hearth_payload_t *p)
{
    /* Relaxed: the caller already holds a reference, so the payload cannot vanish. */
    atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void hearth_payload_unref(hearth_payload_t *p)
{
    /* acq_rel: every reader's use of the bytes happens before the last owner frees
     * them (a release decrement plus an acquire fence would do, but ThreadSanitizer
     * does not model standalone fences). */
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        free(p);
}
