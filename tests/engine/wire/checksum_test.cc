// Checksums: known answers from real Linux frames and RFC 1071, the 64-bit
// loop against a naive per-word reference at every length and alignment, and
// RFC 1624 incremental updates against full recomputation on random data.
#include "engine/wire/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/engine/wire/wire_test_util.h"

namespace tcpterm {
namespace {

using wire_test::from_hex;
using wire_test::reference_sum;

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (folded).
  const std::vector<uint8_t> d{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(csum_add(0, d.data(), d.size()) & 0xffff, 0xddf2u);
  EXPECT_EQ(csum_fold(csum_add(0, d.data(), d.size())), 0x220du);
}

TEST(Checksum, EmptyAndOddTail) {
  EXPECT_EQ(csum_add(0, nullptr, 0), 0u);
  const uint8_t one = 0xab;
  EXPECT_EQ(csum_add(0, &one, 1), 0xab00u);  // padded with a zero byte on the right
  const uint8_t three[] = {0x12, 0x34, 0x56};
  EXPECT_EQ(csum_add(0, three, 3), 0x1234u + 0x5600u);
}

TEST(Checksum, LinuxSynKnownAnswers) {
  const auto f = from_hex(wire_test::kLinuxSyn);
  ASSERT_EQ(f.size(), 74u);
  // The IP header as captured sums to zero; recomputed with the field zeroed
  // it gives the kernel's 0x7faa.
  EXPECT_EQ(ipv4_header_csum(f.data() + 14, 20), 0u);
  auto ip = std::vector<uint8_t>(f.begin() + 14, f.begin() + 34);
  ip[10] = ip[11] = 0;
  EXPECT_EQ(ipv4_header_csum(ip.data(), 20), 0x7faa);
  // TCP: the kernel's 0x3a38 over pseudo-header + 40-byte header.
  const Ipv4Addr src = 0x0a4d0001, dst = 0x0a4d0002;
  EXPECT_TRUE(tcp_csum_ok(src, dst, f.data() + 34, 40));
  auto tcp = std::vector<uint8_t>(f.begin() + 34, f.end());
  tcp[16] = tcp[17] = 0;
  EXPECT_EQ(tcp_csum(src, dst, tcp.data(), tcp.size()), 0x3a38);
  // A wrong address in the pseudo-header must fail.
  EXPECT_FALSE(tcp_csum_ok(src + 1, dst, f.data() + 34, 40));
}

TEST(Checksum, LinuxDataSegmentOddLength) {
  // 45-byte TCP segment ("hello"): exercises the odd tail against the kernel.
  const auto f = from_hex(wire_test::kLinuxData);
  ASSERT_EQ(f.size(), 71u);
  auto tcp = std::vector<uint8_t>(f.begin() + 34, f.end());
  ASSERT_EQ(tcp.size(), 37u);
  EXPECT_TRUE(tcp_csum_ok(0x0a4d0001, 0x0a4d0002, tcp.data(), tcp.size()));
  tcp[16] = tcp[17] = 0;
  EXPECT_EQ(tcp_csum(0x0a4d0001, 0x0a4d0002, tcp.data(), tcp.size()), 0xd143);
}

TEST(Checksum, MatchesReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(12345);
  std::vector<uint8_t> buf(1600 + 8);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t align = 0; align < 8; ++align) {
    for (size_t len = 0; len <= 1600; len += (len < 200 ? 1 : 37)) {
      // Exact-size copy so ASan sees any read past len.
      std::vector<uint8_t> d(buf.begin() + static_cast<long>(align), buf.begin() + static_cast<long>(align + len));
      const uint32_t got = csum_add(0, d.data(), d.size());
      ASSERT_EQ(csum_fold(got), csum_fold(reference_sum(d.data(), d.size()))) << "len " << len << " align " << align;
    }
  }
}

TEST(Checksum, AllOnesDoesNotOverflow) {
  // 0xff.. maximises every carry chain.
  std::vector<uint8_t> d(65535, 0xff);
  EXPECT_EQ(csum_fold(csum_add(0, d.data(), d.size())), csum_fold(reference_sum(d.data(), d.size())));
  uint32_t s = 0;
  for (int i = 0; i < 1000; ++i) s = csum_add(s, d.data(), 1460);  // chained partial sums
  uint64_t ref = 0;
  for (int i = 0; i < 1000; ++i) ref += reference_sum(d.data(), 1460);
  while (ref >> 16) ref = (ref & 0xffff) + (ref >> 16);
  EXPECT_EQ(csum_fold(s), csum_fold(static_cast<uint32_t>(ref)));
}

TEST(Checksum, ChainedPartialSumsEqualOneSum) {
  std::mt19937 rng(7);
  std::vector<uint8_t> d(1000);
  for (auto& b : d) b = static_cast<uint8_t>(rng());
  // Splits at even offsets keep word alignment, so the sums must agree.
  for (size_t cut = 0; cut <= d.size(); cut += 2) {
    const uint32_t a = csum_add(csum_add(0, d.data(), cut), d.data() + cut, d.size() - cut);
    ASSERT_EQ(csum_fold(a), csum_fold(csum_add(0, d.data(), d.size()))) << cut;
  }
}

TEST(Checksum, Ipv4HeaderWithOptionsMatchesReference) {
  std::mt19937 rng(99);
  for (size_t ihl = 20; ihl <= 60; ihl += 4) {
    std::vector<uint8_t> h(ihl);
    for (auto& b : h) b = static_cast<uint8_t>(rng());
    h[10] = h[11] = 0;
    const uint16_t c = ipv4_header_csum(h.data(), ihl);
    EXPECT_EQ(c, csum_fold(reference_sum(h.data(), ihl)));
    store_be16(h.data() + 10, c);
    EXPECT_EQ(ipv4_header_csum(h.data(), ihl), 0u) << ihl;
  }
}

// RFC 1624: patching a field and updating the checksum incrementally must give
// exactly what a full recomputation gives.
TEST(Checksum, IncrementalUpdate16MatchesRecomputation) {
  std::mt19937 rng(2024);
  for (int iter = 0; iter < 20000; ++iter) {
    // Word 0 stays non-zero and untouched: an all-zero buffer is the one case
    // where ones' complement has two zeros (0x0000/0xffff) and the two
    // methods may pick different ones; a TCP pseudo-header is never all zero.
    std::vector<uint8_t> d(4 + 2 * (rng() % 40));
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    d[0] |= 1;
    const uint16_t before = csum_fold(csum_add(0, d.data(), d.size()));
    const size_t off = 2 + 2 * (rng() % (d.size() / 2 - 1));
    const uint16_t old_v = load_be16(d.data() + off);
    const uint16_t new_v = (iter % 5 == 0) ? uint16_t{0} : static_cast<uint16_t>(rng());
    store_be16(d.data() + off, new_v);
    const uint16_t after = csum_fold(csum_add(0, d.data(), d.size()));
    ASSERT_EQ(csum_update16(before, old_v, new_v), after) << iter;
  }
}

TEST(Checksum, IncrementalUpdate32MatchesRecomputation) {
  std::mt19937 rng(4242);
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> d(6 + 2 * (rng() % 40));
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    d[0] |= 1;  // see IncrementalUpdate16MatchesRecomputation
    const uint16_t before = csum_fold(csum_add(0, d.data(), d.size()));
    const size_t off = 2 + 2 * (rng() % ((d.size() - 6) / 2 + 1));
    const uint32_t old_v = load_be32(d.data() + off);
    const uint32_t new_v = static_cast<uint32_t>(rng());
    store_be32(d.data() + off, new_v);
    const uint16_t after = csum_fold(csum_add(0, d.data(), d.size()));
    ASSERT_EQ(csum_update32(before, old_v, new_v), after) << iter;
  }
}

TEST(Checksum, IncrementalUpdateOfRealTcpHeader) {
  // Rewrite the captured SYN's sequence number and window and patch the
  // checksum: the result must verify and equal a full recomputation.
  auto f = from_hex(wire_test::kLinuxSyn);
  uint8_t* tcp = f.data() + 34;
  uint16_t c = load_be16(tcp + 16);
  const uint32_t old_seq = load_be32(tcp + 4);
  store_be32(tcp + 4, 0xdeadbeef);
  c = csum_update32(c, old_seq, 0xdeadbeef);
  const uint16_t old_win = load_be16(tcp + 14);
  store_be16(tcp + 14, 1024);
  c = csum_update16(c, old_win, 1024);
  store_be16(tcp + 16, c);
  EXPECT_TRUE(tcp_csum_ok(0x0a4d0001, 0x0a4d0002, tcp, 40));
  store_be16(tcp + 16, 0);
  EXPECT_EQ(tcp_csum(0x0a4d0001, 0x0a4d0002, tcp, 40), c);
}

}  // namespace
}  // namespace tcpterm
