/*
 * codec_percent.c — the streaming percent-decoder of codec.h (RFC 3986 "%XX", and '+' as a
 * space for application/x-www-form-urlencoded and query strings); a '%' not followed by two
 * hex digits is kept as is and counted.
 */
#include "leakwatch/codec.h"

enum { PCT_PLAIN = 0, PCT_PCT = 1, PCT_HEX1 = 2 };

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* A held "%" or "%X" that is not an escape, written as it was (d->hi keeps the digit). */
static size_t pct_flush(lw_pct *d, uint8_t *out, lw_codec_counters *ctr)
{
    size_t n = 0;
    if (d->state == PCT_PLAIN) return 0;
    out[n++] = '%';
    if (d->state == PCT_HEX1) out[n++] = d->hi;
    if (ctr) ctr->c[LW_CODEC_pct_invalid]++;
    d->state = PCT_PLAIN;
    return n;
}

/* One input byte; returns the bytes written (at most 3). */
static size_t pct_step(lw_pct *d, uint8_t c, uint8_t *out, lw_codec_counters *ctr)
{
    if (d->state == PCT_PCT && hexval(c) >= 0) {
        d->hi = c;
        d->state = PCT_HEX1;
        return 0;
    }
    if (d->state == PCT_HEX1 && hexval(c) >= 0) {
        out[0] = (uint8_t)(hexval(d->hi) << 4 | hexval(c));
        d->state = PCT_PLAIN;
        d->changed = true;
        return 1;
    }
    size_t n = pct_flush(d, out, ctr);
    if (c == '%') {
        d->state = PCT_PCT;
    } else if (c == '+' && d->plus_space) {
        out[n++] = ' ';
        d->changed = true;
    } else {
        out[n++] = c;
    }
    return n;
}

void lw_pct_init(lw_pct *d, bool plus_space)
{
    d->state = PCT_PLAIN;
    d->hi = 0;
    d->plus_space = plus_space;
    d->changed = false;
}

size_t lw_pct_decode(lw_pct *d, const uint8_t *in, size_t len, uint8_t *out, lw_codec_counters *ctr)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += pct_step(d, in[i], out + n, ctr);
    return n;
}

size_t lw_pct_finish(lw_pct *d, uint8_t *out, lw_codec_counters *ctr)
{
    return pct_flush(d, out, ctr);
}
