/*
 * fuzz_http.c — libFuzzer target for http.h (and through it decompress.h). The input is
 * two option bytes, then the client stream, then — after the marker "\n~~resp~~\n", or else
 * at a point the first option byte chooses — the server stream. Both directions are fed to
 * lw_http with a small decoded budget and a small decoder pool (so the guards trigger), once
 * whole and once in pieces of a size the second option byte chooses (the client stream first
 * each time: which responses have a body depends on the requests); a direction may have no
 * sink. The sinks check that parts never nest, that data comes only inside a part, that raw
 * offsets point at exactly those bytes of the stream, and that layer names fit; both feedings
 * must give the same parts unless a decoder ran out of memory (brotli sizes its ring buffer
 * from the input it can see) or the direction hit a parse error (http_parser drops the token
 * in progress there, where a piece boundary would have handed it on) or a body was corrupt
 * (libbrotli flushes its ring buffer only when it runs out of input, so what came out before
 * the error depends on the split; zlib's side of this is covered by test_decompress).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leakwatch/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) __builtin_trap();                                                                \
    } while (0)

static const char marker[] = "\n~~resp~~\n";

typedef struct hsink {
    uint64_t h;
    bool open;
    int parts, guards, messages;
    bool nomem;
    bool parse_error; /* http_parser drops the token in progress at an error: not compared */
    bool corrupt;     /* libbrotli loses unflushed ring-buffer bytes at an error: not compared */
    const uint8_t *stream;
    size_t stream_len;
} hsink;

static void mix(hsink *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) s->h = (s->h ^ b[i]) * 0x100000001b3ull;
}

static void s_begin(void *user, const lw_part_info *info)
{
    hsink *s = user;
    CHECK(!s->open && info && info->layer);
    size_t n = strlen(info->layer);
    CHECK(n > 0 && n < LW_LAYER_MAX);
    CHECK(strncmp(info->layer, "http.", 5) == 0);
    if (info->filename) CHECK(strlen(info->filename) < LW_FILENAME_MAX);
    mix(s, info->layer, n + 1);
    mix(s, &info->identity, sizeof(info->identity));
    s->open = true;
    s->parts++;
}

static void s_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    hsink *s = user;
    CHECK(s->open && len > 0 && data);
    if (raw != LW_NO_RAW) {
        CHECK(raw <= s->stream_len && len <= s->stream_len - raw);
        CHECK(memcmp(s->stream + raw, data, len) == 0);
    }
    mix(s, data, len);
}

static void s_end(void *user)
{
    hsink *s = user;
    CHECK(s->open);
    mix(s, "E", 1);
    s->open = false;
}

static void s_guard(void *user, const char *kind, const char *message)
{
    hsink *s = user;
    CHECK(kind && message && strlen(message) < 400);
    if (strcmp(kind, "decode_memory") == 0) s->nomem = true;
    mix(s, kind, strlen(kind) + 1);
    s->guards++;
}

static void s_message(void *user)
{
    ((hsink *)user)->messages++;
}

typedef struct result {
    hsink s[2];
    lw_http_counters http;
} result;

static void run(const uint8_t *st[2], const size_t len[2], uint8_t opt, size_t step, result *res)
{
    memset(res, 0, sizeof(*res));
    lw_part_sink sink[2];
    uint64_t budget[2];
    lw_decomp_pool pool = {(opt & 0x04) ? 48 * 1024 : 512 * 1024, 0, 0};
    lw_decomp_counters decomp = {{0}};
    lw_mime_counters mime = {{0}};
    lw_codec_counters codec = {{0}};
    lw_http_env env = {.pool = &pool,
                       .mime_depth = 4,
                       .http = &res->http,
                       .decomp = &decomp,
                       .mime = &mime,
                       .codec = &codec};
    for (int d = 0; d < 2; d++) {
        res->s[d].h = 0xcbf29ce484222325ull;
        res->s[d].stream = st[d];
        res->s[d].stream_len = len[d];
        sink[d] = (lw_part_sink){s_begin, s_data, s_end, s_guard, s_message, &res->s[d]};
        budget[d] = (opt & 0x08) ? 300 : 40000;
        env.budget[d] = &budget[d];
        env.sink[d] = (opt & (0x10 << d)) ? NULL : &sink[d];
    }
    lw_http *h = lw_http_new(&env);
    if (!h) return;
    /* the client stream first (the responses' framing depends on the requests' methods) */
    for (int d = 0; d < 2; d++) {
        for (size_t pos = 0; pos < len[d];) {
            size_t k = step && len[d] - pos > step ? step : len[d] - pos;
            uint64_t errors = res->http.c[LW_HTTP_parse_errors];
            uint64_t corrupt = decomp.c[LW_DECOMP_corrupt];
            lw_http_data(h, d, st[d] + pos, k, pos);
            if (res->http.c[LW_HTTP_parse_errors] != errors) res->s[d].parse_error = true;
            if (decomp.c[LW_DECOMP_corrupt] != corrupt) res->s[d].corrupt = true;
            pos += k;
        }
    }
    if (opt & 0x40) lw_http_gap(h, 1);
    for (int d = 0; d < 2; d++) {
        lw_http_end(h, d);
        CHECK(!lw_http_active(h, d));
        CHECK(!res->s[d].open); /* every part ended */
        CHECK(budget[d] <= 40000);
    }
    lw_http_free(h);
    CHECK(pool.used == 0);
    CHECK(pool.peak <= pool.cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    uint8_t opt = data[0], stepb = data[1];
    const uint8_t *in = data + 2;
    size_t len = size - 2;
    const uint8_t *st[2];
    size_t sl[2];
    const uint8_t *m = memmem(in, len, marker, sizeof(marker) - 1);
    if (m) {
        st[0] = in;
        sl[0] = (size_t)(m - in);
        st[1] = m + sizeof(marker) - 1;
        sl[1] = len - sl[0] - (sizeof(marker) - 1);
    } else {
        size_t split = (opt & 0x80) ? len : len * (opt & 0x03) / 3;
        st[0] = in;
        sl[0] = split;
        st[1] = in + split;
        sl[1] = len - split;
    }
    static result whole, pieces;
    run(st, sl, opt, 0, &whole);
    size_t step = 1 + stepb % 97;
    if (len > 20000) step = 1 + stepb * 64;
    run(st, sl, opt, step, &pieces);
    for (int d = 0; d < 2; d++) {
        if (whole.s[d].nomem || pieces.s[d].nomem) continue;
        CHECK(whole.s[d].parse_error == pieces.s[d].parse_error);
        if (whole.s[d].parse_error || whole.s[d].corrupt || pieces.s[d].corrupt) continue;
        CHECK(whole.s[d].h == pieces.s[d].h);
        CHECK(whole.s[d].parts == pieces.s[d].parts);
        CHECK(whole.s[d].messages == pieces.s[d].messages);
    }
    return 0;
}
