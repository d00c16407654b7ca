/*
 * output.h — the event sink: JSON Lines to a file or stdout.
 *
 * Any thread may write; each call writes one whole line under a lock, so lines never
 * interleave. A file is opened for append (as Suricata's eve.json) with mode 0640 and can
 * be reopened after log rotation.
 */
#ifndef LW_OUTPUT_H
#define LW_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lw_output lw_output;

/* path "-" = stdout. NULL on failure with one line in err. */
lw_output *lw_output_open(const char *path, char *err, size_t errlen);
void lw_output_write(lw_output *o, const char *line, size_t len);
/* Reopens the file (SIGHUP, logrotate); a no-op for stdout. */
bool lw_output_reopen(lw_output *o, char *err, size_t errlen);
void lw_output_flush(lw_output *o);
uint64_t lw_output_events_written(lw_output *o);
uint64_t lw_output_write_errors(lw_output *o);
void lw_output_close(lw_output *o);

#endif
