/* Static files: a REST handler serving a directory (priv/web, the web client).
 *
 * The route's {*path} tail is checked component by component before it touches the
 * file system: no "..", no "." or hidden names, no empty components, so a request can
 * only reach files under the directory (decoded %2F inside a segment is split and
 * checked the same way). The file is opened and read on the blocking-work pool, never
 * on a scheduler thread; the request process waits for it like any other reply. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files bigger than this are refused (the whole file becomes one response). */
#define MAX_FILE ((size_t)64 << 20)

typedef struct file_job {
    char path[PATH_MAX];
    char *data;
    size_t len;
} file_job_t;

static const struct {
    const char *ext, *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"wasm", "application/wasm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"webm", "video/webm"},
    {"mp4", "video/mp4"},
};

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

    if (dot == NULL || (slash != NULL && dot < slash))
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* True if every '/'-separated component of rel is a plain name. */
static bool rel_ok(const char *rel)
{
    const char *s = rel, *e;
    size_t n;

    if (*s == '\0')
        return true;
    for (;;) {
        e = strchr(s, '/');
        n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 && e == NULL)
            return true; /* a trailing slash: the directory's index */
        if (n == 0 || s[0] == '.')
            return false; /* "", ".", "..", hidden files */
        if (e == NULL)
            return true;
        s = e + 1;
    }
}

/* On the work pool: reads the file at job->path (a directory's index.html). Returns
 * 0, or a negative errno. */
static int64_t read_file(void *arg)
{
    file_job_t *job = arg;
    struct stat st;
    size_t got = 0;
    ssize_t r;
    int fd;

    fd = open(job->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (S_ISDIR(st.st_mode)) {
        size_t l = strlen(job->path);

        close(fd);
        if (l + sizeof("/index.html") > sizeof(job->path))
            return -ENAMETOOLONG;
        memcpy(job->path + l, "/index.html", sizeof("/index.html"));
        fd = open(job->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        if (fstat(fd, &st) != 0)
            goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return -ENOENT;
    }
    if ((size_t)st.st_size > MAX_FILE) {
        close(fd);
        return -EFBIG;
    }
    job->data = malloc((size_t)st.st_size + 1);
    if (job->data == NULL) {
        close(fd);
        return -ENOMEM;
    }
    while (got < (size_t)st.st_size) {
        r = read(fd, job->data + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* truncated meanwhile: serve what is there */
        got += (size_t)r;
    }
    job->len = got;
    close(fd);
    return 0;

fail:
    r = -errno;
    close(fd);
    return r;
}

void http_static_handler(const http_request_t *req, http_response_t *res, void *udata)
{
    const char *root = udata;
    const char *rel = req->nparams ? req->params[req->nparams - 1] : "";
    file_job_t *job;
    hearth_msg_t *m = NULL;
    uint64_t ref;
    int n, err;

    if (root == NULL || !rel_ok(rel)) {
        http_response_error(res, 404, 0, "404: Not Found");
        return;
    }
    job = http__calloc(1, sizeof(*job));
    n = snprintf(job->path, sizeof(job->path), "%s/%s%s", root, rel,
                 (rel[0] == '\0' || rel[strlen(rel) - 1] == '/') ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof(job->path)) {
        free(job);
        http_response_error(res, 404, 0, "404: Not Found");
        return;
    }
    err = hearth_work_submit(read_file, job, &ref);
    if (err == 0)
        err = hearth_receive_ref(HEARTH_MSG_WORK_DONE, ref, HEARTH_INFINITY, &m);
    if (err == 0)
        err = (int)m->value;
    hearth_msg_free(m);
    if (err == 0) {
        http_response_status(res, 200);
        http_response_body_take(res, content_type(job->path), job->data, job->len);
        http_response_header(res, "Cache-Control", "no-cache");
    } else if (err == -EFBIG) {
        http_response_error(res, 500, 0, "500: File Too Large");
    } else {
        http_response_error(res, 404, 0, "404: Not Found");
    }
    free(job);
}
