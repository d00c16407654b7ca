/*
 * test_cidr.c — CIDR parsing edge cases and prefix-set membership.
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

#include "leakwatch/cidr.h"

static lw_cidr parse_ok(const char *text)
{
    lw_cidr c;
    char err[256] = "";
    if (!lw_cidr_parse(text, &c, err, sizeof(err))) fail_msg("'%s' rejected: %s", text, err);
    return c;
}

static void expect_bad(const char *text, const char *fragment)
{
    lw_cidr c;
    char err[256] = "";
    if (lw_cidr_parse(text, &c, err, sizeof(err))) fail_msg("'%s' accepted", text);
    if (!strstr(err, fragment)) fail_msg("'%s': error '%s' lacks '%s'", text, err, fragment);
}

static void v4(const char *text, uint8_t out[16])
{
    memset(out, 0, 16);
    assert_int_equal(inet_pton(AF_INET, text, out), 1);
}

static void v6(const char *text, uint8_t out[16])
{
    assert_int_equal(inet_pton(AF_INET6, text, out), 1);
}

static bool has4(const lw_cidr_set *s, const char *text)
{
    uint8_t a[16];
    v4(text, a);
    return lw_cidr_set_contains(s, 4, a);
}

static bool has6(const lw_cidr_set *s, const char *text)
{
    uint8_t a[16];
    v6(text, a);
    return lw_cidr_set_contains(s, 6, a);
}

static lw_cidr_set *set_of(const char *csv)
{
    char err[256] = "";
    lw_cidr_set *s = lw_cidr_set_parse_list(csv, err, sizeof(err));
    if (!s) fail_msg("'%s' rejected: %s", csv, err);
    return s;
}

static void test_parse_valid_v4(void **state)
{
    (void)state;
    lw_cidr c = parse_ok("10.0.0.0/8");
    assert_int_equal(c.family, 4);
    assert_int_equal(c.prefix, 8);
    assert_int_equal(c.addr[0], 10);
    for (int i = 1; i < 16; i++) assert_int_equal(c.addr[i], 0);

    c = parse_ok("192.168.1.7"); /* bare address = /32 */
    assert_int_equal(c.prefix, 32);
    assert_int_equal(c.addr[3], 7);

    c = parse_ok("0.0.0.0/0");
    assert_int_equal(c.prefix, 0);

    c = parse_ok("255.255.255.255/32");
    assert_int_equal(c.addr[0], 255);
    assert_int_equal(c.addr[3], 255);

    /* host bits are masked, as most tools do */
    c = parse_ok("192.168.77.9/20");
    assert_int_equal(c.prefix, 20);
    assert_int_equal(c.addr[0], 192);
    assert_int_equal(c.addr[1], 168);
    assert_int_equal(c.addr[2], 64);
    assert_int_equal(c.addr[3], 0);

    char buf[64];
    assert_string_equal(lw_cidr_format(&c, buf, sizeof(buf)), "192.168.64.0/20");
}

static void test_parse_valid_v6(void **state)
{
    (void)state;
    lw_cidr c = parse_ok("fc00::/7");
    assert_int_equal(c.family, 6);
    assert_int_equal(c.prefix, 7);
    assert_int_equal(c.addr[0], 0xfc);

    c = parse_ok("fdff:1234::1/7"); /* masked to fc00::/7 */
    assert_int_equal(c.addr[0], 0xfc);
    for (int i = 1; i < 16; i++) assert_int_equal(c.addr[i], 0);

    c = parse_ok("2001:db8::1");
    assert_int_equal(c.prefix, 128);
    assert_int_equal(c.addr[15], 1);

    c = parse_ok("::/0");
    assert_int_equal(c.prefix, 0);

    /* IPv4-mapped is an IPv6 address, not IPv4 */
    c = parse_ok("::ffff:1.2.3.4");
    assert_int_equal(c.family, 6);
    assert_int_equal(c.prefix, 128);
    assert_int_equal(c.addr[10], 0xff);
    assert_int_equal(c.addr[11], 0xff);
    assert_int_equal(c.addr[12], 1);
    assert_int_equal(c.addr[15], 4);

    char buf[64];
    assert_string_equal(lw_cidr_format(&c, buf, sizeof(buf)), "::ffff:1.2.3.4/128");
}

static void test_parse_invalid(void **state)
{
    (void)state;
    expect_bad("10.0.0.0/33", "prefix length 0-32 for IPv4");
    expect_bad("fc00::/129", "prefix length 0-128 for IPv6");
    expect_bad("10.0.0.0/", "missing prefix length");
    expect_bad("10.0.0.0/-1", "prefix length 0-32");
    expect_bad("10.0.0.0/8/8", "prefix length 0-32");
    expect_bad("10.0.0.0/08", "prefix length 0-32");
    expect_bad("10.0.0.0/ 8", "prefix length 0-32");
    expect_bad("010.0.0.0/8", "without leading zeros");
    expect_bad("10.00.0.1", "without leading zeros");
    expect_bad("256.0.0.0/8", "0-255");
    expect_bad("1.2.3", "four decimal octets");
    expect_bad("1.2.3.4.5", "four decimal octets");
    expect_bad("1.2.3.", "four decimal octets");
    expect_bad("1..2.3", "four decimal octets");
    expect_bad("1.2.3.4 ", "four decimal octets");
    expect_bad(" 1.2.3.4", "four decimal octets");
    expect_bad("0x0a.0.0.0", "four decimal octets");
    expect_bad("1111.0.0.0", "four decimal octets");
    expect_bad("garbage", "'garbage' is not a valid CIDR");
    expect_bad("", "not a valid CIDR");
    expect_bad("/8", "four decimal octets");
    expect_bad("fe80::1%eth0", "IPv6");
    expect_bad("[::1]", "IPv6");
    expect_bad("fc00:::/7", "IPv6");
    expect_bad("1:2:3:4:5:6:7:8:9", "IPv6");
    expect_bad("gggg::/16", "IPv6");

    /* an overlong text is cut short in the message instead of overflowing it */
    char longtext[400];
    memset(longtext, '9', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = '\0';
    char err[128];
    lw_cidr c;
    assert_false(lw_cidr_parse(longtext, &c, err, sizeof(err)));
    assert_true(strlen(err) < sizeof(err));
    assert_false(lw_cidr_parse(NULL, &c, err, sizeof(err)));
}

static void test_set_prefix_edges(void **state)
{
    (void)state;
    lw_cidr_set *s = set_of("172.16.0.0/12");
    assert_true(has4(s, "172.16.0.0"));      /* first */
    assert_true(has4(s, "172.31.255.255"));  /* last */
    assert_false(has4(s, "172.15.255.255")); /* just below */
    assert_false(has4(s, "172.32.0.0"));     /* just above */
    lw_cidr_set_free(s);

    s = set_of("10.1.2.3"); /* /32 */
    assert_true(has4(s, "10.1.2.3"));
    assert_false(has4(s, "10.1.2.2"));
    assert_false(has4(s, "10.1.2.4"));
    lw_cidr_set_free(s);

    s = set_of("2001:db8::/32");
    assert_true(has6(s, "2001:db8::"));
    assert_true(has6(s, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_false(has6(s, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_false(has6(s, "2001:db9::"));
    lw_cidr_set_free(s);

    s = set_of("2001:db8::1/128");
    assert_true(has6(s, "2001:db8::1"));
    assert_false(has6(s, "2001:db8::2"));
    assert_false(has6(s, "2001:db8::"));
    lw_cidr_set_free(s);
}

static void test_set_zero_prefix(void **state)
{
    (void)state;
    lw_cidr_set *s = set_of("0.0.0.0/0");
    assert_true(has4(s, "0.0.0.0"));
    assert_true(has4(s, "255.255.255.255"));
    assert_false(has6(s, "::")); /* /0 of IPv4 says nothing about IPv6 */
    lw_cidr_set_free(s);

    s = set_of("::/0");
    assert_true(has6(s, "::"));
    assert_true(has6(s, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_false(has4(s, "1.2.3.4"));
    lw_cidr_set_free(s);
}

static void test_set_overlapping(void **state)
{
    (void)state;
    /* a narrow prefix before and after a wider one covering it, and duplicates */
    lw_cidr_set *s = set_of("10.20.30.0/24,10.0.0.0/8,10.20.0.0/16,10.0.0.0/8,11.0.0.1");
    assert_int_equal(lw_cidr_set_count(s), 5);
    assert_true(has4(s, "10.0.0.0"));
    assert_true(has4(s, "10.20.30.40"));
    assert_true(has4(s, "10.255.255.255"));
    assert_true(has4(s, "11.0.0.1"));
    assert_false(has4(s, "11.0.0.0"));
    assert_false(has4(s, "11.0.0.2"));
    assert_false(has4(s, "9.255.255.255"));
    lw_cidr_set_free(s);

    /* adjacent prefixes do not leak into their neighbours */
    s = set_of("192.168.0.0/24, 192.168.2.0/24");
    assert_true(has4(s, "192.168.0.255"));
    assert_false(has4(s, "192.168.1.0"));
    assert_false(has4(s, "192.168.1.255"));
    assert_true(has4(s, "192.168.2.0"));
    lw_cidr_set_free(s);
}

static void test_set_families_not_confused(void **state)
{
    (void)state;
    lw_cidr_set *s = set_of("10.0.0.0/8");
    /* an IPv6 address whose first byte is 10 is not in 10.0.0.0/8 */
    uint8_t a[16] = {10, 0, 0, 1};
    assert_true(lw_cidr_set_contains(s, 4, a));
    assert_false(lw_cidr_set_contains(s, 6, a));
    assert_false(lw_cidr_set_contains(s, 0, a)); /* not IP */
    assert_false(lw_cidr_set_contains(s, 5, a));
    assert_false(has6(s, "::ffff:10.0.0.1")); /* mapped form stays IPv6 */
    lw_cidr_set_free(s);

    s = set_of("fc00::/7");
    uint8_t b[16] = {0xfc, 0, 0, 1};
    assert_true(lw_cidr_set_contains(s, 6, b));
    assert_false(lw_cidr_set_contains(s, 4, b));
    lw_cidr_set_free(s);

    assert_false(lw_cidr_set_contains(NULL, 4, a));
}

static void test_default_home_net(void **state)
{
    (void)state;
    lw_cidr_set *s = set_of(LW_DEFAULT_HOME_NET);
    assert_int_equal(lw_cidr_set_count(s), 5);
    assert_true(has4(s, "10.0.0.0"));
    assert_true(has4(s, "10.255.255.255"));
    assert_false(has4(s, "11.0.0.0"));
    assert_true(has4(s, "172.16.0.1"));
    assert_true(has4(s, "172.31.255.255"));
    assert_false(has4(s, "172.32.0.0"));
    assert_true(has4(s, "192.168.0.0"));
    assert_false(has4(s, "192.169.0.0"));
    assert_false(has4(s, "192.167.255.255"));
    assert_true(has4(s, "100.64.0.0"));
    assert_true(has4(s, "100.127.255.255"));
    assert_false(has4(s, "100.128.0.0"));
    assert_false(has4(s, "100.63.255.255"));
    assert_true(has6(s, "fc00::"));
    assert_true(has6(s, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_false(has6(s, "fe00::"));
    assert_false(has6(s, "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_false(has4(s, "8.8.8.8"));
    assert_false(has4(s, "198.51.100.9"));
    assert_false(has6(s, "2001:db8::1"));
    lw_cidr_set_free(s);
}

static void test_parse_list_errors(void **state)
{
    (void)state;
    char err[256];
    assert_null(lw_cidr_set_parse_list("10.0.0.0/8,,fc00::/7", err, sizeof(err)));
    assert_non_null(strstr(err, "empty entry"));
    assert_null(lw_cidr_set_parse_list("10.0.0.0/8,", err, sizeof(err)));
    assert_non_null(strstr(err, "empty entry"));
    assert_null(lw_cidr_set_parse_list("", err, sizeof(err)));
    assert_non_null(strstr(err, "empty entry"));
    assert_null(lw_cidr_set_parse_list("10.0.0.0/8,10.0.0.0/33", err, sizeof(err)));
    assert_string_equal(err, "'10.0.0.0/33' is not a valid CIDR (prefix length 0-32 for IPv4)");
}

static void test_many_prefixes(void **state)
{
    (void)state;
    /* grows the node array many times; every added /32 is a member, its neighbours not */
    lw_cidr_set *s = lw_cidr_set_new();
    assert_non_null(s);
    for (uint32_t i = 0; i < 20000; i++) {
        lw_cidr c = {.family = 4, .prefix = 32};
        uint32_t ip = 0x0A000000u + i * 2u; /* 10.0.0.0, 10.0.0.2, ... */
        c.addr[0] = (uint8_t)(ip >> 24);
        c.addr[1] = (uint8_t)(ip >> 16);
        c.addr[2] = (uint8_t)(ip >> 8);
        c.addr[3] = (uint8_t)ip;
        assert_true(lw_cidr_set_add(s, &c));
    }
    for (uint32_t i = 0; i < 40000; i++) {
        uint32_t ip = 0x0A000000u + i;
        uint8_t a[16] = {(uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8), (uint8_t)ip};
        assert_int_equal(lw_cidr_set_contains(s, 4, a), (i % 2) == 0);
    }
    lw_cidr bad = {.family = 5, .prefix = 8};
    assert_false(lw_cidr_set_add(s, &bad));
    lw_cidr toolong = {.family = 4, .prefix = 33};
    assert_false(lw_cidr_set_add(s, &toolong));
    lw_cidr_set_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid_v4),
        cmocka_unit_test(test_parse_valid_v6),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_set_prefix_edges),
        cmocka_unit_test(test_set_zero_prefix),
        cmocka_unit_test(test_set_overlapping),
        cmocka_unit_test(test_set_families_not_confused),
        cmocka_unit_test(test_default_home_net),
        cmocka_unit_test(test_parse_list_errors),
        cmocka_unit_test(test_many_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
