// TCP state names (netstat's) and the bit-set predicates.
#include "engine/tcp/state.h"

#include <gtest/gtest.h>

#include <set>
#include <string_view>

namespace tcpterm {
namespace {

TEST(TcpState, ElevenStatesInRfcOrder) {
  EXPECT_EQ(kTcpStateCount, 11u);
  EXPECT_EQ(state_index(TcpState::CLOSED), 0u);
  EXPECT_EQ(state_index(TcpState::TIME_WAIT), 10u);
}

TEST(TcpState, NetstatNames) {
  EXPECT_EQ(state_name(TcpState::CLOSED), "CLOSE");
  EXPECT_EQ(state_name(TcpState::LISTEN), "LISTEN");
  EXPECT_EQ(state_name(TcpState::SYN_SENT), "SYN_SENT");
  EXPECT_EQ(state_name(TcpState::SYN_RECEIVED), "SYN_RECV");
  EXPECT_EQ(state_name(TcpState::ESTABLISHED), "ESTABLISHED");
  EXPECT_EQ(state_name(TcpState::FIN_WAIT_1), "FIN_WAIT1");
  EXPECT_EQ(state_name(TcpState::FIN_WAIT_2), "FIN_WAIT2");
  EXPECT_EQ(state_name(TcpState::CLOSE_WAIT), "CLOSE_WAIT");
  EXPECT_EQ(state_name(TcpState::CLOSING), "CLOSING");
  EXPECT_EQ(state_name(TcpState::LAST_ACK), "LAST_ACK");
  EXPECT_EQ(state_name(TcpState::TIME_WAIT), "TIME_WAIT");
  EXPECT_EQ(state_name(TcpState::count), "UNKNOWN");
  EXPECT_EQ(state_name(static_cast<TcpState>(200)), "UNKNOWN");
}

TEST(TcpState, NamesAreDistinctAndFitTheAwkColumn) {
  std::set<std::string_view> seen;
  for (auto n : kTcpStateNames) {
    EXPECT_TRUE(seen.insert(n).second) << n;
    EXPECT_LT(n.size(), 20u) << n;  // "%-20s" pads every name
  }
}

TEST(TcpState, BitsAreDistinctSingleBits) {
  uint16_t all = 0;
  for (size_t i = 0; i < kTcpStateCount; ++i) {
    const uint16_t b = bit(static_cast<TcpState>(i));
    EXPECT_EQ(b, 1u << i);
    EXPECT_EQ(all & b, 0);
    all |= b;
  }
  EXPECT_EQ(all, 0x7ff);
}

TEST(TcpState, InStateIsSetMembership) {
  const uint16_t m = bit(TcpState::FIN_WAIT_1) | bit(TcpState::CLOSING) | bit(TcpState::LAST_ACK);
  for (size_t i = 0; i < kTcpStateCount; ++i) {
    const auto s = static_cast<TcpState>(i);
    const bool want = s == TcpState::FIN_WAIT_1 || s == TcpState::CLOSING || s == TcpState::LAST_ACK;
    EXPECT_EQ(in_state(s, m), want) << state_name(s);
  }
  EXPECT_FALSE(in_state(TcpState::ESTABLISHED, 0));
  static_assert(in_state(TcpState::LISTEN, bit(TcpState::LISTEN)));
}

TEST(TcpState, SynchronizedStatesPerRfc9293) {
  // RFC 9293 3.10.7.4: ESTABLISHED and everything after it are synchronized.
  EXPECT_FALSE(is_synchronized(TcpState::CLOSED));
  EXPECT_FALSE(is_synchronized(TcpState::LISTEN));
  EXPECT_FALSE(is_synchronized(TcpState::SYN_SENT));
  EXPECT_FALSE(is_synchronized(TcpState::SYN_RECEIVED));
  for (auto s : {TcpState::ESTABLISHED, TcpState::FIN_WAIT_1, TcpState::FIN_WAIT_2,
                 TcpState::CLOSE_WAIT, TcpState::CLOSING, TcpState::LAST_ACK, TcpState::TIME_WAIT}) {
    EXPECT_TRUE(is_synchronized(s)) << state_name(s);
  }
}

TEST(TcpState, FinSets) {
  using namespace tcp_states;
  // Our FIN is out in exactly the states reached by a close from ESTABLISHED or CLOSE_WAIT.
  EXPECT_EQ(kFinSent, bit(TcpState::FIN_WAIT_1) | bit(TcpState::FIN_WAIT_2) |
                          bit(TcpState::CLOSING) | bit(TcpState::LAST_ACK) |
                          bit(TcpState::TIME_WAIT));
  EXPECT_EQ(kFinReceived, bit(TcpState::CLOSE_WAIT) | bit(TcpState::CLOSING) |
                              bit(TcpState::LAST_ACK) | bit(TcpState::TIME_WAIT));
  // Unacked FIN: sent, and not in FIN_WAIT_2/TIME_WAIT where it has been acked.
  EXPECT_EQ(kFinUnacked, kFinSent & ~(bit(TcpState::FIN_WAIT_2) | bit(TcpState::TIME_WAIT)));
  // One can send until one's own FIN, receive until the peer's.
  EXPECT_EQ(kCanSend & kFinSent, 0);
  EXPECT_EQ(kCanReceive & kFinReceived, 0);
  EXPECT_TRUE(in_state(TcpState::CLOSE_WAIT, kCanSend));
  EXPECT_TRUE(in_state(TcpState::FIN_WAIT_2, kCanReceive));
  EXPECT_EQ(kOpening, bit(TcpState::SYN_SENT) | bit(TcpState::SYN_RECEIVED));
}

}  // namespace
}  // namespace tcpterm
