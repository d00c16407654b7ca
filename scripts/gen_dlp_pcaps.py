#!/usr/bin/env python3
"""gen_dlp_pcaps.py — deterministic captures that plant the shipped signatures' values in flows.

    python3 scripts/gen_dlp_pcaps.py [--signatures PATH] OUTDIR

PATH (default: the source tree's signatures/ directory) is a signature file or a directory of
*.yaml packs (interface.md section 4). The captures are built with scripts/gen_pcaps.py (same
headers, checksums, fixed timestamps, sequence numbers and addresses), so the same packs give
the same bytes on every run. Written to OUTDIR:

  dlp_match.pcap            one TCP flow per content signature: every `examples.match` snippet,
                            then generated distinct values up to the signature's threshold, then
                            the first snippet once more (a repeat: matches > distinct)
  dlp_bytewise.pcap         every signature's first match example, one byte per segment
  dlp_below_threshold.pcap  per signature with threshold N > 1: a flow with N-1 distinct values
  dlp_no_match.pcap         per signature: a flow with every `examples.no_match` snippet
  dlp_transport.pcap        one value per flow: split over two segments, over 1-byte segments,
                            out-of-order segments, after a capture gap (the peer ACKs the hole
                            before / after the data behind it), sequence wrap, IPv6, 802.1Q,
                            a home server's response to an outside client, a retransmission
                            with other bytes (first copy wins), mid-stream pickup, offset 0,
                            the same value both ways, a value ending the stream, a value after
                            thousands of others in one 60 KB segment, an AWS key id encoding
                            its account, UDP
  dlp_negative.pcap         must not alert: allow_values / allowlist.values, an allowlisted
                            destination, bad check digits (VIN, Luhn, GitHub CRC), a value a gap
                            splits (the bytes around the hole would form a valid value), a
                            context keyword cut off by a gap, a value split over two datagrams
  dlp_ingress.pcap          values sent towards the home network (alert only with --inspect all)
  examples.txt              every example snippet, for `leakwatch --scan`
  expected.json             per capture and run: the config, the planted values (signature,
                            direction, stream_offset, must it alert, why), every alert and every
                            flow's dlp list a correct sensor reports

The expectations come from a reference model, not from the sensor: the packets are fed to a
model of the reassembly (first data wins; a hole becomes a gap when the peer ACKs past it or
at the end; a gap ends the match context) that records which packet delivers each byte, and
the delivered bytes are matched with Python's `re` (leftmost start, longest match, the
`boundary`, `context`, `min_entropy`, allow-value rules) and Python ports of the validators.
Every value is followed by enough bytes in the same delivery that the packet completing it is
unambiguous (the generator checks that), except in dlp_bytewise and the flow whose value ends
the stream, where the packet delivering the value's last byte is the one expected.

The captures are 10 s apart in time and use distinct 5-tuples, so one sensor run can read them
all (-r repeated). Runs (expected.json "runs"): default, and --inspect all --reveal.

Needs the yaml module (python3-yaml) to read the packs: without it, it retries with
/usr/bin/python3, and failing that exits 77 with a message (the test skips).
"""

import base64
import bisect
import ipaddress
import json
import os
import re
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_pcaps as G  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the host
    yaml = None

MAX_VALUE = 256          # LW_MATCH_MAX_VALUE: values are at most this long
AFTER = MAX_VALUE + 8    # bytes that follow every value in the same delivery
DEFAULT_HOME_NET = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                    "fc00::/7"]
ALLOW_DEST = "203.0.113.0/24"
CLIENT = "10.0.0.5"
SERVER = "198.51.100.7"
PORT = 7000              # plain TCP: no HTTP/TLS/SMTP decoding, the layer is tcp.stream
FILLER_LINE = b"|" * 63 + b"\n"  # no shipped regex starts with, or ends in, these bytes
FILLER_BYTES = b"|\n"

# ---------------------------------------------------------------------------------------------
# Signature packs
# ---------------------------------------------------------------------------------------------


def load_yaml(path):
    with open(path, encoding="utf-8") as fp:
        return yaml.load(fp, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def pack_files(path):
    if os.path.isdir(path):
        return [os.path.join(path, n) for n in sorted(os.listdir(path))
                if n.endswith(".yaml") and not n.startswith(".")]
    return [path]


POSIX_CLASSES = {"[:digit:]": "0-9", "[:alpha:]": "A-Za-z", "[:alnum:]": "A-Za-z0-9",
                 "[:upper:]": "A-Z", "[:lower:]": "a-z", "[:space:]": " \\t\\n\\r\\f\\v",
                 "[:xdigit:]": "0-9A-Fa-f", "[:punct:]": "!-/:-@\\[-`{-~"}


def width_of(regex_bytes, flags):
    """(min, max) width of a regex, from Python's parser (max capped at MAX_VALUE)."""
    try:
        import re._parser as sre_parse  # Python >= 3.11
    except ImportError:  # pragma: no cover
        import sre_parse
    lo, hi = sre_parse.parse(regex_bytes, flags).getwidth()
    return lo, min(hi, MAX_VALUE)


class Sig:
    def __init__(self, d, path):
        self.raw = d
        self.file = path
        self.id = int(d["id"])
        self.name = str(d["name"])
        self.category = str(d["category"])
        self.severity = str(d["severity"])
        self.kind = str(d.get("kind", "content"))
        self.threshold = int(d.get("threshold", 1))
        self.boundary = bool(d.get("boundary", True))
        self.validator = d.get("validate")
        self.min_entropy = float(d.get("min_entropy", 0) or 0)
        flags = [str(f) for f in (d.get("flags") or [])]
        self.caseless = "caseless" in flags
        ctx = d.get("context") or {}
        self.keywords = [str(k).encode("utf-8").lower() for k in (ctx.get("keywords") or [])]
        self.within = int(ctx.get("within", 64)) if self.keywords else 0
        self.allow_values = [str(v).encode("utf-8") for v in (d.get("allow_values") or [])]
        ex = d.get("examples") or {}
        self.match = [str(x).encode("utf-8") for x in (ex.get("match") or [])]
        self.no_match = [str(x).encode("utf-8") for x in (ex.get("no_match") or [])]
        self.rx = None
        if self.kind == "content":
            regex = str(d["regex"])
            for k, v in POSIX_CLASSES.items():
                regex = regex.replace(k, v)
            pf = (re.I if self.caseless else 0) | (re.S if "dotall" in flags else 0) | \
                (re.M if "multiline" in flags else 0)
            rb = regex.encode("utf-8")
            self.rx = re.compile(rb, pf)
            self.minw, self.maxw = width_of(rb, pf)

    def meta(self):
        return {"name": self.name, "category": self.category, "severity": self.severity,
                "threshold": self.threshold, "validator": self.validator, "file": self.file}


def load_signatures(path):
    sigs = []
    for f in pack_files(path):
        doc = load_yaml(f)
        items = doc.get("signatures", []) if isinstance(doc, dict) else (doc or [])
        for d in items or []:
            if str(d.get("validate", "")).startswith("edm:"):
                continue  # off without its exact_match list, as in the sensor (test_edm.py)
            sigs.append(Sig(d, os.path.basename(f)))
    return sigs


# ---------------------------------------------------------------------------------------------
# Validators (Python ports of interface.md section 4's built-ins)
# ---------------------------------------------------------------------------------------------


def _isdigit(c):
    return 48 <= c <= 57


def _isupper(c):
    return 65 <= c <= 90


def _isalpha(c):
    return _isupper(c) or 97 <= c <= 122


def _isalnum(c):
    return _isdigit(c) or _isalpha(c)


VIN_LETTERS = {c: v for c, v in zip(b"ABCDEFGHJKLMNPRSTUVWXYZ",
                                    [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6,
                                     7, 8, 9])}
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def vin_value(c):
    if _isdigit(c):
        return c - 48
    return VIN_LETTERS.get(c, -1)


def vin_check(v):
    total = sum(vin_value(c) * w for c, w in zip(v, VIN_WEIGHTS))
    r = total % 11
    return ord("X") if r == 10 else 48 + r


def v_vin(s):
    if len(s) != 17 or any(vin_value(c) < 0 for c in s) or s[0] == ord("0"):
        return False
    if not all(_isdigit(c) for c in s[13:]):
        return False
    if ord("1") <= s[0] <= ord("5"):  # North America: model year and check digit
        my = s[9]
        if not (_isdigit(my) and my != ord("0")) and not (
                _isupper(my) and my not in b"IOQUZ"):
            return False
        return vin_check(s) == s[8]
    return True


def _digits_with_separators(s, maxd):
    """Digits of s where single ' ' or '-' may stand between two digits; None if not."""
    d = []
    for i, c in enumerate(s):
        if _isdigit(c):
            d.append(c - 48)
            if len(d) > maxd:
                return None
        elif c in b" -":
            if i == 0 or i + 1 == len(s) or not _isdigit(s[i - 1]) or not _isdigit(s[i + 1]):
                return None
        else:
            return None
    return d


def luhn_ok(d):
    total = 0
    for k, v in enumerate(reversed(d)):
        if k & 1:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return total % 10 == 0


def v_luhn(s):
    d = _digits_with_separators(s, 19)
    return d is not None and len(d) >= 12 and luhn_ok(d)


AWS_PREFIXES = [b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"AGPA", b"AIDA", b"AROA", b"AIPA", b"ANPA",
                b"ANVA", b"APKA", b"ASCA"]
B32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def v_aws(s):
    if len(s) != 20:
        return False
    if not (s[:4] in AWS_PREFIXES or (s[:3] == b"A3T" and (_isupper(s[3]) or _isdigit(s[3])))):
        return False
    return all(c in B32 for c in s[4:])


def aws_account(s):
    """The account a key id encodes (Aidan Steele's decoding), or None."""
    if B32.index(s[4]) < 16:
        return None
    raw = base64.b32decode(s[4:20])
    acct = (int.from_bytes(raw[:6], "big") & 0x7FFFFFFFFF80) >> 7
    return None if acct > 999999999999 else "%012d" % acct


BASE62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def github_crc(random30):
    crc = zlib.crc32(random30) & 0xFFFFFFFF
    out = bytearray()
    for _ in range(6):
        out.append(BASE62[crc % 62])
        crc //= 62
    return bytes(reversed(out))


def v_github(s):
    if len(s) == 40:
        if s[:2] != b"gh" or s[3:4] != b"_" or s[2:3] not in (b"p", b"o", b"u", b"s", b"r"):
            return False
        if not all(_isalnum(c) for c in s[4:]):
            return False
        return github_crc(s[4:34]) == s[34:]
    if len(s) == 93:
        p = len(b"github_pat_")
        return (s[:p] == b"github_pat_" and all(_isalnum(c) for c in s[p:p + 22]) and
                s[p + 22:p + 23] == b"_" and all(_isalnum(c) for c in s[p + 23:]))
    return False


# SWIFT IBAN registry: country -> (length, BBAN structure)
IBAN_REGISTRY = {
    "AD": (24, "4n4n12c"), "AE": (23, "3n16n"), "AL": (28, "8n16c"), "AT": (20, "5n11n"),
    "AZ": (28, "4a20c"), "BA": (20, "3n3n8n2n"), "BE": (16, "3n7n2n"), "BG": (22, "4a4n2n8c"),
    "BH": (22, "4a14c"), "BI": (27, "5n5n11n2n"), "BR": (29, "8n5n10n1a1c"),
    "BY": (28, "4c4n16c"), "CH": (21, "5n12c"), "CR": (22, "4n14n"), "CY": (28, "3n5n16c"),
    "CZ": (24, "4n6n10n"), "DE": (22, "8n10n"), "DJ": (27, "5n5n11n2n"), "DK": (18, "4n9n1n"),
    "DO": (28, "4c20n"), "EE": (20, "2n2n11n1n"), "EG": (29, "4n4n17n"),
    "ES": (24, "4n4n1n1n10n"), "FI": (18, "3n11n"), "FK": (18, "2a12n"), "FO": (18, "4n9n1n"),
    "FR": (27, "5n5n11c2n"), "GB": (22, "4a6n8n"), "GE": (22, "2a16n"), "GI": (23, "4a15c"),
    "GL": (18, "4n9n1n"), "GR": (27, "3n4n16c"), "GT": (28, "4c20c"), "HN": (28, "4a20n"),
    "HR": (21, "7n10n"), "HU": (28, "3n4n1n15n1n"), "IE": (22, "4a6n8n"), "IL": (23, "3n3n13n"),
    "IQ": (23, "4a3n12n"), "IS": (26, "4n2n6n10n"), "IT": (27, "1a5n5n12c"),
    "JO": (30, "4a4n18c"), "KW": (30, "4a22c"), "KZ": (20, "3n13c"), "LB": (28, "4n20c"),
    "LC": (32, "4a24c"), "LI": (21, "5n12c"), "LT": (20, "5n11n"), "LU": (20, "3n13c"),
    "LV": (21, "4a13c"), "LY": (25, "3n3n15n"), "MC": (27, "5n5n11c2n"), "MD": (24, "2c18c"),
    "ME": (22, "3n13n2n"), "MK": (19, "3n10c2n"), "MN": (20, "4n12n"), "MR": (27, "5n5n11n2n"),
    "MT": (31, "4a5n18c"), "MU": (30, "4a2n2n12n3n3a"), "NI": (28, "4a20n"), "NL": (18, "4a10n"),
    "NO": (15, "4n6n1n"), "OM": (23, "3n16c"), "PK": (24, "4a16c"), "PL": (28, "8n16n"),
    "PS": (29, "4a21c"), "PT": (25, "4n4n11n2n"), "QA": (29, "4a21c"), "RO": (24, "4a16c"),
    "RS": (22, "3n13n2n"), "RU": (33, "9n5n15c"), "SA": (24, "2n18c"), "SC": (31, "4a2n2n16n3a"),
    "SD": (18, "2n12n"), "SE": (24, "3n16n1n"), "SI": (19, "5n8n2n"), "SK": (24, "4n6n10n"),
    "SM": (27, "1a5n5n12c"), "SO": (23, "4n3n12n"), "ST": (25, "4n4n11n2n"),
    "SV": (28, "4a20n"), "TL": (23, "3n14n2n"), "TN": (24, "2n3n13n2n"), "TR": (26, "5n1n16c"),
    "UA": (29, "6n19c"), "VA": (22, "3n15n"), "VG": (24, "4a16n"), "XK": (20, "4n10n2n"),
    "YE": (30, "4a4n18c"),
}


def iban_mod97(compact):
    return int("".join(str(int(ch, 36)) for ch in (compact[4:] + compact[:4]).decode())) % 97


def v_iban(s):
    if not s or s[0] == 32 or s[-1] == 32 or b"  " in s:
        return False
    c = s.replace(b" ", b"")
    if not all(_isdigit(x) or _isupper(x) for x in c) or len(c) < 5 or len(c) > 34:
        return False
    if not (_isupper(c[0]) and _isupper(c[1]) and _isdigit(c[2]) and _isdigit(c[3])):
        return False
    reg = IBAN_REGISTRY.get(c[:2].decode())
    if not reg or len(c) != reg[0] or not (2 <= int(c[2:4]) <= 98):
        return False
    pos = 4
    for count, kind in re.findall(r"(\d+)([anc])", reg[1]):
        for x in c[pos:pos + int(count)]:
            if not {"n": _isdigit, "a": _isupper, "c": lambda y: _isdigit(y) or _isupper(y)}[
                    kind](x):
                return False
        pos += int(count)
    return pos == len(c) and iban_mod97(c) == 1


def my_number_check(d11):
    total = sum(d11[11 - k] * (k + 1 if k <= 6 else k - 5) for k in range(1, 12))
    r = total % 11
    return 0 if r <= 1 else 11 - r


def v_my_number(s):
    d = _digits_with_separators(s, 12)
    return d is not None and len(d) == 12 and my_number_check(d) == d[11]


ATEXT = set(b"!#$%&'*+-/=?^_`{|}~")


def v_email(s):
    if len(s) < 3 or len(s) > 254 or b"@" not in s:
        return False
    at = s.index(b"@")
    local, dom = s[:at], s[at + 1:]
    if not local or len(local) > 64 or local[:1] == b"." or local[-1:] == b"." or b".." in local:
        return False
    if not all(_isalnum(c) or c in ATEXT or c == 46 for c in local):
        return False
    labels = dom.split(b".")
    if len(labels) < 2:
        return False
    for lab in labels:
        if not lab or len(lab) > 63 or lab[:1] == b"-" or lab[-1:] == b"-":
            return False
        if not all(_isalnum(c) or c == 45 for c in lab):
            return False
    tld = labels[-1]
    return 2 <= len(tld) <= 24 and all(_isalpha(c) for c in tld)


def v_lat_lon(s):
    n = len(s)
    huge = 100000000

    def next_number(i):
        while i < n and not _isdigit(s[i]) and not (s[i] in b"-+" and i + 1 < n and
                                                     _isdigit(s[i + 1])):
            i += 1
        if i >= n:
            return None
        num = {"start": i, "sign": False, "ip": 0, "ipd": 0, "dec": 0, "fz": True}
        if s[i] in b"-+":
            num["sign"] = True
            i += 1
        while i < n and _isdigit(s[i]):
            if num["ip"] < huge:
                num["ip"] = num["ip"] * 10 + s[i] - 48
            num["ipd"] += 1
            i += 1
        if i + 1 < n and s[i] == 46 and _isdigit(s[i + 1]):
            i += 1
            while i < n and _isdigit(s[i]):
                num["dec"] += 1
                if s[i] != 48:
                    num["fz"] = False
                i += 1
        num["end"] = i
        return num

    def within(v, mx):
        return v["ip"] < mx or (v["ip"] == mx and v["fz"])

    def is_zero(v):
        return v["ip"] == 0 and v["fz"]

    def hemisphere(end):
        if end + 1 >= n or s[end] != 44:
            return 0
        h = s[end + 1]
        if h not in b"NSEW":
            return 0
        if end + 2 < n and _isalnum(s[end + 2]):
            return 0
        return h

    def nmea_ok(v, dd, mx):
        if v["sign"] or v["ipd"] != dd + 2 or v["dec"] == 0:
            return False
        deg, mins = v["ip"] // 100, v["ip"] % 100
        if mins >= 60 or deg > mx:
            return False
        return deg < mx or (mins == 0 and v["fz"])

    def last_key(lo, hi):
        i = hi
        while i >= lo + 3:
            w = bytes(c | 0x20 for c in s[i - 3:i])
            if w == b"lat":
                return "a"
            if w in (b"lon", b"lng"):
                return "o"
            i -= 1
        return ""

    a = next_number(0) if n else None
    if a is None:
        return False
    h = hemisphere(a["end"])
    if h:
        if h not in b"NS":
            return False
        pos = a["end"] + 2
        if pos >= n or s[pos] != 44:
            return False
        pos += 1
        if pos >= n or not _isdigit(s[pos]):
            return False
        lon = next_number(pos)
        if lon is None or hemisphere(lon["end"]) not in b"EW" or not hemisphere(lon["end"]):
            return False
        if not nmea_ok(a, 2, 90) or not nmea_ok(lon, 3, 180):
            return False
        return not (is_zero(a) and is_zero(lon))
    b = next_number(a["end"])
    if b is None or a["dec"] < 4 or b["dec"] < 4:
        return False
    lat, lon = a, b
    if last_key(0, a["start"]) == "o" and last_key(a["end"], b["start"]) == "a":
        lat, lon = b, a
    if not within(lat, 90) or not within(lon, 180):
        return False
    return not (is_zero(lat) and is_zero(lon))


PROBLEMS = []  # what the generator could not plant (reported in expected.json)

VALIDATORS = {"vin": v_vin, "luhn": v_luhn, "aws_key_id": v_aws, "github_token": v_github,
              "iban": v_iban, "jp_my_number": v_my_number, "email": v_email,
              "lat_lon": v_lat_lon}


def entropy(v):
    import math
    if not v:
        return 0.0
    counts = {}
    for c in v:
        counts[c] = counts.get(c, 0) + 1
    return -sum(k / len(v) * math.log2(k / len(v)) for k in counts.values())


# ---------------------------------------------------------------------------------------------
# The matcher model: validated values in one match context
# ---------------------------------------------------------------------------------------------


class Model:
    def __init__(self, sigs, allow_values=()):
        self.sigs = [s for s in sigs if s.kind == "content"]
        self.allow_values = [v.encode() if isinstance(v, str) else v for v in allow_values]

    def longest_end(self, sig, data, s, greedy_end):
        if sig.minw == sig.maxw:
            return greedy_end
        for e in range(min(len(data), s + sig.maxw), greedy_end, -1):
            if sig.rx.fullmatch(data, s, e):
                return e
        return greedy_end

    @staticmethod
    def islands(data):
        """[lo, hi) runs holding non-filler bytes (plus one byte each side), merged when
        fewer than 32 filler bytes apart: the only places a value can start."""
        out = []
        for m in re.finditer(rb"[^|\n]+", data):
            lo, hi = max(0, m.start() - 1), min(len(data), m.end() + 1)
            if out and lo - out[-1][1] < 32:
                out[-1][1] = hi
            else:
                out.append([lo, hi])
        return out

    def candidates(self, sig, data, islands=None):
        """(start, end) of every report the sensor turns into a candidate: leftmost start for
        the end, longest match from that start, letters/digits on neither side."""
        out = []
        for lo, hi in (islands if islands is not None else [(0, len(data))]):
            self._candidates(sig, data, lo, hi, out)
        return out

    def _candidates(self, sig, data, lo, hi, out):
        pos = lo
        endpos = min(len(data), hi + sig.maxw + 1)
        starts = []  # every position a match starts at, in order (search finds them all)
        while pos < hi:
            m = sig.rx.search(data, pos, endpos)
            if not m or m.start() >= hi:
                break
            s = m.start()
            pos = s + 1
            if m.end() == s:
                continue
            starts.append(s)
            if sig.boundary and s > 0 and _isalnum(data[s - 1]):
                continue
            e = self.longest_end(sig, data, s, m.end())
            if sig.boundary and e < len(data) and _isalnum(data[e]):
                continue
            first = bisect.bisect_left(starts, e - sig.maxw)
            if any(sig.rx.fullmatch(data, starts[i], e) for i in range(first, len(starts) - 1)):
                continue  # an earlier start reaches the same end: that one is reported
            out.append((s, e))

    def check(self, sig, data, s, e, ctx_lo=0):
        """None if the candidate validates, else why not."""
        v = bytes(data[s:e])
        if sig.min_entropy > 0 and entropy(v) < sig.min_entropy:
            return "entropy"
        if sig.keywords:
            lo = max(ctx_lo, s - sig.within)
            win = bytes(data[lo:s]).lower()
            if not any(k in win for k in sig.keywords):
                return "context"
        if sig.validator:
            fn = VALIDATORS.get(sig.validator)
            if fn is None:
                raise SystemExit("gen_dlp_pcaps: no model of validator %r (signature %d)" %
                                 (sig.validator, sig.id))
            if not fn(v):
                return "validator"
        allow = sig.allow_values + self.allow_values
        if (v.lower() in [a.lower() for a in allow]) if sig.caseless else (v in allow):
            return "allowlisted"
        return None

    def hits(self, data, sigs=None, full=False):
        """Validated values in data (one match context): [(sig, start, end)] sorted by end.
        Only the islands between filler runs are searched, unless full."""
        return self.analyze(data, sigs, full)[0]

    def analyze(self, data, sigs=None, full=False):
        """(hits, number of candidates the allow lists suppressed)."""
        out, allowlisted = [], 0
        isl = None if full else self.islands(data)
        for sig in sigs or self.sigs:
            for s, e in self.candidates(sig, data, isl):
                why = self.check(sig, data, s, e)
                if why is None:
                    out.append((sig, s, e))
                allowlisted += why == "allowlisted"
        out.sort(key=lambda h: (h[2], h[1], h[0].id))
        return out, allowlisted

    def values_of(self, sig, data):
        return [bytes(data[s:e]) for g, s, e in self.hits(data, [sig])]


# ---------------------------------------------------------------------------------------------
# Documents: planted snippets separated by neutral filler, with safe cut points
# ---------------------------------------------------------------------------------------------


class Doc:
    """A byte stream under construction. Every snippet stands on its own line between filler
    long enough that no context keyword, boundary or match window reaches the next one."""

    def __init__(self, spacing):
        self.spacing = spacing
        self.buf = bytearray()
        self.cuts = [0]
        self.items = []  # (offset, snippet, note)
        self.filler(spacing)

    def filler(self, n):
        while n > 0:
            chunk = FILLER_LINE[-n:] if n < len(FILLER_LINE) else FILLER_LINE
            self.buf += chunk
            n -= len(chunk)

    def plant(self, snippet, note=""):
        if not self.buf.endswith(b"\n"):
            self.buf += b"\n"
        off = len(self.buf)
        self.buf += snippet + b"\n"
        self.items.append((off, snippet, note))
        self.filler(self.spacing)
        self.cuts.append(len(self.buf) - 8)  # a safe place to end a segment
        return off

    def segments(self, mss=1400):
        """Cuts the stream at safe points into pieces of at most mss bytes (where possible)."""
        cuts = sorted(set(self.cuts + [len(self.buf)]))
        pieces, start, last = [], 0, 0
        for c in cuts[1:]:
            if c - start > mss and last > start:
                pieces.append(bytes(self.buf[start:last]))
                start = last
            last = c
        pieces.append(bytes(self.buf[start:]))
        return [p for p in pieces if p]


# ---------------------------------------------------------------------------------------------
# Flows that log their packets, and the reassembly model
# ---------------------------------------------------------------------------------------------


class DlpFlow(G.Flow):
    def __init__(self, cap, proto, cli, cport, srv, sport, label, **kw):
        super().__init__(cap, proto, cli, cport, srv, sport, **kw)
        self.label = label
        self.log = []
        self.planted = []  # dicts, see plant()

    def tcp(self, side, flags, data=b"", seq=None, ack=None, options=b"", ts=None):
        if seq is None:
            seq = self.nxt[side]
        if ack is None:
            ack = self.nxt[1 - side] if flags & G.TCP_ACK else 0
        frame = super().tcp(side, flags, data, seq=seq, ack=ack, options=options, ts=ts)
        self.log.append({"pkt": len(self.cap.frames), "ts": self.cap.frames[-1][0], "side": side,
                         "seq": seq & 0xFFFFFFFF, "ack": ack & 0xFFFFFFFF, "flags": flags,
                         "data": data})
        return frame

    def udp(self, side, data, ts=None):
        frame = super().udp(side, data, ts)
        self.log.append({"pkt": len(self.cap.frames), "ts": self.cap.frames[-1][0], "side": side,
                         "data": data, "udp": True})
        return frame

    def send_pieces(self, side, pieces, order=None):
        """Sends consecutive pieces of the stream, each one segment, in the given order."""
        base = self.nxt[side]
        offs = [sum(len(p) for p in pieces[:i]) for i in range(len(pieces))]
        for i in (order or range(len(pieces))):
            self.tcp(side, G.TCP_ACK | G.TCP_PSH, pieces[i], seq=base + offs[i])
        self.nxt[side] = (base + sum(len(p) for p in pieces)) & 0xFFFFFFFF

    def plant(self, side, stream_off, value, sig, must_alert, reason, must_list=None):
        """Records a value put into the stream on purpose (stream_off counts gap bytes):
        must it alert, must the flow's dlp list it (default: as must_alert); either may be a
        function of the run."""
        self.planted.append({"side": side, "stream_offset": stream_off, "value": value,
                             "signature_id": sig.id if sig else None,
                             "must_alert": must_alert,
                             "must_list": must_alert if must_list is None else must_list,
                             "reason": reason})

    def conversation(self, pieces, reply=b"OK\n", order=None, side=0):
        self.handshake()
        self.send_pieces(side, pieces, order)
        self.tcp(1 - side, G.TCP_ACK)
        self.send(1 - side, reply)
        self.tcp(side, G.TCP_ACK)
        self.fin_close(first=0)


class StreamModel:
    """One direction, as the sensor reassembles it (tcp_reassembly.c's documented rules)."""

    def __init__(self):
        self.started = False
        self.base = 0
        self.next_off = 0
        self.segs = {}           # offset -> byte (buffered, first copy wins)
        self.peer_ack = None     # stream offset the peer acknowledged
        self.events = []         # ("data", off, bytes, pkt) / ("gap", off, len, pkt)

    def start(self, seq):
        self.started = True
        self.base = seq & 0xFFFFFFFF

    def rel(self, seq):
        d = (seq - self.base) & 0xFFFFFFFF
        return d if d < 0x80000000 else d - 0x100000000

    def first_buffered(self):
        return min(self.segs) if self.segs else None

    def gap_to(self, upto, pkt):
        if upto > self.next_off:
            self.events.append(("gap", self.next_off, upto - self.next_off, pkt))
            self.next_off = upto

    def drain(self, pkt):
        out = bytearray()
        while self.next_off in self.segs:
            out.append(self.segs.pop(self.next_off))
            self.next_off += 1
        for o in [o for o in self.segs if o < self.next_off]:
            del self.segs[o]
        if out:
            self.events.append(("data", self.next_off - len(out), bytes(out), pkt))

    def acked_beyond(self):
        return self.peer_ack is not None and self.peer_ack > self.next_off

    def ack(self, ack_seq, pkt):
        if not self.started:
            return
        a = self.rel(ack_seq)
        if a <= self.next_off:
            return
        if self.peer_ack is None or a > self.peer_ack:
            self.peer_ack = a
        while self.segs and self.acked_beyond():
            self.gap_to(min(self.peer_ack, self.first_buffered()), pkt)
            self.drain(pkt)

    def data(self, seq, data, pkt):
        if not self.started:
            self.start(seq)
        start = self.rel(seq)
        while start > self.next_off and self.acked_beyond():
            upto = min(self.peer_ack, start)
            if self.segs:
                upto = min(upto, self.first_buffered())
            self.gap_to(upto, pkt)
            self.drain(pkt)
        if start <= self.next_off and not self.segs:  # in order: straight through
            fresh = data[self.next_off - start:]
            if fresh:
                self.events.append(("data", self.next_off, bytes(fresh), pkt))
                self.next_off += len(fresh)
            return
        for i, b in enumerate(data):
            o = start + i
            if o >= self.next_off and o not in self.segs:
                self.segs[o] = b
        self.drain(pkt)

    def flush(self):
        while self.segs:
            self.gap_to(self.first_buffered(), None)
            self.drain(None)

    def contexts(self):
        """Match contexts: runs of delivered bytes between gaps, as
        (start offset, bytes, packet of each byte)."""
        out, cur = [], None
        for ev in self.events:
            if ev[0] == "gap":
                cur = None
                continue
            _, off, data, pkt = ev
            if cur is None or cur[0] + len(cur[1]) != off:
                cur = [off, bytearray(), []]
                out.append(cur)
            cur[1] += data
            cur[2] += [pkt] * len(data)
        return out


def model_streams(flow):
    """Per side: the match contexts [(offset, bytes, pkts)] the sensor sees."""
    if flow.proto == "UDP":
        ctxs = [[], []]
        off = [0, 0]
        for rec in flow.log:
            d = rec["side"]
            ctxs[d].append([off[d], bytearray(rec["data"]), [rec["pkt"]] * len(rec["data"])])
            off[d] += len(rec["data"])
        return ctxs
    st = [StreamModel(), StreamModel()]
    for rec in flow.log:
        d, flags = rec["side"], rec["flags"]
        if flags & G.TCP_ACK:
            st[1 - d].ack(rec["ack"], rec["pkt"])
        seq = rec["seq"]
        if flags & G.TCP_SYN:
            if not st[d].started:
                st[d].start(seq + 1)
            seq += 1
        if rec["data"]:
            st[d].data(seq, rec["data"], rec["pkt"])
    for s in st:
        s.flush()
    return [s.contexts() for s in st]


NETS = {}


def in_nets(addr, nets):
    key = (addr, tuple(nets))
    if key not in NETS:
        a = ipaddress.ip_address(addr)
        NETS[key] = any(a.version == n.version and a in n
                        for n in (ipaddress.ip_network(x) for x in nets))
    return NETS[key]


# ---------------------------------------------------------------------------------------------
# Expected events
# ---------------------------------------------------------------------------------------------


def expect_flow(flow, model, run, frames):
    """The flow's dlp list and its alerts under one run configuration."""
    home = DEFAULT_HOME_NET
    allow = run["allow_destinations"]
    ends = [(flow.cli, flow.srv), (flow.srv, flow.cli)]
    if not hasattr(flow, "model_hits"):
        flow.model_hits = [[(ctx_off, data, pkts) + model.analyze(data)
                            for ctx_off, data, pkts in side_ctx]
                           for side_ctx in model_streams(flow)]
    entries, alerts = [], []
    counts = {"allowlisted_values": 0, "allowlisted_directions": 0, "allowlisted_bytes": 0,
              "validated": 0}
    for side in (0, 1):
        snd, rcv = ends[side]
        egress = in_nets(snd, home) and not in_nets(rcv, home)
        if not (egress or run["inspect_all"]):
            continue
        if in_nets(rcv, allow):
            nbytes = sum(len(c[1]) for c in flow.model_hits[side])
            counts["allowlisted_directions"] += nbytes > 0
            counts["allowlisted_bytes"] += nbytes
            continue
        direction = "egress" if egress else "ingress"
        hits = []
        for ctx_off, data, pkts, ctx_hits, n_allowlisted in flow.model_hits[side]:
            counts["allowlisted_values"] += n_allowlisted
            counts["validated"] += len(ctx_hits)
            for sig, s, e in ctx_hits:
                tail_ok = getattr(flow, "value_at_end", False) and pkts[e - 1] == pkts[-1]
                if not getattr(flow, "exact_packet", True):
                    tail_ok = True
                if flow.proto == "TCP" and not tail_ok and (
                        e + AFTER > len(data) or pkts[e - 1] != pkts[e + AFTER - 1]):
                    raise SystemExit("gen_dlp_pcaps: %s: value %r is not followed by %d bytes "
                                     "in the same delivery (generator design error)" %
                                     (flow.label, bytes(data[s:e]), AFTER))
                if pkts[e - 1] is None:
                    raise SystemExit("gen_dlp_pcaps: %s: value delivered only at the end" %
                                     flow.label)
                hits.append((sig, ctx_off + s, bytes(data[s:e]), pkts[e - 1]))
        per_sig, seen = {}, {}
        for sig, off, value, pkt in hits:  # in the order the sensor decides them
            ent = per_sig.get(sig.id)
            if ent is None:
                ent = per_sig[sig.id] = {"signature_id": sig.id, "direction": direction,
                                         "matches": 0, "values": [], "alerted": False}
                seen[sig.id] = set()
                entries.append(ent)
            ent["matches"] += 1
            if value in seen[sig.id]:
                continue
            seen[sig.id].add(value)
            ent["values"].append(value.decode("utf-8"))
            if not ent["alerted"] and len(ent["values"]) >= sig.threshold:
                ent["alerted"] = True
                alert = {"signature_id": sig.id, "direction": direction, "side": side,
                         "value": value.decode("utf-8"), "stream_offset": off,
                         "length": len(value), "distinct": len(ent["values"]),
                         "threshold": sig.threshold, "packet": pkt,
                         "timestamp_usec": frames[pkt - 1][0],
                         "layer": "tcp.stream" if flow.proto == "TCP" else "udp.payload"}
                if sig.validator == "aws_key_id":
                    acct = aws_account(value)
                    if acct:
                        alert["aws_account"] = acct
                alerts.append(alert)
    for ent in entries:
        ent["distinct"] = len(ent["values"])
    return entries, alerts, counts


def direction_of(flow, side):
    home = DEFAULT_HOME_NET
    snd, rcv = (flow.cli, flow.srv) if side == 0 else (flow.srv, flow.cli)
    return "egress" if in_nets(snd, home) and not in_nets(rcv, home) else "ingress"


def flow_manifest(flow, model, runs, frames):
    base = {"label": flow.label, "proto": flow.proto, "src_ip": flow.cli,
            "src_port": flow.cport, "dest_ip": flow.srv, "dest_port": flow.sport,
            "community_id": G.community_id(6 if flow.proto == "TCP" else 17, flow.cli,
                                           flow.srv, flow.cport, flow.sport),
            "vlan": list(flow.vlan) if flow.vlan else None, "start_usec": flow.start,
            "end_usec": flow.end}
    per_run = {}
    for name, run in runs.items():
        entries, alerts, counts = expect_flow(flow, model, run, frames)
        planted = []
        for p in flow.planted:
            q = dict(p)
            q["direction"] = direction_of(flow, p["side"])
            for k in ("must_alert", "must_list"):
                q[k] = p[k](run) if callable(p[k]) else p[k]
            planted.append(q)
        per_run[name] = {"dlp": entries, "alerts": alerts, "planted": planted,
                         "counts": counts}
    return base, per_run


# ---------------------------------------------------------------------------------------------
# Values: variants of a signature's examples, bad check digits
# ---------------------------------------------------------------------------------------------


def fix_check(validator, v):
    """v with its check digit(s) recomputed (validators that have one), else v."""
    v = bytearray(v)
    if validator == "vin" and len(v) == 17 and all(vin_value(c) >= 0 for c in v):
        v[8] = vin_check(bytes(v))
    elif validator in ("luhn", "jp_my_number"):
        idx = [i for i, c in enumerate(v) if _isdigit(c)]
        if len(idx) >= 2:
            d = [v[i] - 48 for i in idx]
            if validator == "luhn":
                for x in range(10):
                    if luhn_ok(d[:-1] + [x]):
                        break
            else:
                x = my_number_check(d) if len(d) == 12 else d[-1]
            v[idx[-1]] = 48 + x
    elif validator == "iban":
        c = bytes(v).replace(b" ", b"")
        if len(c) > 4 and all(_isdigit(x) or _isupper(x) for x in c):
            chk = 98 - iban_mod97(c[:2] + b"00" + c[4:])
            idx = [i for i, ch in enumerate(v) if ch != 32]
            v[idx[2]], v[idx[3]] = 48 + chk // 10, 48 + chk % 10
    elif validator == "github_token" and len(v) == 40:
        v[34:] = github_crc(bytes(v[4:34]))
    return bytes(v)


def check_positions(validator, v):
    """Positions fix_check() rewrites (mutating them is pointless)."""
    if validator == "vin":
        return {8}
    if validator in ("luhn", "jp_my_number"):
        idx = [i for i, c in enumerate(v) if _isdigit(c)]
        return {idx[-1]} if idx else set()
    if validator == "iban":
        idx = [i for i, c in enumerate(v) if c != 32]
        return set(idx[:4])
    if validator == "github_token":
        return set(range(0, 4)) | set(range(34, 40))
    return set()


def mutations(sig, value):
    """Deterministic single-character variants of value (check digits fixed up)."""
    fixed = check_positions(sig.validator, value)
    digits = [i for i in range(len(value) - 1, -1, -1) if _isdigit(value[i]) and i not in fixed]
    letters = [i for i in range(len(value) - 1, -1, -1) if _isalpha(value[i]) and i not in fixed]
    for pos in digits + letters:
        for j in range(1, 10 if _isdigit(value[pos]) else 26):
            v = bytearray(value)
            c = value[pos]
            if _isdigit(c):
                v[pos] = 48 + (c - 48 + j) % 10
            elif _isupper(c):
                v[pos] = 65 + (c - 65 + j) % 26
            else:
                v[pos] = 97 + (c - 97 + j) % 26
            yield fix_check(sig.validator, bytes(v))


SINGLE_CACHE = {}


def single_value_examples(model, sig):
    """(snippet, value) for each match example holding exactly one value of sig."""
    key = (id(model), sig.id)
    if key not in SINGLE_CACHE:
        SINGLE_CACHE[key] = _single_value_examples(model, sig)
    return SINGLE_CACHE[key]


def _single_value_examples(model, sig):
    out = []
    for ex in sig.match:
        vals = model.values_of(sig, b"\n" + ex + b"\n")
        if len(vals) == 1:
            out.append((ex, vals[0]))
    return out


def variant_snippets(model, sig, count, exclude):
    """count snippets, each the first single-value example with a new distinct value."""
    base = single_value_examples(model, sig)
    out, seen = [], set(exclude)
    for ex, value in base:
        i = ex.index(value)
        for v in mutations(sig, value):
            if v in seen:
                continue
            snip = ex[:i] + v + ex[i + len(value):]
            if model.values_of(sig, b"\n" + snip + b"\n") == [v]:
                out.append((snip, v))
                seen.add(v)
                if len(out) == count:
                    return out
    PROBLEMS.append("signature %d: could only generate %d of %d distinct values (no match "
                    "example with exactly one value the model validates)" % (sig.id, len(out),
                                                                             count))
    return out


def broken_check(model, sig, snippet, value):
    """The snippet with value's check digit wrong: the regex still matches, the validator
    refuses it. None if no such variant."""
    fixed = sorted(check_positions(sig.validator, value))
    i = snippet.index(value)
    for pos in fixed[::-1]:
        c = value[pos]
        alphabet = b"0123456789" if _isdigit(c) else (BASE62 if sig.validator == "github_token"
                                                       else b"0123456789X")
        for r in alphabet:
            if r == c:
                continue
            v = bytearray(value)
            v[pos] = r
            v = bytes(v)
            snip = snippet[:i] + v + snippet[i + len(value):]
            data = b"\n" + snip + b"\n"
            cands = [(s, e) for s, e in model.candidates(sig, data) if data[s:e] == v]
            if cands and model.check(sig, data, *cands[0]) == "validator":
                return snip, v
    return None


# ---------------------------------------------------------------------------------------------
# The captures
# ---------------------------------------------------------------------------------------------


CAPTURE_INDEX = [0]


def new_capture(name):
    """Captures are 10 s apart, so read in order by one sensor run their times only increase."""
    cap = G.Capture(name)
    cap.ts = G.BASE_TS + CAPTURE_INDEX[0] * 10000000
    CAPTURE_INDEX[0] += 1
    return cap


class Builder:
    def __init__(self, sigs, config_allow_values):
        self.sigs = [s for s in sigs if s.kind == "content"]
        self.by_id = {s.id: s for s in self.sigs}
        self.model = Model(sigs, config_allow_values)
        self.plain_model = Model(sigs)
        self.spacing = max([s.within for s in self.sigs] + [AFTER]) + 64
        self.port = 41000

    def next_port(self):
        self.port += 1
        return self.port

    def doc(self):
        return Doc(self.spacing)

    def planted_offsets(self, doc, base=0):
        """(sig, offset, value) of every validated value the model finds in a document."""
        return [(sig, base + s, bytes(doc.buf[s:e])) for sig, s, e in self.model.hits(doc.buf)]

    def threshold_one(self):
        return [s for s in self.sigs if s.threshold == 1 and single_value_examples(self.model, s)]

    def pick(self, prefer_validators, k=0):
        """A threshold-1 signature, preferring the given validators, rotating by k."""
        cands = self.threshold_one()
        ordered = sorted(cands, key=lambda s: (prefer_validators.index(s.validator)
                                               if s.validator in prefer_validators
                                               else len(prefer_validators), s.id))
        return ordered[k % len(ordered)] if ordered else None


def cap_match(b):
    cap = new_capture("dlp_match")
    for sig in b.sigs:
        doc = b.doc()
        first = None
        for ex in sig.match:
            doc.plant(ex, "example")
            first = first or ex
        values = set(b.model.values_of(sig, doc.buf))
        if len(values) < sig.threshold:
            for snip, v in variant_snippets(b.model, sig, sig.threshold - len(values), values):
                doc.plant(snip, "generated")
        if first is not None:
            doc.plant(first, "repeat")
        f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "match %d" % sig.id,
                    cisn=0x10000000 + sig.id * 7919, sisn=0x50000000 + sig.id * 104729)
        f.conversation(doc.segments())
        f.must_alert_sig = sig.id
        for s2, off, v in b.planted_offsets(doc):
            if s2.id == sig.id:
                f.plant(0, off, v.decode(), sig, True, "match example / generated value")
    cap.notes = "one flow per content signature: its match examples, values up to the threshold"
    return cap


def cap_below(b):
    cap = new_capture("dlp_below_threshold")
    for sig in b.sigs:
        if sig.threshold <= 1:
            continue
        doc = b.doc()
        single = single_value_examples(b.model, sig)
        if not single:
            PROBLEMS.append("signature %d: no below-threshold flow (no match example with "
                            "exactly one value)" % sig.id)
            continue
        ex, v0 = single[0]
        snips = variant_snippets(b.model, sig, sig.threshold - 2, {v0})
        for snip, _ in [(ex, v0)] + snips:
            doc.plant(snip)
        f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "below %d" % sig.id,
                    cisn=0x20000000 + sig.id * 7919, sisn=0x60000000 + sig.id * 104729)
        f.conversation(doc.segments())
        got = [v for s2, off, v in b.planted_offsets(doc) if s2.id == sig.id]
        if len(set(got)) != sig.threshold - 1:
            raise SystemExit("gen_dlp_pcaps: signature %d: below-threshold flow has %d values"
                             % (sig.id, len(set(got))))
        for s2, off, v in b.planted_offsets(doc):
            if s2.id == sig.id:
                f.plant(0, off, v.decode(), sig, False,
                        "%d of threshold %d distinct values" % (sig.threshold - 1, sig.threshold),
                        must_list=True)
    cap.notes = "threshold - 1 distinct values per bulk signature: listed, alerted false"
    return cap


def cap_no_match(b):
    cap = new_capture("dlp_no_match")
    for sig in b.sigs:
        if not sig.no_match:
            continue
        doc = b.doc()
        for ex in sig.no_match:
            doc.plant(ex)
        f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "no_match %d" % sig.id,
                    cisn=0x30000000 + sig.id * 7919, sisn=0x70000000 + sig.id * 104729)
        f.conversation(doc.segments())
        f.no_match_sig = sig.id
    cap.notes = "one flow per signature with all its no_match examples: none of them is its value"
    return cap


def cap_bytewise(b):
    cap = new_capture("dlp_bytewise")
    for sig in b.sigs:
        if not sig.match:
            continue
        doc = b.doc()
        ex = sig.match[0]
        start = doc.plant(ex)
        end = start + len(ex) + 1
        pieces = [bytes(doc.buf[:start])] + [bytes(doc.buf[i:i + 1])
                                             for i in range(start, end)] + [bytes(doc.buf[end:])]
        f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "bytewise %d" % sig.id,
                    cisn=0x40000000 + sig.id * 7919, sisn=0x48000000 + sig.id * 104729)
        f.exact_packet = False  # decided when enough later bytes arrived: packet not checked
        f.conversation(pieces)
        for s2, off, v in b.planted_offsets(doc):
            if s2.id == sig.id:
                f.plant(0, off, v.decode(), sig, sig.threshold == 1,
                        "first match example, one byte per segment", must_list=True)
    cap.notes = ("every signature's first match example sent one byte per segment (the "
                 "streaming matcher's start finding over its tail)")
    return cap


def first_value(b, sig):
    ex, v = single_value_examples(b.model, sig)[0]
    return ex, v


def cap_transport(b):
    cap = new_capture("dlp_transport")
    prefer = ["aws_key_id", "github_token", "luhn", "vin", "jp_my_number", "iban", None]
    k = [0]

    def sig_value():
        sig = b.pick(prefer, k[0])
        k[0] += 1
        ex, v = first_value(b, sig)
        return sig, ex, v

    def simple(label, cli, srv, **kw):
        sig, ex, v = sig_value()
        doc = b.doc()
        off = doc.plant(ex) + ex.index(v)
        f = DlpFlow(cap, "TCP", cli, b.next_port(), srv, PORT, label,
                    cisn=0x01000000 * k[0] + 17, sisn=0x02000000 * k[0] + 29, **kw)
        f.conversation(doc.segments())
        return f, sig, off, v

    # split across two segments: the cut falls in the middle of the value
    sig, ex, v = sig_value()
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    cut = off + len(v) // 2
    f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "split in two segments",
                cisn=0x0A0B0C0D, sisn=0x0D0C0B0A)
    f.conversation([bytes(doc.buf[:cut]), bytes(doc.buf[cut:])])
    f.plant(0, off, v.decode(), sig, True, "split over two segments")

    # 1-byte segments from the snippet's first byte (its label, if any) to the value's last
    # but one
    labelled = [g for g in b.threshold_one() if g.keywords]
    if labelled:
        sig = labelled[0]
        ex, v = first_value(b, sig)
    else:
        sig, ex, v = sig_value()
    doc = b.doc()
    start = doc.plant(ex)
    off = start + ex.index(v)
    last = off + len(v) - 1
    pieces = [bytes(doc.buf[:start])] + [bytes(doc.buf[i:i + 1]) for i in range(start, last)] + \
        [bytes(doc.buf[last:])]
    f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "1-byte segments",
                cisn=0x11111111, sisn=0x22222222)
    f.conversation(pieces)
    f.plant(0, off, v.decode(), sig, True, "%d one-byte segments" % (last - start))

    # out of order: three pieces sent 3, 1, 2
    sig, ex, v = sig_value()
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    c1, c2 = off + 3, off + len(v) - 3
    f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "out of order",
                cisn=0x33333333, sisn=0x44444444)
    f.conversation([bytes(doc.buf[:c1]), bytes(doc.buf[c1:c2]), bytes(doc.buf[c2:])],
                   order=[2, 0, 1])
    f.plant(0, off, v.decode(), sig, True, "pieces sent 3, 1, 2")

    # after a gap: lost bytes, the peer ACKs the hole before (a) / after (b) the next data
    for variant in ("ack-first", "data-first"):
        sig, ex, v = sig_value()
        lost = b"." * 500
        doc = b.doc()
        off = doc.plant(ex) + ex.index(v)
        head = bytes(b.doc().buf)
        f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "after a gap, " + variant,
                    cisn=0x55555555 if variant == "ack-first" else 0x56565656, sisn=0x66666666)
        f.handshake()
        f.tcp(0, G.TCP_ACK | G.TCP_PSH, head)
        f.skip(0, lost)
        if variant == "ack-first":
            f.tcp(1, G.TCP_ACK)  # the server got the lost bytes
            f.send_pieces(0, [bytes(doc.buf)])
        else:
            f.send_pieces(0, [bytes(doc.buf)])
            f.tcp(1, G.TCP_ACK)  # only now does the sensor learn the hole is permanent
        f.tcp(1, G.TCP_ACK)
        f.send(1, b"OK\n")
        f.tcp(0, G.TCP_ACK)
        f.fin_close(first=0)
        f.plant(0, len(head) + len(lost) + off, v.decode(), sig, True,
                "after a %d-byte capture gap (%s)" % (len(lost), variant))

    # sequence numbers wrap inside the value
    sig, ex, v = sig_value()
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    isn = (0xFFFFFFFF - (off + len(v) // 2)) & 0xFFFFFFFF  # seq 2^32 - 1 ... 0 inside the value
    f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "sequence wrap",
                cisn=isn, sisn=0xFFFFFF00)
    f.conversation(doc.segments(mss=700))
    f.plant(0, off, v.decode(), sig, True, "sequence numbers wrap inside the value")

    # IPv6
    f, sig, off, v = simple("IPv6", "fd00::5", "2001:db8::7")
    f.plant(0, off, v.decode(), sig, True, "IPv6 (ULA home -> global)")

    # 802.1Q
    tags = [(0x8100, 42)]
    f, sig, off, v = simple("802.1Q vlan 42", CLIENT, SERVER, vlan=[42],
                            link=lambda ip: G.ethernet_tagged(ip, G.ethertype_of(ip), tags))
    f.plant(0, off, v.decode(), sig, True, "inside 802.1Q VLAN 42")

    # a home server answering an outside client: the response is egress
    sig, ex, v = sig_value()
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    f = DlpFlow(cap, "TCP", "198.51.100.20", b.next_port(), "10.0.0.9", 8443,
                "home server response", cisn=0x77777777, sisn=0x88888888)
    f.handshake()
    f.send(0, b"GET\n" + b"-" * 40 + b"\n")
    f.tcp(1, G.TCP_ACK)
    f.send_pieces(1, doc.segments())
    f.tcp(0, G.TCP_ACK)
    f.fin_close(first=0)
    f.plant(1, off, v.decode(), sig, True, "home server -> outside client (egress)")

    # retransmission of the value's bytes with different content: the first copy wins
    sig, ex, v = sig_value()
    others = [x for x in variant_snippets(b.model, sig, 3, {v}) if len(x[1]) == len(v)]
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "retransmission differs",
                cisn=0x0BADF00D, sisn=0x0DEFACED)
    f.handshake()
    base = f.nxt[0]
    f.send_pieces(0, [bytes(doc.buf)])
    if others:
        v2 = others[0][1]
        f.tcp(0, G.TCP_ACK | G.TCP_PSH, v2, seq=base + off)  # same range, another value
        f.plant(0, off, v2.decode(), sig, False, "a later copy of bytes already received")
    f.tcp(1, G.TCP_ACK)
    f.send(1, b"OK\n")
    f.tcp(0, G.TCP_ACK)
    f.fin_close(first=0)
    f.plant(0, off, v.decode(), sig, True, "the first copy of retransmitted bytes")

    # the handshake was not captured: offset 0 is the first byte seen
    sig, ex, v = sig_value()
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "mid-stream pickup",
                cisn=0x12345678, sisn=0x23456789)
    f.nxt = [0x12345678 + 1 + 5000, 0x23456789 + 1 + 700]  # bytes sent before the capture
    f.isn = [None, None]
    f.send_pieces(0, doc.segments())
    f.tcp(1, G.TCP_ACK)
    f.send(1, b"OK\n")
    f.tcp(0, G.TCP_ACK)
    f.fin_close(first=0)
    f.plant(0, off, v.decode(), sig, True, "no handshake in the capture")

    # a value as the very first bytes of the stream
    starts = [(g, ex, v) for g in b.threshold_one() for ex, v in single_value_examples(b.model, g)
              if ex.startswith(v) and not g.keywords]
    if starts:
        sig, ex, v = starts[0]
        doc = Doc(0)
        doc.buf = bytearray(ex + b"\n")
        doc.filler(b.spacing)
        f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "value at offset 0",
                    cisn=0x31415926, sisn=0x27182818)
        f.conversation([bytes(doc.buf)])
        f.plant(0, 0, v.decode(), sig, True, "the first payload byte starts the value")

    # the same value both ways: the client sends it, the outside server echoes it
    sig, ex, v = sig_value()
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "echoed both ways",
                cisn=0x44440000, sisn=0x55550000)
    f.handshake()
    f.send_pieces(0, doc.segments())
    f.tcp(1, G.TCP_ACK)
    f.send_pieces(1, doc.segments())
    f.tcp(0, G.TCP_ACK)
    f.fin_close(first=0)
    f.plant(0, off, v.decode(), sig, True, "egress copy")
    f.plant(1, off, v.decode(), sig, lambda run: run["inspect_all"],
            "ingress copy (only --inspect all)")

    # the value ends the client's data: nothing but a newline and the FIN follow it (a
    # variable-width signature, whose longest possible match reaches past the newline)
    var = [g for g in b.threshold_one() if g.minw != g.maxw]
    if var:
        sig = sorted(var, key=lambda g: (g.validator != "luhn", g.id))[0]
        ex, v = first_value(b, sig)
    else:
        sig, ex, v = sig_value()
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    body = bytes(doc.buf[:off + len(v)]) + b"\n"
    f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "value at the end of the stream",
                cisn=0x66660000, sisn=0x77770000)
    f.value_at_end = True
    f.handshake()
    f.send_pieces(0, [body])
    f.tcp(1, G.TCP_ACK)
    f.fin_close(first=0)
    f.plant(0, off, v.decode(), sig, True, "the last bytes before the FIN")

    # one 60 KB segment (as captured on a host with TSO/GRO): many e-mail addresses (each
    # gives Hyperscan several match ends), then one value of another signature
    emails = [s2 for s2 in b.sigs if s2.validator == "email" and s2.threshold > 1]
    if emails:
        sig, ex, v = sig_value()
        n = (60000 - 3 * b.spacing) // 16
        lines = b"".join(b"u%02d@example.com\n" % (i % 50) for i in range(n))
        doc = b.doc()
        doc.buf += lines
        off = doc.plant(ex) + ex.index(v)
        f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "one 60 KB segment",
                    cisn=0x60606060, sisn=0x06060606)
        f.conversation([bytes(doc.buf)])
        f.plant(0, off, v.decode(), sig, True,
                "after %d e-mail addresses in the same %d-byte segment" % (n, len(doc.buf)))

    # an AWS key id that encodes its account (the examples are legacy keys that do not):
    # the published decoding example ASIAY34FZKBOKMUTVV7A -> 609629065308
    for sig in [g for g in b.sigs if g.validator == "aws_key_id"][:1]:
        ex, v = first_value(b, sig)
        key = b"ASIAY34FZKBOKMUTVV7A"
        snip = ex.replace(v, key)
        if b.model.values_of(sig, b"\n" + snip + b"\n") != [key]:
            continue
        doc = b.doc()
        off = doc.plant(snip) + snip.index(key)
        f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "AWS key with account",
                    cisn=0x0A0A0001, sisn=0x0B0B0001)
        f.conversation(doc.segments())
        f.plant(0, off, key.decode(), sig, True, "match.aws_account 609629065308")

    # UDP: the value in the second datagram
    sig, ex, v = sig_value()
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    first = bytes(b.doc().buf[:300])
    f = DlpFlow(cap, "UDP", CLIENT, b.next_port(), SERVER, 5514, "UDP datagrams")
    f.udp(0, first)
    f.udp(0, bytes(doc.buf))
    f.udp(1, b"OK\n")
    f.plant(0, len(first) + off, v.decode(), sig, True, "UDP, second datagram")
    cap.notes = "one value per flow through reassembly corner cases, IPv6, VLAN, UDP"
    return cap


def cap_negative(b, allow_values):
    cap = new_capture("dlp_negative")

    def flow(label, pieces, n):
        f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, label,
                    cisn=0x0F000000 * n + 1, sisn=0x0E000000 * n + 3)
        f.conversation(pieces)
        return f

    # allow_values: AKIAIOSFODNN7EXAMPLE and the config's allowlist.values
    aws = [s for s in b.sigs if s.validator == "aws_key_id"]
    doc = b.doc()
    planted = []
    if aws:
        sig = aws[0]
        ctx = sig.match[0] if sig.match else b"AKIAQYLPMN5HHHFPZAM2"
        vals = b.plain_model.values_of(sig, b"\n" + ctx + b"\n")
        snip = ctx.replace(vals[0], b"AKIAIOSFODNN7EXAMPLE") if vals else b"AKIAIOSFODNN7EXAMPLE"
        off = doc.plant(snip) + snip.index(b"AKIAIOSFODNN7EXAMPLE")
        planted.append((off, "AKIAIOSFODNN7EXAMPLE", sig, "AWS's documentation example key"))
    for sig_id, snip, v in allow_values:
        off = doc.plant(snip) + snip.index(v)
        planted.append((off, v.decode(), b.by_id[sig_id], "in config allowlist.values"))
    f = flow("allowlisted values", doc.segments(), 1)
    for off, v, sig, why in planted:
        f.plant(0, off, v, sig, False, why)

    # bad check digits
    n = 2
    for validator in ("vin", "luhn", "github_token"):
        for sig in [s for s in b.sigs if s.validator == validator]:
            ok = single_value_examples(b.model, sig)
            bad = broken_check(b.model, sig, *ok[0]) if ok else None
            if not bad:
                continue
            doc = b.doc()
            off = doc.plant(bad[0]) + bad[0].index(bad[1])
            f = flow("bad check digit %d" % sig.id, doc.segments(), n)
            n += 1
            f.plant(0, off, bad[1].decode(), sig, False, "%s check fails" % validator)
            break

    # a gap inside a value: the bytes on both sides of the hole would form a valid value
    sig = b.pick(["aws_key_id", "luhn", "vin"], 0)
    ex, v = first_value(b, sig)
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    cut = off + len(v) // 2
    lost = b"LOST" * 5
    f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "value split by a gap",
                cisn=0x0C0C0C0C, sisn=0x0D0D0D0D)
    f.handshake()
    f.tcp(0, G.TCP_ACK | G.TCP_PSH, bytes(doc.buf[:cut]))
    f.skip(0, lost)
    f.tcp(1, G.TCP_ACK)
    f.send_pieces(0, [bytes(doc.buf[cut:])])
    f.tcp(1, G.TCP_ACK)
    f.send(1, b"OK\n")
    f.tcp(0, G.TCP_ACK)
    f.fin_close(first=0)
    f.plant(0, off, v.decode(), sig, False,
            "a %d-byte gap splits it (the bytes around the hole are the whole value)" % len(lost))

    # a context keyword before a gap, the value after it: the gap ends the context
    labelled = [g for g in b.threshold_one() if g.keywords]
    if labelled:
        sig = labelled[0]
        ex, v = first_value(b, sig)
        doc = b.doc()
        off = doc.plant(ex) + ex.index(v)
        lost = b"|" * 40
        f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), SERVER, PORT, "label, gap, value",
                    cisn=0x0C0D0E0F, sisn=0x0F0E0D0C)
        f.handshake()
        f.tcp(0, G.TCP_ACK | G.TCP_PSH, bytes(doc.buf[:off]))
        f.skip(0, lost)
        f.tcp(1, G.TCP_ACK)
        f.send_pieces(0, [bytes(doc.buf[off:])])
        f.tcp(1, G.TCP_ACK)
        f.send(1, b"OK\n")
        f.tcp(0, G.TCP_ACK)
        f.fin_close(first=0)
        f.plant(0, off + len(lost), v.decode(), sig, False,
                "its label stands before a %d-byte gap" % len(lost))

    # UDP: a value split over two datagrams is two messages, not one value
    sig = b.pick(["aws_key_id", "luhn", "vin"], 1)
    ex, v = first_value(b, sig)
    doc = b.doc()
    off = doc.plant(ex) + ex.index(v)
    cut = off + len(v) // 2
    f = DlpFlow(cap, "UDP", CLIENT, b.next_port(), SERVER, 5514, "UDP value split")
    f.udp(0, bytes(doc.buf[:cut]))
    f.udp(0, bytes(doc.buf[cut:]))
    f.plant(0, off, v.decode(), sig, False, "split over two datagrams")

    # an allowlisted destination
    doc = b.doc()
    planted = []
    for sig in b.threshold_one():
        ex, v = first_value(b, sig)
        planted.append((doc.plant(ex) + ex.index(v), v, sig))
    f = DlpFlow(cap, "TCP", CLIENT, b.next_port(), "203.0.113.50", PORT,
                "allowlisted destination", cisn=0x0B0B0B0B, sisn=0x0A0A0A0A)
    f.conversation(doc.segments())
    for off, v, sig in planted:
        f.plant(0, off, v.decode(), sig, False, "destination in allowlist.destinations")
    cap.notes = "nothing here may alert or be listed"
    return cap


def cap_ingress(b):
    cap = new_capture("dlp_ingress")
    prefer = ["luhn", "aws_key_id", "vin", None]
    for k, (cli, srv, side) in enumerate((("198.51.100.30", "10.0.0.9", 0),
                                          (CLIENT, "198.51.100.31", 1))):
        sig = b.pick(prefer, k)
        ex, v = first_value(b, sig)
        doc = b.doc()
        off = doc.plant(ex) + ex.index(v)
        f = DlpFlow(cap, "TCP", cli, b.next_port(), srv, PORT,
                    "ingress (%s)" % ("outside client -> home server" if side == 0 else
                                      "outside server -> home client"),
                    cisn=0x09000000 + k, sisn=0x08000000 + k)
        f.handshake()
        if side == 1:
            f.send(0, b"GET\n" + b"-" * 40 + b"\n")
            f.tcp(1, G.TCP_ACK)
        f.send_pieces(side, doc.segments())
        f.tcp(1 - side, G.TCP_ACK)
        if side == 0:
            f.send(1, b"OK\n")
            f.tcp(0, G.TCP_ACK)
        f.fin_close(first=0)
        f.plant(side, off, v.decode(), sig, lambda run: run["inspect_all"],
                "sent towards the home network: only --inspect all scans it")
    cap.notes = "values sent from outside to the home network"
    return cap


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def config_allow_values(b0):
    """Two valid values for config allowlist.values: generated variants (so no other capture
    plants them by accident) of a Luhn and a VIN signature, or of any threshold-1 one."""
    out = []
    for validator in ("luhn", "vin", None):
        sigs = [s for s in b0.sigs if s.threshold == 1 and
                (validator is None or s.validator == validator) and
                single_value_examples(b0.model, s)]
        if not sigs or len(out) >= 2:
            continue
        snip, v = variant_snippets(b0.model, sigs[0], 7, set())[-1]
        if all(v != o[2] for o in out):
            out.append((sigs[0].id, snip, v))
    return out


def scan_file(sigs, model):
    doc = Doc(max([s.within for s in sigs] + [AFTER]) + 64)
    examples = []
    for sig in sigs:
        for kind, lst in (("match", sig.match), ("no_match", sig.no_match)):
            for ex in lst:
                off = doc.plant(ex)
                examples.append({"signature_id": sig.id, "kind": kind, "offset": off,
                                 "length": len(ex), "text": ex.decode("utf-8")})
    found = model.hits(doc.buf)
    if found != model.hits(doc.buf, full=True):  # the island shortcut must change nothing
        raise SystemExit("gen_dlp_pcaps: a signature matches across the filler bytes %r: the "
                         "model's island search is not valid for these packs" % FILLER_BYTES)
    hits = [{"signature_id": g.id, "offset": s, "length": e - s,
             "value": bytes(doc.buf[s:e]).decode("utf-8")} for g, s, e in found]
    return bytes(doc.buf), examples, hits


def pcap_bytes(cap):
    """The capture as a pcap file: gen_pcaps.pcap_bytes' format, built in linear time."""
    out = [G.struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, cap.linktype)]
    for ts, data in cap.frames:
        out.append(G.struct.pack("<IIII", ts // 1000000, ts % 1000000, len(data), len(data)))
        out.append(data)
    return b"".join(out)


def write_all(outdir, sigpath):
    sigs = load_signatures(sigpath)
    content = [s for s in sigs if s.kind == "content"]
    b0 = Builder(sigs, [])
    allow = config_allow_values(b0)
    b = Builder(sigs, [v for _, _, v in allow])
    runs = {"default": {"args": [], "inspect_all": False, "reveal": False},
            "inspect-all-reveal": {"args": ["--inspect", "all", "--reveal"],
                                   "inspect_all": True, "reveal": True}}
    for r in runs.values():
        r["allow_destinations"] = [ALLOW_DEST]
    builders = [cap_match, cap_bytewise, cap_below, cap_no_match, cap_transport,
                lambda b_: cap_negative(b_, allow), cap_ingress]
    os.makedirs(outdir, exist_ok=True)
    config = {"allowlist_destinations": [ALLOW_DEST],
              "allowlist_values": [v.decode() for _, _, v in allow]}
    manifest = {"version": 1, "signatures_path": os.path.abspath(sigpath),
                "signatures": {str(s.id): s.meta() for s in content},
                "volume_signatures": [s.id for s in sigs if s.kind != "content"],
                "config": config, "runs": runs, "captures": {}, "capture_order": []}
    for idx, build in enumerate(builders):
        cap = build(b)
        fname, data = cap.name + ".pcap", pcap_bytes(cap)
        with open(os.path.join(outdir, fname), "wb") as fp:
            fp.write(data)
        flows = []
        for f in cap.flows:
            base, per_run = flow_manifest(f, b.model, runs, cap.frames)
            if hasattr(f, "no_match_sig"):
                base["no_match_signature"] = f.no_match_sig
            if hasattr(f, "must_alert_sig"):
                base["must_alert_signature"] = f.must_alert_sig
            base["exact_packet"] = getattr(f, "exact_packet", True)
            base["expect"] = per_run
            flows.append(base)
        manifest["capture_order"].append(cap.name)
        manifest["captures"][cap.name] = {"file": fname, "frames": len(cap.frames),
                                          "notes": cap.notes, "flows": flows}
    text, examples, hits = scan_file(content, Model(sigs))
    with open(os.path.join(outdir, "examples.txt"), "wb") as fp:
        fp.write(text)
    manifest["scan"] = {"file": "examples.txt", "examples": examples, "hits": hits}
    manifest["problems"] = PROBLEMS
    with open(os.path.join(outdir, "expected.json"), "w") as fp:
        fp.write(json.dumps(manifest, sort_keys=True, ensure_ascii=False))
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
    rc = G.need_yaml(yaml, argv, "gen_dlp_pcaps", "the signature packs")
    if rc is not None:
        return rc
    m = write_all(args[0], sigpath)
    for p in m["problems"]:
        sys.stderr.write("gen_dlp_pcaps: warning: %s\n" % p)
    print("wrote %d captures, examples.txt and expected.json to %s" % (len(m["captures"]),
                                                                       args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
