// The tcpterm command line (see cli.h).
#include "drivers/dpdk/cli.h"

#include "drivers/dpdk/str_cat.h"

#include <charconv>
#include <cmath>
#include <string_view>

namespace tcpterm::dpdk {

namespace {

double parse_seconds(const std::string& opt, const std::string& v, double max) {
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(d) || d < 0 || d > max)
    throw UsageError(str_cat(opt, ": expected seconds in [0, ", static_cast<long>(max), "], got \"", v, "\""));
  return d;
}

// EAL options that take no value.
bool eal_flag(std::string_view k) {
  for (std::string_view f : {"--no-huge", "--no-pci", "--no-hpet", "--no-shconf", "--in-memory", "--no-telemetry",
                             "--legacy-mem", "--single-file-segments", "--match-allocations", "-v", "--version",
                             "-h", "--help", "--create-uio-dev", "--huge-unlink", "--telemetry"})
    if (k == f) return true;
  return false;
}

bool eal_repeatable(std::string_view k) {
  for (std::string_view f : {"--vdev", "-a", "--allow", "-b", "--block", "--log-level", "-d"})
    if (k == f) return true;
  return false;
}

std::string_view eal_family(std::string_view k) {
  if (k == "-l" || k == "-c" || k == "--lcores") return "cores";
  if (k == "-m" || k == "--socket-mem") return "memory";
  return k;
}

struct EalItem {
  std::string key;  // the option's family; empty for a lone value
  std::vector<std::string> tokens;
};

std::vector<EalItem> eal_items(const std::vector<std::string>& args) {
  std::vector<EalItem> items;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.empty() || a[0] != '-') {
      items.push_back({"", {a}});
      continue;
    }
    // "-l0-1": a short option with its value attached.
    const bool attached = a.size() > 2 && a[1] != '-';
    const size_t eq = attached ? std::string::npos : a.find('=');
    const std::string key = attached ? a.substr(0, 2) : a.substr(0, eq);
    EalItem it{std::string(eal_family(key)), {a}};
    if (!attached && eq == std::string::npos && !eal_flag(key) && i + 1 < args.size() && !args[i + 1].empty() &&
        args[i + 1][0] != '-')
      it.tokens.push_back(args[++i]);
    if (eal_repeatable(key)) it.key.clear();  // never replaced
    items.push_back(std::move(it));
  }
  return items;
}

}  // namespace

std::vector<std::string> merge_eal_args(const std::vector<std::string>& from_config,
                                        const std::vector<std::string>& from_command_line) {
  const std::vector<EalItem> cmd = eal_items(from_command_line);
  std::vector<std::string> out;
  for (const EalItem& c : eal_items(from_config)) {
    bool replaced = false;
    for (const EalItem& o : cmd) replaced = replaced || (!c.key.empty() && c.key == o.key);
    if (!replaced) out.insert(out.end(), c.tokens.begin(), c.tokens.end());
  }
  out.insert(out.end(), from_command_line.begin(), from_command_line.end());
  return out;
}

SplitArgs split_args(const std::vector<std::string>& args) {
  SplitArgs s;
  size_t dd = args.size();
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] == "--") {
      dd = i;
      break;
    }
  if (dd == args.size()) {
    s.program = args;
    return s;
  }
  s.eal.assign(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(dd));
  s.program.assign(args.begin() + static_cast<std::ptrdiff_t>(dd) + 1, args.end());
  return s;
}

ProgramOptions parse_program_args(const std::vector<std::string>& args) {
  ProgramOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // Both "--opt VALUE" and "--opt=VALUE".
    std::string name = a, value;
    bool inline_value = false;
    if (a.rfind("--", 0) == 0) {
      const size_t eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        inline_value = true;
      }
    }
    auto take = [&]() -> std::string {
      if (inline_value) return value;
      if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
      return args[++i];
    };
    if (name == "--help" || name == "-h") {
      o.help = true;
    } else if (name == "--config" || name == "-c") {
      o.config_path = take();
    } else if (name == "--set" || name == "-s") {
      const std::string kv = take();
      if (kv.find('=') == std::string::npos) throw UsageError("--set: expected KEY=VALUE, got \"" + kv + "\"");
      o.overrides.push_back(kv);
    } else if (name == "--stats-interval") {
      o.stats_interval = parse_seconds(name, take(), 3600);
    } else if (name == "--stats-json") {
      o.stats_json = take();
      if (o.stats_json.empty()) throw UsageError("--stats-json needs a file name");
    } else if (name == "--duration") {
      o.duration = parse_seconds(name, take(), 31536000);
    } else if (name == "--print-config") {
      o.print_config = true;
    } else {
      throw UsageError("unknown option \"" + a + "\" (EAL options go before `--`; see --help)");
    }
  }
  return o;
}

std::string usage_text() {
  return R"(tcpterm: a kernel-bypass TCP termination engine on DPDK.

Usage:
  tcpterm [EAL options] -- [options]
  tcpterm [options]                       (no EAL options beyond the config's [dpdk] eal_args)

Options (after `--`):
  -c, --config FILE        TOML configuration. Without it, the embedded config/tap.toml:
                           one net_tap port (kernel side interface tcpterm0), engine
                           198.18.0.2/24, listeners 80 (http), 7 (echo), 9 (discard),
                           --no-huge, idle back-off on.
  -s, --set KEY=VALUE      Override one knob after the file is read (repeatable), e.g.
                           --set tcp.fin_timeout=5 --set dpdk.idle_backoff=false
                           --set listener.0.accept_rate=100.
  --stats-interval S       Print statistics every S seconds (default 1; 0: none).
  --stats-json FILE        Write a JSON summary (counters, drops, states, mbufs) on exit.
  --duration S             Stop by itself after S seconds (default: run until SIGINT/SIGTERM).
  --print-config           Print the effective configuration and exit.
  -h, --help               This text.

EAL options (before `--`) are DPDK's own; the config's [dpdk] eal_args come first, the
command line's after them, and an option given on the command line replaces the
config's (so `-l 0-3 --` overrides tap.toml's `-l 0`). Common ones: -l CORELIST (one poll loop per listed lcore),
--no-huge -m MB (no hugepages), --vdev DEVARGS, -a PCI_ADDR, --file-prefix NAME,
--no-telemetry, --log-level. EAL prints its full list with `tcpterm -h --`.

While running: one block of statistics per interval; DPDK telemetry commands
/tcpterm/stats, /tcpterm/states and /tcpterm/config (dpdk-telemetry.py). SIGINT or
SIGTERM stops the poll loops, returns every mbuf and closes the ports.
)";
}

}  // namespace tcpterm::dpdk
