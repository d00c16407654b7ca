/*
 * test_validate.c — unit tests for the built-in validators (sensor/validate): published
 * examples for every validator, each row saying where it comes from, the near misses around
 * them, and a mutation/random-bytes loop run under the sanitizers. Every candidate is copied
 * into a heap block of exactly its length (no NUL), so a read past n is an ASan error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "leakwatch/validate.h"

typedef bool (*plain_fn)(const uint8_t *s, size_t n);

typedef struct row {
    const char *s;
    bool ok;
} row;

/* s in a block of exactly strlen(s) bytes; free with free(). */
static uint8_t *exact(const char *s, size_t *n)
{
    *n = strlen(s);
    uint8_t *p = malloc(*n ? *n : 1);
    assert_non_null(p);
    memcpy(p, s, *n);
    return p;
}

static bool run(plain_fn fn, const char *s)
{
    size_t n;
    uint8_t *p = exact(s, &n);
    bool r = fn(p, n);
    free(p);
    return r;
}

static void check_rows(const char *what, plain_fn fn, const row *rows, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        bool got = run(fn, rows[i].s);
        if (got != rows[i].ok)
            fail_msg("%s(\"%s\") = %s, expected %s", what, rows[i].s, got ? "true" : "false",
                     rows[i].ok ? "true" : "false");
    }
}

#define CHECK_ROWS(fn, rows) check_rows(#fn, fn, rows, sizeof(rows) / sizeof(rows[0]))

/* ---- VIN ---- */

static const row vin_rows[] = {
    /* Wikipedia "Vehicle identification number", check-digit worked example (X) */
    {"1M8GDM9AXKP042788", true},
    /* all ones: check digit 89 mod 11 = 1 (the classic degenerate valid VIN) */
    {"11111111111111111", true},
    /* Honda Accord, a VIN used as the valid case by many public VIN validator test suites */
    {"JHMCM56557C404453", true},
    /* Honda Accord, the usual VIN-decoder example */
    {"1HGCM82633A004352", true},
    /* Nissan Altima of Wikipedia's "Mohamed Atta" article (NA, check digit 8) */
    {"1N4DL01D81C212547", true},
    /* VW Golf IV, the textbook European VIN (WMI WVW, 'Z' filler, no check digit) */
    {"WVWZZZ1JZXW000001", true},
    /* VW Tiguan, European VIN from public VIN validator tests */
    {"WVGZZZCAZJC520863", true},
    /* Fiat Qubo from mechanics.stackexchange.com q/64945: '0' at position 10 is legal in
     * Europe (ISO 3779 has no mandatory model year), so Europe skips that rule */
    {"ZFA22500000138627", true},

    /* wrong check digits (North America requires it) */
    {"1M8GDM9A1KP042788", false},
    {"11111111211111111", false},
    {"1HGCM82643A004352", false},
    /* I, O and Q never appear */
    {"1M8GDM9AXKP04278I", false},
    {"1M8GDM9AXKO042788", false},
    {"JHMCM56557Q404453", false},
    /* lower case is not a VIN */
    {"1m8gdm9axkp042788", false},
    /* model year U, Z and 0 are never used in North America (check digits recomputed) */
    {"1M8GDM9A6UP042788", false},
    {"1M8GDM9A7ZP042788", false},
    {"1M8GDM9A30P042788", false},
    /* last four characters must be numeric */
    {"WVWZZZ1JZXW00A001", false},
    {"WVWZZZ1JZXW0000A1", false},
    /* first character '0' is not allocated */
    {"0VWZZZ1JZXW000001", false},
    /* wrong length */
    {"1M8GDM9AXKP04278", false},
    {"1M8GDM9AXKP0427888", false},
    {"", false},
    {"1M8GDM9AXKP04278\xc3", false},
};

static void test_vin(void **state)
{
    (void)state;
    CHECK_ROWS(lw_validate_vin, vin_rows);
}

static void test_vin_check_digit(void **state)
{
    (void)state;
    assert_int_equal(lw_vin_check_digit((const uint8_t *)"1M8GDM9AXKP042788"), 'X');
    assert_int_equal(lw_vin_check_digit((const uint8_t *)"1M8GDM9A_KP042788"), 'X');
    assert_int_equal(lw_vin_check_digit((const uint8_t *)"11111111111111111"), '1');
    assert_int_equal(lw_vin_check_digit((const uint8_t *)"JHMCM56557C404453"), '5');
    /* position 9 of WVWZZZ1JZXW000001 is a 'Z' filler; the digit would have been 0 */
    assert_int_equal(lw_vin_check_digit((const uint8_t *)"WVWZZZ1JZXW000001"), '0');
    assert_int_equal(lw_vin_check_digit((const uint8_t *)"1M8GDM9AXKP04278O"), 0);
    assert_int_equal(lw_vin_check_digit((const uint8_t *)"1M8GDM9AXKP04278a"), 0);
    assert_int_equal(lw_vin_check_digit(NULL), 0);
}

/* ---- Luhn ---- */

static const row luhn_rows[] = {
    /* test card numbers published by Stripe / PayPal / Braintree */
    {"4111111111111111", true}, /* Visa */
    {"4012888888881881", true}, /* Visa */
    {"5555555555554444", true}, /* Mastercard */
    {"378282246310005", true},  /* American Express (15) */
    {"6011111111111117", true}, /* Discover */
    {"3530111333300000", true}, /* JCB */
    {"30569309025904", true},   /* Diners Club (14) */
    {"4111 1111 1111 1111", true},
    {"4111-1111-1111-1111", true},
    {"3782 822463 10005", true},

    {"4111111111111112", false}, /* last digit off by one */
    {"5555555555554445", false},
    {"378282246310006", false},
    {"4111  1111 1111 1111", false}, /* two separators in a row */
    {" 4111111111111111", false},    /* leading separator */
    {"4111111111111111-", false},    /* trailing separator */
    {"4111.1111.1111.1111", false},  /* not a separator */
    {"411111111111111a", false},     /* not a digit */
    {"00000000018", false},          /* 11 digits: passes Luhn, too short */
    {"42424242424242424242", false}, /* 20 digits */
    {"4111\xef\xbc\x91"
     "111111111111",
     false}, /* non-ASCII */
    {"", false},
};

static void test_luhn(void **state)
{
    (void)state;
    CHECK_ROWS(lw_validate_luhn, luhn_rows);
}

/* ---- AWS access key ids ---- */

typedef struct aws_row {
    const char *key;
    bool ok;
    const char *account;
} aws_row;

static const aws_row aws_rows[] = {
    /* Aidan Steele, "AWS Access Key ID formats" (2020): sts:GetAccessKeyInfo's answer */
    {"ASIAY34FZKBOKMUTVV7A", true, "609629065308"},
    /* psanford/aws-account-id-from-key README */
    {"ASIAVJ2E6QGR2WZILJFM", true, "364679954851"},
    /* the aws-account-id-from-key-id Rust crate's doc example */
    {"AKIASP2TPHJSQH3FJXYZ", true, "171436882533"},
    /* localstack's docstring: QAAAAAAA is account 000000000000 */
    {"ASIAQAAAAAAAGMKEM7X5", true, "000000000000"},
    /* interface.md's aws signature example (match) */
    {"AKIAQYLPMN5HHHFPZAM2", true, "052310077262"},
    /* AWS documentation's example key: legacy format ('I'), no account encoded */
    {"AKIAIOSFODNN7EXAMPLE", true, ""},
    /* legacy 'J' key (Aidan Steele's own AKIAJ... key) */
    {"AKIAJAAAAAAAAAAAAAAA", true, ""},
    /* other prefixes of the list */
    {"AIDAQAAAAAAAAAAAAAAA", true, "000000000000"},
    {"A3T7QAAAAAAAAAAAAAAA", true, "000000000000"},
    /* a decoded value beyond 12 digits is no account */
    {"AKIA7777777777777777", true, ""},

    {"AKIAIOSFODNN7EXAMPL", false, ""},   /* 19 characters (interface.md's no_match) */
    {"AKIAQYLPMN5HHHFPZAM", false, ""},   /* 19 characters (interface.md's no_match) */
    {"AKIAIOSFODNN7EXAMPLEX", false, ""}, /* 21 */
    {"AKIAI44QH8DHBEXAMPLE", false, ""},  /* '8' is not base32 (AWS docs' second example) */
    {"AKIAIOSFODNN1EXAMPLE", false, ""},  /* '1' is not base32 */
    {"akiaiosfodnn7example", false, ""},  /* lower case */
    {"AXYZIOSFODNN7EXAMPLE", false, ""},  /* unknown prefix */
    {"A3T_IOSFODNN7EXAMPLE", false, ""},  /* A3T + non-alphanumeric */
    {"ASIAY34FZKBOKMUTVV7\xff", false, ""},
    {"", false, ""},
};

static void test_aws_key_id(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(aws_rows) / sizeof(aws_rows[0]); i++) {
        size_t n;
        uint8_t *p = exact(aws_rows[i].key, &n);
        lw_validate_extra extra;
        memset(&extra, 'x', sizeof(extra));
        bool got = lw_validate_aws_key_id(p, n, &extra);
        if (got != aws_rows[i].ok) fail_msg("aws %s: %d", aws_rows[i].key, got);
        if (got && strcmp(extra.aws_account, aws_rows[i].account) != 0)
            fail_msg("aws %s: account '%s', expected '%s'", aws_rows[i].key, extra.aws_account,
                     aws_rows[i].account);
        if (!got) assert_string_equal(extra.aws_account, "");
        /* extra is optional */
        assert_int_equal(lw_validate_aws_key_id(p, n, NULL), aws_rows[i].ok);
        free(p);
    }
}

/* ---- GitHub tokens ---- */

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* prefix (4) + random (30) + base62 CRC32 of random (6) */
static void make_classic(char out[41], const char *prefix, const char *random30)
{
    memcpy(out, prefix, 4);
    memcpy(out + 4, random30, 30);
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)random30, 30);
    for (int i = 5; i >= 0; i--) {
        out[34 + i] = b62[crc % 62];
        crc /= 62;
    }
    out[40] = '\0';
}

static const row github_rows[] = {
    /* DataDog/dd-sensitive-data-scanner sds/src/secondary_validation/
     * github_token_checksum.rs, test_valid_github_tokens */
    {"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", true},
    {"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", true},
    {"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", true},
    {"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", true},
    /* the same file's zero-padding example (b62_...0Zu4ln) under a real prefix: the
     * checksum does not cover the prefix */
    {"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", true},
    {"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", true},
    /* the example in therootcompany/base62-token.js's description (coolaj86's gist):
     * "ghp_" + "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ" + "0mLq17", a left-padded checksum */
    {"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", true},
    {"ghs_M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4", true},

    /* test_invalid_github_tokens of the same file */
    {"ghp_M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V3", false},
    {"ghp_M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V\xc3\xb1", false},
    {"ghp_M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V/", false},
    {"ghpM7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4", false},
    {"ghp_T4V4", false},
    /* unknown or upper-case prefix; the b62_ prefix itself */
    {"ghx_M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4", false},
    {"GHP_M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V4", false},
    {"b62_QdwULL38u41vs1OcAjhKqcaSZ9W63r0Zu4ln", false},
    /* right shape, no valid checksum: the gho_ example of a public secret-regex list
     * (rix4uni/test README) */
    {"gho_16C7e42F292c6912E7710c838347Ae178B4a", false},
    {"", false},
};

static void test_github_published(void **state)
{
    (void)state;
    CHECK_ROWS(lw_validate_github_token, github_rows);
}

static void test_github_generated(void **state)
{
    (void)state;
    static const char *const prefixes[] = {"ghp_", "gho_", "ghu_", "ghs_", "ghr_"};
    const char *random30 = "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ"; /* base62-token.js README */
    char tok[41];
    for (size_t p = 0; p < 5; p++) {
        make_classic(tok, prefixes[p], random30);
        assert_true(run(lw_validate_github_token, tok));
    }
    /* every single-character change after the prefix breaks it (CRC-32 catches them all) */
    make_classic(tok, "ghp_", random30);
    for (size_t i = 4; i < 40; i++) {
        char orig = tok[i];
        tok[i] = orig == 'a' ? 'b' : 'a';
        if (run(lw_validate_github_token, tok)) fail_msg("flip at %zu accepted: %s", i, tok);
        tok[i] = orig;
    }
    /* a checksum taken over prefix + random (the wrong coverage) is rejected */
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)tok, 34);
    for (int i = 5; i >= 0; i--) {
        tok[34 + i] = b62[crc % 62];
        crc /= 62;
    }
    assert_false(run(lw_validate_github_token, tok));
    /* ... and so is one in the other base62 order (0-9a-zA-Z) */
    static const char b62_lower_first[] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    crc = (uint32_t)crc32(0L, (const Bytef *)random30, 30);
    for (int i = 5; i >= 0; i--) {
        tok[34 + i] = b62_lower_first[crc % 62];
        crc /= 62;
    }
    assert_false(run(lw_validate_github_token, tok));
}

static void test_github_fine_grained(void **state)
{
    (void)state;
    char tok[128];
    const char *a22 = "11ABCDEFG0123456789xyz";
    const char *b59 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456";
    snprintf(tok, sizeof(tok), "github_pat_%s_%s", a22, b59);
    assert_int_equal(strlen(tok), 93);
    assert_true(run(lw_validate_github_token, tok));
    tok[11 + 22] = '-'; /* the inner separator */
    assert_false(run(lw_validate_github_token, tok));
    tok[11 + 22] = '_';
    tok[50] = '_'; /* non-alphanumeric in the second part */
    assert_false(run(lw_validate_github_token, tok));
    snprintf(tok, sizeof(tok), "github_pat_%s_%s", a22, "abc"); /* short */
    assert_false(run(lw_validate_github_token, tok));
    snprintf(tok, sizeof(tok), "github_pat_%sX_%.58s", a22, b59); /* 23 + 58 */
    assert_int_equal(strlen(tok), 93);
    assert_false(run(lw_validate_github_token, tok));
    snprintf(tok, sizeof(tok), "github_PAT_%s_%s", a22, b59);
    assert_false(run(lw_validate_github_token, tok));
}

/* ---- IBAN ---- */

/* One example per country of the SWIFT IBAN Registry. Most are the registry's own examples
 * as listed in skwasjer/IbanNet SupportedCountries.md; DJ, FK, HN, MN, NI, OM, RU, SO and YE
 * (registered 2021-2024) are the registry's examples for those entries. */
static const char *const iban_examples[] = {
    "AD1200012030200359100100",
    "AE070331234567890123456",
    "AL47212110090000000235698741",
    "AT611904300234573201",
    "AZ21NABZ00000000137010001944",
    "BA391290079401028494",
    "BE68539007547034",
    "BG80BNBG96611020345678",
    "BH67BMAG00001299123456",
    "BI4210000100010000332045181",
    "BR1800360305000010009795493C1",
    "BY13NBRB3600900000002Z00AB00",
    "CH9300762011623852957",
    "CR05015202001026284066",
    "CY17002001280000001200527600",
    "CZ6508000000192000145399",
    "DE89370400440532013000",
    "DJ2100010000000154000100186",
    "DK5000400440116243",
    "DO28BAGR00000001212453611324",
    "EE382200221020145685",
    "EG380019000500000000263180002",
    "ES9121000418450200051332",
    "FI2112345600000785",
    "FK88SC123456789012",
    "FO6264600001631634",
    "FR1420041010050500013M02606",
    "GB29NWBK60161331926819",
    "GE29NB0000000101904917",
    "GI75NWBK000000007099453",
    "GL8964710001000206",
    "GR1601101250000000012300695",
    "GT82TRAJ01020000001210029690",
    "HN88CABF00000000000250005469",
    "HR1210010051863000160",
    "HU42117730161111101800000000",
    "IE29AIBK93115212345678",
    "IL620108000000099999999",
    "IQ98NBIQ850123456789012",
    "IS140159260076545510730339",
    "IT60X0542811101000000123456",
    "JO94CBJO0010000000000131000302",
    "KW81CBKU0000000000001234560101",
    "KZ86125KZT5004100100",
    "LB62099900000001001901229114",
    "LC55HEMM000100010012001200023015",
    "LI21088100002324013AA",
    "LT121000011101001000",
    "LU280019400644750000",
    "LV80BANK0000435195001",
    "LY83002048000020100120361",
    "MC5811222000010123456789030",
    "MD24AG000225100013104168",
    "ME25505000012345678951",
    "MK07250120000058984",
    "MN121234123456789123",
    "MR1300020001010000123456753",
    "MT84MALT011000012345MTLCAST001S",
    "MU17BOMM0101101030300200000MUR",
    "NI45BAPR00000013000003558124",
    "NL91ABNA0417164300",
    "NO9386011117947",
    "OM810180000001299123456",
    "PK36SCBL0000001123456702",
    "PL61109010140000071219812874",
    "PS92PALS000000000400123456702",
    "PT50000201231234567890154",
    "QA58DOHB00001234567890ABCDEFG",
    "RO49AAAA1B31007593840000",
    "RS35260005601001611379",
    "RU0204452560040702810412345678901",
    "SA0380000000608010167519",
    "SC18SSCB11010000000000001497USD",
    "SD2129010501234001",
    "SE4550000000058398257466",
    "SI56263300012039086",
    "SK3112000000198742637541",
    "SM86U0322509800000000270100",
    "SO211000001001000100141",
    "ST23000100010051845310146",
    "SV62CENR00000000000000700025",
    "TL380080012345678910157",
    "TN5910006035183598478831",
    "TR330006100519786457841326",
    "UA213223130000026007233566001",
    "VA59001123000012345678",
    "VG96VPVG0000012345678901",
    "XK051212012345678906",
    "YE15CBYE0001018861234567891234",
};

static const row iban_rows[] = {
    /* Wikipedia "International Bank Account Number" worked example */
    {"GB82WEST12345698765432", true},
    {"GB82 WEST 1234 5698 7654 32", true},
    {"DE89 3704 0044 0532 0130 00", true},
    {"FR14 2004 1010 0505 0001 3M02 606", true},

    {"GB83WEST12345698765432", false}, /* check digits off by one */
    {"GB82WEST12345698765433", false}, /* BBAN changed */
    {"DE89370400440532013001", false},
    {"GB82WEST1234569876543", false},        /* 21: GB is 22 */
    {"GB82WEST123456987654321", false},      /* 23 */
    {"DE8937040044053201300", false},        /* 21: DE is 22 */
    {"XX82WEST12345698765432", false},       /* not a registered country */
    {"US12345678901234567890", false},       /* the US has no IBAN */
    {"gb82west12345698765432", false},       /* electronic form is upper case */
    {"GB82  WEST 1234 5698 7654 32", false}, /* two spaces */
    {" GB82WEST12345698765432", false},
    {"GB82WEST12345698765432 ", false},
    {"GB82-WEST-1234-5698-7654-32", false},
    {"GB93WES112345698765432", false}, /* mod 97 holds, but GB's bank code is 4!a */
    {"DE99370400440000000024", false}, /* mod 97 holds with 99 (= 02): never issued */
    {"DE01370400440000000042", false}, /* ... with 01 (= 98) */
    {"DE00370400440000000060", false}, /* ... with 00 (= 97) */
    {"DE02370400440000000024", true},  /* the real check digits of those three */
    {"DE98370400440000000042", true},
    {"DE97370400440000000060", true},
    {"GB82WEST1234569876543\xc3\xa9", false},
    {"GB82WEST12345698765432GB82WEST12345698765432", false},
    {"GB", false},
    {"", false},
};

static void test_iban(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(iban_examples) / sizeof(iban_examples[0]); i++) {
        const char *e = iban_examples[i];
        if (!run(lw_validate_iban, e)) fail_msg("registry example %s rejected", e);
        /* the same with its check digits broken */
        char bad[40];
        snprintf(bad, sizeof(bad), "%s", e);
        bad[3] = bad[3] == '9' ? '0' : (char)(bad[3] + 1);
        if (run(lw_validate_iban, bad)) fail_msg("%s accepted", bad);
        /* the paper form: groups of four */
        char paper[64];
        size_t k = 0;
        for (size_t j = 0; e[j]; j++) {
            if (j && j % 4 == 0) paper[k++] = ' ';
            paper[k++] = e[j];
        }
        paper[k] = '\0';
        if (!run(lw_validate_iban, paper)) fail_msg("paper form %s rejected", paper);
    }
    assert_int_equal(sizeof(iban_examples) / sizeof(iban_examples[0]), 89);
    CHECK_ROWS(lw_validate_iban, iban_rows);
}

/* ---- My Number ---- */

static const row my_number_rows[] = {
    /* kufu/tsubaki spec/tsubaki/my_number_spec.rb (valid_check_digit?) */
    {"123456789018", true},
    {"023456789013", true},
    {"185672239885", true},
    {"176521275740", true},
    {"654629853731", true},
    /* tsubaki: calc_check_digit('37296774233') == 8, ('29217589598') == 2 */
    {"372967742338", true},
    {"292175895982", true},
    {"1234 5678 9018", true},
    {"1234-5678-9018", true},

    /* tsubaki's invalid ones */
    {"123456789010", false},
    {"123456789011", false},
    {"123456789012", false},
    {"185672239886", false},
    {"176521275741", false},
    {"654629853732", false},
    {"12345678901", false},   /* 11 digits */
    {"1234567890180", false}, /* 13 digits (a corporate number's length) */
    {"1234--5678-9018", false},
    {"-123456789018", false},
    {"123456789018 ", false},
    {"12345678901X", false},
    {"", false},
};

static void test_jp_my_number(void **state)
{
    (void)state;
    CHECK_ROWS(lw_validate_jp_my_number, my_number_rows);
}

/* ---- e-mail ---- */

static const row email_rows[] = {
    {"user@example.com", true},
    {"first.last+tag@sub.example.co.uk", true},
    {"o'reilly@example.org", true},
    {"x@a-b.io", true},
    {"a!#$%&'*+-/=?^_`{|}~z@example.com", true}, /* every RFC 5322 atext symbol */
    {"user@123.example.museum", true},
    {"u@example.abcdefghijklmnopqrstuvwx", true}, /* 24-letter TLD */

    {"a..b@example.com", false}, /* double dot */
    {".a@example.com", false},   /* leading dot */
    {"a.@example.com", false},   /* trailing dot */
    {"a@-example.com", false},   /* hyphen-edged labels */
    {"a@example-.com", false},
    {"a@example.-com", false},
    {"a@example.123", false}, /* numeric TLD */
    {"a@example.c0m", false},
    {"a@example.c", false},                         /* 1-letter TLD */
    {"u@example.abcdefghijklmnopqrstuvwxy", false}, /* 25-letter TLD */
    {"a@localhost", false},                         /* one label */
    {"a@example..com", false},
    {"a@.example.com", false},
    {"a@example.com.", false},
    {"a@@example.com", false},
    {"a@b@example.com", false},
    {"a@exa_mple.com", false},
    {"a b@example.com", false},
    {"\"a b\"@example.com", false}, /* quoted local parts are not taken */
    {"a@[192.0.2.1]", false},
    {"@example.com", false},
    {"a@", false},
    {"user", false},
    {"\xc3\xbc@example.com", false},
    {"a@ex\xc3\xa4mple.com", false},
    {"", false},
};

static void test_email(void **state)
{
    (void)state;
    CHECK_ROWS(lw_validate_email, email_rows);

    char buf[400];
    /* local part: 64 octets ok, 65 not */
    memset(buf, 'a', 64);
    strcpy(buf + 64, "@example.com");
    assert_true(run(lw_validate_email, buf));
    memset(buf, 'a', 65);
    strcpy(buf + 65, "@example.com");
    assert_false(run(lw_validate_email, buf));
    /* a 63-octet label ok, 64 not */
    strcpy(buf, "a@");
    memset(buf + 2, 'b', 63);
    strcpy(buf + 65, ".com");
    assert_true(run(lw_validate_email, buf));
    strcpy(buf, "a@");
    memset(buf + 2, 'b', 64);
    strcpy(buf + 66, ".com");
    assert_false(run(lw_validate_email, buf));
    /* total: 254 ok, 255 not (labels of 50 + dots) */
    for (size_t total = 254; total <= 255; total++) {
        size_t k = 0;
        buf[k++] = 'a';
        buf[k++] = '@';
        while (k + 51 < total - 4) {
            memset(buf + k, 'c', 50);
            k += 50;
            buf[k++] = '.';
        }
        while (k < total - 4) buf[k++] = 'd';
        memcpy(buf + k, ".com", 5);
        assert_int_equal(strlen(buf), total);
        assert_int_equal(run(lw_validate_email, buf), total == 254);
    }
}

/* ---- latitude/longitude ---- */

static const row lat_lon_rows[] = {
    {"35.6812,139.7671", true}, /* Tokyo Station */
    {"35.6812, 139.7671", true},
    {"-33.8688,151.2093", true}, /* Sydney */
    {"40.7128,-74.0060", true},  /* New York */
    {"90.0000,180.0000", true},
    {"-90.0000,-180.0000", true},
    {"+48.8584,+2.2945", true},
    {"{\"lat\":35.6812,\"lng\":139.7671}", true},
    {"{\"latitude\": 35.6812, \"longitude\": 139.7671}", true},
    /* longitude first in a JSON object: taken in key order */
    {"{\"lon\":139.7671,\"lat\":35.6812}", true},
    {"{\"name\":\"London\",\"lat\":51.5074,\"lon\":-0.1278}", true},
    /* NMEA 0183 GGA example (gpsd / NMEA references: 48 deg 07.038' N, 11 deg 31.000' E) */
    {"4807.038,N,01131.000,E", true},
    {"4807.0380,N,01131.0000,E", true},
    {"3351.0000,S,15112.5580,E", true},
    {"4043.0000,N,07400.3600,W", true},
    {"9000.0000,N,18000.0000,W", true},

    {"91.0000,10.0000", false}, /* |lat| > 90 */
    {"-90.0001,10.0000", false},
    {"10.0000,180.0001", false}, /* |lon| > 180 */
    {"10.0000,-181.0000", false},
    {"10.12,20.34", false}, /* too few decimals */
    {"35.6812,139.767", false},
    {"35.681,139.7671", false},
    {"35,139", false},
    {"0.0000,0.0000", false}, /* null island */
    {"-0.0000,0.00000", false},
    {"35.6812", false}, /* one number */
    {"lat 35.6812", false},
    {"0000035.6812,139.7671", true}, /* leading zeros are still 35 */
    {"123456789012345.0000,1.0000", false},
    {"{\"lon\":139.7671,\"lng\":35.6812}", false}, /* two longitudes: 139 as latitude */
    {"4860.0000,N,01131.0000,E", false},           /* minutes >= 60 */
    {"4807.0380,N,01160.0000,E", false},
    {"9100.0000,N,01131.0000,E", false}, /* degrees > 90 */
    {"9000.0001,N,01131.0000,E", false},
    {"4807.0380,N,18100.0000,E", false}, /* degrees > 180 */
    {"4807.0380,N,01131.0000", false},   /* no hemisphere after the longitude */
    {"4807.0380,N,01131.0000,N", false}, /* latitude hemisphere on the longitude */
    {"4807.0380,E,01131.0000,N", false},
    {"807.0380,N,01131.0000,E", false}, /* ddmm needs four integer digits */
    {"4807.0380,N,1131.0000,E", false}, /* dddmm needs five */
    {"4807,N,01131,E", false},          /* no decimal minutes */
    {"-4807.0380,N,01131.0000,E", false},
    {"0000.0000,N,00000.0000,E", false},
    {"", false},
    {"\xff\xfe", false},
};

static void test_lat_lon(void **state)
{
    (void)state;
    CHECK_ROWS(lw_validate_lat_lon, lat_lon_rows);
}

/* ---- entropy ---- */

static void test_entropy(void **state)
{
    (void)state;
    assert_true(fabs(lw_shannon_entropy((const uint8_t *)"aaaa", 4)) < 1e-12);
    assert_true(fabs(lw_shannon_entropy((const uint8_t *)"ab", 2) - 1.0) < 1e-12);
    assert_true(fabs(lw_shannon_entropy((const uint8_t *)"abcd", 4) - 2.0) < 1e-12);
    /* -(2/3 log2 2/3 + 1/3 log2 1/3) */
    assert_true(fabs(lw_shannon_entropy((const uint8_t *)"aab", 3) - 0.9182958340544896) < 1e-12);
    assert_true(lw_shannon_entropy((const uint8_t *)"", 0) == 0.0);
    assert_true(lw_shannon_entropy(NULL, 0) == 0.0);
    uint8_t all[256];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    assert_true(fabs(lw_shannon_entropy(all, sizeof(all)) - 8.0) < 1e-12);
    /* AWS's example key: 16 distinct of 20 */
    double h = lw_shannon_entropy((const uint8_t *)"AKIAIOSFODNN7EXAMPLE", 20);
    assert_true(h > 3.5 && h < 4.0);
}

/* ---- names and dispatch ---- */

static void test_lookup(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        lw_validator_id id;
    } names[] = {
        {"vin", LW_VALIDATE_VIN},
        {"luhn", LW_VALIDATE_LUHN},
        {"aws_key_id", LW_VALIDATE_AWS_KEY_ID},
        {"github_token", LW_VALIDATE_GITHUB_TOKEN},
        {"iban", LW_VALIDATE_IBAN},
        {"jp_my_number", LW_VALIDATE_JP_MY_NUMBER},
        {"email", LW_VALIDATE_EMAIL},
        {"lat_lon", LW_VALIDATE_LAT_LON},
        {"edm:customers", LW_VALIDATE_EDM},
        {"edm:Customer_IDs-2024", LW_VALIDATE_EDM},
        {"edm:", LW_VALIDATE__COUNT},
        {"edm:bad name", LW_VALIDATE__COUNT},
        {"edm:a/b", LW_VALIDATE__COUNT},
        {"edm:caf\xc3\xa9", LW_VALIDATE__COUNT},
        {"edm", LW_VALIDATE__COUNT},
        {"EDM:customers", LW_VALIDATE__COUNT},
        {"none", LW_VALIDATE__COUNT},
        {"VIN", LW_VALIDATE__COUNT},
        {"vin ", LW_VALIDATE__COUNT},
        {"luhn2", LW_VALIDATE__COUNT},
        {"ssn", LW_VALIDATE__COUNT},
        {"", LW_VALIDATE__COUNT},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (lw_validator_lookup(names[i].name) != names[i].id)
            fail_msg("lookup(\"%s\") = %d, expected %d", names[i].name,
                     lw_validator_lookup(names[i].name), names[i].id);
    assert_int_equal(lw_validator_lookup(NULL), LW_VALIDATE__COUNT);

    /* every id's name looks up to itself (NONE and EDM are not plain names) */
    for (int id = LW_VALIDATE_VIN; id < LW_VALIDATE_EDM; id++)
        assert_int_equal(lw_validator_lookup(lw_validator_name((lw_validator_id)id)), id);
    assert_string_equal(lw_validator_name(LW_VALIDATE_EDM), "edm");
    assert_string_equal(lw_validator_name(LW_VALIDATE_VIN), "vin");
    assert_string_equal(lw_validator_name(LW_VALIDATE_LAT_LON), "lat_lon");
    assert_non_null(lw_validator_name(LW_VALIDATE_NONE));
    assert_non_null(lw_validator_name(LW_VALIDATE__COUNT));
    assert_non_null(lw_validator_name((lw_validator_id)1000));
}

static void test_dispatch(void **state)
{
    (void)state;
    lw_validate_extra extra;
    const uint8_t *key = (const uint8_t *)"ASIAY34FZKBOKMUTVV7A";
    assert_true(lw_validate(LW_VALIDATE_AWS_KEY_ID, key, 20, &extra));
    assert_string_equal(extra.aws_account, "609629065308");
    /* another validator leaves no stale account behind */
    assert_true(lw_validate(LW_VALIDATE_LUHN, (const uint8_t *)"4111111111111111", 16, &extra));
    assert_string_equal(extra.aws_account, "");
    assert_true(lw_validate(LW_VALIDATE_AWS_KEY_ID, key, 20, NULL));

    assert_true(lw_validate(LW_VALIDATE_NONE, (const uint8_t *)"anything", 8, NULL));
    assert_true(lw_validate(LW_VALIDATE_NONE, NULL, 0, NULL));
    assert_false(lw_validate(LW_VALIDATE_EDM, (const uint8_t *)"a@example.com", 13, NULL));
    assert_false(lw_validate(LW_VALIDATE__COUNT, (const uint8_t *)"x", 1, NULL));
    assert_false(lw_validate((lw_validator_id)-1, (const uint8_t *)"x", 1, NULL));

    struct {
        lw_validator_id id;
        const char *good, *bad;
    } cases[] = {
        {LW_VALIDATE_VIN, "1M8GDM9AXKP042788", "1M8GDM9A1KP042788"},
        {LW_VALIDATE_LUHN, "5555555555554444", "5555555555554445"},
        {LW_VALIDATE_GITHUB_TOKEN, "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",
         "ghp_M7H4jxUDDWHP4kZ6A4dxlQYsQIWJuq11T4V3"},
        {LW_VALIDATE_IBAN, "GB82WEST12345698765432", "GB83WEST12345698765432"},
        {LW_VALIDATE_JP_MY_NUMBER, "123456789018", "123456789010"},
        {LW_VALIDATE_EMAIL, "user@example.com", "user@example..com"},
        {LW_VALIDATE_LAT_LON, "35.6812,139.7671", "91.0000,10.0000"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const uint8_t *g = (const uint8_t *)cases[i].good, *b = (const uint8_t *)cases[i].bad;
        assert_true(lw_validate(cases[i].id, g, strlen(cases[i].good), NULL));
        assert_false(lw_validate(cases[i].id, b, strlen(cases[i].bad), NULL));
        assert_false(lw_validate(cases[i].id, g, 0, NULL));
        assert_false(lw_validate(cases[i].id, NULL, 0, NULL));
    }
}

/* ---- robustness: truncations, mutations and random bytes, all under ASan/UBSan ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void run_all(const uint8_t *p, size_t n)
{
    lw_validate_extra extra;
    for (int id = 0; id <= LW_VALIDATE__COUNT; id++) {
        memset(&extra, 0x55, sizeof(extra));
        bool ok = lw_validate((lw_validator_id)id, p, n, &extra);
        /* the account is always a terminated string of 0 or 12 digits */
        size_t len = strnlen(extra.aws_account, sizeof(extra.aws_account));
        assert_true(len == 0 || (len == 12 && ok && id == LW_VALIDATE_AWS_KEY_ID));
        for (size_t i = 0; i < len; i++)
            assert_true(extra.aws_account[i] >= '0' && extra.aws_account[i] <= '9');
    }
    double h = lw_shannon_entropy(p, n);
    assert_true(h >= 0.0 && h <= 8.0 + 1e-9);
    if (n >= 17) (void)lw_vin_check_digit(p + n - 17);
}

static void fuzz_one(const uint8_t *src, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n) memcpy(p, src, n);
    run_all(p, n);
    free(p);
}

static void test_robustness(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "1M8GDM9AXKP042788",
        "4111 1111 1111 1111",
        "ASIAY34FZKBOKMUTVV7A",
        "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",
        "github_pat_11ABCDEFG0123456789xyz_"
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
        "GB82 WEST 1234 5698 7654 32",
        "1234-5678-9018",
        "first.last+tag@sub.example.co.uk",
        "{\"lon\":139.7671,\"lat\":35.6812}",
        "4807.0380,N,01131.0000,E",
    };
    static const char alphabet[] = "0123456789 -.,+@_NSEWlatonAZaz\"{}:\xff\x80\xc3";
    /* every prefix of every seed */
    for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++)
        for (size_t n = 0; n <= strlen(seeds[s]); n++) fuzz_one((const uint8_t *)seeds[s], n);
    /* single and double mutations of the seeds */
    uint8_t buf[256];
    for (int iter = 0; iter < 20000; iter++) {
        const char *seed = seeds[rnd() % (sizeof(seeds) / sizeof(seeds[0]))];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        int edits = 1 + (int)(rnd() % 3);
        for (int e = 0; e < edits; e++) {
            uint32_t op = rnd() % 3;
            if (op == 0 && n > 0) {
                buf[rnd() % n] = (uint8_t)alphabet[rnd() % (sizeof(alphabet) - 1)];
            } else if (op == 1 && n > 0) {
                n--; /* drop the last byte */
            } else if (n < sizeof(buf)) {
                buf[n++] = (uint8_t)rnd();
            }
        }
        fuzz_one(buf, n);
    }
    /* random bytes of random lengths */
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rnd() % 120;
        for (size_t i = 0; i < n; i++)
            buf[i] =
                (rnd() & 1) ? (uint8_t)alphabet[rnd() % (sizeof(alphabet) - 1)] : (uint8_t)rnd();
        fuzz_one(buf, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vin),
        cmocka_unit_test(test_vin_check_digit),
        cmocka_unit_test(test_luhn),
        cmocka_unit_test(test_aws_key_id),
        cmocka_unit_test(test_github_published),
        cmocka_unit_test(test_github_generated),
        cmocka_unit_test(test_github_fine_grained),
        cmocka_unit_test(test_iban),
        cmocka_unit_test(test_jp_my_number),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_lat_lon),
        cmocka_unit_test(test_entropy),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_robustness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
