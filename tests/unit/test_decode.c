/*
 * test_decode.c — unit tests of the packet decoder: hand-built frames for every link type,
 * VLAN/MPLS stacks, IPv4/IPv6 header edge cases, every tunnel, fragments, every prefix of
 * valid frames (truncation), and, when the shared captures exist, real pcaps read with
 * libpcap and compared with what tshark decodes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "leakwatch/decode.h"

/* ---- frame builder: headers are pushed in front of what is already there ---- */

typedef struct pb {
    uint8_t buf[4096];
    uint32_t off;
} pb;

static void pb_init(pb *b)
{
    b->off = sizeof(b->buf);
}
static uint32_t pb_len(const pb *b)
{
    return (uint32_t)sizeof(b->buf) - b->off;
}
static const uint8_t *pb_data(const pb *b)
{
    return b->buf + b->off;
}

static uint8_t *pb_push(pb *b, uint32_t n)
{
    assert_true(b->off >= n);
    b->off -= n;
    memset(b->buf + b->off, 0, n);
    return b->buf + b->off;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void pb_bytes(pb *b, const void *d, uint32_t n)
{
    memcpy(pb_push(b, n), d, n);
}
static void pb_str(pb *b, const char *s)
{
    pb_bytes(b, s, (uint32_t)strlen(s));
}

static void pb_tcp(pb *b, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack, uint8_t flags,
                   uint16_t win, uint32_t optlen)
{
    uint8_t *h = pb_push(b, 20 + optlen);
    put16(h, sp);
    put16(h + 2, dp);
    put32(h + 4, seq);
    put32(h + 8, ack);
    h[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    h[13] = flags;
    put16(h + 14, win);
    memset(h + 20, 1, optlen); /* NOPs */
}

static void pb_udp(pb *b, uint16_t sp, uint16_t dp)
{
    uint32_t len = pb_len(b) + 8;
    uint8_t *h = pb_push(b, 8);
    put16(h, sp);
    put16(h + 2, dp);
    put16(h + 4, (uint16_t)len);
}

static void pb_ipv4_opts(pb *b, uint8_t proto, uint32_t src, uint32_t dst, const uint8_t *opts,
                         uint32_t optlen)
{
    uint32_t hl = 20 + optlen;
    uint32_t total = pb_len(b) + hl;
    uint8_t *h = pb_push(b, hl);
    h[0] = (uint8_t)(0x40 | (hl / 4));
    put16(h + 2, (uint16_t)total);
    put16(h + 4, 0x1234);
    h[8] = 64;
    h[9] = proto;
    put32(h + 12, src);
    put32(h + 16, dst);
    if (optlen) memcpy(h + 20, opts, optlen);
}

static void pb_ipv4(pb *b, uint8_t proto, uint32_t src, uint32_t dst)
{
    pb_ipv4_opts(b, proto, src, dst, NULL, 0);
}

static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static void pb_ipv6(pb *b, uint8_t nh, const uint8_t *src, const uint8_t *dst)
{
    uint32_t plen = pb_len(b);
    uint8_t *h = pb_push(b, 40);
    h[0] = 0x60;
    put16(h + 4, (uint16_t)plen);
    h[6] = nh;
    h[7] = 64;
    memcpy(h + 8, src, 16);
    memcpy(h + 24, dst, 16);
}

/* An extension header of len bytes (multiple of 8), padded with Pad1 options. */
static void pb_ext6(pb *b, uint8_t nh, uint32_t len)
{
    uint8_t *h = pb_push(b, len);
    h[0] = nh;
    h[1] = (uint8_t)(len / 8 - 1);
}

static void pb_eth(pb *b, uint16_t type)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};
    uint8_t *h = pb_push(b, 14);
    memcpy(h, macs, 12);
    put16(h + 12, type);
}

/* One tag: TCI then the type of what follows it. */
static void pb_vlan(pb *b, uint16_t vid, uint16_t next)
{
    uint8_t *h = pb_push(b, 4);
    put16(h, vid);
    put16(h + 2, next);
}

static const char HTTP_GET[] = "GET /secret HTTP/1.1\r\nHost: x\r\n\r\n";
#define IP_A 0x0a000001u /* 10.0.0.1 */
#define IP_B 0x0a000002u /* 10.0.0.2 */
#define IP_C 0xc0a80101u /* 192.168.1.1 (outer) */
#define IP_D 0xc0a80102u /* 192.168.1.2 (outer) */

/* The inner packet most tests carry: 10.0.0.1:1234 -> 10.0.0.2:80, HTTP request. */
static void pb_inner_tcp4(pb *b)
{
    pb_str(b, HTTP_GET);
    pb_tcp(b, 1234, 80, 1000, 2000, 0x18, 512, 0);
    pb_ipv4(b, 6, IP_A, IP_B);
}

static void pb_inner_tcp6(pb *b)
{
    pb_str(b, HTTP_GET);
    pb_tcp(b, 1234, 80, 1000, 2000, 0x18, 512, 0);
    pb_ipv6(b, 6, A6, B6);
}

/* ---- decoding helpers ---- */

static lw_decoder *dec;

static int setup(void **state)
{
    (void)state;
    dec = lw_decoder_new(NULL);
    return dec ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    lw_decoder_free(dec);
    dec = NULL;
    return 0;
}

static uint64_t cnt(int idx)
{
    return lw_decoder_counters(dec)->c[idx];
}
#define CNT(name) cnt(LW_DECODE_##name)
static uint64_t errors(void)
{
    return lw_decode_errors(lw_decoder_counters(dec));
}

static bool decode_cut(int linktype, const uint8_t *d, uint32_t caplen, uint32_t wirelen,
                       lw_packet *p)
{
    lw_frame f = {.data = d,
                  .caplen = caplen,
                  .wirelen = wirelen,
                  .ts_usec = 1000000,
                  .linktype = linktype,
                  .pkt_num = 1};
    return lw_decode(dec, &f, p);
}

static bool decode(int linktype, const pb *b, lw_packet *p)
{
    return decode_cut(linktype, pb_data(b), pb_len(b), pb_len(b), p);
}

static bool decode_eth(const pb *b, lw_packet *p)
{
    return decode(1, b, p);
}

static void assert_v4(const lw_packet *p, uint32_t src, uint32_t dst)
{
    uint8_t s[4], d[4];
    put32(s, src);
    put32(d, dst);
    assert_int_equal(p->ip_version, 4);
    assert_memory_equal(p->src.b, s, 4);
    assert_memory_equal(p->dst.b, d, 4);
    for (int i = 4; i < 16; i++) assert_int_equal(p->src.b[i] | p->dst.b[i], 0);
}

/* The standard inner packet, wherever it was carried. */
static void assert_inner_tcp(const lw_packet *p, int version)
{
    if (version == 4)
        assert_v4(p, IP_A, IP_B);
    else {
        assert_int_equal(p->ip_version, 6);
        assert_memory_equal(p->src.b, A6, 16);
        assert_memory_equal(p->dst.b, B6, 16);
    }
    assert_int_equal(p->proto, 6);
    assert_int_equal(p->sport, 1234);
    assert_int_equal(p->dport, 80);
    assert_int_equal(p->seq, 1000);
    assert_int_equal(p->ack, 2000);
    assert_int_equal(p->payload_len, strlen(HTTP_GET));
    assert_memory_equal(p->payload, HTTP_GET, strlen(HTTP_GET));
    assert_false(p->payload_truncated);
}

/* ---- Ethernet, IPv4, TCP, UDP ---- */

static void test_ethernet_tcp_options_payload(void **state)
{
    (void)state;
    pb b;
    pb_init(&b);
    pb_str(&b, "hello");
    pb_tcp(&b, 40000, 443, 0xdeadbeef, 0x01020304, LW_TCP_PSH | LW_TCP_ACK, 29200, 12);
    pb_ipv4(&b, 6, IP_A, IP_B);
    pb_eth(&b, 0x0800);
    lw_packet p;
    assert_true(decode_eth(&b, &p));
    assert_v4(&p, IP_A, IP_B);
    assert_int_equal(p.proto, 6);
    assert_int_equal(p.sport, 40000);
    assert_int_equal(p.dport, 443);
    assert_int_equal(p.seq, 0xdeadbeef);
    assert_int_equal(p.ack, 0x01020304);
    assert_int_equal(p.window, 29200);
    assert_int_equal(p.tcp_flags, LW_TCP_PSH | LW_TCP_ACK);
    assert_int_equal(p.payload_len, 5);
    assert_memory_equal(p.payload, "hello", 5);
    assert_ptr_equal(p.payload, pb_data(&b) + 14 + 20 + 32);
    assert_ptr_equal(p.l3, pb_data(&b) + 14);
    assert_int_equal(p.l3_len, 20 + 32 + 5);
    assert_int_equal(p.vlan_count, 0);
    assert_int_equal(p.tunnel_depth, 0);
    assert_false(p.reassembled);
    assert_false(p.payload_truncated);
    assert_int_equal(p.flow_hash, 0);
    assert_int_equal(p.wirelen, pb_len(&b));
    assert_int_equal(CNT(ipv4), 1);
    assert_int_equal(CNT(tcp), 1);
    assert_int_equal(CNT(ip_packets), 1);
    assert_int_equal(CNT(packets), 1);
    assert_int_equal(CNT(bytes), pb_len(&b));
    assert_int_equal(errors(), 0);
}

static void test_ethernet_padding_trimmed(void **state)
{
    (void)state;
    pb b;
    pb_init(&b);
    pb_str(&b, "ab");
    pb_udp(&b, 5353, 53);
    pb_ipv4(&b, 17, IP_A, IP_B);
    pb_eth(&b, 0x0800);
    uint8_t frame[64]; /* the frame, then link-layer padding up to the Ethernet minimum */
    memset(frame, 0xee, sizeof(frame));
    memcpy(frame, pb_data(&b), pb_len(&b));
    lw_packet p;
    assert_true(decode_cut(1, frame, 60, 60, &p));
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.sport, 5353);
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.payload_len, 2);
    assert_int_equal(p.l3_len, 20 + 8 + 2);
    assert_int_equal(errors(), 0);
}

static void test_snaplen_cut_payload(void **state)
{
    (void)state;
    pb b;
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_eth(&b, 0x0800);
    lw_packet p;
    uint32_t cut = 14 + 20 + 20 + 5;
    assert_true(decode_cut(1, pb_data(&b), cut, pb_len(&b), &p));
    assert_int_equal(p.payload_len, 5);
    assert_true(p.payload_truncated);
    assert_int_equal(p.l3_len, cut - 14);
    assert_int_equal(CNT(payload_truncated), 1);
    assert_int_equal(CNT(frames_truncated), 1);

    /* Options cut by the snaplen: the fixed header still describes the segment. */
    pb_init(&b);
    pb_tcp(&b, 1, 2, 3, 4, LW_TCP_SYN, 5, 20);
    pb_ipv4(&b, 6, IP_A, IP_B);
    pb_eth(&b, 0x0800);
    assert_true(decode_cut(1, pb_data(&b), 14 + 20 + 30, pb_len(&b), &p));
    assert_int_equal(p.tcp_flags, LW_TCP_SYN);
    assert_int_equal(p.payload_len, 0);
    assert_true(p.payload_truncated);

    /* The same shortfall without a snaplen cut is a lie in the header (counted); outside a
     * tunnel the bytes present are still inspected, as if the capture had cut them. */
    uint64_t before = CNT(ipv4_bad_total_length);
    assert_true(decode_cut(1, pb_data(&b), 14 + 20 + 30, 14 + 20 + 30, &p));
    assert_int_equal(CNT(ipv4_bad_total_length), before + 1);
    assert_true(p.payload_truncated);
    assert_true(p.payload_len <= 30 - 20);
}

static void test_udp_length(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_str(&b, "abcdef");
    pb_udp(&b, 1000, 2000);
    uint8_t *u = b.buf + b.off;
    pb_ipv4(&b, 17, IP_A, IP_B);
    pb_eth(&b, 0x0800);

    put16(u + 4, 8 + 3); /* shorter than the IP payload: trimmed */
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.payload_len, 3);
    assert_int_equal(CNT(udp_trailing_bytes), 1);

    put16(u + 4, 8 + 7); /* longer than the IP payload */
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(udp_bad_length), 1);

    put16(u + 4, 4); /* shorter than its own header */
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(udp_bad_length), 2);
}

static void test_icmp_sctp(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_str(&b, "ping-data");
    uint8_t *h = pb_push(&b, 8);
    h[0] = 8; /* echo request */
    h[1] = 0;
    pb_ipv4(&b, 1, IP_A, IP_B);
    pb_eth(&b, 0x0800);
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 1);
    assert_int_equal(p.sport, 8);
    assert_int_equal(p.dport, 0);
    assert_int_equal(p.payload_len, 9);
    assert_memory_equal(p.payload, "ping-data", 9);
    assert_int_equal(CNT(icmp), 1);

    pb_init(&b);
    h = pb_push(&b, 8);
    h[0] = 1; /* destination unreachable */
    h[1] = 4;
    pb_ipv6(&b, 58, A6, B6);
    pb_eth(&b, 0x86dd);
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 58);
    assert_int_equal(p.sport, 1);
    assert_int_equal(p.dport, 4);
    assert_int_equal(CNT(icmpv6), 1);

    pb_init(&b);
    pb_str(&b, "chunk");
    h = pb_push(&b, 12);
    put16(h, 2905);
    put16(h + 2, 3868);
    pb_ipv4(&b, 132, IP_A, IP_B);
    pb_eth(&b, 0x0800);
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 132);
    assert_int_equal(p.sport, 2905);
    assert_int_equal(p.dport, 3868);
    assert_int_equal(p.payload_len, 5);

    /* Too short for their headers. */
    pb_init(&b);
    pb_push(&b, 4);
    pb_ipv4(&b, 1, IP_A, IP_B);
    pb_eth(&b, 0x0800);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(icmp_truncated), 1);
    pb_init(&b);
    pb_push(&b, 8);
    pb_ipv4(&b, 132, IP_A, IP_B);
    pb_eth(&b, 0x0800);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(sctp_truncated), 1);
}

static void test_tcp_bad_offset(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_tcp(&b, 1, 2, 3, 4, 0, 5, 0);
    uint8_t *t = b.buf + b.off;
    pb_ipv4(&b, 6, IP_A, IP_B);
    pb_eth(&b, 0x0800);
    t[12] = 4 << 4; /* 16 bytes: below the minimum */
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(tcp_bad_offset), 1);
    t[12] = 15 << 4; /* 60 bytes: past the segment */
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(tcp_bad_offset), 2);
    /* Segment shorter than the fixed header. */
    pb_init(&b);
    pb_push(&b, 12);
    pb_ipv4(&b, 6, IP_A, IP_B);
    pb_eth(&b, 0x0800);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(tcp_truncated), 1);
}

/* ---- IPv4 ---- */

static void test_ipv4_options(void **state)
{
    (void)state;
    static const uint8_t rr[8] = {1, 7, 7, 4, 0, 0, 0, 0};   /* NOP, record route (7 bytes) */
    static const uint8_t bad[8] = {1, 7, 12, 4, 0, 0, 0, 0}; /* option longer than the list */
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_str(&b, "xyz");
    pb_udp(&b, 7, 9);
    pb_ipv4_opts(&b, 17, IP_A, IP_B, rr, sizeof(rr));
    pb_eth(&b, 0x0800);
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.sport, 7);
    assert_int_equal(p.payload_len, 3);
    assert_memory_equal(p.payload, "xyz", 3);
    assert_int_equal(CNT(ipv4_bad_options), 0);

    pb_init(&b);
    pb_str(&b, "xyz");
    pb_udp(&b, 7, 9);
    pb_ipv4_opts(&b, 17, IP_A, IP_B, bad, sizeof(bad));
    pb_eth(&b, 0x0800);
    assert_true(decode_eth(&b, &p)); /* counted, still decoded */
    assert_int_equal(p.payload_len, 3);
    assert_int_equal(CNT(ipv4_bad_options), 1);
}

static void test_ipv4_malformed(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    uint8_t *ip = b.buf + b.off;
    pb_eth(&b, 0x0800);
    uint8_t saved[20];
    memcpy(saved, ip, 20);

    ip[0] = 0x55; /* version 5 */
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(ipv4_bad_version), 1);

    ip[0] = 0x44; /* IHL 4 */
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(ipv4_bad_ihl), 1);

    memcpy(ip, saved, 20);
    put16(ip + 2, 19); /* total length below the header length */
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(ipv4_bad_total_length), 1);

    put16(ip + 2, (uint16_t)(pb_len(&b) - 14 + 1)); /* one byte more than the frame */
    assert_true(decode_eth(&b, &p));                /* counted, kept as truncated */
    assert_true(p.payload_truncated);
    assert_int_equal(CNT(ipv4_bad_total_length), 2);

    /* IHL past the end of a short frame. */
    memcpy(ip, saved, 20);
    ip[0] = 0x4f;
    assert_false(decode_cut(1, pb_data(&b), 14 + 40, 14 + 40, &p));
    assert_int_equal(CNT(ipv4_bad_ihl), 2);

    memcpy(ip, saved, 20);
    assert_false(decode_cut(1, pb_data(&b), 14 + 19, 14 + 19, &p));
    assert_int_equal(CNT(ipv4_truncated), 1);

    memcpy(ip, saved, 20);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
}

/* ---- IPv6 ---- */

static void test_ipv6_extension_chain(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_str(&b, HTTP_GET);
    pb_tcp(&b, 1234, 80, 1000, 2000, 0x18, 512, 0);
    uint8_t *ah = pb_push(&b, 16); /* AH: length in 4-byte units minus 2 */
    ah[0] = 6;
    ah[1] = 2;
    pb_ext6(&b, 51, 16); /* destination options -> AH */
    pb_ext6(&b, 60, 24); /* routing -> destination options */
    pb_ext6(&b, 43, 8);  /* hop-by-hop -> routing */
    pb_ipv6(&b, 0, A6, B6);
    pb_eth(&b, 0x86dd);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 6);
    assert_int_equal(p.l3_len, pb_len(&b) - 14);
    assert_int_equal(CNT(ipv6_hbh_not_first), 0);

    /* ESP ends the walk: an IP packet without ports. */
    pb_init(&b);
    pb_str(&b, "encrypted");
    pb_ext6(&b, 50, 8);
    pb_ipv6(&b, 60, A6, B6);
    pb_eth(&b, 0x86dd);
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 50);
    assert_int_equal(p.sport, 0);
    assert_int_equal(p.payload_len, 9);

    /* Mobility header, then No Next Header. */
    pb_init(&b);
    pb_ext6(&b, 59, 8);
    pb_ipv6(&b, 135, A6, B6);
    pb_eth(&b, 0x86dd);
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 59);

    /* Hop-by-hop not first: counted, decoded. */
    pb_init(&b);
    pb_str(&b, "x");
    pb_udp(&b, 1, 2);
    pb_ext6(&b, 17, 8);
    pb_ext6(&b, 0, 8);
    pb_ipv6(&b, 60, A6, B6);
    pb_eth(&b, 0x86dd);
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 17);
    assert_int_equal(CNT(ipv6_hbh_not_first), 1);

    /* A chain longer than the cap. */
    pb_init(&b);
    pb_str(&b, "x");
    pb_udp(&b, 1, 2);
    pb_ext6(&b, 17, 8);
    for (int i = 0; i < 20; i++) pb_ext6(&b, 60, 8);
    pb_ipv6(&b, 60, A6, B6);
    pb_eth(&b, 0x86dd);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(ipv6_ext_chain_too_long), 1);

    /* An extension header claiming more than the datagram. */
    pb_init(&b);
    pb_ext6(&b, 17, 8);
    b.buf[b.off + 1] = 5;
    pb_ipv6(&b, 60, A6, B6);
    pb_eth(&b, 0x86dd);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(ipv6_ext_truncated), 1);
}

static void test_ipv6_malformed(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp6(&b);
    uint8_t *ip = b.buf + b.off;
    pb_eth(&b, 0x86dd);
    assert_true(decode_eth(&b, &p));

    ip[0] = 0x40;
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(ipv6_bad_version), 1);
    ip[0] = 0x60;

    put16(ip + 4, (uint16_t)(pb_len(&b) - 14 - 40 + 1));
    assert_true(decode_eth(&b, &p)); /* counted, kept as truncated */
    assert_true(p.payload_truncated);
    assert_int_equal(CNT(ipv6_bad_payload_length), 1);

    put16(ip + 4, 0); /* jumbogram: payload length 0 with hop-by-hop */
    ip[6] = 0;
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(ipv6_jumbo_unsupported), 1);

    assert_false(decode_cut(1, pb_data(&b), 14 + 39, 14 + 39, &p));
    assert_int_equal(CNT(ipv6_truncated), 1);
}

/* ---- fragments ---- */

/* IPv4 fragment of a datagram whose payload is `data` (UDP header included). */
static void pb_frag4(pb *b, const uint8_t *data, uint32_t off, uint32_t len, bool more, uint16_t id)
{
    pb_init(b);
    pb_bytes(b, data + off, len);
    pb_ipv4(b, 17, IP_A, IP_B);
    uint8_t *ip = b->buf + b->off;
    put16(ip + 4, id);
    put16(ip + 6, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
    pb_eth(b, 0x0800);
}

static void test_ipv4_fragments(void **state)
{
    (void)state;
    uint8_t dgram[8 + 64];
    memset(dgram, 'z', sizeof(dgram));
    put16(dgram, 5000);
    put16(dgram + 2, 53);
    put16(dgram + 4, sizeof(dgram));
    put16(dgram + 6, 0);
    pb b;
    lw_packet p;
    pb_frag4(&b, dgram, 0, 32, true, 77);
    assert_false(decode_eth(&b, &p)); /* held */
    pb_frag4(&b, dgram, 32, sizeof(dgram) - 32, false, 77);
    assert_true(decode_eth(&b, &p));
    assert_true(p.reassembled);
    assert_v4(&p, IP_A, IP_B);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.sport, 5000);
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.payload_len, 64);
    assert_memory_equal(p.payload, dgram + 8, 64);
    assert_int_equal(p.l3_len, 20 + sizeof(dgram));
    /* The datagram lives in the decoder, not in the frame. */
    assert_true(p.l3 < pb_data(&b) || p.l3 >= pb_data(&b) + pb_len(&b));
    assert_int_equal(CNT(ipv4_fragments), 2);
    assert_int_equal(CNT(reassembled), 1);

    /* A fragment cut by the snaplen cannot be reassembled. */
    pb_frag4(&b, dgram, 0, 32, true, 78);
    assert_false(decode_cut(1, pb_data(&b), pb_len(&b) - 4, pb_len(&b), &p));
    assert_int_equal(CNT(frag_truncated), 1);
}

static void test_ipv6_fragments(void **state)
{
    (void)state;
    uint8_t dgram[8 + 40];
    memset(dgram, 'q', sizeof(dgram));
    put16(dgram, 6000);
    put16(dgram + 2, 7000);
    put16(dgram + 4, sizeof(dgram));
    put16(dgram + 6, 0);
    pb b;
    lw_packet p;
    for (int part = 0; part < 2; part++) {
        uint32_t off = part ? 24 : 0, len = part ? sizeof(dgram) - 24 : 24;
        pb_init(&b);
        pb_bytes(&b, dgram + off, len);
        uint8_t *fh = pb_push(&b, 8);
        fh[0] = 17;
        put16(fh + 2, (uint16_t)(off | (part ? 0 : 1)));
        put32(fh + 4, 0xabcd);
        pb_ext6(&b, 44, 8); /* destination options before the Fragment header */
        pb_ipv6(&b, 60, A6, B6);
        pb_eth(&b, 0x86dd);
        bool ok = decode_eth(&b, &p);
        assert_int_equal(ok, part == 1);
    }
    assert_true(p.reassembled);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.sport, 6000);
    assert_int_equal(p.dport, 7000);
    assert_int_equal(p.payload_len, 40);
    assert_int_equal(CNT(ipv6_fragments), 2);

    /* An atomic fragment comes back at once. */
    pb_init(&b);
    pb_bytes(&b, dgram, sizeof(dgram));
    uint8_t *fh = pb_push(&b, 8);
    fh[0] = 17;
    put32(fh + 4, 0x1111);
    pb_ipv6(&b, 44, A6, B6);
    pb_eth(&b, 0x86dd);
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.sport, 6000);
    assert_int_equal(p.payload_len, 40);
}

/* ---- link types ---- */

static void check_link(int linktype, const pb *b)
{
    lw_packet p;
    uint64_t errs = errors();
    assert_true(decode(linktype, b, &p));
    assert_inner_tcp(&p, p.ip_version);
    assert_int_equal(errors(), errs);
}

static void test_link_null_loop_raw(void **state)
{
    (void)state;
    pb b;
    uint8_t *h;
    /* DLT_NULL from a little-endian host, IPv4. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_bytes(&b, "\x02\x00\x00\x00", 4);
    check_link(0, &b);
    /* From a big-endian host, IPv6 with each BSD's AF_INET6. */
    static const uint32_t af6[] = {24, 28, 30};
    for (int i = 0; i < 3; i++) {
        pb_init(&b);
        pb_inner_tcp6(&b);
        h = pb_push(&b, 4);
        put32(h, af6[i]);
        check_link(0, &b);
    }
    /* DLT_LOOP: network byte order. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    h = pb_push(&b, 4);
    put32(h, 2);
    check_link(108, &b);
    /* Unknown family. */
    lw_packet p;
    h[3] = 7;
    assert_false(decode(0, &b, &p));
    assert_int_equal(CNT(non_ip_other), 1);
    assert_false(decode_cut(0, pb_data(&b), 3, 3, &p));
    assert_int_equal(CNT(null_truncated), 1);

    /* Raw IP: 12, 14, 101 by nibble; 228 only IPv4, 229 only IPv6. */
    static const int raw[] = {12, 14, 101};
    for (int i = 0; i < 3; i++) {
        pb_init(&b);
        pb_inner_tcp4(&b);
        check_link(raw[i], &b);
        pb_init(&b);
        pb_inner_tcp6(&b);
        check_link(raw[i], &b);
    }
    pb_init(&b);
    pb_inner_tcp4(&b);
    check_link(228, &b);
    assert_false(decode(229, &b, &p));
    assert_int_equal(CNT(raw_bad_version), 1);
    pb_init(&b);
    pb_inner_tcp6(&b);
    check_link(229, &b);
    assert_false(decode(228, &b, &p));
    assert_int_equal(CNT(raw_bad_version), 2);

    assert_false(decode(147, &b, &p));
    assert_int_equal(CNT(unsupported_linktype), 1);
}

static void test_link_sll_sll2(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    uint8_t *h = pb_push(&b, 16);
    put16(h, 4);     /* outgoing */
    put16(h + 2, 1); /* ARPHRD_ETHER */
    put16(h + 4, 6); /* address length */
    put16(h + 14, 0x0800);
    check_link(113, &b);

    /* VLAN tag left in the payload (protocol 0x8100). */
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_vlan(&b, 42, 0x0800);
    h = pb_push(&b, 16);
    put16(h + 2, 1);
    put16(h + 14, 0x8100);
    assert_true(decode(113, &b, &p));
    assert_int_equal(p.vlan_count, 1);
    assert_int_equal(p.vlan[0], 42);

    pb_init(&b);
    pb_inner_tcp6(&b);
    h = pb_push(&b, 20);
    put16(h, 0x86dd);
    put32(h + 4, 3); /* ifindex */
    put16(h + 8, 1); /* ARPHRD_ETHER */
    h[11] = 6;
    check_link(276, &b);

    assert_false(decode_cut(276, pb_data(&b), 19, 19, &p));
    assert_false(decode_cut(113, pb_data(&b), 15, 15, &p));
    assert_int_equal(CNT(sll_truncated), 2);

    /* Netlink monitor frames are not IP. */
    put16(h + 8, 824);
    assert_false(decode(276, &b, &p));
    assert_int_equal(CNT(non_ip_other), 1);
}

static void test_link_ppp_chdlc(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    /* DLT_PPP with address/control and a 2-byte protocol. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_bytes(&b, "\xff\x03\x00\x21", 4);
    check_link(9, &b);
    /* Address/control and protocol field compressed. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_bytes(&b, "\x21", 1);
    check_link(9, &b);
    pb_init(&b);
    pb_inner_tcp6(&b);
    pb_bytes(&b, "\xff\x03\x00\x57", 4);
    check_link(50, &b);
    /* Cisco HDLC on link type 50 and 104. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_bytes(&b, "\x0f\x00\x08\x00", 4);
    check_link(50, &b);
    check_link(104, &b);
    assert_int_equal(CNT(chdlc), 2);
    /* LCP is PPP control, not IP. */
    pb_init(&b);
    pb_bytes(&b, "\x01\x01\x00\x04", 4);
    pb_bytes(&b, "\xff\x03\xc0\x21", 4);
    assert_false(decode(9, &b, &p));
    assert_int_equal(CNT(non_ip_ppp_control), 1);
    /* Compressed datagram. */
    pb_init(&b);
    pb_bytes(&b, "\x00\x01\x02\x03", 4);
    pb_bytes(&b, "\xff\x03\x00\xfd", 4);
    assert_false(decode(9, &b, &p));
    assert_int_equal(CNT(non_ip_ppp_compressed), 1);
    assert_false(decode_cut(9, pb_data(&b), 1, 1, &p));
    assert_int_equal(CNT(ppp_truncated), 1);
    assert_false(decode_cut(104, pb_data(&b), 3, 3, &p));
    assert_int_equal(CNT(chdlc_truncated), 1);
}

static void pb_pppoe(pb *b, uint16_t ppp_proto)
{
    uint32_t len = pb_len(b) + 2;
    uint8_t *h = pb_push(b, 8);
    h[0] = 0x11;
    put16(h + 2, 0x1234); /* session */
    put16(h + 4, (uint16_t)len);
    put16(h + 6, ppp_proto);
}

static void test_pppoe(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_pppoe(&b, 0x0021);
    uint8_t *h = b.buf + b.off;
    check_link(51, &b); /* DLT_PPP_ETHER: no Ethernet header */
    pb_vlan(&b, 200, 0x8864);
    pb_vlan(&b, 100, 0x8100);
    pb_eth(&b, 0x88a8);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.vlan_count, 2);
    assert_int_equal(p.vlan[0], 100);
    assert_int_equal(p.vlan[1], 200);
    assert_int_equal(CNT(pppoe), 2);

    h[0] = 0x12;
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(pppoe_bad_header), 1);
    h[0] = 0x11;
    put16(h + 4, 2000);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(pppoe_bad_length), 1);

    pb_init(&b);
    pb_bytes(&b, "\x11\x09\x00\x00\x00\x00", 6); /* PADI */
    pb_eth(&b, 0x8863);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(non_ip_pppoe_discovery), 1);
}

static void test_link_nflog(void **state)
{
    (void)state;
    pb b;
    pb_init(&b);
    pb_inner_tcp4(&b);
    uint32_t plen = pb_len(&b);
    /* NFULA_PAYLOAD TLV (host byte order), preceded by a prefix TLV that needs padding. */
    uint16_t tl[2] = {(uint16_t)(plen + 4), 9};
    pb_bytes(&b, tl, 4);
    pb_bytes(&b, "ab\0\0", 4); /* "ab" padded to 4 */
    uint16_t pre[2] = {6, 10}; /* NFULA_PREFIX, 2 bytes of value */
    pb_bytes(&b, pre, 4);
    pb_bytes(&b, "\x02\x00\x00\x00", 4); /* AF_INET, version 0, resource 0 */
    check_link(239, &b);

    lw_packet p;
    /* A TLV length below its own header. */
    uint8_t *first = b.buf + b.off + 4;
    uint16_t bad[1] = {2};
    memcpy(first, bad, 2);
    assert_false(decode(239, &b, &p));
    assert_int_equal(CNT(nflog_bad_tlv), 1);

    /* No payload TLV at all. */
    pb_init(&b);
    pb_bytes(&b, "ab\0\0", 4);
    pb_bytes(&b, pre, 4);
    pb_bytes(&b, "\x02\x00\x00\x00", 4);
    assert_false(decode(239, &b, &p));
    assert_int_equal(CNT(non_ip_nflog_no_payload), 1);
}

static void test_link_wifi(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_bytes(&b, "\xaa\xaa\x03\x00\x00\x00\x08\x00", 8);
    uint8_t *w = pb_push(&b, 26); /* QoS data, to DS */
    w[0] = 0x88;
    w[1] = 0x01;
    check_link(105, &b);
    uint8_t *rt = pb_push(&b, 12); /* radiotap, 12 bytes */
    rt[2] = 12;
    check_link(127, &b);
    assert_int_equal(CNT(wifi), 2);

    w[1] = 0x41; /* protected */
    assert_false(decode(127, &b, &p));
    w[1] = 0x01;
    w[0] = 0x80; /* beacon */
    assert_false(decode(127, &b, &p));
    assert_int_equal(CNT(non_ip_wifi), 2);
    w[0] = 0x88;
    rt[2] = 200; /* radiotap length past the frame */
    assert_false(decode(127, &b, &p));
    assert_int_equal(CNT(radiotap_truncated), 1);
}

/* ---- VLAN, MPLS, non-IP ---- */

static void test_vlan_depths(void **state)
{
    (void)state;
    static const uint16_t tpids[] = {0x8100, 0x88a8, 0x9100, 0x8100, 0x88a8};
    for (int depth = 1; depth <= 5; depth++) {
        pb b;
        lw_packet p;
        pb_init(&b);
        pb_inner_tcp4(&b);
        uint16_t next = 0x0800;
        for (int i = depth - 1; i >= 0; i--) {
            pb_vlan(&b, (uint16_t)(0x2000 | (10 + i)), next); /* PCP bits must be masked */
            next = tpids[i];
        }
        pb_eth(&b, next);
        assert_true(decode_eth(&b, &p));
        assert_inner_tcp(&p, 4);
        assert_int_equal(p.vlan_count, depth);
        for (int i = 0; i < depth && i < LW_MAX_VLAN; i++) assert_int_equal(p.vlan[i], 10 + i);
    }
    assert_int_equal(CNT(vlan), 1 + 2 + 3 + 4 + 5);
    assert_int_equal(CNT(vlan_beyond_max), 1 + 2);

    pb b;
    lw_packet p;
    pb_init(&b);
    pb_push(&b, 2);
    pb_eth(&b, 0x8100);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(vlan_truncated), 1);
}

static void pb_mpls(pb *b, uint32_t label, bool bottom)
{
    uint8_t *h = pb_push(b, 4);
    put32(h, label << 12 | (bottom ? 0x100 : 0) | 64);
}

static void test_mpls(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_mpls(&b, 100, true);
    pb_eth(&b, 0x8847);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.tunnel_depth, 0);

    pb_init(&b);
    pb_inner_tcp6(&b);
    pb_mpls(&b, 3, true);
    pb_mpls(&b, 2, false);
    pb_mpls(&b, 1, false);
    pb_vlan(&b, 7, 0x8847);
    pb_eth(&b, 0x8100);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 6);
    assert_int_equal(p.vlan[0], 7);

    /* Ethernet pseudowire with a control word. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_eth(&b, 0x0800);
    pb_push(&b, 4); /* control word: first nibble 0 */
    pb_mpls(&b, 16, true);
    pb_eth(&b, 0x8847);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.tunnel_depth, 1);

    /* Without one: the MAC's first nibble (2) is neither 0, 4 nor 6. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_eth(&b, 0x0800);
    b.buf[b.off] = 0x2a;
    pb_mpls(&b, 16, true);
    pb_eth(&b, 0x8847);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(CNT(mpls_pw), 2);

    /* A label stack without bottom of stack. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    for (int i = 0; i < 20; i++) pb_mpls(&b, (uint32_t)i, false);
    pb_eth(&b, 0x8847);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(mpls_too_many_labels), 1);

    pb_init(&b);
    pb_push(&b, 3);
    pb_eth(&b, 0x8847);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(mpls_truncated), 1);
}

static void test_non_ip(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    static const struct {
        uint16_t type;
        int counter;
    } kinds[] = {
        {0x0806, LW_DECODE_non_ip_arp},   {0x88cc, LW_DECODE_non_ip_lldp},
        {0x8809, LW_DECODE_non_ip_slow},  {0x888e, LW_DECODE_non_ip_eapol},
        {0x88b5, LW_DECODE_non_ip_other},
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        pb_init(&b);
        pb_push(&b, 28);
        pb_eth(&b, kinds[i].type);
        assert_false(decode_eth(&b, &p));
        assert_int_equal(p.ip_version, 0);
        assert_int_equal(cnt(kinds[i].counter), 1);
    }
    /* 802.3 + LLC: STP is not IP, SNAP with ethertype 0x0800 is. */
    pb_init(&b);
    pb_bytes(&b, "\x42\x42\x03\x00\x00\x00\x00", 7);
    pb_eth(&b, 7);
    assert_false(decode_eth(&b, &p));
    assert_int_equal(CNT(non_ip_llc), 1);
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_bytes(&b, "\xaa\xaa\x03\x00\x00\x00\x08\x00", 8);
    pb_eth(&b, (uint16_t)pb_len(&b));
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(CNT(non_ip), 6);
    assert_int_equal(errors(), 0);
}

/* ---- tunnels ---- */

static void pb_gre(pb *b, uint8_t f0, uint8_t f1, uint16_t proto)
{
    int words = ((f0 & 0x80) ? 1 : 0) + ((f0 & 0x20) ? 1 : 0) + ((f0 & 0x10) ? 1 : 0) +
                ((f1 & 0x80) ? 1 : 0);
    uint8_t *h = pb_push(b, 4 + 4 * (uint32_t)words);
    h[0] = f0;
    h[1] = f1;
    put16(h + 2, proto);
    for (int i = 0; i < words; i++) put32(h + 4 + 4 * i, 0x11111111u * (uint32_t)(i + 1));
}

static void pb_outer_gre(pb *b)
{
    pb_ipv4(b, 47, IP_C, IP_D);
    pb_eth(b, 0x0800);
}

static void test_gre(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_gre(&b, 0, 0, 0x0800);
    pb_outer_gre(&b);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.tunnel_depth, 1);

    /* Checksum, key and sequence number present; IPv6 inside. */
    pb_init(&b);
    pb_inner_tcp6(&b);
    pb_gre(&b, 0xb0, 0, 0x86dd);
    pb_outer_gre(&b);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 6);

    /* Transparent Ethernet bridging and MPLS. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_eth(&b, 0x0800);
    pb_gre(&b, 0x20, 0, 0x6558);
    pb_outer_gre(&b);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_mpls(&b, 5, true);
    pb_gre(&b, 0, 0, 0x8847);
    pb_outer_gre(&b);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(CNT(gre), 4);

    /* Refused: routing present, version 2, unknown protocol. The GRE packet is the flow. */
    static const uint8_t refused[][3] = {{0x40, 0, 0x08}, {0, 2, 0x08}, {0, 0, 0x12}};
    for (int i = 0; i < 3; i++) {
        pb_init(&b);
        pb_inner_tcp4(&b);
        pb_gre(&b, refused[i][0], refused[i][1], (uint16_t)(refused[i][2] << 8));
        pb_outer_gre(&b);
        assert_true(decode_eth(&b, &p));
        assert_v4(&p, IP_C, IP_D);
        assert_int_equal(p.proto, 47);
        assert_int_equal(p.tunnel_depth, 0);
        assert_int_equal(p.payload_len, pb_len(&b) - 14 - 20);
    }
    assert_int_equal(CNT(gre_unsupported), 2);
    assert_int_equal(CNT(gre_unsupported_proto), 1);

    /* GRE header cut short. */
    pb_init(&b);
    pb_push(&b, 2);
    pb_outer_gre(&b);
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 47);
    assert_int_equal(CNT(gre_truncated), 1);
}

static void test_erspan(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    /* Type I: no ERSPAN header, no sequence number. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_eth(&b, 0x0800);
    pb_gre(&b, 0, 0, 0x88be);
    pb_outer_gre(&b);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.tunnel_depth, 1);

    /* Type II: version 1, VLAN 100 (original frame untagged, En = 0). */
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_eth(&b, 0x0800);
    uint8_t *e = pb_push(&b, 8);
    put16(e, 0x1000 | 100);
    put16(e + 2, 0x0005); /* session 5 */
    pb_gre(&b, 0x10, 0, 0x88be);
    pb_outer_gre(&b);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.vlan_count, 1);
    assert_int_equal(p.vlan[0], 100);
    /* En = 3: the tag is still in the frame, not taken from the header. */
    e[2] = 0x18;
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.vlan_count, 0);
    /* Wrong version: the GRE packet is the flow. */
    e[0] = 0x30;
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 47);
    assert_int_equal(CNT(erspan_bad_version), 1);
    assert_int_equal(CNT(tunnel_inner_invalid), 1);

    /* Type III without and with the platform subheader, then carrying IP (FT = 2). */
    for (int variant = 0; variant < 3; variant++) {
        pb_init(&b);
        pb_inner_tcp4(&b);
        if (variant < 2) pb_eth(&b, 0x0800);
        if (variant == 1) pb_push(&b, 8);
        e = pb_push(&b, 12);
        put16(e, 0x2000 | 55);
        put32(e + 4, 0xaabbccdd); /* timestamp */
        uint16_t w = variant == 2 ? (uint16_t)(2 << 10) : 0;
        put16(e + 10, (uint16_t)(w | (variant == 1 ? 1 : 0)));
        pb_gre(&b, 0x10, 0, 0x22eb);
        pb_outer_gre(&b);
        assert_true(decode_eth(&b, &p));
        assert_inner_tcp(&p, 4);
        assert_int_equal(p.tunnel_depth, 1);
        assert_int_equal(p.vlan_count, 0);
    }
    put16(e + 10, 5 << 10); /* unknown frame type */
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 47);
    assert_int_equal(CNT(erspan_unsupported_frame), 1);
    assert_int_equal(CNT(erspan), 6);
}

static void test_pptp(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_bytes(&b, "\xff\x03\x00\x21", 4);
    uint32_t plen = pb_len(&b);
    pb_gre(&b, 0x30, 0x81, 0x880b); /* K, S, A, version 1 */
    uint8_t *g = b.buf + b.off;
    put16(g + 4, (uint16_t)plen);
    pb_outer_gre(&b);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.tunnel_depth, 1);
    assert_int_equal(CNT(pptp), 1);

    put16(g + 4, 0); /* acknowledgment only */
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 47);
    g[0] = 0x10; /* key missing */
    assert_true(decode_eth(&b, &p));
    assert_int_equal(p.proto, 47);
    assert_int_equal(CNT(gre_unsupported), 1);
}

static void pb_outer_udp(pb *b, uint16_t sport, uint16_t dport)
{
    pb_udp(b, sport, dport);
    pb_ipv4(b, 17, IP_C, IP_D);
    pb_eth(b, 0x0800);
}

static void assert_outer_udp(const lw_packet *p, uint16_t dport)
{
    assert_v4(p, IP_C, IP_D);
    assert_int_equal(p->proto, 17);
    assert_int_equal(p->dport, dport);
    assert_int_equal(p->tunnel_depth, 0);
}

static void test_vxlan(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_vlan(&b, 30, 0x0800);
    pb_eth(&b, 0x8100);
    uint8_t *v = pb_push(&b, 8);
    v[0] = 0x08;
    put32(v + 4, 0x00123400); /* VNI 0x1234 */
    pb_udp(&b, 55555, 4789);
    pb_ipv4(&b, 17, IP_C, IP_D);
    pb_vlan(&b, 5, 0x0800);
    pb_eth(&b, 0x8100);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.tunnel_depth, 1);
    assert_int_equal(p.vlan_count, 2); /* outer first */
    assert_int_equal(p.vlan[0], 5);
    assert_int_equal(p.vlan[1], 30);

    v[0] = 0; /* I flag clear: plain UDP */
    assert_true(decode_eth(&b, &p));
    assert_outer_udp(&p, 4789);
    assert_int_equal(p.vlan_count, 1);
    assert_int_equal(CNT(vxlan_bad_flags), 1);

    /* Inner frame that is not a valid packet: the outer UDP packet is the flow. */
    pb_init(&b);
    pb_bytes(&b, "\x45\x00\xff\xff junk junk junk junk", 24);
    pb_eth(&b, 0x0800);
    v = pb_push(&b, 8);
    v[0] = 0x08;
    pb_outer_udp(&b, 1, 4789);
    assert_true(decode_eth(&b, &p));
    assert_outer_udp(&p, 4789);
    assert_int_equal(p.payload_len, 8 + 14 + 24);
    assert_int_equal(CNT(tunnel_inner_invalid), 1);
}

static void test_geneve(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_eth(&b, 0x0800);
    uint8_t *o = pb_push(&b, 20); /* options: 5 words */
    put16(o, 0x0104);
    o[3] = 1;
    uint8_t *g = pb_push(&b, 8);
    g[0] = 5;
    put16(g + 2, 0x6558);
    pb_outer_udp(&b, 40000, 6081);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.tunnel_depth, 1);

    pb_init(&b);
    pb_inner_tcp6(&b);
    g = pb_push(&b, 8);
    put16(g + 2, 0x86dd);
    pb_outer_udp(&b, 40000, 6081);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 6);
    assert_int_equal(CNT(geneve), 2);

    g[0] = 0x40; /* version 1 */
    assert_true(decode_eth(&b, &p));
    assert_outer_udp(&p, 6081);
    assert_int_equal(CNT(geneve_bad_version), 1);
    g[0] = 0x3f; /* options longer than the packet */
    assert_true(decode_eth(&b, &p));
    assert_outer_udp(&p, 6081);
    assert_int_equal(CNT(geneve_truncated), 1);
    g[0] = 0;
    put16(g + 2, 0x1234);
    assert_true(decode_eth(&b, &p));
    assert_outer_udp(&p, 6081);
    assert_int_equal(CNT(geneve_unsupported_proto), 1);
}

static void test_teredo(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    for (int variant = 0; variant < 3; variant++) {
        pb_init(&b);
        pb_inner_tcp6(&b);
        if (variant >= 1) { /* origin indication */
            uint8_t *o = pb_push(&b, 8);
            put16(o + 2, 0x1234);
        }
        if (variant == 2) { /* authentication: id-len 2, au-len 3 */
            uint8_t *a = pb_push(&b, 13 + 5);
            put16(a, 1);
            a[2] = 2;
            a[3] = 3;
        }
        pb_outer_udp(&b, 3544, 50000);
        assert_true(decode_eth(&b, &p));
        assert_inner_tcp(&p, 6);
        assert_int_equal(p.tunnel_depth, 1);
    }
    assert_int_equal(CNT(teredo), 3);

    /* UDP 3544 that is not IPv6, or whose IPv6 length does not match: plain UDP. */
    pb_init(&b);
    pb_str(&b, "not a teredo packet at all, just some bytes here");
    pb_outer_udp(&b, 3544, 50000);
    assert_true(decode_eth(&b, &p));
    assert_outer_udp(&p, 50000);
    pb_init(&b);
    pb_inner_tcp6(&b);
    uint8_t *ip6 = b.buf + b.off;
    put16(ip6 + 4, (uint16_t)(pb_len(&b) - 40 + 1)); /* one byte more than the UDP payload */
    pb_outer_udp(&b, 3544, 50000);
    assert_true(decode_eth(&b, &p));
    assert_outer_udp(&p, 50000);
    assert_int_equal(CNT(teredo_bad_inner), 2);
}

static void pb_gtpu(pb *b, uint8_t flags, uint8_t type)
{
    uint32_t len = pb_len(b);
    uint8_t *g = pb_push(b, 8);
    g[0] = flags;
    g[1] = type;
    put16(g + 2, (uint16_t)len);
    put32(g + 4, 0xcafe);
}

static void test_gtpu(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_gtpu(&b, 0x30, 255);
    pb_outer_udp(&b, 2152, 2152);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.tunnel_depth, 1);

    /* Sequence number present. */
    pb_init(&b);
    pb_inner_tcp6(&b);
    pb_push(&b, 4);
    pb_gtpu(&b, 0x32, 255);
    pb_outer_udp(&b, 2152, 2152);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 6);

    /* One extension header (PDU session container, 4 bytes), then IPv4. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    uint8_t *x = pb_push(&b, 4);
    x[0] = 1;
    x[3] = 0; /* no further extension */
    uint8_t *opt = pb_push(&b, 4);
    opt[3] = 0x85;
    pb_gtpu(&b, 0x34, 255);
    pb_outer_udp(&b, 2152, 2152);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(CNT(gtpu), 3);
    x[0] = 0; /* zero-length extension */
    assert_true(decode_eth(&b, &p));
    assert_outer_udp(&p, 2152);
    assert_int_equal(CNT(gtpu_bad_header), 1);

    /* Echo request: signalling, the UDP packet is the flow. */
    pb_init(&b);
    pb_push(&b, 4);
    pb_gtpu(&b, 0x32, 1);
    pb_outer_udp(&b, 2152, 2152);
    assert_true(decode_eth(&b, &p));
    assert_outer_udp(&p, 2152);
    assert_int_equal(CNT(gtpu_signalling), 1);

    /* GTPv2 (control plane) on the user port. */
    pb_init(&b);
    pb_push(&b, 4);
    pb_gtpu(&b, 0x48, 32);
    pb_outer_udp(&b, 2152, 2152);
    assert_true(decode_eth(&b, &p));
    assert_outer_udp(&p, 2152);
    assert_int_equal(CNT(gtpu_bad_header), 2);
}

static void test_ipip(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_ipv4(&b, 4, IP_C, IP_D);
    pb_eth(&b, 0x0800);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(p.tunnel_depth, 1);

    pb_init(&b);
    pb_inner_tcp6(&b);
    pb_ipv4(&b, 41, IP_C, IP_D);
    pb_eth(&b, 0x0800);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 6);

    pb_init(&b);
    pb_inner_tcp4(&b);
    pb_ipv6(&b, 4, B6, A6);
    pb_eth(&b, 0x86dd);
    assert_true(decode_eth(&b, &p));
    assert_inner_tcp(&p, 4);
    assert_int_equal(CNT(ipip), 3);

    /* Inner header invalid: the outer packet (protocol 4) is the flow. */
    pb_init(&b);
    pb_inner_tcp4(&b);
    b.buf[b.off] = 0x41; /* IHL 1: invalid */
    pb_ipv4(&b, 4, IP_C, IP_D);
    pb_eth(&b, 0x0800);
    assert_true(decode_eth(&b, &p));
    assert_v4(&p, IP_C, IP_D);
    assert_int_equal(p.proto, 4);
    assert_int_equal(p.tunnel_depth, 0);
    assert_int_equal(CNT(tunnel_inner_invalid), 1);
}

static void test_encap_depth_cap(void **state)
{
    (void)state;
    pb b;
    lw_packet p;
    pb_init(&b);
    pb_inner_tcp4(&b);
    for (uint32_t i = 0; i < 10; i++) pb_ipv4(&b, 4, 0xc6336400u + i, 0xc6336500u + i);
    pb_eth(&b, 0x0800);
    assert_true(decode_eth(&b, &p));
    /* Headers 0..9 outside in (9 = outermost): depth 8 is the header pushed as i = 1. */
    assert_int_equal(p.tunnel_depth, LW_DECODE_MAX_ENCAP);
    assert_int_equal(p.proto, 4);
    assert_v4(&p, 0xc6336401u, 0xc6336501u);
    assert_int_equal(CNT(encap_too_deep), 1);
}

/* Inner fragments are keyed by the tunnel: the same IP id in two tunnels does not mix. */
static void test_fragments_in_tunnels(void **state)
{
    (void)state;
    uint8_t dgram[8 + 32];
    memset(dgram, 'f', sizeof(dgram));
    put16(dgram, 1111);
    put16(dgram + 2, 2222);
    put16(dgram + 4, sizeof(dgram));
    lw_packet p;
    for (int part = 0; part < 2; part++) {
        for (uint32_t tunnel = 0; tunnel < 2; tunnel++) {
            pb b;
            pb_init(&b);
            uint32_t off = part ? 16 : 0;
            pb_bytes(&b, dgram + off, 16 + (part ? 8 : 0));
            pb_ipv4(&b, 17, IP_A, IP_B);
            put16(b.buf + b.off + 4, 99);
            put16(b.buf + b.off + 6, (uint16_t)(part ? 2 : 0x2000));
            pb_ipv4(&b, 4, IP_C + tunnel, IP_D);
            pb_eth(&b, 0x0800);
            bool ok = decode_eth(&b, &p);
            assert_int_equal(ok, part == 1);
            if (ok) {
                assert_true(p.reassembled);
                assert_int_equal(p.tunnel_depth, 1);
                assert_int_equal(p.sport, 1111);
                assert_int_equal(p.payload_len, 32);
            }
        }
    }
    assert_int_equal(CNT(reassembled), 2);
}

/* ---- every prefix of valid frames ---- */

typedef void (*frame_builder)(pb *b);

static void build_vxlan_vlan(pb *b)
{
    pb_init(b);
    pb_inner_tcp4(b);
    pb_vlan(b, 30, 0x0800);
    pb_eth(b, 0x8100);
    uint8_t *v = pb_push(b, 8);
    v[0] = 0x08;
    pb_udp(b, 55555, 4789);
    pb_ipv4(b, 17, IP_C, IP_D);
    pb_vlan(b, 5, 0x0800);
    pb_eth(b, 0x8100);
}

static void build_erspan2(pb *b)
{
    pb_init(b);
    pb_inner_tcp6(b);
    pb_eth(b, 0x86dd);
    uint8_t *e = pb_push(b, 8);
    put16(e, 0x1000 | 9);
    pb_gre(b, 0x10, 0, 0x88be);
    pb_outer_gre(b);
}

static void build_pppoe_qinq(pb *b)
{
    pb_init(b);
    pb_inner_tcp4(b);
    pb_pppoe(b, 0x0021);
    pb_vlan(b, 200, 0x8864);
    pb_vlan(b, 100, 0x8100);
    pb_eth(b, 0x88a8);
}

static void build_mpls_pw(pb *b)
{
    pb_init(b);
    pb_inner_tcp4(b);
    pb_eth(b, 0x0800);
    pb_push(b, 4);
    pb_mpls(b, 16, true);
    pb_mpls(b, 17, false);
    pb_eth(b, 0x8847);
}

static void build_ipv6_ext(pb *b)
{
    pb_init(b);
    pb_str(b, HTTP_GET);
    pb_tcp(b, 1234, 80, 1000, 2000, 0x18, 512, 8);
    pb_ext6(b, 6, 16);
    pb_ext6(b, 60, 8);
    pb_ipv6(b, 0, A6, B6);
    pb_eth(b, 0x86dd);
}

static void build_teredo_geneve(pb *b)
{
    pb_init(b);
    pb_inner_tcp6(b);
    uint8_t *o = pb_push(b, 8);
    put16(o + 2, 1);
    pb_udp(b, 3544, 1234);
    pb_ipv4(b, 17, IP_A, IP_B);
    uint8_t *g = pb_push(b, 12);
    g[0] = 1;
    put16(g + 2, 0x0800);
    pb_outer_udp(b, 1, 6081);
}

static void build_gtpu_ext(pb *b)
{
    pb_init(b);
    pb_inner_tcp4(b);
    uint8_t *x = pb_push(b, 4);
    x[0] = 1;
    uint8_t *opt = pb_push(b, 4);
    opt[3] = 0x85;
    pb_gtpu(b, 0x34, 255);
    pb_outer_udp(b, 2152, 2152);
}

static void build_nflog(pb *b)
{
    pb_init(b);
    pb_inner_tcp4(b);
    uint16_t tl[2] = {(uint16_t)(pb_len(b) + 4), 9};
    pb_bytes(b, tl, 4);
    pb_bytes(b, "\x02\x00\x00\x00", 4);
}

static void build_pptp(pb *b)
{
    pb_init(b);
    pb_inner_tcp4(b);
    pb_bytes(b, "\xff\x03\x00\x21", 4);
    uint32_t plen = pb_len(b);
    pb_gre(b, 0x30, 0x81, 0x880b);
    put16(b->buf + b->off + 4, (uint16_t)plen);
    pb_outer_gre(b);
}

static void test_truncated_every_prefix(void **state)
{
    (void)state;
    static const struct {
        frame_builder build;
        int linktype;
    } frames[] = {
        {build_vxlan_vlan, 1}, {build_erspan2, 1},  {build_pppoe_qinq, 1},
        {build_mpls_pw, 1},    {build_ipv6_ext, 1}, {build_teredo_geneve, 1},
        {build_gtpu_ext, 1},   {build_nflog, 239},  {build_pptp, 1},
    };
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        pb b;
        lw_packet p;
        frames[i].build(&b);
        uint32_t full = pb_len(&b);
        uint64_t errs = errors();
        assert_true(decode(frames[i].linktype, &b, &p));
        assert_int_equal(errors(), errs);
        assert_int_equal(p.payload_len, strlen(HTTP_GET));
        /* Copy each prefix to its own allocation so ASan catches any read past it. */
        for (uint32_t len = 0; len < full; len++) {
            uint8_t *cut = malloc(len ? len : 1);
            assert_non_null(cut);
            memcpy(cut, pb_data(&b), len);
            /* Whole frame, lying lengths: a counted error (or an empty NFLOG record); a
             * packet still returned is marked truncated and stays inside the frame. */
            errs = errors();
            uint64_t non_ip = CNT(non_ip);
            if (decode_cut(frames[i].linktype, cut, len, len, &p)) {
                assert_true(p.payload_truncated);
                assert_true(p.l3 >= cut && p.l3 + p.l3_len <= cut + len);
            }
            assert_true(errors() > errs || CNT(non_ip) > non_ip);
            /* Snaplen cut: an error, or a packet marked truncated. */
            errs = errors();
            non_ip = CNT(non_ip);
            uint64_t trunc = CNT(payload_truncated);
            bool ok = decode_cut(frames[i].linktype, cut, len, full, &p);
            assert_true(errors() > errs || CNT(payload_truncated) > trunc || CNT(non_ip) > non_ip);
            if (ok) {
                assert_true(p.payload_truncated);
                assert_true(p.payload + p.payload_len <= cut + len);
                assert_true(p.l3 >= cut && p.l3 + p.l3_len <= cut + len);
            }
            free(cut);
        }
    }
}

/* ---- shared captures (read with libpcap, expectations taken from tshark) ---- */

static const char *shared_dir(void)
{
    const char *d = getenv("LW_SHARED_DIR");
    return d && *d ? d : "/work/shared";
}

typedef struct pcap_expect {
    const char *file;
    uint32_t frames, ip, tcp, udp; /* frames read, decoded to IP, TCP, UDP */
    uint32_t check_frame;          /* a frame whose decode is checked below */
    const char *src, *dst;
    uint8_t proto;
    uint16_t sport, dport;
    uint8_t depth, vlan_count;
    uint16_t vlan0;
    int reassembled; /* frames with p.reassembled, -1 = not checked */
} pcap_expect;

static const pcap_expect expects[] = {
    /* GRE transparent bridging of mirrored traffic, outer IP fragmented. */
    {"encap/zeek_erspan.pcap", 287, 238, 106, 48, 100, "192.168.69.10", "192.168.69.2", 6, 49162,
     80, 1, 0, 0, 16},
    {"encap/ndpi_vxlan.pcap", 127, 127, 119, 8, 8, "10.10.20.4", "157.240.224.35", 6, 45226, 443, 1,
     1, 5, 0},
    {"encap/zeek_tunnels_vxlan-encapsulated-http.pcap", 12, 12, 12, 0, 4, "172.16.11.201",
     "54.86.237.188", 6, 40354, 80, 1, 0, 0, 0},
    {"encap/zeek_tunnels_geneve-many-options.pcap", 10, 10, 10, 0, 4, "10.0.0.226",
     "95.217.228.176", 6, 39088, 80, 1, 0, 0, 0},
    {"encap/zeek_tunnels_gre-sample.pcap", 40, 40, 22, 8, 14, "172.28.2.3", "66.59.111.190", 6, 22,
     40264, 1, 0, 0, 0},
    {"encap/zeek_tunnels_Teredo.pcap", 78, 78, 33, 41, 30, "2001:0:4137:9e50:8000:f12a:b9c8:2815",
     "2001:4860:0:2001::68", 58, 128, 0, 1, 0, 0, 0},
    {"encap/zeek_vlan-qinqinq.pcap", 14, 14, 14, 0, 4, "141.142.228.5", "192.150.187.43", 6, 59856,
     80, 0, 3, 30, 0},
    {"encap/zeek_mpls-in-vlan.pcap", 3, 3, 3, 0, 1, "65.65.65.65", "65.65.65.65", 6, 19244, 80, 0,
     1, 3199, 0},
    {"encap/zeek_mixed-vlan-mpls.pcap", 47, 47, 47, 0, 3, "10.1.2.1", "10.34.0.1", 6, 11001, 23, 0,
     0, 0, 0},
    {"encap/sv_bug-4810__pppoe-session-http.pcap", 30, 30, 30, 0, 4, "10.100.0.0",
     "142.250.179.131", 6, 57013, 80, 0, 0, 0, 0},
    {"encap/zeek_pppoe-over-qinq.pcap", 86, 86, 86, 0, 4, "1.1.1.1", "2.2.2.2", 6, 20394, 443, 0, 2,
     3704, 0},
    {"encap/ndpi_gre.pcapng", 1, 1, 0, 1, 1, "192.168.10.210", "192.168.103.40", 17, 5060, 5060, 1,
     1, 142, 0},
    {"encap/ndpi_6in4tunnel.pcap", 127, 127, 75, 4, 25, "2001:470:1f17:13f:3e97:eff:fe73:4dec",
     "2a03:2880:1010:6f03:face:b00c:0:2", 6, 53234, 443, 1, 0, 0, 0},
    {"fragments/zeek_ipv6-http-atomic-frag.pcap", 38, 38, 36, 0, 7, "2001:db8:1::1",
     "2001:db8:1::2", 6, 80, 36951, 0, 0, 0, 5},
    {"fragments/zeek_ipv4_fragmented-syn.pcap", 2, 1, 1, 0, 2, "192.168.1.100", "10.0.0.5", 6,
     12345, 80, 0, 0, 0, 1},
    {"reassembly/ndpi_reasm_segv_anon.pcapng", 82, 82, 82, 0, 4, "63.190.145.43", "172.17.36.21", 6,
     80, 57619, 1, 0, 0, 0},
    {"linktypes/ndpi_dlt_ppp.pcap", 1, 1, 0, 1, 1, "193.167.0.252", "193.167.100.100", 17, 44083,
     443, 0, 0, 0, 0},
    {"linktypes/sv_decode-chdlc-01__hdlc-http_1tx.pcap", 17, 17, 17, 0, 4, "192.168.2.7",
     "65.55.116.183", 6, 4938, 80, 0, 0, 0, 0},
    {"linktypes/sv_decode-sll2-01.pcap", 5, 5, 5, 0, 4, "192.168.1.253", "192.168.1.21", 6, 56478,
     80, 0, 0, 0, 0},
    {"linktypes/sv_http-async.pcap", 16, 16, 16, 0, 5, "127.0.0.1", "127.0.0.1", 6, 50215, 8080, 0,
     0, 0, 0},
    {"linktypes/sv_linktype-228__flow-test-01.pcap", 7, 7, 7, 0, 4, "192.168.0.2", "192.168.0.1", 6,
     15057, 443, 0, 0, 0, 0},
    {"linktypes/sv_security-4710-01.pcap", 12, 12, 12, 0, 5, "192.168.111.128", "192.168.112.136",
     6, 56369, 80, 0, 0, 0, 0},
    {"linktypes/zeek_http_basic-auth-with-colon.pcap", 12, 12, 12, 0, 4, "172.24.133.205",
     "172.24.133.205", 6, 43090, 8000, 0, 0, 0, 0},
    {"linktypes/zeek_http_get-to-ssh-server.pcap", 9, 9, 9, 0, 4, "136.216.42.40", "130.74.164.231",
     6, 44338, 22, 0, 0, 0, 0},
    {"linktypes/zeek_nflog-http.pcap", 13, 13, 13, 0, 6, "10.0.2.15", "93.184.216.34", 6, 49762, 80,
     0, 0, 0, 0},
    {"linktypes/zeek_pcapng-multi-interface.pcapng", 6, 6, 0, 6, 1, "172.17.0.2", "1.1.1.1", 17,
     36343, 53, 0, 0, 0, 0},
    {"linktypes/zeek_radiotap.pcap", 3, 3, 0, 3, 3, "fe80::a667:6ff:fef7:ec54", "ff02::fb", 17,
     5353, 5353, 0, 0, 0, 0},
    {"linktypes/zeek_tcp_payload-syn.pcap", 6, 6, 6, 0, 1, "192.168.0.1", "192.168.0.2", 6, 80, 80,
     0, 0, 0, 0},
};

static bool addr_is(const lw_packet *p, const lw_addr *a, const char *text)
{
    char buf[64];
    if (!inet_ntop(p->ip_version == 4 ? AF_INET : AF_INET6, a->b, buf, sizeof(buf))) return false;
    return strcmp(buf, text) == 0;
}

typedef struct pcap_result {
    uint32_t frames, ip, tcp, udp, reassembled;
    bool checked;
} pcap_result;

/* Decodes every frame of a capture; returns false when libpcap cannot open it. */
static bool run_pcap(const char *path, const pcap_expect *e, pcap_result *r)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc) return false;
    memset(r, 0, sizeof(*r));
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t before = CNT(packets);
    while (pcap_next_ex(pc, &h, &data) == 1) {
        r->frames++;
        lw_frame f = {.data = data,
                      .caplen = h->caplen,
                      .wirelen = h->len,
                      .ts_usec = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec,
                      .linktype = pcap_datalink(pc),
                      .pkt_num = r->frames};
        lw_packet p;
        if (!lw_decode(dec, &f, &p)) continue;
        r->ip++;
        r->tcp += p.proto == 6;
        r->udp += p.proto == 17;
        r->reassembled += p.reassembled;
        assert_true(p.ip_version == 4 || p.ip_version == 6);
        assert_true(p.payload_len <= p.l3_len);
        if (r->frames % 64 == 0) lw_decoder_expire(dec, f.ts_usec);
        if (e && r->frames == e->check_frame) {
            r->checked = true;
            assert_true(addr_is(&p, &p.src, e->src));
            assert_true(addr_is(&p, &p.dst, e->dst));
            assert_int_equal(p.proto, e->proto);
            assert_int_equal(p.sport, e->sport);
            assert_int_equal(p.dport, e->dport);
            assert_int_equal(p.tunnel_depth, e->depth);
            assert_int_equal(p.vlan_count, e->vlan_count);
            if (e->vlan_count) assert_int_equal(p.vlan[0], e->vlan0);
        }
    }
    lw_decoder_expire(dec, UINT64_MAX);
    pcap_close(pc);
    assert_int_equal(CNT(packets) - before, r->frames);
    return true;
}

static void test_shared_pcaps_expected(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s/pcaps", shared_dir());
    struct stat st;
    if (stat(path, &st) != 0) {
        skip();
        return;
    }
    for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
        const pcap_expect *e = &expects[i];
        snprintf(path, sizeof(path), "%s/pcaps/%s", shared_dir(), e->file);
        pcap_result r;
        if (!run_pcap(path, e, &r)) fail_msg("cannot open %s", path);
        if (r.frames != e->frames || r.ip != e->ip || r.tcp != e->tcp || r.udp != e->udp)
            fail_msg("%s: frames %u ip %u tcp %u udp %u, expected %u %u %u %u", e->file, r.frames,
                     r.ip, r.tcp, r.udp, e->frames, e->ip, e->tcp, e->udp);
        assert_true(r.checked);
        if (e->reassembled >= 0) assert_int_equal(r.reassembled, e->reassembled);
    }
}

static unsigned sweep(const char *dir)
{
    unsigned files = 0;
    DIR *dh = opendir(dir);
    if (!dh) return 0;
    struct dirent *de;
    while ((de = readdir(dh))) {
        if (de->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            files += sweep(path);
        } else if (strstr(de->d_name, ".pcap")) {
            pcap_result r;
            if (run_pcap(path, NULL, &r)) files++;
        }
    }
    closedir(dh);
    return files;
}

/* Every shared capture through the decoder (under ASan/UBSan in the sanitizer build). */
static void test_shared_pcaps_sweep(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s/pcaps", shared_dir());
    struct stat st;
    if (stat(path, &st) != 0) {
        skip();
        return;
    }
    unsigned files = sweep(path);
    assert_true(files > 0);
    assert_true(CNT(packets) > 0);
    assert_true(CNT(ip_packets) > 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ethernet_tcp_options_payload),
        T(test_ethernet_padding_trimmed),
        T(test_snaplen_cut_payload),
        T(test_udp_length),
        T(test_icmp_sctp),
        T(test_tcp_bad_offset),
        T(test_ipv4_options),
        T(test_ipv4_malformed),
        T(test_ipv6_extension_chain),
        T(test_ipv6_malformed),
        T(test_ipv4_fragments),
        T(test_ipv6_fragments),
        T(test_link_null_loop_raw),
        T(test_link_sll_sll2),
        T(test_link_ppp_chdlc),
        T(test_pppoe),
        T(test_link_nflog),
        T(test_link_wifi),
        T(test_vlan_depths),
        T(test_mpls),
        T(test_non_ip),
        T(test_gre),
        T(test_erspan),
        T(test_pptp),
        T(test_vxlan),
        T(test_geneve),
        T(test_teredo),
        T(test_gtpu),
        T(test_ipip),
        T(test_encap_depth_cap),
        T(test_fragments_in_tunnels),
        T(test_truncated_every_prefix),
        T(test_shared_pcaps_expected),
        T(test_shared_pcaps_sweep),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
