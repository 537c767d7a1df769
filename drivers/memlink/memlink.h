// MemLink: an in-memory Ethernet link between two endpoints, A and B, for
// engine tests and benchmarks (a client engine on A, the server on B, no NIC).
//
// Each direction (A->B, B->A) is a preallocated ring of fixed 2048-byte
// frame buffers: send() copies a frame in, recv() copies the oldest one out
// (or peek()/pop() read it in place). Nothing is allocated after
// construction, so a benchmark measures the engine, not malloc. A full ring
// tail-drops, as a NIC's RX ring does.
//
// Faults are per direction and deterministic: a seeded splitmix64 per
// direction decides the probabilistic ones, so a failing seed replays
// exactly. Frames are numbered per direction from 1, counting from the last
// set_faults() of that direction; a fault can hit the Nth frame once, every
// Nth frame, or each frame with a probability:
//   drop       the frame vanishes (send() still returns true: a wire does not tell);
//   duplicate  the frame is delivered twice, back to back;
//   reorder    the frame is held back and delivered right after the next one
//              (one frame held at a time; release_held() hands it over now).
// Drop is decided first, then reorder, then duplicate (a held frame is not
// duplicated). Counters say what the link did, per direction.
//
// Not thread-safe: both endpoints run on the caller's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tcpterm {

class MemLink {
 public:
  static constexpr size_t kFrameCap = 2048;

  enum class Side : uint8_t { a = 0, b = 1 };
  static constexpr Side peer(Side s) { return s == Side::a ? Side::b : Side::a; }

  struct Faults {
    uint64_t drop_nth = 0;  // 0 = off
    uint64_t drop_every = 0;
    double drop_probability = 0;
    uint64_t duplicate_nth = 0;
    uint64_t duplicate_every = 0;
    double duplicate_probability = 0;
    uint64_t reorder_nth = 0;
    uint64_t reorder_every = 0;
    double reorder_probability = 0;
  };

  struct Counters {         // per direction, named by the sending side
    uint64_t offered = 0;   // send() calls
    uint64_t bytes_offered = 0;
    uint64_t queued = 0;    // frames put in the ring (duplicates and released frames included)
    uint64_t received = 0;  // frames taken by recv()/pop()
    uint64_t dropped = 0;   // by the drop fault
    uint64_t duplicated = 0;
    uint64_t reordered = 0;           // frames held back
    uint64_t dropped_full = 0;        // ring full (send() returns false)
    uint64_t dropped_bad_length = 0;  // 0 or > kFrameCap bytes (send() returns false)
  };

  // `depth` frames per direction (rounded up to a power of two, at least 2).
  MemLink(uint32_t depth, uint64_t seed);

  // Sends a frame from `from` to its peer. False if the link refused it
  // (bad length or full ring); fault drops return true.
  bool send(Side from, const uint8_t* frame, size_t len);

  // Copies the oldest frame waiting for `at` into buf (kFrameCap bytes of
  // room) and returns its length; 0 if none.
  size_t recv(Side at, uint8_t* buf);

  // Zero-copy receive: the oldest frame waiting for `at` (nullptr if none),
  // valid until pop(at) (a full ring refuses new frames, so sends cannot overwrite it).
  const uint8_t* peek(Side at, size_t* len) const;
  void pop(Side at);

  size_t pending(Side at) const;  // frames waiting for `at`
  uint32_t depth() const { return mask_ + 1; }

  void set_faults(Side from, const Faults& f);
  const Counters& counters(Side from) const { return dir_[idx(from)].counters; }
  bool holding(Side from) const { return dir_[idx(from)].holding; }
  // Delivers the held-back frame now (if any); false if nothing was held or the ring is full.
  bool release_held(Side from);

 private:
  struct Direction {
    std::vector<uint8_t> bufs;   // depth * kFrameCap
    std::vector<uint16_t> lens;  // depth
    uint32_t head = 0;           // next to read (free-running; masked)
    uint32_t tail = 0;           // next to write
    Faults faults;
    uint64_t seen = 0;  // frames offered since set_faults
    uint64_t rng = 0;
    std::vector<uint8_t> held;  // kFrameCap
    uint16_t held_len = 0;
    bool holding = false;
    Counters counters;
  };

  static constexpr size_t idx(Side s) { return static_cast<size_t>(s); }
  static bool hit(Direction& d, uint64_t nth, uint64_t every, double p);
  static uint64_t next_random(uint64_t& state);
  bool enqueue(Direction& d, const uint8_t* frame, size_t len);

  uint32_t mask_;
  Direction dir_[2];  // indexed by the sending side
};

}  // namespace tcpterm
