/*
 * event_flow.c — the `flow` event, written when a flow ends (FIN/RST, timeout, end of input,
 * shutdown). Counters follow Suricata EVE's flow and tcp objects.
 */
#include <stdio.h>

#include "leakwatch/events.h"

static void tcp_flags_hex(uint8_t flags, char out[4])
{
    snprintf(out, 4, "%02x", flags);
}

static void write_tcp(lw_json *j, const lw_flow *f)
{
    char hex[4];
    uint8_t all = f->tcp_flags[0] | f->tcp_flags[1];
    lw_json_key(j, "tcp");
    lw_json_object_begin(j);
    tcp_flags_hex(all, hex);
    lw_json_kv_str(j, "tcp_flags", hex);
    tcp_flags_hex(f->tcp_flags[0], hex);
    lw_json_kv_str(j, "tcp_flags_ts", hex);
    tcp_flags_hex(f->tcp_flags[1], hex);
    lw_json_kv_str(j, "tcp_flags_tc", hex);
    lw_json_kv_bool(j, "syn", all & 0x02);
    lw_json_kv_bool(j, "fin", all & 0x01);
    lw_json_kv_bool(j, "rst", all & 0x04);
    lw_json_kv_bool(j, "psh", all & 0x08);
    lw_json_kv_bool(j, "ack", all & 0x10);
    lw_json_kv_str(j, "state", lw_tcp_state_name(f->tcp_state));
    lw_json_object_end(j);
}

static void write_dlp_entry(lw_json *j, const lw_dlp_entry *e, const lw_flow_summary *s)
{
    char buf[LW_FP_TEXT_LEN > LW_MATCH_MAX_VALUE + 1 ? LW_FP_TEXT_LEN : LW_MATCH_MAX_VALUE + 1];
    uint32_t shown = e->distinct < s->max_values ? e->distinct : s->max_values;
    lw_json_object_begin(j);
    lw_json_kv_u64(j, "signature_id", e->sig->id);
    lw_json_kv_str(j, "signature", e->sig->name);
    lw_json_kv_str(j, "category", lw_category_name(e->sig->category));
    lw_json_kv_str(j, "severity", lw_severity_name(e->sig->severity));
    lw_json_kv_str(j, "direction", lw_direction_name(s->egress_mask, e->dir));
    lw_json_kv_u64(j, "matches", e->matches);
    lw_json_kv_u64(j, "distinct", e->distinct);
    lw_json_kv_bool(j, "alerted", e->alerted);
    lw_json_key(j, "redacted");
    lw_json_array_begin(j);
    for (uint32_t i = 0; i < shown; i++) {
        size_t n = lw_redact(e->vals[i].value, e->vals[i].len, buf, sizeof(buf));
        lw_json_strn(j, (const uint8_t *)buf, n);
    }
    lw_json_array_end(j);
    lw_json_key(j, "fingerprints");
    lw_json_array_begin(j);
    for (uint32_t i = 0; i < shown; i++) {
        lw_fingerprint_text(e->vals[i].fp, buf);
        lw_json_str(j, buf);
    }
    lw_json_array_end(j);
    if (s->reveal) {
        lw_json_key(j, "values");
        lw_json_array_begin(j);
        for (uint32_t i = 0; i < shown; i++) lw_json_strn(j, e->vals[i].value, e->vals[i].len);
        lw_json_array_end(j);
    }
    lw_json_object_end(j);
}

static void write_dlp(lw_json *j, const lw_flow_summary *s)
{
    lw_json_key(j, "dlp");
    lw_json_array_begin(j);
    for (const lw_dlp_entry *e = s->dlp ? s->dlp->head : NULL; e; e = e->next)
        write_dlp_entry(j, e, s);
    lw_json_array_end(j);
}

void lw_event_flow(lw_json *j, const lw_flow *f, const lw_flow_summary *s, const char *sensor)
{
    char ts[LW_TIMESTAMP_LEN];
    lw_event_begin(j, "flow", f->start_usec, sensor);
    lw_event_flow_header(j, f, s->meta);
    lw_json_key(j, "flow");
    lw_json_object_begin(j);
    lw_json_kv_u64(j, "pkts_toserver", f->pkts[0]);
    lw_json_kv_u64(j, "pkts_toclient", f->pkts[1]);
    lw_json_kv_u64(j, "bytes_toserver", f->bytes[0]);
    lw_json_kv_u64(j, "bytes_toclient", f->bytes[1]);
    lw_event_timestamp(f->start_usec, ts);
    lw_json_kv_str(j, "start", ts);
    lw_event_timestamp(f->last_usec, ts);
    lw_json_kv_str(j, "end", ts);
    lw_json_kv_str(j, "state", lw_flow_state_name(f));
    lw_json_kv_str(j, "reason", lw_flow_reason_name(f->end_reason));
    lw_json_kv_u64(j, "gaps", (uint64_t)f->stream[0].gaps + f->stream[1].gaps);
    lw_json_kv_u64(j, "egress_bytes", s->egress_bytes);
    lw_json_object_end(j);
    if (f->proto == 6) write_tcp(j, f);
    lw_event_ftp(j, s->ftp_command, s->ftp_filename);
    write_dlp(j, s);
    lw_json_object_end(j);
    lw_json_end_line(j);
}
