/*
 * test_json.c — the JSON builder: structure, escaping, and valid UTF-8 for any bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "leakwatch/events.h"
#include "leakwatch/json.h"

static void test_structure(void **state)
{
    (void)state;
    lw_json j;
    lw_json_init(&j);
    lw_json_object_begin(&j);
    lw_json_kv_str(&j, "a", "x");
    lw_json_kv_u64(&j, "n", 18446744073709551615ull);
    lw_json_key(&j, "list");
    lw_json_array_begin(&j);
    lw_json_u64(&j, 1);
    lw_json_object_begin(&j);
    lw_json_kv_bool(&j, "t", true);
    lw_json_object_end(&j);
    lw_json_null(&j);
    lw_json_array_end(&j);
    lw_json_key(&j, "empty");
    lw_json_object_begin(&j);
    lw_json_object_end(&j);
    lw_json_object_end(&j);
    lw_json_end_line(&j);
    assert_string_equal(
        j.buf,
        "{\"a\":\"x\",\"n\":18446744073709551615,\"list\":[1,{\"t\":true},null],\"empty\":{}}\n");
    lw_json_reset(&j);
    lw_json_object_begin(&j);
    lw_json_kv_u64(&j, "k", 0);
    lw_json_object_end(&j);
    assert_string_equal(j.buf, "{\"k\":0}");
    lw_json_free(&j);
}

static const char *esc(const char *in, size_t n)
{
    static char out[256];
    lw_json_escape((const uint8_t *)in, n, out, sizeof(out));
    return out;
}

static void test_escaping(void **state)
{
    (void)state;
    assert_string_equal(esc("a\"b\\c", 5), "a\\\"b\\\\c");
    assert_string_equal(esc("\n\r\t", 3), "\\n\\r\\t");
    assert_string_equal(esc("\x01\x7f", 2), "\\u0001\\u007f");
    assert_string_equal(esc("nul\0x", 5), "nul\\u0000x");
    /* valid UTF-8 passes through: é, 車台番号, U+1F697 */
    assert_string_equal(esc("\xc3\xa9", 2), "\xc3\xa9");
    assert_string_equal(esc("\xe8\xbb\x8a\xe5\x8f\xb0", 6), "\xe8\xbb\x8a\xe5\x8f\xb0");
    assert_string_equal(esc("\xf0\x9f\x9a\x97", 4), "\xf0\x9f\x9a\x97");
    /* invalid: lone continuation, truncated sequence, overlong, surrogate, > U+10FFFF */
    assert_string_equal(esc("\x80", 1), "\\u0080");
    assert_string_equal(esc("\xe8\xbb", 2), "\\u00e8\\u00bb");
    assert_string_equal(esc("\xc0\xaf", 2), "\\u00c0\\u00af");
    assert_string_equal(esc("\xed\xa0\x80", 3), "\\u00ed\\u00a0\\u0080");
    assert_string_equal(esc("\xf4\x90\x80\x80", 4), "\\u00f4\\u0090\\u0080\\u0080");
    assert_string_equal(esc("\xff", 1), "\\u00ff");
}

/* Every byte string, escaped, is valid UTF-8 with no raw control characters. */
static void test_any_bytes_valid_utf8(void **state)
{
    (void)state;
    uint8_t in[64];
    char out[64 * 6 + 1];
    uint32_t seed = 12345;
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % 64);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (uint8_t)(seed >> 16);
        }
        size_t len = lw_json_escape(in, n, out, sizeof(out));
        assert_true(len < sizeof(out));
        for (size_t i = 0; i < len;) {
            uint8_t c = (uint8_t)out[i];
            assert_true(c >= 0x20);
            assert_true(c != 0x7f);
            if (c < 0x80) {
                i++;
                continue;
            }
            size_t l = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            assert_true(c >= 0xc2 && c <= 0xf4);
            assert_true(i + l <= len);
            for (size_t k = 1; k < l; k++) assert_true(((uint8_t)out[i + k] & 0xc0) == 0x80);
            i += l;
        }
    }
}

static void test_timestamp(void **state)
{
    (void)state;
    char ts[LW_TIMESTAMP_LEN];
    lw_event_timestamp(1714557600123456ull, ts);
    assert_string_equal(ts, "2024-05-01T10:00:00.123456+0000");
    lw_event_timestamp(0, ts);
    assert_string_equal(ts, "1970-01-01T00:00:00.000000+0000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_any_bytes_valid_utf8),
        cmocka_unit_test(test_timestamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
