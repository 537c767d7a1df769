// Zero-copy view of a TCP header (RFC 9293 section 3.1). check() validates, in
// order: 20 bytes present (tcp_truncated), data offset >= 5 (tcp_bad_doff),
// data offset within the segment (tcp_doff_past_packet). The view's length is
// the TCP segment length from the IP total length, never the frame's (which
// may carry Ethernet padding).
//   0     2     4     8     12        13    14     16    18    20
//   |sport|dport| seq | ack |doff|rsv |flags|window| csum| urg | options... | data
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "engine/stats/drop_reason.h"
#include "engine/wire/bytes.h"
#include "engine/wire/checksum.h"
#include "engine/wire/tcp_options.h"
#include "engine/wire/types.h"

namespace tcpterm {

template <class Byte>
class BasicTcpSegment {
 public:
  struct field {
    static constexpr size_t SRC_PORT = 0;
    static constexpr size_t DST_PORT = 2;
    static constexpr size_t SEQ = 4;
    static constexpr size_t ACK = 8;
    static constexpr size_t DOFF = 12;  // high nibble; low nibble reserved (AE, RFC 3540, unused)
    static constexpr size_t FLAGS = 13;
    static constexpr size_t WINDOW = 14;
    static constexpr size_t CHECKSUM = 16;
    static constexpr size_t URG_PTR = 18;
    static constexpr size_t OPTIONS = 20;
  };
  static constexpr size_t kMinHeaderLen = 20;
  static constexpr size_t kMaxHeaderLen = 60;

  BasicTcpSegment(Byte* p, size_t len) : p_(p), len_(len) {}

  DropReason check() const {
    if (len_ < kMinHeaderLen) [[unlikely]] return DropReason::tcp_truncated;
    const size_t hl = header_len();
    if (hl < kMinHeaderLen) [[unlikely]] return DropReason::tcp_bad_doff;
    if (hl > len_) [[unlikely]] return DropReason::tcp_doff_past_packet;
    return DropReason::none;
  }

  uint16_t src_port() const { return load_be16(p_ + field::SRC_PORT); }
  uint16_t dst_port() const { return load_be16(p_ + field::DST_PORT); }
  uint32_t seq() const { return load_be32(p_ + field::SEQ); }
  uint32_t ack() const { return load_be32(p_ + field::ACK); }
  size_t header_len() const { return static_cast<size_t>(p_[field::DOFF] >> 4) * 4; }
  uint8_t flags() const { return p_[field::FLAGS]; }
  uint16_t window() const { return load_be16(p_ + field::WINDOW); }
  uint16_t checksum() const { return load_be16(p_ + field::CHECKSUM); }
  uint16_t urg_ptr() const { return load_be16(p_ + field::URG_PTR); }
  Byte* options() const { return p_ + field::OPTIONS; }
  size_t options_len() const { return header_len() - kMinHeaderLen; }
  Byte* payload() const { return p_ + header_len(); }
  size_t payload_len() const { return len_ - header_len(); }
  size_t len() const { return len_; }
  DropReason parse_options(TcpOptions& out) const { return parse_tcp_options(options(), options_len(), out); }
  bool verify_checksum(Ipv4Addr src, Ipv4Addr dst) const { return tcp_csum_ok(src, dst, p_, len_); }

  // Writes the 20 fixed bytes (checksum zero, urgent pointer zero).
  void set_header(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, size_t hdr_len, uint8_t flags,
                  uint16_t window) requires(!std::is_const_v<Byte>) {
    store_be16(p_ + field::SRC_PORT, sport);
    store_be16(p_ + field::DST_PORT, dport);
    store_be32(p_ + field::SEQ, seq);
    store_be32(p_ + field::ACK, ack);
    p_[field::DOFF] = static_cast<uint8_t>((hdr_len / 4) << 4);
    p_[field::FLAGS] = flags;
    store_be16(p_ + field::WINDOW, window);
    store_be16(p_ + field::CHECKSUM, 0);
    store_be16(p_ + field::URG_PTR, 0);
  }
  void set_checksum(uint16_t v) requires(!std::is_const_v<Byte>) { store_be16(p_ + field::CHECKSUM, v); }
  void fill_checksum(Ipv4Addr src, Ipv4Addr dst) requires(!std::is_const_v<Byte>) {
    set_checksum(0);
    set_checksum(tcp_csum(src, dst, p_, len_));
  }

 private:
  Byte* p_;
  size_t len_;
};

using TcpView = BasicTcpSegment<const uint8_t>;
using TcpMut = BasicTcpSegment<uint8_t>;

}  // namespace tcpterm
