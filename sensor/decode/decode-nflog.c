/*
 * decode-nflog.c — Linux NFLOG (DLT 239): a 4-byte header (address family, version, resource
 * id) and TLVs; the packet is the NFULA_PAYLOAD TLV. TLV length and type are in host byte
 * order (libpcap rewrites them when a capture file comes from a host of the other order).
 */
#include <string.h>

#include "decode_internal.h"

#define NFLOG_HDR_LEN 4
#define NFLOG_TLV_HDR_LEN 4
#define NFULA_PAYLOAD 9
#define NFLOG_TYPE_MASK 0x3fff /* high bits are netlink attribute flags */

static uint16_t rd16_host(const uint8_t *b)
{
    uint16_t v;
    memcpy(&v, b, sizeof(v));
    return v;
}

lw_dres lw_dec_nflog(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < NFLOG_HDR_LEN) return LW_DFAIL(c, nflog_truncated);
    LW_DCOUNT(c, nflog);
    uint8_t family = d[0];
    uint32_t off = NFLOG_HDR_LEN;
    while (off < len) {
        if (len - off < NFLOG_TLV_HDR_LEN) return LW_DFAIL(c, nflog_truncated);
        uint32_t tlv_len = rd16_host(d + off);
        uint16_t type = rd16_host(d + off + 2) & NFLOG_TYPE_MASK;
        if (tlv_len < NFLOG_TLV_HDR_LEN) return LW_DFAIL(c, nflog_bad_tlv);
        if (tlv_len > len - off) {
            if (!c->snap_cut) return LW_DFAIL(c, nflog_bad_tlv);
            tlv_len = len - off;
        }
        if (type == NFULA_PAYLOAD) {
            const uint8_t *pkt = d + off + NFLOG_TLV_HDR_LEN;
            uint32_t plen = tlv_len - NFLOG_TLV_HDR_LEN;
            if (family == 2) return lw_dec_ipv4(c, pkt, plen);
            if (family == 10) return lw_dec_ipv6(c, pkt, plen);
            return lw_dec_ip(c, pkt, plen);
        }
        uint32_t step = (tlv_len + 3u) & ~3u; /* TLVs are padded to 4 bytes */
        if (step > len - off) break;
        off += step;
    }
    return lw_dec_non_ip(c, LW_DECODE_non_ip_nflog_no_payload);
}
