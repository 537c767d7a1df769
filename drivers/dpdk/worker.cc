// The per-lcore poll loop (see worker.h).
#include "drivers/dpdk/worker.h"

#include "drivers/dpdk/steer.h"

#include <sys/prctl.h>

#include <cstdio>
#include <ctime>
#include <exception>
#include <new>

namespace tcpterm::dpdk {

namespace {

// Publish counters this often; the control thread reads once a second.
constexpr Nanos kPublishEvery = 100 * kMillisecond;
// Run the engine's timers at least this often while traffic flows (the wheel
// ticks in milliseconds; every idle iteration runs them too).
constexpr Nanos kAdvanceEvery = 20 * kMicrosecond;

ParseOptions offload_flags(const rte_mbuf* m, ParseOptions port) {
  ParseOptions o;
  o.ip_csum_verified = port.ip_csum_verified &&
                       (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
  o.l4_csum_verified = port.l4_csum_verified &&
                       (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD;
  return o;
}

// Every frame the engine builds into a lent buffer is a TCP segment with a 20-byte
// IPv4 header (build_segment); with TX offload the engine left the IPv4 checksum 0
// and seeded the TCP one with the pseudo-header sum, and the port completes both.
// Replies rewritten in place (ARP, ICMP echo) carry full software checksums and
// keep ol_flags 0.
inline void mark_tx_checksum(rte_mbuf* m, bool offload) {
  if (!offload) return;
  m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
  m->l2_len = 14;  // Ethernet header, no VLAN
  m->l3_len = 20;  // IPv4 header, no options
}

}  // namespace

Worker::~Worker() = default;

int Worker::run() {
  // Sleep quanta of tens of microseconds need a timer slack below the default 50 us.
  if (s_.backoff.enabled()) prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  try {
    const Nanos now = s_.clock.to_nanos(rte_rdtsc());
    for (uint32_t p = 0; p < s_.ports; ++p) {
      engines_[p] = std::make_unique<Engine>(*s_.config, s_.mac[p], s_.engine_seed[p], now);
      engines_[p]->set_tx_checksum_offload(s_.tx_checksum[p]);
      slot_of_port_[s_.port_id[p]] = static_cast<uint8_t>(p);
    }
    if (s_.ring != nullptr) {
      steer_out_ = std::make_unique<rte_mbuf*[]>(static_cast<size_t>(s_.workers) * s_.burst);
      steer_n_ = std::make_unique<uint32_t[]>(s_.workers);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tcpterm: lcore %u: cannot build the engine: %s\n", s_.lcore, e.what());
    s_.stop->store(true, std::memory_order_relaxed);
    return -1;
  }
  refill_spares(kSpare);
  if (count_ > 0) buf_cap_ = static_cast<uint16_t>(rte_pktmbuf_tailroom(spare_[head_]));
  else buf_cap_ = static_cast<uint16_t>(rte_pktmbuf_data_room_size(s_.pool) - RTE_PKTMBUF_HEADROOM);

  rx_intr_ = s_.backoff.enabled() && setup_rx_interrupts();
  Nanos now = s_.clock.to_nanos(rte_rdtsc());
  publish(now);
  while (!s_.stop->load(std::memory_order_relaxed)) {
    now = s_.clock.to_nanos(rte_rdtsc());
    bool did_work = false;
    poll_once(now, did_work);
    ++c_.loops;
    if (now - last_publish_ >= kPublishEvery) publish(now);
    switch (s_.backoff.next(did_work, now)) {
      case IdleBackoff::Action::poll:
        break;
      case IdleBackoff::Action::pause:
        for (int i = 0; i < 16; ++i) rte_pause();
        break;
      case IdleBackoff::Action::sleep: {
        if (rx_intr_) {
          sleep_until_rx();
        } else {
          const timespec ts{0, static_cast<long>(s_.backoff.sleep_ns())};
          nanosleep(&ts, nullptr);
        }
        ++c_.idle_sleeps;
        c_.idle_sleep_ns += s_.clock.to_nanos(rte_rdtsc()) - now;
        break;
      }
    }
  }
  flush_all();
  publish(s_.clock.to_nanos(rte_rdtsc()));
  return 0;
}

bool Worker::setup_rx_interrupts() {
  // A frame steered from another worker arrives on a ring, which cannot wake
  // an epoll wait: software steering keeps the nanosleep quanta.
  if (s_.ring != nullptr) return false;
  const uint16_t q = static_cast<uint16_t>(s_.index);
  for (uint32_t p = 0; p < s_.ports; ++p) {
    if (!s_.rx_interrupts[p]) return false;
    if (rte_eth_dev_rx_intr_ctl_q(s_.port_id[p], q, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD, nullptr) != 0)
      return false;
  }
  return true;
}

void Worker::sleep_until_rx() {
  // Arm, wait, disarm (l3fwd-power's pattern). Level-triggered queues (net_tap)
  // wake at once if a frame came in since the last poll; the 1 ms cap keeps the
  // engine's timers (millisecond ticks) running while nothing arrives.
  const uint16_t q = static_cast<uint16_t>(s_.index);
  for (uint32_t p = 0; p < s_.ports; ++p) rte_eth_dev_rx_intr_enable(s_.port_id[p], q);
  rte_epoll_event ev[kMaxPorts];
  rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, static_cast<int>(s_.ports), 1);
  for (uint32_t p = 0; p < s_.ports; ++p) rte_eth_dev_rx_intr_disable(s_.port_id[p], q);
}

void Worker::poll_once(Nanos now, bool& did_work) {
  rte_mbuf* pkts[kMaxBurst];
  const uint16_t q = static_cast<uint16_t>(s_.index);
  for (uint32_t p = 0; p < s_.ports; ++p) {
    const uint16_t n = rte_eth_rx_burst(s_.port_id[p], q, pkts, static_cast<uint16_t>(s_.burst));
    if (n == 0) continue;
    did_work = true;
    c_.rx_packets += n;
    if (s_.steer[p]) steer(pkts, n, p, now);
    else process(pkts, n, p, now);
  }
  if (s_.ring != nullptr) {
    const unsigned n = rte_ring_sc_dequeue_burst(s_.ring, reinterpret_cast<void**>(pkts), s_.burst, nullptr);
    if (n != 0) {
      did_work = true;
      c_.steered_in += n;
      process_steered(pkts, n, now);
    }
  }
  // Timers: every idle iteration, and every kAdvanceEvery under load.
  if (!did_work || now - last_advance_ >= kAdvanceEvery) {
    last_advance_ = now;
    for (uint32_t p = 0; p < s_.ports; ++p) {
      if (tx_[p].n + kLendAdvance > kPending) flush(p);
      refill_spares(kLendAdvance);
      const uint32_t avail = count_ - head_;
      TxFrames tx{spare_data_ + head_, spare_len_ + head_, avail < kLendAdvance ? avail : kLendAdvance, 0, buf_cap_};
      engines_[p]->advance(now, tx);
      for (uint32_t i = 0; i < tx.count; ++i) {
        rte_mbuf* m = spare_[head_ + i];
        m->data_len = spare_len_[head_ + i];
        m->pkt_len = m->data_len;
        mark_tx_checksum(m, s_.tx_checksum[p]);
        tx_[p].m[tx_[p].n++] = m;
      }
      head_ += tx.count;
      if (tx.count != 0) did_work = true;
    }
  }
  flush_all();
}

// Software steering: keep what this worker owns (and what is not TCP), pass the
// rest to the owners' rings in one burst per owner.
void Worker::steer(rte_mbuf** pkts, uint32_t n, uint32_t port_idx, Nanos now) {
  rte_mbuf* local[kMaxBurst];
  uint32_t nlocal = 0;
  // Per-owner staging (allocated at start: workers x burst pointers).
  rte_mbuf** const out = steer_out_.get();
  uint32_t* const nout = steer_n_.get();
  for (uint32_t i = 0; i < n && i < kPrefetch; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint32_t i = 0; i < n; ++i) {
    if (i + kPrefetch < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetch], void*));
    rte_mbuf* m = pkts[i];
    const uint32_t owner =
        steer_owner(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, s_.steer_seed, s_.workers);
    if (owner == kNotSteered || owner == s_.index) local[nlocal++] = m;
    else out[owner * s_.burst + nout[owner]++] = m;
  }
  for (uint32_t w = 0; w < s_.workers; ++w) {
    if (nout[w] == 0) continue;
    const unsigned done =
        rte_ring_mp_enqueue_burst(s_.rings[w], reinterpret_cast<void* const*>(out + w * s_.burst), nout[w], nullptr);
    c_.steered_out += done;
    if (done < nout[w]) {
      c_.steer_ring_full += nout[w] - done;
      rte_pktmbuf_free_bulk(out + w * s_.burst + done, nout[w] - done);
    }
    nout[w] = 0;
  }
  if (nlocal != 0) process(local, nlocal, port_idx, now);
}

void Worker::process_steered(rte_mbuf** pkts, uint32_t n, Nanos now) {
  // Frames from several ports may be mixed: process each run of one port together.
  uint32_t start = 0;
  while (start < n) {
    const uint16_t port = pkts[start]->port;
    uint32_t end = start + 1;
    while (end < n && pkts[end]->port == port) ++end;
    process(pkts + start, end - start, slot_of_port_[port], now);
    start = end;
  }
}

void Worker::process(rte_mbuf** pkts, uint32_t n, uint32_t p, Nanos now) {
  Engine& engine = *engines_[p];
  TxBatch& tx = tx_[p];
  rte_mbuf* to_free[kMaxBurst];
  uint64_t flow_hash[kMaxBurst];
  uint32_t nfree = 0;
  // Three passes over the burst so that memory waits overlap: the frames'
  // headers, then each 4-tuple's hash and flow-table slots, then each frame
  // with the next one's flow entry prefetched (Engine::prefetch_flow).
  for (uint32_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint32_t i = 0; i < n; ++i) {
    const rte_mbuf* m = pkts[i];
    flow_hash[i] = m->nb_segs == 1 ? engine.prefetch_flow(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len) : 0;
  }
  if (n != 0) engine.prefetch_flow_entry(flow_hash[0]);
  for (uint32_t i = 0; i < n; ++i) {
    if (i + 1 < n) engine.prefetch_flow_entry(flow_hash[i + 1]);
    rte_mbuf* m = pkts[i];
    c_.rx_bytes += m->pkt_len;
    if (m->nb_segs != 1) [[unlikely]] {
      ++c_.rx_multi_segment;
      to_free[nfree++] = m;
      continue;
    }
    if (tx.n + kLend + 1 > kPending) flush(p);
    if (count_ - head_ < kLend) refill_spares(kLend);
    const uint32_t avail = count_ - head_;
    TxFrames out{spare_data_ + head_, spare_len_ + head_, avail < kLend ? avail : kLend, 0, buf_cap_};
    uint16_t reply_len = 0;
    const RxVerdict v = engine.receive(rte_pktmbuf_mtod(m, uint8_t*), m->data_len, now, out, reply_len,
                                       offload_flags(m, s_.offload[p]), flow_hash[i]);
    for (uint32_t k = 0; k < out.count; ++k) {
      rte_mbuf* o = spare_[head_ + k];
      o->data_len = spare_len_[head_ + k];
      o->pkt_len = o->data_len;
      mark_tx_checksum(o, s_.tx_checksum[p]);
      tx.m[tx.n++] = o;
    }
    head_ += out.count;
    if (v == RxVerdict::reply_in_place) {
      // The engine rewrote the frame into its reply: send the same mbuf back.
      m->data_len = reply_len;
      m->pkt_len = reply_len;
      m->ol_flags = 0;
      tx.m[tx.n++] = m;
    } else {
      to_free[nfree++] = m;
    }
  }
  if (nfree != 0) rte_pktmbuf_free_bulk(to_free, nfree);
  if (tx.n >= s_.burst) flush(p);
}

void Worker::refill_spares(uint32_t need) {
  if (count_ - head_ >= need) return;
  // Move what is left to the front, then top up in one bulk allocation.
  uint32_t k = 0;
  for (uint32_t i = head_; i < count_; ++i, ++k) {
    spare_[k] = spare_[i];
    spare_data_[k] = spare_data_[i];
  }
  head_ = 0;
  count_ = k;
  uint32_t want = kSpare - count_;
  while (want != 0) {
    if (rte_pktmbuf_alloc_bulk(s_.pool, spare_ + count_, want) == 0) break;
    ++c_.tx_alloc_failed;
    want /= 2;  // the pool is short: take what it has, the engine counts no_tx_buffer
  }
  for (uint32_t i = count_; i < count_ + want; ++i) spare_data_[i] = rte_pktmbuf_mtod(spare_[i], uint8_t*);
  count_ += want;
}

void Worker::flush(uint32_t p) {
  TxBatch& tx = tx_[p];
  if (tx.n == 0) return;
  // Bytes are summed before the PMD owns the mbufs (net_tap frees them inside the call).
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < tx.n; ++i) bytes += tx.m[i]->pkt_len;
  uint32_t sent = 0;
  for (int tries = 0; tries < 4 && sent < tx.n; ++tries)
    sent += rte_eth_tx_burst(s_.port_id[p], static_cast<uint16_t>(s_.index), tx.m + sent,
                             static_cast<uint16_t>(tx.n - sent));
  if (sent < tx.n) {
    for (uint32_t i = sent; i < tx.n; ++i) bytes -= tx.m[i]->pkt_len;
    c_.tx_dropped += tx.n - sent;
    rte_pktmbuf_free_bulk(tx.m + sent, tx.n - sent);
  }
  c_.tx_packets += sent;
  c_.tx_bytes += bytes;
  tx.n = 0;
}

void Worker::flush_all() {
  for (uint32_t p = 0; p < s_.ports; ++p) flush(p);
}

void Worker::publish(Nanos now) {
  last_publish_ = now;
  snap_.driver = c_;
  snap_.ports = s_.ports;
  snap_.at = now;
  for (uint32_t p = 0; p < s_.ports; ++p) snap_.engine[p] = engines_[p]->stats();
  s_.slot->publish(snap_);
}

void Worker::release_mbufs() {
  for (uint32_t p = 0; p < s_.ports; ++p) {
    if (tx_[p].n != 0) rte_pktmbuf_free_bulk(tx_[p].m, tx_[p].n);
    tx_[p].n = 0;
  }
  if (count_ > head_) rte_pktmbuf_free_bulk(spare_ + head_, count_ - head_);
  head_ = count_ = 0;
  if (s_.ring != nullptr) {
    void* m[64];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst(s_.ring, m, 64, nullptr)) != 0)
      rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(m), n);
  }
}

}  // namespace tcpterm::dpdk
