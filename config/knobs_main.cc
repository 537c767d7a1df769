// tcpterm-knobs: the knob tables as text, and a configuration file checker.
//   tcpterm-knobs                    every knob with its default, range and meaning
//   tcpterm-knobs --markdown         the README's table (between <!-- knobs:begin/end -->)
//   tcpterm-knobs --toml             config/tcpterm.toml: every knob at its default
//   tcpterm-knobs --check FILE [--set KEY=VALUE]...
//                                    loads FILE as tcpterm would; exit 1 with the errors
// A separate tool so the README can be regenerated and a file checked without DPDK.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

int main(int argc, char** argv) {
  using namespace tcpterm;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(knobs_help().c_str(), stdout);
    return 0;
  }
  if (args[0] == "--markdown" && args.size() == 1) {
    std::fputs(knobs_markdown_table().c_str(), stdout);
    return 0;
  }
  if (args[0] == "--toml" && args.size() == 1) {
    std::fputs(knobs_example_toml().c_str(), stdout);
    return 0;
  }
  if (args[0] == "--check" && args.size() >= 2) {
    std::vector<std::string> overrides;
    for (size_t i = 2; i < args.size(); ++i) {
      if (args[i] != "--set" || i + 1 == args.size()) {
        std::fprintf(stderr, "tcpterm-knobs: expected --set KEY=VALUE, got %.*s\n",
                     static_cast<int>(args[i].size()), args[i].data());
        return 2;
      }
      overrides.emplace_back(args[++i]);
    }
    try {
      const Config cfg = load_config_file(std::string(args[1]), overrides);
      std::printf("%s: ok (%zu address(es), %zu listener(s))\n", argv[2], cfg.engine.addresses.size(),
                  cfg.listeners.size());
      return 0;
    } catch (const ConfigError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 1;
    }
  }
  std::fputs("usage: tcpterm-knobs [--markdown | --toml | --check FILE [--set KEY=VALUE]...]\n", stderr);
  return 2;
}
