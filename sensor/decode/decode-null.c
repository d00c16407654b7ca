/*
 * decode-null.c — BSD loopback: DLT_NULL (4-byte address family in the capturing host's byte
 * order, so both orders are tried) and DLT_LOOP (the same in network byte order).
 */
#include "decode_internal.h"

/* AF_INET6 differs per BSD: NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30 (Linux 10 for good measure).
 */
static int family_version(uint32_t af)
{
    switch (af) {
    case 2:
        return 4;
    case 10:
    case 24:
    case 28:
    case 30:
        return 6;
    default:
        return 0;
    }
}

lw_dres lw_dec_null(lw_dctx *c, const uint8_t *d, uint32_t len, bool loop)
{
    if (len < 4) return LW_DFAIL(c, null_truncated);
    uint32_t af = lw_rd32(d);
    /* A family is small: a value with its high half set was written little-endian. */
    if (!loop && (af & 0xffff0000u))
        af = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
    switch (family_version(af)) {
    case 4:
        return lw_dec_ipv4(c, d + 4, len - 4);
    case 6:
        return lw_dec_ipv6(c, d + 4, len - 4);
    default:
        return lw_dec_non_ip(c, LW_DECODE_non_ip_other);
    }
}
