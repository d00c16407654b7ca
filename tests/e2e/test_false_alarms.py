#!/usr/bin/env python3
"""test_false_alarms.py — false alarms of the shipped signature packs on a large benign corpus.

The corpus is built deterministically in the scratch directory, one file per part:
  docs      text under /usr/share/doc (*.gz decompressed), sorted paths, binaries skipped
  include   headers under /usr/include, sorted paths, binaries skipped
  base64    random base64 lines (16-200 chars, standard and URL-safe, padded and not), MIME
            bodies, certificates, data: URIs, SRI hashes
  hex       random hex strings (16-128 chars, upper and lower case) as digests and ids
  uuid      uuid4 values (upper and lower case, braces, urn:, in JSON, URLs and headers)
  git       git object ids (sha1 of seeded contents, some sha256) in git log/diff/ls-tree/refs
  js        JavaScript and source maps installed under /usr/share/javascript and
            /usr/share/nodejs (e.g. libjs-jquery), plus generated minified JS
  tricky    benign look-alikes: decimals and version strings, IP addresses, timestamps,
            digit runs failing Luhn, sample configs (password=changeme), vendor doc example keys
Every part is scanned by one `leakwatch --scan FILE -s <source>/signatures` (the figures). The
whole corpus is scanned once more on stdin with all packs and with each pack file alone, which
must report the same matches (nothing lost when all packs share the matcher). The test fails on
any high or critical match of any run (each one is printed with its redacted value, the source
file and the corpus bytes around it); low and medium matches are allowed and reported per
signature ("matches" = the per-part runs, "whole"/"alone" = the whole-corpus runs).
The last line is the figure the README states: "false alarms (high/critical): N in M MB".
The system parts are capped (constants below) so the test runs well under a minute on 2 cores;
the generated parts are always built, so a machine with few docs still gets a meaningful run.
"""

import base64
import bisect
import collections
import concurrent.futures
import gzip
import hashlib
import os
import random
import re
import shutil
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

MIB = 1024 * 1024
SEED = 20240501
DOCS_CAP = 48 * MIB          # text taken from /usr/share/doc
INCLUDE_CAP = 24 * MIB       # text taken from /usr/include
JS_CAP = 8 * MIB             # installed JavaScript and source maps
PER_FILE_CAP = 64 * 1024     # one doc or header contributes at most this much (cut at a newline):
                             # breadth (most packages' docs) over depth (long changelogs)
JS_FILE_CAP = 2 * MIB        # one JavaScript file (minified ones have few newlines to cut at)
GEN_SIZES = {                # bytes of each generated part
    "base64": 6 * MIB,
    "hex": 3 * MIB,
    "uuid": 2 * MIB,
    "git": 3 * MIB,
    "js-gen": 2 * MIB,       # generated minified JS, appended to the js part
    "tricky": 3 * MIB,
}
SCAN_TIMEOUT = 600
CONTEXT = 40                 # bytes of corpus shown on each side of a reported match
FAIL_SEVERITIES = ("high", "critical")
SEVERITIES = ("low", "medium", "high", "critical")
BINARY_EXT = (".png", ".jpg", ".jpeg", ".gif", ".ico", ".svgz", ".pdf", ".woff", ".woff2",
              ".ttf", ".otf", ".eot", ".zip", ".bz2", ".xz", ".zst", ".br", ".brotli", ".lz",
              ".tar", ".deb", ".so", ".a", ".o", ".pyc", ".mo", ".gmo", ".db", ".sqlite")
TEXT_BYTES = bytes(range(0x20, 0x7f)) + b"\t\n\r\f\v\x1b" + bytes(range(0x80, 0x100))

t = lwtest.Test("test_false_alarms")
env = t.env
t.need_binary()
sigdir = os.path.join(env.source, "signatures")
corpus_dir = env.scratch("false-alarms")


# -- corpus: system text -------------------------------------------------------------------------

def is_text(data):
    """No NUL byte and (almost) no other control characters."""
    if b"\0" in data:
        return False
    return len(data.translate(None, TEXT_BYTES)) <= len(data) // 200


def system_files(roots, exts=None):
    """Regular files under roots (symlinks not followed), sorted by path."""
    out = []
    for root in roots:
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in filenames:
                path = os.path.join(dirpath, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                if exts is not None and not name.endswith(exts):
                    continue
                out.append(path)
    return sorted(out)


def read_text(path, file_cap):
    """The file's text (gzip decompressed), at most file_cap bytes; None if binary."""
    low = path.lower()
    if low.endswith(BINARY_EXT):
        return None
    try:
        with open(path, "rb") as fp:
            if low.endswith(".gz"):
                with gzip.GzipFile(fileobj=fp) as gz:
                    data = gz.read(file_cap + 1)
            else:
                data = fp.read(file_cap + 1)
    except (OSError, EOFError, gzip.BadGzipFile, ValueError):
        return None
    if len(data) > file_cap:
        cut = data.rfind(b"\n", 0, file_cap)
        data = data[:cut + 1] if cut > 0 else data[:file_cap]
    if not data or not is_text(data):
        return None
    return data if data.endswith(b"\n") else data + b"\n"


def build_system_part(name, paths, cap, seen, file_cap=PER_FILE_CAP):
    """Concatenates text files up to cap bytes. Returns (path, [(offset, source)], skipped)."""
    out_path = os.path.join(corpus_dir, name + ".txt")
    index, size, skipped = [], 0, 0
    with open(out_path, "wb") as out:
        for p in paths:
            if size >= cap:
                break
            real = os.path.realpath(p)
            if real in seen:
                continue
            seen.add(real)
            data = read_text(p, file_cap)
            if data is None:
                skipped += 1
                continue
            data = data[:cap - size]
            index.append((size, p))
            out.write(data)
            size += len(data)
    return out_path, index, skipped


# -- corpus: generated parts ---------------------------------------------------------------------

class Writer:
    """Lines into one part file until its target size; index entries name each section."""

    def __init__(self, name, target, mode="wb"):
        self.path = os.path.join(corpus_dir, name + ".txt")
        self.fp = open(self.path, mode)
        self.size = self.fp.tell()
        self.target = self.size + target
        self.index = []

    def full(self):
        return self.size >= self.target

    def section(self, label):
        self.index.append((self.size, label))

    def line(self, text):
        b = (text + "\n").encode("utf-8")
        self.fp.write(b)
        self.size += len(b)

    def close(self):
        self.fp.close()


def rand_bytes(rng, n):
    return rng.getrandbits(8 * n).to_bytes(n, "little") if n else b""


def b64(rng, nbytes, urlsafe=False, pad=True):
    raw = rand_bytes(rng, nbytes)
    s = (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()
    return s if pad else s.rstrip("=")


def hexstr(rng, nchars, upper=False):
    s = "%0*x" % (nchars, rng.getrandbits(4 * nchars))
    return s.upper() if upper else s


def rand_uuid(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def word(rng, lo=3, hi=10):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(lo, hi)))


def gen_base64(rng, w):
    w.section("base64 lines")
    prefixes = ["", "", "", "", "data:application/octet-stream;base64,", "data:image/png;base64,",
                '"blob": "', "Content-MD5: ", "nonce=", "payload=", "  ", "- ", "\t"]
    while not w.full():
        r = rng.random()
        if r < 0.80:                             # one line, 16-200 chars
            nbytes = rng.randint(12, 150)
            urlsafe = rng.random() < 0.35
            pad = rng.random() < 0.6
            w.line(rng.choice(prefixes) + b64(rng, nbytes, urlsafe, pad))
        elif r < 0.88:                           # SRI / npm integrity hashes
            algo, n = rng.choice([("sha256", 32), ("sha384", 48), ("sha512", 64)])
            w.line('      "integrity": "%s-%s",' % (algo, b64(rng, n)))
        elif r < 0.95:                           # a MIME attachment, 76-char lines
            body = b64(rng, rng.randint(200, 3000))
            w.line("Content-Type: application/octet-stream; name=\"%s.bin\"" % word(rng))
            w.line("Content-Transfer-Encoding: base64")
            w.line("")
            for i in range(0, len(body), 76):
                w.line(body[i:i + 76])
            w.line("")
        else:                                    # a certificate (public), 64-char lines
            body = b64(rng, rng.randint(600, 1400))
            w.line("-----BEGIN CERTIFICATE-----")
            for i in range(0, len(body), 64):
                w.line(body[i:i + 64])
            w.line("-----END CERTIFICATE-----")


def gen_hex(rng, w):
    w.section("hex strings")
    labels = ["", "", "", "sha256:", "sha1 ", "md5=", "digest: ", "checksum ", "0x", "etag: \"",
              "hash=", "id=", "trace_id=", "span ", "object ", "build-id ", "nonce:"]
    while not w.full():
        r = rng.random()
        upper = rng.random() < 0.4
        if r < 0.75:
            w.line(rng.choice(labels) + hexstr(rng, rng.randint(16, 128), upper))
        elif r < 0.85:                           # sha256sum / md5sum output
            n = rng.choice([32, 40, 64, 128])
            w.line("%s  %s/%s.%s" % (hexstr(rng, n), word(rng), word(rng),
                                     rng.choice(["tar.gz", "deb", "iso", "c", "txt"])))
        elif r < 0.93:                           # colon-separated fingerprints
            n = rng.choice([16, 20, 32])
            s = ":".join(hexstr(rng, 2, upper) for _ in range(n))
            w.line("Fingerprint: " + s)
        else:                                    # hexdump -C style rows
            off = rng.getrandbits(24) & ~15
            cells = " ".join(hexstr(rng, 2) for _ in range(16))
            w.line("%08x  %s  |................|" % (off, cells))


def gen_uuid(rng, w):
    w.section("uuids")
    while not w.full():
        u = rand_uuid(rng)
        s = str(u).upper() if rng.random() < 0.4 else str(u)
        form = rng.randrange(8)
        if form == 0:
            w.line(s)
        elif form == 1:
            w.line("{%s}" % s)
        elif form == 2:
            w.line("urn:uuid:%s" % s)
        elif form == 3:
            w.line('{"id":"%s","parent":"%s","seq":%d}' % (s, rand_uuid(rng),
                                                          rng.randint(0, 99999)))
        elif form == 4:
            w.line("X-Request-Id: %s" % s)
        elif form == 5:
            w.line("GET /api/v1/%s/%s HTTP/1.1" % (word(rng), s))
        elif form == 6:
            w.line("UUID=%s /%s ext4 defaults 0 2" % (s, word(rng)))
        else:
            w.line(u.hex.upper() if rng.random() < 0.5 else u.hex)


def gen_git(rng, w):
    w.section("git object ids")
    authors = ["%s %s <%s@example.org>" % (word(rng).title(), word(rng).title(), word(rng))
               for _ in range(40)]
    counter = [0]

    def oid(sha256=False):
        counter[0] += 1
        content = b"blob %d\0" % counter[0] + rand_bytes(rng, rng.randint(8, 64))
        return (hashlib.sha256 if sha256 else hashlib.sha1)(content).hexdigest()

    while not w.full():
        r = rng.random()
        if r < 0.35:                             # git log
            w.line("commit %s" % oid())
            if rng.random() < 0.2:
                w.line("Merge: %s %s" % (oid()[:7], oid()[:7]))
            w.line("Author: %s" % rng.choice(authors))
            w.line("Date:   %s" % time.strftime("%a %b %d %H:%M:%S %Y +0000",
                                                time.gmtime(1.5e9 + rng.randint(0, 2e8))))
            w.line("")
            w.line("    %s %s %s" % (word(rng).title(), word(rng), word(rng)))
            if rng.random() < 0.3:
                w.line("")
                w.line("    This reverts commit %s." % oid())
            w.line("")
        elif r < 0.55:                           # git log --oneline / rebase todo
            w.line("%s%s %s %s" % (rng.choice(["", "pick ", "fixup "]), oid()[:rng.randint(7, 12)],
                                   word(rng).title(), word(rng)))
        elif r < 0.70:                           # diff headers
            w.line("diff --git a/%s.c b/%s.c" % ((word(rng),) * 2))
            w.line("index %s..%s 100644" % (oid()[:rng.choice([7, 12, 40])], oid()[:7]))
        elif r < 0.82:                           # ls-tree
            w.line("%s %s %s\t%s/%s" % (rng.choice(["100644", "100755", "040000"]),
                                         rng.choice(["blob", "tree"]), oid(), word(rng), word(rng)))
        elif r < 0.92:                           # packed-refs / show-ref
            w.line("%s refs/%s/%s" % (oid(), rng.choice(["heads", "tags", "remotes/origin"]),
                                      word(rng)))
        elif r < 0.96:                           # Gerrit Change-Id, sha256 repositories
            w.line("Change-Id: I%s" % oid())
        else:
            w.line("%s %s" % (oid(sha256=True), rng.choice(["HEAD", "refs/heads/main"])))


def gen_js(rng, w):
    """Minified-JS-like text: short identifiers, string literals, numbers, colours, regexes."""
    w.section("generated minified JS")
    ids = ["e", "t", "n", "r", "i", "o", "a", "s", "u", "c", "l", "f", "d", "p", "h"]

    def ident():
        tail = rng.choice(ids + ["$", "_", "0", "1"]) if rng.random() < 0.4 else ""
        return rng.choice(ids) + tail

    def expr(depth=0):
        r = rng.random()
        if depth > 2 or r < 0.25:
            return ident()
        if r < 0.35:
            return str(rng.randint(0, 1 << rng.choice([4, 8, 16, 31])))
        if r < 0.42:
            return '"%s"' % rng.choice([word(rng), b64(rng, rng.randint(6, 40)),
                                         "#" + hexstr(rng, 6), "%s-%s" % (word(rng), word(rng))])
        if r < 0.50:
            args = ",".join(expr(depth + 1) for _ in range(rng.randint(0, 3)))
            return "%s.%s(%s)" % (ident(), word(rng, 3, 12), args)
        if r < 0.58:
            return "%s%s%s" % (expr(depth + 1), rng.choice(["+", "-", "*", "&&", "||", "===", "!==",
                                                            "<<", ">>>", "|", "&", "^", "?0:"]),
                               expr(depth + 1))
        if r < 0.64:
            return "function(%s){return %s}" % (",".join(ident() for _ in range(rng.randint(0, 3))),
                                                expr(depth + 1))
        if r < 0.70:
            return "[%s]" % ",".join(expr(depth + 1) for _ in range(rng.randint(0, 5)))
        if r < 0.76:
            return "{%s}" % ",".join("%s:%s" % (word(rng, 1, 8), expr(depth + 1))
                                     for _ in range(rng.randint(0, 4)))
        if r < 0.80:
            return "/^[%s]+$/%s" % (word(rng, 2, 6), rng.choice(["", "g", "i", "gi"]))
        if r < 0.84:
            return "0x%s" % hexstr(rng, rng.choice([2, 4, 8]))
        if r < 0.88:
            return "%d.%d" % (rng.randint(0, 999), rng.randint(0, 99))
        return "%s[%s]" % (ident(), expr(depth + 1))

    while not w.full():
        if rng.random() < 0.1:                   # a source map's mappings (base64 VLQ)
            segs = ";".join(",".join(b64(rng, rng.randint(3, 6), pad=False)[:rng.randint(4, 8)]
                                     for _ in range(rng.randint(1, 12)))
                            for _ in range(rng.randint(5, 40)))
            w.line('{"version":3,"file":"%s.min.js","mappings":"%s"}' % (word(rng), segs))
            continue
        stmts = []
        for _ in range(rng.randint(20, 120)):
            k = rng.random()
            if k < 0.4:
                stmts.append("var " + ",".join("%s=%s" % (ident(), expr())
                                               for _ in range(rng.randint(1, 4))))
            elif k < 0.7:
                stmts.append(expr())
            elif k < 0.85:
                stmts.append("if(%s)%s;else %s" % (expr(), expr(), expr()))
            else:
                stmts.append("for(%s=0;%s<%s.length;%s++)%s" % (("i",) * 4 + (expr(),)))
        w.line("!function(e,t){\"use strict\";%s}(this,window);" % ";".join(stmts))


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def my_number_ok(digits):
    if len(digits) != 12:
        return False
    s = sum(int(digits[11 - k]) * (k + 1 if k <= 6 else k - 5) for k in range(1, 12))
    r = s % 11
    return int(digits[11]) == (0 if r <= 1 else 11 - r)


def failing_digits(rng, n):
    """n random digits (card-like first digit half of the time) failing Luhn and My Number."""
    while True:
        first = rng.choice("3456") if rng.random() < 0.5 else rng.choice("123456789")
        s = first + "".join(rng.choice("0123456789") for _ in range(n - 1))
        if not luhn_ok(s) and not my_number_ok(s):
            return s


VENDOR_EXAMPLES = [
    "# ~/.aws/credentials (example from the AWS documentation)",
    "[default]",
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "region = us-west-2",
    "[profile user1]",
    "aws_access_key_id=AKIAI44QH8DHBEXAMPLE",
    "aws_secret_access_key=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "export AWS_DEFAULT_REGION=us-west-2",
    '{"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": '
    '"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "Expiration": "2024-05-01T12:00:00Z"}',
    "Principal: arn:aws:iam::123456789012:user/JohnDoe  AccessKey AKIAIOSFODNN7EXAMPLE",
    "aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
]

CONFIG_SAMPLES = [
    "[database]\nhost = localhost\nport = 5432\nuser = app\npassword=changeme\n",
    "DB_USER=postgres\nDB_PASSWORD=changeme\nSECRET_KEY=change-me-in-production\n",
    "admin:\n  username: admin\n  password: \"changeme\"\n  api_key: YOUR_API_KEY_HERE\n",
    "<property name=\"password\" value=\"changeme\"/>\n<property name=\"user\" value=\"sa\"/>\n",
    "spring.datasource.password=changeme\nspring.datasource.username=admin\n",
    "# Set a password before first start\n#password=\nrootpw = changeme\ntoken = <your token>\n",
    "mysql -u root -pchangeme -h 127.0.0.1\ncurl -u admin:changeme http://localhost:8080/\n",
    "[client]\nuser=root\npassword=password\n[mysqld]\nbind-address=0.0.0.0\n",
    "auth:\n  client_secret: ${CLIENT_SECRET}\n  password: xxxxxxxx\n  token: REPLACE_ME\n",
    "postgresql://user:changeme@localhost:5432/app\nredis://:changeme@127.0.0.1:6379/0\n",
]


def gen_tricky(rng, w):
    ri = rng.randint
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    def ipv4():
        return "%d.%d.%d.%d" % tuple(ri(0, 255) for _ in range(4))

    def ipv6():
        return "%x:%x:%x::%x:%x" % tuple(rng.getrandbits(16) for _ in range(5))

    def versions():
        return [
            "%s %d.%d.%d" % (word(rng), ri(0, 30), ri(0, 99), ri(0, 999)),
            "v%d.%d.%d-rc%d" % (ri(0, 20), ri(0, 40), ri(0, 200), ri(1, 9)),
            "%d.%d.%d-%d+deb%du%d" % (ri(0, 9), ri(0, 60), ri(0, 20), ri(1, 9), ri(9, 13),
                                     ri(1, 9)),
            "Version: %d.%d.%d.%d" % (ri(1, 10), ri(0, 9), ri(0, 99999), ri(0, 9999)),
            "%s==%d.%d.%d" % (word(rng), ri(0, 9), ri(0, 40), ri(0, 30)),
            "Depends: lib%s%d (>= %d.%d~%s%d)" % (word(rng), ri(0, 9), ri(0, 9), ri(0, 99),
                                                word(rng, 2, 4), ri(0, 9)),
            "#define %s_VERSION_NUMBER 0x%s" % (word(rng).upper(), hexstr(rng, 8, True)),
        ]

    def decimals():
        r = rng.random
        return [
            "elapsed %.6f s, rate %.4f MB/s" % (r() * 100, r() * 1000),
            "pi = %.15f; e = %.12f" % (3.141592653589793, 2.718281828459045),
            "%e %e %e" % (rng.gauss(0, 1e6), rng.gauss(0, 1e-6), rng.gauss(0, 1)),
            "loss: %.5f\tacc: %.5f\tlr: %.6f" % (r(), r(), r() / 100),
            "total=%d.%02d EUR qty=%d" % (ri(0, 99999), ri(0, 99), ri(1, 50)),
            "%d %d %d %d" % tuple(ri(-10 ** 9, 10 ** 9) for _ in range(4)),
            "temperature %.2f C humidity %.1f%%" % (rng.uniform(-20, 40), rng.uniform(0, 100)),
        ]

    def ips():
        return [
            '%s - - [%02d/%s/2024:%02d:%02d:%02d +0000] "GET /%s HTTP/1.1" 200 %d' % (
                ipv4(), ri(1, 28), rng.choice(months), ri(0, 23), ri(0, 59), ri(0, 59),
                word(rng), ri(0, 99999)),
            "inet %s/%d brd %s scope global eth0" % (ipv4(), ri(8, 32), ipv4()),
            "inet6 %s/64 scope link" % ipv6(),
            "connect to %s:%d failed" % (ipv4(), ri(1, 65535)),
            "route add -net %s netmask 255.255.255.0 gw %s" % (ipv4(), ipv4()),
            "[%s]:%d" % (ipv6(), ri(1, 65535)),
        ]

    def timestamps():
        x = 1.4e9 + rng.random() * 3.5e8        # 2014-2025
        g = time.gmtime(x)
        return [
            time.strftime("%Y-%m-%dT%H:%M:%S", g) + ".%06dZ" % ri(0, 999999),
            time.strftime("%a, %d %b %Y %H:%M:%S +0000", g),
            time.strftime("%b %d %H:%M:%S", g) + " host sshd[%d]: ok" % ri(1, 99999),
            "ts=%d" % int(x),
            "ts_ms=%d" % int(x * 1000),
            "\"time_us\":%d" % int(x * 1e6),
            "%d.%09d" % (int(x), ri(0, 999999999)),
            time.strftime("%Y%m%d%H%M%S", g),
            time.strftime("%Y-%m-%d %H:%M:%S", g) + ",%03d INFO main" % ri(0, 999),
        ]

    def digits():
        n = ri(12, 19)
        d = failing_digits(rng, n)
        grouped = n >= 13
        return [
            d, "order %s" % d, "tracking number: %s" % d, "invoice_no=%s" % d,
            "%s %s %s %s" % (d[:4], d[4:8], d[8:12], d[12:]) if grouped else d,
            "%s-%s-%s-%s" % (d[:4], d[4:8], d[8:12], d[12:]) if grouped else d,
            '{"ref":"%s","amount":%d}' % (d, ri(1, 9999)),
        ]

    kinds = [("versions", versions), ("decimals", decimals), ("ips", ips),
             ("timestamps", timestamps), ("digits", digits), ("configs", None),
             ("examples", None)]
    while not w.full():
        kind, choices = kinds[rng.randrange(len(kinds))]
        w.section(kind)
        for _ in range(ri(20, 80)):
            if choices:
                w.line(rng.choice(choices()))
            elif kind == "configs":
                for ln in rng.choice(CONFIG_SAMPLES).rstrip("\n").split("\n"):
                    w.line(ln)
                w.line("")
            else:
                w.line(rng.choice(VENDOR_EXAMPLES))


# -- the packs and a canary ---------------------------------------------------------------------
t.section("signature packs")
res = t.run(["-T", "-s", sigdir], parse=False, label="-T -s signatures/")
if not t.eq(res.rc, 0, "the shipped packs load (-T exits 0)"):
    t.note(res.stderr.strip()[:2000])
    t.finish()                               # nothing to scan with
m = re.search(r"signatures:\s+(\d+) from (\d+) file", res.stdout.decode("utf-8", "replace"))
n_sigs = int(m.group(1)) if m else 0
t.ok(m is not None, "-T reports the signature count", res.stdout[:300])
if res.rc == 0 and n_sigs == 0:
    t.skip("signatures/ holds no signatures yet: nothing to measure")
t.note("%d signatures from %s file(s) in %s" % (n_sigs, m.group(2) if m else "?", sigdir))

# A scratch pack proves the pipeline reports a high match with its offset (so zero below means
# zero, not a scan or parse that saw nothing).
canary_sig = lwtest.write_config(os.path.join(corpus_dir, "canary.yaml"), (
    "signatures:\n"
    "  - id: 900001\n    name: false-alarm canary\n    category: custom\n    severity: high\n"
    "    regex: 'LWCANARY[0-9]{6}'\n"))
canary_file = os.path.join(corpus_dir, "canary.txt")
with open(canary_file, "wb") as fp:
    fp.write(b"benign text\nLWCANARY123456\n")
res = t.run(["--scan", canary_file, "-s", canary_sig], parse=False, label="--scan canary")
ev, _ = lwtest.parse_json_lines(res.stdout)
t.eq(res.rc, 0, "canary scan exits 0")
t.eq([(e.get("signature_id"), e.get("severity"), e.get("offset"), e.get("length")) for e in ev],
     [(900001, "high", 12, 14)], "canary: one high match at offset 12, length 14")


# -- build --------------------------------------------------------------------------------------

t0 = time.time()
parts = collections.OrderedDict()   # name -> {"path", "index", "note"}
seen = set()
docs_path, docs_index, docs_skipped = build_system_part(
    "docs", system_files(["/usr/share/doc"]), DOCS_CAP, seen)
parts["docs"] = {"path": docs_path, "index": docs_index,
                 "note": "%d files from /usr/share/doc (%d skipped as binary)" % (len(docs_index),
                                                                                 docs_skipped)}
inc_path, inc_index, inc_skipped = build_system_part(
    "include", system_files(["/usr/include"]), INCLUDE_CAP, seen)
parts["include"] = {"path": inc_path, "index": inc_index,
                    "note": "%d files from /usr/include (%d skipped as binary)" % (len(inc_index),
                                                                                  inc_skipped)}
js_files = system_files(["/usr/share/javascript", "/usr/share/nodejs"],
                        exts=(".js", ".mjs", ".cjs", ".map"))
js_path, js_index, _ = build_system_part("js", js_files, JS_CAP, seen, JS_FILE_CAP)
for name, gen in (("base64", gen_base64), ("hex", gen_hex), ("uuid", gen_uuid),
                  ("git", gen_git), ("js-gen", gen_js), ("tricky", gen_tricky)):
    rng = random.Random("%d:%s" % (SEED, name))
    if name == "js-gen":                         # appended to the installed JS
        w = Writer("js", GEN_SIZES[name], mode="ab")
        gen(rng, w)
        w.close()
        n_inst = len(js_index)
        parts["js"] = {"path": js_path, "index": js_index + w.index,
                       "note": "%d installed files (%.1f MB) + generated minified JS" % (
                           n_inst, w.index[0][0] / 1e6)}
        continue
    w = Writer(name, GEN_SIZES[name])
    gen(rng, w)
    w.close()
    parts[name] = {"path": w.path, "index": w.index, "note": "generated, seed %d" % SEED}
for p in parts.values():
    p["bytes"] = os.path.getsize(p["path"])
total_bytes = sum(p["bytes"] for p in parts.values())
t.note("corpus built in %.1f s: %.1f MB in %d parts under %s" % (
    time.time() - t0, total_bytes / 1e6, len(parts), corpus_dir))

t.section("corpus")
t.ok(all(p["bytes"] > 0 for n, p in parts.items() if n not in ("docs", "include")),
     "every generated part is non-empty")
t.ok(total_bytes >= sum(GEN_SIZES.values()), "corpus holds at least the generated parts",
     "%d bytes" % total_bytes)
if parts["docs"]["bytes"] < 4 * MIB:
    t.note("only %.1f MB of /usr/share/doc text on this machine: the generated parts carry the "
           "test" % (parts["docs"]["bytes"] / 1e6))
if not js_index:
    t.note("no JavaScript under /usr/share/javascript or /usr/share/nodejs (install "
           "libjs-jquery): the js part is generated only")

# -- scan ---------------------------------------------------------------------------------------

SUMMARY_RE = re.compile(r"scanned (\d+) bytes in ([0-9.]+) s \(([0-9.]+) MB/s\): (\d+) matches"
                        r"(?: \((\d+) reports, (\d+) rejected by validators, (\d+) allowlisted)?")


# A fixed fingerprint key: the same value has the same fingerprint in every run (distinct counts
# across runs), and no "random per-run key" notice.
fp_key = os.path.join(corpus_dir, "fingerprint.key")
with open(os.open(fp_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fp:
    fp.write(hashlib.sha256(b"test_false_alarms").hexdigest() + "\n")
os.chmod(fp_key, 0o600)
scan_cfg = lwtest.write_config(os.path.join(corpus_dir, "scan.yaml"),
                               "output:\n  fingerprint_key: %s\n" % fp_key)
ALL = "all parts"


def scan(job):
    """job (part, pack): one part from its file, or ALL: the whole corpus on stdin."""
    part, pack = job
    args = ["--scan", "-" if part == ALL else parts[part]["path"], "-c", scan_cfg,
            "-s", pack or sigdir]
    return job, t.execute(args, stdin=corpus if part == ALL else None, timeout=SCAN_TIMEOUT)


def check_run(res, label, nbytes):
    """Hygiene, exit 0, strict JSON Lines, a summary that covers every byte: (events, summary)."""
    t.hygiene(res, label, parse=False)
    t.eq(res.rc, 0, "%s exits 0" % label)
    events, errors = lwtest.parse_json_lines(res.stdout)
    for e in errors[:5]:
        t.ok(False, "%s: stdout is strict JSON Lines" % label, e)
    sm = SUMMARY_RE.search(res.stderr)
    t.ok(sm is not None, "%s: summary line on stderr" % label, res.stderr[-300:])
    if sm:
        t.eq(int(sm.group(1)), nbytes, "%s: scanned every byte" % label)
        t.eq(int(sm.group(4)), len(events), "%s: summary counts the printed matches" % label)
    return events, sm


def sig_key(e):
    return (e.get("signature_id"), e.get("signature"), e.get("severity"))


# Each part is scanned from its file with all packs: the figures. Then the whole corpus once
# more on stdin, with all packs and with each pack file alone: on the same bytes a value must
# not go unreported because other packs' signatures share the matcher, so these runs must
# report the same matches. The high/critical hits of every run count.
part_names = list(parts)
part_starts, corpus = [], bytearray()
for name in part_names:
    part_starts.append(len(corpus))
    with open(parts[name]["path"], "rb") as fp:
        corpus += fp.read()
corpus = bytes(corpus)
packs = sorted(os.path.join(sigdir, f) for f in os.listdir(sigdir) if f.endswith(".yaml"))
jobs = [(ALL, None)] + [(ALL, pk) for pk in packs] + [(name, None) for name in part_names]
t.section("scan")
with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
    results = list(pool.map(scan, jobs))

hits_fail = {}                               # (part, id, offset, length) -> (part, event)
by_sig = collections.defaultdict(collections.Counter)   # (id, name, sev) -> matches per part
cross = collections.defaultdict(lambda: collections.defaultdict(collections.Counter))
distinct = collections.defaultdict(set)                  # (id, name, sev) -> fingerprints
rows = []
for (name, pack), res in results:
    whole = name == ALL
    what = "- (all parts)" if whole else os.path.basename(parts[name]["path"])
    label = "--scan %s -s %s" % (what, os.path.basename(pack) if pack else "signatures/")
    events, sm = check_run(res, label, len(corpus) if whole else parts[name]["bytes"])
    for e in events:
        key = sig_key(e)
        part, off = name, e.get("offset", 0)
        if whole:                            # back to the part and its own offsets
            i = bisect.bisect_right(part_starts, off) - 1
            part, off = part_names[i], off - part_starts[i]
            cross[pack][key][part] += 1
        else:
            by_sig[key][part] += 1
            distinct[key].add(e.get("fingerprint"))
        if e.get("severity") in FAIL_SEVERITIES:
            hits_fail.setdefault((part, e.get("signature_id"), off, e.get("length")),
                                 (part, dict(e, offset=off)))
    if whole:
        continue
    sev = collections.Counter(e.get("severity") for e in events)
    sev["rejected"] = int(sm.group(6) or 0) if sm else 0      # candidates validators refused
    sev["allowlisted"] = int(sm.group(7) or 0) if sm else 0   # e.g. the AWS doc example keys
    rows.append((name, parts[name]["bytes"], float(sm.group(2)) if sm else res.elapsed,
                 float(sm.group(3)) if sm else 0.0, res.elapsed, sev, parts[name]["note"]))
hits_fail = [hits_fail[k] for k in sorted(hits_fail, key=lambda k: (part_names.index(k[0]),
                                                                    k[2], k[1]))]
alone = collections.defaultdict(collections.Counter)
for pk in packs:
    for key, c in cross[pk].items():
        alone[key].update(c)
together = cross[None]
differ = ["%s %s: %d with all packs, %d with its pack alone" % (k[0], part, together[k][part],
                                                                alone[k][part])
          for k in sorted(set(together) | set(alone), key=lambda k: k[0] or 0)
          for part in part_names if together[k][part] != alone[k][part]]
t.ok(not differ, "whole corpus: all packs together report the matches of each pack alone",
     "; ".join(differ[:12]))


def source_of(part, offset):
    idx = parts[part]["index"]
    i = bisect.bisect_right([o for o, _ in idx], offset) - 1
    return (idx[i][1], offset - idx[i][0]) if i >= 0 else ("?", offset)


def context(part, offset, length):
    start = max(0, offset - CONTEXT)
    with open(parts[part]["path"], "rb") as fp:
        fp.seek(start)
        data = fp.read(offset - start + length + CONTEXT)
    return data.decode("utf-8", "replace")


# -- report -------------------------------------------------------------------------------------
t.end_section()
print()
COLS = SEVERITIES + ("rejected", "allowlisted")
ROW = "%-8s %12s %8s %7s " + "".join(" %%%ds" % max(7, len(c)) for c in COLS) + "  %s"
print(ROW % (("part", "bytes", "scan s", "MB/s") + COLS + ("contents",)))
tot_sev = collections.Counter()
for name, nbytes, secs, mbps, wall, sev, note in rows:
    tot_sev.update(sev)
    print(ROW % ((name, nbytes, "%.3f" % secs, "%.1f" % mbps) + tuple(sev[c] for c in COLS) +
                 (note,)))
scan_secs = sum(r[2] for r in rows)
print(ROW % (("total", total_bytes, "%.3f" % scan_secs,
              "%.1f" % (total_bytes / 1e6 / scan_secs if scan_secs else 0.0)) +
             tuple(tot_sev[c] for c in COLS) + ("",)))

allowed = sorted(((sum(by_sig[k].values()), k) for k in set(by_sig) | set(together) | set(alone)
                  if k[2] not in FAIL_SEVERITIES), key=lambda x: (-x[0], x[1][0] or 0))
print()
print("low/medium matches by signature (allowed, reported; --scan ignores thresholds):"
      if allowed else "low/medium matches by signature: none")
if allowed:
    print("  %6s %-7s %-46s %8s %8s %8s %8s  %s" % ("id", "sev", "signature", "matches",
                                                    "distinct", "whole", "alone",
                                                    "matches per part"))
for total, key in allowed[:25]:
    sid, sname, sev = key
    print("  %6s %-7s %-46s %8d %8d %8d %8d  (%s)" % (
        sid, sev, (sname or "")[:46], total, len(distinct[key]),
        sum(together[key].values()), sum(alone[key].values()),
        ", ".join("%s %d" % kv for kv in sorted(by_sig[key].items()))))

if hits_fail:
    print()
    print("HIGH/CRITICAL FALSE ALARMS by signature and source file:")
    per_src = collections.Counter()
    per_src_fp = collections.defaultdict(set)
    for part, e in hits_fail:
        k = (e.get("signature_id"), e.get("severity"), e.get("signature"),
             source_of(part, e["offset"])[0])
        per_src[k] += 1
        per_src_fp[k].add(e.get("fingerprint"))
    for k, n in sorted(per_src.items(), key=lambda kv: (-kv[1], kv[0])):
        sid, sev, sname, src = k
        print("  %6s %-8s %-40s %6d matches %5d distinct  %s" % (
            sid, sev, (sname or "")[:40], n, len(per_src_fp[k]), src))
    print()
    print("HIGH/CRITICAL FALSE ALARMS (first 25 per signature):")
    per_sig = collections.Counter()
    for part, e in hits_fail:
        key = e.get("signature_id")
        per_sig[key] += 1
        if per_sig[key] > 25:
            continue
        src, off_in_src = source_of(part, e["offset"])
        print("  [%s] signature %s %r, part %s offset %d (%s +%d): redacted %r" % (
            e.get("severity"), key, e.get("signature"), part, e["offset"], src, off_in_src,
            e.get("redacted")))
        print("      context: %r" % context(part, e["offset"], e.get("length", 0)))
    for key, n in sorted(per_sig.items()):
        if n > 25:
            print("  ... signature %s: %d more not shown" % (key, n - 25))

t.section("false alarms")
n_fail = len(hits_fail)
t.eq(n_fail, 0, "no high or critical signature fires on the benign corpus")
t.end_section()
print("false alarms (high/critical): %d in %.0f MB" % (n_fail, total_bytes / 1e6))
if not t.failed:                             # keep the corpus only to look into a failure
    shutil.rmtree(corpus_dir, ignore_errors=True)
t.finish()
