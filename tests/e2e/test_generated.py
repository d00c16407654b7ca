#!/usr/bin/env python3
"""test_generated.py — the sensor on the captures of scripts/gen_pcaps.py, field by field.

For every generated capture: exit code, flows (5-tuple and orientation, vlan, community_id,
frames and frame bytes per direction, start/end, reason, state, TCP flags, gaps, egress_bytes),
the reassembled bytes of every TCP direction (--dump-streams; first data wins, holes not
written, *.gaps files), error events and the final stats event, all against expected.json.
Then the egress rule of interface.md section 2 under -H, a config home_net, -H overriding the
config, and --inspect all (which must not change egress_bytes).
"""

import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

t = lwtest.Test("test_generated")
env = t.env
t.need_binary()

# -- generate (twice: the generator must be deterministic) -------------------------------------
gen = os.path.join(env.source, "scripts", "gen_pcaps.py")
out_a = env.scratch("gen")
out_b = env.scratch("gen-again")
for d in (out_a, out_b):
    p = subprocess.run([sys.executable, gen, d], capture_output=True, text=True)
    if p.returncode:
        print("FAIL: gen_pcaps.py %s: rc %d: %s" % (d, p.returncode, p.stderr))
        t.failed += 1
        t.finish()
with open(os.path.join(out_a, "expected.json")) as fp:
    manifest = json.load(fp)
caps = manifest["captures"]

t.section("generator")
for name in sorted(os.listdir(out_a)):
    t.eq(lwtest.sha256_file(os.path.join(out_a, name)),
         lwtest.sha256_file(os.path.join(out_b, name)), "%s is the same on every run" % name)
demo_committed = os.path.join(env.source, "tests", "data", "demo.pcap")
if os.path.exists(demo_committed):
    t.eq(lwtest.sha256_file(demo_committed),
         lwtest.sha256_file(os.path.join(out_a, caps["demo"]["file"])),
         "tests/data/demo.pcap is what gen_pcaps.py writes (regenerate it with --demo)")
t.ok(os.path.getsize(os.path.join(out_a, caps["demo"]["file"])) < 20000, "demo.pcap < 20 KB")

config = lwtest.flows_all_config(env)


def key_of(f):
    return (f.get("proto"), f.get("src_ip"), f.get("src_port"), f.get("dest_ip"),
            f.get("dest_port"))


def reverse(k):
    return (k[0], k[3], k[4], k[1], k[2])


def ignored(f, pairs):
    return any({f.get("src_ip"), f.get("dest_ip")} == set(p) for p in pairs)


def match_flows(name, exp_flows, got_flows):
    """Pairs expected and reported flows by 5-tuple (either orientation, so a reversed flow is
    reported as wrongly oriented rather than missing); flows sharing a 5-tuple pair by start."""
    pairs = []
    remaining = list(got_flows)
    groups = {}
    for e in exp_flows:
        groups.setdefault(key_of(e), []).append(e)
    for k, exps in groups.items():
        cands = [g for g in remaining if key_of(g) in (k, reverse(k))]
        cands.sort(key=lambda g: (lwtest.parse_timestamp(g.get("flow", {}).get("start")) or 0))
        exps = sorted(exps, key=lambda e: e["start_usec"])
        t.eq(len(cands), len(exps), "%s: number of flows on %s" % (name, "/".join(map(str, k))))
        for e, g in zip(exps, cands):
            pairs.append((e, g))
            remaining.remove(g)
    for g in remaining:
        t.ok(False, "%s: no unexpected flow" % name, json.dumps(g)[:300])
    return pairs


def check_stream(name, e, g, dump_dir, side):
    fid = g.get("flow_id")
    path = os.path.join(dump_dir, "%s.%s" % (fid, side))
    want = e["stream_" + side]
    data = b""
    if os.path.exists(path):
        with open(path, "rb") as fp:
            data = fp.read()
    elif want["len"]:
        t.ok(False, "%s: dump file %s.%s exists" % (name, fid, side))
        return
    if "hex" in want:
        t.eq(data.hex(), want["hex"], "%s: reassembled %s bytes" % (name, side))
    else:
        t.ok(hashlib.sha256(data).hexdigest() == want["sha256"] and len(data) == want["len"],
             "%s: reassembled %s bytes (%d, sha256 %s…)" % (name, side, want["len"],
                                                           want["sha256"][:12]),
             "got %d bytes, sha256 %s" % (len(data), hashlib.sha256(data).hexdigest()))
    gpath = path + ".gaps"
    got_gaps = []
    if os.path.exists(gpath):
        with open(gpath) as fp:
            got_gaps = [[int(x) for x in ln.split()] for ln in fp if ln.strip()]
    t.eq(got_gaps, e["gaps_" + side], "%s: %s gaps (offset length)" % (name, side))


def check_flow(name, e, g, dump_dir, home_net):
    ctx = "%s flow %s:%s->%s:%s" % (name, e["src_ip"], e["src_port"], e["dest_ip"],
                                    e["dest_port"])
    t.eq(key_of(g), key_of(e), "%s: 5-tuple and orientation (src opened the flow)" % ctx)
    t.eq(g.get("community_id"), e["community_id"], "%s: community_id" % ctx)
    t.eq(g.get("vlan"), e.get("vlan"), "%s: vlan" % ctx)
    t.ok(isinstance(g.get("flow_id"), int), "%s: flow_id is an integer" % ctx)
    t.ok(isinstance(g.get("app_proto"), str), "%s: app_proto is a string" % ctx)
    t.ok(isinstance(g.get("dlp"), list), "%s: dlp is a list" % ctx)
    t.eq(lwtest.parse_timestamp(g.get("timestamp")), e["start_usec"],
         "%s: timestamp is the flow start" % ctx)
    fl = g.get("flow", {})
    for k in ("pkts_toserver", "pkts_toclient", "bytes_toserver", "bytes_toclient", "reason",
              "gaps"):
        if k in e:
            t.eq(fl.get(k), e[k], "%s: flow.%s" % (ctx, k))
    if "state" in e:
        t.eq(fl.get("state"), e["state"], "%s: flow.state" % ctx)
    t.eq(lwtest.parse_timestamp(fl.get("start")), e["start_usec"], "%s: flow.start" % ctx)
    t.eq(lwtest.parse_timestamp(fl.get("end")), e["end_usec"], "%s: flow.end" % ctx)
    t.eq(fl.get("egress_bytes"), lwtest.expected_egress(e, home_net),
         "%s: flow.egress_bytes" % ctx)
    if e["proto"] == "TCP":
        tcp = g.get("tcp", {})
        for k in ("tcp_flags", "tcp_flags_ts", "tcp_flags_tc"):
            t.eq(tcp.get(k), e[k], "%s: tcp.%s" % (ctx, k))
        bits = int(e["tcp_flags"], 16)
        t.eq({k: tcp.get(k) for k in ("syn", "fin", "rst", "psh", "ack")},
             {"syn": bool(bits & 2), "fin": bool(bits & 1), "rst": bool(bits & 4),
              "psh": bool(bits & 8), "ack": bool(bits & 16)}, "%s: tcp flag booleans" % ctx)
        if e.get("check_stream", True):
            check_stream(ctx, e, g, dump_dir, "ts")
            check_stream(ctx, e, g, dump_dir, "tc")
    else:
        t.ok("tcp" not in g, "%s: no tcp object on a UDP flow" % ctx)


def run_capture(name, entry, extra_args=(), home_net=lwtest.DEFAULT_HOME_NET, label=None,
                cfg=None):
    path = os.path.join(out_a, entry["file"])
    dump = env.scratch("dump-" + name)
    res = t.run(["-r", path, "-c", cfg or config, "--dump-streams", dump] + list(extra_args),
                label=label or name)
    t.eq(res.rc, entry["exit_code"], "%s: exit code" % name)
    flows = [f for f in res.flows if not ignored(f, entry["ignore_flows_between"])]
    pairs = match_flows(name, entry["flows"], flows)
    for e, g in pairs:
        check_flow(name, e, g, dump, home_net)
    ids = [f.get("flow_id") for f in res.flows]
    t.eq(len(set(ids)), len(ids), "%s: flow_id unique per flow" % name)
    stats = res.of_type("stats")
    t.eq(len(stats), 1, "%s: one stats event" % name)
    if stats:
        st = stats[0].get("stats", {})
        t.eq(st.get("capture", {}).get("packets"), entry["frames"],
             "%s: stats.capture.packets" % name)
        for k in ("decoder", "flow", "reassembly", "detect", "output"):
            t.ok(isinstance(st.get(k), dict), "%s: stats.%s present" % (name, k))
        t.eq(st.get("flow", {}).get("total"), len(res.flows), "%s: stats.flow.total" % name)
    errors = res.of_type("error")
    want_errors = entry["errors"]
    t.eq(len(errors), len(want_errors), "%s: number of error events" % name)
    for we, ge in zip(want_errors, errors):
        err = ge.get("error", {})
        t.eq(err.get("kind"), we["kind"], "%s: error.kind" % name)
        t.eq(err.get("file"), path, "%s: error.file is the path as given" % name)
        t.eq(err.get("packet"), we["packet"], "%s: error.packet" % name)
        t.ok(isinstance(err.get("message"), str) and err.get("message"),
             "%s: error.message" % name)
    return res, pairs


for name in sorted(caps):
    t.section(name)
    run_capture(name, caps[name])

# -- egress rule variants on the direction capture --------------------------------------------
direction = caps["direction"]


def egress_by_tuple(res):
    return {key_of(f): f.get("flow", {}).get("egress_bytes") for f in res.flows}


def check_egress(label, args, home_net, cfg=None):
    t.section("direction: " + label)
    res, _ = run_capture("direction", direction, args, home_net, label=label, cfg=cfg)
    return res


check_egress("-H 198.51.100.0/24", ["-H", "198.51.100.0/24"], ["198.51.100.0/24"])
check_egress("-H 10.0.0.8/32,fd00::/8,203.0.113.0/24",
             ["-H", "10.0.0.8/32,fd00::/8,203.0.113.0/24"],
             ["10.0.0.8/32", "fd00::/8", "203.0.113.0/24"])
cfg_home = lwtest.write_config(os.path.join(env.work, "home-net.yaml"),
                               "home_net: [203.0.113.0/24, 2001:db8::/32]\n"
                               "output:\n  flows: all\n")
check_egress("config home_net", [], ["203.0.113.0/24", "2001:db8::/32"], cfg=cfg_home)
check_egress("-H overrides config home_net", ["-H", "192.168.0.0/16"], ["192.168.0.0/16"],
             cfg=cfg_home)
base = check_egress("default home_net, --inspect egress", ["--inspect", "egress"],
                    lwtest.DEFAULT_HOME_NET)
alld = check_egress("--inspect all", ["--inspect", "all"], lwtest.DEFAULT_HOME_NET)
t.section("--inspect all does not change egress_bytes")
t.eq(egress_by_tuple(alld), egress_by_tuple(base),
     "egress_bytes per flow, --inspect all vs egress")
t.ok(any(v for v in egress_by_tuple(base).values()),
     "some flow has egress bytes (the comparison is not vacuous)")

t.finish()
