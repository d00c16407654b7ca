/*
 * mime_private.h — what the MIME engine (mime.c) and its header-field parser (mime_header.c)
 * share: the facts kept from one entity's header block (content type, boundary, transfer
 * encoding, disposition, file name) and the scratch room the parser decodes values in.
 */
#ifndef LW_MIME_PRIVATE_H
#define LW_MIME_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "leakwatch/mime.h"

enum lw_mime_enc { MIME_ENC_IDENTITY, MIME_ENC_BASE64, MIME_ENC_QP, MIME_ENC_UNKNOWN };
enum lw_mime_type { MIME_TYPE_LEAF, MIME_TYPE_MULTIPART, MIME_TYPE_MESSAGE };

typedef struct lw_mime_hdr {
    bool have_ctype, have_cte; /* the first of each field counts */
    enum lw_mime_type type;
    bool digest;       /* multipart/digest: its parts default to message/rfc822 */
    bool bad_boundary; /* multipart without a usable boundary parameter */
    char boundary[LW_MIME_BOUNDARY_MAX + 1];
    size_t boundary_len;
    enum lw_mime_enc enc;
    bool attachment; /* Content-Disposition: attachment */
    enum lw_text_kind kind;
    bool opaque;
    char filename[LW_FILENAME_MAX]; /* decoded, NUL-terminated; "" when none */
    int filename_rank; /* where it came from: filename* 4, filename 3, name* 2, name 1 */
} lw_mime_hdr;

/* Room for one parameter value and its decoded forms (kept off the stack). */
typedef struct lw_mime_scratch {
    char val[LW_MIME_HEADER_MAX + 1];
    uint8_t dec[LW_CODEC_OUT_MAX(LW_MIME_HEADER_MAX) + 8];
    char cont[LW_FILENAME_MAX]; /* RFC 2231 continuations (name*0, name*1, ...) joined */
} lw_mime_scratch;

/* Defaults for an entity: text/plain, or message/rfc822 inside a multipart/digest. */
void lw_mime_hdr_init(lw_mime_hdr *h, bool digest_child);
/* One unfolded header field (name without the colon, value without surrounding whitespace);
 * fields other than Content-Type, -Transfer-Encoding and -Disposition are ignored. */
void lw_mime_hdr_field(lw_mime_hdr *h, const char *name, size_t name_len, const char *value,
                       size_t value_len, lw_mime_scratch *s, lw_mime_counters *ctr,
                       lw_codec_counters *codec);

#endif
