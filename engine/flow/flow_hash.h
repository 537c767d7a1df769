// The flow table's keyed hash: SipHash-1-3 specialised for the 12-byte FlowKey.
//
// Why SipHash and not a cheaper multiply-mix. The keys are chosen by whoever
// sends us packets: a SYN flood can pick source addresses and ports freely. With
// an unkeyed or weakly keyed hash an attacker can send tuples that all land on
// one probe run and turn every lookup into a walk of the whole cluster (hash
// flooding, CVE-2011-4885 and friends). Keying the hash with a random seed only
// helps if the seed cannot be worked around or worked out:
//  - keyed multiply-mix hashes (wyhash/mum style, murmur with a seed) have known
//    seed-independent collision families, or leak the seed to an attacker who
//    can observe which keys collide (a timing side channel on a lookup);
//  - Thorup's vector multiply-shift is provably 2-universal, which bounds the
//    collision probability of any *fixed* key pair, but it is linear: a few
//    observed collisions solve for the multipliers, and with linear probing a
//    2-independent family can still give logarithmic probe runs on structured
//    key sets (Patrascu & Thorup 2010) such as "all ports of one address";
//  - SipHash (Aumasson & Bernstein 2012) is a PRF: without the 128-bit key its
//    outputs look random even to an adaptive attacker, so the table behaves as
//    under uniform hashing whatever tuples arrive. SipHash-1-3 (one compression
//    round, three finalisation rounds) is the variant Python and Rust's std
//    chose for hash tables; it is the same design as Linux's siphash.h.
// Cost: a 12-byte key is one message word plus the length/tail word, i.e. five
// SipRounds, about 25 cycles of dependent ALU work and no memory access. In a
// batched lookup that overlaps with the slot's cache miss, so it is nearly free;
// bench_flow reports it alone (BM_hash).
//
// The 64-bit seed from the caller is expanded to SipHash's 128-bit key with
// splitmix64. The initial state v0..v3 depends only on the key, so it is
// computed once at construction and a hash starts from it.
//
// Message bytes are the key's object representation (raddr, laddr, rport,
// lport in host order), read as little-endian words on x86: on this target
// the result equals reference SipHash-1-3 over those 12 bytes (tested).
#pragma once

#include <cstdint>
#include <cstring>

#include "engine/flow/flow_key.h"

namespace tcpterm {

constexpr uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class FlowHasher {
 public:
  // SipHash key (k0, k1) straight, for the reference tests.
  FlowHasher(uint64_t k0, uint64_t k1)
      : v0_(k0 ^ 0x736f6d6570736575ULL),
        v1_(k1 ^ 0x646f72616e646f6dULL),
        v2_(k0 ^ 0x6c7967656e657261ULL),
        v3_(k1 ^ 0x7465646279746573ULL) {}

  static FlowHasher from_seed(uint64_t seed) {
    uint64_t s = seed;
    const uint64_t k0 = splitmix64(s);
    const uint64_t k1 = splitmix64(s);
    return FlowHasher(k0, k1);
  }

  uint64_t operator()(const FlowKey& key) const {
    uint64_t m0;
    uint32_t m1;
    std::memcpy(&m0, &key, 8);
    std::memcpy(&m1, reinterpret_cast<const unsigned char*>(&key) + 8, 4);
    const uint64_t b = (uint64_t{sizeof(FlowKey)} << 56) | m1;  // length byte + 4-byte tail

    uint64_t v0 = v0_, v1 = v1_, v2 = v2_, v3 = v3_;
    v3 ^= m0;
    round(v0, v1, v2, v3);
    v0 ^= m0;
    v3 ^= b;
    round(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    round(v0, v1, v2, v3);
    round(v0, v1, v2, v3);
    round(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
  }

 private:
  static constexpr uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
  static void round(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  }

  uint64_t v0_, v1_, v2_, v3_;
};

}  // namespace tcpterm
