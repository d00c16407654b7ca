/*
 * signatures.h — signature files (interface.md section 4): loading and the loaded model.
 *
 * A path is a YAML file holding `signatures: [...]`, or a directory whose *.yaml files are
 * loaded in sorted order; several paths combine into one set. Loading is strict: an unknown
 * key, a wrong type, an unknown validator, a duplicate id, a missing field are errors naming
 * file:line. Regexes are checked by the matcher when it compiles the set (match.h), which
 * reports Hyperscan's reason with the signature's file:line.
 *
 * Additions to the contract: `context: {keywords: [...], within: N}` — one of the keywords
 * (caseless) must stand within N bytes before the match; `hook: REGEX` — a cheaper pattern
 * that the stream is scanned with instead of `regex` (for regexes without a literal to anchor
 * on): it must match the last bytes of every value, e.g. the "@domain" part of an e-mail
 * address; `regex` is then confirmed around each hook match.
 */
#ifndef LW_SIGNATURES_H
#define LW_SIGNATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/config.h"
#include "leakwatch/validate.h"

/* content: a regex over the bytes; volume: egress bytes of a flow to an app or host;
 * dns_tunnel: long random query names under one domain from one host (dns_query.h). */
typedef enum lw_sig_kind { LW_SIG_CONTENT = 0, LW_SIG_VOLUME, LW_SIG_DNS_TUNNEL } lw_sig_kind;

typedef enum lw_category {
    LW_CAT_VIN = 0,
    LW_CAT_CUSTOMER_ID,
    LW_CAT_ACCESS_KEY,
    LW_CAT_PII,
    LW_CAT_LOCATION,
    LW_CAT_EXFIL_VOLUME,
    LW_CAT_CUSTOM,
    LW_CAT__COUNT
} lw_category;

typedef enum lw_severity {
    LW_SEV_LOW = 0,
    LW_SEV_MEDIUM,
    LW_SEV_HIGH,
    LW_SEV_CRITICAL,
    LW_SEV__COUNT
} lw_severity;

/* Signature flags (the `flags` list). */
#define LW_SIGF_CASELESS 0x1u
#define LW_SIGF_DOTALL 0x2u
#define LW_SIGF_MULTILINE 0x4u
#define LW_SIGF_UTF8 0x8u

#define LW_SIG_MAX_WITHIN 1024 /* largest context.within */
#define LW_SIG_MAX_THRESHOLD 1000000

typedef struct lw_signature {
    uint32_t id;
    char *name;
    lw_sig_kind kind;
    lw_category category;
    lw_severity severity;
    char *description;

    /* content signatures */
    char *regex;
    char *hook;     /* streaming pattern instead of regex (NULL: regex itself) */
    unsigned flags; /* LW_SIGF_* */
    bool boundary;  /* default true: no [A-Za-z0-9] right before or after the match */
    lw_validator_id validator;
    char *edm_list;     /* validate: edm:NAME */
    double min_entropy; /* 0 = no floor */
    uint32_t threshold; /* distinct values per flow direction before it alerts; default 1 */
    lw_strlist context_keywords;
    uint32_t context_within; /* bytes before the match; default 64 when keywords are given */
    lw_strlist allow_values;
    lw_strlist examples_match, examples_no_match;

    /* volume signatures */
    lw_strlist apps, hosts;
    uint64_t min_egress_bytes;

    /* dns_tunnel signatures (threshold and min_entropy as above) */
    uint32_t min_length; /* characters of the name before its registered domain */

    /* where it was defined, for errors */
    char *file;
    unsigned line;
} lw_signature;

typedef struct lw_sigset {
    lw_signature *v;
    size_t n, cap;
    size_t files; /* signature files read */
} lw_sigset;

void lw_sigset_init(lw_sigset *s);
void lw_sigset_free(lw_sigset *s);
/* Drops signature i (before a matcher is built on the set: later ones move down). */
void lw_sigset_remove(lw_sigset *s, size_t i);

/* Load a file or directory into s. 0 on success; 2 with one line in err ("file:line: what
 * (fix)") on any error, s then holding what was loaded before it (free it). */
int lw_sigset_load(lw_sigset *s, const char *path, char *err, size_t errlen);

const char *lw_category_name(lw_category c); /* "vin", "customer_id", ... */
const char *lw_severity_name(lw_severity s); /* "low", ..., "critical" */

#endif
