/*
 * app_part.h — how application decoders hand on what they decoded.
 *
 * A decoder (HTTP body, MIME part, base64 run, ...) emits "parts": a begin naming the part's
 * layer (the decoding path, as `match.layer` reports it, e.g. "smtp.mime.attachment/base64"),
 * then its decoded bytes in order, then an end. Each part is scanned as a context of its own:
 * nothing matches across two parts.
 *
 * raw_offset ties decoded bytes to the raw TCP stream: when data[0..len) are exactly the raw
 * stream's bytes at raw_offset (an identity body, a chunk of a chunked body, a 7bit MIME part),
 * the decoder passes that offset; otherwise LW_NO_RAW. `identity` says the part's bytes are all
 * raw bytes AND the raw stream scan already sees them contiguously, so they need no second
 * scan (only their raw offsets get the part's layer name).
 */
#ifndef LW_APP_PART_H
#define LW_APP_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_NO_RAW UINT64_MAX
#define LW_LAYER_MAX 96     /* longest layer name kept, NUL included (longer ones are cut) */
#define LW_FILENAME_MAX 256 /* longest file name kept, NUL included (longer ones are cut) */

/* What the part's text is, so derived decoders know what to undo. */
enum lw_text_kind {
    LW_TEXT_OTHER = 0, /* any other content: only base64 runs are looked for */
    LW_TEXT_FORM,      /* application/x-www-form-urlencoded or a URL query: percent-decoded */
    LW_TEXT_JSON,      /* JSON: \uXXXX and other string escapes undone */
    /* header text: as OTHER, but base64 the header's decoder decodes itself (after "Basic ",
     * inside RFC 2047 "?B?" encoded-words) is not sought again, so it keeps that layer */
    LW_TEXT_HEADER,
};

typedef struct lw_part_info {
    const char *layer;    /* full layer name; valid during begin only (copy it) */
    const char *filename; /* decoded file name of the part, or NULL; valid during begin only */
    bool identity;        /* see above */
    enum lw_text_kind kind;
    bool opaque; /* media content (image, audio, video, font): no derived layers are sought */
} lw_part_info;

typedef struct lw_part_sink {
    void (*begin)(void *user, const lw_part_info *info);
    void (*data)(void *user, const uint8_t *data, size_t len, uint64_t raw_offset);
    void (*end)(void *user);
    /* A guard was hit (depth, size, ratio): kind is a short snake_case name, message says what
     * happened. Decoding of that part stops; the raw stream is still scanned. May be NULL. */
    void (*guard)(void *user, const char *kind, const char *message);
    /* A new message (HTTP message, mail) begins: a value seen in several layers of one message
     * is counted once. May be NULL; decoders of parts inside a message do not call it. */
    void (*message)(void *user);
    void *user;
} lw_part_sink;

#endif
