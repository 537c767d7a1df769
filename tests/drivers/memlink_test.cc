// MemLink tests: frames cross in order per direction, the ring tail-drops
// when full, and each fault does exactly what it says, deterministically
// for a seed, with counters that add up.
#include "drivers/memlink/memlink.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace tcpterm {
namespace {

using Side = MemLink::Side;

// A frame whose first 4 bytes carry its number and whose length varies.
std::vector<uint8_t> frame(uint32_t n, size_t len = 64) {
  std::vector<uint8_t> f(len);
  for (size_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(n * 7 + i);
  f[0] = static_cast<uint8_t>(n);
  f[1] = static_cast<uint8_t>(n >> 8);
  f[2] = static_cast<uint8_t>(n >> 16);
  f[3] = static_cast<uint8_t>(n >> 24);
  return f;
}

bool send(MemLink& l, Side from, uint32_t n, size_t len = 64) {
  const auto f = frame(n, len);
  return l.send(from, f.data(), f.size());
}

// Numbers of all frames waiting at `at`, in order; checks their bytes.
std::vector<uint32_t> drain(MemLink& l, Side at) {
  std::vector<uint32_t> out;
  uint8_t buf[MemLink::kFrameCap];
  while (size_t len = l.recv(at, buf)) {
    const uint32_t n = buf[0] | (buf[1] << 8) | (buf[2] << 16) | (static_cast<uint32_t>(buf[3]) << 24);
    const auto want = frame(n, len);
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + len), want) << "frame " << n;
    out.push_back(n);
  }
  return out;
}

TEST(MemLink, FramesCrossInOrderPerDirection) {
  MemLink l(8, 1);
  EXPECT_EQ(l.depth(), 8u);
  EXPECT_TRUE(send(l, Side::a, 1, 60));
  EXPECT_TRUE(send(l, Side::b, 100, 1514));
  EXPECT_TRUE(send(l, Side::a, 2, 2048));
  EXPECT_EQ(l.pending(Side::b), 2u);
  EXPECT_EQ(l.pending(Side::a), 1u);
  EXPECT_EQ(drain(l, Side::b), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(drain(l, Side::a), std::vector<uint32_t>{100});
  uint8_t buf[MemLink::kFrameCap];
  EXPECT_EQ(l.recv(Side::a, buf), 0u);
  EXPECT_EQ(l.counters(Side::a).offered, 2u);
  EXPECT_EQ(l.counters(Side::a).queued, 2u);
  EXPECT_EQ(l.counters(Side::a).received, 2u);
  EXPECT_EQ(l.counters(Side::a).bytes_offered, 60u + 2048u);
  EXPECT_EQ(l.counters(Side::b).received, 1u);
}

TEST(MemLink, PeekPopIsZeroCopy) {
  MemLink l(4, 1);
  send(l, Side::a, 7, 100);
  size_t len = 0;
  const uint8_t* p = l.peek(Side::b, &len);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(len, 100u);
  EXPECT_EQ(p[0], 7);
  EXPECT_EQ(l.peek(Side::b, &len), p);  // peeking does not consume
  l.pop(Side::b);
  EXPECT_EQ(l.peek(Side::b, &len), nullptr);
  EXPECT_EQ(len, 0u);
  l.pop(Side::b);  // popping an empty ring is harmless
  EXPECT_EQ(l.counters(Side::a).received, 1u);
}

TEST(MemLink, FullRingTailDropsAndBadLengthsAreRefused) {
  MemLink l(3, 1);  // rounded up to 4
  EXPECT_EQ(l.depth(), 4u);
  for (uint32_t i = 1; i <= 4; ++i) EXPECT_TRUE(send(l, Side::a, i));
  EXPECT_FALSE(send(l, Side::a, 5));
  EXPECT_EQ(l.counters(Side::a).dropped_full, 1u);
  const uint8_t big[MemLink::kFrameCap + 1] = {};
  EXPECT_FALSE(l.send(Side::a, big, sizeof(big)));
  EXPECT_FALSE(l.send(Side::a, big, 0));
  EXPECT_EQ(l.counters(Side::a).dropped_bad_length, 2u);
  EXPECT_EQ(drain(l, Side::b), (std::vector<uint32_t>{1, 2, 3, 4}));
  // The ring wraps and keeps working.
  for (uint32_t round = 0; round < 5; ++round) {
    for (uint32_t i = 0; i < 3; ++i) send(l, Side::a, 10 * round + i);
    EXPECT_EQ(drain(l, Side::b), (std::vector<uint32_t>{10 * round, 10 * round + 1, 10 * round + 2}));
  }
}

TEST(MemLink, DropNthAndEvery) {
  MemLink l(64, 1);
  MemLink::Faults f;
  f.drop_nth = 2;
  l.set_faults(Side::a, f);
  for (uint32_t i = 1; i <= 5; ++i) EXPECT_TRUE(send(l, Side::a, i));  // a drop is silent
  EXPECT_EQ(drain(l, Side::b), (std::vector<uint32_t>{1, 3, 4, 5}));
  EXPECT_EQ(l.counters(Side::a).dropped, 1u);
  f = {};
  f.drop_every = 3;
  l.set_faults(Side::a, f);  // numbering restarts
  for (uint32_t i = 1; i <= 7; ++i) send(l, Side::a, i);
  EXPECT_EQ(drain(l, Side::b), (std::vector<uint32_t>{1, 2, 4, 5, 7}));
  EXPECT_EQ(l.counters(Side::a).dropped, 3u);
  // The other direction is untouched.
  for (uint32_t i = 1; i <= 7; ++i) send(l, Side::b, i);
  EXPECT_EQ(drain(l, Side::a).size(), 7u);
}

TEST(MemLink, DuplicateDeliversTwiceBackToBack) {
  MemLink l(64, 1);
  MemLink::Faults f;
  f.duplicate_nth = 2;
  l.set_faults(Side::b, f);
  for (uint32_t i = 1; i <= 3; ++i) send(l, Side::b, i);
  EXPECT_EQ(drain(l, Side::a), (std::vector<uint32_t>{1, 2, 2, 3}));
  EXPECT_EQ(l.counters(Side::b).duplicated, 1u);
  EXPECT_EQ(l.counters(Side::b).queued, 4u);
}

TEST(MemLink, ReorderHoldsOneFrameBehindTheNext) {
  MemLink l(64, 1);
  MemLink::Faults f;
  f.reorder_nth = 1;
  l.set_faults(Side::a, f);
  send(l, Side::a, 1);
  EXPECT_TRUE(l.holding(Side::a));
  EXPECT_EQ(l.pending(Side::b), 0u);  // held: not visible yet
  send(l, Side::a, 2);
  send(l, Side::a, 3);
  EXPECT_EQ(drain(l, Side::b), (std::vector<uint32_t>{2, 1, 3}));
  EXPECT_EQ(l.counters(Side::a).reordered, 1u);
  // Every other frame held back: pairs swap.
  f = {};
  f.reorder_every = 2;
  l.set_faults(Side::a, f);
  for (uint32_t i = 1; i <= 6; ++i) send(l, Side::a, i);
  EXPECT_EQ(drain(l, Side::b), (std::vector<uint32_t>{1, 3, 2, 5, 4}));
  EXPECT_TRUE(l.holding(Side::a));  // 6 waits for a successor...
  EXPECT_TRUE(l.release_held(Side::a));  // ... or an explicit release
  EXPECT_FALSE(l.release_held(Side::a));
  EXPECT_EQ(drain(l, Side::b), std::vector<uint32_t>{6});
}

// Probabilistic faults: deterministic per seed, roughly the asked rate, and
// the counters account for every frame.
TEST(MemLink, ProbabilisticFaultsAreSeededAndAccounted) {
  auto run = [](uint64_t seed) {
    MemLink l(4096, seed);
    MemLink::Faults f;
    f.drop_probability = 0.1;
    f.duplicate_probability = 0.05;
    f.reorder_probability = 0.05;
    l.set_faults(Side::a, f);
    std::vector<uint32_t> got;
    for (uint32_t i = 1; i <= 2000; ++i) {
      send(l, Side::a, i);
      if (i % 100 == 0) {
        auto part = drain(l, Side::b);
        got.insert(got.end(), part.begin(), part.end());
      }
    }
    l.release_held(Side::a);
    auto part = drain(l, Side::b);
    got.insert(got.end(), part.begin(), part.end());
    const auto& c = l.counters(Side::a);
    EXPECT_EQ(c.offered, 2000u);
    EXPECT_EQ(c.queued, got.size());
    EXPECT_EQ(c.received, got.size());
    EXPECT_EQ(c.dropped_full, 0u);
    // Every offered frame was dropped or delivered, duplicates on top.
    EXPECT_EQ(c.offered - c.dropped + c.duplicated, got.size());
    EXPECT_GT(c.dropped, 140u);  // ~200 expected
    EXPECT_LT(c.dropped, 260u);
    EXPECT_GT(c.duplicated, 50u);  // ~90 expected
    EXPECT_LT(c.duplicated, 140u);
    EXPECT_GT(c.reordered, 50u);
    EXPECT_LT(c.reordered, 140u);
    return got;
  };
  const auto a1 = run(42);
  const auto a2 = run(42);
  const auto b = run(43);
  EXPECT_EQ(a1, a2);
  EXPECT_NE(a1, b);
}

}  // namespace
}  // namespace tcpterm
