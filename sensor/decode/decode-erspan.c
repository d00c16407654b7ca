/*
 * decode-erspan.c — ERSPAN headers (draft-foschiano-erspan) behind GRE. Type II (version 1,
 * 8 bytes) then the mirrored Ethernet frame; its VLAN field becomes a tag of the packet, as
 * in Suricata, unless the frame kept its own tag (En = 3). Type III (version 2, 12 bytes,
 * plus an 8-byte platform subheader when O is set) carries Ethernet (FT 0) or IP (FT 2).
 * Type I has no header and is handled by GRE.
 */
#include "decode_internal.h"

#define ERSPAN2_HDR_LEN 8
#define ERSPAN3_HDR_LEN 12
#define ERSPAN3_PLATFORM_LEN 8
#define ERSPAN_EN_TAG_IN_FRAME 3
#define ERSPAN_FT_ETHERNET 0
#define ERSPAN_FT_IP 2

lw_dres lw_dec_erspan(lw_dctx *c, int type, const uint8_t *d, uint32_t len)
{
    if (type == 2) {
        if (len < ERSPAN2_HDR_LEN) return LW_DFAIL(c, erspan_truncated);
        if ((d[0] >> 4) != 1) return LW_DFAIL(c, erspan_bad_version);
        LW_DCOUNT(c, erspan);
        uint16_t vid = lw_rd16(d) & 0x0fff;
        uint8_t en = (d[2] >> 3) & 3;
        if (vid && en != ERSPAN_EN_TAG_IN_FRAME) lw_dec_push_vlan(c, vid);
        return lw_dec_ethernet(c, d + ERSPAN2_HDR_LEN, len - ERSPAN2_HDR_LEN);
    }
    if (len < ERSPAN3_HDR_LEN) return LW_DFAIL(c, erspan_truncated);
    if ((d[0] >> 4) != 2) return LW_DFAIL(c, erspan_bad_version);
    uint32_t hlen = ERSPAN3_HDR_LEN + ((d[11] & 1) ? ERSPAN3_PLATFORM_LEN : 0);
    if (len < hlen) return LW_DFAIL(c, erspan_truncated);
    uint8_t ft = (lw_rd16(d + 10) >> 10) & 0x1f;
    if (ft == ERSPAN_FT_ETHERNET) {
        LW_DCOUNT(c, erspan);
        return lw_dec_ethernet(c, d + hlen, len - hlen);
    }
    if (ft == ERSPAN_FT_IP) {
        LW_DCOUNT(c, erspan);
        return lw_dec_ip(c, d + hlen, len - hlen);
    }
    return LW_DFAIL(c, erspan_unsupported_frame);
}
