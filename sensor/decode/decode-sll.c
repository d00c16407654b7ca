/*
 * decode-sll.c — Linux cooked captures ("any" interface): SLL (16-byte header, DLT 113) and
 * SLL2 (20-byte header, DLT 276). Both name the payload by ethertype, or by a small
 * Linux protocol number for non-Ethernet devices.
 */
#include "decode_internal.h"

#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define ARPHRD_IPGRE 778    /* GRE device: the protocol is the GRE protocol type */
#define ARPHRD_NETLINK 824  /* netlink monitor: never IP */
#define LINUX_SLL_P_802_2 4 /* 802.2 frame: LLC follows */

static lw_dres sll_payload(lw_dctx *c, uint16_t arphrd, uint16_t proto, const uint8_t *d,
                           uint32_t len)
{
    if (arphrd == ARPHRD_NETLINK) return lw_dec_non_ip(c, LW_DECODE_non_ip_other);
    if (arphrd == ARPHRD_IPGRE && proto == 0x6558) return lw_dec_ethernet(c, d, len);
    if (proto >= 0x0600) return lw_dec_ethertype(c, proto, d, len);
    if (proto == LINUX_SLL_P_802_2) return lw_dec_llc(c, d, len);
    return lw_dec_non_ip(c, LW_DECODE_non_ip_other);
}

lw_dres lw_dec_sll(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < SLL_HDR_LEN) return LW_DFAIL(c, sll_truncated);
    return sll_payload(c, lw_rd16(d + 2), lw_rd16(d + 14), d + SLL_HDR_LEN, len - SLL_HDR_LEN);
}

lw_dres lw_dec_sll2(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < SLL2_HDR_LEN) return LW_DFAIL(c, sll_truncated);
    return sll_payload(c, lw_rd16(d + 8), lw_rd16(d), d + SLL2_HDR_LEN, len - SLL2_HDR_LEN);
}
