// The receive-burst pipeline (Engine::prefetch_flow / prefetch_flow_entry /
// receive with the hash): a hint changes how fast a frame is handled, never
// what happens to it. Checked by running the same traffic into two identical
// server engines, one given the hints and one not, and comparing every frame
// they send byte for byte; and by prefetch_flow's own bounds on short or
// foreign frames (run under ASan in CI, in exact-size buffers).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "engine/tcp/engine.h"
#include "engine/wire/build.h"

namespace tcpterm {
namespace {

constexpr Ipv4Addr kServerIp = 0xc6120001;  // 198.18.0.1
constexpr Ipv4Addr kClientIp = 0xc6120002;  // 198.18.0.2
constexpr MacAddr kServerMac{{0x02, 0, 0, 0, 0, 0x01}};
constexpr MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr Nanos kT0 = seconds(100);
constexpr uint16_t kCap = 2048;
constexpr uint32_t kBufs = 16;

const std::string kRequest = "GET / HTTP/1.1\r\nHost: 198.18.0.1\r\n\r\n";

// The server listens on port 80 with the http application; the client has no listener.
Config config(Ipv4Addr ip, bool server) {
  Config c;
  c.engine.addresses = {Ipv4Cidr{ip, 24}};
  c.engine.max_connections = 256;
  c.tcp.max_tw_buckets = 256;
  c.tcp.msl = 1;
  if (server) {
    ListenerConfig l{};
    l.port = 80;
    l.app = AppKind::http;
    l.http_body_size = 64;
    l.http_keepalive_timeout = 65;
    c.listeners.push_back(l);
  }
  return c;
}
Config server_config() { return config(kServerIp, true); }
Config client_config() { return config(kClientIp, false); }

struct Tx {
  std::vector<uint8_t> mem = std::vector<uint8_t>(size_t{kBufs} * kCap);
  std::vector<uint8_t*> ptrs;
  std::vector<uint16_t> lens = std::vector<uint16_t>(kBufs);
  Tx() {
    for (uint32_t i = 0; i < kBufs; ++i) ptrs.push_back(mem.data() + size_t{i} * kCap);
  }
  TxFrames lend() { return TxFrames{ptrs.data(), lens.data(), kBufs, 0, kCap}; }
  void take(const TxFrames& t, std::vector<std::vector<uint8_t>>& to) {
    for (uint32_t i = 0; i < t.count; ++i) to.emplace_back(t.bufs[i], t.bufs[i] + t.lens[i]);
  }
};

using Frames = std::vector<std::vector<uint8_t>>;

// Client traffic goes to both servers: `plain` frame by frame, `piped` through
// the pipeline in bursts. The servers' outputs must be identical; plain's go
// back to the client.
TEST(BurstPipeline, HintsChangeNothingThroughWholeLifecycles) {
  Engine client(client_config(), kClientMac, 7, kT0);
  Engine plain(server_config(), kServerMac, 9, kT0);
  Engine piped(server_config(), kServerMac, 9, kT0);
  Tx tc, tp, tq;
  Nanos now = kT0;
  const ConnectOptions opts{AppKind::discard, reinterpret_cast<const uint8_t*>(kRequest.data()),
                            static_cast<uint32_t>(kRequest.size()), false};
  Frames to_server, to_client;
  for (int i = 0; i < 40; ++i) {
    TxFrames t = tc.lend();
    ASSERT_EQ(client.connect(kServerIp, 80, 0, kServerMac, opts, now, t), ConnectResult::ok);
    tc.take(t, to_server);
  }
  size_t bursts = 0, frames_in = 0;
  while (!to_server.empty() || !to_client.empty()) {
    // Up to 7 frames per burst: bursts mix SYNs, data and FINs of many flows,
    // and a SYN's insert happens between its neighbours' hints and lookups.
    for (size_t base = 0; base < to_server.size(); base += 7) {
      const size_t m = std::min<size_t>(7, to_server.size() - base);
      Frames copy(to_server.begin() + static_cast<long>(base), to_server.begin() + static_cast<long>(base + m));
      std::vector<uint64_t> h(m);
      for (size_t i = 0; i < m; ++i) h[i] = piped.prefetch_flow(copy[i].data(), static_cast<uint16_t>(copy[i].size()));
      for (size_t i = 0; i < m; ++i) {
        EXPECT_NE(h[i], 0u);  // every client frame is IPv4/TCP
        if (i + 1 < m) piped.prefetch_flow_entry(h[i + 1]);
        std::vector<uint8_t>& f = to_server[base + i];
        TxFrames a = tp.lend(), b = tq.lend();
        uint16_t ra = 0, rb = 0;
        plain.receive(f.data(), static_cast<uint16_t>(f.size()), now, a, ra);
        piped.receive(copy[i].data(), static_cast<uint16_t>(copy[i].size()), now, b, rb, ParseOptions{}, h[i]);
        ASSERT_EQ(a.count, b.count);
        for (uint32_t k = 0; k < a.count; ++k) {
          ASSERT_EQ(a.lens[k], b.lens[k]);
          EXPECT_EQ(0, std::memcmp(a.bufs[k], b.bufs[k], a.lens[k])) << "frame " << k << " differs";
        }
        tp.take(a, to_client);
        ++frames_in;
      }
      ++bursts;
    }
    to_server.clear();
    for (auto& f : to_client) {
      TxFrames t = tc.lend();
      uint16_t r = 0;
      client.receive(f.data(), static_cast<uint16_t>(f.size()), now, t, r);
      tc.take(t, to_server);
    }
    to_client.clear();
  }
  EXPECT_GE(frames_in, 120u);  // SYN, request, FIN of each connection at least
  EXPECT_EQ(plain.stats().counters.http_requests, 40u);
  EXPECT_EQ(piped.stats().counters.http_requests, 40u);
  EXPECT_EQ(piped.time_wait_count(), plain.time_wait_count());
  EXPECT_EQ(piped.conn_count(), plain.conn_count());
  now += seconds(3);
  TxFrames a = tp.lend(), b = tq.lend();
  plain.advance(now, a);
  piped.advance(now, b);
  EXPECT_EQ(plain.conn_count() + plain.time_wait_count(), 0u);
  EXPECT_EQ(piped.conn_count() + piped.time_wait_count(), 0u);
  EXPECT_EQ(piped.check_invariants(), "");
}

// Only an IPv4 TCP frame long enough to hold the ports gets a hash; every
// prefix of a real frame is read in a buffer of exactly its size.
TEST(BurstPipeline, PrefetchFlowReadsOnlyTheFrame) {
  Engine e(server_config(), kServerMac, 9, kT0);
  TcpSegmentSpec spec{};
  spec.eth_src = kClientMac;
  spec.eth_dst = kServerMac;
  spec.ip_src = kClientIp;
  spec.ip_dst = kServerIp;
  spec.sport = 40000;
  spec.dport = 80;
  spec.seq = 1;
  spec.flags = tcp_flags::SYN;
  spec.window = 1024;
  std::vector<uint8_t> full(128);
  const size_t n = build_tcp_frame(full.data(), full.size(), spec);
  ASSERT_GT(n, 0u);
  const uint64_t h = e.prefetch_flow(full.data(), static_cast<uint16_t>(n));
  EXPECT_NE(h, 0u);
  for (size_t len = 0; len < n; ++len) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<long>(len));
    const uint64_t hc = e.prefetch_flow(cut.data(), static_cast<uint16_t>(len));
    // The 4-tuple ends at byte 14 + 20 + 4: from there on, the same hash.
    EXPECT_EQ(hc, len >= 38 ? h : 0u) << "length " << len;
  }
  // Not IPv4, not TCP, not version 4, IHL below 5: no hash.
  auto variant = [&](size_t at, uint8_t v) {
    std::vector<uint8_t> f(full.begin(), full.begin() + static_cast<long>(n));
    f[at] = v;
    return e.prefetch_flow(f.data(), static_cast<uint16_t>(f.size()));
  };
  EXPECT_EQ(variant(12, 0x86), 0u);   // ethertype 0x86dd
  EXPECT_EQ(variant(23, 17), 0u);     // UDP
  EXPECT_EQ(variant(14, 0x65), 0u);   // version 6
  EXPECT_EQ(variant(14, 0x44), 0u);   // IHL 4
  // The same tuple from the other direction is another flow.
  std::swap(spec.ip_src, spec.ip_dst);
  std::vector<uint8_t> rev(128);
  const size_t nr = build_tcp_frame(rev.data(), rev.size(), spec);
  EXPECT_NE(e.prefetch_flow(rev.data(), static_cast<uint16_t>(nr)), h);
}

}  // namespace
}  // namespace tcpterm
