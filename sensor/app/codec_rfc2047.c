/*
 * codec_rfc2047.c — RFC 2047 encoded-words ("=?charset?B|Q?text?=") in one header value,
 * decoded into a bounded, NUL-terminated buffer (codec.h). Whitespace between two adjacent
 * encoded-words is dropped (§6.2); charsets are not converted. Anything that looks like an
 * encoded-word ("=?charset?X?") but cannot be decoded is kept as is and counted.
 */
#include "leakwatch/codec.h"

#include <string.h>

typedef struct outbuf {
    char *buf;
    size_t cap, n; /* n < cap whenever cap > 0: room for the NUL stays */
} outbuf;

typedef struct word {
    char enc;          /* 'B' or 'Q' as written (either case), anything else is not known */
    size_t text, tlen; /* the encoded text: in[text .. text + tlen) */
    size_t end;        /* just after the closing "?=" */
} word;

enum parse { NOT_WORD, BAD_WORD, WORD };

static void put(outbuf *o, char c)
{
    if (o->n + 1 < o->cap) o->buf[o->n++] = c;
}

static void put_n(outbuf *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) put(o, s[i]);
}

static bool is_lwsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Printable ASCII other than '?' and space: what charset names and encoded text consist of. */
static bool word_char(char c)
{
    return c > ' ' && c < 0x7F && c != '?';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Parses an encoded-word at in[i] (which starts with "=?"). NOT_WORD: it does not even look
 * like one; BAD_WORD: "=?charset?X?" without its closing "?=". */
static enum parse parse_word(const char *in, size_t len, size_t i, word *w)
{
    size_t j = i + 2, cs = j;
    while (j < len && word_char(in[j])) j++;
    if (j == cs || j + 2 >= len || in[j] != '?' || in[j + 2] != '?') return NOT_WORD;
    w->enc = in[j + 1];
    w->text = j + 3;
    for (j = w->text; j < len && word_char(in[j]); j++) {
    }
    if (j + 1 >= len || in[j] != '?' || in[j + 1] != '=') return BAD_WORD;
    w->tlen = j - w->text;
    w->end = j + 2;
    return WORD;
}

static bool decode_b(const char *t, size_t len, outbuf *o)
{
    lw_codec_counters ctr = {{0}};
    lw_b64 b;
    lw_b64_init(&b);
    uint8_t tmp[LW_CODEC_OUT_MAX(64)];
    for (size_t i = 0; i < len; i += 64) {
        size_t k = len - i < 64 ? len - i : 64;
        size_t n = lw_b64_decode(&b, (const uint8_t *)t + i, k, tmp, &ctr);
        put_n(o, (const char *)tmp, n);
    }
    lw_b64_finish(&b, &ctr);
    return ctr.c[LW_CODEC_b64_invalid] == 0 && ctr.c[LW_CODEC_b64_partial] == 0;
}

static bool decode_q(const char *t, size_t len, outbuf *o)
{
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '_') {
            put(o, ' ');
        } else if (t[i] != '=') {
            put(o, t[i]);
        } else if (i + 2 < len && hexval(t[i + 1]) >= 0 && hexval(t[i + 2]) >= 0) {
            put(o, (char)(hexval(t[i + 1]) << 4 | hexval(t[i + 2])));
            i += 2;
        } else {
            return false;
        }
    }
    return true;
}

/* Decodes a parsed word into o; on failure o is left as it was. */
static bool decode_word(const char *in, const word *w, outbuf *o)
{
    size_t mark = o->n;
    bool ok = false;
    if (w->enc == 'B' || w->enc == 'b') ok = decode_b(in + w->text, w->tlen, o);
    if (w->enc == 'Q' || w->enc == 'q') ok = decode_q(in + w->text, w->tlen, o);
    if (!ok) o->n = mark;
    return ok;
}

/* After a decoded word, in[i..j) is whitespace: true (and *next set) when an encoded-word
 * that decodes follows it, which then has been written to o. */
static bool adjacent_word(const char *in, size_t len, size_t j, outbuf *o, size_t *next)
{
    word w;
    if (j + 1 >= len || in[j] != '=' || in[j + 1] != '?') return false;
    if (parse_word(in, len, j, &w) != WORD || !decode_word(in, &w, o)) return false;
    *next = w.end;
    return true;
}

int lw_rfc2047_decode(const char *in, size_t len, char *out, size_t outcap, lw_codec_counters *ctr)
{
    outbuf o = {out, outcap, 0};
    int words = 0;
    bool after_word = false;
    size_t i = 0;
    while (i < len) {
        if (after_word && is_lwsp(in[i])) {
            size_t j = i, next;
            while (j < len && is_lwsp(in[j])) j++;
            if (adjacent_word(in, len, j, &o, &next)) {
                words++;
                i = next;
                continue;
            }
            put_n(&o, in + i, j - i);
            i = j;
            after_word = false;
            continue;
        }
        after_word = false;
        word w;
        enum parse p =
            i + 1 < len && in[i] == '=' && in[i + 1] == '?' ? parse_word(in, len, i, &w) : NOT_WORD;
        if (p == WORD && decode_word(in, &w, &o)) {
            words++;
            i = w.end;
            after_word = true;
            continue;
        }
        if (p != NOT_WORD && ctr) ctr->c[LW_CODEC_rfc2047_invalid]++;
        put(&o, in[i++]);
    }
    if (outcap) out[o.n] = '\0';
    return words;
}
