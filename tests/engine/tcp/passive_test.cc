// Passive open and the five applications, end to end at the segment level:
// handshake, data, the close each application makes, TIME_WAIT or CLOSED.
#include "engine/tcp/http.h"
#include "tests/engine/tcp/tcp_test_util.h"

namespace tcpterm::tcp_test {
namespace {

class PassiveTest : public TcpTest {};

TEST_F(PassiveTest, HandshakeNegotiatesOfferedOptionsOnly) {
  Start(AppKind::discard);
  SynReceived();
  EXPECT_EQ(eng->syn_queue_length(kPort), 1u);
  Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(eng->syn_queue_length(kPort), 0u);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_TRUE(ci.timestamps);
  EXPECT_TRUE(ci.sack_ok);
  EXPECT_EQ(ci.snd_wscale, 7);
  EXPECT_EQ(ci.rcv_wscale, 7);
  EXPECT_EQ(ci.snd_mss, 1460 - 12);       // TS option on every segment
  EXPECT_EQ(ci.snd_wnd, 502u << 7);       // scaled after the handshake
  EXPECT_TRUE(ci.accepted);
  EXPECT_EQ(eng->stats().counters.passive_opens, 1u);
  ExpectInvariants();
}

TEST_F(PassiveTest, SynWithoutOptionsGetsNone) {
  Start(AppKind::discard);
  Send({SYN, kPeerIsn, 0, 8192, NoOpts()});
  ASSERT_EQ(out.size(), 1u);
  iss = out.front().p.seq;
  TcpOptions mss{};
  mss.has_mss = true;
  mss.mss = 1460;  // mtu 1500 - 40
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, mss);
  Send({ACK, kPeerIsn + 1, iss + 1, 8192, NoOpts()});
  ExpectNothing();
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_FALSE(ci.timestamps);
  EXPECT_FALSE(ci.sack_ok);
  EXPECT_EQ(ci.snd_wscale, 0);
  EXPECT_EQ(ci.snd_mss, 536);  // RFC 9293 3.7.1 default without the option
  EXPECT_EQ(ci.snd_wnd, 8192u);
  // Without window scaling our window is not scaled either.
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 8192, NoOpts(), "x"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 2, 65408, NoOpts());
}

// A peer MSS below the option bytes must not underflow: Linux
// tcp_mtu_to_mss raises it to tcp_min_snd_mss (48, TCP_MIN_SND_MSS) first,
// then subtracts the options every segment carries (12 with timestamps).
TEST_F(PassiveTest, TinyPeerMssIsRaisedToTheMinimumNotUnderflowed) {
  cfg.listeners[0].http_body_size = 100;
  Start(AppKind::http);
  for (uint16_t m = 1; m <= 11; ++m) {
    peer_port = static_cast<uint16_t>(kPeerPort + m);
    TcpOptions o = LinuxSynOpts(peer_ts);
    o.mss = m;
    Send({SYN, kPeerIsn, 0, 64240, o});
    ASSERT_EQ(out.size(), 1u);
    iss = out.front().p.seq;
    ts_off = out.front().p.opts.tsval - NowMs();
    TcpOptions synack = LinuxSynOpts(OurTs());  // we offer our own MSS (1460) whatever the peer's
    synack.tsecr = peer_ts;
    ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, synack);
    Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
    ExpectNothing();
    ConnInfo ci;
    ASSERT_TRUE(eng->conn_info(Key(), ci));
    EXPECT_EQ(ci.snd_mss, 48 - 12) << "peer MSS " << m;
  }
  // The last one (MSS 11) answers a request in 36-byte segments.
  const std::string req = "GET / HTTP/1.1\r\n\r\n";
  const std::string resp = make_http_response(100, false);
  ASSERT_LE(resp.size(), 10u * 36);  // all within the initial cwnd of 10 segments
  const uint32_t rcv = kPeerIsn + 1 + static_cast<uint32_t>(req.size());
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), req});
  // 36-byte segments, the last one with PSH and the FIN (keep-alive off).
  for (uint32_t off = 0; off < resp.size(); off += 36) {
    const bool last = off + 36 >= resp.size();
    ExpectSegment(last ? FIN | PSH | ACK : ACK, iss + 1 + off, rcv, 511, OurTsOpts(), resp.substr(off, 36));
  }
  ExpectNothing();
  ExpectInvariants();
}

// SYN|FIN to a listener gets no SYN-ACK (Linux tcp_rcv_state_process LISTEN:
// "if (th->fin) goto discard"): here the frame parser drops it first.
TEST_F(PassiveTest, SynFinToAListenerIsDiscarded) {
  Start(AppKind::discard);
  Send({SYN | FIN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
  ExpectNothing();
  EXPECT_EQ(eng->syn_queue_length(kPort), 0u);
  EXPECT_EQ(Drops(DropReason::tcp_bad_flags), 1u);
  EXPECT_EQ(eng->conn_count(), 0u);
}

TEST_F(PassiveTest, MssClampedToConfiguredMtu) {
  cfg.engine.mtu = 1000;
  Start(AppKind::discard);
  TcpOptions o = LinuxSynOpts(peer_ts);
  o.mss = 8960;
  Send({SYN, kPeerIsn, 0, 64240, o});
  ASSERT_EQ(out.size(), 1u);
  iss = out.front().p.seq;
  ts_off = out.front().p.opts.tsval - NowMs();
  TcpOptions synack = LinuxSynOpts(OurTs());
  synack.mss = 960;  // mtu - 40
  synack.tsecr = peer_ts;
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, synack);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.snd_mss, 960 - 12);
}

TEST_F(PassiveTest, KnobsTurnOptionsOff) {
  cfg.tcp.timestamps = 0;
  cfg.tcp.sack = 0;
  cfg.tcp.window_scaling = 0;
  Start(AppKind::discard);
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
  ASSERT_EQ(out.size(), 1u);
  iss = out.front().p.seq;
  TcpOptions mss{};
  mss.has_mss = true;
  mss.mss = 1460;
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, mss);
}

// discard: ACK and drop data; passive close after the peer's FIN.
TEST_F(PassiveTest, DiscardAcksDataThenClosesAfterPeerFin) {
  Start(AppKind::discard);
  Established();
  ExpectNothing();
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), "hello"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 6, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  // FIN: the application closes at once, so our FIN carries the ACK of theirs.
  Send({FIN | ACK, kPeerIsn + 6, iss + 1, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 7, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::LAST_ACK);
  Send({ACK, kPeerIsn + 7, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->conn_count(), 0u);
  EXPECT_EQ(eng->timers_pending(), 0u);
  EXPECT_EQ(eng->stats().transition_count(TcpState::LAST_ACK, TcpState::CLOSED), 1u);
  ExpectInvariants();
}

// close: the engine closes right after the handshake (active close), then
// FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> (2 MSL) gone.
TEST_F(PassiveTest, CloseAppIsTheActiveCloser) {
  Start(AppKind::close);
  Established();
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
  EXPECT_EQ(eng->orphan_count(), 1u);
  Send({ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::FIN_WAIT_2);
  Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  EXPECT_EQ(eng->conn_count(), 0u);
  EXPECT_EQ(eng->time_wait_count(), 1u);
  EXPECT_EQ(eng->orphan_count(), 0u);
  EXPECT_EQ(eng->timers_pending(), 0u);  // TIME_WAIT is on the FIFO, not the wheel
  ExpectInvariants();
  Advance(seconds(60) - millis(1));
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  Advance(millis(1));
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->time_wait_count(), 0u);
  ExpectNothing();
  ExpectInvariants();
}

TEST_F(PassiveTest, TimeWaitLastsTwiceMsl) {
  cfg.tcp.msl = 5;
  Start(AppKind::close);
  Established();
  out.clear();
  Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});  // ACK of our FIN + their FIN
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  Advance(seconds(10) - millis(1));
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  Advance(millis(1));
  EXPECT_EQ(State(), TcpState::CLOSED);
}

std::string Request(bool keep_alive = false) {
  return std::string("GET / HTTP/1.1\r\nHost: tcpterm\r\n") + (keep_alive ? "Connection: keep-alive\r\n" : "") +
         "\r\n";
}

// http: one request, the response with the FIN piggybacked (nginx, keep-alive off).
TEST_F(PassiveTest, HttpAnswersThenClosesFirst) {
  cfg.listeners[0].http_body_size = 100;
  Start(AppKind::http);
  Established();
  ExpectNothing();
  const std::string req = Request();
  const std::string resp = make_http_response(100, false);
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), req});
  const uint32_t rcv = kPeerIsn + 1 + static_cast<uint32_t>(req.size());
  ExpectSegment(FIN | PSH | ACK, iss + 1, rcv, 511, OurTsOpts(), resp);
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
  const uint32_t fin_end = iss + 1 + static_cast<uint32_t>(resp.size()) + 1;
  // The client ACKs and closes in one segment (FIN piggybacked on the ACK).
  Send({FIN | ACK, rcv, fin_end, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(ACK, fin_end, rcv + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  EXPECT_EQ(Counters().http_requests, 1u);
  ExpectInvariants();
}

TEST_F(PassiveTest, HttpRequestSplitAcrossSegments) {
  Start(AppKind::http);
  Established();
  const std::string req = Request();
  Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), req.substr(0, 10)});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 11, 511, OurTsOpts());
  Send({ACK | PSH, kPeerIsn + 11, iss + 1, 502, Ts(++peer_ts, OurTs()), req.substr(10)});
  const std::string resp = make_http_response(0, false);
  ExpectSegment(FIN | PSH | ACK, iss + 1, kPeerIsn + 1 + static_cast<uint32_t>(req.size()), 511, OurTsOpts(),
                resp);
}

TEST_F(PassiveTest, HttpLargeBodyIsSegmentedByMss) {
  cfg.listeners[0].http_body_size = 4000;
  Start(AppKind::http);
  Established();
  const std::string req = Request();
  const std::string resp = make_http_response(4000, false);
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), req});
  const uint32_t rcv = kPeerIsn + 1 + static_cast<uint32_t>(req.size());
  const uint32_t mss = 1448;
  ExpectSegment(ACK, iss + 1, rcv, 511, OurTsOpts(), resp.substr(0, mss));
  ExpectSegment(ACK, iss + 1 + mss, rcv, 511, OurTsOpts(), resp.substr(mss, mss));
  ExpectSegment(FIN | PSH | ACK, iss + 1 + 2 * mss, rcv, 511, OurTsOpts(), resp.substr(2 * mss));
  ExpectNothing();
}

TEST_F(PassiveTest, HttpKeepAliveServesTwoRequestsThenTimesOut) {
  cfg.listeners[0].http_keepalive_timeout = 5;
  Start(AppKind::http);
  Established();
  const std::string req = Request(true);
  const std::string resp = make_http_response(0, true);
  const uint32_t rl = static_cast<uint32_t>(req.size()), sl = static_cast<uint32_t>(resp.size());
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), req});
  ExpectSegment(PSH | ACK, iss + 1, kPeerIsn + 1 + rl, 511, OurTsOpts(), resp);
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  Send({ACK, kPeerIsn + 1 + rl, iss + 1 + sl, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  Advance(seconds(1));
  Send({ACK | PSH, kPeerIsn + 1 + rl, iss + 1 + sl, 502, Ts(++peer_ts, OurTs()), req});
  ExpectSegment(PSH | ACK, iss + 1 + sl, kPeerIsn + 1 + 2 * rl, 511, OurTsOpts(), resp);
  Send({ACK, kPeerIsn + 1 + 2 * rl, iss + 1 + 2 * sl, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  // Idle for the keep-alive timeout: the server closes.
  Advance(seconds(5) - millis(10));
  ExpectNothing();
  Advance(millis(20));
  ExpectSegment(FIN | ACK, iss + 1 + 2 * sl, kPeerIsn + 1 + 2 * rl, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
  EXPECT_EQ(Counters().http_keepalive_timeouts, 1u);
}

TEST_F(PassiveTest, HttpBadRequestCloses) {
  Start(AppKind::http);
  Established();
  const std::string bad = "GET / HTTP/1.1\r\nBad Header\r\n\r\n";
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), bad});
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1 + static_cast<uint32_t>(bad.size()), 511, OurTsOpts());
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
  EXPECT_EQ(Counters().http_bad_requests, 1u);
}

TEST_F(PassiveTest, HttpPeerFinWithoutRequestCloses) {
  Start(AppKind::http);
  Established();
  Send({FIN | ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::LAST_ACK);
}

// echo: data comes back; passive close.
TEST_F(PassiveTest, EchoSendsDataBackAndClosesAfterPeerFin) {
  Start(AppKind::echo);
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
  ASSERT_EQ(out.size(), 1u);
  iss = out.front().p.seq;
  ts_off = out.front().p.opts.tsval - NowMs();
  TcpOptions o = LinuxSynOpts(OurTs());
  o.tsecr = peer_ts;
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 4096, o);  // the echo buffer is the window
  Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), "hello"});
  ExpectSegment(PSH | ACK, iss + 1, kPeerIsn + 6, 31, OurTsOpts(), "hello");  // 4091 free / 128
  EXPECT_EQ(eng->echo_buffers_in_use(), 1u);
  Send({ACK, kPeerIsn + 6, iss + 6, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  EXPECT_EQ(eng->echo_buffers_in_use(), 0u);  // all echoed data acked: buffer back to the pool
  Send({ACK | PSH | FIN, kPeerIsn + 6, iss + 6, 502, Ts(++peer_ts, OurTs()), "bye"});
  ExpectSegment(FIN | PSH | ACK, iss + 6, kPeerIsn + 10, 31, OurTsOpts(), "bye");
  EXPECT_EQ(State(), TcpState::LAST_ACK);
  Send({ACK, kPeerIsn + 10, iss + 10, 502, Ts(++peer_ts, OurTs())});
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->echo_buffers_in_use(), 0u);
  ExpectInvariants();
}

TEST_F(PassiveTest, EchoBufferPoolIsBoundedAndCounted) {
  cfg.engine.max_connections = 1100;
  Start(AppKind::echo);
  // 1024 buffers: the 1025th connection with unacknowledged echo data finds none.
  for (uint32_t i = 0; i < 1025; ++i) {
    peer_port = static_cast<uint16_t>(20000 + i);
    Send({SYN, kPeerIsn, 0, 64240, NoOpts()});
    const uint32_t s = out.back().p.seq;
    Send({ACK | PSH, kPeerIsn + 1, s + 1, 1000, NoOpts(), "z"});
    out.clear();
  }
  EXPECT_EQ(eng->echo_buffers_in_use(), 1024u);
  EXPECT_EQ(Counters().echo_pool_exhausted, 1u);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.rcv_nxt, kPeerIsn + 1);  // the byte was not taken, so not acknowledged
  ExpectInvariants();
}

// reset: abort right after the handshake.
TEST_F(PassiveTest, ResetAppAborts) {
  Start(AppKind::reset);
  Established();
  ExpectSegment(RST | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->conn_count(), 0u);
  EXPECT_EQ(Counters().app_aborts, 1u);
  ExpectInvariants();
}

TEST_F(PassiveTest, StateDistributionLikeNetstat) {
  Start(AppKind::close);
  Established();
  EXPECT_EQ(eng->state_distribution(), "LISTEN               1\nFIN_WAIT1            1\n");
}

}  // namespace
}  // namespace tcpterm::tcp_test
