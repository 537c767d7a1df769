// The engine's frame demultiplexer, life cycle of a Tcb (create, state
// changes, TIME_WAIT, destroy), active open and introspection.
//
// receive() parses the frame once (engine/wire), answers ARP and ICMP echo in
// place, and hands TCP segments to the connection found in the flow table, to
// its TIME_WAIT record, to the listener of the port, or to the closed-port
// rule (RST). Everything a Tcb owns outside itself (timer, accept-queue
// links, echo buffer, orphan and half-open counts, state gauges) is released
// in one place, destroy(), so no path can leak it.
#include "engine/tcp/engine.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <string>

#include "engine/wire/build.h"
#include "engine/wire/bytes.h"
#include "engine/wire/checksum.h"
#include "engine/wire/seq.h"

namespace tcpterm {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

SipKey next_key(uint64_t& x) {
  const uint64_t a = splitmix64(x);
  return SipKey{a, splitmix64(x)};
}

App app_of(AppKind k) {
  switch (k) {
    case AppKind::close: return App::close;
    case AppKind::http: return App::http;
    case AppKind::echo: return App::echo;
    case AppKind::discard: return App::discard;
    case AppKind::reset: return App::reset;
  }
  return App::close;
}

constexpr uint32_t kEchoBuffers = 1024;

struct Seeds {
  uint64_t flow;
  SipKey isn, c0, c1;
  explicit Seeds(uint64_t seed) {
    uint64_t x = seed;
    flow = splitmix64(x);
    isn = next_key(x);
    c0 = next_key(x);
    c1 = next_key(x);
  }
};

}  // namespace

Engine::Engine(const Config& cfg, MacAddr mac, uint64_t seed, Nanos now)
    : cfg_(cfg),
      knobs_(cfg_.tcp),
      mac_(mac),
      now_(now),
      flows_(std::make_unique<FlowTable<Tcb>>(
          FlowTable<Tcb>::Limits{cfg.engine.max_connections, cfg.tcp.max_tw_buckets},
          Seeds(seed).flow)),
      wheel_(now),
      isn_(Seeds(seed).isn),
      cookies_(Seeds(seed).c0, Seeds(seed).c1),
      port_listener_(65536, kNoListener) {
  for (const Ipv4Cidr& c : cfg_.engine.addresses) addrs_.push_back(c.addr);
  our_mss_ = static_cast<uint16_t>(cfg_.engine.mtu - 40);
  listeners_.reserve(cfg_.listeners.size());
  for (const ListenerConfig& lc : cfg_.listeners) {
    Listener l;
    l.port = lc.port;
    l.app = app_of(lc.app);
    l.keepalive = lc.keepalive;
    l.backlog = effective_backlog(knobs_, lc);
    l.max_syn_backlog = knobs_.max_syn_backlog;
    l.accept_rate = lc.accept_rate;
    l.http_keepalive_timeout_ms = lc.http_keepalive_timeout * 1000;
    l.last_refill = now;
    if (l.app == App::http) {
      l.http_close = make_http_response(lc.http_body_size, false);
      l.http_keepalive = make_http_response(lc.http_body_size, true);
      l.http_close_sum = csum_add(0, l.http_close.data(), l.http_close.size());
      l.http_keepalive_sum = csum_add(0, l.http_keepalive.data(), l.http_keepalive.size());
    }
    port_listener_[lc.port] = static_cast<uint16_t>(listeners_.size());
    listeners_.push_back(std::move(l));
    stats_.on_create(TcpState::CLOSED, TcpState::LISTEN);
  }
  const uint32_t nbuf = std::min(kEchoBuffers, cfg_.engine.max_connections);
  echo_mem_ = std::make_unique_for_overwrite<uint8_t[]>(size_t{nbuf} * kEchoBufSize);
  echo_free_.reserve(nbuf);
  for (uint32_t i = nbuf; i > 0; --i) echo_free_.push_back(i - 1);
}

Engine::~Engine() = default;

bool Engine::is_local(Ipv4Addr a) const {
  for (Ipv4Addr x : addrs_) {
    if (x == a) return true;
  }
  return false;
}

Tcb& Engine::tcb_of(TimerNode& n) { return owner_of<Tcb, &Tcb::timer>(n); }

uint64_t Engine::prefetch_flow(const uint8_t* frame, uint16_t len) const {
  // The same fields parse_frame() will read; anything unusual is left to it.
  if (len < 14 + 20 + 4 || load_be16(frame + 12) != 0x0800 || frame[14 + 9] != 6) return 0;
  const uint32_t ihl = (frame[14] & 0x0fu) * 4u;
  if ((frame[14] >> 4) != 4 || ihl < 20 || len < 14 + ihl + 4) return 0;
  const uint8_t* th = frame + 14 + ihl;
  const FlowKey k{load_be32(frame + 14 + 12), load_be32(frame + 14 + 16), load_be16(th), load_be16(th + 2)};
  const uint64_t h = flows_->hash(k);
  flows_->prefetch(h);
  return h;
}

RxVerdict Engine::receive(uint8_t* frame, uint16_t len, Nanos now, TxFrames& tx, uint16_t& reply_len,
                          ParseOptions opts, uint64_t flow_hash) {
  now_ = now;
  tx_ = &tx;
  ParsedFrame p;
  const DropReason r = parse_frame(frame, len, p, opts);
  if (r != DropReason::none) [[unlikely]] {
    stats_.drops.count(r);
    return RxVerdict::consumed;
  }
  if (p.l4 == L4::tcp) [[likely]] {
    tcp_rcv(frame, p, flow_hash);
    return RxVerdict::consumed;
  }
  if (p.l4 == L4::arp) {
    // Requests for one of our addresses get a reply; we keep no ARP cache
    // (connect() is given the next hop's MAC), so replies are dropped.
    if (p.arp.op != 1) {
      stats_.drops.count(DropReason::arp_reply_ignored);
      return RxVerdict::consumed;
    }
    if (!is_local(p.arp.tpa)) {
      stats_.drops.count(DropReason::not_for_us);
      return RxVerdict::consumed;
    }
    const ArpInfo req = p.arp;
    const MacAddr src = p.eth_src;
    const size_t n = build_arp_reply(frame, len, mac_, req.tpa, req, src);
    if (n == 0) {
      stats_.drops.count(DropReason::no_tx_buffer);
      return RxVerdict::consumed;
    }
    ++stats_.counters.arp_replies;
    reply_len = static_cast<uint16_t>(n);
    return RxVerdict::reply_in_place;
  }
  if (p.l4 == L4::icmp) {
    if (!is_local(p.ip_dst)) {
      stats_.drops.count(DropReason::not_for_us);
      return RxVerdict::consumed;
    }
    if (cfg_.engine.icmp_echo_ignore_all) {
      stats_.drops.count(DropReason::icmp_echo_ignored);
      return RxVerdict::consumed;
    }
    const size_t n = make_icmp_echo_reply_in_place(frame, len, p);
    if (n == 0) {
      stats_.drops.count(DropReason::icmp_truncated);
      return RxVerdict::consumed;
    }
    ++stats_.counters.icmp_echo_replies;
    reply_len = static_cast<uint16_t>(n);
    return RxVerdict::reply_in_place;
  }
  stats_.drops.count(DropReason::ethertype_unsupported);
  return RxVerdict::consumed;
}

void Engine::tcp_rcv(uint8_t* frame, const ParsedFrame& p, uint64_t flow_hash) {
  ++stats_.counters.in_segs;
  if (!is_local(p.ip_dst)) [[unlikely]] {
    stats_.drops.count(DropReason::not_for_us);
    return;
  }
  const FlowKey k{p.ip_src, p.ip_dst, p.sport, p.dport};
  Seg s;
  s.seq = p.seq;
  s.ack = p.ack;
  s.flags = p.flags;
  s.wnd = p.window;
  s.data = frame + p.payload_offset;
  s.data_len = p.payload_len;
  s.len = p.payload_len + ((p.flags & tcp_flags::SYN) ? 1u : 0u) + ((p.flags & tcp_flags::FIN) ? 1u : 0u);
  s.opts = &p.opts;
  s.src_mac = &p.eth_src;
  assert(flow_hash == 0 || flow_hash == flows_->hash(k));
  s.hash = flow_hash != 0 ? flow_hash : flows_->hash(k);
  s.accepted = false;

  const FlowRef ref = flows_->find(k, s.hash);
  if (ref.kind == FlowRef::Kind::conn) [[likely]] {
    Tcb& t = flows_->conn(ref.index);
    // Replies to this segment go to its sender; timer-driven frames go to the
    // MAC remembered from the last acceptable segment only, so one spoofed
    // out-of-window frame cannot redirect them.
    const MacAddr remembered = t.peer_mac;
    t.peer_mac = p.eth_src;
    if (t.state == TcpState::SYN_SENT) [[unlikely]] {
      syn_sent_rcv(t, s);
    } else {
      tcb_rcv(t, s);
    }
    if (!s.accepted) [[unlikely]] {
      const FlowRef again = flows_->find(k, s.hash);  // the Tcb may be gone
      if (again.kind == FlowRef::Kind::conn && again.index == ref.index) t.peer_mac = remembered;
    }
  } else if (ref.kind == FlowRef::Kind::time_wait) {
    time_wait_rcv(ref.index, p, s);
  } else {
    const uint16_t li = port_listener_[p.dport];
    if (li != kNoListener) {
      listen_rcv(listeners_[li], li, k, s);
    } else {
      // 3.10.7.1 CLOSED: no connection, no listener.
      stats_.drops.count(DropReason::tcp_no_socket);
      send_reset_reply(p, s);
    }
  }
}

void Engine::set_state(Tcb& t, TcpState s) {
  stats_.on_transition(t.state, s);
  t.state = s;
}

void Engine::tcb_init_common(Tcb& t, uint32_t iss) {
  t.iss = iss;
  t.snd_una = iss;
  t.snd_nxt = iss;
  t.write_seq = iss + 1;
  t.sndbuf_seq = iss + 1;
  t.rto_ms = kInitialRtoMs;
  t.ts_offset = knobs_.timestamps == 1 ? isn_.ts_offset(t.key.laddr, t.key.raddr) : 0;
  t.rcv_tstamp_ms = now_ms();
}

void Engine::destroy(Tcb& t, uint64_t hash) {
  cancel_timer(t);
  accept_unlink(t);
  if (t.state == TcpState::SYN_RECEIVED && t.has(tcb_flags::kPassive) && t.listener != kNoListener) {
    --listeners_[t.listener].half_open;
  }
  if (t.has(tcb_flags::kOrphan)) --orphans_;
  app_on_closed(t);
  stats_.on_destroy(t.state);
  if (hash != 0) {
    flows_->erase_conn(flows_->index_of(t), FlowTable<Tcb>::tag_of(hash));
  } else {
    flows_->erase_conn(flows_->index_of(t));
  }
}

void Engine::enter_time_wait(Tcb& t, uint64_t hash) {
  if (flows_->time_wait_count() >= knobs_.max_tw_buckets) [[unlikely]] {
    // Linux: "TCP: time wait bucket table overflow": the connection closes at once.
    ++stats_.counters.tw_overflow;
    destroy(t, hash);
    return;
  }
  cancel_timer(t);
  accept_unlink(t);
  if (t.has(tcb_flags::kOrphan)) --orphans_;
  t.clear(tcb_flags::kOrphan);
  app_on_closed(t);
  TimeWaitRecord rec{};
  rec.snd_nxt = t.snd_nxt;
  rec.rcv_nxt = t.rcv_nxt;
  rec.ts_recent = t.ts_recent;
  rec.ts_recent_stamp = t.ts_recent_stamp;
  rec.expires_ms = now_ms() + knobs_.msl * 2000;
  rec.rcv_wnd = static_cast<uint16_t>(std::min<uint32_t>(t.rcv_wnd() >> t.rcv_wscale, 65535));
  rec.flags = static_cast<uint8_t>((t.has(tcb_flags::kTimestamps) ? tw_flags::kTimestamps : 0) |
                                   (t.has(tcb_flags::kSackOk) ? tw_flags::kSackOk : 0));
  rec.snd_wscale = t.snd_wscale;
  const TcpState from = t.state;
  TimeWaitRecord* r = flows_->conn_to_time_wait(flows_->index_of(t), FlowTable<Tcb>::tag_of(hash));
  if (r == nullptr) [[unlikely]] {
    ++stats_.counters.tw_overflow;
    stats_.on_destroy(from);
    flows_->erase_conn(flows_->index_of(t), FlowTable<Tcb>::tag_of(hash));
    return;
  }
  const FlowKey key = r->key;
  *r = rec;
  r->key = key;
  stats_.on_transition(from, TcpState::TIME_WAIT);
  tw_fifo_.push(*flows_, flows_->index_of(*r));
}

void Engine::advance(Nanos now, TxFrames& tx) {
  now_ = now;
  tx_ = &tx;
  wheel_.advance(now, kTimerBudget, [this](TimerNode& n) { on_timer(tcb_of(n)); });
  expire_time_waits();
  for (Listener& l : listeners_) {
    if (l.aq_len != 0) accept_drain(l);
  }
}

void Engine::expire_time_waits() {
  tw_fifo_.pop_expired(*flows_, now_ms(), static_cast<uint32_t>(kTimerBudget), [this](uint32_t i) {
    flows_->erase_time_wait(i);
    stats_.on_destroy(TcpState::TIME_WAIT);
  });
}

ConnectResult Engine::connect(Ipv4Addr raddr, uint16_t rport, uint16_t lport, MacAddr next_hop,
                              const ConnectOptions& o, Nanos now, TxFrames& tx) {
  now_ = now;
  tx_ = &tx;
  if (addrs_.empty()) return ConnectResult::no_local_address;
  FlowKey k{raddr, addrs_[0], rport, lport};
  // A tuple in TIME_WAIT may be taken when tw_reuse allows it (Linux
  // __inet_check_established -> tcp_twsk_unique); tw_index is that record.
  uint32_t tw_index = kNilIndex;
  uint64_t h = 0;  // the hash of the tuple last tried: the insert reuses it
  auto usable = [&](const FlowKey& key) {
    h = flows_->hash(key);
    const FlowRef r = flows_->find(key, h);
    if (!r) return true;
    if (r.kind != FlowRef::Kind::time_wait || !tw_reusable(flows_->time_wait(r.index))) return false;
    tw_index = r.index;
    return true;
  };
  if (lport != 0) {
    if (!usable(k)) return ConnectResult::tuple_in_use;
  } else {
    // Ephemeral ports: Linux's default ip_local_port_range 32768..60999,
    // first free tuple from a rotating start. A port of a listener is skipped.
    constexpr uint32_t kLo = 32768, kHi = 60999, kN = kHi - kLo + 1;
    bool found = false;
    for (uint32_t i = 0; i < kN; ++i) {
      const auto port = static_cast<uint16_t>(kLo + (next_ephemeral_ - kLo + i) % kN);
      k.lport = port;
      if (port_listener_[port] == kNoListener && usable(k)) {
        next_ephemeral_ = static_cast<uint16_t>(kLo + (port - kLo + 1) % kN);
        found = true;
        break;
      }
    }
    if (!found) return ConnectResult::no_free_port;
  }
  uint32_t iss = 0, ts_recent = 0, ts_recent_stamp = 0;
  if (tw_index != kNilIndex) {
    if (flows_->conn_count() >= cfg_.engine.max_connections) {  // keep the record: nothing changes
      ++stats_.counters.flow_table_full;
      return ConnectResult::table_full;
    }
    // tcp_twsk_unique: write_seq = tw_snd_nxt + 65535 + 2 (never 0), the
    // peer's last timestamp carries over (PAWS); the record is killed
    // (inet_twsk_deschedule_put) and counted (Linux TWRecycled).
    const TimeWaitRecord& tw = flows_->time_wait(tw_index);
    iss = tw.snd_nxt + 65535 + 2;
    if (iss == 0) iss = 1;
    ts_recent = tw.ts_recent;
    ts_recent_stamp = tw.ts_recent_stamp;
    tw_fifo_.remove(*flows_, tw_index);
    flows_->erase_time_wait(tw_index);
    stats_.on_destroy(TcpState::TIME_WAIT);
    ++stats_.counters.time_wait_reused;
  }
  Tcb* tp = flows_->insert_conn(k, h);
  if (tp == nullptr) {
    ++stats_.counters.flow_table_full;
    return ConnectResult::table_full;
  }
  Tcb& t = *tp;
  tcb_init_common(t, tw_index != kNilIndex ? iss : isn_.isn(k, now_));
  t.ts_recent = ts_recent;
  t.ts_recent_stamp = ts_recent_stamp;
  t.peer_mac = next_hop;
  t.app = app_of(o.app);
  t.set(tcb_flags::kAccepted);
  if (o.keepalive) t.app_state |= app_bits::kKeepalive;
  // What we offer in our SYN; negotiate_options() keeps what the SYN-ACK echoes.
  if (knobs_.timestamps) t.set(tcb_flags::kTimestamps);
  if (knobs_.sack) t.set(tcb_flags::kSackOk);
  if (knobs_.window_scaling) {
    t.set(tcb_flags::kWscale);
    t.rcv_wscale = kRcvWscale;
  }
  if (o.request != nullptr && o.request_len != 0) {
    // Queued before the handshake completes (RFC 9293 3.10.2, SEND in SYN-SENT).
    t.sndbuf = o.request;
    t.write_seq = t.sndbuf_seq + o.request_len;
  }
  t.state = TcpState::SYN_SENT;
  stats_.on_create(TcpState::CLOSED, TcpState::SYN_SENT);
  ++stats_.counters.active_opens;
  const uint32_t sent = tx.count;
  send_syn(t, false);
  schedule(t, TimerKind::retransmit, now_ + millis(t.rto_ms));
  return tx.count > sent ? ConnectResult::ok : ConnectResult::no_tx_buffer;
}

// Linux tcp_twsk_unique: may connect() take this TIME_WAIT tuple? tw_reuse 2
// means 1 only when either address is 127.0.0.0/8 (ipv4_is_loopback), else 0.
// It needs the old connection's timestamps (PAWS protects the new one) and a
// stamp at least one second old (time_after32(now, tw_ts_recent_stamp)).
// Linux tests "has timestamps" as tw_ts_recent_stamp != 0; engine seconds may
// legitimately be 0 (virtual time 0), so the record's timestamp flag is used.
// An explicit local port follows the same rule. Linux's bind() (with
// SO_REUSEADDR) + connect() differs: tcp_twsk_unique without twp takes any
// TIME_WAIT that had timestamps, whatever tcp_tw_reuse says.
bool Engine::tw_reusable(const TimeWaitRecord& tw) const {
  uint32_t reuse = knobs_.tw_reuse;
  if (reuse == 2) {
    const bool loopback = (tw.key.raddr >> 24) == 127 || (tw.key.laddr >> 24) == 127;
    reuse = loopback ? 1 : 0;
  }
  return reuse != 0 && (tw.flags & tw_flags::kTimestamps) &&
         static_cast<int32_t>(now_s() - tw.ts_recent_stamp) > 0;
}

uint32_t Engine::syn_queue_length(uint16_t port) const {
  const uint16_t li = port_listener_[port];
  return li == kNoListener ? 0 : listeners_[li].half_open;
}

uint32_t Engine::accept_queue_length(uint16_t port) const {
  const uint16_t li = port_listener_[port];
  return li == kNoListener ? 0 : listeners_[li].aq_len;
}

TcpState Engine::state_of(const FlowKey& k) const {
  const FlowRef r = flows_->find(k);
  if (r.kind == FlowRef::Kind::conn) return flows_->conn(r.index).state;
  if (r.kind == FlowRef::Kind::time_wait) return TcpState::TIME_WAIT;
  return TcpState::CLOSED;
}

bool Engine::conn_info(const FlowKey& k, ConnInfo& o) const {
  const FlowRef r = flows_->find(k);
  if (r.kind != FlowRef::Kind::conn) return false;
  const Tcb& t = flows_->conn(r.index);
  o.state = t.state;
  o.iss = t.iss;
  o.irs = t.irs;
  o.snd_una = t.snd_una;
  o.snd_nxt = t.snd_nxt;
  o.snd_wnd = t.snd_wnd;
  o.rcv_nxt = t.rcv_nxt;
  o.rcv_wnd = t.rcv_wnd();
  o.ts_offset = t.ts_offset;
  o.rto_ms = t.rto_ms;
  o.srtt_us = t.srtt_us;
  o.snd_mss = t.snd_mss;
  o.snd_wscale = t.snd_wscale;
  o.rcv_wscale = t.rcv_wscale;
  o.timestamps = t.has(tcb_flags::kTimestamps);
  o.sack_ok = t.has(tcb_flags::kSackOk);
  o.orphan = t.has(tcb_flags::kOrphan);
  o.accepted = t.has(tcb_flags::kAccepted);
  o.timer = TimerWheel::pending(t.timer) ? t.timer_kind : TimerKind::none;
  o.timer_expires = t.timer.expires;
  return true;
}

std::string Engine::check_invariants() const {
  std::string why;
  uint32_t orphans = 0, conns = 0, timers = 0;
  std::vector<uint32_t> half_open(listeners_.size(), 0), queued(listeners_.size(), 0);
  auto& flows = const_cast<FlowTable<Tcb>&>(*flows_);
  flows.for_each_conn([&](Tcb& t) {
    ++conns;
    const std::string name(state_name(t.state));
    if (!seq_leq(t.snd_una, t.snd_nxt)) why += name + ": snd_una > snd_nxt\n";
    if (!seq_leq(t.snd_nxt, t.write_seq + 1)) why += name + ": snd_nxt past write_seq + FIN\n";
    if (t.state == TcpState::CLOSED || t.state == TcpState::LISTEN || t.state == TcpState::TIME_WAIT) {
      why += name + ": a live Tcb in this state\n";
    }
    if (t.has(tcb_flags::kOrphan)) ++orphans;
    if (TimerWheel::pending(t.timer)) ++timers;
    if (in_state(t.state, tcp_states::kOpening) && !TimerWheel::pending(t.timer)) {
      why += name + ": handshake without a retransmission timer\n";
    }
    if (t.snd_una != t.snd_nxt && !TimerWheel::pending(t.timer)) {
      why += name + ": data or FIN in flight without a timer\n";
    }
    if (t.has(tcb_flags::kFinQueued) && in_state(t.state, bit(TcpState::ESTABLISHED) | bit(TcpState::CLOSE_WAIT))) {
      why += name + ": FIN queued but state not advanced\n";
    }
    if (t.listener != kNoListener && t.has(tcb_flags::kPassive)) {
      if (t.state == TcpState::SYN_RECEIVED) ++half_open[t.listener];
      if (t.app_state & app_bits::kInAcceptQueue) ++queued[t.listener];
    }
    if (t.echo_buf != kNilIndex && t.app != App::echo) why += name + ": echo buffer on a non-echo connection\n";
  });
  if (orphans != orphans_) why += "orphan count " + std::to_string(orphans_) + " != " + std::to_string(orphans) + "\n";
  if (timers != wheel_.size()) why += "timers pending " + std::to_string(wheel_.size()) + " != live Tcb timers " + std::to_string(timers) + "\n";
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (half_open[i] != listeners_[i].half_open) why += "listener half_open count wrong\n";
    if (queued[i] != listeners_[i].aq_len) why += "listener accept-queue length wrong\n";
  }
  if (tw_fifo_.size() != flows_->time_wait_count()) why += "TIME_WAIT FIFO size != TIME_WAIT records\n";
  if (stats_.state_count(TcpState::TIME_WAIT) != flows_->time_wait_count()) why += "TIME_WAIT gauge wrong\n";
  uint64_t gauge_live = 0;
  for (size_t s = 0; s < kTcpStateCount; ++s) {
    const auto st = static_cast<TcpState>(s);
    if (st != TcpState::LISTEN && st != TcpState::TIME_WAIT) gauge_live += stats_.state_count(st);
  }
  if (gauge_live != conns) why += "state gauges " + std::to_string(gauge_live) + " != live Tcbs " + std::to_string(conns) + "\n";
  uint32_t echo_used = 0;
  flows.for_each_conn([&](Tcb& t) { echo_used += t.echo_buf != kNilIndex; });
  if (echo_used != echo_in_use_) why += "echo buffers in use wrong\n";
  return why;
}

}  // namespace tcpterm
