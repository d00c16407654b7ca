/*
 * main.c — leakwatch's entry point: command line and configuration are resolved into one
 * run of the sensor (sensor/runtime/sensor_run.c), whose status is the exit status.
 *
 * Follow one packet: capture/ reads it, decode/ peels link layer, tunnels and IP (with
 * fragment reassembly), runtime/dispatch hands it to the worker owning its flow, flow/
 * finds the flow, reassembly/ rebuilds the byte stream, output/ writes the events.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "leakwatch/cli.h"
#include "leakwatch/config.h"
#include "leakwatch/edm.h"
#include "leakwatch/fingerprint.h"
#include "leakwatch/match.h"
#include "leakwatch/output.h"
#include "leakwatch/signatures.h"
#include "match/scan_file.h"

#define DNS_TUNNEL_PAIRS 65536 /* (host, domain) pairs the DNS-tunnel table tracks */
#include "runtime/engine.h"
#include "runtime/sensor_run.h"

/* What the signature engine needs for one run. */
typedef struct engine {
    lw_engine *eng; /* generation 1: the signatures and their matcher */
    lw_fp_key key;
    lw_edm_set *edm; /* exact_match lists, NULL without */
} engine;

/* The default signature directory: the installed one, or ./signatures in a build tree. */
static const char *default_signatures(void)
{
    struct stat st;
    if (stat(LW_INSTALL_SIGDIR, &st) == 0 && S_ISDIR(st.st_mode)) return LW_INSTALL_SIGDIR;
    if (stat("signatures", &st) == 0 && S_ISDIR(st.st_mode)) return "signatures";
    return LW_SOURCE_SIGDIR;
}

static long online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n;
}

static void print_signatures(const lw_sigset *set, const lw_matcher *m)
{
    const lw_matcher_info *in = lw_matcher_get_info(m);
    printf("  signatures:  %zu from %zu file(s): %zu content, %zu volume, %zu dns_tunnel\n", set->n,
           set->files, in->content_sigs, in->volume_sigs, in->dns_tunnel_sigs);
    printf("  categories: ");
    for (int c = 0; c < LW_CAT__COUNT; c++)
        printf(" %s %zu", lw_category_name((lw_category)c), in->per_category[c]);
    printf("\n  database:    %zu bytes streaming, compiled in %.3f s; %zu bytes start-finding "
           "(%zu with SOM; at run time compiled when a signature first reports)\n",
           in->db_bytes, in->compile_seconds, in->confirm_bytes, in->som_sigs);
    printf("  gated:       %zu literal-free signatures behind the byte-class gate (%zu bytes)\n",
           in->gated_sigs, in->gated_db_bytes);
    printf("  stream:      %zu bytes per inspected flow direction (%zu Hyperscan state, %zu "
           "tail)\n",
           in->stream_bytes, in->hs_stream_bytes, in->tail_bytes);
}

static void print_edm(lw_edm_set *set)
{
    for (size_t i = 0; i < lw_edm_set_count(set); i++) {
        lw_edm_set_info in;
        lw_edm_set_get_info(set, i, &in);
        printf("  exact_match: %s: %llu entries (%s) from %s, %zu bytes in memory\n", in.name,
               (unsigned long long)in.entries, lw_edm_norm_name(in.norm), in.file, in.memory);
    }
}

static void print_summary(const lw_config *cfg, const lw_options *o, int workers, const engine *e)
{
    const lw_sigset *set = &e->eng->sigs;
    const lw_matcher *m = e->eng->matcher;
    printf("leakwatch %s: configuration OK\n", LW_VERSION);
    printf("  config:      %s\n", o->config ? o->config : "(built-in defaults)");
    printf("  sensor:      %s\n", cfg->sensor_name);
    printf("  home_net:   ");
    for (size_t i = 0; i < cfg->home_net_text.n; i++) printf(" %s", cfg->home_net_text.v[i]);
    printf("\n  inspect:     %s\n", lw_inspect_mode_name(cfg->inspect));
    printf("  output:      %s %s (flows: %s)\n", lw_output_type_name(cfg->output.type),
           cfg->output.path, lw_flow_log_name(cfg->output.flows));
    printf("  workers:     %d\n", workers);
    printf("  flow:        max_flows %u, tcp_timeout %us, udp_timeout %us\n", cfg->flow.max_flows,
           cfg->flow.tcp_timeout, cfg->flow.udp_timeout);
    printf("  reassembly:  memcap %llu MB, depth %llu MB (0 = unlimited)\n",
           (unsigned long long)cfg->reassembly.memcap_mb,
           (unsigned long long)cfg->reassembly.depth_mb);
    print_signatures(set, m);
    print_edm(e->edm);
}

static int write_pidfile(const char *path)
{
    FILE *fp = fopen(path, "w");
    if (fp) (void)fchmod(fileno(fp), 0644); /* 0644 whatever the umask */
    if (!fp || fprintf(fp, "%ld\n", (long)getpid()) < 0 || fclose(fp) != 0) {
        fprintf(stderr, "leakwatch: cannot write pidfile %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

/* A filter that does not compile is a usage error, found before anything is processed. */
static int check_filter(const char *bpf)
{
    if (!bpf || !*bpf) return 0;
    pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
    struct bpf_program prog;
    if (!dead) return 0;
    int rc = 0;
    if (pcap_compile(dead, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        fprintf(stderr, "leakwatch: -f \"%s\": %s (see man 7 pcap-filter)\n", bpf,
                pcap_geterr(dead));
        rc = 2;
    } else {
        pcap_freecode(&prog);
    }
    pcap_close(dead);
    return rc;
}

/* Every -r input must be readable before anything is processed. */
static int check_inputs(const lw_options *o)
{
    for (size_t i = 0; i < o->n_reads; i++) {
        if (strcmp(o->reads[i], "-") == 0) continue;
        if (access(o->reads[i], R_OK) != 0) {
            fprintf(stderr, "leakwatch: cannot read %s: %s\n", o->reads[i], strerror(errno));
            return 1;
        }
    }
    return 0;
}

static int load_key(const lw_config *cfg, lw_fp_key *key)
{
    char err[1024];
    if (!lw_fp_key_load(key, cfg->output.fingerprint_key, err, sizeof(err))) {
        fprintf(stderr, "leakwatch: output.fingerprint_key: %s\n", err);
        return 2;
    }
    if (!key->random) return 0;
    if (cfg->exact_match.n) {
        fprintf(stderr, "leakwatch: exact_match needs output.fingerprint_key: the key its lists "
                        "were built with (leakwatch-edm build --key)\n");
        return 2;
    }
    fprintf(stderr, "leakwatch: no output.fingerprint_key: value fingerprints use a random "
                    "per-run key (they cannot be compared across runs)\n");
    return 0;
}

/* Opens every exact_match list and hands them to the matcher. 0, or 2 naming the list. */
static int open_edm(const lw_config *cfg, engine *e)
{
    char err[1024];
    size_t n = cfg->exact_match.n;
    const char **names = calloc(n, sizeof(*names)), **files = calloc(n, sizeof(*files));
    if (!names || !files) {
        free(names);
        free(files);
        fprintf(stderr, "leakwatch: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = cfg->exact_match.v[i].name;
        files[i] = cfg->exact_match.v[i].file;
    }
    e->edm = lw_edm_set_open(names, files, n, &e->key, err, sizeof(err));
    free(names);
    free(files);
    if (!e->edm || !lw_matcher_attach_edm(e->eng->matcher, e->edm, err, sizeof(err))) {
        fprintf(stderr, "leakwatch: %s\n", err);
        return 2;
    }
    return 0;
}

static int run_sensor(const lw_options *o, lw_config *cfg, int workers, engine *e);

static int run(const lw_options *o, lw_config *cfg)
{
    char err[1024];
    if (o->config && lw_config_load(cfg, o->config, err, sizeof(err)) != 0) {
        fprintf(stderr, "leakwatch: %s\n", err);
        return 2;
    }
    if (o->home_net && lw_config_set_home_net(cfg, o->home_net, err, sizeof(err)) != 0) {
        fprintf(stderr, "leakwatch: -H: %s\n", err);
        return 2;
    }
    if (o->inspect)
        cfg->inspect = strcmp(o->inspect, "all") == 0 ? LW_INSPECT_ALL : LW_INSPECT_EGRESS;
    if (o->reveal) cfg->output.reveal = true;
    int workers = o->workers > 0 ? o->workers
                  : cfg->workers ? (int)cfg->workers
                                 : (int)online_cpus();

    engine e;
    memset(&e, 0, sizeof(e));
    /* -T and --scan check (and time) everything up front; the sensor compiles on demand */
    lw_engine_spec spec = {
        .sig_paths = (const char *const *)o->sigs,
        .n_sig_paths = o->n_sigs,
        .default_sigdir = default_signatures(),
        .cfg = cfg,
        .prepare_all = o->test_config || o->scan,
        .tell_edm_off = o->test_config || cfg->exact_match.n > 0,
    };
    int rc = 0;
    if (!(e.eng = lw_engine_build(&spec, err, sizeof(err), &rc)))
        fprintf(stderr, "leakwatch: %s\n", err);
    /* the key: for fingerprints when running, and for the exact_match lists (-T too) */
    if (!rc && (!o->test_config || cfg->exact_match.n)) rc = load_key(cfg, &e.key);
    if (!rc && cfg->exact_match.n) rc = open_edm(cfg, &e);
    if (!rc && o->test_config) {
        print_summary(cfg, o, workers, &e);
    } else if (!rc) {
        rc = o->scan ? lw_scan_file(e.eng->matcher, o->scan, &e.key, cfg->output.reveal, stdout)
                     : run_sensor(o, cfg, workers, &e);
    }
    lw_engine_unref(e.eng);
    lw_edm_set_free(e.edm);
    lw_fp_key_free(&e.key);
    return rc;
}

static int run_sensor(const lw_options *o, lw_config *cfg, int workers, engine *e)
{
    char err[1024];
    int rc;
    rc = check_filter(o->bpf);
    if (rc) return rc;
    rc = check_inputs(o);
    if (rc) return rc;
    if (o->dump_streams && mkdir(o->dump_streams, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "leakwatch: --dump-streams %s: %s\n", o->dump_streams, strerror(errno));
        return 1;
    }

    /* the configured sink; -o PATH overrides output.path (see output.h). out_path: the event
     * file, if the sink is one ("-" otherwise) */
    bool unix_sink =
        cfg->output.type == LW_OUTPUT_UNIX_DGRAM || cfg->output.type == LW_OUTPUT_UNIX_STREAM;
    bool to_file = cfg->output.type == LW_OUTPUT_FILE || (o->output && !unix_sink);
    const char *out_path = !to_file ? "-" : o->output ? o->output : cfg->output.path;
    lw_output *out = lw_output_open(cfg, o->output, err, sizeof(err));
    if (!out) {
        fprintf(stderr, "leakwatch: %s\n", err);
        return 1;
    }
    if (o->pidfile && write_pidfile(o->pidfile)) {
        lw_output_close(out);
        return 1;
    }

    lw_runtime rt;
    memset(&rt, 0, sizeof(rt));
    rt.home_net = cfg->home_net;
    rt.inspect_all = cfg->inspect == LW_INSPECT_ALL;
    rt.flows_mode = cfg->output.flows;
    rt.sensor_name = cfg->sensor_name;
    rt.dump_dir = o->dump_streams;
    uint32_t per_worker = cfg->flow.max_flows / (uint32_t)workers;
    rt.flow_cfg = (lw_flow_config){
        .max_flows = per_worker ? per_worker : 1,
        .tcp_timeout = cfg->flow.tcp_timeout,
        .udp_timeout = cfg->flow.udp_timeout,
        .other_timeout = cfg->flow.udp_timeout,
        .tcp_closed_timeout = 10,
        .tcp_new_timeout = 30 < cfg->flow.tcp_timeout ? 30 : cfg->flow.tcp_timeout,
    };
    rt.reasm_cfg = (lw_reasm_config){
        .memcap_bytes = cfg->reassembly.memcap_mb << 20,
        .depth_bytes = cfg->reassembly.depth_mb << 20,
    };
    rt.input_names = o->reads;
    rt.n_inputs = o->n_reads;
    rt.out = out;
    atomic_init(&rt.reasm_mem, 0);
    lw_engine_slot_init(&rt.engine, lw_engine_ref(e->eng));
    rt.fp_key = &e->key;
    rt.edm = e->edm;
    rt.reveal = cfg->output.reveal;
    rt.max_values = cfg->output.max_values;
    rt.classify = true;

    /* application layers (decode.*); the FTP and DNS-tunnel tables are shared by every worker */
    rt.decode_http = cfg->decode.http;
    rt.decode_smtp = cfg->decode.smtp;
    rt.decode_base64 = cfg->decode.base64;
    rt.max_decoded_bytes = cfg->decode.max_decoded_mb << 20;
    const lw_signature *tunnel = e->eng->dns_tunnel_sig;
    rt.ftp_expect = lw_ftp_expect_new(LW_FTP_EXPECT_MAX);
    if (tunnel) {
        const lw_signature *g = tunnel;
        rt.dns_tunnel = lw_dns_tunnel_new(DNS_TUNNEL_PAIRS, g->min_length, g->min_entropy,
                                          g->threshold ? g->threshold : 1);
    }
    if (!rt.ftp_expect || (tunnel && !rt.dns_tunnel)) {
        fprintf(stderr, "leakwatch: out of memory\n");
        lw_ftp_expect_free(rt.ftp_expect);
        lw_dns_tunnel_free(rt.dns_tunnel);
        lw_engine_slot_destroy(&rt.engine);
        lw_output_close(out);
        return 1;
    }

    lw_run_params rp = {
        .reads = o->reads,
        .n_reads = o->n_reads,
        .iface = o->iface,
        .bpf = o->bpf,
        .snaplen = (int)cfg->capture.snaplen,
        .buffer_mb = (int)cfg->capture.buffer_mb,
        .workers = workers,
        .profile = o->profile,
        .user = o->user,
        .group = o->group,
        .stats_interval = o->stats_interval,
        .output_path = strcmp(out_path, "-") ? out_path : NULL,
        .pidfile = o->pidfile,
        .reload = {.config_path = o->config,
                   .sig_paths = (const char *const *)o->sigs,
                   .n_sig_paths = o->n_sigs,
                   .default_sigdir = default_signatures()},
    };
    lw_install_signal_handlers();
    rc = lw_sensor_run(&rt, &rp);
    lw_ftp_expect_free(rt.ftp_expect);
    lw_dns_tunnel_free(rt.dns_tunnel);
    lw_engine_slot_destroy(&rt.engine);
    lw_output_close(out);
    if (o->pidfile) unlink(o->pidfile);
    return rc;
}

int main(int argc, char **argv)
{
    lw_options o;
    char err[1024];
    if (lw_cli_parse(argc, argv, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "leakwatch: %s\n", err);
        return 2;
    }
    if (o.help) {
        lw_cli_usage(stdout);
        return 0;
    }
    if (o.version) {
        printf("leakwatch %s\n", LW_VERSION);
        return 0;
    }
    lw_config cfg;
    if (!lw_config_defaults(&cfg)) {
        fprintf(stderr, "leakwatch: out of memory\n");
        return 1;
    }
    int rc = run(&o, &cfg);
    lw_config_free(&cfg);
    return rc;
}
