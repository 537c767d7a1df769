// Active open (SYN_SENT), simultaneous open, and the client side's close.
#include "tests/engine/tcp/tcp_test_util.h"

namespace tcpterm::tcp_test {
namespace {

class ActiveTest : public TcpTest {
 protected:
  static constexpr uint16_t kServerPort = 8080;
  const std::string request = "GET / HTTP/1.1\r\nHost: s\r\n\r\n";

  // connect() to the peer's port 8080: our SYN.
  void SynSent(AppKind app = AppKind::discard, bool with_request = false) {
    cfg.listeners.clear();
    Start();
    peer_port = kServerPort;
    ConnectOptions o;
    o.app = app;
    if (with_request) {
      o.request = reinterpret_cast<const uint8_t*>(request.data());
      o.request_len = static_cast<uint32_t>(request.size());
    }
    TxFrames tx = Tx();
    ASSERT_EQ(eng->connect(kPeerIp, kServerPort, 0, kPeerMac, o, now, tx), ConnectResult::ok);
    Collect(tx);
    TakeOurSyn();
    EXPECT_GE(our_port, 32768);
    EXPECT_LE(our_port, 60999);
  }
  TcpOptions PeerSynAck() {
    TcpOptions o = LinuxSynOpts(++peer_ts);
    o.tsecr = OurTs();
    return o;
  }
};

TEST_F(ActiveTest, SynAckCompletesTheHandshake) {
  SynSent();
  Send({SYN | ACK, kPeerIsn, iss + 1, 65160, PeerSynAck()});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.snd_wnd, 65160u);  // a SYN's window is not scaled
  EXPECT_EQ(ci.snd_wscale, 7);
  EXPECT_EQ(Counters().active_opens, 1u);
  ExpectInvariants();
}

TEST_F(ActiveTest, RequestRidesOnTheThirdSegment) {
  SynSent(AppKind::discard, true);
  Send({SYN | ACK, kPeerIsn, iss + 1, 65160, PeerSynAck()});
  ExpectSegment(PSH | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts(), request);
  ExpectNothing();
}

TEST_F(ActiveTest, ActiveCloseAfterTheHandshake) {
  SynSent(AppKind::close);
  Send({SYN | ACK, kPeerIsn, iss + 1, 65160, PeerSynAck()});
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
  Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
}

TEST_F(ActiveTest, SynAckWithWrongAckGetsRst) {
  SynSent();
  Send({SYN | ACK, kPeerIsn, iss + 5, 65160, PeerSynAck()});
  ExpectSegment(RST, iss + 5, 0, 0, NoOpts());
  EXPECT_EQ(State(), TcpState::SYN_SENT);
}

TEST_F(ActiveTest, RstWithAcceptableAckRefuses) {
  SynSent();
  Send({RST | ACK, 0, iss + 1, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(Counters().attempt_fails, 1u);
  EXPECT_EQ(eng->timers_pending(), 0u);
  ExpectInvariants();
}

TEST_F(ActiveTest, RstWithoutAckIsIgnored) {
  SynSent();
  Send({RST, kPeerIsn, 0, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::SYN_SENT);
}

TEST_F(ActiveTest, SynRetransmittedThenGivenUp) {
  cfg.tcp.syn_retries = 2;
  SynSent();
  Advance(seconds(1) + millis(5));
  ExpectSegment(SYN, iss, 0, 65408, LinuxSynOpts(OurTs()));
  Advance(seconds(2) + millis(5));
  ExpectSegment(SYN, iss, 0, 65408, LinuxSynOpts(OurTs()));
  Advance(seconds(4) + millis(5));
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(Counters().abort_on_timeout, 1u);
  ExpectInvariants();
}

TEST_F(ActiveTest, DuplicateSynAckAfterEstablishedIsAcked) {
  SynSent();
  Send({SYN | ACK, kPeerIsn, iss + 1, 65160, PeerSynAck()});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  // Our ACK was lost: the SYN-ACK comes again; the challenge ACK is that ACK.
  Send({SYN | ACK, kPeerIsn, iss + 1, 65160, Ts(peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
}

TEST_F(ActiveTest, SimultaneousOpen) {
  SynSent();
  // The peer's SYN crosses ours: SYN_RECEIVED, answer with SYN-ACK (RFC 9293 figure 7).
  Send({SYN, kPeerIsn, 0, 65160, LinuxSynOpts(++peer_ts)});
  TcpOptions o = LinuxSynOpts(OurTs());
  o.tsecr = peer_ts;
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, o);
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  // Its SYN-ACK (to our SYN) completes the handshake at once and is ACKed, as
  // Linux (tcp_validate_incoming lets it through since 6.10, tcp_data_queue
  // ACKs it since 6.11): no round trip lost.
  Send({SYN | ACK, kPeerIsn, iss + 1, 65160, PeerSynAck()});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  // A peer that also sends the ACK of our SYN-ACK gets nothing either.
  Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  ExpectNothing();
  ExpectInvariants();
}

TEST_F(ActiveTest, ConnectRefusesABusyTuple) {
  SynSent();
  ConnectOptions o;
  TxFrames tx = Tx();
  EXPECT_EQ(eng->connect(kPeerIp, kServerPort, our_port, kPeerMac, o, now, tx), ConnectResult::tuple_in_use);
  // An ephemeral port is chosen anew.
  EXPECT_EQ(eng->connect(kPeerIp, kServerPort, 0, kPeerMac, o, now, tx), ConnectResult::ok);
  Collect(tx);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out.front().p.sport, our_port);
  out.clear();
}

}  // namespace
}  // namespace tcpterm::tcp_test
