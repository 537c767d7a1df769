// Connections per second: tcpterm as a server against the Linux kernel's
// accept()-and-close(), on the same two cores, in one run.
//
// tcpterm: two ethdevs wired back to back over DPDK rings (net_ring,
// rte_eth_from_rings: port A's TX ring is port B's RX ring and vice versa). The
// server is the real runtime poll loop (drivers/dpdk/worker.h, one Engine, a
// listener running `close`: it closes right after the handshake, so the server
// ends in TIME_WAIT) on lcore 1, busy polling. The client is the engine's own
// active-open side on lcore 0: it keeps `kConcurrency` connections open
// (connect(), SYN, ACK, the server's FIN, its own FIN: `discard` closes
// passively) and counts the ones that reach CLOSED.
//
// Linux: a server thread on CPU 1 doing accept() then close() on 127.0.0.1,
// and a client on CPU 0 keeping `kConcurrency` non-blocking connect()s in
// flight under epoll, closing each once the server's FIN arrives. Same
// lifecycle, same cores, the kernel's loopback instead of rings.
//
// Each benchmark iteration completes kBatch connections; items_per_second is
// connections per second. The ratio is printed at the end. EAL runs with
// --no-huge (no hugepages needed); the program must run as root (net_ring
// needs no device, but EAL's memory set-up does), and is skipped otherwise.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_eth_ring.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <iterator>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "drivers/dpdk/port.h"
#include "drivers/dpdk/worker.h"

namespace tcpterm::dpdk {
namespace {

constexpr uint32_t kBatch = 20000;       // connections per benchmark iteration
constexpr uint32_t kConcurrency = 256;   // connections in flight
constexpr Nanos kStall = seconds(10);     // no connection closed for this long: the run failed
constexpr Ipv4Addr kServerIp = ipv4(198, 19, 0, 2);
constexpr Ipv4Addr kClientIp = ipv4(198, 19, 0, 1);
constexpr uint16_t kPort = 80;

double g_tcpterm_cps = 0, g_kernel_cps = 0;

uint64_t closed_total(const EngineStats& s) {
  uint64_t n = 0;
  for (size_t from = 0; from < kTcpStateCount; ++from)
    if (from != state_index(TcpState::LISTEN)) n += s.transitions[from][state_index(TcpState::CLOSED)];
  return n;
}

Config engine_config(Ipv4Addr addr, bool listener) {
  Config c;
  c.engine.addresses = {Ipv4Cidr{addr, 24}};
  c.engine.max_connections = 65536;
  if (listener) {
    ListenerConfig l{};
    l.port = kPort;
    l.app = AppKind::close;
    l.http_keepalive_timeout = 65;
    c.listeners.push_back(l);
  }
  return c;
}

// The net_ring pair, the pool and the server worker, set up once.
struct Rig {
  rte_mempool* pool = nullptr;
  uint16_t client_port = 0, server_port = 0;
  MacAddr client_mac{}, server_mac{};
  Config server_cfg = engine_config(kServerIp, true);
  Config client_cfg = engine_config(kClientIp, false);
  std::atomic<bool> stop{false};
  StatsSlot<WorkerSnapshot> slot;
  std::unique_ptr<Worker> server;
  TscClock clock;
  bool ok = false;
  std::string why;

  Rig() {
    pool = rte_pktmbuf_pool_create("cps_pool", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    rte_ring* ab = rte_ring_create("cps_ab", 16384, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* ba = rte_ring_create("cps_ba", 16384, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!pool || !ab || !ba) {
      why = "cannot create the pool or rings";
      return;
    }
    const int a = rte_eth_from_rings("cps_client", &ba, 1, &ab, 1, 0);
    const int b = rte_eth_from_rings("cps_server", &ab, 1, &ba, 1, 0);
    if (a < 0 || b < 0) {
      why = "rte_eth_from_rings failed";
      return;
    }
    RuntimeOptions ro;
    const PortInfo pa = setup_port(PortOptions{"net_ring_cps_client"}, 1, ro, {pool}, true);
    const PortInfo pb = setup_port(PortOptions{"net_ring_cps_server"}, 1, ro, {pool}, true);
    client_port = pa.port_id;
    server_port = pb.port_id;
    client_mac = pa.mac;
    server_mac = pb.mac;
    // Two ring ports may share a default MAC: make them distinct (replies go to the source MAC).
    if (client_mac == server_mac) client_mac.b[5] ^= 1;
    clock = TscClock(rte_get_tsc_hz(), rte_rdtsc());

    WorkerSetup s;
    s.lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
    s.index = 0;
    s.workers = 1;
    s.ports = 1;
    s.port_id[0] = server_port;
    s.mac[0] = server_mac;
    s.pool = pool;
    s.burst = 32;
    s.backoff = IdleBackoff(false, 0, 0);  // busy polling, as on a NIC
    s.clock = clock;
    s.config = &server_cfg;
    s.engine_seed[0] = std::random_device{}();
    s.stop = &stop;
    s.slot = &slot;
    server = std::make_unique<Worker>(s);
    if (s.lcore >= RTE_MAX_LCORE) {
      why = "needs two lcores (EAL -l 0-1)";
      return;
    }
    rte_eal_remote_launch([](void* w) { return static_cast<Worker*>(w)->run(); }, server.get(), s.lcore);
    ok = true;
  }
  ~Rig() {
    stop = true;
    rte_eal_mp_wait_lcore();
    if (server) server->release_mbufs();
  }
};

Rig* g_rig = nullptr;

// The client role on the main lcore: keeps kConcurrency connections in flight
// until `target` more have closed.
class Client {
 public:
  explicit Client(Rig& r) : r_(r), eng_(r.client_cfg, r.client_mac, std::random_device{}(), now()) {}

  // False when no connection has closed for kStall: connections the server
  // lost without a FIN or RST (a frame dropped by a full ring, retries
  // exhausted) would otherwise hold their slots forever and the run never end.
  bool run(uint64_t target) {
    const uint64_t goal = closed_total(eng_.stats()) + target;
    rte_mbuf* pkts[64];
    const ConnectOptions co{AppKind::discard, nullptr, 0, false};
    uint64_t last_closed = closed_total(eng_.stats());
    Nanos last_progress = now();
    while (closed_total(eng_.stats()) < goal) {
      const Nanos t = now();
      if (closed_total(eng_.stats()) != last_closed) {
        last_closed = closed_total(eng_.stats());
        last_progress = t;
      } else if (t - last_progress > kStall) {
        return false;
      }
      const uint16_t n = rte_eth_rx_burst(r_.client_port, 0, pkts, 64);
      for (uint16_t i = 0; i < n; ++i) {
        if (i + 2 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 2], void*));
        lend();
        uint16_t reply_len = 0;
        eng_.receive(rte_pktmbuf_mtod(pkts[i], uint8_t*), pkts[i]->data_len, t, tx_, reply_len);
        take();
      }
      if (n) rte_pktmbuf_free_bulk(pkts, n);
      const EngineStats& s = eng_.stats();
      uint64_t open = s.counters.active_opens - closed_total(s);
      while (open < kConcurrency) {
        lend();
        const ConnectResult rc = eng_.connect(kServerIp, kPort, 0, r_.server_mac, co, t, tx_);
        take();
        if (rc != ConnectResult::ok) break;
        ++open;
      }
      lend();
      eng_.advance(t, tx_);
      take();
      flush();
    }
    return true;
  }
  const EngineStats& stats() const { return eng_.stats(); }
  std::string state_summary() const {
    std::string o;
    for (size_t i = 0; i < kTcpStateCount; ++i) {
      const uint64_t n = eng_.stats().states[i];
      if (n == 0 || i == state_index(TcpState::LISTEN)) continue;
      o += std::string(state_name(static_cast<TcpState>(i))) + "=" + std::to_string(n) + " ";
    }
    return o;
  }

 private:
  Nanos now() const { return r_.clock.to_nanos(rte_rdtsc()); }
  void lend() {
    while (nspare_ < kLend) {
      if (rte_pktmbuf_alloc_bulk(r_.pool, spare_ + nspare_, kLend) != 0) break;
      nspare_ += kLend;
    }
    for (uint32_t i = 0; i < nspare_; ++i) data_[i] = rte_pktmbuf_mtod(spare_[i], uint8_t*);
    tx_ = TxFrames{data_, lens_, nspare_ < kLend ? nspare_ : kLend, 0, 2048};
  }
  void take() {
    for (uint32_t i = 0; i < tx_.count; ++i) {
      rte_mbuf* m = spare_[i];
      m->data_len = lens_[i];
      m->pkt_len = lens_[i];
      out_[nout_++] = m;
    }
    // Unused spares move down to the front.
    for (uint32_t i = tx_.count; i < nspare_; ++i) spare_[i - tx_.count] = spare_[i];
    nspare_ -= tx_.count;
    if (nout_ > 256) flush();
  }
  void flush() {
    uint32_t sent = 0;
    while (sent < nout_) sent += rte_eth_tx_burst(r_.client_port, 0, out_ + sent, static_cast<uint16_t>(nout_ - sent));
    nout_ = 0;
  }

  static constexpr uint32_t kLend = 16;
  Rig& r_;
  Engine eng_;
  rte_mbuf* spare_[4 * kLend]{};
  uint8_t* data_[4 * kLend]{};
  uint16_t lens_[4 * kLend]{};
  uint32_t nspare_ = 0;
  TxFrames tx_{data_, lens_, 0, 0, 2048};
  rte_mbuf* out_[512]{};
  uint32_t nout_ = 0;
};

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void BM_TcptermServerCps(benchmark::State& state) {
  if (g_rig == nullptr || !g_rig->ok) {
    state.SkipWithError(g_rig ? g_rig->why.c_str() : "EAL did not start (run as root)");
    return;
  }
  static Client client(*g_rig);
  bool ok = client.run(kBatch);  // warm-up: tables, caches, TIME_WAIT population
  for (auto _ : state) {
    if (ok) ok = client.run(kBatch);
  }
  if (!ok) {
    state.SkipWithError(("stalled: no connection closed for 10 s; client states: " +
                         client.state_summary()).c_str());
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kBatch);
  WorkerSnapshot s;
  g_rig->slot.read(s);
  state.counters["server_tw"] = static_cast<double>(s.engine[0].states[state_index(TcpState::TIME_WAIT)]);
  state.counters["server_passive_opens"] = static_cast<double>(s.engine[0].counters.passive_opens);
  // Tuples reused while the server still held them in TIME_WAIT (28232 ephemeral ports, one address pair).
  state.counters["server_tw_recycled"] = static_cast<double>(s.engine[0].counters.time_wait_recycled);
  state.counters["server_tw_killed"] = static_cast<double>(s.engine[0].counters.time_wait_killed);
}
BENCHMARK(BM_TcptermServerCps)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// Linux: accept() + close() on CPU 1, a non-blocking epoll client on CPU 0.
void BM_KernelAcceptCloseCps(benchmark::State& state) {
  const int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(ls, 4096) != 0) {
    state.SkipWithError("cannot listen on 127.0.0.1");
    return;
  }
  socklen_t alen = sizeof addr;
  getsockname(ls, reinterpret_cast<sockaddr*>(&addr), &alen);
  std::atomic<bool> stop{false};
  std::thread server([&] {
    pin(1);
    while (!stop.load(std::memory_order_relaxed)) {
      const int c = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) close(c);
    }
  });
  pin(0);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  uint64_t open = 0, done = 0;
  auto connect_one = [&] {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (rc != 0 && errno != EINPROGRESS) {
      close(fd);
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    ++open;
  };
  auto run = [&](uint64_t target) {
    const uint64_t goal = done + target;
    epoll_event evs[256];
    while (done < goal) {
      while (open < kConcurrency) connect_one();
      const int n = epoll_wait(ep, evs, 256, 100);
      for (int i = 0; i < n; ++i) {
        close(evs[i].data.fd);  // the server's FIN (or an error): this connection is over
        --open;
        ++done;
      }
    }
  };
  run(kBatch);  // warm-up
  for (auto _ : state) run(kBatch);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kBatch);
  stop = true;
  shutdown(ls, SHUT_RDWR);
  const int wake = socket(AF_INET, SOCK_STREAM, 0);  // unblock accept()
  connect(wake, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  close(wake);
  server.join();
  close(ep);
  close(ls);
}
BENCHMARK(BM_KernelAcceptCloseCps)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// Collects each benchmark's connections per second for the closing ratio.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    // One run: its rate. Repetitions: the median aggregate (the last word).
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      const auto it = r.counters.find("items_per_second");
      if (it == r.counters.end()) continue;
      const double v = it->second.value;
      const std::string name = r.run_name.function_name;
      if (name.find("Tcpterm") != std::string::npos) g_tcpterm_cps = v;
      if (name.find("Kernel") != std::string::npos) g_kernel_cps = v;
    }
  }
};

}  // namespace
}  // namespace tcpterm::dpdk

int main(int argc, char** argv) {
  using namespace tcpterm::dpdk;
  benchmark::Initialize(&argc, argv);
  char prog[] = "bench_cps";
  char a1[] = "--no-huge", a2[] = "-m", a3[] = "512", a4[] = "-l", a5[] = "0-1", a6[] = "--no-pci",
       a7[] = "--file-prefix", a8[] = "tcpterm_bench_cps", a9[] = "--no-telemetry", a10[] = "--log-level",
       a11[] = "*:error";
  char* eal[] = {prog, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, nullptr};
  const bool eal_ok = rte_eal_init(static_cast<int>(std::size(eal)) - 1, eal) >= 0;
  if (!eal_ok) std::fprintf(stderr, "bench_cps: EAL did not start: %s\n", rte_strerror(rte_errno));
  std::unique_ptr<Rig> rig;
  if (eal_ok) {
    rig = std::make_unique<Rig>();
    g_rig = rig.get();
  }
  RatioReporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  rig.reset();
  if (g_tcpterm_cps > 0 && g_kernel_cps > 0)
    std::printf("\nconnections per second on 2 cores: tcpterm (net_ring, 1 server lcore) %.0f, "
                "Linux accept()+close() (loopback) %.0f, ratio %.2f\n",
                g_tcpterm_cps, g_kernel_cps, g_tcpterm_cps / g_kernel_cps);
  benchmark::Shutdown();
  if (eal_ok) {
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);  // EAL leaves it behind
  }
  return 0;
}
