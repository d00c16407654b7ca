/*
 * matcher_private.h — what the files of sensor/match share: the compiled form of each content
 * signature, the matcher, a worker's scratch and buffers, and one stream's state.
 */
#ifndef LW_MATCHER_PRIVATE_H
#define LW_MATCHER_PRIVATE_H

#include <hs/hs.h>

#include "leakwatch/match.h"

/* Hyperscan reports collected during one scan call, examined after it returns. */
#define LW_MATCH_MAX_REPORTS 16384
/* Matches a confirm scan of one window can return (a window is a few hundred bytes). */
#define LW_MATCH_MAX_CONFIRM 1024

typedef struct lw_sig_compiled {
    const lw_signature *sig;
    uint32_t sig_index;     /* in the sigset */
    unsigned hs_flags;      /* HS_FLAG_* of the pattern */
    uint32_t min_width;     /* shortest match */
    uint32_t max_width;     /* longest match, capped at LW_MATCH_MAX_VALUE */
    bool unbounded;         /* Hyperscan's max_width exceeded the cap */
    bool som;               /* confirm finds starts with one SOM scan (else: anchored probes) */
    hs_database_t *confirm; /* block mode: SOM database, or "^(?:regex)" without SOM */
    uint32_t before;        /* bytes needed before a match end: value, context, boundary byte */
    uint32_t after;         /* bytes needed after it to decide: boundary byte, longer matches */
    char **keywords;        /* context keywords, lower-cased */
    size_t *keyword_len;
    size_t n_keywords;
} lw_sig_compiled;

struct lw_matcher {
    const lw_sigset *sigs;
    const lw_strlist *allow_values; /* global allowlist.values (may be NULL) */
    lw_sig_compiled *c;             /* content signatures; the Hyperscan id is the index */
    size_t n;
    hs_database_t *db; /* streaming, every content signature; NULL when there are none */
    uint32_t tail_bytes;
    lw_matcher_info info;
};

typedef struct lw_match_report {
    uint32_t id;  /* index into lw_matcher.c */
    uint64_t end; /* stream offset just past the match */
} lw_match_report;

typedef struct lw_confirm_hit {
    uint64_t from, to;
} lw_confirm_hit;

struct lw_match_worker {
    const lw_matcher *m;
    hs_scratch_t *scratch;
    lw_match_report *reports; /* filled by the scan callback */
    size_t n_reports;
    lw_match_stream *scanning; /* the stream the callback reports for */
    uint8_t *window;           /* tail + new bytes, when a window spans both */
    size_t window_cap;
    lw_confirm_hit confirm[LW_MATCH_MAX_CONFIRM];
    size_t n_confirm;
    lw_match_counters counters;
};

struct lw_match_stream {
    hs_stream_t *hs;
    uint64_t hs_base;         /* stream offset of Hyperscan's offset 0 (open, or the last gap) */
    uint64_t ctx_start;       /* first offset of the current match context: nothing before counts */
    uint64_t next_off;        /* offset of the next byte expected */
    lw_match_report *pending; /* reports waiting for more bytes (allocated when needed) */
    uint32_t n_pending, pending_cap;
    uint32_t tail_len; /* bytes in tail: the ones right before next_off */
    uint8_t tail[];    /* lw_matcher.tail_bytes */
};

/* The bytes a report can be decided on: the stream's tail followed by `data` (the bytes that
 * were just scanned, or none), and whether the context ends right after them. */
typedef struct lw_match_view {
    const lw_match_stream *s;
    uint64_t data_off; /* stream offset of data[0] (= the end of the tail) */
    const uint8_t *data;
    size_t len;
    bool at_end; /* no byte follows (gap or end of stream) */
} lw_match_view;

/* True if the report can be decided on the view (enough bytes after it, or at the end). */
bool lw_match_decidable(const lw_matcher *m, const lw_match_report *r, const lw_match_view *v);
/* Decide one report: find the value's start, run every check, report a hit through fn. */
void lw_match_decide(lw_match_worker *w, const lw_match_report *r, const lw_match_view *v,
                     lw_match_fn fn, void *user);

#endif
