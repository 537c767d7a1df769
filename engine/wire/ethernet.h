// Zero-copy view of an Ethernet II header (IEEE 802.3 with an ethertype).
// smoltcp-style: the view holds a pointer and the buffer's length; check()
// is called once and every accessor after it reads inside the checked bytes.
// BasicEthernetFrame<const uint8_t> reads, BasicEthernetFrame<uint8_t> also writes.
//   0      6      12         14
//   | dst  | src  | ethertype | payload...
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "engine/stats/drop_reason.h"
#include "engine/wire/bytes.h"
#include "engine/wire/types.h"

namespace tcpterm {

namespace ethertype {
inline constexpr uint16_t IPV4 = 0x0800;
inline constexpr uint16_t ARP = 0x0806;
}  // namespace ethertype

inline constexpr MacAddr kBroadcastMac{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

template <class Byte>
class BasicEthernetFrame {
 public:
  struct field {
    static constexpr size_t DST = 0;
    static constexpr size_t SRC = 6;
    static constexpr size_t ETHERTYPE = 12;
  };
  static constexpr size_t kHeaderLen = 14;

  BasicEthernetFrame(Byte* p, size_t len) : p_(p), len_(len) {}

  DropReason check() const { return len_ < kHeaderLen ? DropReason::eth_truncated : DropReason::none; }

  MacAddr dst() const { return mac_at(field::DST); }
  MacAddr src() const { return mac_at(field::SRC); }
  uint16_t ethertype() const { return load_be16(p_ + field::ETHERTYPE); }
  Byte* payload() const { return p_ + kHeaderLen; }
  size_t payload_len() const { return len_ - kHeaderLen; }

  void set_dst(const MacAddr& m) requires(!std::is_const_v<Byte>) { std::memcpy(p_ + field::DST, m.b.data(), 6); }
  void set_src(const MacAddr& m) requires(!std::is_const_v<Byte>) { std::memcpy(p_ + field::SRC, m.b.data(), 6); }
  void set_ethertype(uint16_t v) requires(!std::is_const_v<Byte>) { store_be16(p_ + field::ETHERTYPE, v); }

 private:
  MacAddr mac_at(size_t off) const {
    MacAddr m;
    std::memcpy(m.b.data(), p_ + off, 6);
    return m;
  }
  Byte* p_;
  size_t len_;
};

using EthernetView = BasicEthernetFrame<const uint8_t>;
using EthernetMut = BasicEthernetFrame<uint8_t>;

}  // namespace tcpterm
