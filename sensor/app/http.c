/*
 * http.c — HTTP/1.x message decoding (see http.h) on top of libhttp-parser: the parser does
 * the framing (Content-Length, chunked, close-delimited, pipelining); this file turns its
 * callbacks into layered parts: the request-target, header values, Basic credentials and
 * bodies (decompressed, or through the MIME engine for multipart).
 */
#include "leakwatch/http.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

LW_COUNTER_NAMES(http, HTTP, LW_HTTP_COUNTERS)

enum kept { KEEP_NONE, KEEP_CTYPE, KEEP_CENC, KEEP_AUTH };

typedef struct hdir {
    http_parser p;
    struct lw_http *h;
    int dir;
    bool stopped;
    const uint8_t *buf; /* the buffer of the http_parser_execute call in progress */
    uint64_t base;      /* raw stream offset of buf[0] */
    /* the header field in progress */
    char field[32];
    size_t field_len;
    bool last_was_value;
    enum kept keep;
    bool keep_cut; /* the kept value in progress was cut (counted once) */
    char ctype[LW_HTTP_HEADER_KEEP], cenc[128], auth[LW_HTTP_HEADER_KEEP];
    size_t ctype_len, cenc_len, auth_len;
    /* parts in progress */
    bool uri_open, hdr_open, body_open, body_stop, upgrade_after;
    lw_decomp *dec;
    lw_mime *mime;
    bool mime_raw; /* the MIME engine gets raw offsets */
} hdir;

struct lw_http {
    lw_http_env env;
    hdir d[2];
    uint8_t methods[LW_HTTP_METHOD_QUEUE];
    unsigned mhead, mcount;
};

static const char *base_name(int dir)
{
    return dir == 0 ? "http.request" : "http.response";
}

static uint64_t raw_at(const hdir *hd, const char *at)
{
    return hd->base + (uint64_t)((const uint8_t *)at - hd->buf);
}

static const lw_part_sink *sink_of(const hdir *hd)
{
    return hd->h->env.sink[hd->dir];
}

static void part_begin(hdir *hd, const char *layer, bool identity, enum lw_text_kind kind,
                       bool opaque)
{
    const lw_part_sink *s = sink_of(hd);
    lw_part_info info = {
        .layer = layer, .filename = NULL, .identity = identity, .kind = kind, .opaque = opaque};
    if (s && s->begin) s->begin(s->user, &info);
}

static void part_data(hdir *hd, const void *data, size_t len, uint64_t raw)
{
    const lw_part_sink *s = sink_of(hd);
    if (s && s->data && len) s->data(s->user, data, len, raw);
}

static void part_end(hdir *hd)
{
    const lw_part_sink *s = sink_of(hd);
    if (s && s->end) s->end(s->user);
}

static void guard(hdir *hd, const char *kind, const char *message)
{
    const lw_part_sink *s = sink_of(hd);
    if (s && s->guard) s->guard(s->user, kind, message);
}

/* ------------------------------------------------------------------ bodies */

static void body_close(hdir *hd)
{
    if (hd->dec) {
        if (!lw_decomp_finished(hd->dec) && !hd->body_stop)
            hd->h->env.decomp->c[LW_DECOMP_truncated]++;
        lw_decomp_free(hd->dec);
        hd->dec = NULL;
    }
    if (hd->mime) {
        lw_mime_end(hd->mime);
        lw_mime_free(hd->mime);
        hd->mime = NULL;
    } else if (hd->body_open) {
        part_end(hd);
    }
    hd->body_open = false;
}

/* Decoded (or identity) body bytes: into the MIME engine or straight out as the part. */
static void body_out(hdir *hd, const uint8_t *data, size_t len, uint64_t raw)
{
    if (hd->mime)
        lw_mime_data(hd->mime, data, len, hd->mime_raw ? raw : LW_NO_RAW);
    else
        part_data(hd, data, len, raw);
}

static void decoded_out(void *user, const uint8_t *data, size_t len)
{
    hdir *hd = user;
    hd->h->env.decomp->c[LW_DECOMP_decoded_bytes] += len;
    body_out(hd, data, len, LW_NO_RAW);
}

static bool starts_with_ci(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && strncasecmp(s, prefix, n) == 0;
}

static bool opaque_type(const char *ct, size_t len)
{
    return starts_with_ci(ct, len, "image/") || starts_with_ci(ct, len, "video/") ||
           starts_with_ci(ct, len, "audio/") || starts_with_ci(ct, len, "font/");
}

static enum lw_text_kind text_kind(const char *ct, size_t len)
{
    if (starts_with_ci(ct, len, "application/x-www-form-urlencoded")) return LW_TEXT_FORM;
    const char *semi = memchr(ct, ';', len);
    size_t type_len = semi ? (size_t)(semi - ct) : len;
    while (type_len && (ct[type_len - 1] == ' ' || ct[type_len - 1] == '\t')) type_len--;
    if ((type_len >= 4 && strncasecmp(ct + type_len - 4, "json", 4) == 0)) return LW_TEXT_JSON;
    return LW_TEXT_OTHER;
}

static void body_open(hdir *hd)
{
    lw_http *h = hd->h;
    bool chunked = (hd->p.flags & F_CHUNKED) != 0;
    h->env.http->c[LW_HTTP_bodies]++;
    if (chunked) h->env.http->c[LW_HTTP_chunked_bodies]++;
    hd->body_open = true;

    char layer[LW_LAYER_MAX];
    int w = snprintf(layer, sizeof(layer), "%s.body", base_name(hd->dir));
    enum lw_cenc st[LW_DECOMP_MAX_STAGES];
    int n = hd->cenc_len ? lw_cenc_parse(hd->cenc, st) : 0;
    bool unknown = n < 0;
    if (unknown) {
        h->env.decomp->c[LW_DECOMP_unknown_encoding]++;
        n = 0;
    }
    for (int i = 0; i < n && w > 0 && (size_t)w < sizeof(layer); i++)
        w += snprintf(layer + w, sizeof(layer) - (size_t)w, "/%s", lw_cenc_name(st[i]));
    if (n > 0) {
        if ((hd->dec = lw_decomp_new(st, n, h->env.pool))) {
            h->env.decomp->c[LW_DECOMP_bodies]++;
        } else {
            h->env.decomp->c[LW_DECOMP_nomem]++;
            guard(hd, "decode_memory", "decoder memory pool exhausted: body not decoded");
            n = 0;
            unknown = true; /* its bytes are compressed: label the raw bytes only */
            snprintf(layer, sizeof(layer), "%s.body", base_name(hd->dir));
        }
    }
    if (!unknown && starts_with_ci(hd->ctype, hd->ctype_len, "multipart/")) {
        char prefix[LW_LAYER_MAX];
        snprintf(prefix, sizeof(prefix), "%s.multipart", base_name(hd->dir));
        hd->mime = lw_mime_new(prefix, hd->ctype, h->env.mime_depth, sink_of(hd), h->env.mime,
                               h->env.codec);
        hd->mime_raw = n == 0 && !chunked;
        if (hd->mime) {
            h->env.http->c[LW_HTTP_multipart_bodies]++;
            return;
        }
    }
    part_begin(hd, layer, n == 0 && !chunked, text_kind(hd->ctype, hd->ctype_len),
               unknown || opaque_type(hd->ctype, hd->ctype_len));
}

static void body_guard(hdir *hd, enum lw_decomp_status st)
{
    lw_decomp_counters *c = hd->h->env.decomp;
    char msg[160];
    switch (st) {
    case LW_DECOMP_LIMIT:
        c->c[LW_DECOMP_limit]++;
        snprintf(msg, sizeof(msg),
                 "decoded body reached decode.max_decoded_mb after %llu bytes: "
                 "the rest is scanned raw only",
                 (unsigned long long)lw_decomp_decoded(hd->dec));
        guard(hd, "decode_max_bytes", msg);
        break;
    case LW_DECOMP_RATIO:
        c->c[LW_DECOMP_ratio]++;
        snprintf(msg, sizeof(msg),
                 "compression ratio over %d:1 after %llu decoded bytes: "
                 "the rest is scanned raw only",
                 LW_DECOMP_MAX_RATIO, (unsigned long long)lw_decomp_decoded(hd->dec));
        guard(hd, "decode_ratio", msg);
        break;
    case LW_DECOMP_NOMEM:
        c->c[LW_DECOMP_nomem]++;
        guard(hd, "decode_memory", "decoder memory pool exhausted: the rest is scanned raw only");
        break;
    case LW_DECOMP_CORRUPT:
        c->c[LW_DECOMP_corrupt]++;
        break;
    default:
        return;
    }
    hd->body_stop = true;
    body_close(hd);
}

/* ------------------------------------------------------------------ parser callbacks */

static int on_message_begin(http_parser *p)
{
    hdir *hd = p->data;
    hd->h->env.http->c[hd->dir == 0 ? LW_HTTP_requests : LW_HTTP_responses]++;
    hd->field_len = hd->ctype_len = hd->cenc_len = hd->auth_len = 0;
    hd->keep_cut = false;
    hd->ctype[0] = hd->cenc[0] = hd->auth[0] = 0;
    hd->last_was_value = false;
    hd->keep = KEEP_NONE;
    hd->body_stop = false;
    const lw_part_sink *s = sink_of(hd);
    if (s && s->message) s->message(s->user);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    hdir *hd = p->data;
    if (!hd->uri_open) {
        part_begin(hd, "http.request.uri", true, LW_TEXT_FORM, false);
        hd->uri_open = true;
    }
    part_data(hd, at, len, raw_at(hd, at));
    return 0;
}

static void uri_close(hdir *hd)
{
    if (!hd->uri_open) return;
    part_end(hd);
    hd->uri_open = false;
}

/* Authorization: Basic <base64> — the credentials decoded, as a part of their own. */
static void basic_auth(hdir *hd)
{
    const char *v = hd->auth;
    size_t len = hd->auth_len;
    while (len && (*v == ' ' || *v == '\t')) v++, len--;
    if (!starts_with_ci(v, len, "basic ")) return;
    v += 6, len -= 6;
    uint8_t out[LW_CODEC_OUT_MAX(LW_HTTP_HEADER_KEEP)];
    lw_b64 b;
    lw_b64_init(&b);
    size_t n = lw_b64_decode(&b, (const uint8_t *)v, len, out, hd->h->env.codec);
    lw_b64_finish(&b, hd->h->env.codec);
    if (!n) return;
    hd->h->env.http->c[LW_HTTP_basic_auth]++;
    part_begin(hd, "http.request.header.authorization/base64", false, LW_TEXT_OTHER, false);
    part_data(hd, out, n, LW_NO_RAW);
    part_end(hd);
}

static void keep_append(hdir *hd, const char *at, size_t len)
{
    char *buf = hd->keep == KEEP_CTYPE ? hd->ctype : hd->keep == KEEP_CENC ? hd->cenc : hd->auth;
    size_t *n = hd->keep == KEEP_CTYPE  ? &hd->ctype_len
                : hd->keep == KEEP_CENC ? &hd->cenc_len
                                        : &hd->auth_len;
    size_t cap = hd->keep == KEEP_CENC ? sizeof(hd->cenc) : LW_HTTP_HEADER_KEEP;
    size_t room = cap - 1 - *n;
    if (len > room) {
        if (!hd->keep_cut) hd->h->env.http->c[LW_HTTP_header_cut]++;
        hd->keep_cut = true;
        len = room;
    }
    memcpy(buf + *n, at, len);
    *n += len;
    buf[*n] = 0;
}

/* The value of the header in progress is complete (an Authorization value stays kept: its
 * credentials are decoded once the header part has ended, so that parts never nest). */
static void header_done(hdir *hd)
{
    hd->keep = KEEP_NONE;
    hd->field_len = 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    hdir *hd = p->data;
    uri_close(hd);
    if (hd->last_was_value) header_done(hd);
    hd->last_was_value = false;
    size_t room = sizeof(hd->field) - 1 - hd->field_len;
    size_t n = len < room ? len : room;
    memcpy(hd->field + hd->field_len, at, n);
    hd->field_len += n;
    hd->field[hd->field_len] = 0;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    hdir *hd = p->data;
    if (!hd->last_was_value) {
        /* the first piece of a new value */
        const char *f = hd->field;
        hd->keep = strcasecmp(f, "content-type") == 0       ? KEEP_CTYPE
                   : strcasecmp(f, "content-encoding") == 0 ? KEEP_CENC
                   : strcasecmp(f, "authorization") == 0    ? KEEP_AUTH
                                                            : KEEP_NONE;
        if (hd->keep == KEEP_CTYPE) hd->ctype_len = 0;
        if (hd->keep == KEEP_CENC) hd->cenc_len = 0;
        if (hd->keep == KEEP_AUTH) hd->auth_len = 0;
        hd->keep_cut = false;
        /* trailer fields of a chunked body come after its last chunk: the body has ended
         * (closed here so that the header part does not open inside it) */
        if (hd->body_open || hd->dec || hd->mime) body_close(hd);
        if (!hd->hdr_open) {
            char layer[LW_LAYER_MAX];
            snprintf(layer, sizeof(layer), "%s.header", base_name(hd->dir));
            part_begin(hd, layer, true, LW_TEXT_HEADER, false);
            hd->hdr_open = true;
        } else {
            part_data(hd, "\n", 1, LW_NO_RAW); /* nothing runs from one value into the next */
        }
    }
    hd->last_was_value = true;
    if (hd->keep != KEEP_NONE) keep_append(hd, at, len);
    part_data(hd, at, len, raw_at(hd, at));
    return 0;
}

static uint8_t method_pop(lw_http *h)
{
    if (!h->mcount) return HTTP_GET;
    uint8_t m = h->methods[h->mhead];
    h->mhead = (h->mhead + 1) % LW_HTTP_METHOD_QUEUE;
    h->mcount--;
    return m;
}

static int on_headers_complete(http_parser *p)
{
    hdir *hd = p->data;
    lw_http *h = hd->h;
    uri_close(hd);
    if (hd->last_was_value) header_done(hd);
    hd->last_was_value = false;
    if (hd->hdr_open) {
        part_end(hd);
        hd->hdr_open = false;
    }
    if (hd->dir == 0) {
        if (hd->auth_len) basic_auth(hd);
        if (h->mcount < LW_HTTP_METHOD_QUEUE) {
            h->methods[(h->mhead + h->mcount) % LW_HTTP_METHOD_QUEUE] = (uint8_t)p->method;
            h->mcount++;
        } else {
            h->env.http->c[LW_HTTP_method_overflow]++;
        }
        return 0;
    }
    /* an interim 1xx response (100 Continue) is not the request's response: the final one
     * follows. It has no body (101 still upgrades: the parser checks that first) */
    if (p->status_code / 100 == 1) return 1;
    uint8_t method = method_pop(h);
    if (method == HTTP_CONNECT && p->status_code / 100 == 2) {
        hd->upgrade_after = true; /* a tunnel follows: not HTTP any more */
        return 2;                 /* no body and no further messages */
    }
    /* 1: this response has no body. http_parser reads Content-Length bytes after a 204 or
     * 304 that carries one (a 304 often repeats the entity's length): RFC 9110 says none. */
    return method == HTTP_HEAD || p->status_code == 204 || p->status_code == 304 ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    hdir *hd = p->data;
    if (hd->body_stop || !sink_of(hd)) return 0; /* nobody inspects this direction */
    if (!hd->body_open) body_open(hd);
    if (hd->dec) {
        hd->h->env.decomp->c[LW_DECOMP_encoded_bytes] += len;
        enum lw_decomp_status st = lw_decomp_data(hd->dec, (const uint8_t *)at, len,
                                                  hd->h->env.budget[hd->dir], decoded_out, hd);
        if (st != LW_DECOMP_OK && st != LW_DECOMP_DONE) body_guard(hd, st);
    } else {
        body_out(hd, (const uint8_t *)at, len, raw_at(hd, at));
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    hdir *hd = p->data;
    uri_close(hd);
    if (hd->hdr_open) {
        part_end(hd);
        hd->hdr_open = false;
    }
    body_close(hd);
    hd->body_stop = false;
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ------------------------------------------------------------------ API */

lw_http *lw_http_new(const lw_http_env *env)
{
    lw_http *h = calloc(1, sizeof(*h));
    if (!h) return NULL;
    h->env = *env;
    for (int d = 0; d < 2; d++) {
        http_parser_init(&h->d[d].p, d == 0 ? HTTP_REQUEST : HTTP_RESPONSE);
        h->d[d].p.data = &h->d[d];
        h->d[d].h = h;
        h->d[d].dir = d;
    }
    return h;
}

static void stop(hdir *hd)
{
    uri_close(hd);
    if (hd->hdr_open) part_end(hd);
    hd->hdr_open = false;
    body_close(hd);
    hd->stopped = true;
}

void lw_http_data(lw_http *h, int dir, const uint8_t *data, size_t len, uint64_t raw_offset)
{
    hdir *hd = &h->d[dir & 1];
    if (hd->stopped || !len) return;
    hd->buf = data;
    hd->base = raw_offset;
    size_t n = http_parser_execute(&hd->p, &settings, (const char *)data, len);
    if (hd->p.upgrade || hd->upgrade_after) {
        h->env.http->c[LW_HTTP_upgrades]++;
        stop(hd);
    } else if (n != len || HTTP_PARSER_ERRNO(&hd->p) != HPE_OK) {
        h->env.http->c[LW_HTTP_parse_errors]++;
        stop(hd);
    }
}

void lw_http_gap(lw_http *h, int dir)
{
    hdir *hd = &h->d[dir & 1];
    if (hd->stopped) return;
    h->env.http->c[LW_HTTP_gaps]++;
    stop(hd);
}

void lw_http_end(lw_http *h, int dir)
{
    hdir *hd = &h->d[dir & 1];
    if (!hd->stopped) {
        hd->buf = NULL;
        http_parser_execute(&hd->p, &settings, NULL, 0); /* a close-delimited body ends */
        stop(hd);
    }
}

bool lw_http_active(const lw_http *h, int dir)
{
    return !h->d[dir & 1].stopped;
}

void lw_http_free(lw_http *h)
{
    if (!h) return;
    for (int d = 0; d < 2; d++) {
        /* no events from here on: the flow is gone */
        if (h->d[d].dec) lw_decomp_free(h->d[d].dec);
        if (h->d[d].mime) lw_mime_free(h->d[d].mime);
    }
    free(h);
}

bool lw_http_looks_like_request(const uint8_t *data, size_t len)
{
    static const char *const methods[] = {
        "GET ",     "POST ",     "PUT ",      "HEAD ",      "DELETE ",     "OPTIONS ",   "PATCH ",
        "CONNECT ", "TRACE ",    "PROPFIND ", "PROPPATCH ", "MKCOL ",      "COPY ",      "MOVE ",
        "LOCK ",    "UNLOCK ",   "REPORT ",   "SEARCH ",    "MKCALENDAR ", "SUBSCRIBE ", "NOTIFY ",
        "PURGE ",   "LINK ",     "UNLINK ",   "BIND ",      "REBIND ",     "UNBIND ",    "ACL ",
        "MERGE ",   "CHECKOUT ", "M-SEARCH ", "SOURCE ",    "MKACTIVITY "};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        size_t n = strlen(methods[i]);
        if (len >= n && memcmp(data, methods[i], n) == 0) return true;
    }
    return false;
}
