#!/usr/bin/env python3
"""gen_edm_pcaps.py — a deterministic customer table and captures for Exact Data Match tests.

    python3 scripts/gen_edm_pcaps.py OUTDIR

Writes, with scripts/gen_pcaps.py's packet builders (fixed timestamps, sequence numbers):

  customers.csv      the "CRM export" the lists are built from: header customer_no,email,name,
                     note; RFC 4180 quoting (names with commas, notes with line breaks and
                     doubled quotes), values with surrounding blanks, e-mail addresses in mixed
                     case, customer numbers with dashes
  customers_v2.csv   the same table with one more customer (the SIGHUP reload test)
  edm.pcap           four TCP flows from the home network:
    http_export      POST of a CSV export: 12 customers (one of them twice, in another case),
                     numbers written with and without dashes, 6 strangers
    smtp_reply       a mail to one customer naming 2 customers and one customer number
    http_strangers   POST with 20 e-mail addresses and numbers of the customers' shape that
                     are not in the table (one digit or letter off)
    raw_quoted       raw TCP: a CSV with quoted fields and blanks inside the quotes
  late_1.pcap        a POST naming late.customer@example.net (in customers_v2 only)
  late_2.pcap        the same POST, 60 s later, on another client port
  expected.json      per flow: 5-tuple, the customers' values as they appear on the wire
                     (emails, numbers) with their normalized forms, and the strangers

Needs nothing beyond the standard library.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_pcaps as G  # noqa: E402

HOME = "10.0.0.5"
WEB = "198.51.100.7"
MX = "198.51.100.25"
RAW = "198.51.100.9"

FIRST = ["hanako", "taro", "yuki", "kenji", "aiko", "ren", "mei", "sora", "emma", "lukas",
         "sofia", "noah", "mila", "jonas", "lea", "omar", "ines", "paul", "nora", "ivan"]
LAST = ["suzuki", "yamada", "tanaka", "sato", "ito", "kato", "mori", "ueda", "weber", "rossi"]


def customers(n):
    """n customers: (number, email, name); deterministic."""
    out = []
    for i in range(n):
        num = "%010d" % (4401928374 + 7919 * i)
        first, last = FIRST[i % len(FIRST)], LAST[(i * 3) % len(LAST)]
        email = "%s.%s%d@%s" % (first, last, i, ["example.co.jp", "example.com"][i % 2])
        name = "%s, %s" % (last.capitalize(), first.capitalize())
        out.append((num, email, name))
    return out


def mixed_case(s, k):
    """s with every k-th letter upper-cased (k=0: all of it)."""
    if k == 0:
        return s.upper()
    return "".join(c.upper() if c.isalpha() and j % k == 0 else c for j, c in enumerate(s))


def dashed(num):
    return "%s-%s-%s" % (num[:4], num[4:8], num[8:])


def csv_quote(v):
    return '"%s"' % v.replace('"', '""')


def customer_table(rows, extra=()):
    """The CRM export: quoting, blanks and case vary by row."""
    lines = ["customer_no,email,name,note"]
    for i, (num, email, name) in enumerate(list(rows) + list(extra)):
        n = [num, "  %s " % num, csv_quote(" %s" % num), dashed(num)][i % 4]
        e = [email, " %s  " % mixed_case(email, 3), csv_quote(mixed_case(email, 0)),
             csv_quote("\t%s " % email)][(i // 2) % 4]
        note = ['', csv_quote('said "call me"'), csv_quote("line one\r\nline two"), 'vip'][i % 4]
        lines.append(",".join([n, e, csv_quote(name), note]))
    return ("\r\n".join(lines) + "\r\n").encode()


def normalized_email(s):
    return s.strip(" \t\r\n").lower()


def normalized_digits(s):
    return "".join(c for c in s if c.isdigit())


def stranger_email(email):
    """Same shape, not a customer: one letter of the local part changed."""
    local, domain = email.split("@")
    return "%sx%s@%s" % (local[:-1], local[-1], domain)


def stranger_number(num):
    return "%010d" % (int(num) + 1)


class Flows:
    def __init__(self):
        self.port = 40000
        self.expect = {}

    def flow(self, cap, name, srv, sport, wire_values):
        self.port += 1
        f = G.Flow(cap, "TCP", HOME, self.port, srv, sport, cisn=0x10000000 + 7919 * self.port,
                   sisn=0x60000000 + 104729 * self.port)
        self.expect[name] = dict(wire_values, src_ip=HOME, src_port=self.port, dest_ip=srv,
                                 dest_port=sport, capture=cap.name)
        return f


def record(known_emails, known_numbers, stranger_emails=(), stranger_numbers=()):
    return {"emails": [{"wire": e, "normalized": normalized_email(e)} for e in known_emails],
            "numbers": [{"wire": n, "normalized": normalized_digits(n)} for n in known_numbers],
            "stranger_emails": list(stranger_emails), "stranger_numbers": list(stranger_numbers)}


def http_post(f, host, path, body, ctype="text/csv"):
    f.handshake()
    f.send(0, G.http_request("POST", host, path, body, ctype))
    f.send(1, G.http_response(b"ok\n", "text/plain"))
    f.fin_close()


def write_all(outdir):
    os.makedirs(outdir, exist_ok=True)
    table = customers(40)
    late = ("4409999999", "late.customer@example.net", "Customer, Late")
    with open(os.path.join(outdir, "customers.csv"), "wb") as fp:
        fp.write(customer_table(table))
    with open(os.path.join(outdir, "customers_v2.csv"), "wb") as fp:
        fp.write(customer_table(table, [late]))

    fl = Flows()
    cap = G.Capture("edm")

    # 1. the export: 12 customers (customer 0 a second time in upper case), 6 strangers
    rows = table[:12]
    strangers = [(stranger_number(n), stranger_email(e)) for n, e, _ in table[20:26]]
    lines = ["customer_no,email,name"]
    emails_wire, numbers_wire = [], []
    for i, (num, email, name) in enumerate(rows):
        nw = dashed(num) if i % 3 == 0 else num
        ew = mixed_case(email, 2) if i % 2 else email
        emails_wire.append(ew)
        numbers_wire.append(nw)
        lines.append("%s,%s,%s" % (nw, ew, csv_quote(name)))
    emails_wire.append(table[0][1].upper())
    lines.append("%s,%s,%s" % (table[0][0], table[0][1].upper(), csv_quote(table[0][2])))
    for n, e in strangers:
        lines.append("%s,%s,%s" % (n, e, csv_quote("Stranger, A")))
    body = ("\r\n".join(lines) + "\r\n").encode()
    f = fl.flow(cap, "http_export", WEB, 80, record(emails_wire, numbers_wire + [table[0][0]],
                                                    [e for _, e in strangers],
                                                    [n for n, _ in strangers]))
    http_post(f, "upload.example.net", "/api/import", body)

    # 2. a reply to one customer: two addresses and one number, below every threshold
    c1, c2 = table[14], table[15]
    mail = ("From: support@corp.example\r\nTo: %s\r\nCc: %s\r\nSubject: your order\r\n\r\n"
            "Dear customer %s,\r\nyour order has shipped.\r\n.\r\n" %
            (mixed_case(c1[1], 4), c2[1], dashed(c1[0]))).encode()
    f = fl.flow(cap, "smtp_reply", MX, 25,  # c1 also as sent in RCPT TO
                record([mixed_case(c1[1], 4), c2[1], c1[1]], [dashed(c1[0])]))
    f.handshake()
    f.send(1, b"220 mx.example.net ESMTP\r\n")
    for cmd, reply in [(b"EHLO laptop.corp.example\r\n", b"250 mx.example.net\r\n"),
                       (b"MAIL FROM:<support@corp.example>\r\n", b"250 Ok\r\n"),
                       (b"RCPT TO:<%s>\r\n" % c1[1].encode(), b"250 Ok\r\n"),
                       (b"DATA\r\n", b"354 go ahead\r\n")]:
        f.send(0, cmd)
        f.send(1, reply)
    f.send(0, mail)
    f.send(1, b"250 queued\r\n")
    f.fin_close()

    # 3. strangers only: every value one letter or digit off a customer's
    se = [stranger_email(e) for _, e, _ in table[:20]]
    sn = [stranger_number(n) for n, _, _ in table[:20]]
    body = "".join("%s;%s\n" % (e, n) for e, n in zip(se, sn)).encode()
    f = fl.flow(cap, "http_strangers", WEB, 80, record([], [], se, sn))
    http_post(f, "upload.example.net", "/api/import", body, "text/plain")

    # 4. raw TCP, a CSV with blanks inside the quotes
    rows = table[30:36]
    body = "".join('"%s","  %s  "\n' % (num, mixed_case(email, 0)) for num, email, _ in rows)
    f = fl.flow(cap, "raw_quoted", RAW, 5555, record([mixed_case(e, 0) for _, e, _ in rows],
                                                      [n for n, _, _ in rows]))
    f.handshake()
    f.send(0, body.encode())
    f.fin_close()

    caps = [cap]
    for k in (1, 2):
        c = G.Capture("late_%d" % k)
        c.ts += k * 60 * 1000000
        f = fl.flow(c, "late_%d" % k, WEB, 80, record([late[1]], []))
        http_post(f, "upload.example.net", "/api/import",
                  ("email\r\n%s\r\n" % late[1]).encode())
        caps.append(c)

    for c in caps:
        with open(os.path.join(outdir, c.name + ".pcap"), "wb") as fp:
            fp.write(G.pcap_bytes(c.linktype, c.frames))
    manifest = {"version": 1, "flows": fl.expect,
                "table": [{"customer_no": n, "email": e} for n, e, _ in table],
                "late": {"customer_no": late[0], "email": late[1]}}
    with open(os.path.join(outdir, "expected.json"), "w") as fp:
        json.dump(manifest, fp, indent=1, sort_keys=True)
    return manifest


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    m = write_all(argv[1])
    print("wrote customers.csv, customers_v2.csv, edm.pcap, late_1.pcap, late_2.pcap and "
          "expected.json (%d flows) to %s" % (len(m["flows"]), argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
