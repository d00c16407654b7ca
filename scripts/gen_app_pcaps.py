#!/usr/bin/env python3
"""gen_app_pcaps.py — deterministic captures for leakwatch's application-layer decoding.

    python3 scripts/gen_app_pcaps.py [--signatures PATH] OUTDIR

Built with scripts/gen_pcaps.py (headers, checksums, fixed timestamps and sequence numbers) in
the style of gen_dlp_pcaps.py: every capture starts 10 s after the previous one and every flow
has its own 5-tuple, so one sensor run can read them all. Values come from the shipped
signature packs (PATH, default signatures/) and are checked with gen_dlp_pcaps.py's reference
model: each planted value is found by its signature in the decoded text the sensor's layer
holds, and (for decoded-only layers) not in the bytes on the wire.

Captures (OUTDIR/*.pcap):
  http_gzip_chunked   a home server's chunked gzip response (odd chunk and segment cuts)
  http_encodings      deflate (zlib), deflate (raw, no zlib header), br responses
  http_pipeline       pipelined GET/HEAD/conditional GET (200, HEAD with Content-Length, 304),
                      then a POST body; and a home server answering a pipeline, gzip last
  http_multipart      multipart/form-data: a form field and customers.csv
  http_forms          urlencoded POST body (user%40example.com), percent-encoded query
  http_basic_auth     Authorization: Basic base64(user:AKIA...)
  http_json           JSON with a base64 field; JSON with \\u0040-escaped e-mail addresses
  smtp_mime           EHLO/MAIL/RCPT/DATA, multipart/mixed: RFC 2047 Subject, quoted-printable
                      text (soft line breaks, =40, a dot-stuffed line), base64 leak.csv
  smtp_bdat           BDAT chunks (BDAT n, BDAT n LAST) with a base64 attachment
  imap_append         IMAP APPEND (base64 attachment) and MULTIAPPEND with LITERAL+
  smtp_starttls       STARTTLS after EHLO, then TLS records (values in them must not alert)
  ftp                 PASV + STOR, PORT (active, data from port 20) + STOR, EPSV + STOR
  dns_exfil           45 long random names under exfil.example.net; an AWS key split over labels
  guard_gzip_bomb     gzip of 1 GiB of zeros in a POST, then a normal request (run "bomb")
  guard_decode_limit  a 3 MB gzip body (value past 2 MB), then a plain request (runs "main"
                      and "limit": decode.max_decoded_mb 1)
  guard_mime_depth    a mail with multipart nested 20 deep
  raw_layers          raw TCP on port 5555; values seen in a raw and a decoded layer at once

OUTDIR/expected.json: runs (captures, extra config, arguments), captures, and
  expect   per planted value set: capture, runs, signature (id, name), values (the alert's value
           is one of them), layer (null: any), flow 5-tuple, direction, fields (dotted paths
           the alert must carry, e.g. fileinfo.filename, ftp.command, tunnel.domain)
  absent   values that must not be reported in a run
  quiet    flows that must have no alert and no dlp entry
  errors   error events (kind one of, flow 5-tuple: error.flow_id names it)
  dlp      flow.dlp counts (matches, distinct) for values seen in two layers of one message
  stats    minimum counters of the run's stats event (dotted paths under stats)

Needs the yaml module (python3-yaml); without it, exit 77 (see gen_pcaps.need_yaml). br bodies
use the python brotli module, else libbrotlienc (the sensor's build dependency) via ctypes;
without either the br flow is left out (noted in expected.json).
"""

import base64
import ctypes
import ctypes.util
import hashlib
import json
import os
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_pcaps as G  # noqa: E402
import gen_dlp_pcaps as D  # noqa: E402

ACK, PSH, FIN = G.TCP_ACK, G.TCP_PSH, G.TCP_FIN
HOME_CLIENT = "10.0.0.5"
HOME_SERVER = "10.0.1.80"
OUT_CLIENT = "198.51.100.40"
WEB = "198.51.100.7"
MX = "198.51.100.25"
FTP_SERVER = "198.51.100.21"
RESOLVER = "192.0.2.53"
TUNNEL_ID, TUNNEL_NAME = 6001, "dns.tunnel_suspect"

# ---------------------------------------------------------------------------------------------
# Values (checked against the shipped signatures' validators)
# ---------------------------------------------------------------------------------------------

_counter = {"vin": 0, "aws": 0, "email": 0}


def vin():
    n = _counter["vin"] = _counter["vin"] + 1
    v = G.make_vin("1HGCM826", "R%s%06d" % ("ABCDEFGH"[n % 8], 104729 * n % 1000000))
    assert D.v_vin(v.encode()), v
    return v


def aws_key():
    while True:
        n = _counter["aws"] = _counter["aws"] + 1
        k = "AKIA" + base64.b32encode(hashlib.sha256(b"leakwatch app %d" % n).digest())[:16] \
            .decode()
        if D.v_aws(k.encode()) and D.entropy(k.encode()) >= 3.4:
            return k


FIRST = ["anna", "ben", "chloe", "david", "emma", "farid", "grace", "hiro", "ines", "jonas",
         "kim", "lena", "mario", "nora", "oscar", "paula"]


def emails(k, domain="example.com"):
    out = []
    for _ in range(k):
        n = _counter["email"] = _counter["email"] + 1
        out.append("%s.%s%d@%s" % (FIRST[n % len(FIRST)], "lee", n, domain))
    assert all(D.v_email(e.encode()) for e in out)
    return out


def labelled(v):
    return "VIN: " + v


# ---------------------------------------------------------------------------------------------
# Encodings
# ---------------------------------------------------------------------------------------------


def gzip_bytes(data, level=9):
    c = zlib.compressobj(level, zlib.DEFLATED, 31)  # gzip header with mtime 0: deterministic
    return c.compress(data) + c.flush()


def deflate_raw(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def brotli_bytes(data):
    """(compressed, how) or (None, why not)."""
    try:
        import brotli
        return brotli.compress(data, quality=11), "python brotli module"
    except ImportError:
        pass
    name = ctypes.util.find_library("brotlienc") or "libbrotlienc.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None, "neither the python brotli module (python3-brotli) nor libbrotlienc"
    out = ctypes.create_string_buffer(len(data) + 1024)
    size = ctypes.c_size_t(len(out))
    lib.BrotliEncoderCompress.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                          ctypes.c_size_t, ctypes.c_char_p,
                                          ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p]
    if not lib.BrotliEncoderCompress(11, 22, 0, len(data), data, ctypes.byref(size), out):
        return None, "BrotliEncoderCompress failed"
    return out.raw[:size.value], "libbrotlienc via ctypes"


def chunked(data, sizes, ext_at=1):
    """Chunked transfer coding: chunks of the given sizes (the rest in one), an extension on
    chunk ext_at, a trailer field."""
    out, pos, i = b"", 0, 0
    while pos < len(data):
        n = sizes[i] if i < len(sizes) else len(data) - pos
        n = min(n, len(data) - pos)
        ext = b";note=odd" if i == ext_at else b""
        out += b"%x%s\r\n" % (n, ext) + data[pos:pos + n] + b"\r\n"
        pos += n
        i += 1
    return out + b"0\r\nX-Checksum: none\r\n\r\n"


def qp_lines(text_lines):
    """Quoted-printable: '@' as =40, '=' as =3D; a line is (text, [soft break positions])."""
    out = []
    for line, breaks in text_lines:
        enc = ""
        for i, ch in enumerate(line):
            if i in breaks:
                enc += "=\r\n"
            enc += {"@": "=40", "=": "=3D"}.get(ch, ch)
        out.append(enc)
    return "\r\n".join(out).encode() + b"\r\n"


def b64_lines(data, width=76):
    s = base64.b64encode(data)
    return b"".join(s[i:i + width] + b"\r\n" for i in range(0, len(s), width))


def letters(tag, n):
    """n deterministic bytes of lower-case words (no digits: no numeric signature matches),
    compressing about 1.7:1."""
    out, k = bytearray(), 0
    alphabet = b"abcdefghijklmnopqrstuvwxyz"
    while len(out) < n:
        for j, byte in enumerate(hashlib.sha256(b"%s:%d" % (tag.encode(), k)).digest()):
            out.append(alphabet[byte % 26] if j % 7 else 32)
        out.append(10)
        k += 1
    return bytes(out[:n])


# ---------------------------------------------------------------------------------------------
# Protocol messages
# ---------------------------------------------------------------------------------------------


def http_req(method, path, headers=(), body=b"", host="upload.example.net"):
    head = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/8.4.0\r\nAccept: */*\r\n" % (
        method, path, host)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    if body and not any(k.lower() == "transfer-encoding" for k, _ in headers):
        head += "Content-Length: %d\r\n" % len(body)
    return (head + "\r\n").encode() + body


def http_resp(status, headers=(), body=b"", length=True):
    reason = {200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified"}[status]
    head = "HTTP/1.1 %d %s\r\nServer: nginx\r\nDate: Wed, 01 May 2024 10:00:00 GMT\r\n" % (
        status, reason)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    if length and not any(k.lower() in ("transfer-encoding", "content-length")
                          for k, _ in headers):
        head += "Content-Length: %d\r\n" % len(body)
    return (head + "\r\n").encode() + body


def html_page(lines):
    body = "<html><head><title>Fleet report</title></head><body>\n"
    body += "".join("<p>%s</p>\n" % ln for ln in lines)
    return (body + "</body></html>\n").encode()


def dns_nxdomain(query):
    return query[:2] + b"\x81\x83" + query[4:]


# ---------------------------------------------------------------------------------------------
# The manifest and its checks
# ---------------------------------------------------------------------------------------------


class Manifest:
    def __init__(self, sigs):
        self.sigs = {s.id: s for s in sigs if s.kind == "content"}
        self.all_ids = {s.id: s for s in sigs}
        self.model = D.Model(sigs)
        self.expect, self.absent, self.quiet, self.errors, self.dlp = [], [], [], [], []
        self.notes = []
        self.port = 42000

    def next_port(self):
        self.port += 1
        return self.port

    def sig(self, sid):
        if sid in self.sigs:
            return self.sigs[sid]
        raise SystemExit("gen_app_pcaps: signature %d is not in the packs" % sid)

    def model_check(self, sid, values, text, wire):
        """Every value is found by signature sid in text (the decoded layer); with wire, none
        is found in the bytes on the wire (the layer is the only place it can be seen)."""
        sig = self.sig(sid)
        found = {v.decode() for v in self.model.values_of(sig, text)}
        missing = [v for v in values if v not in found]
        if missing:
            raise SystemExit("gen_app_pcaps: signature %d does not find %r in its layer text "
                             "(generator design error)" % (sid, missing))
        if wire is not None:
            raw = {v.decode() for v in self.model.values_of(sig, wire)}
            if raw & set(values):
                raise SystemExit("gen_app_pcaps: %r visible on the wire for %d" %
                                 (sorted(raw & set(values)), sid))

    def want(self, cap, f, sid, values, layer, text=None, wire=None, side=0, fields=None,
             runs=("main",), note=""):
        values = [values] if isinstance(values, str) else list(values)
        sig = self.sig(sid)
        if text is not None:
            self.model_check(sid, values, text, wire)
        if len(values) < sig.threshold:
            raise SystemExit("gen_app_pcaps: %d values for signature %d (threshold %d)" %
                             (len(values), sid, sig.threshold))
        self.expect.append({"capture": cap.name, "runs": list(runs), "signature_id": sid,
                            "signature": sig.name, "values": values, "layer": layer,
                            "flow": flow_tuple(f), "direction": "egress", "side": side,
                            "fields": fields or {}, "note": note})

    def want_absent(self, cap, f, values, runs, why):
        self.absent.append({"capture": cap.name, "runs": list(runs), "flow": flow_tuple(f),
                            "values": values, "why": why})


def flow_tuple(f):
    return {"proto": f.proto, "src_ip": f.cli, "src_port": f.cport, "dest_ip": f.srv,
            "dest_port": f.sport}


CAPTURES = []


def new_capture(name, notes):
    cap = D.new_capture(name)
    cap.notes = notes
    CAPTURES.append(cap)
    return cap


def tcp_flow(m, cap, cli, sport, srv, cport=None, **kw):
    """A TCP flow from cli to srv:sport (client port: the next free one unless given)."""
    return G.Flow(cap, "TCP", cli, cport or m.next_port(), srv, sport,
                  cisn=0x10000000 + 7919 * m.port, sisn=0x60000000 + 104729 * m.port, **kw)


def send(f, side, data, cuts=(), mss=1400, ack=True):
    """Sends data in segments: first the lengths in cuts, then at most mss bytes each; the
    peer ACKs at the end."""
    pos = 0
    for n in list(cuts):
        if pos >= len(data):
            break
        f.tcp(side, ACK | PSH, data[pos:pos + n])
        pos += n
    while pos < len(data):
        f.tcp(side, ACK | PSH, data[pos:pos + mss])
        pos += mss
    if ack:
        f.tcp(1 - side, ACK)


def exchange(f, steps):
    """steps: (side, bytes[, cuts]) sent in turn."""
    for st in steps:
        send(f, st[0], st[1], st[2] if len(st) > 2 else ())


def smtp_session(f, commands, data_bytes=None, data_cuts=()):
    """An SMTP dialogue: greeting, then (command, reply) pairs; DATA content after 354."""
    send(f, 1, b"220 mx.example.net ESMTP Postfix\r\n")
    for cmd, reply in commands:
        send(f, 0, cmd)
        if cmd == b"DATA\r\n":
            send(f, 1, b"354 End data with <CR><LF>.<CR><LF>\r\n")
            send(f, 0, data_bytes, data_cuts)
        send(f, 1, reply)


EHLO_REPLY = (b"250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
              b"250-CHUNKING\r\n250 SMTPUTF8\r\n")


def dot_stuff(msg):
    lines = msg.split(b"\r\n")
    return b"\r\n".join(b"." + ln if ln.startswith(b".") else ln for ln in lines)


# ---------------------------------------------------------------------------------------------
# The captures
# ---------------------------------------------------------------------------------------------


def cap_gzip_chunked(m):
    cap = new_capture("http_gzip_chunked", "home server answers an outside client: chunked "
                      "gzip response, chunks and segments cut at odd places")
    f = tcp_flow(m, cap, OUT_CLIENT, 80, HOME_SERVER, cport=51001)
    v = vin()
    page = html_page(["Vehicle %d in service" % i for i in range(40)] + [labelled(v)] +
                     ["Odometer %d km" % (1000 * i) for i in range(40)])
    gz = gzip_bytes(page)
    body = chunked(gz, [1, 9, 2, 300, 7, 64])  # a chunk boundary inside the gzip header
    resp = http_resp(200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                           ("Transfer-Encoding", "chunked"), ("Vary", "Accept-Encoding")], body)
    f.handshake()
    exchange(f, [(0, http_req("GET", "/fleet/report", [("Accept-Encoding", "gzip")],
                              host="fleet.corp.example")),
                 (1, resp, [41, 130, 3, 5, 2, 17, 250])])
    f.fin_close(first=0)
    m.want(cap, f, 1001, v, "http.response.body/gzip", text=page, wire=resp, side=1)
    return cap


def cap_encodings(m):
    cap = new_capture("http_encodings", "home server responses with Content-Encoding deflate "
                      "(zlib), deflate (raw deflate, no zlib header) and br")
    br_probe, how = brotli_bytes(b"probe")
    variants = [("deflate", zlib.compress, "deflate (zlib)"),
                ("deflate", deflate_raw, "deflate (raw)")]
    if br_probe is not None:
        variants.append(("br", lambda d: brotli_bytes(d)[0], "br (%s)" % how))
    else:
        m.notes.append("br case left out: %s (install python3-brotli)" % how)
    for i, (enc, fn, label) in enumerate(variants):
        f = tcp_flow(m, cap, OUT_CLIENT, 80, HOME_SERVER, cport=51010 + i)
        v = vin()
        page = html_page(["Row %d of the %s export" % (k, label) for k in range(30)] +
                         [labelled(v)] + ["Status ok"] * 10)
        body = fn(page)
        resp = http_resp(200, [("Content-Type", "text/html"), ("Content-Encoding", enc)], body)
        f.handshake()
        exchange(f, [(0, http_req("GET", "/export/%d" % i, [("Accept-Encoding", enc)],
                                  host="fleet.corp.example")),
                     (1, resp, [len(resp) - len(body) + 3, 5])])
        f.fin_close(first=0)
        m.want(cap, f, 1001, v, "http.response.body/" + enc, text=page, wire=resp, side=1,
               note=label)
    return cap


def cap_pipeline(m):
    cap = new_capture("http_pipeline", "keep-alive pipelining: GET, HEAD, conditional GET in "
                      "one segment; 200, HEAD response with Content-Length and no body, 304")
    trio = (http_req("GET", "/a.txt") + http_req("HEAD", "/big.iso") +
            http_req("GET", "/logo.png", [("If-None-Match", '"5e1f-abc"')]))
    answers = (http_resp(200, [("Content-Type", "text/plain")], b"hello world\n") +
               http_resp(200, [("Content-Type", "application/octet-stream"),
                               ("Content-Length", "734003200")], length=False) +
               http_resp(304, [("ETag", '"5e1f-abc"'), ("Cache-Control", "max-age=60")],
                         length=False))
    # client at home: the POST after the pipeline carries the value
    f = tcp_flow(m, cap, HOME_CLIENT, 80, WEB)
    v = vin()
    post_body = ("report for %s\nmileage 120000\n" % labelled(v)).encode()
    post = http_req("POST", "/api/report", [("Content-Type", "text/plain")], post_body)
    f.handshake()
    exchange(f, [(0, trio), (1, answers), (0, post), (1, http_resp(201, body=b"stored\n"))])
    f.fin_close(first=0)
    m.want(cap, f, 1001, v, "http.request.body", text=post_body)
    # server at home: its answers are egress; the last one (gzip) only decodes when the HEAD
    # and 304 responses were known to have no body
    g = tcp_flow(m, cap, OUT_CLIENT, 80, HOME_SERVER)
    w = vin()
    page = html_page(["Export line %d" % k for k in range(20)] + [labelled(w)])
    gz = gzip_bytes(page)
    last = http_resp(200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], gz)
    g.handshake()
    exchange(g, [(0, trio + http_req("POST", "/export", [("Content-Type", "text/plain")],
                                     b"format=html\n")),
                 (1, answers + last, [len(answers) + 20])])
    g.fin_close(first=0)
    m.want(cap, g, 1001, w, "http.response.body/gzip", text=page, wire=answers + last, side=1)
    return cap


def cap_multipart(m):
    cap = new_capture("http_multipart", "multipart/form-data: a form field, then customers.csv")
    f = tcp_flow(m, cap, HOME_CLIENT, 80, WEB)
    v = vin()
    mails, vins = emails(10), [vin() for _ in range(5)]
    csv = "id,name,contact,vehicle\r\n"
    for i, e in enumerate(mails):
        csv += "%d,Customer %d,%s,%s\r\n" % (i + 1, i + 1, e, vins[i] if i < 5 else "none")
    note = "Please check %s before Friday." % labelled(v)
    bnd = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    body = ("--%s\r\nContent-Disposition: form-data; name=\"notes\"\r\n\r\n%s\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"customers.csv\""
            "\r\nContent-Type: text/csv\r\n\r\n%s\r\n--%s--\r\n" % (bnd, note, bnd, csv, bnd)
            ).encode()
    req = http_req("POST", "/crm/import", [("Content-Type",
                                             "multipart/form-data; boundary=" + bnd)], body)
    f.handshake()
    exchange(f, [(0, req, [200, 333]), (1, http_resp(200, body=b"imported\n"))])
    f.fin_close(first=0)
    m.want(cap, f, 1001, v, "http.request.multipart.body", text=note.encode())
    fi = {"fileinfo.filename": "customers.csv"}
    m.want(cap, f, 3001, mails, "http.request.multipart.attachment", text=csv.encode(),
           fields=fi)
    m.want(cap, f, 1002, vins, "http.request.multipart.attachment", text=csv.encode(),
           fields=fi)
    return cap


def pct(s, chars):
    return "".join("%%%02X" % ord(c) if c in chars else c for c in s)


def cap_forms(m):
    cap = new_capture("http_forms", "urlencoded POST body with user%40example.com addresses; "
                      "a query string with a percent-encoded AWS key id")
    f = tcp_flow(m, cap, HOME_CLIENT, 80, WEB)
    mails = emails(10)
    body = "&".join("contact%d=%s" % (i, pct(e, "@")) for i, e in enumerate(mails))
    body = ("action=export&comment=" + pct("weekly list, all sites", " ,") + "&" + body).encode()
    key = aws_key()
    query = "/api/sync?mode=full&token=" + key[:9] + "%" + "%02X" % ord(key[9]) + key[10:]
    req1 = http_req("POST", "/crm/export", [("Content-Type", "application/x-www-form-urlencoded")],
                    body)
    req2 = http_req("GET", query)
    f.handshake()
    exchange(f, [(0, req1), (1, http_resp(200, body=b"ok\n")), (0, req2),
                 (1, http_resp(200, body=b"synced\n"))])
    f.fin_close(first=0)
    decoded = body.replace(b"%40", b"@").replace(b"%20", b" ").replace(b"%2C", b",")
    m.want(cap, f, 3001, mails, "http.request.body/urlencoded", text=decoded, wire=req1)
    m.want(cap, f, 2001, key, "http.request.uri/urlencoded",
           text=("/api/sync?mode=full&token=" + key).encode(), wire=req2)
    return cap


def cap_basic_auth(m):
    cap = new_capture("http_basic_auth", "Authorization: Basic base64(svc-backup:AKIA...)")
    f = tcp_flow(m, cap, HOME_CLIENT, 80, WEB)
    key = aws_key()
    cred = ("svc-backup:" + key).encode()
    req = http_req("GET", "/backup/latest", [("Authorization",
                                              "Basic " + base64.b64encode(cred).decode())])
    f.handshake()
    exchange(f, [(0, req), (1, http_resp(204, length=False))])
    f.fin_close(first=0)
    m.want(cap, f, 2001, key, "http.request.header.authorization/base64", text=cred, wire=req)
    return cap


def cap_json(m):
    cap = new_capture("http_json", "JSON bodies: a base64 field holding a labelled VIN; "
                      "e-mail addresses written with \\u0040")
    f = tcp_flow(m, cap, HOME_CLIENT, 80, WEB)
    v = vin()
    inner = ("Vehicle handover form. %s, owner since 2019, service history attached." %
             labelled(v)).encode()
    body1 = json.dumps({"form": "handover", "data": base64.b64encode(inner).decode(),
                        "pages": 1}).encode()
    mails = emails(10)
    body2 = ('{"list":"newsletter","members":[%s]}' % ",".join(
        '"%s"' % e.replace("@", "\\u0040") for e in mails)).encode()
    req1 = http_req("POST", "/api/forms", [("Content-Type", "application/json")], body1)
    req2 = http_req("POST", "/api/lists", [("Content-Type", "application/json; charset=utf-8")],
                    body2)
    f.handshake()
    exchange(f, [(0, req1), (1, http_resp(201, body=b"{}")), (0, req2),
                 (1, http_resp(201, body=b"{}"))])
    f.fin_close(first=0)
    m.want(cap, f, 1001, v, "http.request.body/base64", text=inner, wire=req1)
    m.want(cap, f, 3001, mails, "http.request.body/json",
           text=body2.replace(b"\\u0040", b"@"), wire=req2)
    return cap


def mime_headers(subject, ctype, extra=""):
    return ("From: Alice Example <alice@corp.example>\r\nTo: Bob <bob@partner.example>\r\n"
            "Subject: %s\r\nDate: Wed, 01 May 2024 10:00:00 +0000\r\n"
            "Message-ID: <20240501100000.1@corp.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: %s\r\n%s\r\n" % (subject, ctype, extra)).encode()


def smtp_envelope():
    return [(b"EHLO laptop.corp.example\r\n", EHLO_REPLY),
            (b"MAIL FROM:<alice@corp.example>\r\n", b"250 2.1.0 Ok\r\n"),
            (b"RCPT TO:<bob@partner.example>\r\n", b"250 2.1.5 Ok\r\n")]


def cap_smtp_mime(m):
    cap = new_capture("smtp_mime", "SMTP DATA: RFC 2047 Subject, quoted-printable body (soft "
                      "breaks inside values, =40, a dot-stuffed line), base64 leak.csv")
    f = tcp_flow(m, cap, HOME_CLIENT, 25, MX)
    key = aws_key()
    subj_text = "Zugang AKIA fuer Bob: %s" % key
    subject = "=?UTF-8?B?%s?=" % base64.b64encode(subj_text.encode()).decode()
    v = vin()
    mails = emails(9, "example.org") + ["sofia.martinez@example.org"]
    intro = "the car is %s, as agreed." % labelled(v)
    qp_text = [("Hello Bob,", []), ("", []), (intro, [14, 24]),  # inside "VIN:", the VIN
               ("Contacts for the handover:", [])]
    qp_text += [("- %s" % e, [len(e) // 2]) for e in mails[:-1]]
    # a soft break right before ".martinez": the next line starts with a dot (stuffed)
    qp_text += [("- sofia.martinez@example.org (dot-stuffed line)", [7])]
    qp = qp_lines(qp_text)
    text_plain = "".join(line + "\r\n" for line, _ in qp_text).encode()
    vins = [vin() for _ in range(5)]
    csv = ("plate,vin,owner\r\n" + "".join("B-XY %d,%s,fleet\r\n" % (100 + i, x)
                                           for i, x in enumerate(vins))).encode()
    bnd = "=_mixed_0042"
    msg = mime_headers(subject, 'multipart/mixed; boundary="%s"' % bnd)
    msg += ("This is a multi-part message in MIME format.\r\n--%s\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: "
            "quoted-printable\r\n\r\n" % bnd).encode() + qp
    msg += ("--%s\r\nContent-Type: text/csv; name=\"leak.csv\"\r\nContent-Disposition: "
            "attachment; filename=\"leak.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            % bnd).encode() + b64_lines(csv) + ("--%s--\r\n" % bnd).encode()
    wire = dot_stuff(msg) + b".\r\n"
    assert b"\r\n..martinez" in wire
    f.handshake()
    smtp_session(f, smtp_envelope() + [(b"DATA\r\n", b"250 2.0.0 Ok: queued as 4F2A1\r\n"),
                                       (b"QUIT\r\n", b"221 2.0.0 Bye\r\n")], wire, [300, 211])
    f.fin_close(first=0)
    m.want(cap, f, 2001, key, "smtp.mime.header/rfc2047", text=subj_text.encode(), wire=wire)
    m.want(cap, f, 1001, v, "smtp.mime.body/quoted-printable", text=text_plain, wire=wire)
    m.want(cap, f, 3001, mails, "smtp.mime.body/quoted-printable", text=text_plain,
           note="the last address is whole only once the dot-stuffing is undone; "
                "alice@corp.example and bob@partner.example (envelope, headers) count too")
    m.want(cap, f, 1002, vins, "smtp.mime.attachment/base64", text=csv, wire=wire,
           fields={"fileinfo.filename": "leak.csv"})
    return cap


def cap_smtp_bdat(m):
    cap = new_capture("smtp_bdat", "SMTP CHUNKING: BDAT n, BDAT n LAST; base64 keys.txt")
    f = tcp_flow(m, cap, HOME_CLIENT, 587, MX)
    key = aws_key()
    txt = ("[default]\r\naws_access_key_id = %s\r\nregion = eu-west-1\r\n" % key).encode()
    bnd = "b1_bdat_7"
    msg = mime_headers("keys", 'multipart/mixed; boundary="%s"' % bnd)
    msg += ("--%s\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--%s\r\n"
            "Content-Type: text/plain; name=keys.txt\r\nContent-Disposition: attachment; "
            "filename=keys.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n" % (bnd, bnd)
            ).encode() + b64_lines(txt, 20) + ("--%s--\r\n" % bnd).encode()
    cut = len(msg) - 90  # the second chunk starts inside the base64 lines
    c1, c2 = msg[:cut], msg[cut:]
    f.handshake()
    smtp_session(f, smtp_envelope())
    send(f, 0, b"BDAT %d\r\n" % len(c1) + c1, [7, 200])
    send(f, 1, b"250 2.0.0 %d octets received\r\n" % len(c1))
    send(f, 0, b"BDAT %d LAST\r\n" % len(c2) + c2)
    send(f, 1, b"250 2.0.0 Ok: queued as 77B1C\r\n")
    send(f, 0, b"QUIT\r\n")
    send(f, 1, b"221 2.0.0 Bye\r\n")
    f.fin_close(first=0)
    m.want(cap, f, 2001, key, "smtp.mime.attachment/base64", text=txt, wire=msg,
           fields={"fileinfo.filename": "keys.txt"})
    return cap


def cap_smtp_starttls(m):
    cap = new_capture("smtp_starttls", "STARTTLS after EHLO; the TLS records that follow hold "
                      "byte strings that would alert in clear text: nothing may be reported")
    f = tcp_flow(m, cap, HOME_CLIENT, 25, MX)
    f.handshake()
    smtp_session(f, [(b"EHLO laptop.corp.example\r\n",
                      b"250-mx.example.net\r\n250-PIPELINING\r\n250 STARTTLS\r\n"),
                     (b"STARTTLS\r\n", b"220 2.0.0 Ready to start TLS\r\n")])
    v, key = vin(), aws_key()
    junk = G.filler("starttls", 600)
    record = (b"\x17\x03\x03\x02\x00" + junk[:200] +
              (" %s aws %s " % (labelled(v), key)).encode() + junk[200:500])
    send(f, 0, G.tls_client_hello("mx.example.net"))
    send(f, 1, b"\x16\x03\x03\x00\x7a" + hashlib.sha512(b"server hello").digest() * 2)
    send(f, 0, record)
    send(f, 1, b"\x17\x03\x03\x00\x40" + hashlib.sha512(b"app").digest())
    f.fin_close(first=0)
    m.model_check(1001, [v], record, None)  # would alert, were it scanned
    m.model_check(2001, [key], record, None)
    m.quiet.append({"capture": cap.name, "runs": ["main"], "flow": flow_tuple(f),
                    "values": [v, key], "why": "after STARTTLS"})
    return cap


def ftp_data(m, cap, f_ctl, announce, cmd, fname, active=False):
    """One transfer on the control connection f_ctl; returns the data flow."""
    send(f_ctl, 0, announce[0])
    send(f_ctl, 1, announce[1])
    send(f_ctl, 0, ("%s %s\r\n" % (cmd, fname)).encode())
    send(f_ctl, 1, b"150 Ok to send data.\r\n")
    key, vins = aws_key(), [vin() for _ in range(5)]
    content = ("host,aws_key,vin\r\n" + "".join(
        "srv%d,%s,%s\r\n" % (i, key if i == 2 else "-", x) for i, x in enumerate(vins))).encode()
    if active:  # the server connects from port 20 to the port the client announced
        d = G.Flow(cap, "TCP", FTP_SERVER, 20, HOME_CLIENT, announce[2], cisn=0x2000 + m.port,
                   sisn=0x3000 + m.port)
        d.handshake()
        send(d, 1, content)
        d.fin_close(first=1)
    else:
        d = G.Flow(cap, "TCP", HOME_CLIENT, m.next_port(), FTP_SERVER, announce[2],
                   cisn=0x4000 + m.port, sisn=0x5000 + m.port)
        d.handshake()
        send(d, 0, content)
        d.fin_close(first=0)
    send(f_ctl, 1, b"226 Transfer complete.\r\n")
    fields = {"ftp.command": cmd, "ftp.filename": fname}
    side = 1 if active else 0
    m.want(cap, d, 2001, key, "ftp.data", text=content, side=side, fields=fields)
    m.want(cap, d, 1002, vins, "ftp.data", text=content, side=side, fields=fields)
    return d


def cap_ftp(m):
    cap = new_capture("ftp", "FTP control on port 21: PASV + STOR report.csv, PORT (active) + "
                      "STOR active.csv, EPSV + STOR epsv.csv")
    f = tcp_flow(m, cap, HOME_CLIENT, 21, FTP_SERVER)
    f.handshake()
    send(f, 1, b"220 (vsFTPd 3.0.3)\r\n")
    for c, r in ((b"USER backup\r\n", b"331 Please specify the password.\r\n"),
                 (b"PASS s3cret-pw\r\n", b"230 Login successful.\r\n"),
                 (b"TYPE I\r\n", b"200 Switching to Binary mode.\r\n")):
        send(f, 0, c)
        send(f, 1, r)
    ftp_data(m, cap, f, (b"PASV\r\n", b"227 Entering Passive Mode (198,51,100,21,195,80).\r\n",
                         50000), "STOR", "report.csv")
    ftp_data(m, cap, f, (b"PORT 10,0,0,5,156,65\r\n", b"200 PORT command successful.\r\n",
                         40001), "STOR", "active.csv", active=True)
    ftp_data(m, cap, f, (b"EPSV\r\n", b"229 Entering Extended Passive Mode (|||50002|)\r\n",
                         50002), "STOR", "epsv.csv")
    send(f, 0, b"QUIT\r\n")
    send(f, 1, b"221 Goodbye.\r\n")
    f.fin_close(first=0)
    return cap


def cap_dns(m, tunnel_sig):
    cap = new_capture("dns_exfil", "45 queries for long random names under exfil.example.net "
                      "from one host; one query with an AWS key id split over two labels")
    n = max(45, (tunnel_sig.threshold + 5) if tunnel_sig else 45)
    flows = [G.Flow(cap, "UDP", HOME_CLIENT, 53300 + i, RESOLVER, 53) for i in range(5)]
    for i in range(n):
        h = hashlib.sha256(b"exfil chunk %d" % i).digest() + hashlib.sha256(b"%d" % i).digest()
        if i % 2:
            lab = base64.b32encode(h).decode().rstrip("=").lower()
            name = "%s.%s.exfil.example.net" % (lab[:50], lab[50:62])
        else:
            name = "%s.%s.exfil.example.net" % (h.hex()[:48], h.hex()[48:60])
        q = G.dns_query(0x4000 + i, name)
        joined = name[:-len(".example.net")].replace(".", "").encode()
        if m.model.hits(joined, full=True):
            raise SystemExit("gen_app_pcaps: tunnel name %s matches a signature" % name)
        fl = flows[i % 5]
        fl.udp(0, q)
        fl.udp(1, dns_nxdomain(q))
    key = aws_key()
    g = G.Flow(cap, "UDP", HOME_CLIENT, 53399, RESOLVER, 53)
    name = "%s.%s.example.org" % (key[:11], key[11:])
    q = G.dns_query(0x5000, name)
    g.udp(0, q)
    g.udp(1, dns_nxdomain(q))
    m.want(cap, g, 2001, key, "dns.query", text=key.encode(), wire=q)
    m.expect.append({"capture": cap.name, "runs": ["main"], "signature_id": TUNNEL_ID,
                     "signature": tunnel_sig.name if tunnel_sig else TUNNEL_NAME,
                     "values": [], "layer": None, "flow": None, "flows_any":
                     [flow_tuple(x) for x in flows], "direction": "egress", "side": 0,
                     "fields": {"tunnel.domain": "example.net"}, "exactly_one": True,
                     "note": "%d distinct suspect names; tunnel.domain is the registered "
                             "domain (dns_query.h)" % n})
    return cap


def gzip_zeros_stream(total):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    zero, out = bytes(1 << 20), []
    for _ in range(total >> 20):
        out.append(c.compress(zero))
    out.append(c.flush())
    return b"".join(out)


def cap_gzip_bomb(m):
    cap = new_capture("guard_gzip_bomb", "POST with Content-Encoding gzip of 1 GiB of zeros "
                      "(about 1 MB on the wire), then a normal request on the same connection")
    f = tcp_flow(m, cap, HOME_CLIENT, 80, WEB)
    bomb = gzip_zeros_stream(1 << 30)
    v = vin()
    body2 = ("after the bomb: %s\n" % labelled(v)).encode()
    f.handshake()
    exchange(f, [(0, http_req("POST", "/upload/blob", [("Content-Type", "application/octet-"
                                                        "stream"), ("Content-Encoding", "gzip")],
                              bomb)),
                 (1, http_resp(200, body=b"ok\n")),
                 (0, http_req("POST", "/api/notes", [("Content-Type", "text/plain")], body2)),
                 (1, http_resp(200, body=b"ok\n"))])
    f.fin_close(first=0)
    m.want(cap, f, 1001, v, "http.request.body", text=body2, runs=["bomb"])
    m.errors.append({"capture": cap.name, "runs": ["bomb"], "flow": flow_tuple(f),
                     "kinds": ["decode_ratio", "decode_max_bytes"]})
    return cap


def cap_decode_limit(m):
    cap = new_capture("guard_decode_limit", "3 MB gzip body (an AWS key id after 2.2 MB of it), "
                      "then a plain request with a labelled VIN")
    f = tcp_flow(m, cap, HOME_CLIENT, 80, WEB)
    key, v = aws_key(), vin()
    snippet = ("\naws_access_key_id=%s\n" % key).encode()
    plain = letters("limit", 3 << 20)
    at = 2200 * 1024
    text = plain[:at] + snippet + plain[at:]
    gz = gzip_bytes(text, 6)
    body2 = ("second request: %s\n" % labelled(v)).encode()
    f.handshake()
    exchange(f, [(0, http_req("POST", "/upload/log", [("Content-Type", "text/plain"),
                                                      ("Content-Encoding", "gzip")], gz)),
                 (1, http_resp(200, body=b"ok\n")),
                 (0, http_req("POST", "/api/notes", [("Content-Type", "text/plain")], body2)),
                 (1, http_resp(200, body=b"ok\n"))])
    f.fin_close(first=0)
    m.want(cap, f, 2001, key, "http.request.body/gzip",
           text=text[at - 300:at + len(snippet) + 300], runs=["main"],
           note="with the default 64 MB budget the whole body is decoded")
    m.want_absent(cap, f, [key], ["limit"], "past decode.max_decoded_mb 1 of decoded bytes")
    m.want(cap, f, 1001, v, "http.request.body", text=body2, runs=["main", "limit"])
    m.errors.append({"capture": cap.name, "runs": ["limit"], "flow": flow_tuple(f),
                     "kinds": ["decode_max_bytes"]})
    return cap


def cap_mime_depth(m):
    cap = new_capture("guard_mime_depth", "a mail whose multipart parts nest 20 deep; the "
                      "innermost text holds an AWS key id in clear text")
    f = tcp_flow(m, cap, HOME_CLIENT, 25, MX)
    key = aws_key()
    inner = ("Content-Type: text/plain\r\n\r\naws_access_key_id = %s\r\n" % key).encode()
    for d in range(19, -1, -1):
        b = "nest_%02d" % d
        inner = ("Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n" % (b, b)
                 ).encode() + inner + ("\r\n--%s--\r\n" % b).encode()
    msg = mime_headers("nested", "text/plain").split(b"Content-Type:")[0] + inner
    f.handshake()
    smtp_session(f, smtp_envelope() + [(b"DATA\r\n", b"250 2.0.0 Ok: queued as 9D0E\r\n"),
                                       (b"QUIT\r\n", b"221 2.0.0 Bye\r\n")],
                 dot_stuff(msg) + b".\r\n")
    f.fin_close(first=0)
    m.want(cap, f, 2001, key, None, text=inner,
           note="below the depth limit the raw stream still sees it; any layer")
    m.errors.append({"capture": cap.name, "runs": ["main"], "flow": flow_tuple(f),
                     "kinds": ["mime_depth"]})
    return cap


def cap_raw_layers(m):
    cap = new_capture("raw_layers", "raw TCP on port 5555; an AWS key id both in a header and "
                      "in the gzip body of one request; one plain and percent-decoded")
    f = tcp_flow(m, cap, HOME_CLIENT, 5555, WEB)
    key = aws_key()
    data = ("SYNC v2\nhost=build-07\naws_access_key_id=%s\nEND\n" % key).encode()
    f.handshake()
    exchange(f, [(0, data), (1, b"ACK\n")])
    f.fin_close(first=0)
    m.want(cap, f, 2001, key, "tcp.stream", text=data)
    g = tcp_flow(m, cap, HOME_CLIENT, 80, WEB)
    k2 = aws_key()
    body = ("config dump\naws_access_key_id=%s\n" % k2).encode()
    req = http_req("POST", "/api/config", [("X-Api-Key", k2), ("Content-Type", "text/plain"),
                                            ("Content-Encoding", "gzip")], gzip_bytes(body))
    head = req.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    g.handshake()  # the header block in a segment of its own: the header copy is seen first
    exchange(g, [(0, req, [len(head)]), (1, http_resp(200, body=b"ok\n"))])
    g.fin_close(first=0)
    m.want(cap, g, 2001, k2, "http.request.header", text=head,
           note="first seen in the header; its copy in the gzip body is the same message")
    m.dlp.append({"capture": cap.name, "runs": ["main"], "flow": flow_tuple(g),
                  "signature_id": 2001, "matches": 1, "distinct": 1,
                  "why": "raw header + decoded body of one message: counted once"})
    h = tcp_flow(m, cap, HOME_CLIENT, 80, WEB)
    k3 = aws_key()
    form = ("key=%s&note=rotated%%20today&by=%s" % (k3, pct("ops team", " "))).encode()
    req = http_req("POST", "/api/rotate", [("Content-Type", "application/x-www-form-urlencoded")],
                   form)
    h.handshake()
    exchange(h, [(0, req), (1, http_resp(200, body=b"ok\n"))])
    h.fin_close(first=0)
    m.want(cap, h, 2001, k3, None, text=form,
           note="in the raw body and in its urlencoded sub-layer (which replays the text "
                "before the first escape): any layer, counted once")
    m.dlp.append({"capture": cap.name, "runs": ["main"], "flow": flow_tuple(h),
                  "signature_id": 2001, "matches": 1, "distinct": 1,
                  "why": "raw body + urlencoded sub-layer of one message: counted once"})
    return cap


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def cap_imap_append(m):
    cap = new_capture("imap_append", "IMAP: LOGIN with literals (skipped), APPEND of a mail with "
                      "a base64 passwords.txt (synchronising literal), MULTIAPPEND (LITERAL+)")
    f = tcp_flow(m, cap, HOME_CLIENT, 143, MX)
    key = aws_key()
    txt = ("aws_access_key_id=%s\r\n" % key).encode()
    bnd = "imap_b_3"
    msg = mime_headers("backup", 'multipart/mixed; boundary="%s"' % bnd)
    msg += ("--%s\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--%s\r\n"
            "Content-Type: text/plain; name=passwords.txt\r\nContent-Disposition: attachment; "
            "filename=passwords.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            % (bnd, bnd)).encode() + b64_lines(txt, 24) + ("--%s--\r\n" % bnd).encode()
    v = vin()
    note = mime_headers("note", "text/plain") + ("car %s\r\n" % labelled(v)).encode()
    f.handshake()
    exchange(f, [(1, b"* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n"),
                 (0, b"a1 LOGIN {5}\r\n"), (1, b"+ go ahead\r\n"),
                 (0, b"alice {6+}\r\nsecret\r\n"), (1, b"a1 OK LOGIN completed\r\n"),
                 (0, b"a2 APPEND Sent (\\Seen) {%d}\r\n" % len(msg)),
                 (1, b"+ Ready for literal data\r\n"),
                 (0, msg + b"\r\n", [9, 120]), (1, b"a2 OK APPEND completed\r\n"),
                 (0, b"a3 APPEND Drafts {%d+}\r\n" % len(note) + note + b" {2+}\r\nhi\r\n"),
                 (1, b"a3 OK MULTIAPPEND completed\r\n"),
                 (0, b"a4 LOGOUT\r\n"), (1, b"* BYE\r\na4 OK LOGOUT completed\r\n")])
    f.fin_close(first=0)
    m.want(cap, f, 2001, key, "imap.mime.attachment/base64", text=txt, wire=msg,
           fields={"fileinfo.filename": "passwords.txt"})
    m.want(cap, f, 1001, v, "imap.mime.body", text=note)
    return cap


def write_all(outdir, sigpath):
    sigs = D.load_signatures(sigpath)
    m = Manifest(sigs)
    tunnel = next((s for s in sigs if s.kind == "dns_tunnel"), None)
    if tunnel is None:
        m.notes.append("no kind: dns_tunnel signature in %s: the tunnel alert (id %d) cannot "
                       "fire" % (sigpath, TUNNEL_ID))
    builders = [cap_gzip_chunked, cap_encodings, cap_pipeline, cap_multipart, cap_forms,
                cap_basic_auth, cap_json, cap_smtp_mime, cap_smtp_bdat, cap_smtp_starttls, cap_imap_append,
                cap_ftp, lambda m_: cap_dns(m_, tunnel), cap_gzip_bomb, cap_decode_limit,
                cap_mime_depth, cap_raw_layers]
    os.makedirs(outdir, exist_ok=True)
    for build in builders:
        cap = build(m)
        with open(os.path.join(outdir, cap.name + ".pcap"), "wb") as fp:
            fp.write(D.pcap_bytes(cap))
    names = [c.name for c in CAPTURES]
    runs = {
        "main": {"captures": [n for n in names if n != "guard_gzip_bomb"], "config": "",
                 "args": ["--reveal"]},
        "bomb": {"captures": ["guard_gzip_bomb"], "config": "", "args": ["--reveal"],
                 "max_rss_mb": 400},
        "limit": {"captures": ["guard_decode_limit"], "config": "decode:\n  max_decoded_mb: 1\n",
                  "args": ["--reveal"], "max_rss_mb": 400},
    }
    manifest = {
        "version": 1, "signatures_path": os.path.abspath(sigpath),
        "home_net": D.DEFAULT_HOME_NET, "runs": runs,
        "captures": {c.name: {"file": c.name + ".pcap", "frames": len(c.frames),
                              "notes": c.notes} for c in CAPTURES},
        "expect": m.expect, "absent": m.absent, "quiet": m.quiet, "errors": m.errors,
        "dlp": m.dlp, "notes": m.notes,
        "stats": {"main": {"app.layer.http_flows": 12, "app.layer.smtp_messages": 3,
                           "app.layer.smtp_starttls": 1, "app.layer.ftp_control_flows": 1,
                           "app.layer.ftp_data_flows": 3, "app.layer.dns_queries_scanned": 46,
                           "app.layer.guards": 1, "app.http.basic_auth": 1,
                           "app.http.chunked_bodies": 1, "app.http.multipart_bodies": 1,
                           "app.mime.attachments": 3, "app.mime.depth_exceeded": 1,
                           "app.layer.imap_messages": 3, "app.imap.appends": 3},
                  "bomb": {"app.layer.guards": 1, "app.decompress.bodies": 1},
                  "limit": {"app.layer.guards": 1, "app.decompress.limit": 1}},
    }
    with open(os.path.join(outdir, "expected.json"), "w") as fp:
        fp.write(json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False))
        fp.write("\n")
    return manifest


def main(argv):
    args = argv[1:]
    sigpath = os.path.join(os.path.dirname(HERE), "signatures")
    if len(args) == 3 and args[0] in ("-s", "--signatures"):
        sigpath, args = args[1], args[2:]
    if len(args) != 1 or args[0].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    rc = G.need_yaml(D.yaml, argv, "gen_app_pcaps", "the signature packs")
    if rc is not None:
        return rc
    m = write_all(args[0], sigpath)
    for n in m["notes"]:
        sys.stderr.write("gen_app_pcaps: note: %s\n" % n)
    print("wrote %d captures and expected.json to %s" % (len(m["captures"]), args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
