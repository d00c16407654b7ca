/*
 * stats.c — the `stats` event: one object per pipeline stage, each stage's named counters
 * as written by that stage (see counters.h), plus the contract's summary fields.
 */
#include "stats.h"

#include <string.h>

#include "leakwatch/edm.h"
#include "leakwatch/events.h"

void lw_stats_collect(lw_stats_totals *t, lw_decoder *dec, lw_dispatch *disp, lw_runtime *rt)
{
    t->decode = *lw_decoder_counters(dec);
    t->defrag = *lw_decoder_defrag_counters(dec);
    t->dispatch = *lw_dispatch_get_counters(disp);
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
    for (int i = 0; i < lw_dispatch_workers(disp); i++) {
        lw_worker *w = lw_dispatch_worker(disp, i);
        LW_COUNTERS_ADD(&t->flow, lw_flow_table_counters(w->flows));
        LW_COUNTERS_ADD(&t->reasm, &w->reasm.counters);
        LW_COUNTERS_ADD(&t->worker, &w->counters);
        lw_app_counters_add(&t->app, &w->app);
        if (w->match) LW_COUNTERS_ADD(&t->match, lw_match_worker_counters(w->match));
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
    t->reasm_memuse = atomic_load(&rt->reasm_mem);
    t->events_written = lw_output_events_written(rt->out);
    t->output_errors = lw_output_write_errors(rt->out);
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
    BLOCK(j, "dispatch", dispatch, &t->dispatch);

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
    if (t->edm) edm_block(j, t->edm);
    lw_json_object_end(j);

    lw_json_key(j, "output");
    lw_json_object_begin(j);
    /* +1: this stats event itself */
    lw_json_kv_u64(j, "events_written", t->events_written + 1);
    lw_json_kv_u64(j, "write_errors", t->output_errors);
    /* input errors of the run, and guard errors about flows */
    lw_json_kv_u64(j, "error_events", t->error_events + t->worker.c[LW_WORKER_error_events]);
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
