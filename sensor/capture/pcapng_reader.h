/*
 * pcapng_reader.h — our own pcapng block reader, for files libpcap refuses.
 *
 * libpcap 1.10 insists that every interface in a pcapng file has the link type and snapshot
 * length of the first one; real files (merged captures) do not. This reader keeps a table of
 * interfaces per section, gives each frame its own interface's link type, converts any
 * if_tsresol/if_tsoffset to microseconds and applies the BPF filter compiled per link type.
 * Memory is one block buffer (grown up to LW_PCAPNG_MAX_BLOCK) plus the interface table.
 */
#ifndef LW_PCAPNG_READER_H
#define LW_PCAPNG_READER_H

#include <stdint.h>
#include <stdio.h>

#include "leakwatch/capture.h"

#define LW_PCAPNG_MAX_BLOCK (16u << 20)   /* bytes per block: libpcap's own cap is 16 MiB too */
#define LW_PCAPNG_MAX_INTERFACES 4096u    /* interfaces per section */
#define LW_PCAPNG_MAX_FILTER_LINKTYPES 16 /* distinct link types a filter is compiled for */

typedef struct lw_pcapng_reader lw_pcapng_reader;

/* Read the section header (and the blocks up to the first packet) from fp, which must be
 * positioned at the start of a pcapng file; fp is owned by the reader from then on, even on
 * failure. name is used in messages. bpf may be NULL/"". The first skip_records packet records
 * are read but neither delivered nor counted (to resume where libpcap stopped). counters is
 * the capture handle's block, updated as blocks are read. On failure returns NULL with
 * *exit_code 2 (filter does not compile) or 1 (not pcapng / corrupt header) and err set. */
lw_pcapng_reader *lw_pcapng_open(FILE *fp, const char *name, const char *bpf, uint64_t skip_records,
                                 lw_capture_counters *counters, char *err, size_t errlen,
                                 int *exit_code);

/* Next frame matching the filter: LW_CAP_OK, LW_CAP_EOF or LW_CAP_ERROR (sticky, err set).
 * Fills data, caplen, wirelen, ts_usec, linktype (DLT_*) and pkt_num, not file_idx. */
int lw_pcapng_next(lw_pcapng_reader *r, lw_frame *f, char *err, size_t errlen);

/* DLT_* link type of the first interface described, -1 if none was before the first packet. */
int lw_pcapng_first_linktype(const lw_pcapng_reader *r);

/* Map a LINKTYPE_* value stored in a file to the DLT_* value libpcap reports for it. */
int lw_pcapng_linktype_to_dlt(int linktype);

void lw_pcapng_close(lw_pcapng_reader *r);

#endif
