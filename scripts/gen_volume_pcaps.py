#!/usr/bin/env python3
"""gen_volume_pcaps.py — deterministic captures for the `kind: volume` signatures.

    python3 scripts/gen_volume_pcaps.py [--signatures PACK] OUTDIR

PACK (default: the source tree's signatures/egress-volume.yaml) is the shipped volume pack. The
packets are built with scripts/gen_pcaps.py (same headers, checksums, fixed timestamps, sequence
numbers and addresses): the same bytes come out on every run. Written to OUTDIR:

  vol_*.pcap         one capture per case (below), 10 s apart in time, distinct 5-tuples, so one
                     sensor run can read them all (-r repeated)
  volume-test.yaml   a small volume signature file with low thresholds (64 KiB, 100000), ids 900501+
  expected.json      per run (the test pack, the shipped pack), per flow: the egress payload
                     bytes, and every volume alert a correct sensor writes - signature,
                     volume.egress_bytes, volume.threshold, pcap.packet, timestamp - or none

Cases (TLS flows: ClientHello with the SNI, ServerHello + CCS + encrypted handshake, then
client application-data records in 1460-byte segments with an ACK per two segments and one
exact retransmission, a short response, FIN close):

  vol_tls_over        10.0.0.5 -> github.com, egress = threshold + 1 KiB: one alert, at the
                      packet that crosses the threshold mid-segment
  vol_tls_exact       github.com, a segment ends exactly at the threshold: the alert is at that
                      packet (egress reaching the threshold counts)
  vol_tls_under       github.com, egress = threshold - 1: no alert
  vol_allow_name      uploads.github.com, over the threshold, in allowlist.destinations: none
  vol_allow_glob      results-receiver.actions.githubusercontent.com, allowlisted by the glob
                      "*.actions.githubusercontent.com": none
  vol_allow_cidr      SNI github.com, destination in an allowlisted CIDR: none
  vol_http_paste      HTTP POST with Host: pastebin.com (form-encoded paste), over the shipped
                      pack's Pastebin threshold: alerts in both runs, each at its threshold
  vol_unlisted        backup.example.net, over every threshold: none
  vol_ingress         an outside client uploads to a home server with SNI github.com: the
                      egress (the server's handshake bytes) stays small: none
  vol_download        10.0.0.5 downloads 200 KiB from github.com, sends little: none
  vol_case            SNI "Gist.GitHub.COM" (globs are caseless), egress twice the threshold:
                      exactly one alert (once per flow) - and one of a second signature
                      ("*.github.com", 100000 bytes) at its own crossing packet
  vol_ipv6            fd00::5 -> 2001:db8::, SNI github.com: one alert
  vol_app_only        SNI gitlab.com against a test signature with app: [gitlab] and no hosts:
                      alerts only through nDPI's classification (TLS.GitLab)

Egress bytes follow interface.md section 2: TCP/UDP payload a home_net address sends to a
non-home one, retransmissions included (flow.egress_bytes). The model counts them per packet as
the packets are written, so expected packet numbers are not typed by hand.

Needs the yaml module (python3-yaml) to read the pack; without it, it retries with
/usr/bin/python3, and failing that exits 77.
"""

import hashlib
import ipaddress
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_pcaps as G  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the host
    yaml = None

MSS = 1460
HOME_NET = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"]
CLIENT = "10.0.0.5"
TEST_THRESHOLD = 65536  # 64 KiB
ALLOWLIST = ["uploads.github.com", "*.actions.githubusercontent.com", "203.0.113.128/25"]

# The small test pack: low thresholds, one signature per way a flow can match.
TEST_SIGS = [
    {"id": 900501, "kind": "volume", "name": "Test upload to GitHub", "category": "exfil_volume",
     "severity": "medium", "app": ["Github"],
     "hosts": ["github.com", "*.github.com", "*.githubusercontent.com"],
     "min_egress_bytes": TEST_THRESHOLD},
    {"id": 900502, "kind": "volume", "name": "Test upload to Pastebin",
     "category": "exfil_volume", "severity": "high", "app": ["Pastebin"],
     "hosts": ["pastebin.com"], "min_egress_bytes": TEST_THRESHOLD},
    {"id": 900503, "kind": "volume", "name": "Test upload to GitLab (nDPI app only)",
     "category": "exfil_volume", "severity": "low", "app": ["gitlab"],  # caseless
     "min_egress_bytes": TEST_THRESHOLD},
    {"id": 900504, "kind": "volume", "name": "Test upload to a GitHub subdomain (second threshold)",
     "category": "exfil_volume", "severity": "high", "hosts": ["*.github.com"],
     "min_egress_bytes": 100000},
]


def test_pack_yaml():
    out = ["# Written by scripts/gen_volume_pcaps.py: volume signatures with low thresholds for",
           "# the end-to-end test (tests/e2e/test_volume.py).", "signatures:"]
    for s in TEST_SIGS:
        out.append("  - id: %d" % s["id"])
        for k in ("kind", "name", "category", "severity"):
            out.append("    %s: %s" % (k, s[k]))
        for k in ("app", "hosts"):
            if k in s:
                out.append("    %s: %s" % (k, json.dumps(s[k])))
        out.append("    min_egress_bytes: %d" % s["min_egress_bytes"])
    return "\n".join(out) + "\n"


def load_pack(path):
    with open(path, encoding="utf-8") as fp:
        doc = yaml.load(fp, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    sigs = []
    for d in doc.get("signatures", []):
        if d.get("kind") != "volume":
            continue
        sigs.append({"id": int(d["id"]), "kind": "volume", "name": str(d["name"]),
                     "category": str(d["category"]), "severity": str(d["severity"]),
                     "app": [str(a) for a in d.get("app") or []],
                     "hosts": [str(h) for h in d.get("hosts") or []],
                     "min_egress_bytes": int(d["min_egress_bytes"])})
    return sigs


# ---------------------------------------------------------------------------------------------
# Matching model (names only; nDPI's application is what the case says nDPI reports)
# ---------------------------------------------------------------------------------------------


def glob_match(pattern, name):
    """"*.example.com" is any subdomain of example.com, "example.com" only itself; caseless."""
    p, n = pattern.lower(), (name or "").lower()
    if p.startswith("*."):
        return n.endswith(p[1:]) and len(n) > len(p) - 1
    return p == n


def in_nets(addr, nets):
    a = ipaddress.ip_address(addr)
    return any(a.version == net.version and a in net
               for net in (ipaddress.ip_network(x) for x in nets))


def allowlisted(flow):
    name = flow.name
    for entry in ALLOWLIST:
        try:
            net = ipaddress.ip_network(entry)
        except ValueError:
            if glob_match(entry, name):
                return True
            continue
        if in_nets(flow.srv, [str(net)]):
            return True
    return False


def sig_matches(sig, flow):
    if any(glob_match(h, flow.name) for h in sig.get("hosts", [])):
        return True
    apps = {a.lower() for a in sig.get("app", [])}
    return bool(flow.ndpi_app) and flow.ndpi_app.lower() in apps


# ---------------------------------------------------------------------------------------------
# Flows with a per-packet log of payload bytes
# ---------------------------------------------------------------------------------------------


class VFlow(G.Flow):
    def __init__(self, cap, label, cli, cport, srv, sport, name, ndpi_app, kind, **kw):
        super().__init__(cap, "TCP", cli, cport, srv, sport, **kw)
        self.label = label
        self.name = name          # the SNI or HTTP Host the flow carries
        self.ndpi_app = ndpi_app  # the application nDPI 4.2 gives it (the case's premise)
        self.kind = kind          # "tls" | "http"
        self.log = []             # (frame number, ts, side, payload bytes)

    def account(self, side, frame_len, ts, flags=0, payload_len=0):
        super().account(side, frame_len, ts, flags, payload_len)
        self.log.append((len(self.cap.frames), ts, side, payload_len))

    def egress_side(self):
        cli_home, srv_home = in_nets(self.cli, HOME_NET), in_nets(self.srv, HOME_NET)
        if cli_home and not srv_home:
            return 0
        if srv_home and not cli_home:
            return 1
        return None

    def egress_bytes(self):
        side = self.egress_side()
        return sum(n for _, _, s, n in self.log if s == side)

    def crossing(self, threshold):
        """(frame number, ts, egress bytes) of the packet where egress first reaches it."""
        side = self.egress_side()
        total = 0
        for frame, ts, s, n in self.log:
            if s != side or not n:
                continue
            total += n
            if total >= threshold:
                return frame, ts, total
        return None


def stream_bytes(tag, n):
    """n deterministic pseudo-random bytes (ciphertext stand-in)."""
    return hashlib.shake_256(tag.encode()).digest(n) if n else b""


def tls_records(tag, n, ctype=23):
    """Exactly n bytes of TLS records of one content type (bodies up to 16401: 16 KiB + tag)."""
    out, i = bytearray(), 0
    while len(out) < n:
        left = n - len(out)
        body = min(16401, left - 5)
        if left - 5 - body in range(1, 6):  # keep the last record at least 6 bytes long
            body -= 6
        assert body > 0, n
        out += struct.pack("!BHH", ctype, 0x0303, body) + stream_bytes("%s:%d" % (tag, i), body)
        i += 1
    assert len(out) == n
    return bytes(out)


def tls_server_hello():
    def ext(etype, data):
        return struct.pack("!HH", etype, len(data)) + data
    exts = ext(43, b"\x03\x04")  # supported_versions: TLS 1.3
    exts += ext(51, struct.pack("!HH", 0x001D, 32) + hashlib.sha256(b"server share").digest())
    body = struct.pack("!H", 0x0303) + hashlib.sha256(b"demo server random").digest()
    body += bytes([32]) + hashlib.sha256(b"demo session id").digest()  # echo of the client's
    body += struct.pack("!HB", 0x1301, 0) + struct.pack("!H", len(exts)) + exts
    hs = struct.pack("!B", 2) + struct.pack("!I", len(body))[1:] + body
    return struct.pack("!BHH", 22, 0x0303, len(hs)) + hs


CCS = b"\x14\x03\x03\x00\x01\x01"


def send_acked(f, side, data, cut_at=None, retransmit_index=None):
    """Sends data from side in MSS segments, the peer ACKing every second one. cut_at: an
    egress total at which a segment must end (the flow's egress counted so far included).
    retransmit_index: that segment is sent once more, unchanged, right after the next one."""
    segs, i = [], 0
    count = f.egress_bytes() if cut_at is not None else 0
    while i < len(data):
        n = min(MSS, len(data) - i)
        if cut_at is not None and count < cut_at < count + n:
            n = cut_at - count
        segs.append((f.nxt[side], data[i:i + n]))
        f.tcp(side, G.TCP_ACK | G.TCP_PSH, data[i:i + n])
        count += n
        i += n
        k = len(segs) - 1
        if retransmit_index is not None and k == retransmit_index + 1:
            seq, old = segs[retransmit_index]
            f.tcp(side, G.TCP_ACK | G.TCP_PSH, old, seq=seq)
            count += len(old)
        if k % 2 == 1:
            f.tcp(1 - side, G.TCP_ACK)
    if len(segs) % 2 == 1:
        f.tcp(1 - side, G.TCP_ACK)


def tls_flow(cap, label, cli, cport, srv, sport, sni, ndpi_app, target_egress=None,
             upload=None, exact=None, download=0, isn=(0x10000000, 0x50000000)):
    """A TLS 1.3 connection. The client uploads `upload` bytes of records, or as many as make
    the flow's egress `target_egress` (the upload carries one retransmitted MSS segment)."""
    f = VFlow(cap, label, cli, cport, srv, sport, sni, ndpi_app, "tls", cisn=isn[0],
              sisn=isn[1])
    f.handshake()
    f.send(0, G.tls_client_hello(sni), mss=MSS)
    f.tcp(1, G.TCP_ACK)
    server_flight = tls_server_hello() + CCS + tls_records(label + ":server-hs", 2900)
    send_acked(f, 1, server_flight)
    f.send(0, CCS + tls_records(label + ":client-fin", 58), mss=MSS)
    f.tcp(1, G.TCP_ACK)
    if target_egress is not None:
        side = f.egress_side()
        assert side == 0
        upload = target_egress - f.egress_bytes() - MSS  # the retransmission adds one MSS
    if upload:
        send_acked(f, 0, tls_records(label + ":upload", upload), cut_at=exact,
                   retransmit_index=8)
    if download:
        f.send(0, tls_records(label + ":request", 180), mss=MSS)
        send_acked(f, 1, tls_records(label + ":download", download))
    f.send(1, tls_records(label + ":response", 320), mss=MSS)
    f.tcp(0, G.TCP_ACK)
    f.fin_close(first=0)
    return f


def paste_body(n):
    """An application/x-www-form-urlencoded Pastebin API body of exactly n bytes."""
    head = b"api_dev_key=0f1e2d3c4b5a69788796a5b4c3d2e1f0&api_option=paste&api_paste_private=1" \
           b"&api_paste_name=build.log&api_paste_code="
    lines, k = bytearray(), 0
    while len(head) + len(lines) < n:
        lines += ("2024-05-01+10%%3A00%%3A%02d+INFO+worker-%d+step+%06d+finished+in+%d+ms%%0A"
                  % (k % 60, k % 7, k, 100 + k * 37 % 900)).encode()
        k += 1
    return head + bytes(lines[:n - len(head)])


def http_paste_flow(cap, label, cli, cport, srv, target_egress):
    f = VFlow(cap, label, cli, cport, srv, 80, "pastebin.com", "Pastebin", "http",
              cisn=0x2A2A0000, sisn=0x3B3B0000)
    f.handshake()
    head_len = len(G.http_request("POST", "pastebin.com", "/api/api_post.php", b"x" * 1000000,
                                  ctype="application/x-www-form-urlencoded")) - 1000000
    body_len = target_egress - MSS - head_len  # one MSS segment is retransmitted
    body_len += len(str(1000000)) - len(str(body_len))  # Content-Length has fewer digits
    req = G.http_request("POST", "pastebin.com", "/api/api_post.php", paste_body(body_len),
                         ctype="application/x-www-form-urlencoded")
    send_acked(f, 0, req, retransmit_index=8)
    assert f.egress_bytes() == target_egress, (f.egress_bytes(), target_egress)
    f.send(1, G.http_response(b"https://pastebin.com/q8Xr2Lk9", ctype="text/plain"), mss=MSS)
    f.tcp(0, G.TCP_ACK)
    f.fin_close(first=0)
    f.http = {"hostname": "pastebin.com", "url": "/api/api_post.php", "http_method": "POST"}
    return f


# ---------------------------------------------------------------------------------------------
# The captures
# ---------------------------------------------------------------------------------------------


def build_captures(shipped):
    paste_thr = max([s["min_egress_bytes"] for s in shipped
                     if any(glob_match(h, "pastebin.com") for h in s["hosts"])] or [0])
    T = TEST_THRESHOLD
    specs = []

    def cap(name, notes):
        c = G.Capture(name)
        c.ts = G.BASE_TS + len(specs) * 10 * 1000000
        c.notes = notes
        specs.append(c)
        return c

    c = cap("vol_tls_over", "github.com, egress = threshold + 1 KiB")
    tls_flow(c, "over", CLIENT, 50001, "198.51.100.10", 443, "github.com", "Github",
             target_egress=T + 1024, isn=(0x01000000, 0x71000000))
    c = cap("vol_tls_exact", "github.com, a segment ends exactly at the threshold")
    tls_flow(c, "exact", CLIENT, 50002, "198.51.100.10", 443, "github.com", "Github",
             target_egress=T + 3000, exact=T, isn=(0x02000000, 0x72000000))
    c = cap("vol_tls_under", "github.com, egress = threshold - 1")
    tls_flow(c, "under", CLIENT, 50003, "198.51.100.10", 443, "github.com", "Github",
             target_egress=T - 1, isn=(0x03000000, 0x73000000))
    c = cap("vol_allow_name", "uploads.github.com (allowlisted by name), over the threshold")
    tls_flow(c, "allow-name", CLIENT, 50004, "198.51.100.11", 443, "uploads.github.com",
             "Github", target_egress=T + 20000, isn=(0x04000000, 0x74000000))
    c = cap("vol_allow_glob", "*.actions.githubusercontent.com (allowlisted glob), over")
    tls_flow(c, "allow-glob", CLIENT, 50005, "198.51.100.12", 443,
             "results-receiver.actions.githubusercontent.com", "Github",
             target_egress=T + 20000, isn=(0x05000000, 0x75000000))
    c = cap("vol_allow_cidr", "SNI github.com, destination in an allowlisted CIDR, over")
    tls_flow(c, "allow-cidr", CLIENT, 50006, "203.0.113.200", 443, "github.com", "Github",
             target_egress=T + 20000, isn=(0x06000000, 0x76000000))
    c = cap("vol_http_paste", "HTTP POST to pastebin.com over the shipped Pastebin threshold")
    http_paste_flow(c, "paste", CLIENT, 50007, "198.51.100.13",
                    target_egress=max(paste_thr, T) + 3000)
    c = cap("vol_unlisted", "backup.example.net, over every threshold")
    tls_flow(c, "unlisted", CLIENT, 50008, "198.51.100.14", 443, "backup.example.net", None,
             target_egress=max(paste_thr, T) + 50000, isn=(0x08000000, 0x78000000))
    c = cap("vol_ingress", "an outside client uploads to a home server (SNI github.com)")
    tls_flow(c, "ingress", "198.51.100.20", 50009, "10.0.0.80", 443, "github.com", "Github",
             upload=T * 3, isn=(0x09000000, 0x79000000))
    c = cap("vol_download", "10.0.0.5 downloads 200 KiB from github.com")
    tls_flow(c, "download", CLIENT, 50010, "198.51.100.10", 443, "github.com", "Github",
             upload=0, download=200 * 1024, isn=(0x0A000000, 0x7A000000))
    c = cap("vol_case", "SNI Gist.GitHub.COM, egress twice the threshold: one alert")
    tls_flow(c, "case", CLIENT, 50011, "198.51.100.15", 443, "Gist.GitHub.COM", "Github",
             target_egress=2 * T, isn=(0x0B000000, 0x7B000000))
    c = cap("vol_ipv6", "fd00::5 -> 2001:db8::443:10, SNI github.com, over")
    tls_flow(c, "ipv6", "fd00::5", 50012, "2001:db8::443:10", 443, "github.com", "Github",
             target_egress=T + 5000, isn=(0x0C000000, 0x7C000000))
    c = cap("vol_app_only", "SNI gitlab.com: only the app-only test signature can match")
    tls_flow(c, "app-only", CLIENT, 50013, "198.51.100.16", 443, "gitlab.com", "GitLab",
             target_egress=T + 8000, isn=(0x0D000000, 0x7D000000))
    return specs


def expect(flow, sigs):
    out = {"egress_bytes": flow.egress_bytes(), "alerts": [], "why_not": {}}
    for s in sigs:
        thr = s["min_egress_bytes"]
        if not sig_matches(s, flow):
            continue
        if allowlisted(flow):
            out["why_not"][str(s["id"])] = "allowlisted destination"
            continue
        hit = flow.crossing(thr)
        if hit is None:
            out["why_not"][str(s["id"])] = "egress %d below %d" % (flow.egress_bytes(), thr)
            continue
        frame, ts, total = hit
        out["alerts"].append({"signature_id": s["id"], "threshold": thr, "egress_bytes": total,
                              "packet": frame, "timestamp_usec": ts})
    return out


def write_all(outdir, pack_path):
    shipped = load_pack(pack_path)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "volume-test.yaml"), "w") as fp:
        fp.write(test_pack_yaml())
    runs = {"test_pack": {"signatures": "volume-test.yaml", "sigs": TEST_SIGS},
            "shipped_pack": {"signatures": os.path.relpath(os.path.abspath(pack_path),
                                                           os.path.dirname(HERE)),
                             "sigs": shipped}}
    manifest = {"version": 1, "home_net": HOME_NET, "allowlist_destinations": ALLOWLIST,
                "test_threshold": TEST_THRESHOLD, "capture_order": [], "captures": {},
                "signatures": {}, "runs": {}, "problems": []}
    for run, r in runs.items():
        manifest["runs"][run] = {"signatures": r["signatures"],
                                 "signature_ids": [s["id"] for s in r["sigs"]]}
        for s in r["sigs"]:
            manifest["signatures"][str(s["id"])] = {
                "name": s["name"], "category": s["category"], "severity": s["severity"],
                "min_egress_bytes": s["min_egress_bytes"], "app": s.get("app", []),
                "hosts": s.get("hosts", [])}
    for c in build_captures(shipped):
        fname = c.name + ".pcap"
        with open(os.path.join(outdir, fname), "wb") as fp:
            fp.write(G.pcap_bytes(c.linktype, c.frames))
        flows = []
        for f in c.flows:
            fl = {"label": f.label, "proto": "TCP", "src_ip": f.cli, "src_port": f.cport,
                  "dest_ip": f.srv, "dest_port": f.sport,
                  "community_id": G.community_id(6, f.cli, f.srv, f.cport, f.sport),
                  "kind": f.kind, "name": f.name, "ndpi_app": f.ndpi_app,
                  "app_proto": "TLS" if f.kind == "tls" else "HTTP",
                  "start_usec": f.start, "frames": len(f.log),
                  "egress_side": {0: "toserver", 1: "toclient", None: None}[f.egress_side()],
                  "allowlisted": allowlisted(f), "expect": {}}
            if f.kind == "http":
                fl["http"] = f.http
            for run, r in runs.items():
                fl["expect"][run] = expect(f, r["sigs"])
            flows.append(fl)
        manifest["capture_order"].append(c.name)
        manifest["captures"][c.name] = {"file": fname, "frames": len(c.frames),
                                        "notes": c.notes, "flows": flows}
    # The cases must say what they are meant to say.
    want = {"vol_tls_over": (1, 0), "vol_tls_exact": (1, 0), "vol_http_paste": (1, 1),
            "vol_case": (2, 0), "vol_ipv6": (1, 0), "vol_app_only": (1, 0)}
    for name, entry in manifest["captures"].items():
        ex = entry["flows"][0]["expect"]
        got = (len(ex["test_pack"]["alerts"]), len(ex["shipped_pack"]["alerts"]))
        if got != want.get(name, (0, 0)):
            manifest["problems"].append("%s: %s alerts expected, the model gives %s" % (
                name, want.get(name, (0, 0)), got))
    over = manifest["captures"]["vol_tls_over"]["flows"][0]["expect"]["test_pack"]["alerts"]
    if over and over[0]["egress_bytes"] == TEST_THRESHOLD:
        manifest["problems"].append("vol_tls_over crosses at a segment end, not mid-segment")
    exact = manifest["captures"]["vol_tls_exact"]["flows"][0]["expect"]["test_pack"]["alerts"]
    if exact and exact[0]["egress_bytes"] != TEST_THRESHOLD:
        manifest["problems"].append("vol_tls_exact does not reach the threshold exactly")
    under = manifest["captures"]["vol_tls_under"]["flows"][0]["expect"]["test_pack"]
    if under["egress_bytes"] != TEST_THRESHOLD - 1:
        manifest["problems"].append("vol_tls_under egress is %d" % under["egress_bytes"])
    with open(os.path.join(outdir, "expected.json"), "w") as fp:
        json.dump(manifest, fp, indent=1, sort_keys=True)
        fp.write("\n")
    return manifest


def main(argv):
    args = argv[1:]
    pack = os.path.join(os.path.dirname(HERE), "signatures", "egress-volume.yaml")
    if len(args) == 3 and args[0] in ("-s", "--signatures"):
        pack, args = args[1], args[2:]
    if len(args) != 1 or args[0].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    rc = G.need_yaml(yaml, argv, "gen_volume_pcaps", "the volume pack")
    if rc is not None:
        return rc
    m = write_all(args[0], pack)
    for p in m["problems"]:
        sys.stderr.write("gen_volume_pcaps: problem: %s\n" % p)
    print("wrote %d captures, volume-test.yaml and expected.json to %s" % (
        len(m["captures"]), args[0]))
    return 1 if m["problems"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
