/*
 * edm_build.c — leakwatch-edm build: customer table in, index of keyed hashes out (see
 * edm_build.h). Only hashes are kept in memory, so a 10-million-row table costs about
 * 160 MB while it is sorted, and the plaintext never reaches the output.
 */
#include "edm_build.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"

typedef struct hash_vec {
    uint64_t *v;
    size_t n, cap;
} hash_vec;

static bool push(hash_vec *h, uint64_t x)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1 << 16;
        uint64_t *v = realloc(h->v, cap * sizeof(*v));
        if (!v) return false;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = x;
    return true;
}

/* s[0..n) without surrounding ASCII blanks, compared caselessly with name. */
static bool header_is(const uint8_t *s, size_t n, const char *name)
{
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    return strlen(name) == n && strncasecmp((const char *)s, name, n) == 0;
}

static bool find_column(const lw_csv *r, const char *name, const char *in_name, unsigned *col,
                        char *err, size_t errlen)
{
    for (size_t i = 0; i < r->n_fields; i++) {
        size_t n;
        const uint8_t *f = lw_csv_field(r, i, &n);
        if (header_is(f, n, name)) {
            *col = (unsigned)i + 1;
            return true;
        }
    }
    int at = snprintf(err, errlen, "%s:%lu: no column named \"%s\" in the header (it has:", in_name,
                      r->line, name);
    for (size_t i = 0; i < r->n_fields && at > 0 && (size_t)at + 40 < errlen; i++) {
        size_t n;
        const uint8_t *f = lw_csv_field(r, i, &n);
        at += snprintf(err + at, errlen - (size_t)at, " \"%.*s\"", (int)(n > 24 ? 24 : n),
                       (const char *)f);
    }
    if (at > 0 && (size_t)at + 2 < errlen) snprintf(err + at, errlen - (size_t)at, ")");
    return false;
}

bool lw_edm_build(FILE *in, const char *in_name, const char *out_path, const lw_edm_build_opts *o,
                  const lw_fp_key *key, lw_edm_build_report *rep, char *err, size_t errlen)
{
    memset(rep, 0, sizeof(*rep));
    lw_csv r;
    lw_csv_init(&r, in);
    hash_vec h = {0};
    uint8_t *norm = malloc(LW_CSV_RECORD_MAX);
    bool whole_lines = o->column == 0 && !o->column_name;
    bool header = o->header || o->column_name;
    unsigned col = o->column;
    bool ok = norm != NULL;
    int rc = 0;
    if (!ok) snprintf(err, errlen, "out of memory");
    while (ok && (rc = lw_csv_next(&r, whole_lines)) == 1) {
        if (header) {
            header = false;
            if (o->column_name &&
                !(ok = find_column(&r, o->column_name, in_name, &col, err, errlen)))
                break;
            continue;
        }
        rep->records++;
        size_t idx = whole_lines ? 0 : col - 1, len;
        if (idx >= r.n_fields) {
            rep->short_rows++;
            continue;
        }
        const uint8_t *f = lw_csv_field(&r, idx, &len);
        /* into a buffer as long as any record: every normalizer's output is at most its
         * input, so empty and too long are told apart */
        size_t n = lw_edm_normalize(o->norm, f, len, norm, LW_CSV_RECORD_MAX);
        if (!n) {
            rep->empty++;
            continue;
        }
        if (n > LW_EDM_VALUE_MAX) {
            rep->too_long++;
            continue;
        }
        if (!push(&h, lw_edm_hash(key, norm, n))) {
            snprintf(err, errlen, "%s: out of memory after %llu values", in_name,
                     (unsigned long long)rep->values);
            ok = false;
            break;
        }
        rep->values++;
    }
    if (ok && rc < 0) {
        snprintf(err, errlen, "%s:%lu: %s", in_name, r.line, r.err);
        ok = false;
    }
    if (ok && ferror(in)) {
        snprintf(err, errlen, "%s: read error", in_name);
        ok = false;
    }
    rep->column = col;
    lw_csv_free(&r);
    free(norm);
    if (ok) {
        size_t count = h.n;
        ok = lw_edm_write(out_path, o->norm, h.v, &count, key, err, errlen);
        rep->entries = count;
    }
    free(h.v);
    return ok;
}
