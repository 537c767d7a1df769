// The control side (see control.h): per-interval statistics, telemetry, JSON.
#include "drivers/dpdk/control.h"

#include "drivers/dpdk/str_cat.h"

#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <mutex>
#include <thread>
#include <utility>

namespace tcpterm::dpdk {

namespace {

// Telemetry callbacks are plain C functions on EAL's telemetry thread, and DPDK
// cannot unregister them: they find the Control through this pointer and hold
// g_in_flight while they use it, so ~Control can clear it and wait them out.
std::atomic<Control*> g_control{nullptr};
std::atomic<int> g_in_flight{0};

struct TelemetryUse {
  Control* c;
  TelemetryUse() {
    g_in_flight.fetch_add(1);
    c = g_control.load();
  }
  ~TelemetryUse() { g_in_flight.fetch_sub(1); }
};

void add(DriverCounters& a, const DriverCounters& b) {
#define TCPTERM_X(name, help) a.name += b.name;
  TCPTERM_DRIVER_COUNTERS(TCPTERM_X)
#undef TCPTERM_X
}

DriverCounters minus(const DriverCounters& a, const DriverCounters& b) {
  DriverCounters d;
#define TCPTERM_X(name, help) d.name = a.name - b.name;
  TCPTERM_DRIVER_COUNTERS(TCPTERM_X)
#undef TCPTERM_X
  return d;
}

// Connections freed (every transition into CLOSED), listeners aside.
uint64_t closed_total(const EngineStats& s) {
  uint64_t n = 0;
  for (size_t from = 0; from < kTcpStateCount; ++from)
    if (from != state_index(TcpState::LISTEN)) n += s.transitions[from][state_index(TcpState::CLOSED)];
  return n;
}

uint64_t established_total(const EngineStats& s) {
  uint64_t n = 0;
  for (size_t from = 0; from < kTcpStateCount; ++from) n += s.transitions[from][state_index(TcpState::ESTABLISHED)];
  return n;
}

// " name=value", appended without temporaries (g++ 12 -O3 warns falsely on
// literal + std::string, -Wrestrict, GCC bug 105329).
void append_count(std::string& out, std::string_view name, uint64_t n) {
  out += ' ';
  out += name;
  out += '=';
  out += std::to_string(n);
}

std::string json_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
      continue;
    }
    o += c;
  }
  return o;
}

}  // namespace

Control::Control(Runtime& rt, const Config& cfg, const ControlOptions& opt, std::atomic<bool>& stop)
    : rt_(rt), cfg_(cfg), opt_(opt), stop_(stop), config_kv_(config_entries(cfg)) {
  link_.assign(rt.ports().size(), "");
}

Control::~Control() { detach_telemetry(); }

void Control::detach_telemetry() {
  Control* self = this;
  g_control.compare_exchange_strong(self, nullptr);
  while (g_in_flight.load() != 0) std::this_thread::yield();
}

void Control::start() {
  g_control.store(this);
  // Telemetry may be disabled (--no-telemetry): registration then fails harmlessly.
  rte_telemetry_register_cmd("/tcpterm/stats", &Control::tel_stats,
                             "tcpterm totals over all lcores: driver and engine counters, drops, mbufs");
  rte_telemetry_register_cmd("/tcpterm/states", &Control::tel_states,
                             "tcpterm connections per TCP state (netstat names), all lcores");
  rte_telemetry_register_cmd("/tcpterm/config", &Control::tel_config, "tcpterm's effective configuration");
  const int rc = rte_ctrl_thread_create(&thread_, "tcpterm-ctl", nullptr, &Control::thread_main, this);
  if (rc != 0) throw std::runtime_error(str_cat("cannot start the control thread: ", rte_strerror(rc)));
  started_ = true;
}

void Control::join() {
  if (!started_) return;
  pthread_join(thread_, nullptr);
  started_ = false;
}

void* Control::thread_main(void* self) {
  static_cast<Control*>(self)->loop();
  return nullptr;
}

Totals Control::collect() const {
  Totals t;
  std::lock_guard<std::mutex> lock(last_mu_);  // readers: control thread, telemetry, exit (never a worker)
  if (last_.size() != rt_.workers()) last_.assign(rt_.workers(), WorkerSnapshot{});
  for (uint32_t w = 0; w < rt_.workers(); ++w) {
    WorkerSnapshot s;
    // A worker rewriting its slot throughout the read keeps its last good copy, so totals never go down.
    if (rt_.read_snapshot(w, s)) last_[w] = s;
    const WorkerSnapshot& g = last_[w];
    add(t.driver, g.driver);
    for (uint32_t p = 0; p < g.ports; ++p) t.engine += g.engine[p];
    if (g.at > t.at) t.at = g.at;
  }
  t.mbufs_in_use = rt_.mbufs_in_use();
  t.mbufs_total = rt_.mbufs_total();
  return t;
}

void Control::loop() {
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  auto elapsed = [&] {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<double>(now.tv_sec - start.tv_sec) + static_cast<double>(now.tv_nsec - start.tv_nsec) * 1e-9;
  };
  Totals prev = collect();
  double prev_t = 0;
  const double interval = opt_.stats_interval > 0 ? opt_.stats_interval : 1.0;
  double next_t = interval;
  while (!stop_.load(std::memory_order_relaxed)) {
    const timespec tick{0, 50 * 1000 * 1000};
    nanosleep(&tick, nullptr);
    const double e = elapsed();
    if (opt_.duration > 0 && e >= opt_.duration) {
      stop_.store(true);
      break;
    }
    if (e < next_t) continue;
    next_t += interval;
    const Totals now = collect();
    if (opt_.stats_interval > 0) print_block(now, prev, e - prev_t, e);
    prev = now;
    prev_t = e;
  }
}

void Control::print_block(const Totals& now, const Totals& prev, double dt, double elapsed) {
  const EngineCounters& c = now.engine.counters;
  const EngineCounters& p = prev.engine.counters;
  const DriverCounters d = minus(now.driver, prev.driver);
  auto rate = [dt](uint64_t delta) { return dt > 0 ? static_cast<double>(delta) / dt : 0.0; };
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line,
                "[%7.1fs] conn/s opened %.0f (passive %.0f active %.0f) established %.0f closed %.0f | "
                "pkts/s rx %.0f tx %.0f | retrans/s %.0f | rst/s %.0f | drops/s %.0f | mbufs in use %" PRIu64
                "/%" PRIu64 "\n",
                elapsed, rate(c.passive_opens + c.active_opens - p.passive_opens - p.active_opens),
                rate(c.passive_opens - p.passive_opens), rate(c.active_opens - p.active_opens),
                rate(established_total(now.engine) - established_total(prev.engine)),
                rate(closed_total(now.engine) - closed_total(prev.engine)), rate(d.rx_packets), rate(d.tx_packets),
                rate(c.retrans_segs - p.retrans_segs), rate(c.out_rsts - p.out_rsts),
                rate(now.engine.drops.total() - prev.engine.drops.total() + d.tx_dropped + d.steer_ring_full +
                     d.rx_multi_segment),
                now.mbufs_in_use, now.mbufs_total);
  out += line;
  std::string states = format_state_distribution(now.engine);
  out += "           states:";
  if (states.empty()) out += " (no connections)";
  // One line per state in the seed's awk format, folded onto one line here.
  size_t pos = 0;
  while (pos < states.size()) {
    size_t nl = states.find('\n', pos);
    if (nl == std::string::npos) nl = states.size();
    std::string_view l(states.data() + pos, nl - pos);
    const size_t sp = l.find(' ');
    const size_t num = l.find_first_not_of(' ', sp);
    out += " ";
    out += l.substr(0, sp);
    out += "=";
    out += l.substr(num == std::string_view::npos ? l.size() : num);
    pos = nl + 1;
  }
  out += "\n";
  std::string drops;
  for (size_t i = 1; i < kDropReasonCount; ++i) {
    const uint64_t n = now.engine.drops.by_reason[i];
    if (n == 0) continue;
    append_count(drops, kDropReasonNames[i], n);
  }
  if (now.driver.tx_dropped) append_count(drops, "tx_dropped", now.driver.tx_dropped);
  if (now.driver.steer_ring_full) append_count(drops, "steer_ring_full", now.driver.steer_ring_full);
  if (now.driver.rx_multi_segment) append_count(drops, "rx_multi_segment", now.driver.rx_multi_segment);
  if (!drops.empty()) {
    out += "           drops (total):";
    out += drops;
    out += '\n';
  }
  for (size_t i = 0; i < rt_.ports().size(); ++i) {
    std::string ls = link_status(rt_.ports()[i].port_id);
    if (ls != link_[i]) {
      out += "           link ";
      out += rt_.ports()[i].name;
      out += ": ";
      out += ls;
      out += '\n';
      link_[i] = std::move(ls);
    }
  }
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

std::string Control::config_text() const {
  std::string s;
  for (const auto& [k, v] : config_kv_) s += k + " = " + v + "\n";
  return s;
}

std::string Control::stats_json(const Totals& t, double elapsed_s) const {
  std::string j = "{\n";
  char b[256];
  std::snprintf(b, sizeof b, "  \"elapsed_s\": %.3f,\n  \"workers\": %u,\n  \"software_steering\": %s,\n", elapsed_s,
                rt_.workers(), rt_.software_steering() ? "true" : "false");
  j += b;
  j += "  \"ports\": [";
  for (size_t i = 0; i < rt_.ports().size(); ++i) {
    const PortInfo& p = rt_.ports()[i];
    std::snprintf(b, sizeof b,
                  "%s{\"name\": \"%s\", \"driver\": \"%s\", \"mac\": \"%02x:%02x:%02x:%02x:%02x:%02x\", "
                  "\"rss\": %s, \"rx_checksum_offload\": %s, \"tx_checksum_offload\": %s}",
                  i ? ", " : "", json_escape(p.name).c_str(), json_escape(p.driver).c_str(), p.mac.b[0], p.mac.b[1],
                  p.mac.b[2], p.mac.b[3], p.mac.b[4], p.mac.b[5], p.rss ? "true" : "false",
                  p.rx_tcp_checksum ? "true" : "false", p.tx_checksum ? "true" : "false");
    j += b;
  }
  j += "],\n  \"driver\": {";
  bool first = true;
#define TCPTERM_X(name, help)                                                                 \
  j += std::string(first ? "" : ", ") + "\"" #name "\": " + std::to_string(t.driver.name); \
  first = false;
  TCPTERM_DRIVER_COUNTERS(TCPTERM_X)
#undef TCPTERM_X
  j += "},\n  \"engine\": {";
  for (size_t i = 0; i < kEngineCounterCount; ++i)
    j += std::string(i ? ", " : "") + "\"" + std::string(kEngineCounterNames[i]) + "\": " +
         std::to_string(t.engine.counter(i));
  j += str_cat(", \"established\": ", established_total(t.engine));
  j += str_cat(", \"closed\": ", closed_total(t.engine));
  j += "},\n  \"drops\": {";
  first = true;
  for (size_t i = 1; i < kDropReasonCount; ++i) {
    j += std::string(first ? "" : ", ") + "\"" + std::string(kDropReasonNames[i]) + "\": " +
         std::to_string(t.engine.drops.by_reason[i]);
    first = false;
  }
  j += "},\n  \"states\": {";
  for (size_t s = 0; s < kTcpStateCount; ++s)
    j += std::string(s ? ", " : "") + "\"" + std::string(kTcpStateNames[s]) + "\": " +
         std::to_string(t.engine.states[s]);
  j += "},\n  \"transitions\": {";
  first = true;
  for (size_t f = 0; f < kTcpStateCount; ++f)
    for (size_t to = 0; to < kTcpStateCount; ++to) {
      const uint64_t n = t.engine.transitions[f][to];
      if (n == 0) continue;
      j += std::string(first ? "" : ", ") + "\"" + std::string(kTcpStateNames[f]) + "->" +
           std::string(kTcpStateNames[to]) + "\": " + std::to_string(n);
      first = false;
    }
  std::snprintf(b, sizeof b,
                "},\n  \"mbufs\": {\"total\": %" PRIu64 ", \"in_use_at_start\": %" PRIu64
                ", \"in_use_after_stop\": %" PRIu64 ", \"in_use_after_close\": %" PRIu64 "}\n}\n",
                t.mbufs_total, rt_.mbufs_in_use_at_start(), rt_.mbufs_in_use_after_stop(), t.mbufs_in_use);
  j += b;
  return j;
}

// --- telemetry (the EAL telemetry thread calls these) ---

int Control::tel_stats(const char*, const char*, rte_tel_data* d) {
  const TelemetryUse use;
  if (use.c == nullptr) return -1;
  const Totals t = use.c->collect();  // fresh: a seqlock read per worker
  rte_tel_data_start_dict(d);
#define TCPTERM_X(name, help) rte_tel_data_add_dict_u64(d, #name, t.driver.name);
  TCPTERM_DRIVER_COUNTERS(TCPTERM_X)
#undef TCPTERM_X
  for (size_t i = 0; i < kEngineCounterCount; ++i)
    rte_tel_data_add_dict_u64(d, std::string(kEngineCounterNames[i]).c_str(), t.engine.counter(i));
  rte_tel_data_add_dict_u64(d, "established", established_total(t.engine));
  rte_tel_data_add_dict_u64(d, "closed", closed_total(t.engine));
  for (size_t i = 1; i < kDropReasonCount; ++i)
    if (t.engine.drops.by_reason[i] != 0)
      rte_tel_data_add_dict_u64(d, (std::string("drop_") += kDropReasonNames[i]).c_str(), t.engine.drops.by_reason[i]);
  rte_tel_data_add_dict_u64(d, "mbufs_in_use", t.mbufs_in_use);
  rte_tel_data_add_dict_u64(d, "mbufs_total", t.mbufs_total);
  rte_tel_data_add_dict_u64(d, "workers", use.c->rt_.workers());
  return 0;
}

int Control::tel_states(const char*, const char*, rte_tel_data* d) {
  const TelemetryUse use;
  if (use.c == nullptr) return -1;
  const Totals t = use.c->collect();
  rte_tel_data_start_dict(d);
  for (size_t s = 0; s < kTcpStateCount; ++s)
    rte_tel_data_add_dict_u64(d, std::string(kTcpStateNames[s]).c_str(), t.engine.states[s]);
  return 0;
}

int Control::tel_config(const char*, const char*, rte_tel_data* d) {
  const TelemetryUse use;
  if (use.c == nullptr) return -1;
  rte_tel_data_start_dict(d);
  for (const auto& [k, v] : use.c->config_kv_) {
    // Telemetry names allow [A-Za-z0-9_/] only: "tcp.fin_timeout" is sent as
    // "tcp/fin_timeout". Strings are bounded (RTE_TEL_MAX_STRING_LEN); long values are cut.
    std::string name = k;
    for (char& c : name)
      if (c == '.') c = '/';
    const std::string val = v.size() < RTE_TEL_MAX_STRING_LEN ? v : v.substr(0, RTE_TEL_MAX_STRING_LEN - 1);
    rte_tel_data_add_dict_string(d, name.c_str(), val.c_str());
  }
  return 0;
}

}  // namespace tcpterm::dpdk
