// The compact TIME_WAIT record: Linux's inet_timewait_sock ("minisock").
//
// When a connection enters TIME_WAIT its full control block is freed and only
// what RFC 9293 3.6.1 / RFC 7323 still need is kept: the tuple, both sequence
// numbers (to re-ACK a retransmitted FIN and to judge a new SYN), the peer's
// last timestamp (PAWS on a reused tuple) and when the state ends. The flow
// table keeps these in their own preallocated pool (flow_table.h).
//
// Layout (48 bytes, alignas(16) so four records fill exactly three cache lines
// and the key, at offset 0, never straddles a line: key lookups touch one line):
//
//   0        4        8        12       16       20       24       28
//   +--------+--------+--------+--------+--------+--------+--------+--------+
//   | raddr  | laddr  |rport|lport| snd_nxt| rcv_nxt|ts_recent| ts_stamp|
//   +--------+--------+--------+--------+--------+--------+--------+--------+
//   28       32       36      38  39  40       44       48
//   +--------+--------+-------+---+---+--------+--------+
//   |expires | next   |rcv_wnd|flg|wsc|ts_off  |oow_ack |
//   +--------+--------+-------+---+---+--------+--------+
//
// `next` belongs to the user (the TIME_WAIT expiry FIFO) while the record is
// live; the flow table threads its free list through it only while the record
// is free, so no side array is needed for either.
#pragma once

#include <cstdint>
#include <type_traits>

#include "engine/flow/flow_key.h"

namespace tcpterm {

struct alignas(16) TimeWaitRecord {
  FlowKey key;               // 12
  uint32_t snd_nxt;          // our next sequence (after our FIN)
  uint32_t rcv_nxt;          // peer's next sequence (after its FIN)
  uint32_t ts_recent;        // peer's last TSval (valid if has_ts)
  uint32_t ts_recent_stamp;  // when ts_recent was taken, engine seconds
  uint32_t expires_ms;       // TIME_WAIT end, engine milliseconds (truncated)
  uint32_t next;             // intrusive link: FIFO of TIME_WAIT expiry / free list
  uint16_t rcv_wnd;          // window to advertise in re-ACKs (already scaled down)
  uint8_t flags;             // bit0 has_ts, bit1 peer_sack_ok ... (tcp decides)
  uint8_t snd_wscale;        // peer's window scale
  uint32_t ts_offset;        // our TSval offset (randomised per connection)
  uint32_t last_oow_ack_ms;  // last rate-limited re-ACK, engine ms, 0: never (Linux tw_last_oow_ack_time)
};

static_assert(sizeof(TimeWaitRecord) <= 48, "TIME_WAIT budget: 64 B per entry including the table slot");
static_assert(sizeof(TimeWaitRecord) == 48 && 64 * 3 % sizeof(TimeWaitRecord) == 0);
static_assert(std::is_trivially_copyable_v<TimeWaitRecord>);

}  // namespace tcpterm
