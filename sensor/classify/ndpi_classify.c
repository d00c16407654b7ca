/*
 * ndpi_classify.c — nDPI 4.2 behind classify.h: one detection module per worker, nDPI flow
 * state only while a flow is being classified.
 *
 * The loop follows ndpiReader's (reader_util.c), so that leakwatch's app_proto agrees with
 * what users see there: every packet goes to ndpi_detection_process_packet until nDPI names
 * an application protocol; while it can still dissect metadata (TLS certificates, HTTP
 * response) packets keep going to it; after the per-flow packet budget, or at the flow's end,
 * an unfinished flow is given up with nDPI's guess.
 */
#include "leakwatch/classify.h"

#include "leakwatch/smtp.h"

#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

LW_COUNTER_NAMES(classify, CLASSIFY, LW_CLASSIFY_COUNTERS)

#define META_STR_MAX 1024 /* longest metadata string kept (URL, user agent) */

struct lw_classifier {
    struct ndpi_detection_module_struct *ndpi;
    lw_classify_counters counters;
};

lw_classifier *lw_classifier_new(void)
{
    lw_classifier *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
    if (!c->ndpi) {
        free(c);
        return NULL;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
    ndpi_finalize_initialization(c->ndpi);
    return c;
}

void lw_classifier_free(lw_classifier *c)
{
    if (!c) return;
    ndpi_exit_detection_module(c->ndpi);
    free(c);
}

const lw_classify_counters *lw_classifier_counters(const lw_classifier *c)
{
    return &c->counters;
}

const char *lw_classifier_proto_name(const lw_classifier *c, uint16_t id)
{
    const char *n = ndpi_get_proto_name(c->ndpi, id);
    return n && *n ? n : "Unknown";
}

const char *lw_classify_risk_name(uint64_t risk, unsigned i)
{
    for (unsigned bit = 0; bit < 64; bit++) {
        if (!(risk >> bit & 1)) continue;
        if (i-- == 0) return ndpi_risk2str((ndpi_risk_enum)bit);
    }
    return NULL;
}

/* A bounded copy of a string nDPI keeps in its flow (NULL when empty). */
static char *keep(const char *s)
{
    if (!s || !*s) return NULL;
    return strndup(s, META_STR_MAX);
}

static const char *method_name(ndpi_http_method m)
{
    static const char *const names[] = {NULL,   "OPTIONS", "GET",    "HEAD",  "PATCH",
                                        "POST", "PUT",     "DELETE", "TRACE", "CONNECT"};
    return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : NULL;
}

static void free_strings(lw_flow_meta *m)
{
    free(m->sni);
    free(m->ja3);
    free(m->alpn);
    free(m->http_host);
    free(m->url);
    free(m->user_agent);
    free(m->dns_rrname);
    m->sni = m->ja3 = m->alpn = m->http_host = m->url = m->user_agent = m->dns_rrname = NULL;
}

/* nDPI's url is host + request-target: the event's url is the request-target as sent. */
static char *request_target(const char *url, const char *host)
{
    if (!url) return NULL;
    size_t h = host ? strlen(host) : 0;
    if (h && strncmp(url, host, h) == 0 && url[h] == '/') url += h;
    return keep(url);
}

/* Names and metadata from what nDPI knows now: when it first names the protocol (alerts
 * raised meanwhile carry it), and again when classification is final. */
static void collect(lw_classifier *c, lw_flow_class *fc, ndpi_protocol proto)
{
    struct ndpi_flow_struct *nf = fc->nf;
    lw_flow_meta *m = &fc->meta;
    m->detected = true;
    m->master = proto.master_protocol;
    m->app = proto.app_protocol;
    m->category = (uint16_t)proto.category;
    uint16_t lower = m->master != NDPI_PROTOCOL_UNKNOWN ? m->master : m->app;
    m->app_proto = lw_classifier_proto_name(c, lower);
    m->app_name = lw_classifier_proto_name(c, m->app);
    m->category_name = ndpi_category_get_name(c->ndpi, proto.category);
    ndpi_protocol2name(c->ndpi, proto, m->protocol, sizeof(m->protocol));
    if (!nf) return;
    free_strings(m);
    m->risk = nf->risk;
    uint16_t p = lower, a = m->app;
    bool tls = p == NDPI_PROTOCOL_TLS || p == NDPI_PROTOCOL_QUIC || a == NDPI_PROTOCOL_TLS;
    bool http = p == NDPI_PROTOCOL_HTTP || a == NDPI_PROTOCOL_HTTP ||
                p == NDPI_PROTOCOL_HTTP_CONNECT || p == NDPI_PROTOCOL_HTTP_PROXY;
    bool dns = p == NDPI_PROTOCOL_DNS || a == NDPI_PROTOCOL_DNS;
    if (tls) {
        m->sni = keep(nf->host_server_name);
        m->ja3 = keep(nf->protos.tls_quic.ja3_client);
        m->alpn = keep(nf->protos.tls_quic.alpn);
    } else if (http) {
        m->http_host = keep(nf->host_server_name);
        m->url = request_target(nf->http.url, nf->host_server_name);
        m->user_agent = keep(nf->http.user_agent);
        m->http_method = method_name(nf->http.method);
        m->http_status = nf->http.response_status_code;
    } else if (dns) {
        m->dns_rrname = keep(nf->host_server_name);
        m->dns_rrtype = nf->protos.dns.query_type;
    }
}

/* Classification is final: the last metadata, and the nDPI flow state is freed. */
static void finish(lw_classifier *c, lw_flow_class *fc, ndpi_protocol proto)
{
    collect(c, fc, proto);
    fc->meta.done = true;
    uint16_t lower = fc->meta.master ? fc->meta.master : fc->meta.app;
    c->counters.c[lower ? LW_CLASSIFY_detected : LW_CLASSIFY_unknown]++;
    if (fc->nf) ndpi_free_flow(fc->nf);
    fc->nf = NULL;
}

bool lw_classify_packet(lw_classifier *c, lw_flow_class *fc, const lw_packet *p)
{
    if (fc->meta.done || !p->l3 || !p->l3_len) return false;
    if (!fc->nf) {
        if (fc->pkts) return false; /* allocation failed before: not classified */
        fc->nf = calloc(1, SIZEOF_FLOW_STRUCT);
        if (!fc->nf) {
            fc->pkts = 1;
            c->counters.c[LW_CLASSIFY_alloc_failed]++;
            return false;
        }
        c->counters.c[LW_CLASSIFY_flows]++;
    }
    fc->pkts++;
    c->counters.c[LW_CLASSIFY_packets]++;
    uint32_t len = p->l3_len;
    if (len > 0xFFFF) {
        len = 0xFFFF;
        c->counters.c[LW_CLASSIFY_truncated_l3]++;
    }
    ndpi_protocol proto =
        ndpi_detection_process_packet(c->ndpi, fc->nf, p->l3, (uint16_t)len, p->ts_usec / 1000);
    uint16_t budget = p->proto == 6 ? LW_CLASSIFY_MAX_TCP_PKTS : LW_CLASSIFY_MAX_UDP_PKTS;
    bool enough = fc->pkts > budget;
    if (!enough && proto.app_protocol == NDPI_PROTOCOL_UNKNOWN) return false;
    if (!enough && ndpi_extra_dissection_possible(c->ndpi, fc->nf)) {
        if (fc->meta.detected) return false;
        collect(c, fc, proto); /* named: events and volume signatures know it from here */
        return true;
    }
    if (enough) c->counters.c[LW_CLASSIFY_budget_spent]++;
    if (proto.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
        uint8_t guessed = 0;
        proto = ndpi_detection_giveup(c->ndpi, fc->nf, 1, &guessed);
        if (guessed) c->counters.c[LW_CLASSIFY_guessed]++;
    }
    finish(c, fc, proto);
    return true;
}

bool lw_classify_end(lw_classifier *c, lw_flow_class *fc)
{
    if (fc->meta.done || !fc->nf) return false;
    uint8_t guessed = 0;
    ndpi_protocol proto = ndpi_detection_giveup(c->ndpi, fc->nf, 1, &guessed);
    if (guessed) c->counters.c[LW_CLASSIFY_guessed]++;
    finish(c, fc, proto);
    return true;
}

bool lw_classify_is_http(const lw_flow_meta *m)
{
    return m->detected && (m->master == NDPI_PROTOCOL_HTTP || m->app == NDPI_PROTOCOL_HTTP);
}

bool lw_classify_is_smtp(const lw_flow_meta *m)
{
    return m->detected &&
           (m->master == NDPI_PROTOCOL_MAIL_SMTP || m->app == NDPI_PROTOCOL_MAIL_SMTP);
}

void lw_classify_release(lw_flow_class *fc)
{
    lw_smtp_free(fc->meta.smtp);
    free(fc->meta.sent_url);
    free(fc->meta.sent_host);
    if (fc->nf) ndpi_free_flow(fc->nf);
    free_strings(&fc->meta);
    memset(fc, 0, sizeof(*fc));
}
