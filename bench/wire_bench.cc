// engine/wire benchmarks: the per-packet parse, the SYN-ACK build, checksums
// and the RFC 1624 incremental update. Each reports ns per operation
// (items/s is its inverse). Frames are the real Linux captures used by
// tests/engine/wire; the parse benches run over a ring of 64 copies so the
// loads are not all from one hot line, with checksums verified in software
// (the worst case: no NIC offload) unless the name says "offload".
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/wire/build.h"
#include "engine/wire/bytes.h"
#include "engine/wire/checksum.h"
#include "engine/wire/frame.h"
#include "tests/engine/wire/wire_test_util.h"

namespace tcpterm {
namespace {

using wire_test::from_hex;

constexpr size_t kRing = 64;

// kRing copies of a frame at 128-byte strides (as in an mbuf pool, roughly).
struct FrameRing {
  std::vector<uint8_t> mem;
  size_t len;
  explicit FrameRing(const std::vector<uint8_t>& f) : mem(kRing * 128), len(f.size()) {
    for (size_t i = 0; i < kRing; ++i) std::memcpy(mem.data() + i * 128, f.data(), f.size());
  }
  const uint8_t* at(size_t i) const { return mem.data() + (i % kRing) * 128; }
};

void run_parse(benchmark::State& state, const std::vector<uint8_t>& frame, ParseOptions opts) {
  const FrameRing ring(frame);
  ParsedFrame p;
  size_t i = 0;
  for (auto _ : state) {
    const DropReason r = parse_frame(ring.at(i++), ring.len, p, opts);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(p);
  }
  if (parse_frame(ring.at(0), ring.len, p, opts) != DropReason::none) state.SkipWithError("frame did not parse");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Linux SYN: MSS, SACK-permitted, timestamps, window scale (74 bytes).
void BM_ParseSynWithOptions(benchmark::State& state) {
  run_parse(state, from_hex(wire_test::kLinuxSyn), {});
}
BENCHMARK(BM_ParseSynWithOptions);

void BM_ParseSynWithOptions_offload(benchmark::State& state) {
  run_parse(state, from_hex(wire_test::kLinuxSyn), {.ip_csum_verified = true, .l4_csum_verified = true});
}
BENCHMARK(BM_ParseSynWithOptions_offload);

// A pure ACK without options in a minimum-size frame: 54 bytes padded to 60
// (64 on the wire with the FCS).
std::vector<uint8_t> pure_ack_64() {
  TcpSegmentSpec s{};
  s.eth_src = MacAddr{{2, 0, 0, 0, 0, 1}};
  s.eth_dst = MacAddr{{2, 0, 0, 0, 0, 2}};
  s.ip_src = ipv4(10, 0, 0, 1);
  s.ip_dst = ipv4(10, 0, 0, 2);
  s.sport = 40000;
  s.dport = 80;
  s.seq = 1000;
  s.ack = 2000;
  s.flags = tcp_flags::ACK;
  s.window = 502;
  std::vector<uint8_t> f(60, 0);
  if (build_tcp_frame(f.data(), f.size(), s) != 54) f.clear();
  return f;
}

void BM_ParsePureAck64(benchmark::State& state) { run_parse(state, pure_ack_64(), {}); }
BENCHMARK(BM_ParsePureAck64);

void BM_ParsePureAck64_offload(benchmark::State& state) {
  run_parse(state, pure_ack_64(), {.ip_csum_verified = true, .l4_csum_verified = true});
}
BENCHMARK(BM_ParsePureAck64_offload);

// Linux ACK with NOP NOP TS (66 bytes): the shape of most established-state segments.
void BM_ParseAckWithTimestamps(benchmark::State& state) { run_parse(state, from_hex(wire_test::kLinuxAck), {}); }
BENCHMARK(BM_ParseAckWithTimestamps);

// The SYN-ACK a listener sends: MSS + SACK-permitted + timestamps + window
// scale, both checksums computed (74 bytes).
void BM_BuildSynAck(benchmark::State& state) {
  TcpSegmentSpec s{};
  s.eth_src = MacAddr{{2, 0, 0, 0, 0, 2}};
  s.eth_dst = MacAddr{{2, 0, 0, 0, 0, 1}};
  s.ip_src = ipv4(10, 0, 0, 2);
  s.ip_dst = ipv4(10, 0, 0, 1);
  s.sport = 80;
  s.dport = 40000;
  s.flags = tcp_flags::SYN | tcp_flags::ACK;
  s.window = 65160;
  s.opts = {.has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7, .sack_permitted = true,
            .has_timestamps = true, .tsval = 1, .tsecr = 2};
  std::vector<uint8_t> ring(kRing * 128);
  size_t i = 0;
  for (auto _ : state) {
    s.seq += 0x9e3779b9u;  // each reply differs, as real ones do
    s.ack = s.seq ^ 0x5bd1e995u;
    s.opts.tsval += 1;
    s.dport = static_cast<uint16_t>(40000 + (i & 1023));
    const size_t n = build_tcp_frame(ring.data() + (i++ % kRing) * 128, 128, s);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_BuildSynAck);

// csum_add + csum_fold over 20 (IPv4 header), 60 (largest TCP header) and
// 1460 (MSS) bytes.
void BM_Checksum(benchmark::State& state) {
  const size_t len = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> buf(len);
  std::mt19937 rng(1);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    const uint16_t c = csum_fold(csum_add(0, buf.data(), len));
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}
BENCHMARK(BM_Checksum)->Arg(20)->Arg(60)->Arg(1460);

// The inline 20-byte IPv4 header path used by the parser.
void BM_Ipv4HeaderChecksum(benchmark::State& state) {
  const auto f = from_hex(wire_test::kLinuxSyn);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.data());
    const uint16_t c = ipv4_header_csum(f.data() + 14, 20);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Ipv4HeaderChecksum);

// RFC 1624 update of a TCP checksum after rewriting a 32-bit field (e.g. the
// sequence number) and a 16-bit one (the window).
void BM_ChecksumIncrementalUpdate(benchmark::State& state) {
  uint16_t c = 0x3a38;
  uint32_t seq = 521082227u;
  uint16_t win = 64240;
  for (auto _ : state) {
    const uint32_t nseq = seq + 0x9e3779b9u;
    const auto nwin = static_cast<uint16_t>(win + 1);
    c = csum_update32(c, seq, nseq);
    c = csum_update16(c, win, nwin);
    seq = nseq;
    win = nwin;
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ChecksumIncrementalUpdate);

}  // namespace
}  // namespace tcpterm

BENCHMARK_MAIN();
