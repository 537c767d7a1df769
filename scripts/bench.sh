#!/usr/bin/env bash
# Runs every Google Benchmark suite in build/ and prints one table of medians.
# Usage: scripts/bench.sh [REPETITIONS]   (default 5; the median of the repetitions is shown)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for exe in build/bench/bench_*; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue  # skip meson's *.p object dirs
  name=$(basename "$exe")
  echo "running $name ($reps repetitions)..." >&2
  "$exe" --benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true \
    --benchmark_format=json --benchmark_out="$out/$name.json" --benchmark_out_format=json >/dev/null
done
python3 scripts/bench_table.py "$out"/*.json
