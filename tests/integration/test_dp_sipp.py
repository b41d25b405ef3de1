#!/usr/bin/env python3
"""Real SIP peers through teishi-dp: SIPp calls SIPp across the bump.

Three network namespaces: the caller's (a SIPp UAC at 10.9.0.1), the
callee's (a SIPp UAS at 10.9.0.2) and the test's, where teishi-dp runs
with port 0 on a tap bridged to the caller and port 1 on a tap bridged to
the callee, so that every frame between them, ARP included, crosses
teishi-dp.  The list holds 03-1234-5678 and 050-1111-2222.

  - calls from an unlisted number complete (INVITE, 200, ACK, BYE, 200
    through teishi-dp, answered by the UAS);
  - calls from 03-1234-5678 get 608 from teishi-dp (the UAC's scenario
    requires it, then ACKs it); the UAS never sees them;
  - calls to 050-1111-2222 get 404;
  - teishi-dp's counters agree: blocked by side, rejects sent.

SIPp's own exit status says whether every call went as its scenario
requires.  Needs root, /dev/net/tun and sipp; exits 77 (skip) otherwise.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dpdk_run  # noqa: E402
import netpkt  # noqa: E402
from test_dp_rss import enter_netns, read_stats, skip, sysctl, wait_iface  # noqa: E402

TAPS = ("e2e0", "e2e1")       # teishi-dp's ports 0 (caller side) and 1
CALLER, CALLEE = "10.9.0.1", "10.9.0.2"
CALLS = 4


def sh(*args, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return p.stdout


def plumb(pid):
    """Each tap in a bridge with a veth whose other end is in the caller's
    or the callee's namespace, with its address."""
    for side, tap, addr in (("a", TAPS[0], CALLER), ("b", TAPS[1], CALLEE)):
        ns, br, v0, v1 = f"teishi-e2e{side}-{pid}", f"e2ebr{side}", f"e2e{side}0", f"e2e{side}1"
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", v0, "type", "veth", "peer", "name", v1)
        sh("ip", "link", "set", v1, "netns", ns)
        sh("ip", "link", "add", br, "type", "bridge", "stp_state", "0")
        for dev in (v0, tap):
            sh("ip", "link", "set", dev, "master", br)
        for dev in (v0, tap, br):
            sh("ip", "link", "set", dev, "up")
        sh("ip", "addr", "add", addr + "/24", "dev", v1, ns=ns)
        sh("ip", "link", "set", v1, "up", ns=ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        st = sh("ip", "-j", "-d", "link", "show", "type", "bridge_slave")
        if st.replace(" ", "").count('"state":"forwarding"') >= 4:
            return
        time.sleep(0.1)
    raise RuntimeError("bridge ports never forwarding")


def sipp(ns, args, timeout=60):
    p = subprocess.run(["ip", "netns", "exec", ns, "sipp"] + args, capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout[-1500:] + p.stderr[-1500:]


def main():
    if os.geteuid() != 0:
        skip("needs root (network namespaces and tap devices)")
    if not os.path.exists("/dev/net/tun"):
        skip("no /dev/net/tun")
    if shutil.which("sipp") is None:
        skip("sipp (Debian sip-tester) missing")
    run = dpdk_run.require_dp()
    pid = os.getpid()
    ns = f"teishi-e2e-{pid}"
    nsa, nsb = f"teishi-e2ea-{pid}", f"teishi-e2eb-{pid}"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    p = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
    if p.returncode != 0:
        skip(f"cannot create network namespace {ns}: {p.stderr.strip()}")
    work = tempfile.mkdtemp(prefix="teishi-dp-sipp-")
    here = os.path.dirname(os.path.abspath(__file__))
    fixtures = os.path.join(here, "..", "fixtures", "sipp")
    failures = []
    proc = uas = None
    try:
        enter_netns(ns)
        sysctl("net/ipv6/conf/all/disable_ipv6", "1")
        sysctl("net/ipv6/conf/default/disable_ipv6", "1")
        lst = os.path.join(work, "list.txt")
        with open(lst, "w") as f:
            f.write("03-1234-5678\n050-1111-2222\n")
        stats_file = os.path.join(work, "stats.json")
        events_file = os.path.join(work, "events.jsonl")
        cmd = [run.binary, "--lcores", "0@0,1@" + str(1 % (os.cpu_count() or 1)),
               "--file-prefix", f"teishi-test-{pid}-sipp", "--no-pci", "--log-level", "warning"
               ] + dpdk_run.memory_args() + [
               "--vdev", f"net_tap0,iface={TAPS[0]}", "--vdev", f"net_tap1,iface={TAPS[1]}",
               "--", "--list", lst, "--stats-file", stats_file, "--events", events_file]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if not (wait_iface(TAPS[0], proc) and wait_iface(TAPS[1], proc)):
            proc.kill()
            skip(f"net_tap does not work here: {proc.communicate()[1].strip()[-300:]}")
        plumb(pid)

        uas_log = os.path.join(work, "uas-messages.log")
        uas = subprocess.Popen(["ip", "netns", "exec", nsb, "sipp", "-sn", "uas", "-i", CALLEE,
                                "-p", "5060", "-nostdin", "-trace_msg", "-message_file",
                                uas_log],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, cwd=work)
        time.sleep(0.5)
        common = [CALLEE + ":5060", "-i", CALLER, "-p", "5060", "-m", str(CALLS), "-r", "20",
                  "-nostdin", "-timeout", "30s", "-recv_timeout", "5s", "-timeout_error"]

        def inject(name, rows):
            path = os.path.join(work, name)
            with open(path, "w") as f:
                f.write("SEQUENTIAL\n" + "".join(";".join(r) + ";\n" for r in rows))
            return path

        # 1. an unlisted caller: every call completes
        rc, out = sipp(nsa, ["-sf", os.path.join(fixtures, "uac_pass.xml"), "-s", "0312340000",
                             "-inf", inject("pass.csv", [("0399998888",)])] + common)
        if rc != 0:
            failures.append(f"calls from an unlisted number: sipp exit {rc}\n{out}")

        # 2. a listed caller, 3. a listed callee: rejected by teishi-dp
        with open(os.path.join(fixtures, "uac_blocked.xml")) as f:
            template = f.read()
        for code, row in (("608", ("0312345678", "0312340000")),
                          ("404", ("0399998888", "05011112222"))):
            sf = os.path.join(work, f"uac_blocked_{code}.xml")
            with open(sf, "w") as f:
                f.write(template.replace("@CODE@", code))
            rc, out = sipp(nsa, ["-sf", sf, "-inf", inject(f"b{code}.csv", [row])] + common)
            if rc != 0:
                failures.append(f"calls {row[0]} -> {row[1]}: want {code} from teishi-dp, "
                                f"sipp exit {rc}\n{out}")

        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
        if proc.returncode != 0:
            failures.append(f"teishi-dp exited {proc.returncode}: {err[-500:]}")
        stats = read_stats(stats_file, 2.0) or {}
        side = stats.get("blocked_by_side", {})
        app = stats.get("app", {})
        # SIPp retransmits an INVITE whose answer is late: at least CALLS each
        if side.get("calling", 0) < CALLS or side.get("called", 0) < CALLS:
            failures.append(f"blocked by side {side}, want at least {CALLS} each")
        if app.get("rejects_sent") != side.get("calling", 0) + side.get("called", 0):
            failures.append(f"rejects sent {app.get('rejects_sent')} for {side}")
        with open(events_file) as f:
            events = [json.loads(x) for x in f if x.strip()]
        nums = {e["number"] for e in events}
        if nums != {"+81312345678", "+815011112222"}:
            failures.append(f"events name the numbers {sorted(nums)}")
        uas.send_signal(signal.SIGINT)
        uas.wait(timeout=10)
        with open(uas_log, errors="replace") as f:
            invites = [ln for ln in f.read().split("\n") if ln.startswith("INVITE sip:")]
        through = [ln for ln in invites if "0312340000@" in ln]
        if len(through) < CALLS or len(through) != len(invites):
            failures.append(f"the UAS received {len(invites)} INVITEs, {len(through)} of them "
                            f"the unlisted calls: want {CALLS} or more, and nothing else")
        print(f"sipp through teishi-dp: {CALLS} calls completed, {side.get('calling')} "
              f"INVITEs rejected 608 (calling), {side.get('called')} rejected 404 (called); "
              f"{stats.get('frames')} frames crossed")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        if uas and uas.poll() is None:
            uas.kill()
            uas.wait()
        for n in (nsa, nsb, ns):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        run.cleanup()
    return dpdk_run.report(failures)


if __name__ == "__main__":
    sys.exit(main())
