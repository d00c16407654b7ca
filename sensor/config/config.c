/*
 * config.c — configuration defaults (interface section 3), the schema of every key, and the
 * checks that span keys. The YAML walking itself is in config_yaml.c.
 *
 * Design choice for network sinks: syslog and redis settings live in their own maps,
 *   output: {type: syslog, syslog: {server: 127.0.0.1, port: 514, transport: udp, facility:
 * local5}} output: {type: redis, redis: {server: 127.0.0.1, port: 6379, key: leakwatch, mode:
 * list}} and unix_dgram / unix_stream use output.path as the socket path.
 */
#include "leakwatch/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_yaml.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_NAME_LEN 255 /* sensor_name */
#define MAX_EDM_NAME_LEN 64
#define MAX_MB 1048576u       /* 1 TiB, in MiB */
#define MAX_TIMEOUT 31536000u /* one year, in seconds */
#define MAX_WORKERS 1024u
#define MAX_QUEUE_EVENTS 100000000u
#define MAX_VALUES_CAP 1000000u

/* Loader state beyond the generic walker: lines needed by checks that span keys. */
typedef struct loader {
    lw_config *c;
    unsigned type_line, path_line;
    unsigned edm_name_line; /* line of the last exact_match name read */
} loader;

static loader *loader_of(lw_yaml_ctx *x)
{
    return x->user;
}

/* ---- enum names ---- */

static const char *const inspect_names[] = {"egress", "all"};
static const char *const flows_names[] = {"all", "alerted", "none"};
static const char *const type_names[] = {"file", "unix_dgram", "unix_stream", "syslog", "redis"};
static const char *const transport_names[] = {"udp", "tcp"};
static const char *const redis_mode_names[] = {"list", "stream"};

/* RFC 5424 facility codes (local0..7 are 16..23). */
static const struct {
    const char *name;
    int code;
} facilities[] = {
    {"kern", 0},      {"user", 1},    {"mail", 2},    {"daemon", 3},  {"auth", 4},
    {"syslog", 5},    {"lpr", 6},     {"news", 7},    {"uucp", 8},    {"cron", 9},
    {"authpriv", 10}, {"ftp", 11},    {"local0", 16}, {"local1", 17}, {"local2", 18},
    {"local3", 19},   {"local4", 20}, {"local5", 21}, {"local6", 22}, {"local7", 23},
};

const char *lw_inspect_mode_name(lw_inspect_mode m)
{
    return (unsigned)m < ARRAY_LEN(inspect_names) ? inspect_names[m] : "?";
}

const char *lw_flow_log_name(lw_flow_log f)
{
    return (unsigned)f < ARRAY_LEN(flows_names) ? flows_names[f] : "?";
}

const char *lw_output_type_name(lw_output_type t)
{
    return (unsigned)t < ARRAY_LEN(type_names) ? type_names[t] : "?";
}

const char *lw_syslog_facility_name(int facility)
{
    for (size_t i = 0; i < ARRAY_LEN(facilities); i++)
        if (facilities[i].code == facility) return facilities[i].name;
    return "?";
}

/* ---- defaults ---- */

static bool set_home_net_texts(lw_strlist *out, const char *csv)
{
    const char *cursor = csv, *p;
    size_t len;
    while (lw_list_next(&cursor, &p, &len)) {
        char *item = strndup(p, len);
        bool ok = item && lw_strlist_push(out, item);
        free(item);
        if (!ok) return false;
    }
    return true;
}

bool lw_config_defaults(lw_config *c)
{
    memset(c, 0, sizeof(*c));
    c->inspect = LW_INSPECT_EGRESS;
    c->output.type = LW_OUTPUT_FILE;
    c->output.flows = LW_FLOWS_ALERTED;
    c->output.reveal = false;
    c->output.max_values = 100;
    c->output.queue_events = 100000;
    c->output.syslog.port = 514;
    c->output.syslog.transport = LW_SYSLOG_UDP;
    c->output.syslog.facility = 21; /* local5 */
    c->output.redis.port = 6379;
    c->output.redis.mode = LW_REDIS_LIST;
    c->capture.snaplen = 65535;
    c->capture.buffer_mb = 256;
    c->workers = 0;
    c->flow.max_flows = 1000000;
    c->flow.tcp_timeout = 600;
    c->flow.udp_timeout = 60;
    c->reassembly.memcap_mb = 1024;
    c->reassembly.depth_mb = 0;
    c->decode.http = true;
    c->decode.smtp = true;
    c->decode.base64 = true;
    c->decode.max_decoded_mb = 64;

    char host[256];
    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0') strcpy(host, "leakwatch");
    host[sizeof(host) - 1] = '\0';

    c->sensor_name = strdup(host);
    c->output.path = strdup("-");
    c->output.syslog.server = strdup("127.0.0.1");
    c->output.redis.server = strdup("127.0.0.1");
    c->output.redis.key = strdup("leakwatch");
    c->home_net = lw_cidr_set_parse_list(LW_DEFAULT_HOME_NET, NULL, 0);
    c->allowlist.dest_cidrs = lw_cidr_set_new();
    bool texts_ok = set_home_net_texts(&c->home_net_text, LW_DEFAULT_HOME_NET);
    return c->sensor_name && c->output.path && c->output.syslog.server && c->output.redis.server &&
           c->output.redis.key && c->home_net && c->allowlist.dest_cidrs && texts_ok;
}

void lw_config_free(lw_config *c)
{
    if (!c) return;
    free(c->sensor_name);
    lw_cidr_set_free(c->home_net);
    lw_strlist_clear(&c->home_net_text);
    lw_strlist_clear(&c->signatures);
    free(c->output.path);
    free(c->output.fingerprint_key);
    free(c->output.syslog.server);
    free(c->output.redis.server);
    free(c->output.redis.key);
    lw_cidr_set_free(c->allowlist.dest_cidrs);
    lw_strlist_clear(&c->allowlist.dest_cidr_text);
    lw_strlist_clear(&c->allowlist.dest_hosts);
    lw_strlist_clear(&c->allowlist.values);
    for (size_t i = 0; i < c->exact_match.n; i++) {
        free(c->exact_match.v[i].name);
        free(c->exact_match.v[i].file);
    }
    free(c->exact_match.v);
    memset(c, 0, sizeof(*c));
}

int lw_config_set_home_net(lw_config *c, const char *csv, char *err, size_t errlen)
{
    char why[256];
    lw_cidr_set *set = lw_cidr_set_parse_list(csv, why, sizeof(why));
    if (!set) {
        snprintf(err, errlen, "--home-net: %s", why);
        return 2;
    }
    lw_strlist texts = {0};
    if (!set_home_net_texts(&texts, csv)) {
        lw_cidr_set_free(set);
        lw_strlist_clear(&texts);
        snprintf(err, errlen, "--home-net: out of memory");
        return 2;
    }
    lw_cidr_set_free(c->home_net);
    lw_strlist_clear(&c->home_net_text);
    c->home_net = set;
    c->home_net_text = texts;
    return 0;
}

/* ---- custom key handlers ---- */

static int oom(lw_yaml_ctx *x, yaml_node_t *at, const char *path)
{
    return lw_yaml_fail(x, at, "%s: out of memory", path);
}

static int get_enum(lw_yaml_ctx *x, yaml_node_t *v, const char *path, const char *const *names,
                    size_t n, int *out)
{
    return lw_yaml_enum(x, v, path, names, n, out);
}

static int fn_inspect(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    int i;
    int rc = get_enum(x, v, path, inspect_names, ARRAY_LEN(inspect_names), &i);
    if (!rc) ((lw_config *)base)->inspect = (lw_inspect_mode)i;
    return rc;
}

static int fn_flows(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    int i;
    int rc = get_enum(x, v, path, flows_names, ARRAY_LEN(flows_names), &i);
    if (!rc) ((lw_config *)base)->output.flows = (lw_flow_log)i;
    return rc;
}

static int fn_type(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    int i;
    int rc = get_enum(x, v, path, type_names, ARRAY_LEN(type_names), &i);
    if (rc) return rc;
    ((lw_config *)base)->output.type = (lw_output_type)i;
    loader_of(x)->type_line = lw_yaml_line(v);
    return 0;
}

static int fn_path(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    int rc = lw_yaml_string(x, v, path, &((lw_config *)base)->output.path);
    if (!rc) loader_of(x)->path_line = lw_yaml_line(v);
    return rc;
}

static int fn_transport(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    int i;
    int rc = get_enum(x, v, path, transport_names, ARRAY_LEN(transport_names), &i);
    if (!rc) ((lw_config *)base)->output.syslog.transport = (lw_syslog_transport)i;
    return rc;
}

static int fn_redis_mode(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    int i;
    int rc = get_enum(x, v, path, redis_mode_names, ARRAY_LEN(redis_mode_names), &i);
    if (!rc) ((lw_config *)base)->output.redis.mode = (lw_redis_mode)i;
    return rc;
}

static int fn_facility(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    const char *names[ARRAY_LEN(facilities)];
    for (size_t i = 0; i < ARRAY_LEN(facilities); i++) names[i] = facilities[i].name;
    int i;
    int rc = get_enum(x, v, path, names, ARRAY_LEN(names), &i);
    if (!rc) ((lw_config *)base)->output.syslog.facility = facilities[i].code;
    return rc;
}

static int fn_sensor_name(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    const char *text;
    int rc = lw_yaml_text(x, v, path, &text);
    if (rc) return rc;
    if (strlen(text) > MAX_NAME_LEN)
        return lw_yaml_fail(x, v, "%s: is longer than %d characters (use a short name)", path,
                            MAX_NAME_LEN);
    return lw_yaml_string(x, v, path, &((lw_config *)base)->sensor_name);
}

static int push_item(lw_yaml_ctx *x, yaml_node_t *item, const char *text, const char *path,
                     void *state)
{
    return lw_strlist_push(state, text) ? 0 : oom(x, item, path);
}

typedef struct cidr_list {
    lw_cidr_set *set;
    lw_strlist text;
} cidr_list;

static int push_cidr(lw_yaml_ctx *x, yaml_node_t *item, const char *text, const char *path,
                     cidr_list *l)
{
    lw_cidr cidr;
    char why[256];
    if (!lw_cidr_parse(text, &cidr, why, sizeof(why)))
        return lw_yaml_fail(x, item, "%s: %s", path, why);
    if (!lw_cidr_set_add(l->set, &cidr) || !lw_strlist_push(&l->text, text))
        return oom(x, item, path);
    return 0;
}

static int home_net_item(lw_yaml_ctx *x, yaml_node_t *item, const char *text, const char *path,
                         void *state)
{
    return push_cidr(x, item, text, path, state);
}

static int fn_home_net(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    lw_config *c = base;
    cidr_list l = {lw_cidr_set_new(), {0}};
    if (!l.set) return oom(x, v, path);
    int rc = lw_yaml_walk_strings(x, v, path, "[10.0.0.0/8, fc00::/7]", home_net_item, &l);
    if (!rc && l.text.n == 0)
        rc = lw_yaml_fail(x, v,
                          "%s: is empty (list at least one network, or remove the key for "
                          "the defaults)",
                          path);
    if (rc) {
        lw_cidr_set_free(l.set);
        lw_strlist_clear(&l.text);
        return rc;
    }
    lw_cidr_set_free(c->home_net);
    lw_strlist_clear(&c->home_net_text);
    c->home_net = l.set;
    c->home_net_text = l.text;
    return 0;
}

static int fn_signatures(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    lw_config *c = base;
    lw_strlist l = {0};
    int rc = lw_yaml_walk_strings(x, v, path, "[/usr/share/leakwatch/signatures, local.yaml]",
                                  push_item, &l);
    if (rc) {
        lw_strlist_clear(&l);
        return rc;
    }
    lw_strlist_clear(&c->signatures);
    c->signatures = l;
    return 0;
}

static int fn_values(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    lw_config *c = base;
    lw_strlist l = {0};
    int rc = lw_yaml_walk_strings(x, v, path, "[AKIAIOSFODNN7EXAMPLE]", push_item, &l);
    if (rc) {
        lw_strlist_clear(&l);
        return rc;
    }
    lw_strlist_clear(&c->allowlist.values);
    c->allowlist.values = l;
    return 0;
}

/* Text that is meant as an address: has '/' or ':' or is only digits and dots. */
static bool looks_like_address(const char *s)
{
    if (strchr(s, '/') || strchr(s, ':')) return true;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && *s != '.') return false;
    return true;
}

/* A DNS name or glob: labels of [A-Za-z0-9_*-], 1-63 characters, 253 in all; one trailing
 * dot allowed (dropped by the caller). A lone "*" would allowlist every named destination. */
static bool valid_host_glob(const char *s)
{
    size_t len = strlen(s);
    if (len > 0 && s[len - 1] == '.') len--;
    if (len == 0 || len > 253) return false;
    if (len == 1 && s[0] == '*') return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '*') return false;
        if (++label > 63) return false;
    }
    return label > 0;
}

typedef struct dest_state {
    cidr_list cidrs;
    lw_strlist hosts;
} dest_state;

static int dest_item(lw_yaml_ctx *x, yaml_node_t *item, const char *text, const char *path,
                     void *state)
{
    dest_state *d = state;
    if (looks_like_address(text)) return push_cidr(x, item, text, path, &d->cidrs);
    char shown[LW_YAML_SHOWN_BUF];
    if (!valid_host_glob(text))
        return lw_yaml_fail(x, item,
                            "%s: '%s' is neither a CIDR nor a host name (use e.g. "
                            "203.0.113.0/24, api.partner.example or *.example.com)",
                            path, lw_yaml_shown(text, strlen(text), shown));
    char *lower = strdup(text);
    if (!lower) return oom(x, item, path);
    size_t len = strlen(lower);
    if (len > 0 && lower[len - 1] == '.') lower[len - 1] = '\0';
    for (char *p = lower; *p; p++) *p = (char)tolower((unsigned char)*p);
    bool ok = lw_strlist_push(&d->hosts, lower);
    free(lower);
    return ok ? 0 : oom(x, item, path);
}

static int fn_destinations(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    lw_config *c = base;
    dest_state d = {{lw_cidr_set_new(), {0}}, {0}};
    if (!d.cidrs.set) return oom(x, v, path);
    int rc =
        lw_yaml_walk_strings(x, v, path, "[203.0.113.0/24, api.partner.example]", dest_item, &d);
    if (rc) {
        lw_cidr_set_free(d.cidrs.set);
        lw_strlist_clear(&d.cidrs.text);
        lw_strlist_clear(&d.hosts);
        return rc;
    }
    lw_cidr_set_free(c->allowlist.dest_cidrs);
    lw_strlist_clear(&c->allowlist.dest_cidr_text);
    lw_strlist_clear(&c->allowlist.dest_hosts);
    c->allowlist.dest_cidrs = d.cidrs.set;
    c->allowlist.dest_cidr_text = d.cidrs.text;
    c->allowlist.dest_hosts = d.hosts;
    return 0;
}

/* exact_match entries are walked with their own table; base is the lw_edm_conf. */
static int fn_edm_name(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    const char *text;
    int rc = lw_yaml_text(x, v, path, &text);
    if (rc) return rc;
    size_t len = strlen(text);
    char shown[LW_YAML_SHOWN_BUF];
    bool ok = len <= MAX_EDM_NAME_LEN;
    for (size_t i = 0; ok && i < len; i++)
        ok = isalnum((unsigned char)text[i]) || text[i] == '_' || text[i] == '-';
    if (!ok)
        return lw_yaml_fail(x, v,
                            "%s: '%s' is not a valid list name (letters, digits, '_' and "
                            "'-', at most %d; signatures refer to it as validate: edm:NAME)",
                            path, lw_yaml_shown(text, len, shown), MAX_EDM_NAME_LEN);
    loader_of(x)->edm_name_line = lw_yaml_line(v);
    return lw_yaml_string(x, v, path, &((lw_edm_conf *)base)->name);
}

static const lw_yaml_field edm_fields[] = {
    {.name = "name", .type = LW_F_FN, .fn = fn_edm_name},
    {.name = "file", .type = LW_F_STR, .offset = offsetof(lw_edm_conf, file)},
};

static int fn_exact_match(lw_yaml_ctx *x, yaml_node_t *v, const char *path, void *base)
{
    lw_config *c = base;
    int rc = lw_yaml_expect_list(x, v, path, "[{name: customers, file: customers.edm}]");
    if (rc) return rc;
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    lw_edm_conf *list = calloc(n ? n : 1, sizeof(*list));
    unsigned *lines = calloc(n ? n : 1, sizeof(*lines));
    if (!list || !lines) {
        free(list);
        free(lines);
        return oom(x, v, path);
    }
    size_t got = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        yaml_node_t *item = lw_yaml_child(x, v->data.sequence.items.start[i], v);
        if (!item) {
            rc = 2;
            break;
        }
        if (item->type != YAML_MAPPING_NODE) {
            rc = lw_yaml_fail(x, item,
                              "%s: each entry is a map with name and file (e.g. - {name: "
                              "customers, file: /etc/leakwatch/customers.edm})",
                              path);
            break;
        }
        got++;
        rc = lw_yaml_walk_map(x, item, path, edm_fields, ARRAY_LEN(edm_fields), &list[i]);
        if (rc) break;
        if (!list[i].name || !list[i].file) {
            rc = lw_yaml_fail(x, item, "%s: entry without %s (each entry needs name and file)",
                              path, list[i].name ? "file" : "name");
            break;
        }
        lines[i] = loader_of(x)->edm_name_line;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(list[j].name, list[i].name) == 0) {
                rc = lw_yaml_fail_line(x, lines[i],
                                       "%s: duplicate list name '%s' (first at line %u; names must "
                                       "be unique)",
                                       path, list[i].name, lines[j]);
                break;
            }
        }
    }
    free(lines);
    if (rc) {
        for (size_t i = 0; i < got; i++) {
            free(list[i].name);
            free(list[i].file);
        }
        free(list);
        return rc;
    }
    for (size_t i = 0; i < c->exact_match.n; i++) {
        free(c->exact_match.v[i].name);
        free(c->exact_match.v[i].file);
    }
    free(c->exact_match.v);
    c->exact_match.v = list;
    c->exact_match.n = n;
    return 0;
}

/* ---- the schema ---- */

#define U(type_, field, lo, hi)                                                                    \
    .type = type_, .offset = offsetof(lw_config, field), .min = (lo), .max = (hi)

static const lw_yaml_field syslog_fields[] = {
    {.name = "server", .type = LW_F_STR, .offset = offsetof(lw_config, output.syslog.server)},
    {.name = "port", U(LW_F_U16, output.syslog.port, 1, 65535)},
    {.name = "transport", .type = LW_F_FN, .fn = fn_transport},
    {.name = "facility", .type = LW_F_FN, .fn = fn_facility},
};

static const lw_yaml_field redis_fields[] = {
    {.name = "server", .type = LW_F_STR, .offset = offsetof(lw_config, output.redis.server)},
    {.name = "port", U(LW_F_U16, output.redis.port, 1, 65535)},
    {.name = "key", .type = LW_F_STR, .offset = offsetof(lw_config, output.redis.key)},
    {.name = "mode", .type = LW_F_FN, .fn = fn_redis_mode},
};

static const lw_yaml_field output_fields[] = {
    {.name = "path", .type = LW_F_FN, .fn = fn_path},
    {.name = "flows", .type = LW_F_FN, .fn = fn_flows},
    {.name = "reveal", .type = LW_F_BOOL, .offset = offsetof(lw_config, output.reveal)},
    {.name = "max_values", U(LW_F_U32, output.max_values, 0, MAX_VALUES_CAP)},
    {.name = "fingerprint_key",
     .type = LW_F_STR,
     .offset = offsetof(lw_config, output.fingerprint_key)},
    {.name = "type", .type = LW_F_FN, .fn = fn_type},
    {.name = "queue_events", U(LW_F_U32, output.queue_events, 1, MAX_QUEUE_EVENTS)},
    {.name = "syslog", .type = LW_F_MAP, .sub = syslog_fields, .n_sub = ARRAY_LEN(syslog_fields)},
    {.name = "redis", .type = LW_F_MAP, .sub = redis_fields, .n_sub = ARRAY_LEN(redis_fields)},
};

static const lw_yaml_field capture_fields[] = {
    {.name = "snaplen", U(LW_F_U32, capture.snaplen, 64, 262144)},
    {.name = "buffer_mb", U(LW_F_U32, capture.buffer_mb, 1, 65536)},
};

static const lw_yaml_field flow_fields[] = {
    {.name = "max_flows", U(LW_F_U32, flow.max_flows, 1, UINT32_MAX)},
    {.name = "tcp_timeout", U(LW_F_U32, flow.tcp_timeout, 1, MAX_TIMEOUT)},
    {.name = "udp_timeout", U(LW_F_U32, flow.udp_timeout, 1, MAX_TIMEOUT)},
};

static const lw_yaml_field reassembly_fields[] = {
    {.name = "memcap_mb", U(LW_F_U64, reassembly.memcap_mb, 1, MAX_MB)},
    {.name = "depth_mb", U(LW_F_U64, reassembly.depth_mb, 0, MAX_MB)},
};

static const lw_yaml_field decode_fields[] = {
    {.name = "http", .type = LW_F_BOOL, .offset = offsetof(lw_config, decode.http)},
    {.name = "smtp", .type = LW_F_BOOL, .offset = offsetof(lw_config, decode.smtp)},
    {.name = "base64", .type = LW_F_BOOL, .offset = offsetof(lw_config, decode.base64)},
    {.name = "max_decoded_mb", U(LW_F_U64, decode.max_decoded_mb, 1, MAX_MB)},
};

static const lw_yaml_field allowlist_fields[] = {
    {.name = "destinations", .type = LW_F_FN, .fn = fn_destinations},
    {.name = "values", .type = LW_F_FN, .fn = fn_values},
};

static const lw_yaml_field top_fields[] = {
    {.name = "home_net", .type = LW_F_FN, .fn = fn_home_net},
    {.name = "inspect", .type = LW_F_FN, .fn = fn_inspect},
    {.name = "signatures", .type = LW_F_FN, .fn = fn_signatures},
    {.name = "output", .type = LW_F_MAP, .sub = output_fields, .n_sub = ARRAY_LEN(output_fields)},
    {.name = "capture",
     .type = LW_F_MAP,
     .sub = capture_fields,
     .n_sub = ARRAY_LEN(capture_fields)},
    {.name = "workers", U(LW_F_U32, workers, 0, MAX_WORKERS)},
    {.name = "flow", .type = LW_F_MAP, .sub = flow_fields, .n_sub = ARRAY_LEN(flow_fields)},
    {.name = "reassembly",
     .type = LW_F_MAP,
     .sub = reassembly_fields,
     .n_sub = ARRAY_LEN(reassembly_fields)},
    {.name = "decode", .type = LW_F_MAP, .sub = decode_fields, .n_sub = ARRAY_LEN(decode_fields)},
    {.name = "allowlist",
     .type = LW_F_MAP,
     .sub = allowlist_fields,
     .n_sub = ARRAY_LEN(allowlist_fields)},
    {.name = "exact_match", .type = LW_F_FN, .fn = fn_exact_match},
    {.name = "sensor_name", .type = LW_F_FN, .fn = fn_sensor_name},
};

/* Checks that span keys, after the walk. */
static int check_output(lw_yaml_ctx *x, const loader *l)
{
    const lw_config *c = l->c;
    bool unix_socket =
        c->output.type == LW_OUTPUT_UNIX_DGRAM || c->output.type == LW_OUTPUT_UNIX_STREAM;
    if (unix_socket && strcmp(c->output.path, "-") == 0) {
        unsigned line = l->path_line ? l->path_line : l->type_line;
        return lw_yaml_fail_line(x, line ? line : 1,
                                 "output.type %s writes to a socket: set output.path to the socket "
                                 "path (e.g. path: /run/leakwatch/events.sock)",
                                 lw_output_type_name(c->output.type));
    }
    return 0;
}

int lw_config_load(lw_config *c, const char *path, char *err, size_t errlen)
{
    lw_yaml_ctx x;
    loader l = {.c = c};
    int rc = lw_yaml_open(&x, path, err, errlen);
    if (rc) {
        lw_yaml_close(&x);
        return rc;
    }
    x.user = &l;
    yaml_node_t *root = lw_yaml_root(&x);
    if (root) {
        if (root->type != YAML_MAPPING_NODE) {
            rc = lw_yaml_fail(&x, root,
                              "the configuration must be a map of keys (e.g. 'inspect: egress' "
                              "lines), not a %s",
                              root->type == YAML_SEQUENCE_NODE ? "list" : "single value");
        } else {
            rc = lw_yaml_walk_map(&x, root, "", top_fields, ARRAY_LEN(top_fields), c);
        }
    }
    if (!rc) rc = check_output(&x, &l);
    lw_yaml_close(&x);
    return rc;
}
