// The closing states (fixtures in close_states.h, each built from the previous
// one). For every state: its normal exits, an RST in it, a SYN in it, a
// duplicate of the last segment, its timer (state_matrix_test.cc has the map).
#include <cstring>

#include "engine/tcp/http.h"
#include "tests/engine/tcp/close_states.h"

namespace tcpterm::tcp_test {
namespace {

class CloseTest : public CloseStatesTest {};

// ---- FIN_WAIT_1
TEST_F(CloseTest, FinWait1AckOfFinGoesToFinWait2) { FinWait2(); }

TEST_F(CloseTest, FinWait1FinAndAckTogetherGoToTimeWait) {
  FinWait1();
  Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  EXPECT_EQ(eng->stats().transition_count(TcpState::FIN_WAIT_1, TcpState::FIN_WAIT_2), 1u);
  EXPECT_EQ(eng->stats().transition_count(TcpState::FIN_WAIT_2, TcpState::TIME_WAIT), 1u);
}

TEST_F(CloseTest, FinWait1FinWithoutAckGoesToClosing) { Closing(); }

TEST_F(CloseTest, FinWait1ExactRstCloses) {
  FinWait1();
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});
  ExpectNothing();
  ExpectGone();
}

TEST_F(CloseTest, FinWait1InWindowRstGetsChallengeAck) {
  FinWait1();
  Send({RST, kPeerIsn + 1000, 0, 0, NoOpts()});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
}

TEST_F(CloseTest, FinWait1SynGetsChallengeAck) {
  FinWait1();
  Send({SYN, kPeerIsn + 10, 0, 64240, LinuxSynOpts(peer_ts + 1)});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
  EXPECT_EQ(Counters().challenge_acks, 1u);
}

TEST_F(CloseTest, FinWait1DuplicateOfLastSegmentIsSilent) {
  FinWait1();
  Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(peer_ts, OurTs())});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
}

TEST_F(CloseTest, FinWait1FinRetransmittedThenOrphanGivesUpWithRst) {
  FinWait1();
  // RTO: 200 ms (Linux's minimum; the handshake RTT was 0), doubling, and
  // orphan_retries = 0 means 8 retransmissions, then RST.
  Nanos rto = millis(200);
  for (int i = 0; i < 8; ++i) {
    Advance(rto - millis(3));
    ExpectNothing();
    Advance(millis(6));
    ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
    rto *= 2;
  }
  Advance(rto + millis(6));
  ExpectSegment(RST | ACK, iss + 2, kPeerIsn + 1, 511, OurTsOpts());
  ExpectGone();
  EXPECT_EQ(Counters().abort_on_timeout, 1u);
  EXPECT_EQ(Counters().retrans_segs, 8u);
}

TEST_F(CloseTest, OrphanRetriesKnob) {
  cfg.tcp.orphan_retries = 2;
  FinWait1();
  Advance(millis(203));
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  Advance(millis(403));
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  Advance(millis(803));
  ExpectSegment(RST | ACK, iss + 2, kPeerIsn + 1, 511, OurTsOpts());
  ExpectGone();
}

TEST_F(CloseTest, DataAfterCloseIsAnsweredWithRst) {
  FinWait1();
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), "late"});
  ExpectSegment(RST, iss + 1, 0, 0, NoOpts());
  ExpectGone();
  EXPECT_EQ(Counters().abort_on_data, 1u);
}

// ---- FIN_WAIT_2
TEST_F(CloseTest, FinWait2FinGoesToTimeWait) { TimeWait(); }

TEST_F(CloseTest, FinWait2ExactRstCloses) {
  FinWait2();
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});
  ExpectNothing();
  ExpectGone();
}

TEST_F(CloseTest, FinWait2SynGetsChallengeAck) {
  FinWait2();
  Send({SYN, kPeerIsn + 1, 0, 64240, LinuxSynOpts(peer_ts + 1)});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::FIN_WAIT_2);
}

TEST_F(CloseTest, FinWait2DuplicateAckIsSilent) {
  FinWait2();
  Send({ACK, kPeerIsn + 1, iss + 2, 502, Ts(peer_ts, OurTs())});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::FIN_WAIT_2);
}

TEST_F(CloseTest, FinWait2OrphanEndsAfterFinTimeout) {
  cfg.tcp.fin_timeout = 10;
  FinWait2();
  Advance(seconds(10) - millis(5));
  EXPECT_EQ(State(), TcpState::FIN_WAIT_2);
  Advance(millis(10));
  ExpectNothing();  // silently, as Linux's FIN_WAIT2 timewait sock expires
  ExpectGone();
  EXPECT_EQ(Counters().fin_wait2_timeouts, 1u);
}

// ---- CLOSING
TEST_F(CloseTest, ClosingAckOfFinGoesToTimeWait) {
  Closing();
  Send({ACK, kPeerIsn + 2, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  EXPECT_EQ(eng->stats().transition_count(TcpState::CLOSING, TcpState::TIME_WAIT), 1u);
  EXPECT_EQ(eng->orphan_count(), 0u);
  ExpectInvariants();
}

TEST_F(CloseTest, ClosingExactRstCloses) {
  Closing();
  Send({RST, kPeerIsn + 2, 0, 0, NoOpts()});
  ExpectGone();
}

TEST_F(CloseTest, ClosingRstAtFinSequenceIsAcceptedLikeLinux) {
  Closing();
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});  // rcv_nxt - 1 (tcp_reset_check)
  ExpectGone();
}

TEST_F(CloseTest, ClosingSynGetsChallengeAck) {
  Closing();
  Send({SYN, kPeerIsn + 5, 0, 64240, LinuxSynOpts(peer_ts + 1)});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::CLOSING);
}

TEST_F(CloseTest, ClosingDuplicateFinIsAcked) {
  Closing();
  Send({FIN | ACK, kPeerIsn + 1, iss + 1, 502, Ts(peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::CLOSING);
}

TEST_F(CloseTest, ClosingRetransmitsFin) {
  Closing();
  Advance(millis(206));
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::CLOSING);
}

// ---- LAST_ACK
TEST_F(CloseTest, LastAckAckOfFinCloses) {
  LastAck();
  Send({ACK, kPeerIsn + 2, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  ExpectGone();
}

TEST_F(CloseTest, LastAckExactRstCloses) {
  LastAck();
  Send({RST, kPeerIsn + 2, 0, 0, NoOpts()});
  ExpectGone();
}

TEST_F(CloseTest, LastAckSynGetsChallengeAck) {
  LastAck();
  Send({SYN, kPeerIsn + 2, 0, 64240, LinuxSynOpts(peer_ts + 1)});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::LAST_ACK);
}

TEST_F(CloseTest, LastAckDuplicateFinIsAcked) {
  LastAck();
  Send({FIN | ACK, kPeerIsn + 1, iss + 1, 502, Ts(peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::LAST_ACK);
}

// Linux tcp_oow_rate_limited exempts segments with seq != end_seq: a FIN
// retransmitted twice within invalid_ratelimit is re-ACKed both times.
TEST_F(CloseTest, LastAckAndClosingFinRetransmissionsAreNotRateLimited) {
  for (const TcpState st : {TcpState::LAST_ACK, TcpState::CLOSING}) {
    SCOPED_TRACE(std::string(state_name(st)));
    peer_port = static_cast<uint16_t>(peer_port + 1);  // a fresh connection for each state
    if (st == TcpState::LAST_ACK) LastAck(); else Closing();
    const uint64_t limited = Counters().oow_acks_limited;
    for (int i = 0; i < 2; ++i) {
      if (i != 0) {
        Advance(millis(100));
        ExpectNothing();
      }
      Send({FIN | ACK, kPeerIsn + 1, iss + 1, 502, Ts(peer_ts, OurTs())});
      ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
    }
    EXPECT_EQ(State(), st);
    EXPECT_EQ(Counters().oow_acks_limited, limited);
  }
}

// A spoofed out-of-window frame is answered to its sender, but does not
// redirect the timer-driven frames (the FIN retransmission).
TEST_F(CloseTest, OutOfWindowFrameDoesNotChangeTheRememberedMac) {
  FinWait1();
  std::vector<uint8_t> f = Frame({ACK, kPeerIsn + 1 + 100000, iss + 1, 502, Ts(++peer_ts, OurTs())});
  const MacAddr spoof{{0x02, 0, 0, 0, 0, 0x66}};
  std::memcpy(f.data() + 6, spoof.b.data(), 6);  // Ethernet source
  SendFrame(f);
  // The reply goes to the sender; its TSval is not recorded (out of window).
  ExpectSegment(ACK, iss + 2, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts - 1), "", spoof);
  Advance(millis(206));
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts - 1));  // to kPeerMac
}

TEST_F(CloseTest, LastAckRetransmitsFinThenGivesUp) {
  cfg.tcp.orphan_retries = 1;
  LastAck();
  Advance(millis(206));
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts());
  Advance(millis(406));
  ExpectSegment(RST | ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  ExpectGone();
}

// ---- CLOSE_WAIT
TEST_F(CloseTest, CloseWaitAppCloseGoesToLastAck) {
  CloseWait();
  Advance(seconds(1));  // the application accepts, sees EOF and closes
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::LAST_ACK);
}

TEST_F(CloseTest, CloseWaitExactRstCloses) {
  CloseWait();
  Send({RST, kPeerIsn + 2, 0, 0, NoOpts()});
  ExpectGone();
  EXPECT_EQ(eng->accept_queue_length(kPort), 0u);
  EXPECT_EQ(Counters().estab_resets, 1u);
}

TEST_F(CloseTest, CloseWaitSynGetsChallengeAck) {
  CloseWait();
  Send({SYN, kPeerIsn + 2, 0, 64240, LinuxSynOpts(peer_ts + 1)});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::CLOSE_WAIT);
  EXPECT_EQ(Counters().challenge_acks, 1u);
  EXPECT_EQ(Drops(DropReason::tcp_syn_in_window), 1u);
}

TEST_F(CloseTest, CloseWaitDuplicateFinIsAcked) {
  CloseWait();
  Send({FIN | ACK, kPeerIsn + 1, iss + 1, 502, Ts(peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::CLOSE_WAIT);
}

// ---- shutdown(SHUT_WR): our half-close; we still read
TEST_F(CloseTest, ShutdownHalfClosesAndKeepsReading) {
  Start(AppKind::discard);
  Established();
  TxFrames tx = Tx();
  ASSERT_TRUE(eng->shutdown(Key(), now, tx));
  Collect(tx);
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
  EXPECT_EQ(eng->orphan_count(), 0u);
  Send({ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
  EXPECT_EQ(State(), TcpState::FIN_WAIT_2);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.timer, TimerKind::none);  // not an orphan: no fin_timeout
  // The peer keeps sending: data is taken and acknowledged (no RST).
  Send({ACK | PSH, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs()), "more"});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 5, 511, OurTsOpts());
  Advance(seconds(120));
  EXPECT_EQ(State(), TcpState::FIN_WAIT_2);
  Send({FIN | ACK, kPeerIsn + 5, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 6, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  ExpectInvariants();
}

TEST_F(CloseTest, AbortSendsRstAndForgets) {
  Start(AppKind::discard);
  Established();
  TxFrames tx = Tx();
  ASSERT_TRUE(eng->abort(Key(), now, tx));
  Collect(tx);
  ExpectSegment(RST | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  ExpectGone();
  TxFrames tx2 = Tx();
  EXPECT_FALSE(eng->close(Key(), now, tx2));
}

TEST_F(CloseTest, RepliesFollowTheSendersMacTimersTheRemembered) {
  Start(AppKind::close);
  SynReceived();
  // The final ACK comes through another router (MAC): the FIN goes there.
  std::vector<uint8_t> f = Frame({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
  const MacAddr other{{0x02, 0, 0, 0, 0, 0x99}};
  std::copy(other.b.begin(), other.b.end(), f.begin() + 6);
  SendFrame(f);
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts(), "", other);
  Advance(millis(210));  // the FIN's retransmission: to the MAC remembered
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts(), "", other);
  ExpectNothing();
}

// ---- TIME_WAIT
TEST_F(CloseTest, TimeWaitExpiresAfterTwoMsl) {
  TimeWait();
  Advance(seconds(60) - millis(1));
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  Advance(millis(1));
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->time_wait_count(), 0u);
  ExpectInvariants();
}

TEST_F(CloseTest, TimeWaitRetransmittedFinIsAckedAndRestarts) {
  TimeWait();
  Advance(seconds(30));
  // Out of window (seq = rcv_nxt - 1): its TSval is not recorded.
  Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(peer_ts + 1, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(Counters().time_wait_restarts, 1u);
  Advance(seconds(60) - millis(1));
  EXPECT_EQ(State(), TcpState::TIME_WAIT);  // 90 s after entering: restarted at 30 s
  Advance(millis(1));
  EXPECT_EQ(State(), TcpState::CLOSED);
}

TEST_F(CloseTest, TimeWaitRstKillsIt) {
  TimeWait();
  Send({RST, kPeerIsn + 2, 0, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(Counters().time_wait_killed, 1u);
  ExpectInvariants();
}

TEST_F(CloseTest, TimeWaitRfc1337IgnoresRst) {
  cfg.tcp.rfc1337 = 1;
  TimeWait();
  Send({RST, kPeerIsn + 2, 0, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  Advance(seconds(60));
  EXPECT_EQ(State(), TcpState::CLOSED);
}

TEST_F(CloseTest, TimeWaitNewerSynOpensANewConnection) {
  TimeWait();
  Advance(seconds(1));
  // RFC 6191 / Linux TCP_TW_SYN: newer sequence number: accepted, our ISN is
  // the old snd_nxt + 65537.
  Send({SYN, kPeerIsn + 100000, 0, 64240, LinuxSynOpts(++peer_ts)});
  const uint32_t new_iss = iss + 2 + 65537;
  TcpOptions o = LinuxSynOpts(OurTs());
  o.tsecr = peer_ts;
  ExpectSegment(SYN | ACK, new_iss, kPeerIsn + 100001, 65408, o);
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  EXPECT_EQ(Counters().time_wait_recycled, 1u);
  EXPECT_EQ(eng->time_wait_count(), 0u);
  ExpectInvariants();
}

TEST_F(CloseTest, TimeWaitSynWithNewerTimestampButOldSeqIsAccepted) {
  TimeWait();
  Send({SYN, kPeerIsn - 5000, 0, 64240, LinuxSynOpts(peer_ts + 1000)});
  TcpOptions o = LinuxSynOpts(OurTs());
  o.tsecr = peer_ts + 1000;
  ExpectSegment(SYN | ACK, iss + 2 + 65537, kPeerIsn - 4999, 65408, o);
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
}

TEST_F(CloseTest, TimeWaitOldSynIsAnsweredWithAck) {
  TimeWait();
  // Old timestamp (PAWS) and old sequence: not a new incarnation.
  Send({SYN, kPeerIsn - 5000, 0, 64240, LinuxSynOpts(peer_ts - 10)});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
}

TEST_F(CloseTest, TimeWaitSynWithoutTimestampNeedsNewerSequence) {
  TimeWait();
  Send({SYN, kPeerIsn, 0, 64240, NoOpts()});  // older than rcv_nxt
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
}

TEST_F(CloseTest, TimeWaitDuplicateAckIsSilentAndRestarts) {
  TimeWait();
  Advance(seconds(10));
  Send({ACK, kPeerIsn + 2, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  Advance(seconds(60) - millis(1));
  EXPECT_EQ(State(), TcpState::TIME_WAIT);  // Linux reschedules on an in-window ACK
  Advance(millis(1));
  EXPECT_EQ(State(), TcpState::CLOSED);
}

TEST_F(CloseTest, TimeWaitPawsRejectsOldTimestamp) {
  TimeWait();
  Send({ACK, kPeerIsn + 2, iss + 2, 502, Ts(peer_ts - 100, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
}

TEST_F(CloseTest, MaxTwBucketsClosesWithoutTimeWait) {
  cfg.tcp.max_tw_buckets = 0;
  FinWait2();
  Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(Counters().tw_overflow, 1u);
  ExpectGone();
}

TEST_F(CloseTest, MaxOrphansCloseSendsRstInsteadOfFin) {
  cfg.tcp.max_orphans = 0;
  Start(AppKind::close);
  Established();
  ExpectSegment(RST | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  ExpectGone();
  EXPECT_EQ(Counters().orphan_overflow, 1u);
}

TEST_F(CloseTest, MaxOrphansCountsLiveOrphans) {
  cfg.tcp.max_orphans = 1;
  Start(AppKind::close);
  Established();  // orphan 1: FIN
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  peer_port = kPeerPort + 1;
  SynReceived();
  Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(RST | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());  // a second orphan would exceed max_orphans
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->orphan_count(), 1u);
  ExpectInvariants();
}

// The application closes from inside an ACK (the ACK of response 1 lets it
// send the pipelined response 2, then close); past max_orphans that close is
// an RST and the Tcb is destroyed: the ACK's processing must stop there.
TEST_F(CloseTest, MaxOrphansCloseFromInsideAnAckStopsOnTheDestroyedTcb) {
  cfg.tcp.max_orphans = 0;
  Start(AppKind::http);
  Established();
  ExpectNothing();
  const std::string req1 = "GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n";
  const std::string req2 = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
  const std::string r1 = make_http_response(0, true);
  const uint32_t rcv = kPeerIsn + 1 + static_cast<uint32_t>(req1.size() + req2.size());
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), req1 + req2});
  ExpectSegment(PSH | ACK, iss + 1, rcv, 511, OurTsOpts(), r1);
  ExpectNothing();
  const uint32_t una = iss + 1 + static_cast<uint32_t>(r1.size());
  Send({ACK, rcv, una, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(RST | ACK, una, rcv, 511, OurTsOpts());
  ExpectNothing();
  EXPECT_EQ(Counters().orphan_overflow, 1u);
  ExpectGone();
  Advance(seconds(1));  // no timer left on the dead slot
  ExpectNothing();
}

}  // namespace
}  // namespace tcpterm::tcp_test
