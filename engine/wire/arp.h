// Zero-copy view of an ARP packet (RFC 826), Ethernet/IPv4 only: the one shape a
// terminator answers. check() rejects a short body (arp_truncated) and any other
// hardware/protocol type, address length or opcode (arp_unsupported).
//   0     2     4    5    6     8     14    18    24    28
//   |htype|ptype|hlen|plen| oper| sha | spa | tha | tpa |
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "engine/stats/drop_reason.h"
#include "engine/wire/bytes.h"
#include "engine/wire/types.h"

namespace tcpterm {

namespace arp_op {
inline constexpr uint16_t REQUEST = 1;
inline constexpr uint16_t REPLY = 2;
}  // namespace arp_op

template <class Byte>
class BasicArpPacket {
 public:
  struct field {
    static constexpr size_t HTYPE = 0;
    static constexpr size_t PTYPE = 2;
    static constexpr size_t HLEN = 4;
    static constexpr size_t PLEN = 5;
    static constexpr size_t OPER = 6;
    static constexpr size_t SHA = 8;
    static constexpr size_t SPA = 14;
    static constexpr size_t THA = 18;
    static constexpr size_t TPA = 24;
  };
  static constexpr size_t kLen = 28;
  static constexpr uint16_t kHtypeEthernet = 1;

  BasicArpPacket(Byte* p, size_t len) : p_(p), len_(len) {}

  DropReason check() const {
    if (len_ < kLen) return DropReason::arp_truncated;
    const uint16_t op = oper();
    if (load_be16(p_ + field::HTYPE) != kHtypeEthernet || load_be16(p_ + field::PTYPE) != 0x0800 ||
        p_[field::HLEN] != 6 || p_[field::PLEN] != 4 || (op != arp_op::REQUEST && op != arp_op::REPLY))
      return DropReason::arp_unsupported;
    return DropReason::none;
  }

  uint16_t oper() const { return load_be16(p_ + field::OPER); }
  MacAddr sha() const { return mac_at(field::SHA); }
  Ipv4Addr spa() const { return load_be32(p_ + field::SPA); }
  MacAddr tha() const { return mac_at(field::THA); }
  Ipv4Addr tpa() const { return load_be32(p_ + field::TPA); }

  // Writes the fixed Ethernet/IPv4 prefix (htype, ptype, hlen, plen) and op.
  void set_header(uint16_t op) requires(!std::is_const_v<Byte>) {
    store_be16(p_ + field::HTYPE, kHtypeEthernet);
    store_be16(p_ + field::PTYPE, 0x0800);
    p_[field::HLEN] = 6;
    p_[field::PLEN] = 4;
    store_be16(p_ + field::OPER, op);
  }
  void set_sha(const MacAddr& m) requires(!std::is_const_v<Byte>) { std::memcpy(p_ + field::SHA, m.b.data(), 6); }
  void set_spa(Ipv4Addr a) requires(!std::is_const_v<Byte>) { store_be32(p_ + field::SPA, a); }
  void set_tha(const MacAddr& m) requires(!std::is_const_v<Byte>) { std::memcpy(p_ + field::THA, m.b.data(), 6); }
  void set_tpa(Ipv4Addr a) requires(!std::is_const_v<Byte>) { store_be32(p_ + field::TPA, a); }

 private:
  MacAddr mac_at(size_t off) const {
    MacAddr m;
    std::memcpy(m.b.data(), p_ + off, 6);
    return m;
  }
  Byte* p_;
  size_t len_;
};

using ArpView = BasicArpPacket<const uint8_t>;
using ArpMut = BasicArpPacket<uint8_t>;

}  // namespace tcpterm
