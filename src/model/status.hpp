#pragma once
// The one status vocabulary of every layer: a theory solve, an SGLD summary, a grid point and the
// results file (int8 dataset with CF flag_values 0..3) all say pending | done | failed |
// not_converged.
//   done           the answer is trustworthy (a theory state: a converged local minimum of F)
//   not_converged  computed, but a check failed (the message names it): do not use the numbers
//   failed         nothing usable (an exception, a divergence, bad input at run time)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kernelsweep {

enum class Status : std::int8_t { pending = 0, done = 1, failed = 2, not_converged = 3 };

constexpr std::string_view to_string_view(Status status) {
  switch (status) {
    case Status::pending:
      return "pending";
    case Status::done:
      return "done";
    case Status::failed:
      return "failed";
    case Status::not_converged:
      return "not_converged";
  }
  return "unknown";
}
inline std::string to_string(Status status) {
  return std::string(to_string_view(status));
}
std::optional<Status> status_from_string(std::string_view text);

// The worse of two statuses (failed > not_converged > done > pending), for combining parts.
Status worse(Status a, Status b);

}  // namespace kernelsweep
