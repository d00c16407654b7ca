/*
 * fuzz_ftp.c — libFuzzer target for ftp.h. The first input byte chooses a split point (its low
 * 7 bits, a percentage of the rest) and which direction comes first (its top bit); the rest is
 * fed to lw_ftp in two pieces per direction: the same bytes go to the client side and to the
 * server side, each split at that point. Every announced transfer goes through an expectation
 * table (add, then claim) and its command and file name must be NUL-terminated. A second
 * parser fed byte by byte must count the same and announce the same endpoints.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leakwatch/ftp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) __builtin_trap();                                                                \
    } while (0)

#define BYTEWISE_MAX 4096

typedef struct run {
    lw_ftp_expect_table *tab;
    uint64_t now;
    uint64_t hash; /* of the endpoints announced, in order */
    unsigned n;
} run;

static void on_expect(void *user, const lw_ftp_endpoint *ep, lw_ftp_transfer *t)
{
    run *r = user;
    CHECK(ep->ip_version == 4 || ep->ip_version == 6 || ep->ip_version == 0);
    const uint8_t *b = (const uint8_t *)ep;
    for (size_t i = 0; i < sizeof(*ep); i++) r->hash = (r->hash ^ b[i]) * 0x100000001b3ull;
    r->n++;
    uint64_t expired = 0;
    (void)lw_ftp_expect_add(r->tab, ep, t, r->now, &expired); /* may be full */
    r->now += LW_FTP_EXPECT_TIMEOUT_USEC / 4;                 /* some expire */
}

static void drain(run *r)
{
    lw_ftp_endpoint probe;
    memset(&probe, 0, sizeof(probe));
    /* whatever was announced can be claimed once, and names stay terminated */
    for (unsigned i = 0; i < 4; i++) {
        probe.ip_version = 4;
        probe.port = (uint16_t)(i * 257);
        lw_ftp_transfer *t = lw_ftp_expect_claim(r->tab, &probe, r->now);
        if (t) {
            char cmd[8], name[256];
            lw_ftp_transfer_get(t, cmd, name);
            CHECK(memchr(cmd, 0, sizeof(cmd)) && memchr(name, 0, sizeof(name)));
            lw_ftp_transfer_unref(t);
        }
    }
}

static void feed(lw_ftp *f, bool client, const uint8_t *p, size_t n)
{
    if (client)
        lw_ftp_client_bytes(f, p, n);
    else
        lw_ftp_server_bytes(f, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    size_t split = len * (sel & 0x7f) / 127;
    bool client_first = (sel & 0x80) == 0;

    lw_ftp_endpoint c = {4, {10, 0, 0, 5}, 40000}, s = {4, {192, 0, 2, 21}, 21};
    if (sel & 0x40) { /* an IPv6 control connection now and then */
        c.ip_version = s.ip_version = 6;
        c.addr[15] = 5;
        s.addr[15] = 21;
    }
    run r1 = {lw_ftp_expect_new(8), 1, 0xcbf29ce484222325ull, 0};
    run r2 = {lw_ftp_expect_new(8), 1, 0xcbf29ce484222325ull, 0};
    CHECK(r1.tab && r2.tab);
    lw_ftp_counters c1 = {{0}}, c2 = {{0}};
    lw_ftp *f1 = lw_ftp_new(&c, &s, on_expect, &r1, &c1);
    lw_ftp *f2 = lw_ftp_new(&c, &s, on_expect, &r2, &c2);
    CHECK(f1 && f2);

    /* f1: each direction in two pieces, interleaved */
    feed(f1, client_first, in, split);
    feed(f1, !client_first, in, split);
    feed(f1, client_first, in + split, len - split);
    feed(f1, !client_first, in + split, len - split);
    const char *cmd = lw_ftp_last_command(f1), *arg = lw_ftp_last_argument(f1);
    CHECK(strlen(cmd) < 16 && strlen(arg) <= LW_FTP_LINE_MAX);

    /* f2: the same pieces in the same order, one byte at a time: the same lines, so the same
     * counters and announcements */
    if (len <= BYTEWISE_MAX) {
        for (size_t i = 0; i < split; i++) feed(f2, client_first, in + i, 1);
        for (size_t i = 0; i < split; i++) feed(f2, !client_first, in + i, 1);
        for (size_t i = split; i < len; i++) feed(f2, client_first, in + i, 1);
        for (size_t i = split; i < len; i++) feed(f2, !client_first, in + i, 1);
        CHECK(memcmp(&c1, &c2, sizeof(c1)) == 0);
        CHECK(r1.n == r2.n && r1.hash == r2.hash);
        CHECK(strcmp(cmd, lw_ftp_last_command(f2)) == 0);
        CHECK(strcmp(arg, lw_ftp_last_argument(f2)) == 0);
    }
    /* a gap, then more */
    lw_ftp_gap(f1, (sel & 1) != 0);
    feed(f1, (sel & 1) != 0, in, len);
    drain(&r1);

    lw_ftp_free(f1);
    lw_ftp_free(f2);
    lw_ftp_expect_free(r1.tab);
    lw_ftp_expect_free(r2.tab);
    return 0;
}
