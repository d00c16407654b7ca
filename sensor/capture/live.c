/*
 * live.c — captures from a network interface (-i) through libpcap.
 *
 * Promiscuous, with the configured snaplen and kernel buffer, immediate mode off (batches are
 * cheaper at span-port rates) and a 100 ms read timeout so the reading thread wakes up to
 * check for signals. libpcap's own timeout is not enough for that: with TPACKET_V3 (Linux) the
 * kernel only hands over a block once it holds a packet, so on an idle link pcap_next_ex would
 * block forever. The handle is therefore non-blocking and we poll() its descriptor ourselves.
 * The BPF filter runs in the kernel, so filtered packets are not counted. Timestamps are asked
 * for in microseconds (the precision of every event); the TPACKET_V3 ring is libpcap's default
 * on Linux. At start-up a warning names the interface's GRO/LRO/TSO/GSO offloads that are on
 * (offload.c): with them the capture sees merged segments, not the frames on the wire.
 */
#include "capture/capture_private.h"
#include "capture/offload.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>

#define LW_LIVE_TIMEOUT_MS 100
#define LW_LIVE_DEFAULT_SNAPLEN 262144

static const char *activate_hint(int rc)
{
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return "check the interface name with `ip link`";
    case PCAP_ERROR_IFACE_NOT_UP:
        return "bring the interface up first";
    default:
        return "run as root or grant CAP_NET_RAW";
    }
}

lw_capture *lw_capture_open_live(const char *iface, const char *bpf, int snaplen, int buffer_mb,
                                 char *err, size_t errlen, int *exit_code)
{
    int unused;
    if (!exit_code) exit_code = &unused;
    *exit_code = 1;
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(iface, ebuf);
    if (!p) {
        snprintf(err, errlen, "cannot capture on %s: %s (%s)", iface, ebuf,
                 activate_hint(PCAP_ERROR));
        return NULL;
    }
    pcap_set_snaplen(p, snaplen > 0 ? snaplen : LW_LIVE_DEFAULT_SNAPLEN);
    pcap_set_promisc(p, 1);
    pcap_set_timeout(p, LW_LIVE_TIMEOUT_MS);
    pcap_set_immediate_mode(p, 0);
    if (pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO) != 0) {
        snprintf(err, errlen, "cannot capture on %s: microsecond timestamps not supported (%s)",
                 iface, pcap_geterr(p));
        pcap_close(p);
        return NULL;
    }
    if (buffer_mb > 0)
        pcap_set_buffer_size(p, buffer_mb >= INT_MAX / (1 << 20) ? INT_MAX : buffer_mb << 20);
    int rc = pcap_activate(p);
    if (rc < 0) {
        const char *detail = pcap_geterr(p);
        snprintf(err, errlen, "cannot capture on %s: %s (%s)", iface,
                 detail && *detail ? detail : pcap_statustostr(rc), activate_hint(rc));
        pcap_close(p);
        return NULL;
    }
    /* rc > 0 is a warning (e.g. promiscuous mode not supported): capture anyway. */
    if (rc > 0)
        fprintf(stderr, "leakwatch: warning: %s: %s\n", iface,
                pcap_geterr(p) && *pcap_geterr(p) ? pcap_geterr(p) : pcap_statustostr(rc));
    lw_offload_warn(iface, stderr);
    if (pcap_setnonblock(p, 1, ebuf) < 0 || pcap_get_selectable_fd(p) < 0) {
        snprintf(err, errlen, "cannot capture on %s: %s (the interface cannot be polled)", iface,
                 *ebuf ? ebuf : "no selectable descriptor");
        pcap_close(p);
        return NULL;
    }

    lw_capture *c = lw_capture_alloc(LW_CAPK_LIVE, iface);
    if (!c) {
        snprintf(err, errlen, "cannot capture on %s: out of memory", iface);
        pcap_close(p);
        return NULL;
    }
    c->pcap = p;
    c->first_linktype = pcap_datalink(p);
    if (bpf && *bpf) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            const char *lt = pcap_datalink_val_to_name(c->first_linktype);
            snprintf(err, errlen,
                     "invalid capture filter \"%s\" for %s (link type %s): %s (fix the -f "
                     "expression)",
                     bpf, iface, lt ? lt : "unknown", pcap_geterr(p));
            *exit_code = 2;
            lw_capture_close(c);
            return NULL;
        }
        int set = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (set < 0) {
            snprintf(err, errlen, "cannot set the capture filter on %s: %s (%s)", iface,
                     pcap_geterr(p), activate_hint(PCAP_ERROR));
            lw_capture_close(c);
            return NULL;
        }
    }
    return c;
}

int lw_capture_next_live(lw_capture *c, lw_frame *f, char *err, size_t errlen)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(c->pcap, &h, &data);
    if (rc == 0) {
        /* Nothing buffered: wait up to the read timeout (a signal ends the wait early). */
        struct pollfd pfd = {.fd = pcap_get_selectable_fd(c->pcap), .events = POLLIN};
        int ready = poll(&pfd, 1, LW_LIVE_TIMEOUT_MS);
        if (ready < 0 && errno != EINTR)
            return lw_capture_finish(c, LW_CAP_ERROR, err, errlen, "capture on %s failed: poll: %s",
                                     c->name, strerror(errno));
        if (ready > 0) rc = pcap_next_ex(c->pcap, &h, &data);
    }
    if (rc == 1) {
        c->pkt_num++;
        c->ctr.c[LW_CAPTURE_records_read]++;
        lw_capture_frame_from_pcap(c, h, data, c->first_linktype, f);
        return LW_CAP_OK;
    }
    if (rc == 0) return LW_CAP_TIMEOUT;
    if (rc == PCAP_ERROR_BREAK) return lw_capture_finish(c, LW_CAP_EOF, err, errlen, NULL);
    return lw_capture_finish(c, LW_CAP_ERROR, err, errlen,
                             "capture on %s failed: %s (check that the interface is still up)",
                             c->name, pcap_geterr(c->pcap));
}

void lw_capture_drops(lw_capture *c, uint64_t *kernel_drops, uint64_t *if_drops)
{
    struct pcap_stat st;
    if (c->kind == LW_CAPK_LIVE && c->pcap && pcap_stats(c->pcap, &st) == 0) {
        /* pcap_stats reports 32-bit totals since open; add the wrap-safe difference. */
        c->kernel_drops += (uint32_t)(st.ps_drop - c->last_ps_drop);
        c->if_drops += (uint32_t)(st.ps_ifdrop - c->last_ps_ifdrop);
        c->last_ps_drop = st.ps_drop;
        c->last_ps_ifdrop = st.ps_ifdrop;
    }
    if (kernel_drops) *kernel_drops = c->kernel_drops;
    if (if_drops) *if_drops = c->if_drops;
}
