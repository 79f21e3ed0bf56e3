#pragma once
// Per-message costs of the coordinator, for capacity planning (e.g. a discrete-event model of
// 8192 ranks): every dispatch (MPI_Send of a task), receive (MPI_Recv of a result + decode),
// record (journal fsync + HDF5 write) and idle poll, with its duration and size.
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

  void event(const char* kind, double seconds, std::size_t bytes, int rank, std::uint64_t point);
  nlohmann::json summary() const;  // per kind: count, total, mean, p50, p99, max seconds, bytes

 private:
  std::FILE* log_ = nullptr;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::map<std::string, std::vector<double>> seconds_;
  std::map<std::string, std::size_t> bytes_;
};

}  // namespace kernelsweep
