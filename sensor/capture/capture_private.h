/*
 * capture_private.h — the capture handle shared by offline.c (files) and live.c (interfaces).
 *
 * Not part of the public API: only the files in sensor/capture include it.
 */
#ifndef LW_CAPTURE_PRIVATE_H
#define LW_CAPTURE_PRIVATE_H

#include <pcap/pcap.h>
#include <stdbool.h>

#include "leakwatch/capture.h"
#include "capture/pcapng_reader.h"

#define LW_CAPTURE_MSG_MAX 512

enum lw_capture_kind {
    LW_CAPK_PCAP_FILE, /* libpcap reads a pcap or pcapng file */
    LW_CAPK_PCAPNG,    /* our own pcapng reader */
    LW_CAPK_LIVE,      /* libpcap live handle */
};

struct lw_capture {
    enum lw_capture_kind kind;
    pcap_t *pcap;
    struct bpf_program prog; /* offline libpcap: applied with pcap_offline_filter */
    bool have_prog;
    lw_pcapng_reader *ng;

    char *path;       /* as given; reopened when our pcapng reader takes over from libpcap */
    char *bpf;        /* copy of the filter, or NULL */
    const char *name; /* for messages: the path, or "stdin" */
    int reopen_fd; /* seekable pcapng read by libpcap: our reader restarts from this fd; else -1 */

    uint32_t file_idx;
    uint64_t pkt_num; /* records read so far (libpcap paths) */
    int first_linktype;

    bool finished;    /* the input has ended: final_status says how (sticky) */
    int final_status; /* LW_CAP_EOF or LW_CAP_ERROR */
    char final_msg[LW_CAPTURE_MSG_MAX];

    /* Live drop counters: pcap_stats gives 32-bit totals; we add wrap-safe deltas. */
    uint32_t last_ps_drop, last_ps_ifdrop;
    uint64_t kernel_drops, if_drops;

    lw_capture_counters ctr;
};

/* A zeroed handle owned by the caller (free with lw_capture_close). NULL on out of memory. */
lw_capture *lw_capture_alloc(enum lw_capture_kind kind, const char *name);

/* Fill *f from a libpcap record header and data; counts odd lengths and timestamps. */
void lw_capture_frame_from_pcap(lw_capture *c, const struct pcap_pkthdr *h, const uint8_t *data,
                                int linktype, lw_frame *f);

/* End the input with status LW_CAP_EOF or LW_CAP_ERROR (the message, printf-style, is kept
 * and copied into err now and on every later lw_capture_next call). Returns status. */
__attribute__((format(printf, 5, 6))) int lw_capture_finish(lw_capture *c, int status, char *err,
                                                            size_t errlen, const char *fmt, ...);

/* Live read step used by lw_capture_next (live.c). */
int lw_capture_next_live(lw_capture *c, lw_frame *f, char *err, size_t errlen);

#endif
