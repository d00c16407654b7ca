/*
 * edm_main.c — leakwatch-edm, the operator's tool for Exact Data Match lists (interface.md
 * section 6):
 *
 *   leakwatch-edm build [--key KEYFILE] [--column N|NAME] [--header]
 *                       [--normalize email|digits|text] INPUT OUTPUT
 *   leakwatch-edm stats FILE
 *   leakwatch-edm check [--key KEYFILE] FILE VALUE...   (VALUE "-": one value per stdin line)
 *
 * Exit status: 0 done (check: every value is in the list), 1 check found a value not in the
 * list, or build could not read or write, 2 usage, key or index errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "edm/edm_build.h"
#include "leakwatch/edm.h"

#define DEFAULT_KEY "/etc/leakwatch/fingerprint.key"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: leakwatch-edm build [--key KEYFILE] [--column N|NAME] [--header]\n"
            "                           [--normalize email|digits|text] INPUT OUTPUT\n"
            "       leakwatch-edm stats FILE\n"
            "       leakwatch-edm check [--key KEYFILE] FILE VALUE...\n"
            "\n"
            "build   index INPUT (one value per line, or column N / the column named NAME of\n"
            "        a CSV file; - reads stdin) as keyed hashes into OUTPUT. The key is\n"
            "        KEYFILE's bytes without surrounding whitespace (default %s), the\n"
            "        sensor's output.fingerprint_key; normalizer default: text.\n"
            "stats   entries, normalizer, size and key check value of FILE.\n"
            "check   whether each VALUE (- : one per line of stdin) is in FILE: exit 0 when\n"
            "        all are, 1 when one is not.\n",
            DEFAULT_KEY);
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "leakwatch-edm: %s (see leakwatch-edm --help)\n", msg);
    return 2;
}

static bool load_key(lw_fp_key *key, const char *path)
{
    char err[512];
    if (!lw_fp_key_load(key, path ? path : DEFAULT_KEY, err, sizeof(err))) {
        fprintf(stderr, "leakwatch-edm: %s\n", err);
        return false;
    }
    return true;
}

static const struct option build_opts[] = {
    {"key", required_argument, NULL, 'k'}, {"column", required_argument, NULL, 'c'},
    {"header", no_argument, NULL, 'H'},    {"normalize", required_argument, NULL, 'n'},
    {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
};

static int cmd_build(int argc, char **argv)
{
    const char *key_path = NULL;
    lw_edm_build_opts o = {.norm = LW_EDM_NORM_TEXT};
    int c;
    while ((c = getopt_long(argc, argv, "+k:c:Hn:h", build_opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key_path = optarg;
            break;
        case 'H':
            o.header = true;
            break;
        case 'n':
            if (!(o.norm = lw_edm_norm_lookup(optarg)))
                return usage_error("--normalize takes email, digits or text");
            break;
        case 'c': {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*optarg >= '0' && *optarg <= '9' && !*end) {
                if (n < 1 || n > 4096)
                    return usage_error("--column N counts from 1 (at most 4096)");
                o.column = (unsigned)n;
            } else if (*optarg) {
                o.column_name = optarg;
            } else {
                return usage_error("--column takes a number or a header name");
            }
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            return 2;
        }
    }
    if (argc - optind != 2) return usage_error("build takes INPUT and OUTPUT");
    const char *in_path = argv[optind], *out_path = argv[optind + 1];
    lw_fp_key key;
    if (!load_key(&key, key_path)) return 2;
    FILE *in = strcmp(in_path, "-") == 0 ? stdin : fopen(in_path, "rb");
    if (!in) {
        perror(in_path);
        lw_fp_key_free(&key);
        return 1;
    }
    lw_edm_build_report rep;
    char err[1024];
    bool ok = lw_edm_build(in, in == stdin ? "(stdin)" : in_path, out_path, &o, &key, &rep, err,
                           sizeof(err));
    if (in != stdin) fclose(in);
    if (ok) {
        printf("leakwatch-edm: wrote %s: %llu entries (normalizer %s, key check %016llx)\n",
               out_path, (unsigned long long)rep.entries, lw_edm_norm_name(o.norm),
               (unsigned long long)lw_edm_key_check(&key));
        printf("  read %llu records%s: %llu values, %llu duplicates, %llu empty, %llu longer "
               "than %d bytes, %llu without the column\n",
               (unsigned long long)rep.records,
               o.header || o.column_name ? " after the header" : "", (unsigned long long)rep.values,
               (unsigned long long)(rep.values - rep.entries), (unsigned long long)rep.empty,
               (unsigned long long)rep.too_long, LW_EDM_VALUE_MAX,
               (unsigned long long)rep.short_rows);
        if (o.column) printf("  column %u\n", rep.column);
        if (o.column_name) printf("  column %u (\"%s\")\n", rep.column, o.column_name);
    } else {
        fprintf(stderr, "leakwatch-edm: %s\n", err);
    }
    lw_fp_key_free(&key);
    return ok ? 0 : 1;
}

static int cmd_stats(int argc, char **argv)
{
    if (argc != 2) return usage_error("stats takes FILE");
    char err[1024];
    lw_edm_list *l = lw_edm_open(argv[1], NULL, err, sizeof(err));
    if (!l) {
        fprintf(stderr, "leakwatch-edm: %s\n", err);
        return 2;
    }
    struct stat st;
    stat(argv[1], &st);
    uint64_t n = lw_edm_list_entries(l);
    size_t mem = lw_edm_list_memory(l);
    printf("file:        %s\n", argv[1]);
    printf("version:     %u\n", LW_EDM_VERSION);
    printf("entries:     %llu\n", (unsigned long long)n);
    printf("normalizer:  %s\n", lw_edm_norm_name(lw_edm_list_norm(l)));
    printf("size:        %lld bytes\n", (long long)st.st_size);
    printf("memory:      %zu bytes loaded (%.2f per entry)\n", mem,
           n ? (double)mem / (double)n : 0.0);
    printf("key check:   %016llx\n", (unsigned long long)lw_edm_list_key_check(l));
    lw_edm_close(l);
    return 0;
}

/* One value: prints the answer; true when it is in the list. */
static bool check_one(const lw_edm_list *l, const char *v, size_t len)
{
    uint8_t norm[LW_EDM_VALUE_MAX];
    size_t n = 0;
    bool in = lw_edm_contains(l, (const uint8_t *)v, len, norm, &n);
    printf("%s\t%.*s", in ? "in list" : "not in list", (int)len, v);
    if (!n)
        printf("\t(nothing left after normalizing)");
    else if (n != len || memcmp(norm, v, n) != 0)
        printf("\t(normalized: %.*s)", (int)n, (const char *)norm);
    printf("\n");
    return in;
}

static const struct option check_opts[] = {
    {"key", required_argument, NULL, 'k'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int cmd_check(int argc, char **argv)
{
    const char *key_path = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "+k:h", check_opts, NULL)) != -1) {
        if (c == 'k')
            key_path = optarg;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            return 2;
        }
    }
    if (argc - optind < 2) return usage_error("check takes FILE and at least one VALUE");
    lw_fp_key key;
    if (!load_key(&key, key_path)) return 2;
    char err[1024];
    lw_edm_list *l = lw_edm_open(argv[optind], &key, err, sizeof(err));
    if (!l) {
        fprintf(stderr, "leakwatch-edm: %s\n", err);
        lw_fp_key_free(&key);
        return 2;
    }
    bool all = true;
    for (int i = optind + 1; i < argc; i++) {
        if (strcmp(argv[i], "-") != 0) {
            all &= check_one(l, argv[i], strlen(argv[i]));
            continue;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t got;
        while ((got = getline(&line, &cap, stdin)) > 0) {
            size_t n = (size_t)got;
            while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
            all &= check_one(l, line, n);
        }
        free(line);
    }
    lw_edm_close(l);
    lw_fp_key_free(&key);
    return all ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("leakwatch-edm %s\n", LW_VERSION);
        return 0;
    }
    if (strcmp(cmd, "build") == 0) return cmd_build(argc - 1, argv + 1);
    if (strcmp(cmd, "stats") == 0) return cmd_stats(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0) return cmd_check(argc - 1, argv + 1);
    fprintf(stderr, "leakwatch-edm: unknown command \"%s\" (build, stats or check)\n", cmd);
    return 2;
}
