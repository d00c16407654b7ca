/*
 * jp_my_number.c — Japan's Individual Number (マイナンバー): 11 digits and a check digit.
 *
 * The check digit is fixed by the Ministerial Ordinance under the My Number Act (Article 5):
 * with P(n) the n-th of the first eleven digits counted from the right (n = 1 next to the
 * check digit) and Q(n) = n + 1 for 1 <= n <= 6, n - 5 for 7 <= n <= 11,
 * r = sum(P(n) * Q(n)) mod 11 and the check digit is 0 when r <= 1, else 11 - r.
 * A single space or dash may stand between two digits ("1234-5678-9018").
 */
#include "leakwatch/validate.h"

#include <stdint.h>

#include "validate/digits.h"

#define MY_NUMBER_LEN 12

bool lw_validate_jp_my_number(const uint8_t *s, size_t n)
{
    uint8_t d[MY_NUMBER_LEN];
    size_t nd = lw_grouped_digits(s, n, d, MY_NUMBER_LEN);
    if (nd == SIZE_MAX) return false;
    if (nd != MY_NUMBER_LEN) return false;
    unsigned sum = 0;
    for (unsigned k = 1; k <= 11; k++) {
        unsigned p = d[11 - k];
        unsigned q = k <= 6 ? k + 1 : k - 5;
        sum += p * q;
    }
    unsigned r = sum % 11;
    unsigned check = r <= 1 ? 0 : 11 - r;
    return d[11] == check;
}
