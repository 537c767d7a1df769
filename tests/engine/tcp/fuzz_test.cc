// The randomised test: random and mutated segments against connections in
// every state, on both sides of two engines wired back to back
// (engine_pair.h), never crash, never leak a flow or a timer, and keep the
// engines' invariants (Engine::check_invariants: snd_una <= snd_nxt <=
// write_seq + FIN, a timer for every handshake and every byte in flight,
// queue lengths, orphan and echo-buffer counts, state gauges) after every
// single event.
//
// Each round opens a mix of connections (client closes first, server closes
// first, echo into a closed socket, simultaneous open and close, keep-alive
// HTTP) with knobs drawn at random (syncookies, timestamps, rfc1337, small
// queues and timeouts), then runs a random sequence of events: deliver,
// lose, duplicate or mutate the next frame on the link; forge a segment for
// a tracked connection (sequence and acknowledgment numbers around its
// windows, any flags, options and payload) or for a listener or a closed
// port; advance time by a little or a lot. The round ends by letting time run
// until both engines are empty (SO_KEEPALIVE on everything, so a half-open
// connection whose peer vanished is found), and nothing may be left. Which
// state each forged segment hit is counted, and every state must have been
// hit. A failure names the round's seed and the event: rerun with
// --gtest_filter and TCPTERM_FUZZ_SEED=<seed> to replay it alone.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <utility>
#include <string>
#include <vector>

#include "engine/wire/build.h"
#include "engine/wire/frame.h"
#include "engine/wire/seq.h"
#include "tests/engine/tcp/engine_pair.h"

namespace tcpterm::pair_test {
namespace {

using Side = MemLink::Side;
using S = TcpState;
using namespace tcp_flags;

constexpr uint16_t kDiscardPort = 9;
constexpr uint16_t kEchoPort = 7;
constexpr uint16_t kHttpPort = 80;
constexpr uint16_t kClosePort = 2000;
constexpr uint16_t kClosedPort = 4444;  // nobody listens

Ipv4Addr ip_of(Side s) { return s == Side::a ? kIpA : kIpB; }
MacAddr mac_of(Side s) { return s == Side::a ? kMacA : kMacB; }

struct Tracked {
  Side client;
  uint16_t cport, sport;
  // The 4-tuple as the engine on `at` sees it.
  FlowKey key_at(Side at) const {
    const Side server = MemLink::peer(client);
    if (at == client) return FlowKey{ip_of(server), ip_of(client), sport, cport};
    return FlowKey{ip_of(client), ip_of(server), cport, sport};
  }
};

class Fuzzer {
 public:
  Fuzzer(uint64_t seed, std::array<uint64_t, kTcpStateCount>& hits, EngineStats& totals)
      : seed_(seed), rng_(seed), hits_(hits), totals_(totals) {}

  // One round; returns "" or what went wrong.
  std::string run(int events) {
    Config ca = config(kIpA), cb = config(kIpB);
    EnginePair p(ca, cb, seed_);
    p_ = &p;
    open_connections();
    for (int e = 0; e < events; ++e) {
      const std::string what = event();
      const std::string inv = p.invariants();
      if (!inv.empty()) return "event " + std::to_string(e) + " (" + what + "): " + inv;
    }
    // Let everything finish.
    p.pump();
    const Nanos end = p.now() + seconds(900);
    while (p.now() < end) {
      const std::string inv = p.invariants();
      if (!inv.empty()) return "while draining: " + inv;
      if (p.a().conn_count() + p.b().conn_count() + p.a().time_wait_count() + p.b().time_wait_count() == 0) break;
      p.tick(millis(100));
    }
    totals_ += p.a().stats();
    totals_ += p.b().stats();
    const std::string leaks = p.leaks();
    if (!leaks.empty()) return "left after draining:\n" + leaks + stuck();
    if (p.link_refusals() != 0) return "the link refused frames";
    return "";
  }

 private:
  uint64_t rnd(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  Config config(Ipv4Addr ip) {
    Config c = make_config(ip, {make_listener(kDiscardPort, AppKind::discard), make_listener(kEchoPort, AppKind::echo),
                                make_listener(kHttpPort, AppKind::http), make_listener(kClosePort, AppKind::close)});
    c.tcp.keepalive_time = 5;
    c.tcp.keepalive_intvl = 1;
    c.tcp.keepalive_probes = 3;
    for (ListenerConfig& l : c.listeners) {
      l.keepalive = true;
      l.http_keepalive_timeout = 3;
      l.backlog = chance(0.3) ? static_cast<uint32_t>(1 + rnd(4)) : 0;
      l.accept_rate = chance(0.3) ? static_cast<uint32_t>(1 + rnd(20)) : 0;
    }
    c.tcp.syncookies = static_cast<uint32_t>(rnd(3));
    c.tcp.max_syn_backlog = chance(0.3) ? static_cast<uint32_t>(1 + rnd(8)) : 2048;
    c.tcp.abort_on_overflow = static_cast<uint32_t>(rnd(2));
    c.tcp.timestamps = chance(0.8) ? 1 : 0;
    c.tcp.window_scaling = chance(0.8) ? 1 : 0;
    c.tcp.sack = chance(0.8) ? 1 : 0;
    c.tcp.rfc1337 = static_cast<uint32_t>(rnd(2));
    c.tcp.fin_timeout = static_cast<uint32_t>(1 + rnd(5));
    c.tcp.synack_retries = static_cast<uint32_t>(rnd(4));
    c.tcp.syn_retries = static_cast<uint32_t>(1 + rnd(4));
    c.tcp.orphan_retries = static_cast<uint32_t>(rnd(4));
    c.tcp.retries2 = static_cast<uint32_t>(1 + rnd(6));
    c.tcp.challenge_ack_limit = chance(0.5) ? 2147483647u : static_cast<uint32_t>(rnd(5));
    // Not 0: without the rate limit on out-of-window ACKs, two engines whose
    // sequence numbers a forged segment has desynchronised ACK each other's
    // ACKs for ever (the ACK loop Linux's tcp_invalid_ratelimit exists for).
    c.tcp.invalid_ratelimit = static_cast<uint32_t>(chance(0.5) ? 500 : 1 + rnd(100));
    c.tcp.max_orphans = chance(0.2) ? static_cast<uint32_t>(rnd(4)) : 131072;
    c.tcp.max_tw_buckets = chance(0.2) ? static_cast<uint32_t>(rnd(4)) : 4096;
    return c;
  }

  void connect(Side client, uint16_t sport, uint16_t cport, AppKind app, const std::string* req = nullptr) {
    ConnectOptions o;
    o.app = app;
    o.keepalive = true;
    if (req != nullptr) {
      o.request = reinterpret_cast<const uint8_t*>(req->data());
      o.request_len = static_cast<uint32_t>(req->size());
    }
    p_->connect(client, sport, cport, o);  // may fail (tuple in use): harmless
    tracked_.push_back({client, cport, sport});
  }

  // One new connection of a random kind, with fresh ports.
  void open_one() {
    const Side c = chance(0.5) ? Side::a : Side::b;
    const auto port = [&] { return next_port_++; };
    switch (rnd(8)) {
      case 0: connect(c, kDiscardPort, port(), AppKind::close, &hello_); break;
      case 1: connect(c, kHttpPort, port(), AppKind::discard, &get_); break;
      case 2: connect(c, kHttpPort, port(), AppKind::discard, &get_keepalive_); break;
      case 3: connect(c, kEchoPort, port(), AppKind::close, &hello_); break;
      case 4: connect(c, kClosePort, port(), AppKind::discard); break;
      // Bodies: one that never ends (the server lingers for it), one chunked.
      case 5: connect(c, kHttpPort, port(), AppKind::discard, &post_partial_); break;
      case 6: connect(c, kHttpPort, port(), AppKind::discard, &post_chunked_); break;
      default: {  // simultaneous open, then simultaneous close
        const uint16_t pa = port(), pb = port();
        connect(Side::a, pb, pa, AppKind::close);
        p_->connect(Side::b, pa, pb, ConnectOptions{AppKind::close, nullptr, 0, true});
        break;
      }
    }
  }

  void open_connections() {
    tracked_.clear();
    next_port_ = 30000;
    for (int i = 0; i < 24; ++i) open_one();
  }

  bool gone(const Tracked& t) {
    return p_->engine(Side::a).state_of(t.key_at(Side::a)) == S::CLOSED &&
           p_->engine(Side::b).state_of(t.key_at(Side::b)) == S::CLOSED;
  }

  // A tracked flow and a side to forge a segment for: half the time the one
  // in the state hit least so far (so rare, short-lived states get their
  // share), otherwise any that still exists there, otherwise any.
  std::pair<const Tracked*, Side> pick(Side side) {
    if (chance(0.5)) {
      const Tracked* best = nullptr;
      Side best_side = side;
      uint64_t best_hits = ~uint64_t{0};
      for (const Tracked& t : tracked_) {
        for (Side s : {Side::a, Side::b}) {
          const S st = p_->engine(s).state_of(t.key_at(s));
          if (st == S::CLOSED) continue;
          const uint64_t h = hits_[static_cast<size_t>(st)] * 64 + rnd(64);
          if (h < best_hits) {
            best_hits = h;
            best = &t;
            best_side = s;
          }
        }
      }
      if (best != nullptr) return {best, best_side};
    }
    for (int tries = 0; tries < 6; ++tries) {
      const Tracked& t = tracked_[rnd(tracked_.size())];
      if (p_->engine(side).state_of(t.key_at(side)) != S::CLOSED) return {&t, side};
    }
    return {&tracked_[rnd(tracked_.size())], side};
  }

  // The state of the flow a forged segment for `k` at `to` lands in.
  S target_state(Side to, const FlowKey& k) {
    const S s = p_->engine(to).state_of(k);
    if (s != S::CLOSED) return s;
    for (uint16_t lp : {kDiscardPort, kEchoPort, kHttpPort, kClosePort}) {
      if (k.lport == lp) return S::LISTEN;
    }
    return S::CLOSED;
  }

  uint32_t near(uint32_t base, uint32_t spread) {
    return base + static_cast<uint32_t>(rnd(2 * uint64_t{spread} + 1)) - spread;
  }

  TcpOptions random_options() {
    TcpOptions o{};
    if (chance(0.3)) {
      o.has_mss = true;
      o.mss = static_cast<uint16_t>(chance(0.5) ? 1460 : rnd(70000));
    }
    if (chance(0.2)) {
      o.has_wscale = true;
      o.wscale = static_cast<uint8_t>(rnd(20));
    }
    o.sack_permitted = chance(0.2);
    if (chance(0.6)) {
      o.has_timestamps = true;
      ts_clock_ += static_cast<uint32_t>(rnd(50));
      o.tsval = chance(0.8) ? ts_clock_ : static_cast<uint32_t>(rng_());
      o.tsecr = chance(0.5) ? static_cast<uint32_t>(p_->now() / kMillisecond + rnd(1u << 31)) : static_cast<uint32_t>(rng_());
    }
    return o;
  }

  uint8_t random_flags() {
    static constexpr uint8_t kCommon[] = {ACK, SYN, SYN | ACK, FIN | ACK, RST, RST | ACK, PSH | ACK, FIN,
                                          FIN | PSH | ACK, URG | ACK, ACK | ECE, SYN | ECE | CWR};
    return chance(0.7) ? kCommon[rnd(sizeof kCommon)] : static_cast<uint8_t>(rng_());
  }

  std::vector<uint8_t> build(const TcpSegmentSpec& spec) {
    std::vector<uint8_t> f(MemLink::kFrameCap);
    f.resize(build_tcp_frame(f.data(), f.size(), spec));
    return f;
  }

  // A segment from to's peer for the flow k (as `to` sees it), numbers chosen
  // around the connection's windows when it is live.
  std::vector<uint8_t> forge(Side to, const FlowKey& k) {
    TcpSegmentSpec spec;
    spec.eth_src = mac_of(MemLink::peer(to));
    spec.eth_dst = mac_of(to);
    spec.ip_src = k.raddr;
    spec.ip_dst = k.laddr;
    spec.sport = k.rport;
    spec.dport = k.lport;
    ConnInfo ci;
    const bool live = p_->engine(to).conn_info(k, ci);
    const uint32_t r = static_cast<uint32_t>(rng_());
    if (live) {
      switch (rnd(6)) {
        case 0: spec.seq = near(ci.rcv_nxt, 2); break;
        case 1: spec.seq = ci.rcv_nxt; break;
        case 2: spec.seq = near(ci.rcv_nxt + ci.rcv_wnd, 2); break;
        case 3: spec.seq = near(ci.rcv_nxt, 70000); break;
        case 4: spec.seq = ci.rcv_nxt + 0x80000000u; break;
        default: spec.seq = r; break;
      }
      switch (rnd(6)) {
        case 0: spec.ack = ci.snd_una; break;
        case 1: spec.ack = ci.snd_nxt; break;
        case 2: spec.ack = near(ci.snd_nxt, 3); break;
        case 3: spec.ack = near(ci.snd_una, 70000); break;
        case 4: spec.ack = ci.snd_nxt + 0x80000000u; break;
        default: spec.ack = static_cast<uint32_t>(rng_()); break;
      }
    } else {
      spec.seq = r;
      spec.ack = chance(0.5) ? static_cast<uint32_t>(rng_()) : 0;
    }
    spec.flags = random_flags();
    static constexpr uint16_t kWindows[] = {0, 1, 502, 512, 65535};
    spec.window = chance(0.7) ? kWindows[rnd(5)] : static_cast<uint16_t>(rng_());
    spec.opts = random_options();
    std::string& payload = payload_;
    payload.clear();
    if (chance(0.35)) {
      const size_t n = chance(0.1) ? 1 + rnd(1400) : 1 + rnd(64);
      if (chance(0.3)) {
        const std::string* const kinds[] = {&get_, &get_keepalive_, &post_partial_, &post_chunked_};
        payload = *kinds[rnd(4)];
        payload.resize(std::min(payload.size(), n));
      } else {
        payload.resize(n);
        for (char& c : payload) c = static_cast<char>(rng_());
      }
    }
    spec.payload = reinterpret_cast<const uint8_t*>(payload.data());
    spec.payload_len = static_cast<uint16_t>(payload.size());
    return build(spec);
  }

  // A frame in flight, changed: a field of its TCP header (checksums redone,
  // so the state machine sees it) or raw bits (the parser sees it).
  std::vector<uint8_t> mutate(std::vector<uint8_t> f) {
    ParsedFrame pf;
    if (!f.empty() && chance(0.75) && parse_frame(f.data(), f.size(), pf) == DropReason::none && pf.l4 == L4::tcp) {
      TcpSegmentSpec spec;
      spec.eth_src = pf.eth_src;
      spec.eth_dst = pf.eth_dst;
      spec.ip_src = pf.ip_src;
      spec.ip_dst = pf.ip_dst;
      spec.sport = pf.sport;
      spec.dport = pf.dport;
      spec.seq = pf.seq;
      spec.ack = pf.ack;
      spec.flags = pf.flags;
      spec.window = pf.window;
      spec.opts = pf.opts;
      payload_.assign(reinterpret_cast<const char*>(f.data()) + pf.payload_offset, pf.payload_len);
      const int changes = 1 + static_cast<int>(rnd(3));
      for (int i = 0; i < changes; ++i) {
        switch (rnd(9)) {
          case 0: spec.seq = near(spec.seq, 3); break;
          case 1: spec.seq += static_cast<uint32_t>(rng_()); break;
          case 2: spec.ack = near(spec.ack, 3); break;
          case 3: spec.ack += static_cast<uint32_t>(rng_()); break;
          case 4: spec.flags ^= static_cast<uint8_t>(1u << rnd(8)); break;
          case 5: spec.window = static_cast<uint16_t>(rng_()); break;
          case 6: spec.opts = random_options(); break;
          case 7: payload_.resize(rnd(payload_.size() + 20), 'x'); break;
          default: spec.opts.tsval = near(spec.opts.tsval, 1u << 31); break;
        }
      }
      spec.payload = reinterpret_cast<const uint8_t*>(payload_.data());
      spec.payload_len = static_cast<uint16_t>(payload_.size());
      return build(spec);
    }
    // Raw damage: flipped bits, or a cut.
    if (!f.empty() && chance(0.8)) {
      const int flips = 1 + static_cast<int>(rnd(4));
      for (int i = 0; i < flips; ++i) f[rnd(f.size())] ^= static_cast<uint8_t>(1u << rnd(8));
    } else if (!f.empty()) {
      f.resize(rnd(f.size()));
    }
    return f;
  }

  std::string event() {
    EnginePair& p = *p_;
    const uint64_t roll = rnd(100);
    const Side side = chance(0.5) ? Side::a : Side::b;
    if (roll < 30) {
      if (!p.step(side)) p.step(MemLink::peer(side));
      return "deliver";
    }
    if (roll < 40) {
      p.pump();
      return "deliver all";
    }
    if (roll < 60 && !tracked_.empty()) {
      const auto [t, to] = pick(side);
      const FlowKey k = t->key_at(to);
      ++hits_[static_cast<size_t>(target_state(to, k))];
      p.inject(to, forge(to, k));
      return "forged segment";
    }
    if (roll < 64) {
      // A listener or a closed port, from a tuple nobody uses.
      static constexpr uint16_t kPorts[] = {kDiscardPort, kEchoPort, kHttpPort, kClosePort, kClosedPort};
      const FlowKey k{ip_of(MemLink::peer(side)), ip_of(side), static_cast<uint16_t>(1024 + rnd(20000)),
                      kPorts[rnd(5)]};
      ++hits_[static_cast<size_t>(target_state(side, k))];
      p.inject(side, forge(side, k));
      return "segment to a listener or closed port";
    }
    std::vector<uint8_t> f;
    if (roll < 72) {
      if (p.peek(side, f)) p.inject(side, mutate(f));
      return "mutated frame";
    }
    if (roll < 75) {
      if (p.peek(side, f)) p.inject(side, f);
      return "duplicated frame";
    }
    if (roll < 78) {
      p.discard(side);
      return "lost frame";
    }
    if (roll < 82) {
      // Keep the population up: replace a finished connection by a new one.
      for (size_t i = 0; i < tracked_.size(); ++i) {
        if (gone(tracked_[i]) && next_port_ < 65000) {
          tracked_.erase(tracked_.begin() + static_cast<std::ptrdiff_t>(i));
          open_one();
          break;
        }
      }
      return "new connection";
    }
    if (roll < 95) {
      p.advance_only(millis(1 + rnd(60)));
      return "time +ms";
    }
    if (roll < 98) {
      p.advance_only(millis(500 + rnd(5000)));
      return "time +s";
    }
    p.advance_only(seconds(30 + rnd(40)));
    return "time +30..70 s";
  }

  std::string stuck() {
    std::string out;
    for (const Tracked& t : tracked_) {
      for (Side s : {Side::a, Side::b}) {
        ConnInfo ci;
        if (!p_->engine(s).conn_info(t.key_at(s), ci)) continue;
        char line[200];
        std::snprintf(line, sizeof line, "%s: port %u<->%u %s snd_una=iss+%u snd_nxt=iss+%u timer=%d orphan=%d\n",
                      s == Side::a ? "A" : "B", t.cport, t.sport, std::string(state_name(ci.state)).c_str(),
                      ci.snd_una - ci.iss, ci.snd_nxt - ci.iss, static_cast<int>(ci.timer), ci.orphan ? 1 : 0);
        out += line;
      }
    }
    return out;
  }

  uint64_t seed_;
  std::mt19937_64 rng_;
  std::array<uint64_t, kTcpStateCount>& hits_;
  EngineStats& totals_;
  EnginePair* p_ = nullptr;
  std::vector<Tracked> tracked_;
  uint32_t ts_clock_ = 1000;
  uint16_t next_port_ = 30000;
  std::string payload_;
  const std::string hello_ = "hello";
  const std::string get_ = "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
  const std::string get_keepalive_ = "GET / HTTP/1.1\r\nHost: b\r\nConnection: keep-alive\r\n\r\n";
  const std::string post_partial_ = "POST / HTTP/1.1\r\nHost: b\r\nContent-Length: 300\r\n\r\nname=value";
  const std::string post_chunked_ =
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
};

TEST(Fuzz, RandomAndMutatedSegmentsInEveryState) {
  std::array<uint64_t, kTcpStateCount> hits{};
  EngineStats totals;  // both engines of every round: which paths the events reached
  std::vector<uint64_t> seeds;
  if (const char* env = std::getenv("TCPTERM_FUZZ_SEED")) {
    seeds.push_back(std::strtoull(env, nullptr, 0));
  } else {
    for (uint64_t s = 1; s <= 60; ++s) seeds.push_back(s * 0x9e3779b97f4a7c15ULL);
  }
  for (uint64_t seed : seeds) {
    Fuzzer f(seed, hits, totals);
    const std::string why = f.run(3000);
    ASSERT_EQ(why, "") << "seed 0x" << std::hex << seed;
  }
  if (seeds.size() > 1) {
    for (size_t s = 0; s < kTcpStateCount; ++s) {
      EXPECT_GE(hits[s], 20u) << "segments forged for " << state_name(static_cast<S>(s));
    }
  }
  std::string counts;
  for (size_t s = 0; s < kTcpStateCount; ++s) {
    counts += std::string(state_name(static_cast<S>(s))) + "=" + std::to_string(hits[s]) + " ";
  }
  RecordProperty("forged_per_state", counts);
  std::printf("forged segments per target state: %s\ncounters over all rounds:\n%s", counts.c_str(),
              format_counters(totals).c_str());
}

}  // namespace
}  // namespace tcpterm::pair_test
