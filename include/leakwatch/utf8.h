/*
 * utf8.h — one UTF-8 sequence checked (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), shared by the JSON writer (what it may copy as is) and the base64 deriver
 * (is a decoded run text?).
 */
#ifndef LW_UTF8_H
#define LW_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid sequence at s[0..n) (n > 0), 0 if invalid. A sequence that n cuts
 * short is invalid, unless cut_ok: then it counts as valid as far as it goes (n). */
size_t lw_utf8_seq(const uint8_t *s, size_t n, bool cut_ok);

#endif
