// The DPDK runtime: turns a Config into running poll loops.
//
// Start-up, in order: one mbuf pool per NUMA socket that has a worker; one
// steering ring per worker when some port cannot spread flows itself; the ports,
// each with one RX/TX queue pair per worker; then one poll loop per lcore of the
// EAL core list (the main lcore included), each with its own engine shards. The
// control side (control.h) runs on a thread of its own and reads the workers'
// published snapshots. Stop: the stop flag ends the loops; the workers return
// their mbufs; the ports are stopped and closed, which empties their RX rings;
// then every pool must be full again (mbufs_in_use() == 0), which the program
// reports.
//
// Everything here happens off the packet path, so it allocates and throws.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "drivers/dpdk/options.h"
#include "drivers/dpdk/port.h"
#include "drivers/dpdk/worker.h"

namespace tcpterm::dpdk {

// The [dpdk] and [[port]] sections as the runtime wants them.
RuntimeOptions runtime_options_from(const Config& cfg);

class Runtime {
 public:
  // EAL must be initialised. Throws PortError / std::runtime_error at start-up.
  Runtime(const Config& cfg, const RuntimeOptions& ro, std::atomic<bool>& stop);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Runs every worker (the calling main lcore too) until the stop flag is set.
  // Returns 0, or -1 if a worker failed to start.
  int run();
  // After run(): workers give back their mbufs, ports are stopped and closed.
  void shutdown();

  uint32_t workers() const { return static_cast<uint32_t>(setups_.size()); }
  const std::vector<PortInfo>& ports() const { return ports_; }
  unsigned worker_lcore(uint32_t w) const { return setups_[w].lcore; }
  bool software_steering() const { return !rings_.empty(); }
  bool read_snapshot(uint32_t w, WorkerSnapshot& out) const { return slots_[w].read(out); }
  uint64_t mbufs_total() const;
  uint64_t mbufs_in_use() const;
  // In use right after the ports started (RX rings filled): the level a clean run returns to.
  uint64_t mbufs_in_use_at_start() const { return mbufs_at_start_; }
  // In use after the workers returned theirs, before the ports were closed.
  uint64_t mbufs_in_use_after_stop() const { return mbufs_after_stop_; }
  const RuntimeOptions& options() const { return ro_; }

 private:
  static int launch(void* self);

  const Config& cfg_;
  RuntimeOptions ro_;
  std::atomic<bool>& stop_;
  std::vector<rte_mempool*> pools_;      // by socket (nullptr where no worker)
  std::vector<rte_ring*> rings_;         // by worker; empty without software steering
  std::vector<PortInfo> ports_;
  std::vector<WorkerSetup> setups_;
  std::unique_ptr<StatsSlot<WorkerSnapshot>[]> slots_;
  std::vector<std::unique_ptr<Worker>> worker_objs_;
  std::vector<int> worker_of_lcore_;     // lcore id -> worker index
  std::atomic<int> failed_{0};
  uint64_t mbufs_at_start_ = 0;
  uint64_t mbufs_after_stop_ = 0;
  bool closed_ = false;
};

}  // namespace tcpterm::dpdk
