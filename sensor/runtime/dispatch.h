/*
 * dispatch.h — hands decoded packets to the worker that owns their flow.
 *
 * With one worker the packet is processed inline on the capture thread. With N workers each
 * has its own thread and a bounded single-producer ring; the packet descriptor and its IP
 * datagram are copied into the ring of worker (flow_hash % N). Packet-time ticks go to every
 * worker, so flow timeouts happen at the same packet times whatever the worker count.
 *
 * Live capture (block false) never waits for a worker: a packet that finds its worker's ring
 * full is dropped and counted (in total and per worker), a tick that finds it full is skipped
 * (ticks carry absolute time, the next one catches up).
 */
#ifndef LW_DISPATCH_H
#define LW_DISPATCH_H

#include "leakwatch/packet.h"
#include "worker.h"

#define LW_DISPATCH_COUNTERS(X, P)                                                                 \
    X(P, queued)         /* packets copied to a worker ring */                                     \
    X(P, queue_drops)    /* packets dropped at a full ring (live capture only) */                  \
    X(P, oversize)       /* packets larger than a ring record can hold (counted, not inspected) */ \
    X(P, ticks)          /* packet-time ticks broadcast */                                         \
    X(P, tick_drops)     /* ticks a full ring could not take (live): expiry waits for the next */  \
    X(P, ftp_steered)    /* packets of FTP data connections sent to their control flow's worker */ \
    X(P, ftp_steer_full) /* FTP announcements the steering table had no slot for */
LW_COUNTER_BLOCK(dispatch, DISPATCH, LW_DISPATCH_COUNTERS)

typedef struct lw_dispatch lw_dispatch;

/* block: a full ring makes the producer wait (offline) instead of dropping (live). */
lw_dispatch *lw_dispatch_new(lw_runtime *rt, int nworkers, bool block);
void lw_dispatch_packet(lw_dispatch *d, const lw_packet *p);
void lw_dispatch_tick(lw_dispatch *d, uint64_t now_usec);
/* Ends every flow (see lw_worker_finish) and stops the worker threads; workers stay readable. */
void lw_dispatch_finish(lw_dispatch *d, uint64_t now_usec, enum lw_flow_reason reason);
int lw_dispatch_workers(const lw_dispatch *d);
lw_worker *lw_dispatch_worker(lw_dispatch *d, int i);
const lw_dispatch_counters *lw_dispatch_get_counters(const lw_dispatch *d);
struct lw_stats_totals;
/* Periodic live stats: every worker thread copies its counters into its snapshot when it
 * reaches this request (a full ring skips it: the previous snapshot stays). No-op inline. */
void lw_dispatch_request_snapshots(lw_dispatch *d);
/* Calls fn with worker i's latest snapshot under its lock; false (fn not called) when the
 * worker runs inline, has ended, or has not answered a request yet. */
bool lw_dispatch_with_snapshot(lw_dispatch *d, int i,
                               void (*fn)(void *ctx, const struct lw_stats_totals *snap),
                               void *ctx);
/* Packets queued to and dropped at worker i's ring (capture thread's view; 0 when inline). */
void lw_dispatch_worker_queue(const lw_dispatch *d, int i, uint64_t *queued, uint64_t *drops);
/* CPU seconds a worker thread used (after lw_dispatch_finish; 0 when inline). For --profile. */
double lw_dispatch_worker_cpu(lw_dispatch *d, int i);
void lw_dispatch_free(lw_dispatch *d);

#endif
