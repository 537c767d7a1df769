// TCP connection states (RFC 9293 section 3.3.2) as one small enum.
//
// Seastar keeps the states as bit flags so that a predicate reads as a set
// ("in FIN_WAIT_1, CLOSING or LAST_ACK"); we keep a dense enum instead, which
// indexes the per-state gauges and the transition matrix in engine_stats.h,
// and derive the bit with bit(). A predicate is one shift and one AND.
//
// Names printed are netstat's (SYN_RECV, FIN_WAIT1, CLOSE), so that the
// engine's state distribution reads like `netstat -ant | awk` on Linux.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tcpterm {

enum class TcpState : uint8_t {
  CLOSED,
  LISTEN,
  SYN_SENT,
  SYN_RECEIVED,
  ESTABLISHED,
  FIN_WAIT_1,
  FIN_WAIT_2,
  CLOSE_WAIT,
  CLOSING,
  LAST_ACK,
  TIME_WAIT,
  count
};

inline constexpr std::size_t kTcpStateCount = static_cast<std::size_t>(TcpState::count);
static_assert(kTcpStateCount <= 16, "state bits must fit in a uint16_t mask");

constexpr std::size_t state_index(TcpState s) { return static_cast<std::size_t>(s); }

constexpr uint16_t bit(TcpState s) { return static_cast<uint16_t>(1u << static_cast<unsigned>(s)); }

// True when s is one of the states whose bits are set in mask:
//   in_state(s, bit(TcpState::FIN_WAIT_1) | bit(TcpState::CLOSING) | bit(TcpState::LAST_ACK))
constexpr bool in_state(TcpState s, uint16_t mask) { return (bit(s) & mask) != 0; }

namespace tcp_states {
// The sets RFC 9293 and Linux reason with.
// Synchronized states (RFC 9293 3.5.2 case 3: an unacceptable segment gets an ACK).
inline constexpr uint16_t kSynchronized =
    bit(TcpState::ESTABLISHED) | bit(TcpState::FIN_WAIT_1) | bit(TcpState::FIN_WAIT_2) |
    bit(TcpState::CLOSE_WAIT) | bit(TcpState::CLOSING) | bit(TcpState::LAST_ACK) |
    bit(TcpState::TIME_WAIT);
// We have sent our FIN (it occupies a sequence number).
inline constexpr uint16_t kFinSent = bit(TcpState::FIN_WAIT_1) | bit(TcpState::FIN_WAIT_2) |
                                     bit(TcpState::CLOSING) | bit(TcpState::LAST_ACK) |
                                     bit(TcpState::TIME_WAIT);
// The peer has sent its FIN: no more data will arrive.
inline constexpr uint16_t kFinReceived = bit(TcpState::CLOSE_WAIT) | bit(TcpState::CLOSING) |
                                         bit(TcpState::LAST_ACK) | bit(TcpState::TIME_WAIT);
// We may still send data (RFC 9293 SEND call is legal).
inline constexpr uint16_t kCanSend = bit(TcpState::ESTABLISHED) | bit(TcpState::CLOSE_WAIT);
// We may still receive data.
inline constexpr uint16_t kCanReceive =
    bit(TcpState::ESTABLISHED) | bit(TcpState::FIN_WAIT_1) | bit(TcpState::FIN_WAIT_2);
// Linux's TCPF_CLOSING | TCPF_LAST_ACK | TCPF_FIN_WAIT1: our FIN is sent but not yet acked
// (in CLOSING and LAST_ACK the FIN is all that is left to acknowledge).
inline constexpr uint16_t kFinUnacked =
    bit(TcpState::FIN_WAIT_1) | bit(TcpState::CLOSING) | bit(TcpState::LAST_ACK);
// A handshake is in progress.
inline constexpr uint16_t kOpening = bit(TcpState::SYN_SENT) | bit(TcpState::SYN_RECEIVED);
}  // namespace tcp_states

constexpr bool is_synchronized(TcpState s) { return in_state(s, tcp_states::kSynchronized); }

// netstat's names (net-tools netstat.c tcp_state[]), which the seeds' awk counts.
inline constexpr std::array<std::string_view, kTcpStateCount> kTcpStateNames = {
    "CLOSE",      "LISTEN",    "SYN_SENT",   "SYN_RECV", "ESTABLISHED", "FIN_WAIT1",
    "FIN_WAIT2",  "CLOSE_WAIT", "CLOSING",   "LAST_ACK", "TIME_WAIT",
};

constexpr std::string_view state_name(TcpState s) {
  const auto i = static_cast<std::size_t>(s);
  return i < kTcpStateCount ? kTcpStateNames[i] : std::string_view("UNKNOWN");
}

}  // namespace tcpterm
