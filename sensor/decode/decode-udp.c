/*
 * decode-udp.c — the UDP header (RFC 768): the length field must cover the header and fit
 * the IP payload; bytes past it are trimmed. Well-known tunnel ports are then tried
 * (VXLAN 4789, Geneve 6081, GTP-U 2152, Teredo 3544); each falls back to this packet.
 */
#include "decode_internal.h"

#define UDP_HDR_LEN 8
#define PORT_VXLAN 4789
#define PORT_GENEVE 6081
#define PORT_GTPU 2152
#define PORT_TEREDO 3544

lw_dres lw_dec_udp(lw_dctx *c, const uint8_t *d, uint32_t present, uint32_t promised)
{
    if (present < UDP_HDR_LEN) return LW_DFAIL(c, udp_truncated);
    uint32_t ulen = lw_rd16(d + 4);
    if (ulen < UDP_HDR_LEN || ulen > promised) return LW_DFAIL(c, udp_bad_length);
    if (ulen < promised) {
        LW_DCOUNT(c, udp_trailing_bytes);
        promised = ulen;
        if (present > ulen) present = ulen;
    }
    uint16_t sport = lw_rd16(d), dport = lw_rd16(d + 2);
    c->p->sport = sport;
    c->p->dport = dport;
    lw_dec_set_payload(c, d + UDP_HDR_LEN, present - UDP_HDR_LEN, promised - UDP_HDR_LEN);
    LW_DCOUNT(c, udp);

    const uint8_t *pl = d + UDP_HDR_LEN;
    uint32_t plen = present - UDP_HDR_LEN;
    if (dport == PORT_VXLAN) return lw_dec_vxlan(c, pl, plen);
    if (dport == PORT_GENEVE) return lw_dec_geneve(c, pl, plen);
    if (sport == PORT_GTPU || dport == PORT_GTPU) return lw_dec_gtpu(c, pl, plen);
    if (sport == PORT_TEREDO || dport == PORT_TEREDO) return lw_dec_teredo(c, pl, plen);
    return LW_DR_IP;
}
