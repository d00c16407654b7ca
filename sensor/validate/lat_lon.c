/*
 * lat_lon.c — a latitude/longitude pair: the first two numbers in the candidate.
 *
 * Decimal degrees ("35.6812,139.7671", "35.6812, 139.7671", {"lat":35.6812,"lng":139.7671}):
 * each number needs at least 4 decimals, |lat| <= 90, |lon| <= 180, and not both zero.
 * When the last key named before the first number is the longitude (lon/lng/longitude) and
 * the last one between the two numbers the latitude, the pair is taken in that order.
 *
 * NMEA 0183 ("4807.0380,N,01131.0000,E"): when a hemisphere letter follows the first
 * number, the pair must be ddmm.m+,N|S,dddmm.m+,E|W with unsigned numbers, minutes < 60,
 * degrees <= 90 / 180 (and no minutes past 90 / 180), and not both zero.
 *
 * Integer parts saturate and decimals are only counted, so no length of digits overflows.
 */
#include "leakwatch/validate.h"

#define MIN_DECIMALS 4
#define IP_HUGE 100000000u /* any integer part from here on is out of range anyway */

typedef struct lw_num {
    size_t start, end; /* [start, end): the number as written, sign included */
    bool sign;         /* a '+' or '-' was written */
    unsigned ip;       /* integer part, saturating at IP_HUGE */
    size_t ip_digits;  /* digits before the point */
    size_t decimals;   /* digits after the point */
    bool frac_zero;    /* every decimal is 0 (or there are none) */
} lw_num;

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* The next number at or after *pos; false when there is none. */
static bool next_number(const uint8_t *s, size_t n, size_t *pos, lw_num *out)
{
    size_t i = *pos;
    while (i < n && !is_digit(s[i]) &&
           !((s[i] == '-' || s[i] == '+') && i + 1 < n && is_digit(s[i + 1])))
        i++;
    if (i >= n) return false;
    *out = (lw_num){.start = i, .frac_zero = true};
    if (s[i] == '-' || s[i] == '+') {
        out->sign = true;
        i++;
    }
    for (; i < n && is_digit(s[i]); i++, out->ip_digits++)
        if (out->ip < IP_HUGE) out->ip = out->ip * 10 + (unsigned)(s[i] - '0');
    if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
        for (i++; i < n && is_digit(s[i]); i++, out->decimals++)
            if (s[i] != '0') out->frac_zero = false;
    }
    out->end = i;
    *pos = i;
    return true;
}

/* |v| <= max degrees (decimal). */
static bool within(const lw_num *v, unsigned max)
{
    return v->ip < max || (v->ip == max && v->frac_zero);
}

static bool is_zero(const lw_num *v)
{
    return v->ip == 0 && v->frac_zero;
}

static bool word_at(const uint8_t *s, size_t i, const char *word)
{
    for (size_t k = 0; k < 3; k++)
        if ((s[i + k] | 0x20) != (uint8_t)word[k]) return false;
    return true;
}

/* The last coordinate key named in s[from, to): 'a' (lat...), 'o' (lon..., lng) or 0. */
static char last_key(const uint8_t *s, size_t from, size_t to)
{
    for (size_t i = to; i >= from + 3; i--) {
        if (word_at(s, i - 3, "lat")) return 'a';
        if (word_at(s, i - 3, "lon") || word_at(s, i - 3, "lng")) return 'o';
    }
    return 0;
}

/* The hemisphere letter after a number: ",X" then the end, a ',' or a non-letter. */
static uint8_t hemisphere(const uint8_t *s, size_t n, size_t end)
{
    if (end + 1 >= n || s[end] != ',') return 0;
    uint8_t h = s[end + 1];
    if (h != 'N' && h != 'S' && h != 'E' && h != 'W') return 0;
    if (end + 2 < n) {
        uint8_t c = s[end + 2];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c)) return 0;
    }
    return h;
}

/* ddmm.mmmm (deg_digits = 2) or dddmm.mmmm (3): degrees <= max, minutes < 60. */
static bool nmea_ok(const lw_num *v, size_t deg_digits, unsigned max)
{
    if (v->sign || v->ip_digits != deg_digits + 2 || v->decimals == 0) return false;
    unsigned deg = v->ip / 100, min = v->ip % 100;
    if (min >= 60 || deg > max) return false;
    return deg < max || (min == 0 && v->frac_zero);
}

static bool nmea_pair(const uint8_t *s, size_t n, const lw_num *lat, uint8_t lat_h)
{
    if (lat_h != 'N' && lat_h != 'S') return false;
    size_t pos = lat->end + 2;
    if (pos >= n || s[pos] != ',') return false;
    pos++;
    lw_num lon;
    if (pos >= n || !is_digit(s[pos]) || !next_number(s, n, &pos, &lon)) return false;
    uint8_t lon_h = hemisphere(s, n, lon.end);
    if (lon_h != 'E' && lon_h != 'W') return false;
    if (!nmea_ok(lat, 2, 90) || !nmea_ok(&lon, 3, 180)) return false;
    return !(is_zero(lat) && is_zero(&lon));
}

bool lw_validate_lat_lon(const uint8_t *s, size_t n)
{
    lw_num a, b;
    size_t pos = 0;
    if (s == NULL || n == 0 || !next_number(s, n, &pos, &a)) return false;
    uint8_t h = hemisphere(s, n, a.end);
    if (h) return nmea_pair(s, n, &a, h);
    if (!next_number(s, n, &pos, &b)) return false;
    if (a.decimals < MIN_DECIMALS || b.decimals < MIN_DECIMALS) return false;
    const lw_num *lat = &a, *lon = &b;
    if (last_key(s, 0, a.start) == 'o' && last_key(s, a.end, b.start) == 'a') {
        lat = &b;
        lon = &a;
    }
    if (!within(lat, 90) || !within(lon, 180)) return false;
    return !(is_zero(lat) && is_zero(lon));
}
