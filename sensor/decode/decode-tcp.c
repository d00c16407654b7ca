/*
 * decode-tcp.c — the TCP header (RFC 9293): ports, sequence numbers, flags, window and the
 * data offset, which must cover at least the fixed header and stay inside the segment.
 */
#include "decode_internal.h"

#define TCP_MIN_HDR_LEN 20

lw_dres lw_dec_tcp(lw_dctx *c, const uint8_t *d, uint32_t present, uint32_t promised)
{
    if (present < TCP_MIN_HDR_LEN) return LW_DFAIL(c, tcp_truncated);
    uint32_t hlen = (d[12] >> 4) * 4u;
    if (hlen < TCP_MIN_HDR_LEN || hlen > promised) return LW_DFAIL(c, tcp_bad_offset);
    /* Options cut by the snaplen: the fixed header is enough for the flow (often a SYN). */
    if (hlen > present && !c->snap_cut) return LW_DFAIL(c, tcp_truncated);
    lw_packet *p = c->p;
    p->sport = lw_rd16(d);
    p->dport = lw_rd16(d + 2);
    p->seq = lw_rd32(d + 4);
    p->ack = lw_rd32(d + 8);
    p->tcp_flags = d[13];
    p->window = lw_rd16(d + 14);
    if (hlen > present)
        lw_dec_set_payload(c, d + present, 0, promised - present);
    else
        lw_dec_set_payload(c, d + hlen, present - hlen, promised - hlen);
    LW_DCOUNT(c, tcp);
    return LW_DR_IP;
}
