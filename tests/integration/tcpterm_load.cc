// tcpterm-load: the load client of the integration tests and the main run. The
// Linux kernel's own TCP stack is the client: every connection is a real
// non-blocking socket, driven by one epoll loop per thread; the threads'
// tallies meet in tbb::combinable (off any packet path: this is a test tool).
//
// Modes, each a whole lifecycle per connection:
//   http      connect, send one GET, read the response to EOF (the server closes
//             first, so TIME_WAIT stays on the server), check "HTTP/1.1 200", close.
//   echo      connect, send --payload bytes, shutdown(SHUT_WR) (half-close), read
//             the echo to EOF, check it byte for byte, close.
//   rst       connect, send one GET, then close with SO_LINGER {1, 0}: an RST.
//   discard   connect, send --payload bytes, shutdown(SHUT_WR), wait for the
//             server's FIN (EOF), close.
// Output: one JSON object on stdout (counts, errors by kind, rate, latency).
// Exit status 0 when every connection completed as its mode requires, else 1.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <oneapi/tbb/combinable.h>

namespace {

enum class Mode { http, echo, rst, discard };

struct Options {
  std::string addr = "198.18.0.2";
  uint16_t port = 80;
  Mode mode = Mode::http;
  uint64_t connections = 1000;
  uint32_t concurrency = 64;
  uint32_t threads = 1;
  uint32_t payload = 1000;
  double timeout_s = 10;
  std::string bind_addr;  // optional source address
};

double now_s() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct Tally {
  uint64_t started = 0, connected = 0, completed = 0, failed = 0;
  std::map<std::string, uint64_t> errors;
  std::vector<double> latency_us;  // connect() to done, per completed connection
  void error(const std::string& why) {
    ++failed;
    ++errors[why];
  }
};

struct Conn {
  int fd = -1;
  double start = 0;
  bool connected = false;
  bool shut = false;
  size_t sent = 0;
  std::string in;
};

const std::string kRequest = "GET / HTTP/1.1\r\nHost: tcpterm\r\nUser-Agent: tcpterm-load\r\n\r\n";

uint8_t pattern(size_t i) { return static_cast<uint8_t>('a' + (i * 7 + i / 251) % 26); }

class Loop {
 public:
  Loop(const Options& o, uint64_t quota, uint32_t concurrency, Tally& t)
      : o_(o), quota_(quota), conc_(concurrency), t_(t) {
    payload_.resize(o.payload);
    for (size_t i = 0; i < payload_.size(); ++i) payload_[i] = static_cast<char>(pattern(i));
    std::memset(&dst_, 0, sizeof dst_);
    dst_.sin_family = AF_INET;
    dst_.sin_port = htons(o.port);
    inet_pton(AF_INET, o.addr.c_str(), &dst_.sin_addr);
  }

  void run() {
    ep_ = epoll_create1(0);
    conns_.resize(conc_);
    for (uint32_t i = 0; i < conc_ && launched_ < quota_; ++i) open(i);
    epoll_event ev[256];
    while (active_ > 0) {
      const int n = epoll_wait(ep_, ev, 256, 100);
      for (int k = 0; k < n; ++k) step(ev[k].data.u32, ev[k].events);
      // Timeouts: a connection older than timeout_s fails.
      const double now = now_s();
      if (now - last_sweep_ > 0.1) {
        last_sweep_ = now;
        for (uint32_t i = 0; i < conc_; ++i)
          if (conns_[i].fd >= 0 && now - conns_[i].start > o_.timeout_s)
            finish(i, conns_[i].connected ? "timeout" : "connect_timeout");
      }
    }
    close(ep_);
  }

 private:
  void open(uint32_t i) {
    Conn& c = conns_[i];
    c = Conn{};
    ++launched_;
    ++t_.started;
    c.start = now_s();
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      t_.error(std::string("socket:") + std::strerror(errno));
      return after(i);
    }
    if (!o_.bind_addr.empty()) {
      sockaddr_in src{};
      src.sin_family = AF_INET;
      inet_pton(AF_INET, o_.bind_addr.c_str(), &src.sin_addr);
      bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&dst_), sizeof dst_);
    if (rc < 0 && errno != EINPROGRESS) {
      return finish(i, std::string("connect:") + std::strerror(errno));
    }
    ++active_;
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    ev.data.u32 = i;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  // Starts the next connection in slot i if the quota allows.
  void after(uint32_t i) {
    if (launched_ < quota_) open(i);
  }

  void finish(uint32_t i, const std::string& error) {
    Conn& c = conns_[i];
    if (c.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
      c.fd = -1;
      --active_;
    }
    if (error.empty()) {
      ++t_.completed;
      t_.latency_us.push_back((now_s() - c.start) * 1e6);
    } else {
      t_.error(error);
    }
    after(i);
  }

  void want(uint32_t i, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u32 = i;
    epoll_ctl(ep_, EPOLL_CTL_MOD, conns_[i].fd, &ev);
  }

  void step(uint32_t i, uint32_t events) {
    Conn& c = conns_[i];
    if (c.fd < 0) return;
    if (!c.connected) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return finish(i, std::string("connect:") + std::strerror(err));
      if (!(events & EPOLLOUT)) return;
      c.connected = true;
      ++t_.connected;
    }
    if (o_.mode == Mode::rst) {
      const ssize_t w = send(c.fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN) return finish(i, std::string("send:") + std::strerror(errno));
      linger lg{1, 0};  // abortive close: the kernel sends RST
      setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      return finish(i, "");
    }
    const std::string_view out = o_.mode == Mode::http ? std::string_view(kRequest) : std::string_view(payload_);
    while (c.sent < out.size()) {
      const ssize_t w = send(c.fd, out.data() + c.sent, out.size() - c.sent, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN) break;
        return finish(i, std::string("send:") + std::strerror(errno));
      }
      c.sent += static_cast<size_t>(w);
    }
    if (c.sent == out.size() && !c.shut) {
      if (o_.mode == Mode::echo || o_.mode == Mode::discard) shutdown(c.fd, SHUT_WR);  // half-close
      c.shut = true;
      want(i, EPOLLIN | EPOLLRDHUP);
    }
    char buf[16384];
    for (;;) {
      const ssize_t r = recv(c.fd, buf, sizeof buf, 0);
      if (r > 0) {
        c.in.append(buf, static_cast<size_t>(r));
        if (c.in.size() > (1u << 22)) return finish(i, "response_too_large");
        continue;
      }
      if (r == 0) return done(i);  // the server's FIN
      if (errno == EAGAIN) return;
      return finish(i, std::string("recv:") + std::strerror(errno));
    }
  }

  void done(uint32_t i) {
    Conn& c = conns_[i];
    switch (o_.mode) {
      case Mode::http:
        if (c.in.rfind("HTTP/1.1 200", 0) != 0) return finish(i, "bad_http_response");
        break;
      case Mode::echo:
        if (c.in != payload_) return finish(i, c.in.size() == payload_.size() ? "echo_mismatch" : "echo_short");
        break;
      case Mode::discard:
        if (!c.in.empty()) return finish(i, "discard_sent_data");
        break;
      case Mode::rst:
        break;
    }
    finish(i, "");
  }

  const Options& o_;
  uint64_t quota_;
  uint32_t conc_;
  Tally& t_;
  std::string payload_;
  sockaddr_in dst_{};
  int ep_ = -1;
  std::vector<Conn> conns_;
  uint64_t launched_ = 0;
  uint64_t active_ = 0;
  double last_sweep_ = 0;
};

[[noreturn]] void usage(const char* why) {
  if (why) std::fprintf(stderr, "tcpterm-load: %s\n", why);
  std::fprintf(stderr,
               "usage: tcpterm-load [--addr A] [--port P] [--mode http|echo|rst|discard] [--connections N]\n"
               "                    [--concurrency C] [--threads T] [--payload BYTES] [--timeout S] [--bind A]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--addr") o.addr = val();
    else if (a == "--port") o.port = static_cast<uint16_t>(std::stoul(val()));
    else if (a == "--mode") {
      const std::string m = val();
      if (m == "http") o.mode = Mode::http;
      else if (m == "echo") o.mode = Mode::echo;
      else if (m == "rst") o.mode = Mode::rst;
      else if (m == "discard") o.mode = Mode::discard;
      else usage("unknown mode");
    } else if (a == "--connections") o.connections = std::stoull(val());
    else if (a == "--concurrency") o.concurrency = static_cast<uint32_t>(std::stoul(val()));
    else if (a == "--threads") o.threads = static_cast<uint32_t>(std::stoul(val()));
    else if (a == "--payload") o.payload = static_cast<uint32_t>(std::stoul(val()));
    else if (a == "--timeout") o.timeout_s = std::stod(val());
    else if (a == "--bind") o.bind_addr = val();
    else if (a == "--help" || a == "-h") usage(nullptr);
    else usage(("unknown option " + a).c_str());
  }
  if (o.threads == 0 || o.concurrency == 0) usage("threads and concurrency must be at least 1");
  o.threads = std::min<uint32_t>(o.threads, o.concurrency);

  tbb::combinable<Tally> tallies;
  const double t0 = now_s();
  // One OS thread per epoll loop, so the loops really run at once (a TBB
  // parallel_for may run blocking bodies one after another); their tallies meet
  // in tbb::combinable, one per thread, summed once at the end.
  std::vector<std::thread> threads;
  for (uint32_t th = 0; th < o.threads; ++th)
    threads.emplace_back([&, th] {
      const uint64_t quota = o.connections / o.threads + (th < o.connections % o.threads ? 1 : 0);
      const uint32_t conc = o.concurrency / o.threads + (th < o.concurrency % o.threads ? 1 : 0);
      Loop loop(o, quota, std::max<uint32_t>(conc, 1), tallies.local());
      loop.run();
    });
  for (std::thread& t : threads) t.join();
  const double elapsed = now_s() - t0;

  Tally all;
  tallies.combine_each([&](const Tally& t) {
    all.started += t.started;
    all.connected += t.connected;
    all.completed += t.completed;
    all.failed += t.failed;
    for (const auto& [k, v] : t.errors) all.errors[k] += v;
    all.latency_us.insert(all.latency_us.end(), t.latency_us.begin(), t.latency_us.end());
  });
  std::sort(all.latency_us.begin(), all.latency_us.end());
  auto pct = [&](double p) {
    if (all.latency_us.empty()) return 0.0;
    return all.latency_us[std::min(all.latency_us.size() - 1, static_cast<size_t>(p * static_cast<double>(all.latency_us.size())))];
  };
  const char* modes[] = {"http", "echo", "rst", "discard"};
  std::printf("{\"mode\": \"%s\", \"connections\": %lu, \"started\": %lu, \"connected\": %lu, \"completed\": %lu, "
              "\"failed\": %lu, \"elapsed_s\": %.3f, \"conn_per_s\": %.1f, \"latency_us\": {\"p50\": %.1f, "
              "\"p99\": %.1f, \"max\": %.1f}, \"errors\": {",
              modes[static_cast<int>(o.mode)], static_cast<unsigned long>(o.connections),
              static_cast<unsigned long>(all.started), static_cast<unsigned long>(all.connected),
              static_cast<unsigned long>(all.completed), static_cast<unsigned long>(all.failed), elapsed,
              elapsed > 0 ? static_cast<double>(all.completed) / elapsed : 0.0, pct(0.5), pct(0.99),
              all.latency_us.empty() ? 0.0 : all.latency_us.back());
  bool first = true;
  for (const auto& [k, v] : all.errors) {
    std::printf("%s\"%s\": %lu", first ? "" : ", ", k.c_str(), static_cast<unsigned long>(v));
    first = false;
  }
  std::printf("}}\n");
  return all.completed == o.connections ? 0 : 1;
}
