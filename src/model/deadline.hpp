#pragma once
// Cooperative time limits: a ScopedDeadline on the calling thread bounds everything it calls;
// long loops (solver iterations, SGLD steps) call check_deadline(), which throws
// TimeLimitExceeded once the nearest enclosing deadline has passed. Nested deadlines: the earliest
// one wins. Call it from the thread that set the deadline (not inside OpenMP regions).
#include <chrono>
#include <stdexcept>
#include <string>

namespace kernelsweep {

class TimeLimitExceeded : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ScopedDeadline {
 public:
  // seconds <= 0 or infinite: no limit from this scope.
  ScopedDeadline(double seconds, std::string what);
  ~ScopedDeadline();
  ScopedDeadline(const ScopedDeadline&) = delete;
  ScopedDeadline& operator=(const ScopedDeadline&) = delete;

 private:
  const void* previous_;
};

// Throws TimeLimitExceeded("time limit (<what>: <s> s) exceeded") past the active deadline.
void check_deadline();
// Seconds left before the active deadline (infinity without one).
double seconds_left();

}  // namespace kernelsweep
