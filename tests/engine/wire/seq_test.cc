// Sequence-number arithmetic across the 2^32 wrap.
#include "engine/wire/seq.h"

#include <gtest/gtest.h>

namespace tcpterm {
namespace {

TEST(Seq, WrapsAround) {
  const Seq a{0xfffffff0u};
  const Seq b = a + 0x20;
  EXPECT_EQ(b.v, 0x10u);
  EXPECT_TRUE(a < b);
  EXPECT_TRUE(b > a);
  EXPECT_TRUE(a <= b && b >= a);
  EXPECT_FALSE(b < a);
  EXPECT_EQ(b - a, 0x20);
  EXPECT_EQ(a - b, -0x20);
  EXPECT_EQ((b - 0x20).v, a.v);
  EXPECT_TRUE(a <= a && a >= a && !(a < a) && a == a);
}

TEST(Seq, RawHelpers) {
  EXPECT_TRUE(seq_lt(0xffffffffu, 0));
  EXPECT_TRUE(seq_gt(0, 0xffffffffu));
  EXPECT_TRUE(seq_leq(5, 5) && seq_geq(5, 5));
  EXPECT_FALSE(seq_lt(5, 5));
  // Just under half the space apart: still ordered.
  EXPECT_TRUE(seq_lt(0, 0x7fffffffu));
  EXPECT_FALSE(seq_lt(0, 0x80000001u));
}

TEST(Seq, InWindow) {
  const Seq start{0xfffffffeu};
  EXPECT_TRUE(seq_in_window(Seq{0xfffffffeu}, start, 4));
  EXPECT_TRUE(seq_in_window(Seq{1}, start, 4));
  EXPECT_FALSE(seq_in_window(Seq{2}, start, 4));      // start + len is outside
  EXPECT_FALSE(seq_in_window(Seq{0xfffffffdu}, start, 4));
  EXPECT_FALSE(seq_in_window(start, start, 0));        // empty window holds nothing
}

}  // namespace
}  // namespace tcpterm
