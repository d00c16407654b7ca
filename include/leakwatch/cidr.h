/*
 * cidr.h — IPv4/IPv6 network prefixes and sets of them.
 *
 * The home networks (-H, config home_net) and allowlisted destination networks are prefix
 * sets. Parsing is strict (no octal-looking octets, no zone ids, no whitespace); membership
 * is a binary trie walk, O(prefix bits), done once per new flow.
 */
#ifndef LW_CIDR_H
#define LW_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Section 2 of the interface: the home networks when neither -H nor home_net says otherwise. */
#define LW_DEFAULT_HOME_NET "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7"

typedef struct lw_cidr {
    uint8_t family;   /* 4 or 6 */
    uint8_t prefix;   /* 0..32 or 0..128 */
    uint8_t addr[16]; /* network address, host bits zero; IPv4 in addr[0..3], rest zero */
} lw_cidr;

/* Parse "10.0.0.0/8", "fc00::/7" or a bare address (= /32 or /128). Host bits set are
 * accepted and masked off. "::ffff:1.2.3.4" is an IPv6 address. On failure returns false
 * and writes "'TEXT' is not a valid CIDR (fix)" to err. */
bool lw_cidr_parse(const char *text, lw_cidr *out, char *err, size_t errlen);

/* Write the canonical text ("10.0.0.0/8", "fc00::/7") of c into buf; returns buf. */
const char *lw_cidr_format(const lw_cidr *c, char *buf, size_t buflen);

typedef struct lw_cidr_set lw_cidr_set;

lw_cidr_set *lw_cidr_set_new(void);
/* Add a prefix; overlapping and duplicate prefixes are fine. False only when out of memory. */
bool lw_cidr_set_add(lw_cidr_set *s, const lw_cidr *c);
void lw_cidr_set_free(lw_cidr_set *s);
/* Prefixes added (duplicates and prefixes inside an earlier one included). */
size_t lw_cidr_set_count(const lw_cidr_set *s);

/* Is the address inside any prefix of the set? ip_version 4 reads addr[0..3], 6 reads all 16
 * bytes; any other version is never a member. NULL set: never a member. */
bool lw_cidr_set_contains(const lw_cidr_set *s, uint8_t ip_version, const uint8_t addr[16]);

/* Parse a comma-separated list (the -H option): "10.0.0.0/8, 192.168.0.0/16,fc00::/7".
 * Spaces around items are ignored; empty items are errors. NULL on error (message in err). */
/* Walks a comma-separated list: each call yields the next entry with blanks trimmed (it may be
 * empty) and returns true; false once the list is used up. *cursor starts at the text. */
bool lw_list_next(const char **cursor, const char **item, size_t *len);

lw_cidr_set *lw_cidr_set_parse_list(const char *csv, char *err, size_t errlen);

#endif
