// Unit tests of the DPDK runtime's pure parts (no EAL needed): software
// steering, idle back-off, the statistics seqlock, the command line and the
// TSC clock conversion. The runtime itself is tested end to end on net_tap by
// tests/integration.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "drivers/dpdk/cli.h"
#include "drivers/dpdk/clock.h"
#include "drivers/dpdk/idle_backoff.h"
#include "drivers/dpdk/stats_slot.h"
#include "drivers/dpdk/steer.h"

namespace tcpterm::dpdk {
namespace {

// Ethernet + IPv4 (IHL 5) + TCP ports, enough for steering.
std::vector<uint8_t> tcp_frame(uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport) {
  std::vector<uint8_t> f(14 + 20 + 20, 0);
  f[12] = 0x08;
  f[13] = 0x00;
  f[14] = 0x45;
  f[14 + 9] = 6;
  for (int i = 0; i < 4; ++i) {
    f[14 + 12 + i] = static_cast<uint8_t>(saddr >> (24 - 8 * i));
    f[14 + 16 + i] = static_cast<uint8_t>(daddr >> (24 - 8 * i));
  }
  f[34] = static_cast<uint8_t>(sport >> 8);
  f[35] = static_cast<uint8_t>(sport);
  f[36] = static_cast<uint8_t>(dport >> 8);
  f[37] = static_cast<uint8_t>(dport);
  return f;
}

TEST(Steer, SameFlowSameOwnerAndAllOwnersUsed) {
  const uint64_t seed = 0x1234567890abcdefULL;
  std::array<uint32_t, 4> per_owner{};
  for (uint16_t port = 1000; port < 5000; ++port) {
    auto f = tcp_frame(0xc6120001, 0xc6120002, port, 80);
    const uint32_t o = steer_owner(f.data(), f.size(), seed, 4);
    ASSERT_LT(o, 4u);
    EXPECT_EQ(o, steer_owner(f.data(), f.size(), seed, 4));  // deterministic per flow
    ++per_owner[o];
  }
  for (uint32_t n : per_owner) {  // 4000 flows over 4 owners: each near 1000
    EXPECT_GT(n, 850u);
    EXPECT_LT(n, 1150u);
  }
}

TEST(Steer, SeedChangesTheMapping) {
  int moved = 0;
  for (uint16_t port = 1000; port < 1100; ++port) {
    auto f = tcp_frame(0x0a000001, 0x0a000002, port, 80);
    moved += steer_owner(f.data(), f.size(), 1, 8) != steer_owner(f.data(), f.size(), 2, 8);
  }
  EXPECT_GT(moved, 50);  // about 7/8 of 100 flows change owner
}

TEST(Steer, NonTcpAndMalformedStayLocal) {
  auto f = tcp_frame(1, 2, 3, 4);
  EXPECT_NE(steer_owner(f.data(), f.size(), 0, 2), kNotSteered);
  auto arp = f;
  arp[13] = 0x06;  // ARP
  EXPECT_EQ(steer_owner(arp.data(), arp.size(), 0, 2), kNotSteered);
  auto icmp = f;
  icmp[14 + 9] = 1;
  EXPECT_EQ(steer_owner(icmp.data(), icmp.size(), 0, 2), kNotSteered);
  auto frag = f;
  frag[14 + 6] = 0x20;  // MF
  EXPECT_EQ(steer_owner(frag.data(), frag.size(), 0, 2), kNotSteered);
  auto bad_ihl = f;
  bad_ihl[14] = 0x44;  // IHL 4 words
  EXPECT_EQ(steer_owner(bad_ihl.data(), bad_ihl.size(), 0, 2), kNotSteered);
  auto big_ihl = f;
  big_ihl[14] = 0x4f;  // IHL 60 bytes: the ports would be past the frame
  EXPECT_EQ(steer_owner(big_ihl.data(), big_ihl.size(), 0, 2), kNotSteered);
  for (size_t len = 0; len < 14 + 20 + 4; ++len)  // every truncation short of the ports
    EXPECT_EQ(steer_owner(f.data(), len, 0, 2), kNotSteered) << len;
  EXPECT_NE(steer_owner(f.data(), 14 + 20 + 4, 0, 2), kNotSteered);
}

TEST(IdleBackoff, OffNeverPausesOrSleeps) {
  IdleBackoff b(false, 100, 50);
  for (Nanos t = 0; t < 10'000; t += 10) EXPECT_EQ(b.next(false, t), IdleBackoff::Action::poll);
}

TEST(IdleBackoff, PollsThenPausesThenSleepsAndWorkResets) {
  IdleBackoff b(true, micros(200), micros(50));
  EXPECT_EQ(b.next(false, micros(1000)), IdleBackoff::Action::poll);  // idle starts now
  EXPECT_EQ(b.next(false, micros(1100)), IdleBackoff::Action::pause);
  EXPECT_EQ(b.next(false, micros(1199)), IdleBackoff::Action::pause);
  EXPECT_EQ(b.next(false, micros(1200)), IdleBackoff::Action::sleep);
  EXPECT_EQ(b.next(false, micros(5000)), IdleBackoff::Action::sleep);
  EXPECT_EQ(b.next(true, micros(5001)), IdleBackoff::Action::poll);   // traffic: back to polling
  EXPECT_EQ(b.next(false, micros(5002)), IdleBackoff::Action::poll);
  EXPECT_EQ(b.next(false, micros(5003)), IdleBackoff::Action::pause);
  EXPECT_EQ(b.sleep_ns(), micros(50));
}

struct Big {
  std::array<uint64_t, 64> v;
};

TEST(StatsSlot, ReaderNeverSeesATornCopy) {
  // The writer publishes for as long as the reader reads, so the two overlap
  // however the threads are scheduled.
  StatsSlot<Big> slot;
  std::atomic<bool> reader_done{false};
  std::atomic<uint64_t> published{0};
  std::thread writer([&] {
    Big b{};
    for (uint64_t i = 1; !reader_done.load(std::memory_order_relaxed); ++i) {
      b.v.fill(i);
      slot.publish(b);
      published.store(i, std::memory_order_relaxed);
      // A real poll loop publishes every 100 ms; here as fast as a yield allows,
      // which still overlaps the reader's copies all the time.
      std::this_thread::yield();
    }
  });
  while (published.load() == 0) std::this_thread::yield();
  uint64_t last = 0, ok = 0;
  for (int n = 0; n < 20000; ++n) {
    Big r{};
    if (!slot.read(r)) continue;  // only if the writer rewrote it 1000 times in a row
    for (uint64_t x : r.v) ASSERT_EQ(x, r.v[0]);  // all from one publish
    ASSERT_GE(r.v[0], last);                      // and never older than a previous read
    ASSERT_GE(r.v[0], 1u);
    last = r.v[0];
    ++ok;
  }
  reader_done = true;
  writer.join();
  EXPECT_GT(ok, 0u);
  Big r{};
  ASSERT_TRUE(slot.read(r));  // quiescent: a read always succeeds
  EXPECT_EQ(r.v[0], published.load());
}

TEST(TscClock, ConvertsCyclesToNanoseconds) {
  const TscClock c(2'500'000'000ULL, 1000);  // 2.5 GHz, origin at TSC 1000
  EXPECT_EQ(c.to_nanos(1000), 0u);
  EXPECT_EQ(c.to_nanos(1000 + 2'500'000'000ULL), kSecond);
  EXPECT_EQ(c.to_nanos(1000 + 2'500), kMicrosecond);
  // An hour of cycles: exact to the nanosecond's rounding.
  const Nanos hour = c.to_nanos(1000 + 3600ULL * 2'500'000'000ULL);
  EXPECT_NEAR(static_cast<double>(hour), 3600e9, 1.0);
}

TEST(Cli, SplitsAtTheFirstDoubleDash) {
  auto s = split_args({"-l", "0-1", "--no-huge", "--", "--config", "x.toml", "--", "y"});
  EXPECT_EQ(s.eal, (std::vector<std::string>{"-l", "0-1", "--no-huge"}));
  EXPECT_EQ(s.program, (std::vector<std::string>{"--config", "x.toml", "--", "y"}));
  auto n = split_args({"--config", "x.toml"});
  EXPECT_TRUE(n.eal.empty());
  EXPECT_EQ(n.program.size(), 2u);
}

TEST(Cli, ParsesEveryOption) {
  auto o = parse_program_args({"--config", "a.toml", "--set", "tcp.fin_timeout=5", "-s", "dpdk.burst_size=64",
                               "--stats-interval=0.5", "--stats-json", "out.json", "--duration", "3"});
  EXPECT_EQ(o.config_path, "a.toml");
  EXPECT_EQ(o.overrides, (std::vector<std::string>{"tcp.fin_timeout=5", "dpdk.burst_size=64"}));
  EXPECT_DOUBLE_EQ(o.stats_interval, 0.5);
  EXPECT_EQ(o.stats_json, "out.json");
  EXPECT_DOUBLE_EQ(o.duration, 3);
  EXPECT_FALSE(o.help);
  EXPECT_TRUE(parse_program_args({"--help"}).help);
  EXPECT_TRUE(parse_program_args({}).config_path.empty());
}

TEST(Cli, RefusesWhatItDoesNotKnow) {
  EXPECT_THROW(parse_program_args({"--bogus"}), UsageError);
  EXPECT_THROW(parse_program_args({"--config"}), UsageError);
  EXPECT_THROW(parse_program_args({"--set", "novalue"}), UsageError);
  EXPECT_THROW(parse_program_args({"--duration", "-1"}), UsageError);
  EXPECT_THROW(parse_program_args({"--duration", "abc"}), UsageError);
  EXPECT_THROW(parse_program_args({"--stats-interval", "1e9"}), UsageError);
  EXPECT_THROW(parse_program_args({"--no-huge"}), UsageError);  // an EAL option after `--`
}

TEST(Cli, CommandLineEalOptionsReplaceTheConfigs) {
  const std::vector<std::string> cfg{"--no-huge", "-m", "256", "-l", "0", "--no-pci", "--log-level", "lib.eal:notice",
                                     "--vdev=net_tap0,iface=a"};
  // Nothing on the command line: the config's, as they are.
  EXPECT_EQ(merge_eal_args(cfg, {}), cfg);
  // -l replaces -l; --lcores and -c are the same option; -m / --socket-mem too.
  EXPECT_EQ(merge_eal_args(cfg, {"-l", "0-1", "--file-prefix", "x"}),
            (std::vector<std::string>{"--no-huge", "-m", "256", "--no-pci", "--log-level", "lib.eal:notice",
                                      "--vdev=net_tap0,iface=a", "-l", "0-1", "--file-prefix", "x"}));
  EXPECT_EQ(merge_eal_args(cfg, {"--lcores=0-3", "--socket-mem", "1024"}),
            (std::vector<std::string>{"--no-huge", "--no-pci", "--log-level", "lib.eal:notice",
                                      "--vdev=net_tap0,iface=a", "--lcores=0-3", "--socket-mem", "1024"}));
  // Flags take no value; --vdev and --log-level add up.
  EXPECT_EQ(merge_eal_args({"--no-huge", "-l", "0"}, {"--no-huge", "--vdev", "net_ring0", "--log-level", "*:debug"}),
            (std::vector<std::string>{"-l", "0", "--no-huge", "--vdev", "net_ring0", "--log-level", "*:debug"}));
  // Short options with the value attached are the same option.
  EXPECT_EQ(merge_eal_args({"-l", "0", "-m", "256"}, {"-l0-1", "-m512"}),
            (std::vector<std::string>{"-l0-1", "-m512"}));
  EXPECT_EQ(merge_eal_args({"-l0"}, {"--lcores", "0-1"}), (std::vector<std::string>{"--lcores", "0-1"}));
  EXPECT_EQ(merge_eal_args({"--vdev=a", "--log-level", "x:1"}, {"--vdev=b", "--log-level", "y:2"}),
            (std::vector<std::string>{"--vdev=a", "--log-level", "x:1", "--vdev=b", "--log-level", "y:2"}));
}

TEST(Cli, HelpNamesEveryOption) {
  const std::string h = usage_text();
  for (const char* opt : {"--config", "--set", "--stats-interval", "--stats-json", "--duration", "--help",
                          "--print-config", "/tcpterm/stats", "/tcpterm/states", "/tcpterm/config"})
    EXPECT_NE(h.find(opt), std::string::npos) << opt;
}

}  // namespace
}  // namespace tcpterm::dpdk
