/*
 * decode.h — packet decoding: link layer → VLAN/MPLS/PPPoE → tunnels → IP (with fragment
 * reassembly) → L4 header, filling an lw_packet for the flow stage.
 *
 * Link types: Ethernet, BSD null/loop, raw IP (12/14/101/228/229), PPP (9/50/51), Cisco HDLC,
 * Linux cooked v1/v2, NFLOG, 802.11 and radiotap. Tunnels: GRE (v0, PPTP v1), ERSPAN I/II/III,
 * VXLAN, Geneve, Teredo, GTP-U, IP-in-IP, MPLS Ethernet pseudowires. A tunnel is entered only
 * when what it carries decodes; otherwise the outer packet is the flow and a counter says why.
 *
 * Every malformed condition has a counter; none aborts. Counters come in three groups, in
 * this order: traffic (what was seen), non-IP kinds (consumed, not errors) and errors.
 */
#ifndef LW_DECODE_H
#define LW_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "leakwatch/counters.h"
#include "leakwatch/defrag.h"
#include "leakwatch/packet.h"

#define LW_DECODE_MAX_ENCAP 8 /* tunnel layers removed at most; deeper ones stay the flow */

/* Traffic seen: one count per layer decoded (a tunnelled packet counts its outer and inner IP). */
#define LW_DECODE_TRAFFIC_COUNTERS(X, P)                                                           \
    X(P, packets)           /* frames handed to lw_decode */                                       \
    X(P, bytes)             /* their wire length */                                                \
    X(P, ip_packets)        /* frames that produced an IP packet for the flow stage */             \
    X(P, frames_truncated)  /* caplen < wirelen (snaplen cut the frame) */                         \
    X(P, payload_truncated) /* IP packets whose L4 payload the capture cut short */                \
    X(P, ipv4)                                                                                     \
    X(P, ipv6)                                                                                     \
    X(P, tcp)                                                                                      \
    X(P, udp)                                                                                      \
    X(P, icmp)                                                                                     \
    X(P, icmpv6)                                                                                   \
    X(P, sctp)                                                                                     \
    X(P, other_l4)       /* IP payloads with no ports (ESP, OSPF, unsupported tunnels...) */       \
    X(P, ipv4_fragments) /* fragments handed to defrag */                                          \
    X(P, ipv6_fragments)                                                                           \
    X(P, reassembled)     /* complete datagrams defrag gave back */                                \
    X(P, vlan)            /* VLAN tags, any layer */                                               \
    X(P, vlan_beyond_max) /* tags past LW_MAX_VLAN: counted in vlan_count, id not kept */          \
    X(P, mpls)            /* MPLS label stacks */                                                  \
    X(P, mpls_pw)         /* Ethernet pseudowires inside MPLS */                                   \
    X(P, pppoe)           /* PPPoE session frames */                                               \
    X(P, ppp)             /* PPP frames (link type, PPTP) */                                       \
    X(P, chdlc)                                                                                    \
    X(P, nflog)                                                                                    \
    X(P, wifi) /* 802.11 data frames */                                                            \
    X(P, gre)                                                                                      \
    X(P, pptp) /* GRE v1 carrying PPP */                                                           \
    X(P, erspan)                                                                                   \
    X(P, vxlan)                                                                                    \
    X(P, geneve)                                                                                   \
    X(P, teredo)                                                                                   \
    X(P, gtpu)                                                                                     \
    X(P, gtpu_signalling) /* GTP-U messages that carry no user packet (echo, end marker) */        \
    X(P, ipip)            /* IPv4/IPv6 in IPv4/IPv6 (protocols 4 and 41) */

/* Frames that are not IP: consumed (lw_decode returns false), counted by kind. */
#define LW_DECODE_NONIP_COUNTERS(X, P)                                                             \
    X(P, non_ip)     /* all of the kinds below */                                                  \
    X(P, non_ip_arp) /* ARP, RARP, SLARP */                                                        \
    X(P, non_ip_lldp)                                                                              \
    X(P, non_ip_llc)  /* 802.2 LLC without an IP SNAP header (STP, CDP, ...) */                    \
    X(P, non_ip_slow) /* LACP and other slow protocols */                                          \
    X(P, non_ip_eapol)                                                                             \
    X(P, non_ip_pppoe_discovery)                                                                   \
    X(P, non_ip_ppp_control)    /* LCP, IPCP, CHAP, ... */                                         \
    X(P, non_ip_ppp_compressed) /* compressed or encrypted PPP datagrams (CCP/ECP) */              \
    X(P, non_ip_wifi)           /* 802.11 management, control, null-data, protected frames */      \
    X(P, non_ip_nflog_no_payload)                                                                  \
    X(P, non_ip_other) /* any other ethertype / family / PPP protocol */

/* Malformed input, caps hit and tunnels not entered. */
#define LW_DECODE_ERROR_COUNTERS(X, P)                                                             \
    X(P, unsupported_linktype)                                                                     \
    X(P, layers_too_deep)      /* link-layer headers nested past any sane depth */                 \
    X(P, encap_too_deep)       /* tunnel past LW_DECODE_MAX_ENCAP: outer packet kept */            \
    X(P, tunnel_inner_invalid) /* tunnel header fine, inner packet not: outer packet kept */       \
    X(P, ethernet_truncated)                                                                       \
    X(P, llc_truncated)                                                                            \
    X(P, vlan_truncated)                                                                           \
    X(P, sll_truncated)                                                                            \
    X(P, null_truncated)                                                                           \
    X(P, raw_bad_version) /* raw-IP link type whose first nibble is not the IP version */          \
    X(P, ppp_truncated)                                                                            \
    X(P, chdlc_truncated)                                                                          \
    X(P, pppoe_truncated)                                                                          \
    X(P, pppoe_bad_header) /* version/type not 1/1, or code not session data */                    \
    X(P, pppoe_bad_length) /* length field beyond the frame */                                     \
    X(P, nflog_truncated)                                                                          \
    X(P, nflog_bad_tlv)                                                                            \
    X(P, radiotap_truncated)                                                                       \
    X(P, wifi_truncated)                                                                           \
    X(P, mpls_truncated)                                                                           \
    X(P, mpls_too_many_labels)                                                                     \
    X(P, ipv4_truncated)                                                                           \
    X(P, ipv4_bad_version)                                                                         \
    X(P, ipv4_bad_ihl)                                                                             \
    X(P, ipv4_bad_total_length)                                                                    \
    X(P, ipv4_bad_options) /* option list malformed (packet still decoded) */                      \
    X(P, ipv6_truncated)                                                                           \
    X(P, ipv6_bad_version)                                                                         \
    X(P, ipv6_bad_payload_length)                                                                  \
    X(P, ipv6_jumbo_unsupported)                                                                   \
    X(P, ipv6_ext_truncated)                                                                       \
    X(P, ipv6_ext_chain_too_long)                                                                  \
    X(P, ipv6_hbh_not_first)   /* hop-by-hop options after another header (still decoded) */       \
    X(P, frag_truncated)       /* fragment cut by the capture: cannot be reassembled */            \
    X(P, frag_dropped)         /* defrag refused the fragment (its counters say why) */            \
    X(P, frag_nested_too_deep) /* fragments inside reassembled fragments inside ... */             \
    X(P, reassembled_too_big)                                                                      \
    X(P, tcp_truncated)                                                                            \
    X(P, tcp_bad_offset)                                                                           \
    X(P, udp_truncated)                                                                            \
    X(P, udp_bad_length)                                                                           \
    X(P, udp_trailing_bytes) /* IP payload longer than the UDP length (trimmed) */                 \
    X(P, icmp_truncated)                                                                           \
    X(P, icmpv6_truncated)                                                                         \
    X(P, sctp_truncated)                                                                           \
    X(P, gre_truncated)                                                                            \
    X(P, gre_unsupported)       /* routing present, recursion, unknown version, bad PPTP */        \
    X(P, gre_unsupported_proto) /* protocol type not decoded: GRE packet is the flow */            \
    X(P, erspan_truncated)                                                                         \
    X(P, erspan_bad_version)                                                                       \
    X(P, erspan_unsupported_frame)                                                                 \
    X(P, vxlan_truncated)                                                                          \
    X(P, vxlan_bad_flags) /* I flag clear */                                                       \
    X(P, geneve_truncated)                                                                         \
    X(P, geneve_bad_version)                                                                       \
    X(P, geneve_unsupported_proto)                                                                 \
    X(P, teredo_bad_inner) /* UDP 3544 not carrying a valid IPv6 packet */                         \
    X(P, gtpu_truncated)                                                                           \
    X(P, gtpu_bad_header)                                                                          \
    X(P, gtpu_bad_inner) /* G-PDU whose payload is not IP */

#define LW_DECODE_COUNTERS(X, P)                                                                   \
    LW_DECODE_TRAFFIC_COUNTERS(X, P) LW_DECODE_NONIP_COUNTERS(X, P) LW_DECODE_ERROR_COUNTERS(X, P)
LW_COUNTER_BLOCK(decode, DECODE, LW_DECODE_COUNTERS)

/* Index of the first error counter: [LW_DECODE__FIRST_ERROR, LW_DECODE__COUNT) are errors. */
#define LW_DECODE_ONE_(P, name) +1
enum {
    LW_DECODE__FIRST_ERROR = 0 LW_DECODE_TRAFFIC_COUNTERS(LW_DECODE_ONE_, DECODE)
        LW_DECODE_NONIP_COUNTERS(LW_DECODE_ONE_, DECODE)
};

typedef struct lw_decoder lw_decoder;

/* A decoder (one per capture thread) owning its fragment reassembler. NULL on out of memory. */
lw_decoder *lw_decoder_new(const lw_defrag_config *defrag_cfg);
void lw_decoder_free(lw_decoder *d);

/* true: p describes an IP packet for the flow stage (p's pointers point into f->data or, for a
 * reassembled datagram, into a decoder-owned buffer valid until the next call). false: consumed
 * (non-IP, malformed (counted), or a fragment held for reassembly). flow_hash is left 0. */
bool lw_decode(lw_decoder *d, const lw_frame *f, lw_packet *p);

/* Times out fragment trackers (packet time). */
void lw_decoder_expire(lw_decoder *d, uint64_t now_usec);

const lw_decode_counters *lw_decoder_counters(const lw_decoder *d);
const lw_defrag_counters *lw_decoder_defrag_counters(const lw_decoder *d);

/* Sum of the error counters: the "decode errors" of the stats event. */
uint64_t lw_decode_errors(const lw_decode_counters *c);

#endif
