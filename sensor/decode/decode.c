/*
 * decode.c — the decoder object and the entry point: picks the link-layer decoder for the
 * frame's link type and turns the outcome of the walk into lw_decode's true/false.
 */
#include <stdlib.h>
#include <string.h>

#include "decode_internal.h"

LW_COUNTER_NAMES(decode, DECODE, LW_DECODE_COUNTERS)

/* Link types (LINKTYPE_* / DLT_* values as libpcap reports them). */
enum {
    LT_NULL = 0,
    LT_ETHERNET = 1,
    LT_PPP = 9,
    LT_RAW = 12,
    LT_RAW_OPENBSD = 14,
    LT_PPP_SERIAL = 50,
    LT_PPP_ETHER = 51,
    LT_LINKTYPE_RAW = 101,
    LT_C_HDLC = 104,
    LT_IEEE802_11 = 105,
    LT_LOOP = 108,
    LT_LINUX_SLL = 113,
    LT_RADIOTAP = 127,
    LT_IPV4 = 228,
    LT_IPV6 = 229,
    LT_NFLOG = 239,
    LT_LINUX_SLL2 = 276,
};

lw_decoder *lw_decoder_new(const lw_defrag_config *defrag_cfg)
{
    lw_decoder *d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    d->defrag = lw_defrag_new(defrag_cfg);
    if (!d->defrag) goto fail;
    for (int i = 0; i < LW_DEC_REASM_BUFS; i++) {
        d->reasm_buf[i] = malloc(LW_DEC_REASM_MAX);
        if (!d->reasm_buf[i]) goto fail;
    }
    return d;
fail:
    lw_decoder_free(d);
    return NULL;
}

void lw_decoder_free(lw_decoder *d)
{
    if (!d) return;
    if (d->defrag) lw_defrag_free(d->defrag);
    for (int i = 0; i < LW_DEC_REASM_BUFS; i++) free(d->reasm_buf[i]);
    free(d);
}

void lw_decoder_expire(lw_decoder *d, uint64_t now_usec)
{
    lw_defrag_expire(d->defrag, now_usec);
}

const lw_decode_counters *lw_decoder_counters(const lw_decoder *d)
{
    return &d->counters;
}

const lw_defrag_counters *lw_decoder_defrag_counters(const lw_decoder *d)
{
    return lw_defrag_get_counters(d->defrag);
}

uint64_t lw_decode_errors(const lw_decode_counters *c)
{
    uint64_t sum = 0;
    for (unsigned i = LW_DECODE__FIRST_ERROR; i < LW_DECODE__COUNT; i++) sum += c->c[i];
    return sum;
}

lw_dres lw_dec_non_ip(lw_dctx *c, int kind_counter)
{
    LW_DCOUNT(c, non_ip);
    c->dec->counters.c[kind_counter]++;
    return LW_DR_CONSUMED;
}

static lw_dres decode_link(lw_dctx *c, int linktype, const uint8_t *d, uint32_t len)
{
    switch (linktype) {
    case LT_ETHERNET:
        return lw_dec_ethernet(c, d, len);
    case LT_NULL:
        return lw_dec_null(c, d, len, false);
    case LT_LOOP:
        return lw_dec_null(c, d, len, true);
    case LT_RAW:
    case LT_RAW_OPENBSD:
    case LT_LINKTYPE_RAW:
        return lw_dec_raw(c, d, len, 0);
    case LT_IPV4:
        return lw_dec_raw(c, d, len, 4);
    case LT_IPV6:
        return lw_dec_raw(c, d, len, 6);
    case LT_PPP:
    case LT_PPP_SERIAL:
        return lw_dec_ppp(c, d, len);
    case LT_PPP_ETHER:
        return lw_dec_pppoe_session(c, d, len);
    case LT_C_HDLC:
        return lw_dec_chdlc(c, d, len);
    case LT_LINUX_SLL:
        return lw_dec_sll(c, d, len);
    case LT_LINUX_SLL2:
        return lw_dec_sll2(c, d, len);
    case LT_NFLOG:
        return lw_dec_nflog(c, d, len);
    case LT_IEEE802_11:
        return lw_dec_ieee80211(c, d, len);
    case LT_RADIOTAP:
        return lw_dec_radiotap(c, d, len);
    default:
        return LW_DFAIL(c, unsupported_linktype);
    }
}

bool lw_decode(lw_decoder *d, const lw_frame *f, lw_packet *p)
{
    memset(p, 0, sizeof(*p));
    p->ts_usec = f->ts_usec;
    p->wirelen = f->wirelen > f->caplen ? f->wirelen : f->caplen;
    p->file_idx = f->file_idx;
    p->pkt_num = f->pkt_num;

    lw_dctx c = {.dec = d, .p = p, .now_usec = f->ts_usec, .snap_cut = f->caplen < f->wirelen};
    LW_DCOUNT(&c, packets);
    d->counters.c[LW_DECODE_bytes] += p->wirelen;
    if (c.snap_cut) LW_DCOUNT(&c, frames_truncated);

    uint32_t caplen = f->data ? f->caplen : 0;
    if (decode_link(&c, f->linktype, f->data, caplen) != LW_DR_IP) {
        p->ip_version = 0;
        return false;
    }
    LW_DCOUNT(&c, ip_packets);
    if (p->payload_truncated) LW_DCOUNT(&c, payload_truncated);
    return true;
}
