/*
 * ftp.c — the FTP control-channel parser (see ftp.h): client command lines and server reply
 * lines, collected per direction up to LW_FTP_LINE_MAX bytes, and the data connections they
 * announce.
 *
 * Announcements: a 227 reply (six numbers h1,h2,h3,h4,p1,p2 found anywhere in its text), a
 * 229 reply ("(|||port|)", the address being the control connection's server), or a PORT /
 * EPRT command (the address and port given: the server connects to the client). Each one
 * makes a new lw_ftp_transfer, handed to on_expect; the first transfer command after it
 * (STOR, APPE, STOU, RETR, LIST, NLST, MLSD) writes its verb and argument into it. AUTH TLS /
 * AUTH SSL ends parsing: what follows is encrypted.
 */
#include "leakwatch/ftp.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

LW_COUNTER_NAMES(ftp, FTP, LW_FTP_COUNTERS)

#define VERB_MAX 16 /* last command verb kept, NUL included */

typedef struct ftp_line {
    char buf[LW_FTP_LINE_MAX + 1]; /* + a trailing CR */
    size_t len;
    bool cut;  /* over LW_FTP_LINE_MAX: the rest of the line is skipped */
    bool drop; /* after a gap: the rest of the line is dropped */
} ftp_line;

struct lw_ftp {
    lw_ftp_endpoint client, server;
    lw_ftp_expect_fn on_expect;
    void *user;
    lw_ftp_counters *ctr;
    lw_ftp_counters own;  /* when the caller gave no counters */
    ftp_line dir[2];      /* 0: client, 1: server */
    bool tls;             /* AUTH TLS / SSL: nothing more is read */
    lw_ftp_transfer *cur; /* the last announced transfer (our reference) */
    bool cur_named;       /* a transfer command filled it */
    unsigned reply_code;  /* the reply being read (multi-line: until its last line) */
    bool multi;           /* inside a multi-line reply */
    bool reply_done;      /* its announcement was made */
    char last_cmd[VERB_MAX];
    char last_arg[LW_FTP_LINE_MAX + 1];
    lw_ftp_peek_fn peek; /* lw_ftp_peek: announcements go here, no transfer is made */
};

/* ------------------------------------------------------------------ small readers */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Digits at s[*i..len): their value (saturated at 100000) and whether there was one. */
static bool read_number(const char *s, size_t len, size_t *i, uint32_t *v)
{
    size_t start = *i;
    uint32_t n = 0;
    while (*i < len && is_digit(s[*i])) {
        n = n * 10 + (uint32_t)(s[*i] - '0');
        if (n > 100000) n = 100000;
        (*i)++;
    }
    *v = n;
    return *i > start;
}

static void skip_spaces(const char *s, size_t len, size_t *i)
{
    while (*i < len && (s[*i] == ' ' || s[*i] == '\t')) (*i)++;
}

enum six { SIX_NONE, SIX_OK, SIX_BAD };

/* "h1,h2,h3,h4,p1,p2" at s[*i..len) (spaces allowed around the commas); *i moves past it.
 * SIX_BAD: six numbers, one of them over 255. */
static enum six read_six(const char *s, size_t len, size_t *i, uint8_t v[6])
{
    bool bad = false;
    for (int k = 0; k < 6; k++) {
        if (k) {
            skip_spaces(s, len, i);
            if (*i >= len || s[*i] != ',') return SIX_NONE;
            (*i)++;
            skip_spaces(s, len, i);
        }
        uint32_t n;
        if (!read_number(s, len, i, &n)) return SIX_NONE;
        bad |= n > 255;
        v[k] = (uint8_t)n;
    }
    return bad ? SIX_BAD : SIX_OK;
}

static void endpoint_v4(lw_ftp_endpoint *ep, const uint8_t v[6])
{
    memset(ep, 0, sizeof(*ep));
    ep->ip_version = 4;
    memcpy(ep->addr, v, 4);
    ep->port = (uint16_t)(v[4] << 8 | v[5]);
}

/* ------------------------------------------------------------------ announcements */

static void announce(lw_ftp *f, const lw_ftp_endpoint *ep)
{
    if (f->peek) {
        f->peek(f->user, ep);
        return;
    }
    lw_ftp_transfer *t = lw_ftp_transfer_new();
    if (!t) return;
    lw_ftp_transfer_unref(f->cur);
    f->cur = t;
    f->cur_named = false;
    f->ctr->c[LW_FTP_announced]++;
    if (f->on_expect) f->on_expect(f->user, ep, t);
}

/* Length of at most max bytes of s, not ending inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max) return len;
    size_t n = max;
    while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80) n--;
    return n;
}

/* A transfer command: names the announced transfer, once. */
static void name_transfer(lw_ftp *f, const char *verb, const char *arg, size_t arg_len)
{
    lw_ftp_transfer *t = f->cur;
    if (!t || f->cur_named) return;
    size_t n = utf8_cut(arg, arg_len, sizeof(t->filename) - 1);
    size_t vn = strnlen(verb, sizeof(t->command) - 1);
    pthread_mutex_lock(&t->lock);
    memcpy(t->command, verb, vn);
    t->command[vn] = '\0';
    memcpy(t->filename, arg, n);
    t->filename[n] = '\0';
    pthread_mutex_unlock(&t->lock);
    f->cur_named = true;
}

/* PORT h1,h2,h3,h4,p1,p2 */
static void cmd_port(lw_ftp *f, const char *arg, size_t len)
{
    size_t i = 0;
    uint8_t v[6];
    enum six r = read_six(arg, len, &i, v);
    skip_spaces(arg, len, &i);
    lw_ftp_endpoint ep;
    if (r == SIX_OK && i == len) {
        endpoint_v4(&ep, v);
        if (ep.port) {
            announce(f, &ep);
            return;
        }
    }
    f->ctr->c[LW_FTP_bad_port]++;
}

/* The fields of "<d>proto<d>addr<d>port<d>" (RFC 2428): each a slice of arg. */
static bool eprt_fields(const char *arg, size_t len, const char *field[3], size_t flen[3])
{
    if (len < 4 || arg[0] < 33 || arg[0] > 126) return false;
    char d = arg[0];
    size_t i = 1;
    for (int k = 0; k < 3; k++) {
        const char *end = memchr(arg + i, d, len - i);
        if (!end) return false;
        field[k] = arg + i;
        flen[k] = (size_t)(end - (arg + i));
        i += flen[k] + 1;
    }
    while (i < len && (arg[i] == ' ' || arg[i] == '\t')) i++;
    return i == len;
}

static bool eprt_endpoint(const char *arg, size_t len, lw_ftp_endpoint *ep)
{
    const char *field[3];
    size_t flen[3];
    if (!eprt_fields(arg, len, field, flen) || flen[0] != 1) return false;
    int af = field[0][0] == '1' ? AF_INET : field[0][0] == '2' ? AF_INET6 : 0;
    char addr[64];
    if (!af || flen[1] == 0 || flen[1] >= sizeof(addr)) return false;
    memcpy(addr, field[1], flen[1]);
    addr[flen[1]] = '\0';
    memset(ep, 0, sizeof(*ep));
    ep->ip_version = af == AF_INET ? 4 : 6;
    if (inet_pton(af, addr, ep->addr) != 1) return false;
    size_t i = 0;
    uint32_t port;
    if (!read_number(field[2], flen[2], &i, &port) || i != flen[2]) return false;
    if (port == 0 || port > 65535) return false;
    ep->port = (uint16_t)port;
    return true;
}

/* EPRT |1|132.235.1.2|6275| or |2|1080::8:800:200C:417A|5282| (any delimiter) */
static void cmd_eprt(lw_ftp *f, const char *arg, size_t len)
{
    lw_ftp_endpoint ep;
    if (eprt_endpoint(arg, len, &ep))
        announce(f, &ep);
    else
        f->ctr->c[LW_FTP_bad_port]++;
}

/* ------------------------------------------------------------------ client commands */

static bool is_transfer(const char *verb)
{
    static const char *const verbs[] = {"STOR", "APPE", "STOU", "RETR", "LIST", "NLST", "MLSD"};
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(verb, verbs[i]) == 0) return true;
    return false;
}

static bool starts_ci(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len >= n && strncasecmp(s, word, n) == 0;
}

/* Telnet commands (IAC x, e.g. IAC IP IAC DM before ABOR) at the start of a line. */
static size_t skip_telnet(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (uint8_t)s[i] == 0xff) i += i + 1 < len ? 2 : 1;
    while (i < len && (uint8_t)s[i] == 0xf2) i++; /* a DM left over from urgent data */
    return i < len ? i : len;
}

static void command(lw_ftp *f, const char *line, size_t len)
{
    size_t i = skip_telnet(line, len);
    size_t v0 = i;
    while (i < len && line[i] != ' ' && line[i] != '\t') i++;
    size_t vlen = i - v0;
    if (vlen == 0) return;
    f->ctr->c[LW_FTP_commands]++;
    size_t keep = vlen < VERB_MAX - 1 ? vlen : VERB_MAX - 1;
    for (size_t k = 0; k < keep; k++) {
        char c = line[v0 + k];
        f->last_cmd[k] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    f->last_cmd[keep] = '\0';
    skip_spaces(line, len, &i);
    const char *arg = line + i;
    size_t alen = len - i;
    memcpy(f->last_arg, arg, alen);
    f->last_arg[alen] = '\0';
    if (vlen != 4) return;
    const char *verb = f->last_cmd;
    if (strcmp(verb, "PORT") == 0) {
        cmd_port(f, arg, alen);
    } else if (strcmp(verb, "EPRT") == 0) {
        cmd_eprt(f, arg, alen);
    } else if (strcmp(verb, "AUTH") == 0) {
        if (starts_ci(arg, alen, "TLS") || starts_ci(arg, alen, "SSL")) {
            f->tls = true;
            f->ctr->c[LW_FTP_auth_tls]++;
        }
    } else if (is_transfer(verb)) {
        name_transfer(f, verb, arg, alen);
    }
}

/* ------------------------------------------------------------------ server replies */

/* 227: the first "h1,h2,h3,h4,p1,p2" anywhere in the text. */
static enum six find_227(const char *s, size_t len, lw_ftp_endpoint *ep)
{
    enum six seen = SIX_NONE;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]) || (i > 0 && is_digit(s[i - 1]))) continue;
        size_t j = i;
        uint8_t v[6];
        enum six r = read_six(s, len, &j, v);
        if (r == SIX_OK) {
            endpoint_v4(ep, v);
            if (ep->port) return SIX_OK;
            r = SIX_BAD;
        }
        if (r == SIX_BAD) seen = SIX_BAD;
    }
    return seen;
}

/* 229: "<d><d><d>port<d>" (inside parentheses, normally) anywhere in the text. */
static bool find_229(const char *s, size_t len, uint16_t *port)
{
    for (size_t i = 0; i + 4 < len; i++) {
        char d = s[i];
        if (d < 33 || d > 126 || is_digit(d) || s[i + 1] != d || s[i + 2] != d) continue;
        size_t j = i + 3;
        uint32_t n;
        if (!read_number(s, len, &j, &n) || j >= len || s[j] != d) continue;
        if (n == 0 || n > 65535) continue;
        *port = (uint16_t)n;
        return true;
    }
    return false;
}

/* One line of text of a 227 or 229 reply: announces once per reply. */
static void reply_text(lw_ftp *f, const char *s, size_t len)
{
    if (f->reply_done || (f->reply_code != 227 && f->reply_code != 229)) return;
    lw_ftp_endpoint ep;
    if (f->reply_code == 227) {
        if (find_227(s, len, &ep) != SIX_OK) return;
        if (!memcmp(ep.addr, "\0\0\0\0", 4) && f->server.ip_version == 4)
            memcpy(ep.addr, f->server.addr, 4); /* 0.0.0.0: "the address you used" */
    } else {
        ep = f->server;
        if (!find_229(s, len, &ep.port)) return;
    }
    f->reply_done = true;
    announce(f, &ep);
}

static void reply_end(lw_ftp *f)
{
    if (!f->reply_done && (f->reply_code == 227 || f->reply_code == 229))
        f->ctr->c[LW_FTP_bad_port]++;
    f->multi = false;
    f->reply_code = 0;
}

/* The reply code of "ddd..." (0 if none) */
static unsigned reply_code(const char *s, size_t len)
{
    if (len < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2])) return 0;
    if (len > 3 && s[3] != ' ' && s[3] != '-') return 0;
    return (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
}

static void reply(lw_ftp *f, const char *line, size_t len)
{
    f->ctr->c[LW_FTP_replies]++;
    unsigned code = reply_code(line, len);
    if (f->multi) { /* RFC 959 4.2: it ends at a line "ddd text" with the same code */
        bool last = code == f->reply_code && (len == 3 || line[3] == ' ');
        reply_text(f, line, len);
        if (last) reply_end(f);
        return;
    }
    if (!code) return;
    f->reply_code = code;
    f->reply_done = false;
    f->multi = len > 3 && line[3] == '-';
    reply_text(f, line + 3, len - 3);
    if (!f->multi) reply_end(f);
}

/* ------------------------------------------------------------------ lines */

static void line_end(lw_ftp *f, int d)
{
    ftp_line *l = &f->dir[d];
    size_t n = l->len;
    if (n && l->buf[n - 1] == '\r') n--;
    if (n > LW_FTP_LINE_MAX) {
        if (!l->cut) f->ctr->c[LW_FTP_long_lines]++;
        n = LW_FTP_LINE_MAX;
    }
    if (!l->drop) {
        l->buf[n] = '\0';
        if (d == 0)
            command(f, l->buf, n);
        else
            reply(f, l->buf, n);
    }
    l->len = 0;
    l->cut = l->drop = false;
}

static void line_add(lw_ftp *f, ftp_line *l, const uint8_t *data, size_t n)
{
    if (l->cut || l->drop) return;
    size_t room = sizeof(l->buf) - l->len;
    if (n > room) {
        n = room;
        l->cut = true;
        f->ctr->c[LW_FTP_long_lines]++;
    }
    memcpy(l->buf + l->len, data, n);
    l->len += n;
}

static void bytes(lw_ftp *f, int d, const uint8_t *data, size_t len)
{
    size_t i = 0;
    while (f && data && i < len && !f->tls) {
        const uint8_t *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) : len;
        line_add(f, &f->dir[d], data + i, end - i);
        if (!nl) return;
        line_end(f, d);
        i = end + 1;
    }
}

/* ------------------------------------------------------------------ API */

lw_ftp *lw_ftp_new(const lw_ftp_endpoint *client, const lw_ftp_endpoint *server,
                   lw_ftp_expect_fn on_expect, void *user, lw_ftp_counters *ctr)
{
    lw_ftp *f = calloc(1, sizeof(*f));
    if (!f) return NULL;
    if (client) f->client = *client;
    if (server) f->server = *server;
    f->on_expect = on_expect;
    f->user = user;
    f->ctr = ctr ? ctr : &f->own;
    return f;
}

void lw_ftp_client_bytes(lw_ftp *f, const uint8_t *data, size_t len)
{
    bytes(f, 0, data, len);
}

void lw_ftp_server_bytes(lw_ftp *f, const uint8_t *data, size_t len)
{
    bytes(f, 1, data, len);
}

void lw_ftp_gap(lw_ftp *f, bool client)
{
    if (!f) return;
    ftp_line *l = &f->dir[client ? 0 : 1];
    l->len = 0;
    l->cut = false;
    l->drop = true;                                   /* up to the next line end */
    if (!client) f->multi = false, f->reply_code = 0; /* the reply's last line may be lost */
}

const char *lw_ftp_last_command(const lw_ftp *f)
{
    return f ? f->last_cmd : "";
}

const char *lw_ftp_last_argument(const lw_ftp *f)
{
    return f ? f->last_arg : "";
}

void lw_ftp_free(lw_ftp *f)
{
    if (!f) return;
    lw_ftp_transfer_unref(f->cur);
    free(f);
}

void lw_ftp_peek(const lw_ftp_endpoint *client, const lw_ftp_endpoint *server, bool from_client,
                 const uint8_t *data, size_t len, lw_ftp_peek_fn fn, void *user)
{
    lw_ftp f;
    memset(&f, 0, sizeof(f));
    f.client = *client;
    f.server = *server;
    f.peek = fn;
    f.user = user;
    f.ctr = &f.own;
    bytes(&f, from_client ? 0 : 1, data, len); /* a line the segment does not end is dropped */
}
