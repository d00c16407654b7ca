/*
 * edm.h — Exact Data Match (interface.md sections 3, 4, 6): a list of known values (customer
 * e-mail addresses, customer numbers) held only as keyed one-way hashes, and the lookup the
 * matcher runs for `validate: edm:NAME`.
 *
 * A value is normalized (email: trimmed, lower-cased; digits: every non-digit removed; text:
 * trimmed, inner whitespace runs collapsed to one space), then hashed with HMAC-SHA-256 under
 * the key (the same key as output.fingerprint_key, fingerprint.h); the list keeps the first 8
 * bytes of each hash, sorted, in a file the sensor reads whole into memory at load.
 *
 * Index file (little-endian):
 *   header (64 bytes): magic "LWEDM1\0\0", u32 version (1), u32 normalizer (lw_edm_norm),
 *     u64 entries, u64 key check value (first 8 bytes of HMAC(key, "leakwatch-edm key check")),
 *     u64 checksum (FNV-1a 64 of the entries' bytes), 24 reserved zero bytes
 *   entries: u64[entries], ascending, no duplicates
 * With 64-bit hashes a 10-million-entry list answers a random non-member "yes" with
 * probability ~5e-13 per lookup. A lookup is a bucket step on the top 16 bits (a 256 KiB table
 * built at open) then a binary search of a few entries.
 */
#ifndef LW_EDM_H
#define LW_EDM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/fingerprint.h"

#define LW_EDM_MAGIC "LWEDM1\0\0"
#define LW_EDM_VERSION 1u
#define LW_EDM_HEADER_BYTES 64
#define LW_EDM_VALUE_MAX 1024 /* longest normalized value; longer ones are never members */

typedef enum lw_edm_norm {
    LW_EDM_NORM_EMAIL = 1,
    LW_EDM_NORM_DIGITS = 2,
    LW_EDM_NORM_TEXT = 3,
} lw_edm_norm;

/* "email" | "digits" | "text" -> the normalizer, 0 when unknown. */
lw_edm_norm lw_edm_norm_lookup(const char *name);
const char *lw_edm_norm_name(lw_edm_norm n); /* "email", ..., "unknown" */

/* Normalizes s[0..len) into out (outcap bytes, no NUL written); returns the length, or 0 when
 * nothing is left or the result would not fit. */
size_t lw_edm_normalize(lw_edm_norm n, const uint8_t *s, size_t len, uint8_t *out, size_t outcap);

/* The 64-bit keyed hash of a normalized value, and the key check value. */
uint64_t lw_edm_hash(const lw_fp_key *key, const uint8_t *norm, size_t len);
uint64_t lw_edm_key_check(const lw_fp_key *key);

/* A list opened for lookups. */
typedef struct lw_edm_list lw_edm_list;

/* Maps and checks path: NULL with one line in err naming the file on any problem (missing,
 * truncated, corrupt, other version, built with another key). key must stay valid while the
 * list is open; key NULL skips the key check (leakwatch-edm stats: structure only, no
 * lookups). */
lw_edm_list *lw_edm_open(const char *path, const lw_fp_key *key, char *err, size_t errlen);
void lw_edm_close(lw_edm_list *l);
lw_edm_norm lw_edm_list_norm(const lw_edm_list *l);
uint64_t lw_edm_list_entries(const lw_edm_list *l);
size_t lw_edm_list_memory(const lw_edm_list *l); /* bytes held in memory */

uint64_t lw_edm_list_key_check(const lw_edm_list *l);

/* Is the candidate (raw bytes from the wire) in the list, after the list's normalization?
 * Thread-safe, allocates nothing. norm (LW_EDM_VALUE_MAX bytes, may be NULL) receives the
 * normalized value and *norm_len its length (0 when nothing was left to look up). */
bool lw_edm_contains(const lw_edm_list *l, const uint8_t *s, size_t len, uint8_t *norm,
                     size_t *norm_len);
/* The same for a hash already computed with the list's key. */
bool lw_edm_contains_hash(const lw_edm_list *l, uint64_t h);

/* Writes an index of the hashes (sorted and deduplicated in place; *count becomes the number
 * of entries written) to path, atomically (a temporary file renamed over it) and mode 0640.
 * false with one line in err. */
bool lw_edm_write(const char *path, lw_edm_norm norm, uint64_t *hashes, size_t *count,
                  const lw_fp_key *key, char *err, size_t errlen);

/* The lists of exact_match, as the sensor holds them: opened together at start, reopened
 * together on SIGHUP (a list that fails keeps every old one), looked up by the workers. */
typedef struct lw_edm_set lw_edm_set;

typedef struct lw_edm_set_info {
    const char *name, *file;
    lw_edm_norm norm;
    uint64_t entries;
    size_t memory;
} lw_edm_set_info;

/* names[i] is read from files[i]. NULL with one line in err when any list cannot be opened. */
lw_edm_set *lw_edm_set_open(const char *const *names, const char *const *files, size_t n,
                            const lw_fp_key *key, char *err, size_t errlen);
void lw_edm_set_free(lw_edm_set *s);
size_t lw_edm_set_count(const lw_edm_set *s);
/* The slot of list `name`, -1 when there is none. */
int lw_edm_set_find(const lw_edm_set *s, const char *name);
void lw_edm_set_get_info(lw_edm_set *s, size_t slot, lw_edm_set_info *info);
/* lw_edm_contains on the list in slot; safe while another thread reloads. */
bool lw_edm_set_contains(lw_edm_set *s, int slot, const uint8_t *v, size_t len, uint8_t *norm,
                         size_t *norm_len);
/* Reopens every list whose file changed (device, inode, size or modification time) and swaps
 * them in; on any failure every old list stays, false with one line in err. *reopened counts
 * the lists that were replaced. */
bool lw_edm_set_reload(lw_edm_set *s, size_t *reopened, char *err, size_t errlen);
/* Reloads done and reloads refused since open. */
void lw_edm_set_reload_counts(lw_edm_set *s, uint64_t *done, uint64_t *failed);

#endif
