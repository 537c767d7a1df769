// The per-core TCP engine: frames in, frames out, time in.
//
// One Engine per core owns everything its connections need: the flow table
// (live Tcbs and TIME_WAIT records), the timer wheel (RTO, SYN-ACK, FIN_WAIT_2,
// keepalive), the TIME_WAIT FIFO (every TIME_WAIT lasts 2*msl, so insertion
// order is expiry order and no wheel is needed), the listeners with their SYN
// and accept queues, and the statistics. Nothing here reads a clock or
// allocates after the constructor: `now` comes in with every call, random
// keys come from the constructor's seed, transmit buffers are lent by the
// driver for each call (TxFrames) and a reply that fits may overwrite the
// received frame (ARP, ICMP echo: RxVerdict::reply_in_place).
//
// The state machine is in tcp_input.cc in the order of RFC 9293 3.10.7
// ("SEGMENT ARRIVES"), with its step numbers in comments; output in
// tcp_output.cc, timers in timers.cc, TIME_WAIT in time_wait.cc (a verdict
// function like Linux's tcp_timewait_state_process), listeners and the
// accept queue in listener.cc, the applications in app.cc. Where the RFC
// leaves a choice, Linux decides (tcp_input.c, tcp_minisocks.c, tcp_timer.c).
//
// The application interface: applications are the closed set App (close,
// http, echo, discard, reset), dispatched by a switch, not a virtual call.
// They get the events established/accepted, data, peer FIN, reset and closed
// (app.cc) and act through app_send / app_close / app_shutdown / app_abort.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "engine/flow/flow_table.h"
#include "engine/stats/engine_stats.h"
#include "engine/tcp/isn.h"
#include "engine/tcp/listener.h"
#include "engine/tcp/syncookie.h"
#include "engine/tcp/tcb.h"
#include "engine/tcp/time_wait.h"
#include "engine/timer/time.h"
#include "engine/timer/timer_wheel.h"
#include "engine/wire/frame.h"
#include "engine/wire/types.h"

namespace tcpterm {

// Transmit buffers the driver lends the engine for one call.
struct TxFrames {
  uint8_t* const* bufs;  // bufs[i] has room for buf_cap bytes (an mbuf's data area)
  uint16_t* lens;        // the engine writes the frame length of each buffer it used
  uint32_t capacity;     // number of buffers lent
  uint32_t count = 0;    // number used (the engine increments); the driver sends bufs[0..count)
  uint16_t buf_cap;
  uint8_t* next() { return count < capacity ? bufs[count] : nullptr; }  // then lens[count++] = len
};

// reply_in_place: the driver sends the RX buffer back with length reply_len.
enum class RxVerdict : uint8_t { consumed, reply_in_place };

// The client role's application for one active open (connect()).
struct ConnectOptions {
  AppKind app = AppKind::close;      // what runs once established (close: active close at once)
  const uint8_t* request = nullptr;  // sent once established, by reference: must outlive the connection
  uint32_t request_len = 0;
  bool keepalive = false;            // SO_KEEPALIVE
};

enum class ConnectResult : uint8_t { ok, no_local_address, tuple_in_use, no_free_port, table_full, no_tx_buffer };

// A live connection as tests and tools see it.
struct ConnInfo {
  TcpState state = TcpState::CLOSED;
  uint32_t iss = 0, irs = 0, snd_una = 0, snd_nxt = 0, snd_wnd = 0, rcv_nxt = 0, rcv_wnd = 0;
  uint32_t ts_offset = 0, rto_ms = 0, srtt_us = 0;
  uint16_t snd_mss = 0;
  uint8_t snd_wscale = 0, rcv_wscale = 0;
  bool timestamps = false, sack_ok = false, orphan = false, accepted = false;
  TimerKind timer = TimerKind::none;
  Nanos timer_expires = 0;
};

class Engine {
 public:
  // Our receive window and its scale (Linux offers 7 for its default tcp_rmem).
  static constexpr uint32_t kRcvWnd = 65408;  // 511 << 7: a whole number of scale units
  static constexpr uint8_t kRcvWscale = 7;
  static constexpr uint32_t kEchoBufSize = 4096;   // per-connection echo buffer
  static constexpr uint32_t kInitialRtoMs = 1000;  // RFC 6298 2.1, Linux TCP_TIMEOUT_INIT
  static constexpr uint32_t kMinRtoMs = 200;       // Linux TCP_RTO_MIN
  static constexpr uint32_t kMaxRtoMs = 120000;    // Linux TCP_RTO_MAX
  static constexpr uint32_t kInitialCwndSegs = 10; // RFC 6928, Linux TCP_INIT_CWND
  static constexpr size_t kTimerBudget = 4096;     // timers run per advance() call

  Engine(const Config& cfg, MacAddr mac, uint64_t seed, Nanos now);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // flow_hash: prefetch_flow()'s result for this frame, or 0 (the engine hashes).
  RxVerdict receive(uint8_t* frame, uint16_t len, Nanos now, TxFrames& tx, uint16_t& reply_len,
                    ParseOptions opts = {}, uint64_t flow_hash = 0);
  // A receive burst's first pass, for every frame before any receive(): reads
  // the IPv4/TCP 4-tuple (bounds-checked; 0 for any other frame), hashes it
  // and prefetches its flow-table slots. Then prefetch_flow_entry(hash) a
  // frame or two ahead of receive(..., hash). The SipHash and a lookup's two
  // dependent cache misses (slot, entry) then overlap with earlier frames'
  // work instead of stalling each frame in turn. Reads only the frame.
  uint64_t prefetch_flow(const uint8_t* frame, uint16_t len) const;
  void prefetch_flow_entry(uint64_t flow_hash) const {
    if (flow_hash != 0) flows_->prefetch_entry(flow_hash);
  }
  // Due timers (bounded batch), TIME_WAIT expiry, accept-queue pacing.
  void advance(Nanos now, TxFrames& tx);
  // Active open from the first configured address (lport 0: an ephemeral port).
  // A tuple in TIME_WAIT is taken only as tcp.tw_reuse allows, for an explicit
  // lport too (Linux's bind()+connect() would take any with timestamps).
  ConnectResult connect(Ipv4Addr raddr, uint16_t rport, uint16_t lport, MacAddr next_hop,
                        const ConnectOptions& app, Nanos now, TxFrames& tx);

  // The socket calls, for a connection named by its 4-tuple (tests, tools and
  // the client role; the built-in applications make the same calls inside).
  // False when there is no such live connection or the call is not possible
  // in its state (send: the send queue holds one buffer at a time).
  bool send(const FlowKey& k, const uint8_t* data, uint32_t len, Nanos now, TxFrames& tx);  // by reference
  bool close(const FlowKey& k, Nanos now, TxFrames& tx);     // close(): FIN, then an orphan
  bool shutdown(const FlowKey& k, Nanos now, TxFrames& tx);  // shutdown(SHUT_WR): FIN, still reading
  bool abort(const FlowKey& k, Nanos now, TxFrames& tx);     // SO_LINGER 0 + close(): RST

  // TX checksum offload (default off): TCP frames leave the IPv4 checksum 0
  // and carry the pseudo-header sum in the TCP checksum field, for the NIC
  // (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM). In-place ARP/ICMP
  // replies keep software checksums.
  void set_tx_checksum_offload(bool on) { tx_csum_offload_ = on; }

  const EngineStats& stats() const { return stats_; }
  std::string state_distribution() const { return format_state_distribution(stats_); }

  // Introspection (tests, tools; not the packet path).
  MacAddr mac() const { return mac_; }
  uint32_t conn_count() const { return flows_->conn_count(); }
  uint32_t time_wait_count() const { return flows_->time_wait_count(); }
  size_t timers_pending() const { return wheel_.size(); }
  uint32_t orphan_count() const { return orphans_; }
  uint32_t echo_buffers_in_use() const { return echo_in_use_; }
  uint32_t syn_queue_length(uint16_t port) const;
  uint32_t accept_queue_length(uint16_t port) const;
  // TIME_WAIT for a TIME_WAIT record, CLOSED when the tuple is unknown.
  TcpState state_of(const FlowKey& k) const;
  bool conn_info(const FlowKey& k, ConnInfo& out) const;
  // snd_una <= snd_nxt <= write_seq + FIN, queues and counts consistent, every
  // live connection's timer where it should be. Empty string when all hold.
  std::string check_invariants() const;

 private:
  // The incoming segment, as the state machine reads it.
  struct Seg {
    uint32_t seq, ack;
    uint32_t len;        // RFC 9293 SEG.LEN: data + SYN + FIN
    uint32_t wnd;        // raw window field
    const uint8_t* data;
    uint32_t data_len;
    uint8_t flags;
    const TcpOptions* opts;
    const MacAddr* src_mac;
    uint64_t hash;       // the 4-tuple's flow-table hash (computed once per segment)
    bool accepted;       // passed the sequence/RST/SYN checks: its MAC may be remembered
  };

  // engine.cc
  bool is_local(Ipv4Addr a) const;
  void tcp_rcv(uint8_t* frame, const ParsedFrame& p, uint64_t flow_hash);
  void set_state(Tcb& t, TcpState s);
  // hash: the key's flow-table hash when the caller has it (a segment's), so
  // the slot is found without hashing again; 0: computed.
  void destroy(Tcb& t, uint64_t hash = 0);      // frees the Tcb (state -> CLOSED), counted
  void enter_time_wait(Tcb& t, uint64_t hash);  // -> TIME_WAIT record (or closed at once: max_tw_buckets)
  bool tw_reusable(const TimeWaitRecord& tw) const;  // tw_reuse (connect)
  uint32_t now_ms() const { return static_cast<uint32_t>(now_ / kMillisecond); }
  uint32_t now_s() const { return static_cast<uint32_t>(now_ / kSecond); }
  uint32_t ts_now(const Tcb& t) const { return now_ms() + t.ts_offset; }
  Tcb& tcb_of(TimerNode& n);
  void tcb_init_common(Tcb& t, uint32_t iss);

  // tcp_input.cc
  void listen_rcv(Listener& l, uint16_t li, const FlowKey& k, const Seg& s);
  void listen_syn(Listener& l, uint16_t li, const FlowKey& k, const Seg& s, bool have_isn, uint32_t isn);
  void cookie_ack_rcv(Listener& l, uint16_t li, const FlowKey& k, const Seg& s);
  void syn_sent_rcv(Tcb& t, Seg& s);
  void tcb_rcv(Tcb& t, Seg& s);
  [[gnu::cold]] bool rst_rcv(Tcb& t, const Seg& s);
  [[gnu::cold]] void syn_rcv_in_synchronized(Tcb& t, const Seg& s);
  bool crossed_synack(const Tcb& t, const Seg& s) const;
  bool syn_received_ack(Tcb& t, const Seg& s);
  bool ack_rcv(Tcb& t, const Seg& s, bool& ack_now);  // false: dropped, or the Tcb is gone
  void rtt_sample(Tcb& t, uint32_t rtt_us);
  bool paws_reject(const Tcb& t, const Seg& s) const;
  void negotiate_options(Tcb& t, const TcpOptions& peer);

  // tcp_output.cc
  bool emit_raw(const MacAddr& dst, const FlowKey& k, uint32_t seq, uint32_t ack, uint8_t flags,
                uint16_t window, const TcpOptions& opts, const uint8_t* data, uint32_t len, bool retrans,
                const uint32_t* payload_sum = nullptr);
  const uint32_t* cached_sum(const Tcb& t, const uint8_t* data, uint32_t len) const;
  bool emit(Tcb& t, uint8_t flags, uint32_t seq, const uint8_t* data, uint32_t len,
            bool syn_options = false, bool retrans = false);
  uint32_t advertised_window_bytes(const Tcb& t) const;
  uint16_t window_field(Tcb& t, bool syn);
  void output(Tcb& t);             // send what the queue and the windows allow
  void send_ack(Tcb& t);
  void send_syn(Tcb& t, bool with_ack);
  bool oow_rate_limited(Tcb& t, const Seg& s);
  bool oow_limit_hit(Tcb& t);
  bool oow_limit_hit(uint32_t& last_oow_ack_ms);
  bool send_challenge_ack(Tcb& t);
  void send_active_rst(Tcb& t);    // RST|ACK at snd_nxt (abort)
  void emit_rst_for(const FlowKey& k, const MacAddr& dst, uint32_t seq, uint32_t ack, uint8_t flags);
  void send_reset_reply(const ParsedFrame& p, const Seg& s);  // RFC 9293 3.10.7.1
  void send_synack_cookie(Listener& l, const FlowKey& k, const Seg& s);
  void retransmit_head(Tcb& t);

  // timers.cc
  void schedule(Tcb& t, TimerKind k, Nanos at);
  void cancel_timer(Tcb& t);
  Nanos idle_deadline(const Tcb& t) const;
  void rearm_timer(Tcb& t);
  void on_timer(Tcb& t);
  void expire_time_waits();

  // time_wait.cc
  void time_wait_rcv(uint32_t index, const ParsedFrame& p, const Seg& s);

  // listener.cc
  void accept_enqueue(Listener& l, Tcb& t);
  void accept_unlink(Tcb& t);
  void accept_one(Listener& l, Tcb& t);
  void accept_drain(Listener& l);

  // app.cc: the applications and the calls they make (false: the Tcb is gone)
  uint32_t app_receive(Tcb& t, const uint8_t* data, uint32_t len);  // bytes taken
  bool app_run(Tcb& t);
  bool app_sent_acked(Tcb& t, bool& ack_now);  // false: the Tcb is gone (app_run)
  bool app_send(Tcb& t, const uint8_t* p, uint32_t len);
  bool app_close(Tcb& t);
  void app_shutdown(Tcb& t);
  Tcb* live(const FlowKey& k, Nanos now, TxFrames& tx);
  void app_abort(Tcb& t);
  void app_on_reset(Tcb& t);
  void app_on_closed(Tcb& t);

  // State
  Config cfg_;
  const TcpKnobs& knobs_;
  MacAddr mac_;
  Nanos now_;
  TxFrames* tx_ = nullptr;
  std::unique_ptr<FlowTable<Tcb>> flows_;
  TimerWheel wheel_;
  TimeWaitFifo tw_fifo_;
  IsnGenerator isn_;
  SynCookies cookies_;
  std::vector<Listener> listeners_;
  std::vector<uint16_t> port_listener_;  // 65536 entries: port -> listener index, kNoListener
  std::vector<Ipv4Addr> addrs_;
  uint16_t our_mss_;                     // mtu - 40, the MSS we offer
  uint32_t orphans_ = 0;
  uint32_t challenge_second_ = 0, challenge_count_ = 0;
  uint16_t next_ephemeral_ = 32768;
  // echo buffers: a pool with a free list
  std::unique_ptr<uint8_t[]> echo_mem_;
  std::vector<uint32_t> echo_free_;
  uint32_t echo_in_use_ = 0;
  bool tx_csum_offload_ = false;
  EngineStats stats_;
};

}  // namespace tcpterm
