// The flow hash: the specialised SipHash-1-3 against a plain reference
// implementation of SipHash-c-d (itself checked against the SipHash paper's
// SipHash-2-4 vectors), and the seed behaviour the table relies on.
#include "engine/flow/flow_hash.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <vector>

namespace tcpterm {
namespace {

// Straight from the SipHash specification: any message length, c compression
// and d finalisation rounds, little-endian words.
uint64_t ref_siphash(int c, int d, uint64_t k0, uint64_t k1, const uint8_t* m, size_t len) {
  auto rotl = [](uint64_t x, int b) { return (x << b) | (x >> (64 - b)); };
  uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
  uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
  auto sipround = [&] {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  };
  auto le64 = [](const uint8_t* p, size_t n) {
    uint64_t w = 0;
    for (size_t i = 0; i < n; ++i) w |= uint64_t{p[i]} << (8 * i);
    return w;
  };
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    const uint64_t w = le64(m + i, 8);
    v3 ^= w;
    for (int r = 0; r < c; ++r) sipround();
    v0 ^= w;
  }
  const uint64_t b = (uint64_t{len & 0xff} << 56) | le64(m + i, len - i);
  v3 ^= b;
  for (int r = 0; r < c; ++r) sipround();
  v0 ^= b;
  v2 ^= 0xff;
  for (int r = 0; r < d; ++r) sipround();
  return v0 ^ v1 ^ v2 ^ v3;
}

constexpr uint64_t kPaperK0 = 0x0706050403020100ULL;  // key bytes 00 01 .. 0f
constexpr uint64_t kPaperK1 = 0x0f0e0d0c0b0a0908ULL;

TEST(FlowHash, ReferenceMatchesSipHashPaperVectors) {
  uint8_t msg[15];
  for (int i = 0; i < 15; ++i) msg[i] = static_cast<uint8_t>(i);
  // Appendix A of the SipHash paper: 15-byte message 00..0e.
  EXPECT_EQ(ref_siphash(2, 4, kPaperK0, kPaperK1, msg, 15), 0xa129ca6149be45e5ULL);
  // First entry of the reference vectors.h (empty message).
  EXPECT_EQ(ref_siphash(2, 4, kPaperK0, kPaperK1, msg, 0), 0x726fdb47dd0e0e31ULL);
}

TEST(FlowHash, SpecialisedMatchesReferenceSipHash13) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t k0 = rng(), k1 = rng();
    FlowKey key{static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()),
                static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng())};
    uint8_t bytes[12];
    std::memcpy(bytes, &key, 12);
    ASSERT_EQ(FlowHasher(k0, k1)(key), ref_siphash(1, 3, k0, k1, bytes, 12)) << i;
  }
  // And one fixed value, so a change to the reference cannot hide a change here.
  uint8_t msg[12];
  for (int i = 0; i < 12; ++i) msg[i] = static_cast<uint8_t>(i);
  FlowKey k;
  std::memcpy(&k, msg, 12);
  EXPECT_EQ(FlowHasher(kPaperK0, kPaperK1)(k), ref_siphash(1, 3, kPaperK0, kPaperK1, msg, 12));
  EXPECT_NE(FlowHasher(kPaperK0, kPaperK1)(k), ref_siphash(2, 4, kPaperK0, kPaperK1, msg, 12));
}

TEST(FlowHash, SameSeedSameHashDifferentSeedDifferentHash) {
  const FlowHasher a = FlowHasher::from_seed(1), a2 = FlowHasher::from_seed(1);
  const FlowHasher b = FlowHasher::from_seed(2);
  int equal_ab = 0;
  for (uint32_t i = 0; i < 10000; ++i) {
    const FlowKey key{0x0a000001 + i, 0xc0a80001, static_cast<uint16_t>(1024 + i), 80};
    ASSERT_EQ(a(key), a2(key));
    equal_ab += a(key) == b(key);
  }
  EXPECT_EQ(equal_ab, 0);
}

TEST(FlowHash, EveryFieldAndBitMatters) {
  // Flipping any one of the 96 key bits changes about half the output bits.
  const FlowHasher h = FlowHasher::from_seed(0xfeedface);
  const FlowKey base{0x0a000001, 0xc0a80001, 40000, 443};
  uint8_t bytes[12];
  std::memcpy(bytes, &base, 12);
  for (int bit = 0; bit < 96; ++bit) {
    uint8_t flipped[12];
    std::memcpy(flipped, bytes, 12);
    flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    FlowKey k;
    std::memcpy(&k, flipped, 12);
    const int changed = __builtin_popcountll(h(k) ^ h(base));
    EXPECT_GE(changed, 16) << "bit " << bit;
    EXPECT_LE(changed, 48) << "bit " << bit;
  }
}

}  // namespace
}  // namespace tcpterm
