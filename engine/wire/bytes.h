// Big-endian loads and stores at any alignment. memcpy plus a byte swap: the
// compiler turns each into one mov (+ bswap/movbe), and there is no aliasing or
// alignment undefined behaviour, which a cast to uint32_t* would have on a
// frame whose IP header starts at offset 14.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace tcpterm {

static_assert(std::endian::native == std::endian::little, "tcpterm assumes a little-endian host");

inline uint16_t load_be16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}

inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}

inline void store_be16(uint8_t* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof v);
}

inline void store_be32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}

}  // namespace tcpterm
