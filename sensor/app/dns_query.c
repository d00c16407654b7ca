/*
 * dns_query.c — the question of a DNS query message (RFC 1035 4.1) and the registered domain
 * of a name (see dns_query.h). Every byte read is bounds-checked against the message length;
 * compression pointers must point backwards into the message body and are followed at most
 * LW_DNS_MAX_POINTERS times; a name is at most 255 bytes in wire form.
 */
#include "leakwatch/dns_query.h"

#include <string.h>
#include <strings.h>

LW_COUNTER_NAMES(dns, DNS, LW_DNS_COUNTERS)

#define DNS_HEADER_LEN 12
#define LW_DNS_MAX_POINTERS 16
#define DNS_WIRE_NAME_MAX 255 /* RFC 1035 3.1: length octets and labels, the root included */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Appends one label to both outputs (the wire-length check guarantees room). */
static void add_label(lw_dns_question *q, size_t *dlen, const uint8_t *label, size_t n)
{
    if (*dlen) q->dotted[(*dlen)++] = '.';
    for (size_t i = 0; i < n; i++) q->dotted[(*dlen)++] = label[i] ? (char)label[i] : '?';
    memcpy(q->joined + q->joined_len, label, n);
    q->joined_len += n;
}

/* The name at msg[off]: *after is where the question goes on (past the name's first
 * pointer, or its root label). false if it cannot be read. */
static bool read_name(const uint8_t *msg, size_t len, size_t off, lw_dns_question *q, size_t *after)
{
    size_t pos = off, wire = 1, dlen = 0;
    unsigned jumps = 0;
    bool jumped = false;
    for (;;) {
        if (pos >= len) return false;
        uint8_t b = msg[pos];
        if ((b & 0xc0) == 0xc0) { /* compression pointer */
            if (pos + 1 >= len) return false;
            size_t target = (size_t)(b & 0x3f) << 8 | msg[pos + 1];
            if (target >= pos || target < DNS_HEADER_LEN || ++jumps > LW_DNS_MAX_POINTERS)
                return false;
            if (!jumped) *after = pos + 2;
            jumped = true;
            pos = target;
            continue;
        }
        if (b & 0xc0) return false; /* 0x40 / 0x80: extended label types, obsolete */
        if (b == 0) break;
        wire += 1 + (size_t)b;
        if (wire > DNS_WIRE_NAME_MAX || b > len - pos - 1) return false;
        add_label(q, &dlen, msg + pos + 1, b);
        pos += 1 + (size_t)b;
    }
    if (!jumped) *after = pos + 1;
    q->dotted[dlen] = '\0';
    q->joined[q->joined_len] = 0;
    return true;
}

bool lw_dns_parse_query(const uint8_t *msg, size_t len, lw_dns_question *q, lw_dns_counters *ctr)
{
    lw_dns_counters none = {{0}};
    if (!ctr) ctr = &none;
    q->dotted[0] = '\0';
    q->joined[0] = 0;
    q->joined_len = 0;
    q->qtype = 0;
    if (!msg || len < DNS_HEADER_LEN) {
        ctr->c[LW_DNS_malformed]++;
        return false;
    }
    q->id = rd16(msg);
    if ((msg[2] & 0x80) || rd16(msg + 4) == 0) {
        ctr->c[LW_DNS_not_query]++;
        return false;
    }
    size_t after = 0;
    if (!read_name(msg, len, DNS_HEADER_LEN, q, &after) || after > len || len - after < 4) {
        ctr->c[LW_DNS_malformed]++;
        return false;
    }
    q->qtype = rd16(msg + after); /* QCLASS follows: checked present, not kept */
    ctr->c[LW_DNS_queries]++;
    return true;
}

/* Second-level labels under which a two-letter country code registers names (co.uk). */
static bool generic_second_level(const char *s, size_t n)
{
    static const char *const sld[] = {"co",  "com", "net", "org", "ac",
                                      "gov", "edu", "ne",  "or",  "go"};
    for (size_t i = 0; i < sizeof(sld) / sizeof(sld[0]); i++)
        if (strlen(sld[i]) == n && strncasecmp(s, sld[i], n) == 0) return true;
    return false;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

const char *lw_dns_registered_domain(const char *dotted, size_t *rest_len)
{
    size_t len = strlen(dotted);
    size_t dot[3]; /* offsets of the last three dots, last first */
    unsigned ndots = 0;
    for (size_t i = len; i > 0 && ndots < 3; i--)
        if (dotted[i - 1] == '.') dot[ndots++] = i - 1;
    unsigned take = 2; /* labels */
    if (ndots >= 2) {
        const char *tld = dotted + dot[0] + 1;
        const char *sld = dotted + dot[1] + 1;
        if (len - dot[0] - 1 == 2 && is_alpha(tld[0]) && is_alpha(tld[1]) &&
            generic_second_level(sld, dot[0] - dot[1] - 1))
            take = 3;
    }
    size_t start = ndots >= take ? dot[take - 1] + 1 : 0;
    if (rest_len) *rest_len = start ? start - 1 : 0;
    return dotted + start;
}
