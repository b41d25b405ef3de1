#!/usr/bin/env python3
"""teishi-dp over the generated corpus on net_pcap vdevs, against truth.jsonl:
every allowed frame leaves port 1 byte-identical, every blocked INVITE is
gone, and port 0 carries exactly one correct reject per blocked INVITE.
With --drop for both sides, nothing comes back at all."""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dpdk_run  # noqa: E402
import netpkt  # noqa: E402
import sipcheck  # noqa: E402

CALLED = ("request-uri", "to")


def load_corpus():
    d = os.path.join(dpdk_run.source_root(), "tests", "fixtures", "corpus")
    frames = netpkt.read_pcap(os.path.join(d, "corpus.pcap"))
    with open(os.path.join(d, "truth.jsonl")) as f:
        truth = [json.loads(line) for line in f if line.strip()]
    return d, frames, truth


def blocked_messages(frames, truth):
    """call_id -> (frame indexes, parsed frames, code) of every UDP message
    the truth blocks; a fragmented one owns every fragment of its datagram."""
    parsed = [netpkt.parse(fr) for fr in frames]
    by_key = collections.defaultdict(list)
    for i, p in enumerate(parsed):
        if p.frag_key:
            by_key[p.frag_key].append(i)
    out = {}
    for t in truth:
        if t["verdict"] != "block" or t["transport"] != "udp":
            continue
        i = t["frame"] - 1
        idx = by_key[parsed[i].frag_key] if parsed[i].frag_key else [i]
        code = 404 if t["match"]["header"] in CALLED else 608
        out[t["call_id"]] = (idx, [parsed[j] for j in idx], code)
    return out


def main():
    run = dpdk_run.require_dp()
    d, frames, truth = load_corpus()
    blocked = blocked_messages(frames, truth)
    failures = []
    try:
        r = run.run([frames, []], ["--list", os.path.join(d, "list.txt")])
        assert r.rc == 0, f"teishi-dp exited {r.rc}"

        blocked_idx = {i for idx, _, _ in blocked.values() for i in idx}
        want = collections.Counter(fr for i, fr in enumerate(frames) if i not in blocked_idx)
        got = collections.Counter(r.tx[1])
        if want != got:
            failures.append(f"port 1: {sum((want - got).values())} allowed frames missing, "
                            f"{sum((got - want).values())} unexpected frames")
        print(f"port 1: {len(r.tx[1])} frames forwarded, {len(blocked_idx)} blocked frames absent")

        rejects = {}
        for raw in r.tx[0]:
            _, h, _ = netpkt.sip_headers(netpkt.parse(raw).payload)
            cid = netpkt.hdr(h, "call-id")
            rejects.setdefault(cid[0] if cid else "?", []).append(raw)
        for cid, (_, req, code) in sorted(blocked.items()):
            got_r = rejects.pop(cid, [])
            if len(got_r) != 1:
                failures.append(f"Call-ID {cid}: {len(got_r)} rejects, wanted 1")
                continue
            try:
                sipcheck.check_reject(req, got_r[0], code)
            except AssertionError as e:
                failures.append(str(e))
        for cid in rejects:
            failures.append(f"Call-ID {cid}: reject for a message the truth passes")
        print(f"port 0: {len(r.tx[0])} rejects for {len(blocked)} blocked UDP INVITEs")

        ev = {e["call_id"] for e in r.events}
        if ev != set(blocked):
            failures.append(f"events: {len(ev)} call ids, wanted {len(blocked)}; "
                            f"extra {sorted(ev - set(blocked))[:3]} missing {sorted(set(blocked) - ev)[:3]}")
        for e in r.events:
            for k in ("time", "side", "header", "number", "entry", "src", "sport", "dst", "dport", "proto"):
                if k not in e:
                    failures.append(f"event {e.get('call_id')}: no {k}")
        s = r.stats
        if s["frames"] != len(frames) or s["blocked"] != len(blocked):
            failures.append(f"stats: frames {s['frames']} blocked {s['blocked']}, wanted "
                            f"{len(frames)} and {len(blocked)}")

        # Drop on both sides: the same frames forwarded, no reject.
        r2 = run.run([frames, []], ["--list", os.path.join(d, "list.txt"),
                                    "--calling-action", "drop", "--called-action", "drop"])
        if collections.Counter(r2.tx[1]) != want or r2.tx[0]:
            failures.append(f"drop mode: {len(r2.tx[1])} forwarded, {len(r2.tx[0])} rejects "
                            f"(wanted {sum(want.values())} and 0)")
        if r2.stats["app"]["blocked_dropped"] != len(blocked):
            failures.append(f"drop mode: blocked_dropped {r2.stats['app']['blocked_dropped']}")
    finally:
        run.cleanup()
    return dpdk_run.report(failures)


if __name__ == "__main__":
    sys.exit(main())
