/*
 * github_token.c — GitHub tokens in the 2021 formats ("Behind GitHub's new authentication
 * token formats", github.blog, 2021-04-05).
 *
 * Classic: ghp_/gho_/ghu_/ghs_/ghr_ + 30 random base62 characters + a 6-character checksum:
 * CRC-32 (zlib's) of the 30 random characters only — the prefix is not covered — written in
 * base62 with the alphabet 0-9A-Za-z, most significant digit first, left-padded with '0'.
 * This is what DataDog's sensitive-data-scanner (github_token_checksum.rs), Samsung's
 * CredSweeper (ValueGitHubCheck) and therootcompany/base62-token.js verify, and their test
 * tokens (e.g. 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) check out only that way.
 *
 * Fine-grained: github_pat_ + 22 [A-Za-z0-9] + '_' + 59 [A-Za-z0-9]; no public checksum, so
 * structure only.
 */
#include "leakwatch/validate.h"

#include <string.h>
#include <zlib.h>

#define GH_CLASSIC_LEN 40 /* 4 prefix + 30 random + 6 checksum */
#define GH_RANDOM_LEN 30
#define GH_CRC_LEN 6
#define GH_PAT_PREFIX "github_pat_"
#define GH_PAT_LEN (11 + 22 + 1 + 59)

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static bool alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool all_alnum(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!alnum(s[i])) return false;
    return true;
}

static bool classic_ok(const uint8_t *s)
{
    if (s[0] != 'g' || s[1] != 'h' || s[3] != '_') return false;
    if (s[2] != 'p' && s[2] != 'o' && s[2] != 'u' && s[2] != 's' && s[2] != 'r') return false;
    if (!all_alnum(s + 4, GH_RANDOM_LEN + GH_CRC_LEN)) return false;
    uint32_t crc = (uint32_t)crc32(0L, s + 4, GH_RANDOM_LEN);
    char want[GH_CRC_LEN];
    for (int i = GH_CRC_LEN - 1; i >= 0; i--) {
        want[i] = base62[crc % 62];
        crc /= 62;
    }
    /* 62^6 > 2^32, so every CRC fits in six digits */
    return memcmp(want, s + 4 + GH_RANDOM_LEN, GH_CRC_LEN) == 0;
}

static bool fine_grained_ok(const uint8_t *s)
{
    const size_t p = sizeof(GH_PAT_PREFIX) - 1;
    return memcmp(s, GH_PAT_PREFIX, p) == 0 && all_alnum(s + p, 22) && s[p + 22] == '_' &&
           all_alnum(s + p + 23, 59);
}

bool lw_validate_github_token(const uint8_t *s, size_t n)
{
    if (s == NULL) return false;
    if (n == GH_CLASSIC_LEN) return classic_ok(s);
    if (n == GH_PAT_LEN) return fine_grained_ok(s);
    return false;
}
