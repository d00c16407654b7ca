#!/usr/bin/env python3
"""test_volume.py — `kind: volume` signatures on real flows, field by field.

scripts/gen_volume_pcaps.py writes TLS and HTTP uploads around a threshold (crossing it
mid-segment, ending a segment exactly on it, one byte short), allowlisted destinations (by
name, by glob, by CIDR), an unlisted host, an upload towards the home network, a download, a
mixed-case SNI, IPv6, and a flow that only nDPI's application can match; its expected.json
comes from a per-packet count of egress payload bytes (retransmissions included). The sensor
reads all captures in one run per signature set - the generator's low-threshold test pack, and
the shipped signatures/egress-volume.yaml - with the same allowlist:

  alerts    exactly the expected ones: event_type, direction "egress", alert
            signature_id/signature/category/severity, no `match`, volume.egress_bytes (the
            flow's egress at the crossing packet), volume.threshold, pcap.file / pcap.packet and
            timestamp of the crossing packet, flow_id / community_id / 5-tuple / app_proto /
            ndpi as the flow event's, tls.sni or http hostname/url/method; once per flow
  flows     one flow event per flow, flow.egress_bytes as counted; with the default
            output.flows (alerted), flow events for exactly the flows with a volume alert
  negatives no alert under the threshold, to allowlisted names/globs/CIDRs, to unlisted hosts,
            for ingress uploads and downloads
  loading   `leakwatch -T -s signatures/egress-volume.yaml` loads every volume signature of the
            pack and counts them as volume; the default set counts them too; the pack keeps its
            own rules (ids 5000-5099, exfil_volume, nDPI 4.2 application names)
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

# Application names of libndpi 4.2 (ndpi_get_proto_defaults) that a volume pack may use.
NDPI_42_APPS = {"Github", "GitLab", "Git", "Pastebin", "Dropbox", "GoogleDrive", "MS_OneDrive",
                "AppleiCloud", "GoogleDocs", "UbuntuONE", "Microsoft365", "AmazonAWS", "Azure"}

t = lwtest.Test("test_volume")
env = t.env
t.need_binary()

# -- generate (twice, concurrently: the generator must be deterministic) -----------------------
pack = os.path.join(env.source, "signatures", "egress-volume.yaml")
out_a, gen_out = t.generate_twice("gen_volume_pcaps.py", ["--signatures", pack], "volume-gen")
with open(os.path.join(out_a, "expected.json")) as fp:
    manifest = json.load(fp)
sigs = manifest["signatures"]
caps = manifest["captures"]
t.eq(manifest["problems"], [], "every case says what it is meant to")

# -- loading: -T ---------------------------------------------------------------------------------
t.section("loading")
pack_ids = manifest["runs"]["shipped_pack"]["signature_ids"]
n_pack = len(pack_ids)
t.ok(n_pack >= 10, "the shipped pack has volume signatures", "%d" % n_pack)
res = t.run(["-T", "-s", pack], parse=False, label="-T -s egress-volume.yaml")
t.eq(res.rc, 0, "-T -s signatures/egress-volume.yaml exit code")
summary = res.stdout.decode("utf-8", "replace")
m = re.search(r"signatures:\s+(\d+) from (\d+) file\(s\): (\d+) content, (\d+) volume", summary)
if t.ok(m, "-T prints the signature summary", summary[-400:] + res.stderr[-400:]):
    t.eq(tuple(int(x) for x in m.groups()), (n_pack, 1, 0, n_pack),
         "-T counts every signature of the pack as volume (total, files, content, volume)")
m = re.search(r"exfil_volume (\d+)", summary)
t.ok(m and int(m.group(1)) == n_pack, "-T counts the pack under category exfil_volume",
     m.group(0) if m else summary[-300:])
res = t.run(["-T", "-s", os.path.join(env.source, "signatures")], parse=False,
            label="-T -s signatures/")
t.eq(res.rc, 0, "-T -s signatures/ exit code")
m = re.search(r"signatures:\s+\d+ from \d+ file\(s\): \d+ content, (\d+) volume",
              res.stdout.decode("utf-8", "replace"))
t.ok(m and int(m.group(1)) == n_pack, "the default signature set holds the volume pack",
     m.group(0) if m else res.stderr[-300:])
res = t.run(["-T", "-s", os.path.join(out_a, "volume-test.yaml")], parse=False,
            label="-T -s volume-test.yaml")
t.eq(res.rc, 0, "-T -s volume-test.yaml (the test pack) exit code")

t.section("pack rules")
for sid in pack_ids:
    s = sigs[str(sid)]
    c = "signature %d (%s)" % (sid, s["name"])
    t.ok(5000 <= sid <= 5099, "%s: id in 5000-5099" % c)
    t.eq(s["category"], "exfil_volume", "%s: category" % c)
    t.ok(s["severity"] in ("low", "medium", "high"), "%s: severity low..high" % c, s["severity"])
    t.ok(s["min_egress_bytes"] >= 1 << 20 or "paste" in s["name"].lower(),
         "%s: threshold at least 1 MiB (paste sites aside)" % c, str(s["min_egress_bytes"]))
    t.ok(s["app"] or s["hosts"], "%s: app or hosts" % c)
    bad = [a for a in s["app"] if a not in NDPI_42_APPS]
    t.ok(not bad, "%s: app names are nDPI 4.2 application names" % c, repr(bad))
    bad = [h for h in s["hosts"] if h != h.lower() or "*" in h[1:] or
           (h.startswith("*") and not h.startswith("*."))]
    t.ok(not bad, "%s: hosts are lower-case names or leading '*.' globs" % c, repr(bad))

# -- run: every capture, once per signature set ---------------------------------------------------
config = lwtest.write_config(
    os.path.join(env.work, "volume.yaml"),
    "output:\n  flows: all\n  fingerprint_key: %s\nallowlist:\n  destinations: %s\n" % (
        json.dumps(lwtest.fingerprint_key_file(env)),
        json.dumps(manifest["allowlist_destinations"])))
pcaps = [os.path.join(out_a, caps[n]["file"]) for n in manifest["capture_order"]]
jobs = []
for run_name, run in sorted(manifest["runs"].items()):
    sigpath = os.path.join(out_a, run["signatures"]) if run_name == "test_pack" else pack
    args = []
    for p in pcaps:
        args += ["-r", p]
    jobs.append((run_name, args + ["-s", sigpath, "-c", config]))
# the default output.flows (alerted): a flow event for each flow with a volume alert, only those
config_alerted = lwtest.write_config(
    os.path.join(env.work, "volume-flows-alerted.yaml"),
    "output:\n  fingerprint_key: %s\nallowlist:\n  destinations: %s\n" % (
        json.dumps(lwtest.fingerprint_key_file(env)),
        json.dumps(manifest["allowlist_destinations"])))
alerted_args = [x if x != config else config_alerted for x in dict(jobs)["test_pack"]]
results = t.run_many(jobs + [("flows_alerted", alerted_args)])


def key_of(d):
    return (d.get("proto"), d.get("src_ip"), d.get("src_port"), d.get("dest_ip"),
            d.get("dest_port"))


def check_alert(c, a, wa, fl, g, pcap_path):
    sid = wa["signature_id"]
    meta = sigs[str(sid)]
    t.eq(a.get("event_type"), "alert", "%s: event_type" % c)
    t.eq(a.get("direction"), "egress", "%s: direction" % c)
    al = a.get("alert") or {}
    t.eq((al.get("signature_id"), al.get("signature"), al.get("category"), al.get("severity")),
         (sid, meta["name"], meta["category"], meta["severity"]),
         "%s: alert signature_id/signature/category/severity" % c)
    t.ok("match" not in a, "%s: a volume alert has no match object" % c,
         json.dumps(a.get("match"))[:200])
    vol = a.get("volume") or {}
    t.eq(vol.get("egress_bytes"), wa["egress_bytes"],
         "%s: volume.egress_bytes (egress at the crossing packet)" % c)
    t.eq(vol.get("threshold"), wa["threshold"], "%s: volume.threshold" % c)
    pc = a.get("pcap") or {}
    t.eq(pc.get("file"), pcap_path, "%s: pcap.file is the path as given" % c)
    t.eq(pc.get("packet"), wa["packet"], "%s: pcap.packet is the crossing packet" % c)
    t.eq(lwtest.parse_timestamp(a.get("timestamp")), wa["timestamp_usec"],
         "%s: timestamp is the crossing packet's" % c)
    t.eq(key_of(a), key_of(fl), "%s: proto and 5-tuple (src opened the flow)" % c)
    t.eq(a.get("community_id"), fl["community_id"], "%s: community_id" % c)
    if g is not None:
        t.eq(a.get("flow_id"), g.get("flow_id"), "%s: flow_id equals the flow event's" % c)
        t.eq(a.get("sensor"), g.get("sensor"), "%s: sensor as in the flow event" % c)
        t.eq(a.get("ndpi"), g.get("ndpi"), "%s: ndpi as in the flow event" % c)
    t.eq(a.get("app_proto"), fl["app_proto"], "%s: app_proto" % c)
    if fl["kind"] == "tls":
        sni = (a.get("tls") or {}).get("sni")
        t.ok(isinstance(sni, str) and sni.lower() == fl["name"].lower(),
             "%s: tls.sni" % c, "got %r, want %r" % (sni, fl["name"]))
    else:
        h = a.get("http") or {}
        for k, v in fl["http"].items():
            t.eq(h.get(k), v, "%s: http.%s" % (c, k))


def check_run(run_name, res):
    label = "run %s" % run_name
    t.section(label)
    t.eq(res.rc, 0, "%s: exit code" % label)
    flows_got, alerts_got = {}, {}
    for f in res.flows:
        flows_got.setdefault(key_of(f), []).append(f)
    for a in res.of_type("alert"):
        alerts_got.setdefault(key_of(a), []).append(a)
    n_expected = 0
    seen = set()
    for cap_name in manifest["capture_order"]:
        cap = caps[cap_name]
        t.section("%s: %s" % (label, cap_name))
        pcap_path = os.path.join(out_a, cap["file"])
        for fl in cap["flows"]:
            exp = fl["expect"][run_name]
            k = key_of(fl)
            seen.add(k)
            ctx = "%s '%s' %s:%s->%s:%s" % (cap_name, fl["label"], fl["src_ip"], fl["src_port"],
                                            fl["dest_ip"], fl["dest_port"])
            got = flows_got.get(k, [])
            g = got[0] if len(got) == 1 else None
            if t.eq(len(got), 1, "%s: one flow event" % ctx):
                t.eq((g.get("flow") or {}).get("egress_bytes"), exp["egress_bytes"],
                     "%s: flow.egress_bytes (payload towards outside, retransmissions "
                     "included)" % ctx)
                t.eq(g.get("app_proto"), fl["app_proto"], "%s: flow app_proto" % ctx)
            remaining = list(alerts_got.get(k, []))
            for wa in exp["alerts"]:
                n_expected += 1
                c = "%s: alert %d" % (ctx, wa["signature_id"])
                mine = [a for a in remaining
                        if (a.get("alert") or {}).get("signature_id") == wa["signature_id"]]
                for a in mine:
                    remaining.remove(a)
                if t.eq(len(mine), 1, "%s: exactly one alert (once per flow)" % c):
                    check_alert(c, mine[0], wa, fl, g, pcap_path)
            for a in remaining:
                why = exp["why_not"].get(str((a.get("alert") or {}).get("signature_id")),
                                         "the signature does not match the flow")
                t.ok(False, "%s: no unexpected alert" % ctx, "%s (expected none: %s)" % (
                    json.dumps({"alert": a.get("alert"), "volume": a.get("volume"),
                                "pcap": a.get("pcap")}), why))
            if not exp["alerts"]:
                t.ok(not alerts_got.get(k), "%s: no alert (%s)" % (
                    ctx, "; ".join(sorted(set(exp["why_not"].values()))) or
                    "no signature matches"))
    t.section("%s: totals" % label)
    for k, fs in flows_got.items():
        if k not in seen:
            t.ok(False, "%s: no unexpected flow" % label, json.dumps(fs[0])[:300])
    n_alerts = len(res.of_type("alert"))
    t.eq(n_alerts, n_expected, "%s: number of alert events" % label)
    st = res.stats or {}
    t.eq((st.get("detect") or {}).get("alerts"), n_alerts,
         "%s: stats.detect.alerts equals the alerts written" % label)


def check_flows_alerted(res, full):
    label = "run test_pack with output.flows: alerted"
    t.section(label)
    t.eq(res.rc, 0, "%s: exit code" % label)
    want = set()
    for cap_name in manifest["capture_order"]:
        for fl in caps[cap_name]["flows"]:
            if fl["expect"]["test_pack"]["alerts"]:
                want.add(key_of(fl))
    got = [key_of(f) for f in res.flows]
    t.eq(sorted(got, key=str), sorted(want, key=str),
         "%s: one flow event per flow with a volume alert, none for the others" % label)
    strip = ("flow_id",)
    t.eq(sorted(json.dumps({k: v for k, v in a.items() if k not in strip}, sort_keys=True)
                for a in res.of_type("alert")),
         sorted(json.dumps({k: v for k, v in a.items() if k not in strip}, sort_keys=True)
                for a in full.of_type("alert")),
         "%s: the same alerts as with flows: all" % label)


by_run = dict(results)
for run_name in sorted(manifest["runs"]):
    check_run(run_name, by_run[run_name])
check_flows_alerted(by_run["flows_alerted"], by_run["test_pack"])

t.finish()
