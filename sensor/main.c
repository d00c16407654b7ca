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
#include "leakwatch/output.h"
#include "runtime/sensor_run.h"

/* The default signature directory: the installed one, or ./signatures in a build tree. */
static const char *default_signatures(void)
{
    struct stat st;
    if (stat(LW_INSTALL_SIGDIR, &st) == 0 && S_ISDIR(st.st_mode)) return LW_INSTALL_SIGDIR;
    if (stat("signatures", &st) == 0 && S_ISDIR(st.st_mode)) return "signatures";
    return LW_SOURCE_SIGDIR;
}

/* Signature loading arrives with the signature engine; until then a path must at least exist. */
static int check_signature_paths(const lw_options *o, const lw_config *cfg, size_t *count)
{
    const char *paths[LW_MAX_SIG_PATHS + 64];
    size_t n = 0;
    for (size_t i = 0; i < o->n_sigs; i++) paths[n++] = o->sigs[i];
    for (size_t i = 0; !o->n_sigs && i < cfg->signatures.n && n < 64; i++)
        paths[n++] = cfg->signatures.v[i];
    if (!n) paths[n++] = default_signatures();
    for (size_t i = 0; i < n; i++) {
        if (access(paths[i], R_OK) != 0) {
            fprintf(stderr,
                    "leakwatch: signatures %s: %s (give an existing file or directory with -s)\n",
                    paths[i], strerror(errno));
            return 2;
        }
    }
    *count = n;
    return 0;
}

static long online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n;
}

static void print_summary(const lw_config *cfg, const lw_options *o, int workers, size_t nsig)
{
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
    printf("  signatures:  %zu path(s) present; the signature engine is not part of this build\n",
           nsig);
}

static int write_pidfile(const char *path)
{
    FILE *fp = fopen(path, "w");
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

    size_t nsig = 0;
    int rc = check_signature_paths(o, cfg, &nsig);
    if (rc) return rc;
    if (o->test_config) {
        print_summary(cfg, o, workers, nsig);
        return 0;
    }
    if (o->scan) {
        fprintf(stderr, "leakwatch: --scan needs the signature engine, which is not part of this "
                        "build yet\n");
        return 1;
    }
    if (cfg->output.type != LW_OUTPUT_FILE) {
        fprintf(stderr, "leakwatch: output.type %s is not available in this build yet (use file)\n",
                lw_output_type_name(cfg->output.type));
        return 2;
    }
    rc = check_filter(o->bpf);
    if (rc) return rc;
    rc = check_inputs(o);
    if (rc) return rc;
    if (o->dump_streams && mkdir(o->dump_streams, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "leakwatch: --dump-streams %s: %s\n", o->dump_streams, strerror(errno));
        return 1;
    }

    const char *out_path = o->output ? o->output : cfg->output.path;
    lw_output *out = lw_output_open(out_path, err, sizeof(err));
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
    };
    lw_install_signal_handlers();
    rc = lw_sensor_run(&rt, &rp);
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
