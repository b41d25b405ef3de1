"""The DPDK-run fixture every teishi-dp integration test shares.

DpdkRun.run() starts teishi-dp on net_pcap vdevs (no NIC): each port reads
one rx pcap per queue and writes one tx pcap per queue, with a unique
--file-prefix, hugepages when enough are free (else --no-huge), --no-pci,
and a timeout.  The run ends by itself once the input is consumed
(--idle-exit), and the result holds the frames each port sent, the JSON
stats and the blocked-call events.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netpkt  # noqa: E402

SKIP = 77
HUGE_PAGES_NEEDED = 160  # 2 MiB pages: mbuf pool + copy pools + rings
MEM_MB = 320


def source_root():
    return os.environ.get("TEISHI_SOURCE_ROOT",
                          os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def find_binary(name, env_var):
    if os.environ.get(env_var):
        return os.environ[env_var]
    build = os.environ.get("TEISHI_BUILD_ROOT")
    if build:
        p = os.path.join(build, "dataplane", name)
        if os.access(p, os.X_OK):
            return p
    return None


def free_hugepages():
    try:
        with open("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") as f:
            return int(f.read())
    except OSError:
        return 0


def memory_args():
    """Hugepages when enough are free, else --no-huge (the tests are
    functional: page size does not matter to them)."""
    if os.path.isdir("/dev/hugepages") and free_hugepages() >= HUGE_PAGES_NEEDED:
        return ["-m", str(MEM_MB), "--huge-unlink"]
    return ["--no-huge", "-m", str(MEM_MB)]


class Result:
    def __init__(self, rc, stdout, stderr, tx, stats, events):
        self.rc, self.stdout, self.stderr = rc, stdout, stderr
        self.tx = tx            # port -> list of frames, queues concatenated
        self.stats = stats      # the JSON stats dump
        self.events = events    # list of event dicts


class DpdkRun:
    def __init__(self, binary=None):
        self.binary = binary or find_binary("teishi-dp", "TEISHI_DP")
        self.work = tempfile.mkdtemp(prefix="teishi-dp-test-")
        self.n = 0

    def available(self):
        return self.binary is not None and os.access(self.binary, os.X_OK)

    def path(self, name):
        return os.path.join(self.work, name)

    def pcap(self, name, frames):
        p = self.path(name)
        netpkt.write_pcap(p, frames)
        return p

    def command(self, rx, app_args=(), workers=1, idle_ms=400):
        """The command line for rx (see run()), and the files it writes:
        (cmd, prefix, {port: [tx pcaps]}, stats file, events file).
        idle_ms 0: run until a signal."""
        self.n += 1
        tag = f"r{self.n}"
        prefix = f"teishi-test-{os.getpid()}-{tag}"
        vdevs, tx_files = [], {}
        for port, queues in enumerate(rx):
            if queues and isinstance(queues[0], (bytes, bytearray)) or not queues:
                queues = [queues]
            if len(queues) == 1 and workers > 1:
                queues = queues + [[] for _ in range(workers - 1)]
            args = []
            tx_files[port] = []
            for q, frames in enumerate(queues):
                rxp = self.pcap(f"{tag}-p{port}-q{q}-rx.pcap", frames)
                txp = self.path(f"{tag}-p{port}-q{q}-tx.pcap")
                args += [f"rx_pcap={rxp}", f"tx_pcap={txp}"]
                tx_files[port].append(txp)
            vdevs += ["--vdev", f"net_pcap{port}," + ",".join(args)]
        stats_file = self.path(f"{tag}-stats.json")
        events_file = self.path(f"{tag}-events.jsonl")
        ncpu = os.cpu_count() or 1
        # More lcores than CPUs (a small CI machine): map them onto the CPUs
        # there are; the tests check verdicts, not speed.
        lcores = ",".join(f"{i}@{i % ncpu}" for i in range(workers + 1))
        cmd = [self.binary, "--lcores", lcores, "--file-prefix", prefix, "--no-pci",
               "--log-level", "warning"] + memory_args() + vdevs + ["--"]
        if idle_ms:
            cmd += ["--idle-exit", str(idle_ms)]
        cmd += ["--stats-file", stats_file, "--events", events_file] + list(app_args)
        return cmd, prefix, tx_files, stats_file, events_file

    def run(self, rx, app_args=(), workers=1, timeout=60, idle_ms=400):
        """rx: one list of frame lists per port (one per queue), or one
        frame list per port (a single queue).  Returns a Result."""
        cmd, _, tx_files, stats_file, events_file = self.command(rx, app_args, workers, idle_ms)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        tx = {port: [fr for f in files if os.path.exists(f) for fr in netpkt.read_pcap(f)]
              for port, files in tx_files.items()}
        stats = None
        if os.path.exists(stats_file):
            with open(stats_file) as f:
                stats = json.load(f)
        events = []
        if os.path.exists(events_file):
            with open(events_file) as f:
                events = [json.loads(line) for line in f if line.strip()]
        if p.returncode != 0:
            sys.stderr.write(f"teishi-dp exited {p.returncode}\ncmd: {' '.join(cmd)}\n"
                             f"{p.stderr}\n")
        return Result(p.returncode, p.stdout, p.stderr, tx, stats, events)

    def cleanup(self):
        shutil.rmtree(self.work, ignore_errors=True)


def require_dp():
    """A DpdkRun, or exit 77 (skip) when teishi-dp is not built."""
    r = DpdkRun()
    if not r.available():
        print("teishi-dp not built (DPDK missing?): skipped")
        sys.exit(SKIP)
    return r


def report(failures):
    """Print each failure and their count; the exit status for them."""
    for f in failures:
        print("FAIL:", f)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0
