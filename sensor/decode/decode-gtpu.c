/*
 * decode-gtpu.c — GTP-U (3GPP TS 29.281, UDP 2152): version 1 header, optional sequence
 * number / N-PDU / extension headers; a G-PDU (type 255) carries an IPv4 or IPv6 packet.
 * Other messages (echo, end marker, error indication) stay the UDP flow.
 */
#include "decode_internal.h"

#define GTPU_HDR_LEN 8
#define GTPU_OPT_LEN 4 /* sequence number, N-PDU number, next extension type */
#define GTPU_FLAG_PT 0x10
#define GTPU_FLAGS_OPT 0x07 /* E, S, PN */
#define GTPU_GPDU 255

lw_dres lw_dec_gtpu(lw_dctx *c, const uint8_t *d, uint32_t len)
{
    if (len < GTPU_HDR_LEN) {
        LW_DCOUNT(c, gtpu_truncated);
        return LW_DR_IP;
    }
    if ((d[0] >> 5) != 1 || !(d[0] & GTPU_FLAG_PT)) {
        LW_DCOUNT(c, gtpu_bad_header);
        return LW_DR_IP;
    }
    uint32_t msg_len = lw_rd16(d + 2); /* bytes after the mandatory 8 */
    if (msg_len > len - GTPU_HDR_LEN) {
        if (!c->snap_cut) {
            LW_DCOUNT(c, gtpu_bad_header);
            return LW_DR_IP;
        }
    } else {
        len = GTPU_HDR_LEN + msg_len;
    }
    if (d[1] != GTPU_GPDU) {
        LW_DCOUNT(c, gtpu_signalling);
        return LW_DR_IP;
    }
    uint32_t off = GTPU_HDR_LEN;
    if (d[0] & GTPU_FLAGS_OPT) {
        if (len < GTPU_HDR_LEN + GTPU_OPT_LEN) {
            LW_DCOUNT(c, gtpu_truncated);
            return LW_DR_IP;
        }
        uint8_t next = (d[0] & 0x04) ? d[GTPU_HDR_LEN + 3] : 0; /* only valid with E set */
        off += GTPU_OPT_LEN;
        for (int n = 0; next; n++) {
            /* Each extension: length in 4-byte units, content, next extension type last. */
            if (n >= LW_DEC_MAX_GTP_EXT || len - off < 1 || d[off] == 0) {
                LW_DCOUNT(c, gtpu_bad_header);
                return LW_DR_IP;
            }
            uint32_t elen = d[off] * 4u;
            if (len - off < elen) {
                LW_DCOUNT(c, gtpu_truncated);
                return LW_DR_IP;
            }
            next = d[off + elen - 1];
            off += elen;
        }
    }
    if (len - off < 1 || ((d[off] >> 4) != 4 && (d[off] >> 4) != 6)) {
        LW_DCOUNT(c, gtpu_bad_inner);
        return LW_DR_IP;
    }
    LW_DCOUNT(c, gtpu);
    return lw_dec_tunnel(c, LW_INNER_IP, d + off, len - off);
}
