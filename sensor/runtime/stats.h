/*
 * stats.h — sums the counters of every stage and worker into the `stats` event
 * (interface.md section 5), and the --profile CPU breakdown.
 */
#ifndef LW_STATS_H
#define LW_STATS_H

#include <stdio.h>

#include "app_layer.h"
#include "dispatch.h"
#include "leakwatch/capture.h"
#include "leakwatch/decode.h"
#include "leakwatch/json.h"
#include "leakwatch/output.h"
#include "reload.h"

typedef struct lw_stats_totals {
    uint64_t uptime_usec;
    uint64_t packets, bytes;
    uint64_t kernel_drops, if_drops;
    uint64_t error_events;
    lw_capture_counters capture;
    /* filled by lw_stats_collect */
    lw_decode_counters decode;
    lw_defrag_counters defrag;
    lw_dispatch_counters dispatch;
    lw_flow_counters flow;
    uint64_t flows_active;
    lw_reasm_counters reasm;
    uint64_t reasm_memuse;
    lw_worker_counters worker;
    lw_match_counters match;
    lw_classify_counters classify;
    lw_app_counters app;
    uint64_t proto_pkts[LW_CLASSIFY_MAX_PROTO], proto_bytes[LW_CLASSIFY_MAX_PROTO];
    const lw_classifier *names; /* a worker's nDPI module, for protocol names (NULL: none) */
    uint64_t events_written, output_errors;
    lw_output_counters output; /* the whole output snapshot (stats.output) */
    struct lw_edm_set *edm;    /* exact_match lists (NULL: none) */
    lw_reload_counts reload;   /* SIGHUP signature reloads */
    const lw_dispatch *queues; /* per-worker queue counters for the event (capture thread) */
} lw_stats_totals;

/* Sums every counter into t (capture and drop fields are the caller's). After
 * lw_dispatch_finish, or with one inline worker: the workers are read directly. */
void lw_stats_collect(lw_stats_totals *t, lw_decoder *dec, lw_dispatch *disp, lw_runtime *rt);
/* The same while worker threads run (periodic live stats): their latest snapshots. */
void lw_stats_collect_live(lw_stats_totals *t, lw_decoder *dec, lw_dispatch *disp, lw_runtime *rt);
/* The per-worker fields of snap from w alone; called on w's own thread. */
void lw_stats_worker_snapshot(lw_stats_totals *snap, lw_worker *w);
void lw_stats_event(lw_json *j, uint64_t ts_usec, const char *sensor, const lw_stats_totals *t);
void lw_stats_profile(FILE *fp, lw_dispatch *disp, double capture_cpu, const lw_stats_totals *t);

#endif
