// The control side: everything that happens off the packet path while the
// workers poll.
//
// A thread of its own (an EAL control thread, so it runs off the workers' cores
// where the core list leaves room) wakes every --stats-interval, reads each
// worker's published snapshot (a seqlock read, see stats_slot.h), sums them and
// prints one block: connections opened and closed per second, packets, drops by
// reason, retransmissions, the state distribution and the mbufs in use. The same
// totals answer DPDK telemetry (/tcpterm/stats, /tcpterm/states, /tcpterm/config,
// readable with dpdk-telemetry.py; telemetry names allow no dots, so a knob is
// "tcp/fin_timeout" there) and become the --stats-json summary on exit.
//
// Every reader (the control thread, the telemetry thread, the exit summary)
// sums the workers' seqlock slots itself: readers never wait for each other and
// the poll loops never wait for anyone.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <mutex>
#include <utility>
#include <vector>

#include "config/config.h"
#include "drivers/dpdk/runtime.h"

namespace tcpterm::dpdk {

struct Totals {
  DriverCounters driver{};
  EngineStats engine{};
  Nanos at = 0;            // engine time of the newest snapshot
  uint64_t mbufs_in_use = 0;
  uint64_t mbufs_total = 0;
};

struct ControlOptions {
  double stats_interval = 1.0;  // seconds between printed blocks; 0: print none
  double duration = 0;          // seconds until the run stops by itself; 0: until a signal
};

class Control {
 public:
  Control(Runtime& rt, const Config& cfg, const ControlOptions& opt, std::atomic<bool>& stop);
  ~Control();
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

  void start();   // registers the telemetry commands and starts the thread
  void join();    // after the stop flag is set
  // Telemetry stops using this object; waits for callbacks in progress. Before the
  // runtime shuts down (its pools go away), and again, harmlessly, in ~Control.
  void detach_telemetry();

  Totals collect() const;                     // sums the workers' snapshots now
  std::string stats_json(const Totals& t, double elapsed_s) const;
  std::string config_text() const;            // "key = value" lines, as /tcpterm/config gives them

 private:
  static void* thread_main(void* self);
  void loop();
  void print_block(const Totals& now, const Totals& prev, double dt, double elapsed);
  static int tel_stats(const char* cmd, const char* params, rte_tel_data* d);
  static int tel_states(const char* cmd, const char* params, rte_tel_data* d);
  static int tel_config(const char* cmd, const char* params, rte_tel_data* d);

  Runtime& rt_;
  const Config& cfg_;
  ControlOptions opt_;
  std::atomic<bool>& stop_;
  pthread_t thread_{};
  bool started_ = false;
  std::vector<std::pair<std::string, std::string>> config_kv_;
  mutable std::mutex last_mu_;                   // off the packet path: readers only
  mutable std::vector<WorkerSnapshot> last_;     // last good snapshot per worker
  std::vector<std::string> link_;  // last link status per port, printed on change
};

}  // namespace tcpterm::dpdk
