/*
 * matcher_build.c — compiles a signature set for matching (see match.h).
 *
 * Per content signature: hs_expression_info gives its widths (and Hyperscan's verdict on
 * the regex, reported with file:line); a small block-mode database finds a match's start —
 * with HS_FLAG_SOM_LEFTMOST where Hyperscan accepts it, else the regex anchored with \A,
 * probed from each possible start. Then one streaming database holds every content
 * signature, without start tracking, so the per-byte cost is Hyperscan's cheapest.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leakwatch/edm.h"
#include "match/matcher_private.h"
#include "match/regex_class.h"

/* A gated group's class may hold at most this many bytes, no lower-case letters (words
 * would make runs everywhere in text), and its signatures match at least GATE_MIN_WIDTH. */
#define GATE_MAX_CLASS 40
#define GATE_MIN_WIDTH 8

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned hs_flags_of(const lw_signature *g)
{
    unsigned f = 0;
    if (g->flags & LW_SIGF_CASELESS) f |= HS_FLAG_CASELESS;
    if (g->flags & LW_SIGF_DOTALL) f |= HS_FLAG_DOTALL;
    if (g->flags & LW_SIGF_MULTILINE) f |= HS_FLAG_MULTILINE;
    if (g->flags & LW_SIGF_UTF8) f |= HS_FLAG_UTF8;
    return f;
}

static int sig_error(char *err, size_t errlen, const lw_signature *g, const char *what,
                     const char *why, const char *fix)
{
    snprintf(err, errlen, "%s:%u: signature %u: %s: %s (%s)", g->file, g->line, (unsigned)g->id,
             what, why, fix);
    return 2;
}

static bool lower_keywords(lw_sig_compiled *c)
{
    const lw_strlist *k = &c->sig->context_keywords;
    if (!k->n) return true;
    c->keywords = calloc(k->n, sizeof(char *));
    c->keyword_len = calloc(k->n, sizeof(size_t));
    if (!c->keywords || !c->keyword_len) return false;
    for (size_t i = 0; i < k->n; i++) {
        size_t len = strlen(k->v[i]);
        if (!(c->keywords[i] = malloc(len + 1))) return false;
        for (size_t j = 0; j <= len; j++)
            c->keywords[i][j] = (char)tolower((unsigned char)k->v[i][j]);
        c->keyword_len[i] = len;
        c->n_keywords++;
    }
    return true;
}

/* The block database that finds a value's start: with HS_FLAG_SOM_LEFTMOST where Hyperscan
 * takes it, else the regex anchored with \A for probes from each possible start. */
static bool compile_confirm(lw_sig_compiled *c)
{
    const lw_signature *g = c->sig;
    hs_compile_error_t *cerr = NULL;
    hs_database_t *db = NULL;
    if (hs_compile(g->regex, c->hs_flags | HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK, NULL, &db, &cerr) ==
        HS_SUCCESS) {
        c->som = true;
    } else {
        hs_free_compile_error(cerr);
        cerr = NULL;
        size_t len = strlen(g->regex) + 8;
        char *anchored = malloc(len);
        if (!anchored) return false;
        snprintf(anchored, len, "\\A(?:%s)", g->regex);
        hs_error_t rc = hs_compile(anchored, c->hs_flags, HS_MODE_BLOCK, NULL, &db, &cerr);
        free(anchored);
        hs_free_compile_error(cerr);
        if (rc != HS_SUCCESS) return false;
    }
    atomic_store_explicit(&c->confirm, db, memory_order_release);
    return true;
}

const hs_database_t *lw_confirm_db(lw_matcher *m, lw_sig_compiled *c)
{
    hs_database_t *db = atomic_load_explicit(&c->confirm, memory_order_acquire);
    if (db || c->confirm_failed) return db;
    pthread_mutex_lock(&m->lazy_lock);
    db = atomic_load_explicit(&c->confirm, memory_order_acquire);
    if (!db && !c->confirm_failed) {
        if (compile_confirm(c))
            db = atomic_load_explicit(&c->confirm, memory_order_acquire);
        else
            c->confirm_failed = true;
    }
    pthread_mutex_unlock(&m->lazy_lock);
    return db;
}

int lw_matcher_prepare_all(lw_matcher *m, char *err, size_t errlen)
{
    for (size_t i = 0; i < m->n; i++) {
        lw_sig_compiled *c = &m->c[i];
        if (c->needs_confirm && !lw_confirm_db(m, c))
            return sig_error(err, errlen, c->sig, "regex rejected by Hyperscan (block mode)",
                             "it compiles for streaming but not for finding starts",
                             "simplify the regex");
    }
    lw_matcher_info *in = &m->info;
    in->confirm_bytes = in->som_sigs = 0;
    for (size_t i = 0; i < m->n; i++) {
        size_t sz = 0;
        hs_database_t *db = atomic_load(&m->c[i].confirm);
        if (db && hs_database_size(db, &sz) == HS_SUCCESS) in->confirm_bytes += sz;
        if (db && m->c[i].som) in->som_sigs++;
    }
    return 0;
}

/* Widths and the byte budget of one content signature. 0, 1 or 2. */
static int compile_one(lw_sig_compiled *c, char *err, size_t errlen)
{
    const lw_signature *g = c->sig;
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *cerr = NULL;
    c->hs_flags = hs_flags_of(g);
    if (hs_expression_info(g->regex, c->hs_flags, &info, &cerr) != HS_SUCCESS) {
        int rc = sig_error(err, errlen, g, "regex rejected by Hyperscan",
                           cerr ? cerr->message : "unknown error", "fix the regex");
        hs_free_compile_error(cerr);
        return rc;
    }
    unsigned minw = info->min_width, maxw = info->max_width;
    free(info);
    if (minw == 0)
        return sig_error(err, errlen, g, "regex can match an empty string", "nothing to report",
                         "make every part of the value required");
    if (minw > LW_MATCH_MAX_VALUE) {
        char why[64];
        snprintf(why, sizeof(why), "matches at least %u bytes", minw);
        return sig_error(err, errlen, g, "regex too long", why,
                         "match a bounded prefix of at most 256 bytes");
    }
    c->min_width = minw;
    c->unbounded = maxw > LW_MATCH_MAX_VALUE;
    c->max_width = c->unbounded ? LW_MATCH_MAX_VALUE : maxw;
    c->before = c->max_width + g->context_within + 1;
    uint32_t longer = c->max_width - c->min_width;
    c->after = longer > 0 ? longer : (g->boundary ? 1 : 0);

    c->keyed = g->context_keywords.n && !g->hook;
    if (c->keyed) {
        /* the value is looked for in the bytes after each keyword (and the one before) */
        c->before = 1;
        c->after = lw_kw_after(c);
    }
    /* fixed width: a match's end says where it starts, no database is needed; the others
     * get theirs when they first report (most signatures never do in a given run) */
    c->needs_confirm = c->min_width != c->max_width || c->keyed;
    if (g->hook) {
        if (hs_expression_info(g->hook, c->hs_flags, &info, &cerr) != HS_SUCCESS) {
            int rc = sig_error(err, errlen, g, "hook rejected by Hyperscan",
                               cerr ? cerr->message : "unknown error", "fix the hook");
            hs_free_compile_error(cerr);
            return rc;
        }
        unsigned hook_min = info->min_width;
        free(info);
        if (hook_min == 0)
            return sig_error(err, errlen, g, "hook can match an empty string",
                             "it would report everywhere", "make it match the value's last bytes");
    }
    return lower_keywords(c) ? 0 : 1;
}

static bool class_within(const uint8_t a[32], const uint8_t b[32])
{
    for (int i = 0; i < 32; i++)
        if (a[i] & ~b[i]) return false;
    return true;
}

static bool has_lower(const uint8_t cls[32])
{
    for (unsigned b = 'a'; b <= 'z'; b++)
        if (cls[b >> 3] >> (b & 7) & 1) return true;
    return false;
}

/* Put literal-free signatures of a small byte class behind the gate (one group per distinct
 * class, up to LW_MATCH_GATE_GROUPS). */
static void assign_gate_groups(lw_matcher *m)
{
    uint8_t classes[LW_MATCH_GATE_GROUPS][32];
    for (size_t i = 0; i < m->n; i++) {
        lw_sig_compiled *c = &m->c[i];
        const lw_signature *g = c->sig;
        uint8_t cls[32];
        c->gate_group = -1;
        if (g->hook || c->keyed || c->min_width < GATE_MIN_WIDTH || c->unbounded ||
            lw_regex_lead_literal(g->regex) >= 3 ||
            !lw_regex_byte_class(g->regex, g->flags & LW_SIGF_CASELESS, cls) ||
            lw_byte_class_count(cls) > GATE_MAX_CLASS || has_lower(cls))
            continue;
        /* join a group whose class holds this one (its runs are at least as long) */
        unsigned k = 0;
        while (k < m->n_gate_groups && !class_within(cls, classes[k])) k++;
        if (k == m->n_gate_groups) {
            if (k == LW_MATCH_GATE_GROUPS) continue;
            memcpy(classes[k], cls, 32);
            m->gate_minw[k] = UINT16_MAX;
            m->n_gate_groups++;
        }
        c->gate_group = (int)k;
        if (c->min_width < m->gate_minw[k]) m->gate_minw[k] = (uint16_t)c->min_width;
        if (c->max_width + 1 > m->gate_carry) m->gate_carry = c->max_width + 1;
    }
    for (unsigned k = 0; k < m->n_gate_groups; k++)
        for (unsigned b = 0; b < 256; b++)
            if (classes[k][b >> 3] >> (b & 7) & 1) m->gate_tbl[b] |= (uint16_t)(1u << k);
}

/* The streaming form of a `boundary` regex: it may only start at the stream's start or after
 * a byte that is not a letter or digit. Hyperscan then reports a run of 60 upper-case hex
 * digits once (where a VIN could start) instead of at each of its 44 VIN-long ends; the
 * start itself is still found (and checked) with the plain regex. */
static char *left_bounded(const char *re)
{
    size_t len = strlen(re) + 32;
    char *p = malloc(len);
    if (p) snprintf(p, len, "(?:^|[^A-Za-z0-9])(?:%s)", re);
    return p;
}

/* A keyword as a Hyperscan literal: every byte hex-escaped. */
static char *literal_pattern(const char *kw)
{
    size_t len = strlen(kw);
    char *p = malloc(len * 4 + 1);
    if (!p) return NULL;
    for (size_t i = 0; i < len; i++) sprintf(p + 4 * i, "\\x%02x", (unsigned char)kw[i]);
    p[len * 4] = '\0';
    return p;
}

/* Index in lw_matcher.kw of signature c's first keyword. */
static size_t kw_first(const lw_matcher *m, uint32_t sig)
{
    size_t k = 0;
    while (k < m->n_kw && m->kw[k].sig != sig) k++;
    return k;
}

/* One lw_kw_ref per keyword of every keyed signature, in signature order. */
static bool build_keywords(lw_matcher *m)
{
    size_t total = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->c[i].keyed) total += m->c[i].n_keywords;
    if (!total) return true;
    if (!(m->kw = calloc(total, sizeof(*m->kw)))) return false;
    for (size_t i = 0; i < m->n; i++)
        for (size_t k = 0; m->c[i].keyed && k < m->c[i].n_keywords; k++)
            m->kw[m->n_kw++] =
                (lw_kw_ref){.sig = (uint32_t)i, .len = (uint32_t)m->c[i].keyword_len[k]};
    return true;
}

/* One streaming database of the signatures that are (gated) or are not behind the gate. */
static int compile_stream_db(lw_matcher *m, bool gated, hs_database_t **db, char *err,
                             size_t errlen)
{
    size_t cap = m->n + m->n_kw;
    const char **exprs = calloc(cap, sizeof(char *));
    unsigned *flags = calloc(cap, sizeof(unsigned));
    unsigned *ids = calloc(cap, sizeof(unsigned));
    size_t *which = calloc(cap, sizeof(size_t));
    char **owned = calloc(cap, sizeof(char *));
    unsigned n = 0;
    int rc = 1;
    if (exprs && flags && ids && which && owned) {
        rc = 0;
        for (size_t i = 0; i < m->n; i++) {
            if ((m->c[i].gate_group >= 0) != gated || m->c[i].keyed) continue;
            const lw_signature *g = m->c[i].sig;
            exprs[n] = g->hook ? g->hook : g->regex;
            if (gated && g->boundary && !(exprs[n] = owned[n] = left_bounded(g->regex))) {
                rc = 1;
                break;
            }
            flags[n] = m->c[i].hs_flags;
            ids[n] = (unsigned)i;
            which[n++] = i;
        }
        for (size_t k = 0; !gated && k < m->n_kw && !rc; k++) {
            lw_sig_compiled *c = &m->c[m->kw[k].sig];
            const char *kw = c->sig->context_keywords.v[k - kw_first(m, m->kw[k].sig)];
            if (!(owned[n] = literal_pattern(kw))) {
                rc = 1;
                break;
            }
            exprs[n] = owned[n];
            flags[n] = HS_FLAG_CASELESS;
            ids[n] = (unsigned)(m->n + k);
            which[n++] = m->kw[k].sig;
        }
    }
    if (!rc) {
        rc = 1;
        hs_compile_error_t *cerr = NULL;
        if (!n) {
            rc = 0;
        } else if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_STREAM, NULL, db, &cerr) ==
                   HS_SUCCESS) {
            rc = 0;
        } else if (cerr && cerr->expression >= 0 && (unsigned)cerr->expression < n) {
            rc = sig_error(err, errlen, m->c[which[cerr->expression]].sig,
                           "regex rejected by Hyperscan (streaming)", cerr->message,
                           "simplify the regex");
        } else {
            snprintf(err, errlen, "signatures: Hyperscan could not compile the set: %s",
                     cerr ? cerr->message : "unknown error");
            rc = 2;
        }
        hs_free_compile_error(cerr);
    }
    for (size_t i = 0; owned && i < cap; i++) free(owned[i]);
    free(owned);
    free(exprs);
    free(flags);
    free(ids);
    free(which);
    return rc;
}

void lw_matcher_free(lw_matcher *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        lw_sig_compiled *c = &m->c[i];
        hs_free_database(atomic_load(&c->confirm));
        for (size_t k = 0; k < c->n_keywords; k++) free(c->keywords[k]);
        free(c->keywords);
        free(c->keyword_len);
    }
    free(m->c);
    free(m->kw);
    pthread_mutex_destroy(&m->lazy_lock);
    hs_free_database(m->db);
    hs_free_database(m->gated_db);
    free(m);
}

static void fill_info(lw_matcher *m)
{
    lw_matcher_info *in = &m->info;
    for (size_t i = 0; i < m->sigs->n; i++) {
        const lw_signature *g = &m->sigs->v[i];
        in->per_category[g->category]++;
        if (g->kind == LW_SIG_CONTENT)
            in->content_sigs++;
        else if (g->kind == LW_SIG_VOLUME)
            in->volume_sigs++;
        else
            in->dns_tunnel_sigs++;
    }
    size_t sz = 0;
    if (m->db && hs_database_size(m->db, &sz) == HS_SUCCESS) in->db_bytes = sz;
    if (m->db && hs_stream_size(m->db, &sz) == HS_SUCCESS) in->hs_stream_bytes = sz;
    if (m->gated_db && hs_database_size(m->gated_db, &sz) == HS_SUCCESS) in->gated_db_bytes = sz;
    if (m->gated_db && hs_stream_size(m->gated_db, &sz) == HS_SUCCESS) in->hs_stream_bytes += sz;
    for (size_t i = 0; i < m->n; i++)
        if (m->c[i].gate_group >= 0) in->gated_sigs++;
    in->tail_bytes = m->tail_bytes;
    in->stream_bytes = sizeof(lw_match_stream) + m->tail_bytes + in->hs_stream_bytes;
}

lw_matcher *lw_matcher_build(const lw_sigset *sigs, const lw_strlist *allow_values, char *err,
                             size_t errlen, int *code)
{
    double t0 = now_seconds();
    *code = 1;
    snprintf(err, errlen, "out of memory compiling signatures");
    lw_matcher *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    m->sigs = sigs;
    m->allow_values = allow_values;
    pthread_mutex_init(&m->lazy_lock, NULL);
    size_t content = 0;
    for (size_t i = 0; i < sigs->n; i++) content += sigs->v[i].kind == LW_SIG_CONTENT;
    if (content && !(m->c = calloc(content, sizeof(*m->c)))) goto fail;
    for (size_t i = 0; i < sigs->n; i++) {
        if (sigs->v[i].kind != LW_SIG_CONTENT) continue;
        lw_sig_compiled *c = &m->c[m->n++];
        c->sig = &sigs->v[i];
        c->sig_index = (uint32_t)i;
        c->edm_slot = -1;
        int rc = compile_one(c, err, errlen);
        if (rc) {
            if (rc == 1) snprintf(err, errlen, "out of memory compiling signatures");
            *code = rc;
            goto fail;
        }
        uint32_t need = c->before + c->after;
        if (need > m->tail_bytes) m->tail_bytes = need;
    }
    assign_gate_groups(m);
    if (!build_keywords(m)) goto fail;
    for (int gated = 0; gated < 2; gated++) {
        int rc = compile_stream_db(m, gated, gated ? &m->gated_db : &m->db, err, errlen);
        if (rc) {
            *code = rc;
            goto fail;
        }
    }
    fill_info(m);
    m->info.compile_seconds = now_seconds() - t0;
    *code = 0;
    err[0] = '\0';
    return m;
fail:
    lw_matcher_free(m);
    return NULL;
}

bool lw_matcher_attach_edm(lw_matcher *m, lw_edm_set *set, char *err, size_t errlen)
{
    for (size_t i = 0; i < m->n; i++) {
        lw_sig_compiled *c = &m->c[i];
        if (c->sig->validator != LW_VALIDATE_EDM) continue;
        if ((c->edm_slot = lw_edm_set_find(set, c->sig->edm_list)) < 0) {
            snprintf(err, errlen,
                     "%s:%u: signature %u: validate edm:%s names no exact_match list (add it "
                     "under exact_match in the configuration)",
                     c->sig->file, c->sig->line, (unsigned)c->sig->id, c->sig->edm_list);
            return false;
        }
    }
    m->edm = set;
    return true;
}

const lw_matcher_info *lw_matcher_get_info(const lw_matcher *m)
{
    return &m->info;
}

const lw_sigset *lw_matcher_sigs(const lw_matcher *m)
{
    return m->sigs;
}
