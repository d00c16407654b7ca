/*
 * flow_dlp.c — per-flow bookkeeping of validated matches (see dlp.h): distinct values by
 * fingerprint, the threshold decision, and what the flow event lists.
 *
 * Entries are few per flow (one per signature and direction that matched), so a list is
 * enough; values per entry are capped, so a flow full of e-mail addresses costs at most
 * cap values per signature.
 */
#include "leakwatch/dlp.h"

#include <stdlib.h>
#include <string.h>

static lw_dlp_entry *find_entry(lw_flow_dlp *d, const lw_signature *sig, int dir)
{
    for (lw_dlp_entry *e = d->head; e; e = e->next)
        if (e->sig == sig && e->dir == dir) return e;
    return NULL;
}

static lw_dlp_entry *add_entry(lw_flow_dlp *d, const lw_signature *sig, int dir,
                               uint32_t max_values)
{
    lw_dlp_entry *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    e->sig = sig;
    e->dir = (uint8_t)dir;
    e->cap = max_values > sig->threshold ? max_values : sig->threshold;
    if (d->tail)
        d->tail->next = e;
    else
        d->head = e;
    d->tail = e;
    return e;
}

lw_dlp_outcome lw_dlp_record(lw_flow_dlp *d, const lw_match_hit *hit, int dir, uint32_t max_values,
                             const lw_fp_key *key, lw_dlp_entry **entry, const lw_dlp_value **val)
{
    *val = NULL;
    lw_dlp_entry *e = find_entry(d, hit->sig, dir);
    if (!e && !(e = add_entry(d, hit->sig, dir, max_values))) return LW_DLP_NOMEM;
    *entry = e;
    e->matches++;
    uint8_t fp[32];
    if (hit->norm) /* edm: one customer however the value is written */
        lw_fingerprint(key, hit->norm, hit->norm_len, fp);
    else
        lw_fingerprint(key, hit->value, hit->len, fp);
    for (uint32_t i = 0; i < e->distinct; i++) {
        if (memcmp(e->vals[i].fp, fp, 32) == 0) {
            *val = &e->vals[i];
            return LW_DLP_REPEAT;
        }
    }
    if (e->distinct == e->cap) {
        d->values_over_cap++;
        return LW_DLP_NEW;
    }
    if ((e->distinct & (e->distinct - 1)) == 0) { /* grow at powers of two */
        uint32_t n = e->distinct ? e->distinct * 2 : 1;
        if (n > e->cap) n = e->cap;
        lw_dlp_value *v = realloc(e->vals, n * sizeof(*v));
        if (!v) return LW_DLP_NOMEM;
        e->vals = v;
    }
    lw_dlp_value *v = &e->vals[e->distinct];
    memcpy(v->fp, fp, 32);
    v->len = hit->len;
    v->offset = hit->offset;
    if (!(v->value = malloc(hit->len ? hit->len : 1))) return LW_DLP_NOMEM;
    memcpy(v->value, hit->value, hit->len);
    e->distinct++;
    *val = v;
    if (!e->alerted && e->distinct >= hit->sig->threshold) {
        e->alerted = true;
        return LW_DLP_ALERT;
    }
    return LW_DLP_NEW;
}

void lw_dlp_free(lw_flow_dlp *d)
{
    lw_dlp_entry *e = d->head;
    while (e) {
        lw_dlp_entry *next = e->next;
        for (uint32_t i = 0; i < e->distinct; i++) free(e->vals[i].value);
        free(e->vals);
        free(e);
        e = next;
    }
    memset(d, 0, sizeof(*d));
}

bool lw_dlp_any_alerted(const lw_flow_dlp *d)
{
    for (const lw_dlp_entry *e = d->head; e; e = e->next)
        if (e->alerted) return true;
    return false;
}
