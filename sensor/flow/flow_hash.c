/*
 * flow_hash.c — flow keys, the symmetric flow hash, and deterministic flow ids.
 *
 * Both directions of a flow must hash alike (the dispatcher sends them to one worker), so
 * the key is put in canonical order — lower (address, port) endpoint first — before
 * hashing. The hash is SipHash-1-3: keyed, so a table given a secret key cannot be flooded
 * with colliding flows by crafted traffic.
 */
#include <string.h>

#include "leakwatch/community_id.h"
#include "leakwatch/flow.h"

void lw_flow_key_from_packet(const lw_packet *p, lw_flow_key *k)
{
    memset(k, 0, sizeof(*k));
    k->ip_version = p->ip_version;
    k->proto = p->proto;
    k->src = p->src;
    k->dst = p->dst;
    if (p->proto == 1 || p->proto == 58) {
        /* Port equivalents: an echo request (8,0) and its reply (0,8) mirror each other. */
        lw_community_icmp_ports(p->proto, p->sport, p->dport, &k->sport, &k->dport);
    } else if (lw_community_has_ports(p->proto)) {
        k->sport = p->sport;
        k->dport = p->dport;
    }
    k->vlan_count = p->vlan_count < LW_MAX_VLAN ? p->vlan_count : LW_MAX_VLAN;
    for (unsigned i = 0; i < k->vlan_count; i++) k->vlan[i] = p->vlan[i] & 0x0fff;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

static uint64_t load64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* SipHash-1-3 (one compression round, three finalization rounds). */
static uint64_t siphash13(const uint8_t *in, size_t len, const uint64_t key[2])
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
    uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
    uint64_t v3 = 0x7465646279746573ULL ^ key[1];
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load64_le(in + i);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++) b |= (uint64_t)in[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* Canonical bytes of a key: version, proto, VLANs, then the lower endpoint first. */
enum { CANON_LEN = 4 + 2 * LW_MAX_VLAN + 2 * 16 + 4 };

static size_t canonical_bytes(const lw_flow_key *k, uint8_t *out)
{
    const lw_addr *a = &k->src, *b = &k->dst;
    uint16_t pa = k->sport, pb = k->dport;
    int c = memcmp(a->b, b->b, sizeof(a->b));
    if (c > 0 || (c == 0 && pa > pb)) {
        a = &k->dst;
        b = &k->src;
        pa = k->dport;
        pb = k->sport;
    }
    size_t n = 0;
    out[n++] = k->ip_version;
    out[n++] = k->proto;
    out[n++] = k->vlan_count;
    out[n++] = 0;
    for (unsigned i = 0; i < LW_MAX_VLAN; i++) {
        out[n++] = (uint8_t)(k->vlan[i] >> 8);
        out[n++] = (uint8_t)k->vlan[i];
    }
    memcpy(out + n, a->b, 16);
    n += 16;
    memcpy(out + n, b->b, 16);
    n += 16;
    out[n++] = (uint8_t)(pa >> 8);
    out[n++] = (uint8_t)pa;
    out[n++] = (uint8_t)(pb >> 8);
    out[n++] = (uint8_t)pb;
    return n;
}

uint64_t lw_flow_key_hash(const lw_flow_key *k, const uint64_t key[2])
{
    uint8_t buf[CANON_LEN];
    size_t n = canonical_bytes(k, buf);
    return siphash13(buf, n, key);
}

/* Fixed keys: the dispatch hash and flow ids must be the same in every run. */
static const uint64_t dispatch_key[2] = {0x6c65616b77617463ULL, 0x6469737061746368ULL};
static const uint64_t flow_id_key[2] = {0x6c65616b77617463ULL, 0x666c6f7769646964ULL};

uint32_t lw_flow_hash(const lw_packet *p)
{
    lw_flow_key k;
    lw_flow_key_from_packet(p, &k);
    uint64_t h = lw_flow_key_hash(&k, dispatch_key);
    return (uint32_t)(h ^ (h >> 32));
}

uint64_t lw_flow_id_make(const lw_flow_key *k, uint64_t start_usec, uint32_t file_idx,
                         uint64_t pkt_num)
{
    uint8_t buf[CANON_LEN + 20];
    size_t n = canonical_bytes(k, buf);
    for (int i = 0; i < 8; i++) buf[n++] = (uint8_t)(start_usec >> (8 * i));
    for (int i = 0; i < 4; i++) buf[n++] = (uint8_t)(file_idx >> (8 * i));
    for (int i = 0; i < 8; i++) buf[n++] = (uint8_t)(pkt_num >> (8 * i));
    uint64_t id = siphash13(buf, n, flow_id_key) & ((UINT64_C(1) << 52) - 1);
    return id ? id : 1;
}
