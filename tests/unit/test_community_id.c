/*
 * test_community_id.c — Community ID v1 against the spec's published values.
 *
 * A representative set of vectors from corelight/community-id-spec's baseline (and the
 * reference implementation's seeded and one-way ICMP cases) is hard-coded and checked in
 * both directions; when the shared test captures are present, every entry of the whole
 * baseline JSON is checked too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakwatch/community_id.h"

static uint8_t parse_addr(const char *s, lw_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (strchr(s, ':')) {
        assert_int_equal(inet_pton(AF_INET6, s, a->b), 1);
        return 6;
    }
    assert_int_equal(inet_pton(AF_INET, s, a->b), 1);
    return 4;
}

static void check(uint8_t proto, const char *saddr, const char *daddr, uint16_t sport,
                  uint16_t dport, uint16_t seed, const char *want)
{
    lw_addr s, d;
    uint8_t v = parse_addr(saddr, &s);
    assert_int_equal(parse_addr(daddr, &d), v);
    char out[LW_COMMUNITY_ID_LEN];
    memset(out, 'x', sizeof(out));
    lw_community_id(v, proto, &s, &d, sport, dport, seed, out);
    if (strcmp(out, want) != 0)
        fail_msg("proto %u %s:%u -> %s:%u seed %u: got %s, want %s", proto, saddr, sport, daddr,
                 dport, seed, out, want);
}

/* A flow's id must not depend on which side is called the source. */
static void check_both(uint8_t proto, const char *a, const char *b, uint16_t pa, uint16_t pb,
                       const char *want)
{
    check(proto, a, b, pa, pb, 0, want);
    check(proto, b, a, pb, pa, 0, want);
}

static void test_tcp_udp_sctp(void **state)
{
    (void)state;
    check_both(6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    check_both(6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
               "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
    check_both(17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
    check_both(132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=");
    /* Ports are hashed as 16-bit big-endian values (pycommunityid issue #3). */
    check_both(6, "10.0.0.1", "10.0.0.2", 10, 11569, "1:SXBGMX1lBOwhhoDrZynfROxnhnM=");
}

static void test_seed(void **state)
{
    (void)state;
    check(6, "128.232.110.120", "66.35.250.204", 34855, 80, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=");
    check(6, "66.35.250.204", "128.232.110.120", 80, 34855, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=");
    check(17, "192.168.1.52", "8.8.8.8", 54585, 53, 1, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=");
}

static void test_icmp(void **state)
{
    (void)state;
    /* Echo request (8,0) and reply (0,0): one id; the reply's code is ignored. */
    check(1, "192.168.0.89", "192.168.0.1", 8, 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
    check(1, "192.168.0.1", "192.168.0.89", 0, 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
    check(1, "192.168.0.1", "192.168.0.89", 0, 20, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
    /* Port-equivalent form as the baseline lists it gives the same (the mapping is idempotent). */
    check(1, "192.168.0.1", "192.168.0.89", 0, 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
    /* One-way types keep their direction and their code. */
    check(1, "10.0.0.1", "10.0.0.2", 11, 0, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=");
    check(1, "192.168.0.89", "192.168.0.1", 20, 0, 0, "1:3o2RFccXzUgjl7zDpqmY7yJi8rI=");
    check(1, "192.168.0.89", "192.168.0.1", 20, 1, 0, "1:tz/fHIDUHs19NkixVVoOZywde+I=");
}

static void test_icmp6(void **state)
{
    (void)state;
    /* Neighbor solicitation/advertisement pair, in both pairings the baseline lists. */
    check(58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, 0,
          "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
    check(58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, 0,
          "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
    check(58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 0, 0,
          "1:zavyT/cezQr1fmImYCwYnMXbgck=");
    check(58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 0, 0,
          "1:zavyT/cezQr1fmImYCwYnMXbgck=");
    /* Router solicitation to all-routers, advertisement to all-nodes: different flows. */
    check(58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, 0, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=");
    check(58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, 0, "1:pkvHqCL88/tg1k4cPigmZXUtL00=");
    /* Echo request/reply. */
    check_both(58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129,
               "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=");
    check(58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 0, 0,
          "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=");
    /* One-way: time exceeded, destination unreachable; reversing changes the id. */
    check(58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, 0,
          "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=");
    check(58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, 0,
          "1:hLZd0XGWojozrvxqE0dWB1iM6R0=");
    check(58, "3ffe:507:0:1:260:97ff:fe07:69ea", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, 0,
          "1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=");
    check(58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:507:0:1:260:97ff:fe07:69ea", 3, 0, 0,
          "1:/OGBt9BN1ofenrmSPWYicpij2Vc=");
}

static void test_portless(void **state)
{
    (void)state;
    /* RSVP (46) has no ports: the ports passed in must not enter the hash. */
    check_both(46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
    check_both(46, "10.1.12.1", "10.1.12.2", 1234, 99, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
    check_both(46, "10.1.24.4", "10.1.12.1", 0, 0, "1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=");
}

static void test_icmp_port_map(void **state)
{
    (void)state;
    uint16_t s, d;
    assert_false(lw_community_icmp_ports(1, 8, 0, &s, &d));
    assert_int_equal(s, 8);
    assert_int_equal(d, 0);
    assert_false(lw_community_icmp_ports(1, 0, 5, &s, &d));
    assert_int_equal(s, 0);
    assert_int_equal(d, 8);
    assert_false(lw_community_icmp_ports(1, 10, 0, &s, &d)); /* router solicitation */
    assert_int_equal(d, 9);
    assert_true(lw_community_icmp_ports(1, 3, 1, &s, &d)); /* unreachable: one-way */
    assert_int_equal(s, 3);
    assert_int_equal(d, 1);
    assert_false(lw_community_icmp_ports(58, 144, 0, &s, &d));
    assert_int_equal(d, 145);
    assert_true(lw_community_icmp_ports(58, 8, 0, &s, &d)); /* v4 echo type means nothing in v6 */
    assert_false(lw_community_icmp_ports(6, 1234, 80, &s, &d));
    assert_int_equal(s, 1234);
    assert_int_equal(d, 80);
}

static void test_bad_version(void **state)
{
    (void)state;
    lw_addr a = {{1, 2, 3, 4}}, b = {{5, 6, 7, 8}};
    char out[LW_COMMUNITY_ID_LEN] = "garbage";
    lw_community_id(0, 6, &a, &b, 1, 2, 0, out);
    assert_string_equal(out, "");
    lw_community_id(5, 6, &a, &b, 1, 2, 0, out);
    assert_string_equal(out, "");
}

/* Value of "key": in one JSON object (a number, null, or a string without escapes). */
static bool json_field(const char *obj, const char *end, const char *key, char *val, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(obj, pat);
    if (!p || p >= end) return false;
    p += strlen(pat);
    while (*p == ' ') p++;
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (p < end && *p != '"' && n + 1 < cap) val[n++] = *p++;
    } else {
        while (p < end && *p != ',' && *p != '}' && *p != ' ' && n + 1 < cap) val[n++] = *p++;
    }
    val[n] = '\0';
    return n > 0;
}

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            assert_non_null(nb);
            buf = nb;
        }
        size_t got = fread(buf + len, 1, 4096, fp);
        len += got;
        if (got == 0) break;
    }
    fclose(fp);
    buf[len] = '\0';
    return buf;
}

static void test_whole_baseline(void **state)
{
    (void)state;
    const char *dir = getenv("LW_SHARED_DIR");
    if (!dir) dir = "/work/shared";
    char path[1024];
    snprintf(path, sizeof(path), "%s/pcaps/communityid/baseline_deflt.json", dir);
    char *json = read_file(path);
    if (!json) skip();

    int entries = 0;
    for (const char *o = strchr(json, '{'); o; o = strchr(o + 1, '{')) {
        const char *end = strchr(o, '}');
        assert_non_null(end);
        char proto[8], saddr[64], daddr[64], sport[16], dport[16], want[64];
        assert_true(json_field(o, end, "proto", proto, sizeof(proto)));
        assert_true(json_field(o, end, "saddr", saddr, sizeof(saddr)));
        assert_true(json_field(o, end, "daddr", daddr, sizeof(daddr)));
        assert_true(json_field(o, end, "communityid", want, sizeof(want)));
        assert_true(json_field(o, end, "sport", sport, sizeof(sport)));
        assert_true(json_field(o, end, "dport", dport, sizeof(dport)));
        uint16_t sp = strcmp(sport, "null") ? (uint16_t)atoi(sport) : 0;
        uint16_t dp = strcmp(dport, "null") ? (uint16_t)atoi(dport) : 0;
        check((uint8_t)atoi(proto), saddr, daddr, sp, dp, 0, want);
        entries++;
    }
    free(json);
    assert_true(entries >= 20); /* the spec's baseline has 23 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_udp_sctp), cmocka_unit_test(test_seed),
        cmocka_unit_test(test_icmp),         cmocka_unit_test(test_icmp6),
        cmocka_unit_test(test_portless),     cmocka_unit_test(test_icmp_port_map),
        cmocka_unit_test(test_bad_version),  cmocka_unit_test(test_whole_baseline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
