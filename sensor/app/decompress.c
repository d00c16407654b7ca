/*
 * decompress.c — Content-Encoding decoders (see decompress.h): zlib for gzip and deflate,
 * libbrotli for br, each stage feeding the next through a fixed 16 KiB block, every
 * allocation of the libraries charged to the worker's pool.
 */
#include "leakwatch/decompress.h"

#include <brotli/decode.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

LW_COUNTER_NAMES(decomp, DECOMP, LW_DECOMP_COUNTERS)

#define BLOCK 16384

typedef struct stage {
    enum lw_cenc enc;
    bool started; /* zlib/brotli state initialised */
    bool ended;
    uint8_t held[2]; /* deflate: the first byte, until the second tells zlib from raw */
    uint8_t nheld;
    z_stream z;
    BrotliDecoderState *br;
    uint8_t *buf; /* BLOCK bytes of output */
} stage;

struct lw_decomp {
    lw_decomp_pool *pool;
    int n;
    stage st[LW_DECOMP_MAX_STAGES];
    enum lw_decomp_status status;
    uint64_t encoded, decoded;
    /* of the call in progress */
    uint64_t *budget;
    lw_decomp_out_fn out;
    void *user;
};

/* Pool allocations carry their size in front, so frees give it back. */
static void *pool_alloc(lw_decomp_pool *p, size_t size)
{
    /* (written so that no sum can wrap: used never exceeds cap) */
    if (size > SIZE_MAX - 16 || p->used > p->cap || size + 16 > p->cap - p->used) return NULL;
    uint8_t *m = malloc(size + 16);
    if (!m) return NULL;
    memcpy(m, &size, sizeof(size));
    p->used += size + 16;
    if (p->used > p->peak) p->peak = p->used;
    return m + 16;
}

static void pool_free(lw_decomp_pool *p, void *ptr)
{
    if (!ptr) return;
    uint8_t *m = (uint8_t *)ptr - 16;
    size_t size;
    memcpy(&size, m, sizeof(size));
    p->used -= size + 16;
    free(m);
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    if (size && items > SIZE_MAX / size) return Z_NULL;
    return pool_alloc(opaque, (size_t)items * size);
}
static void z_free(voidpf opaque, voidpf ptr)
{
    pool_free(opaque, ptr);
}
static void *br_alloc(void *opaque, size_t size)
{
    return pool_alloc(opaque, size);
}
static void br_free(void *opaque, void *ptr)
{
    pool_free(opaque, ptr);
}

int lw_cenc_parse(const char *value, enum lw_cenc out[LW_DECOMP_MAX_STAGES])
{
    enum lw_cenc listed[LW_DECOMP_MAX_STAGES];
    int n = 0;
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *s = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != ';') p++;
        size_t len = (size_t)(p - s);
        while (*p && *p != ',') p++; /* parameters are not used */
        if (!len || (len == 8 && strncasecmp(s, "identity", 8) == 0)) continue;
        enum lw_cenc e;
        if ((len == 4 && strncasecmp(s, "gzip", 4) == 0) ||
            (len == 6 && strncasecmp(s, "x-gzip", 6) == 0))
            e = LW_CENC_GZIP;
        else if (len == 7 && strncasecmp(s, "deflate", 7) == 0)
            e = LW_CENC_DEFLATE;
        else if (len == 2 && strncasecmp(s, "br", 2) == 0)
            e = LW_CENC_BR;
        else
            return -1;
        if (n == LW_DECOMP_MAX_STAGES) return -1;
        listed[n++] = e;
    }
    for (int i = 0; i < n; i++) out[i] = listed[n - 1 - i];
    return n;
}

const char *lw_cenc_name(enum lw_cenc e)
{
    return e == LW_CENC_GZIP ? "gzip" : e == LW_CENC_DEFLATE ? "deflate" : "br";
}

lw_decomp *lw_decomp_new(const enum lw_cenc *stages, int n, lw_decomp_pool *pool)
{
    if (n < 1 || n > LW_DECOMP_MAX_STAGES) return NULL;
    lw_decomp *d = pool_alloc(pool, sizeof(*d));
    if (!d) return NULL;
    memset(d, 0, sizeof(*d));
    d->pool = pool;
    d->n = n;
    for (int i = 0; i < n; i++) {
        d->st[i].enc = stages[i];
        if (!(d->st[i].buf = pool_alloc(pool, BLOCK))) {
            lw_decomp_free(d);
            return NULL;
        }
    }
    return d;
}

void lw_decomp_free(lw_decomp *d)
{
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        stage *s = &d->st[i];
        if (s->started && s->enc != LW_CENC_BR) inflateEnd(&s->z);
        if (s->br) BrotliDecoderDestroyInstance(s->br);
        pool_free(d->pool, s->buf);
    }
    pool_free(d->pool, d);
}

bool lw_decomp_finished(const lw_decomp *d)
{
    return d->st[0].ended;
}

uint64_t lw_decomp_decoded(const lw_decomp *d)
{
    return d->decoded;
}

static enum lw_decomp_status feed(lw_decomp *d, int i, const uint8_t *in, size_t len);

/* Decoded bytes of stage i: to the next stage, or out of the chain through the guards. */
static enum lw_decomp_status emit(lw_decomp *d, int i, const uint8_t *data, size_t len)
{
    if (i + 1 < d->n) return feed(d, i + 1, data, len);
    if (len > *d->budget) {
        if (*d->budget) d->out(d->user, data, (size_t)*d->budget);
        d->decoded += *d->budget;
        *d->budget = 0;
        return LW_DECOMP_LIMIT;
    }
    *d->budget -= len;
    d->decoded += len;
    d->out(d->user, data, len);
    if (d->decoded > LW_DECOMP_RATIO_FLOOR &&
        d->decoded / (d->encoded ? d->encoded : 1) > LW_DECOMP_MAX_RATIO)
        return LW_DECOMP_RATIO;
    return LW_DECOMP_OK;
}

static bool z_start(lw_decomp *d, stage *s, int window_bits)
{
    memset(&s->z, 0, sizeof(s->z));
    s->z.zalloc = z_alloc;
    s->z.zfree = z_free;
    s->z.opaque = d->pool;
    if (inflateInit2(&s->z, window_bits) != Z_OK) return false;
    s->started = true;
    return true;
}

static enum lw_decomp_status z_feed(lw_decomp *d, int i, const uint8_t *in, size_t len)
{
    stage *s = &d->st[i];
    while (len && !s->ended) {
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        s->z.next_in = (Bytef *)(uintptr_t)in;
        s->z.avail_in = chunk;
        while (!s->ended) {
            s->z.next_out = s->buf;
            s->z.avail_out = BLOCK;
            int rc = inflate(&s->z, Z_NO_FLUSH);
            /* what was decoded before an error goes out first: the same bytes come out
             * however the input was split */
            size_t produced = BLOCK - s->z.avail_out;
            if (produced) {
                enum lw_decomp_status st = emit(d, i, s->buf, produced);
                if (st != LW_DECOMP_OK) return st;
            }
            if (rc == Z_MEM_ERROR) return LW_DECOMP_NOMEM;
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return LW_DECOMP_CORRUPT;
            if (rc == Z_STREAM_END) {
                /* a gzip body may hold several members one after another */
                const uint8_t *next = s->z.next_in;
                if (s->enc == LW_CENC_GZIP && s->z.avail_in >= 2 && next[0] == 0x1f &&
                    next[1] == 0x8b && inflateReset(&s->z) == Z_OK)
                    continue;
                s->ended = true;
            } else if (s->z.avail_out != 0 || (rc == Z_BUF_ERROR && !produced)) {
                break; /* all input taken: more is needed */
            }
        }
        size_t used = chunk - s->z.avail_in;
        if (!used && !s->ended) return LW_DECOMP_CORRUPT; /* no progress possible */
        in += used;
        len -= used;
    }
    return LW_DECOMP_OK;
}

static enum lw_decomp_status br_feed(lw_decomp *d, int i, const uint8_t *in, size_t len)
{
    stage *s = &d->st[i];
    if (!s->br && !(s->br = BrotliDecoderCreateInstance(br_alloc, br_free, d->pool)))
        return LW_DECOMP_NOMEM;
    size_t avail_in = len;
    const uint8_t *next_in = in;
    while (!s->ended) {
        size_t avail_out = BLOCK;
        uint8_t *next_out = s->buf;
        BrotliDecoderResult r =
            BrotliDecoderDecompressStream(s->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        size_t produced = BLOCK - avail_out;
        if (produced) {
            enum lw_decomp_status st = emit(d, i, s->buf, produced);
            if (st != LW_DECOMP_OK) return st;
        }
        if (r == BROTLI_DECODER_RESULT_SUCCESS) {
            s->ended = true;
        } else if (r == BROTLI_DECODER_RESULT_ERROR) {
            BrotliDecoderErrorCode e = BrotliDecoderGetErrorCode(s->br);
            return e <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES ? LW_DECOMP_NOMEM
                                                                 : LW_DECOMP_CORRUPT;
        } else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) {
            break;
        }
    }
    return LW_DECOMP_OK;
}

static enum lw_decomp_status feed(lw_decomp *d, int i, const uint8_t *in, size_t len)
{
    stage *s = &d->st[i];
    if (s->ended || !len) return LW_DECOMP_OK;
    if (s->enc == LW_CENC_BR) return br_feed(d, i, in, len);
    if (!s->started) {
        if (s->enc == LW_CENC_GZIP) {
            if (!z_start(d, s, 16 + MAX_WBITS)) return LW_DECOMP_NOMEM;
        } else {
            /* zlib (RFC 1950) if the first two bytes pass its header check, else raw */
            if (s->nheld == 0 && len == 1) {
                s->held[s->nheld++] = in[0];
                return LW_DECOMP_OK;
            }
            uint8_t b0 = s->nheld ? s->held[0] : in[0];
            uint8_t b1 = s->nheld ? in[0] : in[1];
            bool zlib = (b0 & 0x0f) == 8 && ((unsigned)b0 << 8 | b1) % 31 == 0;
            if (!z_start(d, s, zlib ? MAX_WBITS : -MAX_WBITS)) return LW_DECOMP_NOMEM;
            if (s->nheld) {
                enum lw_decomp_status st = z_feed(d, i, s->held, s->nheld);
                s->nheld = 0;
                if (st != LW_DECOMP_OK) return st;
            }
        }
    }
    return z_feed(d, i, in, len);
}

enum lw_decomp_status lw_decomp_data(lw_decomp *d, const uint8_t *in, size_t len, uint64_t *budget,
                                     lw_decomp_out_fn out, void *user)
{
    if (d->status != LW_DECOMP_OK) return d->status;
    d->budget = budget;
    d->out = out;
    d->user = user;
    d->encoded += len;
    enum lw_decomp_status st = feed(d, 0, in, len);
    if (st == LW_DECOMP_OK && d->st[0].ended) st = LW_DECOMP_DONE;
    if (st != LW_DECOMP_OK) d->status = st;
    return st;
}
