/*
 * digits.h — reading a grouped number ("4111 1111-1111 1111") for the validators whose
 * values are digits with optional single separators (Luhn, My Number).
 */
#ifndef LW_VALIDATE_DIGITS_H
#define LW_VALIDATE_DIGITS_H

#include <stddef.h>
#include <stdint.h>

/* The digit values of s into d (at most max). A single space or dash may stand between two
 * digits; anything else (another byte, a leading, trailing or doubled separator, more than
 * max digits) gives SIZE_MAX. Returns the number of digits. */
size_t lw_grouped_digits(const uint8_t *s, size_t n, uint8_t *d, size_t max);

#endif
