/*
 * dns_tunnel.c — the DNS-tunnel table of dns_query.h: suspect query names (long, high-entropy
 * part before the registered domain) counted per (client address, registered domain), shared
 * by every worker under one mutex.
 *
 * A pair counts distinct names: it remembers the hashes of its last TUNNEL_RING suspect names
 * and does not count one of them again (resolver retries, repeated lookups). The table is a
 * chained hash of at most `cap` pairs on an LRU list; when full, the least recently used pair
 * is evicted (counted in tunnel_evicted). A pair reports its count once, when it reaches the
 * threshold.
 */
#include "leakwatch/dns_query.h"
#include "leakwatch/validate.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TUNNEL_RING 64

typedef struct tunnel_pair {
    struct tunnel_pair *chain;         /* next in the hash bucket */
    struct tunnel_pair *newer, *older; /* LRU list */
    uint64_t hash;
    uint8_t ip_version;
    uint8_t addr[16];
    bool alerted;
    uint32_t count; /* distinct suspect names */
    uint32_t ring_n, ring_next;
    uint64_t ring[TUNNEL_RING]; /* hashes of the last suspect names */
    size_t domain_len;
    char domain[]; /* lower case */
} tunnel_pair;

struct lw_dns_tunnel {
    pthread_mutex_t lock;
    size_t cap, n;
    tunnel_pair **bucket;
    size_t mask;
    tunnel_pair *newest, *oldest;
    uint32_t min_length;
    double min_entropy;
    uint32_t threshold;
};

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static uint64_t fnv_step(uint64_t h, uint8_t b)
{
    return (h ^ b) * 1099511628211ull;
}

/* The name's hash, case-insensitive (resolvers may randomise case). */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = fnv_step(h, (uint8_t)lower(*s));
    return h;
}

static uint64_t pair_hash(uint8_t ipv, const uint8_t addr[16], const char *dom, size_t n)
{
    uint64_t h = fnv_step(1469598103934665603ull, ipv);
    for (int i = 0; i < 16; i++) h = fnv_step(h, addr[i]);
    for (size_t i = 0; i < n; i++) h = fnv_step(h, (uint8_t)lower(dom[i]));
    return h ^ h >> 29;
}

lw_dns_tunnel *lw_dns_tunnel_new(size_t cap, uint32_t min_length, double min_entropy,
                                 uint32_t threshold)
{
    if (cap == 0) cap = 1;
    if (cap > (1u << 24)) cap = 1u << 24;
    lw_dns_tunnel *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    size_t nb = 16;
    while (nb < cap) nb <<= 1;
    t->bucket = calloc(nb, sizeof(*t->bucket));
    if (!t->bucket || pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t->bucket);
        free(t);
        return NULL;
    }
    t->mask = nb - 1;
    t->cap = cap;
    t->min_length = min_length;
    t->min_entropy = min_entropy;
    t->threshold = threshold;
    return t;
}

void lw_dns_tunnel_free(lw_dns_tunnel *t)
{
    if (!t) return;
    for (tunnel_pair *p = t->newest, *next; p; p = next) {
        next = p->older;
        free(p);
    }
    pthread_mutex_destroy(&t->lock);
    free(t->bucket);
    free(t);
}

/* The part before the registered domain is long and random enough. */
static bool suspect_rest(const lw_dns_tunnel *t, const char *rest, size_t rest_len)
{
    uint8_t buf[LW_DNS_NAME_MAX];
    size_t n = 0;
    for (size_t i = 0; i < rest_len && n < sizeof(buf); i++)
        if (rest[i] != '.') buf[n++] = (uint8_t)rest[i];
    return n >= t->min_length && lw_shannon_entropy(buf, n) >= t->min_entropy;
}

static void lru_unlink(lw_dns_tunnel *t, tunnel_pair *p)
{
    if (p->newer)
        p->newer->older = p->older;
    else
        t->newest = p->older;
    if (p->older)
        p->older->newer = p->newer;
    else
        t->oldest = p->newer;
    p->newer = p->older = NULL;
}

static void lru_front(lw_dns_tunnel *t, tunnel_pair *p)
{
    p->older = t->newest;
    p->newer = NULL;
    if (t->newest)
        t->newest->newer = p;
    else
        t->oldest = p;
    t->newest = p;
}

static void evict_oldest(lw_dns_tunnel *t)
{
    tunnel_pair *p = t->oldest;
    tunnel_pair **link = &t->bucket[p->hash & t->mask];
    while (*link != p) link = &(*link)->chain;
    *link = p->chain;
    lru_unlink(t, p);
    free(p);
    t->n--;
}

static bool pair_is(const tunnel_pair *p, uint64_t h, uint8_t ipv, const uint8_t addr[16],
                    const char *dom, size_t n)
{
    if (p->hash != h || p->ip_version != ipv || p->domain_len != n) return false;
    if (memcmp(p->addr, addr, 16) != 0) return false;
    for (size_t i = 0; i < n; i++)
        if (p->domain[i] != lower(dom[i])) return false;
    return true;
}

/* The pair, created if new (evicting the oldest when full: *evicted). NULL: out of memory. */
static tunnel_pair *pair_get(lw_dns_tunnel *t, uint8_t ipv, const uint8_t addr[16], const char *dom,
                             bool *evicted)
{
    size_t n = strlen(dom);
    uint64_t h = pair_hash(ipv, addr, dom, n);
    for (tunnel_pair *p = t->bucket[h & t->mask]; p; p = p->chain)
        if (pair_is(p, h, ipv, addr, dom, n)) return p;
    if (t->n >= t->cap) {
        evict_oldest(t);
        *evicted = true;
    }
    tunnel_pair *p = calloc(1, sizeof(*p) + n + 1);
    if (!p) return NULL;
    p->hash = h;
    p->ip_version = ipv;
    memcpy(p->addr, addr, 16);
    for (size_t i = 0; i < n; i++) p->domain[i] = lower(dom[i]);
    p->domain_len = n;
    p->chain = t->bucket[h & t->mask];
    t->bucket[h & t->mask] = p;
    lru_front(t, p);
    t->n++;
    return p;
}

/* Remembers the name; false if it was among the pair's last TUNNEL_RING names. */
static bool ring_add(tunnel_pair *p, uint64_t h)
{
    for (uint32_t i = 0; i < p->ring_n; i++)
        if (p->ring[i] == h) return false;
    p->ring[p->ring_next] = h;
    p->ring_next = (p->ring_next + 1) % TUNNEL_RING;
    if (p->ring_n < TUNNEL_RING) p->ring_n++;
    return true;
}

/* Counts one distinct suspect name; the count if it made the pair reach the threshold. */
static uint32_t count_name(lw_dns_tunnel *t, tunnel_pair *p, uint64_t name)
{
    if (t->newest != p) {
        lru_unlink(t, p);
        lru_front(t, p);
    }
    if (!ring_add(p, name)) return 0;
    if (p->count < UINT32_MAX) p->count++;
    if (p->alerted || p->count < t->threshold) return 0;
    p->alerted = true;
    return p->count;
}

uint32_t lw_dns_tunnel_feed(lw_dns_tunnel *t, uint8_t ip_version, const uint8_t addr[16],
                            const char *dotted, bool *suspect, lw_dns_counters *ctr)
{
    if (suspect) *suspect = false;
    if (!t || !addr || !dotted) return 0;
    size_t rest_len;
    const char *dom = lw_dns_registered_domain(dotted, &rest_len);
    if (!suspect_rest(t, dotted, rest_len)) return 0;
    if (suspect) *suspect = true;
    if (ctr) ctr->c[LW_DNS_suspect_names]++;
    uint8_t key[16] = {0};
    memcpy(key, addr, ip_version == 4 ? 4 : 16);
    uint64_t name = name_hash(dotted);
    bool evicted = false;
    uint32_t r = 0;
    pthread_mutex_lock(&t->lock);
    tunnel_pair *p = pair_get(t, ip_version, key, dom, &evicted);
    if (p) r = count_name(t, p, name);
    pthread_mutex_unlock(&t->lock);
    if (evicted && ctr) ctr->c[LW_DNS_tunnel_evicted]++;
    return r;
}
