// Engine time. Nothing in engine/ reads a clock: the driver passes the current
// time in as nanoseconds since an arbitrary origin, and tests pass virtual time.
#pragma once

#include <cstdint>

namespace tcpterm {

using Nanos = uint64_t;

inline constexpr Nanos kMicrosecond = 1'000;
inline constexpr Nanos kMillisecond = 1'000'000;
inline constexpr Nanos kSecond = 1'000'000'000;

constexpr Nanos seconds(uint64_t s) { return s * kSecond; }
constexpr Nanos millis(uint64_t ms) { return ms * kMillisecond; }
constexpr Nanos micros(uint64_t us) { return us * kMicrosecond; }

}  // namespace tcpterm
