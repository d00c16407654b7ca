/*
 * luhn.c — payment card numbers: 12-19 digits passing the Luhn (ISO/IEC 7812-1 annex B) check.
 *
 * A single space or dash may stand between two digits ("4111 1111 1111 1111",
 * "4111-1111-1111-1111"); anything else, including a leading or trailing separator or two
 * in a row, rejects the candidate.
 */
#include "leakwatch/validate.h"

#include <stdint.h>

#include "validate/digits.h"

#define LUHN_MIN 12
#define LUHN_MAX 19

bool lw_validate_luhn(const uint8_t *s, size_t n)
{
    uint8_t d[LUHN_MAX];
    size_t nd = lw_grouped_digits(s, n, d, LUHN_MAX);
    if (nd == SIZE_MAX) return false;
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
