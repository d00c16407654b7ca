/*
 * mime_header.c — the header fields the MIME engine (mime.c) acts on (mime_private.h):
 * Content-Type (type, boundary, name), Content-Transfer-Encoding and Content-Disposition
 * (type, filename). Parameters follow RFC 2045 (case-insensitive names, token or quoted-string
 * values); RFC 2231 extended values (charset'language'percent-encoded) and continuations
 * (name*0, name*1*, ... in the order given) are joined and decoded; plain file names get their
 * RFC 2047 encoded-words decoded. Charsets are not converted.
 */
#include "mime_private.h"

#include <string.h>
#include <strings.h>

enum { RANK_NAME = 1, RANK_NAME_EXT = 2, RANK_FILENAME = 3, RANK_FILENAME_EXT = 4 };

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool eq_ci(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len == n && strncasecmp(s, lit, n) == 0;
}

static bool prefix_ci(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len >= n && strncasecmp(s, lit, n) == 0;
}

static const char *trim(const char *s, size_t *len)
{
    while (*len && is_wsp(*s)) s++, (*len)--;
    while (*len && is_wsp(s[*len - 1])) (*len)--;
    return s;
}

void lw_mime_hdr_init(lw_mime_hdr *h, bool digest_child)
{
    memset(h, 0, sizeof(*h));
    h->type = digest_child ? MIME_TYPE_MESSAGE : MIME_TYPE_LEAF;
    h->enc = MIME_ENC_IDENTITY;
    h->kind = LW_TEXT_OTHER;
}

/* ------------------------------------------------------------------ parameters */

typedef struct param_ctx {
    lw_mime_hdr *h;
    lw_mime_scratch *s;
    lw_codec_counters *codec;
    const char *fn_param; /* the parameter naming a file: "filename" or "name" */
    int rank;             /* its rank as a plain value (+1 when extended) */
    size_t cont_len;      /* continuation bytes joined in s->cont */
    bool cont, cont_ext;
} param_ctx;

/* A file name candidate: kept when it comes from a better source than the one kept so far. */
static void take_filename(lw_mime_hdr *h, const char *name, size_t len, int rank)
{
    len = strnlen(name, len);
    if (len == 0 || rank <= h->filename_rank) return;
    if (len >= LW_FILENAME_MAX) len = LW_FILENAME_MAX - 1;
    memcpy(h->filename, name, len);
    h->filename[len] = '\0';
    h->filename_rank = rank;
}

/* An RFC 2231 extended value: charset'language' (when present) dropped, then percent-decoded
 * into s->dec. Returns the decoded length. */
static size_t ext_value(param_ctx *p, const char *v, size_t len, bool has_charset)
{
    if (has_charset) {
        const char *q1 = memchr(v, '\'', len);
        const char *q2 = q1 ? memchr(q1 + 1, '\'', len - (size_t)(q1 + 1 - v)) : NULL;
        if (q2) {
            len -= (size_t)(q2 + 1 - v);
            v = q2 + 1;
        }
    }
    lw_pct d;
    lw_pct_init(&d, false);
    size_t n = lw_pct_decode(&d, (const uint8_t *)v, len, p->s->dec, p->codec);
    return n + lw_pct_finish(&d, p->s->dec + n, p->codec);
}

static void cont_append(param_ctx *p, const char *v, size_t len)
{
    size_t room = sizeof(p->s->cont) - 1 - p->cont_len;
    if (len > room) len = room;
    memcpy(p->s->cont + p->cont_len, v, len);
    p->cont_len += len;
}

/* The file name parameter: section < 0 when not continued. */
static void filename_param(param_ctx *p, const char *v, size_t len, int section, bool ext)
{
    if (section >= 0) {
        p->cont = true;
        if (ext) {
            p->cont_ext = p->cont_ext || section == 0;
            size_t n = ext_value(p, v, len, section == 0);
            cont_append(p, (const char *)p->s->dec, n);
        } else {
            cont_append(p, v, len);
        }
    } else if (ext) {
        size_t n = ext_value(p, v, len, true);
        take_filename(p->h, (const char *)p->s->dec, n, p->rank + 1);
    } else {
        char name[LW_FILENAME_MAX];
        lw_rfc2047_decode(v, len, name, sizeof(name), p->codec);
        take_filename(p->h, name, sizeof(name), p->rank);
    }
}

/* Splits "name", "name*", "name*N" and "name*N*": the base name's length, or 0 when malformed. */
static size_t param_base(const char *n, size_t len, int *section, bool *ext)
{
    const char *star = memchr(n, '*', len);
    *section = -1;
    *ext = false;
    if (!star) return len;
    size_t base = (size_t)(star - n), i = base + 1;
    if (i == len) {
        *ext = true; /* "name*" */
        return base;
    }
    *section = 0;
    for (; i < len && n[i] >= '0' && n[i] <= '9'; i++)
        if (*section < 10000) *section = *section * 10 + (n[i] - '0');
    if (i < len && n[i] == '*') {
        *ext = true;
        i++;
    }
    return i == len && n[base + 1] != '*' ? base : 0;
}

static void param(param_ctx *p, const char *name, size_t nlen, const char *v, size_t vlen)
{
    int section;
    bool ext;
    size_t base = param_base(name, nlen, &section, &ext);
    if (base == 0) return;
    if (p->fn_param && eq_ci(name, base, p->fn_param)) {
        filename_param(p, v, vlen, section, ext);
    } else if (p->h->type == MIME_TYPE_MULTIPART && eq_ci(name, base, "boundary") && section < 0 &&
               !ext) {
        if (vlen == 0 || vlen > LW_MIME_BOUNDARY_MAX || memchr(v, '\r', vlen) ||
            memchr(v, '\n', vlen))
            return;
        memcpy(p->h->boundary, v, vlen);
        p->h->boundary[vlen] = '\0';
        p->h->boundary_len = vlen;
    }
}

/* A quoted-string at v[*i] (the opening quote) unquoted into s->val: \" and \\ are escapes,
 * any other backslash is kept (Windows paths in form-data file names). */
static size_t unquote(lw_mime_scratch *s, const char *v, size_t len, size_t *i)
{
    size_t n = 0, j = *i + 1;
    for (; j < len && v[j] != '"'; j++) {
        if (v[j] == '\\' && j + 1 < len && (v[j + 1] == '"' || v[j + 1] == '\\')) j++;
        s->val[n++] = v[j];
    }
    *i = j < len ? j + 1 : j;
    return n;
}

/* The parameters after the first ';' of v. */
static void params(param_ctx *p, const char *v, size_t len)
{
    const char *semi = memchr(v, ';', len);
    size_t i = semi ? (size_t)(semi - v) : len;
    while (i < len) {
        i++; /* the ';' */
        while (i < len && is_wsp(v[i])) i++;
        size_t name = i;
        while (i < len && v[i] != '=' && v[i] != ';') i++;
        size_t nlen = i - name;
        const char *n = trim(v + name, &nlen);
        if (i >= len || v[i] == ';') continue;
        i++; /* the '=' */
        while (i < len && is_wsp(v[i])) i++;
        size_t vlen;
        const char *val;
        if (i < len && v[i] == '"') {
            vlen = unquote(p->s, v, len, &i);
            val = p->s->val;
            while (i < len && v[i] != ';') i++;
        } else {
            size_t from = i;
            while (i < len && v[i] != ';') i++;
            vlen = i - from;
            val = trim(v + from, &vlen);
        }
        param(p, n, nlen, val, vlen);
    }
    if (p->cont) {
        p->s->cont[p->cont_len] = '\0';
        take_filename(p->h, p->s->cont, p->cont_len, p->rank + (p->cont_ext ? 1 : 0));
    }
}

/* The value before the first ';' (type/subtype, disposition type, encoding), trimmed. */
static const char *main_value(const char *v, size_t len, size_t *out_len)
{
    const char *semi = memchr(v, ';', len);
    *out_len = semi ? (size_t)(semi - v) : len;
    const char *paren = memchr(v, '(', *out_len); /* a comment */
    if (paren) *out_len = (size_t)(paren - v);
    return trim(v, out_len);
}

/* ------------------------------------------------------------------ fields */

static void content_type(lw_mime_hdr *h, const char *v, size_t len, param_ctx *p)
{
    size_t tl;
    const char *t = main_value(v, len, &tl);
    const char *slash = memchr(t, '/', tl);
    const char *sub = slash ? slash + 1 : t + tl;
    size_t sl = (size_t)(t + tl - sub);
    h->have_ctype = true;
    h->type = MIME_TYPE_LEAF;
    if (prefix_ci(t, tl, "multipart/")) {
        h->type = MIME_TYPE_MULTIPART;
        h->digest = eq_ci(sub, sl, "digest");
    } else if (eq_ci(t, tl, "message/rfc822") || eq_ci(t, tl, "message/global")) {
        h->type = MIME_TYPE_MESSAGE;
    }
    if (eq_ci(t, tl, "application/x-www-form-urlencoded"))
        h->kind = LW_TEXT_FORM;
    else if (eq_ci(sub, sl, "json") || (sl >= 5 && eq_ci(sub + sl - 5, 5, "+json")))
        h->kind = LW_TEXT_JSON;
    h->opaque = prefix_ci(t, tl, "image/") || prefix_ci(t, tl, "audio/") ||
                prefix_ci(t, tl, "video/") || prefix_ci(t, tl, "font/");
    p->fn_param = "name";
    p->rank = RANK_NAME;
    params(p, v, len);
    h->bad_boundary = h->type == MIME_TYPE_MULTIPART && h->boundary_len == 0;
}

static void transfer_encoding(lw_mime_hdr *h, const char *v, size_t len, lw_mime_counters *ctr)
{
    size_t tl;
    const char *t = main_value(v, len, &tl);
    for (size_t i = 0; i < tl; i++)
        if (is_wsp(t[i])) tl = i;
    h->have_cte = true;
    if (tl == 0 || eq_ci(t, tl, "7bit") || eq_ci(t, tl, "8bit") || eq_ci(t, tl, "binary")) {
        h->enc = MIME_ENC_IDENTITY;
    } else if (eq_ci(t, tl, "base64")) {
        h->enc = MIME_ENC_BASE64;
    } else if (eq_ci(t, tl, "quoted-printable")) {
        h->enc = MIME_ENC_QP;
    } else {
        h->enc = MIME_ENC_UNKNOWN;
        if (ctr) ctr->c[LW_MIME_unknown_encoding]++;
    }
}

void lw_mime_hdr_field(lw_mime_hdr *h, const char *name, size_t name_len, const char *value,
                       size_t value_len, lw_mime_scratch *s, lw_mime_counters *ctr,
                       lw_codec_counters *codec)
{
    if (value_len > LW_MIME_HEADER_MAX) value_len = LW_MIME_HEADER_MAX;
    value = trim(value, &value_len);
    param_ctx p = {.h = h, .s = s, .codec = codec};
    if (eq_ci(name, name_len, "content-type")) {
        if (!h->have_ctype) content_type(h, value, value_len, &p);
    } else if (eq_ci(name, name_len, "content-transfer-encoding")) {
        if (!h->have_cte) transfer_encoding(h, value, value_len, ctr);
    } else if (eq_ci(name, name_len, "content-disposition")) {
        size_t tl;
        const char *t = main_value(value, value_len, &tl);
        if (eq_ci(t, tl, "attachment")) h->attachment = true;
        p.fn_param = "filename";
        p.rank = RANK_FILENAME;
        params(&p, value, value_len);
    }
}
