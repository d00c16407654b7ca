/*
 * smtp.h — the SMTP client's commands (RFC 5321) read off the reassembled client-to-server
 * stream, for the `smtp` event object: HELO/EHLO name, MAIL FROM and RCPT TO addresses.
 * Message content (DATA with its dot-stuffing undone, BDAT chunks) is handed to a content
 * sink, when one is set, with the raw stream offsets of its bytes; STARTTLS ends what can be
 * read.
 */
#ifndef LW_SMTP_H
#define LW_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_SMTP_LINE_MAX 1024 /* longest command line kept (RFC 5321: 512) */
#define LW_SMTP_MAX_RCPT 16   /* recipients listed; the rest are counted */

/* Where message content goes: one begin/end per message (DATA ... "." or BDAT ... LAST). */
typedef struct lw_smtp_content {
    void (*begin)(void *user);
    void (*data)(void *user, const uint8_t *data, size_t len, uint64_t raw_offset);
    void (*end)(void *user);
    void *user;
} lw_smtp_content;

typedef struct lw_smtp {
    char *helo, *mail_from;
    char *rcpt[LW_SMTP_MAX_RCPT];
    uint32_t n_rcpt;
    uint32_t rcpt_over;      /* recipients beyond LW_SMTP_MAX_RCPT */
    uint32_t long_lines;     /* command lines over LW_SMTP_LINE_MAX (cut) */
    uint64_t bdat_left;      /* bytes of a BDAT chunk still to skip */
    bool in_data;            /* between DATA and the "." line */
    bool tls;                /* STARTTLS was sent: the rest is encrypted */
    bool skipping;           /* the rest of an over-long line */
    bool bdat_last;          /* the BDAT chunk being read is the message's last */
    bool in_message;         /* content begun and not ended (DATA or BDAT) */
    bool content_lost;       /* a gap inside the message: the rest of it is not handed on */
    bool line_start;         /* DATA: the next byte starts a line */
    uint8_t dot;             /* DATA: 1 after a line-start ".", 2 after ".\r" */
    uint32_t messages;       /* messages whose content began */
    lw_smtp_content content; /* begin == NULL: content is skipped */
    uint16_t len;
    char line[LW_SMTP_LINE_MAX];
} lw_smtp;

/* NULL if out of memory. */
lw_smtp *lw_smtp_new(void);
/* Bytes of the client's stream, in order (raw_offset: the stream offset of data[0]). */
void lw_smtp_client_bytes(lw_smtp *s, const uint8_t *data, size_t len);
void lw_smtp_client_data(lw_smtp *s, const uint8_t *data, size_t len, uint64_t raw_offset);
/* A gap: the line in progress is dropped; a DATA section is assumed to go on, but the
 * message's content is ended (what follows cannot be decoded in context). */
void lw_smtp_gap(lw_smtp *s);
/* The client's stream ended: an open message ends. */
void lw_smtp_end(lw_smtp *s);
void lw_smtp_free(lw_smtp *s);

#endif
