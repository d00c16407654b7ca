/*
 * decode-geneve.c — Geneve (RFC 8926, UDP 6081): an 8-byte header plus options (length in
 * 4-byte words), then the payload named by an ethertype: Ethernet (0x6558), IPv4 or IPv6.
 */
#include "decode_internal.h"

#define GENEVE_HDR_LEN 8

lw_dres lw_dec_geneve(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < GENEVE_HDR_LEN) {
        LW_DCOUNT(c, geneve_truncated);
        return LW_DR_IP;
    }
    if ((d[0] >> 6) != 0) {
        LW_DCOUNT(c, geneve_bad_version);
        return LW_DR_IP;
    }
    uint32_t hlen = GENEVE_HDR_LEN + (d[0] & 0x3fu) * 4u;
    if (len < hlen) {
        LW_DCOUNT(c, geneve_truncated);
        return LW_DR_IP;
    }
    lw_inner inner;
    switch (lw_rd16(d + 2)) {
    case 0x6558:
        inner = LW_INNER_ETHERNET;
        break;
    case 0x0800:
        inner = LW_INNER_IPV4;
        break;
    case 0x86dd:
        inner = LW_INNER_IPV6;
        break;
    default:
        LW_DCOUNT(c, geneve_unsupported_proto);
        return LW_DR_IP;
    }
    LW_DCOUNT(c, geneve);
    return lw_dec_tunnel(c, inner, d + hlen, len - hlen);
}
