#!/usr/bin/env bash
# The real job on net_tap: tcpterm terminating the Linux kernel's connections.
#
# Sets itself up (scripts/setup.sh: packages, build), creates a private network
# namespace, starts build/tcpterm there on its embedded config (config/tap.toml:
# one net_tap port whose kernel side is tcpterm0, engine 198.18.0.2, listeners
# http:80, echo:7, discard:9, --no-huge, idle back-off on), gives the kernel side
# 198.18.0.1/24 and drives tcpterm with the kernel's own TCP stack through the
# project's load client (build/tests/integration/tcpterm-load): thousands of HTTP
# connections, echo with half-close, discard, abortive closes. tcpterm prints
# its statistics every second while it runs; at the end both sides' state
# distributions are shown (tcpterm's, and `ss -tan` in the namespace, counted
# like the seeds' netstat|awk). Everything it made is removed on exit, also on
# Ctrl-C or an error. Traffic never leaves the namespace.
#
# Usage: scripts/tap_demo.sh [HTTP_CONNECTIONS]   (default 20000); needs root.
# TCPTERM_BUILD=dir uses another build directory; TCPTERM_NO_SETUP=1 skips setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
n_http=${1:-20000}
build=${TCPTERM_BUILD:-build}

if [ "$(id -u)" -ne 0 ]; then
  echo "tap_demo: needs root (network namespaces and net_tap); try: sudo $0 $*" >&2
  exit 1
fi
[ "${TCPTERM_NO_SETUP:-}" = 1 ] || scripts/setup.sh >/dev/null

ns="tcpterm-demo-$$"
prefix="tcpterm_demo_$$"
log=$(mktemp)
stats_json=$(mktemp)
tcpterm_pid=""
cleanup() {
  set +e
  if [ -n "$tcpterm_pid" ] && kill -0 "$tcpterm_pid" 2>/dev/null; then
    kill -TERM "$tcpterm_pid"
    for _ in $(seq 100); do kill -0 "$tcpterm_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$tcpterm_pid" 2>/dev/null
    wait "$tcpterm_pid" 2>/dev/null
  fi
  ip netns del "$ns" 2>/dev/null
  rm -rf "/var/run/dpdk/$prefix" "$log" "$stats_json"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { ip netns exec "$ns" "$@"; }
load() { in_ns "$build"/tests/integration/tcpterm-load --addr 198.18.0.2 "$@"; }

echo "== network namespace $ns; tcpterm on net_tap (kernel side: tcpterm0)"
ip netns add "$ns"
in_ns ip link set lo up
# `ip netns exec` execs tcpterm, so $! is tcpterm itself (SIGTERM reaches it).
ip netns exec "$ns" "$build"/tcpterm --file-prefix "$prefix" -- --stats-interval 1 --stats-json "$stats_json" \
  >"$log" 2>&1 &
tcpterm_pid=$!
tail -n +1 -f "$log" --pid "$tcpterm_pid" | sed -u 's/^/  tcpterm | /' &
for _ in $(seq 300); do in_ns ip link show tcpterm0 >/dev/null 2>&1 && break; sleep 0.1; done
if ! in_ns ip link show tcpterm0 >/dev/null 2>&1; then
  echo "tap_demo: tcpterm did not create tcpterm0; its output:" >&2
  cat "$log" >&2
  exit 1
fi
in_ns sysctl -qw net.ipv6.conf.tcpterm0.disable_ipv6=1
in_ns ip addr add 198.18.0.1/24 dev tcpterm0
in_ns ip link set tcpterm0 up
# Ready when a TCP connection to the http listener completes (ARP resolved, loop polling).
ready=0
for _ in $(seq 100); do
  if load --port 80 --mode http --connections 1 --concurrency 1 --timeout 1 >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[ "$ready" = 1 ] || { echo "tap_demo: tcpterm does not answer on 198.18.0.2:80" >&2; exit 1; }

echo "== $n_http HTTP connections from the kernel (200 concurrent, 2 threads; tcpterm closes first)"
load --port 80 --mode http --connections "$n_http" --concurrency 200 --threads 2
echo "== 2000 echo connections with shutdown(SHUT_WR) half-close, 4 KB each way"
load --port 7 --mode echo --connections 2000 --concurrency 100 --payload 4096
echo "== 2000 discard connections (the kernel closes first)"
load --port 9 --mode discard --connections 2000 --concurrency 100 --payload 1000
echo "== 1000 abortive closes (SO_LINGER 0: RST)"
load --port 80 --mode rst --connections 1000 --concurrency 50
sleep 2.5  # two more statistics lines

echo "== state distribution, kernel side (ss -tan in $ns)"
in_ns ss -tanH | awk '{sum[$1]++} END {for (s in sum) printf "  %-20s %d\n", s, sum[s]}'
kill -TERM "$tcpterm_pid"
stop_rc=0
wait "$tcpterm_pid" || stop_rc=$?
tcpterm_pid=""
if [ "$stop_rc" -ne 0 ]; then
  echo "tap_demo: tcpterm exited with status $stop_rc" >&2
  exit 1
fi
sleep 0.2
echo "== tcpterm's summary (--stats-json)"
/usr/bin/python3 - "$stats_json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
e, d, m = s["engine"], s["driver"], s["mbufs"]
print(f"  passive opens {e['passive_opens']}, established {e['established']}, http requests {e['http_requests']}, "
      f"RSTs received {e['rsts_received']}, TIME_WAIT recycled {e['time_wait_recycled']}")
print(f"  frames rx {d['rx_packets']} tx {d['tx_packets']}, idle sleeps {d['idle_sleeps']}")
print("  state distribution, tcpterm side:")
for k, v in s["states"].items():
    if v:
        print(f"    {k:<20} {v}")
drops = {k: v for k, v in s["drops"].items() if v}
print(f"  drops by reason: {drops or 'none'}")
print(f"  mbufs in use: {m['in_use_at_start']} at start, {m['in_use_after_stop']} after stop, "
      f"{m['in_use_after_close']} after closing the port (of {m['total']})")
PY
echo "== removing namespace $ns"
