/*
 * mime.h — a push-style MIME engine (RFC 2045-2047, 2183, 2231 file names): one message (SMTP
 * DATA or BDAT content, IMAP APPEND literal) or one multipart body (HTTP multipart/form-data),
 * fed in pieces of any size, emitted as parts (app_part.h).
 *
 * For each leaf part the engine emits one part named
 *   PREFIX ".attachment" or PREFIX ".body"   (attachment: Content-Disposition attachment, or a
 *                                             file name / form-data filename is given)
 *   + "/base64" or "/quoted-printable"       (when that transfer encoding is undone)
 * with its decoded bytes, its file name (Content-Disposition filename / filename*, or
 * Content-Type name, RFC 2047/2231-decoded), identity = (7bit/8bit/binary and the input bytes
 * were raw), and kind FORM/JSON/OTHER from its Content-Type. Each header block is also emitted
 * as an identity part PREFIX ".header" (raw offsets, so values in headers get that layer), and,
 * when it held RFC 2047 encoded-words, their decoded text as PREFIX ".header/rfc2047".
 * message/rfc822 parts are parsed as nested messages; multipart nesting deeper than max_depth
 * stops decoding below that depth (guard "mime_depth"; the content is still in the raw stream).
 * Header lines are collected up to LW_MIME_HEADER_MAX bytes (longer ones cut, counted).
 */
#ifndef LW_MIME_H
#define LW_MIME_H

#include "leakwatch/app_part.h"
#include "leakwatch/codec.h"
#include "leakwatch/counters.h"

#define LW_MIME_DEPTH_DEFAULT 16
#define LW_MIME_HEADER_MAX 4096 /* one (unfolded) header field */
#define LW_MIME_BOUNDARY_MAX 70 /* RFC 2046 */

#define LW_MIME_COUNTERS(X, P)                                                                     \
    X(P, messages)         /* messages / multipart bodies parsed */                                \
    X(P, parts)            /* leaf parts emitted */                                                \
    X(P, attachments)      /* of which attachments (with a file name or disposition) */            \
    X(P, depth_exceeded)   /* multipart nested deeper than max_depth (guard) */                    \
    X(P, header_too_long)  /* header fields cut at LW_MIME_HEADER_MAX */                           \
    X(P, bad_boundary)     /* multipart without a usable boundary (treated as one part) */         \
    X(P, unterminated)     /* multiparts that ended without their closing delimiter */             \
    X(P, unknown_encoding) /* Content-Transfer-Encoding values not known (passed as is) */
LW_COUNTER_BLOCK(mime, MIME, LW_MIME_COUNTERS)

typedef struct lw_mime lw_mime;

/* prefix: e.g. "smtp.mime" or "http.request.multipart" (copied). content_type NULL: the input
 * is a whole message starting with its headers; else it is the body of an entity whose
 * Content-Type header value is given (an HTTP multipart body: the boundary comes from it).
 * NULL if out of memory. */
lw_mime *lw_mime_new(const char *prefix, const char *content_type, uint32_t max_depth,
                     const lw_part_sink *sink, lw_mime_counters *ctr, lw_codec_counters *codec);
/* The next bytes of the message; raw_offset is the raw stream offset of data[0] or LW_NO_RAW
 * (then every part is non-identity). */
void lw_mime_data(lw_mime *m, const uint8_t *data, size_t len, uint64_t raw_offset);
/* End of the message: every open part ends. */
void lw_mime_end(lw_mime *m);
void lw_mime_free(lw_mime *m);

#endif
