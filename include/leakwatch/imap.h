/*
 * imap.h — the IMAP client's commands (RFC 9051) read off the reassembled client-to-server
 * stream, for what leaves through a mail client: the message literal of APPEND (and of each
 * message of MULTIAPPEND, RFC 3502) is handed to a content sink (the MIME engine) with the raw
 * stream offsets of its bytes. Other literals ({N} or {N+}, LITERAL+ RFC 7888) are skipped.
 * STARTTLS ends what can be read.
 */
#ifndef LW_IMAP_H
#define LW_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/counters.h"
#include "leakwatch/smtp.h"

#define LW_IMAP_LINE_MAX 8192 /* longest command line kept (longer ones cut, counted) */

#define LW_IMAP_COUNTERS(X, P)                                                                     \
    X(P, commands)         /* command lines read */                                                \
    X(P, appends)          /* messages of APPEND / MULTIAPPEND handed on */                        \
    X(P, literals_skipped) /* literals of other commands, skipped */                               \
    X(P, long_lines)       /* command lines over LW_IMAP_LINE_MAX (cut) */                         \
    X(P, bad_literal)      /* literal lengths that could not be read (over 4 GiB) */               \
    X(P, starttls)         /* STARTTLS: the rest is encrypted */
LW_COUNTER_BLOCK(imap, IMAP, LW_IMAP_COUNTERS)

typedef struct lw_imap lw_imap;

/* content: one begin/end per appended message (lw_smtp_content is the mail content sink).
 * NULL if out of memory. */
lw_imap *lw_imap_new(const lw_smtp_content *content, lw_imap_counters *ctr);
void lw_imap_client_data(lw_imap *m, const uint8_t *data, size_t len, uint64_t raw_offset);
/* A gap: an appended message in progress ends; reading resumes at the next line. */
void lw_imap_gap(lw_imap *m);
/* The client's stream ended: an open message ends. */
void lw_imap_end(lw_imap *m);
/* STARTTLS was sent: nothing more can be read. */
bool lw_imap_tls(const lw_imap *m);
void lw_imap_free(lw_imap *m);

#endif
