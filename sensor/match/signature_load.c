/*
 * signature_load.c — reads signature files (interface.md section 4) into an lw_sigset.
 *
 * The YAML is walked with the same strict walker as the configuration: every key of a
 * signature is described once in a field table, unknown and duplicate keys are errors, and
 * every error names file:line. Checks that span keys (a content signature needs a regex, a
 * volume signature needs min_egress_bytes and app or hosts) run once a signature is read.
 * Regexes are compiled later, by the matcher, which reports Hyperscan's reason.
 */
#include "leakwatch/signatures.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_yaml.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SIG_FILES 4096

static const char *const category_names[LW_CAT__COUNT] = {
    "vin", "customer_id", "access_key", "pii", "location", "exfil_volume", "custom"};
static const char *const severity_names[LW_SEV__COUNT] = {"low", "medium", "high", "critical"};
static const char *const kind_names[] = {"content", "volume", "dns_tunnel"};

const char *lw_category_name(lw_category c)
{
    return (unsigned)c < LW_CAT__COUNT ? category_names[c] : "?";
}

const char *lw_severity_name(lw_severity s)
{
    return (unsigned)s < LW_SEV__COUNT ? severity_names[s] : "?";
}

void lw_sigset_init(lw_sigset *s)
{
    memset(s, 0, sizeof(*s));
}

static void signature_free(lw_signature *g);

void lw_sigset_remove(lw_sigset *s, size_t i)
{
    if (i >= s->n) return;
    signature_free(&s->v[i]);
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
    s->n--;
}

static void signature_free(lw_signature *g)
{
    free(g->name);
    free(g->description);
    free(g->regex);
    free(g->hook);
    free(g->edm_list);
    lw_strlist_clear(&g->context_keywords);
    lw_strlist_clear(&g->allow_values);
    lw_strlist_clear(&g->examples_match);
    lw_strlist_clear(&g->examples_no_match);
    lw_strlist_clear(&g->apps);
    lw_strlist_clear(&g->hosts);
    free(g->file);
}

void lw_sigset_free(lw_sigset *s)
{
    for (size_t i = 0; i < s->n; i++) signature_free(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* ---- per-key handlers (base is the lw_signature being read) ---- */

static int fn_id(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    uint64_t id;
    int rc = lw_yaml_uint(x, v, path, 1, UINT32_MAX, &id);
    if (rc) return rc;
    const lw_sigset *set = x->user;
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i].id == id)
            return lw_yaml_fail(x, v,
                                "duplicate signature id %llu (first defined at %s:%u; give "
                                "each signature its own id)",
                                (unsigned long long)id, set->v[i].file, set->v[i].line);
    ((lw_signature *)base)->id = (uint32_t)id;
    return 0;
}

static int fn_kind(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    int k;
    int rc = lw_yaml_enum(x, v, path, kind_names, ARRAY_LEN(kind_names), &k);
    if (!rc) ((lw_signature *)base)->kind = (lw_sig_kind)k;
    return rc;
}

static int fn_category(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    int k;
    int rc = lw_yaml_enum(x, v, path, category_names, LW_CAT__COUNT, &k);
    if (!rc) ((lw_signature *)base)->category = (lw_category)k;
    return rc;
}

static int fn_severity(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    int k;
    int rc = lw_yaml_enum(x, v, path, severity_names, LW_SEV__COUNT, &k);
    if (!rc) ((lw_signature *)base)->severity = (lw_severity)k;
    return rc;
}

static int add_flag(lw_yaml_ctx *x, yaml_node_t *item, const char *text, const char *path,
                    void *state)
{
    static const char *const names[] = {"caseless", "dotall", "multiline", "utf8"};
    for (unsigned i = 0; i < ARRAY_LEN(names); i++) {
        if (strcmp(text, names[i]) == 0) {
            *(unsigned *)state |= 1u << i;
            return 0;
        }
    }
    return lw_yaml_fail(x, item, "%s: unknown flag '%s' (use caseless, dotall, multiline, utf8)",
                        path, text);
}

static int fn_flags(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    lw_signature *g = base;
    g->flags = 0;
    return lw_yaml_walk_strings(x, v, path, "[caseless]", add_flag, &g->flags);
}

static int fn_validate(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    lw_signature *g = base;
    const char *text;
    int rc = lw_yaml_text(x, v, path, &text);
    if (rc) return rc;
    lw_validator_id id = lw_validator_lookup(text);
    if (id == LW_VALIDATE__COUNT || id == LW_VALIDATE_NONE) {
        char shown[LW_YAML_SHOWN_BUF];
        return lw_yaml_fail(x, v,
                            "%s: unknown validator '%s' (use vin, luhn, aws_key_id, github_token, "
                            "iban, jp_my_number, email, lat_lon or edm:NAME)",
                            path, lw_yaml_shown(text, strlen(text), shown));
    }
    g->validator = id;
    free(g->edm_list);
    g->edm_list = NULL;
    if (id == LW_VALIDATE_EDM && !(g->edm_list = strdup(text + 4)))
        return lw_yaml_fail(x, v, "%s: out of memory", path);
    return 0;
}

static int fn_min_entropy(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    const char *text;
    int rc = lw_yaml_text(x, v, path, &text);
    if (rc) return rc;
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(d) || d < 0 || d > 8 ||
        v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        char shown[LW_YAML_SHOWN_BUF];
        return lw_yaml_fail(x, v, "%s: '%s' is not a number of bits per character from 0 to 8",
                            path, lw_yaml_shown(text, strlen(text), shown));
    }
    ((lw_signature *)base)->min_entropy = d;
    return 0;
}

#define STRLIST_FN(fname, member, example)                                                         \
    static int fname(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)                 \
    {                                                                                              \
        lw_signature *g = base;                                                                    \
        lw_strlist_clear(&g->member);                                                              \
        return lw_yaml_strlist(x, v, path, example, &g->member);                                   \
    }
STRLIST_FN(fn_keywords, context_keywords, "[aws_secret_access_key]")
STRLIST_FN(fn_allow_values, allow_values, "[AKIAIOSFODNN7EXAMPLE]")
STRLIST_FN(fn_match, examples_match, "[AKIAQYLPMN5HHHFPZAM2]")
STRLIST_FN(fn_no_match, examples_no_match, "[AKIAIOSFODNN7EXAMPLE]")
STRLIST_FN(fn_app, apps, "[GitHub, GitLab]")
STRLIST_FN(fn_hosts, hosts, "[\"*.github.com\"]")

#define OFF(m) offsetof(lw_signature, m)
static const lw_yaml_field context_fields[] = {
    {.name = "keywords", .type = LW_F_FN, .fn = fn_keywords},
    {.name = "within", .type = LW_F_U32, .offset = OFF(context_within), 1, LW_SIG_MAX_WITHIN},
};
static const lw_yaml_field example_fields[] = {
    {.name = "match", .type = LW_F_FN, .fn = fn_match},
    {.name = "no_match", .type = LW_F_FN, .fn = fn_no_match},
};
static const lw_yaml_field signature_fields[] = {
    {.name = "id", .type = LW_F_FN, .fn = fn_id},
    {.name = "kind", .type = LW_F_FN, .fn = fn_kind},
    {.name = "name", .type = LW_F_STR, .offset = OFF(name)},
    {.name = "category", .type = LW_F_FN, .fn = fn_category},
    {.name = "severity", .type = LW_F_FN, .fn = fn_severity},
    {.name = "description", .type = LW_F_STR, .offset = OFF(description)},
    {.name = "regex", .type = LW_F_STR, .offset = OFF(regex)},
    {.name = "hook", .type = LW_F_STR, .offset = OFF(hook)},
    {.name = "flags", .type = LW_F_FN, .fn = fn_flags},
    {.name = "boundary", .type = LW_F_BOOL, .offset = OFF(boundary)},
    {.name = "validate", .type = LW_F_FN, .fn = fn_validate},
    {.name = "min_entropy", .type = LW_F_FN, .fn = fn_min_entropy},
    {.name = "threshold", .type = LW_F_U32, .offset = OFF(threshold), 1, LW_SIG_MAX_THRESHOLD},
    {.name = "context",
     .type = LW_F_MAP,
     .sub = context_fields,
     .n_sub = ARRAY_LEN(context_fields)},
    {.name = "allow_values", .type = LW_F_FN, .fn = fn_allow_values},
    {.name = "examples",
     .type = LW_F_MAP,
     .sub = example_fields,
     .n_sub = ARRAY_LEN(example_fields)},
    {.name = "app", .type = LW_F_FN, .fn = fn_app},
    {.name = "hosts", .type = LW_F_FN, .fn = fn_hosts},
    {.name = "min_egress_bytes", .type = LW_F_U64, .offset = OFF(min_egress_bytes), 1, UINT64_MAX},
    {.name = "min_length", .type = LW_F_U32, .offset = OFF(min_length), 1, 253},
};

/* Checks that span keys, once the whole signature is read. */
static int check_signature(lw_yaml_ctx *x, const yaml_node_t *at, lw_signature *g,
                           bool has_category, bool has_severity)
{
    if (!g->id) return lw_yaml_fail(x, at, "signature without an id (add id: N, a unique number)");
    if (!g->name)
        return lw_yaml_fail(x, at, "signature %u has no name (add name: ...)", (unsigned)g->id);
    if (!has_category)
        return lw_yaml_fail(x, at,
                            "signature %u has no category (add category: vin, customer_id, "
                            "access_key, pii, location, exfil_volume or custom)",
                            (unsigned)g->id);
    if (!has_severity)
        return lw_yaml_fail(x, at,
                            "signature %u has no severity (add severity: low, medium, high or "
                            "critical)",
                            (unsigned)g->id);
    if (g->kind == LW_SIG_DNS_TUNNEL) {
        if (g->regex || g->hook || g->validator || g->context_keywords.n || g->apps.n ||
            g->hosts.n || g->min_egress_bytes)
            return lw_yaml_fail(x, at,
                                "signature %u: a dns_tunnel signature has only min_length, "
                                "min_entropy and threshold (remove the others)",
                                (unsigned)g->id);
        if (!g->min_length) g->min_length = 40;
        if (g->min_entropy <= 0) g->min_entropy = 3.5;
        return 0;
    }
    if (g->min_length)
        return lw_yaml_fail(x, at, "signature %u: min_length belongs to kind: dns_tunnel",
                            (unsigned)g->id);
    if (g->kind == LW_SIG_VOLUME) {
        if (g->regex || g->hook || g->validator || g->context_keywords.n || g->min_entropy > 0)
            return lw_yaml_fail(x, at,
                                "signature %u: a volume signature has no regex, validate, "
                                "context or min_entropy (remove them, or drop kind: volume)",
                                (unsigned)g->id);
        if (!g->min_egress_bytes || (!g->apps.n && !g->hosts.n))
            return lw_yaml_fail(x, at,
                                "signature %u: a volume signature needs min_egress_bytes and app "
                                "or hosts",
                                (unsigned)g->id);
        return 0;
    }
    if (!g->regex)
        return lw_yaml_fail(x, at, "signature %u has no regex (add regex: '...')", (unsigned)g->id);
    if (g->apps.n || g->hosts.n || g->min_egress_bytes)
        return lw_yaml_fail(x, at,
                            "signature %u: app, hosts and min_egress_bytes belong to kind: volume "
                            "signatures",
                            (unsigned)g->id);
    if (g->context_within && !g->context_keywords.n)
        return lw_yaml_fail(x, at, "signature %u: context needs keywords", (unsigned)g->id);
    if (g->context_keywords.n && !g->context_within) g->context_within = 64;
    for (size_t i = 0; i < g->context_keywords.n; i++)
        if (strlen(g->context_keywords.v[i]) > g->context_within)
            return lw_yaml_fail(x, at,
                                "signature %u: context keyword '%.40s' is longer than within "
                                "(%u bytes)",
                                (unsigned)g->id, g->context_keywords.v[i],
                                (unsigned)g->context_within);
    return 0;
}

/* True if the map has the key (so an explicit category/severity can be told from a default). */
static bool map_has_key(const yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yaml_document_get_node((yaml_document_t *)doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return true;
    }
    return false;
}

static int read_signature(lw_yaml_ctx *x, lw_sigset *set, yaml_node_t *item)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        lw_signature *v = realloc(set->v, cap * sizeof(*v));
        if (!v) return lw_yaml_fail(x, item, "out of memory");
        set->v = v;
        set->cap = cap;
    }
    /* read into the slot after the last signature, so the id handler sees only earlier ones */
    lw_signature *g = &set->v[set->n];
    memset(g, 0, sizeof(*g));
    g->boundary = true;
    g->threshold = 1;
    g->line = lw_yaml_line(item);
    g->file = strdup(x->file);
    int rc = g->file ? lw_yaml_walk_map(x, item, "signature", signature_fields,
                                        ARRAY_LEN(signature_fields), g)
                     : lw_yaml_fail(x, item, "out of memory");
    if (!rc)
        rc = check_signature(x, item, g, map_has_key(&x->doc, item, "category"),
                             map_has_key(&x->doc, item, "severity"));
    if (rc) {
        signature_free(g);
        return rc;
    }
    set->n++;
    return 0;
}

static int load_file(lw_sigset *set, const char *path, char *err, size_t errlen)
{
    lw_yaml_ctx x;
    int rc = lw_yaml_open(&x, path, err, errlen);
    if (rc) return rc;
    x.user = set;
    set->files++;
    yaml_node_t *root = lw_yaml_root(&x);
    yaml_node_t *list = root;
    if (root && root->type == YAML_MAPPING_NODE) {
        list = NULL;
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = lw_yaml_child(&x, p->key, root);
            if (!k) {
                rc = 2;
                break;
            }
            if (k->type != YAML_SCALAR_NODE || strcmp((char *)k->data.scalar.value, "signatures")) {
                char shown[LW_YAML_SHOWN_BUF];
                const char *name = k->type == YAML_SCALAR_NODE ? (char *)k->data.scalar.value : "?";
                rc = lw_yaml_fail(&x, k,
                                  "unknown top-level key '%s' in a signature file (it holds "
                                  "signatures: [...])",
                                  lw_yaml_shown(name, strlen(name), shown));
                break;
            }
            if (list) {
                rc = lw_yaml_fail(&x, k, "duplicate key 'signatures' (keep one list)");
                break;
            }
            if (!(list = lw_yaml_child(&x, p->value, k))) {
                rc = 2;
                break;
            }
        }
    }
    if (!rc && root && !lw_yaml_is_null(list))
        rc = lw_yaml_expect_list(&x, list, "signatures", "[{id: 900001, name: ..., regex: ...}]");
    if (!rc && list && list->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = list->data.sequence.items.start;
             !rc && it < list->data.sequence.items.top; it++) {
            yaml_node_t *item = lw_yaml_child(&x, *it, list);
            rc = item ? read_signature(&x, set, item) : 2;
        }
    }
    lw_yaml_close(&x);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with_yaml(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".yaml") == 0 && name[0] != '.';
}

static int load_dir(lw_sigset *set, const char *path, char *err, size_t errlen)
{
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "signatures %s: %s (give a readable file or directory with -s)", path,
                 strerror(errno));
        return 2;
    }
    lw_strlist names = {0};
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!ends_with_yaml(e->d_name)) continue;
        if (names.n == MAX_SIG_FILES) {
            snprintf(err, errlen, "signatures %s: more than %d *.yaml files", path, MAX_SIG_FILES);
            rc = 2;
        } else if (!lw_strlist_push(&names, e->d_name)) {
            snprintf(err, errlen, "signatures %s: out of memory", path);
            rc = 2;
        }
    }
    closedir(d);
    if (names.n) qsort(names.v, names.n, sizeof(char *), cmp_names);
    for (size_t i = 0; !rc && i < names.n; i++) {
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", path, names.v[i]);
        rc = load_file(set, full, err, errlen);
    }
    lw_strlist_clear(&names);
    return rc;
}

int lw_sigset_load(lw_sigset *set, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "signatures %s: %s (give an existing file or directory with -s)",
                 path, strerror(errno));
        return 2;
    }
    if (S_ISDIR(st.st_mode)) return load_dir(set, path, err, errlen);
    return load_file(set, path, err, errlen);
}
