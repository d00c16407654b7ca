/*
 * decode-ip.c — what IPv4 and IPv6 share: starting a new (possibly inner) IP layer in the
 * packet, decoding a datagram defrag rebuilt, and dispatching the IP payload by protocol.
 */
#include <string.h>

#include "decode_internal.h"

lw_dres lw_dec_ip(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len >= 1 && (d[0] >> 4) == 6) return lw_dec_ipv6(c, d, len);
    return lw_dec_ipv4(c, d, len);
}

/* An inner IP layer replaces everything an outer one wrote (VLAN tags and depth stay). */
void lw_dec_ip_layer_begin(lw_dctx *c, int version, const uint8_t *l3, uint32_t l3_len)
{
    lw_packet *p = c->p;
    p->ip_version = (uint8_t)version;
    p->l3 = l3;
    p->l3_len = l3_len;
    memset(&p->src, 0, sizeof(p->src));
    memset(&p->dst, 0, sizeof(p->dst));
    p->proto = 0;
    p->sport = p->dport = 0;
    p->seq = p->ack = 0;
    p->window = 0;
    p->tcp_flags = 0;
    p->payload = NULL;
    p->payload_len = 0;
    p->payload_truncated = false;
}

/* defrag's buffer lives until its next call, and a tunnel inside this datagram may hold
 * fragments too, so the datagram is copied into one of the decoder's own buffers. */
lw_dres lw_dec_reassembled(lw_dctx *c, int version, const uint8_t *dgram, uint32_t len)
{
    LW_DCOUNT(c, reassembled);
    if (c->reasm_used >= LW_DEC_REASM_BUFS) {
        LW_DCOUNT(c, frag_nested_too_deep);
        return LW_DR_CONSUMED;
    }
    if (len > LW_DEC_REASM_MAX) {
        LW_DCOUNT(c, reassembled_too_big);
        return LW_DR_CONSUMED;
    }
    uint8_t *buf = c->dec->reasm_buf[c->reasm_used++];
    memcpy(buf, dgram, len);
    c->p->reassembled = true;
    bool cut = c->snap_cut;
    c->snap_cut = false; /* a rebuilt datagram is complete */
    lw_dres r = version == 4 ? lw_dec_ipv4(c, buf, len) : lw_dec_ipv6(c, buf, len);
    c->snap_cut = cut;
    return r;
}

void lw_dec_set_payload(lw_dctx *c, const uint8_t *d, uint32_t present, uint32_t promised)
{
    c->p->payload = d;
    c->p->payload_len = present;
    c->p->payload_truncated = present < promised;
}

lw_dres lw_dec_l4(lw_dctx *c, uint8_t proto, const uint8_t *d, uint32_t present, uint32_t promised)
{
    c->p->proto = proto;
    switch (proto) {
    case 6:
        return lw_dec_tcp(c, d, present, promised);
    case 17:
        return lw_dec_udp(c, d, present, promised);
    case 1:
        return lw_dec_icmp(c, false, d, present, promised);
    case 58:
        return lw_dec_icmp(c, true, d, present, promised);
    case 132:
        return lw_dec_sctp(c, d, present, promised);
    default:
        break;
    }
    /* No ports. Tunnels below start from this packet and fall back to it. */
    LW_DCOUNT(c, other_l4);
    lw_dec_set_payload(c, d, present, promised);
    switch (proto) {
    case 47:
        return lw_dec_gre(c, d, present);
    case 4:
    case 41:
        return lw_dec_ipip(c, proto, d, present);
    default:
        return LW_DR_IP;
    }
}
