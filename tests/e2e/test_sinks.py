#!/usr/bin/env python3
"""test_sinks.py — the event sinks (README "Event sinks") end to end, on the generated DLP
captures (scripts/gen_dlp_pcaps.py) with output.flows: all.

  sinks       unix_dgram, unix_stream (listeners opened here), syslog over UDP and TCP to a
              real rsyslogd on loopback (RFC 5424 framing and PRI checked), redis list and
              stream to a real redis-server: each receives exactly the events of a file run
  unreachable a sink that is down at start: the sensor runs, exits 0, counts what it lost
  redis_kill  redis-server killed while the sensor reads a slowly fed pipe, then restarted:
              the sensor keeps running, exits 0, and queued + dropped == generated, the
              events lost are no more than the dropped ones, reconnects counted
  sighup      the file renamed (logrotate) and SIGHUP: later events go to the new file,
              nothing lost
  throughput  events/s through each sink (printed, never asserted)

Needs redis-server/redis-cli and rsyslogd (install-deps.sh --test); a missing one skips
its section, all missing skips the test.
"""

import json
import os
import signal
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

t = lwtest.Test("test_sinks")
env = t.env
t.need_binary()
HAVE_REDIS = shutil.which("redis-server") and shutil.which("redis-cli")
RSYSLOGD = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd"
                                        if os.path.exists("/usr/sbin/rsyslogd") else None)
if not HAVE_REDIS and not RSYSLOGD:
    t.skip("neither redis-server nor rsyslogd installed (sh scripts/install-deps.sh --test)")

gen, _ = t.generate_twice("gen_dlp_pcaps.py", [], "sinks-gen")
with open(os.path.join(gen, "expected.json")) as fp:
    manifest = json.load(fp)
caps = manifest["captures"]
pcaps = [os.path.join(gen, caps[n]["file"]) for n in manifest["capture_order"]]
work = env.scratch("sinks")
READS = [a for p in pcaps for a in ("-r", p)]
SLOW = os.environ.get("LW_SANITIZED")


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(name, text):
    return lwtest.write_config(os.path.join(work, name + ".yaml"),
                            "output:\n  flows: all\n  fingerprint_key: %s\n%s"
                            % (lwtest.fingerprint_key_file(env), text))


def key(ev):
    return json.dumps(ev, sort_keys=True)


def split(events):
    """(sorted non-stats events as canonical JSON, the stats events)"""
    return (sorted(key(e) for e in events if e.get("event_type") != "stats"),
            [e for e in events if e.get("event_type") == "stats"])


def parse_lines(blobs, label):
    events = []
    for b in blobs:
        try:
            events.append(json.loads(b))
        except ValueError as e:
            t.ok(False, "%s: every message is JSON" % label, "%s: %.120r" % (e, b))
    return events


# -- the reference: a file run ---------------------------------------------------------------

t.section("reference")
ref_path = os.path.join(work, "ref.json")
res = t.run(["-c", config("ref", ""), "-o", ref_path] + READS, label="file reference")
t.eq(res.rc, 0, "file run exits 0")
ref_events = t.read_events(ref_path, "file reference")
REF, ref_stats = split(ref_events)
t.ok(len(REF) > 300, "the captures give many events", "%d" % len(REF))
t.eq(len(ref_stats), 1, "one stats event")
out_stats = ref_stats[0]["stats"]["output"] if ref_stats else {}
t.eq(out_stats.get("events_written"), len(ref_events), "stats.output.events_written = lines")
t.eq(out_stats.get("queued"), len(ref_events), "stats.output.queued = lines")
for k in ("dropped_queue_full", "dropped_at_exit", "write_errors", "reconnects",
          "queue_depth"):
    t.eq(out_stats.get(k), 0, "stats.output.%s is 0" % k)


def check_same(label, events, res):
    got, stats = split(events)
    t.eq(res.rc, 0, "%s: exit 0" % label)
    t.eq(len(got), len(REF), "%s: as many events as the file run" % label)
    t.ok(got == REF, "%s: the same events, field by field" % label,
         "first difference: %r" % next(((a[:200], b[:200]) for a, b in zip(got, REF) if a != b),
                                       None))
    t.eq(len(stats), 1, "%s: the stats event delivered" % label)
    if stats:
        o = stats[0]["stats"]["output"]
        t.eq(o.get("events_written"), len(events), "%s: events_written = events received" % label)
        t.eq(o.get("dropped_queue_full"), 0, "%s: nothing dropped" % label)
    t.ok("events not delivered" not in res.stderr, "%s: nothing left at exit" % label,
         res.stderr[-500:])


# -- unix sockets ----------------------------------------------------------------------------

class Listener:
    """A unix socket listener collecting messages (dgram) or lines (stream) in a thread."""

    def __init__(self, path, stream):
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX,
                                  socket.SOCK_STREAM if stream else socket.SOCK_DGRAM)
        self.sock.bind(path)
        if stream:
            self.sock.listen(4)
        self.stream, self.msgs, self.stop = stream, [], False
        self.sock.settimeout(0.2)
        self.th = threading.Thread(target=self.loop, daemon=True)
        self.th.start()

    def loop(self):
        buf = b""
        conn = None
        while not self.stop:
            try:
                if not self.stream:
                    self.msgs.append(self.sock.recv(1 << 20))
                    continue
                if conn is None:
                    conn, _ = self.sock.accept()
                    conn.settimeout(0.2)
                data = conn.recv(1 << 20)
                if not data:
                    conn.close()
                    conn = None
                    continue
                buf += data
                *lines, buf = buf.split(b"\n")
                self.msgs += lines
            except socket.timeout:
                continue
        if conn:
            conn.close()

    def close(self):
        self.stop = True
        self.th.join()
        self.sock.close()


for kind in ("unix_dgram", "unix_stream"):
    t.section(kind)
    path = os.path.join(work, kind + ".sock")
    lst = Listener(path, kind == "unix_stream")
    res = t.run(["-c", config(kind, "  type: %s\n  path: %s\n" % (kind, path))] + READS,
                label=kind)
    time.sleep(0.5)
    lst.close()
    if kind == "unix_dgram":
        t.ok(all(m.endswith(b"\n") and m.count(b"\n") == 1 for m in lst.msgs),
             "unix_dgram: one JSON line per datagram")
    check_same(kind, parse_lines(lst.msgs, kind), res)
    t.eq(res.stdout, b"", "%s: nothing on stdout" % kind)

# -- syslog (rsyslogd) -----------------------------------------------------------------------

SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5}


def start_rsyslog(name):
    d = env.scratch("sinks-" + name)
    port = free_port()
    conf = os.path.join(d, "rsyslog.conf")
    out = os.path.join(d, "messages.log")
    with open(conf, "w") as fp:
        fp.write('global(workDirectory="%s" maxMessageSize="1m")\n'
                 'module(load="imudp")\nmodule(load="imtcp")\n'
                 'input(type="imudp" address="127.0.0.1" port="%d" rcvbufSize="16m")\n'
                 'input(type="imtcp" address="127.0.0.1" port="%d")\n'
                 'template(name="raw" type="string" string="%%rawmsg%%\\n")\n'
                 'action(type="omfile" file="%s" template="raw")\n' % (d, port, port, out))
    p = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(d, "pid")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    time.sleep(0.3)  # the UDP input too
    return p, port, out


def read_syslog(out, want, label):
    lines = []
    for _ in range(100):
        if os.path.exists(out):
            with open(out, "rb") as fp:
                lines = fp.read().split(b"\n")[:-1]
            if len(lines) >= want:
                break
        time.sleep(0.1)
    events, bad = [], []
    for ln in lines:
        # <PRI>1 TIMESTAMP HOSTNAME APP PROCID MSGID SD MSG
        parts = ln.split(b" ", 7)
        if len(parts) != 8 or not parts[0].startswith(b"<") or not parts[0].endswith(b">1"):
            bad.append(ln[:120])
            continue
        pri = int(parts[0][1:-2])
        ok = (lwtest.TIMESTAMP_RE.match(parts[1].decode()) and parts[3] == b"leakwatch"
              and parts[4].isdigit() and parts[5] == b"-" and parts[6] == b"-")
        if not ok:
            bad.append(ln[:120])
            continue
        ev = parse_lines([parts[7]], label)
        if not ev:
            continue
        ev = ev[0]
        sev = SEVERITY.get(ev.get("alert", {}).get("severity"), 6) \
            if ev.get("event_type") == "alert" else 6
        if pri != 21 * 8 + sev:
            bad.append(b"PRI %d for %s" % (pri, ev.get("event_type", "?").encode()))
        events.append(ev)
    t.ok(not bad, "%s: RFC 5424 framing, PRI = local5 * 8 + severity" % label, repr(bad[:3]))
    return events


if RSYSLOGD:
    for transport in ("udp", "tcp"):
        label = "syslog " + transport
        t.section(label)
        rs, port, out = start_rsyslog(transport)
        res = t.run(["-c", config("syslog-" + transport,
                                  "  type: syslog\n  syslog: {server: 127.0.0.1, port: %d, "
                                  "transport: %s, facility: local5}\n" % (port, transport))]
                    + READS, label=label)
        events = read_syslog(out, len(ref_events), label)
        rs.terminate()
        rs.wait(10)
        check_same(label, events, res)
        t.ok(any(e.get("event_type") == "alert" for e in events), "%s: alerts arrive" % label)
else:
    t.note("rsyslogd not installed: syslog sections skipped")

# -- redis -----------------------------------------------------------------------------------


def start_redis(d, port, persist=False):
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--dir", d]
    args += ["--appendonly", "yes", "--appendfsync", "always"] if persist else \
        ["--appendonly", "no"]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                          timeout=10).stdout.strip() == b"PONG":
            break
        time.sleep(0.05)
    return p


def redis_read(port, rkey, stream):
    cmd = (["XRANGE", rkey, "-", "+"] if stream else ["LRANGE", rkey, "0", "-1"])
    out = subprocess.run(["redis-cli", "-p", str(port), "--raw"] + cmd, capture_output=True,
                         timeout=60).stdout.split(b"\n")[:-1]
    if stream:  # id, "eve", json per entry
        ok = all(out[i + 1] == b"eve" for i in range(0, len(out) - 2, 3))
        t.ok(ok and len(out) % 3 == 0, "redis stream: entries are {eve: JSON}")
        out = out[2::3]
    return out


if HAVE_REDIS:
    rd = env.scratch("sinks-redis")
    rport = free_port()
    rs = start_redis(rd, rport)
    for mode in ("list", "stream"):
        label = "redis " + mode
        t.section(label)
        res = t.run(["-c", config("redis-" + mode,
                                  "  type: redis\n  redis: {server: 127.0.0.1, port: %d, "
                                  "key: lw-%s, mode: %s}\n" % (rport, mode, mode))] + READS,
                    label=label)
        check_same(label, parse_lines(redis_read(rport, "lw-" + mode, mode == "stream"), label),
                   res)
    rs.terminate()
    rs.wait(10)

    t.section("unreachable")
    dead = free_port()
    t0 = time.time()
    res = t.run(["-c", config("redis-dead", "  type: redis\n  redis: {server: 127.0.0.1, "
                              "port: %d}\n" % dead)] + READS, label="redis down")
    t.eq(res.rc, 0, "a redis that is down at start is not fatal")
    t.ok("cannot connect to redis" in res.stderr, "said once on stderr", res.stderr[-300:])
    t.ok("%d events not delivered at exit" % len(ref_events) in res.stderr,
         "what was lost is counted (dropped_at_exit)", res.stderr[-300:])
    t.ok(time.time() - t0 < 30, "exit within the drain bound")

    # -- redis killed mid-run --------------------------------------------------------------
    t.section("redis_kill")
    one = pcaps[0]
    with open(one, "rb") as fp:
        data = fp.read()
    ref = t.run(["-c", config("ref-pipe", ""), "-r", "-"], stdin=data, label="pipe reference")
    REF_PIPE, _ = split(ref.events)
    kd = env.scratch("sinks-redis-kill")
    kport = free_port()
    rs = start_redis(kd, kport, persist=True)
    cmd = [env.bin, "-c", config("redis-kill", "  type: redis\n  queue_events: 20\n  redis: "
                                 "{server: 127.0.0.1, port: %d, key: k}\n" % kport), "-r", "-"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=env.source)
    chunks = 12
    step = len(data) // chunks + 1
    for i in range(chunks):
        if i == 3:
            rs.kill()
            rs.wait(10)
        if i == 8:
            rs = start_redis(kd, kport, persist=True)
        p.stdin.write(data[i * step:(i + 1) * step])
        p.stdin.flush()
        time.sleep(0.3)
    try:
        out, err = p.communicate(timeout=120)  # closes stdin: end of input
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    err = err.decode("utf-8", "replace")
    t.note("sensor stderr: " + err.strip().replace("\n", "\n    "))
    t.eq(p.returncode, 0, "the sensor keeps running and exits 0")
    got = parse_lines(redis_read(kport, "k", False), "redis_kill")
    rs.terminate()
    rs.wait(10)
    stats = [e for e in got if e.get("event_type") == "stats"]
    t.eq(len(stats), 1, "the final stats event is delivered")
    o = stats[0]["stats"]["output"] if stats else {}
    at_exit = 0
    for ln in err.splitlines():
        if "events not delivered at exit" in ln:
            at_exit = int(ln.split(": ")[1].split()[0])
    generated = len(REF_PIPE) + 1
    dropped = o.get("dropped_queue_full", 0) + at_exit
    t.eq(o.get("queued", 0) + o.get("dropped_queue_full", 0), generated,
         "queued + dropped_queue_full = events generated")
    got_set = set(key(e) for e in got if e.get("event_type") != "stats")
    t.ok(got_set <= set(REF_PIPE), "only events of the reference arrive")
    lost = len(set(REF_PIPE) - got_set)
    t.ok(lost <= dropped, "events lost (%d) no more than counted dropped (%d)" % (lost, dropped))
    t.ok(o.get("reconnects", 0) >= 1 and o.get("write_errors", 0) >= 1,
         "reconnects and write errors counted", repr(o))
    t.note("redis_kill: %d generated, %d received, %d dropped (queue full), %d at exit, "
           "%d reconnects" % (generated, len(got), o.get("dropped_queue_full", 0), at_exit,
                              o.get("reconnects", 0)))
else:
    t.note("redis-server not installed: redis sections skipped")

# -- SIGHUP after a rename ---------------------------------------------------------------------

t.section("sighup")
one = pcaps[0]
with open(one, "rb") as fp:
    data = fp.read()
ref = t.run(["-c", config("ref-pipe", ""), "-r", "-"], stdin=data, label="pipe reference")
REF_PIPE, _ = split(ref.events)
log = os.path.join(work, "rotate.json")
for f in (log, log + ".1"):
    if os.path.exists(f):
        os.unlink(f)
p = subprocess.Popen([env.bin, "-c", config("rotate", ""), "-o", log, "-r", "-"],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     cwd=env.source)
half = len(data) // 2
p.stdin.write(data[:half])
p.stdin.flush()
for _ in range(100):
    if os.path.exists(log) and os.path.getsize(log) > 0:
        break
    time.sleep(0.05)
time.sleep(0.3)
os.rename(log, log + ".1")
p.send_signal(signal.SIGHUP)
time.sleep(0.3)
p.stdin.write(data[half:])
p.communicate(timeout=120)  # closes stdin
t.eq(p.returncode, 0, "exit 0")
old = t.read_events(log + ".1", "rotated file")
new = t.read_events(log, "new file")
t.ok(len(old) > 0 and len(new) > 0, "events before and after the rotation",
     "%d / %d" % (len(old), len(new)))
both, st = split(old + new)
t.ok(both == REF_PIPE, "nothing lost, nothing twice across the two files",
     "%d vs %d" % (len(both), len(REF_PIPE)))
t.eq(len(st), 1, "the stats event is in the new file")

# -- throughput (printed, not asserted) --------------------------------------------------------

t.section("throughput")
REPEAT = 3 if SLOW else 25
big = READS * REPEAT


def measure(label, extra):
    """One run over the captures REPEAT times; the file run gives the event count."""
    t0 = time.time()
    tp = os.path.join(work, "tp.json")
    res = t.run(["-c", config("tp", extra)] + big + (["-o", tp] if not extra else []),
                label=label)
    el = time.time() - t0
    if not extra:
        evs = t.read_events(tp, label)
        measure.n = len(evs)
        measure.queue_max = evs[-1]["stats"]["output"]["queue_max"] if evs else None
    t.note("%-12s %6d events in %5.2f s: %7.0f events/s" % (label, measure.n, el,
                                                           measure.n / el))
    t.ok(res.rc == 0, "%s: exit 0" % label)
    t.ok("events not delivered" not in res.stderr, "%s: everything delivered" % label)


if os.path.exists(os.path.join(work, "tp.json")):
    os.unlink(os.path.join(work, "tp.json"))
measure("file", "")
t.note("(end to end: the sensor reads and inspects the captures at the same time, so these are "
       "its rate; file run queue_max %s)" % measure.queue_max)
for kind in ("unix_dgram", "unix_stream"):
    path = os.path.join(work, kind + "-tp.sock")
    lst = Listener(path, kind == "unix_stream")
    measure(kind, "  type: %s\n  path: %s\n" % (kind, path))
    lst.close()
    t.note("  %s listener received %d" % (kind, len(lst.msgs)))
if RSYSLOGD:
    for transport in ("udp", "tcp"):
        rs, port, out = start_rsyslog("tp-" + transport)
        measure("syslog " + transport, "  type: syslog\n  syslog: {server: 127.0.0.1, port: %d,"
                " transport: %s}\n" % (port, transport))
        time.sleep(1)
        rs.terminate()
        rs.wait(10)
        with open(out, "rb") as fp:
            t.note("  rsyslogd wrote %d" % fp.read().count(b"\n"))
if HAVE_REDIS:
    rd = env.scratch("sinks-redis-tp")
    rport = free_port()
    rs = start_redis(rd, rport)
    for mode in ("list", "stream"):
        measure("redis " + mode, "  type: redis\n  redis: {server: 127.0.0.1, port: %d, "
                "key: tp-%s, mode: %s}\n" % (rport, mode, mode))
    rs.terminate()
    rs.wait(10)

t.finish()
