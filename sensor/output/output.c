/*
 * output.c — the event output (output.h): a bounded queue of event copies, drained in
 * order by one thread into a sink (sink.h), with retry, backoff and reconnection.
 */
#include "output/sink.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_MAX 256              /* events per sink write */
#define BATCH_BYTES (4u << 20)     /* bytes per sink write (one event may be larger) */
#define RETRY_FIRST_MS 100         /* first backoff after a failure, doubling */
#define RETRY_MAX_MS 2000          /* longest backoff */
#define DRAIN_MS 5000              /* close: time left to deliver what is queued */
#define FLUSH_MS 5000              /* flush: longest wait */
#define REOPEN_WAIT_MS 2000        /* reopen: longest wait for the output thread */
#define QUEUE_BYTES (256ull << 20) /* bytes of all queued copies */
#define QUEUE_INITIAL 1024         /* ring slots allocated at first; doubles up to queue_events */

typedef struct qent {
    char *data;
    size_t len;
} qent;

struct lw_output {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* to the thread: events, reopen, stop */
    pthread_cond_t done; /* from the thread: progress, reopen result, exit */
    pthread_t thread;
    lw_sink *sink;

    qent *q; /* ring */
    size_t cap, head, count, max_events;
    uint64_t bytes, max_bytes;
    lw_output_counters c;
    uint64_t consumed; /* events taken off the queue by the sink (delivered or refused) */

    uint64_t reopen_req, reopen_done;
    bool reopen_ok;
    char reopen_err[512];

    bool stop, exited;
    bool failing;      /* in an outage (a copy of the thread's state, for flush) */
    uint64_t fail_gen; /* failed opens and writes so far */
    bool kick;         /* flush: retry now instead of at the end of the backoff */
    struct timespec stop_deadline;
    bool connected_at_start;
};

static struct timespec deadline_in(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static bool passed(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static const struct timespec *earlier(const struct timespec *a, const struct timespec *b)
{
    return (a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec)) ? a : b;
}

/* Removes the first n queued events (the lock is held) and returns them in out. */
static void pop(lw_output *o, size_t n, lw_sink_msg *out)
{
    for (size_t i = 0; i < n; i++) {
        qent *e = &o->q[o->head];
        out[i].data = e->data;
        out[i].len = e->len;
        o->bytes -= e->len;
        o->head = (o->head + 1) % o->cap;
    }
    o->count -= n;
}

typedef struct thread_state {
    bool connected;
    bool failing;     /* in an outage: the next good open counts as a reconnect */
    unsigned backoff; /* ms */
    struct timespec retry_at;
} thread_state;

/* A failed open or write (lock held): back off, and say so once per outage. */
static void failed(lw_output *o, thread_state *ts, const char *err)
{
    o->c.write_errors++;
    o->fail_gen++;
    if (!ts->failing)
        fprintf(stderr, "leakwatch: output %s: %s (events are queued and retried)\n", o->sink->desc,
                err);
    ts->failing = o->failing = true;
    ts->backoff = ts->backoff ? ts->backoff * 2 : RETRY_FIRST_MS;
    if (ts->backoff > RETRY_MAX_MS) ts->backoff = RETRY_MAX_MS;
    ts->retry_at = deadline_in(ts->backoff);
}

static void do_reopen(lw_output *o, thread_state *ts)
{
    uint64_t req = o->reopen_req;
    char err[512] = "";
    bool ok = true;
    pthread_mutex_unlock(&o->lock);
    /* not connected: the next open uses the path anew anyway */
    if (ts->connected && o->sink->ops->reopen) ok = o->sink->ops->reopen(o->sink, err, sizeof(err));
    pthread_mutex_lock(&o->lock);
    o->reopen_done = req;
    o->reopen_ok = ok;
    snprintf(o->reopen_err, sizeof(o->reopen_err), "%s", err);
    pthread_cond_broadcast(&o->done);
}

/* One sink write of the events at the head of the queue (lock held on entry and exit). */
static void deliver(lw_output *o, thread_state *ts, lw_sink_msg *batch)
{
    size_t n = 0, bytes = 0;
    for (size_t i = o->head; n < o->count && n < BATCH_MAX; n++, i = (i + 1) % o->cap) {
        if (n && bytes + o->q[i].len > BATCH_BYTES) break;
        batch[n].data = o->q[i].data;
        batch[n].len = o->q[i].len;
        bytes += o->q[i].len;
    }
    pthread_mutex_unlock(&o->lock);
    char err[512] = "";
    lw_sink *s = o->sink;
    uint64_t rejected = s->rejected, truncated = s->truncated;
    size_t done = s->ops->write(s, batch, n, err, sizeof(err));
    if (done > n) done = n;
    if (done < n && s->ops->close) s->ops->close(s);
    pthread_mutex_lock(&o->lock);
    pop(o, done, batch);
    uint64_t refused = s->rejected - rejected;
    o->c.dropped_rejected += refused;
    o->c.written += done - refused;
    o->c.truncated += s->truncated - truncated;
    o->consumed += done;
    if (done < n) {
        ts->connected = false;
        failed(o, ts, err[0] ? err : "write failed");
    } else if (ts->failing) {
        ts->failing = o->failing = false;
        ts->backoff = 0;
        fprintf(stderr, "leakwatch: output %s: delivering again\n", s->desc);
    }
    pthread_cond_broadcast(&o->done);
    pthread_mutex_unlock(&o->lock);
    for (size_t i = 0; i < done; i++) free((char *)batch[i].data);
    pthread_mutex_lock(&o->lock);
}

static void *output_main(void *arg)
{
    lw_output *o = arg;
    lw_sink_msg batch[BATCH_MAX];
    thread_state ts = {.connected = o->connected_at_start};
    if (!ts.connected) {
        ts.failing = true; /* o->failing was set before the thread started */
        ts.backoff = RETRY_FIRST_MS;
        ts.retry_at = deadline_in(ts.backoff);
    }
    pthread_mutex_lock(&o->lock);
    for (;;) {
        if (o->reopen_req != o->reopen_done) {
            do_reopen(o, &ts);
            continue;
        }
        if (o->count == 0) {
            if (o->stop) break;
            pthread_cond_broadcast(&o->done);
            pthread_cond_wait(&o->wake, &o->lock);
            continue;
        }
        if (o->stop && passed(&o->stop_deadline)) break;
        if (!ts.connected) {
            if (!passed(&ts.retry_at) && !o->kick) {
                const struct timespec *until =
                    o->stop ? earlier(&ts.retry_at, &o->stop_deadline) : &ts.retry_at;
                pthread_cond_timedwait(&o->wake, &o->lock, until);
                continue;
            }
            char err[512] = "";
            o->kick = false;
            pthread_mutex_unlock(&o->lock);
            bool ok = o->sink->ops->open(o->sink, err, sizeof(err));
            pthread_mutex_lock(&o->lock);
            if (!ok) {
                failed(o, &ts, err[0] ? err : "open failed");
                continue;
            }
            ts.connected = true;
            o->c.reconnects++;
        }
        deliver(o, &ts, batch);
    }
    /* stop: what is left was not delivered in time */
    o->c.dropped_at_exit += o->count;
    while (o->count) {
        free(o->q[o->head].data);
        o->bytes -= o->q[o->head].len;
        o->head = (o->head + 1) % o->cap;
        o->count--;
    }
    o->exited = true;
    pthread_cond_broadcast(&o->done);
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

lw_output *lw_output_open_sink(lw_sink *s, uint32_t queue_events, uint64_t queue_bytes, char *err,
                               size_t errlen)
{
    if (!s) return NULL;
    lw_output *o = calloc(1, sizeof(*o));
    if (o) {
        o->max_events = queue_events ? queue_events : 1;
        o->cap = o->max_events < QUEUE_INITIAL ? o->max_events : QUEUE_INITIAL;
        o->q = calloc(o->cap, sizeof(*o->q));
    }
    if (!o || !o->q) {
        snprintf(err, errlen, "out of memory");
        if (o) free(o);
        s->ops->destroy(s);
        return NULL;
    }
    o->sink = s;
    o->max_bytes = queue_bytes ? queue_bytes : QUEUE_BYTES;
    char why[512] = "";
    o->connected_at_start = s->ops->open(s, why, sizeof(why));
    if (!o->connected_at_start) {
        if (s->must_open) {
            snprintf(err, errlen, "%s", why[0] ? why : "cannot open the output");
            goto fail;
        }
        fprintf(stderr,
                "leakwatch: output %s: %s (the sensor runs on: events are queued and "
                "the connection retried)\n",
                s->desc, why[0] ? why : "not reachable");
        o->c.write_errors++;
        o->failing = true;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->wake, &ca);
    pthread_cond_init(&o->done, &ca);
    pthread_condattr_destroy(&ca);
    /* The thread takes no signals: they go to the capture thread, and a broken connection
     * is an EPIPE error, never a SIGPIPE. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&o->thread, NULL, output_main, o);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the output thread: %s", strerror(rc));
        pthread_cond_destroy(&o->wake);
        pthread_cond_destroy(&o->done);
        pthread_mutex_destroy(&o->lock);
        goto fail;
    }
    return o;
fail:
    s->ops->destroy(s);
    free(o->q);
    free(o);
    return NULL;
}

lw_output *lw_output_open(const lw_config *cfg, const char *path_override, char *err, size_t errlen)
{
    const char *path = path_override ? path_override : cfg->output.path;
    lw_output_type type = cfg->output.type;
    if (path_override && (type == LW_OUTPUT_SYSLOG || type == LW_OUTPUT_REDIS))
        type = LW_OUTPUT_FILE; /* -o: the command line names a file */
    lw_sink *s = NULL;
    switch (type) {
    case LW_OUTPUT_FILE:
        s = lw_sink_file_new(path, err, errlen);
        break;
    case LW_OUTPUT_UNIX_DGRAM:
    case LW_OUTPUT_UNIX_STREAM:
        s = lw_sink_unix_new(path, type == LW_OUTPUT_UNIX_STREAM, err, errlen);
        break;
    case LW_OUTPUT_SYSLOG:
        s = lw_sink_syslog_new(cfg->output.syslog.server, cfg->output.syslog.port,
                               cfg->output.syslog.transport == LW_SYSLOG_TCP,
                               cfg->output.syslog.facility, err, errlen);
        break;
    case LW_OUTPUT_REDIS:
        s = lw_sink_redis_new(cfg->output.redis.server, cfg->output.redis.port,
                              cfg->output.redis.key, cfg->output.redis.mode == LW_REDIS_STREAM, err,
                              errlen);
        break;
    default:
        snprintf(err, errlen, "unknown output.type %d", (int)type);
        return NULL;
    }
    return lw_output_open_sink(s, cfg->output.queue_events, QUEUE_BYTES, err, errlen);
}

/* Grows the ring (lock held); false when it is at queue_events or memory is short. */
static bool grow(lw_output *o)
{
    if (o->cap >= o->max_events) return false;
    size_t ncap = o->cap * 2 < o->max_events ? o->cap * 2 : o->max_events;
    qent *nq = malloc(ncap * sizeof(*nq));
    if (!nq) return false;
    for (size_t i = 0; i < o->count; i++) nq[i] = o->q[(o->head + i) % o->cap];
    free(o->q);
    o->q = nq;
    o->cap = ncap;
    o->head = 0;
    return true;
}

void lw_output_write(lw_output *o, const char *line, size_t len)
{
    if (!o || !line || !len) return;
    char *copy = malloc(len);
    if (copy) memcpy(copy, line, len);
    pthread_mutex_lock(&o->lock);
    if (!copy) {
        o->c.dropped_no_memory++;
    } else if (o->stop || o->count >= o->max_events || o->bytes + len > o->max_bytes) {
        o->c.dropped_queue_full++;
    } else if (o->count == o->cap && !grow(o)) {
        o->c.dropped_no_memory++;
    } else {
        o->q[(o->head + o->count) % o->cap] = (qent){copy, len};
        copy = NULL;
        o->count++;
        o->bytes += len;
        o->c.queued++;
        if (o->count > o->c.queue_max) o->c.queue_max = o->count;
        if (o->bytes > o->c.queue_bytes_max) o->c.queue_bytes_max = o->bytes;
        if (o->count == 1) pthread_cond_signal(&o->wake);
    }
    pthread_mutex_unlock(&o->lock);
    free(copy);
}

bool lw_output_reopen(lw_output *o, char *err, size_t errlen)
{
    if (!o) return true;
    if (!o->sink->ops->reopen) return true;
    struct timespec until = deadline_in(REOPEN_WAIT_MS);
    pthread_mutex_lock(&o->lock);
    uint64_t req = ++o->reopen_req;
    pthread_cond_signal(&o->wake);
    while (o->reopen_done < req && !o->exited)
        if (pthread_cond_timedwait(&o->done, &o->lock, &until) == ETIMEDOUT) break;
    bool ok = true;
    if (o->reopen_done >= req) {
        ok = o->reopen_ok;
        if (!ok) snprintf(err, errlen, "%s", o->reopen_err);
    } /* else still pending: the output thread reopens when its current write returns */
    pthread_mutex_unlock(&o->lock);
    return ok;
}

void lw_output_flush(lw_output *o)
{
    if (!o) return;
    struct timespec until = deadline_in(FLUSH_MS);
    pthread_mutex_lock(&o->lock);
    /* events are consumed in queue order: what was queued before now is done when the
     * consumed count (plus what is dropped) reaches it */
    uint64_t target = o->c.queued;
    /* a sink in an outage is tried again at once; if that fails too, it is not waited for
     * (close drains what it can) */
    o->kick = true;
    pthread_cond_signal(&o->wake);
    uint64_t gen = o->fail_gen;
    while (o->consumed < target && !o->exited && !(o->failing && o->fail_gen != gen))
        if (pthread_cond_timedwait(&o->done, &o->lock, &until) == ETIMEDOUT) break;
    pthread_mutex_unlock(&o->lock);
}

void lw_output_get_counters(lw_output *o, lw_output_counters *c)
{
    memset(c, 0, sizeof(*c));
    if (!o) return;
    pthread_mutex_lock(&o->lock);
    *c = o->c;
    c->queue_depth = o->count;
    c->queue_bytes = o->bytes;
    pthread_mutex_unlock(&o->lock);
}

uint64_t lw_output_events_written(lw_output *o)
{
    lw_output_counters c;
    lw_output_get_counters(o, &c);
    return c.written;
}

uint64_t lw_output_write_errors(lw_output *o)
{
    lw_output_counters c;
    lw_output_get_counters(o, &c);
    return c.write_errors;
}

void lw_output_close(lw_output *o)
{
    if (!o) return;
    pthread_mutex_lock(&o->lock);
    o->stop = true;
    o->stop_deadline = deadline_in(DRAIN_MS);
    pthread_cond_signal(&o->wake);
    pthread_mutex_unlock(&o->lock);
    pthread_join(o->thread, NULL);
    if (o->c.dropped_at_exit)
        fprintf(stderr,
                "leakwatch: output %s: %llu events not delivered at exit (dropped_at_exit: the "
                "sink did not take them within %d s)\n",
                o->sink->desc, (unsigned long long)o->c.dropped_at_exit, DRAIN_MS / 1000);
    o->sink->ops->destroy(o->sink);
    free(o->q);
    pthread_cond_destroy(&o->wake);
    pthread_cond_destroy(&o->done);
    pthread_mutex_destroy(&o->lock);
    free(o);
}
