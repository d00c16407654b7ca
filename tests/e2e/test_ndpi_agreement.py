#!/usr/bin/env python3
"""test_ndpi_agreement.py — our app_proto against Debian's ndpiReader on the shared captures.

Issue 4, requirement 4: on the captures in ../shared/pcaps, a flow event's app_proto must equal
the master protocol that ndpiReader (libndpi-bin, nDPI 4.2) reports for the same flow on at
least 95% of the flows both tools saw.

ndpiReader is run as `ndpiReader -i FILE -v 2` (one run per capture, in parallel). At verbosity
2 it lists every flow of its table at the end of the file, detected ones first, then under
"Undetected flows:", one line each:
    <tab>N<tab>TCP 10.0.0.1:1234 <-> 10.0.0.2:80 [VLAN: 5][proto: 7.126/HTTP.Google]...
    [Confidence: DPI]...
("->" when only one side sent; IPv6 addresses in brackets). The ids in "[proto: M.A/...]" (or
"[proto: A/...]" when there is no master) are mapped to names with the protocol table of
`ndpiReader -h` (names may contain dots: "Z39.50"), and the expected app_proto is the master's
name when the master id is not 0, else the app's: "7.126/HTTP.Google" -> HTTP, "91.178/
TLS.Amazon" -> TLS, "5/DNS" -> DNS, "238/ApplePush" -> ApplePush, "0/Unknown" -> Unknown. That
is how the sensor defines app_proto. Guesses ("[Confidence: Match by port]", "Match by IP": the
protocol ndpi_detection_giveup() guessed at the end of the file or after the packet limit) are
taken as ndpiReader's answer like any other.

Flows are matched by protocol and unordered endpoints (ndpiReader's first packet need not be the
side that opened the connection), VLAN id (ndpiReader shows the innermost tag; our vlan list's
last element) first, then ignoring VLAN; several of our flows on one 5-tuple (a reused port
starts a new flow here after a RST/FIN, not in ndpiReader) are paired in start order and the
rest reported as extra, not compared. Only TCP and UDP flows are compared: ICMP, ICMPv6 and other IP protocols are counted
per side and reported, not compared (a flow there has no ports and the two tools key them
differently). Unmatched flows (tunnels ndpiReader does not open, link types it skips, flows it
drops, ...) are reported per capture, not failures. Damaged captures (lwtest.DAMAGED_SHARED)
are kept: both tools read them with libpcap, which stops at the same damaged record, and both
report the flows of the packets before it.

Prints the agreement figure, and the disagreements grouped by (ours, ndpiReader's) with a count,
how many of ndpiReader's answers were guesses, and an example flow and capture for each; for
information only, how often ndpi.protocol equals ndpiReader's full name ("TLS.Google").
"""

import collections
import concurrent.futures
import ipaddress
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

MIN_AGREEMENT = 0.95
MIN_COMPARED = 300
NDPI_READER = "ndpiReader"
PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
               b"\x0a\x0d\x0d\x0a")

t = lwtest.Test("test_ndpi_agreement")
pcaps = t.need_shared()
ndpi_reader = shutil.which(NDPI_READER)
if not ndpi_reader:
    t.skip("ndpiReader not installed (Debian package libndpi-bin)")
t.need_binary()
env = t.env

ENDPOINT = r"(\[[0-9A-Fa-f:.]+\]|[0-9.]+):(\d+)"
FLOW_RE = re.compile(r"^\t\d+\t(\S+) " + ENDPOINT + r" (<->|->) " + ENDPOINT + r" (.*)$")
VLAN_RE = re.compile(r"\[VLAN: (\d+)\]")
PROTO_RE = re.compile(r"\[proto: ([\d.]+)/([^\]]*)\]")
CONF_RE = re.compile(r"\[Confidence: ([^\]]*)\]")
STAT_RE = re.compile(r"^\s*(Unique flows|Guessed flow protos|IP packets):\s+(\d+)")
PROBLEM_RE = re.compile(r"(Error while reading pcap file.*|Unsupported datalink.*|"
                        r"Could not open.*|ERROR.*)", re.I)
GUESSES = ("Match by port", "Match by IP")


def protocol_table():
    """nDPI protocol id -> name, from the table `ndpiReader -h` prints."""
    out = subprocess.run([ndpi_reader, "-h"], capture_output=True, timeout=60,
                         cwd=env.work).stdout.decode("utf-8", "replace")
    names, inside = {}, False
    for line in out.splitlines():
        if "supported protocols" in line:
            inside = True
            continue
        if inside and "supported" in line:  # the next table (categories, risks)
            break
        m = re.match(r"^\s*(\d+)\s+(\S+)\s+(TCP/UDP|TCP|UDP|\S+)\s", line)
        if inside and m:
            names[int(m.group(1))] = m.group(2)
    return names


NAMES = protocol_table()


def norm_ip(a):
    """Normal form of an address; ndpiReader's own IPv6 formatting can print impossible
    addresses ("302e::3d00::8001" in a fuzzed capture): those are kept as printed (and match
    nothing)."""
    try:
        return ipaddress.ip_address(a.strip("[]")).compressed
    except ValueError:
        return a


def master_name(ids, text):
    """The expected app_proto for "[proto: ids/text]"."""
    nums = [int(x) for x in ids.split(".") if x]
    master, app = (nums[0], nums[-1]) if len(nums) > 1 else (0, nums[0] if nums else 0)
    pick = master if master else app
    if pick in NAMES:
        return NAMES[pick]
    # Not in the table (should not happen): split the text as well as it can be.
    parts = text.split(".")
    return parts[0] if master else text


def run_ndpi(rel):
    """Runs ndpiReader on one capture: (flows, info). A flow: proto, ends (frozenset of (ip,
    port)), first (ndpiReader's first-packet sender), vlan, proto string, master, confidence,
    line. info: return code, listed/unique flow counts and problems it printed."""
    path = os.path.join(pcaps, rel)
    scratch = os.path.join(env.work, "ndpi-agreement")
    os.makedirs(scratch, exist_ok=True)
    try:
        p = subprocess.run([ndpi_reader, "-i", path, "-v", "2"], capture_output=True,
                           timeout=120, cwd=scratch, stdin=subprocess.DEVNULL)
        rc, out = p.returncode, (p.stdout + b"\n" + p.stderr).decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        rc, out = None, (e.stdout or b"").decode("utf-8", "replace")
    flows, stats, problems = [], {}, []
    for line in out.splitlines():
        m = FLOW_RE.match(line)
        if m:
            l4, sip, sport, _, dip, dport, rest = m.groups()
            pm = PROTO_RE.search(rest)
            if not pm:
                problems.append("flow line without [proto: ...]: %.160s" % line.strip())
                continue
            vm, cm = VLAN_RE.search(rest), CONF_RE.search(rest)
            first = (norm_ip(sip), int(sport))
            flows.append({"proto": l4, "ends": frozenset([first, (norm_ip(dip), int(dport))]),
                          "first": first, "second": (norm_ip(dip), int(dport)),
                          "vlan": int(vm.group(1)) if vm else 0,
                          "ndpi": pm.group(2), "master": master_name(pm.group(1), pm.group(2)),
                          "confidence": cm.group(1) if cm else "?"})
            continue
        sm = STAT_RE.match(line)
        if sm:
            stats[sm.group(1)] = int(sm.group(2))
            continue
        em = PROBLEM_RE.search(line)
        if em:
            problems.append(em.group(1).strip())
    return flows, {"rc": rc, "stats": stats, "problems": problems}


def is_capture(path):
    try:
        with open(path, "rb") as fp:
            return fp.read(4) in PCAP_MAGICS
    except OSError:
        return False


def endpoint_str(ep):
    ip, port = ep
    return ("[%s]:%d" if ":" in ip and not ip.startswith("[") else "%s:%d") % (ip, port)


def our_flow_str(f):
    vlan = f.get("vlan")
    return "%s %s:%s -> %s:%s%s" % (f.get("proto"), f.get("src_ip"), f.get("src_port"),
                                     f.get("dest_ip"), f.get("dest_port"),
                                     " vlan %s" % vlan if vlan else "")


def their_flow_str(n):
    return "%s %s %s %s%s [%s, %s]" % (
        n["proto"], endpoint_str(n["first"]), "<->", endpoint_str(n["second"]),
        " vlan %d" % n["vlan"] if n["vlan"] else "", n["ndpi"], n["confidence"])


captures = []
for root, dirs, files in os.walk(pcaps):
    dirs.sort()
    for name in sorted(files):
        path = os.path.join(root, name)
        if is_capture(path):
            captures.append(os.path.relpath(path, pcaps))

t.section("setup")
t.ok(len(NAMES) > 100, "ndpiReader -h lists nDPI's protocol table", "%d entries" % len(NAMES))
t.ok(len(captures) > 100, "../shared/pcaps holds the capture set", "%d captures" % len(captures))

# No signatures (-s on an empty directory) and one worker: classification depends on neither
# (each flow is classified by the worker that owns it; app_proto and ndpi are the same with
# --workers 1 and 2 on every shared capture), while compiling the shipped signatures costs 0.4 s
# per run and each worker its own nDPI setup, most of this test's time over ~150 captures.
config = lwtest.flows_all_config(env)
no_signatures = env.scratch("ndpi-agreement-nosig")
with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
    ndpi_future = pool.map(run_ndpi, captures)
    ours_runs = t.run_many([(rel, ["-r", os.path.join(pcaps, rel), "-c", config,
                                   "-s", no_signatures, "--workers", "1"])
                            for rel in captures])
    ndpi_runs = list(ndpi_future)

agree = disagree = 0
classes = collections.defaultdict(list)          # (ours, theirs) -> [(rel, ours, theirs)]
unmatched_ours = collections.Counter()           # rel -> count
unmatched_theirs = collections.Counter()
extra_ours = collections.Counter()               # rel -> our flows beyond ndpiReader's on a key
unmatched_examples = {}
other_ours = other_theirs = vlan_relaxed = 0
silent = []                                      # captures ndpiReader listed no flow for
dropped = []                                     # captures where it listed fewer than it saw
ours_values = collections.Counter()
full_agree = 0                                   # ndpi.protocol equal to ndpiReader's "M.A" name
full_classes = collections.defaultdict(list)
t.section("runs")
for rel, (label, res), (nflows, info) in zip(captures, ours_runs, ndpi_runs):
    damaged = rel in lwtest.DAMAGED_SHARED
    t.ok(res.rc == 0 or (damaged and res.rc == 3), "%s: leakwatch exit code" % rel,
         "rc %r: %s" % (res.rc, res.stderr[-300:]))
    t.ok(info["rc"] == 0, "%s: ndpiReader exits 0" % rel, "rc %r" % info["rc"])
    unique = info["stats"].get("Unique flows")
    if not nflows:
        silent.append((rel, "; ".join(info["problems"]) or
                       ("no statistics printed" if unique is None else
                        "%s unique flows, none listed" % unique)))
    elif unique is not None and len(nflows) < unique:
        dropped.append((rel, unique - len(nflows)))

    theirs = collections.defaultdict(list)
    for n in nflows:
        if n["proto"] in ("TCP", "UDP"):
            theirs[(n["proto"], n["ends"])].append(n)
        else:
            other_theirs += 1
    ours = collections.defaultdict(list)
    for f in res.flows:
        if f.get("proto") in ("TCP", "UDP"):
            try:
                ends = frozenset([(norm_ip(f["src_ip"]), int(f["src_port"])),
                                  (norm_ip(f["dest_ip"]), int(f["dest_port"]))])
            except (KeyError, ValueError, TypeError):
                t.ok(False, "%s: flow event has src/dest ip and port" % rel, our_flow_str(f))
                continue
            ours[(f["proto"], ends)].append(f)
        else:
            other_ours += 1

    for key in sorted(set(ours) | set(theirs), key=lambda k: (k[0], sorted(k[1]))):
        os_ = sorted(ours.get(key, []),
                     key=lambda f: lwtest.parse_timestamp(f.get("flow", {}).get("start")) or 0)
        ts = list(theirs.get(key, []))
        pairs = []
        for strict in (True, False):
            for f in list(os_):
                vlan = (f.get("vlan") or [0])[-1]
                n = next((n for n in ts if not strict or n["vlan"] == vlan), None)
                if n is None:
                    continue
                pairs.append((f, n))
                os_.remove(f)
                ts.remove(n)
                vlan_relaxed += not strict
        for f, n in pairs:
            mine = f.get("app_proto")
            ours_values[mine] += 1
            full = (f.get("ndpi") or {}).get("protocol")
            if full == n["ndpi"]:
                full_agree += 1
            else:
                full_classes[(full, n["ndpi"])].append((rel, f, n))
            if mine == n["master"]:
                agree += 1
            else:
                disagree += 1
                classes[(mine, n["master"])].append((rel, f, n))
        if os_ and pairs:
            # A 5-tuple reused after a RST/FIN is a new flow here; ndpiReader keeps one.
            extra_ours[rel] += len(os_)
            unmatched_examples.setdefault(("extra", rel), our_flow_str(os_[0]))
        elif os_:
            unmatched_ours[rel] += len(os_)
            unmatched_examples.setdefault(("ours", rel), our_flow_str(os_[0]))
        if ts:
            unmatched_theirs[rel] += len(ts)
            unmatched_examples.setdefault(("theirs", rel), their_flow_str(ts[0]))
t.end_section()

compared = agree + disagree
pct = 100.0 * agree / compared if compared else 0.0
print("ndpi agreement: app_proto equals ndpiReader's master protocol on %d/%d TCP/UDP flows "
      "(%.1f%%) over %d captures" % (agree, compared, pct, len(captures)))
guessed = sum(1 for v in classes.values() for _, _, n in v if n["confidence"] in GUESSES)
print("  disagreements: %d (%d of them ndpiReader guessed: Match by port/IP)" % (disagree,
                                                                                guessed))
print("  not compared: %d TCP/UDP flows on 5-tuples only we report, %d only ndpiReader lists, "
      "%d more of ours on a 5-tuple ndpiReader lists fewer times (a new flow after RST/FIN, "
      "where ndpiReader keeps one); ICMP/other flows: %d ours, %d ndpiReader's; "
      "%d pairs matched ignoring VLAN"
      % (sum(unmatched_ours.values()), sum(unmatched_theirs.values()),
         sum(extra_ours.values()), other_ours, other_theirs, vlan_relaxed))
print("  our app_proto values on compared flows: %s" % ", ".join(
    "%s %d" % kv for kv in ours_values.most_common()))
if classes:
    print("disagreements by (ours, ndpiReader's master), most frequent first:")
    for (mine, theirs), items in sorted(classes.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        rel, f, n = items[0]
        g = sum(1 for _, _, x in items if x["confidence"] in GUESSES)
        files = len({r for r, _, _ in items})
        print("  %4d  ours %-12s ndpiReader %-12s (%d guessed, %d captures)  e.g. %s: %s; "
              "ndpiReader %s" % (len(items), mine, theirs, g, files, rel, our_flow_str(f),
                                 their_flow_str(n)))
print("for information (not asserted): ndpi.protocol equals ndpiReader's full protocol name "
      "(\"TLS.Google\") on %d/%d compared flows" % (full_agree, compared))
for (mine, theirs), items in sorted(full_classes.items(),
                                    key=lambda kv: (-len(kv[1]), str(kv[0])))[:10]:
    rel, f, n = items[0]
    print("  %4d  ndpi.protocol %-16s ndpiReader %-16s e.g. %s: %s [%s]"
          % (len(items), mine, theirs, rel, our_flow_str(f), n["confidence"]))
if silent:
    print("captures ndpiReader lists no flow for (%d):" % len(silent))
    for rel, why in silent:
        print("  %s: %s" % (rel, why))
if dropped:
    print("captures where ndpiReader lists fewer flows than its 'Unique flows' (%d):"
          % len(dropped))
    for rel, n in dropped:
        print("  %s: %d not listed" % (rel, n))
if unmatched_ours or unmatched_theirs or extra_ours:
    print("unmatched TCP/UDP flows per capture (ours on a 5-tuple ndpiReader lacks / "
          "ndpiReader's / more of ours on a shared 5-tuple), with an example:")
    for rel in sorted(set(unmatched_ours) | set(unmatched_theirs) | set(extra_ours),
                      key=lambda r: (-(unmatched_ours[r] + unmatched_theirs[r] + extra_ours[r]),
                                     r)):
        ex = ["%s %s" % (who, unmatched_examples[(side, rel)])
              for side, who in (("ours", "ours"), ("theirs", "ndpiReader"), ("extra", "extra"))
              if (side, rel) in unmatched_examples]
        print("  %s: %d / %d / %d  e.g. %s" % (rel, unmatched_ours[rel], unmatched_theirs[rel],
                                               extra_ours[rel], "; ".join(ex)))

t.section("agreement")
t.ok(compared >= MIN_COMPARED, "at least %d TCP/UDP flows are compared" % MIN_COMPARED,
     "only %d" % compared)
t.ok(compared and agree >= MIN_AGREEMENT * compared,
     "app_proto equals ndpiReader's master protocol on >= %.0f%% of compared flows"
     % (100 * MIN_AGREEMENT), "%d/%d = %.1f%%" % (agree, compared, pct))
t.finish()
