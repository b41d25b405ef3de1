#!/usr/bin/env python3
"""teishi-xdp attach --redis: the suspension list in the kernel's map
follows Redis.

Run under tests/lib/redis_fixture.sh (a real redis-server; REDIS_PORT and
REDIS_PASSWORD in the environment).  teishi-xdp attaches (generic XDP) to
one end of a veth pair made for the test, follows the entry set and
teishi:changes written as teishid writes them, and the test reads the
list map with bpftool where teishi-xdp pinned it (--pin-list, on a bpffs
mounted for the test).  It checks
that:
  - the map holds exactly the entries in Redis at the start, each key laid
    out as teishi_bpf.h says (BCD digits; an exact entry closed by a 0xF
    nibble, prefixlen 4 per nibble), with the entry's kind and length;
  - a suspension and a lift written while it runs are in the map once the
    heartbeat (teishi:dataplane:NAME) names their record, and the
    heartbeat's entries count is the map's;
  - SIGINT detaches the program, unpins the map and exits 0, printing the
    list's size, and leaves the list in --redis-cache;
  - with Redis gone, a new start enforces that cache: the map holds the
    same entries.

usage: test_xdp_sync.py TEISHI_XDP
Needs root, bpftool and veth; exits 77 (skip) otherwise.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
NAME = "xdp-sync-test"


def skip(why):
    print(f"skipped: {why}")
    sys.exit(SKIP)


def redis(*args):
    p = subprocess.run(["redis-cli", "--no-auth-warning", "-p", os.environ["REDIS_PORT"],
                        "-a", os.environ["REDIS_PASSWORD"]] + list(args),
                       capture_output=True, text=True)
    if p.returncode != 0 or p.stdout.startswith("ERR"):
        raise RuntimeError(f"redis-cli {' '.join(args)}: {p.stdout}{p.stderr}")
    return p.stdout.strip()


def change(op, entries):
    """What teishid writes: the set and a stream record; the record's id."""
    redis("HSETNX", "teishi:meta", "schema", "1")
    redis("SADD" if op == "add" else "SREM", "teishi:entries", *entries)
    return redis("XADD", "teishi:changes", "*", "op", op, "order", "X-1",
                 "entries", " ".join(entries))


def map_key(entry):
    """teishi_bpf.h's key of a canonical entry ("8131..." or "8131*"):
    (prefixlen, data bytes), written out here independently of list_map.c."""
    prefix = entry.endswith("*")
    digits = entry.rstrip("*")
    nibbles = [int(d) for d in digits] + ([] if prefix else [0xF])
    nibbles += [0] * (16 - len(nibbles))
    data = bytes(nibbles[2 * i] << 4 | nibbles[2 * i + 1] for i in range(8))
    return 4 * len(digits) if prefix else 4 * (len(digits) + 1), data


def bpftool(*args):
    p = subprocess.run(["bpftool", "-j"] + list(args), capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"bpftool {' '.join(args)}: {p.stderr.strip()}")
    return json.loads(p.stdout) if p.stdout.strip() else None


def list_map_content(pin):
    """{(prefixlen, data): (kind, len)} of the list map pinned at pin."""
    out = {}
    for e in bpftool("map", "dump", "pinned", pin) or []:
        key = bytes(int(b, 16) for b in e["key"])
        val = bytes(int(b, 16) for b in e["value"])
        out[(int.from_bytes(key[:4], "little"), key[4:12])] = (val[4], val[5])
    return out


def expected(entries):
    out = {}
    for e in entries:
        out[map_key(e)] = (2, len(e) - 1) if e.endswith("*") else (1, len(e))
    return out


def wait_heartbeat(record_id, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            hb = redis("HGET", f"teishi:dataplane:{NAME}", "stream_id")
        except RuntimeError:
            hb = ""
        if hb == record_id:
            return True
        time.sleep(0.05)
    return False


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    xdp = sys.argv[1]
    if os.geteuid() != 0:
        skip("needs root (BPF and a veth pair)")
    if shutil.which("bpftool") is None and os.path.exists("/usr/sbin/bpftool"):
        os.environ["PATH"] += ":/usr/sbin"
    if shutil.which("bpftool") is None:
        skip("bpftool missing")
    dev, peer = f"xs{os.getpid() % 100000}a", f"xs{os.getpid() % 100000}b"
    p = subprocess.run(["ip", "link", "add", dev, "type", "veth", "peer", "name", peer],
                       capture_output=True, text=True)
    if p.returncode != 0:
        skip(f"cannot create a veth pair: {p.stderr.strip()}")
    work = tempfile.mkdtemp(prefix="teishi-xdp-sync-")
    bpffs = os.path.join(work, "bpffs")
    os.mkdir(bpffs)
    p = subprocess.run(["mount", "-t", "bpf", "bpf", bpffs], capture_output=True, text=True)
    if p.returncode != 0:
        subprocess.run(["ip", "link", "del", dev], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        skip(f"cannot mount a bpffs: {p.stderr.strip()}")
    pin = os.path.join(bpffs, "teishi-list")
    cache = os.path.join(work, "list.cache")
    failures = []
    proc = None
    try:
        subprocess.run(["ip", "link", "set", dev, "up"], check=True)
        subprocess.run(["ip", "link", "set", peer, "up"], check=True)
        start = ["81312345678", "8166123*", "123456789012345"]
        first = change("add", start)
        pwfile = os.path.join(work, "redis.pw")
        with open(pwfile, "w") as f:
            f.write(os.environ["REDIS_PASSWORD"] + "\n")
        proc = subprocess.Popen([xdp, "attach", "--dev", dev, "--skb", "--redis",
                                 f"127.0.0.1:{os.environ['REDIS_PORT']}",
                                 "--redis-password-file", pwfile, "--name", NAME,
                                 "--max-entries", "4096", "--pin-list", pin,
                                 "--redis-cache", cache],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if not wait_heartbeat(first):
            proc.kill()
            out, err = proc.communicate()
            if "cannot load" in err or "cannot attach" in err:
                skip(f"the kernel refused the XDP program: {err.strip()[-300:]}")
            raise RuntimeError(f"no heartbeat naming {first}: {err}")

        got = list_map_content(pin)
        if got != expected(start):
            failures.append(f"map at the start: {got}, want {expected(start)}")

        rid = change("add", ["815012345678", "8192*"])
        change_del = change("del", ["8166123*"])
        if not wait_heartbeat(change_del):
            failures.append(f"the heartbeat never named {change_del} (after {rid})")
        now = ["81312345678", "123456789012345", "815012345678", "8192*"]
        got = list_map_content(pin)
        if got != expected(now):
            failures.append(f"map after a suspension and a lift: {got}, want {expected(now)}")
        hb = redis("HGET", f"teishi:dataplane:{NAME}", "entries")
        if hb != str(len(now)):
            failures.append(f"heartbeat entries {hb}, the map holds {len(now)}")
        if redis("SISMEMBER", "teishi:dataplanes", NAME) != "1":
            failures.append(f"{NAME} is not in teishi:dataplanes")

        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        sys.stderr.write(err)
        if proc.returncode != 0:
            failures.append(f"teishi-xdp exited {proc.returncode}")
        try:
            res = json.loads(out)
            if res["list"]["entries"] != len(now):
                failures.append(f"at exit the list holds {res['list']['entries']}")
        except (ValueError, KeyError) as e:
            failures.append(f"output at exit {out!r}: {e}")
        if "3 list entries from Redis" not in err:
            failures.append("stderr does not say what the first load brought")
        if bpftool("net", "show", "dev", dev)[0]["xdp"]:
            failures.append(f"the XDP program is still attached to {dev} after exit")
        if os.path.exists(pin):
            failures.append(f"the list map is still pinned at {pin} after exit")
        try:
            with open(cache) as f:
                lines = f.read().split("\n")
        except OSError as e:
            lines = [str(e)]
        if sorted(x for x in lines[1:] if x and not x.startswith("#")) != sorted(now) or \
                lines[-2:] != [f"# end: entries {len(now)}", ""]:
            failures.append(f"--redis-cache at exit: {lines}")

        # Redis gone: the cached list is enforced
        subprocess.run(["redis-cli", "--no-auth-warning", "-p", os.environ["REDIS_PORT"], "-a",
                        os.environ["REDIS_PASSWORD"], "SHUTDOWN", "NOSAVE"], capture_output=True)
        proc = subprocess.Popen([xdp, "attach", "--dev", dev, "--skb", "--redis",
                                 f"127.0.0.1:{os.environ['REDIS_PORT']}",
                                 "--redis-password-file", pwfile, "--name", NAME,
                                 "--pin-list", pin, "--redis-cache", cache],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        end = time.monotonic() + 5
        while time.monotonic() < end and not os.path.exists(pin):
            time.sleep(0.05)
        time.sleep(0.3)
        got = list_map_content(pin) if os.path.exists(pin) else None
        if got != expected(now):
            failures.append(f"started from the cache with Redis down: map {got}, "
                            f"want {expected(now)}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        sys.stderr.write(err)
        if proc.returncode != 0 or f"enforcing the cached list {cache} ({len(now)} entries" \
                not in err:
            failures.append(f"start from the cache: exit {proc.returncode}, stderr {err!r}")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run(["ip", "link", "del", dev], capture_output=True)
        subprocess.run(["umount", bpffs], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print(f"FAIL: {f}")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
