/*
 * tcp_reassembly.c — TCP stream reassembly for one flow direction.
 *
 * Sequence numbers are compared modulo 2^32 (signed 32-bit differences) and only near
 * next_seq; everything buffered or handed on is placed by its 64-bit stream offset, which
 * never wraps. In-order bytes go from the packet straight to the sink; out-of-order bytes
 * are copied into the segment list (reasm_segments.c). The first copy of any byte wins.
 * Holes the capture never filled become gap notices when the peer's ACK shows the bytes
 * were sent, when too much waits behind a hole, or at flush.
 */
#include "leakwatch/reassembly.h"

#include <string.h>

#include "leakwatch/packet.h"
#include "reassembly/reasm_segments.h"

LW_COUNTER_NAMES(reasm, REASM, LW_REASM_COUNTERS)

#define COUNT(ctx, name) ((ctx)->counters.c[LW_REASM_##name])

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Stream offset of seq, if seq is within LW_REASM_MAX_DISTANCE of next_seq. */
static bool seq_to_off(const lw_reasm_stream *s, uint32_t seq, int64_t *off)
{
    int32_t d = seq_diff(seq, s->next_seq);
    if (d > (int32_t)LW_REASM_MAX_DISTANCE || d < -(int32_t)LW_REASM_MAX_DISTANCE) return false;
    *off = (int64_t)s->next_off + d;
    return true;
}

static void advance(lw_reasm_stream *s, uint64_t n)
{
    s->next_off += n;
    s->next_seq += (uint32_t)n;
    /* An ACK at or behind next_seq says nothing any more; dropping it keeps a stale value
     * from looking "ahead" once the stream has moved on by more than 2^31 bytes. */
    if (s->peer_ack_valid && seq_diff(s->peer_ack, s->next_seq) <= 0) s->peer_ack_valid = false;
}

/* Offset up to which the peer acknowledged, if that is beyond next_off. */
static bool acked_beyond(const lw_reasm_stream *s, uint64_t *off)
{
    int64_t o;
    if (!s->peer_ack_valid || !seq_to_off(s, s->peer_ack, &o) || o <= (int64_t)s->next_off)
        return false;
    *off = (uint64_t)o;
    return true;
}

static void reach_depth(lw_reasm_ctx *ctx, lw_reasm_stream *s)
{
    s->depth_reached = true;
    COUNT(ctx, depth_reached)++;
    COUNT(ctx, depth_bytes) += lw_reasm_seg_free_all(ctx, s);
}

/* Hand the n bytes at next_off to the sink (the part below the depth) and move past them. */
static void deliver(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir, const uint8_t *p,
                    uint32_t n)
{
    uint64_t depth = ctx->cfg.depth_bytes;
    uint32_t take = n;
    if (depth && depth - s->delivered < n) take = (uint32_t)(depth - s->delivered);
    if (take) {
        if (ctx->sink.on_data) ctx->sink.on_data(ctx->sink.user, flow, dir, s->next_off, p, take);
        s->delivered += take;
        COUNT(ctx, delivered_bytes) += take;
    }
    COUNT(ctx, depth_bytes) += n - take;
    advance(s, n);
    if (depth && s->delivered >= depth) reach_depth(ctx, s);
}

/* Bytes of [start, start+len) beyond next_off once the depth was reached: counted, skipped. */
static void skip_past_depth(lw_reasm_ctx *ctx, lw_reasm_stream *s, int64_t start, uint32_t len)
{
    int64_t end = start + len, next = (int64_t)s->next_off;
    if (end <= next) return;
    COUNT(ctx, depth_bytes) += (uint64_t)(end - (start > next ? start : next));
    advance(s, (uint64_t)(end - next));
}

/* The bytes from next_off up to `upto` were never seen: tell the sink and move past them. */
static void declare_gap(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir, uint64_t upto)
{
    if (upto <= s->next_off) return;
    uint64_t len = upto - s->next_off;
    s->gaps++;
    COUNT(ctx, gaps)++;
    COUNT(ctx, gap_bytes) += len;
    if (ctx->sink.on_gap) ctx->sink.on_gap(ctx->sink.user, flow, dir, s->next_off, len);
    advance(s, len);
}

/* Deliver the buffered segments that became contiguous with next_off. */
static void drain(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir)
{
    while (!s->depth_reached && s->segs && s->segs->off <= s->next_off) {
        lw_reasm_seg *seg = s->segs;
        uint64_t end = seg->off + seg->len;
        lw_reasm_seg_unlink(s, seg);
        if (end > s->next_off) { /* always all of it: segments start beyond next_off */
            uint64_t skip = s->next_off - seg->off;
            deliver(ctx, s, flow, dir, seg->data + skip, (uint32_t)(end - s->next_off));
        }
        lw_reasm_seg_free(ctx, seg);
    }
}

/* Give up on the hole before the first buffered segment: it becomes a gap and what is
 * then contiguous is delivered, releasing its memory. */
static void skip_first_hole(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir)
{
    if (!s->segs || s->depth_reached) return;
    declare_gap(ctx, s, flow, dir, s->segs->off);
    drain(ctx, s, flow, dir);
}

typedef struct hole_scan {
    uint64_t hole_bytes; /* bytes of the new segment not buffered yet */
    uint32_t pieces;     /* holes they fall into */
    bool overlapped;     /* some bytes were already buffered */
    bool differ;         /* ... and the new copy of them differs */
} hole_scan;

/* Copy the new bytes [a, b) of the segment at `start` into a segment linked before `next`.
 * Its cost was charged by the caller. */
static void buffer_piece(lw_reasm_ctx *ctx, lw_reasm_stream *s, lw_reasm_seg *next, uint64_t start,
                         const uint8_t *p, uint64_t a, uint64_t b)
{
    lw_reasm_seg *seg = lw_reasm_seg_new(a, p + (a - start), (uint32_t)(b - a));
    if (!seg) { /* out of memory: treated like the memcap refusing these bytes */
        lw_reasm_mem_release(ctx, lw_reasm_seg_cost((uint32_t)(b - a)));
        COUNT(ctx, memcap_hits)++;
        COUNT(ctx, memcap_bytes) += b - a;
        return;
    }
    lw_reasm_seg_link_before(s, next, seg);
}

/* Walk [start, start+len) (start > next_off) over the buffered segments. Bytes already
 * buffered keep their first copy; bytes in holes are new, and with `commit` they are
 * copied into new segments, one per hole. */
static void scan_holes(lw_reasm_ctx *ctx, lw_reasm_stream *s, uint64_t start, const uint8_t *p,
                       uint32_t len, bool commit, hole_scan *r)
{
    uint64_t end = start + len, cur = start;

    /* First segment ending after start. Searched from the tail: most out-of-order data
     * arrives in increasing order behind a single hole. */
    lw_reasm_seg *q = s->segs_tail;
    while (q && q->off > start) q = q->prev;
    if (!q)
        q = s->segs;
    else if (q->off + q->len <= start)
        q = q->next;

    while (cur < end) {
        if (!q || q->off >= end) {
            r->hole_bytes += end - cur;
            r->pieces++;
            if (commit) buffer_piece(ctx, s, q, start, p, cur, end);
            break;
        }
        if (q->off > cur) {
            r->hole_bytes += q->off - cur;
            r->pieces++;
            if (commit) buffer_piece(ctx, s, q, start, p, cur, q->off);
            cur = q->off;
        }
        uint64_t oend = min_u64(q->off + q->len, end);
        r->overlapped = true;
        if (!commit && memcmp(p + (cur - start), q->data + (cur - q->off), (size_t)(oend - cur)))
            r->differ = true;
        cur = oend;
        q = q->next;
    }
}

/* A segment starting exactly at next_off: its bytes go straight from the packet to the
 * sink, except where a buffered copy of them exists (that copy came first and wins). */
static void deliver_in_order(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir,
                             const uint8_t *p, uint32_t len, bool overlapped)
{
    uint64_t start = s->next_off, end = start + len;
    bool differ = false;

    COUNT(ctx, in_order)++;
    while (!s->depth_reached && s->next_off < end) {
        uint64_t cur = s->next_off;
        lw_reasm_seg *q = s->segs;
        if (!q || q->off >= end) {
            deliver(ctx, s, flow, dir, p + (cur - start), (uint32_t)(end - cur));
            break;
        }
        if (q->off > cur) {
            deliver(ctx, s, flow, dir, p + (cur - start), (uint32_t)(q->off - cur));
            continue;
        }
        uint64_t qend = q->off + q->len, oend = min_u64(qend, end);
        if (oend > cur) {
            overlapped = true;
            if (memcmp(p + (cur - start), q->data + (cur - q->off), (size_t)(oend - cur)) != 0)
                differ = true;
        }
        drain(ctx, s, flow, dir); /* delivers q (and whatever follows it contiguously) */
    }
    if (s->depth_reached) skip_past_depth(ctx, s, (int64_t)start, len);
    drain(ctx, s, flow, dir);
    if (overlapped) COUNT(ctx, overlaps)++;
    if (differ) COUNT(ctx, overlap_diff)++;
}

/* A segment beyond next_off: copy its new bytes into the list, within the caps. */
static void buffer_out_of_order(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir,
                                uint64_t start, const uint8_t *p, uint32_t len, bool overlapped)
{
    hole_scan r = {0};
    scan_holes(ctx, s, start, p, len, false, &r);
    if (r.differ) COUNT(ctx, overlap_diff)++;
    if (!r.hole_bytes) { /* every byte is buffered already */
        COUNT(ctx, retransmissions)++;
        return;
    }
    if (!lw_reasm_mem_charge(ctx, r.hole_bytes + (uint64_t)r.pieces * LW_REASM_SEG_OVERHEAD)) {
        /* Refused: free memory by giving up on this stream's first hole. The refused bytes
         * end up inside that gap or a later one. */
        COUNT(ctx, memcap_hits)++;
        COUNT(ctx, memcap_bytes) += r.hole_bytes;
        skip_first_hole(ctx, s, flow, dir);
        return;
    }
    hole_scan committed = {0};
    scan_holes(ctx, s, start, p, len, true, &committed);
    COUNT(ctx, out_of_order)++;
    if (overlapped || r.overlapped) COUNT(ctx, overlaps)++;

    while (s->segs && !s->depth_reached &&
           (s->buffered > LW_REASM_WINDOW_BYTES || s->nsegs > LW_REASM_MAX_SEGS))
        skip_first_hole(ctx, s, flow, dir);
}

/* Bytes [start, start+len) of the stream, already window-checked and cut at the FIN. */
static void process(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir, int64_t start,
                    const uint8_t *p, uint32_t len)
{
    /* Data beyond a hole the peer already acknowledged: the capture lost those bytes. */
    uint64_t acked;
    while (!s->depth_reached && start > (int64_t)s->next_off && acked_beyond(s, &acked)) {
        uint64_t upto = min_u64(acked, (uint64_t)start);
        if (s->segs) upto = min_u64(upto, s->segs->off);
        declare_gap(ctx, s, flow, dir, upto);
        drain(ctx, s, flow, dir);
    }
    if (s->depth_reached) {
        skip_past_depth(ctx, s, start, len);
        return;
    }

    bool overlapped = false;
    int64_t next = (int64_t)s->next_off;
    if (start < next) { /* leading bytes were delivered already (or declared lost) */
        if (start + len <= next) {
            COUNT(ctx, retransmissions)++;
            return;
        }
        uint32_t skip = (uint32_t)(next - start);
        p += skip;
        len -= skip;
        start = next;
        overlapped = true;
    }
    if (start == next)
        deliver_in_order(ctx, s, flow, dir, p, len, overlapped);
    else
        buffer_out_of_order(ctx, s, flow, dir, (uint64_t)start, p, len, overlapped);
}

/* The FIN ends the stream at fin_seq: drop buffered bytes beyond it. A FIN that would end
 * the stream before bytes already delivered contradicts them and is ignored. */
static void record_fin(lw_reasm_ctx *ctx, lw_reasm_stream *s, uint32_t fin_seq)
{
    int64_t fin;
    if (s->fin_seen || !seq_to_off(s, fin_seq, &fin) || fin < (int64_t)s->next_off) return;
    s->fin_seen = true;
    s->fin_seq = fin_seq;

    bool cut = false;
    while (s->segs_tail && (int64_t)s->segs_tail->off >= fin) {
        lw_reasm_seg *seg = s->segs_tail;
        lw_reasm_seg_unlink(s, seg);
        lw_reasm_seg_free(ctx, seg);
        cut = true;
    }
    lw_reasm_seg *t = s->segs_tail;
    if (t && (int64_t)(t->off + t->len) > fin) {
        lw_reasm_seg_truncate(ctx, s, t, (uint32_t)(fin - (int64_t)t->off));
        cut = true;
    }
    if (cut) COUNT(ctx, data_after_fin)++;
}

static void start_at(lw_reasm_stream *s, uint32_t seq)
{
    s->started = true;
    s->next_seq = seq;
    s->next_off = 0;
    if (s->peer_ack_valid && seq_diff(s->peer_ack, seq) <= 0) s->peer_ack_valid = false;
}

void lw_reasm_ctx_init(lw_reasm_ctx *ctx, const lw_reasm_config *cfg, _Atomic uint64_t *mem_in_use,
                       const lw_stream_sink *sink)
{
    memset(ctx, 0, sizeof(*ctx));
    if (cfg) ctx->cfg = *cfg;
    ctx->mem_in_use = mem_in_use;
    if (sink) ctx->sink = *sink;
}

void lw_reasm_stream_init(lw_reasm_stream *s)
{
    memset(s, 0, sizeof(*s));
}

void lw_reasm_syn(lw_reasm_ctx *ctx, lw_reasm_stream *s, uint32_t isn)
{
    (void)ctx;
    uint32_t first = isn + 1;
    if (s->depth_reached) return;
    if (!s->started) {
        start_at(s, first);
        return;
    }
    if (s->next_seq == first) return; /* retransmitted SYN */
    /* A new ISN before any byte moved the stream: the earlier SYN was stale, rebase. */
    if (s->next_off == 0 && !s->segs) {
        s->peer_ack_valid = false;
        s->fin_seen = false;
        start_at(s, first);
    }
}

void lw_reasm_segment(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir, uint32_t seq,
                      const uint8_t *data, uint32_t len, uint8_t flags)
{
    if (!data) len = 0;
    if (len) COUNT(ctx, segments)++;
    if (flags & LW_TCP_SYN) {
        lw_reasm_syn(ctx, s, seq);
        seq++; /* the SYN occupies one sequence number; data (TCP Fast Open) follows it */
    }
    bool fin = flags & LW_TCP_FIN;
    if (!len && !fin) return;

    if (!s->started) {
        if (!len) { /* a bare FIN before any data: remember where the stream ends */
            if (!s->fin_seen) {
                s->fin_seen = true;
                s->fin_seq = seq;
            }
            return;
        }
        start_at(s, seq); /* picked up mid-stream: the first data seen is offset 0 */
    }

    int64_t start;
    if (!seq_to_off(s, seq, &start) || len > LW_REASM_MAX_DISTANCE) {
        COUNT(ctx, out_of_window)++;
        return;
    }
    if (s->depth_reached) {
        skip_past_depth(ctx, s, start, len);
        return;
    }
    if (fin) record_fin(ctx, s, seq + len);
    if (!len) return;

    int64_t fin_off;
    if (s->fin_seen && seq_to_off(s, s->fin_seq, &fin_off) && start + len > fin_off) {
        COUNT(ctx, data_after_fin)++;
        if (start >= fin_off) return;
        len = (uint32_t)(fin_off - start);
    }
    process(ctx, s, flow, dir, start, data, len);
}

void lw_reasm_peer_ack(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir, uint32_t ack)
{
    if (s->depth_reached) return;
    if (s->started) {
        int32_t d = seq_diff(ack, s->next_seq);
        if (d > (int32_t)LW_REASM_MAX_DISTANCE || d < -(int32_t)LW_REASM_MAX_DISTANCE) {
            COUNT(ctx, out_of_window)++;
            return;
        }
        if (d <= 0) return; /* nothing new beyond next_seq */
    }
    if (!s->peer_ack_valid || seq_diff(ack, s->peer_ack) > 0) {
        s->peer_ack = ack;
        s->peer_ack_valid = true;
    }
    if (!s->started) return;

    /* Bytes before buffered data were acknowledged but never captured: gap, deliver. */
    uint64_t acked;
    while (!s->depth_reached && s->segs && acked_beyond(s, &acked)) {
        declare_gap(ctx, s, flow, dir, min_u64(acked, s->segs->off));
        drain(ctx, s, flow, dir);
    }
}

bool lw_reasm_complete(const lw_reasm_stream *s)
{
    return s->started && s->fin_seen && s->next_seq == s->fin_seq;
}

void lw_reasm_flush(lw_reasm_ctx *ctx, lw_reasm_stream *s, void *flow, int dir)
{
    while (!s->depth_reached && s->segs) skip_first_hole(ctx, s, flow, dir);
    lw_reasm_seg_free_all(ctx, s);

    /* Bytes missing between the last data seen and the FIN are a gap too. */
    int64_t fin;
    if (s->started && !s->depth_reached && s->fin_seen && seq_to_off(s, s->fin_seq, &fin))
        declare_gap(ctx, s, flow, dir, (uint64_t)(fin > 0 ? fin : 0));
}
