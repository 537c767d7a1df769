// The accept queue: an intrusive FIFO of established connections per
// listener, drained by the application at its accept_rate (listener.h).
#include "engine/tcp/listener.h"

#include "engine/tcp/engine.h"

namespace tcpterm {

void Engine::accept_enqueue(Listener& l, Tcb& t) {
  const uint32_t i = flows_->index_of(t);
  t.accept_prev = l.aq_tail;
  t.accept_next = kNilIndex;
  if (l.aq_tail == kNilIndex) {
    l.aq_head = i;
  } else {
    flows_->conn(l.aq_tail).accept_next = i;
  }
  l.aq_tail = i;
  ++l.aq_len;
  t.app_state |= app_bits::kInAcceptQueue;
}

void Engine::accept_unlink(Tcb& t) {
  if (!(t.app_state & app_bits::kInAcceptQueue)) return;
  Listener& l = listeners_[t.listener];
  if (t.accept_prev == kNilIndex) {
    l.aq_head = t.accept_next;
  } else {
    flows_->conn(t.accept_prev).accept_next = t.accept_next;
  }
  if (t.accept_next == kNilIndex) {
    l.aq_tail = t.accept_prev;
  } else {
    flows_->conn(t.accept_next).accept_prev = t.accept_prev;
  }
  t.accept_prev = t.accept_next = kNilIndex;
  --l.aq_len;
  t.app_state = static_cast<uint8_t>(t.app_state & ~app_bits::kInAcceptQueue);
}

void Engine::accept_one(Listener& l, Tcb& t) {
  accept_unlink(t);
  l.spend_token();
  t.set(tcb_flags::kAccepted);
  if (l.keepalive) t.app_state |= app_bits::kKeepalive;
  ++stats_.counters.accepted;
}

// accept(): the application takes as many connections as its rate allows.
void Engine::accept_drain(Listener& l) {
  uint32_t n = l.refill(now_);
  while (n != 0 && l.aq_head != kNilIndex) {
    --n;
    Tcb& t = flows_->conn(l.aq_head);
    accept_one(l, t);
    if (!app_run(t)) continue;
    output(t);
    rearm_timer(t);
  }
}

}  // namespace tcpterm
