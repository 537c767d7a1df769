// The state matrix: for every RFC 9293 state, its normal exits, an RST that
// matches exactly, an RST in the window but not exact (RFC 5961 3.2: challenge
// ACK), a SYN (RFC 5961 4.2: challenge ACK in the synchronized states), a
// duplicate of the last segment, and its timer. Each cell names the test that
// pins it with exact segments out (or with nothing out); the tests marked NEW
// are in this file.
//
// Suites: Passive = passive_test.cc, Handshake = handshake_test.cc, Active =
// active_test.cc, Established = established_test.cc, Close = close_test.cc,
// Matrix = this file.
//
// LISTEN
//   exits        SYN -> SYN_RECEIVED: Passive.HandshakeNegotiatesOfferedOptionsOnly;
//                cookie ACK -> ESTABLISHED: Handshake.SynCookiesOnSynQueueOverflow
//   exact RST    (no sequence state: every RST is ignored, 3.10.7.2)
//                Handshake.RstToListenerIsIgnored
//   in-wnd RST   (no window) NEW Matrix.ListenRstWithAckIsIgnoredNotAnsweredAsAnAck
//   SYN          the normal exit, above; Passive.SynFinToAListenerIsDiscarded
//   duplicate    NEW Matrix.ListenDuplicateSynGetsTheSameCookieAndNoState;
//                Handshake.RetransmittedSynGetsTheSynAckAgain (with a half-open Tcb)
//   timer        (none in LISTEN; what ages is the SYN cookie) Handshake.CookiesExpire,
//                NEW Matrix.CookieIsAcceptedAtTheLastInstantOfItsSecondMinute,
//                NEW Matrix.CookieIsRejectedJustPastItsSecondMinute,
//                NEW Matrix.CookieAfterSynQueueOverflowIsValidToTheSameEdge
// SYN_SENT
//   exits        Active.SynAckCompletesTheHandshake, Active.SimultaneousOpen,
//                Active.RstWithAcceptableAckRefuses
//   exact RST    (an RST whose ACK acks our SYN) Active.RstWithAcceptableAckRefuses
//   in-wnd RST   (3.10.7.3: no ACK, or an unacceptable one: dropped)
//                Active.RstWithoutAckIsIgnored, NEW Matrix.SynSentRstWithUnacceptableAckIsDropped
//   SYN          Active.SimultaneousOpen
//   duplicate    (nothing received yet; the SYN-ACK that ends it, again)
//                Active.DuplicateSynAckAfterEstablishedIsAcked
//   timer        Active.SynRetransmittedThenGivenUp
// SYN_RECEIVED
//   exits        Passive.HandshakeNegotiatesOfferedOptionsOnly, Handshake.ExactRstInSynReceivedReturnsToListen,
//                Handshake.SynAckRetransmittedWithBackoffThenGivenUp
//   exact RST    Handshake.ExactRstInSynReceivedReturnsToListen
//   in-wnd RST   Handshake.InWindowRstInSynReceivedGetsChallengeAck
//   SYN          Handshake.NewSynInSynReceivedReturnsToListen (passive: back to LISTEN)
//   duplicate    Handshake.RetransmittedSynGetsTheSynAckAgain
//   timer        Handshake.SynAckRetransmittedWithBackoffThenGivenUp, Handshake.SynAckRetriesKnob
// ESTABLISHED
//   exits        FIN: Close.CloseWaitAppCloseGoesToLastAck (fixture CloseWait);
//                close(): Passive.CloseAppIsTheActiveCloser; RST: Established.ExactRstResets
//   exact RST    Established.ExactRstResets, Established.PawsLetsAnExactRstThrough
//   in-wnd RST   Established.InWindowRstGetsChallengeAck,
//                Established.RstWithPayloadStartingBeforeRcvNxtGetsChallengeAck
//   SYN          Established.SynGetsChallengeAckRateLimitedPerConnection
//   duplicate    Established.DuplicateDataSegmentIsAckedAgain, Handshake.DuplicateFinalAckIsSilent
//   timer        Established.DataIsRetransmittedWithBackoffUntilAcked,
//                Established.ZeroWindowIsProbedThenDataFlows, Established.KeepaliveProbesThenResets
// FIN_WAIT_1
//   exits        Close.FinWait1AckOfFinGoesToFinWait2, Close.FinWait1FinAndAckTogetherGoToTimeWait,
//                Close.FinWait1FinWithoutAckGoesToClosing
//   exact RST    Close.FinWait1ExactRstCloses
//   in-wnd RST   Close.FinWait1InWindowRstGetsChallengeAck
//   SYN          Close.FinWait1SynGetsChallengeAck
//   duplicate    Close.FinWait1DuplicateOfLastSegmentIsSilent
//   timer        Close.FinWait1FinRetransmittedThenOrphanGivesUpWithRst, Close.OrphanRetriesKnob
// FIN_WAIT_2
//   exits        Close.FinWait2FinGoesToTimeWait, Close.FinWait2OrphanEndsAfterFinTimeout
//   exact RST    Close.FinWait2ExactRstCloses
//   in-wnd RST   NEW Matrix.FinWait2InWindowRstGetsChallengeAck;
//                below the window: NEW Matrix.FinWait2RstBelowRcvNxtIsDropped
//   SYN          Close.FinWait2SynGetsChallengeAck
//   duplicate    Close.FinWait2DuplicateAckIsSilent
//   timer        Close.FinWait2OrphanEndsAfterFinTimeout
// CLOSE_WAIT
//   exits        Close.CloseWaitAppCloseGoesToLastAck
//   exact RST    Close.CloseWaitExactRstCloses,
//                NEW Matrix.CloseWaitRstAtFinSequenceIsAcceptedLikeLinux
//   in-wnd RST   NEW Matrix.CloseWaitInWindowRstGetsChallengeAck
//   SYN          Close.CloseWaitSynGetsChallengeAck
//   duplicate    Close.CloseWaitDuplicateFinIsAcked
//   timer        NEW Matrix.CloseWaitDataIsRetransmittedUntilAcked (no timer of its own: RTO)
// CLOSING
//   exits        Close.ClosingAckOfFinGoesToTimeWait, NEW Matrix.ClosingGivesUpAfterOrphanRetries
//   exact RST    Close.ClosingExactRstCloses, Close.ClosingRstAtFinSequenceIsAcceptedLikeLinux
//   in-wnd RST   NEW Matrix.ClosingInWindowRstGetsChallengeAck
//   SYN          Close.ClosingSynGetsChallengeAck
//   duplicate    Close.ClosingDuplicateFinIsAcked, Close.LastAckAndClosingFinRetransmissionsAreNotRateLimited
//   timer        Close.ClosingRetransmitsFin
// LAST_ACK
//   exits        Close.LastAckAckOfFinCloses, Close.LastAckRetransmitsFinThenGivesUp
//   exact RST    Close.LastAckExactRstCloses,
//                NEW Matrix.LastAckRstAtFinSequenceIsAcceptedLikeLinux
//   in-wnd RST   NEW Matrix.LastAckInWindowRstGetsChallengeAck
//   SYN          Close.LastAckSynGetsChallengeAck
//   duplicate    Close.LastAckDuplicateFinIsAcked, Close.LastAckAndClosingFinRetransmissionsAreNotRateLimited
//   timer        Close.LastAckRetransmitsFinThenGivesUp
// TIME_WAIT
//   exits        Close.TimeWaitExpiresAfterTwoMsl, Close.TimeWaitRstKillsIt,
//                Close.TimeWaitNewerSynOpensANewConnection
//   exact RST    Close.TimeWaitRstKillsIt, Close.TimeWaitRfc1337IgnoresRst
//   in-wnd RST   (Linux tcp_timewait_state_process: dropped, no challenge ACK)
//                NEW Matrix.TimeWaitInWindowRstIsDroppedWithoutRestart
//   SYN          Close.TimeWaitOldSynIsAnsweredWithAck, Close.TimeWaitNewerSynOpensANewConnection,
//                Close.TimeWaitSynWithoutTimestampNeedsNewerSequence
//   duplicate    Close.TimeWaitRetransmittedFinIsAckedAndRestarts, Close.TimeWaitDuplicateAckIsSilentAndRestarts
//   timer        Close.TimeWaitExpiresAfterTwoMsl,
//                NEW Matrix.TimeWaitRestartKeepsEveryRecordsOwnExpiry
//
// 10 states x 6 cells = 60 cells, all covered now. 7 were empty before this
// file: the in-window RST of FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK and
// TIME_WAIT, LISTEN's duplicate, CLOSE_WAIT's timer. 9 were covered in part
// and gain a NEW test: LISTEN's RST (RST|ACK) and timer (the cookie's exact
// edge), SYN_SENT's unacceptable RST, CLOSING's timeout exit, TIME_WAIT's
// timer (three records, one restarted), the RST at RCV.NXT - 1 in CLOSE_WAIT
// and LAST_ACK (and below the window in FIN_WAIT_2 and TIME_WAIT); and
// Close.CloseWaitSynGetsChallengeAck now checks the state and counters.
// Where the engine differs from Linux the test is kept out of the suite and
// written up in FOUND_BUGS.md at the top of the tree: a cookie sent for a full
// flow table (LISTEN), TIME_WAIT's out-of-window ACK rate limit (TIME_WAIT
// duplicate and SYN), a duplicate SYN in simultaneous open (SYN_SENT ->
// SYN_RECEIVED), data overlapping the peer's FIN (CLOSE_WAIT).
#include <array>
#include <string>

#include "engine/tcp/syncookie.h"
#include "tests/engine/tcp/close_states.h"

namespace tcpterm::tcp_test {
namespace {

class StateMatrixTest : public CloseStatesTest {
 protected:
  static constexpr uint16_t kServerPort = 8080;

  // In the state the caller set up: an in-window RST (`flags`, SEG.SEQ
  // kPeerIsn + 1000) gets exactly <SEQ=snd><ACK=rcv><CTL=ACK> and changes nothing;
  // then `between` runs, then the exact RST at rcv (flags RST) ends the connection.
  template <class Between>
  void InWindowRstThenExactRst(uint8_t flags, uint32_t snd, uint32_t rcv, Between between) {
    const TcpState st = State();
    Send({flags, kPeerIsn + 1000, (flags & ACK) ? snd : 0, 0, NoOpts()});
    ExpectSegment(ACK, snd, rcv, 511, OurTsOpts());
    EXPECT_EQ(State(), st);
    EXPECT_EQ(Counters().challenge_acks, 1u);
    EXPECT_EQ(Drops(DropReason::tcp_rst_in_window), 1u);
    between();
    Send({RST, rcv, 0, 0, NoOpts()});
    ExpectNothing();
    ExpectGone();
  }

  // A half-open connection from port 40001 fills what cfg leaves room for
  // (the SYN queue, or the flow table); a SYN from 40002 then gets the exact
  // cookie SYN-ACK (Linux SYN options: wscale 7, SACK). Sets iss and cookie_tsval.
  void CookieSynBehindAHalfOpenOne() {
    Start(AppKind::discard);
    peer_port = 40001;
    SynReceived();
    peer_port = 40002;
    Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
    ASSERT_EQ(out.size(), 1u);
    iss = out.front().p.seq;
    cookie_tsval = SynCookies::ts_encode(NowMs(), 7, true, false) + ts_off;
    TcpOptions o = LinuxSynOpts(cookie_tsval);
    o.tsecr = peer_ts;
    ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, o);
  }

  // connect() to the peer's port 8080 (as active_test.cc's fixture): our SYN.
  void SynSent() {
    cfg.listeners.clear();
    Start();
    peer_port = kServerPort;
    ConnectOptions o;
    o.app = AppKind::discard;
    TxFrames tx = Tx();
    ASSERT_EQ(eng->connect(kPeerIp, kServerPort, 0, kPeerMac, o, now, tx), ConnectResult::ok);
    Collect(tx);
    TakeOurSyn();
  }

  // A fresh engine at `made` with syncookies=2 (always cookies), a Linux SYN,
  // the exact cookie SYN-ACK. Sets iss (the cookie), ts_off, and cookie_tsval
  // (the TSval the final ACK must echo).
  uint32_t cookie_tsval = 0;
  void CookieSynAt(Nanos made) {
    eng.reset();
    out.clear();
    now = made;
    peer_ts = 5000;
    cfg.tcp.syncookies = 2;
    Start(AppKind::discard);
    Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
    ASSERT_EQ(out.size(), 1u);
    iss = out.front().p.seq;
    cookie_tsval = out.front().p.opts.tsval;
    // cookie_init_timestamp: our clock with the options in the low 6 bits
    // (wscale 7, SACK), never ahead of it; that fixes our TS offset.
    ts_off = cookie_tsval - SynCookies::ts_encode(NowMs(), 7, true, false);
    TcpOptions o = LinuxSynOpts(cookie_tsval);
    o.tsecr = peer_ts;
    ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, o);
    ASSERT_EQ(State(), TcpState::CLOSED);
    ASSERT_EQ(eng->conn_count(), 0u);
  }
  void CookieAck() { Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, cookie_tsval)}); }
  // The cookie's ACK at `at` completes the handshake: exact state, options
  // from the cookie, counters, and data is acknowledged exactly.
  void ExpectCookieAccepted(Nanos at) {
    Advance(at - now);
    ASSERT_EQ(now, at);
    CookieAck();
    ExpectNothing();
    EXPECT_EQ(State(), TcpState::ESTABLISHED);
    EXPECT_EQ(Counters().syncookies_recv, 1u);
    EXPECT_EQ(Counters().syncookies_failed, 0u);
    EXPECT_EQ(Drops(DropReason::tcp_bad_cookie), 0u);
    ConnInfo ci;
    ASSERT_TRUE(eng->conn_info(Key(), ci));
    EXPECT_EQ(ci.iss, iss);
    EXPECT_EQ(ci.snd_una, iss + 1);
    EXPECT_EQ(ci.rcv_nxt, kPeerIsn + 1);
    EXPECT_EQ(ci.snd_mss, 1460 - 12);
    EXPECT_EQ(ci.snd_wscale, 7);
    EXPECT_TRUE(ci.sack_ok);
    EXPECT_TRUE(ci.timestamps);
    Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, cookie_tsval), "abc"});
    ExpectSegment(ACK, iss + 1, kPeerIsn + 4, 511, Ts(OurTs(), peer_ts));
    ExpectInvariants();
  }
  // The cookie's ACK at `at` is refused: RST <SEQ=SEG.ACK><CTL=RST>, no state.
  void ExpectCookieRejected(Nanos at) {
    Advance(at - now);
    ASSERT_EQ(now, at);
    CookieAck();
    ExpectSegment(RST, iss + 1, 0, 0, NoOpts());
    EXPECT_EQ(State(), TcpState::CLOSED);
    EXPECT_EQ(eng->conn_count(), 0u);
    EXPECT_EQ(Counters().syncookies_recv, 0u);
    EXPECT_EQ(Counters().syncookies_failed, 1u);
    EXPECT_EQ(Drops(DropReason::tcp_bad_cookie), 1u);
    ExpectInvariants();
  }
};

// ---------------------------------------------------------------- LISTEN

// 3.10.7.2: the RST check comes before the ACK check, so an RST|ACK is
// ignored, not answered with <SEQ=SEG.ACK><CTL=RST> (Linux tcp_rcv_state_process
// LISTEN: "if (th->rst) goto discard" before "if (th->ack) return 1").
TEST_F(StateMatrixTest, ListenRstWithAckIsIgnoredNotAnsweredAsAnAck) {
  Start(AppKind::discard);
  Send({RST | ACK, kPeerIsn, 777, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(Drops(DropReason::tcp_listen_rst), 1u);
  EXPECT_EQ(Drops(DropReason::tcp_listen_ack), 0u);
  EXPECT_EQ(eng->conn_count(), 0u);
  EXPECT_EQ(eng->syn_queue_length(kPort), 0u);
}

// A duplicate SYN while cookies are on gets the very same SYN-ACK (the cookie
// is a function of the tuple, the ISN, the MSS and the minute) and leaves no
// state, as Linux (cookie_v4_init_sequence keeps nothing).
TEST_F(StateMatrixTest, ListenDuplicateSynGetsTheSameCookieAndNoState) {
  CookieSynAt(kStart);
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
  TcpOptions o = LinuxSynOpts(cookie_tsval);
  o.tsecr = peer_ts;
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, o);
  EXPECT_EQ(eng->conn_count(), 0u);
  EXPECT_EQ(eng->syn_queue_length(kPort), 0u);
  EXPECT_EQ(Counters().syncookies_sent, 2u);
  // Either copy's ACK completes the one handshake.
  ExpectCookieAccepted(now);
}

// Linux check_tcp_syn_cookie: valid while (count - cookie count) mod 2^8 <
// MAX_SYNCOOKIE_AGE (2) of the TCP_SYNCOOKIE_PERIOD (60 s) counter
// (syncookie.h). A cookie made in minute m (here minute 16, [960 s, 1020 s))
// is valid up to the last instant of minute m + 1, 1080 s - 1 ns, however
// late in minute m it was made; one made in minute 17 lives to 1140 s - 1 ns.
TEST_F(StateMatrixTest, CookieIsAcceptedAtTheLastInstantOfItsSecondMinute) {
  struct Case {
    Nanos made, last;
  };
  const Case cases[] = {{seconds(960), seconds(1080) - 1},
                        {seconds(1000), seconds(1080) - 1},
                        {seconds(1020) - 1, seconds(1080) - 1},
                        {seconds(1020), seconds(1140) - 1}};
  for (const Case& c : cases) {
    SCOPED_TRACE("made at " + std::to_string(c.made) + " ns");
    CookieSynAt(c.made);
    ExpectCookieAccepted(c.last);
  }
}

TEST_F(StateMatrixTest, CookieIsRejectedJustPastItsSecondMinute) {
  struct Case {
    Nanos made, first_invalid;
  };
  const Case cases[] = {{seconds(960), seconds(1080)},
                        {seconds(1000), seconds(1080)},
                        {seconds(1020) - 1, seconds(1080)},
                        {seconds(1020), seconds(1140)}};
  for (const Case& c : cases) {
    SCOPED_TRACE("made at " + std::to_string(c.made) + " ns");
    CookieSynAt(c.made);
    ExpectCookieRejected(c.first_invalid);
  }
}

// With syncookies=1 the final ACK is checked as a cookie only while the SYN
// queue overflowed in the last two minutes (Linux tcp_synq_no_recent_overflow);
// a cookie made at the overflow is still bounded by its own two minutes.
TEST_F(StateMatrixTest, CookieAfterSynQueueOverflowIsValidToTheSameEdge) {
  for (const bool past : {false, true}) {
    SCOPED_TRACE(past ? "just past the edge" : "at the last instant");
    eng.reset();
    out.clear();
    now = seconds(960);  // the start of minute 16
    peer_ts = 5000;
    cfg.tcp.max_syn_backlog = 1;
    cfg.tcp.synack_retries = 0;  // the half-open one leaves silently after 1 s
    CookieSynBehindAHalfOpenOne();
    EXPECT_EQ(Counters().syncookies_sent, 1u);
    Advance(seconds(1) + millis(5));
    ExpectNothing();
    ASSERT_EQ(eng->conn_count(), 0u);
    ASSERT_EQ(Counters().synack_timeouts, 1u);
    if (past) {
      Advance(seconds(1080) - now);
      CookieAck();
      ExpectSegment(RST, iss + 1, 0, 0, NoOpts());
      EXPECT_EQ(State(), TcpState::CLOSED);
      EXPECT_EQ(eng->conn_count(), 0u);
      EXPECT_EQ(Counters().syncookies_recv, 0u);
    } else {
      ExpectCookieAccepted(seconds(1080) - 1);
    }
  }
}

// ---------------------------------------------------------------- SYN_SENT

// 3.10.7.3 first check the ACK bit: SEG.ACK =< ISS or > SND.NXT is
// unacceptable, and with RST set the segment is dropped (no RST for an RST);
// the SYN keeps its retransmission timer.
TEST_F(StateMatrixTest, SynSentRstWithUnacceptableAckIsDropped) {
  SynSent();
  Send({RST | ACK, 0, iss + 5, 0, NoOpts()});
  ExpectNothing();
  Send({RST | ACK, 0, iss, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::SYN_SENT);
  EXPECT_EQ(Drops(DropReason::tcp_bad_ack), 2u);
  EXPECT_EQ(Counters().attempt_fails, 0u);
  Advance(seconds(1) - millis(3));
  ExpectNothing();
  Advance(millis(6));
  ExpectSegment(SYN, iss, 0, 65408, LinuxSynOpts(OurTs()));
  EXPECT_EQ(State(), TcpState::SYN_SENT);
}

// ---------------------------------------------------------------- in-window RSTs
// RFC 5961 3.2 (Linux tcp_validate_incoming -> tcp_send_challenge_ack): an RST
// in the window but not at RCV.NXT gets <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>,
// the state stays; the exact RST that answers the challenge then resets.

TEST_F(StateMatrixTest, FinWait2InWindowRstGetsChallengeAck) {
  FinWait2();
  InWindowRstThenExactRst(RST, iss + 2, kPeerIsn + 1, [] {});
}

TEST_F(StateMatrixTest, CloseWaitInWindowRstGetsChallengeAck) {
  CloseWait();
  InWindowRstThenExactRst(RST, iss + 1, kPeerIsn + 2, [&] {
    EXPECT_EQ(Counters().estab_resets, 0u);
    EXPECT_EQ(eng->accept_queue_length(kPort), 1u);  // still waiting for the application
  });
  EXPECT_EQ(eng->accept_queue_length(kPort), 0u);
}

TEST_F(StateMatrixTest, ClosingInWindowRstGetsChallengeAck) {
  Closing();
  InWindowRstThenExactRst(RST, iss + 2, kPeerIsn + 2, [] {});
}

TEST_F(StateMatrixTest, LastAckInWindowRstGetsChallengeAck) {
  LastAck();
  InWindowRstThenExactRst(RST | ACK, iss + 2, kPeerIsn + 2, [] {});
}

// Linux tcp_reset_check: after the peer's FIN (CLOSE_WAIT, LAST_ACK, CLOSING)
// an RST at RCV.NXT - 1 is taken as exact: the peer may have sent it before
// it saw our ACK of its FIN. Not in FIN_WAIT_2, where RCV.NXT - 1 is simply
// below the window: dropped without an answer.
TEST_F(StateMatrixTest, CloseWaitRstAtFinSequenceIsAcceptedLikeLinux) {
  CloseWait();
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});
  ExpectNothing();
  ExpectGone();
  EXPECT_EQ(Counters().estab_resets, 1u);
  EXPECT_EQ(eng->accept_queue_length(kPort), 0u);
}

TEST_F(StateMatrixTest, LastAckRstAtFinSequenceIsAcceptedLikeLinux) {
  LastAck();
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});
  ExpectNothing();
  ExpectGone();
  EXPECT_EQ(Counters().rsts_received, 1u);
}

TEST_F(StateMatrixTest, FinWait2RstBelowRcvNxtIsDropped) {
  FinWait2();
  Send({RST, kPeerIsn, 0, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::FIN_WAIT_2);
  EXPECT_EQ(Drops(DropReason::tcp_rst_out_of_window), 1u);
  EXPECT_EQ(Counters().challenge_acks, 0u);
}

// TIME_WAIT answers no challenge: Linux tcp_timewait_state_process sends
// nothing for an RST off RCV.NXT (TCP_TW_SUCCESS) and, as it is not an ACK,
// does not reschedule the 2*MSL timer.
TEST_F(StateMatrixTest, TimeWaitInWindowRstIsDroppedWithoutRestart) {
  TimeWait();
  Advance(seconds(10));
  Send({RST, kPeerIsn + 1000, 0, 0, NoOpts()});
  ExpectNothing();
  Send({RST | ACK, kPeerIsn + 3, iss + 2, 0, NoOpts()});
  ExpectNothing();
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});  // RCV.NXT - 1: tcp_reset_check is not for TIME_WAIT
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  EXPECT_EQ(Counters().time_wait_killed, 0u);
  EXPECT_EQ(Counters().time_wait_restarts, 0u);
  EXPECT_EQ(Drops(DropReason::tcp_time_wait), 3u);
  Advance(seconds(50) - millis(1));
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  Advance(millis(1));  // 60 s after entering, as if no RST had come
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(eng->time_wait_count(), 0u);
  ExpectNothing();
  ExpectInvariants();
}

// ---------------------------------------------------------------- CLOSING's last exit
// The orphan's FIN is retransmitted orphan_retries times, then RST|ACK
// <SEQ=SND.NXT><ACK=RCV.NXT> and the connection is gone (Linux
// tcp_write_timeout -> tcp_out_of_resources/tcp_send_active_reset).
TEST_F(StateMatrixTest, ClosingGivesUpAfterOrphanRetries) {
  cfg.tcp.orphan_retries = 2;
  Closing();
  Advance(millis(197));
  ExpectNothing();
  Advance(millis(6));
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts());
  Advance(millis(397));
  ExpectNothing();
  Advance(millis(6));
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::CLOSING);
  Advance(millis(797));
  ExpectNothing();
  Advance(millis(6));
  ExpectSegment(RST | ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  ExpectNothing();
  ExpectGone();
  EXPECT_EQ(Counters().abort_on_timeout, 1u);
  EXPECT_EQ(Counters().retrans_segs, 2u);
  EXPECT_EQ(eng->stats().transition_count(TcpState::CLOSING, TcpState::CLOSED), 1u);
}

// Data at or after RCV.NXT once the peer's FIN is in (CLOSE_WAIT, CLOSING,
// LAST_ACK) is a peer's error: Linux tcp_rcv_state_process step 7 leaves it
// ("if (!before(seq, rcv_nxt)) break": not queued, no ACK scheduled).
TEST_F(StateMatrixTest, CloseWaitDataAfterThePeersFinIsIgnored) {
  CloseWait();
  Send({ACK | PSH, kPeerIsn + 2, iss + 1, 502, Ts(++peer_ts, OurTs()), "zz"});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSE_WAIT);
  EXPECT_EQ(Drops(DropReason::tcp_data_after_fin), 1u);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.rcv_nxt, kPeerIsn + 2);
}

// ---------------------------------------------------------------- CLOSE_WAIT's timer
// CLOSE_WAIT has no timer of its own (Linux neither): what we send in it is
// retransmitted on the RTO (200 ms: the handshake's RTT sample was 0), and
// the ACK of it stops the timer. Everything happens before the application
// accepts the connection (one per second), which then closes it.
TEST_F(StateMatrixTest, CloseWaitDataIsRetransmittedUntilAcked) {
  CloseWait();
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.timer, TimerKind::none);
  const std::string data = "late";
  TxFrames tx = Tx();
  ASSERT_TRUE(eng->send(Key(), reinterpret_cast<const uint8_t*>(data.data()), 4, now, tx));
  Collect(tx);
  ExpectSegment(PSH | ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts(), data);
  Advance(millis(197));
  ExpectNothing();
  Advance(millis(6));
  ExpectSegment(PSH | ACK, iss + 1, kPeerIsn + 2, 511, OurTsOpts(), data);
  EXPECT_EQ(State(), TcpState::CLOSE_WAIT);
  EXPECT_EQ(Counters().retrans_segs, 1u);
  Advance(millis(397));
  ExpectNothing();
  Send({ACK, kPeerIsn + 2, iss + 5, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.timer, TimerKind::none);
  EXPECT_EQ(ci.snd_una, iss + 5);
  EXPECT_EQ(State(), TcpState::CLOSE_WAIT);
  // One second after the handshake the application accepts, reads EOF and closes.
  Advance(millis(400));
  ExpectSegment(FIN | ACK, iss + 5, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::LAST_ACK);
  ExpectInvariants();
}

// ---------------------------------------------------------------- TIME_WAIT's timer
// Three connections enter TIME_WAIT at t, t + 1 s, t + 2 s; at t + 3 s the
// first one's peer retransmits its FIN: re-ACKed, and its 2*MSL restarts
// (Linux inet_twsk_reschedule). Each record expires at its own deadline, to
// the millisecond: the second at t + 61 s, the third at t + 62 s, the first
// at t + 63 s, none at t + 60 s.
TEST_F(StateMatrixTest, TimeWaitRestartKeepsEveryRecordsOwnExpiry) {
  Start(AppKind::close);
  struct Conn {
    uint16_t port;
    uint32_t iss, tsval;
  };
  std::array<Conn, 3> c{};
  const Nanos t = now;
  for (size_t i = 0; i < c.size(); ++i) {
    if (i != 0) Advance(seconds(1));
    peer_port = static_cast<uint16_t>(40001 + i);
    SynReceived();
    Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs())});
    ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
    Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
    ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
    ASSERT_EQ(State(), TcpState::TIME_WAIT);
    c[i] = {peer_port, iss, peer_ts};
  }
  ASSERT_EQ(now, t + seconds(2));
  const auto expect = [&](TcpState s0, TcpState s1, TcpState s2, uint32_t count) {
    const TcpState want[3] = {s0, s1, s2};
    for (size_t i = 0; i < c.size(); ++i) {
      EXPECT_EQ(eng->state_of(FlowKey{kPeerIp, kOurIp, c[i].port, kPort}), want[i])
          << "connection " << i << " at t + " << (now - t) / kMillisecond << " ms";
    }
    EXPECT_EQ(eng->time_wait_count(), count) << "at t + " << (now - t) / kMillisecond << " ms";
    ExpectNothing();
  };
  const auto advance_to = [&](Nanos at) { Advance(t + at - now); };
  constexpr TcpState TW = TcpState::TIME_WAIT, GONE = TcpState::CLOSED;

  advance_to(seconds(3));
  expect(TW, TW, TW, 3);
  // The retransmitted FIN (SEG.SEQ = RCV.NXT - 1: its TSval is not recorded).
  peer_port = c[0].port;
  iss = c[0].iss;
  Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(c[0].tsval + 1, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, Ts(OurTs(), c[0].tsval));
  EXPECT_EQ(Counters().time_wait_restarts, 1u);

  advance_to(seconds(60) - millis(1));
  expect(TW, TW, TW, 3);
  advance_to(seconds(60));  // the first one's old deadline: restarted, not expired
  expect(TW, TW, TW, 3);
  advance_to(seconds(61) - millis(1));
  expect(TW, TW, TW, 3);
  advance_to(seconds(61));
  expect(TW, GONE, TW, 2);
  advance_to(seconds(62) - millis(1));
  expect(TW, GONE, TW, 2);
  advance_to(seconds(62));
  expect(TW, GONE, GONE, 1);
  advance_to(seconds(63) - millis(1));
  expect(TW, GONE, GONE, 1);
  advance_to(seconds(63));
  expect(GONE, GONE, GONE, 0);
  EXPECT_EQ(eng->conn_count(), 0u);
  EXPECT_EQ(eng->stats().transition_count(TcpState::TIME_WAIT, TcpState::CLOSED), 3u);
  ExpectInvariants();
}


// Deviations from Linux the matrix found, fixed in the engine since.

// Linux cookie_init_sequence -> tcp_synq_overflow: every cookie sent marks the
// listener, so a cookie sent because the flow table was full is honoured.
TEST_F(StateMatrixTest, CookieSentForAFullFlowTableIsAccepted) {
  cfg.engine.max_connections = 1;
  CookieSynBehindAHalfOpenOne();
  const uint32_t cookie_ts = cookie_tsval;
  EXPECT_EQ(Counters().flow_table_full, 1u);
  peer_port = 40001;
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});
  ExpectNothing();
  ASSERT_EQ(eng->conn_count(), 0u);
  Advance(seconds(1));
  peer_port = 40002;
  Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, cookie_ts)});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(Counters().syncookies_recv, 1u);
  EXPECT_EQ(Drops(DropReason::tcp_listen_ack), 0u);
}

// Linux tcp_timewait_check_oow_rate_limit: what TIME_WAIT answers with an ACK
// (an old duplicate, a PAWS-rejected segment, a SYN that is not newer) is
// answered at most once per invalid_ratelimit (500 ms), as tcp_oow_rate_limited;
// a retransmitted FIN (it has a length, no SYN) is exempt and always re-ACKed.
TEST_F(StateMatrixTest, TimeWaitOutOfWindowAcksAreRateLimited) {
  TimeWait();
  Send({ACK, kPeerIsn + 2, iss + 2, 502, Ts(peer_ts - 100, OurTs())});  // PAWS-rejected
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  Send({ACK, kPeerIsn + 2, iss + 2, 502, Ts(peer_ts - 100, OurTs())});
  ExpectNothing();
  Send({SYN, kPeerIsn - 5000, 0, 64240, LinuxSynOpts(peer_ts - 10)});  // old SYN
  ExpectNothing();
  Send({ACK, kPeerIsn + 500000, iss + 2, 502, Ts(peer_ts + 1, OurTs())});  // out of window
  ExpectNothing();
  Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(peer_ts, OurTs())});  // retransmitted FIN
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  Advance(millis(499));
  Send({ACK, kPeerIsn + 2, iss + 2, 502, Ts(peer_ts - 100, OurTs())});
  ExpectNothing();
  Advance(millis(1));
  Send({ACK, kPeerIsn + 2, iss + 2, 502, Ts(peer_ts - 100, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
}

// Simultaneous open: a retransmission of the peer's SYN in (active)
// SYN_RECEIVED is a SYN in a synchronized state (RFC 9293 3.10.7.4 fourth
// check: "Otherwise, handle per the directions for synchronized states"):
// Linux tcp_validate_incoming -> syn_challenge -> tcp_send_challenge_ack,
// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. Only a passive half-open connection
// (Linux's request sock, tcp_check_req) answers it with the SYN-ACK again.
TEST_F(StateMatrixTest, SimultaneousOpenDuplicateSynGetsChallengeAck) {
  SynSent();
  Send({SYN, kPeerIsn, 0, 65160, LinuxSynOpts(++peer_ts)});
  TcpOptions o = LinuxSynOpts(OurTs());
  o.tsecr = peer_ts;
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, o);
  ASSERT_EQ(State(), TcpState::SYN_RECEIVED);
  Send({SYN, kPeerIsn, 0, 65160, LinuxSynOpts(peer_ts)});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
}

// Data past the peer's own FIN in CLOSE_WAIT (the same holds in CLOSING and
// LAST_ACK): a segment that starts before RCV.NXT and runs past it falls
// through to Linux's RCV_SHUTDOWN check in tcp_rcv_state_process step 7
// ("RFC 1122 says we MUST send a reset"): TCPAbortOnData, tcp_reset, and
// tcp_v4_send_reset answers <SEQ=SEG.ACK><CTL=RST>.
TEST_F(StateMatrixTest, CloseWaitDataOverlappingThePeersFinResets) {
  CloseWait();
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), "xy"});
  ExpectSegment(RST, iss + 1, 0, 0, NoOpts());
  ExpectNothing();
  ExpectGone();
  EXPECT_EQ(Counters().abort_on_data, 1u);
}

}  // namespace
}  // namespace tcpterm::tcp_test
