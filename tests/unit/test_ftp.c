/*
 * test_ftp.c — the FTP control-channel parser and the expectation table of ftp.h: PASV 227
 * replies (odd spacing, "=" variants, 0.0.0.0, split across pieces, multi-line), EPSV 229
 * with the server's address, PORT and EPRT (IPv4 and IPv6), bad ports counted, the transfer
 * command naming the announced transfer, long lines, AUTH TLS, gaps; the table's add / claim /
 * expiry / full paths and transfer reference counting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "leakwatch/ftp.h"

#define MAX_SEEN 8

/* What on_expect received: endpoints and the transfers (our own references). */
typedef struct seen {
    int n;
    lw_ftp_endpoint ep[MAX_SEEN];
    lw_ftp_transfer *tr[MAX_SEEN];
} seen;

static void on_expect(void *user, const lw_ftp_endpoint *ep, lw_ftp_transfer *t)
{
    seen *s = user;
    assert_true(s->n < MAX_SEEN);
    s->ep[s->n] = *ep;
    s->tr[s->n] = lw_ftp_transfer_ref(t);
    s->n++;
}

static void seen_free(seen *s)
{
    for (int i = 0; i < s->n; i++) lw_ftp_transfer_unref(s->tr[i]);
    s->n = 0;
}

static lw_ftp_endpoint v4(const char *a, uint16_t port)
{
    lw_ftp_endpoint ep;
    memset(&ep, 0, sizeof(ep));
    ep.ip_version = 4;
    assert_int_equal(inet_pton(AF_INET, a, ep.addr), 1);
    ep.port = port;
    return ep;
}

static lw_ftp_endpoint v6(const char *a, uint16_t port)
{
    lw_ftp_endpoint ep;
    memset(&ep, 0, sizeof(ep));
    ep.ip_version = 6;
    assert_int_equal(inet_pton(AF_INET6, a, ep.addr), 1);
    ep.port = port;
    return ep;
}

typedef struct fx {
    lw_ftp *f;
    seen s;
    lw_ftp_counters ctr;
} fx;

static fx *fx_new(void)
{
    fx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    lw_ftp_endpoint c = v4("10.0.0.5", 40000), sv = v4("192.0.2.21", 21);
    x->f = lw_ftp_new(&c, &sv, on_expect, &x->s, &x->ctr);
    assert_non_null(x->f);
    return x;
}

static void fx_free(fx *x)
{
    lw_ftp_free(x->f);
    seen_free(&x->s);
    free(x);
}

static void cli(fx *x, const char *s)
{
    lw_ftp_client_bytes(x->f, (const uint8_t *)s, strlen(s));
}

static void srv(fx *x, const char *s)
{
    lw_ftp_server_bytes(x->f, (const uint8_t *)s, strlen(s));
}

static void assert_ep(const lw_ftp_endpoint *got, const lw_ftp_endpoint *want)
{
    assert_int_equal(got->ip_version, want->ip_version);
    assert_int_equal(got->port, want->port);
    assert_memory_equal(got->addr, want->addr, want->ip_version == 4 ? 4 : 16);
}

/* One 227 reply alone: the endpoint it announced (port 0 if none). */
static lw_ftp_endpoint pasv_one(const char *reply, uint64_t *bad)
{
    fx *x = fx_new();
    srv(x, reply);
    lw_ftp_endpoint ep;
    memset(&ep, 0, sizeof(ep));
    if (x->s.n) ep = x->s.ep[0];
    assert_true(x->s.n <= 1);
    *bad = x->ctr.c[LW_FTP_bad_port];
    fx_free(x);
    return ep;
}

static void test_pasv_227_variants(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "227 Entering Passive Mode (192,168,1,2,19,136).\r\n",
        "227 Entering Passive Mode ( 192, 168 ,1 ,2 , 19 ,136 )\r\n",
        "227 Entering Passive Mode 192,168,1,2,19,136\r\n",
        "227 =192,168,1,2,19,136\r\n",
        "227 Entering Passive Mode=192,168,1,2,19,136\n",            /* bare LF */
        "227-Entering Passive Mode\r\n227 (192,168,1,2,19,136)\r\n", /* multi-line */
    };
    lw_ftp_endpoint want = v4("192.168.1.2", 19 * 256 + 136);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t bad;
        lw_ftp_endpoint ep = pasv_one(ok[i], &bad);
        assert_ep(&ep, &want);
        assert_int_equal(bad, 0);
    }
    /* 0.0.0.0: the control connection's server */
    uint64_t bad;
    lw_ftp_endpoint ep = pasv_one("227 Entering Passive Mode (0,0,0,0,4,1)\r\n", &bad);
    lw_ftp_endpoint srv0 = v4("192.0.2.21", 1025);
    assert_ep(&ep, &srv0);
}

static void test_pasv_split_pieces(void **state)
{
    (void)state;
    const char *r = "227 Entering Passive Mode (10,1,2,3,200,7)\r\n";
    lw_ftp_endpoint want = v4("10.1.2.3", 200 * 256 + 7);
    for (size_t cut = 1; cut < strlen(r); cut++) {
        fx *x = fx_new();
        lw_ftp_server_bytes(x->f, (const uint8_t *)r, cut);
        assert_int_equal(x->s.n, 0);
        lw_ftp_server_bytes(x->f, (const uint8_t *)r + cut, strlen(r) - cut);
        assert_int_equal(x->s.n, 1);
        assert_ep(&x->s.ep[0], &want);
        assert_int_equal(x->ctr.c[LW_FTP_replies], 1);
        fx_free(x);
    }
    /* byte by byte */
    fx *x = fx_new();
    for (size_t i = 0; r[i]; i++) lw_ftp_server_bytes(x->f, (const uint8_t *)r + i, 1);
    assert_int_equal(x->s.n, 1);
    assert_ep(&x->s.ep[0], &want);
    fx_free(x);
}

static void test_pasv_bad_port(void **state)
{
    (void)state;
    static const char *const bad_replies[] = {
        "227 Entering Passive Mode (192,168,1,300,19,136)\r\n", /* a byte over 255 */
        "227 Entering Passive Mode (192,168,1,2,0,0)\r\n",      /* port 0 */
        "227 Entering Passive Mode\r\n",                        /* no numbers at all */
        "227 Entering Passive Mode (192,168,1,2,19)\r\n",       /* five */
    };
    for (size_t i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++) {
        uint64_t bad;
        lw_ftp_endpoint ep = pasv_one(bad_replies[i], &bad);
        assert_int_equal(ep.port, 0);
        assert_int_equal(bad, 1);
    }
}

static void test_epsv_229(void **state)
{
    (void)state;
    fx *x = fx_new();
    srv(x, "229 Entering Extended Passive Mode (|||6446|)\r\n");
    assert_int_equal(x->s.n, 1);
    lw_ftp_endpoint want = v4("192.0.2.21", 6446);
    assert_ep(&x->s.ep[0], &want);
    srv(x, "229 Entering Extended Passive Mode (!!!6447!)\r\n"); /* another delimiter */
    assert_int_equal(x->s.n, 2);
    assert_int_equal(x->s.ep[1].port, 6447);
    assert_int_equal(x->ctr.c[LW_FTP_bad_port], 0);
    srv(x, "229 Entering Extended Passive Mode (|||70000|)\r\n");
    srv(x, "229 Entering Extended Passive Mode (|||0|)\r\n");
    srv(x, "229 Entering Extended Passive Mode\r\n");
    assert_int_equal(x->s.n, 2);
    assert_int_equal(x->ctr.c[LW_FTP_bad_port], 3);
    assert_int_equal(x->ctr.c[LW_FTP_announced], 2);
    fx_free(x);

    /* IPv6 control connection: the data connection goes to the v6 server address */
    seen s = {0};
    lw_ftp_endpoint c = v6("2001:db8::5", 40000), sv = v6("2001:db8::21", 21);
    lw_ftp *f = lw_ftp_new(&c, &sv, on_expect, &s, NULL);
    const char *r = "229 Extended Passive Mode OK (|||50000|)\r\n";
    lw_ftp_server_bytes(f, (const uint8_t *)r, strlen(r));
    assert_int_equal(s.n, 1);
    lw_ftp_endpoint w6 = v6("2001:db8::21", 50000);
    assert_ep(&s.ep[0], &w6);
    lw_ftp_free(f);
    seen_free(&s);
}

static void test_port_eprt(void **state)
{
    (void)state;
    fx *x = fx_new();
    cli(x, "PORT 10,0,0,5,156,64\r\n");
    cli(x, "port 10,0,0,5, 156, 65\r\n"); /* verbs are case-insensitive */
    cli(x, "EPRT |1|132.235.1.2|6275|\r\n");
    cli(x, "EPRT |2|1080::8:800:200C:417A|5282|\r\n");
    assert_int_equal(x->s.n, 4);
    lw_ftp_endpoint w0 = v4("10.0.0.5", 156 * 256 + 64), w1 = v4("10.0.0.5", 156 * 256 + 65),
                    w2 = v4("132.235.1.2", 6275), w3 = v6("1080::8:800:200C:417A", 5282);
    assert_ep(&x->s.ep[0], &w0);
    assert_ep(&x->s.ep[1], &w1);
    assert_ep(&x->s.ep[2], &w2);
    assert_ep(&x->s.ep[3], &w3);
    assert_int_equal(x->ctr.c[LW_FTP_bad_port], 0);
    assert_int_equal(x->ctr.c[LW_FTP_commands], 4);
    assert_string_equal(lw_ftp_last_command(x->f), "EPRT");
    assert_string_equal(lw_ftp_last_argument(x->f), "|2|1080::8:800:200C:417A|5282|");

    static const char *const bad[] = {
        "PORT 10,0,0,5,156\r\n",          "PORT 10,0,0,256,1,1\r\n",
        "PORT 10,0,0,5,0,0\r\n",          "PORT 10,0,0,5,1,1 junk\r\n",
        "EPRT |1|132.235.1.2|70000|\r\n", "EPRT |1|132.235.1.2|0|\r\n",
        "EPRT |3|132.235.1.2|6275|\r\n",  "EPRT |1|not-an-address|6275|\r\n",
        "EPRT |2|132.235.1.2|6275|\r\n",  "EPRT |1|132.235.1.2|6275\r\n",
        "EPRT |1|132.235.1.2|62x75|\r\n", "EPRT\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) cli(x, bad[i]);
    assert_int_equal(x->s.n, 4);
    assert_int_equal(x->ctr.c[LW_FTP_bad_port], sizeof(bad) / sizeof(bad[0]));
    fx_free(x);
}

static void get(lw_ftp_transfer *t, char cmd[8], char name[256])
{
    lw_ftp_transfer_get(t, cmd, name);
}

static void test_transfer_named(void **state)
{
    (void)state;
    fx *x = fx_new();
    char cmd[8], name[256];
    srv(x, "227 Entering Passive Mode (192,0,2,21,100,1)\r\n");
    assert_int_equal(x->s.n, 1);
    get(x->s.tr[0], cmd, name);
    assert_string_equal(cmd, ""); /* not named yet */
    assert_string_equal(name, "");
    cli(x, "TYPE I\r\n");
    cli(x, "STOR secret plans.xlsx\r\n");
    get(x->s.tr[0], cmd, name);
    assert_string_equal(cmd, "STOR");
    assert_string_equal(name, "secret plans.xlsx");
    cli(x, "RETR other.txt\r\n"); /* a second command does not rename it */
    get(x->s.tr[0], cmd, name);
    assert_string_equal(name, "secret plans.xlsx");

    /* the next announcement gets the next command */
    cli(x, "EPRT |1|10.0.0.5|50001|\r\n");
    cli(x, "retr /pub/customers.csv\r\n");
    assert_int_equal(x->s.n, 2);
    get(x->s.tr[1], cmd, name);
    assert_string_equal(cmd, "RETR");
    assert_string_equal(name, "/pub/customers.csv");
    get(x->s.tr[0], cmd, name);
    assert_string_equal(cmd, "STOR");

    /* a listing: command, empty argument */
    srv(x, "229 Entering Extended Passive Mode (|||6000|)\r\n");
    cli(x, "LIST\r\n");
    get(x->s.tr[2], cmd, name);
    assert_string_equal(cmd, "LIST");
    assert_string_equal(name, "");

    /* a long file name is cut to fit, NUL-terminated */
    srv(x, "229 Entering Extended Passive Mode (|||6001|)\r\n");
    char line[600] = "STOR ";
    memset(line + 5, 'a', 400);
    strcpy(line + 405, "\r\n");
    cli(x, line);
    get(x->s.tr[3], cmd, name);
    assert_int_equal(strlen(name), 255);
    fx_free(x);
}

static void test_long_lines(void **state)
{
    (void)state;
    fx *x = fx_new();
    size_t n = LW_FTP_LINE_MAX * 3;
    char *big = malloc(n + 3);
    assert_non_null(big);
    memcpy(big, "NOOP ", 5);
    memset(big + 5, 'x', n - 5);
    memcpy(big + n, "\r\n", 3);
    cli(x, big);
    assert_int_equal(x->ctr.c[LW_FTP_long_lines], 1);
    /* in pieces: still one */
    for (size_t i = 0; i < n + 2; i += 100)
        lw_ftp_client_bytes(x->f, (const uint8_t *)big + i, n + 2 - i < 100 ? n + 2 - i : 100);
    assert_int_equal(x->ctr.c[LW_FTP_long_lines], 2);
    /* exactly LW_FTP_LINE_MAX bytes + CRLF is not long */
    memset(big + 5, 'y', LW_FTP_LINE_MAX - 5);
    memcpy(big + LW_FTP_LINE_MAX, "\r\n", 3);
    cli(x, big);
    assert_int_equal(x->ctr.c[LW_FTP_long_lines], 2);
    assert_int_equal(strlen(lw_ftp_last_argument(x->f)), LW_FTP_LINE_MAX - 5);
    /* the parser carries on after a long line */
    cli(x, "PORT 10,0,0,5,1,2\r\n");
    assert_int_equal(x->s.n, 1);
    free(big);
    fx_free(x);
}

static void test_auth_tls(void **state)
{
    (void)state;
    fx *x = fx_new();
    cli(x, "AUTH TLS\r\nPORT 10,0,0,5,1,2\r\n"); /* after AUTH TLS: encrypted, not read */
    assert_int_equal(x->ctr.c[LW_FTP_auth_tls], 1);
    cli(x, "PORT 10,0,0,5,1,3\r\n");
    srv(x, "227 (10,0,0,9,1,4)\r\n");
    assert_int_equal(x->s.n, 0);
    fx_free(x);
    x = fx_new();
    cli(x, "auth ssl\r\n");
    assert_int_equal(x->ctr.c[LW_FTP_auth_tls], 1);
    fx_free(x);
    x = fx_new();
    cli(x, "AUTH KERBEROS\r\nPORT 10,0,0,5,1,2\r\n");
    assert_int_equal(x->ctr.c[LW_FTP_auth_tls], 0);
    assert_int_equal(x->s.n, 1);
    fx_free(x);
}

static void test_gap(void **state)
{
    (void)state;
    fx *x = fx_new();
    cli(x, "PORT 10,0,0,5,");
    lw_ftp_gap(x->f, true);
    cli(x, "1,2\r\nPORT 10,0,0,5,1,3\r\n"); /* the cut line is dropped, the next one read */
    assert_int_equal(x->s.n, 1);
    assert_int_equal(x->s.ep[0].port, 259);
    srv(x, "227-Passive\r\n");
    lw_ftp_gap(x->f, false);
    srv(x, "lost\r\n227 Entering Passive Mode (10,0,0,9,1,4)\r\n");
    assert_int_equal(x->s.n, 2);
    lw_ftp_gap(NULL, true);
    lw_ftp_client_bytes(NULL, (const uint8_t *)"x", 1);
    fx_free(x);
}

/* ------------------------------------------------------------------ expectation table */

static void test_transfer_refcount(void **state)
{
    (void)state;
    lw_ftp_transfer *t = lw_ftp_transfer_new();
    assert_non_null(t);
    assert_int_equal(t->refs, 1);
    assert_ptr_equal(lw_ftp_transfer_ref(t), t);
    assert_int_equal(t->refs, 2);
    lw_ftp_transfer_unref(t);
    assert_int_equal(t->refs, 1);
    assert_null(lw_ftp_transfer_ref(NULL));
    lw_ftp_transfer_unref(NULL);
    char cmd[8], name[256];
    lw_ftp_transfer_get(NULL, cmd, name);
    assert_string_equal(cmd, "");
    assert_string_equal(name, "");
    lw_ftp_transfer_unref(t); /* freed (ASan would see a leak otherwise) */
}

static void test_expect_add_claim(void **state)
{
    (void)state;
    lw_ftp_expect_table *tab = lw_ftp_expect_new(8);
    assert_non_null(tab);
    lw_ftp_endpoint ep = v4("192.0.2.21", 5000);
    assert_null(lw_ftp_expect_claim(tab, &ep, 1)); /* empty */
    lw_ftp_transfer *t = lw_ftp_transfer_new();
    uint64_t expired = 0;
    assert_true(lw_ftp_expect_add(tab, &ep, t, 1000, &expired));
    assert_int_equal(t->refs, 2);
    lw_ftp_endpoint other = v4("192.0.2.21", 5001);
    assert_null(lw_ftp_expect_claim(tab, &other, 2000));
    /* junk in the unused address bytes of an IPv4 endpoint does not matter */
    lw_ftp_endpoint dirty = ep;
    memset(dirty.addr + 4, 0x5a, 12);
    lw_ftp_transfer *c = lw_ftp_expect_claim(tab, &dirty, 2000);
    assert_ptr_equal(c, t);
    assert_int_equal(t->refs, 2);                     /* the table's reference is now ours */
    assert_null(lw_ftp_expect_claim(tab, &ep, 2000)); /* claimed once */
    lw_ftp_transfer_unref(c);

    /* announced again before claimed: the newest transfer wins */
    lw_ftp_transfer *t2 = lw_ftp_transfer_new();
    assert_true(lw_ftp_expect_add(tab, &ep, t, 3000, &expired));
    assert_true(lw_ftp_expect_add(tab, &ep, t2, 3001, &expired));
    assert_int_equal(t->refs, 1);
    c = lw_ftp_expect_claim(tab, &ep, 3002);
    assert_ptr_equal(c, t2);
    lw_ftp_transfer_unref(c);
    assert_int_equal(expired, 0);

    /* v6 */
    lw_ftp_endpoint e6 = v6("2001:db8::21", 5000);
    assert_true(lw_ftp_expect_add(tab, &e6, t, 4000, &expired));
    assert_null(lw_ftp_expect_claim(tab, &ep, 4001));
    c = lw_ftp_expect_claim(tab, &e6, 4001);
    assert_ptr_equal(c, t);
    lw_ftp_transfer_unref(c);
    lw_ftp_expect_free(tab);
    lw_ftp_transfer_unref(t);
    lw_ftp_transfer_unref(t2);
}

static void test_expect_expiry(void **state)
{
    (void)state;
    lw_ftp_expect_table *tab = lw_ftp_expect_new(8);
    lw_ftp_transfer *t = lw_ftp_transfer_new();
    lw_ftp_endpoint a = v4("192.0.2.21", 5000), b = v4("192.0.2.21", 5001),
                    c = v4("192.0.2.21", 5002);
    uint64_t expired = 0, t0 = 1000000;
    assert_true(lw_ftp_expect_add(tab, &a, t, t0, &expired));
    assert_true(lw_ftp_expect_add(tab, &b, t, t0 + 10, &expired));
    assert_int_equal(t->refs, 3);
    /* just before a's timeout it can still be claimed */
    lw_ftp_transfer *got = lw_ftp_expect_claim(tab, &a, t0 + LW_FTP_EXPECT_TIMEOUT_USEC - 1);
    assert_ptr_equal(got, t);
    lw_ftp_transfer_unref(got);
    /* b expires: a claim sweeps it (reported by the next add), and it is not found */
    assert_null(lw_ftp_expect_claim(tab, &b, t0 + 10 + LW_FTP_EXPECT_TIMEOUT_USEC));
    assert_int_equal(t->refs, 1);
    assert_true(lw_ftp_expect_add(tab, &c, t, t0 + 2 * LW_FTP_EXPECT_TIMEOUT_USEC, &expired));
    assert_int_equal(expired, 1);
    /* expired by an add */
    assert_true(lw_ftp_expect_add(tab, &a, t, t0 + 4 * LW_FTP_EXPECT_TIMEOUT_USEC, &expired));
    assert_int_equal(expired, 2);
    assert_int_equal(t->refs, 2);
    assert_true(lw_ftp_expect_add(tab, &b, t, UINT64_MAX - 5, NULL)); /* no overflow */
    lw_ftp_expect_free(tab); /* drops the table's references */
    assert_int_equal(t->refs, 1);
    lw_ftp_transfer_unref(t);
}

static void test_expect_full(void **state)
{
    (void)state;
    lw_ftp_expect_table *tab = lw_ftp_expect_new(4);
    lw_ftp_transfer *t = lw_ftp_transfer_new();
    uint64_t expired = 0;
    for (uint16_t p = 1; p <= 4; p++) {
        lw_ftp_endpoint ep = v4("192.0.2.21", p);
        assert_true(lw_ftp_expect_add(tab, &ep, t, 100, &expired));
    }
    lw_ftp_endpoint ep5 = v4("192.0.2.21", 5);
    assert_false(lw_ftp_expect_add(tab, &ep5, t, 100, &expired));
    assert_int_equal(t->refs, 5);
    lw_ftp_endpoint ep2 = v4("192.0.2.21", 2);
    assert_true(lw_ftp_expect_add(tab, &ep2, t, 101, &expired)); /* re-announce: fits */
    lw_ftp_transfer *got = lw_ftp_expect_claim(tab, &ep2, 102);
    lw_ftp_transfer_unref(got);
    assert_true(lw_ftp_expect_add(tab, &ep5, t, 103, &expired)); /* a slot was freed */
    /* the slots are reused many times over */
    for (int round = 0; round < 100; round++) {
        got = lw_ftp_expect_claim(tab, &ep5, 200);
        assert_ptr_equal(got, t);
        lw_ftp_transfer_unref(got);
        assert_true(lw_ftp_expect_add(tab, &ep5, t, 200, &expired));
    }
    assert_int_equal(expired, 0);
    assert_false(lw_ftp_expect_add(NULL, &ep5, t, 1, &expired));
    assert_null(lw_ftp_expect_claim(NULL, &ep5, 1));
    lw_ftp_expect_free(tab);
    assert_int_equal(t->refs, 1);
    lw_ftp_transfer_unref(t);
    lw_ftp_expect_free(NULL);
}

/* The control parser and the table together, as the worker wires them. */
typedef struct wire {
    lw_ftp_expect_table *tab;
    lw_ftp_counters *ctr;
} wire;

static void wire_expect(void *user, const lw_ftp_endpoint *ep, lw_ftp_transfer *t)
{
    wire *w = user;
    uint64_t expired = 0;
    if (!lw_ftp_expect_add(w->tab, ep, t, 5000, &expired)) w->ctr->c[LW_FTP_expect_full]++;
    w->ctr->c[LW_FTP_expect_expired] += expired;
}

/* lw_ftp_peek (the capture thread's steering hint): the announcements in one segment's
 * complete lines, from either side; a line the segment does not end is not read. */
typedef struct peeked {
    int n;
    lw_ftp_endpoint ep[MAX_SEEN];
} peeked;

static void on_peek(void *user, const lw_ftp_endpoint *ep)
{
    peeked *p = user;
    assert_true(p->n < MAX_SEEN);
    p->ep[p->n++] = *ep;
}

static void test_peek(void **state)
{
    (void)state;
    lw_ftp_endpoint c = v4("10.0.0.5", 40000), sv = v4("192.0.2.21", 21);
    peeked p = {0};
    const char *reply = "227 Entering Passive Mode (192,0,2,21,195,80).\r\n";
    lw_ftp_peek(&c, &sv, false, (const uint8_t *)reply, strlen(reply), on_peek, &p);
    assert_int_equal(p.n, 1);
    lw_ftp_endpoint want = v4("192.0.2.21", 195 * 256 + 80);
    assert_ep(&p.ep[0], &want);
    const char *cmds = "PORT 10,0,0,5,156,65\r\nEPRT |1|10.0.0.5|40002|\r\nSTOR a.csv\r\n";
    lw_ftp_peek(&c, &sv, true, (const uint8_t *)cmds, strlen(cmds), on_peek, &p);
    assert_int_equal(p.n, 3);
    want = v4("10.0.0.5", 156 * 256 + 65);
    assert_ep(&p.ep[1], &want);
    want = v4("10.0.0.5", 40002);
    assert_ep(&p.ep[2], &want);
    const char *cut = "229 Entering Extended Passive Mode (|||50000|)"; /* no line end */
    lw_ftp_peek(&c, &sv, false, (const uint8_t *)cut, strlen(cut), on_peek, &p);
    assert_int_equal(p.n, 3);
}

static void test_control_to_data_link(void **state)
{
    (void)state;
    lw_ftp_counters ctr = {{0}};
    wire w = {lw_ftp_expect_new(16), &ctr};
    lw_ftp_endpoint c = v4("10.0.0.5", 40000), sv = v4("192.0.2.21", 21);
    lw_ftp *f = lw_ftp_new(&c, &sv, wire_expect, &w, &ctr);
    const char *r = "227 Entering Passive Mode (192,0,2,21,195,80)\r\n";
    lw_ftp_server_bytes(f, (const uint8_t *)r, strlen(r));
    const char *s = "STOR payroll.csv\r\n";
    lw_ftp_client_bytes(f, (const uint8_t *)s, strlen(s));
    lw_ftp_endpoint data = v4("192.0.2.21", 195 * 256 + 80);
    lw_ftp_transfer *t = lw_ftp_expect_claim(w.tab, &data, 6000);
    assert_non_null(t);
    lw_ftp_free(f); /* the control flow may go first */
    char cmd[8], name[256];
    lw_ftp_transfer_get(t, cmd, name);
    assert_string_equal(cmd, "STOR");
    assert_string_equal(name, "payroll.csv");
    assert_int_equal(t->refs, 1);
    lw_ftp_transfer_unref(t);
    lw_ftp_expect_free(w.tab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pasv_227_variants),
        cmocka_unit_test(test_pasv_split_pieces),
        cmocka_unit_test(test_pasv_bad_port),
        cmocka_unit_test(test_epsv_229),
        cmocka_unit_test(test_port_eprt),
        cmocka_unit_test(test_transfer_named),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_auth_tls),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_transfer_refcount),
        cmocka_unit_test(test_expect_add_claim),
        cmocka_unit_test(test_expect_expiry),
        cmocka_unit_test(test_expect_full),
        cmocka_unit_test(test_control_to_data_link),
        cmocka_unit_test(test_peek),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
