/*
 * iban.c — International Bank Account Numbers (ISO 13616-1, ISO 7064 MOD 97-10).
 *
 * The table is the SWIFT IBAN Registry (release 102: 89 country codes; territories such as
 * AX, GF or JE use their parent's code and are not listed separately): each code's total
 * length and BBAN structure, written as the registry does without the '!' (n = digits,
 * a = upper-case letters, c = upper-case letters or digits). A candidate must match both,
 * carry check digits 02-98, and leave 1 modulo 97. Electronic form is upper case; the
 * paper form's single spaces between groups are accepted, nothing else.
 */
#include "leakwatch/validate.h"

#include <string.h>

#define IBAN_MAX 34

typedef struct iban_country {
    char cc[3];
    uint8_t len;
    const char *bban;
} iban_country;

static const iban_country registry[] = {
    {"AD", 24, "4n4n12c"},     {"AE", 23, "3n16n"},         {"AL", 28, "8n16c"},
    {"AT", 20, "5n11n"},       {"AZ", 28, "4a20c"},         {"BA", 20, "3n3n8n2n"},
    {"BE", 16, "3n7n2n"},      {"BG", 22, "4a4n2n8c"},      {"BH", 22, "4a14c"},
    {"BI", 27, "5n5n11n2n"},   {"BR", 29, "8n5n10n1a1c"},   {"BY", 28, "4c4n16c"},
    {"CH", 21, "5n12c"},       {"CR", 22, "4n14n"},         {"CY", 28, "3n5n16c"},
    {"CZ", 24, "4n6n10n"},     {"DE", 22, "8n10n"},         {"DJ", 27, "5n5n11n2n"},
    {"DK", 18, "4n9n1n"},      {"DO", 28, "4c20n"},         {"EE", 20, "2n2n11n1n"},
    {"EG", 29, "4n4n17n"},     {"ES", 24, "4n4n1n1n10n"},   {"FI", 18, "3n11n"},
    {"FK", 18, "2a12n"},       {"FO", 18, "4n9n1n"},        {"FR", 27, "5n5n11c2n"},
    {"GB", 22, "4a6n8n"},      {"GE", 22, "2a16n"},         {"GI", 23, "4a15c"},
    {"GL", 18, "4n9n1n"},      {"GR", 27, "3n4n16c"},       {"GT", 28, "4c20c"},
    {"HN", 28, "4a20n"},       {"HR", 21, "7n10n"},         {"HU", 28, "3n4n1n15n1n"},
    {"IE", 22, "4a6n8n"},      {"IL", 23, "3n3n13n"},       {"IQ", 23, "4a3n12n"},
    {"IS", 26, "4n2n6n10n"},   {"IT", 27, "1a5n5n12c"},     {"JO", 30, "4a4n18c"},
    {"KW", 30, "4a22c"},       {"KZ", 20, "3n13c"},         {"LB", 28, "4n20c"},
    {"LC", 32, "4a24c"},       {"LI", 21, "5n12c"},         {"LT", 20, "5n11n"},
    {"LU", 20, "3n13c"},       {"LV", 21, "4a13c"},         {"LY", 25, "3n3n15n"},
    {"MC", 27, "5n5n11c2n"},   {"MD", 24, "2c18c"},         {"ME", 22, "3n13n2n"},
    {"MK", 19, "3n10c2n"},     {"MN", 20, "4n12n"},         {"MR", 27, "5n5n11n2n"},
    {"MT", 31, "4a5n18c"},     {"MU", 30, "4a2n2n12n3n3a"}, {"NI", 28, "4a20n"},
    {"NL", 18, "4a10n"},       {"NO", 15, "4n6n1n"},        {"OM", 23, "3n16c"},
    {"PK", 24, "4a16c"},       {"PL", 28, "8n16n"},         {"PS", 29, "4a21c"},
    {"PT", 25, "4n4n11n2n"},   {"QA", 29, "4a21c"},         {"RO", 24, "4a16c"},
    {"RS", 22, "3n13n2n"},     {"RU", 33, "9n5n15c"},       {"SA", 24, "2n18c"},
    {"SC", 31, "4a2n2n16n3a"}, {"SD", 18, "2n12n"},         {"SE", 24, "3n16n1n"},
    {"SI", 19, "5n8n2n"},      {"SK", 24, "4n6n10n"},       {"SM", 27, "1a5n5n12c"},
    {"SO", 23, "4n3n12n"},     {"ST", 25, "4n4n11n2n"},     {"SV", 28, "4a20n"},
    {"TL", 23, "3n14n2n"},     {"TN", 24, "2n3n13n2n"},     {"TR", 26, "5n1n16c"},
    {"UA", 29, "6n19c"},       {"VA", 22, "3n15n"},         {"VG", 24, "4a16n"},
    {"XK", 20, "4n10n2n"},     {"YE", 30, "4a4n18c"},
};

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}
static bool is_upper(uint8_t c)
{
    return c >= 'A' && c <= 'Z';
}

static const iban_country *find_country(const uint8_t *cc)
{
    for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
        if (registry[i].cc[0] == cc[0] && registry[i].cc[1] == cc[1]) return &registry[i];
    return NULL;
}

/* Does the BBAN (bban, len) follow the registry structure fmt, e.g. "4a6n8n"? */
static bool bban_ok(const char *fmt, const uint8_t *bban, size_t len)
{
    size_t pos = 0;
    while (*fmt) {
        size_t count = 0;
        while (*fmt >= '0' && *fmt <= '9') count = count * 10 + (size_t)(*fmt++ - '0');
        char kind = *fmt++;
        if (count > len - pos) return false;
        for (size_t i = 0; i < count; i++, pos++) {
            uint8_t c = bban[pos];
            bool ok = kind == 'n'   ? is_digit(c)
                      : kind == 'a' ? is_upper(c)
                                    : is_digit(c) || is_upper(c);
            if (!ok) return false;
        }
    }
    return pos == len;
}

/* ISO 7064 MOD 97-10 over BBAN + country + check digits, letters as 10..35. */
static unsigned mod97(const uint8_t *iban, size_t len)
{
    unsigned r = 0;
    for (size_t k = 0; k < len; k++) {
        uint8_t c = iban[(k + 4) % len];
        if (is_digit(c))
            r = (r * 10 + (unsigned)(c - '0')) % 97;
        else
            r = (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
    }
    return r;
}

bool lw_validate_iban(const uint8_t *s, size_t n)
{
    uint8_t buf[IBAN_MAX];
    size_t len = 0;
    if (s == NULL || n == 0 || s[0] == ' ' || s[n - 1] == ' ') return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == ' ') {
            if (s[i - 1] == ' ') return false; /* i > 0: s[0] is not a space */
            continue;
        }
        if (!is_digit(c) && !is_upper(c)) return false;
        if (len == IBAN_MAX) return false;
        buf[len++] = c;
    }
    if (len < 5 || !is_upper(buf[0]) || !is_upper(buf[1]) || !is_digit(buf[2]) || !is_digit(buf[3]))
        return false;
    const iban_country *country = find_country(buf);
    if (country == NULL || len != country->len) return false;
    unsigned check = (unsigned)(buf[2] - '0') * 10 + (unsigned)(buf[3] - '0');
    if (check < 2 || check > 98) return false;
    if (!bban_ok(country->bban, buf + 4, len - 4)) return false;
    return mod97(buf, len) == 1;
}
