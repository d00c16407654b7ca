/*
 * test_smtp.c — SMTP client commands for the `smtp` event object: HELO/EHLO, MAIL FROM,
 * RCPT TO in any chunking, message content skipped (DATA, BDAT), STARTTLS, over-long lines,
 * gaps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "leakwatch/smtp.h"

static lw_smtp *feed(const char *text, size_t chunk)
{
    lw_smtp *s = lw_smtp_new();
    assert_non_null(s);
    size_t n = strlen(text);
    for (size_t off = 0; off < n; off += chunk)
        lw_smtp_client_bytes(s, (const uint8_t *)text + off, n - off < chunk ? n - off : chunk);
    return s;
}

static void test_transaction_any_chunking(void **state)
{
    (void)state;
    const char *text = "EHLO client.example\r\nMAIL FROM:<a@example.com> SIZE=100\r\n"
                       "RCPT TO:<b@example.org>\r\nrcpt to: c@example.net\r\nDATA\r\n"
                       "MAIL FROM:<not-a-command@x>\r\nRCPT TO:<inside@body>\r\n.\r\nQUIT\r\n";
    for (size_t chunk = 1; chunk <= strlen(text); chunk++) {
        lw_smtp *s = feed(text, chunk);
        assert_string_equal(s->helo, "client.example");
        assert_string_equal(s->mail_from, "a@example.com");
        assert_int_equal(s->n_rcpt, 2);
        assert_string_equal(s->rcpt[0], "b@example.org");
        assert_string_equal(s->rcpt[1], "c@example.net");
        assert_false(s->in_data);
        lw_smtp_free(s);
    }
}

static void test_bdat_and_starttls(void **state)
{
    (void)state;
    lw_smtp *s =
        feed("HELO h\r\nBDAT 20 LAST\r\nRCPT TO:<in@chunk>\r\nRCPT TO:<after@bdat>\r\n", 3);
    /* the 20 bytes after BDAT are content: "RCPT TO:<in@chunk>\r\n" */
    assert_int_equal(s->n_rcpt, 1);
    assert_string_equal(s->rcpt[0], "after@bdat");
    lw_smtp_free(s);
    s = feed("EHLO h\r\nSTARTTLS\r\nMAIL FROM:<hidden@tls>\r\n", 7);
    assert_true(s->tls);
    assert_null(s->mail_from);
    lw_smtp_free(s);
}

static void test_long_line_gap_and_cap(void **state)
{
    (void)state;
    char text[4000];
    memset(text, 'x', 3000);
    strcpy(text + 3000, "\r\nMAIL FROM:<after@long>\r\n");
    lw_smtp *s = feed(text, 100);
    assert_int_equal(s->long_lines, 1);
    assert_string_equal(s->mail_from, "after@long");
    lw_smtp_client_bytes(s, (const uint8_t *)"RCPT TO:<cut", 12);
    lw_smtp_gap(s); /* the rest of the line is lost */
    lw_smtp_client_bytes(s, (const uint8_t *)"by@gap>\r\nRCPT TO:<ok@x>\r\n", 25);
    assert_int_equal(s->n_rcpt, 1);
    assert_string_equal(s->rcpt[0], "ok@x");
    for (int i = 0; i < 20; i++) lw_smtp_client_bytes(s, (const uint8_t *)"RCPT TO:<r@x>\n", 14);
    assert_int_equal(s->n_rcpt, LW_SMTP_MAX_RCPT);
    assert_int_equal(s->rcpt_over, 21 - LW_SMTP_MAX_RCPT);
    lw_smtp_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transaction_any_chunking),
        cmocka_unit_test(test_bdat_and_starttls),
        cmocka_unit_test(test_long_line_gap_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
