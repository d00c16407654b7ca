/*
 * packet.h — the decoded packet descriptor.
 *
 * Capture fills the frame fields; the decoder (sensor/decode) fills the rest by walking
 * link layer, tunnels, VLAN/MPLS, IP (after fragment reassembly) and the L4 header.
 * Everything downstream (flow table, reassembly, application layers) reads only this
 * descriptor, never the wire format, so every wire length is checked in exactly one place.
 */
#ifndef LW_PACKET_H
#define LW_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_MAX_VLAN 3 /* tags kept for the flow key and events; deeper tags are skipped */

/* An IPv4 or IPv6 address: IPv4 uses bytes 0..3, the rest are zero. */
typedef struct lw_addr {
    uint8_t b[16];
} lw_addr;

/* TCP flag bits as on the wire. */
enum {
    LW_TCP_FIN = 0x01,
    LW_TCP_SYN = 0x02,
    LW_TCP_RST = 0x04,
    LW_TCP_PSH = 0x08,
    LW_TCP_ACK = 0x10,
    LW_TCP_URG = 0x20,
};

/* One captured frame as capture hands it to decode. */
typedef struct lw_frame {
    const uint8_t *data;
    uint32_t caplen;   /* bytes captured */
    uint32_t wirelen;  /* bytes on the wire (>= caplen) */
    uint64_t ts_usec;  /* packet time, microseconds since the epoch */
    int linktype;      /* LINKTYPE_* / DLT_* value of this frame's interface */
    uint32_t file_idx; /* index of the input in the -r list */
    uint64_t pkt_num;  /* 1-based packet number within that input */
} lw_frame;

typedef struct lw_packet {
    /* From the frame. */
    uint64_t ts_usec;
    uint32_t wirelen; /* frame length on the wire: what flow byte counts add up */
    uint32_t file_idx;
    uint64_t pkt_num;

    /* Innermost IP layer (after decapsulation and fragment reassembly). */
    uint8_t ip_version; /* 4 or 6; 0 = not an IP packet (nothing else below is valid) */
    uint8_t proto;      /* L4 protocol number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 132 SCTP, ... */
    lw_addr src, dst;
    uint16_t sport, dport; /* TCP/UDP/SCTP ports; ICMP: sport = type, dport = code */
    const uint8_t *l3;     /* start of the innermost IP header */
    uint32_t l3_len;       /* bytes from l3 to the end of the datagram that are present */

    uint8_t vlan_count;         /* tags seen, outermost first (may exceed LW_MAX_VLAN) */
    uint16_t vlan[LW_MAX_VLAN]; /* VLAN ids, outermost first */
    uint8_t tunnel_depth;       /* encapsulation layers removed (GRE, VXLAN, ERSPAN, ...) */
    bool reassembled;           /* datagram rebuilt from IP fragments */

    /* TCP header fields (proto == 6). */
    uint32_t seq, ack;
    uint16_t window;
    uint8_t tcp_flags;

    /* L4 payload. payload_len counts only bytes present in the capture;
     * payload_truncated is set when the capture (snaplen) cut the payload short. */
    const uint8_t *payload;
    uint32_t payload_len;
    bool payload_truncated;

    uint32_t
        flow_hash; /* symmetric hash of (addresses, ports, proto, vlan): both directions equal */
} lw_packet;

#endif
