// A tiny incremental HTTP/1.x request-header scanner for the `http` application.
//
// The terminator does not need the request, only where its header ends and
// whether the client asked to keep the connection: so instead of buffering
// the header (8 KiB per connection) the scanner is a byte-at-a-time state
// machine whose whole state packs into one uint32_t inside the Tcb, and a
// request split across any number of segments, at any byte, scans the same.
//
// State word layout (bits):
//   0..13  bytes of this request seen so far (<= kMaxRequest = 8192)
//  14..16  phase: request line, line start, header name, Connection value,
//          other value, complete, bad
//  17..20  match index: chars of "connection" matched in a header name, or
//          chars of the current token matched in a Connection value
//  21..22  token state in a Connection value: before a token, matching
//          "keep-alive", matching "close", skipping to the next comma
//  23      a CR was seen: the next byte must be LF
//  24      "keep-alive" listed        25  "close" listed
//  26      the previous header was Connection (for obs-fold continuation lines)
//  27      the current line is not empty (leading empty lines are skipped, RFC 9112 2.2)
//
// Lines end with CRLF or a bare LF (RFC 9112 2.2 lets a recipient accept it);
// a bare CR, a control byte, whitespace or a line end in a header name, or a
// header larger than 8 KiB make the request bad (nginx answers 400 or 414/431
// there; the application closes). keep_alive() is true only when a Connection
// header lists "keep-alive" and none lists "close" (tcpterm answers like nginx
// with keep-alive off unless the client asks). Message bodies are not
// tracked: the scanner is for GET/HEAD-style requests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tcpterm {

struct HttpScanner {
  uint32_t state = 0;

  enum class Result : uint8_t { need_more, complete, bad };
  static constexpr uint32_t kMaxRequest = 8192;

  // Scans n bytes at p. consumed is set to the bytes that belong to this
  // request: all n while need_more, up to and including the final LF when
  // complete (the rest is the next, pipelined request), and the bytes up to
  // and including the offending one when bad. Once complete or bad, further
  // calls consume nothing and return the same result until reset().
  Result feed(const uint8_t* p, size_t n, size_t& consumed);

  bool keep_alive() const;      // a Connection header listed keep-alive, none close; never when bad
  bool complete() const;
  bool bad() const;
  uint32_t bytes_seen() const;  // bytes of this request scanned so far
  void reset() { state = 0; }   // start the next request on the same connection
};

// The whole response (status line, headers, body of body_size bytes) that a
// listener prebuilds once and sends for every request: not on the packet path.
std::string make_http_response(uint32_t body_size, bool keep_alive);

}  // namespace tcpterm
