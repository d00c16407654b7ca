/*
 * edm_build.h — turning a customer table into an Exact Data Match index: read each value
 * (a line, or one CSV column), normalize, hash under the key, write the index (edm.h).
 */
#ifndef LW_EDM_BUILD_H
#define LW_EDM_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "leakwatch/edm.h"

typedef struct lw_edm_build_opts {
    lw_edm_norm norm;
    unsigned column;         /* 1-based CSV column; 0: one value per line, no quoting */
    const char *column_name; /* the header field naming the column (implies header) */
    bool header;             /* the first record is a header, not a value */
} lw_edm_build_opts;

typedef struct lw_edm_build_report {
    uint64_t records;    /* records read, the header excluded */
    uint64_t values;     /* values hashed */
    uint64_t empty;      /* nothing left after normalizing */
    uint64_t too_long;   /* normalized value longer than LW_EDM_VALUE_MAX (never a member) */
    uint64_t short_rows; /* records without the column */
    uint64_t entries;    /* distinct hashes written */
    unsigned column;     /* the column read (resolved from column_name) */
} lw_edm_build_report;

/* Reads in (named in_name in errors) and writes out_path. false with one line in err naming
 * the input and line, or the output. */
bool lw_edm_build(FILE *in, const char *in_name, const char *out_path, const lw_edm_build_opts *o,
                  const lw_fp_key *key, lw_edm_build_report *rep, char *err, size_t errlen);

#endif
