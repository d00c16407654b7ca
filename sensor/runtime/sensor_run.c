/*
 * sensor_run.c — the capture loop (see sensor_run.h).
 *
 * Inputs are read in order; packet time drives flow timeouts offline, so a capture replays
 * the same way at any speed. A truncated or corrupt input is reported (error event, stderr),
 * everything before the damage is kept, and the run goes on with the next input; the exit
 * status then is 3.
 *
 * Live capture: packets carry kernel (wall-clock) timestamps, and when the link is idle the
 * read timeout (LW_CAP_TIMEOUT, 100 ms) advances time with the wall clock, so idle flows still
 * expire. Every --stats-interval seconds of wall-clock time the capture thread writes a stats
 * event with the totals so far (workers' counters from their latest snapshots, see stats.c).
 */
#include "sensor_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "dispatch.h"
#include "leakwatch/capture.h"
#include "leakwatch/decode.h"
#include "leakwatch/edm.h"
#include "leakwatch/events.h"
#include "leakwatch/flow.h"
#include "privileges.h"
#include "reload.h"
#include "stats.h"

volatile sig_atomic_t lw_sig_stop, lw_sig_hup;

static void on_stop(int sig)
{
    (void)sig;
    lw_sig_stop = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    lw_sig_hup = 1;
}

void lw_install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

static uint64_t wall_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct run_state {
    lw_runtime *rt;
    const lw_run_params *rp;
    lw_decoder *dec;
    lw_dispatch *disp;
    lw_json json; /* events written by the capture thread (errors, stats) */
    lw_stats_totals totals;
    uint64_t now_usec;   /* packet time: the latest timestamp seen */
    uint64_t tick_sec;   /* last second a tick was sent for */
    lw_reloader *reload; /* SIGHUP's signature and list reloads */
    bool privileges_dropped;
    bool opened; /* an input was opened: there is something to report */
    /* live capture: the handle (for drop counters) and the periodic stats events */
    lw_capture *live;
    uint64_t started_usec, stats_every_usec, next_stats_usec;
    lw_stats_totals *periodic; /* scratch for a periodic event (NULL: periodic stats off) */
} run_state;

#define LW_DEFAULT_STATS_INTERVAL 60

static void write_error(run_state *st, const char *kind, const char *msg, const char *file,
                        uint64_t packet)
{
    uint64_t ts = st->now_usec ? st->now_usec : wall_usec();
    lw_event_error(&st->json, ts, st->rt->sensor_name, kind, msg, file, packet, 0);
    if (!st->json.oom) lw_output_write(st->rt->out, st->json.buf, st->json.len);
    st->totals.error_events++;
}

/* Live: a stats event with the totals so far, once the interval has passed (wall clock). */
static void periodic_stats(run_state *st)
{
    uint64_t now = wall_usec();
    if (now < st->next_stats_usec) return;
    /* the next one an interval later; intervals missed (a stalled clock step) are skipped */
    while (st->next_stats_usec <= now) st->next_stats_usec += st->stats_every_usec;
    lw_stats_totals *t = st->periodic;
    *t = st->totals;
    LW_COUNTERS_ADD(&t->capture, lw_capture_counters_get(st->live));
    uint64_t kd = 0, id = 0;
    lw_capture_drops(st->live, &kd, &id);
    t->kernel_drops += kd;
    t->if_drops += id;
    t->uptime_usec = now - st->started_usec;
    lw_stats_collect_live(t, st->dec, st->disp, st->rt);
    t->edm = st->rt->edm;
    if (st->reload) lw_reloader_counts(st->reload, &t->reload);
    lw_stats_event(&st->json, st->now_usec ? st->now_usec : now, st->rt->sensor_name, t);
    /* queued, never flushed here: a slow sink must not hold the capture thread */
    if (!st->json.oom) lw_output_write(st->rt->out, st->json.buf, st->json.len);
}

/* Packet time moved on: once per second of packet time every worker expires idle flows. */
static void advance_time(run_state *st, uint64_t ts_usec)
{
    if (ts_usec > st->now_usec) st->now_usec = ts_usec;
    uint64_t sec = st->now_usec / 1000000u;
    if (sec != st->tick_sec) {
        st->tick_sec = sec;
        lw_decoder_expire(st->dec, st->now_usec);
        lw_dispatch_tick(st->disp, st->now_usec);
        if (st->periodic && st->live) {
            lw_dispatch_request_snapshots(st->disp); /* answered before the next second */
            periodic_stats(st);
        }
    }
}

/* SIGHUP: the output is reopened here; lists and signatures are reloaded on the reload
 * thread, so capture goes on while Hyperscan compiles. */
static void handle_hup(run_state *st)
{
    char err[512];
    lw_sig_hup = 0;
    if (!lw_output_reopen(st->rt->out, err, sizeof(err))) fprintf(stderr, "leakwatch: %s\n", err);
    if (st->reload) lw_reloader_request(st->reload);
}

/* Reads one capture to its end. Returns 0, 3 (damaged input) or 1 (fatal). */
static int read_capture(run_state *st, lw_capture *cap, const char *name)
{
    char err[512];
    lw_frame f;
    lw_packet p;
    for (;;) {
        if (lw_sig_stop) return 0;
        if (lw_sig_hup) handle_hup(st);
        int rc = lw_capture_next(cap, &f, err, sizeof(err));
        if (rc == LW_CAP_EOF) return 0;
        if (rc == LW_CAP_TIMEOUT) {
            advance_time(st, wall_usec());
            continue;
        }
        if (rc == LW_CAP_ERROR) {
            /* the damaged record is the one after every record read so far */
            uint64_t bad = lw_capture_counters_get(cap)->c[LW_CAPTURE_records_read] + 1;
            fprintf(stderr, "leakwatch: %s\n", err);
            write_error(st, "truncated_input", err, name, bad);
            return 3;
        }
        st->totals.packets++;
        st->totals.bytes += f.wirelen;
        advance_time(st, f.ts_usec);
        if (!lw_decode(st->dec, &f, &p)) continue;
        p.flow_hash = lw_flow_hash(&p);
        lw_dispatch_packet(st->disp, &p);
    }
}

static void add_capture_stats(run_state *st, lw_capture *cap)
{
    const lw_capture_counters *cc = lw_capture_counters_get(cap);
    LW_COUNTERS_ADD(&st->totals.capture, cc);
    uint64_t kd = 0, id = 0;
    lw_capture_drops(cap, &kd, &id);
    st->totals.kernel_drops += kd;
    st->totals.if_drops += id;
}

static int open_failed(const char *err, int code)
{
    fprintf(stderr, "leakwatch: %s\n", err);
    return code;
}

static int maybe_drop_privileges(run_state *st)
{
    if (st->privileges_dropped || (!st->rp->user && !st->rp->group)) return 0;
    char err[512];
    const char *own[2] = {st->rp->output_path, st->rp->pidfile};
    if (!lw_drop_privileges(st->rp->user, st->rp->group, own, 2, err, sizeof(err))) {
        fprintf(stderr, "leakwatch: %s\n", err);
        return 1;
    }
    st->privileges_dropped = true;
    return 0;
}

static int run_inputs(run_state *st)
{
    const lw_run_params *rp = st->rp;
    char err[512];
    int status = 0, code = 0;
    if (rp->iface) {
        lw_capture *cap = lw_capture_open_live(rp->iface, rp->bpf, rp->snaplen, rp->buffer_mb, err,
                                               sizeof(err), &code);
        if (!cap) return open_failed(err, code);
        st->opened = true;
        if (maybe_drop_privileges(st)) {
            lw_capture_close(cap);
            return 1;
        }
        int every = rp->stats_interval < 0 ? LW_DEFAULT_STATS_INTERVAL : rp->stats_interval;
        st->live = cap;
        if (every > 0 && !(st->periodic = malloc(sizeof(*st->periodic))))
            fprintf(stderr, "leakwatch: out of memory: no periodic stats events\n");
        st->stats_every_usec = (uint64_t)every * 1000000u;
        st->next_stats_usec = wall_usec() + st->stats_every_usec;
        status = read_capture(st, cap, rp->iface);
        add_capture_stats(st, cap);
        st->live = NULL;
        free(st->periodic);
        st->periodic = NULL;
        lw_capture_close(cap);
        return status;
    }
    for (size_t i = 0; i < rp->n_reads && !lw_sig_stop; i++) {
        lw_capture *cap =
            lw_capture_open_offline(rp->reads[i], rp->bpf, (uint32_t)i, err, sizeof(err), &code);
        if (!cap) return open_failed(err, code);
        st->opened = true;
        if (maybe_drop_privileges(st)) {
            lw_capture_close(cap);
            return 1;
        }
        int rc = read_capture(st, cap, rp->reads[i]);
        add_capture_stats(st, cap);
        lw_capture_close(cap);
        if (rc == 1) return 1;
        if (rc == 3) status = 3;
    }
    return status;
}

int lw_sensor_run(lw_runtime *rt, const lw_run_params *rp)
{
    run_state st;
    memset(&st, 0, sizeof(st));
    st.rt = rt;
    st.rp = rp;
    lw_json_init(&st.json);
    uint64_t started = wall_usec();
    st.started_usec = started;
    double cpu_start = cpu_seconds();

    st.dec = lw_decoder_new(&rp->defrag);
    st.disp = st.dec ? lw_dispatch_new(rt, rp->workers, !rp->iface) : NULL;
    if (!st.dec || !st.disp) {
        fprintf(stderr, "leakwatch: out of memory setting up %d workers\n", rp->workers);
        lw_decoder_free(st.dec);
        lw_json_free(&st.json);
        return 1;
    }

    st.reload = lw_reloader_new(rt, &rp->reload);
    if (!st.reload)
        fprintf(stderr, "leakwatch: out of memory: SIGHUP will not reload signatures\n");
    int status = run_inputs(&st);
    lw_reloader_free(st.reload, &st.totals.reload); /* a reload in progress ends first */
    st.reload = NULL;

    /* End of input (or a stop signal): every flow ends and is reported. */
    double capture_cpu = cpu_seconds() - cpu_start;
    lw_decoder_expire(st.dec, UINT64_MAX); /* unfinished fragment sets count as timed out */
    lw_dispatch_finish(st.disp, st.now_usec, lw_sig_stop ? LW_FLOW_END_SHUTDOWN : LW_FLOW_END_EOF);

    st.totals.uptime_usec = wall_usec() - started;
    uint64_t ts = st.now_usec ? st.now_usec : wall_usec();
    lw_stats_collect(&st.totals, st.dec, st.disp, rt);
    st.totals.edm = rt->edm;
    if (st.opened) {
        lw_stats_event(&st.json, ts, rt->sensor_name, &st.totals);
        if (!st.json.oom) lw_output_write(rt->out, st.json.buf, st.json.len);
    }
    lw_output_flush(rt->out);

    if (rp->profile) lw_stats_profile(stderr, st.disp, capture_cpu, &st.totals);

    lw_dispatch_free(st.disp);
    lw_decoder_free(st.dec);
    lw_json_free(&st.json);
    return status;
}
