/*
 * aws_key.c — AWS access key ids (and the other IAM unique ids sharing their format):
 * a 4-character type prefix and 16 characters of RFC 4648 base32 [A-Z2-7].
 *
 * Keys issued since about 2019 carry the account: base32-decode the 16 characters after the
 * prefix, take the first 48 bits big-endian, mask 0x7fffffffff80 and shift right by 7
 * (Aidan Steele, "AWS Access Key ID formats", 2020, reverse-engineered against
 * sts:GetAccessKeyInfo; Tal Be'ery's note; the same code in pacu and localstack). Those keys
 * have the top bit set, i.e. a 5th character in [Q-Z2-7]. Older keys (5th character 'I' or
 * 'J', such as AWS's AKIAIOSFODNN7EXAMPLE) do not encode it, so any 5th character below 'Q'
 * leaves the account "". So does a decoded value above 999999999999, which no account has.
 */
#include "leakwatch/validate.h"

#include <string.h>

#define AWS_KEY_LEN 20

static int b32(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

static bool prefix_ok(const uint8_t *s)
{
    static const char prefixes[][5] = {"AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA",
                                       "AROA", "AIPA", "ANPA", "ANVA", "APKA", "ASCA"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (memcmp(s, prefixes[i], 4) == 0) return true;
    /* A3T + one of [A-Z0-9] (the form secret scanners use for this family) */
    return memcmp(s, "A3T", 3) == 0 &&
           ((s[3] >= 'A' && s[3] <= 'Z') || (s[3] >= '0' && s[3] <= '9'));
}

static void decode_account(const uint8_t *s, char out[13])
{
    out[0] = '\0';
    if (b32(s[4]) < 16) return; /* legacy key (I/J...): no account inside */
    uint64_t v = 0;
    for (int i = 4; i < 14; i++) v = (v << 5) | (uint64_t)b32(s[i]); /* 50 bits */
    uint64_t acct = ((v >> 2) & 0x7fffffffff80ull) >> 7;             /* first 48 bits */
    if (acct > 999999999999ull) return;
    for (int i = 11; i >= 0; i--) {
        out[i] = (char)('0' + acct % 10);
        acct /= 10;
    }
    out[12] = '\0';
}

bool lw_validate_aws_key_id(const uint8_t *s, size_t n, lw_validate_extra *extra)
{
    if (extra) extra->aws_account[0] = '\0';
    if (s == NULL || n != AWS_KEY_LEN || !prefix_ok(s)) return false;
    for (size_t i = 4; i < AWS_KEY_LEN; i++)
        if (b32(s[i]) < 0) return false;
    if (extra) decode_account(s, extra->aws_account);
    return true;
}
