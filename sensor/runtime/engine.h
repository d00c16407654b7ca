/*
 * engine.h — one generation of the detection engine: the loaded signatures, their compiled
 * Hyperscan matcher and the allowlist they are applied with.
 *
 * The sensor starts with generation 1; each SIGHUP that loads and compiles cleanly publishes
 * the next one (reload.c). Engines are reference counted: the runtime holds the current one,
 * and every worker holds each generation some of its flows still use, so a flow finishes on
 * the database it started with and an engine is freed by whoever drops its last reference.
 */
#ifndef LW_ENGINE_H
#define LW_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/cidr.h"
#include "leakwatch/config.h"
#include "leakwatch/match.h"
#include "leakwatch/signatures.h"

#define LW_MAX_VOLUME_SIGS 64 /* a bit each in the worker's per-flow masks */

struct lw_edm_set;

typedef struct lw_engine {
    _Atomic unsigned refs;
    uint64_t generation; /* 1 at start, +1 per successful reload */
    lw_sigset sigs;
    lw_matcher *matcher;
    bool content; /* the matcher holds content signatures (else nothing is scanned) */
    const lw_signature *volume[LW_MAX_VOLUME_SIGS];
    size_t n_volume;
    const lw_signature *dns_tunnel_sig; /* kind: dns_tunnel (NULL: none) */
    /* allowlist.destinations, from the configuration the engine was built with */
    const lw_cidr_set *allow_dests; /* NULL: none */
    const lw_strlist *allow_hosts;  /* NULL: none */
    lw_config *owned_cfg;           /* a reloaded configuration, freed with the engine */
} lw_engine;

/* What an engine is built from. */
typedef struct lw_engine_spec {
    const char *const *sig_paths; /* -s paths; n_sig_paths == 0: cfg->signatures, else dflt */
    size_t n_sig_paths;
    const char *default_sigdir;
    const lw_config *cfg;   /* allowlist, exact_match names */
    struct lw_edm_set *edm; /* attached to the matcher (NULL: none) */
    bool prepare_all;       /* compile the start-finding databases now (reload, -T) */
    bool tell_edm_off;      /* name edm:NAME signatures without a list on stderr */
    lw_config *take_cfg;    /* if set, the engine owns and frees this configuration */
} lw_engine_spec;

/* Loads and compiles. NULL with one line in err (file:line and the reason) and *code 2
 * (signature error) or 1 (out of memory); take_cfg is then freed too. */
lw_engine *lw_engine_build(const lw_engine_spec *spec, char *err, size_t errlen, int *code);
lw_engine *lw_engine_ref(lw_engine *e);
void lw_engine_unref(lw_engine *e);

/* The runtime's current engine: workers poll `generation` (one relaxed load per packet) and
 * take the engine under the lock only when it changed. */
typedef struct lw_engine_slot {
    pthread_mutex_t lock;
    lw_engine *current;
    _Atomic uint64_t generation;
} lw_engine_slot;

void lw_engine_slot_init(lw_engine_slot *s, lw_engine *first); /* takes the reference */
/* A new reference to the current engine. */
lw_engine *lw_engine_slot_get(lw_engine_slot *s);
/* Makes e current (takes the reference) and drops the slot's reference to the previous. */
void lw_engine_slot_publish(lw_engine_slot *s, lw_engine *e);
static inline uint64_t lw_engine_slot_generation(lw_engine_slot *s)
{
    return atomic_load_explicit(&s->generation, memory_order_acquire);
}
void lw_engine_slot_destroy(lw_engine_slot *s);

#endif
