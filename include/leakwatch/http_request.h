/*
 * http_request.h — the first HTTP/1.x request line and Host header of a client's stream, read
 * from the bytes as sent (nDPI keeps the URL as host + path, lower-cases the host and cuts it
 * at a ':', which loses ports and IPv6 literals): the event's http.url is the request-target
 * exactly as sent, and http.hostname the Host header without its port.
 */
#ifndef LW_HTTP_REQUEST_H
#define LW_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_HTTP_FIELD_MAX 1024 /* longest request-target or host kept; longer ones are cut */

/* From the first bytes of a client's stream: the request-target of its first request line and
 * the Host header's host (without the port; an IPv6 literal keeps its brackets). Each out
 * pointer gets a malloc'ed string or NULL when not found within the bytes given. False if the
 * bytes do not start with a request line. */
bool lw_http_first_request(const uint8_t *data, size_t len, char **target, char **host);

#endif
