#!/usr/bin/env python3
"""Two workers on a real multi-queue port give the same verdicts as one.

Port 0 is a net_tap with one queue per worker, inside a network namespace
the test creates (and deletes).  The kernel, not teishi-dp nor the test,
decides which queue (worker) gets each frame: the tun driver's multi-queue
selection hashes the flow (addresses, protocol, ports; addresses and
protocol only for IP fragments, so the fragments of one datagram share a
queue).  teishi-dp asks the port for IP-only RSS; the tap PMD of DPDK 22.11
accepts the request but leaves the spreading to the kernel (its own RSS
needs rte_flow rules on a multiq qdisc, which not every kernel has).

The corpus is sent with an AF_PACKET socket into a veth whose peer is
bridged with the tap.  Not straight into the tap: an AF_PACKET socket
leaves a VLAN-tagged frame with its network header past the tags but its
protocol still 802.1Q, and the flow dissector then hashes the IP total
length instead of the flow, which splits fragmented datagrams over the
queues.  Received by the veth, the outer tag moves to the skb's metadata
and the tap's queue selection sees the real flow; the tun driver puts the
tag back in the frame teishi-dp reads.  Port 1 is net_pcap (tx_pcap per
queue); the rejects that leave port 0 come back over the bridge and are
read on the veth.

The two-worker run must forward the same frames (as a multiset), send the
same rejects (byte for byte) and block the same calls as a one-worker run
over the same set-up, both workers must have received frames, and every
fragmented datagram must have been reassembled by one worker (per-worker
counters of the stats dump: the reassembled counts add up and no datagram
timed out that did not with one worker).

Needs root, /dev/net/tun, veth and bridge devices; exits 77 (skip)
otherwise.
"""
import collections
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dpdk_run  # noqa: E402
import netpkt  # noqa: E402

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
IFACE = "trss0"     # the tap teishi-dp creates
VETH = ("rssi0", "rssi1")  # frames go in at 0; 1 is bridged with the tap
BRIDGE = "rssbr0"
# Room for QinQ-tagged 1500-byte packets from the AF_PACKET socket.
MTU = 1600


def skip(msg):
    print(f"skipped: {msg}")
    sys.exit(dpdk_run.SKIP)


def enter_netns(name):
    """Move this process (one thread so far) into the named namespace; its
    children and sockets follow."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns {name}: {os.strerror(e)}")
    finally:
        os.close(fd)


def sysctl(path, value):
    with open(os.path.join("/proc/sys", path), "w") as f:
        f.write(value)


class TapUnavailable(Exception):
    pass


class Capture(threading.Thread):
    """Frames the kernel receives on iface (what teishi-dp sent out port
    0), not those it sends."""

    def __init__(self, iface):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((iface, 0))
        self.sock.settimeout(0.05)
        self.frames = []
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                if self.stop:  # the tap went away with teishi-dp, as asked
                    break
                raise
            if addr[2] != PACKET_OUTGOING:
                self.frames.append(data)

    def finish(self):
        self.stop = True
        self.join()
        self.sock.close()
        return self.frames


def read_stats(path, timeout=5.0):
    """The stats dump at path, once complete (a SIGUSR1 dump may be half
    written when read)."""
    end = time.monotonic() + timeout
    while True:
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            if time.monotonic() > end:
                return None
            time.sleep(0.05)


def link(iface):
    """ip's JSON view of iface in this namespace (sysfs still shows the
    namespace it was mounted in), or None."""
    p = subprocess.run(["ip", "-s", "-j", "link", "show", "dev", iface],
                       capture_output=True, text=True)
    return json.loads(p.stdout)[0] if p.returncode == 0 and p.stdout.strip() else None


def wait_iface(iface, proc, timeout=30.0):
    """True once the PMD has started the port (the tap is UP)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        lk = link(iface)
        if lk and "UP" in lk.get("flags", []):
            return True
        time.sleep(0.05)
    return False


def tx_dropped(iface):
    return link(iface)["stats64"]["tx"]["dropped"]


def ip(*args):
    p = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if p.returncode != 0:
        raise TapUnavailable(f"ip {' '.join(args)}: {p.stderr.strip()}")


def plumb():
    """veth VETH[0] <-> VETH[1] bridged with the tap, a dumb hub (no
    learning: frames in both directions share MAC addresses), all with
    room for tagged 1500-byte packets.  Made once per namespace; the tap
    is enslaved anew for each teishi-dp run."""
    if link(BRIDGE) is None:
        ip("link", "add", VETH[0], "type", "veth", "peer", "name", VETH[1])
        ip("link", "add", BRIDGE, "type", "bridge", "stp_state", "0")
        for dev in VETH + (BRIDGE,):
            ip("link", "set", dev, "mtu", str(MTU))
        ip("link", "set", VETH[1], "master", BRIDGE)
        for dev in VETH + (BRIDGE,):
            ip("link", "set", dev, "up")
    ip("link", "set", IFACE, "mtu", str(MTU))
    ip("link", "set", IFACE, "master", BRIDGE)
    for dev in (VETH[1], IFACE):
        ip("link", "set", "dev", dev, "type", "bridge_slave", "learning", "off")
    end = time.monotonic() + 5
    while time.monotonic() < end:
        st = subprocess.run(["ip", "-j", "-d", "link", "show", "dev", IFACE],
                            capture_output=True, text=True).stdout
        if '"state":"forwarding"' in st.replace(" ", ""):
            return
        time.sleep(0.05)
    raise TapUnavailable(f"bridge port {IFACE} never forwarding")


def run_tap(run, frames, list_path, workers):
    """teishi-dp with port 0 on the tap (one queue per worker) and port 1
    on net_pcap; frames are sent into the tap from the kernel side.
    Returns (rc, stderr, port0 frames, port1 frames, stats, events)."""
    run.n += 1
    tag = f"rss{run.n}"
    empty = run.pcap(f"{tag}-empty.pcap", [])
    tx1 = [run.path(f"{tag}-p1-q{q}-tx.pcap") for q in range(workers)]
    stats_file = run.path(f"{tag}-stats.json")
    events_file = run.path(f"{tag}-events.jsonl")
    ncpu = os.cpu_count() or 1
    lcores = ",".join(f"{i}@{i % ncpu}" for i in range(workers + 1))
    pcap_args = ",".join(f"rx_pcap={empty},tx_pcap={t}" for t in tx1)
    cmd = [run.binary, "--lcores", lcores, "--file-prefix", f"teishi-test-{os.getpid()}-{tag}",
           "--no-pci", "--log-level", "warning"] + dpdk_run.memory_args() + [
           "--vdev", f"net_tap0,iface={IFACE}", "--vdev", f"net_pcap1,{pcap_args}",
           "--", "--stats-file", stats_file, "--events", events_file, "--list", list_path]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    cap = None
    try:
        if not wait_iface(IFACE, proc):
            proc.kill()
            err = proc.communicate()[1]
            raise TapUnavailable(f"teishi-dp did not bring up {IFACE} (rc {proc.returncode}):\n"
                               f"{' '.join(cmd)}\n{err}")
        plumb()
        cap = Capture(VETH[0])
        cap.start()
        drops0 = tx_dropped(IFACE)
        out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        out.bind((VETH[0], 0))
        for i, fr in enumerate(frames):
            out.send(fr)
            if i % 16 == 15:
                time.sleep(0.002)  # a queue's ring holds txqueuelen frames
        out.close()
        # Every frame received and handled: the dump says so.
        end = time.monotonic() + 20
        stats = None
        while time.monotonic() < end:
            if os.path.exists(stats_file):
                os.remove(stats_file)
            proc.send_signal(signal.SIGUSR1)
            stats = read_stats(stats_file, 2.0)
            if stats and stats["frames"] >= len(frames):
                break
            time.sleep(0.1)
        time.sleep(0.3)  # idle workers flush their TX queues at once
        drops = tx_dropped(IFACE) - drops0
        if drops:
            raise RuntimeError(f"the kernel dropped {drops} frames on {IFACE} before teishi-dp read them")
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
        time.sleep(0.2)
        port0 = cap.finish()
        cap = None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if cap:
            cap.finish()
    if proc.returncode != 0:
        sys.stderr.write(f"teishi-dp exited {proc.returncode}\ncmd: {' '.join(cmd)}\n{err}\n")
    port1 = [fr for t in tx1 if os.path.exists(t) for fr in netpkt.read_pcap(t)]
    stats = read_stats(stats_file, 0)
    events = []
    if os.path.exists(events_file):
        with open(events_file) as f:
            events = [json.loads(line) for line in f if line.strip()]
    return proc.returncode, err, port0, port1, stats, events


def compare(one, two, failures):
    _, _, r0a, f1a, sa, ea = one
    _, _, r0b, f1b, sb, eb = two
    for name, a, b in (("port 1 (forwarded)", f1a, f1b), ("port 0 (rejects)", r0a, r0b)):
        ca, cb = collections.Counter(a), collections.Counter(b)
        if ca != cb:
            failures.append(f"{name}: {sum((ca - cb).values())} frames only with one worker, "
                            f"{sum((cb - ca).values())} only with two")
            for fr in list((ca - cb).elements())[:3] + list((cb - ca).elements())[:3]:
                print(f"  differing frame on {name}: {fr[:64].hex()}")
    ca = sorted(e["call_id"] for e in ea)
    cb = sorted(e["call_id"] for e in eb)
    if ca != cb:
        failures.append(f"blocked calls differ: {len(ca)} with one worker, {len(cb)} with two")
    for k in ("frames", "sip_requests", "invites", "initial_invites", "blocked",
              "fragments_reassembled", "fragments_timed_out", "tx_drops"):
        if sa[k] != sb[k]:
            failures.append(f"{k}: {sa[k]} with one worker, {sb[k]} with two")


def check_spread(stats, n_frames, failures):
    pw = stats.get("per_worker", [])
    if stats["workers"] != 2 or len(pw) != 2:
        failures.append(f"stats say {stats['workers']} workers, {len(pw)} per-worker entries")
        return
    for w in pw:
        if w["frames"] == 0:
            failures.append(f"worker on lcore {w['lcore']} (queue {w['queue']}) received "
                            f"no frame: the kernel did not spread the flows")
    if sum(w["frames"] for w in pw) != n_frames:
        failures.append(f"workers received {sum(w['frames'] for w in pw)} frames, "
                        f"{n_frames} were sent")
    # A datagram whose fragments went to two queues completes in neither.
    if sum(w["fragments_reassembled"] for w in pw) != stats["fragments_reassembled"]:
        failures.append("per-worker reassembled datagrams do not add up")


def main():
    if os.geteuid() != 0:
        skip("needs root (network namespace and tap device)")
    if not os.path.exists("/dev/net/tun"):
        skip("no /dev/net/tun")
    run = dpdk_run.require_dp()
    d = os.path.join(dpdk_run.source_root(), "tests", "fixtures", "corpus")
    frames = netpkt.read_pcap(os.path.join(d, "corpus.pcap"))
    list_path = os.path.join(d, "list.txt")
    ns = f"teishi-rss-{os.getpid()}"
    # meson's timeout sends SIGTERM: unwind, so that the finally clauses
    # stop teishi-dp and delete the namespace with everything in it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    p = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
    if p.returncode != 0:
        skip(f"cannot create network namespace {ns}: {p.stderr.strip()}")
    failures = []
    try:
        enter_netns(ns)
        # No IPv6 autoconfiguration, router solicitations or MLD reports,
        # and no IGMP reports for 224.0.0.x, from the kernel on the new
        # devices: only the corpus crosses the tap.
        sysctl("net/ipv6/conf/all/disable_ipv6", "1")
        sysctl("net/ipv6/conf/default/disable_ipv6", "1")
        sysctl("net/ipv4/igmp_link_local_mcast_reports", "0")
        try:
            one = run_tap(run, frames, list_path, 1)
        except TapUnavailable as e:
            skip(f"net_tap does not work here: {e}")
        two = run_tap(run, frames, list_path, 2)
        assert one[0] == 0 and two[0] == 0, "teishi-dp failed"
        assert one[4] is not None and two[4] is not None, "no stats dump"
        pw = two[4]["per_worker"]
        print(f"tap {IFACE}, {len(frames)} frames sent from the kernel side; one worker: "
              f"{len(one[3])} forwarded, {len(one[2])} rejects, {len(one[5])} blocked; "
              f"two: {len(two[3])}, {len(two[2])}, {len(two[5])}")
        for w in pw:
            print(f"  worker lcore {w['lcore']} queue {w['queue']}: {w['frames']} frames, "
                  f"{w['sip_udp']} SIP/UDP, {w['fragments']} fragments -> "
                  f"{w['fragments_reassembled']} datagrams, {w['blocked']} blocked, "
                  f"{w['rejects_sent']} rejects")
        if len(one[2]) == 0 or len(one[5]) == 0:
            failures.append("the one-worker run blocked nothing: the corpus did not get through")
        if one[4]["frames"] != len(frames):
            failures.append(f"one worker received {one[4]['frames']} of {len(frames)} frames")
        compare(one, two, failures)
        check_spread(two[4], len(frames), failures)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        run.cleanup()
    return dpdk_run.report(failures)


if __name__ == "__main__":
    sys.exit(main())
