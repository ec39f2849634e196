/* bench/gateway/util.c: clocks, blocking I/O, sockets bound to a source address, one
 * blocking HTTP request for the set-up, and the parent/child pipe protocol. */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t wall_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "hearth-bench-gateway: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        die("out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);

    if (p == NULL)
        die("out of memory (%zu x %zu bytes)", count, n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL)
        die("out of memory (%zu bytes)", n);
    return p;
}

int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;

    while (n > 0) {
        ssize_t r = read(fd, p, n);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            errno = 0;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int tcp_connect_from(const struct sockaddr_in *dst, uint32_t src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    int one = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (src != 0) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(src)};

        /* The port is chosen at connect time, per destination: so the 4-tuple, not
         * the source port alone, must be unique, and each source address gives
         * ~28k connections per server port. */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
            goto fail;
    }
    if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0 && errno != EINPROGRESS)
        goto fail;
    return fd;

fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int http_simple(const struct sockaddr_in *dst, const char *method, const char *target,
                const char *auth, const char *body, int *status, char **resp_body)
{
    char head[2048];
    size_t cap = 65536, len = 0;
    char *buf, *p;
    int fd, n;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0) {
        fprintf(stderr, "hearth-bench-gateway: connect to the server: %s\n", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    n = snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
                 "User-Agent: hearth-bench-gateway\r\n%s%s%s"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 method, target, inet_ntoa(dst->sin_addr), ntohs(dst->sin_port),
                 auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "",
                 body ? strlen(body) : 0);
    if (write_all(fd, head, (size_t)n) != 0 || (body && write_all(fd, body, strlen(body)) != 0)) {
        close(fd);
        return -1;
    }
    buf = xmalloc(cap + 1);
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == cap) {
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    close(fd);
    buf[len] = '\0';
    p = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.", 7) != 0 || len < 12 || p == NULL) {
        fprintf(stderr, "hearth-bench-gateway: %s %s: no HTTP response\n", method, target);
        free(buf);
        return -1;
    }
    *status = atoi(buf + 9);
    /* Chunked bodies are joined; anything else is read to the close. */
    if (memmem(buf, (size_t)(p - buf), "chunked", 7) != NULL) {
        char *src = p + 4, *out = buf;
        for (;;) {
            char *end;
            unsigned long sz = strtoul(src, &end, 16);
            if (end == src || sz == 0)
                break;
            src = strstr(end, "\r\n");
            if (src == NULL || (size_t)(buf + len - (src + 2)) < sz)
                break;
            memmove(out, src + 2, sz);
            out += sz;
            src += 2 + sz + 2;
        }
        *out = '\0';
    } else {
        memmove(buf, p + 4, len - (size_t)(p + 4 - buf) + 1);
    }
    *resp_body = buf;
    return 0;
}

int msg_send(int fd, uint32_t type, const void *payload, uint32_t len)
{
    msg_hdr_t h = {.type = type, .len = len};

    if (write_all(fd, &h, sizeof(h)) != 0)
        return -1;
    return len ? write_all(fd, payload, len) : 0;
}

int msg_recv(int fd, msg_hdr_t *h, void **payload)
{
    *payload = NULL;
    if (read_all(fd, h, sizeof(*h)) != 0)
        return -1;
    if (h->len) {
        *payload = xmalloc(h->len);
        if (read_all(fd, *payload, h->len) != 0) {
            free(*payload);
            *payload = NULL;
            return -1;
        }
    }
    return 0;
}
