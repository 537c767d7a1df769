// The HTTP request scanner as it was before the SSE2 line path and body
// tracking (tcpterm commit 227dfea, engine/tcp/http.cc), frozen here so that
// bench_tcp_parts measures before and after in one run. Not used elsewhere.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tcpterm::bench_v0 {

struct HttpScannerV0 {
  uint32_t state = 0;
  enum class Result : uint8_t { need_more, complete, bad };
  static constexpr uint32_t kMaxRequest = 8192;
  Result feed(const uint8_t* p, size_t n, size_t& consumed);
};

namespace {

enum Phase : uint32_t {
  kRequestLine = 0,
  kLineStart = 1,
  kName = 2,
  kConnValue = 3,
  kSkipValue = 4,
  kComplete = 5,
  kBad = 6,
};

enum Token : uint32_t { kBeforeToken = 0, kKeepAlive = 1, kClose = 2, kSkipToken = 3 };

constexpr uint32_t kCountMask = (1u << 14) - 1;
constexpr unsigned kPhaseShift = 14;
constexpr unsigned kIdxShift = 17;
constexpr unsigned kTokShift = 21;
constexpr uint32_t kCr = 1u << 23;
constexpr uint32_t kSawKeepAlive = 1u << 24;
constexpr uint32_t kSawClose = 1u << 25;
constexpr uint32_t kPrevConn = 1u << 26;
constexpr uint32_t kLineNonEmpty = 1u << 27;
static_assert(HttpScannerV0::kMaxRequest <= kCountMask);

constexpr std::string_view kConnection = "connection";
constexpr std::string_view kKeepAliveTok = "keep-alive";
constexpr std::string_view kCloseTok = "close";
constexpr uint32_t kNoMatch = 15;  // idx value: the header name is not "connection"

inline uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c | 0x20) : c; }
inline bool is_ows(uint8_t c) { return c == ' ' || c == '\t'; }
// Control bytes other than HT (CR and LF are handled before this test) and DEL.
inline bool is_ctl(uint8_t c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

inline uint32_t phase_of(uint32_t s) { return (s >> kPhaseShift) & 7; }

}  // namespace

inline HttpScannerV0::Result HttpScannerV0::feed(const uint8_t* p, size_t n, size_t& consumed) {
  uint32_t s = state;
  uint32_t phase = phase_of(s);
  consumed = 0;
  if (phase == kComplete) return Result::complete;
  if (phase == kBad) return Result::bad;

  uint32_t count = s & kCountMask;
  uint32_t idx = (s >> kIdxShift) & 15;
  uint32_t tok = (s >> kTokShift) & 3;
  uint32_t flags = s & (kCr | kSawKeepAlive | kSawClose | kPrevConn | kLineNonEmpty);

  // A Connection token ends (at ',', whitespace or the line end): record it if it matched whole.
  auto end_token = [&] {
    if (tok == kKeepAlive && idx == kKeepAliveTok.size()) flags |= kSawKeepAlive;
    if (tok == kClose && idx == kCloseTok.size()) flags |= kSawClose;
  };

  size_t i = 0;
  Result result = Result::need_more;
  for (; i < n; ++i) {
    // Fast path: in the request line and in values we do not read, plain
    // printable bytes only count. Stops before the size limit, at a control
    // byte (CR, LF, HT, ...) and at a pending CR, which the full step handles.
    if ((phase == kRequestLine || phase == kSkipValue) && !(flags & kCr)) {
      const size_t stop = i + std::min<size_t>(n - i, kMaxRequest - count);
      const size_t start = i;
      while (i < stop && p[i] >= 0x20 && p[i] != 0x7f) ++i;
      if (i != start) {
        count += static_cast<uint32_t>(i - start);
        flags |= kLineNonEmpty;
        if (i == n) break;
      }
      // The CRLF that ends the line, and the CRLF that may end the header,
      // in one step each when both bytes are here and within the limit.
      if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n' && count + 2 <= kMaxRequest) {
        if (phase == kSkipValue || (flags & kLineNonEmpty)) phase = kLineStart;  // else an empty leading line
        flags &= ~kLineNonEmpty;
        count += 2;
        i += 2;
        if (phase == kLineStart && i + 1 < n && p[i] == '\r' && p[i + 1] == '\n' &&
            count + 2 <= kMaxRequest) {
          count += 2;
          i += 2;
          phase = kComplete;
          result = Result::complete;
          break;
        }
        if (i == n) break;
        --i;  // the loop's ++i brings us to the next line's first byte
        continue;
      }
    } else if (phase == kName && idx == kNoMatch) {
      // The rest of a header name that is not Connection: up to the colon.
      const size_t stop = i + std::min<size_t>(n - i, kMaxRequest - count);
      const size_t start = i;
      while (i < stop && p[i] > 0x20 && p[i] != ':' && p[i] != 0x7f) ++i;
      count += static_cast<uint32_t>(i - start);
      if (i == n) break;
    }
    if (count >= kMaxRequest) [[unlikely]] {
      phase = kBad;
      result = Result::bad;
      ++i;  // the byte past the limit is the offending one
      break;
    }
    ++count;
    const uint8_t c = p[i];

    if (flags & kCr) {
      if (c != '\n') [[unlikely]] {  // bare CR
        phase = kBad;
        result = Result::bad;
        ++i;
        break;
      }
      flags &= ~kCr;
    } else if (c == '\r') {
      flags |= kCr;
      continue;
    }

    if (c == '\n') {
      // A line ends.
      switch (phase) {
        case kRequestLine:
          if (flags & kLineNonEmpty) phase = kLineStart;  // else: an empty line before the request
          break;
        case kLineStart:  // the empty line that ends the header
          phase = kComplete;
          result = Result::complete;
          break;
        case kName:  // a header line without a colon
          phase = kBad;
          result = Result::bad;
          break;
        case kConnValue:
          end_token();
          tok = kBeforeToken;
          idx = 0;
          phase = kLineStart;
          break;
        default:  // kSkipValue
          phase = kLineStart;
          break;
      }
      flags &= ~kLineNonEmpty;
      if (phase == kComplete || phase == kBad) {
        ++i;
        break;
      }
      continue;
    }

    if (is_ctl(c)) [[unlikely]] {
      phase = kBad;
      result = Result::bad;
      ++i;
      break;
    }
    flags |= kLineNonEmpty;

    switch (phase) {
      case kRequestLine:
        break;
      case kLineStart:
        if (is_ows(c)) {
          // obs-fold: the line continues the previous header's value (read as a space).
          if (flags & kPrevConn) {
            phase = kConnValue;
            tok = kBeforeToken;
            idx = 0;
          } else {
            phase = kSkipValue;
          }
          break;
        }
        flags &= ~kPrevConn;
        phase = kName;
        idx = 0;
        [[fallthrough]];
      case kName:
        if (c == ':') {
          if (idx == kConnection.size()) {
            phase = kConnValue;
            flags |= kPrevConn;
            tok = kBeforeToken;
            idx = 0;
          } else {
            phase = kSkipValue;
          }
        } else if (is_ows(c)) [[unlikely]] {  // RFC 9112 5.1: no whitespace before the colon
          phase = kBad;
          result = Result::bad;
        } else if (idx < kConnection.size() && lower(c) == static_cast<uint8_t>(kConnection[idx])) {
          ++idx;
        } else {
          idx = kNoMatch;
        }
        break;
      case kConnValue:
        if (c == ',') {
          end_token();
          tok = kBeforeToken;
          idx = 0;
        } else if (is_ows(c)) {
          if (tok != kBeforeToken) {
            end_token();
            tok = kSkipToken;
          }
        } else {
          const uint8_t l = lower(c);
          if (tok == kBeforeToken) {
            tok = l == 'k' ? kKeepAlive : l == 'c' ? kClose : kSkipToken;
            idx = tok == kSkipToken ? 0 : 1;
          } else if (tok == kKeepAlive) {
            if (idx < kKeepAliveTok.size() && l == static_cast<uint8_t>(kKeepAliveTok[idx])) {
              ++idx;
            } else {
              tok = kSkipToken;
            }
          } else if (tok == kClose) {
            if (idx < kCloseTok.size() && l == static_cast<uint8_t>(kCloseTok[idx])) {
              ++idx;
            } else {
              tok = kSkipToken;
            }
          } else {
            // kSkipToken: a token that is neither, or junk after a token's trailing space.
          }
          if (tok == kSkipToken) idx = 0;
        }
        break;
      default:  // kSkipValue
        break;
    }
    if (phase == kBad) {
      ++i;
      break;
    }
  }
  consumed = i;
  state = (count & kCountMask) | (phase << kPhaseShift) | ((idx & 15) << kIdxShift) |
          ((tok & 3) << kTokShift) | flags;
  return result;
}


}  // namespace tcpterm::bench_v0
