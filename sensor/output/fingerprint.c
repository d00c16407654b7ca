/*
 * fingerprint.c — value fingerprints (HMAC-SHA-256 through OpenSSL's libcrypto) and
 * redaction (see fingerprint.h).
 */
#include "leakwatch/fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

static bool is_space(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f';
}

bool lw_fp_key_load(lw_fp_key *k, const char *path, char *err, size_t errlen)
{
    memset(k, 0, sizeof(*k));
    if (!path) {
        k->random = true;
        k->len = 32;
        if (RAND_bytes(k->key, (int)k->len) != 1) {
            snprintf(err, errlen, "cannot draw a random fingerprint key (libcrypto RAND_bytes)");
            return false;
        }
        return true;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "fingerprint key %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return false;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        snprintf(err, errlen, "fingerprint key %s is accessible by group or others (chmod 600 %s)",
                 path, path);
        return false;
    }
    uint8_t buf[LW_FP_KEY_MAX + 2];
    ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n < 0 || n > LW_FP_KEY_MAX) {
        snprintf(err, errlen, "fingerprint key %s: %s", path,
                 n < 0 ? strerror(errno) : "longer than 4096 bytes (use e.g. 64 hex characters)");
        return false;
    }
    size_t a = 0, b = (size_t)n;
    while (a < b && is_space(buf[a])) a++;
    while (b > a && is_space(buf[b - 1])) b--;
    if (a == b) {
        snprintf(err, errlen, "fingerprint key %s is empty (write e.g. 64 hex characters)", path);
        return false;
    }
    memcpy(k->key, buf + a, b - a);
    k->len = b - a;
    return true;
}

void lw_fingerprint(const lw_fp_key *k, const uint8_t *v, size_t n, uint8_t out[32])
{
    unsigned len = 32;
    if (!HMAC(EVP_sha256(), k->key, (int)k->len, v, n, out, &len)) memset(out, 0, 32);
}

void lw_fingerprint_text(const uint8_t fp[32], char out[LW_FP_TEXT_LEN])
{
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "hmac-sha256:", 12);
    for (int i = 0; i < 32; i++) {
        out[12 + 2 * i] = hex[fp[i] >> 4];
        out[13 + 2 * i] = hex[fp[i] & 15];
    }
    out[LW_FP_TEXT_LEN - 1] = '\0';
}

size_t lw_redact(const uint8_t *v, size_t n, char *out, size_t outcap)
{
    if (!outcap) return 0;
    if (n > outcap - 1) n = outcap - 1;
    size_t keep = n / 4 < 4 ? n / 4 : 4;
    for (size_t i = 0; i < n; i++) out[i] = (i < keep || i >= n - keep) ? (char)v[i] : '*';
    out[n] = '\0';
    return n;
}
