// TimerWheel's cold paths: construction, the next-event search over the
// occupancy bitmaps, and cascading a slot down a level. The hot paths
// (schedule, cancel, the advance loop) are inline in the header.
#include "engine/timer/timer_wheel.h"

namespace tcpterm {

namespace {

// Offset d in [0, 256) of the first set bit at or after position p (wrapping)
// in a 256-bit map, or -1 if the map is empty.
int next_set(const uint64_t* w, unsigned p) {
  unsigned wi = p / 64;
  uint64_t x = w[wi] & (~uint64_t{0} << (p % 64));
  for (int k = 0; k < 5; ++k) {  // word of p (bits >= p), the 3 others, word of p again (bits < p)
    if (x != 0) {
      return static_cast<int>((wi * 64 + static_cast<unsigned>(std::countr_zero(x)) - p) & 255);
    }
    wi = (wi + 1) & 3;
    x = w[wi];
  }
  return -1;
}

}  // namespace

TimerWheel::TimerWheel(Nanos now, Nanos tick)
    : shift_(tick <= 1 ? 0u : static_cast<unsigned>(std::bit_width(tick - 1))) {
  // Everything up to and including the current tick counts as processed.
  tick_ = (now >> shift_) + 1;
}

// The first tick >= tick_ at which something happens: a level-0 slot to
// collect or a higher-level slot to cascade.
uint64_t TimerWheel::next_event_tick() const {
  uint64_t best = kNoTick;
  for (unsigned level = 0; level < kLevels; ++level) {
    const uint64_t* w = &occupied_[level * (kSlots / 64)];
    if ((w[0] | w[1] | w[2] | w[3]) == 0) continue;
    const unsigned bits = level * kSlotBits;
    // First span at this level not yet cascaded: ceil(tick_ / 256^level).
    const uint64_t first = (tick_ + ((uint64_t{1} << bits) - 1)) >> bits;
    const int d = next_set(w, static_cast<unsigned>(first & (kSlots - 1)));
    const uint64_t ev = (first + static_cast<uint64_t>(d)) << bits;
    if (ev < best) best = ev;
  }
  return best;
}

// At tick_, every level whose span starts here hands its current slot down,
// highest level first. Each timer is re-filed from its own deadline, so it
// lands in a lower level (or, if clamped beyond the horizon, back in another
// top-level slot). Resumable: a budget stop leaves the rest in the slot, and
// nothing new can be filed into a slot that is cascading (its span starts at
// tick_, so new timers for it go to lower levels).
bool TimerWheel::cascade(size_t& moved, size_t budget) {
  unsigned top = tick_ == 0 ? kLevels - 1
                            : static_cast<unsigned>(std::countr_zero(tick_)) / kSlotBits;
  if (top > kLevels - 1) top = kLevels - 1;
  for (unsigned level = top; level >= 1; --level) {
    const unsigned bits = level * kSlotBits;
    const unsigned idx = level * kSlots + static_cast<unsigned>((tick_ >> bits) & (kSlots - 1));
    TimerNode*& head = slots_[idx];
    while (head != nullptr) {
      if (moved == budget) return false;
      TimerNode* n = head;
      head = n->next;
      if (head != nullptr) head->pprev = &head;
      insert(*n, tick_of(n->expires));
      ++moved;
    }
    occupied_[idx / 64] &= ~(uint64_t{1} << (idx % 64));
  }
  return true;
}

}  // namespace tcpterm
