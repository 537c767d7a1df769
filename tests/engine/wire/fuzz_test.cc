// Fuzz-style robustness of parse_frame(): every truncation of valid frames,
// thousands of mutated frames (with and without refreshed checksums, so the
// mutations reach the deeper checks) and random bytes. Each input lives in a
// buffer of exactly its length, so ASan reports any read past the frame; the
// test asserts that whatever parses describes bytes inside the frame, and that
// a failed parse leaves l4 == none.
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <set>
#include <vector>

#include "engine/wire/build.h"
#include "engine/wire/checksum.h"
#include "engine/wire/frame.h"
#include "tests/engine/wire/wire_test_util.h"

namespace tcpterm {
namespace {

using wire_test::from_hex;
using wire_test::refresh_checksums;

std::vector<std::vector<uint8_t>> seeds() {
  std::vector<std::vector<uint8_t>> s = {
      from_hex(wire_test::kLinuxSyn), from_hex(wire_test::kLinuxSynAck), from_hex(wire_test::kLinuxAck),
      from_hex(wire_test::kLinuxData),
      // ARP request padded to 60.
      from_hex("ffff ffff ffff 86e3 0cbd 9bdb 0806 0001 0800 0604 0001 86e3 0cbd 9bdb 0a4d 0001"
               "0000 0000 0000 0a4d 0002 0000 0000 0000 0000 0000 0000 0000 0000 0000"),
  };
  auto icmp = from_hex("0293 3500 334b 86e3 0cbd 9bdb 0800 4500 0020 1234 4000 4001 0000 0a4d 0001 0a4d 0002"
                       "0800 0000 abcd 0001 6162 6364");
  refresh_checksums(icmp);
  s.push_back(icmp);
  // SYN with 8 bytes of IP options.
  auto opt = from_hex(wire_test::kLinuxSyn);
  const auto o = from_hex("0101 9404 0000 0000");
  opt.insert(opt.begin() + 34, o.begin(), o.end());
  opt[14] = 0x47;
  store_be16(opt.data() + 16, 68);
  refresh_checksums(opt);
  s.push_back(opt);
  return s;
}

// Parses a copy of f held in a heap block of exactly f.size() bytes and checks
// the invariants. Returns the reason.
DropReason parse_checked(const std::vector<uint8_t>& f) {
  const size_t len = f.size();
  std::unique_ptr<uint8_t[]> buf(new uint8_t[len == 0 ? 1 : len]);
  // For len 0 the 1-byte block is still never read: the parser sees len 0.
  std::copy(f.begin(), f.end(), buf.get());
  ParsedFrame p;
  const DropReason r = parse_frame(buf.get(), len, p);
  if (r != DropReason::none) {
    EXPECT_EQ(p.l4, L4::none);
    return r;
  }
  EXPECT_GE(len, 14u);
  switch (p.l4) {
    case L4::arp:
      EXPECT_GE(len, 42u);
      break;
    case L4::tcp:
      EXPECT_EQ(p.l4_offset, 14u + p.ip_hdr_len);
      EXPECT_GE(p.ip_hdr_len, 20);
      EXPECT_LE(p.ip_hdr_len, 60);
      EXPECT_LE(14u + p.ip_total_len, len);
      EXPECT_EQ(size_t{p.l4_offset} + p.l4_len, 14u + p.ip_total_len);
      EXPECT_GE(p.tcp_hdr_len, 20);
      EXPECT_LE(p.tcp_hdr_len, 60);
      EXPECT_EQ(p.payload_offset, p.l4_offset + p.tcp_hdr_len);
      EXPECT_EQ(size_t{p.payload_offset} + p.payload_len, size_t{p.l4_offset} + p.l4_len);
      EXPECT_NE(p.sport, 0);
      EXPECT_NE(p.dport, 0);
      EXPECT_TRUE(tcp_csum_ok(p.ip_src, p.ip_dst, buf.get() + p.l4_offset, p.l4_len));
      break;
    case L4::icmp:
      EXPECT_LE(14u + p.ip_total_len, len);
      EXPECT_EQ(size_t{p.payload_offset} + p.payload_len, 14u + p.ip_total_len);
      break;
    case L4::none:
      ADD_FAILURE() << "success without an l4";
  }
  return r;
}

TEST(WireFuzz, EveryTruncationOfValidFrames) {
  for (const auto& s : seeds()) {
    ASSERT_EQ(parse_checked(s), DropReason::none);
    for (size_t n = 0; n < s.size(); ++n) {
      const std::vector<uint8_t> t(s.begin(), s.begin() + static_cast<long>(n));
      const DropReason r = parse_checked(t);
      // Only an ARP frame's Ethernet padding (past byte 42) can be cut off
      // and still parse; every other cut leaves the packet short.
      if (load_be16(s.data() + 12) == 0x0806 && n >= 42) {
        EXPECT_EQ(r, DropReason::none) << n;
      } else {
        EXPECT_NE(r, DropReason::none) << n;
      }
    }
  }
}

TEST(WireFuzz, MutatedFrames) {
  const auto base = seeds();
  std::mt19937 rng(0xC0FFEE);
  std::set<DropReason> seen;
  int ok = 0;
  static constexpr uint8_t kInteresting[] = {0x00, 0x01, 0x02, 0x04, 0x05, 0x08, 0x0a, 0x0f, 0x10,
                                             0x40, 0x45, 0x4f, 0x50, 0x7f, 0x80, 0xf0, 0xff};
  for (int iter = 0; iter < 40000; ++iter) {
    auto f = base[rng() % base.size()];
    const int n_mut = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < n_mut; ++m) {
      const size_t pos = rng() % f.size();
      switch (rng() % 4) {
        case 0: f[pos] = static_cast<uint8_t>(rng()); break;
        case 1: f[pos] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 2: f[pos] = kInteresting[rng() % sizeof kInteresting]; break;
        case 3: f.resize(rng() % (f.size() + 1)); if (f.empty()) f.push_back(0); break;
      }
    }
    if (rng() % 4 == 0) {  // grow with random trailing bytes (padding or more)
      const size_t extra = rng() % 32;
      for (size_t i = 0; i < extra; ++i) f.push_back(static_cast<uint8_t>(rng()));
    }
    if (rng() % 2 == 0) refresh_checksums(f);
    const DropReason r = parse_checked(f);
    seen.insert(r);
    ok += r == DropReason::none;
  }
  // The mutations must have reached (nearly) every check, and some frames
  // must still parse, or this test would prove nothing.
  EXPECT_GE(seen.size(), 22u);
  EXPECT_GT(ok, 1000);
  for (DropReason r : {DropReason::tcp_bad_option, DropReason::tcp_bad_doff, DropReason::ip_fragment,
                       DropReason::ip_bad_ihl, DropReason::tcp_bad_checksum, DropReason::icmp_bad_checksum,
                       DropReason::arp_unsupported, DropReason::ip_len_exceeds_frame})
    EXPECT_TRUE(seen.count(r)) << drop_reason_name(r);
}

TEST(WireFuzz, RandomBytes) {
  std::mt19937 rng(424242);
  int reached_tcp_checks = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::vector<uint8_t> f(rng() % 130);
    for (auto& b : f) b = static_cast<uint8_t>(rng());
    if (f.size() >= 15 && iter % 2 == 0) {  // look like IPv4 half of the time
      f[12] = 0x08;
      f[13] = 0x00;
      f[14] = static_cast<uint8_t>(0x45 + (iter % 8 == 0 ? rng() % 11 : 0));
      if (f.size() >= 24) f[23] = (iter % 3 == 0) ? 1 : 6;
      if (f.size() >= 18 && iter % 4 == 0) store_be16(f.data() + 16, static_cast<uint16_t>(f.size() - 14));
      if (f.size() >= 22) {  // mostly not a fragment
        f[20] &= 0x40;
        f[21] = 0;
      }
      refresh_checksums(f);
    }
    const DropReason r = parse_checked(f);
    reached_tcp_checks += r >= DropReason::tcp_truncated && r <= DropReason::tcp_bad_flags;
  }
  EXPECT_GT(reached_tcp_checks, 100);
}

}  // namespace
}  // namespace tcpterm
