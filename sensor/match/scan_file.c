/*
 * scan_file.c — `leakwatch --scan FILE`: the sensor's matcher and validators over a plain
 * file (or stdin), one JSON line per validated match, for signature authors. The file is one
 * stream, read in chunks, so values that straddle a chunk are found as in a TCP stream.
 * Thresholds do not apply here: every validated match is printed.
 */
#include "match/scan_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leakwatch/json.h"

#define SCAN_CHUNK (256u * 1024u)

typedef struct scan_ctx {
    const lw_fp_key *key;
    bool reveal;
    FILE *out;
    lw_json json;
    uint64_t matches;
} scan_ctx;

static void on_hit(void *user, const lw_match_hit *hit)
{
    scan_ctx *sc = user;
    char buf[LW_FP_TEXT_LEN > LW_MATCH_MAX_VALUE + 1 ? LW_FP_TEXT_LEN : LW_MATCH_MAX_VALUE + 1];
    uint8_t fp[32];
    lw_json *j = &sc->json;
    lw_json_reset(j);
    lw_json_object_begin(j);
    lw_json_kv_u64(j, "signature_id", hit->sig->id);
    lw_json_kv_str(j, "signature", hit->sig->name);
    lw_json_kv_str(j, "category", lw_category_name(hit->sig->category));
    lw_json_kv_str(j, "severity", lw_severity_name(hit->sig->severity));
    lw_json_kv_u64(j, "offset", hit->offset);
    lw_json_kv_u64(j, "length", hit->len);
    size_t n = lw_redact(hit->value, hit->len, buf, sizeof(buf));
    lw_json_key(j, "redacted");
    lw_json_strn(j, (const uint8_t *)buf, n);
    if (hit->norm)
        lw_fingerprint(sc->key, hit->norm, hit->norm_len, fp);
    else
        lw_fingerprint(sc->key, hit->value, hit->len, fp);
    lw_fingerprint_text(fp, buf);
    lw_json_kv_str(j, "fingerprint", buf);
    if (hit->truncated) lw_json_kv_bool(j, "truncated", true);
    if (hit->extra.aws_account[0]) lw_json_kv_str(j, "aws_account", hit->extra.aws_account);
    if (sc->reveal) {
        lw_json_key(j, "value");
        lw_json_strn(j, hit->value, hit->len);
    }
    lw_json_object_end(j);
    lw_json_end_line(j);
    if (!j->oom) fwrite(j->buf, 1, j->len, sc->out);
    sc->matches++;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int lw_scan_file(const lw_matcher *m, const char *path, const lw_fp_key *key, bool reveal,
                 FILE *out)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "leakwatch: --scan %s: %s\n", path, strerror(errno));
        return 1;
    }
    scan_ctx sc = {.key = key, .reveal = reveal, .out = out};
    lw_json_init(&sc.json);
    lw_match_worker *w = lw_match_worker_new(m);
    uint8_t *buf = malloc(SCAN_CHUNK);
    lw_match_stream *s = w ? lw_match_stream_open(w, 0) : NULL;
    int rc = 0;
    uint64_t total = 0;
    double t0 = now_seconds();
    if (!buf || (!s && lw_matcher_get_info(m)->content_sigs)) {
        fprintf(stderr, "leakwatch: --scan: out of memory\n");
        rc = 1;
    }
    while (!rc) {
        size_t n = fread(buf, 1, SCAN_CHUNK, in);
        if (n) lw_match_stream_data(w, s, total, buf, n, on_hit, &sc);
        total += n;
        if (n < SCAN_CHUNK) {
            if (ferror(in)) {
                fprintf(stderr, "leakwatch: --scan %s: read error: %s\n", path, strerror(errno));
                rc = 1;
            }
            break;
        }
    }
    if (s) lw_match_stream_close(w, s, on_hit, &sc);
    double secs = now_seconds() - t0;
    fflush(out);
    if (!rc) {
        const lw_match_counters *k = lw_match_worker_counters(w);
        fprintf(stderr,
                "leakwatch: scanned %llu bytes in %.3f s (%.1f MB/s): %llu matches (%llu "
                "reports, %llu rejected by validators, %llu allowlisted, %llu reports dropped, "
                "%llu decided early)\n",
                (unsigned long long)total, secs, secs > 0 ? (double)total / 1e6 / secs : 0.0,
                (unsigned long long)sc.matches, (unsigned long long)k->c[LW_MATCH_reports],
                (unsigned long long)k->c[LW_MATCH_rejected_validator],
                (unsigned long long)k->c[LW_MATCH_allowlisted_values],
                (unsigned long long)k->c[LW_MATCH_reports_dropped],
                (unsigned long long)k->c[LW_MATCH_pending_overflow]);
    }
    lw_match_worker_free(w);
    free(buf);
    lw_json_free(&sc.json);
    if (!is_stdin) fclose(in);
    return rc;
}
