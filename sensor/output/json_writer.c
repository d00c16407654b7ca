/*
 * json_writer.c — builds JSON text for events (see include/leakwatch/json.h).
 *
 * Structure (commas, nesting) is tracked here so event code only says what to write.
 * String escaping guarantees valid UTF-8 output for arbitrary wire bytes.
 */
#include "leakwatch/json.h"
#include "leakwatch/utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lw_json_init(lw_json *j)
{
    memset(j, 0, sizeof(*j));
}

void lw_json_free(lw_json *j)
{
    free(j->buf);
    memset(j, 0, sizeof(*j));
}

void lw_json_reset(lw_json *j)
{
    j->len = 0;
    j->depth = 0;
    j->need_comma[0] = false;
    j->after_key = false;
    j->oom = false;
}

static bool reserve(lw_json *j, size_t extra)
{
    if (j->oom) return false;
    if (j->len + extra + 1 <= j->cap) return true;
    size_t cap = j->cap ? j->cap : 1024;
    while (cap < j->len + extra + 1) cap *= 2;
    char *nb = realloc(j->buf, cap);
    if (!nb) {
        j->oom = true;
        return false;
    }
    j->buf = nb;
    j->cap = cap;
    return true;
}

static void put(lw_json *j, const char *s, size_t n)
{
    if (!reserve(j, n)) return;
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void putc1(lw_json *j, char c)
{
    put(j, &c, 1);
}

/* Writes the comma that separates this value from the previous one at this level. */
static void value_prefix(lw_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->need_comma[j->depth]) putc1(j, ',');
    j->need_comma[j->depth] = true;
}

static void open_level(lw_json *j, char c)
{
    value_prefix(j);
    putc1(j, c);
    if (j->depth + 1 < LW_JSON_MAX_DEPTH) j->depth++;
    j->need_comma[j->depth] = false;
}

static void close_level(lw_json *j, char c)
{
    putc1(j, c);
    if (j->depth > 0) j->depth--;
}

void lw_json_object_begin(lw_json *j)
{
    open_level(j, '{');
}
void lw_json_object_end(lw_json *j)
{
    close_level(j, '}');
}
void lw_json_array_begin(lw_json *j)
{
    open_level(j, '[');
}
void lw_json_array_end(lw_json *j)
{
    close_level(j, ']');
}

size_t lw_json_escape(const uint8_t *s, size_t n, char *out, size_t outcap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
#define EMIT(ch)                                                                                   \
    do {                                                                                           \
        if (o + 1 < outcap) out[o] = (ch);                                                         \
        o++;                                                                                       \
    } while (0)
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            EMIT('\\');
            EMIT((char)c);
            i++;
        } else if (c >= 0x20 && c < 0x7f) {
            EMIT((char)c);
            i++;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            EMIT('\\');
            EMIT(c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
            i++;
        } else {
            size_t l = c >= 0x80 ? lw_utf8_seq(s + i, n - i, false) : 0;
            if (l > 1) {
                for (size_t k = 0; k < l; k++) EMIT((char)s[i + k]);
                i += l;
            } else {
                /* control character or a byte outside valid UTF-8: \u00XX */
                EMIT('\\');
                EMIT('u');
                EMIT('0');
                EMIT('0');
                EMIT(hex[c >> 4]);
                EMIT(hex[c & 15]);
                i++;
            }
        }
    }
#undef EMIT
    if (outcap) out[o < outcap ? o : outcap - 1] = '\0';
    return o;
}

void lw_json_strn(lw_json *j, const uint8_t *s, size_t n)
{
    value_prefix(j);
    /* worst case: 6 output bytes per input byte */
    if (!reserve(j, n * 6 + 2)) return;
    j->buf[j->len++] = '"';
    j->len += lw_json_escape(s, n, j->buf + j->len, j->cap - j->len);
    j->buf[j->len++] = '"';
    j->buf[j->len] = '\0';
}

void lw_json_str(lw_json *j, const char *s)
{
    lw_json_strn(j, (const uint8_t *)(s ? s : ""), s ? strlen(s) : 0);
}

void lw_json_key(lw_json *j, const char *key)
{
    lw_json_str(j, key);
    putc1(j, ':');
    j->after_key = true;
}

void lw_json_u64(lw_json *j, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
    value_prefix(j);
    put(j, tmp, (size_t)n);
}

void lw_json_i64(lw_json *j, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    value_prefix(j);
    put(j, tmp, (size_t)n);
}

void lw_json_double(lw_json *j, double v)
{
    char tmp[32];
    int n =
        isfinite(v) ? snprintf(tmp, sizeof(tmp), "%.6g", v) : snprintf(tmp, sizeof(tmp), "null");
    value_prefix(j);
    put(j, tmp, (size_t)n);
}

void lw_json_bool(lw_json *j, bool v)
{
    value_prefix(j);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void lw_json_null(lw_json *j)
{
    value_prefix(j);
    put(j, "null", 4);
}

void lw_json_kv_str(lw_json *j, const char *key, const char *s)
{
    lw_json_key(j, key);
    lw_json_str(j, s);
}

void lw_json_kv_u64(lw_json *j, const char *key, uint64_t v)
{
    lw_json_key(j, key);
    lw_json_u64(j, v);
}

void lw_json_kv_bool(lw_json *j, const char *key, bool v)
{
    lw_json_key(j, key);
    lw_json_bool(j, v);
}

void lw_json_end_line(lw_json *j)
{
    putc1(j, '\n');
}
