/*
 * email.c — e-mail addresses as they appear in text: local@domain.
 *
 * Local part: an RFC 5322 dot-atom (atext runs joined by single dots), at most 64 octets
 * (RFC 5321 4.5.3.1.1); quoted local parts are not accepted. Domain: at least two labels of
 * letters, digits and hyphens, 1-63 octets, neither starting nor ending with a hyphen; the
 * last (the TLD) alphabetic, 2-24 letters. The whole address at most 254 octets (the
 * 256-octet RFC 5321 path minus its angle brackets). ASCII only.
 */
#include "leakwatch/validate.h"

#include <string.h>

#define EMAIL_MAX 254
#define LOCAL_MAX 64
#define LABEL_MAX 63
#define TLD_MIN 2
#define TLD_MAX 24

static bool is_alpha(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
static bool is_alnum(uint8_t c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

static bool is_atext(uint8_t c)
{
    return is_alnum(c) || (c != '\0' && c < 0x80 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool local_ok(const uint8_t *s, size_t n)
{
    if (n == 0 || n > LOCAL_MAX || s[0] == '.' || s[n - 1] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (s[i - 1] == '.') return false;
        } else if (!is_atext(s[i])) {
            return false;
        }
    }
    return true;
}

static bool domain_ok(const uint8_t *s, size_t n)
{
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!is_alnum(s[i]) && s[i] != '-') return false;
            continue;
        }
        size_t len = i - start; /* a label ends at a dot or the end */
        if (len == 0 || len > LABEL_MAX) return false;
        if (s[start] == '-' || s[i - 1] == '-') return false;
        labels++;
        if (i == n) { /* the TLD */
            if (len < TLD_MIN || len > TLD_MAX) return false;
            for (size_t k = start; k < n; k++)
                if (!is_alpha(s[k])) return false;
        }
        start = i + 1;
    }
    return labels >= 2;
}

bool lw_validate_email(const uint8_t *s, size_t n)
{
    if (s == NULL || n < 3 || n > EMAIL_MAX) return false;
    const uint8_t *at = memchr(s, '@', n);
    if (at == NULL) return false;
    size_t local = (size_t)(at - s);
    return local_ok(s, local) && domain_ok(at + 1, n - local - 1);
}
