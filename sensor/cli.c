/*
 * cli.c — parses the command line (interface.md section 1). Only syntax and ranges are
 * checked here; meaning (files, CIDRs, filters) is checked where it is used.
 */
#include "leakwatch/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_INSPECT = 256,
    OPT_REVEAL,
    OPT_WORKERS,
    OPT_STATS_INTERVAL,
    OPT_USER,
    OPT_GROUP,
    OPT_PIDFILE,
    OPT_PROFILE,
    OPT_SCAN,
    OPT_DUMP_STREAMS,
};

static const struct option long_opts[] = {
    {"read", required_argument, NULL, 'r'},
    {"interface", required_argument, NULL, 'i'},
    {"filter", required_argument, NULL, 'f'},
    {"config", required_argument, NULL, 'c'},
    {"signatures", required_argument, NULL, 's'},
    {"output", required_argument, NULL, 'o'},
    {"home-net", required_argument, NULL, 'H'},
    {"inspect", required_argument, NULL, OPT_INSPECT},
    {"reveal", no_argument, NULL, OPT_REVEAL},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
    {"user", required_argument, NULL, OPT_USER},
    {"group", required_argument, NULL, OPT_GROUP},
    {"pidfile", required_argument, NULL, OPT_PIDFILE},
    {"profile", no_argument, NULL, OPT_PROFILE},
    {"test-config", no_argument, NULL, 'T'},
    {"scan", required_argument, NULL, OPT_SCAN},
    {"dump-streams", required_argument, NULL, OPT_DUMP_STREAMS},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void lw_cli_usage(FILE *fp)
{
    fputs(
        "usage: leakwatch [OPTIONS]\n"
        "  -r, --read FILE          read a pcap or pcapng file offline; repeatable; \"-\" = stdin\n"
        "  -i, --interface IFACE    capture live (span/mirror port), promiscuous\n"
        "  -f, --filter \"BPF\"       capture filter for -r and -i\n"
        "  -c, --config FILE        YAML configuration; without it, built-in defaults\n"
        "  -s, --signatures PATH    signature file or directory; repeatable\n"
        "  -o, --output PATH        JSON Lines event log; \"-\" = stdout (default)\n"
        "  -H, --home-net CIDRS     comma-separated home networks; overrides the config\n"
        "      --inspect egress|all which byte directions are scanned (default egress)\n"
        "      --reveal             also log the full matched values (lab use)\n"
        "      --workers N          worker threads (default: online CPUs)\n"
        "      --stats-interval S   seconds between stats events on live capture (default 60; 0 = "
        "off)\n"
        "      --user U, --group G  drop privileges to U/G once the capture handle is open\n"
        "      --pidfile FILE       write the process id\n"
        "      --profile            print a per-stage CPU breakdown to stderr at exit\n"
        "  -T, --test-config        load config and signatures, print a summary, exit\n"
        "      --scan FILE          scan a plain file with the signatures, print matches, exit\n"
        "      --dump-streams DIR   (developer) write each TCP flow's reassembled bytes to DIR\n"
        "  -V, --version\n"
        "  -h, --help\n"
        "Exit status: 0 ok; 1 fatal error; 2 usage, config or signature error; 3 an input was\n"
        "truncated or corrupt (everything before the damage was processed).\n",
        fp);
}

static bool parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

int lw_cli_parse(int argc, char **argv, lw_options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->workers = -1;
    o->stats_interval = -1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":r:i:f:c:s:o:H:TVh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (o->n_reads == LW_MAX_INPUTS) {
                snprintf(err, errlen, "too many -r inputs (at most %d)", LW_MAX_INPUTS);
                return 2;
            }
            o->reads[o->n_reads++] = optarg;
            break;
        case 's':
            if (o->n_sigs == LW_MAX_SIG_PATHS) {
                snprintf(err, errlen, "too many -s paths (at most %d)", LW_MAX_SIG_PATHS);
                return 2;
            }
            o->sigs[o->n_sigs++] = optarg;
            break;
        case 'i':
            o->iface = optarg;
            break;
        case 'f':
            o->bpf = optarg;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'H':
            o->home_net = optarg;
            break;
        case 'T':
            o->test_config = true;
            break;
        case 'V':
            o->version = true;
            break;
        case 'h':
            o->help = true;
            break;
        case OPT_INSPECT:
            if (strcmp(optarg, "egress") && strcmp(optarg, "all")) {
                snprintf(err, errlen, "--inspect '%s': use egress or all", optarg);
                return 2;
            }
            o->inspect = optarg;
            break;
        case OPT_REVEAL:
            o->reveal = true;
            break;
        case OPT_WORKERS:
            if (!parse_int(optarg, 1, 1024, &o->workers)) {
                snprintf(err, errlen, "--workers '%s': give a number of threads from 1 to 1024",
                         optarg);
                return 2;
            }
            break;
        case OPT_STATS_INTERVAL:
            if (!parse_int(optarg, 0, INT_MAX, &o->stats_interval)) {
                snprintf(err, errlen, "--stats-interval '%s': give seconds (0 = off)", optarg);
                return 2;
            }
            break;
        case OPT_USER:
            o->user = optarg;
            break;
        case OPT_GROUP:
            o->group = optarg;
            break;
        case OPT_PIDFILE:
            o->pidfile = optarg;
            break;
        case OPT_PROFILE:
            o->profile = true;
            break;
        case OPT_SCAN:
            o->scan = optarg;
            break;
        case OPT_DUMP_STREAMS:
            o->dump_streams = optarg;
            break;
        case ':':
            snprintf(err, errlen, "option %s needs an argument (see leakwatch --help)",
                     argv[optind - 1]);
            return 2;
        default:
            snprintf(err, errlen, "unknown option %s (see leakwatch --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (inputs are given with -r FILE)",
                 argv[optind]);
        return 2;
    }
    if (o->version || o->help) return 0;
    if (o->n_reads && o->iface) {
        snprintf(err, errlen, "give either -r FILE or -i IFACE, not both");
        return 2;
    }
    if (!o->n_reads && !o->iface && !o->test_config && !o->scan) {
        snprintf(err, errlen, "nothing to do: give -r FILE, -i IFACE, --scan FILE or -T");
        return 2;
    }
    return 0;
}
