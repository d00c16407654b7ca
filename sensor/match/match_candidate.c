/*
 * match_candidate.c — turns one Hyperscan report (signature, match end) into a validated
 * value, or rejects it with a named counter.
 *
 * The window is the report's neighbourhood in the stream: up to `before` bytes before the
 * end (the value, its context keywords, the boundary byte) and `after` bytes past it (the
 * boundary byte, and room for a longer match at the same start, which supersedes this one:
 * Hyperscan reports every end of a variable-width match). The value's start is found there,
 * then the checks run cheapest first: boundary, entropy, context, validator, allow values.
 */
#include <ctype.h>
#include <string.h>

#include "leakwatch/edm.h"
#include "match/matcher_private.h"

static bool is_alnum(uint8_t b)
{
    return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
}

/* The byte at stream offset off, if the view holds it. */
static bool byte_at(const lw_match_view *v, uint64_t off, uint8_t *out)
{
    if (off >= v->data_off) {
        if (off - v->data_off >= v->len) return false;
        *out = v->data[off - v->data_off];
        return true;
    }
    uint64_t back = v->data_off - off;
    if (back > v->s->tail_len) return false;
    *out = v->s->tail[v->s->tail_len - back];
    return true;
}

bool lw_match_decidable(const lw_matcher *m, const lw_match_report *r, const lw_match_view *v)
{
    if (v->at_end) return true;
    if (r->id >= m->n)
        return r->end + lw_kw_after(&m->c[m->kw[r->id - m->n].sig]) <= v->data_off + v->len;
    const lw_sig_compiled *c = &m->c[r->id];
    uint64_t avail = v->data_off + v->len;
    if (r->end + c->after <= avail) return true;
    /* a letter or digit right after the end rejects it whatever follows */
    uint8_t b;
    return c->sig->boundary && !c->unbounded && byte_at(v, r->end, &b) && is_alnum(b);
}

/* The window [ws, we) as one contiguous run: into the new bytes if it lies there, else copied
 * (tail part + new part) into the worker's buffer. */
static const uint8_t *window(lw_match_worker *w, const lw_match_view *v, uint64_t ws, uint64_t we)
{
    if (ws >= v->data_off) return v->data + (ws - v->data_off);
    size_t from_tail = (size_t)(v->data_off - ws);
    size_t total = (size_t)(we - ws);
    if (total > w->window_cap) return NULL;
    memcpy(w->window, v->s->tail + v->s->tail_len - from_tail, from_tail);
    if (total > from_tail) memcpy(w->window + from_tail, v->data, total - from_tail);
    return w->window;
}

/* The confirm database for c, this worker's scratch grown to fit it; NULL if there is none. */
static const hs_database_t *confirm_for(lw_match_worker *w, const lw_sig_compiled *c)
{
    lw_matcher *m = (lw_matcher *)w->m; /* only the lazily compiled databases change */
    size_t i = (size_t)(c - m->c);
    const hs_database_t *db = lw_confirm_db(m, &m->c[i]);
    if (db && !w->scratch_fits[i]) {
        if (hs_alloc_scratch(db, &w->scratch) == HS_SUCCESS)
            w->scratch_fits[i] = true;
        else
            db = NULL;
    }
    if (!db) w->counters.c[LW_MATCH_confirm_errors]++;
    return db;
}

static int on_confirm(unsigned int id, unsigned long long from, unsigned long long to,
                      unsigned int flags, void *ctx)
{
    (void)id;
    (void)flags;
    lw_match_worker *w = ctx;
    if (w->n_confirm == LW_MATCH_MAX_CONFIRM) return 1; /* enough: stop the scan */
    w->confirm[w->n_confirm++] = (lw_confirm_hit){.from = from, .to = to};
    return 0;
}

/* Leftmost start of a match ending at end_rel; *longer if a match from the same start ends
 * later in the window. False if no match ends there. */
static bool find_start(lw_match_worker *w, const lw_sig_compiled *c, const uint8_t *win,
                       size_t wlen, size_t end_rel, size_t *start, bool *longer)
{
    *longer = false;
    if (c->min_width == c->max_width && !c->unbounded) {
        /* fixed width: the report's end says where it starts */
        if (end_rel < c->min_width) return false;
        *start = end_rel - c->min_width;
        return true;
    }
    const hs_database_t *db = confirm_for(w, c);
    if (!db) return false;
    if (c->som) {
        w->n_confirm = 0;
        hs_scan(db, (const char *)win, (unsigned)wlen, 0, w->scratch, on_confirm, w);
        bool found = false;
        for (size_t i = 0; i < w->n_confirm; i++) {
            if (w->confirm[i].to == end_rel && (!found || w->confirm[i].from < *start)) {
                *start = (size_t)w->confirm[i].from;
                found = true;
            }
        }
        /* a longer match supersedes this one only if it can still be reported whole */
        for (size_t i = 0; found && i < w->n_confirm; i++)
            if (w->confirm[i].from == *start && w->confirm[i].to > end_rel &&
                w->confirm[i].to - *start <= c->max_width)
                *longer = true;
        return found;
    }
    /* anchored probes, leftmost first */
    size_t lo = end_rel > c->max_width ? end_rel - c->max_width : 0;
    if (end_rel < c->min_width) return false;
    size_t hi = end_rel - c->min_width;
    for (size_t s0 = lo; s0 <= hi; s0++) {
        /* with `boundary`, a start after a letter or digit is rejected anyway: skip the probe */
        if (c->sig->boundary && s0 > 0 && is_alnum(win[s0 - 1])) continue;
        w->n_confirm = 0;
        hs_scan(db, (const char *)win + s0, (unsigned)(wlen - s0), 0, w->scratch, on_confirm, w);
        bool found = false;
        for (size_t i = 0; i < w->n_confirm; i++) {
            if (w->confirm[i].to == end_rel - s0) found = true;
            if (w->confirm[i].to > end_rel - s0 && w->confirm[i].to <= c->max_width) *longer = true;
        }
        if (found) {
            *start = s0;
            return true;
        }
        *longer = false;
    }
    return false;
}

static bool has_context(const lw_sig_compiled *c, const uint8_t *win, size_t start)
{
    size_t from = start > c->sig->context_within ? start - c->sig->context_within : 0;
    for (size_t k = 0; k < c->n_keywords; k++) {
        size_t kl = c->keyword_len[k];
        const char *kw = c->keywords[k];
        for (size_t i = from; i + kl <= start; i++) {
            size_t j = 0;
            while (j < kl && (uint8_t)tolower(win[i + j]) == (uint8_t)kw[j]) j++;
            if (j == kl) return true;
        }
    }
    return false;
}

static bool in_list(const lw_strlist *l, const uint8_t *v, size_t n, bool caseless)
{
    for (size_t i = 0; l && i < l->n; i++) {
        if (strlen(l->v[i]) != n) continue;
        if (caseless ? strncasecmp(l->v[i], (const char *)v, n) == 0 : memcmp(l->v[i], v, n) == 0)
            return true;
    }
    return false;
}

/* The checks after boundary and context, then the hit. */
static void finish(lw_match_worker *w, const lw_sig_compiled *c, const uint8_t *value, size_t len,
                   uint64_t offset, bool truncated, const lw_match_tag *tag, lw_match_fn fn,
                   void *user)
{
    const lw_signature *g = c->sig;
    lw_match_counters *k = &w->counters;
    if (g->min_entropy > 0 && lw_shannon_entropy(value, len) < g->min_entropy) {
        k->c[LW_MATCH_rejected_entropy]++;
        return;
    }
    lw_match_hit hit = {.sig = g,
                        .sig_index = c->sig_index,
                        .offset = offset,
                        .value = value,
                        .len = (uint32_t)len,
                        .truncated = truncated,
                        .tag = *tag};
    uint8_t norm[LW_EDM_VALUE_MAX];
    if (g->validator == LW_VALIDATE_EDM) {
        size_t nlen = 0;
        k->c[LW_MATCH_edm_lookups]++;
        if (!lw_edm_set_contains(w->m->edm, c->edm_slot, value, len, norm, &nlen)) {
            k->c[LW_MATCH_rejected_validator]++;
            return;
        }
        k->c[LW_MATCH_edm_members]++;
        hit.norm = norm;
        hit.norm_len = (uint32_t)nlen;
    } else if (g->validator != LW_VALIDATE_NONE &&
               !lw_validate(g->validator, value, len, &hit.extra)) {
        k->c[LW_MATCH_rejected_validator]++;
        return;
    }
    bool caseless = g->flags & LW_SIGF_CASELESS;
    if (in_list(&g->allow_values, value, len, caseless) ||
        in_list(w->m->allow_values, value, len, caseless)) {
        k->c[LW_MATCH_allowlisted_values]++;
        return;
    }
    if (truncated) k->c[LW_MATCH_values_truncated]++;
    k->c[LW_MATCH_validated]++;
    if (fn) fn(user, &hit);
}

/* A value reached through one keyword may be reached through another: report it once. */
static bool seen_recently(lw_match_stream *s, uint32_t sig, uint64_t off)
{
    for (unsigned i = 0; i < LW_MATCH_RECENT; i++)
        if (s->recent_sig[i] == sig + 1 && s->recent_off[i] == off) return true;
    s->recent_sig[s->recent_next] = sig + 1;
    s->recent_off[s->recent_next] = off;
    s->recent_next = (uint8_t)((s->recent_next + 1) % LW_MATCH_RECENT);
    return false;
}

/* Longest match of c starting at `from` in the window, at most max_width long; 0 if none. */
static size_t longest_from(lw_match_worker *w, const lw_sig_compiled *c, const hs_database_t *db,
                           const uint8_t *win, size_t wlen, size_t from)
{
    size_t best = 0;
    if (c->som) {
        for (size_t i = 0; i < w->n_confirm; i++)
            if (w->confirm[i].from == from && w->confirm[i].to - from <= c->max_width &&
                w->confirm[i].to - from > best)
                best = (size_t)(w->confirm[i].to - from);
        return best;
    }
    w->n_confirm = 0;
    hs_scan(db, (const char *)win + from, (unsigned)(wlen - from), 0, w->scratch, on_confirm, w);
    for (size_t i = 0; i < w->n_confirm; i++)
        if (w->confirm[i].to <= c->max_width && w->confirm[i].to > best)
            best = (size_t)w->confirm[i].to;
    return best;
}

/* A context keyword ended at r->end: values of its signature that start within `within`
 * bytes after the keyword's start (and not before its end) are looked for right there. */
static void decide_keyword(lw_match_worker *w, const lw_match_report *r, const lw_match_view *v,
                           lw_match_fn fn, void *user)
{
    const lw_matcher *m = w->m;
    const lw_kw_ref *kr = &m->kw[r->id - m->n];
    const lw_sig_compiled *c = &m->c[kr->sig];
    const lw_signature *g = c->sig;
    lw_match_counters *k = &w->counters;
    uint64_t lowest = v->data_off - v->s->tail_len;
    if (lowest < v->s->ctx_start) lowest = v->s->ctx_start;
    uint64_t ws = r->end > 0 ? r->end - 1 : 0; /* one byte before: the boundary byte */
    if (ws < lowest) ws = lowest;
    uint64_t we = r->end + lw_kw_after(c);
    if (we > v->data_off + v->len) we = v->data_off + v->len;
    if (r->end < ws || r->end >= we) return; /* nothing after the keyword */
    const uint8_t *win = window(w, v, ws, we);
    const hs_database_t *db = win ? confirm_for(w, c) : NULL;
    if (!db) {
        k->c[LW_MATCH_no_start]++;
        return;
    }
    size_t wlen = (size_t)(we - ws);
    size_t lo = (size_t)(r->end - ws), hi = lo + g->context_within - kr->len;
    if (hi >= wlen) hi = wlen - 1;
    if (c->som) {
        w->n_confirm = 0;
        hs_scan(db, (const char *)win, (unsigned)wlen, 0, w->scratch, on_confirm, w);
        if (!w->n_confirm) return;
    }
    for (size_t s0 = lo; s0 <= hi; s0++) {
        if (g->boundary && s0 > 0 && is_alnum(win[s0 - 1])) continue;
        size_t len = longest_from(w, c, db, win, wlen, s0);
        if (!len) continue;
        size_t end = s0 + len;
        bool at_end = end == wlen && v->at_end && we == v->data_off + v->len;
        if (g->boundary && ((end < wlen && is_alnum(win[end])) || (end == wlen && !at_end))) {
            k->c[LW_MATCH_rejected_boundary]++;
            continue;
        }
        if (seen_recently(v->s, kr->sig, ws + s0)) continue;
        /* decided once the bytes after the keyword are here: the newest bytes of the view
         * completed it (or came after the ones that did) */
        const lw_match_tag *tag = &v->tag;
        finish(w, c, win + s0, len, ws + s0, false, tag, fn, user);
    }
}

void lw_match_decide(lw_match_worker *w, const lw_match_report *r, const lw_match_view *v,
                     lw_match_fn fn, void *user)
{
    const lw_matcher *m = w->m;
    if (r->id >= m->n) {
        decide_keyword(w, r, v, fn, user);
        return;
    }
    const lw_sig_compiled *c = &m->c[r->id];
    const lw_signature *g = c->sig;
    lw_match_counters *k = &w->counters;
    uint8_t b;
    /* a letter or digit right after: rejected before any work (unbounded signatures wait:
     * a value cut at the longest reportable length has letters after it) */
    bool after_alnum = g->boundary && byte_at(v, r->end, &b) && is_alnum(b);
    if (after_alnum && !c->unbounded) {
        k->c[LW_MATCH_rejected_boundary]++;
        return;
    }
    uint64_t lowest = v->data_off - v->s->tail_len;
    if (lowest < v->s->ctx_start) lowest = v->s->ctx_start;
    uint64_t ws = r->end > c->before ? r->end - c->before : 0;
    if (ws < lowest) ws = lowest;
    uint64_t we = r->end + c->after;
    if (we > v->data_off + v->len) we = v->data_off + v->len;
    if (r->end < ws || r->end > we) {
        k->c[LW_MATCH_no_start]++;
        return;
    }
    const uint8_t *win = window(w, v, ws, we);
    size_t wlen = (size_t)(we - ws), end_rel = (size_t)(r->end - ws), start = 0;
    bool longer = false;
    if (!win || !find_start(w, c, win, wlen, end_rel, &start, &longer)) {
        k->c[LW_MATCH_no_start]++;
        return;
    }
    if (longer) {
        k->c[LW_MATCH_superseded]++;
        return;
    }
    if (end_rel - start > c->max_width) {
        /* an unbounded match going on past the longest reportable value: its first
         * max_width bytes were reported when it got that long */
        k->c[LW_MATCH_superseded]++;
        return;
    }
    bool truncated = c->unbounded && end_rel - start == c->max_width;
    const uint8_t *value = win + start;
    size_t len = end_rel - start;
    if (g->boundary && !truncated && (after_alnum || (start > 0 && is_alnum(win[start - 1])))) {
        k->c[LW_MATCH_rejected_boundary]++;
        return;
    }
    if (c->n_keywords && !has_context(c, win, start)) {
        k->c[LW_MATCH_rejected_context]++;
        return;
    }
    finish(w, c, value, len, ws + start, truncated, &r->tag, fn, user);
}
