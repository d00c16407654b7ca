/*
 * dns_query.h — DNS queries leaving the network: the question name of a query message, read
 * with a bounds check on every byte (compression pointers followed at most 16 times, names at
 * most 255 bytes), and the DNS-tunnel heuristic.
 *
 * Tunnel heuristic: data smuggled out through DNS shows up as many long, high-entropy names
 * under one domain from one host (iodine, dnscat2, DNSExfiltrator). Each query name is split
 * into its registered domain (the last two labels, three under a two-letter country code
 * whose second level is a generic one such as co/com/net/org/ac/gov/edu/ne/or/go) and the
 * rest; a name is "suspect" when the rest is at least min_length characters long and its
 * Shannon entropy (bits per character) is at least min_entropy. The table counts suspect names
 * per (client address, registered domain); when a count reaches threshold the caller alerts
 * once for that pair. The table is shared by every worker (one lock), capped at `cap` pairs;
 * when full the least recently used pair is evicted (counted).
 */
#ifndef LW_DNS_QUERY_H
#define LW_DNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/counters.h"

#define LW_DNS_NAME_MAX 256 /* dotted name, NUL included */

#define LW_DNS_COUNTERS(X, P)                                                                      \
    X(P, queries)        /* query messages read */                                                 \
    X(P, not_query)      /* responses or messages without a question (not scanned as queries) */   \
    X(P, malformed)      /* messages whose header or question name could not be read */            \
    X(P, suspect_names)  /* query names long and random enough to count towards a tunnel */        \
    X(P, tunnel_evicted) /* (host, domain) pairs evicted from the full tunnel table */
LW_COUNTER_BLOCK(dns, DNS, LW_DNS_COUNTERS)

/* A parsed question. dotted: "a.b.example.com" (no trailing dot); joined: the labels
 * concatenated without dots, as scanned (a value split across labels is whole in it). */
typedef struct lw_dns_question {
    char dotted[LW_DNS_NAME_MAX];
    uint8_t joined[LW_DNS_NAME_MAX];
    size_t joined_len;
    uint16_t qtype;
    uint16_t id;
} lw_dns_question;

/* msg: one DNS message (the UDP payload, or a TCP message without its 2-byte length).
 * true if it is a query (QR=0, QDCOUNT ≥ 1) whose first question was read; else false,
 * counted as not_query or malformed. */
bool lw_dns_parse_query(const uint8_t *msg, size_t len, lw_dns_question *q, lw_dns_counters *ctr);

/* The registered domain of a dotted name (a pointer into it) and the length of the part
 * before it (without the joining dot). */
const char *lw_dns_registered_domain(const char *dotted, size_t *rest_len);

typedef struct lw_dns_tunnel lw_dns_tunnel;
lw_dns_tunnel *lw_dns_tunnel_new(size_t cap, uint32_t min_length, double min_entropy,
                                 uint32_t threshold);
void lw_dns_tunnel_free(lw_dns_tunnel *t);
/* One query name from client (ip_version 4/6, addr 16 bytes, IPv4 in the first 4). Returns
 * the pair's suspect count after this name if this name made it reach the threshold (exactly
 * once per pair), else 0. *suspect says whether this name was suspect. Thread-safe. */
uint32_t lw_dns_tunnel_feed(lw_dns_tunnel *t, uint8_t ip_version, const uint8_t addr[16],
                            const char *dotted, bool *suspect, lw_dns_counters *ctr);

#endif
