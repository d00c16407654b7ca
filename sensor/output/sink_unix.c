/*
 * sink_unix.c — unix socket sinks, as Suricata's EVE: unix_dgram sends one datagram per
 * event to the socket at output.path; unix_stream writes newline-delimited lines on a
 * SOCK_STREAM connection. Both reconnect (via the output's retry) when the listener goes
 * away (EPIPE, ECONNREFUSED, ENOENT). Also the socket helpers the network sinks share.
 */
#include "output/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define DGRAM_SNDBUF (4 << 20) /* asked for; the kernel caps it at wmem_max */

typedef struct unix_sink {
    lw_sink base;
    struct sockaddr_un sa;
    bool stream;
    int fd;
    size_t partial;
    bool said_oversize;
} unix_sink;

bool lw_sink_peer_gone(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLERR | POLLHUP | POLLRDHUP | POLLNVAL)) return true;
    if (!(p.revents & POLLIN)) return false;
    char b;
    ssize_t k = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void lw_sink_set_timeouts(int fd)
{
    struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int lw_sink_connect(int fd, const struct sockaddr *sa, unsigned salen)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return errno;
    int rc = 0;
    if (connect(fd, sa, (socklen_t)salen) != 0) {
        rc = errno;
        if (rc == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int r = poll(&p, 1, 1000);
            socklen_t len = sizeof(rc);
            if (r == 0)
                rc = ETIMEDOUT;
            else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &rc, &len) != 0)
                rc = errno;
        }
    }
    if (fcntl(fd, F_SETFL, flags) < 0 && !rc) rc = errno;
    return rc;
}

static void unix_close(lw_sink *s)
{
    unix_sink *u = (unix_sink *)s;
    if (u->fd >= 0) close(u->fd);
    u->fd = -1;
    u->partial = 0; /* a line cut by a broken connection is sent whole on the next one */
}

static bool unix_open(lw_sink *s, char *err, size_t errlen)
{
    unix_sink *u = (unix_sink *)s;
    if (u->fd >= 0) return true;
    u->fd = socket(AF_UNIX, (u->stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
    if (u->fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return false;
    }
    if (!u->stream) {
        int sz = DGRAM_SNDBUF;
        setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    }
    lw_sink_set_timeouts(u->fd);
    int rc = lw_sink_connect(u->fd, (const struct sockaddr *)&u->sa, sizeof(u->sa));
    if (rc) {
        snprintf(err, errlen, "cannot connect to %s: %s (is the listener running?)", u->sa.sun_path,
                 strerror(rc));
        unix_close(s);
        return false;
    }
    return true;
}

static size_t unix_write(lw_sink *s, const lw_sink_msg *m, size_t n, char *err, size_t errlen)
{
    unix_sink *u = (unix_sink *)s;
    if (u->stream) {
        if (lw_sink_peer_gone(u->fd)) {
            snprintf(err, errlen, "the listener closed the connection");
            return 0;
        }
        return lw_sink_write_lines(u->fd, true, m, n, &u->partial, err, errlen);
    }
    for (size_t i = 0; i < n; i++) {
        ssize_t w;
        do w = send(u->fd, m[i].data, m[i].len, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w >= 0) continue;
        if (errno == EMSGSIZE) {
            /* larger than a datagram can be: it never will fit */
            s->rejected++;
            if (!u->said_oversize)
                fprintf(stderr,
                        "leakwatch: output %s: a %zu-byte event is larger than a datagram "
                        "(dropped and counted as dropped_rejected; raise net.core.wmem_max)\n",
                        s->desc, m[i].len);
            u->said_oversize = true;
            continue;
        }
        snprintf(err, errlen, "send to %s: %s", u->sa.sun_path, strerror(errno));
        return i;
    }
    return n;
}

static void unix_destroy(lw_sink *s)
{
    unix_close(s);
    free(s);
}

static const lw_sink_ops unix_ops = {
    .open = unix_open,
    .write = unix_write,
    .close = unix_close,
    .destroy = unix_destroy,
};

lw_sink *lw_sink_unix_new(const char *path, bool stream, char *err, size_t errlen)
{
    size_t len = path ? strlen(path) : 0;
    unix_sink *u = NULL;
    if (!len || len >= sizeof(u->sa.sun_path)) {
        snprintf(err, errlen, "output.path %s: a unix socket path must be 1 to %zu bytes",
                 path ? path : "(none)", sizeof(u->sa.sun_path) - 1);
        return NULL;
    }
    u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    u->base.ops = &unix_ops;
    u->stream = stream;
    u->fd = -1;
    u->sa.sun_family = AF_UNIX;
    memcpy(u->sa.sun_path, path, len + 1);
    snprintf(u->base.desc, sizeof(u->base.desc), "%s %s", stream ? "unix_stream" : "unix_dgram",
             path);
    return &u->base;
}
