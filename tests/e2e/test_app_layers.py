#!/usr/bin/env python3
"""test_app_layers.py — application-layer decoding (HTTP, SMTP/MIME, FTP, DNS) end to end.

scripts/gen_app_pcaps.py writes captures and expected.json (run twice: the bytes must be the
same). For every run it describes (main: all captures; bomb: the gzip bomb; limit: the
decode-limit capture under decode.max_decoded_mb 1) the sensor reads its captures with
output.flows all and --reveal, and the test checks field by field:

  expect  each planted value set alerts once in its flow with the right signature, direction,
          match.layer and extra fields (fileinfo.filename, ftp.command/filename, tunnel.domain),
          the alert's value is one of the planted ones, and the flow's dlp entry lists them all
  absent  values past a decoding cap are not reported
  quiet   the bytes after STARTTLS give no alert and no dlp entry
  errors  guard error events (decode_ratio / decode_max_bytes / mime_depth) name the flow
  dlp     a value in a raw and a decoded layer of one message is counted once
  stats   app-layer counters of the run's stats event; peak RSS of the guard runs < 400 MB

Then the real HTTP/SMTP/FTP captures of ../shared/pcaps (--inspect all): exit 0 and the app
counters that show each was decoded. Without ../shared the generated checks still run; the test
then ends with 77 (skip) if they passed.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

t = lwtest.Test("test_app_layers")
env = t.env
t.need_binary()

outdir, _ = t.generate_twice("gen_app_pcaps.py", [], "app-gen")
with open(os.path.join(outdir, "expected.json")) as fp:
    manifest = json.load(fp)
for n in manifest["notes"]:
    t.note("generator: " + n)
key_file = lwtest.fingerprint_key_file(env)


def tuple_of(d):
    return (d["proto"], d["src_ip"], d["src_port"], d["dest_ip"], d["dest_port"])


def dotted(obj, path):
    for k in path.split("."):
        if not isinstance(obj, dict) or k not in obj:
            return None
        obj = obj[k]
    return obj


def run_measured(args, label, timeout=600):
    """Runs LW_BIN, returns (Result, peak RSS in MB) from wait4's rusage of that process."""
    cmd = [env.bin] + [str(a) for a in args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.time()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                             cwd=env.source)
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        _, status, ru = os.wait4(p.pid, 0)
        killer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        timed_out = time.time() - t0 >= timeout
        out.seek(0)
        err.seek(0)
        res = lwtest.Result(cmd, None if timed_out else p.returncode, out.read(),
                            err.read().decode("utf-8", "replace"), time.time() - t0)
    res.timeout = timeout
    t.hygiene(res, label)
    return res, ru.ru_maxrss / 1024.0


def describe(alerts):
    return [(a.get("alert", {}).get("signature_id"), a.get("match", {}).get("layer"),
             a.get("match", {}).get("value")) for a in alerts]


def check_run(name, run):
    cfg = lwtest.write_config(
        os.path.join(env.work, "app-%s.yaml" % name),
        "output:\n  flows: all\n  fingerprint_key: %s\n" % key_file + run["config"])
    args = ["-c", cfg] + run["args"]
    for c in run["captures"]:
        args += ["-r", os.path.join(outdir, manifest["captures"][c]["file"])]
    t.section("run %s: %d captures" % (name, len(run["captures"])))
    res, rss = run_measured(args, "run %s" % name)
    t.eq(res.rc, 0, "run %s: exit status" % name)
    if res.rc != 0:
        t.note(res.stderr[-2000:])
    if "max_rss_mb" in run:
        # AddressSanitizer's shadow memory and free quarantine add hundreds of MB of their own
        limit = run["max_rss_mb"] * (3 if os.environ.get("LW_SANITIZED") == "1" else 1)
        t.ok(rss < limit, "run %s: peak RSS %.0f MB < %d MB" % (name, rss, limit))
    t.note("run %s: %.1f s, peak RSS %.0f MB, %d events" % (name, res.elapsed, rss,
                                                            len(res.events)))
    flows, alerts = {}, {}
    for f in res.flows:
        flows.setdefault(tuple_of(f), []).append(f)
    for a in res.of_type("alert"):
        alerts.setdefault(tuple_of(a), []).append(a)
    errors = res.of_type("error")
    mine = lambda lst: [e for e in lst if name in e["runs"]]  # noqa: E731

    def one_flow(fl, what):
        got = flows.get(tuple_of(fl), [])
        t.eq(len(got), 1, "%s: one flow event for %s" % (what, "/".join(map(str, tuple_of(fl)))))
        return got[0] if got else None

    def dlp_entry(fev, sid):
        ents = [d for d in (fev or {}).get("dlp", []) or [] if d.get("signature_id") == sid]
        return ents[0] if ents else None

    # -- planted values -------------------------------------------------------------------
    t.section("run %s: planted values (signature, layer, fields)" % name)
    for e in mine(manifest["expect"]):
        sid = e["signature_id"]
        what = "%s: %d %s (%s)" % (e["capture"], sid, e["layer"] or "any layer",
                                   e["note"] or ",".join(e["values"][:1]))
        if e.get("flows_any"):
            cands = [a for fl in e["flows_any"] for a in alerts.get(tuple_of(fl), [])
                     if a.get("alert", {}).get("signature_id") == sid]
            t.eq(len(cands), 1 if e.get("exactly_one") else max(1, len(cands)),
                 "%s: alerts" % what)
        else:
            cands = [a for a in alerts.get(tuple_of(e["flow"]), [])
                     if a.get("alert", {}).get("signature_id") == sid]
            if not t.eq(len(cands), 1, "%s: one alert in its flow" % what):
                t.note("alerts of that flow: %r" % describe(alerts.get(tuple_of(e["flow"]), [])))
        if not cands:
            continue
        a = cands[0]
        t.eq(a.get("direction"), e["direction"], "%s: direction" % what)
        t.eq(a["alert"].get("signature"), e["signature"], "%s: signature name" % what)
        if e["layer"] is not None:
            t.eq(dotted(a, "match.layer"), e["layer"], "%s: match.layer" % what)
        if e["values"]:
            t.ok(dotted(a, "match.value") in e["values"], "%s: the alert's value is planted"
                 % what, "got %r" % dotted(a, "match.value"))
            t.ok(isinstance(dotted(a, "match.layer"), str), "%s: match.layer present" % what)
        for path, want in sorted(e["fields"].items()):
            t.eq(dotted(a, path), want, "%s: %s" % (what, path))
        t.ok(isinstance(a.get("flow_id"), int), "%s: alert has a flow_id" % what)
        if e["values"]:
            fev = one_flow(e["flow"], what)
            ent = dlp_entry(fev, sid)
            if t.ok(ent is not None, "%s: flow.dlp has the signature" % what):
                missing = sorted(set(e["values"]) - set(ent.get("values") or []))
                t.ok(not missing, "%s: flow.dlp lists every planted value" % what,
                     "missing %r" % missing)
                t.eq(ent.get("alerted"), True, "%s: flow.dlp alerted" % what)
                if fev:
                    t.eq(a.get("flow_id"), fev.get("flow_id"), "%s: alert flow_id is the flow's"
                         % what)

    # -- values that must not be reported -----------------------------------------------------
    for e in mine(manifest["absent"]):
        what = "%s: not reported (%s)" % (e["capture"], e["why"])
        got = [a for a in alerts.get(tuple_of(e["flow"]), [])
               if dotted(a, "match.value") in e["values"]]
        t.ok(not got, what + ": no alert", "alerts %r" % describe(got))
        fev = one_flow(e["flow"], what)
        listed = [v for d in (fev or {}).get("dlp", []) or [] for v in d.get("values") or []
                  if v in e["values"]]
        t.ok(not listed, what + ": not in flow.dlp", "listed %r" % listed)

    t.section("run %s: STARTTLS, duplicates, errors, stats" % name)
    for e in mine(manifest["quiet"]):
        what = "%s: nothing inspected %s" % (e["capture"], e["why"])
        got = alerts.get(tuple_of(e["flow"]), [])
        t.ok(not got, what + ": no alert", "alerts %r" % describe(got))
        fev = one_flow(e["flow"], what)
        t.ok(fev is not None and not fev.get("dlp"), what + ": no flow.dlp entry",
             "dlp %r" % ((fev or {}).get("dlp"),))
    for e in mine(manifest["dlp"]):
        what = "%s: %s" % (e["capture"], e["why"])
        ent = dlp_entry(one_flow(e["flow"], what), e["signature_id"])
        if t.ok(ent is not None, what + ": flow.dlp entry"):
            t.eq((ent.get("matches"), ent.get("distinct")), (e["matches"], e["distinct"]),
                 what + ": (matches, distinct)")
    for e in mine(manifest["errors"]):
        what = "%s: error event %s" % (e["capture"], "|".join(e["kinds"]))
        fev = one_flow(e["flow"], what)
        fid = (fev or {}).get("flow_id")
        got = [x for x in errors if dotted(x, "error.kind") in e["kinds"]]
        if not t.ok(got, what + ": written", "error events: %r" %
                    [(dotted(x, "error.kind"), dotted(x, "error.message")) for x in errors]):
            continue
        t.ok(any(dotted(x, "error.flow_id") == fid for x in got), what + ": error.flow_id "
             "names the flow", "flow_id %r, error flow_ids %r" %
             (fid, [dotted(x, "error.flow_id") for x in got]))
        t.ok(all(isinstance(dotted(x, "error.message"), str) for x in got),
             what + ": has a message")
    stats = res.stats or {}
    t.ok(res.stats is not None, "run %s: stats event" % name)
    for path, least in sorted(manifest["stats"].get(name, {}).items()):
        got = dotted(stats, path)
        t.ok(isinstance(got, int) and got >= least, "run %s: stats.%s >= %d" % (name, path, least),
             "got %r" % got)
    content_alerts = [a for a in res.of_type("alert") if "match" in a]
    t.ok(all(isinstance(dotted(a, "match.layer"), str) for a in content_alerts),
         "run %s: every content alert has match.layer" % name)
    return res


# the bomb first: each run's RSS comes from its own rusage anyway
order = [n for n in ("bomb", "limit", "main") if n in manifest["runs"]]
order += [n for n in sorted(manifest["runs"]) if n not in order]
results = {n: check_run(n, manifest["runs"][n]) for n in order}


def alert_set(res):
    return sorted((tuple_of(a), a["alert"].get("signature_id"), dotted(a, "match.layer"),
                   dotted(a, "match.value"), json.dumps(a.get("ftp")),
                   json.dumps(a.get("fileinfo"))) for a in res.of_type("alert"))


# offline results do not depend on the number of workers (FTP data connections are announced
# on one flow and claimed on another, possibly on another worker)
t.section("run main: the same alerts with --workers 1 and --workers 3")
main = manifest["runs"]["main"]
cfg = lwtest.write_config(os.path.join(env.work, "app-workers.yaml"),
                          "output:\n  flows: all\n  fingerprint_key: %s\n" % key_file)
base = ["-c", cfg] + main["args"]
for c in main["captures"]:
    base += ["-r", os.path.join(outdir, manifest["captures"][c]["file"])]
want = alert_set(results["main"])
for label, res in t.run_many([("workers %d" % n, base + ["--workers", str(n)]) for n in (1, 3)]):
    got = alert_set(res)
    t.ok(got == want, "main with %s: same alerts as the default run" % label,
         "only here %r; only in the default run %r" %
         ([a for a in got if a not in want][:4], [a for a in want if a not in got][:4]))

# -- the real captures in ../shared --------------------------------------------------------
SHARED = {  # file -> stats counters (under stats.app) that must be > 0
    "http/zeek_http_get-gzip.pcap": ["layer.http_flows", "decompress.bodies"],
    "http/sv_http-brotli-ce.pcap": ["layer.http_flows", "decompress.bodies"],
    "http/zeek_http_missing-zlib-header.pcap": ["layer.http_flows", "decompress.bodies"],
    "http/sv_http-post-data-decompression.pcap": ["layer.http_flows", "decompress.bodies"],
    "http/zeek_http_multipart-form-data.pcap": ["layer.http_flows", "http.multipart_bodies"],
    "http/sv_file-match-crossed__http-multipart-post.pcap": ["layer.http_flows",
                                                              "http.multipart_bodies"],
    "http/zeek_http_pipelined-requests.pcap": ["layer.http_flows", "http.responses"],
    "http/zeek_http_post.pcap": ["layer.http_flows", "http.bodies"],
    "http/zeek_http_basic-auth-with-extra-space.pcap": ["layer.http_flows"],
    "http/zeek_http_100-continue.pcap": ["layer.http_flows", "http.chunked_bodies"],
    "smtp/zeek_smtp.pcap": ["layer.smtp_messages", "mime.attachments"],
    "mail/ndpi_imap.pcap": ["imap.commands"],
    "mail/ndpi_imap-starttls.pcap": ["imap.starttls", "layer.imap_starttls"],
    "smtp/sv_smtp-attachment-md5.pcap": ["layer.smtp_messages", "mime.attachments"],
    "smtp/sv_mime-quoted-printable.pcap": ["layer.smtp_messages", "mime.parts"],
    "smtp/sv_smtp-rfc2231.pcap": ["layer.smtp_messages", "mime.attachments"],
    "smtp/zeek_smtp_rfc3030-bdat-multipart-chunked.pcap": ["layer.smtp_messages", "mime.parts"],
    "smtp/zeek_smtp-attachment-msg.pcap": ["layer.smtp_messages"],
    "smtp/ndpi_smtp-starttls.pcap": ["layer.smtp_starttls"],
    "ftp/sv_ftp-upload-passive.pcap": ["layer.ftp_control_flows", "layer.ftp_data_flows"],
    "ftp/sv_ftp-download-active.pcap": ["layer.ftp_control_flows", "layer.ftp_data_flows"],
    "ftp/zeek_ftp_retr.pcap": ["layer.ftp_control_flows", "layer.ftp_data_flows"],
    "ftp/zeek_ftp_ipv4.pcap": ["layer.ftp_control_flows", "layer.ftp_data_flows"],
    "ftp/ndpi_ftp.pcap": ["layer.ftp_control_flows"],
}
shared = env.shared_pcaps()
if not shared:
    if t.failed:
        t.note("../shared absent: shared captures not checked")
        t.finish()
    t.skip("../shared not found: the generated checks passed, the shared captures were not "
           "checked (CI always has them)")
t.section("shared HTTP/SMTP/FTP captures (--inspect all)")
cfg = lwtest.flows_all_config(env)
jobs = []
for rel in sorted(SHARED):
    path = os.path.join(shared, rel)
    if t.ok(os.path.exists(path), "%s exists" % rel):
        jobs.append((rel, ["-r", path, "-c", cfg, "--inspect", "all"]))
for rel, res in t.run_many(jobs):
    t.eq(res.rc, 0, "%s: exit status" % rel)
    app = (res.stats or {}).get("app")
    if not t.ok(isinstance(app, dict), "%s: stats.app" % rel):
        continue
    for path in SHARED[rel]:
        got = dotted(app, path)
        t.ok(isinstance(got, int) and got > 0, "%s: stats.app.%s > 0" % (rel, path),
             "got %r" % got)
t.finish()
