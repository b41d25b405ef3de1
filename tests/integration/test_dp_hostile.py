#!/usr/bin/env python3
"""Hostile frames: corpus frames with flipped bytes, cut short, lengths
and fragment fields smashed, plus frames of random bytes.  teishi-dp must
take every one (counted), exit cleanly, and forward only frames it
received, unchanged; teishi-inspect must read the same capture and print
only well-formed JSON lines.  Deterministic (fixed seed)."""
import collections
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dpdk_run  # noqa: E402
import netpkt  # noqa: E402

COUNT = 3000


def mutate(rng, base):
    f = bytearray(base)
    how = rng.randrange(5)
    if how == 0:  # flip a few bytes anywhere
        for _ in range(rng.randint(1, 8)):
            f[rng.randrange(len(f))] = rng.randrange(256)
    elif how == 1:  # cut short
        f = f[:rng.randint(14, max(14, len(f) - 1))]
    elif how == 2:  # smash IP lengths, IHL and fragment fields behind the L2 header
        off = 14 + 4 * rng.randint(0, 2)
        for i in (0, 2, 3, 6, 7):
            if off + i < len(f):
                f[off + i] = rng.randrange(256)
    elif how == 3:  # garbage in the SIP text
        start = rng.randrange(min(len(f), 60), len(f)) if len(f) > 60 else 0
        for i in range(start, min(len(f), start + rng.randint(1, 64))):
            f[i] = rng.choice(b"\x00\r\n:;<>\"%@,\xff\xc3 ")
    else:  # random bytes of a random length
        f = bytearray(rng.randrange(256) for _ in range(rng.randint(14, 1514)))
    return bytes(f)


def main():
    run = dpdk_run.require_dp()
    d = os.path.join(dpdk_run.source_root(), "tests", "fixtures", "corpus")
    corpus = netpkt.read_pcap(os.path.join(d, "corpus.pcap"))
    rng = random.Random(4475)
    frames = [mutate(rng, rng.choice(corpus)) for _ in range(COUNT)]
    failures = []
    try:
        r = run.run([frames, []], ["--list", os.path.join(d, "list.txt")], timeout=120)
        if r.rc != 0 or r.stats is None:
            failures.append(f"teishi-dp exited {r.rc} (stats {'present' if r.stats else 'missing'})")
        else:
            if r.stats["frames"] != COUNT:
                failures.append(f"counted {r.stats['frames']} frames of {COUNT}")
            sent = collections.Counter(frames)
            alien = [f for f in r.tx[1] if f not in sent]
            if alien:
                failures.append(f"{len(alien)} forwarded frames were not received as such")
            if len(r.tx[1]) > COUNT:
                failures.append(f"forwarded {len(r.tx[1])} frames for {COUNT} received")
            print(f"teishi-dp: {COUNT} hostile frames, {len(r.tx[1])} forwarded unchanged, "
                  f"{len(r.tx[0])} rejects, blocked {r.stats['blocked']}, "
                  f"parse errors {r.stats['parse_errors']}")

        inspect = dpdk_run.find_binary("teishi-inspect", "TEISHI_INSPECT")
        if inspect:
            p = run.pcap("hostile.pcap", frames)
            ins = subprocess.run([inspect, "--list", os.path.join(d, "list.txt"), p],
                                 capture_output=True, timeout=120)
            lines = [l for l in ins.stdout.splitlines() if l.strip()]
            bad = 0
            for line in lines:
                try:
                    json.loads(line)
                except ValueError:
                    bad += 1
            if ins.returncode != 0 or bad:
                failures.append(f"teishi-inspect exited {ins.returncode}, {bad} of {len(lines)} "
                                "lines not JSON")
            print(f"teishi-inspect: {len(lines)} messages, every line JSON")
    finally:
        run.cleanup()
    for f in failures:
        print("FAIL:", f)
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
