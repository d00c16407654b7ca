/*
 * test_dns_query.c — the DNS query reader and the tunnel heuristic of dns_query.h: question
 * names (plain, compressed, pointer loops and forward pointers, over 255 bytes, truncated),
 * responses counted not_query, joined labels, registered domains under generic and
 * country-code second levels, and the tunnel table (threshold reported once per pair,
 * repeated names counted once, low-entropy names not suspect, LRU eviction counted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "leakwatch/dns_query.h"

/* A query message for a dotted name: header, QNAME, QTYPE, QCLASS. Returns its length. */
static size_t build_query(uint8_t *m, size_t cap, uint16_t id, uint8_t flags2, const char *name,
                          uint16_t qtype)
{
    size_t n = 0;
    assert_true(cap >= 12);
    m[n++] = (uint8_t)(id >> 8);
    m[n++] = (uint8_t)id;
    m[n++] = flags2; /* QR, opcode, AA, TC, RD */
    m[n++] = 0;
    m[n++] = 0, m[n++] = 1; /* QDCOUNT */
    for (int i = 0; i < 6; i++) m[n++] = 0;
    const char *p = name;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        assert_true(n + 1 + l < cap);
        m[n++] = (uint8_t)l;
        memcpy(m + n, p, l);
        n += l;
        p += l;
        if (*p == '.') p++;
    }
    assert_true(n + 5 <= cap);
    m[n++] = 0;
    m[n++] = (uint8_t)(qtype >> 8);
    m[n++] = (uint8_t)qtype;
    m[n++] = 0, m[n++] = 1;
    return n;
}

static void test_parse_plain(void **state)
{
    (void)state;
    uint8_t m[512];
    size_t n = build_query(m, sizeof(m), 0x1234, 0x01, "www.Example.com", 1);
    lw_dns_question q;
    lw_dns_counters ctr = {{0}};
    assert_true(lw_dns_parse_query(m, n, &q, &ctr));
    assert_string_equal(q.dotted, "www.Example.com");
    assert_int_equal(q.joined_len, 13);
    assert_memory_equal(q.joined, "wwwExamplecom", 13);
    assert_int_equal(q.qtype, 1);
    assert_int_equal(q.id, 0x1234);
    assert_int_equal(ctr.c[LW_DNS_queries], 1);

    /* a value split across labels is whole in `joined` */
    n = build_query(m, sizeof(m), 7, 0x01, "4111111111.111111.11.x.tunnel.example", 16);
    assert_true(lw_dns_parse_query(m, n, &q, &ctr));
    assert_string_equal(q.dotted, "4111111111.111111.11.x.tunnel.example");
    assert_int_equal(q.joined_len, strlen("411111111111111111xtunnelexample"));
    assert_memory_equal(q.joined, "411111111111111111xtunnelexample", q.joined_len);
    assert_int_equal(q.qtype, 16);

    /* the root name */
    n = build_query(m, sizeof(m), 7, 0x01, "", 2);
    assert_true(lw_dns_parse_query(m, n, &q, &ctr));
    assert_string_equal(q.dotted, "");
    assert_int_equal(q.joined_len, 0);
    assert_int_equal(ctr.c[LW_DNS_queries], 3);
    assert_int_equal(ctr.c[LW_DNS_malformed], 0);

    /* no counters given is fine */
    assert_true(lw_dns_parse_query(m, n, &q, NULL));
}

static void test_parse_not_query(void **state)
{
    (void)state;
    uint8_t m[512];
    size_t n = build_query(m, sizeof(m), 1, 0x81, "example.com", 1); /* QR=1 */
    lw_dns_question q;
    lw_dns_counters ctr = {{0}};
    assert_false(lw_dns_parse_query(m, n, &q, &ctr));
    assert_int_equal(ctr.c[LW_DNS_not_query], 1);
    n = build_query(m, sizeof(m), 1, 0x01, "example.com", 1);
    m[5] = 0; /* QDCOUNT 0 */
    assert_false(lw_dns_parse_query(m, n, &q, &ctr));
    assert_int_equal(ctr.c[LW_DNS_not_query], 2);
    assert_int_equal(ctr.c[LW_DNS_malformed], 0);
    assert_int_equal(ctr.c[LW_DNS_queries], 0);
}

static void test_parse_truncated(void **state)
{
    (void)state;
    uint8_t m[512];
    size_t n = build_query(m, sizeof(m), 1, 0x01, "mail.example.org", 15);
    lw_dns_question q;
    lw_dns_counters ctr = {{0}};
    /* every cut short of the whole message is malformed, and reads nothing past it */
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *h = malloc(cut ? cut : 1);
        memcpy(h, m, cut);
        assert_false(lw_dns_parse_query(cut ? h : NULL, cut, &q, &ctr));
        free(h);
    }
    assert_int_equal(ctr.c[LW_DNS_malformed], n);
    assert_true(lw_dns_parse_query(m, n, &q, &ctr));
}

static void test_parse_compression(void **state)
{
    (void)state;
    lw_dns_question q;
    lw_dns_counters ctr = {{0}};
    uint8_t m[64] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    size_t n = 12;
    /* a question name that points at itself: a loop */
    m[n++] = 0xc0, m[n++] = 12, m[n++] = 0, m[n++] = 1, m[n++] = 0, m[n++] = 1;
    assert_false(lw_dns_parse_query(m, n, &q, &ctr));
    assert_int_equal(ctr.c[LW_DNS_malformed], 1);

    /* a label then a pointer back to that label: a loop through the label */
    n = 12;
    m[n++] = 1, m[n++] = 'a', m[n++] = 0xc0, m[n++] = 12, m[n++] = 0, m[n++] = 1, m[n++] = 0,
    m[n++] = 1;
    assert_false(lw_dns_parse_query(m, n, &q, &ctr));
    assert_int_equal(ctr.c[LW_DNS_malformed], 2);

    /* a forward pointer */
    n = 12;
    m[n++] = 0xc0, m[n++] = 20, m[n++] = 0, m[n++] = 1, m[n++] = 0, m[n++] = 1;
    m[n++] = 0, m[n++] = 0, m[n++] = 3, memcpy(m + n, "com", 3), n += 3, m[n++] = 0;
    assert_false(lw_dns_parse_query(m, n, &q, &ctr));
    /* a pointer into the header */
    n = 12;
    m[n++] = 0xc0, m[n++] = 2, m[n++] = 0, m[n++] = 1, m[n++] = 0, m[n++] = 1;
    assert_false(lw_dns_parse_query(m, n, &q, &ctr));
    /* extended label types */
    n = 12;
    m[n++] = 0x41, m[n++] = 0, m[n++] = 0, m[n++] = 1, m[n++] = 0, m[n++] = 1;
    assert_false(lw_dns_parse_query(m, n, &q, &ctr));
    assert_int_equal(ctr.c[LW_DNS_malformed], 5);

    /* the question is the first name after the header, so a pointer in it can only lead back
     * into the name itself: 12: 3 "www" ptr->12 loops */
    uint8_t w[64] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    n = 12;
    w[n++] = 3, memcpy(w + n, "www", 3), n += 3;
    w[n++] = 0xc0, w[n++] = 12; /* back to 12: loops */
    assert_false(lw_dns_parse_query(w, n + 4, &q, &ctr));
}

static void test_parse_name_too_long(void **state)
{
    (void)state;
    char name[400];
    size_t len = 0;
    /* 4 labels of 63 = 4 * 64 + 1 = 257 wire bytes: too long */
    for (int i = 0; i < 4; i++) {
        if (i) name[len++] = '.';
        memset(name + len, 'a' + i, 63);
        len += 63;
    }
    name[len] = 0;
    uint8_t m[600];
    size_t n = build_query(m, sizeof(m), 1, 0x01, name, 1);
    lw_dns_question q;
    lw_dns_counters ctr = {{0}};
    assert_false(lw_dns_parse_query(m, n, &q, &ctr));
    assert_int_equal(ctr.c[LW_DNS_malformed], 1);
    /* 3 x 63 + 61 = 255 wire bytes: the longest allowed, 253 characters dotted */
    name[63 * 3 + 3 + 61] = 0;
    n = build_query(m, sizeof(m), 1, 0x01, name, 1);
    assert_true(lw_dns_parse_query(m, n, &q, &ctr));
    assert_int_equal(strlen(q.dotted), 253);
    assert_int_equal(q.joined_len, 250);
}

static void test_registered_domain(void **state)
{
    (void)state;
    size_t rest;
    assert_string_equal(lw_dns_registered_domain("example.com", &rest), "example.com");
    assert_int_equal(rest, 0);
    assert_string_equal(lw_dns_registered_domain("www.example.com", &rest), "example.com");
    assert_int_equal(rest, 3);
    assert_string_equal(lw_dns_registered_domain("a.b.example.co.uk", &rest), "example.co.uk");
    assert_int_equal(rest, 3);
    assert_string_equal(lw_dns_registered_domain("foo.com.au", &rest), "foo.com.au");
    assert_int_equal(rest, 0);
    assert_string_equal(lw_dns_registered_domain("x.foo.com.au", &rest), "foo.com.au");
    assert_int_equal(rest, 1);
    assert_string_equal(lw_dns_registered_domain("x.FOO.CO.JP", &rest), "FOO.CO.JP");
    /* a generic second level under a generic TLD is not special */
    assert_string_equal(lw_dns_registered_domain("a.b.co.com", &rest), "co.com");
    assert_int_equal(rest, 3);
    /* a two-letter TLD without a generic second level */
    assert_string_equal(lw_dns_registered_domain("a.b.example.de", &rest), "example.de");
    assert_string_equal(lw_dns_registered_domain("co.uk", &rest), "co.uk");
    assert_int_equal(rest, 0);
    assert_string_equal(lw_dns_registered_domain("localhost", &rest), "localhost");
    assert_int_equal(rest, 0);
    assert_string_equal(lw_dns_registered_domain("", &rest), "");
    assert_int_equal(rest, 0);
    assert_string_equal(lw_dns_registered_domain("a.b.c", NULL), "b.c");
}

/* ------------------------------------------------------------------ tunnel table */

static const uint8_t host_a[16] = {10, 0, 0, 1};
static const uint8_t host_b[16] = {10, 0, 0, 2};

/* A random-looking label of n characters, different for each seed. */
static void random_name(char *out, size_t cap, uint32_t seed, const char *domain)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint32_t x = seed * 2654435761u + 12345;
    size_t n = 0;
    for (int i = 0; i < 40; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        out[n++] = alpha[x % 36];
        if (i == 19) out[n++] = '.';
    }
    snprintf(out + n, cap - n, ".%s", domain);
}

static void test_tunnel_threshold_once(void **state)
{
    (void)state;
    lw_dns_tunnel *t = lw_dns_tunnel_new(64, 20, 3.5, 10);
    assert_non_null(t);
    lw_dns_counters ctr = {{0}};
    char name[128];
    bool suspect;
    int reported = 0;
    for (uint32_t i = 1; i <= 30; i++) {
        random_name(name, sizeof(name), i, "tunnel.example");
        uint32_t r = lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr);
        assert_true(suspect);
        if (r) {
            assert_int_equal(i, 10);
            assert_int_equal(r, 10);
            reported++;
        }
    }
    assert_int_equal(reported, 1);
    assert_int_equal(ctr.c[LW_DNS_suspect_names], 30);

    /* the same names from another host, and under another domain, count apart */
    for (uint32_t i = 1; i <= 10; i++) {
        random_name(name, sizeof(name), i, "tunnel.example");
        uint32_t r = lw_dns_tunnel_feed(t, 4, host_b, name, &suspect, &ctr);
        assert_int_equal(r, i == 10 ? 10 : 0);
        random_name(name, sizeof(name), i, "other.example.co.uk");
        r = lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr);
        assert_int_equal(r, i == 10 ? 10 : 0);
    }
    /* an IPv6 host whose first four bytes equal host_a's is another host */
    uint8_t v6[16] = {10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
    random_name(name, sizeof(name), 1, "tunnel.example");
    assert_int_equal(lw_dns_tunnel_feed(t, 6, v6, name, &suspect, &ctr), 0);
    assert_int_equal(ctr.c[LW_DNS_tunnel_evicted], 0);
    lw_dns_tunnel_free(t);
}

static void test_tunnel_repeats_and_case(void **state)
{
    (void)state;
    lw_dns_tunnel *t = lw_dns_tunnel_new(8, 20, 3.5, 3);
    lw_dns_counters ctr = {{0}};
    char name[128];
    bool suspect;
    random_name(name, sizeof(name), 77, "tunnel.example");
    /* one name retried (resolvers, 0x20 case randomisation) counts once */
    for (int i = 0; i < 10; i++) {
        if (i & 1)
            for (char *p = name; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        else
            for (char *p = name; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr), 0);
        assert_true(suspect);
    }
    random_name(name, sizeof(name), 78, "TUNNEL.example");
    assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr), 0);
    random_name(name, sizeof(name), 79, "tunnel.EXAMPLE");
    assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr), 3);
    lw_dns_tunnel_free(t);
}

static void test_tunnel_not_suspect(void **state)
{
    (void)state;
    lw_dns_tunnel *t = lw_dns_tunnel_new(8, 20, 3.5, 1);
    lw_dns_counters ctr = {{0}};
    bool suspect = true;
    static const char *const benign[] = {
        "www.example.com",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com", /* long, no entropy */
        "abababababababababababababababab.example.com",
        "mail.google.com",
        "x7k2.example.com", /* random but short */
        "example.com",
        "a1b2c3d4e5f6g7h8i9j0k.com.au", /* all of it is the registered domain */
        "",
    };
    for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++) {
        assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, benign[i], &suspect, &ctr), 0);
        assert_false(suspect);
    }
    assert_int_equal(ctr.c[LW_DNS_suspect_names], 0);
    assert_int_equal(lw_dns_tunnel_feed(NULL, 4, host_a, "x", &suspect, &ctr), 0);
    assert_int_equal(lw_dns_tunnel_feed(t, 4, NULL, "x", NULL, NULL), 0);
    lw_dns_tunnel_free(t);
    lw_dns_tunnel_free(NULL);
}

static void test_tunnel_lru_eviction(void **state)
{
    (void)state;
    lw_dns_tunnel *t = lw_dns_tunnel_new(2, 20, 3.5, 3);
    lw_dns_counters ctr = {{0}};
    char name[128];
    bool suspect;
    uint32_t seed = 1;
    /* pairs A (a.example) and B (b.example) with two names each */
    for (int i = 0; i < 2; i++) {
        random_name(name, sizeof(name), seed++, "a.example");
        assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr), 0);
        random_name(name, sizeof(name), seed++, "b.example");
        assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr), 0);
    }
    /* A is used again (most recent), then C evicts B, the least recently used */
    random_name(name, sizeof(name), seed++, "a.example");
    assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr), 3);
    random_name(name, sizeof(name), seed++, "c.example");
    assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr), 0);
    assert_int_equal(ctr.c[LW_DNS_tunnel_evicted], 1);
    /* B starts from zero again: two more names do not reach 3 */
    random_name(name, sizeof(name), seed++, "b.example");
    assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr), 0);
    assert_int_equal(ctr.c[LW_DNS_tunnel_evicted], 2); /* evicted A (C was newer) */
    random_name(name, sizeof(name), seed++, "b.example");
    assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr), 0);
    random_name(name, sizeof(name), seed++, "b.example");
    assert_int_equal(lw_dns_tunnel_feed(t, 4, host_a, name, &suspect, &ctr), 3);
    assert_int_equal(ctr.c[LW_DNS_tunnel_evicted], 2);
    /* many pairs through a tiny table */
    for (int i = 0; i < 200; i++) {
        char dom[32];
        snprintf(dom, sizeof(dom), "d%d.example", i);
        random_name(name, sizeof(name), seed++, dom);
        lw_dns_tunnel_feed(t, 4, host_b, name, &suspect, &ctr);
    }
    assert_int_equal(ctr.c[LW_DNS_tunnel_evicted], 202);
    lw_dns_tunnel_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_plain),
        cmocka_unit_test(test_parse_not_query),
        cmocka_unit_test(test_parse_truncated),
        cmocka_unit_test(test_parse_compression),
        cmocka_unit_test(test_parse_name_too_long),
        cmocka_unit_test(test_registered_domain),
        cmocka_unit_test(test_tunnel_threshold_once),
        cmocka_unit_test(test_tunnel_repeats_and_case),
        cmocka_unit_test(test_tunnel_not_suspect),
        cmocka_unit_test(test_tunnel_lru_eviction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
