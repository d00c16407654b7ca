/*
 * reasm_segments.c — the buffered out-of-order segment list of one TCP stream and its
 * charge against the memcap shared by all flows and workers.
 */
#include "reassembly/reasm_segments.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct lw_reasm_seg) <= LW_REASM_SEG_OVERHEAD,
               "segment header must fit in the per-segment overhead charged");

bool lw_reasm_mem_charge(lw_reasm_ctx *ctx, uint64_t n)
{
    if (!ctx->mem_in_use) return true;
    uint64_t cap = ctx->cfg.memcap_bytes;
    uint64_t cur = atomic_load_explicit(ctx->mem_in_use, memory_order_relaxed);
    /* A compare-exchange loop, so concurrent workers never push the total past the cap. */
    do {
        if (cap && (n > cap || cur > cap - n)) return false;
    } while (!atomic_compare_exchange_weak_explicit(ctx->mem_in_use, &cur, cur + n,
                                                    memory_order_relaxed, memory_order_relaxed));
    return true;
}

void lw_reasm_mem_release(lw_reasm_ctx *ctx, uint64_t n)
{
    if (ctx->mem_in_use && n) atomic_fetch_sub_explicit(ctx->mem_in_use, n, memory_order_relaxed);
}

lw_reasm_seg *lw_reasm_seg_new(uint64_t off, const uint8_t *data, uint32_t len)
{
    lw_reasm_seg *seg = malloc(sizeof(*seg) + len);
    if (!seg) return NULL;
    seg->prev = seg->next = NULL;
    seg->off = off;
    seg->len = len;
    memcpy(seg->data, data, len);
    return seg;
}

void lw_reasm_seg_link_before(lw_reasm_stream *s, lw_reasm_seg *next, lw_reasm_seg *seg)
{
    lw_reasm_seg *prev = next ? next->prev : s->segs_tail;
    seg->prev = prev;
    seg->next = next;
    if (prev)
        prev->next = seg;
    else
        s->segs = seg;
    if (next)
        next->prev = seg;
    else
        s->segs_tail = seg;
    s->nsegs++;
    s->buffered += seg->len;
}

void lw_reasm_seg_unlink(lw_reasm_stream *s, lw_reasm_seg *seg)
{
    if (seg->prev)
        seg->prev->next = seg->next;
    else
        s->segs = seg->next;
    if (seg->next)
        seg->next->prev = seg->prev;
    else
        s->segs_tail = seg->prev;
    seg->prev = seg->next = NULL;
    s->nsegs--;
    s->buffered -= seg->len;
}

void lw_reasm_seg_free(lw_reasm_ctx *ctx, lw_reasm_seg *seg)
{
    lw_reasm_mem_release(ctx, lw_reasm_seg_cost(seg->len));
    free(seg);
}

void lw_reasm_seg_truncate(lw_reasm_ctx *ctx, lw_reasm_stream *s, lw_reasm_seg *seg,
                           uint32_t new_len)
{
    if (new_len >= seg->len) return;
    uint32_t cut = seg->len - new_len;
    /* The allocation keeps its size; releasing the bytes keeps charge == free on exit. */
    lw_reasm_mem_release(ctx, cut);
    s->buffered -= cut;
    seg->len = new_len;
}

uint64_t lw_reasm_seg_free_all(lw_reasm_ctx *ctx, lw_reasm_stream *s)
{
    uint64_t bytes = 0;
    lw_reasm_seg *seg = s->segs;
    while (seg) {
        lw_reasm_seg *next = seg->next;
        bytes += seg->len;
        lw_reasm_seg_free(ctx, seg);
        seg = next;
    }
    s->segs = s->segs_tail = NULL;
    s->nsegs = 0;
    s->buffered = 0;
    return bytes;
}
