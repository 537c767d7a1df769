// Per-connection costs of the tcp satellites on the SYN and request path:
// SipHash-2-4 of a 4-tuple (byte-oriented and fixed-width), an RFC 6528 ISN,
// a SYN cookie made and checked, the timestamp-offset hash, and the HTTP
// scanner over a typical 75-byte request (whole, and one byte per call as a
// worst case). Each iteration varies the tuple so nothing is hoisted.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string_view>

#include "engine/tcp/http.h"
#include "engine/tcp/isn.h"
#include "engine/tcp/siphash.h"
#include "engine/tcp/syncookie.h"

namespace tcpterm {
namespace {

constexpr SipKey kKey{0x0123456789abcdefULL, 0x0fedcba987654321ULL};
constexpr SipKey kKey2{0x1111111122222222ULL, 0x3333333344444444ULL};

void BM_SipHashBytes12(benchmark::State& st) {
  uint8_t buf[12] = {10, 0, 0, 1, 192, 168, 0, 1, 0x1f, 0x90, 0x9c, 0x40};
  uint32_t i = 0;
  for (auto _ : st) {
    std::memcpy(buf, &i, 4);
    benchmark::DoNotOptimize(siphash24(kKey, buf, sizeof buf));
    ++i;
  }
}
BENCHMARK(BM_SipHashBytes12);

void BM_SipHash3u32(benchmark::State& st) {
  uint32_t i = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(siphash24_3u32(kKey, i, 0xc0a80001, 0x1f909c40));
    ++i;
  }
}
BENCHMARK(BM_SipHash3u32);

void BM_Isn(benchmark::State& st) {
  const IsnGenerator g(kKey);
  FlowKey k{0xc0a80001, 0x0a000001, 1024, 80};
  Nanos now = seconds(1000);
  for (auto _ : st) {
    benchmark::DoNotOptimize(g.isn(k, now));
    ++k.rport;
    now += 1000;
  }
}
BENCHMARK(BM_Isn);

void BM_TsOffset(benchmark::State& st) {
  const IsnGenerator g(kKey);
  uint32_t r = 0xc0a80001;
  for (auto _ : st) {
    benchmark::DoNotOptimize(g.ts_offset(0x0a000001, r));
    ++r;
  }
}
BENCHMARK(BM_TsOffset);

void BM_SynCookieMake(benchmark::State& st) {
  const SynCookies c(kKey, kKey2);
  FlowKey k{0xc0a80001, 0x0a000001, 1024, 80};
  uint16_t mss = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(c.make(k, 0x12345678, 1460, seconds(600), mss));
    ++k.rport;
  }
}
BENCHMARK(BM_SynCookieMake);

void BM_SynCookieCheck(benchmark::State& st) {
  const SynCookies c(kKey, kKey2);
  FlowKey k{0xc0a80001, 0x0a000001, 1024, 80};
  uint16_t mss = 0;
  const uint32_t cookie = c.make(k, 0x12345678, 1460, seconds(600), mss);
  for (auto _ : st) {
    benchmark::DoNotOptimize(c.check(k, 0x12345678, cookie, seconds(630)));
  }
}
BENCHMARK(BM_SynCookieCheck);

constexpr std::string_view kRequest =
    "GET / HTTP/1.1\r\nHost: 10.0.0.1\r\nUser-Agent: wrk\r\nConnection: keep-alive\r\n\r\n";

void BM_HttpScanRequest(benchmark::State& st) {
  const auto* p = reinterpret_cast<const uint8_t*>(kRequest.data());
  for (auto _ : st) {
    HttpScanner h;
    size_t used = 0;
    benchmark::DoNotOptimize(h.feed(p, kRequest.size(), used));
    benchmark::DoNotOptimize(h.keep_alive());
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * kRequest.size()));
}
BENCHMARK(BM_HttpScanRequest);

// bench_lifecycle's request: no Connection header, every byte skipped after the names.
constexpr std::string_view kPlainRequest = "GET / HTTP/1.1\r\nHost: 10.0.0.1\r\nUser-Agent: bench\r\n\r\n";

void BM_HttpScanPlainRequest(benchmark::State& st) {
  const auto* p = reinterpret_cast<const uint8_t*>(kPlainRequest.data());
  for (auto _ : st) {
    HttpScanner h;
    size_t used = 0;
    benchmark::DoNotOptimize(h.feed(p, kPlainRequest.size(), used));
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * kPlainRequest.size()));
}
BENCHMARK(BM_HttpScanPlainRequest);

void BM_HttpScanByteAtATime(benchmark::State& st) {
  const auto* p = reinterpret_cast<const uint8_t*>(kRequest.data());
  for (auto _ : st) {
    HttpScanner h;
    size_t used = 0;
    for (size_t i = 0; i < kRequest.size(); ++i) benchmark::DoNotOptimize(h.feed(p + i, 1, used));
  }
}
BENCHMARK(BM_HttpScanByteAtATime);

}  // namespace
}  // namespace tcpterm

BENCHMARK_MAIN();

// ---- BM_HttpScan: the request scanner before (the frozen copy in
// bench/http_scan_v0.h: byte steps with scalar runs, no body tracking) and
// after (feed_scalar: the fallback with plain loops; feed: SSE2 line path),
// over bench_lifecycle's 53-byte request (/0) and a 394-byte request with a
// browser's typical headers (/1), whole. Compare the three in one run.
#include "bench/http_scan_v0.h"

namespace tcpterm {
namespace {

constexpr std::string_view kScanRequests[] = {
    "GET / HTTP/1.1\r\nHost: 10.0.0.1\r\nUser-Agent: bench\r\n\r\n",
    "GET /index.html HTTP/1.1\r\n"
    "Host: 10.0.0.1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Cache-Control: max-age=0\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "\r\n",
};

struct ScanBefore {
  static bool run(const uint8_t* p, size_t n) {
    bench_v0::HttpScannerV0 h;
    size_t used = 0;
    return h.feed(p, n, used) == bench_v0::HttpScannerV0::Result::complete && used == n;
  }
};
struct ScanScalar {
  static bool run(const uint8_t* p, size_t n) {
    HttpScanner h;
    size_t used = 0;
    return h.feed_scalar(p, n, used) == HttpScanner::Result::complete && used == n;
  }
};
struct ScanFeed {
  static bool run(const uint8_t* p, size_t n) {
    HttpScanner h;
    size_t used = 0;
    return h.feed(p, n, used) == HttpScanner::Result::complete && used == n;
  }
};

template <class Impl>
void BM_HttpScan(benchmark::State& st) {
  const std::string_view req = kScanRequests[st.range(0)];
  const auto* p = reinterpret_cast<const uint8_t*>(req.data());
  if (!Impl::run(p, req.size())) st.SkipWithError("the request does not scan complete");
  for (auto _ : st) {
    benchmark::DoNotOptimize(p);  // reloaded each time: nothing is hoisted out of the loop
    benchmark::DoNotOptimize(Impl::run(p, req.size()));
  }
  st.SetLabel(std::to_string(req.size()) + " B");
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * req.size()));
}
BENCHMARK_TEMPLATE(BM_HttpScan, ScanBefore)->Arg(0)->Arg(1);
BENCHMARK_TEMPLATE(BM_HttpScan, ScanScalar)->Arg(0)->Arg(1);
BENCHMARK_TEMPLATE(BM_HttpScan, ScanFeed)->Arg(0)->Arg(1);

}  // namespace
}  // namespace tcpterm
