// Zero-copy view of an IPv4 header (RFC 791). check() validates, in this order,
// what every accessor relies on: 20 bytes present (ip_truncated), version 4
// (ip_bad_version), IHL >= 5 and inside the buffer (ip_bad_ihl), total length
// not past the buffer (ip_len_exceeds_frame) and not below the header
// (ip_len_too_small). A buffer longer than the total length is fine: Ethernet
// pads short frames to 60 bytes. Options (IHL > 5) are skipped, never parsed.
// The checksum and fragment tests are separate calls so the parser can skip
// the checksum when the NIC verified it.
//   0        1     2        4      6          8    9      10     12    16    20
//   |ver|ihl | tos | totlen | id   |flg|frag  | ttl| proto| csum | src | dst | options...
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "engine/stats/drop_reason.h"
#include "engine/wire/bytes.h"
#include "engine/wire/checksum.h"
#include "engine/wire/types.h"

namespace tcpterm {

namespace ip_proto {
inline constexpr uint8_t ICMP = 1;
inline constexpr uint8_t TCP = 6;
}  // namespace ip_proto

template <class Byte>
class BasicIpv4Packet {
 public:
  struct field {
    static constexpr size_t VER_IHL = 0;
    static constexpr size_t TOS = 1;
    static constexpr size_t LENGTH = 2;
    static constexpr size_t IDENT = 4;
    static constexpr size_t FLG_OFF = 6;
    static constexpr size_t TTL = 8;
    static constexpr size_t PROTOCOL = 9;
    static constexpr size_t CHECKSUM = 10;
    static constexpr size_t SRC = 12;
    static constexpr size_t DST = 16;
  };
  static constexpr size_t kMinHeaderLen = 20;
  static constexpr uint16_t kFlagDF = 0x4000;
  static constexpr uint16_t kFlagMF = 0x2000;
  static constexpr uint16_t kFragOffsetMask = 0x1fff;

  BasicIpv4Packet(Byte* p, size_t len) : p_(p), len_(len) {}

  DropReason check() const {
    if (len_ < kMinHeaderLen) [[unlikely]] return DropReason::ip_truncated;
    if (version() != 4) [[unlikely]] return DropReason::ip_bad_version;
    const size_t hl = header_len();
    if (hl < kMinHeaderLen || hl > len_) [[unlikely]] return DropReason::ip_bad_ihl;
    const size_t tl = total_len();
    if (tl > len_) [[unlikely]] return DropReason::ip_len_exceeds_frame;
    if (tl < hl) [[unlikely]] return DropReason::ip_len_too_small;
    return DropReason::none;
  }

  uint8_t version() const { return p_[field::VER_IHL] >> 4; }
  size_t header_len() const { return size_t{p_[field::VER_IHL] & 0x0fu} * 4; }
  uint8_t tos() const { return p_[field::TOS]; }
  uint16_t total_len() const { return load_be16(p_ + field::LENGTH); }
  uint16_t ident() const { return load_be16(p_ + field::IDENT); }
  uint16_t flags_frag() const { return load_be16(p_ + field::FLG_OFF); }
  bool dont_fragment() const { return (flags_frag() & kFlagDF) != 0; }
  // More fragments set, or a non-zero offset: a piece of a larger datagram.
  bool is_fragment() const { return (flags_frag() & (kFlagMF | kFragOffsetMask)) != 0; }
  uint8_t ttl() const { return p_[field::TTL]; }
  uint8_t protocol() const { return p_[field::PROTOCOL]; }
  uint16_t checksum() const { return load_be16(p_ + field::CHECKSUM); }
  Ipv4Addr src() const { return load_be32(p_ + field::SRC); }
  Ipv4Addr dst() const { return load_be32(p_ + field::DST); }
  bool verify_checksum() const { return ipv4_header_csum(p_, header_len()) == 0; }
  Byte* payload() const { return p_ + header_len(); }
  size_t payload_len() const { return total_len() - header_len(); }

  // Writers. set_header() writes a 20-byte option-less header in one go
  // (checksum zero; call fill_checksum() after).
  void set_header(uint8_t tos, uint16_t total_len, uint16_t ident, bool df, uint8_t ttl, uint8_t proto,
                  Ipv4Addr src, Ipv4Addr dst) requires(!std::is_const_v<Byte>) {
    p_[field::VER_IHL] = 0x45;
    p_[field::TOS] = tos;
    store_be16(p_ + field::LENGTH, total_len);
    store_be16(p_ + field::IDENT, ident);
    store_be16(p_ + field::FLG_OFF, df ? kFlagDF : 0);
    p_[field::TTL] = ttl;
    p_[field::PROTOCOL] = proto;
    store_be16(p_ + field::CHECKSUM, 0);
    store_be32(p_ + field::SRC, src);
    store_be32(p_ + field::DST, dst);
  }
  void set_checksum(uint16_t v) requires(!std::is_const_v<Byte>) { store_be16(p_ + field::CHECKSUM, v); }
  void fill_checksum() requires(!std::is_const_v<Byte>) {
    set_checksum(0);
    set_checksum(ipv4_header_csum(p_, header_len()));
  }
  void set_src(Ipv4Addr a) requires(!std::is_const_v<Byte>) { store_be32(p_ + field::SRC, a); }
  void set_dst(Ipv4Addr a) requires(!std::is_const_v<Byte>) { store_be32(p_ + field::DST, a); }
  void set_ttl(uint8_t v) requires(!std::is_const_v<Byte>) { p_[field::TTL] = v; }

 private:
  Byte* p_;
  size_t len_;
};

using Ipv4View = BasicIpv4Packet<const uint8_t>;
using Ipv4Mut = BasicIpv4Packet<uint8_t>;

// Addresses that can be neither end of a TCP connection nor an echo:
// 0.0.0.0/8, multicast 224.0.0.0/4, limited broadcast (Linux's
// ipv4_is_zeronet / ipv4_is_multicast / ipv4_is_lbcast martian tests).
constexpr bool ipv4_is_martian(Ipv4Addr a) {
  return (a >> 24) == 0 || (a >> 28) == 0xe || a == 0xffffffffu;
}

}  // namespace tcpterm
