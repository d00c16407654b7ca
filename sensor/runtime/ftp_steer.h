/*
 * ftp_steer.h — the capture thread's side of FTP: a data connection goes to the worker of the
 * control connection that announced it, so that one worker sees the announcement before the
 * data connection's first packet and links them the same way with any number of workers
 * (offline results do not depend on --workers; live, no race between two workers).
 *
 * Announcements are read off single control segments (lw_ftp_peek); the worker still parses
 * the control channel itself and makes the link (ftp.h). An endpoint stays steered while it
 * sees packets, until STEER_IDLE_USEC of packet time without one.
 */
#ifndef LW_FTP_STEER_H
#define LW_FTP_STEER_H

#include <stdint.h>

#include "leakwatch/packet.h"

typedef struct lw_ftp_steer lw_ftp_steer;

lw_ftp_steer *lw_ftp_steer_new(void);
void lw_ftp_steer_free(lw_ftp_steer *s);
/* The worker for p: `worker` (its hash's) unless p belongs to an announced data connection.
 * Control segments (port 21) teach the table. steered and full count packets steered and
 * announcements dropped because their slots were all in use. */
int lw_ftp_steer_route(lw_ftp_steer *s, const lw_packet *p, int worker, uint64_t *steered,
                       uint64_t *full);

#endif
