// TIME_WAIT segment processing: the verdict (after Linux's
// tcp_timewait_state_process, TIME_WAIT substate) and the engine's I/O for it.
#include "engine/tcp/time_wait.h"

#include "engine/tcp/engine.h"
#include "engine/wire/seq.h"

namespace tcpterm {

using namespace tcp_flags;

TwDecision time_wait_state_process(TimeWaitRecord& tw, const TwSegment& seg, uint32_t now_s, bool rfc1337) {
  TwDecision d;
  const bool rst = seg.flags & RST, syn = seg.flags & SYN, ack = seg.flags & ACK;
  const bool tw_ts = tw.flags & tw_flags::kTimestamps;
  // PAWS (tcp_paws_reject): an older TSval is rejected, except an RST when
  // ts_recent is older than TCP_PAWS_MSL.
  bool paws_reject = false;
  if (seg.has_ts && tw_ts && tw.ts_recent != 0 &&
      static_cast<int32_t>(tw.ts_recent - seg.tsval) > 0 && now_s - tw.ts_recent_stamp < kPawsWrapSeconds) {
    paws_reject = !(rst && now_s - tw.ts_recent_stamp >= kPawsMslSeconds);
  }
  if (!paws_reject && seg.seq == tw.rcv_nxt && (seg.seq == seg.end_seq || rst)) {
    // In-window segment: only an RST or a bare ACK.
    if (rst) {
      if (!rfc1337) {
        d.verdict = TwVerdict::kill;  // TIME_WAIT assassination (RFC 1337 hazard H2)
        return d;
      }
    } else {
      d.restart = true;
    }
    if (seg.has_ts && tw_ts) {
      tw.ts_recent = seg.tsval;
      tw.ts_recent_stamp = now_s;
    }
    return d;
  }
  // A new SYN is accepted when it cannot be an old duplicate: its sequence
  // number is beyond the old connection's, or (RFC 6191) its timestamp is newer.
  if (syn && !rst && !ack && !paws_reject &&
      (seq_gt(seg.seq, tw.rcv_nxt) || (seg.has_ts && tw_ts && static_cast<int32_t>(tw.ts_recent - seg.tsval) < 0))) {
    uint32_t isn = tw.snd_nxt + 65535 + 2;
    if (isn == 0) ++isn;
    d.verdict = TwVerdict::syn;
    d.isn = isn;
    return d;
  }
  if (!rst) {
    // Out of window (a retransmitted FIN, an old duplicate, a SYN that is
    // not newer): ACK it. An ACK-less SYN with an old sequence number may be
    // a new connection with a random ISN, so it does not restart the timer.
    if (paws_reject || ack) d.restart = true;
    d.verdict = TwVerdict::ack;
  }
  return d;
}

void Engine::time_wait_rcv(uint32_t index, const ParsedFrame& p, const Seg& s) {
  TimeWaitRecord& tw = flows_->time_wait(index);
  TwSegment seg{s.seq, s.seq + s.len, s.flags, p.opts.has_timestamps, p.opts.tsval};
  const TwDecision d = time_wait_state_process(tw, seg, now_s(), knobs_.rfc1337 != 0);
  if (d.restart) {
    tw.expires_ms = now_ms() + knobs_.msl * 2000;
    tw_fifo_.restart(*flows_, index);
    ++stats_.counters.time_wait_restarts;
  }
  switch (d.verdict) {
    case TwVerdict::success:
      stats_.drops.count(DropReason::tcp_time_wait);
      return;
    case TwVerdict::kill:
      ++stats_.counters.time_wait_killed;
      tw_fifo_.remove(*flows_, index);
      flows_->erase_time_wait(index);
      stats_.on_destroy(TcpState::TIME_WAIT);
      return;
    case TwVerdict::syn: {
      const uint16_t li = port_listener_[p.dport];
      if (li != kNoListener) {
        ++stats_.counters.time_wait_recycled;
        const FlowKey k = tw.key;
        tw_fifo_.remove(*flows_, index);
        flows_->erase_time_wait(index);
        stats_.on_destroy(TcpState::TIME_WAIT);
        listen_syn(listeners_[li], li, k, s, true, d.isn);
        return;
      }
      [[fallthrough]];  // no listener: Linux answers as TW_ACK
    }
    case TwVerdict::ack: {
      // Linux tcp_timewait_check_oow_rate_limit (TCPACKSkippedTimeWait): a
      // segment that occupies no sequence space, or a SYN, is re-ACKed at most
      // once per invalid_ratelimit ms; a retransmitted FIN always is. The SYN
      // without a listener (TCP_TW_SYN falling through to TCP_TW_ACK) is not.
      if (d.verdict == TwVerdict::ack && (s.len == 0 || (s.flags & SYN)) && oow_limit_hit(tw.last_oow_ack_ms)) {
        stats_.drops.count(DropReason::tcp_time_wait);
        return;
      }
      ++stats_.counters.time_wait_acks;
      TcpOptions o{};
      if (tw.flags & tw_flags::kTimestamps) {
        o.has_timestamps = true;
        o.tsval = now_ms() + (knobs_.timestamps == 1 ? isn_.ts_offset(tw.key.laddr, tw.key.raddr) : 0);
        o.tsecr = tw.ts_recent;
      }
      emit_raw(p.eth_src, tw.key, tw.snd_nxt, tw.rcv_nxt, ACK, tw.rcv_wnd, o, nullptr, 0, false);
      return;
    }
  }
}

}  // namespace tcpterm
