#pragma once
// The sweep's scheduling over MPI ranks. Rank 0 coordinates: a queue of tasks, most expensive
// first, one task in flight per worker, polled with MPI_Iprobe and a backoff sleep so an idle
// coordinator does not spin. With one rank the coordinator computes tasks itself (in a thread, so
// it can still watch signals and abandon a task after the grace period).
// A signal on any rank stops dispatching; running tasks get `grace_seconds` to finish.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mpi/mpi_session.hpp"
#include "sweep/point_runner.hpp"

namespace kernelsweep {

struct SchedulerOptions {
  bool fail_fast = false;
  double grace_seconds = 60.0;
  double progress_interval = 10.0;  // seconds between progress lines when not on a terminal
  std::string stats_path;           // --stats: per-message coordinator costs, JSON lines
  std::size_t total_points = 0;     // for progress: grid size
  std::size_t done_before = 0;      // points done in earlier runs
};

struct SchedulerOutcome {
  enum class Stop { complete, interrupted, fail_fast } stop = Stop::complete;
  bool abandoned = false;           // tasks still running when the grace period ended
  std::size_t done = 0, failed = 0; // points finished in this run
  std::size_t unfinished_tasks = 0;
  std::string signal;               // which signal interrupted the run
  nlohmann::json stats;             // CoordinatorStats::summary()
};

using ResultSink = std::function<void(const PointResult&)>;

// Rank 0. `sink` records every finished point (journal + file); it may throw (disk full), which
// propagates after the caller's cleanup.
SchedulerOutcome run_coordinator(MpiSession& mpi, const SweepGrid& grid, const std::vector<PointTask>& tasks,
                                 const ResultSink& sink, const SchedulerOptions& options);
// Ranks 1..R-1: compute tasks until told to stop.
void run_worker(MpiSession& mpi, const SweepGrid& grid);

}  // namespace kernelsweep
