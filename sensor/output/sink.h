/*
 * sink.h — the sink interface behind the output queue (output.c), and the constructors of
 * the sinks (sink_file.c, sink_unix.c, sink_syslog.c, sink_redis.c).
 *
 * Every sink function except the constructors runs on the output thread only.
 */
#ifndef LW_SINK_H
#define LW_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "leakwatch/output.h"

/* One queued event: a JSON line, len includes the final '\n'. */
typedef struct lw_sink_msg {
    const char *data;
    size_t len;
} lw_sink_msg;

typedef struct lw_sink lw_sink;

typedef struct lw_sink_ops {
    /* Opens or connects. false: not reachable now (err says why); the output retries. */
    bool (*open)(lw_sink *s, char *err, size_t errlen);
    /* Delivers m[0..n) in order; returns how many were consumed (delivered, or refused for
     * good and counted in s->rejected). Fewer than n is a failure with err set: the output
     * calls close, and open + write again later with the rest. */
    size_t (*write)(lw_sink *s, const lw_sink_msg *m, size_t n, char *err, size_t errlen);
    /* SIGHUP (NULL: nothing to do). false: err set, the old destination stays. */
    bool (*reopen)(lw_sink *s, char *err, size_t errlen);
    /* Drops the connection after a failure (NULL: nothing to do). */
    void (*close)(lw_sink *s);
    void (*destroy)(lw_sink *s);
} lw_sink_ops;

struct lw_sink {
    const lw_sink_ops *ops;
    char desc[300];     /* "redis 127.0.0.1:6379 list leakwatch", for messages */
    bool must_open;     /* a failed first open is fatal (files); otherwise retried */
    uint64_t rejected;  /* events refused for good */
    uint64_t truncated; /* events delivered cut short */
};

/* Constructors: NULL with err only when out of memory or the settings are unusable. */
lw_sink *lw_sink_file_new(const char *path, char *err, size_t errlen); /* "-" = stdout */
lw_sink *lw_sink_unix_new(const char *path, bool stream, char *err, size_t errlen);
lw_sink *lw_sink_syslog_new(const char *server, uint16_t port, bool tcp, int facility, char *err,
                            size_t errlen);
lw_sink *lw_sink_redis_new(const char *server, uint16_t port, const char *key, bool stream,
                           char *err, size_t errlen);

/* The output around any sink (unit tests bring their own). Takes ownership of s (destroyed
 * on failure too). queue_bytes caps the bytes of all queued copies. */
lw_output *lw_output_open_sink(lw_sink *s, uint32_t queue_events, uint64_t queue_bytes, char *err,
                               size_t errlen);

/* Helpers shared by the stream sinks. */
/* Writes whole lines of m[0..n) to fd (send with MSG_NOSIGNAL when is_socket), skipping the
 * first *partial bytes of m[0] (written before). Returns the lines written completely; on an
 * error *partial is the bytes of the next line already written and err is set. */
size_t lw_sink_write_lines(int fd, bool is_socket, const lw_sink_msg *m, size_t n, size_t *partial,
                           char *err, size_t errlen);
/* The peer of a connected stream socket closed it (or it has an error pending). */
bool lw_sink_peer_gone(int fd);
/* Send/receive timeouts (1 s) so a stuck peer never blocks the output thread for long. */
void lw_sink_set_timeouts(int fd);
/* connect() with a 1 s timeout; the socket is left blocking. 0 or an errno value. */
int lw_sink_connect(int fd, const struct sockaddr *sa, unsigned salen);

#endif
