#pragma once
// Turns grid points into work and work into results, identically on every rank:
//   plan_tasks      pending points -> tasks (theory, SGLD replica ranges, traced lam-line segments
//                   and line transitions: sweep/theory_lines.hpp), most expensive first
//   run_task        one task -> TaskResult (exceptions become TaskResult::error)
//   PointAssembler  collects a point's task results and, once all are in, builds its PointResult
// Random streams are keyed by (sweep seed, point index, replica) inside the theory and SGLD code,
// so a result does not depend on which rank ran it or how replicas were split.
#include <cstdint>
#include <map>
#include <vector>

#include "sweep/point_result.hpp"
#include "sweep/sweep_grid.hpp"

namespace kernelsweep {

// Estimated cost of a point (theory + all SGLD replicas) in arbitrary units (~flops).
double estimate_cost(const PointConfig& config);

struct TaskPlanOptions {
  int workers = 1;  // ranks that compute
};

// Tasks for the given points: group tasks (traced lines, transitions) first, then by decreasing
// cost. A point's SGLD replicas are split into
// several tasks when there are too few SGLD points to keep every worker busy.
std::vector<PointTask> plan_tasks(const SweepGrid& grid, const std::vector<std::uint64_t>& points,
                                  const TaskPlanOptions& options);

// time_limit_seconds > 0: a task still running after that long fails with "time limit ..."
// (ScopedDeadline; the theory and SGLD loops call check_deadline()).
TaskResult run_task(const SweepGrid& grid, const PointTask& task, int rank,
                    double time_limit_seconds = 0.0);

// One point outside a sweep (`kernelsweep solve`, the Python package): the theory and every SGLD
// replica in this process, as the same typed result a sweep records. report, if given, receives
// the human-readable summaries.
PointResult solve_point(const PointConfig& config, std::string* report = nullptr);

class PointAssembler {
 public:
  explicit PointAssembler(const SweepGrid& grid) : grid_(grid) {}
  // Announces how many tasks a point has (from plan_tasks).
  void expect(const std::vector<PointTask>& tasks);
  // The points this task result completed (a group task can complete several, or none yet).
  std::vector<PointResult> add(TaskResult task_result);
  // Points with some but not all tasks in (abandoned at an interruption).
  std::size_t incomplete() const { return partial_.size(); }

 private:
  PointResult finish(std::uint64_t point, std::vector<TaskResult>& parts) const;
  const SweepGrid& grid_;
  std::map<std::uint64_t, int> expected_;
  std::map<std::uint64_t, std::vector<TaskResult>> partial_;
};

}  // namespace kernelsweep
