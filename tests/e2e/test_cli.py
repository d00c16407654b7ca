#!/usr/bin/env python3
"""test_cli.py — the command line of interface.md section 1: exit codes, one-line errors that
say what and where (file:line for config errors), -V, -h, several -r in order, -r - (stdin),
-o FILE, and -f BPF filtering. Runs on captures from scripts/gen_pcaps.py only."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

t = lwtest.Test("test_cli")
env = t.env
t.need_binary()

gen_dir = env.scratch("cli-gen")
subprocess.run([sys.executable, os.path.join(env.source, "scripts", "gen_pcaps.py"), gen_dir],
               check=True, capture_output=True)
basic = os.path.join(gen_dir, "tcp_basic.pcap")
dns = os.path.join(gen_dir, "udp_dns.pcap")
demo = os.path.join(gen_dir, "demo.pcap")
trunc = os.path.join(gen_dir, "truncated.pcap")
flows_all = lwtest.flows_all_config(env)
with open(os.path.join(gen_dir, "expected.json")) as fp:
    manifest = json.load(fp)["captures"]
trunc_packet = manifest["truncated"]["errors"][0]["packet"]
trunc_frames = manifest["truncated"]["frames"]


def cfg(name, text):
    return lwtest.write_config(os.path.join(env.work, name), text)


def one_line_error(res, label, *needles):
    """rc already checked by the caller: stderr holds one line naming every needle (what and
    where, section 1), and no events were written to stdout."""
    err = res.stderr.strip()
    t.ok(err != "", "%s: error message on stderr" % label)
    if needles:
        t.ok(any(all(n in line for n in needles) for line in err.splitlines()),
             "%s: one stderr line names %s" % (label, " and ".join(map(repr, needles))),
             "stderr: %r" % err[:300])
    t.eq(res.events, [], "%s: nothing processed (no events)" % label)


# -- -V and -h ---------------------------------------------------------------------------------
t.section("-V / -h")
for flag in ("-V", "--version"):
    res = t.run([flag], parse=False)
    t.eq(res.rc, 0, "%s exits 0" % flag)
    out = res.stdout.decode("utf-8", "replace")
    t.ok("leakwatch" in out.lower() and any(c.isdigit() for c in out),
         "%s prints the name and version" % flag, repr(out[:200]))
for flag in ("-h", "--help"):
    res = t.run([flag], parse=False)
    t.eq(res.rc, 0, "%s exits 0" % flag)
    out = res.stdout.decode("utf-8", "replace")
    for opt in ("--read", "--interface", "--filter", "--config", "--signatures", "--output",
                "--home-net", "--inspect", "--reveal", "--workers", "--stats-interval",
                "--user", "--group", "--pidfile", "--profile", "--test-config", "--scan",
                "--version", "--help"):
        t.ok(opt in out, "%s lists %s" % (flag, opt))

# -- usage errors: exit 2, nothing processed ----------------------------------------------------
t.section("usage errors (exit 2)")
cases = [
    ("no arguments", [], []),
    ("unknown option", ["--bogus-option", "-r", basic], ["--bogus-option"]),
    ("--workers abc", ["--workers", "abc", "-r", basic], ["abc"]),
    ("--inspect sideways", ["--inspect", "sideways", "-r", basic], ["sideways"]),
    ("-r without argument", ["-r"], ["-r"]),
    ("bad CIDR in -H", ["-H", "10.0.0.0/33", "-r", basic], ["10.0.0.0/33"]),
    ("not a CIDR in -H", ["-H", "10.0.0.0/8,home", "-r", basic], ["home"]),
    ("bad BPF filter", ["-f", "tcp port eighty and", "-r", basic], []),
    ("-r and -i together", ["-r", basic, "-i", "lo"], []),
]
for label, args, needles in cases:
    res = t.run(args, label=label, timeout=60)
    t.eq(res.rc, 2, "%s: exit 2" % label)
    one_line_error(res, label, *needles)

# -- config errors: exit 2 naming file:line ----------------------------------------------------
t.section("config errors (exit 2, file:line)")
config_cases = [
    ("unknown top-level key", "output:\n  flows: all\nbogus_key: 1\n", 3),
    ("unknown nested key", "home_net: [10.0.0.0/8]\noutput:\n  flows: all\n  colour: blue\n", 4),
    ("wrong type", "inspect: egress\nworkers: many\n", 2),
    ("bad enum value", "output:\n  flows: some\n", 2),
    ("bad CIDR", "home_net:\n  - 10.0.0.0/8\n  - 300.1.2.0/24\n", 3),
    ("YAML syntax error", "output:\n  flows: [all\n", None),
]
for n, (label, text, line) in enumerate(config_cases):
    path = cfg("bad-%d.yaml" % n, text)
    res = t.run(["-c", path, "-r", basic], label="config " + label)
    t.eq(res.rc, 2, "config %s: exit 2" % label)
    needles = [path] + (["%s:%d" % (path, line)] if line else [])
    one_line_error(res, "config " + label, *needles)
missing_cfg = os.path.join(env.work, "no-such-config.yaml")
res = t.run(["-c", missing_cfg, "-r", basic], label="missing config")
t.ok(res.rc in (1, 2), "missing config file: exit 1 or 2", "rc %r" % res.rc)
one_line_error(res, "missing config", missing_cfg)

# -- fatal errors: exit 1 ---------------------------------------------------------------------
t.section("fatal errors (exit 1)")
missing = os.path.join(env.work, "no-such-file.pcap")
res = t.run(["-r", missing], label="missing input")
t.eq(res.rc, 1, "missing input file: exit 1")
t.ok(missing in res.stderr, "missing input: stderr names the file", res.stderr[:300])
res = t.run(["-i", "nosuchif0"], label="-i nosuchif0", timeout=30)
t.eq(res.rc, 1, "-i nosuchif0: exit 1")
t.ok("nosuchif0" in res.stderr, "-i nosuchif0: stderr names the interface", res.stderr[:300])

# -- valid runs ------------------------------------------------------------------------------------
t.section("single input, defaults")
res = t.run(["-r", basic])
t.eq(res.rc, 0, "-r tcp_basic.pcap exits 0")
t.eq(len(res.of_type("stats")), 1, "one stats event at exit")
t.eq(res.flows, [], "default output.flows (alerted) writes no flow event without alerts")
stats = res.stats or {}
t.eq(stats.get("capture", {}).get("packets"), manifest["tcp_basic"]["frames"],
     "stats.capture.packets = frames in the file")
t.eq(stats.get("flow", {}).get("total"), 1, "stats.flow.total = 1")
t.eq(stats.get("detect", {}).get("alerts"), 0, "stats.detect.alerts = 0")
t.ok(stats.get("output", {}).get("events_written", -1) >= 0, "stats.output.events_written")

t.section("-o FILE")
outfile = os.path.join(env.work, "cli-events.json")
if os.path.exists(outfile):
    os.remove(outfile)
res = t.run(["-r", basic, "-c", flows_all, "-o", outfile])
t.eq(res.rc, 0, "-o FILE exits 0")
t.eq(res.stdout, b"", "-o FILE writes nothing to stdout")
events = t.read_events(outfile, "-o FILE")
t.eq(len([e for e in events if e.get("event_type") == "flow"]), 1, "-o FILE: one flow event")
t.eq(len([e for e in events if e.get("event_type") == "stats"]), 1, "-o FILE: one stats event")
res = t.run(["-r", basic, "-c", flows_all, "-o", "-"])
t.eq(len(res.flows), 1, "-o - writes to stdout")

t.section("several -r, in order")
res = t.run(["-r", basic, "-r", dns, "-c", flows_all])
t.eq(res.rc, 0, "two inputs exit 0")
t.eq(sorted(f.get("proto") for f in res.flows), ["TCP", "UDP", "UDP", "UDP", "UDP"],
     "flows of both inputs")
t.eq((res.stats or {}).get("capture", {}).get("packets"),
     manifest["tcp_basic"]["frames"] + manifest["udp_dns"]["frames"],
     "stats.capture.packets counts both inputs")
# A damaged input in either position: the other is still processed, exit 3, the error event
# names the damaged file and its own packet number.
for order in ((trunc, basic), (basic, trunc)):
    label = "-r %s -r %s" % tuple(os.path.basename(p) for p in order)
    res = t.run(["-r", order[0], "-r", order[1], "-c", flows_all], label=label)
    t.eq(res.rc, 3, "%s: exit 3" % label)
    errs = res.of_type("error")
    t.eq([(e.get("error", {}).get("file"), e.get("error", {}).get("packet")) for e in errs],
         [(trunc, trunc_packet)],
         "%s: one error event for truncated.pcap packet %d" % (label, trunc_packet))
    t.eq(len(res.flows), 3, "%s: 2 flows before the damage + 1 of tcp_basic.pcap" % label)
    t.eq((res.stats or {}).get("capture", {}).get("packets"),
         trunc_frames + manifest["tcp_basic"]["frames"],
         "%s: packets of both inputs" % label)

t.section("-r - (stdin)")
with open(basic, "rb") as fp:
    pcap_bytes = fp.read()
from_file = t.run(["-r", basic, "-c", flows_all])
from_stdin = t.run(["-r", "-", "-c", flows_all], stdin=pcap_bytes)
t.eq(from_stdin.rc, 0, "-r - exits 0")


def strip_volatile(flows):
    return sorted((f.get("src_ip"), f.get("src_port"), f.get("dest_ip"), f.get("dest_port"),
                   f.get("community_id"), tuple(sorted(f.get("flow", {}).items())))
                  for f in flows)


t.eq(strip_volatile(from_stdin.flows), strip_volatile(from_file.flows),
     "-r - reports the same flow as -r FILE")
with open(os.path.join(gen_dir, "pcapng_multi_if.pcapng"), "rb") as fp:
    res = t.run(["-r", "-", "-c", flows_all], stdin=fp.read(), label="-r - pcapng")
t.eq(res.rc, 0, "-r - reads pcapng too")
t.eq(len(res.flows), 2, "-r - pcapng: both flows")

t.section("-f BPF")
res = t.run(["-r", demo, "-c", flows_all])
t.eq(sorted((f.get("proto"), f.get("dest_port")) for f in res.flows),
     [("TCP", 80), ("TCP", 443), ("UDP", 53), ("UDP", 53)], "demo.pcap without a filter")
res = t.run(["-r", demo, "-c", flows_all, "-f", "tcp port 80"])
t.eq(res.rc, 0, "-f 'tcp port 80' exits 0")
t.eq([(f.get("proto"), f.get("dest_port")) for f in res.flows], [("TCP", 80)],
     "-f 'tcp port 80' keeps only the HTTP flow (UDP and 443 left out)")
res = t.run(["-r", demo, "-c", flows_all, "--filter", "udp"])
t.eq(sorted((f.get("proto"), f.get("dest_port")) for f in res.flows),
     [("UDP", 53), ("UDP", 53)], "--filter udp keeps only the DNS flows")
res = t.run(["-r", basic, "-r", dns, "-c", flows_all, "-f", "udp and src port 53001"])
t.eq([(f.get("src_ip"), f.get("src_port")) for f in res.flows], [("10.0.0.5", 53001)],
     "a filter applies to every -r input (one query packet kept)")

t.finish()
