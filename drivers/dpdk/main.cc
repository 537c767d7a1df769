// tcpterm: the program. Parses its own options (after `--`), loads the
// configuration (a file or the embedded config/tap.toml), starts EAL with the
// config's eal_args followed by the command line's, runs the DPDK runtime and
// the control side until SIGINT/SIGTERM or --duration, stops cleanly (every
// mbuf back in its pool, ports closed), and writes --stats-json.
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "drivers/dpdk/cli.h"
#include "drivers/dpdk/control.h"
#include "drivers/dpdk/runtime.h"
#include "drivers/dpdk/tap_toml.h"

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

double monotonic_s() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tcpterm;
  using namespace tcpterm::dpdk;
  std::vector<std::string> args(argv + 1, argv + argc);
  const SplitArgs split = split_args(args);

  ProgramOptions po;
  try {
    po = parse_program_args(split.program);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "tcpterm: %s\n", e.what());
    return 2;
  }
  if (po.help && !(split.eal.size() == 1 && split.eal[0] == "-h")) {
    std::fputs(usage_text().c_str(), stdout);
    std::fputs("\n", stdout);
    std::fputs(knobs_help().c_str(), stdout);
    return 0;
  }

  Config cfg;
  try {
    cfg = po.config_path.empty() ? load_config_string(kTapToml, "tap.toml (embedded)", po.overrides)
                                 : load_config_file(po.config_path, po.overrides);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tcpterm: configuration refused:\n%s\n", e.what());
    return 2;
  }
  const RuntimeOptions ro = runtime_options_from(cfg);
  if (po.print_config) {
    for (const auto& [k, v] : config_entries(cfg)) std::printf("%s = %s\n", k.c_str(), v.c_str());
    return 0;
  }

  // EAL: argv[0], the config's eal_args, then the command line's (which replace the config's).
  std::vector<std::string> eal_args{argv[0]};
  for (std::string& a : merge_eal_args(cfg.dpdk.eal_args, split.eal)) eal_args.push_back(std::move(a));
  std::vector<char*> eal_argv;
  for (std::string& s : eal_args) eal_argv.push_back(s.data());
  eal_argv.push_back(nullptr);
  // Before EAL starts (it does not use SIGINT/SIGTERM): a stop during start-up is
  // seen by the runtime, which then returns at once and cleans up.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (rte_eal_init(static_cast<int>(eal_args.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "tcpterm: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }

  int rc = 0;
  try {
    Runtime rt(cfg, ro, g_stop);
    Control ctl(rt, cfg, ControlOptions{po.stats_interval, po.duration}, g_stop);
    std::printf("tcpterm: %u worker lcore%s, %s, idle back-off %s; Ctrl-C stops\n", rt.workers(),
                rt.workers() == 1 ? "" : "s", rt.software_steering() ? "software steering" : "no steering needed",
                ro.idle_backoff ? "on" : "off");
    std::fflush(stdout);
    const double t0 = monotonic_s();
    ctl.start();
    rc = rt.run();
    g_stop.store(true);
    ctl.join();
    ctl.detach_telemetry();
    const double elapsed = monotonic_s() - t0;
    rt.shutdown();
    const Totals t = ctl.collect();
    std::printf("tcpterm: stopped after %.1f s; mbufs in use %lu at start, %lu after stop, %lu after closing the ports\n",
                elapsed, static_cast<unsigned long>(rt.mbufs_in_use_at_start()),
                static_cast<unsigned long>(rt.mbufs_in_use_after_stop()), static_cast<unsigned long>(t.mbufs_in_use));
    std::printf("tcpterm: state distribution at exit:\n%s", format_state_distribution(t.engine).c_str());
    if (!po.stats_json.empty()) {
      std::ofstream f(po.stats_json);
      f << ctl.stats_json(t, elapsed);
      if (!f) {
        std::fprintf(stderr, "tcpterm: cannot write %s\n", po.stats_json.c_str());
        rc = 1;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tcpterm: %s\n", e.what());
    rc = 1;
  }
  // EAL leaves its runtime directory (config, memory maps, telemetry socket) behind.
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all(runtime_dir, ec);
  return rc == 0 ? 0 : 1;
}
