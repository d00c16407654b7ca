/*
 * reassembly.h — TCP stream reassembly, one lw_reasm_stream per flow direction.
 *
 * In-order data is handed to the sink straight from the packet (no copy); out-of-order
 * segments are copied and buffered until the hole before them fills. Overlaps and
 * retransmissions are resolved first-data-wins. Data the capture never saw becomes a
 * counted gap notice, after which delivery continues. The sink sees, per direction,
 * contiguous runs of bytes at increasing 64-bit stream offsets, interleaved with gap notices.
 */
#ifndef LW_REASSEMBLY_H
#define LW_REASSEMBLY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "leakwatch/counters.h"

#define LW_REASM_COUNTERS(X, P)                                                                    \
    X(P, segments)        /* segments with payload handed to reassembly */                         \
    X(P, in_order)        /* delivered straight from the packet */                                 \
    X(P, out_of_order)    /* buffered because a hole was before them */                            \
    X(P, retransmissions) /* segments entirely made of bytes already seen */                       \
    X(P, overlaps)        /* segments partly overlapping bytes already seen */                     \
    X(P, overlap_diff)    /* overlapping bytes that differed from the first copy */                \
    X(P, gaps)            /* holes declared (capture loss) */                                      \
    X(P, gap_bytes)       /* bytes in those holes */                                               \
    X(P, memcap_hits)     /* out-of-order data refused by reassembly.memcap_mb */                  \
    X(P, memcap_bytes)    /* bytes refused by the memcap */                                        \
    X(P, depth_reached)   /* directions that hit reassembly.depth_mb */                            \
    X(P, depth_bytes)     /* bytes past the depth, not inspected */                                \
    X(P, out_of_window)   /* segments too far from the expected sequence to be this stream */      \
    X(P, data_after_fin)  /* payload beyond the FIN sequence number */                             \
    X(P, delivered_bytes) /* bytes handed to the sink */
LW_COUNTER_BLOCK(reasm, REASM, LW_REASM_COUNTERS)

/* What consumes reassembled bytes (application layers, matching). `flow` is opaque here. */
typedef struct lw_stream_sink {
    void (*on_data)(void *user, void *flow, int dir, uint64_t offset, const uint8_t *data,
                    uint32_t len);
    void (*on_gap)(void *user, void *flow, int dir, uint64_t offset, uint64_t len);
    void *user;
} lw_stream_sink;

typedef struct lw_reasm_config {
    uint64_t memcap_bytes; /* all buffered out-of-order data, all flows, all workers; 0 = none */
    uint64_t depth_bytes;  /* bytes delivered per direction; 0 = unlimited */
} lw_reasm_config;

/* One per worker. mem_in_use is shared by every worker (the global memcap). */
typedef struct lw_reasm_ctx {
    lw_reasm_config cfg;
    _Atomic uint64_t *mem_in_use;
    lw_stream_sink sink;
    lw_reasm_counters counters;
} lw_reasm_ctx;

typedef struct lw_reasm_seg lw_reasm_seg; /* a buffered out-of-order segment (private) */

typedef struct lw_reasm_stream {
    uint32_t next_seq; /* sequence number of the next byte to deliver */
    uint64_t next_off; /* stream offset of next_seq (bytes delivered + gap bytes) */
    uint32_t peer_ack; /* highest ACK the other side sent for this direction */
    uint32_t fin_seq;  /* sequence number of the FIN, if fin_seen */
    bool started;      /* next_seq is known (SYN seen, or first data picked up) */
    bool peer_ack_valid;
    bool fin_seen;
    bool depth_reached;
    uint32_t gaps;           /* holes declared in this direction */
    uint32_t buffered;       /* bytes held in segs */
    lw_reasm_seg *segs;      /* out-of-order segments, sorted by sequence number */
    lw_reasm_seg *segs_tail; /* last of segs: most out-of-order data lands at the end */
    uint32_t nsegs;          /* segments in segs (capped, see reasm_segments.h) */
    uint64_t delivered;      /* bytes handed to the sink (what depth_bytes limits) */
} lw_reasm_stream;

void lw_reasm_ctx_init(lw_reasm_ctx *ctx, const lw_reasm_config *cfg, _Atomic uint64_t *mem_in_use,
                       const lw_stream_sink *sink);

void lw_reasm_stream_init(lw_reasm_stream *s);

/* A SYN (or SYN/ACK) from this direction with sequence number isn: data starts at isn + 1. */
void lw_reasm_syn(lw_reasm_ctx *ctx, lw_reasm_stream *s, uint32_t isn);

/* One segment of this direction. flags are the TCP flags; a FIN marks the end of the stream,
 * data on a SYN (TCP Fast Open) is stream data. */
void lw_reasm_segment(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir, uint32_t seq,
                      const uint8_t *data, uint32_t len, uint8_t flags);

/* The other direction acknowledged bytes of this direction up to (not including) ack.
 * Bytes acknowledged but never captured are declared a gap when data beyond them is pending. */
void lw_reasm_peer_ack(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir, uint32_t ack);

/* Charge n bytes to the shared memcap (false: over the cap, nothing charged), and give them
 * back. Other per-flow state that the memcap covers (match streams) uses these too. */
bool lw_reasm_mem_charge(lw_reasm_ctx *ctx, uint64_t n);
void lw_reasm_mem_release(lw_reasm_ctx *ctx, uint64_t n);

/* Every byte up to the FIN of this direction has been delivered: the stream is complete. */
bool lw_reasm_complete(const lw_reasm_stream *s);

/* The flow ends: deliver what is buffered (holes become gaps) and release the memory. */
void lw_reasm_flush(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir);

#endif
