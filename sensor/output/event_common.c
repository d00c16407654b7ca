/*
 * event_common.c — the parts every event shares: timestamps, addresses, the event header
 * and the flow header of flow-scoped events.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "leakwatch/events.h"
#include "leakwatch/smtp.h"

void lw_event_timestamp(uint64_t usec, char out[LW_TIMESTAMP_LEN])
{
    time_t secs = (time_t)(usec / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, LW_TIMESTAMP_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, LW_TIMESTAMP_LEN - n, ".%06u+0000", (unsigned)(usec % 1000000));
}

const char *lw_proto_name(uint8_t proto, char tmp[8])
{
    switch (proto) {
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 1:
        return "ICMP";
    case 58:
        return "IPv6-ICMP"; /* as Suricata EVE */
    case 132:
        return "SCTP";
    case 47:
        return "GRE";
    case 50:
        return "ESP";
    case 51:
        return "AH";
    default:
        snprintf(tmp, 8, "%u", proto);
        return tmp;
    }
}

void lw_event_addr(const lw_addr *a, uint8_t ip_version, char out[64])
{
    if (!inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, a->b, out, 64)) snprintf(out, 64, "?");
}

void lw_event_begin(lw_json *j, const char *event_type, uint64_t ts_usec, const char *sensor)
{
    char ts[LW_TIMESTAMP_LEN];
    lw_event_timestamp(ts_usec, ts);
    lw_json_reset(j);
    lw_json_object_begin(j);
    lw_json_kv_str(j, "timestamp", ts);
    lw_json_kv_str(j, "event_type", event_type);
    lw_json_kv_str(j, "sensor", sensor);
}

void lw_event_flow_header(lw_json *j, const lw_flow *f, const lw_flow_meta *meta)
{
    char a[64], tmp[8];
    lw_json_kv_u64(j, "flow_id", f->flow_id);
    lw_json_kv_str(j, "community_id", f->community_id);
    lw_event_addr(&f->src_ip, f->ip_version, a);
    lw_json_kv_str(j, "src_ip", a);
    lw_json_kv_u64(j, "src_port", f->src_port);
    lw_event_addr(&f->dst_ip, f->ip_version, a);
    lw_json_kv_str(j, "dest_ip", a);
    lw_json_kv_u64(j, "dest_port", f->dst_port);
    lw_json_kv_str(j, "proto", lw_proto_name(f->proto, tmp));
    if (f->vlan_count) {
        lw_json_key(j, "vlan");
        lw_json_array_begin(j);
        for (unsigned i = 0; i < f->vlan_count && i < LW_MAX_VLAN; i++) lw_json_u64(j, f->vlan[i]);
        lw_json_array_end(j);
    }
    lw_event_meta(j, meta);
}

static void kv_opt(lw_json *j, const char *key, const char *v)
{
    if (v) lw_json_kv_str(j, key, v);
}

/* DNS record type as Suricata EVE writes it ("A", "AAAA", ...; "TYPE65280" for the rest). */
static const char *dns_type_name(uint16_t t, char tmp[16])
{
    static const struct {
        uint16_t t;
        const char *name;
    } names[] = {{1, "A"},      {2, "NS"},    {5, "CNAME"},  {6, "SOA"},   {12, "PTR"},
                 {13, "HINFO"}, {15, "MX"},   {16, "TXT"},   {28, "AAAA"}, {33, "SRV"},
                 {35, "NAPTR"}, {43, "DS"},   {46, "RRSIG"}, {47, "NSEC"}, {48, "DNSKEY"},
                 {52, "TLSA"},  {64, "SVCB"}, {65, "HTTPS"}, {99, "SPF"},  {255, "ANY"},
                 {257, "CAA"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].t == t) return names[i].name;
    snprintf(tmp, 16, "TYPE%u", t);
    return tmp;
}

void lw_event_meta(lw_json *j, const lw_flow_meta *m)
{
    if (!m || !m->detected) {
        lw_json_kv_str(j, "app_proto", "Unknown");
        return;
    }
    lw_json_kv_str(j, "app_proto", m->app_proto);
    lw_json_key(j, "ndpi");
    lw_json_object_begin(j);
    lw_json_kv_str(j, "protocol", m->protocol);
    lw_json_kv_str(j, "app", m->app_name);
    kv_opt(j, "category", m->category_name);
    if (m->risk) {
        lw_json_key(j, "risks");
        lw_json_array_begin(j);
        const char *r;
        for (unsigned i = 0; (r = lw_classify_risk_name(m->risk, i)); i++) lw_json_str(j, r);
        lw_json_array_end(j);
    }
    lw_json_object_end(j);
    /* the request as sent wins over nDPI's url (host + path) and its cut IPv6 host */
    const char *url = m->sent_url ? m->sent_url : m->url;
    const char *host = m->http_host;
    if (m->sent_host && (!host || host[0] == '[')) host = m->sent_host;
    if (host || url || m->http_method) {
        lw_json_key(j, "http");
        lw_json_object_begin(j);
        kv_opt(j, "hostname", host);
        kv_opt(j, "url", url);
        kv_opt(j, "http_method", m->http_method);
        kv_opt(j, "http_user_agent", m->user_agent);
        if (m->http_status) lw_json_kv_u64(j, "status", m->http_status);
        lw_json_object_end(j);
    }
    if (m->sni || m->ja3 || m->alpn) {
        lw_json_key(j, "tls");
        lw_json_object_begin(j);
        kv_opt(j, "sni", m->sni);
        kv_opt(j, "ja3", m->ja3);
        kv_opt(j, "alpn", m->alpn);
        lw_json_object_end(j);
    }
    const lw_smtp *smtp = m->smtp;
    if (smtp && lw_classify_is_smtp(m) && (smtp->helo || smtp->mail_from || smtp->n_rcpt)) {
        lw_json_key(j, "smtp");
        lw_json_object_begin(j);
        kv_opt(j, "helo", smtp->helo);
        kv_opt(j, "mail_from", smtp->mail_from);
        if (smtp->n_rcpt) {
            lw_json_key(j, "rcpt_to");
            lw_json_array_begin(j);
            for (uint32_t i = 0; i < smtp->n_rcpt; i++) lw_json_str(j, smtp->rcpt[i]);
            lw_json_array_end(j);
        }
        lw_json_object_end(j);
    }
    if (m->dns_rrname) {
        lw_json_key(j, "dns");
        lw_json_object_begin(j);
        lw_json_kv_str(j, "rrname", m->dns_rrname);
        if (m->dns_rrtype) {
            char tmp[16];
            lw_json_kv_str(j, "rrtype", dns_type_name(m->dns_rrtype, tmp));
        }
        lw_json_object_end(j);
    }
}

void lw_event_error(lw_json *j, uint64_t ts_usec, const char *sensor, const char *kind,
                    const char *message, const char *file, uint64_t packet, uint64_t flow_id)
{
    lw_event_begin(j, "error", ts_usec, sensor);
    lw_json_key(j, "error");
    lw_json_object_begin(j);
    lw_json_kv_str(j, "kind", kind);
    lw_json_kv_str(j, "message", message);
    if (file) lw_json_kv_str(j, "file", file);
    if (packet) lw_json_kv_u64(j, "packet", packet);
    if (flow_id) lw_json_kv_u64(j, "flow_id", flow_id);
    lw_json_object_end(j);
    lw_json_object_end(j);
    lw_json_end_line(j);
}

void lw_event_ftp(lw_json *j, const char *command, const char *filename)
{
    if (!command) return;
    lw_json_key(j, "ftp");
    lw_json_object_begin(j);
    lw_json_kv_str(j, "command", command);
    if (filename && filename[0]) lw_json_kv_str(j, "filename", filename);
    lw_json_object_end(j);
}
