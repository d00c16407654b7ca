/*
 * test_mime.c — the MIME engine of mime.h on whole messages and HTTP multipart bodies:
 * quoted-printable and base64 parts, RFC 2047 headers, RFC 2231 file names, nested multiparts
 * and message/rfc822, the depth guard, missing boundaries, unterminated multiparts, raw offsets
 * of identity parts, form-data, and byte-at-a-time feeding giving the same parts as one call.
 * A recording sink keeps every part (layer, file name, flags, bytes and each byte's raw offset)
 * and checks that begin/data/end come in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "leakwatch/mime.h"

#define MAX_PARTS 64
#define MAX_BYTES 65536

typedef struct rec_part {
    char layer[LW_LAYER_MAX];
    char filename[LW_FILENAME_MAX];
    bool has_filename, identity, opaque;
    enum lw_text_kind kind;
    uint8_t bytes[MAX_BYTES];
    uint64_t raw[MAX_BYTES]; /* raw offset of each byte (LW_NO_RAW when unknown) */
    size_t len;
} rec_part;

typedef struct rec {
    rec_part parts[MAX_PARTS];
    int nparts, guards;
    bool open;
    char guard_kind[64];
} rec;

static void r_begin(void *user, const lw_part_info *info)
{
    rec *r = user;
    assert_false(r->open);
    assert_true(r->nparts < MAX_PARTS);
    rec_part *p = &r->parts[r->nparts++];
    memset(p, 0, offsetof(rec_part, bytes));
    p->len = 0;
    assert_true(strlen(info->layer) < LW_LAYER_MAX);
    strcpy(p->layer, info->layer);
    if (info->filename) {
        assert_true(strlen(info->filename) < LW_FILENAME_MAX);
        strcpy(p->filename, info->filename);
        p->has_filename = true;
    }
    p->identity = info->identity;
    p->kind = info->kind;
    p->opaque = info->opaque;
    r->open = true;
}

static void r_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    rec *r = user;
    assert_true(r->open);
    assert_true(len > 0 && len <= 8192);
    rec_part *p = &r->parts[r->nparts - 1];
    assert_true(p->len + len <= MAX_BYTES);
    for (size_t i = 0; i < len; i++) {
        p->bytes[p->len] = data[i];
        p->raw[p->len++] = raw == LW_NO_RAW ? LW_NO_RAW : raw + i;
    }
}

static void r_end(void *user)
{
    rec *r = user;
    assert_true(r->open);
    r->open = false;
}

static void r_guard(void *user, const char *kind, const char *message)
{
    rec *r = user;
    r->guards++;
    snprintf(r->guard_kind, sizeof(r->guard_kind), "%s", kind);
    assert_non_null(message);
}

static void r_message(void *user)
{
    (void)user;
    fail_msg("lw_mime must not call sink->message");
}

typedef struct run {
    rec *r;
    lw_mime_counters ctr;
    lw_codec_counters codec;
} run;

/* Feeds msg in pieces of `step` bytes (0: one call) at raw offset `raw` (LW_NO_RAW: none). */
static run *feed(const char *prefix, const char *ctype, uint32_t depth, const char *msg,
                 size_t step, uint64_t raw)
{
    run *u = calloc(1, sizeof(*u));
    assert_non_null(u);
    u->r = calloc(1, sizeof(*u->r));
    assert_non_null(u->r);
    lw_part_sink sink = {r_begin, r_data, r_end, r_guard, r_message, u->r};
    lw_mime *m = lw_mime_new(prefix, ctype, depth, &sink, &u->ctr, &u->codec);
    assert_non_null(m);
    size_t len = strlen(msg);
    if (step == 0) step = len ? len : 1;
    for (size_t i = 0; i < len; i += step) {
        size_t k = len - i < step ? len - i : step;
        lw_mime_data(m, (const uint8_t *)msg + i, k, raw == LW_NO_RAW ? raw : raw + i);
    }
    lw_mime_end(m);
    assert_false(u->r->open);
    lw_mime_free(m);
    return u;
}

static run *feed_msg(const char *msg)
{
    return feed("smtp.mime", NULL, LW_MIME_DEPTH_DEFAULT, msg, 0, 0);
}

static void run_free(run *u)
{
    free(u->r);
    free(u);
}

static const rec_part *part(const run *u, int i)
{
    assert_true(i < u->r->nparts);
    return &u->r->parts[i];
}

static void assert_bytes(const rec_part *p, const char *want)
{
    size_t n = strlen(want);
    if (p->len != n || memcmp(p->bytes, want, n) != 0)
        fail_msg("part %s: got %zu bytes \"%.*s\", want \"%s\"", p->layer, p->len, (int)p->len,
                 (const char *)p->bytes, want);
}

/* The part's bytes are the input's at their raw offsets (base: the raw offset of msg[0]). */
static void assert_raw_exact(const rec_part *p, const char *msg, uint64_t base)
{
    size_t mlen = strlen(msg);
    for (size_t i = 0; i < p->len; i++) {
        assert_true(p->raw[i] != LW_NO_RAW);
        assert_true(p->raw[i] >= base && p->raw[i] - base < mlen);
        assert_int_equal(p->bytes[i], (uint8_t)msg[p->raw[i] - base]);
        if (i) assert_true(p->raw[i] == p->raw[i - 1] + 1);
    }
}

static int find_layer(const run *u, const char *layer, int from)
{
    for (int i = from; i < u->r->nparts; i++)
        if (strcmp(u->r->parts[i].layer, layer) == 0) return i;
    return -1;
}

/* ------------------------------------------------------------------ tests */

static void test_qp_body(void **state)
{
    (void)state;
    const char *msg = "From: a@example.com\r\n"
                      "Subject: plain\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: Quoted-Printable\r\n"
                      "\r\n"
                      "pin=3D1234 and a soft=\r\n"
                      "break=\n"
                      "s here\r\n";
    run *u = feed_msg(msg);
    assert_int_equal(u->r->nparts, 2);
    const rec_part *h = part(u, 0);
    assert_string_equal(h->layer, "smtp.mime.header");
    assert_true(h->identity);
    size_t hlen = (size_t)(strstr(msg, "\r\n\r\n") - msg) + 4;
    assert_int_equal(h->len, hlen);
    assert_memory_equal(h->bytes, msg, hlen);
    assert_int_equal(h->raw[0], 0);
    assert_raw_exact(h, msg, 0);
    const rec_part *b = part(u, 1);
    assert_string_equal(b->layer, "smtp.mime.body/quoted-printable");
    assert_false(b->identity);
    assert_false(b->has_filename);
    assert_int_equal(b->kind, LW_TEXT_OTHER);
    assert_bytes(b, "pin=1234 and a softbreaks here\r\n");
    assert_int_equal(b->raw[0], LW_NO_RAW);
    assert_int_equal(u->ctr.c[LW_MIME_messages], 1);
    assert_int_equal(u->ctr.c[LW_MIME_parts], 1);
    assert_int_equal(u->ctr.c[LW_MIME_attachments], 0);
    run_free(u);
}

static const char *mixed_b64 = "From: a@example.com\r\n"
                               "MIME-Version: 1.0\r\n"
                               "Content-Type: multipart/mixed;\r\n"
                               "\tBOUNDARY=\"=_outer 1\"\r\n"
                               "\r\n"
                               "This is the preamble.\r\n"
                               "--=_outer 1\r\n"
                               "Content-Type: text/plain\r\n"
                               "\r\n"
                               "see attached\r\n"
                               "--=_outer 1\r\n"
                               "Content-Type: application/octet-stream; name=\"ignored.bin\"\r\n"
                               "Content-Transfer-Encoding: BASE64\r\n"
                               "Content-Disposition: attachment; filename=\"report.txt\"\r\n"
                               "\r\n"
                               "c2VjcmV0IGFjY291bnQg\r\n"
                               "bnVtYmVyOiA0MTExMTExMTExMTExMTEx\r\n"
                               "--=_outer 1--\r\n"
                               "epilogue text\r\n";

static void test_base64_attachment(void **state)
{
    (void)state;
    run *u = feed_msg(mixed_b64);
    /* header, header, body, header, attachment */
    assert_int_equal(u->r->nparts, 5);
    assert_string_equal(part(u, 0)->layer, "smtp.mime.header");
    assert_string_equal(part(u, 1)->layer, "smtp.mime.header");
    assert_bytes(part(u, 1), "Content-Type: text/plain\r\n\r\n");
    assert_string_equal(part(u, 2)->layer, "smtp.mime.body");
    assert_bytes(part(u, 2), "see attached");
    assert_true(part(u, 2)->identity);
    const rec_part *a = part(u, 4);
    assert_string_equal(a->layer, "smtp.mime.attachment/base64");
    assert_true(a->has_filename);
    assert_string_equal(a->filename, "report.txt");
    assert_false(a->identity);
    assert_bytes(a, "secret account number: 4111111111111111");
    assert_int_equal(u->ctr.c[LW_MIME_parts], 2);
    assert_int_equal(u->ctr.c[LW_MIME_attachments], 1);
    assert_int_equal(u->ctr.c[LW_MIME_unterminated], 0);
    assert_int_equal(u->codec.c[LW_CODEC_b64_invalid], 0);
    for (int i = 0; i < u->r->nparts; i++) {
        const rec_part *p = part(u, i);
        assert_null(memmem(p->bytes, p->len, "preamble", 8));
        assert_null(memmem(p->bytes, p->len, "epilogue", 8));
    }
    run_free(u);
}

static void test_rfc2047_subject(void **state)
{
    (void)state;
    const char *msg = "From: =?ISO-8859-1?Q?Andr=E9?= <a@example.com>\r\n"
                      "To: b@example.com\r\n"
                      "Subject: =?UTF-8?B?w4lwaXF1ZQ==?=\r\n"
                      " =?UTF-8?Q?_salary_list?= for Q3\r\n"
                      "\r\n"
                      "body\r\n";
    run *u = feed_msg(msg);
    assert_int_equal(u->r->nparts, 3);
    assert_string_equal(part(u, 0)->layer, "smtp.mime.header");
    assert_true(part(u, 0)->identity);
    const rec_part *d = part(u, 1);
    assert_string_equal(d->layer, "smtp.mime.header/rfc2047");
    assert_false(d->identity);
    assert_bytes(d, "From: Andr\xe9 <a@example.com>\n"
                    "Subject: \xc3\x89pique salary list for Q3\n");
    assert_string_equal(part(u, 2)->layer, "smtp.mime.body");
    assert_bytes(part(u, 2), "body\r\n");
    run_free(u);

    /* no encoded-words: no extra part */
    u = feed_msg("Subject: =? not a word\r\n\r\nx");
    assert_int_equal(u->r->nparts, 2);
    assert_int_equal(find_layer(u, "smtp.mime.header/rfc2047", 0), -1);
    run_free(u);
}

static void test_rfc2231_filename(void **state)
{
    (void)state;
    const char *msg = "Content-Type: multipart/mixed; boundary=b1\r\n"
                      "\r\n"
                      "--b1\r\n"
                      "Content-Disposition: attachment;\r\n"
                      " filename*=UTF-8''na%C3%AFve%20plan.txt; filename=\"fallback.txt\"\r\n"
                      "\r\n"
                      "one\r\n"
                      "--b1\r\n"
                      "Content-Disposition: inline; FileName*0*=utf-8'en'long%20;\r\n"
                      " filename*1=\"name.pdf\"\r\n"
                      "\r\n"
                      "two\r\n"
                      "--b1\r\n"
                      "Content-Type: text/plain; name=\"=?UTF-8?Q?r=C3=A9sum=C3=A9?=.txt\"\r\n"
                      "\r\n"
                      "three\r\n"
                      "--b1--\r\n";
    run *u = feed_msg(msg);
    int i = find_layer(u, "smtp.mime.attachment", 0);
    assert_true(i >= 0);
    assert_string_equal(part(u, i)->filename, "na\xc3\xafve plan.txt");
    assert_bytes(part(u, i), "one");
    i = find_layer(u, "smtp.mime.attachment", i + 1);
    assert_true(i >= 0);
    assert_string_equal(part(u, i)->filename, "long name.pdf");
    assert_bytes(part(u, i), "two");
    i = find_layer(u, "smtp.mime.attachment", i + 1);
    assert_true(i >= 0);
    assert_string_equal(part(u, i)->filename, "r\xc3\xa9sum\xc3\xa9.txt");
    assert_bytes(part(u, i), "three");
    assert_true(part(u, i)->identity);
    assert_int_equal(u->ctr.c[LW_MIME_attachments], 3);
    run_free(u);
}

static const char *nested = "From: a@example.com\r\n"
                            "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                            "\r\n"
                            "--outer\r\n"
                            "Content-Type: multipart/alternative; boundary=inner\r\n"
                            "\r\n"
                            "--inner\r\n"
                            "Content-Type: text/plain\r\n"
                            "\r\n"
                            "plain text\r\n"
                            "\r\n"
                            "--inner\r\n"
                            "Content-Type: text/html\r\n"
                            "Content-Transfer-Encoding: quoted-printable\r\n"
                            "\r\n"
                            "<p class=3D\"x\">html</p>\r\n"
                            "--inner--\r\n"
                            "\r\n"
                            "--outer\r\n"
                            "Content-Type: application/json\r\n"
                            "Content-Disposition: attachment; filename=data.json\r\n"
                            "\r\n"
                            "{\"k\":1}\n"
                            "--outer--\r\n";

static void test_alternative_in_mixed(void **state)
{
    (void)state;
    run *u = feed_msg(nested);
    const char *want[] = {"smtp.mime.header", "smtp.mime.header",
                          "smtp.mime.header", "smtp.mime.body",
                          "smtp.mime.header", "smtp.mime.body/quoted-printable",
                          "smtp.mime.header", "smtp.mime.attachment"};
    assert_int_equal(u->r->nparts, 8);
    for (int i = 0; i < 8; i++) assert_string_equal(part(u, i)->layer, want[i]);
    assert_bytes(part(u, 1), "Content-Type: multipart/alternative; boundary=inner\r\n\r\n");
    assert_bytes(part(u, 3), "plain text\r\n"); /* the CRLF before "--inner" is not content */
    assert_bytes(part(u, 5), "<p class=\"x\">html</p>");
    assert_bytes(part(u, 7), "{\"k\":1}");
    assert_int_equal(part(u, 7)->kind, LW_TEXT_JSON);
    assert_string_equal(part(u, 7)->filename, "data.json");
    assert_int_equal(u->ctr.c[LW_MIME_parts], 3);
    assert_int_equal(u->ctr.c[LW_MIME_unterminated], 0);
    run_free(u);
}

static const char *rfc822 = "Subject: fwd\r\n"
                            "Content-Type: multipart/mixed; boundary=X\r\n"
                            "\r\n"
                            "--X\r\n"
                            "Content-Type: text/plain\r\n"
                            "\r\n"
                            "see below\r\n"
                            "--X\r\n"
                            "Content-Type: message/rfc822\r\n"
                            "\r\n"
                            "Subject: =?utf-8?q?inner_secret?=\r\n"
                            "Content-Type: text/plain\r\n"
                            "Content-Transfer-Encoding: base64\r\n"
                            "\r\n"
                            "aW5uZXIgYm9keQ==\r\n"
                            "--X--\r\n";

static void test_message_rfc822(void **state)
{
    (void)state;
    run *u = feed_msg(rfc822);
    /* header, header, body, header (message/rfc822), inner header, its rfc2047, inner body */
    assert_int_equal(u->r->nparts, 7);
    assert_bytes(part(u, 3), "Content-Type: message/rfc822\r\n\r\n");
    assert_string_equal(part(u, 4)->layer, "smtp.mime.header");
    assert_bytes(part(u, 4), "Subject: =?utf-8?q?inner_secret?=\r\n"
                             "Content-Type: text/plain\r\n"
                             "Content-Transfer-Encoding: base64\r\n\r\n");
    assert_string_equal(part(u, 5)->layer, "smtp.mime.header/rfc2047");
    assert_bytes(part(u, 5), "Subject: inner secret\n");
    assert_string_equal(part(u, 6)->layer, "smtp.mime.body/base64");
    assert_bytes(part(u, 6), "inner body");
    run_free(u);
}

static void assert_same_parts(const run *a, const run *b)
{
    assert_int_equal(a->r->nparts, b->r->nparts);
    for (int i = 0; i < a->r->nparts; i++) {
        const rec_part *p = part(a, i), *q = part(b, i);
        assert_string_equal(p->layer, q->layer);
        assert_string_equal(p->filename, q->filename);
        assert_int_equal(p->has_filename, q->has_filename);
        assert_int_equal(p->identity, q->identity);
        assert_int_equal(p->kind, q->kind);
        assert_int_equal(p->opaque, q->opaque);
        assert_int_equal(p->len, q->len);
        assert_memory_equal(p->bytes, q->bytes, p->len);
        assert_memory_equal(p->raw, q->raw, p->len * sizeof(p->raw[0]));
    }
    assert_memory_equal(&a->ctr, &b->ctr, sizeof(a->ctr));
    assert_memory_equal(&a->codec, &b->codec, sizeof(a->codec));
}

static void test_bytewise_same(void **state)
{
    (void)state;
    const char *msgs[] = {mixed_b64, nested, rfc822};
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        run *whole = feed("smtp.mime", NULL, 16, msgs[i], 0, 500);
        assert_true(whole->r->nparts >= 5);
        for (size_t step = 1; step <= 7; step++) {
            run *bits = feed("smtp.mime", NULL, 16, msgs[i], step, 500);
            assert_same_parts(whole, bits);
            run_free(bits);
        }
        run_free(whole);
    }
}

static void test_depth_guard(void **state)
{
    (void)state;
    char msg[4096];
    size_t n = 0;
    n += (size_t)snprintf(msg + n, sizeof(msg) - n, "Subject: deep\r\n");
    for (int d = 1; d <= 5; d++)
        n += (size_t)snprintf(msg + n, sizeof(msg) - n,
                              "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", d, d);
    n += (size_t)snprintf(msg + n, sizeof(msg) - n,
                          "Content-Type: text/plain\r\n\r\ndeep secret\r\n");
    for (int d = 5; d >= 1; d--) {
        if (d == 3)
            n += (size_t)snprintf(msg + n, sizeof(msg) - n,
                                  "--b3\r\nContent-Type: text/plain\r\n\r\nshallow\r\n");
        n += (size_t)snprintf(msg + n, sizeof(msg) - n, "--b%d--\r\n", d);
    }
    run *u = feed("smtp.mime", NULL, 3, msg, 0, 0);
    assert_int_equal(u->r->guards, 1);
    assert_string_equal(u->r->guard_kind, "mime_depth");
    assert_true(u->ctr.c[LW_MIME_depth_exceeded] >= 1);
    int headers = 0;
    for (int i = 0; i < u->r->nparts; i++) {
        const rec_part *p = part(u, i);
        assert_null(memmem(p->bytes, p->len, "deep secret", 11));
        if (strcmp(p->layer, "smtp.mime.header") == 0) headers++;
    }
    /* the message, the parts of levels 1..3 (the level-3 part holds the level-4 multipart's
     * header), and the "shallow" part's */
    assert_int_equal(headers, 5);
    int b = find_layer(u, "smtp.mime.body", 0);
    assert_true(b >= 0);
    assert_bytes(part(u, b), "shallow");
    assert_int_equal(u->ctr.c[LW_MIME_parts], 1);
    run_free(u);

    /* within the limit everything is decoded */
    u = feed("smtp.mime", NULL, 5, msg, 0, 0);
    assert_int_equal(u->r->guards, 0);
    b = find_layer(u, "smtp.mime.body", 0);
    assert_true(b >= 0);
    assert_bytes(part(u, b), "deep secret");
    run_free(u);
}

static void test_missing_boundary(void **state)
{
    (void)state;
    const char *msg = "Content-Type: multipart/mixed\r\n"
                      "\r\n"
                      "--whatever\r\n"
                      "Content-Type: text/plain\r\n"
                      "\r\n"
                      "text\r\n";
    run *u = feed_msg(msg);
    assert_int_equal(u->r->nparts, 2);
    assert_string_equal(part(u, 1)->layer, "smtp.mime.body");
    assert_bytes(part(u, 1), "--whatever\r\nContent-Type: text/plain\r\n\r\ntext\r\n");
    assert_true(part(u, 1)->identity);
    assert_int_equal(u->ctr.c[LW_MIME_bad_boundary], 1);
    assert_int_equal(u->ctr.c[LW_MIME_parts], 1);
    run_free(u);
}

static void test_unterminated(void **state)
{
    (void)state;
    const char *msg = "Content-Type: multipart/mixed; boundary=zz\r\n"
                      "\r\n"
                      "--zz\r\n"
                      "Content-Type: multipart/related; boundary=yy\r\n"
                      "\r\n"
                      "--yy\r\n"
                      "\r\n"
                      "first\r\n"
                      "--zz\r\n"
                      "Content-Type: text/plain\r\n"
                      "\r\n"
                      "cut off here\r\n"
                      "--z";
    run *u = feed_msg(msg);
    int b = find_layer(u, "smtp.mime.body", 0);
    assert_true(b >= 0);
    assert_bytes(part(u, b), "first");
    b = find_layer(u, "smtp.mime.body", b + 1);
    assert_true(b >= 0);
    assert_bytes(part(u, b), "cut off here\r\n--z");     /* a held delimiter prefix is content */
    assert_int_equal(u->ctr.c[LW_MIME_unterminated], 2); /* the inner one and the outer one */
    assert_int_equal(u->ctr.c[LW_MIME_parts], 2);
    run_free(u);

    /* ending inside a header block: the header part still ends */
    u = feed_msg("Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Ty");
    assert_int_equal(u->r->nparts, 2);
    assert_bytes(part(u, 1), "Content-Ty");
    assert_int_equal(u->ctr.c[LW_MIME_unterminated], 1);
    run_free(u);
}

static void test_identity_raw_offsets(void **state)
{
    (void)state;
    const uint64_t base = 123456;
    run *u = feed("smtp.mime", NULL, 16, nested, 0, base);
    int n = 0;
    for (int i = 0; i < u->r->nparts; i++) {
        const rec_part *p = part(u, i);
        if (!p->identity) {
            assert_string_equal(p->layer, "smtp.mime.body/quoted-printable");
            continue;
        }
        assert_raw_exact(p, nested, base);
        n++;
    }
    assert_int_equal(n, 7);
    int b = find_layer(u, "smtp.mime.body", 0);
    const char *want = strstr(nested, "plain text");
    assert_int_equal(part(u, b)->raw[0], base + (uint64_t)(want - nested));

    /* split in uneven pieces at raw offsets that run on: the same offsets */
    run *v = feed("smtp.mime", NULL, 16, nested, 13, base);
    assert_same_parts(u, v);
    run_free(v);
    run_free(u);

    /* without raw offsets nothing is identity */
    u = feed("smtp.mime", NULL, 16, nested, 0, LW_NO_RAW);
    for (int i = 0; i < u->r->nparts; i++) {
        assert_false(part(u, i)->identity);
        if (part(u, i)->len) assert_int_equal(part(u, i)->raw[0], LW_NO_RAW);
    }
    run_free(u);
}

static void test_form_data(void **state)
{
    (void)state;
    const char *ctype = "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW";
    const char *body = "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
                       "Content-Disposition: form-data; name=\"user\"\r\n"
                       "\r\n"
                       "alice\r\n"
                       "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
                       "Content-Disposition: form-data; name=\"upload\"; "
                       "filename=\"customers.csv\"\r\n"
                       "Content-Type: text/csv\r\n"
                       "\r\n"
                       "name,card\r\nbob,4111111111111111\r\n"
                       "\r\n"
                       "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
                       "Content-Disposition: form-data; name=\"q\"\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\n"
                       "\r\n"
                       "a=1%202\r\n"
                       "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
                       "Content-Disposition: form-data; name=\"pic\"; filename=\"a.png\"\r\n"
                       "Content-Type: image/png\r\n"
                       "\r\n"
                       "PNG\r\n"
                       "------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n";
    run *u = feed("http.request.multipart", ctype, 16, body, 0, 4000);
    assert_int_equal(u->r->nparts, 8);
    assert_string_equal(part(u, 0)->layer, "http.request.multipart.header");
    const rec_part *f = part(u, 1);
    assert_string_equal(f->layer, "http.request.multipart.body");
    assert_false(f->has_filename);
    assert_true(f->identity);
    assert_bytes(f, "alice");
    assert_raw_exact(f, body, 4000);
    const rec_part *a = part(u, 3);
    assert_string_equal(a->layer, "http.request.multipart.attachment");
    assert_string_equal(a->filename, "customers.csv");
    assert_bytes(a, "name,card\r\nbob,4111111111111111\r\n");
    assert_raw_exact(a, body, 4000);
    assert_int_equal(part(u, 5)->kind, LW_TEXT_FORM);
    assert_bytes(part(u, 5), "a=1%202");
    assert_true(part(u, 7)->opaque);
    assert_string_equal(part(u, 7)->filename, "a.png");
    assert_int_equal(u->ctr.c[LW_MIME_messages], 1);
    assert_int_equal(u->ctr.c[LW_MIME_parts], 4);
    assert_int_equal(u->ctr.c[LW_MIME_attachments], 2);
    run_free(u);
}

static void test_odd_headers(void **state)
{
    (void)state;
    /* an overlong header is cut and counted; an unknown encoding passes as is */
    static char msg[LW_MIME_HEADER_MAX * 2 + 256];
    size_t n = (size_t)snprintf(msg, sizeof(msg), "X-Long: ");
    memset(msg + n, 'a', LW_MIME_HEADER_MAX + 100);
    n += LW_MIME_HEADER_MAX + 100;
    snprintf(msg + n, sizeof(msg) - n,
             "\r\nContent-Transfer-Encoding: x-uuencode\r\nContent-Type: text/plain\r\n\r\nbegin");
    run *u = feed_msg(msg);
    assert_int_equal(u->ctr.c[LW_MIME_header_too_long], 1);
    assert_int_equal(u->ctr.c[LW_MIME_unknown_encoding], 1);
    assert_int_equal(u->r->nparts, 2);
    assert_int_equal(part(u, 0)->len, strlen(msg) - 5);
    assert_string_equal(part(u, 1)->layer, "smtp.mime.body");
    assert_false(part(u, 1)->identity);
    assert_bytes(part(u, 1), "begin");
    run_free(u);

    /* LF-only line ends, a delimiter at the very start, an empty part, and no header block */
    u = feed("p", "multipart/mixed; boundary=\"a b\"", 16,
             "--a b\n\nx\n--a b\n--a b  \nContent-Type: application/vnd.api+json\n\n{}\n--a b--", 0,
             0);
    assert_int_equal(u->r->nparts, 4);
    assert_string_equal(part(u, 0)->layer, "p.header");
    assert_bytes(part(u, 0), "\n");
    assert_bytes(part(u, 1), "x");
    assert_bytes(part(u, 3), "{}");
    assert_int_equal(part(u, 3)->kind, LW_TEXT_JSON);
    assert_int_equal(u->ctr.c[LW_MIME_unterminated], 0);
    run_free(u);

    /* a NULL sink guard and NULL counters are fine */
    lw_part_sink sink = {r_begin, r_data, r_end, NULL, NULL, NULL};
    rec *r = calloc(1, sizeof(*r));
    sink.user = r;
    lw_mime *m = lw_mime_new("x", "multipart/mixed; boundary=q", 0, &sink, NULL, NULL);
    assert_non_null(m);
    lw_mime_data(m, (const uint8_t *)"--q\r\n\r\nz\r\n--q--", 15, 0);
    lw_mime_end(m);
    lw_mime_free(m);
    assert_int_equal(r->nparts, 0);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qp_body),
        cmocka_unit_test(test_base64_attachment),
        cmocka_unit_test(test_rfc2047_subject),
        cmocka_unit_test(test_rfc2231_filename),
        cmocka_unit_test(test_alternative_in_mixed),
        cmocka_unit_test(test_message_rfc822),
        cmocka_unit_test(test_bytewise_same),
        cmocka_unit_test(test_depth_guard),
        cmocka_unit_test(test_missing_boundary),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_identity_raw_offsets),
        cmocka_unit_test(test_form_data),
        cmocka_unit_test(test_odd_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
