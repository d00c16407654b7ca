/*
 * decode-mpls.c — MPLS label stacks (RFC 3032). MPLS does not say what the payload is; like
 * Suricata, the first nibble after the bottom of stack decides: 4 IPv4, 6 IPv6, 0 a pseudowire
 * control word (RFC 4385) then Ethernet, anything else Ethernet without a control word.
 */
#include "decode_internal.h"

#define MPLS_LABEL_LEN 4
#define MPLS_BOTTOM_OF_STACK 0x100
#define MPLS_PW_CW_LEN 4

lw_dres lw_dec_mpls(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    uint32_t off = 0, labels = 0;
    for (;;) {
        if (len - off < MPLS_LABEL_LEN) return LW_DFAIL(c, mpls_truncated);
        uint32_t entry = lw_rd32(d + off);
        off += MPLS_LABEL_LEN;
        if (entry & MPLS_BOTTOM_OF_STACK) break;
        if (++labels >= LW_DEC_MAX_MPLS_LABELS) return LW_DFAIL(c, mpls_too_many_labels);
    }
    LW_DCOUNT(c, mpls);
    d += off;
    len -= off;
    if (len < 1) return LW_DFAIL(c, mpls_truncated);
    switch (d[0] >> 4) {
    case 4:
        return lw_dec_ipv4(c, d, len);
    case 6:
        return lw_dec_ipv6(c, d, len);
    case 0:
        if (len < MPLS_PW_CW_LEN) return LW_DFAIL(c, mpls_truncated);
        d += MPLS_PW_CW_LEN;
        len -= MPLS_PW_CW_LEN;
        break;
    default:
        break;
    }
    LW_DCOUNT(c, mpls_pw);
    return lw_dec_tunnel(c, LW_INNER_ETHERNET, d, len);
}
