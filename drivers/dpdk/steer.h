// Software steering: which worker owns a received frame's connection.
//
// Where the port cannot spread TCP/IPv4 flows over its queues by the 4-tuple
// (net_tap without BPF RSS, net_ring, net_memif, net_pcap), every worker still
// polls its own queue, and a frame that lands on the wrong worker is passed to
// its owner over that owner's rte_ring (multi-producer, single-consumer,
// lock-free). The owner is a keyed hash of the 4-tuple modulo the worker count;
// the key is random at start so that nobody can aim a flood at one core.
//
// Only TCP over IPv4 (unfragmented, header in the frame) is steered; ARP, ICMP
// and anything malformed stay where they landed: they carry no connection state,
// and the local engine answers or drops and counts them. The parse here is the
// minimum needed to find the ports, bounds-checked against the frame length; the
// engine's parser checks everything again.
//
// No DPDK header, so the tests link it without EAL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tcpterm::dpdk {

inline constexpr uint32_t kNotSteered = UINT32_MAX;

// The key of the flow a frame belongs to, from the receiver's side:
// (remote address, local address, remote port, local port) packed in 12 bytes.
struct SteerKey {
  uint32_t saddr, daddr;  // network order as on the wire: only hashed, never compared to hosts
  uint16_t sport, dport;
};

// Extracts the key of a TCP/IPv4 frame. False for anything else (ARP, ICMP,
// fragments, truncated headers): those are processed where they landed.
inline bool steer_key(const uint8_t* f, size_t len, SteerKey& k) {
  constexpr size_t kEth = 14;
  if (len < kEth + 20) return false;
  if (f[12] != 0x08 || f[13] != 0x00) return false;  // IPv4 only
  const uint8_t* ip = f + kEth;
  if ((ip[0] >> 4) != 4) return false;
  const size_t ihl = static_cast<size_t>(ip[0] & 0x0f) * 4;
  if (ihl < 20 || len < kEth + ihl + 4) return false;
  if (ip[9] != 6) return false;                              // TCP only
  if (((ip[6] & 0x3f) | ip[7]) != 0) return false;           // MF set or offset != 0: a fragment
  std::memcpy(&k.saddr, ip + 12, 4);
  std::memcpy(&k.daddr, ip + 16, 4);
  std::memcpy(&k.sport, ip + ihl, 2);
  std::memcpy(&k.dport, ip + ihl + 2, 2);
  return true;
}

// Keyed mix (the murmur3/splitmix64 finaliser over the key xor the seed): cheap,
// every input bit affects every output bit, and a random seed defeats aiming.
inline uint64_t steer_hash(const SteerKey& k, uint64_t seed) {
  uint64_t a = (static_cast<uint64_t>(k.saddr) << 32 | k.daddr) ^ seed;
  uint64_t b = (static_cast<uint64_t>(k.sport) << 16 | k.dport) ^ (seed >> 17) ^ 0x9e3779b97f4a7c15ULL;
  uint64_t h = a * 0xbf58476d1ce4e5b9ULL ^ b;
  h ^= h >> 31;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return h;
}

// The worker (0..workers-1) that owns the frame's connection, or kNotSteered when
// the frame is not TCP/IPv4 and stays with whoever received it.
inline uint32_t steer_owner(const uint8_t* f, size_t len, uint64_t seed, uint32_t workers) {
  SteerKey k;
  if (!steer_key(f, len, k)) return kNotSteered;
  // Lemire's multiply-shift reduction: uniform over [0, workers) without a division.
  return static_cast<uint32_t>(((steer_hash(k, seed) >> 32) * workers) >> 32);
}

}  // namespace tcpterm::dpdk
