#!/usr/bin/env python3
"""test_community_id.py — Community ID v1 of every flow against the spec's published baseline.

Runs the sensor on ../shared/pcaps/communityid/*.pcap (corelight/community-id-spec test captures)
with output.flows: all. Every flow event's community_id must be the value baseline_deflt.json
lists for that flow: matched by protocol, addresses and ports in either direction. For ICMP and
ICMPv6 the baseline's sport/dport are the spec's type/code "port equivalents" (e.g. echo
request 8 -> 0, neighbor solicitation 135 -> 136), which a flow event need not carry as ports, so
such a flow must carry one of the values the baseline lists for its address pair. Every TCP and
UDP 5-tuple of the baseline must be reported (the check cannot pass on an empty run).
"""

import glob
import ipaddress
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

t = lwtest.Test("test_community_id")
pcaps = t.need_shared()
t.need_binary()
env = t.env

cid_dir = os.path.join(pcaps, "communityid")
with open(os.path.join(cid_dir, "baseline_deflt.json")) as fp:
    baseline = json.load(fp)
PROTO_NUMBERS = {"TCP": 6, "UDP": 17, "ICMP": 1, "IPV6-ICMP": 58, "ICMPV6": 58, "ICMP6": 58,
                 "SCTP": 132}


def proto_number(p):
    if isinstance(p, int):
        return p
    if isinstance(p, str) and p.isdigit():
        return int(p)
    return PROTO_NUMBERS.get(str(p).upper())


def norm(a):
    return ipaddress.ip_address(a).compressed


exact = {}   # (proto, saddr, sport, daddr, dport) -> id
by_pair = {}  # (proto, frozenset(addrs)) -> {ids}
for b in baseline:
    s, d = norm(b["saddr"]), norm(b["daddr"])
    exact[(b["proto"], s, b["sport"], d, b["dport"])] = b["communityid"]
    by_pair.setdefault((b["proto"], frozenset((s, d))), set()).add(b["communityid"])

config = lwtest.flows_all_config(env)
files = sorted(glob.glob(os.path.join(cid_dir, "*.pcap")))
t.section("baseline")
t.ok(len(files) >= 5, "community ID test captures present", "found %d" % len(files))
seen_tuples = set()
checked = 0
for path in files:
    name = os.path.basename(path)
    t.section(name)
    res = t.run(["-r", path, "-c", config], label=name)
    t.eq(res.rc, 0, "exit code")
    t.note("%s: %d flows (%s)" % (name, len(res.flows),
                                 ", ".join(sorted({str(f.get("proto")) for f in res.flows}))))
    for f in res.flows:
        proto = proto_number(f.get("proto"))
        s, d = norm(f["src_ip"]), norm(f["dest_ip"])
        sp, dp = f.get("src_port"), f.get("dest_port")
        what = "%s %s:%s -> %s:%s" % (f.get("proto"), s, sp, d, dp)
        want = exact.get((proto, s, sp, d, dp)) or exact.get((proto, d, dp, s, sp))
        if want is not None:
            t.eq(f.get("community_id"), want, "%s: community_id" % what)
            seen_tuples.add((proto, frozenset([(s, sp), (d, dp)])))
        elif proto in (1, 58) and (proto, frozenset((s, d))) in by_pair:
            ids = by_pair[(proto, frozenset((s, d)))]
            t.ok(f.get("community_id") in ids, "%s: community_id is a baseline value for this "
                 "ICMP address pair" % what, "got %r, baseline %s" % (f.get("community_id"),
                                                                     sorted(ids)))
        else:
            t.ok(False, "%s: flow is in the baseline" % what, "community_id %r" %
                 f.get("community_id"))
        checked += 1

t.section("coverage")
wanted = {(b["proto"], frozenset([(norm(b["saddr"]), b["sport"]), (norm(b["daddr"]), b["dport"])]))
          for b in baseline if b["proto"] in (6, 17)}
for k in sorted(wanted, key=str):
    t.ok(k in seen_tuples, "baseline %d %s reported as a flow" % (
        k[0], " <-> ".join("%s:%d" % e for e in sorted(k[1]))))
t.end_section()
print("community_id: %d flows checked" % checked)
t.finish()
