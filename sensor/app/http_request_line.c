/*
 * http_request_line.c — the first request line and Host header of an HTTP/1.x client stream
 * (see http_request.h). Lines end in CRLF or a bare LF (RFC 9112 allows readers to accept
 * both); only the bytes given are read: a request line cut by the end of the first segment
 * gives nothing, and nDPI's values stand.
 */
#include "leakwatch/http_request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_token_char(uint8_t c)
{
    return c > ' ' && c < 127 && !strchr("()<>@,;:\\\"/[]?={}", c);
}

/* The next line [*pos, end) without its line ending; false at the end of the bytes. */
static bool next_line(const uint8_t *d, size_t n, size_t *pos, const uint8_t **line, size_t *len)
{
    const uint8_t *nl = memchr(d + *pos, '\n', n - *pos);
    if (!nl) return false;
    *line = d + *pos;
    *len = (size_t)(nl - *line);
    if (*len && (*line)[*len - 1] == '\r') (*len)--;
    *pos = (size_t)(nl - d) + 1;
    return true;
}

static char *copy(const uint8_t *s, size_t n)
{
    return strndup((const char *)s, n > LW_HTTP_FIELD_MAX ? LW_HTTP_FIELD_MAX : n);
}

/* "example.com:8080" -> "example.com"; "[::1]:8000" -> "[::1]". */
static size_t host_without_port(const uint8_t *h, size_t n)
{
    if (n && h[0] == '[') {
        const uint8_t *close = memchr(h, ']', n);
        return close ? (size_t)(close - h) + 1 : n;
    }
    const uint8_t *colon = memchr(h, ':', n);
    return colon ? (size_t)(colon - h) : n;
}

bool lw_http_first_request(const uint8_t *data, size_t len, char **target, char **host)
{
    *target = *host = NULL;
    size_t pos = 0, n;
    const uint8_t *line;
    if (!next_line(data, len, &pos, &line, &n)) return false;
    /* METHOD SP request-target SP HTTP/x.y */
    size_t m = 0;
    while (m < n && is_token_char(line[m])) m++;
    if (m == 0 || m >= n || line[m] != ' ') return false;
    const uint8_t *t = line + m + 1;
    const uint8_t *sp = memchr(t, ' ', n - m - 1);
    if (!sp || sp == t || (size_t)(line + n - sp) < 9 || memcmp(sp + 1, "HTTP/", 5) != 0)
        return false;
    *target = copy(t, (size_t)(sp - t));
    while (next_line(data, len, &pos, &line, &n) && n) {
        if (n < 5 || strncasecmp((const char *)line, "host:", 5) != 0) continue;
        const uint8_t *v = line + 5;
        size_t vn = n - 5;
        while (vn && (*v == ' ' || *v == '\t')) v++, vn--;
        while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t')) vn--;
        vn = host_without_port(v, vn);
        if (vn) *host = copy(v, vn);
        break;
    }
    return true;
}
