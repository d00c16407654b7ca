/*
 * reasm_segments.h — private to TCP reassembly: the buffered out-of-order segment list
 * of one stream and the memory it charges to the shared memcap.
 *
 * The list is doubly linked and sorted by stream offset; segments never overlap and all
 * start beyond the stream's next_off. Each segment charges its length plus
 * LW_REASM_SEG_OVERHEAD to *ctx->mem_in_use, and releases exactly that when freed.
 */
#ifndef LW_REASM_SEGMENTS_H
#define LW_REASM_SEGMENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "leakwatch/reassembly.h"

/* Memory charged per buffered segment on top of its bytes: the header below plus what
 * malloc keeps per block. A constant so the memcap arithmetic is predictable. */
#define LW_REASM_SEG_OVERHEAD 64u

/* Per-stream cap on buffered out-of-order bytes. When a hole keeps more than this waiting
 * behind it, the hole is declared a gap and the buffered data is delivered. 2 MiB covers
 * more than a full window of a fast long-distance connection between two ACK-visible
 * losses; anything waiting longer is capture loss. */
#define LW_REASM_WINDOW_BYTES (2u * 1024u * 1024u)

/* Per-stream cap on the number of buffered segments: keeps the sorted insert (a list walk)
 * cheap when a peer sends many tiny segments. 4096 full-size segments exceed the window
 * cap anyway, so only tiny-segment streams ever hit this; they get a gap as above. */
#define LW_REASM_MAX_SEGS 4096u

/* Sequence numbers further than this from next_seq (either way) are not this stream. */
#define LW_REASM_MAX_DISTANCE (1u << 30)

struct lw_reasm_seg {
    lw_reasm_seg *prev, *next;
    uint64_t off; /* stream offset of data[0] */
    uint32_t len;
    uint8_t data[];
};

/* Memory a segment of len bytes charges. */
static inline uint64_t lw_reasm_seg_cost(uint32_t len)
{
    return (uint64_t)len + LW_REASM_SEG_OVERHEAD;
}

/* Allocate a segment holding a copy of data. Its cost must already be charged; NULL if
 * malloc fails (the caller releases the charge). */
lw_reasm_seg *lw_reasm_seg_new(uint64_t off, const uint8_t *data, uint32_t len);

/* Link seg into s before `next` (NULL = at the tail) and account its bytes in s. */
void lw_reasm_seg_link_before(lw_reasm_stream *s, lw_reasm_seg *next, lw_reasm_seg *seg);

/* Unlink seg from s (its bytes leave s->buffered); the caller still owns it. */
void lw_reasm_seg_unlink(lw_reasm_stream *s, lw_reasm_seg *seg);

/* Free an unlinked segment and release its charge. */
void lw_reasm_seg_free(lw_reasm_ctx *ctx, lw_reasm_seg *seg);

/* Shorten the last bytes of a linked segment to new_len (< len), releasing the difference. */
void lw_reasm_seg_truncate(lw_reasm_ctx *ctx, lw_reasm_stream *s, lw_reasm_seg *seg,
                           uint32_t new_len);

/* Free every segment of s; returns the number of bytes they held. */
uint64_t lw_reasm_seg_free_all(lw_reasm_ctx *ctx, lw_reasm_stream *s);

#endif
