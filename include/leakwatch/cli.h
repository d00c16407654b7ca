/*
 * cli.h — the command line of interface.md section 1, parsed into lw_options.
 */
#ifndef LW_CLI_H
#define LW_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define LW_MAX_INPUTS 1024
#define LW_MAX_SIG_PATHS 256

typedef struct lw_options {
    const char *reads[LW_MAX_INPUTS]; /* -r, in order */
    size_t n_reads;
    const char *sigs[LW_MAX_SIG_PATHS]; /* -s, in order */
    size_t n_sigs;
    const char *iface;        /* -i */
    const char *bpf;          /* -f */
    const char *config;       /* -c */
    const char *output;       /* -o */
    const char *home_net;     /* -H */
    const char *inspect;      /* --inspect: "egress" | "all" */
    const char *user, *group; /* --user, --group */
    const char *pidfile;
    const char *scan;         /* --scan FILE */
    const char *dump_streams; /* --dump-streams DIR (developer option) */
    int workers;              /* --workers; -1 = not given */
    int stats_interval;       /* --stats-interval; -1 = not given */
    bool reveal, profile, test_config, version, help;
} lw_options;

/* 0 on success; 2 on a usage error with one line in err (what and how to fix). */
int lw_cli_parse(int argc, char **argv, lw_options *o, char *err, size_t errlen);
void lw_cli_usage(FILE *fp);

#endif
