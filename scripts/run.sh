#!/usr/bin/env bash
# The main job. Until the DPDK runtime lands (issue 4) this builds everything and
# runs the benchmark suite, printing its table of medians.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/bench.sh "${1:-5}"
