// What the DPDK runtime is told to do: ports, queue sizes, pools, steering and
// idle back-off. Filled from the [dpdk] and [[port]] sections of the config
// (runtime_options_from() in runtime.cc), kept as a plain struct so that the
// runtime does not depend on how the configuration is parsed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tcpterm::dpdk {

struct PortOptions {
  std::string device;              // "net_tap0,iface=tcpterm0" (a vdev) or a PCI address
  bool rss = true;                 // spread TCP/IPv4 by the 4-tuple in hardware where the port can
  bool rx_checksum_offload = true; // let the port verify IPv4/TCP checksums where it can
  bool tx_checksum_offload = true; // let the port fill in IPv4/TCP checksums of sent segments
  bool promiscuous = false;
};

struct RuntimeOptions {
  std::vector<PortOptions> ports;
  uint32_t burst_size = 32;          // frames per rte_eth_rx_burst / tx flush
  uint32_t rx_descriptors = 1024;
  uint32_t tx_descriptors = 1024;
  uint32_t mbufs_per_socket = 0;     // 0: computed from ports, queues, descriptors and rings
  uint32_t mbuf_cache = 256;
  uint32_t steering_ring_size = 4096;
  bool idle_backoff = false;
  uint32_t idle_pause_us = 200;
  uint32_t idle_sleep_us = 50;
  uint32_t mtu = 1500;
};

}  // namespace tcpterm::dpdk
