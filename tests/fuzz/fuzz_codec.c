/*
 * fuzz_codec.c — libFuzzer target for codec.h and derive.h. The input's first three bytes
 * choose a split point and options; the rest is fed to every streaming decoder (base64,
 * quoted-printable, percent with and without '+', JSON unescaping) whole, split at that point
 * and, when short, byte by byte, each piece into a heap buffer of exactly LW_CODEC_OUT_MAX
 * bytes; the outputs and counters must agree. lw_rfc2047_decode runs with a roomy and a cut
 * buffer (the cut output must be a prefix), and the deriver with all three text kinds, whole
 * and split, must emit the same parts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leakwatch/codec.h"
#include "leakwatch/derive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) __builtin_trap();                                                                \
    } while (0)

#define BYTEWISE_MAX 256 /* inputs up to this long are also fed one byte at a time */

enum codec { C_B64, C_QP, C_PCT, C_PCT_PLUS, C_JSON, C__COUNT };

typedef union any_state {
    lw_b64 b64;
    lw_qp qp;
    lw_pct pct;
    lw_json_unesc json;
} any_state;

static void c_init(enum codec c, any_state *st)
{
    switch (c) {
    case C_B64:
        lw_b64_init(&st->b64);
        break;
    case C_QP:
        lw_qp_init(&st->qp);
        break;
    case C_PCT:
        lw_pct_init(&st->pct, false);
        break;
    case C_PCT_PLUS:
        lw_pct_init(&st->pct, true);
        break;
    default:
        lw_json_unesc_init(&st->json);
        break;
    }
}

static size_t c_decode(enum codec c, any_state *st, const uint8_t *in, size_t len, uint8_t *out,
                       lw_codec_counters *ctr)
{
    switch (c) {
    case C_B64:
        return lw_b64_decode(&st->b64, in, len, out, ctr);
    case C_QP:
        return lw_qp_decode(&st->qp, in, len, out, ctr);
    case C_PCT:
    case C_PCT_PLUS:
        return lw_pct_decode(&st->pct, in, len, out, ctr);
    default:
        return lw_json_unesc_decode(&st->json, in, len, out, ctr);
    }
}

static size_t c_finish(enum codec c, any_state *st, uint8_t *out, lw_codec_counters *ctr)
{
    switch (c) {
    case C_B64:
        lw_b64_finish(&st->b64, ctr);
        return 0;
    case C_QP:
        return lw_qp_finish(&st->qp, out, ctr);
    case C_PCT:
    case C_PCT_PLUS:
        return lw_pct_finish(&st->pct, out, ctr);
    default:
        return lw_json_unesc_finish(&st->json, out, ctr);
    }
}

static bool c_changed(enum codec c, const any_state *st)
{
    if (c == C_PCT || c == C_PCT_PLUS) return st->pct.changed;
    if (c == C_JSON) return st->json.changed;
    return false;
}

/* One piece into an exactly-sized heap buffer, appended to res. */
static size_t piece(enum codec c, any_state *st, const uint8_t *in, size_t len, uint8_t *res,
                    lw_codec_counters *ctr)
{
    uint8_t *out = malloc(LW_CODEC_OUT_MAX(len));
    CHECK(out);
    size_t n = c_decode(c, st, in, len, out, ctr);
    CHECK(n <= LW_CODEC_OUT_MAX(len));
    if (c == C_B64) CHECK(n <= len);
    memcpy(res, out, n);
    free(out);
    return n;
}

/* Decodes in[0..len) in pieces cut at the given points (ascending, within len). */
static size_t decode_cuts(enum codec c, const uint8_t *in, size_t len, const size_t *cuts,
                          size_t ncuts, uint8_t *res, lw_codec_counters *ctr, bool *changed)
{
    any_state st;
    c_init(c, &st);
    size_t n = 0, from = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        n += piece(c, &st, in + from, to - from, res + n, ctr);
        from = to;
    }
    uint8_t *out = malloc(8);
    CHECK(out);
    size_t m = c_finish(c, &st, out, ctr);
    CHECK(m <= 8);
    memcpy(res + n, out, m);
    free(out);
    *changed = c_changed(c, &st);
    return n + m;
}

static void fuzz_streaming(enum codec c, const uint8_t *in, size_t len, size_t split)
{
    uint8_t *whole = malloc(len + 16), *part = malloc(len + 16);
    CHECK(whole && part);
    lw_codec_counters cw = {{0}}, cp = {{0}};
    bool chw, chp;
    size_t nw = decode_cuts(c, in, len, NULL, 0, whole, &cw, &chw);
    CHECK(nw <= len + 8);
    size_t np = decode_cuts(c, in, len, &split, 1, part, &cp, &chp);
    CHECK(np == nw && memcmp(whole, part, nw) == 0 && chw == chp);
    CHECK(memcmp(&cw, &cp, sizeof(cw)) == 0);
    if (len <= BYTEWISE_MAX) {
        size_t cuts[BYTEWISE_MAX];
        for (size_t i = 0; i + 1 < len; i++) cuts[i] = i + 1;
        lw_codec_counters cb = {{0}};
        size_t nb = decode_cuts(c, in, len, cuts, len ? len - 1 : 0, part, &cb, &chp);
        CHECK(nb == nw && memcmp(whole, part, nw) == 0 && chw == chp);
        CHECK(memcmp(&cw, &cb, sizeof(cw)) == 0);
    }
    free(whole);
    free(part);
}

static void fuzz_rfc2047(const uint8_t *in, size_t len, size_t cap)
{
    size_t big_cap = len + 1;
    char *big = malloc(big_cap), *cut = malloc(cap ? cap : 1);
    CHECK(big && cut);
    memset(big, 0xAA, big_cap);
    memset(cut, 0xAA, cap ? cap : 1);
    lw_codec_counters c1 = {{0}}, c2 = {{0}};
    int w1 = lw_rfc2047_decode((const char *)in, len, big, big_cap, &c1);
    int w2 = lw_rfc2047_decode((const char *)in, len, cut, cap, &c2);
    CHECK(w1 == w2 && w1 >= 0);
    CHECK(memcmp(&c1, &c2, sizeof(c1)) == 0);
    if (cap) CHECK(memcmp(big, cut, cap - 1) == 0); /* cap <= big_cap: a prefix */
    free(big);
    free(cut);
}

/* ------------------------------------------------------------------ derive */

typedef struct sink_hash {
    uint64_t h;
    bool open;
    int parts;
} sink_hash;

static void mix(sink_hash *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) s->h = (s->h ^ b[i]) * 0x100000001b3ull;
}

static void h_begin(void *user, const lw_part_info *info)
{
    sink_hash *s = user;
    CHECK(!s->open && info && info->layer);
    size_t n = strlen(info->layer);
    CHECK(n < LW_LAYER_MAX);
    mix(s, "B", 1);
    mix(s, info->layer, n + 1);
    mix(s, info->filename ? "F" : "-", 1);
    s->open = true;
    s->parts++;
}

static void h_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    sink_hash *s = user;
    CHECK(s->open && len > 0 && raw == LW_NO_RAW);
    mix(s, data, len);
}

static void h_end(void *user)
{
    sink_hash *s = user;
    CHECK(s->open);
    mix(s, "E", 1);
    s->open = false;
}

typedef struct derive_out {
    sink_hash text, b64;
    lw_derive_counters ctr;
    lw_codec_counters codec;
} derive_out;

static void derive_cuts(enum lw_text_kind kind, const uint8_t *in, size_t len, const size_t *cuts,
                        size_t ncuts, uint8_t opt, derive_out *o)
{
    memset(o, 0, sizeof(*o));
    o->text.h = o->b64.h = 0xcbf29ce484222325ull;
    lw_part_sink text = {h_begin, h_data, h_end, NULL, NULL, &o->text};
    lw_part_sink b64 = {h_begin, h_data, h_end, NULL, NULL, &o->b64};
    if (opt & 0x10) text.begin = NULL;
    size_t min_b64 = opt & 0x20 ? (size_t)(opt & 0x0F) * 9 : 0;
    lw_derive *d = lw_derive_new(&text, &b64, !(opt & 0x40), min_b64, &o->ctr, &o->codec);
    if (!d) return;
    lw_derive_begin(d, "fuzz.part", opt & 0x80 ? "f.txt" : NULL, kind);
    size_t from = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        lw_derive_data(d, in + from, to - from);
        from = to;
    }
    lw_derive_end(d);
    CHECK(!o->text.open && !o->b64.open);
    lw_derive_free(d);
}

static void fuzz_derive(enum lw_text_kind kind, const uint8_t *in, size_t len, size_t split,
                        uint8_t opt)
{
    static derive_out whole, part;
    derive_cuts(kind, in, len, NULL, 0, opt, &whole);
    derive_cuts(kind, in, len, &split, 1, opt, &part);
    CHECK(memcmp(&whole, &part, sizeof(whole)) == 0);
    if (len <= BYTEWISE_MAX / 2) {
        size_t cuts[BYTEWISE_MAX];
        for (size_t i = 0; i + 1 < len; i++) cuts[i] = i + 1;
        derive_cuts(kind, in, len, cuts, len ? len - 1 : 0, opt, &part);
        CHECK(memcmp(&whole, &part, sizeof(whole)) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    size_t sel = (size_t)data[0] | (size_t)data[1] << 8;
    uint8_t opt = data[2];
    const uint8_t *in = data + 3;
    size_t len = size - 3;
    size_t split = sel % (len + 1);
    for (int c = 0; c < C__COUNT; c++) fuzz_streaming((enum codec)c, in, len, split);
    fuzz_rfc2047(in, len, sel % (len + 2));
    fuzz_derive(LW_TEXT_OTHER, in, len, split, opt);
    fuzz_derive(LW_TEXT_FORM, in, len, split, opt);
    fuzz_derive(LW_TEXT_JSON, in, len, split, opt);
    return 0;
}
