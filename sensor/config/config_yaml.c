/*
 * config_yaml.c — strict libyaml document walking: file loading, file:line errors, the
 * table-driven map walker and typed scalar readers used by config.c.
 *
 * libyaml resolves no types: every scalar is text plus a style. Integers and booleans must be
 * plain (unquoted) scalars so that "5" and 5 never mean the same thing silently. Aliases are
 * refused by requiring every node to be reached once, which also rules out alias cycles and
 * exponential "billion laughs" expansion while walking.
 */
#include "config/config_yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

unsigned lw_yaml_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 1;
}

__attribute__((format(printf, 3, 0))) static void vfail_line(lw_yaml_ctx *x, unsigned line,
                                                             const char *fmt, va_list ap)
{
    if (!x->err || x->errlen == 0) return;
    int w = snprintf(x->err, x->errlen, "%s:%u: ", x->file, line);
    if (w < 0 || (size_t)w >= x->errlen) return;
    vsnprintf(x->err + w, x->errlen - (size_t)w, fmt, ap);
}

int lw_yaml_fail_line(lw_yaml_ctx *x, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_line(x, line, fmt, ap);
    va_end(ap);
    return 2;
}

int lw_yaml_fail(lw_yaml_ctx *x, const yaml_node_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_line(x, lw_yaml_line(at), fmt, ap);
    va_end(ap);
    return 2;
}

/* ---- loading ---- */

static int read_whole_file(lw_yaml_ctx *x, const char *path, unsigned char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(x->err, x->errlen, "%s: cannot open the configuration: %s (check the -c path)",
                 path, strerror(errno));
        return 2;
    }
    size_t cap = 4096, used = 0;
    unsigned char *buf = malloc(cap);
    int rc = 0;
    while (buf) {
        if (used == cap) {
            if (cap > LW_YAML_MAX_FILE) break;
            unsigned char *nbuf = realloc(buf, cap * 2);
            if (!nbuf) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nbuf;
            cap *= 2;
        }
        size_t got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (got == 0) break;
    }
    if (!buf) {
        snprintf(x->err, x->errlen, "%s: out of memory reading the configuration", path);
        rc = 2;
    } else if (ferror(f)) {
        snprintf(x->err, x->errlen, "%s: cannot read the configuration: %s (is it a file?)", path,
                 strerror(errno));
        rc = 2;
    } else if (used > LW_YAML_MAX_FILE) {
        snprintf(x->err, x->errlen,
                 "%s: configuration larger than %u MiB (is this the right file?)", path,
                 LW_YAML_MAX_FILE >> 20);
        rc = 2;
    }
    if (f != stdin) fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = used;
    return 0;
}

static unsigned line_of_offset(const unsigned char *buf, size_t len, size_t offset)
{
    unsigned line = 1;
    for (size_t i = 0; i < offset && i < len; i++)
        if (buf[i] == '\n') line++;
    return line;
}

static int parser_error(lw_yaml_ctx *x, const yaml_parser_t *p, const unsigned char *buf,
                        size_t len)
{
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return lw_yaml_fail_line(x, 1, "out of memory parsing YAML");
    case YAML_READER_ERROR:
        return lw_yaml_fail_line(x, line_of_offset(buf, len, p->problem_offset),
                                 "not valid YAML text: %s (save the file as UTF-8 without control "
                                 "characters)",
                                 p->problem ? p->problem : "unreadable input");
    default: {
        unsigned line = (unsigned)p->problem_mark.line + 1;
        size_t at = p->problem_mark.index;
        if (at < len && buf[at] == '\t')
            return lw_yaml_fail_line(x, line,
                                     "YAML syntax error: a tab character (YAML indents with "
                                     "spaces, not tabs)");
        if (p->context)
            return lw_yaml_fail_line(
                x, line,
                "YAML syntax error: %s %s (started at line %u; check indentation, "
                "colons and quoting)",
                p->problem ? p->problem : "error", p->context, (unsigned)p->context_mark.line + 1);
        return lw_yaml_fail_line(x, line,
                                 "YAML syntax error: %s (check indentation, colons and quoting)",
                                 p->problem ? p->problem : "error");
    }
    }
}

int lw_yaml_open(lw_yaml_ctx *x, const char *path, char *err, size_t errlen)
{
    memset(x, 0, sizeof(*x));
    x->file = path;
    x->err = err;
    x->errlen = errlen;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = read_whole_file(x, path, &buf, &len);
    if (rc) return rc;

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        free(buf);
        return lw_yaml_fail_line(x, 1, "out of memory parsing YAML");
    }
    yaml_parser_set_input_string(&parser, buf, len);
    if (!yaml_parser_load(&parser, &x->doc)) {
        rc = parser_error(x, &parser, buf, len);
        goto out;
    }
    x->loaded = true;

    /* A second document would be silently ignored: refuse it. */
    yaml_document_t extra;
    if (!yaml_parser_load(&parser, &extra)) {
        rc = parser_error(x, &parser, buf, len);
        goto out;
    }
    yaml_node_t *extra_root = yaml_document_get_root_node(&extra);
    if (extra_root) {
        rc = lw_yaml_fail_line(
            x, (unsigned)extra.start_mark.line + 1,
            "a second YAML document (remove the '---' line: the configuration is one "
            "document)");
    }
    yaml_document_delete(&extra);
    if (rc) goto out;

    x->n_nodes = (size_t)(x->doc.nodes.top - x->doc.nodes.start);
    x->visited = calloc(x->n_nodes + 1, 1);
    if (!x->visited) rc = lw_yaml_fail_line(x, 1, "out of memory");
out:
    yaml_parser_delete(&parser);
    free(buf);
    return rc;
}

void lw_yaml_close(lw_yaml_ctx *x)
{
    if (x->loaded) yaml_document_delete(&x->doc);
    x->loaded = false;
    free(x->visited);
    x->visited = NULL;
}

bool lw_yaml_is_null(const yaml_node_t *n)
{
    if (!n) return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

yaml_node_t *lw_yaml_root(lw_yaml_ctx *x)
{
    if (!x->loaded) return NULL;
    yaml_node_t *root = yaml_document_get_root_node(&x->doc);
    if (!root || lw_yaml_is_null(root)) return NULL;
    if (x->visited) x->visited[1] = 1; /* the root is node id 1 */
    return root;
}

yaml_node_t *lw_yaml_child(lw_yaml_ctx *x, int id, const yaml_node_t *parent)
{
    yaml_node_t *n = yaml_document_get_node(&x->doc, id);
    if (!n || id < 1 || (size_t)id > x->n_nodes) {
        lw_yaml_fail(x, parent, "malformed YAML document (node %d missing)", id);
        return NULL;
    }
    if (x->visited[id]) {
        lw_yaml_fail(x, parent,
                     "YAML aliases (*name) are not supported in the configuration (write the "
                     "value out in full)");
        return NULL;
    }
    x->visited[id] = 1;
    return n;
}

const char *lw_yaml_shown(const char *v, size_t len, char *buf)
{
    size_t cut = len;
    if (cut > LW_YAML_SHOWN) {
        cut = LW_YAML_SHOWN;
        while (cut > 0 && ((unsigned char)v[cut] & 0xC0) == 0x80) cut--; /* whole UTF-8 chars */
    }
    for (size_t i = 0; i < cut; i++) {
        unsigned char ch = (unsigned char)v[i];
        buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    strcpy(buf + cut, cut < len ? "..." : "");
    return buf;
}

/* "a list", "a map", "'text'" or "a quoted string \"text\"", for "got ..." in errors. */
static const char *describe(const yaml_node_t *n, char *buf, size_t len)
{
    if (!n) return "nothing";
    switch (n->type) {
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a map";
    case YAML_SCALAR_NODE: {
        if (lw_yaml_is_null(n)) return "nothing";
        char text[LW_YAML_SHOWN_BUF];
        lw_yaml_shown((const char *)n->data.scalar.value, n->data.scalar.length, text);
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            snprintf(buf, len, "'%s'", text);
        else
            snprintf(buf, len, "a quoted string \"%s\"", text);
        return buf;
    }
    default:
        return "nothing";
    }
}

/* ---- scalar readers ---- */

static bool is_plain_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

int lw_yaml_uint(lw_yaml_ctx *x, yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
                 uint64_t *out)
{
    char shown[LW_YAML_SHOWN_BUF + 32];
    if (lw_yaml_is_null(n))
        return lw_yaml_fail(x, n, "%s: has no value (give an integer %llu-%llu, or remove the key)",
                            path, (unsigned long long)min, (unsigned long long)max);
    if (!is_plain_scalar(n)) {
        const char *hint = n->type == YAML_SCALAR_NODE ? " (remove the quotes)" : "";
        return lw_yaml_fail(x, n, "%s: expected an integer %llu-%llu, got %s%s", path,
                            (unsigned long long)min, (unsigned long long)max,
                            describe(n, shown, sizeof(shown)), hint);
    }
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    bool negative = v[0] == '-';
    size_t start = negative ? 1 : 0;
    if (start == len)
        return lw_yaml_fail(x, n, "%s: expected an integer %llu-%llu, got %s", path,
                            (unsigned long long)min, (unsigned long long)max,
                            describe(n, shown, sizeof(shown)));
    uint64_t value = 0;
    bool overflow = false;
    for (size_t i = start; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return lw_yaml_fail(x, n, "%s: expected an integer %llu-%llu, got %s", path,
                                (unsigned long long)min, (unsigned long long)max,
                                describe(n, shown, sizeof(shown)));
        unsigned d = (unsigned)(v[i] - '0');
        if (value > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            value = value * 10 + d;
    }
    /* YAML 1.1 reads 010 as octal 8: refuse the ambiguity rather than guess. */
    if (len - start > 1 && v[start] == '0')
        return lw_yaml_fail(
            x, n, "%s: %s has a leading zero (write a plain decimal integer %llu-%llu)", path,
            describe(n, shown, sizeof(shown)), (unsigned long long)min, (unsigned long long)max);
    if (overflow || (negative && value != 0) || value < min || value > max)
        return lw_yaml_fail(x, n, "%s: %s is out of range (%llu-%llu)", path,
                            lw_yaml_shown(v, len, shown), (unsigned long long)min,
                            (unsigned long long)max);
    *out = value;
    return 0;
}

int lw_yaml_bool(lw_yaml_ctx *x, yaml_node_t *n, const char *path, bool *out)
{
    char shown[LW_YAML_SHOWN_BUF + 32];
    if (lw_yaml_is_null(n))
        return lw_yaml_fail(x, n, "%s: has no value (give true or false, or remove the key)", path);
    if (is_plain_scalar(n)) {
        const char *v = (const char *)n->data.scalar.value;
        if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0) {
            *out = false;
            return 0;
        }
    }
    const char *hint =
        n->type == YAML_SCALAR_NODE && !is_plain_scalar(n) ? " (remove the quotes)" : "";
    return lw_yaml_fail(x, n, "%s: expected true or false, got %s%s", path,
                        describe(n, shown, sizeof(shown)), hint);
}

int lw_yaml_text(lw_yaml_ctx *x, yaml_node_t *n, const char *path, const char **out)
{
    char shown[LW_YAML_SHOWN_BUF + 32];
    if (lw_yaml_is_null(n))
        return lw_yaml_fail(x, n, "%s: has no value (give a string, or remove the key)", path);
    if (n->type != YAML_SCALAR_NODE)
        return lw_yaml_fail(x, n, "%s: expected a string, got %s", path,
                            describe(n, shown, sizeof(shown)));
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (len == 0)
        return lw_yaml_fail(x, n, "%s: is an empty string (give a value, or remove the key)", path);
    if (strlen(v) != len)
        return lw_yaml_fail(x, n, "%s: contains a NUL character (remove the \\0 escape)", path);
    if (len > LW_YAML_MAX_STRING)
        return lw_yaml_fail(x, n, "%s: is longer than %d characters", path, LW_YAML_MAX_STRING);
    *out = v;
    return 0;
}

int lw_yaml_string(lw_yaml_ctx *x, yaml_node_t *n, const char *path, char **out)
{
    const char *v = NULL;
    int rc = lw_yaml_text(x, n, path, &v);
    if (rc) return rc;
    char *copy = strdup(v);
    if (!copy) return lw_yaml_fail(x, n, "%s: out of memory", path);
    free(*out);
    *out = copy;
    return 0;
}

int lw_yaml_enum(lw_yaml_ctx *x, yaml_node_t *n, const char *path, const char *const *names,
                 size_t n_names, int *out)
{
    char choices[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < n_names && used < sizeof(choices); i++) {
        int w = snprintf(choices + used, sizeof(choices) - used, "%s%s",
                         i == 0 ? "" : (i + 1 == n_names ? " or " : ", "), names[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    const char *v = NULL;
    if (lw_yaml_is_null(n))
        return lw_yaml_fail(x, n, "%s: has no value (use %s, or remove the key)", path, choices);
    if (n->type != YAML_SCALAR_NODE) {
        char shown[LW_YAML_SHOWN_BUF + 32];
        return lw_yaml_fail(x, n, "%s: expected one of the words %s, got %s", path, choices,
                            describe(n, shown, sizeof(shown)));
    }
    int rc = lw_yaml_text(x, n, path, &v);
    if (rc) return rc;
    for (size_t i = 0; i < n_names; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    char shown[LW_YAML_SHOWN_BUF];
    return lw_yaml_fail(x, n, "%s: '%s' is not valid (use %s)", path,
                        lw_yaml_shown(v, strlen(v), shown), choices);
}

int lw_yaml_expect_list(lw_yaml_ctx *x, yaml_node_t *n, const char *path, const char *example)
{
    if (n && n->type == YAML_SEQUENCE_NODE) return 0;
    char shown[LW_YAML_SHOWN_BUF + 32];
    if (lw_yaml_is_null(n))
        return lw_yaml_fail(x, n, "%s: has no value (give a list, e.g. %s: %s, or remove the key)",
                            path, path, example);
    return lw_yaml_fail(x, n, "%s: expected a list, e.g. %s: %s, got %s", path, path, example,
                        describe(n, shown, sizeof(shown)));
}

/* ---- the map walker ---- */

static int store_field(lw_yaml_ctx *x, const lw_yaml_field *f, yaml_node_t *v, const char *path,
                       void *base)
{
    char *at = (char *)base + f->offset;
    uint64_t u = 0;
    int rc = 0;
    switch (f->type) {
    case LW_F_U16:
    case LW_F_U32:
    case LW_F_U64:
        rc = lw_yaml_uint(x, v, path, f->min, f->max, &u);
        if (rc) return rc;
        if (f->type == LW_F_U16) {
            uint16_t w = (uint16_t)u;
            memcpy(at, &w, sizeof(w));
        } else if (f->type == LW_F_U32) {
            uint32_t w = (uint32_t)u;
            memcpy(at, &w, sizeof(w));
        } else {
            memcpy(at, &u, sizeof(u));
        }
        return 0;
    case LW_F_BOOL: {
        bool b;
        rc = lw_yaml_bool(x, v, path, &b);
        if (!rc) memcpy(at, &b, sizeof(b));
        return rc;
    }
    case LW_F_STR:
        return lw_yaml_string(x, v, path, (char **)(void *)at);
    case LW_F_MAP:
        return lw_yaml_walk_map(x, v, path, f->sub, f->n_sub, base);
    case LW_F_FN:
        return f->fn(x, v, path, base);
    }
    return lw_yaml_fail(x, v, "%s: internal error (unknown field type)", path);
}

static void known_keys(const lw_yaml_field *fields, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", fields[i].name);
        if (w < 0) break;
        used += (size_t)w;
    }
}

int lw_yaml_walk_map(lw_yaml_ctx *x, yaml_node_t *map, const char *path,
                     const lw_yaml_field *fields, size_t n_fields, void *base)
{
    char shown[LW_YAML_SHOWN_BUF + 32];
    const char *where = path[0] ? path : "the top level";
    if (!map || map->type != YAML_MAPPING_NODE) {
        if (lw_yaml_is_null(map))
            return lw_yaml_fail(x, map,
                                "%s: has no value (give its keys indented below it, or "
                                "remove the key)",
                                path);
        return lw_yaml_fail(x, map,
                            "%s: expected a map of keys (indented 'key: value' lines), got %s",
                            where, describe(map, shown, sizeof(shown)));
    }
    unsigned seen_line[LW_YAML_MAX_FIELDS] = {0};
    if (n_fields > LW_YAML_MAX_FIELDS)
        return lw_yaml_fail(x, map, "%s: internal error (too many fields)", where);

    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *key = lw_yaml_child(x, p->key, map);
        if (!key) return 2;
        if (key->type != YAML_SCALAR_NODE)
            return lw_yaml_fail(x, key, "a key in %s must be a plain word, got %s", where,
                                describe(key, shown, sizeof(shown)));
        const char *name = (const char *)key->data.scalar.value;
        size_t idx = n_fields;
        if (strlen(name) == key->data.scalar.length)
            for (idx = 0; idx < n_fields && strcmp(fields[idx].name, name) != 0; idx++) {
            }
        if (idx == n_fields) {
            char known[512];
            known_keys(fields, n_fields, known, sizeof(known));
            lw_yaml_shown(name, key->data.scalar.length, shown);
            if (path[0])
                return lw_yaml_fail(x, key, "unknown key '%s' in '%s' (known: %s)", shown, path,
                                    known);
            return lw_yaml_fail(x, key, "unknown top-level key '%s' (known: %s)", shown, known);
        }
        if (seen_line[idx])
            return lw_yaml_fail(x, key, "duplicate key '%s' in %s%s%s (first at line %u; keep one)",
                                name, path[0] ? "'" : "", where, path[0] ? "'" : "",
                                seen_line[idx]);
        seen_line[idx] = lw_yaml_line(key);

        yaml_node_t *value = lw_yaml_child(x, p->value, key);
        if (!value) return 2;
        char child_path[128];
        snprintf(child_path, sizeof(child_path), "%s%s%s", path, path[0] ? "." : "", name);
        int rc = store_field(x, &fields[idx], value, child_path, base);
        if (rc) return rc;
    }
    return 0;
}

/* ---- string lists ---- */

int lw_yaml_walk_strings(lw_yaml_ctx *x, yaml_node_t *list, const char *path, const char *example,
                         lw_yaml_item_fn each, void *state)
{
    int rc = lw_yaml_expect_list(x, list, path, example);
    if (rc) return rc;
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top;
         it++) {
        yaml_node_t *item = lw_yaml_child(x, *it, list);
        if (!item) return 2;
        const char *text = NULL;
        rc = lw_yaml_text(x, item, path, &text);
        if (rc) return rc;
        rc = each(x, item, text, path, state);
        if (rc) return rc;
    }
    return 0;
}

static int push_string(lw_yaml_ctx *x, yaml_node_t *item, const char *text, const char *path,
                       void *state)
{
    return lw_strlist_push(state, text) ? 0 : lw_yaml_fail(x, item, "%s: out of memory", path);
}

int lw_yaml_strlist(lw_yaml_ctx *x, yaml_node_t *list, const char *path, const char *example,
                    lw_strlist *out)
{
    return lw_yaml_walk_strings(x, list, path, example, push_string, out);
}

bool lw_strlist_push(lw_strlist *l, const char *s)
{
    char *copy = strdup(s);
    if (!copy) return false;
    /* capacity is the next power of two at or above n: grow when n is one */
    if ((l->n & (l->n - 1)) == 0) {
        size_t cap = l->n ? l->n * 2 : 1;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            free(copy);
            return false;
        }
        l->v = v;
    }
    l->v[l->n++] = copy;
    return true;
}

void lw_strlist_clear(lw_strlist *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
