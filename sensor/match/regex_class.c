/*
 * regex_class.c — the set of bytes that can appear in a match of a regex, read off its
 * atoms (literals, escapes, bracket classes), for regexes built only of those.
 *
 * The matcher uses it to gate literal-free signatures (card numbers, VINs, IBANs, phone
 * numbers): a value of such a signature is a run of bytes from its class at least min_width
 * long, and a plain byte loop finds such runs far faster than an automaton tracks them, so
 * Hyperscan only sees the stretches of stream that have one. Anything the reader does not
 * understand (., negated classes, \S, anchors, inline flags, non-ASCII) gives no class, and
 * the signature simply stays in the main database.
 */
#include "match/regex_class.h"

#include <ctype.h>
#include <string.h>

static void set(uint8_t cls[32], unsigned b)
{
    cls[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static void set_range(uint8_t cls[32], unsigned a, unsigned b)
{
    for (unsigned i = a; i <= b; i++) set(cls, i);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One escape at *p (just after the backslash). Sets single bytes in cls and returns the byte
 * (0..255) if it is one byte, 256 for a multi-byte class (\d, \s), 257 for an assertion
 * (\b...), -1 for what is not understood. Advances *p. */
static int escape(const char **p, uint8_t cls[32])
{
    char c = **p;
    (*p)++;
    switch (c) {
    case 'd':
        set_range(cls, '0', '9');
        return 256;
    case 's':
        set(cls, ' ');
        set_range(cls, '\t', '\r');
        return 256;
    case 'b':
    case 'B':
    case 'A':
    case 'z':
    case 'Z':
        return 257;
    case 'n':
        return '\n';
    case 't':
        return '\t';
    case 'r':
        return '\r';
    case 'f':
        return '\f';
    case 'v':
        return '\v';
    case 'x': {
        int h = hexval((*p)[0]), l = h >= 0 ? hexval((*p)[1]) : -1;
        if (h < 0 || l < 0) return -1;
        *p += 2;
        return h * 16 + l;
    }
    default:
        /* an escaped punctuation character stands for itself */
        if (c && !isalnum((unsigned char)c) && (unsigned char)c < 128) return (unsigned char)c;
        return -1;
    }
}

/* A bracket class at *p (just after '['). False if not understood. */
static bool bracket(const char **p, uint8_t cls[32])
{
    const char *s = *p;
    if (*s == '^') return false;
    bool first = true;
    while (*s && (first || *s != ']')) {
        int lo;
        if (*s == '\\') {
            s++;
            lo = escape(&s, cls);
            if (lo < 0 || lo == 257) return false;
            if (lo == 256) {
                first = false;
                continue;
            }
        } else if (*s == '[') {
            return false; /* [:digit:] and friends */
        } else {
            lo = (unsigned char)*s++;
        }
        if (s[0] == '-' && s[1] && s[1] != ']') {
            s++;
            int hi;
            if (*s == '\\') {
                s++;
                hi = escape(&s, cls);
                if (hi < 0 || hi > 255) return false;
            } else {
                hi = (unsigned char)*s++;
            }
            if (hi < lo) return false;
            set_range(cls, (unsigned)lo, (unsigned)hi);
        } else {
            set(cls, (unsigned)lo);
        }
        first = false;
    }
    if (*s != ']') return false;
    *p = s + 1;
    return true;
}

bool lw_regex_byte_class(const char *re, bool caseless, uint8_t cls[32])
{
    memset(cls, 0, 32);
    const char *p = re;
    while (*p) {
        unsigned char c = (unsigned char)*p;
        if (c >= 128) return false;
        if (c == '\\') {
            p++;
            int b = escape(&p, cls);
            if (b < 0) return false;
            if (b < 256) set(cls, (unsigned)b);
        } else if (c == '[') {
            p++;
            if (!bracket(&p, cls)) return false;
        } else if (c == '(') {
            p++;
            if (*p == '?') {
                if (p[1] != ':') return false; /* inline flags, named groups */
                p += 2;
            }
        } else if (c == '{') {
            /* a bounded repeat {n}, {n,}, {n,m} */
            const char *q = p + 1;
            while (isdigit((unsigned char)*q) || *q == ',') q++;
            if (*q != '}' || q == p + 1) return false;
            p = q + 1;
        } else if (c == ')' || c == '|' || c == '*' || c == '+' || c == '?') {
            p++;
        } else if (c == '.' || c == '^' || c == '$') {
            return false;
        } else {
            set(cls, c);
            p++;
        }
    }
    if (caseless) {
        for (unsigned b = 'a'; b <= 'z'; b++) {
            bool lo = cls[b >> 3] >> (b & 7) & 1, up = cls[(b - 32) >> 3] >> ((b - 32) & 7) & 1;
            if (lo || up) {
                set(cls, b);
                set(cls, b - 32);
            }
        }
    }
    return true;
}

unsigned lw_byte_class_count(const uint8_t cls[32])
{
    unsigned n = 0;
    for (int i = 0; i < 32; i++) n += (unsigned)__builtin_popcount(cls[i]);
    return n;
}

/* Leading literal of the alternatives from *p up to the closing ')' (or the end): the
 * shortest of them. *p is left after the ')' (or at the end). */
static unsigned lead_alternatives(const char **p, int depth);

static bool is_quantifier(char c)
{
    return c == '*' || c == '+' || c == '?' || c == '{';
}

static void skip_to_alt_end(const char **p)
{
    int level = 0;
    bool in_class = false;
    for (; **p; (*p)++) {
        char c = **p;
        if (c == '\\' && (*p)[1]) {
            (*p)++;
        } else if (in_class) {
            if (c == ']') in_class = false;
        } else if (c == '[') {
            in_class = true;
            if ((*p)[1] == ']') (*p)++;
        } else if (c == '(') {
            level++;
        } else if (c == ')') {
            if (level == 0) return;
            level--;
        } else if (c == '|' && level == 0) {
            return;
        }
    }
}

static unsigned lead_one(const char **p, int depth)
{
    unsigned n = 0;
    for (;;) {
        const char *q = *p;
        char c = *q;
        if (c == '(' && n == 0 && depth < 8) {
            q++;
            if (*q == '?') {
                if (q[1] != ':') break;
                q += 2;
            }
            *p = q;
            unsigned inner = lead_alternatives(p, depth + 1);
            if (is_quantifier(**p)) inner = 0;
            n = inner;
            break;
        }
        int lit = -1;
        if (c == '\\' && q[1] && !isalnum((unsigned char)q[1])) {
            lit = q[1];
            q += 2;
        } else if (c && !strchr("\\[]().^$|*+?{}", c)) {
            lit = c;
            q++;
        }
        if (lit < 0 || is_quantifier(*q)) break;
        n++;
        *p = q;
    }
    skip_to_alt_end(p);
    return n;
}

static unsigned lead_alternatives(const char **p, int depth)
{
    unsigned best = UINT32_MAX;
    for (;;) {
        unsigned n = lead_one(p, depth);
        if (n < best) best = n;
        if (**p == '|') {
            (*p)++;
            continue;
        }
        if (**p == ')') (*p)++;
        return best;
    }
}

unsigned lw_regex_lead_literal(const char *re)
{
    const char *p = re;
    return lead_alternatives(&p, 0);
}
