/*
 * engine.c — builds, shares and retires detection-engine generations (see engine.h).
 *
 * Building is the same at start-up and on SIGHUP: every signature path is loaded, edm:NAME
 * signatures without their exact_match list are turned off, the content signatures are
 * compiled into one streaming database, the volume and dns_tunnel signatures are picked out.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakwatch/edm.h"

static bool name_listed(const char *names, const char *name) /* in "a, b, c" */
{
    size_t n = strlen(name);
    for (const char *p = names; (p = strstr(p, name)) != NULL; p += n)
        if ((p == names || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0')) return true;
    return false;
}

/* An edm:NAME signature whose list is not under exact_match is off, not an error: the shipped
 * example pack (signatures/customer-edm.example.yaml) waits for the operator's lists. One
 * line on stderr says which (tell): under -T, and whenever some lists are configured (then a
 * missing name is likely a typo). With no list at all the default install stays quiet. */
static void drop_unlisted_edm(const lw_config *cfg, lw_sigset *set, bool tell)
{
    char names[256] = "";
    size_t dropped = 0, at = 0;
    for (size_t i = 0; i < set->n;) {
        const lw_signature *g = &set->v[i];
        bool listed = g->validator != LW_VALIDATE_EDM;
        for (size_t k = 0; !listed && k < cfg->exact_match.n; k++)
            listed = strcmp(cfg->exact_match.v[k].name, g->edm_list) == 0;
        if (listed) {
            i++;
            continue;
        }
        if (!name_listed(names, g->edm_list) && at + strlen(g->edm_list) + 3 < sizeof(names))
            at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s", at ? ", " : "",
                                   g->edm_list);
        dropped++;
        lw_sigset_remove(set, i);
    }
    if (dropped && tell)
        fprintf(stderr,
                "leakwatch: edm: %zu signature(s) off: no exact_match list named %s (see "
                "leakwatch-edm build)\n",
                dropped, names);
}

static int load_signatures(const lw_engine_spec *sp, lw_sigset *set, char *err, size_t errlen)
{
    const lw_config *cfg = sp->cfg;
    size_t n = sp->n_sig_paths ? sp->n_sig_paths : cfg->signatures.n ? cfg->signatures.n : 1;
    for (size_t i = 0; i < n; i++) {
        const char *path = sp->n_sig_paths     ? sp->sig_paths[i]
                           : cfg->signatures.n ? cfg->signatures.v[i]
                                               : sp->default_sigdir;
        if (lw_sigset_load(set, path, err, errlen) != 0) return 2;
    }
    size_t volume = 0;
    for (size_t i = 0; i < set->n; i++) volume += set->v[i].kind == LW_SIG_VOLUME;
    if (volume > LW_MAX_VOLUME_SIGS) {
        snprintf(err, errlen, "signatures: %zu volume signatures, at most %d are supported", volume,
                 LW_MAX_VOLUME_SIGS);
        return 2;
    }
    drop_unlisted_edm(cfg, set, sp->tell_edm_off);
    return 0;
}

static void engine_free(lw_engine *e)
{
    lw_matcher_free(e->matcher);
    lw_sigset_free(&e->sigs);
    if (e->owned_cfg) {
        lw_config_free(e->owned_cfg);
        free(e->owned_cfg);
    }
    free(e);
}

lw_engine *lw_engine_build(const lw_engine_spec *sp, char *err, size_t errlen, int *code)
{
    lw_engine *e = calloc(1, sizeof(*e));
    *code = 1;
    if (!e) {
        snprintf(err, errlen, "out of memory");
        if (sp->take_cfg) {
            lw_config_free(sp->take_cfg);
            free(sp->take_cfg);
        }
        return NULL;
    }
    atomic_init(&e->refs, 1);
    e->generation = 1;
    e->owned_cfg = sp->take_cfg;
    lw_sigset_init(&e->sigs);
    const lw_config *cfg = sp->cfg;
    if ((*code = load_signatures(sp, &e->sigs, err, errlen)) != 0) goto fail;
    e->matcher = lw_matcher_build(&e->sigs, &cfg->allowlist.values, err, errlen, code);
    if (!e->matcher) goto fail;
    if (sp->edm && !lw_matcher_attach_edm(e->matcher, sp->edm, err, errlen)) {
        *code = 2;
        goto fail;
    }
    if (sp->prepare_all && (*code = lw_matcher_prepare_all(e->matcher, err, errlen)) != 0)
        goto fail;
    e->content = lw_matcher_get_info(e->matcher)->content_sigs > 0;
    for (size_t i = 0; i < e->sigs.n; i++) {
        const lw_signature *g = &e->sigs.v[i];
        if (g->kind == LW_SIG_VOLUME) e->volume[e->n_volume++] = g;
        if (g->kind == LW_SIG_DNS_TUNNEL && !e->dns_tunnel_sig) e->dns_tunnel_sig = g;
    }
    e->allow_dests =
        lw_cidr_set_count(cfg->allowlist.dest_cidrs) ? cfg->allowlist.dest_cidrs : NULL;
    e->allow_hosts = cfg->allowlist.dest_hosts.n ? &cfg->allowlist.dest_hosts : NULL;
    *code = 0;
    return e;
fail:
    engine_free(e);
    return NULL;
}

lw_engine *lw_engine_ref(lw_engine *e)
{
    if (e) atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return e;
}

void lw_engine_unref(lw_engine *e)
{
    if (e && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) engine_free(e);
}

void lw_engine_slot_init(lw_engine_slot *s, lw_engine *first)
{
    pthread_mutex_init(&s->lock, NULL);
    s->current = first;
    atomic_init(&s->generation, first ? first->generation : 0);
}

lw_engine *lw_engine_slot_get(lw_engine_slot *s)
{
    pthread_mutex_lock(&s->lock);
    lw_engine *e = lw_engine_ref(s->current);
    pthread_mutex_unlock(&s->lock);
    return e;
}

void lw_engine_slot_publish(lw_engine_slot *s, lw_engine *e)
{
    pthread_mutex_lock(&s->lock);
    lw_engine *old = s->current;
    s->current = e;
    atomic_store_explicit(&s->generation, e->generation, memory_order_release);
    pthread_mutex_unlock(&s->lock);
    lw_engine_unref(old);
}

void lw_engine_slot_destroy(lw_engine_slot *s)
{
    lw_engine_unref(s->current);
    s->current = NULL;
    pthread_mutex_destroy(&s->lock);
}
