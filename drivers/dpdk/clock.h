// TSC to engine time. The engine takes time as an argument (engine/timer/time.h);
// each poll loop reads the TSC once per iteration and converts it here with a
// multiply and a 64x64->128 multiply-high (no division on the packet path): the
// ratio 1e9/hz is kept as an integer part and a 64-bit fraction rounded up, so
// whole seconds of cycles convert exactly and the drift is below a nanosecond
// per century. The origin is
// the runtime's start, so engine time starts near zero on every lcore alike.
#pragma once

#include <cstdint>

#include "engine/timer/time.h"

namespace tcpterm::dpdk {

class TscClock {
 public:
  TscClock() = default;
  // hz: rte_get_tsc_hz(); origin: the TSC value that maps to time 0.
  TscClock(uint64_t hz, uint64_t origin) : origin_(origin) {
    whole_ = kSecond / hz;
    const u128 rem = kSecond % hz;
    frac_ = static_cast<uint64_t>(((rem << 64) + hz - 1) / hz);  // ceil(rem * 2^64 / hz)
  }
  Nanos to_nanos(uint64_t tsc) const {
    const uint64_t cycles = tsc - origin_;
    return cycles * whole_ + static_cast<Nanos>((static_cast<u128>(cycles) * frac_) >> 64);
  }

 private:
  __extension__ typedef unsigned __int128 u128;
  uint64_t origin_ = 0;
  uint64_t whole_ = 0;  // integer part of 1e9 / hz
  uint64_t frac_ = 0;   // fractional part, in units of 2^-64
};

}  // namespace tcpterm::dpdk
