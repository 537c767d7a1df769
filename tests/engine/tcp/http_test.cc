// The incremental HTTP request scanner of the `http` application: headers,
// bodies (Content-Length, chunked), malformed framing, the three feed modes
// against each other and against the old scanner; then the application over
// the engine, segment in, exact segment out.
#include "engine/tcp/http.h"

#include <gtest/gtest.h>

#include "bench/http_scan_v0.h"
#include "tests/engine/tcp/tcp_test_util.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace tcpterm {
namespace {

using R = HttpScanner::Result;

const uint8_t* bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

struct Outcome {
  R result;
  size_t consumed;
  bool keep_alive;
  bool operator==(const Outcome&) const = default;
};

Outcome scan(std::string_view s) {
  HttpScanner h;
  size_t consumed = 0;
  const R r = h.feed(bytes(s), s.size(), consumed);
  return {r, consumed, h.keep_alive()};
}

// Feeds s in pieces cut at the given sizes (the last piece takes the rest), as
// segments arrive; returns the outcome with consumed summed over the calls.
Outcome scan_split(std::string_view s, std::initializer_list<size_t> cuts) {
  HttpScanner h;
  size_t total = 0, pos = 0;
  R r = R::need_more;
  auto piece = [&](size_t len) {
    size_t consumed = 0;
    r = h.feed(bytes(s.substr(pos)), len, consumed);
    EXPECT_LE(consumed, len);
    total += consumed;
    pos += len;
  };
  for (size_t c : cuts) {
    if (r != R::need_more) break;
    piece(c);
  }
  if (r == R::need_more) piece(s.size() - pos);
  return {r, total, h.keep_alive()};
}

const std::string kGet = "GET / HTTP/1.1\r\nHost: 10.0.0.1\r\nUser-Agent: wrk\r\n\r\n";

TEST(HttpScanner, CompleteAtTheEmptyLine) {
  const Outcome o = scan(kGet);
  EXPECT_EQ(o.result, R::complete);
  EXPECT_EQ(o.consumed, kGet.size());
  EXPECT_FALSE(o.keep_alive);  // HTTP/1.1 without Connection: answered as nginx with keep-alive off
}

TEST(HttpScanner, NeedsMoreUntilTheEmptyLine) {
  for (size_t n = 0; n < kGet.size(); ++n) {
    HttpScanner h;
    size_t consumed = 99;
    EXPECT_EQ(h.feed(bytes(kGet), n, consumed), R::need_more) << n;
    EXPECT_EQ(consumed, n);
    EXPECT_EQ(h.bytes_seen(), n);
  }
}

TEST(HttpScanner, ConnectionKeepAliveInAnyCase) {
  for (std::string_view hdr : {"Connection: keep-alive", "connection: keep-alive",
                               "CONNECTION: KEEP-ALIVE", "Connection: Keep-Alive",
                               "cOnNeCtIoN:keep-ALIVE", "Connection:   keep-alive   ",
                               "Connection: Upgrade, keep-alive", "Connection: keep-alive,Upgrade",
                               "Connection: ,, keep-alive ,", "Connection: TE,\tkeep-alive"}) {
    const std::string req = "GET / HTTP/1.1\r\nHost: a\r\n" + std::string(hdr) + "\r\n\r\n";
    const Outcome o = scan(req);
    EXPECT_EQ(o.result, R::complete) << hdr;
    EXPECT_EQ(o.consumed, req.size()) << hdr;
    EXPECT_TRUE(o.keep_alive) << hdr;
  }
}

TEST(HttpScanner, NotKeepAliveUnlessListedWhole) {
  for (std::string_view hdr : {"Connection: close", "CONNECTION: CLOSE", "Connection: Close",
                               "Connection: keep-alive, close", "Connection: close, keep-alive",
                               "Connection: keep-alivex", "Connection: xkeep-alive",
                               "Connection: keep-aliv", "Connection: keep alive",
                               "Connection: upgrade", "Connection:", "X-Connection: keep-alive",
                               "Connectionx: keep-alive", "Connectio: keep-alive",
                               "Keep-Alive: timeout=5", "Proxy-Connection: keep-alive",
                               "User-Agent: keep-alive"}) {
    const std::string req = "GET / HTTP/1.1\r\nHost: a\r\n" + std::string(hdr) + "\r\n\r\n";
    const Outcome o = scan(req);
    EXPECT_EQ(o.result, R::complete) << hdr;
    EXPECT_FALSE(o.keep_alive) << hdr;
  }
  // Two Connection headers: close anywhere wins.
  EXPECT_FALSE(scan("GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_TRUE(scan("GET / HTTP/1.1\r\nConnection: te\r\nConnection: keep-alive\r\n\r\n").keep_alive);
}

TEST(HttpScanner, Http10) {
  // HTTP/1.0 closes unless the client asks for keep-alive (RFC 9112 9.3).
  const std::string plain = "GET /index.html HTTP/1.0\r\n\r\n";
  EXPECT_EQ(scan(plain), (Outcome{R::complete, plain.size(), false}));
  const std::string ka = "GET /index.html HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
  EXPECT_EQ(scan(ka), (Outcome{R::complete, ka.size(), true}));
  const std::string head = "HEAD / HTTP/1.0\r\nUser-Agent: ab/2.3\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(scan(head), (Outcome{R::complete, head.size(), false}));
}

TEST(HttpScanner, SplitAtEveryByteBoundary) {
  for (const std::string& req :
       {kGet, std::string("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, Keep-Alive\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
        std::string("GET / HTTP/1.0\nConnection: keep-alive\n\n")}) {
    const Outcome whole = scan(req);
    ASSERT_EQ(whole.result, R::complete);
    for (size_t a = 0; a <= req.size(); ++a) {
      EXPECT_EQ(scan_split(req, {a}), whole) << "cut at " << a << " of " << req;
      for (size_t b = 0; a + b <= req.size(); b += 3) {
        EXPECT_EQ(scan_split(req, {a, b}), whole) << "cuts " << a << "," << b;
      }
    }
    // One byte per segment.
    HttpScanner h;
    size_t total = 0;
    R r = R::need_more;
    for (size_t i = 0; i < req.size(); ++i) {
      ASSERT_EQ(r, R::need_more);
      size_t consumed = 0;
      r = h.feed(bytes(req) + i, 1, consumed);
      EXPECT_EQ(consumed, 1u);
      total += consumed;
    }
    EXPECT_EQ((Outcome{r, total, h.keep_alive()}), whole);
  }
}

TEST(HttpScanner, PipelinedRequestsConsumeOnlyTheirOwnBytes) {
  const std::string first = "GET /a HTTP/1.1\r\nConnection: keep-alive\r\n\r\n";
  const std::string second = "GET /b HTTP/1.1\r\nConnection: close\r\n\r\n";
  const std::string both = first + second + "GET /c";
  HttpScanner h;
  size_t consumed = 0;
  EXPECT_EQ(h.feed(bytes(both), both.size(), consumed), R::complete);
  EXPECT_EQ(consumed, first.size());
  EXPECT_TRUE(h.keep_alive());
  // Done: nothing more is consumed until reset().
  size_t again = 7;
  EXPECT_EQ(h.feed(bytes(both) + consumed, both.size() - consumed, again), R::complete);
  EXPECT_EQ(again, 0u);
  EXPECT_TRUE(h.complete());
  h.reset();
  size_t off = consumed;
  EXPECT_EQ(h.feed(bytes(both) + off, both.size() - off, consumed), R::complete);
  EXPECT_EQ(consumed, second.size());
  EXPECT_FALSE(h.keep_alive());
  h.reset();
  off += consumed;
  EXPECT_EQ(h.feed(bytes(both) + off, both.size() - off, consumed), R::need_more);
  EXPECT_EQ(consumed, 6u);
}

TEST(HttpScanner, BareLineFeedsAndLeadingEmptyLines) {
  EXPECT_EQ(scan("GET / HTTP/1.1\nHost: a\n\n").result, R::complete);
  EXPECT_EQ(scan("GET / HTTP/1.1\r\nHost: a\n\r\n").result, R::complete);
  // RFC 9112 2.2: empty lines before the request line are ignored, not taken as the end.
  const std::string lead = "\r\n\r\nGET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n";
  EXPECT_EQ(scan(lead), (Outcome{R::complete, lead.size(), true}));
}

TEST(HttpScanner, ObsFoldContinuesTheConnectionHeader) {
  EXPECT_TRUE(scan("GET / HTTP/1.1\r\nConnection: te,\r\n keep-alive\r\n\r\n").keep_alive);
  EXPECT_FALSE(scan("GET / HTTP/1.1\r\nConnection: keep-alive,\r\n\tclose\r\n\r\n").keep_alive);
  // A folded line under another header does not count.
  EXPECT_FALSE(scan("GET / HTTP/1.1\r\nX-A: b\r\n keep-alive\r\n\r\n").keep_alive);
  EXPECT_FALSE(scan("GET / HTTP/1.1\r\nConnection: te\r\nX-A: b\r\n keep-alive\r\n\r\n").keep_alive);
}

TEST(HttpScanner, MalformedIsBad) {
  struct Case { std::string req; size_t consumed; };
  for (const Case& c : {Case{"GET / HTTP/1.1\rX", 16},                      // bare CR
                        Case{"GET / HTTP/1.1\r\nHosta\r\n\r\n", 23},        // no colon
                        Case{"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 21},     // space before colon
                        Case{std::string("GET / HT\0P/1.1\r\n\r\n", 18), 9},  // NUL
                        Case{"GET / HTTP/1.1\r\nX: \x7f\r\n\r\n", 20},      // DEL
                        Case{"GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", 21}}) {  // control byte
    HttpScanner h;
    size_t consumed = 0;
    EXPECT_EQ(h.feed(bytes(c.req), c.req.size(), consumed), R::bad) << c.req;
    EXPECT_EQ(consumed, c.consumed) << c.req;
    EXPECT_TRUE(h.bad());
    EXPECT_FALSE(h.keep_alive());
    // Bad stays bad.
    EXPECT_EQ(h.feed(bytes(kGet), kGet.size(), consumed), R::bad);
    EXPECT_EQ(consumed, 0u);
  }
}

TEST(HttpScanner, OversizedIsBad) {
  // Exactly 8 KiB including the final CRLF is fine; one byte more is not.
  const std::string head = "GET / HTTP/1.1\r\nConnection: keep-alive\r\nX-Pad: ";
  const size_t pad = HttpScanner::kMaxRequest - head.size() - 4;
  const std::string fits = head + std::string(pad, 'p') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), HttpScanner::kMaxRequest);
  EXPECT_EQ(scan(fits), (Outcome{R::complete, fits.size(), true}));
  const std::string over = head + std::string(pad + 1, 'p') + "\r\n\r\n";
  const Outcome o = scan(over);
  EXPECT_EQ(o.result, R::bad);
  EXPECT_EQ(o.consumed, HttpScanner::kMaxRequest + 1);
  EXPECT_FALSE(o.keep_alive);
  // The same, arriving in 1000-byte segments.
  HttpScanner h;
  R r = R::need_more;
  size_t pos = 0;
  while (r == R::need_more && pos < over.size()) {
    size_t consumed = 0;
    const size_t n = std::min<size_t>(1000, over.size() - pos);
    r = h.feed(bytes(over) + pos, n, consumed);
    pos += consumed;
  }
  EXPECT_EQ(r, R::bad);
  EXPECT_EQ(pos, HttpScanner::kMaxRequest + 1);
  // A huge request line, or header name, hits the limit at the same byte.
  for (const std::string& big : {"GET /" + std::string(9000, 'a'),
                                 "GET / HTTP/1.1\r\n" + std::string(9000, 'X') + ": y\r\n\r\n",
                                 "GET / HTTP/1.1\r\nConnection: " + std::string(9000, 'k')}) {
    const Outcome b = scan(big);
    EXPECT_EQ(b.result, R::bad);
    EXPECT_EQ(b.consumed, HttpScanner::kMaxRequest + 1);
  }
  // Endless empty lines before a request line also hit the limit.
  const std::string blank(HttpScanner::kMaxRequest + 10, '\n');
  EXPECT_EQ(scan(blank).result, R::bad);
}

// Random inputs, scanned whole, one byte per call and in random pieces: the
// multi-byte fast paths (whole calls) must agree with the byte-at-a-time
// steps exactly, and nothing may read past the buffer (ASan in CI).
void check_random_input(const std::string& s, std::mt19937& rng) {
  auto buf = std::make_unique<uint8_t[]>(s.size() + 1);  // exactly sized for ASan
  std::copy(s.begin(), s.end(), buf.get());
  HttpScanner h;
  size_t consumed = 0;
  const R r = h.feed(buf.get(), s.size(), consumed);
  ASSERT_LE(consumed, s.size());
  if (r == R::need_more) {
    ASSERT_EQ(consumed, s.size());
  }
  for (int mode = 0; mode < 2; ++mode) {
    HttpScanner g;
    R rg = R::need_more;
    size_t pos = 0, total = 0;
    while (pos < s.size() && rg == R::need_more) {
      const size_t piece = mode == 0 ? 1 : std::min<size_t>(s.size() - pos, 1 + rng() % 9);
      auto chunk = std::make_unique<uint8_t[]>(piece);
      std::copy(buf.get() + pos, buf.get() + pos + piece, chunk.get());
      size_t c = 0;
      rg = g.feed(chunk.get(), piece, c);
      ASSERT_LE(c, piece);
      total += c;
      pos += piece;
    }
    ASSERT_EQ(rg, r) << "mode " << mode << ": " << s;
    ASSERT_EQ(total, consumed) << "mode " << mode << ": " << s;
    ASSERT_EQ(g.keep_alive(), h.keep_alive()) << "mode " << mode << ": " << s;
    ASSERT_EQ(g.bytes_seen(), h.bytes_seen()) << "mode " << mode << ": " << s;
  }
}

TEST(HttpScanner, RandomBytesAgreeWhateverTheSplit) {
  std::mt19937 rng(7);
  const std::string alphabet = "GETHP/1. \r\n:keep-alivcosCKAnx\t\x01,";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s(rng() % 64, ' ');
    for (char& ch : s) ch = alphabet[rng() % alphabet.size()];
    check_random_input(s, rng);
    if (HasFatalFailure()) return;
  }
}

TEST(HttpScanner, RandomRequestsAgreeWhateverTheSplit) {
  // Requests assembled from the pieces real ones are made of, so that line
  // ends, Connection headers, folds and the final empty line are common.
  std::mt19937 rng(11);
  const std::vector<std::string> pieces = {
      "GET / HTTP/1.1", "GET /index.html HTTP/1.0", "\r\n", "\r\n", "\r\n", "\n", "\r", "Host: a",
      "Connection:", "connection: ", " keep-alive", "Keep-Alive", "close", ",", " ", "\t", "X-Y: z",
      "Connection: keep-alive\r\n", "Connection: close\r\n", "Connectio", "n: ", "\r\n\r\n", "\x7f"};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    const size_t n = rng() % 12;
    for (size_t i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
    check_random_input(s, rng);
    if (HasFatalFailure()) return;
  }
}

TEST(HttpResponse, ExactBytes) {
  EXPECT_EQ(make_http_response(0, false),
            "HTTP/1.1 200 OK\r\nServer: tcpterm\r\nContent-Type: text/plain\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(make_http_response(5, true),
            "HTTP/1.1 200 OK\r\nServer: tcpterm\r\nContent-Type: text/plain\r\n"
            "Content-Length: 5\r\nConnection: keep-alive\r\n\r\nabcd\n");
  const std::string big = make_http_response(100000, false);
  const size_t hdr_end = big.find("\r\n\r\n");
  ASSERT_NE(hdr_end, std::string::npos);
  EXPECT_EQ(big.size() - hdr_end - 4, 100000u);
  EXPECT_NE(big.find("Content-Length: 100000\r\n"), std::string::npos);
  // Our own response is a well-formed header for our own scanner.
  EXPECT_EQ(scan(make_http_response(3, true)).result, R::complete);
}

// ---- Request bodies, and the three feed modes.

enum class FeedMode { fast, scalar, bytewise };

R feed_with(HttpScanner& h, FeedMode mode, const uint8_t* p, size_t n, size_t& used) {
  switch (mode) {
    case FeedMode::scalar:
      return h.feed_scalar(p, n, used);
    case FeedMode::bytewise:
      return h.feed_bytewise(p, n, used);
    case FeedMode::fast:
      break;
  }
  return h.feed(p, n, used);
}

// What the application sees: each request's result, the stream offset just
// after it (its header's last LF, or the offending byte) and keep_alive().
struct Event {
  R result;
  size_t end;
  bool keep_alive;
  bool operator==(const Event&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{" << static_cast<int>(e.result) << " @" << e.end << (e.keep_alive ? " ka" : "") << "}";
}
struct StreamRun {
  std::vector<Event> events;
  uint32_t state;  // the scanner's words at the end: the modes must agree bit for bit
  uint32_t body;
  bool operator==(const StreamRun&) const = default;
};
std::ostream& operator<<(std::ostream& os, const StreamRun& r) {
  os << "[";
  for (const Event& e : r.events) os << e;
  return os << "] state " << std::hex << r.state << std::dec << " body " << r.body;
}

// Feeds s in pieces of the given sizes (the rest in one last piece), each in
// a buffer of exactly its size (ASan sees any over-read), as app_receive
// does: after complete, next() and on with the same piece; bad ends it.
StreamRun run_stream(std::string_view s, const std::vector<size_t>& pieces, FeedMode mode = FeedMode::fast) {
  HttpScanner h;
  StreamRun run{{}, 0, 0};
  size_t pos = 0;
  for (size_t k = 0; pos < s.size() || k == 0; ++k) {
    const size_t len = k < pieces.size() ? std::min(pieces[k], s.size() - pos) : s.size() - pos;
    auto buf = std::make_unique<uint8_t[]>(len == 0 ? 1 : len);
    std::copy(s.begin() + static_cast<ptrdiff_t>(pos), s.begin() + static_cast<ptrdiff_t>(pos + len), buf.get());
    size_t off = 0;
    while (off < len) {
      size_t used = 0;
      const R r = feed_with(h, mode, buf.get() + off, len - off, used);
      EXPECT_LE(used, len - off);
      off += used;
      if (r == R::need_more) {
        EXPECT_EQ(off, len);
        break;
      }
      run.events.push_back({r, pos + off, h.keep_alive()});
      if (r == R::bad) {
        run.state = h.state;
        run.body = h.body;
        return run;
      }
      h.next();
    }
    pos += len;
    if (k >= pieces.size() && pos >= s.size()) break;
  }
  run.state = h.state;
  run.body = h.body;
  return run;
}

StreamRun run_whole(std::string_view s, FeedMode mode = FeedMode::fast) { return run_stream(s, {}, mode); }

// Every single cut, every pair of cuts on a 5-byte grid, one byte per call,
// in the three modes: all must give the whole feed's run.
void expect_split_invariant(const std::string& s) {
  const StreamRun whole = run_whole(s);
  EXPECT_EQ(run_whole(s, FeedMode::scalar), whole) << s;
  EXPECT_EQ(run_whole(s, FeedMode::bytewise), whole) << s;
  EXPECT_EQ(run_stream(s, std::vector<size_t>(s.size(), 1)), whole) << s;
  EXPECT_EQ(run_stream(s, std::vector<size_t>(s.size(), 1), FeedMode::bytewise), whole) << s;
  for (size_t a = 0; a <= s.size(); ++a) {
    EXPECT_EQ(run_stream(s, {a}), whole) << "cut at " << a << " of " << s;
    EXPECT_EQ(run_stream(s, {a}, FeedMode::scalar), whole) << "cut at " << a << " of " << s;
    for (size_t b = 1; a + b <= s.size(); b += 5) {
      EXPECT_EQ(run_stream(s, {a, b}), whole) << "cuts " << a << "," << b << " of " << s;
    }
  }
}

const std::string kPostBody = "a=1&b=GET / HTTP/1.1\r\n\r\n&c=3";  // looks like a request: it is not one
std::string Post(std::string_view extra_headers, const std::string& body) {
  return "POST /form HTTP/1.1\r\nHost: 10.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" + body;
}

TEST(HttpBody, ContentLengthBodyIsSkippedThenTheNextRequest) {
  const std::string post = Post("Connection: keep-alive\r\n", kPostBody);
  const size_t hdr = post.size() - kPostBody.size();
  const std::string get = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string s = post + get;
  const StreamRun r = run_whole(s);
  ASSERT_EQ(r.events, (std::vector<Event>{{R::complete, hdr, true}, {R::complete, s.size(), false}}));
  expect_split_invariant(s);
  // has_body() and the count-down, a few bytes per call.
  HttpScanner h;
  size_t used = 0;
  ASSERT_EQ(h.feed(bytes(post), hdr, used), R::complete);
  EXPECT_TRUE(h.has_body());
  h.next();
  EXPECT_EQ(h.body, kPostBody.size());
  ASSERT_EQ(h.feed(bytes(post) + hdr, 7, used), R::need_more);
  EXPECT_EQ(used, 7u);
  EXPECT_EQ(h.body, kPostBody.size() - 7);
  ASSERT_EQ(h.feed(bytes(post) + hdr + 7, kPostBody.size() - 7, used), R::need_more);
  EXPECT_EQ(h.body, 0u);
  EXPECT_EQ(h.state, 0u);  // the next request's request line
}

TEST(HttpBody, ZeroLengthAndLeadingZerosAndWhitespace) {
  for (std::string_view cl : {"Content-Length: 0", "content-length:0", "CONTENT-LENGTH:  0  ", "Content-Length: 000"}) {
    const std::string req = "POST / HTTP/1.1\r\n" + std::string(cl) + "\r\n\r\n";
    const std::string s = req + kGet;
    HttpScanner h;
    size_t used = 0;
    ASSERT_EQ(h.feed(bytes(s), s.size(), used), R::complete) << cl;
    EXPECT_EQ(used, req.size());
    EXPECT_FALSE(h.has_body());
    EXPECT_EQ(run_whole(s).events, (std::vector<Event>{{R::complete, req.size(), false}, {R::complete, s.size(), false}}))
        << cl;
  }
  const std::string padded = "POST / HTTP/1.1\r\nContent-Length:\t 0003 \t\r\n\r\nabcGET / HTTP/1.0\r\n\r\n";
  EXPECT_EQ(run_whole(padded).events,
            (std::vector<Event>{{R::complete, padded.find("abc"), false}, {R::complete, padded.size(), false}}));
}

TEST(HttpBody, TheLargestContentLengthIsCounted) {
  const std::string req = "PUT /big HTTP/1.1\r\nContent-Length: 4294967295\r\n\r\n";
  HttpScanner h;
  size_t used = 0;
  ASSERT_EQ(h.feed(bytes(req), req.size(), used), R::complete);
  h.next();
  EXPECT_EQ(h.body, HttpScanner::kMaxContentLength);
  const std::string chunk(100000, 'z');
  for (int i = 0; i < 10; ++i) ASSERT_EQ(h.feed(bytes(chunk), chunk.size(), used), R::need_more);
  EXPECT_EQ(h.body, HttpScanner::kMaxContentLength - 1000000);
  EXPECT_EQ(h.bytes_seen(), 0u);  // body bytes do not count against the 8 KiB header limit
}

TEST(HttpBody, BodySplitRightAtTheHeaderEnd) {
  const std::string post = Post("Connection: keep-alive\r\n", kPostBody);
  const size_t hdr = post.size() - kPostBody.size();
  const std::string s = post + kGet;
  const std::vector<Event> want{{R::complete, hdr, true}, {R::complete, s.size(), false}};
  EXPECT_EQ(run_stream(s, {hdr}).events, want);
  EXPECT_EQ(run_stream(s, {hdr - 1}).events, want);  // between the final CR and LF
  EXPECT_EQ(run_stream(s, {hdr - 2}).events, want);  // between the two CRLFs
  EXPECT_EQ(run_stream(s, {hdr, kPostBody.size()}).events, want);  // the body alone, then the GET
  EXPECT_EQ(run_stream(s, {hdr, kPostBody.size() - 1, 2}).events, want);
}

const std::string kChunkedBody =
    "5;name=value\r\nhello\r\n"
    "1A\r\n" + std::string(26, 'c') + "\r\n"
    "a ; x = \"q\"\r\n0123456789\r\n"
    "0;last\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n";

TEST(HttpBody, ChunkedBodyIsDecodedToItsEnd) {
  const std::string post = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n";
  const std::string get = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
  const std::string s = post + kChunkedBody + get;
  const StreamRun r = run_whole(s);
  EXPECT_EQ(r.events, (std::vector<Event>{{R::complete, post.size(), true}, {R::complete, s.size(), false}}));
  expect_split_invariant(s);
  // Bare LFs, no extension, no trailer, upper-case name and value.
  const std::string post2 = "POST / HTTP/1.1\nTRANSFER-ENCODING:  Chunked \n\n";
  const std::string s2 = post2 + "3\nabc\n0\n\n" + kGet;
  EXPECT_EQ(run_whole(s2).events,
            (std::vector<Event>{{R::complete, post2.size(), false}, {R::complete, s2.size(), false}}));
  expect_split_invariant(s2);
  // Only the last chunk.
  const std::string s3 = post + "0\r\n\r\n" + get;
  EXPECT_EQ(run_whole(s3).events,
            (std::vector<Event>{{R::complete, post.size(), true}, {R::complete, s3.size(), false}}));
}

struct BadCase {
  std::string req;
  size_t consumed;  // through the offending byte
};
// Where the request goes bad: just after the first occurrence of `after`, plus extra bytes.
BadCase Bad(const std::string& req, std::string_view after, size_t extra = 0) {
  const size_t at = req.find(after);
  EXPECT_NE(at, std::string::npos) << req;
  return {req, at + after.size() + extra};
}

std::vector<BadCase> MalformedFraming() {
  const std::string p = "POST / HTTP/1.1\r\nHost: a\r\n";
  return {
      Bad(p + "Content-Length: 1x\r\n\r\n", "Length: 1x"),                      // not digits
      Bad(p + "Content-Length: -1\r\n\r\n", "Length: -"),
      Bad(p + "Content-Length: +1\r\n\r\n", "Length: +"),
      Bad(p + "Content-Length: 0x10\r\n\r\n", "Length: 0x"),
      Bad(p + "Content-Length: 1 2\r\n\r\n", "Length: 1 2"),
      Bad(p + "Content-Length: 5, 5\r\n\r\n", "Length: 5,"),                    // a list: nginx rejects it
      Bad(p + "Content-Length: \r\n\r\n", "Length: \r\n"),                       // empty
      Bad(p + "Content-Length: 4294967296\r\n\r\n", "Length: 4294967296"),       // too large
      Bad(p + "Content-Length: 99999999999\r\n\r\n", "Length: 9999999999"),
      Bad(p + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", "5\r\nContent-Length:"),  // two values
      Bad(p + "Content-Length: 5\r\ncontent-length: 5\r\n\r\n", "\r\ncontent-length:"),  // nginx: duplicate
      Bad(p + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "Encoding:"),  // both (RFC 9112 6.1)
      Bad(p + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "Length:"),
      Bad(p + "Transfer-Encoding: gzip\r\n\r\n", "Encoding: g"),                // only chunked (nginx: 501)
      Bad(p + "Transfer-Encoding: gzip, chunked\r\n\r\n", "Encoding: g"),
      Bad(p + "Transfer-Encoding: chunked, gzip\r\n\r\n", "chunked,"),
      Bad(p + "Transfer-Encoding: chunkedx\r\n\r\n", "chunkedx"),
      Bad(p + "Transfer-Encoding: chunk\r\n\r\n", "chunk\r\n"),
      Bad(p + "Transfer-Encoding:\r\n\r\n", "Encoding:\r\n"),
      Bad(p + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "chunked\r\nTransfer-Encoding:"),
      Bad(p + "Content-Length: 5\r\n 5\r\n\r\nhello", "5\r\n "),                // folded framing header
      Bad(p + "Transfer-Encoding:\r\n chunked\r\n\r\n", "Encoding:\r\n"),     // bad at its empty value
  };
}

TEST(HttpBody, MalformedFramingIsBad) {
  for (const BadCase& c : MalformedFraming()) {
    const StreamRun r = run_whole(c.req);
    ASSERT_EQ(r.events.size(), 1u) << c.req;
    EXPECT_EQ(r.events[0], (Event{R::bad, c.consumed, false})) << c.req;
    expect_split_invariant(c.req);
  }
}

TEST(HttpBody, MalformedChunkedBodyIsBad) {
  const std::string post = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::vector<BadCase> cases = {
      Bad(post + "x\r\n", "\r\n\r\nx"),                              // not hex
      Bad(post + " 5\r\nhello\r\n0\r\n\r\n", "\r\n\r\n "),           // whitespace first
      Bad(post + ";x\r\n", "\r\n\r\n;"),                             // no size
      Bad(post + "\r\n0\r\n\r\n", "\r\n\r\n\r\n"),                   // empty size line
      Bad(post + "5\r\nhelloX\r\n0\r\n\r\n", "helloX"),              // data not followed by CRLF
      Bad(post + "5\r\nhello\rX", "hello\rX"),                       // bare CR
      Bad(post + "100000000\r\n", "\r\n\r\n10000000", 1),           // 2^32: too large to count
      Bad(post + "5;a\x01\r\n", "5;a\x01"),                          // control byte in an extension
      Bad(post + "0\r\nX: \x7f\r\n\r\n", "X: \x7f"),                 // control byte in the trailer
      Bad(post + "5;" + std::string(9000, 'e'), "\r\n\r\n", HttpScanner::kMaxRequest + 1),  // chunk line limit
      Bad(post + "0\r\nX: " + std::string(9000, 't'), "\r\n\r\n0\r\n", HttpScanner::kMaxRequest + 1),  // trailer
  };
  for (const BadCase& c : cases) {
    const StreamRun r = run_whole(c.req);
    ASSERT_EQ(r.events.size(), 2u) << c.req;
    EXPECT_EQ(r.events[0], (Event{R::complete, post.size(), false})) << c.req;
    EXPECT_EQ(r.events[1], (Event{R::bad, c.consumed, false})) << c.req;
    if (c.req.size() < 200) expect_split_invariant(c.req);
  }
  // The largest chunk size is fine.
  const StreamRun r = run_whole(post + "FFFFFFFF\r\n" + std::string(100, 'd'));
  EXPECT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.body, 0xffffffffu - 100);
}

// A random request stream: header lines from real requests' pieces, with
// now and then a Content-Length or chunked body (well-formed or not), then
// randomly mutated bytes; several requests pipelined.
std::string random_stream(std::mt19937& rng) {
  static const std::vector<std::string> lines = {
      "Host: 10.0.0.1", "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
      "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Accept-Language: en-US,en;q=0.5",
      "Connection: keep-alive", "Connection: close", "connection: Upgrade, keep-alive", "Cookie: a=b; c=d",
      "Content-Length: 0", "Content-Type: text/plain", "Transfer-Encoding: chunked", "X-Y:", ":odd",
      "Content-Lengthy: 5", "Transfer-Encodin: x", "Connectio: y", "\tfolded", " keep-alive",
      "Content-Length: 12", "Content-Length: 007", "Content-Length: 1x", "TE: trailers", "T: chunked"};
  static const std::vector<std::string> eols = {"\r\n", "\r\n", "\r\n", "\n", "\r", " \r\n"};
  std::string s;
  const size_t requests = 1 + rng() % 3;
  for (size_t q = 0; q < requests; ++q) {
    s += rng() % 2 ? "GET / HTTP/1.1" : "POST /p HTTP/1.1";
    s += eols[rng() % eols.size()];
    const size_t n = rng() % 6;
    for (size_t i = 0; i < n; ++i) s += lines[rng() % lines.size()] + eols[rng() % eols.size()];
    const uint32_t kind = rng() % 4;
    if (kind == 1) {
      const size_t len = rng() % 40;
      s += "Content-Length: " + std::to_string(len) + "\r\n\r\n" + std::string(len, 'b');
    } else if (kind == 2) {
      s += "Transfer-Encoding: chunked\r\n\r\n";
      const size_t chunks = rng() % 4;
      for (size_t c = 0; c < chunks; ++c) {
        const size_t len = 1 + rng() % 20;
        char hex[16];
        std::snprintf(hex, sizeof hex, rng() % 2 ? "%zx" : "%zX", len);
        s += std::string(hex) + (rng() % 3 == 0 ? ";e=1" : "") + eols[rng() % 2] + std::string(len, 'd') +
             eols[rng() % 2];
      }
      s += "0" + eols[rng() % 2] + (rng() % 2 ? "X-T: 1\r\n" : "") + eols[rng() % 2];
    } else {
      s += eols[rng() % eols.size()];
    }
  }
  // Mutations: flip, insert or delete a few bytes.
  static const std::string alphabet = "\r\n\r\n :,;0123456789abcdefXk\t\x01\x7f\x80";
  const size_t mutations = rng() % 4;
  for (size_t k = 0; k < mutations && !s.empty(); ++k) {
    const size_t at = rng() % s.size();
    switch (rng() % 3) {
      case 0:
        s[at] = alphabet[rng() % alphabet.size()];
        break;
      case 1:
        s.insert(s.begin() + static_cast<ptrdiff_t>(at), alphabet[rng() % alphabet.size()]);
        break;
      default:
        s.erase(at, 1);
        break;
    }
  }
  return s;
}

TEST(HttpBody, RandomStreamsAgreeWhateverTheSplitAndMode) {
  std::mt19937 rng(2024);
  size_t completes = 0, bads = 0;
  for (int iter = 0; iter < 6000; ++iter) {
    const std::string s = random_stream(rng);
    const StreamRun whole = run_whole(s);
    for (const Event& e : whole.events) (e.result == R::complete ? completes : bads) += 1;
    std::vector<size_t> pieces;
    for (size_t left = s.size(); left > 0;) {
      const size_t k = std::min<size_t>(left, 1 + rng() % 24);
      pieces.push_back(k);
      left -= k;
    }
    ASSERT_EQ(run_whole(s, FeedMode::bytewise), whole) << s;
    ASSERT_EQ(run_whole(s, FeedMode::scalar), whole) << s;
    ASSERT_EQ(run_stream(s, pieces), whole) << s;
    ASSERT_EQ(run_stream(s, pieces, FeedMode::scalar), whole) << s;
    ASSERT_EQ(run_stream(s, std::vector<size_t>(s.size(), 1)), whole) << s;
  }
  // The generator reaches both outcomes often (the test is not vacuous).
  EXPECT_GT(completes, 2000u) << completes << " complete, " << bads << " bad";
  EXPECT_GT(bads, 1000u) << completes << " complete, " << bads << " bad";
}

// Requests without Content-Length or Transfer-Encoding scan exactly as they
// did before bodies and the SSE2 path (the frozen copy bench_tcp_parts
// measures): same result, consumed count, keep-alive and byte count, over
// random and mutated inputs, pipelined.
// For failure messages: s from off, control bytes escaped, cut short.
std::string escaped(const std::string& s, size_t off) {
  std::string r(1, '@');
  r += std::to_string(off);
  r += ": ";
  for (size_t k = off; k < s.size() && k < off + 300; ++k) {
    const auto c = static_cast<uint8_t>(s[k]);
    char b[8];
    if (c < 0x20 || c >= 0x7f) {
      std::snprintf(b, sizeof b, "\\x%02x", c);
      r += b;
    } else {
      r += static_cast<char>(c);
    }
  }
  return r;
}

TEST(HttpBody, WithoutFramingHeadersTheOldScannerAgrees) {
  std::mt19937 rng(99);
  const std::vector<std::string> pieces = {
      "GET / HTTP/1.1", "HEAD /x HTTP/1.0", "\r\n", "\r\n", "\r\n", "\n", "\r", "Host: a", "Connection:",
      "connection: ", " keep-alive", "Keep-Alive", "close", ",", " ", "\t", "X-Y: z", "Connection: keep-alive\r\n",
      "Connection: close\r\n", "Connectio", "n: ", "\r\n\r\n", "\x7f", "\x01", "\x80", ":", "Content-Type: a",
      "Content-Lengt: 1", "Transfer-Encod: x", std::string(100, 'v'), "User-Agent: Mozilla/5.0 (X11; Linux x86_64)"};
  size_t completes = 0, old_late_cr = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    for (size_t i = 0, n = rng() % 16; i < n; ++i) s += pieces[rng() % pieces.size()];
    if (iter % 5 == 0) s += std::string(8200 - s.size() % 100, 'L');  // near and past the 8 KiB limit
    auto buf = std::make_unique<uint8_t[]>(s.size() + 1);
    std::copy(s.begin(), s.end(), buf.get());
    HttpScanner h;
    bench_v0::HttpScannerV0 old;
    size_t off = 0;
    while (off < s.size()) {
      size_t used = 0, used_old = 0;
      const R r = h.feed(buf.get() + off, s.size() - off, used);
      const auto r_old = old.feed(buf.get() + off, s.size() - off, used_old);
      if (r == R::bad && (r_old != bench_v0::HttpScannerV0::Result::bad || used != used_old)) {
        // The old scanner's header-name run did not stop at a pending CR:
        // it found a bare CR in a name late (at the next colon, space or
        // control), or not at all in this call (need_more). The new one
        // stops at the byte after the CR.
        ASSERT_GE(used, 2u);
        ASSERT_EQ(s[off + used - 2], '\r') << escaped(s, off);
        ASSERT_GE(used_old, used) << escaped(s, off);
        ++old_late_cr;
        break;
      }
      ASSERT_EQ(static_cast<int>(r), static_cast<int>(r_old)) << escaped(s, off);
      ASSERT_EQ(used, used_old) << escaped(s, off);
      ASSERT_EQ(h.bytes_seen(), old.state & 0x3fffu) << escaped(s, off);  // its byte count: bits 0..13
      ASSERT_FALSE(h.has_body());
      if (r != R::complete) break;
      ++completes;
      ASSERT_EQ(h.keep_alive(), (old.state & (1u << 24)) != 0 && (old.state & (1u << 25)) == 0) << escaped(s, off);
      off += used;
      h.next();
      old.state = 0;
    }
  }
  EXPECT_GT(completes, 3000u) << old_late_cr;
  EXPECT_LT(old_late_cr, 1000u) << completes;  // the one known difference stays rare
}

TEST(HttpBody, BareCrInAHeaderNameIsBadAtTheNextByte) {
  const std::string req = "GET / HTTP/1.1\r\nHost\rX-Y: a\r\n\r\n";
  const size_t at = req.find("\rX") + 2;
  for (FeedMode mode : {FeedMode::fast, FeedMode::scalar, FeedMode::bytewise}) {
    const StreamRun r = run_whole(req, mode);
    EXPECT_EQ(r.events, (std::vector<Event>{{R::bad, at, false}}));
  }
  expect_split_invariant(req);
}

}  // namespace
}  // namespace tcpterm

// ---- The http application over the engine: segment in, exact segment out.
namespace tcpterm::tcp_test {
namespace {

class HttpAppTest : public TcpTest {
 protected:
  void SetUp() override { cfg.listeners[0].http_keepalive_timeout = 5; }
  void Est() {
    Start(AppKind::http);
    Established();
    ExpectNothing();
  }
  void Data(uint32_t seq, uint32_t ack, const std::string& d) {
    Send({ACK | PSH, seq, ack, 502, Ts(++peer_ts, OurTs()), d});
  }
  void Ack(uint32_t seq, uint32_t ack) { Send({ACK, seq, ack, 502, Ts(++peer_ts, OurTs())}); }
  static uint32_t L(const std::string& s) { return static_cast<uint32_t>(s.size()); }
};

const std::string kBody = "name=tcpterm&q=GET / HTTP/1.1\r\n\r\n&end=1";  // not a request: body bytes

// A POST whose body spans three segments, then a pipelined GET in the last
// one: one response for each request, none for the body's bytes.
TEST_F(HttpAppTest, PostBodyOverSegmentsThenPipelinedGet) {
  Est();
  const std::string post = "POST /form HTTP/1.1\r\nHost: tcpterm\r\nContent-Length: " + std::to_string(kBody.size()) +
                           "\r\nConnection: keep-alive\r\n\r\n";
  const std::string get = "GET / HTTP/1.1\r\nHost: tcpterm\r\nConnection: close\r\n\r\n";
  const std::string ka = make_http_response(0, true), cl = make_http_response(0, false);
  const std::string s1 = post + kBody.substr(0, 10), s2 = kBody.substr(10, 20), s3 = kBody.substr(30) + get;
  uint32_t rcv = kPeerIsn + 1;
  Data(rcv, iss + 1, s1);
  rcv += L(s1);
  ExpectSegment(PSH | ACK, iss + 1, rcv, 511, OurTsOpts(), ka);  // answered at the header's end
  ExpectNothing();
  Data(rcv, iss + 1, s2);
  rcv += L(s2);
  ExpectSegment(ACK, iss + 1 + L(ka), rcv, 511, OurTsOpts());  // body bytes: acknowledged only
  ExpectNothing();
  Ack(rcv, iss + 1 + L(ka));
  ExpectNothing();
  Data(rcv, iss + 1 + L(ka), s3);
  rcv += L(s3);
  ExpectSegment(FIN | PSH | ACK, iss + 1 + L(ka), rcv, 511, OurTsOpts(), cl);  // the GET's, then close
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
  EXPECT_EQ(Counters().http_requests, 2u);
  EXPECT_EQ(Counters().http_bad_requests, 0u);
  ExpectInvariants();
}

// The header ends exactly at a segment's end; the body comes alone, then the next request.
TEST_F(HttpAppTest, BodySplitRightAtTheHeaderEnd) {
  Est();
  const std::string post = "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(kBody.size()) +
                           "\r\nConnection: keep-alive\r\n\r\n";
  const std::string get = "GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n";
  const std::string ka = make_http_response(0, true);
  uint32_t rcv = kPeerIsn + 1, snd = iss + 1;
  Data(rcv, snd, post);
  rcv += L(post);
  ExpectSegment(PSH | ACK, snd, rcv, 511, OurTsOpts(), ka);
  snd += L(ka);
  Ack(rcv, snd);
  ExpectNothing();
  Data(rcv, snd, kBody);
  rcv += L(kBody);
  ExpectSegment(ACK, snd, rcv, 511, OurTsOpts());  // no response for the body
  ExpectNothing();
  Data(rcv, snd, get);
  rcv += L(get);
  ExpectSegment(PSH | ACK, snd, rcv, 511, OurTsOpts(), ka);
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  EXPECT_EQ(Counters().http_requests, 2u);
}

// Transfer-Encoding: chunked is decoded to the end of its trailer; the GET after it is answered.
TEST_F(HttpAppTest, ChunkedBodyThenPipelinedGet) {
  Est();
  const std::string post = "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n";
  // The first chunk's 7 data bytes look like a last chunk: they are data.
  const std::string chunks = "7;ext=1\r\n0\r\n\r\nab\r\n10\r\n" + std::string(16, 'x') + "\r\n0\r\nTrailer: yes\r\n\r\n";
  const std::string get = "GET / HTTP/1.0\r\n\r\n";
  const std::string ka = make_http_response(0, true), cl = make_http_response(0, false);
  uint32_t rcv = kPeerIsn + 1, snd = iss + 1;
  const std::string s1 = post + chunks.substr(0, 12);  // ends inside the first chunk's data
  Data(rcv, snd, s1);
  rcv += L(s1);
  ExpectSegment(PSH | ACK, snd, rcv, 511, OurTsOpts(), ka);
  snd += L(ka);
  Ack(rcv, snd);
  ExpectNothing();
  const std::string s2 = chunks.substr(12, 20);
  Data(rcv, snd, s2);
  rcv += L(s2);
  ExpectSegment(ACK, snd, rcv, 511, OurTsOpts());
  const std::string s3 = chunks.substr(32) + get;
  Data(rcv, snd, s3);
  rcv += L(s3);
  ExpectSegment(FIN | PSH | ACK, snd, rcv, 511, OurTsOpts(), cl);
  ExpectNothing();
  EXPECT_EQ(Counters().http_requests, 2u);
  EXPECT_EQ(Counters().http_bad_requests, 0u);
}

// Without keep-alive: answered with the FIN at the header's end, whether the
// body came along (consumed, acknowledged) or not.
TEST_F(HttpAppTest, PostWithoutKeepAliveIsAnsweredThenClosed) {
  Est();
  const std::string post = "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
  Data(kPeerIsn + 1, iss + 1, post);
  ExpectSegment(FIN | PSH | ACK, iss + 1, kPeerIsn + 1 + L(post), 511, OurTsOpts(), make_http_response(0, false));
  ExpectNothing();
  EXPECT_EQ(Counters().http_requests, 1u);
  EXPECT_EQ(Counters().http_bad_requests, 0u);
}

// Without keep-alive and the body still to come: the response goes out at the
// header's end, the FIN waits for the body (nginx's lingering close), so the
// body is acknowledged, not answered with the RST that data after close() gets.
TEST_F(HttpAppTest, PostWithoutKeepAliveClosesAfterTheBodyArrives) {
  Est();
  const std::string post = "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(kBody.size()) + "\r\n\r\n";
  const std::string cl = make_http_response(0, false);
  const std::string get = "GET / HTTP/1.1\r\n\r\n";  // after the last request: ignored
  uint32_t rcv = kPeerIsn + 1;
  const uint32_t snd = iss + 1;
  const std::string s1 = post + kBody.substr(0, 5);
  Data(rcv, snd, s1);
  rcv += L(s1);
  ExpectSegment(PSH | ACK, snd, rcv, 511, OurTsOpts(), cl);  // the response, no FIN yet
  ExpectNothing();
  const std::string s2 = kBody.substr(5, 20);
  Data(rcv, snd, s2);
  rcv += L(s2);
  ExpectSegment(ACK, snd + L(cl), rcv, 511, OurTsOpts());
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::ESTABLISHED);
  const std::string s3 = kBody.substr(25) + get;
  Data(rcv, snd + L(cl), s3);
  rcv += L(s3);
  ExpectSegment(FIN | ACK, snd + L(cl), rcv, 511, OurTsOpts());  // the body is in: close
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
  EXPECT_EQ(Counters().http_requests, 1u);
  EXPECT_EQ(Counters().abort_on_data, 0u);
  ExpectInvariants();
}

// The same with a body that never comes, or comes a byte at a time: the
// connection is closed http_keepalive_timeout (5 s here) after the response,
// whatever arrives meanwhile; with a timeout of 0 there is no wait at all.
TEST_F(HttpAppTest, PostWithoutKeepAliveAndNoBodyClosesAtTheIdleTimeout) {
  Est();
  const std::string post = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
  const std::string cl = make_http_response(0, false);
  const uint32_t rcv = kPeerIsn + 1 + L(post);
  Data(kPeerIsn + 1, iss + 1, post);
  ExpectSegment(PSH | ACK, iss + 1, rcv, 511, OurTsOpts(), cl);
  ExpectNothing();
  Ack(rcv, iss + 1 + L(cl));
  ExpectNothing();
  Advance(seconds(5) - millis(10));  // the wheel's 1.05 ms ticks: never early, at most a tick late
  ExpectNothing();
  Advance(millis(20));
  ExpectSegment(FIN | ACK, iss + 1 + L(cl), rcv, 511, OurTsOpts());
  ExpectNothing();
  EXPECT_EQ(State(), TcpState::FIN_WAIT_1);
  EXPECT_EQ(Counters().http_keepalive_timeouts, 1u);
}

TEST_F(HttpAppTest, LingeringForTheBodyIsNotExtendedByItsBytes) {
  Est();
  const std::string post = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
  const std::string cl = make_http_response(0, false);
  uint32_t rcv = kPeerIsn + 1 + L(post);
  const uint32_t snd = iss + 1 + L(cl);
  Data(kPeerIsn + 1, iss + 1, post);
  ExpectSegment(PSH | ACK, iss + 1, rcv, 511, OurTsOpts(), cl);
  Ack(rcv, snd);
  ExpectNothing();
  for (int i = 0; i < 2; ++i) {  // a body byte every 2 s
    Advance(seconds(2));
    Data(rcv, snd, "x");
    rcv += 1;
    ExpectSegment(ACK, snd, rcv, 511, OurTsOpts());
  }
  Advance(seconds(1) - millis(10));  // 5 s after the response, less 10 ms
  ExpectNothing();
  Advance(millis(20));
  ExpectSegment(FIN | ACK, snd, rcv, 511, OurTsOpts());
  EXPECT_EQ(Counters().http_keepalive_timeouts, 1u);
}

TEST_F(HttpAppTest, WithoutKeepAliveTimeoutThereIsNoLingering) {
  cfg.listeners[0].http_keepalive_timeout = 0;
  Start(AppKind::http);
  Established();
  ExpectNothing();
  const std::string post = "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
  Data(kPeerIsn + 1, iss + 1, post);
  ExpectSegment(FIN | PSH | ACK, iss + 1, kPeerIsn + 1 + L(post), 511, OurTsOpts(), make_http_response(0, false));
  ExpectNothing();
}

// Malformed framing takes the bad-request path: no response, FIN, counted.
TEST_F(HttpAppTest, MalformedFramingClosesAndIsCounted) {
  Start(AppKind::http);
  const std::string p = "POST / HTTP/1.1\r\nConnection: keep-alive\r\n";
  const std::vector<std::string> bad = {
      p + "Content-Length: 12a\r\n\r\n",
      p + "Content-Length: 99999999999\r\n\r\n",
      p + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      p + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      p + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
      p + "Transfer-Encoding: gzip\r\n\r\n",
  };
  for (size_t k = 0; k < bad.size(); ++k) {
    peer_port = static_cast<uint16_t>(31000 + k);
    Established();
    ExpectNothing();
    Data(kPeerIsn + 1, iss + 1, bad[k]);
    ExpectSegment(FIN | ACK, iss + 1, kPeerIsn + 1 + L(bad[k]), 511, OurTsOpts());
    ExpectNothing();
    EXPECT_EQ(State(), TcpState::FIN_WAIT_1) << bad[k];
    EXPECT_EQ(Counters().http_bad_requests, k + 1) << bad[k];
  }
  EXPECT_EQ(Counters().http_requests, 0u);
  // A malformed chunked body after a good header: the response went out; then the close.
  peer_port = 32000;
  Established();
  ExpectNothing();
  const std::string post = p + "Transfer-Encoding: chunked\r\n\r\n";
  Data(kPeerIsn + 1, iss + 1, post);
  const std::string ka = make_http_response(0, true);
  ExpectSegment(PSH | ACK, iss + 1, kPeerIsn + 1 + L(post), 511, OurTsOpts(), ka);
  Ack(kPeerIsn + 1 + L(post), iss + 1 + L(ka));
  ExpectNothing();
  const std::string junk = "5\r\nhelloXX";
  Data(kPeerIsn + 1 + L(post), iss + 1 + L(ka), junk);
  ExpectSegment(FIN | ACK, iss + 1 + L(ka), kPeerIsn + 1 + L(post) + L(junk), 511, OurTsOpts());
  EXPECT_EQ(Counters().http_requests, 1u);
  EXPECT_EQ(Counters().http_bad_requests, bad.size() + 1);
  ExpectInvariants();
}

}  // namespace
}  // namespace tcpterm::tcp_test
