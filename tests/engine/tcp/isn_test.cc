// RFC 6528 ISNs: ISN = M + F(4-tuple, key) with M a 4-microsecond clock.
#include "engine/tcp/isn.h"

#include <gtest/gtest.h>

#include <set>

#include "engine/wire/seq.h"

namespace tcpterm {
namespace {

constexpr SipKey kKey{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
const FlowKey kTuple{0xc0a80001, 0x0a000001, 40000, 80};

TEST(Isn, IsClockPlusKeyedHashOfTheTuple) {
  const IsnGenerator g(kKey);
  const uint32_t f = static_cast<uint32_t>(
      siphash24_3u32(kKey, kTuple.laddr, kTuple.raddr, (uint32_t{kTuple.lport} << 16) | kTuple.rport));
  EXPECT_EQ(g.hash(kTuple), f);
  EXPECT_EQ(g.isn(kTuple, 0), f);
  EXPECT_EQ(g.isn(kTuple, micros(4)), f + 1);
  EXPECT_EQ(g.isn(kTuple, micros(7)), f + 1);  // 4 us resolution
  EXPECT_EQ(g.isn(kTuple, seconds(1)), f + 250'000);
}

TEST(Isn, ClockTicksEveryFourMicroseconds) {
  EXPECT_EQ(IsnGenerator::clock(0), 0u);
  EXPECT_EQ(IsnGenerator::clock(3999), 0u);
  EXPECT_EQ(IsnGenerator::clock(4000), 1u);
  EXPECT_EQ(IsnGenerator::clock(seconds(1)), 250'000u);
}

TEST(Isn, MonotonicInTimeForOneTuple) {
  const IsnGenerator g(kKey);
  uint32_t prev = g.isn(kTuple, seconds(100));
  // Every 1.3 ms for ~2 hours of virtual time: each ISN is after the previous one in sequence space.
  for (Nanos t = seconds(100) + 1'300'000; t < seconds(100 + 7000); t += 1'300'000 * 997) {
    const uint32_t cur = g.isn(kTuple, t);
    ASSERT_TRUE(Seq{cur} > Seq{prev}) << t;
    prev = cur;
  }
}

TEST(Isn, TheFourMicrosecondClockWrapsCorrectly) {
  const IsnGenerator g(kKey);
  // M wraps after 2^32 ticks of 4 us (~4.77 h): ISNs keep the same spacing across the wrap.
  const Nanos wrap = (Nanos{1} << 32) * IsnGenerator::kClockTick;
  for (Nanos before : {micros(4), micros(400), seconds(1)}) {
    for (Nanos after : {Nanos{0}, micros(4), seconds(2)}) {
      const uint32_t a = g.isn(kTuple, wrap - before);
      const uint32_t b = g.isn(kTuple, wrap + after);
      EXPECT_EQ(b - a, static_cast<uint32_t>((before + after) / IsnGenerator::kClockTick));
      EXPECT_TRUE(Seq{b} > Seq{a});
    }
  }
  EXPECT_EQ(g.isn(kTuple, wrap), g.isn(kTuple, 0));  // a full period later the sequence repeats
  EXPECT_EQ(IsnGenerator::clock(wrap - 1), 0xffffffffu);
  EXPECT_EQ(IsnGenerator::clock(wrap), 0u);
}

TEST(Isn, DiffersAcrossTuples) {
  const IsnGenerator g(kKey);
  const Nanos t = seconds(5);
  const uint32_t base = g.isn(kTuple, t);
  FlowKey k = kTuple;
  k.raddr ^= 1;
  EXPECT_NE(g.isn(k, t), base);
  k = kTuple;
  k.laddr ^= 1;
  EXPECT_NE(g.isn(k, t), base);
  k = kTuple;
  k.rport ^= 1;
  EXPECT_NE(g.isn(k, t), base);
  k = kTuple;
  k.lport ^= 1;
  EXPECT_NE(g.isn(k, t), base);
  // Swapping the ports or the addresses is another tuple too.
  k = kTuple;
  std::swap(k.rport, k.lport);
  EXPECT_NE(g.isn(k, t), base);
  k = kTuple;
  std::swap(k.raddr, k.laddr);
  EXPECT_NE(g.isn(k, t), base);

  // Consecutive client ports (the common case) spread over the whole space.
  std::set<uint32_t> seen;
  uint32_t high_bits_set = 0;
  for (uint16_t port = 1024; port < 1024 + 4096; ++port) {
    k = kTuple;
    k.rport = port;
    const uint32_t isn = g.isn(k, t);
    seen.insert(isn);
    high_bits_set += isn >> 31;
  }
  EXPECT_EQ(seen.size(), 4096u);
  EXPECT_GT(high_bits_set, 4096u / 2 - 200);
  EXPECT_LT(high_bits_set, 4096u / 2 + 200);
}

TEST(Isn, DiffersAcrossKeys) {
  const IsnGenerator a(kKey);
  const IsnGenerator b({kKey.k0 ^ 1, kKey.k1});
  const IsnGenerator c({kKey.k0, kKey.k1 ^ (1ULL << 63)});
  EXPECT_NE(a.isn(kTuple, 0), b.isn(kTuple, 0));
  EXPECT_NE(a.isn(kTuple, 0), c.isn(kTuple, 0));
  EXPECT_NE(b.isn(kTuple, 0), c.isn(kTuple, 0));
  EXPECT_NE(a.ts_offset(1, 2), b.ts_offset(1, 2));
}

TEST(Isn, TimestampOffsetPerAddressPair) {
  const IsnGenerator g(kKey);
  const uint32_t off = g.ts_offset(kTuple.laddr, kTuple.raddr);
  EXPECT_EQ(off, g.ts_offset(kTuple.laddr, kTuple.raddr));  // stable: TSval monotonic per pair
  EXPECT_NE(off, g.ts_offset(kTuple.raddr, kTuple.laddr));
  EXPECT_NE(off, g.ts_offset(kTuple.laddr, kTuple.raddr + 1));
  EXPECT_NE(off, g.ts_offset(kTuple.laddr + 1, kTuple.raddr));
  // Not the ISN key's hash: the offset reveals nothing about F.
  EXPECT_NE(off, static_cast<uint32_t>(siphash24_2u32(kKey, kTuple.laddr, kTuple.raddr)));
  EXPECT_NE(off, g.hash(kTuple));
}

}  // namespace
}  // namespace tcpterm
