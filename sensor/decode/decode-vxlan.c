/*
 * decode-vxlan.c — VXLAN (RFC 7348, UDP 4789): an 8-byte header whose I flag says the VNI is
 * valid, then an Ethernet frame.
 */
#include "decode_internal.h"

#define VXLAN_HDR_LEN 8
#define VXLAN_FLAG_I 0x08

lw_dres lw_dec_vxlan(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < VXLAN_HDR_LEN) {
        LW_DCOUNT(c, vxlan_truncated);
        return LW_DR_IP;
    }
    if (!(d[0] & VXLAN_FLAG_I)) {
        LW_DCOUNT(c, vxlan_bad_flags);
        return LW_DR_IP;
    }
    LW_DCOUNT(c, vxlan);
    return lw_dec_tunnel(c, LW_INNER_ETHERNET, d + VXLAN_HDR_LEN, len - VXLAN_HDR_LEN);
}
