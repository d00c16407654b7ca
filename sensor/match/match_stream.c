/*
 * match_stream.c — one Hyperscan stream per inspected flow direction (see match.h).
 *
 * Bytes are scanned as they arrive; the scan callback only records (signature, end) so no
 * work happens inside Hyperscan. After the scan, each report is decided on the stream's tail
 * plus the new bytes, or — if it ends too close to the newest byte to tell — kept pending
 * until the next bytes, a gap or the end of the stream. The tail then takes the newest bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "match/matcher_private.h"

LW_COUNTER_NAMES(match, MATCH, LW_MATCH_COUNTERS)

lw_match_worker *lw_match_worker_new(const lw_matcher *m)
{
    lw_match_worker *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->m = m;
    w->window_cap = (size_t)m->tail_bytes * 2 + 64;
    w->window = malloc(w->window_cap);
    w->reports = malloc(LW_MATCH_MAX_REPORTS * sizeof(*w->reports));
    bool ok = w->window && w->reports;
    if (ok && m->db) ok = hs_alloc_scratch(m->db, &w->scratch) == HS_SUCCESS;
    if (ok && m->gated_db) ok = hs_alloc_scratch(m->gated_db, &w->scratch) == HS_SUCCESS;
    w->scratch_fits = calloc(m->n ? m->n : 1, sizeof(bool));
    ok = ok && w->scratch_fits;
    if (!ok) {
        lw_match_worker_free(w);
        return NULL;
    }
    return w;
}

void lw_match_worker_free(lw_match_worker *w)
{
    if (!w) return;
    hs_free_scratch(w->scratch);
    free(w->scratch_fits);
    free(w->window);
    free(w->reports);
    free(w);
}

const lw_match_counters *lw_match_worker_counters(const lw_match_worker *w)
{
    return &w->counters;
}

void lw_match_worker_set_tag(lw_match_worker *w, const lw_match_tag *tag)
{
    w->tag = *tag;
}

void lw_match_worker_count(lw_match_worker *w, enum lw_match_counter which)
{
    w->counters.c[which]++;
}

lw_match_stream *lw_match_stream_open(lw_match_worker *w, uint64_t offset)
{
    const lw_matcher *m = w->m;
    if (!m->db && !m->gated_db) return NULL;
    lw_match_stream *s = calloc(1, sizeof(*s) + m->tail_bytes);
    bool ok = s != NULL;
    if (ok && m->db) ok = hs_open_stream(m->db, 0, &s->hs) == HS_SUCCESS;
    if (ok && m->gated_db) ok = hs_open_stream(m->gated_db, 0, &s->hs2) == HS_SUCCESS;
    if (!ok) {
        if (s && s->hs) hs_close_stream(s->hs, NULL, NULL, NULL);
        free(s);
        w->counters.c[LW_MATCH_streams_failed]++;
        return NULL;
    }
    s->open = true;
    s->hs_base = s->hs2_base = s->ctx_start = s->next_off = offset;
    w->counters.c[LW_MATCH_streams_opened]++;
    return s;
}

static int on_report(unsigned int id, unsigned long long from, unsigned long long to,
                     unsigned int flags, void *ctx)
{
    (void)from;
    (void)flags;
    lw_match_worker *w = ctx;
    w->counters.c[LW_MATCH_reports]++;
    if (w->n_reports == LW_MATCH_MAX_REPORTS) {
        w->counters.c[LW_MATCH_reports_dropped]++;
        return 0;
    }
    w->reports[w->n_reports++] =
        (lw_match_report){.id = id, .end = w->report_base + to, .tag = w->tag};
    return 0;
}

/* Feed bytes (at most LW_MATCH_PIECE) to one Hyperscan stream whose offset 0 is `base`;
 * false on a scan error. */
static bool scan(lw_match_worker *w, hs_stream_t *hs, uint64_t base, const uint8_t *data,
                 size_t len)
{
    w->report_base = base;
    if (hs_scan_stream(hs, (const char *)data, (unsigned)len, 0, w->scratch, on_report, w) ==
        HS_SUCCESS)
        return true;
    w->counters.c[LW_MATCH_scan_errors]++;
    return false;
}

/* Group g's class run ending at data[i] (inclusive), counted up to `need`, with the run
 * carried from before the chunk when it reaches the chunk's start. */
static uint32_t run_back(const lw_matcher *m, const lw_match_stream *s, const uint8_t *data,
                         size_t i, unsigned g, uint32_t need)
{
    uint32_t r = 0;
    while (r < need && r <= i && (m->gate_tbl[data[i - r]] >> g & 1)) r++;
    if (r == i + 1) r += s->run[g];
    return r;
}

/* Does some group's class run inside the union run [a, b) (or carried into it when a is the
 * chunk's start) reach that group's shortest match? */
static bool groups_in_run(const lw_matcher *m, const lw_match_stream *s, const uint8_t *data,
                          size_t a, size_t b)
{
    for (unsigned g = 0; g < m->n_gate_groups; g++) {
        uint32_t r = a == 0 ? s->run[g] : 0;
        for (size_t i = a; i < b; i++) {
            r = (m->gate_tbl[data[i]] >> g & 1) ? r + 1 : 0;
            if (r >= m->gate_minw[g]) return true;
        }
    }
    return false;
}

/* The gate: does any group's class form a run, carried over from the bytes before, at
 * least that group's shortest match long? A run of `shortest` bytes in ANY class must hold
 * one of the bytes at positions shortest-1, 2*shortest-1, ...: only those are looked at,
 * and the union run around a hit is then checked group by group. Leaves each group's run at
 * the end of the bytes in s->run, for the next bytes. */
static bool gate_open(const lw_matcher *m, lw_match_stream *s, const uint8_t *data, size_t len)
{
    unsigned ng = m->n_gate_groups;
    size_t shortest = SIZE_MAX;
    bool carried = false;
    for (unsigned g = 0; g < ng; g++) {
        if (m->gate_minw[g] < shortest) shortest = m->gate_minw[g];
        carried |= s->run[g] > 0;
    }
    bool open = false;
    /* a run carried from the bytes before may complete in fewer than `shortest` bytes */
    if (carried) {
        size_t b = 0;
        while (b < len && b < shortest && m->gate_tbl[data[b]]) b++;
        open = groups_in_run(m, s, data, 0, b);
    }
    for (size_t i = shortest - 1; !open && i < len; i += shortest) {
        if (!m->gate_tbl[data[i]]) continue;
        size_t a = i, b = i + 1;
        while (a > 0 && m->gate_tbl[data[a - 1]]) a--;
        while (b < len && m->gate_tbl[data[b]]) b++;
        if (b - a >= shortest || (a == 0 && carried)) open = groups_in_run(m, s, data, a, b);
        while (i + shortest < b) i += shortest; /* the next sample after this run */
    }
    for (unsigned g = 0; g < ng; g++) {
        uint32_t r = len ? run_back(m, s, data, len - 1, g, UINT16_MAX) : s->run[g];
        s->run[g] = (uint16_t)(r > UINT16_MAX ? UINT16_MAX : r);
    }
    return open;
}

/* The gated database sees these bytes if the gate opens; it starts over (from the class run
 * that leads into them, taken from the tail) after bytes it did not see. */
static void scan_gated(lw_match_worker *w, lw_match_stream *s, uint64_t offset, const uint8_t *data,
                       size_t len)
{
    const lw_matcher *m = w->m;
    uint16_t carried[LW_MATCH_GATE_GROUPS];
    memcpy(carried, s->run, sizeof(carried));
    if (!gate_open(m, s, data, len)) {
        w->counters.c[LW_MATCH_gated_skipped] += len;
        if (s->hs2_live) {
            hs_reset_stream(s->hs2, 0, NULL, NULL, NULL); /* no gated signature ends at EOD */
            s->hs2_live = false;
        }
        return;
    }
    if (!s->hs2_live) {
        uint32_t carry = 0;
        for (unsigned g = 0; g < m->n_gate_groups; g++)
            if (carried[g] > carry) carry = carried[g];
        if (carry > m->gate_carry) carry = m->gate_carry;
        if (carry > s->tail_len) carry = s->tail_len;
        s->hs2_base = offset - carry;
        s->hs2_live = true;
        if (carry && !scan(w, s->hs2, s->hs2_base, s->tail + s->tail_len - carry, carry)) return;
        w->counters.c[LW_MATCH_gated_bytes] += carry;
    }
    w->counters.c[LW_MATCH_gated_bytes] += len;
    scan(w, s->hs2, s->hs2_base, data, len);
}

static bool pending_push(lw_match_worker *w, lw_match_stream *s, const lw_match_report *r)
{
    if (s->n_pending == s->pending_cap) {
        if (s->pending_cap == LW_MATCH_MAX_PENDING) return false;
        uint32_t cap = s->pending_cap ? s->pending_cap * 2 : 8;
        lw_match_report *p = realloc(s->pending, cap * sizeof(*p));
        if (!p) return false;
        s->pending = p;
        s->pending_cap = cap;
    }
    s->pending[s->n_pending++] = *r;
    (void)w;
    return true;
}

/* Decide what can be decided on the view: first the reports that were waiting (they end
 * before the new ones), then this scan's. The rest waits. */
static void decide_reports(lw_match_worker *w, lw_match_stream *s, const lw_match_view *v,
                           lw_match_fn fn, void *user)
{
    const lw_matcher *m = w->m;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < s->n_pending; i++) {
        if (lw_match_decidable(m, &s->pending[i], v))
            lw_match_decide(w, &s->pending[i], v, fn, user);
        else
            s->pending[kept++] = s->pending[i];
    }
    s->n_pending = kept;
    for (size_t i = 0; i < w->n_reports; i++) {
        const lw_match_report *r = &w->reports[i];
        if (lw_match_decidable(m, r, v)) {
            lw_match_decide(w, r, v, fn, user);
        } else if (!pending_push(w, s, r)) {
            w->counters.c[LW_MATCH_pending_overflow]++;
            lw_match_view early = *v;
            early.at_end = true;
            lw_match_decide(w, r, &early, fn, user);
        }
    }
    w->n_reports = 0;
    /* a grown buffer is given back once empty; a small one stays (reused every piece) */
    if (!s->n_pending && s->pending_cap > 8) {
        free(s->pending);
        s->pending = NULL;
        s->pending_cap = 0;
    }
}

/* The tail keeps the newest tail_bytes bytes of the current match context. */
static void tail_append(const lw_matcher *m, lw_match_stream *s, const uint8_t *data, size_t len)
{
    uint32_t cap = m->tail_bytes;
    if (len >= cap) {
        memcpy(s->tail, data + len - cap, cap);
        s->tail_len = cap;
        return;
    }
    uint32_t keep = s->tail_len + (uint32_t)len > cap ? cap - (uint32_t)len : s->tail_len;
    if (keep < s->tail_len) memmove(s->tail, s->tail + (s->tail_len - keep), keep);
    memcpy(s->tail + keep, data, len);
    s->tail_len = keep + (uint32_t)len;
}

/* End the match context after next_off: end-anchored matches and pending reports are decided
 * as at an end. close: the Hyperscan streams are closed rather than reset. */
static void end_context(lw_match_worker *w, lw_match_stream *s, bool close, lw_match_fn fn,
                        void *user)
{
    w->n_reports = 0;
    hs_error_t rc = HS_SUCCESS;
    w->report_base = s->hs_base;
    if (s->hs)
        rc = close ? hs_close_stream(s->hs, w->scratch, on_report, w)
                   : hs_reset_stream(s->hs, 0, w->scratch, on_report, w);
    if (rc != HS_SUCCESS) w->counters.c[LW_MATCH_scan_errors]++;
    if (s->hs2) {
        if (close)
            hs_close_stream(s->hs2, NULL, NULL, NULL);
        else
            hs_reset_stream(s->hs2, 0, NULL, NULL, NULL);
    }
    if (close) s->hs = s->hs2 = NULL;
    s->open = !close;
    s->hs2_live = false;
    memset(s->run, 0, sizeof(s->run));
    memset(s->recent_sig, 0, sizeof(s->recent_sig)); /* offsets start over in a new context */
    lw_match_view v = {.s = s,
                       .data_off = s->next_off,
                       .data = NULL,
                       .len = 0,
                       .at_end = true,
                       .tag = s->last_tag};
    decide_reports(w, s, &v, fn, user);
}

void lw_match_stream_boundary(lw_match_worker *w, lw_match_stream *s, uint64_t next_offset,
                              lw_match_fn fn, void *user)
{
    if (!s || !s->open) return;
    end_context(w, s, false, fn, user);
    s->tail_len = 0;
    s->hs_base = s->hs2_base = s->ctx_start = s->next_off = next_offset;
}

void lw_match_stream_gap(lw_match_worker *w, lw_match_stream *s, uint64_t next_offset,
                         lw_match_fn fn, void *user)
{
    if (!s || !s->open) return;
    w->counters.c[LW_MATCH_gaps]++;
    lw_match_stream_boundary(w, s, next_offset, fn, user);
}

/* One piece of at most LW_MATCH_PIECE bytes: scanned, its reports decided, then kept in the
 * tail. Pieces bound what one scan can report (a 64 KiB segment of e-mail addresses). */
static void stream_piece(lw_match_worker *w, lw_match_stream *s, uint64_t offset,
                         const uint8_t *data, size_t len, lw_match_fn fn, void *user)
{
    w->n_reports = 0;
    w->counters.c[LW_MATCH_bytes_scanned] += len;
    if (s->hs) scan(w, s->hs, s->hs_base, data, len);
    if (s->hs2) scan_gated(w, s, offset, data, len);
    lw_match_view v = {
        .s = s, .data_off = offset, .data = data, .len = len, .at_end = false, .tag = w->tag};
    decide_reports(w, s, &v, fn, user);
    tail_append(w->m, s, data, len);
    s->next_off = offset + len;
    s->last_tag = w->tag;
}

void lw_match_stream_data(lw_match_worker *w, lw_match_stream *s, uint64_t offset,
                          const uint8_t *data, size_t len, lw_match_fn fn, void *user)
{
    if (!s || !s->open || !len) return;
    if (offset != s->next_off) lw_match_stream_gap(w, s, offset, fn, user);
    for (size_t done = 0; done < len;) {
        size_t piece = len - done > LW_MATCH_PIECE ? LW_MATCH_PIECE : len - done;
        stream_piece(w, s, offset + done, data + done, piece, fn, user);
        done += piece;
    }
}

void lw_match_stream_close(lw_match_worker *w, lw_match_stream *s, lw_match_fn fn, void *user)
{
    if (!s) return;
    if (s->open) end_context(w, s, true, fn, user);
    free(s->pending);
    free(s);
}
