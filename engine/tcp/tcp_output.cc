// Output: every segment the engine sends is built here.
//
// emit_raw() writes one Ethernet/IPv4/TCP frame into the next transmit
// buffer the driver lent (engine/wire's build_tcp_frame), counting
// no_tx_buffer when there is none. On top of it:
//   emit()            a segment of a connection (options: SYN options or the
//                     timestamp; ACK = RCV.NXT; the window we advertise)
//   output()          what the send queue and the windows allow: data by
//                     reference from the send queue (zero-copy), PSH on the
//                     last queued byte, the FIN piggybacked on the last
//                     segment when the application has closed
//   send_ack / send_challenge_ack (RFC 5961 7, rate-limited like Linux)
//   emit_rst_for / send_reset_reply (RFC 9293 3.10.7.1's reset generation)
//   retransmit_head() the first unacknowledged segment (RTO)
//
// The window we advertise is the free space the application has (the echo
// buffer) or a constant; the receive test uses the furthest edge offered.
#include <algorithm>
#include <cstring>

#include "engine/tcp/engine.h"
#include "engine/wire/bytes.h"
#include "engine/wire/checksum.h"
#include "engine/wire/seq.h"

namespace tcpterm {

using namespace tcp_flags;

// The same frame as engine/wire's build_tcp_frame (Ethernet II, IPv4 without
// options, DF, ID 0, TTL from the config, TCP with options in Linux's
// layout), written straight into the buffer, with two shortcuts it cannot
// take: a payload's checksum may come precomputed (the listener's prebuilt
// HTTP responses), and with TX checksum offload the IPv4 checksum is left 0
// and the TCP field holds the pseudo-header sum for the NIC to finish.
bool Engine::emit_raw(const MacAddr& dst, const FlowKey& k, uint32_t seq, uint32_t ack, uint8_t flags,
                      uint16_t window, const TcpOptions& opts, const uint8_t* data, uint32_t len,
                      bool retrans, const uint32_t* payload_sum) {
  uint8_t* buf = tx_->next();
  const size_t th_len = 20 + tcp_options_size(opts);
  const size_t tcp_len = th_len + len;
  const size_t frame_len = 14 + 20 + tcp_len;
  if (buf == nullptr || frame_len > tx_->buf_cap) [[unlikely]] {
    stats_.drops.count(DropReason::no_tx_buffer);
    return false;
  }
  std::memcpy(buf, dst.b.data(), 6);
  std::memcpy(buf + 6, mac_.b.data(), 6);
  store_be16(buf + 12, 0x0800);
  uint8_t* ip = buf + 14;
  ip[0] = 0x45;
  ip[1] = 0;
  store_be16(ip + 2, static_cast<uint16_t>(20 + tcp_len));
  store_be32(ip + 4, 0x00004000);  // ID 0, DF
  ip[8] = static_cast<uint8_t>(cfg_.engine.ttl);
  ip[9] = 6;
  store_be16(ip + 10, 0);
  store_be32(ip + 12, k.laddr);
  store_be32(ip + 16, k.raddr);
  uint8_t* th = ip + 20;
  store_be16(th, k.lport);
  store_be16(th + 2, k.rport);
  store_be32(th + 4, seq);
  store_be32(th + 8, ack);
  th[12] = static_cast<uint8_t>((th_len / 4) << 4);
  th[13] = flags;
  store_be16(th + 14, window);
  store_be32(th + 16, 0);  // checksum, urgent pointer
  write_tcp_options(th + 20, opts);
  if (len != 0) std::memcpy(th + th_len, data, len);
  const uint32_t pseudo = pseudo_header_sum(k.laddr, k.raddr, 6, static_cast<uint32_t>(tcp_len));
  if (tx_csum_offload_) {
    store_be16(th + 16, static_cast<uint16_t>(~csum_fold(pseudo)));
  } else {
    // The fixed header words are summed from the values, not re-read from the
    // bytes just stored (a load right after byte stores stalls on store forwarding).
    const uint64_t addrs = uint64_t{k.laddr >> 16} + (k.laddr & 0xffff) + (k.raddr >> 16) + (k.raddr & 0xffff);
    const uint64_t ip_sum = 0x4500u + 20 + tcp_len + 0x4000u + (uint64_t{cfg_.engine.ttl} << 8 | 6) + addrs;
    store_be16(ip + 10, csum_fold(static_cast<uint32_t>(ip_sum)));
    uint64_t tcp_sum = uint64_t{pseudo} + k.lport + k.rport + (seq >> 16) + (seq & 0xffff) + (ack >> 16) +
                       (ack & 0xffff) + ((th_len / 4) << 12 | flags) + window;
    tcp_sum = (tcp_sum & 0xffffffff) + (tcp_sum >> 32);
    uint32_t sum = static_cast<uint32_t>((tcp_sum & 0xffff) + (tcp_sum >> 16));
    if (th_len > 20) sum = csum_add(sum, th + 20, th_len - 20);  // options
    if (len != 0) sum = payload_sum != nullptr ? sum + *payload_sum : csum_add(sum, th + th_len, len);
    store_be16(th + 16, csum_fold(sum));
  }
  tx_->lens[tx_->count++] = static_cast<uint16_t>(frame_len);
  if (retrans) {
    ++stats_.counters.retrans_segs;
  } else {
    ++stats_.counters.out_segs;
  }
  if (flags & RST) ++stats_.counters.out_rsts;
  return true;
}

uint32_t Engine::advertised_window_bytes(const Tcb& t) const {
  if (t.app == App::echo) return kEchoBufSize - t.echo_fill;
  return kRcvWnd;
}

uint16_t Engine::window_field(Tcb& t, bool syn) {
  uint32_t bytes = advertised_window_bytes(t);
  if (syn) {
    // RFC 7323 2.2: the window of a SYN is never scaled.
    const uint32_t w = std::min<uint32_t>(bytes, 65535);
    t.rcv_adv = t.rcv_nxt + w;
    return static_cast<uint16_t>(w);
  }
  // Rounded down to the scale unit, so the window never promises bytes the
  // buffer cannot take; the edge may then retract by less than one unit,
  // which RFC 7323 (2.4, appendix F) accepts as the price of the
  // granularity. Acceptability keeps using the furthest edge ever offered
  // (rcv_adv), so nothing the peer was allowed to send is refused.
  uint32_t w = bytes >> t.rcv_wscale;
  if (w > 65535) w = 65535;
  const uint32_t edge = t.rcv_nxt + (w << t.rcv_wscale);
  if (seq_gt(edge, t.rcv_adv)) t.rcv_adv = edge;
  return static_cast<uint16_t>(w);
}

// The precomputed checksum of a whole prebuilt HTTP response, when data is one.
const uint32_t* Engine::cached_sum(const Tcb& t, const uint8_t* data, uint32_t len) const {
  if (t.app != App::http || t.listener == kNoListener) return nullptr;
  const Listener& l = listeners_[t.listener];
  if (data == reinterpret_cast<const uint8_t*>(l.http_close.data()) && len == l.http_close.size()) {
    return &l.http_close_sum;
  }
  if (data == reinterpret_cast<const uint8_t*>(l.http_keepalive.data()) && len == l.http_keepalive.size()) {
    return &l.http_keepalive_sum;
  }
  return nullptr;
}

bool Engine::emit(Tcb& t, uint8_t flags, uint32_t seq, const uint8_t* data, uint32_t len, bool syn_options,
                  bool retrans) {
  TcpOptions o{};
  const bool ts = t.has(tcb_flags::kTimestamps);
  if (syn_options) {
    o.has_mss = true;
    o.mss = our_mss_;
    if (t.has(tcb_flags::kWscale)) {
      o.has_wscale = true;
      o.wscale = t.rcv_wscale;
    }
    o.sack_permitted = t.has(tcb_flags::kSackOk);
  }
  if (ts) {
    o.has_timestamps = true;
    o.tsval = ts_now(t);
    // Linux tcp_syn_options / tcp_established_options echo rx_opt.ts_recent
    // in every segment: 0 in a SYN, except after tw_reuse took the TIME_WAIT's.
    o.tsecr = t.ts_recent;
  }
  const uint16_t win = window_field(t, syn_options);
  return emit_raw(t.peer_mac, t.key, seq, (flags & ACK) ? t.rcv_nxt : 0, flags, win, o, data, len, retrans,
                  len != 0 ? cached_sum(t, data, len) : nullptr);
}

void Engine::send_ack(Tcb& t) { emit(t, ACK, t.snd_nxt, nullptr, 0); }

void Engine::send_syn(Tcb& t, bool with_ack) {
  const bool retrans = t.snd_nxt != t.iss;
  if (!retrans) {
    t.snd_nxt = t.iss + 1;
    if (!t.has(tcb_flags::kTimestamps)) {
      t.set(tcb_flags::kRttTiming);
      t.rtt_seq = t.iss + 1;
    }
    t.rtt_start_ms = now_ms();
  } else {
    t.clear(tcb_flags::kRttTiming);  // Karn: no sample from a retransmitted SYN
  }
  emit(t, with_ack ? (SYN | ACK) : SYN, t.iss, nullptr, 0, true, retrans);
}

// Linux tcp_oow_rate_limited: at most one ACK per invalid_ratelimit ms for
// out-of-window segments that occupy no sequence space (they could be an
// ACK loop). A FIN counts as Linux's seq != end_seq: a retransmitted FIN
// (ours lost its ACK) is always re-ACKed.
bool Engine::oow_rate_limited(Tcb& t, const Seg& s) {
  if (s.len != 0 && !(s.flags & SYN)) return false;
  return oow_limit_hit(t);
}

bool Engine::oow_limit_hit(Tcb& t) { return oow_limit_hit(t.last_oow_ack_ms); }

// Linux __tcp_oow_rate_limited on a stamp (a Tcb's, a TIME_WAIT record's).
bool Engine::oow_limit_hit(uint32_t& last_oow_ack_ms) {
  const uint32_t now = now_ms();
  if (knobs_.invalid_ratelimit != 0 && last_oow_ack_ms != 0 &&
      now - last_oow_ack_ms < knobs_.invalid_ratelimit) {
    ++stats_.counters.oow_acks_limited;
    return true;
  }
  last_oow_ack_ms = now != 0 ? now : 1;
  return false;
}

// RFC 5961 7 / Linux tcp_send_challenge_ack: the per-connection limit first,
// then challenge_ack_limit per second for the whole engine (INT_MAX: none).
bool Engine::send_challenge_ack(Tcb& t) {
  if (oow_limit_hit(t)) return false;
  if (knobs_.challenge_ack_limit != 2147483647u) {
    if (now_s() != challenge_second_) {
      challenge_second_ = now_s();
      challenge_count_ = 0;
    }
    if (challenge_count_ >= knobs_.challenge_ack_limit) {
      ++stats_.counters.challenge_acks_limited;
      return false;
    }
    ++challenge_count_;
  }
  ++stats_.counters.challenge_acks;
  send_ack(t);
  return true;
}

void Engine::send_active_rst(Tcb& t) { emit(t, RST | ACK, t.snd_nxt, nullptr, 0); }

void Engine::emit_rst_for(const FlowKey& k, const MacAddr& dst, uint32_t seq, uint32_t ack, uint8_t flags) {
  emit_raw(dst, k, seq, ack, flags, 0, TcpOptions{}, nullptr, 0, false);
}

// 3.10.7.1: "If the incoming segment has an ACK field, the reset takes its
// sequence number from the ACK field of the segment, otherwise the reset has
// sequence number zero and the ACK field is set to the sum of the sequence
// number and segment length of the incoming segment."
void Engine::send_reset_reply(const ParsedFrame& p, const Seg& s) {
  if (s.flags & RST) return;  // an RST is never answered
  const FlowKey k{p.ip_src, p.ip_dst, p.sport, p.dport};
  if (s.flags & ACK) {
    emit_rst_for(k, p.eth_src, s.ack, 0, RST);
  } else {
    emit_rst_for(k, p.eth_src, 0, s.seq + s.len, RST | ACK);
  }
}

void Engine::send_synack_cookie(Listener& l, const FlowKey& k, const Seg& s) {
  // Linux cookie_init_sequence -> tcp_synq_overflow: every cookie sent (for a
  // full SYN queue, syncookies=2 or a full flow table) opens the window in
  // which listen_rcv() checks ACKs as cookies.
  l.overflowed = true;
  l.last_overflow = now_;
  const TcpOptions& peer = *s.opts;
  const uint16_t peer_mss = static_cast<uint16_t>(std::min<uint32_t>(peer.has_mss ? peer.mss : 536, our_mss_));
  uint16_t mss_used = 0;
  const uint32_t cookie = cookies_.make(k, s.seq, peer_mss, now_, mss_used);
  TcpOptions o{};
  o.has_mss = true;
  o.mss = our_mss_;
  // Linux: without timestamps, a cookie cannot carry window scale or SACK.
  if (peer.has_timestamps && knobs_.timestamps) {
    const bool ws = peer.has_wscale && knobs_.window_scaling;
    const bool sack = peer.sack_permitted && knobs_.sack;
    const uint32_t ts_off = knobs_.timestamps == 1 ? isn_.ts_offset(k.laddr, k.raddr) : 0;
    o.has_timestamps = true;
    o.tsval = SynCookies::ts_encode(now_ms(), ws ? peer.wscale : -1, sack, false) + ts_off;
    o.tsecr = peer.tsval;
    o.sack_permitted = sack;
    if (ws) {
      o.has_wscale = true;
      o.wscale = kRcvWscale;
    }
  }
  ++stats_.counters.syncookies_sent;
  emit_raw(*s.src_mac, k, cookie, s.seq + 1, SYN | ACK, static_cast<uint16_t>(std::min<uint32_t>(kRcvWnd, 65535)),
           o, nullptr, 0, false);
}

void Engine::output(Tcb& t) {
  if (!in_state(t.state, bit(TcpState::ESTABLISHED) | bit(TcpState::CLOSE_WAIT) | bit(TcpState::FIN_WAIT_1) |
                             bit(TcpState::CLOSING) | bit(TcpState::LAST_ACK))) {
    return;
  }
  const bool fin_queued = t.has(tcb_flags::kFinQueued);
  for (;;) {
    const uint32_t unsent = seq_lt(t.snd_nxt, t.write_seq) ? t.write_seq - t.snd_nxt : 0;
    if (unsent != 0) {
      const uint32_t limit = std::min(t.snd_wnd, t.cwnd);
      const uint32_t flight = t.in_flight();
      const uint32_t avail = limit > flight ? limit - flight : 0;
      const uint32_t n = std::min({unsent, static_cast<uint32_t>(t.snd_mss), avail});
      if (n == 0) break;  // window closed: the persist timer probes (rearm_timer)
      const bool last = n == unsent;
      const bool fin = last && fin_queued;
      uint8_t flags = ACK;
      if (last) flags |= PSH;
      if (fin) flags |= FIN;
      if (!emit(t, flags, t.snd_nxt, t.sndbuf + (t.snd_nxt - t.sndbuf_seq), n)) break;
      if (!t.has(tcb_flags::kTimestamps) && !t.has(tcb_flags::kRttTiming)) {
        t.set(tcb_flags::kRttTiming);
        t.rtt_seq = t.snd_nxt + n;
        t.rtt_start_ms = now_ms();
      }
      t.snd_nxt += n + (fin ? 1 : 0);
      if (fin) break;
      continue;
    }
    if (fin_queued && t.snd_nxt == t.write_seq) {
      // A FIN alone takes no window (RFC 9293 3.10.4: queued until sent).
      if (emit(t, FIN | ACK, t.snd_nxt, nullptr, 0)) t.snd_nxt += 1;
    }
    break;
  }
  if (t.snd_una != t.snd_nxt && (t.timer_kind != TimerKind::retransmit || !TimerWheel::pending(t.timer))) {
    schedule(t, TimerKind::retransmit, now_ + millis(t.rto_ms));
  }
}

// The first unacknowledged segment again (RTO expiry, or the next one after a
// partial ACK while recovering).
void Engine::retransmit_head(Tcb& t) {
  t.clear(tcb_flags::kRttTiming);  // Karn
  if (t.state == TcpState::SYN_SENT || t.state == TcpState::SYN_RECEIVED) {
    send_syn(t, t.state == TcpState::SYN_RECEIVED);
    return;
  }
  const uint32_t data_end = seq_lt(t.snd_nxt, t.write_seq) ? t.snd_nxt : t.write_seq;
  if (seq_lt(t.snd_una, data_end)) {
    const uint32_t n = std::min<uint32_t>(data_end - t.snd_una, t.snd_mss);
    const bool fin = t.fin_sent() && t.snd_una + n == t.write_seq;
    uint8_t flags = ACK;
    if (t.snd_una + n == t.write_seq) flags |= PSH;
    if (fin) flags |= FIN;
    emit(t, flags, t.snd_una, t.sndbuf + (t.snd_una - t.sndbuf_seq), n, false, true);
  } else if (t.fin_sent()) {
    emit(t, FIN | ACK, t.write_seq, nullptr, 0, false, true);
  }
}

}  // namespace tcpterm
