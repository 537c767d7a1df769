// SYN cookies (RFC 4987) the Linux way: net/ipv4/syncookies.c.
//
// When the SYN queue is full (or always, with syncookies=2) the listener
// keeps no state for a SYN: the SYN-ACK's sequence number carries what the
// connection needs, and the final ACK (ack = cookie + 1) proves the peer saw
// it. Linux's layout (secure_tcp_syn_cookie):
//
//   cookie = H0(4-tuple) + peer_isn + (count << 24) + ((H1(4-tuple, count) + mssind) mod 2^24)
//
// with H0, H1 SipHash-2-4 under two secret keys, count a minute counter and
// mssind the index of the MSS in msstab = {536, 1300, 1440, 1460} (the values
// most paths use, so the 2 bits lose little). A cookie is accepted while the
// minute counter has advanced by less than MAX_SYNCOOKIE_AGE = 2 since it was
// made: for between one and two minutes. A forged ACK passes with odds 4 in
// 2^24 per try (the decoded index must land in the table). As in Linux the
// index is simply added in the low bits: an ACK or SYN sequence off by less
// than 4 decodes a neighbouring index instead of failing, which only someone
// who saw the cookie can arrange, and he could complete the handshake anyway.
//
// Options that do not fit in the cookie travel in the low 6 bits of our
// TSval when the peer offered timestamps (cookie_init_timestamp): bits 0-3
// the peer's window scale (0xf: none), bit 4 SACK-permitted, bit 5 ECN. The
// peer echoes the value in TSecr; ts_decode() reads it back
// (cookie_timestamp_decode). The caller removes its TS offset before
// decoding, as Linux subtracts tsoff.
//
// Cost: two SipHash calls per cookie made or checked, no state, no allocation.
#pragma once

#include <array>
#include <cstdint>

#include "engine/flow/flow_key.h"
#include "engine/tcp/siphash.h"
#include "engine/timer/time.h"

namespace tcpterm {

class SynCookies {
 public:
  static constexpr std::array<uint16_t, 4> kMssTable = {536, 1300, 1440, 1460};  // msstab
  static constexpr unsigned kCookieBits = 24;                                     // COOKIEBITS
  static constexpr uint32_t kCookieMask = (uint32_t{1} << kCookieBits) - 1;       // COOKIEMASK
  static constexpr uint32_t kMaxAge = 2;                                          // MAX_SYNCOOKIE_AGE
  static constexpr Nanos kPeriod = seconds(60);                                   // TCP_SYNCOOKIE_PERIOD
  // Timestamp option bits (TS_OPT_WSCALE_MASK, TS_OPT_SACK, TS_OPT_ECN, TSBITS).
  static constexpr uint32_t kTsWscaleMask = 0xf;
  static constexpr uint32_t kTsSack = 1u << 4;
  static constexpr uint32_t kTsEcn = 1u << 5;
  static constexpr unsigned kTsBits = 6;
  static constexpr int kMaxWscale = 14;  // RFC 7323 2.3

  SynCookies(SipKey k0, SipKey k1) : key_{k0, k1} {}

  // The cookie to send as the SYN-ACK's sequence number (__cookie_v4_init_sequence).
  // peer_mss is the MSS we may use towards the peer (its option, already
  // clamped to our own limit); mss_used receives the table value encoded: the
  // largest one <= peer_mss, and 536 when peer_mss is below every entry (as Linux).
  uint32_t make(const FlowKey& k, uint32_t peer_isn, uint16_t peer_mss, Nanos now,
                uint16_t& mss_used) const;

  // On the final ACK (__cookie_v4_check): peer_isn = seg.seq - 1, cookie = seg.ack - 1.
  // Returns the MSS the cookie encodes, or 0 when the cookie is forged, for
  // another 4-tuple or ISN, or older than kMaxAge minutes.
  uint16_t check(const FlowKey& k, uint32_t peer_isn, uint32_t cookie, Nanos now) const;

  // cookie_init_timestamp: tsval with its low 6 bits replaced by the options,
  // stepped back by 64 if that made it larger than tsval (a TSval must not
  // run ahead of our clock). wscale < 0: the peer sent no window scale; above
  // 14 it is clamped to 14.
  static uint32_t ts_encode(uint32_t tsval, int wscale, bool sack_ok, bool ecn_ok);
  // cookie_timestamp_decode (+ cookie_ecn_ok's bit): tsecr is the echoed
  // TSval minus our TS offset. wscale = -1 when none was encoded. Returns
  // false when a window scale was encoded but window scaling is now off
  // (Linux refuses the cookie then).
  static bool ts_decode(uint32_t tsecr, bool window_scaling_on, int& wscale, bool& sack_ok,
                        bool& ecn_ok);

  // tcp_cookie_time(): the minute counter.
  static constexpr uint32_t cookie_time(Nanos now) { return static_cast<uint32_t>(now / kPeriod); }

 private:
  // cookie_hash(): SipHash of (raddr, laddr, rport << 16 | lport, count) under key c.
  uint32_t hash(const FlowKey& k, uint32_t count, int c) const {
    return static_cast<uint32_t>(siphash24_4u32(
        key_[c], k.raddr, k.laddr, (static_cast<uint32_t>(k.rport) << 16) | k.lport, count));
  }

  SipKey key_[2];
};

}  // namespace tcpterm
