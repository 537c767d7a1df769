// Snapshot arithmetic and text formats of EngineStats (see engine_stats.h).
// The state distribution has an allocation-free variant for a once-a-second
// report from the engine's own core.
#include "engine/stats/engine_stats.h"

#include <cstdio>
#include <cstring>

namespace tcpterm {

EngineStats& EngineStats::operator+=(const EngineStats& o) {
  for (auto m : kEngineCounterMembers) counters.*m += o.counters.*m;
  for (std::size_t i = 0; i < kDropReasonCount; ++i) drops.by_reason[i] += o.drops.by_reason[i];
  for (std::size_t i = 0; i < kTcpStateCount; ++i) {
    states[i] += o.states[i];
    for (std::size_t j = 0; j < kTcpStateCount; ++j) transitions[i][j] += o.transitions[i][j];
  }
  return *this;
}

std::size_t format_state_distribution(const EngineStats& s, char* buf, std::size_t cap) {
  std::size_t used = 0;
  char line[64];
  for (std::size_t i = 0; i < kTcpStateCount; ++i) {
    if (s.states[i] == 0) continue;
    const std::string_view name = kTcpStateNames[i];
    const int n = std::snprintf(line, sizeof line, "%-20.*s %llu\n", static_cast<int>(name.size()),
                                name.data(), static_cast<unsigned long long>(s.states[i]));
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof line) continue;  // cannot happen: names < 20
    if (used + static_cast<std::size_t>(n) > cap) break;
    std::memcpy(buf + used, line, static_cast<std::size_t>(n));
    used += static_cast<std::size_t>(n);
  }
  return used;
}

std::string format_state_distribution(const EngineStats& s) {
  char buf[kTcpStateCount * 64];
  return std::string(buf, format_state_distribution(s, buf, sizeof buf));
}

std::string format_counters(const EngineStats& s) {
  std::string out;
  for (std::size_t i = 0; i < kEngineCounterCount; ++i) {
    const uint64_t v = s.counter(i);
    if (v == 0) continue;
    out += kEngineCounterNames[i];
    out += ' ';
    out += std::to_string(v);
    out += '\n';
  }
  for (std::size_t i = 1; i < kDropReasonCount; ++i) {
    if (s.drops.by_reason[i] == 0) continue;
    out += "drop.";
    out += kDropReasonNames[i];
    out += ' ';
    out += std::to_string(s.drops.by_reason[i]);
    out += '\n';
  }
  return out;
}

std::string format_transitions(const EngineStats& s) {
  std::string out;
  for (std::size_t i = 0; i < kTcpStateCount; ++i) {
    for (std::size_t j = 0; j < kTcpStateCount; ++j) {
      if (s.transitions[i][j] == 0) continue;
      out += kTcpStateNames[i];
      out += " -> ";
      out += kTcpStateNames[j];
      out += ' ';
      out += std::to_string(s.transitions[i][j]);
      out += '\n';
    }
  }
  return out;
}

}  // namespace tcpterm
