// Builders: the captured Linux frames rebuilt byte for byte from their fields,
// parse(build(spec)) round trips on random specs, capacity limits in exact-size
// buffers, and the in-place ARP and ICMP echo replies.
#include "engine/wire/build.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "engine/wire/arp.h"
#include "engine/wire/bytes.h"
#include "engine/wire/checksum.h"
#include "tests/engine/wire/wire_test_util.h"

namespace tcpterm {
namespace {

using wire_test::exact;
using wire_test::from_hex;
using wire_test::refresh_checksums;

constexpr MacAddr kMacA{{0x02, 0x93, 0x35, 0x00, 0x33, 0x4b}};  // 10.77.0.1, the client
constexpr MacAddr kMacB{{0x86, 0xe3, 0x0c, 0xbd, 0x9b, 0xdb}};  // 10.77.0.2, the listener

std::vector<uint8_t> build(const TcpSegmentSpec& s) {
  std::vector<uint8_t> b(kTcpFrameHeadroom + s.payload_len);
  const size_t n = build_tcp_frame(b.data(), b.size(), s);
  EXPECT_NE(n, 0u);
  return exact(b, n);
}

TEST(BuildTcpFrame, ReproducesLinuxSynAck) {
  TcpSegmentSpec s{};
  s.eth_src = kMacB;
  s.eth_dst = kMacA;
  s.ip_src = ipv4(10, 77, 0, 2);
  s.ip_dst = ipv4(10, 77, 0, 1);
  s.sport = 8080;
  s.dport = 47530;
  s.seq = 2320395460u;
  s.ack = 521082228u;
  s.flags = tcp_flags::SYN | tcp_flags::ACK;
  s.window = 65160;
  s.opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 10, .sack_permitted = true,
            .has_timestamps = true, .tsval = 3711138366u, .tsecr = 3845589827u};
  s.ip_id = 0;
  EXPECT_EQ(build(s), from_hex(wire_test::kLinuxSynAck));
}

TEST(BuildTcpFrame, ReproducesLinuxSynAckAndData) {
  TcpSegmentSpec s{};
  s.eth_src = kMacA;
  s.eth_dst = kMacB;
  s.ip_src = ipv4(10, 77, 0, 1);
  s.ip_dst = ipv4(10, 77, 0, 2);
  s.sport = 47530;
  s.dport = 8080;

  s.seq = 521082227u;
  s.ack = 0;
  s.flags = tcp_flags::SYN;
  s.window = 64240;
  s.ip_id = 0xa675;
  s.opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 10, .sack_permitted = true,
            .has_timestamps = true, .tsval = 3845589827u, .tsecr = 0};
  EXPECT_EQ(build(s), from_hex(wire_test::kLinuxSyn));

  s.seq = 521082228u;
  s.ack = 2320395461u;
  s.flags = tcp_flags::ACK;
  s.window = 63;
  s.ip_id = 0xa676;
  s.opts = {.has_timestamps = true, .tsval = 3845589827u, .tsecr = 3711138366u};
  EXPECT_EQ(build(s), from_hex(wire_test::kLinuxAck));

  const uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
  s.flags = tcp_flags::PSH | tcp_flags::ACK;
  s.ip_id = 0xa677;
  s.payload = hello;
  s.payload_len = 5;
  EXPECT_EQ(build(s), from_hex(wire_test::kLinuxData));
}

TEST(BuildTcpFrame, RoundTripRandomSpecs) {
  std::mt19937 rng(31337);
  std::vector<uint8_t> payload(1460);
  for (auto& b : payload) b = static_cast<uint8_t>(rng());
  for (int iter = 0; iter < 2000; ++iter) {
    TcpSegmentSpec s{};
    for (auto& b : s.eth_src.b) b = static_cast<uint8_t>(rng());
    for (auto& b : s.eth_dst.b) b = static_cast<uint8_t>(rng());
    s.ip_src = ipv4(10, static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()));
    s.ip_dst = ipv4(192, 168, static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()));
    s.sport = static_cast<uint16_t>(1 + rng() % 65535);
    s.dport = static_cast<uint16_t>(1 + rng() % 65535);
    s.seq = static_cast<uint32_t>(rng());
    s.ack = static_cast<uint32_t>(rng());
    static constexpr uint8_t kFlags[] = {tcp_flags::SYN, tcp_flags::SYN | tcp_flags::ACK, tcp_flags::ACK,
                                         tcp_flags::FIN | tcp_flags::ACK, tcp_flags::RST,
                                         tcp_flags::RST | tcp_flags::ACK, tcp_flags::PSH | tcp_flags::ACK,
                                         tcp_flags::SYN | tcp_flags::ECE | tcp_flags::CWR};
    s.flags = kFlags[rng() % 8];
    s.window = static_cast<uint16_t>(rng());
    const unsigned m = static_cast<unsigned>(rng());
    s.opts.has_mss = m & 1;
    s.opts.mss = s.opts.has_mss ? static_cast<uint16_t>(1 + rng() % 65535) : 0;
    s.opts.has_wscale = m & 2;
    s.opts.wscale = s.opts.has_wscale ? static_cast<uint8_t>(rng() % 15) : 0;
    s.opts.sack_permitted = m & 4;
    s.opts.has_timestamps = m & 8;
    s.opts.tsval = s.opts.has_timestamps ? static_cast<uint32_t>(rng()) : 0;
    s.opts.tsecr = s.opts.has_timestamps ? static_cast<uint32_t>(rng()) : 0;
    s.payload_len = static_cast<uint16_t>((m & 16) ? rng() % 1461 : 0);
    s.payload = payload.data();
    s.ttl = static_cast<uint8_t>(1 + rng() % 255);
    s.ip_id = static_cast<uint16_t>(rng());
    s.tos = static_cast<uint8_t>(rng());
    s.dont_fragment = m & 32;

    const auto f = build(s);
    ASSERT_EQ(f.size(), 54 + tcp_options_size(s.opts) + s.payload_len);
    ParsedFrame p;
    ASSERT_EQ(parse_frame(f.data(), f.size(), p), DropReason::none) << iter;
    EXPECT_EQ(p.eth_src, s.eth_src);
    EXPECT_EQ(p.eth_dst, s.eth_dst);
    EXPECT_EQ(p.l4, L4::tcp);
    EXPECT_EQ(p.ip_src, s.ip_src);
    EXPECT_EQ(p.ip_dst, s.ip_dst);
    EXPECT_EQ(p.ip_ttl, s.ttl);
    EXPECT_EQ(p.ip_id, s.ip_id);
    EXPECT_EQ(p.ip_tos, s.tos);
    EXPECT_EQ((load_be16(f.data() + 20) & 0x4000) != 0, s.dont_fragment);
    EXPECT_EQ(p.sport, s.sport);
    EXPECT_EQ(p.dport, s.dport);
    EXPECT_EQ(p.seq, s.seq);
    EXPECT_EQ(p.ack, s.ack);
    EXPECT_EQ(p.flags, s.flags);
    EXPECT_EQ(p.window, s.window);
    EXPECT_EQ(p.opts.has_mss, s.opts.has_mss);
    EXPECT_EQ(p.opts.mss, s.opts.mss);
    EXPECT_EQ(p.opts.has_wscale, s.opts.has_wscale);
    EXPECT_EQ(p.opts.wscale, s.opts.wscale);
    EXPECT_EQ(p.opts.sack_permitted, s.opts.sack_permitted);
    EXPECT_EQ(p.opts.has_timestamps, s.opts.has_timestamps);
    EXPECT_EQ(p.opts.tsval, s.opts.tsval);
    EXPECT_EQ(p.opts.tsecr, s.opts.tsecr);
    ASSERT_EQ(p.payload_len, s.payload_len);
    EXPECT_TRUE(std::equal(f.begin() + p.payload_offset, f.end(), payload.begin()));
  }
}

TEST(BuildTcpFrame, CapacityTooSmallWritesNothingPastIt) {
  TcpSegmentSpec s{};
  s.ip_src = ipv4(10, 0, 0, 1);
  s.ip_dst = ipv4(10, 0, 0, 2);
  s.sport = 80;
  s.dport = 1234;
  s.flags = tcp_flags::SYN | tcp_flags::ACK;
  s.opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7, .sack_permitted = true,
            .has_timestamps = true};
  const uint8_t data[10] = {};
  s.payload = data;
  s.payload_len = 10;
  const size_t need = 14 + 20 + 20 + 20 + 10;
  for (size_t cap = 0; cap < need; ++cap) {
    auto b = std::make_unique<uint8_t[]>(cap + 1);  // +1 so cap 0 has a valid pointer; only cap is lent
    EXPECT_EQ(build_tcp_frame(b.get(), cap, s), 0u) << cap;
  }
  auto b = std::make_unique<uint8_t[]>(need);  // exactly enough: ASan checks no byte past it
  EXPECT_EQ(build_tcp_frame(b.get(), need, s), need);
}

TEST(BuildTcpFrame, DatagramOver65535Refused) {
  std::vector<uint8_t> payload(65535);
  TcpSegmentSpec s{};
  s.flags = tcp_flags::ACK;
  s.payload = payload.data();
  s.payload_len = 65535 - 40;  // 20 + 20 + 65495 = 65535: the largest datagram
  std::vector<uint8_t> b(70000);
  EXPECT_EQ(build_tcp_frame(b.data(), b.size(), s), 14u + 65535u);
  s.payload_len = 65535 - 39;
  EXPECT_EQ(build_tcp_frame(b.data(), b.size(), s), 0u);
}

TEST(BuildArpReply, ExactBytes) {
  ArpInfo req{arp_op::REQUEST, kMacA, ipv4(10, 77, 0, 1), MacAddr{{0, 0, 0, 0, 0, 0}}, ipv4(10, 77, 0, 2)};
  std::vector<uint8_t> b(42);
  ASSERT_EQ(build_arp_reply(b.data(), b.size(), kMacB, ipv4(10, 77, 0, 2), req, kMacA), 42u);
  EXPECT_EQ(b, from_hex("0293 3500 334b 86e3 0cbd 9bdb 0806"
                        "0001 0800 0604 0002 86e3 0cbd 9bdb 0a4d 0002 0293 3500 334b 0a4d 0001"));
  std::vector<uint8_t> small(41);
  EXPECT_EQ(build_arp_reply(small.data(), small.size(), kMacB, ipv4(10, 77, 0, 2), req, kMacA), 0u);
  // The reply parses as an ARP reply.
  ParsedFrame p;
  ASSERT_EQ(parse_frame(b.data(), b.size(), p), DropReason::none);
  EXPECT_EQ(p.arp.op, arp_op::REPLY);
  EXPECT_EQ(p.arp.sha, kMacB);
  EXPECT_EQ(p.arp.tpa, ipv4(10, 77, 0, 1));
}

TEST(BuildArpReply, InPlaceOverTheRequest) {
  auto f = from_hex(
      "ffff ffff ffff 0293 3500 334b 0806"
      "0001 0800 0604 0001 0293 3500 334b 0a4d 0001 0000 0000 0000 0a4d 0002"
      "0000 0000 0000 0000 0000 0000 0000 0000 0000");
  ParsedFrame p;
  ASSERT_EQ(parse_frame(f.data(), f.size(), p), DropReason::none);
  ASSERT_EQ(build_arp_reply(f.data(), f.size(), kMacB, p.arp.tpa, p.arp, p.eth_src), 42u);
  EXPECT_EQ(exact(f, 42), from_hex("0293 3500 334b 86e3 0cbd 9bdb 0806"
                                   "0001 0800 0604 0002 86e3 0cbd 9bdb 0a4d 0002 0293 3500 334b 0a4d 0001"));
}

TEST(IcmpEchoReply, InPlaceWithIncrementalChecksums) {
  // Echo request with TTL 50 and 4 bytes of Ethernet padding after it.
  auto f = from_hex(
      "86e3 0cbd 9bdb 0293 3500 334b 0800"
      "4500 0020 1234 4000 3201 0000 0a4d 0001 0a4d 0002"
      "0800 0000 abcd 0001 6162 6364"
      "dead beef");
  refresh_checksums(f);
  ParsedFrame p;
  ASSERT_EQ(parse_frame(f.data(), f.size(), p), DropReason::none);
  ASSERT_EQ(p.l4, L4::icmp);
  ASSERT_EQ(make_icmp_echo_reply_in_place(f.data(), f.size(), p), 46u);

  auto expect = from_hex(
      "0293 3500 334b 86e3 0cbd 9bdb 0800"
      "4500 0020 1234 4000 4001 0000 0a4d 0002 0a4d 0001"
      "0000 0000 abcd 0001 6162 6364");
  refresh_checksums(expect);  // full recomputation: the incremental result must match it
  EXPECT_EQ(exact(f, 46), expect);
  EXPECT_EQ(ipv4_header_csum(f.data() + 14, 20), 0u);
  EXPECT_EQ(csum_fold(csum_add(0, f.data() + 34, 12)), 0u);
}

TEST(IcmpEchoReply, RefusesOtherFrames) {
  auto f = from_hex(wire_test::kLinuxSyn);
  ParsedFrame p;
  ASSERT_EQ(parse_frame(f.data(), f.size(), p), DropReason::none);
  EXPECT_EQ(make_icmp_echo_reply_in_place(f.data(), f.size(), p), 0u);
  EXPECT_EQ(f, from_hex(wire_test::kLinuxSyn));  // untouched
}

}  // namespace
}  // namespace tcpterm
