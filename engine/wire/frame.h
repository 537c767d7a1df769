// The one-pass frame parser run on every received packet: Ethernet II, then
// ARP or IPv4, then TCP or ICMP echo, each bounds-checked against the frame's
// real length and dropped under its own DropReason. The result is a flat
// ParsedFrame of host-order values (no pointers into the frame: offsets only),
// so the engine never touches the wire format.
//
// Trade-off: everything the engine needs is decoded eagerly (TCP options
// included), which costs a few ns on segments whose options the engine would
// ignore, but keeps the engine free of wire accessors and lets the common case
// (IPv4, IHL 5, TCP) run straight through with no branches taken.
//
// Check order (the first failure is returned): Ethernet length, ethertype;
// ARP body and type; IPv4 version, IHL, total length vs. frame, header checksum,
// fragment, source/destination martian (ip_bad_address), protocol; ICMP length,
// checksum, type (echo request only); TCP length, data offset, checksum,
// options, ports, flags.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/stats/drop_reason.h"
#include "engine/wire/tcp_options.h"
#include "engine/wire/types.h"

namespace tcpterm {

enum class L4 : uint8_t { none, tcp, icmp, arp };

struct ArpInfo {
  uint16_t op;
  MacAddr sha;
  Ipv4Addr spa;
  MacAddr tha;
  Ipv4Addr tpa;
};

struct ParsedFrame {
  MacAddr eth_dst, eth_src;
  uint16_t ethertype;
  L4 l4;
  ArpInfo arp;  // l4 == arp
  uint16_t l3_offset;  // 14
  uint8_t ip_hdr_len;
  uint16_t ip_total_len;
  uint16_t ip_id;
  uint8_t ip_ttl;
  uint8_t ip_tos;
  uint8_t ip_proto;
  Ipv4Addr ip_src, ip_dst;
  uint16_t l4_offset;  // TCP (or ICMP) header start
  uint16_t l4_len;     // TCP header + payload length (from the IP total length)
  uint16_t sport, dport;
  uint32_t seq, ack;
  uint8_t flags;
  uint16_t window;
  uint16_t urg_ptr;
  uint8_t tcp_hdr_len;
  TcpOptions opts;
  uint16_t payload_offset, payload_len;  // TCP payload (ICMP: echo data) within the frame, padding excluded
};

// What the NIC already verified (DPDK RX offload flags): skip those checksums.
struct ParseOptions {
  bool ip_csum_verified = false;
  bool l4_csum_verified = false;
};

// Returns DropReason::none and fills `out`, or the first reason the frame is
// invalid (out is then partially filled and must not be used). Fields of other
// layers than out.l4 are zero. Never reads outside [frame, frame + len).
DropReason parse_frame(const uint8_t* frame, size_t len, ParsedFrame& out, ParseOptions opts = {});

}  // namespace tcpterm
