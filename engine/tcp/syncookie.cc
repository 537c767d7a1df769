// SYN cookie arithmetic, line for line after Linux's net/ipv4/syncookies.c
// (secure_tcp_syn_cookie, check_tcp_syn_cookie, cookie_init_timestamp,
// cookie_timestamp_decode). See syncookie.h for the layout.
#include "engine/tcp/syncookie.h"

namespace tcpterm {

uint32_t SynCookies::make(const FlowKey& k, uint32_t peer_isn, uint16_t peer_mss, Nanos now,
                          uint16_t& mss_used) const {
  uint32_t mssind = kMssTable.size() - 1;
  for (; mssind != 0; --mssind) {
    if (peer_mss >= kMssTable[mssind]) break;
  }
  mss_used = kMssTable[mssind];

  const uint32_t count = cookie_time(now);
  return hash(k, 0, 0) + peer_isn + (count << kCookieBits) +
         ((hash(k, count, 1) + mssind) & kCookieMask);
}

uint16_t SynCookies::check(const FlowKey& k, uint32_t peer_isn, uint32_t cookie, Nanos now) const {
  const uint32_t count = cookie_time(now);
  // Strip away the layers: what remains is (count << 24) + ((H1 + mssind) mod 2^24).
  cookie -= hash(k, 0, 0) + peer_isn;
  const uint32_t diff = (count - (cookie >> kCookieBits)) & (~uint32_t{0} >> kCookieBits);
  if (diff >= kMaxAge) return 0;
  const uint32_t mssind = (cookie - hash(k, count - diff, 1)) & kCookieMask;
  return mssind < kMssTable.size() ? kMssTable[mssind] : 0;
}

uint32_t SynCookies::ts_encode(uint32_t tsval, int wscale, bool sack_ok, bool ecn_ok) {
  uint32_t options = wscale < 0 ? kTsWscaleMask
                                : static_cast<uint32_t>(wscale > kMaxWscale ? kMaxWscale : wscale);
  if (sack_ok) options |= kTsSack;
  if (ecn_ok) options |= kTsEcn;
  uint32_t ts = ((tsval >> kTsBits) << kTsBits) | options;
  if (ts > tsval) ts -= uint32_t{1} << kTsBits;  // never ahead of the clock
  return ts;
}

bool SynCookies::ts_decode(uint32_t tsecr, bool window_scaling_on, int& wscale, bool& sack_ok,
                           bool& ecn_ok) {
  sack_ok = (tsecr & kTsSack) != 0;
  ecn_ok = (tsecr & kTsEcn) != 0;
  if ((tsecr & kTsWscaleMask) == kTsWscaleMask) {
    wscale = -1;  // no window scaling
    return true;
  }
  wscale = static_cast<int>(tsecr & kTsWscaleMask);
  return window_scaling_on;
}

}  // namespace tcpterm
