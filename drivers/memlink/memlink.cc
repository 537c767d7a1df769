// MemLink: rings, fault decisions and counters. See memlink.h.
#include "drivers/memlink/memlink.h"

#include <bit>
#include <cstring>

namespace tcpterm {

MemLink::MemLink(uint32_t depth, uint64_t seed)
    : mask_(std::bit_ceil(depth < 2 ? 2u : depth) - 1) {
  for (size_t i = 0; i < 2; ++i) {
    Direction& d = dir_[i];
    d.bufs.assign(static_cast<size_t>(mask_ + 1) * kFrameCap, 0);
    d.lens.assign(mask_ + 1, 0);
    d.held.assign(kFrameCap, 0);
    // Distinct, seed-derived streams per direction.
    d.rng = seed ^ (0x9e37'79b9'7f4a'7c15ull * (i + 1));
  }
}

// splitmix64 (Steele, Lea, Flood): tiny, fast, and the same on every platform,
// which std:: distributions are not.
uint64_t MemLink::next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e37'79b9'7f4a'7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebull;
  return z ^ (z >> 31);
}

bool MemLink::hit(Direction& d, uint64_t nth, uint64_t every, double p) {
  if (nth != 0 && d.seen == nth) return true;
  if (every != 0 && d.seen % every == 0) return true;
  if (p > 0) {
    // 53 random bits -> [0, 1).
    const double u = static_cast<double>(next_random(d.rng) >> 11) * 0x1.0p-53;
    return u < p;
  }
  return false;
}

bool MemLink::enqueue(Direction& d, const uint8_t* frame, size_t len) {
  if (d.tail - d.head > mask_) {
    ++d.counters.dropped_full;
    return false;
  }
  const uint32_t slot = d.tail & mask_;
  std::memcpy(&d.bufs[static_cast<size_t>(slot) * kFrameCap], frame, len);
  d.lens[slot] = static_cast<uint16_t>(len);
  ++d.tail;
  ++d.counters.queued;
  return true;
}

bool MemLink::send(Side from, const uint8_t* frame, size_t len) {
  Direction& d = dir_[idx(from)];
  ++d.counters.offered;
  d.counters.bytes_offered += len;
  ++d.seen;
  if (len == 0 || len > kFrameCap || frame == nullptr) {
    ++d.counters.dropped_bad_length;
    return false;
  }
  const Faults& f = d.faults;
  if (hit(d, f.drop_nth, f.drop_every, f.drop_probability)) {
    ++d.counters.dropped;
    return true;
  }
  if (!d.holding && hit(d, f.reorder_nth, f.reorder_every, f.reorder_probability)) {
    std::memcpy(d.held.data(), frame, len);
    d.held_len = static_cast<uint16_t>(len);
    d.holding = true;
    ++d.counters.reordered;
    return true;
  }
  if (!enqueue(d, frame, len)) return false;
  if (hit(d, f.duplicate_nth, f.duplicate_every, f.duplicate_probability) && enqueue(d, frame, len)) {
    ++d.counters.duplicated;
  }
  if (d.holding) release_held(from);  // the held frame goes right behind this one
  return true;
}

bool MemLink::release_held(Side from) {
  Direction& d = dir_[idx(from)];
  if (!d.holding) return false;
  if (!enqueue(d, d.held.data(), d.held_len)) return false;  // stays held; retried next time
  d.holding = false;
  return true;
}

const uint8_t* MemLink::peek(Side at, size_t* len) const {
  const Direction& d = dir_[idx(peer(at))];
  if (d.head == d.tail) {
    *len = 0;
    return nullptr;
  }
  const uint32_t slot = d.head & mask_;
  *len = d.lens[slot];
  return &d.bufs[static_cast<size_t>(slot) * kFrameCap];
}

void MemLink::pop(Side at) {
  Direction& d = dir_[idx(peer(at))];
  if (d.head == d.tail) return;
  ++d.head;
  ++d.counters.received;
}

size_t MemLink::recv(Side at, uint8_t* buf) {
  size_t len = 0;
  const uint8_t* p = peek(at, &len);
  if (p == nullptr) return 0;
  std::memcpy(buf, p, len);
  pop(at);
  return len;
}

size_t MemLink::pending(Side at) const {
  const Direction& d = dir_[idx(peer(at))];
  return d.tail - d.head;
}

void MemLink::set_faults(Side from, const Faults& f) {
  Direction& d = dir_[idx(from)];
  d.faults = f;
  d.seen = 0;
}

}  // namespace tcpterm
