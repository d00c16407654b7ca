/*
 * decode-ipv4.c — IPv4 (RFC 791): version, header length and options, total length (the
 * datagram is trimmed to it, dropping link-layer padding), fragments handed to defrag.
 */
#include <string.h>

#include "decode_internal.h"

#define IPV4_MIN_HDR_LEN 20
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define IPOPT_EOL 0
#define IPOPT_NOP 1

/* Options only need to be walkable; a bad list is counted, the packet is still decoded
 * (end hosts differ on what they accept, and the payload is what matters here). */
static bool options_ok(const uint8_t *o, uint32_t len)
{
    uint32_t i = 0;
    while (i < len) {
        if (o[i] == IPOPT_EOL) return true;
        if (o[i] == IPOPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2 || o[i + 1] < 2 || o[i + 1] > len - i) return false;
        i += o[i + 1];
    }
    return true;
}

static lw_dres fragment(lw_dctx *c, const uint8_t *d, uint32_t present, uint32_t total)
{
    LW_DCOUNT(c, ipv4_fragments);
    if (present < total) {
        LW_DCOUNT(c, frag_truncated);
        return LW_DR_CONSUMED;
    }
    const uint8_t *out;
    uint32_t out_len;
    int r = lw_defrag_ipv4(c->dec->defrag, c->now_usec, c->frag_ctx, d, total, &out, &out_len);
    if (r > 0) return lw_dec_reassembled(c, 4, out, out_len);
    if (r < 0) LW_DCOUNT(c, frag_dropped);
    return LW_DR_CONSUMED;
}

lw_dres lw_dec_ipv4(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < IPV4_MIN_HDR_LEN) return LW_DFAIL(c, ipv4_truncated);
    if ((d[0] >> 4) != 4) return LW_DFAIL(c, ipv4_bad_version);
    uint32_t hlen = (d[0] & 0x0fu) * 4u;
    if (hlen < IPV4_MIN_HDR_LEN) return LW_DFAIL(c, ipv4_bad_ihl);
    if (hlen > len) return c->snap_cut ? LW_DFAIL(c, ipv4_truncated) : LW_DFAIL(c, ipv4_bad_ihl);
    uint32_t total = lw_rd16(d + 2);
    if (total < hlen) return LW_DFAIL(c, ipv4_bad_total_length);
    uint32_t present = len;
    if (total < len)
        present = total;
    else if (total > len && !c->snap_cut) {
        /* The frame holds less than the header says although the capture did not cut it
         * (capture tools that misreport the wire length do this). Outside tunnels the bytes
         * present are still inspected, as if the capture had cut them (counted). */
        if (c->p->tunnel_depth) return LW_DFAIL(c, ipv4_bad_total_length);
        LW_DCOUNT(c, ipv4_bad_total_length);
        c->snap_cut = true;
    }
    LW_DCOUNT(c, ipv4);
    if (hlen > IPV4_MIN_HDR_LEN && !options_ok(d + IPV4_MIN_HDR_LEN, hlen - IPV4_MIN_HDR_LEN))
        LW_DCOUNT(c, ipv4_bad_options);

    uint16_t frag = lw_rd16(d + 6);
    if (frag & (IPV4_MF | IPV4_OFFSET_MASK)) return fragment(c, d, present, total);

    lw_dec_ip_layer_begin(c, 4, d, present);
    memcpy(c->p->src.b, d + 12, 4);
    memcpy(c->p->dst.b, d + 16, 4);
    return lw_dec_l4(c, d[9], d + hlen, present - hlen, total - hlen);
}
