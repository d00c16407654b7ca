/*
 * community_id.h — Community ID v1 flow hashing (corelight/community-id-spec).
 *
 * "1:" + base64(SHA-1(seed . saddr . daddr . proto . 0 . sport . dport)), the endpoints
 * ordered so both directions of a flow give the same string. ICMP and ICMPv6 use Zeek's
 * port equivalents (type, and the counter-type or code), so an echo request and its reply
 * share one id; one-way ICMP types are not reordered.
 */
#ifndef LW_COMMUNITY_ID_H
#define LW_COMMUNITY_ID_H

#include <stdbool.h>
#include <stdint.h>

#include "leakwatch/packet.h"

#define LW_COMMUNITY_ID_LEN 32 /* "1:" + 28 base64 characters + NUL, rounded up */

/* True for the protocols whose Community ID includes ports: ICMP, TCP, UDP, ICMPv6, SCTP. */
bool lw_community_has_ports(uint8_t proto);

/* Maps an ICMP (proto 1) or ICMPv6 (proto 58) type and code to port equivalents:
 * request/reply types become (type, counter-type), others (type, code). Returns true when
 * the type is one-way (its endpoints are not reordered). Other protos: ports unchanged, false. */
bool lw_community_icmp_ports(uint8_t proto, uint16_t type, uint16_t code, uint16_t *sport,
                             uint16_t *dport);

/* Writes the Community ID of the flow (src, sport) -> (dst, dport) into out, NUL-terminated.
 * For ICMP/ICMPv6, sport/dport are type/code (or their port equivalents: the mapping is
 * idempotent). Addresses use 4 bytes for ip_version 4 and 16 for 6; any other version
 * gives the empty string. */
void lw_community_id(uint8_t ip_version, uint8_t proto, const lw_addr *src, const lw_addr *dst,
                     uint16_t sport, uint16_t dport, uint16_t seed, char out[LW_COMMUNITY_ID_LEN]);

#endif
