#!/usr/bin/env python3
"""test_signature_cli.py — signature files and the signature-author tools of interface.md
sections 1 and 4: strict loading (exit 2 naming file:line and the reason, Hyperscan's for a
regex), directories loaded sorted, several -s combined, -T's summary, --scan's JSON Lines
(redacted values, keyed fingerprints, --reveal), allow values, and the fingerprint key rules."""

import hashlib
import hmac
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

t = lwtest.Test("test_signature_cli")
env = t.env
t.need_binary()
work = env.scratch("sigcli")

GOOD = """signatures:
  - id: 900001
    name: AWS key id
    category: access_key
    severity: high
    regex: '(?:AKIA|ASIA)[A-Z2-7]{16}'
    validate: aws_key_id
    allow_values: [AKIAIOSFODNN7EXAMPLE]
  - id: 900002
    name: Card
    category: pii
    severity: high
    regex: '[0-9]{4}(?:[ -]?[0-9]{4}){3}'
    validate: luhn
"""


def write(name, text, mode=0o644):
    path = os.path.join(work, name)
    with open(path, "w") as fp:
        fp.write(text)
    os.chmod(path, mode)
    return path


def sig(body, sid=900010):
    return ("signatures:\n  - id: %d\n    name: t\n    category: custom\n    severity: low\n" % sid
            + body)


def scan(args, label, stdin=None):
    """--scan prints match lines, not events: parsed here (strictly) instead of by hygiene."""
    res = t.run(args, stdin=stdin, parse=False, label=label)
    res.events, errors = lwtest.parse_json_lines(res.stdout)
    for e in errors[:3]:
        t.ok(False, "%s: stdout is strict JSON Lines" % label, e)
    return res


def expect_error(label, path, line, *needles):
    res = t.run(["-T", "-s", path], parse=False, label=label)
    t.eq(res.rc, 2, "%s: exit 2" % label)
    err = res.stderr.strip()
    where = "%s:%d" % (path, line)
    t.ok(where in err and all(n in err for n in needles),
         "%s: stderr names %s and %s" % (label, where, needles), "stderr: %r" % err[:300])
    t.eq(len(err.splitlines()), 1, "%s: one line" % label)


# -- strict loading -------------------------------------------------------------------------
t.section("errors name file:line and the reason")
expect_error("unknown key", write("e1.yaml", sig("    regex: 'x[0-9]{3}'\n    colour: red\n")),
             7, "unknown key 'colour'")
expect_error("bad regex", write("e2.yaml", sig("    regex: 'abc(def'\n")), 2,
             "Hyperscan", "parenthes")
expect_error("unknown validator", write("e3.yaml", sig("    regex: 'x[0-9]{3}'\n"
                                                         "    validate: crc64\n")),
             7, "unknown validator 'crc64'")
expect_error("empty match", write("e4.yaml", sig("    regex: 'a*'\n")), 2, "empty")
expect_error("no regex", write("e5.yaml", sig("")), 2, "no regex")
expect_error("bad severity", write("e6.yaml", sig("    regex: 'x[0-9]{3}'\n").replace(
    "severity: low", "severity: urgent")), 5, "urgent")
dup_dir = os.path.join(work, "dupdir")
os.makedirs(dup_dir, exist_ok=True)
with open(os.path.join(dup_dir, "a.yaml"), "w") as fp:
    fp.write(sig("    regex: 'x[0-9]{3}'\n", 900020))
with open(os.path.join(dup_dir, "b.yaml"), "w") as fp:
    fp.write(sig("    regex: 'y[0-9]{3}'\n", 900020))
res = t.run(["-T", "-s", dup_dir], parse=False, label="duplicate id")
t.eq(res.rc, 2, "duplicate id: exit 2")
t.ok(os.path.join(dup_dir, "b.yaml") + ":2" in res.stderr and
     "duplicate signature id 900020" in res.stderr and os.path.join(dup_dir, "a.yaml") in
     res.stderr, "duplicate id: names the second file:line and where the first is",
     res.stderr[:300])
res = t.run(["-T", "-s", os.path.join(work, "missing.yaml")], parse=False, label="missing")
t.eq(res.rc, 2, "missing signature path: exit 2")
t.end_section()

# -- -T summary, several -s --------------------------------------------------------------------
t.section("-T and several -s")
good = write("good.yaml", GOOD)
other = write("other.yaml", sig("    regex: 'LW-[0-9]{6}'\n", 900030).replace(
    "category: custom", "category: customer_id"))
res = t.run(["-T", "-s", good, "-s", other], parse=False, label="-T")
t.eq(res.rc, 0, "-T exits 0")
out = res.stdout.decode()
t.ok("3 from 2 file(s)" in out, "-T counts signatures and files", out)
t.ok("access_key 1" in out and "pii 1" in out and "customer_id 1" in out,
     "-T prints per-category counts", out)
t.ok("bytes streaming" in out and "compiled in" in out and "per inspected flow direction" in out,
     "-T prints database size, compile time and stream state size", out)
t.end_section()

# -- --scan ----------------------------------------------------------------------------------
t.section("--scan")
key = b"0123456789abcdef0123456789abcdef"
keyfile = write("fp.key", key.decode() + "\n", 0o600)
cfg = write("scan.yaml", "output:\n  fingerprint_key: %s\nallowlist:\n  values: [ASIAY34FZKBOKMUTVV7A]\n"
            % keyfile)
text = ("id AKIAQYLPMN5HHHFPZAM2 doc AKIAIOSFODNN7EXAMPLE global ASIAY34FZKBOKMUTVV7A\n"
        "card 4111 1111 1111 1111 bad 4111 1111 1111 1112 glued X4111111111111111\n")
data = write("scan.txt", text)
res = scan(["--scan", data, "-s", good, "-c", cfg], "--scan")
t.eq(res.rc, 0, "--scan exits 0")
hits = sorted(res.events, key=lambda e: e.get("offset", 0))
want = [("AKIAQYLPMN5HHHFPZAM2", 900001), ("4111 1111 1111 1111", 900002)]
t.eq([(h.get("signature_id"), h.get("offset"), h.get("length")) for h in hits],
     [(sid, text.index(v), len(v)) for v, sid in want], "--scan reports exactly the valid values")
for h, (v, sid) in zip(hits, want):
    fp = "hmac-sha256:" + hmac.new(key, v.encode(), hashlib.sha256).hexdigest()
    t.eq(h.get("fingerprint"), fp, "fingerprint of %s is HMAC-SHA-256 under the key file" % sid)
    k = min(4, len(v) // 4)
    t.eq(h.get("redacted"), v[:k] + "*" * (len(v) - 2 * k) + v[-k:], "redacted form of %s" % sid)
    t.ok("value" not in h, "no value without --reveal")
t.ok("scanned %d bytes" % len(text) in res.stderr, "--scan summary on stderr", res.stderr)
res = scan(["--scan", "-", "-s", good, "-c", cfg, "--reveal"], "--scan - --reveal",
           stdin=text.encode())
t.eq(sorted(h.get("value") for h in res.events), sorted(v for v, _ in want),
     "--scan - reads stdin; --reveal adds the values")
t.end_section()

# -- fingerprint key rules ------------------------------------------------------------------------
t.section("fingerprint key")
loose = write("loose.key", "abc\n", 0o644)
res = t.run(["--scan", data, "-s", good, "-c", write("loose.yaml",
            "output:\n  fingerprint_key: %s\n" % loose)], parse=False, label="loose key")
t.eq(res.rc, 2, "a key readable by others is refused (exit 2)")
t.ok("chmod 600" in res.stderr, "the error says how to fix it", res.stderr)
res = scan(["--scan", data, "-s", good], "random key")
t.ok("random per-run key" in res.stderr, "without a key: a random per-run key, said on stderr",
     res.stderr)
t.end_section()

t.finish()
