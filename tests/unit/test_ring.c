/*
 * test_ring.c — the capture→worker ring: FIFO order, wrap-around with padding records,
 * blocking and non-blocking producers, across two real threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "runtime/spsc_ring.h"

#define N_RECORDS 200000

static void *consumer(void *arg)
{
    lw_ring *r = arg;
    uint64_t expect = 0;
    for (;;) {
        uint32_t len, type;
        const uint8_t *p = lw_ring_peek(r, &len, &type);
        if (type == 2) {
            lw_ring_release(r);
            break;
        }
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        if (v != expect || len != 8 + (v % 700)) return (void *)1;
        for (uint32_t i = 8; i < len; i++)
            if (p[i] != (uint8_t)(v + i)) return (void *)1;
        expect++;
        lw_ring_release(r);
    }
    return expect == N_RECORDS ? NULL : (void *)1;
}

static void test_two_threads_fifo(void **state)
{
    (void)state;
    lw_ring *r = lw_ring_new(8192); /* small: forces many wraps and full-ring waits */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, consumer, r), 0);
    for (uint64_t v = 0; v < N_RECORDS; v++) {
        uint32_t len = 8 + (uint32_t)(v % 700);
        uint8_t *p = lw_ring_reserve(r, len, 1, true);
        assert_non_null(p);
        memcpy(p, &v, sizeof(v));
        for (uint32_t i = 8; i < len; i++) p[i] = (uint8_t)(v + i);
        lw_ring_commit(r);
    }
    assert_non_null(lw_ring_reserve(r, 0, 2, true));
    lw_ring_commit(r);
    void *res;
    pthread_join(t, &res);
    assert_null(res);
    lw_ring_free(r);
}

static void test_nonblocking_full_and_oversize(void **state)
{
    (void)state;
    lw_ring *r = lw_ring_new(4096);
    assert_null(lw_ring_reserve(r, 2000, 1, false)); /* over a quarter of the ring */
    int pushed = 0;
    while (lw_ring_reserve(r, 500, 1, false)) {
        lw_ring_commit(r);
        pushed++;
    }
    assert_int_equal(pushed, 4096 / 512);
    uint32_t len, type;
    lw_ring_peek(r, &len, &type);
    assert_int_equal(len, 500);
    lw_ring_release(r);
    assert_non_null(lw_ring_reserve(r, 500, 1, false)); /* room again after one release */
    lw_ring_commit(r);
    lw_ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_threads_fifo),
        cmocka_unit_test(test_nonblocking_full_and_oversize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
