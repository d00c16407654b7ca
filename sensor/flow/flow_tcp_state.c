/*
 * flow_tcp_state.c — TCP connection state of a flow, from SYN/FIN/RST flags alone.
 *
 * A passive sensor sees both directions but may miss any packet, so every transition is
 * forgiving: a lost SYN/ACK or final ACK still reaches ESTABLISHED, a flow picked up
 * midstream starts ESTABLISHED. Packets with impossible flag combinations are counted and
 * change nothing. Sequence numbers are the reassembly stage's business, not this one's.
 */
#include "leakwatch/flow.h"

const char *lw_tcp_state_name(enum lw_tcp_state s)
{
    switch (s) {
    case LW_TCP_NONE:
        return "none";
    case LW_TCP_SYN_SENT:
        return "syn_sent";
    case LW_TCP_SYN_RECV:
        return "syn_recv";
    case LW_TCP_ESTABLISHED:
        return "established";
    case LW_TCP_FIN_WAIT:
        return "fin_wait1";
    case LW_TCP_CLOSED:
    case LW_TCP_RESET:
        return "closed";
    }
    return "none";
}

bool lw_flow_tcp_closed(const lw_flow *f)
{
    return f->proto == 6 && (f->tcp_state == LW_TCP_CLOSED || f->tcp_state == LW_TCP_RESET);
}

const char *lw_flow_state_name(const lw_flow *f)
{
    if (f->proto != 6) return f->pkts[1] ? "established" : "new";
    switch (f->tcp_state) {
    case LW_TCP_ESTABLISHED:
    case LW_TCP_FIN_WAIT:
        return "established";
    case LW_TCP_CLOSED:
    case LW_TCP_RESET:
        return "closed";
    default:
        return "new";
    }
}

/* SYN with FIN or RST, or none of SYN/ACK/FIN/RST: no real stack sends these. */
static bool bad_flags(uint8_t flags)
{
    if ((flags & LW_TCP_SYN) && (flags & (LW_TCP_FIN | LW_TCP_RST))) return true;
    return (flags & (LW_TCP_SYN | LW_TCP_ACK | LW_TCP_FIN | LW_TCP_RST)) == 0;
}

void lw_flow_tcp_start(lw_flow *f, uint8_t flags, lw_flow_counters *c)
{
    f->tcp_state = LW_TCP_NONE;
    uint8_t hs = flags & (LW_TCP_SYN | LW_TCP_ACK | LW_TCP_FIN | LW_TCP_RST);
    if (hs == (LW_TCP_SYN | LW_TCP_ACK))
        c->c[LW_FLOW_tcp_synack_first]++;
    else if (hs != LW_TCP_SYN)
        c->c[LW_FLOW_tcp_midstream]++;
}

void lw_flow_tcp_update(lw_flow *f, int dir, uint8_t flags, lw_flow_counters *c)
{
    f->tcp_flags[dir] |= flags;
    if (bad_flags(flags)) {
        c->c[LW_FLOW_tcp_bad_flags]++;
        return;
    }
    if (flags & LW_TCP_SYN) f->syn_seen[dir] = true;
    if (f->tcp_state == LW_TCP_RESET) return;
    if (flags & LW_TCP_RST) {
        f->tcp_state = LW_TCP_RESET;
        return;
    }

    bool syn = flags & LW_TCP_SYN, ack = flags & LW_TCP_ACK;
    switch (f->tcp_state) {
    case LW_TCP_NONE: /* first valid packet */
        if (syn)
            f->tcp_state = ack ? LW_TCP_SYN_RECV : LW_TCP_SYN_SENT;
        else
            f->tcp_state = LW_TCP_ESTABLISHED; /* midstream pickup */
        break;
    case LW_TCP_SYN_SENT:
        if (syn && ack && dir == 1)
            f->tcp_state = LW_TCP_SYN_RECV;
        else if (!syn && ack) /* the SYN/ACK was not captured */
            f->tcp_state = LW_TCP_ESTABLISHED;
        break;
    case LW_TCP_SYN_RECV:
        if (!syn && ack) /* the final ACK, or later data if that ACK was lost */
            f->tcp_state = LW_TCP_ESTABLISHED;
        break;
    default:
        break;
    }

    if (flags & LW_TCP_FIN) {
        f->links.fin_dirs |= (uint8_t)(1u << dir);
        f->tcp_state = f->links.fin_dirs == 3 ? LW_TCP_CLOSED : LW_TCP_FIN_WAIT;
    }
}
