/*
 * spsc_ring.c — single-producer/single-consumer record ring (see spsc_ring.h).
 *
 * Layout: each record is an 8-byte header {uint32 len, uint32 type} followed by len bytes,
 * padded to 8. A record never wraps: when it does not fit before the end of the buffer, a
 * padding record fills the rest and the record starts at offset 0.
 */
#include "spsc_ring.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REC_PAD 0xffffffffu
#define HDR 8u
#define SPINS 256

struct lw_ring {
    uint8_t *buf;
    uint64_t cap, mask;
    /* producer side */
    _Alignas(64) _Atomic uint64_t head;
    uint64_t reserved; /* bytes of the record being written (header included) */
    /* consumer side */
    _Alignas(64) _Atomic uint64_t tail;
    uint64_t peeked;
    /* sleeping */
    _Alignas(64) pthread_mutex_t lock;
    pthread_cond_t cond;
    _Atomic int sleepers;
};

static uint64_t align8(uint64_t v)
{
    return (v + 7) & ~(uint64_t)7;
}

lw_ring *lw_ring_new(size_t capacity)
{
    uint64_t cap = 4096;
    while (cap < capacity) cap <<= 1;
    lw_ring *r = calloc(1, sizeof(*r));
    if (!r) return NULL;
    r->buf = malloc(cap);
    if (!r->buf) {
        free(r);
        return NULL;
    }
    r->cap = cap;
    r->mask = cap - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->sleepers, 0);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    return r;
}

void lw_ring_free(lw_ring *r)
{
    if (!r) return;
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r->buf);
    free(r);
}

static void wake(lw_ring *r)
{
    /* Orders the head/tail store before reading `sleepers` (Dekker-style with nap()). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->sleepers, memory_order_relaxed) == 0) return;
    pthread_mutex_lock(&r->lock);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* Sleeps briefly until `ready` may have changed; the timeout bounds any missed wake-up. */
static void nap(lw_ring *r, bool (*ready)(lw_ring *, uint64_t), uint64_t arg)
{
    for (int i = 0; i < SPINS; i++) {
        if (ready(r, arg)) return;
        if (i > 16) sched_yield();
    }
    pthread_mutex_lock(&r->lock);
    atomic_fetch_add(&r->sleepers, 1);
    if (!ready(r, arg)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&r->cond, &r->lock, &ts);
    }
    atomic_fetch_sub(&r->sleepers, 1);
    pthread_mutex_unlock(&r->lock);
}

static bool has_space(lw_ring *r, uint64_t need)
{
    uint64_t used = atomic_load_explicit(&r->head, memory_order_relaxed) -
                    atomic_load_explicit(&r->tail, memory_order_acquire);
    return r->cap - used >= need;
}

static bool has_data(lw_ring *r, uint64_t unused)
{
    (void)unused;
    return atomic_load_explicit(&r->head, memory_order_acquire) !=
           atomic_load_explicit(&r->tail, memory_order_relaxed);
}

static void write_hdr(lw_ring *r, uint64_t pos, uint32_t len, uint32_t type)
{
    uint32_t h[2] = {len, type};
    memcpy(r->buf + (pos & r->mask), h, HDR);
}

void *lw_ring_reserve(lw_ring *r, uint32_t len, uint32_t type, bool block)
{
    uint64_t total = align8(HDR + (uint64_t)len);
    if (total > r->cap / 4) return NULL;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t room_to_end = r->cap - (head & r->mask);
    uint64_t need = total + (room_to_end < total ? room_to_end : 0);
    while (!has_space(r, need)) {
        if (!block) return NULL;
        nap(r, has_space, need);
    }
    if (room_to_end < total) {
        /* pad to the end of the buffer and start the record at offset 0 */
        write_hdr(r, head, (uint32_t)(room_to_end - HDR), REC_PAD);
        head += room_to_end;
        atomic_store_explicit(&r->head, head, memory_order_release);
    }
    write_hdr(r, head, len, type);
    r->reserved = total;
    return r->buf + (head & r->mask) + HDR;
}

void lw_ring_commit(lw_ring *r)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + r->reserved, memory_order_release);
    r->reserved = 0;
    wake(r);
}

const void *lw_ring_peek(lw_ring *r, uint32_t *len, uint32_t *type)
{
    for (;;) {
        while (!has_data(r, 0)) nap(r, has_data, 0);
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        uint32_t h[2];
        memcpy(h, r->buf + (tail & r->mask), HDR);
        if (h[1] == REC_PAD) {
            atomic_store_explicit(&r->tail, tail + HDR + h[0], memory_order_release);
            wake(r);
            continue;
        }
        *len = h[0];
        *type = h[1];
        r->peeked = align8(HDR + (uint64_t)h[0]);
        return r->buf + (tail & r->mask) + HDR;
    }
}

void lw_ring_release(lw_ring *r)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + r->peeked, memory_order_release);
    r->peeked = 0;
    wake(r);
}
