/*
 * match.h — content matching: one Hyperscan streaming database for every content signature,
 * one stream per inspected flow direction, and the checks that turn a Hyperscan report into
 * a validated value (boundary, context, min_entropy, allow values, validator).
 *
 * Hyperscan reports where a match ENDS. Tracking the leftmost start in streaming mode is
 * costly and rejects several real patterns, so the stream keeps a tail of its most recent
 * bytes (as long as the longest bounded match plus its context) and, for each report, a
 * small block-mode database of that one signature finds the start inside tail + new bytes.
 * A report that ends too close to the end of the bytes seen so far to decide (the byte after
 * it for `boundary`, or a possibly longer match) waits for the next bytes, a gap or the end.
 *
 * Threading: an lw_matcher is immutable once built and shared by every worker; each worker
 * has its own lw_match_worker (Hyperscan scratch, buffers, counters); a stream belongs to the
 * worker that owns its flow.
 */
#ifndef LW_MATCH_H
#define LW_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/counters.h"
#include "leakwatch/signatures.h"
#include "leakwatch/validate.h"

/* The longest value a report can be extracted with; longer (or unbounded) matches yield their
 * last LW_MATCH_MAX_VALUE bytes (counted as values_truncated). */
#define LW_MATCH_MAX_VALUE 256
/* Reports held per stream while waiting for the bytes that decide them (then counted). */
#define LW_MATCH_MAX_PENDING 256

#define LW_MATCH_COUNTERS(X, P)                                                                    \
    X(P, bytes_scanned)      /* bytes given to Hyperscan */                                        \
    X(P, gated_bytes)        /* bytes given to the gated (literal-free) database */                \
    X(P, gated_skipped)      /* bytes the gate kept from it: no class run long enough */           \
    X(P, streams_opened)     /* flow directions that got a stream */                               \
    X(P, streams_memcap)     /* directions not inspected: stream state over the memcap */          \
    X(P, streams_failed)     /* directions not inspected: allocation or Hyperscan error */         \
    X(P, scan_errors)        /* Hyperscan scan calls that failed (the stream is dropped) */        \
    X(P, gaps)               /* match contexts ended by a gap in the stream */                     \
    X(P, reports)            /* match ends reported by Hyperscan */                                \
    X(P, reports_dropped)    /* reports beyond the per-scan cap (not examined) */                  \
    X(P, pending_overflow)   /* reports decided early because too many were waiting */             \
    X(P, superseded)         /* reports that were a prefix of a longer match */                    \
    X(P, no_start)           /* reports whose start could not be found in the window */            \
    X(P, confirm_errors)     /* reports not examined: a start-finding database is missing */       \
    X(P, rejected_boundary)  /* candidates with a letter or digit right before or after */         \
    X(P, rejected_context)   /* candidates without a context keyword before them */                \
    X(P, rejected_entropy)   /* candidates below min_entropy */                                    \
    X(P, rejected_validator) /* candidates the validator refused */                                \
    X(P, edm_lookups)        /* candidates looked up in an Exact Data Match list */                \
    X(P, edm_members)        /* ... that were in it (the others count in rejected_validator) */    \
    X(P, allowlisted_values) /* validated values suppressed by allow_values / allowlist.values */  \
    X(P, values_truncated)   /* values longer than the window: their last bytes were reported */   \
    X(P, validated)          /* values that passed every check */
LW_COUNTER_BLOCK(match, MATCH, LW_MATCH_COUNTERS)

typedef struct lw_matcher lw_matcher;
typedef struct lw_match_worker lw_match_worker;
typedef struct lw_match_stream lw_match_stream;

typedef struct lw_matcher_info {
    size_t content_sigs, volume_sigs, dns_tunnel_sigs;
    size_t per_category[LW_CAT__COUNT];
    size_t db_bytes;        /* streaming database */
    size_t confirm_bytes;   /* the per-signature block databases that find starts */
    size_t hs_stream_bytes; /* Hyperscan stream state of one stream */
    size_t stream_bytes;    /* everything one lw_match_stream holds (state + tail) */
    size_t tail_bytes;      /* bytes of recent stream kept per stream */
    size_t som_sigs;        /* signatures whose start is found with one SOM block scan */
    size_t gated_sigs;      /* literal-free signatures behind the byte-class gate */
    size_t gated_db_bytes;  /* their streaming database */
    double compile_seconds;
} lw_matcher_info;

/* Compile every content signature of sigs (which must outlive the matcher). allow_values are
 * the global allowlist.values. NULL on error with one line in err naming the signature's
 * file:line and Hyperscan's reason; *code is then 2 (signature error) or 1 (out of memory). */
lw_matcher *lw_matcher_build(const lw_sigset *sigs, const lw_strlist *allow_values, char *err,
                             size_t errlen, int *code);
void lw_matcher_free(lw_matcher *m);
/* The Exact Data Match lists edm:NAME signatures look up (must outlive the matcher). false
 * with one line in err when a signature names a list the set does not hold. */
struct lw_edm_set;
bool lw_matcher_attach_edm(lw_matcher *m, struct lw_edm_set *set, char *err, size_t errlen);
/* Compile what is otherwise compiled on first use (the databases that find a value's start),
 * so every regex is checked and -T can report their size. 0, or 2 with err as above. */
int lw_matcher_prepare_all(lw_matcher *m, char *err, size_t errlen);
const lw_matcher_info *lw_matcher_get_info(const lw_matcher *m);
const lw_sigset *lw_matcher_sigs(const lw_matcher *m);

/* Where bytes came from (the packet), as the caller says: a hit carries the tag of the bytes
 * that completed its value, however much later it is decided. */
typedef struct lw_match_tag {
    uint64_t ts_usec;
    uint64_t packet;   /* 1-based number in its input; 0 = none */
    uint32_t file_idx; /* index of the input */
} lw_match_tag;

/* A validated value. `value` points into a buffer valid only during the callback. */
typedef struct lw_match_hit {
    const lw_signature *sig;
    uint32_t sig_index; /* index in the sigset */
    uint64_t offset;    /* stream offset of the value's first byte */
    const uint8_t *value;
    uint32_t len;
    /* edm:NAME signatures: the normalized value, which decides distinctness and the
     * fingerprint (Foo@X and foo@x are one customer); NULL otherwise */
    const uint8_t *norm;
    uint32_t norm_len;
    bool truncated;
    lw_validate_extra extra;
    lw_match_tag tag; /* of the bytes that completed the value */
} lw_match_hit;

typedef void (*lw_match_fn)(void *user, const lw_match_hit *hit);

/* Per worker: Hyperscan scratch and buffers. NULL if out of memory. */
lw_match_worker *lw_match_worker_new(const lw_matcher *m);
void lw_match_worker_free(lw_match_worker *w);
const lw_match_counters *lw_match_worker_counters(const lw_match_worker *w);
/* Count a stream that was not opened (memcap or failure) in this worker's counters. */
void lw_match_worker_count(lw_match_worker *w, enum lw_match_counter which);

/* The tag of the bytes the next lw_match_stream_data calls of this worker carry. */
void lw_match_worker_set_tag(lw_match_worker *w, const lw_match_tag *tag);

/* A new stream whose first byte will be at stream offset `offset`. NULL on failure. */
lw_match_stream *lw_match_stream_open(lw_match_worker *w, uint64_t offset);
/* The next contiguous bytes, starting at `offset` (which must be where the last ones ended,
 * or a gap must have been declared). Hits are reported through fn. */
void lw_match_stream_data(lw_match_worker *w, lw_match_stream *s, uint64_t offset,
                          const uint8_t *data, size_t len, lw_match_fn fn, void *user);
/* Bytes are missing before `next_offset`: what is pending is decided as at an end, and
 * matching starts afresh at next_offset (nothing spans a gap). */
void lw_match_stream_gap(lw_match_worker *w, lw_match_stream *s, uint64_t next_offset,
                         lw_match_fn fn, void *user);
/* The same at the end of a message that stands alone (a UDP datagram), without counting a gap. */
void lw_match_stream_boundary(lw_match_worker *w, lw_match_stream *s, uint64_t next_offset,
                              lw_match_fn fn, void *user);
/* The stream ends: end-anchored matches and pending reports are decided, then it is freed. */
void lw_match_stream_close(lw_match_worker *w, lw_match_stream *s, lw_match_fn fn, void *user);

#endif
