// Engine statistics: gauges and transitions kept by the hooks, the netstat|awk
// state distribution of seed 001, counter formatting and summing across cores.
#include "engine/stats/engine_stats.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace tcpterm {
namespace {

// One passive-open, server-closes lifecycle as the engine reports it.
void server_lifecycle(EngineStats& s) {
  s.on_create(TcpState::LISTEN, TcpState::SYN_RECEIVED);
  s.on_transition(TcpState::SYN_RECEIVED, TcpState::ESTABLISHED);
  s.on_transition(TcpState::ESTABLISHED, TcpState::FIN_WAIT_1);
  s.on_transition(TcpState::FIN_WAIT_1, TcpState::FIN_WAIT_2);
  s.on_transition(TcpState::FIN_WAIT_2, TcpState::TIME_WAIT);
}

TEST(EngineStats, StartsAtZero) {
  const EngineStats s;
  for (size_t i = 0; i < kEngineCounterCount; ++i) EXPECT_EQ(s.counter(i), 0u);
  for (auto v : s.states) EXPECT_EQ(v, 0u);
  EXPECT_EQ(s.drops.total(), 0u);
  EXPECT_EQ(format_state_distribution(s), "");
  EXPECT_EQ(format_counters(s), "");
}

TEST(EngineStats, GaugesFollowTheLifecycle) {
  EngineStats s;
  s.on_create(TcpState::CLOSED, TcpState::LISTEN);
  server_lifecycle(s);
  EXPECT_EQ(s.state_count(TcpState::LISTEN), 1u);
  EXPECT_EQ(s.state_count(TcpState::TIME_WAIT), 1u);
  for (auto st : {TcpState::SYN_RECEIVED, TcpState::ESTABLISHED, TcpState::FIN_WAIT_1,
                  TcpState::FIN_WAIT_2, TcpState::CLOSED}) {
    EXPECT_EQ(s.state_count(st), 0u) << state_name(st);
  }
  EXPECT_EQ(s.transition_count(TcpState::LISTEN, TcpState::SYN_RECEIVED), 1u);
  EXPECT_EQ(s.transition_count(TcpState::FIN_WAIT_2, TcpState::TIME_WAIT), 1u);
  EXPECT_EQ(s.transition_count(TcpState::ESTABLISHED, TcpState::CLOSE_WAIT), 0u);
  s.on_destroy(TcpState::TIME_WAIT);
  EXPECT_EQ(s.state_count(TcpState::TIME_WAIT), 0u);
  EXPECT_EQ(s.state_count(TcpState::CLOSED), 0u);  // freed, not kept in CLOSED
  EXPECT_EQ(s.transition_count(TcpState::TIME_WAIT, TcpState::CLOSED), 1u);
  EXPECT_EQ(format_transitions(s),
            "CLOSE -> LISTEN 1\n"
            "LISTEN -> SYN_RECV 1\n"
            "SYN_RECV -> ESTABLISHED 1\n"
            "ESTABLISHED -> FIN_WAIT1 1\n"
            "FIN_WAIT1 -> FIN_WAIT2 1\n"
            "FIN_WAIT2 -> TIME_WAIT 1\n"
            "TIME_WAIT -> CLOSE 1\n");
}

TEST(EngineStats, StateDistributionLikeTheSeedsAwk) {
  // Seed 001: netstat -antl | grep 80 | awk '/^tcp/{sum[$NF]++}END{... printf "%-20s %d\n" ...}'
  //   TIME_WAIT            1
  //   LISTEN               1
  EngineStats s;
  s.on_create(TcpState::CLOSED, TcpState::LISTEN);
  server_lifecycle(s);
  EXPECT_EQ(format_state_distribution(s),
            "LISTEN               1\n"
            "TIME_WAIT            1\n");
  for (int i = 0; i < 1234; ++i) server_lifecycle(s);
  for (int i = 0; i < 3; ++i) s.on_create(TcpState::LISTEN, TcpState::SYN_RECEIVED);
  s.on_create(TcpState::LISTEN, TcpState::SYN_RECEIVED);
  s.on_transition(TcpState::SYN_RECEIVED, TcpState::ESTABLISHED);
  s.on_transition(TcpState::ESTABLISHED, TcpState::CLOSE_WAIT);
  EXPECT_EQ(format_state_distribution(s),
            "LISTEN               1\n"
            "SYN_RECV             3\n"
            "CLOSE_WAIT           1\n"
            "TIME_WAIT            1235\n");
}

TEST(EngineStats, StateDistributionIntoAFixedBufferWritesWholeLines) {
  EngineStats s;
  s.on_create(TcpState::CLOSED, TcpState::LISTEN);
  server_lifecycle(s);
  char buf[64];
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(format_state_distribution(s, buf, sizeof buf), 46u);
  EXPECT_EQ(std::string(buf, 46), "LISTEN               1\nTIME_WAIT            1\n");
  EXPECT_EQ(buf[46], '#');
  // Room for one line only: the second is left out whole, nothing is written past cap.
  std::memset(buf, '#', sizeof buf);
  EXPECT_EQ(format_state_distribution(s, buf, 30), 23u);
  EXPECT_EQ(std::string(buf, 23), "LISTEN               1\n");
  EXPECT_EQ(buf[23], '#');
  EXPECT_EQ(format_state_distribution(s, buf, 0), 0u);
}

TEST(EngineStats, CounterListAndFormat) {
  EXPECT_EQ(kEngineCounterNames.size(), kEngineCounterCount);
  EXPECT_EQ(kEngineCounterNames[0], "in_segs");
  for (auto h : kEngineCounterHelp) EXPECT_FALSE(h.empty());
  EngineStats s;
  s.counters.passive_opens = 3;
  s.counters.syncookies_sent = 7;
  s.drops.count(DropReason::tcp_bad_checksum);
  s.drops.count(DropReason::tcp_bad_checksum);
  EXPECT_EQ(format_counters(s),
            "passive_opens 3\n"
            "syncookies_sent 7\n"
            "drop.tcp_bad_checksum 2\n");
  // counter(i) walks the same list the names come from.
  for (size_t i = 0; i < kEngineCounterCount; ++i) {
    const uint64_t want = kEngineCounterNames[i] == "passive_opens"     ? 3
                          : kEngineCounterNames[i] == "syncookies_sent" ? 7
                                                                        : 0;
    EXPECT_EQ(s.counter(i), want) << kEngineCounterNames[i];
  }
}

TEST(EngineStats, SumAcrossCores) {
  EngineStats a, b;
  a.on_create(TcpState::CLOSED, TcpState::LISTEN);
  b.on_create(TcpState::CLOSED, TcpState::LISTEN);
  server_lifecycle(a);
  server_lifecycle(b);
  server_lifecycle(b);
  a.counters.in_segs = 10;
  b.counters.in_segs = 5;
  b.counters.flow_table_full = 1;
  b.drops.count(DropReason::no_tx_buffer);
  EngineStats total;
  total += a;
  total += b;
  EXPECT_EQ(total.counters.in_segs, 15u);
  EXPECT_EQ(total.counters.flow_table_full, 1u);
  EXPECT_EQ(total.drops[DropReason::no_tx_buffer], 1u);
  EXPECT_EQ(total.state_count(TcpState::TIME_WAIT), 3u);
  EXPECT_EQ(total.state_count(TcpState::LISTEN), 2u);
  EXPECT_EQ(total.transition_count(TcpState::SYN_RECEIVED, TcpState::ESTABLISHED), 3u);
  EXPECT_EQ(format_state_distribution(total),
            "LISTEN               2\n"
            "TIME_WAIT            3\n");
}

}  // namespace
}  // namespace tcpterm
