// The DPDK runtime (see runtime.h): pools, rings, ports, workers, clean stop.
#include "drivers/dpdk/runtime.h"

#include "drivers/dpdk/str_cat.h"

#include <cstdio>
#include <random>
#include <stdexcept>

namespace tcpterm::dpdk {

namespace {

uint32_t round_up_pow2_minus1(uint64_t n) {  // mempools are most efficient at 2^k - 1
  uint64_t p = 1;
  while (p - 1 < n) p <<= 1;
  return static_cast<uint32_t>(p - 1);
}

uint32_t round_up_pow2(uint32_t n) {
  uint32_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

uint64_t random64() {
  std::random_device rd;  // the kernel's CSPRNG: keys for hashing, ISNs and steering
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

RuntimeOptions runtime_options_from(const Config& cfg) {
  RuntimeOptions ro;
  for (const PortConfig& p : cfg.ports)
    ro.ports.push_back(PortOptions{p.device, p.rss, p.rx_checksum_offload, p.tx_checksum_offload, p.promiscuous});
  ro.burst_size = cfg.dpdk.burst_size;
  ro.rx_descriptors = cfg.dpdk.rx_descriptors;
  ro.tx_descriptors = cfg.dpdk.tx_descriptors;
  ro.mbufs_per_socket = cfg.dpdk.mbufs_per_socket;
  ro.mbuf_cache = cfg.dpdk.mbuf_cache;
  ro.steering_ring_size = cfg.dpdk.steering_ring_size;
  ro.idle_backoff = cfg.dpdk.idle_backoff;
  ro.idle_pause_us = cfg.dpdk.idle_pause_us;
  ro.idle_sleep_us = cfg.dpdk.idle_sleep_us;
  ro.mtu = cfg.engine.mtu;
  return ro;
}

Runtime::Runtime(const Config& cfg, const RuntimeOptions& ro, std::atomic<bool>& stop)
    : cfg_(cfg), ro_(ro), stop_(stop) {
  if (ro_.ports.empty()) throw std::runtime_error("no [[port]] configured");
  if (ro_.ports.size() > kMaxPorts)
    throw std::runtime_error(str_cat("at most ", kMaxPorts, " ports are supported"));
  // One frame per mbuf: the engine's MTU plus Ethernet must fit a buffer's data room.
  if (ro_.mtu + 18 > RTE_MBUF_DEFAULT_DATAROOM)
    throw std::runtime_error(str_cat("engine.mtu ", ro_.mtu, " does not fit one mbuf (", RTE_MBUF_DEFAULT_DATAROOM,
                                     " bytes of data room): at most ", RTE_MBUF_DEFAULT_DATAROOM - 18));
  if (ro_.burst_size == 0 || ro_.burst_size > kMaxBurst)
    throw std::runtime_error(str_cat("dpdk.burst_size must be in [1, ", kMaxBurst, "]"));

  // Workers: every lcore of the EAL core list, the main lcore first.
  std::vector<unsigned> lcores;
  lcores.push_back(rte_get_main_lcore());
  unsigned lc;
  RTE_LCORE_FOREACH_WORKER(lc) lcores.push_back(lc);
  const uint32_t nworkers = static_cast<uint32_t>(lcores.size());
  worker_of_lcore_.assign(RTE_MAX_LCORE, -1);

  // One pool per socket that has a worker.
  const unsigned nsockets = rte_socket_count();
  std::vector<uint32_t> workers_on(nsockets + 1, 0);
  auto socket_of = [&](unsigned lcore) {
    const int s = rte_lcore_to_socket_id(lcore);
    return s < 0 || static_cast<unsigned>(s) >= nsockets ? 0u : static_cast<unsigned>(s);
  };
  for (unsigned l : lcores) ++workers_on[socket_of(l)];

  bool any_steer_possible = false;  // decided per port once ports are up; rings sized now
  const bool multi = nworkers > 1;
  pools_.assign(nsockets, nullptr);
  unsigned used_sockets = 0;
  for (unsigned s = 0; s < nsockets; ++s) {
    if (workers_on[s] == 0) continue;
    ++used_sockets;
    uint64_t need = ro_.mbufs_per_socket;
    if (need == 0) {
      // RX rings full, TX rings full, the spares, one burst in flight and a steering
      // ring per worker, for every worker on the socket; plus the per-lcore caches.
      const uint64_t per_worker = ro_.ports.size() * (uint64_t{ro_.rx_descriptors} + ro_.tx_descriptors) +
                                  Worker::kSpareMbufs + 2 * kMaxBurst + (multi ? ro_.steering_ring_size : 0);
      need = workers_on[s] * (per_worker + ro_.mbuf_cache * 3 / 2) + 1024;
    }
    const uint32_t n = round_up_pow2_minus1(need);
    const std::string name = str_cat("tcpterm_mbuf_s", s);
    rte_mempool* mp = rte_pktmbuf_pool_create(name.c_str(), n, ro_.mbuf_cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              static_cast<int>(s));
    if (mp == nullptr)
      throw std::runtime_error(str_cat("cannot create mbuf pool of ", n, " mbufs on socket ", s, ": ",
                                       rte_strerror(rte_errno), " (more memory: EAL -m, or hugepages)"));
    pools_[s] = mp;
  }

  // Steering rings are created when a port needs them (after set-up we know).
  ports_.reserve(ro_.ports.size());
  std::vector<rte_mempool*> queue_pool(nworkers);
  for (uint32_t w = 0; w < nworkers; ++w) queue_pool[w] = pools_[socket_of(lcores[w])];
  for (const PortOptions& po : ro_.ports) {
    ports_.push_back(setup_port(po, static_cast<uint16_t>(nworkers), ro_, queue_pool, used_sockets == 1));
    const PortInfo& p = ports_.back();
    if (multi && !p.rss) any_steer_possible = true;
    std::printf("tcpterm: port %u %s (%s) mac %02x:%02x:%02x:%02x:%02x:%02x, %u queue pair%s, %s%s%s%s%s, link %s\n",
                p.port_id, p.name.c_str(), p.driver.c_str(), p.mac.b[0], p.mac.b[1], p.mac.b[2], p.mac.b[3],
                p.mac.b[4], p.mac.b[5], p.queues, p.queues == 1 ? "" : "s",
                !multi ? "one worker" : p.rss ? "RSS on the TCP/IPv4 4-tuple" : "software steering",
                p.rx_tcp_checksum ? ", RX checksum offload" : ", RX software checksums",
                p.tx_checksum ? ", TX checksum offload" : ", TX software checksums",
                p.fast_free ? ", TX fast free" : "", p.rx_interrupts ? ", RX interrupts" : "",
                link_status(p.port_id).c_str());
  }
  if (any_steer_possible) {
    const uint32_t rs = round_up_pow2(ro_.steering_ring_size);
    for (uint32_t w = 0; w < nworkers; ++w) {
      const std::string name = str_cat("tcpterm_steer", w);
      rte_ring* r = rte_ring_create(name.c_str(), rs, static_cast<int>(socket_of(lcores[w])), RING_F_SC_DEQ);
      if (r == nullptr) throw std::runtime_error(str_cat("cannot create steering ring: ", rte_strerror(rte_errno)));
      rings_.push_back(r);
    }
  }

  // The workers' set-ups. Clock origin: now, the same on every lcore (one TSC).
  const TscClock clock(rte_get_tsc_hz(), rte_rdtsc());
  const uint64_t steer_seed = random64();
  slots_ = std::make_unique<StatsSlot<WorkerSnapshot>[]>(nworkers);
  setups_.resize(nworkers);
  for (uint32_t w = 0; w < nworkers; ++w) {
    WorkerSetup& s = setups_[w];
    s.lcore = lcores[w];
    s.index = w;
    s.workers = nworkers;
    s.ports = static_cast<uint32_t>(ports_.size());
    for (uint32_t p = 0; p < ports_.size(); ++p) {
      s.port_id[p] = ports_[p].port_id;
      s.steer[p] = multi && !ports_[p].rss;
      s.offload[p].ip_csum_verified = ports_[p].rx_ip_checksum;
      s.offload[p].l4_csum_verified = ports_[p].rx_tcp_checksum;
      s.tx_checksum[p] = ports_[p].tx_checksum;
      s.mac[p] = ports_[p].mac;
      s.rx_interrupts[p] = ports_[p].rx_interrupts;
      s.engine_seed[p] = random64();
    }
    s.pool = queue_pool[w];
    s.ring = rings_.empty() ? nullptr : rings_[w];
    s.rings = rings_.empty() ? nullptr : rings_.data();
    s.steer_seed = steer_seed;
    s.burst = ro_.burst_size;
    s.backoff = IdleBackoff(ro_.idle_backoff, Nanos{ro_.idle_pause_us} * kMicrosecond,
                            Nanos{ro_.idle_sleep_us} * kMicrosecond);
    s.clock = clock;
    s.config = &cfg_;
    s.stop = &stop_;
    s.slot = &slots_[w];
    worker_of_lcore_[s.lcore] = static_cast<int>(w);
    worker_objs_.push_back(std::make_unique<Worker>(s));
  }
  mbufs_at_start_ = mbufs_in_use();
}

Runtime::~Runtime() {
  if (!closed_) shutdown();
  for (rte_ring* r : rings_) rte_ring_free(r);
  for (rte_mempool* mp : pools_)
    if (mp != nullptr) rte_mempool_free(mp);
}

int Runtime::launch(void* arg) {
  auto* self = static_cast<Runtime*>(arg);
  const int w = self->worker_of_lcore_[rte_lcore_id()];
  if (w < 0) return 0;
  const int rc = self->worker_objs_[static_cast<size_t>(w)]->run();
  if (rc != 0) self->failed_.fetch_add(1);
  return rc;
}

int Runtime::run() {
  const int rc = rte_eal_mp_remote_launch(&Runtime::launch, this, CALL_MAIN);
  if (rc != 0) {
    stop_.store(true);
    rte_eal_mp_wait_lcore();
    return -1;
  }
  rte_eal_mp_wait_lcore();
  return failed_.load() == 0 ? 0 : -1;
}

void Runtime::shutdown() {
  if (closed_) return;
  closed_ = true;
  for (auto& w : worker_objs_) w->release_mbufs();
  mbufs_after_stop_ = mbufs_in_use();
  for (const PortInfo& p : ports_) close_port(p);
}

uint64_t Runtime::mbufs_total() const {
  uint64_t n = 0;
  for (rte_mempool* mp : pools_)
    if (mp != nullptr) n += mp->size;
  return n;
}

uint64_t Runtime::mbufs_in_use() const {
  uint64_t n = 0;
  for (rte_mempool* mp : pools_)
    if (mp != nullptr) n += rte_mempool_in_use_count(mp);
  return n;
}

}  // namespace tcpterm::dpdk
