/*
 * derive.h — layers derived from decoded text: percent-decoded forms and queries
 * ("<layer>/urlencoded"), unescaped JSON ("<layer>/json"), and base64 runs of a useful length
 * found inside any of them ("<layer>/base64", or "<layer>/json/base64" when found in the
 * unescaped JSON), each run a part of its own.
 *
 * The text sub-layer is emitted only once its decoder changed a byte: it then starts with up
 * to LW_DERIVE_CONTEXT bytes of the text before that change (so a value straddling the first
 * escape is whole in it) and goes on to the end of the parent part. Base64 runs are looked for
 * in the decoded text (after percent/JSON decoding); a run of at least min_b64 base64
 * characters (not counting '=') is decoded, and its part is emitted only when its first
 * decoded bytes are mostly printable text (UTF-8 or ASCII): keys, hashes and compressed
 * blobs are not text. A run is a context of its own and ends at the first byte outside the
 * base64 alphabets.
 */
#ifndef LW_DERIVE_H
#define LW_DERIVE_H

#include "leakwatch/app_part.h"
#include "leakwatch/codec.h"
#include "leakwatch/counters.h"

#define LW_DERIVE_CONTEXT 256  /* bytes of text before the first change, replayed */
#define LW_DERIVE_B64_MIN 16   /* default shortest base64 run decoded, in characters */
#define LW_DERIVE_B64_PROBE 48 /* decoded bytes judged for "is text" before emitting */

#define LW_DERIVE_COUNTERS(X, P)                                                                   \
    X(P, text_parts)   /* sub-layers emitted (percent or JSON decoding changed something) */       \
    X(P, b64_runs)     /* base64 runs decoded and emitted as parts */                              \
    X(P, b64_not_text) /* runs whose decoded bytes were not text (not emitted) */                  \
    X(P, b64_short)    /* alphabet runs shorter than min_b64 (ignored) */                          \
    X(P, b64_bytes)    /* decoded bytes emitted from base64 runs */
LW_COUNTER_BLOCK(derive, DERIVE, LW_DERIVE_COUNTERS)

typedef struct lw_derive lw_derive;

/* text: where the urlencoded/json sub-layer goes; b64: where base64 runs go. The two sinks
 * are independent (a run can be emitted while the text sub-layer is open). min_b64 0 means
 * LW_DERIVE_B64_MIN; b64 runs are not looked for when find_b64 is false. NULL if out of
 * memory. Counters are added into *ctr and *codec (which must outlive the deriver). */
lw_derive *lw_derive_new(const lw_part_sink *text, const lw_part_sink *b64, bool find_b64,
                         size_t min_b64, lw_derive_counters *ctr, lw_codec_counters *codec);
/* A parent part begins; layer is copied. */
void lw_derive_begin(lw_derive *d, const char *layer, const char *filename, enum lw_text_kind kind);
void lw_derive_data(lw_derive *d, const uint8_t *data, size_t len);
/* The parent part ends: open sub-parts and runs end. Also safe without an open part. */
void lw_derive_end(lw_derive *d);
void lw_derive_free(lw_derive *d);

#endif
