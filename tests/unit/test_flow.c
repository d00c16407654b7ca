/*
 * test_flow.c — the flow table: directions, orientation, TCP close and port reuse,
 * timeouts per class, eviction, flush, deterministic flow ids and the dispatch hash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leakwatch/flow.h"

#define SEC UINT64_C(1000000)
#define T0 (UINT64_C(1714557600) * SEC)
#define MAX_ENDED 1024

/* What the end callback saw. */
typedef struct ended {
    uint64_t flow_id, start_usec, last_usec, pkts[2];
    enum lw_flow_reason reason;
    lw_addr src;
    uint16_t src_port, dst_port;
    uint8_t tcp_state, proto;
} ended;

typedef struct ctx {
    ended e[MAX_ENDED];
    int n;
} ctx;

static void on_end(void *user, lw_flow *f)
{
    ctx *c = user;
    if (c->n < MAX_ENDED) {
        ended *e = &c->e[c->n];
        e->flow_id = f->flow_id;
        e->start_usec = f->start_usec;
        e->last_usec = f->last_usec;
        e->pkts[0] = f->pkts[0];
        e->pkts[1] = f->pkts[1];
        e->reason = f->end_reason;
        e->src = f->src_ip;
        e->src_port = f->src_port;
        e->dst_port = f->dst_port;
        e->tcp_state = f->tcp_state;
        e->proto = f->proto;
    }
    c->n++;
    free(f->user); /* later stages' state: ASan reports a leak if a flow never ends */
    f->user = NULL;
}

static uint64_t next_pkt_num;

static lw_packet pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                     uint8_t proto, uint8_t flags, uint64_t ts)
{
    lw_packet p;
    memset(&p, 0, sizeof(p));
    p.ts_usec = ts;
    p.wirelen = 100;
    p.pkt_num = ++next_pkt_num;
    p.proto = proto;
    p.sport = sport;
    p.dport = dport;
    p.tcp_flags = flags;
    if (strchr(src, ':')) {
        p.ip_version = 6;
        assert_int_equal(inet_pton(AF_INET6, src, p.src.b), 1);
        assert_int_equal(inet_pton(AF_INET6, dst, p.dst.b), 1);
    } else {
        p.ip_version = 4;
        assert_int_equal(inet_pton(AF_INET, src, p.src.b), 1);
        assert_int_equal(inet_pton(AF_INET, dst, p.dst.b), 1);
    }
    return p;
}

static lw_packet tcp(const char *src, uint16_t sport, const char *dst, uint16_t dport,
                     uint8_t flags, uint64_t ts)
{
    return pkt(src, sport, dst, dport, 6, flags, ts);
}

static lw_flow_table *table(ctx *c, uint32_t max_flows)
{
    memset(c, 0, sizeof(*c));
    lw_flow_config cfg = {.max_flows = max_flows};
    lw_flow_table *t = lw_flow_table_new(&cfg, on_end, c);
    assert_non_null(t);
    return t;
}

static void done(lw_flow_table *t)
{
    lw_flow_table_flush(t, LW_FLOW_END_SHUTDOWN);
    assert_int_equal(lw_flow_table_active(t), 0);
    lw_flow_table_free(t);
}

static uint64_t counter(lw_flow_table *t, enum lw_flow_counter i)
{
    return lw_flow_table_counters(t)->c[i];
}

static lw_flow *feed(lw_flow_table *t, lw_packet p, int want_dir)
{
    int dir = -1;
    lw_flow *f = lw_flow_packet(t, &p, &dir);
    assert_non_null(f);
    assert_int_equal(dir, want_dir);
    return f;
}

static bool addr_is(const lw_addr *a, const char *s)
{
    lw_addr b;
    memset(&b, 0, sizeof(b));
    if (inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, b.b) != 1) return false;
    return memcmp(a, &b, sizeof(b)) == 0;
}

static void test_handshake_both_directions(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 100);
    const char *cl = "10.0.0.5", *sv = "198.51.100.9";
    lw_flow *f = feed(t, tcp(cl, 40000, sv, 80, LW_TCP_SYN, T0), 0);
    assert_int_equal(f->tcp_state, LW_TCP_SYN_SENT);
    assert_ptr_equal(feed(t, tcp(sv, 80, cl, 40000, LW_TCP_SYN | LW_TCP_ACK, T0 + 10), 1), f);
    assert_int_equal(f->tcp_state, LW_TCP_SYN_RECV);
    assert_ptr_equal(feed(t, tcp(cl, 40000, sv, 80, LW_TCP_ACK, T0 + 20), 0), f);
    assert_int_equal(f->tcp_state, LW_TCP_ESTABLISHED);
    assert_string_equal(lw_flow_state_name(f), "established");
    assert_ptr_equal(feed(t, tcp(sv, 80, cl, 40000, LW_TCP_ACK | LW_TCP_PSH, T0 + 30), 1), f);

    assert_true(addr_is(&f->src_ip, cl));
    assert_true(addr_is(&f->dst_ip, sv));
    assert_int_equal(f->src_port, 40000);
    assert_int_equal(f->dst_port, 80);
    assert_int_equal(f->pkts[0], 2);
    assert_int_equal(f->pkts[1], 2);
    assert_int_equal(f->bytes[0], 200);
    assert_int_equal(f->bytes[1], 200);
    assert_int_equal(f->start_usec, T0);
    assert_int_equal(f->last_usec, T0 + 30);
    assert_true(f->syn_seen[0] && f->syn_seen[1]);
    assert_int_equal(f->tcp_flags[1], LW_TCP_SYN | LW_TCP_ACK | LW_TCP_PSH);
    assert_true(f->flow_id != 0 && f->flow_id < (UINT64_C(1) << 52));
    assert_int_equal(strncmp(f->community_id, "1:", 2), 0);
    assert_int_equal(strlen(f->community_id), 30);
    assert_int_equal(lw_flow_table_active(t), 1);
    assert_int_equal(counter(t, LW_FLOW_created), 1);
    assert_int_equal(counter(t, LW_FLOW_tcp_midstream), 0);
    done(t);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.e[0].reason, LW_FLOW_END_SHUTDOWN);
}

static void test_synack_first_orientation(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 100);
    /* The SYN was missed: the SYN/ACK's receiver opened the connection. */
    lw_flow *f =
        feed(t, tcp("198.51.100.9", 443, "10.0.0.5", 51000, LW_TCP_SYN | LW_TCP_ACK, T0), 1);
    assert_true(addr_is(&f->src_ip, "10.0.0.5"));
    assert_int_equal(f->src_port, 51000);
    assert_int_equal(f->dst_port, 443);
    assert_int_equal(f->pkts[1], 1);
    assert_int_equal(f->pkts[0], 0);
    assert_int_equal(f->tcp_state, LW_TCP_SYN_RECV);
    assert_string_equal(lw_flow_state_name(f), "new");
    assert_ptr_equal(feed(t, tcp("10.0.0.5", 51000, "198.51.100.9", 443, LW_TCP_ACK, T0 + 5), 0),
                     f);
    assert_int_equal(f->tcp_state, LW_TCP_ESTABLISHED);
    assert_int_equal(counter(t, LW_FLOW_tcp_synack_first), 1);

    /* Same community id as when the SYN is seen first. */
    char want[LW_COMMUNITY_ID_LEN];
    lw_packet syn = tcp("10.0.0.5", 51000, "198.51.100.9", 443, LW_TCP_SYN, T0);
    lw_community_id(4, 6, &syn.src, &syn.dst, 51000, 443, 0, want);
    assert_string_equal(f->community_id, want);
    done(t);
}

static void test_midstream_orientation(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 100);
    /* Picked up mid-connection: the first packet's sender is src, even a server. */
    lw_flow *f = feed(t, tcp("198.51.100.9", 443, "10.0.0.5", 51000, LW_TCP_ACK, T0), 0);
    assert_true(addr_is(&f->src_ip, "198.51.100.9"));
    assert_int_equal(f->src_port, 443);
    assert_int_equal(f->tcp_state, LW_TCP_ESTABLISHED);
    assert_int_equal(counter(t, LW_FLOW_tcp_midstream), 1);
    assert_ptr_equal(feed(t, tcp("10.0.0.5", 51000, "198.51.100.9", 443, LW_TCP_ACK, T0 + 1), 1),
                     f);

    /* UDP: the first packet's sender too. */
    lw_flow *u = feed(t, pkt("8.8.8.8", 53, "10.0.0.5", 5353, 17, 0, T0), 0);
    assert_true(addr_is(&u->src_ip, "8.8.8.8"));
    assert_string_equal(lw_flow_state_name(u), "new");
    assert_ptr_equal(feed(t, pkt("10.0.0.5", 5353, "8.8.8.8", 53, 17, 0, T0 + 1), 1), u);
    assert_string_equal(lw_flow_state_name(u), "established");
    assert_int_equal(lw_flow_table_active(t), 2);
    done(t);
}

static void test_vlan_distinguishes_flows(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 100);
    lw_packet a = pkt("10.0.0.1", 1000, "10.0.0.2", 53, 17, 0, T0);
    lw_packet b = a;
    a.vlan_count = 1;
    a.vlan[0] = 10;
    b.vlan_count = 1;
    b.vlan[0] = 20;
    lw_flow *fa = feed(t, a, 0), *fb = feed(t, b, 0);
    assert_ptr_not_equal(fa, fb);
    assert_int_not_equal(fa->flow_id, fb->flow_id);
    assert_int_equal(fa->vlan_count, 1);
    assert_int_equal(fa->vlan[0], 10);

    /* Untagged is a third flow. */
    lw_packet u = a;
    u.vlan_count = 0;
    u.vlan[0] = 0;
    assert_ptr_not_equal(feed(t, u, 0), fa);

    /* Tags beyond LW_MAX_VLAN are not part of the key; the reply carries the same tags. */
    lw_packet deep = a;
    deep.vlan_count = LW_MAX_VLAN + 2;
    for (int i = 0; i < LW_MAX_VLAN; i++) deep.vlan[i] = (uint16_t)(100 + i);
    lw_flow *fd = feed(t, deep, 0);
    assert_int_equal(fd->vlan_count, LW_MAX_VLAN);
    lw_packet reply = pkt("10.0.0.2", 53, "10.0.0.1", 1000, 17, 0, T0 + 1);
    reply.vlan_count = LW_MAX_VLAN + 1;
    memcpy(reply.vlan, deep.vlan, sizeof(reply.vlan));
    assert_ptr_equal(feed(t, reply, 1), fd);
    assert_int_equal(lw_flow_table_active(t), 4);
    done(t);
}

/* Opens and closes a connection with FIN/FIN or RST, then reuses the 5-tuple. */
static void close_then_reuse(bool rst)
{
    ctx c;
    lw_flow_table *t = table(&c, 100);
    const char *cl = "10.0.0.5", *sv = "203.0.113.7";
    lw_flow *f = feed(t, tcp(cl, 40000, sv, 25, LW_TCP_SYN, T0), 0);
    feed(t, tcp(sv, 25, cl, 40000, LW_TCP_SYN | LW_TCP_ACK, T0 + 1), 1);
    feed(t, tcp(cl, 40000, sv, 25, LW_TCP_ACK, T0 + 2), 0);
    /* A SYN retransmission while open belongs to the open flow. */
    assert_ptr_equal(feed(t, tcp(cl, 40000, sv, 25, LW_TCP_SYN, T0 + 3), 0), f);
    uint64_t old_id = f->flow_id;
    if (rst) {
        feed(t, tcp(sv, 25, cl, 40000, LW_TCP_RST | LW_TCP_ACK, T0 + 4), 1);
    } else {
        feed(t, tcp(cl, 40000, sv, 25, LW_TCP_FIN | LW_TCP_ACK, T0 + 4), 0);
        assert_int_equal(f->tcp_state, LW_TCP_FIN_WAIT);
        assert_string_equal(lw_tcp_state_name(f->tcp_state), "fin_wait1");
        feed(t, tcp(sv, 25, cl, 40000, LW_TCP_FIN | LW_TCP_ACK, T0 + 5), 1);
    }
    assert_true(lw_flow_tcp_closed(f));
    assert_string_equal(lw_flow_state_name(f), "closed");
    assert_string_equal(lw_tcp_state_name(f->tcp_state), "closed");
    /* Lingering: the last ACK still lands in the closed flow. */
    assert_ptr_equal(feed(t, tcp(cl, 40000, sv, 25, LW_TCP_ACK, T0 + 6), 0), f);
    assert_int_equal(c.n, 0);

    /* A new SYN (from either side) ends the old flow and starts a new one. */
    lw_flow *g = feed(t, tcp(cl, 40000, sv, 25, LW_TCP_SYN, T0 + 7), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.e[0].flow_id, old_id);
    assert_int_equal(c.e[0].reason, rst ? LW_FLOW_END_RST : LW_FLOW_END_FIN);
    assert_int_not_equal(g->flow_id, old_id);
    assert_int_equal(g->start_usec, T0 + 7);
    assert_int_equal(g->pkts[0], 1);
    assert_int_equal(g->tcp_state, LW_TCP_SYN_SENT);
    assert_int_equal(counter(t, LW_FLOW_port_reuse), 1);
    assert_int_equal(counter(t, rst ? LW_FLOW_ended_rst : LW_FLOW_ended_fin), 1);
    assert_int_equal(lw_flow_table_active(t), 1);
    done(t);
}

static void test_fin_close_and_port_reuse(void **state)
{
    (void)state;
    close_then_reuse(false);
}

static void test_rst_close_and_port_reuse(void **state)
{
    (void)state;
    close_then_reuse(true);
}

static void test_closed_linger_expires_as_fin(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 100);
    feed(t, tcp("10.0.0.5", 40000, "203.0.113.7", 80, LW_TCP_ACK, T0), 0);
    feed(t, tcp("10.0.0.5", 40000, "203.0.113.7", 80, LW_TCP_FIN | LW_TCP_ACK, T0 + 1), 0);
    feed(t, tcp("203.0.113.7", 80, "10.0.0.5", 40000, LW_TCP_FIN | LW_TCP_ACK, T0 + 2), 1);
    lw_flow_table_expire(t, T0 + 2 + 10 * SEC); /* exactly the linger: not past it */
    assert_int_equal(c.n, 0);
    lw_flow_table_expire(t, T0 + 3 + 10 * SEC);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.e[0].reason, LW_FLOW_END_FIN);
    assert_int_equal(counter(t, LW_FLOW_timed_out), 0);
    /* After the linger a non-SYN packet of the 5-tuple is a new (midstream) flow. */
    lw_flow *g = feed(t, tcp("203.0.113.7", 80, "10.0.0.5", 40000, LW_TCP_ACK, T0 + 20 * SEC), 0);
    assert_int_not_equal(g->flow_id, c.e[0].flow_id);
    assert_int_equal(counter(t, LW_FLOW_port_reuse), 0);
    done(t);
}

static void test_same_microsecond_reuse_gets_new_id(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 100);
    uint64_t ids[3];
    for (int i = 0; i < 3; i++) {
        ids[i] = feed(t, tcp("10.0.0.5", 1, "10.0.0.6", 2, LW_TCP_SYN, T0), 0)->flow_id;
        feed(t, tcp("10.0.0.6", 2, "10.0.0.5", 1, LW_TCP_RST | LW_TCP_ACK, T0), 1);
    }
    assert_int_not_equal(ids[0], ids[1]);
    assert_int_not_equal(ids[1], ids[2]);
    assert_int_not_equal(ids[0], ids[2]);
    assert_int_equal(counter(t, LW_FLOW_port_reuse), 2);
    done(t);
}

static void test_timeouts_per_class(void **state)
{
    (void)state;
    ctx c;
    memset(&c, 0, sizeof(c));
    lw_flow_config cfg = {.max_flows = 100,
                          .tcp_timeout = 600,
                          .udp_timeout = 60,
                          .other_timeout = 30,
                          .tcp_closed_timeout = 10,
                          .tcp_new_timeout = 20};
    lw_flow_table *t = lw_flow_table_new(&cfg, on_end, &c);
    assert_non_null(t);
    feed(t, tcp("10.0.0.1", 1, "10.0.0.2", 80, LW_TCP_ACK, T0), 0); /* established */
    feed(t, tcp("10.0.0.1", 2, "10.0.0.2", 80, LW_TCP_SYN, T0), 0); /* half-open */
    feed(t, pkt("10.0.0.1", 3, "10.0.0.2", 53, 17, 0, T0), 0);      /* udp */
    feed(t, pkt("10.0.0.1", 8, "10.0.0.2", 0, 1, 0, T0), 0);        /* icmp echo */
    feed(t, pkt("10.0.0.1", 0, "10.0.0.2", 0, 47, 0, T0), 0);       /* gre: other */
    assert_int_equal(lw_flow_table_active(t), 5);

    lw_flow_table_expire(t, T0 + 20 * SEC);
    assert_int_equal(c.n, 0);
    lw_flow_table_expire(t, T0 + 21 * SEC);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.e[0].src_port, 2); /* the half-open one */
    assert_int_equal(c.e[0].reason, LW_FLOW_END_TIMEOUT);
    lw_flow_table_expire(t, T0 + 31 * SEC);
    assert_int_equal(c.n, 3); /* icmp and gre */
    lw_flow_table_expire(t, T0 + 61 * SEC);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.e[3].dst_port, 53);
    lw_flow_table_expire(t, T0 + 600 * SEC);
    assert_int_equal(c.n, 4);
    lw_flow_table_expire(t, T0 + 601 * SEC);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.e[4].src_port, 1);
    assert_int_equal(counter(t, LW_FLOW_timed_out), 5);
    assert_int_equal(lw_flow_table_active(t), 0);
    lw_flow_table_free(t);
}

static void test_idle_at_lookup_and_refresh(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 100); /* default udp_timeout 60 */
    lw_flow *f = feed(t, pkt("10.0.0.1", 5000, "10.0.0.2", 53, 17, 0, T0), 0);
    uint64_t id = f->flow_id;
    /* Traffic keeps it alive: each packet restarts the idle clock. */
    for (int i = 1; i <= 5; i++)
        feed(t, pkt("10.0.0.2", 53, "10.0.0.1", 5000, 17, 0, T0 + i * 50 * SEC), 1);
    lw_flow_table_expire(t, T0 + 300 * SEC);
    assert_int_equal(c.n, 0);
    /* A packet after more than the timeout, before any expire call: old flow ends first. */
    lw_flow *g = feed(t, pkt("10.0.0.2", 53, "10.0.0.1", 5000, 17, 0, T0 + 400 * SEC), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.e[0].flow_id, id);
    assert_int_equal(c.e[0].reason, LW_FLOW_END_TIMEOUT);
    assert_int_equal(c.e[0].pkts[1], 5);
    assert_int_equal(c.e[0].last_usec, T0 + 250 * SEC);
    assert_true(addr_is(&g->src_ip, "10.0.0.2")); /* the new flow's first sender */
    assert_int_not_equal(g->flow_id, id);

    /* A packet older than the flow's latest is counted and does not move time back. */
    feed(t, pkt("10.0.0.1", 5000, "10.0.0.2", 53, 17, 0, T0 + 399 * SEC), 1);
    assert_int_equal(g->last_usec, T0 + 400 * SEC);
    assert_int_equal(counter(t, LW_FLOW_ts_backwards), 1);
    done(t);
}

static int end_calls;
static void count_end(void *user, lw_flow *f)
{
    (void)user;
    (void)f;
    end_calls++;
}

static void test_expire_cost_is_per_expired_flow(void **state)
{
    (void)state;
    /* 50000 live flows, 200000 expire calls that end nothing: a scan of all flows per call
     * (10^10 steps) would not finish; looking at list heads only takes milliseconds. */
    enum { N = 50000 };
    lw_flow_config cfg = {.max_flows = N};
    lw_flow_table *t = lw_flow_table_new(&cfg, count_end, NULL);
    assert_non_null(t);
    end_calls = 0;
    for (uint32_t i = 0; i < N; i++) {
        lw_packet p = pkt("10.0.0.1", (uint16_t)i, "10.0.0.2", 53, 17, 0, T0 + i);
        p.src.b[2] = (uint8_t)(i >> 16);
        int dir;
        assert_non_null(lw_flow_packet(t, &p, &dir));
    }
    clock_t start = clock();
    for (int i = 0; i < 200000; i++) lw_flow_table_expire(t, T0 + 60 * SEC);
    double secs = (double)(clock() - start) / CLOCKS_PER_SEC;
    assert_int_equal(end_calls, 0);
    assert_true(secs < 5.0);
    /* 60 s + 100 us after T0: exactly the flows last seen before T0 + 100 us are idle. */
    lw_flow_table_expire(t, T0 + 60 * SEC + 100);
    assert_int_equal(end_calls, 100);
    assert_int_equal(lw_flow_table_active(t), N - 100);
    lw_flow_table_flush(t, LW_FLOW_END_EOF);
    assert_int_equal(end_calls, N);
    lw_flow_table_free(t);
}

static void test_max_flows_evicts_least_recent(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 3);
    feed(t, pkt("10.0.0.1", 1, "10.0.0.9", 53, 17, 0, T0 + 1), 0);
    feed(t, tcp("10.0.0.1", 2, "10.0.0.9", 80, LW_TCP_ACK, T0 + 2), 0);
    feed(t, pkt("10.0.0.1", 3, "10.0.0.9", 0, 47, 0, T0 + 3), 0);
    feed(t, pkt("10.0.0.9", 53, "10.0.0.1", 1, 17, 0, T0 + 4), 1); /* flow 1 seen again */
    feed(t, pkt("10.0.0.1", 4, "10.0.0.9", 53, 17, 0, T0 + 5), 0);
    assert_int_equal(lw_flow_table_active(t), 3);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.e[0].src_port, 2); /* the TCP flow, least recently seen */
    assert_int_equal(c.e[0].reason, LW_FLOW_END_TIMEOUT);
    assert_int_equal(counter(t, LW_FLOW_evicted), 1);
    assert_int_equal(counter(t, LW_FLOW_timed_out), 1);
    feed(t, pkt("10.0.0.1", 5, "10.0.0.9", 53, 17, 0, T0 + 6), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.e[1].proto, 47); /* then the GRE flow */
    assert_int_equal(counter(t, LW_FLOW_created), 5);
    done(t);
}

static void test_flush_eof(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 100);
    lw_flow *f = feed(t, tcp("10.0.0.1", 1, "10.0.0.2", 80, LW_TCP_SYN, T0), 0);
    f->user = malloc(32); /* freed by the callback */
    feed(t, pkt("10.0.0.1", 2, "10.0.0.2", 53, 17, 0, T0), 0)->user = malloc(8);
    feed(t, tcp("10.0.0.1", 3, "10.0.0.2", 80, LW_TCP_ACK, T0), 0);
    feed(t, tcp("10.0.0.2", 80, "10.0.0.1", 3, LW_TCP_RST, T0 + 1), 1);
    lw_flow_table_flush(t, LW_FLOW_END_EOF);
    assert_int_equal(c.n, 3);
    assert_int_equal(lw_flow_table_active(t), 0);
    int eof = 0, rst = 0;
    for (int i = 0; i < c.n; i++) {
        if (c.e[i].reason == LW_FLOW_END_EOF) eof++;
        if (c.e[i].reason == LW_FLOW_END_RST) rst++;
    }
    assert_int_equal(eof, 2);
    assert_int_equal(rst, 1); /* a closed flow keeps its reason */
    assert_int_equal(counter(t, LW_FLOW_ended_eof), 2);
    assert_int_equal(counter(t, LW_FLOW_ended_rst), 1);
    lw_flow_table_flush(t, LW_FLOW_END_EOF); /* nothing left: no second callback */
    assert_int_equal(c.n, 3);
    assert_string_equal(lw_flow_reason_name(LW_FLOW_END_EOF), "eof");
    assert_string_equal(lw_flow_reason_name(LW_FLOW_END_FIN), "fin");
    assert_string_equal(lw_flow_reason_name(LW_FLOW_END_RST), "rst");
    assert_string_equal(lw_flow_reason_name(LW_FLOW_END_TIMEOUT), "timeout");
    assert_string_equal(lw_flow_reason_name(LW_FLOW_END_SHUTDOWN), "shutdown");
    lw_flow_table_free(t);
}

/* A fixed mixed workload: TCP sessions with reuse, UDP, ICMP, over 40 hosts. */
static int workload(lw_packet *out, int cap)
{
    int n = 0;
    uint64_t ts = T0;
    char a[32], b[32];
    for (int round = 0; round < 3; round++) {
        for (int h = 0; h < 40 && n + 6 <= cap; h++) {
            snprintf(a, sizeof(a), "10.1.%d.%d", round, h + 1);
            snprintf(b, sizeof(b), "198.51.100.%d", h % 7 + 1);
            uint16_t sp = (uint16_t)(30000 + h % 5);
            out[n++] = tcp(a, sp, b, 443, LW_TCP_SYN, ts += 7);
            out[n++] = tcp(b, 443, a, sp, LW_TCP_SYN | LW_TCP_ACK, ts += 3);
            out[n++] = tcp(a, sp, b, 443, LW_TCP_FIN | LW_TCP_ACK, ts += 5);
            out[n++] = tcp(b, 443, a, sp, LW_TCP_FIN | LW_TCP_ACK, ts += 1);
            out[n++] = pkt(a, 5353, b, 53, 17, 0, ts += 2);
            out[n++] = pkt(b, 0, a, 0, 1, 0, ts += 1); /* echo reply first */
        }
    }
    /* Reuse the first tuples with new SYNs. */
    for (int h = 0; h < 10 && n < cap; h++) {
        snprintf(a, sizeof(a), "10.1.0.%d", h + 1);
        snprintf(b, sizeof(b), "198.51.100.%d", h % 7 + 1);
        out[n++] = tcp(a, (uint16_t)(30000 + h % 5), b, 443, LW_TCP_SYN, ts += 11);
    }
    return n;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Runs pkts through `ntables` tables, dispatching by lw_flow_hash; returns sorted ids. */
static int run_ids(const lw_packet *pkts, int n, int ntables, uint64_t *ids)
{
    static ctx c[2];
    lw_flow_table *t[2];
    for (int i = 0; i < ntables; i++) t[i] = table(&c[i], 1000);
    for (int i = 0; i < n; i++) {
        int w = (int)(lw_flow_hash(&pkts[i]) % (uint32_t)ntables), dir;
        assert_non_null(lw_flow_packet(t[w], &pkts[i], &dir));
    }
    int m = 0;
    for (int i = 0; i < ntables; i++) {
        lw_flow_table_flush(t[i], LW_FLOW_END_EOF);
        for (int j = 0; j < c[i].n; j++) ids[m++] = c[i].e[j].flow_id;
        lw_flow_table_free(t[i]);
    }
    qsort(ids, (size_t)m, sizeof(ids[0]), cmp_u64);
    return m;
}

static void test_flow_id_determinism(void **state)
{
    (void)state;
    static lw_packet pkts[1000];
    next_pkt_num = 0;
    int n = workload(pkts, 1000);
    static uint64_t one[MAX_ENDED * 2], again[MAX_ENDED * 2], split[MAX_ENDED * 2];
    int m1 = run_ids(pkts, n, 1, one);
    int m2 = run_ids(pkts, n, 1, again);
    int m3 = run_ids(pkts, n, 2, split);
    assert_true(m1 > 100);
    assert_int_equal(m1, m2);
    assert_int_equal(m1, m3);
    assert_memory_equal(one, again, (size_t)m1 * sizeof(one[0]));
    assert_memory_equal(one, split, (size_t)m1 * sizeof(one[0]));
    for (int i = 1; i < m1; i++) assert_true(one[i] != one[i - 1]); /* unique */
}

static lw_packet reversed(lw_packet p)
{
    lw_addr a = p.src;
    p.src = p.dst;
    p.dst = a;
    uint16_t s = p.sport;
    p.sport = p.dport;
    p.dport = s;
    return p;
}

static void test_flow_hash_symmetric(void **state)
{
    (void)state;
    srand(7);
    int differ = 0;
    uint32_t prev = 0;
    for (int i = 0; i < 2000; i++) {
        lw_packet p;
        memset(&p, 0, sizeof(p));
        p.ip_version = (i & 1) ? 6 : 4;
        p.proto = (i % 3) ? 6 : 17;
        for (int j = 0; j < (p.ip_version == 4 ? 4 : 16); j++) {
            p.src.b[j] = (uint8_t)rand();
            p.dst.b[j] = (uint8_t)rand();
        }
        p.sport = (uint16_t)rand();
        p.dport = (uint16_t)rand();
        p.vlan_count = (uint8_t)(i % 3);
        p.vlan[0] = (uint16_t)(rand() & 0xfff);
        p.vlan[1] = (uint16_t)(rand() & 0xfff);
        lw_packet r = reversed(p);
        assert_int_equal(lw_flow_hash(&p), lw_flow_hash(&r));
        if (lw_flow_hash(&p) != prev) differ++;
        prev = lw_flow_hash(&p);
    }
    assert_true(differ > 1990);
    /* Same endpoints, same ports swapped within one address pair: still symmetric. */
    lw_packet s = pkt("10.0.0.1", 80, "10.0.0.1", 443, 6, 0, T0);
    lw_packet sr = reversed(s);
    assert_int_equal(lw_flow_hash(&s), lw_flow_hash(&sr));
    /* The VLAN and proto are part of the hash. */
    lw_packet v = s;
    v.vlan_count = 1;
    v.vlan[0] = 5;
    assert_int_not_equal(lw_flow_hash(&s), lw_flow_hash(&v));
    lw_packet u = s;
    u.proto = 17;
    assert_int_not_equal(lw_flow_hash(&s), lw_flow_hash(&u));
    /* ICMP request and reply hash alike. */
    lw_packet req = pkt("192.168.0.89", 8, "192.168.0.1", 0, 1, 0, T0);
    lw_packet rep = pkt("192.168.0.1", 0, "192.168.0.89", 0, 1, 0, T0);
    assert_int_equal(lw_flow_hash(&req), lw_flow_hash(&rep));
}

static void test_icmp_request_reply_one_flow(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 100);
    lw_flow *f = feed(t, pkt("192.168.0.89", 8, "192.168.0.1", 0, 1, 0, T0), 0);
    assert_ptr_equal(feed(t, pkt("192.168.0.1", 0, "192.168.0.89", 0, 1, 0, T0 + 1), 1), f);
    assert_string_equal(f->community_id, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
    assert_int_equal(f->src_port, 8);
    assert_int_equal(f->dst_port, 0);
    assert_string_equal(lw_flow_state_name(f), "established");
    /* A one-way type (unreachable) between the same hosts is its own flow. */
    lw_flow *u = feed(t, pkt("192.168.0.1", 3, "192.168.0.89", 1, 1, 0, T0 + 2), 0);
    assert_ptr_not_equal(u, f);
    /* ICMPv6 neighbor solicitation and advertisement: one flow, the spec's id. */
    lw_flow *ns = feed(
        t, pkt("fe80::200:86ff:fe05:80da", 135, "fe80::260:97ff:fe07:69ea", 0, 58, 0, T0 + 3), 0);
    assert_ptr_equal(
        feed(t, pkt("fe80::260:97ff:fe07:69ea", 136, "fe80::200:86ff:fe05:80da", 0, 58, 0, T0 + 4),
             1),
        ns);
    assert_string_equal(ns->community_id, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=");
    /* TCP/UDP ids match the spec too. */
    lw_flow *tf = feed(t, tcp("128.232.110.120", 34855, "66.35.250.204", 80, LW_TCP_SYN, T0), 0);
    assert_string_equal(tf->community_id, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    assert_int_equal(lw_flow_table_active(t), 4);
    done(t);
}

static void test_hostile_packets(void **state)
{
    (void)state;
    ctx c;
    lw_flow_table *t = table(&c, 100);
    lw_packet p = tcp("10.0.0.1", 1, "10.0.0.2", 2, LW_TCP_SYN, T0);
    p.ip_version = 0;
    int dir;
    assert_null(lw_flow_packet(t, &p, &dir));
    assert_int_equal(counter(t, LW_FLOW_not_ip), 1);
    assert_int_equal(lw_flow_table_active(t), 0);

    lw_flow *f = feed(t, tcp("10.0.0.1", 1, "10.0.0.2", 2, LW_TCP_SYN, T0), 0);
    feed(t, tcp("10.0.0.2", 2, "10.0.0.1", 1, LW_TCP_SYN | LW_TCP_FIN, T0 + 1), 1);
    feed(t, tcp("10.0.0.2", 2, "10.0.0.1", 1, LW_TCP_SYN | LW_TCP_RST, T0 + 2), 1);
    feed(t, tcp("10.0.0.2", 2, "10.0.0.1", 1, 0, T0 + 3), 1); /* null scan */
    assert_int_equal(f->tcp_state, LW_TCP_SYN_SENT);          /* none of them counted as a close */
    assert_int_equal(counter(t, LW_FLOW_tcp_bad_flags), 3);
    assert_int_equal(f->pkts[1], 3);
    /* Garbage ports on a portless protocol do not split the flow. */
    lw_flow *g = feed(t, pkt("10.0.0.1", 111, "10.0.0.2", 222, 50, 0, T0), 0);
    assert_ptr_equal(feed(t, pkt("10.0.0.1", 333, "10.0.0.2", 444, 50, 0, T0), 0), g);
    assert_int_equal(g->src_port, 0);
    done(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_both_directions),
        cmocka_unit_test(test_synack_first_orientation),
        cmocka_unit_test(test_midstream_orientation),
        cmocka_unit_test(test_vlan_distinguishes_flows),
        cmocka_unit_test(test_fin_close_and_port_reuse),
        cmocka_unit_test(test_rst_close_and_port_reuse),
        cmocka_unit_test(test_closed_linger_expires_as_fin),
        cmocka_unit_test(test_same_microsecond_reuse_gets_new_id),
        cmocka_unit_test(test_timeouts_per_class),
        cmocka_unit_test(test_idle_at_lookup_and_refresh),
        cmocka_unit_test(test_expire_cost_is_per_expired_flow),
        cmocka_unit_test(test_max_flows_evicts_least_recent),
        cmocka_unit_test(test_flush_eof),
        cmocka_unit_test(test_flow_id_determinism),
        cmocka_unit_test(test_flow_hash_symmetric),
        cmocka_unit_test(test_icmp_request_reply_one_flow),
        cmocka_unit_test(test_hostile_packets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
