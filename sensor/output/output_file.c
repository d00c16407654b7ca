/*
 * output_file.c — writes event lines to a regular file or stdout (see output.h).
 */
#include "leakwatch/output.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lw_output {
    pthread_mutex_t lock;
    FILE *fp;
    char *path; /* NULL for stdout */
    uint64_t written;
    uint64_t errors;
};

static FILE *open_append(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen,
                 "cannot open output %s: %s (check the directory exists and is writable)", path,
                 strerror(errno));
        return NULL;
    }
    FILE *fp = fdopen(fd, "a");
    if (!fp) {
        snprintf(err, errlen, "cannot open output %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    setvbuf(fp, NULL, _IOFBF, 1 << 16);
    return fp;
}

lw_output *lw_output_open(const char *path, char *err, size_t errlen)
{
    lw_output *o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&o->lock, NULL);
    if (!path || strcmp(path, "-") == 0) {
        o->fp = stdout;
    } else {
        o->path = strdup(path);
        o->fp = o->path ? open_append(path, err, errlen) : NULL;
        if (!o->fp) {
            free(o->path);
            pthread_mutex_destroy(&o->lock);
            free(o);
            return NULL;
        }
    }
    return o;
}

void lw_output_write(lw_output *o, const char *line, size_t len)
{
    pthread_mutex_lock(&o->lock);
    if (fwrite(line, 1, len, o->fp) == len)
        o->written++;
    else
        o->errors++;
    pthread_mutex_unlock(&o->lock);
}

bool lw_output_reopen(lw_output *o, char *err, size_t errlen)
{
    if (!o->path) return true;
    FILE *fp = open_append(o->path, err, errlen);
    if (!fp) return false;
    pthread_mutex_lock(&o->lock);
    fclose(o->fp);
    o->fp = fp;
    pthread_mutex_unlock(&o->lock);
    return true;
}

void lw_output_flush(lw_output *o)
{
    pthread_mutex_lock(&o->lock);
    if (fflush(o->fp) != 0) o->errors++;
    pthread_mutex_unlock(&o->lock);
}

uint64_t lw_output_events_written(lw_output *o)
{
    pthread_mutex_lock(&o->lock);
    uint64_t v = o->written;
    pthread_mutex_unlock(&o->lock);
    return v;
}

uint64_t lw_output_write_errors(lw_output *o)
{
    pthread_mutex_lock(&o->lock);
    uint64_t v = o->errors;
    pthread_mutex_unlock(&o->lock);
    return v;
}

void lw_output_close(lw_output *o)
{
    if (!o) return;
    if (o->fp == stdout)
        fflush(stdout);
    else if (o->fp)
        fclose(o->fp);
    free(o->path);
    pthread_mutex_destroy(&o->lock);
    free(o);
}
