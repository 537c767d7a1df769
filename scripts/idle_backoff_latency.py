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

def measure(binary, backoff, n):
    ns = h.Netns()
    t = h.Tcpterm(binary, ns, overrides=[f"dpdk.idle_backoff={'true' if backoff else 'false'}"])
    rtts = h.ping_rtts(ns, count=n, interval=0.02, timeout=1.0)
    if None in rtts:
        raise RuntimeError(f"{rtts.count(None)} of {n} echo requests got no reply")
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
