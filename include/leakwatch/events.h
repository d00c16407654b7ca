/*
 * events.h — building the JSON Lines events of the contract (interface.md section 5).
 *
 * Field names follow Suricata EVE where EVE has one. Every event starts with timestamp
 * (packet time), event_type and sensor; flow-scoped events add the flow header.
 */
#ifndef LW_EVENTS_H
#define LW_EVENTS_H

#include <stdint.h>

#include "leakwatch/classify.h"
#include "leakwatch/dlp.h"
#include "leakwatch/flow.h"
#include "leakwatch/json.h"

#define LW_TIMESTAMP_LEN 40

/* "2024-05-01T10:00:00.123456+0000" (UTC) */
void lw_event_timestamp(uint64_t usec, char out[LW_TIMESTAMP_LEN]);
const char *lw_proto_name(uint8_t proto, char tmp[8]);
void lw_event_addr(const lw_addr *a, uint8_t ip_version, char out[64]);

/* Opens the event object and writes timestamp, event_type, sensor. */
void lw_event_begin(lw_json *j, const char *event_type, uint64_t ts_usec, const char *sensor);
/* flow_id, community_id, src_ip, src_port, dest_ip, dest_port, proto, vlan, app_proto, and
 * what classification found: ndpi {protocol, app, category, risks}, http, tls, dns.
 * meta NULL (or unfinished): app_proto "Unknown". */
void lw_event_flow_header(lw_json *j, const lw_flow *f, const lw_flow_meta *meta);

/* app_proto and the classification objects alone (part of the flow header). */
void lw_event_meta(lw_json *j, const lw_flow_meta *meta);

/* What the worker knows about a flow beyond the flow table. */
typedef struct lw_flow_summary {
    uint64_t egress_bytes;    /* payload bytes that left the home network */
    uint8_t egress_mask;      /* bit d: direction d is egress */
    const lw_flow_dlp *dlp;   /* validated matches (NULL: none) */
    uint32_t max_values;      /* distinct values listed per entry */
    bool reveal;              /* also list the values themselves */
    const lw_flow_meta *meta; /* classification (NULL: none) */
    const char *ftp_command;  /* an FTP data connection: what it carried (NULL: not one) */
    const char *ftp_filename;
} lw_flow_summary;

/* "egress" or "ingress" for direction dir of a flow. */
const char *lw_direction_name(uint8_t egress_mask, int dir);

/* An `alert`: a signature reached its threshold in one direction of a flow. */
typedef struct lw_alert_info {
    const lw_flow *flow;
    int dir;
    uint8_t egress_mask;
    const lw_match_hit *hit;   /* the value that reached the threshold */
    const lw_dlp_value *value; /* its record (fingerprint) */
    uint32_t distinct;         /* distinct values so far */
    const char *layer;         /* "tcp.stream", "udp.payload", ... */
    const char *pcap_file;     /* input of the packet that completed the match (NULL: live) */
    uint64_t pcap_packet;      /* its 1-based number in that input (0: unknown) */
    bool reveal;
    const lw_flow_meta *meta;       /* classification so far (NULL: none) */
    const lw_signature *volume_sig; /* a volume alert: this signature (hit is NULL) */
    uint64_t egress_bytes;          /* volume alerts: the flow's egress bytes */
    const char *filename;           /* fileinfo.filename: the part's file name (NULL: none) */
    const char *ftp_command;        /* ftp {command, filename}: an FTP data connection */
    const char *ftp_filename;
    /* dns_tunnel alerts (volume_sig is the dns_tunnel signature) */
    const char *dns_rrname;
    const char *tunnel_domain;
    uint32_t tunnel_names;
} lw_alert_info;

void lw_event_alert(lw_json *j, uint64_t ts_usec, const char *sensor, const lw_alert_info *a);

/* A complete `flow` event line for a flow that ended. */
void lw_event_flow(lw_json *j, const lw_flow *f, const lw_flow_summary *s, const char *sensor);

/* ftp {command, filename} of an FTP data connection (nothing when command is NULL). */
void lw_event_ftp(lw_json *j, const char *command, const char *filename);

/* A complete `error` event line. file may be NULL; packet 0 = not applicable; flow_id 0 = none. */
void lw_event_error(lw_json *j, uint64_t ts_usec, const char *sensor, const char *kind,
                    const char *message, const char *file, uint64_t packet, uint64_t flow_id);

#endif
