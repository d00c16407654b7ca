/*
 * dispatch.c — capture thread → worker threads (see dispatch.h).
 *
 * Ring records: PKT = lw_packet followed by the bytes of its IP datagram (pointers are
 * rebased on the worker side), TICK = packet time, END = end reason, STATS = copy your
 * counters into your snapshot (periodic live stats; the worker thread copies them itself, so
 * nothing reads a running worker's state from another thread). Rings are FIFO, so a worker
 * sees its packets and ticks in capture order.
 */
#include "dispatch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ftp_steer.h"
#include "spsc_ring.h"
#include "stats.h"

LW_COUNTER_NAMES(dispatch, DISPATCH, LW_DISPATCH_COUNTERS)

#define RING_BYTES (16u << 20) /* per worker: ~10k full-size packets in flight */
/* the largest record lw_ring_reserve takes (a quarter of the ring, less header and padding) */
#define REC_MAX (RING_BYTES / 4 - 64)

enum { REC_PKT = 1, REC_TICK = 2, REC_END = 3, REC_STATS = 4 };

typedef struct lw_worker_slot {
    lw_worker worker;
    lw_ring *ring;
    pthread_t thread;
    bool started;
    double cpu_seconds;           /* CPU time of the thread, taken when it ends */
    uint64_t queued, queue_drops; /* this worker's share of the counters (capture thread) */
    /* the worker's counters as its thread last copied them (REC_STATS), under snap_lock */
    pthread_mutex_t snap_lock;
    bool snap_lock_init, have_snap;
    lw_stats_totals *snap;
} lw_worker_slot;

struct lw_dispatch {
    int n;
    bool block;
    lw_worker_slot *slots;
    lw_ftp_steer *ftp; /* FTP data connections to their control flow's worker (n > 1) */
    lw_dispatch_counters counters;
};

/* The packet record: descriptor + offsets of its pointers into the copied bytes. */
typedef struct pkt_rec {
    lw_packet p;
    uint32_t l3_len;
    uint32_t payload_off; /* offset of the payload in the copied bytes */
} pkt_rec;

typedef struct end_rec {
    uint64_t now_usec;
    uint32_t reason;
} end_rec;

static void *worker_main(void *arg)
{
    lw_worker_slot *s = arg;
    for (;;) {
        uint32_t len, type;
        const uint8_t *rec = lw_ring_peek(s->ring, &len, &type);
        if (type == REC_PKT) {
            pkt_rec h;
            memcpy(&h, rec, sizeof(h));
            const uint8_t *bytes = rec + sizeof(h);
            h.p.l3 = bytes;
            h.p.payload = bytes + h.payload_off;
            lw_worker_packet(&s->worker, &h.p);
        } else if (type == REC_TICK) {
            uint64_t now;
            memcpy(&now, rec, sizeof(now));
            lw_worker_tick(&s->worker, now);
        } else if (type == REC_STATS) {
            pthread_mutex_lock(&s->snap_lock);
            lw_stats_worker_snapshot(s->snap, &s->worker);
            s->have_snap = true;
            pthread_mutex_unlock(&s->snap_lock);
        } else if (type == REC_END) {
            end_rec e;
            memcpy(&e, rec, sizeof(e));
            lw_ring_release(s->ring);
            lw_worker_finish(&s->worker, e.now_usec, (enum lw_flow_reason)e.reason);
            struct timespec ts;
            if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
                s->cpu_seconds = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
            return NULL;
        }
        lw_ring_release(s->ring);
    }
}

lw_dispatch *lw_dispatch_new(lw_runtime *rt, int nworkers, bool block)
{
    lw_dispatch *d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    d->n = nworkers < 1 ? 1 : nworkers;
    d->block = block;
    d->slots = calloc((size_t)d->n, sizeof(*d->slots));
    if (!d->slots) goto fail;
    for (int i = 0; i < d->n; i++) {
        lw_worker_slot *s = &d->slots[i];
        if (!lw_worker_init(&s->worker, i, rt)) goto fail;
        if (d->n == 1) continue; /* inline on the capture thread */
        if (!d->ftp && !(d->ftp = lw_ftp_steer_new())) goto fail;
        if (!(s->snap = calloc(1, sizeof(*s->snap)))) goto fail;
        if (pthread_mutex_init(&s->snap_lock, NULL) != 0) goto fail;
        s->snap_lock_init = true;
        s->ring = lw_ring_new(RING_BYTES);
        if (!s->ring || pthread_create(&s->thread, NULL, worker_main, s) != 0) goto fail;
        s->started = true;
    }
    return d;
fail:
    lw_dispatch_finish(d, 0, LW_FLOW_END_SHUTDOWN);
    lw_dispatch_free(d);
    return NULL;
}

/* DNS over UDP goes by the client's address alone: the DNS-tunnel count of one host then
 * grows on one worker, in packet order, whatever the number of workers. */
static uint32_t dns_client_hash(const lw_packet *p)
{
    if (p->proto != 17 || (p->dport == 53) == (p->sport == 53)) return p->flow_hash;
    const lw_addr *client = p->dport == 53 ? &p->src : &p->dst;
    uint32_t h = 2166136261u;
    for (int i = 0; i < (p->ip_version == 4 ? 4 : 16); i++) h = (h ^ client->b[i]) * 16777619u;
    return h ^ h >> 15;
}

void lw_dispatch_packet(lw_dispatch *d, const lw_packet *p)
{
    if (d->n == 1) {
        lw_worker_packet(&d->slots[0].worker, p);
        return;
    }
    int worker = (int)(dns_client_hash(p) % (uint32_t)d->n);
    worker = lw_ftp_steer_route(d->ftp, p, worker, &d->counters.c[LW_DISPATCH_ftp_steered],
                                &d->counters.c[LW_DISPATCH_ftp_steer_full]);
    lw_worker_slot *s = &d->slots[worker];
    pkt_rec h = {.p = *p, .l3_len = p->l3_len};
    const uint8_t *end = p->l3 + p->l3_len;
    bool payload_inside = p->payload >= p->l3 && p->payload + p->payload_len <= end;
    uint32_t extra = payload_inside ? 0 : p->payload_len;
    h.payload_off = payload_inside ? (uint32_t)(p->payload - p->l3) : p->l3_len;
    uint64_t rec_len = (uint64_t)sizeof(h) + p->l3_len + extra;
    if (rec_len > REC_MAX) { /* the ring refuses it whether or not it is full */
        d->counters.c[LW_DISPATCH_oversize]++;
        return;
    }
    uint8_t *dst = lw_ring_reserve(s->ring, (uint32_t)rec_len, REC_PKT, d->block);
    if (!dst) { /* live: the ring is full; the capture thread goes on */
        d->counters.c[LW_DISPATCH_queue_drops]++;
        s->queue_drops++;
        return;
    }
    memcpy(dst, &h, sizeof(h));
    memcpy(dst + sizeof(h), p->l3, p->l3_len);
    if (extra) memcpy(dst + sizeof(h) + p->l3_len, p->payload, extra);
    lw_ring_commit(s->ring);
    d->counters.c[LW_DISPATCH_queued]++;
    s->queued++;
}

/* A small record to every worker; !block (live ticks): a full ring skips it, counted. */
static void broadcast(lw_dispatch *d, uint32_t type, const void *data, uint32_t len, bool block)
{
    for (int i = 0; i < d->n; i++) {
        lw_worker_slot *s = &d->slots[i];
        if (!s->started) continue;
        void *dst = lw_ring_reserve(s->ring, len, type, block);
        if (!dst) {
            d->counters.c[LW_DISPATCH_tick_drops]++;
            continue;
        }
        memcpy(dst, data, len);
        lw_ring_commit(s->ring);
    }
}

void lw_dispatch_tick(lw_dispatch *d, uint64_t now_usec)
{
    d->counters.c[LW_DISPATCH_ticks]++;
    if (d->n == 1) {
        lw_worker_tick(&d->slots[0].worker, now_usec);
        return;
    }
    broadcast(d, REC_TICK, &now_usec, sizeof(now_usec), d->block);
}

void lw_dispatch_request_snapshots(lw_dispatch *d)
{
    if (d->n == 1) return; /* inline: the capture thread reads the worker itself */
    uint8_t none = 0;
    broadcast(d, REC_STATS, &none, sizeof(none), d->block);
}

bool lw_dispatch_with_snapshot(lw_dispatch *d, int i,
                               void (*fn)(void *ctx, const lw_stats_totals *snap), void *ctx)
{
    lw_worker_slot *s = &d->slots[i];
    if (d->n == 1 || !s->started || !s->snap_lock_init) return false;
    pthread_mutex_lock(&s->snap_lock);
    bool have = s->have_snap;
    if (have) fn(ctx, s->snap);
    pthread_mutex_unlock(&s->snap_lock);
    return have;
}

void lw_dispatch_finish(lw_dispatch *d, uint64_t now_usec, enum lw_flow_reason reason)
{
    if (!d->slots) return;
    if (d->n == 1) {
        if (d->slots[0].worker.flows) lw_worker_finish(&d->slots[0].worker, now_usec, reason);
        return;
    }
    end_rec e = {.now_usec = now_usec, .reason = (uint32_t)reason};
    broadcast(d, REC_END, &e, sizeof(e), true); /* the end must reach every worker */
    for (int i = 0; i < d->n; i++) {
        if (!d->slots[i].started) continue;
        pthread_join(d->slots[i].thread, NULL);
        d->slots[i].started = false;
    }
}

int lw_dispatch_workers(const lw_dispatch *d)
{
    return d->n;
}

lw_worker *lw_dispatch_worker(lw_dispatch *d, int i)
{
    return &d->slots[i].worker;
}

const lw_dispatch_counters *lw_dispatch_get_counters(const lw_dispatch *d)
{
    return &d->counters;
}

void lw_dispatch_worker_queue(const lw_dispatch *d, int i, uint64_t *queued, uint64_t *drops)
{
    *queued = d->slots[i].queued;
    *drops = d->slots[i].queue_drops;
}

double lw_dispatch_worker_cpu(lw_dispatch *d, int i)
{
    return d->slots[i].cpu_seconds;
}

void lw_dispatch_free(lw_dispatch *d)
{
    if (!d) return;
    for (int i = 0; d->slots && i < d->n; i++) {
        lw_worker_destroy(&d->slots[i].worker);
        lw_ring_free(d->slots[i].ring);
        if (d->slots[i].snap_lock_init) pthread_mutex_destroy(&d->slots[i].snap_lock);
        free(d->slots[i].snap);
    }
    free(d->slots);
    lw_ftp_steer_free(d->ftp);
    free(d);
}
