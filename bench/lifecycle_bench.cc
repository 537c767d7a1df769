// The whole TCP connection lifecycle in memory: what one connection costs
// the engine, without any NIC.
//
// A client engine and a server engine run on this one thread and hand each
// other's frames over directly (copied into a queue, as a link would). Per
// connection: the client's SYN, the server's SYN-ACK, the client's ACK
// carrying an HTTP request, the server's response with its FIN piggybacked
// (nginx with keep-alive off), the client's FIN|ACK, the server's last ACK;
// then 2*MSL later the server's TIME_WAIT record expires. Connections run
// in batches (the argument), all at one instant, then the TIME_WAITs expire.
//
//   BM_Lifecycle/both     both engines and the hand-off: ns per connection
//   BM_Lifecycle/server   the server alone: the client's frames of a batch
//                         are recorded once, then replayed into one server
//                         engine again and again, TIME_WAIT expiry included.
//                         Every batch runs at the same virtual instants, so
//                         the server answers with the same ISNs and TSvals
//                         and the recorded ACKs fit (checked: the same number
//                         of frames out, nothing left over). The engine is
//                         warm, as a long-running server's is: no page faults.
//                         Frames go in bursts of 64 through the DPDK worker's
//                         pipeline: prefetch_flow() for the burst, then each
//                         receive() with the next frame's entry prefetched.
//   BM_Lifecycle/server_offload         the same with the checksums on the
//                         NIC (RX verified, TX offloaded), as the DPDK runtime
//                         runs on a port that has both: the engine's own cost
//   BM_Lifecycle/server_offload_nopipe  the same, frame by frame without the
//                         burst pipeline (Engine::prefetch_flow): its gain
//   BM_Lifecycle/client   the client alone, replaying the server's frames
//                         into a fresh client engine per batch (its ephemeral
//                         ports must start over), page faults included
//
// Reported: the time per connection (s/conn counter, inverted rate) and
// connections per second per core (items_per_second).
// Target (issue 3): the server side <= 250 ns per connection.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "engine/tcp/engine.h"

namespace tcpterm {
namespace {

constexpr Ipv4Addr kServerIp = 0x0a000001;  // 10.0.0.1
constexpr Ipv4Addr kClientIp = 0x0a000002;  // 10.0.0.2
constexpr MacAddr kServerMac{{0x02, 0, 0, 0, 0, 0x01}};
constexpr MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0x02}};
constexpr Nanos kT0 = seconds(10);
constexpr uint16_t kBufCap = 2048;
constexpr uint32_t kBurst = 64;

const std::string kRequest = "GET / HTTP/1.1\r\nHost: 10.0.0.1\r\nUser-Agent: bench\r\n\r\n";

Config server_config(uint32_t n) {
  Config c;
  c.engine.addresses = {Ipv4Cidr{kServerIp, 24}};
  c.engine.max_connections = n + 16;
  c.tcp.max_tw_buckets = n + 16;
  c.tcp.max_syn_backlog = n;  // a whole batch of SYNs arrives before any final ACK
  c.tcp.backlog = n;
  ListenerConfig l{};
  l.port = 80;
  l.app = AppKind::http;
  l.http_body_size = 100;
  l.http_keepalive_timeout = 65;
  c.listeners.push_back(l);
  return c;
}

Config client_config(uint32_t n) {
  Config c;
  c.engine.addresses = {Ipv4Cidr{kClientIp, 24}};
  c.engine.max_connections = n + 16;
  c.tcp.max_tw_buckets = n + 16;
  return c;
}

// Transmit buffers lent for one call; frames are then copied to a queue.
struct TxArea {
  std::vector<uint8_t> mem = std::vector<uint8_t>(size_t{kBurst} * kBufCap);
  std::vector<uint8_t*> ptrs;
  std::vector<uint16_t> lens = std::vector<uint16_t>(kBurst);
  TxArea() {
    for (uint32_t i = 0; i < kBurst; ++i) ptrs.push_back(mem.data() + size_t{i} * kBufCap);
  }
  TxFrames lend() { return TxFrames{ptrs.data(), lens.data(), kBurst, 0, kBufCap}; }
};

// A queue of frames: one flat byte buffer plus offsets (no allocation per frame once warm).
struct FrameQueue {
  std::vector<uint8_t> bytes;
  std::vector<std::pair<uint32_t, uint16_t>> frames;  // offset, length
  size_t head = 0;
  void push_all(const TxFrames& tx) {
    for (uint32_t i = 0; i < tx.count; ++i) {
      const auto off = static_cast<uint32_t>(bytes.size());
      bytes.insert(bytes.end(), tx.bufs[i], tx.bufs[i] + tx.lens[i]);
      frames.emplace_back(off, tx.lens[i]);
    }
  }
  bool empty() const { return head == frames.size(); }
  void clear() {
    bytes.clear();
    frames.clear();
    head = 0;
  }
};

// TIME_WAIT expiry, 2*MSL later: advance() ends at most Engine::kTimerBudget
// records per call (a poll-loop iteration), so a larger batch takes several.
uint32_t expire_all(Engine& e, TxArea& area) {
  uint32_t sent = 0;
  do {
    TxFrames tx = area.lend();
    e.advance(kT0 + seconds(61), tx);
    sent += tx.count;
  } while (e.time_wait_count() != 0 && e.conn_count() == 0);
  return sent;
}

struct Pair {
  std::unique_ptr<Engine> server, client;
  TxArea stx, ctx;
  FrameQueue to_server, to_client;
  // What each side received, in order, for the replays.
  FrameQueue server_log, client_log;
  bool record = false;

  explicit Pair(uint32_t n)
      : server(std::make_unique<Engine>(server_config(n), kServerMac, 0x5eed0001, kT0)),
        client(std::make_unique<Engine>(client_config(n), kClientMac, 0x5eed0002, kT0)) {}

  void deliver(FrameQueue& q, Engine& e, TxArea& area, FrameQueue& out, FrameQueue* log) {
    while (!q.empty()) {
      auto [off, len] = q.frames[q.head++];
      uint8_t* f = q.bytes.data() + off;
      if (log) {
        TxFrames one{&f, &len, 1, 1, kBufCap};
        log->push_all(one);
      }
      TxFrames tx = area.lend();
      uint16_t rl = 0;
      e.receive(f, len, kT0, tx, rl);
      out.push_all(tx);
    }
    q.clear();
  }

  // One batch of n connections, start to finish. Returns connections completed.
  void run(uint32_t n) {
    const ConnectOptions opts{AppKind::discard, reinterpret_cast<const uint8_t*>(kRequest.data()),
                              static_cast<uint32_t>(kRequest.size()), false};
    for (uint32_t i = 0; i < n; ++i) {
      TxFrames tx = ctx.lend();
      client->connect(kServerIp, 80, 0, kServerMac, opts, kT0, tx);
      to_server.push_all(tx);
    }
    while (!to_server.empty() || !to_client.empty()) {
      deliver(to_server, *server, stx, to_client, record ? &server_log : nullptr);
      deliver(to_client, *client, ctx, to_server, record ? &client_log : nullptr);
    }
    expire_all(*server, stx);
    expire_all(*client, ctx);
  }
};

void check_done(benchmark::State& state, const Engine& e, const char* who) {
  if (e.conn_count() != 0 || e.time_wait_count() != 0) {
    state.SkipWithError((std::string(who) + ": connections left after the lifecycle").c_str());
  }
}

void report(benchmark::State& state, uint64_t conns) {
  state.SetItemsProcessed(static_cast<int64_t>(conns));
  state.counters["s/conn"] = benchmark::Counter(static_cast<double>(conns),
                                                benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_LifecycleBoth(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  uint64_t conns = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto p = std::make_unique<Pair>(n);
    state.ResumeTiming();
    p->run(n);
    state.PauseTiming();
    check_done(state, *p->server, "server");
    if (p->server->stats().counters.http_requests != n) state.SkipWithError("not every request was answered");
    p.reset();
    state.ResumeTiming();
    conns += n;
  }
  report(state, conns);
}

// offload: the NIC verifies the received checksums (ParseOptions) and
// computes the sent ones (the engine writes only the pseudo-header sum), as
// the DPDK runtime runs on a port that offers both.
void server_replay(benchmark::State& state, bool offload, bool pipelined) {
  const auto n = static_cast<uint32_t>(state.range(0));
  Pair rec(n);
  rec.record = true;
  rec.run(n);
  const size_t expect_out = rec.client_log.frames.size();
  auto e = std::make_unique<Engine>(server_config(n), kServerMac, 0x5eed0001, kT0);
  e->set_tx_checksum_offload(offload);
  const ParseOptions popts{offload, offload};
  std::vector<uint8_t> frames = rec.server_log.bytes;
  TxArea area;
  uint64_t conns = 0;
  const auto& log = rec.server_log.frames;
  std::vector<uint64_t> hashes(kBurst);
  for (auto _ : state) {
    size_t sent = 0;
    // As the DPDK worker does with each receive burst: hash and prefetch the
    // whole burst, then receive each frame with the entry prefetched ahead.
    for (size_t base = 0; base < log.size(); base += kBurst) {
      const size_t m = std::min<size_t>(kBurst, log.size() - base);
      if (pipelined) {
        for (size_t i = 0; i < m; ++i) hashes[i] = e->prefetch_flow(frames.data() + log[base + i].first, log[base + i].second);
        if (m > 0) e->prefetch_flow_entry(hashes[0]);
      }
      for (size_t i = 0; i < m; ++i) {
        if (pipelined && i + 1 < m) e->prefetch_flow_entry(hashes[i + 1]);
        auto [off, len] = log[base + i];
        TxFrames tx = area.lend();
        uint16_t rl = 0;
        e->receive(frames.data() + off, len, kT0, tx, rl, popts, pipelined ? hashes[i] : 0);
        sent += tx.count;
      }
    }
    sent += expire_all(*e, area);
    if (sent != expect_out) state.SkipWithError("the replay diverged from the recording");
    conns += n;
  }
  check_done(state, *e, "server");
  report(state, conns);
}

void BM_LifecycleServer(benchmark::State& state) { server_replay(state, false, true); }
void BM_LifecycleServerOffload(benchmark::State& state) { server_replay(state, true, true); }
void BM_LifecycleServerNoPipe(benchmark::State& state) { server_replay(state, true, false); }

// Replays the client's recorded input into a fresh client engine per batch.
void replay(benchmark::State& state, bool server_side) {
  const auto n = static_cast<uint32_t>(state.range(0));
  Pair rec(n);
  rec.record = true;
  rec.run(n);
  FrameQueue& log = server_side ? rec.server_log : rec.client_log;
  TxArea area;
  uint64_t conns = 0;
  const ConnectOptions opts{AppKind::discard, reinterpret_cast<const uint8_t*>(kRequest.data()),
                            static_cast<uint32_t>(kRequest.size()), false};
  for (auto _ : state) {
    state.PauseTiming();
    auto e = server_side ? std::make_unique<Engine>(server_config(n), kServerMac, 0x5eed0001, kT0)
                         : std::make_unique<Engine>(client_config(n), kClientMac, 0x5eed0002, kT0);
    std::vector<uint8_t> frames = log.bytes;  // TCP frames are not written in place, but stay honest
    state.ResumeTiming();
    if (!server_side) {
      for (uint32_t i = 0; i < n; ++i) {
        TxFrames tx = area.lend();
        e->connect(kServerIp, 80, 0, kServerMac, opts, kT0, tx);
      }
    }
    for (auto [off, len] : log.frames) {
      TxFrames tx = area.lend();
      uint16_t rl = 0;
      e->receive(frames.data() + off, len, kT0, tx, rl);
      benchmark::DoNotOptimize(tx.count);
    }
    expire_all(*e, area);
    state.PauseTiming();
    check_done(state, *e, server_side ? "server" : "client");
    e.reset();
    state.ResumeTiming();
    conns += n;
  }
  report(state, conns);
}

void BM_LifecycleClient(benchmark::State& state) { replay(state, false); }

// Connections interleaved: 256 keep the batch in L1/L2; with 4096 and 16384
// (about 3 MB of connection blocks and TIME_WAIT records) a segment finds its
// connection cold in the cache, as under a real flood.
BENCHMARK(BM_LifecycleBoth)->Name("BM_Lifecycle/both")->Arg(256)->Arg(4096)->Arg(16384)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LifecycleServer)->Name("BM_Lifecycle/server")->Arg(256)->Arg(4096)->Arg(16384)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LifecycleServerNoPipe)->Name("BM_Lifecycle/server_offload_nopipe")->Arg(256)->Arg(4096)->Arg(16384)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LifecycleServerOffload)
    ->Name("BM_Lifecycle/server_offload")
    ->Arg(256)
    ->Arg(4096)
    ->Arg(16384)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LifecycleClient)->Name("BM_Lifecycle/client")->Arg(256)->Arg(4096)->Arg(16384)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tcpterm

BENCHMARK_MAIN();
