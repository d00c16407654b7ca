/*
 * codec_base64.c — the streaming base64 decoder of codec.h: RFC 4648 standard (+/) and
 * URL-safe (-_) alphabets at once, RFC 2045 line breaks and whitespace skipped, '=' padding
 * ending the content. Also instantiates the codec stage's counter names.
 */
#include "leakwatch/codec.h"

LW_COUNTER_NAMES(codec, CODEC, LW_CODEC_COUNTERS)

enum { B64_SKIP = 64, B64_PAD = 65, B64_BAD = 66 };

/* The 6-bit value of c, or one of B64_SKIP / B64_PAD / B64_BAD. */
static uint8_t b64_class(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') return (uint8_t)(c - 'A');
    if (c >= 'a' && c <= 'z') return (uint8_t)(c - 'a' + 26);
    if (c >= '0' && c <= '9') return (uint8_t)(c - '0' + 52);
    switch (c) {
    case '+':
    case '-':
        return 62;
    case '/':
    case '_':
        return 63;
    case '=':
        return B64_PAD;
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '\v':
    case '\f':
        return B64_SKIP;
    default:
        return B64_BAD;
    }
}

static void count(lw_codec_counters *ctr, enum lw_codec_counter which)
{
    if (ctr) ctr->c[which]++;
}

/* Leftover bits are a proper end (padded or not) only at 2 or 3 characters into a quantum
 * and when the bits left over are zero, as every encoder writes them. */
static bool leftover_is_partial(const lw_b64 *d)
{
    return d->nbits == 6 || (d->nbits != 0 && d->acc != 0);
}

static void b64_pad(lw_b64 *d, lw_codec_counters *ctr)
{
    if (d->nbits == 0)
        count(ctr, LW_CODEC_b64_invalid); /* padding where no quantum was open */
    else if (leftover_is_partial(d))
        count(ctr, LW_CODEC_b64_partial);
    d->done = true;
}

void lw_b64_init(lw_b64 *d)
{
    d->acc = 0;
    d->nbits = 0;
    d->done = false;
}

size_t lw_b64_decode(lw_b64 *d, const uint8_t *in, size_t len, uint8_t *out, lw_codec_counters *ctr)
{
    size_t n = 0;
    for (size_t i = 0; i < len && !d->done; i++) {
        uint8_t v = b64_class(in[i]);
        if (v < 64) {
            d->acc = (d->acc << 6) | v;
            d->nbits = (uint8_t)(d->nbits + 6);
            if (d->nbits >= 8) {
                d->nbits = (uint8_t)(d->nbits - 8);
                out[n++] = (uint8_t)(d->acc >> d->nbits);
                d->acc &= (1u << d->nbits) - 1;
            }
        } else if (v == B64_PAD) {
            b64_pad(d, ctr);
        } else if (v == B64_BAD) {
            count(ctr, LW_CODEC_b64_invalid);
        }
    }
    return n;
}

void lw_b64_finish(lw_b64 *d, lw_codec_counters *ctr)
{
    if (!d->done && leftover_is_partial(d)) count(ctr, LW_CODEC_b64_partial);
    d->acc = 0;
    d->nbits = 0;
}
