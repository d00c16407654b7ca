#!/usr/bin/env python3
"""test_workers.py — the worker count changes nothing but the order of events.

On every generated capture and a few shared ones, `--workers 1` and `--workers 4` must write the
same multiset of events (flow events with all their fields, flow_id included, and error
events), the same exit code, and one stats event each (the stats event itself is not compared:
uptime and per-worker figures differ). The shared captures run only when ../shared exists.
"""

import collections
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

SHARED = [  # many flows, retransmissions, losses, IPv6, UDP, VLAN
    "http/ndpi_1kxun.pcap",
    "http/zeek_http_methods.pcap",
    "reassembly/zeek_tcp_reassembly.pcap",
    "ipv6/ndpi_http_ipv6.pcap",
    "smtp/zeek_smtp.pcap",
    "encap/zeek_mixed-vlan-mpls.pcap",
    "dns/ndpi_dns-tunnel-iodine.pcap",
    "malformed/ndpi_fuzz-2006-06-26-2594.pcap",
]

t = lwtest.Test("test_workers")
t.need_binary()
env = t.env

gen_dir = env.scratch("workers-gen")
subprocess.run([sys.executable, os.path.join(env.source, "scripts", "gen_pcaps.py"), gen_dir],
               check=True, capture_output=True)
inputs = [os.path.join(gen_dir, n) for n in sorted(os.listdir(gen_dir))
          if n.endswith(".pcap") or n.endswith(".pcapng")]
if env.shared:
    inputs += [os.path.join(env.shared_pcaps(), rel) for rel in SHARED]
else:
    print("note: ../shared not found, generated captures only")

config = lwtest.flows_all_config(env)
jobs = []
for path in inputs:
    for n in (1, 4):
        jobs.append(("%s --workers %d" % (os.path.basename(path), n),
                     ["-r", path, "-c", config, "--workers", str(n)]))
results = dict(t.run_many(jobs))


def canon(events):
    return collections.Counter(json.dumps(e, sort_keys=True) for e in events
                               if e.get("event_type") != "stats")


t.section("--workers 1 vs 4")
total_events = 0
for path in inputs:
    name = os.path.basename(path)
    one = results["%s --workers 1" % name]
    four = results["%s --workers 4" % name]
    t.eq(four.rc, one.rc, "%s: same exit code" % name)
    t.eq((len(one.of_type("stats")), len(four.of_type("stats"))), (1, 1),
         "%s: one stats event each" % name)
    a, b = canon(one.events), canon(four.events)
    total_events += sum(a.values())
    detail = ""
    if a != b:
        only1 = list((a - b).elements())[:2]
        only4 = list((b - a).elements())[:2]
        detail = "only with 1 worker: %s; only with 4: %s" % (only1, only4)
    t.ok(a == b, "%s: same events (%d)" % (name, sum(a.values())), detail[:1500])
    t.ok(len(one.flows) > 0, "%s: flows reported (the comparison is not vacuous)" % name)
t.end_section()
print("workers: %d inputs, %d events compared" % (len(inputs), total_events))
t.finish()
