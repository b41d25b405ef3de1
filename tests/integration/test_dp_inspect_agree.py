#!/usr/bin/env python3
"""teishi-inspect and teishi-dp agree on every message of the corpus: each
UDP request teishi-inspect blocks is a blocked-call event of teishi-dp with
the same header, number and list entry, no other call is blocked, and
teishi-dp counts the TCP INVITEs teishi-inspect would block as monitored
(forwarded)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dpdk_run  # noqa: E402
import netpkt  # noqa: E402


def main():
    run = dpdk_run.require_dp()
    inspect = dpdk_run.find_binary("teishi-inspect", "TEISHI_INSPECT")
    if not inspect:
        print("teishi-inspect not built: skipped")
        return dpdk_run.SKIP
    d = os.path.join(dpdk_run.source_root(), "tests", "fixtures", "corpus")
    lst, pcap = os.path.join(d, "list.txt"), os.path.join(d, "corpus.pcap")
    failures = []
    try:
        p = subprocess.run([inspect, "--list", lst, pcap], capture_output=True, text=True,
                           timeout=120)
        assert p.returncode == 0, p.stderr
        msgs = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
        r = run.run([netpkt.read_pcap(pcap), []], ["--list", lst])
        assert r.rc == 0
        events = {e["call_id"]: e for e in r.events}
        udp_blocks = tcp_blocks = 0
        for m in msgs:
            ev = events.pop(m["call_id"], None)
            if m["verdict"] == "block" and m["transport"] == "udp":
                udp_blocks += 1
                if ev is None:
                    failures.append(f"frame {m['frame']} {m['call_id']}: inspect blocks, dp passes")
                    continue
                want = (m["match"]["header"], m["match"]["number"], m["match"]["entry"])
                got = (ev["header"], ev["number"], ev["entry"])
                if want != got:
                    failures.append(f"frame {m['frame']} {m['call_id']}: inspect {want}, dp {got}")
            elif ev is not None:
                failures.append(f"frame {m['frame']} {m['call_id']}: dp blocks, inspect says "
                                f"{m['verdict']} over {m['transport']}")
            if m["verdict"] == "block" and m["transport"] == "tcp":
                tcp_blocks += 1
        for cid in events:
            failures.append(f"{cid}: dp blocks a call inspect never printed")
        if r.stats["pipeline"]["tcp_would_block"] != tcp_blocks:
            failures.append(f"TCP: dp counts {r.stats['pipeline']['tcp_would_block']} would-block, "
                            f"inspect blocks {tcp_blocks}")
        print(f"{len(msgs)} messages: {udp_blocks} UDP blocks, {tcp_blocks} TCP (monitor) blocks")
    finally:
        run.cleanup()
    return dpdk_run.report(failures)


if __name__ == "__main__":
    sys.exit(main())
