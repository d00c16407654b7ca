/*
 * app_dns.c — DNS queries leaving the network (app_layer.h, lw_app_datagram): the question
 * name of each query datagram is scanned as layer "dns.query" with its labels joined (a value
 * split over labels is whole there), and fed to the DNS-tunnel table of the dns_tunnel
 * signature, which alerts once per (host, registered domain) at its threshold.
 *
 * Only the labels before the registered domain are scanned: the domain itself is the
 * receiver, not data, and joining it on would put letters right after a value (its boundary
 * check would refuse it). The datagram's raw bytes are scanned too ("udp.payload"), after this,
 * in the same message, so a value inside one label is counted once, as dns.query.
 */
#include <string.h>

#include "worker_private.h"

#define DNS_PORT 53

static bool inspected(const lw_worker *w, const lw_flow_ctx *c, int dir)
{
    (void)w;
    return c->we->match && (c->inspect_mask >> dir & 1) && !(c->allow_mask >> dir & 1);
}

/* The labels before the registered domain, concatenated; 0 when there are none. */
static size_t rest_joined(const char *dotted, uint8_t *out)
{
    size_t rest = 0, n = 0;
    lw_dns_registered_domain(dotted, &rest);
    for (size_t i = 0; i < rest; i++)
        if (dotted[i] != '.') out[n++] = (uint8_t)dotted[i];
    return n;
}

static void scan_name(lw_worker *w, lw_flow *f, int dir, const lw_dns_question *q)
{
    uint8_t joined[LW_DNS_NAME_MAX];
    size_t n = rest_joined(q->dotted, joined);
    if (!n) return;
    lw_wengine *we = ((lw_flow_ctx *)f->user)->we;
    if (!we->dgram && !(we->dgram = lw_worker_stream_open(w, we, 0))) return;
    lw_hit_ctx h = {.w = w, .f = f, .dir = dir, .layer = "dns.query", .msg = w->dgram_msg};
    lw_match_stream_boundary(we->match, we->dgram, 0, lw_worker_on_hit, &h);
    lw_match_stream_data(we->match, we->dgram, 0, joined, n, lw_worker_on_hit, &h);
    lw_match_stream_boundary(we->match, we->dgram, n, lw_worker_on_hit, &h);
    w->app.layer.c[LW_LAYER_dns_queries_scanned]++;
}

static void tunnel_feed(lw_worker *w, lw_flow *f, int dir, const lw_dns_question *q)
{
    const lw_runtime *rt = w->rt;
    lw_flow_ctx *c = f->user;
    const uint8_t *host = dir == 0 ? f->src_ip.b : f->dst_ip.b;
    bool suspect = false;
    uint32_t names =
        lw_dns_tunnel_feed(rt->dns_tunnel, f->ip_version, host, q->dotted, &suspect, &w->app.dns);
    const lw_signature *sig = c->we->e->dns_tunnel_sig; /* the flow's engine may have none */
    if (!names || !sig) return;
    const lw_alert_info a = {
        .flow = f,
        .dir = dir,
        .egress_mask = c->egress_mask,
        .reveal = rt->reveal,
        .meta = &c->cls.meta,
        .volume_sig = sig,
        .egress_bytes = c->egress_bytes,
        .dns_rrname = q->dotted,
        .tunnel_domain = lw_dns_registered_domain(q->dotted, NULL),
        .tunnel_names = names,
    };
    lw_worker_alert(w, w->packet ? w->packet->ts_usec : f->last_usec, &a);
    w->app.layer.c[LW_LAYER_dns_tunnel_alerts]++;
}

void lw_app_datagram(lw_worker *w, lw_flow *f, int dir, const uint8_t *data, uint32_t len)
{
    lw_flow_ctx *c = f->user;
    uint16_t server_port = dir == 0 ? f->dst_port : f->src_port;
    if (!c || f->proto != 17 || server_port != DNS_PORT) return;
    bool scan = inspected(w, c, dir), tunnel = w->rt->dns_tunnel && (c->egress_mask >> dir & 1);
    if (!scan && !tunnel) return;
    lw_dns_question q;
    if (!lw_dns_parse_query(data, len, &q, &w->app.dns)) return;
    if (scan) scan_name(w, f, dir, &q);
    if (tunnel) tunnel_feed(w, f, dir, &q);
}
