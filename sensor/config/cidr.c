/*
 * cidr.c — strict CIDR parsing and prefix sets (home networks, allowlisted destinations).
 *
 * A set is one binary trie per address family held in a single node array (indices, not
 * pointers, so it grows with one realloc). A node marked `terminal` ends an added prefix:
 * every address below it is a member, so lookups stop at the first terminal node met.
 */
#include "leakwatch/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CIDR_SHOWN_MAX 64 /* characters of the offending text quoted in an error */
#define CIDR_EXAMPLE "write an address or address/prefix, e.g. 10.0.0.0/8 or fc00::/7"

/* Bound on trie nodes (~12 bytes each): a million /32 host entries need well under this. */
#define CIDR_MAX_NODES (64u * 1024u * 1024u)

/* At most CIDR_SHOWN_MAX bytes of text for an error (whole UTF-8 characters, "..." when cut),
 * control characters as '?', so a hostile value cannot break the one-line message. */
static const char *shown(const char *text, char buf[CIDR_SHOWN_MAX + 4])
{
    size_t len = strlen(text), cut = len;
    if (cut > CIDR_SHOWN_MAX) {
        cut = CIDR_SHOWN_MAX;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) cut--;
    }
    for (size_t i = 0; i < cut; i++) {
        unsigned char ch = (unsigned char)text[i];
        buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    strcpy(buf + cut, cut < len ? "..." : "");
    return buf;
}

static void cidr_error(char *err, size_t errlen, const char *text, const char *fix)
{
    char buf[CIDR_SHOWN_MAX + 4];
    if (!err || errlen == 0) return;
    snprintf(err, errlen, "'%s' is not a valid CIDR (%s)", shown(text, buf), fix);
}

/* Dotted quad, exactly four decimal octets 0-255, no leading zeros (they read as octal to
 * inet_aton and to many other tools, so "010.0.0.1" is ambiguous). */
static bool parse_ipv4(const char *s, size_t len, uint8_t out[4], const char **why)
{
    size_t i = 0;
    for (int octet = 0; octet < 4; octet++) {
        if (octet > 0) {
            if (i >= len || s[i] != '.') goto bad;
            i++;
        }
        size_t start = i;
        unsigned value = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 4) {
            value = value * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        size_t digits = i - start;
        if (digits == 0 || digits > 3) goto bad;
        if (digits > 1 && s[start] == '0') {
            *why = "IPv4 octets are decimal 0-255 without leading zeros";
            return false;
        }
        if (value > 255) {
            *why = "IPv4 octets are 0-255";
            return false;
        }
        out[octet] = (uint8_t)value;
    }
    if (i != len) goto bad;
    return true;
bad:
    *why = "IPv4 is four decimal octets 0-255, e.g. 192.168.0.0/16";
    return false;
}

static bool parse_ipv6(const char *s, size_t len, uint8_t out[16], const char **why)
{
    char buf[INET6_ADDRSTRLEN];
    *why = "not an IPv6 address, e.g. fc00::/7 (no zone id, no brackets)";
    if (len == 0 || len >= sizeof(buf)) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1;
}

/* Prefix length: 1-3 decimal digits, no leading zeros, at most max_bits. */
static bool parse_prefix(const char *s, unsigned max_bits, uint8_t *out)
{
    size_t len = strlen(s);
    if (len == 0 || len > 3 || (len > 1 && s[0] == '0')) return false;
    unsigned value = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        value = value * 10 + (unsigned)(s[i] - '0');
    }
    if (value > max_bits) return false;
    *out = (uint8_t)value;
    return true;
}

static void mask_host_bits(uint8_t addr[16], unsigned prefix)
{
    for (unsigned byte = 0; byte < 16; byte++) {
        unsigned first_bit = byte * 8;
        if (first_bit >= prefix)
            addr[byte] = 0;
        else if (prefix - first_bit < 8)
            addr[byte] &= (uint8_t)(0xFFu << (8 - (prefix - first_bit)));
    }
}

bool lw_cidr_parse(const char *text, lw_cidr *out, char *err, size_t errlen)
{
    if (!text || !out) {
        cidr_error(err, errlen, "", CIDR_EXAMPLE);
        return false;
    }
    if (text[0] == '\0') {
        cidr_error(err, errlen, text, CIDR_EXAMPLE);
        return false;
    }
    const char *slash = strchr(text, '/');
    size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
    bool v6 = memchr(text, ':', addr_len) != NULL;
    lw_cidr c;
    memset(&c, 0, sizeof(c));
    c.family = v6 ? 6 : 4;
    unsigned max_bits = v6 ? 128 : 32;

    const char *why = NULL;
    bool ok =
        v6 ? parse_ipv6(text, addr_len, c.addr, &why) : parse_ipv4(text, addr_len, c.addr, &why);
    if (!ok) {
        cidr_error(err, errlen, text, why);
        return false;
    }
    if (slash) {
        if (slash[1] == '\0') {
            cidr_error(err, errlen, text, "missing prefix length after '/'");
            return false;
        }
        if (!parse_prefix(slash + 1, max_bits, &c.prefix)) {
            cidr_error(err, errlen, text,
                       v6 ? "prefix length 0-128 for IPv6" : "prefix length 0-32 for IPv4");
            return false;
        }
    } else {
        c.prefix = (uint8_t)max_bits;
    }
    mask_host_bits(c.addr, c.prefix);
    *out = c;
    return true;
}

const char *lw_cidr_format(const lw_cidr *c, char *buf, size_t buflen)
{
    char addr[INET6_ADDRSTRLEN] = "?";
    if (!buf || buflen == 0) return buf;
    if (c->family == 4 || c->family == 6)
        inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, addr, sizeof(addr));
    snprintf(buf, buflen, "%s/%u", addr, (unsigned)c->prefix);
    return buf;
}

/* ---- the set: one trie per family ---- */

typedef struct cidr_node {
    uint32_t child[2]; /* 0 = none (node 0 is never a child: it is the IPv4 root) */
    uint8_t terminal;  /* an added prefix ends here: everything below is a member */
} cidr_node;

enum { ROOT_V4 = 0, ROOT_V6 = 1 };

struct lw_cidr_set {
    cidr_node *nodes;
    uint32_t used, cap;
    size_t count; /* prefixes added */
};

lw_cidr_set *lw_cidr_set_new(void)
{
    lw_cidr_set *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->cap = 64;
    s->nodes = calloc(s->cap, sizeof(*s->nodes));
    if (!s->nodes) {
        free(s);
        return NULL;
    }
    s->used = 2; /* the two roots */
    return s;
}

void lw_cidr_set_free(lw_cidr_set *s)
{
    if (!s) return;
    free(s->nodes);
    free(s);
}

size_t lw_cidr_set_count(const lw_cidr_set *s)
{
    return s ? s->count : 0;
}

static inline unsigned addr_bit(const uint8_t *addr, unsigned i)
{
    return (addr[i >> 3] >> (7 - (i & 7))) & 1u;
}

/* Index of a fresh zeroed node, or 0 when out of memory / over the cap. */
static uint32_t node_alloc(lw_cidr_set *s)
{
    if (s->used == s->cap) {
        if (s->cap >= CIDR_MAX_NODES) return 0;
        uint32_t ncap = s->cap * 2;
        cidr_node *n = realloc(s->nodes, (size_t)ncap * sizeof(*n));
        if (!n) return 0;
        memset(n + s->cap, 0, (size_t)(ncap - s->cap) * sizeof(*n));
        s->nodes = n;
        s->cap = ncap;
    }
    return s->used++;
}

bool lw_cidr_set_add(lw_cidr_set *s, const lw_cidr *c)
{
    if (!s || !c) return false;
    unsigned max_bits = c->family == 4 ? 32 : c->family == 6 ? 128 : 0;
    if (max_bits == 0 || c->prefix > max_bits) return false;
    uint32_t at = c->family == 4 ? ROOT_V4 : ROOT_V6;
    for (unsigned i = 0; i < c->prefix; i++) {
        if (s->nodes[at].terminal) break; /* already covered by a shorter prefix */
        unsigned b = addr_bit(c->addr, i);
        if (s->nodes[at].child[b] == 0) {
            uint32_t n = node_alloc(s); /* may move s->nodes: index again after */
            if (n == 0) return false;
            s->nodes[at].child[b] = n;
        }
        at = s->nodes[at].child[b];
    }
    s->nodes[at].terminal = 1;
    s->count++;
    return true;
}

bool lw_cidr_set_contains(const lw_cidr_set *s, uint8_t ip_version, const uint8_t addr[16])
{
    if (!s || !addr) return false;
    unsigned bits;
    uint32_t at;
    if (ip_version == 4) {
        bits = 32;
        at = ROOT_V4;
    } else if (ip_version == 6) {
        bits = 128;
        at = ROOT_V6;
    } else {
        return false;
    }
    const cidr_node *nodes = s->nodes;
    for (unsigned i = 0;; i++) {
        if (nodes[at].terminal) return true;
        if (i == bits) return false;
        at = nodes[at].child[addr_bit(addr, i)];
        if (at == 0) return false;
    }
}

bool lw_list_next(const char **cursor, const char **item, size_t *len)
{
    const char *p = *cursor;
    if (!p) return false;
    const char *end = strchr(p, ',');
    if (!end) end = p + strlen(p);
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    const char *stop = end;
    while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t')) stop--;
    *item = p;
    *len = (size_t)(stop - p);
    *cursor = *end ? end + 1 : NULL;
    return true;
}

lw_cidr_set *lw_cidr_set_parse_list(const char *csv, char *err, size_t errlen)
{
    if (!csv) csv = "";
    lw_cidr_set *s = lw_cidr_set_new();
    if (!s) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const char *cursor = csv, *p;
    size_t len;
    while (lw_list_next(&cursor, &p, &len)) {
        if (len == 0) {
            char buf[CIDR_SHOWN_MAX + 4];
            if (err && errlen)
                snprintf(err, errlen,
                         "empty entry in network list '%s' (comma-separated CIDRs, e.g. "
                         "10.0.0.0/8,fc00::/7)",
                         shown(csv, buf));
            goto fail;
        }
        char *item = strndup(p, len);
        if (!item) {
            if (err && errlen) snprintf(err, errlen, "out of memory");
            goto fail;
        }
        lw_cidr c;
        bool ok = lw_cidr_parse(item, &c, err, errlen);
        free(item);
        if (!ok) goto fail;
        if (!lw_cidr_set_add(s, &c)) {
            if (err && errlen) snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    return s;
fail:
    lw_cidr_set_free(s);
    return NULL;
}
