#!/usr/bin/env python3
"""test_shared_corpus.py — the sensor on every capture under ../shared/pcaps.

Each *.pcap / *.pcapng is read with output.flows: all. A file must exit 0, except the four
files the MANIFEST lists as damaged, which must exit 3 and write one error event naming the file
and the damaged record (libpcap stops there; the packets before it are processed). Every run
writes strict JSON Lines, exactly one stats event, no sanitizer report. Prints the total time,
files, flows and packets.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

t = lwtest.Test("test_shared_corpus")
pcaps = t.need_shared()
t.need_binary()
env = t.env

files = []
for root, _, names in os.walk(pcaps):
    for n in names:
        if n.endswith(".pcap") or n.endswith(".pcapng"):
            files.append(os.path.relpath(os.path.join(root, n), pcaps))
files.sort()
t.section("corpus present")
t.ok(len(files) >= 100, "at least 100 shared captures found", "found %d" % len(files))
for rel in lwtest.DAMAGED_SHARED:
    t.ok(rel in files, "damaged file %s is in the corpus" % rel)

config = lwtest.flows_all_config(env)
t0 = time.time()
results = t.run_many([(rel, ["-r", os.path.join(pcaps, rel), "-c", config]) for rel in files])
elapsed = time.time() - t0

total_flows = total_packets = 0
slowest = sorted(results, key=lambda r: -r[1].elapsed)[:3]
t.section("every shared capture")
for rel, res in results:
    path = os.path.join(pcaps, rel)
    want_rc = 3 if rel in lwtest.DAMAGED_SHARED else 0
    t.eq(res.rc, want_rc, "%s: exit code" % rel)
    stats = res.of_type("stats")
    t.eq(len(stats), 1, "%s: one stats event" % rel)
    errors = res.of_type("error")
    if rel in lwtest.DAMAGED_SHARED:
        t.eq([(e.get("error", {}).get("kind"), e.get("error", {}).get("file"),
               e.get("error", {}).get("packet")) for e in errors],
             [("truncated_input", path, lwtest.DAMAGED_SHARED[rel])],
             "%s: one error event naming the file and the damaged record" % rel)
    if res.rc == 0 and res.stderr.strip():
        t.note("%s: stderr: %s" % (rel, res.stderr.strip().splitlines()[0][:160]))
    flows = res.flows
    total_flows += len(flows)
    st = stats[0].get("stats", {}) if stats else {}
    total_packets += st.get("capture", {}).get("packets", 0) or 0
    for f in flows:
        if not (isinstance(f.get("flow_id"), int) and isinstance(f.get("flow"), dict)
                and isinstance(f.get("proto"), str) and f.get("src_ip") and f.get("dest_ip")):
            t.ok(False, "%s: flow events carry flow_id, proto, addresses and flow{}" % rel,
                 str(f)[:300])
            break
    ids = [f.get("flow_id") for f in flows]
    t.eq(len(set(ids)), len(ids), "%s: flow_id unique" % rel)

# Files whose content the MANIFEST describes precisely enough to check more than exit codes.
by_rel = dict(results)
t.section("specific shared files")
res = by_rel.get("malformed/zeek_empty.pcap")
if res:
    t.eq((len(res.flows), (res.stats or {}).get("capture", {}).get("packets")), (0, 0),
         "zeek_empty.pcap: no flow, 0 packets")
res = by_rel.get("linktypes/zeek_ldap_gap-data-missing.pcapng")
if res:  # libpcap refuses its second interface's snaplen; the sensor must read it
    t.ok(any(f.get("proto") == "TCP" for f in res.flows),
         "zeek_ldap_gap-data-missing.pcapng (interfaces with different snaplen): TCP flow read")
res = by_rel.get("linktypes/sv_decode-sll2-01.pcap")
if res:
    t.ok(any(f.get("proto") == "TCP" for f in res.flows), "SLL2 capture: TCP flow decoded")
res = by_rel.get("ssh/ndpi_ssh.pcap")
if res:
    t.ok(len(res.flows) >= 2, "pcapng content with a .pcap name: flows read (magic sniffed)")

t.end_section()
print("corpus: %d files, %d flows, %d packets in %.1f s (slowest: %s)" % (
    len(files), total_flows, total_packets, elapsed,
    ", ".join("%s %.2fs" % (rel, r.elapsed) for rel, r in slowest)))
t.finish()
