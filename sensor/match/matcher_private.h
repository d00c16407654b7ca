/*
 * matcher_private.h — what the files of sensor/match share: the compiled form of each content
 * signature, the matcher, a worker's scratch and buffers, and one stream's state.
 */
#ifndef LW_MATCHER_PRIVATE_H
#define LW_MATCHER_PRIVATE_H

#include <hs/hs.h>
#include <pthread.h>
#include <stdatomic.h>

#include "leakwatch/match.h"

/* Hyperscan reports collected during one scan call, examined after it returns. */
#define LW_MATCH_MAX_REPORTS 16384
/* Matches a confirm scan of one window can return (a window is a few hundred bytes). */
#define LW_MATCH_MAX_CONFIRM 1024
/* Byte-class groups behind the gated database (a bit each in lw_matcher.gate_tbl). */
#define LW_MATCH_GATE_GROUPS 16
/* Values remembered per stream to drop repeats found through several keywords. */
#define LW_MATCH_RECENT 4
/* Bytes scanned before the reports are decided: bounds the reports one scan can make. */
#define LW_MATCH_PIECE 4096

typedef struct lw_sig_compiled {
    const lw_signature *sig;
    uint32_t sig_index;  /* in the sigset */
    unsigned hs_flags;   /* HS_FLAG_* of the pattern */
    uint32_t min_width;  /* shortest match */
    uint32_t max_width;  /* longest match, capped at LW_MATCH_MAX_VALUE */
    bool unbounded;      /* Hyperscan's max_width exceeded the cap */
    bool som;            /* confirm finds starts with one SOM scan (else: anchored probes) */
    int gate_group;      /* >= 0: in the gated database, behind this byte-class group */
    bool keyed;          /* has context keywords: the stream looks for the keywords, and the
                          * regex is confirmed in the bytes after each one */
    bool needs_confirm;  /* variable width or keyed: starts are found with `confirm` */
    bool confirm_failed; /* Hyperscan refused the block database (counted when used) */
    /* block mode: SOM database, or "\A(?:regex)" without SOM; compiled on first use */
    _Atomic(hs_database_t *) confirm;
    uint32_t before; /* bytes needed before a match end: value, context, boundary byte */
    uint32_t after;  /* bytes needed after it to decide: boundary byte, longer matches */
    char **keywords; /* context keywords, lower-cased */
    size_t *keyword_len;
    size_t n_keywords;
    int edm_slot; /* validate: edm:NAME — the list's slot in lw_matcher.edm, else -1 */
} lw_sig_compiled;

/* A context keyword in the main database: Hyperscan id n + index into lw_matcher.kw. */
typedef struct lw_kw_ref {
    uint32_t sig; /* index into lw_matcher.c */
    uint32_t len; /* the keyword's length in bytes */
} lw_kw_ref;

struct lw_matcher {
    const lw_sigset *sigs;
    pthread_mutex_t lazy_lock; /* serialises the compiles of confirm databases */
    lw_kw_ref *kw;
    size_t n_kw;
    const lw_strlist *allow_values; /* global allowlist.values (may be NULL) */
    struct lw_edm_set *edm;         /* exact_match lists (NULL without edm: signatures) */
    lw_sig_compiled *c;             /* content signatures; the Hyperscan id is the index */
    size_t n;
    hs_database_t *db; /* streaming: the content signatures that are not gated; may be NULL */
    /* The gated database: literal-free signatures built of a small byte class (cards, VINs,
     * IBANs). A stream feeds it only the chunks where some group's class forms a run at
     * least that group's shortest match long (see match_stream.c). */
    hs_database_t *gated_db;
    uint16_t gate_tbl[256]; /* bit g: the byte belongs to group g's class */
    uint16_t gate_minw[LW_MATCH_GATE_GROUPS];
    unsigned n_gate_groups;
    uint32_t gate_carry; /* bytes of a run carried into the next chunk that can matter */
    uint32_t tail_bytes;
    lw_matcher_info info;
};

typedef struct lw_match_report {
    uint32_t id;      /* index into lw_matcher.c (or n + a keyword's index) */
    uint64_t end;     /* stream offset just past the match */
    lw_match_tag tag; /* of the bytes it ended in */
} lw_match_report;

typedef struct lw_confirm_hit {
    uint64_t from, to;
} lw_confirm_hit;

struct lw_match_worker {
    const lw_matcher *m;
    hs_scratch_t *scratch;
    lw_match_report *reports; /* filled by the scan callback */
    size_t n_reports;
    uint64_t report_base; /* stream offset of the scanned database's offset 0 */
    lw_match_tag tag;     /* of the bytes being scanned */
    uint8_t *window;      /* tail + new bytes, when a window spans both */
    size_t window_cap;
    lw_confirm_hit confirm[LW_MATCH_MAX_CONFIRM];
    bool *scratch_fits; /* per signature: the scratch was grown for its confirm database */
    size_t n_confirm;
    lw_match_counters counters;
};

struct lw_match_stream {
    hs_stream_t *hs;    /* main database (NULL when it has no signatures) */
    hs_stream_t *hs2;   /* gated database (NULL when it has none) */
    uint64_t hs_base;   /* stream offset of hs's offset 0 (open, or the last gap) */
    uint64_t hs2_base;  /* the same for hs2 (where it was last restarted) */
    uint64_t ctx_start; /* first offset of the current match context: nothing before counts */
    uint64_t next_off;  /* offset of the next byte expected */
    bool open;          /* not closed */
    bool hs2_live;      /* hs2 has been fed every byte since hs2_base */
    uint16_t run[LW_MATCH_GATE_GROUPS]; /* each group's class run at the end of the bytes */
    lw_match_report *pending;           /* reports waiting for more bytes (allocated when needed) */
    uint32_t n_pending, pending_cap;
    uint32_t tail_len;     /* bytes in tail: the ones right before next_off */
    lw_match_tag last_tag; /* of the newest bytes */
    /* the last values reported through keywords (two keywords before one value find it
     * twice): (signature index + 1, offset), 0 = empty */
    uint32_t recent_sig[LW_MATCH_RECENT];
    uint64_t recent_off[LW_MATCH_RECENT];
    uint8_t recent_next;
    uint8_t tail[]; /* lw_matcher.tail_bytes */
};

/* The bytes a report can be decided on: the stream's tail followed by `data` (the bytes that
 * were just scanned, or none), and whether the context ends right after them. */
typedef struct lw_match_view {
    lw_match_stream *s;
    uint64_t data_off; /* stream offset of data[0] (= the end of the tail) */
    const uint8_t *data;
    size_t len;
    bool at_end;      /* no byte follows (gap or end of stream) */
    lw_match_tag tag; /* of the newest bytes of the view */
} lw_match_view;

/* Signature c's confirm database, compiled on first use (by whichever worker asks first);
 * NULL if Hyperscan refused it. */
const hs_database_t *lw_confirm_db(lw_matcher *m, lw_sig_compiled *c);

/* True if the report can be decided on the view (enough bytes after it, or at the end). */
bool lw_match_decidable(const lw_matcher *m, const lw_match_report *r, const lw_match_view *v);
/* Bytes a keyword report needs after the keyword: the value may start up to `within` bytes
 * after it, plus the longest value and the boundary byte. */
static inline uint32_t lw_kw_after(const lw_sig_compiled *c)
{
    return c->sig->context_within + c->max_width + 1;
}
/* Decide one report: find the value's start, run every check, report a hit through fn. */
void lw_match_decide(lw_match_worker *w, const lw_match_report *r, const lw_match_view *v,
                     lw_match_fn fn, void *user);

#endif
