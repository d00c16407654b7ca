/*
 * decode-ieee80211.c — 802.11 data frames (DLT 105) and the radiotap header in front of them
 * (DLT 127). Only unprotected data frames carry IP (after LLC/SNAP); everything else is
 * counted as non-IP. A trailing FCS, if any, is cut off by the IP total length.
 */
#include "decode_internal.h"

#define RADIOTAP_MIN_LEN 8
#define WIFI_HDR_LEN 24
#define WIFI_TYPE_DATA 2
#define WIFI_FC_TODS 0x01
#define WIFI_FC_FROMDS 0x02
#define WIFI_FC_PROTECTED 0x40
#define WIFI_FC_ORDER 0x80
#define WIFI_SUBTYPE_QOS 0x08
#define WIFI_SUBTYPE_NODATA 0x04
#define WIFI_QOS_AMSDU 0x80

lw_dres lw_dec_radiotap(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < RADIOTAP_MIN_LEN) return LW_DFAIL(c, radiotap_truncated);
    uint32_t rlen = (uint32_t)d[2] | (uint32_t)d[3] << 8; /* little-endian */
    if (d[0] != 0 || rlen < RADIOTAP_MIN_LEN || rlen > len) return LW_DFAIL(c, radiotap_truncated);
    return lw_dec_ieee80211(c, d + rlen, len - rlen);
}

lw_dres lw_dec_ieee80211(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < 2) return LW_DFAIL(c, wifi_truncated);
    uint8_t type = (d[0] >> 2) & 3, subtype = d[0] >> 4, flags = d[1];
    if (type != WIFI_TYPE_DATA || (subtype & WIFI_SUBTYPE_NODATA) || (flags & WIFI_FC_PROTECTED))
        return lw_dec_non_ip(c, LW_DECODE_non_ip_wifi);
    uint32_t hlen = WIFI_HDR_LEN;
    if ((flags & WIFI_FC_TODS) && (flags & WIFI_FC_FROMDS)) hlen += 6; /* fourth address */
    bool qos = subtype & WIFI_SUBTYPE_QOS;
    if (qos) hlen += 2;
    if (qos && (flags & WIFI_FC_ORDER)) hlen += 4; /* HT control */
    if (len < hlen) return LW_DFAIL(c, wifi_truncated);
    /* An A-MSDU aggregates several subframes: not decoded. */
    if (qos && (d[hlen - 2 - ((flags & WIFI_FC_ORDER) ? 4 : 0)] & WIFI_QOS_AMSDU))
        return lw_dec_non_ip(c, LW_DECODE_non_ip_wifi);
    LW_DCOUNT(c, wifi);
    return lw_dec_llc(c, d + hlen, len - hlen);
}
