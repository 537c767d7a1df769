// The incremental HTTP request-header scanner of the `http` application.
#include "engine/tcp/http.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
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

}  // namespace
}  // namespace tcpterm
