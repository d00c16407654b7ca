/*
 * worker.c — per-worker packet path: flow lookup → TCP reassembly (or UDP datagrams) →
 * the stream consumer → matching, alerts, and the flow event when a flow ends.
 *
 * The stream consumer keeps the per-direction byte accounting (egress / inspected), feeds
 * every inspected direction to its match stream (opened when the direction first carries
 * bytes to inspect, so idle and ingress-only flows cost nothing) and writes --dump-streams.
 */
#include "worker_private.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "leakwatch/events.h"
#include "leakwatch/http_request.h"
#include "leakwatch/smtp.h"
#include "leakwatch/ftp.h"

LW_COUNTER_NAMES(worker, WORKER, LW_WORKER_COUNTERS)

static bool in_home(const lw_runtime *rt, uint8_t ipv, const lw_addr *a)
{
    return rt->home_net && lw_cidr_set_contains(rt->home_net, ipv, a->b);
}

static lw_flow_ctx *flow_ctx_new(lw_worker *w, lw_flow *f)
{
    lw_flow_ctx *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->we = w->cur;
    c->we->flows++;
    bool src_home = in_home(w->rt, f->ip_version, &f->src_ip);
    bool dst_home = in_home(w->rt, f->ip_version, &f->dst_ip);
    if (src_home && !dst_home) c->egress_mask |= 1;
    if (dst_home && !src_home) c->egress_mask |= 2;
    c->inspect_mask = w->rt->inspect_all ? 3 : c->egress_mask;
    /* content to an allowlisted destination is neither alerted nor listed: not scanned */
    const lw_cidr_set *allow = c->we->e->allow_dests;
    if (allow && lw_cidr_set_contains(allow, f->ip_version, f->dst_ip.b)) c->allow_mask |= 1;
    if (allow && lw_cidr_set_contains(allow, f->ip_version, f->src_ip.b)) c->allow_mask |= 2;
    return c;
}

static void write_event(lw_worker *w);
static void classified(lw_worker *w, lw_flow *f, lw_flow_ctx *c);
static void wengine_retire(lw_worker *w, lw_wengine *we);

void lw_worker_alert(lw_worker *w, uint64_t ts_usec, const lw_alert_info *a)
{
    lw_event_alert(&w->json, ts_usec, w->rt->sensor_name, a);
    write_event(w);
    w->counters.c[LW_WORKER_alerts]++;
}

void lw_worker_error(lw_worker *w, const lw_flow *f, const char *kind, const char *message)
{
    const lw_packet *p = w->packet;
    const char *file = p && p->file_idx < w->rt->n_inputs ? w->rt->input_names[p->file_idx] : NULL;
    lw_event_error(&w->json, p ? p->ts_usec : f->last_usec, w->rt->sensor_name, kind, message, file,
                   p ? p->pkt_num : 0, f->flow_id);
    write_event(w);
    w->counters.c[LW_WORKER_error_events]++;
}

/* A validated value in direction dir of flow f: record it, alert when it reaches the
 * signature's threshold. */
void lw_worker_on_hit(void *user, const lw_match_hit *hit)
{
    lw_hit_ctx *h = user;
    lw_worker *w = h->w;
    lw_flow_ctx *c = h->f->user;
    if (c->name_allowlisted) return; /* counted with the flow */
    const char *layer = h->layer, *filename = h->filename;
    uint32_t msg = h->msg;
    if (!layer) layer = lw_app_raw_label(h->f, h->dir, hit->offset, &filename, &msg);
    if (lw_app_seen(w, h->f, h->dir, hit, msg)) return; /* counted in another layer */
    lw_dlp_entry *e = NULL;
    const lw_dlp_value *val = NULL;
    lw_dlp_outcome o =
        lw_dlp_record(&c->dlp, hit, h->dir, w->rt->max_values, w->rt->fp_key, &e, &val);
    if (o == LW_DLP_NOMEM) w->counters.c[LW_WORKER_dlp_nomem]++;
    if (o != LW_DLP_ALERT) return;
    const lw_match_tag *t = &hit->tag;
    char ftp_cmd[8], ftp_file[256];
    lw_ftp_transfer *xfer = lw_app_ftp_transfer(h->f);
    if (xfer) lw_ftp_transfer_get(xfer, ftp_cmd, ftp_file);
    lw_alert_info a = {
        .flow = h->f,
        .dir = h->dir,
        .egress_mask = c->egress_mask,
        .hit = hit,
        .value = val,
        .distinct = e->distinct,
        .layer = layer,
        .pcap_file =
            t->packet && t->file_idx < w->rt->n_inputs ? w->rt->input_names[t->file_idx] : NULL,
        .pcap_packet = t->packet,
        .reveal = w->rt->reveal,
        .meta = &c->cls.meta,
        .filename = filename,
        .ftp_command = xfer ? (ftp_cmd[0] ? ftp_cmd : "unknown") : NULL,
        .ftp_filename = xfer ? ftp_file : NULL,
    };
    lw_worker_alert(w, t->ts_usec ? t->ts_usec : h->f->last_usec, &a);
}

lw_match_stream *lw_worker_stream_open(lw_worker *w, lw_wengine *we, uint64_t offset)
{
    uint64_t cost = lw_matcher_get_info(we->e->matcher)->stream_bytes;
    if (!lw_reasm_mem_charge(&w->reasm, cost)) {
        lw_match_worker_count(we->match, LW_MATCH_streams_memcap);
        return NULL;
    }
    lw_match_stream *ms = lw_match_stream_open(we->match, offset);
    if (!ms) lw_reasm_mem_release(&w->reasm, cost);
    return ms;
}

/* Streams belong to the engine of their flow (h->f). */
void lw_worker_stream_close(lw_worker *w, lw_match_stream *ms, lw_hit_ctx *h)
{
    lw_wengine *we = ((lw_flow_ctx *)h->f->user)->we;
    lw_match_stream_close(we->match, ms, lw_worker_on_hit, h);
    lw_reasm_mem_release(&w->reasm, lw_matcher_get_info(we->e->matcher)->stream_bytes);
}

/* The match stream of an inspected direction, opened on its first bytes; NULL if the
 * direction is not scanned. Its memory counts against the reassembly memcap. Datagrams
 * share one stream per worker: each is a context of its own, so no state is kept between
 * them and a DNS flow lingering until its timeout holds no matcher memory. */
static lw_match_stream *match_stream(lw_worker *w, lw_flow_ctx *c, int dir, uint64_t offset,
                                     uint32_t len, bool datagram)
{
    if (!(c->inspect_mask >> dir & 1)) return NULL;
    if (c->allow_mask >> dir & 1) {
        if (!(c->tried_mask >> dir & 1)) w->counters.c[LW_WORKER_allowlisted_directions]++;
        c->tried_mask |= (uint8_t)(1u << dir);
        w->counters.c[LW_WORKER_allowlisted_bytes] += len;
        return NULL;
    }
    lw_wengine *we = c->we;
    if (!we->match) return NULL;
    if (datagram) {
        if (!we->dgram) we->dgram = lw_worker_stream_open(w, we, offset);
        return we->dgram;
    }
    if (c->ms[dir] || (c->tried_mask >> dir & 1)) return c->ms[dir];
    c->tried_mask |= (uint8_t)(1u << dir);
    return c->ms[dir] = lw_worker_stream_open(w, we, offset);
}

static void match_stream_close(lw_worker *w, lw_flow *f, int dir)
{
    lw_flow_ctx *c = f->user;
    if (!c || !c->ms[dir]) return;
    lw_hit_ctx h = {.w = w, .f = f, .dir = dir};
    lw_worker_stream_close(w, c->ms[dir], &h);
    c->ms[dir] = NULL;
}

/* --dump-streams: DIR/<flow_id>.ts|tc holds the reassembled bytes, .gaps one line per hole. */
static void dump_append(lw_worker *w, const lw_flow *f, int dir, const char *suffix,
                        const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%" PRIu64 ".%s%s", w->rt->dump_dir, f->flow_id,
             dir == 0 ? "ts" : "tc", suffix);
    FILE *fp = fopen(path, "ab");
    if (!fp || fwrite(data, 1, len, fp) != len) w->counters.c[LW_WORKER_dump_errors]++;
    if (fp) fclose(fp);
}

/* http.url and http.hostname from the client's first request line and Host header. */
static void http_first_request(lw_flow_meta *m, const uint8_t *data, uint32_t len)
{
    if (m->sent_url) return;
    lw_http_first_request(data, len, &m->sent_url, &m->sent_host);
}

static void stream_data(void *user, void *flow, int dir, uint64_t offset, const uint8_t *data,
                        uint32_t len)
{
    lw_worker *w = user;
    lw_flow *f = flow;
    lw_flow_ctx *c = f->user;
    (void)offset;
    w->counters.c[LW_WORKER_stream_bytes] += len;
    /* metadata is read from both directions whatever --inspect says */
    /* the first request as sent: nDPI's url lost ports and IPv6 literals */
    if (c && dir == 0 && offset == 0 && f->proto == 6 && lw_classify_is_http(&c->cls.meta))
        http_first_request(&c->cls.meta, data, len);
    bool datagram = f->proto != 6;
    /* decoders first: they label the raw bytes the scan below may report */
    if (c && !datagram) lw_app_data(w, f, dir, offset, data, len);
    if (c && (c->inspect_mask >> dir & 1)) w->counters.c[LW_WORKER_inspect_bytes] += len;
    if (w->rt->dump_dir) dump_append(w, f, dir, "", data, len);
    if (c && !datagram && !lw_app_raw_wanted(f, dir)) {
        /* STARTTLS: what follows is encrypted, inspection of the flow ends */
        match_stream_close(w, f, 0);
        match_stream_close(w, f, 1);
        c->tried_mask = 3;
        return;
    }
    if (datagram && !++w->dgram_msg) w->dgram_msg = 1; /* each datagram is a message */
    /* a DNS query name first: a value inside one label is reported as dns.query */
    if (c && datagram) lw_app_datagram(w, f, dir, data, len);
    lw_match_stream *ms = c ? match_stream(w, c, dir, offset, len, datagram) : NULL;
    if (ms) {
        lw_hit_ctx h = {.w = w, .f = f, .dir = dir, .layer = datagram ? "udp.payload" : NULL};
        if (datagram) h.msg = w->dgram_msg;
        /* a datagram is a message of its own: nothing spans two */
        lw_match_worker *mw = c->we->match;
        if (datagram) lw_match_stream_boundary(mw, ms, offset, lw_worker_on_hit, &h);
        lw_match_stream_data(mw, ms, offset, data, len, lw_worker_on_hit, &h);
        if (datagram) lw_match_stream_boundary(mw, ms, offset + len, lw_worker_on_hit, &h);
    }
}

static void stream_gap(void *user, void *flow, int dir, uint64_t offset, uint64_t len)
{
    lw_worker *w = user;
    lw_flow *f = flow;
    lw_flow_ctx *c = f->user;
    if (c) lw_app_gap(w, f, dir);
    if (c && c->ms[dir]) {
        lw_hit_ctx h = {.w = w, .f = f, .dir = dir};
        lw_match_stream_gap(c->we->match, c->ms[dir], offset + len, lw_worker_on_hit, &h);
    }
    if (w->rt->dump_dir) {
        char line[64];
        int n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n", offset, len);
        dump_append(w, flow, dir, ".gaps", line, (size_t)n);
    }
}

static void write_event(lw_worker *w)
{
    if (w->json.oom) {
        w->counters.c[LW_WORKER_event_errors]++;
        return;
    }
    lw_output_write(w->rt->out, w->json.buf, w->json.len);
}

/* The flow table calls this for every flow leaving it. */
static void flow_ended(void *user, lw_flow *f)
{
    lw_worker *w = user;
    lw_flow_ctx *c = f->user;
    const lw_packet *packet = w->packet;
    w->packet = NULL; /* what the end of a flow reveals belongs to no packet */
    if (c && w->cls && lw_classify_end(w->cls, &c->cls)) classified(w, f, c);
    if (f->proto == 6) {
        lw_reasm_flush(&w->reasm, &f->stream[0], f, 0);
        lw_reasm_flush(&w->reasm, &f->stream[1], f, 1);
    }
    lw_app_dir_end(w, f, 0);
    lw_app_dir_end(w, f, 1);
    match_stream_close(w, f, 0);
    match_stream_close(w, f, 1);
    char ftp_cmd[8] = "", ftp_file[256] = "";
    lw_ftp_transfer *xfer = lw_app_ftp_transfer(f);
    if (xfer) lw_ftp_transfer_get(xfer, ftp_cmd, ftp_file);
    bool log = w->rt->flows_mode == LW_FLOWS_ALL || (w->rt->flows_mode == LW_FLOWS_ALERTED && c &&
                                                     (lw_dlp_any_alerted(&c->dlp) || c->vol_fired));
    if (log) {
        lw_flow_summary s = {
            .egress_bytes = c ? c->egress_bytes : 0,
            .egress_mask = c ? c->egress_mask : 0,
            .dlp = c ? &c->dlp : NULL,
            .max_values = w->rt->max_values,
            .reveal = w->rt->reveal,
            .meta = c ? &c->cls.meta : NULL,
            .ftp_command = xfer ? (ftp_cmd[0] ? ftp_cmd : "unknown") : NULL,
            .ftp_filename = xfer ? ftp_file : NULL,
        };
        lw_event_flow(&w->json, f, &s, w->rt->sensor_name);
        write_event(w);
    }
    lw_app_flow_free(w, f);
    lw_wengine *we = c ? c->we : NULL;
    if (c) {
        const lw_flow_meta *m = &c->cls.meta;
        uint16_t id = m->done ? (m->master ? m->master : m->app) : 0;
        if (id >= LW_CLASSIFY_MAX_PROTO) id = 0;
        w->proto_pkts[id] += f->pkts[0] + f->pkts[1];
        w->proto_bytes[id] += f->bytes[0] + f->bytes[1];
        lw_dlp_free(&c->dlp);
        lw_classify_release(&c->cls);
    }
    free(c);
    f->user = NULL;
    w->packet = packet;
    if (we && !--we->flows && we != w->cur) wengine_retire(w, we);
}

/* Case-insensitive glob ("*.github.com", "github.com") on a host name. */
static bool host_matches(const char *glob, const char *host)
{
    return host && fnmatch(glob, host, FNM_CASEFOLD) == 0;
}

/* Does volume signature g apply to a flow classified as m? */
static bool volume_applies(const lw_signature *g, const lw_flow_meta *m)
{
    const char *host = m->sni ? m->sni : m->http_host;
    for (size_t i = 0; i < g->hosts.n; i++)
        if (host_matches(g->hosts.v[i], host)) return true;
    for (size_t i = 0; i < g->apps.n; i++) {
        const char *app = g->apps.v[i];
        size_t n = strlen(app);
        if (m->app_name && strcasecmp(app, m->app_name) == 0) return true;
        /* each part of "TLS.GitHub" */
        for (const char *p = m->protocol; *p;) {
            const char *dot = strchr(p, '.');
            size_t len = dot ? (size_t)(dot - p) : strlen(p);
            if (len == n && strncasecmp(p, app, n) == 0) return true;
            p += len + (dot ? 1 : 0);
        }
    }
    return false;
}

/* A flow's egress bytes reached a volume signature's threshold: alert once. */
static void volume_check(lw_worker *w, lw_flow *f, lw_flow_ctx *c)
{
    uint64_t open = c->vol_match & ~c->vol_fired;
    const lw_engine *e = c->we->e;
    for (size_t i = 0; open && i < e->n_volume; i++) {
        const lw_signature *g = e->volume[i];
        if (!(open >> i & 1) || c->egress_bytes < g->min_egress_bytes) continue;
        c->vol_fired |= 1ull << i;
        const lw_packet *p = w->packet;
        int dir = c->egress_mask & 1 ? 0 : 1;
        lw_alert_info a = {
            .flow = f,
            .dir = dir,
            .egress_mask = c->egress_mask,
            .layer = NULL,
            .pcap_file =
                p && p->file_idx < w->rt->n_inputs ? w->rt->input_names[p->file_idx] : NULL,
            .pcap_packet = p ? p->pkt_num : 0,
            .meta = &c->cls.meta,
            .volume_sig = g,
            .egress_bytes = c->egress_bytes,
        };
        lw_worker_alert(w, p ? p->ts_usec : f->last_usec, &a);
        w->counters.c[LW_WORKER_volume_alerts]++;
    }
}

/* Classification finished: the host allowlist and the volume signatures that apply. */
static void classified(lw_worker *w, lw_flow *f, lw_flow_ctx *c)
{
    const lw_flow_meta *m = &c->cls.meta;
    const char *host = m->sni ? m->sni : m->http_host;
    const lw_strlist *allow = c->we->e->allow_hosts;
    for (size_t i = 0; allow && host && i < allow->n && !c->name_allowlisted; i++) {
        if (!host_matches(allow->v[i], host)) continue;
        /* neither alerted nor listed from here on; what was recorded before is dropped */
        c->name_allowlisted = true;
        c->allow_mask = 3;
        lw_dlp_free(&c->dlp);
        w->counters.c[LW_WORKER_allowlisted_by_name]++;
    }
    /* volume counts egress bytes to a destination that is not allowlisted */
    if (c->name_allowlisted || !(c->egress_mask & ~c->allow_mask)) return;
    const lw_engine *e = c->we->e;
    for (size_t i = 0; i < e->n_volume; i++)
        if (volume_applies(e->volume[i], m)) c->vol_match |= 1ull << i;
    if (c->vol_match) volume_check(w, f, c);
}

/* -- engine generations ------------------------------------------------------------------- */

/* Takes the reference e. NULL (e released) when out of memory. */
static lw_wengine *wengine_new(lw_engine *e)
{
    lw_wengine *we = e ? calloc(1, sizeof(*we)) : NULL;
    if (we) we->e = e;
    if (we && e->content && !(we->match = lw_match_worker_new(e->matcher))) {
        free(we);
        we = NULL;
    }
    if (!we) lw_engine_unref(e);
    return we;
}

/* An engine no flow uses any more (or the worker's end): its counters are kept, the rest freed. */
static void wengine_retire(lw_worker *w, lw_wengine *we)
{
    for (lw_wengine **pp = &w->engines; *pp; pp = &(*pp)->next) {
        if (*pp != we) continue;
        *pp = we->next;
        break;
    }
    if (we->dgram) {
        lw_match_stream_close(we->match, we->dgram, NULL, NULL); /* empty: every datagram ended */
        lw_reasm_mem_release(&w->reasm, lw_matcher_get_info(we->e->matcher)->stream_bytes);
    }
    if (we->match) {
        LW_COUNTERS_ADD(&w->match_retired, lw_match_worker_counters(we->match));
        lw_match_worker_free(we->match);
    }
    lw_engine_unref(we->e);
    free(we);
    if (w->cur) w->counters.c[LW_WORKER_engines_retired]++;
}

/* A reload published a new engine: new flows start on it, flows in progress stay on theirs. */
static void engine_switch(lw_worker *w)
{
    w->engine_seen = lw_engine_slot_generation(&w->rt->engine); /* tried once per generation */
    lw_wengine *old = w->cur, *we = wengine_new(lw_engine_slot_get(&w->rt->engine));
    if (!we) {
        w->counters.c[LW_WORKER_engine_switch_failed]++;
        return;
    }
    we->next = w->engines;
    w->engines = w->cur = we;
    w->counters.c[LW_WORKER_engine_switches]++;
    if (!old->flows) wengine_retire(w, old);
}

void lw_worker_match_counters(const lw_worker *w, lw_match_counters *out)
{
    LW_COUNTERS_ADD(out, &w->match_retired);
    for (const lw_wengine *we = w->engines; we; we = we->next)
        if (we->match) LW_COUNTERS_ADD(out, lw_match_worker_counters(we->match));
}

bool lw_worker_init(lw_worker *w, int id, lw_runtime *rt)
{
    memset(w, 0, sizeof(*w));
    w->id = id;
    w->rt = rt;
    lw_json_init(&w->json);
    lw_stream_sink sink = {.on_data = stream_data, .on_gap = stream_gap, .user = w};
    lw_reasm_ctx_init(&w->reasm, &rt->reasm_cfg, &rt->reasm_mem, &sink);
    w->flows = lw_flow_table_new(&rt->flow_cfg, flow_ended, w);
    w->pool.cap = LW_DECOMP_POOL_DEFAULT;
    lw_engine *e = lw_engine_slot_get(&rt->engine);
    if (!(w->cur = w->engines = wengine_new(e))) return false;
    w->engine_seen = e->generation;
    if (rt->classify && !(w->cls = lw_classifier_new())) return false;
    return w->flows != NULL;
}

static void tcp_packet(lw_worker *w, lw_flow *f, int dir, const lw_packet *p)
{
    uint8_t flags = p->tcp_flags;
    if (flags & LW_TCP_SYN) lw_reasm_syn(&w->reasm, &f->stream[dir], p->seq);
    if (flags & LW_TCP_ACK) lw_reasm_peer_ack(&w->reasm, &f->stream[dir ^ 1], f, dir ^ 1, p->ack);
    if (flags & LW_TCP_RST) {
        /* Endpoints discard data on a RST; so do we (counted). */
        if (p->payload_len) w->counters.c[LW_WORKER_tcp_rst_payload]++;
        return;
    }
    if (p->payload_truncated) {
        /* The capture cut this segment: what is missing becomes a gap, and its FIN (if any)
         * cannot be placed, so it is not passed on. */
        w->counters.c[LW_WORKER_tcp_truncated]++;
        flags &= (uint8_t)~LW_TCP_FIN;
    }
    if (p->payload_len || (flags & LW_TCP_FIN))
        lw_reasm_segment(&w->reasm, &f->stream[dir], f, dir, p->seq, p->payload, p->payload_len,
                         flags);
    /* a direction whose bytes are all delivered up to its FIN is done: what waited for more
     * bytes is decided with this packet (not at the flow's end), and its memory goes back */
    lw_flow_ctx *c = f->user;
    for (int d = 0; c && d < 2; d++) {
        if (!lw_reasm_complete(&f->stream[d])) continue;
        if (c->app) lw_app_dir_end(w, f, d);
        if (c->ms[d]) match_stream_close(w, f, d);
    }
}

void lw_worker_packet(lw_worker *w, const lw_packet *p)
{
    int dir = 0;
    w->counters.c[LW_WORKER_packets]++;
    if (p->ts_usec > w->now_usec) w->now_usec = p->ts_usec;
    w->packet = p;
    if (lw_engine_slot_generation(&w->rt->engine) != w->engine_seen) engine_switch(w);
    lw_match_tag tag = {.ts_usec = p->ts_usec, .packet = p->pkt_num, .file_idx = p->file_idx};
    for (lw_wengine *we = w->engines; we; we = we->next)
        if (we->match) lw_match_worker_set_tag(we->match, &tag);
    lw_flow *f = lw_flow_packet(w->flows, p, &dir);
    if (!f) return;
    lw_flow_ctx *c = f->user;
    if (!c) {
        if ((c = f->user = flow_ctx_new(w, f)))
            lw_app_flow_start(w, f);
        else
            w->counters.c[LW_WORKER_flow_ctx_failed]++;
    }
    if (c && w->cls && lw_classify_packet(w->cls, &c->cls, p)) classified(w, f, c);
    if (c && (c->egress_mask >> dir & 1)) {
        c->egress_bytes += p->payload_len;
        w->counters.c[LW_WORKER_egress_bytes] += p->payload_len;
        if (c->vol_match & ~c->vol_fired) volume_check(w, f, c);
    }
    if (p->proto == 6) {
        tcp_packet(w, f, dir, p);
    } else if (p->proto == 17 && p->payload_len && c) {
        w->counters.c[LW_WORKER_udp_datagrams]++;
        stream_data(w, f, dir, c->udp_offset[dir], p->payload, p->payload_len);
        c->udp_offset[dir] += p->payload_len;
    }
    w->packet = NULL;
}

void lw_worker_tick(lw_worker *w, uint64_t now_usec)
{
    if (now_usec > w->now_usec) w->now_usec = now_usec;
    w->packet = NULL;
    if (lw_engine_slot_generation(&w->rt->engine) != w->engine_seen) engine_switch(w);
    lw_flow_table_expire(w->flows, w->now_usec);
}

void lw_worker_finish(lw_worker *w, uint64_t now_usec, enum lw_flow_reason reason)
{
    lw_worker_tick(w, now_usec);
    lw_flow_table_flush(w->flows, reason);
}

void lw_worker_destroy(lw_worker *w)
{
    if (w->flows) lw_flow_table_free(w->flows);
    while (w->engines) wengine_retire(w, w->engines);
    w->cur = NULL;
    lw_classifier_free(w->cls);
    lw_json_free(&w->json);
}
