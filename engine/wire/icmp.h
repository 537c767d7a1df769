// Zero-copy view of an ICMP echo message (RFC 792): the only ICMP a terminator
// answers. check() needs the 8-byte header (icmp_truncated); the checksum covers
// the whole message, data included.
//   0    1    2      4     6     8
//   |type|code| csum | id  | seq | data...
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "engine/stats/drop_reason.h"
#include "engine/wire/bytes.h"
#include "engine/wire/checksum.h"

namespace tcpterm {

namespace icmp_type {
inline constexpr uint8_t ECHO_REPLY = 0;
inline constexpr uint8_t ECHO_REQUEST = 8;
}  // namespace icmp_type

template <class Byte>
class BasicIcmpPacket {
 public:
  struct field {
    static constexpr size_t TYPE = 0;
    static constexpr size_t CODE = 1;
    static constexpr size_t CHECKSUM = 2;
    static constexpr size_t IDENT = 4;
    static constexpr size_t SEQ = 6;
  };
  static constexpr size_t kHeaderLen = 8;

  BasicIcmpPacket(Byte* p, size_t len) : p_(p), len_(len) {}

  DropReason check() const { return len_ < kHeaderLen ? DropReason::icmp_truncated : DropReason::none; }

  uint8_t type() const { return p_[field::TYPE]; }
  uint8_t code() const { return p_[field::CODE]; }
  uint16_t checksum() const { return load_be16(p_ + field::CHECKSUM); }
  uint16_t ident() const { return load_be16(p_ + field::IDENT); }
  uint16_t seq_no() const { return load_be16(p_ + field::SEQ); }
  bool verify_checksum() const { return csum_fold(csum_add(0, p_, len_)) == 0; }
  Byte* payload() const { return p_ + kHeaderLen; }
  size_t payload_len() const { return len_ - kHeaderLen; }

  void set_type(uint8_t v) requires(!std::is_const_v<Byte>) { p_[field::TYPE] = v; }
  void set_checksum(uint16_t v) requires(!std::is_const_v<Byte>) { store_be16(p_ + field::CHECKSUM, v); }

 private:
  Byte* p_;
  size_t len_;
};

using IcmpView = BasicIcmpPacket<const uint8_t>;
using IcmpMut = BasicIcmpPacket<uint8_t>;

}  // namespace tcpterm
