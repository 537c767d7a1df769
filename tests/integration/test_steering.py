#!/usr/bin/env python3
"""Two poll loops on net_tap: software steering over rte_ring.

net_tap spreads flows over its queues by the kernel's own flow hash, not by
tcpterm's 4-tuple owner, so with two worker lcores the runtime steers each TCP
frame to the lcore that owns its connection (drivers/dpdk/steer.h). Every HTTP
and echo connection must complete, each steered frame must arrive (out == in,
no ring overflow), both engine shards must end with nothing half-open, and every
mbuf must come back.
"""
import sys

import harness as h


def main():
    a = h.args()
    h.check_environment()
    ns = h.Netns()
    t = h.Tcpterm(a.tcpterm, ns, workers=2)
    http = h.load(ns, a.load, "http", connections=3000, concurrency=100, threads=2)
    assert http["completed"] == 3000, http
    echo = h.load(ns, a.load, "echo", connections=500, concurrency=50, payload=3000)
    assert echo["completed"] == 500, echo

    def engine_settled():
        s = t.telemetry("/tcpterm/states")
        busy = {k: v for k, v in s.items() if k not in ("LISTEN", "TIME_WAIT", "CLOSE") and v}
        return s if not busy else None
    states = h.wait_for(engine_settled, 15, "engine connections to settle")
    assert states["LISTEN"] == 6, states  # three listeners on each of two shards
    s = t.stop()
    d, eng = s["driver"], s["engine"]
    assert s["workers"] == 2 and s["software_steering"], s
    assert d["steered_out"] > 0 and d["steered_out"] == d["steered_in"], d
    assert d["steer_ring_full"] == 0 and d["tx_dropped"] == 0, d
    assert eng["passive_opens"] == 3500 and eng["established"] == 3500, eng
    assert s["states"]["TIME_WAIT"] + h.tw_reused(eng) == 3000, (s["states"], eng)
    m = s["mbufs"]
    assert m["in_use_after_stop"] == m["in_use_at_start"] and m["in_use_after_close"] == 0, m
    print(f"OK: 2 lcores, {d['steered_out']} of {d['rx_packets']} frames steered; mbufs {m}")


if __name__ == "__main__":
    main()
    sys.exit(0)
