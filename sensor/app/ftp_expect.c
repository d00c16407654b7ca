/*
 * ftp_expect.c — the shared side of FTP data-connection linking (see ftp.h): lw_ftp_transfer
 * reference counting, and the table of announced data connections that every worker
 * registers into (control flows) and claims from (new flows).
 *
 * The table is a fixed array of `cap` entries chained into hash buckets by endpoint, and kept
 * on an age list (oldest first) so that expiry pops from its head. One mutex guards it; an
 * atomic entry count lets lw_ftp_expect_claim return without locking while it is empty, which
 * is the common case for every new flow of a sensor that sees no FTP.
 *
 * Entries that expire inside a claim cannot be reported there (claim has no counter); they are
 * kept pending and reported by the next add.
 */
#include "leakwatch/ftp.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NONE (-1)
#define EXPECT_CAP_LIMIT (1u << 24)

/* ------------------------------------------------------------------ transfers */

lw_ftp_transfer *lw_ftp_transfer_new(void)
{
    lw_ftp_transfer *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return NULL;
    }
    t->refs = 1;
    return t;
}

lw_ftp_transfer *lw_ftp_transfer_ref(lw_ftp_transfer *t)
{
    if (!t) return NULL;
    pthread_mutex_lock(&t->lock);
    t->refs++;
    pthread_mutex_unlock(&t->lock);
    return t;
}

void lw_ftp_transfer_unref(lw_ftp_transfer *t)
{
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    int left = --t->refs;
    pthread_mutex_unlock(&t->lock);
    if (left > 0) return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

void lw_ftp_transfer_get(lw_ftp_transfer *t, char command[8], char filename[256])
{
    if (!t) {
        command[0] = filename[0] = '\0';
        return;
    }
    pthread_mutex_lock(&t->lock);
    memcpy(command, t->command, sizeof(t->command));
    memcpy(filename, t->filename, sizeof(t->filename));
    pthread_mutex_unlock(&t->lock);
    command[sizeof(t->command) - 1] = '\0';
    filename[sizeof(t->filename) - 1] = '\0';
}

/* ------------------------------------------------------------------ expectation table */

typedef struct expect_entry {
    lw_ftp_endpoint ep; /* normalised: IPv4 has its last 12 address bytes zero */
    lw_ftp_transfer *tr;
    uint64_t expires;
    int32_t chain;      /* next in the hash bucket */
    int32_t prev, next; /* age list while used; `next` links the free list otherwise */
} expect_entry;

struct lw_ftp_expect_table {
    pthread_mutex_t lock;
    atomic_size_t count; /* used entries; read without the lock by claim */
    size_t cap;
    expect_entry *e;
    int32_t *bucket;
    size_t mask; /* buckets - 1 (a power of two) */
    int32_t oldest, newest, free_list;
    uint64_t expired_pending; /* expired during claims, reported by the next add */
};

static void normalise(lw_ftp_endpoint *out, const lw_ftp_endpoint *ep)
{
    memset(out, 0, sizeof(*out));
    out->ip_version = ep->ip_version;
    out->port = ep->port;
    memcpy(out->addr, ep->addr, ep->ip_version == 4 ? 4 : 16);
}

static size_t ep_hash(const lw_ftp_endpoint *ep)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    h = (h ^ ep->ip_version) * 1099511628211ull;
    for (int i = 0; i < 16; i++) h = (h ^ ep->addr[i]) * 1099511628211ull;
    h = (h ^ (ep->port & 0xff)) * 1099511628211ull;
    h = (h ^ (ep->port >> 8)) * 1099511628211ull;
    return (size_t)(h ^ h >> 32);
}

static bool ep_equal(const lw_ftp_endpoint *a, const lw_ftp_endpoint *b)
{
    return a->ip_version == b->ip_version && a->port == b->port &&
           memcmp(a->addr, b->addr, 16) == 0;
}

lw_ftp_expect_table *lw_ftp_expect_new(size_t cap)
{
    if (cap == 0) cap = LW_FTP_EXPECT_MAX;
    if (cap > EXPECT_CAP_LIMIT) cap = EXPECT_CAP_LIMIT;
    lw_ftp_expect_table *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    size_t nb = 16;
    while (nb < cap * 2) nb <<= 1;
    t->e = calloc(cap, sizeof(*t->e));
    t->bucket = malloc(nb * sizeof(*t->bucket));
    if (!t->e || !t->bucket || pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t->e);
        free(t->bucket);
        free(t);
        return NULL;
    }
    for (size_t i = 0; i < nb; i++) t->bucket[i] = NONE;
    for (size_t i = 0; i < cap; i++) t->e[i].next = i + 1 < cap ? (int32_t)(i + 1) : NONE;
    t->cap = cap;
    t->mask = nb - 1;
    t->oldest = t->newest = NONE;
    t->free_list = 0;
    atomic_init(&t->count, 0);
    return t;
}

void lw_ftp_expect_free(lw_ftp_expect_table *t)
{
    if (!t) return;
    for (int32_t i = t->oldest; i != NONE; i = t->e[i].next) lw_ftp_transfer_unref(t->e[i].tr);
    pthread_mutex_destroy(&t->lock);
    free(t->e);
    free(t->bucket);
    free(t);
}

/* The used entry for ep (normalised), or NONE. */
static int32_t find(const lw_ftp_expect_table *t, const lw_ftp_endpoint *ep)
{
    for (int32_t i = t->bucket[ep_hash(ep) & t->mask]; i != NONE; i = t->e[i].chain)
        if (ep_equal(&t->e[i].ep, ep)) return i;
    return NONE;
}

static void age_unlink(lw_ftp_expect_table *t, int32_t i)
{
    expect_entry *e = &t->e[i];
    if (e->prev != NONE)
        t->e[e->prev].next = e->next;
    else
        t->oldest = e->next;
    if (e->next != NONE)
        t->e[e->next].prev = e->prev;
    else
        t->newest = e->prev;
}

static void age_append(lw_ftp_expect_table *t, int32_t i)
{
    t->e[i].prev = t->newest;
    t->e[i].next = NONE;
    if (t->newest != NONE)
        t->e[t->newest].next = i;
    else
        t->oldest = i;
    t->newest = i;
}

/* Takes entry i out of the table; returns its transfer reference (the caller's now). */
static lw_ftp_transfer *take(lw_ftp_expect_table *t, int32_t i)
{
    int32_t *link = &t->bucket[ep_hash(&t->e[i].ep) & t->mask];
    while (*link != i) link = &t->e[*link].chain;
    *link = t->e[i].chain;
    age_unlink(t, i);
    lw_ftp_transfer *tr = t->e[i].tr;
    t->e[i].tr = NULL;
    t->e[i].next = t->free_list;
    t->free_list = i;
    atomic_fetch_sub_explicit(&t->count, 1, memory_order_release);
    return tr;
}

/* Drops the expired entries at the head of the age list; returns how many. */
static uint64_t sweep(lw_ftp_expect_table *t, uint64_t now_usec)
{
    uint64_t n = 0;
    while (t->oldest != NONE && now_usec >= t->e[t->oldest].expires) {
        lw_ftp_transfer_unref(take(t, t->oldest));
        n++;
    }
    return n;
}

static bool insert(lw_ftp_expect_table *t, const lw_ftp_endpoint *ep, lw_ftp_transfer *tr,
                   uint64_t expires)
{
    int32_t i = find(t, ep);
    if (i != NONE) { /* announced again: the newest announcement wins */
        lw_ftp_transfer_unref(t->e[i].tr);
        t->e[i].tr = lw_ftp_transfer_ref(tr);
        t->e[i].expires = expires;
        age_unlink(t, i);
        age_append(t, i);
        return true;
    }
    if (t->free_list == NONE) return false;
    i = t->free_list;
    expect_entry *e = &t->e[i];
    t->free_list = e->next;
    e->ep = *ep;
    e->tr = lw_ftp_transfer_ref(tr);
    e->expires = expires;
    size_t b = ep_hash(ep) & t->mask;
    e->chain = t->bucket[b];
    t->bucket[b] = i;
    age_append(t, i);
    atomic_fetch_add_explicit(&t->count, 1, memory_order_release);
    return true;
}

bool lw_ftp_expect_add(lw_ftp_expect_table *t, const lw_ftp_endpoint *ep, lw_ftp_transfer *tr,
                       uint64_t now_usec, uint64_t *expired)
{
    if (!t || !ep || !tr) return false;
    lw_ftp_endpoint key;
    normalise(&key, ep);
    uint64_t expires = now_usec + LW_FTP_EXPECT_TIMEOUT_USEC;
    if (expires < now_usec) expires = UINT64_MAX;
    pthread_mutex_lock(&t->lock);
    uint64_t n = sweep(t, now_usec) + t->expired_pending;
    t->expired_pending = 0;
    bool ok = insert(t, &key, tr, expires);
    pthread_mutex_unlock(&t->lock);
    if (expired) *expired += n;
    return ok;
}

lw_ftp_transfer *lw_ftp_expect_claim(lw_ftp_expect_table *t, const lw_ftp_endpoint *ep,
                                     uint64_t now_usec)
{
    if (!t || !ep || atomic_load_explicit(&t->count, memory_order_acquire) == 0) return NULL;
    lw_ftp_endpoint key;
    normalise(&key, ep);
    lw_ftp_transfer *tr = NULL;
    pthread_mutex_lock(&t->lock);
    t->expired_pending += sweep(t, now_usec);
    int32_t i = find(t, &key);
    if (i != NONE) tr = take(t, i);
    if (tr && now_usec >= t->e[i].expires) { /* expired behind a younger head */
        lw_ftp_transfer_unref(tr);
        tr = NULL;
        t->expired_pending++;
    }
    pthread_mutex_unlock(&t->lock);
    return tr;
}
