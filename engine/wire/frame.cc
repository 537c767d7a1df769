// parse_frame(): see frame.h for the order of checks. Written as one function
// over the views so the compiler sees the whole common path (IPv4/TCP, IHL 5)
// and inlines every accessor; the uncommon layers (ARP, ICMP) are out of line.
#include "engine/wire/frame.h"

#include "engine/wire/arp.h"
#include "engine/wire/bytes.h"
#include "engine/wire/checksum.h"
#include "engine/wire/ethernet.h"
#include "engine/wire/icmp.h"
#include "engine/wire/ipv4.h"
#include "engine/wire/tcp.h"

namespace tcpterm {

namespace {

constexpr uint32_t kAlignedTimestamp = (uint32_t{tcp_opt::NOP} << 24) | (uint32_t{tcp_opt::NOP} << 16) |
                                       (uint32_t{tcp_opt::TIMESTAMP} << 8) | tcp_opt::TIMESTAMP_LEN;

[[gnu::noinline]] DropReason parse_arp(const uint8_t* body, size_t len, ParsedFrame& out) {
  const ArpView arp(body, len);
  if (const DropReason r = arp.check(); r != DropReason::none) return r;
  out.l4 = L4::arp;
  out.arp.op = arp.oper();
  out.arp.sha = arp.sha();
  out.arp.spa = arp.spa();
  out.arp.tha = arp.tha();
  out.arp.tpa = arp.tpa();
  return DropReason::none;
}

[[gnu::noinline]] DropReason parse_icmp(const uint8_t* frame, size_t l4_off, size_t l4_len, ParsedFrame& out,
                                        ParseOptions opts) {
  const IcmpView icmp(frame + l4_off, l4_len);
  if (const DropReason r = icmp.check(); r != DropReason::none) return r;
  if (!opts.l4_csum_verified && !icmp.verify_checksum()) return DropReason::icmp_bad_checksum;
  if (icmp.type() != icmp_type::ECHO_REQUEST || icmp.code() != 0) return DropReason::icmp_unsupported;
  out.l4 = L4::icmp;
  out.payload_offset = static_cast<uint16_t>(l4_off + IcmpView::kHeaderLen);
  out.payload_len = static_cast<uint16_t>(l4_len - IcmpView::kHeaderLen);
  return DropReason::none;
}

}  // namespace

DropReason parse_frame(const uint8_t* frame, size_t len, ParsedFrame& out, ParseOptions opts) {
  out = ParsedFrame{};
  // Offsets are uint16_t: a jumbo buffer beyond 64 KiB is cut to what IPv4 can
  // describe (the IP total length bounds every offset anyway).
  if (len > 0xffff) len = 0xffff;

  const EthernetView eth(frame, len);
  if (const DropReason r = eth.check(); r != DropReason::none) [[unlikely]] return r;
  out.eth_dst = eth.dst();
  out.eth_src = eth.src();
  out.ethertype = eth.ethertype();
  if (out.ethertype != ethertype::IPV4) [[unlikely]] {
    if (out.ethertype == ethertype::ARP) return parse_arp(eth.payload(), eth.payload_len(), out);
    return DropReason::ethertype_unsupported;
  }

  constexpr size_t l3 = EthernetView::kHeaderLen;
  const Ipv4View ip(frame + l3, len - l3);
  if (const DropReason r = ip.check(); r != DropReason::none) [[unlikely]] return r;
  if (!opts.ip_csum_verified && !ip.verify_checksum()) [[unlikely]] return DropReason::ip_bad_checksum;
  if (ip.is_fragment()) [[unlikely]] return DropReason::ip_fragment;
  out.l3_offset = l3;
  out.ip_hdr_len = static_cast<uint8_t>(ip.header_len());
  out.ip_total_len = ip.total_len();
  out.ip_id = ip.ident();
  out.ip_ttl = ip.ttl();
  out.ip_tos = ip.tos();
  out.ip_proto = ip.protocol();
  out.ip_src = ip.src();
  out.ip_dst = ip.dst();
  if (ipv4_is_martian(out.ip_src) || ipv4_is_martian(out.ip_dst)) [[unlikely]] return DropReason::ip_bad_address;

  const size_t l4_off = l3 + out.ip_hdr_len;
  const size_t l4_len = out.ip_total_len - out.ip_hdr_len;
  out.l4_offset = static_cast<uint16_t>(l4_off);
  out.l4_len = static_cast<uint16_t>(l4_len);
  if (out.ip_proto != ip_proto::TCP) [[unlikely]] {
    if (out.ip_proto == ip_proto::ICMP) return parse_icmp(frame, l4_off, l4_len, out, opts);
    return DropReason::ip_proto_unsupported;
  }

  const TcpView tcp(frame + l4_off, l4_len);
  if (const DropReason r = tcp.check(); r != DropReason::none) [[unlikely]] return r;
  if (!opts.l4_csum_verified && !tcp.verify_checksum(out.ip_src, out.ip_dst)) [[unlikely]]
    return DropReason::tcp_bad_checksum;
  const size_t thl = tcp.header_len();
  if (thl == TcpView::kMinHeaderLen + 12 && load_be32(tcp.options()) == kAlignedTimestamp) [[likely]] {
    // Linux's tcp_parse_aligned_timestamp(): after the handshake nearly every
    // segment carries exactly NOP NOP TS, so decode it without the loop.
    out.opts.has_timestamps = true;
    out.opts.tsval = load_be32(tcp.options() + 4);
    out.opts.tsecr = load_be32(tcp.options() + 8);
  } else if (thl > TcpView::kMinHeaderLen) {
    if (const DropReason r = tcp.parse_options(out.opts); r != DropReason::none) [[unlikely]] return r;
  }
  out.sport = tcp.src_port();
  out.dport = tcp.dst_port();
  if (out.sport == 0 || out.dport == 0) [[unlikely]] return DropReason::tcp_bad_port;
  out.flags = tcp.flags();
  // SYN with FIN or RST, or no flag at all among the six of RFC 793 (Linux's
  // tcp_rcv_state_process drops the first two; a null segment is a scan).
  constexpr uint8_t kCore = tcp_flags::FIN | tcp_flags::SYN | tcp_flags::RST | tcp_flags::PSH |
                            tcp_flags::ACK | tcp_flags::URG;
  if ((out.flags & kCore) == 0 ||
      ((out.flags & tcp_flags::SYN) && (out.flags & (tcp_flags::FIN | tcp_flags::RST)))) [[unlikely]]
    return DropReason::tcp_bad_flags;
  out.l4 = L4::tcp;
  out.seq = tcp.seq();
  out.ack = tcp.ack();
  out.window = tcp.window();
  out.urg_ptr = tcp.urg_ptr();
  out.tcp_hdr_len = static_cast<uint8_t>(thl);
  out.payload_offset = static_cast<uint16_t>(l4_off + thl);
  out.payload_len = static_cast<uint16_t>(l4_len - thl);
  return DropReason::none;
}

}  // namespace tcpterm
