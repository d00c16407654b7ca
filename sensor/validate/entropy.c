/*
 * entropy.c — Shannon entropy of a candidate's bytes, for a signature's min_entropy.
 *
 * H = -sum(p * log2 p) over the byte histogram, in bits per byte: 0 for "aaaa" or an empty
 * value, 1 for "ab", 8 when all 256 byte values appear equally often.
 */
#include "leakwatch/validate.h"

#include <math.h>

double lw_shannon_entropy(const uint8_t *s, size_t n)
{
    size_t count[256] = {0};
    if (s == NULL || n == 0) return 0.0;
    for (size_t i = 0; i < n; i++) count[s[i]]++;
    double h = 0.0, total = (double)n;
    for (int b = 0; b < 256; b++) {
        if (count[b] == 0) continue;
        double p = (double)count[b] / total;
        h -= p * log2(p);
    }
    return h;
}
