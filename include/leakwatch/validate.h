/*
 * validate.h — the built-in validators (interface.md section 4) that a signature's candidate
 * must pass before it counts, and the precision helpers around them.
 *
 * Every validator reads exactly the candidate bytes (s, n): no NUL terminator is needed and
 * nothing outside the range is read. They are pure functions of their input, cheap (O(n)),
 * and never allocate, so the matcher can call them on the packet path.
 */
#ifndef LW_VALIDATE_H
#define LW_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum lw_validator_id {
    LW_VALIDATE_NONE = 0,
    LW_VALIDATE_VIN,
    LW_VALIDATE_LUHN,
    LW_VALIDATE_AWS_KEY_ID,
    LW_VALIDATE_GITHUB_TOKEN,
    LW_VALIDATE_IBAN,
    LW_VALIDATE_JP_MY_NUMBER,
    LW_VALIDATE_EMAIL,
    LW_VALIDATE_LAT_LON,
    LW_VALIDATE_EDM, /* edm:NAME — an Exact Data Match list lookup */
    LW_VALIDATE__COUNT
} lw_validator_id;

/* What a validator may add to the event besides yes/no. */
typedef struct lw_validate_extra {
    char aws_account[13]; /* aws_key_id: the 12-digit account, "" when the key does not say */
} lw_validate_extra;

/* "vin" -> LW_VALIDATE_VIN ...; "edm:NAME" -> LW_VALIDATE_EDM. LW_VALIDATE__COUNT when the
 * name is not a validator. */
lw_validator_id lw_validator_lookup(const char *name);
const char *lw_validator_name(lw_validator_id id); /* "vin", ..., "edm"; "none", "unknown" */

/* Runs validator id (not EDM: the matcher resolves lists) on the candidate; extra may be NULL. */
bool lw_validate(lw_validator_id id, const uint8_t *s, size_t n, lw_validate_extra *extra);

/* ISO 3779 VIN: 17 characters of [A-HJ-NPR-Z0-9] (upper case), the first not '0', the last
 * four numeric; where the WMI's region requires them (North America: first character 1-5,
 * 49 CFR 565) also a model-year character at position 10 ([A-HJ-NPR-TV-Y1-9]) and the check
 * digit at position 9. ISO 3779 makes neither mandatory elsewhere (Fiat writes '0' at 10). */
bool lw_validate_vin(const uint8_t *s, size_t n);
/* The ISO 3779 / 49 CFR 565 check digit character ('0'-'9' or 'X') of a 17-character VIN
 * (position 9 ignored); 0 if a character cannot appear in a VIN. */
char lw_vin_check_digit(const uint8_t *vin17);

/* Payment card number: 12-19 digits (a single space or dash between two digits ignored)
 * passing Luhn. */
bool lw_validate_luhn(const uint8_t *s, size_t n);

/* AWS access key id: 20 characters, a known prefix (AKIA, ASIA, ABIA, ACCA, AGPA, AIDA, AROA,
 * AIPA, ANPA, ANVA, APKA, ASCA, A3T[A-Z0-9]) and 16 base32 characters [A-Z2-7]. If the key
 * encodes its account (keys issued since 2019: 5th character in [Q-Z2-7]),
 * extra->aws_account receives its 12 digits; otherwise (e.g. legacy 'I'/'J' keys) "". */
bool lw_validate_aws_key_id(const uint8_t *s, size_t n, lw_validate_extra *extra);

/* GitHub tokens: classic ghp_/gho_/ghu_/ghs_/ghr_ + 30 base62 characters + the 6-character
 * checksum (CRC32 of the 30 characters, not the prefix, in base62 0-9A-Za-z, left-padded
 * with '0'); fine-grained github_pat_ + 22 + '_' + 59 [A-Za-z0-9] (structure only). */
bool lw_validate_github_token(const uint8_t *s, size_t n);

/* IBAN: a SWIFT-registered country code with its registered length and BBAN structure,
 * check digits 02-98, ISO 13616 mod-97 == 1; upper case; single spaces between groups of
 * characters are ignored. */
bool lw_validate_iban(const uint8_t *s, size_t n);

/* Japanese Individual Number (My Number): 12 digits (a single space or dash between two
 * digits ignored), the last one the check digit of the first eleven. */
bool lw_validate_jp_my_number(const uint8_t *s, size_t n);

/* E-mail address: local@domain with RFC 5321 lengths (local <= 64, total <= 254, labels
 * <= 63), a dot-atom local part, at least two domain labels of letters/digits/hyphens (no
 * leading or trailing hyphen) and an alphabetic TLD of 2-24 letters. ASCII only. */
bool lw_validate_email(const uint8_t *s, size_t n);

/* A latitude/longitude pair (leakwatch addition): the first two numbers in the value (in
 * key order when a JSON-style value names lon/lng before lat).
 * Decimal degrees need >= 4 decimals each, |lat| <= 90, |lon| <= 180, and not both zero.
 * NMEA-style "ddmm.mmmm,N,dddmm.mmmm,E" (hemisphere letters after each number) needs
 * minutes < 60, degrees <= 90 / 180. */
bool lw_validate_lat_lon(const uint8_t *s, size_t n);

/* Shannon entropy of the bytes, in bits per byte (0 for n == 0). */
double lw_shannon_entropy(const uint8_t *s, size_t n);

#endif
