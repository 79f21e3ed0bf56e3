#include "model/status.hpp"

namespace kernelsweep {

std::optional<Status> status_from_string(std::string_view text) {
  for (const Status s : {Status::pending, Status::done, Status::failed, Status::not_converged})
    if (to_string_view(s) == text) return s;
  return std::nullopt;
}

Status worse(Status a, Status b) {
  const auto rank = [](Status s) {
    switch (s) {
      case Status::pending:
        return 0;
      case Status::done:
        return 1;
      case Status::not_converged:
        return 2;
      case Status::failed:
        return 3;
    }
    return 3;
  };
  return rank(a) >= rank(b) ? a : b;
}

}  // namespace kernelsweep
