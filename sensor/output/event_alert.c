/*
 * event_alert.c — the `alert` event (interface.md section 5): written as soon as a signature
 * reaches its threshold in one direction of a flow. The value appears redacted and as a keyed
 * fingerprint; in full only with --reveal.
 */
#include "leakwatch/events.h"

const char *lw_direction_name(uint8_t egress_mask, int dir)
{
    return (egress_mask >> dir & 1) ? "egress" : "ingress";
}

void lw_event_alert(lw_json *j, uint64_t ts_usec, const char *sensor, const lw_alert_info *a)
{
    const lw_signature *g = a->hit ? a->hit->sig : a->volume_sig;
    char buf[LW_FP_TEXT_LEN > LW_MATCH_MAX_VALUE + 1 ? LW_FP_TEXT_LEN : LW_MATCH_MAX_VALUE + 1];
    lw_event_begin(j, "alert", ts_usec, sensor);
    lw_event_flow_header(j, a->flow, a->meta);
    lw_json_kv_str(j, "direction", lw_direction_name(a->egress_mask, a->dir));

    lw_json_key(j, "alert");
    lw_json_object_begin(j);
    lw_json_kv_u64(j, "signature_id", g->id);
    lw_json_kv_str(j, "signature", g->name);
    lw_json_kv_str(j, "category", lw_category_name(g->category));
    lw_json_kv_str(j, "severity", lw_severity_name(g->severity));
    lw_json_object_end(j);

    if (a->hit) {
        lw_json_key(j, "match");
        lw_json_object_begin(j);
        size_t n = lw_redact(a->hit->value, a->hit->len, buf, sizeof(buf));
        lw_json_key(j, "redacted");
        lw_json_strn(j, (const uint8_t *)buf, n);
        if (a->value) {
            lw_fingerprint_text(a->value->fp, buf);
            lw_json_kv_str(j, "fingerprint", buf);
        }
        lw_json_kv_str(j, "layer", a->layer);
        lw_json_kv_u64(j, "stream_offset", a->hit->offset);
        lw_json_kv_u64(j, "length", a->hit->len);
        lw_json_kv_u64(j, "distinct", a->distinct);
        lw_json_kv_u64(j, "threshold", g->threshold);
        if (a->hit->truncated) lw_json_kv_bool(j, "truncated", true);
        if (a->hit->extra.aws_account[0])
            lw_json_kv_str(j, "aws_account", a->hit->extra.aws_account);
        if (a->reveal) {
            lw_json_key(j, "value");
            lw_json_strn(j, a->hit->value, a->hit->len);
        }
        lw_json_object_end(j);
    } else if (g->kind == LW_SIG_DNS_TUNNEL) {
        if (a->dns_rrname) {
            lw_json_key(j, "dns");
            lw_json_object_begin(j);
            lw_json_kv_str(j, "rrname", a->dns_rrname);
            lw_json_object_end(j);
        }
        lw_json_key(j, "tunnel");
        lw_json_object_begin(j);
        lw_json_kv_str(j, "domain", a->tunnel_domain ? a->tunnel_domain : "");
        lw_json_kv_u64(j, "names", a->tunnel_names);
        lw_json_kv_u64(j, "threshold", g->threshold);
        lw_json_object_end(j);
    } else {
        lw_json_key(j, "volume");
        lw_json_object_begin(j);
        lw_json_kv_u64(j, "egress_bytes", a->egress_bytes);
        lw_json_kv_u64(j, "threshold", g->min_egress_bytes);
        lw_json_object_end(j);
    }
    if (a->filename) {
        lw_json_key(j, "fileinfo"); /* as Suricata EVE's fileinfo */
        lw_json_object_begin(j);
        lw_json_kv_str(j, "filename", a->filename);
        lw_json_object_end(j);
    }
    lw_event_ftp(j, a->ftp_command, a->ftp_filename);

    if (a->pcap_file || a->pcap_packet) {
        lw_json_key(j, "pcap");
        lw_json_object_begin(j);
        if (a->pcap_file) lw_json_kv_str(j, "file", a->pcap_file);
        if (a->pcap_packet) lw_json_kv_u64(j, "packet", a->pcap_packet);
        lw_json_object_end(j);
    }
    lw_json_object_end(j);
    lw_json_end_line(j);
}
