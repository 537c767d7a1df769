// Why a frame was dropped. One list for the whole engine, so the driver, the
// statistics and the tests all name a drop the same way. Parsers return a
// reason instead of throwing; the engine counts it in DropCounters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tcpterm {

// X(name, description). Append new reasons at the end of their group.
#define TCPTERM_DROP_REASONS(X)                                                      \
  /* Ethernet */                                                                     \
  X(eth_truncated, "frame shorter than an Ethernet II header")                       \
  X(ethertype_unsupported, "ethertype other than IPv4 or ARP")                       \
  /* ARP */                                                                          \
  X(arp_truncated, "ARP packet shorter than an Ethernet/IPv4 ARP body")              \
  X(arp_unsupported, "ARP for another hardware/protocol type or opcode")             \
  /* IPv4 */                                                                         \
  X(ip_truncated, "frame shorter than the IPv4 header")                              \
  X(ip_bad_version, "IP version is not 4")                                           \
  X(ip_bad_ihl, "IPv4 header length below 20 bytes or past the frame")               \
  X(ip_bad_checksum, "IPv4 header checksum wrong")                                   \
  X(ip_len_exceeds_frame, "IPv4 total length larger than the frame")                 \
  X(ip_len_too_small, "IPv4 total length smaller than its header")                   \
  X(ip_fragment, "IPv4 fragment (a terminator does not reassemble)")                 \
  X(ip_proto_unsupported, "IPv4 protocol other than TCP or ICMP")                    \
  X(ip_bad_address, "IPv4 source or destination is broadcast/multicast/zero")        \
  /* ICMP */                                                                         \
  X(icmp_truncated, "ICMP message shorter than its header")                          \
  X(icmp_bad_checksum, "ICMP checksum wrong")                                        \
  X(icmp_unsupported, "ICMP type other than echo request")                           \
  /* TCP header */                                                                   \
  X(tcp_truncated, "IP payload shorter than a TCP header")                           \
  X(tcp_bad_doff, "TCP data offset below 5 words")                                   \
  X(tcp_doff_past_packet, "TCP data offset past the end of the IP payload")          \
  X(tcp_bad_checksum, "TCP checksum wrong")                                          \
  X(tcp_bad_option, "TCP option with length 0/1 or running past the header")         \
  X(tcp_bad_port, "TCP source or destination port 0")                                \
  X(tcp_bad_flags, "TCP flag combination that no valid segment has (SYN+FIN, SYN+RST, none)") \
  /* Engine */                                                                       \
  X(not_for_us, "destination address not one of the engine's")                     \
  X(no_tx_buffer, "no transmit buffer for a reply") \
  X(arp_reply_ignored, "ARP reply (the engine keeps no ARP cache)")                   \
  X(icmp_echo_ignored, "ICMP echo request while icmp_echo_ignore_all=1")              \
  /* TCP state machine (engine/tcp) */                                               \
  X(tcp_no_socket, "segment for no connection and no listener (RST sent)")            \
  X(tcp_listen_rst, "RST to a listener")                                             \
  X(tcp_listen_ack, "ACK to a listener that is no SYN cookie (RST sent)")             \
  X(tcp_listen_no_syn, "segment without SYN/ACK/RST to a listener")                  \
  X(tcp_syn_queue_full, "SYN dropped: SYN queue full, syncookies=0")                 \
  X(tcp_accept_queue_full, "SYN or final ACK dropped: accept queue full")            \
  X(tcp_flow_table_full, "SYN dropped: flow table full")                             \
  X(tcp_bad_cookie, "ACK with an invalid or expired SYN cookie (RST sent)")          \
  X(tcp_bad_ack, "ACK that acknowledges nothing we sent in a handshake (RST sent)")  \
  X(tcp_bad_rst, "RST without an acceptable ACK in SYN_SENT")                        \
  X(tcp_no_syn, "segment without SYN in SYN_SENT")                                   \
  X(tcp_paws, "old timestamp, RFC 7323 PAWS (ACK sent)")                             \
  X(tcp_rst_out_of_window, "RST outside the receive window")                         \
  X(tcp_out_of_window, "segment outside the receive window (ACK sent)")              \
  X(tcp_data_beyond_window, "data beyond the receive window trimmed")                \
  X(tcp_no_ack, "segment without ACK in a synchronized state")                       \
  X(tcp_data_after_close, "data after the application closed (RST sent)")            \
  X(tcp_out_of_order, "out-of-order data (no reassembly queue; duplicate ACK sent)")  \
  X(tcp_rcv_buffer_full, "data the application had no room for")                    \
  X(tcp_data_after_fin, "data after the peer's FIN")                                 \
  X(tcp_rst_in_window, "in-window RST not at RCV.NXT, RFC 5961 (challenge ACK)")     \
  X(tcp_syn_in_syn_recv, "SYN in a passive SYN_RECEIVED (back to LISTEN)")           \
  X(tcp_syn_in_window, "SYN in a synchronized state, RFC 5961 (challenge ACK)")      \
  X(tcp_ack_unsent, "ACK of data not yet sent (ACK sent)")                           \
  X(tcp_ack_too_old, "ACK older than SND.UNA - MAX.SND.WND, RFC 5961 (ACK sent)")    \
  X(tcp_time_wait, "segment absorbed by a TIME_WAIT record")

enum class DropReason : uint8_t {
  none = 0,
#define TCPTERM_X(name, desc) name,
  TCPTERM_DROP_REASONS(TCPTERM_X)
#undef TCPTERM_X
  count
};

inline constexpr std::size_t kDropReasonCount = static_cast<std::size_t>(DropReason::count);

inline constexpr std::array<std::string_view, kDropReasonCount> kDropReasonNames = {
    "none",
#define TCPTERM_X(name, desc) #name,
    TCPTERM_DROP_REASONS(TCPTERM_X)
#undef TCPTERM_X
};

inline constexpr std::array<std::string_view, kDropReasonCount> kDropReasonDescriptions = {
    "not dropped",
#define TCPTERM_X(name, desc) desc,
    TCPTERM_DROP_REASONS(TCPTERM_X)
#undef TCPTERM_X
};

constexpr std::string_view drop_reason_name(DropReason r) {
  return kDropReasonNames[static_cast<std::size_t>(r)];
}

// Per-core drop counters: plain increments, read by the control side as a snapshot.
struct DropCounters {
  std::array<uint64_t, kDropReasonCount> by_reason{};
  void count(DropReason r) { ++by_reason[static_cast<std::size_t>(r)]; }
  uint64_t operator[](DropReason r) const { return by_reason[static_cast<std::size_t>(r)]; }
  uint64_t total() const {
    uint64_t t = 0;
    for (std::size_t i = 1; i < kDropReasonCount; ++i) t += by_reason[i];
    return t;
  }
};

}  // namespace tcpterm
