/*
 * edm_index.c — the Exact Data Match index file (format in edm.h): writing it (leakwatch-edm
 * build), mapping and checking it, and the lookup behind `validate: edm:NAME`.
 *
 * The format could be mapped as it is, but the sensor reads it into private memory instead: an
 * operator who rewrites a list in place (cp over it rather than rename) would otherwise turn the
 * next lookup into a SIGBUS. Either way a list costs 8 bytes per entry plus a 256 KiB bucket
 * table; opening checks the whole file (size, checksum, strict order) once, so a lookup can
 * trust it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leakwatch/edm.h"

#define BUCKETS 65536u
#define MAX_ENTRIES 0xFFFFFFFFull /* bucket offsets are 32-bit */

struct lw_edm_list {
    uint8_t *map; /* the whole file, read at open */
    size_t map_len;
    const uint8_t *entries; /* u64 little-endian, ascending */
    uint64_t n;
    uint32_t *bucket; /* BUCKETS + 1: first entry whose top 16 bits are >= b */
    lw_edm_norm norm;
    uint64_t key_check;
    const lw_fp_key *key;
};

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

/* -- open --------------------------------------------------------------------------------- */

static lw_edm_list *fail(lw_edm_list *l, char *err, size_t errlen, const char *path,
                         const char *what)
{
    snprintf(err, errlen, "exact match list %s: %s", path, what);
    lw_edm_close(l);
    return NULL;
}

/* One pass over the entries: checksum, strict order, and the bucket table. */
static const char *scan_entries(lw_edm_list *l, uint64_t want_sum)
{
    uint64_t sum = FNV_OFFSET, prev = 0;
    uint32_t b = 0;
    for (uint64_t i = 0; i < l->n; i++) {
        const uint8_t *p = l->entries + 8 * i;
        uint64_t h = get_le64(p);
        sum = fnv1a(sum, p, 8);
        if (i && h <= prev) return "corrupt: entries are not in ascending order";
        prev = h;
        uint32_t top = (uint32_t)(h >> 48);
        while (b <= top) l->bucket[b++] = (uint32_t)i;
    }
    while (b <= BUCKETS) l->bucket[b++] = (uint32_t)l->n;
    if (sum != want_sum) return "corrupt: the checksum of the entries does not match the header";
    return NULL;
}

/* Reads exactly len bytes; a file that shrinks while it is read is reported, not trusted. */
static const char *read_whole(int fd, size_t len, uint8_t **out)
{
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return "out of memory";
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            free(buf);
            return r < 0 ? strerror(errno) : "it shrank while it was read";
        }
        got += (size_t)r;
    }
    *out = buf;
    return NULL;
}

lw_edm_list *lw_edm_open(const char *path, const lw_fp_key *key, char *err, size_t errlen)
{
    char what[256];
    lw_edm_list *l = calloc(1, sizeof(*l));
    if (!l) return fail(l, err, errlen, path, "out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(what, sizeof(what), "%s", strerror(errno));
        if (fd >= 0) close(fd);
        return fail(l, err, errlen, path, what);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail(l, err, errlen, path, "not a regular file");
    }
    if ((uint64_t)st.st_size < LW_EDM_HEADER_BYTES) {
        close(fd);
        snprintf(what, sizeof(what),
                 "truncated: %lld bytes, shorter than the %d-byte header (rebuild it with "
                 "leakwatch-edm build)",
                 (long long)st.st_size, LW_EDM_HEADER_BYTES);
        return fail(l, err, errlen, path, what);
    }
    l->map_len = (size_t)st.st_size;
    const char *rerr = read_whole(fd, l->map_len, &l->map);
    close(fd);
    if (rerr) {
        snprintf(what, sizeof(what), "cannot read it: %s", rerr);
        return fail(l, err, errlen, path, what);
    }
    const uint8_t *h = l->map;
    if (memcmp(h, LW_EDM_MAGIC, 8) != 0)
        return fail(l, err, errlen, path,
                    "not a leakwatch-edm index (build one with leakwatch-edm build)");
    uint32_t version = get_le32(h + 8);
    if (version != LW_EDM_VERSION) {
        snprintf(what, sizeof(what),
                 "index version %u, this leakwatch reads version %u (rebuild it with this "
                 "leakwatch-edm)",
                 version, LW_EDM_VERSION);
        return fail(l, err, errlen, path, what);
    }
    l->norm = (lw_edm_norm)get_le32(h + 12);
    if (!lw_edm_norm_lookup(lw_edm_norm_name(l->norm)))
        return fail(l, err, errlen, path, "corrupt: unknown normalizer in the header");
    l->n = get_le64(h + 16);
    l->key_check = get_le64(h + 24);
    uint64_t sum = get_le64(h + 32);
    for (int i = 40; i < LW_EDM_HEADER_BYTES; i++)
        if (h[i]) return fail(l, err, errlen, path, "corrupt: reserved header bytes are not zero");
    uint64_t want = l->n <= MAX_ENTRIES ? LW_EDM_HEADER_BYTES + 8 * l->n : 0;
    if (want != l->map_len) {
        snprintf(what, sizeof(what),
                 "%s: the header says %llu entries (%llu bytes) but the file has %zu bytes",
                 l->map_len < want ? "truncated" : "corrupt", (unsigned long long)l->n,
                 (unsigned long long)want, l->map_len);
        return fail(l, err, errlen, path, what);
    }
    if (key && l->key_check != lw_edm_key_check(key))
        return fail(l, err, errlen, path,
                    "built with another key (its key check value differs): rebuild it with "
                    "leakwatch-edm build --key set to the sensor's output.fingerprint_key");
    l->entries = h + LW_EDM_HEADER_BYTES;
    l->key = key;
    if (!(l->bucket = malloc((BUCKETS + 1) * sizeof(*l->bucket))))
        return fail(l, err, errlen, path, "out of memory");
    const char *bad = scan_entries(l, sum);
    if (bad) return fail(l, err, errlen, path, bad);
    return l;
}

void lw_edm_close(lw_edm_list *l)
{
    if (!l) return;
    free(l->map);
    free(l->bucket);
    free(l);
}

lw_edm_norm lw_edm_list_norm(const lw_edm_list *l)
{
    return l->norm;
}

uint64_t lw_edm_list_entries(const lw_edm_list *l)
{
    return l->n;
}

uint64_t lw_edm_list_key_check(const lw_edm_list *l)
{
    return l->key_check;
}

size_t lw_edm_list_memory(const lw_edm_list *l)
{
    return sizeof(*l) + l->map_len + (BUCKETS + 1) * sizeof(*l->bucket);
}

/* -- lookup ------------------------------------------------------------------------------- */

bool lw_edm_contains_hash(const lw_edm_list *l, uint64_t h)
{
    uint32_t top = (uint32_t)(h >> 48);
    uint32_t lo = l->bucket[top], hi = l->bucket[top + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t e = get_le64(l->entries + 8 * (size_t)mid);
        if (e == h) return true;
        if (e < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool lw_edm_contains(const lw_edm_list *l, const uint8_t *s, size_t len, uint8_t *norm,
                     size_t *norm_len)
{
    uint8_t local[LW_EDM_VALUE_MAX];
    uint8_t *buf = norm ? norm : local;
    size_t n = lw_edm_normalize(l->norm, s, len, buf, LW_EDM_VALUE_MAX);
    if (norm_len) *norm_len = n;
    if (!n || !l->key) return false;
    return lw_edm_contains_hash(l, lw_edm_hash(l->key, buf, n));
}

/* -- write -------------------------------------------------------------------------------- */

/* LSD radix sort on 16-bit digits: 10 million hashes sort in well under a second, where
 * qsort's comparison calls take several. */
static bool sort_hashes(uint64_t *v, size_t n)
{
    uint64_t *tmp = malloc((n ? n : 1) * sizeof(*v));
    size_t *count = malloc(65536 * sizeof(*count));
    if (!tmp || !count) {
        free(tmp);
        free(count);
        return false;
    }
    uint64_t *src = v, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, 65536 * sizeof(*count));
        for (size_t i = 0; i < n; i++) count[(src[i] >> shift) & 0xFFFF]++;
        size_t at = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++) dst[count[(src[i] >> shift) & 0xFFFF]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    /* four passes: the result is back in v */
    free(tmp);
    free(count);
    return true;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

bool lw_edm_write(const char *path, lw_edm_norm norm, uint64_t *hashes, size_t *count,
                  const lw_fp_key *key, char *err, size_t errlen)
{
    size_t n = *count;
    if (!sort_hashes(hashes, n)) {
        snprintf(err, errlen, "%s: out of memory sorting %zu hashes", path, n);
        return false;
    }
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || hashes[i] != hashes[u - 1]) hashes[u++] = hashes[i];
    *count = u;
    if ((uint64_t)u > MAX_ENTRIES) {
        snprintf(err, errlen, "%s: %zu entries, an index holds at most %llu", path, u,
                 (unsigned long long)MAX_ENTRIES);
        return false;
    }

    uint8_t hdr[LW_EDM_HEADER_BYTES] = {0};
    memcpy(hdr, LW_EDM_MAGIC, 8);
    put_le32(hdr + 8, LW_EDM_VERSION);
    put_le32(hdr + 12, (uint32_t)norm);
    put_le64(hdr + 16, u);
    put_le64(hdr + 24, lw_edm_key_check(key));

    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "%s: path too long", path);
        return false;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return false;
    }
    fchmod(fd, 0640); /* whatever the umask */
    /* entries go out in 64 KiB blocks, little-endian, checksummed on the way */
    uint64_t sum = FNV_OFFSET;
    uint8_t block[65536];
    bool ok = write_all(fd, hdr, sizeof(hdr));
    size_t fill = 0;
    for (size_t i = 0; ok && i < u; i++) {
        put_le64(block + fill, hashes[i]);
        fill += 8;
        if (fill == sizeof(block) || i + 1 == u) {
            sum = fnv1a(sum, block, fill);
            ok = write_all(fd, block, fill);
            fill = 0;
        }
    }
    put_le64(hdr + 32, sum);
    ok = ok && pwrite(fd, hdr + 32, 8, 32) == 8 && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(saved));
    }
    return ok;
}
