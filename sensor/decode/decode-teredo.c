/*
 * decode-teredo.c — Teredo (RFC 4380, UDP 3544): IPv6 in UDP, optionally behind an
 * authentication indication (type 0x0001) and an origin indication (type 0x0000). Port 3544
 * alone proves little, so the inner IPv6 header must look right (version 6, payload length
 * matching the UDP payload) before the tunnel is entered.
 */
#include "decode_internal.h"

#define TEREDO_AUTH_TYPE 0x0001
#define TEREDO_AUTH_FIXED_LEN 13 /* type, id-len, au-len, nonce (8), confirmation (1) */
#define TEREDO_ORIGIN_TYPE 0x0000
#define TEREDO_ORIGIN_LEN 8
#define IPV6_HDR_LEN 40

lw_dres lw_dec_teredo(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    uint32_t off = 0;
    if (len >= 4 && lw_rd16(d) == TEREDO_AUTH_TYPE) {
        off = TEREDO_AUTH_FIXED_LEN + d[2] + d[3];
        if (off > len) goto not_teredo;
    }
    if (len - off >= 2 && lw_rd16(d + off) == TEREDO_ORIGIN_TYPE) {
        if (len - off < TEREDO_ORIGIN_LEN) goto not_teredo;
        off += TEREDO_ORIGIN_LEN;
    }
    const uint8_t *ip6 = d + off;
    uint32_t rest = len - off;
    if (rest < IPV6_HDR_LEN || (ip6[0] >> 4) != 6) goto not_teredo;
    uint32_t total = IPV6_HDR_LEN + lw_rd16(ip6 + 4);
    if (total != rest && !(c->snap_cut && total > rest)) goto not_teredo;
    LW_DCOUNT(c, teredo);
    return lw_dec_tunnel(c, LW_INNER_IPV6, ip6, rest);
not_teredo:
    LW_DCOUNT(c, teredo_bad_inner);
    return LW_DR_IP;
}
