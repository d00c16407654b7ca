/*
 * test_reassembly.c — TCP stream reassembly: ordering, overlaps (first data wins), sequence
 * wraparound, gaps, FIN, window, depth and memcap, plus a randomized property test that
 * reconstructs shuffled, duplicated, lossy streams.
 *
 * LW_REASM_SEEDS=<n> sets how many seeds the property test runs (default 3000).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakwatch/packet.h"
#include "leakwatch/reassembly.h"
#include "reassembly/reasm_segments.h"

#define DIR 1
static int flow_token;
#define FLOW ((void *)&flow_token)

/* ---- recording sink: checks contiguity on every call and rebuilds the stream ---- */

typedef struct rec {
    uint8_t *buf;  /* reconstructed stream (not kept when cap is 0) */
    uint8_t *kind; /* per offset: 0 nothing, 'd' data, 'g' gap */
    size_t cap;
    const uint8_t *orig; /* when set, every delivered byte must equal orig at its offset */
    size_t orig_len;
    uint64_t next; /* the offset the next call must start at */
    uint64_t data_bytes, gap_bytes;
    unsigned data_calls, gap_calls;
    const uint8_t *last_ptr; /* data pointer of the last on_data call */
    uint64_t last_off, last_len;
    char err[160]; /* first invariant violation */
} rec;

static void rec_fail(rec *r, const char *msg, uint64_t off, uint64_t len)
{
    if (!r->err[0])
        snprintf(r->err, sizeof(r->err), "%s (offset %llu len %llu, expected offset %llu)", msg,
                 (unsigned long long)off, (unsigned long long)len, (unsigned long long)r->next);
}

static void rec_on_data(void *user, void *flow, int dir, uint64_t offset, const uint8_t *data,
                        uint32_t len)
{
    rec *r = user;
    if (flow != FLOW || dir != DIR) rec_fail(r, "wrong flow/dir", offset, len);
    if (offset != r->next) rec_fail(r, "data not contiguous", offset, len);
    if (len == 0 || !data) rec_fail(r, "empty data call", offset, len);
    if (!r->cap) {
        /* contiguity only */
    } else if (offset + len > r->cap) {
        rec_fail(r, "data beyond the test buffer", offset, len);
    } else {
        memcpy(r->buf + offset, data, len);
        memset(r->kind + offset, 'd', len);
    }
    if (r->orig && (offset + len > r->orig_len || memcmp(r->orig + offset, data, len) != 0))
        rec_fail(r, "delivered bytes differ from the original", offset, len);
    r->next = offset + len;
    r->data_bytes += len;
    r->data_calls++;
    r->last_ptr = data;
    r->last_off = offset;
    r->last_len = len;
}

static void rec_on_gap(void *user, void *flow, int dir, uint64_t offset, uint64_t len)
{
    rec *r = user;
    if (flow != FLOW || dir != DIR) rec_fail(r, "wrong flow/dir", offset, len);
    if (offset != r->next) rec_fail(r, "gap not contiguous", offset, len);
    if (len == 0) rec_fail(r, "empty gap", offset, len);
    if (offset + len <= r->cap) memset(r->kind + offset, 'g', len);
    r->next = offset + len;
    r->gap_bytes += len;
    r->gap_calls++;
    r->last_off = offset;
    r->last_len = len;
}

/* ---- fixture ---- */

typedef struct fx {
    lw_reasm_ctx ctx;
    _Atomic uint64_t mem;
    lw_reasm_stream s;
    rec r;
} fx;

static fx *fx_new(uint64_t memcap, uint64_t depth, size_t cap)
{
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->r.cap = cap;
    f->r.buf = calloc(1, cap ? cap : 1);
    f->r.kind = calloc(1, cap ? cap : 1);
    assert_non_null(f->r.buf);
    assert_non_null(f->r.kind);
    lw_reasm_config cfg = {.memcap_bytes = memcap, .depth_bytes = depth};
    lw_stream_sink sink = {.on_data = rec_on_data, .on_gap = rec_on_gap, .user = &f->r};
    atomic_init(&f->mem, 0);
    lw_reasm_ctx_init(&f->ctx, &cfg, &f->mem, &sink);
    lw_reasm_stream_init(&f->s);
    return f;
}

/* Flush, check the invariants every test shares, free. */
static void fx_done(fx *f)
{
    lw_reasm_flush(&f->ctx, &f->s, FLOW, DIR);
    if (f->r.err[0]) fail_msg("%s", f->r.err);
    assert_int_equal(atomic_load(&f->mem), 0);
    assert_null(f->s.segs);
    assert_int_equal(f->s.buffered, 0);
    assert_int_equal(f->s.nsegs, 0);
    assert_int_equal(f->ctx.counters.c[LW_REASM_delivered_bytes], f->r.data_bytes);
    assert_int_equal(f->ctx.counters.c[LW_REASM_gap_bytes], f->r.gap_bytes);
    assert_int_equal(f->ctx.counters.c[LW_REASM_gaps], f->r.gap_calls);
    assert_int_equal(f->s.gaps, f->r.gap_calls);
    free(f->r.buf);
    free(f->r.kind);
    free(f);
}

#define C(f, name) ((f)->ctx.counters.c[LW_REASM_##name])

static void seg(fx *f, uint32_t seq, const void *data, uint32_t len, uint8_t flags)
{
    lw_reasm_segment(&f->ctx, &f->s, FLOW, DIR, seq, data, len, flags);
}

static void ack(fx *f, uint32_t a)
{
    lw_reasm_peer_ack(&f->ctx, &f->s, FLOW, DIR, a);
}

static void syn(fx *f, uint32_t isn)
{
    seg(f, isn, NULL, 0, LW_TCP_SYN);
}

static uint64_t mem(fx *f)
{
    return atomic_load(&f->mem);
}

static const char ALPHA[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* ---- tests ---- */

static void test_in_order_no_copy(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    static const char a[] = "hello ", b[] = "world";
    syn(f, 1000);
    assert_true(f->s.started);
    assert_int_equal(f->s.next_seq, 1001);
    seg(f, 1001, a, 6, LW_TCP_ACK);
    assert_ptr_equal(f->r.last_ptr, (const uint8_t *)a);
    assert_int_equal(mem(f), 0);
    seg(f, 1007, b, 5, LW_TCP_ACK | LW_TCP_PSH);
    assert_ptr_equal(f->r.last_ptr, (const uint8_t *)b);
    assert_int_equal(f->r.last_off, 6);
    assert_int_equal(mem(f), 0);
    assert_memory_equal(f->r.buf, "hello world", 11);
    assert_int_equal(f->r.data_calls, 2);
    assert_int_equal(C(f, in_order), 2);
    assert_int_equal(C(f, segments), 2);
    assert_int_equal(C(f, out_of_order), 0);
    assert_int_equal(f->s.next_seq, 1012);
    assert_int_equal(f->s.next_off, 11);
    fx_done(f);
}

static void test_out_of_order_reversed(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    syn(f, 0);
    seg(f, 9, "CCCC", 4, 0);
    seg(f, 5, "BBBB", 4, 0);
    assert_int_equal(f->r.data_calls, 0);
    assert_int_equal(C(f, out_of_order), 2);
    assert_int_equal(f->s.buffered, 8);
    assert_int_equal(f->s.nsegs, 2);
    assert_int_equal(mem(f), 8 + 2 * LW_REASM_SEG_OVERHEAD);
    seg(f, 1, "AAAA", 4, 0);
    assert_int_equal(f->r.next, 12);
    assert_memory_equal(f->r.buf, "AAAABBBBCCCC", 12);
    assert_int_equal(mem(f), 0);
    assert_int_equal(f->s.buffered, 0);
    assert_int_equal(C(f, in_order), 1);
    assert_int_equal(f->r.gap_calls, 0);
    fx_done(f);
}

static void test_retransmission(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    static const char tail[] = "defXYZ";
    syn(f, 0);
    seg(f, 1, "abcdef", 6, 0);
    seg(f, 1, "abcdef", 6, 0);
    assert_int_equal(C(f, retransmissions), 1);
    assert_int_equal(f->r.data_calls, 1);
    /* Partly old, partly new: only the new part is delivered, still without a copy. */
    seg(f, 4, tail, 6, 0);
    assert_int_equal(C(f, overlaps), 1);
    assert_int_equal(C(f, retransmissions), 1);
    assert_ptr_equal(f->r.last_ptr, (const uint8_t *)tail + 3);
    assert_int_equal(f->r.next, 9);
    assert_memory_equal(f->r.buf, "abcdefXYZ", 9);
    fx_done(f);
}

/* Buffered [10,20) of ALPHA, then [5,15) arrives with `second`, then [0,5) fills the hole. */
static fx *overlap_case(const char *second)
{
    fx *f = fx_new(0, 0, 64);
    syn(f, 0);
    seg(f, 1 + 10, ALPHA + 10, 10, 0);
    seg(f, 1 + 5, second, 10, 0);
    assert_int_equal(C(f, overlaps), 1);
    assert_int_equal(f->s.buffered, 15);
    assert_int_equal(f->s.nsegs, 2);
    seg(f, 1, ALPHA, 5, 0);
    assert_int_equal(f->r.next, 20);
    return f;
}

static void test_overlap_same_data(void **state)
{
    (void)state;
    fx *f = overlap_case(ALPHA + 5);
    assert_int_equal(C(f, overlap_diff), 0);
    assert_memory_equal(f->r.buf, ALPHA, 20);
    fx_done(f);
}

static void test_overlap_different_data_first_wins(void **state)
{
    (void)state;
    fx *f = overlap_case("XXXXXXXXXX");
    assert_int_equal(C(f, overlap_diff), 1);
    assert_memory_equal(f->r.buf, ALPHA, 5);
    assert_memory_equal(f->r.buf + 5, "XXXXX", 5);      /* new bytes in the hole */
    assert_memory_equal(f->r.buf + 10, ALPHA + 10, 10); /* the buffered copy won */
    fx_done(f);
}

static void test_overlap_two_buffered_and_hole(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    syn(f, 0);
    seg(f, 1 + 10, ALPHA + 10, 10, 0);
    seg(f, 1 + 30, ALPHA + 30, 10, 0);
    uint64_t before = mem(f);
    /* [15,35) covers the end of one, the hole [20,30) and the start of the other. */
    seg(f, 1 + 15, "XXXXXXXXXXXXXXXXXXXX", 20, 0);
    assert_int_equal(f->s.buffered, 30);
    assert_int_equal(f->s.nsegs, 3);
    assert_int_equal(mem(f), before + 10 + LW_REASM_SEG_OVERHEAD);
    assert_int_equal(C(f, overlaps), 1);
    assert_int_equal(C(f, overlap_diff), 1);
    assert_int_equal(C(f, out_of_order), 3);
    seg(f, 1, ALPHA, 10, 0);
    assert_int_equal(f->r.next, 40);
    assert_memory_equal(f->r.buf, ALPHA, 20);
    assert_memory_equal(f->r.buf + 20, "XXXXXXXXXX", 10);
    assert_memory_equal(f->r.buf + 30, ALPHA + 30, 10);
    assert_int_equal(f->r.gap_calls, 0);
    fx_done(f);
}

/* An in-order segment overlapping buffered data: the buffered copy wins there, the new
 * bytes around it come straight from the packet. */
static void test_in_order_over_buffered(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    static const char x[] = "XXXXXXXXXXXXXXXXXXXX";
    syn(f, 0);
    seg(f, 1 + 5, ALPHA + 5, 5, 0);
    seg(f, 1, x, 20, 0);
    assert_int_equal(f->r.next, 20);
    assert_memory_equal(f->r.buf, "XXXXX", 5);
    assert_memory_equal(f->r.buf + 5, ALPHA + 5, 5);
    assert_memory_equal(f->r.buf + 10, x, 10);
    assert_ptr_equal(f->r.last_ptr, (const uint8_t *)x + 10);
    assert_int_equal(C(f, overlaps), 1);
    assert_int_equal(C(f, overlap_diff), 1);
    assert_int_equal(mem(f), 0);
    fx_done(f);
}

static void test_exact_duplicate_of_buffered(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    syn(f, 0);
    seg(f, 1 + 10, ALPHA + 10, 10, 0);
    uint64_t m = mem(f);
    seg(f, 1 + 10, ALPHA + 10, 10, 0);
    assert_int_equal(C(f, retransmissions), 1);
    assert_int_equal(C(f, overlap_diff), 0);
    assert_int_equal(C(f, out_of_order), 1);
    assert_int_equal(f->s.buffered, 10);
    assert_int_equal(f->s.nsegs, 1);
    assert_int_equal(mem(f), m);
    seg(f, 1 + 10, "ZZZZZZZZZZ", 10, 0); /* same place, other bytes: still first wins */
    assert_int_equal(C(f, retransmissions), 2);
    assert_int_equal(C(f, overlap_diff), 1);
    seg(f, 1, ALPHA, 10, 0);
    assert_memory_equal(f->r.buf, ALPHA, 20);
    fx_done(f);
}

static void test_wraparound_in_order(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 1024);
    uint8_t data[512];
    for (unsigned i = 0; i < sizeof(data); i++) data[i] = (uint8_t)(i * 7 + 3);
    syn(f, 0xFFFFFF00u);
    seg(f, 0xFFFFFF01u, data, 200, 0);
    seg(f, 0xFFFFFFC9u, data + 200, 200, 0); /* crosses 2^32 */
    assert_ptr_equal(f->r.last_ptr, data + 200);
    seg(f, 0x91u, data + 400, 112, 0);
    assert_ptr_equal(f->r.last_ptr, data + 400);
    assert_int_equal(f->r.next, 512);
    assert_memory_equal(f->r.buf, data, 512);
    assert_int_equal(f->s.next_seq, 0x101u);
    assert_int_equal(C(f, in_order), 3);
    fx_done(f);
}

static void test_wraparound_out_of_order(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 1024);
    uint8_t data[512];
    for (unsigned i = 0; i < sizeof(data); i++) data[i] = (uint8_t)(i * 13 + 1);
    syn(f, 0xFFFFFF00u);
    seg(f, 0x91u, data + 400, 112, 0);       /* after the wrap */
    seg(f, 0xFFFFFFC9u, data + 200, 200, 0); /* straddles it */
    assert_int_equal(f->r.data_calls, 0);
    assert_int_equal(C(f, out_of_order), 2);
    /* An overlapping copy across the wrap with the same data changes nothing. */
    seg(f, 0xFFFFFFF0u, data + 239, 100, 0);
    assert_int_equal(C(f, retransmissions), 1);
    seg(f, 0xFFFFFF01u, data, 200, 0);
    assert_int_equal(f->r.next, 512);
    assert_memory_equal(f->r.buf, data, 512);
    assert_int_equal(mem(f), 0);
    fx_done(f);

    /* A gap via ACK across the wrap: hole [0,100) spans 2^32, the ACK is past it. */
    f = fx_new(0, 0, 1024);
    syn(f, 0xFFFFFFF0u);
    seg(f, 0xFFFFFFF1u + 100, data, 10, 0);
    assert_int_equal(f->r.data_calls, 0);
    ack(f, 0xFFFFFFF1u + 120);
    assert_int_equal(f->r.gap_calls, 1);
    assert_int_equal(f->r.gap_bytes, 100);
    assert_int_equal(f->r.next, 110);
    assert_memory_equal(f->r.buf + 100, data, 10);
    fx_done(f);
}

static void test_gap_peer_ack_after_data(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 256);
    syn(f, 0);
    seg(f, 1 + 100, ALPHA, 50, 0);
    assert_int_equal(f->r.data_calls, 0);
    ack(f, 1 + 50); /* the peer got [0,50): the capture lost them */
    assert_int_equal(f->r.gap_calls, 1);
    assert_int_equal(f->r.gap_bytes, 50);
    assert_int_equal(f->r.data_calls, 0); /* [50,100) might still come */
    ack(f, 1 + 150);                      /* acks beyond the buffered data: gap only up to it */
    assert_int_equal(f->r.gap_calls, 2);
    assert_int_equal(f->r.gap_bytes, 100);
    assert_int_equal(f->r.next, 150);
    assert_memory_equal(f->r.buf + 100, ALPHA, 50);
    assert_int_equal(f->s.gaps, 2);
    assert_int_equal(mem(f), 0);
    /* The late copy of lost bytes is now old. */
    seg(f, 1 + 60, ALPHA, 10, 0);
    assert_int_equal(C(f, retransmissions), 1);
    fx_done(f);
}

static void test_gap_peer_ack_before_data(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 256);
    static const char d[] = "0123456789";
    syn(f, 0);
    ack(f, 1 + 100);
    assert_int_equal(f->r.gap_calls, 0); /* nothing pending: no gap yet */
    seg(f, 1 + 100, d, 10, 0);
    assert_int_equal(f->r.gap_calls, 1);
    assert_int_equal(f->r.gap_bytes, 100);
    assert_ptr_equal(f->r.last_ptr, (const uint8_t *)d); /* then in order, no copy */
    assert_int_equal(C(f, out_of_order), 0);
    assert_int_equal(f->r.next, 110);
    /* An ACK short of a new hole only gaps up to the ACK. */
    ack(f, 1 + 120);
    seg(f, 1 + 130, d, 10, 0);
    assert_int_equal(f->r.gap_calls, 2);
    assert_int_equal(f->r.next, 120);
    assert_int_equal(C(f, out_of_order), 1);
    fx_done(f);
}

static void test_gap_window_cap(void **state)
{
    (void)state;
    const uint32_t segl = 1400, n = LW_REASM_WINDOW_BYTES / 1400 + 2;
    fx *f = fx_new(0, 0, 1000 + (size_t)n * segl);
    uint8_t *data = malloc(segl);
    assert_non_null(data);
    memset(data, 'w', segl);
    syn(f, 0);
    for (uint32_t i = 0; i < n; i++) {
        seg(f, 1 + 1000 + i * segl, data, segl, 0);
        assert_true(f->s.buffered <= LW_REASM_WINDOW_BYTES);
        assert_int_equal(mem(f), f->s.buffered + (uint64_t)f->s.nsegs * LW_REASM_SEG_OVERHEAD);
    }
    assert_int_equal(f->r.gap_calls, 1);
    assert_int_equal(f->r.gap_bytes, 1000);
    assert_int_equal(f->r.next, 1000 + (uint64_t)n * segl); /* everything drained */
    assert_int_equal(mem(f), 0);
    for (uint64_t i = 1000; i < f->r.next; i++) assert_int_equal(f->r.buf[i], 'w');
    free(data);
    fx_done(f);
}

static void test_gap_segment_count_cap(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 4 * LW_REASM_MAX_SEGS + 16);
    syn(f, 0);
    /* One-byte segments with holes between them: the count cap, not the byte cap. */
    for (uint32_t i = 1; i <= LW_REASM_MAX_SEGS + 1; i++) {
        seg(f, 1 + 2 * i, "x", 1, 0);
        assert_true(f->s.nsegs <= LW_REASM_MAX_SEGS);
    }
    assert_int_equal(f->r.gap_calls, 1);
    assert_int_equal(f->r.gap_bytes, 2);
    assert_int_equal(f->r.data_bytes, 1);
    assert_int_equal(f->s.nsegs, LW_REASM_MAX_SEGS);
    fx_done(f);
    /* fx_done's flush turned every remaining hole into a gap (checked there). */
}

static void test_gap_at_flush(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    syn(f, 0);
    seg(f, 1, ALPHA, 5, 0);
    seg(f, 1 + 10, ALPHA + 10, 5, 0);
    seg(f, 1 + 20, ALPHA + 20, 5, 0);
    assert_int_equal(f->r.next, 5);
    lw_reasm_flush(&f->ctx, &f->s, FLOW, DIR);
    assert_int_equal(f->r.gap_calls, 2);
    assert_int_equal(f->r.gap_bytes, 10);
    assert_int_equal(f->r.next, 25);
    assert_memory_equal(f->r.kind, "dddddgggggdddddgggggddddd", 25);
    assert_memory_equal(f->r.buf + 10, ALPHA + 10, 5);
    assert_memory_equal(f->r.buf + 20, ALPHA + 20, 5);
    assert_int_equal(mem(f), 0);
    fx_done(f);
}

static void test_leading_gap(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 128);
    syn(f, 500);
    seg(f, 501 + 50, ALPHA, 20, 0); /* first data seen is not at isn+1 */
    assert_int_equal(f->r.data_calls, 0);
    lw_reasm_flush(&f->ctx, &f->s, FLOW, DIR);
    assert_int_equal(f->r.gap_calls, 1);
    assert_int_equal(f->r.gap_bytes, 50);
    assert_int_equal(f->r.next, 70);
    assert_memory_equal(f->r.buf + 50, ALPHA, 20);
    fx_done(f);
}

static void test_midstream_pickup(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    static const char d[] = "midstream";
    assert_false(f->s.started);
    seg(f, 777777, "", 0, LW_TCP_ACK); /* pure ACK: does not start the stream */
    assert_false(f->s.started);
    seg(f, 777777, d, 9, LW_TCP_ACK);
    assert_true(f->s.started);
    assert_ptr_equal(f->r.last_ptr, (const uint8_t *)d);
    assert_int_equal(f->r.last_off, 0);
    assert_int_equal(f->s.next_seq, 777786);
    seg(f, 777767, "0123456789", 10, 0); /* from before the pickup: old */
    assert_int_equal(C(f, retransmissions), 1);
    seg(f, 777786, "!", 1, 0);
    assert_memory_equal(f->r.buf, "midstream!", 10);
    fx_done(f);
}

static void test_syn_retransmit_and_rebase(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    syn(f, 100);
    syn(f, 100);
    assert_int_equal(f->s.next_seq, 101);
    syn(f, 900); /* new ISN before any data: rebase */
    assert_int_equal(f->s.next_seq, 901);
    seg(f, 901, "abc", 3, 0);
    assert_int_equal(f->r.next, 3);
    syn(f, 5); /* after data: ignored */
    lw_reasm_syn(&f->ctx, &f->s, 5);
    assert_int_equal(f->s.next_seq, 904);
    assert_int_equal(f->s.next_off, 3);
    fx_done(f);
}

static void test_tfo_data_on_syn(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    static const char d[] = "GET /";
    /* The worker may call lw_reasm_syn first too: that must not change anything. */
    lw_reasm_syn(&f->ctx, &f->s, 4000);
    seg(f, 4000, d, 5, LW_TCP_SYN);
    assert_ptr_equal(f->r.last_ptr, (const uint8_t *)d);
    assert_int_equal(f->r.last_off, 0);
    assert_int_equal(f->s.next_seq, 4006);
    seg(f, 4006, " HTTP", 5, LW_TCP_ACK);
    seg(f, 4000, d, 5, LW_TCP_SYN); /* retransmitted SYN with its data */
    assert_int_equal(C(f, retransmissions), 1);
    assert_memory_equal(f->r.buf, "GET / HTTP", 10);
    fx_done(f);
}

static void test_fin_then_data(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    syn(f, 0);
    seg(f, 1, "ab", 2, 0);
    seg(f, 5, NULL, 0, LW_TCP_FIN | LW_TCP_ACK); /* FIN at offset 4: [2,4) not seen yet */
    assert_true(f->s.fin_seen);
    assert_int_equal(f->s.fin_seq, 5);
    seg(f, 3, "cdefg", 5, 0); /* straddles the FIN: only "cd" is stream data */
    assert_int_equal(C(f, data_after_fin), 1);
    assert_int_equal(f->r.next, 4);
    assert_memory_equal(f->r.buf, "abcd", 4);
    seg(f, 5, "zz", 2, 0); /* wholly beyond */
    seg(f, 40, "zz", 2, 0);
    assert_int_equal(C(f, data_after_fin), 3);
    assert_int_equal(f->r.next, 4);
    assert_int_equal(mem(f), 0);
    fx_done(f);
}

static void test_fin_trims_buffered_and_trailing_gap(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    syn(f, 0);
    seg(f, 1, ALPHA, 5, 0);
    seg(f, 1 + 10, ALPHA + 10, 10, 0);   /* [10,20) buffered */
    seg(f, 1 + 30, ALPHA + 30, 5, 0);    /* [30,35) buffered */
    seg(f, 1 + 15, NULL, 0, LW_TCP_FIN); /* stream ends at 15 */
    assert_int_equal(C(f, data_after_fin), 1);
    assert_int_equal(f->s.buffered, 5);
    assert_int_equal(f->s.nsegs, 1);
    assert_int_equal(mem(f), 5 + LW_REASM_SEG_OVERHEAD);
    lw_reasm_flush(&f->ctx, &f->s, FLOW, DIR);
    assert_int_equal(f->r.next, 15);
    assert_memory_equal(f->r.kind, "dddddgggggddddd", 15);
    fx_done(f);

    /* Data lost just before the FIN is a gap at flush. */
    f = fx_new(0, 0, 64);
    syn(f, 0);
    seg(f, 1, ALPHA, 5, 0);
    seg(f, 1 + 8, "xy", 2, LW_TCP_FIN);  /* [5,8) lost; FIN at 10 */
    seg(f, 1 + 20, NULL, 0, LW_TCP_FIN); /* a second, different FIN is ignored */
    assert_int_equal(f->s.fin_seq, 11);
    lw_reasm_flush(&f->ctx, &f->s, FLOW, DIR);
    assert_int_equal(f->r.next, 10);
    assert_memory_equal(f->r.kind, "dddddgggdd", 10);
    fx_done(f);
}

static void test_out_of_window(void **state)
{
    (void)state;
    fx *f = fx_new(0, 0, 64);
    syn(f, 0);
    seg(f, 1, "abc", 3, 0);
    seg(f, 4 + LW_REASM_MAX_DISTANCE + 1, "far", 3, 0);
    assert_int_equal(C(f, out_of_window), 1);
    seg(f, 4 - LW_REASM_MAX_DISTANCE - 1, "old", 3, 0);
    assert_int_equal(C(f, out_of_window), 2);
    seg(f, 4 + 0x80000000u, "opp", 3, 0); /* exactly half the space away */
    assert_int_equal(C(f, out_of_window), 3);
    seg(f, 4 + 0x90000000u, NULL, 0, LW_TCP_FIN);
    assert_int_equal(C(f, out_of_window), 4);
    assert_false(f->s.fin_seen);
    ack(f, 4 + 0x70000000u);
    assert_int_equal(C(f, out_of_window), 5);
    assert_int_equal(f->s.buffered, 0);
    assert_int_equal(f->r.next, 3);
    /* At exactly the limit it is still this stream (buffered). */
    seg(f, 4 + LW_REASM_MAX_DISTANCE, "lim", 3, 0);
    assert_int_equal(C(f, out_of_window), 5);
    assert_int_equal(f->s.buffered, 3);
    assert_int_equal(C(f, segments), 5);
    /* Not flushed into the recorder: that would be a 1 GiB gap. */
    assert_int_equal(lw_reasm_seg_free_all(&f->ctx, &f->s), 3);
    fx_done(f);
}

static void test_depth_at_segment_boundary(void **state)
{
    (void)state;
    fx *f = fx_new(0, 10, 64);
    syn(f, 0);
    seg(f, 1 + 15, ALPHA + 15, 5, 0); /* buffered beyond the depth */
    assert_true(mem(f) > 0);
    seg(f, 1, ALPHA, 5, 0);
    assert_false(f->s.depth_reached);
    seg(f, 1 + 5, ALPHA + 5, 5, 0);
    assert_true(f->s.depth_reached);
    assert_int_equal(C(f, depth_reached), 1);
    assert_int_equal(f->r.data_bytes, 10);
    assert_int_equal(mem(f), 0); /* buffered data freed */
    assert_null(f->s.segs);
    assert_int_equal(C(f, depth_bytes), 5);
    seg(f, 1 + 10, ALPHA + 10, 5, 0);
    seg(f, 1 + 25, ALPHA, 5, 0); /* beyond a hole: ignored, not buffered */
    assert_null(f->s.segs);
    assert_int_equal(C(f, depth_bytes), 15);
    assert_int_equal(f->r.data_bytes, 10);
    assert_int_equal(C(f, depth_reached), 1);
    assert_memory_equal(f->r.buf, ALPHA, 10);
    fx_done(f);
}

static void test_depth_inside_segment(void **state)
{
    (void)state;
    fx *f = fx_new(0, 7, 64);
    static const char b[] = "56789";
    syn(f, 0);
    seg(f, 1, "01234", 5, 0);
    seg(f, 6, b, 5, 0);
    assert_ptr_equal(f->r.last_ptr, (const uint8_t *)b);
    assert_int_equal(f->r.last_len, 2);
    assert_int_equal(f->r.data_bytes, 7);
    assert_memory_equal(f->r.buf, "0123456", 7);
    assert_true(f->s.depth_reached);
    assert_int_equal(C(f, depth_reached), 1);
    assert_int_equal(C(f, depth_bytes), 3);
    seg(f, 11, "abc", 3, 0);
    seg(f, 11, "abc", 3, 0); /* retransmission past the depth: not counted twice */
    ack(f, 100);
    seg(f, 200, "zz", 2, 0); /* beyond a hole: no gap notice after the depth */
    assert_int_equal(C(f, depth_bytes), 8);
    assert_int_equal(C(f, depth_reached), 1);
    assert_int_equal(f->r.data_calls, 2);
    assert_int_equal(f->r.gap_calls, 0);
    assert_int_equal(mem(f), 0);
    fx_done(f);
}

/* An ACK the stream has passed must not look "ahead" again once 2^32 bytes went by
 * without new ACKs (e.g. the capture stopped seeing the other direction). */
static void test_stale_ack_after_4gib(void **state)
{
    (void)state;
    static uint8_t chunk[65536];
    fx *f = fx_new(0, 0, 0);
    syn(f, 0);
    ack(f, 1 + 600); /* nothing pending yet: remembered */
    seg(f, 1, chunk, 100, 0);
    for (uint32_t i = 0; i < 65536; i++) seg(f, 101 + i * 65536u, chunk, 65536, 0);
    assert_int_equal(f->s.next_off, 100 + (1ull << 32));
    assert_int_equal(f->s.next_seq, 101);
    seg(f, 101 + 1000, chunk, 10, 0); /* the old ACK (601) would now be 500 ahead */
    assert_int_equal(f->r.gap_calls, 0);
    assert_int_equal(C(f, out_of_order), 1);
    fx_done(f);
}

static void test_memcap(void **state)
{
    (void)state;
    /* Room for one 100-byte segment only. */
    fx *f = fx_new(100 + LW_REASM_SEG_OVERHEAD + 50, 0, 512);
    uint8_t d[300];
    for (unsigned i = 0; i < sizeof(d); i++) d[i] = (uint8_t)(i ^ 0x5a);
    syn(f, 0);
    seg(f, 1 + 10, d + 10, 100, 0); /* hole [0,10), buffered [10,110) */
    assert_int_equal(mem(f), 100 + LW_REASM_SEG_OVERHEAD);
    seg(f, 1 + 200, d + 200, 100, 0); /* refused */
    assert_int_equal(C(f, memcap_hits), 1);
    assert_int_equal(C(f, memcap_bytes), 100);
    /* Progress: the first hole became a gap and the buffered data was delivered. */
    assert_int_equal(f->r.gap_calls, 1);
    assert_int_equal(f->r.gap_bytes, 10);
    assert_int_equal(f->r.next, 110);
    assert_int_equal(mem(f), 0);
    seg(f, 1 + 110, d + 110, 90, 0);
    seg(f, 1 + 290, d + 290, 10, 0); /* fits now */
    assert_int_equal(C(f, memcap_hits), 1);
    assert_int_equal(mem(f), 10 + LW_REASM_SEG_OVERHEAD);
    lw_reasm_flush(&f->ctx, &f->s, FLOW, DIR);
    assert_int_equal(mem(f), 0);
    assert_int_equal(f->r.next, 300);
    assert_int_equal(f->r.gap_bytes, 10 + 90); /* refused [200,290) is in the flush gap */
    assert_int_equal(f->r.data_bytes, 200);
    for (unsigned i = 0; i < 300; i++)
        if (f->r.kind[i] == 'd') assert_int_equal(f->r.buf[i], d[i]);
    fx_done(f);
}

/* The memcap is shared: a stream with nothing buffered is refused because of another
 * flow's data (here on another worker's context, with no sink). */
static void test_memcap_shared(void **state)
{
    (void)state;
    fx *f = fx_new(200, 0, 256);
    lw_reasm_ctx other_ctx;
    lw_reasm_config cfg = {.memcap_bytes = 200};
    lw_reasm_ctx_init(&other_ctx, &cfg, &f->mem, NULL);
    lw_reasm_stream other;
    lw_reasm_stream_init(&other);
    lw_reasm_syn(&other_ctx, &other, 0);
    lw_reasm_segment(&other_ctx, &other, FLOW, DIR, 1 + 10, (const uint8_t *)ALPHA, 50, 0);
    assert_int_equal(mem(f), 50 + LW_REASM_SEG_OVERHEAD);
    syn(f, 0);
    seg(f, 1 + 10, ALPHA, 60, 0);
    assert_int_equal(C(f, memcap_hits), 1);
    assert_int_equal(C(f, memcap_bytes), 60);
    assert_int_equal(f->r.gap_calls, 0); /* nothing of its own to release */
    assert_null(f->s.segs);
    assert_int_equal(mem(f), 50 + LW_REASM_SEG_OVERHEAD);
    lw_reasm_flush(&other_ctx, &other, FLOW, DIR);
    assert_int_equal(other_ctx.counters.c[LW_REASM_gaps], 1);
    assert_int_equal(other_ctx.counters.c[LW_REASM_delivered_bytes], 50);
    assert_int_equal(mem(f), 0);
    seg(f, 1 + 10, ALPHA, 60, 0); /* fits now */
    assert_int_equal(mem(f), 60 + LW_REASM_SEG_OVERHEAD);
    fx_done(f);
}

static void test_counter_names(void **state)
{
    (void)state;
    assert_string_equal(lw_reasm_counter_names[LW_REASM_segments], "segments");
    assert_string_equal(lw_reasm_counter_names[LW_REASM_delivered_bytes], "delivered_bytes");
    assert_string_equal(lw_reasm_counter_names[LW_REASM_memcap_hits], "memcap_hits");
}

/* ---- randomized property test ---- */

static uint64_t rnd_state;
static uint64_t rnd(void)
{
    uint64_t z = (rnd_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint32_t rnd_below(uint32_t n)
{
    return n ? (uint32_t)(rnd() % n) : 0;
}

typedef struct item {
    uint32_t off, len;
    bool drop; /* sent but not captured */
    bool fin;
} item;

typedef struct prop_stats {
    unsigned lossless, lossy, memcap, depth, large, gaps;
} prop_stats;

static void run_seed(uint64_t seed, prop_stats *st)
{
    rnd_state = seed * 0x2545F4914F6CDD1Dull + 1;
    bool large = seed % 700 == 699;
    /* Sizes: tiny segments in short streams, mid-size, long streams with larger segments. */
    uint32_t shape = rnd_below(6), L, maxseg;
    if (large) {
        L = 2 * LW_REASM_WINDOW_BYTES + rnd_below(LW_REASM_WINDOW_BYTES);
        maxseg = 1460;
    } else if (shape < 2) {
        L = 1 + rnd_below(1500);
        maxseg = 1 + rnd_below(16);
    } else if (shape < 5) {
        L = 1 + rnd_below(5000);
        maxseg = 1 + rnd_below(1500);
    } else {
        L = 1 + rnd_below(40000);
        maxseg = 200 + rnd_below(1300);
    }
    bool lossy = large || rnd_below(3) == 0;
    bool memcap = !large && rnd_below(8) == 0;
    bool depth = !large && rnd_below(8) == 0;
    bool midstream = rnd_below(4) == 0;
    bool tfo = !midstream && rnd_below(8) == 0;
    uint32_t isn = rnd_below(4) == 0 ? 0xFFFFFFFFu - rnd_below(L + 10) : (uint32_t)rnd();
    uint32_t base = isn + 1;

    uint8_t *orig = malloc(L);
    assert_non_null(orig);
    /* Few distinct byte values: different copies of the same range would still often
     * differ, so a wrong "first wins" shows up as wrong bytes. */
    for (uint32_t i = 0; i < L; i++) orig[i] = (uint8_t)('a' + rnd_below(large ? 26 : 4));

    size_t cap_items = 16 + (size_t)L * 3;
    item *items = malloc(cap_items * sizeof(*items));
    assert_non_null(items);
    size_t n = 0;
    for (uint32_t off = 0; off < L;) {
        uint32_t len = 1 + rnd_below(maxseg);
        if (len > L - off) len = L - off;
        items[n++] = (item){off, len, lossy && rnd_below(10) == 0, off + len == L};
        if (!large && rnd_below(5) == 0) /* duplicate */
            items[n++] = (item){off, len, lossy && rnd_below(10) == 0, off + len == L};
        if (!large && rnd_below(5) == 0) { /* overlapping copy of nearby bytes */
            uint32_t a = off > 50 ? off - rnd_below(50) : rnd_below(off + 1);
            uint32_t b = a + 1 + rnd_below(2 * maxseg + 100);
            if (b > L) b = L;
            items[n++] = (item){a, b - a, lossy && rnd_below(10) == 0, b == L};
        }
        off += len;
    }
    /* Shuffle (Fisher-Yates), but mostly-ordered streams are common too. */
    bool mostly_ordered = rnd_below(3) == 0;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = mostly_ordered ? (i > 3 ? i - rnd_below(4) : rnd_below((uint32_t)i + 1))
                                  : rnd_below((uint32_t)i + 1);
        item t = items[i];
        items[i] = items[j];
        items[j] = t;
    }
    /* The first item of a midstream pickup or carried on the SYN starts at offset 0. */
    if (midstream || tfo) {
        for (size_t i = 0; i < n; i++)
            if (items[i].off == 0) {
                item t = items[0];
                items[0] = items[i];
                items[i] = t;
                break;
            }
        items[0].drop = false;
    }
    size_t fin_at = rnd_below((uint32_t)n);

    uint64_t memcap_bytes = memcap ? rnd_below(30000) : 0;
    uint64_t depth_bytes = depth ? 1 + rnd_below(L + L / 4) : 0;
    fx *f = fx_new(memcap_bytes, depth_bytes, L);
    f->r.orig = orig;
    f->r.orig_len = L;

    uint8_t *sent = calloc(1, L + 1);
    assert_non_null(sent);
    uint32_t contig = 0; /* bytes [0, contig) were all sent: the peer may ack up to here */

    if (!midstream && !tfo) syn(f, isn);
    for (size_t i = 0; i < n; i++) {
        item it = items[i];
        if (i == fin_at) seg(f, base + L, NULL, 0, LW_TCP_FIN | LW_TCP_ACK);
        if (!it.drop) {
            uint8_t flags = LW_TCP_ACK | (it.fin ? LW_TCP_FIN : 0);
            if (tfo && i == 0)
                seg(f, isn, orig, it.len, LW_TCP_SYN | flags);
            else
                seg(f, base + it.off, orig + it.off, it.len, flags);
        }
        memset(sent + it.off, 1, it.len);
        while (contig < L && sent[contig]) contig++;
        if (rnd_below(3) == 0) ack(f, base + rnd_below(contig + 1));
        if (f->r.err[0]) break;
        assert_int_equal(mem(f), f->s.buffered + (uint64_t)f->s.nsegs * LW_REASM_SEG_OVERHEAD);
    }
    lw_reasm_flush(&f->ctx, &f->s, FLOW, DIR);
    if (f->r.err[0]) fail_msg("seed %llu: %s", (unsigned long long)seed, f->r.err);

    bool any_drop = false;
    for (size_t i = 0; i < n; i++) any_drop |= items[i].drop;
    /* Buffered segment boundaries are item boundaries, so at most 2n segments are ever
     * pending; beyond the segment cap a lossless feed may see forced gaps. */
    bool strict = !any_drop && !memcap_bytes && !large && 2 * n <= LW_REASM_MAX_SEGS;
    if (depth_bytes) {
        st->depth++;
        assert_true(f->r.data_bytes <= depth_bytes);
        if (f->r.data_bytes == depth_bytes) assert_true(f->s.depth_reached);
        if (!f->s.depth_reached) assert_int_equal(f->r.next, L);
        if (strict) {
            assert_int_equal(f->r.gap_calls, 0);
            assert_int_equal(f->r.data_bytes, depth_bytes < L ? depth_bytes : L);
        }
    } else {
        /* Delivered bytes + gaps cover exactly the original; each delivered byte matched. */
        if (f->r.next != L)
            fail_msg("seed %llu: covered %llu of %u bytes", (unsigned long long)seed,
                     (unsigned long long)f->r.next, L);
        if (strict) {
            if (f->r.gap_calls)
                fail_msg("seed %llu: %u gaps (%llu bytes) in a lossless stream",
                         (unsigned long long)seed, f->r.gap_calls,
                         (unsigned long long)f->r.gap_bytes);
            assert_int_equal(f->r.data_bytes, L);
            assert_memory_equal(f->r.buf, orig, L);
        }
    }
    if (large)
        st->large++;
    else if (memcap_bytes)
        st->memcap++;
    else if (any_drop)
        st->lossy++;
    else if (!depth_bytes && strict)
        st->lossless++;
    st->gaps += f->r.gap_calls ? 1 : 0;
    fx_done(f);
    free(sent);
    free(items);
    free(orig);
}

static void test_property_random_streams(void **state)
{
    (void)state;
    const char *env = getenv("LW_REASM_SEEDS");
    unsigned long seeds = env ? strtoul(env, NULL, 10) : 3000;
    prop_stats st = {0};
    for (unsigned long seed = 0; seed < seeds; seed++) run_seed(seed, &st);
    print_message("property: %lu seeds: %u lossless, %u lossy, %u memcap, %u depth, %u large; "
                  "%u with gaps\n",
                  seeds, st.lossless, st.lossy, st.memcap, st.depth, st.large, st.gaps);
    /* Make sure every mode actually ran. */
    if (seeds >= 1000) {
        assert_true(st.lossless > 0 && st.lossy > 0 && st.memcap > 0 && st.depth > 0);
        assert_true(st.large > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_no_copy),
        cmocka_unit_test(test_out_of_order_reversed),
        cmocka_unit_test(test_retransmission),
        cmocka_unit_test(test_overlap_same_data),
        cmocka_unit_test(test_overlap_different_data_first_wins),
        cmocka_unit_test(test_overlap_two_buffered_and_hole),
        cmocka_unit_test(test_in_order_over_buffered),
        cmocka_unit_test(test_exact_duplicate_of_buffered),
        cmocka_unit_test(test_wraparound_in_order),
        cmocka_unit_test(test_wraparound_out_of_order),
        cmocka_unit_test(test_gap_peer_ack_after_data),
        cmocka_unit_test(test_gap_peer_ack_before_data),
        cmocka_unit_test(test_gap_window_cap),
        cmocka_unit_test(test_gap_segment_count_cap),
        cmocka_unit_test(test_gap_at_flush),
        cmocka_unit_test(test_leading_gap),
        cmocka_unit_test(test_midstream_pickup),
        cmocka_unit_test(test_syn_retransmit_and_rebase),
        cmocka_unit_test(test_tfo_data_on_syn),
        cmocka_unit_test(test_fin_then_data),
        cmocka_unit_test(test_fin_trims_buffered_and_trailing_gap),
        cmocka_unit_test(test_out_of_window),
        cmocka_unit_test(test_depth_at_segment_boundary),
        cmocka_unit_test(test_depth_inside_segment),
        cmocka_unit_test(test_stale_ack_after_4gib),
        cmocka_unit_test(test_memcap),
        cmocka_unit_test(test_memcap_shared),
        cmocka_unit_test(test_counter_names),
        cmocka_unit_test(test_property_random_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
