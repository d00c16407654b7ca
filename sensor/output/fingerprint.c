/*
 * fingerprint.c — value fingerprints (HMAC-SHA-256 through OpenSSL's libcrypto) and
 * redaction (see fingerprint.h).
 */
#include "leakwatch/fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SHA256_Init & co. are deprecated in OpenSSL 3 in favour of EVP, whose contexts cannot be
 * copied without allocating; they remain part of libcrypto 3's API. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static bool is_space(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f';
}

/* The HMAC pads (RFC 2104): a key longer than the SHA-256 block is hashed first. The states
 * after the pads are plain SHA256_CTX values: a fingerprint copies them by value, where EVP
 * would allocate a context per call (fingerprints and EDM lookups run per candidate). */
static bool prepare_pads(lw_fp_key *k, char *err, size_t errlen)
{
    uint8_t block[64] = {0}, pad[64];
    if (k->len > sizeof(block)) {
        unsigned n = 0;
        EVP_Digest(k->key, k->len, block, &n, EVP_sha256(), NULL);
    } else {
        memcpy(block, k->key, k->len);
    }
    SHA256_CTX *in = malloc(sizeof(*in)), *out = malloc(sizeof(*out));
    bool ok = in && out;
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    ok = ok && SHA256_Init(in) && SHA256_Update(in, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    ok = ok && SHA256_Init(out) && SHA256_Update(out, pad, 64);
    memset(block, 0, sizeof(block));
    memset(pad, 0, sizeof(pad));
    if (!ok) {
        free(in);
        free(out);
        snprintf(err, errlen, "cannot set up HMAC-SHA-256 (libcrypto)");
        return false;
    }
    k->inner = in;
    k->outer = out;
    return true;
}

void lw_fp_key_free(lw_fp_key *k)
{
    if (k->inner) memset(k->inner, 0, sizeof(SHA256_CTX));
    if (k->outer) memset(k->outer, 0, sizeof(SHA256_CTX));
    free(k->inner);
    free(k->outer);
    memset(k, 0, sizeof(*k));
}

static bool read_key(lw_fp_key *k, const char *path, char *err, size_t errlen);

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
    } else if (!read_key(k, path, err, errlen)) {
        return false;
    }
    return prepare_pads(k, err, errlen);
}

static bool read_key(lw_fp_key *k, const char *path, char *err, size_t errlen)
{
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
    if (!k->inner) {
        memset(out, 0, 32);
        return;
    }
    uint8_t inner[32];
    SHA256_CTX c = *(const SHA256_CTX *)k->inner;
    SHA256_Update(&c, v, n);
    SHA256_Final(inner, &c);
    c = *(const SHA256_CTX *)k->outer;
    SHA256_Update(&c, inner, sizeof(inner));
    SHA256_Final(out, &c);
    memset(&c, 0, sizeof(c));
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

/* Length of the UTF-8 character at v[0..n): 1 for a byte that does not start a valid one. */
static size_t utf8_len(const uint8_t *v, size_t n)
{
    size_t len = v[0] < 0x80         ? 1
                 : (v[0] >> 5) == 6  ? 2
                 : (v[0] >> 4) == 14 ? 3
                 : (v[0] >> 3) == 30 ? 4
                                     : 1;
    if (len > n) return 1;
    for (size_t i = 1; i < len; i++)
        if ((v[i] & 0xC0) != 0x80) return 1;
    return len;
}

size_t lw_redact(const uint8_t *v, size_t n, char *out, size_t outcap)
{
    if (!outcap) return 0;
    size_t chars = 0;
    for (size_t i = 0; i < n; i += utf8_len(v + i, n - i)) chars++;
    size_t keep = chars / 4 < 4 ? chars / 4 : 4, o = 0, c = 0;
    for (size_t i = 0; i < n && o < outcap - 1; c++) {
        size_t len = utf8_len(v + i, n - i);
        if (c < keep || c >= chars - keep) {
            if (o + len > outcap - 1) break;
            memcpy(out + o, v + i, len);
            o += len;
        } else {
            out[o++] = '*';
        }
        i += len;
    }
    out[o] = '\0';
    return o;
}
