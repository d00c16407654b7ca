/*
 * decode-raw.c — raw IP link types: DLT_RAW (12, 14 on OpenBSD), LINKTYPE_RAW (101), where the
 * version nibble says IPv4 or IPv6, and DLT_IPV4 (228) / DLT_IPV6 (229), which promise one.
 */
#include "decode_internal.h"

lw_dres lw_dec_raw(lw_dctx *c, const uint8_t *d, uint32_t len, int version)
{
    if (len < 1) return LW_DFAIL(c, ipv4_truncated);
    int nibble = d[0] >> 4;
    if (version && nibble != version) return LW_DFAIL(c, raw_bad_version);
    if (nibble == 4) return lw_dec_ipv4(c, d, len);
    if (nibble == 6) return lw_dec_ipv6(c, d, len);
    return LW_DFAIL(c, raw_bad_version);
}
