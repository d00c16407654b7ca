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
    for (size_t i = 0; ok && i < m->n; i++)
        ok = hs_alloc_scratch(m->c[i].confirm, &w->scratch) == HS_SUCCESS;
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
    free(w->window);
    free(w->reports);
    free(w);
}

const lw_match_counters *lw_match_worker_counters(const lw_match_worker *w)
{
    return &w->counters;
}

void lw_match_worker_count(lw_match_worker *w, enum lw_match_counter which)
{
    w->counters.c[which]++;
}

lw_match_stream *lw_match_stream_open(lw_match_worker *w, uint64_t offset)
{
    const lw_matcher *m = w->m;
    if (!m->db) return NULL;
    lw_match_stream *s = calloc(1, sizeof(*s) + m->tail_bytes);
    if (!s) {
        w->counters.c[LW_MATCH_streams_failed]++;
        return NULL;
    }
    if (hs_open_stream(m->db, 0, &s->hs) != HS_SUCCESS) {
        free(s);
        w->counters.c[LW_MATCH_streams_failed]++;
        return NULL;
    }
    s->hs_base = s->ctx_start = s->next_off = offset;
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
    w->reports[w->n_reports++] = (lw_match_report){.id = id, .end = w->scanning->hs_base + to};
    return 0;
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
    if (!s->n_pending && s->pending) {
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
 * as at an end. close: the Hyperscan stream is closed rather than reset. */
static void end_context(lw_match_worker *w, lw_match_stream *s, bool close, lw_match_fn fn,
                        void *user)
{
    w->scanning = s;
    w->n_reports = 0;
    hs_error_t rc = close ? hs_close_stream(s->hs, w->scratch, on_report, w)
                          : hs_reset_stream(s->hs, 0, w->scratch, on_report, w);
    if (close) s->hs = NULL;
    if (rc != HS_SUCCESS) w->counters.c[LW_MATCH_scan_errors]++;
    lw_match_view v = {.s = s, .data_off = s->next_off, .data = NULL, .len = 0, .at_end = true};
    decide_reports(w, s, &v, fn, user);
}

void lw_match_stream_gap(lw_match_worker *w, lw_match_stream *s, uint64_t next_offset,
                         lw_match_fn fn, void *user)
{
    if (!s || !s->hs) return;
    w->counters.c[LW_MATCH_gaps]++;
    end_context(w, s, false, fn, user);
    s->tail_len = 0;
    s->hs_base = s->ctx_start = s->next_off = next_offset;
}

void lw_match_stream_data(lw_match_worker *w, lw_match_stream *s, uint64_t offset,
                          const uint8_t *data, size_t len, lw_match_fn fn, void *user)
{
    if (!s || !s->hs || !len) return;
    if (offset != s->next_off) lw_match_stream_gap(w, s, offset, fn, user);
    w->scanning = s;
    w->n_reports = 0;
    w->counters.c[LW_MATCH_bytes_scanned] += len;
    /* Hyperscan takes an unsigned int length: feed very large buffers in pieces */
    size_t done = 0;
    while (done < len) {
        size_t piece = len - done > (1u << 30) ? (1u << 30) : len - done;
        if (hs_scan_stream(s->hs, (const char *)data + done, (unsigned)piece, 0, w->scratch,
                           on_report, w) != HS_SUCCESS) {
            w->counters.c[LW_MATCH_scan_errors]++;
            break;
        }
        done += piece;
    }
    lw_match_view v = {.s = s, .data_off = offset, .data = data, .len = len, .at_end = false};
    decide_reports(w, s, &v, fn, user);
    tail_append(w->m, s, data, len);
    s->next_off = offset + len;
}

void lw_match_stream_close(lw_match_worker *w, lw_match_stream *s, lw_match_fn fn, void *user)
{
    if (!s) return;
    if (s->hs) end_context(w, s, true, fn, user);
    free(s->pending);
    free(s);
}
