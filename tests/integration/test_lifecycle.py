#!/usr/bin/env python3
"""tcpterm on net_tap, the Linux kernel as the client: every connection lifecycle
the runtime must carry, and the books balanced afterwards.

- many sequential, then concurrent HTTP connections, all answered (server-first
  close: TIME_WAIT on the engine, none on the kernel);
- echo with shutdown(SHUT_WR) half-close: the echo comes back whole, then the
  engine's FIN (passive close);
- abortive close with SO_LINGER 0: the kernel's RST ends the engine's connection;
- with TX checksum offload on (net_tap fills in the checksums), so every
  completed connection shows the offloaded checksums are right;
- afterwards `ss` shows nothing stuck, tcpterm's counters agree with what the
  client saw, /tcpterm/* telemetry answers, and every mbuf is back.
"""
import sys

import harness as h


def main():
    a = h.args()
    h.check_environment()
    ns = h.Netns()
    t = h.Tcpterm(a.tcpterm, ns)

    seq = h.load(ns, a.load, "http", connections=300, concurrency=1)
    assert seq["completed"] == 300, seq
    conc = h.load(ns, a.load, "http", connections=3000, concurrency=100, threads=2)
    assert conc["completed"] == 3000, conc
    http_total = 3300

    # Server-first close: every HTTP connection sits in TIME_WAIT on the engine
    # (2*msl = 60 s by default, far longer than this test), none on the kernel.
    # The kernel, which keeps no TIME_WAIT here, may reuse a source port whose
    # tuple the engine still holds in TIME_WAIT (see harness.tw_reused). So every
    # HTTP connection is either still in TIME_WAIT or was ended by a later one.
    def tw_settled():
        st, stats = t.telemetry("/tcpterm/states"), t.telemetry("/tcpterm/stats")
        return (st, stats) if st["TIME_WAIT"] + h.tw_reused(stats) == http_total else None
    states, stats = h.wait_for(tw_settled, 10, "TIME_WAIT on the engine")
    assert states["ESTABLISHED"] == 0 and states["SYN_RECV"] == 0, states
    # The kernel closed second (LAST_ACK until the engine's ACK): nothing may stay.
    h.wait_for(lambda: [r for r in ns.ss() if r[0] != "LISTEN"] == [], 10, "no kernel sockets left after HTTP")

    echo = h.load(ns, a.load, "echo", connections=500, concurrency=50, payload=3000)
    assert echo["completed"] == 500, echo
    rst = h.load(ns, a.load, "rst", connections=300, concurrency=30)
    assert rst["completed"] == 300, rst

    # Nothing stuck: the kernel keeps only the TIME_WAITs of the echo connections
    # (there it closed first, with SHUT_WR); no SYN-SENT, ESTAB, FIN-WAIT, CLOSE-WAIT, LAST-ACK.
    def settled():
        rows = [r for r in ns.ss() if r[0] not in ("LISTEN", "TIME-WAIT")]
        return rows == []
    h.wait_for(settled, 10, "kernel sockets to settle")
    tw = [r for r in ns.ss() if r[0] == "TIME-WAIT"]
    assert all(r[2].endswith(":7") for r in tw), tw[:5]
    assert len(tw) == 500, len(tw)

    # The engine's side: nothing half-open or established is left.
    def engine_settled():
        s = t.telemetry("/tcpterm/states")
        busy = {k: v for k, v in s.items() if k not in ("LISTEN", "TIME_WAIT", "CLOSE") and v}
        return s if not busy else None
    states = h.wait_for(engine_settled, 15, "engine connections to settle")
    assert states["LISTEN"] == 3, states

    stats_live = t.telemetry("/tcpterm/stats")
    cfg = t.telemetry("/tcpterm/config")
    assert cfg["engine/addresses"] == "198.18.0.2/24", cfg
    assert cfg["listener/0/app"] == "http", cfg
    assert cfg["dpdk/idle_backoff"] == "true", cfg

    s = t.stop()
    print(t.output()[-3000:])
    # net_tap offers IPv4+TCP TX checksum insertion, so every segment above left
    # its checksums to the port: the kernel drops segments with bad checksums,
    # so every connection completing proves the offload path fills them in right.
    assert s["ports"][0]["tx_checksum_offload"] is True, s["ports"]
    assert "TX checksum offload" in t.output(), t.output()[:2000]
    eng = s["engine"]
    total = http_total + 500 + 300
    # Every connection the client made is one passive open that reached ESTABLISHED.
    assert eng["passive_opens"] == total, (eng, total)
    assert eng["established"] == total, (eng, total)
    assert eng["active_opens"] == 0, eng
    # Each abortive close reached the engine as one RST that ended its connection
    # (in ESTABLISHED or, once the HTTP response and FIN were out, FIN_WAIT_1/2).
    assert eng["rsts_received"] == 300, eng
    assert s["states"]["TIME_WAIT"] + h.tw_reused(eng) == http_total, (s["states"], eng)
    assert s["driver"]["tx_dropped"] == 0 and s["driver"]["steer_ring_full"] == 0, s["driver"]
    assert s["driver"]["rx_packets"] >= stats_live["rx_packets"], (s["driver"], stats_live)
    # Every mbuf is back: the same count in use after the stop as at the start
    # (the RX rings' fill), and none once the port is closed.
    m = s["mbufs"]
    assert m["in_use_after_stop"] == m["in_use_at_start"], m
    assert m["in_use_after_close"] == 0, m
    print(f"OK: {total} connections; engine {eng['passive_opens']} passive opens; mbufs {m}")


if __name__ == "__main__":
    main()
    sys.exit(0)
