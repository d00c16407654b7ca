/*
 * ftp.h — the FTP control channel (RFC 959, 2428): commands and replies read off the two
 * reassembled directions of a control connection, and the data connections they announce.
 *
 * PASV (227 reply "h1,h2,h3,h4,p1,p2"), EPSV (229 reply "(|||port|)"), PORT and EPRT (client
 * commands) each announce where the next data connection will go; the transfer command that
 * follows (STOR, APPE, STOU, RETR, LIST, NLST, MLSD) names what it carries. The control parser
 * reports an announcement through on_expect; the worker registers it in the expectation table
 * shared by every worker, and the data connection's first packet claims it, linking the data
 * flow to an lw_ftp_transfer (command, filename) that the control flow keeps up to date.
 *
 * Lines are collected up to LW_FTP_LINE_MAX bytes (longer ones cut, counted).
 */
#ifndef LW_FTP_H
#define LW_FTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/counters.h"

#define LW_FTP_LINE_MAX 1024
#define LW_FTP_EXPECT_MAX 4096 /* announced data connections waiting at once */
#define LW_FTP_EXPECT_TIMEOUT_USEC (120 * 1000000ull) /* unclaimed announcements expire */

#define LW_FTP_COUNTERS(X, P)                                                                      \
    X(P, commands)       /* client command lines read */                                           \
    X(P, replies)        /* server reply lines read */                                             \
    X(P, long_lines)     /* lines over LW_FTP_LINE_MAX (cut) */                                    \
    X(P, bad_port)       /* PORT/EPRT/227/229 whose address or port could not be read */           \
    X(P, announced)      /* data connections announced */                                          \
    X(P, linked)         /* data connections linked to their control flow */                       \
    X(P, expect_full)    /* announcements dropped: the expectation table was full */               \
    X(P, expect_expired) /* announcements never claimed before LW_FTP_EXPECT_TIMEOUT_USEC */       \
    X(P, auth_tls)       /* AUTH TLS / AUTH SSL: the rest of the control channel is encrypted */
LW_COUNTER_BLOCK(ftp, FTP, LW_FTP_COUNTERS)

/* What one data connection carries. Shared by the control flow (writer) and the data flow
 * (reader), possibly on different workers: reference counted, fields read under the lock. */
typedef struct lw_ftp_transfer {
    pthread_mutex_t lock;
    int refs;           /* under lock */
    char command[8];    /* "STOR", "RETR", ... ("" until the command is seen) */
    char filename[256]; /* its argument, cut to fit */
} lw_ftp_transfer;

lw_ftp_transfer *lw_ftp_transfer_new(void); /* refs = 1; NULL if out of memory */
lw_ftp_transfer *lw_ftp_transfer_ref(lw_ftp_transfer *t);
void lw_ftp_transfer_unref(lw_ftp_transfer *t); /* NULL is fine */
/* Copies command and filename out under the lock. */
void lw_ftp_transfer_get(lw_ftp_transfer *t, char command[8], char filename[256]);

/* An announced data connection: the address and port its responder will have. */
typedef struct lw_ftp_endpoint {
    uint8_t ip_version; /* 4 or 6 */
    uint8_t addr[16];   /* IPv4 in the first 4 bytes */
    uint16_t port;
} lw_ftp_endpoint;

typedef void (*lw_ftp_expect_fn)(void *user, const lw_ftp_endpoint *ep, lw_ftp_transfer *t);

typedef struct lw_ftp lw_ftp;

/* A control connection between client and server (their addresses: EPSV replies and
 * address-less announcements use them). on_expect receives each announcement with the
 * transfer it will carry (the callee takes its own reference if it keeps it). */
lw_ftp *lw_ftp_new(const lw_ftp_endpoint *client, const lw_ftp_endpoint *server,
                   lw_ftp_expect_fn on_expect, void *user, lw_ftp_counters *ctr);
void lw_ftp_client_bytes(lw_ftp *f, const uint8_t *data, size_t len); /* client → server */
void lw_ftp_server_bytes(lw_ftp *f, const uint8_t *data, size_t len); /* server → client */
/* A gap in one direction: the line in progress is dropped. */
void lw_ftp_gap(lw_ftp *f, bool client);
/* The last command seen and its argument (for the control flow's own events). */
const char *lw_ftp_last_command(const lw_ftp *f);
const char *lw_ftp_last_argument(const lw_ftp *f);
void lw_ftp_free(lw_ftp *f);

/* A hint for the capture thread, which steers a data connection to the worker of its control
 * connection (so the worker links them in packet order): the announcements in the complete
 * lines of one control segment. Nothing is kept between calls, nothing is allocated. */
typedef void (*lw_ftp_peek_fn)(void *user, const lw_ftp_endpoint *ep);
void lw_ftp_peek(const lw_ftp_endpoint *client, const lw_ftp_endpoint *server, bool from_client,
                 const uint8_t *data, size_t len, lw_ftp_peek_fn fn, void *user);

/* The table of announced data connections, shared by every worker (one lock). */
typedef struct lw_ftp_expect_table lw_ftp_expect_table;
lw_ftp_expect_table *lw_ftp_expect_new(size_t cap);
void lw_ftp_expect_free(lw_ftp_expect_table *t);
/* Register (takes a reference on tr). false when full (counted by the caller). Expired
 * entries are dropped first and counted in *expired. */
bool lw_ftp_expect_add(lw_ftp_expect_table *t, const lw_ftp_endpoint *ep, lw_ftp_transfer *tr,
                       uint64_t now_usec, uint64_t *expired);
/* A new flow whose responder is ep: the transfer announced for it (the caller owns the
 * returned reference) or NULL. Cheap (no lock) while the table is empty. */
lw_ftp_transfer *lw_ftp_expect_claim(lw_ftp_expect_table *t, const lw_ftp_endpoint *ep,
                                     uint64_t now_usec);

#endif
