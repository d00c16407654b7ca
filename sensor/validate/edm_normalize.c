/*
 * edm_normalize.c — the Exact Data Match normalizers and keyed hash (see edm.h). The list
 * builder and the sensor both go through these functions, so a value typed "  Foo@Example.COM"
 * into the customer table and "foo@example.com" on the wire reach the same hash.
 *
 * Whitespace is ASCII whitespace plus U+00A0 (no-break space) and U+3000 (ideographic space),
 * which spreadsheets and Japanese forms put around values. The digits normalizer also reads
 * full-width digits (U+FF10..U+FF19) as their ASCII forms.
 */
#include <string.h>

#include "leakwatch/edm.h"

lw_edm_norm lw_edm_norm_lookup(const char *name)
{
    if (!name) return 0;
    if (strcmp(name, "email") == 0) return LW_EDM_NORM_EMAIL;
    if (strcmp(name, "digits") == 0) return LW_EDM_NORM_DIGITS;
    if (strcmp(name, "text") == 0) return LW_EDM_NORM_TEXT;
    return 0;
}

const char *lw_edm_norm_name(lw_edm_norm n)
{
    switch (n) {
    case LW_EDM_NORM_EMAIL:
        return "email";
    case LW_EDM_NORM_DIGITS:
        return "digits";
    case LW_EDM_NORM_TEXT:
        return "text";
    }
    return "unknown";
}

/* Length of the whitespace character at s[i..len), 0 if there is none. */
static size_t space_at(const uint8_t *s, size_t i, size_t len)
{
    uint8_t b = s[i];
    if (b == ' ' || (b >= '\t' && b <= '\r')) return 1;
    if (b == 0xC2 && i + 1 < len && s[i + 1] == 0xA0) return 2;
    if (b == 0xE3 && i + 2 < len && s[i + 1] == 0x80 && s[i + 2] == 0x80) return 3;
    return 0;
}

/* s[*a..*b) without leading and trailing whitespace. */
static void trim(const uint8_t *s, size_t len, size_t *a, size_t *b)
{
    size_t i = 0, end = len, k;
    while (i < end && (k = space_at(s, i, end)) > 0) i += k;
    /* trailing: step back over the longest whitespace character that ends at `end` */
    for (;;) {
        if (end > i && space_at(s, end - 1, end) == 1) {
            end -= 1;
        } else if (end >= i + 2 && space_at(s, end - 2, end) == 2) {
            end -= 2;
        } else if (end >= i + 3 && space_at(s, end - 3, end) == 3) {
            end -= 3;
        } else {
            break;
        }
    }
    *a = i;
    *b = end;
}

size_t lw_edm_normalize(lw_edm_norm n, const uint8_t *s, size_t len, uint8_t *out, size_t outcap)
{
    size_t o = 0, a, b;
    switch (n) {
    case LW_EDM_NORM_EMAIL:
        trim(s, len, &a, &b);
        if (b - a > outcap) return 0;
        for (size_t i = a; i < b; i++)
            out[o++] = (s[i] >= 'A' && s[i] <= 'Z') ? (uint8_t)(s[i] + 32) : s[i];
        return o;
    case LW_EDM_NORM_DIGITS:
        for (size_t i = 0; i < len; i++) {
            uint8_t d = 0;
            if (s[i] >= '0' && s[i] <= '9') {
                d = s[i];
            } else if (s[i] == 0xEF && i + 2 < len && s[i + 1] == 0xBC && s[i + 2] >= 0x90 &&
                       s[i + 2] <= 0x99) {
                d = (uint8_t)('0' + (s[i + 2] - 0x90));
                i += 2;
            }
            if (!d) continue;
            if (o == outcap) return 0;
            out[o++] = d;
        }
        return o;
    case LW_EDM_NORM_TEXT:
        trim(s, len, &a, &b);
        for (size_t i = a; i < b;) {
            size_t k = space_at(s, i, b);
            if (k) {
                while (i < b && (k = space_at(s, i, b)) > 0) i += k;
                if (o == outcap) return 0;
                out[o++] = ' ';
                continue;
            }
            if (o == outcap) return 0;
            out[o++] = s[i++];
        }
        return o;
    }
    return 0;
}

static uint64_t first_8_le(const uint8_t h[32])
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | h[i];
    return v;
}

uint64_t lw_edm_hash(const lw_fp_key *key, const uint8_t *norm, size_t len)
{
    uint8_t h[32];
    lw_fingerprint(key, norm, len, h);
    return first_8_le(h);
}

uint64_t lw_edm_key_check(const lw_fp_key *key)
{
    static const char label[] = "leakwatch-edm key check";
    return lw_edm_hash(key, (const uint8_t *)label, sizeof(label) - 1);
}
