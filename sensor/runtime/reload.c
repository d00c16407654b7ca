/*
 * reload.c — the reload thread (see reload.h).
 *
 * The capture thread only raises a flag on SIGHUP; everything slow happens here: reading the
 * exact_match lists, parsing YAML, compiling Hyperscan databases (every start-finding database
 * too, so a regex that would fail later fails now). A set that does not load or compile keeps
 * the one in use: an `error` event (kind "signature_reload") and one line on stderr say why.
 */
#include "reload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "leakwatch/edm.h"
#include "leakwatch/events.h"
#include "leakwatch/json.h"

struct lw_reloader {
    lw_runtime *rt;
    lw_reload_spec spec;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool pending, stop;
    lw_reload_counts counts;
    lw_json json;
};

static uint64_t wall_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void report_error(lw_reloader *r, const char *kind, const char *msg)
{
    fprintf(stderr, "leakwatch: SIGHUP: %s\n", msg);
    lw_event_error(&r->json, wall_usec(), r->rt->sensor_name, kind, msg, NULL, 0, 0);
    if (!r->json.oom) lw_output_write(r->rt->out, r->json.buf, r->json.len);
}

static void reload_edm(lw_reloader *r)
{
    char err[1024];
    size_t reopened = 0;
    if (!r->rt->edm) return;
    if (!lw_edm_set_reload(r->rt->edm, &reopened, err, sizeof(err))) {
        /* the lists in use stay: a bad new file never turns detection off */
        char msg[1200];
        snprintf(msg, sizeof(msg), "%s; the lists loaded before stay in use", err);
        report_error(r, "edm_reload", msg);
    } else if (reopened) {
        fprintf(stderr, "leakwatch: SIGHUP: %zu exact_match list(s) reloaded\n", reopened);
    }
}

/* The configuration again (for `signatures` and `allowlist`); NULL with err on failure. */
static lw_config *reload_config(const lw_reloader *r, char *err, size_t errlen)
{
    lw_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg || !lw_config_defaults(cfg)) {
        snprintf(err, errlen, "out of memory");
        if (cfg) lw_config_free(cfg);
        free(cfg);
        return NULL;
    }
    if (r->spec.config_path && lw_config_load(cfg, r->spec.config_path, err, errlen) != 0) {
        lw_config_free(cfg);
        free(cfg);
        return NULL;
    }
    return cfg;
}

/* true: a new generation is current. */
static bool reload_signatures(lw_reloader *r)
{
    char err[1024], msg[1200];
    lw_config *cfg = reload_config(r, err, sizeof(err));
    if (!cfg) {
        snprintf(msg, sizeof(msg), "%s; the signatures in use stay", err);
        report_error(r, "signature_reload", msg);
        return false;
    }
    lw_engine_spec spec = {
        .sig_paths = r->spec.sig_paths,
        .n_sig_paths = r->spec.n_sig_paths,
        .default_sigdir = r->spec.default_sigdir,
        .cfg = cfg,
        .edm = r->rt->edm,
        .prepare_all = true,
        .tell_edm_off = cfg->exact_match.n > 0,
        .take_cfg = cfg,
    };
    int code = 0;
    lw_engine *e = lw_engine_build(&spec, err, sizeof(err), &code); /* frees cfg on failure */
    if (!e) {
        snprintf(msg, sizeof(msg), "%s; the signatures in use stay", err);
        report_error(r, "signature_reload", msg);
        return false;
    }
    e->generation = lw_engine_slot_generation(&r->rt->engine) + 1;
    size_t n = e->sigs.n;
    uint64_t generation = e->generation;
    lw_engine_slot_publish(&r->rt->engine, e);
    fprintf(stderr, "leakwatch: SIGHUP: %zu signatures reloaded (generation %llu)\n", n,
            (unsigned long long)generation);
    return true;
}

static void *reload_main(void *arg)
{
    lw_reloader *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (!r->pending && !r->stop) pthread_cond_wait(&r->cond, &r->lock);
        if (!r->pending) break;
        r->pending = false;
        pthread_mutex_unlock(&r->lock);
        reload_edm(r);
        bool ok = reload_signatures(r);
        pthread_mutex_lock(&r->lock);
        if (ok)
            r->counts.reloads++;
        else
            r->counts.failures++;
        r->counts.generation = lw_engine_slot_generation(&r->rt->engine);
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

lw_reloader *lw_reloader_new(lw_runtime *rt, const lw_reload_spec *spec)
{
    lw_reloader *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->rt = rt;
    r->spec = *spec;
    r->counts.generation = lw_engine_slot_generation(&rt->engine);
    lw_json_init(&r->json);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    if (pthread_create(&r->thread, NULL, reload_main, r) != 0) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        lw_json_free(&r->json);
        free(r);
        return NULL;
    }
    return r;
}

void lw_reloader_request(lw_reloader *r)
{
    pthread_mutex_lock(&r->lock);
    r->pending = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

void lw_reloader_counts(lw_reloader *r, lw_reload_counts *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->counts;
    pthread_mutex_unlock(&r->lock);
}

void lw_reloader_free(lw_reloader *r, lw_reload_counts *final)
{
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    if (final) *final = r->counts;
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    lw_json_free(&r->json);
    free(r);
}
