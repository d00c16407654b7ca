/*
 * app_layer.h — the application layers of a flow, between reassembly and matching: which
 * decoders a flow gets (HTTP, SMTP with MIME, FTP control and data, DNS queries), the match
 * streams their decoded layers are scanned in, and the labels that name where a raw-stream
 * value sat (an HTTP body, a MIME header, an FTP data connection).
 *
 * Per inspected direction with a decoder, three decoded-layer streams are opened on demand:
 * decoded content (bodies, MIME parts), its text sub-layer (percent/JSON-decoded) and base64
 * runs; each part is a context of its own. A value seen in several layers of one message
 * (HTTP message, mail) is counted once.
 */
#ifndef LW_APP_LAYER_H
#define LW_APP_LAYER_H

#include "leakwatch/codec.h"
#include "leakwatch/counters.h"
#include "leakwatch/decompress.h"
#include "leakwatch/derive.h"
#include "leakwatch/dns_query.h"
#include "leakwatch/ftp.h"
#include "leakwatch/http.h"
#include "leakwatch/imap.h"
#include "leakwatch/match.h"
#include "leakwatch/mime.h"

#define LW_LAYER_COUNTERS(X, P)                                                                    \
    X(P, http_flows)            /* flows whose HTTP was decoded */                                 \
    X(P, smtp_messages)         /* mails whose content went through the MIME engine */             \
    X(P, smtp_starttls)         /* SMTP flows ended by STARTTLS: not inspected further */          \
    X(P, imap_messages)         /* IMAP APPEND messages that went through the MIME engine */       \
    X(P, imap_starttls)         /* IMAP flows ended by STARTTLS: not inspected further */          \
    X(P, ftp_control_flows)     /* FTP control connections read */                                 \
    X(P, ftp_data_flows)        /* data connections linked to their control connection */          \
    X(P, dns_queries_scanned)   /* DNS query names scanned as dns.query */                         \
    X(P, dns_tunnel_alerts)     /* dns_tunnel signature alerts */                                  \
    X(P, parts)                 /* decoded parts (bodies, MIME parts, runs, sub-layers) */         \
    X(P, decoded_bytes_scanned) /* bytes of decoded layers given to the matcher */                 \
    X(P, identity_bytes)        /* bytes of parts the raw stream already covers (labelled only) */ \
    X(P, layer_duplicates)      /* values already counted in another layer of the same message */  \
    X(P, guards)                /* guard hits (error events): max_decoded_mb, ratio, MIME depth */ \
    X(P, streams_memcap)        /* decoded-layer streams not opened: over the memcap */            \
    X(P, state_failed) /* flows without application state (out of memory): raw scan only */        \
    X(P, part_nesting) /* a part began while another was open (the open one was ended) */
LW_COUNTER_BLOCK(layer, LAYER, LW_LAYER_COUNTERS)

/* Every application-layer counter block of one worker. */
typedef struct lw_app_counters {
    lw_layer_counters layer;
    lw_http_counters http;
    lw_decomp_counters decomp;
    lw_mime_counters mime;
    lw_codec_counters codec;
    lw_derive_counters derive;
    lw_ftp_counters ftp;
    lw_dns_counters dns;
    lw_imap_counters imap;
} lw_app_counters;

void lw_app_counters_add(lw_app_counters *dst, const lw_app_counters *src);

struct lw_worker;
struct lw_flow;
typedef struct lw_app_flow lw_app_flow;

/* A flow's first packet: an FTP data connection announced by a control flow is claimed. */
void lw_app_flow_start(struct lw_worker *w, struct lw_flow *f);
/* Reassembled bytes of direction dir, before the raw scan sees them. */
void lw_app_data(struct lw_worker *w, struct lw_flow *f, int dir, uint64_t offset,
                 const uint8_t *data, uint32_t len);
void lw_app_gap(struct lw_worker *w, struct lw_flow *f, int dir);
/* Direction dir is complete (FIN) or the flow ends: its decoders end, streams are closed. */
void lw_app_dir_end(struct lw_worker *w, struct lw_flow *f, int dir);
/* The flow leaves the table: everything is released. */
void lw_app_flow_free(struct lw_worker *w, struct lw_flow *f);
/* A UDP datagram of direction dir: DNS queries are read, scanned and counted for tunnels. */
void lw_app_datagram(struct lw_worker *w, struct lw_flow *f, int dir, const uint8_t *data,
                     uint32_t len);

/* Where a raw-stream value at offset sat: its layer and file name ("tcp.stream" and NULL when
 * no decoder labelled it) and its message (0: none). */
const char *lw_app_raw_label(const struct lw_flow *f, int dir, uint64_t offset,
                             const char **filename, uint32_t *msg);
/* True when the same signature and value were already seen in this message (then the hit is
 * not counted again). msg 0 never deduplicates. Datagrams are messages of their own. */
bool lw_app_seen(struct lw_worker *w, const struct lw_flow *f, int dir, const lw_match_hit *hit,
                 uint32_t msg);
/* The FTP transfer of a data connection (NULL: not one). */
lw_ftp_transfer *lw_app_ftp_transfer(const struct lw_flow *f);
/* Should the raw stream of direction dir still be scanned (false after STARTTLS)? */
bool lw_app_raw_wanted(const struct lw_flow *f, int dir);

#endif
