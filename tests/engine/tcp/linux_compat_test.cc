// Behaviours where the engine follows Linux's choice, each pinned segment by
// segment: the crossed SYN-ACK of a simultaneous open (tcp_validate_incoming),
// a retransmitted SYN in SYN_RECEIVED (tcp_check_req), no SYN cookie for a
// SYN that recycles a TIME_WAIT (tcp_conn_request), rate-limited re-ACKs from
// TIME_WAIT (tcp_timewait_check_oow_rate_limit) and tcp_tw_reuse for connect()
// (tcp_twsk_unique).
#include "engine/wire/seq.h"
#include "tests/engine/tcp/tcp_test_util.h"

namespace tcpterm::tcp_test {
namespace {

class LinuxCompatTest : public TcpTest {
 protected:
  static constexpr uint16_t kServerPort = 8080;
  const std::string request = "GET / HTTP/1.1\r\nHost: s\r\n\r\n";

  TcpOptions SynAckOpts(uint32_t tsecr) const {
    TcpOptions o = LinuxSynOpts(OurTs());
    o.tsecr = tsecr;
    return o;
  }

  // connect() to the peer's port 8080 (the engine as a client); expects our SYN.
  ConnectResult Connect(uint16_t lport, AppKind app = AppKind::discard, bool with_request = false) {
    ConnectOptions o;
    o.app = app;
    if (with_request) {
      o.request = reinterpret_cast<const uint8_t*>(request.data());
      o.request_len = static_cast<uint32_t>(request.size());
    }
    TxFrames tx = Tx();
    const ConnectResult r = eng->connect(kPeerIp, kServerPort, lport, kPeerMac, o, now, tx);
    Collect(tx);
    return r;
  }
  void SynSent(uint16_t lport = 0, AppKind app = AppKind::discard, bool with_request = false) {
    cfg.listeners.clear();
    Start();
    peer_port = kServerPort;
    ASSERT_EQ(Connect(lport, app, with_request), ConnectResult::ok);
    TakeOurSyn();
  }
  // The peer's SYN crosses ours: SYN_RECEIVED, our SYN-ACK.
  void CrossedSyns(bool with_request = false) {
    SynSent(0, AppKind::discard, with_request);
    Send({SYN, kPeerIsn, 0, 65160, LinuxSynOpts(++peer_ts)});
    ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts(peer_ts));
    ASSERT_EQ(State(), TcpState::SYN_RECEIVED);
  }
  TcpOptions PeerSynAckOpts() {
    TcpOptions o = LinuxSynOpts(++peer_ts);
    o.tsecr = OurTs();
    return o;
  }
  // The client's connection closed actively and acknowledged: TIME_WAIT with
  // snd_nxt = iss + 2, rcv_nxt = kPeerIsn + 2, ts_recent = the peer's FIN's TSval.
  void ClientTimeWait(uint16_t lport) {
    SynSent(lport, AppKind::close);
    Send({SYN | ACK, kPeerIsn, iss + 1, 65160, PeerSynAckOpts()});
    ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
    Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
    ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
    ASSERT_EQ(State(), TcpState::TIME_WAIT);
  }
  // The server's connection (close application) in TIME_WAIT: snd_nxt = iss + 2.
  void ServerTimeWait() {
    Start(AppKind::close);
    Established();
    CloseToTimeWait();
  }
  // Our FIN (the close application's, right after the handshake), its ACK,
  // the peer's FIN and our last ACK.
  void CloseToTimeWait() {
    ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
    Send({ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
    Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
    ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, OurTsOpts());
    ASSERT_EQ(State(), TcpState::TIME_WAIT);
  }
  // The same under syncookies=2, where every handshake is a cookie's; with
  // timestamps=2 (no offset) our later TSvals are now_ms (the cookie
  // SYN-ACK's TSval encodes the options instead).
  void CookieServerTimeWait() {
    cfg.tcp.syncookies = 2;
    cfg.tcp.timestamps = 2;
    Start(AppKind::close);
    Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
    ASSERT_EQ(out.size(), 1u);
    iss = out.front().p.seq;
    const uint32_t cookie_ts = out.front().p.opts.tsval;
    out.clear();
    ASSERT_EQ(Counters().syncookies_sent, 1u);
    ts_off = 0;
    Send({ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, cookie_ts)});
    CloseToTimeWait();
  }
  ConnInfo Info() {
    ConnInfo ci;
    EXPECT_TRUE(eng->conn_info(Key(), ci));
    return ci;
  }
};

// ---------------------------------------------------------------- 1. simultaneous open

TEST_F(LinuxCompatTest, CrossedSynAckCompletesTheHandshakeWithAnAck) {
  CrossedSyns();
  Advance(millis(20));
  // tcp_validate_incoming lets it through; tcp_data_queue (Linux 6.11+) ACKs
  // it at once, as RFC 9293 figure 7's last segment.
  Send({SYN | ACK, kPeerIsn, iss + 1, 65160, PeerSynAckOpts()});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts());
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  const ConnInfo ci = Info();
  EXPECT_EQ(ci.snd_una, iss + 1);
  EXPECT_EQ(ci.rcv_nxt, kPeerIsn + 1);
  EXPECT_EQ(ci.timer, TimerKind::none);  // nothing in flight: the SYN-ACK timer is gone
  EXPECT_EQ(Counters().challenge_acks, 0u);
  EXPECT_EQ(Counters().oow_acks_limited, 0u);
  // Its data is acknowledged as on any connection; the TSecr is its latest TSval.
  Send({PSH | ACK, kPeerIsn + 1, iss + 1, 502, Ts(++peer_ts, OurTs()), "hello"});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 6, 511, OurTsOpts());
  ExpectInvariants();
}

TEST_F(LinuxCompatTest, CrossedSynAckReleasesTheQueuedRequest) {
  CrossedSyns(true);
  Send({SYN | ACK, kPeerIsn, iss + 1, 65160, PeerSynAckOpts()});
  // What the application queued goes at once (packetdrill: "> P. 1:101(100) ack 1").
  ExpectSegment(PSH | ACK, iss + 1, kPeerIsn + 1, 511, OurTsOpts(), request);
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(Info().timer, TimerKind::retransmit);
  ExpectInvariants();
}

// A SYN-ACK that fails any one of the conditions gets today's answer (an ACK
// for an unacceptable segment or a challenge ACK) and changes nothing. (SYN
// with FIN or RST never gets this far: engine/wire drops it.)
struct BadSynAck {
  const char* what;
  uint8_t flags;
  int32_t seq_off;  // from kPeerIsn
  int32_t ack_off;  // from iss
  std::string data;
};

class CrossedSynAckFails : public LinuxCompatTest, public ::testing::WithParamInterface<BadSynAck> {};

TEST_P(CrossedSynAckFails, GetsAnAckAndStaysInSynReceived) {
  const BadSynAck& b = GetParam();
  CrossedSyns();
  const uint32_t syn_ts = peer_ts;  // ts_recent: unacceptable segments do not update it
  Send({b.flags, kPeerIsn + b.seq_off, iss + b.ack_off, 65160, PeerSynAckOpts(), b.data});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), syn_ts));
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  EXPECT_EQ(Info().snd_una, iss);
  ExpectInvariants();
}

INSTANTIATE_TEST_SUITE_P(
    LinuxCompat, CrossedSynAckFails,
    ::testing::Values(BadSynAck{"ack_below_snd_nxt", SYN | ACK, 0, 0, ""},
                      BadSynAck{"ack_above_snd_nxt", SYN | ACK, 0, 2, ""},
                      BadSynAck{"seq_not_rcv_nxt_minus_1", SYN | ACK, -1, 1, ""},
                      BadSynAck{"seq_at_rcv_nxt", SYN | ACK, 1, 1, ""},         // challenge ACK
                      BadSynAck{"with_data", SYN | ACK, 0, 1, "x"},             // challenge ACK
                      BadSynAck{"without_ack", SYN, 0, 0, ""}),                // Linux: challenge ACK
    [](const ::testing::TestParamInfo<BadSynAck>& i) { return std::string(i.param.what); });

TEST_F(LinuxCompatTest, PassiveSynReceivedStillAcksAPeerSynAck) {
  // Only an active open's SYN_RECEIVED takes the crossed SYN-ACK (sk_socket).
  Start(AppKind::discard);
  SynReceived();
  Send({SYN | ACK, kPeerIsn, iss + 1, 65160, Ts(peer_ts + 1, OurTs())});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts));
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  ExpectInvariants();
}

// ---------------------------------------------------------------- 2. retransmitted SYN in SYN_RECEIVED

TEST_F(LinuxCompatTest, RetransmittedSynIsRateLimitedAndRestartsTheSynAckTimer) {
  Start(AppKind::discard);
  SynReceived();
  const uint32_t syn_ts = peer_ts;
  Advance(millis(300));
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(++peer_ts)});
  // The SYN-ACK again; its TSecr is still the first SYN's (tcp_check_req returns before recording).
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts(syn_ts));
  EXPECT_EQ(Info().timer_expires, now + seconds(1));  // now + reqsk_timeout
  EXPECT_EQ(Counters().retrans_segs, 1u);
  // Another within invalid_ratelimit (500 ms): nothing.
  Advance(millis(499));
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(++peer_ts)});
  ExpectNothing();
  EXPECT_EQ(Counters().oow_acks_limited, 1u);
  EXPECT_EQ(Info().timer_expires, now - millis(499) + seconds(1));  // unchanged
  // The first expiry (1 s after the handshake began) passed: the timer moved.
  Advance(millis(500));  // 1.299 s
  ExpectNothing();
  Advance(millis(2));    // 1.301 s
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts(syn_ts));
  EXPECT_EQ(Counters().retrans_segs, 2u);
  ExpectInvariants();
}

TEST_F(LinuxCompatTest, RetransmittedSynRestartsTheTimerAtTheBackedOffRto) {
  cfg.tcp.synack_retries = 10;
  Start(AppKind::discard);
  SynReceived();
  const uint32_t syn_ts = peer_ts;
  Advance(seconds(1) + millis(5));
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts(syn_ts));
  Advance(millis(100));
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(++peer_ts)});
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts(syn_ts));
  EXPECT_EQ(Info().timer_expires, now + seconds(2));
  // Backed off to 64 s and then 128 s, which is capped at TCP_RTO_MAX.
  Nanos gap = seconds(2);
  for (int i = 0; i < 6; ++i) {
    Advance(gap + millis(5));
    ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts(syn_ts));
    gap *= 2;
  }
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(++peer_ts)});
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts(syn_ts));
  EXPECT_EQ(Info().timer_expires, now + seconds(120));
  ExpectInvariants();
}

TEST_F(LinuxCompatTest, RetransmittedSynDoesNotCountTowardSynackRetries) {
  // inet_rtx_syn_ack counts num_retrans; synack_retries limits num_timeout
  // (syn_ack_recalc), the timer's own expiries.
  cfg.tcp.synack_retries = 1;
  Start(AppKind::discard);
  SynReceived();
  const uint32_t syn_ts = peer_ts;
  Advance(millis(300));
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(++peer_ts)});
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts(syn_ts));
  Advance(seconds(1) + millis(1));  // the timer's first expiry: still one retry left
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, SynAckOpts(syn_ts));
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  Advance(seconds(2) + millis(1));  // the second: given up
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::CLOSED);
  EXPECT_EQ(Counters().synack_timeouts, 1u);
  EXPECT_EQ(Counters().retrans_segs, 2u);
  ExpectInvariants();
}

TEST_F(LinuxCompatTest, PawsRejectedRetransmittedSynGetsAnAck) {
  Start(AppKind::discard);
  SynReceived();
  Advance(millis(300));
  // TSval one behind the SYN's: tcp_check_req's PAWS (window 0) rejects it.
  Send({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts - 1)});
  ExpectSegment(ACK, iss + 1, kPeerIsn + 1, 511, Ts(OurTs(), peer_ts));
  EXPECT_EQ(Counters().retrans_segs, 0u);
  EXPECT_EQ(Info().timer_expires, now - millis(300) + seconds(1));
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
}

// ---------------------------------------------------------------- 3. no cookie for a recycled TIME_WAIT

TEST_F(LinuxCompatTest, TimeWaitSynTakesNoCookieWithSyncookies2) {
  CookieServerTimeWait();
  Advance(seconds(1));
  Send({SYN, kPeerIsn + 100000, 0, 64240, LinuxSynOpts(++peer_ts)});
  ExpectSegment(SYN | ACK, iss + 2 + 65537, kPeerIsn + 100001, 65408, SynAckOpts(peer_ts));
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  EXPECT_EQ(Counters().syncookies_sent, 1u);  // the first handshake's only
  EXPECT_EQ(Counters().time_wait_recycled, 1u);
  EXPECT_EQ(eng->syn_queue_length(kPort), 1u);
  ExpectInvariants();
}

class TimeWaitSynFullQueue : public LinuxCompatTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(TimeWaitSynFullQueue, TakesNoCookieAndIsNotDropped) {
  cfg.tcp.syncookies = GetParam();
  cfg.tcp.max_syn_backlog = 1;
  ServerTimeWait();
  Advance(seconds(1));
  // Another peer fills the SYN queue.
  peer_port = kPeerPort + 1;
  Send({SYN, 7000, 0, 64240, LinuxSynOpts(peer_ts)});
  ASSERT_EQ(out.size(), 1u);
  out.clear();
  ASSERT_EQ(eng->syn_queue_length(kPort), 1u);
  const uint64_t cookies = Counters().syncookies_sent;
  peer_port = kPeerPort;
  Send({SYN, kPeerIsn + 100000, 0, 64240, LinuxSynOpts(++peer_ts)});
  ExpectSegment(SYN | ACK, iss + 2 + 65537, kPeerIsn + 100001, 65408, SynAckOpts(peer_ts));
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  EXPECT_EQ(Counters().syncookies_sent, cookies);
  EXPECT_EQ(Counters().syn_queue_overflows, 0u);
  EXPECT_EQ(eng->syn_queue_length(kPort), 2u);
  // It completes like any half-open connection.
  Send({ACK, kPeerIsn + 100001, iss + 2 + 65538, 502, Ts(++peer_ts, OurTs())});
  EXPECT_NE(State(), TcpState::SYN_RECEIVED);
  ExpectInvariants();
}

INSTANTIATE_TEST_SUITE_P(LinuxCompat, TimeWaitSynFullQueue, ::testing::Values(0u, 1u));

// ---------------------------------------------------------------- 4. TIME_WAIT re-ACK rate limit

TEST_F(LinuxCompatTest, TimeWaitAckStormGetsOneReAckPerRatelimit) {
  ServerTimeWait();
  const uint32_t fin_ts = peer_ts;  // the record's ts_recent
  Advance(seconds(1));
  // Old ACKs (seq below rcv_nxt): out of window, each restarts TIME_WAIT.
  Send({ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, Ts(OurTs(), fin_ts));
  for (int i = 0; i < 9; ++i) {
    Advance(millis(55));  // up to 495 ms
    Send({ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
    ExpectNothing();
  }
  // A SYN that is not newer shares the limit.
  Send({SYN, kPeerIsn - 5000, 0, 64240, LinuxSynOpts(fin_ts - 10)});
  ExpectNothing();
  EXPECT_EQ(Counters().oow_acks_limited, 10u);
  EXPECT_EQ(Counters().time_wait_acks, 1u);
  EXPECT_EQ(Counters().time_wait_restarts, 11u);
  Advance(millis(5));  // 500 ms after the re-ACK
  Send({ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, Ts(OurTs(), fin_ts));
  EXPECT_EQ(State(), TcpState::TIME_WAIT);
  ExpectInvariants();
}

TEST_F(LinuxCompatTest, TimeWaitRetransmittedFinIsAlwaysReAcked) {
  ServerTimeWait();
  const uint32_t fin_ts = peer_ts;
  Send({ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, Ts(OurTs(), fin_ts));
  for (int i = 0; i < 3; ++i) {
    Advance(millis(10));
    Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
    ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, Ts(OurTs(), fin_ts));
  }
  // The FINs did not touch the stamp: an ACK is still limited.
  Send({ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, OurTs())});
  ExpectNothing();
  EXPECT_EQ(Counters().oow_acks_limited, 1u);
  EXPECT_EQ(Counters().time_wait_acks, 4u);
}

TEST_F(LinuxCompatTest, TimeWaitNewSynWithoutListenerIsAckedUnlimited) {
  // TCP_TW_SYN with no listener falls through to TCP_TW_ACK, past the limit.
  ClientTimeWait(0);
  const uint32_t fin_ts = peer_ts;
  for (int i = 0; i < 2; ++i) {
    Send({SYN, kPeerIsn + 100000, 0, 64240, LinuxSynOpts(++peer_ts)});
    ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, Ts(OurTs(), fin_ts));
  }
  EXPECT_EQ(Counters().oow_acks_limited, 0u);
}

// ---------------------------------------------------------------- 5. tw_reuse

TEST_F(LinuxCompatTest, TwReuseTakesTheTupleOneSecondAfterTheLastTimestamp) {
  cfg.tcp.tw_reuse = 1;
  ClientTimeWait(40001);
  const uint32_t old_snd_nxt = iss + 2, fin_ts = peer_ts;
  // ts_recent_stamp is this second: not yet (time_after32(now, stamp)).
  EXPECT_EQ(Connect(40001), ConnectResult::tuple_in_use);
  Advance(millis(999));
  EXPECT_EQ(Connect(40001), ConnectResult::tuple_in_use);
  ExpectNothing();
  Advance(millis(1));
  ASSERT_EQ(Connect(40001), ConnectResult::ok);
  // ISS = the old snd_nxt + 65537; the SYN echoes the old connection's ts_recent.
  const uint32_t new_iss = old_snd_nxt + 65535 + 2;
  TcpOptions syn = LinuxSynOpts(OurTs());
  syn.tsecr = fin_ts;
  const OutFrame f = ExpectSegment(SYN, new_iss, 0, 65408, syn);
  EXPECT_TRUE(seq_gt(f.p.seq, old_snd_nxt));  // what the peer's TIME_WAIT accepts as a new SYN
  EXPECT_EQ(State(), TcpState::SYN_SENT);
  EXPECT_EQ(eng->time_wait_count(), 0u);
  EXPECT_EQ(Counters().time_wait_reused, 1u);
  ExpectInvariants();
  // The peer answers; the new connection runs as usual.
  Send({SYN | ACK, kPeerIsn + 500000, new_iss + 1, 65160, PeerSynAckOpts()});
  ExpectSegment(ACK, new_iss + 1, kPeerIsn + 500001, 511, OurTsOpts());
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  ExpectInvariants();
}

// The reused tuple's ts_recent guards SYN_SENT: an old duplicate SYN of the
// previous connection (older TSval) is dropped by PAWS, not taken for a
// simultaneous open (tcp_rcv_synsent_state_process); a newer one is.
TEST_F(LinuxCompatTest, TwReuseCarriesPawsIntoSynSent) {
  cfg.tcp.tw_reuse = 1;
  ClientTimeWait(40001);
  const uint32_t old_snd_nxt = iss + 2, fin_ts = peer_ts;
  Advance(seconds(1));
  ASSERT_EQ(Connect(40001), ConnectResult::ok);
  iss = old_snd_nxt + 65537;
  TcpOptions syn = LinuxSynOpts(OurTs());
  syn.tsecr = fin_ts;
  ExpectSegment(SYN, iss, 0, 65408, syn);
  Send({SYN, kPeerIsn - 1000, 0, 65160, LinuxSynOpts(fin_ts - 5)});
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::SYN_SENT);
  EXPECT_EQ(Counters().paws_rejected, 1u);
  EXPECT_EQ(Drops(DropReason::tcp_paws), 1u);
  Send({SYN, kPeerIsn + 900000, 0, 65160, LinuxSynOpts(fin_ts + 5)});
  TcpOptions sa = LinuxSynOpts(OurTs());
  sa.tsecr = fin_ts + 5;
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 900001, 65408, sa);
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);
  ExpectInvariants();
}

TEST_F(LinuxCompatTest, TwReuseOffOrLoopbackOnlyRefusesANicAddress) {
  for (uint32_t reuse : {0u, 2u}) {
    cfg.tcp.tw_reuse = reuse;
    out.clear();
    ClientTimeWait(40001);
    Advance(seconds(2));
    EXPECT_EQ(Connect(40001), ConnectResult::tuple_in_use) << "tw_reuse " << reuse;
    ExpectNothing();
    EXPECT_EQ(eng->time_wait_count(), 1u);
    EXPECT_EQ(Counters().time_wait_reused, 0u);
  }
}

TEST_F(LinuxCompatTest, TwReuseNeedsTimestamps) {
  cfg.tcp.tw_reuse = 1;
  cfg.tcp.timestamps = 0;
  cfg.listeners.clear();
  Start();
  peer_port = kServerPort;
  ASSERT_EQ(Connect(40001, AppKind::close), ConnectResult::ok);
  ASSERT_EQ(out.size(), 1u);
  our_port = 40001;
  iss = out.front().p.seq;
  out.clear();
  TcpOptions o = LinuxSynOpts(0);
  o.has_timestamps = false;
  Send({SYN | ACK, kPeerIsn, iss + 1, 65160, o});
  ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1, 511, NoOpts());
  Send({FIN | ACK, kPeerIsn + 1, iss + 2, 502, NoOpts()});
  ExpectSegment(ACK, iss + 2, kPeerIsn + 2, 511, NoOpts());
  ASSERT_EQ(State(), TcpState::TIME_WAIT);
  Advance(seconds(5));
  EXPECT_EQ(Connect(40001), ConnectResult::tuple_in_use);
}

TEST_F(LinuxCompatTest, TwReuseAtVirtualTimeZeroUsesTheTimestampFlag) {
  // The record's ts_recent_stamp is 0 here (engine second 0), which Linux's
  // "tw_ts_recent_stamp != 0" would read as "no timestamps".
  cfg.tcp.tw_reuse = 1;
  now = 0;
  ClientTimeWait(40001);
  const uint32_t old_snd_nxt = iss + 2;
  EXPECT_EQ(Connect(40001), ConnectResult::tuple_in_use);
  Advance(seconds(1));
  ASSERT_EQ(Connect(40001), ConnectResult::ok);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.front().p.seq, old_snd_nxt + 65537);
  out.clear();
}

TEST_F(LinuxCompatTest, TwReuseInTheEphemeralSearch) {
  for (uint32_t reuse : {1u, 0u}) {
    cfg.tcp.tw_reuse = reuse;
    out.clear();
    ClientTimeWait(32768);  // the first port of the search
    const uint32_t old_snd_nxt = iss + 2;
    Advance(seconds(1));
    ASSERT_EQ(Connect(0), ConnectResult::ok);
    ASSERT_EQ(out.size(), 1u);
    if (reuse == 1) {
      EXPECT_EQ(out.front().p.sport, 32768);
      EXPECT_EQ(out.front().p.seq, old_snd_nxt + 65537);
      EXPECT_EQ(eng->time_wait_count(), 0u);
      EXPECT_EQ(Counters().time_wait_reused, 1u);
    } else {
      EXPECT_EQ(out.front().p.sport, 32769);  // the next free one
      EXPECT_EQ(eng->time_wait_count(), 1u);
      EXPECT_EQ(Counters().time_wait_reused, 0u);
    }
    out.clear();
    ExpectInvariants();
  }
}

// tw_reuse = 2 with a 127.0.0.0/8 engine address (ipv4_is_loopback): the
// harness's frames are built here with that address.
class TwReuseLoopbackTest : public LinuxCompatTest {
 protected:
  static constexpr Ipv4Addr kLoopIp = 0x7f000001;  // 127.0.0.1

  void SendLoop(const Seg& s) {
    peer_port = kServerPort;  // the peer is the server this engine connects to
    std::vector<uint8_t> f = Frame(s, kLoopIp);
    SendFrame(f);
  }
  ParsedFrame Pop(uint8_t flags) {
    EXPECT_FALSE(out.empty());
    if (out.empty()) return ParsedFrame{};
    const ParsedFrame p = out.front().p;
    out.pop_front();
    EXPECT_EQ(p.ip_src, kLoopIp);
    EXPECT_EQ(p.ip_dst, kPeerIp);
    EXPECT_EQ(p.flags, flags);
    return p;
  }
  ConnectResult LoopConnect(uint16_t lport) {
    ConnectOptions o;
    o.app = AppKind::close;
    TxFrames tx = Tx();
    const ConnectResult r = eng->connect(kPeerIp, kServerPort, lport, kPeerMac, o, now, tx);
    Collect(tx);
    return r;
  }
};

TEST_F(TwReuseLoopbackTest, LoopbackAddressReusesWithTwReuse2) {
  cfg.tcp.tw_reuse = 2;
  cfg.listeners.clear();
  cfg.engine.addresses = {Ipv4Cidr{kLoopIp, 8}};
  Start();
  our_port = 40001;
  ASSERT_EQ(LoopConnect(40001), ConnectResult::ok);
  iss = Pop(SYN).seq;
  TcpOptions o = LinuxSynOpts(++peer_ts);
  SendLoop({SYN | ACK, kPeerIsn, iss + 1, 65160, o});
  EXPECT_EQ(Pop(FIN | ACK).seq, iss + 1);
  SendLoop({FIN | ACK, kPeerIsn + 1, iss + 2, 502, Ts(++peer_ts, 0)});
  EXPECT_EQ(Pop(ACK).ack, kPeerIsn + 2);
  ASSERT_EQ(eng->time_wait_count(), 1u);
  EXPECT_EQ(LoopConnect(40001), ConnectResult::tuple_in_use);
  Advance(seconds(1));
  ASSERT_EQ(LoopConnect(40001), ConnectResult::ok);
  const ParsedFrame syn = Pop(SYN);
  EXPECT_EQ(syn.seq, iss + 2 + 65537);
  EXPECT_TRUE(syn.opts.has_timestamps);
  EXPECT_EQ(syn.opts.tsecr, peer_ts);
  EXPECT_EQ(eng->time_wait_count(), 0u);
  EXPECT_EQ(Counters().time_wait_reused, 1u);
  ExpectInvariants();
}

}  // namespace
}  // namespace tcpterm::tcp_test
