// tcpterm's configuration: plain structs the engine and the drivers read, and
// the loader that fills them from a TOML file plus `--set key=value`
// overrides. The structs are generated from the knob tables in knobs.h; the
// loader (config.cc, the only user of toml++) validates every key, type and
// range there and then checks across fields (distinct listener ports).
//
// Contract: load_* returns a complete, valid Config or throws ConfigError;
// never a half-filled one. Errors name the file, the line, the key and what
// is allowed, e.g.
//   tap.toml:12: tcp.fin_timeout: expected an integer in [1, 86400], got "abc"
// All errors of a file are reported at once, one per line, in file order.
// Off the packet path: this code allocates and throws freely.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/knobs.h"

namespace tcpterm {

// X(name, help): the applications a listener can run.
#define TCPTERM_APP_KINDS(X)  \
  X(close, "close at once")   \
  X(http, "HTTP/1.x responder") \
  X(echo, "RFC 862 echo")     \
  X(discard, "RFC 863 discard") \
  X(reset, "abort with RST")

enum class AppKind : uint8_t {
#define TCPTERM_APP_ENUM(name, help) name,
  TCPTERM_APP_KINDS(TCPTERM_APP_ENUM)
#undef TCPTERM_APP_ENUM
};

std::string_view app_kind_name(AppKind);
std::optional<AppKind> parse_app_kind(std::string_view);

// One [[listener]] table.
struct ListenerConfig {
  TCPTERM_LISTENER_KNOBS(TCPTERM_KNOB_MEMBER)
  bool operator==(const ListenerConfig&) const = default;
};

// The [engine] section.
struct EngineConfig {
  TCPTERM_ENGINE_KNOBS(TCPTERM_KNOB_MEMBER)
};

// The [dpdk] section and the [[port]] tables: the DPDK runtime's, not the engine's.
struct DpdkConfig {
  TCPTERM_DPDK_KNOBS(TCPTERM_KNOB_MEMBER)
  bool operator==(const DpdkConfig&) const = default;
};

struct PortConfig {
  TCPTERM_PORT_KNOBS(TCPTERM_KNOB_MEMBER)
  bool operator==(const PortConfig&) const = default;
};

struct Config {
  TcpKnobs tcp;
  EngineConfig engine;
  std::vector<ListenerConfig> listeners;
  DpdkConfig dpdk;
  std::vector<PortConfig> ports;
};

struct ConfigError : std::runtime_error {
  using runtime_error::runtime_error;
};

// Reads and validates a TOML file, then applies the overrides in order.
Config load_config_file(const std::string& path, const std::vector<std::string>& overrides = {});
// The same from text; source_name stands for the file name in messages.
Config load_config_string(std::string_view toml, std::string_view source_name,
                          const std::vector<std::string>& overrides = {});
// One `--set` override: "tcp.fin_timeout=5", "engine.addresses=10.0.0.1/24,10.0.0.2/24",
// "listener.0.accept_rate=100", "dpdk.eal_args=--no-huge -l 0", "port.0.rss=false". The value is parsed with the knob's type and range,
// then the whole Config is re-checked; on error cfg is left unchanged.
void apply_override(Config& cfg, std::string_view key_eq_value);

// Every knob's effective value, in order, as --set takes it back:
// ("tcp.fin_timeout", "60"), ("listener.0.app", "http"), ... (--print-config,
// telemetry /tcpterm/config).
std::vector<std::pair<std::string, std::string>> config_entries(const Config& cfg);

std::string knobs_help();            // for --help: every knob, its default, range and meaning
std::string knobs_markdown_table();  // the README's table, generated from the same rows
std::string knobs_example_toml();    // config/tcpterm.toml: every knob at its default, commented

// "198.18.0.2/24" <-> Ipv4Cidr (host byte order); nullopt on any syntax error
// (octets 0..255 in decimal, no leading zeros, prefix length 0..32 required).
std::optional<Ipv4Cidr> parse_ipv4_cidr(std::string_view);
std::string format_ipv4_cidr(Ipv4Cidr);

// A listener's effective accept-queue length: its backlog, or tcp.backlog when 0,
// capped at tcp.backlog (Linux caps listen()'s backlog at net.core.somaxconn).
inline uint32_t effective_backlog(const TcpKnobs& tcp, const ListenerConfig& l) {
  return l.backlog == 0 || l.backlog > tcp.backlog ? tcp.backlog : l.backlog;
}

}  // namespace tcpterm
