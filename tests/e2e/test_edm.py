#!/usr/bin/env python3
"""test_edm.py — Exact Data Match end to end: leakwatch-edm build/stats/check on a generated
customer table, then the sensor with the shipped signatures/customer-edm.example.yaml on a
capture that carries known and unknown customers' e-mail addresses and customer numbers.

  build     lists from a CSV column by name and by number (RFC 4180 quoting, blanks, mixed
            case, dashes), entries and counters, the file is 0640 and holds no value
  stats     entries, normalizer; check: in/not in, exit 0/1
  sensor    exactly the known customers are reported (flow.dlp distinct, fingerprints =
            HMAC of the normalized value, revealed values), thresholds fire once with the
            count, strangers one letter or digit off never appear, no value without --reveal
  reload    SIGHUP on a run reading a pipe: a rebuilt list is swapped in (a customer added
            after the start is found after the reload, not before), a corrupt rebuild is
            refused with an edm_reload error event and the loaded list stays in use
  failures  wrong key, corrupt / truncated / missing / foreign index, key readable by others,
            no fingerprint_key, malformed CSV: each fails as specified, naming the file
"""

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

EMAIL_SIG, NUMBER_SIG, RELOAD_SIG = 900010, 900011, 990001

t = lwtest.Test("test_edm")
env = t.env
t.need_binary()
edm_bin = os.environ.get("LW_EDM_BIN") or os.path.join(os.path.dirname(env.bin), "leakwatch-edm")
if not os.path.exists(edm_bin):
    t.skip("leakwatch-edm not built (%s)" % edm_bin)

gen, _ = t.generate_twice("gen_edm_pcaps.py", [], "edm-gen")
with open(os.path.join(gen, "expected.json")) as fp:
    manifest = json.load(fp)
work = env.scratch("edm")
key_path = lwtest.fingerprint_key_file(env)
KEY = lwtest.FINGERPRINT_KEY


def edm(*args, stdin=None):
    p = subprocess.run([edm_bin] + [str(a) for a in args], capture_output=True, text=True,
                       input=stdin, timeout=120)
    for marker in lwtest.SANITIZER_MARKERS:
        t.ok(marker not in p.stderr, "leakwatch-edm %s: no sanitizer report" % args[0],
             p.stderr[:2000])
    return p


def fingerprint(norm):
    return "hmac-sha256:" + hmac.new(KEY, norm.encode(), hashlib.sha256).hexdigest()


# -- build, stats, check -------------------------------------------------------------------------
t.section("leakwatch-edm build")
csv = os.path.join(gen, "customers.csv")
emails_edm = os.path.join(work, "customer-emails.edm")
numbers_edm = os.path.join(work, "customer-numbers.edm")
p = edm("build", "--key", key_path, "--column", "email", "--normalize", "email", csv, emails_edm)
t.eq(p.returncode, 0, "build by column name exits 0")
t.ok("40 entries" in p.stdout, "40 customers' e-mail addresses indexed", p.stdout + p.stderr)
t.ok("0 duplicates" in p.stdout and "0 without the column" in p.stdout,
     "report: no duplicates, no short rows", p.stdout)
p = edm("build", "--key", key_path, "--column", "1", "--header", "--normalize", "digits", csv,
        numbers_edm)
t.eq(p.returncode, 0, "build by column number exits 0")
t.ok("40 entries" in p.stdout, "40 customer numbers indexed", p.stdout)
t.eq(os.stat(emails_edm).st_mode & 0o777, 0o640, "the index is created 0640")
with open(emails_edm, "rb") as fp:
    blob = fp.read()
t.eq(len(blob), 64 + 8 * 40, "the index is a 64-byte header and 8 bytes per entry")
plain = [r["email"].lower().encode() for r in manifest["table"]] + \
    [r["customer_no"].encode() for r in manifest["table"]]
t.ok(not any(v in blob for v in plain), "the index holds no customer value in clear")
# the same list from stdin, one value per line, is byte for byte the same index
lines = "".join("  %s\n" % r["email"].upper() for r in manifest["table"])
again = os.path.join(work, "again.edm")
p = edm("build", "--key", key_path, "--normalize", "email", "-", again, stdin=lines)
t.eq(p.returncode, 0, "build from stdin, one value per line")
with open(again, "rb") as fp:
    t.ok(fp.read() == blob, "one value per line (upper case, blanks) gives the same index")

t.section("leakwatch-edm stats and check")
p = edm("stats", emails_edm)
t.eq(p.returncode, 0, "stats exits 0")
t.ok("entries:     40" in p.stdout and "normalizer:  email" in p.stdout,
     "stats names entries and normalizer", p.stdout)
first = manifest["table"][0]
p = edm("check", "--key", key_path, emails_edm, "  " + first["email"].upper(), first["email"])
t.eq(p.returncode, 0, "check: every value in the list -> exit 0")
t.ok(p.stdout.count("in list\t") == 2 and "not in list" not in p.stdout, "check says in list",
     p.stdout)
p = edm("check", "--key", key_path, emails_edm, first["email"], "nobody@example.com")
t.eq(p.returncode, 1, "check: a value not in the list -> exit 1")
t.ok("not in list\tnobody@example.com" in p.stdout, "check names the missing value", p.stdout)
p = edm("check", "--key", key_path, numbers_edm, "-",
        stdin="%s\n%s-x\n" % (first["customer_no"][:4] + "-" + first["customer_no"][4:], "1"))
t.eq(p.returncode, 1, "check reads values from stdin")
t.ok(p.stdout.startswith("in list\t"), "a dashed customer number is in the digits list",
     p.stdout)

# -- the sensor on the capture ------------------------------------------------------------------
t.section("sensor: exactly the known customers")
cfg_text = ("output:\n  flows: all\n  fingerprint_key: %s\nexact_match:\n"
            "  - {name: customer_emails, file: %s}\n  - {name: customer_numbers, file: %s}\n"
            % (key_path, emails_edm, numbers_edm))
cfg = lwtest.write_config(os.path.join(work, "edm.yaml"), cfg_text)
pcap = os.path.join(gen, "edm.pcap")
res = t.run(["-c", cfg, "-r", pcap, "--reveal", "--workers", "1"])
t.eq(res.rc, 0, "sensor exits 0")
t.ok("signature(s) off" not in res.stderr, "no edm signature is off with both lists",
     res.stderr)
res_plain = t.run(["-c", cfg, "-r", pcap, "--workers", "2"])
t.eq(res_plain.rc, 0, "sensor without --reveal exits 0")


def flow_of(events, spec):
    for f in events:
        if f.get("event_type") == "flow" and f["src_ip"] == spec["src_ip"] and \
                f["src_port"] == spec["src_port"] and f["dest_ip"] == spec["dest_ip"] and \
                f["dest_port"] == spec["dest_port"]:
            return f
    return None


def dlp(flow, sid):
    return next((d for d in flow.get("dlp", []) if d["signature_id"] == sid), None) \
        if flow else None


thresholds = {EMAIL_SIG: 10, NUMBER_SIG: 5}
alerts = res.of_type("alert")
for name, spec in sorted(manifest["flows"].items()):
    if spec["capture"] != "edm":
        continue
    f = flow_of(res.events, spec)
    t.ok(f is not None, "%s: flow event" % name)
    if f is None:
        continue
    for sid, kind in ((EMAIL_SIG, "emails"), (NUMBER_SIG, "numbers")):
        want_norm = sorted(set(v["normalized"] for v in spec[kind]))
        d = dlp(f, sid)
        fa = [a for a in alerts if a["alert"]["signature_id"] == sid and
              a["flow_id"] == f["flow_id"]]
        if not want_norm:
            t.ok(d is None, "%s: no %d entry (no known %s)" % (name, sid, kind), str(d))
            t.eq(len(fa), 0, "%s: no %d alert" % (name, sid))
            continue
        t.ok(d is not None, "%s: flow.dlp has signature %d" % (name, sid))
        if d is None:
            continue
        t.eq(d["distinct"], len(want_norm), "%s: %d distinct known %s" % (name, sid, kind))
        t.eq(sorted(d["fingerprints"]), sorted(fingerprint(v) for v in want_norm),
             "%s: %d fingerprints are HMACs of the normalized values" % (name, sid))
        wire = set(v["wire"] for v in spec[kind])
        t.ok(set(d.get("values", [])) <= wire,
             "%s: %d revealed values are known ones as sent" % (name, sid),
             "%s vs %s" % (d.get("values"), sorted(wire)))
        strangers = set(spec["stranger_emails"] + spec["stranger_numbers"])
        t.ok(not (set(d.get("values", [])) & strangers), "%s: %d no stranger" % (name, sid))
        should_alert = len(want_norm) >= thresholds[sid]
        t.eq(d["alerted"], should_alert, "%s: %d alerted iff %d distinct >= threshold %d" %
             (name, sid, len(want_norm), thresholds[sid]))
        t.eq(len(fa), 1 if should_alert else 0, "%s: %d alerts once at most" % (name, sid))
        if fa:
            m = fa[0]["match"]
            t.eq((m["distinct"], m["threshold"]), (thresholds[sid], thresholds[sid]),
                 "%s: %d alert carries the count at its threshold" % (name, sid))
            t.ok(fa[0]["alert"]["category"] == "customer_id", "%s: category customer_id" % name)
            t.ok(m["fingerprint"] in [fingerprint(v) for v in want_norm],
                 "%s: %d alert fingerprint is a known customer's" % (name, sid))
    # strangers: nowhere in any EDM entry, and without --reveal no value at all
    fp2 = flow_of(res_plain.events, spec)
    for sid in (EMAIL_SIG, NUMBER_SIG):
        d2 = dlp(fp2, sid)
        t.ok(d2 is None or "values" not in d2, "%s: no values without --reveal" % name)
        t.eq(d2 and d2["distinct"], dlp(f, sid) and dlp(f, sid)["distinct"],
             "%s: %d the same with 2 workers" % (name, sid))

# the export bodies (not SMTP envelopes, which the smtp metadata names as EVE does)
bodies = [v["wire"] for n in ("http_export", "raw_quoted") for v in manifest["flows"][n]["emails"]]
plain_out = res_plain.stdout.decode()
t.ok(not any(v in plain_out for v in bodies),
     "no customer e-mail address of an upload in clear without --reveal")
st = res.stats
t.ok(st is not None, "stats event")
if st:
    e = st["detect"].get("edm", {})
    t.eq(sorted((x["name"], x["entries"], x["normalizer"]) for x in e.get("lists", [])),
         [("customer_emails", 40, "email"), ("customer_numbers", 40, "digits")],
         "stats.detect.edm lists both lists")
    t.ok(st["detect"]["edm_lookups"] > st["detect"]["edm_members"] > 0,
         "stats count lookups and members",
         "%s/%s" % (st["detect"]["edm_lookups"], st["detect"]["edm_members"]))

t.section("-T and lists that are not configured")
res_t = t.run(["-T", "-c", cfg], parse=False)
t.eq(res_t.rc, 0, "-T with the lists exits 0")
t.ok("exact_match: customer_emails: 40 entries (email)" in res_t.stdout.decode(),
     "-T shows each list", res_t.stdout.decode()[-600:])
plain_cfg = lwtest.write_config(os.path.join(work, "nolists.yaml"),
                                "output:\n  fingerprint_key: %s\n" % key_path)
res_off = t.run(["-c", plain_cfg, "-r", pcap])
t.eq(res_off.rc, 0, "without exact_match the run still exits 0")
t.eq(res_off.stderr, "", "with no list configured the default install runs quietly")
t.ok(not [a for a in res_off.of_type("alert") if a["alert"]["signature_id"] in
          (EMAIL_SIG, NUMBER_SIG)], "and the edm signatures report nothing")
res_toff = t.run(["-T", "-c", plain_cfg], parse=False)
t.eq(res_toff.rc, 0, "-T without lists exits 0")
t.ok("edm: 2 signature(s) off: no exact_match list named customer_emails, customer_numbers"
     in res_toff.stderr, "-T says which edm signatures are off and why", res_toff.stderr)
one_cfg = lwtest.write_config(os.path.join(work, "onelist.yaml"), (
    "output:\n  fingerprint_key: %s\nexact_match:\n  - {name: customer_emails, file: %s}\n"
    % (key_path, emails_edm)))
res_one = t.run(["-c", one_cfg, "-r", pcap])
t.eq(res_one.rc, 0, "with one of the two lists the run exits 0")
t.ok("edm: 1 signature(s) off: no exact_match list named customer_numbers" in res_one.stderr,
     "a configured set missing a name says so on stderr (likely a typo)", res_one.stderr)
t.ok(not [a for a in res_one.of_type("alert") if a["alert"]["signature_id"] == NUMBER_SIG]
     and [a for a in res_one.of_type("alert") if a["alert"]["signature_id"] == EMAIL_SIG],
     "the listed one still reports, the other does not")


# -- SIGHUP reload ------------------------------------------------------------------------------
t.section("SIGHUP reloads the lists")


pcap_records, wait_stderr, wait_drained = lwtest.pcap_records, lwtest.wait_stderr, \
    lwtest.wait_drained


reload_sigs = os.path.join(work, "reload-sig.yaml")
with open(reload_sigs, "w") as fp:
    fp.write("signatures:\n  - id: %d\n    name: Customer e-mail (reload test)\n"
             "    category: customer_id\n    severity: high\n"
             "    regex: '[A-Za-z0-9][A-Za-z0-9._%%+-]{0,63}@[A-Za-z0-9][A-Za-z0-9.-]{0,44}"
             "\\.[A-Za-z]{2,14}'\n    validate: edm:customer_emails\n" % RELOAD_SIG)
live_edm = os.path.join(work, "live-emails.edm")
p = edm("build", "--key", key_path, "--column", "email", "--normalize", "email", csv, live_edm)
t.eq(p.returncode, 0, "the first list builds")
live_cfg = lwtest.write_config(os.path.join(work, "live.yaml"), (
    "output:\n  flows: all\n  fingerprint_key: %s\nexact_match:\n"
    "  - {name: customer_emails, file: %s}\n" % (key_path, live_edm)))
out_path = os.path.join(work, "reload-events.json")
hdr, late1 = pcap_records(os.path.join(gen, "late_1.pcap"))
_, late2 = pcap_records(os.path.join(gen, "late_2.pcap"))
proc = subprocess.Popen([env.bin, "-c", live_cfg, "-s", reload_sigs, "-r", "-", "-o", out_path,
                         "--workers", "1", "--reveal"], stdin=subprocess.PIPE,
                        stderr=subprocess.PIPE, cwd=env.source)
errbuf = [""]
try:
    proc.stdin.write(hdr + b"".join(late1))
    proc.stdin.flush()
    # the list must be rebuilt after the sensor opened the first one: wait until it has read
    # the pipe empty (it opens its lists before it reads any input)
    t.ok(wait_drained(proc.stdin), "the sensor reads its input")
    # the customer is added to the table: rebuild (atomically renamed over the old file), HUP
    p = edm("build", "--key", key_path, "--column", "email", "--normalize", "email",
            os.path.join(gen, "customers_v2.csv"), live_edm)
    t.eq(p.returncode, 0, "the second list builds")
    time.sleep(0.3)
    proc.send_signal(signal.SIGHUP)
    proc.stdin.write(late2[0])  # the sensor looks at the signal between packets
    proc.stdin.flush()
    t.ok(wait_stderr(proc, "1 exact_match list(s) reloaded", errbuf),
         "SIGHUP: the rebuilt list is reloaded", errbuf[0])
    # a corrupt rebuild: refused, the list in use stays
    with open(live_edm + ".new", "wb") as fp:
        fp.write(b"LWEDM1\0\0" + b"\x01" * 100)
    os.rename(live_edm + ".new", live_edm)
    proc.send_signal(signal.SIGHUP)
    proc.stdin.write(late2[1])
    proc.stdin.flush()
    t.ok(wait_stderr(proc, "stay in use", errbuf), "SIGHUP: a corrupt list is refused",
         errbuf[0])
    proc.stdin.write(b"".join(late2[2:]))
    proc.stdin.close()
    proc.wait(timeout=120)
finally:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
rest = proc.stderr.read().decode("utf-8", "replace")
errbuf[0] += rest
for marker in lwtest.SANITIZER_MARKERS:
    t.ok(marker not in errbuf[0], "reload run: no sanitizer report", errbuf[0][:2000])
t.eq(proc.returncode, 0, "the reload run exits 0")
evs = t.read_events(out_path, "reload run")
late = manifest["late"]["email"]
f1 = flow_of(evs, manifest["flows"]["late_1"])
f2 = flow_of(evs, manifest["flows"]["late_2"])
t.ok(f1 is not None and dlp(f1, RELOAD_SIG) is None,
     "before the reload the new customer is not in the list", str(f1 and f1.get("dlp")))
d2 = dlp(f2, RELOAD_SIG)
t.ok(d2 is not None and d2.get("values") == [late],
     "after the reload (and after the refused one) the new customer is found", str(d2))
errs = [e for e in evs if e.get("event_type") == "error"]
t.ok(any(e["error"]["kind"] == "edm_reload" and live_edm in e["error"]["message"]
         for e in errs if "error" in e), "the refused reload is an edm_reload error event",
     json.dumps(errs)[:800])
stats = [e for e in evs if e.get("event_type") == "stats"]
if stats:
    e = stats[-1]["stats"]["detect"]["edm"]
    t.eq((e["reloads"], e["reload_failures"]), (1, 1), "stats count 1 reload and 1 refusal")

# -- failures -----------------------------------------------------------------------------------
t.section("failures")


def sensor_fails(cfg_path, want, label, rc=2):
    r = t.run(["-c", cfg_path, "-r", pcap], parse=False, label=label)
    t.eq(r.rc, rc, "%s: exit %d" % (label, rc))
    t.ok(all(w in r.stderr for w in want), "%s: the error names it" % label, r.stderr)
    t.ok(not r.stdout, "%s: nothing processed" % label)


def list_cfg(path, key=key_path, name="bad"):
    return lwtest.write_config(os.path.join(work, name + ".yaml"), (
        "output:\n  fingerprint_key: %s\nexact_match:\n  - {name: customer_emails, file: %s}\n"
        "  - {name: customer_numbers, file: %s}\n" % (key, path, numbers_edm)))


def work_file(name, data, mode=None):
    """Writes data (str or bytes) to work/name, chmod mode if given; returns the path."""
    path = os.path.join(work, name)
    with open(path, "wb") as fp:
        fp.write(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        os.chmod(path, mode)
    return path


other_key = work_file("other.key", "another-key-0123456789abcdef0123456789abcdef\n", 0o600)
sensor_fails(list_cfg(emails_edm, other_key, "wrongkey"), [emails_edm, "another key"],
             "wrong key")
corrupt = work_file("corrupt.edm", blob[:100] + bytes([blob[100] ^ 0x55]) + blob[101:])
sensor_fails(list_cfg(corrupt, name="corrupt"), [corrupt, "corrupt"], "a flipped byte")
trunc = work_file("truncated.edm", blob[:-5])
sensor_fails(list_cfg(trunc, name="trunc"), [trunc, "truncated"], "a truncated index")
short = work_file("short.edm", blob[:30])
sensor_fails(list_cfg(short, name="short"), [short, "truncated"], "a 30-byte index")
foreign = work_file("foreign.edm", b"customer_no,email\n" * 10)
sensor_fails(list_cfg(foreign, name="foreign"), [foreign, "not a leakwatch-edm index"],
             "a CSV given as index")
missing = os.path.join(work, "missing.edm")
sensor_fails(list_cfg(missing, name="missing"), [missing, "No such file"], "a missing index")
open_key = work_file("open.key", "0123456789abcdef0123456789abcdef\n", 0o644)
sensor_fails(list_cfg(emails_edm, open_key, "openkey"), [open_key, "group or others"],
             "a key file readable by others")
p = edm("build", "--key", open_key, csv, os.path.join(work, "x.edm"))
t.eq(p.returncode, 2, "leakwatch-edm build refuses a key readable by others")
t.ok("group or others" in p.stderr, "and says why", p.stderr)
nokey = lwtest.write_config(os.path.join(work, "nokey.yaml"), (
    "exact_match:\n  - {name: customer_emails, file: %s}\n" % emails_edm))
sensor_fails(nokey, ["exact_match needs output.fingerprint_key"], "no fingerprint_key")
bad_csv = os.path.join(work, "bad.csv")
with open(bad_csv, "w") as fp:
    fp.write('customer_no,email\n1,a@example.com\n2,"b@example.com\n')
p = edm("build", "--key", key_path, "--column", "email", bad_csv, os.path.join(work, "y.edm"))
t.eq(p.returncode, 1, "build on a CSV with an unterminated quote exits 1")
t.ok(bad_csv + ":3:" in p.stderr and "quoted field" in p.stderr,
     "and names the file and line", p.stderr)
t.ok(not os.path.exists(os.path.join(work, "y.edm")), "and writes no index")
p = edm("build", "--key", key_path, "--column", "mail", csv, os.path.join(work, "z.edm"))
t.eq(p.returncode, 1, "build with an unknown column name exits 1")
t.ok('no column named "mail"' in p.stderr, "and lists the header", p.stderr)
p = edm("stats", corrupt)
t.eq(p.returncode, 2, "stats on a corrupt index exits 2")

t.finish()
