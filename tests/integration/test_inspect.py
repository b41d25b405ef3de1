#!/usr/bin/env python3
"""teishi-inspect against the generator's ground truth, and its error paths.

Usage: test_inspect.py TEISHI_INSPECT CORPUS_DIR
Every field of every truth.jsonl object must match the JSON Line
teishi-inspect prints for the same frame; a diff is printed on mismatch.
"""
import json
import os
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
                "verdict": "block",
                "match": {"header": "from", "number": "+819012345678",
                          "entry": "+81901234*", "line": 2}}
        if got != [want]:
            print(f"  want: {json.dumps(want, sort_keys=True)}\n  got:  {json.dumps(got, sort_keys=True)}")
        check(got == [want], ".sip: one message, every field as expected")


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


test_corpus_matches_truth()
test_sip_file()
test_bad_list_line()
test_missing_input()
sys.exit(1 if failures else 0)
