// Frame builders; see build.h.
#include "engine/wire/build.h"

#include <cstring>

#include "engine/wire/arp.h"
#include "engine/wire/checksum.h"
#include "engine/wire/ethernet.h"
#include "engine/wire/icmp.h"
#include "engine/wire/ipv4.h"
#include "engine/wire/tcp.h"

namespace tcpterm {

size_t build_tcp_frame(uint8_t* buf, size_t cap, const TcpSegmentSpec& s) {
  const size_t opt_len = tcp_options_size(s.opts);
  const size_t tcp_hdr_len = TcpMut::kMinHeaderLen + opt_len;
  const size_t tcp_len = tcp_hdr_len + s.payload_len;
  const size_t ip_len = Ipv4Mut::kMinHeaderLen + tcp_len;
  const size_t frame_len = EthernetMut::kHeaderLen + ip_len;
  if (frame_len > cap || ip_len > 0xffff) [[unlikely]] return 0;

  EthernetMut eth(buf, frame_len);
  eth.set_dst(s.eth_dst);
  eth.set_src(s.eth_src);
  eth.set_ethertype(ethertype::IPV4);

  Ipv4Mut ip(eth.payload(), ip_len);
  ip.set_header(s.tos, static_cast<uint16_t>(ip_len), s.ip_id, s.dont_fragment, s.ttl, ip_proto::TCP, s.ip_src,
                s.ip_dst);
  ip.set_checksum(ipv4_header_csum(eth.payload(), Ipv4Mut::kMinHeaderLen));

  uint8_t* th = eth.payload() + Ipv4Mut::kMinHeaderLen;
  TcpMut tcp(th, tcp_len);
  tcp.set_header(s.sport, s.dport, s.seq, s.ack, tcp_hdr_len, s.flags, s.window);
  write_tcp_options(th + TcpMut::kMinHeaderLen, s.opts);
  if (s.payload_len != 0) std::memcpy(th + tcp_hdr_len, s.payload, s.payload_len);
  tcp.set_checksum(tcp_csum(s.ip_src, s.ip_dst, th, tcp_len));
  return frame_len;
}

size_t build_arp_reply(uint8_t* buf, size_t cap, MacAddr our_mac, Ipv4Addr our_ip, const ArpInfo& req,
                       MacAddr req_eth_src) {
  constexpr size_t kLen = EthernetMut::kHeaderLen + ArpMut::kLen;
  if (cap < kLen) return 0;
  // req is a copy (ArpInfo), so overwriting the request's buffer is safe.
  EthernetMut eth(buf, kLen);
  eth.set_dst(req_eth_src);
  eth.set_src(our_mac);
  eth.set_ethertype(ethertype::ARP);
  ArpMut arp(eth.payload(), ArpMut::kLen);
  arp.set_header(arp_op::REPLY);
  arp.set_sha(our_mac);
  arp.set_spa(our_ip);
  arp.set_tha(req.sha);
  arp.set_tpa(req.spa);
  return kLen;
}

size_t make_icmp_echo_reply_in_place(uint8_t* frame, size_t len, const ParsedFrame& p) {
  if (p.l4 != L4::icmp || p.l3_offset != EthernetMut::kHeaderLen) return 0;
  const size_t out_len = size_t{p.l3_offset} + p.ip_total_len;
  if (out_len > len || size_t{p.l4_offset} + IcmpMut::kHeaderLen > out_len) return 0;

  EthernetMut eth(frame, len);
  eth.set_dst(p.eth_src);
  eth.set_src(p.eth_dst);

  // Swapping source and destination leaves the IP sum unchanged (addition
  // commutes); only the TTL word needs an update.
  Ipv4Mut ip(frame + p.l3_offset, p.ip_total_len);
  ip.set_src(p.ip_dst);
  ip.set_dst(p.ip_src);
  constexpr uint8_t kReplyTtl = 64;
  const uint16_t old_ttl_word = load_be16(frame + p.l3_offset + Ipv4Mut::field::TTL);
  ip.set_ttl(kReplyTtl);
  const uint16_t new_ttl_word = load_be16(frame + p.l3_offset + Ipv4Mut::field::TTL);
  ip.set_checksum(csum_update16(ip.checksum(), old_ttl_word, new_ttl_word));

  IcmpMut icmp(frame + p.l4_offset, p.l4_len);
  const uint16_t old_type_word = load_be16(frame + p.l4_offset);
  icmp.set_type(icmp_type::ECHO_REPLY);
  const uint16_t new_type_word = load_be16(frame + p.l4_offset);
  icmp.set_checksum(csum_update16(icmp.checksum(), old_type_word, new_type_word));
  return out_len;
}

}  // namespace tcpterm
