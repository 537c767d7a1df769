// SipHash-2-4 over a byte string: the reference algorithm (see siphash.h).
// Blocks are read with memcpy (no alignment assumption) as little-endian
// words, whatever the host's byte order.
#include "engine/tcp/siphash.h"

#include <cstring>

namespace tcpterm {

namespace {

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

}  // namespace

uint64_t siphash24(const SipKey& key, const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  sip_detail::State s(key);
  const size_t full = len & ~size_t{7};
  for (size_t i = 0; i < full; i += 8) s.block(load_le64(p + i));
  uint64_t last = static_cast<uint64_t>(len & 0xff) << 56;
  for (size_t i = 0; i < (len & 7); ++i) last |= uint64_t{p[full + i]} << (8 * i);
  return s.finish(last);
}

}  // namespace tcpterm
