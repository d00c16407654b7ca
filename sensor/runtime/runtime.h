/*
 * runtime.h — what every worker shares for one run of the sensor: settings resolved from
 * the configuration and command line, the output sink and the global reassembly memcap.
 */
#ifndef LW_RUNTIME_H
#define LW_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/cidr.h"
#include "leakwatch/config.h"
#include "leakwatch/dns_query.h"
#include "leakwatch/ftp.h"
#include "leakwatch/fingerprint.h"
#include "leakwatch/flow.h"
#include "leakwatch/match.h"
#include "leakwatch/output.h"
#include "leakwatch/reassembly.h"
#include "leakwatch/signatures.h"
#include "engine.h"

typedef struct lw_runtime {
    const lw_cidr_set *home_net;
    bool inspect_all;       /* --inspect all: scan both directions */
    lw_flow_log flows_mode; /* output.flows */
    const char *sensor_name;
    const char *dump_dir;    /* --dump-streams: write reassembled streams here */
    lw_flow_config flow_cfg; /* per worker: max_flows already divided by the worker count */
    lw_reasm_config reasm_cfg;
    const char *const *input_names; /* -r arguments, indexed by lw_packet.file_idx */
    size_t n_inputs;
    lw_output *out;
    _Atomic uint64_t reasm_mem; /* bytes buffered by reassembly, all workers */

    /* the signatures, their matcher and the allowlist: one generation per (re)load */
    lw_engine_slot engine;
    const lw_fp_key *fp_key;
    struct lw_edm_set *edm; /* exact_match lists: reopened on SIGHUP (NULL: none) */
    bool reveal;            /* output.reveal / --reveal */
    uint32_t max_values;    /* output.max_values */
    bool classify;          /* classify flows with nDPI */

    /* application-layer decoding (decode.*) */
    bool decode_http, decode_smtp, decode_base64;
    uint64_t max_decoded_bytes;      /* per flow direction */
    lw_ftp_expect_table *ftp_expect; /* announced FTP data connections, all workers */
    /* the DNS-tunnel table of the first engine's dns_tunnel signature (its thresholds hold
     * for the run; alerts carry the signature of the flow's engine), all workers */
    lw_dns_tunnel *dns_tunnel;
} lw_runtime;

#endif
