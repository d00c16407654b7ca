/*
 * reload.h — SIGHUP off the packet path: a thread that reopens the exact_match lists, reloads
 * the configuration's signatures and allowlist, compiles them, and publishes the new engine
 * generation (engine.h) that workers pick up for new flows.
 */
#ifndef LW_RELOAD_H
#define LW_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

/* Where the signatures come from: what start-up used. */
typedef struct lw_reload_spec {
    const char *config_path;      /* -c (NULL: built-in defaults; signatures and allowlist stay) */
    const char *const *sig_paths; /* -s paths (they win over the configuration's) */
    size_t n_sig_paths;
    const char *default_sigdir;
} lw_reload_spec;

typedef struct lw_reloader lw_reloader;

typedef struct lw_reload_counts {
    uint64_t reloads;  /* signature sets compiled and published */
    uint64_t failures; /* reloads refused: the set in use stayed */
    uint64_t generation;
} lw_reload_counts;

/* NULL when out of memory (then SIGHUP only reopens the output). */
lw_reloader *lw_reloader_new(lw_runtime *rt, const lw_reload_spec *spec);
/* Asks for a reload; returns at once (a request during a reload runs once it ends). */
void lw_reloader_request(lw_reloader *r);
/* What the reloads did so far (for stats). */
void lw_reloader_counts(lw_reloader *r, lw_reload_counts *out);
/* Finishes a reload in progress (and one pending), joins the thread; *final (if not NULL) gets
 * the counts after it. */
void lw_reloader_free(lw_reloader *r, lw_reload_counts *final);

#endif
