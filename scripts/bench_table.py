#!/usr/bin/env python3
"""Prints the medians of Google Benchmark JSON files as one table."""
import json
import sys


def fmt_counter(name, value):
    if name.endswith("bytes") or name.startswith("bytes"):
        return f"{name}={value:.0f}"
    if abs(value) >= 1e6:
        return f"{name}={value / 1e6:.2f}M"
    if abs(value) >= 1e3:
        return f"{name}={value / 1e3:.1f}k"
    return f"{name}={value:.3g}"


def main(paths):
    rows = []
    seen_errors = set()
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        ctx = doc.get("context", {})
        for b in doc["benchmarks"]:
            if b.get("error_occurred"):
                # A skipped benchmark (e.g. no DPDK port) reports its reason, not a time.
                name = b.get("run_name", b["name"])
                if name not in seen_errors:
                    seen_errors.add(name)
                    rows.append((name, "skipped", b.get("error_message", "")))
                continue
            if b.get("aggregate_name", "median") != "median":
                continue
            name = b.get("run_name", b["name"]).removesuffix("_median")
            skip = {"name", "run_name", "run_type", "repetitions", "repetition_index",
                    "threads", "iterations", "real_time", "cpu_time", "time_unit",
                    "aggregate_name", "aggregate_unit", "family_index",
                    "per_family_instance_index", "label", "error_occurred", "error_message"}
            counters = [fmt_counter(k, v) for k, v in b.items()
                        if k not in skip and isinstance(v, (int, float))]
            unit = b.get("time_unit", "ns")
            rows.append((name, f"{b['cpu_time']:.1f} {unit}", " ".join(counters)))
    if not rows:
        print("no benchmark results")
        return 1
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"host: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} cpus @ "
          f"{ctx.get('mhz_per_cpu', '?')} MHz; median of repetitions, cpu time per iteration")
    print(f"{'benchmark':<{w0}}  {'time':>{w1}}  counters")
    for r in rows:
        print(f"{r[0]:<{w0}}  {r[1]:>{w1}}  {r[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
