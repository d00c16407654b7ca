/*
 * capture.h — where frames come from: pcap/pcapng files (-r, "-" = stdin) and live interfaces (-i).
 *
 * Offline files are sniffed by magic number (never by extension). Classic pcap (micro- or
 * nanosecond) is read by libpcap; pcapng too, unless libpcap refuses it (e.g. interfaces that
 * differ in link type or snapshot length), in which case our own pcapng block reader takes over
 * from the record where libpcap stopped. Every frame carries the DLT_* link type of its own
 * interface (as pcap_datalink() reports it: raw IP is DLT_RAW, 12 on Linux) and a microsecond
 * timestamp. A capture handle is used by one thread at a time.
 */
#ifndef LW_CAPTURE_H
#define LW_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "leakwatch/counters.h"
#include "leakwatch/packet.h" /* lw_frame */

typedef struct lw_capture lw_capture;

enum lw_capture_status { LW_CAP_OK = 1, LW_CAP_EOF = 0, LW_CAP_ERROR = -1, LW_CAP_TIMEOUT = 2 };

/* Counters of one capture handle (sum them across inputs with LW_COUNTERS_ADD). */
#define LW_CAPTURE_COUNTERS(X, P)                                                                  \
    X(P, records_read)                /* packet records read, filtered or not */                   \
    X(P, filtered_out)                /* records the -f filter rejected */                         \
    X(P, filter_linktype_unsupported) /* records on a link type the filter cannot compile for */   \
    X(P, filter_linktypes_over_cap)   /* link types beyond the per-file filter cache */            \
    X(P, caplen_over_snaplen)         /* captured length above the interface snaplen */            \
    X(P, caplen_over_wirelen)         /* captured length above the wire length (wire raised) */    \
    X(P, bad_timestamps)              /* timestamps out of range (clamped) */                      \
    X(P, read_errors)                 /* inputs that ended truncated or corrupt */                 \
    X(P, pcapng_fallback_files)       /* pcapng inputs read by our own reader */                   \
    X(P, pcapng_sections)             /* section header blocks */                                  \
    X(P, pcapng_interfaces)           /* interface description blocks */                           \
    X(P, pcapng_interfaces_over_cap) /* interfaces beyond the per-section cap (packets dropped) */ \
    X(P, pcapng_blocks_skipped)      /* block types we do not use (NRB, ISB, DSB, custom, ...) */  \
    X(P, pcapng_bad_blocks)          /* well-framed packet blocks with impossible contents */      \
    X(P, pcapng_bad_options)         /* malformed IDB options (defaults used) */                   \
    X(P, pcapng_unknown_interface)   /* packets naming an interface that was never described */

LW_COUNTER_BLOCK(capture, CAPTURE, LW_CAPTURE_COUNTERS)

/* Offline. path "-" = stdin. bpf may be NULL/"". file_idx is stored into every frame.
 * On failure returns NULL, sets *exit_code (2 = bad BPF filter: a usage error; 1 = cannot
 * open/read/not a capture file) and writes one clear line (what, where, fix) into err. */
lw_capture *lw_capture_open_offline(const char *path, const char *bpf, uint32_t file_idx, char *err,
                                    size_t errlen, int *exit_code);

/* Live: promiscuous, snaplen, kernel buffer in MB, immediate mode off, 100 ms read timeout so
 * the caller can poll signals. Same failure convention as offline; an interface that does not
 * exist or cannot be opened returns NULL with exit_code 1. */
lw_capture *lw_capture_open_live(const char *iface, const char *bpf, int snaplen, int buffer_mb,
                                 char *err, size_t errlen, int *exit_code);

/* Next frame. LW_CAP_OK: *f filled (data valid until the next call). LW_CAP_EOF: clean end.
 * LW_CAP_ERROR: input truncated or corrupt; err says where; frames before it were delivered;
 * stop reading this input (later calls return the same error). LW_CAP_TIMEOUT: live only,
 * no packet within the read timeout. Frames the filter rejects are skipped and counted. */
int lw_capture_next(lw_capture *c, lw_frame *f, char *err, size_t errlen);

/* Live: kernel and interface drop counters since open (64-bit, wrap-safe). 0 offline. */
void lw_capture_drops(lw_capture *c, uint64_t *kernel_drops, uint64_t *if_drops);

/* DLT_* link type of the first interface (-1 for a pcapng file that describes none). */
int lw_capture_linktype(const lw_capture *c);

const lw_capture_counters *lw_capture_counters_get(const lw_capture *c);

void lw_capture_close(lw_capture *c);

#endif
