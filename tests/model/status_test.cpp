#include "model/status.hpp"

#include <gtest/gtest.h>

namespace kernelsweep {
namespace {

TEST(Status, NamesRoundTripAndMatchTheFileFlagValues) {
  for (const Status s : {Status::pending, Status::done, Status::failed, Status::not_converged})
    EXPECT_EQ(status_from_string(to_string(s)), s);
  EXPECT_FALSE(status_from_string("converged").has_value());
  // The file's CF flag_values are the enum's integer values, in this order.
  EXPECT_EQ(static_cast<int>(Status::pending), 0);
  EXPECT_EQ(static_cast<int>(Status::done), 1);
  EXPECT_EQ(static_cast<int>(Status::failed), 2);
  EXPECT_EQ(static_cast<int>(Status::not_converged), 3);
}

TEST(Status, WorseOrdersFailedAboveNotConvergedAboveDone) {
  EXPECT_EQ(worse(Status::done, Status::not_converged), Status::not_converged);
  EXPECT_EQ(worse(Status::failed, Status::not_converged), Status::failed);
  EXPECT_EQ(worse(Status::done, Status::pending), Status::done);
}

}  // namespace
}  // namespace kernelsweep
