/*
 * ftp_steer.c — FTP data connections steered to their control connection's worker (see
 * ftp_steer.h): a small open-addressing table of announced endpoints, owned by the capture
 * thread (no locks), fixed size, probed only while it holds entries.
 */
#include "ftp_steer.h"

#include <stdlib.h>
#include <string.h>

#include "leakwatch/ftp.h"

#define SLOTS 4096 /* power of two */
#define PROBES 8
#define STEER_IDLE_USEC (600 * 1000000ull)
#define FTP_PORT 21

typedef struct slot {
    lw_ftp_endpoint ep;
    uint64_t last_usec; /* 0: free */
    int worker;
} slot;

struct lw_ftp_steer {
    slot s[SLOTS];
    uint32_t used;
    /* the control segment being peeked */
    uint64_t now;
    int worker;
    uint64_t *full;
};

lw_ftp_steer *lw_ftp_steer_new(void)
{
    return calloc(1, sizeof(lw_ftp_steer));
}

void lw_ftp_steer_free(lw_ftp_steer *s)
{
    free(s);
}

static uint32_t ep_hash(const lw_ftp_endpoint *ep)
{
    uint32_t h = 2166136261u ^ ep->ip_version;
    for (int i = 0; i < (ep->ip_version == 4 ? 4 : 16); i++) h = (h ^ ep->addr[i]) * 16777619u;
    h = (h ^ (ep->port & 0xff)) * 16777619u;
    return (h ^ (ep->port >> 8)) * 16777619u;
}

static bool ep_equal(const lw_ftp_endpoint *a, const lw_ftp_endpoint *b)
{
    return a->ip_version == b->ip_version && a->port == b->port &&
           memcmp(a->addr, b->addr, a->ip_version == 4 ? 4 : 16) == 0;
}

static bool live(const lw_ftp_steer *s, const slot *e, uint64_t now)
{
    return e->last_usec && (now < e->last_usec || now - e->last_usec < STEER_IDLE_USEC);
}

static void learn(void *user, const lw_ftp_endpoint *ep)
{
    lw_ftp_steer *s = user;
    uint32_t h = ep_hash(ep);
    slot *free_slot = NULL;
    for (uint32_t k = 0; k < PROBES; k++) {
        slot *e = &s->s[(h + k) & (SLOTS - 1)];
        if (live(s, e, s->now) && ep_equal(&e->ep, ep)) {
            free_slot = e; /* announced again: the latest control flow wins */
            break;
        }
        if (!live(s, e, s->now) && !free_slot) free_slot = e;
    }
    if (!free_slot) {
        (*s->full)++;
        return;
    }
    if (!free_slot->last_usec) s->used++;
    *free_slot = (slot){.ep = *ep, .last_usec = s->now ? s->now : 1, .worker = s->worker};
}

static slot *find(lw_ftp_steer *s, const lw_ftp_endpoint *ep, uint64_t now)
{
    uint32_t h = ep_hash(ep);
    for (uint32_t k = 0; k < PROBES; k++) {
        slot *e = &s->s[(h + k) & (SLOTS - 1)];
        if (!e->last_usec) continue;
        if (!live(s, e, now)) {
            e->last_usec = 0;
            s->used--;
            continue;
        }
        if (ep_equal(&e->ep, ep)) return e;
    }
    return NULL;
}

static void endpoint(lw_ftp_endpoint *ep, const lw_packet *p, bool src)
{
    memset(ep, 0, sizeof(*ep));
    ep->ip_version = p->ip_version;
    memcpy(ep->addr, src ? p->src.b : p->dst.b, p->ip_version == 4 ? 4 : 16);
    ep->port = src ? p->sport : p->dport;
}

int lw_ftp_steer_route(lw_ftp_steer *s, const lw_packet *p, int worker, uint64_t *steered,
                       uint64_t *full)
{
    if (!s || p->proto != 6) return worker;
    lw_ftp_endpoint src, dst;
    if (p->sport == FTP_PORT || p->dport == FTP_PORT) {
        if (!p->payload_len) return worker;
        bool from_client = p->dport == FTP_PORT;
        endpoint(&src, p, true);
        endpoint(&dst, p, false);
        s->now = p->ts_usec;
        s->worker = worker;
        s->full = full;
        lw_ftp_peek(from_client ? &src : &dst, from_client ? &dst : &src, from_client, p->payload,
                    p->payload_len, learn, s);
        return worker;
    }
    if (!s->used) return worker;
    endpoint(&src, p, true);
    endpoint(&dst, p, false);
    slot *e = find(s, &dst, p->ts_usec);
    if (!e) e = find(s, &src, p->ts_usec);
    if (!e) return worker;
    if (p->ts_usec > e->last_usec) e->last_usec = p->ts_usec;
    (*steered)++;
    return e->worker;
}
