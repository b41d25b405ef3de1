#!/usr/bin/env python3
"""teishi-xdp test-run: the XDP object built by meson (clang -target bpf,
bpftool gen skeleton) loads into the real kernel and runs every frame of a
pcap through BPF_PROG_TEST_RUN.  Its counters must equal a count made here
from the same frames by the rules teishi_bpf.h documents.

usage: test_xdp_testrun.py TEISHI_XDP CORPUS.pcap
Exit 77 (skipped) when the kernel refuses to load BPF (not root, no BPF)."""
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netpkt  # noqa: E402

SKIP = 77


def expected(frames, sip_port):
    c = dict.fromkeys(["frames", "not_ip", "truncated", "vlan", "ipv4", "ipv6", "fragment",
                       "udp_sip", "other_l4"], 0)
    for fr in frames:
        c["frames"] += 1
        if len(fr) < 14:
            c["truncated"] += 1
            continue
        off, et = 14, struct.unpack("!H", fr[12:14])[0]
        tagged = False
        for _ in range(2):
            if et not in (0x8100, 0x88A8):
                break
            if len(fr) < off + 4:
                c["truncated"] += 1
                break
            tagged = True
            et = struct.unpack("!H", fr[off + 2:off + 4])[0]
            off += 4
        else:
            pass
        if tagged:
            c["vlan"] += 1
        if et == 0x0800:
            if len(fr) < off + 20 or fr[off] & 0x0F < 5:
                c["truncated"] += 1
                continue
            c["ipv4"] += 1
            if struct.unpack("!H", fr[off + 6:off + 8])[0] & 0x3FFF:
                c["fragment"] += 1
                continue
            if fr[off + 9] != 17:
                c["other_l4"] += 1
                continue
            l4 = off + (fr[off] & 0x0F) * 4
        elif et == 0x86DD:
            if len(fr) < off + 40:
                c["truncated"] += 1
                continue
            c["ipv6"] += 1
            if fr[off + 6] != 17:
                c["other_l4"] += 1
                continue
            l4 = off + 40
        else:
            c["not_ip"] += 1
            continue
        if len(fr) < l4 + 8:
            c["truncated"] += 1
            continue
        sport, dport = struct.unpack("!HH", fr[l4:l4 + 4])
        c["udp_sip" if sip_port in (sport, dport) else "other_l4"] += 1
    return c


def main():
    xdp, corpus = sys.argv[1], sys.argv[2]
    # The corpus plus frames it lacks: ARP, a cut IPv4 header, a cut UDP
    # header behind QinQ.
    eth = netpkt.mac("02:00:00:00:00:01") + netpkt.mac("02:00:00:00:00:02")
    extra = [
        eth + b"\x08\x06" + bytes(28),
        eth + b"\x08\x00" + b"\x45" + bytes(9),
        eth + b"\x88\xa8\x00\x64\x81\x00\x00\x0a\x08\x00"
        + b"\x45\x00\x00\x20" + bytes(5) + b"\x11" + bytes(10) + b"\x13\xc4",
    ]
    frames = netpkt.read_pcap(corpus) + extra
    tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"teishi-xdp-{os.getpid()}.pcap")
    netpkt.write_pcap(tmp, frames)
    try:
        return run(xdp, tmp, frames)
    finally:
        os.unlink(tmp)


def run(xdp, corpus, frames):
    failures = 0
    for port in (5060, 5080):
        r = subprocess.run([xdp, "test-run", "--sip-port", str(port), corpus],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0 and ("Operation not permitted" in r.stderr or
                                  "cannot load" in r.stderr and os.geteuid() != 0):
            print(f"SKIP: the kernel would not load the XDP program: {r.stderr.strip()}")
            return SKIP
        if r.returncode != 0:
            print(f"FAIL: teishi-xdp test-run exited {r.returncode}: {r.stderr.strip()}")
            return 1
        got = json.loads(r.stdout)
        want = expected(frames, port)
        ok = got["counters"] == want and got["actions"]["pass"] == len(frames)
        print(f"{'ok  ' if ok else 'FAIL'} sip-port {port}: counters {got['counters']}"
              + ("" if ok else f"\n     want {want}"))
        failures += not ok
    bad = subprocess.run([xdp, "test-run", "/nonexistent.pcap"], capture_output=True, text=True,
                         timeout=60)
    ok = bad.returncode == 1 and "/nonexistent.pcap" in bad.stderr
    print(f"{'ok  ' if ok else 'FAIL'} a missing pcap is named and exits 1 ({bad.stderr.strip()})")
    failures += not ok
    checks = 3

    # the list map: filled from --list (its size in the output), a list
    # that does not fit refused with the capacity named, a bad line named;
    # and the list options' misuse refused before anything loads (exit 2)
    tmpdir = os.path.dirname(corpus)
    lst = os.path.join(tmpdir, f"teishi-xdp-{os.getpid()}.list")
    badlst = os.path.join(tmpdir, f"teishi-xdp-{os.getpid()}-bad.list")
    with open(lst, "w") as f:
        f.write("03-1234-5678\n06-6123-*\n0312340000..0312340999\n")
    with open(badlst, "w") as f:
        f.write("03-1234-5678\n03-1234-567\n")
    try:
        cases = [
            (["test-run", "--list", lst, corpus], 0, '"list": {"entries": 3,'),
            (["test-run", "--max-entries", "2", "--list", lst, corpus], 1,
             "the XDP list map is full (2 entries; --max-entries)"),
            (["test-run", "--list", badlst, corpus], 1, f"{badlst}:2:"),
            (["test-run", "--list", lst, "--redis", "127.0.0.1:6379", corpus], 2,
             "--list and --redis cannot be used together"),
            (["test-run", "--redis", "127.0.0.1:6379", corpus], 2,
             "test-run takes its list from --list"),
            (["attach", "--dev", "lo", "--redis-cache", "/tmp/x"], 2, "need --redis"),
            (["attach", "--dev", "lo", "--redis", "127.0.0.1:6379", "--name", "a b"], 2,
             "--name \"a b\""),
            (["test-run", "--max-entries", "0", corpus], 2, "--max-entries \"0\": want"),
            (["attach", "--dev", "lo", "--redis", "nohost"], 2, "--redis nohost: HOST:PORT"),
            (["attach", "--dev", "lo", "--redis", "127.0.0.1:6379", "--redis-write", "x:0"], 2,
             "--redis-write x:0: HOST:PORT"),
        ]
        for args, rc, want in cases:
            r = subprocess.run([xdp] + args, capture_output=True, text=True, timeout=60)
            ok = r.returncode == rc and (want in r.stderr or want in r.stdout)
            print(f"{'ok  ' if ok else 'FAIL'} {' '.join(args)}: exit {r.returncode}"
                  + ("" if ok else f" (want {rc}, {want!r}): {r.stdout}{r.stderr}"))
            failures += not ok
            checks += 1
    finally:
        os.unlink(lst)
        os.unlink(badlst)
    print(f"{checks - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
