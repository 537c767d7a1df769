// Port set-up (see port.h): probing, queue configuration, offload capabilities.
#include "drivers/dpdk/port.h"

#include "drivers/dpdk/str_cat.h"

#include <cstdio>
#include <cstring>

namespace tcpterm::dpdk {

namespace {

std::string err(const char* what, const std::string& dev, int rc) {
  return str_cat(what, " ", dev, ": ", rte_strerror(rc < 0 ? -rc : rc));
}

}  // namespace

std::string device_name(const std::string& device) {
  return device.substr(0, device.find(','));
}

PortInfo setup_port(const PortOptions& opt, uint16_t queues, const RuntimeOptions& ro,
                    const std::vector<rte_mempool*>& pools, bool single_pool) {
  PortInfo p;
  p.name = device_name(opt.device);
  uint16_t pid = 0;
  if (rte_eth_dev_get_port_by_name(p.name.c_str(), &pid) != 0) {
    // Not created by EAL's own options (--vdev, PCI scan): hot-plug it.
    const int rc = rte_dev_probe(opt.device.c_str());
    if (rc != 0) throw PortError(err("cannot probe device", opt.device, rc));
    if (rte_eth_dev_get_port_by_name(p.name.c_str(), &pid) != 0)
      throw PortError("device " + opt.device + " probed but no ethdev named " + p.name);
  }
  p.port_id = pid;

  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(pid, &info);
  if (rc != 0) throw PortError(err("cannot read device info of", p.name, rc));
  p.driver = info.driver_name ? info.driver_name : "?";
  const int sock = rte_eth_dev_socket_id(pid);
  p.socket = sock < 0 ? 0 : sock;
  if (queues > info.max_rx_queues || queues > info.max_tx_queues)
    throw PortError(str_cat(p.name, " (", p.driver, ") has ", info.max_rx_queues, " RX / ", info.max_tx_queues,
                            " TX queues; ", queues, " workers need one pair each"));

  rte_eth_conf conf{};
  // RSS on the TCP/IPv4 4-tuple. net_tap advertises RSS hash types but spreads
  // only through rte_flow + BPF, so it is steered in software like a port without RSS.
  const bool tap = p.driver == "net_tap";
  if (opt.rss && queues > 1 && !tap && (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP)) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // the PMD's default key
    conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP;
    p.rss = true;
  }
  if (opt.rx_checksum_offload) {
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
      conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
      p.rx_ip_checksum = true;
    }
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) {
      conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
      p.rx_tcp_checksum = true;
    }
  }
  // TX offload only with both: the engine's offload mode leaves both checksums to the port.
  constexpr uint64_t kTxCsum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
  if (opt.tx_checksum_offload && (info.tx_offload_capa & kTxCsum) == kTxCsum) {
    conf.txmode.offloads |= kTxCsum;
    p.tx_checksum = true;
  }
  // Fast free needs every mbuf a TX queue frees to come from one pool with refcnt 1:
  // true when there is one pool (one socket); with software steering a frame may be
  // answered in place on another worker's queue, so several pools rule it out.
  if (single_pool && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
    p.fast_free = true;
  }
  // With idle back-off, an idle poll loop sleeps until its RX queue interrupts
  // (DPDK's power-management way, as l3fwd-power); ports without RX interrupts
  // are configured without them and the loop sleeps in short quanta instead.
  if (ro.idle_backoff) {
    conf.intr_conf.rxq = 1;
    rc = rte_eth_dev_configure(pid, queues, queues, &conf);
    if (rc == 0) p.rx_interrupts = true;
    else conf.intr_conf.rxq = 0;
  }
  if (!p.rx_interrupts) {
    rc = rte_eth_dev_configure(pid, queues, queues, &conf);
    if (rc != 0) throw PortError(err("cannot configure", p.name, rc));
  }

  uint16_t rxd = static_cast<uint16_t>(ro.rx_descriptors);
  uint16_t txd = static_cast<uint16_t>(ro.tx_descriptors);
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &rxd, &txd);
  if (rc != 0) throw PortError(err("cannot size descriptor rings of", p.name, rc));
  p.rx_descriptors = rxd;
  p.tx_descriptors = txd;

  if (ro.mtu != 0) {
    uint16_t cur = 0;
    if (rte_eth_dev_get_mtu(pid, &cur) == 0 && cur != ro.mtu) {
      rc = rte_eth_dev_set_mtu(pid, static_cast<uint16_t>(ro.mtu));
      if (rc != 0)
        std::fprintf(stderr, "tcpterm: %s: cannot set MTU %u (%s); keeping %u\n", p.name.c_str(), ro.mtu,
                     rte_strerror(-rc), cur);
    }
  }

  for (uint16_t q = 0; q < queues; ++q) {
    rte_eth_rxconf rxc = info.default_rxconf;
    rxc.offloads = conf.rxmode.offloads;
    rc = rte_eth_rx_queue_setup(pid, q, rxd, static_cast<unsigned>(p.socket), &rxc, pools[q]);
    if (rc != 0) throw PortError(err("cannot set up RX queue of", p.name, rc));
    rte_eth_txconf txc = info.default_txconf;
    txc.offloads = conf.txmode.offloads;
    rc = rte_eth_tx_queue_setup(pid, q, txd, static_cast<unsigned>(p.socket), &txc);
    if (rc != 0) throw PortError(err("cannot set up TX queue of", p.name, rc));
  }
  p.queues = queues;

  rte_ether_addr mac{};
  rc = rte_eth_macaddr_get(pid, &mac);
  if (rc != 0) throw PortError(err("cannot read the MAC address of", p.name, rc));
  std::memcpy(p.mac.b.data(), mac.addr_bytes, 6);

  rc = rte_eth_dev_start(pid);
  if (rc != 0) throw PortError(err("cannot start", p.name, rc));
  if (opt.promiscuous) {
    rc = rte_eth_promiscuous_enable(pid);
    if (rc != 0)
      std::fprintf(stderr, "tcpterm: %s: promiscuous mode not available (%s)\n", p.name.c_str(),
                   rte_strerror(-rc));
  }
  return p;
}

void close_port(const PortInfo& p) {
  rte_eth_dev_stop(p.port_id);
  rte_eth_dev_close(p.port_id);
}

std::string link_status(uint16_t port_id) {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port_id, &link) != 0) return "unknown";
  if (link.link_status == RTE_ETH_LINK_DOWN) return "down";
  std::string s = "up";
  if (link.link_speed != RTE_ETH_SPEED_NUM_NONE && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
    s += str_cat(" ", link.link_speed / 1000, " Gbps");
  s += link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? " full-duplex" : " half-duplex";
  return s;
}

}  // namespace tcpterm::dpdk
