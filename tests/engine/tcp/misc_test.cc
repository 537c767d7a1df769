// What the engine answers besides TCP: ARP for its addresses, ICMP echo;
// everything else is counted by reason and dropped.
#include "engine/wire/bytes.h"
#include "engine/wire/checksum.h"
#include "tests/engine/tcp/tcp_test_util.h"

namespace tcpterm::tcp_test {
namespace {

class MiscTest : public TcpTest {
 protected:
  std::vector<uint8_t> ArpFrame(uint16_t op, Ipv4Addr tpa) {
    std::vector<uint8_t> f(60, 0);
    std::fill(f.begin(), f.begin() + 6, 0xff);
    std::copy(kPeerMac.b.begin(), kPeerMac.b.end(), f.begin() + 6);
    store_be16(f.data() + 12, 0x0806);
    uint8_t* a = f.data() + 14;
    store_be16(a + 0, 1);
    store_be16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    store_be16(a + 6, op);
    std::copy(kPeerMac.b.begin(), kPeerMac.b.end(), a + 8);
    store_be32(a + 14, kPeerIp);
    store_be32(a + 24, tpa);
    return f;
  }
  std::vector<uint8_t> PingFrame(Ipv4Addr dst, const std::string& payload) {
    const size_t icmp_len = 8 + payload.size();
    std::vector<uint8_t> f(14 + 20 + icmp_len, 0);
    std::copy(kOurMac.b.begin(), kOurMac.b.end(), f.begin());
    std::copy(kPeerMac.b.begin(), kPeerMac.b.end(), f.begin() + 6);
    store_be16(f.data() + 12, 0x0800);
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<uint16_t>(20 + icmp_len));
    store_be16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = 1;
    store_be32(ip + 12, kPeerIp);
    store_be32(ip + 16, dst);
    store_be16(ip + 10, ipv4_header_csum(ip, 20));
    uint8_t* icmp = ip + 20;
    icmp[0] = 8;
    store_be16(icmp + 4, 0x77);
    store_be16(icmp + 6, 3);
    std::copy(payload.begin(), payload.end(), icmp + 8);
    store_be16(icmp + 2, csum_fold(csum_add(0, icmp, icmp_len)));
    return f;
  }
};

TEST_F(MiscTest, ArpRequestForOurAddressIsAnsweredInPlace) {
  Start();
  std::vector<uint8_t> f = ArpFrame(1, kOurIp);
  uint16_t len = 0;
  ASSERT_EQ(SendFrame(f, &len), RxVerdict::reply_in_place);
  ASSERT_EQ(len, 42);
  EXPECT_TRUE(std::equal(kPeerMac.b.begin(), kPeerMac.b.end(), f.begin()));      // to the asker
  EXPECT_TRUE(std::equal(kOurMac.b.begin(), kOurMac.b.end(), f.begin() + 6));    // from us
  EXPECT_EQ(load_be16(f.data() + 12), 0x0806);
  const uint8_t* a = f.data() + 14;
  EXPECT_EQ(load_be16(a + 6), 2);  // reply
  EXPECT_TRUE(std::equal(kOurMac.b.begin(), kOurMac.b.end(), a + 8));
  EXPECT_EQ(load_be32(a + 14), kOurIp);
  EXPECT_TRUE(std::equal(kPeerMac.b.begin(), kPeerMac.b.end(), a + 18));
  EXPECT_EQ(load_be32(a + 24), kPeerIp);
  EXPECT_EQ(Counters().arp_replies, 1u);
  ExpectNothing();
}

TEST_F(MiscTest, ArpForOthersAndArpRepliesAreDropped) {
  Start();
  std::vector<uint8_t> f = ArpFrame(1, kOurIp + 7);
  EXPECT_EQ(SendFrame(f), RxVerdict::consumed);
  EXPECT_EQ(Drops(DropReason::not_for_us), 1u);
  f = ArpFrame(2, kOurIp);
  EXPECT_EQ(SendFrame(f), RxVerdict::consumed);
  EXPECT_EQ(Drops(DropReason::arp_reply_ignored), 1u);
  ExpectNothing();
}

TEST_F(MiscTest, IcmpEchoIsAnsweredInPlace) {
  Start();
  std::vector<uint8_t> f = PingFrame(kOurIp, "abcdefgh");
  const std::vector<uint8_t> orig = f;
  uint16_t len = 0;
  ASSERT_EQ(SendFrame(f, &len), RxVerdict::reply_in_place);
  ASSERT_EQ(len, orig.size());
  EXPECT_TRUE(std::equal(kPeerMac.b.begin(), kPeerMac.b.end(), f.begin()));
  EXPECT_TRUE(std::equal(kOurMac.b.begin(), kOurMac.b.end(), f.begin() + 6));
  const uint8_t* ip = f.data() + 14;
  EXPECT_EQ(load_be32(ip + 12), kOurIp);
  EXPECT_EQ(load_be32(ip + 16), kPeerIp);
  EXPECT_EQ(ipv4_header_csum(ip, 20), 0);  // valid header checksum folds to 0
  const uint8_t* icmp = ip + 20;
  EXPECT_EQ(icmp[0], 0);  // echo reply
  EXPECT_EQ(load_be16(icmp + 4), 0x77);
  EXPECT_EQ(load_be16(icmp + 6), 3);
  EXPECT_EQ(csum_fold(csum_add(0, icmp, len - 34)), 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(icmp + 8), 8), "abcdefgh");
  EXPECT_EQ(Counters().icmp_echo_replies, 1u);
}

TEST_F(MiscTest, IcmpEchoIgnoredWhenConfiguredOrNotOurs) {
  cfg.engine.icmp_echo_ignore_all = 1;
  Start();
  std::vector<uint8_t> f = PingFrame(kOurIp, "x");
  EXPECT_EQ(SendFrame(f), RxVerdict::consumed);
  EXPECT_EQ(Drops(DropReason::icmp_echo_ignored), 1u);
  f = PingFrame(kOurIp + 9, "x");
  EXPECT_EQ(SendFrame(f), RxVerdict::consumed);
  EXPECT_EQ(Drops(DropReason::not_for_us), 1u);
}

TEST_F(MiscTest, MalformedFramesAreCountedByReason) {
  Start();
  std::vector<uint8_t> f = Frame({SYN, kPeerIsn, 0, 100, NoOpts()});
  f[14 + 20 + 16] ^= 0xff;  // TCP checksum
  EXPECT_EQ(SendFrame(f), RxVerdict::consumed);
  EXPECT_EQ(Drops(DropReason::tcp_bad_checksum), 1u);
  std::vector<uint8_t> short_frame(10, 0);
  SendFrame(short_frame);
  EXPECT_EQ(Drops(DropReason::eth_truncated), 1u);
  ExpectNothing();
  EXPECT_EQ(eng->conn_count(), 0u);
}

TEST_F(MiscTest, TcpToAnotherAddressIsNotOurs) {
  Start();
  TcpSegmentSpec spec;
  spec.eth_src = kPeerMac;
  spec.eth_dst = kOurMac;
  spec.ip_src = kPeerIp;
  spec.ip_dst = kOurIp + 1;
  spec.sport = kPeerPort;
  spec.dport = kPort;
  spec.seq = kPeerIsn;
  spec.flags = SYN;
  std::vector<uint8_t> f(128);
  f.resize(build_tcp_frame(f.data(), f.size(), spec));
  SendFrame(f);
  ExpectNothing();
  EXPECT_EQ(Drops(DropReason::not_for_us), 1u);
}

TEST_F(MiscTest, TxChecksumOffloadLeavesTheSumsToTheNic) {
  Start(AppKind::discard);
  eng->set_tx_checksum_offload(true);
  std::vector<uint8_t> f = Frame({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
  TxFrames tx = Tx();
  uint16_t rl = 0;
  eng->receive(f.data(), static_cast<uint16_t>(f.size()), now, tx, rl);
  ASSERT_EQ(tx.count, 1u);
  const uint8_t* ip = bufs[0].data() + 14;
  EXPECT_EQ(load_be16(ip + 10), 0);  // IPv4 checksum: the NIC's
  const uint16_t tcp_len = static_cast<uint16_t>(load_be16(ip + 2) - 20);
  const uint32_t pseudo = pseudo_header_sum(kOurIp, kPeerIp, 6, tcp_len);
  EXPECT_EQ(load_be16(ip + 20 + 16), static_cast<uint16_t>(~csum_fold(pseudo)));
  // What the NIC will do: the full sum over the segment with that seed field.
  std::vector<uint8_t> seg(ip + 20, ip + 20 + tcp_len);
  const uint16_t seed = load_be16(seg.data() + 16);
  store_be16(seg.data() + 16, 0);
  const uint16_t full = csum_fold(csum_add(pseudo, seg.data(), seg.size()));
  store_be16(seg.data() + 16, 0);
  EXPECT_EQ(csum_fold(csum_add(seed, seg.data(), seg.size())), full);
}

TEST_F(MiscTest, NoTransmitBufferIsCounted) {
  Start(AppKind::discard);
  std::vector<uint8_t> f = Frame({SYN, kPeerIsn, 0, 64240, LinuxSynOpts(peer_ts)});
  TxFrames tx{buf_ptrs.data(), lens.data(), 0, 0, kBufCap};  // no buffers lent
  uint16_t rl = 0;
  eng->receive(f.data(), static_cast<uint16_t>(f.size()), now, tx, rl);
  EXPECT_EQ(tx.count, 0u);
  EXPECT_EQ(Drops(DropReason::no_tx_buffer), 1u);
  EXPECT_EQ(State(), TcpState::SYN_RECEIVED);  // the SYN-ACK timer will retry
  Advance(seconds(1) + millis(5));
  ASSERT_EQ(out.size(), 1u);
  iss = out.front().p.seq;  // the first SYN-ACK never left: learn ISS and TS offset here
  ts_off = out.front().p.opts.tsval - NowMs();
  TcpOptions o = LinuxSynOpts(OurTs());
  o.tsecr = peer_ts;
  ExpectSegment(SYN | ACK, iss, kPeerIsn + 1, 65408, o);
  ExpectNothing();
}

}  // namespace
}  // namespace tcpterm::tcp_test
