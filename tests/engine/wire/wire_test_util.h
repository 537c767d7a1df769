// Helpers shared by the wire tests: hex frames, real Linux captures, exact-size
// buffers (so ASan flags any read past a frame's end) and checksum refreshing
// for building malformed frames that fail exactly one check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/wire/bytes.h"
#include "engine/wire/checksum.h"

namespace tcpterm::wire_test {

// A copy of the first n bytes whose allocation is exactly n bytes long:
// push_back/resize can leave spare capacity that ASan would not flag.
inline std::vector<uint8_t> exact(const std::vector<uint8_t>& v, size_t n) {
  return std::vector<uint8_t>(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
}

inline std::vector<uint8_t> from_hex(std::string_view s) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return exact(out, out.size());
}

// Captured with tcpdump on a veth pair (TX checksum offload off, so the
// checksums are the kernel's own) between two network namespaces, Linux
// 6.18.44: `connect()` from 10.77.0.1:47530 to 10.77.0.2:8080, then
// send("hello"). tcpdump -vvv reported every checksum "correct".
// SYN: mss 1460, sackOK, TS val 3845589827 ecr 0, nop, wscale 10.
inline constexpr std::string_view kLinuxSyn =
    "86e3 0cbd 9bdb 0293 3500 334b 0800 4500"
    "003c a675 4000 4006 7faa 0a4d 0001 0a4d"
    "0002 b9aa 1f90 1f0f 1573 0000 0000 a002"
    "faf0 3a38 0000 0204 05b4 0402 080a e537"
    "0b43 0000 0000 0103 030a";
// SYN-ACK: seq 2320395460 ack 521082228 win 65160, mss 1460, sackOK,
// TS val 3711138366 ecr 3845589827, nop, wscale 10.
inline constexpr std::string_view kLinuxSynAck =
    "0293 3500 334b 86e3 0cbd 9bdb 0800 4500"
    "003c 0000 4000 4006 2620 0a4d 0002 0a4d"
    "0001 1f90 b9aa 8a4e 6cc4 1f0f 1574 a012"
    "fe88 e809 0000 0204 05b4 0402 080a dd33"
    "7a3e e537 0b43 0103 030a";
// ACK: win 63, nop, nop, TS val 3845589827 ecr 3711138366.
inline constexpr std::string_view kLinuxAck =
    "86e3 0cbd 9bdb 0293 3500 334b 0800 4500"
    "0034 a676 4000 4006 7fb1 0a4d 0001 0a4d"
    "0002 b9aa 1f90 1f0f 1574 8a4e 6cc5 8010"
    "003f 1523 0000 0101 080a e537 0b43 dd33"
    "7a3e";
// PSH|ACK carrying "hello".
inline constexpr std::string_view kLinuxData =
    "86e3 0cbd 9bdb 0293 3500 334b 0800 4500"
    "0039 a677 4000 4006 7fab 0a4d 0001 0a4d"
    "0002 b9aa 1f90 1f0f 1574 8a4e 6cc5 8018"
    "003f d143 0000 0101 080a e537 0b43 dd33"
    "7a3e 6865 6c6c 6f";

// Recomputes the IPv4 header checksum and, for TCP/ICMP, the L4 checksum of an
// Ethernet/IPv4 frame, as far as its (possibly corrupt) lengths allow without
// reading outside the buffer. Used to make a frame fail one later check only.
inline void refresh_checksums(std::vector<uint8_t>& f) {
  if (f.size() < 34 || load_be16(f.data() + 12) != 0x0800) return;
  uint8_t* ip = f.data() + 14;
  const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
  if (ihl < 20 || 14 + ihl > f.size()) return;
  store_be16(ip + 10, 0);
  store_be16(ip + 10, ipv4_header_csum(ip, ihl));
  const size_t tot = load_be16(ip + 2);
  if (tot < ihl || 14 + tot > f.size()) return;
  uint8_t* l4 = ip + ihl;
  const size_t l4_len = tot - ihl;
  if (ip[9] == 6 && l4_len >= 20) {
    store_be16(l4 + 16, 0);
    store_be16(l4 + 16, tcp_csum(load_be32(ip + 12), load_be32(ip + 16), l4, l4_len));
  } else if (ip[9] == 1 && l4_len >= 8) {
    store_be16(l4 + 2, 0);
    store_be16(l4 + 2, csum_fold(csum_add(0, l4, l4_len)));
  }
}

// Naive RFC 1071 reference: one 16-bit big-endian word at a time.
inline uint32_t reference_sum(const uint8_t* p, size_t len) {
  uint64_t s = 0;
  for (size_t i = 0; i + 1 < len; i += 2) s += uint32_t{p[i]} << 8 | p[i + 1];
  if (len & 1) s += uint32_t{p[len - 1]} << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint32_t>(s);
}

}  // namespace tcpterm::wire_test
