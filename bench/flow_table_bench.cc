// Flow table benchmarks: find hit/miss (plain; batched with a slot prefetch;
// find_batch() with slot and entry prefetches), insert, erase, and the hash alone, at 1M and 4M entries.
//
// Each table is filled to capacity (the load the configured limits allow,
// 7/8 of the slots) with random keys before timing: half live connections,
// half TIME_WAIT records, as a server at its limits holds both. A hit
// benchmark walks a shuffled array of present keys, so successive lookups
// are independent random memory accesses, not a cache-friendly scan.
//
// The live connection is a 192-byte stand-in (BenchConn) until engine/tcp's
// Tcb exists. Counters bytes_per_conn and bytes_per_tw are per entry: the
// record plus the share of the slot array (slot bytes / entries at capacity).
// Targets: <= 256 and <= 64.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "engine/flow/flow_table.h"

namespace tcpterm {
namespace {

struct BenchConn {  // stand-in for engine/tcp's Tcb
  FlowKey key;
  uint8_t state[180];
};
static_assert(sizeof(BenchConn) == 192);

using Table = FlowTable<BenchConn>;

FlowKey random_key(std::mt19937_64& rng) {
  const uint64_t r = rng();
  return FlowKey{static_cast<uint32_t>(r), static_cast<uint32_t>(rng()), static_cast<uint16_t>(r >> 32),
                 static_cast<uint16_t>(r >> 48)};
}

struct Fixture {
  std::unique_ptr<Table> table;
  std::vector<FlowKey> present;  // shuffled
  std::vector<FlowKey> absent;   // random keys not in the table
  uint32_t n = 0;
};

// One table at a time is kept between benchmarks (and repetitions) of the same size.
Fixture& fixture(uint32_t n) {
  static Fixture f;
  if (f.n == n) return f;
  f = Fixture{};
  std::mt19937_64 rng(n);
  f.table = std::make_unique<Table>(Table::Limits{n / 2, n - n / 2}, rng());
  f.present.reserve(n);
  while (f.present.size() < n) {
    const FlowKey k = random_key(rng);
    if (f.table->find(k)) continue;
    if (f.present.size() % 2 == 0) {
      if (!f.table->insert_conn(k)) continue;
    } else if (!f.table->insert_time_wait(k)) {
      continue;
    }
    f.present.push_back(k);
  }
  std::shuffle(f.present.begin(), f.present.end(), rng);
  const size_t n_absent = std::min<size_t>(n, 1 << 20);
  while (f.absent.size() < n_absent) {
    const FlowKey k = random_key(rng);
    if (!f.table->find(k)) f.absent.push_back(k);
  }
  f.n = n;
  return f;
}

void set_counters(benchmark::State& state, const Table& t) {
  const double entries = double(t.max_conns()) + t.max_time_wait();
  const double slot_share = double(t.slot_count()) * sizeof(uint64_t) / entries;
  state.counters["bytes_per_conn"] = double(sizeof(BenchConn)) + slot_share;
  state.counters["bytes_per_tw"] = double(sizeof(TimeWaitRecord)) + slot_share;
  state.counters["mean_probe"] =
      double(t.total_probe_length()) / (double(t.conn_count()) + t.time_wait_count());
  state.SetItemsProcessed(state.iterations());
}

void BM_find_hit(benchmark::State& state) {
  Fixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  const Table& t = *f.table;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.find(f.present[i]));
    if (++i == f.present.size()) i = 0;
  }
  set_counters(state, t);
}

void BM_find_miss(benchmark::State& state) {
  Fixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  const Table& t = *f.table;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.find(f.absent[i]));
    if (++i == f.absent.size()) i = 0;
  }
  set_counters(state, t);
}

// How a driver burst would look up its packets: hash and prefetch the slot
// lines of the whole batch, then look them up in order.
void BM_find_hit_batched(benchmark::State& state) {
  constexpr size_t kBatch = 32;
  Fixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  const Table& t = *f.table;
  const size_t batches = f.present.size() / kBatch;
  size_t b = 0;
  uint64_t h[kBatch];
  for (auto _ : state) {
    const FlowKey* keys = &f.present[b * kBatch];
    for (size_t j = 0; j < kBatch; ++j) {
      h[j] = t.hash(keys[j]);
      t.prefetch(h[j]);
    }
    for (size_t j = 0; j < kBatch; ++j) benchmark::DoNotOptimize(t.find(keys[j], h[j]));
    if (++b == batches) b = 0;
  }
  set_counters(state, t);
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// find_batch(): slot lines, then entries, prefetched for a burst of 32.
void BM_find_batch(benchmark::State& state) {
  constexpr size_t kBatch = 32;
  Fixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  const Table& t = *f.table;
  const size_t batches = f.present.size() / kBatch;
  size_t b = 0;
  FlowRef out[kBatch];
  for (auto _ : state) {
    t.find_batch(&f.present[b * kBatch], kBatch, out);
    benchmark::DoNotOptimize(out);
    if (++b == batches) b = 0;
  }
  set_counters(state, t);
  state.SetItemsProcessed(state.iterations() * kBatch);
}

// Insert (and, separately, erase) of batches of fresh connections into the
// full-size table with room made for them: the table stays near capacity.
constexpr size_t kChurnBatch = 4096;

// Makes room for a batch: erases kChurnBatch live connections and returns their
// keys, which the benchmark puts back at the end.
std::vector<FlowKey> make_room(Fixture& f, Table& t) {
  std::vector<FlowKey> removed;
  for (const FlowKey& k : f.present) {
    const FlowRef r = t.find(k);
    if (r.kind != FlowRef::Kind::conn) continue;
    t.erase_conn(r.index);
    removed.push_back(k);
    if (removed.size() == kChurnBatch) break;
  }
  return removed;
}

void BM_insert(benchmark::State& state) {
  Fixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  Table& t = *f.table;
  const std::vector<FlowKey> removed = make_room(f, t);
  std::vector<uint32_t> idx(kChurnBatch);
  size_t a = 0;
  for (auto _ : state) {
    for (size_t j = 0; j < kChurnBatch; ++j) {
      idx[j] = t.index_of(*t.insert_conn(f.absent[a + j]));
    }
    state.PauseTiming();
    for (uint32_t i : idx) t.erase_conn(i);
    a = a + 2 * kChurnBatch <= f.absent.size() ? a + kChurnBatch : 0;
    state.ResumeTiming();
  }
  for (const FlowKey& k : removed) t.insert_conn(k);
  set_counters(state, t);
  state.SetItemsProcessed(state.iterations() * kChurnBatch);
}

void BM_erase(benchmark::State& state) {
  Fixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  Table& t = *f.table;
  const std::vector<FlowKey> removed = make_room(f, t);
  std::vector<uint32_t> idx(kChurnBatch);
  size_t a = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t j = 0; j < kChurnBatch; ++j) idx[j] = t.index_of(*t.insert_conn(f.absent[a + j]));
    a = a + 2 * kChurnBatch <= f.absent.size() ? a + kChurnBatch : 0;
    state.ResumeTiming();
    for (uint32_t i : idx) t.erase_conn(i);
  }
  for (const FlowKey& k : removed) t.insert_conn(k);
  set_counters(state, t);
  state.SetItemsProcessed(state.iterations() * kChurnBatch);
}

void BM_conn_to_time_wait_and_back(benchmark::State& state) {
  // A connection closing into TIME_WAIT, and the record expiring later.
  Fixture& f = fixture(static_cast<uint32_t>(state.range(0)));
  Table& t = *f.table;
  // Free kChurnBatch TIME_WAIT records to move connections into.
  std::vector<FlowKey> removed, conns;
  for (const FlowKey& k : f.present) {
    const FlowRef r = t.find(k);
    if (r.kind == FlowRef::Kind::time_wait && removed.size() < kChurnBatch) {
      t.erase_time_wait(r.index);
      removed.push_back(k);
    } else if (r.kind == FlowRef::Kind::conn && conns.size() < kChurnBatch) {
      conns.push_back(k);
    }
    if (removed.size() == kChurnBatch && conns.size() == kChurnBatch) break;
  }
  std::vector<uint32_t> idx(kChurnBatch);
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t j = 0; j < kChurnBatch; ++j) idx[j] = f.table->find(conns[j]).index;
    state.ResumeTiming();
    for (size_t j = 0; j < kChurnBatch; ++j) idx[j] = t.index_of(*t.conn_to_time_wait(idx[j]));
    state.PauseTiming();
    for (size_t j = 0; j < kChurnBatch; ++j) {
      t.erase_time_wait(idx[j]);
      t.insert_conn(conns[j]);
    }
    state.ResumeTiming();
  }
  for (const FlowKey& k : removed) t.insert_time_wait(k);
  set_counters(state, t);
  state.SetItemsProcessed(state.iterations() * kChurnBatch);
}

void BM_hash(benchmark::State& state) {
  std::mt19937_64 rng(1);
  const FlowHasher hasher = FlowHasher::from_seed(rng());
  std::vector<FlowKey> keys(1024);
  for (FlowKey& k : keys) k = random_key(rng);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(hasher(keys[i]));
    i = (i + 1) & 1023;
  }
  state.SetItemsProcessed(state.iterations());
}

constexpr int64_t k16K = 16 << 10, k1M = 1 << 20, k4M = 4 << 20;

// 16K entries fit in L2: the lookup's own cost, without memory stalls.
BENCHMARK(BM_find_hit)->Arg(k16K);
BENCHMARK(BM_find_batch)->Arg(k16K);

BENCHMARK(BM_hash);
BENCHMARK(BM_find_hit)->Arg(k1M);
BENCHMARK(BM_find_hit_batched)->Arg(k1M);
BENCHMARK(BM_find_batch)->Arg(k1M);
BENCHMARK(BM_find_miss)->Arg(k1M);
BENCHMARK(BM_insert)->Arg(k1M);
BENCHMARK(BM_erase)->Arg(k1M);
BENCHMARK(BM_conn_to_time_wait_and_back)->Arg(k1M);
BENCHMARK(BM_find_hit)->Arg(k4M);
BENCHMARK(BM_find_hit_batched)->Arg(k4M);
BENCHMARK(BM_find_batch)->Arg(k4M);
BENCHMARK(BM_find_miss)->Arg(k4M);
BENCHMARK(BM_insert)->Arg(k4M);
BENCHMARK(BM_erase)->Arg(k4M);
BENCHMARK(BM_conn_to_time_wait_and_back)->Arg(k4M);

}  // namespace
}  // namespace tcpterm

BENCHMARK_MAIN();
