// The transmission control block (RFC 9293 3.3.1) of one live connection.
//
// One Tcb per connection in SYN_SENT .. LAST_ACK, kept in the flow table's
// connection pool (TIME_WAIT moves to the 48-byte TimeWaitRecord, as Linux
// moves a socket to its minisock). Budget: 256 bytes per connection including
// the flow-table slot share (~9 bytes), so the block is three cache lines:
//
//   line 0  what every segment touches: key, state, SND.UNA/NXT/WND/WL1/WL2,
//           RCV.NXT/WND, timestamps, MSS, app kind, the timer's kind
//   line 1  the timer node, the send queue (pointer, length, sequence of its
//           first byte: data is sent by reference, never copied), ISS/IRS, RTT
//   line 2  colder things: peer MAC, congestion window, accept-queue links,
//           application state (HTTP scanner, echo buffer), rate-limit stamps
//
// Names are RFC 9293's (snd_una, rcv_nxt, ...) and Linux's where the RFC has
// none (write_seq: the sequence after the last byte the application queued;
// our FIN, once queued, takes sequence number write_seq).
#pragma once

#include <cstddef>
#include <cstdint>

#include "config/config.h"
#include "engine/flow/flow_key.h"
#include "engine/tcp/http.h"
#include "engine/tcp/state.h"
#include "engine/timer/timer_wheel.h"
#include "engine/wire/types.h"

namespace tcpterm {

inline constexpr uint32_t kNilIndex = 0xffffffffu;
inline constexpr uint16_t kNoListener = 0xffff;

// Tcb::flags
namespace tcb_flags {
inline constexpr uint8_t kTimestamps = 0x01;  // both sides sent TS in the SYNs (RFC 7323)
inline constexpr uint8_t kSackOk = 0x02;      // both sent SACK-permitted
inline constexpr uint8_t kWscale = 0x04;      // both sent window scale
inline constexpr uint8_t kOrphan = 0x08;      // the application closed: Linux's SOCK_DEAD
inline constexpr uint8_t kAccepted = 0x10;    // the application has taken it (accept() or connect())
inline constexpr uint8_t kFinQueued = 0x20;   // our FIN is queued at write_seq (close or shutdown)
inline constexpr uint8_t kPassive = 0x40;     // came from a listener (SYN_RECEIVED returns to LISTEN)
inline constexpr uint8_t kRttTiming = 0x80;   // rtt_seq is being timed (no timestamps, Karn)
}  // namespace tcb_flags

// Tcb::app_state
namespace app_bits {
inline constexpr uint8_t kKeepalive = 0x01;      // SO_KEEPALIVE
inline constexpr uint8_t kHttpCloseAfter = 0x02; // http: close after the pending responses
inline constexpr uint8_t kHttpBad = 0x04;        // http: malformed request seen
inline constexpr uint8_t kHttpIdle = 0x08;       // http: keep-alive, waiting for the next request
inline constexpr uint8_t kInAcceptQueue = 0x80;  // linked in its listener's accept queue
}  // namespace app_bits

// What the connection's single timer is armed for (Linux's icsk_pending plus
// sk_timer): one node is enough because the cases exclude each other.
enum class TimerKind : uint8_t {
  none,
  retransmit,  // SYN, SYN-ACK, data or FIN outstanding (RTO, RFC 6298)
  persist,     // zero window with data waiting: window probes
  fin_wait2,   // orphaned FIN_WAIT_2: tcp_fin_timeout
  idle,        // keepalive (SO_KEEPALIVE) and/or the HTTP keep-alive timeout
};

// The applications (config's AppKind, plus the client side of the benchmark).
enum class App : uint8_t { close, http, echo, discard, reset };

struct alignas(64) Tcb {
  // ---- line 0
  FlowKey key{};  // first: the flow table links free blocks through its first bytes
  TcpState state = TcpState::CLOSED;
  uint8_t flags = 0;
  uint8_t snd_wscale = 0;  // peer's shift: its windows are seg.wnd << snd_wscale
  uint8_t rcv_wscale = 0;  // ours
  uint32_t snd_una = 0;
  uint32_t snd_nxt = 0;
  uint32_t snd_wnd = 0;    // bytes (already scaled)
  uint32_t snd_wl1 = 0;
  uint32_t snd_wl2 = 0;
  uint32_t rcv_nxt = 0;
  uint32_t rcv_adv = 0;    // right edge of the window last advertised (RCV.NXT + RCV.WND then)
  uint32_t ts_recent = 0;
  uint32_t ts_offset = 0;  // our TSval = now_ms + ts_offset (Linux's tsoffset)
  uint32_t rcv_tstamp_ms = 0;  // when the last segment arrived (keepalive)
  uint16_t snd_mss = 0;    // payload bytes per segment, options excluded
  uint16_t listener = kNoListener;
  App app = App::close;
  uint8_t app_state = 0;   // per-application bits (app.cc)
  TimerKind timer_kind = TimerKind::none;
  uint8_t retransmits = 0; // consecutive RTOs / SYN(-ACK) retransmissions / probes

  // ---- line 1
  TimerNode timer;
  const uint8_t* sndbuf = nullptr;  // the send queue: bytes [sndbuf_seq, write_seq) live at sndbuf
  uint32_t sndbuf_seq = 0;
  uint32_t write_seq = 0;           // sequence after the last queued byte (Linux's write_seq)
  uint32_t iss = 0;
  uint32_t irs = 0;
  uint32_t srtt_us = 0;             // 0: no sample yet
  uint32_t rttvar_us = 0;
  uint32_t rto_ms = 0;
  uint32_t ts_recent_stamp = 0;     // engine seconds when ts_recent was taken (PAWS 24-day rule)

  // ---- line 2
  MacAddr peer_mac{};               // where timer-driven segments go
  uint8_t probes_out = 0;           // keepalive / zero-window probes without answer
  uint8_t http_pending = 0;         // pipelined requests waiting for the response in flight
  uint32_t rtt_seq = 0;             // Karn timing without timestamps
  uint32_t rtt_start_ms = 0;
  uint32_t max_snd_wnd = 0;         // largest window the peer offered (RFC 5961 5.2)
  uint32_t cwnd = 0;                // RFC 5681, bytes
  uint32_t ssthresh = 0;
  uint32_t accept_prev = kNilIndex; // accept-queue links (connection-pool indices)
  uint32_t accept_next = kNilIndex;
  uint32_t echo_buf = kNilIndex;    // echo application: buffer of the engine's pool
  uint16_t echo_fill = 0;           // bytes received into it
  uint16_t echo_queued = 0;         // of which handed to the send queue
  HttpScanner http;
  uint32_t last_oow_ack_ms = 0;     // tcp_oow_rate_limited stamp (0: never)
  uint32_t idle_since_ms = 0;       // HTTP keep-alive: when the connection last went idle

  bool has(uint8_t f) const { return (flags & f) != 0; }
  void set(uint8_t f) { flags = static_cast<uint8_t>(flags | f); }
  void clear(uint8_t f) { flags = static_cast<uint8_t>(flags & ~f); }
  bool fin_sent() const { return has(tcb_flags::kFinQueued) && snd_nxt == write_seq + 1; }
  bool fin_acked() const { return has(tcb_flags::kFinQueued) && snd_una == write_seq + 1; }
  uint32_t in_flight() const { return snd_nxt - snd_una; }
  // RCV.WND: what is left of the window we advertised (never negative).
  uint32_t rcv_wnd() const { return static_cast<int32_t>(rcv_adv - rcv_nxt) > 0 ? rcv_adv - rcv_nxt : 0; }
};

static_assert(sizeof(Tcb) <= 192, "Tcb: three cache lines (256 B per connection with the slot share)");
static_assert(offsetof(Tcb, timer) >= 64, "the hot fields fill line 0");

}  // namespace tcpterm
