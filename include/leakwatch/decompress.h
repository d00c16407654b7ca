/*
 * decompress.h — HTTP Content-Encoding undone in a stream: gzip (and x-gzip), deflate (zlib
 * or, as some servers send it, raw deflate: told apart by the zlib header check), br (libbrotli),
 * chained in the order the header lists them ("gzip, br" is undone br first).
 *
 * Guards (interface.md: decode.max_decoded_mb, a compression-ratio ceiling): the caller gives
 * each call the bytes the flow direction may still decode (*budget); decoding stops with
 * LW_DECOMP_LIMIT when it would go past it, and with LW_DECOMP_RATIO when, past
 * LW_DECOMP_RATIO_FLOOR decoded bytes, decoded/encoded exceeds LW_DECOMP_MAX_RATIO. The
 * decoders' own memory (zlib windows, brotli ring buffers: a hostile br stream can ask for
 * 16 MiB) comes from a pool with a cap, shared by a worker's decoders; a decoder that cannot
 * get memory stops with LW_DECOMP_NOMEM. Nothing is held beyond one 16 KiB output block.
 */
#ifndef LW_DECOMPRESS_H
#define LW_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leakwatch/counters.h"

#define LW_DECOMP_MAX_STAGES 3
#define LW_DECOMP_MAX_RATIO 250
#define LW_DECOMP_RATIO_FLOOR (1u << 20) /* the ratio is judged past 1 MiB decoded */
#define LW_DECOMP_POOL_DEFAULT (256ull << 20)

#define LW_DECOMP_COUNTERS(X, P)                                                                   \
    X(P, bodies)           /* encoded bodies being decoded */                                      \
    X(P, encoded_bytes)    /* bytes given to the decoders */                                       \
    X(P, decoded_bytes)    /* bytes they produced (handed on to be scanned) */                     \
    X(P, unknown_encoding) /* bodies with a Content-Encoding not decoded (compress, zstd, ...) */  \
    X(P, corrupt)          /* bodies whose compressed data was invalid: decoding stopped */        \
    X(P, truncated)        /* bodies that ended before their compressed stream did */              \
    X(P, limit)            /* bodies stopped at decode.max_decoded_mb (guard) */                   \
    X(P, ratio)            /* bodies stopped at the compression-ratio ceiling (guard) */           \
    X(P, nomem)            /* bodies stopped because the decoder memory pool was exhausted */
LW_COUNTER_BLOCK(decomp, DECOMP, LW_DECOMP_COUNTERS)

enum lw_cenc { LW_CENC_GZIP = 1, LW_CENC_DEFLATE, LW_CENC_BR };

enum lw_decomp_status {
    LW_DECOMP_OK = 0,
    LW_DECOMP_DONE,    /* the compressed stream ended (trailing bytes ignored) */
    LW_DECOMP_CORRUPT, /* invalid data */
    LW_DECOMP_LIMIT,   /* the budget was reached */
    LW_DECOMP_RATIO,   /* the ratio ceiling was reached */
    LW_DECOMP_NOMEM,   /* the pool said no */
};

/* Memory for decoders, one per worker (not thread-safe), capped at cap bytes. */
typedef struct lw_decomp_pool {
    uint64_t cap, used, peak;
} lw_decomp_pool;

/* Parses a Content-Encoding value into the decoding order (last listed first). Returns the
 * number of stages (0 for identity), or -1 when an encoding is not one of ours. */
int lw_cenc_parse(const char *value, enum lw_cenc out[LW_DECOMP_MAX_STAGES]);
/* "gzip", "deflate", "br" */
const char *lw_cenc_name(enum lw_cenc e);

typedef struct lw_decomp lw_decomp;
typedef void (*lw_decomp_out_fn)(void *user, const uint8_t *data, size_t len);

/* NULL if out of memory (counted as nomem by the caller). */
lw_decomp *lw_decomp_new(const enum lw_cenc *stages, int n, lw_decomp_pool *pool);
/* Feeds encoded bytes; decoded bytes go to out in blocks. *budget is decreased by what was
 * decoded. Once a status other than OK is returned, further calls return it again. */
enum lw_decomp_status lw_decomp_data(lw_decomp *d, const uint8_t *in, size_t len, uint64_t *budget,
                                     lw_decomp_out_fn out, void *user);
/* true if the compressed stream ended properly. */
bool lw_decomp_finished(const lw_decomp *d);
uint64_t lw_decomp_decoded(const lw_decomp *d);
void lw_decomp_free(lw_decomp *d);

#endif
