/*
 * scan_file.h — `--scan FILE`: matches in a plain file as JSON Lines (see scan_file.c).
 */
#ifndef LW_SCAN_FILE_H
#define LW_SCAN_FILE_H

#include <stdbool.h>
#include <stdio.h>

#include "leakwatch/fingerprint.h"
#include "leakwatch/match.h"

/* 0, or 1 if the file cannot be read. A summary line goes to stderr. */
int lw_scan_file(const lw_matcher *m, const char *path, const lw_fp_key *key, bool reveal,
                 FILE *out);

#endif
