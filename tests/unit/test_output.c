/*
 * test_output.c — the output queue (sensor/output/output.c) with a fake sink: a full queue
 * drops and counts, events arrive in order, a failing sink is retried and then delivered,
 * what is left at close is counted as dropped_at_exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/sink.h"

typedef struct fake_sink {
    lw_sink base;
    pthread_mutex_t lock;
    bool blocked;      /* write waits while set */
    int fail_writes;   /* the next N writes fail */
    int fail_opens;    /* the next N opens fail */
    bool down_forever; /* every open fails */
    char got[4096][32];
    size_t n_got;
} fake_sink;

static bool fake_open(lw_sink *s, char *err, size_t errlen)
{
    fake_sink *f = (fake_sink *)s;
    pthread_mutex_lock(&f->lock);
    bool ok = !f->down_forever && f->fail_opens <= 0;
    if (f->fail_opens > 0) f->fail_opens--;
    pthread_mutex_unlock(&f->lock);
    if (!ok) snprintf(err, errlen, "fake: down");
    return ok;
}

static size_t fake_write(lw_sink *s, const lw_sink_msg *m, size_t n, char *err, size_t errlen)
{
    fake_sink *f = (fake_sink *)s;
    for (;;) {
        pthread_mutex_lock(&f->lock);
        bool b = f->blocked;
        pthread_mutex_unlock(&f->lock);
        if (!b) break;
        usleep(1000);
    }
    pthread_mutex_lock(&f->lock);
    size_t done = n;
    if (f->fail_writes > 0) {
        f->fail_writes--;
        done = n / 2; /* half delivered, then the failure */
        snprintf(err, errlen, "fake: write failed");
    }
    for (size_t i = 0; i < done && f->n_got < 4096; i++) {
        size_t len = m[i].len < 31 ? m[i].len : 31;
        memcpy(f->got[f->n_got], m[i].data, len);
        f->got[f->n_got++][len] = 0;
    }
    pthread_mutex_unlock(&f->lock);
    return done;
}

static void fake_destroy(lw_sink *s)
{
    (void)s;
}

static const lw_sink_ops fake_ops = {
    .open = fake_open, .write = fake_write, .destroy = fake_destroy};

static fake_sink *fake_new(void)
{
    fake_sink *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->base.ops = &fake_ops;
    snprintf(f->base.desc, sizeof(f->base.desc), "fake");
    pthread_mutex_init(&f->lock, NULL);
    return f;
}

static void fake_free(fake_sink *f)
{
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static void put(lw_output *o, int i)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "{\"n\":%d}\n", i);
    lw_output_write(o, line, (size_t)n);
}

static void check_order(fake_sink *f, int first, size_t n)
{
    assert_int_equal(f->n_got, n);
    for (size_t i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof(want), "{\"n\":%d}\n", first + (int)i);
        assert_string_equal(f->got[i], want);
    }
}

static void test_in_order(void **state)
{
    (void)state;
    fake_sink *f = fake_new();
    char err[256];
    lw_output *o = lw_output_open_sink(&f->base, 10000, 0, err, sizeof(err));
    assert_non_null(o);
    for (int i = 0; i < 3000; i++) put(o, i);
    lw_output_flush(o);
    assert_int_equal(lw_output_events_written(o), 3000);
    lw_output_counters c;
    lw_output_get_counters(o, &c);
    assert_int_equal(c.queued, 3000);
    assert_int_equal(c.queue_depth, 0);
    assert_int_equal(c.dropped_queue_full, 0);
    lw_output_close(o);
    check_order(f, 0, 3000);
    fake_free(f);
}

static void test_full_queue_drops(void **state)
{
    (void)state;
    fake_sink *f = fake_new();
    f->blocked = true;
    char err[256];
    lw_output *o = lw_output_open_sink(&f->base, 100, 0, err, sizeof(err));
    assert_non_null(o);
    put(o, 0);
    usleep(50000); /* the thread takes event 0 and blocks in the sink */
    for (int i = 1; i <= 150; i++) put(o, i);
    lw_output_counters c;
    lw_output_get_counters(o, &c);
    /* event 0 is still queued (at the sink): 99 more fit */
    assert_int_equal(c.queued, 100);
    assert_int_equal(c.dropped_queue_full, 51);
    assert_int_equal(c.queue_max, 100);
    pthread_mutex_lock(&f->lock);
    f->blocked = false;
    pthread_mutex_unlock(&f->lock);
    lw_output_flush(o);
    lw_output_get_counters(o, &c);
    assert_int_equal(c.written, 100);
    lw_output_close(o);
    check_order(f, 0, 100);
    fake_free(f);
}

static void test_byte_cap(void **state)
{
    (void)state;
    fake_sink *f = fake_new();
    f->blocked = true;
    char err[256];
    lw_output *o = lw_output_open_sink(&f->base, 1000, 80, err, sizeof(err));
    assert_non_null(o);
    for (int i = 0; i < 20; i++) put(o, i); /* 8 or 9 bytes each */
    lw_output_counters c;
    lw_output_get_counters(o, &c);
    assert_true(c.queued >= 8 && c.queued <= 10);
    assert_int_equal(c.queued + c.dropped_queue_full, 20);
    pthread_mutex_lock(&f->lock);
    f->blocked = false;
    pthread_mutex_unlock(&f->lock);
    lw_output_close(o);
    lw_output_get_counters(NULL, &c);
    fake_free(f);
}

static void test_retry_then_delivered(void **state)
{
    (void)state;
    fake_sink *f = fake_new();
    f->fail_writes = 2;
    f->fail_opens = 1;
    char err[256];
    lw_output *o = lw_output_open_sink(&f->base, 10000, 0, err, sizeof(err));
    assert_non_null(o);
    for (int i = 0; i < 500; i++) put(o, i);
    /* the first open fails (queued anyway), then two writes fail half-way: three errors,
     * three reconnects, backoff 100 + 200 + 400 ms */
    for (int k = 0; k < 400 && lw_output_events_written(o) < 500; k++) usleep(10000);
    lw_output_counters c;
    lw_output_get_counters(o, &c);
    assert_int_equal(c.written, 500);
    assert_int_equal(c.write_errors, 3);
    assert_int_equal(c.reconnects, 3);
    lw_output_close(o);
    check_order(f, 0, 500); /* nothing lost, nothing twice, in order */
    fake_free(f);
}

static void test_unreachable_at_start(void **state)
{
    (void)state;
    fake_sink *f = fake_new();
    f->down_forever = true;
    char err[256];
    lw_output *o = lw_output_open_sink(&f->base, 10000, 0, err, sizeof(err));
    assert_non_null(o); /* not fatal: queued and retried */
    for (int i = 0; i < 10; i++) put(o, i);
    lw_output_flush(o); /* returns at once: the sink is down */
    lw_output_counters c;
    lw_output_get_counters(o, &c);
    assert_int_equal(c.written, 0);
    assert_int_equal(c.queue_depth, 10);
    lw_output_close(o); /* drains for 5 s, then counts the rest */
    assert_int_equal(f->n_got, 0);
    fake_free(f);
}

static void test_file_must_open(void **state)
{
    (void)state;
    char err[256] = "";
    lw_sink *s = lw_sink_file_new("/nonexistent-dir/x.json", err, sizeof(err));
    assert_non_null(s);
    lw_output *o = lw_output_open_sink(s, 10, 0, err, sizeof(err));
    assert_null(o);
    assert_non_null(strstr(err, "cannot open output /nonexistent-dir/x.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_full_queue_drops),
        cmocka_unit_test(test_byte_cap),
        cmocka_unit_test(test_retry_then_delivered),
        cmocka_unit_test(test_unreachable_at_start),
        cmocka_unit_test(test_file_must_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
