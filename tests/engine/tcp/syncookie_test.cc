// SYN cookies as Linux makes and checks them (net/ipv4/syncookies.c).
#include "engine/tcp/syncookie.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace tcpterm {
namespace {

constexpr SipKey kK0{0x1111111122222222ULL, 0x3333333344444444ULL};
constexpr SipKey kK1{0x5555555566666666ULL, 0x7777777788888888ULL};
const FlowKey kTuple{0xc0a80a02, 0x0a000001, 51234, 80};
constexpr uint32_t kPeerIsn = 0xdeadbeef;
constexpr Nanos kT0 = seconds(3600) + millis(1500);  // 1.5 s into minute 60

TEST(SynCookies, RoundTripOfEveryMss) {
  const SynCookies c(kK0, kK1);
  for (uint16_t mss : SynCookies::kMssTable) {
    uint16_t used = 0;
    const uint32_t cookie = c.make(kTuple, kPeerIsn, mss, kT0, used);
    EXPECT_EQ(used, mss);
    EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, kT0), mss);
    EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, kT0 + seconds(30)), mss);
  }
}

TEST(SynCookies, MssIsTheLargestTableValueNotAboveThePeers) {
  const SynCookies c(kK0, kK1);
  struct Case { uint16_t peer, want; };
  for (auto [peer, want] : {Case{65535, 1460}, Case{9000, 1460}, Case{1461, 1460}, Case{1460, 1460},
                            Case{1459, 1440}, Case{1440, 1440}, Case{1439, 1300}, Case{1300, 1300},
                            Case{1299, 536}, Case{537, 536}, Case{536, 536},
                            // Below the table Linux still encodes index 0 (536).
                            Case{535, 536}, Case{100, 536}, Case{0, 536}}) {
    uint16_t used = 0;
    const uint32_t cookie = c.make(kTuple, kPeerIsn, peer, kT0, used);
    EXPECT_EQ(used, want) << "peer mss " << peer;
    EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, kT0), want) << "peer mss " << peer;
  }
}

TEST(SynCookies, MatchesLinuxFormula) {
  // cookie = H0 + isn + (count << 24) + ((H1(count) + mssind) & 0xffffff), hashes over
  // (saddr, daddr, sport << 16 | dport, count) of the SYN: saddr/sport are the peer's.
  const SynCookies c(kK0, kK1);
  const uint32_t count = SynCookies::cookie_time(kT0);
  EXPECT_EQ(count, 60u);
  const uint32_t ports = (uint32_t{kTuple.rport} << 16) | kTuple.lport;
  const auto h0 = static_cast<uint32_t>(siphash24_4u32(kK0, kTuple.raddr, kTuple.laddr, ports, 0));
  const auto h1 = static_cast<uint32_t>(siphash24_4u32(kK1, kTuple.raddr, kTuple.laddr, ports, count));
  uint16_t used = 0;
  EXPECT_EQ(c.make(kTuple, kPeerIsn, 1440, kT0, used),
            h0 + kPeerIsn + (count << 24) + ((h1 + 2) & 0xffffff));
}

TEST(SynCookies, ExpiresAfterTwoMinutes) {
  const SynCookies c(kK0, kK1);
  const Nanos minute_start = seconds(60 * 100);
  // Made at the start of a minute: valid in that minute and the next, not after.
  uint16_t used = 0;
  uint32_t cookie = c.make(kTuple, kPeerIsn, 1460, minute_start, used);
  EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, minute_start + seconds(119)), 1460);
  EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, minute_start + seconds(120) - 1), 1460);
  EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, minute_start + seconds(120)), 0);
  EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, minute_start + seconds(600)), 0);
  // Made at the end of a minute: it lives a little over one minute.
  cookie = c.make(kTuple, kPeerIsn, 1460, minute_start + seconds(59), used);
  EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, minute_start + seconds(119)), 1460);
  EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, minute_start + seconds(120)), 0);
  // A cookie from the future (clock went back, or forged count) fails.
  cookie = c.make(kTuple, kPeerIsn, 1460, minute_start + seconds(60), used);
  EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, minute_start), 0);
  // After 256 minutes the 8-bit count wraps: still expired, the hash of the count differs.
  cookie = c.make(kTuple, kPeerIsn, 1460, minute_start, used);
  EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, minute_start + seconds(60 * 256)), 0);
  EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie, minute_start + seconds(60 * 257)), 0);
}

// Linux adds the MSS index in the cookie's low bits and has no check bits
// there: an ACK or a SYN sequence off by less than 4 decodes a neighbouring
// MSS index instead of failing (harmless: only someone who saw the cookie can
// make that change, and he could complete the handshake anyway). So the low
// two bits of ack and seq decode exactly as that arithmetic says, and every
// other change fails.
uint16_t expected_after_delta(size_t mssind, uint32_t delta) {
  const uint32_t idx = (static_cast<uint32_t>(mssind) + delta) & SynCookies::kCookieMask;
  return idx < SynCookies::kMssTable.size() ? SynCookies::kMssTable[idx] : 0;
}

TEST(SynCookies, TamperingAnyFieldFails) {
  const SynCookies c(kK0, kK1);
  for (size_t mssind = 0; mssind < SynCookies::kMssTable.size(); ++mssind) {
    const uint16_t mss = SynCookies::kMssTable[mssind];
    uint16_t used = 0;
    const uint32_t cookie = c.make(kTuple, kPeerIsn, mss, kT0, used);
    ASSERT_EQ(c.check(kTuple, kPeerIsn, cookie, kT0), mss);
    for (int bit = 0; bit < 32; ++bit) {
      const uint32_t b32 = 1u << bit;
      const uint16_t ack_result = c.check(kTuple, kPeerIsn, cookie ^ b32, kT0);
      const uint16_t seq_result = c.check(kTuple, kPeerIsn ^ b32, cookie, kT0);
      EXPECT_NE(ack_result, mss) << "ack bit " << bit;
      EXPECT_NE(seq_result, mss) << "seq bit " << bit;
      if (bit < 2) {
        EXPECT_EQ(ack_result, expected_after_delta(mssind, (cookie ^ b32) - cookie)) << bit;
        EXPECT_EQ(seq_result, expected_after_delta(mssind, kPeerIsn - (kPeerIsn ^ b32))) << bit;
      } else {
        EXPECT_EQ(ack_result, 0) << "ack bit " << bit;
        EXPECT_EQ(seq_result, 0) << "seq bit " << bit;
      }
      FlowKey k = kTuple;
      k.raddr ^= b32;
      EXPECT_EQ(c.check(k, kPeerIsn, cookie, kT0), 0) << "raddr bit " << bit;
      k = kTuple;
      k.laddr ^= b32;
      EXPECT_EQ(c.check(k, kPeerIsn, cookie, kT0), 0) << "laddr bit " << bit;
      if (bit < 16) {
        k = kTuple;
        k.rport ^= static_cast<uint16_t>(b32);
        EXPECT_EQ(c.check(k, kPeerIsn, cookie, kT0), 0) << "rport bit " << bit;
        k = kTuple;
        k.lport ^= static_cast<uint16_t>(b32);
        EXPECT_EQ(c.check(k, kPeerIsn, cookie, kT0), 0) << "lport bit " << bit;
      }
    }
    // The ACK's own number (cookie + 1) passed unadjusted, or an unrelated ack, fails
    // unless it lands on another index, as above.
    EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie + 1, kT0), expected_after_delta(mssind, 1));
    EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie + 4, kT0), 0);
    EXPECT_EQ(c.check(kTuple, kPeerIsn, cookie - 4, kT0), 0);
    EXPECT_EQ(c.check(kTuple, kPeerIsn + 4, cookie, kT0), 0);
    // Another pair of keys (another engine, or after a restart).
    const SynCookies other({kK0.k0, kK0.k1 ^ 1}, kK1);
    EXPECT_EQ(other.check(kTuple, kPeerIsn, cookie, kT0), 0);
    const SynCookies other1(kK0, {kK1.k0 ^ 1, kK1.k1});
    EXPECT_EQ(other1.check(kTuple, kPeerIsn, cookie, kT0), 0);
  }
}

TEST(SynCookies, ForgedAcksAlmostNeverPass) {
  // A blind attacker's random ACK passes with odds about 2 * 4 / 2^24 (two minutes' counts).
  const SynCookies c(kK0, kK1);
  uint32_t x = 0x9e3779b9;
  int passed = 0;
  for (int i = 0; i < 200000; ++i) {
    x = x * 1664525u + 1013904223u;
    passed += c.check(kTuple, kPeerIsn, x, kT0) != 0;
  }
  EXPECT_LE(passed, 2);
}

TEST(SynCookies, TimestampEncodingAsCookieInitTimestamp) {
  // wscale 7, SACK, no ECN: options 0x17.
  EXPECT_EQ(SynCookies::ts_encode(0x12345678, 7, true, false), 0x12345657u);
  // Low bits of the clock >= options: just replaced.
  EXPECT_EQ(SynCookies::ts_encode(0x1234567f, 7, true, false), 0x12345657u);
  EXPECT_EQ(SynCookies::ts_encode(0x123456ff, 7, true, false), 0x123456d7u);
  // Options above the clock's low bits: one step (64) back, never ahead of the clock.
  EXPECT_EQ(SynCookies::ts_encode(0x12345640, 14, true, true), 0x1234563eu);
  // No window scale: 0xf. ECN: bit 5.
  EXPECT_EQ(SynCookies::ts_encode(0x1000003f, -1, false, true), 0x1000002fu);
  EXPECT_EQ(SynCookies::ts_encode(0x1000003f, -1, false, false), 0x1000000fu);
  // A window scale above 14 is clamped (RFC 7323).
  EXPECT_EQ(SynCookies::ts_encode(0x1000003f, 15, false, false), 0x1000000eu);
  for (uint32_t tsval : {0x40u, 0x7fu, 0x12345678u, 0xffffffffu, 0x80000000u}) {
    for (int ws = -1; ws <= 14; ++ws) {
      for (int sack = 0; sack < 2; ++sack) {
        for (int ecn = 0; ecn < 2; ++ecn) {
          const uint32_t ts = SynCookies::ts_encode(tsval, ws, sack != 0, ecn != 0);
          EXPECT_LE(ts, tsval);
          EXPECT_LT(tsval - ts, 64u);
          int dws = 99;
          bool dsack = false, decn = false;
          EXPECT_TRUE(SynCookies::ts_decode(ts, true, dws, dsack, decn));
          EXPECT_EQ(dws, ws);
          EXPECT_EQ(dsack, sack != 0);
          EXPECT_EQ(decn, ecn != 0);
        }
      }
    }
  }
}

TEST(SynCookies, TimestampDecodeRefusesWindowScaleWhenScalingIsOff) {
  int ws = 0;
  bool sack = false, ecn = false;
  EXPECT_FALSE(SynCookies::ts_decode(SynCookies::ts_encode(1000, 7, false, false), false, ws, sack, ecn));
  EXPECT_EQ(ws, 7);
  // Without a window scale in the cookie, scaling being off does not matter.
  EXPECT_TRUE(SynCookies::ts_decode(SynCookies::ts_encode(1000, -1, true, false), false, ws, sack, ecn));
  EXPECT_EQ(ws, -1);
  EXPECT_TRUE(sack);
}

}  // namespace
}  // namespace tcpterm
