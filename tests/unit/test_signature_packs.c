/*
 * test_signature_packs.c — every shipped signature (every *.yaml in signatures/) compiles, has both
 * kinds of examples, and behaves as its examples say: each `match` example, scanned on its
 * own (whole, and split into 1-, 3- and 7-byte chunks), yields a validated value of that
 * signature; each `no_match` example yields none.
 *
 * edm:NAME signatures (customer-edm.example.yaml) need their lists: setup builds list NAME
 * from the values the signature's regex finds in its match examples (a first pass with the
 * lookup off), under the text normalizer and a random key, so the examples check that the
 * lookup lets exactly the listed values through.
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

#include "leakwatch/edm.h"
#include "leakwatch/match.h"
#include "leakwatch/signatures.h"

typedef struct pack {
    lw_sigset sigs;
    lw_matcher *m;
    lw_match_worker *w;
    lw_fp_key key;
    lw_edm_set *edm;
} pack;

typedef struct seen {
    const lw_signature *want;
    int hits;
} seen;

static void on_hit(void *user, const lw_match_hit *h)
{
    seen *s = user;
    if (h->sig == s->want) s->hits++;
}

static int count_hits(pack *p, const lw_signature *g, const char *text, size_t chunk)
{
    seen s = {.want = g};
    lw_match_stream *st = lw_match_stream_open(p->w, 0);
    assert_non_null(st);
    size_t len = strlen(text);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        lw_match_stream_data(p->w, st, off, (const uint8_t *)text + off, n, on_hit, &s);
    }
    lw_match_stream_close(p->w, st, on_hit, &s);
    return s.hits;
}

/* The values of an edm signature's match examples, as its regex finds them. */
typedef struct collect {
    const lw_signature *want;
    uint64_t *hashes;
    size_t n, cap;
    const lw_fp_key *key;
} collect;

static void on_candidate(void *user, const lw_match_hit *h)
{
    collect *c = user;
    if (h->sig->id != c->want->id) return;
    uint8_t norm[LW_EDM_VALUE_MAX];
    size_t n = lw_edm_normalize(LW_EDM_NORM_TEXT, h->value, h->len, norm, sizeof(norm));
    assert_true(n > 0);
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->hashes = realloc(c->hashes, c->cap * sizeof(*c->hashes));
        assert_non_null(c->hashes);
    }
    c->hashes[c->n++] = lw_edm_hash(c->key, norm, n);
}

/* Writes one list per edm:NAME signature (named after the list) and opens them as a set. */
static void build_edm_lists(pack *p)
{
    char err[1024];
    lw_sigset open;
    int code;
    lw_sigset_init(&open);
    if (lw_sigset_load(&open, LW_SOURCE_SIGDIR, err, sizeof(err))) fail_msg("%s", err);
    for (size_t i = 0; i < open.n; i++)
        if (open.v[i].validator == LW_VALIDATE_EDM) open.v[i].validator = LW_VALIDATE_NONE;
    lw_matcher *m = lw_matcher_build(&open, NULL, err, sizeof(err), &code);
    if (!m) fail_msg("%s", err);
    lw_match_worker *w = lw_match_worker_new(m);
    const char *names[16], *files[16];
    static char paths[16][256];
    size_t n = 0;
    for (size_t i = 0; i < p->sigs.n && n < 16; i++) {
        const lw_signature *g = &p->sigs.v[i];
        if (g->validator != LW_VALIDATE_EDM) continue;
        collect c = {.want = g, .key = &p->key};
        for (size_t e = 0; e < g->examples_match.n; e++) {
            const char *text = g->examples_match.v[e];
            lw_match_stream *st = lw_match_stream_open(w, 0);
            lw_match_stream_data(w, st, 0, (const uint8_t *)text, strlen(text), on_candidate, &c);
            lw_match_stream_close(w, st, on_candidate, &c);
        }
        assert_true(c.n >= g->examples_match.n);
        snprintf(paths[n], sizeof(paths[n]), "%s/lw-packs-%ld-%s.edm", P_tmpdir, (long)getpid(),
                 g->edm_list);
        if (!lw_edm_write(paths[n], LW_EDM_NORM_TEXT, c.hashes, &c.n, &p->key, err, sizeof(err)))
            fail_msg("%s", err);
        free(c.hashes);
        names[n] = g->edm_list;
        files[n] = paths[n];
        n++;
    }
    lw_match_worker_free(w);
    lw_matcher_free(m);
    lw_sigset_free(&open);
    if (!n) return;
    p->edm = lw_edm_set_open(names, files, n, &p->key, err, sizeof(err));
    if (!p->edm) fail_msg("%s", err);
    for (size_t i = 0; i < n; i++) unlink(files[i]); /* mapped: the set keeps them */
    if (!lw_matcher_attach_edm(p->m, p->edm, err, sizeof(err))) fail_msg("%s", err);
    printf("edm: %zu list(s) built from match examples\n", n);
}

static int setup(void **state)
{
    pack *p = calloc(1, sizeof(*p));
    char err[1024];
    int code;
    lw_sigset_init(&p->sigs);
    if (lw_sigset_load(&p->sigs, LW_SOURCE_SIGDIR, err, sizeof(err))) fail_msg("%s", err);
    if (!(p->m = lw_matcher_build(&p->sigs, NULL, err, sizeof(err), &code))) fail_msg("%s", err);
    if (lw_matcher_prepare_all(p->m, err, sizeof(err))) fail_msg("%s", err);
    if (!lw_fp_key_load(&p->key, NULL, err, sizeof(err))) fail_msg("%s", err);
    build_edm_lists(p);
    p->w = lw_match_worker_new(p->m);
    assert_non_null(p->w);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    if (!*state) return 0;
    pack *p = *state;
    lw_match_worker_free(p->w);
    lw_matcher_free(p->m);
    lw_edm_set_free(p->edm);
    lw_fp_key_free(&p->key);
    lw_sigset_free(&p->sigs);
    free(p);
    return 0;
}

static void test_packs_present(void **state)
{
    pack *p = *state;
    const lw_matcher_info *in = lw_matcher_get_info(p->m);
    size_t access = in->per_category[LW_CAT_ACCESS_KEY];
    printf("signatures: %zu (vin %zu, access_key %zu, pii %zu, location %zu, customer_id %zu)\n",
           p->sigs.n, in->per_category[LW_CAT_VIN], access, in->per_category[LW_CAT_PII],
           in->per_category[LW_CAT_LOCATION], in->per_category[LW_CAT_CUSTOMER_ID]);
    assert_true(access >= 35);
    assert_true(in->per_category[LW_CAT_VIN] >= 2);
    assert_true(in->per_category[LW_CAT_PII] >= 5);
    assert_true(in->per_category[LW_CAT_LOCATION] >= 1);
    assert_true(in->per_category[LW_CAT_CUSTOMER_ID] >= 1);
}

static void test_examples(void **state)
{
    pack *p = *state;
    static const size_t chunks[] = {SIZE_MAX, 1, 3, 7};
    int failures = 0, checked = 0;
    for (size_t i = 0; i < p->sigs.n; i++) {
        const lw_signature *g = &p->sigs.v[i];
        if (g->kind != LW_SIG_CONTENT) continue;
        if (!g->examples_match.n || !g->examples_no_match.n) {
            printf("%s:%u: signature %u lacks match or no_match examples\n", g->file, g->line,
                   (unsigned)g->id);
            failures++;
        }
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            for (size_t e = 0; e < g->examples_match.n; e++, checked++) {
                if (count_hits(p, g, g->examples_match.v[e], chunks[c]) == 0) {
                    printf("%s:%u: signature %u: match example %zu not found (chunk %zu)\n",
                           g->file, g->line, (unsigned)g->id, e, chunks[c]);
                    failures++;
                }
            }
            for (size_t e = 0; e < g->examples_no_match.n; e++, checked++) {
                if (count_hits(p, g, g->examples_no_match.v[e], chunks[c]) != 0) {
                    printf("%s:%u: signature %u: no_match example %zu matched (chunk %zu)\n",
                           g->file, g->line, (unsigned)g->id, e, chunks[c]);
                    failures++;
                }
            }
        }
    }
    printf("%d example checks, %d failures\n", checked, failures);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packs_present),
        cmocka_unit_test(test_examples),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
