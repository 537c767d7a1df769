// The applications a listener (or connect()) runs, and the calls they make.
//
// Applications are level-triggered: app_run() looks at the connection (data
// received, peer FIN, send queue idle) and acts, so the same code serves a
// connection the application takes from the accept queue late (data and FIN
// may have arrived meanwhile, as a socket's receive queue would hold them)
// and one it follows from the start. Receiving is separate (app_receive):
// the engine's "socket receive buffer" is the application's own state: the
// HTTP scanner (8 bytes), the echo buffer, nothing for discard.
//
//   close    close() at once: the engine sends the first FIN (active close)
//   http     one response per request (prebuilt per listener, sent by
//            reference); Connection: keep-alive keeps the connection until
//            http_keepalive_timeout, otherwise close() after the response,
//            like nginx with keep-alive off; a request body (Content-Length
//            or chunked) is read and dropped; a malformed request closes
//   echo     RFC 862: data goes back (a 4 KiB buffer from the engine's pool,
//            which is also the receive window); close() after the peer's FIN
//   discard  RFC 863: data is acknowledged and dropped; close() after the FIN
//   reset    abort() at once: RST
//
// The calls: app_send (queue bytes by reference; one buffer at a time),
// app_close (close(): FIN after the queued data, the connection becomes an
// orphan; past max_orphans an RST instead, as Linux's tcp_check_oom),
// app_shutdown (SHUT_WR: FIN, not an orphan), app_abort (RST).
// They return false when the connection is gone.
#include <algorithm>
#include <cstring>

#include "engine/tcp/engine.h"
#include "engine/wire/seq.h"

namespace tcpterm {

uint32_t Engine::app_receive(Tcb& t, const uint8_t* data, uint32_t len) {
  switch (t.app) {
    case App::http: {
      // Scan; complete requests wait in http_pending for their response.
      uint32_t off = 0;
      while (off < len && !(t.app_state & app_bits::kHttpBad)) {
        size_t used = 0;
        if (t.app_state & app_bits::kHttpCloseAfter) {
          // After the last request only its body is read (and dropped): the
          // FIN waits for the body's end (app_run), as nginx's lingering
          // close, where close() would answer the body with an RST. Bytes
          // after the body are ignored, whatever they are.
          if (!t.http.in_body()) break;
          (void)t.http.feed(data + off, len - off, used);
          off += static_cast<uint32_t>(used);
          continue;
        }
        const HttpScanner::Result r = t.http.feed(data + off, len - off, used);
        off += static_cast<uint32_t>(used);
        if (r == HttpScanner::Result::need_more) break;
        if (r == HttpScanner::Result::bad) {
          ++stats_.counters.http_bad_requests;
          t.app_state |= app_bits::kHttpBad;
          break;
        }
        ++stats_.counters.http_requests;
        const bool keep = t.http.keep_alive() && t.listener != kNoListener &&
                          listeners_[t.listener].http_keepalive_timeout_ms != 0;
        if (t.http_pending < 255) ++t.http_pending;
        if (!keep) t.app_state |= app_bits::kHttpCloseAfter;
        // The response goes out now; a body (Content-Length or chunked) is
        // skipped before the next request, as nginx's discard_request_body.
        t.http.next();
      }
      // Data restarts the keep-alive idle clock, but not the lingering one
      // after the last request (app_run).
      if (!(t.app_state & app_bits::kHttpCloseAfter)) t.app_state = static_cast<uint8_t>(t.app_state & ~app_bits::kHttpIdle);
      return len;  // scanned bytes are consumed; bytes after a final request are ignored
    }
    case App::echo: {
      if (t.echo_buf == kNilIndex) {
        if (echo_free_.empty()) {
          ++stats_.counters.echo_pool_exhausted;
          return 0;
        }
        t.echo_buf = echo_free_.back();
        echo_free_.pop_back();
        ++echo_in_use_;
      }
      const uint32_t n = std::min<uint32_t>(len, kEchoBufSize - t.echo_fill);
      std::memcpy(echo_mem_.get() + size_t{t.echo_buf} * kEchoBufSize + t.echo_fill, data, n);
      t.echo_fill = static_cast<uint16_t>(t.echo_fill + n);
      return n;
    }
    case App::close:
    case App::discard:
    case App::reset:
      return len;
  }
  return len;
}

bool Engine::app_run(Tcb& t) {
  if (!t.has(tcb_flags::kAccepted)) return true;
  const bool peer_fin = in_state(t.state, tcp_states::kFinReceived);
  const bool closed = t.has(tcb_flags::kFinQueued);
  switch (t.app) {
    case App::close:
      if (!closed) return app_close(t);  // the FIN follows any queued data
      return true;
    case App::reset:
      app_abort(t);
      return false;
    case App::discard:
      if (peer_fin && !closed) return app_close(t);
      return true;
    case App::echo:
      if (t.echo_fill > t.echo_queued) {
        if (!closed) {
          if (t.sndbuf == nullptr) {
            t.sndbuf = echo_mem_.get() + size_t{t.echo_buf} * kEchoBufSize;
            t.sndbuf_seq = t.write_seq;
          }
          t.write_seq += t.echo_fill - t.echo_queued;
        }
        t.echo_queued = t.echo_fill;
      }
      if (peer_fin && !closed) return app_close(t);
      return true;
    case App::http: {
      if (closed) return true;
      if (t.app_state & app_bits::kHttpBad) return app_close(t);
      if (t.http_pending != 0 && t.sndbuf == nullptr && t.listener != kNoListener) {
        const Listener& l = listeners_[t.listener];
        const bool last = t.http_pending == 1 && (t.app_state & app_bits::kHttpCloseAfter);
        const std::string& r = last ? l.http_close : l.http_keepalive;
        app_send(t, reinterpret_cast<const uint8_t*>(r.data()), static_cast<uint32_t>(r.size()));
        --t.http_pending;
        if (last) {
          // nginx, keep-alive off: close after the response, once its
          // request's body is in. The wait for the body (lingering) is
          // bounded by http_keepalive_timeout from now, not refreshed by
          // body bytes (app_receive); with a timeout of 0 there is none.
          const uint32_t linger_ms = l.http_keepalive_timeout_ms;
          if (!t.http.in_body() || linger_ms == 0) return app_close(t);
          t.app_state |= app_bits::kHttpIdle;
          t.idle_since_ms = now_ms();
        }
        return true;
      }
      if ((t.app_state & app_bits::kHttpCloseAfter) && t.http_pending == 0 && !t.http.in_body()) {
        return app_close(t);  // the last request's body has arrived
      }
      if (peer_fin && t.http_pending == 0 && t.sndbuf == nullptr) return app_close(t);
      if (t.http_pending == 0 && t.sndbuf == nullptr && !(t.app_state & app_bits::kHttpIdle) &&
          t.listener != kNoListener && listeners_[t.listener].http_keepalive_timeout_ms != 0) {
        // Waiting for a (next, or the rest of a) request: closed after
        // http_keepalive_timeout without data (nginx's keepalive_timeout and
        // client_header_timeout, one knob here).
        t.app_state |= app_bits::kHttpIdle;
        t.idle_since_ms = now_ms();
      }
      return true;
    }
  }
  return true;
}

bool Engine::app_sent_acked(Tcb& t, bool& ack_now) {
  // The send queue drained: release its buffer; the application may go on.
  t.sndbuf = nullptr;
  t.sndbuf_seq = t.write_seq;
  if (t.app == App::echo && t.echo_buf != kNilIndex && t.echo_fill == t.echo_queued) {
    const bool was_small = t.rcv_wnd() < kEchoBufSize / 2;
    t.echo_fill = t.echo_queued = 0;
    echo_free_.push_back(t.echo_buf);
    t.echo_buf = kNilIndex;
    --echo_in_use_;
    if (was_small) ack_now = true;  // window update: the buffer is free again
  }
  // The application may close here (a pipelined last request); past
  // max_orphans that is an RST and the Tcb is destroyed.
  return app_run(t);
}

bool Engine::app_send(Tcb& t, const uint8_t* p, uint32_t len) {
  if (t.sndbuf != nullptr || t.has(tcb_flags::kFinQueued) || len == 0) return false;
  t.sndbuf = p;
  t.sndbuf_seq = t.write_seq;
  t.write_seq += len;
  return true;
}

bool Engine::app_close(Tcb& t) {
  if (t.has(tcb_flags::kOrphan)) return true;
  if (orphans_ >= knobs_.max_orphans) [[unlikely]] {
    // Linux tcp_close -> tcp_check_oom: too many orphans, reset instead.
    ++stats_.counters.orphan_overflow;
    send_active_rst(t);
    destroy(t);
    return false;
  }
  if (t.state == TcpState::SYN_SENT) {  // RFC 9293 3.10.4: delete the TCB
    destroy(t);
    return false;
  }
  t.set(tcb_flags::kOrphan);
  ++orphans_;
  app_shutdown(t);
  return true;
}

void Engine::app_shutdown(Tcb& t) {
  if (t.has(tcb_flags::kFinQueued)) return;
  switch (t.state) {
    case TcpState::ESTABLISHED:
      t.set(tcb_flags::kFinQueued);
      set_state(t, TcpState::FIN_WAIT_1);
      break;
    case TcpState::CLOSE_WAIT:
      t.set(tcb_flags::kFinQueued);
      set_state(t, TcpState::LAST_ACK);
      break;
    default:
      break;  // SYN_RECEIVED: an accepted connection is never here
  }
}

Tcb* Engine::live(const FlowKey& k, Nanos now, TxFrames& tx) {
  now_ = now;
  tx_ = &tx;
  const FlowRef r = flows_->find(k);
  if (r.kind != FlowRef::Kind::conn) return nullptr;
  return &flows_->conn(r.index);
}

bool Engine::send(const FlowKey& k, const uint8_t* data, uint32_t len, Nanos now, TxFrames& tx) {
  Tcb* t = live(k, now, tx);
  if (t == nullptr || !in_state(t->state, tcp_states::kCanSend | bit(TcpState::SYN_SENT)) ||
      !app_send(*t, data, len)) {
    return false;
  }
  output(*t);
  rearm_timer(*t);
  return true;
}

bool Engine::close(const FlowKey& k, Nanos now, TxFrames& tx) {
  Tcb* t = live(k, now, tx);
  if (t == nullptr || t->has(tcb_flags::kOrphan)) return false;
  if (!app_close(*t)) return true;
  output(*t);
  rearm_timer(*t);
  return true;
}

bool Engine::shutdown(const FlowKey& k, Nanos now, TxFrames& tx) {
  Tcb* t = live(k, now, tx);
  if (t == nullptr || !in_state(t->state, tcp_states::kCanSend) || t->has(tcb_flags::kFinQueued)) return false;
  app_shutdown(*t);
  output(*t);
  rearm_timer(*t);
  return true;
}

bool Engine::abort(const FlowKey& k, Nanos now, TxFrames& tx) {
  Tcb* t = live(k, now, tx);
  if (t == nullptr) return false;
  app_abort(*t);
  return true;
}

void Engine::app_abort(Tcb& t) {
  ++stats_.counters.app_aborts;
  if (t.state != TcpState::SYN_SENT) send_active_rst(t);  // RFC 9293 3.10.5: no RST from SYN-SENT
  destroy(t);
}

void Engine::app_on_reset(Tcb& t) {
  // The error a socket would report (ECONNRESET, ETIMEDOUT, ECONNREFUSED).
  // The built-in applications keep nothing beyond the connection, so they
  // only count it; app_on_closed releases what they hold.
  if (t.has(tcb_flags::kAccepted)) ++stats_.counters.app_resets;
}

void Engine::app_on_closed(Tcb& t) {
  if (t.echo_buf != kNilIndex) {
    echo_free_.push_back(t.echo_buf);
    t.echo_buf = kNilIndex;
    --echo_in_use_;
  }
  t.sndbuf = nullptr;
}

}  // namespace tcpterm
