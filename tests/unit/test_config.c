/*
 * test_config.c — the YAML configuration loader: the documented example, defaults, and every
 * error class with its exact file:line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leakwatch/config.h"

static char tmpdir[] = "/tmp/lw_test_config.XXXXXX";
static char olddir[4096];

static int setup(void **state)
{
    (void)state;
    if (!getcwd(olddir, sizeof(olddir))) return -1;
    if (!mkdtemp(tmpdir)) return -1;
    return chdir(tmpdir); /* errors then read "config.yaml:N: ..." */
}

static int teardown(void **state)
{
    (void)state;
    unlink("config.yaml");
    if (chdir(olddir) != 0) return -1;
    return rmdir(tmpdir);
}

static void write_file(const char *text)
{
    FILE *f = fopen("config.yaml", "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Load text over the defaults; the caller frees c. */
static void load_ok(lw_config *c, const char *text)
{
    char err[512] = "";
    assert_true(lw_config_defaults(c));
    write_file(text);
    int rc = lw_config_load(c, "config.yaml", err, sizeof(err));
    if (rc != 0) fail_msg("load failed: %s", err);
}

/* Load text, expect exit-2 failure whose message starts with "config.yaml:LINE: " and contains
 * fragment. */
static void load_err(const char *text, unsigned line, const char *fragment)
{
    lw_config c;
    char err[512] = "";
    assert_true(lw_config_defaults(&c));
    write_file(text);
    int rc = lw_config_load(&c, "config.yaml", err, sizeof(err));
    lw_config_free(&c);
    if (rc != 2) fail_msg("expected an error (line %u, '%s'), got rc %d", line, fragment, rc);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "config.yaml:%u: ", line);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("expected prefix '%s', got '%s'", prefix, err);
    if (!strstr(err, fragment)) fail_msg("error '%s' lacks '%s'", err, fragment);
    assert_null(strchr(err, '\n'));
}

static void load_err_exact(const char *text, const char *expected)
{
    lw_config c;
    char err[512] = "";
    assert_true(lw_config_defaults(&c));
    write_file(text);
    assert_int_equal(lw_config_load(&c, "config.yaml", err, sizeof(err)), 2);
    lw_config_free(&c);
    assert_string_equal(err, expected);
}

static bool has4(const lw_cidr_set *s, const char *text)
{
    uint8_t a[16] = {0};
    assert_int_equal(inet_pton(AF_INET, text, a), 1);
    return lw_cidr_set_contains(s, 4, a);
}

static bool has6(const lw_cidr_set *s, const char *text)
{
    uint8_t a[16];
    assert_int_equal(inet_pton(AF_INET6, text, a), 1);
    return lw_cidr_set_contains(s, 6, a);
}

/* Verbatim from interface.md section 3. */
static const char example_config[] =
    "home_net: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7]\n"
    "inspect: egress                 # egress | all\n"
    "signatures: [/usr/share/leakwatch/signatures, /etc/leakwatch/local.yaml]\n"
    "output:\n"
    "  path: /var/log/leakwatch/events.json     # or \"-\"\n"
    "  flows: alerted                # all | alerted | none   (flow events)\n"
    "  reveal: false                 # log full matched values\n"
    "  max_values: 100               # distinct values kept per signature per flow\n"
    "  fingerprint_key: /etc/leakwatch/fingerprint.key   # HMAC key for value fingerprints\n"
    "  type: file                    # file | unix_dgram | unix_stream | syslog | redis  (as "
    "Suricata EVE)\n"
    "  # unix_*: path is the socket path.  syslog: {server: 127.0.0.1, port: 514, transport: "
    "udp|tcp,\n"
    "  # facility: local5}.  redis: {server: 127.0.0.1, port: 6379, key: leakwatch, mode: "
    "list|stream}\n"
    "  queue_events: 100000          # bounded queue in front of a slow sink; overflow is counted\n"
    "capture:\n"
    "  snaplen: 65535\n"
    "  buffer_mb: 256\n"
    "workers: 0                      # 0 = online CPUs\n"
    "flow:\n"
    "  max_flows: 1000000\n"
    "  tcp_timeout: 600\n"
    "  udp_timeout: 60\n"
    "reassembly:\n"
    "  memcap_mb: 1024               # all buffered out-of-order data, all flows\n"
    "  depth_mb: 0                   # bytes inspected per flow direction; 0 = unlimited\n"
    "decode:\n"
    "  http: true                    # chunked, gzip/deflate/br? bodies, multipart, urlencoded\n"
    "  smtp: true                    # MIME, base64, quoted-printable\n"
    "  base64: true                  # base64 runs inside bodies\n"
    "  max_decoded_mb: 64            # per flow direction, guards against decompression bombs\n"
    "allowlist:\n"
    "  destinations: [203.0.113.0/24, \"api.partner.example\"]   # CIDRs or TLS SNI / HTTP Host "
    "names\n"
    "  values: [AKIAIOSFODNN7EXAMPLE]\n"
    "exact_match:                     # Exact Data Match: known customer values, hashed\n"
    "  - name: customers\n"
    "    file: /etc/leakwatch/customers.edm\n";

static void test_example_config(void **state)
{
    (void)state;
    lw_config c;
    load_ok(&c, example_config);
    assert_int_equal(c.home_net_text.n, 5);
    assert_string_equal(c.home_net_text.v[4], "fc00::/7");
    assert_true(has4(c.home_net, "100.64.0.1"));
    assert_true(has6(c.home_net, "fd00::1"));
    assert_false(has4(c.home_net, "203.0.113.5"));
    assert_int_equal(c.inspect, LW_INSPECT_EGRESS);
    assert_int_equal(c.signatures.n, 2);
    assert_string_equal(c.signatures.v[0], "/usr/share/leakwatch/signatures");
    assert_string_equal(c.signatures.v[1], "/etc/leakwatch/local.yaml");
    assert_string_equal(c.output.path, "/var/log/leakwatch/events.json");
    assert_int_equal(c.output.flows, LW_FLOWS_ALERTED);
    assert_false(c.output.reveal);
    assert_int_equal(c.output.max_values, 100);
    assert_string_equal(c.output.fingerprint_key, "/etc/leakwatch/fingerprint.key");
    assert_int_equal(c.output.type, LW_OUTPUT_FILE);
    assert_int_equal(c.output.queue_events, 100000);
    assert_int_equal(c.capture.snaplen, 65535);
    assert_int_equal(c.capture.buffer_mb, 256);
    assert_int_equal(c.workers, 0);
    assert_int_equal(c.flow.max_flows, 1000000);
    assert_int_equal(c.flow.tcp_timeout, 600);
    assert_int_equal(c.flow.udp_timeout, 60);
    assert_int_equal(c.reassembly.memcap_mb, 1024);
    assert_int_equal(c.reassembly.depth_mb, 0);
    assert_true(c.decode.http && c.decode.smtp && c.decode.base64);
    assert_int_equal(c.decode.max_decoded_mb, 64);
    assert_int_equal(lw_cidr_set_count(c.allowlist.dest_cidrs), 1);
    assert_true(has4(c.allowlist.dest_cidrs, "203.0.113.255"));
    assert_false(has4(c.allowlist.dest_cidrs, "203.0.114.0"));
    assert_int_equal(c.allowlist.dest_hosts.n, 1);
    assert_string_equal(c.allowlist.dest_hosts.v[0], "api.partner.example");
    assert_int_equal(c.allowlist.values.n, 1);
    assert_string_equal(c.allowlist.values.v[0], "AKIAIOSFODNN7EXAMPLE");
    assert_int_equal(c.exact_match.n, 1);
    assert_string_equal(c.exact_match.v[0].name, "customers");
    assert_string_equal(c.exact_match.v[0].file, "/etc/leakwatch/customers.edm");
    lw_config_free(&c);
}

static void check_defaults(const lw_config *c)
{
    assert_non_null(c->sensor_name);
    assert_true(strlen(c->sensor_name) > 0);
    assert_int_equal(c->home_net_text.n, 5);
    assert_true(has4(c->home_net, "10.1.1.1"));
    assert_true(has4(c->home_net, "172.20.0.1"));
    assert_true(has4(c->home_net, "192.168.1.1"));
    assert_true(has4(c->home_net, "100.100.100.100"));
    assert_true(has6(c->home_net, "fc00::1"));
    assert_false(has4(c->home_net, "8.8.8.8"));
    assert_int_equal(c->inspect, LW_INSPECT_EGRESS);
    assert_int_equal(c->signatures.n, 0);
    assert_int_equal(c->output.type, LW_OUTPUT_FILE);
    assert_string_equal(c->output.path, "-");
    assert_int_equal(c->output.flows, LW_FLOWS_ALERTED);
    assert_false(c->output.reveal);
    assert_int_equal(c->output.max_values, 100);
    assert_null(c->output.fingerprint_key);
    assert_int_equal(c->output.queue_events, 100000);
    assert_string_equal(c->output.syslog.server, "127.0.0.1");
    assert_int_equal(c->output.syslog.port, 514);
    assert_int_equal(c->output.syslog.transport, LW_SYSLOG_UDP);
    assert_string_equal(lw_syslog_facility_name(c->output.syslog.facility), "local5");
    assert_string_equal(c->output.redis.server, "127.0.0.1");
    assert_int_equal(c->output.redis.port, 6379);
    assert_string_equal(c->output.redis.key, "leakwatch");
    assert_int_equal(c->output.redis.mode, LW_REDIS_LIST);
    assert_int_equal(c->capture.snaplen, 65535);
    assert_int_equal(c->capture.buffer_mb, 256);
    assert_int_equal(c->workers, 0);
    assert_int_equal(c->flow.max_flows, 1000000);
    assert_int_equal(c->flow.tcp_timeout, 600);
    assert_int_equal(c->flow.udp_timeout, 60);
    assert_int_equal(c->reassembly.memcap_mb, 1024);
    assert_int_equal(c->reassembly.depth_mb, 0);
    assert_true(c->decode.http && c->decode.smtp && c->decode.base64);
    assert_int_equal(c->decode.max_decoded_mb, 64);
    assert_non_null(c->allowlist.dest_cidrs);
    assert_int_equal(lw_cidr_set_count(c->allowlist.dest_cidrs), 0);
    assert_int_equal(c->allowlist.dest_hosts.n, 0);
    assert_int_equal(c->allowlist.values.n, 0);
    assert_int_equal(c->exact_match.n, 0);
}

static void test_defaults_and_empty_files(void **state)
{
    (void)state;
    lw_config c;
    assert_true(lw_config_defaults(&c));
    check_defaults(&c);
    lw_config_free(&c);

    const char *empties[] = {"", "# only a comment\n", "---\n", "~\n", "\n\n"};
    for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
        load_ok(&c, empties[i]);
        check_defaults(&c);
        lw_config_free(&c);
    }
}

static void test_absent_keys_keep_defaults(void **state)
{
    (void)state;
    lw_config c;
    load_ok(&c, "flow:\n  tcp_timeout: 30\noutput:\n  reveal: yes\n");
    assert_int_equal(c.flow.tcp_timeout, 30);
    assert_int_equal(c.flow.udp_timeout, 60);    /* sibling untouched */
    assert_int_equal(c.flow.max_flows, 1000000); /* sibling untouched */
    assert_true(c.output.reveal);
    assert_string_equal(c.output.path, "-");
    assert_int_equal(c.home_net_text.n, 5);
    lw_config_free(&c);
}

static void test_all_values_and_sinks(void **state)
{
    (void)state;
    lw_config c;
    load_ok(&c, "sensor_name: span0\n"
                "inspect: all\n"
                "home_net:\n"
                "  - 192.0.2.0/24\n"
                "  - 2001:db8::/32\n"
                "signatures: []\n"
                "workers: 8\n"
                "output:\n"
                "  type: syslog\n"
                "  flows: none\n"
                "  reveal: False\n"
                "  max_values: 0\n"
                "  syslog: {server: logs.example, port: 6514, transport: tcp, facility: local0}\n"
                "  redis: {server: 10.0.0.5, port: 6380, key: lw, mode: stream}\n"
                "decode: {http: no, smtp: NO, base64: Yes, max_decoded_mb: 1}\n"
                "reassembly: {memcap_mb: 1048576, depth_mb: 5}\n"
                "capture: {snaplen: 262144, buffer_mb: 1}\n"
                "flow: {max_flows: 4294967295}\n"
                "allowlist:\n"
                "  destinations: [198.51.100.7, '2001:db8:1::/48', '*.Example.COM', "
                "upload.partner.example.]\n"
                "  values: []\n");
    assert_string_equal(c.sensor_name, "span0");
    assert_int_equal(c.inspect, LW_INSPECT_ALL);
    assert_int_equal(c.home_net_text.n, 2);
    assert_true(has4(c.home_net, "192.0.2.200"));
    assert_false(has4(c.home_net, "10.0.0.1")); /* replaces, not appends to, the default */
    assert_true(has6(c.home_net, "2001:db8:ffff::1"));
    assert_int_equal(c.signatures.n, 0);
    assert_int_equal(c.workers, 8);
    assert_int_equal(c.output.type, LW_OUTPUT_SYSLOG);
    assert_int_equal(c.output.flows, LW_FLOWS_NONE);
    assert_false(c.output.reveal);
    assert_int_equal(c.output.max_values, 0);
    assert_string_equal(c.output.syslog.server, "logs.example");
    assert_int_equal(c.output.syslog.port, 6514);
    assert_int_equal(c.output.syslog.transport, LW_SYSLOG_TCP);
    assert_int_equal(c.output.syslog.facility, 16);
    assert_string_equal(c.output.redis.server, "10.0.0.5");
    assert_int_equal(c.output.redis.port, 6380);
    assert_string_equal(c.output.redis.key, "lw");
    assert_int_equal(c.output.redis.mode, LW_REDIS_STREAM);
    assert_false(c.decode.http);
    assert_false(c.decode.smtp);
    assert_true(c.decode.base64);
    assert_int_equal(c.decode.max_decoded_mb, 1);
    assert_int_equal(c.reassembly.memcap_mb, 1048576);
    assert_int_equal(c.reassembly.depth_mb, 5);
    assert_int_equal(c.capture.snaplen, 262144);
    assert_int_equal(c.flow.max_flows, 4294967295u);
    assert_int_equal(lw_cidr_set_count(c.allowlist.dest_cidrs), 2);
    assert_true(has4(c.allowlist.dest_cidrs, "198.51.100.7"));
    assert_false(has4(c.allowlist.dest_cidrs, "198.51.100.8"));
    assert_true(has6(c.allowlist.dest_cidrs, "2001:db8:1::9"));
    assert_int_equal(c.allowlist.dest_hosts.n, 2);
    assert_string_equal(c.allowlist.dest_hosts.v[0], "*.example.com"); /* lower-cased */
    assert_string_equal(c.allowlist.dest_hosts.v[1], "upload.partner.example");
    lw_config_free(&c);

    load_ok(&c, "output:\n  type: unix_dgram\n  path: /run/lw.sock\n");
    assert_int_equal(c.output.type, LW_OUTPUT_UNIX_DGRAM);
    assert_string_equal(c.output.path, "/run/lw.sock");
    lw_config_free(&c);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    load_err_exact("inspect: all\nflow:\n  max_flows: 10\n\n\n\n  max_flow: 5\n",
                   "config.yaml:7: unknown key 'max_flow' in 'flow' (known: max_flows, "
                   "tcp_timeout, udp_timeout)");
    load_err("inspect: all\nhomenet: [10.0.0.0/8]\n", 2, "unknown top-level key 'homenet'");
    load_err("inspect: all\nhomenet: [10.0.0.0/8]\n", 2, "home_net");
    /* flat syslog settings are not accepted: they go under output.syslog */
    load_err("output:\n  type: syslog\n  server: 127.0.0.1\n", 3,
             "unknown key 'server' in 'output'");
    load_err("output:\n  syslog:\n    servr: x\n", 3, "unknown key 'servr' in 'output.syslog'");
    load_err("exact_match:\n  - name: a\n    file: b\n    path: c\n", 4,
             "unknown key 'path' in 'exact_match' (known: name, file)");
}

static void test_wrong_types(void **state)
{
    (void)state;
    /* string where an integer is expected */
    load_err("flow:\n  tcp_timeout: abc\n", 2, "flow.tcp_timeout: expected an integer");
    load_err("flow:\n  tcp_timeout: 1.5\n", 2, "got '1.5'");
    load_err("flow:\n  tcp_timeout: \"60\"\n", 2, "remove the quotes");
    load_err("flow:\n  tcp_timeout: 0x10\n", 2, "expected an integer");
    load_err("flow:\n  tcp_timeout: 010\n", 2, "leading zero");
    load_err("flow:\n  tcp_timeout: [60]\n", 2, "expected an integer 1-31536000, got a list");
    load_err("flow:\n  tcp_timeout:\n", 2, "has no value");
    /* a map where a list is expected, a scalar where a map is */
    load_err("inspect: all\nhome_net:\n  a: 10.0.0.0/8\n", 3, "home_net: expected a list");
    load_err("home_net: 10.0.0.0/8\n", 1, "expected a list, e.g. home_net:");
    load_err("\nflow: 5\n", 2, "flow: expected a map");
    load_err("output: [a, b]\n", 1, "output: expected a map of keys");
    load_err("decode:\n  http: maybe\n", 2, "decode.http: expected true or false, got 'maybe'");
    load_err("decode:\n  http: 'true'\n", 2, "remove the quotes");
    load_err("decode:\n  http: 1\n", 2, "expected true or false");
    load_err("signatures: [a, [b]]\n", 1, "signatures: expected a string, got a list");
    load_err("signatures:\n  - a\n  - {b: c}\n", 3, "expected a string, got a map");
    load_err("output:\n  path: ''\n", 2, "output.path: is an empty string");
    load_err("output:\n  path: \"a\\0b\"\n", 2, "NUL");
    load_err("exact_match: {name: a, file: b}\n", 1, "exact_match: expected a list");
    load_err("exact_match:\n  - customers\n", 2, "each entry is a map with name and file");
    load_err("exact_match:\n  - name: a\n", 2, "entry without file");
    load_err("- inspect: all\n", 1, "must be a map of keys");
    load_err("just words\n", 1, "must be a map of keys");
    load_err("inspect: all\n? [a, b]\n: c\n", 2, "must be a plain word");
}

static void test_out_of_range_and_enums(void **state)
{
    (void)state;
    load_err("workers: -1\n", 1, "workers: -1 is out of range (0-1024)");
    load_err("\nflow:\n  max_flows: -5\n", 3, "flow.max_flows: -5 is out of range");
    load_err("flow:\n  max_flows: 0\n", 2, "out of range (1-4294967295)");
    load_err("flow:\n  max_flows: 4294967296\n", 2, "out of range");
    load_err("flow:\n  max_flows: 99999999999999999999999\n", 2, "out of range");
    load_err("output:\n  queue_events: -100\n", 2, "out of range");
    load_err("output:\n  syslog:\n    port: 0\n", 3,
             "output.syslog.port: 0 is out of range (1-65535)");
    load_err("output:\n  redis:\n    port: 65536\n", 3, "(1-65535)");
    load_err("reassembly:\n  memcap_mb: 0\n", 2, "out of range");
    load_err("inspect: egres\n", 1, "inspect: 'egres' is not valid (use egress or all)");
    load_err("inspect: EGRESS\n", 1, "is not valid");
    load_err("output:\n  flows: some\n", 2, "(use all, alerted or none)");
    load_err("output:\n  type: kafka\n", 2, "(use file, unix_dgram, unix_stream, syslog or redis)");
    load_err("output:\n  syslog:\n    transport: tls\n", 3, "(use udp or tcp)");
    load_err("output:\n  syslog:\n    facility: local9\n", 3, "facility: 'local9' is not valid");
    load_err("output:\n  redis:\n    mode: set\n", 3, "(use list or stream)");
    /* a socket sink needs a socket path */
    load_err("inspect: all\noutput:\n  type: unix_stream\n", 3, "set output.path to the socket");
    load_err("output:\n  path: '-'\n  type: unix_dgram\n", 2, "set output.path to the socket");
}

static void test_bad_cidrs(void **state)
{
    (void)state;
    load_err_exact("inspect: all\nhome_net: ['10.0.0.0/33']\n",
                   "config.yaml:2: home_net: '10.0.0.0/33' is not a valid CIDR (prefix length "
                   "0-32 for IPv4)");
    load_err("home_net:\n  - 10.0.0.0/8\n  - fc00::/129\n", 3, "prefix length 0-128 for IPv6");
    load_err("home_net: []\n", 1, "home_net: is empty");
    load_err("allowlist:\n  destinations:\n    - example.com\n    - 300.1.2.3\n", 4,
             "allowlist.destinations: '300.1.2.3' is not a valid CIDR");
    load_err("allowlist:\n  destinations: [10.0.0.0/]\n", 2, "missing prefix length");
    load_err("allowlist:\n  destinations: ['bad host!']\n", 2,
             "'bad host!' is neither a CIDR nor a host name");
    load_err("allowlist:\n  destinations: ['*']\n", 2, "neither a CIDR nor a host name");
    load_err("allowlist:\n  destinations: ['a..b']\n", 2, "neither a CIDR nor a host name");
}

static void test_duplicates(void **state)
{
    (void)state;
    load_err("inspect: all\nworkers: 2\ninspect: egress\n", 3,
             "duplicate key 'inspect' in the top level (first at line 1");
    load_err("flow:\n  tcp_timeout: 5\n  tcp_timeout: 6\n", 3,
             "duplicate key 'tcp_timeout' in 'flow' (first at line 2");
    load_err("exact_match:\n  - name: customers\n    file: a.edm\n  - file: b.edm\n"
             "    name: customers\n",
             5, "duplicate list name 'customers' (first at line 2");
    load_err("exact_match:\n  - {name: 'bad name', file: a}\n", 2, "not a valid list name");
}

static void test_syntax_and_io_errors(void **state)
{
    (void)state;
    load_err("inspect: all\nflow:\n  max_flows: 5\n tcp_timeout: 3\n", 4, "YAML syntax error");
    load_err("inspect: all\nhome_net: [10.0.0.0/8\nworkers: 1\n", 3, "started at line 2");
    load_err("a: 'unterminated\n", 2, "YAML syntax error");
    load_err("flow:\n\tmax_flows: 1\n", 2, "indents with spaces, not tabs");
    load_err("inspect: all\n---\ninspect: egress\n", 2, "a second YAML document");
    load_err("inspect: all\nx: \"\xff\xfe\"\n", 2, "not valid YAML text");
    load_err("flow: &f {tcp_timeout: 5}\nreassembly: *f\n", 2, "aliases");
    load_err("inspect: &a egress\nsignatures: [*a]\n", 2, "aliases");

    lw_config c;
    char err[512];
    assert_true(lw_config_defaults(&c));
    assert_int_equal(lw_config_load(&c, "no-such-file.yaml", err, sizeof(err)), 2);
    assert_non_null(strstr(err, "no-such-file.yaml: cannot open"));
    assert_int_equal(lw_config_load(&c, ".", err, sizeof(err)), 2);
    assert_non_null(strstr(err, "cannot read"));
    lw_config_free(&c);
}

/* Echoed values never break the one-line error (load_err asserts no newline) nor overflow. */
static void test_echoed_text_is_sanitized(void **state)
{
    (void)state;
    load_err("\"bad\\nkey\": 1\n", 1, "unknown top-level key 'bad?key'");
    load_err("inspect: \"eg\\nress\"\n", 1, "inspect: 'eg?ress' is not valid");
    load_err("home_net: [\"10.0.0.0\\n/8\"]\n", 1, "'10.0.0.0?/8' is not a valid CIDR");
    load_err("allowlist:\n  destinations: [\"a\\tb.example\"]\n", 2, "'a?b.example' is neither");
    load_err("workers: 123456789012345678901234567890123456789012345678901234567890\n", 1,
             "workers: 1234567890123456789012345678901234567890... is out of range");
    /* a cut never splits a UTF-8 character: 39 ASCII bytes then a 2-byte character */
    load_err("inspect: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9zzz\n", 1,
             "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not valid");
}

static void test_recursive_alias_does_not_loop(void **state)
{
    (void)state;
    load_err("signatures: &s [a, *s]\n", 1, "aliases");
    load_err("output: &o\n  syslog: *o\n", 2, "aliases");
}

static void test_home_net_override(void **state)
{
    (void)state;
    lw_config c;
    char err[256];
    assert_true(lw_config_defaults(&c));
    assert_int_equal(lw_config_set_home_net(&c, "192.0.2.0/24, 2001:db8::/32", err, sizeof(err)),
                     0);
    assert_int_equal(c.home_net_text.n, 2);
    assert_string_equal(c.home_net_text.v[1], "2001:db8::/32");
    assert_true(has4(c.home_net, "192.0.2.1"));
    assert_false(has4(c.home_net, "10.0.0.1"));
    /* a bad list leaves the previous one in place */
    assert_int_equal(lw_config_set_home_net(&c, "192.0.2.0/24,10.0.0.0/40", err, sizeof(err)), 2);
    assert_string_equal(err, "--home-net: '10.0.0.0/40' is not a valid CIDR (prefix length 0-32 "
                             "for IPv4)");
    assert_true(has4(c.home_net, "192.0.2.1"));
    assert_int_equal(c.home_net_text.n, 2);
    lw_config_free(&c);
}

static void test_enum_names(void **state)
{
    (void)state;
    assert_string_equal(lw_inspect_mode_name(LW_INSPECT_ALL), "all");
    assert_string_equal(lw_flow_log_name(LW_FLOWS_ALERTED), "alerted");
    assert_string_equal(lw_output_type_name(LW_OUTPUT_UNIX_STREAM), "unix_stream");
    assert_string_equal(lw_syslog_facility_name(0), "kern");
    assert_string_equal(lw_syslog_facility_name(23), "local7");
    assert_string_equal(lw_syslog_facility_name(14), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_config),
        cmocka_unit_test(test_defaults_and_empty_files),
        cmocka_unit_test(test_absent_keys_keep_defaults),
        cmocka_unit_test(test_all_values_and_sinks),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_out_of_range_and_enums),
        cmocka_unit_test(test_bad_cidrs),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_syntax_and_io_errors),
        cmocka_unit_test(test_echoed_text_is_sanitized),
        cmocka_unit_test(test_recursive_alias_does_not_loop),
        cmocka_unit_test(test_home_net_override),
        cmocka_unit_test(test_enum_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
