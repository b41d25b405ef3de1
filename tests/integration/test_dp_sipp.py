#!/usr/bin/env python3
"""The whole chain with real SIP peers: an order given with teishictl
changes what SIPp's calls get across teishi-dp.

Three network namespaces: the caller's (a SIPp UAC at 10.9.0.1), the
callee's (a SIPp UAS at 10.9.0.2) and the test's, where redis-server
(AOF, appendfsync always), teishid and teishi-dp --redis run, teishi-dp
with port 0 on a tap bridged to the caller and port 1 on a tap bridged to
the callee, so that every frame between them, ARP included, crosses it.
Police orders suspend 03-1234-5678 and 050-1111-2222 before teishi-dp
starts.

  - calls from an unlisted number (03-9999-8888) complete (INVITE, 200,
    ACK, BYE, 200 through teishi-dp, answered by the UAS);
  - calls from 03-1234-5678 get 608 from teishi-dp (the UAC's scenario
    requires it, then ACKs it), calls to 050-1111-2222 get 404;
  - `teishictl suspend` of 03-9999-8888 while teishi-dp runs: once
    `teishictl dataplanes` says every dataplane is current, its calls get
    608; `teishictl lift`: they complete again;
  - the UAS's message log holds no blocked INVITE; teishi-dp's counters
    and `teishictl events` agree.

SIPp's own exit status says whether every call went as its scenario
requires.  Needs root, /dev/net/tun, sipp, redis-server and teishid;
exits 77 (skip) otherwise.
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
PASSWORD = "pw-e2e"


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


def control_binaries():
    build = os.environ.get("TEISHI_BUILD_ROOT", "")
    d, c = (os.path.join(build, "control", x) for x in ("teishid", "teishictl"))
    return (d, c) if os.access(d, os.X_OK) and os.access(c, os.X_OK) else (None, None)


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


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
    if shutil.which("redis-server") is None:
        skip("redis-server missing")
    teishid, teishictl = control_binaries()
    if teishid is None:
        skip("teishid not built")
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
    proc = uas = redis = daemon = None
    try:
        enter_netns(ns)
        sysctl("net/ipv6/conf/all/disable_ipv6", "1")
        sysctl("net/ipv6/conf/default/disable_ipv6", "1")
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        redis = subprocess.Popen(
            ["redis-server", "--port", "16380", "--bind", "127.0.0.1", "--dir", work,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--requirepass", PASSWORD, "--logfile", "redis.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pwfile = os.path.join(work, "redis.pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        roles = os.path.join(work, "roles")
        with open(roles, "w") as f:
            f.write(f"user {os.getuid()} viewer,operator,supervisor,auditor\n")
        sock = os.path.join(work, "teishid.sock")

        def ctl(*args):
            return subprocess.run([teishictl, "-s", sock] + list(args), capture_output=True,
                                  text=True, timeout=30)

        def start_teishid():
            return subprocess.Popen([teishid, "--redis", "127.0.0.1:16380", "--redis-password-file",
                                     pwfile, "--socket", sock, "--roles", roles],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        daemon = None
        # redis-server needs a moment: teishid retries nothing at start
        for _ in range(50):
            daemon = start_teishid()
            if wait_for(lambda: os.path.exists(sock) or daemon.poll() is not None, 5) \
                    and os.path.exists(sock):
                break
            time.sleep(0.1)
        if not os.path.exists(sock):
            raise RuntimeError(f"teishid did not start: {daemon.communicate()[1][-500:]}")
        r = ctl("suspend", "--order", "E2E-1", "--authority", "tokyo", "--number", "03-1234-5678",
                "050-1111-2222")
        if r.returncode != 0:
            raise RuntimeError(f"teishictl suspend: {r.stdout}{r.stderr}")
        stats_file = os.path.join(work, "stats.json")
        events_file = os.path.join(work, "events.jsonl")
        cmd = [run.binary, "--lcores", "0@0,1@" + str(1 % (os.cpu_count() or 1)),
               "--file-prefix", f"teishi-test-{pid}-sipp", "--no-pci", "--log-level", "warning"
               ] + dpdk_run.memory_args() + [
               "--vdev", f"net_tap0,iface={TAPS[0]}", "--vdev", f"net_tap1,iface={TAPS[1]}",
               "--", "--redis", "127.0.0.1:16380", "--redis-password-file", pwfile,
               "--name", "e2e-dp", "--stats-file", stats_file, "--events", events_file]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if not (wait_iface(TAPS[0], proc) and wait_iface(TAPS[1], proc)):
            proc.kill()
            skip(f"net_tap does not work here: {proc.communicate()[1].strip()[-300:]}")
        plumb(pid)
        if not wait_for(lambda: ctl("dataplanes").returncode == 0, 10):
            failures.append(f"teishictl dataplanes never said current: {ctl('dataplanes').stdout}")

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

        # 4. an order while it runs, then its lift
        blocked_sf = os.path.join(work, "uac_blocked_608.xml")
        r = ctl("suspend", "--order", "E2E-2", "--authority", "osaka", "--number", "03-9999-8888")
        if r.returncode != 0:
            failures.append(f"teishictl suspend while running: {r.stdout}{r.stderr}")
        if not wait_for(lambda: ctl("dataplanes").returncode == 0, 10):
            failures.append("after the suspension, teishictl dataplanes never said current")
        rc, out = sipp(nsa, ["-sf", blocked_sf,
                             "-inf", inject("b2.csv", [("0399998888", "0312340000")])] + common)
        if rc != 0:
            failures.append(f"03-9999-8888 suspended with teishictl: want 608, sipp exit {rc}\n{out}")
        r = ctl("lift", "--order", "E2E-3", "--number", "03-9999-8888", "--reason", "test over")
        if r.returncode != 0:
            failures.append(f"teishictl lift: {r.stdout}{r.stderr}")
        if not wait_for(lambda: ctl("dataplanes").returncode == 0, 10):
            failures.append("after the lift, teishictl dataplanes never said current")
        rc, out = sipp(nsa, ["-sf", os.path.join(fixtures, "uac_pass.xml"), "-s", "0312340000",
                             "-inf", inject("pass2.csv", [("0399998888",)])] + common)
        if rc != 0:
            failures.append(f"03-9999-8888 lifted: its calls should complete, sipp exit {rc}\n{out}")
        ev = ctl("events", "--count", "1000")
        if ev.returncode != 0 or "e2e-dp" not in ev.stdout or "+81399998888" not in ev.stdout:
            failures.append(f"teishictl events: {ev.stdout[-500:]}{ev.stderr}")

        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
        if proc.returncode != 0:
            failures.append(f"teishi-dp exited {proc.returncode}: {err[-500:]}")
        stats = read_stats(stats_file, 2.0) or {}
        side = stats.get("blocked_by_side", {})
        app = stats.get("app", {})
        # SIPp retransmits an INVITE whose answer is late: at least CALLS each
        if side.get("calling", 0) < 2 * CALLS or side.get("called", 0) < CALLS:
            failures.append(f"blocked by side {side}, want at least {2 * CALLS} calling, "
                            f"{CALLS} called")
        if app.get("rejects_sent") != side.get("calling", 0) + side.get("called", 0):
            failures.append(f"rejects sent {app.get('rejects_sent')} for {side}")
        with open(events_file) as f:
            events = [json.loads(x) for x in f if x.strip()]
        nums = {e["number"] for e in events}
        if nums != {"+81312345678", "+815011112222", "+81399998888"}:
            failures.append(f"events name the numbers {sorted(nums)}")
        uas.send_signal(signal.SIGINT)
        uas.wait(timeout=10)
        # each INVITE the UAS received: its Request-URI line and From line
        invites, cur = [], None
        with open(uas_log, errors="replace") as f:
            for ln in f.read().split("\n"):
                if ln.startswith("INVITE sip:"):
                    cur = [ln, ""]
                    invites.append(cur)
                elif cur is not None and ln.lower().startswith("from:"):
                    cur[1], cur = ln, None
        through = [i for i in invites if "0399998888@" in i[1] and "0312340000@" in i[0]]
        if len(through) < 2 * CALLS or len(through) != len(invites):
            failures.append(f"the UAS received {len(invites)} INVITEs, {len(through)} of them "
                            f"the unblocked calls: want {2 * CALLS} or more, and nothing else")
        print(f"sipp through teishi-dp --redis: {2 * CALLS} calls completed, "
              f"{side.get('calling')} INVITEs rejected 608 (calling), {side.get('called')} "
              f"rejected 404 (called); {stats.get('frames')} frames crossed")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        for p_ in (uas, daemon, redis):
            if p_ and p_.poll() is None:
                p_.kill()
                p_.wait()
        for n in (nsa, nsb, ns):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        run.cleanup()
    return dpdk_run.report(failures)


if __name__ == "__main__":
    sys.exit(main())
