// Timer benchmarks: the TimerWheel's hot operations (schedule+cancel, the
// RTO pattern; schedule alone; re-arm), expiry per timer with many pending,
// and, for a fixed 60 s TIME_WAIT workload, the FIFO timer against the wheel.
// All in virtual time; the wheel never reads a clock. Pools are sized so the
// working set is realistic (not one hot node): 64k nodes spread in memory as
// 64-byte records, the size of a small connection slot.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "engine/timer/fifo_timer.h"
#include "engine/timer/timer_wheel.h"

namespace tcpterm {
namespace {

struct alignas(64) Rec {  // a stand-in connection record
  TimerNode node;
  uint64_t pad[5];
};

constexpr size_t kPool = 1 << 16;
constexpr Nanos kStart = seconds(1000);

std::vector<Nanos> random_delays(size_t n, Nanos lo, Nanos hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Nanos> d(n);
  for (auto& x : d) x = lo + rng() % (hi - lo);
  return d;
}

// schedule + cancel of an idle timer: what an RTO costs when the ACK comes
// back in time (the common case). Arg: delay in ms (200 = level 0/1 RTO, 60000 = TIME_WAIT-like).
void BM_ScheduleCancel(benchmark::State& state) {
  TimerWheel w(kStart);
  std::vector<Rec> pool(kPool);
  const Nanos delay = millis(static_cast<uint64_t>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    Rec& r = pool[i++ & (kPool - 1)];
    w.schedule(r.node, kStart + delay);
    w.cancel(r.node);
  }
  benchmark::DoNotOptimize(w.size());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ScheduleCancel)->Arg(200)->Arg(60'000)->Arg(7'200'000);

// schedule alone into a wheel that fills up (random RTO-like delays); the
// wheel is emptied, untimed, every kPool schedules.
void BM_Schedule(benchmark::State& state) {
  TimerWheel w(kStart);
  std::vector<Rec> pool(kPool);
  const auto delays = random_delays(kPool, millis(200), seconds(120), 1);
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ & (kPool - 1);
    w.schedule(pool[k].node, kStart + delays[k]);
    if (k == kPool - 1) [[unlikely]] {
      state.PauseTiming();
      for (auto& r : pool) w.cancel(r.node);
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Schedule);

// Re-arm of a pending timer (every ACK pushes the RTO back): 64k pending
// timers, each re-armed to a new deadline as virtual time moves on.
void BM_Rearm(benchmark::State& state) {
  TimerWheel w(kStart);
  std::vector<Rec> pool(kPool);
  const auto delays = random_delays(kPool, millis(200), millis(3000), 2);
  for (size_t k = 0; k < kPool; ++k) w.schedule(pool[k].node, kStart + delays[k]);
  size_t i = 0;
  Nanos now = kStart;
  for (auto _ : state) {
    const size_t k = i++ & (kPool - 1);
    if (k == 0) now += micros(100);
    w.schedule(pool[k].node, now + delays[(k * 7) & (kPool - 1)]);
  }
  benchmark::DoNotOptimize(w.size());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Rearm);

// Expiry per timer with many pending: a steady state of N timers spread over
// [0, 60 s); each iteration advances one tick, and every expired timer is
// re-armed 60 s out (so the population stays N and timers cascade as in
// real life). Items = timers expired; the time per item includes its cascade
// and the re-arm.
void BM_ExpiryPerTimer(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  TimerWheel w(0);
  std::vector<Rec> pool(n);
  const auto delays = random_delays(n, 1, seconds(60), 3);
  for (size_t k = 0; k < n; ++k) w.schedule(pool[k].node, delays[k]);
  const Nanos tick = w.tick();
  Nanos now = 0;
  size_t expired = 0;
  for (auto _ : state) {
    now += tick;
    expired += w.advance(now, SIZE_MAX, [&](TimerNode& node) { w.schedule(node, now + seconds(60)); });
  }
  state.SetItemsProcessed(static_cast<int64_t>(expired));
  state.counters["pending"] = static_cast<double>(w.size());
}
BENCHMARK(BM_ExpiryPerTimer)->Arg(100'000)->Arg(1'000'000);

// 100k timers due in the same tick, drained with a budget of 1024 per call
// (the poll loop's view). Items = timers expired.
void BM_ExpiryBurstBudgeted(benchmark::State& state) {
  const size_t n = 100'000;
  std::vector<Rec> pool(n);
  size_t total = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto w = std::make_unique<TimerWheel>(0);
    for (auto& r : pool) w->schedule(r.node, millis(100));
    state.ResumeTiming();
    size_t got = 0;
    while (got < n) got += w->advance(millis(101), 1024, [](TimerNode& node) { benchmark::DoNotOptimize(&node); });
    total += got;
  }
  state.SetItemsProcessed(static_cast<int64_t>(total));
}
BENCHMARK(BM_ExpiryBurstBudgeted)->Unit(benchmark::kMicrosecond);

// TIME_WAIT workload, FIFO vs wheel. Every virtual millisecond R connections
// enter TIME_WAIT for 60 s and those that entered 60 s ago leave; the
// population is R * 60000 records (steady state reached before timing).
// Items = records (one push and one expiry each). Records are
// TimeWaitRecord-sized (48 B) with the FIFO's uint32 link, or a 64 B record
// with an embedded TimerNode for the wheel.
struct TwRec {  // layout of engine/flow's TimeWaitRecord, FIFO fields named alike
  uint32_t key[3];
  uint32_t snd_nxt, rcv_nxt, ts_recent, ts_recent_stamp;
  uint32_t expires_ms;
  uint32_t next;
  uint16_t rcv_wnd;
  uint8_t flags, snd_wscale;
  uint32_t ts_offset;
  uint32_t pad;
};
static_assert(sizeof(TwRec) == 48);

constexpr uint32_t kTimeWaitMs = 60'000;

void BM_TimeWaitFifo(benchmark::State& state) {
  const uint32_t rate = static_cast<uint32_t>(state.range(0));  // per ms
  const uint32_t cap = rate * (kTimeWaitMs + 2);
  std::vector<TwRec> pool(cap);
  using Access = PoolAccess<TwRec, &TwRec::next, &TwRec::expires_ms>;
  FifoTimer<Access> fifo(kTimeWaitMs, Access{pool.data()});
  std::vector<uint32_t> free_list;
  free_list.reserve(cap);
  for (uint32_t i = cap; i-- > 0;) free_list.push_back(i);
  uint32_t now = 0;
  auto step = [&] {
    ++now;
    fifo.expire(now, SIZE_MAX, [&](uint32_t i) { free_list.push_back(i); });
    for (uint32_t k = 0; k < rate; ++k) {
      const uint32_t i = free_list.back();
      free_list.pop_back();
      fifo.push(i, now);
    }
  };
  for (uint32_t t = 0; t < kTimeWaitMs + 1; ++t) step();  // to steady state
  for (auto _ : state) step();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * rate);
  state.counters["pending"] = static_cast<double>(fifo.size());
}
BENCHMARK(BM_TimeWaitFifo)->Arg(8)->Arg(32);

struct alignas(64) TwWheelRec {
  TimerNode node;
  uint32_t key[3];
  uint32_t snd_nxt, rcv_nxt, ts_recent;
};
static_assert(sizeof(TwWheelRec) == 64);

void BM_TimeWaitWheel(benchmark::State& state) {
  const uint32_t rate = static_cast<uint32_t>(state.range(0));
  const uint32_t cap = rate * (kTimeWaitMs + 2);
  std::vector<TwWheelRec> pool(cap);
  TimerWheel w(0);
  std::vector<uint32_t> free_list;
  free_list.reserve(cap);
  for (uint32_t i = cap; i-- > 0;) free_list.push_back(i);
  Nanos now = 0;
  TwWheelRec* base = pool.data();
  auto step = [&] {
    now += kMillisecond;
    w.advance(now, SIZE_MAX, [&](TimerNode& n) {
      free_list.push_back(static_cast<uint32_t>(&owner_of<TwWheelRec, &TwWheelRec::node>(n) - base));
    });
    for (uint32_t k = 0; k < rate; ++k) {
      const uint32_t i = free_list.back();
      free_list.pop_back();
      w.schedule(pool[i].node, now + millis(kTimeWaitMs));
    }
  };
  for (uint32_t t = 0; t < kTimeWaitMs + 1; ++t) step();
  for (auto _ : state) step();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * rate);
  state.counters["pending"] = static_cast<double>(w.size());
}
BENCHMARK(BM_TimeWaitWheel)->Arg(8)->Arg(32);

}  // namespace
}  // namespace tcpterm

BENCHMARK_MAIN();
