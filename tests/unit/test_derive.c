/*
 * test_derive.c — derived layers (derive.h): the /urlencoded and /json sub-layers opened at
 * the first changed byte with the text before it replayed, base64 runs in the decoded text
 * emitted only when they decode to text, short runs ignored, runs split across data() calls,
 * and every chunking of the input giving the same parts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "leakwatch/derive.h"

#define MAX_PARTS 8
#define PART_MAX 16384

typedef struct rec_part {
    char layer[LW_LAYER_MAX + 8];
    char filename[LW_FILENAME_MAX];
    bool has_filename;
    uint8_t data[PART_MAX];
    size_t len;
    bool ended;
} rec_part;

/* What one sink received. */
typedef struct rec {
    rec_part part[MAX_PARTS];
    int n;
    bool open;
} rec;

static void rec_begin(void *user, const lw_part_info *info)
{
    rec *r = user;
    assert_false(r->open);
    assert_true(r->n < MAX_PARTS);
    rec_part *p = &r->part[r->n++];
    memset(p, 0, sizeof(*p));
    assert_true(strlen(info->layer) < LW_LAYER_MAX);
    strcpy(p->layer, info->layer);
    p->has_filename = info->filename != NULL;
    if (info->filename) snprintf(p->filename, sizeof(p->filename), "%s", info->filename);
    assert_false(info->identity);
    r->open = true;
}

static void rec_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    rec *r = user;
    assert_true(r->open);
    assert_true(len > 0);
    assert_true(raw == LW_NO_RAW);
    rec_part *p = &r->part[r->n - 1];
    assert_true(p->len + len <= PART_MAX);
    memcpy(p->data + p->len, data, len);
    p->len += len;
}

static void rec_end(void *user)
{
    rec *r = user;
    assert_true(r->open);
    r->part[r->n - 1].ended = true;
    r->open = false;
}

/* One run of a deriver over a whole body. */
typedef struct result {
    rec text, b64;
    lw_derive_counters ctr;
    lw_codec_counters codec;
} result;

static result *res_new(void)
{
    result *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    return r;
}

static lw_derive *deriver(result *r, bool text_sink, size_t min_b64)
{
    lw_part_sink text = {rec_begin, rec_data, rec_end, NULL, NULL, &r->text};
    lw_part_sink b64 = {rec_begin, rec_data, rec_end, NULL, NULL, &r->b64};
    if (!text_sink) text.begin = NULL;
    lw_derive *d = lw_derive_new(&text, &b64, true, min_b64, &r->ctr, &r->codec);
    assert_non_null(d);
    return d;
}

/* Feeds body in pieces of `chunk` bytes as one part of the given kind. */
static result *derive_opts(enum lw_text_kind kind, const char *body, size_t len, size_t chunk,
                           bool text_sink, size_t min_b64)
{
    result *r = res_new();
    lw_derive *d = deriver(r, text_sink, min_b64);
    lw_derive_begin(d, "http.request.body", NULL, kind);
    for (size_t off = 0; off < len; off += chunk)
        lw_derive_data(d, (const uint8_t *)body + off, len - off < chunk ? len - off : chunk);
    lw_derive_end(d);
    lw_derive_free(d);
    assert_false(r->text.open);
    assert_false(r->b64.open);
    return r;
}

static result *derive(enum lw_text_kind kind, const char *body, size_t chunk)
{
    return derive_opts(kind, body, strlen(body), chunk, true, 0);
}

static void assert_part(const rec *r, int i, const char *layer, const void *data, size_t len)
{
    assert_true(i < r->n);
    assert_string_equal(r->part[i].layer, layer);
    assert_true(r->part[i].ended);
    if (r->part[i].len != len || memcmp(r->part[i].data, data, len) != 0)
        fail_msg("part %d (%s): got \"%.*s\"", i, layer, (int)r->part[i].len,
                 (const char *)r->part[i].data);
}

static void assert_part_str(const rec *r, int i, const char *layer, const char *data)
{
    assert_part(r, i, layer, data, strlen(data));
}

/* A form body: the sub-layer starts with the replayed "user=a" before the first escape. */
static void test_form_urlencoded(void **state)
{
    (void)state;
    const char *body = "user=a%40b.com&key=AKIAIOSFODNN7EXAMPLE";
    for (size_t chunk = 1; chunk <= strlen(body); chunk++) {
        result *r = derive(LW_TEXT_FORM, body, chunk);
        assert_int_equal(r->text.n, 1);
        assert_part_str(&r->text, 0, "http.request.body/urlencoded",
                        "user=a@b.com&key=AKIAIOSFODNN7EXAMPLE");
        assert_int_equal(r->ctr.c[LW_DERIVE_text_parts], 1);
        /* the key is a 20-character run that does not decode to text */
        assert_int_equal(r->b64.n, 0);
        assert_int_equal(r->ctr.c[LW_DERIVE_b64_not_text], 1);
        assert_int_equal(r->ctr.c[LW_DERIVE_b64_short], 5); /* user a b com key */
        free(r);
    }
}

static void test_form_context_is_capped(void **state)
{
    (void)state;
    char body[1200], want[LW_DERIVE_CONTEXT + 16];
    strcpy(body, "a=");
    memset(body + 2, 'x', 1000);
    strcpy(body + 1002, ".&b=%41+z");
    /* the text before the change: "a=" 1000 x ".&b=" (1006 bytes); the last 256 replayed */
    memcpy(want, body + 1006 - LW_DERIVE_CONTEXT, LW_DERIVE_CONTEXT);
    strcpy(want + LW_DERIVE_CONTEXT, "A z");
    static const size_t chunks[] = {1, 3, 255, 256, 257, 1000, 5000};
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        result *r = derive(LW_TEXT_FORM, body, chunks[i]);
        assert_int_equal(r->text.n, 1);
        assert_part_str(&r->text, 0, "http.request.body/urlencoded", want);
        free(r);
    }
}

static void test_no_change_no_sublayer(void **state)
{
    (void)state;
    result *r = derive(LW_TEXT_FORM, "a=b&c=d&bad=%zz", 4);
    assert_int_equal(r->text.n, 0);
    assert_int_equal(r->ctr.c[LW_DERIVE_text_parts], 0);
    assert_int_equal(r->codec.c[LW_CODEC_pct_invalid], 1);
    free(r);
    r = derive(LW_TEXT_JSON, "{\"a\":\"plain\",\"n\":[1,2]}", 5);
    assert_int_equal(r->text.n, 0);
    free(r);
    r = derive(LW_TEXT_OTHER, "a%41+b \\u0041", 5);
    assert_int_equal(r->text.n, 0);
    free(r);
}

static void test_json_unicode_escapes(void **state)
{
    (void)state;
    const char *body = "{\"name\":\"\\u0041lice\",\"pass\":\"s\\u0065cret\"}";
    for (size_t chunk = 1; chunk <= strlen(body); chunk++) {
        result *r = derive(LW_TEXT_JSON, body, chunk);
        assert_int_equal(r->text.n, 1);
        assert_part_str(&r->text, 0, "http.request.body/json",
                        "{\"name\":\"Alice\",\"pass\":\"secret\"}");
        assert_int_equal(r->codec.c[LW_CODEC_json_invalid], 0);
        free(r);
    }
}

/* A lone high surrogate at the very end changes the text only when the part ends. */
static void test_json_change_at_end(void **state)
{
    (void)state;
    result *r = derive(LW_TEXT_JSON, "{\"a\":\"x\\ud800", 3);
    assert_int_equal(r->text.n, 1);
    assert_part_str(&r->text, 0, "http.request.body/json", "{\"a\":\"x\xef\xbf\xbd");
    assert_int_equal(r->codec.c[LW_CODEC_json_invalid], 1);
    free(r);
}

#define FOX "The quick brown fox jumps over the lazy dog"
#define FOX_B64 "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZw=="

static void test_json_base64_text_value(void **state)
{
    (void)state;
    const char *body = "{\"note\":\"" FOX_B64 "\",\"n\":1}";
    for (size_t chunk = 1; chunk <= strlen(body); chunk++) {
        result *r = derive(LW_TEXT_JSON, body, chunk);
        assert_int_equal(r->text.n, 0);
        assert_int_equal(r->b64.n, 1);
        assert_part_str(&r->b64, 0, "http.request.body/base64", FOX);
        assert_int_equal(r->ctr.c[LW_DERIVE_b64_runs], 1);
        assert_int_equal(r->ctr.c[LW_DERIVE_b64_bytes], strlen(FOX));
        assert_int_equal(r->ctr.c[LW_DERIVE_b64_not_text], 0);
        free(r);
    }
}

/* base64 with '+' and '/' that JSON wrote as "\/": found in the unescaped text. */
#define SUBJ "Subject: <<>>??~~ hello world >>>> ???? done"
#define SUBJ_B64_JSON "U3ViamVjdDogPDw+Pj8\\/fn4gaGVsbG8gd29ybGQgPj4+PiA\\/Pz8\\/IGRvbmU="

static void test_json_base64_in_unescaped_text(void **state)
{
    (void)state;
    const char *body = "{\"s\":\"" SUBJ_B64_JSON "\"}";
    for (size_t chunk = 1; chunk <= strlen(body); chunk++) {
        result *r = derive(LW_TEXT_JSON, body, chunk);
        assert_int_equal(r->text.n, 1);
        assert_part_str(&r->text, 0, "http.request.body/json",
                        "{\"s\":\"U3ViamVjdDogPDw+Pj8/fn4gaGVsbG8gd29ybGQgPj4+PiA/Pz8/IGRvbmU=\"}");
        assert_int_equal(r->b64.n, 1);
        assert_part_str(&r->b64, 0, "http.request.body/json/base64", SUBJ);
        free(r);
    }
}

/* A form value percent-encoded ('+' '/' '=' as %2B %2F %3D), and a URL-safe run. */
static void test_form_base64_value(void **state)
{
    (void)state;
    const char *body = "q=U3ViamVjdDogPDw%2BPj8%2Ffn4gaGVsbG8gd29ybGQgPj4%2BPiA%2FPz8%2FIGRvbmU%3D"
                       "&u=U3ViamVjdDogPDw-Pj8_fn4gaGVsbG8gd29ybGQgPj4-PiA_Pz8_IGRvbmU";
    for (size_t chunk = 1; chunk <= strlen(body); chunk++) {
        result *r = derive(LW_TEXT_FORM, body, chunk);
        assert_int_equal(r->text.n, 1);
        assert_int_equal(r->b64.n, 2);
        assert_part_str(&r->b64, 0, "http.request.body/urlencoded/base64", SUBJ);
        assert_part_str(&r->b64, 1, "http.request.body/urlencoded/base64", SUBJ);
        free(r);
    }
}

/* Deterministic bytes that are not text. */
static void random_b64(char *out, size_t nbytes)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t x = 12345;
    uint8_t b[3];
    size_t n = 0;
    for (size_t i = 0; i < nbytes; i += 3) {
        for (int k = 0; k < 3; k++) {
            x = x * 1103515245u + 12345u;
            b[k] = (uint8_t)(x >> 16);
        }
        uint32_t v = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
        for (int k = 3; k >= 0; k--) out[n++] = A[(v >> (6 * k)) & 63];
    }
    out[n] = '\0';
}

static void test_random_bytes_not_emitted(void **state)
{
    (void)state;
    char run[1300], body[1400];
    static const size_t sizes[] = {15, 30, 48, 96, 900};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        random_b64(run, sizes[i]);
        snprintf(body, sizeof(body), "{\"key\":\"%s\"}", run);
        for (size_t chunk = 1; chunk < 70; chunk += 7) {
            result *r = derive(LW_TEXT_JSON, body, chunk);
            assert_int_equal(r->b64.n, 0);
            assert_int_equal(r->ctr.c[LW_DERIVE_b64_not_text], 1);
            assert_int_equal(r->ctr.c[LW_DERIVE_b64_runs], 0);
            free(r);
        }
    }
}

static void test_short_runs_ignored(void **state)
{
    (void)state;
    /* "SGVsbG8=" is "Hello" but 7 characters: too short */
    result *r = derive(LW_TEXT_OTHER, "token: SGVsbG8= ok", 4);
    assert_int_equal(r->b64.n, 0);
    assert_int_equal(r->ctr.c[LW_DERIVE_b64_short], 3);
    assert_int_equal(r->ctr.c[LW_DERIVE_b64_not_text], 0);
    free(r);
    /* 16 characters: long enough ("Hello, world") */
    r = derive(LW_TEXT_OTHER, "x SGVsbG8sIHdvcmxk y", 4);
    assert_int_equal(r->b64.n, 1);
    assert_part_str(&r->b64, 0, "http.request.body/base64", "Hello, world");
    free(r);
    /* 15 characters are not */
    r = derive(LW_TEXT_OTHER, "x SGVsbG8sIHdvcmx y", 4);
    assert_int_equal(r->b64.n, 0);
    free(r);
}

/* Header text: base64 after "Basic " and inside "?B?" encoded-words is the header decoder's
 * (it names its own layer); other runs in headers are still decoded. Split anywhere. */
static void test_header_skips_decoded_runs(void **state)
{
    (void)state;
    /* "Hello, world" */
    const char *hdr = "Authorization: Basic SGVsbG8sIHdvcmxk\n"
                      "Subject: =?UTF-8?B?SGVsbG8sIHdvcmxk?=\n"
                      "X-Data: SGVsbG8sIHdvcmxk\n";
    for (size_t chunk = 1; chunk <= 7; chunk += 3) {
        result *r = derive(LW_TEXT_HEADER, hdr, chunk);
        assert_int_equal(r->b64.n, 1);
        assert_part_str(&r->b64, 0, "http.request.body/base64", "Hello, world");
        free(r);
    }
    /* the same text as OTHER decodes all three */
    result *r = derive(LW_TEXT_OTHER, hdr, 5);
    assert_int_equal(r->b64.n, 3);
    free(r);
}

/* A long run (many times the probe) split over many data() calls, between other text. */
static void test_run_split_across_calls(void **state)
{
    (void)state;
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char text[601], body[1000];
    for (int i = 0; i < 600; i++) text[i] = (char)(' ' + (i * 7) % 95);
    text[600] = '\0';
    size_t n = 0;
    n += (size_t)sprintf(body, "prefix: ");
    for (int i = 0; i < 600; i += 3) {
        uint32_t v = (uint32_t)(uint8_t)text[i] << 16 | (uint32_t)(uint8_t)text[i + 1] << 8 |
                     (uint8_t)text[i + 2];
        for (int k = 3; k >= 0; k--) body[n++] = A[(v >> (6 * k)) & 63];
    }
    strcpy(body + n, " and then " FOX_B64 "\r\n");
    for (size_t chunk = 1; chunk <= strlen(body); chunk++) {
        result *r = derive(LW_TEXT_OTHER, body, chunk);
        assert_int_equal(r->b64.n, 2);
        assert_part(&r->b64, 0, "http.request.body/base64", text, 600);
        assert_part_str(&r->b64, 1, "http.request.body/base64", FOX);
        assert_int_equal(r->ctr.c[LW_DERIVE_b64_bytes], 600 + strlen(FOX));
        assert_int_equal(r->codec.c[LW_CODEC_b64_partial], 0);
        free(r);
    }
}

static void test_min_b64_option(void **state)
{
    (void)state;
    const char *body = "a " FOX_B64 " b";
    result *r = derive_opts(LW_TEXT_OTHER, body, strlen(body), 7, true, 100);
    assert_int_equal(r->b64.n, 0); /* 58 characters < 100 */
    assert_int_equal(r->ctr.c[LW_DERIVE_b64_short], 3);
    free(r);
    char big[400];
    snprintf(big, sizeof(big), "%s",
             "x VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZy4g"
             "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZy4g"
             "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZy4= y");
    for (size_t chunk = 1; chunk < 200; chunk += 13) {
        r = derive_opts(LW_TEXT_OTHER, big, strlen(big), chunk, true, 100);
        assert_int_equal(r->b64.n, 1);
        assert_part_str(&r->b64, 0, "http.request.body/base64", FOX ". " FOX ". " FOX ".");
        free(r);
    }
}

/* Without a text sink the sub-layer is not emitted, but runs still know where they were. */
static void test_text_sink_not_emitting(void **state)
{
    (void)state;
    const char *body = "{\"s\":\"" SUBJ_B64_JSON "\"}";
    result *r = derive_opts(LW_TEXT_JSON, body, strlen(body), 9, false, 0);
    assert_int_equal(r->text.n, 0);
    assert_int_equal(r->ctr.c[LW_DERIVE_text_parts], 0);
    assert_int_equal(r->b64.n, 1);
    assert_part_str(&r->b64, 0, "http.request.body/json/base64", SUBJ);
    free(r);
}

static void test_lifecycle(void **state)
{
    (void)state;
    result *r = res_new();
    lw_derive *d = deriver(r, true, 0);
    lw_derive_end(d); /* nothing open */
    lw_derive_data(d, (const uint8_t *)"x", 1);
    char layer[200];
    memset(layer, 'L', sizeof(layer) - 1);
    layer[sizeof(layer) - 1] = '\0';
    lw_derive_begin(d, layer, "report.txt", LW_TEXT_FORM);
    lw_derive_data(d, (const uint8_t *)"a=%41&b=" FOX_B64, 8 + strlen(FOX_B64));
    /* a new part ends the open one (and its run) */
    lw_derive_begin(d, "second", NULL, LW_TEXT_OTHER);
    assert_int_equal(r->text.n, 1);
    assert_true(r->text.part[0].ended);
    assert_int_equal((int)strlen(r->text.part[0].layer), LW_LAYER_MAX - 1);
    assert_string_equal(r->text.part[0].filename, "report.txt");
    assert_int_equal(r->b64.n, 1);
    assert_true(r->b64.part[0].ended);
    assert_string_equal(r->b64.part[0].filename, "report.txt");
    lw_derive_data(d, (const uint8_t *)FOX_B64, strlen(FOX_B64));
    lw_derive_end(d);
    lw_derive_end(d);
    assert_int_equal(r->b64.n, 2);
    assert_part_str(&r->b64, 1, "second/base64", FOX);
    assert_false(r->b64.part[1].has_filename);
    lw_derive_free(d);
    lw_derive_free(NULL);
    /* find_b64 false: no runs */
    lw_part_sink sink = {rec_begin, rec_data, rec_end, NULL, NULL, &r->b64};
    d = lw_derive_new(&sink, &sink, false, 0, &r->ctr, &r->codec);
    assert_non_null(d);
    lw_derive_begin(d, "x", NULL, LW_TEXT_OTHER);
    lw_derive_data(d, (const uint8_t *)FOX_B64, strlen(FOX_B64));
    lw_derive_end(d);
    assert_int_equal(r->b64.n, 2);
    lw_derive_free(d);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_urlencoded),
        cmocka_unit_test(test_form_context_is_capped),
        cmocka_unit_test(test_no_change_no_sublayer),
        cmocka_unit_test(test_json_unicode_escapes),
        cmocka_unit_test(test_json_change_at_end),
        cmocka_unit_test(test_json_base64_text_value),
        cmocka_unit_test(test_json_base64_in_unescaped_text),
        cmocka_unit_test(test_form_base64_value),
        cmocka_unit_test(test_random_bytes_not_emitted),
        cmocka_unit_test(test_short_runs_ignored),
        cmocka_unit_test(test_header_skips_decoded_runs),
        cmocka_unit_test(test_run_split_across_calls),
        cmocka_unit_test(test_min_b64_option),
        cmocka_unit_test(test_text_sink_not_emitting),
        cmocka_unit_test(test_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
