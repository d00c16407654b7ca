/*
 * test_defrag.c — unit tests for IPv4/IPv6 fragment reassembly (sensor/decode/defrag.c):
 * synthetic fragment sequences for every policy decision, then real captures from
 * $LW_SHARED_DIR/pcaps (skipped when absent) walked with a minimal Ethernet/VLAN/IP parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leakwatch/defrag.h"

#define SEC 1000000ull

static const uint8_t SRC_A[4] = {10, 0, 0, 1};
static const uint8_t SRC_B[4] = {10, 0, 0, 2};
static const uint8_t DST[4] = {192, 0, 2, 7};

static uint64_t ctr(const lw_defrag *d, int which)
{
    return lw_defrag_get_counters(d)->c[which];
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* One's-complement sum of an IPv4 header including its checksum: 0xffff when correct. */
static uint16_t ip_sum(const uint8_t *h, uint32_t hl)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < hl; i += 2) s += rd16(h + i);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* Pattern payload: byte i of datagram `seed`. */
static void fill(uint8_t *p, uint32_t n, uint8_t seed)
{
    for (uint32_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

/* Build an IPv4 fragment (20-byte header, or 24 with opt) into buf; returns its length. */
static uint32_t mk4x(uint8_t *buf, const uint8_t *src, uint16_t id, uint8_t proto, uint32_t off,
                     bool more, const uint8_t *data, uint32_t dlen, uint8_t ttl, bool opt)
{
    uint32_t hl = opt ? 24 : 20;
    memset(buf, 0, hl);
    buf[0] = (uint8_t)(0x40 | hl / 4);
    buf[2] = (uint8_t)((hl + dlen) >> 8);
    buf[3] = (uint8_t)(hl + dlen);
    buf[4] = (uint8_t)(id >> 8);
    buf[5] = (uint8_t)id;
    uint16_t fo = (uint16_t)((off / 8) | (more ? 0x2000 : 0));
    buf[6] = (uint8_t)(fo >> 8);
    buf[7] = (uint8_t)fo;
    buf[8] = ttl;
    buf[9] = proto;
    buf[10] = 0xde; /* a stale checksum the output must not keep */
    buf[11] = 0xad;
    memcpy(buf + 12, src, 4);
    memcpy(buf + 16, DST, 4);
    if (opt) buf[20] = 1, buf[21] = 1, buf[22] = 1, buf[23] = 0; /* NOP NOP NOP EOL */
    memcpy(buf + hl, data, dlen);
    return hl + dlen;
}

static uint32_t mk4(uint8_t *buf, const uint8_t *src, uint16_t id, uint32_t off, bool more,
                    const uint8_t *data, uint32_t dlen)
{
    return mk4x(buf, src, id, 17, off, more, data, dlen, 64, false);
}

static uint8_t pkt[70000];
static uint8_t payload[70000];

/* Feed fragment [off, off+dlen) of `payload` as IPv4. */
static int feed4(lw_defrag *d, uint64_t now, const uint8_t *src, uint16_t id, uint32_t off,
                 uint32_t dlen, bool more, const uint8_t **out, uint32_t *out_len)
{
    uint32_t n = mk4(pkt, src, id, off, more, payload + off, dlen);
    return lw_defrag_ipv4(d, now, 0, pkt, n, out, out_len);
}

static void check_v4_output(const uint8_t *out, uint32_t out_len, uint32_t total,
                            const uint8_t *expect)
{
    assert_int_equal(out_len, 20 + total);
    assert_int_equal(rd16(out + 2), 20 + total);
    assert_int_equal(rd16(out + 6) & 0x3fff, 0); /* MF clear, offset 0 */
    assert_int_equal(ip_sum(out, 20), 0xffff);
    assert_memory_equal(out + 20, expect, total);
}

static lw_defrag *new_default(void)
{
    lw_defrag *d = lw_defrag_new(NULL);
    assert_non_null(d);
    return d;
}

static void test_in_order(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out = NULL;
    uint32_t out_len = 0;
    fill(payload, 3000, 1);
    assert_int_equal(feed4(d, SEC, SRC_A, 1, 0, 1000, true, &out, &out_len), 0);
    assert_true(lw_defrag_mem_in_use(d) > 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 1, 1000, 1000, true, &out, &out_len), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 1, 2000, 1000, false, &out, &out_len), 1);
    check_v4_output(out, out_len, 3000, payload);
    assert_int_equal(ctr(d, LW_DEFRAG_fragments), 3);
    assert_int_equal(ctr(d, LW_DEFRAG_reassembled), 1);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);
    lw_defrag_free(d);
}

static void test_reverse_order_and_last_first(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 4005, 2);
    /* Last fragment first (fixes the length), then backwards to offset 0. */
    assert_int_equal(feed4(d, SEC, SRC_A, 2, 4000, 5, false, &out, &out_len), 0);
    for (int off = 3200; off > 0; off -= 800)
        assert_int_equal(feed4(d, SEC, SRC_A, 2, (uint32_t)off, 800, true, &out, &out_len), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 2, 0, 800, true, &out, &out_len), 1);
    check_v4_output(out, out_len, 4005, payload);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);
    lw_defrag_free(d);
}

/* Deterministic xorshift so a failure reproduces. */
static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void test_random_permutations(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    for (int round = 0; round < 200; round++) {
        uint32_t total = 513 + rnd() % 9000; /* > 512: always at least two pieces */
        fill(payload, total, (uint8_t)round);
        uint32_t offs[2000], lens[2000], n = 0, off = 0;
        while (off < total) {
            uint32_t len = 8 * (1 + rnd() % 64);
            if (off + len >= total) len = total - off;
            offs[n] = off, lens[n] = len, n++;
            off += len;
        }
        for (uint32_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
            uint32_t j = rnd() % (i + 1), to = offs[i], tl = lens[i];
            offs[i] = offs[j], lens[i] = lens[j], offs[j] = to, lens[j] = tl;
        }
        const uint8_t *out = NULL;
        uint32_t out_len = 0;
        for (uint32_t i = 0; i < n; i++) {
            bool more = offs[i] + lens[i] < total;
            int r = feed4(d, SEC, SRC_A, (uint16_t)round, offs[i], lens[i], more, &out, &out_len);
            assert_int_equal(r, i + 1 == n ? 1 : 0); /* complete exactly at the last piece */
        }
        check_v4_output(out, out_len, total, payload);
    }
    assert_int_equal(ctr(d, LW_DEFRAG_reassembled), 200);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);
    lw_defrag_free(d);
}

static void test_duplicates(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 24, 3);
    assert_int_equal(feed4(d, SEC, SRC_A, 3, 0, 16, true, &out, &out_len), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 3, 0, 16, true, &out, &out_len), 0);
    assert_int_equal(ctr(d, LW_DEFRAG_duplicates), 1);
    assert_int_equal(ctr(d, LW_DEFRAG_overlap_diff), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 3, 16, 8, false, &out, &out_len), 1);
    check_v4_output(out, out_len, 24, payload);
    assert_int_equal(ctr(d, LW_DEFRAG_overlaps), 0);
    lw_defrag_free(d);
}

static void test_overlap_same_data(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 40, 4);
    assert_int_equal(feed4(d, SEC, SRC_A, 4, 0, 16, true, &out, &out_len), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 4, 8, 24, true, &out, &out_len), 0);
    assert_int_equal(ctr(d, LW_DEFRAG_overlaps), 1);
    assert_int_equal(ctr(d, LW_DEFRAG_overlap_diff), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 4, 32, 8, false, &out, &out_len), 1);
    check_v4_output(out, out_len, 40, payload);
    lw_defrag_free(d);
}

static void test_overlap_different_data_first_wins(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    uint8_t a[16], b[24], expect[32];
    memset(a, 'A', sizeof a);
    memset(b, 'B', sizeof b);
    b[0] = 'A'; /* one byte of the overlap agrees: 7 of 8 differ */
    uint32_t n = mk4(pkt, SRC_A, 5, 0, true, a, 16);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n, &out, &out_len), 0);
    n = mk4(pkt, SRC_A, 5, 8, true, b, 24); /* [8,32): overlaps [8,16) */
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n, &out, &out_len), 0);
    assert_int_equal(ctr(d, LW_DEFRAG_overlaps), 1);
    assert_int_equal(ctr(d, LW_DEFRAG_overlap_diff), 7);
    /* A complete re-send of [0,16) with other data: a duplicate, 16 differing bytes. */
    n = mk4(pkt, SRC_A, 5, 0, true, b, 16);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n, &out, &out_len), 0);
    assert_int_equal(ctr(d, LW_DEFRAG_duplicates), 1);
    assert_int_equal(ctr(d, LW_DEFRAG_overlap_diff), 7 + 15);
    n = mk4(pkt, SRC_A, 5, 32, false, b, 8);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n, &out, &out_len), 1);
    memset(expect, 'A', 16);
    memset(expect + 16, 'B', 16);
    assert_int_equal(out_len, 20 + 40);
    assert_memory_equal(out + 20, expect, 32);
    assert_memory_equal(out + 52, b, 8);
    lw_defrag_free(d);
}

static void test_missing_middle_times_out(void **state)
{
    (void)state;
    lw_defrag_config cfg = {.timeout_sec = 60};
    lw_defrag *d = lw_defrag_new(&cfg);
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 3000, 6);
    assert_int_equal(feed4(d, 100 * SEC, SRC_A, 6, 0, 1000, true, &out, &out_len), 0);
    assert_int_equal(feed4(d, 110 * SEC, SRC_A, 6, 2000, 1000, false, &out, &out_len), 0);
    lw_defrag_expire(d, 169 * SEC); /* idle 59 s since the last fragment: kept */
    assert_int_equal(ctr(d, LW_DEFRAG_timeouts), 0);
    assert_true(lw_defrag_mem_in_use(d) > 0);
    lw_defrag_expire(d, 171 * SEC);
    assert_int_equal(ctr(d, LW_DEFRAG_timeouts), 1);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);
    /* The middle arriving now starts a new datagram rather than completing the old one. */
    assert_int_equal(feed4(d, 172 * SEC, SRC_A, 6, 1000, 1000, true, &out, &out_len), 0);
    assert_int_equal(ctr(d, LW_DEFRAG_reassembled), 0);
    lw_defrag_free(d);
}

static void test_lazy_expiry_on_lookup(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 16, 7);
    /* Packet time goes backwards: the tracker at 10 s sits behind the one at 1000 s in the LRU,
     * so only the lookup can notice it is stale. */
    assert_int_equal(feed4(d, 1000 * SEC, SRC_A, 70, 0, 8, true, &out, &out_len), 0);
    assert_int_equal(feed4(d, 10 * SEC, SRC_B, 71, 0, 8, true, &out, &out_len), 0);
    assert_int_equal(feed4(d, 75 * SEC, SRC_B, 71, 8, 8, false, &out, &out_len), 0);
    assert_int_equal(ctr(d, LW_DEFRAG_timeouts), 1);
    assert_int_equal(ctr(d, LW_DEFRAG_reassembled), 0);
    lw_defrag_expire(d, UINT64_MAX); /* end of input: everything left is accounted */
    assert_int_equal(ctr(d, LW_DEFRAG_timeouts), 3);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);
    lw_defrag_free(d);
}

static void test_oversize(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 65600, 8);
    assert_int_equal(feed4(d, SEC, SRC_A, 8, 0, 1000, true, &out, &out_len), 0);
    /* 20 + 65512 + 8 = 65540 > 65535: the whole datagram is dropped. */
    assert_int_equal(feed4(d, SEC, SRC_A, 8, 65512, 8, false, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_too_large), 1);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);
    /* Exactly 65535 fits. */
    assert_int_equal(feed4(d, SEC, SRC_A, 9, 65512, 3, false, &out, &out_len), 0);
    for (uint32_t off = 0; off < 65512; off += 1480) {
        uint32_t len = 65512 - off < 1480 ? 65512 - off : 1480;
        int r = feed4(d, SEC, SRC_A, 9, off, len, true, &out, &out_len);
        assert_int_equal(r, off + len == 65512 ? 1 : 0);
    }
    check_v4_output(out, out_len, 65515, payload);
    lw_defrag_free(d);
}

static void test_bad_multiple_of_8_and_empty(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 64, 9);
    assert_int_equal(feed4(d, SEC, SRC_A, 10, 0, 13, true, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_not_multiple_of_8), 1);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 10, 8, 0, true, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_empty), 1);
    /* A last fragment may end anywhere. */
    assert_int_equal(feed4(d, SEC, SRC_A, 10, 16, 13, false, &out, &out_len), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 10, 0, 16, true, &out, &out_len), 1);
    check_v4_output(out, out_len, 29, payload);
    lw_defrag_free(d);
}

static void test_last_fragment_conflicts(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 64, 10);
    assert_int_equal(feed4(d, SEC, SRC_A, 11, 16, 10, false, &out, &out_len), 0);  /* end 26 */
    assert_int_equal(feed4(d, SEC, SRC_A, 11, 16, 12, false, &out, &out_len), -1); /* end 28 */
    assert_int_equal(ctr(d, LW_DEFRAG_last_conflict), 1);
    assert_int_equal(feed4(d, SEC, SRC_A, 11, 24, 8, true, &out, &out_len), -1); /* past 26 */
    assert_int_equal(ctr(d, LW_DEFRAG_beyond_last), 1);
    assert_int_equal(feed4(d, SEC, SRC_A, 11, 0, 16, true, &out, &out_len), 1);
    check_v4_output(out, out_len, 26, payload);

    /* Held data past a later "last" fragment: that last fragment is refused. */
    assert_int_equal(feed4(d, SEC, SRC_A, 12, 16, 16, true, &out, &out_len), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 12, 8, 4, false, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_last_conflict), 2);
    assert_int_equal(feed4(d, SEC, SRC_A, 12, 0, 16, true, &out, &out_len), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 12, 32, 3, false, &out, &out_len), 1);
    check_v4_output(out, out_len, 35, payload);
    lw_defrag_free(d);
}

static void test_tiny_first_truncated_invalid(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    uint8_t data[32];
    fill(data, sizeof data, 11);
    /* TCP first fragment with 8 bytes: too short for the header, counted but reassembled. */
    uint32_t n = mk4x(pkt, SRC_A, 13, 6, 0, true, data, 8, 64, false);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n, &out, &out_len), 0);
    assert_int_equal(ctr(d, LW_DEFRAG_tiny_first), 1);
    n = mk4x(pkt, SRC_A, 13, 6, 8, false, data + 8, 24, 64, false);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n, &out, &out_len), 1);
    assert_int_equal(out_len, 52);

    /* Total length claims more than the capture holds. */
    n = mk4(pkt, SRC_A, 14, 0, true, data, 16);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n - 4, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_truncated), 1);
    /* Total length below the header length; IHL past the bytes present. */
    pkt[2] = 0, pkt[3] = 12;
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n, &out, &out_len), -1);
    n = mk4(pkt, SRC_A, 14, 0, true, data, 16);
    pkt[0] = 0x4f;
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, 40, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_invalid), 2);
    /* Bytes after the total length (Ethernet padding) are ignored. */
    n = mk4(pkt, SRC_A, 15, 0, true, data, 16);
    memset(pkt + n, 0xee, 10);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n + 10, &out, &out_len), 0);
    n = mk4(pkt, SRC_A, 15, 16, false, data + 16, 4);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n, &out, &out_len), 1);
    assert_int_equal(out_len, 40);
    assert_memory_equal(out + 20, data, 20);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);
    lw_defrag_free(d);
}

static void test_memcap(void **state)
{
    (void)state;
    lw_defrag_config cfg = {.memcap_mb = 1};
    lw_defrag *d = lw_defrag_new(&cfg);
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 65000, 12);
    /* Each held last fragment near 60000 needs a 64 KiB buffer: 1 MB holds about 15. */
    int held = 0, dropped = 0;
    for (uint16_t id = 0; id < 40; id++) {
        int r = feed4(d, SEC, SRC_A, id, 60000, 100, false, &out, &out_len);
        if (r == 0) held++;
        if (r == -1) dropped++;
        assert_true(lw_defrag_mem_in_use(d) <= (1u << 20));
    }
    assert_true(held >= 10 && held < 40);
    assert_int_equal(dropped, 40 - held);
    assert_int_equal(ctr(d, LW_DEFRAG_memcap_drops), (uint64_t)dropped);
    /* Freeing memory lets new datagrams through again. */
    lw_defrag_expire(d, UINT64_MAX);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);
    assert_int_equal(feed4(d, 2 * SEC, SRC_A, 1, 8, 8, false, &out, &out_len), 0);
    assert_int_equal(feed4(d, 2 * SEC, SRC_A, 1, 0, 8, true, &out, &out_len), 1);
    lw_defrag_free(d);
}

static void test_max_trackers(void **state)
{
    (void)state;
    lw_defrag_config cfg = {.max_trackers = 4};
    lw_defrag *d = lw_defrag_new(&cfg);
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 32, 13);
    for (uint16_t id = 0; id < 4; id++)
        assert_int_equal(feed4(d, SEC, SRC_A, id, 0, 16, true, &out, &out_len), 0);
    assert_int_equal(feed4(d, SEC, SRC_A, 4, 0, 16, true, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_tracker_drops), 1);
    /* Existing datagrams still progress, and completing one frees its slot. */
    assert_int_equal(feed4(d, SEC, SRC_A, 2, 16, 16, false, &out, &out_len), 1);
    check_v4_output(out, out_len, 32, payload);
    assert_int_equal(feed4(d, SEC, SRC_A, 4, 0, 16, true, &out, &out_len), 0);
    assert_int_equal(ctr(d, LW_DEFRAG_tracker_drops), 1);
    lw_defrag_free(d); /* frees the 4 held trackers (ASan checks for leaks) */
}

static void test_interleaved_same_id(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    uint8_t a[48], b[48], p[100];
    fill(a, sizeof a, 20);
    fill(b, sizeof b, 90);
    uint32_t n;
    /* Same id 77 from two sources, and from one source in two contexts (VLANs): 3 datagrams. */
    n = mk4(p, SRC_A, 77, 0, true, a, 16);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, p, n, &out, &out_len), 0);
    n = mk4(p, SRC_B, 77, 0, true, b, 16);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, p, n, &out, &out_len), 0);
    n = mk4(p, SRC_A, 77, 0, true, b, 16);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 42, p, n, &out, &out_len), 0);
    n = mk4(p, SRC_B, 77, 16, false, b + 16, 32);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, p, n, &out, &out_len), 1);
    assert_int_equal(out_len, 68);
    assert_memory_equal(out + 12, SRC_B, 4);
    assert_memory_equal(out + 20, b, 48);
    n = mk4(p, SRC_A, 77, 16, false, a + 16, 32);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, p, n, &out, &out_len), 1);
    assert_memory_equal(out + 12, SRC_A, 4);
    assert_memory_equal(out + 20, a, 48);
    assert_int_equal(ctr(d, LW_DEFRAG_overlaps) + ctr(d, LW_DEFRAG_duplicates), 0);
    assert_true(lw_defrag_mem_in_use(d) > 0); /* the ctx 42 datagram is still waiting */
    lw_defrag_free(d);
}

static void test_ipv4_header_and_checksum(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    uint8_t data[40];
    fill(data, sizeof data, 30);
    /* The offset-0 fragment (with options, TTL 99, DF) arrives last; its header is the output's. */
    uint32_t n = mk4x(pkt, SRC_A, 0xbeef, 17, 24, false, data + 24, 16, 5, false);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n, &out, &out_len), 0);
    n = mk4x(pkt, SRC_A, 0xbeef, 17, 0, true, data, 24, 99, true);
    pkt[6] |= 0x40; /* DF */
    uint8_t first_hdr[24];
    memcpy(first_hdr, pkt, 24);
    assert_int_equal(lw_defrag_ipv4(d, SEC, 0, pkt, n, &out, &out_len), 1);
    assert_int_equal(out_len, 24 + 40);
    assert_int_equal(out[0], 0x46);
    assert_int_equal(rd16(out + 2), 64);
    assert_int_equal(rd16(out + 4), 0xbeef);
    assert_int_equal(rd16(out + 6), 0x4000); /* DF kept, MF and offset cleared */
    assert_int_equal(out[8], 99);
    assert_memory_equal(out + 12, first_hdr + 12, 12); /* addresses and options */
    assert_int_equal(ip_sum(out, 24), 0xffff);
    uint16_t cks = rd16(out + 10);
    assert_true(cks != 0xdead);
    assert_memory_equal(out + 24, data, 40);
    lw_defrag_free(d);
}

/* IPv6: base header, optional 8-byte hop-by-hop, Fragment header, data. Returns length. */
static uint32_t mk6(uint8_t *buf, bool hbh, uint32_t id, uint32_t off, bool more, uint8_t nh,
                    const uint8_t *data, uint32_t dlen)
{
    uint32_t fo = hbh ? 48 : 40;
    memset(buf, 0, fo + 8);
    buf[0] = 0x60;
    uint32_t plen = fo - 40 + 8 + dlen;
    buf[4] = (uint8_t)(plen >> 8);
    buf[5] = (uint8_t)plen;
    buf[6] = hbh ? 0 : 44;
    buf[7] = 64;
    for (int i = 0; i < 16; i++)
        buf[8 + i] = (uint8_t)(0x20 + i), buf[24 + i] = (uint8_t)(0x40 + i);
    if (hbh) buf[40] = 44, buf[41] = 0, buf[42] = 1, buf[43] = 4; /* PadN */
    uint8_t *fh = buf + fo;
    fh[0] = nh;
    uint16_t f = (uint16_t)(off | (more ? 1 : 0));
    fh[2] = (uint8_t)(f >> 8);
    fh[3] = (uint8_t)f;
    fh[4] = (uint8_t)(id >> 24), fh[5] = (uint8_t)(id >> 16), fh[6] = (uint8_t)(id >> 8);
    fh[7] = (uint8_t)id;
    memcpy(fh + 8, data, dlen);
    return fo + 8 + dlen;
}

static void test_ipv6_hop_by_hop(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 3000, 40);
    uint32_t n = mk6(pkt, true, 0xabcdef01, 1232, false, 17, payload + 1232, 1768);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 48, 40, &out, &out_len), 0);
    n = mk6(pkt, true, 0xabcdef01, 0, true, 17, payload, 1232);
    uint8_t hdr[48];
    memcpy(hdr, pkt, 48);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 48, 40, &out, &out_len), 1);
    assert_int_equal(out_len, 48 + 3000);
    assert_int_equal(rd16(out + 4), 8 + 3000);
    assert_int_equal(out[6], 0);   /* base still names hop-by-hop */
    assert_int_equal(out[40], 17); /* hop-by-hop now names UDP */
    assert_memory_equal(out + 8, hdr + 8, 32);
    assert_memory_equal(out + 41, hdr + 41, 7);
    assert_memory_equal(out + 48, payload, 3000);
    assert_int_equal(ctr(d, LW_DEFRAG_reassembled), 1);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);

    /* Without hop-by-hop, the base header's Next Header is rewritten. */
    n = mk6(pkt, false, 5, 8, false, 6, payload + 8, 20);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 40, 6, &out, &out_len), 0);
    n = mk6(pkt, false, 5, 0, true, 6, payload, 8);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 40, 6, &out, &out_len), 1);
    assert_int_equal(out_len, 68);
    assert_int_equal(out[6], 6);
    assert_int_equal(rd16(out + 4), 28);
    assert_int_equal(ctr(d, LW_DEFRAG_tiny_first), 1); /* 8 bytes cannot hold a TCP header */
    lw_defrag_free(d);
}

static void test_ipv6_atomic_and_errors(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 100, 50);
    uint32_t n = mk6(pkt, true, 9, 0, false, 58, payload, 37);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 48, 40, &out, &out_len), 1);
    assert_int_equal(out_len, 48 + 37);
    assert_int_equal(out[40], 58);
    assert_int_equal(rd16(out + 4), 8 + 37);
    assert_memory_equal(out + 48, payload, 37);
    assert_int_equal(ctr(d, LW_DEFRAG_atomic), 1);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);

    /* nh_off not naming a Fragment header; frag_off past the data. */
    n = mk6(pkt, true, 9, 8, true, 58, payload, 16);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 48, 6, &out, &out_len), -1);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, n - 4, 40, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_invalid), 2);
    /* Payload length beyond the capture. */
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n - 1, 48, 40, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_truncated), 1);
    /* Non-last fragment not a multiple of 8; data ending past 65535. */
    n = mk6(pkt, false, 10, 8, true, 58, payload, 12);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 40, 6, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_not_multiple_of_8), 1);
    lw_defrag_free(d);
}

static void test_ipv6_too_large(void **state)
{
    (void)state;
    lw_defrag *d = new_default();
    const uint8_t *out;
    uint32_t out_len;
    fill(payload, 100, 60);
    /* Data [65528, 65536) exceeds the 65535-byte payload. */
    uint32_t n = mk6(pkt, false, 11, 65528, false, 58, payload, 8);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 40, 6, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_too_large), 1);
    /* With hop-by-hop, 8 bytes fewer fit: [65520, 65528) + 8 bytes of HBH = 65536. */
    n = mk6(pkt, true, 12, 0, true, 58, payload, 64);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 48, 40, &out, &out_len), 0);
    n = mk6(pkt, true, 12, 65520, false, 58, payload, 8);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 48, 40, &out, &out_len), -1);
    assert_int_equal(ctr(d, LW_DEFRAG_too_large), 2);
    assert_int_equal(lw_defrag_mem_in_use(d), 0); /* its tracker went with it */
    /* 65527 bytes of data with 8 of hop-by-hop: exactly 65535. */
    n = mk6(pkt, true, 13, 65520, false, 58, payload, 7);
    assert_int_equal(lw_defrag_ipv6(d, SEC, 0, pkt, n, 48, 40, &out, &out_len), 0);
    lw_defrag_free(d);
}

/* ---- real captures ---- */

typedef struct pcap_result {
    int reassembled, atomic, held, dropped;
    uint32_t lens[64]; /* lengths of the datagrams returned */
    int nlens;
} pcap_result;

/* Minimal Ethernet (+VLAN) / IPv4 / IPv6 walk calling defrag on fragments. */
static void feed_frame(lw_defrag *d, pcap_result *r, uint64_t ts, const uint8_t *p, uint32_t n)
{
    if (n < 14) return;
    uint32_t off = 12, ctx = 0;
    uint16_t et = rd16(p + off);
    while ((et == 0x8100 || et == 0x88a8) && off + 6 <= n) {
        ctx = ctx * 31 + (rd16(p + off + 2) & 0x0fff);
        off += 4;
        et = rd16(p + off);
    }
    off += 2;
    if (off > n) return;
    const uint8_t *ip = p + off;
    uint32_t len = n - off;
    const uint8_t *out = NULL;
    uint32_t out_len = 0;
    int rc;
    if (et == 0x0800) {
        if (len < 20 || ip[0] >> 4 != 4 || (ip[0] & 15) < 5 || (uint32_t)(ip[0] & 15) * 4 > len)
            return;
        uint32_t tot = rd16(ip + 2);
        if (tot < len && tot >= (uint32_t)(ip[0] & 15) * 4) len = tot; /* trim Ethernet padding */
        if ((rd16(ip + 6) & 0x3fff) == 0) return;
        rc = lw_defrag_ipv4(d, ts, ctx, ip, len, &out, &out_len);
        if (rc == 1) {
            assert_int_equal(ip_sum(out, (uint32_t)(out[0] & 15) * 4), 0xffff);
            assert_int_equal(rd16(out + 2), out_len);
        }
    } else if (et == 0x86dd) {
        if (len < 40 || ip[0] >> 4 != 6) return;
        uint32_t nh_off = 6, hoff = 40;
        uint8_t nh = ip[6];
        while (nh == 0 || nh == 43 || nh == 60) { /* hop-by-hop, routing, destination options */
            if (hoff + 8 > len) return;
            nh_off = hoff;
            nh = ip[hoff];
            hoff += ((uint32_t)ip[hoff + 1] + 1) * 8;
        }
        if (nh != 44 || hoff + 8 > len) return;
        rc = lw_defrag_ipv6(d, ts, ctx, ip, len, hoff, nh_off, &out, &out_len);
        if (rc == 1) assert_int_equal(rd16(out + 4) + 40u, out_len);
    } else {
        return;
    }
    if (rc == 1) {
        if (r->nlens < 64) r->lens[r->nlens++] = out_len;
        assert_non_null(out);
    } else if (rc == 0) {
        r->held++;
    } else {
        r->dropped++;
    }
}

static const char *shared_dir(void)
{
    const char *s = getenv("LW_SHARED_DIR");
    return s && *s ? s : "/work/shared";
}

/* Run one capture through a fresh defrag; returns false when the file is absent. */
static bool run_pcap(const char *rel, pcap_result *r, lw_defrag_counters *c)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/pcaps/%s", shared_dir(), rel);
    if (access(path, R_OK) != 0) return false;
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    assert_non_null(pc);
    assert_int_equal(pcap_datalink(pc), DLT_EN10MB);
    lw_defrag *d = new_default();
    memset(r, 0, sizeof *r);
    struct pcap_pkthdr *h;
    const uint8_t *data;
    while (pcap_next_ex(pc, &h, &data) == 1)
        feed_frame(d, r, (uint64_t)h->ts.tv_sec * SEC + (uint64_t)h->ts.tv_usec, data, h->caplen);
    pcap_close(pc);
    lw_defrag_expire(d, UINT64_MAX);
    assert_int_equal(lw_defrag_mem_in_use(d), 0);
    *c = *lw_defrag_get_counters(d);
    r->reassembled = (int)c->c[LW_DEFRAG_reassembled];
    r->atomic = (int)c->c[LW_DEFRAG_atomic];
    lw_defrag_free(d);
    return true;
}

static void test_pcaps(void **state)
{
    (void)state;
    pcap_result r;
    lw_defrag_counters c;
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/pcaps", shared_dir());
    if (access(probe, R_OK) != 0) skip();

    /* tshark: frame 3 is reassembled into 164 bytes, but only by accepting an 18-byte non-last
     * fragment (frame 1) and a fragment past the end fixed by frame 2's last fragment; we refuse
     * both (as Linux would refuse the datagram), so nothing completes. */
    if (run_pcap("fragments/zeek_ipv4_fragmented-1.pcap", &r, &c)) {
        assert_int_equal(r.reassembled, 0);
        assert_int_equal(c.c[LW_DEFRAG_not_multiple_of_8], 1);
        assert_int_equal(c.c[LW_DEFRAG_beyond_last], 1);
        assert_int_equal(c.c[LW_DEFRAG_timeouts], 1);
    }
    /* tshark: ICMP echo 976 + 432 bytes, reassembled length 1408 (+ 20 header). */
    if (run_pcap("fragments/sv_exception-policy-defrag-01__ipv4frags.pcap", &r, &c)) {
        assert_int_equal(r.reassembled, 1);
        assert_int_equal(r.lens[0], 1428);
    }
    /* tshark: TCP SYN 24 + 16 bytes, reassembled length 40. */
    if (run_pcap("fragments/zeek_ipv4_fragmented-syn.pcap", &r, &c)) {
        assert_int_equal(r.reassembled, 1);
        assert_int_equal(r.lens[0], 60);
        assert_int_equal(c.c[LW_DEFRAG_tiny_first], 0);
    }
    /* tshark: 4 datagrams with the same id, each 313 fragments of 16 (last 8) bytes,
     * reassembled length 5000 in frames 313, 626, 939, 1252; first fragments hold 16 TCP bytes. */
    if (run_pcap("fragments/ndpi_ip_fragmented_garbage.pcap", &r, &c)) {
        assert_int_equal(r.reassembled, 4);
        for (int i = 0; i < 4; i++) assert_int_equal(r.lens[i], 5020);
        assert_int_equal(c.c[LW_DEFRAG_tiny_first], 4);
        assert_int_equal(c.c[LW_DEFRAG_fragments], 1252);
        assert_int_equal(c.c[LW_DEFRAG_timeouts], 0);
    }
    /* tshark: id 1, frames 5 (0, 408 B), 6 (408, 400 B of 'Z'), 8 (408, 400 B of 'A'),
     * 9 (808, last, 400 B): reassembled length 1208, overlap conflict. First wins: the 'Z' copy
     * stays, the 400 bytes of frame 8 all differ. */
    if (run_pcap("fragments/sv_ipv6-malformed-fragments-1__frag-1.pcap", &r, &c)) {
        assert_int_equal(r.reassembled, 1);
        assert_int_equal(r.lens[0], 40 + 1208);
        assert_int_equal(c.c[LW_DEFRAG_duplicates], 1);
        assert_int_equal(c.c[LW_DEFRAG_overlap_diff], 400);
    }
    /* tshark: frames 13, 15, 16, 20, 21 carry offset-0, M=0 Fragment headers (82, 82, 97, 82,
     * 82 bytes on the wire); without the 8-byte header they are 60, 60, 75, 60, 60 bytes. */
    if (run_pcap("fragments/zeek_ipv6-http-atomic-frag.pcap", &r, &c)) {
        assert_int_equal(r.atomic, 5);
        assert_int_equal(r.reassembled, 0);
        uint32_t want[5] = {60, 60, 75, 60, 60};
        assert_int_equal(r.nlens, 5);
        for (int i = 0; i < 5; i++) assert_int_equal(r.lens[i], want[i]);
    }
    /* tshark: IPv4 reassembled lengths 1710, 1498, 1710, 1738 (+20); IPv6 1509, 1498, 1738
     * (+40), in capture order 1730, 1549, 1538, 1518, 1730, 1778, 1758. */
    if (run_pcap("dns/ndpi_dns_fragmented.pcap", &r, &c)) {
        uint32_t want[7] = {1730, 1549, 1538, 1518, 1730, 1778, 1758};
        assert_int_equal(r.reassembled, 7);
        assert_int_equal(r.nlens, 7);
        for (int i = 0; i < 7; i++) assert_int_equal(r.lens[i], want[i]);
        assert_int_equal(r.dropped, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_reverse_order_and_last_first),
        cmocka_unit_test(test_random_permutations),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_overlap_same_data),
        cmocka_unit_test(test_overlap_different_data_first_wins),
        cmocka_unit_test(test_missing_middle_times_out),
        cmocka_unit_test(test_lazy_expiry_on_lookup),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_bad_multiple_of_8_and_empty),
        cmocka_unit_test(test_last_fragment_conflicts),
        cmocka_unit_test(test_tiny_first_truncated_invalid),
        cmocka_unit_test(test_memcap),
        cmocka_unit_test(test_max_trackers),
        cmocka_unit_test(test_interleaved_same_id),
        cmocka_unit_test(test_ipv4_header_and_checksum),
        cmocka_unit_test(test_ipv6_hop_by_hop),
        cmocka_unit_test(test_ipv6_atomic_and_errors),
        cmocka_unit_test(test_ipv6_too_large),
        cmocka_unit_test(test_pcaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
