// parse_frame(): real Linux frames decoded field by field, and every malformed
// case dropped under its exact DropReason, each frame in an exact-size buffer.
#include "engine/wire/frame.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/wire/bytes.h"
#include "tests/engine/wire/wire_test_util.h"

namespace tcpterm {
namespace {

using wire_test::exact;
using wire_test::from_hex;
using wire_test::refresh_checksums;

DropReason parse(const std::vector<uint8_t>& f, ParsedFrame& p, ParseOptions o = {}) {
  return parse_frame(f.data(), f.size(), p, o);
}
DropReason parse(const std::vector<uint8_t>& f) {
  ParsedFrame p;
  return parse(f, p);
}

// In the capture, 10.77.0.2 (the listener) has kMacA and 10.77.0.1 kMacB.
constexpr MacAddr kMacA{{0x86, 0xe3, 0x0c, 0xbd, 0x9b, 0xdb}};
constexpr MacAddr kMacB{{0x02, 0x93, 0x35, 0x00, 0x33, 0x4b}};

TEST(ParseFrame, LinuxSyn) {
  const auto f = from_hex(wire_test::kLinuxSyn);
  ParsedFrame p;
  ASSERT_EQ(parse(f, p), DropReason::none);
  EXPECT_EQ(p.eth_dst, kMacA);
  EXPECT_EQ(p.eth_src, kMacB);
  EXPECT_EQ(p.ethertype, 0x0800);
  EXPECT_EQ(p.l4, L4::tcp);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_EQ(p.ip_hdr_len, 20);
  EXPECT_EQ(p.ip_total_len, 60);
  EXPECT_EQ(p.ip_id, 0xa675);
  EXPECT_EQ(p.ip_ttl, 64);
  EXPECT_EQ(p.ip_tos, 0);
  EXPECT_EQ(p.ip_proto, 6);
  EXPECT_EQ(p.ip_src, ipv4(10, 77, 0, 1));
  EXPECT_EQ(p.ip_dst, ipv4(10, 77, 0, 2));
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.l4_len, 40);
  EXPECT_EQ(p.sport, 47530);
  EXPECT_EQ(p.dport, 8080);
  EXPECT_EQ(p.seq, 521082227u);
  EXPECT_EQ(p.ack, 0u);
  EXPECT_EQ(p.flags, tcp_flags::SYN);
  EXPECT_EQ(p.window, 64240);
  EXPECT_EQ(p.urg_ptr, 0);
  EXPECT_EQ(p.tcp_hdr_len, 40);
  EXPECT_TRUE(p.opts.has_mss);
  EXPECT_EQ(p.opts.mss, 1460);
  EXPECT_TRUE(p.opts.sack_permitted);
  EXPECT_TRUE(p.opts.has_timestamps);
  EXPECT_EQ(p.opts.tsval, 3845589827u);
  EXPECT_EQ(p.opts.tsecr, 0u);
  EXPECT_TRUE(p.opts.has_wscale);
  EXPECT_EQ(p.opts.wscale, 10);
  EXPECT_EQ(p.payload_offset, 74);
  EXPECT_EQ(p.payload_len, 0);
}

TEST(ParseFrame, LinuxSynAckAckAndData) {
  ParsedFrame p;
  ASSERT_EQ(parse(from_hex(wire_test::kLinuxSynAck), p), DropReason::none);
  EXPECT_EQ(p.flags, tcp_flags::SYN | tcp_flags::ACK);
  EXPECT_EQ(p.seq, 2320395460u);
  EXPECT_EQ(p.ack, 521082228u);
  EXPECT_EQ(p.opts.tsecr, 3845589827u);

  ASSERT_EQ(parse(from_hex(wire_test::kLinuxAck), p), DropReason::none);
  EXPECT_EQ(p.flags, tcp_flags::ACK);
  EXPECT_EQ(p.window, 63);
  EXPECT_EQ(p.tcp_hdr_len, 32);
  EXPECT_FALSE(p.opts.has_mss);
  EXPECT_TRUE(p.opts.has_timestamps);
  EXPECT_EQ(p.opts.tsval, 3845589827u);
  EXPECT_EQ(p.opts.tsecr, 3711138366u);
  EXPECT_EQ(p.payload_len, 0);

  const auto d = from_hex(wire_test::kLinuxData);
  ASSERT_EQ(parse(d, p), DropReason::none);
  EXPECT_EQ(p.flags, tcp_flags::PSH | tcp_flags::ACK);
  EXPECT_EQ(p.payload_offset, 66);
  EXPECT_EQ(p.payload_len, 5);
  EXPECT_EQ(std::string(d.begin() + p.payload_offset, d.begin() + p.payload_offset + p.payload_len), "hello");
}

TEST(ParseFrame, EthernetPaddingExcluded) {
  // The 66-byte ACK padded to 80 bytes with junk: IP total length wins.
  auto f = from_hex(wire_test::kLinuxAck);
  for (int i = 0; i < 14; ++i) f.push_back(0xee);
  f = exact(f, f.size());
  ParsedFrame p;
  ASSERT_EQ(parse(f, p), DropReason::none);
  EXPECT_EQ(p.l4_len, 32);
  EXPECT_EQ(p.payload_len, 0);
  EXPECT_EQ(p.payload_offset, 66);
}

TEST(ParseFrame, IpOptionsSkipped) {
  // Insert 8 bytes of IP options (NOP, NOP, router alert 94 04 00 00, EOL x2) into the SYN.
  auto f = from_hex(wire_test::kLinuxSyn);
  const auto opts = from_hex("0101 9404 0000 0000");
  f.insert(f.begin() + 34, opts.begin(), opts.end());
  f[14] = 0x47;                  // IHL 7
  store_be16(f.data() + 16, 68);  // total length
  refresh_checksums(f);
  f = exact(f, f.size());
  ParsedFrame p;
  ASSERT_EQ(parse(f, p), DropReason::none);
  EXPECT_EQ(p.ip_hdr_len, 28);
  EXPECT_EQ(p.l4_offset, 42);
  EXPECT_EQ(p.l4_len, 40);
  EXPECT_EQ(p.sport, 47530);
  EXPECT_EQ(p.opts.mss, 1460);
  EXPECT_EQ(p.payload_offset, 82);
}

TEST(ParseFrame, NicVerifiedChecksumsSkipped) {
  auto f = from_hex(wire_test::kLinuxSyn);
  f[24] ^= 0x01;  // IP checksum
  f[50] ^= 0x01;  // TCP checksum
  ParsedFrame p;
  EXPECT_EQ(parse(f, p), DropReason::ip_bad_checksum);
  EXPECT_EQ(parse(f, p, {.ip_csum_verified = true}), DropReason::tcp_bad_checksum);
  EXPECT_EQ(parse(f, p, {.ip_csum_verified = true, .l4_csum_verified = true}), DropReason::none);
}

TEST(ParseFrame, Arp) {
  // Who has 10.77.0.2? Tell 10.77.0.1.
  const auto f = from_hex(
      "ffff ffff ffff 86e3 0cbd 9bdb 0806"
      "0001 0800 0604 0001 86e3 0cbd 9bdb 0a4d 0001 0000 0000 0000 0a4d 0002"
      "0000 0000 0000 0000 0000 0000 0000 0000 0000");  // 18 bytes of padding to 60
  ASSERT_EQ(f.size(), 60u);
  ParsedFrame p;
  ASSERT_EQ(parse(f, p), DropReason::none);
  EXPECT_EQ(p.l4, L4::arp);
  EXPECT_EQ(p.ethertype, 0x0806);
  EXPECT_EQ(p.arp.op, 1);
  EXPECT_EQ(p.arp.sha, kMacA);
  EXPECT_EQ(p.arp.spa, ipv4(10, 77, 0, 1));
  EXPECT_EQ(p.arp.tha, (MacAddr{{0, 0, 0, 0, 0, 0}}));
  EXPECT_EQ(p.arp.tpa, ipv4(10, 77, 0, 2));
  EXPECT_EQ(p.ip_src, 0u);  // other layers zero

  auto m = f;
  m[21] = 2;  // reply is accepted too
  EXPECT_EQ(parse(m), DropReason::none);
  m[21] = 3;
  EXPECT_EQ(parse(m), DropReason::arp_unsupported);
  m = f; m[15] = 6;     EXPECT_EQ(parse(m), DropReason::arp_unsupported);  // htype IEEE 802
  m = f; m[16] = 0x86;  EXPECT_EQ(parse(m), DropReason::arp_unsupported);  // ptype
  m = f; m[18] = 8;     EXPECT_EQ(parse(m), DropReason::arp_unsupported);  // hlen
  m = f; m[19] = 16;    EXPECT_EQ(parse(m), DropReason::arp_unsupported);  // plen
  EXPECT_EQ(parse(exact(f, 41)), DropReason::arp_truncated);
  EXPECT_EQ(parse(exact(f, 42)), DropReason::none);
}

std::vector<uint8_t> icmp_echo_frame() {
  auto f = from_hex(
      "0293 3500 334b 86e3 0cbd 9bdb 0800"
      "4500 0020 1234 4000 4001 0000 0a4d 0001 0a4d 0002"
      "0800 0000 abcd 0001 6162 6364");  // type 8, id abcd, seq 1, "abcd"
  refresh_checksums(f);
  return f;
}

TEST(ParseFrame, IcmpEcho) {
  const auto f = icmp_echo_frame();
  ParsedFrame p;
  ASSERT_EQ(parse(f, p), DropReason::none);
  EXPECT_EQ(p.l4, L4::icmp);
  EXPECT_EQ(p.ip_proto, 1);
  EXPECT_EQ(p.l4_offset, 34);
  EXPECT_EQ(p.l4_len, 12);
  EXPECT_EQ(p.payload_offset, 42);
  EXPECT_EQ(p.payload_len, 4);
  EXPECT_EQ(p.sport, 0);

  auto m = f;
  m[35 + 8] ^= 0xff;  // data byte
  EXPECT_EQ(parse(m), DropReason::icmp_bad_checksum);
  m = f; m[34] = 0;  refresh_checksums(m);  EXPECT_EQ(parse(m), DropReason::icmp_unsupported);  // echo reply
  m = f; m[34] = 3;  refresh_checksums(m);  EXPECT_EQ(parse(m), DropReason::icmp_unsupported);  // unreachable
  m = f; m[35] = 1;  refresh_checksums(m);  EXPECT_EQ(parse(m), DropReason::icmp_unsupported);  // code != 0
  m = f; store_be16(m.data() + 16, 27);  refresh_checksums(m);
  EXPECT_EQ(parse(m), DropReason::icmp_truncated);
}

// Each malformed case: a mutation of the captured data segment, checksums
// refreshed (or not) so that exactly the intended check fails.
struct Case {
  const char* name;
  std::function<void(std::vector<uint8_t>&)> mutate;
  bool refresh;
  DropReason expect;
};

TEST(ParseFrame, EveryMalformedCaseHasItsReason) {
  const auto base = from_hex(wire_test::kLinuxData);  // 71 bytes, TCP header 32, payload 5
  ASSERT_EQ(parse(base), DropReason::none);
  auto tcp_opt = [](std::vector<uint8_t>& f, std::string_view hex) {
    const auto o = from_hex(hex);
    std::copy(o.begin(), o.end(), f.begin() + 54);  // the 12 option bytes
  };
  const std::vector<Case> cases = {
      {"ethertype IPv6", [](auto& f) { store_be16(f.data() + 12, 0x86dd); }, false, DropReason::ethertype_unsupported},
      {"ethertype VLAN", [](auto& f) { store_be16(f.data() + 12, 0x8100); }, false, DropReason::ethertype_unsupported},
      {"IP version 6", [](auto& f) { f[14] = 0x65; }, false, DropReason::ip_bad_version},
      {"IP version 0", [](auto& f) { f[14] = 0x05; }, false, DropReason::ip_bad_version},
      {"IHL 4", [](auto& f) { f[14] = 0x44; }, false, DropReason::ip_bad_ihl},
      {"IHL 0", [](auto& f) { f[14] = 0x40; }, false, DropReason::ip_bad_ihl},
      {"IHL 15 past frame", [](auto& f) { f[14] = 0x4f; }, false, DropReason::ip_bad_ihl},
      {"total length > frame", [](auto& f) { store_be16(f.data() + 16, 58); }, true, DropReason::ip_len_exceeds_frame},
      {"total length 65535", [](auto& f) { store_be16(f.data() + 16, 0xffff); }, true, DropReason::ip_len_exceeds_frame},
      {"total length < header", [](auto& f) { store_be16(f.data() + 16, 19); }, true, DropReason::ip_len_too_small},
      {"total length 0", [](auto& f) { store_be16(f.data() + 16, 0); }, true, DropReason::ip_len_too_small},
      {"IP checksum", [](auto& f) { f[25] ^= 0x40; }, false, DropReason::ip_bad_checksum},
      {"TTL changed, checksum not", [](auto& f) { f[22] = 63; }, false, DropReason::ip_bad_checksum},
      {"more fragments", [](auto& f) { store_be16(f.data() + 20, 0x2000); }, true, DropReason::ip_fragment},
      {"fragment offset", [](auto& f) { store_be16(f.data() + 20, 0x0001); }, true, DropReason::ip_fragment},
      {"last fragment with DF", [](auto& f) { store_be16(f.data() + 20, 0x40b9); }, true, DropReason::ip_fragment},
      {"source 0.0.0.0", [](auto& f) { store_be32(f.data() + 26, 0); }, true, DropReason::ip_bad_address},
      {"source multicast", [](auto& f) { store_be32(f.data() + 26, ipv4(224, 0, 0, 1)); }, true, DropReason::ip_bad_address},
      {"source broadcast", [](auto& f) { store_be32(f.data() + 26, 0xffffffff); }, true, DropReason::ip_bad_address},
      {"destination broadcast", [](auto& f) { store_be32(f.data() + 30, 0xffffffff); }, true, DropReason::ip_bad_address},
      {"destination multicast", [](auto& f) { store_be32(f.data() + 30, ipv4(239, 1, 2, 3)); }, true, DropReason::ip_bad_address},
      {"UDP", [](auto& f) { f[23] = 17; }, true, DropReason::ip_proto_unsupported},
      {"TCP shorter than 20", [](auto& f) { store_be16(f.data() + 16, 20 + 19); }, true, DropReason::tcp_truncated},
      {"TCP empty", [](auto& f) { store_be16(f.data() + 16, 20); }, true, DropReason::tcp_truncated},
      {"doff 4", [](auto& f) { f[46] = 0x40; }, true, DropReason::tcp_bad_doff},
      {"doff 0", [](auto& f) { f[46] = 0x00; }, true, DropReason::tcp_bad_doff},
      {"doff 15 past segment", [](auto& f) { f[46] = 0xf0; }, true, DropReason::tcp_doff_past_packet},
      {"doff past IP length (padding present)", [](auto& f) { store_be16(f.data() + 16, 20 + 28); }, true,
       DropReason::tcp_doff_past_packet},
      {"TCP checksum", [](auto& f) { f[70] ^= 0x01; }, false, DropReason::tcp_bad_checksum},
      {"TCP pseudo-header address", [](auto& f) { store_be32(f.data() + 30, ipv4(10, 77, 0, 3));
         store_be16(f.data() + 24, 0); store_be16(f.data() + 24, ipv4_header_csum(f.data() + 14, 20)); },
       false, DropReason::tcp_bad_checksum},
      {"option length 0", [&](auto& f) { tcp_opt(f, "0101 0800 0000 0000 0000 0000"); }, true, DropReason::tcp_bad_option},
      {"option length 1", [&](auto& f) { tcp_opt(f, "0101 0101 0101 0101 0101 0201"); }, true, DropReason::tcp_bad_option},
      {"MSS past header", [&](auto& f) { tcp_opt(f, "0101 0101 0101 0101 0101 0204"); }, true, DropReason::tcp_bad_option},
      {"unknown option past header", [&](auto& f) { tcp_opt(f, "0101 0101 0101 0101 1e08 0000"); }, true,
       DropReason::tcp_bad_option},
      {"option kind at last byte", [&](auto& f) { tcp_opt(f, "0101 0101 0101 0101 0101 0103"); }, true, DropReason::tcp_bad_option},
      {"source port 0", [](auto& f) { store_be16(f.data() + 34, 0); }, true, DropReason::tcp_bad_port},
      {"destination port 0", [](auto& f) { store_be16(f.data() + 36, 0); }, true, DropReason::tcp_bad_port},
      {"SYN+FIN", [](auto& f) { f[47] = tcp_flags::SYN | tcp_flags::FIN; }, true, DropReason::tcp_bad_flags},
      {"SYN+RST", [](auto& f) { f[47] = tcp_flags::SYN | tcp_flags::RST | tcp_flags::ACK; }, true, DropReason::tcp_bad_flags},
      {"no flags", [](auto& f) { f[47] = 0; }, true, DropReason::tcp_bad_flags},
      {"only ECE+CWR", [](auto& f) { f[47] = tcp_flags::ECE | tcp_flags::CWR; }, true, DropReason::tcp_bad_flags},
      {"FIN+ACK is fine", [](auto& f) { f[47] = tcp_flags::FIN | tcp_flags::ACK; }, true, DropReason::none},
      {"RST alone is fine", [](auto& f) { f[47] = tcp_flags::RST; }, true, DropReason::none},
      {"DF only is fine", [](auto& f) { store_be16(f.data() + 20, 0x4000); }, true, DropReason::none},
  };
  for (const auto& c : cases) {
    auto f = base;
    c.mutate(f);
    if (c.refresh) refresh_checksums(f);
    const auto e = exact(f, f.size());
    ParsedFrame p;
    EXPECT_EQ(drop_reason_name(parse(e, p)), drop_reason_name(c.expect)) << c.name;
  }
}

TEST(ParseFrame, Truncations) {
  const auto f = from_hex(wire_test::kLinuxSyn);
  for (size_t n = 0; n < f.size(); ++n) {
    const DropReason expect = n < 14 ? DropReason::eth_truncated
                              : n < 34 ? DropReason::ip_truncated
                                       : DropReason::ip_len_exceeds_frame;
    EXPECT_EQ(parse(exact(f, n)), expect) << n;
  }
}

TEST(ParseFrame, FailedParseLeavesL4None) {
  auto f = from_hex(wire_test::kLinuxSyn);
  f[50] ^= 1;
  ParsedFrame p;
  p.l4 = L4::tcp;
  EXPECT_EQ(parse(f, p), DropReason::tcp_bad_checksum);
  EXPECT_EQ(p.l4, L4::none);
}

}  // namespace
}  // namespace tcpterm
