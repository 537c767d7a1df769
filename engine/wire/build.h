// Builders: write frames straight into a caller's transmit buffer (an mbuf's
// data area), or rewrite a received frame in place for replies that mirror it
// (ARP, ICMP echo), patching checksums incrementally (RFC 1624) where only a
// few fields change. No allocation; a buffer too small yields 0, never an
// overrun.
//
// build_tcp_frame() computes the TCP checksum in full: the segment is new bytes
// anyway, and over a 40-60 byte header the 64-bit checksum loop costs a few ns
// (see bench/wire_bench.cc), so a dperf-style prebuilt template would save
// little while adding a second way to build the same frame.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/wire/frame.h"
#include "engine/wire/tcp_options.h"
#include "engine/wire/types.h"

namespace tcpterm {

struct TcpSegmentSpec {
  MacAddr eth_src, eth_dst;
  Ipv4Addr ip_src, ip_dst;
  uint16_t sport, dport;
  uint32_t seq, ack;
  uint8_t flags;
  uint16_t window;
  TcpOptions opts;
  const uint8_t* payload = nullptr;
  uint16_t payload_len = 0;
  uint8_t ttl = 64;
  uint16_t ip_id = 0;
  bool dont_fragment = true;
  uint8_t tos = 0;
};

// Writes Ethernet+IPv4+TCP(+options)+payload at buf; both checksums filled.
// Returns the frame length, or 0 if cap is too small (or the IP datagram would
// exceed 65535 bytes). No padding to 60 bytes (the NIC pads).
size_t build_tcp_frame(uint8_t* buf, size_t cap, const TcpSegmentSpec& s);

constexpr size_t kTcpFrameHeadroom = 14 + 20 + 20 + 40;  // largest header we build

// A 42-byte ARP reply from our_mac/our_ip to the requester (req.sha/req.spa),
// sent to req_eth_src. buf may be the request's own buffer. 0 if cap < 42.
size_t build_arp_reply(uint8_t* buf, size_t cap, MacAddr our_mac, Ipv4Addr our_ip, const ArpInfo& req,
                       MacAddr req_eth_src);

// Turns a parsed echo request (p.l4 == icmp) into its echo reply in place:
// Ethernet and IP addresses swapped, TTL reset to 64, ICMP type 0; both
// checksums updated incrementally. Returns the reply's length (Ethernet
// padding dropped), or 0 if p is not an ICMP echo request of this frame.
size_t make_icmp_echo_reply_in_place(uint8_t* frame, size_t len, const ParsedFrame& p);

}  // namespace tcpterm
