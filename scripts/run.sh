#!/usr/bin/env bash
# The main job: tcpterm on net_tap terminating the Linux kernel's connections in a
# private network namespace, with live statistics and both sides' state
# distributions at the end (scripts/tap_demo.sh; it sets itself up and removes
# everything it made). Needs root. The benchmark table is scripts/bench.sh.
# Usage: scripts/run.sh [HTTP_CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/tap_demo.sh "$@"
