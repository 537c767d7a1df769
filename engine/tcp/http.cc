// HTTP/1.x request scanner: see http.h for what it accepts.
//
// `state` bits:
//   0..13  bytes of this header seen so far (<= kMaxRequest); in the body:
//          bytes of the current chunk line, or of the trailer section
//  14..17  phase (Phase below)
//  18..23  matcher: in a header name, how much of "connection" (1..10),
//          "content-length" (16 + 4..14, sharing "con") or "transfer-encoding"
//          (32 + 1..17) matched, 63 none; in a Connection value the token
//          state (2 bits) and chars matched (4 bits); in a Content-Length or
//          Transfer-Encoding value its small state; in a chunk size, bit 0:
//          a hex digit was seen
//  24  a CR was seen: the next byte must be LF
//  25  "keep-alive" listed      26  "close" listed
//  27..28  the previous header (for obs-fold lines): 1 Connection,
//          2 Content-Length or Transfer-Encoding (folding those is bad)
//  29  the current line is not empty (leading empty lines are skipped, RFC 9112 2.2)
//  30  a Content-Length header was seen   31  a Transfer-Encoding header was seen
// `body`: the Content-Length or chunk size being read, then the bytes left.
//
// The machine is written once, as the byte step in feed_impl; the fast
// modes add shortcuts in front of it that take whole runs of bytes (a
// well-formed header line whose name is none of the three, a value's
// printable run, a body's bytes) and leave exactly the state the byte steps
// would have left. Every shortcut declines whatever it does not fully
// understand (a fold, a bare CR, the limit, a line not yet complete), and
// the byte step then handles it, so errors are found at the same byte.
// SSE2 classifies 16 bytes at a time (two classes: line-ending controls, and
// name ends), tails by an overlapping load ending at the buffer's end: header
// lines are mostly under 32 bytes, so wider loads would not pay, and a 64-byte
// classification shared by several lines measured slower than a load or two
// per line (bench_tcp_parts BM_HttpScan).
#include "engine/tcp/http.h"

#include <algorithm>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tcpterm {

namespace {

enum Phase : uint32_t {
  kRequestLine = 0,
  kLineStart = 1,
  kName = 2,
  kConnValue = 3,
  kSkipValue = 4,
  kClValue = 5,
  kTeValue = 6,
  kComplete = 7,
  kBad = 8,
  kBody = 9,           // Content-Length bytes left in body
  kChunkSize = 10,     // chunk-size hex digits
  kChunkExt = 11,      // chunk-ext, skipped to the line end
  kChunkData = 12,     // chunk-data bytes left in body
  kChunkDataEnd = 13,  // the CRLF after chunk-data
  kTrailerStart = 14,  // a trailer line starts: the empty line ends the body
  kTrailer = 15,       // inside a trailer field line
};

enum Token : uint32_t { kBeforeToken = 0, kKeepAlive = 1, kClose = 2, kSkipToken = 3 };

constexpr uint32_t kCountMask = (1u << 14) - 1;
constexpr unsigned kPhaseShift = 14;
constexpr unsigned kMatchShift = 18;
constexpr uint32_t kCr = 1u << 24;
constexpr uint32_t kSawKeepAlive = 1u << 25;
constexpr uint32_t kSawClose = 1u << 26;
constexpr unsigned kPrevShift = 27;
constexpr uint32_t kPrevMask = 3u << kPrevShift;
constexpr uint32_t kPrevConn = 1u << kPrevShift;
constexpr uint32_t kPrevFraming = 2u << kPrevShift;
constexpr uint32_t kLineNonEmpty = 1u << 29;
constexpr uint32_t kHasContentLength = 1u << 30;
constexpr uint32_t kHasTransferEncoding = 1u << 31;
constexpr uint32_t kFlagsMask = ~((1u << 24) - 1);
static_assert(HttpScanner::kMaxRequest <= kCountMask);

constexpr std::string_view kConnection = "connection";
constexpr std::string_view kContentLength = "content-length";
constexpr std::string_view kTransferEncoding = "transfer-encoding";
constexpr std::string_view kKeepAliveTok = "keep-alive";
constexpr std::string_view kCloseTok = "close";
constexpr std::string_view kChunked = "chunked";

// Header-name matcher values.
constexpr uint32_t kMatchCl = 16;  // + chars of "content-length" matched (from 4)
constexpr uint32_t kMatchTe = 32;  // + chars of "transfer-encoding" matched
constexpr uint32_t kNoMatch = 63;
constexpr uint32_t kIsConnection = kConnection.size();
constexpr uint32_t kIsContentLength = kMatchCl + kContentLength.size();
constexpr uint32_t kIsTransferEncoding = kMatchTe + kTransferEncoding.size();
// Content-Length value: before the digits, in them, after them.
constexpr uint32_t kClBefore = 0, kClDigits = 1, kClAfter = 2;
// Transfer-Encoding value: before "chunked", kTeToken + chars matched, after it.
constexpr uint32_t kTeBefore = 0, kTeToken = 8, kTeAfter = 16;

inline uint8_t lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c | 0x20) : c; }
inline bool is_ows(uint8_t c) { return c == ' ' || c == '\t'; }
// Control bytes other than HT, and DEL: never in a line (CR and LF end it).
inline bool is_ctl(uint8_t c) { return (c < 0x20 && c != '\t') || c == 0x7f; }
// Bytes that end a header name's run: whitespace, controls, DEL, the colon.
inline bool ends_name(uint8_t c) { return c <= 0x20 || c == ':' || c == 0x7f; }
inline int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  const uint8_t l = static_cast<uint8_t>(c | 0x20);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

// n bytes at p are word w in any case. Only for words of letters and '-' over
// bytes with no control among them: then c | 0x20 lowers exactly.
inline bool equals_lower(const uint8_t* p, size_t n, std::string_view w) {
  if (n != w.size()) return false;
  for (size_t k = 0; k < n; ++k) {
    if ((p[k] | 0x20) != static_cast<uint8_t>(w[k])) return false;
  }
  return true;
}

uint32_t phase_of(uint32_t s) { return (s >> kPhaseShift) & 15; }

// One more char of a header name: the next matcher value.
uint32_t name_step(uint32_t m, uint8_t l) {
  if (m < kMatchCl) {
    if (m == 0 && l == 't') return kMatchTe + 1;
    if (m == 3 && l == 't') return kMatchCl + 4;  // "cont": content-length, not connection
    return m < kConnection.size() && l == static_cast<uint8_t>(kConnection[m]) ? m + 1 : kNoMatch;
  }
  if (m < kMatchTe) {
    const uint32_t k = m - kMatchCl;
    return k < kContentLength.size() && l == static_cast<uint8_t>(kContentLength[k]) ? m + 1 : kNoMatch;
  }
  const uint32_t k = m - kMatchTe;
  return k < kTransferEncoding.size() && l == static_cast<uint8_t>(kTransferEncoding[k]) ? m + 1 : kNoMatch;
}

enum class Mode { bytewise, scalar, simd };

// The first index in [i, lim) whose byte is in the class (is_ctl or
// ends_name), or lim. p[0, lim) must be readable: the SSE2 tail reads the
// last 16 bytes before lim (bytes before i included, never past lim), so no
// byte outside the caller's buffer is ever touched.
template <Mode kMode, bool kName>
inline size_t find_stop(const uint8_t* p, size_t i, size_t lim) {
#if defined(__SSE2__)
  if constexpr (kMode == Mode::simd) {
    auto mask = [](__m128i v) -> uint32_t {
      const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
      if constexpr (kName) {
        const __m128i le20 = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v);
        const __m128i colon = _mm_cmpeq_epi8(v, _mm_set1_epi8(':'));
        return static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(le20, colon), del)));
      } else {
        const __m128i lt20 = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        const __m128i ht = _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'));
        return static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(ht, lt20), del)));
      }
    };
    while (i + 16 <= lim) {
      const uint32_t m = mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
      if (m != 0) return i + static_cast<size_t>(__builtin_ctz(m));
      i += 16;
    }
    if (i < lim && lim >= 16) {
      const uint32_t m = mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + lim - 16))) >>
                         (16 - (lim - i));
      return m != 0 ? i + static_cast<size_t>(__builtin_ctz(m)) : lim;
    }
  }
#endif
  if constexpr (kName) {
    while (i < lim && !ends_name(p[i])) ++i;
  } else {
    while (i < lim && !is_ctl(p[i])) ++i;
  }
  return i;
}

// Where the line whose value (or request line) runs from i ends: the index of
// its LF, when the bytes up to it are free of controls other than HT and a CR
// comes only right before the LF; or lim (decline) otherwise.
template <Mode kMode>
inline size_t find_line_end(const uint8_t* p, size_t i, size_t lim) {
  const size_t k = find_stop<kMode, false>(p, i, lim);
  if (k == lim) return lim;
  if (p[k] == '\n') return k;
  if (p[k] == '\r' && k + 1 < lim && p[k + 1] == '\n') return k + 1;
  return lim;
}

}  // namespace

template <Mode kMode>
static HttpScanner::Result feed_impl(HttpScanner& h, const uint8_t* p, size_t n, size_t& consumed) {
  using Result = HttpScanner::Result;
  constexpr uint32_t kMaxRequest = HttpScanner::kMaxRequest;
  const uint32_t s = h.state;
  uint32_t phase = phase_of(s);
  consumed = 0;
  if (phase == kComplete) return Result::complete;
  if (phase == kBad) return Result::bad;

  uint32_t count = s & kCountMask;
  uint32_t m = (s >> kMatchShift) & 63;
  uint32_t flags = s & kFlagsMask;
  uint32_t body = h.body;

  size_t i = 0;
  Result result = Result::need_more;
  while (i < n) {
    // ---- Shortcuts (not in bytewise mode): each takes a run of bytes or declines.
    if constexpr (kMode != Mode::bytewise) {
      if (phase == kBody || phase == kChunkData) {
        const uint32_t k = static_cast<uint32_t>(std::min<size_t>(body, n - i));
        i += k;
        body -= k;
        if (body == 0) {
          if (phase == kBody) {  // the body is skipped: the next request starts
            phase = kRequestLine;
            count = m = flags = 0;
          } else {
            phase = kChunkDataEnd;
          }
        }
        continue;
      }
      if (!(flags & kCr)) {
        const size_t lim = i + std::min<size_t>(n - i, kMaxRequest - count);
        if (phase == kLineStart || (phase == kRequestLine && !(flags & kLineNonEmpty))) {
          // A whole line, from its first byte to its LF.
          if (phase == kLineStart && (p[i] == '\n' || (p[i] == '\r' && i + 1 < lim && p[i + 1] == '\n'))) {
            // The empty line that ends the header.
            const size_t len = p[i] == '\n' ? 1 : 2;
            if (len <= lim - i) {
              count += static_cast<uint32_t>(len);
              i += len;
              flags &= ~kLineNonEmpty;
              phase = kComplete;
              result = Result::complete;
              break;
            }
          } else if (phase == kRequestLine) {
            const size_t e = find_line_end<kMode>(p, i, lim);
            if (e != lim) {
              count += static_cast<uint32_t>(e + 1 - i);
              const bool empty = e == i || (e == i + 1 && p[i] == '\r');
              if (!empty) phase = kLineStart;  // else an empty line before the request
              i = e + 1;
              continue;
            }
          } else if (!is_ows(p[i])) {  // a header line, not an obs-fold
            const size_t colon = find_stop<kMode, true>(p, i, lim);
            const size_t len = colon - i;
            const uint8_t first = static_cast<uint8_t>(p[i] | 0x20);
            // Connection, Content-Length and Transfer-Encoding go to the byte steps.
            const bool special = (len == kConnection.size() || len == kContentLength.size() ||
                                  len == kTransferEncoding.size()) &&
                                 (first == 'c' || first == 't');
            if (colon != lim && p[colon] == ':') {
              const size_t e = find_line_end<kMode>(p, colon + 1, lim);
              uint32_t add = 0;  // what the line adds to the flags
              bool take = !special;
              if (special && e != lim && equals_lower(p + i, len, kConnection)) {
                // "Connection: keep-alive" or "close" alone, the common case;
                // a token list goes to the byte steps.
                size_t a = colon + 1, b = p[e - 1] == '\r' ? e - 1 : e;
                while (a < b && is_ows(p[a])) ++a;
                while (b > a && is_ows(p[b - 1])) --b;
                if (equals_lower(p + a, b - a, kKeepAliveTok)) {
                  take = true;
                  add = kPrevConn | kSawKeepAlive;
                } else if (equals_lower(p + a, b - a, kCloseTok)) {
                  take = true;
                  add = kPrevConn | kSawClose;
                }
              }
              if (take && e != lim) {
                count += static_cast<uint32_t>(e + 1 - i);
                flags = (flags & ~(kPrevMask | kLineNonEmpty)) | add;
                m = 0;
                i = e + 1;
                continue;
              }
            }
          }
        } else if (phase == kRequestLine || phase == kSkipValue || phase == kChunkExt || phase == kTrailer) {
          // The rest of a line we do not read: up to its CR or LF.
          const size_t k = find_stop<kMode, false>(p, i, lim);
          if (k != i) {
            count += static_cast<uint32_t>(k - i);
            flags |= kLineNonEmpty;
            i = k;
            if (i == n) break;
          }
        } else if (phase == kName && m == kNoMatch) {
          // The rest of a header name that is none of ours: up to the colon.
          const size_t k = find_stop<kMode, true>(p, i, lim);
          count += static_cast<uint32_t>(k - i);
          i = k;
          if (i == n) break;
        }
      }
    }

    // ---- The byte step.
    const uint8_t c = p[i];
    if (phase == kBody) {  // (bytewise mode only: the shortcut takes these)
      ++i;
      if (--body == 0) {
        phase = kRequestLine;
        count = m = flags = 0;
      }
      continue;
    }
    if (phase == kChunkData) {
      ++i;
      if (--body == 0) phase = kChunkDataEnd;
      continue;
    }
    ++i;
    if (count >= kMaxRequest) [[unlikely]] {  // this byte is past the limit
      phase = kBad;
      break;
    }
    ++count;

    if (flags & kCr) {
      if (c != '\n') [[unlikely]] {  // bare CR
        phase = kBad;
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
          break;
        case kName:  // a header line without a colon
          phase = kBad;
          break;
        case kConnValue: {
          const uint32_t tok = m >> 4, idx = m & 15;
          if (tok == kKeepAlive && idx == kKeepAliveTok.size()) flags |= kSawKeepAlive;
          if (tok == kClose && idx == kCloseTok.size()) flags |= kSawClose;
          phase = kLineStart;
          break;
        }
        case kClValue:
          phase = m == kClBefore ? kBad : kLineStart;  // no digits
          break;
        case kTeValue:
          phase = (m == kTeToken + kChunked.size() || m == kTeAfter) ? kLineStart : kBad;
          break;
        case kChunkSize:
          if (!(m & 1)) {
            phase = kBad;
            break;
          }
          [[fallthrough]];
        case kChunkExt:
          // The chunk line ends: its data, or after the last chunk the trailer.
          phase = body == 0 ? kTrailerStart : kChunkData;
          count = 0;
          break;
        case kChunkDataEnd:
          phase = kChunkSize;
          count = 0;
          break;
        case kTrailerStart:  // the empty line that ends the chunked body: the next request starts
          phase = kRequestLine;
          count = 0;
          flags = 0;
          break;
        case kTrailer:
          phase = kTrailerStart;
          break;
        default:  // kSkipValue
          phase = kLineStart;
          break;
      }
      flags &= ~kLineNonEmpty;
      m = 0;
      if (phase == kComplete || phase == kBad) break;
      continue;
    }

    if (is_ctl(c)) [[unlikely]] {
      phase = kBad;
      break;
    }
    flags |= kLineNonEmpty;

    switch (phase) {
      case kRequestLine:
      case kSkipValue:
      case kChunkExt:
      case kTrailer:
        break;
      case kLineStart:
        if (is_ows(c)) {
          // obs-fold: the line continues the previous header's value (read as a space).
          const uint32_t prev = flags & kPrevMask;
          if (prev == kPrevConn) {
            phase = kConnValue;
            m = 0;
          } else if (prev == kPrevFraming) {  // a folded Content-Length or Transfer-Encoding
            phase = kBad;
          } else {
            phase = kSkipValue;
          }
          break;
        }
        flags &= ~kPrevMask;
        phase = kName;
        m = 0;
        [[fallthrough]];
      case kName:
        if (c == ':') {
          if (m == kIsConnection) {
            phase = kConnValue;
            flags |= kPrevConn;
          } else if (m == kIsContentLength) {
            // nginx: "duplicate header line", "Content-Length and Transfer-Encoding".
            if (flags & (kHasContentLength | kHasTransferEncoding)) {
              phase = kBad;
              break;
            }
            phase = kClValue;
            flags |= kHasContentLength | kPrevFraming;
            body = 0;
          } else if (m == kIsTransferEncoding) {
            if (flags & (kHasContentLength | kHasTransferEncoding)) {
              phase = kBad;
              break;
            }
            phase = kTeValue;
            flags |= kHasTransferEncoding | kPrevFraming;
          } else {
            phase = kSkipValue;
          }
          m = 0;
        } else if (is_ows(c)) [[unlikely]] {  // RFC 9112 5.1: no whitespace before the colon
          phase = kBad;
        } else if (m != kNoMatch) {
          m = name_step(m, lower(c));
        }
        break;
      case kConnValue: {
        uint32_t tok = m >> 4, idx = m & 15;
        auto end_token = [&] {
          if (tok == kKeepAlive && idx == kKeepAliveTok.size()) flags |= kSawKeepAlive;
          if (tok == kClose && idx == kCloseTok.size()) flags |= kSawClose;
        };
        if (c == ',') {
          end_token();
          tok = kBeforeToken;
          idx = 0;
        } else if (is_ows(c)) {
          if (tok != kBeforeToken) {
            end_token();
            tok = kSkipToken;
            idx = 0;
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
        m = (tok << 4) | idx;
        break;
      }
      case kClValue:
        // RFC 9110 8.6: Content-Length = 1*DIGIT (nginx's ngx_atoof: nothing else).
        if (c >= '0' && c <= '9' && m != kClAfter) {
          const uint32_t d = c - '0';
          if (body > (HttpScanner::kMaxContentLength - d) / 10) {
            phase = kBad;  // too large to count
            break;
          }
          body = body * 10 + d;
          m = kClDigits;
        } else if (is_ows(c)) {
          if (m == kClDigits) m = kClAfter;
        } else {
          phase = kBad;
        }
        break;
      case kTeValue: {
        const uint8_t l = lower(c);
        if (is_ows(c)) {
          if (m == kTeToken + kChunked.size()) {
            m = kTeAfter;
          } else if (m != kTeBefore && m != kTeAfter) {
            phase = kBad;
          }
        } else if (m == kTeBefore && l == 'c') {
          m = kTeToken + 1;
        } else if (m > kTeToken && m < kTeToken + kChunked.size() &&
                   l == static_cast<uint8_t>(kChunked[m - kTeToken])) {
          ++m;
        } else {
          phase = kBad;  // a coding other than chunked alone (nginx: 501)
        }
        break;
      }
      case kChunkSize: {
        const int d = hex_value(c);
        if (d >= 0) {
          if (body > (HttpScanner::kMaxContentLength >> 4)) {
            phase = kBad;  // nginx: "invalid chunked body" past its limit
            break;
          }
          body = (body << 4) | static_cast<uint32_t>(d);
          m = 1;
        } else if ((m & 1) && (c == ';' || is_ows(c))) {
          phase = kChunkExt;  // chunk-ext = *( BWS ";" ... ): skipped, as nginx
          m = 0;
        } else {
          phase = kBad;
        }
        break;
      }
      case kChunkDataEnd:  // chunk-data must be followed by its CRLF
        phase = kBad;
        break;
      case kTrailerStart:
        phase = kTrailer;
        break;
      default:
        break;
    }
    if (phase == kBad) break;
  }
  if (phase == kComplete) {
    result = Result::complete;
  } else if (phase == kBad) {
    result = Result::bad;
  }
  consumed = i;
  h.state = (count & kCountMask) | (phase << kPhaseShift) | ((m & 63) << kMatchShift) | flags;
  h.body = body;
  return result;
}

HttpScanner::Result HttpScanner::feed(const uint8_t* p, size_t n, size_t& consumed) {
#if defined(__SSE2__)
  return feed_impl<Mode::simd>(*this, p, n, consumed);
#else
  return feed_impl<Mode::scalar>(*this, p, n, consumed);
#endif
}

HttpScanner::Result HttpScanner::feed_scalar(const uint8_t* p, size_t n, size_t& consumed) {
  return feed_impl<Mode::scalar>(*this, p, n, consumed);
}

HttpScanner::Result HttpScanner::feed_bytewise(const uint8_t* p, size_t n, size_t& consumed) {
  return feed_impl<Mode::bytewise>(*this, p, n, consumed);
}

bool HttpScanner::keep_alive() const {
  return (state & kSawKeepAlive) != 0 && (state & kSawClose) == 0 && phase_of(state) != kBad;
}
bool HttpScanner::complete() const { return phase_of(state) == kComplete; }
bool HttpScanner::bad() const { return phase_of(state) == kBad; }
bool HttpScanner::has_body() const {
  return complete() && ((state & kHasTransferEncoding) || ((state & kHasContentLength) && body != 0));
}
bool HttpScanner::in_body() const { return phase_of(state) >= kBody; }
uint32_t HttpScanner::bytes_seen() const { return state & kCountMask; }

void HttpScanner::next() {
  if (!complete()) {
    reset();
  } else if (state & kHasTransferEncoding) {
    state = kChunkSize << kPhaseShift;
    body = 0;
  } else if ((state & kHasContentLength) && body != 0) {
    state = kBody << kPhaseShift;  // body: the Content-Length, counted down
  } else {
    reset();
  }
}

std::string make_http_response(uint32_t body_size, bool keep_alive) {
  std::string r;
  r.reserve(128 + body_size);
  r += "HTTP/1.1 200 OK\r\nServer: tcpterm\r\nContent-Type: text/plain\r\nContent-Length: ";
  r += std::to_string(body_size);
  r += keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  // A recognisable body: the alphabet repeated, ending with a newline.
  for (uint32_t i = 0; i < body_size; ++i) {
    r += (i + 1 == body_size) ? '\n' : static_cast<char>('a' + i % 26);
  }
  return r;
}

}  // namespace tcpterm
