"""lwtest.py — shared helpers for leakwatch's end-to-end tests (Python 3 stdlib only).

Environment (set by tests/CMakeLists.txt; defaults let a developer run a test by hand):
  LW_BIN         the leakwatch binary            (default <source>/build/leakwatch)
  LW_SOURCE_DIR  the source tree                 (default: two levels above this file)
  LW_SHARED_DIR  <source>/../shared, may be absent on a user's fresh clone
  LW_WORK_DIR    scratch directory               (default <source>/build/e2e-work)

A test creates one Test, calls its checks, and ends with t.finish(), which prints
"N passed, N failed" and exits 1 on any failure. t.skip() exits 77 (ctest SKIP_RETURN_CODE).
Every sensor run is checked for sanitizer reports and for output that is not strict JSON Lines;
either counts as a failure of the test that ran it.
"""

import datetime
import hashlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import time

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")
TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})(Z|[+-]\d{2}:?\d{2})$")
DEFAULT_HOME_NET = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]
DAMAGED_SHARED = {  # MANIFEST.md "Damaged files": path -> 1-based number of the damaged record
    "malformed/sv_http-mime-truncated.pcap": 2697,
    "malformed/ndpi_fuzz-2021-10-13.pcap": 2,
    # record 2 claims a 1.4 GB capture length: libpcap stops there (tshark, more lenient,
    # shows it as a 1-byte frame and stops at record 3)
    "malformed/sv_bug-6875-01__fuzz.pcap": 2,
    "malformed/sv_bug-1450-04__tls_DER-incomplete-header.pcap": 7,
}

_HERE = os.path.dirname(os.path.abspath(__file__))


class Env:
    def __init__(self):
        self.source = os.environ.get("LW_SOURCE_DIR") or os.path.dirname(os.path.dirname(_HERE))
        self.bin = os.environ.get("LW_BIN") or os.path.join(self.source, "build", "leakwatch")
        shared = os.environ.get("LW_SHARED_DIR") or os.path.join(self.source, "..", "shared")
        self.shared = shared if os.path.isdir(shared) else None
        self.work = os.environ.get("LW_WORK_DIR") or os.path.join(self.source, "build",
                                                                  "e2e-work")
        os.makedirs(self.work, exist_ok=True)

    def shared_pcaps(self):
        return os.path.join(self.shared, "pcaps") if self.shared else None

    def scratch(self, name):
        """A fresh empty directory under LW_WORK_DIR."""
        path = os.path.join(self.work, name)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        return path


class Result:
    """One sensor run: exit code, raw output, and the events parsed from JSON Lines."""

    def __init__(self, args, rc, stdout, stderr, elapsed):
        self.args = args
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed
        self.events = []
        self.json_errors = []

    def of_type(self, event_type):
        return [e for e in self.events if e.get("event_type") == event_type]

    @property
    def flows(self):
        return self.of_type("flow")

    @property
    def stats(self):
        s = self.of_type("stats")
        return s[-1]["stats"] if s else None


def parse_json_lines(data):
    """Strictly parses JSON Lines bytes: (events, errors). Every line must be UTF-8, one JSON
    object, and end with a newline (never a partial line)."""
    events, errors = [], []
    if not data:
        return events, errors
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return events, ["output is not UTF-8: %s" % e]
    if not text.endswith("\n"):
        errors.append("output does not end with a newline (partial last line)")
    for n, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"),
                             1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            errors.append("line %d is not JSON (%s): %.120r" % (n, e, line))
            continue
        if not isinstance(obj, dict):
            errors.append("line %d is not a JSON object" % n)
            continue
        events.append(obj)
    return events, errors


def parse_timestamp(ts):
    """RFC 3339 timestamp with microseconds -> microseconds since the epoch, or None."""
    m = TIMESTAMP_RE.match(ts) if isinstance(ts, str) else None
    if not m:
        return None
    y, mo, d, h, mi, s, us, off = m.groups()
    dt = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s),
                           tzinfo=datetime.timezone.utc)
    usec = int(dt.timestamp()) * 1000000 + int(us)
    if off != "Z":
        sign = 1 if off[0] == "+" else -1
        digits = off[1:].replace(":", "")
        usec -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * 1000000
    return usec


def event_problems(ev):
    """What is wrong with the fields every event must have (section 5)."""
    problems = []
    if parse_timestamp(ev.get("timestamp")) is None:
        problems.append("bad timestamp %r" % (ev.get("timestamp"),))
    if not isinstance(ev.get("event_type"), str):
        problems.append("no event_type")
    if not isinstance(ev.get("sensor"), str):
        problems.append("no sensor name")
    return problems


def pcap_records(path):
    """A classic pcap file as (file header, [record bytes]) for feeding a sensor in parts."""
    with open(path, "rb") as fp:
        data = fp.read()
    recs, off = [], 24
    while off < len(data):
        n = int.from_bytes(data[off + 8:off + 12], "little")
        recs.append(data[off:off + 16 + n])
        off += 16 + n
    return data[:24], recs


def wait_stderr(proc, text, buf, timeout=30):
    """Reads proc's stderr into buf[0] until text appears (or timeout); True if it did."""
    import select
    end = time.time() + timeout
    while text not in buf[0] and time.time() < end:
        r, _, _ = select.select([proc.stderr], [], [], 0.5)
        if r:
            chunk = os.read(proc.stderr.fileno(), 65536)
            if not chunk:
                break
            buf[0] += chunk.decode("utf-8", "replace")
    return text in buf[0]


def wait_drained(pipe, timeout=60):
    """Until the reader has taken every byte written to pipe (FIONREAD on the write end)."""
    import fcntl
    import termios
    end = time.time() + timeout
    while time.time() < end:
        n = fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0\0\0\0")
        if int.from_bytes(n, sys.byteorder) == 0:
            time.sleep(0.3)  # and processed them
            return True
        time.sleep(0.05)
    return False


def write_config(path, text):
    """Writes a YAML config file (text as given) and returns its path."""
    with open(path, "w") as fp:
        fp.write(text)
    return path


FINGERPRINT_KEY = b"leakwatch-test-fingerprint-key-0123456789abcdef"


def fingerprint_key_file(env):
    """A 0600 key file for output.fingerprint_key, so fingerprints are the same in every run
    (and can be recomputed: HMAC-SHA-256 of the value under FINGERPRINT_KEY)."""
    # Tests run in parallel and share it: written under a private name, then renamed into place,
    # so a sensor of another test never opens it half-written (an empty key is refused).
    path = os.path.join(env.work, "fingerprint.key")
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fp:
        fp.write(FINGERPRINT_KEY + b"\n")
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)
    return path


def flows_all_config(env, extra=""):
    """The config most tests use: every flow is logged, fingerprints under a fixed key."""
    return write_config(os.path.join(env.work, "flows-all.yaml"),
                        "output:\n  flows: all\n  fingerprint_key: %s\n" % fingerprint_key_file(env)
                        + extra)


def sha256_file(path):
    with open(path, "rb") as fp:
        return hashlib.sha256(fp.read()).hexdigest()


def in_nets(addr, nets):
    a = ipaddress.ip_address(addr)
    return any(a.version == n.version and a in n for n in nets)


def expected_egress(flow, home_net):
    """Egress payload bytes of a flow (section 2): bytes a home address sent to a non-home one.
    flow carries src_ip/dest_ip and payload_bytes_toserver/toclient."""
    nets = [ipaddress.ip_network(n) for n in home_net]
    src_home, dst_home = in_nets(flow["src_ip"], nets), in_nets(flow["dest_ip"], nets)
    if src_home and not dst_home:
        return flow["payload_bytes_toserver"]
    if dst_home and not src_home:
        return flow["payload_bytes_toclient"]
    return 0


class Test:
    """Pass/fail accounting plus a sensor runner that checks every run's hygiene."""

    def __init__(self, name):
        self.name = name
        self.env = Env()
        self.passed = 0
        self.failed = 0
        self.t0 = time.time()
        self._section = None
        self._section_pass = 0
        self._section_fail = 0
        self._failures = []  # repeated by finish(): CI shows a log's tail, not its middle

    # -- accounting -------------------------------------------------------------------------

    def section(self, name):
        """Groups the following checks; a summary line is printed when the next one starts."""
        self.end_section()
        self._section = name
        self._section_pass = self._section_fail = 0

    def end_section(self):
        if self._section is not None:
            status = "ok  " if not self._section_fail else "FAIL"
            print("%s %s: %d checks passed, %d failed" % (status, self._section,
                                                            self._section_pass,
                                                            self._section_fail))
            sys.stdout.flush()
        self._section = None

    def ok(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            self._section_pass += 1
            if self._section is None:
                print("PASS: %s" % what)
        else:
            self.failed += 1
            self._section_fail += 1
            where = "[%s] " % self._section if self._section else ""
            line = "FAIL: %s%s%s" % (where, what, (": " + detail) if detail else "")
            print(line)
            self._failures.append(line[:400])
        return bool(cond)

    def eq(self, got, want, what):
        return self.ok(got == want, what, "got %r, want %r" % (got, want))

    def note(self, text):
        print("  " + text)

    def skip(self, reason):
        self.end_section()
        print("SKIP: %s" % reason)
        sys.exit(77)

    def need_shared(self):
        if not self.env.shared:
            self.skip("../shared not found (CI always has it)")
        return self.env.shared_pcaps()

    def need_binary(self):
        if not (os.path.isfile(self.env.bin) and os.access(self.env.bin, os.X_OK)):
            print("FAIL: leakwatch binary not found at %s (set LW_BIN)" % self.env.bin)
            self.failed += 1
            self.finish()

    def finish(self):
        self.end_section()
        print("%s: %.1f s" % (self.name, time.time() - self.t0))
        if self._failures:
            print("failed checks (first %d of %d):" % (min(20, len(self._failures)), self.failed))
            for line in self._failures[:20]:
                print("  " + line)
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)

    # -- running the sensor -----------------------------------------------------------------

    def generate_twice(self, script, args, name):
        """Runs a capture generator (scripts/SCRIPT ARGS... OUTDIR) into two scratch directories
        at once, checks both wrote the same bytes (generators are deterministic), and returns
        (outdir, stdout). Exit 77 from the generator skips the test; another failure ends it."""
        gen = os.path.join(self.env.source, "scripts", script)
        out_a, out_b = self.env.scratch(name), self.env.scratch(name + "-again")
        procs = [subprocess.Popen([sys.executable, gen] + list(args) + [d],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for d in (out_a, out_b)]
        outs = [p.communicate() for p in procs]
        for p, (_, se) in zip(procs, outs):
            if p.returncode == 77:
                self.skip("%s cannot run: %s" % (script, se.strip()))
            if p.returncode:
                print("FAIL: %s: rc %d: %s" % (script, p.returncode, se.strip()))
                self.failed += 1
                self.finish()
        self.section("generator")
        for f in sorted(os.listdir(out_a)):
            self.eq(sha256_file(os.path.join(out_a, f)), sha256_file(os.path.join(out_b, f)),
                    "%s is the same on every run" % f)
        return out_a, outs[0][0]

    def run(self, args, stdin=None, timeout=300, parse=True, label=None):
        """Runs LW_BIN with args; returns a Result. Sanitizer reports and malformed JSON Lines
        on stdout are failures (no pass is counted for a clean run)."""
        res = self.execute(args, stdin, timeout)
        self.hygiene(res, label or " ".join(str(a) for a in args), parse)
        return res

    def execute(self, args, stdin=None, timeout=300):
        """Runs LW_BIN only (no checks, no accounting): safe to call from several threads."""
        cmd = [self.env.bin] + [str(a) for a in args]
        t0 = time.time()
        try:
            # Without input the sensor gets /dev/null, never the terminal or ctest's stdin.
            stdin_kw = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
            p = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=self.env.source,
                               **stdin_kw)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = None, e.stdout or b"", e.stderr or b""
        res = Result(cmd, rc, out, err.decode("utf-8", "replace"), time.time() - t0)
        res.timeout = timeout
        return res

    def hygiene(self, res, label, parse=True):
        """The checks every run gets: it ended by itself, no sanitizer report, and (parse) its
        stdout is strict JSON Lines whose events carry the common fields."""
        if res.rc is None:
            self.ok(False, "%s finishes within %d s" % (label, res.timeout))
        elif res.rc < 0:
            self.ok(False, "%s is not killed by a signal" % label, "signal %d" % -res.rc)
        for marker in SANITIZER_MARKERS:
            if marker in res.stderr:
                self.ok(False, "%s: no sanitizer report" % label,
                        res.stderr[res.stderr.find(marker):][:2000])
                break
        if parse:
            res.events, res.json_errors = parse_json_lines(res.stdout)
            for e in res.json_errors[:5]:
                self.ok(False, "%s: stdout is strict JSON Lines" % label, e)
            bad = [(ev.get("event_type"), p) for ev in res.events for p in event_problems(ev)]
            for et, p in bad[:5]:
                self.ok(False, "%s: %s event has the common fields" % (label, et), p)

    def run_many(self, jobs, parallel=None):
        """jobs: list of (label, args). Runs them concurrently (default: one per CPU), then
        applies hygiene() in order. Returns [(label, Result)] in the order given."""
        import concurrent.futures
        parallel = parallel or os.cpu_count() or 2
        with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
            results = list(pool.map(lambda job: self.execute(job[1]), jobs))
        out = []
        for (label, _), res in zip(jobs, results):
            self.hygiene(res, label)
            out.append((label, res))
        return out

    def end_piped(self, proc, errbuf, label):
        """After a sensor fed through a pipe: kill it if it still runs, collect the rest of its
        stderr into errbuf[0], check it for sanitizer reports and the exit code 0."""
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errbuf[0] += proc.stderr.read().decode("utf-8", "replace")
        for marker in SANITIZER_MARKERS:
            self.ok(marker not in errbuf[0], "%s: no sanitizer report" % label, errbuf[0][:2000])
        self.eq(proc.returncode, 0, "%s exits 0" % label)

    def read_events(self, path, label):
        """Parses a JSON Lines output file with the same strictness as stdout."""
        try:
            with open(path, "rb") as fp:
                data = fp.read()
        except OSError as e:
            self.ok(False, "%s: output file readable" % label, str(e))
            return []
        events, errors = parse_json_lines(data)
        for e in errors[:5]:
            self.ok(False, "%s: output file is strict JSON Lines" % label, e)
        return events


# -- tshark helpers (agreement tests) -----------------------------------------------------------

TSHARK_MISSING = re.compile(rb"\[(\d+) bytes missing in capture file\]\x00?")


def tshark_follow_streams(path, streams):
    """Runs one tshark over path for several TCP streams: {stream: (node0, node1, data, gaps)}
    with data/gaps indexed 0 = bytes sent by node0, 1 = by node1. gaps: [offset, length]."""
    if not streams:
        return {}
    cmd = ["tshark", "-n", "-q", "-r", path]
    for s in streams:
        cmd += ["-z", "follow,tcp,raw,%d" % s]
    out = subprocess.run(cmd, capture_output=True, timeout=300).stdout.decode("ascii", "replace")
    result = {}
    blocks = out.split("===================================================================\n"
                       "Follow: tcp,raw\n")
    for block in blocks[1:]:
        m = re.match(r"Filter: tcp\.stream eq (\d+)\n", block)
        if not m:
            continue
        stream = int(m.group(1))
        nodes = {}
        data = {0: bytearray(), 1: bytearray()}
        gaps = {0: [], 1: []}
        gap_bytes = {0: 0, 1: 0}
        for line in block.split("\n")[1:]:
            if line.startswith("Node 0:") or line.startswith("Node 1:"):
                nodes[int(line[5])] = line.split(":", 1)[1].strip()
                continue
            if not line.strip() or line.startswith("==="):
                continue
            side = 1 if line.startswith("\t") else 0
            chunk = bytes.fromhex(line.strip())
            missing = TSHARK_MISSING.fullmatch(chunk)
            if missing:
                n = int(missing.group(1))
                gaps[side].append([len(data[side]) + gap_bytes[side], n])
                gap_bytes[side] += n
                continue
            data[side] += chunk
        result[stream] = (nodes.get(0), nodes.get(1), {k: bytes(v) for k, v in data.items()},
                          gaps)
    return result


def tshark_endpoint(ip, port):
    """How tshark's follow prints a node: 1.2.3.4:80 or [2001:db8::1]:80."""
    return ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port)


def have_tshark():
    return shutil.which("tshark") is not None
