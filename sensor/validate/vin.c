/*
 * vin.c — Vehicle Identification Numbers (ISO 3779) and the 49 CFR 565.15 check digit.
 *
 * Every VIN: 17 characters of [A-HJ-NPR-Z0-9] (I, O, Q never appear), the first not '0'
 * (ISO 3780 puts '0' in the South America block, but no country code under it has been
 * allocated), and the last four numeric (ISO 3779 VIS).
 *
 * North America (WMI first character 1-5, 49 CFR 565) additionally requires the check digit
 * at position 9 and a model-year code at position 10 ([A-HJ-NPR-TV-Y1-9]: no U, Z or 0).
 * Elsewhere ISO 3779 makes neither mandatory: European makers (Fiat ZFA..., VW WVWZZZ...)
 * put other characters at positions 9 and 10, e.g. ZFA22500000138627 with '0' at position
 * 10, so those rules are not applied outside North America.
 */
#include "leakwatch/validate.h"

/* Transliteration of 49 CFR 565.15(c) for A..Z; -1 for I, O and Q, which never appear. */
static const int8_t letter_value[26] = {1, 2,  3, 4,  5, 6, 7, 8, -1, 1, 2, 3, 4,
                                        5, -1, 7, -1, 9, 2, 3, 4, 5,  6, 7, 8, 9};

/* A character's value, -1 when it cannot appear in a VIN. */
static int vin_value(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'Z') return letter_value[c - 'A'];
    return -1;
}

static bool model_year_ok(uint8_t c)
{
    if (c >= '1' && c <= '9') return true;
    return c >= 'A' && c <= 'Y' && c != 'I' && c != 'O' && c != 'Q' && c != 'U';
}

char lw_vin_check_digit(const uint8_t *vin17)
{
    static const uint8_t weight[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
    if (vin17 == NULL) return 0;
    unsigned sum = 0;
    for (int i = 0; i < 17; i++) {
        if (i == 8) continue; /* the check digit itself */
        int v = vin_value(vin17[i]);
        if (v < 0) return 0;
        sum += (unsigned)v * weight[i];
    }
    unsigned r = sum % 11;
    return r == 10 ? 'X' : (char)('0' + r);
}

bool lw_validate_vin(const uint8_t *s, size_t n)
{
    if (s == NULL || n != 17) return false;
    for (size_t i = 0; i < 17; i++)
        if (vin_value(s[i]) < 0) return false;
    if (s[0] == '0') return false;
    for (size_t i = 13; i < 17; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    if (s[0] >= '1' && s[0] <= '5') {
        if (!model_year_ok(s[9])) return false;
        if (lw_vin_check_digit(s) != (char)s[8]) return false;
    }
    return true;
}
