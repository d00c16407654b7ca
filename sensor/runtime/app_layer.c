/*
 * app_layer.c — application layers of a flow (see app_layer.h): picks a flow's decoders from
 * its first bytes, hands reassembled bytes to them, scans what they decode in per-direction
 * layer streams, and remembers which raw byte ranges they labelled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leakwatch/smtp.h"
#include "worker_private.h"

LW_COUNTER_NAMES(layer, LAYER, LW_LAYER_COUNTERS)

#define LABELS 8   /* recent parts whose raw ranges can still be looked up */
#define REGIONS 32 /* recent labelled raw ranges */

enum { LS_DECODED, LS_TEXT, LS_B64, LS__COUNT };

typedef struct label {
    char layer[LW_LAYER_MAX];
    char filename[LW_FILENAME_MAX];
    uint32_t msg, gen;
} label;

typedef struct region {
    uint64_t start, end;
    uint32_t gen;
    uint8_t slot;
} region;

typedef struct lstream {
    lw_match_stream *ms;
    bool tried; /* opening failed once: not retried */
    uint64_t off;
    label lab;
} lstream;

typedef struct app_dir {
    lw_worker *w; /* of the call in progress (callbacks run inside lw_app_* calls) */
    lw_flow *f;
    int dir;
    uint32_t msg; /* current message (1-based; 0 before the first) */
    lstream ls[LS__COUNT];
    label labels[LABELS];
    uint32_t gen_next;
    region regions[REGIONS];
    unsigned reg_next;
    lw_derive *derive;
    bool derive_open, part_open, part_identity;
    int part_slot;
    uint64_t budget; /* decoded bytes this direction may still produce (max_decoded_mb) */
    lw_part_sink sink, text_sink, b64_sink;
    lw_mime *smtp_mime; /* the mail in progress (SMTP DATA/BDAT or IMAP APPEND) */
    bool imap;          /* ... read by the IMAP reader: layers "imap.mime.*" */
} app_dir;

enum app_kind { APP_UNDECIDED, APP_NONE, APP_HTTP, APP_SMTP, APP_IMAP, APP_FTP };

struct lw_app_flow {
    enum app_kind kind;
    app_dir *d[2];
    lw_http *http;
    lw_ftp *ftp;
    lw_imap *imap;
    lw_ftp_transfer *xfer; /* this flow is an FTP data connection */
    bool ended[2];
    bool no_raw; /* STARTTLS: nothing more is inspected */
    bool smtp_done;
};

void lw_app_counters_add(lw_app_counters *dst, const lw_app_counters *src)
{
    LW_COUNTERS_ADD(&dst->layer, &src->layer);
    LW_COUNTERS_ADD(&dst->http, &src->http);
    LW_COUNTERS_ADD(&dst->decomp, &src->decomp);
    LW_COUNTERS_ADD(&dst->mime, &src->mime);
    LW_COUNTERS_ADD(&dst->codec, &src->codec);
    LW_COUNTERS_ADD(&dst->derive, &src->derive);
    LW_COUNTERS_ADD(&dst->ftp, &src->ftp);
    LW_COUNTERS_ADD(&dst->dns, &src->dns);
    LW_COUNTERS_ADD(&dst->imap, &src->imap);
}

static lw_layer_counters *lc(lw_worker *w)
{
    return &w->app.layer;
}

/* ------------------------------------------------------------------ layer streams */

/* The engine generation of ad's flow: its streams are scanned with that one's databases. */
static lw_wengine *engine_of(const app_dir *ad)
{
    return ((lw_flow_ctx *)ad->f->user)->we;
}

static void hit_ctx_of(app_dir *ad, const lstream *ls, lw_hit_ctx *h)
{
    *h = (lw_hit_ctx){.w = ad->w,
                      .f = ad->f,
                      .dir = ad->dir,
                      .layer = ls->lab.layer,
                      .filename = ls->lab.filename[0] ? ls->lab.filename : NULL,
                      .msg = ls->lab.msg};
}

/* The stream of layer i, opened on first use. NULL: not scanned (counted once). */
static lstream *ls_get(app_dir *ad, int i)
{
    lstream *ls = &ad->ls[i];
    if (ls->ms) return ls;
    if (ls->tried || !engine_of(ad)->match) return NULL;
    ls->tried = true;
    if (!(ls->ms = lw_worker_stream_open(ad->w, engine_of(ad), 0))) {
        lc(ad->w)->c[LW_LAYER_streams_memcap]++;
        return NULL;
    }
    ls->off = 0;
    return ls;
}

static void ls_boundary(app_dir *ad, lstream *ls)
{
    lw_hit_ctx h;
    hit_ctx_of(ad, ls, &h);
    lw_match_stream_boundary(engine_of(ad)->match, ls->ms, ls->off, lw_worker_on_hit, &h);
}

static void ls_begin(app_dir *ad, int i, const char *layer, const char *filename)
{
    lstream *ls = ls_get(ad, i);
    if (!ls) return;
    ls_boundary(ad, ls); /* what is pending belongs to the previous part */
    snprintf(ls->lab.layer, sizeof(ls->lab.layer), "%s", layer);
    snprintf(ls->lab.filename, sizeof(ls->lab.filename), "%s", filename ? filename : "");
    ls->lab.msg = ad->msg;
    lc(ad->w)->c[LW_LAYER_parts]++;
}

static void ls_data(app_dir *ad, int i, const uint8_t *data, size_t len)
{
    lstream *ls = &ad->ls[i];
    if (!ls->ms || !len) return;
    lw_hit_ctx h;
    hit_ctx_of(ad, ls, &h);
    lw_match_stream_data(engine_of(ad)->match, ls->ms, ls->off, data, len, lw_worker_on_hit, &h);
    ls->off += len;
    lc(ad->w)->c[LW_LAYER_decoded_bytes_scanned] += len;
}

static void ls_end(app_dir *ad, int i)
{
    if (ad->ls[i].ms) ls_boundary(ad, &ad->ls[i]);
}

static void ls_close_all(app_dir *ad)
{
    for (int i = 0; i < LS__COUNT; i++) {
        lstream *ls = &ad->ls[i];
        if (!ls->ms) continue;
        lw_hit_ctx h;
        hit_ctx_of(ad, ls, &h);
        lw_worker_stream_close(ad->w, ls->ms, &h);
        ls->ms = NULL;
    }
}

/* ------------------------------------------------------------------ labels of raw ranges */

static int label_new(app_dir *ad, const char *layer, const char *filename)
{
    int slot = (int)(ad->gen_next % LABELS);
    label *l = &ad->labels[slot];
    snprintf(l->layer, sizeof(l->layer), "%s", layer);
    snprintf(l->filename, sizeof(l->filename), "%s", filename ? filename : "");
    l->msg = ad->msg;
    l->gen = ++ad->gen_next;
    return slot;
}

static void region_add(app_dir *ad, uint64_t raw, size_t len, int slot)
{
    uint32_t gen = ad->labels[slot].gen;
    region *last = &ad->regions[(ad->reg_next + REGIONS - 1) % REGIONS];
    if (ad->reg_next && last->gen == gen && last->end == raw) {
        last->end += len;
        return;
    }
    region *r = &ad->regions[ad->reg_next++ % REGIONS];
    *r = (region){.start = raw, .end = raw + len, .gen = gen, .slot = (uint8_t)slot};
}

/* ------------------------------------------------------------------ the part sinks */

static void derived_begin(void *user, const lw_part_info *info, int i)
{
    app_dir *ad = user;
    ls_begin(ad, i, info->layer, info->filename);
}

static void text_begin(void *user, const lw_part_info *info)
{
    derived_begin(user, info, LS_TEXT);
}
static void text_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    (void)raw;
    ls_data(user, LS_TEXT, data, len);
}
static void text_end(void *user)
{
    ls_end(user, LS_TEXT);
}
static void b64_begin(void *user, const lw_part_info *info)
{
    derived_begin(user, info, LS_B64);
}
static void b64_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    (void)raw;
    ls_data(user, LS_B64, data, len);
}
static void b64_end(void *user)
{
    ls_end(user, LS_B64);
}

static void part_end(void *user);

static void part_begin(void *user, const lw_part_info *info)
{
    app_dir *ad = user;
    lw_worker *w = ad->w;
    if (ad->part_open) {
        lc(w)->c[LW_LAYER_part_nesting]++;
        part_end(ad);
    }
    ad->part_open = true;
    ad->part_identity = info->identity;
    ad->part_slot = label_new(ad, info->layer, info->filename);
    if (!info->identity) {
        ls_begin(ad, LS_DECODED, info->layer, info->filename);
    } else {
        lc(w)->c[LW_LAYER_parts]++;
    }
    bool text = info->kind == LW_TEXT_FORM || info->kind == LW_TEXT_JSON;
    bool derive = !info->opaque && (text || w->rt->decode_base64);
    if (derive && !ad->derive)
        ad->derive = lw_derive_new(&ad->text_sink, &ad->b64_sink, w->rt->decode_base64, 0,
                                   &w->app.derive, &w->app.codec);
    if (derive && ad->derive) {
        lw_derive_begin(ad->derive, info->layer, info->filename, info->kind);
        ad->derive_open = true;
    }
}

static void part_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    app_dir *ad = user;
    if (!ad->part_open) return;
    if (raw != LW_NO_RAW) region_add(ad, raw, len, ad->part_slot);
    if (ad->part_identity)
        lc(ad->w)->c[LW_LAYER_identity_bytes] += len;
    else
        ls_data(ad, LS_DECODED, data, len);
    if (ad->derive_open) lw_derive_data(ad->derive, data, len);
}

static void part_end(void *user)
{
    app_dir *ad = user;
    if (!ad->part_open) return;
    if (!ad->part_identity) ls_end(ad, LS_DECODED);
    if (ad->derive_open) lw_derive_end(ad->derive);
    ad->derive_open = false;
    ad->part_open = false;
}

static void part_guard(void *user, const char *kind, const char *message)
{
    app_dir *ad = user;
    lc(ad->w)->c[LW_LAYER_guards]++;
    lw_worker_error(ad->w, ad->f, kind, message);
}

static void part_message(void *user)
{
    app_dir *ad = user;
    ad->msg++;
}

/* SMTP message content into the MIME engine */
static void smtp_begin(void *user)
{
    app_dir *ad = user;
    lw_worker *w = ad->w;
    part_message(ad);
    lc(w)->c[ad->imap ? LW_LAYER_imap_messages : LW_LAYER_smtp_messages]++;
    if (ad->smtp_mime) lw_mime_free(ad->smtp_mime);
    ad->smtp_mime = lw_mime_new(ad->imap ? "imap.mime" : "smtp.mime", NULL, LW_MIME_DEPTH_DEFAULT,
                                &ad->sink, &w->app.mime, &w->app.codec);
    if (!ad->smtp_mime) lc(w)->c[LW_LAYER_state_failed]++;
}

static void smtp_end(void *user);

static void smtp_data(void *user, const uint8_t *data, size_t len, uint64_t raw)
{
    app_dir *ad = user;
    if (!ad->smtp_mime) return;
    if (len > ad->budget) {
        /* decode.max_decoded_mb: the rest of this direction is scanned raw only */
        char msg[128];
        snprintf(msg, sizeof(msg),
                 "mail content past decode.max_decoded_mb (%llu MiB): not decoded further",
                 (unsigned long long)(ad->w->rt->max_decoded_bytes >> 20));
        ad->budget = 0;
        smtp_end(ad);
        part_guard(ad, "decode_max_bytes", msg);
        return;
    }
    ad->budget -= len;
    lw_mime_data(ad->smtp_mime, data, len, raw);
}

static void smtp_end(void *user)
{
    app_dir *ad = user;
    if (!ad->smtp_mime) return;
    lw_mime_end(ad->smtp_mime);
    lw_mime_free(ad->smtp_mime);
    ad->smtp_mime = NULL;
}

static app_dir *dir_new(lw_worker *w, int dir)
{
    app_dir *ad = calloc(1, sizeof(*ad));
    if (!ad) return NULL;
    ad->dir = dir;
    ad->budget = w->rt->max_decoded_bytes;
    ad->sink = (lw_part_sink){.begin = part_begin,
                              .data = part_data,
                              .end = part_end,
                              .guard = part_guard,
                              .message = part_message,
                              .user = ad};
    ad->text_sink = (lw_part_sink){
        .begin = text_begin, .data = text_data, .end = text_end, .guard = part_guard, .user = ad};
    ad->b64_sink = (lw_part_sink){
        .begin = b64_begin, .data = b64_data, .end = b64_end, .guard = part_guard, .user = ad};
    return ad;
}

static void dir_free(lw_worker *w, lw_flow *f, app_dir *ad)
{
    if (!ad) return;
    ad->w = w;
    ad->f = f;
    smtp_end(ad);
    part_end(ad);
    ls_close_all(ad);
    lw_derive_free(ad->derive);
    free(ad);
}

/* ------------------------------------------------------------------ choosing decoders */

static lw_flow_ctx *ctx_of(const lw_flow *f)
{
    return f->user;
}

static lw_app_flow *app_get(lw_worker *w, lw_flow *f)
{
    lw_flow_ctx *c = ctx_of(f);
    if (!c) return NULL;
    if (!c->app && !(c->app = calloc(1, sizeof(lw_app_flow)))) lc(w)->c[LW_LAYER_state_failed]++;
    return c->app;
}

/* A direction's decoded layers are wanted when it is inspected and not allowlisted. */
static bool wanted(const lw_worker *w, const lw_flow_ctx *c, int dir)
{
    (void)w;
    return c->we->match && (c->inspect_mask >> dir & 1) && !(c->allow_mask >> dir & 1) &&
           !c->name_allowlisted;
}

static app_dir *dir_get(lw_worker *w, lw_flow *f, lw_app_flow *a, int dir)
{
    if (!a->d[dir] && wanted(w, ctx_of(f), dir) && !(a->d[dir] = dir_new(w, dir)))
        lc(w)->c[LW_LAYER_state_failed]++;
    app_dir *ad = a->d[dir];
    if (ad) ad->w = w, ad->f = f;
    return ad;
}

static void endpoint(lw_ftp_endpoint *ep, const lw_flow *f, bool responder)
{
    ep->ip_version = f->ip_version;
    memcpy(ep->addr, responder ? f->dst_ip.b : f->src_ip.b, 16);
    ep->port = responder ? f->dst_port : f->src_port;
}

static void ftp_expect(void *user, const lw_ftp_endpoint *ep, lw_ftp_transfer *t)
{
    lw_worker *w = user;
    uint64_t expired = 0;
    if (!lw_ftp_expect_add(w->rt->ftp_expect, ep, t, w->now_usec, &expired))
        w->app.ftp.c[LW_FTP_expect_full]++;
    w->app.ftp.c[LW_FTP_expect_expired] += expired;
}

static bool is_smtp_flow(const lw_flow *f, const lw_flow_meta *m)
{
    bool port = f->dst_port == 25 || f->dst_port == 587 || f->dst_port == 2525;
    /* the port alone suffices: nDPI 4.2 sometimes names SMTP otherwise (MQTT), and the command
     * reader is harmless on a stream that is not SMTP */
    return lw_classify_is_smtp(m) || port;
}

static bool is_imap_flow(const lw_flow *f, const lw_flow_meta *m)
{
    return f->dst_port == 143 || strncmp(m->protocol, "IMAP", 4) == 0;
}

static bool is_ftp_control(const lw_flow *f, const lw_flow_meta *m)
{
    return f->dst_port == 21 || strstr(m->protocol, "FTP_CONTROL") != NULL;
}

static void decide(lw_worker *w, lw_flow *f, lw_app_flow *a, int dir, const uint8_t *data,
                   uint32_t len)
{
    lw_flow_ctx *c = ctx_of(f);
    const lw_flow_meta *m = &c->cls.meta;
    const lw_runtime *rt = w->rt;
    a->kind = APP_NONE;
    if (dir == 0 && rt->decode_http && lw_http_looks_like_request(data, len) &&
        (wanted(w, c, 0) || wanted(w, c, 1))) {
        app_dir *d0 = dir_get(w, f, a, 0), *d1 = dir_get(w, f, a, 1);
        lw_http_env env = {
            .sink = {d0 ? &d0->sink : NULL, d1 ? &d1->sink : NULL},
            .budget = {d0 ? &d0->budget : NULL, d1 ? &d1->budget : NULL},
            .pool = &w->pool,
            .mime_depth = LW_MIME_DEPTH_DEFAULT,
            .http = &w->app.http,
            .decomp = &w->app.decomp,
            .mime = &w->app.mime,
            .codec = &w->app.codec,
        };
        if ((a->http = lw_http_new(&env))) {
            a->kind = APP_HTTP;
            lc(w)->c[LW_LAYER_http_flows]++;
        } else {
            lc(w)->c[LW_LAYER_state_failed]++;
        }
    } else if (f->proto == 6 && is_smtp_flow(f, m)) {
        a->kind = APP_SMTP;
    } else if (f->proto == 6 && is_imap_flow(f, m)) {
        app_dir *ad = rt->decode_smtp ? dir_get(w, f, a, 0) : NULL;
        lw_smtp_content content = {0};
        if (ad) {
            ad->imap = true;
            content = (lw_smtp_content){
                .begin = smtp_begin, .data = smtp_data, .end = smtp_end, .user = ad};
        }
        if ((a->imap = lw_imap_new(&content, &w->app.imap)))
            a->kind = APP_IMAP;
        else
            lc(w)->c[LW_LAYER_state_failed]++;
    } else if (f->proto == 6 && is_ftp_control(f, m) && rt->ftp_expect) {
        lw_ftp_endpoint cli, srv;
        endpoint(&cli, f, false);
        endpoint(&srv, f, true);
        if ((a->ftp = lw_ftp_new(&cli, &srv, ftp_expect, w, &w->app.ftp))) {
            a->kind = APP_FTP;
            lc(w)->c[LW_LAYER_ftp_control_flows]++;
        }
    }
}

/* ------------------------------------------------------------------ API */

static void claim_ftp_data(lw_worker *w, lw_flow *f)
{
    lw_flow_ctx *c = ctx_of(f);
    if (!w->rt->ftp_expect || f->proto != 6 || !c || (c->app && c->app->xfer)) return;
    lw_ftp_endpoint ep;
    endpoint(&ep, f, true);
    lw_ftp_transfer *t = lw_ftp_expect_claim(w->rt->ftp_expect, &ep, w->now_usec);
    if (!t) return;
    lw_app_flow *a = app_get(w, f);
    if (!a) {
        lw_ftp_transfer_unref(t);
        return;
    }
    a->xfer = t;
    a->kind = APP_NONE;
    w->app.ftp.c[LW_FTP_linked]++;
    lc(w)->c[LW_LAYER_ftp_data_flows]++;
}

void lw_app_flow_start(lw_worker *w, lw_flow *f)
{
    claim_ftp_data(w, f);
}

static void smtp_client(lw_worker *w, lw_flow *f, lw_app_flow *a, const uint8_t *data, uint32_t len,
                        uint64_t offset)
{
    lw_flow_meta *m = &ctx_of(f)->cls.meta;
    if (!m->smtp && !(m->smtp = lw_smtp_new())) {
        w->counters.c[LW_WORKER_flow_ctx_failed]++;
        return;
    }
    app_dir *ad = w->rt->decode_smtp ? dir_get(w, f, a, 0) : NULL;
    if (ad && !m->smtp->content.begin)
        m->smtp->content =
            (lw_smtp_content){.begin = smtp_begin, .data = smtp_data, .end = smtp_end, .user = ad};
    lw_smtp_client_data(m->smtp, data, len, offset);
    if (m->smtp->tls && !a->no_raw) {
        /* STARTTLS: the rest is TLS; inspection of this flow ends here */
        a->no_raw = true;
        lc(w)->c[LW_LAYER_smtp_starttls]++;
        lw_smtp_end(m->smtp);
    }
}

void lw_app_data(lw_worker *w, lw_flow *f, int dir, uint64_t offset, const uint8_t *data,
                 uint32_t len)
{
    lw_flow_ctx *c = ctx_of(f);
    if (!c) return;
    if (offset == 0 && (!c->app || !c->app->xfer)) claim_ftp_data(w, f);
    lw_app_flow *a = c->app;
    if (!a || a->kind == APP_UNDECIDED) {
        if (offset != 0 || (dir == 1 && f->dst_port != 21 && f->dst_port != 25 &&
                            f->dst_port != 143 && f->dst_port != 587 && f->dst_port != 2525))
            return; /* decoders start at a direction's first byte (client first for HTTP) */
        if (!a && !(a = app_get(w, f))) return;
        decide(w, f, a, dir, data, len);
    }
    if (a->ended[dir] || a->no_raw) return;
    for (int d = 0; d < 2; d++)
        if (a->d[d]) a->d[d]->w = w, a->d[d]->f = f;
    switch (a->kind) {
    case APP_HTTP:
        lw_http_data(a->http, dir, data, len, offset);
        break;
    case APP_SMTP:
        if (dir == 0) smtp_client(w, f, a, data, len, offset);
        break;
    case APP_IMAP:
        if (dir == 0) {
            lw_imap_client_data(a->imap, data, len, offset);
            if (lw_imap_tls(a->imap) && !a->no_raw) {
                /* STARTTLS: the rest is TLS; inspection of this flow ends here */
                a->no_raw = true;
                lc(w)->c[LW_LAYER_imap_starttls]++;
                lw_imap_end(a->imap);
            }
        }
        break;
    case APP_FTP:
        if (dir == 0)
            lw_ftp_client_bytes(a->ftp, data, len);
        else
            lw_ftp_server_bytes(a->ftp, data, len);
        break;
    default:
        break;
    }
}

void lw_app_gap(lw_worker *w, lw_flow *f, int dir)
{
    lw_flow_ctx *c = ctx_of(f);
    lw_app_flow *a = c ? c->app : NULL;
    if (!a) return;
    for (int d = 0; d < 2; d++)
        if (a->d[d]) a->d[d]->w = w, a->d[d]->f = f;
    if (a->http) lw_http_gap(a->http, dir);
    if (a->ftp) lw_ftp_gap(a->ftp, dir == 0);
    if (a->imap && dir == 0) lw_imap_gap(a->imap);
    if (a->kind == APP_SMTP && dir == 0 && c->cls.meta.smtp) lw_smtp_gap(c->cls.meta.smtp);
}

void lw_app_dir_end(lw_worker *w, lw_flow *f, int dir)
{
    lw_flow_ctx *c = ctx_of(f);
    lw_app_flow *a = c ? c->app : NULL;
    if (!a || a->ended[dir]) return;
    a->ended[dir] = true;
    for (int d = 0; d < 2; d++)
        if (a->d[d]) a->d[d]->w = w, a->d[d]->f = f;
    if (a->http) lw_http_end(a->http, dir);
    if (a->kind == APP_SMTP && dir == 0 && c->cls.meta.smtp) lw_smtp_end(c->cls.meta.smtp);
    if (a->imap && dir == 0) lw_imap_end(a->imap);
    app_dir *ad = a->d[dir];
    if (ad) {
        smtp_end(ad);
        part_end(ad);
        ls_close_all(ad);
    }
}

void lw_app_flow_free(lw_worker *w, lw_flow *f)
{
    lw_flow_ctx *c = ctx_of(f);
    lw_app_flow *a = c ? c->app : NULL;
    if (!a) return;
    lw_app_dir_end(w, f, 0);
    lw_app_dir_end(w, f, 1);
    lw_http_free(a->http);
    lw_ftp_free(a->ftp);
    lw_imap_free(a->imap);
    lw_ftp_transfer_unref(a->xfer);
    /* the smtp command reader stays with the classification (its fields are in events) */
    if (c->cls.meta.smtp) c->cls.meta.smtp->content = (lw_smtp_content){0};
    dir_free(w, f, a->d[0]);
    dir_free(w, f, a->d[1]);
    free(a);
    c->app = NULL;
}

const char *lw_app_raw_label(const lw_flow *f, int dir, uint64_t offset, const char **filename,
                             uint32_t *msg)
{
    const lw_flow_ctx *c = ctx_of(f);
    const lw_app_flow *a = c ? c->app : NULL;
    *filename = NULL;
    *msg = 0;
    if (!a) return f->proto == 6 ? "tcp.stream" : "udp.payload";
    if (a->xfer) return "ftp.data";
    const app_dir *ad = a->d[dir & 1];
    for (unsigned k = 0; ad && k < REGIONS && k < ad->reg_next; k++) {
        const region *r = &ad->regions[(ad->reg_next - 1 - k) % REGIONS];
        const label *l = &ad->labels[r->slot];
        if (offset < r->start || offset >= r->end || l->gen != r->gen) continue;
        *filename = l->filename[0] ? l->filename : NULL;
        *msg = l->msg;
        return l->layer;
    }
    return "tcp.stream";
}

bool lw_app_seen(lw_worker *w, const lw_flow *f, int dir, const lw_match_hit *hit, uint32_t msg)
{
    if (!msg) return false;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (uint32_t i = 0; i < hit->len; i++) h = (h ^ hit->value[i]) * 1099511628211ull;
    h ^= (uint64_t)hit->sig_index << 40 ^ (uint64_t)(dir & 1) << 39 ^ msg;
    for (unsigned i = 0; i < LW_WORKER_SEEN; i++)
        if (w->seen[i] == h && w->seen_flow[i] == f->flow_id) {
            lc(w)->c[LW_LAYER_layer_duplicates]++;
            return true;
        }
    w->seen[w->seen_next % LW_WORKER_SEEN] = h;
    w->seen_flow[w->seen_next++ % LW_WORKER_SEEN] = f->flow_id;
    return false;
}

lw_ftp_transfer *lw_app_ftp_transfer(const lw_flow *f)
{
    const lw_flow_ctx *c = ctx_of(f);
    return c && c->app ? c->app->xfer : NULL;
}

bool lw_app_raw_wanted(const lw_flow *f, int dir)
{
    const lw_flow_ctx *c = ctx_of(f);
    (void)dir;
    return !(c && c->app && c->app->no_raw);
}
