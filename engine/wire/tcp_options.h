// TCP flags and the options a terminator negotiates: MSS (RFC 9293 3.7.1),
// window scale and timestamps (RFC 7323), SACK-permitted (RFC 2018).
//
// Parsing follows Linux's tcp_parse_options(): EOL ends the list, NOP is one
// byte, every other option is kind+length; a length of 0/1 or one running past
// the option area makes the segment invalid (Linux stops parsing; we drop and
// count it as tcp_bad_option, since no correct stack emits it); a known option
// with the wrong length is ignored, as Linux does; unknown options are skipped.
// Every option is reported whatever the segment's flags: honouring MSS, window
// scale and SACK-permitted only on a SYN (RFC 7323 2.2) is the caller's rule.
// Writing uses Linux's tcp_options_write() layout byte for byte, so that a peer
// (or a capture diff) cannot tell us from the kernel:
//   MSS(2,4) | [SACKOK(4,2) or NOP NOP] TS(8,10) | or NOP NOP SACKOK | NOP WS(3,3)
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/stats/drop_reason.h"

namespace tcpterm {

namespace tcp_flags {
inline constexpr uint8_t FIN = 0x01;
inline constexpr uint8_t SYN = 0x02;
inline constexpr uint8_t RST = 0x04;
inline constexpr uint8_t PSH = 0x08;
inline constexpr uint8_t ACK = 0x10;
inline constexpr uint8_t URG = 0x20;
inline constexpr uint8_t ECE = 0x40;
inline constexpr uint8_t CWR = 0x80;
}  // namespace tcp_flags

// Option kinds and lengths (Linux's TCPOPT_* / TCPOLEN_*).
namespace tcp_opt {
inline constexpr uint8_t EOL = 0;
inline constexpr uint8_t NOP = 1;
inline constexpr uint8_t MSS = 2;
inline constexpr uint8_t WINDOW = 3;
inline constexpr uint8_t SACK_PERM = 4;
inline constexpr uint8_t SACK = 5;
inline constexpr uint8_t TIMESTAMP = 8;
inline constexpr uint8_t MSS_LEN = 4;
inline constexpr uint8_t WINDOW_LEN = 3;
inline constexpr uint8_t SACK_PERM_LEN = 2;
inline constexpr uint8_t TIMESTAMP_LEN = 10;
inline constexpr uint8_t MAX_WSCALE = 14;  // RFC 7323 2.3, Linux TCP_MAX_WSCALE
inline constexpr size_t MAX_SIZE = 40;     // option space of a 60-byte header
}  // namespace tcp_opt

struct TcpOptions {
  bool has_mss = false;
  uint16_t mss = 0;
  bool has_wscale = false;
  uint8_t wscale = 0;  // parsed values above 14 are clamped to 14, as Linux does
  bool sack_permitted = false;
  bool has_timestamps = false;
  uint32_t tsval = 0;
  uint32_t tsecr = 0;
};

// Parses len bytes of options at p into out (fields not present are left as
// they are: pass a default-constructed TcpOptions). An MSS of 0 is ignored, as
// Linux does. Returns none or tcp_bad_option. Reads only [p, p+len).
DropReason parse_tcp_options(const uint8_t* p, size_t len, TcpOptions& out);

// Bytes write_tcp_options() writes: a multiple of 4, at most 20.
size_t tcp_options_size(const TcpOptions& o);

// Writes the options in Linux's layout; returns tcp_options_size(o).
size_t write_tcp_options(uint8_t* dst, const TcpOptions& o);

}  // namespace tcpterm
