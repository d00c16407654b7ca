/*
 * decode-ipv6.c — IPv6 (RFC 8200): the base header, then the extension header chain
 * (hop-by-hop, routing, destination options, AH, mobility) up to the upper-layer protocol,
 * with a cap on its length. A Fragment header sends the datagram to defrag; ESP (50) and
 * No Next Header (59) end the walk.
 */
#include <string.h>

#include "decode_internal.h"

#define IPV6_HDR_LEN 40
#define IPV6_NH_OFFSET 6 /* offset of Next Header in the base header */
#define IPV6_FRAG_HDR_LEN 8

enum {
    NH_HOPOPTS = 0,
    NH_ROUTING = 43,
    NH_FRAGMENT = 44,
    NH_AH = 51,
    NH_DSTOPTS = 60,
    NH_MOBILITY = 135,
};

static lw_dres fragment(lw_dctx *c, const uint8_t *d, uint32_t present, uint32_t total,
                        uint32_t frag_off, uint32_t nh_off)
{
    LW_DCOUNT(c, ipv6_fragments);
    if (present < total) {
        LW_DCOUNT(c, frag_truncated);
        return LW_DR_CONSUMED;
    }
    const uint8_t *out;
    uint32_t out_len;
    int r = lw_defrag_ipv6(c->dec->defrag, c->now_usec, c->frag_ctx, d, total, frag_off, nh_off,
                           &out, &out_len);
    if (r > 0) return lw_dec_reassembled(c, 6, out, out_len);
    if (r < 0) LW_DCOUNT(c, frag_dropped);
    return LW_DR_CONSUMED;
}

lw_dres lw_dec_ipv6(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < IPV6_HDR_LEN) return LW_DFAIL(c, ipv6_truncated);
    if ((d[0] >> 4) != 6) return LW_DFAIL(c, ipv6_bad_version);
    uint32_t plen = lw_rd16(d + 4);
    uint8_t nh = d[IPV6_NH_OFFSET];
    /* Payload length 0 with hop-by-hop options is a jumbogram (RFC 2675). */
    if (plen == 0 && nh == NH_HOPOPTS) return LW_DFAIL(c, ipv6_jumbo_unsupported);
    uint32_t total = IPV6_HDR_LEN + plen;
    uint32_t present = len;
    if (total < len)
        present = total;
    else if (total > len && !c->snap_cut) {
        /* The frame holds less than the header says although the capture did not cut it
         * (capture tools that misreport the wire length do this). Outside tunnels the bytes
         * present are still inspected, as if the capture had cut them (counted). */
        if (c->p->tunnel_depth) return LW_DFAIL(c, ipv6_bad_payload_length);
        LW_DCOUNT(c, ipv6_bad_payload_length);
        c->snap_cut = true;
    }
    LW_DCOUNT(c, ipv6);

    uint32_t off = IPV6_HDR_LEN, nh_off = IPV6_NH_OFFSET, n = 0;
    for (;;) {
        uint32_t elen;
        switch (nh) {
        case NH_HOPOPTS:
        case NH_ROUTING:
        case NH_DSTOPTS:
        case NH_MOBILITY:
        case NH_AH:
            if (present - off < 2) return LW_DFAIL(c, ipv6_ext_truncated);
            if (nh == NH_HOPOPTS && off != IPV6_HDR_LEN) LW_DCOUNT(c, ipv6_hbh_not_first);
            elen = nh == NH_AH ? (d[off + 1] + 2u) * 4u : (d[off + 1] + 1u) * 8u;
            break;
        case NH_FRAGMENT:
            if (present - off < IPV6_FRAG_HDR_LEN) return LW_DFAIL(c, ipv6_ext_truncated);
            return fragment(c, d, present, total, off, nh_off);
        default:
            goto upper_layer;
        }
        if (present - off < elen) return LW_DFAIL(c, ipv6_ext_truncated);
        if (++n > LW_DEC_MAX_IPV6_EXT) return LW_DFAIL(c, ipv6_ext_chain_too_long);
        nh = d[off];
        nh_off = off;
        off += elen;
    }
upper_layer:
    lw_dec_ip_layer_begin(c, 6, d, present);
    memcpy(c->p->src.b, d + 8, 16);
    memcpy(c->p->dst.b, d + 24, 16);
    return lw_dec_l4(c, nh, d + off, present - off, total - off);
}
