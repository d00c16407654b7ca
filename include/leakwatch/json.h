/*
 * json.h — a small JSON builder for events.
 *
 * Events are built into a growable per-thread buffer and written as one line. Strings from
 * the wire are arbitrary bytes: valid UTF-8 passes through, control characters are escaped,
 * and every byte that is not part of valid UTF-8 is written as \u00XX (its Latin-1 reading),
 * so any input yields valid UTF-8 JSON and no byte is silently lost.
 */
#ifndef LW_JSON_H
#define LW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_JSON_MAX_DEPTH 16

typedef struct lw_json {
    char *buf;
    size_t len, cap;
    int depth;
    bool need_comma[LW_JSON_MAX_DEPTH];
    bool after_key;
    bool oom; /* an allocation failed: the event is dropped by the writer (counted) */
} lw_json;

void lw_json_init(lw_json *j);
void lw_json_free(lw_json *j);
void lw_json_reset(lw_json *j);

void lw_json_object_begin(lw_json *j);
void lw_json_object_end(lw_json *j);
void lw_json_array_begin(lw_json *j);
void lw_json_array_end(lw_json *j);
void lw_json_key(lw_json *j, const char *key);

void lw_json_str(lw_json *j, const char *s);
void lw_json_strn(lw_json *j, const uint8_t *s, size_t n);
void lw_json_u64(lw_json *j, uint64_t v);
void lw_json_i64(lw_json *j, int64_t v);
void lw_json_double(lw_json *j, double v);
void lw_json_bool(lw_json *j, bool v);
void lw_json_null(lw_json *j);

/* key + value shorthands */
void lw_json_kv_str(lw_json *j, const char *key, const char *s);
void lw_json_kv_u64(lw_json *j, const char *key, uint64_t v);
void lw_json_kv_bool(lw_json *j, const char *key, bool v);

/* Appends "\n"; the buffer then holds one complete JSON Lines record. */
void lw_json_end_line(lw_json *j);

/* Escapes n bytes into out as a JSON string body (no quotes); used by tests. */
size_t lw_json_escape(const uint8_t *s, size_t n, char *out, size_t outcap);

#endif
