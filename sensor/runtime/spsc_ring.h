/*
 * spsc_ring.h — a bounded single-producer/single-consumer queue of variable-length records.
 *
 * The capture thread is the only producer of a worker's ring and the worker the only consumer,
 * so a record is published with one release store and no lock is taken on the packet path.
 * A full ring either blocks the producer (offline: nothing may be lost) or refuses the record
 * (live: the caller drops and counts it, capture never stalls). Sleeping uses a condition
 * variable only when a side has nothing to do.
 */
#ifndef LW_SPSC_RING_H
#define LW_SPSC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lw_ring lw_ring;

/* capacity is rounded up to a power of two (bytes). */
lw_ring *lw_ring_new(size_t capacity);
void lw_ring_free(lw_ring *r);

/* Producer: space for a record of len bytes, or NULL if it does not fit and !block.
 * Records larger than a quarter of the ring are refused (NULL). */
void *lw_ring_reserve(lw_ring *r, uint32_t len, uint32_t type, bool block);
void lw_ring_commit(lw_ring *r);

/* Consumer: the next record (blocks until one is there); *len and *type describe it. */
const void *lw_ring_peek(lw_ring *r, uint32_t *len, uint32_t *type);
void lw_ring_release(lw_ring *r);

#endif
