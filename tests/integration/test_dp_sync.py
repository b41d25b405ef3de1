#!/usr/bin/env python3
"""teishi-dp --redis: the list follows Redis while traffic flows.

Everything runs in a network namespace the test creates: a real
redis-server (AOF on, a password), and teishi-dp with port 0 on a net_tap
and port 1 on net_pcap.  The test writes Redis as teishid does
(docs/redis-schema.md: the entry set and a teishi:changes record) and
sends INVITEs into the tap from the kernel side; rejects come back on the
tap.  It checks that:
  - the entries in Redis at start are blocked (608 back for a listed From);
  - a suspension written while teishi-dp runs blocks the number, and how
    long after the XADD the first reject came (printed);
  - a bulk order of 9000 entries (one batch, applied as one rebuild)
    blocks its numbers and keeps what was there;
  - a lift lets the number through again once the heartbeat shows the
    record applied;
  - every blocked call is a teishi:events record naming the dataplane,
    the number and the entry, and the heartbeat says what the list holds;
  - with Redis killed the list stays as it was (still blocking), and after
    Redis comes back from its AOF a new suspension arrives (resumed, not
    reloaded);
  - teishi-dp exits 0 on SIGINT and its stats dump has the sync figures;
  - --redis-cache holds the list in force and its stream record at exit,
    and a start with Redis down enforces it, then resumes from that
    record (no load) once Redis answers;
  - following a read-only replica with --redis-write to the primary: a
    suspension written on the primary is enforced, and the events and the
    heartbeat land on the primary.

Needs root, /dev/net/tun and redis-server; exits 77 (skip) otherwise.
"""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dpdk_run  # noqa: E402
import netpkt  # noqa: E402
from test_dp_cli import telemetry  # noqa: E402
from test_dp_rss import Capture, enter_netns, read_stats, skip, sysctl, wait_iface  # noqa: E402

IFACE = "tsync0"
PASSWORD = "pw-dp-sync"
NAME = "dp-sync-test"
A = "81312345678"   # in Redis at start: 03-1234-5678
B = "815012345678"  # suspended while running: 050-1234-5678
C = "81661230001"   # suspended after Redis came back: 06-6123-0001
D = "81452223333"   # suspended after a start from the cache: 045-222-3333
E = "81922221111"   # suspended on the primary, seen through a replica: 092-222-1111


class Redis:
    """redis-server in this namespace, spoken to with redis-cli."""

    def __init__(self, work, port=16379, replica_of=None):
        self.work = work
        self.port = port
        self.replica_of = replica_of
        self.proc = None

    def start(self):
        extra = ["--replicaof", "127.0.0.1", str(self.replica_of), "--masterauth", PASSWORD] \
            if self.replica_of else []
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.work,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--appendfilename", f"appendonly-{self.port}.aof",
             "--appenddirname", f"aof-{self.port}",
             "--requirepass", PASSWORD, "--daemonize", "no", "--logfile", f"redis-{self.port}.log"]
            + extra, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                if self.cmd("PING") == "PONG":
                    return
            except RuntimeError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def cmd(self, *args):
        p = subprocess.run(["redis-cli", "--no-auth-warning", "-a", PASSWORD, "-p", str(self.port)]
                           + list(args), capture_output=True, text=True)
        if p.returncode != 0 or p.stdout.startswith("(error)") or p.stdout.startswith("ERR"):
            raise RuntimeError(f"redis-cli {' '.join(args)}: {p.stdout}{p.stderr}")
        return p.stdout.strip()

    def change(self, op, entry):
        """What teishid writes (MULTI: the set and a stream record); the
        record's id."""
        self.cmd("HSETNX", "teishi:meta", "schema", "1")  # teishid's first write
        self.cmd("SADD" if op == "add" else "SREM", "teishi:entries", entry)
        return self.cmd("XADD", "teishi:changes", "*", "op", op, "order", "IT-1", "entries", entry)


def invite(n, calling):
    """An initial INVITE from national number `calling` (digits after 81)."""
    body = (f"INVITE sip:0312340000@192.0.2.20 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-sync-{n}\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:0{calling[2:]}@192.0.2.10>;tag=f{n}\r\n"
            f"To: <sip:0312340000@192.0.2.20>\r\n"
            f"Call-ID: sync-{n}@192.0.2.10\r\n"
            f"CSeq: 1 INVITE\r\n"
            f"Content-Length: 0\r\n\r\n").encode()
    l2 = netpkt.ether("02:00:00:00:00:02", "02:00:00:00:00:01", 0x0800)
    return netpkt.udp4_frames(l2, "192.0.2.10", "192.0.2.20", 5060, 5060, body)[0]


class Sender:
    def __init__(self):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.sock.bind((IFACE, 0))
        self.n = 0

    def send(self, calling):
        self.n += 1
        self.sock.send(invite(self.n, calling))
        return f"sync-{self.n}@192.0.2.10"


def rejects_for(cap, call_id):
    out = []
    for fr in list(cap.frames):
        try:
            f = netpkt.parse(fr)
        except Exception:  # not an IP frame teishi-dp sent
            continue
        if f"Call-ID: {call_id}".encode() in f.payload:
            out.append(f.payload.split(b"\r\n", 1)[0].decode(errors="replace"))
    return out


def wait_reject(cap, call_id, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = rejects_for(cap, call_id)
        if r:
            return r[0]
        time.sleep(0.005)
    return None


def until_blocked(cap, snd, calling, timeout):
    """Send INVITEs from `calling` every 10 ms until one is rejected;
    (status line, seconds) or (None, timeout)."""
    t0 = time.monotonic()
    sent = []
    while time.monotonic() - t0 < timeout:
        sent.append(snd.send(calling))
        time.sleep(0.01)
        for cid in sent:
            r = rejects_for(cap, cid)
            if r:
                return r[0], time.monotonic() - t0
    return None, timeout


class DpDown(Exception):
    pass


def start_dp(cmd, first_call):
    """teishi-dp with port 0 on the tap, the capture of what it sends there,
    and a sender of INVITEs whose Call-IDs count from first_call."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if not wait_iface(IFACE, proc):
        proc.kill()
        raise DpDown(proc.communicate()[1])
    cap = Capture(IFACE)
    cap.start()
    snd = Sender()
    snd.n = first_call
    time.sleep(0.2)
    return proc, cap, snd


def stop_dp(proc, cap):
    """SIGINT, once the capture is stopped (the tap goes away with
    teishi-dp); its stderr, also copied to ours."""
    cap.finish()
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=30)[1]
    sys.stderr.write(err)
    return err


def wait_for_text(get, text, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if text in get():
                return True
        except RuntimeError:
            pass
        time.sleep(0.05)
    return False


def wait_applied(redis, record_id, timeout=5.0):
    """True once the heartbeat says the dataplane applied record_id."""
    end = time.monotonic() + timeout
    a = tuple(int(x) for x in record_id.split("-"))
    while time.monotonic() < end:
        got = redis.cmd("HGET", f"teishi:dataplane:{NAME}", "stream_id")
        if got and "-" in got and tuple(int(x) for x in got.split("-")) >= a:
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def site(tag):
    """A network namespace of its own, entered, with a work directory and
    a Redis running in it (loopback up, IPv6 off: no router solicitations
    on the tap); yields (run, work, redis) and removes it all after.
    Skips (77) without root, /dev/net/tun, redis-server or a namespace."""
    if os.geteuid() != 0:
        skip("needs root (network namespace and tap device)")
    if not os.path.exists("/dev/net/tun"):
        skip("no /dev/net/tun")
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        skip("redis-server or redis-cli missing")
    run = dpdk_run.require_dp()
    ns = f"teishi-{tag}-{os.getpid()}"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    p = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
    if p.returncode != 0:
        skip(f"cannot create network namespace {ns}: {p.stderr.strip()}")
    work = tempfile.mkdtemp(prefix=f"teishi-dp-{tag}-")
    redis = Redis(work)
    try:
        enter_netns(ns)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        sysctl("net/ipv6/conf/all/disable_ipv6", "1")
        sysctl("net/ipv6/conf/default/disable_ipv6", "1")
        redis.start()
        yield run, work, redis
    finally:
        if redis.proc and redis.proc.poll() is None:
            redis.proc.send_signal(signal.SIGCONT)  # a test may have stopped it
            redis.kill()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        run.cleanup()


def dp_command(run, work, redis, stats_file, tag):
    """teishi-dp with port 0 on the tap and port 1 on a pcap, following
    redis with its password from a file; (argv, EAL file prefix)."""
    pwfile = os.path.join(work, "redis.pw")
    with open(pwfile, "w") as f:
        f.write(PASSWORD + "\n")
    empty = os.path.join(work, "empty.pcap")
    netpkt.write_pcap(empty, [])
    prefix = f"teishi-test-{os.getpid()}-{tag}"
    cmd = [run.binary, "--lcores", "0@0,1@" + str(1 % (os.cpu_count() or 1)),
           "--file-prefix", prefix, "--no-pci",
           "--log-level", "warning"] + dpdk_run.memory_args() + [
           "--vdev", f"net_tap0,iface={IFACE}",
           "--vdev", f"net_pcap1,rx_pcap={empty},tx_pcap={os.path.join(work, 'p1.pcap')}",
           "--", "--redis", f"127.0.0.1:{redis.port}", "--redis-password-file", pwfile,
           "--name", NAME, "--stats-file", stats_file]
    return cmd, prefix


def main():
    with site("sync") as (run, work, redis):
        return follow_redis(run, work, redis)


def follow_redis(run, work, redis):
    failures = []
    proc = cap = None
    try:
        redis.change("add", A)
        stats_file = os.path.join(work, "stats.json")
        cache = os.path.join(work, "list.cache")
        cmd, prefix = dp_command(run, work, redis, stats_file, "sync")
        cmd += ["--redis-cache", cache]
        try:
            proc, cap, snd = start_dp(cmd, 0)
        except DpDown as e:
            err = str(e)
            if "first load failed" in err or "--redis" in err:
                raise RuntimeError(f"teishi-dp did not start:\n{' '.join(cmd)}\n{err}")
            skip(f"net_tap does not work here: {err.strip()[-300:]}")

        # 1. the entry in Redis at start
        cid = snd.send(A)
        r = wait_reject(cap, cid, 3.0)
        if r is None or not r.startswith("SIP/2.0 608"):
            failures.append(f"INVITE from {A} (in Redis at start): reject {r!r}, want 608")
        cid = snd.send(B)
        if wait_reject(cap, cid, 0.5) is not None:
            failures.append(f"INVITE from {B} was rejected before it was suspended")

        # 2. a suspension while running
        rid_b = redis.change("add", B)
        r, secs = until_blocked(cap, snd, B, 5.0)
        if r is None or not r.startswith("SIP/2.0 608"):
            failures.append(f"{B} suspended in Redis: no 608 within 5 s ({r!r})")
        else:
            print(f"suspension of {B}: XADD {rid_b} -> first reject {secs * 1000:.1f} ms "
                  "(INVITEs every 10 ms)")

        # 2b. a bulk order: 9000 entries in 9 records, one XREAD batch,
        # which teishi-dp applies as one rebuild (over 8192 changes)
        bulk = [f"8199{i:07d}" for i in range(9000)]
        for k in range(0, len(bulk), 1000):
            part = bulk[k:k + 1000]
            redis.cmd("SADD", "teishi:entries", *part)
        # the records in one script, as teishid's MULTI/EXEC: one XREAD
        # finds them all
        script = ("local id for i = 1, #ARGV do id = redis.call('XADD', KEYS[1], '*', 'op', "
                  "'add', 'order', 'IT-BULK', 'entries', ARGV[i]) end return id")
        last = redis.cmd("EVAL", script, "1", "teishi:changes",
                         *[" ".join(bulk[k:k + 1000]) for k in range(0, len(bulk), 1000)])
        if not wait_applied(redis, last):
            failures.append("the bulk order's last record never showed applied")
        for n in (bulk[0], bulk[4321], bulk[-1], B):
            cid = snd.send(n)
            r = wait_reject(cap, cid, 2.0)
            if r is None or not r.startswith("SIP/2.0 608"):
                failures.append(f"after the bulk order, {n}: reject {r!r}, want 608")
        lt = telemetry(prefix, ["/teishi/list"])["/teishi/list"] or {}
        want = {"source": "redis", "sync_state": "following", "entries": 2 + len(bulk),
                "stream_id": last, "loads": 1}
        for k, v in want.items():
            if lt.get(k) != v:
                failures.append(f"/teishi/list {k} = {lt.get(k)!r}, want {v!r}")
        hb_entries = redis.cmd("HGET", f"teishi:dataplane:{NAME}", "entries")
        if hb_entries != str(2 + len(bulk)):
            failures.append(f"heartbeat entries {hb_entries} after the bulk order, want {2 + len(bulk)}")

        # 3. a lift
        rid = redis.change("del", A)
        if not wait_applied(redis, rid):
            failures.append(f"the heartbeat never showed record {rid} (lift of {A}) applied")
        cid = snd.send(A)
        if wait_reject(cap, cid, 0.5) is not None:
            failures.append(f"INVITE from {A} still rejected after the lift")

        # 4. events and heartbeat
        time.sleep(0.3)
        ev = redis.cmd("XRANGE", "teishi:events", "-", "+").split("\n")
        n_ev = ev.count("dataplane")
        n_rej = sum(1 for fr in cap.frames if b"SIP/2.0 608" in fr)
        if n_ev != n_rej or n_ev < 2:
            failures.append(f"{n_ev} teishi:events records for {n_rej} rejects")
        for want in (NAME, "+" + A, "+" + B, "calling", "from", "reject", "608"):
            if want not in ev:
                failures.append(f"teishi:events has no field value {want!r}")
        hb = redis.cmd("HGETALL", f"teishi:dataplane:{NAME}").split("\n")
        hbd = dict(zip(hb[0::2], hb[1::2]))
        if hbd.get("follows") != f"127.0.0.1:{redis.port}" or hbd.get("events_lost") != "0":
            failures.append(f"heartbeat {hbd}: want follows 127.0.0.1:{redis.port}, no events lost")
        if hbd.get("entries") != str(1 + len(bulk)) or not hbd.get("at", "").endswith("Z"):
            failures.append(f"heartbeat {hbd}: want entries {1 + len(bulk)} and an at time")
        ttl = int(redis.cmd("TTL", f"teishi:dataplane:{NAME}"))
        if not 0 < ttl <= 10:
            failures.append(f"heartbeat TTL {ttl}")

        # 5. Redis away, then back from its AOF
        redis.kill()
        time.sleep(0.5)
        r, _ = until_blocked(cap, snd, B, 2.0)
        if r is None:
            failures.append(f"with Redis down, {B} was no longer blocked")
        redis.start()
        rid = redis.change("add", C)
        r, secs = until_blocked(cap, snd, C, 8.0)
        if r is None:
            failures.append(f"{C} suspended after Redis came back: never blocked")
        else:
            print(f"after Redis came back: suspension of {C} blocking in {secs * 1000:.0f} ms")

        err = stop_dp(proc, cap)
        cap = None
        if proc.returncode != 0:
            failures.append(f"teishi-dp exited {proc.returncode}")
        if "retrying every second" not in err or "following" not in err:
            failures.append("stderr does not say the sync went down and came back")
        stats = read_stats(stats_file, 2.0)
        sy = (stats or {}).get("sync", {})
        if sy.get("rebuilds") != 1:
            failures.append(f"stats sync rebuilds {sy.get('rebuilds')}: the bulk order should "
                            "have been one rebuild")
        if sy.get("loads") != 1 or sy.get("adds", 0) != 2 + len(bulk) or sy.get("dels") != 1 \
                or sy.get("failures", 0) < 1:
            failures.append(f"stats sync {sy}: want 1 load (resumed, not reloaded), "
                            f"{2 + len(bulk)} adds, 1 del, a failure")

        # 6. the cache: written at exit with the stream record it includes
        with open(cache) as f:
            lines = f.read().split("\n")
        head = f"# teishi-dp list cache: stream_id {sy.get('stream_id')}"
        entries = sorted(x for x in lines[1:] if x and not x.startswith("#"))
        want = sorted([B, C] + bulk)
        tail = f"# end: entries {len(want)}"
        if lines[0] != head or entries != want or lines[-2:] != [tail, ""]:
            failures.append(f"cache: first line {lines[0]!r} (want {head!r}), last "
                            f"{lines[-2]!r} (want {tail!r}), {len(entries)} "
                            f"entries (want {len(want)}), equal: {entries == want}")

        # 7. a start with Redis down: the cached list is enforced, and the
        # session resumes from its stream record once Redis answers
        redis.kill()
        os.remove(stats_file)
        try:
            proc, cap, snd = start_dp(cmd, 10000)
        except DpDown as e:
            raise RuntimeError(f"no start from the cache with Redis down: {str(e)[-500:]}")
        r, _ = until_blocked(cap, snd, B, 3.0)
        if r is None:
            failures.append(f"started from the cache with Redis down: {B} not blocked")
        redis.start()
        redis.change("add", D)
        r, secs = until_blocked(cap, snd, D, 8.0)
        if r is None:
            failures.append(f"{D} suspended once Redis answered: never blocked")
        err = stop_dp(proc, cap)
        cap = None
        if proc.returncode != 0 or "enforcing the cached list" not in err:
            failures.append(f"start from the cache: exit {proc.returncode}, stderr says so: "
                            f"{'enforcing the cached list' in err}")
        sy = (read_stats(stats_file, 2.0) or {}).get("sync", {})
        if sy.get("loads") != 0 or sy.get("adds") != 1:
            failures.append(f"after the cached start, stats sync {sy}: want no load (resumed "
                            "from the cache's record) and the one add")

        # 8. a site's read-only replica: followed, while events and the
        # heartbeat go to the primary (--redis-write)
        replica = Redis(work, port=16381, replica_of=redis.port)
        replica.start()
        if not wait_for_text(lambda: replica.cmd("INFO", "replication"), "master_link_status:up"):
            failures.append("the replica never linked to the primary")
        rcmd = [a.replace(f"127.0.0.1:{redis.port}", f"127.0.0.1:{replica.port}") for a in cmd]
        rcmd = [a if a != NAME else "dp-site-b" for a in rcmd]
        rcmd += ["--redis-write", f"127.0.0.1:{redis.port}"]
        rcmd.remove("--redis-cache")
        rcmd.remove(cache)
        try:
            proc, cap, snd = start_dp(rcmd, 20000)
        except DpDown as e:
            raise RuntimeError(f"teishi-dp on the replica: {str(e)[-500:]}")
        n_ev = int(redis.cmd("XLEN", "teishi:events"))
        r, _ = until_blocked(cap, snd, D, 3.0)  # in the replica's copy of the set
        if r is None:
            failures.append(f"following the replica: {D} not blocked")
        redis.change("add", E)
        r, _ = until_blocked(cap, snd, E, 5.0)
        if r is None:
            failures.append(f"{E} suspended on the primary, following the replica: never blocked")
        time.sleep(1.2)  # a heartbeat and the events' flush
        err = stop_dp(proc, cap)
        cap = None
        if proc.returncode != 0:
            failures.append(f"teishi-dp on the replica exited {proc.returncode}")
        if int(redis.cmd("XLEN", "teishi:events")) <= n_ev or "refused" in err:
            failures.append("events of the dataplane on the replica did not reach the primary")
        if redis.cmd("EXISTS", "teishi:dataplane:dp-site-b") != "1":
            failures.append("no heartbeat of the dataplane on the replica on the primary")
        replica.kill()
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        if cap:
            cap.finish()
    return dpdk_run.report(failures)


if __name__ == "__main__":
    sys.exit(main())
