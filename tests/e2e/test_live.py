#!/usr/bin/env python3
"""test_live.py — live capture (-i) on a veth pair gives the events an offline run gives.

A network namespace holds one end of a veth pair (IPv6 off so the kernel sends nothing of its
own, MTU 65535 so the generated 60 KB segment fits, offloads off); `leakwatch -i` runs inside it
and tcpreplay sends a capture into the other end at a controlled packet rate. The live events
must equal those of `-r` on the same capture with the same config, after dropping only what
legitimately differs: timestamps, flow.start/end, `pcap` {file, packet}, the stats events, and
flow_id (a hash of the 5-tuple, the first packet's time and its position in the input, see
sensor/flow/flow_hash.c). Flow ids are replaced by (community_id, rank of the flow's start
among flows with that community_id), so alerts still name their flow; nDPI's "TLS Expired
Certificate" risk (certificate dates against the packet time) is left out too. Reasons that only say
"the capture ended" (eof offline, shutdown live, and timeout, which runs on packet time offline
and on the compressed replay time live) compare as one; fin/rst must be equal.

Also checked: the GRO/LRO/TSO/GSO warning (offloads on) and its absence (off); periodic stats
every --stats-interval with capture.packets equal to the capture's packet count,
kernel_drops/if_drops 0 and per-worker queue counters; idle flows time out on the wall clock
while no packet arrives; --user nobody (uid in /proc/PID/status, capture goes on, output and
pidfile handed over, rotation + SIGHUP reopens as nobody); --pidfile written 0644 and removed;
SIGTERM ends every flow (reason shutdown) and exits 0.

Needs root, `ip netns`, veth, tcpreplay and ethtool: otherwise it skips (77) and says why.
The zero-drop rate measurement is scripts/bench-live, not here.

replay_and_capture() and compare_events() are meant for reuse (e.g. a SIGHUP during replay:
pass during=lambda run: run.signal(signal.SIGHUP)).
"""

import collections
import json
import os
import pwd
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

SHARED = [  # Ethernet captures: HTTP, SMTP, reassembly oddities, IPv6, VLAN/MPLS
    "http/zeek_http_methods.pcap",
    "reassembly/zeek_tcp_reassembly.pcap",
    "smtp/zeek_smtp.pcap",
    "ipv6/ndpi_http_ipv6.pcap",
    "encap/zeek_mixed-vlan-mpls.pcap",
    "http/ndpi_1kxun.pcap",
]
APP = ["http_basic_auth", "http_encodings", "http_forms", "http_gzip_chunked", "http_json",
       "http_multipart", "http_pipeline", "smtp_mime", "smtp_bdat", "raw_layers", "ftp",
       "imap_append", "dns_exfil"]
DLP = ["dlp_match", "dlp_transport"]
PPS = 2000            # replay rate: far below what a 2-core machine captures without loss
START_TIMEOUT = 180   # the sensor's first stats event (signature compile; slow under ASan)
SETTLE_TIMEOUT = 120  # all replayed packets counted

t = lwtest.Test("test_live")
t.need_binary()
env = t.env


# -- preconditions ------------------------------------------------------------------------------

def _quiet(cmd):
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def preflight():
    if os.geteuid() != 0:
        t.skip("needs root (network namespace, veth, raw sockets)")
    for tool in ("ip", "tcpreplay", "ethtool"):
        if not shutil.which(tool):
            t.skip("%s not installed (scripts/install-deps.sh --test installs tcpreplay, "
                   "ethtool and iproute2)" % tool)
    probe = "lwprobe%d" % os.getpid()
    p = _quiet(["ip", "netns", "add", probe])
    if p.returncode:
        t.skip("cannot create a network namespace: %s" % p.stderr.strip())
    _quiet(["ip", "netns", "del", probe])


# -- the veth pair --------------------------------------------------------------------------------

class Veth:
    """Namespace NS with end `cap` (the sensor's), end `rep` outside (tcpreplay's)."""

    def __init__(self):
        n = os.getpid() % 100000
        self.ns = "lwlive%d" % n
        self.cap = "lwc%d" % n
        self.rep = "lwr%d" % n

    def nsexec(self, cmd):
        return ["ip", "netns", "exec", self.ns] + cmd

    def _must(self, cmd):
        p = _quiet(cmd)
        if p.returncode:
            raise RuntimeError("%s: %s" % (" ".join(cmd), p.stderr.strip()))

    def up(self):
        self.down()
        self._must(["ip", "netns", "add", self.ns])
        self._must(["ip", "link", "add", self.cap, "type", "veth", "peer", "name", self.rep])
        self._must(["ip", "link", "set", self.cap, "netns", self.ns])
        # no IPv6 (router solicitations, MLD) and no address: the kernel sends nothing itself
        _quiet(self.nsexec(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.cap]))
        _quiet(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.rep])
        self._must(self.nsexec(["ip", "link", "set", self.cap, "mtu", "65535", "up"]))
        self._must(["ip", "link", "set", self.rep, "mtu", "65535", "up"])

    def offloads(self, on):
        state = "on" if on else "off"
        for cmd in (self.nsexec(["ethtool", "-K", self.cap]), ["ethtool", "-K", self.rep]):
            # lro is fixed off on veth: ethtool may say so; what matters is checked below
            _quiet(cmd + ["gro", state, "tso", state, "gso", state])
            if not on:
                _quiet(cmd + ["lro", "off"])

    def down(self):
        _quiet(["ip", "netns", "del", self.ns])  # takes the veth pair with it
        _quiet(["ip", "link", "del", self.rep])


# -- a live sensor ------------------------------------------------------------------------------

class LiveRun:
    """One `leakwatch -i` inside the namespace writing -o FILE; polled, then stopped."""

    def __init__(self, veth, args, workdir, label):
        self.label = label
        self.out = os.path.join(workdir, "events.json")
        self.err_path = os.path.join(workdir, "stderr.txt")
        self.rc = None
        self.stderr = ""
        self.events = []
        self.started = time.time()
        cmd = veth.nsexec([env.bin, "-i", veth.cap, "-o", self.out] + [str(a) for a in args])
        self._errf = open(self.err_path, "wb")
        # `ip netns exec` execs the command: the child's pid is the sensor's
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._errf, cwd=env.source)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def read(self, path=None):
        """Complete lines written so far (the last one may still be in progress)."""
        try:
            with open(path or self.out, "rb") as fp:
                data = fp.read()
        except OSError:
            return []
        data = data[:data.rfind(b"\n") + 1]
        events, _ = lwtest.parse_json_lines(data)
        return events

    def stats(self, path=None):
        return [e["stats"] for e in self.read(path) if e.get("event_type") == "stats"]

    def wait_for(self, cond, timeout, step=0.2):
        """Polls cond() until true (returns True), the sensor exits or timeout passes."""
        end = time.time() + timeout
        while time.time() < end:
            if cond():
                return True
            if not self.alive():
                return bool(cond())
            time.sleep(step)
        return bool(cond())

    def wait_started(self):
        return self.wait_for(lambda: len(self.stats()) > 0, START_TIMEOUT)

    def stop(self, timeout=120):
        """SIGTERM, wait; parses the output file with the harness's strictness."""
        self.stopped = time.time()
        self.signal(signal.SIGTERM)
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.rc = self.proc.wait()
            t.ok(False, "%s: ends within %d s of SIGTERM" % (self.label, timeout))
        self._errf.close()
        with open(self.err_path, "rb") as fp:
            self.stderr = fp.read().decode("utf-8", "replace")
        res = lwtest.Result([self.label], self.rc, b"", self.stderr, self.stopped - self.started)
        res.timeout = timeout
        t.hygiene(res, self.label, parse=False)
        self.events = t.read_events(self.out, self.label) if os.path.exists(self.out) else []
        return self.rc

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()


def pcap_packets(path):
    """Packet records in a classic pcap file."""
    with open(path, "rb") as fp:
        hdr = fp.read(24)
        endian = "<" if hdr[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        n = 0
        while True:
            rec = fp.read(16)
            if len(rec) < 16:
                return n
            caplen = struct.unpack(endian + "IIII", rec)[2]
            fp.seek(caplen, 1)
            n += 1


def concat_pcaps(paths, out):
    """One classic pcap with every record of paths in order (same link type and byte order)."""
    with open(out, "wb") as w:
        first = None
        for p in paths:
            with open(p, "rb") as fp:
                hdr = fp.read(24)
                if first is None:
                    first = hdr
                    w.write(hdr)
                elif hdr[:4] != first[:4] or hdr[20:24] != first[20:24]:
                    raise RuntimeError("%s: another pcap format or link type" % p)
                shutil.copyfileobj(fp, w)
    return out


def tcpreplay(veth, pcap, rate):
    cmd = ["tcpreplay", "-i", veth.rep] + rate + [pcap]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def replay_and_capture(veth, pcap, sensor_args, label, rate=None, during=None, workdir=None,
                       expect_packets=None):
    """Starts the sensor (--stats-interval 1 unless given), waits for its first stats event,
    replays pcap into the veth at rate (default --pps PPS), calls during(run) while tcpreplay
    runs, waits until a stats event has counted every packet, then SIGTERM. Returns the
    LiveRun (rc, events, stderr) with .replayed (tcpreplay's report) and .settled."""
    workdir = workdir or env.scratch("live-" + label.replace(" ", "-").replace("/", "_"))
    args = list(sensor_args)
    if "--stats-interval" not in args:
        args += ["--stats-interval", "1"]
    run = LiveRun(veth, args, workdir, label)
    run.replayed, run.settled = "", False
    if not run.wait_started():
        run.stop()
        t.ok(False, "%s: the sensor started capturing (a stats event) within %d s"
             % (label, START_TIMEOUT), run.stderr[-2000:])
        return run
    rp = tcpreplay(veth, pcap, rate or ["--pps", str(PPS)])
    if during:
        during(run)
    run.replayed = rp.communicate()[0]
    t.ok(rp.returncode == 0, "%s: tcpreplay succeeds" % label, run.replayed[-800:])
    want = expect_packets if expect_packets is not None else pcap_packets(pcap)
    run.settled = run.wait_for(
        lambda: any(s["capture"]["packets"] >= want for s in run.stats()), SETTLE_TIMEOUT)
    run.stop()
    return run


# -- comparing live with offline ------------------------------------------------------------------

ENDED = {"eof", "shutdown", "timeout"}  # "the capture ended / time passed": timing-dependent
# nDPI risks judged against the packet time: a 2016 certificate replayed today has expired
TIME_RISKS = {"TLS Expired Certificate"}


def canonical(events):
    """Multiset of alert, flow and error events as JSON strings, time-dependent fields out."""
    rank = {}
    by_cid = collections.defaultdict(list)
    for e in events:
        if e.get("event_type") == "flow":
            by_cid[e.get("community_id")].append(e)
    for cid, flows in by_cid.items():
        flows.sort(key=lambda f: (lwtest.parse_timestamp(f["flow"]["start"]) or 0,
                                  f["flow_id"]))
        for i, f in enumerate(flows):
            rank[f["flow_id"]] = [cid, i]
    out = collections.Counter()
    for e in events:
        et = e.get("event_type")
        if et not in ("alert", "flow", "error"):
            continue
        e = dict(e)
        e.pop("timestamp", None)
        e.pop("pcap", None)
        if "flow_id" in e:
            e["flow_id"] = rank.get(e["flow_id"], "no flow event")
        if isinstance(e.get("ndpi"), dict) and "risks" in e["ndpi"]:
            nd = dict(e["ndpi"])
            nd["risks"] = [r for r in nd["risks"] if r not in TIME_RISKS]
            if not nd["risks"]:
                del nd["risks"]
            e["ndpi"] = nd
        if et == "flow":
            fl = dict(e["flow"])
            fl.pop("start", None)
            fl.pop("end", None)
            if fl.get("reason") in ENDED:
                fl["reason"] = "ended"
            e["flow"] = fl
        out[json.dumps(e, sort_keys=True)] += 1
    return out


def compare_events(offline, live, label):
    """The live run's alerts, flows and errors equal the offline run's (see canonical)."""
    a, b = canonical(offline), canonical(live)
    n_alerts = sum(1 for e in offline if e.get("event_type") == "alert")
    n_flows = sum(1 for e in offline if e.get("event_type") == "flow")
    t.ok(n_alerts > 0 or "shared" in label, "%s: the offline run alerts" % label,
         "%d alerts" % n_alerts)
    t.eq(sum(1 for e in live if e.get("event_type") == "alert"), n_alerts,
         "%s: live alert count" % label)
    t.eq(sum(1 for e in live if e.get("event_type") == "flow"), n_flows,
         "%s: live flow count" % label)
    only_off, only_live = a - b, b - a
    t.ok(not only_off and not only_live, "%s: live events equal offline (%d events)"
         % (label, sum(a.values())),
         "offline only: %s; live only: %s" % ([k[:600] for k in list(only_off)[:2]],
                                              [k[:600] for k in list(only_live)[:2]]))
    # fields compared above, named: the alert identity the SIEM sees
    def ids(evs):
        return collections.Counter(
            (e["alert"]["signature_id"], e.get("community_id"), e.get("src_ip"),
             e.get("src_port"), e.get("dest_ip"), e.get("dest_port"),
             (e.get("match") or {}).get("fingerprint"), (e.get("match") or {}).get("redacted"),
             (e.get("match") or {}).get("layer"), (e.get("match") or {}).get("stream_offset"))
            for e in evs if e.get("event_type") == "alert")
    t.eq(ids(live), ids(offline), "%s: same (signature, flow, value, layer, offset) set" % label)


def offline_run(pcap, args, label):
    res = t.run(["-r", pcap] + list(args), label=label)
    t.eq(res.rc, 0, "%s exits 0" % label)
    return res


def check_live_run(run, pcap, label, workers=2):
    """What every clean live run must show: exit 0 on SIGTERM, the packet count, no drops,
    stats every second, the flows ended by SIGTERM marked shutdown."""
    want = pcap_packets(pcap)
    t.eq(run.rc, 0, "%s: SIGTERM exits 0" % label)
    t.ok(run.settled, "%s: every replayed packet counted before SIGTERM" % label,
         run.replayed[-400:])
    stats = [e["stats"] for e in run.events if e.get("event_type") == "stats"]
    if not t.ok(stats, "%s: stats events written" % label):
        return
    final = stats[-1]
    cap = final["capture"]
    t.eq(cap["packets"], want, "%s: capture.packets == the capture's packets" % label)
    t.eq(cap["kernel_drops"], 0, "%s: capture.kernel_drops at %d pps" % (label, PPS))
    t.eq(cap["if_drops"], 0, "%s: capture.if_drops" % label)
    disp = final["dispatch"]
    t.eq(disp["queue_drops"], 0, "%s: dispatch.queue_drops" % label)
    if workers > 1:
        per = disp.get("workers", [])
        t.eq(len(per), workers, "%s: dispatch.workers lists every worker" % label)
        t.eq(sum(w["queued"] for w in per), disp["queued"], "%s: per-worker queued add up" % label)
        t.eq(sum(w["queue_drops"] for w in per), disp["queue_drops"],
             "%s: per-worker queue_drops add up" % label)
        t.ok(all(w["queued"] > 0 for w in per), "%s: both workers got packets" % label, str(per))
    # periodic: one a second from the first (start-up excluded) to SIGTERM, plus the final one
    periodic = stats[:-1]
    span = run.stopped - run.started
    t.ok(len(periodic) >= 2, "%s: periodic stats events (--stats-interval 1)" % label,
         "%d in %.1f s" % (len(periodic), span))
    t.ok(len(periodic) <= span + 2, "%s: at most one stats event a second" % label,
         "%d in %.1f s" % (len(periodic), span))
    ups = [s["uptime"] for s in stats]
    t.ok(all(b >= a for a, b in zip(ups, ups[1:])), "%s: stats uptime never goes back" % label,
         str(ups))
    pk = [s["capture"]["packets"] for s in stats]
    t.ok(all(b >= a for a, b in zip(pk, pk[1:])), "%s: stats totals only grow" % label, str(pk))
    flows = [e for e in run.events if e.get("event_type") == "flow"]
    reasons = collections.Counter(f["flow"]["reason"] for f in flows)
    t.ok(reasons.get("shutdown", 0) > 0, "%s: SIGTERM ends open flows with reason shutdown"
         % label, str(dict(reasons)))
    t.ok(set(reasons) <= {"fin", "rst", "shutdown", "timeout"}, "%s: live flow reasons" % label,
         str(dict(reasons)))
    t.eq(final["flow"]["active"], 0, "%s: no flow left active after SIGTERM" % label)


def uid_of(pid):
    try:
        with open("/proc/%d/status" % pid) as fp:
            for line in fp:
                if line.startswith("Uid:"):
                    return [int(x) for x in line.split()[1:]]
    except OSError:
        return None
    return None


# -- the test ------------------------------------------------------------------------------------

preflight()
veth = Veth()
try:
    veth.up()
except RuntimeError as e:
    veth.down()
    t.skip("cannot set up the veth pair: %s" % e)

try:
    config = lwtest.flows_all_config(env)
    dlp_dir = env.scratch("live-gen-dlp")
    app_dir = env.scratch("live-gen-app")
    for script, d in (("gen_dlp_pcaps.py", dlp_dir), ("gen_app_pcaps.py", app_dir)):
        p = subprocess.run([sys.executable, os.path.join(env.source, "scripts", script), d],
                           capture_output=True, text=True)
        if p.returncode == 77:
            t.skip("%s cannot run: %s" % (script, p.stderr.strip()))
        if p.returncode:
            t.ok(False, "%s runs" % script, p.stderr[-800:])
            t.finish()
    gen_pcap = concat_pcaps([os.path.join(app_dir, n + ".pcap") for n in APP]
                            + [os.path.join(dlp_dir, n + ".pcap") for n in DLP],
                            os.path.join(env.work, "live-generated.pcap"))

    # 1. offloads: the start-up warning when they are on, silence when they are off
    t.section("offload warning")
    veth.offloads(True)
    run = LiveRun(veth, ["-c", config, "--stats-interval", "1"], env.scratch("live-offload-on"),
                  "offloads on")
    started = run.wait_started()
    run.stop()
    t.ok(started, "sensor starts with offloads on", run.stderr[-800:])
    warn = [ln for ln in run.stderr.splitlines() if "offloads on" in ln]
    t.ok(warn, "a warning names the offloads that are on", run.stderr[-800:])
    if warn:
        t.ok("tso" in warn[0] and "gso" in warn[0], "the warning names tso and gso", warn[0])
        t.ok("ethtool -K %s gro off lro off tso off gso off" % veth.cap in warn[0],
             "the warning gives the ethtool fix", warn[0])
    veth.offloads(False)
    run = LiveRun(veth, ["-c", config, "--stats-interval", "1"], env.scratch("live-offload-off"),
                  "offloads off")
    started = run.wait_started()
    run.stop()
    t.ok(started, "sensor starts with offloads off", run.stderr[-800:])
    t.ok("offloads on" not in run.stderr, "no offload warning with offloads off",
         run.stderr[-800:])

    # 2. generated captures: HTTP, SMTP, IMAP, FTP, DNS, raw TCP; 2 workers, pidfile
    t.section("generated captures live == offline")
    off = offline_run(gen_pcap, ["-c", config, "--workers", "2"], "offline generated")
    work = env.scratch("live-generated")
    pidfile = os.path.join(work, "leakwatch.pid")
    seen_pid = {}

    def look_at_pidfile(run):
        try:
            with open(pidfile) as fp:
                seen_pid["text"] = fp.read()
            seen_pid["mode"] = os.stat(pidfile).st_mode & 0o777
        except OSError as e:
            seen_pid["error"] = str(e)

    run = replay_and_capture(veth, gen_pcap, ["-c", config, "--workers", "2", "--pidfile",
                                              pidfile], "live generated",
                             during=look_at_pidfile, workdir=work)
    check_live_run(run, gen_pcap, "live generated")
    compare_events(off.events, run.events, "generated")
    off_generated = off
    t.section("--pidfile")
    t.eq(seen_pid.get("text"), "%d\n" % run.pid, "pidfile holds the sensor's pid")
    t.eq(seen_pid.get("mode"), 0o644, "pidfile mode 0644")
    t.ok(not os.path.exists(pidfile), "pidfile removed at exit")
    t.eq(os.stat(run.out).st_mode & 0o777, 0o640, "output file mode 0640")

    # 3. real captures from ../shared (each sensor reads them as one concatenated capture)
    t.section("shared captures live == offline")
    if env.shared:
        paths = [os.path.join(env.shared_pcaps(), rel) for rel in SHARED]
        paths = [p for p in paths if os.path.exists(p)]
        shared_pcap = concat_pcaps(paths, os.path.join(env.work, "live-shared.pcap"))
        off = offline_run(shared_pcap, ["-c", config, "--workers", "2"], "offline shared")
        run = replay_and_capture(veth, shared_pcap, ["-c", config, "--workers", "2"],
                                 "live shared")
        check_live_run(run, shared_pcap, "live shared")
        compare_events(off.events, run.events, "shared")
    else:
        t.note("../shared not found: shared captures skipped")

    # 3b. SIGHUP while packets flow: the signatures are recompiled and swapped in, no packet
    # is lost and the events are still those of the offline run
    t.section("SIGHUP reload during replay")

    def reload_twice(run):
        for _ in range(2):
            run.signal(signal.SIGHUP)
            time.sleep(1.0)

    run = replay_and_capture(veth, gen_pcap, ["-c", config, "--workers", "2"],
                             "live reload", during=reload_twice)
    check_live_run(run, gen_pcap, "live reload")
    compare_events(off_generated.events, run.events, "reload during replay")
    reloads = [e["stats"]["detect"].get("signature_reloads") for e in run.events
               if e.get("event_type") == "stats"]
    t.ok(reloads and reloads[-1] >= 1, "stats count the reloads done during the replay",
         str(reloads[-3:]))
    t.ok("signatures reloaded (generation" in run.stderr, "stderr reports the reload",
         run.stderr[-1000:])

    # 4. idle flows end on the wall clock while nothing arrives (the read-timeout path)
    t.section("idle timeout on the wall clock")
    idle_cfg = lwtest.write_config(os.path.join(env.work, "live-idle.yaml"),
                                   "output:\n  flows: all\n  fingerprint_key: %s\n"
                                   "flow:\n  udp_timeout: 2\n  tcp_timeout: 3\n"
                                   % lwtest.fingerprint_key_file(env))
    idle_pcap = os.path.join(app_dir, "dns_exfil.pcap")
    work = env.scratch("live-idle")
    run = LiveRun(veth, ["-c", idle_cfg, "--workers", "2", "--stats-interval", "1"], work,
                  "live idle")
    if t.ok(run.wait_started(), "sensor started", run.stderr[-800:]):
        rp = tcpreplay(veth, idle_pcap, ["--pps", str(PPS)])
        rp.communicate()
        want = pcap_packets(idle_pcap)
        got_all = run.wait_for(lambda: any(s["capture"]["packets"] >= want
                                           for s in run.stats()), SETTLE_TIMEOUT)
        t.ok(got_all, "every packet counted")
        replay_end = time.time()
        n_flows = len([e for e in offline_run(idle_pcap, ["-c", idle_cfg], "offline idle").events
                       if e.get("event_type") == "flow"])

        def timed_out():
            return [e for e in run.read() if e.get("event_type") == "flow"
                    and e["flow"]["reason"] == "timeout"]
        ok = run.wait_for(lambda: len(timed_out()) >= n_flows, 60)
        waited = time.time() - replay_end
        t.ok(ok, "every flow times out while the link is idle (no packet, no SIGTERM)",
             "%d of %d after %.1f s" % (len(timed_out()), n_flows, waited))
        t.ok(waited >= 1.0, "not before the timeout", "%.1f s" % waited)
        ts = [lwtest.parse_timestamp(s_ts) for s_ts in
              [e["timestamp"] for e in run.read() if e.get("event_type") == "stats"]]
        t.ok(ts and ts[-1] / 1e6 > replay_end - 5, "stats time follows the wall clock when idle")
        run.stop()
        t.eq(run.rc, 0, "SIGTERM exits 0")
        t.eq(len([e for e in run.events if e.get("event_type") == "flow"]), n_flows,
             "each flow reported once")
    else:
        run.stop()

    # 5. --user nobody: root dropped once the handle is open, capture goes on, files handed over
    t.section("--user nobody")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        nobody = None
    if nobody is None:
        t.note("no user nobody: skipped")
    else:
        work = tempfile.mkdtemp(prefix="lw-live-user-", dir="/tmp")
        os.chmod(work, 0o1777)  # nobody may create the rotated file and remove its pidfile
        pidfile = os.path.join(work, "leakwatch.pid")
        small = os.path.join(app_dir, "http_json.pcap")
        seen = {}

        def check_dropped(run):
            seen["uid"] = uid_of(run.pid)
            try:
                st_out, st_pid = os.stat(run.out), os.stat(pidfile)
                seen["owners"] = (st_out.st_uid, st_pid.st_uid)
            except OSError as e:
                seen["owners"] = str(e)
            # log rotation: move the file away, SIGHUP, the sensor (now nobody) creates it anew
            os.rename(run.out, run.out + ".1")
            run.signal(signal.SIGHUP)
            seen["reopened"] = run.wait_for(lambda: os.path.exists(run.out), 30)

        run = replay_and_capture(veth, small, ["-c", config, "--workers", "2", "--user",
                                               "nobody", "--pidfile", pidfile], "live --user",
                                 during=check_dropped, workdir=work)
        t.eq(seen.get("uid"), [nobody.pw_uid] * 4, "real/effective/saved/fs uid are nobody's")
        t.eq(seen.get("owners"), (nobody.pw_uid, nobody.pw_uid),
             "output file and pidfile handed to nobody")
        t.ok(seen.get("reopened"), "after rotation + SIGHUP the sensor (as nobody) reopens")
        t.eq(run.rc, 0, "SIGTERM exits 0")
        t.ok(run.settled, "capture goes on after the drop: every packet counted")
        if os.path.exists(run.out):
            t.eq(os.stat(run.out).st_uid, nobody.pw_uid, "the reopened file is nobody's")
            t.eq(os.stat(run.out).st_mode & 0o777, 0o640, "the reopened file is 0640")
        events = t.read_events(run.out + ".1", "rotated") + run.events
        t.ok(any(e.get("event_type") == "alert" for e in events), "alerts written as nobody")
        t.ok(not os.path.exists(pidfile), "pidfile removed at exit (as nobody)")
        shutil.rmtree(work, ignore_errors=True)
finally:
    veth.down()

t.finish()
