// The loader's contract: a valid file gives every value it sets and the
// defaults elsewhere; every kind of bad input is refused with the exact
// message (file:line: key: what is allowed, got what); overrides are typed,
// range-checked and atomic.
#include "config/config.h"

#include <gtest/gtest.h>

#include <string>

namespace tcpterm {
namespace {

// The smallest valid file, as a prefix for the cases below.
constexpr const char* kMinimal = "[engine]\naddresses = [\"198.18.0.2/24\"]\n";

std::string error_of(std::string_view toml, const std::vector<std::string>& overrides = {}) {
  try {
    load_config_string(toml, "t.toml", overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string override_error(Config cfg, std::string_view kv) {
  try {
    apply_override(cfg, kv);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigLoad, MinimalFileGivesDefaults) {
  const Config c = load_config_string(kMinimal, "t.toml");
  EXPECT_EQ(c.tcp, TcpKnobs{});
  ASSERT_EQ(c.engine.addresses.size(), 1u);
  EXPECT_EQ(c.engine.addresses[0].addr, ipv4(198, 18, 0, 2));
  EXPECT_EQ(c.engine.addresses[0].prefix_len, 24);
  EXPECT_EQ(c.engine.mtu, 1500u);
  EXPECT_EQ(c.engine.max_connections, 65536u);
  EXPECT_EQ(c.engine.ttl, 64u);
  EXPECT_TRUE(c.listeners.empty());
}

TEST(ConfigLoad, ReadsEveryKindOfValue) {
  const Config c = load_config_string(R"(
[tcp]
fin_timeout = 5
syncookies = 2
challenge_ack_limit = 1000
[engine]
addresses = ["198.18.0.2/24", "10.1.2.3/8", "192.0.2.1/32"]
mtu = 9000
[[listener]]
port = 80
app = "http"
http_body_size = 1024
keepalive = true
[[listener]]
port = 7
app = "echo"
backlog = 16
accept_rate = 100
)",
                                      "t.toml");
  EXPECT_EQ(c.tcp.fin_timeout, 5u);
  EXPECT_EQ(c.tcp.syncookies, 2u);
  EXPECT_EQ(c.tcp.challenge_ack_limit, 1000u);
  EXPECT_EQ(c.tcp.msl, 30u);  // untouched knobs keep their defaults
  ASSERT_EQ(c.engine.addresses.size(), 3u);
  EXPECT_EQ(c.engine.addresses[1].addr, ipv4(10, 1, 2, 3));
  EXPECT_EQ(c.engine.addresses[1].prefix_len, 8);
  EXPECT_EQ(c.engine.addresses[2].prefix_len, 32);
  EXPECT_EQ(c.engine.mtu, 9000u);
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0], (ListenerConfig{.port = 80, .app = AppKind::http, .backlog = 0, .accept_rate = 0,
                                            .http_body_size = 1024, .http_keepalive_timeout = 65,
                                            .keepalive = true}));
  EXPECT_EQ(c.listeners[1], (ListenerConfig{.port = 7, .app = AppKind::echo, .backlog = 16, .accept_rate = 100,
                                            .http_body_size = 0, .http_keepalive_timeout = 65,
                                            .keepalive = false}));
  EXPECT_EQ(effective_backlog(c.tcp, c.listeners[0]), 4096u);
  EXPECT_EQ(effective_backlog(c.tcp, c.listeners[1]), 16u);
}

TEST(ConfigLoad, RangeEndsAreAccepted) {
  const Config c = load_config_string(std::string(kMinimal) +
                                          "mtu = 9216\n[tcp]\nfin_timeout = 86400\nsynack_retries = 0\n"
                                          "[[listener]]\nport = 65535\napp = \"reset\"\n",
                                      "t.toml");
  EXPECT_EQ(c.engine.mtu, 9216u);
  EXPECT_EQ(c.tcp.fin_timeout, 86400u);
  EXPECT_EQ(c.tcp.synack_retries, 0u);
  EXPECT_EQ(c.listeners[0].port, 65535);
  EXPECT_EQ(c.listeners[0].app, AppKind::reset);
}

TEST(ConfigLoad, DottedKeysAndInlineListenersAreTomlToo) {
  const Config c = load_config_string(
      "tcp.fin_timeout = 7\nengine = { addresses = [\"198.18.0.2/24\"] }\n"
      "listener = [{ port = 9, app = \"discard\" }]\n",
      "t.toml");
  EXPECT_EQ(c.tcp.fin_timeout, 7u);
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].app, AppKind::discard);
}

// --- errors, one kind per test, exact messages

TEST(ConfigErrors, SyntaxErrorNamesFileLineColumn) {
  EXPECT_EQ(error_of("[tcp]\nfin_timeout = \n"),
            "t.toml:2:15: TOML syntax error: Error while parsing key-value pair: expected value, saw '\\n'");
  EXPECT_EQ(error_of("[tcp]\nsack = 1\nsack = 0\n"),
            "t.toml:3:8: TOML syntax error: Error while parsing key-value pair: cannot redefine existing "
            "integer 'sack'");
}

TEST(ConfigErrors, UnreadableFile) {
  try {
    load_config_file("/nonexistent/tcpterm.toml");
    FAIL() << "loaded a missing file";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/tcpterm.toml: cannot read: No such file or directory");
  }
}

TEST(ConfigErrors, WrongType) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[tcp]\nfin_timeout = \"abc\"\n"),
            "t.toml:4: tcp.fin_timeout: expected an integer in [1, 86400], got \"abc\"");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[tcp]\nmsl = 1.5\n"),
            "t.toml:4: tcp.msl: expected an integer in [1, 3600], got 1.5");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[tcp]\nsack = true\n"),
            "t.toml:4: tcp.sack: expected an integer in [0, 1], got true");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[tcp]\nbacklog = [1]\n"),
            "t.toml:4: tcp.backlog: expected an integer in [1, 1048576], got an array");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[listener]]\nport = 80\napp = \"http\"\nkeepalive = 1\n"),
            "t.toml:6: listener.0.keepalive: expected true or false, got 1");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[listener]]\nport = 80\napp = 1\n"),
            "t.toml:5: listener.0.app: expected one of \"close\", \"http\", \"echo\", \"discard\", \"reset\", "
            "got 1");
  EXPECT_EQ(error_of("[engine]\naddresses = \"198.18.0.2/24\"\n"),
            "t.toml:2: engine.addresses: expected an array of 1 to 64 IPv4 addresses like \"198.18.0.2/24\", "
            "got \"198.18.0.2/24\"");
}

TEST(ConfigErrors, OutOfRange) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[tcp]\nfin_timeout = 0\n"),
            "t.toml:4: tcp.fin_timeout: expected an integer in [1, 86400], got 0");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[tcp]\nfin_timeout = 86401\n"),
            "t.toml:4: tcp.fin_timeout: expected an integer in [1, 86400], got 86401");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[tcp]\nsynack_retries = -1\n"),
            "t.toml:4: tcp.synack_retries: expected an integer in [0, 255], got -1");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[tcp]\nchallenge_ack_limit = 2147483648\n"),
            "t.toml:4: tcp.challenge_ack_limit: expected an integer in [0, 2147483647], got 2147483648");
  EXPECT_EQ(error_of(std::string(kMinimal) + "mtu = 575\n"),
            "t.toml:3: engine.mtu: expected an integer in [576, 9216], got 575");
  EXPECT_EQ(error_of(std::string(kMinimal) + "mtu = 9217\n"),
            "t.toml:3: engine.mtu: expected an integer in [576, 9216], got 9217");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[listener]]\nport = 65536\napp = \"http\"\n"),
            "t.toml:4: listener.0.port: expected an integer in [1, 65535], got 65536");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[listener]]\nport = 80\napp = \"ftp\"\n"),
            "t.toml:5: listener.0.app: expected one of \"close\", \"http\", \"echo\", \"discard\", \"reset\", "
            "got \"ftp\"");
}

TEST(ConfigErrors, UnknownKeys) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[tcp]\nfin_timeot = 5\n"),
            "t.toml:4: tcp.fin_timeot: unknown key, did you mean tcp.fin_timeout?");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[listener]]\nport = 80\napp = \"http\"\nbaclog = 5\n"),
            "t.toml:6: listener.0.baclog: unknown key, did you mean listener.0.backlog?");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[engine.x]\n"),
            "t.toml:3: engine.x: unknown key; allowed in [engine]: addresses, mtu, max_connections, ttl, "
            "icmp_echo_ignore_all");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[tcp]\ntw_recycle = 0\n"),
            "t.toml:4: tcp.tw_recycle: removed in Linux 4.12 (it dropped connections from clients behind "
            "NAT); tcpterm has no counterpart: use tcp.tw_reuse or tcp.max_tw_buckets");
}

TEST(ConfigErrors, UnknownAndMisshapenSections) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[udp]\nport = 2\n"),
            "t.toml:3: udp: unknown section; allowed: [tcp], [engine], [[listener]], [dpdk], [[port]]");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[port]\ndevice = \"x\"\n"),
            "t.toml:3: port: expected an array of tables [[port]], got a table");
  EXPECT_EQ(error_of("tcp = 5\n" + std::string(kMinimal)), "t.toml:1: tcp: expected a table [tcp], got 5");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[listener]\nport = 80\n"),
            "t.toml:3: listener: expected an array of tables [[listener]], got a table");
  EXPECT_EQ(error_of("listener = [5]\n" + std::string(kMinimal)), "t.toml:1: listener.0: expected a table, got 5");
  // A key after [engine] belongs to [engine]: TOML has no way back to the root.
  EXPECT_EQ(error_of(std::string(kMinimal) + "tcp = 5\n"), "t.toml:3: engine.tcp: unknown key, did you mean engine.ttl?");
}

TEST(ConfigErrors, MissingRequiredKeys) {
  EXPECT_EQ(error_of(""),
            "t.toml: engine.addresses: missing, expected an array of 1 to 64 IPv4 addresses like "
            "\"198.18.0.2/24\"");
  EXPECT_EQ(error_of("[engine]\nmtu = 1500\n"),
            "t.toml:1: engine.addresses: missing, expected an array of 1 to 64 IPv4 addresses like "
            "\"198.18.0.2/24\"");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[listener]]\nport = 80\n"),
            "t.toml:3: listener.0.app: missing, expected one of \"close\", \"http\", \"echo\", \"discard\", "
            "\"reset\"");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[listener]]\napp = \"http\"\n"),
            "t.toml:3: listener.0.port: missing, expected an integer in [1, 65535]");
}

// A required key that a --set supplies is not missing from the file.
TEST(ConfigOverrides, SupplyARequiredKey) {
  const Config cfg = load_config_string("[tcp]\nsack = 0\n", "t.toml", {"engine.addresses=198.18.0.2/24"});
  ASSERT_EQ(cfg.engine.addresses.size(), 1u);
  EXPECT_EQ(cfg.engine.addresses[0].prefix_len, 24);
  EXPECT_EQ(cfg.tcp.sack, 0);
  // Another key's override does not excuse the missing one.
  EXPECT_EQ(error_of("[tcp]\nsack = 0\n", {"tcp.sack=1"}),
            "t.toml: engine.addresses: missing, expected an array of 1 to 64 IPv4 addresses like "
            "\"198.18.0.2/24\"");
}

TEST(ConfigErrors, BadAddresses) {
  auto addr = [](std::string_view list) { return error_of("[engine]\naddresses = [" + std::string(list) + "]\n"); };
  EXPECT_EQ(addr(""),
            "t.toml:2: engine.addresses: expected an array of 1 to 64 IPv4 addresses like \"198.18.0.2/24\", "
            "got 0 entries");
  EXPECT_EQ(addr("\"198.18.0.2\""),
            "t.toml:2: engine.addresses[0]: expected an IPv4 address with a prefix length, like "
            "\"198.18.0.2/24\", got \"198.18.0.2\"");
  for (const char* bad : {"\"198.18.0.256/24\"", "\"198.18.0.2/33\"", "\"198.18.0/24\"", "\"198.18.0.2.1/24\"",
                          "\"198.018.0.2/24\"", "\"198.18.0.2/024\"", "\"198.18.0.2/\"", "\" 198.18.0.2/24\"",
                          "\"198.18.0.-2/24\"", "\"198.18.0.+2/24\""})
    EXPECT_NE(addr(bad).find("expected an IPv4 address with a prefix length"), std::string::npos) << bad;
  EXPECT_EQ(addr("5"),
            "t.toml:2: engine.addresses[0]: expected an IPv4 address with a prefix length, like "
            "\"198.18.0.2/24\", got 5");
  EXPECT_EQ(addr("\"127.0.0.1/8\""),
            "t.toml:2: engine.addresses[0]: expected a unicast host address, got \"127.0.0.1/8\" (loopback)");
  EXPECT_EQ(addr("\"224.0.0.1/24\""),
            "t.toml:2: engine.addresses[0]: expected a unicast host address, got \"224.0.0.1/24\" (multicast)");
  EXPECT_EQ(addr("\"0.1.2.3/8\""),
            "t.toml:2: engine.addresses[0]: expected a unicast host address, got \"0.1.2.3/8\" (\"this "
            "network\", 0.0.0.0/8)");
  EXPECT_EQ(addr("\"198.18.0.0/24\""),
            "t.toml:2: engine.addresses[0]: expected a unicast host address, got \"198.18.0.0/24\" (the "
            "subnet's network address)");
  EXPECT_EQ(addr("\"198.18.0.255/24\""),
            "t.toml:2: engine.addresses[0]: expected a unicast host address, got \"198.18.0.255/24\" (the "
            "subnet's broadcast address)");
  EXPECT_EQ(addr("\"198.18.0.2/24\", \"198.18.0.2/16\""),
            "t.toml:2: engine.addresses[1]: \"198.18.0.2/16\": address 198.18.0.2 is listed twice");
  // /31 and /32 have no network or broadcast address (RFC 3021).
  EXPECT_EQ(addr("\"198.18.0.0/31\", \"198.18.0.255/32\""), "(no error)");
}

TEST(ConfigErrors, DuplicateListenerPorts) {
  EXPECT_EQ(error_of(std::string(kMinimal) +
                     "[[listener]]\nport = 80\napp = \"http\"\n[[listener]]\nport = 7\napp = \"echo\"\n"
                     "[[listener]]\napp = \"echo\"\nport = 80\n"),
            "t.toml:11: listener.2.port: 80 is already used by listener.0");
}

TEST(ConfigErrors, AllErrorsAreReportedInFileOrder) {
  EXPECT_EQ(error_of("[[listener]]\nport = 0\napp = \"http\"\n[tcp]\nsack = 2\nbogus = 1\n"),
            "t.toml:2: listener.0.port: expected an integer in [1, 65535], got 0\n"
            "t.toml:5: tcp.sack: expected an integer in [0, 1], got 2\n"
            "t.toml:6: tcp.bogus: unknown key; allowed in [tcp]: syncookies, max_syn_backlog, synack_retries, "
            "syn_retries, abort_on_overflow, orphan_retries, max_orphans, fin_timeout, max_tw_buckets, "
            "tw_reuse, timestamps, window_scaling, sack, keepalive_time, keepalive_intvl, keepalive_probes, "
            "rfc1337, challenge_ack_limit, invalid_ratelimit, retries2, msl, backlog\n"
            "t.toml: engine.addresses: missing, expected an array of 1 to 64 IPv4 addresses like "
            "\"198.18.0.2/24\"");
}

// --- overrides

Config two_listeners() {
  return load_config_string(std::string(kMinimal) +
                                "[tcp]\nfin_timeout = 10\n[[listener]]\nport = 80\napp = \"http\"\n"
                                "[[listener]]\nport = 7\napp = \"echo\"\n",
                            "t.toml");
}

TEST(ConfigOverride, SetsEachKindOfValue) {
  Config c = two_listeners();
  apply_override(c, "tcp.fin_timeout=5");
  apply_override(c, "engine.mtu=9000");
  apply_override(c, "engine.addresses=10.0.0.1/24, 10.0.1.1/24");
  apply_override(c, "listener.0.accept_rate=100");
  apply_override(c, "listener.1.app=discard");
  apply_override(c, "listener.1.keepalive=true");
  apply_override(c, "listener.1.port=9");
  EXPECT_EQ(c.tcp.fin_timeout, 5u);
  EXPECT_EQ(c.engine.mtu, 9000u);
  ASSERT_EQ(c.engine.addresses.size(), 2u);
  EXPECT_EQ(c.engine.addresses[1].addr, ipv4(10, 0, 1, 1));
  EXPECT_EQ(c.listeners[0].accept_rate, 100u);
  EXPECT_EQ(c.listeners[1].app, AppKind::discard);
  EXPECT_TRUE(c.listeners[1].keepalive);
  EXPECT_EQ(c.listeners[1].port, 9);
}

TEST(ConfigOverride, LoadAppliesOverridesAfterTheFileInOrder) {
  const Config c = load_config_string(std::string(kMinimal) + "[tcp]\nfin_timeout = 10\n", "t.toml",
                                      {"tcp.fin_timeout=5", "tcp.msl=60", "tcp.fin_timeout=3"});
  EXPECT_EQ(c.tcp.fin_timeout, 3u);
  EXPECT_EQ(c.tcp.msl, 60u);
}

TEST(ConfigOverride, OverridesCanResolveAFileConflict) {
  const std::string dup = std::string(kMinimal) + "[[listener]]\nport = 80\napp = \"http\"\n"
                                                  "[[listener]]\nport = 80\napp = \"echo\"\n";
  EXPECT_EQ(error_of(dup), "t.toml:7: listener.1.port: 80 is already used by listener.0");
  EXPECT_EQ(load_config_string(dup, "t.toml", {"listener.1.port=7"}).listeners[1].port, 7);
  // ...and a conflict an override creates is blamed on the override.
  EXPECT_EQ(error_of(dup, {"listener.1.port=7", "listener.0.port=7"}),
            "--set: listener.0.port: 7 is already used by listener.1");
}

TEST(ConfigOverride, BadOverridesAreRefusedAndChangeNothing) {
  const Config c = two_listeners();
  EXPECT_EQ(override_error(c, "tcp.fin_timeout=abc"),
            "--set: tcp.fin_timeout: expected an integer in [1, 86400], got \"abc\"");
  EXPECT_EQ(override_error(c, "tcp.fin_timeout=0"),
            "--set: tcp.fin_timeout: expected an integer in [1, 86400], got \"0\"");
  EXPECT_EQ(override_error(c, "tcp.fin_timeout=-5"),
            "--set: tcp.fin_timeout: expected an integer in [1, 86400], got \"-5\"");
  EXPECT_EQ(override_error(c, "tcp.fin_timeout=99999999999999999999999"),
            "--set: tcp.fin_timeout: expected an integer in [1, 86400], got \"99999999999999999999999\"");
  EXPECT_EQ(override_error(c, "tcp.fin_timeout="),
            "--set: tcp.fin_timeout: expected an integer in [1, 86400], got \"\"");
  EXPECT_EQ(override_error(c, "tcp.fin_timeout"),
            "--set: \"tcp.fin_timeout\": expected KEY=VALUE, like tcp.fin_timeout=5");
  EXPECT_EQ(override_error(c, "tcp.fin_timeot=5"), "--set: tcp.fin_timeot: unknown key, did you mean tcp.fin_timeout?");
  EXPECT_EQ(override_error(c, "listener.0.acept_rate=1"),
            "--set: listener.0.acept_rate: unknown key, did you mean listener.0.accept_rate?");
  EXPECT_EQ(override_error(c, "udp.x=1"),
            "--set: udp.x: unknown key; expected one of tcp.KNOB, engine.KNOB, listener.N.KNOB, dpdk.KNOB, "
            "port.N.KNOB");
  EXPECT_EQ(override_error(c, "tcp.fin_timeout.x=1"),
            "--set: tcp.fin_timeout.x: unknown key; expected one of tcp.KNOB, engine.KNOB, listener.N.KNOB, "
            "dpdk.KNOB, port.N.KNOB");
  EXPECT_EQ(override_error(c, "listener.0=1"),
            "--set: listener.0: unknown key; expected one of tcp.KNOB, engine.KNOB, listener.N.KNOB, "
            "dpdk.KNOB, port.N.KNOB");
  EXPECT_EQ(override_error(c, "listener.2.port=81"),
            "--set: listener.2.port: no such listener; listener.0 to listener.1 exist");
  EXPECT_EQ(override_error(c, "listener.x.port=81"),
            "--set: listener.x.port: no such listener; listener.0 to listener.1 exist");
  EXPECT_EQ(override_error(c, "listener.0.app=ftp"),
            "--set: listener.0.app: expected one of \"close\", \"http\", \"echo\", \"discard\", \"reset\", got "
            "\"ftp\"");
  EXPECT_EQ(override_error(c, "listener.0.keepalive=1"),
            "--set: listener.0.keepalive: expected true or false, got \"1\"");
  EXPECT_EQ(override_error(c, "listener.0.port=7"), "--set: listener.0.port: 7 is already used by listener.1");
  EXPECT_EQ(override_error(c, "engine.addresses="),
            "--set: engine.addresses: expected an array of 1 to 64 IPv4 addresses like \"198.18.0.2/24\", got 0 "
            "entries");
  EXPECT_EQ(override_error(c, "engine.addresses=10.0.0.1/24,10.0.0.256/24"),
            "--set: engine.addresses[1]: expected an IPv4 address with a prefix length, like \"198.18.0.2/24\", "
            "got \"10.0.0.256/24\"");
  EXPECT_EQ(override_error(c, "engine.addresses=10.0.0.1/24,"),
            "--set: engine.addresses[1]: expected an IPv4 address with a prefix length, like \"198.18.0.2/24\", "
            "got \"\"");

  // Atomic: a refused override leaves the configuration as it was.
  Config d = c;
  EXPECT_THROW(apply_override(d, "listener.0.port=7"), ConfigError);
  EXPECT_EQ(d.listeners, c.listeners);
  EXPECT_THROW(apply_override(d, "engine.addresses=10.0.0.1/24,bad"), ConfigError);
  ASSERT_EQ(d.engine.addresses.size(), 1u);
  EXPECT_EQ(d.engine.addresses[0].addr, ipv4(198, 18, 0, 2));
}

TEST(ConfigOverride, ListenerOverrideOnConfigWithoutListeners) {
  const Config c = load_config_string(kMinimal, "t.toml");
  EXPECT_EQ(override_error(c, "listener.0.port=80"), "--set: listener.0.port: no such listener; the configuration has none");
}

// --- the DPDK runtime's sections: strings and string lists

TEST(ConfigDpdk, ReadsDpdkAndPorts) {
  const Config c = load_config_string(std::string(kMinimal) +
                                          "[dpdk]\neal_args = [\"--no-huge\", \"-l\", \"0\"]\nidle_backoff = true\n"
                                          "[[port]]\ndevice = \"net_tap0,iface=tcpterm0\"\n"
                                          "[[port]]\ndevice = \"0000:01:00.0\"\nrss = false\n",
                                      "t.toml");
  EXPECT_EQ(c.dpdk.eal_args, (StringList{"--no-huge", "-l", "0"}));
  EXPECT_TRUE(c.dpdk.idle_backoff);
  EXPECT_EQ(c.dpdk.burst_size, 32u);
  ASSERT_EQ(c.ports.size(), 2u);
  EXPECT_EQ(c.ports[0], (PortConfig{.device = "net_tap0,iface=tcpterm0", .rss = true, .rx_checksum_offload = true,
                                    .promiscuous = false}));
  EXPECT_EQ(c.ports[1].device, "0000:01:00.0");
  EXPECT_FALSE(c.ports[1].rss);
  // Neither section is required: the engine's tests run without DPDK.
  const Config m = load_config_string(kMinimal, "t.toml");
  EXPECT_EQ(m.dpdk, DpdkConfig{});
  EXPECT_TRUE(m.ports.empty());
}

TEST(ConfigDpdk, Errors) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "[dpdk]\neal_args = \"--no-huge\"\n"),
            "t.toml:4: dpdk.eal_args: expected an array of 0 to 64 strings, got \"--no-huge\"");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[dpdk]\neal_args = [\"-l\", 0]\n"),
            "t.toml:4: dpdk.eal_args[1]: expected a string, got 0");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[dpdk]\nburst_size = 513\n"),
            "t.toml:4: dpdk.burst_size: expected an integer in [1, 512], got 513");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[port]]\ndevice = \"\"\n"),
            "t.toml:4: port.0.device: expected a string of 1 to 256 characters, got \"\"");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[port]]\ndevice = 1\n"),
            "t.toml:4: port.0.device: expected a string of 1 to 256 characters, got 1");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[port]]\nrss = false\n"),
            "t.toml:3: port.0.device: missing, expected a string of 1 to 256 characters");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[[port]]\ndevice = \"net_tap0\"\n[[port]]\ndevice = \"net_tap0\"\n"),
            "t.toml:6: port.1.device: \"net_tap0\" is already used by port.0");
}

TEST(ConfigDpdk, Overrides) {
  Config c = load_config_string(std::string(kMinimal) + "[[port]]\ndevice = \"net_tap0\"\n", "t.toml");
  apply_override(c, "dpdk.eal_args=--no-huge  -l 0 ");
  EXPECT_EQ(c.dpdk.eal_args, (StringList{"--no-huge", "-l", "0"}));
  apply_override(c, "dpdk.eal_args=");
  EXPECT_TRUE(c.dpdk.eal_args.empty());
  apply_override(c, "dpdk.idle_backoff=true");
  EXPECT_TRUE(c.dpdk.idle_backoff);
  apply_override(c, "port.0.device=net_tap1,iface=x");
  EXPECT_EQ(c.ports[0].device, "net_tap1,iface=x");
  apply_override(c, "port.0.promiscuous=true");
  EXPECT_TRUE(c.ports[0].promiscuous);
  EXPECT_EQ(override_error(c, "port.0.device="),
            "--set: port.0.device: expected a string of 1 to 256 characters, got \"\"");
  EXPECT_EQ(override_error(c, "port.1.rss=false"), "--set: port.1.rss: no such port; port.0 to port.0 exist");
  EXPECT_EQ(override_error(c, "dpdk.idle_backof=true"),
            "--set: dpdk.idle_backof: unknown key, did you mean dpdk.idle_backoff?");
  std::string many;  // 65 arguments, one more than allowed
  for (int i = 0; i < 65; ++i) many += i ? " -v" : "-v";
  EXPECT_EQ(override_error(c, "dpdk.eal_args=" + many),
            "--set: dpdk.eal_args: expected an array of 0 to 64 strings, got 65 entries");
}

// --- helpers

TEST(ConfigCidr, ParseAndFormatRoundTrip) {
  for (const char* s : {"0.0.0.0/0", "198.18.0.2/24", "255.255.255.255/32", "10.0.0.1/8"}) {
    auto c = parse_ipv4_cidr(s);
    ASSERT_TRUE(c) << s;
    EXPECT_EQ(format_ipv4_cidr(*c), s);
  }
  auto c = parse_ipv4_cidr("1.2.3.4/5");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->addr, 0x01020304u);
  EXPECT_EQ(c->prefix_len, 5);
  for (const char* s : {"", "/", "1.2.3.4", "1.2.3.4/", "1.2.3/8", "1.2.3.4.5/8", "1..3.4/8", "01.2.3.4/8",
                        "1.2.3.4/08", "1.2.3.4/33", "1.2.3.4/100", "256.2.3.4/8", "1.2.3.4/8/", "1.2.3.4 /8",
                        "a.b.c.d/8", "1.2.3.4/-1", "1234.2.3.4/8"})
    EXPECT_FALSE(parse_ipv4_cidr(s)) << s;
}

TEST(ConfigAppKind, NamesRoundTrip) {
  for (AppKind k : {AppKind::close, AppKind::http, AppKind::echo, AppKind::discard, AppKind::reset})
    EXPECT_EQ(parse_app_kind(app_kind_name(k)), k);
  EXPECT_FALSE(parse_app_kind("HTTP"));
  EXPECT_FALSE(parse_app_kind(""));
}

}  // namespace
}  // namespace tcpterm

namespace tcpterm {
namespace {

// config_entries() is what --print-config and /tcpterm/config show: every
// knob, in table order, in the form --set takes back. Applying the entries of
// one configuration to another with the same [[...]] entries rebuilds it.
TEST(ConfigEntries, EveryKnobInSetFormAndRoundTrips) {
  const Config a = load_config_string(R"(
[tcp]
fin_timeout = 7
syncookies = 2
[engine]
addresses = ["198.18.0.2/24", "198.18.1.9/16"]
[dpdk]
eal_args = ["--no-huge", "-m", "256"]
[[listener]]
port = 80
app = "http"
[[listener]]
port = 7
app = "echo"
accept_rate = 100
[[port]]
device = "net_tap0,iface=t0"
rss = false
)",
                                      "t.toml");
  const auto e = config_entries(a);
  auto value = [&](std::string_view key) {
    for (const auto& [k, v] : e)
      if (k == key) return v;
    return std::string("(absent)");
  };
  EXPECT_EQ(e.front().first, "tcp.syncookies");  // table order: [tcp] first, its first row
  EXPECT_EQ(value("tcp.syncookies"), "2");
  EXPECT_EQ(value("tcp.fin_timeout"), "7");
  EXPECT_EQ(value("tcp.sack"), "1");
  EXPECT_EQ(value("engine.addresses"), "198.18.0.2/24,198.18.1.9/16");
  EXPECT_EQ(value("dpdk.eal_args"), "--no-huge -m 256");
  EXPECT_EQ(value("listener.0.app"), "http");
  EXPECT_EQ(value("listener.1.port"), "7");
  EXPECT_EQ(value("listener.1.accept_rate"), "100");
  EXPECT_EQ(value("port.0.device"), "net_tap0,iface=t0");
  EXPECT_EQ(value("port.0.rss"), "false");
  EXPECT_EQ(value("listener.2.port"), "(absent)");

  Config b = load_config_string(R"(
[engine]
addresses = ["198.18.0.3/24"]
[[listener]]
port = 81
app = "close"
[[listener]]
port = 82
app = "close"
[[port]]
device = "net_tap1"
)",
                                "t.toml");
  ASSERT_NE(config_entries(b), e);
  for (const auto& [k, v] : e) apply_override(b, k + "=" + v);
  EXPECT_EQ(config_entries(b), e);
  EXPECT_EQ(b.tcp, a.tcp);
  EXPECT_EQ(b.listeners, a.listeners);
  EXPECT_EQ(b.ports, a.ports);
  EXPECT_EQ(b.dpdk, a.dpdk);
}

}  // namespace
}  // namespace tcpterm
