/*
 * classify.h — protocol classification with nDPI 4.2, one detection module per worker.
 *
 * Each flow's packets (both directions) go to nDPI until it names the protocol and has no
 * more metadata to dissect, or until a packet budget is spent (then nDPI gives up, guessing
 * from ports as ndpiReader does). The nDPI flow state is then freed, so a classified flow
 * costs nDPI nothing more. What is kept is lw_flow_meta: the protocol, names for events, and
 * the metadata of section 5 (http, tls, dns) that nDPI dissected.
 */
#ifndef LW_CLASSIFY_H
#define LW_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "leakwatch/counters.h"
#include "leakwatch/packet.h"

/* Packets of one flow given to nDPI at most, as ndpiReader's defaults. */
#define LW_CLASSIFY_MAX_TCP_PKTS 80
#define LW_CLASSIFY_MAX_UDP_PKTS 24

#define LW_CLASSIFY_COUNTERS(X, P)                                                                 \
    X(P, flows)        /* flows given to nDPI */                                                   \
    X(P, packets)      /* packets given to nDPI */                                                 \
    X(P, detected)     /* flows nDPI classified */                                                 \
    X(P, guessed)      /* flows classified by nDPI's give-up guess (ports, addresses) */           \
    X(P, unknown)      /* flows left Unknown */                                                    \
    X(P, budget_spent) /* flows that reached the packet budget before nDPI was done */             \
    X(P, alloc_failed) /* flows not classified: nDPI flow state could not be allocated */          \
    X(P, truncated_l3) /* packets whose IP datagram was longer than nDPI takes (64 KiB) */
LW_COUNTER_BLOCK(classify, CLASSIFY, LW_CLASSIFY_COUNTERS)

/* What classification found out about a flow (strings NULL when unknown). */
typedef struct lw_flow_meta {
    bool detected; /* nDPI named the protocol (names below are set) */
    bool done;     /* classification finished (names below are final) */
    uint16_t master, app, category;
    uint64_t risk;         /* nDPI flow risk bitmap */
    const char *app_proto; /* master protocol name (app's when master is Unknown) */
    const char *app_name;  /* ndpi.app */
    const char *category_name;
    char protocol[64];                  /* ndpi.protocol, e.g. "TLS.GitHub" */
    char *sni, *ja3, *alpn;             /* tls */
    char *http_host, *url, *user_agent; /* http */
    const char *http_method;            /* "GET", ... */
    char *sent_url, *sent_host; /* the first request-target and Host as sent (see worker.c) */
    uint16_t http_status;
    struct lw_smtp *smtp; /* smtp: commands read from the client's stream */
    char *dns_rrname;     /* dns */
    uint16_t dns_rrtype;
} lw_flow_meta;

typedef struct lw_classifier lw_classifier;
typedef struct lw_flow_class {
    void *nf; /* nDPI flow state while classifying */
    uint16_t pkts;
    lw_flow_meta meta;
} lw_flow_class;

/* NULL if nDPI cannot be initialised. */
lw_classifier *lw_classifier_new(void);
void lw_classifier_free(lw_classifier *c);
const lw_classify_counters *lw_classifier_counters(const lw_classifier *c);

/* One packet of the flow (either direction). True when this packet let nDPI name the
 * protocol or finished classification (the caller may then act on meta: volume signatures,
 * host allowlists). */
bool lw_classify_packet(lw_classifier *c, lw_flow_class *fc, const lw_packet *p);
/* The flow ends: an unfinished classification gives up (with nDPI's guess). True if this
 * finished it. */
bool lw_classify_end(lw_classifier *c, lw_flow_class *fc);
/* Frees what fc holds (nDPI state, metadata strings). */
void lw_classify_release(lw_flow_class *fc);

/* True if nDPI named the flow HTTP (plain HTTP/1.x: its first request line can be read). */
bool lw_classify_is_http(const lw_flow_meta *m);

/* True if nDPI named the flow SMTP (its client commands are worth reading). */
bool lw_classify_is_smtp(const lw_flow_meta *m);

/* Protocol names by nDPI id (for stats). "Unknown" for ids nDPI does not know. */
const char *lw_classifier_proto_name(const lw_classifier *c, uint16_t id);
/* The nDPI risk names of a bitmap, one at a time: index i of the set bits; NULL past the end. */
const char *lw_classify_risk_name(uint64_t risk, unsigned i);

/* The id space of app_proto counters in stats. */
#define LW_CLASSIFY_MAX_PROTO 512

#endif
