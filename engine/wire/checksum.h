// Internet checksum (RFC 1071) for IPv4, TCP and ICMP, and its incremental
// update (RFC 1624) for headers rewritten in place.
//
// Values are host order throughout: a partial sum is the ones' complement sum of
// the data read as big-endian 16-bit words, and csum_fold() returns what a
// header's checksum field should hold (store it with store_be16).
//
// csum_add() is the hot loop. It reads 64-bit little-endian words into a 64-bit
// accumulator with add-with-carry (four independent lanes per 32 bytes, so the
// carries do not serialise), folds to 16 bits at the end and swaps the bytes
// once: the ones' complement sum is byte-order independent up to that swap
// (RFC 1071 section 2(B)). No per-byte loop except the last odd byte.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/wire/bytes.h"
#include "engine/wire/types.h"

namespace tcpterm {

// Ones' complement partial sum of `data` added to `sum` (an earlier partial sum,
// 0 to start). The result is a 32-bit partial sum, already folded enough that it
// can be fed back in any number of times.
uint32_t csum_add(uint32_t sum, const void* data, size_t len);

// Folds a partial sum to 16 bits and complements it: the checksum field value.
inline uint16_t csum_fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// IPv4 header checksum over ihl_bytes (with the checksum field zero: the value
// to store; with the field as received: 0 when the header is good).
inline uint16_t ipv4_header_csum(const uint8_t* hdr, size_t ihl_bytes) {
  if (ihl_bytes == 20) [[likely]] {
    // Five 32-bit words summed in 64 bits cannot overflow: straight-line code.
    uint64_t s = 0;
    for (size_t i = 0; i < 20; i += 4) {
      uint32_t w;
      std::memcpy(&w, hdr + i, 4);
      s += w;
    }
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(~__builtin_bswap16(static_cast<uint16_t>(s)));
  }
  return csum_fold(csum_add(0, hdr, ihl_bytes));
}

// Partial sum of the TCP/UDP pseudo-header (RFC 793 section 3.1).
inline uint32_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, uint8_t proto, uint32_t l4_len) {
  uint64_t s = uint64_t{src >> 16} + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + l4_len;
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint32_t>(s);
}

// TCP checksum over the pseudo-header and tcp_len bytes of segment. With the
// checksum field zero this is the value to store.
inline uint16_t tcp_csum(Ipv4Addr src, Ipv4Addr dst, const uint8_t* tcp, size_t tcp_len) {
  return csum_fold(csum_add(pseudo_header_sum(src, dst, 6, static_cast<uint32_t>(tcp_len)), tcp, tcp_len));
}

// True when the segment, checksum field included, sums to 0xffff (folds to 0).
inline bool tcp_csum_ok(Ipv4Addr src, Ipv4Addr dst, const uint8_t* tcp, size_t tcp_len) {
  return tcp_csum(src, dst, tcp, tcp_len) == 0;
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field changed from
// old_v to new_v (the form RFC 1624 recommends: RFC 1141's subtraction can
// yield the wrong zero).
inline uint16_t csum_update16(uint16_t csum, uint16_t old_v, uint16_t new_v) {
  uint32_t s = static_cast<uint16_t>(~csum) + static_cast<uint32_t>(static_cast<uint16_t>(~old_v)) + new_v;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

// The same for a 32-bit field (an address, a sequence number): both halves.
inline uint16_t csum_update32(uint16_t csum, uint32_t old_v, uint32_t new_v) {
  uint64_t s = static_cast<uint16_t>(~csum);
  s += static_cast<uint16_t>(~(old_v >> 16));
  s += static_cast<uint16_t>(~old_v);
  s += new_v >> 16;
  s += new_v & 0xffff;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

}  // namespace tcpterm
