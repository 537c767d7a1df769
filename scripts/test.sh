#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, then every suite (GoogleTest, and the
# net_tap integration tests, which need root and skip with the reason otherwise) in
# the release build and again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --asan

status=0
meson test -C build --print-errorlogs --num-processes 2 || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C build-asan --print-errorlogs --num-processes 2 || status=1

# One closing line over both builds, counted from meson's own logs.
python3 - <<'PY'
import json
passed = failed = skipped = 0
for d in ("build", "build-asan"):
    with open(f"{d}/meson-logs/testlog.json") as f:
        for line in f:
            r = json.loads(line)["result"]
            if r in ("OK", "EXPECTEDFAIL"): passed += 1
            elif r == "SKIP": skipped += 1
            else: failed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
