/*
 * flow_table.c — the per-worker flow table: lookup, creation, expiry, eviction, flush.
 *
 * A fixed bucket array (sized from max_flows) chains flows; a keyed hash with a per-table
 * random key keeps crafted traffic from piling flows into one bucket. Every flow also sits
 * on one least-recently-seen list per timeout class (new TCP, established TCP, closed TCP,
 * UDP, other): packets arrive in time order, so each list is ordered by last packet time and
 * expiry only looks at list heads — O(flows expired). Ended flows go to a free list, so a
 * flow is allocated when it is created and never per packet.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "leakwatch/flow.h"

LW_COUNTER_NAMES(flow, FLOW, LW_FLOW_COUNTERS)

enum lru_class { LRU_TCP_NEW, LRU_TCP_EST, LRU_TCP_CLOSED, LRU_UDP, LRU_OTHER, LRU__COUNT };

#define MAX_BUCKETS (UINT32_C(1) << 24) /* 128 MiB of bucket pointers at most */
#define USEC_PER_SEC UINT64_C(1000000)

struct lw_flow_table {
    lw_flow_config cfg;
    uint64_t timeout_usec[LRU__COUNT];
    lw_flow_end_fn end_cb;
    void *user;
    lw_flow **buckets;
    uint32_t mask;
    uint32_t active;
    lw_flow *lru_head[LRU__COUNT], *lru_tail[LRU__COUNT];
    lw_flow *free_list; /* chained through links.hnext */
    uint64_t bucket_key[2];
    lw_flow_counters counters;
};

const char *lw_flow_reason_name(enum lw_flow_reason r)
{
    switch (r) {
    case LW_FLOW_END_FIN:
        return "fin";
    case LW_FLOW_END_RST:
        return "rst";
    case LW_FLOW_END_TIMEOUT:
        return "timeout";
    case LW_FLOW_END_EOF:
        return "eof";
    case LW_FLOW_END_SHUTDOWN:
        return "shutdown";
    }
    return "timeout";
}

static uint32_t or_default(uint32_t v, uint32_t def)
{
    return v ? v : def;
}

lw_flow_table *lw_flow_table_new(const lw_flow_config *cfg, lw_flow_end_fn end_cb, void *user)
{
    lw_flow_table *t = calloc(1, sizeof(*t));
    if (!t) return NULL;
    t->cfg = *cfg;
    t->cfg.max_flows = or_default(cfg->max_flows, 1000000);
    t->cfg.tcp_timeout = or_default(cfg->tcp_timeout, 600);
    t->cfg.udp_timeout = or_default(cfg->udp_timeout, 60);
    t->cfg.other_timeout = or_default(cfg->other_timeout, 30);
    t->cfg.tcp_closed_timeout = or_default(cfg->tcp_closed_timeout, 10);
    t->cfg.tcp_new_timeout = or_default(cfg->tcp_new_timeout, 30);
    t->timeout_usec[LRU_TCP_NEW] = t->cfg.tcp_new_timeout * USEC_PER_SEC;
    t->timeout_usec[LRU_TCP_EST] = t->cfg.tcp_timeout * USEC_PER_SEC;
    t->timeout_usec[LRU_TCP_CLOSED] = t->cfg.tcp_closed_timeout * USEC_PER_SEC;
    t->timeout_usec[LRU_UDP] = t->cfg.udp_timeout * USEC_PER_SEC;
    t->timeout_usec[LRU_OTHER] = t->cfg.other_timeout * USEC_PER_SEC;
    t->end_cb = end_cb;
    t->user = user;

    uint32_t nb = 16;
    while (nb < t->cfg.max_flows && nb < MAX_BUCKETS) nb <<= 1;
    t->buckets = calloc(nb, sizeof(*t->buckets));
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    t->mask = nb - 1;

    /* The bucket key only decides chain placement, which no output depends on. */
    if (getrandom(t->bucket_key, sizeof(t->bucket_key), GRND_NONBLOCK) !=
        (ssize_t)sizeof(t->bucket_key)) {
        t->bucket_key[0] = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)t;
        t->bucket_key[1] = 0xc2b2ae3d27d4eb4fULL ^ (uint64_t)(uintptr_t)t->buckets;
    }
    return t;
}

static void free_chain(lw_flow *f, bool lru)
{
    while (f) {
        lw_flow *next = lru ? f->links.lru_next : f->links.hnext;
        free(f);
        f = next;
    }
}

void lw_flow_table_free(lw_flow_table *t)
{
    if (!t) return;
    for (int c = 0; c < LRU__COUNT; c++) free_chain(t->lru_head[c], true);
    free_chain(t->free_list, false);
    free(t->buckets);
    free(t);
}

uint32_t lw_flow_table_active(const lw_flow_table *t)
{
    return t->active;
}

const lw_flow_counters *lw_flow_table_counters(const lw_flow_table *t)
{
    return &t->counters;
}

static enum lru_class class_of(const lw_flow *f)
{
    if (f->proto == 6) {
        switch (f->tcp_state) {
        case LW_TCP_ESTABLISHED:
        case LW_TCP_FIN_WAIT:
            return LRU_TCP_EST;
        case LW_TCP_CLOSED:
        case LW_TCP_RESET:
            return LRU_TCP_CLOSED;
        default:
            return LRU_TCP_NEW;
        }
    }
    return f->proto == 17 ? LRU_UDP : LRU_OTHER;
}

static void lru_unlink(lw_flow_table *t, lw_flow *f)
{
    lw_flow_links *l = &f->links;
    if (l->lru_prev)
        l->lru_prev->links.lru_next = l->lru_next;
    else
        t->lru_head[l->lru_class] = l->lru_next;
    if (l->lru_next)
        l->lru_next->links.lru_prev = l->lru_prev;
    else
        t->lru_tail[l->lru_class] = l->lru_prev;
    l->lru_prev = l->lru_next = NULL;
}

static void lru_append(lw_flow_table *t, lw_flow *f)
{
    enum lru_class c = class_of(f);
    f->links.lru_class = (uint8_t)c;
    f->links.lru_next = NULL;
    f->links.lru_prev = t->lru_tail[c];
    if (t->lru_tail[c])
        t->lru_tail[c]->links.lru_next = f;
    else
        t->lru_head[c] = f;
    t->lru_tail[c] = f;
}

static void bucket_unlink(lw_flow_table *t, lw_flow *f)
{
    lw_flow **pp = &t->buckets[f->links.bucket];
    while (*pp && *pp != f) pp = &(*pp)->links.hnext;
    if (*pp) *pp = f->links.hnext;
    f->links.hnext = NULL;
}

/* A closed TCP flow ended by FIN/RST whatever removes it; others get `otherwise`. */
static enum lw_flow_reason reason_for(const lw_flow *f, enum lw_flow_reason otherwise)
{
    if (f->proto == 6 && f->tcp_state == LW_TCP_RESET) return LW_FLOW_END_RST;
    if (f->proto == 6 && f->tcp_state == LW_TCP_CLOSED) return LW_FLOW_END_FIN;
    return otherwise;
}

static const enum lw_flow_counter reason_counter[] = {
    [LW_FLOW_END_FIN] = LW_FLOW_ended_fin,           [LW_FLOW_END_RST] = LW_FLOW_ended_rst,
    [LW_FLOW_END_TIMEOUT] = LW_FLOW_timed_out,       [LW_FLOW_END_EOF] = LW_FLOW_ended_eof,
    [LW_FLOW_END_SHUTDOWN] = LW_FLOW_ended_shutdown,
};

static void end_flow(lw_flow_table *t, lw_flow *f, enum lw_flow_reason reason)
{
    bucket_unlink(t, f);
    lru_unlink(t, f);
    f->end_reason = reason;
    if ((unsigned)reason < sizeof(reason_counter) / sizeof(reason_counter[0]))
        t->counters.c[reason_counter[reason]]++;
    if (t->end_cb) t->end_cb(t->user, f);
    f->links.hnext = t->free_list;
    t->free_list = f;
    t->active--;
}

static bool idle_at(const lw_flow_table *t, const lw_flow *f, uint64_t now)
{
    return now > f->last_usec && now - f->last_usec > t->timeout_usec[f->links.lru_class];
}

void lw_flow_table_expire(lw_flow_table *t, uint64_t now_usec)
{
    for (int c = 0; c < LRU__COUNT; c++) {
        while (t->lru_head[c] && idle_at(t, t->lru_head[c], now_usec))
            end_flow(t, t->lru_head[c], reason_for(t->lru_head[c], LW_FLOW_END_TIMEOUT));
    }
}

void lw_flow_table_flush(lw_flow_table *t, enum lw_flow_reason reason)
{
    for (int c = 0; c < LRU__COUNT; c++) {
        while (t->lru_head[c]) end_flow(t, t->lru_head[c], reason_for(t->lru_head[c], reason));
    }
}

/* The least recently seen flow is the oldest of the list heads. */
static void evict_one(lw_flow_table *t)
{
    lw_flow *victim = NULL;
    for (int c = 0; c < LRU__COUNT; c++) {
        lw_flow *h = t->lru_head[c];
        if (h && (!victim || h->last_usec < victim->last_usec)) victim = h;
    }
    if (!victim) return;
    t->counters.c[LW_FLOW_evicted]++;
    end_flow(t, victim, reason_for(victim, LW_FLOW_END_TIMEOUT));
}

/* Does f carry key k, and in which direction? */
static bool key_match(const lw_flow *f, const lw_flow_key *k, int *dir)
{
    if (f->proto != k->proto || f->ip_version != k->ip_version || f->vlan_count != k->vlan_count ||
        memcmp(f->vlan, k->vlan, sizeof(f->vlan)) != 0)
        return false;
    if (f->src_port == k->sport && f->dst_port == k->dport &&
        memcmp(&f->src_ip, &k->src, sizeof(lw_addr)) == 0 &&
        memcmp(&f->dst_ip, &k->dst, sizeof(lw_addr)) == 0) {
        *dir = 0;
        return true;
    }
    if (f->src_port == k->dport && f->dst_port == k->sport &&
        memcmp(&f->src_ip, &k->dst, sizeof(lw_addr)) == 0 &&
        memcmp(&f->dst_ip, &k->src, sizeof(lw_addr)) == 0) {
        *dir = 1;
        return true;
    }
    return false;
}

static lw_flow *create_flow(lw_flow_table *t, const lw_packet *p, const lw_flow_key *k,
                            uint32_t bucket, int *dir)
{
    if (t->active >= t->cfg.max_flows) evict_one(t);
    lw_flow *f = t->free_list;
    if (f) {
        t->free_list = f->links.hnext;
    } else {
        f = malloc(sizeof(*f));
        if (!f) {
            t->counters.c[LW_FLOW_alloc_failed]++;
            return NULL;
        }
    }
    memset(f, 0, sizeof(*f));

    /* A SYN/ACK seen first was sent by the server: its receiver opened the connection. */
    bool synack =
        p->proto == 6 && (p->tcp_flags & (LW_TCP_SYN | LW_TCP_ACK | LW_TCP_FIN | LW_TCP_RST)) ==
                             (LW_TCP_SYN | LW_TCP_ACK);
    *dir = synack ? 1 : 0;
    f->ip_version = k->ip_version;
    f->proto = k->proto;
    f->src_ip = synack ? k->dst : k->src;
    f->dst_ip = synack ? k->src : k->dst;
    f->src_port = synack ? k->dport : k->sport;
    f->dst_port = synack ? k->sport : k->dport;
    f->vlan_count = k->vlan_count;
    memcpy(f->vlan, k->vlan, sizeof(f->vlan));
    f->start_usec = f->last_usec = p->ts_usec;
    f->flow_id = lw_flow_id_make(k, p->ts_usec, p->file_idx, p->pkt_num);
    lw_community_id(f->ip_version, f->proto, &f->src_ip, &f->dst_ip, f->src_port, f->dst_port,
                    t->cfg.community_id_seed, f->community_id);
    lw_reasm_stream_init(&f->stream[0]);
    lw_reasm_stream_init(&f->stream[1]);
    if (f->proto == 6) lw_flow_tcp_start(f, p->tcp_flags, &t->counters);

    f->links.bucket = bucket;
    f->links.hnext = t->buckets[bucket];
    t->buckets[bucket] = f;
    lru_append(t, f);
    t->active++;
    t->counters.c[LW_FLOW_created]++;
    return f;
}

lw_flow *lw_flow_packet(lw_flow_table *t, const lw_packet *p, int *dir)
{
    if (p->ip_version != 4 && p->ip_version != 6) {
        t->counters.c[LW_FLOW_not_ip]++;
        return NULL;
    }
    lw_flow_key k;
    lw_flow_key_from_packet(p, &k);
    uint32_t bucket = (uint32_t)lw_flow_key_hash(&k, t->bucket_key) & t->mask;

    lw_flow *f = t->buckets[bucket];
    while (f && !key_match(f, &k, dir)) f = f->links.hnext;

    if (f && idle_at(t, f, p->ts_usec)) {
        end_flow(t, f, reason_for(f, LW_FLOW_END_TIMEOUT));
        f = NULL;
    } else if (f && lw_flow_tcp_closed(f) && lw_flow_tcp_is_syn(p->tcp_flags)) {
        t->counters.c[LW_FLOW_port_reuse]++;
        end_flow(t, f, reason_for(f, LW_FLOW_END_FIN));
        f = NULL;
    }
    if (!f) {
        f = create_flow(t, p, &k, bucket, dir);
        if (!f) return NULL;
    }

    f->pkts[*dir]++;
    f->bytes[*dir] += p->wirelen;
    if (p->ts_usec >= f->last_usec)
        f->last_usec = p->ts_usec;
    else
        t->counters.c[LW_FLOW_ts_backwards]++;
    if (f->proto == 6) lw_flow_tcp_update(f, *dir, p->tcp_flags, &t->counters);
    lru_unlink(t, f);
    lru_append(t, f);
    return f;
}
