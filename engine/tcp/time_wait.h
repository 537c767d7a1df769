// TIME_WAIT: the verdict function and the expiry FIFO.
//
// A connection in TIME_WAIT is a 48-byte TimeWaitRecord in the flow table
// (Linux's inet_timewait_sock). Segments for it go to
// time_wait_state_process(), a pure function written after Linux's
// tcp_timewait_state_process() (net/ipv4/tcp_minisocks.c) that returns what
// to do and lets the engine do the I/O:
//   success  drop the segment (nothing to send)
//   ack      re-ACK (<SEQ=snd_nxt><ACK=rcv_nxt>): a retransmitted FIN, an old
//            duplicate, a SYN that is not newer
//   syn      a new SYN that is newer than the old connection (RFC 6191: by
//            timestamp when both have them, else by sequence): the record is
//            killed and the listener opens a new connection with ISN
//            snd_nxt + 65537 (Linux's tw_isn)
//   kill     an RST that ends TIME_WAIT (rfc1337=0, Linux's "TIME_WAIT
//            assassination"); with rfc1337=1 RSTs are ignored (RFC 1337)
// and whether the 2*MSL period restarts. The engine sends an `ack` verdict's
// re-ACK at most once per invalid_ratelimit ms unless the segment is a
// retransmitted FIN (Linux tcp_timewait_check_oow_rate_limit), stamping
// TimeWaitRecord::last_oow_ack_ms.
//
// Expiry: every TIME_WAIT lasts 2*msl, so the records go to one FIFO in the
// order they entered TIME_WAIT, which is their expiry order: O(1) push and
// pop, no timer node (dperf's trick). A restart (retransmitted FIN) sets the
// expiry to now + 2*msl, the latest of all, so the record moves to the tail
// and the order still holds: expiry is exact, never early nor late. Kill (RST,
// new SYN) unlinks in O(1): the FIFO is doubly linked.
#pragma once

#include <cstdint>

#include "engine/flow/time_wait.h"
#include "engine/wire/tcp_options.h"

namespace tcpterm {

// TimeWaitRecord::flags
namespace tw_flags {
inline constexpr uint8_t kTimestamps = 0x01;
inline constexpr uint8_t kSackOk = 0x02;
}  // namespace tw_flags

enum class TwVerdict : uint8_t { success, ack, syn, kill };

struct TwSegment {
  uint32_t seq;
  uint32_t end_seq;  // seq + data + SYN + FIN
  uint8_t flags;
  bool has_ts;
  uint32_t tsval;
};

struct TwDecision {
  TwVerdict verdict = TwVerdict::success;
  bool restart = false;  // restart the 2*MSL period
  uint32_t isn = 0;      // for TwVerdict::syn
};

inline constexpr uint32_t kPawsWrapSeconds = 24 * 24 * 3600;  // Linux TCP_PAWS_WRAP (24 days)
inline constexpr uint32_t kPawsMslSeconds = 60;               // Linux TCP_PAWS_MSL

// May update tw.ts_recent/ts_recent_stamp (an in-window segment with a timestamp).
TwDecision time_wait_state_process(TimeWaitRecord& tw, const TwSegment& seg, uint32_t now_s,
                                   bool rfc1337);

// The FIFO of records by expiry, doubly linked through TimeWaitRecord::next
// and ::ts_offset (used as the back link: the engine recomputes a record's TS
// offset from its 4-tuple with IsnGenerator::ts_offset, so the field is free).
// `Pool` is anything with time_wait(index) (the flow table).
class TimeWaitFifo {
 public:
  static constexpr uint32_t kNil = 0xffffffffu;

  template <class Pool>
  void push(Pool& pool, uint32_t index) {
    TimeWaitRecord& r = pool.time_wait(index);
    r.next = kNil;
    r.ts_offset = tail_;  // prev
    if (tail_ == kNil) {
      head_ = index;
    } else {
      pool.time_wait(tail_).next = index;
    }
    tail_ = index;
    ++size_;
  }

  template <class Pool>
  void remove(Pool& pool, uint32_t index) {
    TimeWaitRecord& r = pool.time_wait(index);
    const uint32_t prev = r.ts_offset, nx = r.next;
    if (prev == kNil) head_ = nx; else pool.time_wait(prev).next = nx;
    if (nx == kNil) tail_ = prev; else pool.time_wait(nx).ts_offset = prev;
    --size_;
  }

  // A restart (2*MSL from now) is the latest expiry of all: move to the tail.
  template <class Pool>
  void restart(Pool& pool, uint32_t index) {
    remove(pool, index);
    push(pool, index);
  }

  // Pops the records whose expiry is <= now_ms (wrapping compare), at most
  // budget of them, calling expire(index) after unlinking each (it frees it).
  template <class Pool, class F>
  uint32_t pop_expired(Pool& pool, uint32_t now_ms, uint32_t budget, F&& expire) {
    uint32_t n = 0;
    while (head_ != kNil && n < budget) {
      const uint32_t i = head_;
      if (static_cast<int32_t>(now_ms - pool.time_wait(i).expires_ms) < 0) break;
      remove(pool, i);
      expire(i);
      ++n;
    }
    return n;
  }

  uint32_t size() const { return size_; }
  uint32_t head() const { return head_; }

 private:
  uint32_t head_ = kNil, tail_ = kNil, size_ = 0;
};

}  // namespace tcpterm
