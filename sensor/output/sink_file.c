/*
 * sink_file.c — the file sink: JSON Lines appended to a regular file (O_APPEND|O_CREAT,
 * mode 0640, as Suricata's eve.json; reopened on SIGHUP for logrotate) or written to stdout
 * ("-"). Also the line writer the stream sockets share.
 */
#include "output/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define IOV_BATCH 256

typedef struct file_sink {
    lw_sink base;
    char *path; /* NULL: stdout */
    int fd;
    size_t partial; /* bytes of the head event already written */
} file_sink;

size_t lw_sink_write_lines(int fd, bool is_socket, const lw_sink_msg *m, size_t n, size_t *partial,
                           char *err, size_t errlen)
{
    size_t i = 0, off = *partial;
    if (n && off >= m[0].len) off = 0; /* cannot happen: a finished line is popped */
    while (i < n) {
        struct iovec iov[IOV_BATCH];
        int k = 0;
        for (size_t j = i; j < n && k < IOV_BATCH; j++, k++) {
            size_t skip = j == i ? off : 0;
            iov[k].iov_base = (char *)m[j].data + skip;
            iov[k].iov_len = m[j].len - skip;
        }
        ssize_t w;
        if (is_socket) {
            struct msghdr mh;
            memset(&mh, 0, sizeof(mh));
            mh.msg_iov = iov;
            mh.msg_iovlen = (size_t)k;
            w = sendmsg(fd, &mh, MSG_NOSIGNAL);
        } else {
            w = writev(fd, iov, k);
        }
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            snprintf(err, errlen, "write failed: %s", w < 0 ? strerror(errno) : "nothing written");
            *partial = off;
            return i;
        }
        size_t left = (size_t)w;
        while (left && i < n) {
            size_t rest = m[i].len - off;
            if (left >= rest) {
                left -= rest;
                i++;
                off = 0;
            } else {
                off += left;
                left = 0;
            }
        }
    }
    *partial = 0;
    return n;
}

static int open_append(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        snprintf(err, errlen,
                 "cannot open output %s: %s (check the directory exists and is writable)", path,
                 strerror(errno));
    return fd;
}

static bool file_open(lw_sink *s, char *err, size_t errlen)
{
    file_sink *f = (file_sink *)s;
    if (f->fd >= 0) return true;
    if (!f->path) {
        f->fd = STDOUT_FILENO;
        return true;
    }
    f->fd = open_append(f->path, err, errlen);
    return f->fd >= 0;
}

static size_t file_write(lw_sink *s, const lw_sink_msg *m, size_t n, char *err, size_t errlen)
{
    file_sink *f = (file_sink *)s;
    return lw_sink_write_lines(f->fd, false, m, n, &f->partial, err, errlen);
}

static bool file_reopen(lw_sink *s, char *err, size_t errlen)
{
    file_sink *f = (file_sink *)s;
    if (!f->path) return true;
    int fd = open_append(f->path, err, errlen);
    if (fd < 0) return false;
    if (f->fd >= 0) close(f->fd);
    f->fd = fd;
    return true;
}

static void file_close(lw_sink *s)
{
    file_sink *f = (file_sink *)s;
    if (f->path && f->fd >= 0) close(f->fd);
    f->fd = -1; /* the partial line is finished after the reopen: same file, append */
}

static void file_destroy(lw_sink *s)
{
    file_sink *f = (file_sink *)s;
    file_close(s);
    free(f->path);
    free(f);
}

static const lw_sink_ops file_ops = {
    .open = file_open,
    .write = file_write,
    .reopen = file_reopen,
    .close = file_close,
    .destroy = file_destroy,
};

lw_sink *lw_sink_file_new(const char *path, char *err, size_t errlen)
{
    file_sink *f = calloc(1, sizeof(*f));
    bool is_stdout = !path || strcmp(path, "-") == 0;
    if (f && !is_stdout) f->path = strdup(path);
    if (!f || (!is_stdout && !f->path)) {
        free(f);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->base.ops = &file_ops;
    f->base.must_open = true;
    f->fd = -1;
    snprintf(f->base.desc, sizeof(f->base.desc), "file %s", is_stdout ? "(stdout)" : path);
    return &f->base;
}
