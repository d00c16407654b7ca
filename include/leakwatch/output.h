/*
 * output.h — the event output: a bounded queue in front of one sink (file/stdout, unix
 * socket, syslog, redis), drained by its own thread.
 *
 * Any thread may write; lw_output_write copies the line (one complete JSON line ending in
 * '\n') into the queue under a short lock and never waits for the sink. A full queue drops the
 * event and counts it. Events the sink could not take stay at the head of the queue and are
 * retried with backoff (100 ms doubling to 2 s), reconnecting the sink. See README "Event
 * sinks".
 */
#ifndef LW_OUTPUT_H
#define LW_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/config.h"

typedef struct lw_output lw_output;

/* What the output did so far (a consistent snapshot). */
typedef struct lw_output_counters {
    uint64_t queued;                 /* events accepted into the queue */
    uint64_t written;                /* events delivered to the sink */
    uint64_t dropped_queue_full;     /* refused: queue_events or the byte cap reached */
    uint64_t dropped_no_memory;      /* refused: the copy could not be allocated */
    uint64_t dropped_rejected;       /* the sink refused the event for good (datagram too large,
                                        redis error reply) */
    uint64_t dropped_at_exit;        /* still queued when the close drain ran out of time */
    uint64_t truncated;              /* delivered cut short (syslog over UDP, > 64 KiB) */
    uint64_t write_errors;           /* failed delivery attempts (each one is retried) */
    uint64_t reconnects;             /* the sink opened again after a failure */
    uint64_t queue_depth, queue_max; /* events queued now, and the most ever */
    uint64_t queue_bytes, queue_bytes_max;
} lw_output_counters;

/* Opens the output the configuration names. path_override (-o, may be NULL) replaces
 * output.path: for type file it is the file ("-" = stdout), for unix_* the socket path; with
 * type syslog or redis it switches the output to that file. A file that cannot be opened is
 * an error (NULL, one line in err); a socket, syslog or redis server that is not reachable is
 * not: one warning on stderr, events are queued and the connection retried. */
lw_output *lw_output_open(const lw_config *cfg, const char *path_override, char *err,
                          size_t errlen);
void lw_output_write(lw_output *o, const char *line, size_t len);
/* SIGHUP: the file sink reopens its path (logrotate), on the output thread; waits up to 2 s
 * for the result. A no-op for stdout and network sinks. */
bool lw_output_reopen(lw_output *o, char *err, size_t errlen);
/* Waits (at most 5 s) until every event queued before the call has been delivered. A sink in
 * an outage is retried at once; when that fails too flush returns (close drains what it can). */
void lw_output_flush(lw_output *o);
uint64_t lw_output_events_written(lw_output *o);
uint64_t lw_output_write_errors(lw_output *o);
void lw_output_get_counters(lw_output *o, lw_output_counters *c);
/* Drains the queue for at most 5 s (the rest counted as dropped_at_exit and said on
 * stderr), stops the thread, closes the sink. NULL is fine. */
void lw_output_close(lw_output *o);

#endif
