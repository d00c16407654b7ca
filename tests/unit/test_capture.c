/*
 * test_capture.c — unit tests for offline capture (sensor/capture): classic pcap and pcapng
 * files built byte by byte in the test (both byte orders, odd timestamp resolutions, mixed
 * interfaces, every packet block type, truncation and corrupt framing, filters, stdin and
 * FIFOs), a mutation loop over pcapng input, a live-capture open, and real captures from
 * $LW_SHARED_DIR/pcaps (skipped when absent), where our pcapng reader is also checked frame
 * by frame against libpcap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakwatch/capture.h"
#include "capture/pcapng_reader.h"

/* ---- building capture files ---- */

typedef struct wbuf {
    uint8_t d[1 << 16];
    size_t n;
    bool be; /* byte order of what we write next */
} wbuf;

static void w8(wbuf *b, uint8_t v)
{
    assert_true(b->n < sizeof(b->d));
    b->d[b->n++] = v;
}

static void w16(wbuf *b, uint16_t v)
{
    if (b->be) {
        w8(b, (uint8_t)(v >> 8));
        w8(b, (uint8_t)v);
    } else {
        w8(b, (uint8_t)v);
        w8(b, (uint8_t)(v >> 8));
    }
}

static void w32(wbuf *b, uint32_t v)
{
    if (b->be) {
        w16(b, (uint16_t)(v >> 16));
        w16(b, (uint16_t)v);
    } else {
        w16(b, (uint16_t)v);
        w16(b, (uint16_t)(v >> 16));
    }
}

static void w64(wbuf *b, uint64_t v)
{
    if (b->be) {
        w32(b, (uint32_t)(v >> 32));
        w32(b, (uint32_t)v);
    } else {
        w32(b, (uint32_t)v);
        w32(b, (uint32_t)(v >> 32));
    }
}

static void wbytes(wbuf *b, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) w8(b, ((const uint8_t *)p)[i]);
}

static void wpad4(wbuf *b)
{
    while (b->n % 4) w8(b, 0);
}

static void patch32(wbuf *b, size_t at, uint32_t v)
{
    size_t save = b->n;
    b->n = at;
    w32(b, v);
    b->n = save;
}

/* pcapng blocks: begin writes type and a length placeholder; end pads, writes the trailer. */
static size_t blk_begin(wbuf *b, uint32_t type)
{
    size_t start = b->n;
    w32(b, type);
    w32(b, 0);
    return start;
}

static void blk_end(wbuf *b, size_t start)
{
    wpad4(b);
    uint32_t len = (uint32_t)(b->n - start + 4);
    w32(b, len);
    patch32(b, start + 4, len);
}

static void ng_shb(wbuf *b, bool big_endian)
{
    b->be = big_endian;
    size_t s = blk_begin(b, 0x0A0D0D0A);
    w32(b, 0x1A2B3C4D);
    w16(b, 1);
    w16(b, 0);
    w64(b, UINT64_MAX); /* section length unknown */
    blk_end(b, s);
}

/* tsresol < 0: none. tsoffset written when has_offset. */
static void ng_idb(wbuf *b, uint16_t linktype, uint32_t snaplen, int tsresol, bool has_offset,
                   int64_t tsoffset)
{
    size_t s = blk_begin(b, 1);
    w16(b, linktype);
    w16(b, 0);
    w32(b, snaplen);
    if (tsresol >= 0) {
        w16(b, 9);
        w16(b, 1);
        w8(b, (uint8_t)tsresol);
        wpad4(b);
    }
    if (has_offset) {
        w16(b, 14);
        w16(b, 8);
        w64(b, (uint64_t)tsoffset);
    }
    w16(b, 0); /* opt_endofopt */
    w16(b, 0);
    blk_end(b, s);
}

static void ng_epb(wbuf *b, uint32_t ifid, uint64_t ts, const void *data, uint32_t caplen,
                   uint32_t wirelen)
{
    size_t s = blk_begin(b, 6);
    w32(b, ifid);
    w32(b, (uint32_t)(ts >> 32));
    w32(b, (uint32_t)ts);
    w32(b, caplen);
    w32(b, wirelen);
    wbytes(b, data, caplen);
    blk_end(b, s);
}

static void ng_pb(wbuf *b, uint16_t ifid, uint64_t ts, const void *data, uint32_t caplen,
                  uint32_t wirelen)
{
    size_t s = blk_begin(b, 2);
    w16(b, ifid);
    w16(b, 0); /* drops */
    w32(b, (uint32_t)(ts >> 32));
    w32(b, (uint32_t)ts);
    w32(b, caplen);
    w32(b, wirelen);
    wbytes(b, data, caplen);
    blk_end(b, s);
}

static void ng_spb(wbuf *b, uint32_t wirelen, const void *data, uint32_t datalen)
{
    size_t s = blk_begin(b, 3);
    w32(b, wirelen);
    wbytes(b, data, datalen);
    blk_end(b, s);
}

static void ng_other(wbuf *b, uint32_t type, uint32_t body_len)
{
    size_t s = blk_begin(b, type);
    for (uint32_t i = 0; i < body_len; i++) w8(b, (uint8_t)i);
    blk_end(b, s);
}

static void pcap_hdr(wbuf *b, bool big_endian, bool nano, uint32_t snaplen, uint32_t linktype)
{
    b->be = big_endian;
    w32(b, nano ? 0xa1b23c4d : 0xa1b2c3d4);
    w16(b, 2);
    w16(b, 4);
    w32(b, 0);
    w32(b, 0);
    w32(b, snaplen);
    w32(b, linktype);
}

static void pcap_rec(wbuf *b, uint32_t sec, uint32_t frac, const void *data, uint32_t caplen,
                     uint32_t wirelen)
{
    w32(b, sec);
    w32(b, frac);
    w32(b, caplen);
    w32(b, wirelen);
    wbytes(b, data, caplen);
}

/* Packets: IPv4 + UDP or TCP, optionally behind an Ethernet header. Returns the length. */
static uint32_t mk_ip_packet(uint8_t *out, bool ether, uint8_t proto, uint8_t tag)
{
    uint32_t n = 0;
    if (ether) {
        static const uint8_t eth[14] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0a,
                                        0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x08, 0x00};
        memcpy(out, eth, sizeof(eth));
        n = sizeof(eth);
    }
    uint32_t l4 = proto == 17 ? 8 : 20, total = 20 + l4 + 4;
    uint8_t *ip = out + n;
    memset(ip, 0, total);
    ip[0] = 0x45;
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[8] = 64;
    ip[9] = proto;
    ip[12] = 10, ip[15] = 1;
    ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = 7;
    ip[20] = 0x30, ip[21] = 0x39; /* sport 12345 */
    ip[22] = 0, ip[23] = 53;
    if (proto == 6) ip[32] = 0x50; /* data offset 5 */
    ip[20 + l4] = tag;
    return n + total;
}

static char tmpdir[64];

static int setup_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/lw_test_capture.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmpdir(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') {
                snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

/* Write b into the temp dir under name; returns a static path. */
static const char *write_tmp(const wbuf *b, const char *name)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b->d, 1, b->n, fp), b->n);
    assert_int_equal(fclose(fp), 0);
    return path;
}

/* Our pcapng reader on an in-memory copy of b. */
static lw_pcapng_reader *open_mem(const wbuf *b, const char *bpf, lw_capture_counters *ctr,
                                  char *err, size_t errlen, int *exit_code)
{
    FILE *fp = fmemopen((void *)b->d, b->n, "rb");
    assert_non_null(fp);
    memset(ctr, 0, sizeof(*ctr));
    return lw_pcapng_open(fp, "mem", bpf, 0, ctr, err, errlen, exit_code);
}

static uint64_t cnt(const lw_capture *c, int which)
{
    return lw_capture_counters_get(c)->c[which];
}

static wbuf *new_buf(void)
{
    wbuf *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    return b;
}

/* ---- classic pcap through libpcap ---- */

static void test_pcap_micro_le(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    pcap_hdr(b, false, false, 65535, 1);
    uint32_t len = mk_ip_packet(pkt, true, 17, 0xA1);
    pcap_rec(b, 1700000000, 1, pkt, len, len);
    pcap_rec(b, 1700000001, 999999, pkt, 20, 1500); /* snapped */
    pcap_rec(b, 1700000002, 0, pkt, len, len);
    char err[512] = "";
    int ec = -1;
    lw_capture *c =
        lw_capture_open_offline(write_tmp(b, "micro.pcap"), NULL, 7, err, sizeof(err), &ec);
    assert_non_null(c);
    assert_int_equal(lw_capture_linktype(c), DLT_EN10MB);
    lw_frame f;
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.ts_usec, 1700000000000001ull);
    assert_int_equal(f.caplen, len);
    assert_int_equal(f.wirelen, len);
    assert_memory_equal(f.data, pkt, len);
    assert_int_equal(f.pkt_num, 1);
    assert_int_equal(f.file_idx, 7);
    assert_int_equal(f.linktype, DLT_EN10MB);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.ts_usec, 1700000001999999ull);
    assert_int_equal(f.caplen, 20);
    assert_int_equal(f.wirelen, 1500);
    assert_int_equal(f.pkt_num, 2);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.pkt_num, 3);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_EOF);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_EOF); /* stays at EOF */
    assert_int_equal(cnt(c, LW_CAPTURE_records_read), 3);
    assert_int_equal(cnt(c, LW_CAPTURE_read_errors), 0);
    uint64_t kd = 9, id = 9;
    lw_capture_drops(c, &kd, &id);
    assert_int_equal(kd, 0);
    assert_int_equal(id, 0);
    lw_capture_close(c);
    free(b);
}

static void test_pcap_nano_be_to_micro(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    pcap_hdr(b, true, true, 65535, 101); /* LINKTYPE_RAW */
    uint32_t len = mk_ip_packet(pkt, false, 6, 1);
    pcap_rec(b, 1700000000, 123456789, pkt, len, len);
    pcap_rec(b, 1700000000, 999999999, pkt, len, len);
    char err[512];
    int ec;
    lw_capture *c =
        lw_capture_open_offline(write_tmp(b, "nano.pcapng"), "", 0, err, sizeof(err), &ec);
    assert_non_null(c);
    lw_frame f;
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.ts_usec, 1700000000123456ull);
    assert_int_equal(f.linktype, DLT_RAW);
    assert_memory_equal(f.data, pkt, len);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.ts_usec, 1700000000999999ull);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_EOF);
    lw_capture_close(c);
    free(b);
}

static void test_pcap_truncated_record(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    pcap_hdr(b, false, false, 65535, 1);
    uint32_t len = mk_ip_packet(pkt, true, 17, 2);
    pcap_rec(b, 1, 0, pkt, len, len);
    pcap_rec(b, 2, 0, pkt, len, len);
    pcap_rec(b, 3, 0, pkt, len, len);
    b->n -= 5; /* cut the third record short */
    char err[512] = "";
    int ec;
    const char *path = write_tmp(b, "trunc.pcap");
    lw_capture *c = lw_capture_open_offline(path, NULL, 0, err, sizeof(err), &ec);
    assert_non_null(c);
    lw_frame f;
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_ERROR);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "truncated"));
    assert_non_null(strstr(err, "after packet 2"));
    err[0] = '\0';
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_ERROR); /* sticky */
    assert_non_null(strstr(err, "truncated"));
    assert_int_equal(cnt(c, LW_CAPTURE_read_errors), 1);
    lw_capture_close(c);
    free(b);
}

static void test_pcap_filter_counts_records(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    pcap_hdr(b, false, false, 65535, 1);
    for (int i = 0; i < 4; i++) {
        uint32_t len = mk_ip_packet(pkt, true, i % 2 ? 17 : 6, (uint8_t)i);
        pcap_rec(b, (uint32_t)i, 0, pkt, len, len);
    }
    char err[512];
    int ec;
    lw_capture *c =
        lw_capture_open_offline(write_tmp(b, "f.pcap"), "udp", 0, err, sizeof(err), &ec);
    assert_non_null(c);
    lw_frame f;
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.pkt_num, 2);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.pkt_num, 4);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_EOF);
    assert_int_equal(cnt(c, LW_CAPTURE_records_read), 4);
    assert_int_equal(cnt(c, LW_CAPTURE_filtered_out), 2);
    lw_capture_close(c);
    free(b);
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[512];
    int ec = 0;
    char missing[300];
    snprintf(missing, sizeof(missing), "%s/does-not-exist.pcap", tmpdir);
    assert_null(lw_capture_open_offline(missing, NULL, 0, err, sizeof(err), &ec));
    assert_int_equal(ec, 1);
    assert_non_null(strstr(err, missing));
    assert_non_null(strstr(err, "No such file"));

    wbuf *b = new_buf();
    wbytes(b, "GET / HTTP/1.1\r\n", 16);
    ec = 0;
    assert_null(lw_capture_open_offline(write_tmp(b, "text.pcap"), NULL, 0, err, sizeof(err), &ec));
    assert_int_equal(ec, 1);
    assert_non_null(strstr(err, "not a pcap or pcapng"));
    assert_non_null(strstr(err, "47455420")); /* the magic we saw */

    b->n = 0;
    ec = 0;
    assert_null(
        lw_capture_open_offline(write_tmp(b, "empty.pcap"), NULL, 0, err, sizeof(err), &ec));
    assert_int_equal(ec, 1);
    assert_non_null(strstr(err, "0 bytes"));

    ec = 0;
    assert_null(lw_capture_open_offline(tmpdir, NULL, 0, err, sizeof(err), &ec));
    assert_int_equal(ec, 1);

    /* A pcap header cut short is not a capture libpcap can read. */
    pcap_hdr(b, false, false, 65535, 1);
    b->n = 10;
    ec = 0;
    assert_null(lw_capture_open_offline(write_tmp(b, "hdr.pcap"), NULL, 0, err, sizeof(err), &ec));
    assert_int_equal(ec, 1);
    free(b);
}

static void test_bad_filter_is_usage_error(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    pcap_hdr(b, false, false, 65535, 1);
    char err[512];
    int ec = 0;
    assert_null(
        lw_capture_open_offline(write_tmp(b, "bpf.pcap"), "tcp port ((", 0, err, sizeof(err), &ec));
    assert_int_equal(ec, 2);
    assert_non_null(strstr(err, "invalid capture filter"));
    assert_non_null(strstr(err, "tcp port (("));

    /* A filter the file's link type cannot support is refused the same way. */
    b->n = 0;
    pcap_hdr(b, false, false, 65535, 101);
    ec = 0;
    assert_null(lw_capture_open_offline(write_tmp(b, "bpf2.pcap"), "ether host 1:2:3:4:5:6", 0, err,
                                        sizeof(err), &ec));
    assert_int_equal(ec, 2);

    /* Our pcapng reader: checked against the first interface's link type. */
    b->n = 0;
    ng_shb(b, false);
    ng_idb(b, 1, 65535, -1, false, 0);
    lw_capture_counters ctr;
    ec = 0;
    assert_null(open_mem(b, "udp and and", &ctr, err, sizeof(err), &ec));
    assert_int_equal(ec, 2);
    assert_non_null(strstr(err, "invalid capture filter"));
    free(b);
}

/* ---- pcapng through our reader ---- */

static void test_pcapng_le_nanosecond_and_offset(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    uint32_t len = mk_ip_packet(pkt, true, 17, 3);
    ng_shb(b, false);
    ng_idb(b, 1, 65535, 9, false, 0);   /* nanoseconds */
    ng_idb(b, 1, 65535, -1, true, 100); /* default microseconds, +100 s */
    ng_epb(b, 0, 1700000000123456789ull, pkt, len, len);
    ng_epb(b, 1, 1700000000000001ull, pkt, len, len);
    char err[512];
    int ec;
    lw_capture_counters ctr;
    lw_pcapng_reader *r = open_mem(b, NULL, &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    assert_int_equal(lw_pcapng_first_linktype(r), DLT_EN10MB);
    lw_frame f;
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.ts_usec, 1700000000123456ull);
    assert_memory_equal(f.data, pkt, len);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.ts_usec, 1700000100000001ull);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_EOF);
    assert_int_equal(ctr.c[LW_CAPTURE_pcapng_interfaces], 2);
    assert_int_equal(ctr.c[LW_CAPTURE_pcapng_sections], 1);
    lw_pcapng_close(r);
    free(b);
}

static void test_pcapng_be_power_of_two_resolution(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    uint32_t len = mk_ip_packet(pkt, false, 6, 4);
    ng_shb(b, true);
    ng_idb(b, 101, 0, 0x80 | 10, false, 0); /* 1/1024 s, raw IP, no snaplen limit */
    ng_epb(b, 0, 3 * 1024 + 512, pkt, len, len + 100);
    char err[512];
    int ec;
    lw_capture_counters ctr;
    lw_pcapng_reader *r = open_mem(b, NULL, &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    lw_frame f;
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.ts_usec, 3500000);
    assert_int_equal(f.linktype, DLT_RAW);
    assert_int_equal(f.caplen, len);
    assert_int_equal(f.wirelen, len + 100);
    assert_memory_equal(f.data, pkt, len);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_EOF);
    lw_pcapng_close(r);
    free(b);
}

/* The libpcap-refused case through the public API: libpcap reads the first two packets, stops
 * at the second interface, and our reader resumes with packet 3 — nothing twice, nothing lost. */
static void test_pcapng_mixed_interfaces_fall_back(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t eth[128], raw[128];
    uint32_t elen = mk_ip_packet(eth, true, 17, 5), rlen = mk_ip_packet(raw, false, 17, 6);
    ng_shb(b, false);
    ng_idb(b, 1, 65535, -1, false, 0);
    ng_epb(b, 0, 1000001, eth, elen, elen);
    ng_epb(b, 0, 1000002, eth, elen, elen);
    ng_idb(b, 101, 8192, -1, false, 0);
    ng_epb(b, 1, 1000003, raw, rlen, rlen);
    ng_epb(b, 0, 1000004, eth, elen, elen);
    char err[512];
    int ec;
    lw_capture *c =
        lw_capture_open_offline(write_tmp(b, "mixed.pcap"), NULL, 3, err, sizeof(err), &ec);
    assert_non_null(c);
    static const int want_lt[4] = {DLT_EN10MB, DLT_EN10MB, DLT_RAW, DLT_EN10MB};
    lw_frame f;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
        assert_int_equal(f.pkt_num, (uint64_t)i + 1);
        assert_int_equal(f.ts_usec, 1000001ull + (uint64_t)i);
        assert_int_equal(f.linktype, want_lt[i]);
        assert_int_equal(f.file_idx, 3);
        if (i == 2) assert_memory_equal(f.data, raw, rlen);
    }
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_EOF);
    assert_int_equal(cnt(c, LW_CAPTURE_pcapng_fallback_files), 1);
    assert_int_equal(cnt(c, LW_CAPTURE_records_read), 4);
    assert_int_equal(lw_capture_linktype(c), DLT_EN10MB);
    lw_capture_close(c);
    free(b);
}

static void test_pcapng_simple_and_obsolete_packet_blocks(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    static const uint8_t data[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    ng_shb(b, false);
    ng_idb(b, 1, 4, -1, false, 0);    /* snaplen 4 */
    ng_pb(b, 0, 5000000, data, 4, 9); /* obsolete Packet Block */
    ng_spb(b, 10, data, 12);          /* captured = min(10, 12, snaplen 4) */
    ng_spb(b, 3, data, 4);            /* captured = original length 3 */
    char err[512];
    int ec;
    lw_capture_counters ctr;
    lw_pcapng_reader *r = open_mem(b, NULL, &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    lw_frame f;
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.caplen, 4);
    assert_int_equal(f.wirelen, 9);
    assert_int_equal(f.ts_usec, 5000000);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.caplen, 4);
    assert_int_equal(f.wirelen, 10);
    assert_int_equal(f.ts_usec, 5000000); /* SPBs carry no time: the last one seen */
    assert_memory_equal(f.data, data, 4);
    assert_int_equal(f.pkt_num, 2);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.caplen, 3);
    assert_int_equal(f.wirelen, 3);
    assert_int_equal(f.pkt_num, 3);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_EOF);
    assert_int_equal(ctr.c[LW_CAPTURE_caplen_over_snaplen], 0);
    lw_pcapng_close(r);
    free(b);
}

static void test_pcapng_truncated_final_block(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    uint32_t len = mk_ip_packet(pkt, true, 6, 7);
    ng_shb(b, false);
    ng_idb(b, 1, 65535, -1, false, 0);
    ng_epb(b, 0, 1, pkt, len, len);
    ng_epb(b, 0, 2, pkt, len, len);
    ng_epb(b, 0, 3, pkt, len, len);
    b->n -= 9;
    char err[512] = "";
    int ec;
    /* Through the public API (libpcap gives up, our reader takes over and reports). */
    const char *path = write_tmp(b, "trunc.pcapng");
    lw_capture *c = lw_capture_open_offline(path, NULL, 0, err, sizeof(err), &ec);
    assert_non_null(c);
    lw_frame f;
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.pkt_num, 2);
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_ERROR);
    assert_non_null(strstr(err, "truncated"));
    assert_non_null(strstr(err, path));
    assert_int_equal(cnt(c, LW_CAPTURE_records_read), 2);
    assert_int_equal(cnt(c, LW_CAPTURE_read_errors), 1);
    lw_capture_close(c);

    /* Directly: the block header itself cut short. */
    lw_capture_counters ctr;
    wbuf *b2 = new_buf();
    ng_shb(b2, false);
    ng_idb(b2, 1, 65535, -1, false, 0);
    ng_epb(b2, 0, 1, pkt, len, len);
    w8(b2, 6);
    w8(b2, 0);
    w8(b2, 0);
    lw_pcapng_reader *r = open_mem(b2, NULL, &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_ERROR);
    assert_non_null(strstr(err, "block header cut short (3 of 8"));
    lw_pcapng_close(r);
    free(b2);
    free(b);
}

/* Corrupt framing: one good packet, then a block whose lengths make no sense. */
static void corrupt_case(void (*corrupt)(wbuf *b, size_t blk), const char *want)
{
    wbuf *b = new_buf();
    uint8_t pkt[128];
    uint32_t len = mk_ip_packet(pkt, true, 6, 8);
    ng_shb(b, false);
    ng_idb(b, 1, 65535, -1, false, 0);
    ng_epb(b, 0, 1, pkt, len, len);
    size_t blk = b->n;
    ng_epb(b, 0, 2, pkt, len, len);
    ng_epb(b, 0, 3, pkt, len, len);
    corrupt(b, blk);
    char err[512] = "";
    int ec;
    lw_capture_counters ctr;
    lw_pcapng_reader *r = open_mem(b, NULL, &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    lw_frame f;
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_ERROR);
    if (!strstr(err, want)) fail_msg("error \"%s\" does not say \"%s\"", err, want);
    assert_non_null(strstr(err, "offset"));
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_ERROR);
    lw_pcapng_close(r);
    free(b);
}

static void len_not_multiple_of_4(wbuf *b, size_t blk)
{
    patch32(b, blk + 4, 62);
}
static void len_too_small(wbuf *b, size_t blk)
{
    patch32(b, blk + 4, 8);
}
static void len_over_cap(wbuf *b, size_t blk)
{
    patch32(b, blk + 4, 0x7ffffff0);
}
static void trailer_mismatch(wbuf *b, size_t blk)
{
    uint32_t len = b->d[blk + 4] | (uint32_t)b->d[blk + 5] << 8;
    patch32(b, blk + len - 4, len + 4);
}

static void test_pcapng_corrupt_block_lengths(void **state)
{
    (void)state;
    corrupt_case(len_not_multiple_of_4, "block length 62 is invalid");
    corrupt_case(len_too_small, "block length 8 is invalid");
    corrupt_case(len_over_cap, "exceeds the");
    corrupt_case(trailer_mismatch, "trailing block length");
}

static void test_pcapng_unknown_blocks_skipped(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    uint32_t len = mk_ip_packet(pkt, true, 17, 9);
    ng_shb(b, false);
    ng_other(b, 4, 12); /* Name Resolution Block */
    ng_idb(b, 1, 65535, -1, false, 0);
    ng_epb(b, 0, 1, pkt, len, len);
    ng_other(b, 5, 20);          /* Interface Statistics Block */
    ng_other(b, 0x00000BAD, 33); /* custom block, padded */
    ng_other(b, 10, 0);          /* Decryption Secrets Block, empty */
    ng_epb(b, 0, 2, pkt, len, len);
    char err[512];
    int ec;
    lw_capture_counters ctr;
    lw_pcapng_reader *r = open_mem(b, NULL, &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    lw_frame f;
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.pkt_num, 2);
    assert_int_equal(f.ts_usec, 2);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_EOF);
    assert_int_equal(ctr.c[LW_CAPTURE_pcapng_blocks_skipped], 4);
    assert_int_equal(ctr.c[LW_CAPTURE_records_read], 2);
    lw_pcapng_close(r);
    free(b);
}

static void test_pcapng_filter_per_linktype(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t p[4][128];
    uint32_t l[4];
    l[0] = mk_ip_packet(p[0], true, 17, 0);  /* eth udp */
    l[1] = mk_ip_packet(p[1], true, 6, 1);   /* eth tcp */
    l[2] = mk_ip_packet(p[2], false, 17, 2); /* raw udp */
    l[3] = mk_ip_packet(p[3], false, 6, 3);  /* raw tcp */
    ng_shb(b, false);
    ng_idb(b, 1, 65535, -1, false, 0);
    ng_idb(b, 101, 2048, -1, false, 0);
    for (int i = 0; i < 4; i++) ng_epb(b, i < 2 ? 0 : 1, (uint64_t)i, p[i], l[i], l[i]);
    char err[512];
    int ec;
    lw_capture_counters ctr;
    lw_pcapng_reader *r = open_mem(b, "udp", &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    lw_frame f;
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.pkt_num, 1);
    assert_int_equal(f.linktype, DLT_EN10MB);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.pkt_num, 3);
    assert_int_equal(f.linktype, DLT_RAW);
    assert_memory_equal(f.data, p[2], l[2]);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_EOF);
    assert_int_equal(ctr.c[LW_CAPTURE_filtered_out], 2);
    assert_int_equal(ctr.c[LW_CAPTURE_records_read], 4);
    lw_pcapng_close(r);

    /* An Ethernet-only filter: compiles for interface 0, cannot apply to the raw interface. */
    r = open_mem(b, "ether src 0a:0b:0c:0d:0e:0f", &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    int n = 0;
    while (lw_pcapng_next(r, &f, err, sizeof(err)) == LW_CAP_OK) {
        assert_int_equal(f.linktype, DLT_EN10MB);
        n++;
    }
    assert_int_equal(n, 2);
    assert_int_equal(ctr.c[LW_CAPTURE_filter_linktype_unsupported], 2);
    assert_int_equal(ctr.c[LW_CAPTURE_filtered_out], 2);
    lw_pcapng_close(r);
    free(b);
}

static void test_pcapng_sections_switch_byte_order(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t eth[128], raw[128];
    uint32_t elen = mk_ip_packet(eth, true, 17, 1), rlen = mk_ip_packet(raw, false, 17, 2);
    ng_shb(b, false);
    ng_idb(b, 1, 65535, -1, false, 0);
    ng_idb(b, 1, 65535, -1, false, 0);
    ng_epb(b, 1, 10, eth, elen, elen);
    ng_shb(b, true); /* new section, big-endian: the interface table starts over */
    ng_idb(b, 101, 65535, 3, false, 0);
    ng_epb(b, 0, 20, raw, rlen, rlen);
    ng_epb(b, 1, 30, raw, rlen, rlen); /* interface 1 belonged to the old section */
    ng_epb(b, 0, 40, raw, rlen, rlen);
    char err[512];
    int ec;
    lw_capture_counters ctr;
    lw_pcapng_reader *r = open_mem(b, NULL, &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    lw_frame f;
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.linktype, DLT_EN10MB);
    assert_int_equal(f.ts_usec, 10);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.linktype, DLT_RAW);
    assert_int_equal(f.ts_usec, 20000); /* milliseconds */
    assert_memory_equal(f.data, raw, rlen);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.pkt_num, 4);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_EOF);
    assert_int_equal(ctr.c[LW_CAPTURE_pcapng_sections], 2);
    assert_int_equal(ctr.c[LW_CAPTURE_pcapng_unknown_interface], 1);
    assert_int_equal(lw_pcapng_first_linktype(r), DLT_EN10MB);
    lw_pcapng_close(r);
    free(b);
}

static void test_pcapng_bad_packet_contents_skipped(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    uint32_t len = mk_ip_packet(pkt, true, 17, 1);
    ng_shb(b, false);
    ng_idb(b, 1, 40, -1, false, 0);
    size_t blk = b->n;
    ng_epb(b, 0, 1, pkt, len, len);
    patch32(b, blk + 20, len + 64); /* captured length beyond the block */
    ng_epb(b, 7, 2, pkt, len, len); /* no interface 7 */
    ng_epb(b, 0, 3, pkt, len, 20);  /* caplen > wirelen, and > snaplen 40 */
    size_t s = blk_begin(b, 6);     /* an EPB too short for its fixed fields */
    w32(b, 0);
    blk_end(b, s);
    ng_epb(b, 0, 5, pkt, 30, len);
    char err[512];
    int ec;
    lw_capture_counters ctr;
    lw_pcapng_reader *r = open_mem(b, NULL, &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    lw_frame f;
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.pkt_num, 3);
    assert_int_equal(f.caplen, len); /* kept: the bytes are in the file */
    assert_int_equal(f.wirelen, len);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.pkt_num, 5);
    assert_int_equal(f.caplen, 30);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_EOF);
    assert_int_equal(ctr.c[LW_CAPTURE_pcapng_bad_blocks], 2);
    assert_int_equal(ctr.c[LW_CAPTURE_pcapng_unknown_interface], 1);
    assert_int_equal(ctr.c[LW_CAPTURE_caplen_over_wirelen], 1);
    assert_int_equal(ctr.c[LW_CAPTURE_caplen_over_snaplen], 1);
    assert_int_equal(ctr.c[LW_CAPTURE_records_read], 5);
    lw_pcapng_close(r);
    free(b);
}

static void test_pcapng_bad_options(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[64];
    uint32_t len = mk_ip_packet(pkt, false, 17, 1);
    ng_shb(b, false);
    size_t s = blk_begin(b, 1); /* if_tsresol with length 2, then tsresol 10^-25 */
    w16(b, 101), w16(b, 0), w32(b, 0);
    w16(b, 9), w16(b, 2), w16(b, 0x0909);
    w16(b, 9), w16(b, 1), w8(b, 25), wpad4(b);
    w16(b, 0), w16(b, 0);
    blk_end(b, s);
    s = blk_begin(b, 1); /* an option longer than the block */
    w16(b, 101), w16(b, 0), w32(b, 0);
    w16(b, 9), w16(b, 200), w32(b, 0);
    blk_end(b, s);
    ng_epb(b, 0, 7, pkt, len, len);
    ng_epb(b, 1, 8, pkt, len, len);
    char err[512];
    int ec;
    lw_capture_counters ctr;
    lw_pcapng_reader *r = open_mem(b, NULL, &ctr, err, sizeof(err), &ec);
    assert_non_null(r);
    lw_frame f;
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.ts_usec, 7); /* defaults kept: microseconds */
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_OK);
    assert_int_equal(f.ts_usec, 8);
    assert_int_equal(lw_pcapng_next(r, &f, err, sizeof(err)), LW_CAP_EOF);
    assert_int_equal(ctr.c[LW_CAPTURE_pcapng_bad_options], 3);
    lw_pcapng_close(r);
    free(b);
}

static void test_pcapng_bad_section_header(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    ng_shb(b, false);
    b->d[8] = 0x11; /* byte-order magic */
    char err[512];
    int ec = 0;
    lw_capture_counters ctr;
    assert_null(open_mem(b, NULL, &ctr, err, sizeof(err), &ec));
    assert_int_equal(ec, 1);
    assert_non_null(strstr(err, "byte-order magic"));

    b->n = 0;
    ng_shb(b, false);
    b->d[12] = 2; /* version 2.0 */
    assert_null(open_mem(b, NULL, &ctr, err, sizeof(err), &ec));
    assert_non_null(strstr(err, "unsupported pcapng version 2.0"));
    free(b);
}

/* ---- stdin and FIFOs: inputs that cannot be rewound ---- */

static void read_all_from_stdin(const wbuf *b, int want_frames, int want_linktype)
{
    int saved = dup(STDIN_FILENO), p[2];
    assert_true(saved >= 0);
    assert_int_equal(pipe(p), 0);
    assert_true(b->n < 60000); /* fits in the pipe buffer: no writer process needed */
    assert_int_equal(write(p[1], b->d, b->n), (ssize_t)b->n);
    close(p[1]);
    assert_true(dup2(p[0], STDIN_FILENO) >= 0);
    close(p[0]);
    char err[512] = "";
    int ec;
    lw_capture *c = lw_capture_open_offline("-", NULL, 0, err, sizeof(err), &ec);
    if (!c) fail_msg("stdin: %s", err);
    lw_frame f;
    int n = 0, rc;
    while ((rc = lw_capture_next(c, &f, err, sizeof(err))) == LW_CAP_OK) {
        assert_int_equal(f.linktype, want_linktype);
        n++;
    }
    assert_int_equal(rc, LW_CAP_EOF);
    assert_int_equal(n, want_frames);
    assert_int_equal(lw_capture_linktype(c), want_linktype);
    lw_capture_close(c);
    assert_true(dup2(saved, STDIN_FILENO) >= 0);
    close(saved);
}

static void test_stdin_pipe(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    uint32_t len = mk_ip_packet(pkt, true, 17, 1);
    pcap_hdr(b, false, true, 65535, 1);
    for (int i = 0; i < 5; i++) pcap_rec(b, 1, 0, pkt, len, len);
    read_all_from_stdin(b, 5, DLT_EN10MB);

    b->n = 0;
    ng_shb(b, true);
    ng_idb(b, 1, 65535, -1, false, 0);
    ng_idb(b, 101, 1000, -1, false, 0);
    for (int i = 0; i < 3; i++) ng_epb(b, 0, 1, pkt, len, len);
    read_all_from_stdin(b, 3, DLT_EN10MB);
    free(b);
}

static void test_fifo_path(void **state)
{
    (void)state;
    wbuf *b = new_buf();
    uint8_t pkt[128];
    uint32_t len = mk_ip_packet(pkt, true, 6, 1);
    ng_shb(b, false);
    ng_idb(b, 1, 65535, -1, false, 0);
    for (int i = 0; i < 200; i++) ng_epb(b, 0, (uint64_t)i, pkt, len, len);
    char path[300];
    snprintf(path, sizeof(path), "%s/fifo", tmpdir);
    assert_int_equal(mkfifo(path, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        size_t off = 0;
        while (fd >= 0 && off < b->n) {
            ssize_t w = write(fd, b->d + off, b->n - off > 1000 ? 1000 : b->n - off);
            if (w <= 0) _exit(1);
            off += (size_t)w;
        }
        _exit(fd >= 0 ? 0 : 1);
    }
    char err[512] = "";
    int ec;
    lw_capture *c = lw_capture_open_offline(path, NULL, 0, err, sizeof(err), &ec);
    if (!c) fail_msg("fifo: %s", err);
    lw_frame f;
    uint64_t n = 0;
    while (lw_capture_next(c, &f, err, sizeof(err)) == LW_CAP_OK) {
        assert_int_equal(f.ts_usec, n);
        n++;
    }
    assert_int_equal(n, 200);
    assert_int_equal(cnt(c, LW_CAPTURE_pcapng_fallback_files), 0);
    lw_capture_close(c);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(path);
    free(b);
}

/* ---- hostile input: mutated pcapng must never crash or over-read ---- */

static void test_pcapng_mutations(void **state)
{
    (void)state;
    wbuf *orig = new_buf(), *b = new_buf();
    uint8_t pkt[128];
    uint32_t len = mk_ip_packet(pkt, true, 17, 1);
    ng_shb(orig, false);
    ng_idb(orig, 1, 65535, 9, true, -5);
    ng_idb(orig, 101, 64, 0x80 | 20, false, 0);
    ng_epb(orig, 0, 1, pkt, len, len);
    ng_spb(orig, len, pkt, len);
    ng_other(orig, 5, 16);
    ng_pb(orig, 1, 2, pkt, 20, 20);
    ng_shb(orig, true);
    ng_idb(orig, 1, 0, -1, false, 0);
    ng_epb(orig, 0, 3, pkt, len, len);
    uint32_t seed = 12345;
    uint64_t frames = 0, errors = 0;
    for (int iter = 0; iter < 4000; iter++) {
        memcpy(b, orig, sizeof(*b));
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = 8 + (seed >> 8) % (b->n - 8); /* keep the first block's type */
            seed = seed * 1103515245u + 12345u;
            b->d[at] = (uint8_t)(seed >> 16);
        }
        if (iter % 7 == 0) b->n = 8 + (seed >> 4) % (b->n - 8);
        char err[512];
        int ec;
        lw_capture_counters ctr;
        lw_pcapng_reader *r = open_mem(b, iter % 3 ? NULL : "udp", &ctr, err, sizeof(err), &ec);
        if (!r) continue;
        lw_frame f;
        int rc, guard = 0;
        while ((rc = lw_pcapng_next(r, &f, err, sizeof(err))) == LW_CAP_OK) {
            uint32_t sum = 0;
            for (uint32_t i = 0; i < f.caplen; i++) sum += f.data[i]; /* ASan checks bounds */
            (void)sum;
            assert_true(f.wirelen >= f.caplen);
            assert_true(f.caplen <= b->n);
            frames++;
            assert_true(++guard < 100);
        }
        assert_true(rc == LW_CAP_EOF || rc == LW_CAP_ERROR);
        errors += rc == LW_CAP_ERROR;
        lw_pcapng_close(r);
    }
    assert_true(frames > 1000); /* the loop really exercised the packet paths */
    assert_true(errors > 100);
    free(b);
    free(orig);
}

/* ---- live ---- */

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void send_udp_to_loopback(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(sendto(fd, "leakwatch", 9, 0, (struct sockaddr *)&to, sizeof(to)), 9);
    close(fd);
}

static void test_live_open(void **state)
{
    (void)state;
    char err[512] = "";
    int ec = 0;
    assert_null(lw_capture_open_live("lwnosuch0", NULL, 65535, 2, err, sizeof(err), &ec));
    assert_int_equal(ec, 1);
    assert_non_null(strstr(err, "cannot capture on lwnosuch0: "));

    /* Needs root or CAP_NET_RAW: skipped otherwise. */
    lw_capture *c = lw_capture_open_live("lo", "udp port 39999", 65535, 2, err, sizeof(err), &ec);
    if (!c) {
        print_message("skipping live capture on lo: %s\n", err);
        return;
    }
    assert_int_equal(lw_capture_linktype(c), DLT_EN10MB);
    /* An idle link must still come back after the read timeout (signals are polled then);
     * if a read blocks for good, SIGALRM ends the test run as a failure instead of a hang. */
    alarm(20);
    lw_frame f;
    double t0 = now_sec();
    assert_int_equal(lw_capture_next(c, &f, err, sizeof(err)), LW_CAP_TIMEOUT);
    assert_true(now_sec() - t0 < 1.0);

    send_udp_to_loopback(39999);
    int rc = LW_CAP_TIMEOUT;
    for (int i = 0; i < 30 && rc == LW_CAP_TIMEOUT; i++)
        rc = lw_capture_next(c, &f, err, sizeof(err));
    assert_int_equal(rc, LW_CAP_OK);
    assert_int_equal(f.linktype, DLT_EN10MB);
    assert_int_equal(f.pkt_num, 1);
    assert_true(f.caplen >= 14 + 20 + 8 + 9);
    assert_memory_equal(f.data + f.caplen - 9, "leakwatch", 9);
    uint64_t kd = 1, id = 1;
    lw_capture_drops(c, &kd, &id);
    assert_int_equal(kd, 0);
    lw_capture_close(c);
    alarm(0);

    ec = 0;
    assert_null(lw_capture_open_live("lo", "port ((", 65535, 2, err, sizeof(err), &ec));
    assert_int_equal(ec, 2);
    assert_non_null(strstr(err, "invalid capture filter"));
}

/* ---- real captures ---- */

static const char *shared_path(const char *rel)
{
    static char path[1024];
    const char *dir = getenv("LW_SHARED_DIR");
    snprintf(path, sizeof(path), "%s/pcaps/%s", dir && *dir ? dir : "/work/shared", rel);
    return access(path, R_OK) == 0 ? path : NULL;
}

/* Read a shared capture through the public API; returns frames read and the final status. */
static uint64_t drain(const char *rel, int *final, char *err, size_t errlen, uint64_t *caplen_sum,
                      uint64_t *first_ts, uint64_t *last_ts, lw_capture_counters *ctr)
{
    const char *path = shared_path(rel);
    if (!path) {
        print_message("skipping: %s not present\n", rel);
        skip();
    }
    int ec;
    lw_capture *c = lw_capture_open_offline(path, NULL, 0, err, errlen, &ec);
    if (!c) fail_msg("%s", err);
    lw_frame f;
    uint64_t n = 0;
    *caplen_sum = 0;
    while ((* final = lw_capture_next(c, &f, err, errlen)) == LW_CAP_OK) {
        n++;
        assert_int_equal(f.pkt_num, n);
        *caplen_sum += f.caplen;
        if (n == 1) *first_ts = f.ts_usec;
        *last_ts = f.ts_usec;
    }
    *ctr = *lw_capture_counters_get(c);
    lw_capture_close(c);
    return n;
}

static void test_shared_ldap_mixed_snaplen(void **state)
{
    (void)state;
    char err[512];
    int final;
    uint64_t sum, t0 = 0, t1 = 0;
    lw_capture_counters ctr;
    /* 126 interfaces; libpcap refuses the second one (snaplen 8192). tshark: 18 frames. */
    uint64_t n = drain("linktypes/zeek_ldap_gap-data-missing.pcapng", &final, err, sizeof(err),
                       &sum, &t0, &t1, &ctr);
    assert_int_equal(final, LW_CAP_EOF);
    assert_int_equal(n, 18);
    assert_int_equal(sum, 4969);
    assert_int_equal(t0, 1725966494956327ull); /* interface 48 has nanosecond resolution */
    assert_int_equal(t1, 1725966495127166ull);
    assert_int_equal(ctr.c[LW_CAPTURE_pcapng_fallback_files], 1);
    assert_int_equal(ctr.c[LW_CAPTURE_pcapng_interfaces], 126);
}

static void test_shared_damaged_pcaps(void **state)
{
    (void)state;
    char err[512];
    int final;
    uint64_t sum, t0 = 0, t1 = 0;
    lw_capture_counters ctr;
    /* libpcap (and tcpdump) read 1 frame here; Wireshark's heuristics report 2 (it guesses
     * another pcap variant for the record after the first). */
    uint64_t n = drain("malformed/sv_bug-6875-01__fuzz.pcap", &final, err, sizeof(err), &sum, &t0,
                       &t1, &ctr);
    assert_int_equal(n, 1);
    assert_int_equal(final, LW_CAP_ERROR);
    assert_non_null(strstr(err, "invalid packet capture length"));
    assert_int_equal(ctr.c[LW_CAPTURE_read_errors], 1);

    n = drain("malformed/sv_http-mime-truncated.pcap", &final, err, sizeof(err), &sum, &t0, &t1,
              &ctr);
    assert_int_equal(n, 2696);
    assert_int_equal(final, LW_CAP_ERROR);
    assert_non_null(strstr(err, "truncated dump file"));

    n = drain("malformed/ndpi_fuzz-2021-10-13.pcap", &final, err, sizeof(err), &sum, &t0, &t1,
              &ctr);
    assert_int_equal(n, 1);
    assert_int_equal(final, LW_CAP_ERROR);
}

static void test_shared_magic_not_extension(void **state)
{
    (void)state;
    char err[512];
    int final;
    uint64_t sum, t0 = 0, t1 = 0;
    lw_capture_counters ctr;
    /* Classic pcap named .pcapng (raw IPv4, LINKTYPE 228). */
    uint64_t n = drain("malformed/ndpi_ossfuzz_seed_fake_traces_4.pcapng", &final, err, sizeof(err),
                       &sum, &t0, &t1, &ctr);
    assert_int_equal(n, 2);
    assert_int_equal(final, LW_CAP_EOF);
    assert_int_equal(t0, 1675108086330330ull);
    assert_int_equal(sum, 68);
    /* pcapng named .pcap. */
    n = drain("malformed/ndpi_fuzz-2020-02-16-11740.pcap", &final, err, sizeof(err), &sum, &t0, &t1,
              &ctr);
    assert_int_equal(n, 366);
    assert_int_equal(final, LW_CAP_EOF);
    /* Nanosecond magic: microseconds out. */
    n = drain("linktypes/zeek_http_get-to-ssh-server.pcap", &final, err, sizeof(err), &sum, &t0,
              &t1, &ctr);
    assert_int_equal(n, 9);
    assert_int_equal(t0, 1770126425732560ull);
}

/* Every shared pcapng file: our reader must give exactly what libpcap gives. Returns whether
 * the file was pcapng (and so compared). */
static bool compare_with_libpcap(const char *path)
{
    char err[512];
    int ec;
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t magic[4] = {0};
    size_t got = fread(magic, 1, 4, fp);
    if (got != 4 || memcmp(magic, "\x0a\x0d\x0d\x0a", 4) != 0) {
        fclose(fp);
        return false;
    }
    rewind(fp);
    lw_capture_counters ctr = {{0}};
    lw_pcapng_reader *r = lw_pcapng_open(fp, path, NULL, 0, &ctr, err, sizeof(err), &ec);
    if (!r) fail_msg("%s", err);
    lw_capture *c = lw_capture_open_offline(path, NULL, 0, err, sizeof(err), &ec);
    if (!c) fail_msg("%s", err);
    lw_frame a, b;
    int ra, rb;
    uint64_t n = 0;
    do {
        ra = lw_capture_next(c, &a, err, sizeof(err));
        rb = lw_pcapng_next(r, &b, err, sizeof(err));
        assert_int_equal(ra, rb);
        if (ra != LW_CAP_OK) break;
        n++;
        assert_int_equal(a.pkt_num, b.pkt_num);
        assert_int_equal(a.ts_usec, b.ts_usec);
        assert_int_equal(a.caplen, b.caplen);
        assert_int_equal(a.wirelen, b.wirelen);
        assert_int_equal(a.linktype, b.linktype);
        assert_memory_equal(a.data, b.data, a.caplen);
    } while (1);
    assert_true(n > 0);
    lw_pcapng_close(r);
    lw_capture_close(c);
    return true;
}

static void walk_compare(const char *dir, int *files)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            walk_compare(p, files);
        } else if (strstr(e->d_name, ".pcap")) {
            if (compare_with_libpcap(p)) (*files)++;
        }
    }
    closedir(d);
}

static void test_shared_pcapng_matches_libpcap(void **state)
{
    (void)state;
    const char *dir = shared_path("");
    if (!dir) skip();
    int files = 0;
    walk_compare(dir, &files);
    assert_true(files >= 5); /* the shared set holds about ten pcapng files */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_micro_le),
        cmocka_unit_test(test_pcap_nano_be_to_micro),
        cmocka_unit_test(test_pcap_truncated_record),
        cmocka_unit_test(test_pcap_filter_counts_records),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_bad_filter_is_usage_error),
        cmocka_unit_test(test_pcapng_le_nanosecond_and_offset),
        cmocka_unit_test(test_pcapng_be_power_of_two_resolution),
        cmocka_unit_test(test_pcapng_mixed_interfaces_fall_back),
        cmocka_unit_test(test_pcapng_simple_and_obsolete_packet_blocks),
        cmocka_unit_test(test_pcapng_truncated_final_block),
        cmocka_unit_test(test_pcapng_corrupt_block_lengths),
        cmocka_unit_test(test_pcapng_unknown_blocks_skipped),
        cmocka_unit_test(test_pcapng_filter_per_linktype),
        cmocka_unit_test(test_pcapng_sections_switch_byte_order),
        cmocka_unit_test(test_pcapng_bad_packet_contents_skipped),
        cmocka_unit_test(test_pcapng_bad_options),
        cmocka_unit_test(test_pcapng_bad_section_header),
        cmocka_unit_test(test_stdin_pipe),
        cmocka_unit_test(test_fifo_path),
        cmocka_unit_test(test_pcapng_mutations),
        cmocka_unit_test(test_live_open),
        cmocka_unit_test(test_shared_ldap_mixed_snaplen),
        cmocka_unit_test(test_shared_damaged_pcaps),
        cmocka_unit_test(test_shared_magic_not_extension),
        cmocka_unit_test(test_shared_pcapng_matches_libpcap),
    };
    return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
