// Full connection lifecycles between two engines wired back to back through
// drivers/memlink (engine_pair.h): one actively opening and closing while the
// other is passive, then the roles swapped, then both closing at once
// (simultaneous open and close through CLOSING), then with segments lost,
// duplicated and reordered by the link. Each run ends with every flow gone
// after TIME_WAIT and nothing leaked: no live connection, no TIME_WAIT
// record, no pending timer, no orphan, no echo buffer, every state gauge
// but LISTEN at zero, the link empty and each engine's invariants holding.
//
// The per-state transition matrix of each engine says which path every
// connection took, so the fault-free runs check it exactly.
#include <cstdio>
#include <string>

#include "tests/engine/tcp/engine_pair.h"

namespace tcpterm::pair_test {
namespace {

using Side = MemLink::Side;
using S = TcpState;

constexpr uint16_t kDiscardPort = 9;
constexpr uint16_t kEchoPort = 7;
constexpr uint16_t kHttpPort = 80;
constexpr uint16_t kClosePort = 2000;

uint64_t tr(Engine& e, S from, S to) { return e.stats().transition_count(from, to); }

std::string dump(EnginePair& p) {
  return "A transitions:\n" + format_transitions(p.a().stats()) + "A counters:\n" +
         format_counters(p.a().stats()) + "B transitions:\n" + format_transitions(p.b().stats()) +
         "B counters:\n" + format_counters(p.b().stats());
}

ConnectOptions opts(AppKind app, const std::string* request = nullptr) {
  ConnectOptions o;
  o.app = app;
  if (request != nullptr) {
    o.request = reinterpret_cast<const uint8_t*>(request->data());
    o.request_len = static_cast<uint32_t>(request->size());
  }
  return o;
}

Config server_config(Ipv4Addr ip) {
  return make_config(ip, {make_listener(kDiscardPort, AppKind::discard), make_listener(kEchoPort, AppKind::echo),
                          make_listener(kHttpPort, AppKind::http), make_listener(kClosePort, AppKind::close)});
}

// The live connections left (searched over the ports the tests use), for failure messages.
std::string stuck(EnginePair& p) {
  std::string out;
  for (Side side : {Side::a, Side::b}) {
    Engine& e = p.engine(side);
    const Ipv4Addr me = side == Side::a ? kIpA : kIpB, peer = side == Side::a ? kIpB : kIpA;
    for (uint32_t eph = 20000; eph < 61000; ++eph) {
      for (uint16_t sp : {kDiscardPort, kHttpPort, kEchoPort, kClosePort}) {
        for (const FlowKey& k : {FlowKey{peer, me, static_cast<uint16_t>(eph), sp},
                                 FlowKey{peer, me, sp, static_cast<uint16_t>(eph)}}) {
          ConnInfo ci;
          if (!e.conn_info(k, ci)) continue;
          const FlowKey back{me, peer, k.lport, k.rport};
          char line[256];
          std::snprintf(line, sizeof line,
                        "%s: r%u l%u %s snd_una=iss+%u snd_nxt=iss+%u rcv_nxt=irs+%u timer=%d orphan=%d; peer %s\n",
                        side == Side::a ? "A" : "B", k.rport, k.lport, std::string(state_name(ci.state)).c_str(),
                        ci.snd_una - ci.iss, ci.snd_nxt - ci.iss, ci.rcv_nxt - ci.irs, static_cast<int>(ci.timer),
                        ci.orphan ? 1 : 0, std::string(state_name(p.engine(MemLink::peer(side)).state_of(back))).c_str());
          out += line;
        }
      }
    }
  }
  return out;
}

// Ticks until both engines hold nothing, checking invariants at every step.
void drain(EnginePair& p, Nanos limit = seconds(120)) {
  const Nanos end = p.now() + limit;
  while (p.now() < end) {
    const std::string inv = p.invariants();
    ASSERT_EQ(inv, "") << "at t=" << (p.now() - kStart) / kMillisecond << " ms\n" << dump(p);
    if (p.a().conn_count() + p.b().conn_count() + p.a().time_wait_count() + p.b().time_wait_count() == 0) break;
    p.tick(millis(50));
  }
  const std::string leaks = p.leaks();
  EXPECT_EQ(leaks, "") << dump(p) << (leaks.empty() ? "" : stuck(p));
}

constexpr int kN = 200;

TEST(Lifecycle, ActiveOpenerClosesFirst) {
  EnginePair p(make_config(kIpA, {}), server_config(kIpB));
  for (int i = 0; i < kN; ++i) ASSERT_EQ(p.connect(Side::a, kDiscardPort, 0, opts(AppKind::close)), ConnectResult::ok);
  p.pump();
  Engine& a = p.a();
  Engine& b = p.b();
  // A: SYN_SENT, ESTABLISHED, FIN_WAIT1 (its FIN rides on the third segment), FIN_WAIT2, TIME_WAIT.
  EXPECT_EQ(tr(a, S::CLOSED, S::SYN_SENT), uint64_t{kN});
  EXPECT_EQ(tr(a, S::SYN_SENT, S::ESTABLISHED), uint64_t{kN});
  EXPECT_EQ(tr(a, S::ESTABLISHED, S::FIN_WAIT_1), uint64_t{kN});
  EXPECT_EQ(tr(a, S::FIN_WAIT_1, S::FIN_WAIT_2), uint64_t{kN});
  EXPECT_EQ(tr(a, S::FIN_WAIT_2, S::TIME_WAIT), uint64_t{kN});
  EXPECT_EQ(a.time_wait_count(), uint32_t{kN});
  EXPECT_EQ(a.conn_count(), 0u);
  EXPECT_EQ(format_state_distribution(a.stats()), "TIME_WAIT            200\n");
  // B: passive close, LAST_ACK ends in CLOSED without TIME_WAIT.
  EXPECT_EQ(tr(b, S::LISTEN, S::SYN_RECEIVED), uint64_t{kN});
  EXPECT_EQ(tr(b, S::SYN_RECEIVED, S::ESTABLISHED), uint64_t{kN});
  EXPECT_EQ(tr(b, S::ESTABLISHED, S::CLOSE_WAIT), uint64_t{kN});
  EXPECT_EQ(tr(b, S::CLOSE_WAIT, S::LAST_ACK), uint64_t{kN});
  EXPECT_EQ(tr(b, S::LAST_ACK, S::CLOSED), uint64_t{kN});
  EXPECT_EQ(b.conn_count(), 0u);
  EXPECT_EQ(b.time_wait_count(), 0u);
  // Segments: A sends SYN, FIN|ACK (with the handshake's ACK), ACK; B sends SYN-ACK and FIN|ACK.
  EXPECT_EQ(a.stats().counters.out_segs, uint64_t{3 * kN});
  EXPECT_EQ(b.stats().counters.out_segs, uint64_t{2 * kN});
  EXPECT_EQ(a.stats().counters.out_rsts + b.stats().counters.out_rsts, 0u);
  EXPECT_EQ(a.stats().counters.retrans_segs + b.stats().counters.retrans_segs, 0u);
  EXPECT_EQ(p.invariants(), "");

  // TIME_WAIT lasts 2 * msl = 2 s: still there just before, gone just after.
  p.tick(seconds(2) - millis(20));
  EXPECT_EQ(a.time_wait_count(), uint32_t{kN});
  p.tick(millis(40));
  EXPECT_EQ(a.time_wait_count(), 0u);
  EXPECT_EQ(tr(a, S::TIME_WAIT, S::CLOSED), uint64_t{kN});
  EXPECT_EQ(p.leaks(), "") << dump(p);
  EXPECT_EQ(p.link_refusals(), 0u);
}

TEST(Lifecycle, PassiveSideClosesFirst) {
  // The HTTP server answers and closes first (nginx with keep-alive off); the
  // client (discard) closes after the server's FIN: the server ends in TIME_WAIT.
  EnginePair p(make_config(kIpA, {}), server_config(kIpB));
  const std::string req = "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
  for (int i = 0; i < kN; ++i) {
    ASSERT_EQ(p.connect(Side::a, kHttpPort, 0, opts(AppKind::discard, &req)), ConnectResult::ok);
  }
  p.pump();
  Engine& a = p.a();
  Engine& b = p.b();
  EXPECT_EQ(b.stats().counters.http_requests, uint64_t{kN});
  EXPECT_EQ(tr(b, S::ESTABLISHED, S::FIN_WAIT_1), uint64_t{kN});
  EXPECT_EQ(tr(b, S::FIN_WAIT_1, S::FIN_WAIT_2), uint64_t{kN});
  EXPECT_EQ(tr(b, S::FIN_WAIT_2, S::TIME_WAIT), uint64_t{kN});
  EXPECT_EQ(b.time_wait_count(), uint32_t{kN});
  EXPECT_EQ(tr(a, S::ESTABLISHED, S::CLOSE_WAIT), uint64_t{kN});
  EXPECT_EQ(tr(a, S::CLOSE_WAIT, S::LAST_ACK), uint64_t{kN});
  EXPECT_EQ(tr(a, S::LAST_ACK, S::CLOSED), uint64_t{kN});
  EXPECT_EQ(a.conn_count() + a.time_wait_count(), 0u);
  EXPECT_EQ(a.stats().counters.out_rsts + b.stats().counters.out_rsts, 0u);
  EXPECT_EQ(format_state_distribution(b.stats()),
            "LISTEN               4\n"
            "TIME_WAIT            200\n");
  drain(p);
  EXPECT_EQ(tr(b, S::TIME_WAIT, S::CLOSED), uint64_t{kN});
}

TEST(Lifecycle, HttpKeepAliveUntilTheTimeout) {
  // With Connection: keep-alive the server answers and keeps the connection
  // idle for http_keepalive_timeout (65 s, nginx's default), then closes
  // first, as in seed 001's Firefox/nginx test: the server gets the TIME_WAIT.
  EnginePair p(make_config(kIpA, {}), server_config(kIpB));
  const std::string req = "GET / HTTP/1.1\r\nHost: b\r\nConnection: keep-alive\r\n\r\n";
  for (int i = 0; i < kN; ++i) {
    ASSERT_EQ(p.connect(Side::a, kHttpPort, 0, opts(AppKind::discard, &req)), ConnectResult::ok);
  }
  p.pump();
  EXPECT_EQ(p.b().stats().counters.http_requests, uint64_t{kN});
  EXPECT_EQ(p.b().stats().state_count(S::ESTABLISHED), uint64_t{kN});
  EXPECT_EQ(p.a().stats().state_count(S::ESTABLISHED), uint64_t{kN});
  p.tick(seconds(65) - millis(100));
  EXPECT_EQ(p.b().stats().state_count(S::ESTABLISHED), uint64_t{kN});
  EXPECT_EQ(p.b().stats().counters.http_keepalive_timeouts, 0u);
  p.tick(millis(200));
  EXPECT_EQ(p.b().stats().counters.http_keepalive_timeouts, uint64_t{kN});
  EXPECT_EQ(p.b().time_wait_count(), uint32_t{kN});
  EXPECT_EQ(tr(p.a(), S::CLOSE_WAIT, S::LAST_ACK), uint64_t{kN});
  EXPECT_EQ(p.a().conn_count() + p.a().time_wait_count(), 0u);
  drain(p);
}

TEST(Lifecycle, RolesSwapped) {
  // The same two engines, each with listeners: first A opens to B, sends a
  // request and closes first; then B does the same to A.
  EnginePair p(server_config(kIpA), server_config(kIpB));
  const std::string hello = "hello, discard";
  for (int round = 0; round < 2; ++round) {
    const Side active = round == 0 ? Side::a : Side::b;
    Engine& act = p.engine(active);
    Engine& pas = p.engine(MemLink::peer(active));
    // The matrices are cumulative: this round's transitions are the difference.
    const EngineStats act0 = act.stats(), pas0 = pas.stats();
    auto d_act = [&](S from, S to) { return tr(act, from, to) - act0.transition_count(from, to); };
    auto d_pas = [&](S from, S to) { return tr(pas, from, to) - pas0.transition_count(from, to); };
    for (int i = 0; i < kN; ++i) {
      ASSERT_EQ(p.connect(active, kDiscardPort, 0, opts(AppKind::close, &hello)), ConnectResult::ok);
    }
    p.pump();
    const uint64_t n = uint64_t{kN};
    EXPECT_EQ(d_act(S::CLOSED, S::SYN_SENT), n) << round;
    EXPECT_EQ(d_act(S::SYN_SENT, S::ESTABLISHED), n) << round;
    EXPECT_EQ(d_act(S::ESTABLISHED, S::FIN_WAIT_1), n) << round;
    EXPECT_EQ(d_act(S::FIN_WAIT_1, S::FIN_WAIT_2), n) << round;
    EXPECT_EQ(d_act(S::FIN_WAIT_2, S::TIME_WAIT), n) << round;
    EXPECT_EQ(d_pas(S::LISTEN, S::SYN_RECEIVED), n) << round;
    EXPECT_EQ(d_pas(S::SYN_RECEIVED, S::ESTABLISHED), n) << round;
    EXPECT_EQ(d_pas(S::ESTABLISHED, S::CLOSE_WAIT), n) << round;
    EXPECT_EQ(d_pas(S::CLOSE_WAIT, S::LAST_ACK), n) << round;
    EXPECT_EQ(d_pas(S::LAST_ACK, S::CLOSED), n) << round;
    // The passive side never entered an active-close state, the active side never a passive one.
    EXPECT_EQ(d_pas(S::ESTABLISHED, S::FIN_WAIT_1), 0u) << round;
    EXPECT_EQ(d_act(S::ESTABLISHED, S::CLOSE_WAIT), 0u) << round;
    EXPECT_EQ(act.time_wait_count(), uint32_t{kN}) << round;
    EXPECT_EQ(pas.time_wait_count(), 0u) << round;
    drain(p);
    EXPECT_EQ(d_act(S::TIME_WAIT, S::CLOSED), n) << round;
    if (HasFailure()) return;
  }
  EXPECT_EQ(p.a().stats().counters.out_rsts + p.b().stats().counters.out_rsts, 0u);
  EXPECT_EQ(p.a().stats().counters.retrans_segs + p.b().stats().counters.retrans_segs, 0u);
}

TEST(Lifecycle, EchoToAClosedSocketIsAborted) {
  // A sends data and closes at once; B echoes it back; data for a socket
  // closed for reading makes A answer with RST, as Linux does
  // (TCPAbortOnData). B's connection ends on that RST and gives its echo
  // buffer back to the pool.
  EnginePair p(make_config(kIpA, {}), server_config(kIpB));
  const std::string hello = "hello, echo";
  for (int i = 0; i < kN; ++i) {
    ASSERT_EQ(p.connect(Side::a, kEchoPort, 0, opts(AppKind::close, &hello)), ConnectResult::ok);
  }
  p.pump();
  const uint64_t n = uint64_t{kN};
  EXPECT_EQ(p.a().stats().counters.abort_on_data, n);
  EXPECT_EQ(p.a().stats().counters.out_rsts, n);
  EXPECT_EQ(p.b().stats().counters.rsts_received, n);
  EXPECT_EQ(p.a().time_wait_count() + p.b().time_wait_count(), 0u);
  EXPECT_EQ(p.b().echo_buffers_in_use(), 0u);
  EXPECT_EQ(p.leaks(), "") << dump(p) << stuck(p);
}

TEST(Lifecycle, BothCloseAtOnce) {
  // Both engines connect() to each other on the same 4-tuple at the same
  // time, both running `close`: the SYNs cross (simultaneous open, RFC 9293
  // figure 7), then the FINs cross (simultaneous close, figure 13): both
  // sides go FIN_WAIT1 -> CLOSING -> TIME_WAIT.
  EnginePair p(make_config(kIpA, {}), make_config(kIpB, {}));
  for (int i = 0; i < kN; ++i) {
    const auto pa = static_cast<uint16_t>(20000 + i), pb = static_cast<uint16_t>(30000 + i);
    ASSERT_EQ(p.connect(Side::a, pb, pa, opts(AppKind::close)), ConnectResult::ok);
    ASSERT_EQ(p.connect(Side::b, pa, pb, opts(AppKind::close)), ConnectResult::ok);
  }
  p.pump();
  const uint64_t n = uint64_t{kN};
  for (Side s : {Side::a, Side::b}) {
    Engine& e = p.engine(s);
    const char* name = s == Side::a ? "A" : "B";
    EXPECT_EQ(tr(e, S::CLOSED, S::SYN_SENT), n) << name;
    EXPECT_EQ(tr(e, S::SYN_SENT, S::SYN_RECEIVED), n) << name;
    EXPECT_EQ(tr(e, S::SYN_RECEIVED, S::ESTABLISHED), n) << name;
    EXPECT_EQ(tr(e, S::ESTABLISHED, S::FIN_WAIT_1), n) << name;
    EXPECT_EQ(tr(e, S::FIN_WAIT_1, S::CLOSING), n) << name;
    EXPECT_EQ(tr(e, S::CLOSING, S::TIME_WAIT), n) << name;
    EXPECT_EQ(e.time_wait_count(), uint32_t{kN}) << name;
    EXPECT_EQ(e.conn_count(), 0u) << name;
    EXPECT_EQ(e.stats().counters.out_rsts, 0u) << name;
  }
  EXPECT_EQ(p.invariants(), "");
  drain(p);
  EXPECT_EQ(tr(p.a(), S::TIME_WAIT, S::CLOSED), n);
  EXPECT_EQ(tr(p.b(), S::TIME_WAIT, S::CLOSED), n);
}

TEST(Lifecycle, LostSynIsRetransmitted) {
  EnginePair p(make_config(kIpA, {}), server_config(kIpB));
  MemLink::Faults f;
  f.drop_nth = 1;  // A's first SYN
  p.link().set_faults(Side::a, f);
  ASSERT_EQ(p.connect(Side::a, kDiscardPort, 0, opts(AppKind::close)), ConnectResult::ok);
  p.pump();
  EXPECT_EQ(p.a().conn_count(), 1u);
  EXPECT_EQ(p.b().conn_count(), 0u);
  // The SYN goes again after the initial RTO (1 s) and the lifecycle completes.
  p.tick(seconds(1) - millis(10));
  EXPECT_EQ(p.b().conn_count(), 0u);
  p.tick(millis(20));
  EXPECT_EQ(p.a().stats().counters.retrans_segs, 1u);
  EXPECT_EQ(p.a().time_wait_count(), 1u);
  EXPECT_EQ(tr(p.b(), S::LAST_ACK, S::CLOSED), 1u);
  drain(p);
}

TEST(Lifecycle, LostSynAckIsRetransmitted) {
  EnginePair p(make_config(kIpA, {}), server_config(kIpB));
  MemLink::Faults f;
  f.drop_nth = 1;  // B's first SYN-ACK
  p.link().set_faults(Side::b, f);
  ASSERT_EQ(p.connect(Side::a, kDiscardPort, 0, opts(AppKind::close)), ConnectResult::ok);
  p.pump();
  EXPECT_EQ(p.b().syn_queue_length(kDiscardPort), 1u);
  p.tick(seconds(1) + millis(10));
  // Both timers fire after 1 s (A's SYN, B's SYN-ACK); one SYN-ACK gets through.
  EXPECT_EQ(p.a().time_wait_count(), 1u);
  EXPECT_EQ(tr(p.a(), S::SYN_SENT, S::ESTABLISHED), 1u);
  EXPECT_EQ(p.b().syn_queue_length(kDiscardPort), 0u);
  drain(p);
}

TEST(Lifecycle, LostLastAckIsAnsweredFromTimeWait) {
  // A's last ACK is lost: B in LAST_ACK retransmits its FIN after the RTO;
  // A, in TIME_WAIT, re-ACKs it and restarts TIME_WAIT (RFC 9293 3.10.7.4).
  Config ca = make_config(kIpA, {});
  ca.tcp.msl = 30;  // Linux's 60 s TIME_WAIT
  EnginePair p(ca, server_config(kIpB));
  MemLink::Faults f;
  f.drop_nth = 3;  // A sends SYN, FIN|ACK, ACK: the third is lost
  p.link().set_faults(Side::a, f);
  ASSERT_EQ(p.connect(Side::a, kDiscardPort, 0, opts(AppKind::close)), ConnectResult::ok);
  p.pump();
  EXPECT_EQ(p.a().time_wait_count(), 1u);
  EXPECT_EQ(p.b().conn_count(), 1u);  // LAST_ACK
  const Nanos tw_start = p.now();
  ASSERT_TRUE(p.run_until([&] { return p.b().conn_count() == 0; }, millis(10), seconds(5)));
  const Nanos restart = p.now();
  EXPECT_GE(restart - tw_start, millis(200));  // not before the minimum RTO
  EXPECT_EQ(p.b().stats().counters.retrans_segs, 1u);
  EXPECT_EQ(p.a().stats().counters.time_wait_acks, 1u);
  EXPECT_EQ(p.a().stats().counters.time_wait_restarts, 1u);
  EXPECT_EQ(tr(p.b(), S::LAST_ACK, S::CLOSED), 1u);
  // TIME_WAIT now ends 60 s after the re-ACK, not after it began.
  p.tick(tw_start + seconds(60) + millis(100) - p.now());
  EXPECT_EQ(p.a().time_wait_count(), 1u);
  p.tick(restart + seconds(60) + millis(100) - p.now());
  EXPECT_EQ(p.a().time_wait_count(), 0u);
  EXPECT_EQ(p.leaks(), "") << dump(p);
}

TEST(Lifecycle, EverySegmentDuplicated) {
  // The link delivers every frame twice, both ways. Duplicates are absorbed
  // (ACKed, dropped, or answered with RST once a side has closed) and every
  // lifecycle still ends clean; TIME_WAIT may end early by an RST (rfc1337=0).
  EnginePair p(make_config(kIpA, {}), server_config(kIpB));
  MemLink::Faults f;
  f.duplicate_every = 1;
  p.link().set_faults(Side::a, f);
  p.link().set_faults(Side::b, f);
  const std::string req = "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
  for (int i = 0; i < kN / 2; ++i) {
    ASSERT_EQ(p.connect(Side::a, kDiscardPort, 0, opts(AppKind::close)), ConnectResult::ok);
    ASSERT_EQ(p.connect(Side::a, kHttpPort, 0, opts(AppKind::discard, &req)), ConnectResult::ok);
  }
  p.pump();
  EXPECT_GT(p.link().counters(Side::a).duplicated, uint64_t{kN});
  EXPECT_EQ(tr(p.a(), S::SYN_SENT, S::ESTABLISHED), uint64_t{kN});
  EXPECT_EQ(tr(p.b(), S::SYN_RECEIVED, S::ESTABLISHED), uint64_t{kN});
  // A duplicated request is not a second request.
  EXPECT_EQ(p.b().stats().counters.http_requests, uint64_t{kN / 2});
  drain(p);
  EXPECT_EQ(p.link_refusals(), 0u);
}

struct FaultCase {
  const char* name;
  double drop, duplicate, reorder;
  uint64_t seed;
};

class LossyLifecycle : public ::testing::TestWithParam<FaultCase> {};

TEST_P(LossyLifecycle, EveryFlowGoneAndNothingLeaked) {
  // A mix of every application, opened from both sides: the opener closing
  // first (close to discard), the server closing first (http, close), data
  // echoed to a closed socket (RST) over a link that drops, duplicates and
  // reorders frames at random in both directions. Every connection must
  // finish on both sides, with invariants holding at every step.
  // A passive side whose peer vanished (its last ACK or RST lost) would wait
  // for ever, as on Linux: SO_KEEPALIVE on every connection finds those.
  const FaultCase fc = GetParam();
  Config cfg_a = server_config(kIpA), cfg_b = server_config(kIpB);
  for (Config* c : {&cfg_a, &cfg_b}) {
    c->tcp.keepalive_time = 10;
    c->tcp.keepalive_intvl = 2;
    c->tcp.keepalive_probes = 3;
    for (ListenerConfig& l : c->listeners) l.keepalive = true;
  }
  EnginePair p(cfg_a, cfg_b, fc.seed);
  MemLink::Faults f;
  f.drop_probability = fc.drop;
  f.duplicate_probability = fc.duplicate;
  f.reorder_probability = fc.reorder;
  p.link().set_faults(Side::a, f);
  p.link().set_faults(Side::b, f);
  const std::string get = "GET / HTTP/1.1\r\nHost: b\r\n\r\n";
  const std::string data(3000, 'e');  // more than one segment's worth for echo
  auto ka = [](ConnectOptions o) {
    o.keepalive = true;
    return o;
  };
  int opened = 0;
  for (int i = 0; i < 300; ++i) {
    const Side from = i % 5 == 4 ? Side::b : Side::a;  // a fifth the other way round
    ConnectResult r = ConnectResult::ok;
    switch (i % 4) {
      case 0: r = p.connect(from, kDiscardPort, 0, ka(opts(AppKind::close))); break;
      case 1: r = p.connect(from, kHttpPort, 0, ka(opts(AppKind::discard, &get))); break;
      case 2: r = p.connect(from, kEchoPort, 0, ka(opts(AppKind::close, &data))); break;
      default: r = p.connect(from, kClosePort, 0, ka(opts(AppKind::discard))); break;
    }
    ASSERT_EQ(r, ConnectResult::ok);
    ++opened;
    if (i % 10 == 9) p.tick(millis(1));  // spread the opens a little over time
  }
  drain(p, seconds(600));
  const uint64_t opens = p.a().stats().counters.active_opens + p.b().stats().counters.active_opens;
  EXPECT_EQ(opens, uint64_t(opened));
  // Faults really happened.
  const MemLink::Counters& ca = p.link().counters(Side::a);
  const MemLink::Counters& cb = p.link().counters(Side::b);
  if (fc.drop > 0) {
    EXPECT_GT(ca.dropped + cb.dropped, 10u);
  }
  if (fc.duplicate > 0) {
    EXPECT_GT(ca.duplicated + cb.duplicated, 10u);
  }
  if (fc.reorder > 0) {
    EXPECT_GT(ca.reordered + cb.reordered, 10u);
  }
  EXPECT_EQ(p.link_refusals(), 0u);
  EXPECT_EQ(p.a().stats().drops[DropReason::no_tx_buffer] + p.b().stats().drops[DropReason::no_tx_buffer], 0u);
  // Most connections get through the handshake even so (a SYN lost syn_retries + 1 times does not).
  const uint64_t established = tr(p.a(), S::SYN_SENT, S::ESTABLISHED) + tr(p.b(), S::SYN_SENT, S::ESTABLISHED) +
                               tr(p.a(), S::SYN_RECEIVED, S::ESTABLISHED) + tr(p.b(), S::SYN_RECEIVED, S::ESTABLISHED);
  EXPECT_GE(established, uint64_t(2 * opened * 9 / 10)) << dump(p);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, LossyLifecycle,
    ::testing::Values(FaultCase{"drop5", 0.05, 0, 0, 1}, FaultCase{"drop20", 0.20, 0, 0, 2},
                      FaultCase{"dup20", 0, 0.20, 0, 3}, FaultCase{"reorder20", 0, 0, 0.20, 4},
                      FaultCase{"mixed", 0.10, 0.10, 0.10, 5}, FaultCase{"mixed_b", 0.10, 0.10, 0.10, 6},
                      FaultCase{"heavy", 0.30, 0.20, 0.20, 7}),
    [](const ::testing::TestParamInfo<FaultCase>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace tcpterm::pair_test
