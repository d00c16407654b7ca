/*
 * luhn.c — payment card numbers: 12-19 digits passing the Luhn (ISO/IEC 7812-1 annex B) check.
 *
 * A single space or dash may stand between two digits ("4111 1111 1111 1111",
 * "4111-1111-1111-1111"); anything else, including a leading or trailing separator or two
 * in a row, rejects the candidate.
 */
#include "leakwatch/validate.h"

#define LUHN_MIN 12
#define LUHN_MAX 19

bool lw_validate_luhn(const uint8_t *s, size_t n)
{
    uint8_t d[LUHN_MAX];
    size_t nd = 0;
    if (s == NULL || n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= '0' && c <= '9') {
            if (nd == LUHN_MAX) return false;
            d[nd++] = (uint8_t)(c - '0');
        } else if (c == ' ' || c == '-') {
            /* only between two digits */
            if (i == 0 || i + 1 == n) return false;
            if (s[i - 1] < '0' || s[i - 1] > '9' || s[i + 1] < '0' || s[i + 1] > '9') return false;
        } else {
            return false;
        }
    }
    if (nd < LUHN_MIN) return false;
    unsigned sum = 0;
    for (size_t k = 0; k < nd; k++) {
        unsigned v = d[nd - 1 - k];
        if (k & 1) {
            v *= 2;
            if (v > 9) v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}
