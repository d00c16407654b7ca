/*
 * test_edm.c — unit tests for Exact Data Match (include/leakwatch/edm.h, sensor/validate/edm_*.c,
 * sensor/edm/csv.c, sensor/edm/edm_build.c): the three normalizers and their output cap, the
 * keyed hash against lw_fingerprint, key files, the index file written and read back (members,
 * random non-members, bucket edges, the empty list, the header layout of edm.h, mode 0640),
 * every error lw_edm_open reports, the list set with its SIGHUP reload, the RFC 4180 reader,
 * and lw_edm_build from a CSV table to a list that answers the expected values.
 *
 * Everything is written under a mkdtemp directory in /tmp, removed at the end. Normalizer
 * inputs are copied into heap blocks of exactly their length, so a read past the end shows
 * under valgrind or ASan. A byte followed by a hex digit is written in octal ("\xC3\234ber" is
 * "\xC3\x9C" "ber"), so that no literal has to be split in two.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leakwatch/edm.h"
#include "leakwatch/fingerprint.h"
#include "edm/csv.h"
#include "edm/edm_build.h"

static char g_dir[] = "/tmp/lw_test_edm.XXXXXX";
static lw_fp_key g_key;  /* random per-run key */
static lw_fp_key g_key2; /* read from a 0600 key file */
static const char g_key2_text[] = "00112233445566778899aabbccddeeff";

/* ---- helpers ---- */

static void path_of(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", g_dir, name);
    assert_true(n > 0 && (size_t)n < cap);
}

static void write_bytes(const char *path, const void *p, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), n);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

/* Writes path.new and renames it over path: a new inode, as an administrator would do. */
static void replace_bytes(const char *path, const void *p, size_t n)
{
    char tmp[4096];
    int w = snprintf(tmp, sizeof(tmp), "%s.new", path);
    assert_true(w > 0 && (size_t)w < sizeof(tmp));
    write_bytes(tmp, p, n, 0640);
    assert_int_equal(rename(tmp, path), 0);
}

static uint8_t *read_bytes(const char *path, size_t *n)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    *n = (size_t)st.st_size;
    uint8_t *p = malloc(*n + 64);
    assert_non_null(p);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, p, *n), *n);
    close(fd);
    return p;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* FNV-1a 64, as edm.h specifies the checksum (an independent implementation). */
static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* An index file built by hand from the format in edm.h; entries are written as given (not
 * sorted), with a correct checksum. Returns a malloc'd block of *len bytes. */
static uint8_t *craft_index(uint32_t norm, const uint64_t *e, size_t n, uint64_t key_check,
                            size_t *len)
{
    *len = LW_EDM_HEADER_BYTES + 8 * n;
    uint8_t *p = calloc(1, *len);
    assert_non_null(p);
    memcpy(p, LW_EDM_MAGIC, 8);
    put32(p + 8, LW_EDM_VERSION);
    put32(p + 12, norm);
    put64(p + 16, n);
    put64(p + 24, key_check);
    for (size_t i = 0; i < n; i++) put64(p + LW_EDM_HEADER_BYTES + 8 * i, e[i]);
    put64(p + 32, fnv1a64(p + LW_EDM_HEADER_BYTES, 8 * n));
    return p;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool in_sorted(const uint64_t *v, size_t n, uint64_t x)
{
    return bsearch(&x, v, n, sizeof(*v), cmp_u64) != NULL;
}

static uint64_t hash_str(const lw_fp_key *k, const char *s)
{
    return lw_edm_hash(k, (const uint8_t *)s, strlen(s));
}

/* Writes a list of the hashes of the given normalized values under key. */
static void write_list(const char *path, lw_edm_norm norm, const char *const *vals, size_t n,
                       const lw_fp_key *key)
{
    uint64_t *h = malloc((n ? n : 1) * sizeof(*h));
    assert_non_null(h);
    for (size_t i = 0; i < n; i++) h[i] = hash_str(key, vals[i]);
    size_t count = n;
    char err[512] = "";
    if (!lw_edm_write(path, norm, h, &count, key, err, sizeof(err)))
        fail_msg("lw_edm_write(%s): %s", path, err);
    free(h);
}

static lw_edm_list *open_ok(const char *path, const lw_fp_key *key)
{
    char err[512] = "";
    lw_edm_list *l = lw_edm_open(path, key, err, sizeof(err));
    if (!l) fail_msg("lw_edm_open(%s): %s", path, err);
    return l;
}

static bool contains_str(const lw_edm_list *l, const char *s)
{
    size_t n = strlen(s);
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, s, n);
    bool r = lw_edm_contains(l, p, n, NULL, NULL);
    free(p);
    return r;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    char err[512], path[4096];
    if (!mkdtemp(g_dir)) return -1;
    if (!lw_fp_key_load(&g_key, NULL, err, sizeof(err))) return -1;
    snprintf(path, sizeof(path), "%s/key", g_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    /* surrounding whitespace is not part of the key */
    if (dprintf(fd, "  %s\n", g_key2_text) < 0 || fchmod(fd, 0600) != 0 || close(fd) != 0)
        return -1;
    if (!lw_fp_key_load(&g_key2, path, err, sizeof(err))) return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lw_fp_key_free(&g_key);
    lw_fp_key_free(&g_key2);
    return nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- normalizers ---- */

/* Normalizes in[0..inlen) (in a block of exactly that size) into a 64-byte buffer; want NULL
 * means "returns 0". */
static void expect_norm(lw_edm_norm n, const char *in, size_t inlen, const char *want)
{
    uint8_t *s = malloc(inlen ? inlen : 1);
    assert_non_null(s);
    memcpy(s, in, inlen);
    uint8_t out[64];
    size_t got = lw_edm_normalize(n, s, inlen, out, sizeof(out));
    free(s);
    if (!want) {
        if (got != 0)
            fail_msg("%s(\"%.*s\") returned %zu (\"%.*s\"), expected 0", lw_edm_norm_name(n),
                     (int)inlen, in, got, (int)got, (const char *)out);
        return;
    }
    if (got != strlen(want) || memcmp(out, want, got) != 0)
        fail_msg("%s(\"%.*s\") = \"%.*s\" (%zu bytes), expected \"%s\"", lw_edm_norm_name(n),
                 (int)inlen, in, (int)got, (const char *)out, got, want);
}

#define NORM(n, lit, want) expect_norm(n, lit, sizeof(lit) - 1, want)

static void test_norm_email(void **state)
{
    (void)state;
    const lw_edm_norm E = LW_EDM_NORM_EMAIL;
    NORM(E, "foo@example.com", "foo@example.com");
    NORM(E, "  Foo@Example.COM ", "foo@example.com");
    NORM(E, "\t\r\nFoo@Bar.ORG\r\n", "foo@bar.org");
    NORM(E, "\v\fa@b.c\f\v", "a@b.c");
    NORM(E, "\xC2\xA0x@y.z\xC2\xA0", "x@y.z");                               /* U+00A0 */
    NORM(E, "\xE3\x80\x80x@y.z\xE3\x80\x80", "x@y.z");                       /* U+3000 */
    NORM(E, "\xC2\xA0 \xE3\x80\x80\tA@B.C \xE3\x80\x80\xC2\xA0\n", "a@b.c"); /* mixed runs */
    /* inner content is kept, blanks included; only ASCII is lower-cased */
    NORM(E, "A B@C.D", "a b@c.d");
    NORM(E, "A\xC2\240B@C.D", "a\xC2\240b@c.d");
    NORM(E, "\xC3\234ber@X.DE", "\xC3\234ber@x.de"); /* U+00DC stays upper-case */
    NORM(E, "[\\]^_`@{|}~", "[\\]^_`@{|}~");         /* around 'A'..'Z', unchanged */
    NORM(E, "@AZ", "@az");
    /* bytes that only resemble the blanks are not trimmed */
    NORM(E, "x@y\xC3\xA0", "x@y\xC3\xA0");         /* U+00E0 ends in A0 */
    NORM(E, "x@y\xC2", "x@y\xC2");                 /* a lone lead byte */
    NORM(E, "\xA0x@y", "\xA0x@y");                 /* a lone continuation byte */
    NORM(E, "x@y\xE3\x80", "x@y\xE3\x80");         /* U+3000 cut short */
    NORM(E, "x@y\xE2\x80\x80", "x@y\xE2\x80\x80"); /* U+2000 is not in the set */
    /* nothing left */
    NORM(E, "", NULL);
    NORM(E, " \t\r\n", NULL);
    NORM(E, "\xC2\xA0\xE3\x80\x80\xC2\xA0", NULL);
}

static void test_norm_digits(void **state)
{
    (void)state;
    const lw_edm_norm D = LW_EDM_NORM_DIGITS;
    NORM(D, "0123456789", "0123456789");
    NORM(D, "123-456 789", "123456789");
    NORM(D, " +81 (3) 1234-5678 ", "81312345678");
    NORM(D, "ab1c2d", "12");
    /* full-width digits U+FF10..U+FF19 = EF BC 90..99 */
    NORM(D,
         "\xEF\xBC\x90\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96"
         "\xEF\xBC\x97\xEF\xBC\x98\xEF\xBC\x99",
         "0123456789");
    NORM(D, "1\xEF\xBC\x92-3\xEF\xBC\x94", "1234");
    /* near misses: U+FF0F, U+FF1A, U+FF50, cut short */
    NORM(D, "\xEF\xBC\x8F\xEF\xBC\x9A\xEF\xBD\x90", NULL);
    NORM(D, "7\xEF\xBC", "7");
    NORM(D, "\xEF\xBC", NULL);
    /* letters, dashes, blanks only, or nothing: 0 */
    NORM(D, "", NULL);
    NORM(D, "--  --", NULL);
    NORM(D, "abc XYZ", NULL);
}

static void test_norm_text(void **state)
{
    (void)state;
    const lw_edm_norm T = LW_EDM_NORM_TEXT;
    NORM(T, "Case Kept", "Case Kept");
    NORM(T, "  Hello   World  ", "Hello World");
    NORM(T, "a\t\xC2\xA0 \tb", "a b");
    NORM(T, "A\xE3\x80\x80\xE3\x80\200B", "A B");
    NORM(T, "a\r\nb\n\nc", "a b c");
    NORM(T, "\xC2\xA0\tYamada  Taro\xE3\x80\x80", "Yamada Taro");
    NORM(T, "x", "x");
    NORM(T, "\xC3\234ber", "\xC3\234ber");
    NORM(T, "", NULL);
    NORM(T, " \t\xC2\xA0\xE3\x80\x80 ", NULL);
}

/* The result fits in exactly cap bytes, and nothing is written past cap; one byte less: 0. */
static void expect_cap(lw_edm_norm n, const char *in, const char *want)
{
    size_t len = strlen(in), wl = strlen(want);
    uint8_t out[64];
    memset(out, 0xAA, sizeof(out));
    size_t got = lw_edm_normalize(n, (const uint8_t *)in, len, out, wl);
    if (got != wl || memcmp(out, want, wl) != 0)
        fail_msg("%s(\"%s\") with cap %zu returned %zu", lw_edm_norm_name(n), in, wl, got);
    for (size_t i = wl; i < sizeof(out); i++) assert_int_equal(out[i], 0xAA);
    memset(out, 0xAA, sizeof(out));
    got = lw_edm_normalize(n, (const uint8_t *)in, len, out, wl - 1);
    if (got != 0)
        fail_msg("%s(\"%s\") with cap %zu returned %zu, expected 0 (does not fit)",
                 lw_edm_norm_name(n), in, wl - 1, got);
    for (size_t i = wl - 1; i < sizeof(out); i++) assert_int_equal(out[i], 0xAA);
}

static void test_norm_cap(void **state)
{
    (void)state;
    expect_cap(LW_EDM_NORM_EMAIL, "abcdef", "abcdef");
    expect_cap(LW_EDM_NORM_EMAIL, "  ABCDEF \xC2\xA0", "abcdef"); /* blanks do not count */
    expect_cap(LW_EDM_NORM_DIGITS, "1234", "1234");
    expect_cap(LW_EDM_NORM_DIGITS, "1-2-3-4", "1234");
    expect_cap(LW_EDM_NORM_DIGITS, "\xEF\xBC\x91\xEF\xBC\x92", "12");
    expect_cap(LW_EDM_NORM_TEXT, "a  b", "a b");
    expect_cap(LW_EDM_NORM_TEXT, " a \t b c ", "a b c");
    expect_cap(LW_EDM_NORM_TEXT, "a b", "a b");
    /* cap 0 */
    uint8_t out[1];
    assert_int_equal(lw_edm_normalize(LW_EDM_NORM_EMAIL, (const uint8_t *)"a", 1, out, 0), 0);
    assert_int_equal(lw_edm_normalize(LW_EDM_NORM_DIGITS, (const uint8_t *)"1", 1, out, 0), 0);
    assert_int_equal(lw_edm_normalize(LW_EDM_NORM_TEXT, (const uint8_t *)"a", 1, out, 0), 0);
    /* an unknown normalizer leaves nothing */
    assert_int_equal(lw_edm_normalize((lw_edm_norm)0, (const uint8_t *)"a", 1, out, 1), 0);
    assert_int_equal(lw_edm_normalize((lw_edm_norm)9, (const uint8_t *)"a", 1, out, 1), 0);
}

static void test_norm_names(void **state)
{
    (void)state;
    const lw_edm_norm all[] = {LW_EDM_NORM_EMAIL, LW_EDM_NORM_DIGITS, LW_EDM_NORM_TEXT};
    const char *const names[] = {"email", "digits", "text"};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(lw_edm_norm_name(all[i]), names[i]);
        assert_int_equal(lw_edm_norm_lookup(names[i]), all[i]);
        assert_int_equal(lw_edm_norm_lookup(lw_edm_norm_name(all[i])), all[i]);
    }
    assert_int_equal(lw_edm_norm_lookup("phone"), 0);
    assert_int_equal(lw_edm_norm_lookup("EMAIL"), 0);
    assert_int_equal(lw_edm_norm_lookup("email "), 0);
    assert_int_equal(lw_edm_norm_lookup(""), 0);
    assert_int_equal(lw_edm_norm_lookup(NULL), 0);
    assert_string_equal(lw_edm_norm_name((lw_edm_norm)0), "unknown");
    assert_string_equal(lw_edm_norm_name((lw_edm_norm)4), "unknown");
    assert_int_equal(lw_edm_norm_lookup(lw_edm_norm_name((lw_edm_norm)4)), 0);
}

/* ---- keyed hash and keys ---- */

static void test_hash(void **state)
{
    (void)state;
    static uint8_t big[3000];
    for (size_t i = 0; i < sizeof(big); i++) big[i] = (uint8_t)(i * 7);
    const struct {
        const uint8_t *p;
        size_t n;
    } vals[] = {
        {(const uint8_t *)"", 0},
        {(const uint8_t *)"foo@example.com", 15},
        {(const uint8_t *)"12345", 5},
        {big, sizeof(big)},
    };
    const lw_fp_key *keys[] = {&g_key, &g_key2};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
            uint8_t fp[32];
            lw_fingerprint(keys[k], vals[i].p, vals[i].n, fp);
            assert_int_equal(lw_edm_hash(keys[k], vals[i].p, vals[i].n), le64(fp));
        }
    }
    /* little-endian (byte 0 is the low byte), and the key matters */
    uint8_t fp[32];
    lw_fingerprint(&g_key2, (const uint8_t *)"12345", 5, fp);
    uint64_t h2 = hash_str(&g_key2, "12345");
    assert_int_equal(h2 & 0xFF, fp[0]);
    assert_int_equal(h2 >> 56, fp[7]);
    assert_int_not_equal(hash_str(&g_key, "12345"), h2);
    assert_int_not_equal(hash_str(&g_key2, "12346"), h2);

    /* key check: the hash of the label, stable for a key, different between keys */
    assert_int_equal(lw_edm_key_check(&g_key), hash_str(&g_key, "leakwatch-edm key check"));
    assert_int_equal(lw_edm_key_check(&g_key2), hash_str(&g_key2, "leakwatch-edm key check"));
    assert_int_not_equal(lw_edm_key_check(&g_key), lw_edm_key_check(&g_key2));
    assert_int_equal(lw_edm_key_check(&g_key), lw_edm_key_check(&g_key));

    char err[512] = "";
    lw_fp_key k3;
    assert_true(lw_fp_key_load(&k3, NULL, err, sizeof(err)));
    assert_true(k3.random);
    assert_int_not_equal(lw_edm_key_check(&k3), lw_edm_key_check(&g_key));
    lw_fp_key_free(&k3);
}

/* HMAC-SHA-256 test cases 2 and 6 of RFC 4231 through key files: lw_edm_hash is the first 8
 * bytes of the published MAC, read little-endian. */
static void test_hash_vectors(void **state)
{
    (void)state;
    char path[4096], err[512] = "";
    lw_fp_key k;

    path_of(path, sizeof(path), "key-jefe");
    write_bytes(path, "Jefe\n", 5, 0600);
    assert_true(lw_fp_key_load(&k, path, err, sizeof(err)));
    /* 5bdcc146bf60754e 6a042426089575c7 5a003f089d273983 9dec58b964ec3843 */
    const char msg2[] = "what do ya want for nothing?";
    uint8_t fp[32];
    lw_fingerprint(&k, (const uint8_t *)msg2, sizeof(msg2) - 1, fp);
    static const uint8_t want2[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
    };
    assert_memory_equal(fp, want2, 32);
    assert_int_equal(hash_str(&k, msg2), 0x4e7560bf46c1dc5bull);
    lw_fp_key_free(&k);

    /* a 131-byte key, longer than the SHA-256 block: hashed first */
    uint8_t key6[131];
    memset(key6, 0xaa, sizeof(key6));
    path_of(path, sizeof(path), "key-aa");
    write_bytes(path, key6, sizeof(key6), 0600);
    assert_true(lw_fp_key_load(&k, path, err, sizeof(err)));
    assert_int_equal(k.len, 131);
    /* 60e431591ee0b67f 0d8a26aacbf5b77f 8e0bc6213728c514 0546040f0ee37f54 */
    assert_int_equal(hash_str(&k, "Test Using Larger Than Block-Size Key - Hash Key First"),
                     0x7fb6e01e5931e460ull);
    lw_fp_key_free(&k);
}

static void test_key_files(void **state)
{
    (void)state;
    char err[512] = "", path[4096];
    /* the 0600 file read in setup: its bytes without the surrounding whitespace */
    assert_false(g_key2.random);
    assert_int_equal(g_key2.len, strlen(g_key2_text));
    assert_memory_equal(g_key2.key, g_key2_text, g_key2.len);
    assert_true(g_key.random);
    assert_int_equal(g_key.len, 32);

    /* the same file again: the same key, the same key check */
    lw_fp_key k;
    path_of(path, sizeof(path), "key");
    assert_true(lw_fp_key_load(&k, path, err, sizeof(err)));
    assert_int_equal(lw_edm_key_check(&k), lw_edm_key_check(&g_key2));
    lw_fp_key_free(&k);

    /* the same text without whitespace: the same key */
    path_of(path, sizeof(path), "key-bare");
    write_bytes(path, g_key2_text, strlen(g_key2_text), 0600);
    assert_true(lw_fp_key_load(&k, path, err, sizeof(err)));
    assert_int_equal(lw_edm_key_check(&k), lw_edm_key_check(&g_key2));
    lw_fp_key_free(&k);

    /* readable by group or others: refused */
    const mode_t bad[] = {0644, 0640, 0604, 0660};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        path_of(path, sizeof(path), "key-open");
        write_bytes(path, g_key2_text, strlen(g_key2_text), bad[i]);
        err[0] = '\0';
        assert_false(lw_fp_key_load(&k, path, err, sizeof(err)));
        if (!strstr(err, "group or others") || !strstr(err, path))
            fail_msg("mode %o: unexpected error \"%s\"", (unsigned)bad[i], err);
        lw_fp_key_free(&k);
    }
    /* empty (whitespace only) and missing */
    path_of(path, sizeof(path), "key-empty");
    write_bytes(path, " \n\t ", 4, 0600);
    assert_false(lw_fp_key_load(&k, path, err, sizeof(err)));
    assert_non_null(strstr(err, "empty"));
    lw_fp_key_free(&k);
    path_of(path, sizeof(path), "key-missing");
    assert_false(lw_fp_key_load(&k, path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    lw_fp_key_free(&k);
}

/* ---- index write and open ---- */

#define N_HASHES 10000
#define N_DISTINCT 8000
#define N_PROBES 100000

static void test_roundtrip(void **state)
{
    (void)state;
    char path[4096], err[512] = "";
    path_of(path, sizeof(path), "big.edm");

    /* bucket edges among the members; the probes next to them are not members */
    const uint64_t edges[] = {0,
                              UINT64_MAX,
                              0x0000FFFFFFFFFFFFull,
                              0xFFFF000000000000ull,
                              0x00001234ABCD0000ull,
                              0xFFFF8000DEADBEEFull,
                              0x7FFFFFFFFFFFFFFFull,
                              0x8000000000000000ull};
    const uint64_t near[] = {1,
                             UINT64_MAX - 1,
                             0x0000FFFFFFFFFFFEull,
                             0x0001000000000000ull,
                             0xFFFEFFFFFFFFFFFFull,
                             0xFFFF000000000001ull,
                             0x7FFFFFFFFFFFFFFEull,
                             0x8000000000000001ull};
    const size_t n_edges = sizeof(edges) / sizeof(edges[0]);

    uint64_t *h = malloc(N_HASHES * sizeof(*h)), *ref = malloc(N_HASHES * sizeof(*ref));
    assert_non_null(h);
    assert_non_null(ref);
    uint64_t seed = 42;
    for (size_t i = 0; i < N_DISTINCT; i++) h[i] = i < n_edges ? edges[i] : splitmix(&seed);
    for (size_t i = N_DISTINCT; i < N_HASHES; i++) h[i] = h[splitmix(&seed) % N_DISTINCT];
    for (size_t i = N_HASHES - 1; i > 0; i--) { /* shuffle: duplicates anywhere */
        size_t j = (size_t)(splitmix(&seed) % (i + 1));
        uint64_t t = h[i];
        h[i] = h[j];
        h[j] = t;
    }
    memcpy(ref, h, N_HASHES * sizeof(*h));
    qsort(ref, N_HASHES, sizeof(*ref), cmp_u64);
    size_t nref = 0;
    for (size_t i = 0; i < N_HASHES; i++)
        if (!nref || ref[i] != ref[nref - 1]) ref[nref++] = ref[i];
    assert_true(nref < N_HASHES);

    size_t count = N_HASHES;
    if (!lw_edm_write(path, LW_EDM_NORM_EMAIL, h, &count, &g_key, err, sizeof(err)))
        fail_msg("lw_edm_write: %s", err);
    assert_int_equal(count, nref);
    assert_memory_equal(h, ref, nref * sizeof(*h)); /* sorted and deduplicated in place */

    /* the file: mode 0640, no temporary left, the header of edm.h */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st.st_size, LW_EDM_HEADER_BYTES + 8 * nref);
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
    size_t flen;
    uint8_t *f = read_bytes(path, &flen);
    assert_memory_equal(f, "LWEDM1\0\0", 8);
    assert_int_equal(le32(f + 8), 1);
    assert_int_equal(le32(f + 12), LW_EDM_NORM_EMAIL);
    assert_int_equal(le64(f + 16), nref);
    assert_int_equal(le64(f + 24), lw_edm_key_check(&g_key));
    assert_int_equal(le64(f + 32), fnv1a64(f + 64, 8 * nref));
    for (int i = 40; i < 64; i++) assert_int_equal(f[i], 0);
    for (size_t i = 0; i < nref; i++) assert_int_equal(le64(f + 64 + 8 * i), ref[i]);
    free(f);

    lw_edm_list *l = open_ok(path, &g_key);
    assert_int_equal(lw_edm_list_entries(l), nref);
    assert_int_equal(lw_edm_list_norm(l), LW_EDM_NORM_EMAIL);
    assert_int_equal(lw_edm_list_key_check(l), lw_edm_key_check(&g_key));
    assert_true(lw_edm_list_memory(l) >= LW_EDM_HEADER_BYTES + 8 * nref + 65537 * 4);

    for (size_t i = 0; i < nref; i++)
        if (!lw_edm_contains_hash(l, ref[i]))
            fail_msg("member %zu (%016llx) not found", i, (unsigned long long)ref[i]);
    for (size_t i = 0; i < n_edges; i++) {
        assert_true(lw_edm_contains_hash(l, edges[i]));
        assert_false(in_sorted(ref, nref, near[i]));
        if (lw_edm_contains_hash(l, near[i]))
            fail_msg("non-member %016llx found", (unsigned long long)near[i]);
    }
    uint64_t pseed = 0xC0FFEE, false_hits = 0, probes = 0;
    while (probes < N_PROBES) {
        uint64_t x = splitmix(&pseed);
        if (in_sorted(ref, nref, x)) continue; /* ~1e-15 */
        probes++;
        if (lw_edm_contains_hash(l, x)) false_hits++;
    }
    assert_int_equal(false_hits, 0);
    lw_edm_close(l);

    /* rewriting the same path replaces the list */
    uint64_t one[] = {5, 5, 5};
    count = 3;
    assert_true(lw_edm_write(path, LW_EDM_NORM_DIGITS, one, &count, &g_key, err, sizeof(err)));
    assert_int_equal(count, 1);
    l = open_ok(path, &g_key);
    assert_int_equal(lw_edm_list_entries(l), 1);
    assert_int_equal(lw_edm_list_norm(l), LW_EDM_NORM_DIGITS);
    assert_true(lw_edm_contains_hash(l, 5));
    assert_false(lw_edm_contains_hash(l, ref[0]));
    lw_edm_close(l);
    free(h);
    free(ref);
}

/* Lists of one entry at either end of the hash space, and the empty list. */
static void test_small_lists(void **state)
{
    (void)state;
    char path[4096], err[512] = "";
    const uint64_t single[] = {0, UINT64_MAX, 0xFFFF000000000000ull, 0x0000FFFFFFFFFFFFull};
    for (size_t i = 0; i < 4; i++) {
        path_of(path, sizeof(path), "single.edm");
        uint64_t v = single[i];
        size_t count = 1;
        assert_true(lw_edm_write(path, LW_EDM_NORM_TEXT, &v, &count, &g_key, err, sizeof(err)));
        lw_edm_list *l = open_ok(path, &g_key);
        assert_int_equal(lw_edm_list_entries(l), 1);
        assert_true(lw_edm_contains_hash(l, single[i]));
        assert_false(lw_edm_contains_hash(l, single[i] + 1));
        assert_false(lw_edm_contains_hash(l, single[i] - 1));
        assert_false(lw_edm_contains_hash(l, single[i] ^ 0x8000000000000000ull));
        lw_edm_close(l);
    }

    path_of(path, sizeof(path), "empty.edm");
    size_t count = 0;
    uint64_t none[1] = {0};
    assert_true(lw_edm_write(path, LW_EDM_NORM_EMAIL, none, &count, &g_key, err, sizeof(err)));
    assert_int_equal(count, 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, LW_EDM_HEADER_BYTES);
    assert_int_equal(st.st_mode & 07777, 0640);
    lw_edm_list *l = open_ok(path, &g_key);
    assert_int_equal(lw_edm_list_entries(l), 0);
    assert_false(lw_edm_contains_hash(l, 0));
    assert_false(lw_edm_contains_hash(l, UINT64_MAX));
    assert_false(lw_edm_contains_hash(l, 0x123456789ABCDEFull));
    uint8_t norm[LW_EDM_VALUE_MAX];
    size_t nl = 99;
    assert_false(lw_edm_contains(l, (const uint8_t *)" Foo@Example.com", 16, norm, &nl));
    assert_int_equal(nl, 15);
    assert_memory_equal(norm, "foo@example.com", 15);
    lw_edm_close(l);
}

static void test_contains_normalized(void **state)
{
    (void)state;
    char path[4096];
    path_of(path, sizeof(path), "emails.edm");
    const char *const vals[] = {"foo@example.com", "bar@example.com"};
    write_list(path, LW_EDM_NORM_EMAIL, vals, 2, &g_key);
    lw_edm_list *l = open_ok(path, &g_key);
    assert_int_equal(lw_edm_list_entries(l), 2);

    uint8_t norm[LW_EDM_VALUE_MAX];
    size_t nl = 0;
    const char raw[] = "  Foo@Example.COM ";
    assert_true(lw_edm_contains(l, (const uint8_t *)raw, sizeof(raw) - 1, norm, &nl));
    assert_int_equal(nl, 15);
    assert_memory_equal(norm, "foo@example.com", 15);
    assert_true(lw_edm_contains(l, (const uint8_t *)raw, sizeof(raw) - 1, NULL, NULL));
    assert_true(contains_str(l, "\xC2\240BAR@example.com\r\n"));
    assert_true(lw_edm_contains_hash(l, hash_str(&g_key, "foo@example.com")));

    nl = 0;
    assert_false(lw_edm_contains(l, (const uint8_t *)"foo@example.org", 15, norm, &nl));
    assert_int_equal(nl, 15);
    assert_memory_equal(norm, "foo@example.org", 15);
    assert_false(contains_str(l, "foo@example.com."));
    assert_false(contains_str(l, "foo @example.com"));
    assert_false(lw_edm_contains_hash(l, hash_str(&g_key2, "foo@example.com")));
    /* nothing left, or too long to be a member: no lookup, *norm_len 0 */
    nl = 7;
    assert_false(lw_edm_contains(l, (const uint8_t *)" \t ", 3, norm, &nl));
    assert_int_equal(nl, 0);
    static uint8_t longv[LW_EDM_VALUE_MAX + 1];
    memset(longv, 'a', sizeof(longv));
    nl = 7;
    assert_false(lw_edm_contains(l, longv, sizeof(longv), norm, &nl));
    assert_int_equal(nl, 0);

    /* the file rewritten in place (same inode, shorter) while open: the loaded list is a private
     * copy, so lookups go on answering from it (a mapped file would raise SIGBUS here) */
    write_bytes(path, "x", 1, 0640);
    assert_true(contains_str(l, "foo@example.com"));
    assert_false(contains_str(l, "baz@example.com"));
    lw_edm_close(l);
    write_list(path, LW_EDM_NORM_EMAIL, vals, 2, &g_key);

    /* key NULL: the structure is checked, there are no lookups */
    char err[512] = "";
    l = lw_edm_open(path, NULL, err, sizeof(err));
    assert_non_null(l);
    assert_int_equal(lw_edm_list_entries(l), 2);
    assert_int_equal(lw_edm_list_key_check(l), lw_edm_key_check(&g_key));
    nl = 0;
    assert_false(lw_edm_contains(l, (const uint8_t *)raw, sizeof(raw) - 1, norm, &nl));
    assert_int_equal(nl, 15);
    lw_edm_close(l);

    /* a digits list: full-width and separators reach the same hash */
    path_of(path, sizeof(path), "digits.edm");
    const char *const nums[] = {"12345", "0000"};
    write_list(path, LW_EDM_NORM_DIGITS, nums, 2, &g_key2);
    l = open_ok(path, &g_key2);
    assert_true(contains_str(l, "\xEF\xBC\x91\xEF\xBC\2223-45"));
    assert_true(contains_str(l, "No. 12 345"));
    assert_true(contains_str(l, "00-00"));
    assert_false(contains_str(l, "1234"));
    assert_false(contains_str(l, "000"));
    lw_edm_close(l);
    lw_edm_close(NULL);
}

/* ---- open errors ---- */

/* Writes p[0..n) to name, opens it: must fail, err naming the file and containing want. */
static void expect_open_error(const char *name, const uint8_t *p, size_t n, const lw_fp_key *key,
                              const char *want, char *err, size_t errlen)
{
    char path[4096];
    path_of(path, sizeof(path), name);
    if (p) write_bytes(path, p, n, 0640);
    err[0] = '\0';
    lw_edm_list *l = lw_edm_open(path, key, err, errlen);
    if (l) {
        lw_edm_close(l);
        fail_msg("%s opened, expected an error with \"%s\"", name, want);
    }
    if (!strstr(err, path) || (want && !strstr(err, want)))
        fail_msg("%s: error \"%s\" does not name the file or lacks \"%s\"", name, err, want);
    if (strchr(err, '\n')) fail_msg("%s: error is not one line: \"%s\"", name, err);
}

static void test_open_errors(void **state)
{
    (void)state;
    char path[4096], err[1024];
    path_of(path, sizeof(path), "good.edm");
    uint64_t h[16], seed = 7;
    for (size_t i = 0; i < 16; i++) h[i] = splitmix(&seed);
    size_t count = 16;
    assert_true(lw_edm_write(path, LW_EDM_NORM_EMAIL, h, &count, &g_key, err, sizeof(err)));
    assert_int_equal(count, 16);
    size_t n;
    uint8_t *good = read_bytes(path, &n); /* 64 spare bytes past n */
    assert_int_equal(n, 64 + 8 * 16);
    uint8_t *p = malloc(n + 64);
    assert_non_null(p);

    expect_open_error("missing.edm", NULL, 0, &g_key, "No such file", err, sizeof(err));
    path_of(path, sizeof(path), "adir");
    assert_int_equal(mkdir(path, 0700), 0);
    expect_open_error("adir", NULL, 0, &g_key, "not a regular file", err, sizeof(err));

    expect_open_error("zero.edm", good, 0, &g_key, "truncated", err, sizeof(err));
    expect_open_error("ten.edm", good, 10, &g_key, "truncated", err, sizeof(err));
    expect_open_error("63.edm", good, 63, &g_key, "truncated", err, sizeof(err));

    memcpy(p, good, n);
    p[0] = 'X';
    expect_open_error("magic.edm", p, n, &g_key, "not a leakwatch-edm index", err, sizeof(err));
    memcpy(p, good, n);
    p[5] = '2'; /* "LWEDM2" */
    expect_open_error("magic2.edm", p, n, &g_key, "not a leakwatch-edm index", err, sizeof(err));

    memcpy(p, good, n);
    put32(p + 8, 2);
    expect_open_error("v2.edm", p, n, &g_key, "version 2", err, sizeof(err));
    memcpy(p, good, n);
    put32(p + 8, 0);
    expect_open_error("v0.edm", p, n, &g_key, "version 0", err, sizeof(err));

    const uint32_t bad_norms[] = {0, 4, 0xFFFFFFFFu};
    for (size_t i = 0; i < 3; i++) {
        memcpy(p, good, n);
        put32(p + 12, bad_norms[i]);
        expect_open_error("norm.edm", p, n, &g_key, "unknown normalizer", err, sizeof(err));
    }

    expect_open_error("cut3.edm", good, n - 3, &g_key, "truncated", err, sizeof(err));
    expect_open_error("cut8.edm", good, n - 8, &g_key, "truncated", err, sizeof(err));
    memcpy(p, good, n);
    memset(p + n, 0, 8);
    expect_open_error("plus8.edm", p, n + 8, &g_key, "corrupt", err, sizeof(err));
    memcpy(p, good, n);
    put64(p + 16, UINT64_MAX); /* a count no file can match */
    expect_open_error("count.edm", p, n, &g_key, "corrupt", err, sizeof(err));

    /* a flipped entry byte */
    const size_t flips[] = {64, 64 + 8 * 7 + 3, n - 1};
    for (size_t i = 0; i < 3; i++) {
        memcpy(p, good, n);
        p[flips[i]] ^= 0x01;
        expect_open_error("flip.edm", p, n, &g_key, "corrupt", err, sizeof(err));
        if (!strstr(err, "checksum") && !strstr(err, "ascending"))
            fail_msg("flip at %zu: \"%s\"", flips[i], err);
    }
    /* the stored checksum itself wrong */
    memcpy(p, good, n);
    p[32] ^= 0x80;
    expect_open_error("sum.edm", p, n, &g_key, "checksum", err, sizeof(err));

    /* out of order, or a duplicate, with a correct checksum */
    size_t cl;
    const uint64_t desc[] = {1, 3, 2}, dup[] = {1, 2, 2, 3};
    uint8_t *c = craft_index(LW_EDM_NORM_TEXT, desc, 3, lw_edm_key_check(&g_key), &cl);
    expect_open_error("desc.edm", c, cl, &g_key, "ascending", err, sizeof(err));
    free(c);
    c = craft_index(LW_EDM_NORM_TEXT, dup, 4, lw_edm_key_check(&g_key), &cl);
    expect_open_error("dup.edm", c, cl, &g_key, "ascending", err, sizeof(err));
    free(c);
    /* while a hand-made index of the edm.h layout opens */
    const uint64_t asc[] = {1, 2, 0xFFFF000000000000ull};
    c = craft_index(LW_EDM_NORM_TEXT, asc, 3, lw_edm_key_check(&g_key), &cl);
    path_of(path, sizeof(path), "crafted.edm");
    write_bytes(path, c, cl, 0600);
    free(c);
    lw_edm_list *l = open_ok(path, &g_key);
    assert_int_equal(lw_edm_list_norm(l), LW_EDM_NORM_TEXT);
    assert_true(lw_edm_contains_hash(l, 2));
    assert_true(lw_edm_contains_hash(l, 0xFFFF000000000000ull));
    assert_false(lw_edm_contains_hash(l, 3));
    lw_edm_close(l);

    /* reserved bytes 40..63 */
    const size_t reserved[] = {40, 51, 63};
    for (size_t i = 0; i < 3; i++) {
        memcpy(p, good, n);
        p[reserved[i]] = 1;
        expect_open_error("reserved.edm", p, n, &g_key, "reserved", err, sizeof(err));
    }

    /* another key; key NULL skips the check */
    path_of(path, sizeof(path), "good.edm");
    expect_open_error("good.edm", NULL, 0, &g_key2, "another key", err, sizeof(err));
    l = lw_edm_open(path, NULL, err, sizeof(err));
    assert_non_null(l);
    assert_int_equal(lw_edm_list_entries(l), 16);
    lw_edm_close(l);
    l = open_ok(path, &g_key);
    for (size_t i = 0; i < 16; i++) assert_true(lw_edm_contains_hash(l, h[i]));
    lw_edm_close(l);

    /* a small err buffer is cut, not overrun */
    char small[16];
    memset(small, 'Z', sizeof(small));
    path_of(path, sizeof(path), "missing.edm");
    assert_null(lw_edm_open(path, &g_key, small, 8));
    assert_int_equal(strlen(small), 7);
    assert_int_equal(small[8], 'Z');

    free(p);
    free(good);
}

/* ---- the list set and reload ---- */

static bool set_has(lw_edm_set *s, int slot, const char *v, uint8_t *norm, size_t *nl)
{
    return lw_edm_set_contains(s, slot, (const uint8_t *)v, strlen(v), norm, nl);
}

static void test_set(void **state)
{
    (void)state;
    char pa[4096], pb[4096], err[1024] = "";
    path_of(pa, sizeof(pa), "customers.edm");
    path_of(pb, sizeof(pb), "accounts.edm");
    const char *const a1[] = {"a@x.com", "b@x.com"}, *const b1[] = {"12345"},
                      *const b2[] = {"67890", "11111", "22222"}, *const a2[] = {"c@x.com"};
    write_list(pa, LW_EDM_NORM_EMAIL, a1, 2, &g_key);
    write_list(pb, LW_EDM_NORM_DIGITS, b1, 1, &g_key);

    const char *const names[] = {"customers", "accounts"};
    const char *const files[] = {pa, pb};
    lw_edm_set *s = lw_edm_set_open(names, files, 2, &g_key, err, sizeof(err));
    if (!s) fail_msg("lw_edm_set_open: %s", err);
    assert_int_equal(lw_edm_set_count(s), 2);
    assert_int_equal(lw_edm_set_count(NULL), 0);
    int ca = lw_edm_set_find(s, "customers"), cb = lw_edm_set_find(s, "accounts");
    assert_int_equal(ca, 0);
    assert_int_equal(cb, 1);
    assert_int_equal(lw_edm_set_find(s, "nope"), -1);
    assert_int_equal(lw_edm_set_find(s, "Customers"), -1);
    assert_int_equal(lw_edm_set_find(NULL, "customers"), -1);

    lw_edm_set_info info;
    lw_edm_set_get_info(s, (size_t)cb, &info);
    assert_string_equal(info.name, "accounts");
    assert_string_equal(info.file, pb);
    assert_int_equal(info.norm, LW_EDM_NORM_DIGITS);
    assert_int_equal(info.entries, 1);
    assert_true(info.memory >= LW_EDM_HEADER_BYTES + 8);

    uint8_t norm[LW_EDM_VALUE_MAX];
    size_t nl = 0;
    assert_true(set_has(s, ca, " A@X.com", norm, &nl));
    assert_int_equal(nl, 7);
    assert_memory_equal(norm, "a@x.com", 7);
    assert_true(set_has(s, ca, "b@x.com", NULL, NULL));
    assert_false(set_has(s, ca, "12345", NULL, NULL));
    assert_true(set_has(s, cb, "12-345", NULL, NULL));
    assert_false(set_has(s, cb, "a@x.com", NULL, NULL));
    assert_false(set_has(s, -1, "a@x.com", NULL, NULL));
    assert_false(set_has(s, 2, "a@x.com", NULL, NULL));

    uint64_t done = 99, failed = 99;
    lw_edm_set_reload_counts(s, &done, &failed);
    assert_int_equal(done, 0);
    assert_int_equal(failed, 0);

    /* 1: nothing changed */
    size_t reopened = 99;
    assert_true(lw_edm_set_reload(s, &reopened, err, sizeof(err)));
    assert_int_equal(reopened, 0);
    assert_true(set_has(s, cb, "12345", NULL, NULL));

    /* 2: accounts rewritten with other values (another entry count, a new inode) */
    write_list(pb, LW_EDM_NORM_DIGITS, b2, 3, &g_key);
    reopened = 99;
    if (!lw_edm_set_reload(s, &reopened, err, sizeof(err))) fail_msg("reload: %s", err);
    assert_int_equal(reopened, 1);
    assert_true(set_has(s, cb, "67890", NULL, NULL));
    assert_true(set_has(s, cb, "22-222", NULL, NULL));
    assert_false(set_has(s, cb, "12345", NULL, NULL));
    assert_true(set_has(s, ca, "a@x.com", NULL, NULL));
    lw_edm_set_get_info(s, (size_t)cb, &info);
    assert_int_equal(info.entries, 3);

    /* 3: customers replaced by garbage: refused, every old list stays */
    const char garbage[] =
        "this is not an exact match index, only some bytes of garbage, long enough for a header";
    assert_true(sizeof(garbage) - 1 >= LW_EDM_HEADER_BYTES);
    replace_bytes(pa, garbage, sizeof(garbage) - 1);
    reopened = 99;
    err[0] = '\0';
    assert_false(lw_edm_set_reload(s, &reopened, err, sizeof(err)));
    assert_int_equal(reopened, 0);
    if (!strstr(err, "customers") || !strstr(err, pa) || !strstr(err, "not a leakwatch-edm"))
        fail_msg("reload error \"%s\"", err);
    assert_true(set_has(s, ca, "a@x.com", NULL, NULL));
    assert_true(set_has(s, ca, "b@x.com", NULL, NULL));
    assert_true(set_has(s, cb, "67890", NULL, NULL));
    lw_edm_set_get_info(s, (size_t)ca, &info);
    assert_int_equal(info.entries, 2);
    lw_edm_set_reload_counts(s, &done, &failed);
    assert_int_equal(done, 2);
    assert_int_equal(failed, 1);

    /* 4: the same garbage is refused again (the failed file is not taken as current) */
    assert_false(lw_edm_set_reload(s, &reopened, err, sizeof(err)));
    assert_true(set_has(s, ca, "a@x.com", NULL, NULL));

    /* 5: customers fixed: taken */
    write_list(pa, LW_EDM_NORM_EMAIL, a2, 1, &g_key);
    assert_true(lw_edm_set_reload(s, &reopened, err, sizeof(err)));
    assert_int_equal(reopened, 1);
    assert_true(set_has(s, ca, "C@x.com", NULL, NULL));
    assert_false(set_has(s, ca, "a@x.com", NULL, NULL));
    assert_true(set_has(s, cb, "67890", NULL, NULL));
    lw_edm_set_reload_counts(s, &done, &failed);
    assert_int_equal(done, 3);
    assert_int_equal(failed, 2);
    lw_edm_set_free(s);
    lw_edm_set_free(NULL);

    /* open fails when any list fails, naming it */
    char pm[4096];
    path_of(pm, sizeof(pm), "no-such-list.edm");
    const char *const names2[] = {"customers", "missing"};
    const char *const files2[] = {pa, pm};
    err[0] = '\0';
    assert_null(lw_edm_set_open(names2, files2, 2, &g_key, err, sizeof(err)));
    if (!strstr(err, "missing") || !strstr(err, pm)) fail_msg("set open error \"%s\"", err);
    /* a list built with another key */
    assert_null(lw_edm_set_open(names, files, 2, &g_key2, err, sizeof(err)));
    assert_non_null(strstr(err, "another key"));
    /* no lists at all */
    s = lw_edm_set_open(NULL, NULL, 0, &g_key, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(lw_edm_set_count(s), 0);
    assert_false(set_has(s, 0, "a@x.com", NULL, NULL));
    assert_true(lw_edm_set_reload(s, &reopened, err, sizeof(err)));
    assert_int_equal(reopened, 0);
    lw_edm_set_free(s);
}

/* ---- CSV reader ---- */

typedef struct memin {
    FILE *fp;
    char *buf;
} memin;

static memin mem_open(const char *s, size_t n)
{
    memin m;
    m.buf = malloc(n ? n : 1);
    assert_non_null(m.buf);
    memcpy(m.buf, s, n);
    m.fp = fmemopen(m.buf, n, "r");
    assert_non_null(m.fp);
    return m;
}

static void mem_close(memin *m)
{
    fclose(m->fp);
    free(m->buf);
}

static void expect_rec(lw_csv *r, int whole, unsigned long line, size_t nf, const char *const *want)
{
    int rc = lw_csv_next(r, whole);
    if (rc != 1) fail_msg("expected a record at line %lu, got %d (%s)", line, rc, r->err);
    if (r->line != line) fail_msg("record at line %lu, expected %lu", r->line, line);
    if (r->n_fields != nf) fail_msg("line %lu: %zu fields, expected %zu", line, r->n_fields, nf);
    for (size_t i = 0; i < nf; i++) {
        size_t len;
        const uint8_t *f = lw_csv_field(r, i, &len);
        if (len != strlen(want[i]) || (len && memcmp(f, want[i], len) != 0))
            fail_msg("line %lu field %zu: \"%.*s\", expected \"%s\"", line, i, (int)len,
                     (const char *)f, want[i]);
    }
}

#define REC(r, whole, line, ...)                                                                   \
    do {                                                                                           \
        const char *const w_[] = {__VA_ARGS__};                                                    \
        expect_rec(r, whole, line, sizeof(w_) / sizeof(w_[0]), w_);                                \
    } while (0)

#define MEM(lit) mem_open(lit, sizeof(lit) - 1)

static void test_csv_records(void **state)
{
    (void)state;
    memin m = MEM("\"a \"\"quoted\"\" word\",\"x,y\",\"line1\r\nline2\",plain\r\n"
                  "\"lf\ninside\",,last\n"
                  ",\r\n"
                  "\"\",x\n"
                  "a\"b,c\n"
                  "\"\"\"\"\r\n"
                  "end,of,file");
    lw_csv r;
    lw_csv_init(&r, m.fp);
    REC(&r, 0, 1, "a \"quoted\" word", "x,y", "line1\r\nline2", "plain");
    REC(&r, 0, 3, "lf\ninside", "", "last");
    REC(&r, 0, 5, "", "");
    REC(&r, 0, 6, "", "x");
    REC(&r, 0, 7, "a\"b", "c"); /* a quote inside an unquoted field is a byte */
    REC(&r, 0, 8, "\"");
    REC(&r, 0, 9, "end", "of", "file"); /* no line end */
    assert_int_equal(lw_csv_next(&r, 0), 0);
    assert_int_equal(lw_csv_next(&r, 0), 0);
    lw_csv_free(&r);
    mem_close(&m);

    /* several line breaks inside one field move the next record's line accordingly */
    m = MEM("id,note\n1,\"one\ntwo\r\nthree\n\"\n2,x\r\n3,\"a,\"\"b\"\"\",y\n");
    lw_csv_init(&r, m.fp);
    REC(&r, 0, 1, "id", "note");
    REC(&r, 0, 2, "1", "one\ntwo\r\nthree\n");
    REC(&r, 0, 6, "2", "x");
    REC(&r, 0, 7, "3", "a,\"b\"", "y");
    assert_int_equal(lw_csv_next(&r, 0), 0);
    lw_csv_free(&r);
    mem_close(&m);

    /* a UTF-8 byte order mark is dropped, before a plain or a quoted field */
    m = MEM("\xEF\xBB\xBFname,email\r\nA,a@x\r\n");
    lw_csv_init(&r, m.fp);
    REC(&r, 0, 1, "name", "email");
    REC(&r, 0, 2, "A", "a@x");
    assert_int_equal(lw_csv_next(&r, 0), 0);
    lw_csv_free(&r);
    mem_close(&m);
    m = MEM("\xEF\xBB\xBF\"q,1\",2");
    lw_csv_init(&r, m.fp);
    REC(&r, 0, 1, "q,1", "2");
    assert_int_equal(lw_csv_next(&r, 0), 0);
    lw_csv_free(&r);
    mem_close(&m);
    /* only at the start, and only the whole mark */
    m = MEM("a\n\xEF\xBB\277b\n");
    lw_csv_init(&r, m.fp);
    REC(&r, 0, 1, "a");
    REC(&r, 0, 2, "\xEF\xBB\277b");
    lw_csv_free(&r);
    mem_close(&m);
    m = MEM("\xEF\xBBx,y\n");
    lw_csv_init(&r, m.fp);
    REC(&r, 0, 1, "\xEF\xBBx", "y");
    assert_int_equal(lw_csv_next(&r, 0), 0);
    lw_csv_free(&r);
    mem_close(&m);
    m = MEM("\xEFz\n");
    lw_csv_init(&r, m.fp);
    REC(&r, 0, 1, "\xEFz");
    lw_csv_free(&r);
    mem_close(&m);
    m = MEM("\xEF\xBB\xBF");
    lw_csv_init(&r, m.fp);
    assert_int_equal(lw_csv_next(&r, 0), 0);
    lw_csv_free(&r);
    mem_close(&m);

    /* empty input; a trailing comma is an empty last field */
    m = mem_open("", 0);
    lw_csv_init(&r, m.fp);
    assert_int_equal(lw_csv_next(&r, 0), 0);
    assert_int_equal(lw_csv_next(&r, 1), 0);
    lw_csv_free(&r);
    mem_close(&m);
    m = MEM("a,\nb,");
    lw_csv_init(&r, m.fp);
    REC(&r, 0, 1, "a", "");
    REC(&r, 0, 2, "b", "");
    assert_int_equal(lw_csv_next(&r, 0), 0);
    lw_csv_free(&r);
    mem_close(&m);
}

static void expect_csv_error(const char *in, size_t n, unsigned long good_records,
                             unsigned long line, const char *want)
{
    memin m = mem_open(in, n);
    lw_csv r;
    lw_csv_init(&r, m.fp);
    for (unsigned long i = 0; i < good_records; i++) assert_int_equal(lw_csv_next(&r, 0), 1);
    int rc = lw_csv_next(&r, 0);
    if (rc != -1) fail_msg("\"%s\": %d, expected -1", in, rc);
    if (r.line != line) fail_msg("\"%s\": error at line %lu, expected %lu", in, r.line, line);
    if (!r.err[0] || !strstr(r.err, want))
        fail_msg("\"%s\": error \"%s\", expected \"%s\"", in, r.err, want);
    lw_csv_free(&r);
    mem_close(&m);
}

#define CSV_ERR(lit, good, line, want) expect_csv_error(lit, sizeof(lit) - 1, good, line, want)

static void test_csv_errors(void **state)
{
    (void)state;
    CSV_ERR("ok\n\"never closed,\n", 1, 2, "not closed");
    CSV_ERR("\"a\nb\nc", 0, 1, "not closed");
    CSV_ERR("x,\"doubled \"\"", 0, 1, "not closed");
    CSV_ERR("a\n\"abc\"x,1\n", 1, 2, "after a closing quote");
    CSV_ERR("\"abc\" ,1\n", 0, 1, "after a closing quote");
    CSV_ERR("1,\"abc\"\"\"z\n", 0, 1, "after a closing quote");
    CSV_ERR("\"abc\"\rX\n", 0, 1, "carriage return");
    CSV_ERR("\"abc\"\r", 0, 1, "carriage return");

    /* LW_CSV_FIELDS_MAX fields are fine, one more is an error */
    size_t n = LW_CSV_FIELDS_MAX;
    char *s = malloc(n + 2);
    assert_non_null(s);
    memset(s, ',', n);
    s[n - 1] = '\n'; /* 4095 commas: 4096 fields */
    memin m = mem_open(s, n);
    lw_csv r;
    lw_csv_init(&r, m.fp);
    assert_int_equal(lw_csv_next(&r, 0), 1);
    assert_int_equal(r.n_fields, LW_CSV_FIELDS_MAX);
    lw_csv_free(&r);
    mem_close(&m);
    s[n - 1] = ',';
    s[n] = '\n'; /* 4096 commas: 4097 fields */
    expect_csv_error(s, n + 1, 0, 1, "fields");
    free(s);

    /* a record of LW_CSV_RECORD_MAX bytes is read, one byte more is an error */
    n = LW_CSV_RECORD_MAX;
    s = malloc(n + 2);
    assert_non_null(s);
    memset(s, 'v', n + 1);
    s[n] = '\n';
    m = mem_open(s, n + 1);
    lw_csv_init(&r, m.fp);
    assert_int_equal(lw_csv_next(&r, 0), 1);
    size_t len;
    lw_csv_field(&r, 0, &len);
    assert_int_equal(len, LW_CSV_RECORD_MAX);
    lw_csv_free(&r);
    mem_close(&m);
    s[n] = 'v';
    s[n + 1] = '\n';
    expect_csv_error(s, n + 2, 0, 1, "longer than");
    free(s);
}

static void test_csv_whole_lines(void **state)
{
    (void)state;
    memin m = MEM("\xEF\xBB\xBF\"a,b\",c\r\n"
                  "plain line\n"
                  "\n"
                  "  spaced \r\n"
                  "\"x\n"
                  "y\"\n"
                  "\r\n"
                  "last");
    lw_csv r;
    lw_csv_init(&r, m.fp);
    REC(&r, 1, 1, "\"a,b\",c"); /* quotes and commas kept, BOM dropped */
    REC(&r, 1, 2, "plain line");
    REC(&r, 1, 3, "");
    REC(&r, 1, 4, "  spaced ");
    REC(&r, 1, 5, "\"x"); /* no quoting: every line is a value */
    REC(&r, 1, 6, "y\"");
    REC(&r, 1, 7, "");
    REC(&r, 1, 8, "last");
    assert_int_equal(lw_csv_next(&r, 1), 0);
    assert_int_equal(lw_csv_next(&r, 1), 0);
    lw_csv_free(&r);
    mem_close(&m);
}

/* ---- lw_edm_build ---- */

static const char g_table[] = " id , E-Mail ,name\r\n"
                              "1,  Foo@Example.COM ,Alice\n"
                              "2,bar@example.com,\"Bob,  Jr.\"\n"
                              "3,,Carol\n"
                              "4\n"
                              "5,FOO@example.com ,Alice\n"
                              "6,\"baz@example.com\",Eve\n";

static bool build_from(const char *text, size_t n, const char *out, const lw_edm_build_opts *o,
                       const lw_fp_key *key, lw_edm_build_report *rep, char *err, size_t errlen)
{
    memin m = mem_open(text, n);
    memset(rep, 0xEE, sizeof(*rep)); /* lw_edm_build must set every counter */
    bool ok = lw_edm_build(m.fp, "table.csv", out, o, key, rep, err, errlen);
    mem_close(&m);
    return ok;
}

static void test_build_by_name(void **state)
{
    (void)state;
    char path[4096], err[1024] = "";
    path_of(path, sizeof(path), "built-email.edm");
    lw_edm_build_report rep;
    lw_edm_build_opts o = {.norm = LW_EDM_NORM_EMAIL, .column_name = "e-mail"};
    if (!build_from(g_table, sizeof(g_table) - 1, path, &o, &g_key, &rep, err, sizeof(err)))
        fail_msg("build: %s", err);
    assert_int_equal(rep.column, 2);
    assert_int_equal(rep.records, 6); /* the header is not a record */
    assert_int_equal(rep.short_rows, 1);
    assert_int_equal(rep.empty, 1);
    assert_int_equal(rep.too_long, 0);
    assert_int_equal(rep.values, 4);
    assert_int_equal(rep.entries, 3);
    assert_int_equal(rep.values - rep.entries, 1); /* duplicates */
    assert_int_equal(rep.records, rep.values + rep.empty + rep.too_long + rep.short_rows);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    lw_edm_list *l = open_ok(path, &g_key);
    assert_int_equal(lw_edm_list_entries(l), 3);
    assert_int_equal(lw_edm_list_norm(l), LW_EDM_NORM_EMAIL);
    assert_true(lw_edm_contains_hash(l, hash_str(&g_key, "foo@example.com")));
    assert_true(lw_edm_contains_hash(l, hash_str(&g_key, "bar@example.com")));
    assert_true(lw_edm_contains_hash(l, hash_str(&g_key, "baz@example.com")));
    assert_true(contains_str(l, "Baz@Example.com"));
    assert_false(contains_str(l, "alice"));
    assert_false(contains_str(l, "e-mail"));
    assert_false(contains_str(l, "\"baz@example.com\""));
    lw_edm_close(l);

    /* other spellings of the header name */
    const char *const spellings[] = {"E-MAIL", "E-Mail", "Id", "NAME"};
    const unsigned cols[] = {2, 2, 1, 3};
    for (size_t i = 0; i < 4; i++) {
        o.column_name = spellings[i];
        if (!build_from(g_table, sizeof(g_table) - 1, path, &o, &g_key, &rep, err, sizeof(err)))
            fail_msg("column \"%s\": %s", spellings[i], err);
        assert_int_equal(rep.column, cols[i]);
    }
}

static void test_build_by_number(void **state)
{
    (void)state;
    char path[4096], err[1024] = "";
    path_of(path, sizeof(path), "built-text.edm");
    lw_edm_build_report rep;
    lw_edm_build_opts o = {.norm = LW_EDM_NORM_TEXT, .column = 3, .header = true};
    if (!build_from(g_table, sizeof(g_table) - 1, path, &o, &g_key2, &rep, err, sizeof(err)))
        fail_msg("build: %s", err);
    assert_int_equal(rep.column, 3);
    assert_int_equal(rep.records, 6);
    assert_int_equal(rep.short_rows, 1);
    assert_int_equal(rep.empty, 0);
    assert_int_equal(rep.values, 5);
    assert_int_equal(rep.entries, 4); /* Alice twice */
    lw_edm_list *l = open_ok(path, &g_key2);
    assert_int_equal(lw_edm_list_entries(l), 4);
    assert_int_equal(lw_edm_list_norm(l), LW_EDM_NORM_TEXT);
    assert_true(contains_str(l, "Alice"));
    assert_true(contains_str(l, "Bob, Jr."));
    assert_true(contains_str(l, " Bob,\t\xC2\xA0Jr. "));
    assert_true(contains_str(l, "Carol"));
    assert_true(contains_str(l, "Eve"));
    assert_false(contains_str(l, "alice")); /* text keeps case */
    assert_false(contains_str(l, "name"));
    lw_edm_close(l);

    /* the same table without header: the header row is a value */
    o.header = false;
    assert_true(
        build_from(g_table, sizeof(g_table) - 1, path, &o, &g_key2, &rep, err, sizeof(err)));
    assert_int_equal(rep.records, 7);
    assert_int_equal(rep.values, 6);
    assert_int_equal(rep.entries, 5);
    l = open_ok(path, &g_key2);
    assert_true(contains_str(l, "name"));
    lw_edm_close(l);

    /* column 1 with digits */
    o = (lw_edm_build_opts){.norm = LW_EDM_NORM_DIGITS, .column = 1, .header = true};
    assert_true(
        build_from(g_table, sizeof(g_table) - 1, path, &o, &g_key2, &rep, err, sizeof(err)));
    assert_int_equal(rep.values, 6);
    assert_int_equal(rep.entries, 6);
    assert_int_equal(rep.short_rows, 0);
    l = open_ok(path, &g_key2);
    assert_true(contains_str(l, "No. 4"));
    assert_false(contains_str(l, "7"));
    lw_edm_close(l);
}

static void test_build_lines_and_errors(void **state)
{
    (void)state;
    char path[4096], err[1024] = "";
    lw_edm_build_report rep;

    /* one value per line: digits, full-width, empty lines, too long */
    size_t n = LW_EDM_VALUE_MAX;
    size_t cap = 256 + 2 * (n + 2);
    char *text = malloc(cap);
    assert_non_null(text);
    int at = snprintf(text, cap,
                      "123-456\n\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\223456\n\n"
                      "abc\n\"7,8\"\r\n");
    memset(text + at, '9', n);
    text[at + n] = '\n';
    at += (int)n + 1;
    memset(text + at, '5', n + 1);
    text[at + n + 1] = '\n';
    at += (int)n + 2;
    path_of(path, sizeof(path), "built-lines.edm");
    lw_edm_build_opts o = {.norm = LW_EDM_NORM_DIGITS};
    if (!build_from(text, (size_t)at, path, &o, &g_key, &rep, err, sizeof(err)))
        fail_msg("build: %s", err);
    free(text);
    assert_int_equal(rep.column, 0);
    assert_int_equal(rep.records, 7);
    assert_int_equal(rep.empty, 2);
    assert_int_equal(rep.too_long, 1);
    assert_int_equal(rep.short_rows, 0);
    assert_int_equal(rep.values, 4);
    assert_int_equal(rep.entries, 3);
    lw_edm_list *l = open_ok(path, &g_key);
    assert_true(contains_str(l, "123456"));
    assert_true(contains_str(l, "78"));
    char *v = malloc(n + 2);
    assert_non_null(v);
    memset(v, '9', n);
    v[n] = '\0';
    assert_true(contains_str(l, v)); /* exactly LW_EDM_VALUE_MAX: built and found */
    memset(v, '5', n + 1);
    v[n + 1] = '\0';
    assert_false(contains_str(l, v));
    free(v);
    assert_false(contains_str(l, "123"));
    lw_edm_close(l);

    /* a missing column name: false, err naming it and the input, no output written */
    path_of(path, sizeof(path), "built-missing.edm");
    o = (lw_edm_build_opts){.norm = LW_EDM_NORM_EMAIL, .column_name = "phone"};
    err[0] = '\0';
    assert_false(
        build_from(g_table, sizeof(g_table) - 1, path, &o, &g_key, &rep, err, sizeof(err)));
    if (!strstr(err, "\"phone\"") || !strstr(err, "table.csv:1") || !strstr(err, "E-Mail"))
        fail_msg("missing column error \"%s\"", err);
    assert_int_not_equal(access(path, F_OK), 0);

    /* malformed CSV: false, err naming the input and the line */
    const char bad[] = "email\na@x\n\"b@x\"oops\n";
    o = (lw_edm_build_opts){.norm = LW_EDM_NORM_EMAIL, .column = 1, .header = true};
    err[0] = '\0';
    assert_false(build_from(bad, sizeof(bad) - 1, path, &o, &g_key, &rep, err, sizeof(err)));
    if (!strstr(err, "table.csv:3:") || !strstr(err, "closing quote"))
        fail_msg("malformed CSV error \"%s\"", err);
    assert_int_not_equal(access(path, F_OK), 0);

    /* a header only: an empty list */
    const char hdr[] = "email\n";
    o = (lw_edm_build_opts){.norm = LW_EDM_NORM_EMAIL, .column_name = "email"};
    assert_true(build_from(hdr, sizeof(hdr) - 1, path, &o, &g_key, &rep, err, sizeof(err)));
    assert_int_equal(rep.records, 0);
    assert_int_equal(rep.entries, 0);
    l = open_ok(path, &g_key);
    assert_int_equal(lw_edm_list_entries(l), 0);
    lw_edm_close(l);

    /* an output directory that does not exist: false, err naming the output */
    o.column_name = "e-mail";
    path_of(path, sizeof(path), "no-such-dir/out.edm");
    err[0] = '\0';
    assert_false(
        build_from(g_table, sizeof(g_table) - 1, path, &o, &g_key, &rep, err, sizeof(err)));
    assert_non_null(strstr(err, "out.edm"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* normalizers */
        cmocka_unit_test(test_norm_email),
        cmocka_unit_test(test_norm_digits),
        cmocka_unit_test(test_norm_text),
        cmocka_unit_test(test_norm_cap),
        cmocka_unit_test(test_norm_names),
        /* keyed hash and keys */
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_hash_vectors),
        cmocka_unit_test(test_key_files),
        /* index file */
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_small_lists),
        cmocka_unit_test(test_contains_normalized),
        cmocka_unit_test(test_open_errors),
        /* list set */
        cmocka_unit_test(test_set),
        /* CSV reader */
        cmocka_unit_test(test_csv_records),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_whole_lines),
        /* lw_edm_build */
        cmocka_unit_test(test_build_by_name),
        cmocka_unit_test(test_build_by_number),
        cmocka_unit_test(test_build_lines_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
