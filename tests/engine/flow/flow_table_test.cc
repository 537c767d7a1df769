// FlowTable: randomised operations against std::unordered_map, full pools,
// erase-heavy churn (no tombstone build-up: the layout after churn equals a
// fresh build), adversarial key sets and per-seed hashing.
#include "engine/flow/flow_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <unordered_map>
#include <vector>

namespace tcpterm {
namespace {

struct TestConn {
  FlowKey key;
  uint64_t cookie = 0;
  uint32_t state = 7;  // default member initialiser: inserts must honour it
  uint8_t rest[44];
};

struct KeyHash {
  size_t operator()(const FlowKey& k) const {
    uint64_t a;
    uint32_t b;
    std::memcpy(&a, &k, 8);
    std::memcpy(&b, reinterpret_cast<const char*>(&k) + 8, 4);
    return std::hash<uint64_t>()(a * 0x9e3779b97f4a7c15ULL ^ b);
  }
};

FlowKey random_key(std::mt19937_64& rng) {
  const uint64_t r = rng();
  return FlowKey{static_cast<uint32_t>(r), static_cast<uint32_t>(rng()), static_cast<uint16_t>(r >> 32),
                 static_cast<uint16_t>(r >> 48)};
}

using Table = FlowTable<TestConn>;

TEST(FlowTable, LayoutAndSizes) {
  Table t({1000, 3000}, 42);
  const uint32_t total = 4000;
  EXPECT_GE(uint64_t{t.slot_count()} * Table::kMaxLoadNum, uint64_t{total} * Table::kMaxLoadDen);
  EXPECT_LT(t.slot_count(), total * Table::kMaxLoadDen / Table::kMaxLoadNum + 16);
  EXPECT_EQ(t.slot_count() % 8, 0u);
  EXPECT_EQ(t.memory_bytes(), size_t{t.slot_count()} * 8 + 1000 * sizeof(TestConn) + 3000 * 48);
  EXPECT_EQ(t.max_conns(), 1000u);
  EXPECT_EQ(t.max_time_wait(), 3000u);
  EXPECT_EQ(t.conn_count(), 0u);
  EXPECT_EQ(t.time_wait_count(), 0u);
  EXPECT_TRUE(t.check_invariants());
  EXPECT_THROW(Table({Table::kMaxPool + 1, 0}, 1), std::invalid_argument);
}

TEST(FlowTable, InsertFindEraseBothKinds) {
  Table t({4, 4}, 7);
  const FlowKey a{0x0a000001, 0xc0a80001, 40000, 80};
  const FlowKey b{0x0a000002, 0xc0a80001, 40000, 80};
  EXPECT_FALSE(t.find(a));

  TestConn* c = t.insert_conn(a);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->key, a);
  EXPECT_EQ(c->state, 7u);
  EXPECT_EQ(c->cookie, 0u);
  c->cookie = 99;
  TimeWaitRecord* r = t.insert_time_wait(b);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->key, b);
  EXPECT_EQ(r->snd_nxt, 0u);
  r->snd_nxt = 1234;

  FlowRef fa = t.find(a);
  ASSERT_TRUE(fa);
  EXPECT_EQ(fa.kind, FlowRef::Kind::conn);
  EXPECT_EQ(fa.index, t.index_of(*c));
  EXPECT_EQ(&t.conn(fa.index), c);
  EXPECT_EQ(t.conn(fa.index).cookie, 99u);
  FlowRef fb = t.find(b, t.hash(b));
  ASSERT_TRUE(fb);
  EXPECT_EQ(fb.kind, FlowRef::Kind::time_wait);
  EXPECT_EQ(fb.index, t.index_of(*r));
  EXPECT_EQ(t.time_wait(fb.index).snd_nxt, 1234u);
  EXPECT_EQ(t.conn_count(), 1u);
  EXPECT_EQ(t.time_wait_count(), 1u);
  // Same 4-tuple with only the local port changed is another flow.
  EXPECT_FALSE(t.find(FlowKey{0x0a000001, 0xc0a80001, 40000, 81}));

  t.erase_conn(fa.index);
  EXPECT_FALSE(t.find(a));
  EXPECT_TRUE(t.find(b));
  t.erase_time_wait(fb.index);
  EXPECT_FALSE(t.find(b));
  EXPECT_EQ(t.conn_count(), 0u);
  EXPECT_EQ(t.time_wait_count(), 0u);

  // A reused entry is initialised again: no state leaks between connections.
  TestConn* c2 = t.insert_conn(b);
  ASSERT_NE(c2, nullptr);
  EXPECT_EQ(c2->cookie, 0u);
  EXPECT_EQ(c2->state, 7u);
  TimeWaitRecord* r2 = t.insert_time_wait(a);
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r2->snd_nxt, 0u);
  EXPECT_TRUE(t.check_invariants());
}

TEST(FlowTable, ConnToTimeWaitKeepsKeyAndFreesConn) {
  Table t({2, 2}, 9);
  const FlowKey a{1, 2, 3, 4}, b{5, 6, 7, 8};
  TestConn* ca = t.insert_conn(a);
  TestConn* cb = t.insert_conn(b);
  ASSERT_TRUE(ca && cb);
  EXPECT_EQ(t.insert_conn(FlowKey{9, 9, 9, 9}), nullptr);  // conn pool full
  const uint32_t ia = t.index_of(*ca);
  TimeWaitRecord* r = t.conn_to_time_wait(ia);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->key, a);
  EXPECT_EQ(r->rcv_nxt, 0u);
  FlowRef f = t.find(a);
  ASSERT_TRUE(f);
  EXPECT_EQ(f.kind, FlowRef::Kind::time_wait);
  EXPECT_EQ(f.index, t.index_of(*r));
  EXPECT_EQ(t.conn_count(), 1u);
  EXPECT_EQ(t.time_wait_count(), 1u);
  // The freed Conn is available again.
  TestConn* c9 = t.insert_conn(FlowKey{9, 9, 9, 9});
  ASSERT_NE(c9, nullptr);
  EXPECT_EQ(t.index_of(*c9), ia);
  EXPECT_TRUE(t.check_invariants());
}

TEST(FlowTable, FullPoolsChangeNothing) {
  std::mt19937_64 rng(3);
  Table t({500, 300}, 11);
  std::vector<FlowKey> conns, tws;
  while (conns.size() < 500) {
    const FlowKey k = random_key(rng);
    TestConn* c = t.insert_conn(k);
    ASSERT_NE(c, nullptr);
    c->cookie = conns.size();
    conns.push_back(k);
  }
  while (tws.size() < 300) {
    const FlowKey k = random_key(rng);
    TimeWaitRecord* r = t.insert_time_wait(k);
    ASSERT_NE(r, nullptr);
    r->snd_nxt = static_cast<uint32_t>(tws.size());
    tws.push_back(k);
  }
  const size_t total_probe = t.total_probe_length();
  for (int i = 0; i < 100; ++i) {
    const FlowKey k = random_key(rng);
    EXPECT_EQ(t.insert_conn(k), nullptr);
    EXPECT_EQ(t.insert_time_wait(k), nullptr);
    EXPECT_FALSE(t.find(k));
  }
  // TIME_WAIT pool full: a connection cannot move there and stays live.
  const FlowRef f0 = t.find(conns[0]);
  ASSERT_EQ(f0.kind, FlowRef::Kind::conn);
  EXPECT_EQ(t.conn_to_time_wait(f0.index), nullptr);
  EXPECT_EQ(t.conn_count(), 500u);
  EXPECT_EQ(t.time_wait_count(), 300u);
  EXPECT_EQ(t.total_probe_length(), total_probe);
  for (size_t i = 0; i < conns.size(); ++i) {
    const FlowRef f = t.find(conns[i]);
    ASSERT_EQ(f.kind, FlowRef::Kind::conn);
    EXPECT_EQ(t.conn(f.index).cookie, i);
  }
  for (size_t i = 0; i < tws.size(); ++i) {
    const FlowRef f = t.find(tws[i]);
    ASSERT_EQ(f.kind, FlowRef::Kind::time_wait);
    EXPECT_EQ(t.time_wait(f.index).snd_nxt, i);
  }
  EXPECT_TRUE(t.check_invariants());
  // Freeing one TIME_WAIT record lets exactly one connection move.
  t.erase_time_wait(t.find(tws[0]).index);
  ASSERT_NE(t.conn_to_time_wait(f0.index), nullptr);
  EXPECT_EQ(t.find(conns[0]).kind, FlowRef::Kind::time_wait);
  EXPECT_EQ(t.conn_to_time_wait(t.find(conns[1]).index), nullptr);
  EXPECT_TRUE(t.check_invariants());
}

TEST(FlowTable, ZeroSizedPools) {
  Table t({0, 0}, 1);
  EXPECT_EQ(t.insert_conn(FlowKey{1, 2, 3, 4}), nullptr);
  EXPECT_EQ(t.insert_time_wait(FlowKey{1, 2, 3, 4}), nullptr);
  EXPECT_FALSE(t.find(FlowKey{1, 2, 3, 4}));
  EXPECT_TRUE(t.check_invariants());
}

// Keys chosen so that they all have their home in the last two slots: the run
// wraps around the end of the array and most keys sit 8 or more slots from
// home, which exercises the probe loop behind find()'s 8-slot window.
TEST(FlowTable, WrappingRunAndLongDisplacements) {
  Table t({24, 16}, 31);
  const uint32_t n = t.slot_count();
  auto home = [&](const FlowKey& k) { return static_cast<uint32_t>(((t.hash(k) >> 32) * n) >> 32); };
  std::mt19937_64 rng(4);
  std::vector<FlowKey> in, out;
  while (in.size() < 30 || out.size() < 30) {
    const FlowKey k = random_key(rng);
    if (home(k) < n - 2) continue;
    (in.size() < 30 ? in : out).push_back(k);
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (i % 2 == 0) {
      ASSERT_NE(t.insert_conn(in[i]), nullptr);
    } else {
      ASSERT_NE(t.insert_time_wait(in[i]), nullptr);
    }
  }
  ASSERT_TRUE(t.check_invariants());
  EXPECT_GE(t.max_probe_length(), 25u);  // one run of 30 from two homes
  EXPECT_TRUE(t.slot_occupied(0));        // it wrapped
  for (size_t i = 0; i < in.size(); ++i) {
    const FlowRef f = t.find(in[i]);
    ASSERT_TRUE(f) << i;
    EXPECT_EQ(f.kind, i % 2 == 0 ? FlowRef::Kind::conn : FlowRef::Kind::time_wait);
  }
  for (const FlowKey& k : out) EXPECT_FALSE(t.find(k));
  // Erase from the middle of the run and check everything again.
  for (size_t i = 0; i < in.size(); i += 3) {
    const FlowRef f = t.find(in[i]);
    if (f.kind == FlowRef::Kind::conn) {
      t.erase_conn(f.index);
    } else {
      t.erase_time_wait(f.index);
    }
  }
  ASSERT_TRUE(t.check_invariants());
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(bool(t.find(in[i])), i % 3 != 0) << i;
  for (const FlowKey& k : out) EXPECT_FALSE(t.find(k));
}

// Destruction: every Conn constructed is destroyed once (erase, move to
// TIME_WAIT, or the table's destructor).
struct CountedConn {
  static inline int live = 0;
  FlowKey key{};
  CountedConn() { ++live; }
  ~CountedConn() { --live; }
};

TEST(FlowTable, ConnLifetimes) {
  {
    FlowTable<CountedConn> t({8, 8}, 5);
    for (uint32_t i = 0; i < 8; ++i) ASSERT_NE(t.insert_conn(FlowKey{i, 0, 0, 0}), nullptr);
    EXPECT_EQ(CountedConn::live, 8);
    t.erase_conn(t.find(FlowKey{0, 0, 0, 0}).index);
    ASSERT_NE(t.conn_to_time_wait(t.find(FlowKey{1, 0, 0, 0}).index), nullptr);
    EXPECT_EQ(CountedConn::live, 6);
  }
  EXPECT_EQ(CountedConn::live, 0);
}

TEST(FlowTable, FindBatchEqualsFind) {
  std::mt19937_64 rng(8);
  Table t({3000, 3000}, 123);
  std::vector<FlowKey> keys;
  for (int i = 0; i < 5000; ++i) {
    const FlowKey k = random_key(rng);
    if (i % 3 == 0) {
      ASSERT_NE(t.insert_conn(k), nullptr);
    } else if (i % 3 == 1) {
      ASSERT_NE(t.insert_time_wait(k), nullptr);
    }
    keys.push_back(k);  // i % 3 == 2: absent
  }
  // An odd count, so the last chunk is partial.
  std::vector<FlowRef> out(keys.size() - 7);
  t.find_batch(keys.data(), out.size(), out.data());
  size_t hits = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const FlowRef f = t.find(keys[i]);
    ASSERT_EQ(out[i].kind, f.kind) << i;
    ASSERT_EQ(out[i].index, f.index) << i;
    ASSERT_EQ(bool(f), i % 3 != 2) << i;
    hits += bool(f);
    t.prefetch_entry(t.hash(keys[i]));  // harmless for hits and misses alike
  }
  EXPECT_GT(hits, 3300u);
}

#if defined(__SANITIZE_ADDRESS__)
// The pools poison free entries, so the tcp engine's use-after-free bugs show.
TEST(FlowTableDeathTest, UseAfterEraseIsReportedUnderAsan) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Table t({4, 4}, 1);
  TestConn* c = t.insert_conn(FlowKey{1, 2, 3, 4});
  TimeWaitRecord* r = t.insert_time_wait(FlowKey{5, 6, 7, 8});
  ASSERT_TRUE(c && r);
  c->cookie = 1;
  r->snd_nxt = 1;  // live entries are fine
  t.erase_conn(t.index_of(*c));
  t.erase_time_wait(t.index_of(*r));
  EXPECT_DEATH({ c->cookie = 2; }, "use-after-poison");
  EXPECT_DEATH({ r->snd_nxt = 2; }, "use-after-poison");
  // Moving a connection to TIME_WAIT frees its Conn too.
  TestConn* c2 = t.insert_conn(FlowKey{1, 2, 3, 4});
  ASSERT_NE(c2, nullptr);
  c2->cookie = 3;
  ASSERT_NE(t.conn_to_time_wait(t.index_of(*c2)), nullptr);
  EXPECT_DEATH({ c2->cookie = 4; }, "use-after-poison");
}
#endif

// ---- Randomised operations against a reference map.

struct Model {
  FlowRef::Kind kind;
  uint32_t index;
  uint64_t value;
};

void run_random_ops(uint64_t seed, uint32_t max_conns, uint32_t max_tw, size_t universe, size_t ops) {
  std::mt19937_64 rng(seed);
  Table t({max_conns, max_tw}, rng());
  std::vector<FlowKey> keys(universe);
  for (auto& k : keys) k = random_key(rng);
  std::sort(keys.begin(), keys.end(), [](const FlowKey& a, const FlowKey& b) {
    return std::memcmp(&a, &b, sizeof a) < 0;
  });
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::unordered_map<FlowKey, Model, KeyHash> model;
  uint32_t conns = 0, tws = 0;
  size_t full_conn = 0, full_tw = 0, moved = 0, hits = 0;

  for (size_t op = 0; op < ops; ++op) {
    const FlowKey& k = keys[rng() % keys.size()];
    const auto it = model.find(k);
    const uint64_t value = rng();
    // Alternate phases of growth (no erases: the pools fill up) and churn.
    const bool growth = (op / 50000) % 2 == 0;
    uint64_t what = rng() % 8;
    if (growth && (what == 5 || what == 6)) what = 0;
    switch (what) {
      case 0:
      case 1: {  // insert a connection
        if (it != model.end()) break;
        TestConn* c = t.insert_conn(k, t.hash(k));
        if (conns == max_conns) {
          ASSERT_EQ(c, nullptr);
          ++full_conn;
          break;
        }
        ASSERT_NE(c, nullptr);
        ASSERT_EQ(c->key, k);
        ASSERT_EQ(c->state, 7u);
        ASSERT_EQ(c->cookie, 0u);
        c->cookie = value;
        model.emplace(k, Model{FlowRef::Kind::conn, t.index_of(*c), value});
        ++conns;
        break;
      }
      case 2: {  // insert a TIME_WAIT record
        if (it != model.end()) break;
        TimeWaitRecord* r = t.insert_time_wait(k);
        if (tws == max_tw) {
          ASSERT_EQ(r, nullptr);
          ++full_tw;
          break;
        }
        ASSERT_NE(r, nullptr);
        ASSERT_EQ(r->key, k);
        ASSERT_EQ(r->ts_offset, 0u);
        r->ts_offset = static_cast<uint32_t>(value);
        r->next = 0xabcdef;  // the user owns `next` while the record is live
        model.emplace(k, Model{FlowRef::Kind::time_wait, t.index_of(*r), value & 0xffffffff});
        ++tws;
        break;
      }
      case 3:
      case 4: {  // find
        const FlowRef f = (op & 1) ? t.find(k) : t.find(k, t.hash(k));
        if (it == model.end()) {
          ASSERT_FALSE(f) << "op " << op;
          break;
        }
        ++hits;
        ASSERT_EQ(f.kind, it->second.kind) << "op " << op;
        ASSERT_EQ(f.index, it->second.index) << "op " << op;
        if (f.kind == FlowRef::Kind::conn) {
          ASSERT_EQ(t.conn(f.index).key, k);
          ASSERT_EQ(t.conn(f.index).cookie, it->second.value);
        } else {
          ASSERT_EQ(t.time_wait(f.index).key, k);
          ASSERT_EQ(t.time_wait(f.index).ts_offset, it->second.value);
        }
        break;
      }
      case 5:
      case 6: {  // erase
        if (it == model.end()) break;
        if (it->second.kind == FlowRef::Kind::conn) {
          t.erase_conn(it->second.index);
          --conns;
        } else {
          t.erase_time_wait(it->second.index);
          --tws;
        }
        model.erase(it);
        ASSERT_FALSE(t.find(k));
        break;
      }
      case 7: {  // connection -> TIME_WAIT
        if (it == model.end() || it->second.kind != FlowRef::Kind::conn) break;
        TimeWaitRecord* r = t.conn_to_time_wait(it->second.index);
        if (tws == max_tw) {
          ASSERT_EQ(r, nullptr);
          ASSERT_EQ(t.find(k).kind, FlowRef::Kind::conn);
          ++full_tw;
          break;
        }
        ASSERT_NE(r, nullptr);
        ASSERT_EQ(r->key, k);
        r->ts_offset = static_cast<uint32_t>(value);
        it->second = Model{FlowRef::Kind::time_wait, t.index_of(*r), value & 0xffffffff};
        --conns;
        ++tws;
        ++moved;
        break;
      }
    }
    ASSERT_EQ(t.conn_count(), conns);
    ASSERT_EQ(t.time_wait_count(), tws);
    if (op % 65536 == 0) {
      ASSERT_TRUE(t.check_invariants()) << "op " << op;
    }
  }
  ASSERT_TRUE(t.check_invariants());
  // Every model entry is found, and iteration sees exactly the live entries.
  for (const auto& [k, m] : model) {
    const FlowRef f = t.find(k);
    ASSERT_EQ(f.kind, m.kind);
    ASSERT_EQ(f.index, m.index);
  }
  size_t seen_conns = 0, seen_tws = 0;
  t.for_each_conn([&](TestConn& c) {
    const auto it = model.find(c.key);
    ASSERT_NE(it, model.end());
    ASSERT_EQ(it->second.kind, FlowRef::Kind::conn);
    ASSERT_EQ(c.cookie, it->second.value);
    ++seen_conns;
  });
  t.for_each_time_wait([&](TimeWaitRecord& r) {
    const auto it = model.find(r.key);
    ASSERT_NE(it, model.end());
    ASSERT_EQ(it->second.kind, FlowRef::Kind::time_wait);
    ++seen_tws;
  });
  EXPECT_EQ(seen_conns, conns);
  EXPECT_EQ(seen_tws, tws);
  const Table& ct = t;  // the const overloads visit the same entries
  size_t const_conns = 0, const_tws = 0;
  ct.for_each_conn([&](const TestConn&) { ++const_conns; });
  ct.for_each_time_wait([&](const TimeWaitRecord&) { ++const_tws; });
  EXPECT_EQ(const_conns, conns);
  EXPECT_EQ(const_tws, tws);
  // The run must have exercised every path, or it proves little.
  EXPECT_GT(full_conn, 0u);
  EXPECT_GT(full_tw, 0u);
  EXPECT_GT(moved, 1000u);
  EXPECT_GT(hits, ops / 20);
}

TEST(FlowTable, RandomOpsSmallPoolsOftenFull) {
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    run_random_ops(seed, 3000, 2000, 8000, 1'000'000);
  }
}

TEST(FlowTable, RandomOpsLargePools) {
  run_random_ops(77, 60000, 40000, 150000, 2'000'000);
}

// ---- Churn: no tombstone build-up.

TEST(FlowTable, EraseHeavyChurnMatchesFreshBuild) {
  constexpr uint32_t kN = 100000;
  constexpr uint64_t kSeed = 0x5eed;
  std::mt19937_64 rng(21);
  Table t({kN, 0}, kSeed);
  std::vector<FlowKey> live;
  live.reserve(kN);
  while (live.size() < kN) {
    const FlowKey k = random_key(rng);
    if (t.find(k)) continue;
    ASSERT_NE(t.insert_conn(k), nullptr);
    live.push_back(k);
  }
  const uint32_t max_probe_full = t.max_probe_length();
  const uint64_t total_probe_full = t.total_probe_length();
  // Three million erase+insert pairs at full load: 30 times the table's size.
  for (int i = 0; i < 3'000'000; ++i) {
    const size_t victim = rng() % live.size();
    const FlowRef f = t.find(live[victim]);
    ASSERT_EQ(f.kind, FlowRef::Kind::conn);
    t.erase_conn(f.index);
    FlowKey k;
    do k = random_key(rng);
    while (t.find(k));
    ASSERT_NE(t.insert_conn(k), nullptr);
    live[victim] = k;
  }
  ASSERT_TRUE(t.check_invariants());
  EXPECT_EQ(t.conn_count(), kN);

  // A table built from scratch with the surviving keys, in another order, has
  // exactly the same occupied slots and the same probe lengths: the churned
  // table carries no trace of its history.
  Table fresh({kN, 0}, kSeed);
  std::vector<FlowKey> shuffled = live;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  for (const FlowKey& k : shuffled) ASSERT_NE(fresh.insert_conn(k), nullptr);
  EXPECT_EQ(t.total_probe_length(), fresh.total_probe_length());
  EXPECT_EQ(t.max_probe_length(), fresh.max_probe_length());
  for (uint32_t pos = 0; pos < t.slot_count(); ++pos) {
    ASSERT_EQ(t.slot_occupied(pos), fresh.slot_occupied(pos)) << pos;
  }
  // And probes stay in the range of a freshly filled random table.
  const double mean = double(t.total_probe_length()) / kN;
  EXPECT_LT(mean, 1.5 * double(total_probe_full) / kN);
  EXPECT_LE(t.max_probe_length(), 2 * max_probe_full);
  EXPECT_LT(mean, 8.0);  // uniform hashing, Robin Hood, load 7/8: about 4.5
  EXPECT_LE(t.max_probe_length(), 80u);
}

// ---- Adversarial keys: sets an attacker can send, all differing in one field.

struct ProbeStats {
  double mean;
  uint32_t max;
  double chi2;  // homes over 64 equal ranges of the slot array
};

ProbeStats fill_and_measure(Table& t, const std::vector<FlowKey>& keys) {
  std::vector<uint32_t> buckets(64, 0);
  for (const FlowKey& k : keys) {
    EXPECT_NE(t.insert_conn(k), nullptr);
    buckets[(t.hash(k) >> 32) >> 26]++;  // top 6 bits of the tag = which 1/64 of the array
  }
  const double expect = double(keys.size()) / 64;
  double chi2 = 0;
  for (uint32_t b : buckets) chi2 += (b - expect) * (b - expect) / expect;
  EXPECT_TRUE(t.check_invariants());
  return {double(t.total_probe_length()) / double(keys.size()), t.max_probe_length(), chi2};
}

TEST(FlowTable, AdversarialKeysProbeLikeRandomOnes) {
  constexpr uint32_t kN = 65535;
  const uint64_t seed = 0xabad1dea;
  std::vector<std::vector<FlowKey>> sets(5);
  for (uint32_t i = 0; i < kN; ++i) {
    sets[0].push_back(FlowKey{0x0a000001, 0xc0a80001, static_cast<uint16_t>(i + 1), 443});  // all source ports
    sets[1].push_back(FlowKey{0x0a000000 + i, 0xc0a80001, 40000, 443});                     // sequential addresses
    sets[2].push_back(FlowKey{0x0a000001u + (i << 16), 0xc0a80001, 40000, 443});            // high address bits
    sets[3].push_back(FlowKey{0x0a000001, 0xc0a80001 + i, 40000, 443});                     // our addresses
    sets[4].push_back(FlowKey{0x0a000000 + (i >> 8), 0xc0a80001, static_cast<uint16_t>(1024 + (i & 255)), 443});
  }
  std::mt19937_64 rng(99);
  std::vector<FlowKey> random;
  while (random.size() < kN) random.push_back(random_key(rng));

  Table ref_table({kN, 0}, seed);
  const ProbeStats ref = fill_and_measure(ref_table, random);
  for (size_t s = 0; s < sets.size(); ++s) {
    SCOPED_TRACE(s);
    Table t({kN, 0}, seed);
    const ProbeStats st = fill_and_measure(t, sets[s]);
    EXPECT_LT(st.mean, ref.mean * 1.25);
    EXPECT_LE(st.max, ref.max * 2);
    EXPECT_LT(st.chi2, 150.0);  // 63 degrees of freedom: mean 63, sd 11
    for (const FlowKey& k : sets[s]) ASSERT_TRUE(t.find(k));
  }
  EXPECT_LT(ref.chi2, 150.0);
}

// ---- Seeds.

TEST(FlowTable, DifferentSeedsHashDifferently) {
  constexpr uint32_t kN = 20000;
  Table a({kN, 0}, 1), b({kN, 0}, 2), a2({kN, 0}, 1);
  std::vector<FlowKey> keys;
  for (uint32_t i = 0; i < kN; ++i) keys.push_back(FlowKey{0x0a000000 + i, 0xc0a80001, 40000, 443});
  int same_hash = 0;
  for (const FlowKey& k : keys) {
    ASSERT_EQ(a.hash(k), a2.hash(k));
    same_hash += a.hash(k) == b.hash(k);
    a.insert_conn(k);
    b.insert_conn(k);
    a2.insert_conn(k);
  }
  EXPECT_EQ(same_hash, 0);
  uint32_t differing_slots = 0;
  for (uint32_t pos = 0; pos < a.slot_count(); ++pos) {
    ASSERT_EQ(a.slot_occupied(pos), a2.slot_occupied(pos));
    differing_slots += a.slot_occupied(pos) != b.slot_occupied(pos);
  }
  EXPECT_GT(differing_slots, a.slot_count() / 10);

  // The keys that share the longest run in table a (the collisions an attacker
  // would need to find) are spread out in table b.
  std::vector<std::pair<uint32_t, FlowKey>> by_home;
  for (const FlowKey& k : keys) {
    by_home.push_back({static_cast<uint32_t>((uint64_t(a.hash(k) >> 32) * a.slot_count()) >> 32), k});
  }
  std::sort(by_home.begin(), by_home.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  // Keys whose homes in table a fall within a window of 8 slots.
  std::vector<FlowKey> clustered;
  for (size_t i = 0; i < by_home.size() && clustered.size() < 50; ++i) {
    if (by_home[i].first < 8) clustered.push_back(by_home[i].second);
  }
  ASSERT_GE(clustered.size(), 3u);
  uint32_t min_home = UINT32_MAX, max_home = 0;
  for (const FlowKey& k : clustered) {
    const uint32_t h = static_cast<uint32_t>((uint64_t(b.hash(k) >> 32) * b.slot_count()) >> 32);
    min_home = std::min(min_home, h);
    max_home = std::max(max_home, h);
  }
  EXPECT_GT(max_home - min_home, b.slot_count() / 4);
}

}  // namespace
}  // namespace tcpterm
