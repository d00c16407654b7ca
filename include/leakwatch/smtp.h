/*
 * smtp.h — the SMTP client's commands (RFC 5321) read off the reassembled client-to-server
 * stream, for the `smtp` event object: HELO/EHLO name, MAIL FROM and RCPT TO addresses.
 * Message content (DATA, BDAT chunks) is skipped here; STARTTLS ends what can be read.
 */
#ifndef LW_SMTP_H
#define LW_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_SMTP_LINE_MAX 1024 /* longest command line kept (RFC 5321: 512) */
#define LW_SMTP_MAX_RCPT 16   /* recipients listed; the rest are counted */

typedef struct lw_smtp {
    char *helo, *mail_from;
    char *rcpt[LW_SMTP_MAX_RCPT];
    uint32_t n_rcpt;
    uint32_t rcpt_over;  /* recipients beyond LW_SMTP_MAX_RCPT */
    uint32_t long_lines; /* command lines over LW_SMTP_LINE_MAX (cut) */
    uint64_t bdat_left;  /* bytes of a BDAT chunk still to skip */
    bool in_data;        /* between DATA and the "." line */
    bool tls;            /* STARTTLS was sent: the rest is encrypted */
    bool skipping;       /* the rest of an over-long line */
    uint16_t len;
    char line[LW_SMTP_LINE_MAX];
} lw_smtp;

/* NULL if out of memory. */
lw_smtp *lw_smtp_new(void);
/* Bytes of the client's stream, in order. */
void lw_smtp_client_bytes(lw_smtp *s, const uint8_t *data, size_t len);
/* A gap: the line in progress is dropped; a DATA section is assumed to go on. */
void lw_smtp_gap(lw_smtp *s);
void lw_smtp_free(lw_smtp *s);

#endif
