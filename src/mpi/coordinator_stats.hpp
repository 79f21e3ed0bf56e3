#pragma once
// Per-message costs of the coordinator, for capacity planning (e.g. a discrete-event model of
// 8192 ranks): every dispatch (MPI_Send of a task), receive (MPI_Recv of a result + decode),
// assemble (a point's parts -> its result), record (one group commit: journal write + fsync, then
// HDF5 write; also split into record_journal and record_file) and idle poll, with its duration, size
// and the number of points it covers.
// `kernelsweep run --stats FILE` writes one JSON line per event plus a final summary line;
// the summary also goes into the run's provenance row.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kernelsweep {

class CoordinatorStats {
 public:
  explicit CoordinatorStats(const std::string& path);  // empty path: summary only, no event log
  ~CoordinatorStats();
  CoordinatorStats(const CoordinatorStats&) = delete;
  CoordinatorStats& operator=(const CoordinatorStats&) = delete;

  // `points`: how many points the event covers (a group commit records several at once).
  void event(const char* kind, double seconds, std::size_t bytes, int rank, std::uint64_t point,
             std::size_t points = 1);
  // Per kind: count, total, mean, p50, p99, max seconds, bytes, points, seconds_per_point.
  nlohmann::json summary() const;

 private:
  std::FILE* log_ = nullptr;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::map<std::string, std::vector<double>> seconds_;
  std::map<std::string, std::size_t> bytes_, points_;
};

}  // namespace kernelsweep
