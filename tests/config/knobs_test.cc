// The knob tables against the outside world: the defaults are Linux's (the
// values below were read off a Debian 12 host's /proc/sys, kernel 6.x, and are
// written out here independently of knobs.h), the example files in config/
// load, config/tcpterm.toml and README.md's table are what the tables generate.
#include "config/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <toml++/toml.h>

namespace tcpterm {
namespace {

std::string source_root() {
  const char* root = std::getenv("TCPTERM_SOURCE_ROOT");
  return root ? root : ".";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(Knobs, TcpDefaultsAreLinuxDefaults) {
  const TcpKnobs t;
  EXPECT_EQ(t.syncookies, 1u);                  // net.ipv4.tcp_syncookies
  EXPECT_EQ(t.max_syn_backlog, 2048u);          // net.ipv4.tcp_max_syn_backlog
  EXPECT_EQ(t.synack_retries, 5u);              // net.ipv4.tcp_synack_retries
  EXPECT_EQ(t.syn_retries, 6u);                 // net.ipv4.tcp_syn_retries
  EXPECT_EQ(t.abort_on_overflow, 0u);           // net.ipv4.tcp_abort_on_overflow
  EXPECT_EQ(t.orphan_retries, 0u);              // net.ipv4.tcp_orphan_retries (0 means 8)
  EXPECT_EQ(t.max_orphans, 131072u);            // net.ipv4.tcp_max_orphans
  EXPECT_EQ(t.fin_timeout, 60u);                // net.ipv4.tcp_fin_timeout
  EXPECT_EQ(t.max_tw_buckets, 131072u);         // net.ipv4.tcp_max_tw_buckets
  EXPECT_EQ(t.tw_reuse, 2u);                    // net.ipv4.tcp_tw_reuse
  EXPECT_EQ(t.timestamps, 1u);                  // net.ipv4.tcp_timestamps
  EXPECT_EQ(t.window_scaling, 1u);              // net.ipv4.tcp_window_scaling
  EXPECT_EQ(t.sack, 1u);                        // net.ipv4.tcp_sack
  EXPECT_EQ(t.keepalive_time, 7200u);           // net.ipv4.tcp_keepalive_time
  EXPECT_EQ(t.keepalive_intvl, 75u);            // net.ipv4.tcp_keepalive_intvl
  EXPECT_EQ(t.keepalive_probes, 9u);            // net.ipv4.tcp_keepalive_probes
  EXPECT_EQ(t.rfc1337, 0u);                     // net.ipv4.tcp_rfc1337
  EXPECT_EQ(t.challenge_ack_limit, 2147483647u);  // net.ipv4.tcp_challenge_ack_limit (>= 6.0)
  EXPECT_EQ(t.invalid_ratelimit, 500u);         // net.ipv4.tcp_invalid_ratelimit, ms
  EXPECT_EQ(t.retries2, 15u);                   // net.ipv4.tcp_retries2
  EXPECT_EQ(2 * t.msl, 60u);                    // TCP_TIMEWAIT_LEN = 60 s
  EXPECT_EQ(t.backlog, 4096u);                  // net.core.somaxconn (>= 5.4)
  const EngineConfig e;
  EXPECT_EQ(e.ttl, 64u);                        // net.ipv4.ip_default_ttl
  EXPECT_EQ(e.icmp_echo_ignore_all, 0u);        // net.ipv4.icmp_echo_ignore_all
  EXPECT_EQ(e.mtu, 1500u);
  const ListenerConfig l;
  EXPECT_EQ(l.backlog, 0u);  // listen() with no backlog of its own: somaxconn
  EXPECT_EQ(l.http_keepalive_timeout, 65u);  // nginx's keepalive_timeout
  EXPECT_FALSE(l.keepalive);                 // SO_KEEPALIVE is off by default
}

TEST(Knobs, ExampleTcptermTomlIsGeneratedFromTheTables) {
  const std::string path = source_root() + "/config/tcpterm.toml";
  EXPECT_EQ(read_file(path), knobs_example_toml())
      << "regenerate: build/config/tcpterm-knobs --toml > config/tcpterm.toml";
}

TEST(Knobs, ExampleTcptermTomlLoadsWithEveryKnobAtItsDefault) {
  const std::string path = source_root() + "/config/tcpterm.toml";
  const Config c = load_config_file(path);
  EXPECT_EQ(c.tcp, TcpKnobs{});
  ASSERT_EQ(c.listeners.size(), 1u);
  ListenerConfig expected;  // required fields carry example values
  expected.port = 80;
  expected.app = AppKind::http;
  EXPECT_EQ(c.listeners[0], expected);
  const EngineConfig e;
  EXPECT_EQ(c.engine.mtu, e.mtu);
  EXPECT_EQ(c.engine.max_connections, e.max_connections);
  EXPECT_EQ(c.engine.ttl, e.ttl);
  EXPECT_EQ(c.engine.icmp_echo_ignore_all, e.icmp_echo_ignore_all);
  ASSERT_EQ(c.engine.addresses.size(), 1u);
  EXPECT_EQ(c.engine.addresses[0].addr, ipv4(198, 18, 0, 2));
  EXPECT_EQ(c.dpdk, DpdkConfig{});
  ASSERT_EQ(c.ports.size(), 1u);
  PortConfig port;
  port.device = "net_tap0,iface=tcpterm0";
  EXPECT_EQ(c.ports[0], port);

  // Every knob is spelled out in the file, not left to its default.
  const toml::table t = toml::parse_file(path);
#define TCPTERM_EXPECT_PRESENT(name, type, def, mn, mx, lx, help) \
  EXPECT_TRUE(t.at_path(std::string(section) + "." #name)) << section << "." #name;
  {
    const char* section = "tcp";
    TCPTERM_TCP_KNOBS(TCPTERM_EXPECT_PRESENT)
  }
  {
    const char* section = "engine";
    TCPTERM_ENGINE_KNOBS(TCPTERM_EXPECT_PRESENT)
  }
  {
    const char* section = "listener[0]";
    TCPTERM_LISTENER_KNOBS(TCPTERM_EXPECT_PRESENT)
  }
  {
    const char* section = "dpdk";
    TCPTERM_DPDK_KNOBS(TCPTERM_EXPECT_PRESENT)
  }
  {
    const char* section = "port[0]";
    TCPTERM_PORT_KNOBS(TCPTERM_EXPECT_PRESENT)
  }
#undef TCPTERM_EXPECT_PRESENT
}

TEST(Knobs, ExampleTapTomlLoads) {
  const Config c = load_config_file(source_root() + "/config/tap.toml");
  ASSERT_EQ(c.engine.addresses.size(), 1u);
  EXPECT_EQ(c.engine.addresses[0].addr, ipv4(198, 18, 0, 2));
  EXPECT_EQ(c.engine.addresses[0].prefix_len, 24);
  ASSERT_EQ(c.listeners.size(), 3u);
  EXPECT_EQ(c.listeners[0].port, 80);
  EXPECT_EQ(c.listeners[0].app, AppKind::http);
  EXPECT_EQ(c.listeners[1].port, 7);
  EXPECT_EQ(c.listeners[1].app, AppKind::echo);
  EXPECT_EQ(c.listeners[2].port, 9);
  EXPECT_EQ(c.listeners[2].app, AppKind::discard);
  ASSERT_EQ(c.ports.size(), 1u);
  EXPECT_EQ(c.ports[0].device.rfind("net_tap", 0), 0u) << c.ports[0].device;
  EXPECT_NE(c.ports[0].device.find("iface=tcpterm0"), std::string::npos) << c.ports[0].device;
  EXPECT_EQ(c.tcp, TcpKnobs{});
}

TEST(Knobs, ReadmeTableIsGeneratedFromTheTables) {
  const std::string readme = read_file(source_root() + "/README.md");
  const std::string begin = "<!-- knobs:begin -->\n", end = "<!-- knobs:end -->";
  const size_t b = readme.find(begin), e = readme.find(end);
  ASSERT_NE(b, std::string::npos) << "README.md lacks " << begin;
  ASSERT_NE(e, std::string::npos) << "README.md lacks " << end;
  ASSERT_LT(b, e);
  EXPECT_EQ(readme.substr(b + begin.size(), e - b - begin.size()), knobs_markdown_table())
      << "regenerate: build/config/tcpterm-knobs --markdown, paste between the markers";
}

// One row per knob in the README table and one entry in --help, each with its
// default: the generators walk all three tables.
TEST(Knobs, TableAndHelpCoverEveryKnob) {
  const std::string md = knobs_markdown_table(), help = knobs_help();
  size_t rows = 0;
#define TCPTERM_EXPECT_DOCUMENTED(name, type, def, mn, mx, lx, help_text)                           \
  ++rows;                                                                                            \
  EXPECT_NE(md.find("| `" + std::string(prefix) + #name "` |"), std::string::npos) << prefix << #name; \
  EXPECT_NE(help.find("  " + std::string(prefix) + #name " "), std::string::npos) << prefix << #name;  \
  EXPECT_EQ(std::string_view(help_text).find('|'), std::string_view::npos) << #name;
  {
    const char* prefix = "tcp.";
    TCPTERM_TCP_KNOBS(TCPTERM_EXPECT_DOCUMENTED)
  }
  {
    const char* prefix = "engine.";
    TCPTERM_ENGINE_KNOBS(TCPTERM_EXPECT_DOCUMENTED)
  }
  {
    const char* prefix = "listener.N.";
    TCPTERM_LISTENER_KNOBS(TCPTERM_EXPECT_DOCUMENTED)
  }
  {
    const char* prefix = "dpdk.";
    TCPTERM_DPDK_KNOBS(TCPTERM_EXPECT_DOCUMENTED)
  }
  {
    const char* prefix = "port.N.";
    TCPTERM_PORT_KNOBS(TCPTERM_EXPECT_DOCUMENTED)
  }
#undef TCPTERM_EXPECT_DOCUMENTED
  EXPECT_EQ(static_cast<size_t>(std::count(md.begin(), md.end(), '\n')), rows + 2);  // + header, rule
  EXPECT_NE(md.find("| `tcp.fin_timeout` | `60` | 1 to 86400 | `net.ipv4.tcp_fin_timeout` | Seconds an orphaned "
                    "connection waits in FIN_WAIT_2 for the peer's FIN. |\n"),
            std::string::npos);
  EXPECT_NE(md.find("| `engine.addresses` | required | 1 to 64 CIDRs |"), std::string::npos);
  EXPECT_NE(help.find("  tcp.fin_timeout = 60"), std::string::npos);
  EXPECT_NE(help.find("  listener.N.port (required)"), std::string::npos);
}

}  // namespace
}  // namespace tcpterm
