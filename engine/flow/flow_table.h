// FlowTable: the per-core map from a TCP 4-tuple to its connection state.
//
// One table per engine core, written and read by that core only: no locks, no
// atomics. Everything is allocated (and page-faulted in) by the constructor;
// lookups, inserts and erases never allocate. Live connections and TIME_WAIT
// records are two kinds of entry, as Linux keeps full sockets and
// inet_timewait_sock minisocks in one established hash: a live entry is the
// full control block (the Conn template parameter, hundreds of bytes), a
// TIME_WAIT entry the 48-byte TimeWaitRecord, so a server holding 100k
// TIME_WAIT tuples pays 100k * ~57 bytes, not 100k control blocks.
//
// Memory layout (S = slot_count(), about (max_conns + max_time_wait) / 0.875):
//
//   slots_ (8-byte words, 8 per 64-byte cache line, S of them, 2 MiB pages)
//   +-----------------------+-----------------------+-----+-----------------------+
//   | ref:32 | tag:32       | ref:32 | tag:32       | ... | ref:32 | tag:32       |
//   +-----------------------+-----------------------+-----+-----------------------+
//     ref = kind:2 | index:30   (ref == 0: empty; kind 1 = conn, 2 = time_wait)
//     tag = the hash's high 32 bits; the slot's home is tag * S >> 32
//          |                          |
//          v                          v
//   conn pool: max_conns x Conn    time_wait pool: max_time_wait x TimeWaitRecord
//   +--------+--------+-----+      +------+------+------+-----+
//   | Conn 0 | Conn 1 | ... |      | TW 0 | TW 1 | TW 2 | ... |   (48 B each)
//   +--------+--------+-----+      +------+------+------+-----+
//   A free Conn's first 4 bytes    A free record's `next` links the free list.
//   link the free list.
//
// Probing: linear probing with Robin Hood insertion (an entry far from its home
// takes the place of one nearer to its own) and backward-shift deletion (the
// run after an erased slot moves one step back until an empty slot or an entry
// at its home). There are no tombstones, so erase-heavy churn (connections
// come and go all day) never lengthens probes: the set of occupied slots, and
// the total displacement, depend only on the keys present, not on history
// (tested). Robin Hood keeps each run sorted by home, so a miss stops as soon
// as it meets an entry nearer its home than the probe is to the key's home.
// Because the home is a monotone function of the stored tag, every slot knows
// its home without touching its entry; entries are touched only on a tag match.
// With AVX2, find() compares the tag against the 8 slots from the home at once
// and picks the matching slot and the entry's pool arithmetically: a hit takes
// no data-dependent branch, so consecutive lookups overlap their cache misses
// instead of waiting on mispredictions (bench_flow: ~25% faster hits than the
// plain probe loop, which remains for displacements >= 8 and the array end).
//
// Why 8-byte slots and the key in the entry: a slot holding the whole key would
// be 16 bytes and halve the slots per cache line. A tag match is a true match
// except with probability ~1/2^32 * (slots sharing the line), and after a find
// the caller reads the entry anyway, so comparing the key there costs the miss
// it would pay next. find() is then one cache miss on the slot line (prefetch
// it with prefetch(hash) in a batch) and one on the entry (prefetch_entry(), or
// find_batch() for a whole receive burst).
//
// Why S need not be a power of two: the home is tag * S >> 32 (Lemire's
// fast range), so S is max entries / max load rounded up to a cache line,
// which keeps the slot share per entry at 8 / 0.875 ~ 9.2 bytes for every
// configured capacity instead of up to twice that.
//
// The hash is SipHash-1-3 keyed by the caller's random seed; flow_hash.h
// explains why against hash flooding.
//
// Full pools: insert_conn()/insert_time_wait() return nullptr and change
// nothing; conn_to_time_wait() too when the TIME_WAIT pool is full. The slot
// array is sized so it can never fill before the pools do.
#pragma once

#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <type_traits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "engine/flow/flow_hash.h"
#include "engine/flow/flow_key.h"
#include "engine/flow/flow_memory.h"
#include "engine/flow/time_wait.h"

namespace tcpterm {

struct FlowRef {
  enum class Kind : uint8_t { none, conn, time_wait } kind = Kind::none;
  uint32_t index = 0;
  explicit operator bool() const { return kind != Kind::none; }
};

template <class Conn>
concept FlowConn = std::is_default_constructible_v<Conn> && requires(Conn c) {
  { c.key } -> std::same_as<FlowKey&>;
};

template <FlowConn Conn>
class FlowTable {
 public:
  struct Limits {
    uint32_t max_conns;
    uint32_t max_time_wait;
  };

  // Maximum load of the slot array when both pools are full: 7/8.
  static constexpr uint32_t kMaxLoadNum = 7, kMaxLoadDen = 8;
  static constexpr uint32_t kMaxPool = (uint32_t{1} << 30) - 1;  // 30-bit index

  FlowTable(Limits limits, uint64_t seed)
      : hasher_(FlowHasher::from_seed(seed)),
        max_conns_(limits.max_conns),
        max_tw_(limits.max_time_wait) {
    if (max_conns_ > kMaxPool || max_tw_ > kMaxPool) {
      throw std::invalid_argument("FlowTable: a pool is limited to 2^30 - 1 entries");
    }
    const uint64_t total = uint64_t{max_conns_} + max_tw_;
    uint64_t n = (total * kMaxLoadDen + kMaxLoadNum - 1) / kMaxLoadNum;
    n = (n + kSlotsPerLine - 1) / kSlotsPerLine * kSlotsPerLine;
    if (n <= total) n += kSlotsPerLine;  // always at least one empty slot
    nslots_ = static_cast<uint32_t>(n);

    slot_mem_ = PageRegion(size_t{nslots_} * sizeof(uint64_t));
    slots_ = static_cast<uint64_t*>(slot_mem_.data());  // zero = empty

    conn_mem_ = PageRegion(size_t{max_conns_} * sizeof(Conn));
    conns_ = static_cast<unsigned char*>(conn_mem_.data());
    for (uint32_t i = 0; i < max_conns_; ++i) {
      set_conn_link(i, i + 1 < max_conns_ ? i + 1 : kNil);
      poison_free_conn(i);
    }
    conn_free_ = max_conns_ ? 0 : kNil;

    tw_mem_ = PageRegion(size_t{max_tw_} * sizeof(TimeWaitRecord));
    tws_ = static_cast<TimeWaitRecord*>(tw_mem_.data());
    for (uint32_t i = 0; i < max_tw_; ++i) {
      ::new (static_cast<void*>(tws_ + i)) TimeWaitRecord{};
      tws_[i].next = i + 1 < max_tw_ ? i + 1 : kNil;
      poison_free_tw(i);
    }
    tw_free_ = max_tw_ ? 0 : kNil;
  }

  ~FlowTable() {
    if constexpr (!std::is_trivially_destructible_v<Conn>) {
      for_each_conn([](Conn& c) { c.~Conn(); });
    }
  }

  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  uint64_t hash(const FlowKey& key) const { return hasher_(key); }
  // The part of the hash a slot stores (and that gives its home). An owner
  // that keeps it can erase or convert its entry without hashing the key again.
  static uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

  // Prefetches the slots find() reads first: the 8 from the home on (one or two lines).
  void prefetch(uint64_t hash) const {
    const uint64_t* p = slots_ + home(tag_of(hash));
    __builtin_prefetch(p);
    __builtin_prefetch(p + kSlotsPerLine - 1);
  }

  // Second stage of a batched lookup: once the slot line is in cache (after
  // prefetch(hash)), read it and prefetch the entry whose tag matches, so the
  // key comparison in find() does not wait for memory either.
  void prefetch_entry(uint64_t hash) const {
    const uint32_t tag = tag_of(hash);
    uint32_t pos = home(tag);
    for (uint32_t d = 0; d < kSlotsPerLine; ++d) {
      const uint64_t s = slots_[pos];
      const uint32_t ref = ref_of(s);
      if (ref == 0) return;
      if (static_cast<uint32_t>(s) == tag) {
        __builtin_prefetch(entry_key(ref));
        return;
      }
      if (displacement(pos, static_cast<uint32_t>(s)) < d) return;
      pos = next(pos);
    }
  }

  // Looks up a burst of keys with their memory accesses overlapped: hash and
  // prefetch every slot line, then prefetch every matching entry, then compare.
  // A receive burst (32 frames) is the intended n; any n works.
  void find_batch(const FlowKey* keys, size_t n, FlowRef* out) const {
    constexpr size_t kChunk = 32;
    uint64_t h[kChunk];
    for (size_t base = 0; base < n; base += kChunk) {
      const size_t m = n - base < kChunk ? n - base : kChunk;
      for (size_t i = 0; i < m; ++i) {
        h[i] = hash(keys[base + i]);
        prefetch(h[i]);
      }
      for (size_t i = 0; i < m; ++i) prefetch_entry(h[i]);
      for (size_t i = 0; i < m; ++i) out[base + i] = find(keys[base + i], h[i]);
    }
  }

  FlowRef find(const FlowKey& key) const { return find(key, hash(key)); }

  FlowRef find(const FlowKey& key, uint64_t hash) const {
    const uint32_t tag = tag_of(hash);
    const uint32_t pos = home(tag);
#if defined(__AVX2__)
    // The common case without a data-dependent branch: compare the tag with
    // the 8 slots from the home on (two 32-byte loads), then check the key of
    // each match (almost always exactly one). Which slot matched and which
    // pool the entry is in are computed, not branched on, so back-to-back
    // lookups are not serialised by mispredictions and their cache misses
    // overlap. Displacements >= 8 and windows past the end take the loop below.
    if (pos + kSlotsPerLine <= nslots_) [[likely]] {
      const auto* p = reinterpret_cast<const __m256i*>(slots_ + pos);
      const __m256i want = _mm256_set1_epi64x(tag);  // 32-bit lanes: tag, 0 (= empty ref)
      const uint32_t lo = static_cast<uint32_t>(
          _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_loadu_si256(p), want))));
      const uint32_t hi = static_cast<uint32_t>(
          _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_loadu_si256(p + 1), want))));
      const uint32_t bits = lo | hi << 8;                 // bit 2k: tag equal, bit 2k+1: slot empty
      const uint32_t empty = (bits >> 1) & 0x5555;
      for (uint32_t match = bits & 0x5555 & ~empty; match != 0; match &= match - 1) {
        const uint32_t ref = ref_of(slots_[pos + (__builtin_ctz(match) >> 1)]);
        if (keys_equal(entry_key(ref), key)) [[likely]] return make_ref(ref);
      }
      // A present key lies between its home and the first empty slot.
      if (empty != 0) return {};
      return find_slow(key, tag, pos + kSlotsPerLine == nslots_ ? 0 : pos + kSlotsPerLine, kSlotsPerLine);
    }
#endif
    return find_slow(key, tag, pos, 0);
  }

  Conn& conn(uint32_t index) {
    assert(index < max_conns_);
    return *std::launder(reinterpret_cast<Conn*>(conns_ + size_t{index} * sizeof(Conn)));
  }
  const Conn& conn(uint32_t index) const {
    assert(index < max_conns_);
    return *std::launder(reinterpret_cast<const Conn*>(conns_ + size_t{index} * sizeof(Conn)));
  }
  TimeWaitRecord& time_wait(uint32_t index) {
    assert(index < max_tw_);
    return tws_[index];
  }
  const TimeWaitRecord& time_wait(uint32_t index) const {
    assert(index < max_tw_);
    return tws_[index];
  }

  uint32_t index_of(const Conn& c) const {
    return static_cast<uint32_t>((reinterpret_cast<const unsigned char*>(&c) - conns_) / sizeof(Conn));
  }
  uint32_t index_of(const TimeWaitRecord& r) const { return static_cast<uint32_t>(&r - tws_); }

  // Precondition: key absent. nullptr when the pool is full (caller counts the limit hit).
  // The returned entry is value-initialised (Conn{}) except `key`.
  Conn* insert_conn(const FlowKey& key) { return insert_conn(key, hash(key)); }

  Conn* insert_conn(const FlowKey& key, uint64_t hash) {
    assert(!find(key, hash) && "insert_conn: key already present");
    if (conn_free_ == kNil) [[unlikely]] return nullptr;
    const uint32_t index = conn_free_;
    conn_free_ = conn_link(index);
    asan_unpoison(conns_ + size_t{index} * sizeof(Conn), sizeof(Conn));
    Conn* c = ::new (static_cast<void*>(conns_ + size_t{index} * sizeof(Conn))) Conn();
    c->key = key;
    insert_slot(make_slot(kConn, index, tag_of(hash)));
    ++conn_count_;
    return c;
  }

  TimeWaitRecord* insert_time_wait(const FlowKey& key) { return insert_time_wait(key, hash(key)); }

  TimeWaitRecord* insert_time_wait(const FlowKey& key, uint64_t hash) {
    assert(!find(key, hash) && "insert_time_wait: key already present");
    if (tw_free_ == kNil) [[unlikely]] return nullptr;
    TimeWaitRecord* r = alloc_time_wait(key);
    insert_slot(make_slot(kTimeWait, index_of(*r), tag_of(hash)));
    return r;
  }

  // Replace a live connection by a TIME_WAIT record under the same key, in
  // place: the slot keeps its position and only its reference changes (the
  // slot is found again from the key's hash; no other entry is touched). The
  // Conn is destroyed and freed. nullptr (and nothing changed) when the
  // TIME_WAIT pool is full.
  TimeWaitRecord* conn_to_time_wait(uint32_t conn_index) {
    return conn_to_time_wait(conn_index, tag_of(hash(conn(conn_index).key)));
  }
  // The same with the key's tag (tag_of(hash), kept by the caller since the
  // insert), which spares recomputing the hash.
  TimeWaitRecord* conn_to_time_wait(uint32_t conn_index, uint32_t tag) {
    if (tw_free_ == kNil) [[unlikely]] return nullptr;
    Conn& c = conn(conn_index);
    const FlowKey key = c.key;
    assert(tag == tag_of(hash(key)) && "conn_to_time_wait: wrong tag");
    const uint32_t pos = slot_position(make_slot(kConn, conn_index, tag), tag);
    assert(pos != kNil && "conn_to_time_wait: connection not live");
    if (pos == kNil) [[unlikely]] return nullptr;
    TimeWaitRecord* r = alloc_time_wait(key);
    slots_[pos] = make_slot(kTimeWait, index_of(*r), tag);
    free_conn(conn_index);
    return r;
  }


  // Erasing an index that is not live is a bug (asserted); in release it
  // leaves the table unchanged.
  void erase_conn(uint32_t index) { erase_conn(index, tag_of(hash(conn(index).key))); }
  void erase_conn(uint32_t index, uint32_t tag) {
    assert(tag == tag_of(hash(conn(index).key)) && "erase_conn: wrong tag");
    const uint32_t pos = slot_position(make_slot(kConn, index, tag), tag);
    assert(pos != kNil && "erase_conn: connection not live");
    if (pos == kNil) [[unlikely]] return;
    erase_slot(pos);
    free_conn(index);
  }

  void erase_time_wait(uint32_t index) {
    const uint32_t tag = tag_of(hash(time_wait(index).key));
    const uint32_t pos = slot_position(make_slot(kTimeWait, index, tag), tag);
    assert(pos != kNil && "erase_time_wait: record not live");
    if (pos == kNil) [[unlikely]] return;
    erase_slot(pos);
    tws_[index].next = tw_free_;
    tw_free_ = index;
    poison_free_tw(index);
    --tw_count_;
  }

  uint32_t conn_count() const { return conn_count_; }
  uint32_t time_wait_count() const { return tw_count_; }
  uint32_t max_conns() const { return max_conns_; }
  uint32_t max_time_wait() const { return max_tw_; }

  // Visits every live entry, in slot order. For snapshots and tests, not the
  // packet path; f must not insert or erase.
  template <class F>
  void for_each_conn(F&& f) {
    for (uint32_t pos = 0; pos < nslots_; ++pos) {
      const uint32_t ref = ref_of(slots_[pos]);
      if ((ref >> kIndexBits) == kConn) f(conn(ref & kIndexMask));
    }
  }
  template <class F>
  void for_each_time_wait(F&& f) {
    for (uint32_t pos = 0; pos < nslots_; ++pos) {
      const uint32_t ref = ref_of(slots_[pos]);
      if ((ref >> kIndexBits) == kTimeWait) f(tws_[ref & kIndexMask]);
    }
  }
  template <class F>
  void for_each_conn(F&& f) const {
    for (uint32_t pos = 0; pos < nslots_; ++pos) {
      const uint32_t ref = ref_of(slots_[pos]);
      if ((ref >> kIndexBits) == kConn) f(conn(ref & kIndexMask));
    }
  }
  template <class F>
  void for_each_time_wait(F&& f) const {
    for (uint32_t pos = 0; pos < nslots_; ++pos) {
      const uint32_t ref = ref_of(slots_[pos]);
      if ((ref >> kIndexBits) == kTimeWait) f(static_cast<const TimeWaitRecord&>(tws_[ref & kIndexMask]));
    }
  }

  // Slots + pools, as configured (each array is mapped rounded up to its page size).
  size_t memory_bytes() const {
    return size_t{nslots_} * sizeof(uint64_t) + size_t{max_conns_} * sizeof(Conn) +
           size_t{max_tw_} * sizeof(TimeWaitRecord);
  }
  uint32_t slot_count() const { return nslots_; }

  // ---- Introspection for tests and benchmarks (O(slot_count()), not for the packet path).

  // Longest probe a successful find takes: max over entries of displacement + 1.
  uint32_t max_probe_length() const {
    uint32_t m = 0;
    for (uint32_t pos = 0; pos < nslots_; ++pos) {
      const uint64_t s = slots_[pos];
      if (ref_of(s) != 0 && displacement(pos, static_cast<uint32_t>(s)) + 1 > m) {
        m = displacement(pos, static_cast<uint32_t>(s)) + 1;
      }
    }
    return m;
  }
  // Sum over entries of displacement + 1 (divide by the entry count for the mean).
  uint64_t total_probe_length() const {
    uint64_t t = 0;
    for (uint32_t pos = 0; pos < nslots_; ++pos) {
      const uint64_t s = slots_[pos];
      if (ref_of(s) != 0) t += displacement(pos, static_cast<uint32_t>(s)) + 1;
    }
    return t;
  }
  // True when the slot at pos is occupied (tests compare occupancy patterns).
  bool slot_occupied(uint32_t pos) const { return ref_of(slots_[pos]) != 0; }

  // Checks the structure: each entry reachable from its home without an empty
  // slot in between, Robin Hood order (displacement grows by at most one per
  // step along a run), refs in range and unique, keys hashing to their tags,
  // counts and free lists consistent. Returns false on the first violation.
  bool check_invariants() const {
    uint32_t conns = 0, tws = 0;
    // Start the walk at an empty slot so runs are seen whole.
    uint32_t start = 0;
    while (start < nslots_ && ref_of(slots_[start]) != 0) ++start;
    if (start == nslots_) return false;  // there must always be an empty slot
    uint32_t prev_d = 0;
    for (uint32_t i = 0; i < nslots_; ++i) {
      const uint32_t pos = (start + i) % nslots_;
      const uint64_t s = slots_[pos];
      const uint32_t ref = ref_of(s);
      if (ref == 0) {
        prev_d = 0;
        continue;
      }
      const uint32_t kind = ref >> kIndexBits, index = ref & kIndexMask;
      const uint32_t tag = static_cast<uint32_t>(s);
      const uint32_t d = displacement(pos, tag);
      const bool run_start = ref_of(slots_[pos == 0 ? nslots_ - 1 : pos - 1]) == 0;
      if (run_start ? d != 0 : d > prev_d + 1) return false;
      prev_d = d;
      if (kind == kConn) {
        if (index >= max_conns_ || tag_of(hash(conn(index).key)) != tag) return false;
        ++conns;
      } else if (kind == kTimeWait) {
        if (index >= max_tw_ || tag_of(hash(tws_[index].key)) != tag) return false;
        ++tws;
      } else {
        return false;
      }
    }
    if (conns != conn_count_ || tws != tw_count_) return false;
    // Free lists: lengths must complete the pools (a cycle or a live entry on
    // a free list would break the count).
    uint32_t free_conns = 0;
    for (uint32_t i = conn_free_; i != kNil; i = conn_link(i)) {
      if (i >= max_conns_ || ++free_conns > max_conns_) return false;
    }
    uint32_t free_tws = 0;
    for (uint32_t i = tw_free_; i != kNil; i = tws_[i].next) {
      if (i >= max_tw_ || ++free_tws > max_tw_) return false;
    }
    return free_conns + conn_count_ == max_conns_ && free_tws + tw_count_ == max_tw_;
  }

 private:
  // Takes a record off the free list (precondition: one is free), cleared but for its key.
  TimeWaitRecord* alloc_time_wait(const FlowKey& key) {
    TimeWaitRecord* r = tws_ + tw_free_;
    tw_free_ = r->next;
    asan_unpoison(r, sizeof *r);
    *r = TimeWaitRecord{};
    r->key = key;
    ++tw_count_;
    return r;
  }

  static constexpr uint32_t kNil = UINT32_MAX;
  static constexpr uint32_t kSlotsPerLine = 64 / sizeof(uint64_t);
  static constexpr uint32_t kIndexBits = 30;
  static constexpr uint32_t kIndexMask = (uint32_t{1} << kIndexBits) - 1;
  static constexpr uint32_t kConn = static_cast<uint32_t>(FlowRef::Kind::conn);
  static constexpr uint32_t kTimeWait = static_cast<uint32_t>(FlowRef::Kind::time_wait);

  static uint32_t ref_of(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
  static uint64_t make_slot(uint32_t kind, uint32_t index, uint32_t tag) {
    return (uint64_t{(kind << kIndexBits) | index} << 32) | tag;
  }
  uint32_t home(uint32_t tag) const { return static_cast<uint32_t>((uint64_t{tag} * nslots_) >> 32); }
  uint32_t next(uint32_t pos) const { return pos + 1 == nslots_ ? 0 : pos + 1; }
  uint32_t displacement(uint32_t pos, uint32_t tag) const {
    const uint32_t h = home(tag);
    return pos >= h ? pos - h : pos + nslots_ - h;
  }

  static bool keys_equal(const unsigned char* a, const FlowKey& b) {
    uint64_t a0, b0;
    uint32_t a1, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, &b, 8);
    std::memcpy(&a1, a + 8, 4);
    std::memcpy(&b1, reinterpret_cast<const unsigned char*>(&b) + 8, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }

  static FlowRef make_ref(uint32_t ref) {
    return FlowRef{static_cast<FlowRef::Kind>(ref >> kIndexBits), ref & kIndexMask};
  }

  // Address of the key of a live entry, chosen without a branch on the kind.
  const unsigned char* entry_key(uint32_t ref) const {
    const bool is_conn = (ref >> kIndexBits) == kConn;
    const unsigned char* base = is_conn ? conns_ + conn_key_offset_ : reinterpret_cast<const unsigned char*>(tws_);
    const size_t stride = is_conn ? sizeof(Conn) : sizeof(TimeWaitRecord);
    return base + size_t{ref & kIndexMask} * stride;
  }

  // Offset of Conn::key (offsetof needs a standard-layout Conn; this does not).
  static uint32_t key_offset_in_conn() {
    alignas(Conn) unsigned char buf[sizeof(Conn)];
    Conn* c = ::new (static_cast<void*>(buf)) Conn();
    const auto off = static_cast<uint32_t>(reinterpret_cast<unsigned char*>(&c->key) - buf);
    c->~Conn();
    return off;
  }

  // The probe loop: from pos, which is d steps from the key's home.
  FlowRef find_slow(const FlowKey& key, uint32_t tag, uint32_t pos, uint32_t d) const {
    for (;; ++d) {
      const uint64_t s = slots_[pos];
      const uint32_t ref = ref_of(s);
      if (ref == 0) return {};
      const uint32_t stag = static_cast<uint32_t>(s);
      if (stag == tag && keys_equal(entry_key(ref), key)) return make_ref(ref);
      // Robin Hood: displacement grows by at most one per step along a run,
      // so an entry nearer its home than we are to ours means the key is absent.
      if (displacement(pos, stag) < d) return {};
      pos = next(pos);
    }
  }

  // Robin Hood insert of a slot word; the caller guarantees a free slot exists.
  void insert_slot(uint64_t word) {
    uint32_t pos = home(static_cast<uint32_t>(word));
    for (uint32_t d = 0;; ++d) {
      const uint64_t s = slots_[pos];
      if (ref_of(s) == 0) {
        slots_[pos] = word;
        return;
      }
      const uint32_t sd = displacement(pos, static_cast<uint32_t>(s));
      if (sd < d) {  // the resident is richer: it moves on, we take its place
        slots_[pos] = word;
        word = s;
        d = sd;
      }
      pos = next(pos);
    }
  }

  // Position of the slot holding exactly `word`, or kNil.
  uint32_t slot_position(uint64_t word, uint32_t tag) const {
    uint32_t pos = home(tag);
    for (uint32_t d = 0;; ++d) {
      const uint64_t s = slots_[pos];
      if (s == word) return pos;
      if (ref_of(s) == 0 || displacement(pos, static_cast<uint32_t>(s)) < d) return kNil;
      pos = next(pos);
    }
  }

  // Backward-shift deletion: pull the rest of the run one step back.
  void erase_slot(uint32_t pos) {
    for (;;) {
      const uint32_t nx = next(pos);
      const uint64_t s = slots_[nx];
      if (ref_of(s) == 0 || displacement(nx, static_cast<uint32_t>(s)) == 0) {
        slots_[pos] = 0;
        return;
      }
      slots_[pos] = s;
      pos = nx;
    }
  }

  uint32_t conn_link(uint32_t index) const {
    uint32_t link;
    std::memcpy(&link, conns_ + size_t{index} * sizeof(Conn), sizeof link);
    return link;
  }
  void set_conn_link(uint32_t index, uint32_t link) {
    std::memcpy(conns_ + size_t{index} * sizeof(Conn), &link, sizeof link);
  }
  void free_conn(uint32_t index) {
    conn(index).~Conn();
    set_conn_link(index, conn_free_);
    conn_free_ = index;
    poison_free_conn(index);
    --conn_count_;
  }

  // ASan builds: a free entry is poisoned except its free-list link (the
  // first 8 bytes of a Conn, the 8 bytes holding a record's `next`).
  void poison_free_conn([[maybe_unused]] uint32_t index) {
#if TCPTERM_ASAN
    if constexpr (sizeof(Conn) > 8) asan_poison(conns_ + size_t{index} * sizeof(Conn) + 8, sizeof(Conn) - 8);
#endif
  }
  void poison_free_tw([[maybe_unused]] uint32_t index) {
#if TCPTERM_ASAN
    constexpr size_t kLink = offsetof(TimeWaitRecord, next) / 8 * 8;
    const auto* p = reinterpret_cast<const unsigned char*>(tws_ + index);
    asan_poison(p, kLink);
    asan_poison(p + kLink + 8, sizeof(TimeWaitRecord) - kLink - 8);
#endif
  }

  FlowHasher hasher_;
  uint64_t* slots_ = nullptr;
  unsigned char* conns_ = nullptr;
  TimeWaitRecord* tws_ = nullptr;
  uint32_t nslots_ = 0;
  uint32_t conn_key_offset_ = key_offset_in_conn();
  uint32_t max_conns_, max_tw_;
  uint32_t conn_count_ = 0, tw_count_ = 0;
  uint32_t conn_free_ = kNil, tw_free_ = kNil;
  PageRegion slot_mem_, conn_mem_, tw_mem_;
};

}  // namespace tcpterm
