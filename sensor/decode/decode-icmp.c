/*
 * decode-icmp.c — ICMP and ICMPv6: type and code go into sport/dport (as flow keys and
 * Community ID expect); the payload is what follows the 8-byte header (echo data etc.).
 */
#include "decode_internal.h"

#define ICMP_HDR_LEN 8

lw_dres lw_dec_icmp(lw_dctx *c, bool v6, const uint8_t *d, uint32_t present, uint32_t promised)
{
    if (present < ICMP_HDR_LEN)
        return v6 ? LW_DFAIL(c, icmpv6_truncated) : LW_DFAIL(c, icmp_truncated);
    c->p->sport = d[0];
    c->p->dport = d[1];
    lw_dec_set_payload(c, d + ICMP_HDR_LEN, present - ICMP_HDR_LEN, promised - ICMP_HDR_LEN);
    if (v6)
        LW_DCOUNT(c, icmpv6);
    else
        LW_DCOUNT(c, icmp);
    return LW_DR_IP;
}
