/*
 * sink_syslog.c — the syslog sink: each event is one RFC 5424 message
 *   <PRI>1 TIMESTAMP HOSTNAME leakwatch PID - - JSON
 * sent to output.syslog.server:port over UDP (one datagram per event, cut at 65507 bytes and
 * counted as truncated) or TCP (RFC 6587 octet counting: "LEN SP MSG"). PRI = facility * 8 +
 * severity: alert events by alert.severity (critical 2, high 3, medium 4, low 5), every other
 * event 6 (informational).
 */
#include "output/sink.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UDP_MAX 65507u /* the largest UDP payload over IPv4 */
#define HEADER_MAX 400 /* <PRI>1 TIMESTAMP HOSTNAME(255) APP PID - - */

typedef struct syslog_sink {
    lw_sink base;
    char *server;
    char port[8];
    bool tcp;
    int facility;
    int fd;
    char host[256];
    char *buf;
    size_t cap;
} syslog_sink;

/* The syslog severity of an event line (see the file comment). The patterns cannot occur
 * inside a JSON string: a quote there is always escaped. */
static int severity_of(const char *d, size_t len)
{
    static const char et[] = "\"event_type\":\"alert\"", al[] = "\"alert\":{",
                      sv[] = "\"severity\":\"";
    if (!memmem(d, len, et, sizeof(et) - 1)) return 6;
    const char *a = memmem(d, len, al, sizeof(al) - 1);
    if (!a) return 6;
    size_t rest = len - (size_t)(a - d);
    const char *p = memmem(a, rest, sv, sizeof(sv) - 1);
    if (!p) return 6;
    p += sizeof(sv) - 1;
    rest = len - (size_t)(p - d);
    static const struct {
        const char *name;
        int sev;
    } map[] = {{"critical\"", 2}, {"high\"", 3}, {"medium\"", 4}, {"low\"", 5}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        size_t n = strlen(map[i].name);
        if (rest >= n && memcmp(p, map[i].name, n) == 0) return map[i].sev;
    }
    return 6;
}

static bool reserve(syslog_sink *y, size_t need)
{
    if (need <= y->cap) return true;
    size_t cap = y->cap ? y->cap : 1 << 16;
    while (cap < need) cap *= 2;
    char *b = realloc(y->buf, cap);
    if (!b) return false;
    y->buf = b;
    y->cap = cap;
    return true;
}

/* "<PRI>1 TIMESTAMP HOSTNAME leakwatch PID - - " into out (HEADER_MAX bytes). */
static size_t header(const syslog_sink *y, const char *ts, int sev, char *out)
{
    int n = snprintf(out, HEADER_MAX, "<%d>1 %s %s leakwatch %ld - - ", y->facility * 8 + sev, ts,
                     y->host, (long)getpid());
    return n < 0 ? 0 : (size_t)n < HEADER_MAX ? (size_t)n : HEADER_MAX - 1;
}

static void now_rfc3339(char *out, size_t len)
{
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    char day[32];
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, len, "%s.%06ldZ", day, now.tv_nsec / 1000);
}

static void syslog_close(lw_sink *s)
{
    syslog_sink *y = (syslog_sink *)s;
    if (y->fd >= 0) close(y->fd);
    y->fd = -1;
}

static bool syslog_open(lw_sink *s, char *err, size_t errlen)
{
    syslog_sink *y = (syslog_sink *)s;
    if (y->fd >= 0) return true;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = y->tcp ? SOCK_STREAM : SOCK_DGRAM;
    int gai = getaddrinfo(y->server, y->port, &hints, &res);
    if (gai) {
        snprintf(err, errlen, "cannot resolve syslog server %s: %s", y->server, gai_strerror(gai));
        return false;
    }
    int rc = 0;
    for (struct addrinfo *a = res; a && y->fd < 0; a = a->ai_next) {
        y->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (y->fd < 0) {
            rc = errno;
            continue;
        }
        lw_sink_set_timeouts(y->fd);
        rc = lw_sink_connect(y->fd, a->ai_addr, a->ai_addrlen);
        if (rc) syslog_close(s);
    }
    freeaddrinfo(res);
    if (y->fd < 0)
        snprintf(err, errlen, "cannot connect to syslog server %s port %s (%s): %s", y->server,
                 y->port, y->tcp ? "tcp" : "udp", strerror(rc ? rc : EADDRNOTAVAIL));
    return y->fd >= 0;
}

static size_t write_udp(syslog_sink *y, const lw_sink_msg *m, size_t n, const char *ts, char *err,
                        size_t errlen)
{
    if (!reserve(y, HEADER_MAX + UDP_MAX)) {
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t body = m[i].len - 1; /* without the newline */
        size_t h = header(y, ts, severity_of(m[i].data, body), y->buf);
        if (h + body > UDP_MAX) {
            body = UDP_MAX - h;
            y->base.truncated++;
        }
        memcpy(y->buf + h, m[i].data, body);
        ssize_t w;
        do w = send(y->fd, y->buf, h + body, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0) {
            snprintf(err, errlen, "send to syslog server %s port %s: %s", y->server, y->port,
                     strerror(errno));
            return i;
        }
    }
    return n;
}

static size_t write_tcp(syslog_sink *y, const lw_sink_msg *m, size_t n, const char *ts, char *err,
                        size_t errlen)
{
    if (lw_sink_peer_gone(y->fd)) {
        snprintf(err, errlen, "syslog server %s port %s closed the connection", y->server, y->port);
        return 0;
    }
    size_t done = 0;
    while (done < n) {
        /* frame as many events as fit in 4 MiB (at least one) into one buffer */
        size_t used = 0, k = done;
        size_t ends[256];
        while (k < n && k - done < 256) {
            size_t body = m[k].len - 1;
            size_t need = used + HEADER_MAX + 24 + body;
            if (k > done && need > (4u << 20)) break;
            if (!reserve(y, need)) {
                snprintf(err, errlen, "out of memory");
                return done;
            }
            char hdr[HEADER_MAX];
            size_t h = header(y, ts, severity_of(m[k].data, body), hdr);
            int p = snprintf(y->buf + used, 24, "%zu ", h + body);
            used += p > 0 ? (size_t)p : 0;
            memcpy(y->buf + used, hdr, h);
            memcpy(y->buf + used + h, m[k].data, body);
            used += h + body;
            ends[k - done] = used;
            k++;
        }
        size_t off = 0;
        while (off < used) {
            ssize_t w = send(y->fd, y->buf + off, used - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                snprintf(err, errlen, "send to syslog server %s port %s: %s", y->server, y->port,
                         w < 0 ? strerror(errno) : "nothing sent");
                size_t whole = 0;
                while (done + whole < k && ends[whole] <= off) whole++;
                return done + whole;
            }
            off += (size_t)w;
        }
        done = k;
    }
    return n;
}

static size_t syslog_write(lw_sink *s, const lw_sink_msg *m, size_t n, char *err, size_t errlen)
{
    syslog_sink *y = (syslog_sink *)s;
    char ts[64];
    now_rfc3339(ts, sizeof(ts));
    return y->tcp ? write_tcp(y, m, n, ts, err, errlen) : write_udp(y, m, n, ts, err, errlen);
}

static void syslog_destroy(lw_sink *s)
{
    syslog_sink *y = (syslog_sink *)s;
    syslog_close(s);
    free(y->server);
    free(y->buf);
    free(y);
}

static const lw_sink_ops syslog_ops = {
    .open = syslog_open,
    .write = syslog_write,
    .close = syslog_close,
    .destroy = syslog_destroy,
};

lw_sink *lw_sink_syslog_new(const char *server, uint16_t port, bool tcp, int facility, char *err,
                            size_t errlen)
{
    if (!server || !*server || facility < 0 || facility > 23) {
        snprintf(err, errlen, "output.syslog: a server and a facility 0..23 are needed");
        return NULL;
    }
    syslog_sink *y = calloc(1, sizeof(*y));
    if (y) y->server = strdup(server);
    if (!y || !y->server) {
        free(y);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    y->base.ops = &syslog_ops;
    y->tcp = tcp;
    y->facility = facility;
    y->fd = -1;
    snprintf(y->port, sizeof(y->port), "%u", (unsigned)port);
    /* HOSTNAME: printable US-ASCII, no spaces (RFC 5424 6.2.4) */
    if (gethostname(y->host, sizeof(y->host)) != 0) y->host[0] = 0;
    y->host[sizeof(y->host) - 1] = 0;
    for (char *c = y->host; *c; c++)
        if (*c < 33 || *c > 126) *c = '_';
    if (!y->host[0]) snprintf(y->host, sizeof(y->host), "-");
    snprintf(y->base.desc, sizeof(y->base.desc), "syslog %s port %u (%s)", server, (unsigned)port,
             tcp ? "tcp" : "udp");
    return &y->base;
}
