// SEGMENT ARRIVES (RFC 9293 3.10.7), in the RFC's order and numbering.
//
//   3.10.7.2 LISTEN         listen_rcv(): SYN queue, accept queue, SYN cookies
//                           (Linux's tcp_conn_request / cookie_v4_check)
//   3.10.7.3 SYN-SENT       syn_sent_rcv()
//   3.10.7.4 other states   tcb_rcv(): first check sequence number (PAWS,
//                           acceptability, trimming), second RST (RFC 5961
//                           3.2), fourth SYN (RFC 5961 4.2), fifth ACK
//                           (RFC 5961 5.2, RTT, window), seventh text,
//                           eighth FIN; then the application runs and output
//                           sends what it queued, piggybacking the ACK.
//   TIME_WAIT               time_wait.cc (the minisock's verdict function).
//
// Where the RFC leaves a choice Linux decides, and the comment says where
// (tcp_validate_incoming, tcp_check_req, tcp_rcv_state_process).
// The common case, an in-order ACK (maybe with data) on an ESTABLISHED
// connection, goes straight through: the RST/SYN checks are one test of the
// flags, their handling is out of line.
#include <algorithm>
#include <cstring>

#include "engine/tcp/engine.h"
#include "engine/wire/seq.h"
#include "engine/wire/tcp_options.h"

namespace tcpterm {

using namespace tcp_flags;

void Engine::negotiate_options(Tcb& t, const TcpOptions& peer) {
  // Options are used only when both sides sent them (RFC 7323 1.3, 2.2; RFC 2018).
  if (peer.has_wscale && knobs_.window_scaling) {
    t.set(tcb_flags::kWscale);
    t.snd_wscale = std::min<uint8_t>(peer.wscale, 14);
    t.rcv_wscale = kRcvWscale;
  } else {
    t.clear(tcb_flags::kWscale);
    t.snd_wscale = 0;
    t.rcv_wscale = 0;
  }
  if (peer.sack_permitted && knobs_.sack) {
    t.set(tcb_flags::kSackOk);
  } else {
    t.clear(tcb_flags::kSackOk);
  }
  if (peer.has_timestamps && knobs_.timestamps) {
    t.set(tcb_flags::kTimestamps);
    t.ts_recent = peer.tsval;
    t.ts_recent_stamp = now_s();
  } else {
    t.clear(tcb_flags::kTimestamps);
  }
  // RFC 9293 3.7.1: 536 when the peer sent no MSS; never above our own.
  // Linux __tcp_mtu_to_mss/tcp_mtu_to_mss: raised to tcp_min_snd_mss
  // (TCP_MIN_SND_MSS, 48) first, then the option bytes are subtracted, so a
  // peer MSS of 1..11 cannot wrap (48 - 12 = 36 payload bytes with TS).
  uint32_t mss = peer.has_mss ? peer.mss : 536;
  mss = std::max<uint32_t>(std::min<uint32_t>(mss, our_mss_), 48);
  if (t.has(tcb_flags::kTimestamps)) mss -= 12;  // every segment carries NOP NOP TS
  t.snd_mss = static_cast<uint16_t>(mss);
  t.cwnd = kInitialCwndSegs * t.snd_mss;
  t.ssthresh = 0xffffffffu;
}

// ---------------------------------------------------------------- LISTEN
void Engine::listen_rcv(Listener& l, uint16_t li, const FlowKey& k, const Seg& s) {
  // 3.10.7.2 first check for an RST: ignore it.
  if (s.flags & RST) {
    stats_.drops.count(DropReason::tcp_listen_rst);
    return;
  }
  // second check for an ACK: RST <SEQ=SEG.ACK><CTL=RST>, unless it is the
  // final ACK of a SYN cookie handshake (Linux: cookie_v4_check while the SYN
  // queue overflowed in the last two minutes, or always with syncookies=2).
  if (s.flags & ACK) {
    const bool cookies_live =
        knobs_.syncookies == 2 ||
        (knobs_.syncookies == 1 && l.overflowed &&
         now_ - l.last_overflow < SynCookies::kMaxAge * SynCookies::kPeriod);
    if (cookies_live && !(s.flags & SYN)) {
      cookie_ack_rcv(l, li, k, s);
      return;
    }
    stats_.drops.count(DropReason::tcp_listen_ack);
    emit_rst_for(k, *s.src_mac, s.ack, 0, RST);
    return;
  }
  // third check for a SYN
  if (!(s.flags & SYN)) {
    stats_.drops.count(DropReason::tcp_listen_no_syn);
    return;
  }
  listen_syn(l, li, k, s, false, 0);
}

// Linux's tcp_conn_request: queue checks, then a half-open Tcb or a cookie.
void Engine::listen_syn(Listener& l, uint16_t li, const FlowKey& k, const Seg& s, bool have_isn,
                        uint32_t isn) {
  bool want_cookie = false;
  // A SYN that recycles a TIME_WAIT (have_isn) never takes a cookie, as in
  // Linux's tcp_conn_request ("(syncookies == 2 || queue full) && !isn": TW
  // buckets become open requests without limits, the peer is evidently real).
  if ((knobs_.syncookies == 2 || l.syn_queue_full()) && !have_isn) {
    if (l.syn_queue_full()) {
      l.overflowed = true;
      l.last_overflow = now_;
    }
    if (knobs_.syncookies == 0) {
      ++stats_.counters.listen_drops;
      ++stats_.counters.syn_queue_overflows;
      stats_.drops.count(DropReason::tcp_syn_queue_full);
      return;
    }
    want_cookie = true;
  }
  if (l.accept_queue_full()) {
    // Linux drops the SYN when the accept queue is full, cookies or not.
    ++stats_.counters.listen_overflows;
    ++stats_.counters.listen_drops;
    stats_.drops.count(DropReason::tcp_accept_queue_full);
    return;
  }
  if (want_cookie) {
    send_synack_cookie(l, k, s);
    return;
  }
  Tcb* tp = flows_->insert_conn(k, s.hash);
  if (tp == nullptr) [[unlikely]] {
    ++stats_.counters.flow_table_full;
    if (knobs_.syncookies != 0 && !have_isn) {
      send_synack_cookie(l, k, s);
    } else {
      ++stats_.counters.listen_drops;
      stats_.drops.count(DropReason::tcp_flow_table_full);
    }
    return;
  }
  Tcb& t = *tp;
  tcb_init_common(t, have_isn ? isn : isn_.isn(k, now_));
  t.peer_mac = *s.src_mac;
  t.listener = li;
  t.app = l.app;
  t.set(tcb_flags::kPassive);
  t.irs = s.seq;
  t.rcv_nxt = s.seq + 1;  // data on a SYN is not accepted (Linux without TFO)
  negotiate_options(t, *s.opts);
  t.snd_wnd = s.wnd;      // a SYN's window is never scaled (RFC 7323 2.2)
  t.max_snd_wnd = t.snd_wnd;
  t.snd_wl1 = s.seq;
  t.snd_wl2 = t.iss;
  t.state = TcpState::SYN_RECEIVED;
  ++l.half_open;
  stats_.on_create(TcpState::LISTEN, TcpState::SYN_RECEIVED);
  ++stats_.counters.passive_opens;
  send_syn(t, true);
  schedule(t, TimerKind::retransmit, now_ + millis(t.rto_ms));
}

// The final ACK of a cookie handshake (Linux's cookie_v4_check).
void Engine::cookie_ack_rcv(Listener& l, uint16_t li, const FlowKey& k, const Seg& s) {
  const uint16_t mss = cookies_.check(k, s.seq - 1, s.ack - 1, now_);
  int wscale = -1;
  bool sack_ok = false, ecn_ok = false;
  bool ok = mss != 0;
  const uint32_t ts_off = knobs_.timestamps == 1 ? isn_.ts_offset(k.laddr, k.raddr) : 0;
  if (ok && s.opts->has_timestamps && knobs_.timestamps) {
    ok = SynCookies::ts_decode(s.opts->tsecr - ts_off, knobs_.window_scaling != 0, wscale, sack_ok, ecn_ok);
  }
  if (!ok) {
    ++stats_.counters.syncookies_failed;
    stats_.drops.count(DropReason::tcp_bad_cookie);
    emit_rst_for(k, *s.src_mac, s.ack, 0, RST);
    return;
  }
  if (l.accept_queue_full()) {
    ++stats_.counters.listen_overflows;
    ++stats_.counters.listen_drops;
    stats_.drops.count(DropReason::tcp_accept_queue_full);
    return;
  }
  Tcb* tp = flows_->insert_conn(k, s.hash);
  if (tp == nullptr) [[unlikely]] {
    ++stats_.counters.flow_table_full;
    stats_.drops.count(DropReason::tcp_flow_table_full);
    return;
  }
  ++stats_.counters.syncookies_recv;
  Tcb& t = *tp;
  tcb_init_common(t, s.ack - 1);
  t.ts_offset = ts_off;
  t.peer_mac = *s.src_mac;
  t.listener = li;
  t.app = l.app;
  t.set(tcb_flags::kPassive);
  t.irs = s.seq - 1;
  t.rcv_nxt = s.seq;
  TcpOptions peer{};
  peer.has_mss = true;
  peer.mss = mss;
  if (s.opts->has_timestamps && knobs_.timestamps) {
    peer.has_timestamps = true;
    peer.tsval = s.opts->tsval;
    if (wscale >= 0) {
      peer.has_wscale = true;
      peer.wscale = static_cast<uint8_t>(wscale);
    }
    peer.sack_permitted = sack_ok;
  }
  negotiate_options(t, peer);
  t.snd_nxt = s.ack;       // our SYN-ACK (the cookie) was sent
  t.rcv_adv = t.rcv_nxt + kRcvWnd;  // as the SYN-ACK advertised it
  t.state = TcpState::SYN_RECEIVED;
  stats_.on_create(TcpState::LISTEN, TcpState::SYN_RECEIVED);
  ++stats_.counters.passive_opens;
  ++l.half_open;
  // The ACK completes the handshake as for any half-open connection.
  schedule(t, TimerKind::retransmit, now_ + millis(t.rto_ms));
  Seg copy = s;
  tcb_rcv(t, copy);
}

// ---------------------------------------------------------------- SYN-SENT
void Engine::syn_sent_rcv(Tcb& t, Seg& s) {
  // 3.10.7.3 first check the ACK bit
  const bool has_ack = (s.flags & ACK) != 0;
  if (has_ack && (seq_leq(s.ack, t.iss) || seq_gt(s.ack, t.snd_nxt))) {
    stats_.drops.count(DropReason::tcp_bad_ack);
    if (!(s.flags & RST)) emit_rst_for(t.key, *s.src_mac, s.ack, 0, RST);
    return;
  }
  // second check the RST bit (RFC 5961 3.2: only with an acceptable ACK)
  if (s.flags & RST) {
    if (has_ack) {
      ++stats_.counters.attempt_fails;
      app_on_reset(t);
      destroy(t, s.hash);  // "connection reset"
    } else {
      stats_.drops.count(DropReason::tcp_bad_rst);
    }
    return;
  }
  // fourth check the SYN bit
  if (!(s.flags & SYN)) {
    stats_.drops.count(DropReason::tcp_no_syn);
    return;
  }
  // Linux tcp_rcv_synsent_state_process: a SYN without ACK is PAWS-checked
  // against the ts_recent a tw_reuse carried over from the tuple's TIME_WAIT
  // (0 otherwise: no check), so an old duplicate SYN of the previous
  // connection cannot turn this one into a simultaneous open.
  if (!has_ack && s.opts->has_timestamps && paws_reject(t, s)) [[unlikely]] {
    ++stats_.counters.paws_rejected;
    stats_.drops.count(DropReason::tcp_paws);
    return;
  }
  s.accepted = true;
  t.irs = s.seq;
  t.rcv_nxt = s.seq + 1;
  negotiate_options(t, *s.opts);
  t.snd_wnd = s.wnd;  // never scaled in a SYN
  t.max_snd_wnd = t.snd_wnd;
  t.snd_wl1 = s.seq;
  t.snd_wl2 = s.ack;
  if (has_ack) {
    // Our SYN is acknowledged: ESTABLISHED.
    if (t.retransmits == 0) rtt_sample(t, (now_ms() - t.rtt_start_ms) * 1000);
    t.snd_una = s.ack;
    t.retransmits = 0;
    cancel_timer(t);
    set_state(t, TcpState::ESTABLISHED);
    const uint32_t sent = tx_->count;
    if (!app_run(t)) return;
    output(t);
    if (tx_->count == sent) send_ack(t);
    rearm_timer(t);
    return;
  }
  // Simultaneous open: SYN_RECEIVED, answer <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
  set_state(t, TcpState::SYN_RECEIVED);
  send_syn(t, true);
}

// ---------------------------------------------------------------- RFC 7323 PAWS
bool Engine::paws_reject(const Tcb& t, const Seg& s) const {
  // Linux tcp_paws_check(rx_opt, TCP_PAWS_WINDOW = 1) and the 24-day rule.
  if (static_cast<int32_t>(t.ts_recent - s.opts->tsval) <= 1) return false;
  if (now_s() - t.ts_recent_stamp >= kPawsWrapSeconds) return false;
  if (t.ts_recent == 0) return false;
  return true;
}

void Engine::rtt_sample(Tcb& t, uint32_t rtt_us) {
  // RFC 6298 2.2 / 2.3, K = 4, G = 1 ms; RTO clamped to Linux's [200 ms, 120 s].
  if (rtt_us == 0) rtt_us = 1;
  if (t.srtt_us == 0) {
    t.srtt_us = rtt_us;
    t.rttvar_us = rtt_us / 2;
  } else {
    const uint32_t err = t.srtt_us > rtt_us ? t.srtt_us - rtt_us : rtt_us - t.srtt_us;
    t.rttvar_us = (3 * t.rttvar_us + err) / 4;
    t.srtt_us = (7 * static_cast<uint64_t>(t.srtt_us) + rtt_us) / 8;
  }
  const uint64_t rto_us = t.srtt_us + std::max<uint64_t>(1000, 4 * uint64_t{t.rttvar_us});
  t.rto_ms = static_cast<uint32_t>(std::clamp<uint64_t>(rto_us / 1000, kMinRtoMs, kMaxRtoMs));
}

// ---------------------------------------------------------------- other states
void Engine::tcb_rcv(Tcb& t, Seg& s) {
  const bool has_ts = t.has(tcb_flags::kTimestamps) && s.opts->has_timestamps;

  // Linux tcp_check_req ("Check for pure retransmitted SYN"): a
  // retransmission of the SYN that created a half-open connection gets the
  // SYN-ACK again unless PAWS rejects it (tcp_paws_reject, window 0), at most
  // once per invalid_ratelimit ms (tcp_oow_rate_limited on last_oow_ack_time);
  // the resend (inet_rtx_syn_ack) counts num_retrans, not the num_timeout that
  // synack_retries limits, so t.retransmits stays, and the timer restarts at
  // the current backed-off RTO (reqsk_timeout). An active open's SYN_RECEIVED
  // is a full socket in Linux, not a request: tcp_validate_incoming, below.
  if (t.state == TcpState::SYN_RECEIVED && t.has(tcb_flags::kPassive) && (s.flags & (SYN | ACK | RST)) == SYN &&
      s.seq == t.irs && !(has_ts && t.ts_recent != 0 && static_cast<int32_t>(t.ts_recent - s.opts->tsval) > 0))
      [[unlikely]] {
    if (!oow_rate_limited(t, s)) {
      const uint32_t sent = tx_->count;
      send_syn(t, true);  // counted in retrans_segs
      if (tx_->count != sent) schedule(t, TimerKind::retransmit, now_ + millis(t.rto_ms));
    }
    return;
  }

  // 3.10.7.4 first check sequence number: PAWS (RFC 7323 5.3) ...
  if (has_ts && !(s.flags & RST) && paws_reject(t, s)) [[unlikely]] {
    ++stats_.counters.paws_rejected;
    stats_.drops.count(DropReason::tcp_paws);
    if (s.flags & SYN) {
      send_challenge_ack(t);
    } else if (!oow_rate_limited(t, s)) {
      send_ack(t);
    }
    return;
  }
  // ... then the acceptability test (RFC 9293 3.10.7.4 table).
  const uint32_t wnd = t.rcv_wnd();
  bool acceptable;
  if (s.len == 0) {
    acceptable = wnd == 0 ? s.seq == t.rcv_nxt : seq_in_window(Seq{s.seq}, Seq{t.rcv_nxt}, wnd);
  } else if (wnd == 0) {
    // RFC 9293 3.10.7.4: "special allowance should be made to accept valid
    // ACKs, URGs, and RSTs" at a zero window; Linux tcp_sequence lets a
    // segment at RCV.NXT through and tcp_data_queue drops its text and FIN.
    acceptable = s.seq == t.rcv_nxt;
  } else {
    acceptable = seq_in_window(Seq{s.seq}, Seq{t.rcv_nxt}, wnd) ||
                 seq_in_window(Seq{s.seq + s.len - 1}, Seq{t.rcv_nxt}, wnd);
  }
  if (!acceptable && !crossed_synack(t, s)) [[unlikely]] {
    if (s.flags & RST) {
      // Linux tcp_reset_check: after the peer's FIN, an RST at rcv_nxt - 1 is accepted.
      if (s.seq == t.rcv_nxt - 1 &&
          in_state(t.state, bit(TcpState::CLOSE_WAIT) | bit(TcpState::LAST_ACK) | bit(TcpState::CLOSING))) {
        rst_rcv(t, s);
        return;
      }
      stats_.drops.count(DropReason::tcp_rst_out_of_window);
      return;
    }
    stats_.drops.count(DropReason::tcp_out_of_window);
    if ((s.flags & SYN) && t.state != TcpState::SYN_RECEIVED) {
      send_challenge_ack(t);  // Linux: syn_challenge
    } else if (!oow_rate_limited(t, s)) {
      send_ack(t);            // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
    }
    return;
  }
  // second check the RST bit, third (security) does not apply, fourth check the SYN bit.
  // Before the trim: RFC 5961 3.2 judges an RST by its own SEG.SEQ (Linux
  // tcp_validate_incoming compares the untrimmed TCP_SKB_CB(skb)->seq); an RST
  // with payload starting before RCV.NXT is in the window, not an exact match.
  if ((s.flags & (RST | SYN)) && !crossed_synack(t, s)) [[unlikely]] {
    if (s.flags & RST) {
      rst_rcv(t, s);
    } else {
      syn_rcv_in_synchronized(t, s);
    }
    return;
  }

  // Trim to the window: data before RCV.NXT (retransmitted) and beyond the right edge.
  const uint32_t seg_seq = s.seq;  // untrimmed, for the seventh step's check after the peer's FIN
  bool text_dropped = false;  // the window took none of it: ACK to say so
  if (wnd == 0 && (s.data_len != 0 || (s.flags & FIN))) [[unlikely]] {
    s.data_len = 0;
    s.flags = static_cast<uint8_t>(s.flags & ~FIN);
    text_dropped = true;
    stats_.drops.count(DropReason::tcp_data_beyond_window);
  } else {
    if (seq_lt(s.seq, t.rcv_nxt)) {
      const uint32_t skip = t.rcv_nxt - s.seq;
      if (skip >= s.data_len) {
        if (skip > s.data_len) s.flags = static_cast<uint8_t>(s.flags & ~FIN);  // an old FIN
        s.data += s.data_len;
        s.data_len = 0;
      } else {
        s.data += skip;
        s.data_len -= skip;
      }
      s.seq = t.rcv_nxt;
    }
    const uint32_t right = t.rcv_nxt + wnd;
    if (seq_gt(s.seq + s.data_len, right)) {
      s.data_len = right - s.seq;
      s.flags = static_cast<uint8_t>(s.flags & ~FIN);
      stats_.drops.count(DropReason::tcp_data_beyond_window);
    }
  }

  s.accepted = true;

  // fifth check the ACK field
  if (!(s.flags & ACK)) [[unlikely]] {
    stats_.drops.count(DropReason::tcp_no_ack);
    return;
  }
  bool established_now = false;
  if (t.state == TcpState::SYN_RECEIVED) [[unlikely]] {
    if (!syn_received_ack(t, s)) return;
    established_now = true;
  }
  // The crossed SYN-ACK of a simultaneous open, the only SYN that gets this
  // far, is acknowledged (see crossed_synack()).
  bool ack_now = text_dropped || (s.flags & SYN);
  if (!ack_rcv(t, s, ack_now)) return;  // dropped, or the Tcb ended (LAST_ACK, CLOSING)

  // sixth, URG: not supported (RFC 6093: the urgent mechanism is deprecated); ignored.
  // seventh, process the segment text
  bool data_event = false;
  if (s.data_len != 0) {
    if (in_state(t.state, tcp_states::kCanReceive)) {
      if (t.has(tcb_flags::kOrphan)) [[unlikely]] {
        // Linux tcp_rcv_state_process: new data after close() is answered
        // with RST (RFC 1122 4.2.2.13; TCPAbortOnData).
        ++stats_.counters.abort_on_data;
        stats_.drops.count(DropReason::tcp_data_after_close);
        emit_rst_for(t.key, *s.src_mac, s.ack, 0, RST);
        destroy(t, s.hash);
        return;
      }
      if (s.seq != t.rcv_nxt) {
        // Out of order: no reassembly queue (no per-connection buffers);
        // dropped, a duplicate ACK tells the peer what we expect.
        stats_.drops.count(DropReason::tcp_out_of_order);
        s.flags = static_cast<uint8_t>(s.flags & ~FIN);
        ack_now = true;
      } else {
        const uint32_t taken = app_receive(t, s.data, s.data_len);
        t.rcv_nxt += taken;
        if (taken < s.data_len) {
          stats_.drops.count(DropReason::tcp_rcv_buffer_full);
          s.flags = static_cast<uint8_t>(s.flags & ~FIN);
        }
        data_event = taken != 0;
        ack_now = true;
      }
    } else if (seq_lt(seg_seq, t.rcv_nxt)) [[unlikely]] {
      // CLOSE_WAIT, CLOSING, LAST_ACK and bytes past the peer's own FIN in a
      // segment that overlaps it: Linux tcp_rcv_state_process step 7 falls
      // through to its RCV_SHUTDOWN check and resets (RFC 1122 4.2.2.13,
      // TCPAbortOnData), <SEQ=SEG.ACK><CTL=RST>.
      ++stats_.counters.abort_on_data;
      if (t.state == TcpState::CLOSE_WAIT) ++stats_.counters.estab_resets;  // tcp_set_state: EstabResets
      stats_.drops.count(DropReason::tcp_data_after_fin);
      emit_rst_for(t.key, *s.src_mac, s.ack, 0, RST);
      if (!t.has(tcb_flags::kOrphan)) app_on_reset(t);
      destroy(t, s.hash);
      return;
    } else {
      // CLOSE_WAIT, CLOSING, LAST_ACK: a segment at or past RCV.NXT after
      // the peer's FIN is ignored (Linux: the same).
      stats_.drops.count(DropReason::tcp_data_after_fin);
    }
  }

  // eighth, check the FIN bit
  bool fin_event = false;
  if ((s.flags & FIN) && s.seq + s.data_len == t.rcv_nxt &&
      in_state(t.state, bit(TcpState::ESTABLISHED) | bit(TcpState::FIN_WAIT_1) | bit(TcpState::FIN_WAIT_2))) {
    t.rcv_nxt += 1;
    ack_now = true;
    switch (t.state) {
      case TcpState::ESTABLISHED:
        set_state(t, TcpState::CLOSE_WAIT);
        fin_event = true;
        break;
      case TcpState::FIN_WAIT_1:
        // Our FIN is not acked yet (else ack_rcv moved us to FIN_WAIT_2).
        set_state(t, TcpState::CLOSING);
        break;
      case TcpState::FIN_WAIT_2:
        send_ack(t);
        enter_time_wait(t, s.hash);
        return;
      default:
        break;
    }
  }

  if (established_now && t.has(tcb_flags::kPassive) && listeners_[t.listener].accept_rate == 0) {
    // Unlimited accept rate: the application takes it now, so what it sends
    // (a response to data in this very segment) carries the ACK.
    accept_one(listeners_[t.listener], t);
  }
  const uint32_t sent = tx_->count;
  if ((data_event || fin_event || established_now) && t.has(tcb_flags::kAccepted)) {
    if (!app_run(t)) return;
  }
  output(t);
  if (ack_now && tx_->count == sent) send_ack(t);
  rearm_timer(t);
}

// Simultaneous open (RFC 9293 figure 7): in an active open's SYN_RECEIVED
// the peer's SYN-ACK to our SYN, which crossed its SYN, completes the
// handshake. Linux tcp_validate_incoming (6.10+, step 4, state TCP_SYN_RECV
// with sk_socket): th->ack, seq + 1 == end_seq, seq + 1 == rcv_nxt and
// ack_seq == snd_nxt pass; anything else is out of window or a challenge ACK.
// tcp_rcv_state_process then hands it to tcp_data_queue (6.11+, c1668292689a
// dropped the early consume), whose old-sequence path ACKs at once (with a
// D-SACK there; a plain ACK here): RFC 9293 figure 7's last segment, which
// the peer needs when our own SYN-ACK was lost. Data the application queued
// carries that ACK instead.
bool Engine::crossed_synack(const Tcb& t, const Seg& s) const {
  return t.state == TcpState::SYN_RECEIVED && !t.has(tcb_flags::kPassive) &&
         (s.flags & (SYN | ACK | RST)) == (SYN | ACK) && s.len == 1 && s.seq + 1 == t.rcv_nxt &&
         s.ack == t.snd_nxt;
}

// 3.10.7.4 second: RST. RFC 5961 3.2: exact match resets, in-window gets a challenge ACK.
bool Engine::rst_rcv(Tcb& t, const Seg& s) {
  const bool exact = s.seq == t.rcv_nxt ||
                     (s.seq == t.rcv_nxt - 1 && in_state(t.state, bit(TcpState::CLOSE_WAIT) |
                                                                     bit(TcpState::LAST_ACK) |
                                                                     bit(TcpState::CLOSING)));
  if (!exact) {
    stats_.drops.count(DropReason::tcp_rst_in_window);
    send_challenge_ack(t);
    return false;
  }
  switch (t.state) {
    case TcpState::SYN_RECEIVED:
      // Passive: back to LISTEN, the user need not be informed; active: refused.
      ++stats_.counters.attempt_fails;
      if (!t.has(tcb_flags::kPassive)) app_on_reset(t);
      break;
    case TcpState::ESTABLISHED:
    case TcpState::CLOSE_WAIT:
      ++stats_.counters.estab_resets;
      app_on_reset(t);
      break;
    case TcpState::FIN_WAIT_1:
    case TcpState::FIN_WAIT_2:
      if (!t.has(tcb_flags::kOrphan)) app_on_reset(t);
      break;
    default:  // CLOSING, LAST_ACK
      break;
  }
  ++stats_.counters.rsts_received;
  destroy(t, s.hash);
  return true;
}

// 3.10.7.4 fourth: SYN in a synchronized state (RFC 5961 4.2).
void Engine::syn_rcv_in_synchronized(Tcb& t, const Seg& s) {
  if (t.state == TcpState::SYN_RECEIVED && t.has(tcb_flags::kPassive)) {
    // "If the connection was initiated with a passive OPEN, then return this
    // connection to the LISTEN state and return."
    ++stats_.counters.attempt_fails;
    stats_.drops.count(DropReason::tcp_syn_in_syn_recv);
    destroy(t, s.hash);
    return;
  }
  stats_.drops.count(DropReason::tcp_syn_in_window);
  send_challenge_ack(t);
}

// fifth, SYN-RECEIVED: the final ACK of the handshake.
bool Engine::syn_received_ack(Tcb& t, const Seg& s) {
  if (!(seq_gt(s.ack, t.snd_una) && seq_leq(s.ack, t.snd_nxt))) {
    // <SEQ=SEG.ACK><CTL=RST>; the half-open connection stays.
    stats_.drops.count(DropReason::tcp_bad_ack);
    emit_rst_for(t.key, *s.src_mac, s.ack, 0, RST);
    return false;
  }
  if (t.has(tcb_flags::kPassive)) {
    Listener& l = listeners_[t.listener];
    if (l.accept_queue_full()) [[unlikely]] {
      // Linux tcp_check_req -> listen_overflow: abort_on_overflow=1 resets,
      // 0 drops the ACK and lets the SYN-ACK retransmission try again.
      ++stats_.counters.listen_overflows;
      ++stats_.counters.listen_drops;
      stats_.drops.count(DropReason::tcp_accept_queue_full);
      if (knobs_.abort_on_overflow) {
        emit_rst_for(t.key, *s.src_mac, s.ack, 0, RST);
        ++stats_.counters.attempt_fails;
        destroy(t, s.hash);
      }
      return false;
    }
    --l.half_open;
  }
  t.retransmits = 0;
  t.rto_ms = kInitialRtoMs;
  cancel_timer(t);
  set_state(t, TcpState::ESTABLISHED);
  t.snd_wnd = s.wnd << t.snd_wscale;
  t.max_snd_wnd = std::max(t.max_snd_wnd, t.snd_wnd);
  t.snd_wl1 = s.seq;
  t.snd_wl2 = s.ack;
  if (t.has(tcb_flags::kPassive)) {
    accept_enqueue(listeners_[t.listener], t);
  }
  return true;
}

// fifth, the synchronized states: RFC 9293 3.10.7.4 + RFC 5961 5.2.
bool Engine::ack_rcv(Tcb& t, const Seg& s, bool& ack_now) {
  if (seq_gt(s.ack, t.snd_nxt)) [[unlikely]] {
    // Acks something not yet sent: send an ACK, drop (Linux: challenge ACK).
    stats_.drops.count(DropReason::tcp_ack_unsent);
    send_challenge_ack(t);
    return false;
  }
  const uint32_t max_wnd = std::max<uint32_t>(t.max_snd_wnd, 1);
  if (seq_lt(s.ack, t.snd_una - max_wnd)) [[unlikely]] {
    stats_.drops.count(DropReason::tcp_ack_too_old);
    send_challenge_ack(t);
    return false;
  }
  // RFC 7323 4.3 (Linux tcp_replace_ts_recent, after tcp_ack's checks):
  // remember the newest TSval of a segment that covers RCV.NXT (last ACK sent).
  if (t.has(tcb_flags::kTimestamps) && s.opts->has_timestamps && seq_leq(s.seq, t.rcv_nxt) &&
      static_cast<int32_t>(s.opts->tsval - t.ts_recent) >= 0) {
    t.ts_recent = s.opts->tsval;
    t.ts_recent_stamp = now_s();
  }
  // Linux tcp_ack: only a processed ACK proves the peer alive (the keepalive
  // idle clock); unacceptable, PAWS-rejected or forged segments do not.
  t.rcv_tstamp_ms = now_ms();
  t.probes_out = 0;
  if (seq_gt(s.ack, t.snd_una)) {
    const uint32_t acked = s.ack - t.snd_una;
    // RTT: from the echoed timestamp (RFC 7323 4), else Karn's timed segment.
    if (t.has(tcb_flags::kTimestamps) && s.opts->has_timestamps && s.opts->tsecr != 0) {
      const uint32_t rtt_ms = ts_now(t) - s.opts->tsecr;
      if (static_cast<int32_t>(rtt_ms) >= 0 && rtt_ms < kMaxRtoMs * 4) rtt_sample(t, rtt_ms * 1000);
    } else if (t.has(tcb_flags::kRttTiming) && seq_geq(s.ack, t.rtt_seq)) {
      t.clear(tcb_flags::kRttTiming);
      if (t.retransmits == 0) rtt_sample(t, (now_ms() - t.rtt_start_ms) * 1000);
    }
    // RFC 5681: slow start, then congestion avoidance.
    if (t.cwnd < t.ssthresh) {
      t.cwnd += std::min<uint32_t>(acked, t.snd_mss);
    } else {
      t.cwnd += std::max<uint32_t>(1, t.snd_mss * t.snd_mss / t.cwnd);
    }
    const bool was_recovering = t.retransmits != 0;
    t.snd_una = s.ack;
    t.retransmits = 0;
    if (t.sndbuf != nullptr && seq_geq(t.snd_una, t.write_seq)) {
      if (!app_sent_acked(t, ack_now)) return false;  // the application reset it: t is gone
    }
    if (t.snd_una != t.snd_nxt) {
      schedule(t, TimerKind::retransmit, now_ + millis(t.rto_ms));  // RFC 6298 5.3
      if (was_recovering) retransmit_head(t);  // the next lost segment, without another RTO
    } else if (t.timer_kind == TimerKind::retransmit) {
      cancel_timer(t);                                                 // RFC 6298 5.2
    }
  }
  // Window update (RFC 9293 3.10.7.4, SND.WL1/SND.WL2 rule).
  if (seq_lt(t.snd_wl1, s.seq) || (t.snd_wl1 == s.seq && seq_leq(t.snd_wl2, s.ack))) {
    t.snd_wnd = s.wnd << t.snd_wscale;
    t.snd_wl1 = s.seq;
    t.snd_wl2 = s.ack;
    if (t.snd_wnd > t.max_snd_wnd) t.max_snd_wnd = t.snd_wnd;
  }
  if (t.fin_acked()) {
    switch (t.state) {
      case TcpState::FIN_WAIT_1:
        set_state(t, TcpState::FIN_WAIT_2);
        if (t.has(tcb_flags::kOrphan)) schedule(t, TimerKind::fin_wait2, now_ + seconds(knobs_.fin_timeout));
        break;
      case TcpState::CLOSING:
        enter_time_wait(t, s.hash);
        return false;
      case TcpState::LAST_ACK:
        destroy(t, s.hash);
        return false;
      default:
        break;
    }
  }
  return true;
}

}  // namespace tcpterm
