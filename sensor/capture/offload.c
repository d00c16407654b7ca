/*
 * offload.c — asks the kernel which receive/segmentation offloads an interface has on
 * (see offload.h), with the classic ethtool ioctls: ETHTOOL_GGRO, ETHTOOL_GTSO, ETHTOOL_GGSO
 * and the LRO bit of ETHTOOL_GFLAGS, sent as SIOCETHTOOL on a plain AF_INET datagram socket
 * (no privilege needed to read them). The kernel answers these from the device's feature
 * set for every driver, veth and loopback included.
 */
#include "capture/offload.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* One ETHTOOL_G* value; false when the driver does not answer it. */
static bool get_value(int fd, const char *iface, uint32_t cmd, uint32_t *out)
{
    struct ethtool_value ev = {.cmd = cmd};
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    size_t n = strlen(iface);
    if (n >= sizeof(ifr.ifr_name)) return false;
    memcpy(ifr.ifr_name, iface, n + 1);
    ifr.ifr_data = (void *)&ev;
    if (ioctl(fd, SIOCETHTOOL, &ifr) != 0) return false;
    *out = ev.data;
    return true;
}

bool lw_offload_query(const char *iface, unsigned *mask)
{
    *mask = 0;
    if (!iface || !*iface || strlen(iface) >= IFNAMSIZ) return false;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    uint32_t v;
    bool any = false;
    if (get_value(fd, iface, ETHTOOL_GGRO, &v)) {
        any = true;
        if (v) *mask |= LW_OFFLOAD_GRO;
    }
    if (get_value(fd, iface, ETHTOOL_GFLAGS, &v)) {
        any = true;
        if (v & ETH_FLAG_LRO) *mask |= LW_OFFLOAD_LRO;
    }
    if (get_value(fd, iface, ETHTOOL_GTSO, &v)) {
        any = true;
        if (v) *mask |= LW_OFFLOAD_TSO;
    }
    if (get_value(fd, iface, ETHTOOL_GGSO, &v)) {
        any = true;
        if (v) *mask |= LW_OFFLOAD_GSO;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return any;
}

void lw_offload_names(unsigned mask, char *buf, size_t len)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{LW_OFFLOAD_GRO, "gro"},
                 {LW_OFFLOAD_LRO, "lro"},
                 {LW_OFFLOAD_TSO, "tso"},
                 {LW_OFFLOAD_GSO, "gso"}};
    if (!len) return;
    buf[0] = '\0';
    size_t at = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(mask & names[i].bit)) continue;
        int n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "", names[i].name);
        if (n < 0 || (size_t)n >= len - at) return; /* cut: still terminated */
        at += (size_t)n;
    }
}

unsigned lw_offload_warn(const char *iface, FILE *fp)
{
    unsigned mask;
    if (!lw_offload_query(iface, &mask) || !mask) return mask;
    char names[32];
    lw_offload_names(mask, names, sizeof(names));
    fprintf(fp,
            "leakwatch: warning: %s has offloads on (%s): the capture sees merged or "
            "unsegmented packets, not the frames on the wire (fix: ethtool -K %s gro off lro "
            "off tso off gso off)\n",
            iface, names, iface);
    return mask;
}
