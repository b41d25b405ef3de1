#!/usr/bin/env python3
"""teishi-dp's command line, config file, telemetry and signals:
--help names every key /teishi/config reports (one table drives both);
a --config file sets keys and the command line overrides it; a bad config
line is reported as file:line; /teishi/stats, /teishi/list and
/teishi/config answer over the telemetry socket as dpdk-telemetry.py
reads it; SIGUSR1 writes the JSON stats; SIGTERM stops cleanly."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import dpdk_run  # noqa: E402


def telemetry(prefix, cmds, timeout=20):
    path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    end = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > end:
            raise RuntimeError(f"no telemetry socket {path}")
        time.sleep(0.1)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    info = json.loads(s.recv(16384))
    out = {}
    for c in cmds:
        s.send(c.encode())
        out[c] = json.loads(s.recv(info.get("max_output_len", 16384)))[c]
    s.close()
    return out


def main():
    run = dpdk_run.require_dp()
    failures = []

    def fail(m):
        failures.append(m)

    try:
        h = subprocess.run([run.binary, "--no-huge", "-m", "64", "--no-pci", "--file-prefix",
                            f"teishi-help-{os.getpid()}", "--log-level", "error", "--", "--help"],
                           capture_output=True, text=True, timeout=30)
        if h.returncode != 0 or "usage: teishi-dp" not in h.stdout:
            fail(f"--help: exit {h.returncode}")
        # Telemetry names cannot hold '-': "sip-port" is reported as "sip_port".
        help_keys = {k.replace("-", "_") for k in re.findall(r"^  --([a-z-]+)", h.stdout, re.M)}

        lst = run.path("list.txt")
        with open(lst, "w") as f:
            f.write("0312345678\n03-9999-*\n")
        bad = run.path("bad.conf")
        with open(bad, "w") as f:
            f.write("# comment\nsip-port = 5060\ncalled-code = 99\n")
        cmd, _, _, _, _ = run.command([[], []], ["--config", bad])
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if p.returncode != 2 or f"{bad}:3: --called-code 99" not in p.stderr:
            fail(f"bad config: exit {p.returncode}, stderr {p.stderr.strip()[-200:]!r}")

        # --redis: its value is checked, and it excludes --list; a Redis
        # that is not there stops start-up with Redis's error, and so does
        # a --redis-cache with a bad line or without its header, naming it.
        badcache = run.path("bad.cache")
        with open(badcache, "w") as f:
            f.write("# teishi-dp list cache: stream_id 1-0\n81312345678\n+81399998888\n")
        nohead = run.path("nohead.cache")
        with open(nohead, "w") as f:
            f.write("81312345678\n")
        down = ["--redis", "127.0.0.1:1"]
        for extra, want in ((["--redis", "nohost"], "HOST:PORT or the path of a unix socket"),
                            (["--redis", "127.0.0.1:6379", "--list", lst],
                             "--list and --redis cannot be used together"),
                            (["--redis-user", "dp"], "need --redis"),
                            (["--redis-cache", "/tmp/x"], "need --redis"),
                            (["--redis-write", "127.0.0.1:6379"], "need --redis"),
                            (down + ["--redis-write", "x"], "--redis-write x: HOST:PORT"),
                            (["--name", "bad name"], "--name bad name: 1 to 63"),
                            (down, "the first load failed: Redis 127.0.0.1:1: connect:"),
                            (down, "(the link stays down; --redis-cache or --redis-start "
                                   "forward start without Redis)"),
                            (["--redis-start", "forward"], "need --redis"),
                            (down + ["--redis-start", "maybe"], "--redis-start maybe"),
                            (down + ["--redis-cache", badcache],
                             f"and the cache: {badcache}:3: not an entry"),
                            (down + ["--redis-cache", nohead],
                             f"and the cache: {nohead}: no \"# teishi-dp list cache")):
            cmd, _, _, _, _ = run.command([[], []], extra)
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            if p.returncode == 0 or want not in p.stderr:
                fail(f"{' '.join(extra)}: exit {p.returncode}, stderr {p.stderr.strip()[-200:]!r}")

        conf = run.path("dp.conf")
        with open(conf, "w") as f:
            f.write(f"list = {lst}\ncalled-code = 486\ncalling-action = drop\n"
                    "sip-port = 5060, 5080\nheaders = ruri,to,from\n")
        cmd, prefix, _, stats_file, _ = run.command([[], []], ["--config", conf,
                                                             "--called-code", "480"], idle_ms=0)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # The socket opens at EAL init, the /teishi commands a moment later.
            end = time.time() + 20
            while True:
                t = telemetry(prefix, ["/teishi/config", "/teishi/list", "/teishi/stats"])
                if t["/teishi/stats"] is not None or time.time() > end:
                    break
                time.sleep(0.2)
            c = t["/teishi/config"]
            want = {"called_code": "480", "calling_action": "drop", "sip_port": "5060,5080",
                    "list": lst, "config": conf, "calling_code": "608", "frag_timeout": "1000"}
            for k, v in want.items():
                if c.get(k) != v:
                    fail(f"/teishi/config {k} = {c.get(k)!r}, wanted {v!r}")
            if set(c) - help_keys:
                fail(f"keys in /teishi/config but not in --help: {sorted(set(c) - help_keys)}")
            if help_keys - set(c) - {"help"}:
                fail(f"keys in --help but not in /teishi/config: {sorted(help_keys - set(c))}")
            lt = t["/teishi/list"]
            if lt.get("entries") != 2 or lt.get("prefixes") != 1:
                fail(f"/teishi/list {lt}")
            st = t["/teishi/stats"]
            if st.get("frames") != 0 or "blocked" not in st or "tx_drops" not in st or \
                    "blocked_p_asserted_identity" not in st:
                fail(f"/teishi/stats {st}")
            proc.send_signal(signal.SIGUSR1)
            end = time.time() + 10
            while not os.path.exists(stats_file) and time.time() < end:
                time.sleep(0.1)
            if not os.path.exists(stats_file):
                fail("SIGUSR1 wrote no stats")
            else:
                time.sleep(0.2)
                with open(stats_file) as f:
                    s = json.load(f)
                if s["list"]["entries"] != 2 or s["frames"] != 0:
                    fail(f"SIGUSR1 stats {s}")
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
            if proc.returncode != 0 or "teishi-dp: frames 0" not in err:
                fail(f"SIGTERM: exit {proc.returncode}, stderr {err.strip()[-300:]!r}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        run.cleanup()
    return dpdk_run.report(failures)


if __name__ == "__main__":
    sys.exit(main())
