/*
 * config_yaml.h — strict libyaml document walking for the configuration loader.
 *
 * The loader describes each YAML map as a table of fields (name, type, where the value goes,
 * allowed range); lw_yaml_walk_map checks every key against it (unknown, duplicate, non-scalar
 * keys are errors) and stores the values. Every error is one line "file:line: what (fix)"
 * with the 1-based line of the offending node. Internal to sensor/config.
 */
#ifndef LW_CONFIG_YAML_H
#define LW_CONFIG_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "leakwatch/config.h"

#define LW_YAML_MAX_FILE (16u * 1024u * 1024u) /* a configuration larger than this is refused */
#define LW_YAML_MAX_STRING 4096                /* longest accepted string value */
#define LW_YAML_MAX_FIELDS 32                  /* keys per map table */
#define LW_YAML_SHOWN 40                       /* bytes of an offending value echoed in an error */
#define LW_YAML_SHOWN_BUF (LW_YAML_SHOWN + 4)

typedef struct lw_yaml_ctx {
    yaml_document_t doc;
    bool loaded;
    const char *file;
    char *err;
    size_t errlen;
    uint8_t *visited; /* per node id: reached once already (a second time = an alias) */
    size_t n_nodes;
    void *user; /* the loader's own state */
} lw_yaml_ctx;

typedef enum lw_yaml_ftype {
    LW_F_U16,
    LW_F_U32,
    LW_F_U64,
    LW_F_BOOL,
    LW_F_STR, /* char *, replaced (old value freed) */
    LW_F_MAP, /* a nested map described by sub/n_sub */
    LW_F_FN,  /* a custom handler */
} lw_yaml_ftype;

struct lw_yaml_field;
/* Custom value handler: path is the dotted key ("output.type"); base is the struct the
 * field offsets refer to. Returns 0 or 2 (error written through lw_yaml_fail). */
typedef int (*lw_yaml_fn)(lw_yaml_ctx *x, yaml_node_t *value, const char *path, void *base);

typedef struct lw_yaml_field {
    const char *name;
    lw_yaml_ftype type;
    size_t offset;     /* into base, for U16/U32/U64/BOOL/STR */
    uint64_t min, max; /* inclusive range for integers */
    lw_yaml_fn fn;     /* LW_F_FN */
    const struct lw_yaml_field *sub;
    size_t n_sub; /* LW_F_MAP */
} lw_yaml_field;

/* Read and parse path (one YAML document). 0 or 2. */
int lw_yaml_open(lw_yaml_ctx *x, const char *path, char *err, size_t errlen);
void lw_yaml_close(lw_yaml_ctx *x);
/* The document's root; NULL for an empty document (or a lone null scalar). */
yaml_node_t *lw_yaml_root(lw_yaml_ctx *x);

/* Write "file:LINE: message" to the error buffer; returns 2. at may be NULL (line 1). */
int lw_yaml_fail(lw_yaml_ctx *x, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int lw_yaml_fail_line(lw_yaml_ctx *x, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
unsigned lw_yaml_line(const yaml_node_t *n);
bool lw_yaml_is_null(const yaml_node_t *n);
/* Up to LW_YAML_SHOWN bytes of v (cut on a UTF-8 boundary, "..." when cut) with control
 * characters as '?', so an echoed value never breaks the one-line error. buf holds
 * LW_YAML_SHOWN_BUF bytes; returns buf. */
const char *lw_yaml_shown(const char *v, size_t len, char *buf);

/* Walk a map against a field table, storing into base. path "" = the top level. */
int lw_yaml_walk_map(lw_yaml_ctx *x, yaml_node_t *map, const char *path,
                     const lw_yaml_field *fields, size_t n_fields, void *base);

/* Resolve a child node id (a sequence item or map value); an already-seen node means a YAML
 * alias, which is refused. parent gives the error line. NULL on error (2 is the caller's). */
yaml_node_t *lw_yaml_child(lw_yaml_ctx *x, int id, const yaml_node_t *parent);

/* Scalar readers; path names the key in errors. */
int lw_yaml_uint(lw_yaml_ctx *x, yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
                 uint64_t *out);
int lw_yaml_bool(lw_yaml_ctx *x, yaml_node_t *n, const char *path, bool *out);
/* A non-null, non-empty string without NUL bytes; *out points into the document. */
int lw_yaml_text(lw_yaml_ctx *x, yaml_node_t *n, const char *path, const char **out);
/* Replace *out (freeing the old string) with a copy of the string value. */
int lw_yaml_string(lw_yaml_ctx *x, yaml_node_t *n, const char *path, char **out);
/* One of names[0..n_names-1], matched exactly; its index in *out. */
int lw_yaml_enum(lw_yaml_ctx *x, yaml_node_t *n, const char *path, const char *const *names,
                 size_t n_names, int *out);
/* n must be a sequence; reports non-lists as errors. */
int lw_yaml_expect_list(lw_yaml_ctx *x, yaml_node_t *n, const char *path, const char *example);

/* Walk a list of non-empty strings, calling each(item text); the list must be a sequence. */
typedef int (*lw_yaml_item_fn)(lw_yaml_ctx *x, yaml_node_t *item, const char *text,
                               const char *path, void *state);
int lw_yaml_walk_strings(lw_yaml_ctx *x, yaml_node_t *list, const char *path, const char *example,
                         lw_yaml_item_fn each, void *state);
/* Append every string of the list to out. */
int lw_yaml_strlist(lw_yaml_ctx *x, yaml_node_t *list, const char *path, const char *example,
                    lw_strlist *out);

/* String list helpers (owned strings). */
bool lw_strlist_push(lw_strlist *l, const char *s);
void lw_strlist_clear(lw_strlist *l);

#endif
