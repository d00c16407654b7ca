/*
 * bench_edm.c — the Exact Data Match figures scripts/bench-edm reports: how long an index
 * takes to open (map + checksum + bucket table), what it costs in memory per entry, and what
 * one lookup costs — the whole path the matcher runs (normalize, HMAC-SHA-256, search) and
 * the index search alone.
 *
 *   bench_edm INDEX KEYFILE N     (the index holds customer%08d@example.com for 0 <= i < N)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "leakwatch/edm.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static long rss_kb(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (fp && fgets(line, sizeof(line), fp))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
    if (fp) fclose(fp);
    return kb;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_edm INDEX KEYFILE N\n");
        return 2;
    }
    char err[1024];
    lw_fp_key key;
    if (!lw_fp_key_load(&key, argv[2], err, sizeof(err))) {
        fprintf(stderr, "bench_edm: %s\n", err);
        return 2;
    }
    long n = atol(argv[3]);
    double opens[5];
    lw_edm_list *l = NULL;
    long rss_before = rss_kb(), rss_after = 0;
    for (int r = 0; r < 5; r++) {
        if (l) lw_edm_close(l);
        double t0 = now();
        l = lw_edm_open(argv[1], &key, err, sizeof(err));
        opens[r] = now() - t0;
        if (!l) {
            fprintf(stderr, "bench_edm: %s\n", err);
            return 1;
        }
        if (r == 0) rss_after = rss_kb();
    }
    qsort(opens, 5, sizeof(double), cmp_double);
    uint64_t entries = lw_edm_list_entries(l);
    size_t mem = lw_edm_list_memory(l);

    /* lookups: 1M members (random picks), 1M non-members, then the search alone */
    const long lookups = 1000000;
    char v[64];
    unsigned long long seed = 88172645463325252ull, found = 0;
    double t0 = now();
    for (long i = 0; i < lookups; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        int len = snprintf(v, sizeof(v), " Customer%08ld@Example.com",
                           (long)(seed % (unsigned long long)n));
        found += lw_edm_contains(l, (const uint8_t *)v, (size_t)len, NULL, NULL);
    }
    double member_ns = (now() - t0) / (double)lookups * 1e9;
    unsigned long long false_hits = 0;
    t0 = now();
    for (long i = 0; i < lookups; i++) {
        int len = snprintf(v, sizeof(v), "stranger%08ld@example.com", i);
        false_hits += lw_edm_contains(l, (const uint8_t *)v, (size_t)len, NULL, NULL);
    }
    double stranger_ns = (now() - t0) / (double)lookups * 1e9;
    uint64_t h = 0x9E3779B97F4A7C15ull, hits = 0;
    t0 = now();
    for (long i = 0; i < lookups; i++) {
        h = h * 6364136223846793005ull + 1442695040888963407ull;
        hits += lw_edm_contains_hash(l, h);
    }
    double search_ns = (now() - t0) / (double)lookups * 1e9;

    printf("entries             %llu\n", (unsigned long long)entries);
    printf("open (median of 5)  %.3f s  (min %.3f, max %.3f)\n", opens[2], opens[0], opens[4]);
    printf("memory              %zu bytes = %.2f bytes/entry (RSS +%ld KiB)\n", mem,
           entries ? (double)mem / (double)entries : 0.0, rss_after - rss_before);
    printf("lookup, member      %.0f ns  (normalize + HMAC-SHA-256 + search; %llu of %ld found)\n",
           member_ns, found, lookups);
    printf("lookup, non-member  %.0f ns  (%llu false hits in %ld)\n", stranger_ns, false_hits,
           lookups);
    printf("index search alone  %.0f ns  (random 64-bit hashes, %llu hits)\n", search_ns,
           (unsigned long long)hits);
    lw_edm_close(l);
    lw_fp_key_free(&key);
    return found == (unsigned long long)lookups && false_hits == 0 ? 0 : 1;
}
