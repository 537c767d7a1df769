// The tcpterm program's command line, DPDK style:
//   tcpterm [EAL options] -- [--config FILE] [--set KEY=VALUE ...] [--stats-interval S]
//                            [--stats-json FILE] [--duration S] [--help]
// Everything before `--` goes to EAL (after the config's [dpdk] eal_args);
// everything after is the program's. Without `--` every argument is the
// program's. Pure parsing, no DPDK, so it is unit-tested.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tcpterm::dpdk {

struct ProgramOptions {
  std::string config_path;                 // empty: the embedded config/tap.toml
  std::vector<std::string> overrides;      // --set KEY=VALUE, in order
  double stats_interval = 1.0;             // seconds; 0 prints nothing while running
  std::string stats_json;                  // written on exit when set
  double duration = 0;                     // seconds; 0 runs until SIGINT/SIGTERM
  bool help = false;
  bool print_config = false;               // --print-config: the effective config, then exit
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SplitArgs {
  std::vector<std::string> eal;      // before `--`
  std::vector<std::string> program;  // after `--`
};

SplitArgs split_args(const std::vector<std::string>& args);  // args exclude argv[0]
ProgramOptions parse_program_args(const std::vector<std::string>& args);  // throws UsageError

// EAL's arguments: the config's [dpdk] eal_args, then the command line's. EAL
// refuses most options given twice (-l twice is an error), so an option the
// command line gives replaces the config's (-l, -c and --lcores count as one
// option, as do -m and --socket-mem); --vdev, -a/--allow, -b/--block and
// --log-level add up instead.
std::vector<std::string> merge_eal_args(const std::vector<std::string>& from_config,
                                        const std::vector<std::string>& from_command_line);
std::string usage_text();  // the --help text (the knobs' table is appended by the program)

}  // namespace tcpterm::dpdk
