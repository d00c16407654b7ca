/*
 * defrag.c — IPv4 and IPv6 fragment reassembly (see leakwatch/defrag.h).
 *
 * Trackers (one per datagram being rebuilt) sit in a chained hash table keyed
 * (ctx, family, src, dst, id, IPv4 protocol) with a per-instance random seed, and on an LRU
 * list in order of last activity, so expiry only looks at the trackers it drops.
 *
 * A tracker keeps its data in one buffer indexed by fragment offset (grown by doubling, never
 * past 64 KiB) plus a bitmap with one bit per 8-byte block. Every fragment starts on an 8-byte
 * boundary and every fragment except the last must end on one (others are refused), and only
 * last fragments may end at the datagram's end, so a block is always wholly present or absent:
 * the bitmap is exact, and the datagram is complete when the bytes held equal its length.
 *
 * Overlap policy: FIRST DATA WINS. A byte already held is never replaced; a later fragment
 * covering it only has its copy compared (overlap_diff counts differing bytes). This is
 * Suricata's "first" policy. It is not BSD/Linux behaviour, where a later fragment that starts
 * before held data can replace it; a differing overlap is the evasion signal either way.
 * Likewise the first last-fragment fixes the datagram's length and the first offset-0 fragment
 * supplies the output header.
 *
 * Memory: every tracker, header copy, data buffer and bitmap counts against memcap_mb. The hash
 * bucket array and the 64 KiB output buffer are fixed per instance and not counted.
 */
#include "leakwatch/defrag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

LW_COUNTER_NAMES(defrag, DEFRAG, LW_DEFRAG_COUNTERS)

#define DEFRAG_DEFAULT_MEMCAP_MB 32u
#define DEFRAG_DEFAULT_TIMEOUT_SEC 60u
#define DEFRAG_DEFAULT_MAX_TRACKERS 65536u
#define DEFRAG_MIN_CAP 1024u  /* first data buffer size; a power of two */
#define DEFRAG_MAX_CAP 65536u /* fragment data always ends at or below 65535 */
#define DEFRAG_MAX_BUCKETS (1u << 20)
#define DEFRAG_IP_MAX 65535u          /* IPv4 total length, IPv6 payload length */
#define DEFRAG_OUT_MAX (40u + 65535u) /* largest IPv6 datagram without jumbograms */

#define IP6_NH_FRAGMENT 44

/* Tracker key. Zero-filled before use so it can be hashed and compared as bytes. */
typedef struct defrag_key {
    uint32_t ctx;
    uint32_t id; /* IPv4: 16-bit identification; IPv6: 32-bit */
    uint8_t src[16];
    uint8_t dst[16];
    uint8_t family; /* 4 or 6 */
    uint8_t proto;  /* IPv4 protocol; 0 for IPv6 (not part of its key) */
    uint8_t pad[6];
} defrag_key;

typedef struct tracker {
    struct tracker *hnext, **hprev; /* hash chain; hprev points at whatever points at us */
    struct tracker *lru_prev, *lru_next;
    defrag_key key;
    uint64_t last_seen; /* packet time of the last accepted fragment */
    uint8_t *data;      /* cap bytes, indexed by fragment offset */
    uint8_t *have;      /* cap / 64 bytes: one bit per 8-byte block of data */
    uint8_t *hdr;       /* output header from the offset-0 fragment; NULL until it arrives */
    uint32_t cap;
    uint32_t hdr_len;
    uint32_t held;    /* data bytes present */
    uint32_t max_end; /* highest fragment end accepted */
    uint32_t total;   /* data length, once the last fragment fixed it */
    bool seen_last;
} tracker;

struct lw_defrag {
    uint64_t memcap;
    uint64_t mem;
    uint64_t timeout_usec;
    uint64_t seed;
    uint32_t max_trackers;
    uint32_t ntrackers;
    uint32_t bucket_mask;
    tracker **buckets;
    tracker *lru_head, *lru_tail; /* head = idle longest */
    uint8_t *out;                 /* DEFRAG_OUT_MAX bytes: the datagram last returned */
    lw_defrag_counters ctr;
};

/* One fragment, family independent. */
typedef struct fragment {
    defrag_key key;
    const uint8_t *hdr; /* header kept if this is the offset-0 fragment */
    uint32_t hdr_len;
    uint32_t nh_off; /* IPv6: Next Header byte in hdr to set to next_hdr */
    uint8_t next_hdr;
    bool is_v6;
    const uint8_t *data;
    uint32_t off, len;
    bool more;
    uint32_t end_limit; /* largest end whose reassembly still fits the 16-bit length field */
} fragment;

#define CTR(d, name) ((d)->ctr.c[LW_DEFRAG_##name]++)

static inline uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* Seeded so that a sender cannot aim many datagrams at one bucket without knowing the seed. */
static uint32_t key_hash(uint64_t seed, const defrag_key *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = seed;
    for (size_t i = 0; i < sizeof *k; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = mix64(h ^ w) + i;
    }
    return (uint32_t)mix64(h);
}

static uint64_t tracker_mem(const tracker *t)
{
    return sizeof *t + t->hdr_len + t->cap + t->cap / 64;
}

static void lru_unlink(lw_defrag *d, tracker *t)
{
    if (t->lru_prev)
        t->lru_prev->lru_next = t->lru_next;
    else
        d->lru_head = t->lru_next;
    if (t->lru_next)
        t->lru_next->lru_prev = t->lru_prev;
    else
        d->lru_tail = t->lru_prev;
    t->lru_prev = t->lru_next = NULL;
}

static void lru_append(lw_defrag *d, tracker *t)
{
    t->lru_prev = d->lru_tail;
    t->lru_next = NULL;
    if (d->lru_tail)
        d->lru_tail->lru_next = t;
    else
        d->lru_head = t;
    d->lru_tail = t;
}

static void tracker_drop(lw_defrag *d, tracker *t)
{
    *t->hprev = t->hnext;
    if (t->hnext) t->hnext->hprev = t->hprev;
    lru_unlink(d, t);
    d->mem -= tracker_mem(t);
    d->ntrackers--;
    free(t->data);
    free(t->have);
    free(t->hdr);
    free(t);
}

static bool idle_too_long(const lw_defrag *d, const tracker *t, uint64_t now)
{
    return now > t->last_seen && now - t->last_seen > d->timeout_usec;
}

void lw_defrag_expire(lw_defrag *d, uint64_t now_usec)
{
    while (d->lru_head && idle_too_long(d, d->lru_head, now_usec)) {
        CTR(d, timeouts);
        tracker_drop(d, d->lru_head);
    }
}

lw_defrag *lw_defrag_new(const lw_defrag_config *cfg)
{
    lw_defrag_config c = {0};
    if (cfg) c = *cfg;
    if (!c.memcap_mb) c.memcap_mb = DEFRAG_DEFAULT_MEMCAP_MB;
    if (!c.timeout_sec) c.timeout_sec = DEFRAG_DEFAULT_TIMEOUT_SEC;
    if (!c.max_trackers) c.max_trackers = DEFRAG_DEFAULT_MAX_TRACKERS;

    lw_defrag *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->memcap = (uint64_t)c.memcap_mb << 20;
    d->timeout_usec = (uint64_t)c.timeout_sec * 1000000u;
    d->max_trackers = c.max_trackers;

    uint32_t nbuckets = 64;
    while (nbuckets < c.max_trackers && nbuckets < DEFRAG_MAX_BUCKETS) nbuckets <<= 1;
    d->bucket_mask = nbuckets - 1;
    d->buckets = calloc(nbuckets, sizeof *d->buckets);
    d->out = malloc(DEFRAG_OUT_MAX);
    if (!d->buckets || !d->out) {
        free(d->buckets);
        free(d->out);
        free(d);
        return NULL;
    }
    if (getrandom(&d->seed, sizeof d->seed, GRND_NONBLOCK) != (ssize_t)sizeof d->seed)
        d->seed = mix64((uint64_t)(uintptr_t)d ^ (uint64_t)time(NULL));
    return d;
}

void lw_defrag_free(lw_defrag *d)
{
    if (!d) return;
    while (d->lru_head) tracker_drop(d, d->lru_head);
    free(d->buckets);
    free(d->out);
    free(d);
}

const lw_defrag_counters *lw_defrag_get_counters(const lw_defrag *d)
{
    return &d->ctr;
}

uint64_t lw_defrag_mem_in_use(const lw_defrag *d)
{
    return d->mem;
}

static tracker **bucket_of(lw_defrag *d, const defrag_key *k)
{
    return &d->buckets[key_hash(d->seed, k) & d->bucket_mask];
}

static tracker *tracker_find(lw_defrag *d, const defrag_key *k)
{
    for (tracker *t = *bucket_of(d, k); t; t = t->hnext)
        if (memcmp(&t->key, k, sizeof *k) == 0) return t;
    return NULL;
}

/* A new empty tracker, or NULL after counting why not. */
static tracker *tracker_create(lw_defrag *d, const defrag_key *k, uint64_t now)
{
    if (d->ntrackers >= d->max_trackers) {
        CTR(d, tracker_drops);
        return NULL;
    }
    if (d->mem + sizeof(tracker) > d->memcap) {
        CTR(d, memcap_drops);
        return NULL;
    }
    tracker *t = calloc(1, sizeof *t);
    if (!t) {
        CTR(d, memcap_drops);
        return NULL;
    }
    t->key = *k;
    t->last_seen = now;
    tracker **b = bucket_of(d, k);
    t->hnext = *b;
    if (*b) (*b)->hprev = &t->hnext;
    t->hprev = b;
    *b = t;
    lru_append(d, t);
    d->ntrackers++;
    d->mem += sizeof *t;
    return t;
}

/* Make room for data up to `end`; false when the memcap (or malloc) refuses. */
static bool tracker_reserve(lw_defrag *d, tracker *t, uint32_t end)
{
    if (end <= t->cap) return true;
    uint32_t cap = t->cap ? t->cap : DEFRAG_MIN_CAP;
    while (cap < end) cap <<= 1; /* end <= 65535, so cap stays <= DEFRAG_MAX_CAP */
    uint64_t grow = (uint64_t)(cap - t->cap) + (cap - t->cap) / 64;
    if (d->mem + grow > d->memcap) return false;
    uint8_t *data = realloc(t->data, cap);
    if (!data) return false;
    t->data = data;
    uint8_t *have = realloc(t->have, cap / 64);
    if (!have) return false; /* t->data is bigger than t->cap: harmless, freed with t */
    memset(have + t->cap / 64, 0, (cap - t->cap) / 64);
    t->have = have;
    t->cap = cap;
    d->mem += grow;
    return true;
}

static bool tracker_keep_header(lw_defrag *d, tracker *t, const fragment *f)
{
    if (d->mem + f->hdr_len > d->memcap) return false;
    t->hdr = malloc(f->hdr_len);
    if (!t->hdr) return false;
    memcpy(t->hdr, f->hdr, f->hdr_len);
    if (f->is_v6) t->hdr[f->nh_off] = f->next_hdr;
    t->hdr_len = f->hdr_len;
    d->mem += f->hdr_len;
    return true;
}

/* Copy the bytes not yet held (first data wins); count overlap and duplicate bytes. */
static void tracker_insert(lw_defrag *d, tracker *t, const fragment *f)
{
    uint32_t end = f->off + f->len, fresh = 0, seen = 0;
    uint64_t differ = 0;
    for (uint32_t pos = f->off; pos < end; pos += 8) {
        uint32_t n = end - pos < 8 ? end - pos : 8;
        uint32_t blk = pos >> 3;
        uint8_t bit = (uint8_t)(1u << (blk & 7));
        const uint8_t *src = f->data + (pos - f->off);
        if (t->have[blk >> 3] & bit) {
            seen += n;
            for (uint32_t i = 0; i < n; i++) differ += t->data[pos + i] != src[i];
        } else {
            memcpy(t->data + pos, src, n);
            t->have[blk >> 3] |= bit;
            fresh += n;
        }
    }
    t->held += fresh;
    d->ctr.c[LW_DEFRAG_overlap_diff] += differ;
    if (!fresh)
        CTR(d, duplicates);
    else if (seen)
        CTR(d, overlaps);
}

/* Write the rebuilt datagram into d->out. */
static uint32_t tracker_emit(lw_defrag *d, const tracker *t, bool is_v6)
{
    uint8_t *o = d->out;
    uint32_t hl = t->hdr_len;
    memcpy(o, t->hdr, hl);
    memcpy(o + hl, t->data, t->total);
    if (is_v6) {
        wr16(o + 4, hl - 40 + t->total);
    } else {
        wr16(o + 2, hl + t->total);
        o[6] &= 0xc0; /* keep the reserved and DF bits; clear MF and the offset */
        o[7] = 0;
        o[10] = o[11] = 0;
        uint32_t sum = 0;
        for (uint32_t i = 0; i < hl; i += 2) sum += rd16(o + i);
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        wr16(o + 10, ~sum & 0xffff);
    }
    return hl + t->total;
}

/* The shared reassembly step for one validated fragment. */
static int defrag_add(lw_defrag *d, uint64_t now, const fragment *f, const uint8_t **out,
                      uint32_t *out_len)
{
    uint32_t end = f->off + f->len;
    if (f->len == 0) {
        CTR(d, empty);
        return -1;
    }
    if (f->more && (f->len & 7)) {
        CTR(d, not_multiple_of_8);
        return -1;
    }

    lw_defrag_expire(d, now);
    tracker *t = tracker_find(d, &f->key);
    if (t && idle_too_long(d, t, now)) { /* time went backwards past the LRU order */
        CTR(d, timeouts);
        tracker_drop(d, t);
        t = NULL;
    }
    if (end > f->end_limit) { /* ping-of-death style: the whole datagram is refused */
        CTR(d, too_large);
        if (t) tracker_drop(d, t);
        return -1;
    }
    if (t && t->seen_last) {
        if (!f->more && end != t->total) {
            CTR(d, last_conflict);
            return -1;
        }
        if (end > t->total) {
            CTR(d, beyond_last);
            return -1;
        }
    } else if (t && !f->more && end < t->max_end) {
        CTR(d, last_conflict); /* data already held lies past this "last" fragment */
        return -1;
    }
    if (!t && !(t = tracker_create(d, &f->key, now))) return -1;

    /* A lost fragment means the datagram can never complete: drop it and free its memory. */
    if (!tracker_reserve(d, t, end) || (f->off == 0 && !t->hdr && !tracker_keep_header(d, t, f))) {
        CTR(d, memcap_drops);
        tracker_drop(d, t);
        return -1;
    }
    if (!f->more) {
        t->seen_last = true;
        t->total = end;
    }
    tracker_insert(d, t, f);
    if (end > t->max_end) t->max_end = end;
    if (now > t->last_seen) t->last_seen = now;
    lru_unlink(d, t);
    lru_append(d, t);

    if (!t->seen_last || t->held != t->total || !t->hdr) return 0;
    if (t->hdr_len - (f->is_v6 ? 40u : 0u) + t->total > DEFRAG_IP_MAX) {
        CTR(d, too_large); /* the offset-0 header is longer than the one that set end_limit */
        tracker_drop(d, t);
        return -1;
    }
    *out_len = tracker_emit(d, t, f->is_v6);
    *out = d->out;
    tracker_drop(d, t);
    CTR(d, reassembled);
    return 1;
}

/* Smallest header of the protocols whose first fragment RFC 1858 / RFC 7112 worry about. */
static uint32_t l4_min_header(uint8_t proto)
{
    switch (proto) {
    case 6:
        return 20; /* TCP */
    case 17:
    case 1:
    case 58:
        return 8; /* UDP, ICMP, ICMPv6 */
    case 132:
        return 12; /* SCTP common header */
    default:
        return 0;
    }
}

int lw_defrag_ipv4(lw_defrag *d, uint64_t now_usec, uint32_t ctx, const uint8_t *ip, uint32_t len,
                   const uint8_t **out, uint32_t *out_len)
{
    CTR(d, fragments);
    if (len < 20 || ip[0] >> 4 != 4 || (uint32_t)(ip[0] & 0x0f) * 4 < 20 ||
        (uint32_t)(ip[0] & 0x0f) * 4 > len) {
        CTR(d, invalid);
        return -1;
    }
    uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
    uint32_t tot = rd16(ip + 2);
    if (tot < ihl) {
        CTR(d, invalid);
        return -1;
    }
    if (tot > len) { /* the capture cut it: its true extent is unknown */
        CTR(d, truncated);
        return -1;
    }
    uint16_t fo = rd16(ip + 6);
    fragment f = {0};
    f.more = (fo & 0x2000) != 0;
    f.off = (uint32_t)(fo & 0x1fff) * 8;
    if (!f.more && f.off == 0) { /* not a fragment: nothing to do */
        *out = ip;
        *out_len = tot;
        return 1;
    }
    f.key.ctx = ctx;
    f.key.id = rd16(ip + 4);
    memcpy(f.key.src, ip + 12, 4);
    memcpy(f.key.dst, ip + 16, 4);
    f.key.family = 4;
    f.key.proto = ip[9];
    f.hdr = ip;
    f.hdr_len = ihl;
    f.data = ip + ihl;
    f.len = tot - ihl;
    f.end_limit = DEFRAG_IP_MAX - ihl;
    if (f.off == 0 && f.more && f.len < l4_min_header(ip[9])) CTR(d, tiny_first);
    return defrag_add(d, now_usec, &f, out, out_len);
}

int lw_defrag_ipv6(lw_defrag *d, uint64_t now_usec, uint32_t ctx, const uint8_t *ip6, uint32_t len,
                   uint32_t frag_off, uint32_t nh_off, const uint8_t **out, uint32_t *out_len)
{
    CTR(d, fragments);
    if (len < 48 || ip6[0] >> 4 != 6) {
        CTR(d, invalid);
        return -1;
    }
    uint32_t plen = rd16(ip6 + 4);
    if (plen == 0) { /* a jumbogram cannot carry a Fragment header (RFC 2675) */
        CTR(d, invalid);
        return -1;
    }
    if (40 + plen > len) {
        CTR(d, truncated);
        return -1;
    }
    len = 40 + plen;
    if (frag_off < 40 || frag_off > len - 8 ||
        !(nh_off == 6 || (nh_off >= 40 && nh_off < frag_off)) || ip6[nh_off] != IP6_NH_FRAGMENT) {
        CTR(d, invalid);
        return -1;
    }
    const uint8_t *fh = ip6 + frag_off;
    uint16_t fo = rd16(fh + 2);
    fragment f = {0};
    f.more = (fo & 1) != 0;
    f.off = fo & 0xfff8u;
    f.data = fh + 8;
    f.len = len - frag_off - 8;
    f.next_hdr = fh[0];

    if (f.off == 0 && !f.more) { /* atomic fragment: handled alone, never joins a tracker */
        memcpy(d->out, ip6, frag_off);
        d->out[nh_off] = f.next_hdr;
        memcpy(d->out + frag_off, f.data, f.len);
        wr16(d->out + 4, plen - 8);
        *out = d->out;
        *out_len = len - 8;
        CTR(d, atomic);
        return 1;
    }
    f.key.ctx = ctx;
    f.key.id = rd32(fh + 4);
    memcpy(f.key.src, ip6 + 8, 16);
    memcpy(f.key.dst, ip6 + 24, 16);
    f.key.family = 6;
    f.is_v6 = true;
    f.hdr = ip6;
    f.hdr_len = frag_off;
    f.nh_off = nh_off;
    f.end_limit = DEFRAG_IP_MAX - (frag_off - 40);
    if (f.off == 0 && f.more && f.len < l4_min_header(f.next_hdr)) CTR(d, tiny_first);
    return defrag_add(d, now_usec, &f, out, out_len);
}
