// The per-core hierarchical timer wheel: RTO and SYN-ACK retransmission
// (200 ms .. 120 s), FIN_WAIT_2 (60 s), TIME_WAIT (60 s), keepalive (7200 s).
//
// Why a wheel (after Linux kernel/time/timer.c and ratas). A TCP endpoint arms
// a timer for nearly every segment it sends and cancels nearly all of them: the
// RTO is re-armed by every ACK and cancelled when the flight drains, keepalive
// is pushed back by every segment. Timers that fire are the exception (a loss,
// an idle peer). So schedule, cancel and re-arm must be O(1) and cheap, while
// expiry may cost a little more. A heap is O(log n) on every re-arm; a wheel
// is a few stores: hash the deadline to a slot, push on an intrusive list.
//
// Levels. Time is counted in ticks of 2^k ns (the requested tick rounded up to
// a power of two; 1 ms -> 2^20 ns = 1.048576 ms) so a deadline becomes a tick
// with one shift. Four levels of 256 slots; level L holds timers whose tick is
// 256^L .. 256^(L+1)-1 ticks ahead of the wheel, in slot (tick >> 8L) & 255:
//
//   level  slot width     range ahead (tick = 2^20 ns)   typical tenant
//     0    1 tick         0 .. 268 ms                    RTO 200 ms, delayed work
//     1    256 ticks      268 ms .. 68.7 s               RTO backoff, TIME_WAIT, FIN_WAIT_2
//     2    65536 ticks    68.7 s .. 4.9 h                keepalive (7200 s), RTO 120 s
//     3    2^24 ticks     4.9 h .. 52.1 days             long keepalive, anything else
//
// Beyond the horizon (2^32 ticks = 52.1 days) a timer is clamped into the last
// slot of level 3 and re-examined from its real deadline when that slot
// cascades, so it is never early, however far away.
//
// Exactness: Linux gave up cascading and lets a timer at level L fire up to
// one slot width late (fine for a kernel that mostly cancels). We cascade, as
// the classic wheel and ratas do: when the wheel reaches the start of a
// level-L slot's span, that slot's timers are re-inserted one level (or more)
// down, recomputed from their own deadline. A timer therefore always ends in
// the level-0 slot of its own tick. A timer cascades at most three times in
// its life, and most are cancelled before they cascade at all.
//
// The guarantee (tested): a timer with deadline E is due at tick
// ceil(E / tick); it runs in the first advance(now) with now >= that tick's
// start, i.e. never before E and at most one tick after E (if the budget
// allows; otherwise in the following calls, in order). Timers run in order of
// their due tick; within a tick the order is unspecified. A deadline at or
// before now() is "overdue": the timer runs in the next advance() call
// (never in the same call that scheduled it, so a callback that re-arms its
// own timer in the past cannot loop), after what an exhausted budget left.
//
// Bounded work. advance(now, budget, fn) runs at most `budget` timers and
// moves at most `budget` timers down a level, then returns; the rest stays
// due and the next call resumes exactly there (ratas' max_execute). So 100k
// timers falling due in one tick cost the poll loop `budget` at a time. Empty
// ticks are skipped with per-level occupancy bitmaps, so advancing by days
// costs a few bit scans, not one step per tick.
//
// Layout: the wheel is 1024 slot heads (8 KB) + 4 x 256-bit occupancy maps +
// two lists (due: collected and being run; overdue: scheduled in the past).
// A TimerNode (24 bytes) is embedded in the owner (connection); lists are
// Linux hlists (next, pprev) so unlinking needs no head and no branch on
// position. Nothing is allocated after construction, nothing reads a clock.
// Not thread-safe: one wheel per core. Pending nodes point into the wheel, so
// the wheel is neither copyable nor movable, and must outlive (or see
// cancelled) every node it holds; owners cancel before they are freed.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "engine/timer/time.h"

namespace tcpterm {

struct TimerNode {
  TimerNode* next = nullptr;
  TimerNode** pprev = nullptr;  // null <=> not pending
  Nanos expires = 0;
};

inline constexpr Nanos kNever = std::numeric_limits<Nanos>::max();

namespace timer_detail {
// Offset of member M in T, computed once on raw storage (no T is constructed;
// the compiler folds it to a constant). T must not be polymorphic.
template <class T, TimerNode T::*M>
inline std::ptrdiff_t member_offset() noexcept {
  static_assert(!std::is_polymorphic_v<T>, "owner_of needs a non-polymorphic owner");
  alignas(T) static unsigned char storage[sizeof(T)];
  const T* p = reinterpret_cast<const T*>(storage);
  return reinterpret_cast<const unsigned char*>(&(p->*M)) - storage;
}
}  // namespace timer_detail

// container_of: the object that embeds node `n` as member M.
template <class T, TimerNode T::*M>
inline T& owner_of(TimerNode& n) noexcept {
  return *reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(&n) -
                               timer_detail::member_offset<T, M>());
}

class TimerWheel {
 public:
  static constexpr unsigned kLevels = 4;
  static constexpr unsigned kSlotBits = 8;
  static constexpr unsigned kSlots = 1u << kSlotBits;                   // per level
  static constexpr uint64_t kHorizonTicks = 1ull << (kLevels * kSlotBits);  // 2^32

  // `tick` is rounded up to a power of two of nanoseconds (1 ms -> 2^20 ns).
  explicit TimerWheel(Nanos now, Nanos tick = kMillisecond);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // O(1). Re-arms if already pending. A deadline at or before now() fires on
  // the next advance().
  void schedule(TimerNode& n, Nanos expires) {
    if (pending(n)) {
      unlink(n);
    } else {
      ++size_;
    }
    n.expires = expires;
    const uint64_t t = tick_of(expires);
    if (t < tick_) [[unlikely]] {
      push(overdue_, n);
      return;
    }
    insert(n, t);
  }

  // O(1); no-op if not pending.
  void cancel(TimerNode& n) {
    if (!pending(n)) return;
    unlink(n);
    --size_;
  }

  static bool pending(const TimerNode& n) { return n.pprev != nullptr; }

  // Runs due timers in expiry order (tick resolution; never early), at most
  // `budget` of them, and cascades at most `budget` timers down a level.
  // on_expire(TimerNode&) is called after the node is unlinked; it may
  // schedule or cancel any timer (this one included) but must not call
  // advance(). If a budget ran out, the rest stays due and the next call
  // resumes there. Returns the number of timers run.
  template <class F>
  size_t advance(Nanos now, size_t budget, F&& on_expire);

  size_t size() const { return size_; }                 // pending timers
  Nanos now() const { return (tick_ - 1) << shift_; }  // start of the last tick processed
  Nanos tick() const { return Nanos{1} << shift_; }
  Nanos horizon() const { return kHorizonTicks << shift_; }

  // Would advance(now, unlimited) have anything to do (run or cascade)?
  bool due(Nanos now) const {
    return due_ != nullptr || overdue_ != nullptr || next_event_tick() <= (now >> shift_);
  }
  // The earliest time at which advance() has work (an expiry or a cascade):
  // now() if it has work already, kNever if no timer is pending. For a
  // poll-at style idle check; it is never later than the next expiry.
  Nanos next_event() const {
    if (due_ != nullptr || overdue_ != nullptr) return now();
    const uint64_t t = next_event_tick();
    return t == kNoTick ? kNever : t << shift_;
  }

 private:
  static constexpr uint64_t kNoTick = std::numeric_limits<uint64_t>::max();

  // The tick a deadline is due at: ceil(expires / tick), overflow-free.
  uint64_t tick_of(Nanos e) const {
    return (e >> shift_) + ((e & ((Nanos{1} << shift_) - 1)) != 0);
  }

  static void push(TimerNode*& head, TimerNode& n) {
    n.next = head;
    n.pprev = &head;
    if (head != nullptr) head->pprev = &n.next;
    head = &n;
  }

  // Files `n`, due at tick t >= tick_, into the level/slot for its distance.
  void insert(TimerNode& n, uint64_t t) {
    uint64_t delta = t - tick_;
    if (delta >= kHorizonTicks) [[unlikely]] {  // clamp; re-examined at cascade
      delta = kHorizonTicks - 1;
      t = tick_ + delta;
    }
    const unsigned level = static_cast<unsigned>(std::bit_width(delta | 1) - 1) / kSlotBits;
    const unsigned idx = level * kSlots + static_cast<unsigned>((t >> (level * kSlotBits)) & (kSlots - 1));
    occupied_[idx / 64] |= uint64_t{1} << (idx % 64);
    push(slots_[idx], n);
  }

  void unlink(TimerNode& n) {
    TimerNode* next = n.next;
    *n.pprev = next;
    if (next != nullptr) {
      next->pprev = n.pprev;
    } else {
      // Last of its list: if its pprev is a slot head, that slot is now empty.
      const auto p = reinterpret_cast<uintptr_t>(n.pprev);
      const auto lo = reinterpret_cast<uintptr_t>(&slots_[0]);
      if (p - lo < sizeof(slots_)) {
        const size_t idx = (p - lo) / sizeof(TimerNode*);
        occupied_[idx / 64] &= ~(uint64_t{1} << (idx % 64));
      }
    }
    n.next = nullptr;
    n.pprev = nullptr;
  }

  TimerNode* pop_due() {
    TimerNode* n = due_;
    due_ = n->next;
    if (due_ != nullptr) due_->pprev = &due_;
    n->next = nullptr;
    n->pprev = nullptr;
    return n;
  }

  // Moves list `from` (whole) into the empty list `to`.
  static void take(TimerNode*& to, TimerNode*& from) {
    to = from;
    from = nullptr;
    if (to != nullptr) to->pprev = &to;
  }

  uint64_t next_event_tick() const;          // kNoTick if the wheel is empty
  bool cascade(size_t& moved, size_t budget);  // false: budget ran out mid-way

  uint64_t tick_;  // next tick to collect; every tick < tick_ has been collected
  unsigned shift_;
  size_t size_ = 0;
  TimerNode* due_ = nullptr;      // collected, being run (resumes after a budget stop)
  TimerNode* overdue_ = nullptr;  // scheduled at or before now(): run by the next advance()
  uint64_t occupied_[kLevels * kSlots / 64] = {};
  TimerNode* slots_[kLevels * kSlots] = {};
};

template <class F>
size_t TimerWheel::advance(Nanos now, size_t budget, F&& on_expire) {
  size_t run = 0;
  size_t moved = 0;
  const uint64_t limit = now >> shift_;  // ticks <= limit are due
  bool overdue_taken = false;
  for (;;) {
    while (due_ != nullptr) {
      if (run == budget) return run;
      TimerNode* n = pop_due();
      --size_;
      ++run;
      on_expire(*n);
    }
    if (run == budget) return run;
    if (!overdue_taken) {  // once per call: what was overdue when we got here
      overdue_taken = true;
      if (overdue_ != nullptr) {
        take(due_, overdue_);
        continue;
      }
    }
    if (tick_ > limit) return run;
    const uint64_t ev = next_event_tick();
    if (ev > limit) {  // nothing until after `now`: jump there
      tick_ = limit + 1;
      return run;
    }
    tick_ = ev;  // empty ticks in between are skipped
    if (!cascade(moved, budget)) return run;
    const unsigned idx = static_cast<unsigned>(tick_ & (kSlots - 1));
    occupied_[idx / 64] &= ~(uint64_t{1} << (idx % 64));
    take(due_, slots_[idx]);
    ++tick_;
  }
}

}  // namespace tcpterm
