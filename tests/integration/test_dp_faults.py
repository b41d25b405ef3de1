#!/usr/bin/env python3
"""teishi-dp --redis under faults: a hung Redis, and kill -9 while the
list cache is being written.

The same set-up as test_dp_sync (whose helpers this uses): a network
namespace, a real redis-server (AOF on, a password), teishi-dp with port 0
on a net_tap and port 1 on net_pcap, INVITEs sent into the tap and the
rejects read back from it.  It checks that:
  - while Redis is stopped (SIGSTOP, a host that hangs, longer than the
    session's 10 s reply timeout) the list in force stays in force: a
    listed caller is rejected and an unlisted one is not, all along; once
    Redis runs again the session resumes from its stream record (no new
    load), a suspension made then is enforced, and stderr says what
    happened;
  - kill -9 while the cache is being rewritten (a list of 300,000
    entries, so that the write takes long enough to be caught) leaves the
    previous cache whole: the same bytes, its end line's count equal to
    its entries; the temporary file it was writing is cut short and is
    never taken for the cache;
  - a start from that cache with Redis down enforces it;
  - with Redis down and no cache, --redis-start forward brings the link up
    with nothing blocked, and the list is enforced once Redis answers;
  - a cache on a full disk: the failed write is said once, leaves no
    temporary file, and blocking goes on;
  - a bulk order of 500,000 entries in one transaction (Redis answers
    nothing else meanwhile) while INVITEs flow: a listed caller is
    rejected all along, and the bulk's numbers are blocked afterwards.

Needs root, /dev/net/tun and redis-server; exits 77 (skip) otherwise.
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dpdk_run  # noqa: E402
from test_dp_rss import read_stats, skip  # noqa: E402
from test_dp_sync import (PASSWORD, DpDown, dp_command, site, start_dp, stop_dp,  # noqa: E402
                          until_blocked, wait_reject)

A = "81312345678"   # listed from the start: 03-1234-5678
B = "815012345678"  # suspended once the hung Redis runs again: 050-1234-5678
F = "81452223333"   # never listed: 045-222-3333
BIG = 300000        # entries for the cache write that kill -9 interrupts
REPLY_TIMEOUT_S = 10  # sync_config.reply_timeout_ms's default, which teishi-dp uses


def cache_state(path):
    """(whole, entries, text) of a cache file, by sync.h's format: a
    header, the entries, an end line with their count, a final newline.
    entries counts the complete entry lines, also in a file cut short."""
    with open(path, "rb") as f:
        text = f.read()
    lines = text.split(b"\n")
    body = lines[1:-1]  # the last is b"" when the file ends at a line's end
    ended = bool(body) and body[-1].startswith(b"# end: entries ")
    n = len(body) - ended
    whole = lines[0].startswith(b"# teishi-dp list cache: stream_id ") and lines[-1] == b"" \
        and ended and body[-1] == f"# end: entries {n}".encode()
    return whole, n, text


def wait_whole_cache(path, want, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            whole, n, text = cache_state(path)
            if whole and n == want:
                return text
        time.sleep(0.05)
    return None


def hung_redis(cmd, redis, failures):
    proc, cap, snd = start_dp(cmd, 0)
    try:
        cid = snd.send(A)
        r = wait_reject(cap, cid, 3.0)
        if r is None or not r.startswith("SIP/2.0 608"):
            failures.append(f"before the fault, {A}: reject {r!r}, want 608")
        redis.proc.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        stalled = 0
        # INVITEs all through the stall, and a little past the reply timeout
        while time.monotonic() - t0 < REPLY_TIMEOUT_S + 2.5:
            cid = snd.send(A)
            r = wait_reject(cap, cid, 1.0)
            if r is None or not r.startswith("SIP/2.0 608"):
                failures.append(f"Redis stopped {time.monotonic() - t0:.1f} s: {A} got "
                                f"{r!r}, want 608")
                break
            cid = snd.send(F)
            if wait_reject(cap, cid, 0.2) is not None:
                failures.append(f"Redis stopped: unlisted {F} was rejected")
                break
            stalled += 1
            time.sleep(0.3)
        print(f"Redis stopped {time.monotonic() - t0:.1f} s: {stalled} rounds of a listed "
              "and an unlisted INVITE, each answered as before")
        redis.proc.send_signal(signal.SIGCONT)
        redis.change("add", B)
        r, secs = until_blocked(cap, snd, B, 10.0)
        if r is None:
            failures.append(f"{B} suspended once Redis ran again: never blocked")
        else:
            print(f"after the stall: suspension of {B} blocking in {secs * 1000:.0f} ms")
    finally:
        if redis.proc.poll() is None:
            redis.proc.send_signal(signal.SIGCONT)
        err = stop_dp(proc, cap)
    if proc.returncode != 0:
        failures.append(f"teishi-dp exited {proc.returncode} after the stall")
    if "no reply within 10100 ms" not in err or "following" not in err:
        failures.append("stderr does not say that Redis stopped answering and that the "
                        "sync came back")


def kill_during_cache_write(cmd, redis, cache, failures):
    bulk = [f"8199{i:07d}" for i in range(BIG)]
    for k in range(0, BIG, 20000):
        redis.cmd("SADD", "teishi:entries", *bulk[k:k + 20000])
    tmp = cache + ".tmp"
    caught = False
    for attempt in range(4):
        want = int(redis.cmd("SCARD", "teishi:entries"))
        proc, cap, snd = start_dp(cmd, 1000 * (attempt + 1))
        try:
            # the write after the load, renamed into place
            before = wait_whole_cache(cache, want, 15.0)
            if before is None:
                failures.append(f"no whole cache of {want} entries within 15 s of the start")
                return
            if os.path.exists(tmp):
                os.remove(tmp)
            # the next write, at most 10 s after a change: killed once
            # some of it is on disk
            redis.change("add", f"8198{attempt:07d}")
            end = time.monotonic() + 15
            while time.monotonic() < end:
                try:
                    if os.stat(tmp).st_size >= 65536:
                        break
                except FileNotFoundError:
                    pass
                time.sleep(0.0002)
        finally:
            cap.stop = True
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            cap.finish()
        whole, n, after = cache_state(cache)
        if not whole:
            failures.append(f"kill -9 during a cache write, attempt {attempt + 1}: the cache "
                            f"is not whole ({n} lines after its header)")
            return
        if not os.path.exists(tmp) or cache_state(tmp)[0]:
            print(f"attempt {attempt + 1}: the write ended before the kill")
            continue
        t_n = cache_state(tmp)[1]
        if after != before:
            failures.append("the cache changed while its temporary file was still there")
        caught = True
        print(f"kill -9 during a cache write: the temporary file held {t_n} of {want + 1} "
              f"entries; the cache is the previous one, whole, {n} entries")
        break
    if not caught:
        failures.append("kill -9 never landed inside a cache write in 4 attempts: "
                        "nothing was shown")
        return
    # the previous cache, enforced with Redis down
    redis.kill()
    proc, cap, snd = start_dp(cmd, 9000)
    r, _ = until_blocked(cap, snd, A, 3.0)
    err = stop_dp(proc, cap)
    said = f"enforcing the cached list {cache} ({n} entries"
    if r is None or said not in err:
        failures.append(f"start from the cache after kill -9, Redis down: {A} blocked: "
                        f"{r is not None}; stderr says the previous cache ({n} entries) is "
                        f"enforced: {said in err}")


BULK = 500000
# A bulk order as teishid writes it, in one server-side script: Redis
# answers nothing else while it runs.
BULK_SCRIPT = """
local n, per, id = tonumber(ARGV[1]), 1000, nil
for base = 0, n - 1, per do
  local e = {}
  for i = base, math.min(base + per, n) - 1 do e[#e + 1] = string.format('8197%07d', i) end
  redis.call('SADD', KEYS[1], unpack(e))
  id = redis.call('XADD', KEYS[2], '*', 'op', 'add', 'order', 'BULK-F', 'entries',
                  table.concat(e, ' '))
end
return id
"""


def bulk_under_traffic(cmd, redis, failures):
    """A bulk order of BULK entries while INVITEs flow: during the
    transaction (Redis answers nothing else) a listed caller is still
    rejected at once; afterwards the bulk's numbers are blocked."""
    proc, cap, snd = start_dp(cmd, 40000)
    try:
        redis.cmd("HSETNX", "teishi:meta", "schema", "1")
        bulk = subprocess.Popen(["redis-cli", "--no-auth-warning", "-a", PASSWORD, "-p",
                                 str(redis.port), "EVAL", BULK_SCRIPT, "2", "teishi:entries",
                                 "teishi:changes", str(BULK)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.monotonic()
        slowest, rounds = 0.0, 0
        while bulk.poll() is None:
            sent = time.monotonic()
            cid = snd.send(A)
            r = wait_reject(cap, cid, 1.0)
            if r is None:
                failures.append(f"during the bulk transaction: {A} not rejected within 1 s")
                break
            slowest = max(slowest, time.monotonic() - sent)
            rounds += 1
            time.sleep(0.02)
        out, err = bulk.communicate(timeout=120)
        took = time.monotonic() - t0
        if bulk.returncode != 0 or "-" not in out:
            failures.append(f"the bulk script failed: {out}{err}")
        r, secs = until_blocked(cap, snd, f"8197{BULK - 1:07d}", 15.0)
        if r is None:
            failures.append("the bulk order's last number was never blocked")
        else:
            print(f"bulk order of {BULK} in one transaction ({took:.1f} s in Redis): "
                  f"{rounds} rejects meanwhile, the slowest {slowest * 1000:.0f} ms; its last "
                  f"number blocking {secs:.1f} s after the transaction")
    finally:
        err = stop_dp(proc, cap)
    if proc.returncode != 0:
        failures.append(f"after the bulk order teishi-dp exited {proc.returncode}")


def full_disk(cmd, redis, work, failures):
    """--redis-cache on a file system too small for the list (a full disk):
    the failed write is said once, leaves no temporary file, is retried on
    the cache's schedule, and enforcement goes on."""
    small = os.path.join(work, "small")
    os.mkdir(small)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", small],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(f"full disk: not run, cannot mount a tmpfs: {p.stderr.strip()}")
        return
    try:
        cache = os.path.join(small, "list.cache")
        proc, cap, snd = start_dp(cmd + ["--redis-cache", cache], 30000)
        try:
            time.sleep(1.5)  # the first write, tried and failed
            r, _ = until_blocked(cap, snd, A, 3.0)
            if r is None:
                failures.append(f"cache on a full disk: {A} no longer blocked")
            leftovers = os.listdir(small)
        finally:
            err = stop_dp(proc, cap)
        said = err.count(f"--redis-cache {cache}: No space left on device (retrying)")
        if said != 1 or leftovers or proc.returncode != 0:
            failures.append(f"cache on a full disk: said {said} times (want 1), files left "
                            f"{leftovers}, exit {proc.returncode}")
        else:
            print("cache on a full disk: said once, nothing left on the disk, still blocking")
    finally:
        subprocess.run(["umount", small], capture_output=True)


def start_forwarding(cmd, redis, failures):
    """Redis down, no cache, --redis-start forward: the link comes up with
    nothing blocked, and the list is enforced once Redis answers."""
    if redis.proc and redis.proc.poll() is None:
        redis.kill()
    proc, cap, snd = start_dp(cmd + ["--redis-start", "forward"], 20000)
    try:
        cid = snd.send(A)
        if wait_reject(cap, cid, 0.5) is not None:
            failures.append(f"--redis-start forward, Redis down: {A} rejected with no list")
        redis.start()
        r, secs = until_blocked(cap, snd, A, 8.0)
        if r is None:
            failures.append(f"--redis-start forward: {A} never blocked once Redis answered")
        else:
            print(f"--redis-start forward: {A} blocking {secs:.1f} s after Redis started")
    finally:
        err = stop_dp(proc, cap)
    if proc.returncode != 0 or "forwarding every frame with nothing blocked" not in err:
        failures.append(f"--redis-start forward: exit {proc.returncode}, stderr {err[-300:]!r}")


def main():
    failures = []
    with site("faults") as (run, work, redis):
        redis.change("add", A)
        stats_file = os.path.join(work, "stats.json")
        cache = os.path.join(work, "list.cache")
        cmd, _ = dp_command(run, work, redis, stats_file, "faults")
        try:
            hung_redis(cmd, redis, failures)
        except DpDown as e:
            err = str(e)
            if "first load failed" in err or "--redis" in err:
                raise RuntimeError(f"teishi-dp did not start:\n{' '.join(cmd)}\n{err}")
            skip(f"net_tap does not work here: {err.strip()[-300:]}")
        sy = (read_stats(stats_file, 2.0) or {}).get("sync", {})
        if sy.get("loads") != 1 or sy.get("failures", 0) < 1 or sy.get("adds") != 1:
            failures.append(f"stats sync after the stall {sy}: want one load (resumed, not "
                            "reloaded), a failure, the one add")
        kill_during_cache_write(cmd + ["--redis-cache", cache], redis, cache, failures)
        start_forwarding(cmd, redis, failures)
        full_disk(cmd, redis, work, failures)
        bulk_under_traffic(cmd, redis, failures)
    return dpdk_run.report(failures)


if __name__ == "__main__":
    sys.exit(main())
