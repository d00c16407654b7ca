/*
 * fingerprint.h — how a matched value appears in events without being revealed: a keyed
 * fingerprint (HMAC-SHA-256 under output.fingerprint_key, so values can be correlated across
 * events and runs without being stored) and a redacted form (at most the first 4 and last 4
 * characters).
 */
#ifndef LW_FINGERPRINT_H
#define LW_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_FP_KEY_MAX 4096
#define LW_FP_TEXT_LEN (12 + 64 + 1) /* "hmac-sha256:" + 64 hex digits + NUL */

typedef struct lw_fp_key {
    uint8_t key[LW_FP_KEY_MAX];
    size_t len;
    bool random; /* no key file: a random per-run key */
    /* SHA-256 states after the HMAC inner and outer pads, so a fingerprint costs two short
     * hashes (OpenSSL's one-shot HMAC() sets up the whole MAC on every call) */
    void *inner, *outer;
} lw_fp_key;

/* The key is the file's bytes with surrounding whitespace stripped. A file readable by group
 * or others, an empty or over-long one is refused: false with one line in err. path NULL:
 * a random per-run key. */
bool lw_fp_key_load(lw_fp_key *k, const char *path, char *err, size_t errlen);

void lw_fp_key_free(lw_fp_key *k);

/* HMAC-SHA-256 of v under the key. Safe to call from several threads at once. */
void lw_fingerprint(const lw_fp_key *k, const uint8_t *v, size_t n, uint8_t out[32]);
/* "hmac-sha256:<64 lower-case hex digits>" */
void lw_fingerprint_text(const uint8_t fp[32], char out[LW_FP_TEXT_LEN]);

/* The redacted form of v: its first k and last k characters (UTF-8; a byte that is not part
 * of a valid character counts as one), every character between as one '*', with
 * k = min(4, characters / 4) so that at least half of any value stays hidden. At most
 * outcap - 1 bytes and a NUL are written; returns the length written. */
size_t lw_redact(const uint8_t *v, size_t n, char *out, size_t outcap);

#endif
