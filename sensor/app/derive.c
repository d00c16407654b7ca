/*
 * derive.c — layers derived from a part's decoded text (derive.h): the percent-decoded form
 * or unescaped JSON as "<layer>/urlencoded" / "<layer>/json" from the first changed byte on
 * (with up to LW_DERIVE_CONTEXT bytes of the text before it replayed), and base64 runs found
 * in that text as "<layer>[/urlencoded|/json]/base64" parts when they decode to text.
 *
 * All memory is allocated at lw_derive_new: input is decoded through a fixed block, runs are
 * decoded through a fixed buffer, and the bytes of a run not yet judged are held in a buffer
 * sized for the longer of the probe and min_b64.
 */
#include "leakwatch/derive.h"
#include "leakwatch/utf8.h"

#include <stdlib.h>
#include <string.h>

LW_COUNTER_NAMES(derive, DERIVE, LW_DERIVE_COUNTERS)

#define CHUNK 4096               /* input bytes decoded per step */
#define TEXT_BUF (CHUNK + 64)    /* their decoded text (at most CHUNK + 8 bytes) */
#define RUN_IN 4096              /* run characters decoded per step once a run is emitted */
#define RUN_OUT (RUN_IN / 4 * 3) /* ... giving at most this many bytes */
#define MIN_B64_CAP 65536        /* min_b64 is cut to this (it sizes the hold buffer) */
/* characters of a run that decode to the LW_DERIVE_B64_PROBE bytes that are judged */
#define PROBE_CHARS ((LW_DERIVE_B64_PROBE * 4 + 2) / 3)
#define TEXT_PERCENT 90 /* "mostly printable": at least this share of the probe's bytes */

enum run_state { RUN_NONE, RUN_UNDECIDED, RUN_EMIT, RUN_REJECT };

typedef union text_dec {
    lw_pct pct;
    lw_json_unesc json;
} text_dec;

struct lw_derive {
    lw_part_sink text, b64;
    bool find_b64;
    size_t min_b64;
    size_t decide_at; /* run length (characters) at which a run still going on is judged */
    lw_derive_counters *ctr;
    lw_codec_counters *codec;

    /* the parent part */
    bool open;
    enum lw_text_kind kind;
    bool header;     /* LW_TEXT_HEADER: runs its decoder decodes itself are skipped */
    uint8_t back[8]; /* the last text bytes before the current piece (header look-behind) */
    size_t back_len;
    char layer[LW_LAYER_MAX];
    char filename[LW_FILENAME_MAX];
    bool has_filename;
    text_dec dec;
    bool changed;   /* the text decoder changed a byte: text from here on is the sub-layer */
    bool text_open; /* the sub-layer part is open on the text sink */
    uint8_t ctx[LW_DERIVE_CONTEXT]; /* the last unchanged text, until the first change */
    size_t ctx_len;

    /* the base64 run being read */
    enum run_state run;
    size_t run_chars;
    lw_b64 rdec;
    uint8_t *hold; /* decoded bytes of a run not yet judged */
    size_t hold_len, hold_cap;

    uint8_t text_buf[TEXT_BUF];
    uint8_t run_buf[RUN_OUT + 8];
};

/* ------------------------------------------------------------------ helpers */

static bool is_b64_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '-' || c == '_';
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* dst = a + b + c, cut to LW_LAYER_MAX - 1 characters. */
static void layer_join(char *dst, const char *a, const char *b, const char *c)
{
    size_t n = 0;
    const char *parts[3] = {a, b, c};
    for (int p = 0; p < 3; p++)
        for (const char *s = parts[p]; *s && n + 1 < LW_LAYER_MAX; s++) dst[n++] = *s;
    dst[n] = '\0';
}

static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *sub_suffix(const lw_derive *d)
{
    if (!d->changed) return "";
    return d->kind == LW_TEXT_FORM ? "/urlencoded" : "/json";
}

static lw_part_info part_info(const lw_derive *d, const char *layer)
{
    return (lw_part_info){.layer = layer,
                          .filename = d->has_filename ? d->filename : NULL,
                          .identity = false,
                          .kind = LW_TEXT_OTHER,
                          .opaque = false};
}

static void sink_data(const lw_part_sink *s, const uint8_t *data, size_t len)
{
    if (len && s->data) s->data(s->user, data, len, LW_NO_RAW);
}

/* ------------------------------------------------------------------ is it text? */

/* At least TEXT_PERCENT % of p[0..n) are printable ASCII, tab, CR, LF or valid UTF-8. */
static bool mostly_text(const uint8_t *p, size_t n)
{
    size_t good = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if ((c >= 0x20 && c < 0x7F) || c == '\t' || c == '\r' || c == '\n') {
            good++, i++;
            continue;
        }
        size_t k = c >= 0x80 ? lw_utf8_seq(p + i, n - i, true) : 0;
        if (k) {
            good += k, i += k;
        } else {
            i++;
        }
    }
    return good * 100 >= (size_t)TEXT_PERCENT * n;
}

/* ------------------------------------------------------------------ base64 runs */

static void run_emit(lw_derive *d, const uint8_t *p, size_t n)
{
    d->ctr->c[LW_DERIVE_b64_bytes] += n;
    sink_data(&d->b64, p, n);
}

/* Judges the held bytes of a run long enough to count: emits the run or rejects it. */
static void run_decide(lw_derive *d)
{
    size_t probe = min_size(d->hold_len, LW_DERIVE_B64_PROBE);
    if (probe == 0) {
        d->ctr->c[LW_DERIVE_b64_short]++;
        d->run = RUN_REJECT;
        return;
    }
    if (!mostly_text(d->hold, probe)) {
        d->ctr->c[LW_DERIVE_b64_not_text]++;
        d->run = RUN_REJECT;
        return;
    }
    char layer[LW_LAYER_MAX];
    layer_join(layer, d->layer, sub_suffix(d), "/base64");
    lw_part_info info = part_info(d, layer);
    d->b64.begin(d->b64.user, &info);
    d->ctr->c[LW_DERIVE_b64_runs]++;
    d->run = RUN_EMIT;
    run_emit(d, d->hold, d->hold_len);
    d->hold_len = 0;
}

static void run_start(lw_derive *d)
{
    d->run = RUN_UNDECIDED;
    d->run_chars = 0;
    d->hold_len = 0;
    lw_b64_init(&d->rdec);
}

/* The next characters of the run (all in the base64 alphabets). */
static void run_feed(lw_derive *d, const uint8_t *s, size_t len)
{
    while (len && d->run == RUN_UNDECIDED) {
        size_t k = min_size(len, d->decide_at - d->run_chars);
        d->hold_len += lw_b64_decode(&d->rdec, s, k, d->hold + d->hold_len, d->codec);
        d->run_chars += k, s += k, len -= k;
        if (d->run_chars == d->decide_at) run_decide(d);
    }
    while (len && d->run == RUN_EMIT) {
        size_t k = min_size(len, RUN_IN);
        run_emit(d, d->run_buf, lw_b64_decode(&d->rdec, s, k, d->run_buf, d->codec));
        s += k, len -= k;
    }
}

static void run_end(lw_derive *d)
{
    if (d->run == RUN_UNDECIDED) {
        if (d->run_chars < d->min_b64)
            d->ctr->c[LW_DERIVE_b64_short]++;
        else
            run_decide(d);
    }
    if (d->run == RUN_EMIT) {
        lw_b64_finish(&d->rdec, d->codec);
        if (d->b64.end) d->b64.end(d->b64.user);
    }
    d->run = RUN_NONE;
}

/* The text byte k places before t[i] (1 = right before), from this piece or the last. */
static int byte_before(const lw_derive *d, const uint8_t *t, size_t i, size_t k)
{
    if (k <= i) return t[i - k];
    k -= i;
    return k <= d->back_len ? d->back[d->back_len - k] : -1;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Header text: does the run starting at t[i] follow "Basic " or an encoded-word's "?B?"? */
static bool decoded_elsewhere(const lw_derive *d, const uint8_t *t, size_t i)
{
    if (byte_before(d, t, i, 1) == '?')
        return lower(byte_before(d, t, i, 2)) == 'b' && byte_before(d, t, i, 3) == '?';
    if (byte_before(d, t, i, 1) != ' ') return false;
    static const char basic[] = "basic";
    for (size_t k = 0; k < 5; k++)
        if (lower(byte_before(d, t, i, 6 - k)) != basic[k]) return false;
    return true;
}

static void back_keep(lw_derive *d, const uint8_t *t, size_t n)
{
    size_t cap = sizeof(d->back);
    if (n >= cap) {
        memcpy(d->back, t + n - cap, cap);
        d->back_len = cap;
        return;
    }
    size_t keep = d->back_len + n > cap ? cap - n : d->back_len;
    memmove(d->back, d->back + d->back_len - keep, keep);
    memcpy(d->back + keep, t, n);
    d->back_len = keep + n;
}

/* Looks for base64 runs in the next piece of text; a run goes on across pieces. */
static void scan_b64(lw_derive *d, const uint8_t *t, size_t n)
{
    if (!d->find_b64) return;
    size_t i = 0;
    while (i < n) {
        if (d->run == RUN_NONE) {
            while (i < n && !is_b64_char(t[i])) i++;
            if (i == n) break;
            run_start(d);
            if (d->header && decoded_elsewhere(d, t, i)) d->run = RUN_REJECT;
        }
        size_t j = i;
        while (j < n && is_b64_char(t[j])) j++;
        run_feed(d, t + i, j - i);
        if (j < n) run_end(d), j++; /* t[j] (padding or any other byte) ends the run */
        i = j;
    }
    if (d->header) back_keep(d, t, n);
}

/* ------------------------------------------------------------------ the text sub-layer */

static void ctx_push(lw_derive *d, const uint8_t *p, size_t n)
{
    if (n >= LW_DERIVE_CONTEXT) {
        memcpy(d->ctx, p + n - LW_DERIVE_CONTEXT, LW_DERIVE_CONTEXT);
        d->ctx_len = LW_DERIVE_CONTEXT;
        return;
    }
    if (d->ctx_len + n > LW_DERIVE_CONTEXT) {
        size_t drop = d->ctx_len + n - LW_DERIVE_CONTEXT;
        memmove(d->ctx, d->ctx + drop, d->ctx_len - drop);
        d->ctx_len -= drop;
    }
    memcpy(d->ctx + d->ctx_len, p, n);
    d->ctx_len += n;
}

/* The first change: the sub-layer begins with the text before it. */
static void text_open(lw_derive *d)
{
    d->changed = true;
    if (!d->text.begin) return;
    char layer[LW_LAYER_MAX];
    layer_join(layer, d->layer, sub_suffix(d), "");
    lw_part_info info = part_info(d, layer);
    d->text.begin(d->text.user, &info);
    d->text_open = true;
    d->ctr->c[LW_DERIVE_text_parts]++;
    sink_data(&d->text, d->ctx, d->ctx_len);
    d->ctx_len = 0;
}

/* Decoded text: into the sub-layer once it is open, else kept as context; then searched. */
static void text_out(lw_derive *d, const uint8_t *p, size_t n)
{
    if (d->text_open)
        sink_data(&d->text, p, n);
    else if (!d->changed)
        ctx_push(d, p, n);
    scan_b64(d, p, n);
}

static size_t dec_decode(lw_derive *d, const uint8_t *in, size_t len, uint8_t *out,
                         lw_codec_counters *ctr)
{
    if (d->kind == LW_TEXT_FORM) return lw_pct_decode(&d->dec.pct, in, len, out, ctr);
    return lw_json_unesc_decode(&d->dec.json, in, len, out, ctr);
}

static bool dec_changed(const lw_derive *d)
{
    return d->kind == LW_TEXT_FORM ? d->dec.pct.changed : d->dec.json.changed;
}

/* Before the first change: a trial decode of the block; when it changes something, the block
 * is decoded again byte by byte from the saved state to find where the change begins. */
static void text_block_unchanged(lw_derive *d, const uint8_t *in, size_t len)
{
    text_dec saved = d->dec;
    lw_codec_counters trial = {{0}};
    size_t n = dec_decode(d, in, len, d->text_buf, &trial);
    if (!dec_changed(d)) {
        LW_COUNTERS_ADD(d->codec, &trial);
        text_out(d, d->text_buf, n);
        return;
    }
    d->dec = saved;
    size_t before = 0, i = 0;
    n = 0;
    while (i < len && !dec_changed(d)) {
        before += n;
        n = dec_decode(d, in + i++, 1, d->text_buf + before, d->codec);
    }
    if (!dec_changed(d)) before += n, n = 0; /* not reached: the trial decode changed a byte */
    text_out(d, d->text_buf, before);        /* the text before the change */
    if (dec_changed(d)) text_open(d);
    n += before;
    n += dec_decode(d, in + i, len - i, d->text_buf + n, d->codec);
    text_out(d, d->text_buf + before, n - before);
}

static void text_block(lw_derive *d, const uint8_t *in, size_t len)
{
    if (!d->changed) {
        text_block_unchanged(d, in, len);
        return;
    }
    size_t n = dec_decode(d, in, len, d->text_buf, d->codec);
    text_out(d, d->text_buf, n);
}

/* ------------------------------------------------------------------ API */

lw_derive *lw_derive_new(const lw_part_sink *text, const lw_part_sink *b64, bool find_b64,
                         size_t min_b64, lw_derive_counters *ctr, lw_codec_counters *codec)
{
    lw_derive *d = calloc(1, sizeof(*d));
    if (!d) return NULL;
    if (text) d->text = *text;
    if (b64) d->b64 = *b64;
    d->find_b64 = find_b64 && d->b64.begin;
    d->min_b64 = min_b64 ? min_size(min_b64, MIN_B64_CAP) : LW_DERIVE_B64_MIN;
    d->decide_at = d->min_b64 > PROBE_CHARS ? d->min_b64 : PROBE_CHARS;
    d->hold_cap = d->decide_at / 4 * 3 + 3;
    d->hold = malloc(d->hold_cap);
    d->ctr = ctr;
    d->codec = codec;
    if (!d->hold || !ctr || !codec) {
        free(d->hold);
        free(d);
        return NULL;
    }
    return d;
}

void lw_derive_begin(lw_derive *d, const char *layer, const char *filename, enum lw_text_kind kind)
{
    if (d->open) lw_derive_end(d);
    d->open = true;
    d->kind = kind == LW_TEXT_FORM || kind == LW_TEXT_JSON ? kind : LW_TEXT_OTHER;
    d->header = kind == LW_TEXT_HEADER;
    d->back_len = 0;
    copy_cut(d->layer, sizeof(d->layer), layer ? layer : "");
    d->has_filename = filename != NULL;
    copy_cut(d->filename, sizeof(d->filename), filename ? filename : "");
    if (d->kind == LW_TEXT_FORM) lw_pct_init(&d->dec.pct, true);
    if (d->kind == LW_TEXT_JSON) lw_json_unesc_init(&d->dec.json);
    d->changed = false;
    d->text_open = false;
    d->ctx_len = 0;
    d->run = RUN_NONE;
}

void lw_derive_data(lw_derive *d, const uint8_t *data, size_t len)
{
    if (!d->open || !data) return;
    if (d->kind == LW_TEXT_OTHER) {
        scan_b64(d, data, len);
        return;
    }
    for (size_t off = 0; off < len; off += CHUNK)
        text_block(d, data + off, min_size(len - off, CHUNK));
}

void lw_derive_end(lw_derive *d)
{
    if (!d->open) return;
    if (d->kind != LW_TEXT_OTHER) {
        size_t n = d->kind == LW_TEXT_FORM
                       ? lw_pct_finish(&d->dec.pct, d->text_buf, d->codec)
                       : lw_json_unesc_finish(&d->dec.json, d->text_buf, d->codec);
        if (!d->changed && dec_changed(d)) text_open(d);
        text_out(d, d->text_buf, n);
    }
    if (d->run != RUN_NONE) run_end(d);
    if (d->text_open && d->text.end) d->text.end(d->text.user);
    d->text_open = false;
    d->open = false;
}

void lw_derive_free(lw_derive *d)
{
    if (!d) return;
    free(d->hold);
    free(d);
}
