/*
 * test_http_request.c — the first request line and Host header as sent, for http.url and
 * http.hostname: ports, IPv6 literals, bare LF, absolute and authority forms, cut requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "leakwatch/http_request.h"

static void check(const char *req, const char *target, const char *host)
{
    char *t, *h;
    bool ok = lw_http_first_request((const uint8_t *)req, strlen(req), &t, &h);
    assert_int_equal(ok, target != NULL);
    if (target)
        assert_string_equal(t, target);
    else
        assert_null(t);
    if (host)
        assert_string_equal(h, host);
    else
        assert_null(h);
    free(t);
    free(h);
}

static void test_forms(void **state)
{
    (void)state;
    check("GET /a?b=1 HTTP/1.1\r\nHost: WWW.Example.COM:8080\r\n\r\n", "/a?b=1", "WWW.Example.COM");
    check("GET / HTTP/1.1\nHost: example.org\n\n", "/", "example.org"); /* bare LF */
    check("GET / HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n", "/", "[::1]");
    check("CONNECT apache.org:443 HTTP/1.1\r\nHost: apache.org:443\r\n\r\n", "apache.org:443",
          "apache.org");
    check("GET http://proxy.example/x HTTP/1.0\r\nUser-Agent: t\r\n\r\n", "http://proxy.example/x",
          NULL);
    check("POST /upload HTTP/1.1\r\nhost:   spaced.example  \r\n", "/upload", "spaced.example");
}

static void test_not_a_request(void **state)
{
    (void)state;
    check("HTTP/1.1 200 OK\r\n\r\n", NULL, NULL);                /* a response */
    check("GET /cut-before-the-end", NULL, NULL);                /* no line end in the segment */
    check("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\n", NULL, NULL); /* TLS */
    check("GET / FTP/1.0\r\n", NULL, NULL);
    check("GET  / HTTP/1.1\r\n", NULL, NULL); /* empty target */
}

static void test_long_target_is_cut(void **state)
{
    (void)state;
    size_t n = LW_HTTP_FIELD_MAX + 500;
    char *req = malloc(n + 64);
    strcpy(req, "GET /");
    memset(req + 5, 'a', n);
    strcpy(req + 5 + n, " HTTP/1.1\r\n\r\n");
    char *t, *h;
    assert_true(lw_http_first_request((const uint8_t *)req, strlen(req), &t, &h));
    assert_int_equal(strlen(t), LW_HTTP_FIELD_MAX);
    assert_null(h);
    free(t);
    free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_not_a_request),
        cmocka_unit_test(test_long_target_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
