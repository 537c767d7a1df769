// SipHash-2-4 (Aumasson and Bernstein, 2012): the keyed hash behind the ISN
// (RFC 6528), SYN cookies and timestamp offsets, as in Linux (lib/siphash.c).
//
// A PRF keyed with a secret drawn at start-up makes sequence numbers and
// cookies unpredictable to an off-path attacker, at ~20 ns for a 4-tuple.
// The byte-oriented siphash24() follows the reference code; the fixed-width
// variants (Linux's siphash_2u32/3u32/4u32) hash whole 32-bit words with the
// message length known at compile time, no loop and no tail switch, and give
// the same result as siphash24() over the words' little-endian bytes.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace tcpterm {

struct SipKey {
  uint64_t k0, k1;
};

// Reference SipHash-2-4 over len bytes at data (key bytes 0..7 are k0, little-endian).
uint64_t siphash24(const SipKey& key, const void* data, size_t len);

namespace sip_detail {

struct State {
  uint64_t v0, v1, v2, v3;
  explicit constexpr State(const SipKey& k)
      : v0(k.k0 ^ 0x736f6d6570736575ULL),
        v1(k.k1 ^ 0x646f72616e646f6dULL),
        v2(k.k0 ^ 0x6c7967656e657261ULL),
        v3(k.k1 ^ 0x7465646279746573ULL) {}
  constexpr void round() {
    v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
    v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
  }
  constexpr void block(uint64_t m) {  // c = 2 compression rounds
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  constexpr uint64_t finish(uint64_t last) {  // last block (length byte on top), d = 4 rounds
    block(last);
    v2 ^= 0xff;
    round();
    round();
    round();
    round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};

}  // namespace sip_detail

// Fixed-width variants: siphash24_2u32(k, a, b) == siphash24(k, {a, b as little-endian}, 8).
constexpr uint64_t siphash24_2u32(const SipKey& key, uint32_t a, uint32_t b) {
  sip_detail::State s(key);
  s.block(uint64_t{a} | (uint64_t{b} << 32));
  return s.finish(uint64_t{8} << 56);
}

constexpr uint64_t siphash24_3u32(const SipKey& key, uint32_t a, uint32_t b, uint32_t c) {
  sip_detail::State s(key);
  s.block(uint64_t{a} | (uint64_t{b} << 32));
  return s.finish((uint64_t{12} << 56) | c);
}

constexpr uint64_t siphash24_4u32(const SipKey& key, uint32_t a, uint32_t b, uint32_t c,
                                  uint32_t d) {
  sip_detail::State s(key);
  s.block(uint64_t{a} | (uint64_t{b} << 32));
  s.block(uint64_t{c} | (uint64_t{d} << 32));
  return s.finish(uint64_t{16} << 56);
}

}  // namespace tcpterm
