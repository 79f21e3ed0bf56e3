#include "model/deadline.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace kernelsweep {
namespace {

using namespace std::chrono_literals;

TEST(Deadline, NoDeadlineNeverThrows) {
  EXPECT_NO_THROW(check_deadline());
  EXPECT_TRUE(std::isinf(seconds_left()));
}

TEST(Deadline, ThrowsOncePassedAndNamesTheLimit) {
  ScopedDeadline deadline(0.02, "theory.time_limit");
  EXPECT_NO_THROW(check_deadline());
  std::this_thread::sleep_for(40ms);
  try {
    check_deadline();
    FAIL() << "no TimeLimitExceeded";
  } catch (const TimeLimitExceeded& e) {
    EXPECT_NE(std::string(e.what()).find("theory.time_limit"), std::string::npos) << e.what();
  }
}

TEST(Deadline, EarlierEnclosingDeadlineWinsAndScopesRestore) {
  ScopedDeadline outer(0.02, "outer");
  {
    ScopedDeadline inner(100.0, "inner");  // later than outer: outer stays active
    EXPECT_LT(seconds_left(), 1.0);
  }
  {
    ScopedDeadline tighter(0.001, "tighter");
    std::this_thread::sleep_for(5ms);
    EXPECT_THROW(check_deadline(), TimeLimitExceeded);
  }
  EXPECT_GT(seconds_left(), 0.0);  // back to outer, which has not passed yet
  EXPECT_NO_THROW(check_deadline());
}

TEST(Deadline, NonPositiveSecondsMeansNoLimit) {
  ScopedDeadline none(0.0, "none");
  EXPECT_TRUE(std::isinf(seconds_left()));
}

}  // namespace
}  // namespace kernelsweep
