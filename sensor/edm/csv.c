/*
 * csv.c — RFC 4180 record reader for leakwatch-edm build (see csv.h).
 *
 * Lenient where spreadsheets are (a quote inside an unquoted field is kept as a byte, a last
 * line without a line end is a record), strict where guessing would build the wrong list: an
 * unterminated quoted field or bytes after a closing quote are errors with the line number.
 */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

void lw_csv_init(lw_csv *r, FILE *fp)
{
    memset(r, 0, sizeof(*r));
    r->fp = fp;
    r->next_line = 1;
    r->first = 1;
}

void lw_csv_free(lw_csv *r)
{
    free(r->buf);
    r->buf = NULL;
}

static int put(lw_csv *r, int c)
{
    if (r->len == r->cap) {
        if (r->cap >= LW_CSV_RECORD_MAX) {
            snprintf(r->err, sizeof(r->err), "record longer than %u bytes", LW_CSV_RECORD_MAX);
            return -1;
        }
        size_t cap = r->cap ? r->cap * 2 : 256;
        uint8_t *b = realloc(r->buf, cap);
        if (!b) {
            snprintf(r->err, sizeof(r->err), "out of memory");
            return -1;
        }
        r->buf = b;
        r->cap = cap;
    }
    r->buf[r->len++] = (uint8_t)c;
    return 0;
}

static int end_field(lw_csv *r)
{
    if (r->n_fields == LW_CSV_FIELDS_MAX) {
        snprintf(r->err, sizeof(r->err), "more than %d fields", LW_CSV_FIELDS_MAX);
        return -1;
    }
    r->start[++r->n_fields] = r->len;
    return 0;
}

static int get(lw_csv *r)
{
    int c = getc(r->fp);
    if (r->first) {
        r->first = 0;
        if (c == 0xEF) { /* UTF-8 byte order mark */
            int c2 = getc(r->fp), c3 = c2 == 0xBB ? getc(r->fp) : EOF;
            if (c2 == 0xBB && c3 == 0xBF) return getc(r->fp);
            /* not a BOM: push back what was read, last first (glibc takes two) */
            if (c3 != EOF) ungetc(c3, r->fp);
            if (c2 != EOF) ungetc(c2, r->fp);
        }
    }
    return c;
}

static int next_line(lw_csv *r)
{
    int c;
    while ((c = get(r)) != EOF && c != '\n')
        if (put(r, c)) return -1;
    if (c == EOF && r->len == 0) return 0;
    if (r->len && r->buf[r->len - 1] == '\r') r->len--;
    r->next_line++;
    return end_field(r) ? -1 : 1;
}

int lw_csv_next(lw_csv *r, int whole_lines)
{
    r->len = 0;
    r->n_fields = 0;
    r->start[0] = 0;
    r->line = r->next_line;
    r->err[0] = '\0';
    if (whole_lines) return next_line(r);

    int c = get(r);
    if (c == EOF) return 0;
    for (;;) {
        if (c == '"') { /* a quoted field: up to the quote not doubled */
            for (;;) {
                c = get(r);
                if (c == EOF) {
                    snprintf(r->err, sizeof(r->err), "quoted field not closed before the end");
                    return -1;
                }
                if (c == '\n') r->next_line++;
                if (c == '"') {
                    c = get(r);
                    if (c != '"') break;
                }
                if (put(r, c)) return -1;
            }
            if (c == '\r') {
                int c2 = get(r);
                if (c2 != '\n') {
                    snprintf(r->err, sizeof(r->err), "a carriage return after a closing quote");
                    return -1;
                }
                c = '\n';
            }
            if (c != ',' && c != '\n' && c != EOF) {
                snprintf(r->err, sizeof(r->err),
                         "'%c' after a closing quote (expected , or a "
                         "line end)",
                         c);
                return -1;
            }
        } else { /* unquoted: up to a comma or the line end */
            while (c != ',' && c != '\n' && c != EOF) {
                if (put(r, c)) return -1;
                c = get(r);
            }
            if (c != ',' && r->len > r->start[r->n_fields] && r->buf[r->len - 1] == '\r')
                r->len--; /* CRLF */
        }
        if (end_field(r)) return -1;
        if (c == ',') {
            c = get(r);
            continue;
        }
        if (c == '\n') r->next_line++;
        return 1;
    }
}
