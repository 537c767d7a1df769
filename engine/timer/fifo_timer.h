// FIFO timer for fixed-duration timeouts (TIME_WAIT, FIN_WAIT_2): dperf's
// trick. When every entry of a list has the same duration D and entries are
// pushed as time goes forward, insertion order is expiry order, so a plain
// FIFO is a priority queue: push at the tail, pop at the head while the head
// is due. O(1) each, no slots, no cascading, and the link is one uint32 index
// inside the caller's record (TimeWaitRecord::next), so 100k TIME_WAIT records
// cost no memory beyond their own 4-byte link.
//
// Restart (a retransmitted FIN re-arms TIME_WAIT, as Linux's
// inet_twsk_reschedule) cannot move an entry in a singly linked list. It is
// lazy: restart() writes the new expiry and sets a "moved" bit in the entry's
// link (bit 31; indices are < 2^31 - 1). When a moved entry reaches the head
// and is not due yet, expire() re-appends it at the tail and clears the bit.
// Trade-off, stated plainly: an entry that was never restarted fires exactly
// at its deadline (in the first expire(now) with now >= deadline); a
// restarted one is never early but can be late by less than one duration D
// (it keeps its old place until the old deadline, then queues behind entries
// pushed meanwhile). For TIME_WAIT that means at most 2*MSL more in the safe
// direction, and only for the rare connection whose peer retransmitted its
// FIN. Timers that are re-armed all the time (RTO, keepalive) belong on the
// TimerWheel instead.
//
// Early removal is not O(1) in a singly linked list: the owner marks the
// record dead in its own state and frees it from on_expire (or restarts it to
// a past time so it fires when it reaches the head). Until then, `next` is the
// FIFO's (so a pool must not reuse it as its free-list link meanwhile).
//
// The records live in the caller's pool; an Access object maps an index to
// its link and expiry:
//   uint32_t& next(uint32_t i);    Time& expires(uint32_t i);
// where Time is an unsigned type (e.g. uint32_t milliseconds, as in
// TimeWaitRecord::expires_ms). Times compare by signed difference, so a
// uint32_t millisecond clock may wrap (every 49.7 days) as long as D < 2^31.
// PoolAccess<Rec, &Rec::next, &Rec::expires_ms>{pool} is the common case.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace tcpterm {

template <class A>
concept FifoTimerAccess = requires(A& a, uint32_t i) {
  { a.next(i) } -> std::same_as<uint32_t&>;
  requires std::is_unsigned_v<std::remove_reference_t<decltype(a.expires(i))>>;
  requires std::is_lvalue_reference_v<decltype(a.expires(i))>;
};

// Access for records in a contiguous pool, by member pointers.
template <class Rec, auto NextMember, auto ExpiresMember>
struct PoolAccess {
  Rec* pool;
  uint32_t& next(uint32_t i) const { return pool[i].*NextMember; }
  auto& expires(uint32_t i) const { return pool[i].*ExpiresMember; }
};

template <FifoTimerAccess Access>
class FifoTimer {
 public:
  using Time = std::remove_cvref_t<decltype(std::declval<Access&>().expires(0u))>;
  static constexpr uint32_t kNil = 0x7fff'ffff;  // end of list; indices must be < kNil
  static constexpr uint32_t kMoved = 0x8000'0000;

  explicit FifoTimer(Time duration, Access access = Access{})
      : access_(std::move(access)), duration_(duration) {}

  // Appends record i with expiry now + duration. `now` must not go backwards
  // between pushes (that is what makes the FIFO sorted).
  void push(uint32_t i, Time now) {
    access_.expires(i) = static_cast<Time>(now + duration_);
    access_.next(i) = kNil;
    if (tail_ == kNil) {
      head_ = i;
    } else {
      uint32_t& tn = access_.next(tail_);
      tn = (tn & kMoved) | i;
    }
    tail_ = i;
    ++size_;
  }

  // Record i (queued) now expires at now + duration; it keeps its place and
  // is re-appended lazily when it reaches the head.
  void restart(uint32_t i, Time now) { restart_at(i, static_cast<Time>(now + duration_)); }
  // Same with an explicit expiry (a past one makes it fire when it reaches
  // the head: the way to retire an entry early).
  void restart_at(uint32_t i, Time expires) {
    access_.expires(i) = expires;
    access_.next(i) |= kMoved;
  }

  // Pops due entries in order, at most `budget` of them, calling
  // on_expire(uint32_t index) after unlinking each (it may push the index
  // again, or push/restart others). Moved entries met at the head are
  // re-appended (at most `budget` of those too). Returns the number expired.
  template <class F>
  size_t expire(Time now, size_t budget, F&& on_expire) {
    size_t fired = 0;
    size_t rotated = 0;
    while (head_ != kNil && fired < budget) {
      const uint32_t i = head_;
      uint32_t& link = access_.next(i);
      if (leq(access_.expires(i), now)) {
        head_ = link & ~kMoved;
        if (head_ == kNil) tail_ = kNil;
        link = kNil;
        --size_;
        ++fired;
        on_expire(i);
        continue;
      }
      if ((link & kMoved) == 0) break;  // unmoved and not due: nothing behind is due
      if (i == tail_) {                 // alone at the back already
        link &= ~kMoved;
        continue;
      }
      if (rotated == budget) break;
      ++rotated;
      link &= ~kMoved;
      head_ = link;
      link = kNil;
      uint32_t& tn = access_.next(tail_);
      tn = (tn & kMoved) | i;
      tail_ = i;
    }
    return fired;
  }

  // Would expire(now, unlimited) do anything?
  bool due(Time now) const {
    if (head_ == kNil) return false;
    return leq(access_.expires(head_), now) || (access_.next(head_) & kMoved) != 0;
  }

  bool empty() const { return head_ == kNil; }
  uint32_t size() const { return size_; }
  uint32_t front() const { return head_; }  // kNil if empty
  Time duration() const { return duration_; }
  Access& access() { return access_; }

  // a <= b on a wrapping clock.
  static bool leq(Time a, Time b) {
    return static_cast<std::make_signed_t<Time>>(static_cast<Time>(a - b)) <= 0;
  }

 private:
  mutable Access access_;
  Time duration_;
  uint32_t head_ = kNil;
  uint32_t tail_ = kNil;
  uint32_t size_ = 0;
};

}  // namespace tcpterm
