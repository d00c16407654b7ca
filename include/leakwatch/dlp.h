/*
 * dlp.h — what one flow has matched: per (signature, direction) the validated matches, the
 * distinct values (kept up to a cap, with their fingerprints) and whether it alerted.
 *
 * This is the state behind the `alert` decision (a signature alerts once per flow and
 * direction, when its distinct values reach its threshold) and the flow event's `dlp` list.
 */
#ifndef LW_DLP_H
#define LW_DLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/fingerprint.h"
#include "leakwatch/match.h"

typedef struct lw_dlp_value {
    uint8_t fp[32];
    uint8_t *value; /* the value itself (memory only; written only with --reveal) */
    uint32_t len;
    uint64_t offset; /* stream offset of its first sighting */
} lw_dlp_value;

typedef struct lw_dlp_entry {
    const lw_signature *sig;
    uint8_t dir; /* 0 to server, 1 to client */
    bool alerted;
    uint64_t matches;  /* validated matches, repeats included */
    uint32_t distinct; /* distinct values seen, up to cap */
    uint32_t cap;      /* max(output.max_values, threshold) */
    lw_dlp_value *vals;
    struct lw_dlp_entry *next;
} lw_dlp_entry;

typedef struct lw_flow_dlp {
    lw_dlp_entry *head, *tail; /* in order of first match */
    uint64_t values_over_cap;  /* distinct values not kept (cap reached) */
} lw_flow_dlp;

typedef enum lw_dlp_outcome {
    LW_DLP_REPEAT, /* a value already seen in this flow direction */
    LW_DLP_NEW,    /* a new distinct value, threshold not (or already) reached */
    LW_DLP_ALERT,  /* this value made the signature reach its threshold: alert now */
    LW_DLP_NOMEM,  /* could not be recorded */
} lw_dlp_outcome;

/* Record a validated hit in direction dir. *entry is the signature's entry, *val the value's
 * record (NULL when the value is not kept). */
lw_dlp_outcome lw_dlp_record(lw_flow_dlp *d, const lw_match_hit *hit, int dir, uint32_t max_values,
                             const lw_fp_key *key, lw_dlp_entry **entry, const lw_dlp_value **val);
void lw_dlp_free(lw_flow_dlp *d);
bool lw_dlp_any_alerted(const lw_flow_dlp *d);

#endif
