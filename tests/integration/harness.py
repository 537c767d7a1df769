"""Integration-test harness: tcpterm on net_tap inside a network namespace the
test creates, with the Linux kernel of that namespace as the peer.

Each test gets its own namespace (tt-<pid>-<n>), its own EAL --file-prefix (so
parallel runs never share DPDK's runtime directory or telemetry socket) and
cleans everything up on exit, on an exception and on SIGINT/SIGTERM. Addresses
are in 198.18.0.0/15 (RFC 2544 benchmarking), inside the namespace only: no
traffic ever leaves it.

Tests that cannot run (not root, no `ip netns`, no /dev/net/tun, no scapy)
exit with status 77, which meson reports as SKIP, after saying why.
"""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

SKIP = 77
ENGINE_IP = "198.18.0.2"
KERNEL_IP = "198.18.0.1"
IFACE = "tcpterm0"

_cleanups = []


def skip(why):
    print(f"SKIP: {why}", flush=True)
    sys.exit(SKIP)


def on_cleanup(fn):
    """Runs fn at exit, on an exception or on SIGINT/SIGTERM (last registered, first run)."""
    _cleanups.append(fn)


def _run_cleanups():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as e:  # keep cleaning up
            print(f"cleanup: {e}", file=sys.stderr)


def _on_signal(signum, _frame):
    _run_cleanups()
    sys.exit(128 + signum)


atexit.register(_run_cleanups)
signal.signal(signal.SIGINT, _on_signal)
signal.signal(signal.SIGTERM, _on_signal)


def check_environment(need_scapy=False):
    if os.geteuid() != 0:
        skip("needs root (network namespaces, net_tap); CI runs as root")
    if not os.path.exists("/dev/net/tun"):
        skip("no /dev/net/tun: net_tap cannot create its interface")
    probe = f"tt-probe-{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        skip(f"cannot create a network namespace (`ip netns add`: {r.stderr.strip() or 'failed'}); "
             "needs iproute2 and CAP_SYS_ADMIN/CAP_NET_ADMIN")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    if need_scapy:
        try:
            import scapy.all  # noqa: F401
        except ImportError:
            skip("python3-scapy is not installed (scripts/setup.sh installs it)")


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True, **kw)


class Netns:
    _n = 0

    def __init__(self):
        Netns._n += 1
        self.name = f"tt-{os.getpid()}-{Netns._n}"
        sh("ip", "netns", "add", self.name)
        _cleanups.append(self.delete)
        self.run("ip", "link", "set", "lo", "up")

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def cmd(self, *cmd):
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(self, *cmd, check=True, timeout=None):
        return sh(*self.cmd(*cmd), check=check, timeout=timeout)

    def ss(self):
        """`ss -tan` in the namespace: [(state, local, peer)], listeners included."""
        out = self.run("ss", "-tanH").stdout
        rows = []
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 5:
                rows.append((f[0], f[3], f[4]))
        return rows


class Tcpterm:
    """tcpterm on net_tap in `ns`, configured with the embedded tap.toml plus overrides."""

    def __init__(self, binary, ns, overrides=(), config=None, workers=1, eal=()):
        # TIME_WAIT (2*msl) must outlast any run, however slow (ASan, a loaded CI box).
        overrides = ["tcp.msl=3600", *overrides]
        self.ns = ns
        self.prefix = f"tt{os.getpid()}x{Netns._n}"
        self.json_path = f"/tmp/{self.prefix}.stats.json"
        self.log_path = f"/tmp/{self.prefix}.log"
        args = [binary, "--file-prefix", self.prefix]
        if workers != 1:
            args += ["-l", f"0-{workers - 1}"]
        args += list(eal) + ["--"]
        if config:
            args += ["--config", config]
        for o in overrides:
            args += ["--set", o]
        args += ["--stats-interval", "1", "--stats-json", self.json_path]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(ns.cmd(*args), stdout=self.log, stderr=subprocess.STDOUT)
        _cleanups.append(self._kill)
        self._wait_iface()
        ns.run("sysctl", "-qw", f"net.ipv6.conf.{IFACE}.disable_ipv6=1", check=False)
        ns.run("ip", "addr", "add", f"{KERNEL_IP}/24", "dev", IFACE)
        ns.run("ip", "link", "set", IFACE, "up")
        self.wait_ready()

    def _wait_iface(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tcpterm exited with {self.proc.returncode}:\n{self.output()}")
            if self.ns.run("ip", "link", "show", IFACE, check=False).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{IFACE} did not appear:\n{self.output()}")

    def wait_ready(self):
        """ARP resolves and ICMP echo is answered: the poll loop is running."""
        deadline = time.time() + 20
        while time.time() < deadline:
            if ping_rtts(self.ns) not in ([], [None]):
                return
            time.sleep(0.1)
        raise RuntimeError(f"tcpterm does not answer:\n{self.output()}")

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def telemetry(self, cmd):
        """One DPDK telemetry request over its v2 socket (what dpdk-telemetry.py does)."""
        path = f"/var/run/dpdk/{self.prefix}/dpdk_telemetry.v2"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(path)
            json.loads(s.recv(1024 * 12).decode())  # the greeting
            s.send(cmd.encode())
            return json.loads(s.recv(1024 * 64).decode())[cmd]
        finally:
            s.close()

    def stop(self, timeout=30):
        """SIGTERM, wait, return the --stats-json summary."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise RuntimeError(f"tcpterm did not stop on SIGTERM:\n{self.output()}")
        if rc != 0:
            raise RuntimeError(f"tcpterm exited with {rc}:\n{self.output()}")
        with open(self.json_path) as f:
            stats = json.load(f)
        os.unlink(self.json_path)
        return stats

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        for p in (self.json_path, self.log_path):
            if os.path.exists(p):
                os.unlink(p)
        # EAL's runtime directory (its config, memory maps, telemetry socket).
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)


# ICMP echo through a raw socket (no ping binary needed): COUNT requests,
# INTERVAL seconds apart; prints each round trip in microseconds ("lost" when
# no reply within TIMEOUT s); exits 0 when every request got its reply.
_PINGER = r"""
import socket, struct, sys, time
dst, n, interval, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
out, lost = [], 0
for seq in range(n):
    hdr = struct.pack("!BBHHH", 8, 0, 0, 0x7475, seq) + b"x" * 32
    pkt = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
    t0 = time.perf_counter_ns()
    s.settimeout(timeout)
    s.sendto(pkt, (dst, 0))
    try:
        while True:
            data, addr = s.recvfrom(2048)
            if addr[0] == dst and data[20] == 0 and struct.unpack("!H", data[26:28])[0] == seq:
                out.append("%.1f" % ((time.perf_counter_ns() - t0) / 1000))
                break
    except socket.timeout:
        out.append("lost")
        lost += 1
    if seq + 1 < n:
        time.sleep(interval)
print(" ".join(out))
sys.exit(1 if lost else 0)
"""


def ping_rtts(ns, count=1, interval=0.0, timeout=0.5):
    """ICMP echo round trips to the engine from inside ns, in microseconds (None: lost)."""
    r = ns.run(sys.executable, "-c", _PINGER, ENGINE_IP, str(count), str(interval), str(timeout),
               check=False, timeout=count * (interval + timeout) + 10)
    return [None if x == "lost" else float(x) for x in r.stdout.split()]


def load(ns, loadclient, mode, connections, concurrency, port=None, payload=1000, threads=1, timeout=10):
    port = port or {"http": 80, "echo": 7, "discard": 9, "rst": 80}[mode]
    r = ns.run(loadclient, "--addr", ENGINE_IP, "--port", str(port), "--mode", mode,
               "--connections", str(connections), "--concurrency", str(concurrency),
               "--threads", str(threads), "--payload", str(payload), "--timeout", str(timeout),
               check=False, timeout=600)
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"load client failed ({r.returncode}): {r.stdout} {r.stderr}")


def tw_reused(stats):
    """TIME_WAIT records ended early because the kernel reused their 4-tuple.

    The kernel closes passively, keeps no TIME_WAIT, and may pick a source port
    whose tuple the engine still holds in TIME_WAIT. If the new SYN is newer
    (RFC 6191) the engine accepts it (time_wait_recycled); if not (the kernel's
    per-connection timestamp offsets make PAWS refuse it), the engine answers
    with an ACK, the kernel's SYN_SENT answers that with an RST which ends the
    TIME_WAIT (rfc1337=0, time_wait_killed), and the kernel's SYN retransmission
    then connects: Linux against Linux behaves the same.
    """
    return stats["time_wait_recycled"] + stats["time_wait_killed"]


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    v = None
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def args():
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--tcpterm", required=True)
    p.add_argument("--load", required=True)
    return p.parse_args()
