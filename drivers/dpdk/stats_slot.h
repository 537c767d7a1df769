// A per-lcore statistics mailbox: one writer (the poll loop), any readers (the
// control thread, telemetry), no lock.
//
// The poll loop publishes a copy of its counters every few milliseconds with a
// sequence lock: it bumps the sequence to odd, copies, bumps it to even. A reader
// copies and retries while the sequence was odd or changed under it. The writer
// never waits, so the packet path holds no lock and shares no cache line that a
// reader writes; the slot is cache-line aligned so two lcores' slots never share one.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace tcpterm::dpdk {

template <class T>
class alignas(64) StatsSlot {
  static_assert(std::is_trivially_copyable_v<T>, "published by memcpy");

 public:
  void publish(const T& v) {
    const uint32_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(static_cast<void*>(&value_), &v, sizeof(T));
    seq_.store(s + 2, std::memory_order_release);
  }
  // Returns false only if it never read a stable copy (a writer that keeps
  // rewriting it for 1000 tries in a row; the caller keeps its previous copy).
  bool read(T& out) const {
    for (int tries = 0; tries < 1000; ++tries) {
      const uint32_t s1 = seq_.load(std::memory_order_acquire);
      if (s1 & 1u) continue;
      std::memcpy(static_cast<void*>(&out), &value_, sizeof(T));
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == s1) return true;
    }
    return false;
  }

 private:
  std::atomic<uint32_t> seq_{0};
  T value_{};
};

}  // namespace tcpterm::dpdk
