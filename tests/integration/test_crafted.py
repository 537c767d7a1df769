#!/usr/bin/env python3
"""Crafted segments from made-up clients, sent with scapy on the tap interface
while real kernel clients keep connecting.

- SYN flood: tens of thousands of SYNs from spoofed addresses in 198.18.1.0/24
  (nobody answers tcpterm's SYN-ACKs), with a small SYN queue so that it
  overflows: tcpterm answers with SYN cookies and every kernel client that
  connects during the flood completes its HTTP exchange.
- Malformed frames: truncated, bad IP and TCP checksums, bad TCP options, IP
  fragments, each dropped and counted under its own reason while tcpterm keeps
  serving.
"""
import sys

import harness as h


def frames_syn_flood(dst_mac, src_mac, n):
    """n SYN frames from 198.18.1.x:port, built once with scapy then patched (fast)."""
    from scapy.all import Ether, IP, TCP, raw
    out = []
    for i in range(n):
        src = f"198.18.1.{1 + i % 250}"
        sport = 1024 + (i // 250) % 60000
        out.append(raw(Ether(dst=dst_mac, src=src_mac) / IP(src=src, dst=h.ENGINE_IP) /
                       TCP(sport=sport, dport=80, flags="S", seq=i * 7919, window=64240,
                           options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (i, 0)),
                                    ("NOP", None), ("WScale", 7)])))
    return out


def bad_option_frame(dst_mac, src_mac, i):
    from scapy.all import Ether, IP, TCP, Raw, raw
    # TCP header of 24 bytes (doff 6) whose 4 option bytes are kind 8 with length 30: past the header.
    pkt = Ether(dst=dst_mac, src=src_mac) / IP(src="198.18.1.79", dst=h.ENGINE_IP) / \
        TCP(sport=7000 + i, dport=80, flags="S", dataofs=6, options=[]) / Raw(b"\x08\x1e\x00\x00")
    return raw(pkt.__class__(raw(pkt)))  # checksums over the option bytes


def main():
    a = h.args()
    h.check_environment(need_scapy=True)
    ns = h.Netns()
    # A small SYN queue so the flood overflows it and cookies answer (syncookies=1, Linux's default).
    t = h.Tcpterm(a.tcpterm, ns, overrides=["tcp.max_syn_backlog=256", "tcp.synack_retries=1"])
    import subprocess
    engine_mac = ns.run("ip", "neigh", "show", h.ENGINE_IP).stdout.split("lladdr")[1].split()[0]
    kernel_mac = ns.run("cat", f"/sys/class/net/{h.IFACE}/address").stdout.strip()

    flood = frames_syn_flood(engine_mac, kernel_mac, 20000)
    # Send from inside the namespace: a helper process with an AF_PACKET socket on
    # tcpterm0, which replays the flood until it is stopped.
    sender = subprocess.Popen(ns.cmd(sys.executable, "-c", _SENDER, h.IFACE, "repeat"), stdin=subprocess.PIPE)
    h.on_cleanup(lambda: sender.poll() is None and sender.kill())
    sender.stdin.write(b"".join(len(f).to_bytes(2, "big") + f for f in flood))
    sender.stdin.close()
    # Once the flood has filled the SYN queue (cookies going out), kernel clients
    # connect in rounds while it goes on; every one must be served.
    h.wait_for(lambda: t.telemetry("/tcpterm/stats")["syncookies_sent"] > 0, 60, "the flood to overflow the SYN queue")
    # At least three rounds, and until the flood has gone round once.
    rounds = 0
    while rounds < 3 or t.telemetry("/tcpterm/stats")["syncookies_sent"] < len(flood):
        assert sender.poll() is None, "the flood stopped early"
        assert rounds < 100, "the flood does not get through"
        during = h.load(ns, a.load, "http", connections=200, concurrency=20, timeout=30)
        assert during["completed"] == 200, during
        rounds += 1
    sender.terminate()
    sender.wait(timeout=30)
    st = t.telemetry("/tcpterm/stats")
    # The queue stayed full, so the kernel clients got in with cookies.
    assert st["syncookies_recv"] > 0, st

    # Malformed frames, each dropped and counted by reason.
    from scapy.all import Ether, IP, TCP, raw
    base_eth = Ether(dst=engine_mac, src=kernel_mac)
    cases = []
    for i in range(5):
        good = raw(base_eth / IP(src="198.18.1.77", dst=h.ENGINE_IP) / TCP(sport=4000 + i, dport=80, flags="S"))
        cases.append(("ip_truncated", good[:14 + 12]))
        cases.append(("ip_len_exceeds_frame", good[:14 + 20 + 10]))
        bad_ip = bytearray(good)
        bad_ip[24] ^= 0xff  # IP header checksum
        cases.append(("ip_bad_checksum", bytes(bad_ip)))
        bad_tcp = bytearray(good)
        bad_tcp[14 + 20 + 16] ^= 0xff  # TCP checksum
        cases.append(("tcp_bad_checksum", bytes(bad_tcp)))
        cases.append(("tcp_bad_option", bad_option_frame(engine_mac, kernel_mac, i)))
        cases.append(("ip_fragment", raw(base_eth / IP(src="198.18.1.78", dst=h.ENGINE_IP, flags="MF") /
                                         TCP(sport=8000 + i, dport=80, flags="S"))))
    drops_before = {k: v for k, v in t.telemetry("/tcpterm/stats").items() if k.startswith("drop_")}
    sender = subprocess.Popen(ns.cmd(sys.executable, "-c", _SENDER, h.IFACE), stdin=subprocess.PIPE)
    sender.communicate(b"".join(len(f).to_bytes(2, "big") + f for _, f in cases), timeout=60)
    after = h.load(ns, a.load, "http", connections=200, concurrency=10)
    assert after["completed"] == 200, after

    def counted():
        st = t.telemetry("/tcpterm/stats")
        got = {r: st.get("drop_" + r, 0) - drops_before.get("drop_" + r, 0) for r, _ in cases}
        return got if all(v >= 5 for v in got.values()) else None
    got = h.wait_for(counted, 5, "malformed frames counted")
    s = t.stop()
    for r in got:
        assert got[r] == 5, got
    m = s["mbufs"]
    assert m["in_use_after_stop"] == m["in_use_at_start"] and m["in_use_after_close"] == 0, m
    print(f"OK: flood of {len(flood)} distinct SYNs replayed, {s['engine']['syncookies_sent']} cookies sent, "
          f"kernel clients all served; drops {got}")


# Reads length-prefixed frames from stdin and sends them on the interface.
_SENDER = r"""
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
data = sys.stdin.buffer.read()
frames = []
i = 0
while i < len(data):
    n = int.from_bytes(data[i:i + 2], "big")
    frames.append(data[i + 2:i + 2 + n])
    i += 2 + n
# Paced at about 20000 frames per second (bursts of 100 every 5 ms): a flood
# that overflows any SYN queue, without saturating the tap link itself, so a
# kernel client's segments are not lost to a full queue (that would test the
# link, not the engine).
rate = 20000 if len(sys.argv) >= 3 else 0
t0 = time.monotonic()
sent = 0
while True:
    for f in frames:
        while True:
            try:
                s.send(f)
                break
            except OSError as e:
                if e.errno in (105, 11):  # ENOBUFS, EAGAIN: the tap queue is full, retry
                    continue
                raise
        sent += 1
        if rate and sent % 100 == 0:
            ahead = sent / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    if not rate:
        break
"""

if __name__ == "__main__":
    main()
    sys.exit(0)
