#!/usr/bin/env python3
"""gen_pcaps.py — writes small deterministic captures for leakwatch's end-to-end tests.

    python3 scripts/gen_pcaps.py OUTDIR              all captures + OUTDIR/expected.json
    python3 scripts/gen_pcaps.py --demo FILE         only the README demo capture
    python3 scripts/gen_pcaps.py --check-tshark DIR  cross-check DIR/expected.json with tshark

Every header (Ethernet, 802.1Q/802.1ad, MPLS, IPv4/IPv6 and extension headers, TCP, UDP, GRE,
VXLAN, ERSPAN II/III, SLL/SLL2/NULL/RAW) and both file formats (pcap, pcapng) are built here
with struct, with correct checksums, so the script runs on a bare python3. Timestamps,
sequence numbers, addresses and payloads are fixed: the same bytes come out on every run.

expected.json describes, per capture, what a correct sensor reports: each flow's 5-tuple and
orientation, frames and frame bytes per direction, TCP flags, end reason, the reassembled bytes
per direction (first data wins; holes the capture never filled are gaps, not bytes) and the
exit code. The expectations are computed from the packets as they are written, by a byte-level
model of first-data-wins reassembly, not typed by hand.
"""

import base64
import hashlib
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys

BASE_TS = 1714557600 * 1000000  # 2024-05-01T10:00:00Z, in microseconds
MAC_CLIENT = bytes.fromhex("020000000005")
MAC_SERVER = bytes.fromhex("0200000000fe")  # the default gateway as the capture sees it

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_SLL = 113
LINKTYPE_SLL2 = 276

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# ---------------------------------------------------------------------------------------------
# Checksums and protocol headers
# ---------------------------------------------------------------------------------------------


def inet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def ip_bytes(addr):
    return ipaddress.ip_address(addr).packed


def pseudo_header(src, dst, proto, length):
    s, d = ip_bytes(src), ip_bytes(dst)
    if len(s) == 4:
        return s + d + struct.pack("!BBH", 0, proto, length)
    return s + d + struct.pack("!IxxxB", length, proto)


def tcp_header(src, dst, sport, dport, seq, ack, flags, payload=b"", window=64240, options=b""):
    options += b"\0" * (-len(options) % 4)
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4,
                      flags, window, 0, 0) + options
    csum = inet_checksum(pseudo_header(src, dst, 6, len(hdr) + len(payload)) + hdr + payload)
    return hdr[:16] + struct.pack("!H", csum) + hdr[18:] + payload


def udp_datagram(src, dst, sport, dport, payload, checksum=True):
    length = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    if checksum:
        csum = inet_checksum(pseudo_header(src, dst, 17, length) + hdr + payload) or 0xFFFF
        hdr = hdr[:6] + struct.pack("!H", csum)
    return hdr + payload


def ipv4(src, dst, proto, payload, ident=1, df=True, mf=False, frag_off=0, ttl=64,
         total_len=None):
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag_off // 8)
    tl = total_len if total_len is not None else 20 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, flags, ttl, proto, 0,
                      ip_bytes(src), ip_bytes(dst))
    return hdr[:10] + struct.pack("!H", inet_checksum(hdr)) + hdr[12:] + payload


def ipv6(src, dst, next_header, payload, hop_limit=64, flow_label=0):
    return struct.pack("!IHBB16s16s", (6 << 28) | flow_label, len(payload), next_header,
                       hop_limit, ip_bytes(src), ip_bytes(dst)) + payload


def ipv6_options_header(next_header, options):
    """Hop-by-hop or destination options header; options padded to a multiple of 8 with PadN."""
    body = options
    pad = -(2 + len(body)) % 8
    if pad == 1:
        body += b"\x00"  # Pad1
    elif pad:
        body += bytes([1, pad - 2]) + b"\0" * (pad - 2)  # PadN
    return bytes([next_header, (2 + len(body)) // 8 - 1]) + body


def ipv6_fragment_header(next_header, offset, more, ident):
    return struct.pack("!BBHI", next_header, 0, (offset // 8) << 3 | (1 if more else 0), ident)


def ethertype_of(ip_pkt):
    return 0x0800 if ip_pkt[0] >> 4 == 4 else 0x86DD


def ethernet(payload, ethertype, src=MAC_CLIENT, dst=MAC_SERVER, pad=True):
    frame = dst + src + struct.pack("!H", ethertype) + payload
    if pad and len(frame) < 60:  # a frame captured on the wire carries the Ethernet padding
        frame += b"\0" * (60 - len(frame))
    return frame


def ethernet_tagged(payload, ethertype, tags):
    """Ethernet with VLAN tags, outermost first, each (tpid, vlan id)."""
    frame = MAC_SERVER + MAC_CLIENT
    for tpid, vid in tags:
        frame += struct.pack("!HH", tpid, vid & 0x0FFF)
    frame += struct.pack("!H", ethertype) + payload
    if len(frame) < 60:
        frame += b"\0" * (60 - len(frame))
    return frame


def mpls_frame(payload, labels):
    stack = b""
    for i, lab in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        stack += struct.pack("!I", (lab << 12) | (bos << 8) | 64)
    frame = MAC_SERVER + MAC_CLIENT + struct.pack("!H", 0x8847) + stack + payload
    if len(frame) < 60:
        frame += b"\0" * (60 - len(frame))
    return frame


def gre(proto, payload, seq=None):
    flags = 0x1000 if seq is not None else 0  # S bit
    hdr = struct.pack("!HH", flags, proto)
    if seq is not None:
        hdr += struct.pack("!I", seq)
    return hdr + payload


def erspan2(inner_frame, session=100, index=0, vlan=0):
    # Ver=1 | VLAN(12); COS(3) En(2) T(1) Session ID(10); Reserved(12) Index(20)
    return struct.pack("!HHI", (1 << 12) | vlan, (0 << 13) | (3 << 11) | (0 << 10) | session,
                       index & 0xFFFFF) + inner_frame


def erspan3(inner_frame, session=200, timestamp=0, vlan=0):
    # Ver=2 | VLAN(12); COS(3) BSO(2) T(1) Session ID(10); Timestamp(32);
    # SGT(16); P(1) FT(5) HW ID(6) D(1) Gra(2) O(1) — O=0: no platform-specific subheader
    return struct.pack("!HHIHH", (2 << 12) | vlan, session, timestamp & 0xFFFFFFFF, 0,
                       (0 << 15) | (0 << 10) | (1 << 4) | (0 << 3) | (1 << 1) | 0) + inner_frame


def vxlan(inner_frame, vni=4242):
    return struct.pack("!II", 0x08000000, vni << 8) + inner_frame


# Link layers other than Ethernet, given an IP packet.
def sll(ip_pkt, pkttype=4):
    return struct.pack("!HHH8sH", pkttype, 1, 6, MAC_CLIENT + b"\0\0", ethertype_of(ip_pkt)) + \
        ip_pkt


def sll2(ip_pkt, pkttype=4):
    return struct.pack("!HHIHBB8s", ethertype_of(ip_pkt), 0, 2, 1, pkttype, 6,
                       MAC_CLIENT + b"\0\0") + ip_pkt


def dlt_null(ip_pkt):
    family = 2 if ip_pkt[0] >> 4 == 4 else 24  # AF_INET / BSD AF_INET6, host (little) endian
    return struct.pack("<I", family) + ip_pkt


def raw(ip_pkt):
    return ip_pkt


# ---------------------------------------------------------------------------------------------
# File formats
# ---------------------------------------------------------------------------------------------


def pcap_bytes(linktype, records, snaplen=65535):
    """records: (ts_usec, data[, wirelen])."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)
    for rec in records:
        ts, data = rec[0], rec[1]
        wirelen = rec[2] if len(rec) > 2 else len(data)
        out += struct.pack("<IIII", ts // 1000000, ts % 1000000, len(data), wirelen) + data
    return out


def pcapng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def pcapng_option(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng_bytes(interfaces, records):
    """interfaces: (linktype, snaplen, name); records: (if_id, ts_usec, data)."""
    shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + \
        pcapng_option(4, b"leakwatch gen_pcaps.py") + pcapng_option(0, b"")
    out = pcapng_block(0x0A0D0D0A, shb)
    for linktype, snaplen, name in interfaces:
        idb = struct.pack("<HHI", linktype, 0, snaplen) + pcapng_option(2, name.encode()) + \
            pcapng_option(9, b"\x06") + pcapng_option(0, b"")  # if_tsresol 10^-6
        out += pcapng_block(0x00000001, idb)
    for if_id, ts, data in records:
        epb = struct.pack("<IIIII", if_id, ts >> 32, ts & 0xFFFFFFFF, len(data), len(data)) + data
        epb += b"\0" * (-len(data) % 4)
        out += pcapng_block(0x00000006, epb)
    return out


# ---------------------------------------------------------------------------------------------
# Community ID v1 (seed 0), as https://github.com/corelight/community-id-spec
# ---------------------------------------------------------------------------------------------


def community_id(proto, saddr, daddr, sport, dport, seed=0):
    s, d = ip_bytes(saddr), ip_bytes(daddr)
    if not (s < d or (s == d and sport < dport)):
        s, d, sport, dport = d, s, dport, sport
    data = struct.pack("!H", seed) + s + d + struct.pack("!BBHH", proto, 0, sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


# ---------------------------------------------------------------------------------------------
# Captures: packets plus what a correct sensor must report about them
# ---------------------------------------------------------------------------------------------


class Capture:
    """Collects frames of one capture file and the ground truth of every flow in it."""

    def __init__(self, name, linktype=LINKTYPE_ETHERNET, link=None, step_usec=1000):
        self.name = name
        self.linktype = linktype
        self.link = link or (lambda ip_pkt: ethernet(ip_pkt, ethertype_of(ip_pkt)))
        self.frames = []  # (ts_usec, bytes)
        self.ts = BASE_TS
        self.step = step_usec
        self.flows = []
        self.ignore = []  # flows between these address pairs are not checked (outer tunnels)
        self.notes = ""

    def next_ts(self):
        self.ts += self.step
        return self.ts

    def add_frame(self, frame, ts=None):
        ts = self.next_ts() if ts is None else ts
        self.frames.append((ts, frame))
        return len(self.frames), ts


class Flow:
    """One TCP or UDP flow: builds its packets and records the ground truth."""

    def __init__(self, cap, proto, cli, cport, srv, sport, cisn=1000, sisn=5000, link=None,
                 ip_link=None, vlan=None):
        self.cap = cap
        self.proto = proto
        self.cli, self.cport, self.srv, self.sport = cli, cport, srv, sport
        self.v6 = ipaddress.ip_address(cli).version == 6
        self.isn = [cisn, sisn]
        self.nxt = [cisn, sisn]  # next sequence number to send, per side (0 = client)
        self.link = link or cap.link
        self.ip_link = ip_link  # optional: wraps the IP packet (e.g. IPv6 extension headers)
        self.vlan = vlan
        self.pkts = [0, 0]
        self.bytes = [0, 0]
        self.payload = [0, 0]  # L4 payload bytes as sent on the wire, retransmissions included
        self.flags = [0, 0]
        self.segs = [[], []]  # (seq, data) in capture order, for the reassembly model
        self.syn_seen = [False, False]
        self.first_seq = [None, None]
        self.start = None
        self.end = None
        self.ident = 0x1000
        self.reason = "eof"
        self.state = "established"
        self.orientation = (cli, cport, srv, sport)  # src/dest as the sensor must report them
        self.extra = {}
        self.stream_check = True
        cap.flows.append(self)

    # -- packet building --------------------------------------------------------------------

    def addr(self, side):
        return (self.cli, self.cport, self.srv, self.sport) if side == 0 else \
            (self.srv, self.sport, self.cli, self.cport)

    def ip_packet(self, side, l4, ident=None):
        src, _, dst, _ = self.addr(side)
        proto = 6 if self.proto == "TCP" else 17
        if self.v6:
            if self.ip_link:
                return self.ip_link(src, dst, proto, l4)
            return ipv6(src, dst, proto, l4)
        self.ident += 1
        return ipv4(src, dst, proto, l4, ident=ident if ident is not None else self.ident)

    def account(self, side, frame_len, ts, flags=0, payload_len=0):
        self.pkts[side] += 1
        self.bytes[side] += frame_len
        self.flags[side] |= flags
        self.payload[side] += payload_len
        if self.start is None:
            self.start = ts
        self.end = ts

    def emit_ip(self, side, ip_pkt, flags=0, payload_len=0, ts=None):
        frame = self.link(ip_pkt)
        _, ts = self.cap.add_frame(frame, ts)
        self.account(side, len(frame), ts, flags, payload_len)
        return frame

    def emit_fragments(self, side, frags, order, flags):
        """Emits IP fragments in the given order. Only the frame that completes the datagram
        (the last one emitted) belongs to the flow, as tshark and Suricata count it."""
        for n, i in enumerate(order):
            frame = self.link(frags[i])
            _, ts = self.cap.add_frame(frame)
            if n == len(order) - 1:
                self.account(side, len(frame), ts, flags, 0)

    def tcp_segment(self, side, flags, data=b"", seq=None, ack=None, options=b""):
        """Returns the TCP segment bytes (header + data) and records its data for the model."""
        seq = self.nxt[side] if seq is None else seq
        if ack is None:
            ack = self.nxt[1 - side] if (flags & TCP_ACK) else 0
        src, sp, dst, dp = self.addr(side)
        seg = tcp_header(src, dst, sp, dp, seq, ack, flags, data, options=options)
        if flags & TCP_SYN:
            self.syn_seen[side] = True
        if data:
            start = (seq + (1 if flags & TCP_SYN else 0)) & 0xFFFFFFFF
            self.segs[side].append((start, data))
            if self.first_seq[side] is None:
                self.first_seq[side] = start
        adv = len(data) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)
        if (seq - self.nxt[side]) & 0xFFFFFFFF == 0:
            self.nxt[side] = (seq + adv) & 0xFFFFFFFF
        elif ((seq + adv) - self.nxt[side]) & 0xFFFFFFFF < 0x80000000:
            self.nxt[side] = (seq + adv) & 0xFFFFFFFF
        return seg

    def tcp(self, side, flags, data=b"", seq=None, ack=None, options=b"", ts=None):
        seg = self.tcp_segment(side, flags, data, seq, ack, options)
        return self.emit_ip(side, self.ip_packet(side, seg), flags, len(data), ts)

    def skip(self, side, data):
        """A segment the capture never saw: the sender's sequence space advances."""
        self.nxt[side] = (self.nxt[side] + len(data)) & 0xFFFFFFFF

    def handshake(self):
        opts = b"\x02\x04\x05\xb4\x04\x02\x01\x03\x03\x07"  # MSS 1460, SACK-perm, NOP, WS 7
        self.tcp(0, TCP_SYN, options=opts)
        self.tcp(1, TCP_SYN | TCP_ACK, options=opts)
        self.tcp(0, TCP_ACK)

    def send(self, side, data, mss=1400):
        for i in range(0, len(data), mss):
            self.tcp(side, TCP_ACK | TCP_PSH, data[i:i + mss])

    def fin_close(self, first=0):
        self.tcp(first, TCP_FIN | TCP_ACK)
        self.tcp(1 - first, TCP_FIN | TCP_ACK)
        self.tcp(first, TCP_ACK)
        self.reason, self.state = "fin", "closed"

    def udp(self, side, data, ts=None):
        src, sp, dst, dp = self.addr(side)
        dgram = udp_datagram(src, dst, sp, dp, data)
        self.segs[side].append((self.payload[side], data))
        return self.emit_ip(side, self.ip_packet(side, dgram), 0, len(data), ts)

    # -- ground truth -----------------------------------------------------------------------

    def stream_model(self, side):
        """First-data-wins reassembly of one direction: (bytes, [(offset, length)] gaps)."""
        if not self.segs[side]:
            return b"", []
        if self.syn_seen[side]:
            base = (self.isn[side] + 1) & 0xFFFFFFFF
        else:
            base = self.first_seq[side]
        owned = {}
        for seq, data in self.segs[side]:
            rel = (seq - base) & 0xFFFFFFFF
            if rel >= 0x80000000:
                continue  # before the stream start: never delivered
            for i, b in enumerate(data):
                owned.setdefault(rel + i, b)
        end = max(owned) + 1
        out, gaps, i = bytearray(), [], 0
        while i < end:
            if i in owned:
                out.append(owned[i])
                i += 1
            else:
                j = i
                while j not in owned:
                    j += 1
                gaps.append([i, j - i])
                i = j
        return bytes(out), gaps

    def expected(self):
        s, sp, d, dp = self.orientation
        flipped = (s, sp) != (self.cli, self.cport)
        a, b = (1, 0) if flipped else (0, 1)
        exp = {
            "proto": self.proto,
            "src_ip": s, "src_port": sp, "dest_ip": d, "dest_port": dp,
            "community_id": community_id(6 if self.proto == "TCP" else 17, s, d, sp, dp),
            "pkts_toserver": self.pkts[a], "pkts_toclient": self.pkts[b],
            "bytes_toserver": self.bytes[a], "bytes_toclient": self.bytes[b],
            "payload_bytes_toserver": self.payload[a], "payload_bytes_toclient": self.payload[b],
            "start_usec": self.start, "end_usec": self.end,
            "reason": self.reason,
        }
        if self.vlan:
            exp["vlan"] = list(self.vlan)
        if self.proto == "TCP":
            exp["state"] = self.state
            exp["tcp_flags_ts"] = "%02x" % self.flags[a]
            exp["tcp_flags_tc"] = "%02x" % self.flags[b]
            exp["tcp_flags"] = "%02x" % (self.flags[a] | self.flags[b])
            total_gaps = 0
            for key, side in (("ts", a), ("tc", b)):
                data, gaps = self.stream_model(side)
                total_gaps += len(gaps)
                exp["stream_" + key] = describe_bytes(data)
                exp["gaps_" + key] = gaps
            exp["gaps"] = total_gaps
            exp["check_stream"] = self.stream_check
        exp.update(self.extra)
        return exp


def describe_bytes(data):
    d = {"len": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if len(data) <= 256:
        d["hex"] = data.hex()
    return d


def http_request(method, host, path, body=b"", ctype=None):
    head = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/8.4.0\r\nAccept: */*\r\n" % (
        method, path, host)
    if body:
        head += "Content-Type: %s\r\nContent-Length: %d\r\n" % (ctype or "text/plain", len(body))
    return (head + "\r\n").encode() + body


def http_response(body, ctype="text/html"):
    return ("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (ctype, len(body))).encode() + body


def filler(tag, n):
    """n deterministic printable bytes, different per tag."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(("%s:%d" % (tag, counter)).encode()).hexdigest().encode()
        counter += 1
    return bytes(out[:n])


CLIENT, SERVER = "10.0.0.5", "198.51.100.7"

# ---------------------------------------------------------------------------------------------
# The captures
# ---------------------------------------------------------------------------------------------


def basic_conversation(cap, cli=CLIENT, srv=SERVER, cport=51515, sport=80, **kw):
    f = Flow(cap, "TCP", cli, cport, srv, sport, cisn=0x1F2E3D4C, sisn=0x6A5B4C3D, **kw)
    f.handshake()
    f.send(0, http_request("GET", "paste.example", "/index.html"))
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(filler("basic-body", 1800)))
    f.tcp(0, TCP_ACK)
    f.fin_close(first=0)
    return f


def cap_tcp_basic():
    cap = Capture("tcp_basic")
    basic_conversation(cap)
    cap.notes = "handshake, request, 2-segment response, FIN/FIN/ACK; short frames padded to 60"
    return cap


def cap_linktype(name, linktype, link):
    cap = Capture(name, linktype=linktype, link=link)
    basic_conversation(cap)
    cap.notes = "tcp_basic over link type %d" % linktype
    return cap


def cap_tcp_ooo():
    cap = Capture("tcp_ooo")
    f = Flow(cap, "TCP", CLIENT, 40100, SERVER, 80, cisn=100000, sisn=900000)
    f.handshake()
    req = http_request("POST", "paste.example", "/upload", filler("ooo-body", 2000))
    parts = [req[i:i + 500] for i in range(0, len(req), 500)]
    base = f.nxt[0]
    offs = [sum(len(p) for p in parts[:i]) for i in range(len(parts))]
    for i in (2, 0, 3, 1) + tuple(range(4, len(parts))):  # segment 3 first, then 1, 4, 2, ...
        f.tcp(0, TCP_ACK | TCP_PSH, parts[i], seq=base + offs[i])
    f.nxt[0] = base + len(req)
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(b"stored\n"))
    f.fin_close(first=1)
    cap.notes = "request segments sent in order 3,1,4,2,5: stream must come out in order"
    return cap


def cap_tcp_retrans_overlap():
    cap = Capture("tcp_retrans_overlap")
    f = Flow(cap, "TCP", CLIENT, 40200, SERVER, 80, cisn=5555, sisn=77777)
    f.handshake()
    base = f.nxt[0]
    a = b"AAAAAAAAAA" * 10  # [0,100)
    b_ = b"BBBBBBBBBB" * 10  # [100,200)
    c = b"CCCCCCCCCC" * 10  # [200,300)
    d = b"DDDDDDDDDD" * 10  # [300,400)
    f.tcp(0, TCP_ACK | TCP_PSH, a, seq=base)
    f.tcp(0, TCP_ACK | TCP_PSH, a, seq=base)  # exact retransmission
    f.tcp(0, TCP_ACK | TCP_PSH, b_, seq=base + 100)
    # partial overlap with DIFFERENT bytes: [150,250) "xx.." — first data wins for [150,200)
    f.tcp(0, TCP_ACK | TCP_PSH, b"x" * 100, seq=base + 150)
    # out of order: [300,400) arrives before [200,300) is complete
    f.tcp(0, TCP_ACK | TCP_PSH, d, seq=base + 300)
    # a segment overlapping two others, [180,320) of 'y': [180,250) and [300,320) were sent
    # already, only [250,300) is new
    f.tcp(0, TCP_ACK | TCP_PSH, b"y" * 140, seq=base + 180)
    # [200,300) with the C bytes: all already owned (by x and y), nothing of it is delivered
    f.tcp(0, TCP_ACK | TCP_PSH, c, seq=base + 200)
    f.nxt[0] = base + 400
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(b"ok\n"))
    f.tcp(0, TCP_ACK)
    f.fin_close(first=0)
    f.extra["tshark_follow_differs"] = (
        "tshark's follow lets the in-order 'y' segment overwrite bytes [300,320) of the "
        "buffered out-of-order 'D' segment; first-data-wins keeps the D bytes there")
    cap.notes = ("exact retransmission; partial overlap with different bytes (first wins); "
                 "out-of-order segment; a segment spanning two others")
    return cap


def cap_tcp_gap():
    cap = Capture("tcp_gap")
    f = Flow(cap, "TCP", CLIENT, 40300, SERVER, 80, cisn=3000000, sisn=4000000)
    f.handshake()
    f.send(0, http_request("GET", "paste.example", "/big"))
    f.tcp(1, TCP_ACK)
    body = filler("gap-body", 4000)
    resp = http_response(body)
    chunks = [resp[i:i + 1000] for i in range(0, len(resp), 1000)]
    f.tcp(1, TCP_ACK | TCP_PSH, chunks[0])
    f.skip(1, chunks[1])  # lost by the capture
    f.tcp(1, TCP_ACK | TCP_PSH, chunks[2])
    f.tcp(0, TCP_ACK)  # the client ACKs past the hole: it did receive it
    for ch in chunks[3:]:
        f.tcp(1, TCP_ACK | TCP_PSH, ch)
    f.tcp(0, TCP_ACK)
    f.fin_close(first=1)
    cap.notes = "second 1000-byte response segment missing from the capture, ACKed by the client"
    return cap


def cap_tcp_seq_wrap():
    cap = Capture("tcp_seq_wrap")
    f = Flow(cap, "TCP", CLIENT, 40400, SERVER, 80, cisn=0xFFFFFF00, sisn=0xFFFFFFF0)
    f.handshake()
    req = http_request("POST", "paste.example", "/wrap", filler("wrap-req", 1500))
    f.send(0, req, mss=200)  # crosses 2^32 after 255 bytes
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(filler("wrap-resp", 300)), mss=100)  # crosses after 15 bytes
    f.tcp(0, TCP_ACK)
    f.fin_close(first=0)
    cap.notes = "client ISN 0xFFFFFF00, server ISN 0xFFFFFFF0: both streams cross 2^32"
    return cap


def cap_tcp_midstream():
    cap = Capture("tcp_midstream")
    f = Flow(cap, "TCP", CLIENT, 40500, SERVER, 80, cisn=123456789, sisn=987654321)
    # The handshake happened before the capture started.
    f.nxt = [123456789 + 1, 987654321 + 1]
    f.isn = [None, None]
    f.send(0, http_request("GET", "paste.example", "/mid"))
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(filler("mid-body", 900)))
    f.tcp(0, TCP_ACK)
    f.send(0, http_request("GET", "paste.example", "/mid2"))
    f.send(1, http_response(b"second\n"))
    f.tcp(0, TCP_ACK)
    cap.notes = "no handshake, no close: src is the first packet's sender, reason eof"
    f.reason, f.state = "eof", "established"
    return cap


def cap_tcp_synack_first():
    cap = Capture("tcp_synack_first")
    f = Flow(cap, "TCP", CLIENT, 40600, SERVER, 80, cisn=111, sisn=222)
    f.tcp_segment(0, TCP_SYN)  # the SYN was lost by the capture
    f.syn_seen[0] = True
    f.tcp(1, TCP_SYN | TCP_ACK)
    f.tcp(0, TCP_ACK)
    f.send(0, http_request("GET", "paste.example", "/synack"))
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(b"hello\n"))
    f.fin_close(first=0)
    cap.notes = "first packet is the SYN/ACK: src must be its receiver (the client)"
    return cap


def cap_tcp_port_reuse():
    cap = Capture("tcp_port_reuse")
    for n, (cisn, sisn) in enumerate(((1000, 2000), (50000000, 60000000))):
        f = Flow(cap, "TCP", CLIENT, 40700, SERVER, 80, cisn=cisn, sisn=sisn)
        f.handshake()
        f.send(0, http_request("GET", "paste.example", "/conn%d" % (n + 1)))
        f.send(1, http_response(("connection %d\n" % (n + 1)).encode()))
        f.fin_close(first=0)
        f.extra["same_tuple_group"] = "reuse"
    cap.notes = "two connections on one 5-tuple, the second SYN after the first FIN close"
    return cap


def cap_tcp_rst():
    cap = Capture("tcp_rst")
    f = Flow(cap, "TCP", CLIENT, 40800, SERVER, 80, cisn=31337, sisn=73313)
    f.handshake()
    f.send(0, http_request("GET", "paste.example", "/reset"))
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(b"partial"))
    f.tcp(0, TCP_RST | TCP_ACK)
    f.reason, f.state = "rst", "closed"
    cap.notes = "client aborts with RST after the response"
    return cap


def cap_vlan_qinq():
    tags = [(0x88A8, 100), (0x8100, 200)]
    cap = Capture("vlan_qinq",
                  link=lambda ip_pkt: ethernet_tagged(ip_pkt, ethertype_of(ip_pkt), tags))
    basic_conversation(cap, vlan=[100, 200])
    cap.notes = "802.1ad outer tag 100, 802.1Q inner tag 200"
    return cap


def cap_mpls():
    cap = Capture("mpls", link=lambda ip_pkt: mpls_frame(ip_pkt, [1000, 2000]))
    basic_conversation(cap)
    cap.notes = "two-label MPLS stack over Ethernet (IPv4 below the bottom of stack)"
    return cap


OUTER_A, OUTER_B = "192.0.2.1", "192.0.2.2"


def tunnel_link(wrap):
    """Link function: inner IP packet -> inner Ethernet -> wrap() -> outer Ethernet frame."""
    counter = [0]

    def link(ip_pkt):
        counter[0] += 1
        inner = ethernet(ip_pkt, ethertype_of(ip_pkt), pad=False)
        return wrap(ip_pkt, inner, counter[0])
    return link


def cap_gre_ipv4():
    def wrap(ip_pkt, inner, n):
        outer = ipv4(OUTER_A, OUTER_B, 47, gre(0x0800, ip_pkt), ident=n)
        return ethernet(outer, 0x0800)
    cap = Capture("gre_ipv4", link=tunnel_link(wrap))
    basic_conversation(cap)
    cap.ignore.append([OUTER_A, OUTER_B])
    cap.notes = "inner IPv4 HTTP in GRE (proto 0x0800) between 192.0.2.1 and 192.0.2.2"
    return cap


def cap_vxlan():
    def wrap(ip_pkt, inner, n):
        outer = ipv4(OUTER_A, OUTER_B, 17,
                     udp_datagram(OUTER_A, OUTER_B, 49152 + n % 16, 4789, vxlan(inner)), ident=n)
        return ethernet(outer, 0x0800)
    cap = Capture("vxlan", link=tunnel_link(wrap))
    basic_conversation(cap)
    cap.ignore.append([OUTER_A, OUTER_B])
    cap.notes = "inner Ethernet/IPv4 HTTP in VXLAN (UDP 4789, VNI 4242)"
    return cap


def cap_erspan_ii():
    def wrap(ip_pkt, inner, n):
        outer = ipv4(OUTER_A, OUTER_B, 47, gre(0x88BE, erspan2(inner, index=n), seq=n), ident=n)
        return ethernet(outer, 0x0800)
    cap = Capture("erspan_ii", link=tunnel_link(wrap))
    basic_conversation(cap)
    cap.ignore.append([OUTER_A, OUTER_B])
    cap.notes = "ERSPAN type II (GRE 0x88BE with sequence number), inner Ethernet/IPv4 HTTP"
    return cap


def cap_erspan_iii():
    def wrap(ip_pkt, inner, n):
        outer = ipv4(OUTER_A, OUTER_B, 47, gre(0x22EB, erspan3(inner, timestamp=n * 1000), seq=n),
                     ident=n)
        return ethernet(outer, 0x0800)
    cap = Capture("erspan_iii", link=tunnel_link(wrap))
    basic_conversation(cap)
    cap.ignore.append([OUTER_A, OUTER_B])
    cap.notes = "ERSPAN type III (GRE 0x22EB, 12-byte header, no platform subheader)"
    return cap


def cap_ipv6_ext():
    def ip_link(src, dst, proto, l4):
        dst_opts = ipv6_options_header(proto, b"")  # 8 bytes: PadN only
        hbh = ipv6_options_header(60, b"\x05\x02\x00\x00")  # Router Alert, then PadN
        return ipv6(src, dst, 0, hbh + dst_opts + l4)
    cap = Capture("ipv6_ext")
    f = Flow(cap, "TCP", "2001:db8:1::5", 51000, "2001:db8:2::7", 80, cisn=7, sisn=70,
             ip_link=ip_link)
    f.handshake()
    f.send(0, http_request("GET", "paste.example", "/v6"))
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(filler("v6-body", 600)))
    f.fin_close(first=0)
    cap.notes = "every packet: IPv6 hop-by-hop (router alert) + destination options, then TCP"
    return cap


def cap_ipv4_frag():
    cap = Capture("ipv4_frag")
    f = Flow(cap, "TCP", CLIENT, 40900, SERVER, 80, cisn=424242, sisn=242424)
    f.handshake()
    body = filler("frag-body", 2900)
    req = http_request("POST", "paste.example", "/frag", body)
    seg = f.tcp_segment(0, TCP_ACK | TCP_PSH, req)
    # Fragment the 20 + len(req) byte TCP segment into 3 IPv4 fragments (offsets multiple of 8)
    ident = 0x4242
    cuts = [0, 1200, 2400, len(seg)]
    frags = []
    for i in range(3):
        part = seg[cuts[i]:cuts[i + 1]]
        frags.append(ipv4(CLIENT, SERVER, 6, part, ident=ident, df=False, mf=i < 2,
                          frag_off=cuts[i], total_len=20 + len(part)))
    f.emit_fragments(0, frags, (2, 0, 1), TCP_ACK | TCP_PSH)  # last, first, middle
    f.payload[0] += len(req)
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(b"got it\n"))
    f.fin_close(first=0)
    cap.notes = ("one 3000-byte TCP segment in 3 IPv4 fragments sent last, first, middle; "
                 "as tshark and Suricata, the flow counts the frame that completes the datagram")
    return cap


def cap_ipv6_frag():
    cap = Capture("ipv6_frag")
    cli, srv = "2001:db8:1::5", "2001:db8:2::7"
    f = Flow(cap, "TCP", cli, 41000, srv, 8080, cisn=0x10000, sisn=0x20000)
    f.handshake()
    req = http_request("POST", "paste.example", "/frag6", filler("frag6-body", 2000))
    seg = f.tcp_segment(0, TCP_ACK | TCP_PSH, req)
    cuts = [0, 1000, len(seg)]
    frags = []
    for i in range(2):
        fh = ipv6_fragment_header(6, cuts[i], i == 0, 0xCAFE)
        frags.append(ipv6(cli, srv, 44, fh + seg[cuts[i]:cuts[i + 1]]))
    f.emit_fragments(0, frags, (1, 0), TCP_ACK | TCP_PSH)
    f.payload[0] += len(req)
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(b"got it\n"))
    f.fin_close(first=0)
    cap.notes = "one TCP segment in 2 IPv6 fragments (Fragment header), second one first"
    return cap


def cap_pcapng_multi_if():
    cap = Capture("pcapng_multi_if")
    cap.pcapng_interfaces = [(LINKTYPE_ETHERNET, 65535, "eth0"), (LINKTYPE_RAW, 8192, "tun0")]
    f1 = basic_conversation(cap)
    f1_frames = len(cap.frames)
    f2 = Flow(cap, "TCP", "10.8.0.2", 52000, "203.0.113.50", 80, cisn=9, sisn=99, link=raw)
    f2.handshake()
    f2.send(0, http_request("GET", "other.example", "/tun"))
    f2.send(1, http_response(b"tunnel interface\n"))
    f2.fin_close(first=0)
    # interleave: frames of flow 2 (raw IP, interface 1) between those of flow 1
    eth = [(0, fr) for fr in cap.frames[:f1_frames]]
    tun = [(1, fr) for fr in cap.frames[f1_frames:]]
    merged = []
    while eth or tun:
        if eth:
            merged.append(eth.pop(0))
        if tun:
            merged.append(tun.pop(0))
    # keep timestamps increasing in file order (the flows' start/end follow)
    cap.frames = []
    cap.if_ids = []
    ts = BASE_TS
    remap = {}
    for if_id, (old_ts, fr) in merged:
        ts += 1000
        remap[(if_id, old_ts)] = ts
        cap.frames.append((ts, fr))
        cap.if_ids.append(if_id)
    for fl, if_id in ((f1, 0), (f2, 1)):
        fl.start = remap[(if_id, fl.start)]
        fl.end = remap[(if_id, fl.end)]
    cap.notes = "pcapng, interface 0 Ethernet snaplen 65535, interface 1 RAW snaplen 8192"
    return cap


def cap_truncated():
    cap = Capture("truncated")
    basic_conversation(cap)  # complete, closed before the damage
    f2 = Flow(cap, "TCP", CLIENT, 41100, SERVER, 80, cisn=808, sisn=909)
    f2.handshake()
    f2.send(0, http_request("GET", "paste.example", "/cut"))
    f2.tcp(1, TCP_ACK)
    good = len(cap.frames)
    counts = (list(f2.pkts), list(f2.bytes), list(f2.payload), list(f2.flags),
              [list(s) for s in f2.segs], f2.end)
    f2.send(1, http_response(filler("cut-body", 1000)))  # this record gets cut in half
    f2.pkts, f2.bytes, f2.payload, f2.flags, f2.segs, f2.end = counts
    f2.reason, f2.state = "eof", "established"
    cap.truncate_after = good  # records 1..good intact; record good+1 cut mid-data
    cap.errors = [{"kind": "truncated_input", "packet": good + 1}]
    cap.exit_code = 3
    cap.notes = "record %d is cut in the middle of its data: exit 3, flows before it kept" % (
        good + 1)
    return cap


def cap_direction():
    cap = Capture("direction")
    flows = [
        ("10.0.0.5", 42001, "198.51.100.7", 80),       # home -> outside: client bytes egress
        ("203.0.113.9", 42002, "10.0.0.8", 443),       # outside -> home server: server's egress
        ("10.0.0.5", 42003, "192.168.1.10", 8080),     # home -> home: none
        ("fd00::5", 42004, "2001:db8::7", 80),         # IPv6 ULA -> outside
        ("198.51.100.1", 42005, "203.0.113.1", 80),    # outside -> outside: none
        ("172.16.5.4", 42006, "100.64.0.9", 80),       # home -> home (RFC1918 -> CGNAT)
        ("2001:db8::9", 42007, "fdab::1", 80),         # outside -> IPv6 ULA server
    ]
    for i, (c, cp, s, sp) in enumerate(flows):
        f = Flow(cap, "TCP", c, cp, s, sp, cisn=1000 * (i + 1), sisn=2000 * (i + 1))
        f.handshake()
        f.send(0, ("client-%d says hello " % i).encode() * (i + 2))
        f.send(1, ("server-%d replies " % i).encode() * (3 * i + 1))
        f.fin_close(first=0)
    cap.notes = "egress rule: per flow, bytes sent by a home address to a non-home address"
    return cap


def dns_query(txid, name, qtype=1):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)


def dns_response(txid, name, addr, qtype=1):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    rdata = ip_bytes(addr)
    ans = struct.pack("!HHHIH", 0xC00C, qtype, 1, 300, len(rdata)) + rdata
    return struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0) + q + struct.pack("!HH", qtype, 1) + \
        ans


def cap_udp_dns():
    cap = Capture("udp_dns")
    resolver = "192.0.2.53"
    names = [("paste.example", "198.51.100.7"), ("github.com", "192.0.2.10"),
             ("www.example.org", "203.0.113.80")]
    for i, (name, addr) in enumerate(names):
        f = Flow(cap, "UDP", CLIENT, 53000 + i, resolver, 53)
        f.udp(0, dns_query(0x1000 + i, name))
        f.udp(1, dns_response(0x1000 + i, name, addr))
        if i == 0:  # same socket, second question: same flow
            f.udp(0, dns_query(0x2000, name, qtype=28))
            f.udp(1, struct.pack("!HHHHHH", 0x2000, 0x8180, 1, 0, 0, 0) +
                  dns_query(0, name, 28)[12:])
    # IPv6 resolver
    f = Flow(cap, "UDP", "fd00::5", 53100, "2001:db8::53", 53)
    f.udp(0, dns_query(0x3000, "paste.example", 28))
    f.udp(1, dns_response(0x3000, "paste.example", "2001:db8:2::7", 28))
    cap.notes = "UDP DNS: three IPv4 flows (one with two exchanges), one IPv6 flow"
    return cap


# ---------------------------------------------------------------------------------------------
# The README demo
# ---------------------------------------------------------------------------------------------

VIN_TRANSLIT = {c: v for c, v in zip("ABCDEFGHJKLMNPRSTUVWXYZ",
                                      [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6,
                                       7, 8, 9])}
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def vin_check_digit(vin):
    total = 0
    for ch, w in zip(vin, VIN_WEIGHTS):
        total += (int(ch) if ch.isdigit() else VIN_TRANSLIT[ch]) * w
    r = total % 11
    return "X" if r == 10 else str(r)


def make_vin(first8, last8):
    vin = first8 + "0" + last8
    return first8 + vin_check_digit(vin) + last8


DEMO_VINS = ["1HGCM82633A004352",  # the classic valid example
             make_vin("1FTFW1ET", "DFC10234"),
             make_vin("2T1BURHE", "JC043218"),
             make_vin("5YJ3E1EA", "7KF31706"),
             make_vin("WBA3A5C5", "1DF35612")]
DEMO_AWS_KEY = "AKIA" + base64.b32encode(hashlib.sha256(b"leakwatch demo").digest())[:16].decode()
DEMO_EMAILS = ["maria.lopez@example.com", "j.tanaka@example.org", "olivier.martin@example.net"]
DEMO_COORDS = [(37.774929, -122.419416), (48.858370, 2.294481), (35.658581, 139.745433)]


def demo_body():
    records = []
    for i, vin in enumerate(DEMO_VINS):
        rec = {"vin": vin, "owner": DEMO_EMAILS[i % len(DEMO_EMAILS)],
               "odometer_km": 12000 + 3571 * i}
        lat, lon = DEMO_COORDS[i % len(DEMO_COORDS)]
        rec["last_position"] = {"lat": lat, "lon": lon}
        records.append(rec)
    doc = {"export": "fleet-telemetry", "generated": "2024-05-01T10:00:00Z",
           "uploader": {"aws_access_key_id": DEMO_AWS_KEY, "region": "eu-west-1"},
           "vehicles": records,
           "notes": "trip start %.6f,%.6f" % DEMO_COORDS[0]}
    return json.dumps(doc, indent=2).encode()


def tls_client_hello(sni):
    def ext(etype, data):
        return struct.pack("!HH", etype, len(data)) + data
    name = sni.encode()
    exts = ext(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name)  # server_name
    exts += ext(10, struct.pack("!H", 6) + struct.pack("!HHH", 0x001D, 0x0017, 0x0018))
    exts += ext(11, b"\x01\x00")  # ec_point_formats: uncompressed
    exts += ext(13, struct.pack("!H", 8) + struct.pack("!HHHH", 0x0403, 0x0804, 0x0401, 0x0201))
    exts += ext(16, struct.pack("!H", 12) + b"\x02h2" + b"\x08http/1.1")  # ALPN
    exts += ext(43, b"\x04\x03\x04\x03\x03")  # supported_versions: TLS 1.3, 1.2
    key = hashlib.sha256(b"demo key share").digest()
    exts += ext(51, struct.pack("!HHH", 36, 0x001D, 32) + key)  # key_share x25519
    ciphers = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0x009C]
    body = struct.pack("!H", 0x0303) + hashlib.sha256(b"demo client random").digest()
    body += bytes([32]) + hashlib.sha256(b"demo session id").digest()
    body += struct.pack("!H", 2 * len(ciphers)) + b"".join(struct.pack("!H", c) for c in ciphers)
    body += b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    hs = struct.pack("!B", 1) + struct.pack("!I", len(body))[1:] + body
    return struct.pack("!BHH", 22, 0x0301, len(hs)) + hs


def cap_demo():
    cap = Capture("demo", step_usec=3000)
    resolver = "192.0.2.53"
    d1 = Flow(cap, "UDP", CLIENT, 53531, resolver, 53)
    d1.udp(0, dns_query(0xBEEF, "paste.example"))
    d1.udp(1, dns_response(0xBEEF, "paste.example", SERVER))
    d2 = Flow(cap, "UDP", CLIENT, 53532, resolver, 53)
    d2.udp(0, dns_query(0xBEF0, "github.com"))
    d2.udp(1, dns_response(0xBEF0, "github.com", "192.0.2.10"))

    f = Flow(cap, "TCP", CLIENT, 49733, SERVER, 80, cisn=0x3A1C2B4D, sisn=0x7E6D5C4B)
    f.handshake()
    req = http_request("POST", "paste.example", "/api/v1/paste?expire=1d", demo_body(),
                       ctype="application/json")
    parts = [req[i:i + 600] for i in range(0, len(req), 600)]
    base = f.nxt[0]
    offs = [sum(len(p) for p in parts[:i]) for i in range(len(parts))]
    order = list(range(len(parts)))
    order[1], order[2] = order[2], order[1]  # the third segment overtakes the second
    for i in order:
        f.tcp(0, TCP_ACK | TCP_PSH, parts[i], seq=base + offs[i])
    f.nxt[0] = base + len(req)
    f.tcp(1, TCP_ACK)
    f.send(1, http_response(b'{"id":"q8Xr2","url":"http://paste.example/q8Xr2"}',
                            ctype="application/json"))
    f.tcp(0, TCP_ACK)
    f.fin_close(first=0)

    t = Flow(cap, "TCP", CLIENT, 49734, "192.0.2.10", 443, cisn=0x11223344, sisn=0x55667788)
    t.handshake()
    t.send(0, tls_client_hello("github.com"))
    t.tcp(1, TCP_ACK)
    t.tcp(0, TCP_FIN | TCP_ACK)
    t.tcp(1, TCP_FIN | TCP_ACK)
    t.tcp(0, TCP_ACK)
    t.reason, t.state = "fin", "closed"
    cap.notes = ("README demo: DNS lookups, HTTP POST of JSON with VINs, emails, an AWS key id "
                 "and coordinates (one segment out of order), TLS ClientHello to github.com")
    cap.demo = {"vins": DEMO_VINS, "aws_key_id": DEMO_AWS_KEY, "emails": DEMO_EMAILS,
                "coordinates": DEMO_COORDS, "sni": "github.com", "http_host": "paste.example"}
    return cap


def all_captures():
    caps = [cap_tcp_basic(), cap_tcp_ooo(), cap_tcp_retrans_overlap(), cap_tcp_gap(),
            cap_tcp_seq_wrap(), cap_tcp_midstream(), cap_tcp_synack_first(),
            cap_tcp_port_reuse(), cap_tcp_rst(), cap_vlan_qinq(), cap_mpls(), cap_gre_ipv4(),
            cap_vxlan(), cap_erspan_ii(), cap_erspan_iii(), cap_ipv6_ext(), cap_ipv4_frag(),
            cap_ipv6_frag(),
            cap_linktype("sll", LINKTYPE_SLL, sll), cap_linktype("sll2", LINKTYPE_SLL2, sll2),
            cap_linktype("null", LINKTYPE_NULL, dlt_null), cap_linktype("raw", LINKTYPE_RAW, raw),
            cap_pcapng_multi_if(), cap_truncated(), cap_direction(), cap_udp_dns(), cap_demo()]
    return caps


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def capture_file_bytes(cap):
    if hasattr(cap, "pcapng_interfaces"):
        recs = [(if_id, ts, fr) for if_id, (ts, fr) in zip(cap.if_ids, cap.frames)]
        return cap.name + ".pcapng", pcapng_bytes(cap.pcapng_interfaces, recs)
    data = pcap_bytes(cap.linktype, cap.frames)
    if hasattr(cap, "truncate_after"):
        intact = pcap_bytes(cap.linktype, cap.frames[:cap.truncate_after])
        next_len = len(cap.frames[cap.truncate_after][1])
        data = data[:len(intact) + 16 + next_len // 2]
    return cap.name + ".pcap", data


def manifest_entry(cap, fname):
    entry = {
        "file": fname,
        "exit_code": getattr(cap, "exit_code", 0),
        "frames": len(cap.frames) if not hasattr(cap, "truncate_after") else cap.truncate_after,
        "flows": [f.expected() for f in cap.flows],
        "ignore_flows_between": cap.ignore,
        "errors": getattr(cap, "errors", []),
        "notes": cap.notes,
    }
    if hasattr(cap, "demo"):
        entry["demo"] = cap.demo
    return entry


def write_all(outdir):
    os.makedirs(outdir, exist_ok=True)
    manifest = {"version": 1,
                "default_home_net": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                     "100.64.0.0/10", "fc00::/7"],
                "gap_offsets": "stream offset of the hole (bytes before it, earlier holes "
                               "included); the dump files hold only delivered bytes",
                "captures": {}}
    for cap in all_captures():
        fname, data = capture_file_bytes(cap)
        with open(os.path.join(outdir, fname), "wb") as fp:
            fp.write(data)
        manifest["captures"][cap.name] = manifest_entry(cap, fname)
    with open(os.path.join(outdir, "expected.json"), "w") as fp:
        json.dump(manifest, fp, indent=1, sort_keys=True)
        fp.write("\n")
    return manifest


def write_demo(path):
    fname, data = capture_file_bytes(cap_demo())
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as fp:
        fp.write(data)


# ---------------------------------------------------------------------------------------------
# Cross-check with tshark (developer aid: proves expected.json describes the bytes written)
# ---------------------------------------------------------------------------------------------


def tshark_check(outdir):
    with open(os.path.join(outdir, "expected.json")) as fp:
        manifest = json.load(fp)
    bad = 0
    for name, entry in sorted(manifest["captures"].items()):
        path = os.path.join(outdir, entry["file"])
        fields = ["frame.number", "frame.len", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
                  "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "tcp.stream",
                  "udp.stream", "tcp.flags", "tcp.checksum.status", "ip.checksum.status",
                  "udp.checksum.status"]
        cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "occurrence=l",
               "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
               "-o", "udp.check_checksum:TRUE", "-o", "tcp.analyze_sequence_numbers:TRUE"]
        for fld in fields:
            cmd += ["-e", fld]
        res = subprocess.run(cmd, capture_output=True, text=True)
        rows = [ln.split("\t") for ln in res.stdout.splitlines()]
        problems = []
        if res.returncode not in (0, 2) or (res.returncode == 2) != (entry["exit_code"] == 3):
            problems.append("tshark rc %d: %s" % (res.returncode, res.stderr.strip()[:200]))
        if len(rows) != entry["frames"]:
            problems.append("tshark read %d frames, manifest says %d" % (len(rows),
                                                                         entry["frames"]))
        for r in rows:
            for status in r[13:16]:
                if any(st != "1" for st in status.split(",") if st):
                    problems.append("frame %s checksum status %s" % (r[0], status))
        ignore = {tuple(sorted(p)) for p in entry["ignore_flows_between"]}
        # Aggregate per (proto, stream): frames and bytes per direction, relative to src
        conv = {}
        for r in rows:
            src = r[2] or r[3]
            dst = r[4] or r[5]
            if tuple(sorted((src, dst))) in ignore and not r[10] and not r[11]:
                continue
            if r[10]:
                key, sp, dp = ("TCP", r[10]), r[6], r[7]
            elif r[11]:
                key, sp, dp = ("UDP", r[11]), r[8], r[9]
            else:
                continue  # a non-first fragment: tshark attributes it to no stream
            c = conv.setdefault(key, {"first": (src, int(sp), dst, int(dp)), "frames": {},
                                      "bytes": {}, "fl": {}})
            k = (src, int(sp))
            c["frames"][k] = c["frames"].get(k, 0) + 1
            c["bytes"][k] = c["bytes"].get(k, 0) + int(r[1])
            if r[12]:
                c["fl"][k] = c["fl"].get(k, 0) | int(r[12], 16)
        flows = entry["flows"]
        if len(conv) != len(flows):
            problems.append("tshark has %d conversations, manifest %d flows" % (len(conv),
                                                                               len(flows)))
        used = set()
        for fl in flows:
            cli = (fl["src_ip"], fl["src_port"])
            srv = (fl["dest_ip"], fl["dest_port"])
            match = None
            for key, c in sorted(conv.items(), key=lambda kv: int(kv[0][1])):
                if key in used or key[0] != fl["proto"]:
                    continue
                if set(c["frames"]) == {cli, srv} or set(c["frames"]) <= {cli, srv}:
                    match = key
                    break
            if match is None:
                problems.append("no tshark conversation for %s" % (cli + srv,))
                continue
            used.add(match)
            c = conv[match]
            got = (c["frames"].get(cli, 0), c["frames"].get(srv, 0))
            if got != (fl["pkts_toserver"], fl["pkts_toclient"]):
                problems.append("frames %s != %s for %s" % (
                    got, (fl["pkts_toserver"], fl["pkts_toclient"]), cli))
            if (c["bytes"].get(cli, 0), c["bytes"].get(srv, 0)) != (
                    fl["bytes_toserver"], fl["bytes_toclient"]):
                problems.append("bytes %s != %s for %s" % (
                    (c["bytes"].get(cli, 0), c["bytes"].get(srv, 0)),
                    (fl["bytes_toserver"], fl["bytes_toclient"]), cli))
            if fl["proto"] == "TCP":
                fl_got = ("%02x" % c["fl"].get(cli, 0), "%02x" % c["fl"].get(srv, 0))
                if fl_got != (fl["tcp_flags_ts"], fl["tcp_flags_tc"]):
                    problems.append("flags %s != %s" % (fl_got, (fl["tcp_flags_ts"],
                                                                 fl["tcp_flags_tc"])))
            if fl["proto"] == "TCP":
                problems += tshark_follow_check(path, match[1], fl)
        status = "ok" if not problems else "MISMATCH"
        bad += bool(problems)
        print("%-22s %-8s %s" % (name, status, "; ".join(problems)))
    print("%d captures, %d mismatches" % (len(manifest["captures"]), bad))
    return bad == 0


TSHARK_MISSING = re.compile(rb"\[(\d+) bytes missing in capture file\]\x00?")


def tshark_follow_check(path, stream, fl):
    """Compare the model's streams with tshark's follow,tcp,raw (lost segments excluded)."""
    res = subprocess.run(["tshark", "-n", "-q", "-r", path, "-z", "follow,tcp,raw,%s" % stream],
                         capture_output=True, text=True)
    node0 = None
    data = {0: b"", 1: b""}
    gaps = {0: [], 1: []}
    gap_bytes = {0: 0, 1: 0}
    started = False
    for line in res.stdout.splitlines():
        if line.startswith("Node 0:"):
            node0 = line.split(":", 1)[1].strip()
            continue
        if line.startswith("Node 1:"):
            started = True
            continue
        if not started or line.startswith("===") or not line.strip():
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
    cli = "%s:%d" % (fl["src_ip"] if ":" not in fl["src_ip"] else "[%s]" % fl["src_ip"],
                     fl["src_port"])
    if node0 is None:
        return ["tshark follow printed no nodes"]
    if node0 != cli:
        data = {0: data[1], 1: data[0]}
        gaps = {0: gaps[1], 1: gaps[0]}
    problems = []
    if "tshark_follow_differs" in fl:
        return problems
    for side, key in ((0, "ts"), (1, "tc")):
        if gaps[side] != fl["gaps_" + key]:
            problems.append("follow %s: tshark gaps %s, manifest %s" % (key, gaps[side],
                                                                       fl["gaps_" + key]))
        want = fl["stream_" + key]
        if hashlib.sha256(data[side]).hexdigest() != want["sha256"]:
            problems.append("follow %s: tshark %d bytes, manifest %d bytes" % (
                key, len(data[side]), want["len"]))
    return problems



# ---------------------------------------------------------------------------------------------
# For the generators that read signature packs (gen_dlp_pcaps.py, gen_volume_pcaps.py)
# ---------------------------------------------------------------------------------------------

EXIT_NO_YAML = 77  # the e2e tests skip on this exit status


def need_yaml(yaml_module, argv, name, what):
    """When the yaml module is missing, run the script again under Debian's /usr/bin/python3
    (which has python3-yaml) or return EXIT_NO_YAML with a message; None when yaml is there."""
    if yaml_module is not None:
        return None
    alt = "/usr/bin/python3"
    flag = "LW_%s_REEXEC" % name.upper()
    if os.environ.get(flag) != "1" and os.path.exists(alt) and \
            os.path.realpath(alt) != os.path.realpath(sys.executable):
        os.environ[flag] = "1"
        os.execv(alt, [alt] + argv)
    sys.stderr.write("%s: the yaml module is missing (install python3-yaml or PyYAML) - cannot "
                     "read %s\n" % (name, what))
    return EXIT_NO_YAML

def main(argv):
    if len(argv) == 3 and argv[1] == "--demo":
        write_demo(argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "--check-tshark":
        return 0 if tshark_check(argv[2]) else 1
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    m = write_all(argv[1])
    print("wrote %d captures and expected.json to %s" % (len(m["captures"]), argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
