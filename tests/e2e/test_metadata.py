#!/usr/bin/env python3
"""test_metadata.py — protocol metadata in flow events, field by field against tshark.

Issue 4, requirement 2 ("Metadata in events ... per flow"). On the shared captures of http/,
tls/, smtp/, dns/, mail/, other/ and ipv6/ (all of them: none is damaged), every flow event's
`http`, `tls`, `dns` and `smtp` fields are compared with what tshark (Wireshark 4.0), which
dissects independently and reassembles TCP, finds in the same flow:

  http.hostname, http_method, url, http_user_agent   tshark's first HTTP request of the flow:
                                         http.host, http.request.method, http.request.uri,
                                         http.user_agent (first occurrence in that frame)
  http.status                            http.response.code of the first HTTP response
  tls.sni, ja3, alpn                     the first ClientHello: tls.handshake.
                                         extensions_server_name, tls.handshake.ja3, all of
                                         extensions_alpn_str joined with ","
  dns.rrname, rrtype                     the first query (dns.flags.response == 0):
                                         dns.qry.name, dns.qry.type
  smtp.helo, mail_from, rcpt_to          smtp.req.command with its smtp.command_line (the
                                         parameter is the line after the command; tshark gives
                                         no smtp.req.parameter to DATA or QUIT, so parameters
                                         alone cannot be paired with commands): the first
                                         HELO/EHLO, the first MAIL FROM, every RCPT TO (at most
                                         16), each address taken as leakwatch does (between <>,
                                         else the first word)

tshark runs once per capture (`-T fields -E occurrence=a`, display filter on requests,
responses, ClientHellos, DNS queries and SMTP requests, ICMP excluded so that quoted headers are
not taken for flows), in parallel with the sensor runs (`--workers 1`: nDPI's start-up per
worker dominates on these small files). Flows are matched by protocol and unordered endpoints
(IPv4 and IPv6); several flows on one 5-tuple (port reuse) are paired in start order with
tshark's streams in stream order. Flow timeouts are raised so that an idle period does not split
a flow tshark keeps whole.

Per field, each flow where at least one side has a value counts as one of:
  agree        the same value;
  rule         different only by a documented rule of nDPI or leakwatch (listed by rule with
               examples, and counted as agreement):
                 - nDPI drops a trailing ":port" from the Host header (http.hostname);
                 - nDPI lowercases host names and keeps their last 79 characters
                   (host_server_name[80]: http.hostname, tls.sni, dns.rrname);
                 - leakwatch keeps at most 1024 bytes of a string (META_STR_MAX: url, user
                   agent);
                 - tshark shows each non-ASCII byte of HTTP and SMTP text as U+FFFD, the
                   sensor the bytes themselves (compared without non-ASCII characters);
  differ       anything else (with a reason when the pattern is recognized, e.g. a url that
               still carries the Host header in front of the request-target);
  only ours / only tshark
               one side has no value, with the reason (tshark has no such message in the
               flow; nDPI named the flow another protocol, e.g. SSDP, LLMNR, MDNS, SOCKS,
               HTTP_Connect, IMAPS, or a STARTTLS session, so leakwatch reports no such
               object; nDPI parsed nothing, e.g. header lines ending in a bare LF or a
               request line longer than one segment, which nDPI 4.2 does not reassemble).
The figures, and up to 5 examples per (field, kind, reason) with capture and flow, are printed.

Asserted, where both sides have the field (compared = agree + rule + differ):
  - agreement (agree + rule) / compared >= MIN_AGREEMENT = 0.95 for every field. Measured on
    these captures (Wireshark 4.0.17, nDPI 4.2): 100% for every field except
      http.hostname 108/109 (99.1%): an IPv6 literal Host "[::1]:8000" becomes "[" (nDPI cuts
        the Host value at its first ":");
      http.url 95/107 (88.8%): the twelve flows whose Host header carries a port keep
        "host:port" in front of the request-target ("ws.1kxun.mobi:1234/?_brand=..." for
        "/?_brand=..."): leakwatch strips nDPI's host_server_name, which has no port, from
        nDPI's url, which starts with the Host header as sent. That is a sensor defect
        (README: url is the request-target), so this check fails until it is fixed.
    Exact metadata is the contract, so the bar is set just under the clean figure (1 in 20
    compared flows may differ for reasons of a capture tshark reads differently), not at the
    level of a known defect.
  - at least MIN_COMPARED flows per protocol compared (a flow counts once when both sides
    have at least one of its fields): measured http 109, tls 22, dns 34, smtp 12; the minimum
    is about three quarters of that, so the test cannot pass vacuously when the metadata goes
    missing.
"only ours" and "only tshark" are reported, not asserted: they measure what nDPI dissects
(coverage), not whether what leakwatch reports is right.
"""

import collections
import concurrent.futures
import ipaddress
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

DNS_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
             28: "AAAA", 33: "SRV", 35: "NAPTR", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
             52: "TLSA", 64: "SVCB", 65: "HTTPS", 99: "SPF", 255: "ANY", 257: "CAA"}

CATEGORIES = ["http", "tls", "smtp", "dns", "mail", "other", "ipv6"]
MIN_AGREEMENT = 0.95
MIN_COMPARED = {"http": 80, "tls": 16, "dns": 25, "smtp": 9}
EXAMPLES = 5
NDPI_HOST_KEEP = 79  # nDPI 4.2 host_server_name[80]: the last 79 characters
META_STR_MAX = 1024  # sensor/classify/ndpi_classify.c
AGG = "\x1f"  # tshark's aggregator between several occurrences of a field in one frame

TSHARK_FIELDS = [
    "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.stream", "udp.stream",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
    "http.request", "http.response", "http.host", "http.request.method", "http.request.uri",
    "http.user_agent", "http.response.code",
    "tls.handshake.type", "tls.handshake.extensions_server_name", "tls.handshake.ja3",
    "tls.handshake.extensions_alpn_str",
    "dns.flags.response", "dns.qry.name", "dns.qry.type",
    "smtp.req", "smtp.req.command", "smtp.command_line",
]
COL = {name: i for i, name in enumerate(TSHARK_FIELDS)}
TSHARK_FILTER = ("(http.request or http.response or tls.handshake.type == 1 or "
                 "dns.flags.response == 0 or smtp.req) and not icmp and not icmpv6")

FIELDS = [  # (event object, field)
    ("http", "hostname"), ("http", "http_method"), ("http", "url"), ("http", "http_user_agent"),
    ("http", "status"), ("tls", "sni"), ("tls", "ja3"), ("tls", "alpn"),
    ("dns", "rrname"), ("dns", "rrtype"),
    ("smtp", "helo"), ("smtp", "mail_from"), ("smtp", "rcpt_to"),
]
# nDPI protocols for which leakwatch writes each object (sensor/classify/ndpi_classify.c).
OBJECT_PROTOCOLS = {"http": {"HTTP", "HTTP_Connect", "HTTP_Proxy"}, "tls": {"TLS", "QUIC"},
                    "dns": {"DNS"}, "smtp": {"SMTP"}}
HOST_FIELDS = {("http", "hostname"), ("tls", "sni"), ("dns", "rrname")}
TEXT_OBJECTS = {"http", "smtp"}  # tshark shows their non-ASCII bytes as U+FFFD

t = lwtest.Test("test_metadata")
pcaps = t.need_shared()
if not lwtest.have_tshark():
    t.skip("tshark not installed")
t.need_binary()
env = t.env

config = lwtest.flows_all_config(
    env, "flow:\n  tcp_timeout: 31536000\n  udp_timeout: 31536000\n")


def norm_ip(a):
    return ipaddress.ip_address(a).compressed


def values(row, name):
    v = row[COL[name]]
    return v.split(AGG) if v != "" else []


def first(row, name):
    v = values(row, name)
    return v[0] if v else None


TSHARK_ESCAPE = re.compile(r"\\([rnt])")


def unescape(s):
    """tshark -T fields writes CR, LF and TAB as \\r, \\n, \\t (a backslash itself as is)."""
    return TSHARK_ESCAPE.sub(lambda m: {"r": "\r", "n": "\n", "t": "\t"}[m.group(1)], s)


def smtp_address(arg):
    """The sensor's rule (sensor/app/smtp_commands.c): inside <>, else the first word."""
    arg = arg.lstrip(" \t")
    if arg.startswith("<"):
        end = arg.find(">")
        return arg[1:end] if end >= 0 else arg[1:]
    return arg.split(" ", 1)[0]


def tshark_meta(path):
    """Runs tshark once over path: ({(proto, frozenset(endpoints)): [stream, ...]}, stderr).
    A stream: {"stream": N, "meta": {"http": {...}, "tls": {...}, ...}} with our field names,
    streams of one 5-tuple in stream order."""
    cmd = ["tshark", "-n", "-r", path, "-Y", TSHARK_FILTER, "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=" + AGG, "-E", "separator=\t"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    streams = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        r = line.split("\t")
        if len(r) != len(TSHARK_FIELDS):
            continue
        src = values(r, "ipv6.src") or values(r, "ip.src")
        dst = values(r, "ipv6.dst") or values(r, "ip.dst")
        if r[COL["tcp.stream"]]:
            proto, sp, dp = "TCP", first(r, "tcp.srcport"), first(r, "tcp.dstport")
            stream = int(first(r, "tcp.stream"))
        elif r[COL["udp.stream"]]:
            proto, sp, dp = "UDP", first(r, "udp.srcport"), first(r, "udp.dstport")
            stream = int(first(r, "udp.stream"))
        else:
            continue
        if not src or not dst or sp is None or dp is None:
            continue
        key = (proto, stream)
        s = streams.get(key)
        if s is None:
            ends = frozenset([(norm_ip(src[-1]), int(sp)), (norm_ip(dst[-1]), int(dp))])
            s = streams[key] = {"proto": proto, "stream": stream, "ends": ends, "meta": {}}
        m = s["meta"]
        if r[COL["http.request"]] and "request" not in s:
            s["request"] = True
            h = m.setdefault("http", {})
            for ours, theirs in (("hostname", "http.host"), ("http_method", "http.request.method"),
                                 ("url", "http.request.uri"), ("http_user_agent",
                                                               "http.user_agent")):
                v = first(r, theirs)
                if v is not None:
                    h[ours] = unescape(v)
        if r[COL["http.response"]] and "response" not in s:
            s["response"] = True
            code = first(r, "http.response.code")
            if code and code.isdigit():
                m.setdefault("http", {})["status"] = int(code)
        if "1" in values(r, "tls.handshake.type") and "tls" not in m:
            tl = m["tls"] = {}
            if first(r, "tls.handshake.extensions_server_name"):
                tl["sni"] = first(r, "tls.handshake.extensions_server_name")
            if first(r, "tls.handshake.ja3"):
                tl["ja3"] = first(r, "tls.handshake.ja3")
            alpn = values(r, "tls.handshake.extensions_alpn_str")
            if alpn:
                tl["alpn"] = ",".join(alpn)
        if "0" in values(r, "dns.flags.response") and "dns" not in m:
            d = m["dns"] = {}
            name, qtype = first(r, "dns.qry.name"), first(r, "dns.qry.type")
            if name:
                d["rrname"] = unescape(name)
            if qtype and qtype.isdigit():
                # leakwatch writes the type's name as Suricata EVE does ("A", "AAAA", ...)
                d["rrtype"] = DNS_TYPES.get(int(qtype), "TYPE%d" % int(qtype))
        if r[COL["smtp.req"]]:
            sm = m.setdefault("smtp", {})
            lines = values(r, "smtp.command_line")
            for i, cmd_name in enumerate(values(r, "smtp.req.command")):
                text = unescape(lines[i]).rstrip("\r\n") if i < len(lines) else cmd_name
                param = text[len(cmd_name) + 1:]
                cu = cmd_name.upper()
                if cu in ("HELO", "EHLO"):
                    sm.setdefault("helo", smtp_address(param))
                elif cu == "MAIL" and param[:5].upper() == "FROM:":
                    sm.setdefault("mail_from", smtp_address(param[5:]))
                elif cu == "RCPT" and param[:3].upper() == "TO:":
                    rcpt = sm.setdefault("rcpt_to", [])
                    if len(rcpt) < 16:
                        rcpt.append(smtp_address(param[3:]))
    result = {}
    for s in sorted(streams.values(), key=lambda s: s["stream"]):
        result.setdefault((s["proto"], s["ends"]), []).append(s)
    return result, p.returncode, p.stderr.decode("utf-8", "replace")


NON_ASCII = re.compile(r"[^\x00-\x7f]")
PORT = re.compile(r":\d+$")


def rule(field, mine, theirs):
    """The documented rule that explains mine != theirs, or None."""
    if not isinstance(mine, str) or not isinstance(theirs, str):
        return None
    names = []
    t2 = theirs
    if field[0] in TEXT_OBJECTS and "\ufffd" in theirs:
        mine, t2 = NON_ASCII.sub("", mine), NON_ASCII.sub("", t2)
        if mine == t2:
            return "tshark shows non-ASCII bytes as U+FFFD"
        names.append("tshark shows non-ASCII bytes as U+FFFD")
    if field in HOST_FIELDS:
        if field == ("http", "hostname") and PORT.search(t2):
            t2 = PORT.sub("", t2)
            names.append("nDPI drops the :port of Host")
        if t2 != t2.lower():
            t2 = t2.lower()
            names.append("nDPI lowercases host names")
        if len(t2) > NDPI_HOST_KEEP:
            t2 = t2[-NDPI_HOST_KEEP:]
            names.append("nDPI keeps the last %d characters" % NDPI_HOST_KEEP)
        if mine == t2 and names:
            return "; ".join(names)
        return None
    if field in (("http", "url"), ("http", "http_user_agent")):
        if (len(mine.encode("utf-8", "surrogatepass")) >= META_STR_MAX - 4 and
                t2.startswith(mine) and len(t2) > len(mine)):
            return "leakwatch keeps %d bytes (META_STR_MAX)" % META_STR_MAX
    return None


def differ_reason(field, mine, theirs, their_obj):
    if field == ("http", "url") and isinstance(mine, str) and their_obj.get("hostname") and \
            mine.lower() == (their_obj["hostname"] + theirs).lower():
        return "url begins with the Host header value (Host has a :port)"
    if field == ("http", "hostname") and isinstance(theirs, str) and theirs.startswith("[") \
            and mine == theirs.split(":", 1)[0]:
        return "IPv6 literal Host cut at its first ':'"
    return "different value"


def family(flow, obj):
    """Whether nDPI named the flow a protocol for which leakwatch writes obj."""
    parts = set((flow.get("ndpi") or {}).get("protocol", "").split("."))
    parts.add(flow.get("app_proto"))
    return bool(parts & OBJECT_PROTOCOLS[obj])


files = []
for cat in CATEGORIES:
    d = os.path.join(pcaps, cat)
    for name in sorted(os.listdir(d)):
        if name.endswith((".pcap", ".pcapng")):
            files.append(cat + "/" + name)

with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
    tshark_jobs = {rel: pool.submit(tshark_meta, os.path.join(pcaps, rel)) for rel in files}
    runs = t.run_many([(rel, ["--workers", "1", "-r", os.path.join(pcaps, rel), "-c", config])
                       for rel in files])
    tshark_results = {rel: job.result() for rel, job in tshark_jobs.items()}

counts = collections.OrderedDict((f, collections.Counter()) for f in FIELDS)
examples = collections.defaultdict(list)
compared_flows = collections.Counter()


def describe(rel, f, s):
    if f:
        where = "%s %s %s:%d -> %s:%d [%s]" % (rel, f["proto"], f["src_ip"], f["src_port"],
                                               f["dest_ip"], f["dest_port"],
                                               (f.get("ndpi") or {}).get("protocol",
                                                                         f.get("app_proto")))
    else:
        a, b = sorted(s["ends"])
        where = "%s %s %s:%d <-> %s:%d" % (rel, s["proto"], a[0], a[1], b[0], b[1])
    if s:
        where += " (tshark %s.stream %d)" % (s["proto"].lower(), s["stream"])
    return where


def compare(rel, f, s):
    ours_meta = f or {}
    theirs_meta = s["meta"] if s else {}
    both_have = set()
    for field in FIELDS:
        obj, name = field
        mine = (ours_meta.get(obj) or {}).get(name)
        their_obj = theirs_meta.get(obj) or {}
        theirs = their_obj.get(name)
        if mine is None and theirs is None:
            continue
        if mine is not None and theirs is not None:
            both_have.add(obj)
            if mine == theirs:
                counts[field]["agree"] += 1
                continue
            why = rule(field, mine, theirs)
            kind = "rule" if why else "differ"
            why = why or differ_reason(field, mine, theirs, their_obj)
        elif theirs is None:
            kind = "only ours"
            why = ("tshark found no http/tls/dns/smtp message in the flow" if not s else
                   "tshark has no %s message" % obj if obj not in theirs_meta else
                   "tshark has the message without this field")
        else:
            kind = "only tshark"
            why = ("no flow of ours" if not f else
                   "nDPI named it %s" % f.get("app_proto") if not family(f, obj) else
                   "no %s object (nDPI dissected nothing)" % obj if obj not in ours_meta else
                   "our %s object lacks this field" % obj)
        counts[field][kind] += 1
        examples[(field, kind, why)].append("%s: ours %r, tshark %r" % (
            describe(rel, f, s), mine, theirs))
    for obj in both_have:
        compared_flows[obj] += 1


for rel, res in runs:
    t.section(rel)
    t.eq(res.rc, 0, "exit code")
    theirs, trc, terr = tshark_results[rel]
    t.ok(trc == 0, "tshark exit code 0", "%r: %s" % (trc, terr.strip()[-300:]))
    ours = {}
    for f in res.flows:
        if f.get("proto") not in ("TCP", "UDP"):
            continue
        ends = frozenset([(norm_ip(f["src_ip"]), f["src_port"]),
                          (norm_ip(f["dest_ip"]), f["dest_port"])])
        ours.setdefault((f["proto"], ends), []).append(f)
    for key in set(ours) | set(theirs):
        fs = sorted(ours.get(key, []),
                    key=lambda f: lwtest.parse_timestamp(f.get("flow", {}).get("start")) or 0)
        ss = theirs.get(key, [])
        for i in range(max(len(fs), len(ss))):
            compare(rel, fs[i] if i < len(fs) else None, ss[i] if i < len(ss) else None)
t.end_section()

print("\n%-21s %8s %6s %5s %6s %9s %9s %11s" % ("field", "compared", "agree", "rule", "differ",
                                                "agreement", "only ours", "only tshark"))
for field, c in counts.items():
    n = c["agree"] + c["rule"] + c["differ"]
    print("%-21s %8d %6d %5d %6d %9s %9d %11d" % (
        ".".join(field), n, c["agree"], c["rule"], c["differ"],
        "%.1f%%" % (100.0 * (c["agree"] + c["rule"]) / n) if n else "-", c["only ours"],
        c["only tshark"]))
print("flows compared per protocol: %s" % ", ".join(
    "%s %d" % (p, compared_flows[p]) for p in MIN_COMPARED))
order = {"differ": 0, "rule": 1, "only ours": 2, "only tshark": 3}
for (field, kind, why), exs in sorted(examples.items(),
                                      key=lambda kv: (FIELDS.index(kv[0][0]), order[kv[0][1]],
                                                      -len(kv[1]))):
    print("%s %s (%s): %d" % (".".join(field), kind, why, len(exs)))
    for e in exs[:EXAMPLES]:
        print("    " + (e if len(e) <= 600 else e[:600] + "..."))
sys.stdout.flush()

t.section("assertions")
for field, c in counts.items():
    n = c["agree"] + c["rule"] + c["differ"]
    if n:
        t.ok((c["agree"] + c["rule"]) >= MIN_AGREEMENT * n,
             "%s agrees with tshark on >= %d%% of the flows both report it" % (
                 ".".join(field), MIN_AGREEMENT * 100),
             "%d of %d (%.1f%%)" % (c["agree"] + c["rule"], n,
                                    100.0 * (c["agree"] + c["rule"]) / n))
for obj, minimum in MIN_COMPARED.items():
    t.ok(compared_flows[obj] >= minimum,
         "at least %d flows compared for %s" % (minimum, obj), "only %d" % compared_flows[obj])
t.finish()
