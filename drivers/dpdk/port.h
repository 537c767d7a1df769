// Port set-up: find (or hot-plug) the device, size and start its queues, and
// learn what it can offload.
//
// Every worker lcore gets one RX/TX queue pair on every port. Capabilities are
// decided once here, never per packet: RSS on the TCP/IPv4 4-tuple when the port
// has it (then a queue's flows all belong to its worker), software steering when
// it has not; RX checksum verification when the port offers it (the engine then
// skips its own), and TX IPv4+TCP checksum insertion when it offers both (the
// engine then leaves the IPv4 checksum 0 and seeds the TCP one with the
// pseudo-header sum), the software checksums otherwise.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "drivers/dpdk/dpdk.h"
#include "drivers/dpdk/options.h"
#include "engine/wire/types.h"

namespace tcpterm::dpdk {

struct PortInfo {
  uint16_t port_id = 0;
  std::string name;       // ethdev name ("net_tap0", "0000:03:00.0")
  std::string driver;     // PMD name ("net_tap", "net_ice", ...)
  MacAddr mac{};
  int socket = 0;         // NUMA node of the device (0 when unknown)
  uint16_t queues = 0;
  uint16_t rx_descriptors = 0, tx_descriptors = 0;
  bool rss = false;             // hardware spreads TCP/IPv4 by 4-tuple over the queues
  bool rx_ip_checksum = false;  // the port verifies IPv4 header checksums
  bool rx_tcp_checksum = false; // the port verifies TCP checksums
  bool tx_checksum = false;     // the port fills in IPv4 and TCP checksums of sent segments
  bool fast_free = false;       // TX queues free mbufs without refcount checks
  bool rx_interrupts = false;   // RX queue interrupts (idle back-off sleeps until a frame arrives)
};

// Thrown at start-up only (never on the packet path).
struct PortError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The ethdev name a device string creates: "net_tap0,iface=x" -> "net_tap0".
std::string device_name(const std::string& device);

// Finds the port for `opt.device`, hot-plugging it when EAL has not created it
// (vdevs given in the config rather than with --vdev), configures `queues` queue
// pairs (queue q takes its mbufs from pools[q]) and starts it.
PortInfo setup_port(const PortOptions& opt, uint16_t queues, const RuntimeOptions& ro,
                    const std::vector<rte_mempool*>& pools, bool single_pool);

// Stops and closes the port: its RX rings' mbufs go back to their pools.
void close_port(const PortInfo& p);

std::string link_status(uint16_t port_id);

}  // namespace tcpterm::dpdk
