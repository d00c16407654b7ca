/*
 * defrag.h — IPv4 and IPv6 fragment reassembly, one lw_defrag per worker.
 *
 * The decoder hands every fragment here; when the last missing byte of a datagram arrives
 * the rebuilt datagram comes back and decoding continues on it as if it had arrived whole.
 * Memory is bounded (memcap over held bytes and tracker overhead, a maximum tracker count),
 * trackers time out on packet time, and overlaps are resolved first-data-wins, with counters
 * for overlapping bytes that differ (an evasion signal).
 */
#ifndef LW_DEFRAG_H
#define LW_DEFRAG_H

#include <stdint.h>

#include "leakwatch/counters.h"

#define LW_DEFRAG_COUNTERS(X, P)                                                                   \
    X(P, fragments)         /* fragments handed to defrag (IPv4 and IPv6, atomic included) */      \
    X(P, reassembled)       /* datagrams rebuilt and returned */                                   \
    X(P, atomic)            /* IPv6 atomic fragments (offset 0, M = 0) returned at once */         \
    X(P, overlaps)          /* fragments partly overlapping held data (new bytes kept too) */      \
    X(P, overlap_diff)      /* overlapping bytes that differed from the first copy */              \
    X(P, duplicates)        /* fragments bringing no new byte */                                   \
    X(P, timeouts)          /* incomplete datagrams dropped after timeout_sec idle */              \
    X(P, memcap_drops)      /* fragments refused by memcap_mb (their datagram dropped) */          \
    X(P, tracker_drops)     /* new datagrams refused because max_trackers were in use */           \
    X(P, too_large)         /* fragments ending past 65535 (datagram dropped) */                   \
    X(P, not_multiple_of_8) /* non-last fragments whose length is not a multiple of 8 */           \
    X(P, empty)             /* fragments without a data byte */                                    \
    X(P, beyond_last)       /* fragments with data past the end fixed by the last fragment */      \
    X(P, last_conflict)     /* last fragments disagreeing with the known end or held data */       \
    X(P, tiny_first)        /* first fragments too short for the L4 header (still reassembled) */  \
    X(P, truncated)         /* fragments cut by the capture (length field > bytes present) */      \
    X(P, invalid)           /* fragments with inconsistent IP/fragment header fields */
LW_COUNTER_BLOCK(defrag, DEFRAG, LW_DEFRAG_COUNTERS)

typedef struct lw_defrag lw_defrag;

/* 0 = default: 32 MB, 60 s, 65536 trackers. */
typedef struct lw_defrag_config {
    uint32_t memcap_mb;
    uint32_t timeout_sec;
    uint32_t max_trackers;
} lw_defrag_config;

/* cfg may be NULL (all defaults). Returns NULL only when memory is exhausted. */
lw_defrag *lw_defrag_new(const lw_defrag_config *cfg);
void lw_defrag_free(lw_defrag *d);

/*
 * ip: IPv4 header of a fragment (MF set or offset != 0; the decoder has checked version 4 and
 * IHL >= 5 within len), len = bytes of the datagram present (trimmed to the IP total length),
 * ctx = a hash of the VLAN/tunnel context (part of the tracker key with src, dst, id, protocol).
 * Returns 1 and *out / *out_len = the complete IPv4 datagram (buffer owned by defrag, valid until
 * the next lw_defrag_* call; header = the first fragment's header with MF clear, offset 0, total
 * length set, checksum recomputed), 0 = held, -1 = dropped (counted).
 * A datagram that is not a fragment at all (MF clear, offset 0) is returned as is (*out = ip).
 */
int lw_defrag_ipv4(lw_defrag *d, uint64_t now_usec, uint32_t ctx, const uint8_t *ip, uint32_t len,
                   const uint8_t **out, uint32_t *out_len);

/*
 * ip6: IPv6 header; frag_off = offset of the Fragment extension header from ip6; nh_off = offset
 * of the Next Header byte that names the Fragment header (6 when it follows the base header).
 * The output is the unfragmentable part (base header + extension headers before the Fragment
 * header, from the offset-0 fragment) with that Next Header byte set to the Fragment header's
 * next header, the Fragment header removed, payload length fixed, then the reassembled data.
 * Atomic fragments (offset 0, M = 0, RFC 6946) come back at once (counted). Same return values.
 */
int lw_defrag_ipv6(lw_defrag *d, uint64_t now_usec, uint32_t ctx, const uint8_t *ip6, uint32_t len,
                   uint32_t frag_off, uint32_t nh_off, const uint8_t **out, uint32_t *out_len);

/* Drop trackers idle longer than the timeout (counted as timeouts). O(expired).
 * At end of input, lw_defrag_expire(d, UINT64_MAX) accounts every incomplete datagram. */
void lw_defrag_expire(lw_defrag *d, uint64_t now_usec);

const lw_defrag_counters *lw_defrag_get_counters(const lw_defrag *d);

/* Bytes counted against the memcap: trackers, held headers, data buffers and bitmaps. */
uint64_t lw_defrag_mem_in_use(const lw_defrag *d);

#endif
