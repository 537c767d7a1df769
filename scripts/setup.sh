#!/usr/bin/env bash
# Installs what tcpterm needs from Debian 12's packages (only what is missing),
# then configures and compiles the release build (build/) and, with --asan,
# the AddressSanitizer+UndefinedBehaviorSanitizer build (build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ pkg-config meson ninja-build          # toolchain
  libdpdk-dev dpdk                          # packet I/O (drivers/dpdk), dpdk-telemetry.py
  libtbb-dev                                # threads off the packet path
  libgtest-dev libbenchmark-dev             # tests/ and bench/
  libtomlplusplus-dev                       # config/
  python3 python3-scapy iproute2 procps     # integration tests and the net_tap run: scapy, ip/ss, sysctl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

werror=false
[ -n "${CI:-}" ] && werror=true

configure() {  # dir, extra meson options...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" -Dwerror=$werror "$@" >/dev/null
  else
    meson setup "$dir" -Dwerror=$werror "$@"
  fi
}

jobs=$(nproc)
configure build
ninja -C build -j"$jobs"
if [ "${1:-}" = "--asan" ]; then
  # Benchmarks are not built here: sanitizers make their figures meaningless.
  configure build-asan -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
    -Db_lundef=false -Dbenchmarks=false
  ninja -C build-asan -j"$jobs"
fi
