// Per-connection timers (Linux tcp_timer.c), one wheel node per Tcb.
//
//   retransmit  SYN (syn_retries), SYN-ACK (synack_retries) from 1 s with
//               exponential backoff; data/FIN with the RFC 6298 RTO, backoff
//               to 120 s, given up after retries2, or orphan_retries (0 means
//               8, as Linux) for orphaned connections, which then send RST
//   persist     zero window with data waiting: window probes (RFC 9293 3.8.6.1)
//   fin_wait2   orphaned FIN_WAIT_2 ends after fin_timeout, silently (Linux's
//               FIN_WAIT2 timewait sock expires without a segment)
//   idle        keepalive (keepalive_time, then keepalive_probes probes every
//               keepalive_intvl, then RST: tcp_keepalive_timer) and the HTTP
//               keep-alive timeout, whichever is due first
//
// The cases exclude each other (a timer for what is in flight beats an idle
// timer), so rearm_timer() decides after every event which one is armed.
// TIME_WAIT is not here: its records expire from the FIFO (time_wait.h).
#include <algorithm>

#include "engine/tcp/engine.h"
#include "engine/wire/seq.h"

namespace tcpterm {

using namespace tcp_flags;

void Engine::schedule(Tcb& t, TimerKind k, Nanos at) {
  t.timer_kind = k;
  wheel_.schedule(t.timer, at);
}

void Engine::cancel_timer(Tcb& t) {
  wheel_.cancel(t.timer);
  t.timer_kind = TimerKind::none;
}

// Time left until `since` (engine milliseconds, wrapping) + span; 0 if passed.
static Nanos ms_left(uint32_t now_ms, uint32_t since_ms, uint64_t span_ms) {
  const uint32_t elapsed = now_ms - since_ms;  // wraps correctly across 2^32 ms
  return elapsed >= span_ms ? 0 : millis(span_ms - elapsed);
}

Nanos Engine::idle_deadline(const Tcb& t) const {
  Nanos d = 0;
  if ((t.app_state & app_bits::kKeepalive) &&
      in_state(t.state, bit(TcpState::ESTABLISHED) | bit(TcpState::CLOSE_WAIT) | bit(TcpState::FIN_WAIT_1) |
                            bit(TcpState::FIN_WAIT_2))) {
    d = t.probes_out == 0 ? now_ + ms_left(now_ms(), t.rcv_tstamp_ms, uint64_t{knobs_.keepalive_time} * 1000)
                          : now_ + seconds(knobs_.keepalive_intvl);
  }
  if ((t.app_state & app_bits::kHttpIdle) && t.listener != kNoListener) {
    const Nanos h = now_ + ms_left(now_ms(), t.idle_since_ms, listeners_[t.listener].http_keepalive_timeout_ms);
    if (d == 0 || h < d) d = h;
  }
  return d;
}

void Engine::rearm_timer(Tcb& t) {
  if (in_state(t.state, tcp_states::kOpening)) return;  // the SYN(-ACK) timer stays
  if (t.snd_una != t.snd_nxt) {
    if (t.timer_kind != TimerKind::retransmit || !TimerWheel::pending(t.timer)) {
      schedule(t, TimerKind::retransmit, now_ + millis(t.rto_ms));
    }
    return;
  }
  const bool waiting = seq_lt(t.snd_nxt, t.write_seq) || (t.has(tcb_flags::kFinQueued) && !t.fin_sent());
  if (waiting && in_state(t.state, bit(TcpState::ESTABLISHED) | bit(TcpState::CLOSE_WAIT) |
                                       bit(TcpState::FIN_WAIT_1) | bit(TcpState::CLOSING) |
                                       bit(TcpState::LAST_ACK))) {
    if (t.timer_kind != TimerKind::persist || !TimerWheel::pending(t.timer)) {
      schedule(t, TimerKind::persist, now_ + millis(t.rto_ms));
    }
    return;
  }
  if (t.state == TcpState::FIN_WAIT_2 && t.has(tcb_flags::kOrphan)) {
    if (t.timer_kind != TimerKind::fin_wait2 || !TimerWheel::pending(t.timer)) {
      schedule(t, TimerKind::fin_wait2, now_ + seconds(knobs_.fin_timeout));
    }
    return;
  }
  const Nanos idle = idle_deadline(t);
  if (idle != 0) {
    // Lazy, as Linux's keepalive timer: armed once, it re-checks when it fires.
    if (t.timer_kind != TimerKind::idle || !TimerWheel::pending(t.timer)) schedule(t, TimerKind::idle, idle);
    return;
  }
  if (TimerWheel::pending(t.timer)) cancel_timer(t);
  t.timer_kind = TimerKind::none;
}

void Engine::on_timer(Tcb& t) {
  const TimerKind k = t.timer_kind;
  t.timer_kind = TimerKind::none;
  switch (k) {
    case TimerKind::retransmit: {
      if (t.state == TcpState::SYN_RECEIVED && t.has(tcb_flags::kPassive)) {
        if (t.retransmits >= knobs_.synack_retries) {
          // Linux inet_csk_reqsk_queue_drop_and_put: the half-open one goes silently.
          ++stats_.counters.synack_timeouts;
          ++stats_.counters.attempt_fails;
          destroy(t);
          return;
        }
      } else if (t.state == TcpState::SYN_SENT || t.state == TcpState::SYN_RECEIVED) {
        if (t.retransmits >= knobs_.syn_retries) {
          ++stats_.counters.abort_on_timeout;
          ++stats_.counters.attempt_fails;
          app_on_reset(t);
          destroy(t);
          return;
        }
      } else {
        uint32_t limit = knobs_.retries2;
        if (t.has(tcb_flags::kOrphan)) limit = knobs_.orphan_retries == 0 ? 8 : knobs_.orphan_retries;
        if (t.retransmits >= limit) {
          ++stats_.counters.abort_on_timeout;
          if (t.has(tcb_flags::kOrphan)) {
            send_active_rst(t);
          } else {
            app_on_reset(t);
          }
          destroy(t);
          return;
        }
        // RFC 5681 3.1 after an RTO: ssthresh = max(FlightSize / 2, 2 SMSS), cwnd = 1 SMSS.
        t.ssthresh = std::max<uint32_t>(t.in_flight() / 2, 2u * t.snd_mss);
        t.cwnd = t.snd_mss;
      }
      ++t.retransmits;
      t.rto_ms = std::min<uint32_t>(t.rto_ms * 2, kMaxRtoMs);  // RFC 6298 5.5
      retransmit_head(t);
      schedule(t, TimerKind::retransmit, now_ + millis(t.rto_ms));
      return;
    }
    case TimerKind::persist: {
      const uint32_t unsent = seq_lt(t.snd_nxt, t.write_seq) ? t.write_seq - t.snd_nxt : 0;
      if (t.snd_wnd != 0 || unsent == 0) {
        output(t);
        rearm_timer(t);
        return;
      }
      uint32_t limit = knobs_.retries2;
      if (t.has(tcb_flags::kOrphan)) limit = knobs_.orphan_retries == 0 ? 8 : knobs_.orphan_retries;
      if (t.probes_out >= limit) {
        ++stats_.counters.abort_on_timeout;
        send_active_rst(t);
        app_on_reset(t);
        destroy(t);
        return;
      }
      // Linux tcp_xmit_probe_skb: an old sequence number makes the peer answer
      // with its current window.
      ++t.probes_out;
      ++stats_.counters.window_probes;
      emit(t, ACK, t.snd_una - 1, nullptr, 0);
      t.rto_ms = std::min<uint32_t>(t.rto_ms * 2, kMaxRtoMs);
      schedule(t, TimerKind::persist, now_ + millis(t.rto_ms));
      return;
    }
    case TimerKind::fin_wait2:
      ++stats_.counters.fin_wait2_timeouts;
      destroy(t);
      return;
    case TimerKind::idle: {
      if ((t.app_state & app_bits::kHttpIdle) && t.listener != kNoListener &&
          ms_left(now_ms(), t.idle_since_ms, listeners_[t.listener].http_keepalive_timeout_ms) == 0) {
        ++stats_.counters.http_keepalive_timeouts;
        t.app_state = static_cast<uint8_t>(t.app_state & ~app_bits::kHttpIdle);
        if (!app_close(t)) return;
        output(t);
        rearm_timer(t);
        return;
      }
      if ((t.app_state & app_bits::kKeepalive) &&
          in_state(t.state, bit(TcpState::ESTABLISHED) | bit(TcpState::CLOSE_WAIT) | bit(TcpState::FIN_WAIT_1) |
                                bit(TcpState::FIN_WAIT_2)) &&
          t.snd_una == t.snd_nxt) {
        if (ms_left(now_ms(), t.rcv_tstamp_ms, uint64_t{knobs_.keepalive_time} * 1000) == 0) {
          if (t.probes_out >= knobs_.keepalive_probes) {
            ++stats_.counters.keepalive_timeouts;
            send_active_rst(t);
            app_on_reset(t);
            destroy(t);
            return;
          }
          ++t.probes_out;
          ++stats_.counters.keepalive_probes;
          emit(t, ACK, t.snd_una - 1, nullptr, 0);  // tcp_xmit_probe_skb
          schedule(t, TimerKind::idle, now_ + seconds(knobs_.keepalive_intvl));
          return;
        }
      }
      rearm_timer(t);
      return;
    }
    case TimerKind::none:
      return;
  }
}

}  // namespace tcpterm
