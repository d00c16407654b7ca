/*
 * flow.h — the per-worker flow table: bidirectional flows, TCP connection state, flow ids.
 *
 * Each worker owns one lw_flow_table (no locks). A flow is the 5-tuple plus the first
 * LW_MAX_VLAN VLAN ids, both directions together; `src` is the side that opened it (the
 * SYN sender; the receiver of a SYN/ACK seen first; otherwise the sender of the first packet).
 * Nothing in a flow depends on the number of workers: flow_id is a hash of the flow key, its
 * start time and its first packet's input position, so 1 and N workers give the same ids.
 *
 * Every flow leaves the table through the end callback exactly once: closed by FIN/RST (after
 * a short linger for the last ACKs), idle past its timeout, evicted at max_flows, replaced by
 * a new connection on the same 5-tuple, or flushed at end of input / shutdown.
 */
#ifndef LW_FLOW_H
#define LW_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "leakwatch/community_id.h"
#include "leakwatch/counters.h"
#include "leakwatch/packet.h"
#include "leakwatch/reassembly.h"

/* Why a flow ended (the flow event's `reason`). A TCP flow closed by FIN or RST keeps
 * "fin"/"rst" whatever removes it from the table afterwards (linger end, eviction, flush). */
enum lw_flow_reason {
    LW_FLOW_END_FIN,
    LW_FLOW_END_RST,
    LW_FLOW_END_TIMEOUT,
    LW_FLOW_END_EOF,
    LW_FLOW_END_SHUTDOWN,
};
const char *lw_flow_reason_name(enum lw_flow_reason r); /* "fin","rst","timeout","eof","shutdown" */

/* TCP connection state as seen by a passive observer. */
enum lw_tcp_state {
    LW_TCP_NONE,        /* not TCP, or no valid TCP packet yet */
    LW_TCP_SYN_SENT,    /* SYN seen */
    LW_TCP_SYN_RECV,    /* SYN/ACK seen */
    LW_TCP_ESTABLISHED, /* handshake completed, or picked up midstream */
    LW_TCP_FIN_WAIT,    /* one side sent FIN */
    LW_TCP_CLOSED,      /* both sides sent FIN */
    LW_TCP_RESET,       /* a RST was seen */
};
/* Suricata EVE tcp.state words: "none", "syn_sent", "syn_recv", "established", "fin_wait1",
 * "closed" (FIN/FIN and RST). */
const char *lw_tcp_state_name(enum lw_tcp_state s);

typedef struct lw_flow lw_flow;

/* Private table bookkeeping inside each flow. */
typedef struct lw_flow_links {
    lw_flow *hnext;               /* next flow in the same hash bucket */
    lw_flow *lru_prev, *lru_next; /* the flow's timeout-class list, least recently seen first */
    uint32_t bucket;
    uint8_t lru_class;
    uint8_t fin_dirs; /* bit d: a FIN was seen from direction d */
} lw_flow_links;

struct lw_flow {
    uint64_t flow_id; /* 52-bit, non-zero: fits a JSON number exactly */
    uint8_t ip_version, proto;
    lw_addr src_ip, dst_ip;      /* src = the side that opened the flow */
    uint16_t src_port, dst_port; /* ICMP/ICMPv6: Community ID port equivalents of type/code */
    uint8_t vlan_count;          /* tags kept, at most LW_MAX_VLAN */
    uint16_t vlan[LW_MAX_VLAN];  /* outermost first; unused entries are 0 */
    char community_id[LW_COMMUNITY_ID_LEN]; /* "1:" + base64 of SHA-1, NUL-terminated */
    uint64_t start_usec, last_usec;         /* first and latest packet time */
    uint64_t pkts[2], bytes[2]; /* [0] to server (src->dst), [1] to client; bytes = wire length */
    uint8_t tcp_state;          /* enum lw_tcp_state */
    uint8_t tcp_flags[2];       /* TCP flags seen per direction, OR-ed */
    bool syn_seen[2];           /* a SYN (or SYN/ACK) from this direction */
    enum lw_flow_reason end_reason; /* set before the end callback */
    lw_reasm_stream stream[2];      /* TCP reassembly per direction, driven by the worker */
    void *user;                     /* per-flow state of later stages (worker-owned) */
    lw_flow_links links;            /* private to the flow table */
};

/* The flow event's `state`, as Suricata EVE: "new" (one side only / handshake incomplete),
 * "established", "closed" (TCP FIN/FIN or RST). */
const char *lw_flow_state_name(const lw_flow *f);

/* True once the TCP connection has been closed by FIN from both sides or by a RST. */
bool lw_flow_tcp_closed(const lw_flow *f);

typedef struct lw_flow_config {
    uint32_t max_flows;     /* flows tracked by this table; 0 = 1000000 */
    uint32_t tcp_timeout;   /* seconds idle, established TCP; 0 = 600 */
    uint32_t udp_timeout;   /* 0 = 60 */
    uint32_t other_timeout; /* ICMP, SCTP, other IP protocols; 0 = 30 */
    uint32_t
        tcp_closed_timeout;     /* closed TCP lingers for final ACKs / retransmitted FINs; 0 = 10 */
    uint32_t tcp_new_timeout;   /* half-open (SYN, SYN/ACK only); 0 = 30 */
    uint16_t community_id_seed; /* Community ID seed; 0 is the standard value */
} lw_flow_config;

#define LW_FLOW_COUNTERS(X, P)                                                                     \
    X(P, created)          /* flows created */                                                     \
    X(P, ended_fin)        /* flows ended with reason fin */                                       \
    X(P, ended_rst)        /* flows ended with reason rst */                                       \
    X(P, timed_out)        /* flows ended with reason timeout (idle, or evicted) */                \
    X(P, ended_eof)        /* flows ended at end of input */                                       \
    X(P, ended_shutdown)   /* flows ended at shutdown */                                           \
    X(P, evicted)          /* least recently seen flows ended because max_flows was reached */     \
    X(P, port_reuse)       /* closed flows ended by a new SYN on the same 5-tuple */               \
    X(P, tcp_midstream)    /* TCP flows whose first packet was not a SYN or SYN/ACK */             \
    X(P, tcp_synack_first) /* TCP flows whose first packet was a SYN/ACK */                        \
    X(P, tcp_bad_flags)    /* TCP packets with impossible flags (SYN+FIN, SYN+RST, none) */        \
    X(P, ts_backwards)     /* packets older than their flow's latest packet */                     \
    X(P, not_ip)           /* non-IP packets handed to the flow table (ignored) */                 \
    X(P, alloc_failed)     /* packets not tracked because a flow could not be allocated */
LW_COUNTER_BLOCK(flow, FLOW, LW_FLOW_COUNTERS)

typedef struct lw_flow_table lw_flow_table;

/* Called once for every flow leaving the table (reason set in f->end_reason) BEFORE it is
 * freed: the worker flushes reassembly, writes the flow event, frees f->user. The callback
 * must not call back into the table. */
typedef void (*lw_flow_end_fn)(void *user, lw_flow *f);

/* NULL if memory runs out. The bucket array is sized from max_flows; flows are allocated
 * when created and recycled through a free list, never per packet. */
lw_flow_table *lw_flow_table_new(const lw_flow_config *cfg, lw_flow_end_fn end_cb, void *user);

/* Frees the table and its flows without callbacks; call lw_flow_table_flush first. */
void lw_flow_table_free(lw_flow_table *t);

/* Finds or creates p's flow and accounts the packet (counters, TCP state, last_usec).
 * It may first end an older flow of the same key: a closed TCP flow when a new SYN (without
 * ACK) arrives, or a flow idle past its timeout at p's time; and when max_flows flows are
 * active, the least recently seen flow is evicted (reason timeout, or fin/rst if closed).
 * Returns the flow with *dir = 0 if p travels src->dst, 1 otherwise; NULL (counted) for a
 * non-IP packet or when no flow could be allocated. */
lw_flow *lw_flow_packet(lw_flow_table *t, const lw_packet *p, int *dir);

/* Ends every flow idle past its class timeout at packet time now_usec, in O(expired):
 * one least-recently-seen list per timeout class. For results independent of the worker
 * count, call it on every worker with the same (global) packet time, and once with the
 * last packet time of the input before lw_flow_table_flush(t, LW_FLOW_END_EOF). */
void lw_flow_table_expire(lw_flow_table *t, uint64_t now_usec);

/* Ends every flow with the given reason (eof / shutdown); closed TCP flows keep fin/rst. */
void lw_flow_table_flush(lw_flow_table *t, enum lw_flow_reason reason);

uint32_t lw_flow_table_active(const lw_flow_table *t);
const lw_flow_counters *lw_flow_table_counters(const lw_flow_table *t);

/* Symmetric hash of p's flow key (same value for both directions and for an ICMP request
 * and its reply), used by the dispatcher to pick a worker. Fixed key, so deterministic. */
uint32_t lw_flow_hash(const lw_packet *p);

/*
 * Below: shared between the files of sensor/flow (not for other stages).
 */

/* A packet's flow key, in the packet's direction; ports are 0 for protocols without them
 * and Community ID port equivalents for ICMP/ICMPv6. */
typedef struct lw_flow_key {
    lw_addr src, dst;
    uint16_t sport, dport;
    uint16_t vlan[LW_MAX_VLAN];
    uint8_t ip_version, proto, vlan_count;
} lw_flow_key;

void lw_flow_key_from_packet(const lw_packet *p, lw_flow_key *k);
/* Symmetric 64-bit keyed hash of k (SipHash-1-3 of the canonically ordered key). */
uint64_t lw_flow_key_hash(const lw_flow_key *k, const uint64_t key[2]);
/* 52-bit non-zero flow id of (k, start time, the input position of the flow's first packet).
 * A packet starts at most one flow, so the position separates flows of one key that start in
 * the same microsecond (a new SYN right after a RST), and it does not depend on the worker. */
uint64_t lw_flow_id_make(const lw_flow_key *k, uint64_t start_usec, uint32_t file_idx,
                         uint64_t pkt_num);

/* TCP state tracking (flow_tcp_state.c). */
void lw_flow_tcp_start(lw_flow *f, uint8_t flags, lw_flow_counters *c);
void lw_flow_tcp_update(lw_flow *f, int dir, uint8_t flags, lw_flow_counters *c);
/* True if a TCP packet with these flags opens a new connection (SYN without ACK). */
static inline bool lw_flow_tcp_is_syn(uint8_t flags)
{
    return (flags & (LW_TCP_SYN | LW_TCP_ACK | LW_TCP_RST | LW_TCP_FIN)) == LW_TCP_SYN;
}

#endif
