// Two engines wired back to back through drivers/memlink, for the lifecycle
// and fuzz suites: engine A on the link's side a, engine B on side b, one
// thread, virtual time.
//
// pump() moves frames until both directions are empty (a frame at a time,
// each engine's output sent as soon as it is produced, held-back frames of
// the reorder fault released at the end), tick() advances time on both
// engines and pumps. Every engine call gets a fresh TxFrames of kTxBufs
// buffers, so "no transmit buffer" never stands in for a loss the test did
// not ask for (asserted by no_tx_buffer staying 0). leaks() lists what is
// left once every connection should be gone, for both engines.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "drivers/memlink/memlink.h"
#include "engine/tcp/engine.h"

namespace tcpterm::pair_test {

inline constexpr Ipv4Addr kIpA = 0xc6120002;  // 198.18.0.2
inline constexpr Ipv4Addr kIpB = 0xc6120001;  // 198.18.0.1
inline constexpr MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x0a}};
inline constexpr MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x0b}};
inline constexpr Nanos kStart = seconds(1000);

inline ListenerConfig make_listener(uint16_t port, AppKind app) {
  ListenerConfig l{};
  l.port = port;
  l.app = app;
  l.backlog = 0;
  l.accept_rate = 0;
  l.http_body_size = 100;
  l.http_keepalive_timeout = 65;
  l.keepalive = false;
  return l;
}

inline Config make_config(Ipv4Addr ip, std::vector<ListenerConfig> listeners) {
  Config c;
  c.engine.addresses = {Ipv4Cidr{ip, 24}};
  c.engine.max_connections = 4096;
  c.tcp.max_tw_buckets = 4096;
  c.tcp.msl = 1;  // TIME_WAIT lasts 2 s of virtual time
  c.listeners = std::move(listeners);
  return c;
}

class EnginePair {
 public:
  using Side = MemLink::Side;
  static constexpr uint32_t kTxBufs = 512;
  static constexpr uint16_t kBufCap = MemLink::kFrameCap;

  EnginePair(const Config& ca, const Config& cb, uint64_t seed = 42, uint32_t link_depth = 8192)
      : now_(kStart),
        a_(std::make_unique<Engine>(ca, kMacA, seed * 2 + 1, now_)),
        b_(std::make_unique<Engine>(cb, kMacB, seed * 2 + 2, now_)),
        link_(link_depth, seed),
        mem_(static_cast<size_t>(kTxBufs) * kBufCap) {
    for (uint32_t i = 0; i < kTxBufs; ++i) ptrs_[i] = mem_.data() + size_t{i} * kBufCap;
  }

  Engine& a() { return *a_; }
  Engine& b() { return *b_; }
  Engine& engine(Side s) { return s == Side::a ? *a_ : *b_; }
  MemLink& link() { return link_; }
  Nanos now() const { return now_; }

  // connect() from one side to the other's address; the SYN goes on the link.
  ConnectResult connect(Side from, uint16_t rport, uint16_t lport, const ConnectOptions& o) {
    TxFrames tx = fresh_tx();
    const Ipv4Addr raddr = from == Side::a ? kIpB : kIpA;
    const MacAddr hop = from == Side::a ? kMacB : kMacA;
    const ConnectResult r = engine(from).connect(raddr, rport, lport, hop, o, now_, tx);
    flush(from, tx);
    return r;
  }

  // Delivers frames until none is in flight. Returns the frames delivered.
  uint64_t pump() {
    uint64_t n = 0;
    for (int guard = 0; guard < 200000; ++guard) {
      bool moved = false;
      for (Side at : {Side::a, Side::b}) {
        if (deliver_one(at)) {
          moved = true;
          ++n;
        }
      }
      if (!moved) {
        // A frame held back by the reorder fault goes out when nothing follows it.
        if (link_.release_held(Side::a) || link_.release_held(Side::b)) continue;
        return n;
      }
    }
    ADD_FAILURE() << "pump(): the engines keep talking";
    return n;
  }

  // Delivers the oldest frame waiting for `at`, if any (one step of pump()).
  bool step(Side at) { return deliver_one(at); }

  // Takes the oldest frame waiting for `at` off the link undelivered (a loss).
  bool discard(Side at) {
    if (link_.pending(at) == 0) return false;
    link_.pop(at);
    return true;
  }

  // Copies the oldest frame waiting for `at` without taking it off the link.
  bool peek(Side at, std::vector<uint8_t>& out) const {
    size_t len = 0;
    const uint8_t* f = link_.peek(at, &len);
    if (f == nullptr) return false;
    out.assign(f, f + len);
    return true;
  }

  // Hands a frame straight to the engine on side `to`, as if it came off the
  // link (the fuzz test's forged segments); what the engine answers goes on the link.
  RxVerdict inject(Side to, std::vector<uint8_t> frame) {
    frame.resize(std::max<size_t>(frame.size(), 1));
    TxFrames tx = fresh_tx();
    uint16_t reply_len = 0;
    const RxVerdict v = engine(to).receive(frame.data(), static_cast<uint16_t>(frame.size()), now_, tx, reply_len);
    if (v == RxVerdict::reply_in_place) link_.send(to, frame.data(), reply_len);
    flush(to, tx);
    return v;
  }

  // Advances virtual time by dt on both engines (timers), then pumps.
  void tick(Nanos dt) {
    advance_only(dt);
    pump();
  }
  // Runs both engines' timers at now + dt; their output stays on the link.
  void advance_only(Nanos dt) {
    now_ += dt;
    for (Side s : {Side::a, Side::b}) {
      TxFrames tx = fresh_tx();
      engine(s).advance(now_, tx);
      flush(s, tx);
    }
  }
  // tick(step) until pred() holds or `limit` of virtual time passed; returns pred().
  template <class Pred>
  bool run_until(Pred pred, Nanos step, Nanos limit) {
    const Nanos end = now_ + limit;
    while (!pred() && now_ < end) tick(step);
    return pred();
  }

  // Everything a finished run must have given back, on both engines: "" when clean.
  std::string leaks() {
    std::string why;
    for (Side s : {Side::a, Side::b}) {
      Engine& e = engine(s);
      const std::string name = s == Side::a ? "A: " : "B: ";
      if (e.conn_count() != 0) why += name + std::to_string(e.conn_count()) + " live connections\n";
      if (e.time_wait_count() != 0) why += name + std::to_string(e.time_wait_count()) + " TIME_WAIT records\n";
      if (e.timers_pending() != 0) why += name + std::to_string(e.timers_pending()) + " timers pending\n";
      if (e.orphan_count() != 0) why += name + std::to_string(e.orphan_count()) + " orphans\n";
      if (e.echo_buffers_in_use() != 0) why += name + std::to_string(e.echo_buffers_in_use()) + " echo buffers\n";
      const EngineStats& st = e.stats();
      for (size_t i = 0; i < kTcpStateCount; ++i) {
        const auto state = static_cast<TcpState>(i);
        if (state != TcpState::LISTEN && st.states[i] != 0) {
          why += name + std::string(state_name(state)) + " gauge " + std::to_string(st.states[i]) + "\n";
        }
      }
      const std::string inv = e.check_invariants();
      if (!inv.empty()) why += name + inv;
      if (link_.pending(s) != 0) why += name + std::to_string(link_.pending(s)) + " frames in flight\n";
    }
    return why;
  }

  std::string invariants() {
    std::string why;
    const std::string ia = a_->check_invariants(), ib = b_->check_invariants();
    if (!ia.empty()) why += "A: " + ia;
    if (!ib.empty()) why += "B: " + ib;
    return why;
  }

  // Frames the engines wrote that the link refused (ring full / bad length): must stay 0.
  uint64_t link_refusals() const {
    uint64_t n = 0;
    for (Side s : {Side::a, Side::b}) n += link_.counters(s).dropped_full + link_.counters(s).dropped_bad_length;
    return n;
  }

 private:
  TxFrames fresh_tx() { return TxFrames{ptrs_.data(), lens_.data(), kTxBufs, 0, kBufCap}; }
  void flush(Side from, const TxFrames& tx) {
    for (uint32_t i = 0; i < tx.count; ++i) link_.send(from, ptrs_[i], lens_[i]);
  }
  bool deliver_one(Side at) {
    const size_t len = link_.recv(at, rx_.data());
    if (len == 0) return false;
    TxFrames tx = fresh_tx();
    uint16_t reply_len = 0;
    const RxVerdict v = engine(at).receive(rx_.data(), static_cast<uint16_t>(len), now_, tx, reply_len);
    if (v == RxVerdict::reply_in_place) link_.send(at, rx_.data(), reply_len);
    flush(at, tx);
    return true;
  }

  Nanos now_;
  std::unique_ptr<Engine> a_, b_;
  MemLink link_;
  std::vector<uint8_t> mem_;
  std::array<uint8_t*, kTxBufs> ptrs_{};
  std::array<uint16_t, kTxBufs> lens_{};
  std::array<uint8_t, MemLink::kFrameCap> rx_{};
};

}  // namespace tcpterm::pair_test
