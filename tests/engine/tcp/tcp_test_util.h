// A packetdrill-like harness for segment-level tests of engine/tcp.
//
// The test plays the remote peer: Send() builds a real frame (engine/wire's
// builder, checksums and all) from the peer to the engine, Advance() moves
// virtual time and runs the engine's timers, and the frames the engine sends
// are parsed back and checked one by one with ExpectSegment(flags, seq, ack,
// win, options), or ExpectNothing(). Sequence numbers in tests are written
// relative to the two ISNs, as packetdrill prints them: the peer's ISN is
// kPeerIsn, ours is read from the SYN-ACK (iss), and our TSval offset from
// its timestamp (ts_off), so every later TSval is predicted exactly.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "engine/tcp/engine.h"
#include "engine/wire/build.h"
#include "engine/wire/frame.h"
#include "engine/wire/tcp_options.h"

namespace tcpterm::tcp_test {

using namespace tcp_flags;

inline constexpr Ipv4Addr kOurIp = 0xc6120001;   // 198.18.0.1
inline constexpr Ipv4Addr kPeerIp = 0xc6120002;  // 198.18.0.2
inline constexpr uint16_t kPort = 80;
inline constexpr uint16_t kPeerPort = 40000;
inline constexpr uint32_t kPeerIsn = 1000000;
inline constexpr MacAddr kOurMac{{0x02, 0, 0, 0, 0, 0x01}};
inline constexpr MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr Nanos kStart = seconds(1000);

// Options shorthands.
inline TcpOptions NoOpts() { return TcpOptions{}; }
inline TcpOptions Ts(uint32_t tsval, uint32_t tsecr) {
  TcpOptions o{};
  o.has_timestamps = true;
  o.tsval = tsval;
  o.tsecr = tsecr;
  return o;
}
// A Linux SYN: mss 1460, sackOK, TS, wscale 7.
inline TcpOptions LinuxSynOpts(uint32_t tsval) {
  TcpOptions o = Ts(tsval, 0);
  o.has_mss = true;
  o.mss = 1460;
  o.sack_permitted = true;
  o.has_wscale = true;
  o.wscale = 7;
  return o;
}

struct Seg {
  uint8_t flags;
  uint32_t seq;  // absolute
  uint32_t ack;  // absolute
  uint16_t win = 502;
  TcpOptions opts{};
  std::string data{};
};

struct OutFrame {
  std::vector<uint8_t> bytes;
  ParsedFrame p;
  std::string payload() const {
    return std::string(reinterpret_cast<const char*>(bytes.data() + p.payload_offset), p.payload_len);
  }
};

inline Config BaseConfig(AppKind app) {
  Config c;
  c.engine.addresses = {Ipv4Cidr{kOurIp, 24}};
  c.engine.max_connections = 1024;
  c.tcp.max_tw_buckets = 1024;
  ListenerConfig l{};
  l.port = kPort;
  l.app = app;
  l.backlog = 0;
  l.accept_rate = 0;
  l.http_body_size = 0;
  l.http_keepalive_timeout = 65;
  l.keepalive = false;
  c.listeners.push_back(l);
  return c;
}

class TcpTest : public ::testing::Test {
 protected:
  static constexpr size_t kBufs = 64;
  static constexpr uint16_t kBufCap = 2048;

  Config cfg = BaseConfig(AppKind::discard);
  std::unique_ptr<Engine> eng;
  Nanos now = kStart;
  std::deque<OutFrame> out;
  std::array<std::array<uint8_t, kBufCap>, kBufs> bufs{};
  std::array<uint8_t*, kBufs> buf_ptrs{};
  std::array<uint16_t, kBufs> lens{};
  uint32_t iss = 0;     // our ISN
  uint32_t ts_off = 0;  // our TSval offset: TSval = now_ms + ts_off
  uint16_t peer_port = kPeerPort;
  uint16_t our_port = kPort;
  uint32_t peer_ts = 5000;  // the peer's TS clock
  uint16_t synack_win = 65408;  // our SYN-ACK's window (echo: its 4 KiB buffer)

  void Start() {
    eng = std::make_unique<Engine>(cfg, kOurMac, 0x1234567890abcdefULL, now);
    for (size_t i = 0; i < kBufs; ++i) buf_ptrs[i] = bufs[i].data();
  }
  void Start(AppKind app) {
    cfg.listeners[0].app = app;
    synack_win = app == AppKind::echo ? 4096 : 65408;
    Start();
  }
  TxFrames Tx() {
    TxFrames tx{buf_ptrs.data(), lens.data(), static_cast<uint32_t>(kBufs), 0, kBufCap};
    return tx;
  }
  void Collect(const TxFrames& tx) {
    for (uint32_t i = 0; i < tx.count; ++i) {
      OutFrame f;
      f.bytes.assign(bufs[i].data(), bufs[i].data() + lens[i]);
      ASSERT_EQ(parse_frame(f.bytes.data(), f.bytes.size(), f.p), DropReason::none) << "engine sent a bad frame";
      out.push_back(std::move(f));
    }
  }
  // Our active open's SYN, the only frame out: learns our_port, iss and
  // ts_off from it, checks it exactly (Linux's SYN options) and SYN_SENT.
  void TakeOurSyn() {
    ASSERT_EQ(out.size(), 1u);
    our_port = out.front().p.sport;
    iss = out.front().p.seq;
    ts_off = out.front().p.opts.tsval - NowMs();
    ExpectSegment(SYN, iss, 0, 65408, LinuxSynOpts(OurTs()));
    ASSERT_EQ(eng->state_of(Key()), TcpState::SYN_SENT);
  }
  FlowKey Key() const { return FlowKey{kPeerIp, kOurIp, peer_port, our_port}; }

  // our_ip: the engine's address the segment goes to (another configured one).
  std::vector<uint8_t> Frame(const Seg& s, Ipv4Addr our_ip = kOurIp) const {
    TcpSegmentSpec spec;
    spec.eth_src = kPeerMac;
    spec.eth_dst = kOurMac;
    spec.ip_src = kPeerIp;
    spec.ip_dst = our_ip;
    spec.sport = peer_port;
    spec.dport = our_port;
    spec.seq = s.seq;
    spec.ack = s.ack;
    spec.flags = s.flags;
    spec.window = s.win;
    spec.opts = s.opts;
    spec.payload = reinterpret_cast<const uint8_t*>(s.data.data());
    spec.payload_len = static_cast<uint16_t>(s.data.size());
    std::vector<uint8_t> f(2048);
    f.resize(build_tcp_frame(f.data(), f.size(), spec));
    return f;
  }
  // Delivers a frame from the peer; returns the verdict (ARP/ICMP reply in place).
  RxVerdict SendFrame(std::vector<uint8_t>& f, uint16_t* reply_len = nullptr) {
    TxFrames tx = Tx();
    uint16_t rl = 0;
    const RxVerdict v = eng->receive(f.data(), static_cast<uint16_t>(f.size()), now, tx, rl);
    if (reply_len) *reply_len = rl;
    Collect(tx);
    return v;
  }
  void Send(const Seg& s) {
    std::vector<uint8_t> f = Frame(s);
    SendFrame(f);
  }
  void Advance(Nanos dt) {
    now += dt;
    TxFrames tx = Tx();
    eng->advance(now, tx);
    Collect(tx);
  }
  uint32_t NowMs() const { return static_cast<uint32_t>(now / kMillisecond); }
  uint32_t OurTs() const { return NowMs() + ts_off; }

  // Pops the next frame the engine sent and checks it: addresses, flags,
  // sequence/ack numbers (absolute), window field, options, payload. dst: the
  // Ethernet destination (another router's MAC in the tests that spoof one).
  OutFrame ExpectSegment(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, const TcpOptions& opts,
                         const std::string& payload = "", const MacAddr& dst = kPeerMac) {
    OutFrame f;
    if (out.empty()) {
      ADD_FAILURE() << "expected a segment, the engine sent nothing";
      return f;
    }
    f = std::move(out.front());
    out.pop_front();
    const ParsedFrame& p = f.p;
    EXPECT_EQ(p.l4, L4::tcp);
    EXPECT_TRUE(p.eth_dst == dst) << "Ethernet destination";
    EXPECT_TRUE(p.eth_src == kOurMac);
    EXPECT_EQ(p.ip_src, kOurIp);
    EXPECT_EQ(p.ip_dst, kPeerIp);
    EXPECT_EQ(p.sport, our_port);
    EXPECT_EQ(p.dport, peer_port);
    EXPECT_EQ(p.flags, flags) << "flags";
    EXPECT_EQ(p.seq, seq) << "seq (relative to iss: " << static_cast<int64_t>(p.seq) - iss << ")";
    EXPECT_EQ(p.ack, ack) << "ack (relative to peer isn: " << static_cast<int64_t>(p.ack) - kPeerIsn << ")";
    EXPECT_EQ(p.window, win) << "window";
    EXPECT_EQ(p.opts.has_mss, opts.has_mss);
    if (opts.has_mss) {
      EXPECT_EQ(p.opts.mss, opts.mss);
    }
    EXPECT_EQ(p.opts.has_wscale, opts.has_wscale);
    if (opts.has_wscale) {
      EXPECT_EQ(p.opts.wscale, opts.wscale);
    }
    EXPECT_EQ(p.opts.sack_permitted, opts.sack_permitted);
    EXPECT_EQ(p.opts.has_timestamps, opts.has_timestamps);
    if (opts.has_timestamps) {
      EXPECT_EQ(p.opts.tsval, opts.tsval) << "TSval";
      EXPECT_EQ(p.opts.tsecr, opts.tsecr) << "TSecr";
    }
    EXPECT_EQ(f.payload(), payload);
    return f;
  }
  void ExpectNothing() {
    EXPECT_TRUE(out.empty()) << "the engine sent " << out.size() << " unexpected frame(s), first flags 0x"
                             << std::hex << (out.empty() ? 0 : out.front().p.flags);
    out.clear();
  }
  void ExpectInvariants() { EXPECT_EQ(eng->check_invariants(), ""); }
  TcpState State() const { return eng->state_of(Key()); }
  uint64_t Drops(DropReason r) const { return eng->stats().drops[r]; }
  const EngineCounters& Counters() const { return eng->stats().counters; }

  // ---- fixtures, each built from the previous one

  // SYN (Linux options) -> SYN-ACK; sets iss and ts_off.
  void SynReceived() {
    Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
    ASSERT_EQ(out.size(), 1u);
    const ParsedFrame& p = out.front().p;
    iss = p.seq;
    ts_off = p.opts.tsval - NowMs();
    TcpOptions o = LinuxSynOpts(OurTs());
    o.tsecr = peer_ts;
    ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, synack_win, o);
    ASSERT_EQ(State(), TcpState::SYN_RECEIVED);
  }
  // The final ACK.
  void Established() {
    SynReceived();
    Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
  }
  // Options our data segments carry.
  TcpOptions OurTsOpts() const { return Ts(OurTs(), peer_ts); }
};

}  // namespace tcpterm::tcp_test
