/*
 * digits.c — grouped digit strings for the Luhn and My Number validators (see digits.h).
 */
#include "validate/digits.h"

static int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

size_t lw_grouped_digits(const uint8_t *s, size_t n, uint8_t *d, size_t max)
{
    size_t nd = 0;
    if (s == NULL || n == 0) return SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (is_digit(c)) {
            if (nd == max) return SIZE_MAX;
            d[nd++] = (uint8_t)(c - '0');
        } else if (c == ' ' || c == '-') {
            /* only between two digits */
            if (i == 0 || i + 1 == n || !is_digit(s[i - 1]) || !is_digit(s[i + 1])) return SIZE_MAX;
        } else {
            return SIZE_MAX;
        }
    }
    return nd;
}
