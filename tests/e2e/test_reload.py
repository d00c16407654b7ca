"""test_reload.py — SIGHUP reloads signatures and allowlist without losing packets or flow state.

One sensor (2 workers) reads a generated conversation through a pipe in three phases
(scripts/gen_reload_pcaps.py) and gets SIGHUP between them:

  start     set A (LWRLA-nnnnnn) from the configuration's `signatures` file
  SIGHUP 1  the file now holds set B (LWRLB-nnnnnn), the configuration allowlists LWRLB-399999:
            flows started after it are matched with B and the new allowlist; the flow open
            across it finishes on A (the database it started with)
  SIGHUP 2  the file holds a regex Hyperscan refuses: B stays in use, an `error` event
            (kind signature_reload) names file:line, stats count the failure

Then: every packet was read and every flow reported (nothing lost while compiling), stats give
the generation and reload counts, and the default signature set reloads too (timed, printed).
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lwtest  # noqa: E402

SIG_A, SIG_B = 900201, 900202

t = lwtest.Test("test_reload")
env = t.env
t.need_binary()
gen, _ = t.generate_twice("gen_reload_pcaps.py", [], "reload-gen")
with open(os.path.join(gen, "expected.json")) as fp:
    manifest = json.load(fp)
work = env.scratch("reload")
key_path = lwtest.fingerprint_key_file(env)


def sig_file(sig_id, prefix, regex=None):
    return ("signatures:\n  - id: %d\n    name: Reload test %s\n    category: custom\n"
            "    severity: high\n    regex: '%s'\n" % (sig_id, prefix,
                                                       regex or prefix + "-[0-9]{6}"))


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as fp:
        fp.write(text)
    os.rename(tmp, path)  # as an editor or a config manager replaces a file


sigs = os.path.join(work, "sigs.yaml")
cfg = os.path.join(work, "sensor.yaml")
base_cfg = "output:\n  flows: all\n  fingerprint_key: %s\nsignatures: [%s]\n" % (key_path, sigs)
write(sigs, sig_file(SIG_A, "LWRLA"))
write(cfg, base_cfg)
out_path = os.path.join(work, "events.json")
hdr, phase1 = lwtest.pcap_records(os.path.join(gen, "phase_1.pcap"))
_, phase2 = lwtest.pcap_records(os.path.join(gen, "phase_2.pcap"))
_, phase3 = lwtest.pcap_records(os.path.join(gen, "phase_3.pcap"))

t.section("SIGHUP during a run")
proc = subprocess.Popen([env.bin, "-c", cfg, "-r", "-", "-o", out_path, "--workers", "2",
                         "--reveal"], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                        cwd=env.source)
errbuf = [""]
try:
    proc.stdin.write(hdr + b"".join(phase1))
    proc.stdin.flush()
    t.ok(lwtest.wait_drained(proc.stdin), "phase 1 is read")
    write(sigs, sig_file(SIG_B, "LWRLB"))
    write(cfg, base_cfg + "allowlist:\n  values: [LWRLB-399999]\n")
    proc.send_signal(signal.SIGHUP)
    # a sensor reading a pipe looks at signals between packets: the straddling flow's next
    # segment (on set A whatever happens) lets it see this one
    proc.stdin.write(phase2[0])
    proc.stdin.flush()
    t.ok(lwtest.wait_stderr(proc, "signatures reloaded (generation 2)", errbuf, 120),
         "SIGHUP 1: set B is compiled and published", errbuf[0])
    proc.stdin.write(b"".join(phase2[1:]))
    proc.stdin.flush()
    t.ok(lwtest.wait_drained(proc.stdin), "phase 2 is read")
    write(sigs, sig_file(SIG_A, "LWRLA", regex="LWRLA-(?<=x)[0-9]{6}"))
    proc.send_signal(signal.SIGHUP)
    proc.stdin.write(phase3[0])  # a SYN: its flow starts on generation 2 either way
    proc.stdin.flush()
    t.ok(lwtest.wait_stderr(proc, "the signatures in use stay", errbuf, 120),
         "SIGHUP 2: a set that does not compile is refused", errbuf[0])
    proc.stdin.write(b"".join(phase3[1:]))
    proc.stdin.close()
    proc.wait(timeout=120)
finally:
    t.end_piped(proc, errbuf, "reload run")
evs = t.read_events(out_path, "reload run")


def flow_event(name):
    want = manifest["flows"][name]
    for e in evs:
        if e.get("event_type") == "flow" and e.get("src_port") == want["src_port"] and \
                e.get("dest_ip") == want["dest_ip"]:
            return e
    return None


def alerted(name):
    """{signature_id: sorted revealed values} of the flow's dlp list."""
    f = flow_event(name)
    return {d["signature_id"]: sorted(d.get("values", [])) for d in (f or {}).get("dlp", [])}


t.eq(alerted("before"), {SIG_A: ["LWRLA-100001"]}, "before the reload: set A")
t.eq(alerted("straddle"), {SIG_A: ["LWRLA-200001", "LWRLA-200002"]},
     "the flow open across the reload finishes on set A (B's value in it is not matched)")
t.eq(alerted("after"), {SIG_B: ["LWRLB-300002"]},
     "a flow after the reload: set B, and the reloaded allowlist suppresses LWRLB-399999")
t.eq(alerted("after_bad"), {SIG_B: ["LWRLB-400001"]},
     "after the refused reload set B stays in use")
alerts = sorted((a["alert"]["signature_id"], a["src_port"]) for a in evs
                if a.get("event_type") == "alert")
t.eq(alerts, [(SIG_A, 41001), (SIG_A, 41002), (SIG_B, 41003), (SIG_B, 41004)],
     "one alert per flow, each from the set its flow started on")
flows = [e for e in evs if e.get("event_type") == "flow"]
t.eq(sorted((f["src_port"], f["flow"]["reason"]) for f in flows),
     [(41001, "fin"), (41002, "fin"), (41003, "fin"), (41004, "fin")],
     "every flow is reported once, closed by its FIN")
errors = [e["error"] for e in evs if e.get("event_type") == "error"]
t.eq([e["kind"] for e in errors], ["signature_reload"], "one error event: the refused reload")
t.ok(errors and sigs in errors[0]["message"] and "stay" in errors[0]["message"],
     "the error names the signature file and says the set in use stays",
     str(errors))
stats = [e["stats"] for e in evs if e.get("event_type") == "stats"]
st = stats[-1] if stats else {}
t.eq(st.get("capture", {}).get("packets"), sum(manifest["packets"]),
     "every packet was read while the sets compiled")
det = st.get("detect", {})
t.eq((det.get("signature_generation"), det.get("signature_reloads"),
      det.get("signature_reload_failures")), (2, 1, 1),
     "stats: generation 2, one reload, one refused")
t.ok(det.get("allowlisted_values", 0) >= 1, "stats count the value the reloaded allowlist hid",
     str(det.get("allowlisted_values")))
wk = st.get("worker", {})
t.eq(wk.get("engine_switches"), 2, "each of the 2 workers switched to generation 2 once")
t.eq(wk.get("engines_retired"), 2, "and freed generation 1 once its last flow ended")

# -- the default signature set --------------------------------------------------------------------
t.section("reloading the default set")
hdr2, recs = lwtest.pcap_records(os.path.join(gen, "phase_1.pcap"))
proc = subprocess.Popen([env.bin, "-r", "-", "-o", os.devnull, "--workers", "1"],
                        stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=env.source)
errbuf = [""]
try:
    proc.stdin.write(hdr2 + recs[0])
    proc.stdin.flush()
    lwtest.wait_drained(proc.stdin)
    t0 = time.time()
    proc.send_signal(signal.SIGHUP)
    proc.stdin.write(recs[1])
    proc.stdin.flush()
    ok = lwtest.wait_stderr(proc, "signatures reloaded (generation 2)", errbuf, 300)
    took = time.time() - t0
    t.ok(ok, "the shipped signatures reload", errbuf[0])
    proc.stdin.write(b"".join(recs[2:]))
    proc.stdin.close()
    proc.wait(timeout=120)
finally:
    t.end_piped(proc, errbuf, "default reload")
t.end_section()
print("default signature set: SIGHUP to published in %.2f s (compiled off the packet path)"
      % took)
t.finish()
