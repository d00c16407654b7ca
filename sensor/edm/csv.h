/*
 * csv.h — a streaming reader of RFC 4180 records (the customer tables leakwatch-edm build
 * reads): comma-separated fields, double-quoted fields that may hold commas, line breaks and
 * doubled quotes, CRLF or LF line ends, a UTF-8 byte order mark at the start ignored.
 */
#ifndef LW_EDM_CSV_H
#define LW_EDM_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LW_CSV_RECORD_MAX (1u << 20) /* longest record; longer is an error, not a silent cut */
#define LW_CSV_FIELDS_MAX 4096

typedef struct lw_csv {
    FILE *fp;
    uint8_t *buf; /* the current record's field bytes, unquoted */
    size_t len, cap;
    size_t start[LW_CSV_FIELDS_MAX + 1]; /* field i is buf[start[i] .. start[i + 1]) */
    size_t n_fields;
    unsigned long line;      /* line the current record starts on (1-based) */
    unsigned long next_line; /* line the next record starts on */
    int first;               /* no byte read yet: a BOM may follow */
    char err[160];
} lw_csv;

void lw_csv_init(lw_csv *r, FILE *fp);
void lw_csv_free(lw_csv *r);
/* The next record: 1, 0 at the end of input, -1 on malformed input (r->err, r->line). With
 * whole_lines, each line is one field as it stands (no quoting), its line end removed. */
int lw_csv_next(lw_csv *r, int whole_lines);
static inline const uint8_t *lw_csv_field(const lw_csv *r, size_t i, size_t *len)
{
    *len = r->start[i + 1] - r->start[i];
    return r->buf + r->start[i];
}

#endif
