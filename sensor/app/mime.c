/*
 * mime.c — the push-style MIME engine of mime.h: a message (headers, then body) or a multipart
 * body fed in pieces of any size, emitted as parts (app_part.h).
 *
 * The input runs through a chain of entities, one per nesting level: an entity first reads its
 * header block (unfolded fields, each cut at LW_MIME_HEADER_MAX; the raw bytes go out as the
 * ".header" part), then its body is a leaf part (transfer encoding undone), a multipart (a
 * delimiter scanner hands the bytes between delimiters to the entity one level down) or a
 * message/rfc822 (all of it to the entity one level down). Only the deepest entity emits, so
 * at most one part is open at a time. Header fields are understood by mime_header.c.
 *
 * Memory is fixed at lw_mime_new: one entity per level up to max_depth, one field buffer, one
 * buffer of RFC 2047-decoded header text per block and one decoder output block. A delimiter
 * candidate ([CR]LF "--" boundary, and one byte more) is held with the raw offset of each of
 * its bytes, so held bytes that turn out to be content keep their offsets.
 */
#include "leakwatch/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime_private.h"

LW_COUNTER_NAMES(mime, MIME, LW_MIME_COUNTERS)

#define CHUNK 4096       /* bytes per emitted data call, and per decoder step */
#define RFC2047_MAX 8192 /* decoded header text kept per header block (more is cut, counted) */
#define HOLD_MAX (LW_MIME_BOUNDARY_MAX + 8) /* CR LF "--" boundary "-" */
#define LEVELS_MAX 1024                     /* max_depth is cut to this */

enum entity_state { E_NONE, E_HEADERS, E_LEAF, E_MULTI, E_MESSAGE, E_SKIP };

/* Delimiter scanner: S_MATCH at a line start ([CR]LF held, or the body's start) matching
 * "--boundary"; S_AFTER / S_DASH look at the byte(s) after it; S_LINE drops the rest of a
 * delimiter line. */
enum scan_state { S_IDLE, S_CR, S_MATCH, S_AFTER, S_DASH, S_LINE, S_EPILOGUE };

enum hdr_state { H_LINE_START, H_LINE_START_CR, H_IN_LINE };

typedef struct entity {
    enum entity_state state;
    enum lw_mime_enc enc; /* E_LEAF */
    union {
        lw_b64 b64;
        lw_qp qp;
    } dec;
    /* E_MULTI */
    char delim[LW_MIME_BOUNDARY_MAX + 3]; /* "--" boundary */
    size_t delim_len;
    bool digest; /* multipart/digest: parts default to message/rfc822 */
    enum scan_state scan;
    size_t mpos; /* bytes of delim matched */
    uint8_t hold[HOLD_MAX];
    uint64_t hold_raw[HOLD_MAX];
    size_t hold_len;
    bool child, closed; /* a part is being read; the closing delimiter was seen */
} entity;

struct lw_mime {
    char prefix[LW_LAYER_MAX];
    lw_part_sink sink;
    lw_mime_counters *ctr;
    lw_codec_counters *codec;
    uint32_t max_depth;
    bool guarded, ended;
    bool part_open;

    /* the header block being read (by the deepest entity) */
    enum hdr_state hs;
    bool hdr_open; /* its ".header" part has begun */
    bool field_cut;
    size_t field_len;
    char field[LW_MIME_HEADER_MAX];
    lw_mime_hdr hdr;
    lw_mime_scratch scratch;
    char r2047[RFC2047_MAX];
    size_t r2047_len;
    bool r2047_cut;
    char word_out[LW_MIME_HEADER_MAX + 1];

    /* the leaf part of the deepest entity, begun on its first byte */
    bool leaf_pending;
    char leaf_layer[LW_LAYER_MAX];
    char leaf_filename[LW_FILENAME_MAX];
    enum lw_text_kind leaf_kind;
    bool leaf_opaque;

    uint8_t out[LW_CODEC_OUT_MAX(CHUNK)];
    uint32_t nlevels;
    entity *lv;
};

static void entity_data(lw_mime *m, uint32_t k, const uint8_t *d, size_t len, uint64_t raw);
static void entity_end(lw_mime *m, uint32_t k);

static void count(lw_mime *m, enum lw_mime_counter c)
{
    if (m->ctr) m->ctr->c[c]++;
}

static uint64_t raw_add(uint64_t raw, size_t n)
{
    return raw == LW_NO_RAW ? raw : raw + n;
}

/* ------------------------------------------------------------------ output */

static void part_begin(lw_mime *m, const char *layer, const char *filename, bool identity,
                       enum lw_text_kind kind, bool opaque)
{
    lw_part_info info = {layer, filename, identity, kind, opaque};
    if (m->sink.begin) m->sink.begin(m->sink.user, &info);
    m->part_open = true;
}

static void part_data(lw_mime *m, const uint8_t *d, size_t len, uint64_t raw)
{
    while (len) {
        size_t k = len < CHUNK ? len : CHUNK;
        if (m->sink.data) m->sink.data(m->sink.user, d, k, raw);
        d += k;
        len -= k;
        raw = raw_add(raw, k);
    }
}

static void part_end(lw_mime *m)
{
    if (!m->part_open) return;
    m->part_open = false;
    if (m->sink.end) m->sink.end(m->sink.user);
}

/* prefix + a + b into out (LW_LAYER_MAX bytes), cut when longer. */
static void layer_name(const lw_mime *m, char *out, const char *a, const char *b)
{
    size_t n = 0;
    for (const char *s = m->prefix; *s && n + 1 < LW_LAYER_MAX; s++) out[n++] = *s;
    for (const char *s = a; *s && n + 1 < LW_LAYER_MAX; s++) out[n++] = *s;
    for (const char *s = b; *s && n + 1 < LW_LAYER_MAX; s++) out[n++] = *s;
    out[n] = '\0';
}

/* ------------------------------------------------------------------ header blocks */

static void r2047_put(lw_mime *m, const char *s, size_t len)
{
    size_t room = sizeof(m->r2047) - m->r2047_len;
    if (len > room) {
        len = room;
        if (!m->r2047_cut) count(m, LW_MIME_header_too_long);
        m->r2047_cut = true;
    }
    memcpy(m->r2047 + m->r2047_len, s, len);
    m->r2047_len += len;
}

/* One complete (unfolded) field. */
static void field_done(lw_mime *m)
{
    size_t len = m->field_len;
    m->field_len = 0;
    m->field_cut = false;
    const char *colon = memchr(m->field, ':', len);
    if (!colon) return;
    size_t nlen = (size_t)(colon - m->field), vlen = len - nlen - 1;
    const char *v = colon + 1;
    while (nlen && (m->field[nlen - 1] == ' ' || m->field[nlen - 1] == '\t')) nlen--;
    while (vlen && (*v == ' ' || *v == '\t')) v++, vlen--;
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
    lw_mime_hdr_field(&m->hdr, m->field, nlen, v, vlen, &m->scratch, m->ctr, m->codec);
    if (!memmem(v, vlen, "=?", 2)) return;
    if (lw_rfc2047_decode(v, vlen, m->word_out, sizeof(m->word_out), m->codec) <= 0) return;
    r2047_put(m, m->field, nlen);
    r2047_put(m, ": ", 2);
    r2047_put(m, m->word_out, strlen(m->word_out));
    r2047_put(m, "\n", 1);
}

static void field_put(lw_mime *m, uint8_t c)
{
    if (m->field_len < sizeof(m->field)) {
        m->field[m->field_len++] = (char)c;
    } else if (!m->field_cut) {
        m->field_cut = true;
        count(m, LW_MIME_header_too_long);
    }
}

/* Reads header bytes: how many of d[0..len) belong to the block; *done when its blank line
 * ended it. */
static size_t header_bytes(lw_mime *m, const uint8_t *d, size_t len, bool *done)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = d[i++];
        switch (m->hs) {
        case H_LINE_START_CR:
            if (c == '\n') {
                *done = true;
                return i;
            }
            m->hs = H_LINE_START; /* a stray CR: the line starts with c */
            i--;
            break;
        case H_LINE_START:
            if (c == '\n') {
                *done = true;
                return i;
            }
            if (c == '\r') {
                m->hs = H_LINE_START_CR;
                break;
            }
            if (c != ' ' && c != '\t') field_done(m); /* else a continuation line */
            field_put(m, c);
            m->hs = H_IN_LINE;
            break;
        default:
            if (c == '\n')
                m->hs = H_LINE_START;
            else if (c != '\r')
                field_put(m, c);
            break;
        }
    }
    return i;
}

static void guard_depth(lw_mime *m)
{
    count(m, LW_MIME_depth_exceeded);
    if (m->guarded) return;
    m->guarded = true;
    char msg[128];
    snprintf(msg, sizeof(msg), "MIME nesting deeper than %u levels: not decoded below",
             (unsigned)m->max_depth);
    if (m->sink.guard) m->sink.guard(m->sink.user, "mime_depth", msg);
}

static void entity_start(lw_mime *m, uint32_t k, bool digest_child)
{
    entity *e = &m->lv[k];
    memset(e, 0, offsetof(entity, hold));
    e->hold_len = 0;
    e->state = E_HEADERS;
    m->hs = H_LINE_START;
    m->hdr_open = false;
    m->field_len = 0;
    m->field_cut = false;
    m->r2047_len = 0;
    m->r2047_cut = false;
    lw_mime_hdr_init(&m->hdr, digest_child);
}

static void leaf_start(lw_mime *m, entity *e)
{
    const lw_mime_hdr *h = &m->hdr;
    bool attach = h->attachment || h->filename[0];
    const char *enc = h->enc == MIME_ENC_BASE64 ? "/base64"
                      : h->enc == MIME_ENC_QP   ? "/quoted-printable"
                                                : "";
    layer_name(m, m->leaf_layer, attach ? ".attachment" : ".body", enc);
    memcpy(m->leaf_filename, h->filename, sizeof(m->leaf_filename));
    m->leaf_kind = h->kind;
    m->leaf_opaque = h->opaque;
    m->leaf_pending = true;
    e->enc = h->enc;
    if (e->enc == MIME_ENC_BASE64) lw_b64_init(&e->dec.b64);
    if (e->enc == MIME_ENC_QP) lw_qp_init(&e->dec.qp);
    e->state = E_LEAF;
    count(m, LW_MIME_parts);
    if (attach) count(m, LW_MIME_attachments);
}

/* The body of entity k starts, as its header facts (m->hdr) say. */
static void body_start(lw_mime *m, uint32_t k)
{
    entity *e = &m->lv[k];
    const lw_mime_hdr *h = &m->hdr;
    bool container = (h->type == MIME_TYPE_MULTIPART && !h->bad_boundary) ||
                     (h->type == MIME_TYPE_MESSAGE && h->enc == MIME_ENC_IDENTITY);
    if (h->type == MIME_TYPE_MULTIPART && h->bad_boundary) count(m, LW_MIME_bad_boundary);
    if (container && k + 1 >= m->nlevels) {
        guard_depth(m);
        e->state = E_SKIP;
    } else if (container && h->type == MIME_TYPE_MULTIPART) {
        e->state = E_MULTI;
        e->delim[0] = e->delim[1] = '-';
        memcpy(e->delim + 2, h->boundary, h->boundary_len);
        e->delim_len = h->boundary_len + 2;
        e->digest = h->digest;
        e->scan = S_MATCH; /* the body's start is a line start */
    } else if (container) {
        e->state = E_MESSAGE;
        entity_start(m, k + 1, false);
    } else {
        leaf_start(m, e);
    }
}

/* The header block of entity k ends (body: its blank line was read). */
static void headers_end(lw_mime *m, uint32_t k, bool body)
{
    field_done(m);
    if (m->hdr_open) part_end(m);
    m->hdr_open = false;
    if (m->r2047_len) {
        char layer[LW_LAYER_MAX];
        layer_name(m, layer, ".header/rfc2047", "");
        part_begin(m, layer, NULL, false, LW_TEXT_OTHER, false);
        part_data(m, (const uint8_t *)m->r2047, m->r2047_len, LW_NO_RAW);
        part_end(m);
        m->r2047_len = 0;
    }
    if (body)
        body_start(m, k);
    else
        m->lv[k].state = E_NONE;
}

/* ------------------------------------------------------------------ leaf parts */

static void leaf_begin(lw_mime *m, const entity *e, bool raw_known)
{
    m->leaf_pending = false;
    bool identity = raw_known && e->enc == MIME_ENC_IDENTITY;
    part_begin(m, m->leaf_layer, m->leaf_filename[0] ? m->leaf_filename : NULL, identity,
               m->leaf_kind, m->leaf_opaque);
}

static void leaf_data(lw_mime *m, entity *e, const uint8_t *d, size_t len, uint64_t raw)
{
    if (m->leaf_pending) leaf_begin(m, e, raw != LW_NO_RAW);
    if (e->enc == MIME_ENC_IDENTITY || e->enc == MIME_ENC_UNKNOWN) {
        part_data(m, d, len, raw);
        return;
    }
    for (size_t i = 0; i < len; i += CHUNK) {
        size_t k = len - i < CHUNK ? len - i : CHUNK, n;
        if (e->enc == MIME_ENC_BASE64)
            n = lw_b64_decode(&e->dec.b64, d + i, k, m->out, m->codec);
        else
            n = lw_qp_decode(&e->dec.qp, d + i, k, m->out, m->codec);
        part_data(m, m->out, n, LW_NO_RAW);
    }
}

static void leaf_end(lw_mime *m, entity *e)
{
    if (m->leaf_pending) leaf_begin(m, e, false);
    if (e->enc == MIME_ENC_BASE64) lw_b64_finish(&e->dec.b64, m->codec);
    if (e->enc == MIME_ENC_QP)
        part_data(m, m->out, lw_qp_finish(&e->dec.qp, m->out, m->codec), LW_NO_RAW);
    part_end(m);
}

/* ------------------------------------------------------------------ multipart bodies */

/* Bytes between delimiters: the current part's (the preamble and epilogue are dropped). */
static void content(lw_mime *m, uint32_t k, const uint8_t *d, size_t len, uint64_t raw)
{
    if (len && m->lv[k].child) entity_data(m, k + 1, d, len, raw);
}

static void hold_put(entity *e, uint8_t c, uint64_t raw)
{
    if (e->hold_len < HOLD_MAX) {
        e->hold[e->hold_len] = c;
        e->hold_raw[e->hold_len++] = raw;
    }
}

/* The held candidate was content after all: out in runs of contiguous raw offsets. */
static void hold_flush(lw_mime *m, uint32_t k)
{
    entity *e = &m->lv[k];
    uint8_t b[HOLD_MAX];
    uint64_t r[HOLD_MAX];
    size_t n = e->hold_len, from = 0;
    memcpy(b, e->hold, n);
    memcpy(r, e->hold_raw, n * sizeof(r[0]));
    e->hold_len = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && r[i] == raw_add(r[i - 1], 1) && (r[i] != LW_NO_RAW || r[i - 1] == LW_NO_RAW))
            continue;
        content(m, k, b + from, i - from, r[from]);
        from = i;
    }
}

/* A delimiter line of entity k was recognised: the part before it ends. */
static void delimiter(lw_mime *m, uint32_t k, bool close)
{
    entity *e = &m->lv[k];
    e->hold_len = 0;
    if (e->child) entity_end(m, k + 1);
    e->child = false;
    if (close) e->closed = true;
    e->scan = close ? S_EPILOGUE : S_LINE;
}

static void scan_data(lw_mime *m, uint32_t k, const uint8_t *d, size_t len, uint64_t raw)
{
    entity *e = &m->lv[k];
    size_t i = 0;
    while (i < len) {
        uint8_t c = d[i];
        uint64_t r = raw_add(raw, i);
        switch (e->scan) {
        case S_IDLE: {
            size_t j = i;
            while (j < len && d[j] != '\r' && d[j] != '\n') j++;
            if (j > i) {
                content(m, k, d + i, j - i, r);
                i = j;
                break;
            }
            hold_put(e, c, r);
            e->scan = c == '\r' ? S_CR : S_MATCH;
            e->mpos = 0;
            i++;
            break;
        }
        case S_CR:
            if (c == '\n') {
                hold_put(e, c, r);
                e->scan = S_MATCH;
                i++;
            } else {
                hold_flush(m, k);
                e->scan = S_IDLE; /* c afresh */
            }
            break;
        case S_MATCH:
            if (c == (uint8_t)e->delim[e->mpos]) {
                hold_put(e, c, r);
                i++;
                if (++e->mpos == e->delim_len) e->scan = S_AFTER;
            } else {
                hold_flush(m, k);
                e->scan = S_IDLE;
            }
            break;
        case S_AFTER:
            if (c == '-') {
                hold_put(e, c, r);
                e->scan = S_DASH;
                i++;
            } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                delimiter(m, k, false); /* S_LINE reads c */
            } else {
                hold_flush(m, k);
                e->scan = S_IDLE;
            }
            break;
        case S_DASH:
            if (c == '-') {
                i++;
                delimiter(m, k, true);
            } else {
                hold_flush(m, k);
                e->scan = S_IDLE;
            }
            break;
        case S_LINE: {
            const uint8_t *lf = memchr(d + i, '\n', len - i);
            if (!lf) return;
            i = (size_t)(lf - d) + 1;
            entity_start(m, k + 1, e->digest);
            e->child = true;
            e->scan = S_MATCH;
            e->mpos = 0;
            break;
        }
        default:
            return; /* the epilogue */
        }
    }
}

static void scan_end(lw_mime *m, uint32_t k)
{
    entity *e = &m->lv[k];
    if (e->scan == S_AFTER || e->scan == S_DASH)
        delimiter(m, k, false); /* "--boundary" at the very end */
    else
        hold_flush(m, k);
    if (e->child) entity_end(m, k + 1);
    e->child = false;
    if (!e->closed) count(m, LW_MIME_unterminated);
}

/* ------------------------------------------------------------------ entities */

static void entity_data(lw_mime *m, uint32_t k, const uint8_t *d, size_t len, uint64_t raw)
{
    while (len) {
        entity *e = &m->lv[k];
        switch (e->state) {
        case E_HEADERS: {
            if (!m->hdr_open) {
                char layer[LW_LAYER_MAX];
                layer_name(m, layer, ".header", "");
                part_begin(m, layer, NULL, raw != LW_NO_RAW, LW_TEXT_HEADER, false);
                m->hdr_open = true;
            }
            bool done = false;
            size_t n = header_bytes(m, d, len, &done);
            part_data(m, d, n, raw);
            d += n;
            len -= n;
            raw = raw_add(raw, n);
            if (done) headers_end(m, k, true);
            break;
        }
        case E_LEAF:
            leaf_data(m, e, d, len, raw);
            return;
        case E_MULTI:
            scan_data(m, k, d, len, raw);
            return;
        case E_MESSAGE:
            entity_data(m, k + 1, d, len, raw);
            return;
        default:
            return;
        }
    }
}

static void entity_end(lw_mime *m, uint32_t k)
{
    entity *e = &m->lv[k];
    switch (e->state) {
    case E_HEADERS:
        headers_end(m, k, false);
        break;
    case E_LEAF:
        leaf_end(m, e);
        break;
    case E_MULTI:
        scan_end(m, k);
        break;
    case E_MESSAGE:
        entity_end(m, k + 1);
        break;
    default:
        break;
    }
    e->state = E_NONE;
}

/* ------------------------------------------------------------------ API */

lw_mime *lw_mime_new(const char *prefix, const char *content_type, uint32_t max_depth,
                     const lw_part_sink *sink, lw_mime_counters *ctr, lw_codec_counters *codec)
{
    lw_mime *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    if (max_depth > LEVELS_MAX) max_depth = LEVELS_MAX;
    m->nlevels = max_depth + 1;
    m->lv = calloc(m->nlevels, sizeof(*m->lv));
    if (!m->lv) {
        free(m);
        return NULL;
    }
    snprintf(m->prefix, sizeof(m->prefix), "%s", prefix ? prefix : "");
    if (sink) m->sink = *sink;
    m->ctr = ctr;
    m->codec = codec;
    m->max_depth = max_depth;
    count(m, LW_MIME_messages);
    entity_start(m, 0, false);
    if (content_type) {
        lw_mime_hdr_field(&m->hdr, "Content-Type", 12, content_type, strlen(content_type),
                          &m->scratch, ctr, codec);
        body_start(m, 0);
    }
    return m;
}

void lw_mime_data(lw_mime *m, const uint8_t *data, size_t len, uint64_t raw_offset)
{
    if (!m || m->ended || !data || !len) return;
    entity_data(m, 0, data, len, raw_offset);
}

void lw_mime_end(lw_mime *m)
{
    if (!m || m->ended) return;
    m->ended = true;
    entity_end(m, 0);
    part_end(m); /* nothing should be open here; a sink always sees begin/end pairs */
}

void lw_mime_free(lw_mime *m)
{
    if (!m) return;
    free(m->lv);
    free(m);
}
