/*
 * sensor_run.h — one run of the sensor: capture → decode → dispatch → workers, then the
 * final flow flush and stats event. Returns the process exit status of interface.md §1.
 */
#ifndef LW_SENSOR_RUN_H
#define LW_SENSOR_RUN_H

#include <signal.h>

#include "leakwatch/defrag.h"
#include "reload.h"
#include "runtime.h"

typedef struct lw_run_params {
    const char *const *reads; /* -r inputs in order (NULL/0 with iface) */
    size_t n_reads;
    const char *iface; /* -i */
    const char *bpf;
    int snaplen, buffer_mb;
    int workers;
    bool profile;
    lw_defrag_config defrag;
    const char *user, *group; /* drop privileges once the first capture handle is open */
    /* live: seconds between stats events (0 = none, < 0 = the default 60) */
    int stats_interval;
    /* files created before the privilege drop, handed to --user/--group (NULL: none) */
    const char *output_path, *pidfile;
    lw_reload_spec reload; /* what SIGHUP reloads */
} lw_run_params;

/* Set by signal handlers; polled between packets. */
extern volatile sig_atomic_t lw_sig_stop, lw_sig_hup;
void lw_install_signal_handlers(void);

int lw_sensor_run(lw_runtime *rt, const lw_run_params *rp);

#endif
