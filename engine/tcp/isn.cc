// RFC 6528 ISN generator (see isn.h). Only the constructor lives here: it
// derives the timestamp-offset key from the ISN key, so that one secret
// drawn at start-up feeds both without the two hashes being related.
#include "engine/tcp/isn.h"

namespace tcpterm {

namespace {
constexpr uint32_t kTsKeyTag = 0x74736f66;  // "tsof"
}

IsnGenerator::IsnGenerator(SipKey key)
    : key_(key),
      ts_key_{siphash24_2u32(key, kTsKeyTag, 0), siphash24_2u32(key, kTsKeyTag, 1)} {}

}  // namespace tcpterm
