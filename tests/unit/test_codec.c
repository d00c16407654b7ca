/*
 * test_codec.c — the streaming decoders of codec.h on known vectors (RFC 4648 base64, RFC
 * 2045 quoted-printable, percent-encoding with '+', JSON escapes with surrogate pairs and lone
 * surrogates) in every chunking from one byte up, with invalid input counted; and RFC 2047
 * encoded-words (B and Q, adjacent words, underscores, cut output).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "leakwatch/codec.h"

/* One streaming decoder behind a common face; opt is plus_space for percent-decoding. */
typedef struct codec_ops {
    void (*init)(void *st, bool opt);
    size_t (*decode)(void *st, const uint8_t *in, size_t len, uint8_t *out, lw_codec_counters *ctr);
    size_t (*finish)(void *st, uint8_t *out, lw_codec_counters *ctr);
} codec_ops;

typedef union any_state {
    lw_b64 b64;
    lw_qp qp;
    lw_pct pct;
    lw_json_unesc json;
} any_state;

static void b64_init(void *st, bool opt)
{
    (void)opt;
    lw_b64_init(st);
}
static size_t b64_dec(void *st, const uint8_t *in, size_t len, uint8_t *out, lw_codec_counters *ctr)
{
    return lw_b64_decode(st, in, len, out, ctr);
}
static size_t b64_fin(void *st, uint8_t *out, lw_codec_counters *ctr)
{
    (void)out;
    lw_b64_finish(st, ctr);
    return 0;
}
static void qp_init(void *st, bool opt)
{
    (void)opt;
    lw_qp_init(st);
}
static size_t qp_dec(void *st, const uint8_t *in, size_t len, uint8_t *out, lw_codec_counters *ctr)
{
    return lw_qp_decode(st, in, len, out, ctr);
}
static size_t qp_fin(void *st, uint8_t *out, lw_codec_counters *ctr)
{
    return lw_qp_finish(st, out, ctr);
}
static void pct_init(void *st, bool opt)
{
    lw_pct_init(st, opt);
}
static size_t pct_dec(void *st, const uint8_t *in, size_t len, uint8_t *out, lw_codec_counters *ctr)
{
    return lw_pct_decode(st, in, len, out, ctr);
}
static size_t pct_fin(void *st, uint8_t *out, lw_codec_counters *ctr)
{
    return lw_pct_finish(st, out, ctr);
}
static void json_init(void *st, bool opt)
{
    (void)opt;
    lw_json_unesc_init(st);
}
static size_t json_dec(void *st, const uint8_t *in, size_t len, uint8_t *out,
                       lw_codec_counters *ctr)
{
    return lw_json_unesc_decode(st, in, len, out, ctr);
}
static size_t json_fin(void *st, uint8_t *out, lw_codec_counters *ctr)
{
    return lw_json_unesc_finish(st, out, ctr);
}

static const codec_ops B64 = {b64_init, b64_dec, b64_fin};
static const codec_ops QP = {qp_init, qp_dec, qp_fin};
static const codec_ops PCT = {pct_init, pct_dec, pct_fin};
static const codec_ops JSON = {json_init, json_dec, json_fin};

/* Decodes in[0..len) in pieces of `chunk` bytes, each piece into a heap buffer of exactly
 * LW_CODEC_OUT_MAX(piece) bytes (so ASan sees any write past the documented bound). */
static size_t run(const codec_ops *ops, bool opt, const uint8_t *in, size_t len, size_t chunk,
                  uint8_t *res, lw_codec_counters *ctr, any_state *st)
{
    size_t n = 0;
    ops->init(st, opt);
    for (size_t off = 0; off < len; off += chunk) {
        size_t k = len - off < chunk ? len - off : chunk;
        uint8_t *out = malloc(LW_CODEC_OUT_MAX(k));
        assert_non_null(out);
        size_t m = ops->decode(st, in + off, k, out, ctr);
        assert_true(m <= LW_CODEC_OUT_MAX(k));
        memcpy(res + n, out, m);
        n += m;
        free(out);
    }
    uint8_t *out = malloc(8);
    assert_non_null(out);
    size_t m = ops->finish(st, out, ctr);
    assert_true(m <= 8);
    memcpy(res + n, out, m);
    free(out);
    return n + m;
}

/* in decodes to want (want_len bytes) with counter `which` at `count` and every other counter
 * zero, in every chunking. */
static void expect_n(const codec_ops *ops, bool opt, const char *in, const char *want,
                     size_t want_len, int which, uint64_t count)
{
    size_t len = strlen(in);
    lw_codec_counters exp = {{0}};
    if (which >= 0) exp.c[which] = count;
    uint8_t *res = malloc(len + 16);
    assert_non_null(res);
    for (size_t chunk = 1; chunk <= (len ? len : 1); chunk++) {
        lw_codec_counters ctr = {{0}};
        any_state st;
        size_t n = run(ops, opt, (const uint8_t *)in, len, chunk, res, &ctr, &st);
        if (n != want_len || memcmp(res, want, want_len) != 0)
            fail_msg("input \"%s\" chunk %zu: got \"%.*s\" (%zu bytes)", in, chunk, (int)n,
                     (const char *)res, n);
        for (int i = 0; i < LW_CODEC__COUNT; i++)
            if (ctr.c[i] != exp.c[i])
                fail_msg("input \"%s\" chunk %zu: counter %s = %llu", in, chunk,
                         lw_codec_counter_names[i], (unsigned long long)ctr.c[i]);
    }
    free(res);
}

static void expect(const codec_ops *ops, bool opt, const char *in, const char *want, int which,
                   uint64_t count)
{
    expect_n(ops, opt, in, want, strlen(want), which, count);
}

static void test_b64_rfc4648_vectors(void **state)
{
    (void)state;
    static const char *vec[][2] = {{"", ""},
                                   {"Zg==", "f"},
                                   {"Zm8=", "fo"},
                                   {"Zm9v", "foo"},
                                   {"Zm9vYg==", "foob"},
                                   {"Zm9vYmE=", "fooba"},
                                   {"Zm9vYmFy", "foobar"}};
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++)
        expect(&B64, false, vec[i][0], vec[i][1], -1, 0);
    /* unpadded endings (RFC 4648 §3.2) */
    expect(&B64, false, "Zg", "f", -1, 0);
    expect(&B64, false, "Zm8", "fo", -1, 0);
}

static void test_b64_alphabets_and_whitespace(void **state)
{
    (void)state;
    expect(&B64, false, "Zm9v\r\nYmFy\r\n", "foobar", -1, 0);
    expect(&B64, false, " Zm 9v\tYm\nFy ", "foobar", -1, 0);
    expect(&B64, false, "+/+/", "\xfb\xff\xbf", -1, 0);
    expect(&B64, false, "-_-_", "\xfb\xff\xbf", -1, 0);
    expect(&B64, false, "+_-/", "\xfb\xff\xbf", -1, 0);
    expect(&B64, false, "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZw==",
           "The quick brown fox jumps over the lazy dog", -1, 0);
}

static void test_b64_invalid_counted(void **state)
{
    (void)state;
    expect(&B64, false, "Zm9v!YmFy", "foobar", LW_CODEC_b64_invalid, 1);
    expect(&B64, false, "Z*m*9*v", "foo", LW_CODEC_b64_invalid, 3);
    expect(&B64, false, "Zm9vY", "foo", LW_CODEC_b64_partial, 1);  /* one char of a quantum */
    expect(&B64, false, "Zm9vY=", "foo", LW_CODEC_b64_partial, 1); /* padded the same */
    expect(&B64, false, "Zh==", "f", LW_CODEC_b64_partial, 1);     /* leftover bits not zero */
    expect(&B64, false, "Zh", "f", LW_CODEC_b64_partial, 1);
    expect(&B64, false, "=", "", LW_CODEC_b64_invalid, 1);
    /* '=' ends the content: what follows is ignored, not counted */
    expect(&B64, false, "Zg==Zm9v!!", "f", -1, 0);
}

static void test_qp_rfc2045(void **state)
{
    (void)state;
    expect(&QP, false, "Now's the time =\r\nfor all folk to come=\r\n to the aid of their country.",
           "Now's the time for all folk to come to the aid of their country.", -1, 0);
    expect(&QP, false, "=3D=3d", "==", -1, 0);
    expect(&QP, false, "caf=C3=A9\r\nline 2=\nend", "caf\xc3\xa9\r\nline 2end", -1, 0);
    expect(&QP, false, "plain text\r\n", "plain text\r\n", -1, 0);
}

static void test_qp_invalid_kept(void **state)
{
    (void)state;
    expect(&QP, false, "a=ZZb", "a=ZZb", LW_CODEC_qp_invalid, 1);
    expect(&QP, false, "a=4Zb", "a=4Zb", LW_CODEC_qp_invalid, 1);
    expect(&QP, false, "a=\rb", "a=\rb", LW_CODEC_qp_invalid, 1);
    expect(&QP, false, "==41", "=A", LW_CODEC_qp_invalid, 1);
    expect(&QP, false, "=4=41", "=4A", LW_CODEC_qp_invalid, 1);
    /* held back at the end: written by finish */
    expect(&QP, false, "end=", "end=", LW_CODEC_qp_invalid, 1);
    expect(&QP, false, "end=4", "end=4", LW_CODEC_qp_invalid, 1);
    expect(&QP, false, "end=\r", "end=\r", LW_CODEC_qp_invalid, 1);
}

static void test_percent(void **state)
{
    (void)state;
    expect(&PCT, true, "user=a%40b.com&x=%e2%82%AC", "user=a@b.com&x=\xe2\x82\xac", -1, 0);
    expect(&PCT, true, "a+b%2Bc", "a b+c", -1, 0);
    expect(&PCT, false, "a+b%2Bc", "a+b+c", -1, 0);
    expect(&PCT, true, "%zz%4", "%zz%4", LW_CODEC_pct_invalid, 2);
    expect(&PCT, true, "%%41", "%A", LW_CODEC_pct_invalid, 1);
    expect(&PCT, true, "%4%41", "%4A", LW_CODEC_pct_invalid, 1);
    expect(&PCT, true, "100%", "100%", LW_CODEC_pct_invalid, 1);
    expect_n(&PCT, true, "a%00b", "a\0b", 3, -1, 0);
}

static bool pct_changed(const char *in, bool plus)
{
    lw_pct p;
    uint8_t out[64];
    lw_pct_init(&p, plus);
    lw_pct_decode(&p, (const uint8_t *)in, strlen(in), out, NULL);
    lw_pct_finish(&p, out, NULL);
    return p.changed;
}

static void test_percent_changed(void **state)
{
    (void)state;
    assert_false(pct_changed("plain=text&x=y", true));
    assert_false(pct_changed("a+b", false));
    assert_true(pct_changed("a+b", true));
    assert_false(pct_changed("bad%zz%", true));
    assert_true(pct_changed("x%41", false));
}

#define FFFD "\xef\xbf\xbd"

static void test_json_escapes(void **state)
{
    (void)state;
    expect(&JSON, false, "{\"k\":\"\\u0041\\u00e9\\u20AC\"}", "{\"k\":\"A\xc3\xa9\xe2\x82\xac\"}",
           -1, 0);
    expect(&JSON, false, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\"\\/\b\f\n\r\t\"", -1, 0);
    expect_n(&JSON, false, "\"a\\u0000b\"", "\"a\0b\"", 5, -1, 0);
    /* outside strings nothing is unescaped */
    expect(&JSON, false, "\\u0041 {\"a\":\"\\u0042\"} \\n", "\\u0041 {\"a\":\"B\"} \\n", -1, 0);
    /* an escaped quote does not end the string */
    expect(&JSON, false, "[\"a\\\"b\\u0043\"]", "[\"a\"bC\"]", -1, 0);
}

static void test_json_surrogates(void **state)
{
    (void)state;
    expect(&JSON, false, "\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"", -1, 0);
    expect(&JSON, false, "\"\\uD834\\uDD1E\"", "\"\xf0\x9d\x84\x9e\"", -1, 0);
    expect(&JSON, false, "\"\\udbff\\udfff\"", "\"\xf4\x8f\xbf\xbf\"", -1, 0);
    /* lone surrogates */
    expect(&JSON, false, "\"\\ud800x\"", "\"" FFFD "x\"", LW_CODEC_json_invalid, 1);
    expect(&JSON, false, "\"\\udc00\"", "\"" FFFD "\"", LW_CODEC_json_invalid, 1);
    expect(&JSON, false, "\"\\ud800\\u0041\"", "\"" FFFD "A\"", LW_CODEC_json_invalid, 1);
    expect(&JSON, false, "\"\\ud800\\n\"", "\"" FFFD "\n\"", LW_CODEC_json_invalid, 1);
    expect(&JSON, false, "\"\\ud800\\ud83d\\ude00\"", "\"" FFFD "\xf0\x9f\x98\x80\"",
           LW_CODEC_json_invalid, 1);
    expect(&JSON, false, "\"\\ud800\\ud800\"", "\"" FFFD FFFD "\"", LW_CODEC_json_invalid, 2);
}

static void test_json_invalid_kept(void **state)
{
    (void)state;
    expect(&JSON, false, "\"\\x\\u12G4\"", "\"\\x\\u12G4\"", LW_CODEC_json_invalid, 2);
    expect(&JSON, false, "\"\\u12\"", "\"\\u12\"", LW_CODEC_json_invalid, 1);
    expect(&JSON, false, "\"\\ud800\\u12\"", "\"" FFFD "\\u12\"", LW_CODEC_json_invalid, 2);
    expect(&JSON, false, "\"\\ud800\\x\"", "\"" FFFD "\\x\"", LW_CODEC_json_invalid, 2);
    /* held back at the end: written by finish */
    expect(&JSON, false, "\"abc\\", "\"abc\\", LW_CODEC_json_invalid, 1);
    expect(&JSON, false, "\"\\u12", "\"\\u12", LW_CODEC_json_invalid, 1);
    expect(&JSON, false, "\"\\ud800", "\"" FFFD, LW_CODEC_json_invalid, 1);
    expect(&JSON, false, "\"\\ud800\\", "\"" FFFD "\\", LW_CODEC_json_invalid, 2);
    expect(&JSON, false, "\"\\ud83d\\ude0", "\"" FFFD "\\ude0", LW_CODEC_json_invalid, 2);
}

static int dec2047(const char *in, char *out, size_t cap, lw_codec_counters *ctr)
{
    return lw_rfc2047_decode(in, strlen(in), out, cap, ctr);
}

static void expect2047(const char *in, const char *want, int words, uint64_t invalid)
{
    char out[256];
    lw_codec_counters ctr = {{0}};
    int n = dec2047(in, out, sizeof(out), &ctr);
    if (strcmp(out, want) != 0) fail_msg("\"%s\" decoded to \"%s\"", in, out);
    assert_int_equal(n, words);
    assert_int_equal(ctr.c[LW_CODEC_rfc2047_invalid], invalid);
}

static void test_rfc2047_examples(void **state)
{
    (void)state;
    /* RFC 2047 §8 */
    expect2047("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", "Keith Moore <moore@cs.utk.edu>", 1,
               0);
    expect2047("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
               "Andr\xe9 Pirard <PIRARD@vm1.ulg.ac.be>", 1, 0);
    expect2047("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n "
               "=?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
               "If you can read this you understand the example.", 2, 0);
    expect2047("(=?ISO-8859-1?Q?a?=)", "(a)", 1, 0);
    expect2047("(=?ISO-8859-1?Q?a?= b)", "(a b)", 1, 0);
    expect2047("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)", 2, 0);
    expect2047("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)", 2, 0);
    expect2047("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)", 2, 0);
    expect2047("(=?ISO-8859-1?Q?a_b?=)", "(a b)", 1, 0);
    expect2047("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)", 2, 0);
    expect2047("=?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4sIHNjaMO2bmUgR3LDvMOfZSE=?=",
               "Gr\xc3\xbc\xc3\x9f"
               "e aus K\xc3\xb6ln, sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9f"
               "e!",
               1, 0);
    expect2047("plain subject, no words", "plain subject, no words", 0, 0);
    expect2047("a =? b ?= c", "a =? b ?= c", 0, 0);
    expect2047("=?utf-8?Q?\?= x", " x", 1, 0);
}

static void test_rfc2047_invalid_kept(void **state)
{
    (void)state;
    expect2047("=?utf-8?X?abc?=", "=?utf-8?X?abc?=", 0, 1);
    expect2047("=?utf-8?B?@@@@?=", "=?utf-8?B?@@@@?=", 0, 1);
    expect2047("=?utf-8?Q?a=ZZ?=", "=?utf-8?Q?a=ZZ?=", 0, 1);
    expect2047("=?utf-8?B?SGVsbG8", "=?utf-8?B?SGVsbG8", 0, 1); /* cut before "?=" */
    /* whitespace before a word that does not decode is kept */
    expect2047("=?utf-8?Q?a?= =?utf-8?Q?b=Z?=", "a =?utf-8?Q?b=Z?=", 1, 1);
    expect2047("=?utf-8?Q?a?= =?utf-8?Q?b?= x =?utf-8?Q?c?=", "ab x c", 3, 0);
}

static void test_rfc2047_cut_output(void **state)
{
    (void)state;
    char out[8];
    memset(out, 'X', sizeof(out));
    lw_codec_counters ctr = {{0}};
    int n = dec2047("=?utf-8?Q?Hello_World?= and more", out, sizeof(out), &ctr);
    assert_int_equal(n, 1);
    assert_string_equal(out, "Hello W");
    n = dec2047("=?utf-8?Q?Hi?=", out, 1, &ctr);
    assert_int_equal(n, 1);
    assert_string_equal(out, "");
    n = dec2047("=?utf-8?Q?Hi?=", NULL, 0, &ctr); /* no room at all: nothing written */
    assert_int_equal(n, 1);
    assert_int_equal(ctr.c[LW_CODEC_rfc2047_invalid], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_rfc4648_vectors),
        cmocka_unit_test(test_b64_alphabets_and_whitespace),
        cmocka_unit_test(test_b64_invalid_counted),
        cmocka_unit_test(test_qp_rfc2045),
        cmocka_unit_test(test_qp_invalid_kept),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_percent_changed),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_json_surrogates),
        cmocka_unit_test(test_json_invalid_kept),
        cmocka_unit_test(test_rfc2047_examples),
        cmocka_unit_test(test_rfc2047_invalid_kept),
        cmocka_unit_test(test_rfc2047_cut_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
