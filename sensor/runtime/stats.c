/*
 * stats.c — the `stats` event: one object per pipeline stage, each stage's named counters
 * as written by that stage (see counters.h), plus the contract's summary fields.
 *
 * Periodic stats on live capture are written by the capture thread while the workers run.
 * A worker's counters are plain integers its own thread writes, so the capture thread never
 * reads them in place: each worker thread copies them into a snapshot when asked
 * (lw_dispatch_request_snapshots, at most once a second) and the event sums the latest
 * snapshots, at most about a second old. Capture and dispatch counters belong to the capture
 * thread itself.
 */
#include "stats.h"

#include <string.h>

#include "leakwatch/edm.h"
#include "leakwatch/events.h"

/* The per-worker part of t back to zero. */
static void zero_workers(lw_stats_totals *t)
{
    memset(&t->flow, 0, sizeof(t->flow));
    memset(&t->reasm, 0, sizeof(t->reasm));
    memset(&t->worker, 0, sizeof(t->worker));
    memset(&t->match, 0, sizeof(t->match));
    memset(&t->classify, 0, sizeof(t->classify));
    memset(&t->app, 0, sizeof(t->app));
    memset(t->proto_pkts, 0, sizeof(t->proto_pkts));
    memset(t->proto_bytes, 0, sizeof(t->proto_bytes));
    t->names = NULL;
    t->flows_active = 0;
}

/* One worker's counters into t. Runs on the thread that owns w (its worker thread for a
 * snapshot, the capture thread when inline or after the worker has ended): nothing here reads
 * state another thread is changing, the engine list included. */
static void add_worker(lw_stats_totals *t, lw_worker *w)
{
    LW_COUNTERS_ADD(&t->flow, lw_flow_table_counters(w->flows));
    LW_COUNTERS_ADD(&t->reasm, &w->reasm.counters);
    LW_COUNTERS_ADD(&t->worker, &w->counters);
    lw_app_counters_add(&t->app, &w->app);
    lw_worker_match_counters(w, &t->match);
    if (w->cls) {
        LW_COUNTERS_ADD(&t->classify, lw_classifier_counters(w->cls));
        if (!t->names) t->names = w->cls;
    }
    for (unsigned k = 0; k < LW_CLASSIFY_MAX_PROTO; k++) {
        t->proto_pkts[k] += w->proto_pkts[k];
        t->proto_bytes[k] += w->proto_bytes[k];
    }
    t->flows_active += lw_flow_table_active(w->flows);
}

void lw_stats_worker_snapshot(lw_stats_totals *snap, lw_worker *w)
{
    zero_workers(snap);
    add_worker(snap, w);
}

/* Adds a worker snapshot (the fields add_worker fills) into t. */
static void merge_worker(void *ctx, const lw_stats_totals *s)
{
    lw_stats_totals *t = ctx;
    LW_COUNTERS_ADD(&t->flow, &s->flow);
    LW_COUNTERS_ADD(&t->reasm, &s->reasm);
    LW_COUNTERS_ADD(&t->worker, &s->worker);
    lw_app_counters_add(&t->app, &s->app);
    LW_COUNTERS_ADD(&t->match, &s->match);
    LW_COUNTERS_ADD(&t->classify, &s->classify);
    for (unsigned k = 0; k < LW_CLASSIFY_MAX_PROTO; k++) {
        t->proto_pkts[k] += s->proto_pkts[k];
        t->proto_bytes[k] += s->proto_bytes[k];
    }
    if (!t->names) t->names = s->names;
    t->flows_active += s->flows_active;
}

static void collect(lw_stats_totals *t, lw_decoder *dec, lw_dispatch *disp, lw_runtime *rt,
                    bool running)
{
    t->decode = *lw_decoder_counters(dec);
    t->defrag = *lw_decoder_defrag_counters(dec);
    t->dispatch = *lw_dispatch_get_counters(disp);
    t->queues = disp;
    zero_workers(t);
    for (int i = 0; i < lw_dispatch_workers(disp); i++) {
        /* worker threads still running: their latest snapshot (see lw_stats_collect_live) */
        if (running && lw_dispatch_with_snapshot(disp, i, merge_worker, t)) continue;
        add_worker(t, lw_dispatch_worker(disp, i));
    }
    t->reasm_memuse = atomic_load(&rt->reasm_mem);
    /* The final event: everything queued before it is delivered first (bounded wait), so
     * the counts it reports are those of the log it ends. A periodic one never waits. */
    if (!running) lw_output_flush(rt->out);
    lw_output_get_counters(rt->out, &t->output);
    t->events_written = t->output.written;
    t->output_errors = t->output.write_errors;
}

void lw_stats_collect(lw_stats_totals *t, lw_decoder *dec, lw_dispatch *disp, lw_runtime *rt)
{
    collect(t, dec, disp, rt, false);
}

void lw_stats_collect_live(lw_stats_totals *t, lw_decoder *dec, lw_dispatch *disp, lw_runtime *rt)
{
    collect(t, dec, disp, rt, true);
}

static void counters(lw_json *j, const char *const *names, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) lw_json_kv_u64(j, names[i], v[i]);
}

#define BLOCK(j, key, stage, block)                                                                \
    do {                                                                                           \
        lw_json_key(j, key);                                                                       \
        lw_json_object_begin(j);                                                                   \
        counters(j, lw_##stage##_counter_names, (block)->c,                                        \
                 sizeof((block)->c) / sizeof(uint64_t));                                           \
        lw_json_object_end(j);                                                                     \
    } while (0)

/* exact_match: each list as loaded now, and the SIGHUP reloads */
static void edm_block(lw_json *j, lw_edm_set *set)
{
    uint64_t done, failed;
    lw_edm_set_reload_counts(set, &done, &failed);
    lw_json_key(j, "edm");
    lw_json_object_begin(j);
    lw_json_key(j, "lists");
    lw_json_array_begin(j);
    for (size_t i = 0; i < lw_edm_set_count(set); i++) {
        lw_edm_set_info in;
        lw_edm_set_get_info(set, i, &in);
        lw_json_object_begin(j);
        lw_json_kv_str(j, "name", in.name);
        lw_json_kv_u64(j, "entries", in.entries);
        lw_json_kv_str(j, "normalizer", lw_edm_norm_name(in.norm));
        lw_json_kv_u64(j, "memory", in.memory);
        lw_json_object_end(j);
    }
    lw_json_array_end(j);
    lw_json_kv_u64(j, "reloads", done);
    lw_json_kv_u64(j, "reload_failures", failed);
    lw_json_object_end(j);
}

void lw_stats_event(lw_json *j, uint64_t ts_usec, const char *sensor, const lw_stats_totals *t)
{
    lw_event_begin(j, "stats", ts_usec, sensor);
    lw_json_key(j, "stats");
    lw_json_object_begin(j);
    lw_json_kv_u64(j, "uptime", t->uptime_usec / 1000000u);

    lw_json_key(j, "capture");
    lw_json_object_begin(j);
    lw_json_kv_u64(j, "packets", t->packets);
    lw_json_kv_u64(j, "bytes", t->bytes);
    lw_json_kv_u64(j, "kernel_drops", t->kernel_drops);
    lw_json_kv_u64(j, "if_drops", t->if_drops);
    counters(j, lw_capture_counter_names, t->capture.c, LW_CAPTURE__COUNT);
    lw_json_object_end(j);

    lw_json_key(j, "decoder");
    lw_json_object_begin(j);
    lw_json_kv_u64(j, "errors", lw_decode_errors(&t->decode));
    counters(j, lw_decode_counter_names, t->decode.c, LW_DECODE__COUNT);
    lw_json_object_end(j);
    BLOCK(j, "defrag", defrag, &t->defrag);

    lw_json_key(j, "flow");
    lw_json_object_begin(j);
    lw_json_kv_u64(j, "total", t->flow.c[LW_FLOW_created]);
    lw_json_kv_u64(j, "active", t->flows_active);
    counters(j, lw_flow_counter_names, t->flow.c, LW_FLOW__COUNT);
    lw_json_object_end(j);

    lw_json_key(j, "reassembly");
    lw_json_object_begin(j);
    lw_json_kv_u64(j, "memuse", t->reasm_memuse);
    counters(j, lw_reasm_counter_names, t->reasm.c, LW_REASM__COUNT);
    lw_json_object_end(j);

    BLOCK(j, "worker", worker, &t->worker);
    lw_json_key(j, "dispatch");
    lw_json_object_begin(j);
    counters(j, lw_dispatch_counter_names, t->dispatch.c, LW_DISPATCH__COUNT);
    if (t->queues && lw_dispatch_workers(t->queues) > 1) {
        /* each worker's ring: a full one drops (live), so drops are told per worker */
        lw_json_key(j, "workers");
        lw_json_array_begin(j);
        for (int i = 0; i < lw_dispatch_workers(t->queues); i++) {
            uint64_t queued, drops;
            lw_dispatch_worker_queue(t->queues, i, &queued, &drops);
            lw_json_object_begin(j);
            lw_json_kv_u64(j, "queued", queued);
            lw_json_kv_u64(j, "queue_drops", drops);
            lw_json_object_end(j);
        }
        lw_json_array_end(j);
    }
    lw_json_object_end(j);

    BLOCK(j, "classify", classify, &t->classify);

    /* packets and bytes of ended flows by app_proto */
    lw_json_key(j, "app_proto");
    lw_json_object_begin(j);
    for (unsigned k = 0; k < LW_CLASSIFY_MAX_PROTO; k++) {
        if (!t->proto_pkts[k]) continue;
        lw_json_key(j, k && t->names ? lw_classifier_proto_name(t->names, (uint16_t)k) : "Unknown");
        lw_json_object_begin(j);
        lw_json_kv_u64(j, "packets", t->proto_pkts[k]);
        lw_json_kv_u64(j, "bytes", t->proto_bytes[k]);
        lw_json_object_end(j);
    }
    lw_json_object_end(j);

    /* application layers: what each decoder read, decoded, and could not */
    lw_json_key(j, "app");
    lw_json_object_begin(j);
    BLOCK(j, "layer", layer, &t->app.layer);
    BLOCK(j, "http", http, &t->app.http);
    BLOCK(j, "decompress", decomp, &t->app.decomp);
    BLOCK(j, "mime", mime, &t->app.mime);
    BLOCK(j, "codec", codec, &t->app.codec);
    BLOCK(j, "derive", derive, &t->app.derive);
    BLOCK(j, "ftp", ftp, &t->app.ftp);
    BLOCK(j, "dns", dns, &t->app.dns);
    BLOCK(j, "imap", imap, &t->app.imap);
    lw_json_object_end(j);

    lw_json_key(j, "detect");
    lw_json_object_begin(j);
    lw_json_kv_u64(j, "alerts", t->worker.c[LW_WORKER_alerts]);
    counters(j, lw_match_counter_names, t->match.c, LW_MATCH__COUNT);
    lw_json_kv_u64(j, "signature_generation", t->reload.generation ? t->reload.generation : 1);
    lw_json_kv_u64(j, "signature_reloads", t->reload.reloads);
    lw_json_kv_u64(j, "signature_reload_failures", t->reload.failures);
    if (t->edm) edm_block(j, t->edm);
    lw_json_object_end(j);

    lw_json_key(j, "output");
    lw_json_object_begin(j);
    /* +1: this stats event itself */
    lw_json_kv_u64(j, "events_written", t->events_written + 1);
    lw_json_kv_u64(j, "write_errors", t->output_errors);
    /* input errors of the run, and guard errors about flows */
    lw_json_kv_u64(j, "error_events", t->error_events + t->worker.c[LW_WORKER_error_events]);
    /* the queue in front of the sink; +1 again: this event */
    const lw_output_counters *oc = &t->output;
    lw_json_kv_u64(j, "queued", oc->queued + 1);
    lw_json_kv_u64(j, "dropped_queue_full", oc->dropped_queue_full);
    lw_json_kv_u64(j, "dropped_no_memory", oc->dropped_no_memory);
    lw_json_kv_u64(j, "dropped_rejected", oc->dropped_rejected);
    lw_json_kv_u64(j, "dropped_at_exit", oc->dropped_at_exit);
    lw_json_kv_u64(j, "truncated", oc->truncated);
    lw_json_kv_u64(j, "reconnects", oc->reconnects);
    lw_json_kv_u64(j, "queue_depth", oc->queue_depth);
    lw_json_kv_u64(j, "queue_max", oc->queue_max);
    lw_json_kv_u64(j, "queue_bytes_max", oc->queue_bytes_max);
    lw_json_object_end(j);

    lw_json_object_end(j);
    lw_json_object_end(j);
    lw_json_end_line(j);
}

void lw_stats_profile(FILE *fp, lw_dispatch *disp, double capture_cpu, const lw_stats_totals *t)
{
    int n = lw_dispatch_workers(disp);
    fprintf(fp, "profile: %llu packets, %llu bytes\n", (unsigned long long)t->packets,
            (unsigned long long)t->bytes);
    fprintf(fp, "profile: capture+decode thread%s: %.3f s CPU\n",
            n == 1 ? " (with the inline worker)" : "", capture_cpu);
    for (int i = 0; n > 1 && i < n; i++)
        fprintf(fp, "profile: worker %d (flow, reassembly, events): %.3f s CPU\n", i,
                lw_dispatch_worker_cpu(disp, i));
}
