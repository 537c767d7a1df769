#!/usr/bin/env python3
"""Measures what the idle back-off costs in latency: ICMP echo round trips from
the kernel to tcpterm on net_tap, one every 20 ms so the poll loop is idle
(asleep, with the back-off on) when each request arrives; first with
dpdk.idle_backoff=true (config/tap.toml's default), then false (busy polling).
Prints the median and 99th percentile of each and their difference.

Usage (root): scripts/idle_backoff_latency.py [build/tcpterm] [COUNT]
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import harness as h  # noqa: E402

_PINGER = r"""
import socket, struct, sys, time
dst, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1)
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
out = []
for seq in range(n):
    hdr = struct.pack("!BBHHH", 8, 0, 0, 0x7475, seq) + b"x" * 32
    pkt = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
    t0 = time.perf_counter_ns()
    s.sendto(pkt, (dst, 0))
    while True:
        data, addr = s.recvfrom(2048)
        if addr[0] == dst and data[20] == 0 and struct.unpack("!H", data[26:28])[0] == seq:
            break
    out.append((time.perf_counter_ns() - t0) / 1000)
    time.sleep(0.02)
print(" ".join("%.1f" % x for x in out))
"""


def measure(binary, backoff, n):
    ns = h.Netns()
    t = h.Tcpterm(binary, ns, overrides=[f"dpdk.idle_backoff={'true' if backoff else 'false'}"])
    rtts = [float(x) for x in ns.run(sys.executable, "-c", _PINGER, h.ENGINE_IP, str(n)).stdout.split()]
    t.stop()
    ns.delete()
    return rtts


def main():
    h.check_environment()
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/tcpterm"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    res = {}
    for backoff in (True, False):
        r = sorted(measure(binary, backoff, n))
        res[backoff] = (statistics.median(r), r[int(0.99 * (len(r) - 1))])
        print(f"idle_backoff={str(backoff).lower():5}  ICMP echo RTT over net_tap: median {res[backoff][0]:7.1f} us, "
              f"p99 {res[backoff][1]:7.1f} us  ({n} pings, 20 ms apart)")
    print(f"added by the back-off: median {res[True][0] - res[False][0]:+.1f} us, "
          f"p99 {res[True][1] - res[False][1]:+.1f} us")


if __name__ == "__main__":
    main()
