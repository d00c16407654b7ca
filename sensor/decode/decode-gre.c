/*
 * decode-gre.c — GRE. Version 0 (RFC 2784/2890): optional checksum, key and sequence number;
 * source routing (RFC 1701) and recursion are refused. Payload by protocol type: IPv4, IPv6,
 * transparent Ethernet bridging (0x6558), MPLS, ERSPAN type I/II (0x88be, type II when the
 * sequence number is present) and type III (0x22eb). Version 1 is PPTP's enhanced GRE
 * (RFC 2637) carrying PPP. An unsupported GRE packet stays the flow (protocol 47).
 */
#include "decode_internal.h"

#define GRE_HDR_LEN 4
#define GRE_C 0x80   /* checksum present */
#define GRE_R 0x40   /* routing present */
#define GRE_K 0x20   /* key present */
#define GRE_S 0x10   /* sequence number present */
#define GRE_SSR 0x08 /* strict source route */
#define GRE_RECUR 0x07
#define GRE_A 0x80 /* v1: acknowledgment number present */
#define GRE_FLAGS1 0x78
#define GRE_VERSION 0x07
#define GRE_PROTO_PPP 0x880b

static lw_dres gre_v0(lw_dctx *c, uint16_t proto, bool seq, const uint8_t *d, uint32_t len)
{
    switch (proto) {
    case 0x0800:
        return lw_dec_tunnel(c, LW_INNER_IPV4, d, len);
    case 0x86dd:
        return lw_dec_tunnel(c, LW_INNER_IPV6, d, len);
    case 0x6558:
        return lw_dec_tunnel(c, LW_INNER_ETHERNET, d, len);
    case 0x8847:
    case 0x8848:
        return lw_dec_tunnel(c, LW_INNER_MPLS, d, len);
    case 0x88be:
        if (seq) return lw_dec_tunnel(c, LW_INNER_ERSPAN2, d, len);
        LW_DCOUNT(c, erspan); /* type I: no header, the mirrored frame follows */
        return lw_dec_tunnel(c, LW_INNER_ETHERNET, d, len);
    case 0x22eb:
        return lw_dec_tunnel(c, LW_INNER_ERSPAN3, d, len);
    default:
        LW_DCOUNT(c, gre_unsupported_proto);
        return LW_DR_IP;
    }
}

static lw_dres gre_v1(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    uint8_t f0 = d[0], f1 = d[1];
    if ((f0 & (GRE_C | GRE_R | GRE_SSR | GRE_RECUR)) || !(f0 & GRE_K) || (f1 & GRE_FLAGS1) ||
        lw_rd16(d + 2) != GRE_PROTO_PPP) {
        LW_DCOUNT(c, gre_unsupported);
        return LW_DR_IP;
    }
    uint32_t hlen = GRE_HDR_LEN + 4 + ((f0 & GRE_S) ? 4 : 0) + ((f1 & GRE_A) ? 4 : 0);
    if (len < hlen) {
        LW_DCOUNT(c, gre_truncated);
        return LW_DR_IP;
    }
    LW_DCOUNT(c, gre);
    uint32_t plen = lw_rd16(d + 4); /* the key's high half is the payload length */
    if (plen == 0) return LW_DR_IP; /* acknowledgment only */
    if (plen > len - hlen) plen = len - hlen;
    LW_DCOUNT(c, pptp);
    return lw_dec_tunnel(c, LW_INNER_PPP, d + hlen, plen);
}

lw_dres lw_dec_gre(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < GRE_HDR_LEN) {
        LW_DCOUNT(c, gre_truncated);
        return LW_DR_IP;
    }
    uint8_t f0 = d[0], f1 = d[1];
    uint8_t version = f1 & GRE_VERSION;
    if (version == 1) return gre_v1(c, d, len);
    if (version != 0 || (f0 & (GRE_R | GRE_SSR | GRE_RECUR)) || (f1 & (GRE_A | GRE_FLAGS1))) {
        LW_DCOUNT(c, gre_unsupported);
        return LW_DR_IP;
    }
    uint32_t hlen =
        GRE_HDR_LEN + ((f0 & GRE_C) ? 4 : 0) + ((f0 & GRE_K) ? 4 : 0) + ((f0 & GRE_S) ? 4 : 0);
    if (len < hlen) {
        LW_DCOUNT(c, gre_truncated);
        return LW_DR_IP;
    }
    LW_DCOUNT(c, gre);
    return gre_v0(c, lw_rd16(d + 2), (f0 & GRE_S) != 0, d + hlen, len - hlen);
}
