/*
 * config.h — the sensor configuration (interface section 3) and its strict YAML loader.
 *
 * Usage: lw_config_defaults(&c); lw_config_load(&c, path, err, sizeof err); then the
 * command line overrides fields; lw_config_free(&c) at exit. A key in the file replaces the
 * default (lists are replaced, not appended to). Unknown keys, wrong types, out-of-range
 * values, duplicate keys, YAML aliases and bad CIDRs are errors naming file:line.
 *
 * Value rules: integers are plain (unquoted) decimal numbers without leading zeros;
 * booleans are plain true/false/yes/no (any case); durations are integer seconds;
 * strings may be plain or quoted but not null/empty.
 */
#ifndef LW_CONFIG_H
#define LW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/cidr.h"

typedef enum lw_inspect_mode { LW_INSPECT_EGRESS = 0, LW_INSPECT_ALL } lw_inspect_mode;

/* Which flows get a `flow` event. */
typedef enum lw_flow_log { LW_FLOWS_ALL = 0, LW_FLOWS_ALERTED, LW_FLOWS_NONE } lw_flow_log;

typedef enum lw_output_type {
    LW_OUTPUT_FILE = 0,
    LW_OUTPUT_UNIX_DGRAM,
    LW_OUTPUT_UNIX_STREAM,
    LW_OUTPUT_SYSLOG,
    LW_OUTPUT_REDIS,
} lw_output_type;

typedef enum lw_syslog_transport { LW_SYSLOG_UDP = 0, LW_SYSLOG_TCP } lw_syslog_transport;
typedef enum lw_redis_mode { LW_REDIS_LIST = 0, LW_REDIS_STREAM } lw_redis_mode;

/* A list of owned strings. */
typedef struct lw_strlist {
    char **v;
    size_t n;
} lw_strlist;

/* One exact_match entry: an EDM list `name` (unique; [A-Za-z0-9_-]+) loaded from `file`. */
typedef struct lw_edm_conf {
    char *name;
    char *file;
} lw_edm_conf;

typedef struct lw_config {
    char *sensor_name; /* `sensor` of every event; default: the host name */

    /* home_net: the set (what the flow table asks) and the texts (for -T and stats). */
    lw_cidr_set *home_net;
    lw_strlist home_net_text;

    lw_inspect_mode inspect; /* default egress */
    lw_strlist signatures;   /* n == 0: the installed signatures directory (the lead resolves) */

    struct {
        lw_output_type type;   /* default file */
        char *path;            /* "-" = stdout (default); unix_*: the socket path */
        lw_flow_log flows;     /* default alerted */
        bool reveal;           /* default false */
        uint32_t max_values;   /* default 100; 0..1000000 */
        char *fingerprint_key; /* NULL = none: a random per-run key */
        uint32_t queue_events; /* default 100000; 1..100000000 */
        struct {
            char *server;                  /* default "127.0.0.1" */
            uint16_t port;                 /* default 514 */
            lw_syslog_transport transport; /* default udp */
            int facility;                  /* syslog facility code 0..23; default local5 (21) */
        } syslog;
        struct {
            char *server;       /* default "127.0.0.1" */
            uint16_t port;      /* default 6379 */
            char *key;          /* default "leakwatch" */
            lw_redis_mode mode; /* default list */
        } redis;
    } output;

    struct {
        uint32_t snaplen;   /* default 65535; 64..262144 */
        uint32_t buffer_mb; /* default 256; 1..65536 */
    } capture;

    uint32_t workers; /* 0 = online CPUs (default); 0..1024 */

    struct {
        uint32_t max_flows;   /* default 1000000; 1..4294967295 */
        uint32_t tcp_timeout; /* seconds; default 600; 1..31536000 */
        uint32_t udp_timeout; /* seconds; default 60; 1..31536000 */
    } flow;

    struct {
        uint64_t memcap_mb; /* default 1024; 1..1048576 */
        uint64_t depth_mb;  /* default 0 = unlimited; 0..1048576 */
    } reassembly;

    struct {
        bool http, smtp, base64; /* default true */
        uint64_t max_decoded_mb; /* default 64; 1..1048576 */
    } decode;

    struct {
        /* destinations that parse as an address or CIDR; never NULL after defaults */
        lw_cidr_set *dest_cidrs;
        lw_strlist dest_cidr_text;
        /* the other destinations: DNS names or globs (*.example.com), lower-cased */
        lw_strlist dest_hosts;
        lw_strlist values;
    } allowlist;

    struct {
        lw_edm_conf *v;
        size_t n;
    } exact_match;
} lw_config;

/* Fill every default of section 3 (allocates: pair with lw_config_free). False only when out
 * of memory; the config is then still safe to free. */
bool lw_config_defaults(lw_config *c);

/* Load path on top of c (which lw_config_defaults filled). 0 on success; on error returns 2
 * with one line "file:line: what (fix)" in err, and c is left freeable but partly loaded. */
int lw_config_load(lw_config *c, const char *path, char *err, size_t errlen);

/* Replace home_net with a comma-separated CIDR list (the -H option). 0 or 2 as above;
 * on error home_net is unchanged. */
int lw_config_set_home_net(lw_config *c, const char *csv, char *err, size_t errlen);

void lw_config_free(lw_config *c);

/* Names as written in the configuration, for -T summaries. */
const char *lw_inspect_mode_name(lw_inspect_mode m);
const char *lw_flow_log_name(lw_flow_log f);
const char *lw_output_type_name(lw_output_type t);
const char *lw_syslog_facility_name(int facility); /* "local5"; "?" when unknown */

#endif
