// Internet checksum inner loop. See checksum.h for the method; this file keeps
// the loop out of line because it is the only part with a length-dependent shape.
#include "engine/wire/checksum.h"

#include <cstring>

namespace tcpterm {

namespace {

// a + b with the carry wrapped around (ones' complement addition in 64 bits).
inline uint64_t add_wrap(uint64_t a, uint64_t b) {
  uint64_t r;
  r = a + b;
  return r + (r < b);
}

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

uint32_t csum_add(uint32_t sum, const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  // Four independent carry chains per 32 bytes.
  while (len >= 32) {
    a0 = add_wrap(a0, load64(p));
    a1 = add_wrap(a1, load64(p + 8));
    a2 = add_wrap(a2, load64(p + 16));
    a3 = add_wrap(a3, load64(p + 24));
    p += 32;
    len -= 32;
  }
  a0 = add_wrap(a0, a1);
  a2 = add_wrap(a2, a3);
  a0 = add_wrap(a0, a2);
  while (len >= 8) {
    a0 = add_wrap(a0, load64(p));
    p += 8;
    len -= 8;
  }
  // 0..7 bytes left: gather them into one zero-padded little-endian word. The
  // position of each byte within the word keeps its 16-bit lane, so an odd last
  // byte lands in the low (first) byte of its lane: the zero pad of RFC 1071.
  if (len != 0) {
    uint64_t t = 0;
    if (len & 4) {
      uint32_t w;
      std::memcpy(&w, p, 4);
      t = w;
      p += 4;
    }
    if (len & 2) {
      uint16_t w;
      std::memcpy(&w, p, 2);
      t |= uint64_t{w} << ((len & 4) * 8);
      p += 2;
    }
    if (len & 1) t |= uint64_t{*p} << ((len & 6) * 8);
    a0 = add_wrap(a0, t);
  }
  // Fold 64 -> 16 bits (native order), then swap into big-endian word order.
  uint64_t s = (a0 & 0xffffffff) + (a0 >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  uint32_t be = __builtin_bswap16(static_cast<uint16_t>(s));
  uint64_t r = uint64_t{sum} + be;
  return static_cast<uint32_t>((r & 0xffffffff) + (r >> 32));
}

}  // namespace tcpterm
