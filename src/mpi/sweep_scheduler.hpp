#pragma once
// The sweep's scheduling over MPI ranks. Rank 0 coordinates: a queue of tasks, most expensive
// first, one task in flight per worker, polled with MPI_Iprobe and a backoff sleep so an idle
// coordinator does not spin. With one rank the coordinator computes tasks itself (in a thread, so
// it can still watch signals and abandon a task after the grace period).
// A signal on any rank stops dispatching; running tasks get `grace_seconds` to finish.
// Finished points are recorded by group commit on a writer thread (see SchedulerOptions): a worker
// whose result arrives gets its next task at once, the results that arrived during one commit are
// recorded with one fsync, so workers never wait on the disk and the disk is not paid per point.
// MPI is only called from the coordinator's own thread (MPI_THREAD_FUNNELED).
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
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
  // Group commit: finished points are recorded in batches on a writer thread; a batch is every
  // point that arrived while the previous batch was being committed, at most `commit_max_points`
  // (so a point waits at most one commit before its own starts: progress and the file stay
  // current). commit_max_points = 1 records every point on its own (one fsync per point).
  std::size_t commit_max_points = 64;
  // --point-timeout: a task running longer fails its point ("time limit ..."); 0 = no limit.
  double point_time_limit = 0.0;
};

struct SchedulerOutcome {
  enum class Stop { complete, interrupted, fail_fast } stop = Stop::complete;
  bool abandoned = false;           // tasks still running when the grace period ended
  std::size_t done = 0, failed = 0; // points finished in this run
  std::size_t unfinished_tasks = 0;
  std::string signal;               // which signal interrupted the run
  nlohmann::json stats;             // CoordinatorStats::summary()
};

// What recording one batch cost, split for --stats.
struct CommitCost {
  double journal_seconds = 0.0, file_seconds = 0.0;
  std::size_t bytes = 0;
};
// Records a batch of finished points durably (journal fsync, then the file) before returning:
// only then does the coordinator count them as done.
using ResultSink = std::function<CommitCost(std::span<const PointResult>)>;

// Rank 0. `sink` records finished points in batches (journal + file), called from a writer thread
// (one call at a time); it may throw (disk full), which propagates from run_coordinator; points of
// a batch that failed to commit are not counted as done.
SchedulerOutcome run_coordinator(MpiSession& mpi, const SweepGrid& grid, const std::vector<PointTask>& tasks,
                                 const ResultSink& sink, const SchedulerOptions& options);
// Ranks 1..R-1: compute tasks until told to stop.
// point_time_limit as in SchedulerOptions (every rank parses the same command line).
void run_worker(MpiSession& mpi, const SweepGrid& grid, double point_time_limit);

}  // namespace kernelsweep
