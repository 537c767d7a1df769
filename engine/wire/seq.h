// TCP sequence numbers (RFC 793 section 3.3, RFC 1982 serial arithmetic).
// A sequence number is its own type so that a plain `<` on two wrapping 32-bit
// values cannot be written by mistake: comparisons go through the signed
// difference, which is right as long as the two are less than 2^31 apart
// (Linux's before()/after()).
#pragma once

#include <cstdint>

namespace tcpterm {

constexpr bool seq_lt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
constexpr bool seq_leq(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }
constexpr bool seq_gt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) > 0; }
constexpr bool seq_geq(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) >= 0; }

struct Seq {
  uint32_t v;

  constexpr Seq operator+(uint32_t n) const { return Seq{v + n}; }
  constexpr Seq operator-(uint32_t n) const { return Seq{v - n}; }
  constexpr Seq& operator+=(uint32_t n) { v += n; return *this; }
  constexpr Seq& operator-=(uint32_t n) { v -= n; return *this; }
  // Signed distance: a - b > 0 means a is after b.
  friend constexpr int32_t operator-(Seq a, Seq b) { return static_cast<int32_t>(a.v - b.v); }
  friend constexpr bool operator==(Seq a, Seq b) { return a.v == b.v; }
  friend constexpr bool operator<(Seq a, Seq b) { return seq_lt(a.v, b.v); }
  friend constexpr bool operator<=(Seq a, Seq b) { return seq_leq(a.v, b.v); }
  friend constexpr bool operator>(Seq a, Seq b) { return seq_gt(a.v, b.v); }
  friend constexpr bool operator>=(Seq a, Seq b) { return seq_geq(a.v, b.v); }
};

// start <= x < start + len, modulo 2^32 (len 0 is the empty window).
constexpr bool seq_in_window(Seq x, Seq start, uint32_t len) { return x.v - start.v < len; }

}  // namespace tcpterm
