// TCP option parsing and writing; see tcp_options.h for the rules followed.
#include "engine/wire/tcp_options.h"

#include "engine/wire/bytes.h"

namespace tcpterm {

DropReason parse_tcp_options(const uint8_t* p, size_t len, TcpOptions& out) {
  size_t i = 0;
  while (i < len) {
    const uint8_t kind = p[i];
    if (kind == tcp_opt::EOL) break;
    if (kind == tcp_opt::NOP) {
      ++i;
      continue;
    }
    if (len - i < 2) [[unlikely]] return DropReason::tcp_bad_option;  // no room for the length byte
    const uint8_t olen = p[i + 1];
    if (olen < 2 || olen > len - i) [[unlikely]] return DropReason::tcp_bad_option;
    const uint8_t* v = p + i + 2;
    switch (kind) {
      case tcp_opt::MSS:
        if (olen == tcp_opt::MSS_LEN) {
          const uint16_t mss = load_be16(v);
          if (mss != 0) {
            out.has_mss = true;
            out.mss = mss;
          }
        }
        break;
      case tcp_opt::WINDOW:
        if (olen == tcp_opt::WINDOW_LEN) {
          out.has_wscale = true;
          out.wscale = v[0] > tcp_opt::MAX_WSCALE ? tcp_opt::MAX_WSCALE : v[0];
        }
        break;
      case tcp_opt::SACK_PERM:
        if (olen == tcp_opt::SACK_PERM_LEN) out.sack_permitted = true;
        break;
      case tcp_opt::TIMESTAMP:
        if (olen == tcp_opt::TIMESTAMP_LEN) {
          out.has_timestamps = true;
          out.tsval = load_be32(v);
          out.tsecr = load_be32(v + 4);
        }
        break;
      default:
        break;  // unknown (or SACK blocks, which the engine does not use): skipped
    }
    i += olen;
  }
  return DropReason::none;
}

size_t tcp_options_size(const TcpOptions& o) {
  size_t n = 0;
  if (o.has_mss) n += 4;
  if (o.has_timestamps) {
    n += 12;  // SACKOK or NOP NOP, then TS
  } else if (o.sack_permitted) {
    n += 4;  // NOP NOP SACKOK
  }
  if (o.has_wscale) n += 4;  // NOP WS
  return n;
}

size_t write_tcp_options(uint8_t* dst, const TcpOptions& o) {
  uint8_t* p = dst;
  if (o.has_mss) {
    store_be32(p, (uint32_t{tcp_opt::MSS} << 24) | (uint32_t{tcp_opt::MSS_LEN} << 16) | o.mss);
    p += 4;
  }
  if (o.has_timestamps) {
    if (o.sack_permitted) {
      store_be32(p, (uint32_t{tcp_opt::SACK_PERM} << 24) | (uint32_t{tcp_opt::SACK_PERM_LEN} << 16) |
                        (uint32_t{tcp_opt::TIMESTAMP} << 8) | tcp_opt::TIMESTAMP_LEN);
    } else {
      store_be32(p, (uint32_t{tcp_opt::NOP} << 24) | (uint32_t{tcp_opt::NOP} << 16) |
                        (uint32_t{tcp_opt::TIMESTAMP} << 8) | tcp_opt::TIMESTAMP_LEN);
    }
    store_be32(p + 4, o.tsval);
    store_be32(p + 8, o.tsecr);
    p += 12;
  } else if (o.sack_permitted) {
    store_be32(p, (uint32_t{tcp_opt::NOP} << 24) | (uint32_t{tcp_opt::NOP} << 16) |
                      (uint32_t{tcp_opt::SACK_PERM} << 8) | tcp_opt::SACK_PERM_LEN);
    p += 4;
  }
  if (o.has_wscale) {
    store_be32(p, (uint32_t{tcp_opt::NOP} << 24) | (uint32_t{tcp_opt::WINDOW} << 16) |
                      (uint32_t{tcp_opt::WINDOW_LEN} << 8) | o.wscale);
    p += 4;
  }
  return static_cast<size_t>(p - dst);
}

}  // namespace tcpterm
