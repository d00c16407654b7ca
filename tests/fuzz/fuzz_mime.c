/*
 * fuzz_mime.c — libFuzzer target for mime.h. The input's first three bytes choose the options
 * (whole message or a multipart body under one of a few Content-Type values, raw offsets or
 * none, max_depth 0..7) and a split point; the rest is fed whole, split at that point and,
 * when short, byte by byte. The three runs must emit the same parts (layers, file names,
 * flags, bytes and each byte's raw offset) and counters; begin/data/end must pair up, names
 * must fit their caps, bytes given with a raw offset must be the input's bytes there, and the
 * depth guard may fire at most once.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leakwatch/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) __builtin_trap();                                                                \
    } while (0)

#define BYTEWISE_MAX 512 /* inputs up to this long are also fed one byte at a time */
#define RAW_BASE 1000

static const char *const ctypes[] = {
    "multipart/form-data; boundary=b",
    "multipart/mixed; BOUNDARY=\"=_x 1\"",
    "multipart/mixed",
    "text/plain",
};

typedef struct sink_hash {
    uint64_t h;
    bool open;
    int parts, guards;
    const uint8_t *in; /* the fed bytes, to check raw offsets against */
    size_t in_len;
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
    if (info->filename) {
        size_t f = strlen(info->filename);
        CHECK(f > 0 && f < LW_FILENAME_MAX);
        mix(s, info->filename, f + 1);
    }
    uint8_t flags[4] = {info->filename != NULL, info->identity, (uint8_t)info->kind, info->opaque};
    mix(s, flags, sizeof(flags));
    s->open = true;
    s->parts++;
}

static void h_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    sink_hash *s = user;
    CHECK(s->open && len > 0 && len <= 8192);
    if (raw != LW_NO_RAW) {
        CHECK(raw >= RAW_BASE && raw - RAW_BASE <= s->in_len &&
              len <= s->in_len - (raw - RAW_BASE));
        CHECK(memcmp(data, s->in + (raw - RAW_BASE), len) == 0);
    }
    for (size_t i = 0; i < len; i++) {
        uint64_t r = raw == LW_NO_RAW ? raw : raw + i;
        mix(s, data + i, 1);
        mix(s, &r, sizeof(r));
    }
}

static void h_end(void *user)
{
    sink_hash *s = user;
    CHECK(s->open);
    mix(s, "E", 1);
    s->open = false;
}

static void h_guard(void *user, const char *kind, const char *message)
{
    sink_hash *s = user;
    CHECK(kind && message && strcmp(kind, "mime_depth") == 0);
    s->guards++;
    CHECK(s->guards == 1);
    mix(s, "G", 1);
}

static void h_message(void *user)
{
    (void)user;
    CHECK(0); /* the caller announces messages, not the engine */
}

typedef struct mime_out {
    sink_hash s;
    lw_mime_counters ctr;
    lw_codec_counters codec;
} mime_out;

static void mime_cuts(uint8_t opt, const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts,
                      mime_out *o)
{
    memset(o, 0, sizeof(*o));
    o->s.h = 0xcbf29ce484222325ull;
    o->s.in = in;
    o->s.in_len = len;
    lw_part_sink sink = {h_begin, h_data, h_end, h_guard, h_message, &o->s};
    const char *ct = opt & 1 ? ctypes[(opt >> 1) & 3] : NULL;
    bool raw = (opt & 8) != 0;
    lw_mime *m = lw_mime_new("fuzz.mime", ct, (opt >> 4) & 7, &sink, &o->ctr, &o->codec);
    CHECK(m);
    size_t from = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : len;
        lw_mime_data(m, in + from, to - from, raw ? RAW_BASE + from : LW_NO_RAW);
        from = to;
    }
    lw_mime_end(m);
    CHECK(!o->s.open);
    lw_mime_data(m, in, len, LW_NO_RAW); /* after the end: ignored */
    lw_mime_end(m);
    lw_mime_free(m);
    CHECK(o->ctr.c[LW_MIME_messages] == 1);
    CHECK(o->ctr.c[LW_MIME_attachments] <= o->ctr.c[LW_MIME_parts]);
}

static bool same(const mime_out *a, const mime_out *b)
{
    return a->s.h == b->s.h && a->s.parts == b->s.parts && a->s.guards == b->s.guards &&
           memcmp(&a->ctr, &b->ctr, sizeof(a->ctr)) == 0 &&
           memcmp(&a->codec, &b->codec, sizeof(a->codec)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    uint8_t opt = data[0];
    size_t sel = (size_t)data[1] | (size_t)data[2] << 8;
    const uint8_t *in = data + 3;
    size_t len = size - 3;
    size_t split = sel % (len + 1);
    static mime_out whole, part;
    mime_cuts(opt, in, len, NULL, 0, &whole);
    mime_cuts(opt, in, len, &split, 1, &part);
    CHECK(same(&whole, &part));
    if (len <= BYTEWISE_MAX) {
        static size_t cuts[BYTEWISE_MAX];
        for (size_t i = 0; i + 1 < len; i++) cuts[i] = i + 1;
        mime_cuts(opt, in, len, cuts, len ? len - 1 : 0, &part);
        CHECK(same(&whole, &part));
    }
    return 0;
}
