/*
 * codec.h — streaming decoders for the transfer encodings DLP has to see through:
 * base64 (RFC 4648/2045), quoted-printable (RFC 2045), percent-encoding (RFC 3986 and
 * x-www-form-urlencoded), JSON string escapes (RFC 8259, \uXXXX to UTF-8 with surrogate
 * pairs), and RFC 2047 encoded-words in header text.
 *
 * Every decoder takes input in pieces of any size (a split anywhere gives the same output as
 * one call), never reads or writes out of bounds, and counts what it could not decode instead
 * of stopping. Output bound: each call writes at most `len + 8` bytes (base64 writes fewer).
 */
#ifndef LW_CODEC_H
#define LW_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/counters.h"

#define LW_CODEC_COUNTERS(X, P)                                                                    \
    X(P, b64_invalid)     /* bytes outside the base64 alphabet inside base64 content (skipped) */  \
    X(P, b64_partial)     /* base64 content that ended mid-quantum */                              \
    X(P, qp_invalid)      /* '=' not followed by two hex digits or a line end (kept as is) */      \
    X(P, pct_invalid)     /* '%' not followed by two hex digits (kept as is) */                    \
    X(P, json_invalid)    /* bad JSON escapes (kept as is) */                                      \
    X(P, rfc2047_invalid) /* encoded-words that could not be decoded (kept as is) */
LW_COUNTER_BLOCK(codec, CODEC, LW_CODEC_COUNTERS)

/* Output room a decoder needs for an input of len bytes. */
#define LW_CODEC_OUT_MAX(len) ((len) + 8)

/* base64: standard and URL-safe alphabets; whitespace and line ends are skipped, '=' ends a
 * quantum, other bytes are skipped and counted. */
typedef struct lw_b64 {
    uint32_t acc;
    uint8_t nbits;
    bool done; /* '=' padding seen: the rest is ignored until reset */
} lw_b64;
void lw_b64_init(lw_b64 *d);
size_t lw_b64_decode(lw_b64 *d, const uint8_t *in, size_t len, uint8_t *out,
                     lw_codec_counters *ctr);
/* End of the content: leftover bits are counted when they are not padding. */
void lw_b64_finish(lw_b64 *d, lw_codec_counters *ctr);

/* quoted-printable: "=XX" decoded, soft line breaks ("=" CRLF or "=" LF) removed. */
typedef struct lw_qp {
    uint8_t state; /* 0 plain, 1 after '=', 2 after '=' + first hex digit, 3 after "=\r" */
    uint8_t hi;
} lw_qp;
void lw_qp_init(lw_qp *d);
size_t lw_qp_decode(lw_qp *d, const uint8_t *in, size_t len, uint8_t *out, lw_codec_counters *ctr);
/* Writes what a dangling '=' sequence held back (at most 3 bytes). */
size_t lw_qp_finish(lw_qp *d, uint8_t *out, lw_codec_counters *ctr);

/* percent-decoding; plus_space turns '+' into ' ' (forms and queries). `changed` becomes true
 * once any byte was decoded differently from its input. */
typedef struct lw_pct {
    uint8_t state; /* 0 plain, 1 after '%', 2 after '%' + first hex digit */
    uint8_t hi;
    bool plus_space;
    bool changed;
} lw_pct;
void lw_pct_init(lw_pct *d, bool plus_space);
size_t lw_pct_decode(lw_pct *d, const uint8_t *in, size_t len, uint8_t *out,
                     lw_codec_counters *ctr);
size_t lw_pct_finish(lw_pct *d, uint8_t *out, lw_codec_counters *ctr); /* at most 2 bytes */

/* JSON escapes inside strings (\" \\ \/ \b \f \n \r \t \uXXXX, surrogate pairs to one
 * UTF-8 code point; a lone surrogate becomes U+FFFD). Text outside strings passes through.
 * `changed` as for lw_pct. */
typedef struct lw_json_unesc {
    uint8_t state;
    bool in_string;
    bool changed;
    uint8_t nhex;
    uint32_t cp, hi_surrogate;
} lw_json_unesc;
void lw_json_unesc_init(lw_json_unesc *d);
size_t lw_json_unesc_decode(lw_json_unesc *d, const uint8_t *in, size_t len, uint8_t *out,
                            lw_codec_counters *ctr);
size_t lw_json_unesc_finish(lw_json_unesc *d, uint8_t *out, lw_codec_counters *ctr); /* ≤ 8 */

/* RFC 2047: decodes every "=?charset?B|Q?text?=" in one header value (whitespace between two
 * adjacent encoded-words dropped) into out (room: outcap, always NUL-terminated; cut if
 * longer). Charsets are not converted: the bytes are kept (UTF-8 and ASCII supersets read as
 * is). Returns the number of encoded-words decoded. */
int lw_rfc2047_decode(const char *in, size_t len, char *out, size_t outcap, lw_codec_counters *ctr);

#endif
