/*
 * decode-sctp.c — the SCTP common header (RFC 9260): ports; the chunks are the payload.
 */
#include "decode_internal.h"

#define SCTP_HDR_LEN 12

lw_dres lw_dec_sctp(lw_dctx *c, const uint8_t *d, uint32_t present, uint32_t promised)
{
    if (present < SCTP_HDR_LEN) return LW_DFAIL(c, sctp_truncated);
    c->p->sport = lw_rd16(d);
    c->p->dport = lw_rd16(d + 2);
    lw_dec_set_payload(c, d + SCTP_HDR_LEN, present - SCTP_HDR_LEN, promised - SCTP_HDR_LEN);
    LW_DCOUNT(c, sctp);
    return LW_DR_IP;
}
