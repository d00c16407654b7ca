/*
 * smtp_commands.c — reads SMTP client commands (see smtp.h). Lines are collected up to
 * LW_SMTP_LINE_MAX bytes; an over-long line is cut and counted, never a reason to stop.
 */
#include "leakwatch/smtp.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LW_SMTP_NO_RAW UINT64_MAX

lw_smtp *lw_smtp_new(void)
{
    return calloc(1, sizeof(lw_smtp));
}

void lw_smtp_free(lw_smtp *s)
{
    if (!s) return;
    free(s->helo);
    free(s->mail_from);
    for (uint32_t i = 0; i < s->n_rcpt; i++) free(s->rcpt[i]);
    free(s);
}

static bool starts(const char *line, size_t len, const char *cmd)
{
    size_t n = strlen(cmd);
    return len >= n && strncasecmp(line, cmd, n) == 0;
}

/* The address of "MAIL FROM:<a@b> SIZE=1" / "RCPT TO: <a@b>": inside <>, else the first word. */
static char *address(const char *arg, size_t len)
{
    while (len && (*arg == ' ' || *arg == '\t')) arg++, len--;
    const char *end = arg + len;
    if (len && *arg == '<') {
        const char *close = memchr(arg, '>', len);
        arg++;
        end = close ? close : end;
    } else {
        const char *sp = memchr(arg, ' ', len);
        if (sp) end = sp;
    }
    return strndup(arg, (size_t)(end - arg));
}

static void content_begin(lw_smtp *s)
{
    s->in_message = true;
    s->content_lost = false;
    s->messages++;
    if (s->content.begin) s->content.begin(s->content.user);
}

static void content_end(lw_smtp *s)
{
    if (s->in_message && !s->content_lost && s->content.end) s->content.end(s->content.user);
    s->in_message = false;
    s->content_lost = false;
}

static void content_data(lw_smtp *s, const uint8_t *data, size_t len, uint64_t raw)
{
    if (s->in_message && !s->content_lost && s->content.data && len)
        s->content.data(s->content.user, data, len, raw);
}

static void command(lw_smtp *s, const char *line, size_t len)
{
    if (starts(line, len, "HELO ") || starts(line, len, "EHLO ")) {
        if (!s->helo) s->helo = address(line + 5, len - 5);
    } else if (starts(line, len, "MAIL FROM:")) {
        if (!s->mail_from) s->mail_from = address(line + 10, len - 10);
    } else if (starts(line, len, "RCPT TO:")) {
        if (s->n_rcpt < LW_SMTP_MAX_RCPT) {
            char *a = address(line + 8, len - 8);
            if (a) s->rcpt[s->n_rcpt++] = a;
        } else {
            s->rcpt_over++;
        }
    } else if (len == 4 && starts(line, len, "DATA")) {
        s->in_data = true;
        s->line_start = true;
        s->dot = 0;
        content_begin(s);
    } else if (starts(line, len, "BDAT ")) {
        char *end = NULL;
        s->bdat_left = strtoull(line + 5, &end, 10);
        while (end && *end == ' ') end++;
        s->bdat_last = end && (size_t)(end - line) + 4 <= len && strncasecmp(end, "LAST", 4) == 0;
        if (!s->in_message) content_begin(s);
        if (!s->bdat_left && s->bdat_last) content_end(s);
    } else if (len == 8 && starts(line, len, "STARTTLS")) {
        s->tls = true;
    }
}

/* DATA content from data[i]: dot-stuffing undone (RFC 5321 4.5.2), up to the "." line.
 * Returns the index after what was consumed. */
static size_t data_bytes(lw_smtp *s, const uint8_t *data, size_t len, size_t i, uint64_t raw)
{
    while (i < len && s->in_data) {
        if (s->line_start && s->dot == 0 && data[i] == '.') {
            s->dot = 1;
            i++;
            continue;
        }
        if (s->dot == 1 && data[i] == '\r') {
            s->dot = 2;
            i++;
            continue;
        }
        if (s->dot && data[i] == '\n') { /* the "." line: end of the message */
            s->in_data = false;
            s->dot = 0;
            content_end(s);
            return i + 1;
        }
        if (s->dot == 2) content_data(s, (const uint8_t *)"\r", 1, LW_SMTP_NO_RAW);
        s->dot = 0; /* a stuffed dot: dropped */
        const uint8_t *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) + 1 : len;
        content_data(s, data + i, end - i, raw == LW_SMTP_NO_RAW ? raw : raw + i);
        s->line_start = nl != NULL;
        i = end;
    }
    return i;
}

void lw_smtp_client_bytes(lw_smtp *s, const uint8_t *data, size_t len)
{
    lw_smtp_client_data(s, data, len, LW_SMTP_NO_RAW);
}

void lw_smtp_client_data(lw_smtp *s, const uint8_t *data, size_t len, uint64_t raw)
{
    for (size_t i = 0; i < len && !s->tls; i++) {
        if (s->in_data) {
            i = data_bytes(s, data, len, i, raw) - 1;
            continue;
        }
        if (s->bdat_left) {
            size_t take = len - i < s->bdat_left ? len - i : (size_t)s->bdat_left;
            content_data(s, data + i, take, raw == LW_SMTP_NO_RAW ? raw : raw + i);
            s->bdat_left -= take;
            if (!s->bdat_left && s->bdat_last) content_end(s);
            i += take - 1;
            continue;
        }
        char c = (char)data[i];
        if (c == '\n') {
            size_t n = s->len;
            if (n && s->line[n - 1] == '\r') n--;
            if (!s->skipping) command(s, s->line, n);
            s->len = 0;
            s->skipping = false;
        } else if (s->skipping) {
            continue;
        } else if (s->len == LW_SMTP_LINE_MAX) {
            s->long_lines++;
            s->skipping = true;
            s->len = 0;
        } else {
            s->line[s->len++] = c;
        }
    }
}

void lw_smtp_gap(lw_smtp *s)
{
    s->len = 0;
    s->skipping = true; /* up to the next line end */
    s->bdat_left = 0;
    if (s->in_message) {
        content_end(s);
        s->in_message = s->in_data; /* a DATA section goes on, its content is lost */
        s->content_lost = s->in_data;
    }
    s->line_start = false;
    s->dot = 0;
}

void lw_smtp_end(lw_smtp *s)
{
    content_end(s);
    s->in_data = false;
}
