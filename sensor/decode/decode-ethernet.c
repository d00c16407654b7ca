/*
 * decode-ethernet.c — Ethernet II / 802.3 frames, 802.2 LLC with SNAP, and the ethertype
 * dispatch every link layer that names its payload by ethertype shares (SLL, C-HDLC, VLAN...).
 */
#include "decode_internal.h"

#define ETH_HDR_LEN 14
#define ETH_MAX_8023_LEN 1500 /* type field values up to this are an 802.3 length */
#define ETH_MIN_ETHERTYPE 0x0600

lw_dres lw_dec_ethernet(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < ETH_HDR_LEN) return LW_DFAIL(c, ethernet_truncated);
    uint16_t type = lw_rd16(d + 12);
    return lw_dec_ethertype(c, type, d + ETH_HDR_LEN, len - ETH_HDR_LEN);
}

/* 802.2 LLC: only SNAP with an ethertype can carry IP. */
lw_dres lw_dec_llc(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < 3) return LW_DFAIL(c, llc_truncated);
    if (d[0] != 0xaa || d[1] != 0xaa || d[2] != 0x03) return lw_dec_non_ip(c, LW_DECODE_non_ip_llc);
    if (len < 8) return LW_DFAIL(c, llc_truncated);
    /* OUI 00-00-00 (RFC 1042) and 00-00-f8 (802.1H) both encapsulate an ethertype. */
    if (d[3] != 0 || d[4] != 0 || (d[5] != 0 && d[5] != 0xf8))
        return lw_dec_non_ip(c, LW_DECODE_non_ip_llc);
    uint16_t type = lw_rd16(d + 6);
    if (type < ETH_MIN_ETHERTYPE) return lw_dec_non_ip(c, LW_DECODE_non_ip_llc);
    return lw_dec_ethertype(c, type, d + 8, len - 8);
}

lw_dres lw_dec_ethertype(lw_dctx *c, uint16_t type, const uint8_t *d, uint32_t len)
{
    /* LLC/SNAP and VLAN can nest each other; each step eats bytes, but bound the recursion. */
    if (++c->layers > LW_DEC_MAX_LAYERS) return LW_DFAIL(c, layers_too_deep);
    if (type <= ETH_MAX_8023_LEN) return lw_dec_llc(c, d, len < type ? len : type);
    if (lw_dec_is_vlan_tpid(type)) return lw_dec_vlan(c, d, len);
    switch (type) {
    case 0x0800:
        return lw_dec_ipv4(c, d, len);
    case 0x86dd:
        return lw_dec_ipv6(c, d, len);
    case 0x8847: /* MPLS unicast */
    case 0x8848: /* MPLS multicast */
        return lw_dec_mpls(c, d, len);
    case 0x8864:
        return lw_dec_pppoe_session(c, d, len);
    case 0x8863:
        return lw_dec_non_ip(c, LW_DECODE_non_ip_pppoe_discovery);
    case 0x0806: /* ARP */
    case 0x8035: /* RARP; SLARP in Cisco HDLC */
        return lw_dec_non_ip(c, LW_DECODE_non_ip_arp);
    case 0x88cc:
        return lw_dec_non_ip(c, LW_DECODE_non_ip_lldp);
    case 0x8809:
        return lw_dec_non_ip(c, LW_DECODE_non_ip_slow);
    case 0x888e:
        return lw_dec_non_ip(c, LW_DECODE_non_ip_eapol);
    default:
        return lw_dec_non_ip(c, LW_DECODE_non_ip_other);
    }
}
