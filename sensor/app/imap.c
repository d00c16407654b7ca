/*
 * imap.c — IMAP client commands (imap.h): lines are collected until their line end; a line
 * that ends with a literal announcement "{N}" or "{N+}" is followed by N raw bytes, then the
 * command goes on with the next line. In an APPEND command every literal that follows the
 * mailbox is a message (MULTIAPPEND sends several); its bytes go to the content sink as they
 * arrive, never buffered.
 */
#include "leakwatch/imap.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

LW_COUNTER_NAMES(imap, IMAP, LW_IMAP_COUNTERS)

enum imap_state { LINE, LITERAL, SKIP_LINE };

struct lw_imap {
    lw_smtp_content content;
    lw_imap_counters *ctr, own;
    enum imap_state state;
    bool in_append;  /* the command being read is APPEND: its literals are messages */
    bool first_line; /* the next line starts a command (not a continuation after a literal) */
    bool message;    /* the literal being read is a message handed on */
    bool tls;
    uint64_t literal_left;
    size_t len;
    char line[LW_IMAP_LINE_MAX];
};

lw_imap *lw_imap_new(const lw_smtp_content *content, lw_imap_counters *ctr)
{
    lw_imap *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    if (content) m->content = *content;
    m->ctr = ctr ? ctr : &m->own;
    m->first_line = true;
    return m;
}

void lw_imap_free(lw_imap *m)
{
    free(m);
}

bool lw_imap_tls(const lw_imap *m)
{
    return m && m->tls;
}

/* The literal length a line announces at its end ("{123}" or "{123+}"), or -1. */
static int64_t literal_at_end(const char *s, size_t n, bool *bad)
{
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n')) n--;
    if (n < 3 || s[n - 1] != '}') return -1;
    size_t end = n - 1;
    if (end && s[end - 1] == '+') end--;
    size_t start = end;
    while (start && s[start - 1] >= '0' && s[start - 1] <= '9') start--;
    if (start == end || !start || s[start - 1] != '{') return -1;
    if (end - start > 10) {
        *bad = true;
        return -1;
    }
    uint64_t v = 0;
    for (size_t i = start; i < end; i++) v = v * 10 + (uint64_t)(s[i] - '0');
    if (v > UINT32_MAX) {
        *bad = true;
        return -1;
    }
    return (int64_t)v;
}

/* "tag APPEND ..." (the tag is any atom) */
static bool is_command(const char *s, size_t n, const char *verb)
{
    const char *sp = memchr(s, ' ', n);
    if (!sp) return false;
    size_t rest = n - (size_t)(sp + 1 - s), vl = strlen(verb);
    return rest >= vl && strncasecmp(sp + 1, verb, vl) == 0 &&
           (rest == vl || sp[1 + vl] == ' ' || sp[1 + vl] == '\r' || sp[1 + vl] == '\n');
}

static void message_end(lw_imap *m)
{
    if (!m->message) return;
    m->message = false;
    if (m->content.end) m->content.end(m->content.user);
}

static void line_done(lw_imap *m)
{
    const char *s = m->line;
    size_t n = m->len;
    m->len = 0;
    if (!n) return; /* the end of a line skipped after a gap */
    if (m->first_line) {
        m->ctr->c[LW_IMAP_commands]++;
        m->in_append = is_command(s, n, "APPEND");
        if (is_command(s, n, "STARTTLS")) {
            m->tls = true;
            m->ctr->c[LW_IMAP_starttls]++;
            return;
        }
    }
    bool bad = false;
    int64_t lit = literal_at_end(s, n, &bad);
    if (bad) m->ctr->c[LW_IMAP_bad_literal]++;
    if (lit < 0) {
        m->first_line = true; /* the command is complete */
        m->in_append = false;
        return;
    }
    m->first_line = false;
    m->literal_left = (uint64_t)lit;
    m->state = LITERAL;
    m->message = m->in_append && m->content.begin;
    if (m->in_append) m->ctr->c[LW_IMAP_appends]++;
    if (!m->in_append) m->ctr->c[LW_IMAP_literals_skipped]++;
    if (m->message) m->content.begin(m->content.user);
    if (!m->literal_left) {
        message_end(m);
        m->state = LINE;
    }
}

void lw_imap_client_data(lw_imap *m, const uint8_t *data, size_t len, uint64_t raw_offset)
{
    size_t i = 0;
    while (m && i < len && !m->tls) {
        if (m->state == LITERAL) {
            size_t k = len - i < m->literal_left ? len - i : (size_t)m->literal_left;
            if (m->message && m->content.data)
                m->content.data(m->content.user, data + i, k, raw_offset + i);
            i += k;
            m->literal_left -= k;
            if (!m->literal_left) {
                message_end(m);
                m->state = LINE;
            }
            continue;
        }
        const uint8_t *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) + 1 : len;
        if (m->state == LINE) {
            size_t k = end - i, room = sizeof(m->line) - m->len;
            if (k > room) {
                k = room;
                m->ctr->c[LW_IMAP_long_lines]++;
                m->state = SKIP_LINE; /* the kept start is read at the line end */
            }
            memcpy(m->line + m->len, data + i, k);
            m->len += k;
        }
        i = end;
        if (nl) {
            m->state = LINE;
            line_done(m);
        }
    }
}

void lw_imap_gap(lw_imap *m)
{
    if (!m) return;
    message_end(m);
    m->state = SKIP_LINE; /* resynchronise at the next line end */
    m->len = 0;
    m->literal_left = 0;
    m->first_line = true;
    m->in_append = false;
}

void lw_imap_end(lw_imap *m)
{
    if (m) message_end(m);
}
