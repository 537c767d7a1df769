// Address types shared by the wire layer and everything above it.
// Addresses are plain values in host byte order (Ipv4Addr) or as the bytes sit on
// the wire (MacAddr): conversion happens once, in the views, never in the engine.
#pragma once

#include <array>
#include <cstdint>

namespace tcpterm {

// IPv4 address, host byte order: 10.0.0.1 == 0x0a000001.
using Ipv4Addr = uint32_t;

// Ethernet address, wire order (b[0] is the first byte on the wire).
struct MacAddr {
  std::array<uint8_t, 6> b;
  bool operator==(const MacAddr&) const = default;
};

struct Ipv4Cidr {
  Ipv4Addr addr;
  uint8_t prefix_len;
};

constexpr Ipv4Addr ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return (Ipv4Addr{a} << 24) | (Ipv4Addr{b} << 16) | (Ipv4Addr{c} << 8) | Ipv4Addr{d};
}

}  // namespace tcpterm
