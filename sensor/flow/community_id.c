/*
 * community_id.c — Community ID v1 (corelight/community-id-spec), computed once per flow.
 *
 * The ICMP/ICMPv6 type tables mirror Zeek's (as pycommunityid, the reference, does):
 * a request/reply type maps to (type, its counterpart) so both directions order into
 * one tuple; every other type is one-way and keeps (type, code) in its own direction.
 */
#include "leakwatch/community_id.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

/* Request/reply pairs; each type maps to the other. */
static const uint8_t icmp4_pairs[][2] = {
    {8, 0},   /* echo request / echo reply */
    {13, 14}, /* timestamp / timestamp reply */
    {15, 16}, /* information request / reply */
    {10, 9},  /* router solicitation / router advertisement */
    {17, 18}, /* address mask request / reply */
};

static const uint8_t icmp6_pairs[][2] = {
    {128, 129}, /* echo request / echo reply */
    {130, 131}, /* MLD listener query / report */
    {133, 134}, /* router solicitation / advertisement */
    {135, 136}, /* neighbor solicitation / advertisement */
    {139, 140}, /* node information (who-are-you) request / reply */
    {144, 145}, /* home agent address discovery request / reply */
};

bool lw_community_has_ports(uint8_t proto)
{
    return proto == 1 || proto == 6 || proto == 17 || proto == 58 || proto == 132;
}

static bool counterpart(const uint8_t (*pairs)[2], size_t n, uint16_t type, uint16_t *other)
{
    for (size_t i = 0; i < n; i++) {
        if (type == pairs[i][0]) {
            *other = pairs[i][1];
            return true;
        }
        if (type == pairs[i][1]) {
            *other = pairs[i][0];
            return true;
        }
    }
    return false;
}

bool lw_community_icmp_ports(uint8_t proto, uint16_t type, uint16_t code, uint16_t *sport,
                             uint16_t *dport)
{
    *sport = type;
    *dport = code;
    uint16_t other;
    if (proto == 1) {
        if (!counterpart(icmp4_pairs, sizeof(icmp4_pairs) / sizeof(icmp4_pairs[0]), type, &other))
            return true;
    } else if (proto == 58) {
        if (!counterpart(icmp6_pairs, sizeof(icmp6_pairs) / sizeof(icmp6_pairs[0]), type, &other))
            return true;
    } else {
        return false;
    }
    *dport = other;
    return false;
}

void lw_community_id(uint8_t ip_version, uint8_t proto, const lw_addr *src, const lw_addr *dst,
                     uint16_t sport, uint16_t dport, uint16_t seed, char out[LW_COMMUNITY_ID_LEN])
{
    out[0] = '\0';
    size_t alen;
    if (ip_version == 4)
        alen = 4;
    else if (ip_version == 6)
        alen = 16;
    else
        return;

    bool ports = lw_community_has_ports(proto);
    bool one_way = false;
    if (proto == 1 || proto == 58)
        one_way = lw_community_icmp_ports(proto, sport, dport, &sport, &dport);

    const uint8_t *a = src->b, *b = dst->b;
    uint16_t pa = sport, pb = dport;
    if (!one_way) {
        int c = memcmp(a, b, alen);
        /* Keep the order only if (a, pa) < (b, pb); ports decide between equal addresses. */
        if (!(c < 0 || (c == 0 && ports && pa < pb))) {
            const uint8_t *t = a;
            a = b;
            b = t;
            uint16_t tp = pa;
            pa = pb;
            pb = tp;
        }
    }

    /* seed(2) saddr daddr proto(1) pad(1) [sport(2) dport(2)], all network byte order. */
    uint8_t buf[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    buf[n++] = (uint8_t)(seed >> 8);
    buf[n++] = (uint8_t)seed;
    memcpy(buf + n, a, alen);
    n += alen;
    memcpy(buf + n, b, alen);
    n += alen;
    buf[n++] = proto;
    buf[n++] = 0;
    if (ports) {
        buf[n++] = (uint8_t)(pa >> 8);
        buf[n++] = (uint8_t)pa;
        buf[n++] = (uint8_t)(pb >> 8);
        buf[n++] = (uint8_t)pb;
    }

    uint8_t digest[SHA_DIGEST_LENGTH];
    SHA1(buf, n, digest);
    out[0] = '1';
    out[1] = ':';
    /* 20 bytes -> 28 base64 characters plus NUL: fits in out[2..31]. */
    EVP_EncodeBlock((unsigned char *)out + 2, digest, SHA_DIGEST_LENGTH);
}
