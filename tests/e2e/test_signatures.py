#!/usr/bin/env python3
"""test_signatures.py — the shipped signature packs inside real flows, field by field.

scripts/gen_dlp_pcaps.py plants every content signature's match examples (and generated
values up to each threshold) in TCP flows, plus reassembly corner cases, IPv6, VLAN, UDP,
negatives (allow-listed values and destinations, bad check digits, a value split by a gap,
ingress-only copies) and every no_match example; its expected.json comes from a reference
model of reassembly and matching. The sensor runs over all captures twice (default, and
--inspect all --reveal) with a 0600 fingerprint key, and `--scan` runs over every example:

  alerts    signature id/name/category/severity, direction, redacted, fingerprint (HMAC-SHA256
            computed here), layer, stream_offset, length, distinct, threshold, aws_account,
            value (only with --reveal), flow 5-tuple, flow_id and community_id equal to the
            flow event's, vlan, pcap.file / pcap.packet and timestamp of the packet that
            completed the value; no alert that is not expected
  flows     every flow's dlp list: signature, direction, matches, distinct, alerted,
            redacted/fingerprints (and values with --reveal)
  planted   values that must alert / be listed, and values that must not (negatives)
  stats     stats.detect.alerts equals the alerts written
  --scan    every match example yields a value of its signature, no no_match example does,
            and each reported value is the one the model expects
"""

import concurrent.futures
import hashlib
import hmac
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

KEY = b"6c65616b77617463682d652d652d7369676e6174757265732d6b65792d303031"

t = lwtest.Test("test_signatures")
env = t.env
t.need_binary()

# -- generate (twice, concurrently: the generator must be deterministic) -----------------------
sigdir = os.path.join(env.source, "signatures")
out_a, gen_out = t.generate_twice("gen_dlp_pcaps.py", ["--signatures", sigdir], "dlp-gen")
for line in gen_out.splitlines():
    t.note(line)
with open(os.path.join(out_a, "expected.json")) as fp:
    manifest = json.load(fp)
sigs = manifest["signatures"]
caps = manifest["captures"]
t.eq(manifest["problems"], [], "the generator planted everything it meant to")
t.ok(len(sigs) >= 1, "the packs hold content signatures", "%d" % len(sigs))

# -- key and configs ----------------------------------------------------------------------------
key_path = os.path.join(env.work, "dlp-fingerprint.key")
if os.path.exists(key_path):
    os.unlink(key_path)
fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, KEY + b"\n")
os.close(fd)
os.chmod(key_path, 0o600)
cfg = manifest["config"]
config = lwtest.write_config(
    os.path.join(env.work, "dlp-signatures.yaml"),
    "output:\n  flows: all\n  fingerprint_key: %s\n"
    "allowlist:\n  destinations: %s\n  values: %s\n" % (
        json.dumps(key_path), json.dumps(cfg["allowlist_destinations"]),
        json.dumps(cfg["allowlist_values"])))
scan_config = lwtest.write_config(os.path.join(env.work, "dlp-scan.yaml"),
                                  "output:\n  fingerprint_key: %s\n" % json.dumps(key_path))


def fingerprint(value):
    return "hmac-sha256:" + hmac.new(KEY, value.encode("utf-8"), hashlib.sha256).hexdigest()


def redact(value):
    b = value.encode("utf-8")
    k = min(4, len(b) // 4)
    return (b[:k] + b"*" * (len(b) - 2 * k) + b[len(b) - k:]).decode("utf-8", "replace")


# -- run: all captures in one sensor run per configuration, and --scan, concurrently -----------
pcaps = [os.path.join(out_a, caps[n]["file"]) for n in manifest["capture_order"]]
jobs = []
for run_name, run in sorted(manifest["runs"].items()):
    args = []
    for p in pcaps:
        args += ["-r", p]
    args += ["-s", sigdir, "-c", config] + run["args"]
    jobs.append((run_name, args))
scan_args = ["--scan", os.path.join(out_a, manifest["scan"]["file"]), "-s", sigdir,
             "-c", scan_config, "--reveal"]
with concurrent.futures.ThreadPoolExecutor(len(jobs) + 1) as pool:
    futures = [pool.submit(t.execute, args) for _, args in jobs]
    scan_future = pool.submit(t.execute, scan_args)
    results = [f.result() for f in futures]
    scan_res = scan_future.result()


def key_of(d):
    return (d.get("proto"), d.get("src_ip"), d.get("src_port"), d.get("dest_ip"),
            d.get("dest_port"))


def entry_pairs(entry):
    return sorted(zip(entry.get("redacted") or [], entry.get("fingerprints") or []))


def check_run(run_name, run, res):
    label = "run %s" % run_name
    t.section(label)
    t.hygiene(res, label)
    t.eq(res.rc, 0, "%s: exit code" % label)
    reveal = run["reveal"]
    flows_got = {}
    for f in res.flows:
        flows_got.setdefault(key_of(f), []).append(f)
    alerts_got = {}
    for a in res.of_type("alert"):
        alerts_got.setdefault(key_of(a), []).append(a)
    n_expected_alerts = 0
    counts = {}
    seen_keys = set()
    for cap_name in manifest["capture_order"]:
        cap = caps[cap_name]
        t.section("%s: %s" % (label, cap_name))
        pcap_path = os.path.join(out_a, cap["file"])
        for fl in cap["flows"]:
            exp = fl["expect"][run_name]
            k = key_of(fl)
            seen_keys.add(k)
            ctx = "%s flow '%s' %s:%s->%s:%s" % (cap_name, fl["label"], fl["src_ip"],
                                                 fl["src_port"], fl["dest_ip"], fl["dest_port"])
            got = flows_got.get(k, [])
            if not t.eq(len(got), 1, "%s: one flow event" % ctx):
                continue
            g = got[0]
            check_flow(ctx, fl, exp, g, reveal)
            n_expected_alerts += len(exp["alerts"])
            for ck, cv in exp["counts"].items():
                counts[ck] = counts.get(ck, 0) + cv
            check_alerts(ctx, fl, exp, g, alerts_got.get(k, []), pcap_path, reveal)
            check_planted(ctx, fl, exp, g, alerts_got.get(k, []))
    t.section("%s: totals" % label)
    for k, fs in flows_got.items():
        if k not in seen_keys:
            t.ok(False, "%s: no unexpected flow" % label, json.dumps(fs[0])[:300])
    for k, al in alerts_got.items():
        if k not in seen_keys:
            t.ok(False, "%s: no alert on an unexpected flow" % label, json.dumps(al[0])[:300])
    n_alerts = len(res.of_type("alert"))
    t.eq(n_alerts, n_expected_alerts, "%s: number of alert events" % label)
    st = res.stats or {}
    t.eq(st.get("detect", {}).get("alerts"), n_alerts,
         "%s: stats.detect.alerts equals the alerts written" % label)
    t.eq(st.get("detect", {}).get("validated"), counts.get("validated"),
         "%s: stats.detect.validated (every validated match)" % label)
    t.eq(st.get("detect", {}).get("allowlisted_values"), counts.get("allowlisted_values"),
         "%s: stats.detect.allowlisted_values (suppressed by allow_values / allowlist.values)"
         % label)
    for ck in ("allowlisted_directions", "allowlisted_bytes"):
        t.eq(st.get("worker", {}).get(ck), counts.get(ck),
             "%s: stats.worker.%s (content to allowlisted destinations)" % (label, ck))


def check_flow(ctx, fl, exp, g, reveal):
    t.eq(g.get("community_id"), fl["community_id"], "%s: community_id" % ctx)
    t.eq(g.get("vlan"), fl["vlan"], "%s: vlan" % ctx)
    t.eq(lwtest.parse_timestamp(g.get("timestamp")), fl["start_usec"],
         "%s: flow timestamp is its start" % ctx)
    dlp = g.get("dlp")
    if not t.ok(isinstance(dlp, list), "%s: dlp is a list" % ctx, repr(dlp)[:200]):
        return
    got = {(e.get("signature_id"), e.get("direction")): e for e in dlp}
    t.eq(len(got), len(dlp), "%s: one dlp entry per (signature, direction)" % ctx)
    want = {(e["signature_id"], e["direction"]): e for e in exp["dlp"]}
    t.eq(sorted(got, key=str), sorted(want, key=str),
         "%s: dlp entries (signature_id, direction)" % ctx)
    for kk, we in want.items():
        ge = got.get(kk)
        if ge is None:
            continue
        c = "%s: dlp %s %s" % (ctx, kk[0], kk[1])
        meta = sigs[str(kk[0])]
        t.eq((ge.get("signature"), ge.get("category"), ge.get("severity")),
             (meta["name"], meta["category"], meta["severity"]),
             "%s: signature, category, severity" % c)
        t.eq(ge.get("matches"), we["matches"], "%s: matches" % c)
        t.eq(ge.get("distinct"), we["distinct"], "%s: distinct" % c)
        t.eq(ge.get("alerted"), we["alerted"], "%s: alerted" % c)
        t.eq(entry_pairs(ge), sorted((redact(v), fingerprint(v)) for v in we["values"]),
             "%s: redacted / fingerprints" % c)
        if reveal:
            t.eq(sorted(ge.get("values") or []), sorted(we["values"]), "%s: values" % c)
        else:
            t.ok("values" not in ge, "%s: no values without --reveal" % c)


def check_alerts(ctx, fl, exp, g, got, pcap_path, reveal):
    remaining = list(got)
    for wa in exp["alerts"]:
        sid, direction = wa["signature_id"], wa["direction"]
        c = "%s: alert %d %s" % (ctx, sid, direction)
        mine = [a for a in remaining if a.get("alert", {}).get("signature_id") == sid and
                a.get("direction") == direction]
        if not t.eq(len(mine), 1, "%s: exactly one alert" % c):
            for a in mine:
                remaining.remove(a)
            continue
        a = mine[0]
        remaining.remove(a)
        meta = sigs[str(sid)]
        value = wa["value"]
        exact = fl.get("exact_packet", True)
        if exact:
            t.eq(lwtest.parse_timestamp(a.get("timestamp")), wa["timestamp_usec"],
                 "%s: timestamp is the completing packet's" % c)
        else:  # one byte per segment: decided some packets later
            t.ok((lwtest.parse_timestamp(a.get("timestamp")) or 0) >= wa["timestamp_usec"],
                 "%s: timestamp not before the completing packet's" % c)
        t.ok(isinstance(a.get("sensor"), str), "%s: sensor" % c)
        t.eq(a.get("sensor"), g.get("sensor"), "%s: sensor as in the flow event" % c)
        t.eq(a.get("flow_id"), g.get("flow_id"), "%s: flow_id equals the flow event's" % c)
        t.eq(a.get("community_id"), fl["community_id"], "%s: community_id" % c)
        t.eq(key_of(a), key_of(fl), "%s: proto and 5-tuple (src opened the flow)" % c)
        # an alert says what nDPI knew at its packet: the flow's final protocol, or Unknown if
        # the value came before nDPI could name it
        t.ok(a.get("app_proto") in (g.get("app_proto"), "Unknown"),
             "%s: app_proto as the flow's (or not yet known)" % c,
             "alert %r, flow %r" % (a.get("app_proto"), g.get("app_proto")))
        t.ok(isinstance(a.get("app_proto"), str), "%s: app_proto is a string" % c)
        t.eq(a.get("vlan"), fl["vlan"], "%s: vlan" % c)
        al = a.get("alert", {})
        t.eq((al.get("signature_id"), al.get("signature"), al.get("category"),
              al.get("severity")), (sid, meta["name"], meta["category"], meta["severity"]),
             "%s: alert signature_id/signature/category/severity" % c)
        m = a.get("match", {})
        t.eq(m.get("redacted"), redact(value), "%s: match.redacted" % c)
        t.eq(m.get("fingerprint"), fingerprint(value), "%s: match.fingerprint" % c)
        t.eq(m.get("layer"), wa["layer"], "%s: match.layer" % c)
        t.eq(m.get("stream_offset"), wa["stream_offset"], "%s: match.stream_offset" % c)
        t.eq(m.get("length"), wa["length"], "%s: match.length" % c)
        t.eq(m.get("distinct"), wa["distinct"], "%s: match.distinct" % c)
        t.eq(m.get("threshold"), wa["threshold"], "%s: match.threshold" % c)
        t.eq(m.get("aws_account"), wa.get("aws_account"), "%s: match.aws_account" % c)
        if reveal:
            t.eq(m.get("value"), value, "%s: match.value with --reveal" % c)
        else:
            t.ok("value" not in m, "%s: no match.value without --reveal" % c)
        pc = a.get("pcap", {})
        t.eq(pc.get("file"), pcap_path, "%s: pcap.file is the path as given" % c)
        if exact:
            t.eq(pc.get("packet"), wa["packet"], "%s: pcap.packet completes the value" % c)
        else:
            t.ok(isinstance(pc.get("packet"), int) and pc["packet"] >= wa["packet"],
                 "%s: pcap.packet not before the one completing the value" % c)
    for a in remaining:
        t.ok(False, "%s: no unexpected alert" % ctx, json.dumps(
            {"alert": a.get("alert"), "direction": a.get("direction"),
             "match": a.get("match")})[:400])


def check_planted(ctx, fl, exp, g, got_alerts):
    """The generator's intent, independent of the model's other predictions."""
    dlp = g.get("dlp") or []
    if "must_alert_signature" in fl:
        sid = fl["must_alert_signature"]
        t.ok(any(a.get("alert", {}).get("signature_id") == sid for a in got_alerts),
             "%s: signature %d alerts on its own match examples" % (ctx, sid))
    if "no_match_signature" in fl:
        sid = fl["no_match_signature"]
        t.ok(not any(a.get("alert", {}).get("signature_id") == sid for a in got_alerts),
             "%s: no alert of signature %d on its no_match examples" % (ctx, sid))
        t.ok(not any(e.get("signature_id") == sid for e in dlp),
             "%s: no dlp entry of signature %d for its no_match examples" % (ctx, sid))
    for p in exp["planted"]:
        sid, fp = p["signature_id"], fingerprint(p["value"])
        c = "%s: planted %s (%d, %s)" % (ctx, redact(p["value"]), sid, p["reason"])
        same_dir = [a for a in got_alerts if a.get("direction") == p["direction"]]
        naming = [a for a in same_dir if a.get("match", {}).get("fingerprint") == fp]
        entries = [e for e in dlp if e.get("direction") == p["direction"]]
        if p["must_alert"]:
            t.ok(any(a.get("alert", {}).get("signature_id") == sid for a in same_dir),
                 "%s: alerts" % c)
        elif p["must_list"]:  # below the threshold: listed, but the signature does not alert
            t.ok(not any(a.get("alert", {}).get("signature_id") == sid for a in same_dir),
                 "%s: signature does not alert" % c)
        else:
            t.ok(not naming, "%s: no alert names it" % c)
        if p["must_list"]:
            t.ok(any(e.get("signature_id") == sid and fp in (e.get("fingerprints") or [])
                     for e in entries), "%s: listed in the flow's dlp" % c)
        else:
            t.ok(not any(fp in (e.get("fingerprints") or []) for e in entries),
                 "%s: not listed in the flow's dlp" % c)
        first = min(q["stream_offset"] for q in exp["planted"]
                    if q["signature_id"] == sid and q["value"] == p["value"])
        if p["must_alert"] and sigs[str(sid)]["threshold"] == 1 and \
                p["stream_offset"] == first:
            # an alert naming this value (its first copy) gives the offset planted
            for a in got_alerts:
                m = a.get("match", {})
                if a.get("alert", {}).get("signature_id") == sid and m.get("fingerprint") == fp:
                    t.eq(m.get("stream_offset"), p["stream_offset"], "%s: stream_offset" % c)


for (run_name, _), res in zip(jobs, results):
    check_run(run_name, manifest["runs"][run_name], res)

# -- --scan over every example ------------------------------------------------------------------
t.section("--scan of every example")
t.hygiene(scan_res, "--scan", parse=False)
t.eq(scan_res.rc, 0, "--scan exit code")
scan_hits = []
for line in scan_res.stdout.decode("utf-8", "replace").splitlines():
    try:
        scan_hits.append(json.loads(line))
    except ValueError:
        t.ok(False, "--scan prints JSON lines", line[:200])
got = sorted((h.get("signature_id"), h.get("offset"), h.get("length"), h.get("value"))
             for h in scan_hits)
want = sorted((h["signature_id"], h["offset"], h["length"], h["value"])
              for h in manifest["scan"]["hits"])
missing = [w for w in want if w not in got]
extra = [g for g in got if g not in want]
t.ok(not missing, "--scan reports every value the model expects",
     "missing %d: %s" % (len(missing), missing[:10]))
t.ok(not extra, "--scan reports no value the model does not expect",
     "extra %d: %s" % (len(extra), extra[:10]))
for h in scan_hits:
    v = h.get("value") or ""
    if h.get("redacted") != redact(v) or h.get("fingerprint") != fingerprint(v):
        t.ok(False, "--scan: redacted and fingerprint of %s" % h.get("signature_id"),
             json.dumps(h)[:300])
broken_match, broken_no_match = [], []
for ex in manifest["scan"]["examples"]:
    lo, hi = ex["offset"], ex["offset"] + ex["length"]
    own = [h for h in scan_hits if h.get("signature_id") == ex["signature_id"] and
           lo <= (h.get("offset") or -1) < hi]
    if ex["kind"] == "match" and not own:
        broken_match.append((ex["signature_id"], ex["text"]))
    if ex["kind"] == "no_match" and own:
        broken_no_match.append((ex["signature_id"], ex["text"]))
t.ok(not broken_match, "every match example yields a value of its signature",
     "%d do not: %s" % (len(broken_match), broken_match[:10]))
t.ok(not broken_no_match, "no no_match example yields a value of its signature",
     "%d do: %s" % (len(broken_no_match), broken_no_match[:10]))

t.finish()
