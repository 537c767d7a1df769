// LISTEN and SYN_RECEIVED: SYN-ACK retransmission, the SYN and accept queues,
// SYN cookies, abort_on_overflow, resets for closed ports, flow-table limits.
#include "engine/tcp/syncookie.h"
#include "tests/engine/tcp/tcp_test_util.h"

namespace tcpterm::tcp_test {
namespace {

class HandshakeTest : public TcpTest {
 protected:
  // SYN from another peer port; returns our ISN from the SYN-ACK (0 if none).
  uint32_t SynFrom(uint16_t port, uint32_t isn = kPeerIsn) {
    peer_port = port;
    Send({SYN, isn, 0, 64240, LinuxSynOpts(peer_ts)});
    if (out.empty()) return 0;
    return out.back().p.seq;
  }
  TcpOptions SynAckOpts() const {
    TcpOptions o = LinuxSynOpts(OurTs());
    o.tsecr = peer_ts;
    return o;
  }
};

TEST_F(HandshakeTest, SynAckRetransmittedWithBackoffThenGivenUp) {
  Start(AppKind::discard);
  SynReceived();
  // 1, 2, 4, 8, 16 s later (synack_retries = 5), each from the same ISS.
  Nanos gap = seconds(1);
  for (int i = 0; i < 5; ++i) {
    Advance(gap - millis(5));
    ExpectNothing();
    Advance(millis(10));
    ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts());
    gap *= 2;
  }
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  Advance(seconds(40));
  ExpectNothing();  // given up silently, as Linux drops a request sock
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->syn_queue_length(kPort), 0u);
  EXPECT_EQ(Counters().synack_timeouts, 1u);
  EXPECT_EQ(Counters().retrans_segs, 5u);
  ExpectInvariants();
}

TEST_F(HandshakeTest, SynAckRetriesKnob) {
  cfg.tcp.synack_retries = 1;
  Start(AppKind::discard);
  SynReceived();
  Advance(seconds(1) + millis(5));
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts());
  Advance(seconds(2) + millis(5));
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSED);
}

TEST_F(HandshakeTest, RetransmittedSynGetsTheSynAckAgain) {
  Start(AppKind::discard);
  SynReceived();
  Advance(millis(300));
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts());
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  EXPECT_EQ(eng->syn_queue_length(kPort), 1u);
}

TEST_F(HandshakeTest, DuplicateFinalAckIsSilent) {
  Start(AppKind::discard);
  Established();
  Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(peer_ts, OurTs())});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
}

TEST_F(HandshakeTest, FinalAckAckingNothingSentGetsRst) {
  Start(AppKind::discard);
  SynReceived();
  Send({ACK, kPeerIsn + 1, iss + 7, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(RST, iss + 7, 0, 0, NoOpts());
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);  // the half-open connection stays
}

TEST_F(HandshakeTest, ExactRstInSynReceivedReturnsToListen) {
  Start(AppKind::discard);
  SynReceived();
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->syn_queue_length(kPort), 0u);
  ExpectInvariants();
}

TEST_F(HandshakeTest, InWindowRstInSynReceivedGetsChallengeAck) {
  Start(AppKind::discard);
  SynReceived();
  Send({RST, kPeerIsn + 100, 0, 0, NoOpts()});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts));
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  EXPECT_EQ(Counters().challenge_acks, 1u);
}

TEST_F(HandshakeTest, NewSynInSynReceivedReturnsToListen) {
  Start(AppKind::discard);
  SynReceived();
  Send({SYN, kPeerIsn + 50, 0, 64240, LinuxSynOpts(++peer_ts)});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(Drops(DropReason::tcp_syn_in_syn_recv), 1u);
}

TEST_F(HandshakeTest, AcceptQueueHoldsConnectionsUntilTheAppTakesThem) {
  cfg.listeners[0].accept_rate = 10;  // the application accepts 10 per second
  cfg.listeners[0].backlog = 1;       // holds backlog + 1 = 2, as Linux (sk_acceptq_is_full: >)
  Start(AppKind::close);
  const uint32_t a = SynFrom(40001);
  ts_off = out.back().p.opts.tsval - NowMs();
  Send({ACK, kPeerIsn + 1, a + 1, 502, Ts(peer_ts, 0)});
  const uint32_t b = SynFrom(40002);
  Send({ACK, kPeerIsn + 1, b + 1, 502, Ts(peer_ts, 0)});
  out.clear();
  EXPECT_EQ(eng->accept_queue_length(kPort), 2u);
  // A third SYN finds the accept queue full: dropped (Linux ListenOverflows).
  EXPECT_EQ(SynFrom(40003), 0u);
  ExpectNothing();
  EXPECT_EQ(Counters().listen_overflows, 1u);
  EXPECT_EQ(Drops(DropReason::tcp_accept_queue_full), 1u);
  // 100 ms: one token: the close application takes one and closes it.
  Advance(millis(100));
  peer_port = 40001;
  ExpectSegment(FIN | ACK, a + 1, kPeerIsn + 1, 511, OurTsOpts());
  ExpectNothing();
  EXPECT_EQ(eng->accept_queue_length(kPort), 1u);
  Advance(millis(100));
  peer_port = 40002;
  ExpectSegment(FIN | ACK, b + 1, kPeerIsn + 1, 511, OurTsOpts());
  ExpectNothing();
  EXPECT_EQ(eng->accept_queue_length(kPort), 0u);
  EXPECT_EQ(Counters().accepted, 2u);
  ExpectInvariants();
}

TEST_F(HandshakeTest, QueuedConnectionTakesDataAndFinBeforeAccept) {
  cfg.listeners[0].accept_rate = 1;
  Start(AppKind::echo);
  const uint32_t a = SynFrom(40001);
  iss = a;
  ts_off = out.back().p.opts.tsval - NowMs();
  out.clear();
  // Segments without timestamps on a connection that has them (Linux takes them too).
  Send({ACK, kPeerIsn + 1, a + 1, 502, NoOpts()});
  Send({ACK | PSH | FIN, kPeerIsn + 1, a + 1, 502, NoOpts(), "ping"});
  // The kernel would ACK data and FIN into the socket's queue; so do we.
  // The echo buffer holds "ping": 4092 bytes free, 31 << 7.
  ExpectSegment(ACK, a + 1, kPeerIsn + 6, 31, OurTsOpts());
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSE_WAIT);  // not yet accepted
  Advance(seconds(1));
  // Accepted: echo sends the data back and closes (the peer's FIN was seen).
  ExpectSegment(FIN | PSH | ACK, a + 1, kPeerIsn + 6, 31, OurTsOpts(), "ping");
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::LAST_ACK);
}

TEST_F(HandshakeTest, AbortOnOverflowOffDropsFinalAckAndRetriesLater) {
  cfg.listeners[0].accept_rate = 1;
  cfg.listeners[0].backlog = 1;  // holds backlog + 1 = 2, as Linux
  Start(AppKind::discard);
  const uint32_t a = SynFrom(40001);
  ts_off = out.back().p.opts.tsval - NowMs();
  const uint32_t b = SynFrom(40002);
  const uint32_t c = SynFrom(40003);
  out.clear();
  peer_port = 40001;
  Send({ACK, kPeerIsn + 1, a + 1, 502, Ts(peer_ts, 0)});
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  peer_port = 40002;
  Send({ACK, kPeerIsn + 1, b + 1, 502, Ts(peer_ts, 0)});
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(eng->accept_queue_length(kPort), 2u);
  peer_port = 40003;
  Send({ACK, kPeerIsn + 1, c + 1, 502, Ts(peer_ts, 0)});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  EXPECT_EQ(Counters().listen_overflows, 1u);
  // One second later the application has taken the first; the SYN-ACK
  // retransmission makes the client ACK again, and now there is room.
  Advance(seconds(1) + millis(5));
  ExpectSegment(SYN | ACK, c, kPeerIsn + 1, 65408, SynAckOpts());
  ExpectNothing();
  EXPECT_EQ(eng->accept_queue_length(kPort), 1u);
  Send({ACK, kPeerIsn + 1, c + 1, 502, Ts(peer_ts, 0)});
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  ExpectInvariants();
}

TEST_F(HandshakeTest, AbortOnOverflowOnResets) {
  cfg.listeners[0].accept_rate = 1;
  cfg.listeners[0].backlog = 1;  // holds backlog + 1 = 2, as Linux
  cfg.tcp.abort_on_overflow = 1;
  Start(AppKind::discard);
  const uint32_t a = SynFrom(40001);
  const uint32_t b = SynFrom(40002);
  const uint32_t c = SynFrom(40003);
  out.clear();
  peer_port = 40001;
  Send({ACK, kPeerIsn + 1, a + 1, 502, Ts(peer_ts, 0)});
  peer_port = 40002;
  Send({ACK, kPeerIsn + 1, b + 1, 502, Ts(peer_ts, 0)});
  ExpectNothing();
  peer_port = 40003;
  Send({ACK, kPeerIsn + 1, c + 1, 502, Ts(peer_ts, 0)});
  iss = c;
  ExpectSegment(RST, c + 1, 0, 0, NoOpts());
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->syn_queue_length(kPort), 0u);
  ExpectInvariants();
}

TEST_F(HandshakeTest, SynQueueFullWithoutCookiesDrops) {
  cfg.tcp.max_syn_backlog = 1;
  cfg.tcp.syncookies = 0;
  Start(AppKind::discard);
  peer_port = 40001;
  SynReceived();
  EXPECT_EQ(SynFrom(40002), 0u);
  ExpectNothing();
  EXPECT_EQ(Drops(DropReason::tcp_syn_queue_full), 1u);
  EXPECT_EQ(Counters().listen_drops, 1u);
}

TEST_F(HandshakeTest, SynCookiesOnSynQueueOverflow) {
  cfg.tcp.max_syn_backlog = 1;
  Start(AppKind::discard);
  const uint32_t a = SynFrom(40001);
  ts_off = out.back().p.opts.tsval - NowMs();
  out.clear();
  // The queue is full: the next SYN gets a cookie and leaves no state.
  peer_port = 40002;
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
  ASSERT_EQ(out.size(), 1u);
  const uint32_t cookie = out.front().p.seq;
  iss = cookie;
  TcpOptions o = LinuxSynOpts(SynCookies::ts_encode(NowMs(), 7, true, false) + ts_off);
  o.tsecr = peer_ts;
  ExpectSegment(SYN | ACK, cookie, kPeerIsn + 1, 65408, o);
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->conn_count(), 1u);
  EXPECT_EQ(Counters().syncookies_sent, 1u);
  // The final ACK echoes the cookie: the connection is created from it.
  Send({ACK, kPeerIsn + 1, cookie + 1, 502, Ts(peer_ts + 1, o.tsval)});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(Counters().syncookies_recv, 1u);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.snd_mss, 1460 - 12);  // from the cookie's MSS index
  EXPECT_EQ(ci.snd_wscale, 7);       // from the TSecr's low bits
  EXPECT_TRUE(ci.sack_ok);
  EXPECT_TRUE(ci.timestamps);
  EXPECT_EQ(ci.snd_wnd, 502u << 7);
  // Data flows on it like on any connection.
  Send({ACK | PSH, kPeerIsn + 1, cookie + 1, 502, Ts(peer_ts + 2, o.tsval), "abc"});
  ExpectSegment(ACK, cookie + 1, kPeerIsn + 4, 511, Ts(OurTs(), peer_ts + 2));
  (void)a;
  ExpectInvariants();
}

TEST_F(HandshakeTest, InvalidCookieGetsRst) {
  cfg.tcp.syncookies = 2;
  Start(AppKind::discard);
  Send({SYN, kPeerIsn, 0, 64240, NoOpts()});
  ASSERT_EQ(out.size(), 1u);
  const uint32_t cookie = out.front().p.seq;
  out.clear();
  // A cookie from another minute counter (the top 8 bits): invalid.
  const uint32_t forged = cookie + 0x40000000u;
  Send({ACK, kPeerIsn + 1, forged + 1, 502, NoOpts()});
  iss = cookie;
  ExpectSegment(RST, forged + 1, 0, 0, NoOpts());
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(Counters().syncookies_failed, 1u);
}

TEST_F(HandshakeTest, AlwaysCookiesWithoutTimestampsCarryOnlyMss) {
  cfg.tcp.syncookies = 2;
  Start(AppKind::discard);
  TcpOptions syn{};
  syn.has_mss = true;
  syn.mss = 1400;
  syn.has_wscale = true;
  syn.wscale = 7;
  syn.sack_permitted = true;
  Send({SYN, kPeerIsn, 0, 64240, syn});
  ASSERT_EQ(out.size(), 1u);
  const uint32_t cookie = out.front().p.seq;
  iss = cookie;
  TcpOptions mss{};
  mss.has_mss = true;
  mss.mss = 1460;
  ExpectSegment(SYN | ACK, cookie, kPeerIsn + 1, 65408, mss);
  EXPECT_EQ(eng->conn_count(), 0u);
  Send({ACK, kPeerIsn + 1, cookie + 1, 1000, NoOpts()});
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.snd_mss, 1300);  // the largest table entry <= 1400
  EXPECT_EQ(ci.snd_wscale, 0);  // lost without timestamps, as Linux
  EXPECT_FALSE(ci.sack_ok);
}

TEST_F(HandshakeTest, CookiesExpire) {
  cfg.tcp.syncookies = 2;
  Start(AppKind::discard);
  Send({SYN, kPeerIsn, 0, 64240, NoOpts()});
  ASSERT_EQ(out.size(), 1u);
  const uint32_t cookie = out.front().p.seq;
  out.clear();
  Advance(seconds(181));
  Send({ACK, kPeerIsn + 1, cookie + 1, 502, NoOpts()});
  iss = cookie;
  ExpectSegment(RST, cookie + 1, 0, 0, NoOpts());
  EXPECT_EQ(State(), TcpState::CLOSED);
}

TEST_F(HandshakeTest, AckToListenerWithoutCookieGetsRst) {
  Start(AppKind::discard);
  Send({ACK, kPeerIsn, 777, 502, NoOpts()});
  ExpectSegment(RST, 777, 0, 0, NoOpts());
  EXPECT_EQ(Drops(DropReason::tcp_listen_ack), 1u);
}

TEST_F(HandshakeTest, RstToListenerIsIgnored) {
  Start(AppKind::discard);
  Send({RST, kPeerIsn, 0, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(Drops(DropReason::tcp_listen_rst), 1u);
}

TEST_F(HandshakeTest, ClosedPortGetsRstPerRfc9293) {
  Start(AppKind::discard);
  // Without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
  std::vector<uint8_t> f;
  TcpSegmentSpec spec;  // to port 81: no listener
  spec.eth_src = kPeerMac;
  spec.eth_dst = kOurMac;
  spec.ip_src = kPeerIp;
  spec.ip_dst = kOurIp;
  spec.sport = kPeerPort;
  spec.dport = 81;
  spec.seq = kPeerIsn;
  spec.flags = SYN;
  spec.window = 100;
  f.assign(256, 0);
  f.resize(build_tcp_frame(f.data(), f.size(), spec));
  SendFrame(f);
  our_port = 81;  // ExpectSegment checks the ports too
  ExpectSegment(RST | ACK, 0, kPeerIsn + 1, 0, NoOpts());
  // With ACK: <SEQ=SEG.ACK><CTL=RST>; data counts in SEG.LEN.
  spec.flags = ACK | PSH;
  spec.ack = 4242;
  const uint8_t data[3] = {1, 2, 3};
  spec.payload = data;
  spec.payload_len = 3;
  f.assign(256, 0);
  f.resize(build_tcp_frame(f.data(), f.size(), spec));
  SendFrame(f);
  ExpectSegment(RST, 4242, 0, 0, NoOpts());
  // An RST is never answered.
  spec.flags = RST;
  spec.payload_len = 0;
  f.assign(256, 0);
  f.resize(build_tcp_frame(f.data(), f.size(), spec));
  SendFrame(f);
  ExpectNothing();
  EXPECT_EQ(Drops(DropReason::tcp_no_socket), 3u);
}

TEST_F(HandshakeTest, FlowTableFullFallsBackToCookiesOrDrops) {
  cfg.engine.max_connections = 1;
  Start(AppKind::discard);
  peer_port = 40001;
  SynReceived();
  // Answered with a cookie: its TSval carries wscale 7 and SACK (cookie_init_timestamp).
  const uint32_t cookie = SynFrom(40002);
  TcpOptions o = LinuxSynOpts(SynCookies::ts_encode(NowMs(), 7, true, false) + ts_off);
  o.tsecr = peer_ts;
  ExpectSegment(SYN | ACK, cookie, kPeerIsn + 1, 65408, o);
  ExpectNothing();
  EXPECT_EQ(Counters().flow_table_full, 1u);
  EXPECT_EQ(Counters().syncookies_sent, 1u);
  EXPECT_EQ(eng->conn_count(), 1u);
}

TEST_F(HandshakeTest, FlowTableFullWithoutCookiesDrops) {
  cfg.engine.max_connections = 1;
  cfg.tcp.syncookies = 0;
  Start(AppKind::discard);
  peer_port = 40001;
  SynReceived();
  EXPECT_EQ(SynFrom(40002), 0u);
  ExpectNothing();
  EXPECT_EQ(Drops(DropReason::tcp_flow_table_full), 1u);
}

TEST_F(HandshakeTest, IsnDiffersPerTupleAndAdvancesWithTheClock) {
  Start(AppKind::discard);
  const uint32_t a = SynFrom(40001);
  const uint32_t b = SynFrom(40002);
  EXPECT_NE(a, b);
  out.clear();
  // Same tuple later (after the half-open one is gone): M advanced by 4 us ticks.
  peer_port = 40001;
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});
  Advance(millis(4));
  const uint32_t a2 = SynFrom(40001);
  EXPECT_EQ(a2 - a, 1000u);  // 4 ms / 4 us
}

}  // namespace
}  // namespace tcpterm::tcp_test
