/*
 * worker_private.h — what the worker's packet path (worker.c) and the application layers
 * (app_layer.c) share: the worker-owned state of a flow and the hit path into alerts.
 */
#ifndef LW_WORKER_PRIVATE_H
#define LW_WORKER_PRIVATE_H

#include "app_layer.h"
#include "leakwatch/dlp.h"
#include "leakwatch/events.h"
#include "worker.h"

/* Worker-owned state of one flow (lw_flow.user). */
typedef struct lw_flow_ctx {
    uint8_t egress_mask;  /* bit d: direction d carries bytes from home_net to outside */
    uint8_t inspect_mask; /* bit d: direction d is scanned (--inspect) */
    uint8_t allow_mask;   /* bit d: direction d goes to an allowlisted destination */
    uint8_t tried_mask;   /* bit d: a match stream was opened (or refused) for direction d */
    uint64_t egress_bytes;
    uint64_t udp_offset[2];
    lw_match_stream *ms[2]; /* per direction, opened lazily */
    lw_flow_dlp dlp;        /* validated matches */
    lw_flow_class cls;      /* nDPI classification and metadata */
    bool name_allowlisted;  /* its SNI / Host is in allowlist.destinations */
    uint64_t vol_match;     /* bit i: volume signature i applies to this flow */
    uint64_t vol_fired;     /* bit i: it alerted */
    lw_app_flow *app;       /* application layers (NULL: none) */
    lw_wengine *we;         /* the engine generation the flow started on */
} lw_flow_ctx;

/* Where the bytes being scanned come from, for the hits they produce. */
typedef struct lw_hit_ctx {
    lw_worker *w;
    lw_flow *f;
    int dir;
    const char *layer;    /* decoded layers: its name; raw: NULL (looked up by offset) */
    const char *filename; /* of the part (NULL: none) */
    uint32_t msg;         /* message the bytes belong to (0: none) */
} lw_hit_ctx;

/* A validated value: recorded in the flow, alerted at its threshold. user is an lw_hit_ctx. */
void lw_worker_on_hit(void *user, const lw_match_hit *hit);
/* A match stream charged to the memcap; NULL (counted) if the cap or memory says no. */
lw_match_stream *lw_worker_stream_open(lw_worker *w, lw_wengine *we, uint64_t offset);
/* Decides what is pending (hits through h) and gives the stream and its charge back. */
void lw_worker_stream_close(lw_worker *w, lw_match_stream *ms, lw_hit_ctx *h);
/* An `error` event about flow f (a guard was hit). */
void lw_worker_error(lw_worker *w, const lw_flow *f, const char *kind, const char *message);
/* Writes an alert built by the caller and counts it. */
void lw_worker_alert(lw_worker *w, uint64_t ts_usec, const lw_alert_info *a);

#endif
