/*
 * pcapng_reader.c — reads pcapng files block by block (see pcapng_reader.h for why).
 *
 * Blocks used: Section Header (either byte order; each one starts a new interface table),
 * Interface Description (link type, snaplen, if_tsresol, if_tsoffset), Enhanced Packet, Simple
 * Packet and the obsolete Packet block. Every other block type is skipped and counted.
 * Block framing (length a multiple of 4, at least 12, under the cap, trailing length equal to
 * the leading one) is what lets us find the next block, so a framing error ends the file with
 * LW_CAP_ERROR; a well-framed packet block with impossible contents is counted and skipped.
 */
#include "capture/pcapng_reader.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
    NG_BT_SHB = 0x0A0D0D0A,
    NG_BT_IDB = 1,
    NG_BT_PB = 2, /* obsolete Packet Block */
    NG_BT_SPB = 3,
    NG_BT_EPB = 6,
};

enum { NG_OPT_END = 0, NG_OPT_IF_TSRESOL = 9, NG_OPT_IF_TSOFFSET = 14 };

#define NG_MSG_MAX 512
#define NG_FILTER_SNAPLEN 262144 /* snaplen for the dead handle filters are compiled on */
#define NG_SHB_MIN_LEN 28        /* header, byte-order magic, version, section length, trailer */
#define NG_IDB_MIN_LEN 20
#define NG_EPB_MIN_LEN 32 /* also the obsolete Packet Block */
#define NG_SPB_MIN_LEN 16

typedef struct ng_iface {
    bool usable; /* false: its IDB was too short to read */
    int dlt;
    uint32_t snaplen; /* 0 = no limit */
    uint64_t ticks_per_sec;
    int64_t tsoffset_sec;
    int filter; /* index into filters[], or -1 when the filter cannot apply */
} ng_iface;

typedef struct ng_filter {
    int dlt;
    bool ok;
    struct bpf_program prog;
    char *error; /* why it did not compile */
} ng_filter;

struct lw_pcapng_reader {
    FILE *fp;
    char *name;
    char *bpf; /* NULL = no filter */
    lw_capture_counters *ctr;

    bool big_endian;       /* byte order of the current section */
    uint64_t offset;       /* file offset of the next block */
    uint64_t block_offset; /* file offset of the block in buf */
    uint8_t *buf;
    uint32_t buf_cap;
    uint32_t blen, btype;
    bool pending; /* buf holds a block read ahead by lw_pcapng_open */

    ng_iface *ifs;
    uint32_t nifs, ifs_cap;

    ng_filter filters[LW_PCAPNG_MAX_FILTER_LINKTYPES];
    unsigned nfilters;

    uint64_t records, skip;
    uint64_t last_ts_usec;
    int first_dlt; /* of the first usable interface in the file, -1 until one is described */

    bool finished;    /* no more blocks: final_status says why */
    int final_status; /* LW_CAP_EOF or LW_CAP_ERROR (msg) */
    char msg[NG_MSG_MAX];
};

#define COUNT(r, name) ((r)->ctr->c[LW_CAPTURE_##name]++)

static uint16_t rd16(const lw_pcapng_reader *r, const uint8_t *p)
{
    return r->big_endian ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t rd32(const lw_pcapng_reader *r, const uint8_t *p)
{
    if (r->big_endian)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t rd64(const lw_pcapng_reader *r, const uint8_t *p)
{
    if (r->big_endian) return (uint64_t)rd32(r, p) << 32 | rd32(r, p + 4);
    return (uint64_t)rd32(r, p + 4) << 32 | rd32(r, p);
}

__attribute__((format(printf, 2, 3))) static int fail(lw_pcapng_reader *r, const char *fmt, ...)
{
    int n = snprintf(r->msg, sizeof(r->msg), "%s: pcapng block at offset %llu: ", r->name,
                     (unsigned long long)r->block_offset);
    if (n < 0 || (size_t)n >= sizeof(r->msg)) n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
    va_end(ap);
    r->finished = true;
    r->final_status = LW_CAP_ERROR;
    return -1;
}

int lw_pcapng_linktype_to_dlt(int linktype)
{
    /* The LINKTYPE_* values whose DLT_* differs on some platform (libpcap's linktype_to_dlt). */
    switch (linktype) {
    case 50:
        return DLT_PPP_SERIAL;
    case 51:
        return DLT_PPP_ETHER;
    case 100:
        return DLT_ATM_RFC1483;
    case 101:
        return DLT_RAW;
    case 102:
        return DLT_SLIP_BSDOS;
    case 103:
        return DLT_PPP_BSDOS;
    case 104:
        return DLT_C_HDLC;
    case 105:
        return DLT_IEEE802_11;
    case 106:
        return DLT_ATM_CLIP;
    case 107:
        return DLT_FRELAY;
    case 108:
        return DLT_LOOP;
    case 109:
        return DLT_ENC;
    case 117:
        return DLT_PFLOG;
    case 246:
        return DLT_PFSYNC;
    case 258:
        return DLT_PKTAP;
    default:
        return linktype;
    }
}

/* Read exactly want bytes into dst, or fail (-1). have/total/what only word the message. */
static int read_more(lw_pcapng_reader *r, uint8_t *dst, size_t want, size_t have, size_t total,
                     const char *what)
{
    size_t got = fread(dst, 1, want, r->fp);
    if (got == want) return 0;
    if (ferror(r->fp)) return fail(r, "read error: %s", strerror(errno));
    return fail(r, "truncated file: %s cut short (%zu of %zu bytes present)", what, have + got,
                total);
}

static int grow_buffer(lw_pcapng_reader *r, uint32_t len)
{
    if (len <= r->buf_cap) return 0;
    uint32_t cap = r->buf_cap ? r->buf_cap : 4096;
    while (cap < len) cap = cap > LW_PCAPNG_MAX_BLOCK / 2 ? LW_PCAPNG_MAX_BLOCK : cap * 2;
    uint8_t *nb = realloc(r->buf, cap);
    if (!nb) return fail(r, "out of memory for a %u-byte block", len);
    r->buf = nb;
    r->buf_cap = cap;
    return 0;
}

/* Read one whole block into buf. 1 = read, 0 = clean end of file, -1 = error (message set). */
static int read_block(lw_pcapng_reader *r)
{
    uint8_t hdr[12];
    size_t have = 8;
    r->block_offset = r->offset;
    size_t got = fread(hdr, 1, 8, r->fp);
    if (got == 0 && !ferror(r->fp)) return 0;
    if (got < 8 && ferror(r->fp)) return fail(r, "read error: %s", strerror(errno));
    if (got < 8)
        return fail(r, "truncated file: block header cut short (%zu of 8 bytes present)", got);

    /* A Section Header's type reads the same in both byte orders; its byte-order magic then
     * tells how to read its length and everything up to the next Section Header. */
    bool shb = hdr[0] == 0x0A && hdr[1] == 0x0D && hdr[2] == 0x0D && hdr[3] == 0x0A;
    if (shb) {
        if (read_more(r, hdr + 8, 4, 8, 12, "section header") < 0) return -1;
        have = 12;
        static const uint8_t bom_be[4] = {0x1A, 0x2B, 0x3C, 0x4D};
        static const uint8_t bom_le[4] = {0x4D, 0x3C, 0x2B, 0x1A};
        if (memcmp(hdr + 8, bom_be, 4) == 0)
            r->big_endian = true;
        else if (memcmp(hdr + 8, bom_le, 4) == 0)
            r->big_endian = false;
        else
            return fail(r, "section header byte-order magic %02x%02x%02x%02x is invalid", hdr[8],
                        hdr[9], hdr[10], hdr[11]);
    }
    uint32_t type = shb ? (uint32_t)NG_BT_SHB : rd32(r, hdr);
    uint32_t len = rd32(r, hdr + 4);
    uint32_t min_len = shb ? NG_SHB_MIN_LEN : 12;
    if (len < min_len || len % 4 != 0)
        return fail(r, "block length %u is invalid (a multiple of 4, at least %u)", len, min_len);
    if (len > LW_PCAPNG_MAX_BLOCK)
        return fail(r, "block length %u exceeds the %u-byte cap", len, LW_PCAPNG_MAX_BLOCK);
    if (grow_buffer(r, len) < 0) return -1;
    memcpy(r->buf, hdr, have);
    char what[48];
    snprintf(what, sizeof(what), "block of type %u", type);
    if (read_more(r, r->buf + have, len - have, have, len, what) < 0) return -1;
    uint32_t trailer = rd32(r, r->buf + len - 4);
    if (trailer != len)
        return fail(r, "trailing block length %u differs from leading length %u", trailer, len);
    r->offset += len;
    r->btype = type;
    r->blen = len;
    return 1;
}

static bool is_packet_block(uint32_t type)
{
    return type == NG_BT_EPB || type == NG_BT_SPB || type == NG_BT_PB;
}

/* Index of the compiled filter for dlt (compiling it on first use), -1 if it cannot apply. */
static int filter_for(lw_pcapng_reader *r, int dlt)
{
    for (unsigned i = 0; i < r->nfilters; i++)
        if (r->filters[i].dlt == dlt) return r->filters[i].ok ? (int)i : -1;
    if (r->nfilters == LW_PCAPNG_MAX_FILTER_LINKTYPES) {
        COUNT(r, filter_linktypes_over_cap);
        return -1;
    }
    ng_filter *fl = &r->filters[r->nfilters];
    memset(fl, 0, sizeof(*fl));
    fl->dlt = dlt;
    pcap_t *dead = pcap_open_dead(dlt, NG_FILTER_SNAPLEN);
    if (!dead) {
        fl->error = strdup("cannot create a filter handle");
    } else {
        if (pcap_compile(dead, &fl->prog, r->bpf, 1, PCAP_NETMASK_UNKNOWN) == 0)
            fl->ok = true;
        else
            fl->error = strdup(pcap_geterr(dead));
        pcap_close(dead);
    }
    int idx = (int)r->nfilters++;
    return fl->ok ? idx : -1;
}

static int process_shb(lw_pcapng_reader *r)
{
    uint16_t major = rd16(r, r->buf + 12), minor = rd16(r, r->buf + 14);
    if (major != 1) return fail(r, "unsupported pcapng version %u.%u (only 1.x)", major, minor);
    COUNT(r, pcapng_sections);
    r->nifs = 0; /* interface ids are per section */
    return 0;
}

/* Ticks per second for an if_tsresol value; 0 if the value is out of range. */
static uint64_t tsresol_ticks(uint8_t v)
{
    unsigned exp = v & 0x7f;
    if (v & 0x80) return exp <= 63 ? (uint64_t)1 << exp : 0;
    if (exp > 19) return 0; /* 10^19 is the largest power of ten in 64 bits */
    uint64_t t = 1;
    while (exp--) t *= 10;
    return t;
}

static void parse_idb_options(lw_pcapng_reader *r, ng_iface *ifc)
{
    const uint8_t *b = r->buf;
    uint32_t p = 16, end = r->blen - 4;
    while (end - p >= 4) {
        uint16_t code = rd16(r, b + p), olen = rd16(r, b + p + 2);
        p += 4;
        if (code == NG_OPT_END) break;
        if (olen > end - p) {
            COUNT(r, pcapng_bad_options);
            break;
        }
        const uint8_t *val = b + p;
        if (code == NG_OPT_IF_TSRESOL) {
            uint64_t ticks = olen == 1 ? tsresol_ticks(val[0]) : 0;
            if (ticks)
                ifc->ticks_per_sec = ticks;
            else
                COUNT(r, pcapng_bad_options);
        } else if (code == NG_OPT_IF_TSOFFSET) {
            if (olen == 8)
                ifc->tsoffset_sec = (int64_t)rd64(r, val);
            else
                COUNT(r, pcapng_bad_options);
        }
        uint32_t padded = ((uint32_t)olen + 3) & ~3u;
        if (padded > end - p) break;
        p += padded;
    }
}

static int process_idb(lw_pcapng_reader *r)
{
    COUNT(r, pcapng_interfaces);
    if (r->nifs == LW_PCAPNG_MAX_INTERFACES) {
        COUNT(r, pcapng_interfaces_over_cap);
        return 0;
    }
    if (r->nifs == r->ifs_cap) {
        uint32_t cap = r->ifs_cap ? r->ifs_cap * 2 : 8;
        if (cap > LW_PCAPNG_MAX_INTERFACES) cap = LW_PCAPNG_MAX_INTERFACES;
        ng_iface *n = realloc(r->ifs, cap * sizeof(*n));
        if (!n) return fail(r, "out of memory for %u interfaces", cap);
        r->ifs = n;
        r->ifs_cap = cap;
    }
    ng_iface *ifc = &r->ifs[r->nifs++];
    memset(ifc, 0, sizeof(*ifc));
    ifc->ticks_per_sec = 1000000;
    ifc->filter = -1;
    if (r->blen < NG_IDB_MIN_LEN) {
        /* Keep its slot so later interface ids still line up; its packets are dropped. */
        COUNT(r, pcapng_bad_blocks);
        return 0;
    }
    ifc->usable = true;
    ifc->dlt = lw_pcapng_linktype_to_dlt(rd16(r, r->buf + 8));
    ifc->snaplen = rd32(r, r->buf + 12);
    if (r->first_dlt < 0) r->first_dlt = ifc->dlt;
    parse_idb_options(r, ifc);
    if (r->bpf) ifc->filter = filter_for(r, ifc->dlt);
    return 0;
}

static int process_other_block(lw_pcapng_reader *r)
{
    switch (r->btype) {
    case NG_BT_SHB:
        return process_shb(r);
    case NG_BT_IDB:
        return process_idb(r);
    default:
        COUNT(r, pcapng_blocks_skipped);
        return 0;
    }
}

static uint64_t ts_to_usec(lw_pcapng_reader *r, const ng_iface *ifc, uint64_t ticks)
{
    __int128 us = (__int128)((unsigned __int128)ticks * 1000000u / ifc->ticks_per_sec);
    us += (__int128)ifc->tsoffset_sec * 1000000;
    if (us < 0) {
        COUNT(r, bad_timestamps);
        return 0;
    }
    if (us > (__int128)UINT64_MAX) {
        COUNT(r, bad_timestamps);
        return UINT64_MAX;
    }
    return (uint64_t)us;
}

/* Turn the packet block in buf into *f. true = deliver it; false = skipped (and counted). */
static bool handle_packet(lw_pcapng_reader *r, lw_frame *f)
{
    const uint8_t *b = r->buf;
    uint32_t len = r->blen, ifid, caplen, wirelen, avail;
    uint64_t ticks = 0;
    bool simple = r->btype == NG_BT_SPB;

    r->records++;
    if (r->records <= r->skip) return false; /* already delivered by libpcap */
    COUNT(r, records_read);

    if (simple) {
        if (len < NG_SPB_MIN_LEN) goto bad;
        ifid = 0;
        wirelen = rd32(r, b + 8);
        avail = len - NG_SPB_MIN_LEN;
        caplen = wirelen < avail ? wirelen : avail;
    } else {
        if (len < NG_EPB_MIN_LEN) goto bad;
        ifid = r->btype == NG_BT_PB ? rd16(r, b + 8) : rd32(r, b + 8);
        ticks = (uint64_t)rd32(r, b + 12) << 32 | rd32(r, b + 16);
        caplen = rd32(r, b + 20);
        wirelen = rd32(r, b + 24);
        avail = len - NG_EPB_MIN_LEN;
        if (caplen > avail) goto bad;
    }
    const uint8_t *data = b + (simple ? 12 : 28);

    if (ifid >= r->nifs || !r->ifs[ifid].usable) {
        COUNT(r, pcapng_unknown_interface);
        return false;
    }
    const ng_iface *ifc = &r->ifs[ifid];
    if (ifc->snaplen && caplen > ifc->snaplen) {
        if (simple)
            caplen = ifc->snaplen; /* an SPB's captured length is defined by the snaplen */
        else
            COUNT(r, caplen_over_snaplen); /* the bytes are there: keep them */
    }
    if (wirelen < caplen) {
        COUNT(r, caplen_over_wirelen);
        wirelen = caplen;
    }
    uint64_t ts = r->last_ts_usec; /* an SPB has no timestamp: reuse the previous one */
    if (!simple) ts = r->last_ts_usec = ts_to_usec(r, ifc, ticks);

    if (r->bpf) {
        if (ifc->filter < 0) {
            COUNT(r, filter_linktype_unsupported);
            COUNT(r, filtered_out);
            return false;
        }
        struct pcap_pkthdr h = {.caplen = caplen, .len = wirelen};
        if (!pcap_offline_filter(&r->filters[ifc->filter].prog, &h, data)) {
            COUNT(r, filtered_out);
            return false;
        }
    }
    f->data = data;
    f->caplen = caplen;
    f->wirelen = wirelen;
    f->ts_usec = ts;
    f->linktype = ifc->dlt;
    f->pkt_num = r->records;
    return true;
bad:
    COUNT(r, pcapng_bad_blocks);
    return false;
}

static void finish_eof(lw_pcapng_reader *r)
{
    r->finished = true;
    r->final_status = LW_CAP_EOF;
}

/* Process blocks until the first packet block (left pending in buf), the end, or an error. */
static void read_ahead_to_first_packet(lw_pcapng_reader *r)
{
    for (;;) {
        int rc = read_block(r);
        if (rc == 0) finish_eof(r);
        if (rc <= 0) return;
        if (is_packet_block(r->btype)) {
            r->pending = true;
            return;
        }
        if (process_other_block(r) < 0) return;
    }
}

lw_pcapng_reader *lw_pcapng_open(FILE *fp, const char *name, const char *bpf, uint64_t skip_records,
                                 lw_capture_counters *counters, char *err, size_t errlen,
                                 int *exit_code)
{
    *exit_code = 1;
    lw_pcapng_reader *r = calloc(1, sizeof(*r));
    if (!r) {
        fclose(fp);
        snprintf(err, errlen, "%s: out of memory opening the capture", name);
        return NULL;
    }
    r->fp = fp;
    r->ctr = counters;
    r->skip = skip_records;
    r->first_dlt = -1;
    r->name = strdup(name);
    if (bpf && *bpf) r->bpf = strdup(bpf);
    if (!r->name || (bpf && *bpf && !r->bpf)) {
        snprintf(err, errlen, "%s: out of memory opening the capture", name);
        lw_pcapng_close(r);
        return NULL;
    }

    int rc = read_block(r);
    if (rc > 0 && r->btype != NG_BT_SHB)
        rc = fail(r, "not a pcapng file (first block type 0x%08x is not a section header)",
                  r->btype);
    if (rc == 0) snprintf(r->msg, sizeof(r->msg), "%s: empty file, not a pcapng capture", name);
    if (rc > 0) rc = process_shb(r) < 0 ? -1 : 1;
    if (rc <= 0) {
        snprintf(err, errlen, "%s (give -r a pcap or pcapng capture file)", r->msg);
        lw_pcapng_close(r);
        return NULL;
    }
    read_ahead_to_first_packet(r);

    if (r->bpf) {
        /* Check the filter now so a bad one is a usage error; with no interface described
         * yet, check its syntax against Ethernet, which accepts nearly every primitive. */
        int dlt = r->first_dlt >= 0 ? r->first_dlt : DLT_EN10MB;
        int idx = filter_for(r, dlt);
        if (idx < 0) {
            const char *why = "too many link types";
            for (unsigned i = 0; i < r->nfilters; i++)
                if (r->filters[i].dlt == dlt && r->filters[i].error) why = r->filters[i].error;
            const char *lt = pcap_datalink_val_to_name(dlt);
            snprintf(err, errlen,
                     "invalid capture filter \"%s\" for %s (link type %s): %s (fix the -f "
                     "expression)",
                     r->bpf, name, lt ? lt : "unknown", why);
            *exit_code = 2;
            lw_pcapng_close(r);
            return NULL;
        }
    }
    return r;
}

int lw_pcapng_next(lw_pcapng_reader *r, lw_frame *f, char *err, size_t errlen)
{
    for (;;) {
        if (!r->pending) {
            if (r->finished) break;
            int rc = read_block(r);
            if (rc == 0) finish_eof(r);
            if (rc <= 0) break;
        }
        r->pending = false;
        if (is_packet_block(r->btype)) {
            if (handle_packet(r, f)) return LW_CAP_OK;
        } else if (process_other_block(r) < 0) {
            break;
        }
    }
    if (r->final_status == LW_CAP_ERROR && err && errlen) snprintf(err, errlen, "%s", r->msg);
    return r->final_status;
}

int lw_pcapng_first_linktype(const lw_pcapng_reader *r)
{
    return r->first_dlt;
}

void lw_pcapng_close(lw_pcapng_reader *r)
{
    if (!r) return;
    if (r->fp) fclose(r->fp);
    for (unsigned i = 0; i < r->nfilters; i++) {
        if (r->filters[i].ok) pcap_freecode(&r->filters[i].prog);
        free(r->filters[i].error);
    }
    free(r->ifs);
    free(r->buf);
    free(r->bpf);
    free(r->name);
    free(r);
}
