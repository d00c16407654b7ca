/*
 * test_imap.c — the IMAP client reader: APPEND and MULTIAPPEND message literals reach the
 * content sink with their raw offsets, other literals are skipped, any split gives the same
 * result, STARTTLS and gaps end what is read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "leakwatch/imap.h"

#define MAX_MSG 4

typedef struct rec {
    int n, open;
    char msg[MAX_MSG][512];
    size_t len[MAX_MSG];
    uint64_t first_raw[MAX_MSG];
    const char *input; /* to check raw offsets against */
} rec;

static void r_begin(void *user)
{
    rec *r = user;
    assert_int_equal(r->open, 0);
    assert_true(r->n < MAX_MSG);
    r->open = 1;
    r->len[r->n] = 0;
    r->first_raw[r->n] = UINT64_MAX;
}

static void r_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    rec *r = user;
    assert_int_equal(r->open, 1);
    assert_true(r->len[r->n] + len < sizeof(r->msg[0]));
    assert_memory_equal(r->input + raw, data, len); /* the raw offsets are the stream's */
    if (r->first_raw[r->n] == UINT64_MAX) r->first_raw[r->n] = raw;
    memcpy(r->msg[r->n] + r->len[r->n], data, len);
    r->len[r->n] += len;
}

static void r_end(void *user)
{
    rec *r = user;
    assert_int_equal(r->open, 1);
    r->msg[r->n][r->len[r->n]] = '\0';
    r->open = 0;
    r->n++;
}

static void run(const char *stream, size_t chunk, rec *r, lw_imap_counters *ctr)
{
    memset(r, 0, sizeof(*r));
    memset(ctr, 0, sizeof(*ctr));
    r->input = stream;
    lw_smtp_content c = {r_begin, r_data, r_end, r};
    lw_imap *m = lw_imap_new(&c, ctr);
    assert_non_null(m);
    size_t n = strlen(stream);
    for (size_t off = 0; off < n; off += chunk)
        lw_imap_client_data(m, (const uint8_t *)stream + off, n - off < chunk ? n - off : chunk,
                            off);
    lw_imap_end(m);
    assert_int_equal(r->open, 0);
    lw_imap_free(m);
}

static const char session[] = "a1 LOGIN {4}\r\nuser {6+}\r\nsecret\r\n"
                              "a2 APPEND Sent (\\Seen) {35}\r\n"
                              "Subject: x\r\n\r\nVIN 1M8GDM9AXKP042788\r\n"
                              "a3 APPEND Drafts {5+}\r\nhello {3}\r\nbye\r\n"
                              "a4 NOOP\r\n";

static void test_append_and_multiappend(void **state)
{
    (void)state;
    for (size_t chunk = 1; chunk <= 64; chunk = chunk * 2 + 1) {
        rec r;
        lw_imap_counters ctr;
        run(session, chunk, &r, &ctr);
        assert_int_equal(r.n, 3);
        assert_string_equal(r.msg[0], "Subject: x\r\n\r\nVIN 1M8GDM9AXKP042788");
        assert_string_equal(r.msg[1], "hello");
        assert_string_equal(r.msg[2], "bye");
        assert_int_equal(r.first_raw[0], strstr(session, "Subject") - session);
        assert_int_equal(ctr.c[LW_IMAP_appends], 3);
        assert_int_equal(ctr.c[LW_IMAP_literals_skipped], 2); /* LOGIN's user and password */
        assert_int_equal(ctr.c[LW_IMAP_commands], 4);
    }
}

static void test_starttls(void **state)
{
    (void)state;
    rec r;
    lw_imap_counters ctr;
    run("a1 STARTTLS\r\na2 APPEND x {3}\r\nabc\r\n", 7, &r, &ctr);
    assert_int_equal(r.n, 0);
    assert_int_equal(ctr.c[LW_IMAP_starttls], 1);
}

static void test_gap_ends_message(void **state)
{
    (void)state;
    rec r = {0};
    lw_imap_counters ctr = {{0}};
    /* the stream; the 40 bytes after the first line's piece are lost */
    const char *all = "a1 APPEND x {100}\r\nSubject: y\r\n"
                      "....................lost...............junk\r\na2 APPEND x {2}\r\nok\r\n";
    size_t first = strlen("a1 APPEND x {100}\r\nSubject: y\r\n"), resume = first + 40;
    r.input = all;
    lw_smtp_content c = {r_begin, r_data, r_end, &r};
    lw_imap *m = lw_imap_new(&c, &ctr);
    assert_non_null(m);
    lw_imap_client_data(m, (const uint8_t *)all, first, 0);
    lw_imap_gap(m);
    assert_int_equal(r.n, 1); /* ended at the gap */
    assert_string_equal(r.msg[0], "Subject: y\r\n");
    /* after the gap: resynchronised at the next line end, then commands are read again */
    lw_imap_client_data(m, (const uint8_t *)all + resume, strlen(all) - resume, resume);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.msg[1], "ok");
    lw_imap_free(m);
}

static void test_bad_literal_and_long_line(void **state)
{
    (void)state;
    rec r;
    lw_imap_counters ctr;
    run("a1 APPEND x {99999999999}\r\nabc\r\n", 5, &r, &ctr);
    assert_int_equal(r.n, 0);
    assert_int_equal(ctr.c[LW_IMAP_bad_literal], 1);
    char *big = malloc(LW_IMAP_LINE_MAX * 2 + 64);
    assert_non_null(big);
    memset(big, 'x', LW_IMAP_LINE_MAX * 2);
    strcpy(big + LW_IMAP_LINE_MAX * 2, "\r\na2 APPEND y {2}\r\nhi\r\n");
    run(big, 1000, &r, &ctr);
    assert_int_equal(ctr.c[LW_IMAP_long_lines], 1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.msg[0], "hi");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_multiappend),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_gap_ends_message),
        cmocka_unit_test(test_bad_literal_and_long_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
