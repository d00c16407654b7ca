/*
 * offline.c — opens -r inputs (files, FIFOs, "-" = stdin) and reads them frame by frame.
 *
 * The first four bytes pick the reader, whatever the file is called: classic pcap (any byte
 * order, micro- or nanosecond) goes to libpcap with microsecond precision; pcapng goes to
 * libpcap when the input can be rewound, and to our own reader (pcapng_reader.c) when it
 * cannot or when libpcap refuses the file, at open or part-way through. Inputs that cannot be
 * rewound get their magic bytes replayed in front of the rest through fopencookie.
 * This file also holds the parts of the capture handle shared with live.c.
 */
#include "capture/capture_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

LW_COUNTER_NAMES(capture, CAPTURE, LW_CAPTURE_COUNTERS)

#define COUNT(c, name) ((c)->ctr.c[LW_CAPTURE_##name]++)

enum capture_format { FORMAT_UNKNOWN, FORMAT_PCAP, FORMAT_PCAPNG };

static enum capture_format sniff_format(const uint8_t m[4])
{
    uint32_t be = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    uint32_t le = (uint32_t)m[3] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[1] << 8 | m[0];
    static const uint32_t pcap_magics[] = {
        0xa1b2c3d4, /* microseconds */
        0xa1b23c4d, /* nanoseconds */
        0xa1b2cd34, /* Kuznetzov's patched pcap, which libpcap also reads */
    };
    for (size_t i = 0; i < sizeof(pcap_magics) / sizeof(pcap_magics[0]); i++)
        if (be == pcap_magics[i] || le == pcap_magics[i]) return FORMAT_PCAP;
    if (be == 0x0a0d0d0a) return FORMAT_PCAPNG;
    return FORMAT_UNKNOWN;
}

/* ---- replaying the sniffed bytes in front of an input that cannot be rewound ---- */

typedef struct replay {
    int fd;
    bool close_fd; /* not for stdin */
    uint8_t prefix[4];
    size_t prefix_len, pos;
} replay;

static ssize_t replay_read(void *cookie, char *buf, size_t size)
{
    replay *rp = cookie;
    size_t n = 0;
    while (n < size && rp->pos < rp->prefix_len) buf[n++] = (char)rp->prefix[rp->pos++];
    if (n > 0) return (ssize_t)n;
    for (;;) {
        ssize_t got = read(rp->fd, buf, size);
        if (got >= 0 || errno != EINTR) return got;
    }
}

static int replay_close(void *cookie)
{
    replay *rp = cookie;
    if (rp->close_fd) close(rp->fd);
    free(rp);
    return 0;
}

/* A FILE reading prefix then fd. Owns fd when close_fd; on failure closes nothing. */
static FILE *replay_open(int fd, bool close_fd, const uint8_t *prefix, size_t prefix_len)
{
    replay *rp = calloc(1, sizeof(*rp));
    if (!rp) return NULL;
    rp->fd = fd;
    rp->close_fd = close_fd;
    memcpy(rp->prefix, prefix, prefix_len);
    rp->prefix_len = prefix_len;
    cookie_io_functions_t io = {.read = replay_read, .close = replay_close};
    FILE *fp = fopencookie(rp, "r", io);
    if (!fp) free(rp);
    return fp;
}

static ssize_t read_full(int fd, uint8_t *buf, size_t len)
{
    size_t n = 0;
    while (n < len) {
        ssize_t got = read(fd, buf + n, len - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return -1;
        if (got == 0) break;
        n += (size_t)got;
    }
    return (ssize_t)n;
}

/* ---- the handle ---- */

lw_capture *lw_capture_alloc(enum lw_capture_kind kind, const char *name)
{
    lw_capture *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->kind = kind;
    c->reopen_fd = -1;
    c->first_linktype = -1;
    c->path = strdup(name);
    if (!c->path) {
        free(c);
        return NULL;
    }
    c->name = c->path;
    return c;
}

int lw_capture_finish(lw_capture *c, int status, char *err, size_t errlen, const char *fmt, ...)
{
    c->finished = true;
    c->final_status = status;
    c->final_msg[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->final_msg, sizeof(c->final_msg), fmt, ap);
        va_end(ap);
    }
    if (status == LW_CAP_ERROR) {
        COUNT(c, read_errors);
        if (err && errlen) snprintf(err, errlen, "%s", c->final_msg);
    }
    return status;
}

void lw_capture_frame_from_pcap(lw_capture *c, const struct pcap_pkthdr *h, const uint8_t *data,
                                int linktype, lw_frame *f)
{
    f->data = data;
    f->caplen = h->caplen;
    f->wirelen = h->len;
    if (f->wirelen < f->caplen) {
        COUNT(c, caplen_over_wirelen);
        f->wirelen = f->caplen;
    }
    if (h->ts.tv_sec < 0 || h->ts.tv_usec < 0) {
        COUNT(c, bad_timestamps);
        f->ts_usec = 0;
    } else {
        /* A corrupt file can hold tv_usec >= 10^6; keep the sum rather than guess. */
        if (h->ts.tv_usec >= 1000000) COUNT(c, bad_timestamps);
        f->ts_usec = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
    }
    f->linktype = linktype;
    f->file_idx = c->file_idx;
    f->pkt_num = c->pkt_num;
}

/* Hand the input to our pcapng reader from its start, skipping what libpcap delivered. */
static bool switch_to_pcapng_reader(lw_capture *c, uint64_t skip, char *err, size_t errlen,
                                    int *exit_code)
{
    int fd = c->reopen_fd;
    c->reopen_fd = -1;
    FILE *fp = lseek(fd, 0, SEEK_SET) == 0 ? fdopen(fd, "rb") : NULL;
    if (!fp) {
        snprintf(err, errlen, "%s: cannot rewind the file for the pcapng reader: %s", c->name,
                 strerror(errno));
        close(fd);
        *exit_code = 1;
        return false;
    }
    c->ng = lw_pcapng_open(fp, c->name, c->bpf, skip, &c->ctr, err, errlen, exit_code);
    if (!c->ng) return false;
    c->kind = LW_CAPK_PCAPNG;
    COUNT(c, pcapng_fallback_files);
    if (c->first_linktype < 0) c->first_linktype = lw_pcapng_first_linktype(c->ng);
    return true;
}

static bool compile_libpcap_filter(lw_capture *c, char *err, size_t errlen)
{
    if (pcap_compile(c->pcap, &c->prog, c->bpf, 1, PCAP_NETMASK_UNKNOWN) == 0) {
        c->have_prog = true;
        return true;
    }
    const char *lt = pcap_datalink_val_to_name(c->first_linktype);
    snprintf(err, errlen,
             "invalid capture filter \"%s\" for %s (link type %s): %s (fix the -f expression)",
             c->bpf, c->name, lt ? lt : "unknown", pcap_geterr(c->pcap));
    return false;
}

/* Open fp (positioned at the file's start; owned from here on) with libpcap or our reader. */
static bool open_reader(lw_capture *c, FILE *fp, enum capture_format format, char *err,
                        size_t errlen, int *exit_code)
{
    if (format == FORMAT_PCAPNG && c->reopen_fd < 0) {
        c->kind = LW_CAPK_PCAPNG;
        c->ng = lw_pcapng_open(fp, c->name, c->bpf, 0, &c->ctr, err, errlen, exit_code);
        if (!c->ng) return false;
        c->first_linktype = lw_pcapng_first_linktype(c->ng);
        return true;
    }
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    c->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (!c->pcap) {
        fclose(fp); /* libpcap leaves fp open when it fails */
        if (c->reopen_fd >= 0) return switch_to_pcapng_reader(c, 0, err, errlen, exit_code);
        snprintf(err, errlen,
                 "cannot read capture file %s: %s (the file is damaged or not a capture)", c->name,
                 ebuf);
        *exit_code = 1;
        return false;
    }
    c->first_linktype = pcap_datalink(c->pcap);
    if (c->bpf && !compile_libpcap_filter(c, err, errlen)) {
        *exit_code = 2;
        return false;
    }
    return true;
}

lw_capture *lw_capture_open_offline(const char *path, const char *bpf, uint32_t file_idx, char *err,
                                    size_t errlen, int *exit_code)
{
    int unused;
    if (!exit_code) exit_code = &unused;
    *exit_code = 1;
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open capture file %s: %s (check the path given to -r)", path,
                 strerror(errno));
        return NULL;
    }
    const char *name = is_stdin ? "stdin" : path;
    uint8_t magic[4];
    ssize_t n = read_full(fd, magic, sizeof(magic));
    enum capture_format format = n == 4 ? sniff_format(magic) : FORMAT_UNKNOWN;
    if (n < 0)
        snprintf(err, errlen, "cannot read capture file %s: %s (give -r a pcap or pcapng file)",
                 name, strerror(errno));
    else if (n < 4)
        snprintf(err, errlen,
                 "%s is not a pcap or pcapng capture (%zd bytes long) (give -r a capture file)",
                 name, n);
    else if (format == FORMAT_UNKNOWN)
        snprintf(err, errlen,
                 "%s is not a pcap or pcapng capture (magic %02x%02x%02x%02x) (give -r a .pcap "
                 "or .pcapng file; the file name's extension does not matter)",
                 name, magic[0], magic[1], magic[2], magic[3]);
    if (format == FORMAT_UNKNOWN) {
        if (!is_stdin) close(fd);
        return NULL;
    }

    lw_capture *c = lw_capture_alloc(LW_CAPK_PCAP_FILE, name);
    if (c && bpf && *bpf) c->bpf = strdup(bpf);
    if (!c || (bpf && *bpf && !c->bpf)) {
        snprintf(err, errlen, "%s: out of memory opening the capture", name);
        if (!is_stdin) close(fd);
        lw_capture_close(c);
        return NULL;
    }
    c->file_idx = file_idx;

    FILE *fp = NULL;
    if (!is_stdin && lseek(fd, 0, SEEK_SET) == 0) {
        /* Seekable: keep a second descriptor so our pcapng reader can start over if libpcap
         * gives up on the file. */
        if (format == FORMAT_PCAPNG) c->reopen_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        fp = fdopen(fd, "rb");
    } else {
        fp = replay_open(fd, !is_stdin, magic, sizeof(magic));
    }
    if (!fp) {
        snprintf(err, errlen, "cannot read capture file %s: %s", name, strerror(errno));
        if (!is_stdin) close(fd);
        lw_capture_close(c);
        return NULL;
    }
    if (!open_reader(c, fp, format, err, errlen, exit_code)) {
        lw_capture_close(c);
        return NULL;
    }
    return c;
}

/* next_from_libpcap_file's answer when our pcapng reader has taken over the input. */
enum { LIBPCAP_HANDED_OVER = -100 };

static int next_from_libpcap_file(lw_capture *c, lw_frame *f, char *err, size_t errlen)
{
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(c->pcap, &h, &data);
        if (rc == 1) {
            c->pkt_num++;
            COUNT(c, records_read);
            if (c->have_prog && !pcap_offline_filter(&c->prog, h, data)) {
                COUNT(c, filtered_out);
                continue;
            }
            lw_capture_frame_from_pcap(c, h, data, c->first_linktype, f);
            return LW_CAP_OK;
        }
        if (rc == PCAP_ERROR_BREAK) return lw_capture_finish(c, LW_CAP_EOF, err, errlen, NULL);
        if (c->reopen_fd < 0)
            return lw_capture_finish(c, LW_CAP_ERROR, err, errlen,
                                     "%s: read error after packet %llu: %s (file truncated or "
                                     "corrupt; the packets before it were processed)",
                                     c->name, (unsigned long long)c->pkt_num, pcap_geterr(c->pcap));
        /* libpcap gave up on a pcapng file (e.g. an interface with another link type or
         * snaplen): our reader resumes after the records libpcap delivered. */
        if (c->have_prog) pcap_freecode(&c->prog);
        c->have_prog = false;
        pcap_close(c->pcap);
        c->pcap = NULL;
        int unused;
        char msg[LW_CAPTURE_MSG_MAX];
        if (!switch_to_pcapng_reader(c, c->pkt_num, msg, sizeof(msg), &unused))
            return lw_capture_finish(c, LW_CAP_ERROR, err, errlen, "%s", msg);
        return LIBPCAP_HANDED_OVER;
    }
}

int lw_capture_next(lw_capture *c, lw_frame *f, char *err, size_t errlen)
{
    if (c->finished) {
        if (c->final_status == LW_CAP_ERROR && err && errlen)
            snprintf(err, errlen, "%s", c->final_msg);
        return c->final_status;
    }
    if (c->kind == LW_CAPK_LIVE) return lw_capture_next_live(c, f, err, errlen);
    if (c->kind == LW_CAPK_PCAP_FILE) {
        int rc = next_from_libpcap_file(c, f, err, errlen);
        if (rc != LIBPCAP_HANDED_OVER) return rc;
    }
    char msg[LW_CAPTURE_MSG_MAX];
    int rc = lw_pcapng_next(c->ng, f, msg, sizeof(msg));
    if (rc == LW_CAP_OK) {
        f->file_idx = c->file_idx;
        return rc;
    }
    if (rc == LW_CAP_ERROR) return lw_capture_finish(c, rc, err, errlen, "%s", msg);
    return lw_capture_finish(c, LW_CAP_EOF, err, errlen, NULL);
}

int lw_capture_linktype(const lw_capture *c)
{
    return c->first_linktype;
}

const lw_capture_counters *lw_capture_counters_get(const lw_capture *c)
{
    return &c->ctr;
}

void lw_capture_close(lw_capture *c)
{
    if (!c) return;
    if (c->have_prog) pcap_freecode(&c->prog);
    if (c->pcap) pcap_close(c->pcap);
    lw_pcapng_close(c->ng);
    if (c->reopen_fd >= 0) close(c->reopen_fd);
    free(c->bpf);
    free(c->path);
    free(c);
}
