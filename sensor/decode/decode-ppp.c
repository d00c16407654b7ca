/*
 * decode-ppp.c — PPP in its framings: DLT_PPP (9) and PPP-in-HDLC (50), with the address and
 * control bytes and the protocol field possibly compressed (RFC 1661/1662); Cisco HDLC (104,
 * also seen on link type 50); PPPoE session frames (ethertype 0x8864, DLT 51).
 */
#include "decode_internal.h"

#define PPP_ADDRESS 0xff
#define PPP_CONTROL 0x03
#define CHDLC_UNICAST 0x0f
#define CHDLC_BROADCAST 0x8f
#define PPPOE_HDR_LEN 6

lw_dres lw_dec_ppp_proto(lw_dctx *c, uint16_t proto, const uint8_t *d, uint32_t len)
{
    switch (proto) {
    case 0x0021:
        return lw_dec_ipv4(c, d, len);
    case 0x0057:
        return lw_dec_ipv6(c, d, len);
    case 0x0281: /* MPLS unicast */
    case 0x0283: /* MPLS multicast */
        return lw_dec_mpls(c, d, len);
    case 0x00fb: /* compressed datagram, per link */
    case 0x00fd: /* compressed datagram */
    case 0x0053: /* encrypted datagram */
    case 0x0055: /* encrypted datagram, per link */
        return lw_dec_non_ip(c, LW_DECODE_non_ip_ppp_compressed);
    default:
        /* 0x8000-0xbfff network control (IPCP...), 0xc000-0xffff link control (LCP, auth). */
        if (proto >= 0x8000) return lw_dec_non_ip(c, LW_DECODE_non_ip_ppp_control);
        return lw_dec_non_ip(c, LW_DECODE_non_ip_other);
    }
}

lw_dres lw_dec_ppp(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < 2) return LW_DFAIL(c, ppp_truncated);
    /* 0x0f / 0x8f are never the first byte of a PPP frame: Cisco HDLC framing instead. */
    if ((d[0] == CHDLC_UNICAST || d[0] == CHDLC_BROADCAST) && d[1] == 0x00)
        return lw_dec_chdlc(c, d, len);
    LW_DCOUNT(c, ppp);
    if (d[0] == PPP_ADDRESS && d[1] == PPP_CONTROL) {
        d += 2;
        len -= 2;
    }
    if (len < 1) return LW_DFAIL(c, ppp_truncated);
    /* A compressed protocol field is one byte: its low bit is set (RFC 1661 §6.5). */
    if (d[0] & 1) return lw_dec_ppp_proto(c, d[0], d + 1, len - 1);
    if (len < 2) return LW_DFAIL(c, ppp_truncated);
    return lw_dec_ppp_proto(c, lw_rd16(d), d + 2, len - 2);
}

lw_dres lw_dec_chdlc(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < 4) return LW_DFAIL(c, chdlc_truncated);
    LW_DCOUNT(c, chdlc);
    return lw_dec_ethertype(c, lw_rd16(d + 2), d + 4, len - 4);
}

lw_dres lw_dec_pppoe_session(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < PPPOE_HDR_LEN) return LW_DFAIL(c, pppoe_truncated);
    if (d[0] != 0x11 || d[1] != 0x00) return LW_DFAIL(c, pppoe_bad_header);
    /* The length is only checked, not used to trim: some access concentrators set it short
     * (as tshark, Suricata and Zeek, the IP total length decides where the packet ends). */
    uint32_t plen = lw_rd16(d + 4);
    uint32_t avail = len - PPPOE_HDR_LEN;
    if (plen > avail && !c->snap_cut) return LW_DFAIL(c, pppoe_bad_length);
    plen = avail;
    LW_DCOUNT(c, pppoe);
    d += PPPOE_HDR_LEN;
    if (plen < 1) return LW_DFAIL(c, pppoe_truncated);
    if (d[0] & 1) return lw_dec_ppp_proto(c, d[0], d + 1, plen - 1);
    if (plen < 2) return LW_DFAIL(c, pppoe_truncated);
    return lw_dec_ppp_proto(c, lw_rd16(d), d + 2, plen - 2);
}
