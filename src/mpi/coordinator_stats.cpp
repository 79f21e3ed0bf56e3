#include "mpi/coordinator_stats.hpp"

#include <algorithm>
#include <stdexcept>

namespace kernelsweep {

CoordinatorStats::CoordinatorStats(const std::string& path) {
  if (path.empty()) return;
  log_ = std::fopen(path.c_str(), "w");
  if (!log_) throw std::runtime_error(path + ": cannot write the --stats file");
}

CoordinatorStats::~CoordinatorStats() {
  if (!log_) return;
  std::fprintf(log_, "%s\n", nlohmann::json{{"summary", summary()}}.dump().c_str());
  std::fclose(log_);
}

void CoordinatorStats::event(const char* kind, double seconds, std::size_t bytes, int rank, std::uint64_t point,
                             std::size_t points) {
  seconds_[kind].push_back(seconds);
  bytes_[kind] += bytes;
  points_[kind] += points;
  if (log_) {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(log_,
                 "{\"t\":%.6f,\"event\":\"%s\",\"seconds\":%.9f,\"bytes\":%zu,\"rank\":%d,\"point\":%llu,"
                 "\"points\":%zu}\n",
                 t, kind, seconds, bytes, rank, static_cast<unsigned long long>(point), points);
  }
}

nlohmann::json CoordinatorStats::summary() const {
  nlohmann::json out = nlohmann::json::object();
  for (auto [kind, s] : seconds_) {
    std::sort(s.begin(), s.end());
    double total = 0;
    for (const double x : s) total += x;
    const auto at = [&](double q) { return s[std::min(s.size() - 1, static_cast<std::size_t>(q * double(s.size())))]; };
    out[kind] = {{"count", s.size()}, {"total_seconds", total}, {"mean_seconds", total / double(s.size())},
                 {"p50_seconds", at(0.5)}, {"p99_seconds", at(0.99)}, {"max_seconds", s.back()},
                 {"bytes", bytes_.at(kind)}, {"points", points_.at(kind)},
                 {"seconds_per_point", total / double(std::max<std::size_t>(1, points_.at(kind)))}};
  }
  return out;
}

}  // namespace kernelsweep
