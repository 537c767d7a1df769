// Fixtures for the closing states, each built from the previous one
// (smoltcp's socket_fin_wait_2() calls socket_fin_wait_1()), shared by
// close_test.cc and state_matrix_test.cc. Every fixture checks the exact
// segments that lead into its state.
#pragma once

#include "tests/engine/tcp/tcp_test_util.h"

namespace tcpterm::tcp_test {

class CloseStatesTest : public TcpTest {
 protected:
  // close application: our FIN right after the handshake.
  void FinWait1() {
    Start(AppKind::close);
    Established();
    ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
    ASSERT_EQ(State(), TcpState::FIN_WAIT_1);
  }
  void FinWait2() {
    FinWait1();
    Send({ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
    ExpectNothing();
    ASSERT_EQ(State(), TcpState::FIN_WAIT_2);
  }
  void TimeWait() {
    FinWait2();
    Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
    ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
    ASSERT_EQ(State(), TcpState::TIME_WAIT);
  }
  // Simultaneous close: their FIN crosses ours (it does not ack our FIN).
  void Closing() {
    FinWait1();
    Send({FIN | ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
    ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
    ASSERT_EQ(State(), TcpState::CLOSING);
  }
  // discard application: passive close.
  void LastAck() {
    Start(AppKind::discard);
    Established();
    Send({FIN | ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
    ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts());
    ASSERT_EQ(State(), TcpState::LAST_ACK);
  }
  // The application has not accepted the connection yet (it accepts one per
  // second): the FIN leaves it in CLOSE_WAIT until then.
  void CloseWait() {
    cfg.listeners[0].accept_rate = 1;
    Start(AppKind::discard);
    Established();
    Send({FIN | ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
    ExpectSegment(ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts());
    ASSERT_EQ(State(), TcpState::CLOSE_WAIT);
  }
  void ExpectGone() {
    EXPECT_EQ(State(), TcpState::CLOSED);
    EXPECT_EQ(eng->conn_count(), 0u);
    EXPECT_EQ(eng->timers_pending(), 0u);
    EXPECT_EQ(eng->orphan_count(), 0u);
    ExpectInvariants();
  }
};

}  // namespace tcpterm::tcp_test
