/*
 * smtp_commands.c — reads SMTP client commands (see smtp.h). Lines are collected up to
 * LW_SMTP_LINE_MAX bytes; an over-long line is cut and counted, never a reason to stop.
 */
#include "leakwatch/smtp.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static void command(lw_smtp *s, const char *line, size_t len)
{
    if (s->in_data) {
        if (len == 1 && line[0] == '.') s->in_data = false;
        return;
    }
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
    } else if (starts(line, len, "BDAT ")) {
        s->bdat_left = strtoull(line + 5, NULL, 10);
    } else if (len == 8 && starts(line, len, "STARTTLS")) {
        s->tls = true;
    }
}

void lw_smtp_client_bytes(lw_smtp *s, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len && !s->tls; i++) {
        if (s->bdat_left) {
            size_t skip = len - i < s->bdat_left ? len - i : (size_t)s->bdat_left;
            s->bdat_left -= skip;
            i += skip - 1;
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
            s->skipping = !s->in_data; /* a long message line is just content */
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
}
