/*
 * test_decompress.c — the Content-Encoding decoders of decompress.h: Content-Encoding
 * parsing, gzip (and several members), zlib and raw deflate, br, chains, input split byte by
 * byte giving the same output, corrupt and truncated input, the decoded budget (LIMIT), the
 * compression-ratio ceiling on a zero bomb (RATIO, bounded output) and the memory pool cap
 * (NOMEM).
 *
 * br input comes from libbrotlienc when the build found it (LW_HAVE_BROTLIENC, linked only
 * into this test); otherwise from a fixed blob made with it.
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
#ifdef LW_HAVE_BROTLIENC
#include <brotli/encode.h>
#endif

#include "leakwatch/decompress.h"

/* ------------------------------------------------------------------ helpers */

typedef struct outbuf {
    uint8_t *p;
    size_t len, cap;
    size_t calls, max_block;
    bool keep; /* false: only count (zero bombs) */
} outbuf;

static void out_fn(void *user, const uint8_t *data, size_t len)
{
    outbuf *o = user;
    assert_true(len > 0);
    o->calls++;
    if (len > o->max_block) o->max_block = len;
    if (o->keep) {
        if (o->len + len > o->cap) {
            o->cap = (o->len + len) * 2;
            o->p = realloc(o->p, o->cap);
            assert_non_null(o->p);
        }
        memcpy(o->p + o->len, data, len);
    }
    o->len += len;
}

/* windowBits: 31 gzip, 15 zlib, -15 raw deflate. */
static size_t zcompress(const uint8_t *in, size_t len, uint8_t *out, size_t cap, int wbits)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = z.total_out;
    deflateEnd(&z);
    return n;
}

static const char *sample_text(size_t *len)
{
    static char buf[20000];
    static size_t n;
    if (!n) {
        for (int i = 0; n + 100 < sizeof(buf); i++)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                                  "line %d: ssn=078-05-%04d card=4111111111111111 %x\n", i,
                                  i % 10000, (unsigned)(i * 2654435761u));
    }
    *len = n;
    return buf;
}

static lw_decomp_pool pool_of(uint64_t cap)
{
    lw_decomp_pool p = {cap, 0, 0};
    return p;
}

/* Decodes in with the given stages, in pieces of `step` bytes (0: whole). */
static enum lw_decomp_status decode(const enum lw_cenc *st, int n, const uint8_t *in, size_t len,
                                    size_t step, uint64_t budget, lw_decomp_pool *pool, outbuf *o,
                                    bool *finished)
{
    lw_decomp *d = lw_decomp_new(st, n, pool);
    assert_non_null(d);
    enum lw_decomp_status s = LW_DECOMP_OK;
    if (!step) step = len ? len : 1;
    for (size_t i = 0; i < len && (s == LW_DECOMP_OK); i += step) {
        size_t k = len - i < step ? len - i : step;
        s = lw_decomp_data(d, in + i, k, &budget, out_fn, o);
    }
    if (finished) *finished = lw_decomp_finished(d);
    assert_int_equal(lw_decomp_decoded(d), o->len);
    lw_decomp_free(d);
    assert_int_equal(pool->used, 0); /* everything given back */
    return s;
}

static void roundtrip(const enum lw_cenc *st, int n, const uint8_t *enc, size_t elen,
                      const void *want, size_t wlen)
{
    static const size_t steps[] = {0, 1, 2, 3, 7, 100, 4096};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        lw_decomp_pool pool = pool_of(LW_DECOMP_POOL_DEFAULT);
        outbuf o = {.keep = true};
        bool fin = false;
        enum lw_decomp_status s = decode(st, n, enc, elen, steps[i], UINT64_MAX, &pool, &o, &fin);
        assert_int_equal(s, LW_DECOMP_DONE);
        assert_true(fin);
        assert_int_equal(o.len, wlen);
        assert_memory_equal(o.p, want, wlen);
        assert_true(o.max_block <= 16384);
        free(o.p);
    }
}

/* ------------------------------------------------------------------ tests */

static void test_cenc_parse(void **state)
{
    (void)state;
    enum lw_cenc st[LW_DECOMP_MAX_STAGES];
    assert_int_equal(lw_cenc_parse("gzip", st), 1);
    assert_int_equal(st[0], LW_CENC_GZIP);
    assert_int_equal(lw_cenc_parse("X-GZIP", st), 1);
    assert_int_equal(st[0], LW_CENC_GZIP);
    assert_int_equal(lw_cenc_parse("gzip, br", st), 2); /* undone br first */
    assert_int_equal(st[0], LW_CENC_BR);
    assert_int_equal(st[1], LW_CENC_GZIP);
    assert_int_equal(lw_cenc_parse(" deflate ,identity,gzip;q=1", st), 2);
    assert_int_equal(st[0], LW_CENC_GZIP);
    assert_int_equal(st[1], LW_CENC_DEFLATE);
    assert_int_equal(lw_cenc_parse("identity", st), 0);
    assert_int_equal(lw_cenc_parse("", st), 0);
    assert_int_equal(lw_cenc_parse("compress", st), -1);
    assert_int_equal(lw_cenc_parse("gzip, zstd", st), -1);
    assert_int_equal(lw_cenc_parse("gzip,gzip,gzip,gzip", st), -1); /* too many stages */
    assert_string_equal(lw_cenc_name(LW_CENC_GZIP), "gzip");
    assert_string_equal(lw_cenc_name(LW_CENC_DEFLATE), "deflate");
    assert_string_equal(lw_cenc_name(LW_CENC_BR), "br");
}

static void test_gzip_zlib_raw(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *txt = (const uint8_t *)sample_text(&len);
    size_t cap = len + 1024;
    uint8_t *enc = malloc(cap);
    enum lw_cenc gz = LW_CENC_GZIP, df = LW_CENC_DEFLATE;
    size_t n = zcompress(txt, len, enc, cap, 31);
    roundtrip(&gz, 1, enc, n, txt, len);
    n = zcompress(txt, len, enc, cap, 15); /* deflate as RFC says: zlib */
    roundtrip(&df, 1, enc, n, txt, len);
    n = zcompress(txt, len, enc, cap, -15); /* deflate as some servers send it: raw */
    roundtrip(&df, 1, enc, n, txt, len);
    /* a short text whose raw deflate starts with bytes that are no zlib header */
    const char *hi = "hi";
    n = zcompress((const uint8_t *)hi, 2, enc, cap, -15);
    roundtrip(&df, 1, enc, n, hi, 2);
    /* an empty body */
    n = zcompress((const uint8_t *)"", 0, enc, cap, 31);
    roundtrip(&gz, 1, enc, n, "", 0);
    free(enc);
}

static void test_gzip_members_and_trailing(void **state)
{
    (void)state;
    uint8_t enc[512];
    size_t a = zcompress((const uint8_t *)"first member;", 13, enc, sizeof(enc), 31);
    size_t b = zcompress((const uint8_t *)"second member", 13, enc + a, sizeof(enc) - a, 31);
    enum lw_cenc gz = LW_CENC_GZIP;
    lw_decomp_pool pool = pool_of(LW_DECOMP_POOL_DEFAULT);
    outbuf o = {.keep = true};
    bool fin;
    assert_int_equal(decode(&gz, 1, enc, a + b, 0, UINT64_MAX, &pool, &o, &fin), LW_DECOMP_DONE);
    assert_int_equal(o.len, 26);
    assert_memory_equal(o.p, "first member;second member", 26);
    free(o.p);
    /* trailing junk after the stream is ignored */
    memcpy(enc + a, "\r\n\r\njunk", 8);
    memset(&o, 0, sizeof(o));
    o.keep = true;
    for (size_t step = 0; step < 4; step++) {
        o.len = 0;
        assert_int_equal(decode(&gz, 1, enc, a + 8, step, UINT64_MAX, &pool, &o, &fin),
                         LW_DECOMP_DONE);
        assert_int_equal(o.len, 13);
        assert_true(fin);
    }
    free(o.p);
}

#ifndef LW_HAVE_BROTLIENC
/* BrotliEncoderCompress(11, 22, TEXT) of br_text below. */
static const uint8_t br_blob[] = {
    0x1b, 0xad, 0x00, 0x40, 0x8c, 0xc4, 0x38, 0x46, 0xf2, 0xe4, 0x40, 0xb4, 0x39, 0xb7, 0xb1, 0x7b,
    0x5a, 0x85, 0xa3, 0x75, 0x8b, 0x86, 0x20, 0x04, 0x51, 0xc7, 0x80, 0x28, 0xec, 0x74, 0xca, 0x81,
    0x43, 0x2d, 0x28, 0x4b, 0xfc, 0x72, 0xb6, 0x0b, 0xd8, 0xdd, 0xc6, 0x96, 0x67, 0x28, 0xfa, 0xa4,
    0x46, 0xa4, 0x11, 0x05, 0x09, 0xf1, 0xed, 0xd5, 0xa4, 0xd8, 0xf3, 0xed, 0x71, 0xa3, 0x64, 0x37,
    0x0c, 0x41, 0x9f, 0xf5, 0x8d, 0xba, 0x7d, 0xb1, 0x61, 0xe1, 0x08, 0xf9, 0x43, 0x61, 0x0f,
};
#endif
static const char br_text[] =
    "Customer record: name=Alice Example; card=4111 1111 1111 1111; note=brotli test block. "
    "Customer record: name=Alice Example; card=4111 1111 1111 1111; note=brotli test block.\n";

/* br of in (encoder) or of br_text (blob); returns the length, *plain says what it holds. */
static size_t br_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                          const uint8_t **plain, size_t *plain_len)
{
#ifdef LW_HAVE_BROTLIENC
    size_t n = cap;
    assert_true(BrotliEncoderCompress(9, 22, BROTLI_MODE_GENERIC, len, in, &n, out));
    *plain = in;
    *plain_len = len;
    return n;
#else
    (void)in;
    (void)len;
    assert_true(cap >= sizeof(br_blob));
    memcpy(out, br_blob, sizeof(br_blob));
    *plain = (const uint8_t *)br_text;
    *plain_len = sizeof(br_text) - 1;
    return sizeof(br_blob);
#endif
}

static void test_brotli(void **state)
{
    (void)state;
#ifndef LW_HAVE_BROTLIENC
    print_message("libbrotlienc not found at build time: br tested on a fixed blob only\n");
#endif
    size_t len;
    const uint8_t *txt = (const uint8_t *)sample_text(&len);
    uint8_t *enc = malloc(len + 1024);
    const uint8_t *plain;
    size_t plain_len;
    size_t n = br_compress(txt, len, enc, len + 1024, &plain, &plain_len);
    enum lw_cenc br = LW_CENC_BR;
    roundtrip(&br, 1, enc, n, plain, plain_len);
    n = br_compress((const uint8_t *)br_text, sizeof(br_text) - 1, enc, len + 1024, &plain,
                    &plain_len);
    roundtrip(&br, 1, enc, n, br_text, sizeof(br_text) - 1);

    /* gzip over br ("Content-Encoding: br, gzip"): gzip undone first */
    uint8_t *gz = malloc(n + 1024);
    size_t gn = zcompress(enc, n, gz, n + 1024, 31);
    enum lw_cenc chain[LW_DECOMP_MAX_STAGES];
    assert_int_equal(lw_cenc_parse("br, gzip", chain), 2);
    roundtrip(chain, 2, gz, gn, br_text, sizeof(br_text) - 1);
    free(gz);

    /* corrupt br */
    enc[0] ^= 0xff;
    enc[1] ^= 0x5a;
    lw_decomp_pool pool = pool_of(LW_DECOMP_POOL_DEFAULT);
    outbuf o = {0};
    assert_int_equal(decode(&br, 1, enc, n, 0, UINT64_MAX, &pool, &o, NULL), LW_DECOMP_CORRUPT);
    free(enc);
}

static void test_corrupt_and_truncated(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *txt = (const uint8_t *)sample_text(&len);
    uint8_t *enc = malloc(len + 1024);
    size_t n = zcompress(txt, len, enc, len + 1024, 31);
    enum lw_cenc gz = LW_CENC_GZIP, df = LW_CENC_DEFLATE;
    lw_decomp_pool pool = pool_of(LW_DECOMP_POOL_DEFAULT);

    /* not gzip at all */
    outbuf o = {0};
    const char *junk = "this is not compressed at all, just text";
    for (size_t step = 0; step < 3; step++) {
        o.len = 0;
        assert_int_equal(
            decode(&gz, 1, (const uint8_t *)junk, strlen(junk), step, UINT64_MAX, &pool, &o, NULL),
            LW_DECOMP_CORRUPT);
    }
    /* a damaged stream: decoding stops with CORRUPT, and says so again after */
    uint8_t *bad = malloc(n);
    memcpy(bad, enc, n);
    for (size_t i = n / 3; i < n / 3 + 16; i++) bad[i] ^= 0xa5;
    lw_decomp *d = lw_decomp_new(&gz, 1, &pool);
    uint64_t budget = UINT64_MAX;
    o.len = 0;
    enum lw_decomp_status s = lw_decomp_data(d, bad, n, &budget, out_fn, &o);
    assert_int_equal(s, LW_DECOMP_CORRUPT);
    assert_int_equal(lw_decomp_data(d, enc, n, &budget, out_fn, &o), LW_DECOMP_CORRUPT);
    assert_false(lw_decomp_finished(d));
    lw_decomp_free(d);
    /* what was decoded before the damage comes out the same however the input is split */
    size_t whole_len = o.len;
    outbuf ow = {.keep = true}, ob = {.keep = true};
    assert_int_equal(decode(&gz, 1, bad, n, 0, UINT64_MAX, &pool, &ow, NULL), LW_DECOMP_CORRUPT);
    assert_int_equal(decode(&gz, 1, bad, n, 1, UINT64_MAX, &pool, &ob, NULL), LW_DECOMP_CORRUPT);
    assert_int_equal(ow.len, whole_len);
    assert_int_equal(ob.len, ow.len);
    assert_true(ow.len > 0);
    assert_memory_equal(ow.p, ob.p, ow.len);
    free(ow.p);
    free(ob.p);
    free(bad);

    /* truncated: OK so far, not finished */
    o.len = 0;
    bool fin = true;
    assert_int_equal(decode(&gz, 1, enc, n / 2, 1, UINT64_MAX, &pool, &o, &fin), LW_DECOMP_OK);
    assert_false(fin);
    assert_true(o.len > 0 && o.len < len);
    /* raw deflate of junk bytes */
    o.len = 0;
    static const uint8_t raw_bad[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(decode(&df, 1, raw_bad, sizeof(raw_bad), 0, UINT64_MAX, &pool, &o, NULL),
                     LW_DECOMP_CORRUPT);
    o.len = 0;
    assert_int_equal(decode(&df, 1, raw_bad, sizeof(raw_bad), 1, UINT64_MAX, &pool, &o, NULL),
                     LW_DECOMP_CORRUPT);
    free(enc);
}

static void test_budget_limit(void **state)
{
    (void)state;
    size_t len;
    const uint8_t *txt = (const uint8_t *)sample_text(&len);
    uint8_t *enc = malloc(len + 1024);
    size_t n = zcompress(txt, len, enc, len + 1024, 31);
    enum lw_cenc gz = LW_CENC_GZIP;
    lw_decomp_pool pool = pool_of(LW_DECOMP_POOL_DEFAULT);
    for (size_t step = 0; step < 3; step++) {
        outbuf o = {.keep = true};
        lw_decomp *d = lw_decomp_new(&gz, 1, &pool);
        uint64_t budget = 5000;
        enum lw_decomp_status s = LW_DECOMP_OK;
        for (size_t i = 0; i < n && s == LW_DECOMP_OK; i += step ? step : n)
            s = lw_decomp_data(d, enc + i, step && n - i > step ? step : n - i, &budget, out_fn,
                               &o);
        assert_int_equal(s, LW_DECOMP_LIMIT);
        assert_int_equal(budget, 0);
        assert_int_equal(o.len, 5000); /* exactly the budget, a prefix of the text */
        assert_memory_equal(o.p, txt, 5000);
        assert_int_equal(lw_decomp_decoded(d), 5000);
        assert_int_equal(lw_decomp_data(d, enc, n, &budget, out_fn, &o), LW_DECOMP_LIMIT);
        lw_decomp_free(d);
        free(o.p);
    }
    /* a zero budget from the start */
    outbuf o = {0};
    assert_int_equal(decode(&gz, 1, enc, n, 0, 0, &pool, &o, NULL), LW_DECOMP_LIMIT);
    assert_int_equal(o.len, 0);
    free(enc);
}

static void test_zero_bomb_ratio(void **state)
{
    (void)state;
    size_t big = 64u << 20;
    uint8_t *zeros = calloc(1, big);
    size_t cap = big / 100;
    uint8_t *enc = malloc(cap);
    assert_non_null(zeros);
    size_t n = zcompress(zeros, big, enc, cap, 31);
    free(zeros);
    assert_true(n < big / 500); /* a ratio of about 1000:1 */
    enum lw_cenc gz = LW_CENC_GZIP;
    lw_decomp_pool pool = pool_of(LW_DECOMP_POOL_DEFAULT);

    /* in network-sized pieces: stops soon after the ratio floor */
    outbuf o = {0};
    assert_int_equal(decode(&gz, 1, enc, n, 1460, UINT64_MAX, &pool, &o, NULL), LW_DECOMP_RATIO);
    assert_true(o.len > LW_DECOMP_RATIO_FLOOR);
    assert_true(o.len <= LW_DECOMP_RATIO_FLOOR + 2 * 16384 + 1460ull * LW_DECOMP_MAX_RATIO * 2);
    /* whole: the ratio is judged against everything given, still stopped well short */
    o.len = 0;
    assert_int_equal(decode(&gz, 1, enc, n, 0, UINT64_MAX, &pool, &o, NULL), LW_DECOMP_RATIO);
    assert_true(o.len <= (uint64_t)n * (LW_DECOMP_MAX_RATIO + 1) + 16384);
    assert_true(o.len < big);
    /* with a budget below the ratio floor, the budget stops it first */
    o.len = 0;
    assert_int_equal(decode(&gz, 1, enc, n, 1460, 1u << 19, &pool, &o, NULL), LW_DECOMP_LIMIT);
    assert_int_equal(o.len, 1u << 19);
    /* deflate (zlib) of zeros: the same */
    zeros = calloc(1, big / 8);
    n = zcompress(zeros, big / 8, enc, cap, 15);
    free(zeros);
    enum lw_cenc df = LW_CENC_DEFLATE;
    o.len = 0;
    assert_int_equal(decode(&df, 1, enc, n, 512, UINT64_MAX, &pool, &o, NULL), LW_DECOMP_RATIO);
    assert_true(o.len < big / 8);
    free(enc);
}

static void test_pool_cap_nomem(void **state)
{
    (void)state;
    enum lw_cenc gz = LW_CENC_GZIP, br = LW_CENC_BR;
    /* not even the output block fits */
    lw_decomp_pool tiny = pool_of(1024);
    assert_null(lw_decomp_new(&gz, 1, &tiny));
    assert_int_equal(tiny.used, 0);
    enum lw_cenc chain[3] = {LW_CENC_GZIP, LW_CENC_GZIP, LW_CENC_GZIP};
    lw_decomp_pool two = pool_of(2 * (16384 + 16) + 1024); /* the third block does not fit */
    assert_null(lw_decomp_new(chain, 3, &two));
    assert_int_equal(two.used, 0);
    assert_null(lw_decomp_new(chain, 0, &two));
    assert_null(lw_decomp_new(chain, 4, &two));

    /* the block fits, the zlib state and window do not */
    size_t len;
    const uint8_t *txt = (const uint8_t *)sample_text(&len);
    uint8_t *enc = malloc(len + 1024);
    size_t n = zcompress(txt, len, enc, len + 1024, 31);
    lw_decomp_pool small = pool_of(16384 + 4096);
    outbuf o = {0};
    assert_int_equal(decode(&gz, 1, enc, n, 0, UINT64_MAX, &small, &o, NULL), LW_DECOMP_NOMEM);
    assert_true(small.peak <= small.cap);

    /* br asking for a 16 MiB window from a 1 MiB pool */
    const uint8_t *plain;
    size_t plain_len;
#ifdef LW_HAVE_BROTLIENC
    size_t bn = len + 1024;
    assert_true(BrotliEncoderCompress(5, 24, BROTLI_MODE_GENERIC, len, txt, &bn, enc));
    (void)plain;
    (void)plain_len;
#else
    size_t bn = br_compress(txt, len, enc, len + 1024, &plain, &plain_len);
    enc[0] = (uint8_t)((enc[0] & ~0x7fu) | 0x11); /* WBITS 24 (window code 0x11 << 0) */
#endif
    lw_decomp_pool mib = pool_of(1u << 20);
    o.len = 0;
    enum lw_decomp_status s = decode(&br, 1, enc, bn, 0, UINT64_MAX, &mib, &o, NULL);
#ifdef LW_HAVE_BROTLIENC
    /* the ring buffer is sized to the window or to the stream, whichever brotli needs */
    assert_true(s == LW_DECOMP_NOMEM || s == LW_DECOMP_DONE);
#else
    assert_true(s == LW_DECOMP_NOMEM || s == LW_DECOMP_CORRUPT || s == LW_DECOMP_DONE);
#endif
    assert_true(mib.peak <= mib.cap);
    /* a pool shared by two decoders: while the first holds its window, the second is short */
    n = zcompress(txt, len, enc, len + 1024, 31);
    lw_decomp_pool shared = pool_of(2 * (16384 + 16) + 60 * 1024);
    lw_decomp *d1 = lw_decomp_new(&gz, 1, &shared);
    assert_non_null(d1);
    uint64_t budget = UINT64_MAX;
    o.len = 0;
    assert_int_equal(lw_decomp_data(d1, enc, n / 2, &budget, out_fn, &o), LW_DECOMP_OK);
    lw_decomp *d2 = lw_decomp_new(&gz, 1, &shared);
    assert_non_null(d2);
    outbuf o2 = {0}; /* (what d2 decoded before its window was refused still comes out) */
    assert_int_equal(lw_decomp_data(d2, enc, n, &budget, out_fn, &o2), LW_DECOMP_NOMEM);
    assert_true(o2.len <= 16384);
    lw_decomp_free(d2);
    assert_int_equal(lw_decomp_data(d1, enc + n / 2, n - n / 2, &budget, out_fn, &o),
                     LW_DECOMP_DONE);
    assert_int_equal(o.len, len);
    lw_decomp_free(d1);
    assert_int_equal(shared.used, 0);
    free(enc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cenc_parse),
        cmocka_unit_test(test_gzip_zlib_raw),
        cmocka_unit_test(test_gzip_members_and_trailing),
        cmocka_unit_test(test_brotli),
        cmocka_unit_test(test_corrupt_and_truncated),
        cmocka_unit_test(test_budget_limit),
        cmocka_unit_test(test_zero_bomb_ratio),
        cmocka_unit_test(test_pool_cap_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
