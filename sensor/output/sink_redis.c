/*
 * sink_redis.c — the redis sink (hiredis), as Suricata's redis EVE output: list mode
 * `RPUSH key JSON`, stream mode `XADD key * eve JSON`. The commands of a batch are pipelined
 * (one round trip); a reply that is an error (WRONGTYPE, OOM) refuses that event for good
 * (counted), a broken connection leaves the unanswered ones for the retry after reconnecting.
 */
#include "output/sink.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

typedef struct redis_sink {
    lw_sink base;
    char *server;
    uint16_t port;
    char *key;
    bool stream;
    redisContext *c;
    bool said_error;
} redis_sink;

static void redis_close(lw_sink *s)
{
    redis_sink *r = (redis_sink *)s;
    if (r->c) redisFree(r->c);
    r->c = NULL;
}

static bool redis_open(lw_sink *s, char *err, size_t errlen)
{
    redis_sink *r = (redis_sink *)s;
    if (r->c) return true;
    struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
    r->c = redisConnectWithTimeout(r->server, r->port, tv);
    if (!r->c) {
        snprintf(err, errlen, "out of memory connecting to redis");
        return false;
    }
    if (r->c->err || redisSetTimeout(r->c, tv) != REDIS_OK) {
        snprintf(err, errlen, "cannot connect to redis %s port %u: %s", r->server,
                 (unsigned)r->port, r->c->errstr[0] ? r->c->errstr : "error");
        redis_close(s);
        return false;
    }
    return true;
}

static size_t redis_write(lw_sink *s, const lw_sink_msg *m, size_t n, char *err, size_t errlen)
{
    redis_sink *r = (redis_sink *)s;
    for (size_t i = 0; i < n; i++) {
        const char *argv[5];
        size_t lens[5];
        int argc = 0;
        argv[argc] = r->stream ? "XADD" : "RPUSH";
        lens[argc] = strlen(argv[argc]);
        argc++;
        argv[argc] = r->key;
        lens[argc++] = strlen(r->key);
        if (r->stream) {
            argv[argc] = "*";
            lens[argc++] = 1;
            argv[argc] = "eve";
            lens[argc++] = 3;
        }
        argv[argc] = m[i].data;
        lens[argc++] = m[i].len - 1; /* without the newline */
        if (redisAppendCommandArgv(r->c, argc, argv, lens) != REDIS_OK) {
            snprintf(err, errlen, "redis: %s", r->c->errstr[0] ? r->c->errstr : "out of memory");
            return 0; /* the connection is dropped, its pending commands with it */
        }
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(r->c, (void **)&rep) != REDIS_OK || !rep) {
            snprintf(err, errlen, "redis %s port %u: %s", r->server, (unsigned)r->port,
                     r->c->errstr[0] ? r->c->errstr : "connection lost");
            return i;
        }
        if (rep->type == REDIS_REPLY_ERROR) {
            s->rejected++;
            if (!r->said_error)
                fprintf(stderr,
                        "leakwatch: output %s: the server refused an event: %.200s (dropped "
                        "and counted as dropped_rejected)\n",
                        s->desc, rep->str ? rep->str : "error");
            r->said_error = true;
        }
        freeReplyObject(rep);
    }
    return n;
}

static void redis_destroy(lw_sink *s)
{
    redis_sink *r = (redis_sink *)s;
    redis_close(s);
    free(r->server);
    free(r->key);
    free(r);
}

static const lw_sink_ops redis_ops = {
    .open = redis_open,
    .write = redis_write,
    .close = redis_close,
    .destroy = redis_destroy,
};

lw_sink *lw_sink_redis_new(const char *server, uint16_t port, const char *key, bool stream,
                           char *err, size_t errlen)
{
    if (!server || !*server || !key || !*key) {
        snprintf(err, errlen, "output.redis: a server and a key are needed");
        return NULL;
    }
    redis_sink *r = calloc(1, sizeof(*r));
    if (r) {
        r->server = strdup(server);
        r->key = strdup(key);
    }
    if (!r || !r->server || !r->key) {
        if (r) {
            free(r->server);
            free(r->key);
        }
        free(r);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->base.ops = &redis_ops;
    r->port = port;
    r->stream = stream;
    snprintf(r->base.desc, sizeof(r->base.desc), "redis %s port %u (%s %s)", server, (unsigned)port,
             stream ? "stream" : "list", key);
    return &r->base;
}
