/*
 * decode_internal.h — what the per-protocol decoders share: the decoding context, the result
 * of a decoding step, bounds-checked big-endian readers and one entry point per protocol.
 *
 * Every decoder takes (ctx, data, len) where len is the number of bytes present (captured)
 * from data onward; it checks len before every read and either fills the packet, hands the
 * rest to the next decoder, or counts a named condition and says why it stopped.
 */
#ifndef LW_DECODE_INTERNAL_H
#define LW_DECODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "leakwatch/decode.h"

#define LW_DEC_MAX_LAYERS 64            /* link-layer headers per frame (VLAN/LLC chains...) */
#define LW_DEC_MAX_MPLS_LABELS 16       /* label stack entries before bottom of stack */
#define LW_DEC_MAX_IPV6_EXT 16          /* IPv6 extension headers in one chain */
#define LW_DEC_MAX_GTP_EXT 16           /* GTP-U extension headers */
#define LW_DEC_REASM_BUFS 2             /* reassembled datagrams (nested) per frame */
#define LW_DEC_REASM_MAX (65535u + 40u) /* largest datagram: IPv6 header + 16-bit payload */

/* Outcome of one decoding step. */
typedef enum lw_dres {
    LW_DR_IP,        /* the packet describes an IP packet for the flow stage */
    LW_DR_CONSUMED,  /* non-IP, held fragment or dropped fragment: counted, nothing to return */
    LW_DR_MALFORMED, /* counted; an enclosing tunnel falls back to its outer packet */
} lw_dres;

/* What a tunnel carries. */
typedef enum lw_inner {
    LW_INNER_ETHERNET,
    LW_INNER_IP, /* IPv4 or IPv6 by the version nibble */
    LW_INNER_IPV4,
    LW_INNER_IPV6,
    LW_INNER_MPLS,
    LW_INNER_PPP, /* PPP frame, address/control and protocol possibly compressed */
    LW_INNER_ERSPAN2,
    LW_INNER_ERSPAN3,
} lw_inner;

struct lw_decoder {
    lw_defrag *defrag;
    lw_decode_counters counters;
    uint8_t *reasm_buf[LW_DEC_REASM_BUFS]; /* reassembled datagrams, LW_DEC_REASM_MAX each */
};

/* State of one lw_decode call. */
typedef struct lw_dctx {
    lw_decoder *dec;
    lw_packet *p;
    uint64_t now_usec;
    uint32_t frag_ctx;  /* hash of VLAN ids and tunnel endpoints: keeps fragments apart */
    uint8_t layers;     /* link-layer headers walked so far */
    uint8_t reasm_used; /* reassembly buffers used by this frame */
    bool snap_cut;      /* the capture cut this frame: lengths may exceed what is present */
} lw_dctx;

#define LW_DCOUNT(cx, name) ((cx)->dec->counters.c[LW_DECODE_##name]++)

/* Counts a malformed condition and yields LW_DR_MALFORMED. */
#define LW_DFAIL(cx, name) (LW_DCOUNT(cx, name), LW_DR_MALFORMED)

static inline uint16_t lw_rd16(const uint8_t *b)
{
    return (uint16_t)(b[0] << 8 | b[1]);
}
static inline uint32_t lw_rd32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline uint32_t lw_dec_mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x9e3779b1u;
    return h ^ (h >> 15);
}

static inline bool lw_dec_is_vlan_tpid(uint16_t type)
{
    return type == 0x8100 || type == 0x88a8 || type == 0x9100 || type == 0x9200;
}

/* decode.c */
lw_dres lw_dec_non_ip(lw_dctx *c, int kind_counter);

/* Link layers. */
lw_dres lw_dec_ethernet(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_ethertype(lw_dctx *c, uint16_t type, const uint8_t *d, uint32_t len);
lw_dres lw_dec_llc(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_vlan(lw_dctx *c, const uint8_t *d, uint32_t len);
void lw_dec_push_vlan(lw_dctx *c, uint16_t vid);
lw_dres lw_dec_sll(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_sll2(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_null(lw_dctx *c, const uint8_t *d, uint32_t len, bool loop);
lw_dres lw_dec_raw(lw_dctx *c, const uint8_t *d, uint32_t len, int version);
lw_dres lw_dec_ppp(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_ppp_proto(lw_dctx *c, uint16_t proto, const uint8_t *d, uint32_t len);
lw_dres lw_dec_chdlc(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_pppoe_session(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_nflog(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_radiotap(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_ieee80211(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_mpls(lw_dctx *c, const uint8_t *d, uint32_t len);

/* IP layer. */
lw_dres lw_dec_ip(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_ipv4(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_ipv6(lw_dctx *c, const uint8_t *d, uint32_t len);
void lw_dec_ip_layer_begin(lw_dctx *c, int version, const uint8_t *l3, uint32_t l3_len);
lw_dres lw_dec_reassembled(lw_dctx *c, int version, const uint8_t *dgram, uint32_t len);

/* L4: present = bytes captured from d, promised = bytes the IP header says follow. */
lw_dres lw_dec_l4(lw_dctx *c, uint8_t proto, const uint8_t *d, uint32_t present, uint32_t promised);
lw_dres lw_dec_tcp(lw_dctx *c, const uint8_t *d, uint32_t present, uint32_t promised);
lw_dres lw_dec_udp(lw_dctx *c, const uint8_t *d, uint32_t present, uint32_t promised);
lw_dres lw_dec_icmp(lw_dctx *c, bool v6, const uint8_t *d, uint32_t present, uint32_t promised);
lw_dres lw_dec_sctp(lw_dctx *c, const uint8_t *d, uint32_t present, uint32_t promised);
void lw_dec_set_payload(lw_dctx *c, const uint8_t *d, uint32_t present, uint32_t promised);

/* Tunnels: each validates its own header, then enters through lw_dec_tunnel. */
lw_dres lw_dec_tunnel(lw_dctx *c, lw_inner inner, const uint8_t *d, uint32_t len);
lw_dres lw_dec_gre(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_erspan(lw_dctx *c, int type, const uint8_t *d, uint32_t len);
lw_dres lw_dec_vxlan(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_geneve(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_teredo(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_gtpu(lw_dctx *c, const uint8_t *d, uint32_t len);
lw_dres lw_dec_ipip(lw_dctx *c, uint8_t proto, const uint8_t *d, uint32_t len);

#endif
