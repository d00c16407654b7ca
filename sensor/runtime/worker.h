/*
 * worker.h — one worker: it owns a flow table, the reassembly of its flows and everything
 * after (application layers, matching, events). A packet reaches exactly one worker, chosen
 * by the symmetric flow hash, so no state is shared between workers on the packet path.
 */
#ifndef LW_WORKER_H
#define LW_WORKER_H

#include "app_layer.h"
#include "leakwatch/counters.h"
#include "leakwatch/classify.h"
#include "leakwatch/json.h"
#include "leakwatch/match.h"
#include "leakwatch/packet.h"
#include "engine.h"
#include "runtime.h"

#define LW_WORKER_COUNTERS(X, P)                                                                   \
    X(P, packets)         /* IP packets handled */                                                 \
    X(P, tcp_rst_payload) /* payload carried on RST segments: not stream data, not inspected */    \
    X(P, tcp_truncated)   /* segments whose payload the capture cut (snaplen) */                   \
    X(P, udp_datagrams)   /* UDP payloads handed on */                                             \
    X(P, stream_bytes)    /* reassembled bytes, both directions */                                 \
    X(P, egress_bytes)    /* payload bytes sent from home_net to outside */                        \
    X(P, inspect_bytes)   /* bytes selected for inspection (--inspect) */                          \
    X(P, dump_errors)     /* --dump-streams write failures */                                      \
    X(P, event_errors)    /* events that could not be built (out of memory) */                     \
    X(P, flow_ctx_failed) /* flows without worker state (out of memory): not inspected */          \
    X(P, alerts)          /* alert events */                                                       \
    X(P, dlp_nomem)       /* validated values that could not be recorded (out of memory) */        \
    X(P, allowlisted_directions) /* inspected directions to allowlisted destinations */            \
    X(P, allowlisted_bytes)      /* bytes of those directions, not scanned */                      \
    X(P, allowlisted_by_name)    /* flows whose TLS SNI / HTTP Host is an allowlisted name */      \
    X(P, volume_alerts)          /* alerts of kind: volume signatures */                           \
    X(P, error_events)           /* error events about flows (decoding guards) */                  \
    X(P, engine_switches)        /* new flows went to a reloaded signature engine */               \
    X(P, engine_switch_failed)   /* a reloaded engine could not get its scratch: kept the old */   \
    X(P, engines_retired)        /* engine generations freed once their last flow ended */
LW_COUNTER_BLOCK(worker, WORKER, LW_WORKER_COUNTERS)

/* One engine generation as a worker uses it: its Hyperscan scratch and buffers and the
 * datagram stream. New flows take the worker's current one; an older one lives until the last
 * flow that started on it ends (a flow finishes on the database it started with). */
typedef struct lw_wengine {
    lw_engine *e;
    lw_match_worker *match; /* NULL when the engine has no content signatures */
    lw_match_stream *dgram; /* the match stream every UDP datagram is scanned in */
    uint64_t flows;         /* flows holding it */
    struct lw_wengine *next;
} lw_wengine;

typedef struct lw_worker {
    int id;
    lw_runtime *rt;
    lw_flow_table *flows;
    lw_reasm_ctx reasm;
    lw_json json;
    lw_wengine *cur;                 /* the engine new flows start on */
    lw_wengine *engines;             /* cur and every older one still in use, newest first */
    lw_match_counters match_retired; /* counters of the engines freed so far */
    uint64_t engine_seen;            /* the slot's generation last switched to (or tried) */
    const lw_packet *packet;         /* the packet being handled (alerts name it) */
    lw_worker_counters counters;
    lw_classifier *cls; /* nDPI (NULL when classification is off) */
    /* packets and bytes of ended flows by app_proto (nDPI id; 0 = Unknown) */
    uint64_t proto_pkts[LW_CLASSIFY_MAX_PROTO], proto_bytes[LW_CLASSIFY_MAX_PROTO];
    uint64_t now_usec;
    /* application layers */
    lw_app_counters app;
    lw_decomp_pool pool; /* memory of this worker's decompressors */
    uint32_t dgram_msg;  /* datagrams scanned (each is a message for lw_app_seen) */
#define LW_WORKER_SEEN 64
    uint64_t seen[LW_WORKER_SEEN], seen_flow[LW_WORKER_SEEN]; /* recent (value, message) */
    unsigned seen_next;
} lw_worker;

bool lw_worker_init(lw_worker *w, int id, lw_runtime *rt);
void lw_worker_packet(lw_worker *w, const lw_packet *p);
/* Packet time advanced to now_usec: flows idle past their timeout end. */
void lw_worker_tick(lw_worker *w, uint64_t now_usec);
/* End of input or shutdown at packet time now_usec: flows idle past their timeout by then
 * end as timed out (as they would with any worker count), every other flow with reason. */
void lw_worker_finish(lw_worker *w, uint64_t now_usec, enum lw_flow_reason reason);
void lw_worker_destroy(lw_worker *w);
/* The matching counters of every engine this worker used. */
void lw_worker_match_counters(const lw_worker *w, lw_match_counters *out);

#endif
