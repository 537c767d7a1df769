// TCP options: Linux's layout byte for byte for the SYN-ACK variants and data
// segments, parse/write round trips, and every malformed option list.
#include "engine/wire/tcp_options.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/engine/wire/wire_test_util.h"

namespace tcpterm {
namespace {

using wire_test::from_hex;

std::vector<uint8_t> written(const TcpOptions& o) {
  std::vector<uint8_t> b(tcp_options_size(o));
  EXPECT_EQ(write_tcp_options(b.data(), o), b.size());
  return b;
}

TcpOptions parsed(const std::vector<uint8_t>& b, DropReason expect = DropReason::none) {
  TcpOptions o;
  EXPECT_EQ(parse_tcp_options(b.data(), b.size(), o), expect);
  return o;
}

// Expected bytes from Linux's tcp_options_write() (net/ipv4/tcp_output.c).
TEST(TcpOptions, LinuxSynAckMssOnly) {
  TcpOptions o;
  o.has_mss = true;
  o.mss = 1460;
  EXPECT_EQ(written(o), from_hex("0204 05b4"));
}

TEST(TcpOptions, LinuxSynAckMssSackTsWs) {
  TcpOptions o{.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 10, .sack_permitted = true,
               .has_timestamps = true, .tsval = 3711138366u, .tsecr = 3845589827u};
  // Exactly the option bytes of the captured Linux SYN-ACK.
  EXPECT_EQ(written(o), from_hex("0204 05b4 0402 080a dd33 7a3e e537 0b43 0103 030a"));
  EXPECT_EQ(tcp_options_size(o), 20u);
}

TEST(TcpOptions, LinuxSynAckTsWithoutSack) {
  TcpOptions o{.has_mss = true, .mss = 1448, .has_wscale = true, .wscale = 7, .sack_permitted = false,
               .has_timestamps = true, .tsval = 0x01020304, .tsecr = 0x0a0b0c0d};
  EXPECT_EQ(written(o), from_hex("0204 05a8 0101 080a 0102 0304 0a0b 0c0d 0103 0307"));
}

TEST(TcpOptions, LinuxSynAckSackWithoutTs) {
  TcpOptions o{.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7, .sack_permitted = true};
  EXPECT_EQ(written(o), from_hex("0204 05b4 0101 0402 0103 0307"));
  o.has_wscale = false;
  EXPECT_EQ(written(o), from_hex("0204 05b4 0101 0402"));
}

TEST(TcpOptions, LinuxDataSegmentTimestampsOnly) {
  TcpOptions o{.has_timestamps = true, .tsval = 3845589827u, .tsecr = 3711138366u};
  // The captured ACK's options.
  EXPECT_EQ(written(o), from_hex("0101 080a e537 0b43 dd33 7a3e"));
}

TEST(TcpOptions, NoneIsEmpty) {
  EXPECT_EQ(tcp_options_size(TcpOptions{}), 0u);
  EXPECT_TRUE(written(TcpOptions{}).empty());
}

TEST(TcpOptions, ParsesLinuxSyn) {
  const auto o = parsed(from_hex("0204 05b4 0402 080a e537 0b43 0000 0000 0103 030a"));
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_TRUE(o.has_timestamps);
  EXPECT_EQ(o.tsval, 3845589827u);
  EXPECT_EQ(o.tsecr, 0u);
  EXPECT_TRUE(o.has_wscale);
  EXPECT_EQ(o.wscale, 10);
}

TEST(TcpOptions, RoundTripEveryCombination) {
  for (int m = 0; m < 16; ++m) {
    TcpOptions o;
    o.has_mss = m & 1;
    o.mss = o.has_mss ? 536 + m : 0;
    o.has_wscale = m & 2;
    o.wscale = o.has_wscale ? static_cast<uint8_t>(m % 15) : 0;
    o.sack_permitted = m & 4;
    o.has_timestamps = m & 8;
    o.tsval = o.has_timestamps ? 0x80000000u + m : 0;
    o.tsecr = o.has_timestamps ? 0xfffffff0u - m : 0;
    const auto b = written(o);
    EXPECT_EQ(b.size() % 4, 0u);
    EXPECT_LE(b.size(), 20u);
    const auto p = parsed(b);
    EXPECT_EQ(p.has_mss, o.has_mss);
    EXPECT_EQ(p.mss, o.mss);
    EXPECT_EQ(p.has_wscale, o.has_wscale);
    EXPECT_EQ(p.wscale, o.wscale);
    EXPECT_EQ(p.sack_permitted, o.sack_permitted);
    EXPECT_EQ(p.has_timestamps, o.has_timestamps);
    EXPECT_EQ(p.tsval, o.tsval);
    EXPECT_EQ(p.tsecr, o.tsecr);
  }
}

TEST(TcpOptions, UnknownOptionsSkipped) {
  // kind 30 (MPTCP) len 6, SACK block (kind 5, len 10), then MSS.
  const auto o = parsed(from_hex("1e06 0102 0304 050a 0000 0001 0000 0002 0204 0218"));
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 536);
}

TEST(TcpOptions, EolEndsParsing) {
  // After EOL come bytes that would be invalid if read as options.
  const auto o = parsed(from_hex("0204 05b4 0002 0000"));
  EXPECT_TRUE(o.has_mss);
  EXPECT_FALSE(o.has_wscale);
}

TEST(TcpOptions, KnownOptionWithWrongLengthIgnored) {
  // MSS with length 5, TS with length 8, WS with length 4, SACKOK with length 3.
  const auto o = parsed(from_hex("0205 05b4 00 0808 0000 0001 0000 0304 0700 0403 00 01"));
  EXPECT_FALSE(o.has_mss);
  EXPECT_FALSE(o.has_timestamps);
  EXPECT_FALSE(o.has_wscale);
  EXPECT_FALSE(o.sack_permitted);
}

TEST(TcpOptions, WscaleClampedAndZeroMssIgnored) {
  const auto o = parsed(from_hex("0204 0000 0103 030f"));
  EXPECT_FALSE(o.has_mss);  // Linux ignores an MSS of 0
  EXPECT_TRUE(o.has_wscale);
  EXPECT_EQ(o.wscale, 14);  // RFC 7323 2.3: values above 14 are taken as 14
}

TEST(TcpOptions, MalformedLengths) {
  parsed(from_hex("0200 0000"), DropReason::tcp_bad_option);            // length 0
  parsed(from_hex("0101 0801 0000"), DropReason::tcp_bad_option);       // length 1
  parsed(from_hex("0101 0101 0204"), DropReason::tcp_bad_option);       // MSS running past the end
  parsed(from_hex("0101 0102"), DropReason::tcp_bad_option);            // kind with no length byte
  parsed(from_hex("1eff 0000"), DropReason::tcp_bad_option);            // unknown kind, length 255
  parsed(from_hex("0101 0101"), DropReason::none);                      // all NOPs
  parsed(from_hex("0402"), DropReason::none);                           // ends exactly at the end
}

TEST(TcpOptions, ParserStaysWithinExactBuffers) {
  // Every prefix of a full option list, in an exact-size buffer (ASan).
  const auto full = from_hex("0204 05b4 0402 080a e537 0b43 0000 0000 0103 030a");
  for (size_t n = 0; n <= full.size(); ++n) {
    std::vector<uint8_t> b(full.begin(), full.begin() + static_cast<long>(n));
    TcpOptions o;
    const DropReason r = parse_tcp_options(b.data(), b.size(), o);
    // Cuts inside an option (after its kind byte) are malformed.
    const bool on_boundary = n == 0 || n == 4 || n == 6 || n == 16 || n == 17 || n == 20;
    EXPECT_EQ(r, on_boundary ? DropReason::none : DropReason::tcp_bad_option) << n;
  }
}

}  // namespace
}  // namespace tcpterm
