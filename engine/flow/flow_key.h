// The 4-tuple that names a TCP connection on one engine core.
//
// "r" is the remote peer, "l" is the engine's own side (Linux: daddr/dport vs.
// saddr/sport seen from the socket). All fields in host byte order, as the
// parser hands them out. 12 bytes and no padding, so the flow hash can read
// the key as one 8-byte and one 4-byte word (see flow_hash.h) and two keys
// compare with a 12-byte memcmp.
#pragma once

#include <cstdint>
#include <type_traits>

#include "engine/wire/types.h"

namespace tcpterm {

struct FlowKey {
  Ipv4Addr raddr;
  Ipv4Addr laddr;
  uint16_t rport;
  uint16_t lport;
  bool operator==(const FlowKey&) const = default;
};

static_assert(sizeof(FlowKey) == 12, "FlowKey must be 12 bytes without padding");
static_assert(std::is_trivially_copyable_v<FlowKey>);
static_assert(std::has_unique_object_representations_v<FlowKey>);

}  // namespace tcpterm
