#!/usr/bin/env python3
"""test_app_proto_stats.py — stats.app_proto (interface.md section 5: per-app_proto packet and
byte counts) adds up: for every capture, the packets and bytes per app_proto in the final
stats event equal the sums over that run's flow events grouped by their app_proto, and the
classify counters account for every flow. Runs on the generated captures and, when present,
the shared ones."""

import collections
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

t = lwtest.Test("test_app_proto_stats")
env = t.env
t.need_binary()

gen_dir = env.scratch("app-proto-gen")
subprocess.run([sys.executable, os.path.join(env.source, "scripts", "gen_pcaps.py"), gen_dir],
               check=True, capture_output=True)
inputs = sorted(os.path.join(gen_dir, f) for f in os.listdir(gen_dir)
                if f.endswith((".pcap", ".pcapng")))
shared = env.shared_pcaps()
if shared:
    for sub in ("http", "tls", "smtp", "dns"):
        d = os.path.join(shared, sub)
        inputs += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith((".pcap", ".pcapng")))
else:
    t.note("../shared absent: generated captures only")
config = lwtest.flows_all_config(env)
empty = env.scratch("app-proto-nosigs")  # classification does not need the signature packs
jobs = [(os.path.basename(p), ["-r", p, "-c", config, "-s", empty, "--workers", "1"])
        for p in inputs]

t.section("stats.app_proto = flows grouped by app_proto")
total_flows = 0
protos = collections.Counter()
for label, res in t.run_many(jobs):
    if res.rc not in (0, 3) or not res.stats:
        t.ok(False, "%s: ran with a stats event" % label, "rc %s" % res.rc)
        continue
    want = collections.defaultdict(lambda: [0, 0])
    for f in res.flows:
        fl = f.get("flow", {})
        w = want[f.get("app_proto")]
        w[0] += fl.get("pkts_toserver", 0) + fl.get("pkts_toclient", 0)
        w[1] += fl.get("bytes_toserver", 0) + fl.get("bytes_toclient", 0)
        protos[f.get("app_proto")] += 1
    total_flows += len(res.flows)
    got = {k: [v.get("packets"), v.get("bytes")] for k, v in res.stats.get("app_proto", {}).items()}
    t.eq(got, {k: v for k, v in want.items()}, "%s: packets and bytes per app_proto" % label)
    c = res.stats.get("classify", {})
    t.eq(c.get("detected", 0) + c.get("unknown", 0) + c.get("alloc_failed", 0), c.get("flows"),
         "%s: every flow given to nDPI ends detected or unknown" % label)
min_flows, min_protos = (50, 4) if shared else (20, 3)  # generated captures alone are fewer
t.ok(total_flows >= min_flows and len(protos) >= min_protos,
     "the comparison is not vacuous (%d flows, %d protocols)" % (total_flows, len(protos)))
t.note("flows by app_proto: %s" % ", ".join("%s %d" % kv for kv in protos.most_common(12)))
t.end_section()
t.finish()
