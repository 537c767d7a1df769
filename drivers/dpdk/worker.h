// One run-to-completion poll loop per worker lcore (DPDK's l3fwd shape).
//
// A worker owns one RX/TX queue pair on every port and one engine shard per port
// (flow table, timer wheel, counters): nothing on its packet path is shared or
// locked. Per iteration it reads the TSC once, receives a burst from each of its
// queues, prefetches frame data a few packets ahead, hands each frame to the
// engine in place (zero-copy: the engine reads the mbuf's data and may rewrite
// it into a reply), lends the engine a stack of pre-allocated mbufs for the
// frames it originates, batches everything for transmission, runs the engine's
// timers, and flushes its TX batches. Frames whose connection another worker
// owns (software steering, see steer.h) go to that worker's ring in bursts.
//
// Layout: the hot state (queues, TX batches, the spare-mbuf stack) sits in this
// object, one per worker (allocated by the runtime at start); the engines it
// owns are built on the worker's own lcore, so their tables are first touched
// on its NUMA node. Counters are plain integers published to the control
// thread through a cache-aligned StatsSlot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "drivers/dpdk/clock.h"
#include "drivers/dpdk/dpdk.h"
#include "drivers/dpdk/idle_backoff.h"
#include "drivers/dpdk/stats_slot.h"
#include "engine/tcp/engine.h"

namespace tcpterm::dpdk {

inline constexpr unsigned kMaxPorts = 4;
inline constexpr unsigned kMaxBurst = 512;

// Counters the driver itself keeps (the engine counts everything it sees).
#define TCPTERM_DRIVER_COUNTERS(X)                                                      \
  X(rx_packets, "frames received from the port")                                        \
  X(rx_bytes, "bytes received from the port")                                           \
  X(tx_packets, "frames handed to the port")                                            \
  X(tx_bytes, "bytes handed to the port")                                               \
  X(tx_dropped, "frames the TX queue would not take after retries (freed)")             \
  X(rx_multi_segment, "chained mbufs (larger than one buffer) dropped")                 \
  X(steered_out, "frames passed to the owning worker's ring")                           \
  X(steered_in, "frames taken from this worker's ring")                                 \
  X(steer_ring_full, "frames dropped because the owner's ring was full")                \
  X(tx_alloc_failed, "times the mbuf pool could not refill the TX spares")              \
  X(loops, "poll-loop iterations")                                                      \
  X(idle_sleeps, "idle back-off sleeps")                                                \
  X(idle_sleep_ns, "time spent sleeping in idle back-off, ns")

struct DriverCounters {
#define TCPTERM_X(name, help) uint64_t name = 0;
  TCPTERM_DRIVER_COUNTERS(TCPTERM_X)
#undef TCPTERM_X
};

// What a worker publishes: its driver counters and each of its engines' stats.
struct WorkerSnapshot {
  DriverCounters driver;
  std::array<EngineStats, kMaxPorts> engine{};
  uint32_t ports = 0;
  Nanos at = 0;
};

// Everything a worker needs, prepared by the runtime on the main lcore.
struct WorkerSetup {
  unsigned lcore = 0;
  uint32_t index = 0;            // 0..workers-1: its queue number and steering identity
  uint32_t workers = 1;
  uint32_t ports = 0;
  std::array<uint16_t, kMaxPorts> port_id{};
  std::array<bool, kMaxPorts> steer{};          // software steering on this port
  std::array<ParseOptions, kMaxPorts> offload{}; // which checksums the port verified
  std::array<bool, kMaxPorts> tx_checksum{};     // the port fills in IPv4/TCP checksums of sent segments
  std::array<MacAddr, kMaxPorts> mac{};
  std::array<bool, kMaxPorts> rx_interrupts{};    // the port's RX queues can wake a sleeping loop
  rte_mempool* pool = nullptr;   // the worker's socket's pool (TX spares)
  rte_ring* ring = nullptr;      // frames steered to this worker
  rte_ring* const* rings = nullptr;  // every worker's ring, by index
  uint64_t steer_seed = 0;
  uint32_t burst = 32;
  IdleBackoff backoff;
  TscClock clock;
  const Config* config = nullptr;
  std::array<uint64_t, kMaxPorts> engine_seed{};
  std::atomic<bool>* stop = nullptr;
  StatsSlot<WorkerSnapshot>* slot = nullptr;
};

class Worker {
 public:
  explicit Worker(const WorkerSetup& s) : s_(s) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  // Runs on the worker's lcore until *stop: builds the engines there (first touch
  // on the local NUMA node), then polls. Returns 0, or -1 if the engines could not
  // be built (the message is printed; the runtime stops everything).
  int run();

  static constexpr uint32_t kSpareMbufs = 320;  // TX spares a worker holds (pool sizing)

  // After run() returned: mbufs still held (TX batches, spares) are freed here,
  // so that the pools are whole again when the ports are closed.
  void release_mbufs();

 private:
  static constexpr uint32_t kSpare = kSpareMbufs;  // pre-allocated TX mbufs kept at hand
  static constexpr uint32_t kLend = 16;       // at most this many lent per received frame
  // Lent to advance(): timers expire in batches (a SYN queue's SYN-ACK retransmissions
  // fall due together), each wanting a buffer.
  static constexpr uint32_t kLendAdvance = 256;
  static constexpr uint32_t kPending = 2 * kMaxBurst;
  static constexpr uint32_t kPrefetch = 3;    // frames ahead whose data is prefetched

  struct TxBatch {
    uint32_t n = 0;
    rte_mbuf* m[kPending];
  };

  void poll_once(Nanos now, bool& did_work);
  void process(rte_mbuf** pkts, uint32_t n, uint32_t port_idx, Nanos now);
  void process_steered(rte_mbuf** pkts, uint32_t n, Nanos now);
  void steer(rte_mbuf** pkts, uint32_t n, uint32_t port_idx, Nanos now);
  void refill_spares(uint32_t need);  // tops the stack up when fewer than `need` are left
  void flush(uint32_t port_idx);
  void flush_all();
  void publish(Nanos now);
  bool setup_rx_interrupts();   // true when every queue of this worker can wake it
  void sleep_until_rx();        // idle: sleep until a frame arrives or 1 ms passes

  WorkerSetup s_;
  std::array<std::unique_ptr<Engine>, kMaxPorts> engines_{};
  std::array<TxBatch, kMaxPorts> tx_{};
  // Spare TX mbufs [head_, count_) and their data pointers, lent to the engine.
  rte_mbuf* spare_[kSpare]{};
  uint8_t* spare_data_[kSpare]{};
  uint16_t spare_len_[kSpare]{};
  uint32_t head_ = 0, count_ = 0;
  uint16_t buf_cap_ = 0;
  std::array<uint8_t, RTE_MAX_ETHPORTS> slot_of_port_{};  // port id -> port index
  std::unique_ptr<rte_mbuf*[]> steer_out_;  // software steering: workers x burst staging
  std::unique_ptr<uint32_t[]> steer_n_;
  DriverCounters c_{};
  bool rx_intr_ = false;        // sleeping waits on RX interrupts (else nanosleep quanta)
  Nanos last_publish_ = 0;
  Nanos last_advance_ = 0;
  WorkerSnapshot snap_{};
};

}  // namespace tcpterm::dpdk
