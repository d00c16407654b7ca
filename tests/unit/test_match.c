/*
 * test_match.c — the streaming matcher: values split across chunks (down to one byte a
 * chunk), gaps, boundaries, context keywords, longer matches superseding their prefixes,
 * over-long values, allow values, entropy floors, the per-flow dlp record and thresholds.
 * The e-mail signature is scanned through its `hook` (the @domain part).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config_yaml.h"
#include "leakwatch/dlp.h"
#include "leakwatch/match.h"
#include "leakwatch/signatures.h"

#define MAX_HITS 256

typedef struct hit_rec {
    uint32_t id;
    uint64_t offset;
    char value[300];
    bool truncated;
    char account[13];
} hit_rec;

typedef struct fixture {
    lw_sigset sigs;
    lw_matcher *m;
    lw_match_worker *w;
    lw_strlist allow;
    hit_rec hits[MAX_HITS];
    int n;
} fixture;

static const char *SIGS =
    "signatures:\n"
    "  - id: 1\n"
    "    name: AWS key id\n"
    "    category: access_key\n"
    "    severity: high\n"
    "    regex: '(?:AKIA|ASIA)[A-Z2-7]{16}'\n"
    "    validate: aws_key_id\n"
    "    allow_values: [AKIAIOSFODNN7EXAMPLE]\n"
    "  - id: 2\n"
    "    name: email\n"
    "    category: pii\n"
    "    severity: medium\n"
    "    regex: "
    "'[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63}){0,4}\\.[A-Za-z]{2,24}'\n"
    "    hook: '@[A-Za-z0-9-]{1,63}(?:\\.[A-Za-z0-9-]{1,63}){0,4}\\.[A-Za-z]{2,24}'\n"
    "    validate: email\n"
    "    threshold: 2\n"
    "  - id: 3\n"
    "    name: secret with context\n"
    "    category: access_key\n"
    "    severity: critical\n"
    "    regex: '[A-Za-z0-9/+]{40}'\n"
    "    min_entropy: 4.0\n"
    "    context: {keywords: [aws_secret_access_key, secret_access_key], within: 32}\n"
    "  - id: 4\n"
    "    name: long upper run\n"
    "    category: custom\n"
    "    severity: low\n"
    "    regex: 'Q[A-Z]{20,}'\n"
    "  - id: 5\n"
    "    name: card, literal-free, behind the byte-class gate\n"
    "    category: pii\n"
    "    severity: high\n"
    "    regex: '[0-9]{4}(?:[ -]?[0-9]{4}){3}'\n"
    "    validate: luhn\n";

static void on_hit(void *user, const lw_match_hit *h)
{
    fixture *f = user;
    assert_true(f->n < MAX_HITS);
    hit_rec *r = &f->hits[f->n++];
    r->id = h->sig->id;
    r->offset = h->offset;
    assert_true(h->len < sizeof(r->value));
    memcpy(r->value, h->value, h->len);
    r->value[h->len] = '\0';
    r->truncated = h->truncated;
    memcpy(r->account, h->extra.aws_account, sizeof(r->account));
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char path[] = "/tmp/lw_test_match_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, SIGS, strlen(SIGS)), (ssize_t)strlen(SIGS));
    close(fd);
    char err[512];
    lw_sigset_init(&f->sigs);
    int rc = lw_sigset_load(&f->sigs, path, err, sizeof(err));
    unlink(path);
    if (rc) fail_msg("%s", err);
    assert_true(lw_strlist_push(&f->allow, "AKIAQYLPMN5HHHFPZAM3"));
    int code;
    f->m = lw_matcher_build(&f->sigs, &f->allow, err, sizeof(err), &code);
    if (!f->m) fail_msg("%s", err);
    f->w = lw_match_worker_new(f->m);
    assert_non_null(f->w);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    if (!*state) return 0;
    fixture *f = *state;
    lw_match_worker_free(f->w);
    lw_matcher_free(f->m);
    lw_sigset_free(&f->sigs);
    lw_strlist_clear(&f->allow);
    free(f);
    return 0;
}

/* Feed text in chunks of `chunk` bytes as one stream, then close it. */
static void scan_chunks(fixture *f, const char *text, size_t chunk)
{
    f->n = 0;
    lw_match_stream *s = lw_match_stream_open(f->w, 0);
    assert_non_null(s);
    size_t len = strlen(text);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        lw_match_stream_data(f->w, s, off, (const uint8_t *)text + off, n, on_hit, f);
    }
    lw_match_stream_close(f->w, s, on_hit, f);
}

static const hit_rec *find(const fixture *f, uint32_t id, const char *value)
{
    for (int i = 0; i < f->n; i++)
        if (f->hits[i].id == id && strcmp(f->hits[i].value, value) == 0) return &f->hits[i];
    return NULL;
}

static int count_id(const fixture *f, uint32_t id)
{
    int n = 0;
    for (int i = 0; i < f->n; i++) n += f->hits[i].id == id;
    return n;
}

static void test_split_any_chunking(void **state)
{
    fixture *f = *state;
    const char *text = "GET /?k=ASIAY34FZKBOKMUTVV7A&m=alice.smith@mail.example.co.jp&c=4111 "
                       "1111 1111 1111&d=4111-1111-1111-1112 end";
    for (size_t chunk = 1; chunk <= strlen(text); chunk++) {
        scan_chunks(f, text, chunk);
        const hit_rec *k = find(f, 1, "ASIAY34FZKBOKMUTVV7A");
        const hit_rec *e = find(f, 2, "alice.smith@mail.example.co.jp");
        if (!k || !e)
            fail_msg("chunk %zu: key %p email %p (%d hits)", chunk, (void *)k, (void *)e, f->n);
        assert_int_equal(k->offset, 8);
        assert_string_equal(k->account, "609629065308");
        assert_int_equal(e->offset, 31);
        /* the prefixes alice.smith@mail.example.co and ...example are superseded */
        assert_int_equal(count_id(f, 2), 1);
        /* the gated card signature: its database restarts from the run carried in the tail */
        const hit_rec *c = find(f, 5, "4111 1111 1111 1111");
        if (!c) fail_msg("chunk %zu: card not found", chunk);
        assert_int_equal(c->offset, 64);
        assert_int_equal(f->n, 3); /* ...-1112 fails Luhn */
    }
}

static void test_boundary(void **state)
{
    fixture *f = *state;
    scan_chunks(f, "xASIAY34FZKBOKMUTVV7A", 4);
    assert_int_equal(f->n, 0);
    scan_chunks(f, "ASIAY34FZKBOKMUTVV7A9", 4);
    assert_int_equal(f->n, 0);
    /* at the very start and very end of the stream: boundaries hold */
    scan_chunks(f, "ASIAY34FZKBOKMUTVV7A", 3);
    assert_int_equal(f->n, 1);
    /* underscores and punctuation are not letters or digits */
    scan_chunks(f, "_ASIAY34FZKBOKMUTVV7A_", 5);
    assert_int_equal(f->n, 1);
}

static void test_gap(void **state)
{
    fixture *f = *state;
    const char *a = "key ASIAY34FZK";
    const char *b = "BOKMUTVV7A and ASIAY34FZKBOKMUTVV7A";
    f->n = 0;
    lw_match_stream *s = lw_match_stream_open(f->w, 0);
    lw_match_stream_data(f->w, s, 0, (const uint8_t *)a, strlen(a), on_hit, f);
    /* 100 bytes lost: the split value must not be stitched across the hole */
    lw_match_stream_gap(f->w, s, strlen(a) + 100, on_hit, f);
    lw_match_stream_data(f->w, s, strlen(a) + 100, (const uint8_t *)b, strlen(b), on_hit, f);
    lw_match_stream_close(f->w, s, on_hit, f);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->hits[0].offset, strlen(a) + 100 + 15);
    /* a gap also settles a value that ended right before it */
    f->n = 0;
    s = lw_match_stream_open(f->w, 0);
    lw_match_stream_data(f->w, s, 0, (const uint8_t *)"x ASIAY34FZKBOKMUTVV7A", 22, on_hit, f);
    assert_int_equal(f->n, 0); /* still waiting for the byte after it */
    lw_match_stream_gap(f->w, s, 500, on_hit, f);
    assert_int_equal(f->n, 1);
    lw_match_stream_close(f->w, s, on_hit, f);
}

static void test_allow_values(void **state)
{
    fixture *f = *state;
    scan_chunks(f, "AKIAIOSFODNN7EXAMPLE AKIAQYLPMN5HHHFPZAM3 AKIAQYLPMN5HHHFPZAM2", 7);
    assert_int_equal(f->n, 1);
    assert_string_equal(f->hits[0].value, "AKIAQYLPMN5HHHFPZAM2");
    assert_int_equal(lw_match_worker_counters(f->w)->c[LW_MATCH_allowlisted_values] >= 2, 1);
}

static void test_context_and_entropy(void **state)
{
    fixture *f = *state;
    const char *secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9Q2Lk8Vb";
    char text[256];
    snprintf(text, sizeof(text), "aws_secret_access_key = %s\n", secret);
    scan_chunks(f, text, 5);
    assert_non_null(find(f, 3, secret));
    /* both keywords stand before it: reported once */
    assert_int_equal(count_id(f, 3), 1);
    /* keyword too far before the value */
    snprintf(text, sizeof(text), "aws_secret_access_key                                  = %s\n",
             secret);
    scan_chunks(f, text, 5);
    assert_null(find(f, 3, secret));
    /* no keyword */
    snprintf(text, sizeof(text), "value = %s\n", secret);
    scan_chunks(f, text, 64);
    assert_null(find(f, 3, secret));
    /* low entropy */
    scan_chunks(f, "AWS_SECRET_ACCESS_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ", 64);
    assert_int_equal(count_id(f, 3), 0);
}

static void test_overlong_value(void **state)
{
    fixture *f = *state;
    char text[600];
    text[0] = ' ';
    text[1] = 'Q';
    memset(text + 2, 'Z', 400);
    strcpy(text + 402, " tail");
    scan_chunks(f, text, 50);
    assert_int_equal(count_id(f, 4), 1);
    const hit_rec *h = &f->hits[0];
    assert_true(h->truncated);
    assert_int_equal(strlen(h->value), LW_MATCH_MAX_VALUE);
    assert_int_equal(h->offset, 1); /* its first LW_MATCH_MAX_VALUE bytes */
    assert_int_equal(h->value[0], 'Q');
    /* one that fits is whole */
    scan_chunks(f, " QABCDEFGHIJKLMNOPQRSTUVWXYZ ", 3);
    assert_non_null(find(f, 4, "QABCDEFGHIJKLMNOPQRSTUVWXYZ"));
}

static void test_dlp_threshold(void **state)
{
    fixture *f = *state;
    /* only the card signature (a small class, no literal) is behind the gate: AWS key ids
     * start with a literal, the e-mail class has lower case, the secret has context keywords
     * (the keywords are what the stream looks for) and the last one is unbounded */
    assert_int_equal(lw_matcher_get_info(f->m)->gated_sigs, 1);
    scan_chunks(f, "a@example.com b@example.com a@example.com c@example.org", 9);
    assert_int_equal(count_id(f, 2), 4);
    lw_fp_key key;
    char err[128];
    assert_true(lw_fp_key_load(&key, NULL, err, sizeof(err)));
    lw_flow_dlp d;
    memset(&d, 0, sizeof(d));
    int alerts = 0;
    for (int i = 0; i < f->n; i++) {
        lw_match_hit hit = {.sig = &f->sigs.v[1],
                            .value = (const uint8_t *)f->hits[i].value,
                            .len = (uint32_t)strlen(f->hits[i].value)};
        lw_dlp_entry *e;
        const lw_dlp_value *v;
        lw_dlp_outcome o = lw_dlp_record(&d, &hit, 0, 2, &key, &e, &v);
        alerts += o == LW_DLP_ALERT;
        if (i == 1) assert_int_equal(o, LW_DLP_ALERT); /* second distinct value: threshold 2 */
        if (i == 2) assert_int_equal(o, LW_DLP_REPEAT);
    }
    assert_int_equal(alerts, 1);
    assert_non_null(d.head);
    assert_int_equal(d.head->matches, 4);
    assert_int_equal(d.head->distinct, 2); /* capped at max(max_values 2, threshold 2) */
    assert_int_equal(d.values_over_cap, 1);
    assert_true(lw_dlp_any_alerted(&d));
    lw_dlp_free(&d);
    lw_fp_key_free(&key);
}

static void test_redact(void **state)
{
    (void)state;
    char out[64];
    lw_redact((const uint8_t *)"AKIAQYLPMN5HHHFPZAM2", 20, out, sizeof(out));
    assert_string_equal(out, "AKIA************ZAM2");
    lw_redact((const uint8_t *)"123456789018", 12, out, sizeof(out));
    assert_string_equal(out, "123******018");
    lw_redact((const uint8_t *)"abc", 3, out, sizeof(out));
    assert_string_equal(out, "***");
    /* characters, not bytes: 前 (3 bytes) is one character, hidden whole */
    const char *u = "AB\xe5\x89\x8d"
                    "CDEFGHIJK";
    lw_redact((const uint8_t *)u, strlen(u), out, sizeof(out));
    assert_string_equal(out, "AB\xe5\x89\x8d******IJK");
}

/* The gate must never change what is found: the card signature (gated) against a twin that
 * a lower-case alternative keeps out of the gate, on random digit-heavy text in random
 * chunks. */
static void test_gate_property(void **state)
{
    (void)state;
    const char *twin = "signatures:\n"
                       "  - id: 1\n    name: gated\n    category: pii\n    severity: high\n"
                       "    regex: '[0-9]{4}(?:[ -]?[0-9]{4}){3}'\n    validate: luhn\n"
                       "  - id: 2\n    name: ungated\n    category: pii\n    severity: high\n"
                       "    regex: '[0-9]{4}(?:[ -]?[0-9]{4}){3}|qqqqqqqqqqqqqqqqqqqq'\n"
                       "    validate: luhn\n";
    char path[] = "/tmp/lw_test_gate_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, twin, strlen(twin)), (ssize_t)strlen(twin));
    close(fd);
    fixture f;
    memset(&f, 0, sizeof(f));
    char err[512];
    int code;
    lw_sigset_init(&f.sigs);
    if (lw_sigset_load(&f.sigs, path, err, sizeof(err))) fail_msg("%s", err);
    unlink(path);
    f.m = lw_matcher_build(&f.sigs, NULL, err, sizeof(err), &code);
    assert_non_null(f.m);
    assert_int_equal(lw_matcher_get_info(f.m)->gated_sigs, 1);
    f.w = lw_match_worker_new(f.m);
    static const char alphabet[] = "0123456789012345678901234567890123456789 - -abX\n";
    static const char *cards[] = {"4111111111111111", "4111 1111 1111 1111", "5555-5555-5555-4444"};
    unsigned seed = 12345;
    char text[3000];
    for (int round = 0; round < 200; round++) {
        size_t n = 0;
        while (n < sizeof(text) - 40) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 97 == 0) {
                const char *c = cards[(seed >> 8) % 3];
                memcpy(text + n, c, strlen(c));
                n += strlen(c);
            } else {
                text[n++] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
            }
        }
        text[n] = '\0';
        seed = seed * 1103515245u + 12345u;
        size_t chunk = 1 + (seed >> 16) % 300;
        scan_chunks(&f, text, chunk);
        /* every hit of one twin at an offset has its counterpart in the other */
        int a = 0, b = 0;
        for (int i = 0; i < f.n; i++) {
            uint32_t other = f.hits[i].id == 1 ? 2 : 1;
            bool found = false;
            for (int j = 0; j < f.n && !found; j++)
                found = f.hits[j].id == other && f.hits[j].offset == f.hits[i].offset &&
                        strcmp(f.hits[j].value, f.hits[i].value) == 0;
            if (!found)
                fail_msg("round %d chunk %zu: %u at %llu has no twin", round, chunk, f.hits[i].id,
                         (unsigned long long)f.hits[i].offset);
            a += f.hits[i].id == 1;
            b += f.hits[i].id == 2;
        }
        assert_int_equal(a, b);
    }
    assert_true(lw_match_worker_counters(f.w)->c[LW_MATCH_gated_skipped] > 0);
    lw_match_worker_free(f.w);
    lw_matcher_free(f.m);
    lw_sigset_free(&f.sigs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_any_chunking),
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_allow_values),
        cmocka_unit_test(test_context_and_entropy),
        cmocka_unit_test(test_overlong_value),
        cmocka_unit_test(test_dlp_threshold),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_gate_property),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
