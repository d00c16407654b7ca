/*
 * http.h — HTTP/1.x decoding of both directions of a flow (push-style, through Debian's
 * libhttp-parser): requests and responses, keep-alive and pipelining (a queue of request
 * methods tells which responses have no body), Content-Length, chunked and close-delimited
 * bodies, Content-Encoding (decompress.h), multipart bodies (mime.h), Authorization: Basic.
 *
 * What it emits per direction, as parts (app_part.h), with B = "http.request" (client to
 * server) or "http.response":
 *   "http.request.uri"        the request-target (identity; percent-decoded by the deriver)
 *   B ".header"               header values (identity)
 *   "http.request.header.authorization/base64"   Basic credentials, decoded
 *   B ".body" ["/gzip" ...]   the body; identity only when neither chunked nor encoded
 *   B ".multipart.*"          multipart bodies, through the MIME engine
 * A parse error, a gap, or a protocol switch (Upgrade, CONNECT) ends decoding of that
 * direction (counted); the raw stream is still scanned.
 */
#ifndef LW_HTTP_H
#define LW_HTTP_H

#include "leakwatch/app_part.h"
#include "leakwatch/codec.h"
#include "leakwatch/counters.h"
#include "leakwatch/decompress.h"
#include "leakwatch/mime.h"

#define LW_HTTP_METHOD_QUEUE 32  /* requests awaiting their response (pipelining) */
#define LW_HTTP_HEADER_KEEP 1024 /* longest Content-Type / Authorization value kept */

#define LW_HTTP_COUNTERS(X, P)                                                                     \
    X(P, requests)         /* request messages begun */                                            \
    X(P, responses)        /* response messages begun */                                           \
    X(P, parse_errors)     /* directions whose HTTP could not be parsed further (stopped) */       \
    X(P, gaps)             /* directions stopped by a gap in the stream */                         \
    X(P, upgrades)         /* directions stopped at a protocol switch (Upgrade, CONNECT) */        \
    X(P, header_cut)       /* kept header values cut at LW_HTTP_HEADER_KEEP */                     \
    X(P, method_overflow)  /* requests beyond the pipelining queue (their response assumed GET) */ \
    X(P, basic_auth)       /* Authorization: Basic credentials decoded */                          \
    X(P, bodies)           /* bodies with at least one byte */                                     \
    X(P, chunked_bodies)   /* of which chunked */                                                  \
    X(P, multipart_bodies) /* of which multipart (MIME engine) */
LW_COUNTER_BLOCK(http, HTTP, LW_HTTP_COUNTERS)

/* Everything the decoder reports into and draws from, owned by the worker. */
typedef struct lw_http_env {
    const lw_part_sink *sink[2]; /* per direction; NULL: that direction's parts are not wanted */
    uint64_t *budget[2];         /* decoded bytes each direction may still produce */
    lw_decomp_pool *pool;
    uint32_t mime_depth;
    lw_http_counters *http;
    lw_decomp_counters *decomp;
    lw_mime_counters *mime;
    lw_codec_counters *codec;
} lw_http_env;

typedef struct lw_http lw_http;

/* NULL if out of memory. env is copied. */
lw_http *lw_http_new(const lw_http_env *env);
/* The next contiguous bytes of direction dir (0 client to server), at raw stream offset. */
void lw_http_data(lw_http *h, int dir, const uint8_t *data, size_t len, uint64_t raw_offset);
/* Bytes are missing in direction dir: its decoding stops. */
void lw_http_gap(lw_http *h, int dir);
/* Direction dir ended (FIN or flow end): a close-delimited body ends, open parts end. */
void lw_http_end(lw_http *h, int dir);
/* Does direction dir still decode? */
bool lw_http_active(const lw_http *h, int dir);
void lw_http_free(lw_http *h);

/* Does a stream that starts with these bytes look like an HTTP request? */
bool lw_http_looks_like_request(const uint8_t *data, size_t len);

#endif
