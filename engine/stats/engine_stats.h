// Per-core engine statistics: event counters, drops by reason, the number of
// connections in each TCP state and the count of every state transition.
//
// The packet path only increments plain uint64_t fields of the core's own
// EngineStats (no atomics, no locks: one writer per core); the control side
// copies a snapshot, sums the cores with operator+=, and formats it. The
// state distribution is the seed's
//   netstat -antl | awk '/^tcp/{sum[$NF]++}END{for (i in sum) {printf "%-20s %d\n",i,sum[i]}}'
// computed from the gauges instead of by walking the connections, so taking
// it every second costs a few hundred nanoseconds whatever the table size.
//
// Layout: counters (X-macro list below, Linux MIB names in the help text),
// then DropCounters, then kTcpStateCount gauges, then the
// kTcpStateCount x kTcpStateCount transition matrix [from][to] (about 1.3 KiB
// in all, touched a few cache lines per connection lifetime).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/stats/drop_reason.h"
#include "engine/tcp/state.h"

namespace tcpterm {

// X(name, help). The engine appends what it counts; keep one line per counter.
#define TCPTERM_ENGINE_COUNTERS(X)                                                         \
  X(in_segs, "TCP segments received, including those in error (Linux InSegs)")            \
  X(out_segs, "TCP segments sent, excluding retransmissions (Linux OutSegs)")             \
  X(retrans_segs, "TCP segments retransmitted (Linux RetransSegs)")                       \
  X(out_rsts, "RST segments sent (Linux OutRsts)")                                        \
  X(active_opens, "connections that went from CLOSED to SYN_SENT (Linux ActiveOpens)")     \
  X(passive_opens, "connections that went from LISTEN to SYN_RECV (Linux PassiveOpens)")   \
  X(attempt_fails, "handshakes that failed: SYN_SENT/SYN_RECV to CLOSED (Linux AttemptFails)") \
  X(estab_resets, "ESTABLISHED/CLOSE_WAIT connections ended by RST (Linux EstabResets)")  \
  X(syncookies_sent, "SYN cookies sent (Linux SyncookiesSent)")                           \
  X(syncookies_recv, "valid SYN cookies received (Linux SyncookiesRecv)")                 \
  X(syncookies_failed, "invalid or expired SYN cookies received (Linux SyncookiesFailed)") \
  X(listen_overflows, "final ACKs that found the accept queue full (Linux ListenOverflows)") \
  X(listen_drops, "SYNs or final ACKs dropped by a listener (Linux ListenDrops)")          \
  X(challenge_acks, "challenge ACKs sent, RFC 5961 (Linux TCPChallengeACK)")              \
  X(paws_rejected, "segments rejected by PAWS, RFC 7323 (Linux PAWSEstab)")               \
  X(tw_overflow, "connections closed without TIME_WAIT: max_tw_buckets (Linux TCPTimeWaitOverflow)") \
  X(orphan_overflow, "closes answered with RST: max_orphans (Linux TCPAbortOnMemory)")     \
  X(abort_on_timeout, "connections given up after their retries (Linux TCPAbortOnTimeout)") \
  X(flow_table_full, "connections refused because the flow table was full") \
  X(arp_replies, "ARP requests for our addresses answered")                                \
  X(icmp_echo_replies, "ICMP echo requests answered")                                       \
  X(syn_queue_overflows, "SYNs dropped: SYN queue full and syncookies=0")                  \
  X(rsts_received, "connections ended by an accepted RST")                                  \
  X(abort_on_data, "data after close() answered with RST (Linux TCPAbortOnData)")          \
  X(oow_acks_limited, "out-of-window/challenge ACKs not sent: invalid_ratelimit (Linux TCPACKSkipped*)") \
  X(challenge_acks_limited, "challenge ACKs not sent: challenge_ack_limit per second")      \
  X(synack_timeouts, "half-open connections dropped after synack_retries")                 \
  X(window_probes, "zero-window probes sent")                                               \
  X(fin_wait2_timeouts, "orphaned FIN_WAIT_2 connections ended by fin_timeout")              \
  X(http_keepalive_timeouts, "idle HTTP keep-alive connections closed")                    \
  X(keepalive_probes, "keepalive probes sent (Linux TCPKeepAlive)")                        \
  X(keepalive_timeouts, "connections reset after keepalive_probes unanswered probes")       \
  X(time_wait_restarts, "TIME_WAIT periods restarted (retransmitted FIN, ACK)")             \
  X(time_wait_killed, "TIME_WAIT ended by RST (rfc1337=0; Linux TWKilled)")                 \
  X(time_wait_recycled, "TIME_WAIT tuples reused by a newer SYN, RFC 6191 (tcp_v4_rcv TCP_TW_SYN)") \
  X(time_wait_reused, "TIME_WAIT tuples taken by connect(), tw_reuse (Linux TWRecycled)") \
  X(time_wait_acks, "ACKs sent from TIME_WAIT")                                             \
  X(accepted, "connections the applications took from accept queues")                     \
  X(http_requests, "HTTP requests received")                                               \
  X(http_bad_requests, "malformed HTTP requests (connection closed)")                       \
  X(echo_pool_exhausted, "echo data refused: no free echo buffer")                         \
  X(app_aborts, "connections aborted by their application (RST)") \
  X(app_resets, "accepted connections that ended in error: RST received or retries exhausted")

struct EngineCounters {
#define TCPTERM_X(name, help) uint64_t name = 0;
  TCPTERM_ENGINE_COUNTERS(TCPTERM_X)
#undef TCPTERM_X
};

inline constexpr std::size_t kEngineCounterCount = 0
#define TCPTERM_X(name, help) +1
    TCPTERM_ENGINE_COUNTERS(TCPTERM_X)
#undef TCPTERM_X
    ;

inline constexpr std::array<std::string_view, kEngineCounterCount> kEngineCounterNames = {
#define TCPTERM_X(name, help) #name,
    TCPTERM_ENGINE_COUNTERS(TCPTERM_X)
#undef TCPTERM_X
};

inline constexpr std::array<std::string_view, kEngineCounterCount> kEngineCounterHelp = {
#define TCPTERM_X(name, help) help,
    TCPTERM_ENGINE_COUNTERS(TCPTERM_X)
#undef TCPTERM_X
};

// Member pointers in list order, so that code can walk the counters by index.
inline constexpr std::array<uint64_t EngineCounters::*, kEngineCounterCount> kEngineCounterMembers = {
#define TCPTERM_X(name, help) &EngineCounters::name,
    TCPTERM_ENGINE_COUNTERS(TCPTERM_X)
#undef TCPTERM_X
};

struct EngineStats {
  using StateArray = std::array<uint64_t, kTcpStateCount>;

  EngineCounters counters;
  DropCounters drops;
  // Gauges: connections (and listeners, in LISTEN) currently in each state.
  // A connection that is freed leaves the gauges; CLOSED counts only
  // connections the engine keeps in CLOSED (normally none).
  StateArray states{};
  // transitions[from][to]: every state change, plus creation (from LISTEN for
  // a passive open, from CLOSED for an active open or a listener) and
  // destruction (to CLOSED).
  std::array<StateArray, kTcpStateCount> transitions{};

  // A connection or listener comes into being in `to` (from is where it came
  // from: LISTEN for a passive open, CLOSED otherwise).
  void on_create(TcpState from, TcpState to) {
    ++transitions[state_index(from)][state_index(to)];
    ++states[state_index(to)];
  }
  void on_transition(TcpState from, TcpState to) {
    ++transitions[state_index(from)][state_index(to)];
    --states[state_index(from)];
    ++states[state_index(to)];
  }
  // The connection in `from` is freed (counted as a transition to CLOSED).
  void on_destroy(TcpState from) {
    ++transitions[state_index(from)][state_index(TcpState::CLOSED)];
    --states[state_index(from)];
  }

  uint64_t state_count(TcpState s) const { return states[state_index(s)]; }
  uint64_t transition_count(TcpState from, TcpState to) const {
    return transitions[state_index(from)][state_index(to)];
  }
  // By index into kEngineCounterNames.
  uint64_t counter(std::size_t i) const { return counters.*kEngineCounterMembers[i]; }
  // Sum another core's snapshot into this one.
  EngineStats& operator+=(const EngineStats& o);
};

// The seed's netstat|awk distribution: one "%-20s %d\n" line ("TIME_WAIT            1")
// per state with a non-zero gauge, in state order. Writes at most cap bytes
// (whole lines only, no terminating NUL) and returns the bytes written; no allocation.
std::size_t format_state_distribution(const EngineStats& s, char* buf, std::size_t cap);
std::string format_state_distribution(const EngineStats& s);

// "name value" per non-zero counter, then "drop.<reason> value" per non-zero drop reason.
std::string format_counters(const EngineStats& s);

// Non-zero transitions as "FROM -> TO count" lines, netstat names.
std::string format_transitions(const EngineStats& s);

}  // namespace tcpterm
