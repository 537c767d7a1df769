// Initial sequence numbers per RFC 6528 and per-connection timestamp offsets.
//
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//
// M is a 4-microsecond clock (RFC 793's ISN clock; Linux uses 64 ns), F is
// SipHash-2-4 of the 4-tuple under a key drawn at start-up (Linux's
// secure_tcp_seq, net/core/secure_seq.c). For one 4-tuple successive ISNs
// therefore grow with time (a new incarnation's sequence numbers lie above
// the old one's, which RFC 6191 TIME_WAIT reuse relies on), while different
// 4-tuples and different keys start at unrelated points, so an off-path
// attacker cannot guess them. M wraps every 2^32 * 4 us (4.77 hours); ISNs
// are compared in sequence space, so the wrap is harmless.
//
// ts_offset() is Linux's secure_tcp_ts_off: a keyed hash of the address pair
// added to our TSval so that the timestamp clock reveals no uptime and is
// monotonic per address pair. It uses a second key derived from the first.
//
// Both are computed once per connection (on the SYN); nothing is stored.
#pragma once

#include <cstdint>

#include "engine/flow/flow_key.h"
#include "engine/tcp/siphash.h"
#include "engine/timer/time.h"
#include "engine/wire/types.h"

namespace tcpterm {

class IsnGenerator {
 public:
  static constexpr Nanos kClockTick = 4 * kMicrosecond;  // RFC 6528's M: one tick per 4 us

  explicit IsnGenerator(SipKey key);

  uint32_t isn(const FlowKey& k, Nanos now) const { return clock(now) + hash(k); }
  uint32_t ts_offset(Ipv4Addr laddr, Ipv4Addr raddr) const {
    return static_cast<uint32_t>(siphash24_2u32(ts_key_, laddr, raddr));
  }

  // M(now): the 4-microsecond clock, modulo 2^32.
  static constexpr uint32_t clock(Nanos now) { return static_cast<uint32_t>(now / kClockTick); }
  // F(4-tuple, key), the offset of this 4-tuple's sequence space.
  uint32_t hash(const FlowKey& k) const {
    return static_cast<uint32_t>(siphash24_3u32(
        key_, k.laddr, k.raddr, (static_cast<uint32_t>(k.lport) << 16) | k.rport));
  }

 private:
  SipKey key_;
  SipKey ts_key_;
};

}  // namespace tcpterm
