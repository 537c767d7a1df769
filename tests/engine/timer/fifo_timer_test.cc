// FifoTimer tests in virtual milliseconds: exact expiry of unrestarted
// entries, lazy restarts (never early, late by less than one duration),
// budgets, a wrapping uint32 clock, and a randomised run checked entry by
// entry against those bounds.
#include "engine/timer/fifo_timer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace tcpterm {
namespace {

// Stand-in with the fields the FIFO uses from engine/flow's TimeWaitRecord
// (a uint32 `next` link and uint32 `expires_ms`).
struct Rec {
  uint32_t expires_ms = 0;
  uint32_t next = 0;
  uint32_t other = 0;
};
using Access = PoolAccess<Rec, &Rec::next, &Rec::expires_ms>;
using Fifo = FifoTimer<Access>;

struct Harness {
  explicit Harness(size_t n, uint32_t duration) : pool(n), fifo(duration, Access{pool.data()}) {}
  size_t run(uint32_t now, size_t budget = SIZE_MAX) {
    return fifo.expire(now, budget, [&](uint32_t i) { fired.push_back({i, now}); });
  }
  struct Fired {
    uint32_t index;
    uint32_t at;
  };
  std::vector<Rec> pool;
  Fifo fifo;
  std::vector<Fired> fired;
};

TEST(FifoTimer, InsertionOrderIsExpiryOrder) {
  Harness h(10, 60'000);  // TIME_WAIT, 60 s in ms
  for (uint32_t i = 0; i < 10; ++i) h.fifo.push(i, 1000 + 10 * i);
  EXPECT_EQ(h.fifo.size(), 10u);
  EXPECT_EQ(h.pool[3].expires_ms, 61'030u);
  EXPECT_EQ(h.run(61'029), 3u);  // 61000, 61010, 61020 are due; 61030 is not
  EXPECT_EQ(h.run(61'029), 0u);
  EXPECT_EQ(h.run(61'030), 1u);
  EXPECT_EQ(h.run(70'000), 6u);
  ASSERT_EQ(h.fired.size(), 10u);
  for (uint32_t i = 0; i < 10; ++i) EXPECT_EQ(h.fired[i].index, i);
  EXPECT_TRUE(h.fifo.empty());
  EXPECT_EQ(h.fifo.front(), Fifo::kNil);
  EXPECT_EQ(h.pool[4].next, Fifo::kNil);  // links are reset on expiry
}

TEST(FifoTimer, RestartIsLazyNeverEarlyAndKeepsOthersExact) {
  Harness h(4, 100);
  h.fifo.push(0, 0);   // 100
  h.fifo.push(1, 10);  // 110
  h.fifo.push(2, 20);  // 120
  h.fifo.restart(0, 50);  // 0 now expires at 150, still at the head
  EXPECT_EQ(h.pool[0].expires_ms, 150u);
  EXPECT_TRUE(h.fifo.due(100));  // moved head: there is work (re-append)
  EXPECT_EQ(h.run(100), 0u);     // 0 is re-appended behind 2, nothing fires
  EXPECT_EQ(h.fifo.front(), 1u);
  EXPECT_EQ(h.run(110), 1u);  // 1 exactly at its expiry despite the restart ahead of it
  EXPECT_EQ(h.run(120), 1u);
  EXPECT_EQ(h.run(149), 0u);  // never early
  EXPECT_EQ(h.run(150), 1u);
  ASSERT_EQ(h.fired.size(), 3u);
  EXPECT_EQ(h.fired[0].index, 1u);
  EXPECT_EQ(h.fired[1].index, 2u);
  EXPECT_EQ(h.fired[2].index, 0u);
  EXPECT_EQ(h.fired[2].at, 150u);
}

// The documented lateness: a restarted entry waits behind entries pushed
// between its restart and its old expiry, so it can be late, by < duration.
TEST(FifoTimer, RestartedEntryLateByLessThanOneDuration) {
  Harness h(3, 100);
  h.fifo.push(0, 0);      // 100
  h.fifo.restart(0, 10);  // 110
  h.fifo.push(1, 60);     // 160, pushed after the restart
  EXPECT_EQ(h.run(100), 0u);  // 0 re-appended behind 1
  EXPECT_EQ(h.run(110), 0u);  // due, but 1 (not due) is ahead of it
  EXPECT_EQ(h.run(160), 2u);
  EXPECT_EQ(h.fired[1].index, 0u);
  EXPECT_LT(h.fired[1].at - h.pool[0].expires_ms, 100u);
}

TEST(FifoTimer, RestartAtPastRetiresWhenItReachesTheHead) {
  Harness h(3, 100);
  h.fifo.push(0, 0);
  h.fifo.push(1, 5);
  h.fifo.push(2, 6);
  h.fifo.restart_at(1, 0);  // the owner retires it early
  EXPECT_EQ(h.run(99), 0u);
  EXPECT_EQ(h.run(100), 2u);  // 0, then 1 right behind it
  EXPECT_EQ(h.fired[1].index, 1u);
}

TEST(FifoTimer, BudgetAndReuseFromCallback) {
  Harness h(100, 1000);
  for (uint32_t i = 0; i < 100; ++i) h.fifo.push(i, 0);
  EXPECT_EQ(h.run(1000, 30), 30u);
  EXPECT_EQ(h.fifo.size(), 70u);
  EXPECT_EQ(h.fifo.front(), 30u);
  // A callback may push the expired index again (e.g. FIN_WAIT_2 -> re-armed).
  size_t n = h.fifo.expire(1000, 10, [&](uint32_t i) { h.fifo.push(i, 1000); });
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(h.fifo.size(), 70u);
  EXPECT_EQ(h.run(1000), 60u);
  EXPECT_EQ(h.run(1999), 0u);
  EXPECT_EQ(h.run(2000), 10u);
  EXPECT_EQ(h.fired.back().index, 39u);
}

TEST(FifoTimer, WrappingMillisecondClock) {
  Harness h(3, 60'000);
  const uint32_t near_wrap = 0xffff'ff00u;
  h.fifo.push(0, near_wrap);
  h.fifo.push(1, near_wrap + 100);
  EXPECT_EQ(h.pool[0].expires_ms, near_wrap + 60'000u);  // wrapped past 0
  EXPECT_LT(h.pool[0].expires_ms, near_wrap);
  EXPECT_EQ(h.run(near_wrap + 59'999), 0u);  // a naive < would fire here
  EXPECT_EQ(h.run(near_wrap + 60'000), 1u);
  EXPECT_EQ(h.run(near_wrap + 60'100), 1u);
}

// Random pushes, restarts and expiries (1 ms steps) with checks per entry:
// never early; unrestarted entries exactly on time; restarted ones late by
// less than the duration; every pushed entry fires exactly once.
TEST(FifoTimer, RandomisedBounds) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::mt19937_64 rng(seed);
    const uint32_t dur = 500;
    const uint32_t n = 2000;
    Harness h(n, dur);
    std::vector<bool> queued(n, false), restarted(n, false);
    uint32_t now = 1'000'000;
    for (int step = 0; step < 60'000; ++step) {
      const uint32_t i = static_cast<uint32_t>(rng() % n);
      const unsigned op = static_cast<unsigned>(rng() % 8);
      if (op < 2 && !queued[i]) {
        h.fifo.push(i, now);
        queued[i] = true;
        restarted[i] = false;
      } else if (op == 2 && queued[i]) {
        h.fifo.restart(i, now);
        restarted[i] = true;
      } else if (op >= 6) {
        ++now;
        const size_t before = h.fired.size();
        h.run(now, 1 + rng() % 64);
        while (h.fifo.due(now)) h.run(now, 1 + rng() % 64);
        for (size_t k = before; k < h.fired.size(); ++k) {
          const uint32_t x = h.fired[k].index;
          ASSERT_TRUE(queued[x]);
          const uint32_t exp = h.pool[x].expires_ms;
          ASSERT_TRUE(Fifo::leq(exp, now)) << "early";
          if (restarted[x]) {
            ASSERT_LT(now - exp, dur);
          } else {
            ASSERT_EQ(now, exp) << "late";
          }
          queued[x] = false;
        }
        // Nothing unrestarted and overdue is left queued.
        for (uint32_t x = 0; x < n; x += 37) {
          if (queued[x] && !restarted[x]) {
            ASSERT_FALSE(Fifo::leq(h.pool[x].expires_ms, now - 1));
          }
        }
      }
    }
    // Final drain: everything still queued fires, each exactly once.
    now += 2 * dur;
    const size_t before = h.fired.size();
    while (h.fifo.due(now)) h.run(now, 100);
    for (size_t k = before; k < h.fired.size(); ++k) {
      ASSERT_TRUE(queued[h.fired[k].index]);
      queued[h.fired[k].index] = false;
    }
    for (uint32_t x = 0; x < n; ++x) EXPECT_FALSE(queued[x]) << x;
    EXPECT_TRUE(h.fifo.empty());
    EXPECT_EQ(h.fifo.size(), 0u);
  }
}

}  // namespace
}  // namespace tcpterm
