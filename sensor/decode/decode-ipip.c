/*
 * decode-ipip.c — IP in IP: protocol 4 (IPv4 inside, RFC 2003) and 41 (IPv6 inside, 6in4 and
 * IPv6-in-IPv6), under either IP version.
 */
#include "decode_internal.h"

lw_dres lw_dec_ipip(lw_dctx *c, uint8_t proto, const uint8_t *d, uint32_t len)
{
    LW_DCOUNT(c, ipip);
    return lw_dec_tunnel(c, proto == 4 ? LW_INNER_IPV4 : LW_INNER_IPV6, d, len);
}
