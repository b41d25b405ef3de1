#!/usr/bin/env python3
"""teishi-inspect against the generator's ground truth, and its error paths.

Usage: test_inspect.py TEISHI_INSPECT CORPUS_DIR
Every field of every truth.jsonl object must match the JSON Line
teishi-inspect prints for the same frame; a diff is printed on mismatch.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

INSPECT, CORPUS = sys.argv[1], sys.argv[2]
failures = []


def run(*args):
    return subprocess.run([INSPECT, *args], capture_output=True, text=True, timeout=120)


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def parse_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_corpus_matches_truth():
    r = run("--list", os.path.join(CORPUS, "list.txt"), os.path.join(CORPUS, "corpus.pcap"))
    check(r.returncode == 0, f"corpus: exit status 0 (got {r.returncode}; stderr: {r.stderr.strip()[:300]})")
    got = parse_lines(r.stdout)
    with open(os.path.join(CORPUS, "truth.jsonl")) as f:
        want = parse_lines(f.read())
    by_frame = {}
    for o in got:
        by_frame.setdefault(o["frame"], []).append(o)
    mism = 0
    for w in want:
        g = by_frame.get(w["frame"], [])
        if g != [w]:
            mism += 1
            if mism <= 10:
                print(f"--- frame {w['frame']}\n  want: {json.dumps(w, sort_keys=True)}")
                for o in g:
                    print(f"  got:  {json.dumps(o, sort_keys=True)}")
                if not g:
                    print("  got:  nothing")
    extra = sorted(set(by_frame) - {w["frame"] for w in want})
    for fr in extra[:10]:
        print(f"--- frame {fr} not in truth\n  got:  {json.dumps(by_frame[fr])}")
    check(mism == 0 and not extra,
          f"corpus: {len(want)} truth objects, {mism} mismatched, {len(extra)} extra frames")
    check([o["frame"] for o in got] == sorted(o["frame"] for o in got), "corpus: output in frame order")


def test_sip_file():
    msg = ("INVITE sip:+81312345678@example.jp;user=phone SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
           "f: \"Taro\" <tel:090-1234-5678>;tag=a\r\n"
           "t: <sip:03-1234-5678@example.jp;user=phone>\r\n"
           "i: sipfile-1@example.jp\r\n"
           "CSeq: 1 INVITE\r\n"
           "P-Asserted-Identity: <sip:anonymous@anonymous.invalid>\r\n"
           "Content-Length: 0\r\n\r\n")
    with tempfile.TemporaryDirectory() as d:
        sip = os.path.join(d, "m.sip")
        lst = os.path.join(d, "list.txt")
        with open(sip, "w") as f:
            f.write(msg)
        with open(lst, "w") as f:
            f.write("# test\n090-1234-*\n")
        r = run("--list", lst, sip)
        check(r.returncode == 0, f".sip: exit status 0 (got {r.returncode}: {r.stderr.strip()[:300]})")
        got = parse_lines(r.stdout)
        want = {"frame": 1, "call_id": "sipfile-1@example.jp", "method": "INVITE",
                "initial": True, "transport": "udp",
                "numbers": {"request-uri": ["+81312345678"], "from": ["+819012345678"],
                            "to": ["+81312345678"]},
                "raw": {"p-asserted-identity": ["anonymous"]},
                "verdict": "block", "reason": "match",
                "match": {"header": "from", "number": "+819012345678",
                          "entry": "+81901234*", "line": 2}}
        if got != [want]:
            print(f"  want: {json.dumps(want, sort_keys=True)}\n  got:  {json.dumps(got, sort_keys=True)}")
        check(got == [want], ".sip: one message, every field as expected")

        # Bytes that are not UTF-8 in a Call-ID and a user part still give
        # a record; each bad byte reads as U+FFFD, valid UTF-8 is kept.
        bad = (msg.encode().replace(b"i: sipfile-1@example.jp", b"i: bad\xff\xc3-\xe6\x97\xa5@x")
               .replace(b"sip:anonymous@", b"sip:anon\x80ymous@"))
        with open(sip, "wb") as f:
            f.write(bad)
        r = run("--list", lst, sip)
        got = parse_lines(r.stdout)
        check(r.returncode == 0 and len(got) == 1 and got[0]["call_id"] == "bad\ufffd\ufffd-\u65e5@x"
              and got[0]["raw"] == {"p-asserted-identity": ["anon\ufffdymous"]},
              f".sip: invalid UTF-8 replaced, record kept (got {got})")


def test_bad_list_line():
    with tempfile.TemporaryDirectory() as d:
        lst = os.path.join(d, "bad.txt")
        with open(lst, "w") as f:
            f.write("0312345678\n# fine so far\n03-1234-567\n")
        r = run("--list", lst, os.path.join(CORPUS, "corpus.pcap"))
        check(r.returncode == 1, f"bad list: exit status 1 (got {r.returncode})")
        check(f"{lst}:3:" in r.stderr, f"bad list: error names file:line ({r.stderr.strip()!r})")
        check(r.stdout == "", "bad list: nothing printed on stdout")


def test_missing_input():
    r = run("/nonexistent/x.pcap")
    check(r.returncode == 2, f"missing input: exit status 2 (got {r.returncode})")
    check("/nonexistent/x.pcap" in r.stderr, "missing input: error names the file")


INVITE = ("INVITE sip:0312345678@example.jp;user=phone SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKfrag\r\n"
          "From: <sip:09012345678@example.jp;user=phone>;tag=1\r\n"
          "To: <sip:0312345678@example.jp;user=phone>\r\n"
          "Call-ID: frag-{}@example.jp\r\n"
          "CSeq: 1 INVITE\r\n"
          "Content-Type: application/sdp\r\n"
          "Content-Length: 400\r\n\r\n" + "v=0\r\n" + "a=x" * 132 + "\r\n")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4_fragments(payload, ident, cut=(256, 512)):
    """Ethernet/IPv4 fragments of one UDP datagram, cut at the byte offsets
    given (multiples of 8), as {offset: frame}."""
    udp = struct.pack("!HHHH", 5060, 5060, 8 + len(payload), 0) + payload
    bounds = [0, *cut, len(udp)]
    frames = {}
    for lo, hi in zip(bounds, bounds[1:]):
        data = udp[lo:hi]
        more = hi < len(udp)
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident,
                          (0x2000 if more else 0) | lo // 8, 64, 17, 0,
                          bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        frames[lo] = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + hdr + data
    return frames


def write_pcap(path, frames):
    """frames: list of (seconds, bytes)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, fr in frames:
            f.write(struct.pack("<IIII", int(t), int(round((t - int(t)) * 1e6)), len(fr), len(fr)))
            f.write(fr)


def summary_counters(text):
    c = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and line.startswith("  ") and parts[1].isdigit():
            c[parts[0]] = int(parts[1])
    return c


def test_fragments():
    """Overlap, conflict, duplicates, reordering and timeouts, each in its
    own pcap: the message is classified only when every fragment agrees."""
    cases = []
    f = ipv4_fragments(INVITE.format(1).encode(), 1)
    cases.append(("in order", [f[0], f[256], f[512]], [0, 0, 0], [3], {"frag_reassembled": 1}))
    f = ipv4_fragments(INVITE.format(2).encode(), 2)
    cases.append(("out of order with a duplicate", [f[512], f[256], f[256], f[0]], [0] * 4, [4],
                  {"frag_dup": 1, "frag_reassembled": 1}))
    f = ipv4_fragments(INVITE.format(3).encode(), 3)
    g = ipv4_fragments(INVITE.format(3).encode(), 3, cut=(256, 384))
    cases.append(("overlapping, same bytes", [f[0], g[256], f[256], f[512]], [0] * 4, [],
                  {"frag_overlap": 1, "frag_late_drop": 1}))
    f = ipv4_fragments(INVITE.format(4).encode(), 4)
    evil = ipv4_fragments(INVITE.format(4).replace("0312345678@", "0399999999@").encode(), 4)
    cases.append(("same bytes, different contents", [f[0], evil[0], f[256], f[512]], [0] * 4, [],
                  {"frag_conflict": 1}))
    f = ipv4_fragments(INVITE.format(7).encode(), 7)
    # A last fragment at offset 65528 would make a datagram over 65535 bytes.
    big = bytearray(f[512])
    struct.pack_into("!H", big, 14 + 6, 65528 // 8)
    cases.append(("oversize datagram", [f[0], f[256], bytes(big), f[512]], [0] * 4, [],
                  {"frag_oversize": 1, "frag_late_drop": 1}))
    f = ipv4_fragments(INVITE.format(5).encode(), 5)
    cases.append(("incomplete", [f[0], f[512]], [0, 0], [], {"frag_timeout": 1}))
    f = ipv4_fragments(INVITE.format(6).encode(), 6)
    # The first two time out when the third arrives and are forwarded
    # unclassified; the third would let a receiver complete the datagram
    # (Linux keeps fragments 30 s), so it is dropped.
    cases.append(("completes after the timeout", [f[0], f[256], f[512]], [0, 0.5, 2.0], [],
                  {"frag_timeout": 1, "frag_late_drop": 1, "frag_late_fwd": 0}))
    f = ipv4_fragments(INVITE.format(8).encode(), 8)
    # A late fragment that still leaves a hole is forwarded; the one that
    # fills it is dropped.
    cases.append(("late, then completing", [f[0], f[512], f[256]], [0, 2.0, 3.0], [],
                  {"frag_timeout": 1, "frag_late_fwd": 1, "frag_late_drop": 1}))
    f = ipv4_fragments(INVITE.format(9).encode(), 9)
    cases.append(("late, still a hole", [f[0], f[512], f[512]], [0, 2.0, 3.0], [],
                  {"frag_timeout": 1, "frag_late_fwd": 2, "frag_late_drop": 0}))
    f = ipv4_fragments(INVITE.format(10).encode(), 10)
    # After the linger (30 s) a fragment is a datagram of its own again.
    cases.append(("after the linger", [f[0], f[256], f[512]], [0, 0.5, 40.0], [],
                  {"frag_timeout": 2, "frag_late_drop": 0}))
    with tempfile.TemporaryDirectory() as d:
        for name, frames, times, want_frames, want_counts in cases:
            path = os.path.join(d, "f.pcap")
            write_pcap(path, [(1700000000 + t, fr) for t, fr in zip(times, frames)])
            r = run(path)
            got = [o["frame"] for o in parse_lines(r.stdout)]
            check(r.returncode == 0 and got == want_frames,
                  f"fragments, {name}: messages at frames {want_frames} (got {got})")
            s = run("--summary", path)
            c = summary_counters(s.stdout)
            bad = {k: (v, c.get(k, 0)) for k, v in want_counts.items() if c.get(k, 0) != v}
            check(not bad, f"fragments, {name}: counters {want_counts} (wrong: {bad})")


test_corpus_matches_truth()
test_fragments()
test_sip_file()
test_bad_list_line()
test_missing_input()
sys.exit(1 if failures else 0)
