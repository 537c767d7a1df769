// The knob tables: every configuration knob is declared here once, with its
// name, type, default, range, Linux counterpart and help text. One X-macro
// table per TOML section drives the structs the engine reads (TcpKnobs here,
// EngineConfig and ListenerConfig in config.h), the parser and its range
// checks, the `--set` overrides, `--help` and the README's table (config.cc).
//
// Trade-off: X-macros rather than reflection or a code generator. They are
// plain C++, cost nothing at run time and keep the struct and its metadata
// from drifting apart; the price is that a row must be one macro call.
//
// Row: X(name, type, default, min, max, linux_counterpart, help)
//   type     uint32_t / uint16_t (TOML integer), bool, AppKind (string),
//            CidrList (array of "a.b.c.d/len" strings), std::string,
//            StringList (array of strings).
//   default  a value of the type, or `required` (the file must set it).
//   min/max  inclusive; for lists the number of entries, for std::string its
//            length; for AppKind and bool the first and last allowed value.
//   linux    the sysctl (or call) the knob mirrors, "" if tcpterm's own.
// The [tcp] names are Linux's sysctl names without `net.ipv4.tcp_`, with
// Linux's defaults (read off a Debian 12 host's /proc/sys, kernel >= 6.0).
// Help text must not contain '|' (it lands in a Markdown table).
//
// Sections: [tcp], [engine], [[listener]] for the engine; [dpdk] and [[port]]
// for the DPDK runtime (drivers/dpdk reads them; the engine never does). A new
// section is a table here, a member in Config and a row in config.cc's kSections.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/wire/types.h"

namespace tcpterm {

using CidrList = std::vector<Ipv4Cidr>;
using StringList = std::vector<std::string>;

// The `required` default: the key has no default and must appear in the file.
struct Required {};
inline constexpr Required required{};
template <class T> constexpr T knob_initial(const T& v) { return v; }
template <class T> constexpr T knob_initial(Required) { return T{}; }

// clang-format off
#define TCPTERM_TCP_KNOBS(X)                                                                   \
  X(syncookies, uint32_t, 1, 0, 2, "net.ipv4.tcp_syncookies",                                 \
    "SYN cookies: 0 never, 1 when a listener's SYN queue is full, 2 always (never for a SYN "  \
    "that recycles a TIME_WAIT tuple: it gets a real request, as in Linux).")                  \
  X(max_syn_backlog, uint32_t, 2048, 1, 16777216, "net.ipv4.tcp_max_syn_backlog",             \
    "Connection requests (SYN_RECV) a listener remembers before it answers with SYN cookies "  \
    "(or, without them, drops new SYNs).")                                                     \
  X(synack_retries, uint32_t, 5, 0, 255, "net.ipv4.tcp_synack_retries",                       \
    "SYN-ACK timer expiries for a passive open before the request is dropped "                \
    "(5: about 63 s with the 1 s initial RTO); SYN-ACKs resent for retransmitted SYNs do not "  \
    "count, as in Linux.")                                                                     \
  X(syn_retries, uint32_t, 6, 1, 127, "net.ipv4.tcp_syn_retries",                             \
    "SYN retransmissions for an active open (client role) before it fails "                    \
    "(6: about 127 s).")                                                                       \
  X(abort_on_overflow, uint32_t, 0, 0, 1, "net.ipv4.tcp_abort_on_overflow",                   \
    "Accept queue full when the handshake's last ACK arrives: 0 drops that ACK "               \
    "(the SYN-ACK is retransmitted), 1 answers with RST.")                                     \
  X(orphan_retries, uint32_t, 0, 0, 255, "net.ipv4.tcp_orphan_retries",                       \
    "FIN retransmissions (FIN_WAIT_1, CLOSING, LAST_ACK) for a connection the application "    \
    "has closed; 0 means 8, as in Linux.")                                                     \
  X(max_orphans, uint32_t, 131072, 0, 16777216, "net.ipv4.tcp_max_orphans",                   \
    "Orphaned connections (closed by the application, not yet fully closed) beyond which "     \
    "a closing connection is reset instead of closed gracefully.")                             \
  X(fin_timeout, uint32_t, 60, 1, 86400, "net.ipv4.tcp_fin_timeout",                          \
    "Seconds an orphaned connection waits in FIN_WAIT_2 for the peer's FIN.")                  \
  X(max_tw_buckets, uint32_t, 131072, 0, 16777216, "net.ipv4.tcp_max_tw_buckets",             \
    "TIME_WAIT records kept; beyond it a closing connection skips TIME_WAIT (counted). "       \
    "0: no TIME_WAIT at all.")                                                                 \
  X(tw_reuse, uint32_t, 2, 0, 2, "net.ipv4.tcp_tw_reuse",                                     \
    "Reuse of a TIME_WAIT 4-tuple for a new active open (client role) when the old "           \
    "connection had timestamps and its last one is at least 1 s old: 0 off, 1 on, 2 only "     \
    "when an address is 127.0.0.0/8 (so off on a NIC).")                                       \
  X(timestamps, uint32_t, 1, 0, 2, "net.ipv4.tcp_timestamps",                                 \
    "RFC 7323 timestamps: 0 off, 1 on with a random offset per connection, "                   \
    "2 on without the offset.")                                                                \
  X(window_scaling, uint32_t, 1, 0, 1, "net.ipv4.tcp_window_scaling",                         \
    "RFC 7323 window scaling: 1 offers and accepts it.")                                       \
  X(sack, uint32_t, 1, 0, 1, "net.ipv4.tcp_sack",                                             \
    "RFC 2018 selective acknowledgement: 1 offers and accepts SACK-permitted.")                \
  X(keepalive_time, uint32_t, 7200, 1, 32767, "net.ipv4.tcp_keepalive_time",                  \
    "Idle seconds before the first keepalive probe, on connections with keepalive on.")        \
  X(keepalive_intvl, uint32_t, 75, 1, 32767, "net.ipv4.tcp_keepalive_intvl",                  \
    "Seconds between unanswered keepalive probes.")                                            \
  X(keepalive_probes, uint32_t, 9, 1, 127, "net.ipv4.tcp_keepalive_probes",                   \
    "Unanswered keepalive probes before the connection is reset.")                             \
  X(rfc1337, uint32_t, 0, 0, 1, "net.ipv4.tcp_rfc1337",                                       \
    "RST received in TIME_WAIT: 0 ends TIME_WAIT (as Linux does by default), "                 \
    "1 ignores it (RFC 1337 TIME-WAIT assassination hazards).")                                \
  X(challenge_ack_limit, uint32_t, 2147483647, 0, 2147483647, "net.ipv4.tcp_challenge_ack_limit", \
    "RFC 5961 challenge ACKs sent per second; 2147483647 means unlimited "                     \
    "(Linux >= 6.0; 1000 before).")                                                            \
  X(invalid_ratelimit, uint32_t, 500, 0, 3600000, "net.ipv4.tcp_invalid_ratelimit",           \
    "Minimum milliseconds between duplicate ACKs sent per connection in reply to invalid "     \
    "segments (out-of-window sequence or ACK, PAWS failure), between TIME_WAIT re-ACKs of "     \
    "segments without data, and between SYN-ACKs for retransmitted SYNs.")                     \
  X(retries2, uint32_t, 15, 1, 255, "net.ipv4.tcp_retries2",                                  \
    "Retransmissions of unacknowledged data before a connection the application still "       \
    "holds is reset (15: about 924.6 s).")                                                     \
  X(msl, uint32_t, 30, 1, 3600, "TCP_TIMEWAIT_LEN",                       \
    "Maximum segment lifetime, seconds; TIME_WAIT lasts 2*msl. Linux hard-codes 60 s "         \
    "of TIME_WAIT; tcpterm makes it a knob.")                                                  \
  X(backlog, uint32_t, 4096, 1, 1048576, "net.core.somaxconn",                                 \
    "Accept-queue length of a listener that sets no backlog, and the cap on any listener's "   \
    "backlog (listen() semantics: a queue holds backlog + 1 connections, as in Linux).")

#define TCPTERM_ENGINE_KNOBS(X)                                                                \
  X(addresses, CidrList, required, 1, 64, "ip address add",                                   \
    "IPv4 addresses the engine answers for (ARP, ICMP echo, TCP), as \"a.b.c.d/len\" "         \
    "strings; the prefix gives the on-link subnet.")                                           \
  X(mtu, uint32_t, 1500, 576, 9216, "ip link set mtu",                                        \
    "IP MTU of the ports; the MSS offered is mtu - 40.")                                       \
  X(max_connections, uint32_t, 65536, 1, 16777216, "",                                        \
    "Live connections per core (flow table and connection pool, preallocated at start); "      \
    "TIME_WAIT records are counted by tcp.max_tw_buckets.")                                    \
  X(ttl, uint32_t, 64, 1, 255, "net.ipv4.ip_default_ttl",                                     \
    "IPv4 TTL of the segments the engine sends.")                                              \
  X(icmp_echo_ignore_all, uint32_t, 0, 0, 1, "net.ipv4.icmp_echo_ignore_all",                 \
    "1: ICMP echo requests to the engine's addresses are not answered.")

#define TCPTERM_LISTENER_KNOBS(X)                                                              \
  X(port, uint16_t, required, 1, 65535, "bind()",                                             \
    "TCP port to listen on; each listener's port is distinct.")                                \
  X(app, AppKind, required, AppKind::close, AppKind::reset, "",                               \
    "What runs on each accepted connection: close (closes at once, so tcpterm sends the "      \
    "first FIN), http (answers each HTTP/1.x request with a fixed response), echo (RFC 862), " \
    "discard (RFC 863), reset (aborts with RST).")                                             \
  X(backlog, uint32_t, 0, 0, 1048576, "listen() backlog",                                     \
    "Accept-queue length (it holds backlog + 1 connections, as Linux's listen()); 0 uses "    \
    "tcp.backlog; capped at tcp.backlog as listen() is capped at somaxconn.")                  \
  X(accept_rate, uint32_t, 0, 0, 100000000, "",                                               \
    "Connections per second the application takes from the accept queue; 0: unlimited. "      \
    "Lower it to fill the queue.")                                                             \
  X(http_body_size, uint32_t, 0, 0, 1048576, "",                                              \
    "Bytes of body in each HTTP response (app = http).")                                       \
  X(http_keepalive_timeout, uint32_t, 65, 0, 86400, "",                                        \
    "Seconds an idle HTTP keep-alive connection stays open; 0 closes after each response "     \
    "(app = http; 65 as nginx's keepalive_timeout). Without keep-alive it also bounds the "    \
    "wait for the last request's body before the FIN (lingering close; 0: no wait).")          \
  X(keepalive, bool, false, false, true, "SO_KEEPALIVE",                                      \
    "Send keepalive probes on idle accepted connections (timing from tcp.keepalive_*).")

// The DPDK runtime's knobs (drivers/dpdk/options.h has their consumers).
#define TCPTERM_DPDK_KNOBS(X)                                                                  \
  X(eal_args, StringList, StringList{}, 0, 64, "",                                            \
    "EAL arguments, placed before the command line's (e.g. --no-huge, -l 0-3, --vdev=...); "  \
    "--set takes them space-separated.")                                                      \
  X(burst_size, uint32_t, 32, 1, 512, "",                                                     \
    "Frames per rte_eth_rx_burst and per transmit flush.")                                     \
  X(rx_descriptors, uint32_t, 1024, 64, 32768, "",                                            \
    "Receive descriptors per queue.")                                                          \
  X(tx_descriptors, uint32_t, 1024, 64, 32768, "",                                            \
    "Transmit descriptors per queue.")                                                         \
  X(mbufs_per_socket, uint32_t, 0, 0, 16777216, "",                                           \
    "mbufs in each NUMA socket's pool; 0: computed from ports, queues, descriptors and "      \
    "rings.")                                                                                  \
  X(mbuf_cache, uint32_t, 256, 0, 512, "",                                                    \
    "Per-lcore mbuf cache (at most RTE_MEMPOOL_CACHE_MAX_SIZE, 512).")                         \
  X(steering_ring_size, uint32_t, 4096, 64, 1048576, "",                                      \
    "Entries of each software-steering ring between lcores (rounded up to a power of two), "  \
    "used when a port cannot spread flows by RSS.")                                            \
  X(idle_backoff, bool, false, false, true, "",                                               \
    "Back off when a poll loop finds nothing to do (pause, then sleep), for shared or small "  \
    "machines; off: pure busy polling, for dedicated cores.")                                  \
  X(idle_pause_us, uint32_t, 200, 0, 1000000, "",                                             \
    "Microseconds of empty polls spent spinning with the CPU's pause instruction before the "  \
    "loop sleeps (idle_backoff).")                                                             \
  X(idle_sleep_us, uint32_t, 50, 0, 1000000, "",                                              \
    "Microseconds slept per empty poll after the pause phase (idle_backoff).")

#define TCPTERM_PORT_KNOBS(X)                                                                  \
  X(device, std::string, required, 1, 256, "",                                                \
    "DPDK device: a PCI address (0000:01:00.0) or a virtual device "                           \
    "(net_tap0,iface=tcpterm0); each port's device is distinct.")                              \
  X(rss, bool, true, false, true, "",                                                         \
    "Spread TCP/IPv4 flows over the workers' queues by RSS on the 4-tuple where the port can " \
    "(software steering otherwise).")                                                          \
  X(rx_checksum_offload, bool, true, false, true, "",                                         \
    "Let the port verify IPv4 and TCP checksums where it can.")                                \
  X(tx_checksum_offload, bool, true, false, true, "",                                         \
    "Let the port fill in the IPv4 and TCP checksums of the TCP segments it sends where it "   \
    "can (the engine writes them in software otherwise).")                                     \
  X(promiscuous, bool, false, false, true, "",                                                \
    "Receive frames for any destination MAC.")
// clang-format on

// A struct member per row, initialised to the row's default (config.h uses it too).
// The [tcp] section: Linux's TCP sysctls, named as Linux names them.
struct TcpKnobs {
#define TCPTERM_KNOB_MEMBER(name, type, def, min, max, linux_name, help) \
  type name = knob_initial<type>(def);
  TCPTERM_TCP_KNOBS(TCPTERM_KNOB_MEMBER)
  bool operator==(const TcpKnobs&) const = default;
};

}  // namespace tcpterm
