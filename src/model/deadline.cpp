#include "model/deadline.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace kernelsweep {

namespace {

using Clock = std::chrono::steady_clock;

struct Deadline {
  Clock::time_point at;
  double seconds;
  std::string what;
};

thread_local const Deadline* active = nullptr;

}  // namespace

ScopedDeadline::ScopedDeadline(double seconds, std::string what) : previous_(active) {
  if (!(seconds > 0) || !std::isfinite(seconds)) return;
  const auto at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(seconds));
  if (active != nullptr && active->at <= at) return;  // an enclosing deadline comes first
  active = new Deadline{at, seconds, std::move(what)};
}

ScopedDeadline::~ScopedDeadline() {
  if (active != previous_) {
    delete active;
    active = static_cast<const Deadline*>(previous_);
  }
}

void check_deadline() {
  if (active == nullptr || Clock::now() < active->at) return;
  std::ostringstream message;
  message << "time limit (" << active->what << ": " << active->seconds << " s) exceeded";
  throw TimeLimitExceeded(message.str());
}

double seconds_left() {
  if (active == nullptr) return std::numeric_limits<double>::infinity();
  return std::chrono::duration<double>(active->at - Clock::now()).count();
}

}  // namespace kernelsweep
