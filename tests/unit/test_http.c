/*
 * test_http.c — HTTP/1.x decoding of http.h through a recording part sink: the request-target,
 * header values, Content-Length, chunked and gzip bodies, pipelining, responses without a body
 * (HEAD, 304, 1xx), Basic credentials (never nested in the header part), multipart bodies
 * (when the MIME engine is there), gaps, byte-at-a-time feeding, the decoded budget guard and
 * directions nobody inspects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "leakwatch/http.h"

#define MAX_PARTS 64
#define MAX_GUARDS 8

typedef struct rpart {
    char layer[LW_LAYER_MAX];
    char filename[LW_FILENAME_MAX];
    bool has_filename, identity, ended;
    enum lw_text_kind kind;
    uint8_t *data;
    size_t len;
} rpart;

/* Records one direction's parts; checks nesting and raw offsets against the stream fed. */
typedef struct rec {
    rpart p[MAX_PARTS];
    int n;
    bool open;
    int nested; /* begins while a part was open */
    int messages;
    char guard[MAX_GUARDS][32];
    int nguards;
    const uint8_t *stream; /* the direction's whole raw stream, to check raw offsets */
    size_t stream_len;
} rec;

static void r_begin(void *user, const lw_part_info *info)
{
    rec *r = user;
    if (r->open) r->nested++;
    assert_true(r->n < MAX_PARTS);
    rpart *p = &r->p[r->n++];
    memset(p, 0, sizeof(*p));
    snprintf(p->layer, sizeof(p->layer), "%s", info->layer);
    if (info->filename) {
        p->has_filename = true;
        snprintf(p->filename, sizeof(p->filename), "%s", info->filename);
    }
    p->identity = info->identity;
    p->kind = info->kind;
    r->open = true;
}

static void r_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    rec *r = user;
    assert_true(r->open);
    assert_true(len > 0);
    rpart *p = &r->p[r->n - 1];
    if (raw != LW_NO_RAW && r->stream) {
        assert_true(raw + len <= r->stream_len);
        assert_memory_equal(r->stream + raw, data, len);
    }
    p->data = realloc(p->data, p->len + len + 1);
    memcpy(p->data + p->len, data, len);
    p->len += len;
    p->data[p->len] = 0;
}

static void r_end(void *user)
{
    rec *r = user;
    assert_true(r->open);
    r->p[r->n - 1].ended = true;
    r->open = false;
}

static void r_guard(void *user, const char *kind, const char *message)
{
    rec *r = user;
    assert_non_null(message);
    if (r->nguards < MAX_GUARDS) snprintf(r->guard[r->nguards++], 32, "%s", kind);
}

static void r_message(void *user)
{
    ((rec *)user)->messages++;
}

static void rec_clear(rec *r)
{
    for (int i = 0; i < r->n; i++) free(r->p[i].data);
    memset(r, 0, sizeof(*r));
}

/* The i-th part with this layer, or NULL. */
static const rpart *find(const rec *r, const char *layer, int nth)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->p[i].layer, layer) == 0 && nth-- == 0) return &r->p[i];
    return NULL;
}

static int count(const rec *r, const char *layer)
{
    int k = 0;
    for (int i = 0; i < r->n; i++) k += strcmp(r->p[i].layer, layer) == 0;
    return k;
}

static void assert_part(const rec *r, const char *layer, int nth, const char *bytes, bool identity)
{
    const rpart *p = find(r, layer, nth);
    if (!p) fail_msg("no part %s #%d", layer, nth);
    assert_true(p->ended);
    assert_int_equal(p->len, strlen(bytes));
    if (p->len) assert_memory_equal(p->data, bytes, p->len);
    assert_int_equal(p->identity, identity);
}

typedef struct fx {
    rec r[2];
    lw_part_sink sink[2];
    uint64_t budget[2];
    lw_decomp_pool pool;
    lw_http_counters http;
    lw_decomp_counters decomp;
    lw_mime_counters mime;
    lw_codec_counters codec;
    lw_http_env env;
    lw_http *h;
    uint64_t off[2];
} fx;

static fx *fx_new_with(uint64_t budget, uint64_t pool_cap, bool sink0, bool sink1)
{
    fx *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    for (int d = 0; d < 2; d++) {
        x->sink[d] = (lw_part_sink){r_begin, r_data, r_end, r_guard, r_message, &x->r[d]};
        x->budget[d] = budget;
        x->env.budget[d] = &x->budget[d];
    }
    x->env.sink[0] = sink0 ? &x->sink[0] : NULL;
    x->env.sink[1] = sink1 ? &x->sink[1] : NULL;
    x->pool = (lw_decomp_pool){pool_cap, 0, 0};
    x->env.pool = &x->pool;
    x->env.mime_depth = LW_MIME_DEPTH_DEFAULT;
    x->env.http = &x->http;
    x->env.decomp = &x->decomp;
    x->env.mime = &x->mime;
    x->env.codec = &x->codec;
    x->h = lw_http_new(&x->env);
    assert_non_null(x->h);
    return x;
}

static fx *fx_new(void)
{
    return fx_new_with(UINT64_MAX, LW_DECOMP_POOL_DEFAULT, true, true);
}

static void fx_free(fx *x)
{
    lw_http_free(x->h);
    assert_int_equal(x->pool.used, 0);
    for (int d = 0; d < 2; d++) {
        assert_int_equal(x->r[d].nested, 0);
        rec_clear(&x->r[d]);
    }
    free(x);
}

/* Feeds direction d in pieces of step bytes (0: whole); stream is the whole direction. */
static void feed(fx *x, int d, const void *data, size_t len, size_t step)
{
    x->r[d].stream = data;
    x->r[d].stream_len = len;
    if (!step) step = len;
    for (size_t i = 0; i < len; i += step) {
        size_t k = len - i < step ? len - i : step;
        lw_http_data(x->h, d, (const uint8_t *)data + i, k, i);
    }
}

static void feed_str(fx *x, int d, const char *s)
{
    feed(x, d, s, strlen(s), 0);
}

static size_t gzip(const void *in, size_t len, uint8_t *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    return n;
}

/* A chunked response whose body is gzip of text, in chunks of chunk bytes. */
static size_t chunked_gzip_response(const char *text, size_t chunk, char *out, size_t cap)
{
    uint8_t gz[8192];
    size_t n = gzip(text, strlen(text), gz, sizeof(gz));
    size_t w = (size_t)snprintf(out, cap,
                                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        w += (size_t)snprintf(out + w, cap - w, "%zx\r\n", k);
        assert_true(w + k + 2 < cap);
        memcpy(out + w, gz + i, k);
        w += k;
        memcpy(out + w, "\r\n", 2);
        w += 2;
    }
    w += (size_t)snprintf(out + w, cap - w, "0\r\n\r\n");
    return w;
}

/* ------------------------------------------------------------------ tests */

static void test_request_content_length(void **state)
{
    (void)state;
    fx *x = fx_new();
    feed_str(x, 0,
             "POST /login?next=%2Fhome HTTP/1.1\r\nHost: shop.example\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\n"
             "user=alice&card=4111111111");
    rec *r = &x->r[0];
    assert_int_equal(r->messages, 1);
    assert_part(r, "http.request.uri", 0, "/login?next=%2Fhome", true);
    assert_int_equal(find(r, "http.request.uri", 0)->kind, LW_TEXT_FORM);
    assert_part(r, "http.request.header", 0, "shop.example\napplication/x-www-form-urlencoded\n27",
                true);
    /* one byte short of Content-Length: the body part is still open */
    const rpart *b = find(r, "http.request.body", 0);
    assert_non_null(b);
    assert_false(b->ended);
    x->r[0].stream = NULL; /* (a piece fed on its own, at some later offset) */
    lw_http_data(x->h, 0, (const uint8_t *)"1", 1, 1000);
    assert_part(r, "http.request.body", 0, "user=alice&card=41111111111", true);
    assert_int_equal(find(r, "http.request.body", 0)->kind, LW_TEXT_FORM);
    assert_int_equal(x->http.c[LW_HTTP_requests], 1);
    assert_int_equal(x->http.c[LW_HTTP_bodies], 1);
    assert_int_equal(x->http.c[LW_HTTP_parse_errors], 0);
    assert_true(lw_http_active(x->h, 0));
    fx_free(x);
}

static void test_uri_part(void **state)
{
    (void)state;
    fx *x = fx_new();
    /* the request-target split over three pieces: still one part */
    const char *req = "GET /search?q=078-05-1120&x=%41 HTTP/1.1\r\nHost: a\r\n\r\n";
    feed(x, 0, req, strlen(req), 7);
    assert_int_equal(count(&x->r[0], "http.request.uri"), 1);
    assert_part(&x->r[0], "http.request.uri", 0, "/search?q=078-05-1120&x=%41", true);
    assert_null(find(&x->r[0], "http.request.body", 0));
    fx_free(x);
}

static void test_chunked_gzip_response(void **state)
{
    (void)state;
    const char *text = "account 12345678, iban DE89370400440532013000, repeated repeated "
                       "repeated repeated repeated text for compression\n";
    char resp[8192];
    size_t n = chunked_gzip_response(text, 10, resp, sizeof(resp));
    fx *x = fx_new();
    feed_str(x, 0, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
    feed(x, 1, resp, n, 0);
    rec *r = &x->r[1];
    assert_part(r, "http.response.body/gzip", 0, text, false);
    assert_part(r, "http.response.header", 0, "text/plain\ngzip\nchunked", true);
    assert_int_equal(x->http.c[LW_HTTP_chunked_bodies], 1);
    assert_int_equal(x->decomp.c[LW_DECOMP_bodies], 1);
    assert_int_equal(x->decomp.c[LW_DECOMP_decoded_bytes], strlen(text));
    assert_int_equal(x->decomp.c[LW_DECOMP_truncated], 0);
    assert_int_equal(x->http.c[LW_HTTP_responses], 1);
    assert_int_equal(r->messages, 1);
    fx_free(x);

    /* a chunked identity body: one part, not identity (chunk framing sits between) */
    x = fx_new();
    feed_str(x, 0, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
    feed_str(x, 1,
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    assert_part(&x->r[1], "http.response.body", 0, "hello world", false);
    fx_free(x);

    /* trailer fields after the last chunk: the body ends first, the trailer is a header part
     * of its own (never inside the body part) */
    x = fx_new();
    feed_str(x, 0, "GET /a HTTP/1.1\r\nHost: a\r\n\r\n");
    feed_str(x, 1,
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n0\r\nX-Checksum: 4111111111111111\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert_int_equal(x->r[1].nested, 0);
    assert_part(&x->r[1], "http.response.body", 0, "hello", false);
    assert_part(&x->r[1], "http.response.header", 1, "4111111111111111", true);
    assert_part(&x->r[1], "http.response.body", 1, "ok", true);
    assert_int_equal(x->http.c[LW_HTTP_parse_errors], 0);
    fx_free(x);
}

static void test_pipelined_requests(void **state)
{
    (void)state;
    fx *x = fx_new();
    feed_str(x, 0,
             "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
             "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
             "PUT /three HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
             "Content-Length: 15\r\n\r\n{\"k\":\"v\\u0041\"}");
    rec *r = &x->r[0];
    assert_int_equal(r->messages, 3);
    assert_int_equal(x->http.c[LW_HTTP_requests], 3);
    assert_int_equal(count(r, "http.request.uri"), 3);
    assert_part(r, "http.request.uri", 0, "/one", true);
    assert_part(r, "http.request.uri", 1, "/two", true);
    assert_part(r, "http.request.uri", 2, "/three", true);
    assert_int_equal(count(r, "http.request.body"), 2);
    assert_part(r, "http.request.body", 0, "abc", true);
    const rpart *b = find(r, "http.request.body", 1);
    assert_non_null(b);
    assert_int_equal(b->kind, LW_TEXT_JSON);
    assert_int_equal(b->len, 15);
    /* parts per request, in order: uri, header, [body] */
    static const char *const order[] = {
        "http.request.uri",  "http.request.header", "http.request.uri",    "http.request.header",
        "http.request.body", "http.request.uri",    "http.request.header", "http.request.body"};
    assert_int_equal(r->n, 8);
    for (int i = 0; i < 8; i++) assert_string_equal(r->p[i].layer, order[i]);

    /* their responses, pipelined too */
    feed_str(x, 1,
             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr1"
             "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nr2"
             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr3");
    assert_int_equal(count(&x->r[1], "http.response.body"), 3);
    assert_part(&x->r[1], "http.response.body", 2, "r3", true);
    assert_int_equal(x->http.c[LW_HTTP_parse_errors], 0);
    fx_free(x);
}

static void test_head_response(void **state)
{
    (void)state;
    fx *x = fx_new();
    feed_str(x, 0, "HEAD /big HTTP/1.1\r\nHost: a\r\n\r\nGET /small HTTP/1.1\r\nHost: a\r\n\r\n");
    feed_str(x, 1,
             "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    rec *r = &x->r[1];
    assert_int_equal(x->http.c[LW_HTTP_responses], 2);
    assert_int_equal(count(r, "http.response.header"), 2);
    assert_int_equal(count(r, "http.response.body"), 1);
    assert_part(r, "http.response.body", 0, "hello", true);
    assert_int_equal(x->http.c[LW_HTTP_parse_errors], 0);
    assert_true(lw_http_active(x->h, 1));
    fx_free(x);
}

static void test_304_and_interim(void **state)
{
    (void)state;
    fx *x = fx_new();
    feed_str(x, 0,
             "GET /cached HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\n\r\n"
             "POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
             "data"
             "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
    /* a 304 carrying the entity's Content-Length has no body all the same (RFC 9110 15.4.5),
     * a 100 Continue is not the POST's response, and 204 has no body */
    feed_str(x, 1,
             "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 1234\r\n\r\n"
             "HTTP/1.1 100 Continue\r\n\r\n"
             "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast");
    rec *r = &x->r[1];
    assert_int_equal(x->http.c[LW_HTTP_parse_errors], 0);
    assert_int_equal(x->http.c[LW_HTTP_responses], 4);
    assert_int_equal(count(r, "http.response.body"), 1);
    assert_part(r, "http.response.body", 0, "last", true);
    assert_true(lw_http_active(x->h, 1));
    fx_free(x);
}

static void test_basic_auth(void **state)
{
    (void)state;
    for (size_t step = 0; step < 4; step++) {
        fx *x = fx_new();
        const char *req = "GET /admin HTTP/1.1\r\nHost: a\r\n"
                          "Authorization: Basic dXNlcjpwYXNz\r\nAccept: */*\r\n\r\n";
        feed(x, 0, req, strlen(req), step * 5);
        rec *r = &x->r[0];
        assert_int_equal(r->nested, 0); /* the credentials never open inside the header part */
        assert_part(r, "http.request.header.authorization/base64", 0, "user:pass", false);
        assert_int_equal(x->http.c[LW_HTTP_basic_auth], 1);
        assert_part(r, "http.request.header", 0, "a\nBasic dXNlcjpwYXNz\n*/*", true);
        /* after the header part */
        int hi = -1, ai = -1;
        for (int i = 0; i < r->n; i++) {
            if (!strcmp(r->p[i].layer, "http.request.header")) hi = i;
            if (!strcmp(r->p[i].layer, "http.request.header.authorization/base64")) ai = i;
        }
        assert_true(hi >= 0 && ai > hi);
        fx_free(x);
    }
    /* other schemes, and Basic in a response, are not decoded */
    fx *x = fx_new();
    feed_str(x, 0, "GET / HTTP/1.1\r\nAuthorization: Bearer dXNlcjpwYXNz\r\n\r\n");
    feed_str(x, 1,
             "HTTP/1.1 200 OK\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"
             "Content-Length: 0\r\n\r\n");
    assert_int_equal(x->http.c[LW_HTTP_basic_auth], 0);
    assert_null(find(&x->r[0], "http.request.header.authorization/base64", 0));
    fx_free(x);
}

static void test_gap_stops_direction(void **state)
{
    (void)state;
    fx *x = fx_new();
    feed_str(x, 0, "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial");
    const rpart *b = find(&x->r[0], "http.request.body", 0);
    assert_non_null(b);
    assert_false(b->ended);
    lw_http_gap(x->h, 0);
    assert_true(find(&x->r[0], "http.request.body", 0)->ended); /* open parts end */
    assert_false(lw_http_active(x->h, 0));
    assert_true(lw_http_active(x->h, 1));
    assert_int_equal(x->http.c[LW_HTTP_gaps], 1);
    int n = x->r[0].n;
    lw_http_data(x->h, 0, (const uint8_t *)"GET /x HTTP/1.1\r\n\r\n", 19, 500);
    assert_int_equal(x->r[0].n, n); /* nothing more decoded */
    lw_http_gap(x->h, 0);
    assert_int_equal(x->http.c[LW_HTTP_gaps], 1);
    /* the other direction goes on */
    feed_str(x, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert_part(&x->r[1], "http.response.body", 0, "ok", true);
    fx_free(x);
}

static void test_parse_error_and_end(void **state)
{
    (void)state;
    fx *x = fx_new();
    feed_str(x, 0, "NOT HTTP AT ALL\r\n\r\n");
    assert_false(lw_http_active(x->h, 0));
    assert_int_equal(x->http.c[LW_HTTP_parse_errors], 1);
    /* a close-delimited response body ends with the direction */
    feed_str(x, 1, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>secret");
    assert_false(find(&x->r[1], "http.response.body", 0)->ended);
    lw_http_end(x->h, 1);
    assert_part(&x->r[1], "http.response.body", 0, "<html>secret", true);
    assert_false(lw_http_active(x->h, 1));
    fx_free(x);
    /* an upgrade stops the direction */
    x = fx_new();
    feed_str(x, 0,
             "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
             "\x81\x85"
             "binary");
    assert_false(lw_http_active(x->h, 0));
    assert_int_equal(x->http.c[LW_HTTP_upgrades], 1);
    fx_free(x);
    /* CONNECT: its 2xx starts a tunnel */
    x = fx_new();
    feed_str(x, 0, "CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n");
    feed_str(x, 1, "HTTP/1.1 200 Connection established\r\n\r\nGET /not-http HTTP/1.1\r\n\r\n");
    assert_false(lw_http_active(x->h, 1));
    assert_int_equal(x->http.c[LW_HTTP_upgrades], 2);
    assert_null(find(&x->r[1], "http.response.body", 0));
    assert_int_equal(x->http.c[LW_HTTP_responses], 1);
    fx_free(x);
}

/* Concatenated (layer, bytes) of every part, to compare two feedings. */
static size_t digest(const rec *r, char *out, size_t cap)
{
    size_t w = 0;
    for (int i = 0; i < r->n; i++) {
        w += (size_t)snprintf(out + w, cap - w, "[%s|%d]", r->p[i].layer, r->p[i].ended);
        assert_true(w + r->p[i].len < cap);
        if (r->p[i].len) memcpy(out + w, r->p[i].data, r->p[i].len);
        w += r->p[i].len;
    }
    return w;
}

static void test_bytewise_same(void **state)
{
    (void)state;
    const char *text = "bytewise: passport X1234567 for Jane Roe, born 1980-01-01; "
                       "more more more more more more more more more more more text.\n";
    char resp[8192];
    size_t n = chunked_gzip_response(text, 7, resp, sizeof(resp));
    const char *req = "POST /form HTTP/1.1\r\nHost: a\r\nAuthorization: Basic YWxpY2U6czNjcjN0\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n4\r\nk=v&\r\n3\r\nx=1\r\n0\r\n\r\n"
                      "GET /again HTTP/1.1\r\n\r\n";
    static char d1[2][16384], d2[2][16384];
    size_t l1[2], l2[2];
    fx *a = fx_new(), *b = fx_new();
    feed(a, 0, req, strlen(req), 0);
    feed(a, 1, resp, n, 0);
    for (size_t i = 0; req[i]; i++) lw_http_data(b->h, 0, (const uint8_t *)req + i, 1, i);
    b->r[1].stream = (const uint8_t *)resp;
    b->r[1].stream_len = n;
    for (size_t i = 0; i < n; i++) lw_http_data(b->h, 1, (const uint8_t *)resp + i, 1, i);
    for (int d = 0; d < 2; d++) {
        l1[d] = digest(&a->r[d], d1[d], sizeof(d1[d]));
        l2[d] = digest(&b->r[d], d2[d], sizeof(d2[d]));
        assert_int_equal(l1[d], l2[d]);
        assert_memory_equal(d1[d], d2[d], l1[d]);
    }
    assert_part(&b->r[1], "http.response.body/gzip", 0, text, false);
    assert_part(&b->r[0], "http.request.header.authorization/base64", 0, "alice:s3cr3t", false);
    assert_part(&b->r[0], "http.request.body", 0, "k=v&x=1", false);
    assert_int_equal(a->decomp.c[LW_DECOMP_decoded_bytes], b->decomp.c[LW_DECOMP_decoded_bytes]);
    assert_memory_equal(&a->http, &b->http, sizeof(a->http));
    fx_free(a);
    fx_free(b);
}

static void test_decode_budget_guard(void **state)
{
    (void)state;
    static char text[60000];
    for (size_t i = 0; i + 1 < sizeof(text); i++) text[i] = (char)('a' + i % 23);
    text[sizeof(text) - 1] = 0;
    static char resp[70000];
    size_t n = chunked_gzip_response(text, 4000, resp, sizeof(resp));
    fx *x = fx_new_with(1000, LW_DECOMP_POOL_DEFAULT, true, true);
    feed_str(x, 0, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
    feed(x, 1, resp, n, 1460);
    rec *r = &x->r[1];
    assert_int_equal(r->nguards, 1);
    assert_string_equal(r->guard[0], "decode_max_bytes");
    const rpart *b = find(r, "http.response.body/gzip", 0);
    assert_non_null(b);
    assert_true(b->ended);
    assert_int_equal(b->len, 1000);
    assert_memory_equal(b->data, text, 1000);
    assert_int_equal(x->budget[1], 0);
    assert_int_equal(x->decomp.c[LW_DECOMP_limit], 1);
    assert_int_equal(x->decomp.c[LW_DECOMP_truncated], 0);
    assert_true(lw_http_active(x->h, 1)); /* the framing goes on: the next response is read */
    r->stream = NULL;
    lw_http_data(x->h, 1, (const uint8_t *)"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40, n);
    assert_int_equal(count(r, "http.response.header"), 2);
    assert_part(r, "http.response.body", 0, "ok", true); /* identity: no budget needed */
    fx_free(x);

    /* a pool too small for a decoder: guard decode_memory, the raw body still labelled */
    x = fx_new_with(UINT64_MAX, 4096, true, true);
    feed_str(x, 0, "GET /a HTTP/1.1\r\n\r\n");
    feed(x, 1, resp, n, 0);
    assert_true(x->r[1].nguards >= 1);
    assert_string_equal(x->r[1].guard[0], "decode_memory");
    assert_int_equal(x->decomp.c[LW_DECOMP_nomem], 1);
    fx_free(x);
}

static void test_unwatched_direction(void **state)
{
    (void)state;
    const char *text = "nobody looks at this response body, so it is not decompressed at all\n";
    char resp[8192];
    size_t n = chunked_gzip_response(text, 16, resp, sizeof(resp));
    fx *x = fx_new_with(UINT64_MAX, LW_DECOMP_POOL_DEFAULT, true, false);
    feed_str(x, 0, "GET /a HTTP/1.1\r\n\r\n");
    feed(x, 1, resp, n, 0);
    assert_int_equal(x->r[1].n, 0);
    assert_int_equal(x->decomp.c[LW_DECOMP_bodies], 0);
    assert_int_equal(x->decomp.c[LW_DECOMP_encoded_bytes], 0);
    assert_int_equal(x->pool.peak, 0);
    assert_int_equal(x->http.c[LW_HTTP_responses], 1); /* the framing is still followed */
    assert_true(lw_http_active(x->h, 1));
    fx_free(x);
}

/* ------------------------------------------------------------------ multipart */

static bool mime_engine_present(void)
{
    lw_part_sink s = {0};
    lw_mime_counters mc = {{0}};
    lw_codec_counters cc = {{0}};
    lw_mime *m = lw_mime_new("probe", "multipart/form-data; boundary=x", 4, &s, &mc, &cc);
    if (!m) return false;
    lw_mime_free(m);
    return true;
}

static void test_multipart_form(void **state)
{
    (void)state;
    if (!mime_engine_present()) {
        print_message("MIME engine (sensor/app/mime.c) not available: multipart test skipped\n");
        skip();
    }
    const char *body = "--XyZ\r\n"
                       "Content-Disposition: form-data; name=\"comment\"\r\n\r\n"
                       "hello there\r\n"
                       "--XyZ\r\n"
                       "Content-Disposition: form-data; name=\"file\"; filename=\"keys.txt\"\r\n"
                       "Content-Type: text/plain\r\n\r\n"
                       "AKIAIOSFODNN7EXAMPLE\r\n"
                       "--XyZ--\r\n";
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "POST /upload HTTP/1.1\r\nHost: a\r\n"
                     "Content-Type: multipart/form-data; boundary=XyZ\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(body), body);
    for (size_t step = 0; step < 3; step++) {
        fx *x = fx_new();
        feed(x, 0, req, (size_t)n, step * 3);
        rec *r = &x->r[0];
        assert_int_equal(x->http.c[LW_HTTP_multipart_bodies], 1);
        assert_null(find(r, "http.request.body", 0));
        const rpart *att = NULL, *txt = NULL;
        for (int i = 0; i < r->n; i++) {
            assert_true(strncmp(r->p[i].layer, "http.request.", 13) == 0);
            if (!strncmp(r->p[i].layer, "http.request.multipart.attachment", 33)) att = &r->p[i];
            if (!strncmp(r->p[i].layer, "http.request.multipart.body", 27)) txt = &r->p[i];
        }
        assert_non_null(att);
        assert_true(att->has_filename);
        assert_string_equal(att->filename, "keys.txt");
        assert_int_equal(att->len, 20);
        assert_memory_equal(att->data, "AKIAIOSFODNN7EXAMPLE", 20);
        assert_non_null(txt);
        assert_int_equal(txt->len, 11);
        assert_memory_equal(txt->data, "hello there", 11);
        fx_free(x);
    }
}

static void test_multipart_gzip_chunked(void **state)
{
    (void)state;
    if (!mime_engine_present()) {
        print_message("MIME engine (sensor/app/mime.c) not available: multipart test skipped\n");
        skip();
    }
    const char *body =
        "--b1\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.csv\"\r\n\r\n"
        "id,ssn\n1,078-05-1120\n\r\n--b1--\r\n";
    uint8_t gz[1024];
    size_t gn = gzip(body, strlen(body), gz, sizeof(gz));
    char req[4096];
    size_t w = (size_t)snprintf(req, sizeof(req),
                                "POST /u HTTP/1.1\r\nContent-Type: multipart/form-data; "
                                "boundary=b1\r\nContent-Encoding: gzip\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
                                gn);
    memcpy(req + w, gz, gn);
    w += gn;
    w += (size_t)snprintf(req + w, sizeof(req) - w, "\r\n0\r\n\r\n");
    fx *x = fx_new();
    feed(x, 0, req, w, 0);
    const rpart *att = NULL;
    for (int i = 0; i < x->r[0].n; i++)
        if (!strncmp(x->r[0].p[i].layer, "http.request.multipart.attachment", 33))
            att = &x->r[0].p[i];
    assert_non_null(att);
    assert_false(att->identity);
    assert_int_equal(att->len, strlen("id,ssn\n1,078-05-1120\n"));
    fx_free(x);
}

static void test_looks_like_request(void **state)
{
    (void)state;
    assert_true(lw_http_looks_like_request((const uint8_t *)"GET / HTTP/1.1", 14));
    assert_true(lw_http_looks_like_request((const uint8_t *)"PROPFIND /x", 11));
    assert_false(lw_http_looks_like_request((const uint8_t *)"GET", 3));
    assert_false(lw_http_looks_like_request((const uint8_t *)"HTTP/1.1 200", 12));
    assert_false(lw_http_looks_like_request((const uint8_t *)"get / HTTP/1.1", 14));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_content_length),
        cmocka_unit_test(test_uri_part),
        cmocka_unit_test(test_chunked_gzip_response),
        cmocka_unit_test(test_pipelined_requests),
        cmocka_unit_test(test_head_response),
        cmocka_unit_test(test_304_and_interim),
        cmocka_unit_test(test_basic_auth),
        cmocka_unit_test(test_gap_stops_direction),
        cmocka_unit_test(test_parse_error_and_end),
        cmocka_unit_test(test_bytewise_same),
        cmocka_unit_test(test_decode_budget_guard),
        cmocka_unit_test(test_unwatched_direction),
        cmocka_unit_test(test_multipart_form),
        cmocka_unit_test(test_multipart_gzip_chunked),
        cmocka_unit_test(test_looks_like_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
