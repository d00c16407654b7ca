/*
 * codec_json.c — the streaming JSON string unescaper of codec.h (RFC 8259 §7): inside strings
 * \" \\ \/ \b \f \n \r \t are undone and \uXXXX becomes UTF-8, a surrogate pair one code
 * point, a lone surrogate U+FFFD (counted as invalid). Bad escapes are kept as is and counted;
 * text outside strings passes through unchanged.
 */
#include "leakwatch/codec.h"

/* d->state; in J_HEX d->cp holds the hex digits seen so far as written, one per byte. */
enum { J_PLAIN = 0, J_ESC, J_HEX, J_HI_ESC, J_HI_U };

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static void count_invalid(lw_codec_counters *ctr)
{
    if (ctr) ctr->c[LW_CODEC_json_invalid]++;
}

static size_t put_utf8(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* A pending high surrogate that no low surrogate followed: U+FFFD. */
static size_t lone_high(lw_json_unesc *d, uint8_t *out, lw_codec_counters *ctr)
{
    if (!d->hi_surrogate) return 0;
    d->hi_surrogate = 0;
    d->changed = true;
    count_invalid(ctr);
    return put_utf8(0xFFFD, out);
}

/* The "\u" and hex digits of an unfinished \uXXXX, written as they were. */
static size_t hex_as_is(lw_json_unesc *d, uint8_t *out)
{
    size_t n = 0;
    out[n++] = '\\';
    out[n++] = 'u';
    for (unsigned i = d->nhex; i > 0; i--) out[n++] = (uint8_t)(d->cp >> (8 * (i - 1)));
    d->nhex = 0;
    d->cp = 0;
    return n;
}

static uint32_t hex_value(uint32_t digits)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 4 | (uint32_t)hexval((uint8_t)(digits >> (8 * i)));
    return v;
}

/* A complete \uXXXX escape of value v. */
static size_t code_unit(lw_json_unesc *d, uint32_t v, uint8_t *out, lw_codec_counters *ctr)
{
    size_t n = 0;
    d->state = J_PLAIN;
    d->changed = true;
    if (d->hi_surrogate && v >= 0xDC00 && v <= 0xDFFF) {
        uint32_t cp = 0x10000 + ((d->hi_surrogate - 0xD800) << 10) + (v - 0xDC00);
        d->hi_surrogate = 0;
        return put_utf8(cp, out);
    }
    n += lone_high(d, out, ctr);
    if (v >= 0xD800 && v <= 0xDBFF) {
        d->hi_surrogate = v;
        d->state = J_HI_ESC;
        return n;
    }
    if (v >= 0xDC00 && v <= 0xDFFF) {
        count_invalid(ctr);
        v = 0xFFFD;
    }
    return n + put_utf8(v, out + n);
}

static int simple_escape(uint8_t c)
{
    switch (c) {
    case '"':
    case '\\':
    case '/':
        return c;
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return -1;
    }
}

static size_t step(lw_json_unesc *d, uint8_t c, uint8_t *out, lw_codec_counters *ctr);

/* The byte after a backslash. */
static size_t after_backslash(lw_json_unesc *d, uint8_t c, uint8_t *out, lw_codec_counters *ctr)
{
    int e = simple_escape(c);
    d->state = J_PLAIN;
    if (e >= 0) {
        out[0] = (uint8_t)e;
        d->changed = true;
        return 1;
    }
    if (c == 'u') {
        d->state = J_HEX;
        d->nhex = 0;
        d->cp = 0;
        return 0;
    }
    count_invalid(ctr); /* not an escape: kept as is */
    out[0] = '\\';
    return 1 + step(d, c, out + 1, ctr);
}

static size_t hex_digit(lw_json_unesc *d, uint8_t c, uint8_t *out, lw_codec_counters *ctr)
{
    if (hexval(c) < 0) {
        size_t n = lone_high(d, out, ctr);
        count_invalid(ctr);
        n += hex_as_is(d, out + n);
        d->state = J_PLAIN;
        return n + step(d, c, out + n, ctr);
    }
    d->cp = d->cp << 8 | c;
    if (++d->nhex < 4) return 0;
    uint32_t v = hex_value(d->cp);
    d->nhex = 0;
    d->cp = 0;
    return code_unit(d, v, out, ctr);
}

/* One input byte; returns the bytes written (at most 9). */
static size_t step(lw_json_unesc *d, uint8_t c, uint8_t *out, lw_codec_counters *ctr)
{
    size_t n;
    switch (d->state) {
    case J_ESC:
        return after_backslash(d, c, out, ctr);
    case J_HEX:
        return hex_digit(d, c, out, ctr);
    case J_HI_ESC:
        if (c == '\\') {
            d->state = J_HI_U;
            return 0;
        }
        n = lone_high(d, out, ctr);
        d->state = J_PLAIN;
        return n + step(d, c, out + n, ctr);
    case J_HI_U:
        if (c == 'u') {
            d->state = J_HEX;
            d->nhex = 0;
            d->cp = 0;
            return 0;
        }
        n = lone_high(d, out, ctr);
        return n + after_backslash(d, c, out + n, ctr);
    default:
        if (d->in_string && c == '\\') {
            d->state = J_ESC;
            return 0;
        }
        if (c == '"') d->in_string = !d->in_string;
        out[0] = c;
        return 1;
    }
}

void lw_json_unesc_init(lw_json_unesc *d)
{
    d->state = J_PLAIN;
    d->in_string = false;
    d->changed = false;
    d->nhex = 0;
    d->cp = 0;
    d->hi_surrogate = 0;
}

size_t lw_json_unesc_decode(lw_json_unesc *d, const uint8_t *in, size_t len, uint8_t *out,
                            lw_codec_counters *ctr)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += step(d, in[i], out + n, ctr);
    return n;
}

size_t lw_json_unesc_finish(lw_json_unesc *d, uint8_t *out, lw_codec_counters *ctr)
{
    size_t n = 0;
    switch (d->state) {
    case J_ESC:
        count_invalid(ctr);
        out[n++] = '\\';
        break;
    case J_HEX:
        n += lone_high(d, out, ctr);
        count_invalid(ctr);
        n += hex_as_is(d, out + n);
        break;
    case J_HI_ESC:
        n += lone_high(d, out, ctr);
        break;
    case J_HI_U:
        n += lone_high(d, out, ctr);
        count_invalid(ctr);
        out[n++] = '\\';
        break;
    default:
        break;
    }
    d->state = J_PLAIN;
    d->hi_surrogate = 0;
    return n;
}
