#!/usr/bin/env python3
"""gen_reload_pcaps.py — deterministic captures for the SIGHUP signature-reload test.

    python3 scripts/gen_reload_pcaps.py OUTDIR

One conversation in three phases, written as phase_1.pcap, phase_2.pcap and phase_3.pcap with
timestamps that continue across them (the test feeds them to one sensor through a pipe and
sends SIGHUP between phases). Values are of two made-up signatures: LWRLA-nnnnnn (set A, the
one the sensor starts with) and LWRLB-nnnnnn (set B, the one it reloads):

  phase 1  before     a whole POST carrying LWRLA-100001
           straddle   handshake and a first POST carrying LWRLA-200001 (the flow stays open)
  phase 2  straddle   a second POST carrying LWRLA-200002 and LWRLB-200003, then FIN
           after      a whole POST carrying LWRLA-300001, LWRLB-300002 and LWRLB-399999
  phase 3  after_bad  a whole POST carrying LWRLB-400001

expected.json gives each flow's 5-tuple and values. Needs nothing beyond the standard library.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_pcaps as G  # noqa: E402

HOME = "10.0.0.7"
WEB = "198.51.100.70"


def post(f, body):
    f.send(0, G.http_request("POST", "upload.example.net", "/api/put", body.encode(),
                             "text/plain"))
    f.send(1, G.http_response(b"ok\n", "text/plain"))


def write_all(outdir):
    caps = [G.Capture("phase_%d" % k) for k in (1, 2, 3)]
    flows = {}

    def flow(cap, name, port, values):
        flows[name] = {"src_ip": HOME, "src_port": port, "dest_ip": WEB, "dest_port": 80,
                       "values": values}
        return G.Flow(cap, "TCP", HOME, port, WEB, 80, cisn=0x20000000 + 7919 * port,
                      sisn=0x70000000 + 104729 * port)

    before = flow(caps[0], "before", 41001, ["LWRLA-100001"])
    before.handshake()
    post(before, "id=LWRLA-100001\r\n")
    before.fin_close()

    straddle = flow(caps[0], "straddle", 41002, ["LWRLA-200001", "LWRLA-200002", "LWRLB-200003"])
    straddle.handshake()
    post(straddle, "id=LWRLA-200001\r\n")
    # the same flow goes on in phase 2 (its packets are built into that capture)
    caps[1].ts = caps[0].ts + 5 * 1000000
    straddle.cap = caps[1]
    post(straddle, "id=LWRLA-200002 and id=LWRLB-200003\r\n")
    straddle.fin_close()

    after = flow(caps[1], "after", 41003, ["LWRLA-300001", "LWRLB-300002", "LWRLB-399999"])
    after.handshake()
    post(after, "id=LWRLA-300001 id=LWRLB-300002 id=LWRLB-399999\r\n")
    after.fin_close()

    caps[2].ts = caps[1].ts + 5 * 1000000
    bad = flow(caps[2], "after_bad", 41004, ["LWRLB-400001"])
    bad.handshake()
    post(bad, "id=LWRLB-400001\r\n")
    bad.fin_close()

    for c in caps:
        with open(os.path.join(outdir, c.name + ".pcap"), "wb") as fp:
            fp.write(G.pcap_bytes(c.linktype, c.frames))
    manifest = {"version": 1, "flows": flows,
                "packets": [len(c.frames) for c in caps]}
    with open(os.path.join(outdir, "expected.json"), "w") as fp:
        json.dump(manifest, fp, indent=1, sort_keys=True)
    return manifest


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    m = write_all(argv[1])
    print("wrote phase_1.pcap, phase_2.pcap, phase_3.pcap and expected.json (%d flows) to %s"
          % (len(m["flows"]), argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
