/*
 * codec_qp.c — the streaming quoted-printable decoder of codec.h (RFC 2045 §6.7): "=XX"
 * decoded (either hex case), soft line breaks "=" CRLF and "=" LF removed, any other '='
 * sequence kept as is and counted.
 */
#include "leakwatch/codec.h"

enum { QP_PLAIN = 0, QP_EQ = 1, QP_HEX1 = 2, QP_CR = 3 };

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static void count_invalid(lw_codec_counters *ctr)
{
    if (ctr) ctr->c[LW_CODEC_qp_invalid]++;
}

/* What a held '=' sequence stands for when it turns out not to be an escape; d->hi keeps the
 * first hex digit as it was written. */
static size_t qp_flush(lw_qp *d, uint8_t *out, lw_codec_counters *ctr)
{
    size_t n = 0;
    if (d->state == QP_PLAIN) return 0;
    out[n++] = '=';
    if (d->state == QP_HEX1) out[n++] = d->hi;
    if (d->state == QP_CR) out[n++] = '\r';
    count_invalid(ctr);
    d->state = QP_PLAIN;
    return n;
}

/* One input byte; returns the bytes written (at most 3). */
static size_t qp_step(lw_qp *d, uint8_t c, uint8_t *out, lw_codec_counters *ctr)
{
    switch (d->state) {
    case QP_EQ:
        if (hexval(c) >= 0) {
            d->hi = c;
            d->state = QP_HEX1;
            return 0;
        }
        if (c == '\r') {
            d->state = QP_CR;
            return 0;
        }
        if (c == '\n') {
            d->state = QP_PLAIN; /* soft line break */
            return 0;
        }
        break;
    case QP_HEX1:
        if (hexval(c) >= 0) {
            out[0] = (uint8_t)(hexval(d->hi) << 4 | hexval(c));
            d->state = QP_PLAIN;
            return 1;
        }
        break;
    case QP_CR:
        if (c == '\n') {
            d->state = QP_PLAIN; /* soft line break */
            return 0;
        }
        break;
    default:
        if (c == '=') {
            d->state = QP_EQ;
            return 0;
        }
        out[0] = c;
        return 1;
    }
    /* not an escape: the held bytes as they were, then c afresh */
    size_t n = qp_flush(d, out, ctr);
    return n + qp_step(d, c, out + n, ctr);
}

void lw_qp_init(lw_qp *d)
{
    d->state = QP_PLAIN;
    d->hi = 0;
}

size_t lw_qp_decode(lw_qp *d, const uint8_t *in, size_t len, uint8_t *out, lw_codec_counters *ctr)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += qp_step(d, in[i], out + n, ctr);
    return n;
}

size_t lw_qp_finish(lw_qp *d, uint8_t *out, lw_codec_counters *ctr)
{
    return qp_flush(d, out, ctr);
}
