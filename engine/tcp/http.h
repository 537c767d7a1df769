// A tiny incremental HTTP/1.x request scanner for the `http` application.
//
// The terminator does not need the request, only where it ends and whether
// the client asked to keep the connection: so instead of buffering the header
// (8 KiB per connection) the scanner is a state machine whose whole state is
// 8 bytes inside the Tcb, and a request split across any number of segments,
// at any byte, scans the same.
//
// Header. Lines end with CRLF or a bare LF (RFC 9112 2.2 lets a recipient
// accept it); a bare CR, a control byte, whitespace or a line end in a header
// name, or a header larger than 8 KiB make the request bad (nginx answers
// 400 or 414/431 there; the application closes). keep_alive() is true only
// when a Connection header lists "keep-alive" and none lists "close" (tcpterm
// answers like nginx with keep-alive off unless the client asks).
//
// Body (RFC 9112 6.3), as nginx discards it when it answers a fixed response
// (ngx_http_discard_request_body): feed() reports complete at the end of the
// header, the response goes out at once, and next() makes the scanner skip the
// body before the next request starts:
//   Content-Length   1*DIGIT with optional whitespace around, at most
//                    kMaxContentLength (what the state can count); the bytes
//                    are counted down across segments.
//   Transfer-Encoding  must be exactly "chunked" (any case; nginx answers 501
//                    to anything else, we close): the chunked framing is
//                    decoded to its end (RFC 9112 7.1: chunk sizes in hex up to
//                    kMaxContentLength each, extensions skipped, the trailer
//                    section skipped, each chunk line and the trailer within
//                    8 KiB). Decoding is chosen over "Connection: close" since
//                    it costs no more state than a Content-Length and keeps
//                    keep-alive clients (and pipelining) working.
// Bad, as nginx's ngx_http_process_request_header: a Content-Length that is
// not digits or too large, a second Content-Length (nginx rejects duplicates
// whatever their values: so two different values, RFC 9112 6.3, are rejected),
// a second Transfer-Encoding, both Content-Length and Transfer-Encoding (RFC
// 9112 6.1 allows treating it as an error), an obs-fold continuing either.
//
// State (two words; the layout is in http.cc): `state` holds the header's
// byte count, phase, name/token matcher and flags; `body` the Content-Length
// or chunk size being read, then the body bytes still to skip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tcpterm {

struct HttpScanner {
  uint32_t state = 0;
  uint32_t body = 0;

  enum class Result : uint8_t { need_more, complete, bad };
  static constexpr uint32_t kMaxRequest = 8192;
  static constexpr uint32_t kMaxContentLength = 0xffffffffu;

  // Scans n bytes at p. consumed is set to the bytes that belong to this
  // request (including the body of the previous one being skipped, after
  // next()): all n while need_more, up to and including the header's final
  // LF when complete (the rest is the body or the next, pipelined request),
  // and the bytes up to and including the offending one when bad. Once
  // complete or bad, further calls consume nothing and return the same
  // result until next() or reset().
  // feed() takes whole well-formed lines at a time with SSE2 where the target
  // has it; feed_scalar() is the same with plain loops (the fallback), and
  // feed_bytewise() steps the state machine one byte at a time: the three
  // give the same results, consumed counts and states (the tests check it).
  Result feed(const uint8_t* p, size_t n, size_t& consumed);
  Result feed_scalar(const uint8_t* p, size_t n, size_t& consumed);
  Result feed_bytewise(const uint8_t* p, size_t n, size_t& consumed);

  bool keep_alive() const;      // a Connection header listed keep-alive, none close; never when bad
  bool complete() const;
  bool bad() const;
  bool has_body() const;        // complete, with a non-empty Content-Length or chunked body
  bool in_body() const;         // after next(): skipping a body whose end has not arrived yet
  uint32_t bytes_seen() const;  // bytes of this request's header (or current chunk line) scanned so far
  // After complete: the next request, once this one's body has been skipped.
  void next();
  void reset() { state = 0; body = 0; }  // start afresh (drops any body still to skip)
};

// The whole response (status line, headers, body of body_size bytes) that a
// listener prebuilds once and sends for every request: not on the packet path.
std::string make_http_response(uint32_t body_size, bool keep_alive);

}  // namespace tcpterm
