// ESTABLISHED: the sequence-space rules (RFC 9293 3.10.7.4 first check),
// RFC 5961 (RST, SYN, ACK), PAWS (RFC 7323), the challenge-ACK limits,
// retransmission (RFC 6298), window probes, keepalive, half-close.
#include "engine/tcp/http.h"
#include "tests/engine/tcp/tcp_test_util.h"

namespace tcpterm::tcp_test {
namespace {

class EstablishedTest : public TcpTest {
 protected:
  void Est(AppKind app = AppKind::discard) {
    Start(app);
    Established();
    ExpectNothing();
    ASSERT_EQ(State(), TcpState::ESTABLISHED);
  }
  TcpOptions Now() { return Ts(++peer_ts, OurTs()); }
};

TEST_F(EstablishedTest, DuplicateDataSegmentIsAckedAgain) {
  Est();
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Now(), "hello"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 6, 511, OurTsOpts());
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(peer_ts, OurTs()), "hello"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 6, 511, OurTsOpts());
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(peer_ts, OurTs()), "hello"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 6, 511, OurTsOpts());  // data: never rate-limited
}

TEST_F(EstablishedTest, PartlyOldSegmentIsTrimmedAtRcvNxt) {
  Est(AppKind::echo);
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Now(), "abc"});
  ASSERT_EQ(out.size(), 1u);
  out.clear();
  // "abcdef" again from the start: only "def" is new.
  Send({ACK | PSH, kPeerIsn + 1, iss + 4, 502, Now(), "abcdef"});
  ExpectSegment(PSH | ACK, iss + 4, kPeerIsn + 7, 31, OurTsOpts(), "def");
}

TEST_F(EstablishedTest, OutOfWindowSegmentIsAnsweredWithAck) {
  Est();
  Send({ACK | PSH, kPeerIsn + 1 + 70000, iss + 1, 502, Now(), "far"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts - 1));
  EXPECT_EQ(Drops(DropReason::tcp_out_of_window), 1u);
  // A pure ACK out of window: answered once per invalid_ratelimit (500 ms).
  Send({ACK, kPeerIsn - 100000, iss + 1, 502, Ts(peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts - 1));
  Send({ACK, kPeerIsn - 100000, iss + 1, 502, Ts(peer_ts, OurTs())});
  ExpectNothing();
  EXPECT_EQ(Counters().oow_acks_limited, 1u);
  Advance(millis(500));
  Send({ACK, kPeerIsn - 100000, iss + 1, 502, Ts(peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts - 1));
}

TEST_F(EstablishedTest, DataBeyondTheWindowIsTrimmed) {
  Est(AppKind::echo);
  // The echo window is 4096 bytes; fill 4000 of it without acking the echoes.
  const std::string k(1000, 'k');
  const uint16_t windows[4] = {24, 16, 8, 0};  // free space / 128, rounded down
  for (uint32_t i = 0; i < 4; ++i) {
    Send({ACK | PSH, kPeerIsn + 1 + i * 1000, iss + 1, 502, Now(), k});
    ExpectSegment(PSH | ACK, iss + 1 + i * 1000, kPeerIsn + 1 + (i + 1) * 1000, windows[i], OurTsOpts(), k);
    ExpectNothing();
  }
  // 1000 more: only the 96 bytes up to the right edge (rcv_nxt + 96) are taken.
  Send({ACK | PSH, kPeerIsn + 4001, iss + 1, 502, Now(), std::string(1000, 'z')});
  ExpectSegment(PSH | ACK, iss + 4001, kPeerIsn + 4097, 0, OurTsOpts(), std::string(96, 'z'));
  ExpectNothing();
  EXPECT_EQ(Drops(DropReason::tcp_data_beyond_window), 1u);
  // Zero window: a new byte is not acceptable, an ACK says so (the segment
  // is at RCV.NXT, so its ACK and TSval are taken: Linux tcp_sequence).
  Send({ACK | PSH, kPeerIsn + 4097, iss + 1, 502, Now(), "y"});
  ExpectSegment(ACK, iss + 4097, kPeerIsn + 4097, 0, OurTsOpts());
  ExpectNothing();
  // When the peer has all the echoes, the buffer empties and a window update goes out.
  Send({ACK, kPeerIsn + 4097, iss + 1 + 4096, 502, Now()});
  ExpectSegment(ACK, iss + 1 + 4096, kPeerIsn + 4097, 32, OurTsOpts());
}

// RFC 9293 3.10.7.4: at RCV.WND = 0 a segment at RCV.NXT still has its ACK
// processed (Linux tcp_sequence); only its text is dropped.
TEST_F(EstablishedTest, ZeroWindowSegmentAtRcvNxtHasItsAckProcessed) {
  Est(AppKind::echo);
  const std::string k(1024, 'k');
  for (uint32_t i = 0; i < 4; ++i) {
    Send({ACK | PSH, kPeerIsn + 1 + i * 1024, iss + 1, 502, Now(), k});
    ASSERT_EQ(out.size(), 1u);
    out.clear();
  }
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  ASSERT_EQ(ci.rcv_nxt, kPeerIsn + 4097);  // the 4 KiB echo buffer is full: RCV.WND = 0
  // New data with an ACK of all the echoes: the ACK frees the buffer, the data is not taken.
  Send({ACK | PSH, kPeerIsn + 4097, iss + 1 + 4096, 502, Now(), "y"});
  ExpectSegment(ACK, iss + 1 + 4096, kPeerIsn + 4097, 32, OurTsOpts());
  ExpectNothing();
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.rcv_nxt, kPeerIsn + 4097);
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  // Its FIN is not taken either at a zero window; the window is open now, so it is.
  Send({FIN | ACK, kPeerIsn + 4097, iss + 1 + 4096, 502, Now()});
  ExpectSegment(FIN | ACK, iss + 1 + 4096, kPeerIsn + 4098, 32, OurTsOpts());
}

TEST_F(EstablishedTest, FinConsumesOneSequenceNumber) {
  Est();
  Send({FIN | ACK | PSH, kPeerIsn + 1, iss + 1, 502, Now(), "data"});
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 6, 511, OurTsOpts());  // 4 bytes + FIN
}

TEST_F(EstablishedTest, AckOfUnsentDataIsAnsweredAndDropped) {
  Est();
  Send({ACK | PSH, kPeerIsn + 1, iss + 100, 502, Now(), "x"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts - 1));  // TSval not recorded
  EXPECT_EQ(Drops(DropReason::tcp_ack_unsent), 1u);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.rcv_nxt, kPeerIsn + 1);  // the data was not taken
}

TEST_F(EstablishedTest, TooOldAckGetsChallengeAck) {
  Est();
  Send({ACK, kPeerIsn + 1, iss + 1 - 70000, 502, Now()});  // below SND.UNA - MAX.SND.WND (64256)
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts - 1));
  EXPECT_EQ(Drops(DropReason::tcp_ack_too_old), 1u);
  // An old ACK within MAX.SND.WND is fine (RFC 5961 5.2).
  Send({ACK, kPeerIsn + 1, iss + 1 - 1000, 502, Now()});
  ExpectNothing();
}

TEST_F(EstablishedTest, ExactRstResets) {
  Est();
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(Counters().estab_resets, 1u);
  EXPECT_EQ(Counters().app_resets, 1u);  // the application was told
  EXPECT_EQ(eng->timers_pending(), 0u);
  ExpectInvariants();
}

TEST_F(EstablishedTest, InWindowRstGetsChallengeAck) {
  Est();
  Send({RST | ACK, kPeerIsn + 2, iss + 1, 0, NoOpts()});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts));
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(Drops(DropReason::tcp_rst_in_window), 1u);
  // The peer answers the challenge with an exact RST: that one resets.
  Send({RST, kPeerIsn + 1, 0, 0, NoOpts()});
  EXPECT_EQ(State(), TcpState::CLOSED);
}

// RFC 5961 3.2: exactness is judged on the RST's own SEG.SEQ, not on the
// sequence number it would have after trimming retransmitted payload.
TEST_F(EstablishedTest, RstWithPayloadStartingBeforeRcvNxtGetsChallengeAck) {
  Est();
  Send({RST | ACK, kPeerIsn + 1 - 100, iss + 1, 0, NoOpts(), std::string(200, 'r')});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts));
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(Drops(DropReason::tcp_rst_in_window), 1u);
  EXPECT_EQ(Counters().rsts_received, 0u);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.rcv_nxt, kPeerIsn + 1);  // the RST's payload is not taken either
}

TEST_F(EstablishedTest, OutOfWindowRstIsDroppedSilently) {
  Est();
  Send({RST, kPeerIsn + 100000, 0, 0, NoOpts()});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(Drops(DropReason::tcp_rst_out_of_window), 1u);
}

TEST_F(EstablishedTest, SynGetsChallengeAckRateLimitedPerConnection) {
  Est();
  Send({SYN, kPeerIsn + 1, 0, 64240, LinuxSynOpts(peer_ts + 1)});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  // Linux tcp_send_challenge_ack: per-socket invalid_ratelimit first.
  Send({SYN, kPeerIsn + 1, 0, 64240, LinuxSynOpts(peer_ts + 1)});
  ExpectNothing();
  Advance(millis(500));
  Send({SYN, kPeerIsn + 1, 0, 64240, LinuxSynOpts(peer_ts + 1)});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(Counters().challenge_acks, 2u);
}

TEST_F(EstablishedTest, ChallengeAckLimitPerSecond) {
  cfg.tcp.challenge_ack_limit = 2;
  cfg.tcp.invalid_ratelimit = 0;
  Start(AppKind::discard);
  // Three connections, one in-window RST each within one second: two answers.
  for (uint16_t p = 0; p < 3; ++p) {
    peer_port = static_cast<uint16_t>(41000 + p);
    Send({SYN, kPeerIsn, 0, 64240, NoOpts()});
    const uint32_t s = out.back().p.seq;
    out.clear();
    Send({ACK, kPeerIsn + 1, s + 1, 502, NoOpts()});
    Send({RST, kPeerIsn + 5, 0, 0, NoOpts()});
    if (p < 2) {
      // No options were offered: no TS, and the window is not scaled.
      ExpectSegment(ACK, s + 1, kPeerIsn + 1, 65408, NoOpts());
    }
    ExpectNothing();  // the third is over the limit
    iss = s;
  }
  EXPECT_EQ(Counters().challenge_acks_limited, 1u);
  Advance(seconds(1));
  Send({RST, kPeerIsn + 5, 0, 0, NoOpts()});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 65408, NoOpts());  // a new second, a new allowance
  ExpectNothing();
}

TEST_F(EstablishedTest, PawsDropsOldTimestampAndAcks) {
  Est();
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Ts(peer_ts - 10, OurTs()), "old"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(Counters().paws_rejected, 1u);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.rcv_nxt, kPeerIsn + 1);
  // A newer TSval passes.
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Now(), "new"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 4, 511, OurTsOpts());
}

TEST_F(EstablishedTest, PawsLetsAnExactRstThrough) {
  Est();
  Send({RST, kPeerIsn + 1, 0, 0, Ts(peer_ts - 10, 0)});
  EXPECT_EQ(State(), TcpState::CLOSED);
}

TEST_F(EstablishedTest, OutOfOrderDataGetsDuplicateAck) {
  Est();
  Send({ACK | PSH, kPeerIsn + 11, iss + 1, 502, Now(), "later"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts - 1));
  EXPECT_EQ(Drops(DropReason::tcp_out_of_order), 1u);
}

TEST_F(EstablishedTest, RtoFollowsTheMeasuredRtt) {
  Start(AppKind::discard);
  SynReceived();
  Advance(millis(100));
  Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs() - 100)});
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.srtt_us, 100000u);
  EXPECT_EQ(ci.rto_ms, 300u);  // SRTT + 4 * RTTVAR = 100 + 4 * 50 (RFC 6298 2.2)
}

TEST_F(EstablishedTest, DataIsRetransmittedWithBackoffUntilAcked) {
  cfg.listeners[0].http_body_size = 10;
  Est(AppKind::http);
  const std::string req = "GET / HTTP/1.1\r\n\r\n";
  const std::string resp = make_http_response(10, false);
  const uint32_t rcv = kPeerIsn + 1 + static_cast<uint32_t>(req.size());
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 502, Now(), req});
  ExpectSegment(FIN | PSH | ACK, iss + 1, rcv, 511, OurTsOpts(), resp);
  Advance(millis(197));
  ExpectNothing();
  Advance(millis(6));
  ExpectSegment(FIN | PSH | ACK, iss + 1, rcv, 511, OurTsOpts(), resp);  // RTO 200 ms
  Advance(millis(397));
  ExpectNothing();
  Advance(millis(6));
  ExpectSegment(FIN | PSH | ACK, iss + 1, rcv, 511, OurTsOpts(), resp);  // 400 ms
  EXPECT_EQ(Counters().retrans_segs, 2u);
  const uint32_t end = iss + 1 + static_cast<uint32_t>(resp.size()) + 1;
  Send({ACK, rcv, end, 502, Now()});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::FIN_WAIT_2);
  ConnInfo ci;
  ASSERT_TRUE(eng->conn_info(Key(), ci));
  EXPECT_EQ(ci.timer, TimerKind::fin_wait2);
}

TEST_F(EstablishedTest, RtoBacksOffTo120SecondsThenGivesUpAfterRetries2) {
  cfg.tcp.retries2 = 12;
  Est();
  const std::string data = "payload";
  TxFrames tx = Tx();
  ASSERT_TRUE(eng->send(Key(), reinterpret_cast<const uint8_t*>(data.data()), 7, now, tx));
  Collect(tx);
  ExpectSegment(PSH | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts(), data);
  uint32_t rto = 200;
  for (int i = 0; i < 12; ++i) {
    Advance(millis(rto) + millis(3));
    ExpectSegment(PSH | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts(), data);
    rto = std::min<uint32_t>(rto * 2, 120000);
    ConnInfo ci;
    ASSERT_TRUE(eng->conn_info(Key(), ci));
    EXPECT_EQ(ci.rto_ms, rto);
  }
  EXPECT_EQ(rto, 120000u);  // 200 ms * 2^10 > 120 s: capped (RFC 6298 2.5, Linux TCP_RTO_MAX)
  Advance(seconds(120) + millis(3));
  ExpectNothing();  // not an orphan: the application is told, no RST (Linux tcp_write_err)
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(Counters().abort_on_timeout, 1u);
  ExpectInvariants();
}

TEST_F(EstablishedTest, ZeroWindowIsProbedThenDataFlows) {
  Start(AppKind::http);
  SynReceived();
  Send({ACK, kPeerIsn + 1, iss + 1, 0, Now()});  // the client's window is closed
  const std::string req = "GET / HTTP/1.1\r\n\r\n";
  const uint32_t rcv = kPeerIsn + 1 + static_cast<uint32_t>(req.size());
  Send({ACK | PSH, kPeerIsn + 1, iss + 1, 0, Now(), req});
  ExpectSegment(ACK, iss + 1, rcv, 511, OurTsOpts());  // nothing may be sent yet
  Advance(millis(203));
  ExpectSegment(ACK, iss, rcv, 511, OurTsOpts());      // probe: an old sequence number
  EXPECT_EQ(Counters().window_probes, 1u);
  Send({ACK, rcv, iss + 1, 502, Now()});               // window opens
  const std::string resp = make_http_response(0, false);
  ExpectSegment(FIN | PSH | ACK, iss + 1, rcv, 511, OurTsOpts(), resp);
}

TEST_F(EstablishedTest, HalfCloseDataFlowsAfterThePeersFin) {
  cfg.listeners[0].http_body_size = 3000;
  Start(AppKind::http);
  SynReceived();
  Send({ACK, kPeerIsn + 1, iss + 1, 12, Now()});  // 12 << 7 = 1536 bytes
  const std::string req = "GET / HTTP/1.0\r\n\r\n";
  const std::string resp = make_http_response(3000, false);
  const uint32_t rcv = kPeerIsn + 1 + static_cast<uint32_t>(req.size()) + 1;
  // Request and FIN together (the client shut down its side: half-close).
  Send({FIN | ACK | PSH, kPeerIsn + 1, iss + 1, 12, Now(), req});
  ExpectSegment(ACK, iss + 1, rcv, 511, OurTsOpts(), resp.substr(0, 1448));
  ExpectSegment(ACK, iss + 1449, rcv, 511, OurTsOpts(), resp.substr(1448, 88));
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::LAST_ACK);  // the application closed; data still to send
  Send({ACK, rcv, iss + 1537, 12, Now()});
  ExpectSegment(ACK, iss + 1537, rcv, 511, OurTsOpts(), resp.substr(1536, 1448));
  ExpectSegment(ACK, iss + 2985, rcv, 511, OurTsOpts(), resp.substr(2984, 88));
  ExpectNothing();
  Send({ACK, rcv, iss + 3073, 12, Now()});
  ExpectSegment(FIN | PSH | ACK, iss + 3073, rcv, 511, OurTsOpts(), resp.substr(3072));
  const uint32_t end = iss + 1 + static_cast<uint32_t>(resp.size()) + 1;
  Send({ACK, rcv, end, 12, Now()});
  EXPECT_EQ(State(), TcpState::CLOSED);
  ExpectInvariants();
}

TEST_F(EstablishedTest, KeepaliveProbesThenResets) {
  cfg.listeners[0].keepalive = true;
  cfg.tcp.keepalive_time = 30;
  cfg.tcp.keepalive_intvl = 5;
  cfg.tcp.keepalive_probes = 2;
  Est();
  Advance(seconds(30) - millis(5));
  ExpectNothing();
  Advance(millis(10));
  ExpectSegment(ACK, iss, kPeerIsn + 1, 511, OurTsOpts());  // probe: SND.UNA - 1
  Advance(seconds(5) + millis(5));
  ExpectSegment(ACK, iss, kPeerIsn + 1, 511, OurTsOpts());
  Advance(seconds(5) + millis(5));
  ExpectSegment(RST | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(Counters().keepalive_probes, 2u);
  EXPECT_EQ(Counters().keepalive_timeouts, 1u);
  ExpectInvariants();
}

// Linux tcp_ack: the keepalive idle clock is refreshed by processed ACKs
// only; an out-of-window segment does not postpone the probe.
TEST_F(EstablishedTest, OutOfWindowSegmentDoesNotPostponeKeepalive) {
  cfg.listeners[0].keepalive = true;
  cfg.tcp.keepalive_time = 30;
  cfg.tcp.keepalive_intvl = 5;
  cfg.tcp.keepalive_probes = 2;
  Est();
  Advance(seconds(20));
  Send({ACK, kPeerIsn + 1 + 100000, iss + 1, 502, Now()});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts - 1));
  Advance(seconds(10) - millis(5));
  ExpectNothing();
  Advance(millis(10));
  ExpectSegment(ACK, iss, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts - 1));  // probe at 30 s, not 50 s
  EXPECT_EQ(Counters().keepalive_probes, 1u);
}

TEST_F(EstablishedTest, AnsweredKeepaliveStartsOver) {
  cfg.listeners[0].keepalive = true;
  cfg.tcp.keepalive_time = 30;
  cfg.tcp.keepalive_intvl = 5;
  cfg.tcp.keepalive_probes = 2;
  Est();
  Advance(seconds(30) + millis(5));
  ExpectSegment(ACK, iss, kPeerIsn + 1, 511, OurTsOpts());
  Send({ACK, kPeerIsn + 1, iss + 1, 502, Now()});  // the answer
  ExpectNothing();
  Advance(seconds(29));
  ExpectNothing();
  Advance(seconds(1) + millis(10));
  ExpectSegment(ACK, iss, kPeerIsn + 1, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
}

TEST_F(EstablishedTest, NoKeepaliveByDefault) {
  Est();
  Advance(seconds(3 * 7200));
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(eng->timers_pending(), 0u);
}

}  // namespace
}  // namespace tcpterm::tcp_test
