#!/usr/bin/env python3
"""Two workers give the same verdicts as one.  net_pcap has no RSS, so the
test plays the NIC: it spreads the corpus over two RX queues by a hash of
the IP addresses only (what teishi-dp asks of a real NIC, so that every
fragment of a datagram reaches the same worker).  The forwarded frames,
the rejects (byte for byte) and the blocked calls must equal the
one-worker run's."""
import collections
import os
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dpdk_run  # noqa: E402
import netpkt  # noqa: E402


def main():
    run = dpdk_run.require_dp()
    d = os.path.join(dpdk_run.source_root(), "tests", "fixtures", "corpus")
    frames = netpkt.read_pcap(os.path.join(d, "corpus.pcap"))
    queues = [[], []]
    for fr in frames:
        p = netpkt.parse(fr)
        queues[zlib.crc32(p.src + p.dst) & 1].append(fr)
    failures = []
    try:
        args = ["--list", os.path.join(d, "list.txt")]
        one = run.run([frames, []], args)
        two = run.run([queues, [[], []]], args, workers=2)
        assert one.rc == 0 and two.rc == 0
        print(f"queue split {len(queues[0])}/{len(queues[1])}; one worker: {len(one.tx[1])} "
              f"forwarded, {len(one.tx[0])} rejects; two: {len(two.tx[1])}, {len(two.tx[0])}")
        for port in (0, 1):
            if collections.Counter(one.tx[port]) != collections.Counter(two.tx[port]):
                failures.append(f"port {port}: the two-worker output differs")
        e1 = sorted(e["call_id"] for e in one.events)
        e2 = sorted(e["call_id"] for e in two.events)
        if e1 != e2:
            failures.append(f"blocked calls differ: {len(e1)} vs {len(e2)}")
        if two.stats["workers"] != 2:
            failures.append(f"stats say {two.stats['workers']} workers")
        for k in ("frames", "sip_requests", "invites", "initial_invites", "blocked",
                  "fragments_reassembled"):
            if one.stats[k] != two.stats[k]:
                failures.append(f"{k}: {one.stats[k]} with one worker, {two.stats[k]} with two")
    finally:
        run.cleanup()
    return dpdk_run.report(failures)


if __name__ == "__main__":
    sys.exit(main())
