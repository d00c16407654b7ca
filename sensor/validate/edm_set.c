/*
 * edm_set.c — the exact_match lists of one sensor run (see edm.h): opened together at start,
 * looked up by every worker, reopened on SIGHUP.
 *
 * A reload opens the new lists first, off the lock, and swaps them in under a write lock
 * only when every one opened; workers hold the read lock just for one lookup, so a reload
 * never leaves a worker on a freed list and never stalls one for longer than a swap.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "leakwatch/edm.h"

typedef struct slot {
    char *name, *file;
    lw_edm_list *list;
    struct stat st; /* of the file when it was opened: reload skips unchanged files */
} slot;

struct lw_edm_set {
    pthread_rwlock_t lock;
    const lw_fp_key *key;
    slot *v;
    size_t n;
    uint64_t reloads, reload_failures;
};

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Opens file, with the stat it was opened with. */
static lw_edm_list *open_list(const char *name, const char *file, const lw_fp_key *key,
                              struct stat *st, char *err, size_t errlen)
{
    char why[1024];
    memset(st, 0, sizeof(*st));
    stat(file, st); /* a failure shows in the open below */
    lw_edm_list *l = lw_edm_open(file, key, why, sizeof(why));
    if (!l) snprintf(err, errlen, "exact_match %s: %s", name, why);
    return l;
}

lw_edm_set *lw_edm_set_open(const char *const *names, const char *const *files, size_t n,
                            const lw_fp_key *key, char *err, size_t errlen)
{
    lw_edm_set *s = calloc(1, sizeof(*s));
    if (!s || !(s->v = calloc(n ? n : 1, sizeof(*s->v)))) {
        free(s);
        snprintf(err, errlen, "exact_match: out of memory");
        return NULL;
    }
    pthread_rwlock_init(&s->lock, NULL);
    s->key = key;
    for (size_t i = 0; i < n; i++, s->n++) {
        slot *sl = &s->v[i];
        sl->name = strdup(names[i]);
        sl->file = strdup(files[i]);
        if (!sl->name || !sl->file) {
            snprintf(err, errlen, "exact_match: out of memory");
            s->n++;
            lw_edm_set_free(s);
            return NULL;
        }
        if (!(sl->list = open_list(sl->name, sl->file, key, &sl->st, err, errlen))) {
            s->n++;
            lw_edm_set_free(s);
            return NULL;
        }
    }
    return s;
}

void lw_edm_set_free(lw_edm_set *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        lw_edm_close(s->v[i].list);
        free(s->v[i].name);
        free(s->v[i].file);
    }
    free(s->v);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

size_t lw_edm_set_count(const lw_edm_set *s)
{
    return s ? s->n : 0;
}

int lw_edm_set_find(const lw_edm_set *s, const char *name)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0) return (int)i;
    return -1;
}

void lw_edm_set_get_info(lw_edm_set *s, size_t i, lw_edm_set_info *info)
{
    pthread_rwlock_rdlock(&s->lock);
    const slot *sl = &s->v[i];
    info->name = sl->name;
    info->file = sl->file;
    info->norm = lw_edm_list_norm(sl->list);
    info->entries = lw_edm_list_entries(sl->list);
    info->memory = lw_edm_list_memory(sl->list);
    pthread_rwlock_unlock(&s->lock);
}

bool lw_edm_set_contains(lw_edm_set *s, int i, const uint8_t *v, size_t len, uint8_t *norm,
                         size_t *norm_len)
{
    if (i < 0 || (size_t)i >= s->n) return false;
    pthread_rwlock_rdlock(&s->lock);
    bool in = lw_edm_contains(s->v[i].list, v, len, norm, norm_len);
    pthread_rwlock_unlock(&s->lock);
    return in;
}

bool lw_edm_set_reload(lw_edm_set *s, size_t *reopened, char *err, size_t errlen)
{
    *reopened = 0;
    lw_edm_list **fresh = calloc(s->n ? s->n : 1, sizeof(*fresh));
    struct stat *st = calloc(s->n ? s->n : 1, sizeof(*st));
    bool ok = fresh && st;
    if (!ok) snprintf(err, errlen, "exact_match: out of memory");
    for (size_t i = 0; ok && i < s->n; i++) {
        struct stat now;
        if (stat(s->v[i].file, &now) == 0 && same_file(&now, &s->v[i].st)) continue;
        fresh[i] = open_list(s->v[i].name, s->v[i].file, s->key, &st[i], err, errlen);
        ok = fresh[i] != NULL;
    }
    if (ok) {
        pthread_rwlock_wrlock(&s->lock);
        for (size_t i = 0; i < s->n; i++) {
            if (!fresh[i]) continue;
            lw_edm_list *old = s->v[i].list;
            s->v[i].list = fresh[i];
            s->v[i].st = st[i];
            fresh[i] = old; /* closed below, after the lock */
            (*reopened)++;
        }
        s->reloads++;
        pthread_rwlock_unlock(&s->lock);
    } else {
        pthread_rwlock_wrlock(&s->lock);
        s->reload_failures++;
        pthread_rwlock_unlock(&s->lock);
    }
    for (size_t i = 0; fresh && i < s->n; i++) lw_edm_close(fresh[i]);
    free(fresh);
    free(st);
    return ok;
}

void lw_edm_set_reload_counts(lw_edm_set *s, uint64_t *done, uint64_t *failed)
{
    pthread_rwlock_rdlock(&s->lock);
    *done = s->reloads;
    *failed = s->reload_failures;
    pthread_rwlock_unlock(&s->lock);
}
