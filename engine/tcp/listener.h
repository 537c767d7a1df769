// A listening port: the two queues of seed 000/001 and the application that
// takes connections from it.
//
//   SYN queue     half-open connections: Tcbs in SYN_RECEIVED that came from
//                 this listener, counted (half_open) against max_syn_backlog.
//                 They live in the flow table like any connection; only the
//                 count is the listener's.
//   accept queue  established connections the application has not taken yet:
//                 an intrusive doubly linked FIFO through Tcb::accept_prev/next
//                 (removal in O(1) when a queued connection is reset), bounded
//                 by backlog (listen()'s backlog, capped at tcp.backlog).
//
// The application takes connections at accept_rate per second through a token
// bucket driven by the engine's `now` (0 = unlimited: taken as soon as they
// are queued), so a slow server, and the overflow it causes, can be produced
// on purpose. The bucket holds at most max(1, rate/100) tokens: 10 ms worth.
//
// The HTTP responses are built once here and sent by reference by every
// connection (zero-copy from this shared buffer).
#pragma once

#include <cstdint>
#include <string>

#include "config/config.h"
#include "engine/tcp/tcb.h"
#include "engine/timer/time.h"

namespace tcpterm {

struct Listener {
  uint16_t port = 0;
  App app = App::close;
  bool keepalive = false;               // SO_KEEPALIVE on accepted connections
  uint32_t backlog = 0;                 // accept-queue bound
  uint32_t max_syn_backlog = 0;         // SYN-queue bound
  uint32_t accept_rate = 0;             // per second, 0 = unlimited
  uint32_t http_keepalive_timeout_ms = 0;

  uint32_t half_open = 0;               // SYN queue length
  uint32_t aq_head = kNilIndex, aq_tail = kNilIndex, aq_len = 0;

  uint64_t credit = 0;                  // token bucket, in 1e-9 tokens
  Nanos last_refill = 0;
  Nanos last_overflow = 0;              // SYN queue last overflowed (Linux's synq_overflow_ts)
  bool overflowed = false;

  std::string http_close;               // "Connection: close" response
  std::string http_keepalive;           // "Connection: keep-alive" response
  uint32_t http_close_sum = 0;          // their checksum partial sums (csum_add), computed once
  uint32_t http_keepalive_sum = 0;

  bool syn_queue_full() const { return half_open >= max_syn_backlog; }
  // `>` as Linux's sk_acceptq_is_full: a listener holds backlog + 1 established
  // connections (the seeds' "backlog 511 accepts at most 512").
  bool accept_queue_full() const { return aq_len > backlog; }

  // Refills the bucket up to now; returns how many connections may be taken.
  uint32_t refill(Nanos now) {
    if (accept_rate == 0) return aq_len;
    Nanos elapsed = now - last_refill;
    if (elapsed > kSecond) elapsed = kSecond;
    last_refill = now;
    const uint64_t burst = uint64_t{accept_rate >= 100 ? accept_rate / 100 : 1} * kSecond;
    credit += elapsed * accept_rate;
    if (credit > burst) credit = burst;
    return static_cast<uint32_t>(credit / kSecond);
  }
  void spend_token() {
    if (accept_rate != 0) credit -= kSecond;
  }
};

}  // namespace tcpterm
