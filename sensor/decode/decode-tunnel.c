/*
 * decode-tunnel.c — entering a tunnel. The packet so far (the outer layer) is saved; if what
 * the tunnel carries does not decode, or the tunnel is nested too deep, the outer packet is
 * restored and becomes the flow, and a counter says so. Fragment contexts inside a tunnel
 * are keyed by the tunnel endpoints, so equal inner ids from different tunnels never mix.
 */
#include "decode_internal.h"

static lw_dres decode_inner(lw_dctx *c, lw_inner inner, const uint8_t *d, uint32_t len)
{
    switch (inner) {
    case LW_INNER_ETHERNET:
        return lw_dec_ethernet(c, d, len);
    case LW_INNER_IP:
        return lw_dec_ip(c, d, len);
    case LW_INNER_IPV4:
        return lw_dec_ipv4(c, d, len);
    case LW_INNER_IPV6:
        return lw_dec_ipv6(c, d, len);
    case LW_INNER_MPLS:
        return lw_dec_mpls(c, d, len);
    case LW_INNER_PPP:
        return lw_dec_ppp(c, d, len);
    case LW_INNER_ERSPAN2:
        return lw_dec_erspan(c, 2, d, len);
    case LW_INNER_ERSPAN3:
        return lw_dec_erspan(c, 3, d, len);
    }
    return LW_DR_MALFORMED;
}

static uint32_t endpoints_hash(const lw_packet *p, uint32_t h)
{
    for (int i = 0; i < 16; i += 4) {
        h = lw_dec_mix(h, lw_rd32(p->src.b + i));
        h = lw_dec_mix(h, lw_rd32(p->dst.b + i));
    }
    return h;
}

lw_dres lw_dec_tunnel(lw_dctx *c, lw_inner inner, const uint8_t *d, uint32_t len)
{
    lw_packet *p = c->p;
    /* Without an outer IP packet (an MPLS pseudowire on the wire) there is nothing to keep. */
    lw_dres fallback = p->ip_version ? LW_DR_IP : LW_DR_MALFORMED;
    if (p->tunnel_depth >= LW_DECODE_MAX_ENCAP) {
        LW_DCOUNT(c, encap_too_deep);
        return fallback;
    }
    lw_packet outer = *p;
    uint32_t outer_ctx = c->frag_ctx;
    uint8_t outer_layers = c->layers;
    c->frag_ctx = endpoints_hash(p, lw_dec_mix(c->frag_ctx, 0x7e000000u | (uint32_t)inner));
    p->tunnel_depth++;
    lw_dres r = decode_inner(c, inner, d, len);
    if (r == LW_DR_MALFORMED) {
        *p = outer;
        c->frag_ctx = outer_ctx;
        c->layers = outer_layers;
        LW_DCOUNT(c, tunnel_inner_invalid);
        return fallback;
    }
    return r;
}
